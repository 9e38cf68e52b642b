// SPDX-License-Identifier: MIT
/* Interrupt remapping: IRTA, IRTEs (remapped, posted), posted descriptors, MSI remapping. */
#include <iommush/vtd/fault.h>
#include <iommush/vtd/irte.h>
#include <iommush/mem.h>
#include <iommush/target.h>
#include <iommush/vtd/vtd.h>

#include "check.h"

#define RAM_BASE 0x100000ULL
#define RAM_SIZE 0x200000ULL
#define IRT 0x100000ULL		/* 16 entries, S=3 */
#define PID_ADDR 0x200040ULL
#define CAP_PI (1ULL << 59)

/* Remapped-format low qword. */
static uint64_t rlo(bool p, bool fpd, bool dm, bool rh, bool tm, unsigned dlm, uint8_t vec,
		    uint32_t dst)
{
	return (uint64_t)p | (uint64_t)fpd << 1 | (uint64_t)dm << 2 | (uint64_t)rh << 3 |
	       (uint64_t)tm << 4 | (uint64_t)dlm << 5 | (uint64_t)vec << 16 | (uint64_t)dst << 32;
}

static uint64_t shi(uint16_t sid, unsigned sq, unsigned svt)
{
	return sid | (uint64_t)sq << 16 | (uint64_t)svt << 18;
}

/* Posted format. */
static void posted(uint64_t pda, bool urg, uint8_t vec, uint16_t sid, unsigned sq, unsigned svt,
		   uint64_t *lo, uint64_t *hi)
{
	*lo = 1 | 1ULL << 15 | (uint64_t)urg << 14 | (uint64_t)vec << 16 |
	      ((pda >> 6) & ((1ULL << 26) - 1)) << 38;
	*hi = shi(sid, sq, svt) | (pda >> 32) << 32;
}

static void put_irte(struct ish_target *t, unsigned i, uint64_t lo, uint64_t hi)
{
	CHECK(ish_mem_put64(t, IRT + 16 * i, lo));
	CHECK(ish_mem_put64(t, IRT + 16 * i + 8, hi));
}

static uint64_t msi_addr(uint32_t handle, bool remappable, bool shv)
{
	return 0xfee00000ULL | (uint64_t)(handle & 0x7fff) << 5 | (uint64_t)remappable << 4 |
	       (uint64_t)shv << 3 | (uint64_t)((handle >> 15) & 1) << 2;
}

static struct ish_target *setup(unsigned *u)
{
	struct ish_target *t;
	uint64_t lo, hi;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_ram(t, RAM_BASE, RAM_SIZE, NULL));
	OK(ish_mem_add_unit(t, 0xfed90000, 0, u));
	OK(ish_mem_set_reg(t, *u, DMAR_CAP_REG, 64, CAP_PI));
	OK(ish_mem_set_reg(t, *u, DMAR_ECAP_REG, 64, 1u << 3));
	OK(ish_mem_set_reg(t, *u, DMAR_IRTA_REG, 64, IRT | 3));
	OK(ish_mem_set_reg(t, *u, DMAR_GSTS_REG, 32, DMA_GSTS_IRES | DMA_GSTS_IRTPS));

	put_irte(t, 0, rlo(1, 0, 0, 1, 1, 0, 0x31, 0x05u << 8), shi(0x0018, 0, 1));
	put_irte(t, 1, rlo(0, 1, 0, 0, 0, 0, 0x99, 0), 0);
	put_irte(t, 2, rlo(1, 0, 0, 0, 0, 0, 0x32, 0) | 1ULL << 24, 0);
	posted(PID_ADDR, true, 0x40, 0x0018, 0, 1, &lo, &hi);
	put_irte(t, 3, lo, hi);
	put_irte(t, 4, rlo(1, 0, 1, 0, 0, 1, 0x34, 0x0f00), shi(0x0205, 0, 2));
	put_irte(t, 5, rlo(1, 0, 0, 0, 0, 0, 0x35, 0x0100), shi(0x0018, 3, 1));
	posted(0x7fffffc0ULL, false, 0x41, 0, 0, 0, &lo, &hi);	/* PID outside memory */
	put_irte(t, 6, lo, hi);
	put_irte(t, 7, rlo(1, 0, 0, 0, 0, 4, 0x37, 0x12345678), 0);
	put_irte(t, 8, rlo(1, 1, 0, 0, 0, 0, 0x38, 0), shi(0x0010, 0, 1));

	/* The posted descriptor for entry 3: vector 0x40 and 0x41 pending, ON, NV 0xf2, dest 3. */
	CHECK(ish_mem_put64(t, PID_ADDR + 8, 3));
	CHECK(ish_mem_put64(t, PID_ADDR + 32, 1 | 0xf2ULL << 16 | 0x0300ULL << 32));
	return t;
}

static void test_irta(void)
{
	struct ish_irta a;

	ish_irta_decode(0x123456000ULL | VTD_IRTA_EIME | 0xf, &a);
	CHECK_EQ(a.addr, 0x123456000ULL);
	CHECK(a.eime);
	CHECK_EQ(a.s, 15);
	CHECK_EQ(a.entries, 65536);
	CHECK_EQ(a.rsvd, 0);
	ish_irta_decode(0x1000 | 0x10, &a);
	CHECK_EQ(a.entries, 2);
	CHECK(!a.eime);
	CHECK_EQ(a.rsvd, 0x10);
}

static void test_decode(void)
{
	struct ish_irte e;
	uint64_t lo, hi;

	/* Remapped, xAPIC: destination is DST 15:8 (bits 47:40). */
	ish_irte_decode(rlo(1, 1, 1, 1, 1, 7, 0xab, 0x0500), shi(0x1234, 2, 1), false, false, &e);
	CHECK(e.present && e.fpd && e.dm && e.rh && e.tm);
	CHECK(!e.posted);
	CHECK_EQ(e.dlm, 7);
	CHECK_STR(ish_irte_dlm_name(e.dlm), "extint");
	CHECK_EQ(e.vector, 0xab);
	CHECK_EQ(e.dst_raw, 0x0500);
	CHECK_EQ(e.dest, 5);
	CHECK_EQ(e.sid, 0x1234);
	CHECK_EQ(e.sq, 2);
	CHECK_EQ(e.svt, 1);
	CHECK_EQ(e.rsvd_lo, 0);
	CHECK_EQ(e.rsvd_hi, 0);
	CHECK_STR(ish_irte_svt_name(e.svt), "requester-id");
	CHECK_STR(ish_irte_sq_name(3), "ignore-bits3:1");

	/* AVAIL is software's; not reserved. */
	ish_irte_decode(rlo(1, 0, 0, 0, 0, 0, 1, 0) | 0xf00, 0, false, false, &e);
	CHECK_EQ(e.avail, 0xf);
	CHECK_EQ(e.rsvd_lo, 0);

	/* x2APIC: all 32 bits; xAPIC: bits 39:32 and 63:48 are reserved. */
	ish_irte_decode(rlo(1, 0, 0, 0, 0, 0, 1, 0x12345678), 0, true, false, &e);
	CHECK_EQ(e.dest, 0x12345678);
	CHECK_EQ(e.rsvd_lo, 0);
	ish_irte_decode(rlo(1, 0, 0, 0, 0, 0, 1, 0x12345678), 0, false, false, &e);
	CHECK_EQ(e.dest, 0x56);
	CHECK_EQ(e.rsvd_lo, 0x1234007800000000ULL);

	/* Reserved bits: 14:12, 31:24, 127:84, and SVT=3. */
	ish_irte_decode(rlo(1, 0, 0, 0, 0, 0, 1, 0) | 0x7000 | 0xff000000ULL, 1ULL << 20 | 3u << 18,
			true, false, &e);
	CHECK_EQ(e.rsvd_lo, 0xff007000ULL);
	CHECK_EQ(e.rsvd_hi, 0x1c0000ULL);

	/* Posted: URG, vector, PDA from 127:96 and 63:38. */
	posted(0xabcdef12345640ULL, true, 0x66, 0x0101, 1, 1, &lo, &hi);
	ish_irte_decode(lo, hi, false, true, &e);
	CHECK(e.posted);
	CHECK(e.urgent);
	CHECK_EQ(e.vector, 0x66);
	CHECK_EQ(e.pda, 0xabcdef12345640ULL);
	CHECK_EQ(e.sid, 0x0101);
	CHECK_EQ(e.sq, 1);
	CHECK_EQ(e.rsvd_lo, 0);
	CHECK_EQ(e.rsvd_hi, 0);
	/* posted reserved bits: 7:2, 13:12, 37:24, 95:84 */
	ish_irte_decode(lo | 0x4 | 0x1000 | 1ULL << 30, hi | 1ULL << 25, false, true, &e);
	CHECK_EQ(e.rsvd_lo, 0x4 | 0x1000 | 1ULL << 30);
	CHECK_EQ(e.rsvd_hi, 1ULL << 25);
	/* Without CAP.PI, IM is a reserved bit. */
	ish_irte_decode(lo, hi, false, false, &e);
	CHECK(!e.posted);
	CHECK(e.rsvd_lo & 1ULL << 15);
}

static void test_pid(void)
{
	struct ish_target *t;
	struct ish_pid p;
	uint64_t raw[8] = { 1, 0, 0, 1ULL << 63, 2 | 0x41ULL << 16 | 0x0000ff00ULL << 32, 0, 0, 1 };
	unsigned u;

	ish_pid_decode(raw, false, &p);
	CHECK(!p.on);
	CHECK(p.sn);
	CHECK_EQ(p.nv, 0x41);
	CHECK_EQ(p.ndst, 0xff00);
	CHECK_EQ(p.dest, 0xff);
	CHECK_EQ(p.npending, 2);
	CHECK_EQ(p.pir[3], 1ULL << 63);
	CHECK_EQ(p.rsvd[7], 1);
	CHECK_EQ(p.rsvd[4], 0);
	raw[4] |= 1ULL << 5 | 1ULL << 33;	/* reserved 15:2; xAPIC NDST 7:0 */
	ish_pid_decode(raw, false, &p);
	CHECK_EQ(p.rsvd[4], 1ULL << 5 | 1ULL << 33);
	ish_pid_decode(raw, true, &p);
	CHECK_EQ(p.rsvd[4], 1ULL << 5);
	CHECK_EQ(p.dest, 0xff02);

	t = setup(&u);
	OK(ish_pid_read(t, PID_ADDR, false, &p));
	CHECK(p.on);
	CHECK_EQ(p.nv, 0xf2);
	CHECK_EQ(p.dest, 3);
	CHECK_EQ(p.pir[1], 3);
	CHECK_EQ(p.npending, 2);
	FAILS(ish_pid_read(t, PID_ADDR + 8, false, &p), ISH_ERROR_INVALID);
	FAILS(ish_pid_read(t, RAM_BASE + RAM_SIZE, false, &p), ISH_ERROR_FAULT);
	ish_target_close(t);
}

static void test_read_table(void)
{
	struct ish_target *t;
	struct ish_ir_state ir;
	struct ish_irte e;
	unsigned u, n;

	t = setup(&u);
	OK(ish_ir_state_read(t, u, &ir));
	CHECK(ir.ires);
	CHECK(ir.irtps);
	CHECK(!ir.cfis);
	CHECK_EQ(ir.irta.entries, 16);
	OK(ish_irte_read(t, &ir, 0, &e));
	CHECK_EQ(e.index, 0);
	CHECK_EQ(e.vector, 0x31);
	CHECK_EQ(e.dest, 5);
	OK(ish_irte_read(t, &ir, 3, &e));
	CHECK(e.posted);
	CHECK_EQ(e.pda, PID_ADDR);
	FAILS(ish_irte_read(t, &ir, 16, &e), ISH_ERROR_INVALID);

	/* Hostile: S=15 (1 MiB table) at the last page of RAM; the walk stops at memory's end. */
	OK(ish_mem_set_reg(t, u, DMAR_IRTA_REG, 64, (RAM_BASE + RAM_SIZE - 0x1000) | 0xf));
	OK(ish_ir_state_read(t, u, &ir));
	CHECK_EQ(ir.irta.entries, 65536);
	for (n = 0; n < ir.irta.entries; n++) {
		struct ish_error *err = ish_irte_read(t, &ir, n, &e);

		if (err) {
			CHECK_EQ(err->code, ISH_ERROR_FAULT);
			ish_error_destroy(err);
			break;
		}
	}
	CHECK_EQ(n, 256);

	/* IRTA unreadable: the state read fails. */
	OK(ish_mem_add_unit(t, 0xfed91000, 0, &u));
	OK(ish_mem_set_reg(t, u, DMAR_CAP_REG, 64, 0));
	OK(ish_mem_set_reg(t, u, DMAR_ECAP_REG, 64, 0));
	FAILS(ish_ir_state_read(t, u, &ir), ISH_ERROR_NOT_FOUND);
	ish_target_close(t);
}

static void test_msi(void)
{
	struct ish_target *t;
	struct ish_ir_state ir;
	struct ish_msi_remap r;
	unsigned u;

	t = setup(&u);
	OK(ish_ir_state_read(t, u, &ir));

	/* Remapped through entry 0. */
	OK(ish_msi_remap(t, &ir, msi_addr(0, true, false), 0, 0x0018, &r));
	CHECK(r.remappable);
	CHECK_EQ(r.index, 0);
	CHECK_EQ(r.fault, 0);
	CHECK(!r.passthrough);
	CHECK_EQ(r.vector, 0x31);
	CHECK_EQ(r.dest, 5);
	CHECK(r.rh && r.tm && !r.dm);
	CHECK_EQ(r.dlm, 0);

	/* Subhandle: handle 2 + data 2 = entry 4 (bus range 2..5, requester on bus 3). */
	OK(ish_msi_remap(t, &ir, msi_addr(2, true, true), 2, 0x0300, &r));
	CHECK(r.shv);
	CHECK_EQ(r.handle, 2);
	CHECK_EQ(r.subhandle, 2);
	CHECK_EQ(r.index, 4);
	CHECK_EQ(r.fault, 0);
	CHECK_EQ(r.vector, 0x34);
	CHECK(r.dm);
	CHECK_EQ(r.dlm, 1);
	/* Without SHV the data is ignored for the index. */
	OK(ish_msi_remap(t, &ir, msi_addr(2, true, false), 2, 0x0300, &r));
	CHECK_EQ(r.index, 2);
	/* Bus 6 is outside 2..5. */
	OK(ish_msi_remap(t, &ir, msi_addr(4, true, false), 0, 0x0600, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_SID_ERR);
	CHECK(r.fault_recorded);

	/* SQ=3 ignores requester-id bits 3:1 but not bit 0. */
	OK(ish_msi_remap(t, &ir, msi_addr(5, true, false), 0, 0x001e, &r));
	CHECK_EQ(r.fault, 0);
	OK(ish_msi_remap(t, &ir, msi_addr(5, true, false), 0, 0x0019, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_SID_ERR);
	/* SQ=0 compares every bit. */
	OK(ish_msi_remap(t, &ir, msi_addr(0, true, false), 0, 0x0019, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_SID_ERR);

	/* 0x20: reserved data bits in a remappable request. */
	OK(ish_msi_remap(t, &ir, msi_addr(0, true, false), 1u << 16, 0x0018, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_REQ_RSVD);
	/* 0x21: index beyond 16 entries, also through handle bit 15 and a subhandle. */
	OK(ish_msi_remap(t, &ir, msi_addr(16, true, false), 0, 0x0018, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_INDEX_OVER);
	OK(ish_msi_remap(t, &ir, msi_addr(0x8000, true, false), 0, 0x0018, &r));
	CHECK_EQ(r.handle, 0x8000);
	CHECK_EQ(r.fault, ISH_FR_IR_INDEX_OVER);
	OK(ish_msi_remap(t, &ir, msi_addr(15, true, true), 1, 0x0018, &r));
	CHECK_EQ(r.index, 16);
	CHECK_EQ(r.fault, ISH_FR_IR_INDEX_OVER);
	/* 0x22: not present; its FPD suppresses recording. */
	OK(ish_msi_remap(t, &ir, msi_addr(1, true, false), 0, 0x0018, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_ENTRY_P);
	CHECK(r.have_irte);
	CHECK(!r.fault_recorded);
	/* 0x24: reserved bits in a present entry. */
	OK(ish_msi_remap(t, &ir, msi_addr(2, true, false), 0, 0x0018, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_IRTE_RSVD);
	/* xAPIC mode: entry 7's DST uses reserved bits; in x2APIC mode it is fine. */
	OK(ish_msi_remap(t, &ir, msi_addr(7, true, false), 0, 0x0018, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_IRTE_RSVD);
	/* FPD on a SID fault: not recorded. */
	OK(ish_msi_remap(t, &ir, msi_addr(8, true, false), 0, 0x0018, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_SID_ERR);
	CHECK(!r.fault_recorded);

	/* Posted: the vector goes to the PIR, notification NV to NDST. */
	OK(ish_msi_remap(t, &ir, msi_addr(3, true, false), 0, 0x0018, &r));
	CHECK_EQ(r.fault, 0);
	CHECK(r.irte.posted);
	CHECK(r.have_pid);
	CHECK_EQ(r.vector, 0x40);
	CHECK_EQ(r.pid.nv, 0xf2);
	CHECK_EQ(r.dest, 3);
	/* 0x27: descriptor outside memory. */
	OK(ish_msi_remap(t, &ir, msi_addr(6, true, false), 0, 0, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_PID_ACCESS);

	/* 0x25: compatibility format while CFIS is clear; allowed once CFIS is set. */
	OK(ish_msi_remap(t, &ir, 0xfee0500cULL, 0x8041, 0x0018, &r));
	CHECK(!r.remappable);
	CHECK_EQ(r.fault, ISH_FR_IR_REQ_COMPAT);
	ir.cfis = true;
	OK(ish_msi_remap(t, &ir, 0xfee0500cULL, 0x8441, 0x0018, &r));
	CHECK_EQ(r.fault, 0);
	CHECK(r.passthrough);
	CHECK_EQ(r.dest, 5);
	CHECK_EQ(r.vector, 0x41);
	CHECK_EQ(r.dlm, 4);
	CHECK(r.tm && r.rh && r.dm);
	/* EIME blocks compatibility format even with CFIS set. */
	ir.irta.eime = true;
	OK(ish_msi_remap(t, &ir, 0xfee0500cULL, 0x8441, 0x0018, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_REQ_COMPAT);
	/* x2APIC: entry 7 remaps to a 32-bit destination. */
	OK(ish_msi_remap(t, &ir, msi_addr(7, true, false), 0, 0x0018, &r));
	CHECK_EQ(r.fault, 0);
	CHECK_EQ(r.dest, 0x12345678);
	CHECK_EQ(r.dlm, 4);
	ir.irta.eime = false;

	/* 0x23: the table itself is out of memory. */
	ir.irta.addr = 0x40000000ULL;
	OK(ish_msi_remap(t, &ir, msi_addr(0, true, false), 0, 0x0018, &r));
	CHECK_EQ(r.fault, ISH_FR_IR_ROOT_INVAL);
	CHECK(!r.have_irte);

	/* IR disabled: nothing is remapped. */
	ir.ires = false;
	OK(ish_msi_remap(t, &ir, msi_addr(0, true, false), 0x31, 0x0018, &r));
	CHECK(r.passthrough);
	CHECK_EQ(r.fault, 0);

	FAILS(ish_msi_remap(t, &ir, 0xfed00000ULL, 0, 0, &r), ISH_ERROR_INVALID);
	FAILS(ish_msi_remap(t, &ir, 0x1fee00000ULL, 0, 0, &r), ISH_ERROR_INVALID);
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("irta") test_irta();
	CASE("decode") test_decode();
	CASE("pid") test_pid();
	CASE("read_table") test_read_table();
	CASE("msi") test_msi();
	return check_report();
}
