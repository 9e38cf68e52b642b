// SPDX-License-Identifier: MIT
/* The target layer: parameters, units, the cache, write gating. */
#include <iommush/backend.h>
#include <iommush/mem.h>
#include <iommush/target.h>
#include <iommush/vtd/vtd.h>

#include "check.h"

static void test_mem_basics(void)
{
	struct ish_target *t;
	uint8_t buf[16];
	uint64_t v;
	unsigned u;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_ram(t, 0x1000, 0x2000, NULL));
	FAILS(ish_mem_add_ram(t, 0x2000, 0x1000, NULL), ISH_ERROR_INVALID);
	CHECK(ish_mem_put64(t, 0x1ff8, 0x1122334455667788ULL));
	CHECK(!ish_mem_put64(t, 0x2ffc, 1));
	OK(ish_read_u64(t, 0x1ff8, &v));
	CHECK_EQ(v, 0x1122334455667788ULL);
	FAILS(ish_read_phys(t, 0x2ff8, buf, 16), ISH_ERROR_FAULT);
	FAILS(ish_read_phys(t, ~0ULL - 3, buf, 8), ISH_ERROR_FAULT);

	OK(ish_mem_add_unit(t, 0xfed90000, 0, &u));
	CHECK_EQ(u, 0);
	CHECK_EQ(ish_target_nunits(t), 1);
	CHECK_STR(ish_target_unit(t, 0)->name, "dmar0");
	CHECK(ish_target_unit_by_name(t, "dmar0") == ish_target_unit(t, 0));
	CHECK(ish_target_unit_by_name(t, "0") == ish_target_unit(t, 0));
	CHECK(ish_target_unit_by_name(t, "dmar1") == NULL);
	OK(ish_mem_set_reg(t, 0, DMAR_CAP_REG, 64, 0xd2008c40660462ULL));
	OK(ish_read_reg(t, 0, DMAR_CAP_REG, 64, &v));
	CHECK_EQ(v, 0xd2008c40660462ULL);
	OK(ish_read_reg(t, 0, DMAR_CAP_REG + 4, 32, &v));
	CHECK_EQ(v, 0xd2008cULL);
	FAILS(ish_read_reg(t, 0, DMAR_GSTS_REG, 32, &v), ISH_ERROR_NOT_FOUND);
	FAILS(ish_read_reg(t, 0, 0x1a, 32, &v), ISH_ERROR_INVALID);
	FAILS(ish_read_reg(t, 3, 0, 32, &v), ISH_ERROR_NOT_FOUND);

	{
		/* CAP and ECAP are read from the backend once, until a write or a drop. */
		struct ish_target_stats s0, s1;

		ish_target_stats(t, &s0);
		OK(ish_read_reg(t, 0, DMAR_CAP_REG, 64, &v));
		OK(ish_read_reg(t, 0, DMAR_CAP_REG, 64, &v));
		ish_target_stats(t, &s1);
		CHECK_EQ(s1.reg_requests - s0.reg_requests, 0);	/* read once above already */
		OK(ish_mem_set_reg(t, 0, DMAR_CAP_REG, 64, 0x1234));
		OK(ish_read_reg(t, 0, DMAR_CAP_REG, 64, &v));
		CHECK_EQ(v, 0x1234);
		ish_target_stats(t, &s0);
		CHECK_EQ(s0.reg_requests - s1.reg_requests, 1);
		OK(ish_mem_set_reg(t, 0, DMAR_CAP_REG, 64, 0xd2008c40660462ULL));
	}
	ish_target_set_writable(t, false);
	FAILS(ish_write_reg(t, 0, DMAR_GCMD_REG, 32, 0), ISH_ERROR_READ_ONLY);
	FAILS(ish_write_phys(t, 0x1000, buf, 8), ISH_ERROR_READ_ONLY);
	ish_target_set_writable(t, true);
	OK(ish_write_reg(t, 0, DMAR_GCMD_REG, 32, 0x80000000));
	ish_target_close(t);
}

static void test_params(void)
{
	struct ish_param good[] = { { "walk.max_pages", "0x10" } };
	struct ish_param bad[] = { { "nosuch.param", "1" } };
	struct ish_target *t;
	uint64_t v;

	OK(ish_target_open("mem", NULL, good, 1, 0, &t));
	CHECK_STR(ish_target_backend(t)->name, "mem");
	OK(ish_target_param_u64(t, "walk.max_pages", 0, &v));
	CHECK_EQ(v, 16);
	OK(ish_target_param_u64(t, "walk.max_mappings", 0, &v));
	CHECK_EQ(v, 100000000);
	CHECK(ish_target_param(t, "nosuch") == NULL);
	CHECK(!ish_target_writable(t));
	ish_target_close(t);
	FAILS(ish_target_open("mem", NULL, bad, 1, 0, &t), ISH_ERROR_INVALID);
	FAILS(ish_target_open("mem", "nosuch", NULL, 0, 0, &t), ISH_ERROR_NOT_FOUND);
}

static void test_errors(void)
{
	struct ish_error *e = ish_error_errno(2, "open %s", "x");

	CHECK_STR(e->message, "open x: No such file or directory");
	CHECK_EQ(e->code, ISH_ERROR_OS);
	e = ish_error_prefix(e, "dump");
	CHECK_STR(e->message, "dump: open x: No such file or directory");
	ish_error_destroy(e);
	e = ish_error_fault(0x1234, "at %#x", 0x1234);
	CHECK(e->has_address);
	CHECK_EQ(e->address, 0x1234);
	ish_error_destroy(e);
	CHECK_STR(ish_error_code_name(ISH_ERROR_FAULT), "fault");
	ish_error_destroy(&ish_enomem);
	ish_error_destroy(NULL);
}

static void test_record(void)
{
	struct ish_target *t;
	uint64_t *pages, v;
	uint8_t buf[0x1800];
	size_t n;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_ram(t, 0x10000, 0x10000, NULL));
	FAILS(ish_target_record_stop(t, &pages, &n), ISH_ERROR_INVALID);
	OK(ish_read_u64(t, 0x10008, &v));	/* before recording: not remembered */
	OK(ish_target_record_start(t));
	OK(ish_read_u64(t, 0x13ff8, &v));
	OK(ish_read_phys(t, 0x11ff0, buf, sizeof(buf)));	/* spans 0x11000..0x13000 */
	OK(ish_read_u64(t, 0x13000, &v));
	FAILS(ish_read_u64(t, 0x30000, &v), ISH_ERROR_FAULT);	/* failed reads are not pages */
	for (uint64_t a = 0x10000; a < 0x20000; a += 0x1000)	/* grows the set past its first size */
		OK(ish_read_u64(t, a + 0x10, &v));
	OK(ish_target_record_stop(t, &pages, &n));
	CHECK_EQ(n, 16);
	for (size_t i = 0; i < n && i < 16; i++)
		CHECK_EQ(pages[i], 0x10000 + 0x1000 * i);
	free(pages);
	OK(ish_target_record_start(t));
	OK(ish_read_phys(t, 0x11ff0, buf, sizeof(buf)));
	OK(ish_target_record_stop(t, &pages, &n));
	CHECK_EQ(n, 3);
	CHECK_EQ(pages[0], 0x11000);
	CHECK_EQ(pages[2], 0x13000);
	free(pages);
	OK(ish_target_record_start(t));	/* closing while recording frees the set */
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("record") test_record();
	CASE("mem_basics") test_mem_basics();
	CASE("params") test_params();
	CASE("errors") test_errors();
	return check_report();
}
