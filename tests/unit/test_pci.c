// SPDX-License-Identifier: MIT
/*
 * PCI enumeration by config-space scan and DMAR device-scope resolution
 * (lib/pci.c) on mem targets with config-space images: a hierarchy of
 * bridges, then config space that lies (loops, buses going backwards,
 * overlapping ranges, random bytes), which must be reported and bounded.
 */
#include <iommush/backend.h>
#include <iommush/mem.h>
#include <iommush/pci.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

#include "check.h"

static void put32(uint8_t *c, unsigned off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		c[off + i] = (uint8_t)(v >> (8 * i));
}

/* A function: ids, class, header type (with 0x80 for multi-function). */
static void func(struct ish_target *t, uint16_t bdf, uint32_t id, uint32_t cls, uint8_t hdr)
{
	uint8_t *c;

	OK(ish_mem_add_config(t, 0, bdf, &c));
	put32(c, PCI_VENDOR_ID, id);
	put32(c, PCI_CLASS_REVISION, cls << 8 | 1);
	c[PCI_HEADER_TYPE] = hdr;
}

static void bridge(struct ish_target *t, uint16_t bdf, unsigned pri, unsigned sec, unsigned sub)
{
	uint8_t *c;

	func(t, bdf, 0x000c1b36, 0x060400, PCI_HEADER_TYPE_BRIDGE);
	OK(ish_mem_add_config(t, 0, bdf, &c));
	c[PCI_PRIMARY_BUS] = (uint8_t)pri;
	c[PCI_PRIMARY_BUS + 1] = (uint8_t)sec;
	c[PCI_PRIMARY_BUS + 2] = (uint8_t)sub;
}

static bool has_finding(const struct ish_pci *p, const char *text)
{
	for (size_t i = 0; i < p->nfindings; i++)
		if (strstr(p->findings[i].message, text))
			return true;
	return false;
}

/* 00:00.0 host, 00:1c.0 -> bus 1 (01:00.0 -> bus 2: 02:00.0), 00:1f.0/.3 multi-function. */
static struct ish_target *hierarchy(void)
{
	struct ish_target *t;

	OK(ish_mem_open(&t));
	func(t, ISH_BDF(0, 0, 0), 0x29c08086, 0x060000, 0);
	bridge(t, ISH_BDF(0, 0x1c, 0), 0, 1, 2);
	bridge(t, ISH_BDF(1, 0, 0), 1, 2, 2);
	func(t, ISH_BDF(2, 0, 0), 0x11e81234, 0x00ff00, 0);
	func(t, ISH_BDF(0, 0x1f, 0), 0x29188086, 0x060100, PCI_HEADER_TYPE_MFD);
	func(t, ISH_BDF(0, 0x1f, 3), 0x29308086, 0x0c0500, 0);
	/* Not reachable: bus 5 is behind no bridge, fn 1 of a single-function device. */
	func(t, ISH_BDF(5, 0, 0), 0x10008086, 0x020000, 0);
	func(t, ISH_BDF(0, 0, 1), 0x10008086, 0x020000, 0);
	return t;
}

static void test_scan(void)
{
	struct ish_target *t = hierarchy();
	struct ish_pci *p;
	const struct ish_pci_func *f;

	OK(ish_pci_enumerate(t, &p));
	CHECK(!p->from_backend);
	CHECK_EQ(p->n, 6);
	CHECK_EQ(p->nfindings, 0);
	if (p->n == 6) {
		CHECK_EQ(p->funcs[0].bdf, ISH_BDF(0, 0, 0));
		CHECK_EQ(p->funcs[1].bdf, ISH_BDF(0, 0x1c, 0));
		CHECK_EQ(p->funcs[2].bdf, ISH_BDF(0, 0x1f, 0));
		CHECK_EQ(p->funcs[3].bdf, ISH_BDF(0, 0x1f, 3));
		CHECK_EQ(p->funcs[4].bdf, ISH_BDF(1, 0, 0));
		CHECK_EQ(p->funcs[5].bdf, ISH_BDF(2, 0, 0));
	}
	f = ish_pci_find(p, 0, ISH_BDF(0, 0x1c, 0));
	CHECK(f && f->bridge && f->secondary == 1 && f->subordinate == 2);
	f = ish_pci_find(p, 0, ISH_BDF(2, 0, 0));
	CHECK(f && !f->bridge && f->vendor == 0x1234 && f->device == 0x11e8 &&
	      f->class == 0x00ff00);
	f = ish_pci_find(p, 0, ISH_BDF(0, 0x1f, 3));
	CHECK(f && f->class == 0x0c0500);
	CHECK(!ish_pci_find(p, 0, ISH_BDF(5, 0, 0)));
	/* Three buses of 32 devices, plus class, header and bridge reads. */
	CHECK(p->config_reads <= 3 * 32 + 6 * 2 + 2 + 7);
	ish_pci_destroy(p);
	ish_target_close(t);
}

static void test_hostile_scan(void)
{
	struct ish_target *t;
	struct ish_pci *p;

	/* Two bridges claim bus 1; one on bus 1 points back at bus 1; one's range is upside down. */
	OK(ish_mem_open(&t));
	bridge(t, ISH_BDF(0, 1, 0), 0, 1, 3);
	bridge(t, ISH_BDF(0, 2, 0), 0, 1, 1);
	bridge(t, ISH_BDF(1, 0, 0), 1, 1, 1);
	bridge(t, ISH_BDF(1, 1, 0), 1, 0, 0);	/* unconfigured: not followed, not a problem */
	bridge(t, ISH_BDF(1, 2, 0), 1, 4, 3);
	bridge(t, ISH_BDF(1, 3, 0), 1, 0x20, 0x20);
	bridge(t, ISH_BDF(0x20, 0, 0), 0x20, 0x10, 0x10);	/* backwards */
	OK(ish_pci_enumerate(t, &p));
	CHECK_EQ(p->n, 7);
	CHECK(has_finding(p, "bridge 00:02.0: secondary bus 01 was already reached"));
	CHECK(has_finding(p, "bridge 01:00.0: secondary bus 01 is not above its own bus 01"));
	CHECK(has_finding(p, "bridge 01:02.0: subordinate bus 03 is below secondary bus 04"));
	CHECK(has_finding(p, "bridge 20:00.0: secondary bus 10 is not above its own bus 20"));
	CHECK_EQ(p->nfindings, 4);
	ish_pci_destroy(p);
	ish_target_close(t);

	/*
	 * Every function of every bus a multi-function bridge chain (bus N ->
	 * N + 1) with random bytes elsewhere: 256 buses at most, each once.
	 */
	OK(ish_mem_open(&t));
	srand(7);
	for (unsigned bus = 0; bus < 256; bus++) {
		for (unsigned dev = 0; dev < 4; dev++) {
			for (unsigned fn = 0; fn < 8; fn++) {
				uint8_t *c;

				OK(ish_mem_add_config(t, 0, ISH_BDF(bus, dev, fn), &c));
				for (unsigned i = 0; i < 64; i++)
					c[i] = (uint8_t)rand();
				c[PCI_VENDOR_ID] = 0x86;
				c[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_MFD | PCI_HEADER_TYPE_BRIDGE;
			}
		}
		bridge(t, ISH_BDF(bus, 0, 0), bus, (bus + 1) & 0xff, 0xff);
	}
	OK(ish_pci_enumerate(t, &p));
	CHECK(p->n >= 256);
	/* Each bus once: 32 vendor reads, then id, class, header, buses per function. */
	CHECK(p->config_reads <= 256u * (32 + 4 * 8 * 4));
	CHECK(has_finding(p, "bridge ff:00.0: secondary bus 00 is not above its own bus ff"));
	printf("random chain: %zu functions, %zu findings, %llu config reads\n", p->n, p->nfindings,
	       (unsigned long long)p->config_reads);
	ish_pci_destroy(p);
	ish_target_close(t);

	/* No config space at all: a clear error, not an empty list. */
	OK(ish_mem_open(&t));
	FAILS(ish_pci_enumerate(t, &p), ISH_ERROR_UNSUPPORTED);
	ish_target_close(t);
}

static struct ish_dmar_scope scope(uint8_t type, uint8_t bus, size_t n, struct ish_dmar_path *path)
{
	return (struct ish_dmar_scope){ .type = type, .bus = bus, .npath = n, .path = path };
}

static void test_resolve(void)
{
	struct ish_target *t = hierarchy();
	struct ish_scope_bdf r;
	struct ish_dmar_path through[] = { { 0x1c, 0 }, { 0, 0 }, { 0, 0 } };
	struct ish_dmar_path port[] = { { 0x1c, 0 } };
	struct ish_dmar_path absent[] = { { 5, 0 }, { 0, 0 } };
	struct ish_dmar_path notbridge[] = { { 0x1f, 0 }, { 0, 0 } };
	struct ish_dmar_path bad[] = { { 40, 0 } };
	struct ish_dmar_scope s;

	s = scope(ISH_DMAR_SCOPE_PCI_ENDPOINT, 0, 3, through);
	OK(ish_dmar_scope_resolve(t, 0, &s, &r));
	CHECK(r.resolved && r.bdf == ISH_BDF(2, 0, 0) && !r.has_range);
	s = scope(ISH_DMAR_SCOPE_PCI_BRIDGE, 0, 1, port);
	OK(ish_dmar_scope_resolve(t, 0, &s, &r));
	CHECK(r.resolved && r.bdf == ISH_BDF(0, 0x1c, 0) && r.has_range && r.secondary == 1 &&
	      r.subordinate == 2);
	s = scope(ISH_DMAR_SCOPE_PCI_ENDPOINT, 0, 2, absent);
	OK(ish_dmar_scope_resolve(t, 0, &s, &r));
	CHECK(!r.resolved && !strncmp(r.why, "bridge 00:05.0 not readable", 27));
	s = scope(ISH_DMAR_SCOPE_PCI_ENDPOINT, 0, 2, notbridge);
	OK(ish_dmar_scope_resolve(t, 0, &s, &r));
	CHECK_STR(r.why, "00:1f.0 is not a bridge (header type 0)");
	s = scope(ISH_DMAR_SCOPE_PCI_ENDPOINT, 0, 1, bad);
	OK(ish_dmar_scope_resolve(t, 0, &s, &r));
	CHECK_STR(r.why, "hop 1 names device 0x28 function 0");
	s = scope(ISH_DMAR_SCOPE_IOAPIC, 0, 1, port);
	OK(ish_dmar_scope_resolve(t, 0, &s, &r));
	CHECK(!r.resolved);
	/* A bridge whose secondary bus goes backwards ends the path. */
	bridge(t, ISH_BDF(0, 0x1c, 0), 0, 0, 2);
	s = scope(ISH_DMAR_SCOPE_PCI_ENDPOINT, 0, 3, through);
	OK(ish_dmar_scope_resolve(t, 0, &s, &r));
	CHECK_STR(r.why, "bridge 00:1c.0: secondary bus 00 is not above 00");
	ish_target_close(t);
}

/* DRHD for the unit at 0xfed91000 with one scope; the other unit is INCLUDE_PCI_ALL. */
static void test_unit_through_bridges(void)
{
	struct ish_target *t = hierarchy();
	uint8_t dmar[48 + 16 + 12] = { 'D', 'M', 'A', 'R', sizeof(dmar) };
	struct ish_unit_scopes *us;
	enum ish_cover how;
	unsigned u;

	OK(ish_mem_add_unit(t, 0xfed90000, 0, &u));
	OK(ish_mem_add_unit(t, 0xfed91000, 0, &u));
	dmar[50] = 16 + 12;
	dmar[57] = 0x10;
	dmar[58] = 0xd9;
	dmar[59] = 0xfe;
	dmar[64] = ISH_DMAR_SCOPE_PCI_ENDPOINT;
	dmar[65] = 12;
	dmar[70] = 0x1c;	/* 00:1c.0 -> 01:00.0 -> 02:00.0 */
	OK(ish_target_set_dmar(t, dmar, sizeof(dmar)));
	OK(ish_unit_for_device(t, 0, ISH_BDF(2, 0, 0), &u));
	CHECK_EQ(u, 1);
	OK(ish_unit_for_device(t, 0, ISH_BDF(1, 0, 0), &u));
	CHECK_EQ(u, 0);
	OK(ish_unit_scopes_create(t, &us));
	OK(ish_unit_scopes_lookup(t, us, 0, ISH_BDF(2, 0, 0), &u, &how));
	CHECK(u == 1 && how == ISH_COVER_ENDPOINT);
	OK(ish_unit_scopes_lookup(t, us, 0, ISH_BDF(0, 0x1f, 3), &u, &how));
	CHECK(u == 0 && how == ISH_COVER_PCI_ALL);
	ish_unit_scopes_destroy(us);
	/* As a sub-hierarchy: every bus below 00:1c.0. */
	dmar[64] = ISH_DMAR_SCOPE_PCI_BRIDGE;
	dmar[65] = 8;
	dmar[50] = 16 + 8;
	dmar[4] = 48 + 16 + 8;
	OK(ish_target_set_dmar(t, dmar, 48 + 16 + 8));
	OK(ish_unit_scopes_create(t, &us));
	OK(ish_unit_scopes_lookup(t, us, 0, ISH_BDF(2, 0, 0), &u, &how));
	CHECK(u == 1 && how == ISH_COVER_BRIDGE);
	OK(ish_unit_scopes_lookup(t, us, 0, ISH_BDF(1, 0, 0), &u, &how));
	CHECK(u == 1 && how == ISH_COVER_BRIDGE);
	OK(ish_unit_scopes_lookup(t, us, 0, ISH_BDF(0, 0x1c, 0), &u, &how));
	CHECK(u == 1 && how == ISH_COVER_BRIDGE);
	OK(ish_unit_scopes_lookup(t, us, 0, ISH_BDF(3, 0, 0), &u, &how));
	CHECK(u == 0 && how == ISH_COVER_PCI_ALL);
	ish_unit_scopes_destroy(us);
	/* Config space gone: the scope no longer resolves, INCLUDE_PCI_ALL takes over. */
	bridge(t, ISH_BDF(0, 0x1c, 0), 0, 0, 0);
	OK(ish_unit_for_device(t, 0, ISH_BDF(2, 0, 0), &u));
	CHECK_EQ(u, 0);
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("scan") test_scan();
	CASE("hostile_scan") test_hostile_scan();
	CASE("resolve") test_resolve();
	CASE("unit_through_bridges") test_unit_through_bridges();
	return check_report();
}
