/* SPDX-License-Identifier: MIT */
/*
 * The ACPI DMAR table (VT-d spec chapter 8; ACPICA actbl1.h acpi_dmar_*).
 * OWNER: regs/dmar slice. The target layer relies on ish_dmar_units() only.
 */
#ifndef IOMMUSH_DMAR_H
#define IOMMUSH_DMAR_H

#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

/*
 * Calls fn once per DRHD structure, in table order, with segment, flags,
 * size and register base filled (index and name are left for the caller).
 * A malformed table is ISH_ERROR_FORMAT naming the offset.
 */
struct ish_error *ish_dmar_units(const void *buf, size_t len,
				 struct ish_error *(*fn)(void *arg, const struct ish_unit *u),
				 void *arg);

#endif
