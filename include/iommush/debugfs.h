/* SPDX-License-Identifier: MIT */
/*
 * What the live-host backends (backends/debugfs.c, devmem.c, kcore.c,
 * live.c) can tell beyond ish_read_phys() and ish_read_reg().
 *
 * The debugfs backend rebuilds a sparse physical image from the text of
 * Linux's /sys/kernel/debug/iommu/intel/ files (drivers/iommu/intel/debugfs.c).
 * Which entries land where, and what the kernel never shows:
 *
 *  - dmar_translation_struct: each root entry at RTA + bus * 16, each present
 *    context entry in its context table (legacy: CTP + devfn * 16; scalable:
 *    the lower or upper table + (devfn & 0x7f) * 32, bits 255:128 reserved
 *    and rebuilt as zero), each present PASID entry (qwords 0-2; 3-7 read as
 *    zero). The kernel prints no PASID directory entry, so the PASID tables
 *    sit at synthetic pages in the MSI window 0xfee00000-0xfeefffff (never
 *    memory, always below any address width); their directory entries point
 *    there with only the present bit set.
 *  - domain_translation_struct (the pre-6.7 single file and the 6.7+
 *    per-device INTEL/BDF/domain_translation_struct and per-PASID
 *    INTEL/BDF/PASID/domain_translation_struct files): every present entry
 *    on the path to each leaf, in the table page the upper entry points at.
 *  - ir_translation_struct: remapped and posted IRTEs at IRTA + index * 16.
 *  - invalidation_queue: every descriptor at IQA + index * (16 or 32), the
 *    width taken from the number of columns.
 *  - iommu_regset: the registers (lib/regsfile.c); units and bases.
 *
 * A table page the kernel walked is whole in the image: an entry it did not
 * print reads as zero, i.e. not present (one inexactness: a present non-leaf
 * entry whose subtree holds no present leaf is never printed, so it reads as
 * not present too). Any other address fails with ISH_ERROR_FAULT, "not
 * visible through debugfs". Formats are recognised line by line from their
 * text, never from a kernel version.
 */
#ifndef IOMMUSH_DEBUGFS_H
#define IOMMUSH_DEBUGFS_H

#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

/* The synthetic page range for PASID tables (the x86 interrupt window). */
#define ISH_DEBUGFS_SYNTH_BASE 0xfee00000ULL
#define ISH_DEBUGFS_SYNTH_PAGES 256u

struct ish_debugfs_stats {
	unsigned files;			/* files parsed */
	uint64_t root_entries;
	uint64_t context_entries;
	uint64_t pasid_entries;
	uint64_t ptes;			/* page-table entries placed (shared ones once) */
	uint64_t irtes;
	uint64_t iq_descriptors;
	uint64_t pages;			/* pages in the rebuilt image */
	uint64_t synthetic_pages;	/* PASID tables at made-up addresses */
	uint64_t conflicts;		/* places shown twice with different values (first kept) */
	uint64_t skipped_lines;		/* lines no known format matched */
};

/*
 * Statistics of a debugfs target, or of the debugfs part of a live or kcore
 * target. ISH_ERROR_UNSUPPORTED for any other target.
 */
struct ish_error *ish_debugfs_stats(const struct ish_target *t, struct ish_debugfs_stats *ret);
/*
 * A live target says which backend it chose and why through
 * ish_target_describe (item "choice"); a debugfs one says these counts there.
 */

#endif
