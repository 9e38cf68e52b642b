/* SPDX-License-Identifier: MIT */
/*
 * Targets, for their consumers (the shell, Lua, tools). A target is one
 * opened system (dump, live host, QEMU guest). Every decoder sees only
 * ish_read_phys() and ish_read_reg(); the target layer puts a page-granular
 * cache in front of slow backends and drops it on any write and on resume.
 * Backends themselves are written against iommush/backend.h.
 */
#ifndef IOMMUSH_TARGET_H
#define IOMMUSH_TARGET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ish_target;

/* One DMA-remapping hardware unit (a DRHD). */
struct ish_unit {
	unsigned index;		/* position in the target, 0.. */
	char name[16];		/* "dmar0", as Linux names them */
	uint16_t segment;	/* PCI segment */
	uint8_t drhd_flags;	/* ACPI DRHD flags (bit 0: INCLUDE_PCI_ALL) */
	uint8_t size_pages;	/* register block size from DRHD, 0 = unknown */
	uint64_t reg_base;	/* physical address of the register block */
};

/* One PCI function as the system reports it (pci_functions hook). */
struct ish_pci_ident {
	uint16_t segment;
	uint16_t bdf;
	uint16_t vendor, device;
	uint32_t class;		/* 24 bits: base class, subclass, programming interface */
};

typedef struct ish_error *ish_pci_ident_fn(void *arg, const struct ish_pci_ident *id);

/* A range of RAM, [start, end) (ram_ranges hook). */
struct ish_ram_range {
	uint64_t start, end;
};

/* A named backend parameter: "dump.regs", "gdbstub.timeout", ... */
struct ish_param_def {
	const char *name;
	const char *def;	/* default value, NULL = unset */
	const char *help;
};

struct ish_param {
	const char *name;
	const char *value;
};

/* A backend (iommush/backend.h); consumers see it through the calls below. */
struct ish_backend;

/* The ordered backend registry, NULL-terminated; the order is the probe order. */
extern const struct ish_backend *const ish_backends[];
const struct ish_backend *ish_backend_find(const char *name);
/* The first backend in the registry whose detect() claims spec, or NULL. */
const struct ish_backend *ish_backend_probe(const char *spec);
const char *ish_backend_name(const struct ish_backend *b);
const char *ish_backend_help(const struct ish_backend *b);	/* one line */
/* Its -O parameters, ending with { NULL }; NULL when it has none. */
const struct ish_param_def *ish_backend_params(const struct ish_backend *b);
/* It has no write hook at all. */
bool ish_backend_read_only(const struct ish_backend *b);
/* It can stop and resume the system behind it (ish_target_stop). */
bool ish_backend_can_stop(const struct ish_backend *b);
/* Its reads are cheap (memory, mmap): nothing is cached, no progress is worth showing. */
bool ish_backend_cheap(const struct ish_backend *b);

enum {
	ISH_OPEN_WRITE = 1u << 0,	/* allow writes to the target */
	/* Write even to units the kernel's driver owns (iommush/write.h). */
	ISH_OPEN_FORCE = 1u << 1,
	/* Do not confirm writes to a live host. */
	ISH_OPEN_YES = 1u << 2,
};

/*
 * Open spec with backend (NULL: the first registered backend whose detect()
 * claims spec). params are "-O key=val" settings; unknown keys are an error.
 */
struct ish_error *ish_target_open(const char *spec, const char *backend,
				  const struct ish_param *params, size_t nparams, unsigned flags,
				  struct ish_target **ret);
void ish_target_close(struct ish_target *t);

const struct ish_backend *ish_target_backend(const struct ish_target *t);
const char *ish_target_spec(const struct ish_target *t);
/* The value of a parameter, its default, or NULL. */
const char *ish_target_param(const struct ish_target *t, const char *name);
/* Parse a parameter as an unsigned number (0x.. allowed); def if unset. */
struct ish_error *ish_target_param_u64(const struct ish_target *t, const char *name, uint64_t def,
				       uint64_t *ret);
bool ish_target_writable(const struct ish_target *t);
/* The ISH_OPEN_* flags the target was opened with (ISH_OPEN_WRITE as now). */
unsigned ish_target_flags(const struct ish_target *t);
void ish_target_set_writable(struct ish_target *t, bool on);

unsigned ish_target_nunits(const struct ish_target *t);
const struct ish_unit *ish_target_unit(const struct ish_target *t, unsigned index);
/* By name ("dmar0") or index ("0"). */
const struct ish_unit *ish_target_unit_by_name(const struct ish_target *t, const char *name);
/*
 * The kernel's copies as a register source (lib/kernel_vtd.c). When a
 * backend has no register (ISH_ERROR_NOT_FOUND or ISH_ERROR_UNSUPPORTED:
 * a dump without dump.regs, kcore where devmem refuses MMIO) and the
 * kernel is in memory (ish_target_kernel), ish_read_reg() answers with the
 * kernel's copy for the unit whose register base is the same; units that
 * came from the kernel read only those copies.
 *
 * ish_target_kernel_units() adds a unit for each of the kernel's
 * dmar_drhd_units to a target that has none (ish_target_open does so for
 * ISH_BACKEND_KERNEL_UNITS backends); ISH_ERROR_NOT_FOUND when the kernel
 * or its units are not found, which is then not remembered.
 */
struct ish_error *ish_target_kernel_units(struct ish_target *t);
/* The units are the kernel's dmar_drhd_units (not a DMAR table's, not the backend's). */
bool ish_target_units_from_kernel(const struct ish_target *t);
/*
 * Where the last read of unit's register at offset came from: "kernel"
 * (the kernel's copy) or "hardware" (the backend: MMIO, a gdbstub, a
 * register file captured from the unit).
 */
const char *ish_target_reg_source(const struct ish_target *t, unsigned unit, uint32_t offset);
/* The raw ACPI DMAR table, or NULL if the target has none. */
const void *ish_target_dmar(const struct ish_target *t, size_t *len);

/* Physical memory and registers, through the cache. */
struct ish_error *ish_read_phys(struct ish_target *t, uint64_t addr, void *buf, size_t len);
struct ish_error *ish_read_u64(struct ish_target *t, uint64_t addr, uint64_t *ret);
/*
 * Exactly len bytes from the backend, around the cache (not filled, not
 * consulted): for scans that look at a few bytes of many pages, where a
 * whole-page read would cost a 4 KiB transfer per probe and flush the cache.
 * Not recorded (ish_target_record_start): read what you keep with ish_read_phys.
 */
struct ish_error *ish_read_phys_uncached(struct ish_target *t, uint64_t addr, void *buf,
					 size_t len);
/*
 * len bytes at each of n addresses, uncached and unrecorded like
 * ish_read_phys_uncached, through the backend's read_phys_scatter when it
 * has one; ok[i] false (and zeros) where the address is not readable
 * (ISH_ERROR_FAULT). Other errors end the call.
 */
struct ish_error *ish_read_phys_scatter(struct ish_target *t, const uint64_t *addrs, size_t n,
					size_t len, uint8_t *out, bool *ok);
/*
 * Writes pass the gate of iommush/write.h (write mode, unit ownership,
 * confirmation) and are logged.
 */
struct ish_error *ish_write_phys(struct ish_target *t, uint64_t addr, const void *buf, size_t len);
struct ish_error *ish_read_reg(struct ish_target *t, unsigned unit, uint32_t offset, unsigned width,
			       uint64_t *ret);
struct ish_error *ish_write_reg(struct ish_target *t, unsigned unit, uint32_t offset,
				unsigned width, uint64_t value);
struct ish_error *ish_read_config(struct ish_target *t, uint16_t segment, uint16_t bdf,
				  uint32_t offset, unsigned width, uint32_t *ret);
/* ISH_ERROR_UNSUPPORTED when the backend cannot list functions (scan instead). */
struct ish_error *ish_pci_functions(struct ish_target *t, ish_pci_ident_fn *fn, void *arg);
/* The backend's hooks of the same names; ISH_ERROR_UNSUPPORTED without them. */
struct ish_error *ish_target_vmcoreinfo(struct ish_target *t, char **ret, size_t *len,
					const char **where);
struct ish_error *ish_target_ram_ranges(struct ish_target *t, struct ish_ram_range **ret,
					size_t *n);
struct ish_error *ish_target_stop(struct ish_target *t);
struct ish_error *ish_target_resume(struct ish_target *t);
/*
 * What the backend says about this target beyond reads and registers, one
 * item a call: a sentence (text set: "devmem: registers and RAM", which
 * backend `live` chose and why) or a count (text NULL: the debugfs
 * backend's files parsed, entries placed, ...). Keys are lower-case words
 * with underscores, fit for JSON. Calls nothing for a backend with nothing
 * to say. A text is the target's and lasts while it is open.
 */
struct ish_describe_item {
	const char *key;
	const char *text;	/* NULL: a count */
	uint64_t count;
};
typedef void ish_describe_fn(void *arg, const struct ish_describe_item *item);
void ish_target_describe(struct ish_target *t, ish_describe_fn *fn, void *arg);

/* Forgets cached pages and the cached CAP/ECAP of every unit. */
void ish_target_cache_drop(struct ish_target *t);

/* Request counters, for benchmarks and `show stats`. */
struct ish_target_stats {
	uint64_t phys_requests;	/* calls into the backend's read_phys */
	uint64_t phys_bytes;
	uint64_t reg_requests;
	uint64_t cache_hits;
	uint64_t cache_misses;
};
void ish_target_stats(const struct ish_target *t, struct ish_target_stats *ret);

/*
 * Interruption: long walks poll this flag (set from a SIGINT handler) and
 * stop with ISH_ERROR_INTERRUPTED. Progress is reported on cache misses.
 */
void ish_target_set_interrupt(struct ish_target *t, volatile sig_atomic_t *flag);
bool ish_target_interrupted(const struct ish_target *t);
/* Returns an ISH_ERROR_INTERRUPTED error if the flag is set, else NULL. */
struct ish_error *ish_target_check_interrupt(const struct ish_target *t);
typedef void ish_progress_fn(void *arg, uint64_t requests);
void ish_target_set_progress(struct ish_target *t, ish_progress_fn *fn, void *arg);

/*
 * Recording, for snapshots: while on, every 4 KiB page that ish_read_phys()
 * reads successfully is remembered. Stop returns the pages, sorted, as a
 * malloc'd array the caller frees.
 */
struct ish_error *ish_target_record_start(struct ish_target *t);
struct ish_error *ish_target_record_stop(struct ish_target *t, uint64_t **ret, size_t *nret);

#ifdef __cplusplus
}
#endif

#endif
