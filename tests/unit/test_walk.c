// SPDX-License-Identifier: MIT
/*
 * Paging-entry decoders bit for bit, and the streaming walker
 * (ish_walk_mappings) on tables built in the mem backend: coalescing,
 * ranges, cycles at each level, pointers outside memory, reserved bits,
 * page and mapping limits, the interrupt flag.
 */
#include <signal.h>

#include <iommush/mem.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

#include "check.h"
#include "image.h"

static const struct ish_walk_caps caps_all = { .haw = 48, .mgaw = 48, .sllps = 3, .fl1gp = true,
					       .snp = true, .slee = false };

static void test_sl_decode(void)
{
	struct ish_pte p;
	struct ish_walk_caps c = caps_all;

	ish_decode_sl_pte(0x123456789000ULL | 0x1 | 0x8 << 0 | 0x40 | 0x100 | 0x200 | 0x800 |
			  1ULL << 62, 1, &c, &p);
	CHECK(p.present && p.leaf && p.r && !p.w && !p.x);
	CHECK_EQ(p.addr, 0x123456789000ULL);
	CHECK_EQ(p.page_size, 4096);
	CHECK_EQ(p.emt, 1);
	CHECK(p.ipat && p.a && p.d && p.snp && p.tm);
	CHECK_EQ(p.rsvd, 0);
	/* bits 63 and 61:52 are ignored */
	ish_decode_sl_pte(0xbff0000000001003ULL, 1, &c, &p);
	CHECK_EQ(p.rsvd, 0);
	CHECK_EQ(p.addr, 0x1000);
	/* address above HAW 48 is reserved */
	ish_decode_sl_pte(0x0001000000001003ULL, 1, &c, &p);
	CHECK_EQ(p.rsvd, 1ULL << 48);
	/* non-leaf at level 2 */
	ish_decode_sl_pte(0x5000 | 3, 2, &c, &p);
	CHECK(p.present && !p.leaf);
	CHECK_EQ(p.addr, 0x5000);
	/* 2 MiB / 1 GiB leaves and their reserved low bits */
	ish_decode_sl_pte(0x40200000ULL | 0x83, 2, &c, &p);
	CHECK(p.leaf);
	CHECK_EQ(p.page_size, 2 << 20);
	CHECK_EQ(p.addr, 0x40200000);
	CHECK_EQ(p.rsvd, 0);
	ish_decode_sl_pte(0x40201000ULL | 0x83, 2, &c, &p);
	CHECK_EQ(p.rsvd, 0x1000);
	ish_decode_sl_pte(0x40000000ULL | 0x83, 3, &c, &p);
	CHECK_EQ(p.page_size, 1 << 30);
	CHECK_EQ(p.rsvd, 0);
	ish_decode_sl_pte(0x40200000ULL | 0x83, 3, &c, &p);
	CHECK_EQ(p.rsvd, 0x200000);
	/* PS at level 4 is reserved; without SLLPS bit 1, at level 3 too */
	ish_decode_sl_pte(0x1000 | 0x83, 4, &c, &p);
	CHECK(!p.leaf);
	CHECK_EQ(p.rsvd, 0x80);
	c.sllps = 1;
	ish_decode_sl_pte(0x40000000ULL | 0x83, 3, &c, &p);
	CHECK_EQ(p.rsvd, 0x80);
	c.sllps = 0;
	ish_decode_sl_pte(0x40200000ULL | 0x83, 2, &c, &p);
	CHECK_EQ(p.rsvd, 0x80);
	/* SNP: reserved bit 11 without snoop control */
	c = caps_all;
	c.snp = false;
	ish_decode_sl_pte(0x1000 | 0x803, 1, &c, &p);
	CHECK_EQ(p.rsvd, 0x800);
	CHECK(!p.snp);
	/* X counts only with SLEE; an X-only entry is present with SLEE */
	ish_decode_sl_pte(0x1000 | 4, 1, &caps_all, &p);
	CHECK(!p.present);
	c = caps_all;
	c.slee = true;
	ish_decode_sl_pte(0x1000 | 4, 1, &c, &p);
	CHECK(p.present && p.x && !p.r && !p.w);
}

static void test_fl_decode(void)
{
	struct ish_pte p;
	struct ish_walk_caps c = caps_all;

	ish_decode_fl_pte(0x8000000000abc000ULL | 0x1ff, 1, &c, &p);
	CHECK(p.present && p.leaf && p.r && p.w && p.us && p.pwt && p.pcd && p.a && p.d);
	CHECK(p.pat && p.g && !p.x);
	CHECK_EQ(p.addr, 0xabc000);
	CHECK_EQ(p.rsvd, 0);
	ish_decode_fl_pte(0xabc000 | 0x6, 1, &c, &p);
	CHECK(!p.present);
	/* 2 MiB: bit 12 is PAT, 20:13 reserved */
	ish_decode_fl_pte(0x40201000ULL | 0x81, 2, &c, &p);
	CHECK(p.leaf && p.pat);
	CHECK_EQ(p.addr, 0x40200000);
	CHECK_EQ(p.rsvd, 0);
	ish_decode_fl_pte(0x40202000ULL | 0x81, 2, &c, &p);
	CHECK_EQ(p.rsvd, 0x2000);
	/* 1 GiB needs FL1GP; PS at level 4/5 reserved */
	ish_decode_fl_pte(0x40000000ULL | 0x81, 3, &c, &p);
	CHECK_EQ(p.page_size, 1 << 30);
	CHECK_EQ(p.rsvd, 0);
	c.fl1gp = false;
	ish_decode_fl_pte(0x40000000ULL | 0x81, 3, &c, &p);
	CHECK_EQ(p.rsvd, 0x80);
	ish_decode_fl_pte(0x1000 | 0x81, 5, &c, &p);
	CHECK_EQ(p.rsvd, 0x80);
	ish_decode_fl_pte(0x0001000000001001ULL, 1, &caps_all, &p);
	CHECK_EQ(p.rsvd, 1ULL << 48);
}

/* --- streaming --- */

struct fx {
	struct ish_target *t;
	uint64_t next;
};

static uint64_t get(struct fx *f, uint64_t a)
{
	return img_get(f->t, a);
}

static void put(struct fx *f, uint64_t a, uint64_t v)
{
	img_put(f->t, a, v);
}

static uint64_t page(struct fx *f)
{
	return img_page(&f->next);
}

static void map(struct fx *f, bool fl, uint64_t root, unsigned levels, uint64_t iova, uint64_t hpa,
		uint64_t bits, unsigned leaf_level)
{
	img_map(f->t, &f->next, fl, root, levels, iova, hpa, bits, leaf_level);
}

static void fx_open(struct fx *f, const struct ish_param *params, size_t n)
{
	OK(ish_target_open("mem", "mem", params, n, ISH_OPEN_WRITE, &f->t));
	OK(ish_mem_add_ram(f->t, 0, 16 << 20, NULL));
	f->next = 0x100000;
}

#define MAXM 64
struct got {
	unsigned n, nf;
	struct ish_mapping m[MAXM];
	struct ish_finding f[MAXM];
};

static struct ish_error *on_map(void *arg, const struct ish_mapping *m)
{
	struct got *g = arg;

	if (g->n < MAXM)
		g->m[g->n] = *m;
	g->n++;
	return NULL;
}

static struct ish_error *on_find(void *arg, const struct ish_finding *f)
{
	struct got *g = arg;

	if (g->nf < MAXM)
		g->f[g->nf] = *f;
	g->nf++;
	return NULL;
}

static struct ish_xlate_tables sl_tables(uint64_t root, unsigned levels)
{
	struct ish_xlate_tables x;

	memset(&x, 0, sizeof(x));
	x.mode = ISH_XLATE_SL;
	x.sl_root = root;
	x.sl_levels = levels;
	x.caps = caps_all;
	x.pasid = ISH_PASID_NONE;
	return x;
}

static void test_stream_coalesce(void)
{
	struct fx f;
	struct got g;
	struct ish_walk_stats st;
	uint64_t root;
	struct ish_xlate_tables x;

	fx_open(&f, NULL, 0);
	root = page(&f);
	x = sl_tables(root, 4);
	/* 4 contiguous pages, then a hole, then 2 pages with different perms */
	for (int i = 0; i < 4; i++)
		map(&f, false, root, 4, 0x10000 + i * 0x1000, 0x200000 + i * 0x1000, 3, 1);
	map(&f, false, root, 4, 0x20000, 0x300000, 3, 1);
	map(&f, false, root, 4, 0x21000, 0x301000, 1, 1);
	/* a 2 MiB page followed by contiguous 4K pages do not coalesce (page size) */
	map(&f, false, root, 4, 0x40000000, 0x600000, 3, 2);
	map(&f, false, root, 4, 0x40200000, 0x800000, 3, 1);
	/* a 1 GiB page high up */
	map(&f, false, root, 4, 0x7f80000000ULL, 0x40000000, 3, 3);

	memset(&g, 0, sizeof(g));
	OK(ish_walk_mappings(f.t, &x, 0, ~0ULL, on_map, on_find, &g, &st));
	CHECK_EQ(g.n, 6);
	CHECK_EQ(g.nf, 0);
	CHECK_EQ(g.m[0].iova, 0x10000);
	CHECK_EQ(g.m[0].hpa, 0x200000);
	CHECK_EQ(g.m[0].size, 0x4000);
	CHECK(g.m[0].read && g.m[0].write);
	CHECK_EQ(g.m[1].iova, 0x20000);
	CHECK_EQ(g.m[1].size, 0x1000);
	CHECK_EQ(g.m[2].iova, 0x21000);
	CHECK(g.m[2].read && !g.m[2].write);
	CHECK_EQ(g.m[3].iova, 0x40000000);
	CHECK_EQ(g.m[3].size, 2 << 20);
	CHECK_EQ(g.m[3].page_size, 2 << 20);
	CHECK_EQ(g.m[4].iova, 0x40200000);
	CHECK_EQ(g.m[4].hpa, 0x800000);
	CHECK_EQ(g.m[5].iova, 0x7f80000000ULL);
	CHECK_EQ(g.m[5].size, 1 << 30);
	CHECK_EQ(st.mappings, 6);
	CHECK_EQ(st.leaves, 9);

	/* A range clips leaves: [0x11800, 0x40000fff] */
	memset(&g, 0, sizeof(g));
	OK(ish_walk_mappings(f.t, &x, 0x11800, 0x40000fff, on_map, on_find, &g, &st));
	CHECK_EQ(g.n, 4);
	CHECK_EQ(g.m[0].iova, 0x11800);
	CHECK_EQ(g.m[0].hpa, 0x201800);
	CHECK_EQ(g.m[0].size, 0x2800);
	CHECK_EQ(g.m[3].iova, 0x40000000);
	CHECK_EQ(g.m[3].size, 0x1000);
	CHECK_EQ(g.m[3].hpa, 0x600000);
	/* A range with nothing in it reads only the path down */
	memset(&g, 0, sizeof(g));
	OK(ish_walk_mappings(f.t, &x, 0x30000, 0x30fff, on_map, on_find, &g, &st));
	CHECK_EQ(g.n, 0);
	CHECK_EQ(st.pages, 4);	/* root, PDPT, PD, PT */
	OK(ish_walk_mappings(f.t, &x, 5, 4, on_map, on_find, &g, &st));
	CHECK_EQ(g.n, 0);
	ish_target_close(f.t);
}

static void test_stream_hostile(void)
{
	struct ish_param p[] = { { "walk.max_pages", "20000" } };
	struct fx f;
	struct got g;
	struct ish_walk_stats st;
	uint64_t root, l3, l2;
	struct ish_xlate_tables x;

	fx_open(&f, p, 1);
	root = page(&f);
	x = sl_tables(root, 4);
	map(&f, false, root, 4, 0x1000, 0x200000, 3, 1);
	l3 = get(&f, root) & ~0xfffULL;
	l2 = get(&f, l3) & ~0xfffULL;
	/* cycles: PML4E[1] -> root, PDPTE[1] -> l3, PDE[1] -> root (an ancestor) */
	put(&f, root + 8, root | 3);
	put(&f, l3 + 8, l3 | 3);
	put(&f, l2 + 8, root | 3);
	/* pointer outside memory, and reserved bits (bit 11 without SNP is fine here) */
	put(&f, root + 16, 0x7000000000ULL | 3);
	put(&f, l2 + 16, 0x400000 | 0x83 | 0x1000);	/* 2M with bit 12: reserved */

	memset(&g, 0, sizeof(g));
	OK(ish_walk_mappings(f.t, &x, 0, ~0ULL, on_map, on_find, &g, &st));
	CHECK_EQ(g.n, 1);
	CHECK_EQ(g.m[0].iova, 0x1000);
	CHECK_EQ(g.nf, 5);
	/* order: depth first, index order */
	CHECK_EQ(g.f[0].kind, ISH_FINDING_CYCLE);	/* PDE[1] -> root at level 1 */
	CHECK_EQ(g.f[0].addr, root);
	CHECK_EQ(g.f[0].level, 1);
	CHECK_EQ(g.f[0].iova, 0x200000);
	CHECK_EQ(g.f[1].kind, ISH_FINDING_RESERVED);
	CHECK_EQ(g.f[1].bits, 0x1000);
	CHECK_EQ(g.f[1].level, 2);
	CHECK_EQ(g.f[1].iova, 0x400000);
	CHECK_EQ(g.f[2].kind, ISH_FINDING_CYCLE);	/* PDPTE[1] -> l3 */
	CHECK_EQ(g.f[2].level, 2);
	CHECK_EQ(g.f[2].iova, 0x40000000);
	CHECK_EQ(g.f[3].kind, ISH_FINDING_CYCLE);	/* PML4E[1] -> root */
	CHECK_EQ(g.f[3].level, 3);
	CHECK_EQ(g.f[4].kind, ISH_FINDING_OUTSIDE);
	CHECK_EQ(g.f[4].addr, 0x7000000000ULL);
	CHECK_EQ(g.f[4].iova, 2ULL << 39);
	CHECK_EQ(st.findings, 5);

	/* Every entry of every level pointing at the same next table: a DAG, bounded. */
	{
		uint64_t a = page(&f), b = page(&f), c = page(&f), d = page(&f);

		for (int i = 0; i < 512; i++) {
			put(&f, a + i * 8, b | 3);
			put(&f, b + i * 8, c | 3);
			put(&f, c + i * 8, d | 3);
			put(&f, d + i * 8, 0x100000 | 3);	/* every page -> one HPA */
		}
		x = sl_tables(a, 4);
		memset(&g, 0, sizeof(g));
		FAILS(ish_walk_mappings(f.t, &x, 0, ~0ULL, on_map, on_find, &g, &st),
		      ISH_ERROR_LIMIT);
	}
	ish_target_close(f.t);
}

static void test_stream_limits(void)
{
	struct ish_param p[] = { { "walk.max_pages", "5" }, { "walk.max_mappings", "3" } };
	static volatile sig_atomic_t flag;
	struct fx f;
	struct got g;
	struct ish_walk_stats st;
	struct ish_xlate_tables x;
	uint64_t root;

	fx_open(&f, p, 2);
	root = page(&f);
	x = sl_tables(root, 4);
	/* 3 separate ranges: within the mapping limit */
	for (int i = 0; i < 3; i++)
		map(&f, false, root, 4, 0x1000 + i * 0x2000, 0x200000 + i * 0x4000, 3, 1);
	memset(&g, 0, sizeof(g));
	OK(ish_walk_mappings(f.t, &x, 0, ~0ULL, on_map, on_find, &g, &st));
	CHECK_EQ(g.n, 3);
	CHECK_EQ(st.pages, 4);
	/* a 4th range exceeds walk.max_mappings=3 */
	map(&f, false, root, 4, 0x9000, 0x300000, 3, 1);
	memset(&g, 0, sizeof(g));
	FAILS(ish_walk_mappings(f.t, &x, 0, ~0ULL, on_map, on_find, &g, &st), ISH_ERROR_LIMIT);
	CHECK_EQ(g.n, 3);
	/* a 6th table page exceeds walk.max_pages=5 (before the 4th range is reported) */
	map(&f, false, root, 4, 1ULL << 30, 0x400000, 3, 1);
	memset(&g, 0, sizeof(g));
	{
		struct ish_error *e = ish_walk_mappings(f.t, &x, 0, ~0ULL, on_map, on_find, &g, &st);

		CHECK(e && e->code == ISH_ERROR_LIMIT && strstr(e->message, "table pages"));
		ish_error_destroy(e);
	}
	CHECK_EQ(st.pages, 5);
	CHECK_EQ(g.n, 3);
	/* with a range that needs only 4 pages, it passes */
	memset(&g, 0, sizeof(g));
	OK(ish_walk_mappings(f.t, &x, 1ULL << 30, ~0ULL, on_map, on_find, &g, &st));
	CHECK_EQ(g.n, 1);
	CHECK_EQ(st.pages, 4);
	ish_target_close(f.t);

	/* the interrupt flag stops a walk at the next table page */
	fx_open(&f, NULL, 0);
	root = page(&f);
	x = sl_tables(root, 4);
	map(&f, false, root, 4, 0x1000, 0x200000, 3, 1);
	ish_target_set_interrupt(f.t, &flag);
	flag = 1;
	memset(&g, 0, sizeof(g));
	FAILS(ish_walk_mappings(f.t, &x, 0, ~0ULL, on_map, on_find, &g, &st),
	      ISH_ERROR_INTERRUPTED);
	CHECK_EQ(g.n, 0);
	flag = 0;
	OK(ish_walk_mappings(f.t, &x, 0, ~0ULL, on_map, on_find, &g, &st));
	CHECK_EQ(g.n, 1);
	ish_target_close(f.t);
}

static void test_stream_fl(void)
{
	struct fx f;
	struct got g;
	struct ish_walk_stats st;
	struct ish_xlate_tables x;
	uint64_t root;

	fx_open(&f, NULL, 0);
	root = page(&f);
	memset(&x, 0, sizeof(x));
	x.mode = ISH_XLATE_FL;
	x.fl_root = root;
	x.fl_levels = 4;
	x.caps = caps_all;
	map(&f, true, root, 4, 0x1000, 0x200000, 7, 1);
	map(&f, true, root, 4, 0x2000, 0x201000, 7 | 1ULL << 63, 1);
	map(&f, true, root, 4, 0xffffffffffe00000ULL, 0x400000, 7, 2);
	memset(&g, 0, sizeof(g));
	OK(ish_walk_mappings(f.t, &x, 0, ~0ULL, on_map, on_find, &g, &st));
	CHECK_EQ(g.n, 3);
	CHECK_EQ(g.m[0].iova, 0x1000);
	CHECK(g.m[0].exec && g.m[0].user);
	CHECK_EQ(g.m[1].iova, 0x2000);
	CHECK(!g.m[1].exec);
	CHECK_EQ(g.m[2].iova, 0xffffffffffe00000ULL);
	CHECK_EQ(g.m[2].size, 2 << 20);
	/* the upper half only */
	memset(&g, 0, sizeof(g));
	OK(ish_walk_mappings(f.t, &x, 0xffff800000000000ULL, ~0ULL, on_map, on_find, &g, &st));
	CHECK_EQ(g.n, 1);
	CHECK_EQ(g.m[0].hpa, 0x400000);
	ish_target_close(f.t);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("sl_decode") test_sl_decode();
	CASE("fl_decode") test_fl_decode();
	CASE("stream_coalesce") test_stream_coalesce();
	CASE("stream_hostile") test_stream_hostile();
	CASE("stream_limits") test_stream_limits();
	CASE("stream_fl") test_stream_fl();
	return check_report();
}
