// SPDX-License-Identifier: MIT
/*
 * Who drives a unit's invalidation queue, and submitting into a queue the
 * kernel drives without leaving the kernel behind.
 *
 * Why it matters (measured, DESIGN.md "Safety"): Linux keeps its own
 * software tail of the queue (struct q_inval: free_head, free_tail,
 * free_cnt, desc_status[]). A descriptor written at the hardware tail and
 * IQT advanced behind its back leaves free_head lagging: the kernel's next
 * submission lands in slots the hardware has consumed, its wait descriptor
 * is never processed, and qi_submit_sync() spins forever.
 *
 * A cooperative submission does what another CPU entering qi_submit_sync()
 * would do (drivers/iommu/intel/dmar.c, 6.1 and 6.12): at a stop where
 * q_lock is free, take count + 1 slots at free_head, mark them QI_IN_USE,
 * write the descriptor and a wait descriptor whose status write stores
 * QI_DONE into desc_status[wait slot], advance free_head and lower free_cnt,
 * write IQT = free_head << shift, wait for QI_DONE, mark the descriptor's
 * slot QI_DONE and reclaim from free_tail as reclaim_free_desc() does. A
 * CPU of the kernel that was waiting for its own submission with the lock
 * released (qi_submit_sync drops it while it polls) sees a state it could
 * have seen from any other CPU. Layouts come from the kernel's BTF; the
 * constants (QI_LENGTH 256, QI_FREE/IN_USE/DONE/ABORT 0..3) are the
 * driver's #defines, unchanged from 3.x to 6.12.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iommush/backend.h>
#include <iommush/vtd/invalidate.h>
#include <iommush/vtd/iq.h>
#include <iommush/kernel.h>
#include <iommush/vtd/vtd.h>
#include <iommush/write.h>

#include "queue_internal.h"

/* drivers/iommu/intel/iommu.h */
#define QI_LENGTH 256
/* Stops tried (20 ms of running between them) until the queue lock is free. */
#define LOCK_RETRIES 50
enum { QI_FREE, QI_IN_USE, QI_DONE, QI_ABORT };

const char *ish_queue_agent_name(enum ish_queue_agent a)
{
	switch (a) {
	case ISH_QUEUE_OFF:
		return "off";
	case ISH_QUEUE_UNUSED:
		return "unused";
	case ISH_QUEUE_ISH:
		return "iommush";
	case ISH_QUEUE_OS:
		return "os";
	}
	return "reserved";
}

static bool ours(const struct ish_qi_desc *d, uint32_t slot, uint32_t nslots)
{
	return d->sw && (d->status_data & ISH_QI_STATUS_MAGIC_MASK) == ISH_QI_STATUS_MAGIC &&
	       (d->status_data & ~ISH_QI_STATUS_MAGIC_MASK) == (slot + 1) % nslots;
}

struct ish_error *ish_queue_owner(struct ish_target *t, unsigned unit, struct ish_queue_owner *ret)
{
	struct ish_iq_state q;
	struct ish_error *err;
	uint32_t used = 0, waits = 0;

	memset(ret, 0, sizeof(*ret));
	if (unit >= ish_target_nunits(t))
		return ish_error_format(ISH_ERROR_NOT_FOUND, "no remapping unit %u", unit);
	if (ish_target_backend(t)->flags & ISH_BACKEND_LIVE) {
		struct ish_unit_owner o;

		if ((err = ish_unit_owner(t, unit, &o)))
			return err;
		if (o.owned) {
			ret->live_driver = true;
			ret->agent = o.qies ? ISH_QUEUE_OS : ISH_QUEUE_OFF;
			snprintf(ret->evidence, sizeof(ret->evidence),
				 "the kernel's intel-iommu driver registered %s (%s/%s)",
				 ish_target_unit(t, unit)->name, ish_target_param(t, "iommu.sysfs"),
				 o.sysfs_name);
			return NULL;
		}
	}
	if ((err = ish_iq_state_read(t, unit, &q)))
		return err;
	if (!q.qies) {
		ret->agent = ISH_QUEUE_OFF;
		snprintf(ret->evidence, sizeof(ret->evidence), "GSTS.QIES is clear");
		return NULL;
	}
	/*
	 * Descriptors pending between IQH and IQT are no evidence by themselves
	 * (iommush's own may be waiting): the slots' contents decide.
	 */
	for (uint32_t s = 0; s < q.nslots; s++) {
		struct ish_qi_desc d;

		if ((err = ish_iq_read_slot(t, &q, s, &d)))
			return ish_error_prefix(err, "reading slot %u of %s's queue", s,
						ish_target_unit(t, unit)->name);
		if (!d.type && !d.qw[0] && !d.qw[1] && !d.qw[2] && !d.qw[3])
			continue;
		/* iommush's status word, or its initial complement, in the slot after a wait. */
		if (!d.qw[1] && !d.qw[2] && !d.qw[3] &&
		    ((uint32_t)d.qw[0] == (ISH_QI_STATUS_MAGIC | s) ||
		     (uint32_t)d.qw[0] == (uint32_t)~(ISH_QI_STATUS_MAGIC | s)) && !(d.qw[0] >> 32))
			continue;
		used++;
		if (d.type != QI_IWD_TYPE)
			continue;
		waits++;
		if (!ours(&d, s, q.nslots)) {
			ret->agent = ISH_QUEUE_OS;
			snprintf(ret->evidence, sizeof(ret->evidence),
				 "slot %u holds a wait descriptor that writes %#x to %#" PRIx64
				 ", not iommush's", s, d.status_data, d.status_addr);
			return NULL;
		}
	}
	if (used && !waits) {
		ret->agent = ISH_QUEUE_OS;
		snprintf(ret->evidence, sizeof(ret->evidence),
			 "%u slots hold descriptors and none is a wait descriptor of iommush's", used);
	} else if (used) {
		ret->agent = ISH_QUEUE_ISH;
		snprintf(ret->evidence, sizeof(ret->evidence),
			 "its %u wait descriptors are all iommush's", waits);
	} else {
		/*
		 * Every slot empty: no agent's work is in the queue, even where IQT
		 * has moved (an OS leaves its descriptors behind; Linux never clears
		 * a slot).
		 */
		ret->agent = ISH_QUEUE_UNUSED;
		snprintf(ret->evidence, sizeof(ret->evidence), "every slot is empty (IQT %#" PRIx64 ")",
			 q.iqt);
	}
	return NULL;
}

/* --- cooperative submission --- */

struct qinval {
	struct ish_kernel *k;
	uint64_t va, pa;
	struct ish_kernel_member lock, desc, status, head, tail, cnt;
	uint64_t desc_va, desc_pa, status_va, status_pa;
	int32_t free_head, free_tail, free_cnt;
};

static struct ish_error *member(struct qinval *qi, const char *name, uint64_t want_size,
				struct ish_kernel_member *ret)
{
	struct ish_error *err = ish_kernel_member(qi->k, "struct q_inval", name, ret);

	if (err)
		return err;
	if (want_size && ret->size != want_size)
		return ish_error_format(ISH_ERROR_UNSUPPORTED,
					"struct q_inval.%s is %" PRIu64 " bytes in this kernel, not %"
					PRIu64 ": a layout iommush does not know", name, ret->size,
					want_size);
	return NULL;
}

static struct ish_error *read_i32(struct qinval *qi, uint64_t va, int32_t *ret)
{
	uint8_t b[4];
	struct ish_error *err = ish_kernel_read(qi->k, va, b, 4);

	if (!err)
		*ret = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
				 (uint32_t)b[3] << 24);
	return err;
}

static struct ish_error *write_i32(struct ish_target *t, uint64_t pa, int32_t v)
{
	uint8_t b[4];

	for (unsigned i = 0; i < 4; i++)
		b[i] = (uint8_t)((uint32_t)v >> (8 * i));
	return ish_write_phys(t, pa, b, 4);
}

/* Where the kernel's desc_status[slot] is (an int each). */
static uint64_t status_pa(const struct qinval *qi, uint32_t slot)
{
	return qi->status_pa + 4ull * slot;
}

static struct ish_error *read_status(struct qinval *qi, uint32_t slot, int32_t *ret)
{
	return read_i32(qi, qi->status_va + 4ull * slot, ret);
}

static struct ish_error *write_status(struct ish_target *t, struct qinval *qi, uint32_t slot,
				      int32_t v)
{
	return write_i32(t, status_pa(qi, slot), v);
}

/* Finds the kernel's struct q_inval of the unit and reads its bookkeeping. */
static struct ish_error *find_qinval(struct ish_target *t, unsigned unit, struct qinval *qi,
				     unsigned *resumes)
{
	const struct ish_unit *u = ish_target_unit(t, unit);
	struct ish_kernel_vtd_unit *ku = NULL;
	struct ish_error *err;
	uint64_t lock = 0;
	size_t n = 0;

	memset(qi, 0, sizeof(*qi));
	if ((err = ish_target_kernel(t, &qi->k)))
		return err;
	if ((err = ish_kernel_vtd_units(qi->k, &ku, &n)))
		return ish_error_prefix(err, "the kernel's dmar_drhd_units");
	for (size_t i = 0; i < n; i++)
		if (ku[i].reg_phys == u->reg_base && ku[i].iommu_va) {
			qi->va = ku[i].qi_va;
			break;
		}
	free(ku);
	if (!qi->va)
		return ish_error_format(ISH_ERROR_NOT_FOUND,
					"the kernel holds no invalidation queue for the unit at %#"
					PRIx64 " (no intel_iommu with that reg_phys and a qi)",
					u->reg_base);
	if ((err = ish_kernel_va_to_pa(qi->k, qi->va, &qi->pa)))
		return ish_error_prefix(err, "struct q_inval at %#" PRIx64, qi->va);
	if ((err = member(qi, "q_lock", 0, &qi->lock)) || (err = member(qi, "desc", 8, &qi->desc)) ||
	    (err = member(qi, "desc_status", 8, &qi->status)) ||
	    (err = member(qi, "free_head", 4, &qi->head)) ||
	    (err = member(qi, "free_tail", 4, &qi->tail)) ||
	    (err = member(qi, "free_cnt", 4, &qi->cnt)))
		return err;
	/* The lock word itself: raw_spinlock_t's arch_spinlock_t (qspinlock: 0 = free). */
	{
		struct ish_kernel_member raw;

		if (!ish_kernel_member(qi->k, "struct q_inval", "q_lock.raw_lock", &raw))
			qi->lock = raw;
	}
	if (qi->lock.size < 4)
		return ish_error_format(ISH_ERROR_UNSUPPORTED, "struct q_inval.q_lock is %" PRIu64
					" bytes: a layout iommush does not know", qi->lock.size);
	/*
	 * A CPU stopped inside qi_submit_sync() holds the lock (a guest that
	 * invalidates on every unmap is caught there about one stop in six,
	 * measured). Where the target can, let it run a moment and stop again.
	 */
	for (unsigned tries = 0;; tries++) {
		struct timespec ts = { 0, 20 * 1000 * 1000 };

		ish_target_cache_drop(t);
		if ((err = ish_kernel_read(qi->k, qi->va + qi->lock.offset, &lock, 4)))
			return err;
		if (!(uint32_t)lock)
			break;
		if (tries >= LOCK_RETRIES || !ish_target_backend(t)->resume ||
		    !ish_target_backend(t)->stop)
			return ish_error_format(ISH_ERROR_REFUSED,
						"the kernel holds %s's queue lock (q_inval.q_lock "
						"reads %#x) at this stop%s: one of its CPUs is in the "
						"middle of a submission; resume the guest and try again",
						u->name, (uint32_t)lock,
						tries ? " and at every one of the next tries" : "");
		if ((err = ish_target_resume(t)))
			return ish_error_prefix(err, "resuming the guest until its queue lock is free");
		nanosleep(&ts, NULL);
		if ((err = ish_target_stop(t)))
			return ish_error_prefix(err, "stopping the guest again");
		*resumes = tries + 1;
	}
	if ((err = ish_kernel_read_u64(qi->k, qi->va + qi->desc.offset, &qi->desc_va)) ||
	    (err = ish_kernel_read_u64(qi->k, qi->va + qi->status.offset, &qi->status_va)) ||
	    (err = read_i32(qi, qi->va + qi->head.offset, &qi->free_head)) ||
	    (err = read_i32(qi, qi->va + qi->tail.offset, &qi->free_tail)) ||
	    (err = read_i32(qi, qi->va + qi->cnt.offset, &qi->free_cnt)))
		return err;
	if ((err = ish_kernel_va_to_pa(qi->k, qi->desc_va, &qi->desc_pa)))
		return ish_error_prefix(err, "q_inval.desc %#" PRIx64, qi->desc_va);
	if ((err = ish_kernel_va_to_pa(qi->k, qi->status_va, &qi->status_pa)))
		return ish_error_prefix(err, "q_inval.desc_status %#" PRIx64, qi->status_va);
	return NULL;
}

static struct ish_error *refuse(const struct ish_unit *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static struct ish_error *refuse(const struct ish_unit *u, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return ish_error_format(ISH_ERROR_REFUSED,
				"the kernel's bookkeeping of %s's queue does not match the hardware "
				"(%s): refusing to submit into it", u->name, why);
}

struct ish_error *ish_queue_submit_cooperative(struct ish_target *t, unsigned unit,
					       const struct ish_iq_state *q, const uint64_t desc[4],
					       struct ish_poller *p, struct ish_inval_result *ret)
{
	const struct ish_unit *u = ish_target_unit(t, unit);
	struct ish_error *err;
	struct qinval qi;
	uint32_t slot, wslot, head;
	uint64_t st;
	int32_t s0, s1, word = 0;

	if ((err = find_qinval(t, unit, &qi, &ret->resumes)))
		return err;
	ret->cooperative = true;
	ret->q_inval_pa = qi.pa;
	ret->free_head_before = qi.free_head;
	ret->free_tail_before = qi.free_tail;
	ret->free_cnt_before = qi.free_cnt;
	if (q->nslots != QI_LENGTH)
		return refuse(u, "the queue has %u slots, the driver's QI_LENGTH is %u", q->nslots,
			      QI_LENGTH);
	if (qi.desc_pa != q->base)
		return refuse(u, "q_inval.desc is at %#" PRIx64 ", IQA at %#" PRIx64, qi.desc_pa,
			      q->base);
	if (qi.free_head < 0 || qi.free_head >= QI_LENGTH || qi.free_tail < 0 ||
	    qi.free_tail >= QI_LENGTH || qi.free_cnt < 0 || qi.free_cnt > QI_LENGTH)
		return refuse(u, "free_head %d, free_tail %d, free_cnt %d", qi.free_head,
			      qi.free_tail, qi.free_cnt);
	if ((uint32_t)qi.free_head != q->tail)
		return refuse(u, "its free_head is slot %d, IQT slot %u", qi.free_head, q->tail);
	/* As qi_submit_sync(): one descriptor, one wait, one slot between head and tail. */
	if (qi.free_cnt < 3)
		return ish_error_format(ISH_ERROR_LIMIT,
					"the kernel's queue of %s has %d free slots, a submission "
					"needs 3: resume the guest and try again", u->name,
					qi.free_cnt);
	slot = (uint32_t)qi.free_head;
	wslot = (slot + 1) % QI_LENGTH;
	if ((err = read_status(&qi, slot, &s0)) || (err = read_status(&qi, wslot, &s1)))
		return err;
	if (s0 != QI_FREE || s1 != QI_FREE)
		return refuse(u, "desc_status of the free slots %u and %u reads %d and %d", slot,
			      wslot, s0, s1);

	ret->desc_size = q->desc_size;
	ret->old_tail = q->tail;
	ret->slot = slot;
	ret->new_tail = (slot + 2) % QI_LENGTH;
	memcpy(ret->desc, desc, sizeof(ret->desc));
	st = status_pa(&qi, wslot);
	ret->status_addr = st;
	ret->status_data = QI_DONE;
	/* The kernel's own wait: status write of QI_DONE into desc_status[wait slot]. */
	if ((err = ish_qi_encode_wait(false, true, false, QI_DONE, st, ret->wait_desc)))
		return err;

	if ((err = write_status(t, &qi, slot, QI_IN_USE)) ||
	    (err = write_status(t, &qi, wslot, QI_IN_USE)))
		return err;
	if ((err = ish_queue_write_desc(t, q->base + (uint64_t)slot * q->desc_size, desc,
					q->desc_size)))
		return ish_error_prefix(err, "descriptor slot %u", slot);
	if ((err = ish_queue_write_desc(t, q->base + (uint64_t)wslot * q->desc_size,
					ret->wait_desc, q->desc_size)))
		return ish_error_prefix(err, "wait descriptor slot %u", wslot);
	head = (slot + 2) % QI_LENGTH;
	if ((err = write_i32(t, qi.pa + qi.head.offset, (int32_t)head)) ||
	    (err = write_i32(t, qi.pa + qi.cnt.offset, qi.free_cnt - 2)))
		return ish_error_prefix(err, "the kernel's free_head and free_cnt");
	if ((err = ish_queue_write_tail(t, unit, (uint64_t)head * q->desc_size)))
		return err;
	for (;;) {
		ish_target_cache_drop(t);
		if ((err = read_status(&qi, wslot, &word)))
			return err;
		if (word == QI_DONE)
			break;
		if ((err = ish_target_check_interrupt(t)))
			return err;
		if (!ish_poll_again(p))
			/* Left as the kernel's own submission would be: it reclaims later. */
			return ish_error_format(ISH_ERROR_TIMEOUT,
						"the wait descriptor in slot %u did not write QI_DONE "
						"into desc_status[%u] (it reads %d); the kernel's "
						"bookkeeping is consistent and it will reclaim the slots",
						wslot, wslot, word);
	}
	if ((err = write_status(t, &qi, slot, QI_DONE)))
		return err;
	/* reclaim_free_desc(): from free_tail over DONE (6.12: and ABORT) slots. */
	{
		int32_t tail = qi.free_tail, cnt = qi.free_cnt - 2, s;

		for (unsigned i = 0; i < QI_LENGTH; i++) {
			if ((err = read_status(&qi, (uint32_t)tail, &s)))
				return err;
			if (s != QI_DONE && s != QI_ABORT)
				break;
			if ((err = write_status(t, &qi, (uint32_t)tail, QI_FREE)))
				return err;
			tail = (tail + 1) % QI_LENGTH;
			cnt++;
		}
		if ((err = write_i32(t, qi.pa + qi.tail.offset, tail)) ||
		    (err = write_i32(t, qi.pa + qi.cnt.offset, cnt)))
			return err;
		ret->free_head_after = (int32_t)head;
		ret->free_tail_after = tail;
		ret->free_cnt_after = cnt;
	}
	return NULL;
}
