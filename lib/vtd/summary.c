// SPDX-License-Identifier: MIT
/*
 * The per-function context summary of `pci` (struct ish_pci_context,
 * iommush/pci.h): each function's unit by its DMAR scopes
 * (lib/vtd/scope.c) and its context entry (lib/vtd/translate.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/pci.h>
#include <iommush/vtd/scope.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

/* --- a function's context entry --- */

struct ish_error *ish_pci_context(struct ish_target *t, const struct ish_unit_scopes *s,
				  uint16_t segment, uint16_t bdf, struct ish_pci_context *ret)
{
	struct ish_translation *tr;
	struct ish_unit_state us;
	struct ish_error *err;

	memset(ret, 0, sizeof(*ret));
	err = ish_unit_scopes_lookup(t, s, segment, bdf, &ret->unit, &ret->how);
	if (err) {
		snprintf(ret->why, sizeof(ret->why), "%s", err->message);
		ish_error_destroy(err);
		return NULL;
	}
	ret->have_unit = true;
	err = ish_unit_state_read(t, ret->unit, &us);
	if (err && !ish_error_fatal(err)) {
		/* One unit's registers (not in a dump, say) do not hide the others. */
		snprintf(ret->why, sizeof(ret->why), "%s", err->message);
		ish_error_destroy(err);
		return NULL;
	}
	if (err)
		return err;
	ret->scalable = us.scalable;
	if (us.ttm != ISH_TTM_LEGACY && us.ttm != ISH_TTM_SCALABLE) {
		snprintf(ret->why, sizeof(ret->why), "%s is in %s mode",
			 ish_target_unit(t, ret->unit)->name,
			 us.ttm == ISH_TTM_ABORT_DMA ? "abort-DMA" : "a reserved");
		return NULL;
	}
	tr = malloc(sizeof(*tr));
	if (!tr)
		return &ish_enomem;
	err = ish_resolve_tables(t, &us, bdf, ISH_PASID_NONE, 0, tr);
	if (!err && tr->have_ce) {
		ret->read = true;
		ret->present = tr->ce.present;
		if (ret->present && !us.scalable)
			ret->type = ish_context_tt_name(tr->ce.tt);
		else if (ret->present && tr->have_pe)
			ret->type = ish_pgtt_name(tr->pe.pgtt);
		if (tr->have_tables) {
			ret->have_did = true;
			ret->did = tr->tables.did;
		}
	} else if (!err) {
		if (tr->unreadable)
			snprintf(ret->why, sizeof(ret->why), "tables not readable at %#llx",
				 (unsigned long long)tr->unreadable_addr);
		else
			snprintf(ret->why, sizeof(ret->why), "no context table (root entry not present)");
	}
	free(tr);
	return err;
}

struct ish_error *ish_pci_each(struct ish_target *t, ish_pci_func_fn *fn, void *arg,
			       struct ish_pci **ret)
{
	struct ish_unit_scopes *scopes;
	struct ish_error *err;
	struct ish_pci *p;

	*ret = NULL;
	err = ish_pci_enumerate(t, &p);
	if (err)
		return err;
	*ret = p;
	err = ish_unit_scopes_create(t, &scopes);
	if (err)
		return err;
	for (size_t i = 0; i < p->n && !err; i++) {
		struct ish_pci_context c;

		err = ish_pci_context(t, scopes, p->funcs[i].segment, p->funcs[i].bdf, &c);
		if (!err)
			err = fn(arg, &p->funcs[i], &c);
	}
	ish_unit_scopes_destroy(scopes);
	return err;
}
