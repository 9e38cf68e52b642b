/* SPDX-License-Identifier: MIT */
/* Between lib/vtd/invalidate.c, lib/vtd/queue.c and lib/write.c: submitting into a queue another agent drives. */
#ifndef IOMMUSH_QUEUE_INTERNAL_H
#define IOMMUSH_QUEUE_INTERNAL_H

#include <iommush/vtd/invalidate.h>
#include <iommush/vtd/iq.h>
#include <iommush/target.h>

/* A bounded poll loop: req's timeout (0 = 1000 ms) and wait hook (NULL = sleep 100 us). */
struct ish_poller {
	const struct ish_inval_req *req;
	uint64_t start, deadline;
	unsigned polls;
};
void ish_poll_init(struct ish_poller *p, const struct ish_inval_req *req);
/* Waits before the next poll; false once the time is up. */
bool ish_poll_again(struct ish_poller *p);

/*
 * Submits desc into the queue the kernel drives, keeping its struct q_inval
 * consistent (lib/vtd/queue.c has the how and why). Inside a write operation
 * begun with ISH_WRITE_REGS | ISH_WRITE_MEMORY; it waits through p (begun by
 * the caller). Fills ret's queued fields.
 */
struct ish_error *ish_queue_submit_cooperative(struct ish_target *t, unsigned unit,
					       const struct ish_iq_state *q, const uint64_t desc[4],
					       struct ish_poller *p, struct ish_inval_result *ret);

/*
 * Writes IQT for a submission whose bookkeeping the caller keeps (the
 * write gate refuses IQT and IQA of a queue another agent drives to every
 * other path).
 */
struct ish_error *ish_queue_write_tail(struct ish_target *t, unsigned unit, uint64_t iqt);

/* Writes one descriptor (16 or 32 bytes of qw, little-endian) at addr. */
struct ish_error *ish_queue_write_desc(struct ish_target *t, uint64_t addr, const uint64_t qw[4],
				       unsigned size);

#endif
