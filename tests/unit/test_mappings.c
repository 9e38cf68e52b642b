// SPDX-License-Identifier: MIT
/*
 * ish_mappings(), ish_devices(), ish_device_pasids() and ish_who_maps() on
 * a mem image with a legacy unit and a scalable unit (SL, FL, nested and
 * pass-through PASIDs).
 */
#include <iommush/mem.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

#include "check.h"
#include "image.h"

#define CAP_ALL ((0xeULL << 8) | (47ULL << 16) | (3ULL << 34) | (1ULL << 56))
#define ECAP_ALL ((1ULL << 6) | (1ULL << 7) | (1ULL << 26) | (1ULL << 40) | (1ULL << 43) | \
		  (1ULL << 46) | (1ULL << 47))

static struct ish_target *t;
static uint64_t next = 0x100000;
static uint64_t nsl_root;	/* the nested PASID's second-level table */

static void put(uint64_t a, uint64_t v)
{
	img_put(t, a, v);
}

static uint64_t page(void)
{
	return img_page(&next);
}

static void map(uint64_t root, unsigned levels, uint64_t iova, uint64_t hpa, uint64_t bits,
		unsigned leaf_level)
{
	img_map(t, &next, false, root, levels, iova, hpa, bits, leaf_level);
}

/* The leaf entry address for iova in 4-level SL tables at root. */
static uint64_t leaf_entry(uint64_t root, uint64_t iova)
{
	return img_leaf_entry(t, root, 4, iova, 1);
}

struct got {
	unsigned n, nf;
	struct ish_mapping m[16];
	struct ish_device d[16];
	struct ish_who_maps w[16];
	uint32_t pasids[16];
};

static struct ish_error *on_map(void *arg, const struct ish_mapping *m)
{
	struct got *g = arg;

	if (g->n < 16)
		g->m[g->n] = *m;
	g->n++;
	return NULL;
}

static struct ish_error *on_find(void *arg, const struct ish_finding *f)
{
	(void)f;
	((struct got *)arg)->nf++;
	return NULL;
}

static struct ish_error *on_dev(void *arg, const struct ish_device *d)
{
	struct got *g = arg;

	if (g->n < 16)
		g->d[g->n] = *d;
	g->n++;
	return NULL;
}

static struct ish_error *on_who(void *arg, const struct ish_who_maps *w)
{
	struct got *g = arg;

	if (g->n < 16)
		g->w[g->n] = *w;
	g->n++;
	return NULL;
}

static struct ish_error *on_pasid(void *arg, uint32_t pasid, const struct ish_pasid_entry *pe)
{
	struct got *g = arg;

	(void)pe;
	if (g->n < 16)
		g->pasids[g->n] = pasid;
	g->n++;
	return NULL;
}

/* unit 0 legacy: 00:02.0 SL 3-level, 00:03.0 pass-through, bus 5 root entry outside RAM.
 * unit 1 scalable: 01:00.0 with PASIDs 0 (SL), 7 (FL), 100 (nested), 200 (PT). */
static void build(void)
{
	uint64_t rta0 = page(), rta1 = page(), ctp = page(), sl = page(), sctp = page();
	uint64_t dir = page(), ptab0 = page(), ptab1 = page(), ptab3 = page();
	uint64_t ssl = page(), fl = page(), nsl = page(), nfl_h[4], ce;
	unsigned u;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_ram(t, 0, 16 << 20, NULL));
	OK(ish_mem_add_unit(t, 0xfed90000, 0, &u));
	OK(ish_mem_add_unit(t, 0xfed91000, 1, &u));
	for (u = 0; u < 2; u++) {
		OK(ish_mem_set_reg(t, u, DMAR_CAP_REG, 64, CAP_ALL));
		OK(ish_mem_set_reg(t, u, DMAR_ECAP_REG, 64, ECAP_ALL));
		OK(ish_mem_set_reg(t, u, DMAR_GSTS_REG, 32, DMA_GSTS_TES));
	}
	OK(ish_mem_set_reg(t, 0, DMAR_RTADDR_REG, 64, rta0));
	OK(ish_mem_set_reg(t, 1, DMAR_RTADDR_REG, 64, rta1 | 1 << 10));

	put(rta0, ctp | 1);
	put(rta0 + 5 * 16, 0x7000000000ULL | 1);
	put(ctp + 0x10 * 16, sl | 1);
	put(ctp + 0x10 * 16 + 8, 1 | 3 << 8);
	put(ctp + 0x18 * 16, 2 << 2 | 1);
	put(ctp + 0x18 * 16 + 8, 1 | 4 << 8);
	for (int i = 0; i < 8; i++)
		map(sl, 3, 0x100000 + i * 0x1000, 0x500000 + i * 0x1000, 3, 1);
	map(sl, 3, 0x200000, 0x500000, 1, 1);	/* an alias of the same HPA, read-only */

	put(rta1 + 1 * 16, sctp | 1);
	ce = sctp;
	put(ce, dir | 1 << 9 | 8 | 1);	/* PDTS 1: 256 dir entries */
	put(ce + 8, 0);
	put(dir, ptab0 | 1);
	put(dir + 1 * 8, ptab1 | 1);
	put(dir + 3 * 8, ptab3 | 1);
	put(dir + 4 * 8, 0x7000000000ULL | 1);	/* PASID table outside memory */
	put(ptab0, ssl | 2 << 6 | 2 << 2 | 1);
	put(ptab0 + 8, 21);
	map(ssl, 4, 0x1000, 0x600000, 3, 1);
	put(ptab0 + 7 * 64, 1 << 6 | 1);
	put(ptab0 + 7 * 64 + 8, 22);
	put(ptab0 + 7 * 64 + 16, fl);
	map(fl, 4, 0x7000, 0x601000, 7, 1);
	map(fl, 4, 0xffffffffc0000000ULL, 0x40000000, 5, 3);	/* 1 GiB read-only */
	/* nested, PASID 100 = dir 1, index 36: FL tables at GPA 0x8000000.. */
	put(ptab1 + 36 * 64, nsl | 3 << 6 | 2 << 2 | 1);
	put(ptab1 + 36 * 64 + 8, 23);
	put(ptab1 + 36 * 64 + 16, 0x8000000);
	for (int i = 0; i < 4; i++) {
		nfl_h[i] = page();
		map(nsl, 4, 0x8000000 + i * 0x1000, nfl_h[i], 1, 1);
	}
	put(nfl_h[0], 0x8001000 | 7);
	put(nfl_h[1], 0x8002000 | 7);
	put(nfl_h[2], 0x8003000 | 7);
	/* FL: IOVA 0x3000 -> GPA 0x9000000 -> HPA 0x700000 */
	put(nfl_h[3] + 3 * 8, 0x9000000 | 7);
	map(nsl, 4, 0x9000000, 0x700000, 3, 1);
	/* PASID 200 = dir 3, index 8: pass-through */
	put(ptab3 + 8 * 64, 4 << 6 | 1);
	put(ptab3 + 8 * 64 + 8, 24);
	nsl_root = nsl;
}

static void test_mappings(void)
{
	struct got g;
	struct ish_translation fault;

	memset(&g, 0, sizeof(g));
	OK(ish_mappings(t, 0, ISH_BDF(0, 2, 0), ISH_PASID_NONE, 0, ~0ULL, on_map, on_find, &g,
			&fault, NULL));
	CHECK_EQ(g.n, 2);
	CHECK_EQ(g.m[0].iova, 0x100000);
	CHECK_EQ(g.m[0].hpa, 0x500000);
	CHECK_EQ(g.m[0].size, 0x8000);
	CHECK_EQ(g.m[1].iova, 0x200000);
	CHECK(!g.m[1].write);
	/* pass-through: one identity range, clipped to MGAW (48) */
	memset(&g, 0, sizeof(g));
	OK(ish_mappings(t, 0, ISH_BDF(0, 3, 0), ISH_PASID_NONE, 0x1000, ~0ULL, on_map, on_find,
			&g, &fault, NULL));
	CHECK_EQ(g.n, 1);
	CHECK(g.m[0].pass_through);
	CHECK_EQ(g.m[0].iova, 0x1000);
	CHECK_EQ(g.m[0].size, (1ULL << 48) - 0x1000);
	/* no context: the fault comes back, nothing streamed */
	memset(&g, 0, sizeof(g));
	OK(ish_mappings(t, 0, ISH_BDF(0, 4, 0), ISH_PASID_NONE, 0, ~0ULL, on_map, on_find, &g,
			&fault, NULL));
	CHECK_EQ(g.n, 0);
	CHECK(fault.faulted);
	CHECK_EQ(fault.reason, ISH_FR_CONTEXT_ENTRY_P);

	/* scalable: RID_PASID (0) SL, PASID 7 FL, PASID 100 nested */
	memset(&g, 0, sizeof(g));
	OK(ish_mappings(t, 1, ISH_BDF(1, 0, 0), ISH_PASID_NONE, 0, ~0ULL, on_map, on_find, &g,
			&fault, NULL));
	CHECK_EQ(g.n, 1);
	CHECK_EQ(g.m[0].hpa, 0x600000);
	memset(&g, 0, sizeof(g));
	OK(ish_mappings(t, 1, ISH_BDF(1, 0, 0), 7, 0, ~0ULL, on_map, on_find, &g, &fault, NULL));
	CHECK_EQ(g.n, 2);
	CHECK_EQ(g.m[0].iova, 0x7000);
	CHECK_EQ(g.m[1].iova, 0xffffffffc0000000ULL);
	CHECK_EQ(g.m[1].size, 1 << 30);
	CHECK(!g.m[1].write && g.m[1].user);
	memset(&g, 0, sizeof(g));
	OK(ish_mappings(t, 1, ISH_BDF(1, 0, 0), 100, 0, ~0ULL, on_map, on_find, &g, &fault, NULL));
	CHECK_EQ(g.n, 1);
	CHECK_EQ(g.m[0].iova, 0x3000);
	CHECK_EQ(g.m[0].hpa, 0x700000);
	CHECK_EQ(g.m[0].size, 0x1000);
	CHECK(g.m[0].read && g.m[0].write);
	CHECK_EQ(g.nf, 0);
	/* the nested FL table at GPA 0x8002000 unmapped in SL: a finding, walk goes on */
	put(leaf_entry(nsl_root, 0x8002000), 0);
	memset(&g, 0, sizeof(g));
	OK(ish_mappings(t, 1, ISH_BDF(1, 0, 0), 100, 0, ~0ULL, on_map, on_find, &g, &fault, NULL));
	CHECK_EQ(g.n, 0);
	CHECK_EQ(g.nf, 1);
}

static void test_devices_who(void)
{
	struct got g;
	struct ish_unit_state us;

	memset(&g, 0, sizeof(g));
	OK(ish_devices(t, true, on_dev, on_find, &g));
	CHECK_EQ(g.n, 3);
	CHECK_EQ(g.nf, 1);	/* bus 5's context table outside memory */
	CHECK_EQ(g.d[0].unit, 0);
	CHECK_EQ(g.d[0].bdf, ISH_BDF(0, 2, 0));
	CHECK(g.d[0].have_tables);
	CHECK_EQ(g.d[0].tables.did, 3);
	CHECK_EQ(g.d[0].tables.sl_levels, 3);
	CHECK_EQ(g.d[1].bdf, ISH_BDF(0, 3, 0));
	CHECK_EQ(g.d[1].tables.mode, ISH_XLATE_PT);
	CHECK_EQ(g.d[2].unit, 1);
	CHECK_EQ(g.d[2].segment, 1);
	CHECK(g.d[2].scalable && g.d[2].have_rid_pasid_entry);
	CHECK_EQ(g.d[2].tables.did, 21);
	CHECK_EQ(g.d[2].npasids, 4);

	OK(ish_unit_state_read(t, 1, &us));
	memset(&g, 0, sizeof(g));
	{
		struct got dg;

		memset(&dg, 0, sizeof(dg));
		OK(ish_devices(t, false, on_dev, NULL, &dg));
		OK(ish_device_pasids(t, &us, &dg.d[2].ce, on_pasid, on_find, &g));
	}
	CHECK_EQ(g.n, 4);
	CHECK_EQ(g.pasids[0], 0);
	CHECK_EQ(g.pasids[1], 7);
	CHECK_EQ(g.pasids[2], 100);
	CHECK_EQ(g.pasids[3], 200);
	CHECK_EQ(g.nf, 1);	/* dir entry 4 -> outside */

	/* who maps 0x500010: 00:02.0 twice (0x100010 and the alias 0x200010), 00:03.0 (PT),
	 * and 01:00.0 PASID 200 (PT) */
	memset(&g, 0, sizeof(g));
	OK(ish_who_maps(t, 0x500010, on_who, on_find, &g));
	CHECK_EQ(g.n, 4);
	CHECK_EQ(g.w[0].bdf, ISH_BDF(0, 2, 0));
	CHECK_EQ(g.w[0].iova, 0x100010);
	CHECK_EQ(g.w[0].pasid, ISH_PASID_NONE);
	CHECK_EQ(g.w[1].iova, 0x200010);
	CHECK(g.w[2].m.pass_through);
	CHECK_EQ(g.w[2].iova, 0x500010);
	CHECK_EQ(g.w[3].unit, 1);
	CHECK_EQ(g.w[3].pasid, 200);
	/* 0x40000123: the FL 1 GiB page of PASID 7, and the PT ones */
	memset(&g, 0, sizeof(g));
	OK(ish_who_maps(t, 0x40000123, on_who, on_find, &g));
	CHECK_EQ(g.n, 3);
	CHECK_EQ(g.w[1].pasid, 7);
	CHECK_EQ(g.w[1].iova, 0xffffffffc0000123ULL);
	/* nested: 0x700800 <- PASID 100 IOVA 0x3800 */
	memset(&g, 0, sizeof(g));
	OK(ish_who_maps(t, 0x700800, on_who, on_find, &g));
	CHECK_EQ(g.n, 3);
	CHECK_EQ(g.w[1].pasid, 100);
	CHECK_EQ(g.w[1].iova, 0x3800);
}

int main(int argc, char **argv)
{
	build();
	check_init(argc, argv);
	CASE("devices_who") test_devices_who();
	CASE("mappings") test_mappings();
	ish_target_close(t);
	return check_report();
}
