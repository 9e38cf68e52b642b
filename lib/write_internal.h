/* SPDX-License-Identifier: MIT */
/* Between lib/target.c and lib/write.c: the write gate's state and entry points. */
#ifndef IOMMUSH_WRITE_INTERNAL_H
#define IOMMUSH_WRITE_INTERNAL_H

#include <iommush/target.h>
#include <iommush/write.h>

#define ISH_WRITE_LOG_DEFAULT "/var/log/iommush.log"
#define ISH_IOMMU_SYSFS_DEFAULT "/sys/class/iommu"

struct ish_write_state;

/* The target's slot for the state (target.c); write.c allocates it. */
struct ish_write_state **ish_target_wstate(struct ish_target *t);
void ish_write_state_destroy(struct ish_write_state *w);

/* Called by ish_write_reg() / ish_write_phys() after their argument checks. */
struct ish_error *ish_write_reg_gated(struct ish_target *t, unsigned unit, uint32_t offset,
				      unsigned width, uint64_t value);
struct ish_error *ish_write_phys_gated(struct ish_target *t, uint64_t addr, const void *buf,
				       size_t len);

/* Logs an operation refused outside the gate (e.g. a queue another agent drives). */
void ish_write_log_refusal(struct ish_target *t, int unit, const char *op,
			   const struct ish_error *err);

#endif
