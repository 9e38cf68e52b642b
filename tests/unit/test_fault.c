// SPDX-License-Identifier: MIT
/* Fault reasons, fault recording registers and FSTS/FECTL (VT-d 7.2, 11.4.9-11.4.14). */
#include <iommush/vtd/fault.h>
#include <iommush/mem.h>
#include <iommush/target.h>
#include <iommush/vtd/vtd.h>

#include "check.h"

static void test_reason_texts(void)
{
	/* One code of every group, checked against the spec's meaning. */
	CHECK(strstr(ish_fault_reason_text(ISH_FR_ROOT_ENTRY_P, false), "Root entry not present"));
	CHECK(strstr(ish_fault_reason_text(0x05, false), "Write"));
	CHECK(strstr(ish_fault_reason_text(0x06, false), "Read"));
	CHECK(strstr(ish_fault_reason_text(0x0d, false), "translation type"));
	CHECK(strstr(ish_fault_reason_text(0x0e, false), "interrupt range"));
	CHECK(strstr(ish_fault_reason_text(0x21, false), "index beyond"));
	CHECK(strstr(ish_fault_reason_text(0x22, true), "IRTE not present"));
	CHECK(strstr(ish_fault_reason_text(0x25, false), "Compatibility"));
	CHECK(strstr(ish_fault_reason_text(0x26, false), "source-id"));
	CHECK(strstr(ish_fault_reason_text(0x27, false), "posted-interrupt descriptor"));
	CHECK(strstr(ish_fault_reason_text(0x30, true), "root table address"));
	CHECK(strstr(ish_fault_reason_text(0x39, true), "root entry not present"));
	CHECK(strstr(ish_fault_reason_text(0x41, true), "context entry not present"));
	CHECK(strstr(ish_fault_reason_text(0x47, true), "PRE clear"));
	CHECK(strstr(ish_fault_reason_text(0x59, true), "PASID table entry not present"));
	CHECK(strstr(ish_fault_reason_text(0x5b, true), "programmed invalidly"));
	CHECK(strstr(ish_fault_reason_text(0x71, true), "first-stage paging entry not present"));
	CHECK(strstr(ish_fault_reason_text(0x80, true), "canonical"));
	CHECK(strstr(ish_fault_reason_text(0x85, true), "write"));
	CHECK(strstr(ish_fault_reason_text(0x87, true), "interrupt range"));
	CHECK(strstr(ish_fault_reason_text(0x91, true), "A/D"));
	/* A code of the other mode is still named. */
	CHECK(strstr(ish_fault_reason_text(0x59, false), "PASID table entry not present"));
	CHECK(strstr(ish_fault_reason_text(0x02, true), "Context entry not present"));
	/* Unknown codes: holes in every range and past the end. */
	CHECK_STR(ish_fault_reason_text(0x0f, false), "Unknown fault reason");
	CHECK_STR(ish_fault_reason_text(0x28, false), "Unknown fault reason");
	CHECK_STR(ish_fault_reason_text(0x33, true), "Unknown fault reason");
	CHECK_STR(ish_fault_reason_text(0x49, true), "Unknown fault reason");
	CHECK_STR(ish_fault_reason_text(0x92, true), "Unknown fault reason");
	CHECK_STR(ish_fault_reason_text(0xff, true), "Unknown fault reason");
	CHECK_STR(ish_fault_reason_text(0x1234, true), "Unknown fault reason");

	CHECK_EQ(ish_fault_reason_kind(0x00), ISH_FAULT_KIND_UNKNOWN);
	CHECK_EQ(ish_fault_reason_kind(0x0c), ISH_FAULT_KIND_LEGACY);
	CHECK_EQ(ish_fault_reason_kind(0x20), ISH_FAULT_KIND_IR);
	CHECK_EQ(ish_fault_reason_kind(0x27), ISH_FAULT_KIND_IR);
	CHECK_EQ(ish_fault_reason_kind(0x28), ISH_FAULT_KIND_UNKNOWN);
	CHECK_EQ(ish_fault_reason_kind(0x30), ISH_FAULT_KIND_SCALABLE);
	CHECK_EQ(ish_fault_reason_kind(0x90), ISH_FAULT_KIND_SCALABLE);
	CHECK(ish_fault_reason_in_mode(0x24, true) && ish_fault_reason_in_mode(0x24, false));
	CHECK(ish_fault_reason_in_mode(0x05, false) && !ish_fault_reason_in_mode(0x05, true));
	CHECK(ish_fault_reason_in_mode(0x85, true) && !ish_fault_reason_in_mode(0x85, false));
	CHECK(!ish_fault_reason_in_mode(0x33, true));
}

/* The high qword of a record from its fields (bit positions minus 64). */
static uint64_t frcd_hi(bool f, unsigned t2, unsigned t1, unsigned at, uint32_t pasid,
			unsigned fr, bool pp, bool exe, bool priv, uint16_t sid)
{
	return (uint64_t)f << 63 | (uint64_t)t1 << 62 | (uint64_t)at << 60 |
	       (uint64_t)pasid << 40 | (uint64_t)fr << 32 | (uint64_t)pp << 31 |
	       (uint64_t)exe << 30 | (uint64_t)priv << 29 | (uint64_t)t2 << 28 | sid;
}

static void test_decode_record(void)
{
	struct ish_fault_record r;

	/* A DMA write fault, no PASID: 00:03.0 at 0x12345000, reason 5. */
	ish_fault_decode_record(0x12345000, frcd_hi(1, 0, 0, 0, 0, 5, 0, 0, 0, 0x0018), false, &r);
	CHECK(r.valid);
	CHECK_EQ(r.type, ISH_FAULT_WRITE);
	CHECK_EQ(r.addr, 0x12345000);
	CHECK_EQ(r.sid, 0x18);
	CHECK_EQ(r.reason, 5);
	CHECK(!r.pasid_present);
	CHECK(!r.irq);
	CHECK_STR(ish_fault_type_name(r.type), "write");
	CHECK(strstr(r.text, "Write"));

	/* Every field at once, with non-zero low bits of FI that are not address. */
	ish_fault_decode_record(0xfedcba9876543fffULL,
				frcd_hi(1, 0, 1, 2, 0xabcde, 0x85, 1, 1, 1, 0xbeef), true, &r);
	CHECK(r.valid);
	CHECK_EQ(r.type, ISH_FAULT_READ);
	CHECK_EQ(r.at, 2);
	CHECK(r.pasid_present);
	CHECK_EQ(r.pasid, 0xabcde);
	CHECK(r.exe);
	CHECK(r.priv);
	CHECK_EQ(r.reason, 0x85);
	CHECK_EQ(r.sid, 0xbeef);
	CHECK_EQ(r.addr, 0xfedcba9876543000ULL);
	CHECK_EQ(r.lo, 0xfedcba9876543fffULL);
	CHECK(strstr(r.text, "SM:"));

	/* Page request: T2=1, T1=0; reserved T2=1 T1=1. */
	ish_fault_decode_record(0, frcd_hi(1, 1, 0, 0, 0, 0x47, 0, 0, 0, 1), true, &r);
	CHECK_EQ(r.type, ISH_FAULT_PAGE_REQ);
	CHECK_STR(ish_fault_type_name(r.type), "page-request");
	ish_fault_decode_record(0, frcd_hi(1, 1, 1, 0, 0, 0x47, 0, 0, 0, 1), true, &r);
	CHECK_EQ(r.type, ISH_FAULT_TYPE_RSVD);

	/* Interrupt-remapping fault: FI 63:48 is the interrupt index. */
	ish_fault_decode_record(0x002a000000000000ULL, frcd_hi(1, 0, 0, 0, 0, 0x22, 0, 0, 0, 0x0100),
				false, &r);
	CHECK(r.irq);
	CHECK_EQ(r.irq_index, 0x2a);
	CHECK(strstr(r.text, "IRTE not present"));

	/* F clear: still decoded, but not valid. */
	ish_fault_decode_record(0x1000, frcd_hi(0, 0, 1, 0, 0, 6, 0, 0, 0, 8), false, &r);
	CHECK(!r.valid);
	CHECK_EQ(r.reason, 6);
}

#define CAP_FRO_NFR(fro_bytes, nfr) \
	((uint64_t)((fro_bytes) / 16) << 24 | (uint64_t)((nfr) - 1) << 40)

static void test_faults_read(void)
{
	struct ish_target *t;
	struct ish_faults *f;
	unsigned u;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_unit(t, 0xfed90000, 0, &u));
	OK(ish_mem_set_reg(t, u, DMAR_CAP_REG, 64, CAP_FRO_NFR(0x220, 4)));
	OK(ish_mem_set_reg(t, u, DMAR_FSTS_REG, 32, DMA_FSTS_PPF | DMA_FSTS_IQE | 1u << 8));
	OK(ish_mem_set_reg(t, u, DMAR_FECTL_REG, 32, DMA_FECTL_IM | DMA_FECTL_IP));
	OK(ish_mem_set_reg(t, u, DMAR_RTADDR_REG, 64, 0x5000 | 1u << 10));
	/* record 0 clear, 1 a DMA read fault, 2 an IR fault, 3 left unreadable */
	OK(ish_mem_set_reg(t, u, 0x220, 64, 0));
	OK(ish_mem_set_reg(t, u, 0x228, 64, 0));
	OK(ish_mem_set_reg(t, u, 0x230, 64, 0xdead000));
	OK(ish_mem_set_reg(t, u, 0x238, 64, frcd_hi(1, 0, 1, 0, 7, 0x59, 1, 0, 0, 0x0208)));
	OK(ish_mem_set_reg(t, u, 0x240, 64, 0x0005000000000000ULL));
	OK(ish_mem_set_reg(t, u, 0x248, 64, frcd_hi(1, 0, 0, 0, 0, 0x26, 0, 0, 0, 0x0300)));

	OK(ish_faults_read(t, u, &f));
	CHECK_EQ(f->nfr, 4);
	CHECK_EQ(f->fro, 0x220);
	CHECK_EQ(f->fri, 1);
	CHECK(f->fsts & DMA_FSTS_PPF);
	CHECK(f->fsts & DMA_FSTS_IQE);
	CHECK(!(f->fsts & DMA_FSTS_PFO));
	CHECK(f->have_fectl);
	CHECK(f->fectl & DMA_FECTL_IM);
	CHECK(f->scalable);
	CHECK_EQ(f->nvalid, 2);
	CHECK_EQ(f->nunreadable, 1);
	CHECK(f->readable[0] && !f->rec[0].valid);
	CHECK(f->rec[1].valid);
	CHECK_EQ(f->rec[1].index, 1);
	CHECK_EQ(f->rec[1].addr, 0xdead000);
	CHECK_EQ(f->rec[1].sid, 0x0208);
	CHECK_EQ(f->rec[1].pasid, 7);
	CHECK(f->rec[1].pasid_present);
	CHECK(strstr(f->rec[1].text, "PASID table entry not present"));
	CHECK(f->rec[2].irq);
	CHECK_EQ(f->rec[2].irq_index, 5);
	CHECK_EQ(f->rec[2].reason, 0x26);
	CHECK(!f->readable[3]);
	CHECK_EQ(f->rec[3].index, 3);
	ish_faults_destroy(f);
	ish_faults_destroy(NULL);

	/* Without CAP the read fails cleanly. */
	OK(ish_mem_add_unit(t, 0xfed91000, 0, &u));
	FAILS(ish_faults_read(t, u, &f), ISH_ERROR_NOT_FOUND);
	ish_target_close(t);
}

/* Hostile CAP: the largest FRO and NFR; nothing is captured, nothing may crash. */
static void test_faults_hostile(void)
{
	struct ish_target *t;
	struct ish_faults *f;
	unsigned u;

	OK(ish_mem_open(&t));
	OK(ish_mem_add_unit(t, 0xfed90000, 0, &u));
	OK(ish_mem_set_reg(t, u, DMAR_CAP_REG, 64, ~0ULL));
	OK(ish_mem_set_reg(t, u, DMAR_FSTS_REG, 32, 0xffffffff));
	OK(ish_faults_read(t, u, &f));
	CHECK_EQ(f->nfr, 256);
	CHECK_EQ(f->fro, 0x3ff0);
	CHECK_EQ(f->fri, 0xff);
	CHECK_EQ(f->nunreadable, 256);
	CHECK_EQ(f->nvalid, 0);
	CHECK(!f->have_fectl);
	CHECK(!f->scalable);
	ish_faults_destroy(f);
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	check_init(argc, argv);
	CASE("reason_texts") test_reason_texts();
	CASE("decode_record") test_decode_record();
	CASE("faults_read") test_faults_read();
	CASE("faults_hostile") test_faults_hostile();
	return check_report();
}
