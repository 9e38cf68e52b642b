/* SPDX-License-Identifier: MIT */
/*
 * The kernel's view of each device against the hardware's: what Linux's
 * intel-iommu driver holds per device (struct device_domain_info, reached
 * from every device on devices_kset through dev->iommu->priv, and its
 * struct dmar_domain: domain id per unit, page-table root pgd, agaw, flags,
 * the device's PASID table) next to what the context entry (legacy) or the
 * RID_PASID entry (scalable) says. Every offset comes from BTF.
 */
#ifndef IOMMUSH_VTD_KERNEL_DOMAINS_H
#define IOMMUSH_VTD_KERNEL_DOMAINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/kernel.h>
#include <iommush/walk.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ish_kernel_vtd_device {
	uint64_t info_va, dev_va;	/* struct device_domain_info, struct device */
	uint16_t segment, bdf;
	uint64_t iommu_va;		/* info->iommu */
	int seq_id;			/* -1 when iommu_va is not on dmar_drhd_units */
	char unit[16];			/* that unit's name, "" when unknown */
	uint64_t domain_va;		/* info->domain; 0: the kernel has no domain attached */
	bool identity;			/* the static identity domain (si_domain) */
	bool first_level;		/* DOMAIN_FLAG_USE_FIRST_LEVEL */
	unsigned domain_type;		/* iommu_domain.type (IOMMU_DOMAIN_*) */
	int flags, gaw, agaw;
	bool have_did;			/* the domain's id on this unit was found */
	uint16_t did;
	uint64_t pgd_va, pgd_pa;	/* pa ~0 when it does not translate */
	bool pasid_enabled, ats_enabled, pri_enabled;
	uint64_t pasid_table_va;	/* info->pasid_table, 0: none */
	uint64_t pasid_dir_pa;		/* pasid_table->table, ~0 when none */
	uint32_t max_pasid;
};

/* Every device the driver holds, bounded (65536 devices); *ret is malloc'd. */
struct ish_error *ish_kernel_vtd_devices(struct ish_kernel *k, struct ish_kernel_vtd_device **ret,
					 size_t *n);

/* What the two views disagree on. */
enum ish_view_diff {
	ISH_VIEW_DETACHED,	/* context present for a device the kernel has no domain for */
	ISH_VIEW_NO_KERNEL,	/* context present for a BDF the kernel holds no device for */
	ISH_VIEW_NOT_PRESENT,	/* the kernel attached a domain; no context entry (or RID_PASID) */
	ISH_VIEW_DID,		/* domain id */
	ISH_VIEW_ROOT,		/* page-table root */
	ISH_VIEW_LEVELS,	/* paging levels (agaw + 2) */
	ISH_VIEW_MODE,		/* identity domain vs translated entry, or the reverse */
	ISH_VIEW_PASID_DIR,	/* scalable: the context's PASID directory vs pasid_table->table */
};
const char *ish_view_diff_name(enum ish_view_diff d);	/* "detached", "did", ... */

#define ISH_VIEW_MAX_DIFFS 8
struct ish_vtd_view {
	uint16_t segment, bdf;
	bool in_kernel, in_hw;
	struct ish_kernel_vtd_device k;	/* valid when in_kernel */
	struct ish_device hw;		/* valid when in_hw */
	unsigned ndiffs;
	struct {
		enum ish_view_diff kind;
		char message[160];
	} diffs[ISH_VIEW_MAX_DIFFS];
};

/* Both views joined by segment and BDF, in that order; *ret is malloc'd. */
struct ish_error *ish_kernel_vtd_compare(struct ish_target *t, struct ish_kernel *k,
					 struct ish_vtd_view **ret, size_t *n);

#ifdef __cplusplus
}
#endif

#endif
