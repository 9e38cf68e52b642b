/* SPDX-License-Identifier: MIT */
/* Within the write gate (lib/write.c, lib/vtd/queue.c). */
#ifndef IOMMUSH_WRITE_INTERNAL_H
#define IOMMUSH_WRITE_INTERNAL_H

#include <iommush/target.h>
#include <iommush/write.h>

#include "target_internal.h"

/* Logs an operation refused outside the gate (e.g. a queue another agent drives). */
void ish_write_log_refusal(struct ish_target *t, int unit, const char *op,
			   const struct ish_error *err);

#endif
