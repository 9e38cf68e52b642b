// SPDX-License-Identifier: MIT
/*
 * The dump backend: ELF cores (QEMU dump-guest-memory, kdump /proc/vmcore,
 * iommush snapshots) and raw memory images, read post mortem. The file is
 * opened O_RDONLY and never written.
 *
 * RAM is read with pread() behind the target's page cache rather than
 * through mmap(): a dump shrunk under us (a copy still being written, a
 * network file system) would turn a mapped read into SIGBUS, while pread()
 * just comes back short and becomes an error. Measured on a 64 MiB QEMU
 * core already in the OS page cache: a random 4 KiB pread costs 2.6-3.9 us,
 * mmap+memcpy 0.37 us; random 8-byte ish_read_u64() through the target
 * cache costs 3.6 us. A walk reads each table page once, so 100000 pages
 * cost about 0.3 s with pread: robustness wins over the 7x.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iommush/acpi.h>
#include <iommush/vtd/dmar.h>
#include <iommush/kernel.h>
#include <iommush/regfile.h>
#include <iommush/regs.h>
#include <iommush/regsfile.h>
#include <iommush/snapshot.h>

#include "backends.h"
#include "kdump.h"

#define MAX_SEGMENTS (1u << 22)
/* Bytes compared to prove two overlapping PT_LOADs show the same memory. */
#define MAX_ALIAS_COMPARE (1ULL << 30)

struct dump_seg {
	uint64_t paddr;
	uint64_t memsz;
	uint64_t filesz;
	uint64_t offset;
	uint64_t avail;		/* file bytes present: < filesz when the file is truncated */
	size_t phdr;		/* program header index, for messages */
};

struct dump_priv {
	int fd;
	uint64_t file_size;
	bool elf;
	struct dump_seg *segs;	/* sorted by paddr, disjoint */
	size_t nsegs;
	struct ish_regfile **regs;	/* by unit index; NULL entries: none captured */
	size_t nregs;
	struct ish_snapshot_notes *notes;	/* kept for PCI config space, or NULL */
	char *vmcoreinfo;	/* the kernel's VMCOREINFO note's text, or NULL */
	size_t vmcoreinfo_len;
	/* A kernel's ELF dump (VMCOREINFO, no iommush notes): p_filesz < p_memsz is filtered out. */
	bool filtered;
	struct ish_kdump *kd;	/* a kdump-compressed dump (kdump.c) serves RAM, or NULL */
};

static bool dump_detect(const char *spec)
{
	struct stat st;

	return *spec && !stat(spec, &st) && S_ISREG(st.st_mode);
}

static void dump_close(struct ish_target *t)
{
	struct dump_priv *p = ish_target_priv(t);

	if (!p)
		return;
	if (p->fd >= 0)
		close(p->fd);
	ish_snapshot_notes_destroy(p->notes);
	free(p->vmcoreinfo);
	ish_kdump_destroy(p->kd);
	for (size_t i = 0; i < p->nregs; i++)
		ish_regfile_destroy(p->regs[i]);
	free(p->regs);
	free(p->segs);
	free(p);
	ish_target_set_priv(t, NULL);
}

/* --- reading segments --- */

/*
 * pread() found the end of the file before the bytes it had when it was
 * opened: someone cut it short since (a copy still being written, another
 * process truncating it). Said with the size now and then.
 */
static struct ish_error *shrunk(const struct dump_priv *p, const struct dump_seg *s, uint64_t off)
{
	struct stat st;

	if (fstat(p->fd, &st) || (uint64_t)st.st_size >= p->file_size)
		return ish_error_fault(s->paddr + off,
				       "the dump is truncated: physical address %#" PRIx64
				       " is past the end of the file", s->paddr + off);
	return ish_error_fault(s->paddr + off,
			       "the dump shrank while open: physical address %#" PRIx64 " (%s %zu, "
			       "file offset %#" PRIx64 ") lies past its end, now %lld bytes (%" PRIu64
			       " when opened)",
			       s->paddr + off, p->elf ? "PT_LOAD" : "segment", s->phdr,
			       s->offset + off, (long long)st.st_size, p->file_size);
}

/* Reads n bytes at off within segment s (off + n <= memsz). */
static struct ish_error *seg_read(struct dump_priv *p, const struct dump_seg *s, uint64_t off,
				  uint8_t *buf, size_t n)
{
	while (n) {
		size_t chunk = n;

		if (off >= s->filesz && p->filtered)
			return ish_kdump_excluded(s->paddr + off, -1);
		if (off >= s->filesz) {
			/* p_filesz < p_memsz: the rest of the segment reads as zeros (gABI). */
			memset(buf, 0, n);
			return NULL;
		}
		if (chunk > s->filesz - off)
			chunk = (size_t)(s->filesz - off);
		if (off >= s->avail)
			return ish_error_fault(s->paddr + off,
					       "the dump is truncated: physical address %#" PRIx64
					       " (PT_LOAD %zu, file offset %#" PRIx64
					       ") lies past the end of the file (%" PRIu64 " bytes)",
					       s->paddr + off, s->phdr, s->offset + off, p->file_size);
		if (chunk > s->avail - off)
			chunk = (size_t)(s->avail - off);
		size_t done;
		int rc = ish_pread_all(p->fd, buf, chunk, s->offset + off, &done);

		off += done;
		if (rc < 0)
			return ish_error_errno(errno, "reading the dump at file offset %#" PRIx64,
					       s->offset + off);
		if (rc > 0)
			return shrunk(p, s, off);
		buf += chunk;
		n -= chunk;
	}
	return NULL;
}

static const struct dump_seg *find_seg(const struct dump_priv *p, uint64_t addr)
{
	size_t lo = 0, hi = p->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct dump_seg *s = &p->segs[mid];

		if (addr < s->paddr)
			hi = mid;
		else if (addr - s->paddr >= s->memsz)
			lo = mid + 1;
		else
			return s;
	}
	return NULL;
}

static struct ish_error *dump_read_phys(struct ish_target *t, uint64_t addr, void *buf, size_t len)
{
	struct dump_priv *p = ish_target_priv(t);
	uint8_t *out = buf;

	if (p->kd)
		return ish_kdump_read(p->kd, addr, buf, len);
	while (len) {
		const struct dump_seg *s = find_seg(p, addr);
		uint64_t off;
		size_t n;
		struct ish_error *err;

		if (!s)
			return ish_error_fault(addr, "physical address %#" PRIx64 " is not in the dump",
					       addr);
		off = addr - s->paddr;
		n = s->memsz - off < len ? (size_t)(s->memsz - off) : len;
		err = seg_read(p, s, off, out, n);
		if (err)
			return err;
		out += n;
		addr += n;
		len -= n;
	}
	return NULL;
}

/* --- registers --- */

static const char *fixed_reg_name(uint32_t offset)
{
	size_t n;
	const struct ish_reg_def *r = ish_reg_table(&n);

	for (size_t i = 0; i < n; i++)
		if (r[i].loc == ISH_REG_FIXED && r[i].offset == offset)
			return r[i].name;
	return NULL;
}

static struct ish_error *dump_read_reg(struct ish_target *t, const struct ish_unit *u,
				       uint32_t offset, unsigned width, uint64_t *ret)
{
	struct dump_priv *p = ish_target_priv(t);
	struct ish_error *err;
	const char *name;

	if (u->index >= p->nregs || !p->regs[u->index])
		return ish_error_create(ISH_ERROR_NOT_FOUND,
					"no registers were captured in this dump (give -O dump.regs=FILE)");
	err = ish_regfile_get(p->regs[u->index], offset, width, ret);
	if (!err || err->code != ISH_ERROR_NOT_FOUND)
		return err;
	ish_error_destroy(err);
	name = fixed_reg_name(offset);
	if (name)
		return ish_error_format(ISH_ERROR_NOT_FOUND,
					"register %s (offset %#x) was not captured in the dump", name,
					offset);
	return ish_error_format(ISH_ERROR_NOT_FOUND,
				"register at offset %#x was not captured in the dump", offset);
}

/* --- ELF --- */

static int cmp_seg(const void *a, const void *b)
{
	const struct dump_seg *x = a, *y = b;

	if (x->paddr != y->paddr)
		return x->paddr < y->paddr ? -1 : 1;
	/* The larger of two segments at one address first: it is the one kept. */
	return x->memsz > y->memsz ? -1 : x->memsz < y->memsz;
}

/* Do the n bytes at a within sa and b within sb read the same? */
static struct ish_error *same_bytes(struct dump_priv *p, const struct dump_seg *sa, uint64_t a,
				    const struct dump_seg *sb, uint64_t b, uint64_t n, bool *ret)
{
	enum { CHUNK = 65536 };
	struct ish_error *err;
	uint8_t *x, *y;

	*ret = false;
	if (n > MAX_ALIAS_COMPARE)
		return NULL;
	x = malloc(2 * CHUNK);
	if (!x)
		return &ish_enomem;
	y = x + CHUNK;
	while (n) {
		size_t c = n > CHUNK ? CHUNK : (size_t)n;

		err = seg_read(p, sa, a, x, c);
		if (!err)
			err = seg_read(p, sb, b, y, c);
		if (err) {
			/* Unreadable (truncated) bytes prove nothing: not the same. */
			ish_error_destroy(err);
			break;
		}
		if (memcmp(x, y, c))
			break;
		a += c;
		b += c;
		n -= c;
	}
	*ret = !n;
	free(x);
	return NULL;
}

/*
 * Sorts the segments and makes them disjoint. A kdump vmcore maps the kernel
 * image twice (its own PT_LOAD plus the RAM segment around it): a segment
 * inside another that reads the same bytes is such an alias and is dropped.
 * Any other overlap means the dump cannot say what memory holds.
 */
static struct ish_error *normalize_segs(struct dump_priv *p)
{
	size_t kept = 0;

	if (!p->nsegs)
		return NULL;
	qsort(p->segs, p->nsegs, sizeof(*p->segs), cmp_seg);
	for (size_t i = 0; i < p->nsegs; i++) {
		struct dump_seg *s = &p->segs[i];

		if (kept) {
			struct dump_seg *prev = &p->segs[kept - 1];
			uint64_t prev_last = prev->paddr + prev->memsz - 1;

			if (s->paddr <= prev_last) {
				uint64_t last = s->paddr + s->memsz - 1;
				bool same = false;
				struct ish_error *err = NULL;

				if (last <= prev_last)
					err = same_bytes(p, prev, s->paddr - prev->paddr, s, 0, s->memsz,
							 &same);
				if (err)
					return err;
				if (same)
					continue;
				return ish_error_format(ISH_ERROR_FORMAT,
							"PT_LOAD %zu [%#" PRIx64 "-%#" PRIx64
							"] overlaps PT_LOAD %zu [%#" PRIx64 "-%#" PRIx64
							"] with different contents",
							s->phdr, s->paddr, last, prev->phdr, prev->paddr,
							prev_last);
			}
		}
		p->segs[kept++] = *s;
	}
	p->nsegs = kept;
	return NULL;
}

static struct ish_error *add_seg(struct dump_priv *p, size_t *cap, const struct dump_seg *s)
{
	if (p->nsegs == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct dump_seg *n;

		if (ncap > MAX_SEGMENTS)
			return ish_error_format(ISH_ERROR_LIMIT, "more than %u PT_LOAD segments",
						MAX_SEGMENTS);
		n = realloc(p->segs, ncap * sizeof(*n));
		if (!n)
			return &ish_enomem;
		p->segs = n;
		*cap = ncap;
	}
	p->segs[p->nsegs++] = *s;
	return NULL;
}

static struct ish_error *read_notes(struct dump_priv *p, const GElf_Phdr *ph, size_t i,
				    struct ish_snapshot_notes **notes)
{
	struct ish_snapshot_notes *n;
	struct ish_error *err;
	uint8_t *buf;
	size_t done;
	int rc;

	if (!ph->p_filesz)
		return NULL;
	if (ph->p_filesz > ISH_SNAPSHOT_MAX_NOTES)
		return ish_error_format(ISH_ERROR_FORMAT, "PT_NOTE %zu of %" PRIu64 " bytes is too large",
					i, (uint64_t)ph->p_filesz);
	if (ph->p_offset > p->file_size || ph->p_filesz > p->file_size - ph->p_offset)
		return ish_error_format(ISH_ERROR_FORMAT,
					"PT_NOTE %zu lies past the end of the file (truncated dump?)", i);
	buf = malloc(ph->p_filesz);
	if (!buf)
		return &ish_enomem;
	rc = ish_pread_all(p->fd, buf, ph->p_filesz, ph->p_offset, &done);
	if (rc) {
		free(buf);
		return ish_error_errno(rc < 0 ? errno : EIO, "reading PT_NOTE %zu", i);
	}
	if (!p->vmcoreinfo) {
		const char *desc;
		size_t dlen;

		/* QEMU's dump-guest-memory with -device vmcoreinfo, and kdump's vmcore. */
		err = ish_kernel_find_vmcoreinfo_note(buf, ph->p_filesz, &desc, &dlen);
		if (!err) {
			p->vmcoreinfo = strndup(desc, dlen);
			if (!p->vmcoreinfo) {
				free(buf);
				return &ish_enomem;
			}
			p->vmcoreinfo_len = strlen(p->vmcoreinfo);
		}
		ish_error_destroy(err);
	}
	err = ish_snapshot_parse_notes(buf, ph->p_filesz, &n);
	free(buf);
	if (err)
		return ish_error_prefix(err, "PT_NOTE %zu", i);
	/* The first segment with iommush notes counts; the rest are ignored. */
	if (!*notes && n->version)
		*notes = n;
	else
		ish_snapshot_notes_destroy(n);
	return NULL;
}

static struct ish_error *load_elf(struct dump_priv *p, struct ish_snapshot_notes **notes)
{
	struct ish_error *err = NULL;
	size_t phnum, cap = 0;
	GElf_Ehdr eh;
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "libelf: %s", elf_errmsg(-1));
	e = elf_begin(p->fd, ELF_C_READ, NULL);
	if (!e)
		return ish_error_format(ISH_ERROR_FORMAT, "not a readable ELF file: %s",
					elf_errmsg(-1));
	if (elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
		int e_no = elf_errno();

		/* libelf sets no error for a file too short to hold an ELF header. */
		err = ish_error_format(ISH_ERROR_FORMAT, "not a valid ELF file: %s",
				       e_no ? elf_errmsg(e_no) : "no complete ELF header");
		goto out;
	}
	if (eh.e_type != ET_CORE) {
		err = ish_error_format(ISH_ERROR_FORMAT,
				       "ELF file of type %u is not a core dump (ET_CORE)", eh.e_type);
		goto out;
	}
	if (elf_getphdrnum(e, &phnum)) {
		err = ish_error_format(ISH_ERROR_FORMAT, "ELF program headers: %s", elf_errmsg(-1));
		goto out;
	}
	if (phnum > 2 * (size_t)MAX_SEGMENTS) {
		err = ish_error_format(ISH_ERROR_LIMIT, "%zu program headers are too many", phnum);
		goto out;
	}
	for (size_t i = 0; i < phnum && !err; i++) {
		GElf_Phdr ph;
		struct dump_seg s;

		if (!gelf_getphdr(e, (int)i, &ph)) {
			err = ish_error_format(ISH_ERROR_FORMAT, "program header %zu: %s", i,
					       elf_errmsg(-1));
			break;
		}
		if (ph.p_type == PT_NOTE) {
			err = read_notes(p, &ph, i, notes);
			continue;
		}
		if (ph.p_type != PT_LOAD || !ph.p_memsz)
			continue;
		if (ph.p_filesz > ph.p_memsz)
			err = ish_error_format(ISH_ERROR_FORMAT,
					       "PT_LOAD %zu: p_filesz %#" PRIx64 " > p_memsz %#" PRIx64,
					       i, (uint64_t)ph.p_filesz, (uint64_t)ph.p_memsz);
		else if (ph.p_paddr + ph.p_memsz - 1 < ph.p_paddr)
			err = ish_error_format(ISH_ERROR_FORMAT,
					       "PT_LOAD %zu at %#" PRIx64 " wraps around the address space",
					       i, (uint64_t)ph.p_paddr);
		else if (ph.p_offset + ph.p_filesz < ph.p_offset)
			err = ish_error_format(ISH_ERROR_FORMAT, "PT_LOAD %zu: file range wraps around", i);
		if (err)
			break;
		s = (struct dump_seg){
			.paddr = ph.p_paddr,
			.memsz = ph.p_memsz,
			.filesz = ph.p_filesz,
			.offset = ph.p_offset,
			.phdr = i,
		};
		/* A truncated dump keeps what is there; reads past it fail clearly. */
		if (s.offset >= p->file_size)
			s.avail = 0;
		else
			s.avail = p->file_size - s.offset < s.filesz ? p->file_size - s.offset : s.filesz;
		err = add_seg(p, &cap, &s);
	}
out:
	elf_end(e);
	return err;
}

static struct ish_error *load_raw(struct ish_target *t, struct dump_priv *p)
{
	struct dump_seg s = { 0 };
	struct ish_error *err;
	size_t cap = 0;

	err = ish_target_param_u64(t, "dump.base", 0, &s.paddr);
	if (err)
		return err;
	if (!p->file_size)
		return NULL;
	if (s.paddr + p->file_size - 1 < s.paddr)
		return ish_error_format(ISH_ERROR_INVALID,
					"dump.base %#" PRIx64 " plus the file size wraps around", s.paddr);
	s.memsz = s.filesz = s.avail = p->file_size;
	return add_seg(p, &cap, &s);
}

/* --- units --- */

struct drhd_list {
	struct ish_unit *u;
	size_t n;
};

static struct ish_error *collect_drhd(void *arg, const struct ish_unit *u)
{
	struct drhd_list *l = arg;
	struct ish_unit *n;

	if (l->n >= 256)
		return ish_error_create(ISH_ERROR_LIMIT, "more than 256 DRHDs");
	n = realloc(l->u, (l->n + 1) * sizeof(*n));
	if (!n)
		return &ish_enomem;
	l->u = n;
	l->u[l->n++] = *u;
	return NULL;
}

static struct ish_error *keep_regs(struct dump_priv *p, unsigned index, struct ish_regfile *rf)
{
	struct ish_regfile **r;

	if (index >= p->nregs) {
		r = realloc(p->regs, (index + 1) * sizeof(*r));
		if (!r)
			return &ish_enomem;
		p->regs = r;
		while (p->nregs <= index)
			p->regs[p->nregs++] = NULL;
	}
	p->regs[index] = rf;
	return NULL;
}

/*
 * Units named by a register file. A unit without a base takes dump.unit_base
 * or else the base of the DRHD at the same position; segment and flags come
 * from the DRHD with the same base, when the DMAR table has one.
 */
static struct ish_error *units_from_regsfile(struct ish_target *t, struct dump_priv *p,
					     struct ish_regsfile *rf)
{
	struct drhd_list drhd = { 0 };
	struct ish_error *err = NULL;
	const char *ub = ish_target_param(t, "dump.unit_base");
	size_t dmar_len, nobase = 0;
	const void *dmar = ish_target_dmar(t, &dmar_len);
	uint64_t unit_base = 0;

	if (dmar) {
		/* A broken DMAR table is reported when the units come from it; here it only helps. */
		struct ish_error *e = ish_dmar_units(dmar, dmar_len, collect_drhd, &drhd);

		ish_error_destroy(e);
	}
	if (ub && *ub) {
		err = ish_target_param_u64(t, "dump.unit_base", 0, &unit_base);
		if (err)
			goto out;
	}
	for (size_t i = 0; i < rf->nunits; i++)
		nobase += !rf->units[i].has_base;
	if (nobase > 1 && ub && *ub) {
		err = ish_error_create(ISH_ERROR_INVALID,
				       "dump.unit_base gives one base, but the register file has "
				       "several units without one");
		goto out;
	}
	for (size_t i = 0; i < rf->nunits && !err; i++) {
		struct ish_regsfile_unit *ru = &rf->units[i];
		struct ish_unit u = { 0 };
		unsigned index;

		if (ru->has_base)
			u.reg_base = ru->reg_base;
		else if (ub && *ub)
			u.reg_base = unit_base;
		else if (i < drhd.n)
			u.reg_base = drhd.u[i].reg_base;
		else {
			err = ish_error_format(ISH_ERROR_INVALID,
					       "the register file gives no base address for unit %s and "
					       "there is no DMAR table to take it from "
					       "(use -O dump.unit_base=ADDR)",
					       ru->name[0] ? ru->name : "(unnamed)");
			break;
		}
		for (size_t k = 0; k < drhd.n; k++) {
			if (drhd.u[k].reg_base == u.reg_base) {
				u.segment = drhd.u[k].segment;
				u.drhd_flags = drhd.u[k].drhd_flags;
				u.size_pages = drhd.u[k].size_pages;
				break;
			}
		}
		memcpy(u.name, ru->name, sizeof(u.name));
		err = ish_target_add_unit(t, &u, &index);
		if (!err)
			err = keep_regs(p, index, ru->regs);
		if (!err)
			ru->regs = NULL;	/* now owned by p */
	}
out:
	free(drhd.u);
	return err;
}

static struct ish_error *units_from_notes(struct ish_target *t, struct dump_priv *p,
					  struct ish_snapshot_notes *n)
{
	for (size_t i = 0; i < n->nunits; i++) {
		struct ish_error *err;
		unsigned index;

		err = ish_target_add_unit(t, &n->units[i], &index);
		if (!err)
			err = keep_regs(p, index, n->regs[i]);
		if (err)
			return err;
		n->regs[i] = NULL;
	}
	return NULL;
}

static struct ish_error *open_format(struct ish_target *t, struct dump_priv *p, bool *elf)
{
	const char *fmt = ish_target_param(t, "dump.format");
	uint8_t magic[12];
	ssize_t r;

	if (!fmt || !strcmp(fmt, "auto")) {
		r = pread(p->fd, magic, sizeof(magic), 0);
		/*
		 * Compressed dumps (makedumpfile/QEMU "dump-guest-memory -z"
		 * KDUMP or DISKDUMP headers, makedumpfile -F flattened) would
		 * otherwise pass for raw images of garbage.
		 */
		if (r > 0 && ish_kdump_magic(magic, (size_t)r))
			return ish_kdump_open(p->fd, p->file_size, &p->kd);
		if (r >= 8 && !memcmp(magic, "DISKDUMP", 8))
			return ish_error_create(ISH_ERROR_UNSUPPORTED,
						"diskdump (\"DISKDUMP\") dumps are not supported: "
						"write ELF or kdump-compressed instead, or force "
						"-O dump.format=raw");
		*elf = r >= SELFMAG && !memcmp(magic, ELFMAG, SELFMAG);
	} else if (!strcmp(fmt, "elf")) {
		*elf = true;
	} else if (!strcmp(fmt, "raw")) {
		*elf = false;
	} else if (!strcmp(fmt, "kdump")) {
		return ish_kdump_open(p->fd, p->file_size, &p->kd);
	} else {
		return ish_error_format(ISH_ERROR_INVALID,
					"dump.format '%s' is not auto, elf, kdump or raw",
					fmt);
	}
	return NULL;
}

static struct ish_error *dump_open_priv(struct ish_target *t, struct dump_priv *p, const char *spec)
{
	struct ish_snapshot_notes *notes = NULL;
	struct ish_regsfile *rf = NULL;
	const char *regs_path, *dmar_path;
	struct ish_error *err;
	struct stat st;

	p->fd = open(spec, O_RDONLY | O_CLOEXEC);
	if (p->fd < 0)
		return ish_error_errno(errno, "open");
	if (fstat(p->fd, &st) < 0)
		return ish_error_errno(errno, "fstat");
	if (!S_ISREG(st.st_mode))
		return ish_error_create(ISH_ERROR_INVALID, "not a regular file");
	p->file_size = (uint64_t)st.st_size;
	err = open_format(t, p, &p->elf);
	if (err)
		return err;
	if (p->kd)
		err = NULL;	/* kdump.c holds the pages; no segments */
	else
		err = p->elf ? load_elf(p, &notes) : load_raw(t, p);
	if (!err)
		err = normalize_segs(p);
	if (!err && p->kd) {
		size_t n;
		const char *v = ish_kdump_vmcoreinfo(p->kd, &n);

		if (v && !(p->vmcoreinfo = strdup(v)))
			err = &ish_enomem;
		p->vmcoreinfo_len = n;
	}
	p->filtered = p->elf && p->vmcoreinfo && !notes;
	if (err)
		goto out;
	if (p->elf && !p->nsegs && !notes) {
		err = ish_error_create(ISH_ERROR_FORMAT, "core file without PT_LOAD segments");
		goto out;
	}

	regs_path = ish_target_param(t, "dump.regs");
	if (regs_path && *regs_path) {
		err = ish_regsfile_load(regs_path, &rf);
		if (err)
			goto out;
	}

	/*
	 * The DMAR table: a replacement named by acpi.dmar, else the snapshot's
	 * own copy, else the firmware's in guest RAM.
	 */
	dmar_path = ish_target_param(t, "acpi.dmar");
	if (dmar_path && *dmar_path) {
		err = access(dmar_path, R_OK) ? ish_error_errno(errno, "acpi.dmar %s", dmar_path) :
						ish_live_load_dmar(t, true);
	} else if (notes && notes->dmar) {
		err = ish_target_set_dmar(t, notes->dmar, notes->dmar_len);
	} else {
		struct ish_acpi_table dmar;
		struct ish_error *e = ish_acpi_find_table(t, "DMAR", &dmar);

		/* Not finding one is normal (a raw image of some RAM); the units say so. */
		if (!e)
			err = ish_target_set_dmar(t, dmar.data, dmar.len);
		ish_acpi_table_deinit(&dmar);
		ish_error_destroy(e);
	}
	if (err)
		goto out;

	if (rf && rf->nunits) {
		err = units_from_regsfile(t, p, rf);
	} else if (notes && notes->nunits) {
		err = units_from_notes(t, p, notes);
	}
	/* Otherwise the target layer derives units from the DMAR table. */
out:
	ish_regsfile_destroy(rf);
	if (!err && notes && notes->npcicfg)
		p->notes = notes;	/* dump_read_config serves from it */
	else
		ish_snapshot_notes_destroy(notes);
	return err;
}

/* PCI config space that a snapshot captured from its source (ISH_NT_PCICFG). */
static struct ish_error *dump_read_config(struct ish_target *t, uint16_t segment, uint16_t bdf,
					  uint32_t offset, unsigned width, uint32_t *ret)
{
	struct dump_priv *p = ish_target_priv(t);

	for (size_t i = 0; p->notes && i < p->notes->npcicfg; i++) {
		const struct ish_snapshot_pcicfg *pc = &p->notes->pcicfg[i];
		uint32_t v = 0;

		if (pc->segment != segment || pc->bdf != bdf)
			continue;
		if ((width != 8 && width != 16 && width != 32) || offset % (width / 8) ||
		    offset + width / 8 > pc->len)
			break;
		for (unsigned b = 0; b < width / 8; b++)
			v |= (uint32_t)pc->bytes[offset + b] << (8 * b);
		*ret = v;
		return NULL;
	}
	return ish_error_format(ISH_ERROR_NOT_FOUND,
				"configuration space of %04x:%02x:%02x.%u (offset %#x) is not in the dump",
				segment, bdf >> 8, (bdf >> 3) & 0x1f, bdf & 7, offset);
}

static struct ish_error *dump_open(struct ish_target *t, const char *spec)
{
	struct dump_priv *p = calloc(1, sizeof(*p));
	struct ish_error *err;

	if (!p)
		return &ish_enomem;
	p->fd = -1;
	ish_target_set_priv(t, p);
	err = dump_open_priv(t, p, spec);
	if (err) {
		/* No "spec: " prefix: the caller names the target, as for every backend. */
		dump_close(t);
		return err;
	}
	return NULL;
}

static struct ish_error *dump_vmcoreinfo(struct ish_target *t, char **ret, size_t *len,
				       const char **where)
{
	struct dump_priv *p = ish_target_priv(t);

	if (!p->vmcoreinfo)
		return ish_error_create(ISH_ERROR_NOT_FOUND, "the dump has no VMCOREINFO note");
	*ret = strdup(p->vmcoreinfo);
	if (!*ret)
		return &ish_enomem;
	*len = p->vmcoreinfo_len;
	*where = p->kd ? "kdump sub-header" : "ELF note";
	return NULL;
}

static struct ish_error *dump_ram_ranges(struct ish_target *t, struct ish_ram_range **ret,
					 size_t *n)
{
	struct dump_priv *p = ish_target_priv(t);

	if (p->kd)
		return ish_kdump_ram_ranges(p->kd, ret, n);
	*ret = malloc((p->nsegs ? p->nsegs : 1) * sizeof(**ret));
	if (!*ret)
		return &ish_enomem;
	/* Sorted and disjoint already (normalize_segs). */
	for (size_t i = 0; i < p->nsegs; i++) {
		(*ret)[i].start = p->segs[i].paddr;
		(*ret)[i].end = p->segs[i].paddr + p->segs[i].memsz;
		if (!(*ret)[i].end)
			(*ret)[i].end = UINT64_MAX;	/* a segment that ends the address space */
	}
	*n = p->nsegs;
	return NULL;
}

static const struct ish_param_def dump_params[] = {
	{ "dump.regs", NULL,
	  "register file: debugfs iommu_regset text or NAME=VALUE lines (see regsfile.h)" },
	{ "dump.base", "0", "physical address of the first byte of a raw image" },
	{ "dump.format", "auto",
	  "auto (ELF if the file starts with \\177ELF, kdump if with KDUMP or makedumpfile, else raw), "
	  "elf, kdump or raw" },
	{ "acpi.dmar", NULL,
	  "a DMAR table FILE to use instead of the dump's (units, device scopes)" },
	{ "dump.unit_base", NULL,
	  "register base for a unit the register file gives no address for" },
	{ NULL, NULL, NULL },
};

const struct ish_backend ish_backend_dump = {
	.name = "dump",
	.help = "ELF core, kdump-compressed or flattened dump (vmcore, makedumpfile, QEMU), snapshot or raw image",
	.params = dump_params,
	.flags = ISH_BACKEND_KERNEL_UNITS,
	.detect = dump_detect,
	.open = dump_open,
	.close = dump_close,
	.read_phys = dump_read_phys,
	.read_reg = dump_read_reg,
	.read_config = dump_read_config,
	.vmcoreinfo = dump_vmcoreinfo,
	.ram_ranges = dump_ram_ranges,
};
