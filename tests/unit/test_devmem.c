// SPDX-License-Identifier: MIT
/*
 * The devmem backend on a file laid out like /dev/mem: the RAM of a real
 * QEMU guest (the demo snapshot) at its physical offsets and the VT-d
 * register block at the DRHD's base. It must read exactly what the dump
 * backend reads. The kernel's refusals are reproduced with seccomp filters
 * in child processes (EPERM from open, from mmap of the register page, from
 * pread of RAM), and a non-root open with seteuid(): each must be explained.
 */
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
#include <iommush/pci.h>
#include <iommush/vtd/vtd.h>

#include "live_common.h"

static char tmpl[] = "/tmp/ish-devmem-XXXXXX";
static char *dir, *mem_path, *dmar_path, *lock_path;
static struct seg segs[256];
static size_t nsegs;

static void build(struct ish_target *dump)
{
	FILE *f;

	if (asprintf(&mem_path, "%s/mem", dir) < 0 || asprintf(&lock_path, "%s/lockdown", dir) < 0)
		exit(1);
	write_devmem_file(dump, segs, nsegs, mem_path);
	dmar_path = write_dmar(dump, dir);
	f = fopen(lock_path, "w");
	fputs("none [integrity] confidentiality\n", f);
	fclose(f);
}

static struct ish_error *open_devmem(const char *path, struct ish_target **t)
{
	struct ish_param p[] = {
		{ "devmem.path", path }, { "acpi.dmar", dmar_path }, { "lockdown.path", lock_path },
	};

	return ish_target_open("devmem", NULL, p, 3, 0, t);
}

static void test_same_as_dump(struct ish_target *dump)
{
	struct ish_target *t;
	struct ish_error *err;
	unsigned regs = 0;
	uint64_t v;

	OK(open_devmem(mem_path, &t));
	CHECK_STR(ish_target_backend(t)->name, "devmem");
	CHECK_EQ(ish_target_nunits(t), ish_target_nunits(dump));
	CHECK_EQ(ish_target_unit(t, 0)->reg_base, ish_target_unit(dump, 0)->reg_base);
	/* Every register, at both widths. */
	for (uint32_t off = 0; off < 0x230; off += 4) {
		uint64_t a, b;

		err = ish_read_reg(dump, 0, off, 32, &a);
		if (err) {
			ish_error_destroy(err);
			continue;
		}
		OK(ish_read_reg(t, 0, off, 32, &b));
		CHECK_EQ(a, b);
		regs++;
		if (off % 8)
			continue;
		err = ish_read_reg(dump, 0, off, 64, &a);
		if (err) {
			ish_error_destroy(err);
			continue;
		}
		OK(ish_read_reg(t, 0, off, 64, &b));
		CHECK_EQ(a, b);
	}
	/* the snapshot keeps the architectural registers, not every word */
	CHECK(regs >= 40);
	if (getenv("VERBOSE"))
		fprintf(stderr, "%u registers compared\n", regs);
	OK(ish_read_reg(t, 0, DMAR_VER_REG, 32, &v));
	CHECK_EQ(v, 0x10);
	/* Only aligned 32/64-bit accesses reach the hardware. */
	err = ish_read_reg(t, 0, DMAR_GSTS_REG, 64, &v);
	CHECK(err && err->code == ISH_ERROR_INVALID);
	ish_error_destroy(err);
	err = ish_read_reg(t, 0, 0x2000, 32, &v);
	CHECK(err && err->code == ISH_ERROR_NOT_FOUND);
	ish_error_destroy(err);
	same_view(dump, t, segs, nsegs);
	/* Past the end of the file: a fault, not a crash. */
	{
		uint8_t b[8];

		err = ish_read_phys(t, 0x7fff00000000ULL, b, sizeof(b));
		CHECK(err && err->code == ISH_ERROR_FAULT);
		ish_error_destroy(err);
	}
	ish_target_close(t);
}

/*
 * Runs an open in a child whose syscall nr fails with EPERM when the
 * argument arg, masked, equals val; the child checks that the error names
 * want and exits 0 if so.
 */
static void refused(const char *what, int nr, unsigned arg, uint32_t mask, uint32_t val,
		    const char *want, const char *want2)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct sock_filter f[] = {
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 1, 0),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[arg])),
			BPF_STMT(BPF_ALU | BPF_AND | BPF_K, mask),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, val, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = { sizeof(f) / sizeof(*f), f };
		struct ish_target *t = NULL;
		struct ish_error *err;
		int ok;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
			perror("seccomp");
			_exit(77);
		}
		err = open_devmem(mem_path, &t);
		ok = err && strstr(err->message, want) && (!want2 || strstr(err->message, want2));
		if (!ok)
			fprintf(stderr, "%s: got %s\n", what, err ? err->message : "success");
		ish_error_destroy(err);
		ish_target_close(t);
		_exit(ok ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		fprintf(stderr, "%s: seccomp unavailable, skipped\n", what);
		return;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_refusals(void)
{
	struct ish_target *t;
	struct ish_error *err;
	struct ish_param p[] = { { "devmem.path", "/nonexistent/mem" }, { "acpi.dmar", dmar_path } };

	/* CONFIG_STRICT_DEVMEM: RAM reads EPERM, the registers map fine. */
	refused("strict", SYS_pread64, 0, 0, 0, "CONFIG_STRICT_DEVMEM", "kcore");
	/* IO_STRICT_DEVMEM: mapping the driver's register block is refused. */
	refused("io-strict", SYS_mmap, 3, MAP_SHARED, MAP_SHARED, "IO_STRICT_DEVMEM", "debugfs");
	/* Lockdown: open() itself is refused for root; the lockdown file says why. */
	refused("lockdown", SYS_openat, 2, O_SYNC, O_SYNC, "locked down (integrity mode",
		"debugfs");
	/* No such device. */
	err = ish_target_open("devmem", NULL, p, 2, 0, &t);
	CHECK(err && strstr(err->message, "CONFIG_DEVMEM"));
	ish_error_destroy(err);
	/* No DMAR table: no VT-d. */
	p[0].value = mem_path;
	p[1].value = "/nonexistent/DMAR";
	err = ish_target_open("devmem", NULL, p, 2, 0, &t);
	CHECK(err && strstr(err->message, "no ACPI DMAR table"));
	ish_error_destroy(err);
	/* Not root: the node is 0640 root:kmem, so an ordinary user gets EACCES. */
	if (geteuid() == 0) {
		chmod(mem_path, 0600);
		chmod(dir, 0755);
		if (seteuid(65534) == 0) {
			err = open_devmem(mem_path, &t);
			if (seteuid(0))
				exit(1);
			CHECK(err && strstr(err->message, "needs root"));
			ish_error_destroy(err);
		}
	}
	/* A register block past the end of the file is refused, not a SIGBUS. */
	{
		int fd = open(mem_path, O_RDWR);

		if (ftruncate(fd, 0x100000))
			exit(1);
		close(fd);
		err = open_devmem(mem_path, &t);
		CHECK(err && err->code == ISH_ERROR_FAULT && strstr(err->message, "past the end"));
		ish_error_destroy(err);
	}
}

/* Writes text (or len bytes) to dir/name. */
static void put_file(const char *dirpath, const char *name, const void *buf, size_t len)
{
	char *fp;
	FILE *f;

	if (asprintf(&fp, "%s/%s", dirpath, name) < 0 || !(f = fopen(fp, "w")))
		abort();
	if (fwrite(buf, 1, len, f) != len)
		abort();
	fclose(f);
	free(fp);
}

/*
 * PCI through libpci on a devmem target read from a file: none without
 * pci.sysfs (this machine's /sys is not the target's); with a tree laid out
 * as Linux does from the dump's config space, the same functions, ids,
 * classes, headers and config bytes as the dump scan.
 */
static void test_pci(struct ish_target *dump)
{
	struct ish_param p[] = {
		{ "devmem.path", mem_path }, { "acpi.dmar", dmar_path }, { "pci.sysfs", NULL },
	};
	struct ish_pci *want, *got;
	struct ish_error *err;
	struct ish_target *t;
	char *root, *cmd;

	OK(open_devmem(mem_path, &t));
	FAILS(ish_pci_enumerate(t, &got), ISH_ERROR_UNSUPPORTED);
	ish_target_close(t);

	OK(ish_pci_enumerate(dump, &want));
	CHECK(want->n >= 8);
	if (asprintf(&root, "%s/pci", dir) < 0)
		abort();
	for (size_t i = 0; i < want->n; i++) {
		const struct ish_pci_func *fn = &want->funcs[i];
		uint8_t cfg[256];
		char text[32], *path;
		int n;

		if (asprintf(&path, "%s/devices/%04x:%02x:%02x.%u", root, fn->segment, fn->bdf >> 8,
			     (fn->bdf >> 3) & 0x1f, fn->bdf & 7) < 0 ||
		    asprintf(&cmd, "mkdir -p '%s'", path) < 0 || system(cmd))
			abort();
		free(cmd);
		for (unsigned o = 0; o < sizeof(cfg); o += 4) {
			uint32_t v = 0;

			ish_error_destroy(ish_read_config(dump, fn->segment, fn->bdf, o, 32, &v));
			for (unsigned k = 0; k < 4; k++)
				cfg[o + k] = (uint8_t)(v >> (8 * k));
		}
		put_file(path, "config", cfg, sizeof(cfg));
		n = snprintf(text, sizeof(text), "0x%04x\n", fn->vendor);
		put_file(path, "vendor", text, (size_t)n);
		n = snprintf(text, sizeof(text), "0x%04x\n", fn->device);
		put_file(path, "device", text, (size_t)n);
		n = snprintf(text, sizeof(text), "0x%06x\n", fn->class);
		put_file(path, "class", text, (size_t)n);
		put_file(path, "irq", "0\n", 2);
		free(path);
	}
	p[2].value = root;
	OK(ish_target_open("devmem", NULL, p, 3, 0, &t));
	err = ish_pci_enumerate(t, &got);
	if (err && strstr(err->message, "built without libpci")) {
		/* -Dlibpci=disabled: saying so is all a live target can do. */
		ish_error_destroy(err);
		ish_pci_destroy(want);
		ish_target_close(t);
		free(root);
		return;
	}
	OK(err);
	CHECK(got->from_backend);
	CHECK_EQ(got->n, want->n);
	for (size_t i = 0; i < got->n && i < want->n; i++) {
		const struct ish_pci_func *a = &got->funcs[i], *b = &want->funcs[i];
		uint32_t x = 1, y = 2;

		CHECK(a->segment == b->segment && a->bdf == b->bdf && a->vendor == b->vendor &&
		      a->device == b->device && a->class == b->class &&
		      a->header_type == b->header_type && a->bridge == b->bridge);
		OK(ish_read_config(t, a->segment, a->bdf, 0xfc, 32, &x));
		OK(ish_read_config(dump, b->segment, b->bdf, 0xfc, 32, &y));
		CHECK_EQ(x, y);
	}
	FAILS(ish_read_config(t, 0, ISH_BDF(0x42, 0, 0), 0, 32, &(uint32_t){ 0 }),
	      ISH_ERROR_NOT_FOUND);
	FAILS(ish_read_config(t, 0, ISH_BDF(0, 1, 0), 0x100, 32, &(uint32_t){ 0 }),
	      ISH_ERROR_FAULT);
	ish_pci_destroy(got);
	ish_pci_destroy(want);
	ish_target_close(t);
	free(root);
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
	build(dump);
	check_init(argc, argv);
	CASE("same_as_dump") test_same_as_dump(dump);
	CASE("pci") test_pci(dump);
	CASE("refusals") test_refusals();
	ish_target_close(dump);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		return 1;
	free(mem_path);
	free(dmar_path);
	free(lock_path);
	return check_report();
}
