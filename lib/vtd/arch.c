// SPDX-License-Identifier: MIT
/*
 * Intel VT-d as an instance of the architecture seam (iommush/arch.h): the
 * DMAR table's DRHDs are the units, CAP and ECAP identify them, the
 * register table is lib/regs.c's, device scopes choose a device's unit.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/arch.h>
#include <iommush/kernel.h>
#include <iommush/regs.h>
#include <iommush/vtd/dmar.h>
#include <iommush/vtd/fault.h>
#include <iommush/vtd/invalidate.h>
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

static struct ish_error *vtd_os_reg_refusal(struct ish_target *t, unsigned unit, uint32_t offset,
					    bool tail_ok)
{
	struct ish_queue_owner o;
	struct ish_error *err;

	if (offset != DMAR_IQT_REG && offset != DMAR_IQA_REG)
		return NULL;
	if (tail_ok && offset == DMAR_IQT_REG)
		return NULL;
	err = ish_queue_owner(t, unit, &o);
	if (err) {
		ish_error_destroy(err);
		return NULL;
	}
	if (o.agent != ISH_QUEUE_OS)
		return NULL;
	return ish_error_format(ISH_ERROR_REFUSED,
				"%s of %s is refused, even with --force: another agent drives its "
				"invalidation queue (%s), and moving %s under it leaves that agent's "
				"software tail behind, so its next invalidation is lost or hangs; "
				"use 'invalidate' (with --force it submits cooperatively)",
				offset == DMAR_IQT_REG ? "writing IQT" : "writing IQA",
				ish_target_unit(t, unit)->name, o.evidence,
				offset == DMAR_IQT_REG ? "the tail" : "the queue");
}

/* An OS drives the unit when its queue holds another agent's descriptors. */
static struct ish_error *vtd_os_driven(struct ish_target *t, unsigned unit, bool *ret,
				       char *evidence, size_t len)
{
	struct ish_queue_owner o;
	struct ish_error *err = ish_queue_owner(t, unit, &o);

	if (err)
		return err;
	*ret = o.agent == ISH_QUEUE_OS;
	snprintf(evidence, len, "%s", o.evidence);
	return NULL;
}

/* The kernel's dmar_drhd_units and the flags that say how to read its copies. */
struct vtd_kernel {
	struct ish_kernel_vtd_unit *units;
	size_t n;
	unsigned flags;
};

static struct ish_error *vtd_kernel_open(struct ish_kernel *k, void **ret)
{
	struct vtd_kernel *st = calloc(1, sizeof(*st));
	struct ish_error *err;

	if (!st)
		return &ish_enomem;
	err = ish_kernel_vtd_units(k, &st->units, &st->n);
	if (err) {
		free(st);
		return err;
	}
	st->flags = ish_kernel_vtd_reg_flags(k);
	*ret = st;
	return NULL;
}

static void vtd_kernel_close(void *arg)
{
	struct vtd_kernel *st = arg;

	if (!st)
		return;
	free(st->units);
	free(st);
}

static struct ish_error *vtd_kernel_units(void *arg, ish_arch_unit_fn *fn, void *fnarg)
{
	struct vtd_kernel *st = arg;

	for (size_t i = 0; i < st->n; i++) {
		const struct ish_kernel_vtd_unit *ku = &st->units[i];
		struct ish_unit u = {
			.segment = ku->segment,
			.arch_flags = ku->include_all ? ISH_DRHD_INCLUDE_PCI_ALL : 0,
			.reg_base = ku->reg_phys,
		};
		struct ish_error *err;

		memcpy(u.name, ku->name, sizeof(u.name));
		u.name[sizeof(u.name) - 1] = '\0';
		err = fn(fnarg, &u);
		if (err)
			return err;
	}
	if (!st->n)
		return ish_error_create(ISH_ERROR_NOT_FOUND, "dmar_drhd_units is empty");
	return NULL;
}

static struct ish_error *vtd_kernel_reg(void *arg, uint64_t reg_base, uint32_t offset,
					unsigned width, uint64_t *ret)
{
	struct vtd_kernel *st = arg;

	for (size_t i = 0; i < st->n; i++)
		if (st->units[i].reg_phys == reg_base)
			return ish_kernel_vtd_reg(&st->units[i], st->flags, offset, width, ret);
	return ish_error_format(ISH_ERROR_NOT_FOUND, "dmar_drhd_units has no unit at %#" PRIx64,
				reg_base);
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
	.os_driven = vtd_os_driven,
	.os_reg_refusal = vtd_os_reg_refusal,
	.kernel_open = vtd_kernel_open,
	.kernel_close = vtd_kernel_close,
	.kernel_units = vtd_kernel_units,
	.kernel_reg = vtd_kernel_reg,
	/* The shell's dmar/irte/iq/faults/invalidate and lua/ call VT-d code directly for now. */
	.shell_group = NULL,
	.lua_methods = NULL,
};
