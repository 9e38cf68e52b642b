// SPDX-License-Identifier: MIT
/*
 * ish_invalidate against the mem backend. The mem backend models no
 * hardware, so the tests play the hardware in the poll hook: clear
 * CCMD.ICC / IOTLB_REG.IVT and report a granularity, or consume the queue
 * from IQH to IQT and perform the wait descriptor's status write. Without
 * the hook the same flows must time out. Expected values are built from the
 * spec's field positions (CCMD, IOTLB_REG, IVA; 6.5.2 descriptor layouts).
 */
#include <iommush/vtd/invalidate.h>
#include <iommush/vtd/iq.h>
#include <iommush/mem.h>
#include <iommush/vtd/vtd.h>

#include "check.h"

#define RAM 0x100000ULL
#define RAMSIZE 0x100000ULL
#define IQ_BASE (RAM + 0x10000)
#define IRO 0x200	/* ECAP.IRO = 0x20 */
/* CAP: PSI (39), MAMV 6 (53:48), DWD (54), DRD (55), NFR/FRO irrelevant here */
#define TEST_CAP ((1ULL << 39) | (6ULL << 48) | (1ULL << 54) | (1ULL << 55))
/* ECAP: QI (1), IRO 0x20 (17:8) */
#define TEST_ECAP ((1ULL << 1) | (0x20ULL << 8))

static struct ish_target *mk(uint64_t cap, uint64_t ecap, uint32_t gsts)
{
	struct ish_target *t;
	unsigned u;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_ram(t, RAM, RAMSIZE, NULL));
	OK(ish_mem_add_unit(t, 0xfed90000, 0, &u));
	OK(ish_mem_set_reg(t, u, DMAR_CAP_REG, 64, cap));
	OK(ish_mem_set_reg(t, u, DMAR_ECAP_REG, 64, ecap));
	OK(ish_mem_set_reg(t, u, DMAR_GSTS_REG, 32, gsts));
	OK(ish_mem_set_reg(t, u, DMAR_RTADDR_REG, 64, 0));
	OK(ish_mem_set_reg(t, u, DMAR_CCMD_REG, 64, 0));
	OK(ish_mem_set_reg(t, u, DMAR_FSTS_REG, 32, 0));
	OK(ish_mem_set_reg(t, u, IRO, 64, 0));
	OK(ish_mem_set_reg(t, u, IRO + 8, 64, 0));
	OK(ish_mem_set_reg(t, u, DMAR_IQA_REG, 64, IQ_BASE));
	OK(ish_mem_set_reg(t, u, DMAR_IQH_REG, 64, 0));
	OK(ish_mem_set_reg(t, u, DMAR_IQT_REG, 64, 0));
	OK(ish_mem_set_reg(t, u, DMAR_ICS_REG, 32, 0));
	OK(ish_mem_set_reg(t, u, DMAR_IQER_REG, 64, 0));
	return t;
}

static uint64_t reg(struct ish_target *t, uint32_t off, unsigned width)
{
	uint64_t v = 0;

	OK(ish_read_reg(t, 0, off, width, &v));
	return v;
}

static uint64_t ram64(struct ish_target *t, uint64_t addr)
{
	uint64_t v = 0;

	OK(ish_read_u64(t, addr, &v));
	return v;
}

static uint32_t ram32(struct ish_target *t, uint64_t addr)
{
	uint32_t *p = ish_mem_ptr(t, addr, 4);

	return p ? *p : 0xdeadbeef;
}

/* --- hardware played by the poll hook --- */

struct hw {
	struct ish_target *t;
	unsigned caig, iaig;	/* what the hardware reports */
	unsigned calls;
	bool queue_error;	/* report IQE instead of processing */
	unsigned desc_size;
};

static void hw_registers(void *arg, unsigned poll)
{
	struct hw *h = arg;
	uint64_t v;

	(void)poll;
	h->calls++;
	v = reg(h->t, DMAR_CCMD_REG, 64);
	if (v & DMA_CCMD_ICC)
		OK(ish_mem_set_reg(h->t, 0, DMAR_CCMD_REG, 64,
				   (v & ~DMA_CCMD_ICC & ~(3ULL << 59)) | (uint64_t)h->caig << 59));
	v = reg(h->t, IRO + 8, 64);
	if (v & DMA_TLB_IVT)
		OK(ish_mem_set_reg(h->t, 0, IRO + 8, 64,
				   (v & ~DMA_TLB_IVT & ~(3ULL << 57)) | (uint64_t)h->iaig << 57));
}

static void hw_queue(void *arg, unsigned poll)
{
	struct hw *h = arg;
	uint64_t iqa = reg(h->t, DMAR_IQA_REG, 64), head, tail;
	uint64_t base = iqa & ~0xfffULL, size = 4096ULL << (iqa & 7);

	(void)poll;
	h->calls++;
	if (h->queue_error) {
		OK(ish_mem_set_reg(h->t, 0, DMAR_FSTS_REG, 32, DMA_FSTS_IQE));
		OK(ish_mem_set_reg(h->t, 0, DMAR_IQER_REG, 64, 1));	/* IQEI 1: bad descriptor */
		return;
	}
	head = reg(h->t, DMAR_IQH_REG, 64);
	tail = reg(h->t, DMAR_IQT_REG, 64);
	while (head != tail) {
		uint64_t lo = ram64(h->t, base + head), hi = ram64(h->t, base + head + 8);

		if ((lo & 0xf) == QI_IWD_TYPE && (lo & (1u << 5))) {
			uint32_t *p = ish_mem_ptr(h->t, hi, 4);

			CHECK(p != NULL);
			if (p)
				*p = (uint32_t)(lo >> 32);
		}
		head = (head + h->desc_size) % size;
	}
	OK(ish_mem_set_reg(h->t, 0, DMAR_IQH_REG, 64, head));
}

/* --- encoders --- */

static void test_encode_reg(void)
{
	struct ish_inval_req r = { .what = ISH_INVAL_CONTEXT, .gran = ISH_INVAL_GLOBAL };
	uint64_t cmd, iva;

	OK(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva));
	CHECK_EQ(cmd, 0xa000000000000000ULL);	/* ICC | CIRG=1 */
	CHECK_EQ(iva, 0);
	r.gran = ISH_INVAL_DOMAIN;
	r.did = 0x1234;
	OK(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva));
	CHECK_EQ(cmd, 0xc000000000001234ULL);	/* ICC | CIRG=2 | DID */
	r.gran = ISH_INVAL_DEVICE;
	r.did = 7;
	r.sid = ISH_BDF(0, 3, 0);
	r.fm = 2;
	OK(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva));
	CHECK_EQ(cmd, 0xe000000200180007ULL);	/* ICC | CIRG=3 | FM 2 | SID 0x18 | DID 7 */
	r.fm = 4;
	FAILS(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva), ISH_ERROR_INVALID);
	r = (struct ish_inval_req){ .what = ISH_INVAL_CONTEXT, .gran = ISH_INVAL_PAGE };
	FAILS(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva), ISH_ERROR_INVALID);
	r = (struct ish_inval_req){ .what = ISH_INVAL_CONTEXT, .gran = ISH_INVAL_GLOBAL, .did = 1 };
	FAILS(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva), ISH_ERROR_INVALID);
	r = (struct ish_inval_req){ .what = ISH_INVAL_CONTEXT, .gran = ISH_INVAL_DOMAIN, .sid = 1 };
	FAILS(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva), ISH_ERROR_INVALID);

	r = (struct ish_inval_req){ .what = ISH_INVAL_IOTLB, .gran = ISH_INVAL_GLOBAL };
	OK(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva));
	/* IVT | IIRG=1 | DR | DW */
	CHECK_EQ(cmd, 0x9003000000000000ULL);
	r.no_drain = true;
	OK(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva));
	CHECK_EQ(cmd, 0x9000000000000000ULL);
	OK(ish_inval_encode_reg(&r, 0, &cmd, &iva));	/* no DRD/DWD: no drains either */
	CHECK_EQ(cmd, 0x9000000000000000ULL);
	r = (struct ish_inval_req){ .what = ISH_INVAL_IOTLB, .gran = ISH_INVAL_DOMAIN, .did = 5 };
	OK(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva));
	CHECK_EQ(cmd, 0xa003000500000000ULL);
	r = (struct ish_inval_req){ .what = ISH_INVAL_IOTLB, .gran = ISH_INVAL_PAGE, .did = 5,
				    .addr = 0x3c000, .am = 2, .ih = true };
	OK(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva));
	CHECK_EQ(cmd, 0xb003000500000000ULL);
	CHECK_EQ(iva, 0x3c000 | 1u << 6 | 2);
	r.addr = 0x3d000;	/* not aligned to 4 pages */
	FAILS(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva), ISH_ERROR_INVALID);
	r.addr = 0;
	r.am = 7;		/* beyond MAMV 6 */
	FAILS(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva), ISH_ERROR_INVALID);
	r.am = 0;
	FAILS(ish_inval_encode_reg(&r, TEST_CAP & ~(1ULL << 39), &cmd, &iva), ISH_ERROR_INVALID);
	r = (struct ish_inval_req){ .what = ISH_INVAL_IOTLB, .gran = ISH_INVAL_DOMAIN, .am = 1 };
	FAILS(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva), ISH_ERROR_INVALID);
	r = (struct ish_inval_req){ .what = ISH_INVAL_IOTLB, .gran = ISH_INVAL_DEVICE };
	FAILS(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva), ISH_ERROR_INVALID);
	r = (struct ish_inval_req){ .what = ISH_INVAL_IEC, .gran = ISH_INVAL_GLOBAL };
	FAILS(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva), ISH_ERROR_INVALID);
	r = (struct ish_inval_req){ .what = ISH_INVAL_PIOTLB, .gran = ISH_INVAL_PASID };
	FAILS(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva), ISH_ERROR_INVALID);
	r = (struct ish_inval_req){ .what = (enum ish_inval_what)99 };
	FAILS(ish_inval_encode_reg(&r, TEST_CAP, &cmd, &iva), ISH_ERROR_INVALID);
}

static void test_encode_desc(void)
{
	struct ish_inval_req r = { .what = ISH_INVAL_CONTEXT, .gran = ISH_INVAL_DEVICE, .did = 7,
				   .sid = 0x18, .fm = 1 };
	uint64_t qw[4];

	OK(ish_inval_encode_desc(&r, TEST_CAP, qw));
	/* 6.5.2.1: type 1, G 5:4, DID 31:16, SID 47:32, FM 49:48 */
	CHECK_EQ(qw[0], 0x1 | 3u << 4 | 7u << 16 | 0x18ULL << 32 | 1ULL << 48);
	CHECK_EQ(qw[1], 0);
	r = (struct ish_inval_req){ .what = ISH_INVAL_IOTLB, .gran = ISH_INVAL_PAGE, .did = 9,
				    .addr = 0x200000, .am = 1, .ih = true };
	OK(ish_inval_encode_desc(&r, TEST_CAP, qw));
	/* 6.5.2.3: type 2, G 5:4, DW 6, DR 7, DID 31:16; ADDR | IH 6 | AM */
	CHECK_EQ(qw[0], 0x2 | 3u << 4 | 1u << 6 | 1u << 7 | 9u << 16);
	CHECK_EQ(qw[1], 0x200000 | 1u << 6 | 1);
	r.am = 7;
	FAILS(ish_inval_encode_desc(&r, TEST_CAP, qw), ISH_ERROR_INVALID);
	r = (struct ish_inval_req){ .what = ISH_INVAL_IEC, .gran = ISH_INVAL_INDEX, .index = 0x40,
				    .im = 3 };
	OK(ish_inval_encode_desc(&r, TEST_CAP, qw));
	/* 6.5.2.7: type 4, G 4, IM 31:27, IIDX 47:32 */
	CHECK_EQ(qw[0], 0x4 | 1u << 4 | 3u << 27 | 0x40ULL << 32);
	r = (struct ish_inval_req){ .what = ISH_INVAL_IEC, .gran = ISH_INVAL_GLOBAL };
	OK(ish_inval_encode_desc(&r, TEST_CAP, qw));
	CHECK_EQ(qw[0], 0x4);
	r.gran = ISH_INVAL_DOMAIN;
	FAILS(ish_inval_encode_desc(&r, TEST_CAP, qw), ISH_ERROR_INVALID);
	r = (struct ish_inval_req){ .what = ISH_INVAL_PASID_CACHE, .gran = ISH_INVAL_PASID,
				    .did = 3, .pasid = 0x12345 };
	OK(ish_inval_encode_desc(&r, TEST_CAP, qw));
	/* 6.5.2.2: type 7, G 5:4 (1 = PASID-selective), DID 31:16, PASID 51:32 */
	CHECK_EQ(qw[0], 0x7 | 1u << 4 | 3u << 16 | 0x12345ULL << 32);
	r.gran = ISH_INVAL_GLOBAL;
	FAILS(ish_inval_encode_desc(&r, TEST_CAP, qw), ISH_ERROR_INVALID);
	r.did = 0;
	r.pasid = 0;
	OK(ish_inval_encode_desc(&r, TEST_CAP, qw));
	CHECK_EQ(qw[0], 0x7 | 3u << 4);
	r = (struct ish_inval_req){ .what = ISH_INVAL_PASID_CACHE, .gran = ISH_INVAL_PASID,
				    .pasid = 0x100000 };
	FAILS(ish_inval_encode_desc(&r, TEST_CAP, qw), ISH_ERROR_INVALID);
	r = (struct ish_inval_req){ .what = ISH_INVAL_PIOTLB, .gran = ISH_INVAL_PAGE, .did = 2,
				    .pasid = 5, .addr = 0x7000 };
	OK(ish_inval_encode_desc(&r, TEST_CAP, qw));
	/* 6.5.2.4: type 6, G 5:4 (3 = page), DID 31:16, PASID 51:32; ADDR | IH | AM */
	CHECK_EQ(qw[0], 0x6 | 3u << 4 | 2u << 16 | 5ULL << 32);
	CHECK_EQ(qw[1], 0x7000);
	r.gran = ISH_INVAL_DOMAIN;
	FAILS(ish_inval_encode_desc(&r, TEST_CAP, qw), ISH_ERROR_INVALID);
	r.gran = ISH_INVAL_PASID;
	FAILS(ish_inval_encode_desc(&r, TEST_CAP, qw), ISH_ERROR_INVALID);	/* addr given */

	CHECK_STR(ish_inval_gran_name(ISH_INVAL_CONTEXT, 3), "device");
	CHECK_STR(ish_inval_gran_name(ISH_INVAL_IOTLB, 3), "page");
	CHECK_STR(ish_inval_gran_name(ISH_INVAL_IOTLB, 0), "none");
	CHECK_STR(ish_inval_gran_name(ISH_INVAL_IOTLB, 9), "??");
}

/* --- register-based --- */

static void test_registers(void)
{
	struct ish_target *t = mk(TEST_CAP, TEST_ECAP, DMA_GSTS_TES);
	struct ish_inval_req r = { .what = ISH_INVAL_CONTEXT, .gran = ISH_INVAL_DOMAIN, .did = 4,
				   .timeout_ms = 50 };
	struct ish_inval_result res;
	struct hw h = { .t = t, .caig = 1, .iaig = 2 };

	/* Read-only: refused before any access, nothing written. */
	ish_target_set_writable(t, false);
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_READ_ONLY);
	CHECK_EQ(reg(t, DMAR_CCMD_REG, 64), 0);
	ish_target_set_writable(t, true);
	FAILS(ish_invalidate(t, 1, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_NOT_FOUND);

	/* No hardware: ICC never clears. */
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_TIMEOUT);
	CHECK_EQ(res.method, ISH_INVAL_REGISTER);
	CHECK_EQ(reg(t, DMAR_CCMD_REG, 64), 0xc000000000000004ULL);
	CHECK(res.polls > 0);
	CHECK(res.elapsed_us >= 50000);

	/* A pending ICC (someone else's) blocks the next request: nothing new is written. */
	r.did = 5;
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_REGISTER, &res), ISH_ERROR_TIMEOUT);
	CHECK_EQ(reg(t, DMAR_CCMD_REG, 64), 0xc000000000000004ULL);

	/* The hardware completes and reports a wider (global) actual granularity. */
	OK(ish_mem_set_reg(t, 0, DMAR_CCMD_REG, 64, 0));
	r.wait = hw_registers;
	r.wait_arg = &h;
	OK(ish_invalidate(t, 0, &r, ISH_INVAL_REGISTER, &res));
	CHECK_EQ(res.cmd, 0xc000000000000005ULL);
	CHECK_EQ(res.requested_gran, 2);
	CHECK_EQ(res.actual_gran, 1);
	CHECK_EQ(res.reg_after, 0x4800000000000005ULL);	/* CIRG 2, CAIG 1, ICC clear */
	CHECK(h.calls >= 1);

	/* IOTLB page: IVA written first, then IOTLB_REG at IRO+8. */
	r = (struct ish_inval_req){ .what = ISH_INVAL_IOTLB, .gran = ISH_INVAL_PAGE, .did = 5,
				    .addr = 0x40000, .am = 0, .timeout_ms = 50,
				    .wait = hw_registers, .wait_arg = &h };
	h.iaig = 3;
	OK(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res));
	CHECK_EQ(reg(t, IRO, 64), 0x40000);
	CHECK_EQ(res.iva, 0x40000);
	CHECK_EQ(res.cmd, 0xb003000500000000ULL);
	CHECK_EQ(res.actual_gran, 3);
	CHECK_EQ(res.reg_after & DMA_TLB_IVT, 0);

	/* IAIG 0: the hardware did not perform it. */
	h.iaig = 0;
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_UNSUPPORTED);
	CHECK_EQ(res.actual_gran, 0);

	/* IEC, PASID cache, PIOTLB have no register interface. */
	r = (struct ish_inval_req){ .what = ISH_INVAL_IEC, .gran = ISH_INVAL_GLOBAL };
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_REGISTER, &res), ISH_ERROR_INVALID);
	/* ... and auto sends them to the queue, which is off here. */
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_INVALID);
	CHECK_EQ(res.method, ISH_INVAL_QUEUED);

	/* Registers while QI is on are refused (QEMU would ignore them). */
	OK(ish_mem_set_reg(t, 0, DMAR_GSTS_REG, 32, DMA_GSTS_TES | DMA_GSTS_QIES));
	OK(ish_mem_set_reg(t, 0, DMAR_CCMD_REG, 64, 0));
	r = (struct ish_inval_req){ .what = ISH_INVAL_CONTEXT, .gran = ISH_INVAL_GLOBAL };
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_REGISTER, &res), ISH_ERROR_INVALID);
	CHECK_EQ(reg(t, DMAR_CCMD_REG, 64), 0);

	/* A unit whose CAP cannot be read. */
	ish_target_close(t);
	{
		struct ish_target *t2;
		unsigned u;

		OK(ish_mem_open(&t2));
		OK(ish_mem_add_unit(t2, 0xfed90000, 0, &u));
		FAILS(ish_invalidate(t2, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_NOT_FOUND);
		ish_target_close(t2);
	}
}

/* --- queued --- */

static void test_queued(void)
{
	struct ish_target *t = mk(TEST_CAP, TEST_ECAP, DMA_GSTS_TES | DMA_GSTS_QIES);
	struct ish_inval_req r = { .what = ISH_INVAL_IOTLB, .gran = ISH_INVAL_DOMAIN, .did = 3,
				   .timeout_ms = 50 };
	struct ish_inval_result res;
	struct hw h = { .t = t, .desc_size = 16 };
	uint64_t status;

	/* Tail at slot 5, head caught up. */
	OK(ish_mem_set_reg(t, 0, DMAR_IQH_REG, 64, 5 * 16));
	OK(ish_mem_set_reg(t, 0, DMAR_IQT_REG, 64, 5 * 16));

	/* No hardware: the status word is never written. */
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_TIMEOUT);
	CHECK_EQ(res.method, ISH_INVAL_QUEUED);
	CHECK_EQ(res.slot, 5);
	CHECK_EQ(res.new_tail, 7);
	CHECK_EQ(reg(t, DMAR_IQT_REG, 64), 7 * 16);
	CHECK_EQ(ram64(t, IQ_BASE + 5 * 16), 0x2 | 2u << 4 | 1u << 6 | 1u << 7 | 3u << 16);
	status = IQ_BASE + 7 * 16;
	CHECK_EQ(res.status_addr, status);
	/* wait: type 5, SW 5, FN 6, data 63:32; status address in the high qword */
	CHECK_EQ(ram64(t, IQ_BASE + 6 * 16), 0x5 | 1u << 5 | 1u << 6 | (uint64_t)res.status_data << 32);
	CHECK_EQ(ram64(t, IQ_BASE + 6 * 16 + 8), status);
	CHECK_EQ(ram32(t, status), ~res.status_data);

	/* With hardware: head catches up, the status word arrives. */
	OK(ish_mem_set_reg(t, 0, DMAR_IQH_REG, 64, 7 * 16));
	r.wait = hw_queue;
	r.wait_arg = &h;
	OK(ish_invalidate(t, 0, &r, ISH_INVAL_QUEUED, &res));
	CHECK_EQ(res.slot, 7);
	CHECK_EQ(res.new_tail, 9);
	CHECK_EQ(ram32(t, IQ_BASE + 9 * 16), res.status_data);
	CHECK_EQ(res.iqh_after, 9 * 16);
	CHECK(!res.iqe && !res.ite && !res.ice);

	/* Wrap: descriptor in the last slot, wait in slot 0, new tail 1. */
	OK(ish_mem_set_reg(t, 0, DMAR_IQH_REG, 64, 255 * 16));
	OK(ish_mem_set_reg(t, 0, DMAR_IQT_REG, 64, 255 * 16));
	r = (struct ish_inval_req){ .what = ISH_INVAL_IEC, .gran = ISH_INVAL_INDEX, .index = 8,
				    .im = 2, .timeout_ms = 50, .wait = hw_queue, .wait_arg = &h };
	OK(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res));
	CHECK_EQ(res.slot, 255);
	CHECK_EQ(res.new_tail, 1);
	CHECK_EQ(ram64(t, IQ_BASE + 255 * 16), 0x4 | 1u << 4 | 2u << 27 | 8ULL << 32);
	CHECK_EQ(ram64(t, IQ_BASE) & 0xf, QI_IWD_TYPE);
	CHECK_EQ(reg(t, DMAR_IQT_REG, 64), 16);
	CHECK_EQ(res.iqh_after, 16);

	/* A caller-chosen status address. */
	r.status_addr = RAM + 0x800;
	OK(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res));
	CHECK_EQ(ram32(t, RAM + 0x800), res.status_data);
	CHECK_EQ(ram64(t, IQ_BASE + 2 * 16 + 8), RAM + 0x800);
	r.status_addr = RAM + 0x802;
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_INVALID);
	r.status_addr = 0x5000000;	/* outside memory */
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_FAULT);
	r.status_addr = 0;

	/* The hardware rejects the descriptor: IQE with IQERCD decoded. */
	h.queue_error = true;
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_FORMAT);
	CHECK(res.iqe);
	CHECK_EQ(res.iqer, 1);
	/* ... and the stopped queue is refused until FSTS.IQE is cleared. */
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_INVALID);
	h.queue_error = false;
	OK(ish_mem_set_reg(t, 0, DMAR_FSTS_REG, 32, 0));

	/* Full queue: tail + 2 would reach head. */
	OK(ish_mem_set_reg(t, 0, DMAR_IQH_REG, 64, 12 * 16));
	OK(ish_mem_set_reg(t, 0, DMAR_IQT_REG, 64, 10 * 16));
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_LIMIT);
	CHECK_EQ(reg(t, DMAR_IQT_REG, 64), 10 * 16);
	/* Bits 3:0 of IQT are not part of QT: still slot 10, still full. */
	OK(ish_mem_set_reg(t, 0, DMAR_IQT_REG, 64, 10 * 16 + 8));
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_LIMIT);
	/* Hostile IQT beyond the 4 KiB queue. */
	OK(ish_mem_set_reg(t, 0, DMAR_IQT_REG, 64, 0x7fff0));
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_FORMAT);
	/* A queue outside memory. */
	OK(ish_mem_set_reg(t, 0, DMAR_IQH_REG, 64, 0));
	OK(ish_mem_set_reg(t, 0, DMAR_IQT_REG, 64, 0));
	OK(ish_mem_set_reg(t, 0, DMAR_IQA_REG, 64, 0x7000000));
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_FAULT);
	OK(ish_mem_set_reg(t, 0, DMAR_IQA_REG, 64, IQ_BASE));

	/* Queue disabled: queued is refused, nothing written. */
	OK(ish_mem_set_reg(t, 0, DMAR_GSTS_REG, 32, DMA_GSTS_TES));
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_QUEUED, &res), ISH_ERROR_INVALID);
	CHECK_EQ(reg(t, DMAR_IQT_REG, 64), 0);
	/* No QI at all. */
	OK(ish_mem_set_reg(t, 0, DMAR_ECAP_REG, 64, TEST_ECAP & ~2ULL));
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_QUEUED, &res), ISH_ERROR_INVALID);
	ish_target_close(t);
}

/* Scalable mode: 256-bit descriptors even when IQA.DW reads 0 (QEMU 7.2). */
static void test_queued_256(void)
{
	struct ish_target *t = mk(TEST_CAP, TEST_ECAP | (1ULL << 43), DMA_GSTS_QIES);
	struct ish_inval_req r = { .what = ISH_INVAL_PIOTLB, .gran = ISH_INVAL_PASID, .did = 1,
				   .pasid = 2, .timeout_ms = 50 };
	struct ish_inval_result res;
	struct hw h = { .t = t, .desc_size = 32 };

	OK(ish_mem_set_reg(t, 0, DMAR_RTADDR_REG, 64, 0x200000 | 1u << 10));	/* TTM 1 */
	OK(ish_mem_set_reg(t, 0, DMAR_IQH_REG, 64, 3 * 32));
	OK(ish_mem_set_reg(t, 0, DMAR_IQT_REG, 64, 3 * 32));
	r.wait = hw_queue;
	r.wait_arg = &h;
	OK(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res));
	CHECK_EQ(res.desc_size, 32);
	CHECK_EQ(res.new_tail, 5);
	CHECK_EQ(reg(t, DMAR_IQT_REG, 64), 5 * 32);
	CHECK_EQ(ram64(t, IQ_BASE + 3 * 32), 0x6 | 2u << 4 | 1u << 16 | 2ULL << 32);
	CHECK_EQ(ram64(t, IQ_BASE + 3 * 32 + 16), 0);
	CHECK_EQ(ram64(t, IQ_BASE + 4 * 32) & 0xf, QI_IWD_TYPE);
	CHECK_EQ(ram32(t, IQ_BASE + 5 * 32), res.status_data);
	/* A tail in the middle of a 256-bit slot names no slot. */
	OK(ish_mem_set_reg(t, 0, DMAR_IQT_REG, 64, 5 * 32 + 16));
	FAILS(ish_invalidate(t, 0, &r, ISH_INVAL_AUTO, &res), ISH_ERROR_FORMAT);
	CHECK_EQ(reg(t, DMAR_IQT_REG, 64), 5 * 32 + 16);
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("encode_reg") test_encode_reg();
	CASE("encode_desc") test_encode_desc();
	CASE("registers") test_registers();
	CASE("queued") test_queued();
	CASE("queued_256") test_queued_256();
	return check_report();
}
