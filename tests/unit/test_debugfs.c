// SPDX-License-Identifier: MIT
/*
 * The debugfs backend on hand-made debugfs trees written from the format
 * strings of Linux drivers/iommu/intel/debugfs.c (v6.1: one
 * domain_translation_struct, PTE columns always printed; v6.12: per-device
 * and per-PASID files, zero PDE/PTE columns dropped). Every entry must land
 * at the address the hardware would read it from, and the decoders must
 * translate through the rebuilt image as they would through memory.
 * Hostile trees must fail cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iommush/backend.h>
#include <iommush/vtd/context.h>
#include <iommush/debugfs.h>
#include <iommush/target.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

#include "check.h"

static char tmpl[] = "/tmp/ish-debugfs-XXXXXX";
static const char *base;

/* Writes text to base/dir/rel, making directories. */
static void wfile(const char *dir, const char *rel, const char *text)
{
	char path[512], *slash;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", base, dir, rel);
	for (slash = path + strlen(base) + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		mkdir(path, 0755);
		*slash = '/';
	}
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

static struct ish_error *open_dir(const char *dir, struct ish_target **t)
{
	char path[512];
	struct ish_param p[] = { { "debugfs.root", path }, { "acpi.dmar", "" } };

	snprintf(path, sizeof(path), "%s/%s", base, dir);
	return ish_target_open("debugfs", NULL, p, 2, 0, t);
}

static uint64_t q(struct ish_target *t, uint64_t addr)
{
	uint64_t v = 0xdeadbeef;
	struct ish_error *err = ish_read_u64(t, addr, &v);

	if (err) {
		fprintf(stderr, "read %#" PRIx64 ": %s\n", addr, err->message);
		ish_error_destroy(err);
	}
	return v;
}

static uint64_t xlate(struct ish_target *t, uint16_t bdf, uint32_t pasid, uint64_t iova)
{
	struct ish_translation tr;
	struct ish_error *err = ish_translate(t, 0, bdf, pasid, iova, 0, &tr);

	if (err) {
		fprintf(stderr, "translate %#" PRIx64 ": %s\n", iova, err->message);
		ish_error_destroy(err);
		return ~0ULL;
	}
	if (tr.faulted && getenv("VERBOSE"))
		fprintf(stderr, "translate %#" PRIx64 ": fault %u step %d\n", iova, tr.reason,
			tr.fault_step);
	return tr.faulted ? ~1ULL : tr.hpa;
}

static const char regset_legacy[] =
	"IOMMU: dmar0 Register Base Address: fed90000\n"
	"Name\t\t\tOffset\t\tContents\n"
	"VER             \t0x00\t\t0x0000000000000010\n"
	"GSTS            \t0x1c\t\t0x00000000c7000000\n"
	"CAP             \t0x08\t\t0x00d2008c40660462\n"
	"ECAP            \t0x10\t\t0x0000000000f00f1a\n"
	"RTADDR          \t0x20\t\t0x0000000001234000\n"
	"IQH             \t0x80\t\t0x0000000000000020\n"
	"IQT             \t0x88\t\t0x0000000000000020\n"
	"IQA             \t0x90\t\t0x0000000001240000\n"
	"IRTA            \t0xb8\t\t0x000000000125000f\n"
	"\n";

static const char dmar_legacy[] =
	"IOMMU dmar0: Root Table Address: 0x1234000\n"
	"B.D.F\tRoot_entry\t\t\t\tContext_entry\t\t\t\tPASID\tPASID_table_entry\n"
	"00:02.0\t0x0000000000000000:0x0000000001235001\t0x0000000000000102:0x0000000001236001\t"
	"-1    \t0x0000000000000000:0x0000000000000000:0x0000000000000000\n"
	"00:03.0\t0x0000000000000000:0x0000000001235001\t0x0000000000000102:0x0000000001236001\t"
	"-1    \t0x0000000000000000:0x0000000000000000:0x0000000000000000\n"
	"\n";

/* v6.1: every column, zero below a superpage. */
static const char domain_v61[] =
	"Device 0000:00:02.0 @0x1236000\n"
	"IOVA_PFN\t\tPML5E\t\t\tPML4E\t\t\tPDPE\t\t\tPDE\t\t\tPTE\n"
	"0x00000000fffff |\t0x0000000000000000\t0x0000000001237003\t0x0000000001238003\t"
	"0x0000000001239003\t0x0000000002345003\n"
	"0x0000000000200 |\t0x0000000000000000\t0x0000000001237003\t0x000000000123a003\t"
	"0x0000000003400083\t0x0000000000000000\n"
	"\n";

static const char irt_legacy[] =
	"Remapped Interrupt supported on IOMMU: dmar0\n"
	" IR table address:1250000\n"
	" Entry SrcID   DstID    Vct IRTE_high\t\tIRTE_low\n"
	" 0     00:02.0 00000000 22  0000000000040010\t0000000000220001\n"
	" 5     00:03.0 00000001 23  0000000000040018\t0000000100230001\n"
	"\n"
	"****\n"
	"\n";

static const char iq_legacy[] =
	"Invalidation queue on IOMMU: dmar0\n"
	" Base: 0x1240000\tHead: 2\tTail: 2\n"
	"Index\t\tqw0\t\t\tqw1\t\t\tstatus\n"
	"    0\t0000000000000005\t0000000000000000\t0000000000000001\n"
	"    1\t0000000000010072\t0000000001240f00\t0000000000000001\n"
	"\n";

static void test_legacy(void)
{
	struct ish_debugfs_stats st;
	struct ish_target *t;
	struct ish_error *err;
	uint64_t v;
	uint8_t b[16];

	wfile("legacy", "iommu_regset", regset_legacy);
	wfile("legacy", "dmar_translation_struct", dmar_legacy);
	wfile("legacy", "domain_translation_struct", domain_v61);
	wfile("legacy", "ir_translation_struct", irt_legacy);
	wfile("legacy", "invalidation_queue", iq_legacy);
	wfile("legacy", "dmar_perf_latency", "IOMMU: dmar0 Register Base Address: fed90000\n");
	OK(open_dir("legacy", &t));
	CHECK_STR(ish_target_backend(t)->name, "debugfs");
	CHECK_EQ(ish_target_nunits(t), 1);
	CHECK_STR(ish_target_unit(t, 0)->name, "dmar0");
	CHECK_EQ(ish_target_unit(t, 0)->reg_base, 0xfed90000);
	OK(ish_read_reg(t, 0, DMAR_GSTS_REG, 32, &v));
	CHECK_EQ(v, 0xc7000000);
	OK(ish_read_reg(t, 0, DMAR_RTADDR_REG, 64, &v));
	CHECK_EQ(v, 0x1234000);
	/* Fault records are not in iommu_regset. */
	err = ish_read_reg(t, 0, 64 * 16, 64, &v);
	CHECK(err && err->code == ISH_ERROR_NOT_FOUND && strstr(err->message, "not visible through debugfs"));
	ish_error_destroy(err);

	/* Root entry of bus 0: lo at +0, hi at +8 (printed hi:lo). */
	CHECK_EQ(q(t, 0x1234000), 0x1235001);
	CHECK_EQ(q(t, 0x1234008), 0);
	/* Legacy context entries at CTP + devfn * 16. */
	CHECK_EQ(q(t, 0x1235000 + 0x10 * 16), 0x1236001);
	CHECK_EQ(q(t, 0x1235000 + 0x10 * 16 + 8), 0x102);
	CHECK_EQ(q(t, 0x1235000 + 0x18 * 16), 0x1236001);
	/* An entry debugfs did not print reads as not present. */
	CHECK_EQ(q(t, 0x1235000 + 0x20 * 16), 0);
	CHECK_EQ(q(t, 0x1234000 + 16), 0);
	/* Page tables: pfn 0xfffff, indices 0/3/511/511. */
	CHECK_EQ(q(t, 0x1236000), 0x1237003);
	CHECK_EQ(q(t, 0x1237000 + 3 * 8), 0x1238003);
	CHECK_EQ(q(t, 0x1238000 + 511 * 8), 0x1239003);
	CHECK_EQ(q(t, 0x1239000 + 511 * 8), 0x2345003);
	CHECK_EQ(q(t, 0x1237000), 0x123a003);
	CHECK_EQ(q(t, 0x123a000 + 8), 0x3400083);
	/* The decoders walk it. */
	CHECK_EQ(xlate(t, ISH_BDF(0, 2, 0), ISH_PASID_NONE, 0xfffff123), 0x2345123);
	CHECK_EQ(xlate(t, ISH_BDF(0, 3, 0), ISH_PASID_NONE, 0x201234), 0x3401234);
	CHECK_EQ(xlate(t, ISH_BDF(0, 2, 0), ISH_PASID_NONE, 0x5000), ~1ULL);
	CHECK_EQ(xlate(t, ISH_BDF(0, 4, 0), ISH_PASID_NONE, 0x5000), ~1ULL);
	/* IRTEs at IRTA + index * 16, low first; the whole 64K-entry table is known. */
	CHECK_EQ(q(t, 0x1250000), 0x220001);
	CHECK_EQ(q(t, 0x1250008), 0x40010);
	CHECK_EQ(q(t, 0x1250000 + 5 * 16), 0x100230001);
	CHECK_EQ(q(t, 0x1250000 + 5 * 16 + 8), 0x40018);
	CHECK_EQ(q(t, 0x1250000 + 65535 * 16), 0);
	/* 128-bit descriptors at IQA + index * 16. */
	CHECK_EQ(q(t, 0x1240000), 5);
	CHECK_EQ(q(t, 0x1240010), 0x10072);
	CHECK_EQ(q(t, 0x1240018), 0x1240f00);
	CHECK_EQ(q(t, 0x1240020), 0);
	/* Anything else is not visible, and says so. */
	err = ish_read_phys(t, 0x100000, b, 8);
	CHECK(err && err->code == ISH_ERROR_FAULT && strstr(err->message, "not visible through debugfs"));
	ish_error_destroy(err);
	err = ish_read_phys(t, 0x1250000 + 0x100000 - 8, b, 16);	/* runs off the IRT */
	CHECK(err && err->code == ISH_ERROR_FAULT && err->address == 0x1350000);
	ish_error_destroy(err);
	OK(ish_debugfs_stats(t, &st));
	CHECK_EQ(st.files, 5);
	CHECK_EQ(st.root_entries, 1);
	CHECK_EQ(st.context_entries, 2);
	CHECK_EQ(st.pasid_entries, 0);
	CHECK_EQ(st.ptes, 6);
	CHECK_EQ(st.irtes, 2);
	CHECK_EQ(st.iq_descriptors, 2);
	CHECK_EQ(st.conflicts, 0);
	CHECK_EQ(st.synthetic_pages, 0);
	/* root, ctx, 5 PT pages, IRT (256), IQ */
	CHECK_EQ(st.pages, 2 + 5 + 256 + 1);
	/* The same counts through the generic describe hook, as `show stats` prints them. */
	CHECK_EQ(describe_count(t, "files"), st.files);
	CHECK_EQ(describe_count(t, "ptes"), st.ptes);
	CHECK_EQ(describe_count(t, "pages"), st.pages);
	CHECK_EQ(describe_count(t, "skipped_lines"), st.skipped_lines);
	CHECK_EQ(describe_count(t, "no_such_count"), ~(uint64_t)0);
	CHECK(describe_text(t, "choice") == NULL);
	ish_target_close(t);

	/* The same tree as TARGET. */
	{
		char path[512];
		struct ish_param p[] = { { "acpi.dmar", "" } };

		snprintf(path, sizeof(path), "%s/legacy", base);
		OK(ish_target_open(path, NULL, p, 1, 0, &t));
		CHECK_STR(ish_target_backend(t)->name, "debugfs");
		CHECK_EQ(q(t, 0x1239000 + 511 * 8), 0x2345003);
		ish_target_close(t);
	}
}

/* Scalable mode, v6.12 layout. RTADDR.TTM = 01b. */
static const char regset_sm[] =
	"IOMMU: dmar0 Register Base Address: fed90000\n"
	"Name\t\t\tOffset\t\tContents\n"
	"GSTS            \t0x1c\t\t0x00000000c7000000\n"
	"CAP             \t0x08\t\t0x00d2008c40660462\n"
	"ECAP            \t0x10\t\t0x0000490000f00f5e\n"
	"RTADDR          \t0x20\t\t0x0000000002000400\n"
	"IQA             \t0x90\t\t0x0000000002010801\n"
	"\n";

static const char dmar_sm[] =
	"IOMMU dmar0: Root Table Address: 0x2000000\n"
	"B.D.F\tRoot_entry\t\t\t\tContext_entry\t\t\t\tPASID\tPASID_table_entry\n"
	"00:02.0\t0x0000000002004001:0x0000000002001001\t0x0000000000000000:0x0000000002002009\t"
	"0     \t0x0000000000000000:0x0000000000000001:0x0000000002003089\n"
	"00:02.0\t0x0000000002004001:0x0000000002001001\t0x0000000000000000:0x0000000002002009\t"
	"1     \t0x0000000000000000:0x0000000000000002:0x0000000002003089\n"
	"00:02.0\t0x0000000002004001:0x0000000002001001\t0x0000000000000000:0x0000000002002009\t"
	"69    \t0x0000000000000000:0x0000000000000003:0x0000000002003089\n"
	"00:10.2\t0x0000000002004001:0x0000000002001001\t0x0000000000000000:0x0000000002009001\t"
	"0     \t0x0000000000000000:0x0000000000000004:0x0000000002003089\n"
	"\n";

/* v6.12: "with pasid", zero PDE/PTE columns left out. */
static const char domain_v612[] =
	"Device 0000:00:02.0 with pasid 0 @0x2003000\n"
	"IOVA_PFN         \tPML5E             \tPML4E             \tPDPE              \tPDE               \tPTE\n"
	"0x00000000fffff |\t0x0000000000000000\t0x0000000002005003\t0x0000000002006003\t"
	"0x0000000002007003\t0x0000000002345003\n"
	"0x0000000040000 |\t0x0000000000000000\t0x0000000002005003\t0x0000000040000083\n";

static const char iq_sm[] =
	"Invalidation queue on IOMMU: dmar0\n"
	" Base: 0x2010000\tHead: 1\tTail: 1\n"
	"Index\t\tqw0\t\t\tqw1\t\t\tqw2\t\t\tqw3\t\t\tstatus\n"
	"    0\t0000000000000005\t0000000000000000\t0000000000000000\t0000000000000000\t0000000000000001\n"
	"  255\t0000000000000006\t0000000000000007\t0000000000000008\t0000000000000009\t0000000000000000\n";

static void test_scalable(void)
{
	struct ish_debugfs_stats st;
	struct ish_target *t;
	uint64_t pde, pde1, tbl;

	wfile("sm", "iommu_regset", regset_sm);
	wfile("sm", "dmar_translation_struct", dmar_sm);
	wfile("sm", "0000:00:02.0/domain_translation_struct", domain_v612);
	/* A per-PASID file repeating the same table: nothing new, no conflict. */
	wfile("sm", "0000:00:02.0/1/domain_translation_struct", domain_v612);
	wfile("sm", "invalidation_queue", iq_sm);
	OK(open_dir("sm", &t));
	/* Root: lower CTP at +0, upper at +8. */
	CHECK_EQ(q(t, 0x2000000), 0x2001001);
	CHECK_EQ(q(t, 0x2000008), 0x2004001);
	/* Scalable context entries are 256 bits: lower table + devfn * 32. */
	CHECK_EQ(q(t, 0x2001000 + 0x10 * 32), 0x2002009);
	CHECK_EQ(q(t, 0x2001000 + 0x10 * 32 + 16), 0);
	/* devfn 0x82 lives in the upper table, slot 2. */
	CHECK_EQ(q(t, 0x2004000 + 2 * 32), 0x2009001);
	/* PASID directory entries point at synthetic tables in the MSI window. */
	pde = q(t, 0x2002000);
	CHECK_EQ(pde & 0xfff, 1);
	tbl = pde & VTD_PAGE_MASK;
	CHECK(tbl >= ISH_DEBUGFS_SYNTH_BASE && tbl < ISH_DEBUGFS_SYNTH_BASE + 0x100000);
	CHECK_EQ(q(t, tbl), 0x2003089);
	CHECK_EQ(q(t, tbl + 8), 1);
	CHECK_EQ(q(t, tbl + 64 + 8), 2);
	CHECK_EQ(q(t, tbl + 64 * 63), 0);
	/* PASID 69 = directory entry 1, slot 5. */
	pde1 = q(t, 0x2002008);
	CHECK(pde1 & 1);
	CHECK((pde1 & VTD_PAGE_MASK) != tbl);
	CHECK_EQ(q(t, (pde1 & VTD_PAGE_MASK) + 5 * 64 + 8), 3);
	/* Page tables, including the 1 GiB leaf with its zero columns left out. */
	CHECK_EQ(q(t, 0x2003000), 0x2005003);
	CHECK_EQ(q(t, 0x2005000 + 3 * 8), 0x2006003);
	CHECK_EQ(q(t, 0x2005000 + 1 * 8), 0x40000083);
	CHECK_EQ(xlate(t, ISH_BDF(0, 2, 0), ISH_PASID_NONE, 0xfffff00c), 0x234500c);
	CHECK_EQ(xlate(t, ISH_BDF(0, 2, 0), ISH_PASID_NONE, 0x40005678), 0x40005678);
	CHECK_EQ(xlate(t, ISH_BDF(0, 2, 0), 1, 0x40005678), 0x40005678);
	CHECK_EQ(xlate(t, ISH_BDF(0, 0x10, 2), ISH_PASID_NONE, 0xfffff000), 0x2345000);
	/* 256-bit descriptors at IQA + index * 32. */
	CHECK_EQ(q(t, 0x2010000), 5);
	CHECK_EQ(q(t, 0x2010000 + 255 * 32), 6);
	CHECK_EQ(q(t, 0x2010000 + 255 * 32 + 24), 9);
	OK(ish_debugfs_stats(t, &st));
	CHECK_EQ(st.files, 5);
	CHECK_EQ(st.context_entries, 2);
	CHECK_EQ(st.pasid_entries, 4);
	CHECK_EQ(st.synthetic_pages, 2 + 1);
	CHECK_EQ(st.ptes, 5);
	CHECK_EQ(st.iq_descriptors, 2);
	CHECK_EQ(st.conflicts, 0);
	ish_target_close(t);
}

/* Without iommu_regset: units come from the headers, the mode from the PASID column. */
static void test_no_regset(void)
{
	struct ish_target *t;
	struct ish_error *err;
	uint64_t v;

	wfile("noregs", "dmar_translation_struct", dmar_sm);
	OK(open_dir("noregs", &t));
	CHECK_EQ(ish_target_nunits(t), 1);
	CHECK_EQ(q(t, 0x2001000 + 0x10 * 32), 0x2002009);
	err = ish_read_reg(t, 0, DMAR_GSTS_REG, 32, &v);
	CHECK(err && err->code == ISH_ERROR_NOT_FOUND && strstr(err->message, "not visible"));
	ish_error_destroy(err);
	ish_target_close(t);
}

/* The 6.1 and 6.12 domain formats of the same tables give the same image. */
static void test_formats_agree(void)
{
	static const char v61[] =
		"Device 0000:00:02.0 @0x2003000\n"
		"IOVA_PFN\t\tPML5E\t\t\tPML4E\t\t\tPDPE\t\t\tPDE\t\t\tPTE\n"
		"0x00000000fffff |\t0x0000000000000000\t0x0000000002005003\t0x0000000002006003\t"
		"0x0000000002007003\t0x0000000002345003\n"
		"0x0000000040000 |\t0x0000000000000000\t0x0000000002005003\t0x0000000040000083\t"
		"0x0000000000000000\t0x0000000000000000\n\n";
	struct ish_target *a, *b;
	static const uint64_t pages[] = { 0x2003000, 0x2005000, 0x2006000, 0x2007000 };

	wfile("f61", "domain_translation_struct", v61);
	wfile("f612", "devices/0000:00:02.0/domain_translation_struct", domain_v612);
	OK(open_dir("f61", &a));
	OK(open_dir("f612", &b));
	for (size_t i = 0; i < sizeof(pages) / sizeof(*pages); i++) {
		uint8_t x[4096], y[4096];

		OK(ish_read_phys(a, pages[i], x, sizeof(x)));
		OK(ish_read_phys(b, pages[i], y, sizeof(y)));
		CHECK(!memcmp(x, y, sizeof(x)));
	}
	ish_target_close(a);
	ish_target_close(b);
}

/* A tree that must be refused with a format error (or opened), never crash. */
static void hostile(const char *name, const char *file, const char *text, bool must_fail)
{
	struct ish_target *t = NULL;
	struct ish_error *err;

	wfile(name, file, text);
	err = open_dir(name, &t);
	if (must_fail) {
		CHECK(err && (err->code == ISH_ERROR_FORMAT || err->code == ISH_ERROR_LIMIT));
		if (!err)
			fprintf(stderr, "  (%s opened)\n", name);
	}
	ish_error_destroy(err);
	ish_target_close(t);
}

static void test_hostile(void)
{
	struct ish_target *t;
	struct ish_error *err;
	char path[512];
	struct ish_param p[] = { { "debugfs.root", path }, { "acpi.dmar", "" } };

	hostile("h1", "dmar_translation_struct",
		"00:02.0\t0x0:0x1235001\t0x102:0x1236001\n", true);	/* no root header */
	hostile("h2", "dmar_translation_struct",
		"IOMMU dmar0: Root Table Address: 0xfffffffffffff000\n", true);
	hostile("h3", "dmar_translation_struct",
		"IOMMU dmar0: Root Table Address: 0x1234001\n", true);	/* unaligned */
	hostile("h4", "domain_translation_struct",
		"Device x @0x1000\n0x1 |\t0x0\t0x0\t0x0\t0x0\t0x0\n", true);	/* no entries */
	hostile("h5", "domain_translation_struct",
		"0x1 |\t0x0\t0x1003\t0x0\n", true);	/* row before header */
	hostile("h6", "domain_translation_struct",
		"Device x @0x1000\n0xfffffffffffffff |\t0x0\t0x3\t0x3\n", true);
	hostile("h7", "ir_translation_struct",
		"Remapped Interrupt supported on IOMMU: dmar0\n IR table address:1000\n"
		" 70000 00:02.0 00000000 22  0000000000040010\t0000000000220001\n", true);
	hostile("h8", "invalidation_queue",
		"Invalidation queue on IOMMU: dmar0\n Base: 0x1000\tHead: 0\tTail: 0\n"
		"99999\t0000000000000005\t0000000000000000\t0000000000000001\n", true);
	hostile("h9", "dmar_translation_struct",
		"IOMMU dmar0: Root Table Address: 0x1000\n"
		"00:02.0\t0x0:0x2001\t0x0:0x3001\t1048575\t0x0:0x0:0x1\n", true);	/* PASID past PDTS */
	hostile("h10", "dmar_translation_struct",
		"IOMMU a-very-long-unit-name-indeed: Root Table Address: 0x1000\n", true);
	hostile("h11", "domain_translation_struct",
		"Device x @0x1000\n0x1 |\t0x0\t0x0\t0x0\t0x0\t0x0\t0x0\t0x0\t0x0\n", true);
	{
		/* NUL bytes inside a line */
		char bad[] = "IOMMU dmar0: Root Table Address: 0x1000\n00:0\0002.0\n";

		wfile("h12", "x", "");
		snprintf(path, sizeof(path), "%s/h12/dmar_translation_struct", base);
		{
			FILE *f = fopen(path, "w");

			fwrite(bad, 1, sizeof(bad) - 1, f);
			fclose(f);
		}
		snprintf(path, sizeof(path), "%s/h12", base);
		err = ish_target_open("debugfs", NULL, p, 2, 0, &t);
		CHECK(err && err->code == ISH_ERROR_FORMAT);
		ish_error_destroy(err);
	}
	/* A cycle: a PDE pointing back at the top table. The image holds it; walks stop. */
	wfile("cyc", "iommu_regset", regset_legacy);
	wfile("cyc", "dmar_translation_struct", dmar_legacy);
	wfile("cyc", "domain_translation_struct",
	      "Device 0000:00:02.0 @0x1236000\n"
	      "0x0000000000000 |\t0x0\t0x0000000001237003\t0x0000000001236003\t"
	      "0x0000000001236003\t0x0000000001236003\n");
	OK(open_dir("cyc", &t));
	CHECK_EQ(q(t, 0x1237000), 0x1236003);
	{
		struct ish_debugfs_stats st;

		OK(ish_debugfs_stats(t, &st));
		CHECK_EQ(st.conflicts, 2);	/* the row's lower levels contradict the upper */
	}
	/* A fixed-depth walk ends in the loop's page, as the hardware's would. */
	CHECK_EQ(xlate(t, ISH_BDF(0, 2, 0), ISH_PASID_NONE, 0), 0x1236000);
	ish_target_close(t);
	/* Conflicting values for one place: the first is kept and counted. */
	{
		struct ish_debugfs_stats st;

		wfile("conf", "dmar_translation_struct",
		      "IOMMU dmar0: Root Table Address: 0x1000\n"
		      "00:02.0\t0x0:0x2001\t0x0:0x3001\n"
		      "00:03.0\t0x0:0x4001\t0x0:0x3001\n");
		OK(open_dir("conf", &t));
		OK(ish_debugfs_stats(t, &st));
		CHECK_EQ(st.conflicts, 1);
		CHECK_EQ(q(t, 0x1000), 0x2001);
		ish_target_close(t);
	}
	/* Unknown lines are skipped and counted, not fatal. */
	{
		struct ish_debugfs_stats st;

		wfile("skip", "invalidation_queue", "some future line\nand another one here\n");
		OK(open_dir("skip", &t));
		OK(ish_debugfs_stats(t, &st));
		CHECK_EQ(st.skipped_lines, 2);
		ish_target_close(t);
	}
	/* Nothing there. */
	snprintf(path, sizeof(path), "%s/absent", base);
	err = ish_target_open("debugfs", NULL, p, 2, 0, &t);
	CHECK(err && err->code == ISH_ERROR_NOT_FOUND && strstr(err->message, "CONFIG_INTEL_IOMMU_DEBUGFS"));
	ish_error_destroy(err);
	wfile("empty", "unrelated", "x\n");
	snprintf(path, sizeof(path), "%s/empty", base);
	err = ish_target_open("debugfs", NULL, p, 2, 0, &t);
	CHECK(err && err->code == ISH_ERROR_NOT_FOUND);
	ish_error_destroy(err);
}

/* Random lines built from real tokens: every open either works or fails cleanly. */
static void test_fuzz(void)
{
	static const char *const toks[] = {
		"IOMMU", "dmar0:", "Root", "Table", "Address:", "0x1000", "0x2001", "0x0:0x3001",
		"0x1:0x2:0x3", "00:02.0", "-1", "7", "|", "0x0000000000003", "Device", "@0x4000",
		"0xfffffffffffff000", "Base:", "0x5000", "Head:", "0000000000000005", "IR",
		"table", "address:6000", " Entry", "Remapped Interrupt supported on IOMMU: dmar0",
		"Invalidation queue on IOMMU: dmar0", "with", "pasid", "0x1:0x2", "4294967295",
		"99", "0x0000000000007", "zz", "0x", ":",
	};
	unsigned seed = 12345;
	char text[4096];

	for (int iter = 0; iter < 3000; iter++) {
		struct ish_target *t = NULL;
		struct ish_error *err;
		size_t len = 0;
		int lines = 1 + (int)(seed % 8);

		for (int l = 0; l < lines; l++) {
			int ntok = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 7;

			for (int k = 0; k < ntok && len < sizeof(text) - 128; k++) {
				seed = seed * 1103515245 + 12345;
				len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s", k ? "\t" : "",
							toks[(seed >> 16) % (sizeof(toks) / sizeof(*toks))]);
			}
			text[len++] = '\n';
		}
		text[len] = '\0';
		wfile("fuzz", (seed >> 20) & 1 ? "dmar_translation_struct" : "invalidation_queue", text);
		err = open_dir("fuzz", &t);
		if (!err) {
			uint8_t b[64];

			ish_error_destroy(ish_read_phys(t, 0x1000, b, sizeof(b)));
			ish_error_destroy(ish_read_phys(t, 0xfee00000, b, sizeof(b)));
		}
		ish_error_destroy(err);
		ish_target_close(t);
		{
			char p1[512];

			snprintf(p1, sizeof(p1), "%s/fuzz/dmar_translation_struct", base);
			unlink(p1);
			snprintf(p1, sizeof(p1), "%s/fuzz/invalidation_queue", base);
			unlink(p1);
		}
	}
	CHECK(1);
}

int main(int argc, char **argv)
{
	char cmd[600];

	base = mkdtemp(tmpl);
	if (!base) {
		perror("mkdtemp");
		return 1;
	}
	check_init(argc, argv);
	CASE("legacy") test_legacy();
	CASE("scalable") test_scalable();
	CASE("no_regset") test_no_regset();
	CASE("formats_agree") test_formats_agree();
	CASE("hostile") test_hostile();
	CASE("fuzz") test_fuzz();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", base);
	return check_report();
}
