// SPDX-License-Identifier: MIT
/*
 * The architecture seam: a target's architecture comes from its firmware
 * table (the demo snapshot's DMAR: a real QEMU q35 guest) or -O arch=NAME;
 * unit-for-device answers are cached on the target until the cache drops.
 */
#include <stdbool.h>
#include <string.h>

#include <iommush/arch.h>
#include <iommush/backend.h>
#include <iommush/mem.h>
#include <iommush/pci.h>
#include <iommush/target.h>

#include "config.h"
#include "check.h"

#define DEMO ISH_SOURCE_ROOT "/demo/demo.snapshot"

static void test_registry(void)
{
	char names[64];

	CHECK(ish_arches[0] != NULL);
	CHECK(ish_arch_find("vtd") == ish_arches[0]);
	CHECK(ish_arch_find("nope") == NULL);
	CHECK(ish_arch_for_table("DMAR\x30\0\0\0", 8) == ish_arch_find("vtd"));
	CHECK(ish_arch_for_table("IVRS\x30\0\0\0", 8) == NULL);
	CHECK(ish_arch_for_table("DM", 2) == NULL);
	CHECK_STR(ish_arch_names(names, sizeof(names)), "vtd");
	/* Every row says enough to open a target. */
	for (size_t i = 0; ish_arches[i]; i++) {
		CHECK(ish_arches[i]->name && ish_arches[i]->firmware_sig &&
		      strlen(ish_arches[i]->firmware_sig) == 4);
		CHECK(ish_arches[i]->unit_name_fmt && ish_arches[i]->discover_units);
	}
}

static void test_from_table(void)
{
	struct ish_target *t;
	size_t len;
	const char *tbl;

	OK(ish_target_open(DEMO, NULL, NULL, 0, 0, &t));
	tbl = ish_target_dmar(t, &len);
	CHECK(tbl && len >= 4 && !memcmp(tbl, "DMAR", 4));
	CHECK_STR(ish_target_arch(t)->name, "vtd");
	CHECK(ish_target_nunits(t) >= 1);
	CHECK_STR(ish_target_unit(t, 0)->name, "dmar0");
	ish_target_close(t);
}

static void test_param(void)
{
	struct ish_param good = { "arch", "vtd" }, bad = { "arch", "nope" };
	struct ish_target *t = NULL;
	struct ish_error *err;

	OK(ish_target_open(DEMO, NULL, &good, 1, 0, &t));
	CHECK_STR(ish_target_arch(t)->name, "vtd");
	CHECK_STR(ish_target_unit(t, 0)->name, "dmar0");
	ish_target_close(t);

	t = NULL;
	err = ish_target_open(DEMO, NULL, &bad, 1, 0, &t);
	CHECK(err && err->code == ISH_ERROR_INVALID);
	CHECK(t == NULL);
	if (err)
		CHECK_STR(err->message, "arch=nope: no such architecture (known: vtd)");
	ish_error_destroy(err);

	/* A target without a firmware table (the mem fake) has the default. */
	OK(ish_mem_open(&t));
	CHECK(ish_target_arch(t) == ish_arches[0]);
	ish_target_close(t);
}

static void test_unit_cache(void)
{
	struct ish_target *t;
	struct ish_target_stats a, b;
	struct ish_pci *p;
	struct ish_devkey key;
	enum ish_cover how;
	unsigned u, u2;

	OK(ish_target_open(DEMO, NULL, NULL, 0, 0, &t));
	OK(ish_pci_enumerate(t, &p));
	CHECK(p->n > 0);
	key = (struct ish_devkey){ .segment = p->funcs[p->n - 1].segment,
				   .rid = p->funcs[p->n - 1].bdf };
	ish_pci_destroy(p);
	ish_target_cache_drop(t);
	OK(ish_target_unit_for_device(t, &key, &u, &how));
	CHECK(u < ish_target_nunits(t));
	CHECK(how != ISH_COVER_NONE);
	/* The second answer costs nothing: no request reaches the backend. */
	ish_target_stats(t, &a);
	OK(ish_target_unit_for_device(t, &key, &u2, NULL));
	ish_target_stats(t, &b);
	CHECK_EQ(u2, u);
	CHECK_EQ(b.phys_requests, a.phys_requests);
	CHECK_EQ(b.cache_hits + b.cache_misses, a.cache_hits + a.cache_misses);
	/* A stream id wider than VT-d's 16-bit source id is refused as such. */
	key.rid = 0x10000;
	FAILS(ish_target_unit_for_device(t, &key, &u, NULL), ISH_ERROR_INVALID);
	ish_target_close(t);
}

/* A DMAR table: a DRHD per base naming 00:devs[i].0, or INCLUDE_PCI_ALL where devs[i] is 0. */
static size_t make_dmar(uint8_t *d, const uint64_t *bases, const uint8_t *devs, size_t n)
{
	size_t len = 48;

	memset(d, 0, 256);
	memcpy(d, "DMAR", 4);
	d[8] = 1;
	d[36] = 38;	/* HAW - 1 */
	for (size_t i = 0; i < n; i++) {
		uint8_t *s = d + len;
		bool scope = devs[i] != 0;
		size_t sl = 16 + (scope ? 8 : 0);

		s[2] = (uint8_t)sl;
		s[4] = scope ? 0 : 1;	/* INCLUDE_PCI_ALL */
		for (int k = 0; k < 8; k++)
			s[8 + k] = (uint8_t)(bases[i] >> (8 * k));
		if (scope) {
			s[16] = 1;	/* PCI endpoint */
			s[17] = 8;
			s[21] = 0;	/* start bus */
			s[22] = devs[i];	/* function 0 */
		}
		len += sl;
	}
	d[4] = (uint8_t)len;
	return len;
}

/* The cache answers until it is dropped, even when what the answer rests on changed. */
static void test_unit_cache_drop(void)
{
	const uint64_t bases[] = { 0xfed90000, 0xfed91000 };
	const uint8_t before[] = { 2, 0 }, after[] = { 3, 2 };
	struct ish_devkey key = { .segment = 0, .rid = ISH_BDF(0, 2, 0) };
	struct ish_target *t;
	enum ish_cover how;
	uint8_t dmar[256];
	unsigned u;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_unit(t, bases[0], 0, NULL));
	OK(ish_mem_add_unit(t, bases[1], 0, NULL));
	OK(ish_target_set_dmar(t, dmar, make_dmar(dmar, bases, before, 2)));
	OK(ish_target_unit_for_device(t, &key, &u, &how));
	CHECK_EQ(u, 0);
	CHECK_EQ(how, ISH_COVER_ENDPOINT);
	OK(ish_target_set_dmar(t, dmar, make_dmar(dmar, bases, after, 2)));
	OK(ish_target_unit_for_device(t, &key, &u, &how));
	CHECK_EQ(u, 0);		/* cached */
	CHECK_EQ(how, ISH_COVER_ENDPOINT);
	ish_target_cache_drop(t);
	OK(ish_target_unit_for_device(t, &key, &u, &how));
	CHECK_EQ(u, 1);
	CHECK_EQ(how, ISH_COVER_ENDPOINT);
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("registry") test_registry();
	CASE("from_table") test_from_table();
	CASE("param") test_param();
	CASE("unit_cache") test_unit_cache();
	CASE("unit_cache_drop") test_unit_cache_drop();
	return check_report();
}
