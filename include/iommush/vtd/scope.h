/* SPDX-License-Identifier: MIT */
/*
 * DMAR device scopes (VT-d 5.0 8.3.1) resolved through PCI config space:
 * which DRHD translates a function. lib/vtd/scope.c; the VT-d
 * architecture's unit_for_device (iommush/arch.h) is built on it.
 * Errors that stop everything are out of memory, interrupted, timeout and
 * protocol; anything else is said in the results.
 */
#ifndef IOMMUSH_VTD_SCOPE_H
#define IOMMUSH_VTD_SCOPE_H

#include <stdbool.h>
#include <stdint.h>

#include <iommush/arch.h>
#include <iommush/error.h>
#include <iommush/pci.h>
#include <iommush/target.h>
#include <iommush/vtd/dmar.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What one device scope resolves to. */
struct ish_scope_bdf {
	bool resolved;		/* bdf is what the path names */
	uint16_t bdf;
	bool has_range;		/* a PCI sub-hierarchy whose bus range is known */
	uint8_t secondary, subordinate;
	char why[112];		/* if !resolved, or a sub-hierarchy without range */
};

/*
 * Follows the path of a PCI endpoint or sub-hierarchy scope of segment
 * through config space. Anything that keeps it from resolving (a hop that is
 * not a bridge or cannot be read, a device or function number out of range,
 * a secondary bus not above the bridge's own) is put in ret->why, not
 * returned; errors are only those that stop everything (see above).
 */
struct ish_error *ish_dmar_scope_resolve(struct ish_target *t, uint16_t segment,
					 const struct ish_dmar_scope *scope,
					 struct ish_scope_bdf *ret);

/*
 * The DRHD device scopes of a target, resolved once. Built from the
 * target's DMAR table through ish_dmar_parse(); a table that does not parse
 * gives no scopes (units are then chosen by INCLUDE_PCI_ALL or as the only
 * unit), never an error.
 */
struct ish_unit_scopes;
struct ish_error *ish_unit_scopes_create(struct ish_target *t, struct ish_unit_scopes **ret);
void ish_unit_scopes_destroy(struct ish_unit_scopes *s);
/*
 * The unit covering segment:bdf, in ish_unit_for_device()'s order (walk.h);
 * ISH_ERROR_NOT_FOUND if none does.
 */
struct ish_error *ish_unit_scopes_lookup(struct ish_target *t, const struct ish_unit_scopes *s,
					 uint16_t segment, uint16_t bdf, unsigned *ret,
					 enum ish_cover *how);

/* The context summary of one function (struct ish_pci_context, iommush/pci.h). */
struct ish_error *ish_pci_context(struct ish_target *t, const struct ish_unit_scopes *s,
				  uint16_t segment, uint16_t bdf, struct ish_pci_context *ret);

#ifdef __cplusplus
}
#endif

#endif
