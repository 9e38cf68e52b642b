/* SPDX-License-Identifier: MIT */
/*
 * The architecture seam: one const struct ish_arch per IOMMU architecture
 * (modelled on drgn's drgn_architecture_info and Linux's
 * io_pgtable_init_table[]). The neutral core (target, cache, PCI
 * enumeration, the write gate, snapshots) asks the target's architecture
 * for everything whose answer depends on the hardware's design: which
 * firmware table describes the units, how units are found in it and
 * named, which registers exist and where, which unit translates a device,
 * whose a unit is, and what a snapshot
 * records about it (its name, in the snapshot's arch note). VT-d is the first instance (lib/vtd/arch.c); adding
 * an architecture is one directory plus one row of ish_arches[]
 * (HACKING.md, "How to add an architecture").
 *
 * A target has exactly one architecture, chosen at open: `-O arch=NAME`,
 * else the one whose firmware table signature matches the table the
 * backend found, else the first of ish_arches[] (a target without a
 * table: a raw image, a gdbstub, the mem fake).
 */
#ifndef IOMMUSH_ARCH_H
#define IOMMUSH_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ish_kernel;
struct ish_reg_def;
struct ish_unit_owner;

/*
 * A device as an IOMMU sees it: a PCI segment and the id the device's
 * transactions carry: a PCI requester id (bus << 8 | devfn) on VT-d and
 * AMD-Vi, an SMMUv3 StreamID (32 bits) on Arm.
 */
struct ish_devkey {
	uint16_t segment;
	uint32_t rid;		/* requester id / stream id */
};

/* How a unit was chosen for a device (ish_target_unit_for_device). */
enum ish_cover {
	ISH_COVER_NONE,
	ISH_COVER_ENDPOINT,	/* the firmware table names the device itself */
	ISH_COVER_BRIDGE,	/* ... names a bridge / bus range the device is behind */
	ISH_COVER_PCI_ALL,	/* the segment's catch-all unit (VT-d INCLUDE_PCI_ALL) */
	ISH_COVER_ONLY_UNIT,	/* the only unit of the segment (or target): the table says nothing */
};

const char *ish_cover_name(enum ish_cover how);	/* "scope", "INCLUDE_PCI_ALL", ... */

/* Callback of discover_units: one unit (index and name are the target's). */
typedef struct ish_error *ish_arch_unit_fn(void *arg, const struct ish_unit *u);

struct ish_arch {
	const char *name;		/* "vtd": -O arch=NAME, snapshots' arch note */
	const char *desc;		/* "Intel VT-d" */
	/* ACPI signature of the table that describes the units: "DMAR" (later IVRS, IORT). */
	const char *firmware_sig;
	/* Units are named snprintf(unit_name_fmt, index): "dmar%u", as Linux names them. */
	const char *unit_name_fmt;

	/*
	 * Calls fn for each unit the firmware table (len bytes) describes, in
	 * table order. A malformed table is ISH_ERROR_FORMAT naming the offset.
	 */
	struct ish_error *(*discover_units)(const void *table, size_t len, ish_arch_unit_fn *fn,
					    void *arg);
	/*
	 * Offsets of 64-bit identification registers (read-only, read by
	 * every walk: VT-d's CAP and ECAP) that the target caches per unit
	 * until the cache is dropped. Ends with ~0u; at most 4.
	 */
	const uint32_t *id_regs;

	/* The register table and its resolution (iommush/regs.h). */
	const struct ish_reg_def *(*reg_table)(size_t *n);
	/*
	 * Where register r (instance index) is for a unit with the given
	 * identification registers (id_regs' values, in that order).
	 */
	struct ish_error *(*reg_offset)(const struct ish_reg_def *r, unsigned index,
					const uint64_t *id, uint32_t *ret);

	/*
	 * Which unit translates the device; how says why (may be NULL).
	 * ISH_ERROR_NOT_FOUND when none does. The target caches the answer
	 * (ish_target_unit_for_device), so this may be slow.
	 */
	struct ish_error *(*unit_for_device)(struct ish_target *t, const struct ish_devkey *dev,
					     unsigned *ret, enum ish_cover *how);
	/*
	 * PCI buses the firmware table names that no bridge may lead to (a
	 * second host bridge): ish_pci_enumerate() scans them after bus 0's
	 * tree. Optional.
	 */
	struct ish_error *(*pci_start_buses)(struct ish_target *t, uint16_t segment,
					     void (*add)(void *arg, unsigned bus), void *arg);
	/* The text of a fault reason code (fault records, translate). Optional. */
	const char *(*fault_text)(unsigned reason, bool scalable);
	/* Who owns a unit of a live host, for the write gate (iommush/write.h). Optional. */
	struct ish_error *(*unit_owner)(struct ish_target *t, unsigned unit,
					struct ish_unit_owner *ret);
	/*
	 * Does the running system's OS drive unit, judged from what the
	 * unit's structures hold (VT-d: its invalidation queue holds another
	 * agent's descriptors)? *ret says; evidence (len bytes) says why. An
	 * error is no evidence either way. The write gate refuses writes
	 * under such an OS without --force. Optional.
	 */
	struct ish_error *(*os_driven)(struct ish_target *t, unsigned unit, bool *ret,
				       char *evidence, size_t len);
	/*
	 * A register write refused even with --force because another agent
	 * drives unit (VT-d: IQT and IQA of its queue), or NULL; tail_ok
	 * allows the one IQT write of a cooperative submission. Optional.
	 */
	struct ish_error *(*os_reg_refusal)(struct ish_target *t, unsigned unit, uint32_t offset,
					    bool tail_ok);

	/*
	 * The kernel's own copies of the units' registers (iommush/kernel.h:
	 * a dump or kcore without MMIO). kernel_open reads the kernel's units
	 * once into *ret (kernel_close frees it); kernel_units calls fn for
	 * each, named as the kernel names them (NOT_FOUND when there are
	 * none); kernel_reg answers a register of the unit at reg_base from
	 * the copies. Optional (all four or none).
	 */
	struct ish_error *(*kernel_open)(struct ish_kernel *k, void **ret);
	void (*kernel_close)(void *st);
	struct ish_error *(*kernel_units)(void *st, ish_arch_unit_fn *fn, void *arg);
	struct ish_error *(*kernel_reg)(void *st, uint64_t reg_base, uint32_t offset, unsigned width,
					uint64_t *ret);

	/*
	 * The architecture's shell command group and Lua methods. NULL for
	 * now: the shell and lua/ still call VT-d code directly.
	 */
	const void *shell_group;
	const void *lua_methods;
};

/* Every architecture, NULL-terminated; the first is the default. */
extern const struct ish_arch *const ish_arches[];
/* By name ("vtd"), or NULL. */
const struct ish_arch *ish_arch_find(const char *name);
/* By firmware table signature (4 bytes, "DMAR"), or NULL. */
const struct ish_arch *ish_arch_for_table(const void *table, size_t len);
/* "vtd" or "vtd, amdvi": the known names, for error messages. */
const char *ish_arch_names(char *buf, size_t len);

/* The target's architecture (never NULL once open). */
const struct ish_arch *ish_target_arch(const struct ish_target *t);
/*
 * For backends: the target's architecture is name (a snapshot's arch
 * note), whatever its firmware table says; -O arch=NAME still wins.
 * ISH_ERROR_FORMAT naming the known ones if this build has no such arch.
 */
struct ish_error *ish_target_set_arch(struct ish_target *t, const char *name);

/*
 * The unit that translates dev, cached on the target (dropped with the
 * page cache: a resume may have changed what the answer rests on).
 */
struct ish_error *ish_target_unit_for_device(struct ish_target *t, const struct ish_devkey *dev,
					     unsigned *ret, enum ish_cover *how);

#ifdef __cplusplus
}
#endif

#endif
