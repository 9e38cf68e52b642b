// SPDX-License-Identifier: MIT
/*
 * kdump-compressed and flattened dumps (backends/kdump.c through the dump
 * backend), on small files built here: every codec this build has, raw
 * pages, a page the 2nd bitmap excludes, a hole in RAM, VMCOREINFO from the
 * sub-header, the flattened wrapping with a rewritten header, and every
 * truncation of both files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iommush/backend.h>
#include <iommush/target.h>

#include "check.h"
#include "config.h"

#ifdef ISH_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef ISH_HAVE_LZO
#include <lzo/lzo1x.h>
#endif
#ifdef ISH_HAVE_SNAPPY
#include <snappy-c.h>
#endif
#ifdef ISH_HAVE_ZSTD
#include <zstd.h>
#endif

#define PAGE 4096u
#define NPAGES 16u
#define VMCI "OSRELEASE=6.1.0-test\nPAGESIZE=4096\nNUMBER(phys_base)=-1048576\n"

static char tmpdir[64];

static char *tmp_path(const char *name)
{
	static char buf[4][128];
	static unsigned k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

struct img {
	uint8_t *b;
	size_t len, cap;
};

static void put(struct img *im, size_t off, const void *p, size_t n)
{
	if (off + n > im->cap) {
		im->cap = (off + n) * 2;
		im->b = realloc(im->b, im->cap);
	}
	if (off > im->len)
		memset(im->b + im->len, 0, off - im->len);
	memcpy(im->b + off, p, n);
	if (off + n > im->len)
		im->len = off + n;
}

static void put32(struct img *im, size_t off, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	put(im, off, b, 4);
}

static void put64(struct img *im, size_t off, uint64_t v)
{
	put32(im, off, (uint32_t)v);
	put32(im, off + 4, (uint32_t)(v >> 32));
}

static void page_bytes(unsigned pfn, uint8_t *p)
{
	/* compressible but distinct per page */
	for (unsigned i = 0; i < PAGE; i++)
		p[i] = (uint8_t)((i / 64) * 7 + pfn * 31 + (i % 3));
}

/* pfn -> codec: DUMP_DH_* flag the page is stored with (0 raw). */
static uint32_t codec_of(unsigned pfn)
{
	switch (pfn) {
#ifdef ISH_HAVE_ZLIB
	case 1: return 0x1;
#endif
#ifdef ISH_HAVE_LZO
	case 2: return 0x2;
#endif
#ifdef ISH_HAVE_SNAPPY
	case 3: return 0x4;
#endif
#ifdef ISH_HAVE_ZSTD
	case 4: return 0x20;
#endif
	}
	return 0;
}

static size_t compress_page(uint32_t codec, const uint8_t *in, uint8_t *out, size_t cap)
{
	switch (codec) {
#ifdef ISH_HAVE_ZLIB
	case 0x1: {
		uLongf n = cap;

		CHECK_EQ(compress2(out, &n, in, PAGE, 6), Z_OK);
		return n;
	}
#endif
#ifdef ISH_HAVE_LZO
	case 0x2: {
		static uint8_t wrk[LZO1X_1_MEM_COMPRESS];
		lzo_uint n = cap;

		CHECK_EQ(lzo_init(), LZO_E_OK);
		CHECK_EQ(lzo1x_1_compress(in, PAGE, out, &n, wrk), LZO_E_OK);
		return n;
	}
#endif
#ifdef ISH_HAVE_SNAPPY
	case 0x4: {
		size_t n = cap;

		CHECK_EQ(snappy_compress((const char *)in, PAGE, (char *)out, &n), SNAPPY_OK);
		return n;
	}
#endif
#ifdef ISH_HAVE_ZSTD
	case 0x20: {
		size_t n = ZSTD_compress(out, cap, in, PAGE, 3);

		CHECK(!ZSTD_isError(n));
		return n;
	}
#endif
	}
	memcpy(out, in, PAGE);
	return PAGE;
}

/*
 * A kdump-compressed v6 image of NPAGES pages: pfn 12.. are not RAM
 * (1st bitmap), pfn 5 is excluded (2nd bitmap), pfn 6 is a corrupt zlib
 * page when bad_zlib.
 */
static struct img make_kdump(bool bad_zlib)
{
	struct img im = { 0 };
	uint8_t bm1[PAGE] = { 0 }, bm2[PAGE] = { 0 };
	size_t desc = 4 * PAGE, data, nd = 0;
	uint8_t page[PAGE], cbuf[2 * PAGE];

	put(&im, 0, "KDUMP   ", 8);
	put32(&im, 8, 6);
	put32(&im, 428, PAGE);		/* block_size */
	put32(&im, 432, 1);		/* sub_hdr_size */
	put32(&im, 436, 2);		/* bitmap_blocks */
	put32(&im, 440, NPAGES);	/* max_mapnr */
	for (unsigned pfn = 0; pfn < 12; pfn++) {
		bm1[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
		if (pfn != 5)
			bm2[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
	}
	put(&im, 2 * PAGE, bm1, PAGE);
	put(&im, 3 * PAGE, bm2, PAGE);
	data = desc + 11 * 24;
	/* sub-header: phys_base (wrong on purpose, as QEMU 7.2's), dump_level 31, VMCOREINFO */
	put64(&im, PAGE + 0, 0x12345);
	put32(&im, PAGE + 8, 31);
	put64(&im, PAGE + 32, data);
	put64(&im, PAGE + 40, strlen(VMCI));
	put64(&im, PAGE + 96, NPAGES);
	put(&im, data, VMCI, strlen(VMCI));
	data += strlen(VMCI);
	for (unsigned pfn = 0; pfn < 12; pfn++) {
		uint32_t codec = codec_of(pfn);
		size_t n;

		if (pfn == 5)
			continue;
		page_bytes(pfn, page);
		n = compress_page(codec, page, cbuf, sizeof(cbuf));
		if (pfn == 6 && bad_zlib) {
			memset(cbuf, 0x55, 100);
			n = 100;
			codec = 1;
		}
		put64(&im, desc + nd * 24, data);
		put32(&im, desc + nd * 24 + 8, (uint32_t)n);
		put32(&im, desc + nd * 24 + 12, codec);
		nd++;
		put(&im, data, cbuf, n);
		data += n;
	}
	return im;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* makedumpfile -F's wrapping: records of 1000 bytes, the header written again last. */
static struct img flatten(const struct img *in, bool end_record)
{
	struct img out = { 0 };
	uint8_t hdr[4096] = "makedumpfile", rh[16];
	size_t pos = sizeof(hdr);

	put_be64(hdr + 16, 1);
	put_be64(hdr + 24, 1);
	put(&out, 0, hdr, sizeof(hdr));
	for (size_t off = 0; off < in->len; off += 1000) {
		size_t n = in->len - off < 1000 ? in->len - off : 1000;
		uint8_t junk[512];

		/* the header's first bytes, written wrong first: the later record must win */
		if (!off) {
			memset(junk, 0xee, sizeof(junk));
			put_be64(rh, 8);
			put_be64(rh + 8, 64);
			put(&out, pos, rh, 16);
			put(&out, pos + 16, junk, 64);
			pos += 16 + 64;
		}
		put_be64(rh, off);
		put_be64(rh + 8, n);
		put(&out, pos, rh, 16);
		put(&out, pos + 16, in->b + off, n);
		pos += 16 + n;
	}
	if (end_record) {
		memset(rh, 0xff, 16);
		put(&out, pos, rh, 16);
	}
	return out;
}

static void write_file(const char *path, const struct img *im, size_t len)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	CHECK_EQ(fwrite(im->b, 1, len, f), len);
	fclose(f);
}

static void check_dump(const char *path)
{
	struct ish_target *t = NULL;
	struct ish_ram_range *rr;
	struct ish_error *err;
	uint8_t buf[PAGE], want[PAGE];
	const char *where;
	char *vmci;
	size_t len, n;

	OK(ish_target_open(path, NULL, NULL, 0, 0, &t));
	CHECK_STR(ish_target_backend(t)->name, "dump");
	for (unsigned pfn = 0; pfn < 12; pfn++) {
		if (pfn == 5)
			continue;
		page_bytes(pfn, want);
		OK(ish_read_phys(t, (uint64_t)pfn * PAGE, buf, PAGE));
		CHECK(!memcmp(buf, want, PAGE));
	}
	/* across a page boundary, uncached */
	OK(ish_read_phys_uncached(t, 2 * PAGE - 8, buf, 16));
	page_bytes(1, want);
	CHECK(!memcmp(buf, want + PAGE - 8, 8));
	page_bytes(2, want);
	CHECK(!memcmp(buf + 8, want, 8));

	err = ish_read_phys(t, 5 * PAGE + 16, buf, 8);
	CHECK(err && err->code == ISH_ERROR_FAULT &&
	      strstr(err->message, "excluded from the dump by makedumpfile (dump level 31)"));
	CHECK(err && err->address == 5 * PAGE);
	ish_error_destroy(err);
	err = ish_read_phys(t, 12 * PAGE, buf, 8);
	CHECK(err && err->code == ISH_ERROR_FAULT && strstr(err->message, "not in the dump"));
	ish_error_destroy(err);
	FAILS(ish_read_phys(t, 1ULL << 40, buf, 8), ISH_ERROR_FAULT);

	OK(ish_target_vmcoreinfo(t, &vmci, &len, &where));
	CHECK_STR(vmci, VMCI);
	CHECK_EQ(len, strlen(VMCI));
	CHECK_STR(where, "kdump sub-header");
	free(vmci);

	OK(ish_target_ram_ranges(t, &rr, &n));
	CHECK_EQ(n, 1);
	CHECK_EQ(rr[0].start, 0);
	CHECK_EQ(rr[0].end, 12 * PAGE);
	free(rr);
	ish_target_close(t);
}

/* Every prefix (by steps) of a file: opens with an error or reads cleanly. */
static void check_truncations(const char *path, const struct img *im, size_t step)
{
	for (size_t len = 0; len < im->len; len += step) {
		struct ish_target *t = NULL;
		struct ish_error *err;
		uint8_t buf[PAGE];

		write_file(path, im, len);
		err = ish_target_open(path, NULL, NULL, 0, 0, &t);
		if (err) {
			CHECK(err->code == ISH_ERROR_FORMAT || err->code == ISH_ERROR_FAULT);
			ish_error_destroy(err);
			continue;
		}
		for (unsigned pfn = 0; pfn < NPAGES; pfn++)
			ish_error_destroy(ish_read_phys(t, (uint64_t)pfn * PAGE, buf, PAGE));
		ish_target_close(t);
	}
}

static void test_plain(void)
{
	struct img im = make_kdump(false);
	const char *path = tmp_path("plain.kdump");
	struct ish_error *err;
	struct ish_target *t = NULL;
	uint8_t buf[8];

	write_file(path, &im, im.len);
	check_dump(path);

	/* a corrupt zlib page is a fault at its address, the others still read */
	free(im.b);
	im = make_kdump(true);
	write_file(path, &im, im.len);
	OK(ish_target_open(path, NULL, NULL, 0, 0, &t));
	err = ish_read_phys(t, 6 * PAGE, buf, 8);
#ifdef ISH_HAVE_ZLIB
	CHECK(err && err->code == ISH_ERROR_FAULT && strstr(err->message, "does not decompress"));
#else
	CHECK(err && err->code == ISH_ERROR_FAULT && strstr(err->message, "built without zlib"));
#endif
	ish_error_destroy(err);
	OK(ish_read_phys(t, 7 * PAGE, buf, 8));
	ish_target_close(t);

	/* hostile headers */
	{
		struct img h = make_kdump(false);
		const char *p2 = tmp_path("hostile.kdump");
		struct { size_t off; uint32_t v; enum ish_error_code code; const char *msg; } cases[] = {
			{ 428, 1000, ISH_ERROR_FORMAT, "block size" },
			{ 428, 1u << 30, ISH_ERROR_FORMAT, "block size" },
			{ 436, 3, ISH_ERROR_FORMAT, "even number" },
			{ 436, 0xfffffffe, ISH_ERROR_LIMIT, "bitmaps of" },
			{ 436, 4000, ISH_ERROR_FORMAT, "truncated" },
			{ 8, 7, ISH_ERROR_UNSUPPORTED, "version 7" },
			{ PAGE + 12, 1, ISH_ERROR_UNSUPPORTED, "split" },
			{ PAGE + 44, 1, ISH_ERROR_LIMIT, "VMCOREINFO" },
		};

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			struct img c = make_kdump(false);

			put32(&c, cases[i].off, cases[i].v);
			write_file(p2, &c, c.len);
			err = ish_target_open(p2, NULL, NULL, 0, 0, &t);
			CHECK(err && err->code == cases[i].code && strstr(err->message, cases[i].msg));
			if (err && !strstr(err->message, cases[i].msg))
				fprintf(stderr, "case %zu: %s\n", i, err->message);
			ish_error_destroy(err);
			free(c.b);
		}
		/* pfn 10 (descriptor 9) claims lzo: without lzo the build says so */
		put32(&h, 4 * PAGE + 24 * 9 + 8, 100);
		put32(&h, 4 * PAGE + 24 * 9 + 12, 0x2);
		write_file(p2, &h, h.len);
		OK(ish_target_open(p2, NULL, NULL, 0, 0, &t));
		err = ish_read_phys(t, 10 * PAGE, buf, 8);
#ifdef ISH_HAVE_LZO
		CHECK(err && err->code == ISH_ERROR_FAULT && strstr(err->message, "does not decompress"));
#else
		CHECK(err && err->code == ISH_ERROR_FAULT &&
		      strstr(err->message, "this iommush was built without lzo: page at 0xa000 is "
					   "lzo-compressed"));
#endif
		ish_error_destroy(err);
		ish_target_close(t);
		free(h.b);
		h = make_kdump(false);
		/* a descriptor longer than a page, one pointing past the end */
		put32(&h, 4 * PAGE + 24 * 7 + 8, PAGE + 1);
		put64(&h, 4 * PAGE + 24 * 8, 1ULL << 50);
		write_file(p2, &h, h.len);
		OK(ish_target_open(p2, NULL, NULL, 0, 0, &t));
		FAILS(ish_read_phys(t, 8 * PAGE, buf, 8), ISH_ERROR_FAULT);
		FAILS(ish_read_phys(t, 9 * PAGE, buf, 8), ISH_ERROR_FAULT);
		OK(ish_read_phys(t, 10 * PAGE, buf, 8));
		ish_target_close(t);
		free(h.b);
	}
	check_truncations(path, &im, 97);
	free(im.b);
}

static void test_flat(void)
{
	struct img im = make_kdump(false), fl = flatten(&im, true), nofl = flatten(&im, false);
	const char *path = tmp_path("flat.kdump");
	struct ish_error *err;
	struct ish_target *t = NULL;

	write_file(path, &fl, fl.len);
	check_dump(path);
	write_file(path, &nofl, nofl.len);
	err = ish_target_open(path, NULL, NULL, 0, 0, &t);
	CHECK(err && err->code == ISH_ERROR_FORMAT && strstr(err->message, "no end record"));
	ish_error_destroy(err);
	/* a record past the end of the file */
	put_be64(fl.b + 4096 + 8, 1ULL << 40);
	write_file(path, &fl, fl.len);
	err = ish_target_open(path, NULL, NULL, 0, 0, &t);
	CHECK(err && err->code == ISH_ERROR_FORMAT && strstr(err->message, "flattened record 0"));
	ish_error_destroy(err);
	free(fl.b);
	fl = flatten(&im, true);
	check_truncations(path, &fl, 89);
	free(fl.b);
	free(nofl.b);
	free(im.b);
}

/*
 * makedumpfile -E's ELF: a VMCOREINFO note and a PT_LOAD with p_filesz <
 * p_memsz. The tail is excluded (an error), not zeros; without the note (not
 * a kernel's dump) it stays zeros, as the gABI and iommush's snapshots have it.
 */
static void test_elf_filtered(bool with_note)
{
	struct img im = { 0 };
	const char *path = tmp_path("filtered.elf");
	static const char name[] = "VMCOREINFO";
	size_t namesz = sizeof(name), descsz = strlen(VMCI);
	size_t note_off = 64 + 2 * 56, note_len = 12 + 12 + ((descsz + 3) & ~3u);
	size_t data_off = 0x1000;
	uint8_t page[PAGE], buf[8];
	struct ish_target *t = NULL;
	struct ish_error *err;

	put(&im, 0, "\177ELF\2\1\1", 7);
	put32(&im, 16, 4 | (62u << 16));	/* ET_CORE, EM_X86_64 */
	put32(&im, 20, 1);
	put64(&im, 32, 64);			/* e_phoff */
	put32(&im, 52, 64 | (56u << 16));	/* e_ehsize, e_phentsize */
	put32(&im, 56, 2);			/* e_phnum */
	/* PT_NOTE */
	put32(&im, 64, 4);
	put64(&im, 64 + 8, note_off);
	put64(&im, 64 + 32, with_note ? note_len : 0);
	put64(&im, 64 + 40, with_note ? note_len : 0);
	/* PT_LOAD: two pages in memory, one in the file */
	put32(&im, 120, 1);
	put64(&im, 120 + 8, data_off);
	put64(&im, 120 + 24, 0x100000);
	put64(&im, 120 + 32, PAGE);
	put64(&im, 120 + 40, 2 * PAGE);
	put32(&im, note_off, (uint32_t)namesz);
	put32(&im, note_off + 4, (uint32_t)descsz);
	put32(&im, note_off + 8, 0);
	put(&im, note_off + 12, name, namesz);
	put(&im, note_off + 24, VMCI, descsz);
	page_bytes(3, page);
	put(&im, data_off, page, PAGE);
	write_file(path, &im, im.len);
	OK(ish_target_open(path, NULL, NULL, 0, 0, &t));
	OK(ish_read_phys(t, 0x100000, buf, 8));
	CHECK(!memcmp(buf, page, 8));
	err = ish_read_phys(t, 0x100000 + PAGE + 8, buf, 8);
	if (with_note) {
		CHECK(err && err->code == ISH_ERROR_FAULT &&
		      strstr(err->message, "excluded from the dump by makedumpfile"));
		CHECK(err && err->address == 0x100000 + PAGE + 8);
	} else {
		CHECK(!err);
		CHECK_EQ(buf[0] | buf[7], 0);
	}
	ish_error_destroy(err);
	ish_target_close(t);
	free(im.b);
}

/* Seeds for tests/fuzz/fuzz_kdump.c: its two flag bytes, then the plain file. */
static void write_seeds(const char *dir)
{
	struct img im = make_kdump(false);
	static const struct { const char *name; uint8_t flags, rec; } seeds[] = {
		{ "plain-v6-all-codecs", 0, 0 },
		{ "flat-v6-all-codecs", 1, 15 },
	};

	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i].name);
		f = fopen(path, "wb");
		if (!f)
			continue;
		fputc(seeds[i].flags, f);
		fputc(seeds[i].rec, f);
		fwrite(im.b, 1, im.len, f);
		fclose(f);
	}
	free(im.b);
}

int main(int argc, char **argv)
{
	if (getenv("FZ_KDUMP_SEEDS"))
		write_seeds(getenv("FZ_KDUMP_SEEDS"));
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ish-test-kdump-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	check_init(argc, argv);
	CASE("plain") test_plain();
	CASE("flat") test_flat();
	CASE("elf_filtered_note") test_elf_filtered(true);
	CASE("elf_filtered_no_note") test_elf_filtered(false);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return check_report();
}
