/* SPDX-License-Identifier: MIT */
/*
 * VT-d register offsets and the capability fields every decoder needs.
 * Names are those of Linux drivers/iommu/intel/iommu.h so that grep works
 * across the kernel, QEMU and iommush. Spec: Intel VT-d 5.0, chapter 11.
 * The full register/field tables live in lib/regs.c (see regs.h).
 */
#ifndef IOMMUSH_VTD_H
#define IOMMUSH_VTD_H

#include <stdint.h>

#include <iommush/bits.h>
#include <iommush/pci.h>	/* ISH_BDF() */

#define VTD_PAGE_SHIFT 12
#define VTD_PAGE_SIZE 4096ULL
#define VTD_PAGE_MASK (~(VTD_PAGE_SIZE - 1))

/* 11.4 register offsets */
#define DMAR_VER_REG		0x00
#define DMAR_CAP_REG		0x08
#define DMAR_ECAP_REG		0x10
#define DMAR_GCMD_REG		0x18
#define DMAR_GSTS_REG		0x1c
#define DMAR_RTADDR_REG		0x20
#define DMAR_CCMD_REG		0x28
#define DMAR_FSTS_REG		0x34
#define DMAR_FECTL_REG		0x38
#define DMAR_FEDATA_REG		0x3c
#define DMAR_FEADDR_REG		0x40
#define DMAR_FEUADDR_REG	0x44
#define DMAR_AFLOG_REG		0x58
#define DMAR_PMEN_REG		0x64
#define DMAR_PLMBASE_REG	0x68
#define DMAR_PLMLIMIT_REG	0x6c
#define DMAR_PHMBASE_REG	0x70
#define DMAR_PHMLIMIT_REG	0x78
#define DMAR_IQH_REG		0x80
#define DMAR_IQT_REG		0x88
#define DMAR_IQA_REG		0x90
#define DMAR_ICS_REG		0x9c
#define DMAR_IECTL_REG		0xa0
#define DMAR_IEDATA_REG		0xa4
#define DMAR_IEADDR_REG		0xa8
#define DMAR_IEUADDR_REG	0xac
#define DMAR_IQER_REG		0xb0
#define DMAR_IRTA_REG		0xb8
#define DMAR_PQH_REG		0xc0
#define DMAR_PQT_REG		0xc8
#define DMAR_PQA_REG		0xd0
#define DMAR_PRS_REG		0xdc
#define DMAR_PECTL_REG		0xe0
#define DMAR_PEDATA_REG		0xe4
#define DMAR_PEADDR_REG		0xe8
#define DMAR_PEUADDR_REG	0xec
#define DMAR_MTRRCAP_REG	0x100
#define DMAR_MTRRDEF_REG	0x108

/* GSTS / GCMD bits */
#define DMA_GSTS_TES	(1u << 31)
#define DMA_GSTS_RTPS	(1u << 30)
#define DMA_GSTS_FLS	(1u << 29)
#define DMA_GSTS_AFLS	(1u << 28)
#define DMA_GSTS_WBFS	(1u << 27)
#define DMA_GSTS_QIES	(1u << 26)
#define DMA_GSTS_IRES	(1u << 25)
#define DMA_GSTS_IRTPS	(1u << 24)
#define DMA_GSTS_CFIS	(1u << 23)

/* RTADDR: translation table mode (11.4.5) */
#define DMA_RTADDR_TTM(r)	ISH_BITS(r, 11, 10)
#define DMA_RTADDR_ADDR(r)	((r) & ISH_GENMASK(63, 12))
#define DMA_RTADDR_SMT		1u	/* TTM value for scalable mode */

/* CAP (11.4.2) */
static inline unsigned cap_nd(uint64_t c) { return (unsigned)ISH_BITS(c, 2, 0); }
static inline unsigned cap_rwbf(uint64_t c) { return (unsigned)ISH_BIT(c, 4); }
static inline unsigned cap_plmr(uint64_t c) { return (unsigned)ISH_BIT(c, 5); }
static inline unsigned cap_phmr(uint64_t c) { return (unsigned)ISH_BIT(c, 6); }
static inline unsigned cap_caching_mode(uint64_t c) { return (unsigned)ISH_BIT(c, 7); }
static inline unsigned cap_sagaw(uint64_t c) { return (unsigned)ISH_BITS(c, 12, 8); }
/* MGAW is stored as width-1. */
static inline unsigned cap_mgaw(uint64_t c) { return (unsigned)ISH_BITS(c, 21, 16) + 1; }
static inline unsigned cap_zlr(uint64_t c) { return (unsigned)ISH_BIT(c, 22); }
/* Fault recording register offset, in bytes from the register base. */
static inline unsigned cap_fault_reg_offset(uint64_t c) { return (unsigned)ISH_BITS(c, 33, 24) * 16; }
static inline unsigned cap_super_page_val(uint64_t c) { return (unsigned)ISH_BITS(c, 37, 34); }
static inline unsigned cap_psi(uint64_t c) { return (unsigned)ISH_BIT(c, 39); }
static inline unsigned cap_num_fault_regs(uint64_t c) { return (unsigned)ISH_BITS(c, 47, 40) + 1; }
static inline unsigned cap_max_amask_val(uint64_t c) { return (unsigned)ISH_BITS(c, 53, 48); }
static inline unsigned cap_fl1gp_support(uint64_t c) { return (unsigned)ISH_BIT(c, 56); }
static inline unsigned cap_5lp_support(uint64_t c) { return (unsigned)ISH_BIT(c, 60); }

/* ECAP (11.4.3) */
static inline unsigned ecap_coherent(uint64_t e) { return (unsigned)ISH_BIT(e, 0); }
static inline unsigned ecap_qis(uint64_t e) { return (unsigned)ISH_BIT(e, 1); }
static inline unsigned ecap_dev_iotlb_support(uint64_t e) { return (unsigned)ISH_BIT(e, 2); }
static inline unsigned ecap_ir_support(uint64_t e) { return (unsigned)ISH_BIT(e, 3); }
static inline unsigned ecap_eim_support(uint64_t e) { return (unsigned)ISH_BIT(e, 4); }
static inline unsigned ecap_pass_through(uint64_t e) { return (unsigned)ISH_BIT(e, 6); }
static inline unsigned ecap_sc_support(uint64_t e) { return (unsigned)ISH_BIT(e, 7); }
/* IOTLB register offset, in bytes: IVA at iro, IOTLB_REG at iro + 8. */
static inline unsigned ecap_iotlb_offset(uint64_t e) { return (unsigned)ISH_BITS(e, 17, 8) * 16; }
static inline unsigned ecap_max_handle_mask(uint64_t e) { return (unsigned)ISH_BITS(e, 23, 20); }
static inline unsigned ecap_nest(uint64_t e) { return (unsigned)ISH_BIT(e, 26); }
static inline unsigned ecap_prs(uint64_t e) { return (unsigned)ISH_BIT(e, 29); }
static inline unsigned ecap_pss(uint64_t e) { return (unsigned)ISH_BITS(e, 39, 35); }
static inline unsigned ecap_pasid(uint64_t e) { return (unsigned)ISH_BIT(e, 40); }
static inline unsigned ecap_smts(uint64_t e) { return (unsigned)ISH_BIT(e, 43); }
static inline unsigned ecap_slts(uint64_t e) { return (unsigned)ISH_BIT(e, 46); }
static inline unsigned ecap_flts(uint64_t e) { return (unsigned)ISH_BIT(e, 47); }
static inline unsigned ecap_slads(uint64_t e) { return (unsigned)ISH_BIT(e, 45); }

#endif
