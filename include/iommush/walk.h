/* SPDX-License-Identifier: MIT */
/*
 * Page-table walks, address translation, mappings, devices and reverse
 * lookup (Intel VT-d 5.0: 3.6-3.8 first-level, second-level and nested
 * translation; 9.7 first-level and 9.8 second-level paging entries; 7.1
 * fault conditions). Fault reason codes are ISH_FR_* from fault.h.
 *
 * Everything reads through ish_read_phys() and ish_read_reg(). Table pages
 * are read whole (4 KiB) by the streaming walkers. Walks are bounded: a
 * table page revisited on the current path (a cycle), a pointer outside
 * memory or reserved bits are reported as findings and the walk goes on;
 * the target parameters walk.max_pages and walk.max_mappings stop a walk
 * with ISH_ERROR_LIMIT, and the interrupt flag with ISH_ERROR_INTERRUPTED.
 */
#ifndef IOMMUSH_WALK_H
#define IOMMUSH_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include <iommush/vtd/context.h>
#include <iommush/error.h>
#include <iommush/vtd/fault.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- the unit's translation state (11.4.4 GSTS, 11.4.5 RTADDR) --- */

enum ish_ttm {
	ISH_TTM_LEGACY = 0,
	ISH_TTM_SCALABLE = 1,
	ISH_TTM_RESERVED = 2,
	ISH_TTM_ABORT_DMA = 3,	/* abort-DMA mode: every request is blocked */
};

struct ish_unit_state {
	unsigned unit;
	uint64_t cap, ecap, rtaddr;
	uint32_t gsts;
	enum ish_ttm ttm;	/* RTADDR.TTM */
	bool scalable;		/* ttm == ISH_TTM_SCALABLE */
	bool te;		/* GSTS.TES: translation enabled */
	uint64_t rta;		/* root table address */
	unsigned mgaw;		/* CAP.MGAW + 1 */
};

/* Reads CAP, ECAP, GSTS and RTADDR of unit. */
struct ish_error *ish_unit_state_read(struct ish_target *t, unsigned unit,
				      struct ish_unit_state *ret);

/*
 * The unit that translates segment:bdf: a DRHD whose device scope names
 * the device (endpoint, or a bridge whose bus range holds it when PCI
 * config space is readable), else the INCLUDE_PCI_ALL unit of the segment,
 * else the only unit of the segment (or of the target).
 */
struct ish_error *ish_unit_for_device(struct ish_target *t, uint16_t segment, uint16_t bdf,
				      unsigned *ret);

/* --- paging entries (9.7, 9.8) --- */

/* What the unit and the PASID entry allow; fills the reserved-bit checks. */
struct ish_walk_caps {
	unsigned haw;		/* address bits allowed in entries (MGAW, at most 52) */
	unsigned mgaw;		/* CAP.MGAW + 1: input addresses must be below 2^mgaw */
	unsigned sllps;		/* CAP.SLLPS: bit 0 = 2 MiB, bit 1 = 1 GiB second-level */
	bool fl1gp;		/* CAP.FL1GP: 1 GiB first-level pages */
	bool snp;		/* SL bit 11 is SNP (scalable mode or ECAP.SC), else reserved */
	bool slee;		/* SL execute enable (PASID entry SLEE) */
};

/* Fills caps from the unit state (slee false). */
void ish_walk_caps_init(const struct ish_unit_state *us, struct ish_walk_caps *ret);

struct ish_pte {
	uint64_t raw;
	unsigned level;		/* 1 = PTE .. 5 = PML5E */
	bool present;		/* FL: P; SL: R or W (or X with SLEE) */
	bool leaf;		/* level 1, or PS=1 at level 2/3 */
	uint64_t addr;		/* next table, or the page frame of a leaf */
	uint64_t page_size;	/* of a leaf */
	uint64_t rsvd;		/* reserved bits that are set (incl. PS where not allowed) */
	bool r, w, x;		/* FL: r = P, w = RW, x = !XD */
	bool us;		/* FL U/S; SL: true */
	/* attributes */
	unsigned emt;		/* SL EMT */
	bool ipat, snp, tm;	/* SL */
	bool pwt, pcd, g, pat;	/* FL */
	bool a, d;
};

void ish_decode_sl_pte(uint64_t raw, unsigned level, const struct ish_walk_caps *caps,
		       struct ish_pte *ret);
void ish_decode_fl_pte(uint64_t raw, unsigned level, const struct ish_walk_caps *caps,
		       struct ish_pte *ret);

/* --- what a device's tables say (root -> context -> PASID) --- */

enum ish_xlate_mode {
	ISH_XLATE_SL,		/* second-level only (legacy TT 0/1, PGTT 2) */
	ISH_XLATE_FL,		/* first-level only (PGTT 1) */
	ISH_XLATE_NESTED,	/* PGTT 3 */
	ISH_XLATE_PT,		/* pass-through (TT 2, PGTT 4) */
};

struct ish_xlate_tables {
	unsigned unit;
	uint16_t bdf;
	uint32_t pasid;		/* the PASID whose entry was used, ISH_PASID_NONE in legacy */
	bool scalable;
	enum ish_xlate_mode mode;
	uint16_t did;
	uint64_t sl_root;	/* second-level table (SL, nested) */
	unsigned sl_levels;	/* 3, 4, 5 */
	uint64_t fl_root;	/* first-level table (FL, nested) */
	unsigned fl_levels;	/* 4, 5 */
	bool sre, ere;		/* scalable: supervisor / execute requests allowed */
	struct ish_walk_caps caps;
};

/* --- one translation --- */

enum ish_step_kind {
	ISH_STEP_ROOT,
	ISH_STEP_CONTEXT,
	ISH_STEP_PASID_DIR,
	ISH_STEP_PASID,
	ISH_STEP_SL_PTE,
	ISH_STEP_FL_PTE,
};

const char *ish_step_kind_name(enum ish_step_kind kind);	/* "root", "sl-pte", ... */

struct ish_step {
	enum ish_step_kind kind;
	unsigned level;		/* page-table level, 0 for root/context/PASID steps */
	uint64_t table;		/* table base address */
	unsigned index;		/* entry index in the table */
	uint64_t entry_addr;	/* where the entry was (or would be) read */
	unsigned nraw;		/* qwords in raw; 0 if the entry could not be read */
	uint64_t raw[8];
	bool nested;		/* an SL step translating a first-level table address */
};

/* root + context + PASID dir + PASID + 5 nested FL levels x (5 SL + 1) + 5 SL */
#define ISH_MAX_STEPS 48

/* Access flags for ish_translate(). A request without WRITE is a read. */
enum {
	ISH_ACCESS_WRITE = 1u << 0,
	ISH_ACCESS_EXEC = 1u << 1,	/* execute request (needs a PASID) */
	ISH_ACCESS_PRIV = 1u << 2,	/* supervisor request (needs a PASID) */
};

struct ish_translation {
	/* the outcome: exactly one of faulted / translated */
	bool faulted;
	unsigned reason;	/* ISH_FR_* when faulted */
	int fault_step;		/* index into steps of the failing step, -1 if none */
	uint64_t fault_addr;	/* the address the fault record would carry (the IOVA) */
	bool unreadable;	/* the fault is an access error: memory not readable here */
	uint64_t unreadable_addr;
	bool fpd;		/* fault processing disabled: the fault would not be recorded */

	uint64_t hpa;
	uint64_t page_size;
	bool read, write, exec;	/* effective permissions of the page */
	bool user;		/* FL U/S (true for SL) */
	unsigned emt;		/* SL memory type of the leaf */
	bool ipat, snp;

	/* how it got there */
	bool translation_disabled;	/* GSTS.TES=0: DMA is not remapped at all */
	bool blocked;		/* abort-DMA mode: blocked, no fault recorded */
	bool pass_through;	/* TT=2 / PGTT=4 */
	bool scalable;
	struct ish_xlate_tables tables;	/* valid once the context/PASID steps passed */
	bool have_tables;
	/* the decoded entries, once read */
	bool have_re, have_ce, have_pde, have_pe;
	struct ish_root_entry re;
	struct ish_context_entry ce;
	struct ish_pasid_dir_entry pde;
	struct ish_pasid_entry pe;
	unsigned nsteps;
	struct ish_step steps[ISH_MAX_STEPS];
};

/*
 * Translate iova for device bdf (and pasid, or ISH_PASID_NONE) on unit
 * (a negative unit: ish_unit_for_device() with segment 0). The answer is
 * either the HPA or the fault the hardware would record, with every step.
 * Unreadable table memory is a fault (the access-error code), marked
 * unreadable. Errors are for what cannot be computed: a register that
 * cannot be read, a backend failure, bad arguments.
 */
struct ish_error *ish_translate(struct ish_target *t, int unit, uint16_t bdf, uint32_t pasid,
				uint64_t iova, unsigned access, struct ish_translation *ret);

/*
 * The front half of ish_translate(): root, context, PASID entries. On
 * success either ret->faulted (the steps say where) or ret->have_tables.
 * us may be NULL (it is read).
 */
struct ish_error *ish_resolve_tables(struct ish_target *t, const struct ish_unit_state *us,
				     uint16_t bdf, uint32_t pasid, unsigned access,
				     struct ish_translation *ret);

/* The back half: walk tables for one address, appending steps to ret. */
struct ish_error *ish_walk_address(struct ish_target *t, const struct ish_xlate_tables *tables,
				   uint64_t iova, unsigned access, struct ish_translation *ret);

/* --- streaming every leaf --- */

struct ish_mapping {
	uint64_t iova;		/* FL: canonical (sign-extended) */
	uint64_t hpa;
	uint64_t size;		/* of the coalesced range */
	uint64_t page_size;	/* of each page in it */
	bool read, write, exec, user;
	unsigned emt;
	bool ipat, snp, pwt, pcd, g, tm;
	bool pass_through;	/* identity mapping: the whole input range */
};

enum ish_finding_kind {
	ISH_FINDING_CYCLE,	/* a table page revisited on the current path */
	ISH_FINDING_OUTSIDE,	/* a pointer to memory that cannot be read */
	ISH_FINDING_RESERVED,	/* reserved bits set in a present entry */
	ISH_FINDING_INVALID,	/* an entry that cannot be used (bad PGTT, AW, ...) */
	ISH_FINDING_FAULT,	/* nested: a first-level table whose address faults */
};

const char *ish_finding_kind_name(enum ish_finding_kind kind);

struct ish_finding {
	enum ish_finding_kind kind;
	enum ish_step_kind where;	/* which kind of table */
	unsigned level;
	uint64_t iova;		/* first input address the entry covers */
	uint64_t table;		/* table base */
	unsigned index;
	uint64_t addr;		/* the address that cannot be read / was revisited */
	uint64_t raw;		/* the entry */
	uint64_t bits;		/* reserved bits set */
	unsigned unit;
	uint16_t bdf;
	uint32_t pasid;
	const char *text;	/* static */
};

/* A non-NULL return stops the walk and is returned by it. */
typedef struct ish_error *ish_mapping_fn(void *arg, const struct ish_mapping *m);
typedef struct ish_error *ish_finding_fn(void *arg, const struct ish_finding *f);

struct ish_walk_stats {
	uint64_t pages;		/* table pages read */
	uint64_t leaves;	/* leaf entries seen */
	uint64_t mappings;	/* coalesced ranges reported */
	uint64_t findings;
};

/*
 * Stream every mapping of tables within [lo, hi] (inclusive), coalescing
 * adjacent leaves with contiguous HPA and identical attributes. Nested
 * tables report IOVA -> HPA (the first-level output goes through the second
 * level). Pass-through reports one identity range [lo, hi]. stats may be NULL.
 */
struct ish_error *ish_walk_mappings(struct ish_target *t, const struct ish_xlate_tables *tables,
				    uint64_t lo, uint64_t hi, ish_mapping_fn *fn,
				    ish_finding_fn *finding, void *arg,
				    struct ish_walk_stats *stats);

/*
 * Resolve unit/bdf/pasid (pasid ISH_PASID_NONE: legacy, or RID_PASID in
 * scalable mode) and stream its mappings. If the tables cannot be resolved
 * (the resolution faults), *fault (if not NULL) receives the translation
 * with the fault and nothing is streamed: that is not an error.
 */
struct ish_error *ish_mappings(struct ish_target *t, int unit, uint16_t bdf, uint32_t pasid,
			       uint64_t lo, uint64_t hi, ish_mapping_fn *fn,
			       ish_finding_fn *finding, void *arg, struct ish_translation *fault,
			       struct ish_walk_stats *stats);

/* --- devices --- */

struct ish_device {
	unsigned unit;
	uint16_t segment;
	uint16_t bdf;
	bool scalable;
	struct ish_context_entry ce;
	/* legacy: from the context entry; scalable: from the RID_PASID entry */
	bool have_tables;	/* the translation for requests without PASID resolved */
	struct ish_xlate_tables tables;
	bool have_rid_pasid_entry;
	struct ish_pasid_entry pe;	/* the RID_PASID entry */
	uint32_t npasids;	/* scalable: present PASID entries found (0 if not counted) */
};

typedef struct ish_error *ish_device_fn(void *arg, const struct ish_device *d);

/*
 * Every BDF with a present context entry, unit by unit, bus by bus.
 * Root/context tables that cannot be read are findings. count_pasids walks
 * the PASID directory of scalable-mode devices to count present entries.
 */
struct ish_error *ish_devices(struct ish_target *t, bool count_pasids, ish_device_fn *fn,
			      ish_finding_fn *finding, void *arg);

/*
 * Every present PASID of a scalable-mode device: fn gets the PASID and its
 * entry. Bounded by the directory size and walk.max_pages.
 */
typedef struct ish_error *ish_pasid_fn(void *arg, uint32_t pasid,
				       const struct ish_pasid_entry *pe);
struct ish_error *ish_device_pasids(struct ish_target *t, const struct ish_unit_state *us,
				    const struct ish_context_entry *ce, ish_pasid_fn *fn,
				    ish_finding_fn *finding, void *arg);

/* --- reverse lookup --- */

struct ish_who_maps {
	unsigned unit;
	uint16_t bdf;
	uint32_t pasid;		/* ISH_PASID_NONE for legacy */
	uint64_t iova;		/* the IOVA reaching the address */
	struct ish_mapping m;	/* the range it is in */
};

typedef struct ish_error *ish_who_maps_fn(void *arg, const struct ish_who_maps *w);

/* Every (device, PASID, IOVA) that reaches hpa, across all units. */
struct ish_error *ish_who_maps(struct ish_target *t, uint64_t hpa, ish_who_maps_fn *fn,
			       ish_finding_fn *finding, void *arg);

#ifdef __cplusplus
}
#endif

#endif
