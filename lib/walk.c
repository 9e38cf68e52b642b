// SPDX-License-Identifier: MIT
/*
 * Paging entries and the page-table walkers (VT-d 5.0 3.6-3.8, 9.7, 9.8).
 * Reserved-bit masks follow QEMU's VTD_SPTE_* / VTD_FPTE_* (intel_iommu_
 * internal.h); fault codes are the scalable/legacy ones of Linux dmar.c.
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

/* --- decoders --- */

void ish_walk_caps_init(const struct ish_unit_state *us, struct ish_walk_caps *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->mgaw = us->mgaw ? us->mgaw : 64;
	/* entries hold 52-bit addresses at most */
	ret->haw = ret->mgaw > 52 ? 52 : ret->mgaw;
	ret->sllps = cap_super_page_val(us->cap);
	ret->fl1gp = cap_fl1gp_support(us->cap);
	/* SL bit 11 is SNP when snoop control exists; QEMU treats it so in scalable mode too. */
	ret->snp = us->scalable || ecap_sc_support(us->ecap);
}

static uint64_t addr_rsvd(unsigned haw)
{
	return haw >= 52 ? 0 : ISH_GENMASK(51, haw);
}

static uint64_t level_size(unsigned level)
{
	return 1ULL << (12 + 9 * (level - 1));
}

/* static inline so that the streaming walker's inner loop gets them inlined */
static inline void decode_sl(uint64_t raw, unsigned level, const struct ish_walk_caps *caps,
			     struct ish_pte *ret)
{
	bool ps = ISH_BIT(raw, 7);
	uint64_t rsvd = addr_rsvd(caps->haw);

	ret->raw = raw;
	ret->level = level;
	ret->r = ISH_BIT(raw, 0);
	ret->w = ISH_BIT(raw, 1);
	ret->x = ISH_BIT(raw, 2) && caps->slee;
	ret->us = true;
	ret->present = ret->r || ret->w || ret->x;
	ret->a = ISH_BIT(raw, 8);
	ret->d = ISH_BIT(raw, 9);
	ret->snp = caps->snp && ISH_BIT(raw, 11);
	ret->tm = ISH_BIT(raw, 62);
	ret->pwt = ret->pcd = ret->g = ret->pat = false;
	if (!caps->snp)
		rsvd |= 1ULL << 11;
	ret->leaf = level == 1 || (ps && (level == 2 || level == 3));
	if (level >= 4 && ps)
		rsvd |= 1ULL << 7;
	/* A superpage the unit does not support: PS itself is reserved. */
	if (level == 2 && ps && !(caps->sllps & 1))
		rsvd |= 1ULL << 7;
	if (level == 3 && ps && !(caps->sllps & 2))
		rsvd |= 1ULL << 7;
	if (ret->leaf) {
		ret->page_size = level_size(level);
		ret->emt = (unsigned)ISH_BITS(raw, 5, 3);
		ret->ipat = ISH_BIT(raw, 6);
		if (level > 1)
			rsvd |= ISH_GENMASK(12 + 9 * (level - 1) - 1, 12);
		ret->addr = raw & ISH_GENMASK(51, 12) & ~(ret->page_size - 1);
	} else {
		ret->page_size = 0;
		ret->emt = 0;
		ret->ipat = false;
		ret->addr = raw & ISH_GENMASK(51, 12);
	}
	ret->rsvd = raw & rsvd;
}

static inline void decode_fl(uint64_t raw, unsigned level, const struct ish_walk_caps *caps,
			     struct ish_pte *ret)
{
	bool ps = ISH_BIT(raw, 7);
	uint64_t rsvd = addr_rsvd(caps->haw);

	ret->raw = raw;
	ret->level = level;
	ret->present = ISH_BIT(raw, 0);
	ret->r = ret->present;
	ret->w = ISH_BIT(raw, 1);
	ret->us = ISH_BIT(raw, 2);
	ret->pwt = ISH_BIT(raw, 3);
	ret->pcd = ISH_BIT(raw, 4);
	ret->a = ISH_BIT(raw, 5);
	ret->d = ISH_BIT(raw, 6);
	ret->g = ISH_BIT(raw, 8);
	ret->x = !ISH_BIT(raw, 63);
	ret->emt = 0;
	ret->ipat = ret->snp = ret->tm = false;
	ret->leaf = level == 1 || (ps && (level == 2 || level == 3));
	ret->pat = level == 1 ? ps : (ret->leaf && ISH_BIT(raw, 12));
	if (level >= 4 && ps)
		rsvd |= 1ULL << 7;
	if (level == 3 && ps && !caps->fl1gp)
		rsvd |= 1ULL << 7;
	if (ret->leaf) {
		ret->page_size = level_size(level);
		/* bit 12 of a large page is PAT; the rest up to the page size are reserved */
		if (level > 1)
			rsvd |= ISH_GENMASK(12 + 9 * (level - 1) - 1, 13);
		ret->addr = raw & ISH_GENMASK(51, 12) & ~(ret->page_size - 1);
	} else {
		ret->page_size = 0;
		ret->addr = raw & ISH_GENMASK(51, 12);
	}
	ret->rsvd = raw & rsvd;
}

void ish_decode_sl_pte(uint64_t raw, unsigned level, const struct ish_walk_caps *caps,
		       struct ish_pte *ret)
{
	decode_sl(raw, level, caps, ret);
}

void ish_decode_fl_pte(uint64_t raw, unsigned level, const struct ish_walk_caps *caps,
		       struct ish_pte *ret)
{
	decode_fl(raw, level, caps, ret);
}

const char *ish_step_kind_name(enum ish_step_kind kind)
{
	switch (kind) {
	case ISH_STEP_ROOT: return "root";
	case ISH_STEP_CONTEXT: return "context";
	case ISH_STEP_PASID_DIR: return "pasid-dir";
	case ISH_STEP_PASID: return "pasid";
	case ISH_STEP_SL_PTE: return "sl-pte";
	case ISH_STEP_FL_PTE: return "fl-pte";
	}
	return "??";
}

const char *ish_finding_kind_name(enum ish_finding_kind kind)
{
	switch (kind) {
	case ISH_FINDING_CYCLE: return "cycle";
	case ISH_FINDING_OUTSIDE: return "outside";
	case ISH_FINDING_RESERVED: return "reserved";
	case ISH_FINDING_INVALID: return "invalid";
	case ISH_FINDING_FAULT: return "fault";
	}
	return "??";
}

/* --- one address --- */

/*
 * Fault codes differ by where a second-level walk happens: legacy mode,
 * scalable mode, or fetching a first-level table in nested mode.
 */
struct sl_codes {
	unsigned access;	/* an entry could not be read */
	unsigned first_access;	/* the top-level table could not be read */
	unsigned not_present;	/* 0: the read/write code */
	unsigned rsvd;
	unsigned write, read;
	unsigned beyond;	/* input address beyond the address width */
};

static const struct sl_codes legacy_codes = {
	ISH_FR_PAGING_ENTRY_INV, ISH_FR_PAGING_ENTRY_INV, 0, ISH_FR_PAGING_ENTRY_RSVD,
	ISH_FR_WRITE, ISH_FR_READ, ISH_FR_ADDR_BEYOND_MGAW,
};
static const struct sl_codes sm_codes = {
	ISH_FR_SS_PAGING_ENTRY_INV, ISH_FR_SS_PTPTR_INV, ISH_FR_SS_PAGING_ENTRY_RW,
	ISH_FR_SS_PAGING_ENTRY_RSVD, ISH_FR_SM_WRITE, ISH_FR_SM_READ, ISH_FR_SM_ADDR_BEYOND_HAW,
};
/* The GPA a first-level leaf produced, in nested mode. */
static const struct sl_codes sm_nested_out_codes = {
	ISH_FR_SS_PAGING_ENTRY_INV, ISH_FR_SS_PTPTR_INV, ISH_FR_SS_PAGING_ENTRY_RW,
	ISH_FR_SS_PAGING_ENTRY_RSVD, ISH_FR_SM_WRITE, ISH_FR_SM_READ, ISH_FR_SS_ADDR_BEYOND_MAX,
};
/* A first-level table's GPA, in nested mode (a read by the hardware). */
static const struct sl_codes sm_nested_table_codes = {
	ISH_FR_SS_PAGING_ENTRY_INV, ISH_FR_SS_PTPTR_INV, ISH_FR_NESTED_FS_READ,
	ISH_FR_SS_PAGING_ENTRY_RSVD, ISH_FR_NESTED_FS_WRITE, ISH_FR_NESTED_FS_READ,
	ISH_FR_NESTED_FS_BEYOND_MGAW,
};

struct leaf {
	uint64_t hpa;		/* the translated address (not the frame) */
	uint64_t page_size;
	bool r, w, x, us;
	unsigned emt;
	bool ipat, snp;
};

static struct ish_step *add_step(struct ish_translation *tr, enum ish_step_kind kind,
				 unsigned level, uint64_t table, unsigned index, uint64_t entry_addr)
{
	struct ish_step *s;

	/* Cannot happen by construction (see ISH_MAX_STEPS); keep the last slot. */
	if (tr->nsteps >= ISH_MAX_STEPS)
		tr->nsteps = ISH_MAX_STEPS - 1;
	s = &tr->steps[tr->nsteps++];
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->level = level;
	s->table = table;
	s->index = index;
	s->entry_addr = entry_addr;
	return s;
}

static void fault_at(struct ish_translation *tr, unsigned reason, int step, uint64_t addr)
{
	tr->faulted = true;
	tr->reason = reason;
	tr->fault_step = step;
	tr->fault_addr = addr;
}

/* A read error that is an address problem becomes a hardware access fault. */
static struct ish_error *read_entry(struct ish_target *t, uint64_t addr, uint64_t *raw,
				    struct ish_translation *tr, bool *bad)
{
	struct ish_error *err = ish_read_u64(t, addr, raw);

	*bad = false;
	if (!err)
		return NULL;
	if (err->code != ISH_ERROR_FAULT)
		return err;
	ish_error_destroy(err);
	*bad = true;
	tr->unreadable = true;
	tr->unreadable_addr = addr;
	return NULL;
}

/*
 * Second-level walk of addr from x->sl_root. report is the IOVA a fault
 * record would carry. On a fault tr says so and *out is untouched.
 */
static struct ish_error *sl_walk_one(struct ish_target *t, const struct ish_xlate_tables *x,
				     uint64_t addr, uint64_t report, bool write,
				     const struct sl_codes *c, bool nested, bool top,
				     struct ish_translation *tr, struct leaf *out)
{
	unsigned levels = x->sl_levels, width = 12 + 9 * levels;
	uint64_t table = x->sl_root & VTD_PAGE_MASK;
	bool r = true, w = true, xx = true;
	struct ish_pte pte;

	if ((width < 64 && addr >> width) || (x->caps.mgaw < 64 && addr >> x->caps.mgaw)) {
		fault_at(tr, c->beyond, -1, report);
		return NULL;
	}
	for (unsigned level = levels; level >= 1; level--) {
		unsigned idx = (unsigned)((addr >> (12 + 9 * (level - 1))) & 511);
		struct ish_step *s = add_step(tr, ISH_STEP_SL_PTE, level, table, idx,
					      table + idx * 8);
		int si = (int)tr->nsteps - 1;
		struct ish_error *err;
		uint64_t raw;
		bool bad;

		s->nested = nested;
		err = read_entry(t, s->entry_addr, &raw, tr, &bad);
		if (err)
			return err;
		if (bad) {
			fault_at(tr, level == levels ? c->first_access : c->access, si, report);
			return NULL;
		}
		s->raw[0] = raw;
		s->nraw = 1;
		ish_decode_sl_pte(raw, level, &x->caps, &pte);
		if (!pte.present) {
			unsigned code = c->not_present;

			if (!code)
				code = write ? c->write : c->read;
			if (nested && top && code == ISH_FR_NESTED_FS_READ)
				code = ISH_FR_NESTED_FSPTPTR_READ;
			fault_at(tr, code, si, report);
			return NULL;
		}
		if (pte.rsvd) {
			fault_at(tr, c->rsvd, si, report);
			return NULL;
		}
		r = r && pte.r;
		w = w && pte.w;
		xx = xx && pte.x;
		if (pte.leaf) {
			if ((write && !w) || (!write && !r)) {
				unsigned code = write ? c->write : c->read;

				if (nested && top && code == ISH_FR_NESTED_FS_READ)
					code = ISH_FR_NESTED_FSPTPTR_READ;
				fault_at(tr, code, si, report);
				return NULL;
			}
			out->hpa = pte.addr | (addr & (pte.page_size - 1));
			out->page_size = pte.page_size;
			out->r = r;
			out->w = w;
			out->x = xx;
			out->us = true;
			out->emt = pte.emt;
			out->ipat = pte.ipat;
			out->snp = pte.snp;
			return NULL;
		}
		table = pte.addr;
	}
	return NULL;	/* not reached: level 1 is always a leaf */
}

static bool canonical(uint64_t va, unsigned width)
{
	int64_t s = (int64_t)(va << (64 - width)) >> (64 - width);

	return (uint64_t)s == va;
}

static uint64_t canonicalize(uint64_t va, unsigned width)
{
	return (uint64_t)((int64_t)(va << (64 - width)) >> (64 - width));
}

static struct ish_error *fl_walk_one(struct ish_target *t, const struct ish_xlate_tables *x,
				     uint64_t iova, unsigned access, struct ish_translation *tr,
				     struct leaf *out)
{
	unsigned levels = x->fl_levels, width = 12 + 9 * levels;
	bool nested = x->mode == ISH_XLATE_NESTED, write = access & ISH_ACCESS_WRITE;
	uint64_t table = x->fl_root & VTD_PAGE_MASK;
	bool w = true, xx = true, us = true;
	struct ish_error *err;
	struct ish_pte pte;
	int si = -1;

	if (!canonical(iova, width)) {
		fault_at(tr, ISH_FR_FS_NON_CANONICAL, -1, iova);
		return NULL;
	}
	for (unsigned level = levels; level >= 1; level--) {
		unsigned idx = (unsigned)((iova >> (12 + 9 * (level - 1))) & 511);
		uint64_t table_hpa = table, raw;
		struct ish_step *s;
		bool bad;

		if (nested) {
			struct leaf tl;

			err = sl_walk_one(t, x, table, iova, false, &sm_nested_table_codes, true,
					  level == levels, tr, &tl);
			if (err || tr->faulted)
				return err;
			table_hpa = tl.hpa;
		}
		s = add_step(tr, ISH_STEP_FL_PTE, level, table_hpa, idx, table_hpa + idx * 8);
		si = (int)tr->nsteps - 1;
		err = read_entry(t, s->entry_addr, &raw, tr, &bad);
		if (err)
			return err;
		if (bad) {
			fault_at(tr, level == levels ? ISH_FR_PASID_ENTRY_FSPTPTR_INV :
				 ISH_FR_FS_PAGING_ENTRY_INV, si, iova);
			return NULL;
		}
		s->raw[0] = raw;
		s->nraw = 1;
		ish_decode_fl_pte(raw, level, &x->caps, &pte);
		if (!pte.present) {
			fault_at(tr, ISH_FR_FS_PAGING_ENTRY_P, si, iova);
			return NULL;
		}
		if (pte.rsvd) {
			fault_at(tr, ISH_FR_FS_PAGING_ENTRY_RSVD, si, iova);
			return NULL;
		}
		w = w && pte.w;
		xx = xx && pte.x;
		us = us && pte.us;
		if (pte.leaf)
			break;
		table = pte.addr;
	}
	if (!(access & ISH_ACCESS_PRIV) && !us) {
		fault_at(tr, ISH_FR_FS_PAGING_ENTRY_US, si, iova);
		return NULL;
	}
	if (write && !w) {
		fault_at(tr, ISH_FR_SM_WRITE, si, iova);
		return NULL;
	}
	if ((access & ISH_ACCESS_EXEC) && !xx) {
		fault_at(tr, ISH_FR_SM_EXECUTE, si, iova);
		return NULL;
	}
	out->hpa = pte.addr | (iova & (pte.page_size - 1));
	out->page_size = pte.page_size;
	out->r = true;
	out->w = w;
	out->x = xx;
	out->us = us;
	out->emt = 0;
	out->ipat = out->snp = false;
	if (nested) {
		struct leaf sl;
		uint64_t gpa = out->hpa;

		err = sl_walk_one(t, x, gpa, iova, write, &sm_nested_out_codes, false, false, tr,
				  &sl);
		if (err || tr->faulted)
			return err;
		out->hpa = sl.hpa;
		if (sl.page_size < out->page_size)
			out->page_size = sl.page_size;
		out->w = out->w && sl.w;
		out->r = sl.r;
		out->x = out->x && sl.x;
		out->emt = sl.emt;
		out->ipat = sl.ipat;
		out->snp = sl.snp;
	}
	return NULL;
}

struct ish_error *ish_walk_address(struct ish_target *t, const struct ish_xlate_tables *x,
				   uint64_t iova, unsigned access, struct ish_translation *tr)
{
	struct ish_error *err = NULL;
	struct leaf out;

	memset(&out, 0, sizeof(out));
	switch (x->mode) {
	case ISH_XLATE_PT:
		tr->pass_through = true;
		out.hpa = iova;
		out.page_size = VTD_PAGE_SIZE;
		out.r = out.w = out.x = out.us = true;
		break;
	case ISH_XLATE_SL:
		err = sl_walk_one(t, x, iova, iova, access & ISH_ACCESS_WRITE,
				  x->scalable ? &sm_codes : &legacy_codes, false, false, tr, &out);
		if (!err && !tr->faulted && (access & ISH_ACCESS_EXEC) && !out.x)
			fault_at(tr, ISH_FR_SM_EXECUTE, (int)tr->nsteps - 1, iova);
		break;
	case ISH_XLATE_FL:
	case ISH_XLATE_NESTED:
		err = fl_walk_one(t, x, iova, access, tr, &out);
		break;
	}
	if (err || tr->faulted)
		return err;
	tr->hpa = out.hpa;
	tr->page_size = out.page_size;
	tr->read = out.r;
	tr->write = out.w;
	tr->exec = out.x;
	tr->user = out.us;
	tr->emt = out.emt;
	tr->ipat = out.ipat;
	tr->snp = out.snp;
	return NULL;
}

/* --- streaming --- */

struct emitter {
	ish_mapping_fn *fn;
	void *arg;
	bool have;
	struct ish_mapping cur;
	uint64_t max_mappings;
	struct ish_walk_stats *st;
};

static bool same_attrs(const struct ish_mapping *a, const struct ish_mapping *b)
{
	return a->page_size == b->page_size && a->read == b->read && a->write == b->write &&
	       a->exec == b->exec && a->user == b->user && a->emt == b->emt &&
	       a->ipat == b->ipat && a->snp == b->snp && a->pwt == b->pwt && a->pcd == b->pcd &&
	       a->g == b->g && a->tm == b->tm && a->pass_through == b->pass_through;
}

static struct ish_error *flush(struct emitter *e)
{
	if (!e->have)
		return NULL;
	e->have = false;
	if (e->st->mappings >= e->max_mappings)
		return ish_error_format(ISH_ERROR_LIMIT,
					"more than %llu mappings (raise walk.max_mappings)",
					(unsigned long long)e->max_mappings);
	e->st->mappings++;
	return e->fn ? e->fn(e->arg, &e->cur) : NULL;
}

static struct ish_error *emit(struct emitter *e, const struct ish_mapping *m)
{
	struct ish_error *err;

	if (e->have && e->cur.iova + e->cur.size == m->iova &&
	    e->cur.hpa + e->cur.size == m->hpa && e->cur.size + m->size > e->cur.size &&
	    same_attrs(&e->cur, m)) {
		e->cur.size += m->size;
		return NULL;
	}
	err = flush(e);
	if (err)
		return err;
	e->cur = *m;
	e->have = true;
	return NULL;
}

struct perm {
	bool r, w, x, us;
};

struct walker {
	struct ish_target *t;
	const struct ish_xlate_tables *x;
	bool fl;		/* walking first-level tables */
	bool nested_fl;		/* ... whose addresses are GPAs */
	unsigned levels, width;
	uint64_t lo, hi;	/* inclusive, in walk (non-canonical) space */
	uint64_t path[6];
	unsigned depth;
	uint8_t *buf;		/* one page per level */
	struct ish_walk_stats *st;
	uint64_t max_pages;
	struct emitter *em;
	ish_finding_fn *finding;
	void *arg;
	/* SL sub-walk of a nested first-level leaf */
	struct walker *sub;
	uint64_t delta;		/* added to output IOVAs */
	struct perm mask;	/* ANDed into output permissions */
	struct ish_mapping fl_attrs;	/* FL attributes carried by a sub-walk */
	struct ish_translation *scratch;
};

static struct ish_error *report(struct walker *w, enum ish_finding_kind kind, unsigned level,
				uint64_t va, uint64_t table, unsigned index, uint64_t addr,
				uint64_t raw, uint64_t bits, const char *text)
{
	struct ish_finding f = {
		.kind = kind,
		.where = w->fl ? ISH_STEP_FL_PTE : ISH_STEP_SL_PTE,
		.level = level,
		.iova = w->fl ? canonicalize(va, w->width) : va + w->delta,
		.table = table,
		.index = index,
		.addr = addr,
		.raw = raw,
		.bits = bits,
		.unit = w->x->unit,
		.bdf = w->x->bdf,
		.pasid = w->x->pasid,
		.text = text,
	};

	w->st->findings++;
	return w->finding ? w->finding(w->arg, &f) : NULL;
}

static struct ish_error *walk_table(struct walker *w, uint64_t table, unsigned level,
				    uint64_t va_base, struct perm p);

static struct ish_error *sub_walk(struct walker *sub, uint64_t gpa_lo, uint64_t gpa_hi,
				  uint64_t delta, struct perm mask, const struct ish_mapping *fl)
{
	unsigned width = sub->width;
	struct perm all = { true, true, true, true };

	if (width < 64 && gpa_lo >> width)
		return NULL;
	if (width < 64 && gpa_hi >> width)
		gpa_hi = (1ULL << width) - 1;
	sub->lo = gpa_lo;
	sub->hi = gpa_hi;
	sub->delta = delta;
	sub->mask = mask;
	sub->fl_attrs = *fl;
	sub->depth = 0;
	return walk_table(sub, sub->x->sl_root & VTD_PAGE_MASK, sub->levels, 0, all);
}

static struct ish_error *leaf_out(struct walker *w, uint64_t va, const struct ish_pte *pte,
				  struct perm p)
{
	uint64_t end = va + pte->page_size - 1, off = 0;
	struct ish_mapping m;

	w->st->leaves++;
	if (va < w->lo)
		off = w->lo - va;
	if (end > w->hi)
		end = w->hi;
	memset(&m, 0, sizeof(m));
	m.hpa = pte->addr + off;
	m.size = end - (va + off) + 1;
	m.page_size = pte->page_size;
	m.read = p.r && pte->r;
	m.write = p.w && pte->w;
	m.exec = p.x && pte->x;
	m.user = p.us && pte->us;
	if (w->nested_fl) {
		struct perm mask = { m.read, m.write, m.exec, m.user };

		m.iova = canonicalize(va + off, w->width);
		m.pwt = pte->pwt;
		m.pcd = pte->pcd;
		m.g = pte->g;
		return sub_walk(w->sub, m.hpa, m.hpa + m.size - 1, m.iova - m.hpa, mask, &m);
	}
	if (w->fl) {
		m.iova = canonicalize(va + off, w->width);
		m.pwt = pte->pwt;
		m.pcd = pte->pcd;
		m.g = pte->g;
	} else {
		m.iova = va + off + w->delta;
		m.emt = pte->emt;
		m.ipat = pte->ipat;
		m.snp = pte->snp;
		m.tm = pte->tm;
		if (w->delta || w->fl_attrs.page_size) {
			/* output of a nested first-level leaf */
			m.read = m.read && w->mask.r;
			m.write = m.write && w->mask.w;
			m.exec = m.exec && w->mask.x;
			m.user = w->mask.us;
			m.pwt = w->fl_attrs.pwt;
			m.pcd = w->fl_attrs.pcd;
			m.g = w->fl_attrs.g;
			if (w->fl_attrs.page_size < m.page_size)
				m.page_size = w->fl_attrs.page_size;
		}
	}
	return emit(w->em, &m);
}

static struct ish_error *walk_table(struct walker *w, uint64_t table, unsigned level,
				    uint64_t va_base, struct perm p)
{
	unsigned shift = 12 + 9 * (level - 1), first = 0, last = 511;
	uint64_t span = 512ULL << shift, hpa = table;
	struct ish_error *err;
	uint8_t *buf;

	if (w->depth >= 6 || !level)
		return NULL;
	for (unsigned i = 0; i < w->depth; i++)
		if (w->path[i] == table)
			return report(w, ISH_FINDING_CYCLE, level, va_base, table, 0, table, 0, 0,
				      "table page revisited on the current path");
	if (w->st->pages >= w->max_pages)
		return ish_error_format(ISH_ERROR_LIMIT,
					"more than %llu table pages (raise walk.max_pages)",
					(unsigned long long)w->max_pages);
	w->st->pages++;
	err = ish_target_check_interrupt(w->t);
	if (err)
		return err;
	if (w->nested_fl) {
		struct leaf tl;

		memset(w->scratch, 0, sizeof(*w->scratch));
		err = sl_walk_one(w->t, w->x, table, canonicalize(va_base, w->width), false,
				  &sm_nested_table_codes, true, level == w->levels, w->scratch, &tl);
		if (err)
			return err;
		if (w->scratch->faulted)
			return report(w, ISH_FINDING_FAULT, level, va_base, table, 0, table, 0, 0,
				      "first-level table address does not translate through the "
				      "second level");
		hpa = tl.hpa & VTD_PAGE_MASK;
	}
	buf = w->buf + (size_t)w->depth * VTD_PAGE_SIZE;
	err = ish_read_phys(w->t, hpa, buf, VTD_PAGE_SIZE);
	if (err) {
		char why[256];

		if (err->code != ISH_ERROR_FAULT)
			return err;
		/* The backend's reason: a hole in a dump, "not visible through debugfs". */
		snprintf(why, sizeof(why), "table page is not readable: %s", err->message);
		ish_error_destroy(err);
		return report(w, ISH_FINDING_OUTSIDE, level, va_base, hpa, 0, hpa, 0, 0, why);
	}
	if (w->lo > va_base)
		first = (unsigned)((w->lo - va_base) >> shift);
	if (span && va_base + span - 1 > w->hi)
		last = (unsigned)((w->hi - va_base) >> shift);
	w->path[w->depth++] = table;
	for (unsigned idx = first; idx <= last && idx < 512; idx++) {
		uint64_t raw, va = va_base + ((uint64_t)idx << shift);
		struct ish_pte pte;

		memcpy(&raw, buf + idx * 8, 8);
		raw = le64toh(raw);
		if (!raw)
			continue;
		if (w->fl)
			decode_fl(raw, level, &w->x->caps, &pte);
		else
			decode_sl(raw, level, &w->x->caps, &pte);
		if (!pte.present)
			continue;
		if (pte.rsvd) {
			err = report(w, ISH_FINDING_RESERVED, level, va, hpa, idx, hpa + idx * 8, raw,
				     pte.rsvd, "reserved bits set in a present entry");
		} else if (pte.leaf) {
			err = leaf_out(w, va, &pte, p);
		} else {
			struct perm np = { p.r && pte.r, p.w && pte.w, p.x && pte.x,
					   p.us && pte.us };

			err = walk_table(w, pte.addr, level - 1, va, np);
		}
		if (err) {
			w->depth--;
			return err;
		}
	}
	w->depth--;
	return NULL;
}

/* Maps [lo, hi] (canonical addresses) into the walk space of a width-bit FL table. */
static void fl_range(uint64_t lo, uint64_t hi, unsigned width, uint64_t *rlo, uint64_t *rhi)
{
	uint64_t half = 1ULL << (width - 1), mask = (1ULL << width) - 1;
	uint64_t upper = ~0ULL << (width - 1);

	*rlo = lo < half ? lo : lo >= upper ? lo & mask : half;
	*rhi = hi < half ? hi : hi >= upper ? hi & mask : half - 1;
}

static struct ish_error *walker_init(struct walker *w, struct ish_target *t,
				     const struct ish_xlate_tables *x, bool fl, unsigned levels)
{
	memset(w, 0, sizeof(*w));
	w->t = t;
	w->x = x;
	w->fl = fl;
	w->levels = levels;
	w->width = 12 + 9 * levels;
	w->buf = malloc(6 * VTD_PAGE_SIZE);
	return w->buf ? NULL : &ish_enomem;
}

struct ish_error *ish_walk_mappings(struct ish_target *t, const struct ish_xlate_tables *x,
				    uint64_t lo, uint64_t hi, ish_mapping_fn *fn,
				    ish_finding_fn *finding, void *arg,
				    struct ish_walk_stats *stats)
{
	struct ish_walk_stats local;
	struct emitter em = { .fn = fn, .arg = arg };
	struct walker w, sub;
	struct perm all = { true, true, true, true };
	struct ish_error *err;
	uint64_t max_pages;

	if (!stats)
		stats = &local;
	memset(stats, 0, sizeof(*stats));
	em.st = stats;
	err = ish_target_param_u64(t, "walk.max_pages", 1048576, &max_pages);
	if (!err)
		err = ish_target_param_u64(t, "walk.max_mappings", 100000000, &em.max_mappings);
	if (err)
		return err;
	if (lo > hi)
		return NULL;
	if (x->mode == ISH_XLATE_PT) {
		struct ish_mapping m = { .iova = lo, .hpa = lo, .page_size = VTD_PAGE_SIZE,
					 .read = true, .write = true, .exec = true, .user = true,
					 .pass_through = true };
		unsigned haw = x->caps.mgaw < 63 ? x->caps.mgaw : 63;

		if (hi > (1ULL << haw) - 1)
			hi = (1ULL << haw) - 1;
		if (lo > hi)
			return NULL;
		m.size = hi - lo + 1;
		err = emit(&em, &m);
		return err ? err : flush(&em);
	}
	if (x->mode == ISH_XLATE_SL) {
		err = walker_init(&w, t, x, false, x->sl_levels);
		if (err)
			return err;
		if (w.width < 64 && hi >> w.width)
			hi = (1ULL << w.width) - 1;
		w.lo = lo;
		w.hi = hi;
	} else {
		err = walker_init(&w, t, x, true, x->fl_levels);
		if (err)
			return err;
		fl_range(lo, hi, w.width, &w.lo, &w.hi);
	}
	w.st = stats;
	w.max_pages = max_pages;
	w.em = &em;
	w.finding = finding;
	w.arg = arg;
	memset(&sub, 0, sizeof(sub));
	if (x->mode == ISH_XLATE_NESTED) {
		err = walker_init(&sub, t, x, false, x->sl_levels);
		w.scratch = malloc(sizeof(*w.scratch));
		if (!err && !w.scratch)
			err = &ish_enomem;
		if (err)
			goto out;
		sub.st = stats;
		sub.max_pages = max_pages;
		sub.em = &em;
		sub.finding = finding;
		sub.arg = arg;
		w.nested_fl = true;
		w.sub = &sub;
	}
	if (w.lo <= w.hi)
		err = walk_table(&w, (w.fl ? x->fl_root : x->sl_root) & VTD_PAGE_MASK, w.levels, 0,
				 all);
	if (!err)
		err = flush(&em);
out:
	free(w.buf);
	free(w.scratch);
	free(sub.buf);
	return err;
}
