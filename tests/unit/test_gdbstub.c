// SPDX-License-Identifier: MIT
/*
 * The gdbstub backend through ish_target_open("gdb:unix:..."), against the
 * fake stub (tests/gdbstub/fake_stub.h) holding a small guest: low RAM with
 * ACPI tables (RSDP, RSDT, DMAR) as firmware leaves them, a VT-d register
 * block at 0xfed90000 and an ECAM window at 0xb0000000 (both MMIO).
 */
#include <iommush/backend.h>
#include <iommush/target.h>
#include <iommush/vtd/vtd.h>

#include "check.h"
#include "../../backends/rsp.h"
#include "../gdbstub/fake_stub.h"

#define REG_BASE 0xfed90000ULL
#define REG_BASE2 0xfed91000ULL
#define ECAM 0xb0000000ULL
#define RSDP_AT 0xf0000u
#define RSDT_AT 0x10000u
#define DMAR_AT 0x11000u
#define CAP_VALUE 0x00d2008c22260206ULL	/* QEMU 7.2 q35's CAP */
#define ECAP_VALUE 0x0000000000f00f4aULL

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Sets byte at so that the n bytes at p sum to 0 (ACPI checksums). */
static void fix_sum(uint8_t *p, size_t n, size_t at)
{
	uint8_t s = 0;

	p[at] = 0;
	for (size_t i = 0; i < n; i++)
		s += p[i];
	p[at] = (uint8_t)-s;
}

/* A 36-byte ACPI table header (ACPI 6.5 5.2.6); the checksum is fixed later. */
static void sdt_header(uint8_t *p, const char *sig, uint32_t len)
{
	memcpy(p, sig, 4);
	put32(p + 4, len);
	p[8] = 1;
	memcpy(p + 10, "ISHTST", 6);
	memcpy(p + 16, "FAKESTUB", 8);
}

/*
 * A guest with ndrhd DRHDs (bases REG_BASE, REG_BASE2). acpi = false leaves
 * low memory empty, as before the firmware ran.
 */
static uint8_t *guest(struct fake_stub *f, bool acpi, unsigned ndrhd, uint8_t **regs)
{
	uint8_t *low, *ecam;

	fake_init(f);
	low = fake_add_region(f, 0, 0x100000, false);
	*regs = fake_add_region(f, REG_BASE, 0x2000, true);
	ecam = fake_add_region(f, ECAM, 0x2000, true);
	put32(*regs + DMAR_VER_REG, 0x10);
	put64(*regs + DMAR_CAP_REG, CAP_VALUE);
	put64(*regs + DMAR_ECAP_REG, ECAP_VALUE);
	put32(*regs + 0x1000 + DMAR_VER_REG, 0x60);
	/* 00:00.0 is QEMU's q35 host bridge: 8086:29c0, class 0x060000. */
	put32(ecam, 0x29c08086);
	put32(ecam + 8, 0x06000002);
	put32(ecam + 0x1000, 0x12345678);	/* 00:00.1, for the bdf arithmetic */
	if (acpi) {
		uint8_t *rsdp = low + RSDP_AT, *rsdt = low + RSDT_AT, *dmar = low + DMAR_AT;
		uint32_t dlen = 48 + 16 * ndrhd;

		memcpy(rsdp, "RSD PTR ", 8);
		memcpy(rsdp + 9, "ISHTST", 6);
		rsdp[15] = 0;	/* ACPI 1.0: RSDT only */
		put32(rsdp + 16, RSDT_AT);
		fix_sum(rsdp, 20, 8);
		sdt_header(rsdt, "RSDT", 40);
		put32(rsdt + 36, DMAR_AT);
		fix_sum(rsdt, 40, 9);
		sdt_header(dmar, "DMAR", dlen);
		dmar[36] = 39 - 1;	/* host address width - 1 */
		dmar[37] = 1;		/* INTR_REMAP */
		for (unsigned i = 0; i < ndrhd; i++) {
			uint8_t *d = dmar + 48 + 16 * i;

			put16(d, 0);	/* DRHD */
			put16(d + 2, 16);
			d[4] = i == ndrhd - 1 ? 1 : 0;	/* the last one: INCLUDE_PCI_ALL */
			put16(d + 6, 0);
			put64(d + 8, i ? REG_BASE2 : REG_BASE);
		}
		fix_sum(dmar, dlen, 9);
	}
	return low;
}

static struct ish_error *open_fake(struct fake_stub *f, const struct ish_param *params,
				   size_t nparams, unsigned flags, struct ish_target **ret)
{
	char spec[160];

	fake_start_unix(f);
	snprintf(spec, sizeof(spec), "gdb:unix:%s", f->path);
	return ish_target_open(spec, NULL, params, nparams, flags, ret);
}

static unsigned m_count(struct fake_stub *f)
{
	unsigned n;

	fake_lock(f);
	n = f->m_count;
	fake_unlock(f);
	return n;
}

static void test_open_and_read(void)
{
	struct fake_stub f;
	struct ish_target *t = NULL;
	const struct ish_unit *u;
	struct ish_target_stats st;
	uint8_t *regs, *low = guest(&f, true, 1, &regs);
	uint8_t page[4096];
	uint64_t v;
	uint32_t cfg;
	size_t dlen = 0;
	unsigned m0;

	OK(open_fake(&f, NULL, 0, 0, &t));
	CHECK_STR(ish_target_backend(t)->name, "gdbstub");
	CHECK(ish_gdbstub_rsp(t) != NULL);
	CHECK_EQ(ish_target_nunits(t), 1);
	u = ish_target_unit(t, 0);
	CHECK_EQ(u->reg_base, REG_BASE);
	CHECK_EQ(u->segment, 0);
	CHECK_EQ(u->drhd_flags, 1);
	CHECK_STR(u->name, "dmar0");
	CHECK(ish_target_dmar(t, &dlen) != NULL);
	CHECK_EQ(dlen, 64);
	CHECK(!memcmp(ish_target_dmar(t, NULL), low + DMAR_AT, 64));

	/* Registers: one access of exactly the register's width. */
	fake_lock(&f);
	f.naccess = 0;
	fake_unlock(&f);
	OK(ish_read_reg(t, 0, DMAR_VER_REG, 32, &v));
	CHECK_EQ(v, 0x10);
	OK(ish_read_reg(t, 0, DMAR_CAP_REG, 64, &v));
	CHECK_EQ(v, CAP_VALUE);
	CHECK_EQ(cap_fault_reg_offset(v), 0x220);	/* FRO = 0x22, as QEMU says */
	OK(ish_read_reg(t, 0, DMAR_ECAP_REG, 64, &v));
	CHECK_EQ(v, ECAP_VALUE);
	OK(ish_read_reg(t, 0, DMAR_CAP_REG + 4, 32, &v));
	CHECK_EQ(v, CAP_VALUE >> 32);
	fake_lock(&f);
	CHECK_EQ(f.naccess, 4);
	CHECK_EQ(f.access[0].addr, REG_BASE);
	CHECK_EQ(f.access[0].len, 4);
	CHECK_EQ(f.access[1].addr, REG_BASE + 8);
	CHECK_EQ(f.access[1].len, 8);
	CHECK_EQ(f.access[2].len, 8);
	CHECK_EQ(f.access[3].addr, REG_BASE + 12);
	CHECK_EQ(f.access[3].len, 4);
	fake_unlock(&f);
	FAILS(ish_read_reg(t, 0, 0x0c, 64, &v), ISH_ERROR_INVALID);

	/* PCI configuration through ECAM, always as whole dwords. */
	fake_lock(&f);
	f.naccess = 0;
	fake_unlock(&f);
	OK(ish_read_config(t, 0, ISH_BDF(0, 0, 0), 0, 16, &cfg));
	CHECK_EQ(cfg, 0x8086);
	OK(ish_read_config(t, 0, ISH_BDF(0, 0, 0), 2, 16, &cfg));
	CHECK_EQ(cfg, 0x29c0);
	OK(ish_read_config(t, 0, ISH_BDF(0, 0, 0), 0, 32, &cfg));
	CHECK_EQ(cfg, 0x29c08086);
	OK(ish_read_config(t, 0, ISH_BDF(0, 0, 0), 0xb, 8, &cfg));
	CHECK_EQ(cfg, 0x06);	/* base class: bridge */
	OK(ish_read_config(t, 0, ISH_BDF(0, 0, 1), 0, 32, &cfg));
	CHECK_EQ(cfg, 0x12345678);
	fake_lock(&f);
	CHECK_EQ(f.naccess, 5);
	for (unsigned i = 0; i < f.naccess && i < 5; i++)
		CHECK_EQ(f.access[i].len, 4);
	CHECK_EQ(f.access[3].addr, ECAM + 8);
	CHECK_EQ(f.access[4].addr, ECAM + 0x1000);
	fake_unlock(&f);
	FAILS(ish_read_config(t, 1, 0, 0, 32, &cfg), ISH_ERROR_NOT_FOUND);
	FAILS(ish_read_config(t, 0, 0, 1, 16, &cfg), ISH_ERROR_INVALID);
	FAILS(ish_read_config(t, 0, 0, 0xffe, 32, &cfg), ISH_ERROR_INVALID);
	FAILS(ish_read_config(t, 0, ISH_BDF(0, 2, 0), 0, 32, &cfg), ISH_ERROR_FAULT);

	/* RAM through the target's cache: a page costs two 'm', then nothing. */
	for (size_t i = 0; i < 4096; i++)
		low[0x20000 + i] = (uint8_t)(i ^ 0xa5);
	m0 = m_count(&f);
	OK(ish_read_phys(t, 0x20010, page, 100));
	CHECK(!memcmp(page, low + 0x20010, 100));
	CHECK_EQ(m_count(&f) - m0, 2);
	OK(ish_read_phys(t, 0x20000, page, 4096));
	CHECK(!memcmp(page, low + 0x20000, 4096));
	CHECK_EQ(m_count(&f) - m0, 2);
	ish_target_stats(t, &st);
	CHECK(st.cache_hits >= 1);

	/* Read-only: nothing reaches the stub. */
	FAILS(ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0), ISH_ERROR_READ_ONLY);
	FAILS(ish_write_phys(t, 0x20000, page, 4), ISH_ERROR_READ_ONLY);
	fake_lock(&f);
	CHECK_EQ(f.M_count, 0);
	fake_unlock(&f);

	ish_target_close(t);
	fake_join(&f);
	/* leave=running (the default): detached, which resumes a QEMU guest. */
	CHECK_EQ(f.detach_count, 1);
	CHECK_STR(f.detach_cmd, "D;1");
}

static void bump_ram(struct fake_stub *f)
{
	f->regions[0].bytes[0x30000]++;
}

static void test_writes_and_resume(void)
{
	struct fake_stub f;
	struct ish_target *t = NULL;
	uint8_t *regs, *low = guest(&f, true, 2, &regs);
	uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, x;
	uint64_t v;

	f.on_resume = bump_ram;
	put32(regs + DMAR_FECTL_REG, 0x80000000);
	/* --force: no ownership reads before the writes, so the accesses counted are the writes. */
	OK(open_fake(&f, NULL, 0, ISH_OPEN_WRITE | ISH_OPEN_FORCE, &t));
	CHECK_EQ(ish_target_nunits(t), 2);
	CHECK_EQ(ish_target_unit(t, 1)->reg_base, REG_BASE2);
	CHECK_EQ(ish_target_unit(t, 1)->drhd_flags, 1);
	OK(ish_read_reg(t, 1, DMAR_VER_REG, 32, &v));
	CHECK_EQ(v, 0x60);

	fake_lock(&f);
	f.naccess = 0;
	fake_unlock(&f);
	OK(ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0));
	OK(ish_read_reg(t, 0, DMAR_FECTL_REG, 32, &v));
	CHECK_EQ(v, 0);
	/* An 8-byte write to a 32-bit register would abort QEMU: refused, unsent. */
	FAILS(ish_write_reg(t, 0, DMAR_FECTL_REG, 64, 0), ISH_ERROR_INVALID);
	OK(ish_write_reg(t, 0, DMAR_RTADDR_REG, 64, 0x123456789000ULL));
	fake_lock(&f);
	CHECK_EQ(f.M_count, 2);
	CHECK_EQ(f.naccess, 3);
	CHECK(f.access[0].write && f.access[0].len == 4 && f.access[0].addr == REG_BASE + 0x38);
	CHECK(f.access[2].write && f.access[2].len == 8 && f.access[2].addr == REG_BASE + 0x20);
	CHECK_EQ(get64(regs + DMAR_RTADDR_REG), 0x123456789000ULL);
	fake_unlock(&f);

	OK(ish_write_phys(t, 0x30008, b, sizeof(b)));
	fake_lock(&f);
	CHECK(!memcmp(low + 0x30008, b, sizeof(b)));
	fake_unlock(&f);

	/* Resume: reads are refused while the guest runs; stop: fresh data, not cache. */
	OK(ish_read_phys(t, 0x30000, &x, 1));
	CHECK_EQ(x, 0);
	OK(ish_target_resume(t));
	FAILS(ish_read_phys(t, 0x30000, &x, 1), ISH_ERROR_INVALID);
	FAILS(ish_read_reg(t, 0, DMAR_VER_REG, 32, &v), ISH_ERROR_INVALID);
	OK(ish_target_stop(t));
	OK(ish_read_phys(t, 0x30000, &x, 1));
	CHECK_EQ(x, 1);
	ish_target_close(t);
	fake_join(&f);
	CHECK_EQ(f.c_count, 1);
	CHECK_EQ(f.interrupts, 1);
	CHECK_EQ(f.detach_count, 1);
}

static void test_regbase(void)
{
	struct fake_stub f;
	struct ish_target *t = NULL;
	uint8_t *regs;
	uint64_t v;
	struct ish_param p[] = { { "gdbstub.regbase", "0xfed91000" } };
	struct ish_param bad[] = { { "gdbstub.regbase", "0xfed90100" } };

	/* No firmware tables at all: the parameter is enough. */
	guest(&f, false, 0, &regs);
	OK(open_fake(&f, p, 1, 0, &t));
	CHECK_EQ(ish_target_nunits(t), 1);
	CHECK_EQ(ish_target_unit(t, 0)->reg_base, REG_BASE2);
	CHECK(ish_target_dmar(t, NULL) == NULL);
	OK(ish_read_reg(t, 0, DMAR_VER_REG, 32, &v));
	CHECK_EQ(v, 0x60);
	ish_target_close(t);
	fake_join(&f);

	guest(&f, false, 0, &regs);
	FAILS(open_fake(&f, bad, 1, 0, &t), ISH_ERROR_INVALID);
	fake_join(&f);
	CHECK_EQ(f.detach_count, 1);
}

static void test_no_dmar(void)
{
	struct fake_stub f;
	struct ish_target *t = NULL;
	struct ish_error *err;
	uint8_t *regs;
	struct ish_param stay[] = { { "gdbstub.leave", "stopped" } };

	guest(&f, false, 0, &regs);
	err = open_fake(&f, NULL, 0, 0, &t);
	CHECK(err && err->code == ISH_ERROR_NOT_FOUND && strstr(err->message, "gdbstub.regbase"));
	ish_error_destroy(err);
	fake_join(&f);
	/* Even a failed open leaves the guest as told: running by default. */
	CHECK_EQ(f.detach_count, 1);

	guest(&f, false, 0, &regs);
	FAILS(open_fake(&f, stay, 1, 0, &t), ISH_ERROR_NOT_FOUND);
	fake_join(&f);
	CHECK_EQ(f.detach_count, 0);
	CHECK_EQ(f.c_count, 0);

	/* A DMAR whose checksum is wrong and whose length lies. */
	{
		uint8_t *low = guest(&f, true, 1, &regs);

		put32(low + DMAR_AT + 4, 0x7fffffff);
		err = open_fake(&f, NULL, 0, 0, &t);
		CHECK(err != NULL);
		ish_error_destroy(err);
		fake_join(&f);
	}
	/* A DMAR whose DRHD length runs past the table. */
	{
		uint8_t *low = guest(&f, true, 1, &regs);

		put16(low + DMAR_AT + 48 + 2, 200);
		fix_sum(low + DMAR_AT, 64, 9);
		err = open_fake(&f, NULL, 0, 0, &t);
		CHECK(err && err->code == ISH_ERROR_FORMAT);
		ish_error_destroy(err);
		fake_join(&f);
	}
}

static void test_leave(void)
{
	static const struct {
		const char *leave;
		bool running_before;
		unsigned detaches;
	} cases[] = {
		{ "running", false, 1 },
		{ "stopped", true, 0 },
		{ "auto", true, 1 },
		{ "auto", false, 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_stub f;
		struct ish_target *t = NULL;
		struct ish_param p[] = { { "gdbstub.leave", cases[i].leave } };
		uint8_t *regs;

		guest(&f, true, 1, &regs);
		f.stop_on_connect = cases[i].running_before;
		OK(open_fake(&f, p, 1, 0, &t));
		CHECK_EQ(ish_rsp_stopped_on_connect(ish_gdbstub_rsp(t)), cases[i].running_before);
		ish_target_close(t);
		fake_join(&f);
		CHECK_EQ(f.detach_count, cases[i].detaches);
	}
}

static void test_params_and_failures(void)
{
	struct fake_stub f;
	struct ish_target *t = NULL;
	struct ish_error *err;
	uint8_t *regs;
	struct ish_param badleave[] = { { "gdbstub.leave", "sometimes" } };
	struct ish_param badtime[] = { { "gdbstub.timeout", "soon" } };
	struct ish_param negtime[] = { { "gdbstub.timeout", "-1" } };
	struct ish_param fast[] = { { "gdbstub.timeout", "0.2" } };
	struct ish_param unknown[] = { { "gdbstub.speed", "11" } };

	guest(&f, true, 1, &regs);
	FAILS(open_fake(&f, badleave, 1, 0, &t), ISH_ERROR_INVALID);
	fake_join(&f);
	guest(&f, true, 1, &regs);
	FAILS(open_fake(&f, badtime, 1, 0, &t), ISH_ERROR_INVALID);
	fake_join(&f);
	guest(&f, true, 1, &regs);
	FAILS(open_fake(&f, negtime, 1, 0, &t), ISH_ERROR_INVALID);
	fake_join(&f);
	guest(&f, true, 1, &regs);
	FAILS(open_fake(&f, unknown, 1, 0, &t), ISH_ERROR_INVALID);
	fake_join(&f);

	/* A stub that never answers: the open gives up after gdbstub.timeout. */
	guest(&f, true, 1, &regs);
	f.stall_on = "qSupported";
	FAILS(open_fake(&f, fast, 1, 0, &t), ISH_ERROR_TIMEOUT);
	fake_join(&f);

	/* Not QEMU (or too old): no physical memory mode. */
	guest(&f, true, 1, &regs);
	f.no_phys = true;
	err = open_fake(&f, NULL, 0, 0, &t);
	CHECK(err && err->code == ISH_ERROR_UNSUPPORTED);
	ish_error_destroy(err);
	fake_join(&f);
	CHECK_EQ(f.detach_count, 1);

	/* Nobody listening. */
	FAILS(ish_target_open("gdb:unix:/nonexistent/ish.sock", NULL, NULL, 0, 0, &t),
	      ISH_ERROR_OS);
	/* The stub dies after the open: reads fail, close does not hang. */
	guest(&f, true, 1, &regs);
	f.close_on = "m50000,";
	OK(open_fake(&f, NULL, 0, 0, &t));
	{
		uint8_t b[8];

		FAILS(ish_read_phys(t, 0x200000, b, 8), ISH_ERROR_FAULT);	/* E14 */
		FAILS(ish_read_phys(t, 0x50000, b, 8), ISH_ERROR_PROTOCOL);	/* closed */
		FAILS(ish_read_phys(t, 0x60000, b, 8), ISH_ERROR_PROTOCOL);	/* lost */
	}
	ish_target_close(t);
	fake_join(&f);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("open_and_read") test_open_and_read();
	CASE("writes_and_resume") test_writes_and_resume();
	CASE("regbase") test_regbase();
	CASE("no_dmar") test_no_dmar();
	CASE("leave") test_leave();
	CASE("params_and_failures") test_params_and_failures();
	return check_report();
}
