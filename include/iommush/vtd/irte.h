/* SPDX-License-Identifier: MIT */
/*
 * Interrupt remapping: IRTA_REG (VT-d 5.0 11.4.7.4), the 128-bit interrupt
 * remapping table entry in remapped (IM=0, 9.10) and posted (IM=1, 9.11)
 * format, the 64-byte posted-interrupt descriptor (9.12), and the remapping
 * of one MSI write (5.1.2 - 5.1.4) as the hardware would do it. Field names
 * follow Linux struct irte (include/linux/dmar.h) and QEMU VTD_IR_*.
 */
#ifndef IOMMUSH_IRTE_H
#define IOMMUSH_IRTE_H

#include <stdbool.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

/* IRTA_REG: address 63:12, EIME 11, S 3:0 (2^(S+1) entries). */
#define VTD_IRTA_EIME		(1ULL << 11)
#define VTD_IRTA_SIZE_MASK	0xfULL
#define ISH_IRTE_SIZE		16u
#define ISH_PID_SIZE		64u
/* CAP.PI (bit 59): posted interrupts supported; IM=1 is reserved without it. */
#define ISH_CAP_PI(c)		((unsigned)(((c) >> 59) & 1))

struct ish_irta {
	uint64_t raw;
	uint64_t addr;		/* table base, 4 KiB aligned */
	bool eime;		/* extended (x2APIC) interrupt mode */
	unsigned s;		/* size field */
	uint32_t entries;	/* 2^(s+1) */
	uint64_t rsvd;		/* reserved bits 10:4 that are set */
};
void ish_irta_decode(uint64_t irta, struct ish_irta *ret);

/* SVT: source validation type; SQ: which requester-id bits are compared. */
enum { ISH_SVT_NONE = 0, ISH_SVT_ALL = 1, ISH_SVT_BUS = 2, ISH_SVT_RSVD = 3 };

struct ish_irte {
	uint32_t index;
	uint64_t lo, hi;	/* raw, bits 63:0 and 127:64 */
	bool present;		/* P, bit 0 */
	bool fpd;		/* FPD, bit 1: fault processing disable */
	bool posted;		/* IM, bit 15 */
	unsigned avail;		/* AVAIL, bits 11:8 (software) */
	uint8_t vector;		/* V, bits 23:16 */
	uint16_t sid;		/* SID, bits 79:64 */
	unsigned sq;		/* SQ, bits 81:80 */
	unsigned svt;		/* SVT, bits 83:82 */
	/* remapped format (IM=0) */
	bool dm;		/* DM, bit 2: 1 = logical destination */
	bool rh;		/* RH, bit 3: redirection hint */
	bool tm;		/* TM, bit 4: 1 = level */
	unsigned dlm;		/* DLM, bits 7:5: delivery mode */
	uint32_t dst_raw;	/* DST, bits 63:32 */
	uint32_t dest;		/* APIC id: x2APIC all 32 bits, xAPIC bits 47:40 */
	/* posted format (IM=1) */
	bool urgent;		/* URG, bit 14 */
	uint64_t pda;		/* posted descriptor address: 127:96 and 63:38, 64-byte aligned */
	/*
	 * Reserved bits that are set (for the format and mode decoded), as masks
	 * over lo and hi; any set bit on a present entry is fault 0x24.
	 */
	uint64_t rsvd_lo, rsvd_hi;
};

/*
 * Decode one IRTE. x2apic is IRTA.EIME (it decides the destination field and
 * which DST bits are reserved); posted_ok is CAP.PI (without it IM=1 is a
 * reserved-bit violation and the entry is decoded as remapped).
 */
void ish_irte_decode(uint64_t lo, uint64_t hi, bool x2apic, bool posted_ok,
		     struct ish_irte *ret);
const char *ish_irte_dlm_name(unsigned dlm);	/* "fixed", "lowest", "smi", ... */
const char *ish_irte_sq_name(unsigned sq);	/* which bits are ignored */
const char *ish_irte_svt_name(unsigned svt);

/* The posted-interrupt descriptor, 9.12: PIR 255:0, ON 256, SN 257, NV 279:272, NDST 319:288. */
struct ish_pid {
	uint64_t raw[8];
	uint64_t pir[4];	/* pir[0] bit 0 = vector 0 */
	bool on;		/* outstanding notification */
	bool sn;		/* suppress notification */
	uint8_t nv;		/* notification vector */
	uint32_t ndst;		/* notification destination, raw */
	uint32_t dest;		/* APIC id: x2APIC all 32 bits, xAPIC bits 15:8 */
	uint64_t rsvd[8];	/* reserved bits that are set, per qword */
	unsigned npending;	/* bits set in PIR */
};
void ish_pid_decode(const uint64_t raw[8], bool x2apic, struct ish_pid *ret);
struct ish_error *ish_pid_read(struct ish_target *t, uint64_t pda, bool x2apic,
			       struct ish_pid *ret);

/* What one unit says about interrupt remapping. */
struct ish_ir_state {
	uint64_t cap, ecap;
	uint32_t gsts;
	bool have_gsts;
	bool ires;		/* GSTS.IRES: remapping enabled */
	bool irtps;		/* GSTS.IRTPS: IRTA latched */
	bool cfis;		/* GSTS.CFIS: compatibility format allowed */
	struct ish_irta irta;
};
/* Reads CAP, ECAP, IRTA (required) and GSTS (optional). */
struct ish_error *ish_ir_state_read(struct ish_target *t, unsigned unit, struct ish_ir_state *ret);

/*
 * Read IRTE index of the table at irta. An index beyond the table is
 * ISH_ERROR_INVALID; an entry outside memory is ISH_ERROR_FAULT.
 */
struct ish_error *ish_irte_read(struct ish_target *t, const struct ish_ir_state *ir,
				uint32_t index, struct ish_irte *ret);

/* MSI address/data as a device writes them (5.1.2.1 compatibility, 5.1.2.2 remappable). */
#define ISH_MSI_ADDR_BASE	0xfee00000u
#define ISH_MSI_ADDR_MASK	0xfff00000u

struct ish_msi_remap {
	uint64_t addr;
	uint32_t data;
	uint16_t sid;		/* requester id of the writer */
	bool remappable;	/* address bit 4 */
	bool shv;		/* address bit 3: subhandle valid */
	uint32_t handle;	/* address bit 2 (handle 15) and 19:5 (handle 14:0) */
	uint32_t subhandle;	/* data 15:0 when shv */
	uint32_t index;		/* handle + subhandle (may exceed 16 bits) */
	/* Not remapped: IR disabled, or an allowed compatibility-format request. */
	bool passthrough;
	unsigned fault;		/* 0, or ISH_FR_IR_* */
	bool fault_recorded;	/* false when the IRTE's FPD suppresses recording */
	bool have_irte;
	struct ish_irte irte;
	bool have_pid;		/* posted: the descriptor was read */
	struct ish_pid pid;
	/* The interrupt delivered (remapped or passthrough). */
	uint8_t vector;
	uint32_t dest;
	bool dm, rh, tm;
	unsigned dlm;
};

/*
 * What the hardware would do with an MSI write of data to addr from sid:
 * the IRTE index and the resulting interrupt, or an interrupt-remapping
 * fault code in ret->fault. Fails (ISH_ERROR_INVALID) only when addr is not
 * in the interrupt range 0xfeexxxxx.
 */
struct ish_error *ish_msi_remap(struct ish_target *t, const struct ish_ir_state *ir,
				uint64_t addr, uint32_t data, uint16_t sid,
				struct ish_msi_remap *ret);

#ifdef __cplusplus
}
#endif

#endif
