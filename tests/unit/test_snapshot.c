// SPDX-License-Identifier: MIT
/*
 * Snapshots: written by ish_snapshot_write_elf(), checked with libelf (an
 * independent reader) and read back through the dump backend; the note
 * reader against hostile notes.
 */
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iommush/backend.h>
#include <iommush/mem.h>
#include <iommush/regfile.h>
#include <iommush/snapshot.h>
#include <iommush/target.h>
#include <iommush/vtd/vtd.h>

#include "check.h"

static char tmpdir[64];

static char *tmp_path(const char *name)
{
	static char buf[8][128];
	static int k;

	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
	return buf[k];
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
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

/* A DMAR table with one DRHD at 0xfed90000 on segment 0, flags INCLUDE_PCI_ALL. */
static void build_dmar(uint8_t *t, size_t len)
{
	uint8_t s = 0;

	memset(t, 0, len);
	memcpy(t, "DMAR", 4);
	put32(t + 4, (uint32_t)len);
	t[36] = 47;
	t[48] = 0;
	t[50] = 16;
	t[52] = 1;
	put64(t + 56, 0xfed90000);
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + t[i]);
	t[9] = (uint8_t)(0x100 - s);
}

/* Program headers of path, read with libelf. */
static size_t elf_loads(const char *path, GElf_Phdr *out, size_t max, size_t *phnum)
{
	int fd = open(path, O_RDONLY);
	size_t n = 0;
	GElf_Ehdr eh;
	Elf *e;

	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	CHECK(e && gelf_getehdr(e, &eh));
	CHECK_EQ(eh.e_type, ET_CORE);
	CHECK_EQ(eh.e_machine, EM_X86_64);
	CHECK_EQ(eh.e_ident[EI_CLASS], ELFCLASS64);
	CHECK(!elf_getphdrnum(e, phnum));
	for (size_t i = 0; i < *phnum; i++) {
		GElf_Phdr ph;

		CHECK(gelf_getphdr(e, (int)i, &ph) != NULL);
		if (i == 0)
			CHECK_EQ(ph.p_type, PT_NOTE);
		if (ph.p_type == PT_LOAD && n < max)
			out[n++] = ph;
	}
	elf_end(e);
	close(fd);
	return n;
}

static void test_roundtrip(void)
{
	const char *path = tmp_path("snap.core");
	struct ish_regfile *rf0, *rf1;
	uint8_t page_a[4096], page_b[4096], page_c[4096], small[24], dmar[64], buf[4096];
	struct ish_snapshot_range ranges[] = {
		{ 0x3000, 4096, page_c },	/* out of order on purpose */
		{ 0x1000, 4096, page_a },
		{ 0x2000, 4096, page_b },	/* touches 0x1000: one segment */
		{ 0x7fe0010, sizeof(small), small },
		{ 0x9000, 0, NULL },		/* empty: left out */
	};
	struct ish_snapshot_unit units[2];
	struct ish_snapshot snap = { 0 };
	struct ish_target *t;
	GElf_Phdr loads[8];
	size_t n, phnum, dmar_len;
	const uint8_t *d;
	uint64_t v;

	for (int i = 0; i < 4096; i++) {
		page_a[i] = (uint8_t)i;
		page_b[i] = (uint8_t)(i * 3);
		page_c[i] = (uint8_t)(i * 5 + 1);
	}
	for (size_t i = 0; i < sizeof(small); i++)
		small[i] = (uint8_t)(0xa0 + i);
	build_dmar(dmar, sizeof(dmar));
	OK(ish_regfile_create(&rf0));
	OK(ish_regfile_create(&rf1));
	OK(ish_regfile_set(rf0, DMAR_VER_REG, 32, 0x10));
	OK(ish_regfile_set(rf0, DMAR_CAP_REG, 64, 0x00d2008c22260286ULL));
	OK(ish_regfile_set(rf0, DMAR_GSTS_REG, 32, 0xc7000000));
	OK(ish_regfile_set(rf0, DMAR_RTADDR_REG, 64, 0x1000));
	OK(ish_regfile_set(rf0, 0x228, 64, 0x8000000200000010ULL));
	memset(units, 0, sizeof(units));
	snprintf(units[0].unit.name, sizeof(units[0].unit.name), "dmar0");
	units[0].unit.reg_base = 0xfed90000;
	units[0].unit.drhd_flags = 1;
	units[0].unit.size_pages = 1;
	units[0].regs = rf0;
	snprintf(units[1].unit.name, sizeof(units[1].unit.name), "gfx");
	units[1].unit.reg_base = 0xfed91000;
	units[1].unit.segment = 2;
	units[1].regs = rf1;	/* nothing captured */
	static uint8_t cfgspace[256] = { 0x86, 0x80, 0xd3, 0x10 };	/* 8086:10d3 */
	struct ish_snapshot_pcicfg cfg[] = { { 0, 0x0010, sizeof(cfgspace), cfgspace } };

	snap = (struct ish_snapshot){ .ranges = ranges, .nranges = 5, .units = units, .nunits = 2,
				      .dmar = dmar, .dmar_len = sizeof(dmar), .pcicfg = cfg,
				      .npcicfg = 1 };

	OK(ish_snapshot_write_elf(path, &snap));
	CHECK(!exists(tmp_path("snap.core.tmp")));

	/* the layout, seen by libelf */
	n = elf_loads(path, loads, 8, &phnum);
	CHECK_EQ(phnum, 3);
	CHECK_EQ(n, 2);
	CHECK_EQ(loads[0].p_paddr, 0x1000);
	CHECK_EQ(loads[0].p_filesz, 0x3000);
	CHECK_EQ(loads[0].p_memsz, 0x3000);
	CHECK_EQ(loads[0].p_offset % 4096, 0);
	CHECK_EQ(loads[1].p_paddr, 0x7fe0010);
	CHECK_EQ(loads[1].p_filesz, sizeof(small));
	CHECK_EQ(loads[1].p_offset % 4096, 0x10);

	/* and through the dump backend */
	OK(ish_target_open(path, NULL, NULL, 0, 0, &t));
	CHECK_STR(ish_target_backend(t)->name, "dump");
	CHECK_EQ(ish_target_nunits(t), 2);
	CHECK_STR(ish_target_unit(t, 0)->name, "dmar0");
	CHECK_EQ(ish_target_unit(t, 0)->reg_base, 0xfed90000);
	CHECK_EQ(ish_target_unit(t, 0)->drhd_flags, 1);
	CHECK_EQ(ish_target_unit(t, 0)->size_pages, 1);
	CHECK_STR(ish_target_unit(t, 1)->name, "gfx");
	CHECK_EQ(ish_target_unit(t, 1)->segment, 2);
	OK(ish_read_reg(t, 0, DMAR_CAP_REG, 64, &v));
	CHECK_EQ(v, 0x00d2008c22260286ULL);
	OK(ish_read_reg(t, 0, DMAR_GSTS_REG, 32, &v));
	CHECK_EQ(v, 0xc7000000);
	OK(ish_read_reg(t, 0, 0x228, 64, &v));
	CHECK_EQ(v, 0x8000000200000010ULL);
	FAILS(ish_read_reg(t, 0, DMAR_FSTS_REG, 32, &v), ISH_ERROR_NOT_FOUND);
	FAILS(ish_read_reg(t, 1, DMAR_VER_REG, 32, &v), ISH_ERROR_NOT_FOUND);
	d = ish_target_dmar(t, &dmar_len);
	CHECK_EQ(dmar_len, sizeof(dmar));
	CHECK(d && !memcmp(d, dmar, sizeof(dmar)));
	OK(ish_read_phys(t, 0x1000, buf, 4096));
	CHECK(!memcmp(buf, page_a, 4096));
	OK(ish_read_phys(t, 0x2800, buf, 4096));
	CHECK(!memcmp(buf, page_b + 0x800, 0x800) && !memcmp(buf + 0x800, page_c, 0x800));
	OK(ish_read_phys(t, 0x7fe0010, buf, sizeof(small)));
	CHECK(!memcmp(buf, small, sizeof(small)));
	FAILS(ish_read_phys(t, 0x7fe000c, buf, 8), ISH_ERROR_FAULT);
	FAILS(ish_read_phys(t, 0x4000, buf, 8), ISH_ERROR_FAULT);
	{
		uint32_t id = 0;

		/* PCI config space comes back from its note */
		OK(ish_read_config(t, 0, 0x0010, 0, 32, &id));
		CHECK_EQ(id, 0x10d38086);
		OK(ish_read_config(t, 0, 0x0010, 2, 16, &id));
		CHECK_EQ(id, 0x10d3);
		FAILS(ish_read_config(t, 0, 0x0010, 256, 32, &id), ISH_ERROR_NOT_FOUND);
		FAILS(ish_read_config(t, 0, 0x0018, 0, 32, &id), ISH_ERROR_NOT_FOUND);
	}
	ish_target_close(t);

	/* rewriting replaces the file whole */
	snap.nunits = 0;
	snap.dmar = NULL;
	snap.nranges = 1;
	OK(ish_snapshot_write_elf(path, &snap));
	OK(ish_target_open(path, NULL, NULL, 0, 0, &t));
	CHECK_EQ(ish_target_nunits(t), 0);
	CHECK(ish_target_dmar(t, NULL) == NULL);
	FAILS(ish_read_phys(t, 0x1000, buf, 8), ISH_ERROR_FAULT);
	OK(ish_read_phys(t, 0x3000, buf, 8));
	ish_target_close(t);

	ish_regfile_destroy(rf0);
	ish_regfile_destroy(rf1);
}

static void test_write_errors(void)
{
	uint8_t a[32] = { 0 };
	struct ish_snapshot_range overlap[] = { { 0x1000, 32, a }, { 0x1010, 32, a } };
	struct ish_snapshot_range wrap[] = { { ~0ULL - 8, 32, a } };
	struct ish_snapshot_range nobytes[] = { { 0x1000, 32, NULL } };
	struct ish_snapshot snap = { .ranges = overlap, .nranges = 2 };
	const char *path = tmp_path("bad.core");

	FAILS(ish_snapshot_write_elf(path, &snap), ISH_ERROR_INVALID);
	CHECK(!exists(path) && !exists(tmp_path("bad.core.tmp")));
	snap.ranges = wrap;
	snap.nranges = 1;
	FAILS(ish_snapshot_write_elf(path, &snap), ISH_ERROR_INVALID);
	/* A range without bytes reads as zeros and takes no file space. */
	snap.ranges = nobytes;
	OK(ish_snapshot_write_elf(path, &snap));
	{
		struct ish_target *t;
		struct stat st;
		uint64_t v = 1;

		OK(ish_target_open(path, "dump", NULL, 0, 0, &t));
		OK(ish_read_u64(t, 0x1018, &v));
		CHECK_EQ(v, 0);
		FAILS(ish_read_u64(t, 0x1020, &v), ISH_ERROR_FAULT);
		ish_target_close(t);
		CHECK(stat(path, &st) == 0 && st.st_size < 512);
		unlink(path);
	}
	snap.nranges = 0;
	FAILS(ish_snapshot_write_elf(tmp_path("nodir/x.core"), &snap), ISH_ERROR_OS);
	FAILS(ish_snapshot_write_elf("", &snap), ISH_ERROR_INVALID);
	/* a directory in the way of the rename: the .tmp file is removed */
	CHECK(mkdir(tmp_path("isdir"), 0755) == 0);
	CHECK(mkdir(tmp_path("isdir/sub"), 0755) == 0);
	FAILS(ish_snapshot_write_elf(tmp_path("isdir"), &snap), ISH_ERROR_OS);
	CHECK(!exists(tmp_path("isdir.tmp")));
	CHECK(exists(tmp_path("isdir/sub")));
	CHECK(!exists(path));
}

/* 70000 separate ranges: more than 65535 program headers (gABI extended numbering). */
static void test_many_segments(void)
{
	enum { N = 70000 };
	const char *path = tmp_path("many.core");
	struct ish_snapshot_range *r = calloc(N, sizeof(*r));
	uint8_t *bytes = malloc(N * 8), buf[8];
	struct ish_snapshot snap = { 0 };
	struct ish_target *t;
	GElf_Phdr last[1];
	size_t phnum;

	for (uint32_t i = 0; i < N; i++) {
		put32(bytes + 8 * i, i);
		put32(bytes + 8 * i + 4, ~i);
		r[i] = (struct ish_snapshot_range){ 16ULL * i, 8, bytes + 8 * i };
	}
	snap.ranges = r;
	snap.nranges = N;
	OK(ish_snapshot_write_elf(path, &snap));
	elf_loads(path, last, 1, &phnum);
	CHECK_EQ(phnum, N + 1);
	OK(ish_target_open(path, NULL, NULL, 0, 0, &t));
	OK(ish_read_phys(t, 16ULL * (N - 1), buf, 8));
	CHECK(!memcmp(buf, bytes + 8 * (N - 1), 8));
	OK(ish_read_phys(t, 16ULL * 12345 + 4, buf, 4));
	CHECK(!memcmp(buf, bytes + 8 * 12345 + 4, 4));
	FAILS(ish_read_phys(t, 16ULL * 12345 + 8, buf, 4), ISH_ERROR_FAULT);
	ish_target_close(t);
	free(r);
	free(bytes);
}

/* --- the note reader --- */

static size_t note(uint8_t *p, const char *name, uint32_t type, const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t at = 12;

	put32(p, namesz);
	put32(p + 4, descsz);
	put32(p + 8, type);
	memset(p + 12, 0, (namesz + 3) & ~3u);
	memcpy(p + 12, name, namesz);
	at += (namesz + 3) & ~3u;
	memset(p + at, 0, (descsz + 3) & ~3u);
	memcpy(p + at, desc, descsz);
	return at + ((descsz + 3) & ~3u);
}

static void test_notes(void)
{
	uint8_t seg[1024], unit[32 + 2 * 16], ver[8] = { 0 }, junk[5] = { 1, 2, 3, 4, 5 };
	struct ish_snapshot_notes *n;
	size_t len = 0;
	uint64_t v;

	put32(ver, ISH_SNAPSHOT_VERSION | 7);	/* a newer minor version is fine */
	memset(unit, 0, sizeof(unit));
	memcpy(unit, "dmar9\x01", 6);	/* control characters are not passed on */
	unit[16] = 3;
	unit[18] = 1;
	put32(unit + 20, 2);
	put64(unit + 24, 0xfed9a000);
	put32(unit + 32, 0x1c);
	put32(unit + 36, 32);
	put64(unit + 40, 0x80000000);
	put32(unit + 48, 0x20);
	put32(unit + 52, 64);
	put64(unit + 56, 0x123456789000ULL);

	len += note(seg + len, "CORE", 1, junk, 5);	/* foreign notes are skipped */
	len += note(seg + len, "IOMMUSH", ISH_NT_VERSION, ver, 8);
	len += note(seg + len, "IOMMUSH", 99, junk, 5);	/* unknown types too */
	len += note(seg + len, "IOMMUSH", ISH_NT_UNIT, unit, sizeof(unit));
	OK(ish_snapshot_parse_notes(seg, len, &n));
	CHECK_EQ(n->version, ISH_SNAPSHOT_VERSION | 7);
	CHECK_EQ(n->nunits, 1);
	CHECK_STR(n->units[0].name, "dmar9?");
	CHECK_EQ(n->units[0].segment, 3);
	CHECK_EQ(n->units[0].drhd_flags, 1);
	CHECK_EQ(n->units[0].reg_base, 0xfed9a000);
	OK(ish_regfile_get(n->regs[0], 0x1c, 32, &v));
	CHECK_EQ(v, 0x80000000);
	OK(ish_regfile_get(n->regs[0], 0x20, 64, &v));
	CHECK_EQ(v, 0x123456789000ULL);
	CHECK(n->dmar == NULL);
	ish_snapshot_notes_destroy(n);

	/* a segment with only foreign notes: empty, not an error */
	len = note(seg, "CORE", 1, junk, 5);
	OK(ish_snapshot_parse_notes(seg, len, &n));
	CHECK_EQ(n->version, 0);
	CHECK_EQ(n->nunits, 0);
	ish_snapshot_notes_destroy(n);
	/* trailing bytes shorter than a note header are ignored */
	OK(ish_snapshot_parse_notes(seg, len + 3, &n));
	ish_snapshot_notes_destroy(n);

	/* lying nregs */
	put32(unit + 20, 3);
	len = note(seg, "IOMMUSH", ISH_NT_UNIT, unit, sizeof(unit));
	FAILS(ish_snapshot_parse_notes(seg, len, &n), ISH_ERROR_FORMAT);
	put32(unit + 20, 0xffffffffu);
	len = note(seg, "IOMMUSH", ISH_NT_UNIT, unit, sizeof(unit));
	FAILS(ish_snapshot_parse_notes(seg, len, &n), ISH_ERROR_FORMAT);
	put32(unit + 20, 2);
	/* a bad width, a value wider than its width, an offset past the block */
	put32(unit + 36, 24);
	len = note(seg, "IOMMUSH", ISH_NT_UNIT, unit, sizeof(unit));
	FAILS(ish_snapshot_parse_notes(seg, len, &n), ISH_ERROR_FORMAT);
	put32(unit + 36, 32);
	put64(unit + 40, 0x100000000ULL);
	len = note(seg, "IOMMUSH", ISH_NT_UNIT, unit, sizeof(unit));
	FAILS(ish_snapshot_parse_notes(seg, len, &n), ISH_ERROR_FORMAT);
	put64(unit + 40, 1);
	put32(unit + 32, 0xfffffff0u);
	len = note(seg, "IOMMUSH", ISH_NT_UNIT, unit, sizeof(unit));
	FAILS(ish_snapshot_parse_notes(seg, len, &n), ISH_ERROR_FORMAT);
	/* a unit descriptor shorter than its header */
	len = note(seg, "IOMMUSH", ISH_NT_UNIT, unit, 20);
	FAILS(ish_snapshot_parse_notes(seg, len, &n), ISH_ERROR_FORMAT);
	/* an unknown major version */
	put32(ver, 0x00020000);
	len = note(seg, "IOMMUSH", ISH_NT_VERSION, ver, 8);
	FAILS(ish_snapshot_parse_notes(seg, len, &n), ISH_ERROR_FORMAT);
	/* two DMAR notes */
	len = note(seg, "IOMMUSH", ISH_NT_DMAR, junk, 5);
	len += note(seg + len, "IOMMUSH", ISH_NT_DMAR, junk, 5);
	FAILS(ish_snapshot_parse_notes(seg, len, &n), ISH_ERROR_FORMAT);
	/* sizes that run past the segment */
	len = note(seg, "IOMMUSH", ISH_NT_DMAR, junk, 5);
	put32(seg + 4, 0xfffffff0u);
	FAILS(ish_snapshot_parse_notes(seg, len, &n), ISH_ERROR_FORMAT);
	put32(seg + 4, 5);
	put32(seg, 0xfffffffdu);
	FAILS(ish_snapshot_parse_notes(seg, len, &n), ISH_ERROR_FORMAT);

	/* random mutations: a result or ISH_ERROR_FORMAT, never anything else */
	{
		uint8_t good[1024], m[1024];
		size_t glen = 0;
		unsigned unexpected = 0;

		put32(ver, ISH_SNAPSHOT_VERSION);
		put32(unit + 32, 0x1c);
		glen += note(good + glen, "IOMMUSH", ISH_NT_VERSION, ver, 8);
		glen += note(good + glen, "IOMMUSH", ISH_NT_UNIT, unit, sizeof(unit));
		glen += note(good + glen, "IOMMUSH", ISH_NT_DMAR, junk, 5);
		OK(ish_snapshot_parse_notes(good, glen, &n));
		ish_snapshot_notes_destroy(n);
		srand(11);
		for (int iter = 0; iter < 20000; iter++) {
			size_t l = glen;
			struct ish_error *err;

			memcpy(m, good, glen);
			for (int k = rand() % 4; k >= 0; k--)
				m[rand() % glen] = (uint8_t)rand();
			if (iter % 5 == 0)
				l = (size_t)rand() % glen;
			err = ish_snapshot_parse_notes(m, l, &n);
			if (err) {
				unexpected += err->code != ISH_ERROR_FORMAT;
				ish_error_destroy(err);
			} else {
				ish_snapshot_notes_destroy(n);
			}
		}
		CHECK_EQ(unexpected, 0);
	}
}

/* A snapshot taken from a mem target, as the `snapshot` command will. */
static void test_from_mem_target(void)
{
	const char *path = tmp_path("mem.core");
	struct ish_target *m, *t;
	struct ish_regfile *rf;
	uint8_t *ram, buf[16];
	struct ish_snapshot_range r;
	struct ish_snapshot_unit u = { 0 };
	struct ish_snapshot snap = { 0 };
	struct stat st1, st2;
	uint64_t v;

	OK(ish_mem_open(&m));
	OK(ish_mem_add_ram(m, 0x100000, 0x2000, (void **)&ram));
	OK(ish_mem_add_unit(m, 0xfed90000, 0, NULL));
	OK(ish_mem_set_reg(m, 0, DMAR_RTADDR_REG, 64, 0x100000));
	CHECK(ish_mem_put64(m, 0x100000, 0x101001));	/* a present root entry */
	OK(ish_regfile_create(&rf));
	OK(ish_read_reg(m, 0, DMAR_RTADDR_REG, 64, &v));
	OK(ish_regfile_set(rf, DMAR_RTADDR_REG, 64, v));
	u.unit = *ish_target_unit(m, 0);
	u.regs = rf;
	r = (struct ish_snapshot_range){ 0x100000, 0x2000, ram };
	snap = (struct ish_snapshot){ .ranges = &r, .nranges = 1, .units = &u, .nunits = 1 };
	OK(ish_snapshot_write_elf(path, &snap));
	ish_target_close(m);
	ish_regfile_destroy(rf);

	CHECK(stat(path, &st1) == 0);
	OK(ish_target_open(path, NULL, NULL, 0, 0, &t));
	OK(ish_read_reg(t, 0, DMAR_RTADDR_REG, 64, &v));
	CHECK_EQ(v, 0x100000);
	OK(ish_read_u64(t, v, &v));
	CHECK_EQ(v, 0x101001);
	OK(ish_read_phys(t, 0x101ff0, buf, 16));
	ish_target_close(t);
	CHECK(stat(path, &st2) == 0);
	CHECK_EQ(st1.st_size, st2.st_size);
	CHECK_EQ(st1.st_mtime, st2.st_mtime);
}

int main(int argc, char **argv)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ish-test-snap-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	check_init(argc, argv);
	CASE("roundtrip") test_roundtrip();
	CASE("write_errors") test_write_errors();
	CASE("many_segments") test_many_segments();
	CASE("notes") test_notes();
	CASE("from_mem_target") test_from_mem_target();
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
	return check_report();
}
