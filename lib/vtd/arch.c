// SPDX-License-Identifier: MIT
/*
 * Intel VT-d as an instance of the architecture seam (iommush/arch.h): the
 * DMAR table's DRHDs are the units, CAP and ECAP identify them, the
 * register table is lib/regs.c's, device scopes choose a device's unit.
 */
#include <stdlib.h>

#include <iommush/arch.h>
#include <iommush/regs.h>
#include <iommush/vtd/dmar.h>
#include <iommush/vtd/fault.h>
#include <iommush/vtd/scope.h>
#include <iommush/vtd/vtd.h>
#include <iommush/write.h>

/* CAP and ECAP, in the order reg_offset gets them. */
static const uint32_t vtd_id_regs[] = { DMAR_CAP_REG, DMAR_ECAP_REG, ~0u };

static struct ish_error *vtd_reg_offset(const struct ish_reg_def *r, unsigned index,
					const uint64_t *id, uint32_t *ret)
{
	return ish_reg_offset(r, index, id[0], id[1], ret);
}

static struct ish_error *vtd_unit_for_device(struct ish_target *t, const struct ish_devkey *dev,
					     unsigned *ret, enum ish_cover *how)
{
	struct ish_unit_scopes *s;
	struct ish_error *err;

	if (dev->rid > 0xffff)
		return ish_error_format(ISH_ERROR_INVALID,
					"%#x is not a PCI requester id (VT-d has 16-bit source ids)",
					dev->rid);
	err = ish_unit_scopes_create(t, &s);
	if (err)
		return err;
	err = ish_unit_scopes_lookup(t, s, dev->segment, (uint16_t)dev->rid, ret, how);
	ish_unit_scopes_destroy(s);
	return err;
}

static struct ish_error *vtd_pci_start_buses(struct ish_target *t, uint16_t segment,
					     void (*add)(void *arg, unsigned bus), void *arg)
{
	size_t len;
	const void *tbl = ish_target_dmar(t, &len);
	struct ish_dmar *d;
	struct ish_error *err;

	if (!tbl)
		return NULL;
	err = ish_dmar_parse(tbl, len, &d);
	if (err)
		return err;
	for (size_t i = 0; i < d->nstructs; i++) {
		const struct ish_dmar_struct *s = &d->structs[i];

		for (size_t j = 0; s->segment == segment && j < s->nscopes; j++)
			if (s->scopes[j].type == ISH_DMAR_SCOPE_PCI_ENDPOINT ||
			    s->scopes[j].type == ISH_DMAR_SCOPE_PCI_BRIDGE)
				add(arg, s->scopes[j].bus);
	}
	ish_dmar_destroy(d);
	return NULL;
}

const struct ish_arch ish_arch_vtd = {
	.name = "vtd",
	.desc = "Intel VT-d",
	.firmware_sig = "DMAR",
	.unit_name_fmt = "dmar%u",
	.discover_units = ish_dmar_units,
	.id_regs = vtd_id_regs,
	.reg_table = ish_reg_table,
	.reg_offset = vtd_reg_offset,
	.unit_for_device = vtd_unit_for_device,
	.pci_start_buses = vtd_pci_start_buses,
	.fault_text = ish_fault_reason_text,
	.unit_owner = ish_unit_owner,
	/* The shell's dmar/irte/iq/faults/invalidate and lua/ call VT-d code directly for now. */
	.shell_group = NULL,
	.lua_methods = NULL,
};
