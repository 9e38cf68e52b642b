// SPDX-License-Identifier: MIT
/*
 * The dump backend and ACPI discovery. ELF cores are built here by hand,
 * byte by byte at the offsets of the ELF-64 format (not with the snapshot
 * writer), so that the reader is checked against an independent writer.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iommush/backend.h>
#include <iommush/acpi.h>
#include <iommush/mem.h>
#include <iommush/target.h>
#include <iommush/vtd/vtd.h>

#include "check.h"
#include "config.h"

#define FIXTURES ISH_SOURCE_ROOT "/tests/fixtures/regs/"

static char tmpdir[64];

static char *tmp_path(const char *name)
{
	static char buf[8][128];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* --- a physical memory image: a few regions of bytes --- */

struct region {
	uint64_t addr;
	size_t size;
	uint8_t *b;
};

struct image {
	struct region r[8];
	int n;
};

static uint8_t *img_add(struct image *im, uint64_t addr, size_t size)
{
	struct region *r = &im->r[im->n++];

	r->addr = addr;
	r->size = size;
	r->b = calloc(1, size);
	return r->b;
}

static void img_free(struct image *im)
{
	for (int i = 0; i < im->n; i++)
		free(im->r[i].b);
	im->n = 0;
}

typedef uint8_t *ptr_fn(void *ctx, uint64_t addr, size_t len);

static uint8_t *img_ptr(void *ctx, uint64_t addr, size_t len)
{
	struct image *im = ctx;

	for (int i = 0; i < im->n; i++)
		if (addr >= im->r[i].addr && addr + len <= im->r[i].addr + im->r[i].size)
			return im->r[i].b + (addr - im->r[i].addr);
	fprintf(stderr, "img_ptr: %#llx not in the image\n", (unsigned long long)addr);
	abort();
}

static uint8_t *mem_ptr(void *ctx, uint64_t addr, size_t len)
{
	uint8_t *p = ish_mem_ptr(ctx, addr, len);

	if (!p)
		abort();
	return p;
}

/* --- ACPI tables, laid out as firmware does --- */

#define RSDP_AT 0xf5a60ULL
#define RSDT_AT 0x7fe1000ULL
#define XSDT_AT 0x7fe1100ULL
#define DMAR_AT 0x7fe2000ULL
#define FACP_AT 0x7fe1800ULL
#define DMAR_LEN (48 + 16 + 16)

static void fix_sum(uint8_t *p, size_t n, size_t at)
{
	uint8_t s = 0;

	p[at] = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	p[at] = (uint8_t)(0x100 - s);
}

static void sdt_header(uint8_t *t, const char *sig, uint32_t len)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = 1;
	memcpy(t + 10, "ISHTST", 6);
	memcpy(t + 16, "TESTTBL ", 8);
	put32(t + 24, 1);
	memcpy(t + 28, "ISH ", 4);
	put32(t + 32, 1);
}

/* A DMAR table with two DRHDs: fed90000 (flags 0), fed91000 (INCLUDE_PCI_ALL). */
static void build_dmar(uint8_t *t)
{
	memset(t, 0, DMAR_LEN);
	sdt_header(t, "DMAR", DMAR_LEN);
	t[36] = 38;		/* host address width - 1 */
	t[37] = 1;		/* INTR_REMAP */
	put16(t + 48, 0);	/* DRHD */
	put16(t + 50, 16);
	t[52] = 0;
	put16(t + 54, 0);
	put64(t + 56, 0xfed90000);
	put16(t + 64, 0);
	put16(t + 66, 16);
	t[68] = 1;
	put16(t + 70, 0);
	put64(t + 72, 0xfed91000);
	fix_sum(t, DMAR_LEN, 9);
}

enum { ACPI_RSDT_ONLY, ACPI_XSDT };

/*
 * RSDP at RSDP_AT, RSDT with a FACP-signature table and the DMAR; with
 * ACPI_XSDT also an XSDT (revision 2) listing the DMAR and the RSDT listing
 * only the FACP, so that finding DMAR proves the XSDT was used.
 */
static void build_acpi(ptr_fn *ptr, void *ctx, int kind)
{
	uint8_t *rsdp = ptr(ctx, RSDP_AT, 36), *rsdt = ptr(ctx, RSDT_AT, 44);
	uint8_t *facp = ptr(ctx, FACP_AT, 36);

	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "ISHTST", 6);
	rsdp[15] = kind == ACPI_XSDT ? 2 : 0;
	put32(rsdp + 16, (uint32_t)RSDT_AT);
	fix_sum(rsdp, 20, 8);
	sdt_header(facp, "FACP", 36);
	fix_sum(facp, 36, 9);
	build_dmar(ptr(ctx, DMAR_AT, DMAR_LEN));
	if (kind == ACPI_XSDT) {
		uint8_t *xsdt = ptr(ctx, XSDT_AT, 52);

		put32(rsdp + 20, 36);
		put64(rsdp + 24, XSDT_AT);
		fix_sum(rsdp, 36, 32);
		sdt_header(rsdt, "RSDT", 40);
		put32(rsdt + 36, (uint32_t)FACP_AT);
		fix_sum(rsdt, 40, 9);
		sdt_header(xsdt, "XSDT", 52);
		put64(xsdt + 36, FACP_AT);
		put64(xsdt + 44, DMAR_AT);
		fix_sum(xsdt, 52, 9);
	} else {
		sdt_header(rsdt, "RSDT", 44);
		put32(rsdt + 36, (uint32_t)FACP_AT);
		put32(rsdt + 40, (uint32_t)DMAR_AT);
		fix_sum(rsdt, 44, 9);
	}
}

/* --- ACPI discovery on a mem target --- */

static struct ish_target *acpi_target(int kind)
{
	struct ish_target *t;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_ram(t, 0, 0x100000, NULL));
	OK(ish_mem_add_ram(t, 0x7fe0000, 0x20000, NULL));
	build_acpi(mem_ptr, t, kind);
	return t;
}

static void expect_dmar(struct ish_target *t)
{
	struct ish_acpi_table tab;
	uint8_t want[DMAR_LEN];

	OK(ish_acpi_find_table(t, "DMAR", &tab));
	build_dmar(want);
	CHECK_EQ(tab.addr, DMAR_AT);
	CHECK_EQ(tab.len, DMAR_LEN);
	CHECK(tab.data && !memcmp(tab.data, want, DMAR_LEN));
	ish_acpi_table_deinit(&tab);
}

static void test_acpi(void)
{
	struct ish_acpi_table tab;
	struct ish_acpi_rsdp rsdp;
	struct ish_target *t;
	uint8_t *p;

	/* ACPI 1.0: RSDT only */
	t = acpi_target(ACPI_RSDT_ONLY);
	OK(ish_acpi_find_rsdp(t, &rsdp));
	CHECK_EQ(rsdp.addr, RSDP_AT);
	CHECK_EQ(rsdp.revision, 0);
	CHECK_STR(rsdp.oem_id, "ISHTST");
	CHECK_EQ(rsdp.rsdt, RSDT_AT);
	CHECK_EQ(rsdp.xsdt, 0);
	expect_dmar(t);
	OK(ish_acpi_find_table(t, "FACP", &tab));
	CHECK_EQ(tab.addr, FACP_AT);
	ish_acpi_table_deinit(&tab);
	FAILS(ish_acpi_find_table(t, "APIC", &tab), ISH_ERROR_NOT_FOUND);
	FAILS(ish_acpi_find_table(t, "DMA", &tab), ISH_ERROR_INVALID);

	/* A broken DMAR checksum: found, refused, and the error says why. */
	p = ish_mem_ptr(t, DMAR_AT, DMAR_LEN);
	p[60] ^= 1;
	FAILS(ish_acpi_find_table(t, "DMAR", &tab), ISH_ERROR_FORMAT);
	p[60] ^= 1;
	/* A lying length: huge, or shorter than the header. */
	put32(p + 4, 0xffffffffu);
	FAILS(ish_acpi_find_table(t, "DMAR", &tab), ISH_ERROR_FORMAT);
	put32(p + 4, 10);
	FAILS(ish_acpi_find_table(t, "DMAR", &tab), ISH_ERROR_FORMAT);
	/* Running past the end of RAM. */
	put32(p + 4, 0x40000);
	FAILS(ish_acpi_find_table(t, "DMAR", &tab), ISH_ERROR_FAULT);
	put32(p + 4, DMAR_LEN);
	expect_dmar(t);

	/* An RSDT entry pointing outside memory, one pointing at the RSDT itself. */
	p = ish_mem_ptr(t, RSDT_AT, 44);
	put32(p + 36, 0xfffff000u);
	put32(p + 40, (uint32_t)RSDT_AT);
	fix_sum(p, 44, 9);
	FAILS(ish_acpi_find_table(t, "DMAR", &tab), ISH_ERROR_NOT_FOUND);
	/* An RSDT whose length claims a million entries past the end of memory. */
	put32(p + 4, 0x400000);
	FAILS(ish_acpi_find_table(t, "DMAR", &tab), ISH_ERROR_FORMAT);
	/* The RSDP checksum broken: no RSDP at all. */
	p = ish_mem_ptr(t, RSDP_AT, 20);
	p[8] ^= 0xff;
	FAILS(ish_acpi_find_rsdp(t, &rsdp), ISH_ERROR_NOT_FOUND);
	FAILS(ish_acpi_find_table(t, "DMAR", &tab), ISH_ERROR_NOT_FOUND);
	ish_target_close(t);

	/* ACPI 2.0: the XSDT is used (the RSDT does not list the DMAR). */
	t = acpi_target(ACPI_XSDT);
	OK(ish_acpi_find_rsdp(t, &rsdp));
	CHECK_EQ(rsdp.revision, 2);
	CHECK_EQ(rsdp.xsdt, XSDT_AT);
	expect_dmar(t);
	/* A broken XSDT falls back to the RSDT, which lacks the DMAR. */
	p = ish_mem_ptr(t, XSDT_AT, 52);
	p[20] ^= 1;
	FAILS(ish_acpi_find_table(t, "DMAR", &tab), ISH_ERROR_NOT_FOUND);
	OK(ish_acpi_find_table(t, "FACP", &tab));
	ish_acpi_table_deinit(&tab);
	p[20] ^= 1;
	/* A bad extended checksum in the RSDP: treated as ACPI 1.0. */
	p = ish_mem_ptr(t, RSDP_AT, 36);
	p[32] ^= 1;
	OK(ish_acpi_find_rsdp(t, &rsdp));
	CHECK_EQ(rsdp.xsdt, 0);
	/* An XSDT entry out of range and a cycle back to the XSDT: no hang, not found. */
	p[32] ^= 1;
	p = ish_mem_ptr(t, XSDT_AT, 52);
	put64(p + 36, 0xffffffffffff0000ULL);
	put64(p + 44, XSDT_AT);
	fix_sum(p, 52, 9);
	FAILS(ish_acpi_find_table(t, "DMAR", &tab), ISH_ERROR_NOT_FOUND);
	ish_target_close(t);

	/* The RSDP in the EBDA; the BIOS area absent from memory. */
	OK(ish_mem_open(&t));
	OK(ish_mem_add_ram(t, 0, 0xa0000, NULL));
	OK(ish_mem_add_ram(t, 0x7fe0000, 0x20000, NULL));
	p = ish_mem_ptr(t, 0x40e, 2);
	put16(p, 0x9fc0);	/* EBDA at 0x9fc00 */
	p = ish_mem_ptr(t, 0x9fc40, 20);
	memcpy(p, "RSD PTR ", 8);
	put32(p + 16, (uint32_t)RSDT_AT);
	fix_sum(p, 20, 8);
	p = ish_mem_ptr(t, RSDT_AT, 40);
	sdt_header(p, "RSDT", 40);
	put32(p + 36, (uint32_t)DMAR_AT);
	fix_sum(p, 40, 9);
	build_dmar(ish_mem_ptr(t, DMAR_AT, DMAR_LEN));
	OK(ish_acpi_find_rsdp(t, &rsdp));
	CHECK_EQ(rsdp.addr, 0x9fc40);
	expect_dmar(t);
	ish_target_close(t);

	/* No memory at all below 1 MiB. */
	OK(ish_mem_open(&t));
	OK(ish_mem_add_ram(t, 0x100000, 0x1000, NULL));
	FAILS(ish_acpi_find_rsdp(t, &rsdp), ISH_ERROR_NOT_FOUND);
	ish_target_close(t);
}

/* --- ELF cores by hand --- */

struct seg {
	uint64_t paddr, memsz, filesz;
	const uint8_t *bytes;	/* filesz bytes */
};

/*
 * An ELF64 core like QEMU's dump-guest-memory: one PT_NOTE with a CORE
 * note, then PT_LOADs with p_paddr = guest physical address, p_vaddr 0.
 */
static void write_core(const char *path, const struct seg *segs, int n)
{
	static const uint8_t note[] = {
		5, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0,	/* namesz 5, descsz 8, NT_PRSTATUS */
		'C', 'O', 'R', 'E', 0, 0, 0, 0,
		1, 2, 3, 4, 5, 6, 7, 8,
	};
	uint8_t eh[64] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 }, ph[56];
	uint64_t off = 64 + 56 * (uint64_t)(n + 1);
	FILE *f = fopen(path, "wb");

	put16(eh + 16, 4);	/* ET_CORE */
	put16(eh + 18, 62);	/* EM_X86_64 */
	put32(eh + 20, 1);
	put64(eh + 32, 64);	/* e_phoff */
	put16(eh + 52, 64);
	put16(eh + 54, 56);
	put16(eh + 56, (uint16_t)(n + 1));
	fwrite(eh, 1, 64, f);
	memset(ph, 0, 56);
	put32(ph, 4);		/* PT_NOTE */
	put64(ph + 8, off);
	put64(ph + 32, sizeof(note));
	fwrite(ph, 1, 56, f);
	off += sizeof(note);
	for (int i = 0; i < n; i++) {
		memset(ph, 0, 56);
		put32(ph, 1);	/* PT_LOAD */
		put32(ph + 4, 7);
		put64(ph + 8, off);
		put64(ph + 24, segs[i].paddr);
		put64(ph + 32, segs[i].filesz);
		put64(ph + 40, segs[i].memsz);
		fwrite(ph, 1, 56, f);
		off += segs[i].filesz;
	}
	fwrite(note, 1, sizeof(note), f);
	for (int i = 0; i < n; i++)
		fwrite(segs[i].bytes, 1, segs[i].filesz, f);
	fclose(f);
}

/* FNV-1a of a file's bytes, and its size: the dump must never change. */
static uint64_t file_sum(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	FILE *f = fopen(path, "rb");
	int c;

	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		h = (h ^ (uint8_t)c) * 0x100000001b3ULL;
	fclose(f);
	return h;
}

static struct ish_target *open_dump(const char *path, const struct ish_param *params, size_t n)
{
	struct ish_target *t = NULL;

	OK(ish_target_open(path, NULL, params, n, 0, &t));
	return t;
}

/* The error of opening path, which must fail with code; its message is returned (static). */
static const char *open_fails(const char *path, const struct ish_param *params, size_t n,
			      enum ish_error_code code)
{
	static char msg[512];
	struct ish_target *t = NULL;
	struct ish_error *err = ish_target_open(path, NULL, params, n, 0, &t);

	msg[0] = '\0';
	CHECK(err != NULL);
	if (!err) {
		ish_target_close(t);
		return msg;
	}
	if (err->code != code)
		fprintf(stderr, "open %s: %s\n", path, err->message);
	CHECK_EQ(err->code, code);
	snprintf(msg, sizeof(msg), "%s", err->message);
	ish_error_destroy(err);
	return msg;
}

static const char *err_msg(struct ish_error *err, enum ish_error_code code)
{
	static char msg[512];

	msg[0] = '\0';
	CHECK(err != NULL);
	if (err) {
		CHECK_EQ(err->code, code);
		snprintf(msg, sizeof(msg), "%s", err->message);
		ish_error_destroy(err);
	}
	return msg;
}

/* A q35-like guest: 1 MiB low RAM with the RSDP, and 128 KiB with the tables. */
static void q35_image(struct image *im)
{
	uint8_t *low = img_add(im, 0, 0x100000), *high = img_add(im, 0x7fe0000, 0x20000);

	for (size_t i = 0; i < 0x1000; i++)
		low[0x5000 + i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < 0x1000; i++)
		high[i] = (uint8_t)(0xff - i);
	build_acpi(img_ptr, im, ACPI_RSDT_ONLY);
}

static void test_qemu_like_core(void)
{
	const char *path = tmp_path("q35.core");
	struct image im = { 0 };
	struct ish_target *t;
	struct seg segs[2];
	size_t dmar_len;
	uint8_t buf[64];
	uint64_t v, sum;

	q35_image(&im);
	for (int i = 0; i < 2; i++)
		segs[i] = (struct seg){ im.r[i].addr, im.r[i].size, im.r[i].size, im.r[i].b };
	write_core(path, segs, 2);
	sum = file_sum(path);

	t = open_dump(path, NULL, 0);
	CHECK_STR(ish_target_backend(t)->name, "dump");
	/* units from the DMAR table found in guest memory */
	CHECK(ish_target_dmar(t, &dmar_len) != NULL);
	CHECK_EQ(dmar_len, DMAR_LEN);
	CHECK_EQ(ish_target_nunits(t), 2);
	CHECK_EQ(ish_target_unit(t, 0)->reg_base, 0xfed90000);
	CHECK_EQ(ish_target_unit(t, 1)->reg_base, 0xfed91000);
	CHECK_EQ(ish_target_unit(t, 1)->drhd_flags, 1);
	CHECK_STR(ish_target_unit(t, 1)->name, "dmar1");
	/* memory, within and across pages */
	OK(ish_read_phys(t, 0x5ff0, buf, 32));
	CHECK_EQ(buf[0], (uint8_t)(0xff0 * 7 + 1));
	CHECK_EQ(buf[16], 0);
	OK(ish_read_phys(t, 0x7fe0000, buf, 8));
	CHECK_EQ(buf[1], 0xfe);
	OK(ish_read_u64(t, RSDP_AT, &v));
	CHECK_EQ(v, 0x2052545020445352ULL);	/* "RSD PTR " */
	/* holes and the end of memory */
	CHECK(strstr(err_msg(ish_read_phys(t, 0x100000, buf, 8), ISH_ERROR_FAULT),
		     "is not in the dump"));
	FAILS(ish_read_phys(t, 0xffffc, buf, 8), ISH_ERROR_FAULT);
	FAILS(ish_read_phys(t, 0x7ffffff, buf, 2), ISH_ERROR_FAULT);
	/* no registers in a plain memory dump */
	CHECK(strstr(err_msg(ish_read_reg(t, 0, DMAR_GSTS_REG, 32, &v), ISH_ERROR_NOT_FOUND),
		     "no registers were captured"));
	/* read-only */
	FAILS(ish_write_phys(t, 0, buf, 1), ISH_ERROR_READ_ONLY);
	ish_target_set_writable(t, true);
	FAILS(ish_write_phys(t, 0, buf, 1), ISH_ERROR_UNSUPPORTED);
	ish_target_close(t);

	/* with a debugfs register file: units named by it, DRHD flags from the DMAR */
	{
		struct ish_param p[] = { { "dump.regs", FIXTURES "debugfs-v6.1.txt" } };

		t = open_dump(path, p, 1);
		CHECK_EQ(ish_target_nunits(t), 2);
		CHECK_STR(ish_target_unit(t, 1)->name, "dmar1");
		CHECK_EQ(ish_target_unit(t, 1)->reg_base, 0xfed91000);
		CHECK_EQ(ish_target_unit(t, 1)->drhd_flags, 1);
		OK(ish_read_reg(t, 0, DMAR_GSTS_REG, 32, &v));
		CHECK_EQ(v, 0xc7000000);
		OK(ish_read_reg(t, 1, DMAR_RTADDR_REG, 64, &v));
		CHECK_EQ(v, 0x348c000);
		CHECK_STR(err_msg(ish_read_reg(t, 0, DMAR_IECTL_REG, 32, &v), ISH_ERROR_NOT_FOUND),
			  "dmar0: register IECTL (offset 0xa0) was not captured in the dump");
		CHECK_STR(err_msg(ish_read_reg(t, 0, 0x220, 64, &v), ISH_ERROR_NOT_FOUND),
			  "dmar0: register at offset 0x220 was not captured in the dump");
		ish_target_close(t);
	}
	/* a register file that is missing or broken fails the open, naming it */
	{
		struct ish_param p[] = { { "dump.regs", "/nonexistent.regs" } };

		CHECK(strstr(open_fails(path, p, 1, ISH_ERROR_OS), "/nonexistent.regs"));
	}
	CHECK_EQ(file_sum(path), sum);
	img_free(&im);
}

static void test_segments(void)
{
	const char *path = tmp_path("segs.core");
	uint8_t a[0x2000], b[0x1000], buf[32];
	struct ish_target *t;
	const char *msg;
	uint64_t v;

	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i ^ 0x5a);
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i + 3);

	/* p_filesz < p_memsz: the tail reads as zeros */
	{
		struct seg s[] = { { 0x10000, 0x3000, 0x1800, a } };

		write_core(path, s, 1);
		t = open_dump(path, NULL, 0);
		CHECK_EQ(ish_target_nunits(t), 0);	/* no ACPI here: no units, still usable */
		OK(ish_read_phys(t, 0x117f8, buf, 16));
		CHECK_EQ(buf[7], a[0x17ff]);
		CHECK_EQ(buf[8], 0);
		CHECK_EQ(buf[15], 0);
		OK(ish_read_u64(t, 0x12ff8, &v));
		CHECK_EQ(v, 0);
		FAILS(ish_read_u64(t, 0x12ffc, &v), ISH_ERROR_FAULT);
		ish_target_close(t);
	}
	/* adjacent segments: one read spans both */
	{
		struct seg s[] = { { 0x20000, 0x1000, 0x1000, b }, { 0x1f000, 0x1000, 0x1000, a } };

		write_core(path, s, 2);
		t = open_dump(path, NULL, 0);
		OK(ish_read_phys(t, 0x1fff8, buf, 16));
		CHECK_EQ(buf[0], a[0xff8]);
		CHECK_EQ(buf[8], b[0]);
		ish_target_close(t);
	}
	/* overlapping segments with different bytes: refused, both named */
	{
		struct seg s[] = { { 0x10000, 0x2000, 0x2000, a }, { 0x11000, 0x1000, 0x1000, b } };

		write_core(path, s, 2);
		msg = open_fails(path, NULL, 0, ISH_ERROR_FORMAT);
		CHECK(strstr(msg, "PT_LOAD 2 [0x11000-0x11fff] overlaps PT_LOAD 1 [0x10000-0x11fff]"));
	}
	/* partly overlapping, even where the shared bytes agree: refused */
	{
		uint8_t c[0x2000];
		struct seg s[] = { { 0x10000, 0x2000, 0x2000, a }, { 0x11000, 0x2000, 0x2000, c } };

		memcpy(c, a + 0x1000, 0x1000);
		memset(c + 0x1000, 0, 0x1000);
		write_core(path, s, 2);
		open_fails(path, NULL, 0, ISH_ERROR_FORMAT);
	}
	/* a kdump-style alias: a segment inside another with the same bytes is dropped */
	{
		struct seg s[] = { { 0x11000, 0x800, 0x800, a + 0x1000 }, { 0x10000, 0x2000, 0x2000, a } };

		write_core(path, s, 2);
		t = open_dump(path, NULL, 0);
		OK(ish_read_phys(t, 0x117fc, buf, 8));
		CHECK(!memcmp(buf, a + 0x17fc, 8));
		ish_target_close(t);
	}
	/* a truncated dump: what is there reads, the rest fails saying why */
	{
		struct seg s[] = { { 0x10000, 0x2000, 0x2000, a }, { 0x40000, 0x1000, 0x1000, b } };
		uint64_t sum;

		write_core(path, s, 2);
		CHECK(truncate(path, 64 + 3 * 56 + 28 + 0x1800) == 0);
		sum = file_sum(path);
		t = open_dump(path, NULL, 0);
		OK(ish_read_phys(t, 0x10000, buf, 16));
		CHECK(!memcmp(buf, a, 16));
		OK(ish_read_phys(t, 0x117f0, buf, 16));
		msg = err_msg(ish_read_phys(t, 0x117f8, buf, 16), ISH_ERROR_FAULT);
		CHECK(strstr(msg, "the dump is truncated: physical address 0x11800"));
		msg = err_msg(ish_read_phys(t, 0x40000, buf, 16), ISH_ERROR_FAULT);
		CHECK(strstr(msg, "truncated"));
		ish_target_close(t);
		CHECK_EQ(file_sum(path), sum);
	}
	/*
	 * Cut short while open (truncated between open and a later read): the
	 * read that meets the new end says so with both sizes; earlier pages
	 * still read, no SIGBUS (pread, not mmap), the file is left as it is.
	 */
	{
		struct seg s[] = { { 0x10000, 0x2000, 0x2000, a }, { 0x40000, 0x1000, 0x1000, b } };
		uint64_t sum, was;
		struct stat st;

		write_core(path, s, 2);
		CHECK(stat(path, &st) == 0);
		was = (uint64_t)st.st_size;
		t = open_dump(path, NULL, 0);
		OK(ish_read_phys(t, 0x10000, buf, 16));
		CHECK(truncate(path, 64 + 3 * 56 + 28 + 0x1800) == 0);
		sum = file_sum(path);
		OK(ish_read_phys(t, 0x10010, buf, 16));	/* the page read before is cached */
		msg = err_msg(ish_read_phys(t, 0x11800, buf, 16), ISH_ERROR_FAULT);
		{
			char want[256];

			snprintf(want, sizeof(want),
				 "the dump shrank while open: physical address 0x11800 (PT_LOAD 1, file "
				 "offset %#x) lies past its end, now %d bytes (%" PRIu64 " when opened)",
				 64 + 3 * 56 + 28 + 0x1800, 64 + 3 * 56 + 28 + 0x1800, was);
			CHECK_STR(msg, want);
		}
		msg = err_msg(ish_read_phys(t, 0x40000, buf, 16), ISH_ERROR_FAULT);
		CHECK(strstr(msg, "the dump shrank while open: physical address 0x40000 (PT_LOAD 2"));
		ish_target_close(t);
		CHECK_EQ(file_sum(path), sum);
	}
	/* a segment that wraps around, and p_filesz > p_memsz */
	{
		struct seg s[] = { { ~0ULL - 0xfff, 0x2000, 0x10, a } };

		write_core(path, s, 1);
		open_fails(path, NULL, 0, ISH_ERROR_FORMAT);
		s[0] = (struct seg){ 0x1000, 0x10, 0x20, a };
		write_core(path, s, 1);
		open_fails(path, NULL, 0, ISH_ERROR_FORMAT);
	}
}

static void test_raw(void)
{
	const char *path = tmp_path("raw.img"), *core = tmp_path("q35raw.core");
	uint8_t img[0x4000], buf[16];
	struct ish_target *t;
	uint64_t v, sum;
	FILE *f;

	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 13);
	f = fopen(path, "wb");
	fwrite(img, 1, sizeof(img), f);
	fclose(f);
	sum = file_sum(path);

	t = open_dump(path, NULL, 0);
	OK(ish_read_phys(t, 0x10, buf, 16));
	CHECK(!memcmp(buf, img + 0x10, 16));
	FAILS(ish_read_phys(t, 0x3ff8, buf, 16), ISH_ERROR_FAULT);
	ish_target_close(t);
	{
		struct ish_param p[] = { { "dump.base", "0x100000" } };

		t = open_dump(path, p, 1);
		OK(ish_read_phys(t, 0x103ff0, buf, 16));
		CHECK(!memcmp(buf, img + 0x3ff0, 16));
		FAILS(ish_read_phys(t, 0xff000, buf, 16), ISH_ERROR_FAULT);
		ish_target_close(t);
	}
	{
		struct ish_param p[] = { { "dump.base", "0xfffffffffffff000" } };

		open_fails(path, p, 1, ISH_ERROR_INVALID);
	}
	{
		struct ish_param p[] = { { "dump.base", "banana" } };

		open_fails(path, p, 1, ISH_ERROR_INVALID);
	}
	{
		struct ish_param p[] = { { "dump.format", "elf" } };

		open_fails(path, p, 1, ISH_ERROR_FORMAT);
	}
	{
		struct ish_param p[] = { { "dump.format", "tar" } };

		open_fails(path, p, 1, ISH_ERROR_INVALID);
	}
	{
		struct ish_param p[] = { { "dump.nosuch", "1" } };

		open_fails(path, p, 1, ISH_ERROR_INVALID);
	}
	/* a truncated kdump-compressed file is an error, not a raw image (test_kdump.c for the rest) */
	{
		const char *kd = tmp_path("kdump.img");

		f = fopen(kd, "wb");
		fwrite("KDUMP   \x06\0\0\0", 1, 12, f);
		fwrite(img, 1, 1000, f);
		fclose(f);
		CHECK(strstr(open_fails(kd, NULL, 0, ISH_ERROR_FORMAT), "kdump"));
	}
	/* registers for a raw image: the unit's base from dump.unit_base */
	{
		const char *regs = tmp_path("unit.regs");
		struct ish_param p[] = { { "dump.regs", regs }, { "dump.unit_base", "0xfed90000" } };

		f = fopen(regs, "w");
		fputs("# one unit, no section\nVER=0x10\nGSTS=0x80000000\n", f);
		fclose(f);
		t = open_dump(path, p, 2);
		CHECK_EQ(ish_target_nunits(t), 1);
		CHECK_STR(ish_target_unit(t, 0)->name, "dmar0");
		CHECK_EQ(ish_target_unit(t, 0)->reg_base, 0xfed90000);
		OK(ish_read_reg(t, 0, DMAR_GSTS_REG, 32, &v));
		CHECK_EQ(v, 0x80000000);
		ish_target_close(t);
		/* without it, and without a DMAR table, there is no base to use */
		CHECK(strstr(open_fails(path, p, 1, ISH_ERROR_INVALID), "dump.unit_base"));
		/* a broken register file names file and line */
		f = fopen(regs, "w");
		fputs("VER=0x10\nNOSUCH=1\n", f);
		fclose(f);
		CHECK(strstr(open_fails(path, p, 2, ISH_ERROR_FORMAT), "unit.regs:2: unknown register"));
	}
	CHECK_EQ(file_sum(path), sum);

	/* dump.format=raw reads an ELF file as bytes; a raw unit-less file takes DRHD bases */
	{
		struct image im = { 0 };
		struct seg s[2];
		const char *regs = tmp_path("two.regs");
		struct ish_param p[] = { { "dump.regs", regs } };
		struct ish_param praw[] = { { "dump.format", "raw" } };

		q35_image(&im);
		for (int i = 0; i < 2; i++)
			s[i] = (struct seg){ im.r[i].addr, im.r[i].size, im.r[i].size, im.r[i].b };
		write_core(core, s, 2);
		t = open_dump(core, praw, 1);
		OK(ish_read_phys(t, 0, buf, 4));
		CHECK(!memcmp(buf, "\177ELF", 4));
		ish_target_close(t);
		/* register-file units without a base take the DRHD at their position */
		f = fopen(regs, "w");
		fputs("[a]\nVER=1\n[b]\nVER=2\n", f);
		fclose(f);
		t = open_dump(core, p, 1);
		CHECK_EQ(ish_target_nunits(t), 2);
		CHECK_STR(ish_target_unit(t, 1)->name, "b");
		CHECK_EQ(ish_target_unit(t, 1)->reg_base, 0xfed91000);
		CHECK_EQ(ish_target_unit(t, 1)->drhd_flags, 1);
		OK(ish_read_reg(t, 1, DMAR_VER_REG, 32, &v));
		CHECK_EQ(v, 2);
		ish_target_close(t);
		img_free(&im);
	}
}

/*
 * A real QEMU 7.2 q35 guest after SeaBIOS ran (tests/fixtures/dump/
 * make-q35-firmware.py): the DMAR table is found from the firmware's RSDP.
 */
static void test_real_firmware(void)
{
	const char *core = ISH_SOURCE_ROOT "/tests/fixtures/dump/q35-seabios.core";
	struct ish_param p[] = { { "dump.regs", ISH_SOURCE_ROOT "/tests/fixtures/dump/q35-seabios.regs" } };
	struct ish_acpi_rsdp rsdp;
	struct ish_target *t;
	const uint8_t *dmar;
	size_t len;
	uint64_t v, sum = file_sum(core);

	t = open_dump(core, NULL, 0);
	OK(ish_acpi_find_rsdp(t, &rsdp));
	CHECK_EQ(rsdp.addr, 0xf59e0);
	CHECK_EQ(rsdp.revision, 0);
	CHECK_STR(rsdp.oem_id, "BOCHS ");
	dmar = ish_target_dmar(t, &len);
	CHECK(dmar && !memcmp(dmar, "DMAR", 4));
	CHECK_EQ(len, 104);
	CHECK_EQ(ish_target_nunits(t), 1);
	CHECK_EQ(ish_target_unit(t, 0)->reg_base, 0xfed90000);
	CHECK_EQ(ish_target_unit(t, 0)->segment, 0);
	CHECK_EQ(ish_target_unit(t, 0)->drhd_flags, 0);	/* QEMU lists device scopes */
	FAILS(ish_read_reg(t, 0, DMAR_VER_REG, 32, &v), ISH_ERROR_NOT_FOUND);
	ish_target_close(t);

	t = open_dump(core, p, 1);
	CHECK_EQ(ish_target_nunits(t), 1);
	OK(ish_read_reg(t, 0, DMAR_VER_REG, 32, &v));
	CHECK_EQ(v, 0x10);	/* DESIGN.md: QEMU's VER reads 0x10 */
	OK(ish_read_reg(t, 0, DMAR_CAP_REG, 64, &v));
	CHECK_EQ(cap_fault_reg_offset(v), 0x220);
	OK(ish_read_reg(t, 0, DMAR_GSTS_REG, 32, &v));
	CHECK_EQ(v & DMA_GSTS_TES, 0);	/* no OS: translation is off */
	ish_target_close(t);
	CHECK_EQ(file_sum(core), sum);
}

static void test_detect(void)
{
	const struct ish_backend *b = ish_backend_find("dump");

	CHECK(b != NULL);
	if (!b)
		return;
	CHECK(!b->detect("/"));
	CHECK(!b->detect("/nonexistent/file"));
	CHECK(!b->detect(""));
	CHECK(b->detect(ISH_SOURCE_ROOT "/tests/fixtures/regs/README"));
	CHECK(b->write_phys == NULL && b->write_reg == NULL);
	/* every parameter has help */
	for (const struct ish_param_def *p = b->params; p->name; p++)
		CHECK(p->help && *p->help);
}

/* Garbage and mutated cores: open fails cleanly or works; reads never crash. */
static void test_hostile(void)
{
	const char *path = tmp_path("fuzz.core");
	uint8_t good[64 + 56 * 3 + 28 + 0x200], buf[64];
	struct seg s[2];
	uint8_t a[0x100], b[0x100];
	unsigned unexpected = 0;
	FILE *f;

	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	s[0] = (struct seg){ 0x1000, 0x100, 0x100, a };
	s[1] = (struct seg){ 0x2000, 0x200, 0x100, b };
	write_core(path, s, 2);
	f = fopen(path, "rb");
	CHECK_EQ(fread(good, 1, sizeof(good), f), sizeof(good));
	fclose(f);

	/* just the magic, a header cut short, random bytes */
	f = fopen(path, "wb");
	fwrite("\177ELF", 1, 4, f);
	fclose(f);
	open_fails(path, NULL, 0, ISH_ERROR_FORMAT);
	f = fopen(path, "wb");
	fwrite(good, 1, 100, f);
	fclose(f);
	open_fails(path, NULL, 0, ISH_ERROR_FORMAT);

	srand(7);
	for (int iter = 0; iter < 3000; iter++) {
		uint8_t m[sizeof(good)];
		size_t len = sizeof(m);
		struct ish_target *t = NULL;
		struct ish_error *err;

		memcpy(m, good, sizeof(m));
		/* mutate the headers and the note, where the interesting bytes are */
		for (int k = rand() % 6; k >= 0; k--)
			m[rand() % (64 + 56 * 3 + 28)] = (uint8_t)rand();
		if (iter % 4 == 0)
			len = (size_t)rand() % sizeof(m);
		f = fopen(path, "wb");
		fwrite(m, 1, len, f);
		fclose(f);
		err = ish_target_open(path, "dump", NULL, 0, 0, &t);
		if (err) {
			unexpected += err->code != ISH_ERROR_FORMAT && err->code != ISH_ERROR_LIMIT &&
				      err->code != ISH_ERROR_OS && err->code != ISH_ERROR_INVALID;
			if (err->code == ISH_ERROR_OS || err->code == ISH_ERROR_INVALID)
				fprintf(stderr, "fuzz: %s\n", err->message);
			ish_error_destroy(err);
			continue;
		}
		for (uint64_t addr = 0x1000; addr < 0x2400; addr += 0x80) {
			err = ish_read_phys(t, addr, buf, sizeof(buf));
			if (err) {
				unexpected += err->code != ISH_ERROR_FAULT && err->code != ISH_ERROR_OS;
				ish_error_destroy(err);
			}
		}
		ish_target_close(t);
	}
	CHECK_EQ(unexpected, 0);
}

int main(int argc, char **argv)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ish-test-dump-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	check_init(argc, argv);
	CASE("acpi") test_acpi();
	CASE("detect") test_detect();
	CASE("real_firmware") test_real_firmware();
	CASE("qemu_like_core") test_qemu_like_core();
	CASE("segments") test_segments();
	CASE("raw") test_raw();
	CASE("hostile") test_hostile();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return check_report();
}
