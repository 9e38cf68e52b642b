// SPDX-License-Identifier: MIT
/*
 * The debugfs backend: Linux's /sys/kernel/debug/iommu/intel/ text, rebuilt
 * as a sparse physical image (include/iommush/debugfs.h says what goes
 * where) so that every decoder works on it unchanged.
 *
 * Formats are those of drivers/iommu/intel/debugfs.c (compared at v6.1 and
 * v6.12). Every line is recognised by its own shape, whichever file it is
 * in, so a kernel that moves a table to another file or adds columns at the
 * end still parses: the kernel version is never consulted.
 *
 *  regset header	"IOMMU: dmar0 Register Base Address: fed90000"	(lib/regsfile.c)
 *  root header		"IOMMU dmar0: Root Table Address: 0x..."
 *  context row		"BB:DD.F  0xHI:0xLO  0xHI:0xLO  [PASID  0xV2:0xV1:0xV0]"
 *  domain header	"Device 0000:00:02.0 [with pasid N] @0x<pgd>"
 *  domain row		"0x<iova pfn> |  PML5E PML4E PDPE [PDE [PTE]]"  (6.12 drops zero tails)
 *  IRT header		"... Interrupt supported on IOMMU: dmar0", " IR table address:<hex>"
 *  IRTE row		" IDX BB:DD.F DST VEC HIGH LOW" (posted: " IDX BB:DD.F PDAH PDAL VEC HIGH LOW")
 *  IQ header		"Invalidation queue on IOMMU: dmar0", " Base: 0x..  Head: N  Tail: N"
 *  IQ row		"IDX QW0 QW1 [QW2 QW3] STATUS"
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <iommush/debugfs.h>
#include <iommush/vtd/dmar.h>
#include <iommush/regfile.h>
#include <iommush/regs.h>
#include <iommush/regsfile.h>
#include <iommush/vtd/vtd.h>

#include "backends.h"

#define DFS_MAX_FILE (256u << 20)	/* one debugfs file */
#define DFS_MAX_PAGES (1u << 20)	/* 4 GiB of rebuilt image */
#define DFS_MAX_FILES 4096u
#define DFS_MAX_TOKENS 12
#define DFS_PTE_ADDR(v) ((v) & ISH_GENMASK(51, 12))

/* One 4 KiB page of the image; filled marks qwords some line gave a value. */
struct dfs_page {
	uint64_t addr;		/* page address; ~0 = empty hash slot */
	uint8_t *data;
	uint64_t filled[512 / 64];
};

struct dfs_unit {
	char name[16];
	unsigned index;		/* target unit index */
	bool has_regs;
	bool scalable_known, scalable;
	bool has_root;
	uint64_t root;
	bool has_irt;
	uint64_t irt;
	bool has_iq;
	uint64_t iq;
};

struct ish_debugfs {
	struct dfs_page *pages;	/* open-addressing hash by page address */
	size_t cap, used;
	struct ish_regfile **regs;	/* by target unit index */
	size_t nregs;
	struct dfs_unit *units;
	size_t nunits;
	unsigned synth_used;
	struct ish_debugfs_stats stats;
	struct ish_hostpci *pci;	/* the host's PCI, opened on first use */
	char *root;
};

/* --- the sparse image --- */

static size_t page_hash(uint64_t addr, size_t cap)
{
	return (size_t)((addr >> 12) * 0x9e3779b97f4a7c15ULL >> 20) & (cap - 1);
}

static struct dfs_page *page_find(const struct ish_debugfs *d, uint64_t page)
{
	size_t i;

	if (!d->cap)
		return NULL;
	for (i = page_hash(page, d->cap);; i = (i + 1) & (d->cap - 1)) {
		if (d->pages[i].addr == page)
			return &d->pages[i];
		if (d->pages[i].addr == ~0ULL)
			return NULL;
	}
}

static struct ish_error *page_grow(struct ish_debugfs *d)
{
	size_t ncap = d->cap ? d->cap * 2 : 256;
	struct dfs_page *n = malloc(ncap * sizeof(*n));

	if (!n)
		return &ish_enomem;
	for (size_t i = 0; i < ncap; i++)
		n[i].addr = ~0ULL;
	for (size_t i = 0; i < d->cap; i++) {
		size_t k;

		if (d->pages[i].addr == ~0ULL)
			continue;
		for (k = page_hash(d->pages[i].addr, ncap); n[k].addr != ~0ULL; k = (k + 1) & (ncap - 1))
			;
		n[k] = d->pages[i];
	}
	free(d->pages);
	d->pages = n;
	d->cap = ncap;
	return NULL;
}

/* The page at page (aligned), added zeroed (= entries not present) if new. */
static struct ish_error *page_get(struct ish_debugfs *d, uint64_t page, struct dfs_page **ret)
{
	struct dfs_page *p = page_find(d, page);
	struct ish_error *err;
	size_t i;

	if (p) {
		*ret = p;
		return NULL;
	}
	if (page == ~0ULL - 4095)
		return ish_error_format(ISH_ERROR_FORMAT, "table at the last page of the address space");
	if (d->used >= DFS_MAX_PAGES)
		return ish_error_format(ISH_ERROR_LIMIT, "the rebuilt image exceeds %u pages",
					DFS_MAX_PAGES);
	if ((d->used + 1) * 2 > d->cap) {
		err = page_grow(d);
		if (err)
			return err;
	}
	for (i = page_hash(page, d->cap); d->pages[i].addr != ~0ULL; i = (i + 1) & (d->cap - 1))
		;
	p = &d->pages[i];
	memset(p, 0, sizeof(*p));
	p->data = calloc(1, 4096);
	if (!p->data)
		return &ish_enomem;
	p->addr = page;
	d->used++;
	d->stats.pages = d->used;
	*ret = p;
	return NULL;
}

/* Makes [addr, addr + len) part of the image (zero where nothing was shown). */
static struct ish_error *region_known(struct ish_debugfs *d, uint64_t addr, uint64_t len)
{
	uint64_t first = addr & VTD_PAGE_MASK, last;
	struct dfs_page *p;

	if (!len)
		return NULL;
	if (addr + len - 1 < addr)
		return ish_error_format(ISH_ERROR_FORMAT, "table at %#" PRIx64 " wraps around", addr);
	last = (addr + len - 1) & VTD_PAGE_MASK;
	if ((last - first) / 4096 >= DFS_MAX_PAGES)
		return ish_error_format(ISH_ERROR_LIMIT, "a table of %#" PRIx64 " bytes is too large", len);
	for (uint64_t a = first;; a += 4096) {
		struct ish_error *err = page_get(d, a, &p);

		if (err)
			return err;
		if (a == last)
			break;
	}
	return NULL;
}

/*
 * Stores one qword shown by the kernel. A place shown twice with different
 * values (the kernel walked while the tables changed) keeps the first and
 * counts a conflict. Returns whether the value was new.
 */
static struct ish_error *put_qword(struct ish_debugfs *d, uint64_t addr, uint64_t v, bool *fresh)
{
	struct dfs_page *p;
	struct ish_error *err;
	unsigned q;

	if (addr & 7)
		return ish_error_format(ISH_ERROR_FORMAT, "entry at unaligned address %#" PRIx64, addr);
	err = page_get(d, addr & VTD_PAGE_MASK, &p);
	if (err)
		return err;
	q = (unsigned)((addr & 4095) / 8);
	if (fresh)
		*fresh = false;
	if (p->filled[q / 64] >> (q % 64) & 1) {
		uint64_t old;

		memcpy(&old, p->data + q * 8, 8);
		if (old != v)
			d->stats.conflicts++;
		return NULL;
	}
	p->filled[q / 64] |= 1ULL << (q % 64);
	/* The image is little-endian, as the hardware reads it. */
	for (unsigned i = 0; i < 8; i++)
		p->data[q * 8 + i] = (uint8_t)(v >> (8 * i));
	if (fresh)
		*fresh = true;
	return NULL;
}

static struct ish_error *get_qword(const struct ish_debugfs *d, uint64_t addr, uint64_t *ret)
{
	const struct dfs_page *p = page_find(d, addr & VTD_PAGE_MASK);

	*ret = 0;
	if (!p)
		return ish_error_fault(addr, "not in the image");
	for (unsigned i = 0; i < 8; i++)
		*ret |= (uint64_t)p->data[(addr & 4095) + i] << (8 * i);
	return NULL;
}

struct ish_error *ish_debugfs_read_phys(const struct ish_debugfs *d, uint64_t addr, void *buf,
					size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t off = addr & 4095;
		size_t n = 4096 - off < len ? (size_t)(4096 - off) : len;
		const struct dfs_page *p = page_find(d, addr & VTD_PAGE_MASK);

		if (!p)
			return ish_error_fault(addr,
					       "physical address %#" PRIx64 " is not visible through "
					       "debugfs (it shows only root, context, PASID and page "
					       "tables, the interrupt remapping table and the "
					       "invalidation queue)",
					       addr);
		memcpy(out, p->data + off, n);
		out += n;
		addr += n;
		len -= n;
	}
	return NULL;
}

/* --- registers --- */

struct ish_error *ish_debugfs_read_reg(const struct ish_debugfs *d, const struct ish_unit *u,
				       uint32_t offset, unsigned width, uint64_t *ret)
{
	struct ish_error *err;

	if (u->index >= d->nregs || !d->regs[u->index])
		return ish_error_format(ISH_ERROR_NOT_FOUND,
					"the registers of %s are not visible through debugfs "
					"(no iommu_regset section for it)", u->name);
	err = ish_regfile_get(d->regs[u->index], offset, width, ret);
	if (!err || err->code != ISH_ERROR_NOT_FOUND)
		return err;
	ish_error_destroy(err);
	return ish_error_format(ISH_ERROR_NOT_FOUND,
				"register at offset %#x is not visible through debugfs "
				"(iommu_regset lists no fault-recording, IOTLB or newer registers)",
				offset);
}

/* --- units --- */

static struct dfs_unit *unit_by_name(struct ish_debugfs *d, const char *name)
{
	for (size_t i = 0; i < d->nunits; i++)
		if (!strcmp(d->units[i].name, name))
			return &d->units[i];
	return NULL;
}

static struct ish_error *keep_regs(struct ish_debugfs *d, unsigned index, struct ish_regfile *rf)
{
	if (index >= d->nregs) {
		struct ish_regfile **r = realloc(d->regs, (index + 1) * sizeof(*r));

		if (!r)
			return &ish_enomem;
		d->regs = r;
		while (d->nregs <= index)
			d->regs[d->nregs++] = NULL;
	}
	d->regs[index] = rf;
	return NULL;
}

struct drhd_list {
	struct ish_unit u[256];
	size_t n;
};

static struct ish_error *collect_drhd(void *arg, const struct ish_unit *u)
{
	struct drhd_list *l = arg;

	if (l->n >= 256)
		return ish_error_create(ISH_ERROR_LIMIT, "more than 256 DRHDs");
	l->u[l->n++] = *u;
	return NULL;
}

/*
 * A unit named by a debugfs line. New units take their base from the
 * regset header or else the DRHD at the same position, and segment and
 * flags from the DRHD with that base.
 */
static struct ish_error *unit_add(struct ish_target *t, struct ish_debugfs *d, const char *name,
				  bool has_base, uint64_t base, struct dfs_unit **ret)
{
	struct drhd_list *drhd;
	struct dfs_unit *nu;
	struct ish_unit u = { 0 };
	struct ish_error *err;
	size_t dmar_len;
	const void *dmar = ish_target_dmar(t, &dmar_len);

	*ret = unit_by_name(d, name);
	if (*ret)
		return NULL;
	if (d->nunits >= 256)
		return ish_error_create(ISH_ERROR_LIMIT, "more than 256 units");
	if (strlen(name) >= sizeof(u.name))
		return ish_error_format(ISH_ERROR_FORMAT, "unit name '%.32s' is too long", name);
	drhd = calloc(1, sizeof(*drhd));
	if (!drhd)
		return &ish_enomem;
	if (dmar)
		ish_error_destroy(ish_dmar_units(dmar, dmar_len, collect_drhd, drhd));
	if (has_base)
		u.reg_base = base;
	else if (d->nunits < drhd->n)
		u.reg_base = drhd->u[d->nunits].reg_base;
	for (size_t k = 0; k < drhd->n; k++) {
		if (drhd->u[k].reg_base == u.reg_base) {
			u.segment = drhd->u[k].segment;
			u.drhd_flags = drhd->u[k].drhd_flags;
			u.size_pages = drhd->u[k].size_pages;
			break;
		}
	}
	free(drhd);
	strcpy(u.name, name);
	nu = realloc(d->units, (d->nunits + 1) * sizeof(*nu));
	if (!nu)
		return &ish_enomem;
	d->units = nu;
	nu = &d->units[d->nunits];
	memset(nu, 0, sizeof(*nu));
	strcpy(nu->name, name);
	err = ish_target_add_unit(t, &u, &nu->index);
	if (err)
		return err;
	d->nunits++;
	*ret = nu;
	return NULL;
}

static struct ish_error *load_regset(struct ish_target *t, struct ish_debugfs *d, const char *text,
				     size_t len, const char *where)
{
	struct ish_regsfile *rf;
	struct ish_error *err = ish_regsfile_parse(text, len, where, &rf);

	if (err)
		return err;
	for (size_t i = 0; i < rf->nunits && !err; i++) {
		struct ish_regsfile_unit *ru = &rf->units[i];
		struct dfs_unit *du;
		char name[16];
		uint64_t rt;

		if (ru->name[0])
			strcpy(name, ru->name);
		else
			snprintf(name, sizeof(name), "dmar%zu", d->nunits);
		err = unit_add(t, d, name, ru->has_base, ru->reg_base, &du);
		if (err)
			break;
		if (du->has_regs)
			continue;	/* a second regset file for the same unit: first wins */
		err = keep_regs(d, du->index, ru->regs);
		if (err)
			break;
		du->has_regs = true;
		if (ish_regfile_has(ru->regs, DMAR_RTADDR_REG, 64, &rt)) {
			du->scalable_known = true;
			du->scalable = DMA_RTADDR_TTM(rt) == DMA_RTADDR_SMT;
		}
		ru->regs = NULL;
	}
	ish_regsfile_destroy(rf);
	return err;
}

/* --- line parsing --- */

struct pstate {
	struct ish_target *t;
	struct ish_debugfs *d;
	const char *where;
	unsigned line;
	struct dfs_unit *unit;		/* from the last header naming one */
	/* domain_translation_struct: the table the current device's rows start from */
	bool has_pgd;
	uint64_t pgd;
	/* invalidation queue of the current unit */
	bool has_iq;
	uint64_t iq;
	/* interrupt remapping table of the current unit */
	bool has_irt;
	uint64_t irt;
};

static struct ish_error *perr(struct pstate *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static struct ish_error *perr(struct pstate *s, const char *fmt, ...)
{
	struct ish_error *err;
	va_list ap;

	va_start(ap, fmt);
	err = ish_error_vformat(ISH_ERROR_FORMAT, fmt, ap);
	va_end(ap);
	return ish_error_prefix(err, "%s:%u", s->where, s->line);
}

/* A whole token as hex (with or without 0x). */
static bool hexnum(const char *tok, uint64_t *ret)
{
	char *end;

	if (tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X'))
		tok += 2;
	if (!isxdigit((unsigned char)*tok))
		return false;
	errno = 0;
	*ret = strtoull(tok, &end, 16);
	return !errno && !*end;
}

static bool decnum(const char *tok, uint64_t *ret)
{
	char *end;

	if (!isdigit((unsigned char)*tok))
		return false;
	errno = 0;
	*ret = strtoull(tok, &end, 10);
	return !errno && !*end;
}

/* "A:B[:C]" of hex numbers, most significant first; n is the count wanted. */
static bool hexlist(char *tok, uint64_t *v, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		char *colon = strchr(tok, ':');

		if ((colon != NULL) != (i + 1 < n))
			return false;
		if (colon)
			*colon = '\0';
		if (!hexnum(tok, &v[i]))
			return false;
		if (colon)
			tok = colon + 1;
	}
	return true;
}

/* "BB:DD.F" */
static bool bdfnum(const char *tok, uint16_t *ret)
{
	unsigned b, dv, f;
	int end = 0;

	if (sscanf(tok, "%2x:%2x.%1x%n", &b, &dv, &f, &end) != 3 || tok[end] || dv > 31 || f > 7)
		return false;
	*ret = ISH_BDF(b, dv, f);
	return true;
}

static unsigned tokenize(char *line, char **tok, unsigned max)
{
	unsigned n = 0;
	char *p = line;

	while (n < max) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		tok[n++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static struct ish_error *header_unit(struct pstate *s, const char *name)
{
	char n[16];
	size_t len = strlen(name);

	while (len && (name[len - 1] == ':' || name[len - 1] == ','))
		len--;
	if (!len || len >= sizeof(n))
		return perr(s, "bad unit name '%.32s'", name);
	memcpy(n, name, len);
	n[len] = '\0';
	return unit_add(s->t, s->d, n, false, 0, &s->unit);
}

/* "IOMMU dmar0: Root Table Address: 0x..." */
static struct ish_error *root_header(struct pstate *s, char **tok, unsigned n)
{
	struct ish_error *err;
	uint64_t rta;

	if (n != 6 || !hexnum(tok[5], &rta))
		return perr(s, "bad root table header");
	err = header_unit(s, tok[1]);
	if (err)
		return err;
	if (rta & 4095)
		return perr(s, "root table address %#" PRIx64 " is not page aligned", rta);
	s->unit->has_root = true;
	s->unit->root = rta;
	return region_known(s->d, rta, 4096);
}

/* The PASID table for pasid behind dir; synthesised when first needed. */
static struct ish_error *pasid_table(struct pstate *s, uint64_t dir, unsigned pdts, uint64_t pasid,
				     uint64_t *ret)
{
	struct ish_debugfs *d = s->d;
	uint64_t entries = 1ULL << (pdts + 7), pde_addr, pde;
	struct ish_error *err;

	if ((pasid >> 6) >= entries)
		return perr(s, "PASID %#" PRIx64 " lies beyond the PASID directory (PDTS %u)", pasid,
			    pdts);
	err = region_known(d, dir, entries * 8);
	if (err)
		return err;
	pde_addr = dir + (pasid >> 6) * 8;
	err = get_qword(d, pde_addr, &pde);
	if (err)
		return err;
	if (pde & 1) {
		*ret = pde & VTD_PAGE_MASK;
		return NULL;
	}
	for (;;) {
		uint64_t a;

		if (d->synth_used >= ISH_DEBUGFS_SYNTH_PAGES)
			return perr(s, "more than %u PASID tables to place", ISH_DEBUGFS_SYNTH_PAGES);
		a = ISH_DEBUGFS_SYNTH_BASE + (uint64_t)d->synth_used++ * 4096;
		if (page_find(d, a))
			continue;	/* the kernel showed something there: skip it */
		err = region_known(d, a, 4096);
		if (err)
			return err;
		d->stats.synthetic_pages++;
		*ret = a;
		return put_qword(d, pde_addr, a | 1, NULL);
	}
}

/* "BB:DD.F  0xHI:0xLO  0xHI:0xLO  [PASID  0xV2:0xV1:0xV0]" */
static struct ish_error *context_row(struct pstate *s, char **tok, unsigned n, uint16_t bdf)
{
	struct ish_debugfs *d = s->d;
	struct dfs_unit *u = s->unit;
	uint64_t root[2], ctx[2], pe[3] = { 0 }, pasid = 0, ctp, addr;
	unsigned devfn = ISH_BDF_DEVFN(bdf), bus = ISH_BDF_BUS(bdf);
	bool has_pasid = false, scalable, fresh;
	struct ish_error *err;

	if (!u || !u->has_root)
		return perr(s, "context row before any root table header");
	if ((n != 3 && n != 5) || !hexlist(tok[1], root, 2) || !hexlist(tok[2], ctx, 2))
		return perr(s, "bad context row");
	if (n == 5) {
		if (!strcmp(tok[3], "-1")) {
			has_pasid = false;
		} else if (decnum(tok[3], &pasid) && pasid < (1u << 20)) {
			has_pasid = true;
		} else {
			return perr(s, "bad PASID '%.16s'", tok[3]);
		}
		if (!hexlist(tok[4], pe, 3))
			return perr(s, "bad PASID table entry");
	}
	/* The root table pointer's mode decides; without registers, the PASID column does. */
	scalable = u->scalable_known ? u->scalable : has_pasid;
	err = put_qword(d, u->root + bus * 16, root[1], &fresh);
	if (!err)
		err = put_qword(d, u->root + bus * 16 + 8, root[0], NULL);
	if (err)
		return err;
	d->stats.root_entries += fresh;
	if (scalable) {
		ctp = (devfn < 128 ? root[1] : root[0]) & VTD_PAGE_MASK;
		addr = ctp + (devfn & 0x7f) * 32;
	} else {
		ctp = root[1] & VTD_PAGE_MASK;
		addr = ctp + devfn * 16;
	}
	err = region_known(d, ctp, 4096);
	if (!err)
		err = put_qword(d, addr, ctx[1], &fresh);
	if (!err)
		err = put_qword(d, addr + 8, ctx[0], NULL);
	if (err)
		return err;
	d->stats.context_entries += fresh;
	if (scalable && has_pasid) {
		uint64_t table = 0, pa;

		err = pasid_table(s, ctx[1] & VTD_PAGE_MASK, (unsigned)ISH_BITS(ctx[1], 11, 9), pasid,
				  &table);
		if (err)
			return err;
		pa = table + (pasid & 0x3f) * 64;
		err = put_qword(d, pa, pe[2], &fresh);
		if (!err)
			err = put_qword(d, pa + 8, pe[1], NULL);
		if (!err)
			err = put_qword(d, pa + 16, pe[0], NULL);
		d->stats.pasid_entries += fresh;
	}
	return err;
}

/* "Device NAME [with pasid N] @0x<pgd>" */
static struct ish_error *domain_header(struct pstate *s, char **tok, unsigned n)
{
	uint64_t pgd;
	const char *at = tok[n - 1];

	if (n < 3 || at[0] != '@' || !hexnum(at + 1, &pgd))
		return perr(s, "bad device header");
	if (pgd & 4095)
		return perr(s, "page table address %#" PRIx64 " is not page aligned", pgd);
	s->has_pgd = true;
	s->pgd = pgd;
	return region_known(s->d, pgd, 4096);
}

/*
 * "0x<iova pfn> |  L5 L4 L3 [L2 [L1]]": the entries on the path to one leaf,
 * top level first; levels above the table's top print as zero. Each entry
 * lands in the table the entry above it points at.
 */
static struct ish_error *domain_row(struct pstate *s, char **tok, unsigned n)
{
	uint64_t pfn, path[6] = { 0 }, table;
	int top = 0;
	struct ish_error *err;

	if (!s->has_pgd)
		return perr(s, "page table row before any device header");
	if (n < 5 || n > 7 || strcmp(tok[1], "|") || !hexnum(tok[0], &pfn) || pfn >> 52)
		return perr(s, "bad page table row");
	for (unsigned i = 2; i < n; i++)
		if (!hexnum(tok[i], &path[5 - (i - 2)]))
			return perr(s, "bad page table entry '%.24s'", tok[i]);
	for (int l = 5; l >= 1 && !top; l--)
		if (path[l])
			top = l;
	if (!top)
		return perr(s, "page table row without entries");
	table = s->pgd;
	for (int l = top; l >= 1; l--) {
		uint64_t idx = (pfn >> (9 * (l - 1))) & 0x1ff;
		bool fresh;

		if (!(path[l] & 3))
			return perr(s, "level-%d entry %#" PRIx64 " on a leaf's path is not present", l,
				    path[l]);
		err = put_qword(s->d, table + idx * 8, path[l], &fresh);
		if (err)
			return err;
		s->d->stats.ptes += fresh;
		/* A leaf: the last level, or a superpage (PS, bit 7) above it. */
		if (l == 1 || (path[l] & (1u << 7)))
			break;
		table = DFS_PTE_ADDR(path[l]);
		err = region_known(s->d, table, 4096);
		if (err)
			return err;
	}
	return NULL;
}

/* " IR table address:<hex>" */
static struct ish_error *irt_header(struct pstate *s, const char *hex)
{
	struct ish_debugfs *d = s->d;
	uint64_t irt, irta, len = 4096;

	if (!s->unit || !hexnum(hex, &irt) || (irt & 4095))
		return perr(s, "bad IR table address");
	/* The whole table, when IRTA gives its size: entries it did not print are not present. */
	if (s->unit->index < d->nregs && d->regs[s->unit->index] &&
	    ish_regfile_has(d->regs[s->unit->index], DMAR_IRTA_REG, 64, &irta) &&
	    (irta & VTD_PAGE_MASK) == irt)
		len = 16ULL << (ISH_BITS(irta, 3, 0) + 1);
	s->has_irt = true;
	s->irt = irt;
	s->unit->has_irt = true;
	s->unit->irt = irt;
	return region_known(d, irt, len);
}

static struct ish_error *irte_row(struct pstate *s, char **tok, unsigned n)
{
	uint64_t idx, hi, lo;
	uint16_t bdf;
	bool fresh;
	struct ish_error *err;

	if (!s->has_irt)
		return perr(s, "IRTE row before any IR table address");
	if (!decnum(tok[0], &idx) || idx >= 65536 || !bdfnum(tok[1], &bdf) ||
	    !hexnum(tok[n - 2], &hi) || !hexnum(tok[n - 1], &lo))
		return perr(s, "bad IRTE row");
	err = put_qword(s->d, s->irt + idx * 16, lo, &fresh);
	if (!err)
		err = put_qword(s->d, s->irt + idx * 16 + 8, hi, NULL);
	s->d->stats.irtes += fresh;
	return err;
}

/* " Base: 0x..  Head: N  Tail: N" */
static struct ish_error *iq_header(struct pstate *s, char **tok, unsigned n)
{
	uint64_t base;

	if (!s->unit || n < 2 || !hexnum(tok[1], &base) || (base & 4095))
		return perr(s, "bad invalidation queue base");
	s->has_iq = true;
	s->iq = base;
	s->unit->has_iq = true;
	s->unit->iq = base;
	return NULL;
}

static struct ish_error *iq_row(struct pstate *s, char **tok, unsigned n)
{
	uint64_t idx, q[4];
	unsigned nq = n - 2, width = nq * 8;
	bool fresh;
	struct ish_error *err;

	if (!s->has_iq)
		return perr(s, "invalidation queue row before any queue base");
	if (!decnum(tok[0], &idx) || idx >= 32768)
		return perr(s, "bad invalidation queue index");
	for (unsigned i = 0; i < nq; i++)
		if (!hexnum(tok[1 + i], &q[i]))
			return perr(s, "bad descriptor word");
	err = region_known(s->d, s->iq + idx * width, width);
	for (unsigned i = 0; i < nq && !err; i++)
		err = put_qword(s->d, s->iq + idx * width + i * 8, q[i], i ? NULL : &fresh);
	if (!err)
		s->d->stats.iq_descriptors += fresh;
	return err;
}

static bool starts(const char *line, const char *prefix)
{
	return !strncmp(line, prefix, strlen(prefix));
}

static bool all_hex16(char **tok, unsigned from, unsigned to)
{
	uint64_t v;

	for (unsigned i = from; i < to; i++)
		if (strlen(tok[i]) != 16 || !hexnum(tok[i], &v))
			return false;
	return true;
}

static struct ish_error *parse_line(struct pstate *s, char *line)
{
	char *tok[DFS_MAX_TOKENS];
	unsigned n;
	uint16_t bdf;
	uint64_t v;
	const char *p;

	/* Headers first: they are recognised by their words. */
	if (starts(line, "IOMMU: ") && strstr(line, "Register Base Address"))
		return NULL;	/* regset: read by lib/regsfile.c */
	if (starts(line, "Invalidation queue on IOMMU: ")) {
		s->has_iq = false;
		return header_unit(s, line + strlen("Invalidation queue on IOMMU: "));
	}
	if ((p = strstr(line, "Interrupt supported on IOMMU: "))) {
		s->has_irt = false;
		return header_unit(s, p + strlen("Interrupt supported on IOMMU: "));
	}
	if ((p = strstr(line, "IR table address:")))
		return irt_header(s, p + strlen("IR table address:"));
	if (starts(line, "DMA Remapping is not enabled on ") ||
	    starts(line, "Interrupt Remapping is not enabled") || starts(line, "****"))
		return NULL;
	n = tokenize(line, tok, DFS_MAX_TOKENS);
	if (!n)
		return NULL;
	if (!strcmp(tok[0], "IOMMU") && n >= 4 && !strcmp(tok[2], "Root"))
		return root_header(s, tok, n);
	if (!strcmp(tok[0], "Device") && n >= 3 && tok[n - 1][0] == '@')
		return domain_header(s, tok, n);
	if (!strcmp(tok[0], "Base:"))
		return iq_header(s, tok, n);
	/* Column titles. */
	if (!strcmp(tok[0], "B.D.F") || !strcmp(tok[0], "IOVA_PFN") || !strcmp(tok[0], "Index") ||
	    !strcmp(tok[0], "Entry") || !strcmp(tok[0], "Name"))
		return NULL;
	/* Rows. */
	if (bdfnum(tok[0], &bdf))
		return context_row(s, tok, n, bdf);
	if (n >= 2 && !strcmp(tok[1], "|"))
		return domain_row(s, tok, n);
	if (decnum(tok[0], &v) && (n == 6 || n == 7) && bdfnum(tok[1], &bdf))
		return irte_row(s, tok, n);
	if (decnum(tok[0], &v) && (n == 4 || n == 6) && all_hex16(tok, 1, n))
		return iq_row(s, tok, n);
	/* A regset row (NAME 0xOFF 0xVALUE) is lib/regsfile.c's. */
	if (n == 3 && starts(tok[1], "0x") && starts(tok[2], "0x"))
		return NULL;
	s->d->stats.skipped_lines++;
	return NULL;
}

static struct ish_error *parse_text(struct ish_target *t, struct ish_debugfs *d, char *text,
				    size_t len, const char *where)
{
	struct pstate s = { .t = t, .d = d, .where = where };
	size_t pos = 0;

	while (pos < len) {
		char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct ish_error *err;

		text[end] = '\0';	/* text has room for one more byte */
		s.line++;
		if (memchr(text + pos, '\0', end - pos))
			return perr(&s, "NUL byte in the text");
		err = parse_line(&s, text + pos);
		if (err)
			return err;
		pos = end + 1;
	}
	d->stats.files++;
	return NULL;
}

/* --- files --- */

static struct ish_error *read_text(int dirfd, const char *name, const char *where, char **ret,
				   size_t *len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return ish_error_errno(errno, "%s", where);
	return ish_backend_read_fd(fd, where, DFS_MAX_FILE, ret, len);
}

static struct ish_error *parse_file(struct ish_target *t, struct ish_debugfs *d, int dirfd,
				    const char *name, const char *where, bool regset)
{
	struct ish_error *err;
	char *text = NULL;
	size_t len = 0;

	if (d->stats.files >= DFS_MAX_FILES)
		return ish_error_format(ISH_ERROR_LIMIT, "more than %u debugfs files", DFS_MAX_FILES);
	err = read_text(dirfd, name, where, &text, &len);
	if (err)
		return err;
	err = regset ? load_regset(t, d, text, len, where) : parse_text(t, d, text, len, where);
	if (regset && !err)
		d->stats.files++;
	free(text);
	return err;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of dirfd's entries (not . and ..); the caller frees. */
static struct ish_error *list_dir(int dirfd, char ***ret, size_t *n)
{
	int fd = dup(dirfd);
	DIR *dir;
	struct dirent *de;
	char **names = NULL;
	size_t cap = 0;

	*n = 0;
	if (fd < 0)
		return ish_error_errno(errno, "dup");
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return ish_error_errno(errno, "opendir");
	}
	rewinddir(dir);
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (*n >= DFS_MAX_FILES)
			break;
		if (*n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(*nn));

			if (!nn)
				goto nomem;
			names = nn;
		}
		names[*n] = strdup(de->d_name);
		if (!names[*n])
			goto nomem;
		(*n)++;
	}
	closedir(dir);
	if (*n)
		qsort(names, *n, sizeof(*names), cmp_str);
	*ret = names;
	return NULL;
nomem:
	closedir(dir);
	for (size_t i = 0; i < *n; i++)
		free(names[i]);
	free(names);
	return &ish_enomem;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * domain_translation_struct files below dirfd: the 6.7+ per-device
 * directories (named like 0000:00:02.0, directly under intel/ or under a
 * devices/ directory) and their per-PASID subdirectories.
 */
static struct ish_error *walk_domains(struct ish_target *t, struct ish_debugfs *d, int dirfd,
				      const char *path, unsigned depth)
{
	struct ish_error *err;
	char **names = NULL;
	size_t n = 0;

	if (depth > 3)
		return NULL;
	err = list_dir(dirfd, &names, &n);
	if (err)
		return ish_error_prefix(err, "%s", path);
	for (size_t i = 0; i < n && !err; i++) {
		struct stat st;
		char *sub;

		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (asprintf(&sub, "%s/%s", path, names[i]) < 0) {
			err = &ish_enomem;
			break;
		}
		if (depth && S_ISREG(st.st_mode) && !strcmp(names[i], "domain_translation_struct")) {
			err = parse_file(t, d, dirfd, names[i], sub, false);
		} else if (S_ISDIR(st.st_mode)) {
			int fd = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

			if (fd >= 0) {
				err = walk_domains(t, d, fd, sub, depth + 1);
				close(fd);
			}
		}
		free(sub);
	}
	free_names(names, n);
	return err;
}

static const char *const dfs_files[] = {
	"dmar_translation_struct", "domain_translation_struct", "ir_translation_struct",
	"invalidation_queue",
};

struct ish_error *ish_debugfs_load(struct ish_target *t, const char *root, struct ish_debugfs **ret)
{
	struct ish_debugfs *d = calloc(1, sizeof(*d));
	struct ish_error *err = NULL;
	char *where = NULL;
	int dirfd;
	bool any = false;

	if (!d)
		return &ish_enomem;
	d->root = strdup(root);
	if (!d->root) {
		free(d);
		return &ish_enomem;
	}
	dirfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		int e = errno;

		ish_debugfs_destroy(d);
		if (e == ENOENT)
			return ish_error_format(ISH_ERROR_NOT_FOUND,
						"%s does not exist: debugfs is not mounted "
						"(mount -t debugfs none /sys/kernel/debug), the kernel "
						"lacks CONFIG_INTEL_IOMMU_DEBUGFS, or no Intel IOMMU is "
						"active",
						root);
		if (e == EACCES || e == EPERM)
			return ish_error_errno(e, "%s (debugfs needs root%s)", root,
					       geteuid() ? "" : "; kernel lockdown also hides it");
		return ish_error_errno(e, "%s", root);
	}
	/* The regset first: it names the units and tells their translation mode. */
	if (!faccessat(dirfd, "iommu_regset", F_OK, 0)) {
		if (asprintf(&where, "%s/iommu_regset", root) < 0)
			err = &ish_enomem;
		else
			err = parse_file(t, d, dirfd, "iommu_regset", where, true);
		free(where);
		any = true;
	}
	for (size_t i = 0; i < sizeof(dfs_files) / sizeof(*dfs_files) && !err; i++) {
		struct stat st;

		if (fstatat(dirfd, dfs_files[i], &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (asprintf(&where, "%s/%s", root, dfs_files[i]) < 0) {
			err = &ish_enomem;
			break;
		}
		err = parse_file(t, d, dirfd, dfs_files[i], where, false);
		free(where);
		any = true;
	}
	if (!err) {
		unsigned before = d->stats.files;

		err = walk_domains(t, d, dirfd, root, 0);
		any |= d->stats.files != before;
	}
	close(dirfd);
	if (!err && !any)
		err = ish_error_format(ISH_ERROR_NOT_FOUND,
				       "%s holds none of the Intel IOMMU debugfs files (iommu_regset, "
				       "dmar_translation_struct, ...)",
				       root);
	if (err) {
		ish_debugfs_destroy(d);
		return err;
	}
	*ret = d;
	return NULL;
}

void ish_debugfs_destroy(struct ish_debugfs *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->cap; i++)
		if (d->pages[i].addr != ~0ULL)
			free(d->pages[i].data);
	free(d->pages);
	for (size_t i = 0; i < d->nregs; i++)
		ish_regfile_destroy(d->regs[i]);
	free(d->regs);
	free(d->units);
	free(d->root);
	ish_hostpci_destroy(d->pci);
	free(d);
}

static bool debugfs_detect(const char *spec)
{
	struct stat st;
	char *p;
	bool ok;

	if (!strcmp(spec, "debugfs"))
		return true;
	/* A directory holding a copy of the files (tests/fixtures/debugfs/...). */
	if (!*spec || stat(spec, &st) || !S_ISDIR(st.st_mode))
		return false;
	if (asprintf(&p, "%s/iommu_regset", spec) < 0)
		return false;
	ok = !access(p, F_OK);
	free(p);
	return ok;
}

static void debugfs_close(struct ish_target *t)
{
	ish_debugfs_destroy(ish_target_priv(t));
	ish_target_set_priv(t, NULL);
}

static struct ish_error *debugfs_open(struct ish_target *t, const char *spec)
{
	const char *root = ish_target_param(t, "debugfs.root");
	struct ish_debugfs *d;
	struct ish_error *err;

	if (strcmp(spec, "debugfs") && *spec)
		root = spec;
	if (!root || !*root)
		return ish_error_create(ISH_ERROR_INVALID, "debugfs.root is empty");
	err = ish_live_load_dmar(t, false);
	if (!err)
		err = ish_debugfs_load(t, root, &d);
	if (err)
		return err;
	ish_target_set_priv(t, d);
	return NULL;
}

static struct ish_error *debugfs_read_phys(struct ish_target *t, uint64_t addr, void *buf,
					   size_t len)
{
	return ish_debugfs_read_phys(ish_target_priv(t), addr, buf, len);
}

static struct ish_error *debugfs_read_reg(struct ish_target *t, const struct ish_unit *u,
					  uint32_t offset, unsigned width, uint64_t *ret)
{
	return ish_debugfs_read_reg(ish_target_priv(t), u, offset, width, ret);
}

struct debugfs_stats_sink {
	struct ish_debugfs_stats *st;
	bool found;
};

static void stats_item(void *arg, const struct ish_describe_item *it)
{
	static const struct { const char *key; size_t off; } fields[] = {
		{ "root_entries", offsetof(struct ish_debugfs_stats, root_entries) },
		{ "context_entries", offsetof(struct ish_debugfs_stats, context_entries) },
		{ "pasid_entries", offsetof(struct ish_debugfs_stats, pasid_entries) },
		{ "ptes", offsetof(struct ish_debugfs_stats, ptes) },
		{ "irtes", offsetof(struct ish_debugfs_stats, irtes) },
		{ "iq_descriptors", offsetof(struct ish_debugfs_stats, iq_descriptors) },
		{ "pages", offsetof(struct ish_debugfs_stats, pages) },
		{ "synthetic_pages", offsetof(struct ish_debugfs_stats, synthetic_pages) },
		{ "conflicts", offsetof(struct ish_debugfs_stats, conflicts) },
		{ "skipped_lines", offsetof(struct ish_debugfs_stats, skipped_lines) },
	};
	struct debugfs_stats_sink *s = arg;

	if (it->text)
		return;
	if (!strcmp(it->key, "files")) {
		s->st->files = (unsigned)it->count;
		s->found = true;
		return;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(it->key, fields[i].key))
			*(uint64_t *)((char *)s->st + fields[i].off) = it->count;
}

/*
 * Through the describe hook, so a live target that chose debugfs answers
 * too without this file knowing live's private data.
 */
struct ish_error *ish_debugfs_stats(const struct ish_target *t, struct ish_debugfs_stats *ret)
{
	struct debugfs_stats_sink s = { ret, false };

	*ret = (struct ish_debugfs_stats){ 0 };
	ish_target_describe((struct ish_target *)t, stats_item, &s);
	if (!s.found)
		return ish_error_create(ISH_ERROR_UNSUPPORTED, "not a debugfs target");
	return NULL;
}

/* The counts of what the rebuild placed, for `show stats`. */
static void debugfs_describe(struct ish_target *t, ish_describe_fn *fn, void *arg)
{
	const struct ish_debugfs *d = ish_target_priv(t);
	const struct ish_debugfs_stats *s;

	if (!d)
		return;
	s = &d->stats;
	const struct { const char *key; uint64_t n; } counts[] = {
		{ "files", s->files },
		{ "root_entries", s->root_entries },
		{ "context_entries", s->context_entries },
		{ "pasid_entries", s->pasid_entries },
		{ "ptes", s->ptes },
		{ "irtes", s->irtes },
		{ "iq_descriptors", s->iq_descriptors },
		{ "pages", s->pages },
		{ "synthetic_pages", s->synthetic_pages },
		{ "conflicts", s->conflicts },
		{ "skipped_lines", s->skipped_lines },
	};

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++)
		fn(arg, &(struct ish_describe_item){ .key = counts[i].key, .count = counts[i].n });
}

/* Only this host's own devices may be named by this host's sysfs. */
static bool debugfs_local(struct ish_target *t)
{
	return !strcmp(((struct ish_debugfs *)ish_target_priv(t))->root, ISH_DEBUGFS_ROOT_DEFAULT);
}

static struct ish_error *debugfs_read_config(struct ish_target *t, uint16_t segment, uint16_t bdf,
                                             uint32_t offset, unsigned width, uint32_t *ret)
{
	struct ish_debugfs *p = ish_target_priv(t);

	return ish_hostpci_read_config(t, &p->pci, debugfs_local(t), segment, bdf, offset, width,
				       ret);
}

static struct ish_error *debugfs_pci_functions(struct ish_target *t, ish_pci_ident_fn *fn, void *arg)
{
	struct ish_debugfs *p = ish_target_priv(t);

	return ish_hostpci_functions(t, &p->pci, debugfs_local(t), fn, arg);
}

static const char *debugfs_write_refusal(struct ish_target *t, bool reg)
{
	(void)t;
	(void)reg;
	return "debugfs files show the driver's state and offer no way to change it";
}

static const struct ish_param_def debugfs_params[] = {
	{ "debugfs.root", ISH_DEBUGFS_ROOT_DEFAULT,
	  "directory of the Intel IOMMU debugfs files (or give it as TARGET)" },
	{ "acpi.dmar", ISH_ACPI_DMAR_DEFAULT, "the ACPI DMAR table (segments, device scopes)" },
	ISH_HOSTPCI_PARAM,
	{ NULL, NULL, NULL },
};

const struct ish_backend ish_backend_debugfs = {
	.name = "debugfs",
	.help = "Linux debugfs iommu/intel/* text (CONFIG_INTEL_IOMMU_DEBUGFS), rebuilt as memory",
	.params = debugfs_params,
	.flags = ISH_BACKEND_NOCACHE | ISH_BACKEND_LIVE,
	.detect = debugfs_detect,
	.open = debugfs_open,
	.close = debugfs_close,
	.read_phys = debugfs_read_phys,
	.read_reg = debugfs_read_reg,
	.read_config = debugfs_read_config,
	.pci_functions = debugfs_pci_functions,
	.write_refusal = debugfs_write_refusal,
	.describe = debugfs_describe,
};
