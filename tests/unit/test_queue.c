// SPDX-License-Identifier: MIT
/*
 * Who drives a queue (ish_queue_owner) and the cooperative submission into
 * a queue the kernel drives (lib/vtd/queue.c), on the synthetic kernel of
 * fake_kernel.h with a VT-d unit whose queue is the kernel's: the refusals'
 * exact texts, and the kernel's struct q_inval after a submission.
 */
#include <stdio.h>
#include <string.h>

#include <iommush/vtd/invalidate.h>
#include <iommush/vtd/iq.h>
#include <iommush/kernel.h>
#include <iommush/mem.h>
#include <iommush/vtd/vtd.h>

#include "check.h"
#include "fake_kernel.h"

#define STATUS_PA 0x306000ULL	/* the kernel's desc_status[256] */
enum { QI_FREE, QI_IN_USE, QI_DONE, QI_ABORT };

static uint32_t rd32(struct ish_target *t, uint64_t pa)
{
	uint8_t *p = fk_ram(t) + pa;

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(struct ish_target *t, uint64_t pa)
{
	return rd32(t, pa) | (uint64_t)rd32(t, pa + 4) << 32;
}

static void wr32(struct ish_target *t, uint64_t pa, uint32_t v)
{
	fk_put(fk_ram(t) + pa, v, 4);
}

/* The kernel's status word of a slot. */
static uint64_t st(unsigned slot)
{
	return STATUS_PA + 4 * slot;
}

/*
 * The fake kernel's unit, with its queue as Linux leaves it: 16-byte
 * descriptors at FK_DESC_PA, free_head 37 = IQT, free_tail 35 (a CPU is
 * still waiting for slots 35-36: 35 QI_IN_USE, its wait in 36 already
 * QI_DONE), free_cnt 254, and Linux's wait descriptor in slot 36.
 */
static struct ish_target *kernel_unit(unsigned flags)
{
	struct ish_target *t;
	unsigned u;
	uint8_t *ram;

	OK(fk_build_flags(NULL, 0, flags, &t));
	OK(ish_mem_add_unit(t, 0xfed90000, 0, &u));
	OK(ish_mem_set_reg(t, u, DMAR_CAP_REG, 64, 0xd2008c22260286ULL));
	OK(ish_mem_set_reg(t, u, DMAR_ECAP_REG, 64, 0xf00f5eULL));
	OK(ish_mem_set_reg(t, u, DMAR_GSTS_REG, 32, DMA_GSTS_TES | DMA_GSTS_QIES));
	OK(ish_mem_set_reg(t, u, DMAR_RTADDR_REG, 64, FK_ROOT_PA));
	OK(ish_mem_set_reg(t, u, DMAR_FSTS_REG, 32, 0));
	OK(ish_mem_set_reg(t, u, DMAR_IQA_REG, 64, FK_DESC_PA));
	OK(ish_mem_set_reg(t, u, DMAR_IQH_REG, 64, 37 * 16));
	OK(ish_mem_set_reg(t, u, DMAR_IQT_REG, 64, 37 * 16));
	OK(ish_mem_set_reg(t, u, DMAR_ICS_REG, 32, 0));
	OK(ish_mem_set_reg(t, u, DMAR_IQER_REG, 64, 0));
	ram = fk_ram(t);
	fk_put(ram + FK_QI_PA + 0, 0, 4);			/* q_lock free */
	fk_put(ram + FK_QI_PA + 16, FK_POB + STATUS_PA, 8);	/* desc_status */
	/* slot 35: an IOTLB descriptor; slot 36: the kernel's wait (QI_DONE into desc_status[36]) */
	fk_put(ram + FK_DESC_PA + 35 * 16, 0x2 | 2u << 4 | 1u << 16, 8);
	fk_put(ram + FK_DESC_PA + 36 * 16, QI_IWD_TYPE | 1u << 5 | (uint64_t)QI_DONE << 32, 8);
	fk_put(ram + FK_DESC_PA + 36 * 16 + 8, st(36), 8);
	wr32(t, st(35), QI_IN_USE);
	wr32(t, st(36), QI_DONE);
	return t;
}

/* The hardware: processes IQH..IQT, wait descriptors write their status. */
static void hw(void *arg, unsigned poll)
{
	struct ish_target *t = arg;
	uint64_t head, tail;

	(void)poll;
	OK(ish_read_reg(t, 0, DMAR_IQH_REG, 64, &head));
	OK(ish_read_reg(t, 0, DMAR_IQT_REG, 64, &tail));
	while (head != tail) {
		uint64_t lo = rd64(t, FK_DESC_PA + head), hi = rd64(t, FK_DESC_PA + head + 8);

		if ((lo & 0xf) == QI_IWD_TYPE && (lo & (1u << 5)))
			wr32(t, hi, (uint32_t)(lo >> 32));
		head = (head + 16) % 4096;
	}
	OK(ish_mem_set_reg(t, 0, DMAR_IQH_REG, 64, head));
}

static void test_owner(void)
{
	struct ish_target *t = kernel_unit(ISH_OPEN_WRITE);
	struct ish_queue_owner o;

	OK(ish_queue_owner(t, 0, &o));
	CHECK_EQ(o.agent, ISH_QUEUE_OS);
	CHECK_STR(o.evidence, "slot 36 holds a wait descriptor that writes 0x2 to 0x306090, not "
			      "iommush's");
	/* an empty queue is nobody's, wherever IQT is */
	memset(fk_ram(t) + FK_DESC_PA, 0, 4096);
	OK(ish_queue_owner(t, 0, &o));
	CHECK_EQ(o.agent, ISH_QUEUE_UNUSED);
	CHECK_STR(o.evidence, "every slot is empty (IQT 0x250)");
	/* iommush's own descriptor, wait and status word: still iommush's */
	fk_put(fk_ram(t) + FK_DESC_PA + 5 * 16, 0x2 | 1u << 4, 8);
	fk_put(fk_ram(t) + FK_DESC_PA + 6 * 16,
	       QI_IWD_TYPE | 1u << 5 | 1u << 6 | (uint64_t)(ISH_QI_STATUS_MAGIC | 7) << 32, 8);
	fk_put(fk_ram(t) + FK_DESC_PA + 6 * 16 + 8, FK_DESC_PA + 7 * 16, 8);
	fk_put(fk_ram(t) + FK_DESC_PA + 7 * 16, ISH_QI_STATUS_MAGIC | 7, 4);
	OK(ish_queue_owner(t, 0, &o));
	CHECK_EQ(o.agent, ISH_QUEUE_ISH);
	CHECK_STR(o.evidence, "its 1 wait descriptors are all iommush's");
	/* a descriptor without a wait is someone else's */
	memset(fk_ram(t) + FK_DESC_PA + 6 * 16, 0, 32);
	OK(ish_queue_owner(t, 0, &o));
	CHECK_EQ(o.agent, ISH_QUEUE_OS);
	/* QI off */
	OK(ish_mem_set_reg(t, 0, DMAR_GSTS_REG, 32, DMA_GSTS_TES));
	OK(ish_queue_owner(t, 0, &o));
	CHECK_EQ(o.agent, ISH_QUEUE_OFF);
	CHECK_STR(ish_queue_agent_name(ISH_QUEUE_OS), "os");
	CHECK_STR(ish_queue_agent_name((enum ish_queue_agent)9), "reserved");
	ish_target_close(t);
}

static const struct ish_inval_req global = { .what = ISH_INVAL_IOTLB, .gran = ISH_INVAL_GLOBAL,
					      .timeout_ms = 50 };

static void test_refused_without_force(void)
{
	struct ish_target *t = kernel_unit(ISH_OPEN_WRITE);
	struct ish_inval_result res;
	struct ish_error *err;
	uint64_t iqt;

	err = ish_invalidate(t, 0, &global, ISH_INVAL_AUTO, &res);
	CHECK(err && err->code == ISH_ERROR_REFUSED);
	if (err)
		CHECK_STR(err->message,
			  "invalidate iotlb: an operating system drives dmar0's invalidation queue "
			  "(slot 36 holds a wait descriptor that writes 0x2 to 0x306090, not "
			  "iommush's). A descriptor written at the hardware tail would leave the OS's "
			  "software tail behind, and its next invalidation would be lost or hang its "
			  "CPU. Instead: give --force to submit cooperatively (iommush then keeps the "
			  "kernel's queue bookkeeping, found through its BTF, at this stop), "
			  "invalidate through a queue iommush owns on an idle unit, use "
			  "register-based invalidation where QI is off, or stop the guest's driver "
			  "first");
	ish_error_destroy(err);
	/* the same answer before anything is asked or written */
	err = ish_invalidate_check(t, 0, &global, ISH_INVAL_AUTO);
	CHECK(err && err->code == ISH_ERROR_REFUSED);
	ish_error_destroy(err);
	OK(ish_read_reg(t, 0, DMAR_IQT_REG, 64, &iqt));
	CHECK_EQ(iqt, 37 * 16);
	CHECK_EQ(rd64(t, FK_DESC_PA + 37 * 16), 0);
	/*
	 * Registers and memory of an OS-driven unit need --force only where a
	 * system runs (the gdbstub: tests/osqueue); this fake runs none.
	 */
	OK(ish_write_reg(t, 0, DMAR_FECTL_REG, 32, 0));
	OK(ish_write_phys(t, 0x1000, "x", 1));
	/* IQT of the OS's queue: never */
	err = ish_write_reg(t, 0, DMAR_IQT_REG, 64, 0);
	CHECK(err && err->code == ISH_ERROR_REFUSED);
	if (err)
		CHECK_STR(err->message, "writing IQT of dmar0 is refused, even with --force: another "
					"agent drives its invalidation queue (slot 36 holds a wait "
					"descriptor that writes 0x2 to 0x306090, not iommush's), and "
					"moving the tail under it leaves that agent's software tail "
					"behind, so its next invalidation is lost or hangs; use "
					"'invalidate' (with --force it submits cooperatively)");
	ish_error_destroy(err);
	ish_target_close(t);
}

static void test_cooperative(void)
{
	struct ish_target *t = kernel_unit(ISH_OPEN_WRITE | ISH_OPEN_FORCE);
	struct ish_inval_req r = global;
	struct ish_inval_result res;
	struct ish_error *err;
	uint64_t iqt;

	r.wait = hw;
	r.wait_arg = t;
	/* the lock held: refused, nothing written (the mem backend cannot resume) */
	wr32(t, FK_QI_PA, 0x1);
	err = ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res);
	CHECK(err && err->code == ISH_ERROR_REFUSED);
	if (err)
		CHECK_STR(err->message, "the kernel holds dmar0's queue lock (q_inval.q_lock reads "
					"0x1) at this stop: one of its CPUs is in the middle of a "
					"submission; resume the guest and try again");
	ish_error_destroy(err);
	CHECK_EQ(rd64(t, FK_DESC_PA + 37 * 16), 0);
	wr32(t, FK_QI_PA, 0);
	/* the kernel's free_head not at IQT: refused */
	wr32(t, FK_QI_PA + 24, 40);
	err = ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res);
	CHECK(err && err->code == ISH_ERROR_REFUSED);
	if (err)
		CHECK_STR(err->message, "the kernel's bookkeeping of dmar0's queue does not match "
					"the hardware (its free_head is slot 40, IQT slot 37): "
					"refusing to submit into it");
	ish_error_destroy(err);
	wr32(t, FK_QI_PA + 24, 37);

	/* submitted as another CPU would: slots 37 and 38, the kernel's wait in 36 untouched */
	OK(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res));
	CHECK(res.cooperative);
	CHECK_EQ(res.q_inval_pa, FK_QI_PA);
	CHECK_EQ(res.slot, 37);
	CHECK_EQ(res.new_tail, 39);
	CHECK_EQ(res.status_addr, st(38));
	CHECK_EQ(res.status_data, QI_DONE);
	OK(ish_read_reg(t, 0, DMAR_IQT_REG, 64, &iqt));
	CHECK_EQ(iqt, 39 * 16);
	CHECK_EQ(rd64(t, FK_DESC_PA + 37 * 16) & 0xff, 0x2 | 1u << 4 | 1u << 6 | 1u << 7);
	/* the kernel's own wait: SW, no fence, QI_DONE into desc_status[38] */
	CHECK_EQ(rd64(t, FK_DESC_PA + 38 * 16), QI_IWD_TYPE | 1u << 5 | (uint64_t)QI_DONE << 32);
	CHECK_EQ(rd64(t, FK_DESC_PA + 38 * 16 + 8), st(38));
	/* the waiting CPU's slot 35 is still in use: nothing reclaimed past it */
	CHECK_EQ(rd32(t, st(35)), QI_IN_USE);
	CHECK_EQ(rd32(t, st(37)), QI_DONE);
	CHECK_EQ(rd32(t, st(38)), QI_DONE);
	CHECK_EQ(rd32(t, FK_QI_PA + 24), 39);	/* free_head */
	CHECK_EQ(rd32(t, FK_QI_PA + 28), 35);	/* free_tail */
	CHECK_EQ(rd32(t, FK_QI_PA + 32), 252);	/* free_cnt */
	CHECK_EQ(res.free_head_before, 37);
	CHECK_EQ(res.free_head_after, 39);
	CHECK_EQ(res.free_cnt_after, 252);

	/* that CPU finishes (marks 35 done); the next submission reclaims everything */
	wr32(t, st(35), QI_DONE);
	OK(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res));
	CHECK_EQ(res.slot, 39);
	for (unsigned s = 35; s <= 40; s++)
		CHECK_EQ(rd32(t, st(s)), QI_FREE);
	CHECK_EQ(rd32(t, FK_QI_PA + 24), 41);
	CHECK_EQ(rd32(t, FK_QI_PA + 28), 41);
	CHECK_EQ(rd32(t, FK_QI_PA + 32), 256);

	/* IQT of this queue stays refused, even with --force */
	err = ish_write_reg(t, 0, DMAR_IQT_REG, 64, 0);
	CHECK(err && err->code == ISH_ERROR_REFUSED &&
	      strstr(err->message, "writing IQT of dmar0 is refused, even with --force"));
	ish_error_destroy(err);
	ish_target_close(t);
}

/* --force without the kernel's layouts: still refused, never blind. */
static void test_force_without_kernel(void)
{
	struct ish_target *t = kernel_unit(ISH_OPEN_WRITE | ISH_OPEN_FORCE);
	struct ish_inval_result res;
	struct ish_error *err;

	/* no VMCOREINFO anywhere */
	memset(fk_ram(t) + FK_VMCI_PA, 0, 4096);
	err = ish_invalidate(t, 0, &global, ISH_INVAL_AUTO, &res);
	CHECK(err && err->code == ISH_ERROR_NOT_FOUND);
	if (err)
		CHECK(!strncmp(err->message, "invalidate iotlb: --force submits into a queue an OS "
					     "drives only cooperatively, and that needs the kernel's "
					     "layout of its queue: ", 115));
	ish_error_destroy(err);
	CHECK_EQ(rd64(t, FK_DESC_PA + 37 * 16), 0);
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("owner") test_owner();
	CASE("refused_without_force") test_refused_without_force();
	CASE("cooperative") test_cooperative();
	CASE("force_without_kernel") test_force_without_kernel();
	return check_report();
}
