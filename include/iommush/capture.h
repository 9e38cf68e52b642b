/* SPDX-License-Identifier: MIT */
/*
 * Capturing a target as an iommush snapshot (snapshot.h): every register of
 * every unit, the DMAR table, and every page of physical memory that a full
 * traversal reads — root and context tables, PASID directories and tables,
 * all page tables of every device and PASID, the interrupt-remapping table
 * and the posted descriptors it names, the invalidation queue. The page set
 * is recorded by the target layer while the traversal runs, so the snapshot
 * holds exactly what the commands read and answers them as the target did.
 */
#ifndef IOMMUSH_CAPTURE_H
#define IOMMUSH_CAPTURE_H

#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

struct ish_capture_stats {
	uint64_t units;
	uint64_t registers;
	uint64_t devices;
	uint64_t pasids;	/* PASID entries walked, RID_PASID excluded */
	uint64_t mappings;
	uint64_t findings;	/* problems met on the way (kept in the snapshot as they are) */
	uint64_t pages;		/* physical pages written */
};

/*
 * Capture t into path (written through a temporary file and renamed).
 * Interruptible (ISH_ERROR_INTERRUPTED leaves no file). stats may be NULL.
 */
struct ish_error *ish_snapshot_capture(struct ish_target *t, const char *path,
				       struct ish_capture_stats *stats);

#endif
