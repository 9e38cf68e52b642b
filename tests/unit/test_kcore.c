// SPDX-License-Identifier: MIT
/*
 * The kcore backend on ELF files laid out like /proc/kcore (Linux
 * fs/proc/kcore.c): the RAM of a real QEMU guest (the demo snapshot) as
 * direct-map PT_LOADs, plus a vmalloc segment (p_paddr -1) and a kernel
 * text segment that aliases RAM. Both the current format (p_paddr set) and
 * the old one (p_paddr 0: physical = p_vaddr - PAGE_OFFSET) must read what
 * the dump backend reads. Registers come from a register file or from a
 * file laid out like /dev/mem. Broken headers must be refused.
 */
#include <elf.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <iommush/backend.h>
#include <iommush/debugfs.h>
#include <iommush/vtd/vtd.h>
#include <iommush/write.h>

#include "live_common.h"

#define PAGE_OFFSET 0xffff888000000000ULL

/* backends/kcore.c (backends/backends.h is not on this include path) */
const char *ish_kcore_regs_from(const struct ish_target *t, void *priv);

static char tmpl[] = "/tmp/ish-kcore-XXXXXX";
static char *dir, *dmar_path, *regs_path, *devmem_path;
static struct seg segs[256];
static size_t nsegs;

struct layout {
	uint64_t data;		/* file offset of the first segment's bytes */
	uint64_t *offs;		/* file offset of each segment */
};

static uint64_t file_off(uint64_t paddr, void *arg)
{
	struct layout *l = arg;

	for (size_t i = 0; i < nsegs; i++)
		if (paddr >= segs[i].paddr && paddr - segs[i].paddr < segs[i].len)
			return l->offs[i] + (paddr - segs[i].paddr);
	exit(1);
}

/* Writes a kcore-like file; old: p_paddr 0 everywhere (kernels before p_paddr). */
static char *make_kcore(struct ish_target *dump, const char *name, bool old)
{
	size_t nph = nsegs + 3;		/* note, vmalloc, text */
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr *ph = calloc(nph, sizeof(*ph));
	uint64_t offs[256], off;
	struct layout l = { 0, offs };
	static uint8_t junk[8192];
	uint8_t text[4096];
	char *path;
	int fd;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		exit(1);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_phoff = sizeof(eh);
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = (uint16_t)nph;
	off = 0x10000;
	ph[0].p_type = PT_NOTE;
	/* vmalloc: not physical memory, p_paddr -1; junk that must never be read as RAM */
	memset(junk, 0xaa, sizeof(junk));
	ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = off, .p_vaddr = 0xffffc90000000000ULL,
			      .p_paddr = old ? 0 : ~0ULL, .p_filesz = sizeof(junk),
			      .p_memsz = sizeof(junk) };
	write_all(fd, junk, sizeof(junk), off);
	off += sizeof(junk);
	/* kernel text: an alias of the first RAM page */
	OK(ish_read_phys(dump, segs[0].paddr, text, sizeof(text)));
	ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = off, .p_vaddr = 0xffffffff81000000ULL,
			      .p_paddr = old ? 0 : segs[0].paddr, .p_filesz = 4096, .p_memsz = 4096 };
	write_all(fd, text, sizeof(text), off);
	off += 4096;
	for (size_t i = 0; i < nsegs; i++) {
		offs[i] = off;
		ph[3 + i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = off,
					  .p_vaddr = PAGE_OFFSET + segs[i].paddr,
					  .p_paddr = old ? 0 : segs[i].paddr, .p_filesz = segs[i].len,
					  .p_memsz = segs[i].len };
		off += (segs[i].len + 4095) & ~4095ULL;
	}
	copy_ram(dump, segs, nsegs, fd, file_off, &l);
	write_all(fd, &eh, sizeof(eh), 0);
	write_all(fd, ph, nph * sizeof(*ph), sizeof(eh));
	close(fd);
	free(ph);
	return path;
}

static void make_regs(struct ish_target *dump)
{
	const struct ish_unit *u = ish_target_unit(dump, 0);
	FILE *f;
	int fd;

	if (asprintf(&regs_path, "%s/regs.txt", dir) < 0 ||
	    asprintf(&devmem_path, "%s/mem", dir) < 0)
		exit(1);
	f = fopen(regs_path, "w");
	fd = open(devmem_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fprintf(f, "[dmar0 @ %#" PRIx64 "]\n", u->reg_base);
	for (uint32_t off = 0; off < 0x1000; off += 4) {
		uint64_t v;
		struct ish_error *err = ish_read_reg(dump, 0, off, 32, &v);
		uint32_t w = (uint32_t)v;

		if (err) {
			ish_error_destroy(err);
			continue;
		}
		fprintf(f, "%#x = %#" PRIx64 "\n", off, v);
		write_all(fd, &w, 4, u->reg_base + off);
	}
	fclose(f);
	if (ftruncate(fd, (off_t)(u->reg_base + 0x1000)))
		exit(1);
	close(fd);
}

static struct ish_error *open_kcore(const char *path, const char *regs, const char *po,
				    struct ish_target **t)
{
	struct ish_param p[] = {
		{ "kcore.path", path }, { "kcore.regs", regs }, { "acpi.dmar", dmar_path },
		{ "devmem.path", devmem_path }, { "kcore.page_offset", po },
		{ "debugfs.root", "/nonexistent" }, { "lockdown.path", "" },
	};

	return ish_target_open("kcore", NULL, p, 7, 0, t);
}

static void check_target(struct ish_target *dump, struct ish_target *t)
{
	struct ish_error *err;
	uint64_t a, b;
	uint8_t buf[16];

	CHECK_EQ(ish_target_nunits(t), 1);
	CHECK_EQ(ish_target_unit(t, 0)->reg_base, ish_target_unit(dump, 0)->reg_base);
	OK(ish_read_reg(dump, 0, DMAR_RTADDR_REG, 64, &a));
	OK(ish_read_reg(t, 0, DMAR_RTADDR_REG, 64, &b));
	CHECK_EQ(a, b);
	same_view(dump, t, segs, nsegs);
	/* The vmalloc junk is not RAM anywhere. */
	err = ish_read_phys(t, 0x100000000ULL, buf, sizeof(buf));
	CHECK(err && err->code == ISH_ERROR_FAULT && strstr(err->message, "direct map"));
	ish_error_destroy(err);
}

static void test_formats(struct ish_target *dump)
{
	char *cur = make_kcore(dump, "kcore", false), *old = make_kcore(dump, "kcore-old", true);
	struct ish_target *t;
	struct ish_error *err;

	OK(open_kcore(cur, regs_path, "auto", &t));
	CHECK_STR(ish_target_backend(t)->name, "kcore");
	check_target(dump, t);
	ish_target_close(t);
	/* registers through a file laid out like /dev/mem */
	OK(open_kcore(cur, "devmem", "auto", &t));
	check_target(dump, t);
	ish_target_close(t);
	/* auto: devmem first */
	OK(open_kcore(cur, "auto", "auto", &t));
	CHECK_STR(ish_kcore_regs_from(t, ish_target_priv(t)), "devmem");
	ish_target_close(t);
	/* the old format: physical = vaddr - PAGE_OFFSET, found by auto */
	OK(open_kcore(old, regs_path, "auto", &t));
	check_target(dump, t);
	ish_target_close(t);
	OK(open_kcore(old, regs_path, "0xffff888000000000", &t));
	check_target(dump, t);
	ish_target_close(t);
	/* a wrong PAGE_OFFSET finds no direct map, and says what to give */
	err = open_kcore(old, regs_path, "0x1000", &t);
	CHECK(err && err->code == ISH_ERROR_FORMAT && strstr(err->message, "page_offset"));
	ish_error_destroy(err);
	/* no registers anywhere: both failures are told */
	err = open_kcore(cur, "debugfs", "auto", &t);
	CHECK(err && strstr(err->message, "/nonexistent/iommu_regset"));
	ish_error_destroy(err);
	free(cur);
	free(old);
}

/* Runs fn in a child where mmap(MAP_SHARED) fails with EPERM, as under IO_STRICT_DEVMEM. */
static bool with_io_strict(bool (*fn)(void *), void *arg)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[3])),
			BPF_STMT(BPF_ALU | BPF_AND | BPF_K, MAP_SHARED),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MAP_SHARED, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { sizeof(f) / sizeof(*f), f };

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
			_exit(77);
		_exit(fn(arg) ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		fprintf(stderr, "seccomp unavailable, skipped\n");
		return true;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct live_case {
	struct ish_target *dump;
	struct ish_param *p;
};

/* In the child: devmem is refused, kcore takes RAM and debugfs the registers. */
static bool live_io_strict(void *arg)
{
	struct live_case *c = arg;
	struct ish_target *t;
	struct ish_error *err = ish_target_open("live", NULL, c->p, 5, 0, &t);
	const char *why;
	bool ok;
	uint64_t a = 0, b = 1;
	uint8_t x[4096], y[4096];

	if (err) {
		fprintf(stderr, "live: %s\n", err->message);
		return false;
	}
	why = describe_text(t, "choice");
	if (getenv("VERBOSE"))
		fprintf(stderr, "live: %s\n", why);
	ok = why && !strncmp(why, "kcore: RAM through kcore, registers through debugfs iommu_regset "
			     "(devmem: ", 74) && strstr(why, "IO_STRICT_DEVMEM");
	ok &= !ish_read_reg(c->dump, 0, DMAR_RTADDR_REG, 64, &a) &&
	      !ish_read_reg(t, 0, DMAR_RTADDR_REG, 64, &b) && a == b;
	ok &= !ish_read_phys(c->dump, a & ~0xfffULL, x, sizeof(x)) &&
	      !ish_read_phys(t, a & ~0xfffULL, y, sizeof(y)) && !memcmp(x, y, sizeof(x));
	ish_target_close(t);
	return ok;
}

static void test_live(struct ish_target *dump)
{
	char *cur = make_kcore(dump, "kcore-live", false), *dfs, *regset, cmd[600];
	struct ish_target *t;
	struct ish_error *err;
	struct ish_param p[] = {
		{ "kcore.path", cur }, { "acpi.dmar", dmar_path }, { "devmem.path", devmem_path },
		{ "debugfs.root", "/nonexistent" }, { "lockdown.path", "" },
	};
	struct live_case c = { dump, p };

	/* A file laid out like /dev/mem gives registers and RAM: devmem, first in order. */
	OK(ish_target_open("live", NULL, p, 5, 0, &t));
	CHECK_STR(ish_target_backend(t)->name, "live");
	CHECK_STR(describe_text(t, "choice"), "devmem: registers and RAM");
	ish_target_close(t);
	/* IO_STRICT_DEVMEM: kcore, with the registers from debugfs. */
	if (asprintf(&dfs, "%s/debugfs", dir) < 0 || asprintf(&regset, "%s/iommu_regset", dfs) < 0)
		exit(1);
	mkdir(dfs, 0755);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", regs_path, regset);
	if (system(cmd))
		exit(1);
	p[3].value = dfs;
	CHECK(with_io_strict(live_io_strict, &c));
	/* nothing works: every reason is told */
	p[0].value = "/nonexistent/kcore";
	p[2].value = "/nonexistent/mem";
	p[3].value = "/nonexistent";
	err = ish_target_open("live", NULL, p, 5, 0, &t);
	CHECK(err && err->code == ISH_ERROR_UNSUPPORTED && strstr(err->message, "devmem: ") &&
	      strstr(err->message, "; kcore: ") && strstr(err->message, "; debugfs: "));
	ish_error_destroy(err);
	free(cur);
	free(dfs);
	free(regset);
}

static void hostile(const char *name, const void *buf, size_t len, bool want_fail)
{
	char *path;
	int fd;
	struct ish_target *t = NULL;
	struct ish_error *err;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		exit(1);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	write_all(fd, buf, len, 0);
	close(fd);
	err = open_kcore(path, regs_path, "auto", &t);
	if (want_fail)
		CHECK(err != NULL);
	if (!err) {
		uint8_t b[64];

		ish_error_destroy(ish_read_phys(t, 0, b, sizeof(b)));
		ish_error_destroy(ish_read_phys(t, 0xfffffffffffff000ULL, b, sizeof(b)));
	}
	ish_error_destroy(err);
	ish_target_close(t);
	free(path);
}

static void test_hostile(void)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[2];
	} f = { 0 };
	struct ish_target *t;
	struct ish_error *err;
	struct ish_param p[] = { { "kcore.path", "/nonexistent/kcore" } };

	hostile("empty", "", 0, true);
	hostile("text", "not an ELF file at all, but long enough to be read as a header....", 66,
		true);
	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f.eh.e_type = ET_CORE;
	f.eh.e_phoff = sizeof(f.eh);
	f.eh.e_phentsize = sizeof(Elf64_Phdr);
	f.eh.e_phnum = 2;
	hostile("noload", &f, sizeof(f), true);
	/* a segment that wraps the physical address space */
	f.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0, .p_vaddr = PAGE_OFFSET,
				.p_paddr = 0xfffffffffffff000ULL, .p_filesz = 0x2000, .p_memsz = 0x2000 };
	hostile("wrap", &f, sizeof(f), true);
	/* lying sizes: a segment far past the end of the file reads as a fault */
	f.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x100000000ULL, .p_vaddr = PAGE_OFFSET,
				.p_paddr = 0x1000, .p_filesz = 0x1000, .p_memsz = 0x1000 };
	hostile("short", &f, sizeof(f), false);
	/* program headers past the end */
	f.eh.e_phoff = 0x7fffffff;
	hostile("phoff", &f, sizeof(f), true);
	f.eh.e_phoff = sizeof(f.eh);
	f.eh.e_phnum = PN_XNUM;	/* the count is in a section header that is not there */
	hostile("xnum", &f, sizeof(f), true);
	f.eh.e_phnum = 2;
	f.eh.e_phentsize = 32;
	hostile("phentsize", &f, sizeof(f), true);
	f.eh.e_phentsize = sizeof(Elf64_Phdr);
	f.eh.e_type = ET_EXEC;
	hostile("exec", &f, sizeof(f), true);
	/* no /proc/kcore */
	err = ish_target_open("kcore", NULL, p, 1, 0, &t);
	CHECK(err && strstr(err->message, "CONFIG_PROC_KCORE"));
	ish_error_destroy(err);
}

/*
 * Writes: kcore's registers are writable only when they are the real ones
 * (through devmem); RAM never is, and each refusal says why.
 */
static struct ish_error *open_kcore_rw(const char *path, const char *regs, struct ish_target **t)
{
	struct ish_param p[] = {
		{ "kcore.path", path }, { "kcore.regs", regs }, { "acpi.dmar", dmar_path },
		{ "devmem.path", devmem_path }, { "lockdown.path", "" },
		{ "iommu.sysfs", "/nonexistent/iommu" }, { "write.syslog", "off" }, { "write.log", "" },
	};

	return ish_target_open("kcore", NULL, p, 8, ISH_OPEN_WRITE | ISH_OPEN_YES, t);
}

static void test_writes(struct ish_target *dump)
{
	char *cur = make_kcore(dump, "kcore-rw", false);
	uint64_t base = ish_target_unit(dump, 0)->reg_base;
	struct ish_target *t;
	struct ish_error *err;
	uint8_t b[4] = { 0 };
	int fd;

	OK(open_kcore_rw(cur, regs_path, &t));
	err = ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0x80000000);
	CHECK(err && err->code == ISH_ERROR_UNSUPPORTED && strstr(err->message, "copy in text") &&
	      strstr(err->message, "kcore.regs=devmem"));
	ish_error_destroy(err);
	err = ish_write_phys(t, 0x1000, "x", 1);
	CHECK(err && err->code == ISH_ERROR_UNSUPPORTED &&
	      strstr(err->message, "/proc/kcore is read-only"));
	ish_error_destroy(err);
	ish_target_close(t);
	/* registers through devmem: the value lands at the register, 4 bytes */
	OK(open_kcore_rw(cur, "devmem", &t));
	OK(ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0x80000000));
	fd = open(devmem_path, O_RDONLY);
	CHECK(fd >= 0 && pread(fd, b, 4, (off_t)(base + DMAR_FECTL_REG)) == 4);
	close(fd);
	CHECK(!memcmp(b, "\x00\x00\x00\x80", 4));
	FAILS(ish_write_phys(t, 0x1000, "x", 1), ISH_ERROR_UNSUPPORTED);
	/* an operation on registers that goes on to need RAM is stopped there */
	OK(ish_write_begin(t, 0, ISH_WRITE_REGS, "outer"));
	FAILS(ish_write_begin(t, 0, ISH_WRITE_MEMORY, "inner"), ISH_ERROR_UNSUPPORTED);
	OK(ish_write_begin(t, 0, ISH_WRITE_REGS, "inner"));
	ish_write_end(t);
	ish_write_end(t);
	ish_target_close(t);
	free(cur);
}

int main(int argc, char **argv)
{
	struct ish_target *dump;
	char cmd[600];

	dir = mkdtemp(tmpl);
	if (!dir)
		return 1;
	OK(ish_target_open(DEMO, NULL, NULL, 0, 0, &dump));
	nsegs = demo_segments(DEMO, segs, 256);
	dmar_path = write_dmar(dump, dir);
	make_regs(dump);
	check_init(argc, argv);
	CASE("formats") test_formats(dump);
	CASE("live") test_live(dump);
	CASE("hostile") test_hostile();
	CASE("writes") test_writes(dump);
	ish_target_close(dump);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		return 1;
	free(dmar_path);
	free(regs_path);
	free(devmem_path);
	return check_report();
}
