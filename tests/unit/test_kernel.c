// SPDX-License-Identifier: MIT
/*
 * The kernel view (iommush/kernel.h, iommush/btf.h) on a synthetic kernel
 * (fake_kernel.h): VMCOREINFO text and notes, the RAM scan and its bounds,
 * kallsyms, BTF members (typedefs, const, bitfields, dots, anonymous
 * unions), VA->PA, dmar_drhd_units, QEMU's mtree text; and hostile input
 * of each. `test_kernel --write-seeds DIR` writes the fuzz seeds.
 */
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include <sys/stat.h>

#include <iommush/btf.h>
#include <iommush/kernel.h>
#include <iommush/mem.h>
#include <iommush/vtd/vtd.h>

#include "check.h"
#include "fake_kernel.h"
#include "../../backends/rsp.h"

static const char vmci_text[] = "OSRELEASE=6.1.0-57-amd64\n"
				"PAGESIZE=4096\n"
				"SYMBOL(init_top_pgt)=ffffffff9a60e000\n"
				"NUMBER(phys_base)=-187695104\n"
				"KERNELOFFSET=19000000\n"
				"NUMBER(pgtable_l5_enabled)=1\n";

static void test_vmcoreinfo_text(void)
{
	struct ish_vmcoreinfo *v;
	uint64_t n;
	char big[ISH_VMCOREINFO_MAX + 16];

	OK(ish_vmcoreinfo_parse(vmci_text, sizeof(vmci_text), &v));
	CHECK_STR(ish_vmcoreinfo_get(v, "OSRELEASE"), "6.1.0-57-amd64");
	CHECK(!ish_vmcoreinfo_get(v, "CRASHTIME"));
	OK(ish_vmcoreinfo_number(v, "NUMBER(phys_base)", &n));
	CHECK_EQ(n, (uint64_t)-187695104LL);
	OK(ish_vmcoreinfo_number(v, "SYMBOL(init_top_pgt)", &n));
	CHECK_EQ(n, 0xffffffff9a60e000ULL);
	OK(ish_vmcoreinfo_number(v, "KERNELOFFSET", &n));
	CHECK_EQ(n, 0x19000000);
	FAILS(ish_vmcoreinfo_number(v, "OSRELEASE", &n), ISH_ERROR_FORMAT);
	FAILS(ish_vmcoreinfo_number(v, "NUMBER(nope)", &n), ISH_ERROR_NOT_FOUND);
	ish_vmcoreinfo_destroy(v);

	/* The text ends at the first NUL, as in the kernel's zeroed page. */
	OK(ish_vmcoreinfo_parse("OSRELEASE=x\n\0garbage without equals", 34, &v));
	CHECK_STR(ish_vmcoreinfo_get(v, "OSRELEASE"), "x");
	ish_vmcoreinfo_destroy(v);
	FAILS(ish_vmcoreinfo_parse("PAGESIZE=4096\n", 14, &v), ISH_ERROR_FORMAT);
	FAILS(ish_vmcoreinfo_parse("OSRELEASE=x\nno equals sign\n", 27, &v), ISH_ERROR_FORMAT);
	FAILS(ish_vmcoreinfo_parse("OSRELEASE=x\n\x01\x02=y\n", 17, &v), ISH_ERROR_FORMAT);
	memset(big, 'A', sizeof(big));
	memcpy(big, "OSRELEASE=", 10);
	FAILS(ish_vmcoreinfo_parse(big, sizeof(big), &v), ISH_ERROR_LIMIT);
	OK(ish_vmcoreinfo_parse("OSRELEASE=x", 11, &v));	/* no final newline */
	FAILS(ish_vmcoreinfo_number(v, "NUMBER(phys_base)", &n), ISH_ERROR_NOT_FOUND);
	ish_vmcoreinfo_destroy(v);
}

static size_t put_note(uint8_t *p, const char *name, uint32_t type, const char *desc, size_t dlen)
{
	size_t nlen = strlen(name) + 1, off = 12;

	fk_put(p, nlen, 4);
	fk_put(p + 4, dlen, 4);
	fk_put(p + 8, type, 4);
	memcpy(p + off, name, nlen);
	off += (nlen + 3) & ~3u;
	memcpy(p + off, desc, dlen);
	return off + ((dlen + 3) & ~3u);
}

static void test_vmcoreinfo_note(void)
{
	uint8_t buf[512] = { 0 };
	const char *desc;
	size_t n = 0, dlen;

	n += put_note(buf + n, "CORE", 1, "prstatus....", 12);
	n += put_note(buf + n, "VMCOREINFO", 0, vmci_text, sizeof(vmci_text) - 1);
	OK(ish_kernel_find_vmcoreinfo_note(buf, n, &desc, &dlen));
	CHECK_EQ(dlen, sizeof(vmci_text) - 1);
	CHECK(!memcmp(desc, vmci_text, dlen));
	/* every truncation is an error, never a read past the end */
	for (size_t cut = 0; cut < n; cut++) {
		struct ish_error *err = ish_kernel_find_vmcoreinfo_note(buf, cut, &desc, &dlen);

		/* only the desc's padding may be missing */
		CHECK(err ? err->code == ISH_ERROR_FORMAT || err->code == ISH_ERROR_NOT_FOUND :
			    cut + 4 > n);
		ish_error_destroy(err);
	}
	FAILS(ish_kernel_find_vmcoreinfo_note(buf, 28, &desc, &dlen), ISH_ERROR_FORMAT);
	FAILS(ish_kernel_find_vmcoreinfo_note(buf, 32, &desc, &dlen), ISH_ERROR_NOT_FOUND);
	fk_put(buf + 4, 0xfffffff0u, 4);	/* a huge descsz */
	FAILS(ish_kernel_find_vmcoreinfo_note(buf, n, &desc, &dlen), ISH_ERROR_FORMAT);
}

static void test_btf(void)
{
	static uint8_t blob[8192];
	size_t len = fk_build_btf(blob, sizeof(blob));
	struct ish_kernel_member m;
	struct ish_btf *b;
	uint32_t id, qi;
	uint64_t size;
	char name[128];

	CHECK(len < sizeof(blob));
	OK(ish_btf_parse(blob, len, &b));
	CHECK_EQ(ish_btf_size(b), len);
	CHECK(ish_btf_ntypes(b) > 20);
	OK(ish_btf_find(b, "struct dmar_drhd_unit", &id));
	OK(ish_btf_type_size(b, id, &size));
	CHECK_EQ(size, 56);
	OK(ish_btf_member(b, id, "include_all", &m));
	CHECK_EQ(m.offset, 46);
	CHECK_EQ(m.size, 1);
	CHECK_EQ(m.bit_offset, 1);
	CHECK_EQ(m.bit_size, 1);
	OK(ish_btf_member(b, id, "iommu", &m));
	CHECK_EQ(m.offset, 48);
	CHECK_EQ(m.size, 8);
	CHECK_EQ(m.bit_size, 0);
	OK(ish_btf_member(b, id, "list.prev", &m));
	CHECK_EQ(m.offset, 8);
	FAILS(ish_btf_member(b, id, "list.nosuch", &m), ISH_ERROR_NOT_FOUND);
	FAILS(ish_btf_member(b, id, "include_all.x", &m), ISH_ERROR_INVALID);
	FAILS(ish_btf_member(b, id, "list.", &m), ISH_ERROR_INVALID);
	FAILS(ish_btf_member(b, id, "", &m), ISH_ERROR_INVALID);
	OK(ish_btf_find(b, "struct q_inval", &qi));
	OK(ish_btf_member(b, qi, "q_lock.raw_lock", &m));	/* through a typedef */
	CHECK_EQ(m.offset, 0);
	CHECK_EQ(m.size, 4);
	OK(ish_btf_member(b, qi, "free_cnt", &m));	/* const int */
	CHECK_EQ(m.offset, 32);
	CHECK_EQ(m.size, 4);
	OK(ish_btf_find(b, "struct intel_iommu", &id));
	OK(ish_btf_member(b, id, "flags_int", &m));	/* inside an anonymous union */
	CHECK_EQ(m.offset, 304);
	CHECK_EQ(m.size, 4);
	OK(ish_btf_member(b, id, "name", &m));
	CHECK_EQ(m.offset, 78);
	CHECK_EQ(m.size, 16);
	OK(ish_btf_find(b, "u64", &id));
	OK(ish_btf_type_size(b, id, &size));
	CHECK_EQ(size, 8);
	FAILS(ish_btf_find(b, "struct ghost", &id), ISH_ERROR_NOT_FOUND);
	FAILS(ish_btf_find(b, "struct nosuch", &id), ISH_ERROR_NOT_FOUND);
	FAILS(ish_btf_find(b, "union q_inval", &id), ISH_ERROR_NOT_FOUND);
	FAILS(ish_btf_find(b, "struct ", &id), ISH_ERROR_INVALID);
	OK(ish_btf_find(b, "struct intel_iommu", &id));
	{
		struct ish_error *err;
		char msg[256];

		err = ish_btf_find(b, "struct ghost", &id);
		snprintf(msg, sizeof(msg), "%s", err ? err->message : "");
		ish_error_destroy(err);
		CHECK(strstr(msg, "only declared") != NULL);
	}
	ish_btf_type_name(b, qi + 0, name, sizeof(name));
	CHECK_STR(name, "struct q_inval");
	ish_btf_type_name(b, qi + 1, name, sizeof(name));
	CHECK_STR(name, "struct q_inval *");
	ish_btf_destroy(b);

	/* Every prefix and a flipped byte everywhere: errors or answers, nothing else. */
	for (size_t cut = 0; cut < len; cut += 7) {
		struct ish_error *err = ish_btf_parse(blob, cut, &b);

		if (!err)
			ish_btf_destroy(b);
		CHECK(err != NULL || cut >= 24);
		ish_error_destroy(err);
	}
	for (size_t i = 0; i < len; i++) {
		uint8_t save = blob[i];
		struct ish_error *err;

		blob[i] ^= 0xa5;
		err = ish_btf_parse(blob, len, &b);
		if (!err) {
			for (uint32_t t = 1; t <= ish_btf_ntypes(b); t++) {
				ish_error_destroy(ish_btf_type_size(b, t, &size));
				ish_error_destroy(ish_btf_member(b, t, "list.next", &m));
				ish_btf_type_name(b, t, name, sizeof(name));
			}
			ish_btf_destroy(b);
		}
		ish_error_destroy(err);
		blob[i] = save;
	}
	blob[0] = 0;
	FAILS(ish_btf_parse(blob, len, &b), ISH_ERROR_FORMAT);
}

static void test_kernel_open(void)
{
	struct ish_kernel_vtd_unit *u;
	struct ish_kernel_member m;
	struct ish_target *t;
	struct ish_kernel *k;
	size_t n, bsize, ntypes;
	uint64_t v;

	OK(fk_build(&t));
	OK(ish_kernel_open(t, &k));
	CHECK_STR(ish_kernel_source(k), "RAM scan at 0x3fe000");
	CHECK_STR(ish_kernel_vmcoreinfo(k, "OSRELEASE"), "6.1.0-fake");
	CHECK_EQ(ish_kernel_phys_base(k), FK_PHYS_BASE);
	CHECK_EQ(ish_kernel_page_offset_base(k), FK_POB);
	CHECK_EQ(ish_kernel_nsyms(k), FK_NSYMS);
	OK(ish_kernel_symbol(k, "dmar_drhd_units", &v));
	CHECK_EQ(v, FK_TEXT_VA + FK_VAR_DRHD_UNITS);
	OK(ish_kernel_symbol(k, "intel_iommu_sm", &v));
	CHECK_EQ(v, FK_TEXT_VA + 0x2200);	/* the first of two */
	OK(ish_kernel_symbol(k, "cpu_number", &v));
	CHECK_EQ(v, 0x2000c);	/* absolute per-CPU */
	OK(ish_kernel_symbol(k, "fixed_percpu_data", &v));
	CHECK_EQ(v, 0);
	FAILS(ish_kernel_symbol(k, "nosuch", &v), ISH_ERROR_NOT_FOUND);
	FAILS(ish_kernel_symbol(k, "", &v), ISH_ERROR_NOT_FOUND);
	OK(ish_kernel_va_to_pa(k, FK_TEXT_VA + 0x10, &v));
	CHECK_EQ(v, FK_TEXT_PA + 0x10);
	OK(ish_kernel_va_to_pa(k, FK_POB + 0x1234, &v));
	CHECK_EQ(v, 0x1234);
	FAILS(ish_kernel_va_to_pa(k, 0xffffc90000000000ULL, &v), ISH_ERROR_FAULT);	/* vmalloc */
	FAILS(ish_kernel_va_to_pa(k, 0x1000, &v), ISH_ERROR_FAULT);
	FAILS(ish_kernel_read_u64(k, FK_POB + FK_RAM_SIZE, &v), ISH_ERROR_FAULT);
	OK(ish_kernel_btf_info(k, &bsize, &ntypes));
	CHECK(bsize > 0 && ntypes > 20);
	OK(ish_kernel_member(k, "struct q_inval", "free_tail", &m));
	CHECK_EQ(m.offset, 28);
	OK(ish_kernel_type_size(k, "struct intel_iommu", &v));
	CHECK_EQ(v, 392);
	OK(ish_kernel_read_member(k, FK_POB + FK_DRHD_PA, "struct dmar_drhd_unit", "include_all",
				  &v));
	CHECK_EQ(v, 1);
	OK(ish_kernel_read_member(k, FK_POB + FK_DRHD_PA, "struct dmar_drhd_unit", "ignored", &v));
	CHECK_EQ(v, 0);
	FAILS(ish_kernel_read_member(k, FK_POB + FK_IOMMU_PA, "struct intel_iommu", "name", &v),
	      ISH_ERROR_INVALID);
	OK(ish_kernel_vtd_units(k, &u, &n));
	CHECK_EQ(n, 1);
	if (n == 1) {
		CHECK_EQ(u[0].drhd_va, FK_POB + FK_DRHD_PA);
		CHECK_EQ(u[0].iommu_va, FK_POB + FK_IOMMU_PA);
		CHECK_EQ(u[0].reg_phys, 0xfed90000);
		CHECK(u[0].include_all);
		CHECK_EQ(u[0].cap, 0xd2008c22260286ULL);
		CHECK_EQ(u[0].ecap, 0xf00f5e);
		CHECK_EQ(u[0].gcmd, 0x86000000);
		CHECK_STR(u[0].name, "dmar0");
		CHECK_EQ(u[0].root_entry_pa, FK_ROOT_PA);
		CHECK(u[0].has_qi);
		CHECK_EQ(u[0].qi_desc_pa, FK_DESC_PA);
		CHECK_EQ(u[0].qi_free_head, 37);
		CHECK_EQ(u[0].qi_free_tail, 35);
		CHECK_EQ(u[0].qi_free_cnt, 254);
		CHECK(u[0].has_ir_table);
		CHECK_EQ(u[0].ir_table_base_pa, FK_IRTBASE_PA);
	}
	free(u);

	/* a list that loops back to its own node, not the head */
	fk_put(fk_ram(t) + FK_DRHD_PA, FK_POB + FK_DRHD_PA, 8);
	FAILS(ish_kernel_vtd_units(k, &u, &n), ISH_ERROR_FAULT);
	/* and one that leaves memory */
	fk_put(fk_ram(t) + FK_DRHD_PA, FK_POB + 0x7ffff000, 8);
	FAILS(ish_kernel_vtd_units(k, &u, &n), ISH_ERROR_FAULT);
	ish_kernel_destroy(k);
	ish_kernel_destroy(NULL);
	ish_target_close(t);
}

static struct ish_error *open_scan(const char *range, struct ish_kernel **k)
{
	struct ish_param p = { "kernel.scan", range };
	struct ish_target *t;
	struct ish_error *err = fk_build_params(&p, 1, &t);

	if (err)
		return err;
	err = ish_kernel_open(t, k);
	if (!err)
		ish_kernel_destroy(*k);
	ish_target_close(t);
	return err;
}

static void test_scan(void)
{
	volatile sig_atomic_t flag = 1;
	struct ish_target *t;
	struct ish_kernel *k;
	uint8_t *ram;

	OK(open_scan("0x3fe000-0x3fefff", &k));
	OK(open_scan("0x100000-0x3fffff", &k));
	FAILS(open_scan("0-0x3fdfff", &k), ISH_ERROR_NOT_FOUND);
	FAILS(open_scan("0x3fe000", &k), ISH_ERROR_INVALID);
	FAILS(open_scan("5-4", &k), ISH_ERROR_INVALID);
	/* a range past RAM reads nothing there: holes are skipped, not fatal */
	OK(open_scan("0x3f0000-0x7fffffff", &k));

	OK(fk_build(&t));
	ish_target_set_interrupt(t, &flag);
	FAILS(ish_kernel_open(t, &k), ISH_ERROR_INTERRUPTED);
	ish_target_set_interrupt(t, NULL);
	ram = fk_ram(t);
	/* the ELF note form of the page is found too */
	{
		char text[4096];
		size_t len;

		memcpy(text, ram + FK_VMCI_PA, sizeof(text));
		len = strlen(text);
		memset(ram + FK_VMCI_PA, 0, 4096);
		put_note(ram + FK_VMCI_PA, "VMCOREINFO", 0, text, len);
		OK(ish_kernel_open(t, &k));
		CHECK_STR(ish_kernel_source(k), "RAM scan at 0x3fe000");
		ish_kernel_destroy(k);
		/* a note whose descsz lies is skipped */
		fk_put(ram + FK_VMCI_PA + 4, 0x100000, 4);
		FAILS(ish_kernel_open(t, &k), ISH_ERROR_NOT_FOUND);
		memset(ram + FK_VMCI_PA, 0, 4096);
		memcpy(ram + FK_VMCI_PA, text, len);
	}
	/* hostile kallsyms: each a clean error */
	fk_put(ram + FK_TEXT_PA + FK_KS_NUM, 0x7fffffff, 4);
	FAILS(ish_kernel_open(t, &k), ISH_ERROR_FORMAT);
	fk_put(ram + FK_TEXT_PA + FK_KS_NUM, 0x700, 4);	/* names run into the token table */
	FAILS(ish_kernel_open(t, &k), ISH_ERROR_FORMAT);
	fk_put(ram + FK_TEXT_PA + FK_KS_NUM, FK_NSYMS, 4);
	fk_put(ram + FK_TEXT_PA + FK_KS_TOKIDX + 2 * 'a', 0xffff, 2);	/* token past the table */
	FAILS(ish_kernel_open(t, &k), ISH_ERROR_FORMAT);
	fk_put(ram + FK_TEXT_PA + FK_KS_TOKIDX + 2 * 'a', 0x200, 2);
	ram[FK_TEXT_PA + FK_KS_TOKTAB + 0x201] = 'x';	/* token 'a' no longer ends */
	memset(ram + FK_TEXT_PA + FK_KS_TOKTAB + 0x200, 'x', 0x400);
	FAILS(ish_kernel_open(t, &k), ISH_ERROR_FORMAT);
	ish_target_close(t);

	/* two-byte name lengths (6.1's big symbols) */
	OK(fk_build(&t));
	ram = fk_ram(t);
	{
		uint8_t *names = ram + FK_TEXT_PA + FK_KS_NAMES;
		size_t n0 = names[0];
		uint64_t v;

		memmove(names + 2, names + 1, 0x500);
		names[0] = (uint8_t)(0x80 | n0);
		names[1] = 0;
		OK(ish_kernel_open(t, &k));
		OK(ish_kernel_symbol(k, "dmar_drhd_units", &v));
		CHECK_EQ(v, FK_TEXT_VA + FK_VAR_DRHD_UNITS);
		ish_kernel_destroy(k);
	}
	ish_target_close(t);
}

static void test_no_kernel(void)
{
	struct ish_target *t;
	struct ish_kernel *k;

	OK(ish_mem_open(&t));
	FAILS(ish_kernel_open(t, &k), ISH_ERROR_NOT_FOUND);	/* no RAM at all */
	OK(ish_mem_add_ram(t, 0x100000, 0x10000, NULL));
	FAILS(ish_kernel_open(t, &k), ISH_ERROR_NOT_FOUND);
	ish_target_close(t);
	/* VMCOREINFO without the kallsyms symbols: a kernel older than 6.0 */
	OK(fk_build(&t));
	FAILS(ish_kernel_open_vmcoreinfo(t, vmci_text, sizeof(vmci_text), "test", &k),
	      ISH_ERROR_NOT_FOUND);
	FAILS(ish_kernel_open_vmcoreinfo(t, "OSRELEASE=x\n", 12, "test", &k), ISH_ERROR_NOT_FOUND);
	ish_target_close(t);
}

/*
 * The fake kernel's RAM as an ELF core with a VMCOREINFO note: what QEMU's
 * dump-guest-memory writes with -device vmcoreinfo (p_vaddr 0), or what
 * /proc/kcore looks like (p_vaddr in the direct map, p_paddr set).
 */
static char *write_core(struct ish_target *fake, const char *dir, const char *name, bool kcore)
{
	uint8_t notes[4096];
	char text[4096], *path;
	Elf64_Ehdr eh = { 0 };
	Elf64_Phdr ph[2] = { { 0 } };
	size_t nlen;
	FILE *f;

	memcpy(text, fk_ram(fake) + FK_VMCI_PA, sizeof(text));
	nlen = put_note(notes, "CORE", 1, "prstatus....", 12);
	nlen += put_note(notes + nlen, "VMCOREINFO", 0, text, strlen(text));
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
	eh.e_phnum = 2;
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x1000, .p_filesz = nlen };
	ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x2000,
			      .p_vaddr = kcore ? FK_POB : 0, .p_paddr = 0,
			      .p_filesz = FK_RAM_SIZE, .p_memsz = FK_RAM_SIZE };
	/* kcore's p_paddr 0 means "not set"; start its RAM one page up instead */
	if (kcore) {
		ph[1].p_vaddr += 0x1000;
		ph[1].p_paddr = 0x1000;
		ph[1].p_offset += 0x1000;
		ph[1].p_filesz = ph[1].p_memsz = FK_RAM_SIZE - 0x1000;
	}
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		exit(1);
	f = fopen(path, "wb");
	if (!f)
		exit(1);
	fwrite(&eh, sizeof(eh), 1, f);
	fwrite(ph, sizeof(ph), 1, f);
	fseek(f, 0x1000, SEEK_SET);
	fwrite(notes, nlen, 1, f);
	fseek(f, 0x2000, SEEK_SET);
	fwrite(fk_ram(fake), FK_RAM_SIZE, 1, f);
	fclose(f);
	return path;
}

static void check_core_kernel(struct ish_target *t, const char *source)
{
	struct ish_kernel_vtd_unit *u;
	struct ish_kernel *k;
	size_t n;

	OK(ish_kernel_open(t, &k));
	CHECK_STR(ish_kernel_source(k), source);
	CHECK_EQ(ish_kernel_nsyms(k), FK_NSYMS);
	OK(ish_kernel_vtd_units(k, &u, &n));
	CHECK_EQ(n, 1);
	if (n)
		CHECK_EQ(u[0].qi_desc_pa, FK_DESC_PA);
	free(u);
	ish_kernel_destroy(k);
}

static void test_cores(void)
{
	char dir[] = "/tmp/test_kernel.XXXXXX", *elf, *kc, *regs;
	struct ish_target *fake, *t;
	FILE *f;

	if (!mkdtemp(dir))
		exit(1);
	OK(fk_build(&fake));
	elf = write_core(fake, dir, "vmcore", false);
	kc = write_core(fake, dir, "kcore", true);
	if (asprintf(&regs, "%s/regs.txt", dir) < 0)
		exit(1);
	f = fopen(regs, "w");
	fprintf(f, "[dmar0 @ 0xfed90000]\n0x0 = 0x10\n");
	fclose(f);
	OK(ish_target_open(elf, "dump", NULL, 0, 0, &t));
	check_core_kernel(t, "ELF note");
	ish_target_close(t);
	{
		struct ish_param p[] = {
			{ "kcore.path", kc }, { "kcore.regs", regs }, { "acpi.dmar", "/nonexistent" },
			{ "devmem.path", "/nonexistent" }, { "debugfs.root", "/nonexistent" },
			{ "lockdown.path", "" },
		};

		OK(ish_target_open("kcore", NULL, p, 6, 0, &t));
		check_core_kernel(t, "/proc/kcore note");
		ish_target_close(t);
	}
	unlink(elf);
	unlink(kc);
	unlink(regs);
	rmdir(dir);
	free(elf);
	free(kc);
	free(regs);
	ish_target_close(fake);
}

static const char mtree[] =
	"FlatView #0\r\n"
	" AS \"I/O\", root: io\r\n"
	" Root memory region: io\r\n"
	"  0000000000000000-0000000000000007 (prio 0, i/o): dma-chan\r\n"
	"\r\n"
	"FlatView #2\r\n"
	" AS \"memory\", root: system\r\n"
	" AS \"cpu-memory-0\", root: system\r\n"
	" Root memory region: system\r\n"
	"  0000000000000000-000000000009ffff (prio 0, ram): pc.ram\r\n"
	"  00000000000a0000-00000000000bffff (prio 1, i/o): vga-lowmem\r\n"
	"  00000000000c0000-00000000000dffff (prio 1, rom): pc.rom\r\n"
	"  0000000000100000-000000007fffffff (prio 0, ram): pc.ram @0000000000100000\r\n"
	"  0000000080000000-00000000800fffff (prio 0, ram): pc.ram @0000000080000000\r\n"
	"  0000000100000000-000000017fffffff (prio 0, ram): pc.ram @0000000080000000\r\n"
	"\r\n"
	"FlatView #3\r\n"
	" AS \"vtd-root\", root: vtd-00.0\r\n"
	"  0000000000000000-00000000ffffffff (prio 0, ram): other\r\n";

static void test_mtree(void)
{
	struct ish_ram_range *r;
	size_t n;

	OK(ish_gdbstub_parse_mtree(mtree, &r, &n));
	CHECK_EQ(n, 3);
	if (n == 3) {
		CHECK_EQ(r[0].start, 0);
		CHECK_EQ(r[0].end, 0xa0000);
		CHECK_EQ(r[1].start, 0x100000);
		CHECK_EQ(r[1].end, 0x80100000);	/* adjacent pieces merged */
		CHECK_EQ(r[2].start, 0x100000000ULL);
		CHECK_EQ(r[2].end, 0x180000000ULL);
	}
	free(r);
	FAILS(ish_gdbstub_parse_mtree("FlatView #0\n AS \"I/O\", root: io\n", &r, &n),
	      ISH_ERROR_NOT_FOUND);
	FAILS(ish_gdbstub_parse_mtree("", &r, &n), ISH_ERROR_NOT_FOUND);
}

static int write_file(const char *dir, const char *name, const void *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len) {
		perror(path);
		if (f)
			fclose(f);
		return 1;
	}
	return fclose(f) ? 1 : 0;
}

/* Seeds for tests/fuzz/corpus/{vmcoreinfo,kallsyms,btf}/ (DIR/<harness>/). */
static int write_seeds(const char *dir)
{
	static uint8_t blob[8192];
	struct ish_target *t;
	char path[4096], text[4096];
	uint8_t notes[4096];
	size_t n;
	int rc = 0;

	OK(fk_build(&t));
	snprintf(path, sizeof(path), "%s/btf", dir);
	mkdir(path, 0777);
	rc |= write_file(path, "fake-6.1-vtd", blob, fk_build_btf(blob, sizeof(blob)));
	snprintf(path, sizeof(path), "%s/kallsyms", dir);
	mkdir(path, 0777);
	rc |= write_file(path, "fake-6.1", fk_ram(t) + FK_TEXT_PA, FK_KS_SIZE);
	snprintf(path, sizeof(path), "%s/vmcoreinfo", dir);
	mkdir(path, 0777);
	fk_vmcoreinfo(text, sizeof(text));
	rc |= write_file(path, "fake-6.1", text, strlen(text));
	rc |= write_file(path, "qemu-6.1", vmci_text, sizeof(vmci_text) - 1);
	n = put_note(notes, "CORE", 1, "prstatus....", 12);
	n += put_note(notes + n, "VMCOREINFO", 0, text, strlen(text));
	rc |= write_file(path, "notes", notes, n);
	ish_target_close(t);
	return rc;
}

/* The kernel's copies as registers: units rebuilt from dmar_drhd_units, then a fallback. */
static uint64_t kreg(struct ish_target *t, uint32_t offset, unsigned width)
{
	uint64_t v = ~0ULL;

	OK(ish_read_reg(t, 0, offset, width, &v));
	CHECK_STR(ish_target_reg_source(t, 0, offset), "kernel");
	return v;
}

static void test_kernel_regs(void)
{
	struct ish_target *t;
	uint64_t v;
	unsigned idx;

	/* legacy: intel_iommu_sm 0, ECAP without SMTS */
	OK(fk_build(&t));
	CHECK_EQ(ish_target_nunits(t), 0);
	OK(ish_target_kernel_units(t));
	CHECK_EQ(ish_target_nunits(t), 1);
	CHECK(ish_target_units_from_kernel(t));
	CHECK_STR(ish_target_unit(t, 0)->name, "dmar0");
	CHECK_EQ(ish_target_unit(t, 0)->reg_base, 0xfed90000);
	CHECK_EQ(ish_target_unit(t, 0)->drhd_flags, 1);
	CHECK_EQ(kreg(t, DMAR_CAP_REG, 64), 0xd2008c22260286ULL);
	CHECK_EQ(kreg(t, DMAR_ECAP_REG, 64), 0xf00f5e);
	/* gcmd TE|QIE|IRE, RTPS and IRTPS from root_entry and ir_table */
	CHECK_EQ(kreg(t, DMAR_GSTS_REG, 32), 0xc7000000);
	CHECK_EQ(kreg(t, DMAR_RTADDR_REG, 64), FK_ROOT_PA);
	CHECK_EQ(kreg(t, DMAR_IQA_REG, 64), FK_DESC_PA);
	CHECK_EQ(kreg(t, DMAR_IQT_REG, 64), 37u << 4);
	CHECK_EQ(kreg(t, DMAR_IQH_REG, 64), 37u << 4);
	CHECK_EQ(kreg(t, DMAR_IRTA_REG, 64), FK_IRTBASE_PA | 0xf);
	CHECK_EQ(kreg(t, DMAR_IRTA_REG, 32), FK_IRTBASE_PA | 0xf);	/* the low half */
	CHECK_EQ(kreg(t, DMAR_CAP_REG + 4, 32), 0xd2008cULL);
	FAILS(ish_read_reg(t, 0, DMAR_VER_REG, 32, &v), ISH_ERROR_NOT_FOUND);
	FAILS(ish_read_reg(t, 0, DMAR_FSTS_REG, 32, &v), ISH_ERROR_NOT_FOUND);
	FAILS(ish_target_kernel_units(t), ISH_ERROR_INVALID);	/* has units */
	ish_target_close(t);

	/* scalable: intel_iommu_sm 1, ECAP.SMTS, eim_mode missing (0) */
	OK(fk_build(&t));
	fk_put(fk_ram(t) + FK_IOMMU_PA + 32, 0xf00f5eULL | 1ULL << 43, 8);
	fk_put(fk_ram(t) + FK_TEXT_PA + 0x2200, 1, 4);
	OK(ish_target_kernel_units(t));
	CHECK_EQ(kreg(t, DMAR_RTADDR_REG, 64), FK_ROOT_PA | 1u << 10);
	CHECK_EQ(kreg(t, DMAR_IQA_REG, 64), FK_DESC_PA | 1u << 11 | 1);
	CHECK_EQ(kreg(t, DMAR_IQT_REG, 64), 37u << 5);
	ish_target_close(t);

	/*
	 * A unit the backend knows, without some registers: those come from
	 * the kernel, matched by the register base; the others stay hardware.
	 */
	OK(fk_build(&t));
	OK(ish_mem_add_unit(t, 0xfed90000, 0, &idx));
	OK(ish_mem_set_reg(t, idx, DMAR_VER_REG, 32, 0x10));
	OK(ish_read_reg(t, 0, DMAR_VER_REG, 32, &v));
	CHECK_EQ(v, 0x10);
	CHECK_STR(ish_target_reg_source(t, 0, DMAR_VER_REG), "hardware");
	CHECK(!ish_target_units_from_kernel(t));
	v = 0;
	if (ish_read_reg(t, 0, DMAR_GSTS_REG, 32, &v) == NULL &&
	    !strcmp(ish_target_reg_source(t, 0, DMAR_GSTS_REG), "kernel"))
		CHECK_EQ(v, 0xc7000000);
	else
		CHECK_EQ(v, 0);	/* mem reads an unset register as 0: hardware */
	ish_target_close(t);

	/* no kernel: the backend's reason stands, and a kernel built later is found */
	OK(ish_mem_open(&t));
	FAILS(ish_target_kernel_units(t), ISH_ERROR_NOT_FOUND);
	CHECK_EQ(ish_target_nunits(t), 0);
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-seeds"))
		return write_seeds(argv[2]);
	check_init(argc, argv);
	CASE("vmcoreinfo_text") test_vmcoreinfo_text();
	CASE("vmcoreinfo_note") test_vmcoreinfo_note();
	CASE("btf") test_btf();
	CASE("kernel_open") test_kernel_open();
	CASE("kernel_regs") test_kernel_regs();
	CASE("scan") test_scan();
	CASE("no_kernel") test_no_kernel();
	CASE("mtree") test_mtree();
	CASE("cores") test_cores();
	return check_report();
}
