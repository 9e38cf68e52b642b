// SPDX-License-Identifier: MIT
/*
 * Translation front end: the unit's mode (GSTS.TES, RTADDR.TTM), which unit
 * translates a device (DMAR device scopes), and the root -> context ->
 * PASID steps (VT-d 5.0 3.4-3.5, 9.1-9.6) with the fault each one can raise.
 */
#include <string.h>

#include <iommush/vtd/scope.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

struct ish_error *ish_unit_state_read(struct ish_target *t, unsigned unit,
				      struct ish_unit_state *ret)
{
	struct ish_error *err;
	uint64_t gsts;

	memset(ret, 0, sizeof(*ret));
	ret->unit = unit;
	err = ish_read_reg(t, unit, DMAR_CAP_REG, 64, &ret->cap);
	if (!err)
		err = ish_read_reg(t, unit, DMAR_ECAP_REG, 64, &ret->ecap);
	if (!err)
		err = ish_read_reg(t, unit, DMAR_GSTS_REG, 32, &gsts);
	if (!err)
		err = ish_read_reg(t, unit, DMAR_RTADDR_REG, 64, &ret->rtaddr);
	if (err)
		return err;
	ret->gsts = (uint32_t)gsts;
	ret->te = ret->gsts & DMA_GSTS_TES;
	ret->ttm = (enum ish_ttm)DMA_RTADDR_TTM(ret->rtaddr);
	ret->scalable = ret->ttm == ISH_TTM_SCALABLE;
	ret->rta = DMA_RTADDR_ADDR(ret->rtaddr);
	ret->mgaw = cap_mgaw(ret->cap);
	return NULL;
}

static uint64_t le64_at(const uint8_t *b)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

/* --- unit selection: DMAR device scopes resolved by lib/pci.c --- */

struct ish_error *ish_unit_for_device(struct ish_target *t, uint16_t segment, uint16_t bdf,
				      unsigned *ret)
{
	struct ish_unit_scopes *s;
	struct ish_error *err = ish_unit_scopes_create(t, &s);

	if (err)
		return err;
	err = ish_unit_scopes_lookup(t, s, segment, bdf, ret, NULL);
	ish_unit_scopes_destroy(s);
	return err;
}

/* --- root, context, PASID --- */

static struct ish_step *add_step(struct ish_translation *tr, enum ish_step_kind kind,
				 uint64_t table, unsigned index, uint64_t entry_addr)
{
	struct ish_step *s = &tr->steps[tr->nsteps++];

	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->table = table;
	s->index = index;
	s->entry_addr = entry_addr;
	return s;
}

static void fault_here(struct ish_translation *tr, unsigned reason)
{
	tr->faulted = true;
	tr->reason = reason;
	tr->fault_step = (int)tr->nsteps - 1;
}

/* Reads n qwords into the step; an unreadable address is *bad, not an error. */
static struct ish_error *read_step(struct ish_target *t, struct ish_translation *tr,
				   struct ish_step *s, unsigned n, bool *bad)
{
	uint8_t b[64];
	struct ish_error *err = ish_read_phys(t, s->entry_addr, b, n * 8);

	*bad = false;
	if (err) {
		if (err->code != ISH_ERROR_FAULT)
			return err;
		ish_error_destroy(err);
		*bad = true;
		tr->unreadable = true;
		tr->unreadable_addr = s->entry_addr;
		return NULL;
	}
	for (unsigned i = 0; i < n; i++)
		s->raw[i] = le64_at(b + 8 * i);
	s->nraw = n;
	return NULL;
}

static bool has_problem(const struct ish_problems *ps, bool reserved, int qword)
{
	for (unsigned i = 0; i < ps->n; i++)
		if (ps->p[i].reserved == reserved && (qword < 0 || ps->p[i].qword == qword))
			return true;
	return false;
}

static bool sagaw_ok(const struct ish_unit_state *us, unsigned aw)
{
	return aw <= 4 && (cap_sagaw(us->cap) >> aw) & 1;
}

static struct ish_error *resolve_legacy(struct ish_target *t, const struct ish_unit_state *us,
					uint16_t bdf, struct ish_translation *tr)
{
	struct ish_context_entry *ce = &tr->ce;
	struct ish_xlate_tables *x = &tr->tables;
	struct ish_error *err;
	struct ish_step *s;
	uint64_t ctp;
	bool bad;

	ish_root_entry_ctp(&tr->re, ISH_BDF_DEVFN(bdf), &ctp);
	s = add_step(tr, ISH_STEP_CONTEXT, ctp, ISH_BDF_DEVFN(bdf),
		     ish_context_entry_addr(ctp, ISH_BDF_DEVFN(bdf), false));
	err = read_step(t, tr, s, 2, &bad);
	if (err || bad) {
		if (bad)
			fault_here(tr, ISH_FR_CONTEXT_TABLE_INV);
		return err;
	}
	ish_decode_context_entry(s->raw, false, us->mgaw, ce);
	tr->have_ce = true;
	tr->fpd = ce->fpd;
	if (!ce->present) {
		tr->fpd = false;
		fault_here(tr, ISH_FR_CONTEXT_ENTRY_P);
		return NULL;
	}
	if (has_problem(&ce->problems, true, -1)) {
		fault_here(tr, ISH_FR_CONTEXT_ENTRY_RSVD);
		return NULL;
	}
	if (ce->tt == 3 || (ce->tt == CONTEXT_TT_PASS_THROUGH && !ecap_pass_through(us->ecap)) ||
	    (ce->tt != CONTEXT_TT_PASS_THROUGH && !sagaw_ok(us, ce->aw))) {
		fault_here(tr, ISH_FR_CONTEXT_ENTRY_INV);
		return NULL;
	}
	x->did = ce->did;
	if (ce->tt == CONTEXT_TT_PASS_THROUGH) {
		x->mode = ISH_XLATE_PT;
	} else {
		x->mode = ISH_XLATE_SL;
		x->sl_root = ce->slptptr;
		x->sl_levels = ce->aw + 2;
	}
	tr->have_tables = true;
	return NULL;
}

static struct ish_error *resolve_scalable(struct ish_target *t, const struct ish_unit_state *us,
					  uint16_t bdf, uint32_t pasid, unsigned access,
					  struct ish_translation *tr)
{
	struct ish_context_entry *ce = &tr->ce;
	struct ish_pasid_entry *pe = &tr->pe;
	struct ish_xlate_tables *x = &tr->tables;
	unsigned devfn = ISH_BDF_DEVFN(bdf);
	struct ish_error *err;
	struct ish_step *s;
	uint64_t ctp;
	bool bad;

	ish_root_entry_ctp(&tr->re, devfn, &ctp);
	s = add_step(tr, ISH_STEP_CONTEXT, ctp, devfn & 0x7f,
		     ish_context_entry_addr(ctp, devfn, true));
	err = read_step(t, tr, s, 4, &bad);
	if (err || bad) {
		if (bad)
			fault_here(tr, ISH_FR_SM_CONTEXT_ACCESS_ERR);
		return err;
	}
	ish_decode_context_entry(s->raw, true, us->mgaw, ce);
	tr->have_ce = true;
	if (!ce->present) {
		fault_here(tr, ISH_FR_SM_CONTEXT_ENTRY_P);
		return NULL;
	}
	tr->fpd = ce->fpd;
	if (has_problem(&ce->problems, true, -1)) {
		fault_here(tr, ISH_FR_SM_CONTEXT_ENTRY_RSVD);
		return NULL;
	}
	if (pasid == ISH_PASID_NONE) {
		pasid = ce->rid_pasid;
	} else if (!ce->paside) {
		fault_here(tr, ISH_FR_SM_PASIDE_CLEAR);
		return NULL;
	}
	if ((pasid >> 6) >= ish_pasid_dir_entries(ce)) {
		fault_here(tr, ISH_FR_SM_PASID_TOO_BIG);
		return NULL;
	}
	x->pasid = pasid;

	s = add_step(tr, ISH_STEP_PASID_DIR, ce->pasiddirptr, pasid >> 6,
		     ce->pasiddirptr + (uint64_t)(pasid >> 6) * 8);
	err = read_step(t, tr, s, 1, &bad);
	if (err || bad) {
		if (bad)
			fault_here(tr, ISH_FR_PASID_DIR_ACCESS_ERR);
		return err;
	}
	ish_decode_pasid_dir_entry(s->raw[0], us->mgaw, &tr->pde);
	tr->have_pde = true;
	if (!tr->pde.present) {
		fault_here(tr, ISH_FR_PASID_DIR_ENTRY_P);
		return NULL;
	}
	tr->fpd = tr->fpd || tr->pde.fpd;
	if (tr->pde.problems.n) {
		fault_here(tr, ISH_FR_PASID_DIR_ENTRY_RSVD);
		return NULL;
	}

	s = add_step(tr, ISH_STEP_PASID, tr->pde.smptblptr, pasid & 0x3f,
		     tr->pde.smptblptr + (uint64_t)(pasid & 0x3f) * 64);
	err = read_step(t, tr, s, 8, &bad);
	if (err || bad) {
		if (bad)
			fault_here(tr, ISH_FR_PASID_TABLE_ACCESS_ERR);
		return err;
	}
	ish_decode_pasid_entry(s->raw, us->mgaw, pe);
	tr->have_pe = true;
	if (!pe->present) {
		fault_here(tr, ISH_FR_PASID_ENTRY_P);
		return NULL;
	}
	tr->fpd = tr->fpd || pe->fpd;
	if (has_problem(&pe->problems, true, -1)) {
		fault_here(tr, ISH_FR_PASID_ENTRY_RSVD);
		return NULL;
	}
	/* A PGTT the unit does not implement is as invalid as an undefined one. */
	if (has_problem(&pe->problems, false, -1) ||
	    (pe->pgtt == PASID_ENTRY_PGTT_FL_ONLY && !ecap_flts(us->ecap)) ||
	    (pe->pgtt == PASID_ENTRY_PGTT_SL_ONLY && !ecap_slts(us->ecap)) ||
	    (pe->pgtt == PASID_ENTRY_PGTT_NESTED && !ecap_nest(us->ecap)) ||
	    (pe->pgtt == PASID_ENTRY_PGTT_PT && !ecap_pass_through(us->ecap)) ||
	    ((pe->pgtt == PASID_ENTRY_PGTT_SL_ONLY || pe->pgtt == PASID_ENTRY_PGTT_NESTED) &&
	     !sagaw_ok(us, pe->aw)) ||
	    ((pe->pgtt == PASID_ENTRY_PGTT_FL_ONLY || pe->pgtt == PASID_ENTRY_PGTT_NESTED) &&
	     pe->flpm == 1 && !cap_5lp_support(us->cap))) {
		fault_here(tr, ISH_FR_PASID_TABLE_ENTRY_INV);
		return NULL;
	}
	if ((access & ISH_ACCESS_EXEC) && !pe->ere) {
		fault_here(tr, ISH_FR_PASID_ENTRY_ERE_CLEAR);
		return NULL;
	}
	if ((access & ISH_ACCESS_PRIV) && !pe->sre) {
		fault_here(tr, ISH_FR_PASID_ENTRY_SRE_CLEAR);
		return NULL;
	}
	x->did = pe->did;
	x->sre = pe->sre;
	x->ere = pe->ere;
	x->caps.slee = pe->slee;
	x->sl_root = pe->slptptr;
	x->sl_levels = pe->aw + 2;
	x->fl_root = pe->flptptr;
	x->fl_levels = 4 + pe->flpm;
	switch (pe->pgtt) {
	case PASID_ENTRY_PGTT_FL_ONLY:
		x->mode = ISH_XLATE_FL;
		x->sl_root = 0;
		x->sl_levels = 0;
		break;
	case PASID_ENTRY_PGTT_SL_ONLY:
		x->mode = ISH_XLATE_SL;
		x->fl_root = 0;
		x->fl_levels = 0;
		break;
	case PASID_ENTRY_PGTT_NESTED:
		x->mode = ISH_XLATE_NESTED;
		break;
	default:
		x->mode = ISH_XLATE_PT;
		x->sl_root = x->fl_root = 0;
		x->sl_levels = x->fl_levels = 0;
		break;
	}
	tr->have_tables = true;
	return NULL;
}

struct ish_error *ish_resolve_tables(struct ish_target *t, const struct ish_unit_state *us,
				     uint16_t bdf, uint32_t pasid, unsigned access,
				     struct ish_translation *tr)
{
	struct ish_error *err;
	struct ish_step *s;
	bool bad;

	if (pasid != ISH_PASID_NONE && pasid > ISH_PASID_MAX)
		return ish_error_format(ISH_ERROR_INVALID, "PASID %#x is more than 20 bits", pasid);
	memset(tr, 0, sizeof(*tr));
	tr->fault_step = -1;
	if (!us)
		return ish_error_create(ISH_ERROR_INVALID, "no unit state");
	tr->scalable = us->scalable;
	tr->tables.unit = us->unit;
	tr->tables.bdf = bdf;
	tr->tables.pasid = ISH_PASID_NONE;
	tr->tables.scalable = us->scalable;
	ish_walk_caps_init(us, &tr->tables.caps);

	switch (us->ttm) {
	case ISH_TTM_ABORT_DMA:
		tr->blocked = true;
		return NULL;
	case ISH_TTM_RESERVED:
		tr->faulted = true;
		tr->reason = ISH_FR_SM_RTADDR_INV;
		return NULL;
	case ISH_TTM_LEGACY:
		if (pasid != ISH_PASID_NONE) {
			tr->faulted = true;
			tr->reason = ISH_FR_RTADDR_INV_TTM;
			return NULL;
		}
		break;
	case ISH_TTM_SCALABLE:
		break;
	}

	s = add_step(tr, ISH_STEP_ROOT, us->rta, ISH_BDF_BUS(bdf),
		     us->rta + (uint64_t)ISH_BDF_BUS(bdf) * 16);
	err = read_step(t, tr, s, 2, &bad);
	if (err || bad) {
		if (bad)
			fault_here(tr, us->scalable ? ISH_FR_SM_ROOT_ACCESS_ERR :
				   ISH_FR_ROOT_TABLE_INV);
		return err;
	}
	ish_decode_root_entry(s->raw, us->scalable, us->mgaw, &tr->re);
	tr->have_re = true;
	if (!us->scalable) {
		if (!tr->re.present) {
			fault_here(tr, ISH_FR_ROOT_ENTRY_P);
			return NULL;
		}
		if (tr->re.problems.n) {
			fault_here(tr, ISH_FR_ROOT_ENTRY_RSVD);
			return NULL;
		}
		return resolve_legacy(t, us, bdf, tr);
	} else {
		uint64_t ctp;
		int half = ISH_BDF_DEVFN(bdf) < 128 ? 0 : 1;

		if (!ish_root_entry_ctp(&tr->re, ISH_BDF_DEVFN(bdf), &ctp)) {
			fault_here(tr, ISH_FR_SM_ROOT_ENTRY_P);
			return NULL;
		}
		if (has_problem(&tr->re.problems, true, half)) {
			fault_here(tr, ISH_FR_SM_ROOT_ENTRY_RSVD);
			return NULL;
		}
		return resolve_scalable(t, us, bdf, pasid, access, tr);
	}
}

struct ish_error *ish_translate(struct ish_target *t, int unit, uint16_t bdf, uint32_t pasid,
				uint64_t iova, unsigned access, struct ish_translation *ret)
{
	struct ish_unit_state us;
	struct ish_error *err;
	unsigned u;

	if (unit < 0) {
		err = ish_unit_for_device(t, 0, bdf, &u);
		if (err)
			return err;
	} else {
		u = (unsigned)unit;
	}
	if (pasid != ISH_PASID_NONE && pasid > ISH_PASID_MAX)
		return ish_error_format(ISH_ERROR_INVALID, "PASID %#x is more than 20 bits", pasid);
	if (pasid == ISH_PASID_NONE && (access & (ISH_ACCESS_EXEC | ISH_ACCESS_PRIV)))
		return ish_error_create(ISH_ERROR_INVALID,
					"execute and supervisor requests need a PASID");
	err = ish_unit_state_read(t, u, &us);
	if (err)
		return err;
	if (!us.te) {
		memset(ret, 0, sizeof(*ret));
		ret->fault_step = -1;
		ret->translation_disabled = true;
		ret->scalable = us.scalable;
		ret->hpa = iova;
		ret->page_size = VTD_PAGE_SIZE;
		ret->read = ret->write = ret->exec = ret->user = true;
		return NULL;
	}
	err = ish_resolve_tables(t, &us, bdf, pasid, access, ret);
	if (err)
		return err;
	if (ret->faulted) {
		ret->fault_addr = iova;
		return NULL;
	}
	if (ret->blocked)
		return NULL;
	return ish_walk_address(t, &ret->tables, iova, access, ret);
}
