/* SPDX-License-Identifier: MIT */
/*
 * What the layers above the target (the write gate) keep on a target, and
 * the defaults of the generic parameters the target's table documents.
 * Included by lib/target.c and by those layers; target.c calls none of
 * them: a layer's state is destroyed through the destructor it hands in.
 */
#ifndef IOMMUSH_TARGET_INTERNAL_H
#define IOMMUSH_TARGET_INTERNAL_H

#include <iommush/target.h>

#define ISH_WRITE_LOG_DEFAULT "/var/log/iommush.log"
#define ISH_IOMMU_SYSFS_DEFAULT "/sys/class/iommu"

struct ish_write_state;

/*
 * The target's slot for the write gate's state (lib/write.c allocates
 * it); destroy is called on it when the target closes.
 */
struct ish_write_state **ish_target_wstate(struct ish_target *t,
					   void (*destroy)(struct ish_write_state *w));

/* The register-access checks ish_read_reg() makes too: unit, width, alignment. */
struct ish_error *ish_target_check_reg(const struct ish_target *t, unsigned unit, uint32_t offset,
				       unsigned width);

#endif
