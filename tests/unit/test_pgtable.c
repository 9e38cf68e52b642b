// SPDX-License-Identifier: MIT
/*
 * The page-table format table (lib/pgtable.c): its geometry against the
 * VT-d layouts (9.7, 9.8), and its decoders against entries whose meaning
 * the specification fixes.
 */
#include <iommush/pgtable.h>

#include "check.h"

static const struct ish_walk_caps caps = { .haw = 48, .mgaw = 48, .sllps = 1, .fl1gp = true,
					    .snp = true };

static void test_table(void)
{
	const struct ish_pgtable_format *sl = ish_pgtable_format(ISH_PGTABLE_VTD_SL);
	const struct ish_pgtable_format *fl = ish_pgtable_find("x86-64");

	CHECK(sl && !strcmp(sl->name, "vtd-sl"));
	CHECK(fl && fl->id == ISH_PGTABLE_X86_64 && fl->canonical);
	CHECK(ish_pgtable_find("vtd-sl") == sl);
	CHECK(!ish_pgtable_find("amd-v1") && !ish_pgtable_find(NULL));
	CHECK(!ish_pgtable_format(ISH_PGTABLE_COUNT));
	CHECK(sl->min_levels == 3 && sl->max_levels == 5);
	CHECK(fl->min_levels == 4 && fl->max_levels == 5);
	/* 4-level: 48 bits; 3-level second-level: 39 bits (AGAW 1) */
	CHECK(ish_pgtable_width(fl, 4) == 48 && ish_pgtable_width(sl, 3) == 39);
	CHECK(ish_pgtable_level_size(sl, 2) == 2ULL << 20);
	CHECK(ish_pgtable_level_size(fl, 3) == 1ULL << 30);
	CHECK(ish_pgtable_index(sl, 1, 0x12345000) == 0x145);
	CHECK(ish_pgtable_index(sl, 2, 0x12345000) == 0x91);
	CHECK(ish_pgtable_index(fl, 4, 0xffff800000000000ULL) == 256);
}

static bool same(const struct ish_pte *a, const struct ish_pte *b)
{
	return a->raw == b->raw && a->level == b->level && a->present == b->present &&
	       a->leaf == b->leaf && a->addr == b->addr && a->page_size == b->page_size &&
	       a->rsvd == b->rsvd && a->r == b->r && a->w == b->w && a->x == b->x &&
	       a->us == b->us && a->emt == b->emt && a->ipat == b->ipat && a->snp == b->snp &&
	       a->tm == b->tm && a->pwt == b->pwt && a->pcd == b->pcd && a->g == b->g &&
	       a->pat == b->pat && a->a == b->a && a->d == b->d;
}

static void test_decode(void)
{
	const struct ish_pgtable_format *sl = ish_pgtable_format(ISH_PGTABLE_VTD_SL);
	const struct ish_pgtable_format *fl = ish_pgtable_format(ISH_PGTABLE_X86_64);
	struct ish_pgtable_decoded d;
	struct ish_pte ref;

	/* SL non-leaf, R+W: next table one level down */
	sl->decode(0x5000 | 3, 4, &caps, &d);
	CHECK(d.pte.present && !d.pte.leaf && d.pte.addr == 0x5000 && d.next_level == 3);
	/* SL 2 MiB leaf (PS at level 2, SLLPS bit 0), read-only */
	sl->decode(0x40200000 | 1 << 7 | 1, 2, &caps, &d);
	CHECK(d.pte.leaf && d.pte.r && !d.pte.w && d.pte.page_size == 2ULL << 20);
	CHECK(d.pte.addr == 0x40200000 && !d.pte.rsvd && d.next_level == 0);
	/* SL 1 GiB leaf without SLLPS bit 1: PS is reserved */
	sl->decode(0x40000000 | 1 << 7 | 3, 3, &caps, &d);
	CHECK(d.pte.rsvd == 1 << 7);
	/* address bits above HAW 48 are reserved */
	sl->decode(1ULL << 50 | 0x1000 | 3, 1, &caps, &d);
	CHECK(d.pte.rsvd == 1ULL << 50);
	/* FL: P clear is not present whatever else is set */
	fl->decode(0x1000 | 2, 1, &caps, &d);
	CHECK(!d.pte.present);
	/* FL 4 KiB leaf, U/S, XD */
	fl->decode(1ULL << 63 | 0x7000 | 7, 1, &caps, &d);
	CHECK(d.pte.present && d.pte.leaf && d.pte.w && d.pte.us && !d.pte.x);
	CHECK(d.pte.addr == 0x7000 && d.pte.page_size == 4096);
	/* FL 1 GiB leaf with FL1GP */
	fl->decode(0x80000000ULL | 1 << 7 | 3, 3, &caps, &d);
	CHECK(d.pte.leaf && !d.pte.rsvd && d.pte.page_size == 1ULL << 30);
	/* The table's decoders are the walker's, entry for entry. */
	for (uint64_t raw = 1; raw; raw = raw * 0x9e3779b97f4a7c15ULL + 0x1b7) {
		for (unsigned level = 1; level <= 5; level++) {
			sl->decode(raw, level, &caps, &d);
			ish_decode_sl_pte(raw, level, &caps, &ref);
			CHECK(same(&d.pte, &ref));
			fl->decode(raw, level, &caps, &d);
			ish_decode_fl_pte(raw, level, &caps, &ref);
			CHECK(same(&d.pte, &ref));
		}
		if ((raw & 0xfff) == 0x123)
			break;
	}
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("table") test_table();
	CASE("decode") test_decode();
	return check_report();
}
