/* SPDX-License-Identifier: MIT */
/*
 * Fault reasons and fault recording (VT-d 5.0: 7.1-7.2 fault logging,
 * 11.4.9 FSTS_REG, 11.4.10 FECTL_REG, 11.4.14 FRCD_REG, Appendix A fault
 * reason encodings). Enum names follow QEMU's VTD_FR_* so grep finds both.
 */
#ifndef IOMMUSH_FAULT_H
#define IOMMUSH_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>
#include <iommush/vtd/vtd.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Fault reason codes (VT-d Appendix A). Legacy-mode DMA remapping uses
 * 0x01..0x0e, interrupt remapping 0x20..0x27 in both modes, scalable-mode
 * DMA remapping 0x30..0x91. The codes of the three groups do not overlap.
 */
enum ish_fault_reason {
	ISH_FR_RESERVED = 0x00,			/* no fault / software use */
	/* legacy mode (LRT.x, LCT.x, LSL.x, LGN.x conditions) */
	ISH_FR_ROOT_ENTRY_P = 0x01,
	ISH_FR_CONTEXT_ENTRY_P = 0x02,
	ISH_FR_CONTEXT_ENTRY_INV = 0x03,
	ISH_FR_ADDR_BEYOND_MGAW = 0x04,
	ISH_FR_WRITE = 0x05,
	ISH_FR_READ = 0x06,
	ISH_FR_PAGING_ENTRY_INV = 0x07,
	ISH_FR_ROOT_TABLE_INV = 0x08,
	ISH_FR_CONTEXT_TABLE_INV = 0x09,
	ISH_FR_ROOT_ENTRY_RSVD = 0x0a,
	ISH_FR_CONTEXT_ENTRY_RSVD = 0x0b,
	ISH_FR_PAGING_ENTRY_RSVD = 0x0c,
	ISH_FR_CONTEXT_ENTRY_TT = 0x0d,
	ISH_FR_INTERRUPT_ADDR = 0x0e,
	/* interrupt remapping (9.10, 5.1.4) */
	ISH_FR_IR_REQ_RSVD = 0x20,
	ISH_FR_IR_INDEX_OVER = 0x21,
	ISH_FR_IR_ENTRY_P = 0x22,
	ISH_FR_IR_ROOT_INVAL = 0x23,
	ISH_FR_IR_IRTE_RSVD = 0x24,
	ISH_FR_IR_REQ_COMPAT = 0x25,
	ISH_FR_IR_SID_ERR = 0x26,
	ISH_FR_IR_PID_ACCESS = 0x27,		/* posted-interrupt descriptor unreadable */
	/* scalable mode (SRT.x, SCT.x, SPD.x, SPT.x, SFL/SSL/SNG/SFS.x) */
	ISH_FR_SM_RTADDR_INV = 0x30,
	ISH_FR_RTADDR_INV_TTM = 0x31,
	ISH_FR_SM_TTM_PGREQ = 0x32,
	ISH_FR_SM_ROOT_ACCESS_ERR = 0x38,
	ISH_FR_SM_ROOT_ENTRY_P = 0x39,
	ISH_FR_SM_ROOT_ENTRY_RSVD = 0x3a,
	ISH_FR_SM_CONTEXT_ACCESS_ERR = 0x40,
	ISH_FR_SM_CONTEXT_ENTRY_P = 0x41,
	ISH_FR_SM_CONTEXT_ENTRY_RSVD = 0x42,
	ISH_FR_SM_CONTEXT_ENTRY_INV = 0x43,
	ISH_FR_SM_DTE_CLEAR = 0x44,
	ISH_FR_SM_PASIDE_CLEAR = 0x45,
	ISH_FR_SM_PASID_TOO_BIG = 0x46,
	ISH_FR_SM_PRE_ABS = 0x47,
	ISH_FR_SM_RID_PASID_ERR = 0x48,
	ISH_FR_PASID_DIR_ACCESS_ERR = 0x50,
	ISH_FR_PASID_DIR_ENTRY_P = 0x51,
	ISH_FR_PASID_DIR_ENTRY_RSVD = 0x52,
	ISH_FR_PASID_TABLE_ACCESS_ERR = 0x58,
	ISH_FR_PASID_ENTRY_P = 0x59,
	ISH_FR_PASID_ENTRY_RSVD = 0x5a,
	ISH_FR_PASID_TABLE_ENTRY_INV = 0x5b,
	ISH_FR_PASID_ENTRY_ERE_CLEAR = 0x5c,
	ISH_FR_PASID_ENTRY_SRE_CLEAR = 0x5d,
	ISH_FR_FS_PAGING_ENTRY_INV = 0x70,
	ISH_FR_FS_PAGING_ENTRY_P = 0x71,
	ISH_FR_FS_PAGING_ENTRY_RSVD = 0x72,
	ISH_FR_PASID_ENTRY_FSPTPTR_INV = 0x73,
	ISH_FR_NESTED_FS_BEYOND_MGAW = 0x74,
	ISH_FR_NESTED_FSPTPTR_READ = 0x75,
	ISH_FR_NESTED_FS_READ = 0x76,
	ISH_FR_NESTED_FS_WRITE = 0x77,
	ISH_FR_SS_PAGING_ENTRY_INV = 0x78,
	ISH_FR_SS_PAGING_ENTRY_RW = 0x79,
	ISH_FR_SS_PAGING_ENTRY_RSVD = 0x7a,
	ISH_FR_SS_PTPTR_INV = 0x7b,
	ISH_FR_SS_AD_NOSNOOP = 0x7c,
	ISH_FR_FS_NON_CANONICAL = 0x80,
	ISH_FR_FS_PAGING_ENTRY_US = 0x81,
	ISH_FR_SM_EXECUTE = 0x82,
	ISH_FR_SM_ADDR_BEYOND_HAW = 0x83,
	ISH_FR_SS_ADDR_BEYOND_MAX = 0x84,
	ISH_FR_SM_WRITE = 0x85,
	ISH_FR_SM_READ = 0x86,
	ISH_FR_SM_INTERRUPT_ADDR = 0x87,
	ISH_FR_FS_AD_NOSNOOP = 0x90,
	ISH_FR_FS_BIT_UPDATE_FAILED = 0x91,
};

/* Which table a reason code belongs to. */
enum ish_fault_kind {
	ISH_FAULT_KIND_UNKNOWN = 0,
	ISH_FAULT_KIND_LEGACY,		/* legacy-mode DMA remapping, 0x01..0x0e */
	ISH_FAULT_KIND_IR,		/* interrupt remapping, 0x20..0x27 */
	ISH_FAULT_KIND_SCALABLE,	/* scalable-mode DMA remapping, 0x30.. */
};

/*
 * The text of a fault reason code. scalable says which translation mode the
 * unit was in (RTADDR.TTM == 1); it picks the table searched first, but a
 * code from the other mode is still named (an emulator or a dump may report
 * one). Never NULL: an unknown code gives "Unknown fault reason".
 */
const char *ish_fault_reason_text(unsigned reason, bool scalable);
enum ish_fault_kind ish_fault_reason_kind(unsigned reason);
/* True if a unit in this mode can report this code (IR codes: both modes). */
bool ish_fault_reason_in_mode(unsigned reason, bool scalable);

/* FSTS_REG bits (11.4.9); names as Linux DMA_FSTS_*. */
#define DMA_FSTS_PFO	(1u << 0)	/* primary fault overflow */
#define DMA_FSTS_PPF	(1u << 1)	/* primary pending fault */
#define DMA_FSTS_AFO	(1u << 2)	/* advanced fault overflow */
#define DMA_FSTS_APF	(1u << 3)	/* advanced pending fault */
#define DMA_FSTS_IQE	(1u << 4)	/* invalidation queue error */
#define DMA_FSTS_ICE	(1u << 5)	/* invalidation completion error */
#define DMA_FSTS_ITE	(1u << 6)	/* invalidation time-out error */
#define DMA_FSTS_PRO	(1u << 7)	/* page request overflow */
#define dma_fsts_fault_record_index(s)	((unsigned)ISH_BITS(s, 15, 8))
/* FECTL_REG (11.4.10) */
#define DMA_FECTL_IM	(1u << 31)	/* interrupt mask */
#define DMA_FECTL_IP	(1u << 30)	/* interrupt pending */

/* The request type of a fault record: T2:T1 (FRCD bits 92 and 126). */
enum ish_fault_type {
	ISH_FAULT_WRITE = 0,	/* T2=0 T1=0 */
	ISH_FAULT_READ = 1,	/* T2=0 T1=1: read or AtomicOp */
	ISH_FAULT_PAGE_REQ = 2,	/* T2=1 T1=0: page request */
	ISH_FAULT_TYPE_RSVD = 3,	/* T2=1 T1=1 */
};
const char *ish_fault_type_name(enum ish_fault_type type);

/*
 * One 128-bit fault recording register (11.4.14), decoded. lo is bits 63:0,
 * hi bits 127:64. For interrupt-remapping reasons the FI field holds the
 * interrupt index in bits 63:48 instead of a page address.
 */
struct ish_fault_record {
	unsigned index;		/* which FRCD, 0..NFR */
	uint64_t lo, hi;	/* raw */
	bool valid;		/* F (bit 127) */
	enum ish_fault_type type;	/* T2:T1 */
	unsigned at;		/* AT, bits 125:124 */
	bool pasid_present;	/* PP, bit 95 */
	uint32_t pasid;		/* PV, bits 123:104 */
	bool priv;		/* PRIV, bit 93: supervisor request */
	bool exe;		/* EXE, bit 94: execute request */
	uint8_t reason;		/* FR, bits 103:96 */
	uint16_t sid;		/* SID, bits 79:64 */
	uint64_t addr;		/* FI, bits 63:12 as a page address */
	bool irq;		/* reason is an interrupt-remapping one */
	unsigned irq_index;	/* FI bits 63:48 when irq */
	const char *text;	/* reason text */
};

/* Decode a raw record; scalable picks the reason text (see above). */
void ish_fault_decode_record(uint64_t lo, uint64_t hi, bool scalable,
			     struct ish_fault_record *ret);

/* FSTS, FECTL and every fault recording register of one unit. */
struct ish_faults {
	uint32_t fsts;
	uint32_t fectl;
	bool have_fectl;	/* FECTL was readable */
	bool scalable;		/* RTADDR.TTM == 1 (reason texts from that table) */
	unsigned fri;		/* FSTS.FRI */
	unsigned fro;		/* byte offset of FRCD 0: CAP.FRO * 16 */
	unsigned nfr;		/* CAP.NFR + 1, at most 256 */
	unsigned nvalid;	/* records with F set */
	unsigned nunreadable;	/* records whose registers could not be read */
	struct ish_fault_record rec[256];
	bool readable[256];
};

/*
 * Read FSTS, FECTL and the CAP.NFR+1 fault records of unit. Fails only if
 * CAP or FSTS cannot be read; an unreadable record is marked and skipped.
 * The result is heap-allocated: free it with ish_faults_destroy().
 */
struct ish_error *ish_faults_read(struct ish_target *t, unsigned unit, struct ish_faults **ret);
void ish_faults_destroy(struct ish_faults *f);

#ifdef __cplusplus
}
#endif

#endif
