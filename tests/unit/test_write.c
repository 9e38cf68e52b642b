// SPDX-License-Identifier: MIT
/*
 * The write gate and the write log (include/iommush/write.h) on the live-host
 * backends, run against files: a file laid out like /dev/mem built from the
 * demo snapshot of a real QEMU guest, and a fake /sys/class/iommu laid out
 * as Linux lays it out (class symlinks into /sys/devices/virtual/iommu, the
 * driver's "intel-iommu" attribute group). Nothing of this machine is read.
 */
#include <errno.h>
#include <sys/stat.h>

#include <iommush/debugfs.h>
#include <iommush/vtd/invalidate.h>
#include <iommush/mem.h>
#include <iommush/regs.h>
#include <iommush/vtd/vtd.h>
#include <iommush/write.h>

#include "live_common.h"

static char tmpl[] = "/tmp/ish-write-XXXXXX";
static char *dir, *mem_path, *dmar_path, *sys_owned, *sys_other, *log_path, *dfs_root;
static struct seg segs[256];
static size_t nsegs;
static uint64_t reg_base;

static char *path_in(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		exit(1);
	return p;
}

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void run(const char *cmd)
{
	if (system(cmd)) {
		fprintf(stderr, "failed: %s\n", cmd);
		exit(1);
	}
}

/*
 * /sys as Linux builds it for one unit the intel-iommu driver registered:
 * class/iommu/NAME -> ../../devices/virtual/iommu/NAME, whose intel-iommu/
 * holds version ("%d:%d"), address, cap, ecap ("%llx").
 */
static char *make_sysfs(const char *name, const char *unit, uint64_t base, uint64_t cap,
			uint64_t ecap)
{
	char *root = path_in(name), cmd[1024], buf[64], *p;

	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s/devices/virtual/iommu/%s/intel-iommu' '%s/class/iommu' && "
		 "ln -s ../../devices/virtual/iommu/%s '%s/class/iommu/%s'",
		 root, unit, root, unit, root, unit);
	run(cmd);
	if (asprintf(&p, "%s/devices/virtual/iommu/%s/intel-iommu/address", root, unit) < 0)
		exit(1);
	snprintf(buf, sizeof(buf), "%" PRIx64 "\n", base);
	put_file(p, buf);
	strcpy(strrchr(p, '/'), "/cap");
	snprintf(buf, sizeof(buf), "%" PRIx64 "\n", cap);
	put_file(p, buf);
	strcpy(strrchr(p, '/'), "/ecap");
	snprintf(buf, sizeof(buf), "%" PRIx64 "\n", ecap);
	put_file(p, buf);
	strcpy(strrchr(p, '/'), "/version");
	put_file(p, "1:0\n");
	free(p);
	p = root;
	if (asprintf(&root, "%s/class/iommu", p) < 0)
		exit(1);
	free(p);
	return root;
}

static void build(struct ish_target *dump)
{
	const struct ish_unit *u = ish_target_unit(dump, 0);
	uint64_t cap, ecap;
	char cmd[1024];

	reg_base = u->reg_base;
	mem_path = path_in("mem");
	log_path = path_in("write.log");
	write_devmem_file(dump, segs, nsegs, mem_path);
	dmar_path = write_dmar(dump, dir);
	OK(ish_read_reg(dump, 0, DMAR_CAP_REG, 64, &cap));
	OK(ish_read_reg(dump, 0, DMAR_ECAP_REG, 64, &ecap));
	sys_owned = make_sysfs("sys", "dmar0", u->reg_base, cap, ecap);
	/* the driver registered another unit, not this one */
	sys_other = make_sysfs("sys-other", "dmar1", u->reg_base + 0x10000, cap, ecap);
	/* a real debugfs capture, uncompressed as the kernel shows it */
	dfs_root = path_in("debugfs");
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p '%s' && for f in '%s'/*.gz; do b=$(basename \"$f\" .gz); "
		 "gzip -dc \"$f\" > '%s'/\"$b\"; done",
		 dfs_root, ISH_SOURCE_ROOT "/tests/fixtures/debugfs/6.1-legacy/debugfs", dfs_root);
	run(cmd);
}

static struct ish_error *open_live(const char *backend, const char *sysfs, const char *devmem,
				   unsigned flags, struct ish_target **t)
{
	struct ish_param p[] = {
		{ "devmem.path", devmem },	{ "acpi.dmar", dmar_path },
		{ "lockdown.path", "" },	{ "iommu.sysfs", sysfs },
		{ "write.log", log_path },	{ "write.syslog", "off" },
		{ "kcore.path", "/nonexistent/kcore" }, { "debugfs.root", dfs_root },
	};
	size_t n = !strcmp(backend, "live") ? 8 : 6;

	return ish_target_open(backend, NULL, p, n, flags, t);
}

/* The bytes of the /dev/mem-like file at addr. */
static uint64_t file_word(uint64_t addr, unsigned bytes)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	int fd = open(mem_path, O_RDONLY);

	if (fd < 0 || pread(fd, b, bytes, (off_t)addr) != (ssize_t)bytes)
		exit(1);
	close(fd);
	for (unsigned i = bytes; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

static void set_file_word(uint64_t addr, uint64_t v, unsigned bytes)
{
	int fd = open(mem_path, O_RDWR);
	uint8_t b[8];

	for (unsigned i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	write_all(fd, b, bytes, addr);
	close(fd);
}

static char *slurp_log(void)
{
	static char buf[1 << 16];
	int fd = open(log_path, O_RDONLY);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

struct asked {
	unsigned calls;
	bool answer;
	char what[64], units[64], forced[256], evidence[256];
};

static struct ish_error *confirm(void *arg, const struct ish_write_question *q)
{
	struct asked *a = arg;

	a->calls++;
	snprintf(a->what, sizeof(a->what), "%s", q->what);
	snprintf(a->units, sizeof(a->units), "%s", q->units);
	snprintf(a->forced, sizeof(a->forced), "%s", q->forced ? q->forced : "");
	snprintf(a->evidence, sizeof(a->evidence), "%s", q->evidence ? q->evidence : "");
	return a->answer ? NULL : ish_error_create(ISH_ERROR_REFUSED, "the answer was no");
}

static void test_log_format(void)
{
	uint8_t old[70], new[70];
	struct ish_write_record r = {
		.time_ns = 1000000000LL * 86400 + 123456789, .uid = 0, .pid = 42,
		.backend = "devmem", .spec = "de\"v\nm\\em", .op = "set reg GCMD", .unit = "dmar0",
		.is_reg = true, .reg = "GCMD", .offset = 0x18, .width = 32, .have_old = true,
		.old = 0, .value = 0x80000000, .result = "ok",
	};
	char buf[512];
	int n;

	n = ish_write_log_format(&r, buf, sizeof(buf));
	CHECK_STR(buf, "1970-01-02T00:00:00.123456Z uid=0 pid=42 backend=devmem "
		       "spec=\"de\\\"v\\x0am\\\\em\" op=\"set reg GCMD\" unit=dmar0 reg=GCMD "
		       "offset=0x18 width=32 old=0 new=0x80000000 result=ok\n");
	CHECK_EQ(n, strlen(buf));
	/* what it needs, as snprintf says, when the buffer is short */
	CHECK_EQ(ish_write_log_format(&r, buf, 10), n);
	CHECK_EQ(strlen(buf), 9);

	r.have_old = false;
	r.result = "error";
	r.reason = "bus error";
	ish_write_log_format(&r, buf, sizeof(buf));
	CHECK(strstr(buf, " old=? new=0x80000000 result=error reason=\"bus error\"\n"));

	for (int i = 0; i < 70; i++) {
		old[i] = (uint8_t)i;
		new[i] = 0xab;
	}
	memset(&r, 0, sizeof(r));
	r.backend = "devmem";
	r.spec = "devmem";
	r.op = "memory write";
	r.addr = 0x1000;
	r.len = 3;
	r.old_bytes = old;
	r.new_bytes = new;
	r.result = "ok";
	ish_write_log_format(&r, buf, sizeof(buf));
	CHECK(strstr(buf, " unit=- mem=0x1000 len=3 old=000102 new=ababab result=ok\n"));
	r.len = 70;
	r.old_bytes = NULL;
	ish_write_log_format(&r, buf, sizeof(buf));
	/* at most 64 bytes, then "..." */
	CHECK(strstr(buf, " len=70 old=? new=abababab"));
	CHECK_EQ(count(buf, "ab"), 64);
	CHECK(strstr(buf, "...result") == NULL && strstr(buf, "ab... result=ok\n"));

	memset(&r, 0, sizeof(r));
	r.is_op = true;
	r.op = "invalidate context";
	r.result = "refused";
	r.reason = "read-only";
	ish_write_log_format(&r, buf, sizeof(buf));
	CHECK(strstr(buf, " op=\"invalidate context\" unit=- result=refused reason=\"read-only\"\n"));
	CHECK(!strstr(buf, "reg=") && !strstr(buf, "mem="));
}

static void test_read_only(void)
{
	struct ish_target *t;
	struct ish_error *err;
	uint64_t before = file_word(reg_base + DMAR_FECTL_REG, 4);

	OK(open_live("devmem", sys_other, mem_path, 0, &t));
	err = ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0x80000000);
	CHECK(err && err->code == ISH_ERROR_READ_ONLY && strstr(err->message, "--write"));
	ish_error_destroy(err);
	FAILS(ish_write_phys(t, 0x1000, "x", 1), ISH_ERROR_READ_ONLY);
	ish_target_close(t);
	CHECK_EQ(file_word(reg_base + DMAR_FECTL_REG, 4), before);
	/* refusals are logged too */
	CHECK(strstr(slurp_log(), "backend=devmem") && strstr(slurp_log(), "result=refused reason=\"target is read-only"));
}

/* FNV-1a over the whole /dev/mem-like file: a refused write leaves every byte. */
/*
 * A hash of the /dev/mem-like file: its size, and each data extent with
 * where it lies. The file reaches the register block above 4 GiB and is
 * nearly all hole, so hashing every byte cost ~20 s a call; a write anywhere
 * makes or changes an extent, so skipping the holes misses none.
 */
static uint64_t file_sum(void)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint8_t buf[65536];
	int fd = open(mem_path, O_RDONLY);
	struct stat st;
	off_t pos = 0, end;

	if (fd < 0 || fstat(fd, &st))
		exit(1);
	h = (h ^ (uint64_t)st.st_size) * 0x100000001b3ULL;
	while ((pos = lseek(fd, pos, SEEK_DATA)) >= 0) {
		end = lseek(fd, pos, SEEK_HOLE);
		if (end < 0)
			exit(1);
		h = (h ^ (uint64_t)pos) * 0x100000001b3ULL;
		while (pos < end) {
			size_t want = end - pos < (off_t)sizeof(buf) ? (size_t)(end - pos) : sizeof(buf);
			ssize_t n = pread(fd, buf, want, pos);

			if (n <= 0)
				exit(1);
			for (ssize_t i = 0; i < n; i++)
				h = (h ^ buf[i]) * 0x100000001b3ULL;
			pos += n;
		}
	}
	close(fd);
	return h;
}

/* file_sum sees a one-byte change in the file's data and nothing once it is undone. */
static void test_file_sum(void)
{
	uint64_t before = file_sum();
	int fd = open(mem_path, O_RDWR);
	off_t pos = fd < 0 ? -1 : lseek(fd, 0, SEEK_DATA);
	uint8_t b, flipped;

	CHECK(pos >= 0);
	if (pos < 0)
		return;
	CHECK(pread(fd, &b, 1, pos) == 1);
	flipped = b ^ 0x40;
	CHECK(pwrite(fd, &flipped, 1, pos) == 1);
	CHECK(file_sum() != before);
	CHECK(pwrite(fd, &b, 1, pos) == 1);
	close(fd);
	CHECK_EQ(file_sum(), before);
}

static void refused_as(struct ish_error *err, int code, const char *message)
{
	CHECK(err != NULL);
	if (!err)
		return;
	CHECK_EQ(err->code, code);
	CHECK_STR(err->message, message);
	ish_error_destroy(err);
}

/*
 * The register access model (regs.h) in the gate: read-only registers and
 * offsets without a register are refused for every caller, before write
 * mode is looked at; WO and RW1C registers are written.
 */
static void test_access_model(void)
{
	const char *cap_ro = "CAP is read-only (RO): the hardware ignores writes to it (VT-d 11.4.2)";
	const char *gsts_ro =
		"GSTS is read-only (RO): the hardware ignores writes to it (VT-d 11.4.4.2)";
	struct ish_target *t;
	uint64_t sum = file_sum(), cap, v;
	uint32_t frcd;
	const struct ish_reg_def *r;
	unsigned index, shift;
	char note[512];

	/* Read-only target: a RO register is refused as RO, a RW one for want of --write. */
	OK(open_live("devmem", sys_other, mem_path, 0, &t));
	refused_as(ish_write_reg(t, 0, DMAR_CAP_REG, 64, 0), ISH_ERROR_REFUSED, cap_ro);
	refused_as(ish_write_reg(t, 0, DMAR_FEDATA_REG, 32, 0x1234), ISH_ERROR_READ_ONLY,
		   "target is read-only: write register 0x3c of dmar0 needs --write or 'set write on'");
	ish_target_close(t);
	CHECK_EQ(file_sum(), sum);
	CHECK(strstr(slurp_log(), "op=\"write register 0x8 of dmar0\" unit=dmar0 reg=CAP offset=0x8 "
				  "width=64 old=? new=0 result=refused reason=\"CAP is read-only (RO)"));
	CHECK(strstr(slurp_log(), "op=\"write register 0x3c of dmar0\" unit=dmar0 result=refused "
				  "reason=\"target is read-only: write register 0x3c of dmar0 needs --write"));

	OK(open_live("devmem", sys_other, mem_path, ISH_OPEN_WRITE | ISH_OPEN_YES, &t));
	refused_as(ish_write_reg(t, 0, DMAR_CAP_REG, 64, 0), ISH_ERROR_REFUSED, cap_ro);
	/* the upper dword of CAP is CAP too */
	refused_as(ish_write_reg(t, 0, DMAR_CAP_REG + 4, 32, 0), ISH_ERROR_REFUSED, cap_ro);
	refused_as(ish_write_reg(t, 0, DMAR_GSTS_REG, 32, 0x80000000), ISH_ERROR_REFUSED, gsts_ro);
	refused_as(ish_write_reg(t, 0, DMAR_VER_REG, 32, 0), ISH_ERROR_REFUSED,
		   "VER is read-only (RO): the hardware ignores writes to it (VT-d 11.4.1)");
	refused_as(ish_write_reg(t, 0, DMAR_IQH_REG, 64, 0), ISH_ERROR_REFUSED,
		   "IQH is read-only (RO): the hardware ignores writes to it (VT-d 11.4 "
		   "Invalidation Queue Head Register)");
	/* no register at 0x4 (after VER), at 0x30 (between CCMD and FSTS), at 0xff8 */
	refused_as(ish_write_reg(t, 0, 0x4, 32, 0), ISH_ERROR_NOT_FOUND,
		   "dmar0 has no VT-d register at offset 0x4 (a 32-bit write): refusing a write the "
		   "register table cannot check");
	refused_as(ish_write_reg(t, 0, 0x30, 32, 1), ISH_ERROR_NOT_FOUND,
		   "dmar0 has no VT-d register at offset 0x30 (a 32-bit write): refusing a write the "
		   "register table cannot check");
	refused_as(ish_write_reg(t, 0, 0xff8, 64, 1), ISH_ERROR_NOT_FOUND,
		   "dmar0 has no VT-d register at offset 0xff8 (a 64-bit write): refusing a write the "
		   "register table cannot check");
	/* the fault records move with CAP.FRO: FRCD0_LO is RO, FRCD0_HI's F is RW1C */
	OK(ish_read_reg(t, 0, DMAR_CAP_REG, 64, &cap));
	frcd = cap_fault_reg_offset(cap);
	refused_as(ish_write_reg(t, 0, frcd, 64, 0), ISH_ERROR_REFUSED,
		   "FRCD0_LO is read-only (RO): the hardware ignores writes to it (VT-d 11.4 Fault "
		   "Recording Registers [n])");
	CHECK_EQ(file_sum(), sum);
	CHECK(strstr(slurp_log(), "reg=GSTS offset=0x1c width=32 old=? new=0x80000000 result=refused "
				  "reason=\"GSTS is read-only (RO)"));
	CHECK(strstr(slurp_log(), "reg=? offset=0x4 width=32 old=? new=0 result=refused "
				  "reason=\"dmar0 has no VT-d register at offset 0x4"));
	/* written: WO GCMD, RW1C FSTS and FRCD0_HI, the upper dword of RTADDR */
	OK(ish_write_reg(t, 0, DMAR_GCMD_REG, 32, 0));
	OK(ish_write_reg(t, 0, DMAR_FSTS_REG, 32, 0x2));
	CHECK_EQ(file_word(reg_base + DMAR_FSTS_REG, 4), 0x2);
	OK(ish_write_reg(t, 0, frcd + 8, 64, 1ULL << 63));
	OK(ish_read_reg(t, 0, DMAR_RTADDR_REG + 4, 32, &v));
	OK(ish_write_reg(t, 0, DMAR_RTADDR_REG + 4, 32, v));
	ish_target_close(t);

	/* What a write does beyond storing: the notes set reg and t:write_reg return. */
	r = ish_reg_find("FSTS");
	CHECK_STR(ish_reg_write_note(r, "FSTS", 0x2, 0, note, sizeof(note)),
		  "FSTS is RW1C: 0x2 clears nothing (writing 1 clears a bit, 0 leaves it as it is); "
		  "PPF is RO: this write does not change it");
	CHECK_STR(ish_reg_write_note(r, "FSTS", 0x11, 0, note, sizeof(note)),
		  "FSTS is RW1C: writing 1 clears IQE, PFO; 0 leaves a bit as it is");
	CHECK_STR(ish_reg_write_note(r, "FSTS", 0, 0, note, sizeof(note)),
		  "FSTS is RW1C: 0 clears nothing (writing 1 clears a bit, 0 leaves it as it is)");
	r = ish_reg_parse("FRCD0_HI", &index);
	CHECK_STR(ish_reg_write_note(r, "FRCD0_HI", 1ULL << 63, 0, note, sizeof(note)),
		  "FRCD0_HI is RW1C: writing 1 clears F; 0 leaves a bit as it is");
	r = ish_reg_find("GCMD");
	CHECK(ish_reg_write_note(r, "GCMD", 0x80000000, 0, note, sizeof(note)) == NULL);
	CHECK_STR(ish_reg_write_note(r, "GCMD", 0x80000001, 0, note, sizeof(note)),
		  "bits 0x1 of GCMD are reserved (RsvdZ): the specification says to write 0 there");
	r = ish_reg_find("FECTL");
	CHECK_STR(ish_reg_write_note(r, "FECTL", 0xc0000000, 0, note, sizeof(note)),
		  "IP is RO: this write does not change it");
	/* the upper dword of a 64-bit register */
	r = ish_reg_for_access(DMAR_RTADDR_REG + 4, 32, 0, 0, &index, &shift);
	CHECK(r && !strcmp(r->name, "RTADDR") && shift == 32);
	CHECK(ish_reg_for_access(DMAR_GCMD_REG, 64, 0, 0, &index, &shift) == NULL);
}

static void test_owned(void)
{
	struct ish_unit_owner o;
	struct ish_target *t;
	struct ish_error *err;
	struct asked a = { .answer = true };
	uint64_t before = file_word(reg_base + DMAR_FECTL_REG, 4);

	OK(open_live("devmem", sys_owned, mem_path, ISH_OPEN_WRITE, &t));
	ish_target_set_confirm(t, confirm, &a);
	OK(ish_unit_owner(t, 0, &o));
	CHECK(o.live && o.sysfs_read && o.owned);
	CHECK_STR(o.sysfs_name, "dmar0");
	/* the demo guest's GSTS: 0xc7000000 */
	CHECK(o.have_gsts && o.tes && o.qies && o.ires);
	CHECK_EQ(o.gsts, 0xc7000000);
	err = ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0x80000000);
	CHECK(err && err->code == ISH_ERROR_REFUSED);
	if (err) {
		CHECK(strstr(err->message, "intel-iommu driver owns dmar0"));
		CHECK(strstr(err->message, "/class/iommu/dmar0"));
		CHECK(strstr(err->message, "TES+ QIES+ IRES+"));
		CHECK(strstr(err->message, "--force"));
	}
	ish_error_destroy(err);
	/* memory writes touch the driver's tables: refused as well */
	FAILS(ish_write_phys(t, 0x1000, "x", 1), ISH_ERROR_REFUSED);
	/* and an invalidation, before any question */
	{
		struct ish_inval_req req = { .what = ISH_INVAL_IOTLB, .timeout_ms = 5 };
		struct ish_inval_result res;

		FAILS(ish_invalidate(t, 0, &req, ISH_INVAL_AUTO, &res), ISH_ERROR_REFUSED);
	}
	CHECK_EQ(a.calls, 0);
	ish_target_close(t);
	CHECK_EQ(file_word(reg_base + DMAR_FECTL_REG, 4), before);
	CHECK(strstr(slurp_log(), "result=refused reason=\"the kernel's intel-iommu driver owns dmar0"));

	/* the driver registered only another unit: this one is free */
	OK(open_live("devmem", sys_other, mem_path, ISH_OPEN_WRITE | ISH_OPEN_YES, &t));
	OK(ish_unit_owner(t, 0, &o));
	CHECK(o.sysfs_read && !o.owned);
	ish_target_close(t);
	/* no sysfs at all: nothing known, nothing owned */
	OK(open_live("devmem", "/nonexistent/iommu", mem_path, ISH_OPEN_WRITE, &t));
	OK(ish_unit_owner(t, 0, &o));
	CHECK(o.live && !o.sysfs_read && !o.owned);
	ish_target_close(t);
}

static void test_confirm_and_write(void)
{
	struct ish_target *t;
	struct ish_error *err;
	struct asked a = { .answer = false };
	uint64_t fectl = file_word(reg_base + DMAR_FECTL_REG, 4);
	uint64_t fedata = file_word(reg_base + DMAR_FEDATA_REG, 4);
	uint64_t gsts = file_word(reg_base + DMAR_GSTS_REG, 4);
	uint64_t iqt = file_word(reg_base + DMAR_IQT_REG, 8);
	char want[256], *log;

	/* forced, but nobody to ask and no --yes */
	OK(open_live("devmem", sys_owned, mem_path, ISH_OPEN_WRITE | ISH_OPEN_FORCE, &t));
	err = ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0x80000000);
	CHECK(err && err->code == ISH_ERROR_REFUSED && strstr(err->message, "--yes"));
	ish_error_destroy(err);
	/* the answer is no */
	ish_target_set_confirm(t, confirm, &a);
	FAILS(ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0x80000000), ISH_ERROR_REFUSED);
	CHECK_EQ(a.calls, 1);
	CHECK_STR(a.units, "dmar0");
	CHECK(strstr(a.forced, "dmar0") != NULL);
	CHECK(strstr(a.evidence, "dmar0: GSTS 0xc7000000: TES+ QIES+ IRES+") != NULL);
	CHECK_EQ(file_word(reg_base + DMAR_FECTL_REG, 4), fectl);
	/* yes: exactly 4 bytes at the register, little-endian */
	a.answer = true;
	OK(ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0x80000000));
	CHECK_EQ(a.calls, 2);
	CHECK_EQ(file_word(reg_base + DMAR_FECTL_REG, 4), 0x80000000);
	CHECK_EQ(file_word(reg_base + DMAR_FEDATA_REG, 4), fedata);
	CHECK_EQ(file_word(reg_base + DMAR_GSTS_REG, 4), gsts);
	/* and it reads back through the (now writable) mapping */
	{
		uint64_t v;

		OK(ish_read_reg(t, 0, DMAR_FECTL_REG, 32, &v));
		CHECK_EQ(v, 0x80000000);
	}
	/* a 64-bit register takes 8 bytes */
	{
		uint64_t irta = file_word(reg_base + DMAR_IRTA_REG, 8);

		OK(ish_write_reg(t, 0, DMAR_IRTA_REG, 64, 0x1122334455667780ULL));
		CHECK_EQ(file_word(reg_base + DMAR_IRTA_REG, 8), 0x1122334455667780ULL);
		OK(ish_write_reg(t, 0, DMAR_IRTA_REG, 64, irta));
		CHECK_EQ(file_word(reg_base + DMAR_IRTA_REG, 8), irta);
	}
	/* IQT of the driver's queue: refused even with --force, the tail untouched */
	err = ish_write_reg(t, 0, DMAR_IQT_REG, 64, 0x1122334455667780ULL);
	CHECK(err && err->code == ISH_ERROR_REFUSED);
	{
		static const char refusal[] =
			"writing IQT of dmar0 is refused, even with --force: another agent drives "
			"its invalidation queue (the kernel's intel-iommu driver registered dmar0 (";

		CHECK(!strncmp(err->message, refusal, sizeof(refusal) - 1));
	}
	ish_error_destroy(err);
	CHECK_EQ(file_word(reg_base + DMAR_IQT_REG, 8), iqt);
	/* a 64-bit access to a 32-bit register never reaches the hardware */
	err = ish_write_reg(t, 0, DMAR_FECTL_REG, 64, 0);
	CHECK(err && err->code == ISH_ERROR_INVALID && strstr(err->message, "FECTL") &&
	      strstr(err->message, "32-bit register"));
	ish_error_destroy(err);
	CHECK_EQ(file_word(reg_base + DMAR_FECTL_REG, 4), 0x80000000);
	/* one operation, one question, however many writes */
	a.calls = 0;
	OK(ish_write_begin(t, 0, ISH_WRITE_REGS | ISH_WRITE_MEMORY, "test op"));
	OK(ish_write_reg(t, 0, DMAR_FEDATA_REG, 32, 0x4021));
	OK(ish_write_reg(t, 0, DMAR_FEADDR_REG, 32, 0xfee00000));
	OK(ish_write_phys(t, 0x3000, "\x01\x02\x03\x04", 4));
	ish_write_end(t);
	CHECK_EQ(a.calls, 1);
	CHECK_STR(a.what, "test op");
	CHECK_EQ(file_word(reg_base + DMAR_FEDATA_REG, 4), 0x4021);
	CHECK_EQ(file_word(0x3000, 4), 0x04030201);
	/* RAM writes never reach a register block: that would be byte-wide MMIO */
	err = ish_write_phys(t, reg_base + DMAR_FECTL_REG, "\0\0\0\0", 4);
	CHECK(err && err->code == ISH_ERROR_INVALID && strstr(err->message, "set reg"));
	ish_error_destroy(err);
	/* nor grow the file */
	FAILS(ish_write_phys(t, reg_base + 0x100000, "x", 1), ISH_ERROR_FAULT);
	ish_target_close(t);

	log = slurp_log();
	snprintf(want, sizeof(want),
		 " op=\"write register 0x38 of dmar0\" unit=dmar0 reg=FECTL offset=0x38 width=32 "
		 "old=%#" PRIx64 " new=0x80000000 result=ok\n", fectl);
	/* 0 prints as 0 with %#x */
	CHECK(strstr(log, want) != NULL);
	CHECK(strstr(log, " reg=IRTA offset=0xb8 width=64 old=0x") &&
	      strstr(log, " new=0x1122334455667780 result=ok\n"));
	CHECK(strstr(log, "result=refused reason=\"writing IQT of dmar0 is refused, even with --force"));
	CHECK(strstr(log, " op=\"test op\" unit=dmar0 reg=FEDATA offset=0x3c width=32"));
	CHECK(strstr(log, " op=\"test op\" unit=dmar0 mem=0x3000 len=4 old="));
	CHECK(strstr(log, " new=01020304 result=ok\n"));
	CHECK(strstr(log, "result=refused reason=\"the answer was no\""));
	CHECK(strstr(log, " uid=") && strstr(log, " pid=") && strstr(log, "backend=devmem spec=\"devmem\""));
}

/* An invalidation is one operation: one question for all its writes. */
static void test_invalidate_asks_once(void)
{
	struct ish_inval_req req = { .what = ISH_INVAL_IOTLB, .timeout_ms = 5 };
	struct ish_inval_result res;
	struct ish_target *t;
	struct ish_error *err;
	struct asked a = { .answer = true };
	size_t before = count(slurp_log(), "op=\"invalidate iotlb\"");

	uint64_t iqa = file_word(reg_base + DMAR_IQA_REG, 8), iq = iqa & ~0xfffULL, saved[4096];
	unsigned nq = (4096u << (iqa & 7)) / 8;

	/*
	 * A unit the driver has not registered, whose queue holds nobody's
	 * work: the capture's own descriptors (Linux's) are set aside.
	 */
	CHECK(nq <= 4096);
	for (unsigned i = 0; i < nq && i < 4096; i++) {
		saved[i] = file_word(iq + 8 * i, 8);
		set_file_word(iq + 8 * i, 0, 8);
	}
	OK(open_live("devmem", sys_other, mem_path, ISH_OPEN_WRITE, &t));
	ish_target_set_confirm(t, confirm, &a);
	/* QIES is set: the queue; a file never writes the status word, so it times out */
	err = ish_invalidate(t, 0, &req, ISH_INVAL_AUTO, &res);
	CHECK(err && err->code == ISH_ERROR_TIMEOUT);
	if (err && err->code != ISH_ERROR_TIMEOUT)
		fprintf(stderr, "invalidate: %s\n", err->message);
	ish_error_destroy(err);
	CHECK_EQ(a.calls, 1);
	CHECK_STR(a.what, "invalidate iotlb");
	ish_target_close(t);
	/* status word, descriptor, wait descriptor, IQT */
	CHECK_EQ(count(slurp_log(), "op=\"invalidate iotlb\"") - before, 4);
	CHECK(strstr(slurp_log(), "op=\"invalidate iotlb\" unit=dmar0 reg=IQT offset=0x88 width=64"));
	for (unsigned i = 0; i < nq && i < 4096; i++)
		set_file_word(iq + 8 * i, saved[i], 8);
}

/*
 * The driver's own queue on a live host: refused even with --force (a
 * running kernel cannot be stopped to submit cooperatively), before any
 * question and any write.
 */
static void test_invalidate_driver_queue(void)
{
	struct ish_inval_req req = { .what = ISH_INVAL_IOTLB, .timeout_ms = 5 };
	struct ish_inval_result res;
	struct ish_target *t;
	struct ish_error *err;
	struct asked a = { .answer = true };
	uint64_t iqt = file_word(reg_base + DMAR_IQT_REG, 8);
	static const char refusal[] =
		"invalidate iotlb: the kernel's intel-iommu driver registered dmar0 (";

	OK(open_live("devmem", sys_owned, mem_path, ISH_OPEN_WRITE | ISH_OPEN_FORCE, &t));
	ish_target_set_confirm(t, confirm, &a);
	err = ish_invalidate(t, 0, &req, ISH_INVAL_AUTO, &res);
	CHECK(err && err->code == ISH_ERROR_REFUSED);
	if (err) {
		CHECK(!strncmp(err->message, refusal, sizeof(refusal) - 1));
		CHECK(strstr(err->message, "), so this host's kernel drives the invalidation queue; a "
					   "descriptor written at IQT would leave the kernel's "
					   "software tail behind") != NULL);
		CHECK(strstr(err->message, "so iommush never writes into this queue, even with "
					   "--force") != NULL);
	}
	ish_error_destroy(err);
	CHECK_EQ(a.calls, 0);
	CHECK_EQ(file_word(reg_base + DMAR_IQT_REG, 8), iqt);
	ish_target_close(t);
	CHECK(strstr(slurp_log(), "op=\"invalidate iotlb\" unit=dmar0 result=refused reason="
				  "\"invalidate iotlb: the kernel's intel-iommu driver"));
}

static void test_debugfs_and_live(void)
{
	struct ish_target *t;
	struct ish_error *err;
	struct asked a = { .answer = true };
	unsigned all = ISH_OPEN_WRITE | ISH_OPEN_FORCE | ISH_OPEN_YES;
	struct ish_param p[] = {
		{ "debugfs.root", dfs_root }, { "acpi.dmar", "" }, { "iommu.sysfs", sys_owned },
		{ "write.log", log_path }, { "write.syslog", "off" },
	};

	OK(ish_target_open("debugfs", NULL, p, 5, all, &t));
	err = ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0);
	CHECK(err && err->code == ISH_ERROR_UNSUPPORTED &&
	      strstr(err->message, "debugfs files show the driver's state and offer no way to change it"));
	ish_error_destroy(err);
	err = ish_write_phys(t, 0x1000, "x", 1);
	CHECK(err && err->code == ISH_ERROR_UNSUPPORTED && strstr(err->message, "debugfs files show"));
	ish_error_destroy(err);
	ish_target_close(t);

	/* live picks devmem and writes through it */
	set_file_word(reg_base + DMAR_FECTL_REG, 0, 4);
	OK(open_live("live", sys_owned, mem_path, ISH_OPEN_WRITE | ISH_OPEN_FORCE, &t));
	ish_target_set_confirm(t, confirm, &a);
	CHECK(describe_text(t, "choice") && !strncmp(describe_text(t, "choice"), "devmem:", 7));
	OK(ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0x80000000));
	CHECK_EQ(a.calls, 1);
	CHECK_EQ(file_word(reg_base + DMAR_FECTL_REG, 4), 0x80000000);
	ish_target_close(t);
	CHECK(strstr(slurp_log(), "backend=live spec=\"live\" op=\"write register 0x38 of dmar0\" "
				  "unit=dmar0 reg=FECTL offset=0x38 width=32 old=0 new=0x80000000"));
	/* without the owner's consent live refuses just the same */
	OK(open_live("live", sys_owned, mem_path, ISH_OPEN_WRITE | ISH_OPEN_YES, &t));
	FAILS(ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0), ISH_ERROR_REFUSED);
	ish_target_close(t);
	/* live falls back to debugfs: it says why it cannot write */
	OK(open_live("live", sys_owned, "/nonexistent/mem", all, &t));
	err = ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0);
	CHECK(err && err->code == ISH_ERROR_UNSUPPORTED &&
	      strstr(err->message, "live chose debugfs: debugfs files show"));
	ish_error_destroy(err);
	ish_target_close(t);
}

/* A sysfs tree that lies or traps: nothing owned, nothing hangs. */
static void test_hostile_sysfs(void)
{
	char *root = path_in("sys-hostile"), cmd[2048];
	struct ish_unit_owner o;
	struct ish_target *t;

	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && mkdir -p sys-hostile && cd sys-hostile && "
		 "mkdir -p fifo/intel-iommu junk/intel-iommu long/intel-iommu tail/intel-iommu "
		 "dir/intel-iommu/address && "
		 "mkfifo fifo/intel-iommu/address && printf 'zzzz\n' > junk/intel-iommu/address && "
		 "printf '%%0200d\n' 0 > long/intel-iommu/address && "
		 "printf 'fed90000junk\n' > tail/intel-iommu/address && "
		 "ln -s loop loop && touch plainfile",
		 dir);
	run(cmd);
	OK(open_live("devmem", root, mem_path, ISH_OPEN_WRITE, &t));
	OK(ish_unit_owner(t, 0, &o));
	CHECK(o.sysfs_read && !o.owned);
	ish_target_close(t);
	free(root);
}

/* Targets that are not this host: no question, no owner, no default log. */
static void test_not_live(void)
{
	struct ish_target *t;
	struct ish_unit_owner o;
	void *ram;
	uint8_t b[4];

	OK(ish_mem_open(&t));
	OK(ish_mem_add_ram(t, 0, 0x1000, &ram));
	OK(ish_mem_add_unit(t, 0xfed90000, 0, NULL));
	OK(ish_write_phys(t, 0x10, "\xaa\xbb\xcc\xdd", 4));
	OK(ish_read_phys(t, 0x10, b, 4));
	CHECK(!memcmp(b, "\xaa\xbb\xcc\xdd", 4));
	OK(ish_unit_owner(t, 0, &o));
	CHECK(!o.live && !o.owned);
	ish_target_close(t);
	/* a dump has no write hooks */
	OK(ish_target_open(DEMO, NULL, NULL, 0, ISH_OPEN_WRITE, &t));
	FAILS(ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0), ISH_ERROR_UNSUPPORTED);
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	struct ish_target *dump;
	char cmd[600];

	dir = mkdtemp(tmpl);
	if (!dir)
		return 1;
	check_init(argc, argv);
	CASE("log_format") test_log_format();
	OK(ish_target_open(DEMO, NULL, NULL, 0, 0, &dump));
	nsegs = demo_segments(DEMO, segs, 256);
	build(dump);
	ish_target_close(dump);
	CASE("file_sum") test_file_sum();
	CASE("read_only") test_read_only();
	CASE("access_model") test_access_model();
	CASE("owned") test_owned();
	CASE("confirm_and_write") test_confirm_and_write();
	CASE("invalidate_asks_once") test_invalidate_asks_once();
	CASE("invalidate_driver_queue") test_invalidate_driver_queue();
	CASE("debugfs_and_live") test_debugfs_and_live();
	CASE("hostile_sysfs") test_hostile_sysfs();
	CASE("not_live") test_not_live();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		return 1;
	free(mem_path);
	free(dmar_path);
	free(sys_owned);
	free(sys_other);
	free(log_path);
	free(dfs_root);
	return check_report();
}
