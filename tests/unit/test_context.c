// SPDX-License-Identifier: MIT
/*
 * Root, context, PASID directory and PASID table entry decoders, bit for bit
 * against the VT-d 5.0 chapter 9 layouts, their problem lists, and the
 * field tables that drive the printer (checked against the decoders).
 */
#include <iommush/vtd/context.h>
#include <iommush/mem.h>
#include <iommush/vtd/vtd.h>

#include "check.h"

static void test_root(void)
{
	uint64_t raw[2] = { 0x12345000ULL | 1, 0 };
	struct ish_root_entry re;
	uint64_t ctp;

	ish_decode_root_entry(raw, false, 48, &re);
	CHECK(re.present && !re.scalable);
	CHECK_EQ(re.ctp, 0x12345000);
	CHECK_EQ(re.problems.n, 0);
	CHECK(ish_root_entry_ctp(&re, 200, &ctp));
	CHECK_EQ(ctp, 0x12345000);
	raw[0] |= 0x800 | 1ULL << 50;
	raw[1] = 4;
	ish_decode_root_entry(raw, false, 48, &re);
	CHECK_EQ(re.problems.n, 2);
	CHECK_EQ(re.problems.p[0].bits, 0x800 | 1ULL << 50);
	CHECK_EQ(re.problems.p[1].qword, 1);
	CHECK(re.problems.p[0].reserved);
	/* haw 64 skips the address check */
	raw[0] = 1ULL << 50 | 1;
	raw[1] = 0;
	ish_decode_root_entry(raw, false, 64, &re);
	CHECK_EQ(re.problems.n, 0);

	/* scalable: lower half for devfn < 128, upper for the rest */
	raw[0] = 0x1000;
	raw[1] = 0x2000 | 1;
	ish_decode_root_entry(raw, true, 48, &re);
	CHECK(!re.lp && re.up && re.present);
	CHECK(!ish_root_entry_ctp(&re, 127, &ctp));
	CHECK(ish_root_entry_ctp(&re, 128, &ctp));
	CHECK_EQ(ctp, 0x2000);
	CHECK_EQ(ish_context_entry_addr(0x2000, 0x81, true), 0x2000 + 32);
	CHECK_EQ(ish_context_entry_addr(0x2000, 0x81, false), 0x2000 + 0x81 * 16);
}

static void test_context(void)
{
	uint64_t raw[4] = { 0xabcde000ULL | 1 << 2 | 2 | 1, 2 | 0x5 << 3 | 0xbeef << 8, 0, 0 };
	struct ish_context_entry ce;

	ish_decode_context_entry(raw, false, 48, &ce);
	CHECK(ce.present && ce.fpd);
	CHECK_EQ(ce.tt, CONTEXT_TT_DEV_IOTLB);
	CHECK_EQ(ce.slptptr, 0xabcde000);
	CHECK_EQ(ce.aw, 2);
	CHECK_EQ(ce.avail, 5);
	CHECK_EQ(ce.did, 0xbeef);
	CHECK_EQ(ce.problems.n, 0);
	CHECK_STR(ish_context_tt_name(ce.tt), "dev-iotlb");
	raw[0] |= 3 << 2 | 0x10;
	raw[1] |= 0x80 | 1ULL << 40;
	ish_decode_context_entry(raw, false, 48, &ce);
	CHECK_EQ(ce.tt, 3);
	CHECK_EQ(ce.problems.n, 3);
	CHECK_EQ(ce.problems.p[0].bits, 0x10);
	CHECK_EQ(ce.problems.p[1].bits, 0x80 | 1ULL << 40);
	CHECK(!ce.problems.p[2].reserved);	/* TT 3 */

	/* scalable */
	raw[0] = 0x55000ULL | 5 << 9 | 1 << 4 | 1 << 3 | 1 << 2 | 1;
	raw[1] = 0x12345 | 1 << 20;
	raw[2] = raw[3] = 0;
	ish_decode_context_entry(raw, true, 48, &ce);
	CHECK(ce.present && !ce.fpd && ce.dte && ce.paside && ce.pre && ce.rid_priv);
	CHECK_EQ(ce.pdts, 5);
	CHECK_EQ(ish_pasid_dir_entries(&ce), 4096);
	CHECK_EQ(ce.pasiddirptr, 0x55000);
	CHECK_EQ(ce.rid_pasid, 0x12345);
	CHECK_EQ(ce.problems.n, 0);
	raw[0] |= 1 << 7;
	raw[1] |= 1 << 21;
	raw[3] = 1;
	ish_decode_context_entry(raw, true, 48, &ce);
	CHECK_EQ(ce.problems.n, 3);
	CHECK_EQ(ce.problems.p[2].qword, 3);
}

static void test_pasid(void)
{
	uint64_t raw[8] = { 0 };
	struct ish_pasid_entry pe;
	struct ish_pasid_dir_entry pde;

	ish_decode_pasid_dir_entry(0x77000 | 3, 48, &pde);
	CHECK(pde.present && pde.fpd);
	CHECK_EQ(pde.smptblptr, 0x77000);
	CHECK_EQ(pde.problems.n, 0);
	ish_decode_pasid_dir_entry(0x77000 | 0x10 | 1, 48, &pde);
	CHECK_EQ(pde.problems.n, 1);
	CHECK_EQ(pde.problems.p[0].bits, 0x10);

	raw[0] = 0x99000ULL | 1 << 9 | 3 << 6 | 1 << 5 | 3 << 2 | 2 | 1;
	raw[1] = 0x1234 | 1 << 23 | 1 << 24 | 1 << 25 | 1 << 26 | 5ULL << 27 | 1ULL << 30 |
		 1ULL << 31 | 0x01020304ULL << 32;
	raw[2] = 0xaa000ULL | 1 << 7 | 1 << 4 | 1 << 2 | 2 | 1;
	ish_decode_pasid_entry(raw, 57, &pe);
	CHECK(pe.present && pe.fpd && pe.slee && pe.slade);
	CHECK_EQ(pe.aw, 3);
	CHECK_EQ(pe.pgtt, PASID_ENTRY_PGTT_NESTED);
	CHECK_STR(ish_pgtt_name(pe.pgtt), "nested");
	CHECK_EQ(pe.slptptr, 0x99000);
	CHECK_EQ(pe.did, 0x1234);
	CHECK(pe.pwsnp && pe.pgsnp && pe.cd && pe.emte && pe.pwt && pe.pcd);
	CHECK_EQ(pe.emt, 5);
	CHECK_EQ(pe.pat, 0x01020304);
	CHECK(pe.sre && pe.ere && pe.wpe && pe.eafe);
	CHECK_EQ(pe.flpm, 1);
	CHECK_EQ(pe.flptptr, 0xaa000);
	CHECK_EQ(pe.problems.n, 0);
	/* reserved: qword 0 bits 11:10, qword 1 bits 22:16, qwords 3..7 */
	raw[0] |= 1 << 10;
	raw[1] |= 1 << 16;
	raw[7] = 1ULL << 63;
	ish_decode_pasid_entry(raw, 57, &pe);
	CHECK_EQ(pe.problems.n, 3);
	CHECK_EQ(pe.problems.p[2].qword, 7);
	/* impossible values: PGTT 6, AW 5 with SL */
	memset(raw, 0, sizeof(raw));
	raw[0] = 6 << 6 | 1;
	ish_decode_pasid_entry(raw, 57, &pe);
	CHECK_EQ(pe.problems.n, 1);
	CHECK(!pe.problems.p[0].reserved);
	raw[0] = 2 << 6 | 5 << 2 | 1;
	ish_decode_pasid_entry(raw, 57, &pe);
	CHECK_EQ(pe.problems.n, 1);
	raw[0] = 1 << 6 | 1;
	raw[2] = 2 << 2 | 1ULL << 60;
	ish_decode_pasid_entry(raw, 48, &pe);
	CHECK_EQ(pe.problems.n, 2);	/* FLPTPTR above haw, FLPM 2 */
}

/* The field tables agree with the decoders. */
static void test_fields(void)
{
	const struct ish_entry_field *f;
	uint64_t raw[8] = { 0x99000ULL | 3 << 6 | 3 << 2 | 1, 0x1234 | 5ULL << 27,
			    0xaa000ULL | 1 << 2, 0, 0, 0, 0, 0 };
	struct ish_pasid_entry pe;
	unsigned seen = 0;

	ish_decode_pasid_entry(raw, 57, &pe);
	for (f = ish_entry_fields(ISH_ENTRY_PASID); f->name; f++) {
		uint64_t v = ish_entry_field_get(raw, f);

		if (!strcmp(f->name, "PGTT")) {
			CHECK_EQ(v, pe.pgtt);
			seen++;
		}
		if (!strcmp(f->name, "AW")) {
			CHECK_EQ(v, pe.aw);
			seen++;
		}
		if (!strcmp(f->name, "DID")) {
			CHECK_EQ(v, pe.did);
			seen++;
		}
		if (!strcmp(f->name, "EMT")) {
			CHECK_EQ(v, pe.emt);
			seen++;
		}
		if (!strcmp(f->name, "FLPM")) {
			CHECK_EQ(v, pe.flpm);
			seen++;
		}
		if (!strcmp(f->name, "FLPTPTR")) {
			CHECK_EQ(v << f->lo % 64, pe.flptptr);
			seen++;
		}
		if (!strcmp(f->name, "SLPTPTR")) {
			CHECK_EQ(v << f->lo, pe.slptptr);
			seen++;
		}
		CHECK(f->hi / 64 == f->lo / 64 && f->hi >= f->lo);
	}
	CHECK_EQ(seen, 7);
	CHECK_EQ(ish_entry_qwords(ISH_ENTRY_PASID), 8);
	CHECK_EQ(ish_entry_qwords(ISH_ENTRY_SM_CONTEXT), 4);
	for (int k = ISH_ENTRY_ROOT; k <= ISH_ENTRY_FL_PTE; k++)
		for (f = ish_entry_fields(k); f->name; f++)
			CHECK(f->hi < 64 * ish_entry_qwords(k) && f->hi / 64 == f->lo / 64);
	f = ish_entry_fields(ISH_ENTRY_SM_ROOT);
	CHECK_STR(f[3].name, "UCTP");
	raw[1] = 0xfeed000 | 1;
	CHECK_EQ(ish_entry_field_get(raw, &f[3]) << 12, 0xfeed000);
	CHECK_EQ(ish_entry_field_get(raw, &f[2]), 1);
}

/* Readers: entries at the right addresses; reads outside memory fail. */
static void test_readers(void)
{
	struct ish_target *t;
	struct ish_context_entry ce;
	struct ish_pasid_entry pe;
	struct ish_root_entry re;
	struct ish_pasid_dir_entry pde;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_ram(t, 0, 0x10000, NULL));
	ish_mem_put64(t, 0x1000 + 3 * 16, 0x2000 | 1);
	ish_mem_put64(t, 0x2000 + 0x7f * 32, 0x3000 | 1);
	ish_mem_put64(t, 0x2000 + 0x7f * 32 + 8, 9);
	ish_mem_put64(t, 0x3000 + 2 * 8, 0x4000 | 1);
	ish_mem_put64(t, 0x4000 + 5 * 64 + 8, 77);
	OK(ish_read_root_entry(t, 0x1000, 3, true, 48, &re));
	CHECK(re.lp);
	OK(ish_read_context_entry(t, re.lctp, 0xff, true, 48, &ce));
	CHECK_EQ(ce.rid_pasid, 9);
	OK(ish_read_pasid_dir_entry(t, ce.pasiddirptr, 2 << 6 | 5, 48, &pde));
	CHECK_EQ(pde.smptblptr, 0x4000);
	OK(ish_read_pasid_entry(t, pde.smptblptr, 2 << 6 | 5, 48, &pe));
	CHECK_EQ(pe.did, 77);
	FAILS(ish_read_pasid_entry(t, 0xfff0, 0, 48, &pe), ISH_ERROR_FAULT);
	FAILS(ish_read_root_entry(t, 0x100000, 0, false, 48, &re), ISH_ERROR_FAULT);
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("root") test_root();
	CASE("context") test_context();
	CASE("pasid") test_pasid();
	CASE("fields") test_fields();
	CASE("readers") test_readers();
	return check_report();
}
