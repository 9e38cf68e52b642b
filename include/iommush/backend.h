/* SPDX-License-Identifier: MIT */
/*
 * The backend-provider API, for backends only (backends/, and the target
 * layer in lib/ that calls them). Consumers open and read targets through
 * iommush/target.h and never see these hooks.
 */
#ifndef IOMMUSH_BACKEND_H
#define IOMMUSH_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
	/* Reads are cheap (memory, mmap): do not cache them. */
	ISH_BACKEND_NOCACHE = 1u << 0,
	/*
	 * Reaches the running host this process runs on: writes are confirmed,
	 * refused on units the kernel's driver owns, and logged (iommush/write.h).
	 */
	ISH_BACKEND_LIVE = 1u << 1,
	/*
	 * When open() finds no units, look for the kernel in memory and take
	 * its dmar_drhd_units (dumps, kcore): ish_target_kernel_units().
	 */
	ISH_BACKEND_KERNEL_UNITS = 1u << 2,
};

/*
 * A backend: one const table of hooks plus private data hung off the target
 * (ish_target_priv). A NULL write hook means the backend is read-only.
 * Adding a backend: one file with one such table, and its row in
 * backends/registry.c (the probe order).
 */
struct ish_backend {
	const char *name;
	const char *help;			/* one line */
	const struct ish_param_def *params;	/* ends with {NULL} */
	unsigned flags;
	/* Does spec (the TARGET argument) name something this backend opens? */
	bool (*detect)(const char *spec);
	/* Fill units (ish_target_add_unit) and the DMAR table if known. */
	struct ish_error *(*open)(struct ish_target *t, const char *spec);
	void (*close)(struct ish_target *t);
	struct ish_error *(*read_phys)(struct ish_target *t, uint64_t addr, void *buf, size_t len);
	struct ish_error *(*write_phys)(struct ish_target *t, uint64_t addr, const void *buf,
					size_t len);
	/* width is 32 or 64; offset is from the unit's register base. */
	struct ish_error *(*read_reg)(struct ish_target *t, const struct ish_unit *u, uint32_t offset,
				      unsigned width, uint64_t *ret);
	struct ish_error *(*write_reg)(struct ish_target *t, const struct ish_unit *u,
				       uint32_t offset, unsigned width, uint64_t value);
	/* Optional: stop/resume a running system (gdbstub). */
	struct ish_error *(*stop)(struct ish_target *t);
	struct ish_error *(*resume)(struct ish_target *t);
	/* Optional: PCI config space (ECAM, libpci). */
	struct ish_error *(*read_config)(struct ish_target *t, uint16_t segment, uint16_t bdf,
					 uint32_t offset, unsigned width, uint32_t *ret);
	/*
	 * Optional: every PCI function the system knows, one call each (libpci on
	 * live hosts). Without it, ish_pci_enumerate() scans config space.
	 */
	struct ish_error *(*pci_functions)(struct ish_target *t, ish_pci_ident_fn *fn, void *arg);
	/*
	 * Optional: why this target cannot write registers (reg) or memory
	 * (!reg) although the hook exists or is missing for a reason worth
	 * saying ("debugfs shows the driver's state, never changes it"); NULL
	 * if it can. Asked before a write is confirmed; the write hooks refuse
	 * the same way.
	 */
	const char *(*write_refusal)(struct ish_target *t, bool reg);
	/*
	 * Optional: the text (desc) of the kernel's VMCOREINFO ELF note when the
	 * target carries one (an ELF core's PT_NOTE, /proc/kcore's); *ret is
	 * malloc'd and NUL-terminated, *where names it ("ELF note").
	 * ISH_ERROR_NOT_FOUND when the target has none.
	 */
	struct ish_error *(*vmcoreinfo)(struct ish_target *t, char **ret, size_t *len,
					const char **where);
	/*
	 * Optional: the target's RAM as sorted, disjoint ranges; *ret is
	 * malloc'd (free() it). Used to bound scans of memory.
	 */
	struct ish_error *(*ram_ranges)(struct ish_target *t, struct ish_ram_range **ret, size_t *n);
	/*
	 * Optional: len bytes at each of n addresses into out (n * len), as a
	 * scan wants them (the gdbstub keeps requests in flight); ok[i] false
	 * where the address cannot be read. Without it, one read each.
	 */
	struct ish_error *(*read_phys_scatter)(struct ish_target *t, const uint64_t *addrs, size_t n,
					       size_t len, uint8_t *out, bool *ok);
	/*
	 * Optional: what the backend can say about the open target
	 * (ish_target_describe): sentences and counts, one call of fn each.
	 */
	void (*describe)(struct ish_target *t, ish_describe_fn *fn, void *arg);
};

/* The target's private data (the backend's, set at open). */
void *ish_target_priv(const struct ish_target *t);
void ish_target_set_priv(struct ish_target *t, void *priv);
/* Adds a unit (index and, if empty, name are assigned); ret may be NULL. */
struct ish_error *ish_target_add_unit(struct ish_target *t, const struct ish_unit *unit,
				      unsigned *ret);
/* Copies the table. */
struct ish_error *ish_target_set_dmar(struct ish_target *t, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif
