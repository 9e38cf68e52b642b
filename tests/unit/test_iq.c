// SPDX-License-Identifier: MIT
/* The invalidation queue: registers, 128/256-bit descriptors of every type, encoders. */
#include <iommush/vtd/iq.h>
#include <iommush/mem.h>
#include <iommush/target.h>
#include <iommush/vtd/vtd.h>

#include "check.h"

#define RAM_BASE 0x100000ULL
#define RAM_SIZE 0x100000ULL
#define QBASE 0x100000ULL

static void dec(uint64_t q0, uint64_t q1, struct ish_qi_desc *d)
{
	uint64_t qw[4] = { q0, q1, 0, 0 };

	ish_qi_decode(qw, 128, d);
}

static void test_decode_types(void)
{
	struct ish_qi_desc d;
	char buf[256];

	/* context-cache, device: did 5, sid 00:03.0, fm 2 */
	dec(0x1 | 3u << 4 | 5u << 16 | 0x18ULL << 32 | 2ULL << 48, 0, &d);
	CHECK_STR(d.name, "context-cache");
	CHECK_STR(d.gran_name, "device");
	CHECK_EQ(d.did, 5);
	CHECK_EQ(d.sid, 0x18);
	CHECK_EQ(d.fm, 2);
	CHECK_EQ(d.rsvd[0] | d.rsvd[1], 0);
	CHECK_STR(ish_qi_describe(&d, buf, sizeof(buf)), "context-cache device did=5 sid=00:03.0 fm=2");

	/* IOTLB page: did 7, drain both, addr 0x7000, am 0, ih */
	dec(0x2 | 3u << 4 | 1u << 6 | 1u << 7 | 7u << 16, 0x7000 | 1u << 6, &d);
	CHECK_STR(d.name, "iotlb");
	CHECK_STR(d.gran_name, "page");
	CHECK_EQ(d.did, 7);
	CHECK(d.dr && d.dw && d.ih);
	CHECK_EQ(d.addr, 0x7000);
	CHECK_EQ(d.am, 0);
	CHECK_STR(ish_qi_describe(&d, buf, sizeof(buf)),
		  "iotlb page did=7 addr=0x7000 am=0 ih+ dr+ dw+");
	/* IOTLB reserved: qw0 63:32, qw1 11:7 */
	dec(0x2 | 1u << 4 | 1ULL << 40, 1u << 8, &d);
	CHECK_STR(d.gran_name, "global");
	CHECK_EQ(d.rsvd[0], 1ULL << 40);
	CHECK_EQ(d.rsvd[1], 1u << 8);
	CHECK(strstr(ish_qi_describe(&d, buf, sizeof(buf)), "RESERVED-BITS-SET"));

	/* device-TLB: pfsid 0x123 split 15:12 / 63:52, mip 0x1f, sid 01:00.1, size */
	dec(0x3 | 0x3ULL << 12 | 0x1fULL << 16 | 0x101ULL << 32 | 0x12ULL << 52, 0xabc000 | 1, &d);
	CHECK_STR(d.name, "device-tlb");
	CHECK_EQ(d.pfsid, 0x123);
	CHECK_EQ(d.mip, 0x1f);
	CHECK_EQ(d.sid, 0x101);
	CHECK(d.size);
	CHECK_EQ(d.addr, 0xabc000);
	CHECK_EQ(d.rsvd[0] | d.rsvd[1], 0);

	/* IEC: global, then index-selective 64 entries at 0x40 */
	dec(0x4, 0, &d);
	CHECK_STR(d.name, "iec");
	CHECK_STR(d.gran_name, "global");
	dec(0x4 | 1u << 4 | 6u << 27 | 0x40ULL << 32, 0, &d);
	CHECK_STR(d.gran_name, "index");
	CHECK_EQ(d.im, 6);
	CHECK_EQ(d.iidx, 0x40);
	CHECK_STR(ish_qi_describe(&d, buf, sizeof(buf)), "iec index iidx=64 im=6");
	dec(0x4, 1, &d);
	CHECK_EQ(d.rsvd[1], 1);

	/* wait: IF SW FN PD, data 0x1234, address 0x5004 */
	dec(0x5 | 0xf0 | 0x1234ULL << 32, 0x5004, &d);
	CHECK_STR(d.name, "wait");
	CHECK(d.iflag && d.sw && d.fn && d.pd);
	CHECK_EQ(d.status_data, 0x1234);
	CHECK_EQ(d.status_addr, 0x5004);
	CHECK_EQ(d.rsvd[0] | d.rsvd[1], 0);
	dec(0x5 | 1u << 20, 0x5006, &d);
	CHECK_EQ(d.rsvd[0], 1u << 20);
	CHECK_EQ(d.rsvd[1], 2);

	/* PASID-IOTLB page: did 3, pasid 0xfffff, addr 0x200000 am 9 */
	dec(0x6 | 3u << 4 | 3u << 16 | 0xfffffULL << 32, 0x200000 | 9, &d);
	CHECK_STR(d.name, "pasid-iotlb");
	CHECK_STR(d.gran_name, "page");
	CHECK_EQ(d.pasid, 0xfffff);
	CHECK_EQ(d.am, 9);
	CHECK_EQ(d.addr, 0x200000);
	dec(0x6 | 2u << 4, 0, &d);
	CHECK_STR(d.gran_name, "pasid");

	/* PASID cache: each granularity */
	dec(0x7 | 0u << 4 | 9u << 16, 0, &d);
	CHECK_STR(d.name, "pasid-cache");
	CHECK_STR(d.gran_name, "domain");
	CHECK_EQ(d.did, 9);
	dec(0x7 | 1u << 4 | 0x55ULL << 32, 0, &d);
	CHECK_STR(d.gran_name, "pasid");
	CHECK_EQ(d.pasid, 0x55);
	dec(0x7 | 3u << 4, 0, &d);
	CHECK_STR(d.gran_name, "global");

	/* PASID device-TLB: mip 8:4, sid 31:16, pasid 51:32, pfsid; hi G, S */
	dec(0x8 | 0x1fULL << 4 | 0xaULL << 12 | 0x0208ULL << 16 | 0x77ULL << 32 | 0xfffULL << 52,
	    0x3000 | 1u << 11 | 1, &d);
	CHECK_STR(d.name, "pasid-device-tlb");
	CHECK_EQ(d.mip, 0x1f);
	CHECK_EQ(d.pfsid, 0xfffa);
	CHECK_EQ(d.sid, 0x0208);
	CHECK_EQ(d.pasid, 0x77);
	CHECK(d.global && d.size);
	CHECK_EQ(d.addr, 0x3000);
	CHECK_EQ(d.rsvd[0] | d.rsvd[1], 0);

	/* Extended type bits 11:9: type 0x15 is unknown; type 0 and 0xf too. */
	dec(0x5 | 1u << 9, 0, &d);
	CHECK_EQ(d.type, 0x15);
	CHECK_STR(d.name, "unknown");
	dec(0, 0, &d);
	CHECK_STR(d.name, "none");
	dec(0xf, 0x1, &d);
	CHECK_STR(ish_qi_describe(&d, buf, sizeof(buf)), "unknown type=15 qw0=0xf qw1=0x1");
	dec(0x9, 0, &d);
	CHECK_STR(d.name, "page-group-response");

	/* 256-bit: the upper half is reserved for these types. */
	{
		uint64_t qw[4] = { 0x2 | 1u << 4, 0, 0, 1 };

		ish_qi_decode(qw, 256, &d);
		CHECK_EQ(d.width, 256);
		CHECK_EQ(d.rsvd[3], 1);
		ish_qi_decode(qw, 128, &d);
		CHECK_EQ(d.rsvd[3], 0);
		CHECK_EQ(d.qw[3], 0);
	}
	/* A tiny buffer is truncated, never overrun. */
	dec(0x5, 0, &d);
	CHECK_STR(ish_qi_describe(&d, buf, 5), "wait");
	CHECK_EQ(ish_qi_describe(&d, buf, 0), buf);

	CHECK_STR(ish_iqei_text(1), "invalid tail pointer (IQT)");
	CHECK_STR(ish_iqei_text(9), "unknown");
}

static struct ish_target *setup(unsigned *u)
{
	struct ish_target *t;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_ram(t, RAM_BASE, RAM_SIZE, NULL));
	OK(ish_mem_add_unit(t, 0xfed90000, 0, u));
	OK(ish_mem_set_reg(t, *u, DMAR_GSTS_REG, 32, DMA_GSTS_QIES));
	OK(ish_mem_set_reg(t, *u, DMAR_RTADDR_REG, 64, 0x3000));
	return t;
}

static void test_queue_128(void)
{
	struct ish_target *t;
	struct ish_iq_state q;
	struct ish_qi_desc d;
	unsigned u;

	t = setup(&u);
	/* QS=0: one page, 256 slots; head 254, tail 2: wrapped, 4 pending */
	OK(ish_mem_set_reg(t, u, DMAR_IQA_REG, 64, QBASE));
	OK(ish_mem_set_reg(t, u, DMAR_IQH_REG, 64, 254 << 4));
	OK(ish_mem_set_reg(t, u, DMAR_IQT_REG, 64, 2 << 4));
	OK(ish_mem_set_reg(t, u, DMAR_ICS_REG, 32, VTD_ICS_IWC));
	OK(ish_mem_set_reg(t, u, DMAR_IQER_REG, 64, 4 | 0x18ULL << 32 | 0x20ULL << 48));
	OK(ish_mem_set_reg(t, u, DMAR_FSTS_REG, 32, 1u << 4));
	CHECK(ish_mem_put64(t, QBASE + 254 * 16, 0x2 | 2u << 4 | 4u << 16));
	CHECK(ish_mem_put64(t, QBASE + 255 * 16, 0x5 | 1u << 5 | 1ULL << 32));
	CHECK(ish_mem_put64(t, QBASE + 255 * 16 + 8, 0x1100));
	CHECK(ish_mem_put64(t, QBASE + 0, 0x4));
	CHECK(ish_mem_put64(t, QBASE + 16, 0x1 | 1u << 4));

	OK(ish_iq_state_read(t, u, &q));
	CHECK(q.qies);
	CHECK(!q.dw);
	CHECK(!q.scalable);
	CHECK(!q.width_inferred);
	CHECK_EQ(q.desc_size, 16);
	CHECK_EQ(q.nslots, 256);
	CHECK_EQ(q.head, 254);
	CHECK_EQ(q.tail, 2);
	CHECK_EQ(q.pending, 4);
	CHECK(!q.head_bad && !q.tail_bad);
	CHECK(q.ics & VTD_ICS_IWC);
	CHECK_EQ(DMAR_IQER_REG_IQEI(q.iqer), 4);
	CHECK_EQ(DMAR_IQER_REG_ITESID(q.iqer), 0x18);
	CHECK_EQ(DMAR_IQER_REG_ICESID(q.iqer), 0x20);

	/* Walk head..tail with wrap-around. */
	{
		static const char *const want[] = { "iotlb", "wait", "iec", "context-cache" };
		uint32_t s = q.head;

		for (unsigned i = 0; i < q.pending; i++, s = (s + 1) % q.nslots) {
			OK(ish_iq_read_slot(t, &q, s, &d));
			CHECK_STR(d.name, want[i]);
		}
		CHECK_EQ(s, q.tail);
	}
	OK(ish_iq_read_slot(t, &q, 255, &d));
	CHECK(d.sw);
	CHECK_EQ(d.status_data, 1);
	CHECK_EQ(d.status_addr, 0x1100);
	FAILS(ish_iq_read_slot(t, &q, 256, &d), ISH_ERROR_INVALID);

	/* Tail beyond the queue and misaligned head are flagged and clamped. */
	OK(ish_mem_set_reg(t, u, DMAR_IQT_REG, 64, 0x7fff0));
	OK(ish_mem_set_reg(t, u, DMAR_IQH_REG, 64, 0x18));
	OK(ish_iq_state_read(t, u, &q));
	CHECK(q.tail_bad);
	CHECK(!q.head_bad);	/* 0x18 & 0x7fff0 = 0x10: aligned, slot 1 */
	CHECK(q.tail < q.nslots);
	CHECK(q.pending < q.nslots);

	/* Registers missing: IQA is required. */
	OK(ish_mem_add_unit(t, 0xfed91000, 0, &u));
	FAILS(ish_iq_state_read(t, u, &q), ISH_ERROR_NOT_FOUND);
	ish_target_close(t);
}

static void test_queue_256(void)
{
	struct ish_target *t;
	struct ish_iq_state q;
	struct ish_qi_desc d;
	unsigned u;

	t = setup(&u);
	/* DW=1, QS=1: 8 KiB, 256 slots of 32 bytes */
	OK(ish_mem_set_reg(t, u, DMAR_IQA_REG, 64, QBASE | VTD_IQA_DW | 1));
	OK(ish_mem_set_reg(t, u, DMAR_IQH_REG, 64, 3 << 5));
	OK(ish_mem_set_reg(t, u, DMAR_IQT_REG, 64, 5 << 5));
	CHECK(ish_mem_put64(t, QBASE + 3 * 32, 0x7 | 1u << 4 | 0x42ULL << 32));
	CHECK(ish_mem_put64(t, QBASE + 4 * 32, 0x6 | 3u << 4 | 1u << 16 | 0x42ULL << 32));
	CHECK(ish_mem_put64(t, QBASE + 4 * 32 + 8, 0x4000));
	CHECK(ish_mem_put64(t, QBASE + 4 * 32 + 24, 0xbad));
	OK(ish_iq_state_read(t, u, &q));
	CHECK(q.dw);
	CHECK(!q.width_inferred);
	CHECK_EQ(q.desc_size, 32);
	CHECK_EQ(q.size, 8192);
	CHECK_EQ(q.nslots, 256);
	CHECK_EQ(q.head, 3);
	CHECK_EQ(q.tail, 5);
	CHECK_EQ(q.pending, 2);
	OK(ish_iq_read_slot(t, &q, 3, &d));
	CHECK_EQ(d.width, 256);
	CHECK_STR(d.name, "pasid-cache");
	CHECK_EQ(d.pasid, 0x42);
	OK(ish_iq_read_slot(t, &q, 4, &d));
	CHECK_STR(d.name, "pasid-iotlb");
	CHECK_EQ(d.addr, 0x4000);
	CHECK_EQ(d.qw[3], 0xbad);
	CHECK_EQ(d.rsvd[3], 0xbad);
	/* 256-bit: tail with bit 4 set is invalid. */
	OK(ish_mem_set_reg(t, u, DMAR_IQT_REG, 64, 0x10));
	OK(ish_iq_state_read(t, u, &q));
	CHECK(q.tail_bad);

	/* QEMU 7.2: DW reads 0 in scalable mode; the width is inferred. */
	OK(ish_mem_set_reg(t, u, DMAR_RTADDR_REG, 64, 0x3000 | 1u << 10));
	OK(ish_mem_set_reg(t, u, DMAR_IQA_REG, 64, QBASE));
	OK(ish_mem_set_reg(t, u, DMAR_IQT_REG, 64, 5 << 5));
	OK(ish_iq_state_read(t, u, &q));
	CHECK(q.scalable);
	CHECK(!q.dw);
	CHECK(q.width_inferred);
	CHECK_EQ(q.desc_size, 32);
	CHECK_EQ(q.nslots, 128);
	CHECK_EQ(q.head, 3);
	OK(ish_iq_read_slot(t, &q, 4, &d));
	CHECK_STR(d.name, "pasid-iotlb");
	ish_target_close(t);
}

/* Hostile: QS=7 (512 KiB) at the end of RAM; reads stop at memory's end. */
static void test_queue_hostile(void)
{
	struct ish_target *t;
	struct ish_iq_state q;
	struct ish_qi_desc d;
	unsigned u, s;

	t = setup(&u);
	OK(ish_mem_set_reg(t, u, DMAR_IQA_REG, 64, (RAM_BASE + RAM_SIZE - 0x2000) | 0xff7));
	OK(ish_mem_set_reg(t, u, DMAR_IQH_REG, 64, ~0ULL));
	OK(ish_mem_set_reg(t, u, DMAR_IQT_REG, 64, ~0ULL));
	OK(ish_iq_state_read(t, u, &q));
	CHECK_EQ(q.qs, 7);
	CHECK_EQ(q.size, 0x80000);
	CHECK(q.dw);
	CHECK_EQ(q.nslots, 0x4000);
	CHECK(q.head < q.nslots && q.tail < q.nslots);
	for (s = 0; s < q.nslots; s++) {
		struct ish_error *err = ish_iq_read_slot(t, &q, s, &d);

		if (err) {
			CHECK_EQ(err->code, ISH_ERROR_FAULT);
			ish_error_destroy(err);
			break;
		}
	}
	CHECK_EQ(s, 0x2000 / 32);
	ish_target_close(t);
}

static void test_encode(void)
{
	uint64_t qw[4] = { 1, 2, 3, 4 };
	struct ish_qi_desc d;

	OK(ish_qi_encode_cc(ISH_QI_CC_DEVICE, 12, 0x0310, 3, qw));
	CHECK_EQ(qw[2] | qw[3], 0);
	ish_qi_decode(qw, 256, &d);
	CHECK_STR(d.name, "context-cache");
	CHECK_STR(d.gran_name, "device");
	CHECK_EQ(d.did, 12);
	CHECK_EQ(d.sid, 0x0310);
	CHECK_EQ(d.fm, 3);
	CHECK_EQ(d.rsvd[0] | d.rsvd[1] | d.rsvd[2] | d.rsvd[3], 0);
	OK(ish_qi_encode_cc(ISH_QI_CC_GLOBAL, 0, 0, 0, qw));
	CHECK_EQ(qw[0], 0x11);
	FAILS(ish_qi_encode_cc(0, 0, 0, 0, qw), ISH_ERROR_INVALID);
	FAILS(ish_qi_encode_cc(1, 0, 0, 4, qw), ISH_ERROR_INVALID);

	OK(ish_qi_encode_iotlb(ISH_QI_IOTLB_PAGE, 0xffff, 0xfffffffffe00000ULL, 9, true, true, true,
			       qw));
	ish_qi_decode(qw, 128, &d);
	CHECK_STR(d.name, "iotlb");
	CHECK_STR(d.gran_name, "page");
	CHECK_EQ(d.did, 0xffff);
	CHECK_EQ(d.addr, 0xfffffffffe00000ULL);
	CHECK_EQ(d.am, 9);
	CHECK(d.ih && d.dr && d.dw);
	CHECK_EQ(d.rsvd[0] | d.rsvd[1], 0);
	OK(ish_qi_encode_iotlb(ISH_QI_IOTLB_DOMAIN, 3, 0, 0, false, false, true, qw));
	ish_qi_decode(qw, 128, &d);
	CHECK_STR(d.gran_name, "domain");
	CHECK(d.dw && !d.dr);
	CHECK_EQ(qw[1], 0);
	OK(ish_qi_encode_iotlb(ISH_QI_IOTLB_GLOBAL, 0, 0, 0, false, false, false, qw));
	CHECK_EQ(qw[0], 0x12);
	FAILS(ish_qi_encode_iotlb(ISH_QI_IOTLB_PAGE, 1, 0x1000, 1, false, false, false, qw),
	      ISH_ERROR_INVALID);	/* not 2-page aligned */
	FAILS(ish_qi_encode_iotlb(ISH_QI_IOTLB_PAGE, 1, 0, 52, false, false, false, qw),
	      ISH_ERROR_INVALID);
	FAILS(ish_qi_encode_iotlb(ISH_QI_IOTLB_DOMAIN, 1, 0x1000, 0, false, false, false, qw),
	      ISH_ERROR_INVALID);
	FAILS(ish_qi_encode_iotlb(4, 1, 0, 0, false, false, false, qw), ISH_ERROR_INVALID);

	OK(ish_qi_encode_iec(true, 0x80, 7, qw));
	ish_qi_decode(qw, 128, &d);
	CHECK_STR(d.name, "iec");
	CHECK_STR(d.gran_name, "index");
	CHECK_EQ(d.iidx, 0x80);
	CHECK_EQ(d.im, 7);
	CHECK_EQ(d.rsvd[0], 0);
	OK(ish_qi_encode_iec(false, 0, 0, qw));
	CHECK_EQ(qw[0], 0x4);
	FAILS(ish_qi_encode_iec(true, 0x81, 7, qw), ISH_ERROR_INVALID);
	FAILS(ish_qi_encode_iec(true, 0, 32, qw), ISH_ERROR_INVALID);
	FAILS(ish_qi_encode_iec(false, 5, 0, qw), ISH_ERROR_INVALID);

	OK(ish_qi_encode_pc(ISH_QI_PC_PASID, 77, 0xfffff, qw));
	ish_qi_decode(qw, 128, &d);
	CHECK_STR(d.name, "pasid-cache");
	CHECK_STR(d.gran_name, "pasid");
	CHECK_EQ(d.did, 77);
	CHECK_EQ(d.pasid, 0xfffff);
	CHECK_EQ(d.rsvd[0], 0);
	OK(ish_qi_encode_pc(ISH_QI_PC_GLOBAL, 0, 0, qw));
	ish_qi_decode(qw, 128, &d);
	CHECK_STR(d.gran_name, "global");
	FAILS(ish_qi_encode_pc(2, 0, 0, qw), ISH_ERROR_INVALID);
	FAILS(ish_qi_encode_pc(1, 0, 0x100000, qw), ISH_ERROR_INVALID);

	OK(ish_qi_encode_piotlb(ISH_QI_PIOTLB_PAGE, 5, 0x1234, 0x40000000ULL, 18, true, qw));
	ish_qi_decode(qw, 128, &d);
	CHECK_STR(d.name, "pasid-iotlb");
	CHECK_STR(d.gran_name, "page");
	CHECK_EQ(d.did, 5);
	CHECK_EQ(d.pasid, 0x1234);
	CHECK_EQ(d.addr, 0x40000000ULL);
	CHECK_EQ(d.am, 18);
	CHECK(d.ih);
	CHECK_EQ(d.rsvd[0] | d.rsvd[1], 0);
	OK(ish_qi_encode_piotlb(ISH_QI_PIOTLB_PASID, 5, 1, 0, 0, false, qw));
	ish_qi_decode(qw, 128, &d);
	CHECK_STR(d.gran_name, "pasid");
	FAILS(ish_qi_encode_piotlb(1, 5, 1, 0, 0, false, qw), ISH_ERROR_INVALID);
	FAILS(ish_qi_encode_piotlb(3, 5, 1, 0x1800, 1, false, qw), ISH_ERROR_INVALID);

	OK(ish_qi_encode_wait(true, true, true, 0xcafe, 0x10008, qw));
	ish_qi_decode(qw, 128, &d);
	CHECK_STR(d.name, "wait");
	CHECK(d.iflag && d.sw && d.fn && !d.pd);
	CHECK_EQ(d.status_data, 0xcafe);
	CHECK_EQ(d.status_addr, 0x10008);
	CHECK_EQ(d.rsvd[0] | d.rsvd[1], 0);
	OK(ish_qi_encode_wait(false, false, true, 0, 0, qw));
	CHECK_EQ(qw[0], 0x45);
	FAILS(ish_qi_encode_wait(false, true, false, 1, 0x10002, qw), ISH_ERROR_INVALID);
	FAILS(ish_qi_encode_wait(false, false, false, 1, 0, qw), ISH_ERROR_INVALID);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("decode_types") test_decode_types();
	CASE("queue_128") test_queue_128();
	CASE("queue_256") test_queue_256();
	CASE("queue_hostile") test_queue_hostile();
	CASE("encode") test_encode();
	return check_report();
}
