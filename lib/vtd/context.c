// SPDX-License-Identifier: MIT
/*
 * Root, context and PASID table entries (VT-d 5.0 chapter 9). Bit positions
 * checked against Linux pasid.h (pasid_set_*), iommu.h (context_*) and QEMU
 * intel_iommu_internal.h (VTD_*_RSVD masks).
 */
#include <stdio.h>
#include <string.h>

#include <iommush/vtd/context.h>
#include <iommush/vtd/vtd.h>

static void add_problem(struct ish_problems *ps, const char *what, unsigned qword, uint64_t bits,
			bool reserved)
{
	if (ps->n >= ISH_MAX_PROBLEMS)
		return;
	ps->p[ps->n].what = what;
	ps->p[ps->n].qword = (uint8_t)qword;
	ps->p[ps->n].bits = bits;
	ps->p[ps->n].reserved = reserved;
	ps->n++;
}

/* An impossible value (not reserved bits). */
static void problem(struct ish_problems *ps, const char *what, unsigned qword, uint64_t bits)
{
	add_problem(ps, what, qword, bits, false);
}

/* Bits of an address field above the host address width (up to bit 63). */
static uint64_t above_haw(unsigned haw)
{
	return haw >= 64 ? 0 : ISH_GENMASK(63, haw);
}

static void check_rsvd(struct ish_problems *ps, const char *what, unsigned qword, uint64_t v,
		       uint64_t mask)
{
	if (v & mask)
		add_problem(ps, what, qword, v & mask, true);
}

/* --- 9.1 / 9.2 root entries --- */

void ish_decode_root_entry(const uint64_t raw[2], bool scalable, unsigned haw,
			   struct ish_root_entry *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->raw[0] = raw[0];
	ret->raw[1] = raw[1];
	ret->scalable = scalable;
	if (!scalable) {
		ret->present = ISH_BIT(raw[0], 0);
		ret->ctp = raw[0] & ISH_GENMASK(63, 12);
		check_rsvd(&ret->problems, "reserved bits set in root entry", 0, raw[0],
			   ISH_GENMASK(11, 1) | above_haw(haw));
		check_rsvd(&ret->problems, "reserved bits set in root entry", 1, raw[1], ~0ULL);
		return;
	}
	ret->lp = ISH_BIT(raw[0], 0);
	ret->lctp = raw[0] & ISH_GENMASK(63, 12);
	ret->up = ISH_BIT(raw[1], 0);
	ret->uctp = raw[1] & ISH_GENMASK(63, 12);
	ret->present = ret->lp || ret->up;
	check_rsvd(&ret->problems, "reserved bits set in lower half of root entry", 0, raw[0],
		   ISH_GENMASK(11, 1) | above_haw(haw));
	check_rsvd(&ret->problems, "reserved bits set in upper half of root entry", 1, raw[1],
		   ISH_GENMASK(11, 1) | above_haw(haw));
}

bool ish_root_entry_ctp(const struct ish_root_entry *re, unsigned devfn, uint64_t *ctp)
{
	if (!re->scalable) {
		*ctp = re->ctp;
		return re->present;
	}
	/* Scalable mode: devfn 0..127 use the lower half, 128..255 the upper. */
	if (devfn < 128) {
		*ctp = re->lctp;
		return re->lp;
	}
	*ctp = re->uctp;
	return re->up;
}

uint64_t ish_context_entry_addr(uint64_t ctp, unsigned devfn, bool scalable)
{
	/* A scalable-mode table holds 128 entries of 32 bytes. */
	if (scalable)
		return ctp + (uint64_t)(devfn & 0x7f) * 32;
	return ctp + (uint64_t)(devfn & 0xff) * 16;
}

/* --- 9.3 / 9.4 context entries --- */

void ish_decode_context_entry(const uint64_t raw[4], bool scalable, unsigned haw,
			      struct ish_context_entry *ret)
{
	struct ish_problems *ps = &ret->problems;

	memset(ret, 0, sizeof(*ret));
	memcpy(ret->raw, raw, (scalable ? 4 : 2) * sizeof(raw[0]));
	ret->scalable = scalable;
	ret->present = ISH_BIT(raw[0], 0);
	ret->fpd = ISH_BIT(raw[0], 1);
	if (!scalable) {
		ret->tt = (unsigned)ISH_BITS(raw[0], 3, 2);
		ret->slptptr = raw[0] & ISH_GENMASK(63, 12);
		ret->aw = (unsigned)ISH_BITS(raw[1], 2, 0);
		ret->avail = (unsigned)ISH_BITS(raw[1], 6, 3);
		ret->did = (uint16_t)ISH_BITS(raw[1], 23, 8);
		/* QEMU VTD_CONTEXT_ENTRY_RSVD_LO/HI */
		check_rsvd(ps, "reserved bits set in context entry", 0, raw[0],
			   ISH_GENMASK(11, 4) | above_haw(haw));
		check_rsvd(ps, "reserved bits set in context entry", 1, raw[1],
			   ISH_GENMASK(63, 24) | (1ULL << 7));
		if (ret->tt == 3)
			problem(ps, "translation type 3 is reserved", 0, ISH_GENMASK(3, 2));
		if (ret->tt != CONTEXT_TT_PASS_THROUGH && (ret->aw < 1 || ret->aw > 3))
			problem(ps, "address width is not 39, 48 or 57 bits", 1, ISH_GENMASK(2, 0));
		return;
	}
	ret->dte = ISH_BIT(raw[0], 2);
	ret->paside = ISH_BIT(raw[0], 3);
	ret->pre = ISH_BIT(raw[0], 4);
	ret->pdts = (unsigned)ISH_BITS(raw[0], 11, 9);
	ret->pasiddirptr = raw[0] & ISH_GENMASK(63, 12);
	ret->rid_pasid = (uint32_t)ISH_BITS(raw[1], 19, 0);
	ret->rid_priv = ISH_BIT(raw[1], 20);
	/* QEMU VTD_SM_CONTEXT_ENTRY_RSVD_VAL0/VAL1; bits 255:128 are reserved. */
	check_rsvd(ps, "reserved bits set in scalable-mode context entry", 0, raw[0],
		   ISH_GENMASK(8, 5) | above_haw(haw));
	check_rsvd(ps, "reserved bits set in scalable-mode context entry", 1, raw[1],
		   ISH_GENMASK(63, 21));
	check_rsvd(ps, "reserved bits set in scalable-mode context entry", 2, raw[2], ~0ULL);
	check_rsvd(ps, "reserved bits set in scalable-mode context entry", 3, raw[3], ~0ULL);
}

/* --- 9.5 PASID directory entry --- */

void ish_decode_pasid_dir_entry(uint64_t raw, unsigned haw, struct ish_pasid_dir_entry *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->raw = raw;
	ret->present = ISH_BIT(raw, 0);
	ret->fpd = ISH_BIT(raw, 1);
	ret->smptblptr = raw & ISH_GENMASK(63, 12);
	check_rsvd(&ret->problems, "reserved bits set in PASID directory entry", 0, raw,
		   ISH_GENMASK(11, 2) | above_haw(haw));
}

/* --- 9.6 PASID table entry --- */

void ish_decode_pasid_entry(const uint64_t raw[8], unsigned haw, struct ish_pasid_entry *ret)
{
	struct ish_problems *ps = &ret->problems;

	memset(ret, 0, sizeof(*ret));
	memcpy(ret->raw, raw, sizeof(ret->raw));
	ret->present = ISH_BIT(raw[0], 0);
	ret->fpd = ISH_BIT(raw[0], 1);
	ret->aw = (unsigned)ISH_BITS(raw[0], 4, 2);
	ret->slee = ISH_BIT(raw[0], 5);
	ret->pgtt = (unsigned)ISH_BITS(raw[0], 8, 6);
	ret->slade = ISH_BIT(raw[0], 9);
	ret->slptptr = raw[0] & ISH_GENMASK(63, 12);
	ret->did = (uint16_t)ISH_BITS(raw[1], 15, 0);
	ret->pwsnp = ISH_BIT(raw[1], 23);
	ret->pgsnp = ISH_BIT(raw[1], 24);
	ret->cd = ISH_BIT(raw[1], 25);
	ret->emte = ISH_BIT(raw[1], 26);
	ret->emt = (unsigned)ISH_BITS(raw[1], 29, 27);
	ret->pwt = ISH_BIT(raw[1], 30);
	ret->pcd = ISH_BIT(raw[1], 31);
	ret->pat = (uint32_t)ISH_BITS(raw[1], 63, 32);
	ret->sre = ISH_BIT(raw[2], 0);
	ret->ere = ISH_BIT(raw[2], 1);
	ret->flpm = (unsigned)ISH_BITS(raw[2], 3, 2);
	ret->wpe = ISH_BIT(raw[2], 4);
	ret->eafe = ISH_BIT(raw[2], 7);
	ret->flptptr = raw[2] & ISH_GENMASK(63, 12);

	check_rsvd(ps, "reserved bits set in PASID entry", 0, raw[0], ISH_GENMASK(11, 10));
	check_rsvd(ps, "reserved bits set in PASID entry", 1, raw[1], ISH_GENMASK(22, 16));
	for (unsigned q = 3; q < 8; q++)
		check_rsvd(ps, "reserved bits set in PASID entry", q, raw[q], ~0ULL);
	switch (ret->pgtt) {
	case PASID_ENTRY_PGTT_SL_ONLY:
	case PASID_ENTRY_PGTT_NESTED:
		check_rsvd(ps, "second-level pointer beyond the address width", 0, raw[0],
			   above_haw(haw));
		if (ret->aw < 1 || ret->aw > 3)
			problem(ps, "address width is not 39, 48 or 57 bits", 0, ISH_GENMASK(4, 2));
		if (ret->pgtt == PASID_ENTRY_PGTT_SL_ONLY)
			break;
		/* nested uses both pointers */
		__attribute__((fallthrough));
	case PASID_ENTRY_PGTT_FL_ONLY:
		check_rsvd(ps, "first-level pointer beyond the address width", 2, raw[2],
			   above_haw(haw));
		if (ret->flpm > 1)
			problem(ps, "first-level paging mode is not 4- or 5-level", 2,
				ISH_GENMASK(3, 2));
		break;
	case PASID_ENTRY_PGTT_PT:
		break;
	default:
		problem(ps, "PGTT is not 1 (first-level), 2 (second-level), 3 (nested) or 4 "
			"(pass-through)", 0, ISH_GENMASK(8, 6));
		break;
	}
}

/* --- readers --- */

static struct ish_error *read_qwords(struct ish_target *t, uint64_t addr, uint64_t *q, unsigned n)
{
	uint8_t b[64];
	struct ish_error *err = ish_read_phys(t, addr, b, n * 8);

	if (err)
		return err;
	for (unsigned i = 0; i < n; i++) {
		q[i] = 0;
		for (int j = 7; j >= 0; j--)
			q[i] = q[i] << 8 | b[i * 8 + j];
	}
	return NULL;
}

struct ish_error *ish_read_root_entry(struct ish_target *t, uint64_t rta, unsigned bus,
				      bool scalable, unsigned haw, struct ish_root_entry *ret)
{
	uint64_t q[2];
	struct ish_error *err = read_qwords(t, (rta & VTD_PAGE_MASK) + (bus & 0xff) * 16, q, 2);

	if (err)
		return err;
	ish_decode_root_entry(q, scalable, haw, ret);
	return NULL;
}

struct ish_error *ish_read_context_entry(struct ish_target *t, uint64_t ctp, unsigned devfn,
					 bool scalable, unsigned haw,
					 struct ish_context_entry *ret)
{
	uint64_t q[4] = { 0 };
	struct ish_error *err = read_qwords(t, ish_context_entry_addr(ctp, devfn, scalable), q,
					    scalable ? 4 : 2);

	if (err)
		return err;
	ish_decode_context_entry(q, scalable, haw, ret);
	return NULL;
}

struct ish_error *ish_read_pasid_dir_entry(struct ish_target *t, uint64_t dir, uint32_t pasid,
					   unsigned haw, struct ish_pasid_dir_entry *ret)
{
	uint64_t q;
	struct ish_error *err = read_qwords(t, dir + (uint64_t)((pasid >> 6) & 0x3fff) * 8, &q, 1);

	if (err)
		return err;
	ish_decode_pasid_dir_entry(q, haw, ret);
	return NULL;
}

struct ish_error *ish_read_pasid_entry(struct ish_target *t, uint64_t table, uint32_t pasid,
				       unsigned haw, struct ish_pasid_entry *ret)
{
	uint64_t q[8];
	struct ish_error *err = read_qwords(t, table + (uint64_t)(pasid & 0x3f) * 64, q, 8);

	if (err)
		return err;
	ish_decode_pasid_entry(q, haw, ret);
	return NULL;
}

/* --- names --- */

const char *ish_context_tt_name(unsigned tt)
{
	static const char *const names[] = { "multi-level", "dev-iotlb", "pass-through",
					      "??3" };

	return names[tt & 3];
}

const char *ish_pgtt_name(unsigned pgtt)
{
	static const char *const names[] = { "??0", "fl-only", "sl-only", "nested",
					     "pass-through", "??5", "??6", "??7" };

	return names[pgtt & 7];
}

/* --- field tables --- */

static const struct ish_entry_field root_fields[] = {	/* 9.1 */
	{ "P", 0, 0, false },
	{ "CTP", 63, 12, true },
	{ NULL, 0, 0, false },
};

static const struct ish_entry_field sm_root_fields[] = {	/* 9.2 */
	{ "LP", 0, 0, false },
	{ "LCTP", 63, 12, true },
	{ "UP", 64, 64, false },
	{ "UCTP", 127, 76, true },
	{ NULL, 0, 0, false },
};

static const struct ish_entry_field context_fields[] = {	/* 9.3 */
	{ "P", 0, 0, false },
	{ "FPD", 1, 1, false },
	{ "TT", 3, 2, false },
	{ "SLPTPTR", 63, 12, true },
	{ "AW", 66, 64, false },
	{ "AVAIL", 70, 67, false },
	{ "DID", 87, 72, false },
	{ NULL, 0, 0, false },
};

static const struct ish_entry_field sm_context_fields[] = {	/* 9.4 */
	{ "P", 0, 0, false },
	{ "FPD", 1, 1, false },
	{ "DTE", 2, 2, false },
	{ "PASIDE", 3, 3, false },
	{ "PRE", 4, 4, false },
	{ "PDTS", 11, 9, false },
	{ "PASIDDIRPTR", 63, 12, true },
	{ "RID_PASID", 83, 64, false },
	{ "RID_PRIV", 84, 84, false },
	{ NULL, 0, 0, false },
};

static const struct ish_entry_field pasid_dir_fields[] = {	/* 9.5 */
	{ "P", 0, 0, false },
	{ "FPD", 1, 1, false },
	{ "SMPTBLPTR", 63, 12, true },
	{ NULL, 0, 0, false },
};

static const struct ish_entry_field pasid_fields[] = {	/* 9.6 */
	{ "P", 0, 0, false },
	{ "FPD", 1, 1, false },
	{ "AW", 4, 2, false },
	{ "SLEE", 5, 5, false },
	{ "PGTT", 8, 6, false },
	{ "SLADE", 9, 9, false },
	{ "SLPTPTR", 63, 12, true },
	{ "DID", 79, 64, false },
	{ "PWSNP", 87, 87, false },
	{ "PGSNP", 88, 88, false },
	{ "CD", 89, 89, false },
	{ "EMTE", 90, 90, false },
	{ "EMT", 93, 91, false },
	{ "PWT", 94, 94, false },
	{ "PCD", 95, 95, false },
	{ "PAT", 127, 96, false },
	{ "SRE", 128, 128, false },
	{ "ERE", 129, 129, false },
	{ "FLPM", 131, 130, false },
	{ "WPE", 132, 132, false },
	{ "EAFE", 135, 135, false },
	{ "FLPTPTR", 191, 140, true },
	{ NULL, 0, 0, false },
};

static const struct ish_entry_field sl_pte_fields[] = {	/* 9.8 */
	{ "R", 0, 0, false },
	{ "W", 1, 1, false },
	{ "X", 2, 2, false },
	{ "EMT", 5, 3, false },
	{ "IPAT", 6, 6, false },
	{ "PS", 7, 7, false },
	{ "A", 8, 8, false },
	{ "D", 9, 9, false },
	{ "SNP", 11, 11, false },
	{ "ADDR", 51, 12, true },
	{ "TM", 62, 62, false },
	{ NULL, 0, 0, false },
};

static const struct ish_entry_field fl_pte_fields[] = {	/* 9.7 */
	{ "P", 0, 0, false },
	{ "RW", 1, 1, false },
	{ "US", 2, 2, false },
	{ "PWT", 3, 3, false },
	{ "PCD", 4, 4, false },
	{ "A", 5, 5, false },
	{ "D", 6, 6, false },
	{ "PS", 7, 7, false },
	{ "G", 8, 8, false },
	{ "ADDR", 51, 12, true },
	{ "XD", 63, 63, false },
	{ NULL, 0, 0, false },
};

const struct ish_entry_field *ish_entry_fields(enum ish_entry_kind kind)
{
	switch (kind) {
	case ISH_ENTRY_ROOT: return root_fields;
	case ISH_ENTRY_SM_ROOT: return sm_root_fields;
	case ISH_ENTRY_CONTEXT: return context_fields;
	case ISH_ENTRY_SM_CONTEXT: return sm_context_fields;
	case ISH_ENTRY_PASID_DIR: return pasid_dir_fields;
	case ISH_ENTRY_PASID: return pasid_fields;
	case ISH_ENTRY_SL_PTE: return sl_pte_fields;
	case ISH_ENTRY_FL_PTE: return fl_pte_fields;
	}
	return root_fields + 2;	/* an empty table */
}

unsigned ish_entry_qwords(enum ish_entry_kind kind)
{
	switch (kind) {
	case ISH_ENTRY_ROOT:
	case ISH_ENTRY_SM_ROOT:
	case ISH_ENTRY_CONTEXT:
		return 2;
	case ISH_ENTRY_SM_CONTEXT:
		return 4;
	case ISH_ENTRY_PASID:
		return 8;
	default:
		return 1;
	}
}

uint64_t ish_entry_field_get(const uint64_t *raw, const struct ish_entry_field *f)
{
	unsigned q = f->lo / 64;

	return ISH_BITS(raw[q], f->hi - q * 64, f->lo - q * 64);
}
