// SPDX-License-Identifier: MIT
/*
 * The kcore backend: RAM of a live host through /proc/kcore (kcore.path),
 * for kernels whose /dev/mem refuses RAM (CONFIG_STRICT_DEVMEM); registers
 * from /dev/mem (MMIO stays readable there) or from debugfs iommu_regset.
 *
 * /proc/kcore is an ELF core of the kernel's virtual address space
 * (Linux fs/proc/kcore.c). Since 4.x each PT_LOAD of the direct map
 * (KCORE_RAM) carries its physical address in p_paddr, the kernel text
 * (KCORE_TEXT) too, and every other segment (vmalloc, modules, vmemmap)
 * p_paddr = -1. Older kernels leave p_paddr 0 everywhere: then the
 * physical address is p_vaddr - PAGE_OFFSET for the segments inside the
 * direct map (kcore.page_offset; "auto" tries the x86-64 4-level bases
 * 0xffff888000000000 (4.20+) and 0xffff880000000000, and finds nothing under
 * KASLR: give the value of page_offset_base then). Segments that overlap in
 * physical memory are the same memory seen twice (the text inside RAM):
 * the larger is kept.
 *
 * The ELF headers are read through libelf, as the dump backend reads its
 * cores, with ELF_C_READ (pread() as asked, never a mapping: the file
 * reports a size of the whole virtual address space, 128 TiB); the notes
 * and RAM with ish_pread_all.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iommush/kernel.h>
#include <iommush/regsfile.h>

#include "backends.h"

#define KCORE_MAX_PHDRS 65536u
#define DIRECT_MAP_SPAN (1ULL << 46)	/* 64 TiB, the 4-level direct map */

struct kcore_seg {
	uint64_t paddr, len, offset;
};

struct kcore_priv {
	int fd;
	char *path;
	struct kcore_seg *segs;	/* sorted, disjoint */
	size_t nsegs;
	/* registers: one of these */
	struct ish_devmem_regs *devmem;
	struct ish_regfile **regs;	/* by unit index */
	size_t nregs;
	const char *regs_from;	/* "devmem", "debugfs", a file or "kernel" (its copies) */
	char *regs_why;		/* regs_from "kernel": why devmem and debugfs could not */
	char *vmcoreinfo;	/* the VMCOREINFO note's text (fs/proc/kcore.c adds one), or NULL */
	size_t vmcoreinfo_len;
	struct ish_hostpci *pci;	/* opened on first use */
};

static bool kcore_detect(const char *spec)
{
	return !strcmp(spec, "kcore");
}

static void kcore_close(struct ish_target *t)
{
	struct kcore_priv *p = ish_target_priv(t);

	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	ish_devmem_unmap(p->devmem);
	ish_hostpci_destroy(p->pci);
	for (size_t i = 0; i < p->nregs; i++)
		ish_regfile_destroy(p->regs[i]);
	free(p->regs);
	free(p->segs);
	free(p->path);
	free(p->vmcoreinfo);
	free(p->regs_why);
	free(p);
	ish_target_set_priv(t, NULL);
}

static struct ish_error *full_pread(struct kcore_priv *p, void *buf, size_t len, uint64_t off)
{
	size_t done;
	int rc = ish_pread_all(p->fd, buf, len, off, &done);

	if (rc < 0)
		return ish_error_errno(errno, "reading %s at offset %#" PRIx64, p->path, off + done);
	if (rc > 0)
		return ish_error_format(ISH_ERROR_FORMAT, "%s ends at offset %#" PRIx64, p->path,
					off + done);
	return NULL;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct kcore_seg *x = a, *y = b;

	if (x->paddr != y->paddr)
		return x->paddr < y->paddr ? -1 : 1;
	return x->len > y->len ? -1 : x->len < y->len;
}

/* The notes /proc/kcore carries are small (prstatus, prpsinfo, the task, VMCOREINFO). */
#define KCORE_MAX_NOTES (1u << 20)

static struct ish_error *read_vmcoreinfo(struct kcore_priv *p, const GElf_Phdr *ph)
{
	struct ish_error *err;
	const char *desc;
	size_t dlen;
	uint8_t *buf;

	if (ph->p_type != PT_NOTE || !ph->p_filesz || ph->p_filesz > KCORE_MAX_NOTES)
		return NULL;
	buf = malloc(ph->p_filesz);
	if (!buf)
		return &ish_enomem;
	err = full_pread(p, buf, ph->p_filesz, ph->p_offset);
	if (!err) {
		err = ish_kernel_find_vmcoreinfo_note(buf, ph->p_filesz, &desc, &dlen);
		if (!err) {
			p->vmcoreinfo = strndup(desc, dlen);
			p->vmcoreinfo_len = p->vmcoreinfo ? strlen(p->vmcoreinfo) : 0;
			if (!p->vmcoreinfo)
				err = &ish_enomem;
		} else {
			/* Not having one (or odd notes) leaves the RAM scan. */
			ish_error_destroy(err);
			err = NULL;
		}
	} else {
		ish_error_destroy(err);
		err = NULL;
	}
	free(buf);
	return err;
}

static struct ish_error *load_elf(struct ish_target *t, struct kcore_priv *p)
{
	const char *po = ish_target_param(t, "kcore.page_offset");
	static const uint64_t auto_po[] = { 0xffff888000000000ULL, 0xffff880000000000ULL };
	struct ish_error *err;
	GElf_Ehdr eh;
	GElf_Phdr *ph = NULL;
	Elf *e = NULL;
	size_t phnum, kept = 0;
	bool by_paddr = false;
	uint64_t page_offset = 0;
	bool po_given = false;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "libelf: %s", elf_errmsg(-1));
	e = elf_begin(p->fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		err = ish_error_format(ISH_ERROR_FORMAT, "%s is not a 64-bit little-endian ELF file",
				       p->path);
		goto out;
	}
	if (eh.e_type != ET_CORE) {
		err = ish_error_format(ISH_ERROR_FORMAT, "%s is not an ELF core (e_type %u)", p->path,
				       eh.e_type);
		goto out;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr)) {
		err = ish_error_format(ISH_ERROR_FORMAT, "%s: program headers of %u bytes", p->path,
				       eh.e_phentsize);
		goto out;
	}
	/* PN_XNUM: libelf takes the real count from section header 0 (gABI). */
	if (elf_getphdrnum(e, &phnum)) {
		err = ish_error_format(ISH_ERROR_FORMAT, "%s: program headers: %s", p->path,
				       elf_errmsg(-1));
		goto out;
	}
	if (!phnum || phnum > KCORE_MAX_PHDRS) {
		err = ish_error_format(ISH_ERROR_FORMAT, "%s: %zu program headers", p->path, phnum);
		goto out;
	}
	ph = calloc(phnum, sizeof(*ph));
	p->segs = calloc(phnum, sizeof(*p->segs));
	if (!ph || !p->segs) {
		err = &ish_enomem;
		goto out;
	}
	for (size_t i = 0; i < phnum; i++)
		if (!gelf_getphdr(e, (int)i, &ph[i])) {
			err = ish_error_format(ISH_ERROR_FORMAT, "%s: program header %zu: %s", p->path,
					       i, elf_errmsg(-1));
			goto out;
		}
	for (size_t i = 0; i < phnum && !p->vmcoreinfo; i++) {
		err = read_vmcoreinfo(p, &ph[i]);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < phnum; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_paddr && ph[i].p_paddr != ~0ULL)
			by_paddr = true;
	if (!by_paddr && po && *po && strcmp(po, "auto")) {
		err = ish_target_param_u64(t, "kcore.page_offset", 0, &page_offset);
		if (err)
			goto out;
		po_given = true;
	}
	for (size_t k = 0; k < (po_given ? 1 : 2) && !kept; k++) {
		if (!by_paddr && !po_given)
			page_offset = auto_po[k];
		for (size_t i = 0; i < phnum; i++) {
			struct kcore_seg s;

			if (ph[i].p_type != PT_LOAD || !ph[i].p_filesz)
				continue;
			if (by_paddr) {
				if (ph[i].p_paddr == ~0ULL)
					continue;
				s.paddr = ph[i].p_paddr;
			} else {
				if (ph[i].p_vaddr < page_offset ||
				    ph[i].p_vaddr - page_offset >= DIRECT_MAP_SPAN)
					continue;
				s.paddr = ph[i].p_vaddr - page_offset;
			}
			s.len = ph[i].p_filesz;
			s.offset = ph[i].p_offset;
			if (s.paddr + s.len - 1 < s.paddr || s.offset + s.len < s.offset ||
			    s.offset + s.len > (uint64_t)INT64_MAX) {
				err = ish_error_format(ISH_ERROR_FORMAT,
						       "%s: PT_LOAD %zu wraps around", p->path, i);
				goto out;
			}
			p->segs[kept++] = s;
		}
	}
	if (!kept) {
		err = ish_error_format(ISH_ERROR_FORMAT,
				       "%s has no PT_LOAD of the direct map%s", p->path,
				       by_paddr ? "" :
				       " (p_paddr is not set: give kcore.page_offset, the kernel's "
				       "page_offset_base)");
		goto out;
	}
	qsort(p->segs, kept, sizeof(*p->segs), cmp_seg);
	p->nsegs = 0;
	for (size_t i = 0; i < kept; i++) {
		struct kcore_seg s = p->segs[i];

		if (p->nsegs) {
			struct kcore_seg *prev = &p->segs[p->nsegs - 1];
			uint64_t prev_end = prev->paddr + prev->len;

			if (s.paddr + s.len <= prev_end)
				continue;	/* inside the previous one: the same memory again */
			if (s.paddr < prev_end) {
				uint64_t cut = prev_end - s.paddr;

				s.paddr += cut;
				s.offset += cut;
				s.len -= cut;
			}
		}
		p->segs[p->nsegs++] = s;
	}
out:
	free(ph);
	elf_end(e);
	return err;
}

static const struct kcore_seg *find_seg(const struct kcore_priv *p, uint64_t addr)
{
	size_t lo = 0, hi = p->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct kcore_seg *s = &p->segs[mid];

		if (addr < s->paddr)
			hi = mid;
		else if (addr - s->paddr >= s->len)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}

static struct ish_error *kcore_read_phys(struct ish_target *t, uint64_t addr, void *buf, size_t len)
{
	struct kcore_priv *p = ish_target_priv(t);
	uint8_t *out = buf;

	while (len) {
		const struct kcore_seg *s = find_seg(p, addr);
		uint64_t off;
		size_t n, done;
		int rc;

		if (!s)
			return ish_error_fault(addr,
					       "physical address %#" PRIx64 " is not RAM in %s (kcore "
					       "shows only the kernel's direct map)", addr, p->path);
		off = addr - s->paddr;
		n = s->len - off < len ? (size_t)(s->len - off) : len;
		rc = ish_pread_all(p->fd, out, n, s->offset + off, &done);
		addr += done;
		if (rc < 0)
			return ish_error_fault(addr, "reading %#" PRIx64 " through %s: %s", addr, p->path,
					       strerror(errno));
		if (rc > 0)
			return ish_error_fault(addr, "%s ends before physical address %#" PRIx64, p->path,
					       addr);
		out += n;
		len -= n;
	}
	return NULL;
}

static struct ish_error *kcore_read_reg(struct ish_target *t, const struct ish_unit *u,
					uint32_t offset, unsigned width, uint64_t *ret)
{
	struct kcore_priv *p = ish_target_priv(t);
	struct ish_error *err;

	if (p->devmem)
		return ish_devmem_reg(p->devmem, u->index, offset, width, ret);
	if (!strcmp(p->regs_from, "kernel"))
		return ish_error_format(ISH_ERROR_NOT_FOUND, "no registers of %s (%s)", u->name,
					p->regs_why);
	if (u->index >= p->nregs || !p->regs[u->index])
		return ish_error_format(ISH_ERROR_NOT_FOUND, "no registers of %s in %s", u->name,
					p->regs_from);
	err = ish_regfile_get(p->regs[u->index], offset, width, ret);
	if (err && err->code == ISH_ERROR_NOT_FOUND)
		return ish_error_prefix(err, "register offset %#x is not in %s", offset, p->regs_from);
	return err;
}

static struct ish_error *kcore_write_reg(struct ish_target *t, const struct ish_unit *u,
					 uint32_t offset, unsigned width, uint64_t value)
{
	struct kcore_priv *p = ish_target_priv(t);

	if (!p->devmem)
		return ish_error_format(ISH_ERROR_UNSUPPORTED,
					"kcore's registers come from %s, a copy in text, which cannot "
					"be written (kcore.regs=devmem maps the real ones)",
					p->regs_from);
	return ish_devmem_write_reg(t, p->devmem, u->index, offset, width, value);
}

static const char *kcore_write_refusal(struct ish_target *t, bool reg)
{
	struct kcore_priv *p = ish_target_priv(t);

	if (!reg)
		return "/proc/kcore is read-only: the kernel offers no way to write RAM through it "
		       "(the devmem backend can, where CONFIG_STRICT_DEVMEM allows)";
	if (!p || !p->devmem)
		return "its registers come from a copy in text (debugfs iommu_regset or a file), "
		       "which cannot be written: kcore.regs=devmem maps the real ones";
	return NULL;
}

/* Registers from a register file (debugfs iommu_regset or NAME=VALUE); units with them. */
static struct ish_error *regs_from_file(struct ish_target *t, struct kcore_priv *p, const char *path,
					struct ish_unit **units, size_t *n)
{
	struct ish_regsfile *rf;
	struct ish_error *err = ish_regsfile_load(path, &rf);
	struct ish_unit *drhd = *units;
	size_t ndrhd = *n;
	struct ish_unit *nu;

	if (err)
		return err;
	nu = calloc(rf->nunits ? rf->nunits : 1, sizeof(*nu));
	p->regs = calloc(rf->nunits ? rf->nunits : 1, sizeof(*p->regs));
	if (!nu || !p->regs) {
		free(nu);
		ish_regsfile_destroy(rf);
		return &ish_enomem;
	}
	for (size_t i = 0; i < rf->nunits; i++) {
		struct ish_regsfile_unit *ru = &rf->units[i];

		if (ru->has_base)
			nu[i].reg_base = ru->reg_base;
		else if (i < ndrhd)
			nu[i].reg_base = drhd[i].reg_base;
		for (size_t k = 0; k < ndrhd; k++) {
			if (drhd[k].reg_base == nu[i].reg_base) {
				nu[i] = drhd[k];
				break;
			}
		}
		memcpy(nu[i].name, ru->name, sizeof(nu[i].name));
		p->regs[i] = ru->regs;
		ru->regs = NULL;
	}
	p->nregs = rf->nunits;
	free(*units);
	*units = nu;
	*n = rf->nunits;
	ish_regsfile_destroy(rf);
	return NULL;
}

/*
 * No registers by devmem or debugfs (a stock kernel: STRICT_DEVMEM, no
 * INTEL_IOMMU_DEBUGFS): the kernel's own copies of them will do when the
 * kernel can be read through kcore, which its VMCOREINFO note says
 * (lib/target.c falls back on them).
 * Takes why; returns it when the kernel is not found either.
 * The units stay the DMAR table's (or none: the target then takes the
 * kernel's dmar_drhd_units).
 */
static struct ish_error *kernel_copies(struct ish_target *t, struct kcore_priv *p,
				       struct ish_error *why)
{
	(void)t;
	/*
	 * The note, not ish_target_kernel(): under live, the target's hooks
	 * are live's, which cannot run before live_open has finished; the
	 * kernel is opened on the first register read instead.
	 */
	if (!p->vmcoreinfo)
		return why;	/* the refusal as before: the kernel is the last resort */
	p->regs_from = "kernel";
	p->regs_why = strdup(why->message);
	ish_error_destroy(why);
	return p->regs_why ? NULL : &ish_enomem;
}

static struct ish_error *kcore_open_priv(struct ish_target *t, struct kcore_priv *p)
{
	const char *how = ish_target_param(t, "kcore.regs");
	const char *root = ish_target_param(t, "debugfs.root");
	struct ish_error *err, *e1 = NULL;
	struct ish_unit *units = NULL;
	size_t n = 0;
	char *regset = NULL;

	p->path = strdup(ish_target_param(t, "kcore.path"));
	if (!p->path)
		return &ish_enomem;
	p->fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0) {
		int e = errno;
		char *why = ish_live_explain_open(t, p->path, e);

		err = ish_error_format(ISH_ERROR_OS, "%s", why ? why : p->path);
		if (err != &ish_enomem)
			err->errnum = e;
		free(why);
		return err;
	}
	err = load_elf(t, p);
	if (err)
		return err;

	if (!how || !*how)
		how = "auto";
	err = ish_live_load_dmar(t, !strcmp(how, "devmem"));
	if (!err)
		err = ish_live_drhds(t, &units, &n);
	if (err)
		goto out;
	if (!strcmp(how, "auto") || !strcmp(how, "devmem")) {
		if (!n)
			e1 = ish_error_create(ISH_ERROR_NOT_FOUND, "no DMAR table to find the registers");
		else
			e1 = ish_devmem_map(t, units, n, &p->devmem);
		if (!e1) {
			p->regs_from = "devmem";
		} else if (!strcmp(how, "devmem")) {
			err = e1;
			e1 = NULL;
			goto out;
		}
	}
	if (!p->devmem) {
		const char *file = how;

		if (!strcmp(how, "auto") || !strcmp(how, "debugfs")) {
			if (asprintf(&regset, "%s/iommu_regset", root ? root : "") < 0) {
				err = &ish_enomem;
				goto out;
			}
			file = regset;
			p->regs_from = "debugfs iommu_regset";
		} else {
			p->regs_from = "kcore.regs";
		}
		err = regs_from_file(t, p, file, &units, &n);
		if (err) {
			if (e1)
				err = ish_error_prefix(err, "registers: devmem: %s; debugfs", e1->message);
			if (!strcmp(how, "auto"))
				err = kernel_copies(t, p, err);
			if (err)
				goto out;
		}
	}
	for (size_t i = 0; i < n && !err; i++)
		err = ish_target_add_unit(t, &units[i], NULL);
out:
	ish_error_destroy(e1);
	free(regset);
	free(units);
	return err;
}

static struct ish_error *kcore_open(struct ish_target *t, const char *spec)
{
	struct kcore_priv *p = calloc(1, sizeof(*p));
	struct ish_error *err;

	(void)spec;
	if (!p)
		return &ish_enomem;
	p->fd = -1;
	ish_target_set_priv(t, p);
	err = kcore_open_priv(t, p);
	if (err)
		kcore_close(t);
	return err;
}

/* Where kcore's registers came from, for live's explanation. */
const char *ish_kcore_regs_from(const struct ish_target *t, void *priv)
{
	const struct kcore_priv *p = priv;

	(void)t;
	return p ? p->regs_from : NULL;
}

/* Only this host's own devices may be named by this host's sysfs. */
static bool kcore_local(struct ish_target *t)
{
	return !strcmp(((struct kcore_priv *)ish_target_priv(t))->path, ISH_KCORE_PATH_DEFAULT);
}

static struct ish_error *kcore_read_config(struct ish_target *t, uint16_t segment, uint16_t bdf,
                                           uint32_t offset, unsigned width, uint32_t *ret)
{
	struct kcore_priv *p = ish_target_priv(t);

	return ish_hostpci_read_config(t, &p->pci, kcore_local(t), segment, bdf, offset, width,
				       ret);
}

static struct ish_error *kcore_pci_functions(struct ish_target *t, ish_pci_ident_fn *fn, void *arg)
{
	struct kcore_priv *p = ish_target_priv(t);

	return ish_hostpci_functions(t, &p->pci, kcore_local(t), fn, arg);
}

static struct ish_error *kcore_vmcoreinfo(struct ish_target *t, char **ret, size_t *len,
					const char **where)
{
	struct kcore_priv *p = ish_target_priv(t);

	if (!p->vmcoreinfo)
		return ish_error_format(ISH_ERROR_NOT_FOUND, "%s has no VMCOREINFO note", p->path);
	*ret = strdup(p->vmcoreinfo);
	if (!*ret)
		return &ish_enomem;
	*len = p->vmcoreinfo_len;
	*where = "/proc/kcore note";
	return NULL;
}

static struct ish_error *kcore_ram_ranges(struct ish_target *t, struct ish_ram_range **ret,
					  size_t *n)
{
	struct kcore_priv *p = ish_target_priv(t);

	*ret = malloc((p->nsegs ? p->nsegs : 1) * sizeof(**ret));
	if (!*ret)
		return &ish_enomem;
	for (size_t i = 0; i < p->nsegs; i++) {
		(*ret)[i].start = p->segs[i].paddr;
		(*ret)[i].end = p->segs[i].paddr + p->segs[i].len;
	}
	*n = p->nsegs;
	return NULL;
}

static const struct ish_param_def kcore_params[] = {
	{ "kcore.path", ISH_KCORE_PATH_DEFAULT, "the kernel's ELF core (RAM through the direct map)" },
	{ "kcore.regs", "auto",
	  "registers from: auto (devmem, else debugfs), devmem, debugfs, or a register FILE" },
	{ "kcore.page_offset", "auto",
	  "direct-map base when p_paddr is not set (old kernels): auto or the page_offset_base" },
	{ "devmem.path", ISH_DEVMEM_PATH_DEFAULT, "physical memory device, for the registers" },
	{ "debugfs.root", ISH_DEBUGFS_ROOT_DEFAULT, "Intel IOMMU debugfs, for iommu_regset" },
	{ "acpi.dmar", ISH_ACPI_DMAR_DEFAULT, "the ACPI DMAR table: units, segments, scopes" },
	{ "lockdown.path", ISH_LOCKDOWN_PATH_DEFAULT, "kernel lockdown state, to explain a refusal" },
	ISH_HOSTPCI_PARAM,
	{ NULL, NULL, NULL },
};

const struct ish_backend ish_backend_kcore = {
	.name = "kcore",
	.help = "live host: RAM through /proc/kcore, registers through /dev/mem or debugfs",
	.params = kcore_params,
	.flags = ISH_BACKEND_NOCACHE | ISH_BACKEND_LIVE | ISH_BACKEND_KERNEL_UNITS,
	.detect = kcore_detect,
	.open = kcore_open,
	.close = kcore_close,
	.read_phys = kcore_read_phys,
	.read_reg = kcore_read_reg,
	.read_config = kcore_read_config,
	.pci_functions = kcore_pci_functions,
	.write_reg = kcore_write_reg,
	.write_refusal = kcore_write_refusal,
	.vmcoreinfo = kcore_vmcoreinfo,
	.ram_ranges = kcore_ram_ranges,
};
