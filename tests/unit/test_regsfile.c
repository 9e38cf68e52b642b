// SPDX-License-Identifier: MIT
/* Register files: debugfs iommu_regset text (v6.1, v6.12, older) and NAME=VALUE. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/regsfile.h>
#include <iommush/vtd/vtd.h>

#include "check.h"
#include "config.h"

#define FIXTURES ISH_SOURCE_ROOT "/tests/fixtures/regs/"

static uint64_t reg(const struct ish_regsfile_unit *u, uint32_t off, unsigned width)
{
	uint64_t v = 0xdeadbeefdeadbeefULL;
	struct ish_error *err = ish_regfile_get(u->regs, off, width, &v);

	if (err) {
		fprintf(stderr, "reg %#x/%u: %s\n", off, width, err->message);
		ish_error_destroy(err);
	}
	return v;
}

static bool captured(const struct ish_regsfile_unit *u, uint32_t off, unsigned width)
{
	uint64_t v;
	struct ish_error *err = ish_regfile_get(u->regs, off, width, &v);
	bool ok = !err;

	ish_error_destroy(err);
	return ok;
}

static struct ish_regsfile *parse(const char *text)
{
	struct ish_regsfile *rf = NULL;

	OK(ish_regsfile_parse(text, strlen(text), "t", &rf));
	return rf;
}

/* The parse must fail with ISH_ERROR_FORMAT and a message starting with want. */
static void parse_fails(const char *text, const char *want)
{
	struct ish_regsfile *rf = NULL;
	struct ish_error *err = ish_regsfile_parse(text, strlen(text), "t", &rf);

	CHECK(err != NULL);
	if (!err) {
		ish_regsfile_destroy(rf);
		return;
	}
	CHECK_EQ(err->code, ISH_ERROR_FORMAT);
	if (strncmp(err->message, want, strlen(want)))
		fprintf(stderr, "message '%s' does not start with '%s'\n", err->message, want);
	CHECK(!strncmp(err->message, want, strlen(want)));
	ish_error_destroy(err);
}

static void test_debugfs_v61(void)
{
	struct ish_regsfile *rf;
	const struct ish_regsfile_unit *u;

	OK(ish_regsfile_load(FIXTURES "debugfs-v6.1.txt", &rf));
	CHECK_EQ(rf->nunits, 2);
	u = &rf->units[0];
	CHECK_STR(u->name, "dmar0");
	CHECK(u->has_base);
	CHECK_EQ(u->reg_base, 0xfed90000);
	CHECK_EQ(reg(u, DMAR_VER_REG, 32), 0x10);
	CHECK_EQ(reg(u, DMAR_CAP_REG, 64), 0x00d2008c22260286ULL);
	/* CAP decoded as the spec says: MGAW field 38 -> 39 bits (QEMU aw-bits=39), FRO 0x22 -> 0x220. */
	CHECK_EQ(cap_mgaw(reg(u, DMAR_CAP_REG, 64)), 39);
	CHECK_EQ(cap_fault_reg_offset(reg(u, DMAR_CAP_REG, 64)), 0x220);
	CHECK_EQ(reg(u, DMAR_GSTS_REG, 32), 0xc7000000);
	CHECK(reg(u, DMAR_GSTS_REG, 32) & DMA_GSTS_TES);
	/* 32-bit rows are stored as 32 bits: GCMD and GSTS read together as one qword. */
	CHECK_EQ(reg(u, DMAR_GCMD_REG, 64), 0xc700000000000000ULL);
	CHECK_EQ(reg(u, DMAR_RTADDR_REG, 64), 0x348b000);
	CHECK_EQ(reg(u, DMAR_FEDATA_REG, 32), 0x4021);
	CHECK_EQ(reg(u, DMAR_FEADDR_REG, 32), 0xfee00000);
	CHECK_EQ(reg(u, DMAR_IRTA_REG, 64), 0xf200007);
	CHECK(captured(u, 0x218, 64));	/* MTRR_PHYSMASK9 */
	CHECK(captured(u, 0xe30, 64));	/* VCCAP, listed by v6.1 */
	CHECK(captured(u, 0xe10, 64));	/* VCRSP */
	CHECK(!captured(u, DMAR_IECTL_REG, 32));	/* not in the debugfs list */
	CHECK(!captured(u, 0x220, 64));	/* fault records are not either */
	u = &rf->units[1];
	CHECK_STR(u->name, "dmar1");
	CHECK_EQ(u->reg_base, 0xfed91000);
	CHECK_EQ(reg(u, DMAR_RTADDR_REG, 64), 0x348c000);
	CHECK_EQ(reg(u, DMAR_IQA_REG, 64), 0x3491000);
	ish_regsfile_destroy(rf);
}

static void test_debugfs_v612(void)
{
	struct ish_regsfile *rf;

	OK(ish_regsfile_load(FIXTURES "debugfs-v6.12.txt", &rf));
	CHECK_EQ(rf->nunits, 1);
	CHECK_STR(rf->units[0].name, "dmar0");
	CHECK_EQ(reg(&rf->units[0], DMAR_ECAP_REG, 64), 0xf00f1a);
	CHECK(!captured(&rf->units[0], 0xe30, 64));
	CHECK(captured(&rf->units[0], 0x170, 64));	/* MTRR_FIX4K_F8000 */
	ish_regsfile_destroy(rf);
}

static void test_debugfs_old(void)
{
	/* Before the 32/64 split every row was a readq: GCMD's upper half is GSTS. */
	struct ish_regsfile *rf = parse("DMAR: dmar3: Register Base Address fed91000\n"
					"Name\t\t\tOffset\t\tContents\n"
					"GCMD            \t0x18\t\t0xc700000000000000\n"
					"GSTS            \t0x1c\t\t0x00000000c7000000\n"
					"\n"
					"\nDMAR: dmar4: reg_base_addr fed92000\n"
					"Name\t\t\tOffset\t\tContents\n"
					"CAP     \t\t0x08\t\t0x00d2008c22260286\n"
					"XYZ     \t\t0x3f0\t\t0x0000000100000002\n"
					"XYZW     \t\t0x3fc\t\t0x0000000000000003\n");

	CHECK_EQ(rf->nunits, 2);
	CHECK_STR(rf->units[0].name, "dmar3");
	CHECK_EQ(rf->units[0].reg_base, 0xfed91000);
	CHECK_EQ(reg(&rf->units[0], DMAR_GCMD_REG, 32), 0);
	CHECK_EQ(reg(&rf->units[0], DMAR_GSTS_REG, 32), 0xc7000000);
	CHECK_STR(rf->units[1].name, "dmar4");
	CHECK_EQ(rf->units[1].reg_base, 0xfed92000);
	CHECK_EQ(reg(&rf->units[1], DMAR_CAP_REG, 64), 0x00d2008c22260286ULL);
	/* unknown names: 8-aligned offsets are 64-bit, others 32-bit */
	CHECK_EQ(reg(&rf->units[1], 0x3f0, 64), 0x100000002ULL);
	CHECK_EQ(reg(&rf->units[1], 0x3fc, 32), 3);
	CHECK(!captured(&rf->units[1], 0x400, 32));
	ish_regsfile_destroy(rf);
}

static void test_assignments(void)
{
	struct ish_regsfile *rf;
	const struct ish_regsfile_unit *u;

	OK(ish_regsfile_load(FIXTURES "q35-two-units.regs", &rf));
	CHECK_EQ(rf->nunits, 2);
	u = &rf->units[0];
	CHECK_STR(u->name, "dmar0");
	CHECK_EQ(u->reg_base, 0xfed90000);
	CHECK_EQ(reg(u, DMAR_VER_REG, 32), 0x10);
	CHECK_EQ(reg(u, DMAR_GSTS_REG, 32), 0xc7000000);
	CHECK_EQ(reg(u, DMAR_IQA_REG, 64), 0x3490000);
	CHECK_EQ(reg(u, 0x220, 64), 0x8000000500000000ULL);
	CHECK_EQ(reg(u, 0x228, 64), 0x8000000200000010ULL);
	CHECK(!captured(u, DMAR_GCMD_REG, 32));
	u = &rf->units[1];
	CHECK_STR(u->name, "dmar1");
	CHECK_EQ(u->reg_base, 0xfed91000);
	CHECK_EQ(reg(u, DMAR_VER_REG, 32), 0x10);
	CHECK_EQ(reg(u, DMAR_RTADDR_REG, 64), 0);
	ish_regsfile_destroy(rf);

	/* no section: one unnamed unit without a base; 0xOFF defaults to 32 bits */
	rf = parse("GSTS=0x80000000\r\n0x20 = 4096\r\n0x28:64=0x1\nIQER = 7");
	CHECK_EQ(rf->nunits, 1);
	CHECK_STR(rf->units[0].name, "");
	CHECK(!rf->units[0].has_base);
	CHECK_EQ(reg(&rf->units[0], DMAR_GSTS_REG, 32), 0x80000000);
	CHECK_EQ(reg(&rf->units[0], 0x20, 32), 4096);
	CHECK(!captured(&rf->units[0], 0x20, 64));
	CHECK_EQ(reg(&rf->units[0], 0x28, 64), 1);
	CHECK_EQ(reg(&rf->units[0], 0xb0, 64), 7);	/* IQER, the regs table's alias */
	ish_regsfile_destroy(rf);

	/* naming a unit again continues it; [@ base] makes an unnamed unit */
	rf = parse("[a]\nVER=1\n[b @ 0x1000]\nVER=2\n[a]\nGSTS=3\n[@ 0x2000]\nVER=4\n[b]\nCAP=5\n");
	CHECK_EQ(rf->nunits, 3);
	CHECK_STR(rf->units[0].name, "a");
	CHECK(!rf->units[0].has_base);
	CHECK_EQ(reg(&rf->units[0], DMAR_VER_REG, 32), 1);
	CHECK_EQ(reg(&rf->units[0], DMAR_GSTS_REG, 32), 3);
	CHECK_EQ(reg(&rf->units[1], DMAR_CAP_REG, 64), 5);
	CHECK_STR(rf->units[2].name, "");
	CHECK_EQ(rf->units[2].reg_base, 0x2000);
	ish_regsfile_destroy(rf);

	rf = parse("# only comments\n\n   \t\n");
	CHECK_EQ(rf->nunits, 0);
	ish_regsfile_destroy(rf);
}

/* FRCDn at CAP.FRO*16 + 16n, IVA/IOTLB at ECAP.IRO*16 (10.4.14-15, 10.4.8): placed after the file. */
static void test_relative(void)
{
	struct ish_regsfile *rf;
	/* FRO = 0x22 (0x220), NFR = 2 (three records); IRO = 0x20 (0x200) */
	const char *caps = "CAP = 0x20022000000\nECAP = 0x2000\n";
	char text[512];

	/* before CAP/ECAP and after them, in a unit continued later */
	snprintf(text, sizeof(text), "[dmar0]\nFRCD2_HI = 0x8000000000000010\nIOTLB = 1\n[x]\n"
		 "VER=1\n[dmar0]\n%sIVA:64 = 0x1000\nfrcd0_lo = 0x5000\n", caps);
	rf = parse(text);
	CHECK_EQ(reg(&rf->units[0], 0x220 + 32 + 8, 64), 0x8000000000000010ULL);
	CHECK_EQ(reg(&rf->units[0], 0x200 + 8, 64), 1);
	CHECK_EQ(reg(&rf->units[0], 0x200, 64), 0x1000);
	CHECK_EQ(reg(&rf->units[0], 0x220, 64), 0x5000);
	CHECK(!captured(&rf->units[1], 0x208, 64));
	ish_regsfile_destroy(rf);

	parse_fails("IVA = 1\n", "t:1: IVA: its offset is ECAP.IRO*16: give ECAP in the same unit");
	parse_fails("[a]\nECAP = 0x2000\nFRCD0_HI = 1\n[b]\nCAP = 0x20022000000\n",
		    "t:3: FRCD0_HI: its offset is CAP.FRO*16: give CAP in the same unit");
	snprintf(text, sizeof(text), "%sFRCD3_LO = 1\n", caps);
	parse_fails(text, "t:3: FRCD3_LO: fault record 3 does not exist: CAP.NFR says 3 records");
	parse_fails("IOTLB:32 = 1\n", "t:1: register IOTLB is 64 bits wide, not 32");
	/* the largest FRO, NFR and IRO the fields can hold still fit the block */
	rf = parse("CAP = 0xff03ff000000\nECAP = 0x3ff00\nFRCD255_HI = 7\nIOTLB = 9\n");
	CHECK_EQ(reg(&rf->units[0], 0x3ff0 + 16 * 255 + 8, 64), 7);
	CHECK_EQ(reg(&rf->units[0], 0x3ff0 + 8, 64), 9);
	ish_regsfile_destroy(rf);
}

static void test_errors(void)
{
	struct ish_regsfile *rf;
	struct ish_error *err;
	char *big;

	parse_fails("VER=1\n\nFOO=1\n", "t:3: unknown register 'FOO'");
	parse_fails("GSTS=0x100000000\n", "t:1: value 0x100000000 does not fit in 32 bits");
	parse_fails("0x20:12=1\n", "t:1: bad width");
	parse_fails("0x10000=1\n", "t:1: bad register offset");
	parse_fails("CAP:32=1\n", "t:1: register CAP is 64 bits wide, not 32");
	parse_fails("0x1e:32=1\n", "t:1: register offset 0x1e is not aligned");
	parse_fails("VER=-1\n", "t:1: bad value");
	parse_fails("VER=\n", "t:1: bad value");
	parse_fails("=5\n", "t:1: missing register name");
	parse_fails("VER=0x1 junk\n", "t:1: bad value");
	parse_fails("[dmar0 @ 0xfed90000\n", "t:1: section header without ']'");
	parse_fails("[]\n", "t:1: empty section");
	parse_fails("[a very long unit name]\n", "t:1: bad unit name");
	parse_fails("[x @ zz]\n", "t:1: bad register base address");
	parse_fails("[d @ 1]\n[d @ 2]\n", "t:2: unit d was given base 0x1 before");
	parse_fails("IOMMU: Invalid base address\n", "t:1: the kernel reported");
	parse_fails("IOMMU: dmar0 Register Base Address: xyz\n", "t:1: bad register base");
	parse_fails("IOMMU: dmar0 something else\n", "t:1: unrecognised unit header");
	parse_fails("GSTS            \t0x20\t\t0x0\n", "t:1: register GSTS is at offset 0x1c");
	parse_fails("hello world\n", "t:1: unrecognised line");
	parse_fails("a 0x10 0x1 extra\n", "t:1: unrecognised line");

	/* a NUL byte, a line too long, too many units */
	err = ish_regsfile_parse("VER=1\n\0\n", 9, "t", &rf);
	CHECK(err && err->code == ISH_ERROR_FORMAT && strstr(err->message, "t:2:"));
	ish_error_destroy(err);
	big = malloc(10000);
	memset(big, 'A', 9999);
	big[9999] = '\0';
	parse_fails(big, "t:1: line longer than");
	{
		size_t n = 0;

		for (int i = 0; i < 300; i++)
			n += (size_t)snprintf(big + n, 10000 - n, "[u%d]\n", i);
		parse_fails(big, "t:257: more than 256 units");
	}
	free(big);

	err = ish_regsfile_load("/nonexistent/regs", &rf);
	CHECK(err && err->code == ISH_ERROR_OS);
	ish_error_destroy(err);
}

/* Random and mutated input must give a result or ISH_ERROR_FORMAT, nothing else. */
static void test_hostile(void)
{
	static const char seed[] = "IOMMU: dmar0 Register Base Address: fed90000\n"
				   "Name\t\t\tOffset\t\tContents\nGSTS\t0x1c\t\t0x0000000080000000\n"
				   "[x @ 0x1]\nCAP:64=0x5\n0x20:64=1\n";
	char buf[256];
	unsigned bad = 0;

	srand(42);
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = sizeof(seed) - 1;
		struct ish_regsfile *rf = NULL;
		struct ish_error *err;

		memcpy(buf, seed, len);
		for (int k = rand() % 8; k >= 0; k--)
			buf[rand() % len] = (char)(rand() % 256);
		if (iter % 3 == 0)
			len = (size_t)rand() % len;
		err = ish_regsfile_parse(buf, len, "fuzz", &rf);
		if (err) {
			bad += err->code != ISH_ERROR_FORMAT;
			ish_error_destroy(err);
		} else {
			ish_regsfile_destroy(rf);
		}
	}
	CHECK_EQ(bad, 0);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("debugfs_v61") test_debugfs_v61();
	CASE("debugfs_v612") test_debugfs_v612();
	CASE("debugfs_old") test_debugfs_old();
	CASE("assignments") test_assignments();
	CASE("relative") test_relative();
	CASE("errors") test_errors();
	CASE("hostile") test_hostile();
	return check_report();
}
