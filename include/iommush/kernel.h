/* SPDX-License-Identifier: MIT */
/*
 * The kernel's own view: a Linux kernel found in a target's memory, with
 * its symbols (kallsyms, through VMCOREINFO) and its types (BTF), so that
 * iommush can read the kernel's IOMMU state where registers are missing
 * (dumps, stock kernels) and keep the kernel's bookkeeping consistent when
 * it writes into a queue the kernel drives (lib/vtd/invalidate.c).
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
 * (kernel older than 6.0)) when it cannot. BTF is read on first use (the
 * type and member calls, ish_kernel_vtd_units), so a kernel without it
 * still opens and answers for symbols; those calls then fail with
 * ISH_ERROR_NOT_FOUND naming CONFIG_DEBUG_INFO_BTF. The RAM scan covers
 * kernel.scan=LO-HI (a parameter of every target) or else the backend's
 * ram_ranges; ISH_ERROR_INTERRUPTED when the target's interrupt flag is set.
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

/* Kernel virtual to physical (image or direct map); ISH_ERROR_FAULT otherwise. */
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
	/*
	 * Added for the queue-cooperation work and the tests that hold the
	 * kernel's copies against the registers: what the pointers above lead
	 * to. A pa is ~0 when its va is 0 or does not translate.
	 */
	uint64_t root_entry_pa;
	bool has_qi;		/* the q_inval fields below were read */
	uint64_t qi_desc_va, qi_desc_pa;
	int qi_free_head, qi_free_tail, qi_free_cnt;	/* the driver's software queue state */
	bool has_ir_table;
	uint64_t ir_table_base_va, ir_table_base_pa;
};

/* Every unit on dmar_drhd_units (bounded); *ret is malloc'd, free() it. */
struct ish_error *ish_kernel_vtd_units(struct ish_kernel *k, struct ish_kernel_vtd_unit **ret,
				       size_t *n);

/*
 * A register of unit u as the kernel's copies give it (GSTS, RTADDR, IQA,
 * IQH, IQT, IRTA, CAP, ECAP; lib/kernel_vtd.c says where each comes
 * from), width 32 or 64 (a 32-bit read of a 64-bit register gives its
 * half). flags: ISH_KREG_SM when the kernel runs the unit in scalable mode
 * (intel_iommu_sm), ISH_KREG_EIM when it enabled x2APIC interrupt
 * remapping (eim_mode). IQH and IQT are both the software tail
 * (free_head), which the hardware's head equals only when the queue is
 * idle. ISH_ERROR_NOT_FOUND for registers the kernel keeps no copy of.
 */
#define ISH_KREG_SM 1u
#define ISH_KREG_EIM 2u
struct ish_error *ish_kernel_vtd_reg(const struct ish_kernel_vtd_unit *u, unsigned flags,
				     uint32_t offset, unsigned width, uint64_t *ret);
/*
 * The flags above, read from the kernel's variables intel_iommu_sm and
 * eim_mode (kallsyms); a variable that is missing counts as 0.
 */
unsigned ish_kernel_vtd_reg_flags(struct ish_kernel *k);

/* Facts the kernel command prints; 0 / NULL when unknown. */
uint64_t ish_kernel_phys_base(const struct ish_kernel *k);
uint64_t ish_kernel_page_offset_base(const struct ish_kernel *k);
/* The KERNELOFFSET line's value (KASLR's virtual shift). */
uint64_t ish_kernel_kaslr_offset(const struct ish_kernel *k);
/*
 * BTF is read on first use (ish_kernel_member and friends); this loads it
 * and reports its size and type count.
 */
struct ish_error *ish_kernel_btf_info(struct ish_kernel *k, size_t *size, size_t *ntypes);
struct ish_btf;
struct ish_error *ish_kernel_btf(struct ish_kernel *k, const struct ish_btf **ret);
/*
 * Reads a member of the struct at va as an unsigned number (at most 8
 * bytes; bitfields shifted and masked).
 */
struct ish_error *ish_kernel_read_member(struct ish_kernel *k, uint64_t va, const char *type,
					 const char *member, uint64_t *ret);

/* --- lower layers, for tests, fuzzers and backends --- */

/*
 * Opens the kernel from VMCOREINFO text the caller found (source names where,
 * for ish_kernel_source), skipping the backend's note and the RAM scan.
 */
struct ish_error *ish_kernel_open_vmcoreinfo(struct ish_target *t, const char *text, size_t len,
					     const char *source, struct ish_kernel **ret);

/*
 * The desc of the ELF note named "VMCOREINFO" among the notes in buf (the
 * bytes of a PT_NOTE segment: namesz, descsz, type, name and desc each
 * padded to 4 bytes). *desc points into buf. ISH_ERROR_NOT_FOUND when there
 * is none, ISH_ERROR_FORMAT when the notes are malformed before it.
 */
struct ish_error *ish_kernel_find_vmcoreinfo_note(const void *buf, size_t len, const char **desc,
						  size_t *desc_len);

/* Parsed VMCOREINFO text: KEY=VALUE lines, at most ISH_VMCOREINFO_MAX bytes. */
#define ISH_VMCOREINFO_MAX 65536u
struct ish_vmcoreinfo;
struct ish_error *ish_vmcoreinfo_parse(const char *text, size_t len, struct ish_vmcoreinfo **ret);
void ish_vmcoreinfo_destroy(struct ish_vmcoreinfo *v);
const char *ish_vmcoreinfo_get(const struct ish_vmcoreinfo *v, const char *key);
/* KEY's value as a number: base 16 for SYMBOL(), KERNELOFFSET, else 10 (may be negative). */
struct ish_error *ish_vmcoreinfo_number(const struct ish_vmcoreinfo *v, const char *key,
					uint64_t *ret);

#ifdef __cplusplus
}
#endif

#endif
