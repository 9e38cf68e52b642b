// SPDX-License-Identifier: MIT
/*
 * Interrupt remapping table entries, posted-interrupt descriptors, and the
 * remapping of one MSI write. Every read goes through ish_read_phys(), so a
 * table that runs past memory is an error at the first missing entry, never
 * a crash.
 */
#include <string.h>

#include <iommush/vtd/fault.h>
#include <iommush/vtd/irte.h>
#include <iommush/vtd/vtd.h>

void ish_irta_decode(uint64_t irta, struct ish_irta *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->raw = irta;
	ret->addr = irta & ISH_GENMASK(63, 12);
	ret->eime = irta & VTD_IRTA_EIME;
	ret->s = (unsigned)(irta & VTD_IRTA_SIZE_MASK);
	ret->entries = 1u << (ret->s + 1);
	ret->rsvd = irta & ISH_GENMASK(10, 4);
}

static const char *const dlm_names[8] = {
	"fixed", "lowest", "smi", "rsvd3", "nmi", "init", "rsvd6", "extint",
};

const char *ish_irte_dlm_name(unsigned dlm)
{
	return dlm < 8 ? dlm_names[dlm] : "??";
}

const char *ish_irte_sq_name(unsigned sq)
{
	static const char *const names[4] = {
		"all-bits", "ignore-bit3", "ignore-bits3:2", "ignore-bits3:1",
	};
	return sq < 4 ? names[sq] : "??";
}

const char *ish_irte_svt_name(unsigned svt)
{
	static const char *const names[4] = { "none", "requester-id", "bus-range", "reserved" };

	return svt < 4 ? names[svt] : "??";
}

/* 9.10 (remapped) and 9.11 (posted). */
void ish_irte_decode(uint64_t lo, uint64_t hi, bool x2apic, bool posted_ok,
		     struct ish_irte *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->lo = lo;
	ret->hi = hi;
	ret->present = ISH_BIT(lo, 0);
	ret->fpd = ISH_BIT(lo, 1);
	ret->avail = (unsigned)ISH_BITS(lo, 11, 8);
	ret->posted = ISH_BIT(lo, 15);
	ret->vector = (uint8_t)ISH_BITS(lo, 23, 16);
	ret->sid = (uint16_t)ISH_BITS(hi, 15, 0);
	ret->sq = (unsigned)ISH_BITS(hi, 17, 16);
	ret->svt = (unsigned)ISH_BITS(hi, 19, 18);
	if (ret->svt == ISH_SVT_RSVD)
		ret->rsvd_hi |= hi & ISH_GENMASK(19, 18);

	if (ret->posted && !posted_ok) {
		/* IM is reserved on hardware without posted interrupts. */
		ret->rsvd_lo |= 1ULL << 15;
		ret->posted = false;
	}
	if (ret->posted) {
		ret->urgent = ISH_BIT(lo, 14);
		ret->pda = (ISH_BITS(hi, 63, 32) << 32) | (ISH_BITS(lo, 63, 38) << 6);
		ret->rsvd_lo |= lo & (ISH_GENMASK(7, 2) | ISH_GENMASK(13, 12) | ISH_GENMASK(37, 24));
		ret->rsvd_hi |= hi & ISH_GENMASK(31, 20);
		return;
	}
	ret->dm = ISH_BIT(lo, 2);
	ret->rh = ISH_BIT(lo, 3);
	ret->tm = ISH_BIT(lo, 4);
	ret->dlm = (unsigned)ISH_BITS(lo, 7, 5);
	ret->dst_raw = (uint32_t)ISH_BITS(lo, 63, 32);
	ret->rsvd_lo |= lo & (ISH_GENMASK(14, 12) | ISH_GENMASK(31, 24));
	ret->rsvd_hi |= hi & ISH_GENMASK(63, 20);
	if (x2apic) {
		ret->dest = ret->dst_raw;
	} else {
		/* xAPIC: an 8-bit APIC id in DST 15:8; the rest is reserved. */
		ret->dest = (uint32_t)ISH_BITS(lo, 47, 40);
		ret->rsvd_lo |= lo & (ISH_GENMASK(39, 32) | ISH_GENMASK(63, 48));
	}
}

void ish_pid_decode(const uint64_t raw[8], bool x2apic, struct ish_pid *ret)
{
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->raw, raw, sizeof(ret->raw));
	for (int i = 0; i < 4; i++) {
		ret->pir[i] = raw[i];
		ret->npending += (unsigned)__builtin_popcountll(raw[i]);
	}
	ret->on = ISH_BIT(raw[4], 0);
	ret->sn = ISH_BIT(raw[4], 1);
	ret->nv = (uint8_t)ISH_BITS(raw[4], 23, 16);
	ret->ndst = (uint32_t)ISH_BITS(raw[4], 63, 32);
	ret->rsvd[4] = raw[4] & (ISH_GENMASK(15, 2) | ISH_GENMASK(31, 24));
	if (x2apic) {
		ret->dest = ret->ndst;
	} else {
		ret->dest = (uint32_t)ISH_BITS(raw[4], 47, 40);
		ret->rsvd[4] |= raw[4] & (ISH_GENMASK(39, 32) | ISH_GENMASK(63, 48));
	}
	for (int i = 5; i < 8; i++)
		ret->rsvd[i] = raw[i];
}

struct ish_error *ish_pid_read(struct ish_target *t, uint64_t pda, bool x2apic,
			       struct ish_pid *ret)
{
	uint64_t raw[8];
	struct ish_error *err;

	if (pda & (ISH_PID_SIZE - 1))
		return ish_error_format(ISH_ERROR_INVALID,
					"posted descriptor address %#llx is not 64-byte aligned",
					(unsigned long long)pda);
	for (int i = 0; i < 8; i++) {
		err = ish_read_u64(t, pda + 8 * (uint64_t)i, &raw[i]);
		if (err)
			return ish_error_prefix(err, "posted descriptor at %#llx",
						(unsigned long long)pda);
	}
	ish_pid_decode(raw, x2apic, ret);
	return NULL;
}

struct ish_error *ish_ir_state_read(struct ish_target *t, unsigned unit, struct ish_ir_state *ret)
{
	struct ish_error *err;
	uint64_t v;

	memset(ret, 0, sizeof(*ret));
	err = ish_read_reg(t, unit, DMAR_CAP_REG, 64, &ret->cap);
	if (!err)
		err = ish_read_reg(t, unit, DMAR_ECAP_REG, 64, &ret->ecap);
	if (err)
		return err;
	err = ish_read_reg(t, unit, DMAR_IRTA_REG, 64, &v);
	if (err)
		return ish_error_prefix(err, "IRTA");
	ish_irta_decode(v, &ret->irta);
	err = ish_read_reg(t, unit, DMAR_GSTS_REG, 32, &v);
	if (!err) {
		ret->gsts = (uint32_t)v;
		ret->have_gsts = true;
		ret->ires = v & DMA_GSTS_IRES;
		ret->irtps = v & DMA_GSTS_IRTPS;
		ret->cfis = v & DMA_GSTS_CFIS;
	}
	ish_error_destroy(err);
	return NULL;
}

struct ish_error *ish_irte_read(struct ish_target *t, const struct ish_ir_state *ir,
				uint32_t index, struct ish_irte *ret)
{
	uint64_t addr = ir->irta.addr + (uint64_t)index * ISH_IRTE_SIZE;
	uint64_t lo, hi;
	struct ish_error *err;

	if (index >= ir->irta.entries)
		return ish_error_format(ISH_ERROR_INVALID,
					"IRTE %u is beyond the table (%u entries)", index,
					ir->irta.entries);
	err = ish_read_u64(t, addr, &lo);
	if (!err)
		err = ish_read_u64(t, addr + 8, &hi);
	if (err)
		return ish_error_prefix(err, "IRTE %u at %#llx", index, (unsigned long long)addr);
	ish_irte_decode(lo, hi, ir->irta.eime, ISH_CAP_PI(ir->cap), ret);
	ret->index = index;
	return NULL;
}

/* 9.10 SID/SQ/SVT: does requester sid pass the entry's source validation? */
static bool sid_ok(const struct ish_irte *e, uint16_t sid)
{
	static const uint16_t sq_mask[4] = { 0xffff, 0xfff7, 0xfff3, 0xfff1 };

	switch (e->svt) {
	case ISH_SVT_NONE:
		return true;
	case ISH_SVT_ALL:
		return (sid & sq_mask[e->sq & 3]) == (e->sid & sq_mask[e->sq & 3]);
	case ISH_SVT_BUS: {
		unsigned bus = ISH_BDF_BUS(sid);

		/* SID 15:8 is the first bus, 7:0 the last. */
		return bus >= (unsigned)(e->sid >> 8) && bus <= (unsigned)(e->sid & 0xff);
	}
	default:
		return false;	/* reserved: caught as a reserved-bit fault first */
	}
}

static void compat_decode(struct ish_msi_remap *r)
{
	r->dest = (uint32_t)ISH_BITS(r->addr, 19, 12);
	r->rh = ISH_BIT(r->addr, 3);
	r->dm = ISH_BIT(r->addr, 2);
	r->vector = (uint8_t)ISH_BITS(r->data, 7, 0);
	r->dlm = (unsigned)ISH_BITS(r->data, 10, 8);
	r->tm = ISH_BIT(r->data, 15);
}

/* Faults the IRTE's FPD can suppress (the "qualified" ones). */
static bool fpd_qualified(unsigned fr)
{
	return fr == ISH_FR_IR_ENTRY_P || fr == ISH_FR_IR_IRTE_RSVD || fr == ISH_FR_IR_SID_ERR ||
	       fr == ISH_FR_IR_PID_ACCESS;
}

static void set_fault(struct ish_msi_remap *r, unsigned fr)
{
	r->fault = fr;
	r->fault_recorded = !(r->have_irte && r->irte.fpd && fpd_qualified(fr));
}

struct ish_error *ish_msi_remap(struct ish_target *t, const struct ish_ir_state *ir,
				uint64_t addr, uint32_t data, uint16_t sid,
				struct ish_msi_remap *ret)
{
	struct ish_error *err;

	memset(ret, 0, sizeof(*ret));
	ret->addr = addr;
	ret->data = data;
	ret->sid = sid;
	if ((addr & ~0xfffffULL) != ISH_MSI_ADDR_BASE)
		return ish_error_format(ISH_ERROR_INVALID,
					"%#llx is not an interrupt address (0xfeexxxxx)",
					(unsigned long long)addr);
	ret->remappable = ISH_BIT(addr, 4);
	ret->shv = ISH_BIT(addr, 3);
	ret->handle = (uint32_t)(ISH_BIT(addr, 2) << 15 | ISH_BITS(addr, 19, 5));
	if (ret->shv)
		ret->subhandle = data & 0xffff;
	ret->index = ret->handle + ret->subhandle;

	if (!ir->ires) {
		ret->passthrough = true;
		compat_decode(ret);
		return NULL;
	}
	if (!ret->remappable) {
		/* 5.1.2.1: allowed only with CFIS set and EIME clear. */
		if (ir->irta.eime || !ir->cfis) {
			set_fault(ret, ISH_FR_IR_REQ_COMPAT);
			return NULL;
		}
		ret->passthrough = true;
		compat_decode(ret);
		return NULL;
	}
	if (data & 0xffff0000u) {
		set_fault(ret, ISH_FR_IR_REQ_RSVD);
		return NULL;
	}
	if (ret->index >= ir->irta.entries) {
		set_fault(ret, ISH_FR_IR_INDEX_OVER);
		return NULL;
	}
	err = ish_irte_read(t, ir, ret->index, &ret->irte);
	if (err) {
		ish_error_destroy(err);
		set_fault(ret, ISH_FR_IR_ROOT_INVAL);
		return NULL;
	}
	ret->have_irte = true;
	if (!ret->irte.present) {
		set_fault(ret, ISH_FR_IR_ENTRY_P);
		return NULL;
	}
	if (ret->irte.rsvd_lo || ret->irte.rsvd_hi) {
		set_fault(ret, ISH_FR_IR_IRTE_RSVD);
		return NULL;
	}
	if (!sid_ok(&ret->irte, sid)) {
		set_fault(ret, ISH_FR_IR_SID_ERR);
		return NULL;
	}
	ret->vector = ret->irte.vector;
	if (ret->irte.posted) {
		err = ish_pid_read(t, ret->irte.pda, ir->irta.eime, &ret->pid);
		if (err) {
			ish_error_destroy(err);
			set_fault(ret, ISH_FR_IR_PID_ACCESS);
			return NULL;
		}
		ret->have_pid = true;
		/* The CPU is notified through NV/NDST; the vector goes into PIR. */
		ret->dest = ret->pid.dest;
		return NULL;
	}
	ret->dest = ret->irte.dest;
	ret->dm = ret->irte.dm;
	ret->rh = ret->irte.rh;
	ret->tm = ret->irte.tm;
	ret->dlm = ret->irte.dlm;
	return NULL;
}
