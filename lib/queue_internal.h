/* SPDX-License-Identifier: MIT */
/* Between lib/invalidate.c, lib/queue.c and lib/write.c: submitting into a queue another agent drives. */
#ifndef IOMMUSH_QUEUE_INTERNAL_H
#define IOMMUSH_QUEUE_INTERNAL_H

#include <iommush/invalidate.h>
#include <iommush/iq.h>
#include <iommush/target.h>

/*
 * Submits desc into the queue the kernel drives, keeping its struct q_inval
 * consistent (lib/queue.c has the how and why). Inside a write operation
 * begun with ISH_WRITE_REGS | ISH_WRITE_MEMORY; req gives the timeout and the
 * wait hook. Fills ret's queued fields.
 */
struct ish_error *ish_queue_submit_cooperative(struct ish_target *t, unsigned unit,
					       const struct ish_iq_state *q, const uint64_t desc[4],
					       const struct ish_inval_req *req,
					       struct ish_inval_result *ret);

/*
 * Writes IQT for a submission whose bookkeeping the caller keeps (the
 * write gate refuses IQT and IQA of a queue another agent drives to every
 * other path).
 */
struct ish_error *ish_queue_write_tail(struct ish_target *t, unsigned unit, uint64_t iqt);

#endif
