/* SPDX-License-Identifier: MIT */
/*
 * The kernel's own view: a Linux kernel found in a target's memory, with
 * its symbols (kallsyms, through VMCOREINFO) and its types (BTF), so that
 * iommush can read the kernel's IOMMU state where registers are missing
 * (dumps, stock kernels) and keep the kernel's bookkeeping consistent when
 * it writes into a queue the kernel drives (lib/invalidate.c).
 *
 * Where each thing comes from:
 *  - VMCOREINFO: the backend's note when it has one (ELF core PT_NOTE,
 *    /proc/kcore), else a scan of RAM for the page the kernel keeps it in
 *    (a page that starts with "OSRELEASE=", or the ELF note header
 *    "VMCOREINFO" at a page start). The scan is bounded by the target's
 *    RAM ranges (ish_kernel_open's contract) and can be interrupted.
 *  - kallsyms: SYMBOL(kallsyms_names/_num_syms/_token_table/_token_index/
 *    _offsets/_relative_base) from VMCOREINFO (Linux >= 6.0), decoded from
 *    memory. Bounded: every table read is length-checked.
 *  - BTF: the blob between __start_BTF and __stop_BTF (kallsyms).
 *  - x86-64 virtual to physical: the kernel image
 *    (va - 0xffffffff80000000 + phys_base, phys_base from VMCOREINFO
 *    NUMBER(phys_base)) and the direct map (va - page_offset_base, the
 *    variable read through kallsyms).
 *
 * Lifetimes: ish_kernel_open / ish_kernel_destroy; the target must outlive
 * the kernel object. Results are cached on the object; reads go through
 * ish_read_phys() (the target's page cache).
 */
#ifndef IOMMUSH_KERNEL_H
#define IOMMUSH_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ish_kernel;

/*
 * Finds the kernel in t's memory. ISH_ERROR_NOT_FOUND with a message that
 * names what is missing (no VMCOREINFO in RAM, no kallsyms in VMCOREINFO
 * (kernel older than 6.0), no BTF) when it cannot.
 */
struct ish_error *ish_kernel_open(struct ish_target *t, struct ish_kernel **ret);
void ish_kernel_destroy(struct ish_kernel *k);
/*
 * The target's kernel, opened on first use and kept until the target
 * closes (a failure is remembered too: the search may scan all of RAM).
 * Do not destroy it. An interruption is not remembered.
 */
struct ish_error *ish_target_kernel(struct ish_target *t, struct ish_kernel **ret);

/* The value of VMCOREINFO line KEY=VALUE ("OSRELEASE", "NUMBER(phys_base)"), or NULL. */
const char *ish_kernel_vmcoreinfo(const struct ish_kernel *k, const char *key);
/* Where VMCOREINFO came from: "ELF note", "/proc/kcore note", "RAM scan at 0x..." */
const char *ish_kernel_source(const struct ish_kernel *k);

/* A symbol's address (kallsyms, relocated). ISH_ERROR_NOT_FOUND when absent. */
struct ish_error *ish_kernel_symbol(struct ish_kernel *k, const char *name, uint64_t *ret);
size_t ish_kernel_nsyms(const struct ish_kernel *k);

/* Kernel virtual to physical (image or direct map); ISH_ERROR_RANGE otherwise. */
struct ish_error *ish_kernel_va_to_pa(struct ish_kernel *k, uint64_t va, uint64_t *ret);
/* Reads len bytes at kernel virtual address va (may cross pages). */
struct ish_error *ish_kernel_read(struct ish_kernel *k, uint64_t va, void *buf, size_t len);
struct ish_error *ish_kernel_read_u64(struct ish_kernel *k, uint64_t va, uint64_t *ret);

/* A member of a struct or union, from BTF. */
struct ish_kernel_member {
	uint64_t offset;	/* bytes from the start of the struct */
	uint64_t size;		/* bytes (of the member's type, typedefs resolved) */
	unsigned bit_offset, bit_size;	/* bitfields: within offset; bit_size 0 otherwise */
};

/*
 * type is "struct NAME" or "union NAME"; member may name a nested member
 * with dots ("q_lock.raw_lock"). ISH_ERROR_NOT_FOUND names which is missing.
 */
struct ish_error *ish_kernel_member(struct ish_kernel *k, const char *type, const char *member,
				    struct ish_kernel_member *ret);
struct ish_error *ish_kernel_type_size(struct ish_kernel *k, const char *type, uint64_t *ret);

/* One VT-d unit as the kernel's intel-iommu driver holds it (dmar_drhd_units). */
struct ish_kernel_vtd_unit {
	uint64_t drhd_va;	/* struct dmar_drhd_unit */
	uint64_t iommu_va;	/* struct intel_iommu, 0 when the driver made none */
	uint64_t reg_phys;	/* drhd->reg_base_addr */
	uint16_t segment;
	bool include_all;
	/* From struct intel_iommu (valid when iommu_va): */
	uint64_t cap, ecap;
	uint32_t gcmd;		/* the driver's copy of what it enabled (GCMD is write-only) */
	int seq_id;
	char name[16];		/* "dmar0" */
	uint64_t root_entry_va;	/* 0: none */
	uint64_t qi_va;		/* struct q_inval, 0: queued invalidation not set up */
	uint64_t ir_table_va;	/* struct ir_table, 0: none */
};

/* Every unit on dmar_drhd_units (bounded); *ret is malloc'd, free() it. */
struct ish_error *ish_kernel_vtd_units(struct ish_kernel *k, struct ish_kernel_vtd_unit **ret,
				       size_t *n);

#ifdef __cplusplus
}
#endif

#endif
