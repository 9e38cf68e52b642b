// SPDX-License-Identifier: MIT
/*
 * The VT-d units as Linux's intel-iommu driver holds them: the list
 * dmar_drhd_units of struct dmar_drhd_unit (include/linux/dmar.h), each
 * with its struct intel_iommu (drivers/iommu/intel/iommu.h), whose qi is a
 * struct q_inval and whose ir_table a struct ir_table. Every offset comes
 * from the kernel's BTF: these layouts change between kernels.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/vtd/vtd.h>

#include "kernel_internal.h"

#define MAX_UNITS 1024u

static struct ish_error *member(struct ish_kernel *k, uint64_t va, const char *type,
				const char *name, uint64_t *ret)
{
	return ish_kernel_read_member(k, va, type, name, ret);
}

static struct ish_error *read_iommu(struct ish_kernel *k, struct ish_kernel_vtd_unit *u)
{
	static const char T[] = "struct intel_iommu";
	struct ish_kernel_member nm;
	struct ish_error *err;
	uint64_t v;

	err = member(k, u->iommu_va, T, "cap", &u->cap);
	if (!err)
		err = member(k, u->iommu_va, T, "ecap", &u->ecap);
	if (!err)
		err = member(k, u->iommu_va, T, "gcmd", &v);
	if (err)
		return err;
	u->gcmd = (uint32_t)v;
	err = member(k, u->iommu_va, T, "seq_id", &v);
	if (err)
		return err;
	u->seq_id = (int)(int32_t)v;
	err = ish_kernel_member(k, T, "name", &nm);
	if (!err) {
		size_t n = nm.size < sizeof(u->name) - 1 ? nm.size : sizeof(u->name) - 1;

		err = ish_kernel_read(k, u->iommu_va + nm.offset, u->name, n);
		u->name[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if (u->name[i] && (u->name[i] < 0x20 || u->name[i] > 0x7e))
				u->name[i] = '?';
	}
	if (!err)
		err = member(k, u->iommu_va, T, "root_entry", &u->root_entry_va);
	if (!err)
		err = member(k, u->iommu_va, T, "qi", &u->qi_va);
	if (!err)
		err = member(k, u->iommu_va, T, "ir_table", &u->ir_table_va);
	if (err)
		return err;
	u->root_entry_pa = ish_kernel_pa_or_none(k, u->root_entry_va);
	if (u->qi_va) {
		static const char Q[] = "struct q_inval";
		uint64_t h, tl, c;

		err = member(k, u->qi_va, Q, "desc", &u->qi_desc_va);
		if (!err)
			err = member(k, u->qi_va, Q, "free_head", &h);
		if (!err)
			err = member(k, u->qi_va, Q, "free_tail", &tl);
		if (!err)
			err = member(k, u->qi_va, Q, "free_cnt", &c);
		if (err)
			return ish_error_prefix(err, "%s's queue", u->name);
		u->qi_free_head = (int)(int32_t)h;
		u->qi_free_tail = (int)(int32_t)tl;
		u->qi_free_cnt = (int)(int32_t)c;
		u->qi_desc_pa = ish_kernel_pa_or_none(k, u->qi_desc_va);
		u->has_qi = true;
	}
	if (u->ir_table_va) {
		err = member(k, u->ir_table_va, "struct ir_table", "base", &u->ir_table_base_va);
		if (err)
			return ish_error_prefix(err, "%s's interrupt remapping table", u->name);
		u->ir_table_base_pa = ish_kernel_pa_or_none(k, u->ir_table_base_va);
		u->has_ir_table = true;
	}
	return NULL;
}

struct ish_error *ish_kernel_vtd_units(struct ish_kernel *k, struct ish_kernel_vtd_unit **ret,
				       size_t *n)
{
	static const char D[] = "struct dmar_drhd_unit";
	struct ish_kernel_vtd_unit *units = NULL;
	struct ish_kernel_member list, next;
	uint64_t head, pos;
	size_t nu = 0;
	struct ish_error *err;

	err = ish_kernel_symbol(k, "dmar_drhd_units", &head);
	if (err)
		return ish_error_prefix(err, "no VT-d driver state (CONFIG_DMAR_TABLE off?)");
	err = ish_kernel_member(k, D, "list", &list);
	if (!err)
		err = ish_kernel_member(k, "struct list_head", "next", &next);
	if (!err)
		err = ish_kernel_read_u64(k, head + next.offset, &pos);
	if (err)
		return err;
	while (pos != head) {
		struct ish_kernel_vtd_unit *u;
		uint64_t v;

		if ((err = ish_target_check_interrupt(k->t)))
			goto fail;
		if (nu == MAX_UNITS) {
			err = ish_error_format(ISH_ERROR_LIMIT,
					       "dmar_drhd_units: more than %u units (a cycle?)", MAX_UNITS);
			goto fail;
		}
		/* A list that comes back to one of its own nodes, not the head, is a cycle. */
		for (size_t i = 0; i < nu; i++) {
			if (units[i].drhd_va + list.offset == pos) {
				err = ish_error_fault(pos, "dmar_drhd_units loops back to unit %zu", i);
				goto fail;
			}
		}
		if (pos < list.offset) {
			err = ish_error_fault(pos, "dmar_drhd_units: bad link %#" PRIx64, pos);
			goto fail;
		}
		u = realloc(units, (nu + 1) * sizeof(*units));
		if (!u) {
			err = &ish_enomem;
			goto fail;
		}
		units = u;
		u = &units[nu];
		memset(u, 0, sizeof(*u));
		u->root_entry_pa = u->qi_desc_pa = u->ir_table_base_pa = ~0ULL;
		u->drhd_va = pos - list.offset;
		nu++;
		err = member(k, u->drhd_va, D, "reg_base_addr", &u->reg_phys);
		if (!err)
			err = member(k, u->drhd_va, D, "segment", &v);
		if (!err) {
			u->segment = (uint16_t)v;
			err = member(k, u->drhd_va, D, "include_all", &v);
		}
		if (!err) {
			u->include_all = v;
			err = member(k, u->drhd_va, D, "iommu", &u->iommu_va);
		}
		if (!err && u->iommu_va)
			err = read_iommu(k, u);
		if (!err)
			err = ish_kernel_read_u64(k, pos + next.offset, &pos);
		if (err) {
			err = ish_error_prefix(err, "dmar_drhd_units entry %zu", nu - 1);
			goto fail;
		}
	}
	*ret = units;
	*n = nu;
	return NULL;
fail:
	free(units);
	return err;
}

/*
 * Where each value comes from (Linux 6.1, drivers/iommu/intel/):
 *  - CAP, ECAP: the driver's cached reads (struct intel_iommu cap/ecap).
 *  - GSTS: iommu->gcmd is the driver's copy of the enables it wrote (TE,
 *    QIE, IRE, CFI...: the GCMD bit and its GSTS status bit share a
 *    position). The one-shot commands SRTP and SIRTP are not kept there;
 *    their status bits RTPS and IRTPS stay set once a table pointer was
 *    latched, so they follow root_entry and ir_table.
 *  - RTADDR: iommu_set_root_entry() writes pa(root_entry), with
 *    DMA_RTADDR_SMT (bit 10) when sm_supported(): intel_iommu_sm and
 *    ECAP.SMTS.
 *  - IQA: __dmar_enable_qi() writes pa(qi->desc), with DW (bit 11) and
 *    QS=1 (two pages of 256-bit descriptors) when ECAP.SMTS.
 *  - IQH, IQT: qi_submit_sync() writes IQT = free_head << qi_shift()
 *    (4, or 5 with ECAP.SMTS). That is the software tail; the hardware's
 *    head equals it only once the unit has drained the queue, which a
 *    stopped kernel outside qi_submit_sync() has.
 *  - IRTA: iommu_set_irq_remapping() writes pa(ir_table->base) |
 *    IR_X2APIC_MODE(eim_mode) (EIME, bit 11) | INTR_REMAP_TABLE_REG_SIZE
 *    (0xf: 2^(15+1) entries).
 * Everything else (VER, fault recording, PMEN, ...) has no kernel copy.
 */
static bool kreg64(const struct ish_kernel_vtd_unit *u, unsigned flags, uint32_t offset,
		   uint64_t *v)
{
	bool smts = ISH_BITS(u->ecap, 43, 43);

	switch (offset) {
	case DMAR_CAP_REG:
		*v = u->cap;
		return true;
	case DMAR_ECAP_REG:
		*v = u->ecap;
		return true;
	case DMAR_RTADDR_REG:
		if (!u->root_entry_va || u->root_entry_pa == ~0ULL)
			return false;
		*v = u->root_entry_pa | ((flags & ISH_KREG_SM) && smts ? 1ULL << 10 : 0);
		return true;
	case DMAR_IQA_REG:
		if (!u->has_qi || u->qi_desc_pa == ~0ULL)
			return false;
		*v = u->qi_desc_pa | (smts ? 1ULL << 11 | 1 : 0);
		return true;
	case DMAR_IQH_REG:
	case DMAR_IQT_REG:
		if (!u->has_qi || u->qi_free_head < 0 || u->qi_free_head >= 0x10000)
			return false;
		*v = (uint64_t)u->qi_free_head << (smts ? 5 : 4);
		return true;
	case DMAR_IRTA_REG:
		if (!u->has_ir_table || u->ir_table_base_pa == ~0ULL)
			return false;
		*v = u->ir_table_base_pa | (flags & ISH_KREG_EIM ? 1ULL << 11 : 0) | 0xf;
		return true;
	}
	return false;
}

struct ish_error *ish_kernel_vtd_reg(const struct ish_kernel_vtd_unit *u, unsigned flags,
				     uint32_t offset, unsigned width, uint64_t *ret)
{
	uint64_t v;

	if (!u->iommu_va)
		return ish_error_format(ISH_ERROR_NOT_FOUND,
					"the kernel made no intel_iommu for the unit at %#" PRIx64,
					u->reg_phys);
	if (offset == DMAR_GSTS_REG && width == 32) {
		/* The enables only: WBF, SRTP and SIRTP are one-shot commands. */
		v = u->gcmd & (DMA_GSTS_TES | DMA_GSTS_AFLS | DMA_GSTS_QIES | DMA_GSTS_IRES |
			       DMA_GSTS_CFIS);
		if (u->root_entry_va)
			v |= DMA_GSTS_RTPS;
		if (u->has_ir_table)
			v |= DMA_GSTS_IRTPS;
		*ret = v;
		return NULL;
	}
	if (width == 64 && kreg64(u, flags, offset, &v)) {
		*ret = v;
		return NULL;
	}
	/* A 32-bit half of one of the 64-bit registers above. */
	if (width == 32 && kreg64(u, flags, offset & ~7u, &v)) {
		*ret = offset & 4 ? v >> 32 : (uint32_t)v;
		return NULL;
	}
	return ish_error_format(ISH_ERROR_NOT_FOUND,
				"register offset %#x has no copy in the kernel's state", offset);
}

static bool int_var(struct ish_kernel *k, const char *name)
{
	uint64_t va;
	int32_t v = 0;
	struct ish_error *err = ish_kernel_symbol(k, name, &va);

	if (!err)
		err = ish_kernel_read(k, va, &v, sizeof(v));
	ish_error_destroy(err);
	return !err && v;
}

unsigned ish_kernel_vtd_reg_flags(struct ish_kernel *k)
{
	return (int_var(k, "intel_iommu_sm") ? ISH_KREG_SM : 0) |
	       (int_var(k, "eim_mode") ? ISH_KREG_EIM : 0);
}
