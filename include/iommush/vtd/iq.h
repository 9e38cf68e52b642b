/* SPDX-License-Identifier: MIT */
/*
 * The invalidation queue (VT-d 5.0 6.5.2): IQA/IQH/IQT/ICS/IQERCD registers
 * (11.4.7), every descriptor type decoded, and encoders that build
 * descriptors for the `invalidate` command. Type and field names follow
 * Linux drivers/iommu/intel/iommu.h (QI_*_TYPE, QI_IOTLB_*) and QEMU
 * VTD_INV_DESC_*.
 */
#ifndef IOMMUSH_IQ_H
#define IOMMUSH_IQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Descriptor types: bits 3:0, extended by bits 11:9 as type 6:4 (6.5.2). */
#define QI_CC_TYPE		0x1	/* 6.5.2.1 context-cache */
#define QI_IOTLB_TYPE		0x2	/* 6.5.2.3 IOTLB */
#define QI_DIOTLB_TYPE		0x3	/* 6.5.2.5 device-TLB */
#define QI_IEC_TYPE		0x4	/* 6.5.2.7 interrupt entry cache */
#define QI_IWD_TYPE		0x5	/* 6.5.2.8 invalidation wait */
#define QI_EIOTLB_TYPE		0x6	/* 6.5.2.4 PASID-based IOTLB */
#define QI_PC_TYPE		0x7	/* 6.5.2.2 PASID cache */
#define QI_DEIOTLB_TYPE		0x8	/* 6.5.2.6 PASID-based device-TLB */
#define QI_PGRP_RESP_TYPE	0x9	/* 7.7.1 page group response */
#define QI_PSTRM_RESP_TYPE	0xa	/* page stream response */

/* IQA_REG (11.4.7.3): address 63:12, DW 11 (256-bit descriptors), QS 2:0. */
#define VTD_IQA_DW		(1ULL << 11)
#define VTD_IQA_QS		0x7ULL
/* IQH/IQT: byte offset of the next descriptor, bits 18:4. */
#define VTD_IQH_QH_MASK		0x7fff0ULL
/* ICS_REG: invalidation wait complete */
#define VTD_ICS_IWC		1u
/* IQERCD_REG (offset 0xb0), as Linux DMAR_IQER_REG_* */
#define DMAR_IQER_REG_IQEI(r)	((unsigned)((r) & 0xf))
#define DMAR_IQER_REG_ITESID(r)	((uint16_t)((r) >> 32))
#define DMAR_IQER_REG_ICESID(r)	((uint16_t)((r) >> 48))
const char *ish_iqei_text(unsigned iqei);

/* A decoded descriptor. Fields not used by the type are zero. */
struct ish_qi_desc {
	uint64_t qw[4];		/* raw; qw[2], qw[3] only for 256-bit */
	unsigned width;		/* 128 or 256 */
	unsigned type;		/* bits 3:0 | bits 11:9 << 4 */
	const char *name;	/* "iotlb", "wait", ..., "none" (type 0), "unknown" */
	unsigned gran;		/* G field */
	const char *gran_name;	/* "global", "domain", "page", ... */
	uint16_t did;
	uint16_t sid;
	unsigned fm;		/* context-cache function mask */
	uint32_t pasid;
	uint64_t addr;		/* page address (IOTLB, dev-TLB) */
	unsigned am;		/* address mask: 2^am pages */
	bool ih;		/* invalidation hint */
	bool dr, dw;		/* IOTLB drain reads / writes */
	bool size;		/* dev-TLB S bit: size encoded in addr */
	bool global;		/* PASID dev-TLB G */
	unsigned mip;		/* dev-TLB max invalidations pending */
	uint16_t pfsid;		/* dev-TLB physical function SID */
	uint16_t iidx;		/* IEC interrupt index */
	unsigned im;		/* IEC index mask: 2^im entries */
	bool iflag, sw, fn, pd;	/* wait: IF, SW, FN, PD */
	uint32_t status_data;
	uint64_t status_addr;
	uint64_t rsvd[4];	/* reserved bits that are set, per qword */
};

/* Decode one descriptor; width is 128 or 256 (qw[2..3] ignored for 128). */
void ish_qi_decode(const uint64_t qw[4], unsigned width, struct ish_qi_desc *ret);
/* One line such as "iotlb page did=5 addr=0x1000 am=0 ih- dr+ dw+"; returns buf. */
char *ish_qi_describe(const struct ish_qi_desc *d, char *buf, size_t len);

/* The queue of one unit. */
struct ish_iq_state {
	uint64_t iqa, iqh, iqt, iqer, rtaddr;
	uint32_t ics, fsts, gsts;
	bool have_ics, have_iqer, have_fsts, have_gsts, have_rtaddr;
	bool qies;		/* GSTS.QIES: queue enabled */
	uint64_t base;		/* IQA 63:12 */
	unsigned qs;		/* IQA.QS */
	bool dw;		/* IQA.DW as read */
	bool scalable;		/* RTADDR.TTM == 1 */
	/*
	 * 256-bit width inferred: DW reads 0 but the unit is in scalable mode
	 * (QEMU 7.2 reads IQA back without DW).
	 */
	bool width_inferred;
	unsigned desc_size;	/* 16 or 32 bytes */
	uint64_t size;		/* bytes: 4 KiB << QS */
	uint32_t nslots;
	uint32_t head, tail;	/* slot indices */
	bool head_bad, tail_bad;	/* offset beyond the queue or misaligned */
	uint32_t pending;	/* descriptors from head to tail */
};
/* Reads IQA, IQH, IQT (required) and ICS, IQERCD, FSTS, GSTS, RTADDR. */
struct ish_error *ish_iq_state_read(struct ish_target *t, unsigned unit, struct ish_iq_state *ret);
/* Read and decode slot (0..nslots-1); outside memory is ISH_ERROR_FAULT. */
struct ish_error *ish_iq_read_slot(struct ish_target *t, const struct ish_iq_state *q,
				   uint32_t slot, struct ish_qi_desc *ret);

/*
 * Encoders: pure functions that fill qw[0..3] (qw[2..3] zero) with one
 * descriptor. They fail with ISH_ERROR_INVALID on a value that does not fit
 * its field or a reserved granularity.
 */
enum { ISH_QI_CC_GLOBAL = 1, ISH_QI_CC_DOMAIN = 2, ISH_QI_CC_DEVICE = 3 };
struct ish_error *ish_qi_encode_cc(unsigned gran, uint16_t did, uint16_t sid, unsigned fm,
				   uint64_t qw[4]);
enum { ISH_QI_IOTLB_GLOBAL = 1, ISH_QI_IOTLB_DOMAIN = 2, ISH_QI_IOTLB_PAGE = 3 };
/* addr must be aligned to 2^am pages; am <= 63 - 12. */
struct ish_error *ish_qi_encode_iotlb(unsigned gran, uint16_t did, uint64_t addr, unsigned am,
				      bool ih, bool dr, bool dw, uint64_t qw[4]);
/* selective=false: global; else 2^im entries from index. */
struct ish_error *ish_qi_encode_iec(bool selective, uint16_t index, unsigned im, uint64_t qw[4]);
enum { ISH_QI_PC_DOMAIN = 0, ISH_QI_PC_PASID = 1, ISH_QI_PC_GLOBAL = 3 };
struct ish_error *ish_qi_encode_pc(unsigned gran, uint16_t did, uint32_t pasid, uint64_t qw[4]);
enum { ISH_QI_PIOTLB_PASID = 2, ISH_QI_PIOTLB_PAGE = 3 };
struct ish_error *ish_qi_encode_piotlb(unsigned gran, uint16_t did, uint32_t pasid, uint64_t addr,
				       unsigned am, bool ih, uint64_t qw[4]);
/* status_addr must be 4-byte aligned when sw is set. */
struct ish_error *ish_qi_encode_wait(bool iflag, bool sw, bool fn, uint32_t status_data,
				     uint64_t status_addr, uint64_t qw[4]);

#ifdef __cplusplus
}
#endif

#endif
