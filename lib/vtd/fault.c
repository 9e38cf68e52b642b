// SPDX-License-Identifier: MIT
/*
 * Fault reason texts and fault recording registers. The reason table is data:
 * one row per code, sorted, so the printer, JSON and tests share it.
 */
#include <stdlib.h>
#include <string.h>

#include <iommush/vtd/fault.h>
#include <iommush/vtd/vtd.h>

struct reason_row {
	uint8_t code;
	const char *text;
};

/* VT-d Appendix A, legacy mode. */
static const struct reason_row legacy_reasons[] = {
	{ ISH_FR_RESERVED, "Reserved (no fault reason)" },
	{ ISH_FR_ROOT_ENTRY_P, "Root entry not present (P clear)" },
	{ ISH_FR_CONTEXT_ENTRY_P, "Context entry not present (P clear)" },
	{ ISH_FR_CONTEXT_ENTRY_INV, "Context entry programmed invalidly" },
	{ ISH_FR_ADDR_BEYOND_MGAW, "Input address above the guest address width (MGAW/AW)" },
	{ ISH_FR_WRITE, "Write to a page without write permission" },
	{ ISH_FR_READ, "Read from a page without read permission" },
	{ ISH_FR_PAGING_ENTRY_INV, "Could not access a second-level paging entry" },
	{ ISH_FR_ROOT_TABLE_INV, "Could not access the root table (RTADDR)" },
	{ ISH_FR_CONTEXT_TABLE_INV, "Could not access the context table" },
	{ ISH_FR_ROOT_ENTRY_RSVD, "Reserved bits set in a present root entry" },
	{ ISH_FR_CONTEXT_ENTRY_RSVD, "Reserved bits set in a present context entry" },
	{ ISH_FR_PAGING_ENTRY_RSVD, "Reserved bits set in a present second-level paging entry" },
	{ ISH_FR_CONTEXT_ENTRY_TT, "Request blocked by the context entry's translation type" },
	{ ISH_FR_INTERRUPT_ADDR, "Translated address falls in the interrupt range (0xfeexxxxx)" },
};

/* VT-d 5.1.4.1 / Appendix A, interrupt remapping. */
static const struct reason_row ir_reasons[] = {
	{ ISH_FR_IR_REQ_RSVD, "Reserved bits set in a remappable interrupt request" },
	{ ISH_FR_IR_INDEX_OVER, "Interrupt index beyond the interrupt remapping table size" },
	{ ISH_FR_IR_ENTRY_P, "IRTE not present (P clear)" },
	{ ISH_FR_IR_ROOT_INVAL, "Could not access the interrupt remapping table (IRTA)" },
	{ ISH_FR_IR_IRTE_RSVD, "Reserved bits set in a present IRTE" },
	{ ISH_FR_IR_REQ_COMPAT, "Compatibility-format interrupt blocked (EIME set or CFIS clear)" },
	{ ISH_FR_IR_SID_ERR, "Interrupt blocked: source-id does not match the IRTE (SID/SQ/SVT)" },
	{ ISH_FR_IR_PID_ACCESS, "Could not access the posted-interrupt descriptor" },
};

/* VT-d Appendix A, scalable mode. */
static const struct reason_row sm_reasons[] = {
	{ ISH_FR_SM_RTADDR_INV, "SM: root table address invalid" },
	{ ISH_FR_RTADDR_INV_TTM, "SM: request with PASID while RTADDR.TTM is legacy (0)" },
	{ ISH_FR_SM_TTM_PGREQ, "SM: page group request while RTADDR.TTM is legacy (0)" },
	{ ISH_FR_SM_ROOT_ACCESS_ERR, "SM: could not access the root entry" },
	{ ISH_FR_SM_ROOT_ENTRY_P, "SM: root entry not present (P clear)" },
	{ ISH_FR_SM_ROOT_ENTRY_RSVD, "SM: reserved bits set in the root entry" },
	{ ISH_FR_SM_CONTEXT_ACCESS_ERR, "SM: could not access the context entry" },
	{ ISH_FR_SM_CONTEXT_ENTRY_P, "SM: context entry not present (P clear)" },
	{ ISH_FR_SM_CONTEXT_ENTRY_RSVD, "SM: reserved bits set in the context entry" },
	{ ISH_FR_SM_CONTEXT_ENTRY_INV, "SM: context entry programmed invalidly" },
	{ ISH_FR_SM_DTE_CLEAR, "SM: translated request but context DTE clear" },
	{ ISH_FR_SM_PASIDE_CLEAR, "SM: request with PASID but context PASIDE clear" },
	{ ISH_FR_SM_PASID_TOO_BIG, "SM: PASID beyond the context entry's PASID directory size" },
	{ ISH_FR_SM_PRE_ABS, "SM: page request but context PRE clear" },
	{ ISH_FR_SM_RID_PASID_ERR, "SM: RID_PASID field of the context entry in error" },
	{ ISH_FR_PASID_DIR_ACCESS_ERR, "SM: could not access the PASID directory entry" },
	{ ISH_FR_PASID_DIR_ENTRY_P, "SM: PASID directory entry not present (P clear)" },
	{ ISH_FR_PASID_DIR_ENTRY_RSVD, "SM: reserved bits set in the PASID directory entry" },
	{ ISH_FR_PASID_TABLE_ACCESS_ERR, "SM: could not access the PASID table entry" },
	{ ISH_FR_PASID_ENTRY_P, "SM: PASID table entry not present (P clear)" },
	{ ISH_FR_PASID_ENTRY_RSVD, "SM: reserved bits set in the PASID table entry" },
	{ ISH_FR_PASID_TABLE_ENTRY_INV, "SM: PASID table entry programmed invalidly (PGTT)" },
	{ ISH_FR_PASID_ENTRY_ERE_CLEAR, "SM: execute request but PASID entry ERE clear" },
	{ ISH_FR_PASID_ENTRY_SRE_CLEAR, "SM: supervisor request but PASID entry SRE clear" },
	{ ISH_FR_FS_PAGING_ENTRY_INV, "SM: could not access a first-stage paging entry" },
	{ ISH_FR_FS_PAGING_ENTRY_P, "SM: first-stage paging entry not present (P clear)" },
	{ ISH_FR_FS_PAGING_ENTRY_RSVD, "SM: reserved bits set in a first-stage paging entry" },
	{ ISH_FR_PASID_ENTRY_FSPTPTR_INV, "SM: could not access the first-stage root (FSPTPTR)" },
	{ ISH_FR_NESTED_FS_BEYOND_MGAW, "SM: nested: first-stage table address beyond MGAW" },
	{ ISH_FR_NESTED_FSPTPTR_READ, "SM: nested: no read permission for the first-stage root" },
	{ ISH_FR_NESTED_FS_READ, "SM: nested: no read permission for a first-stage table" },
	{ ISH_FR_NESTED_FS_WRITE, "SM: nested: no write permission to update a first-stage entry" },
	{ ISH_FR_SS_PAGING_ENTRY_INV, "SM: could not access a second-stage paging entry" },
	{ ISH_FR_SS_PAGING_ENTRY_RW, "SM: second-stage paging entry lacks read and write" },
	{ ISH_FR_SS_PAGING_ENTRY_RSVD, "SM: reserved bits set in a second-stage paging entry" },
	{ ISH_FR_SS_PTPTR_INV, "SM: second-stage table pointer invalid" },
	{ ISH_FR_SS_AD_NOSNOOP, "SM: second-stage A/D update needed for a no-snoop request" },
	{ ISH_FR_FS_NON_CANONICAL, "SM: address not canonical for first-stage translation" },
	{ ISH_FR_FS_PAGING_ENTRY_US, "SM: user request to a first-stage supervisor page (U/S clear)" },
	{ ISH_FR_SM_EXECUTE, "SM: execute request without execute permission" },
	{ ISH_FR_SM_ADDR_BEYOND_HAW, "SM: address beyond the hardware's address width" },
	{ ISH_FR_SS_ADDR_BEYOND_MAX, "SM: second-stage output address beyond the maximum" },
	{ ISH_FR_SM_WRITE, "SM: write or AtomicOp without write permission" },
	{ ISH_FR_SM_READ, "SM: read or AtomicOp without read permission" },
	{ ISH_FR_SM_INTERRUPT_ADDR, "SM: translated address falls in the interrupt range" },
	{ ISH_FR_FS_AD_NOSNOOP, "SM: first-stage A/D update needed for a no-snoop request" },
	{ ISH_FR_FS_BIT_UPDATE_FAILED, "SM: first-stage A/D bit update failed" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *find(const struct reason_row *rows, size_t n, unsigned code)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].code == code)
			return rows[i].text;
	return NULL;
}

enum ish_fault_kind ish_fault_reason_kind(unsigned reason)
{
	if (reason != ISH_FR_RESERVED && find(legacy_reasons, N(legacy_reasons), reason))
		return ISH_FAULT_KIND_LEGACY;
	if (find(ir_reasons, N(ir_reasons), reason))
		return ISH_FAULT_KIND_IR;
	if (find(sm_reasons, N(sm_reasons), reason))
		return ISH_FAULT_KIND_SCALABLE;
	return ISH_FAULT_KIND_UNKNOWN;
}

bool ish_fault_reason_in_mode(unsigned reason, bool scalable)
{
	switch (ish_fault_reason_kind(reason)) {
	case ISH_FAULT_KIND_IR:
		return true;
	case ISH_FAULT_KIND_LEGACY:
		return !scalable;
	case ISH_FAULT_KIND_SCALABLE:
		return scalable;
	default:
		return false;
	}
}

const char *ish_fault_reason_text(unsigned reason, bool scalable)
{
	const char *s = find(ir_reasons, N(ir_reasons), reason);

	if (s)
		return s;
	/* The mode's own table first; codes do not overlap, so this only orders. */
	if (scalable) {
		s = find(sm_reasons, N(sm_reasons), reason);
		if (!s)
			s = find(legacy_reasons, N(legacy_reasons), reason);
	} else {
		s = find(legacy_reasons, N(legacy_reasons), reason);
		if (!s)
			s = find(sm_reasons, N(sm_reasons), reason);
	}
	return s ? s : "Unknown fault reason";
}

const char *ish_fault_type_name(enum ish_fault_type type)
{
	switch (type) {
	case ISH_FAULT_WRITE:
		return "write";
	case ISH_FAULT_READ:
		return "read";
	case ISH_FAULT_PAGE_REQ:
		return "page-request";
	default:
		return "reserved";
	}
}

/* FRCD_REG, 11.4.14; positions below are within the high qword (bit - 64). */
void ish_fault_decode_record(uint64_t lo, uint64_t hi, bool scalable,
			     struct ish_fault_record *ret)
{
	unsigned t1 = (unsigned)ISH_BIT(hi, 62), t2 = (unsigned)ISH_BIT(hi, 28);

	memset(ret, 0, sizeof(*ret));
	ret->lo = lo;
	ret->hi = hi;
	ret->valid = ISH_BIT(hi, 63);
	ret->type = (enum ish_fault_type)(t2 << 1 | t1);
	ret->at = (unsigned)ISH_BITS(hi, 61, 60);
	ret->pasid = (uint32_t)ISH_BITS(hi, 59, 40);
	ret->reason = (uint8_t)ISH_BITS(hi, 39, 32);
	ret->pasid_present = ISH_BIT(hi, 31);
	ret->exe = ISH_BIT(hi, 30);
	ret->priv = ISH_BIT(hi, 29);
	ret->sid = (uint16_t)ISH_BITS(hi, 15, 0);
	ret->addr = lo & ISH_GENMASK(63, 12);
	ret->irq = ish_fault_reason_kind(ret->reason) == ISH_FAULT_KIND_IR;
	if (ret->irq)
		ret->irq_index = (unsigned)ISH_BITS(lo, 63, 48);
	ret->text = ish_fault_reason_text(ret->reason, scalable);
}

struct ish_error *ish_faults_read(struct ish_target *t, unsigned unit, struct ish_faults **ret)
{
	struct ish_faults *f;
	struct ish_error *err;
	uint64_t cap, v;

	err = ish_read_reg(t, unit, DMAR_CAP_REG, 64, &cap);
	if (err)
		return ish_error_prefix(err, "CAP");
	err = ish_read_reg(t, unit, DMAR_FSTS_REG, 32, &v);
	if (err)
		return ish_error_prefix(err, "FSTS");
	f = calloc(1, sizeof(*f));
	if (!f)
		return &ish_enomem;
	f->fsts = (uint32_t)v;
	f->fri = dma_fsts_fault_record_index(v);
	/* FECTL and RTADDR only refine the report; a dump may lack them. */
	err = ish_read_reg(t, unit, DMAR_FECTL_REG, 32, &v);
	if (!err) {
		f->fectl = (uint32_t)v;
		f->have_fectl = true;
	}
	ish_error_destroy(err);
	err = ish_read_reg(t, unit, DMAR_RTADDR_REG, 64, &v);
	if (!err)
		f->scalable = DMA_RTADDR_TTM(v) == DMA_RTADDR_SMT;
	ish_error_destroy(err);

	f->fro = cap_fault_reg_offset(cap);
	f->nfr = cap_num_fault_regs(cap);	/* 1..256 by construction */
	for (unsigned i = 0; i < f->nfr; i++) {
		uint32_t off = f->fro + i * 16;
		uint64_t lo, hi;

		err = ish_read_reg(t, unit, off, 64, &lo);
		if (!err)
			err = ish_read_reg(t, unit, off + 8, 64, &hi);
		if (err) {
			ish_error_destroy(err);
			f->nunreadable++;
			f->rec[i].index = i;
			continue;
		}
		ish_fault_decode_record(lo, hi, f->scalable, &f->rec[i]);
		f->rec[i].index = i;
		f->readable[i] = true;
		if (f->rec[i].valid)
			f->nvalid++;
	}
	*ret = f;
	return NULL;
}

void ish_faults_destroy(struct ish_faults *f)
{
	free(f);
}
