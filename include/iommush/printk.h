/* SPDX-License-Identifier: MIT */
/*
 * The kernel's log: the printk ring buffer (Linux >= 5.10, the lockless
 * ring of kernel/printk/printk_ringbuffer.h), found and laid out through
 * VMCOREINFO alone (SYMBOL(prb), SIZE(...) and OFFSET(...) of
 * printk_ringbuffer, prb_desc_ring, prb_desc, prb_data_blk_lpos,
 * prb_data_ring, printk_info), as makedumpfile --dump-dmesg does. The
 * record's syslog level is a bitfield VMCOREINFO does not describe: it
 * comes from BTF when the kernel has it (level -1 otherwise).
 *
 * Bounded: at most 2^ISH_PRINTK_MAX_COUNT_BITS descriptors are visited,
 * each text is at most its text_len (a u16) and must lie inside its data
 * block, which must lie inside the data ring. A descriptor in the
 * reserved or reusable state, or whose id does not match, is skipped (the
 * kernel was writing it, had released it, or the ring moved on; only the
 * first is counted, in `skipped`); a text that cannot be
 * read is counted in `unreadable`.
 */
#ifndef IOMMUSH_PRINTK_H
#define IOMMUSH_PRINTK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ISH_PRINTK_MAX_COUNT_BITS 22u
#define ISH_PRINTK_MAX_SIZE_BITS 31u

struct ish_printk_record {
	uint64_t seq;
	uint64_t ts_nsec;
	uint32_t caller_id;
	int level;		/* 0..7, -1 when unknown */
	const char *text;	/* NUL-terminated, into the log's storage; may hold '\n' */
	size_t len;
};

struct ish_printk_log {
	struct ish_printk_record *rec;	/* in sequence order */
	size_t n;
	size_t skipped;		/* descriptors being written (reserved) */
	size_t unreadable;	/* texts that could not be read or lay outside the ring */
	unsigned count_bits, size_bits;
	char *storage;		/* the texts */
};

/* Reads len bytes at kernel virtual address va. */
typedef struct ish_error *(*ish_printk_read_fn)(void *arg, uint64_t va, void *buf, size_t len);

/*
 * The lower layer, for the fuzzer and the unit test: the log of the ring
 * at prb (0: read the pointer at SYMBOL(prb)) with the layout v gives.
 * level_bit is the bit offset of printk_info.level from the start of the
 * struct (BTF), or -1 when unknown. ISH_ERROR_NOT_FOUND names the missing
 * VMCOREINFO line (kernel older than 5.10), ISH_ERROR_FORMAT a ring that
 * cannot be a ring, a read error where the ring's header or descriptors
 * cannot be read.
 */
struct ish_error *ish_printk_read_log(const struct ish_vmcoreinfo *v, uint64_t prb, int level_bit,
				      ish_printk_read_fn read, void *arg,
				      struct ish_printk_log **ret);
/* The kernel's log, read through k (BTF for the level when it has it). */
struct ish_error *ish_kernel_log(struct ish_kernel *k, struct ish_printk_log **ret);
void ish_printk_log_destroy(struct ish_printk_log *log);

/*
 * Is line an IOMMU line (the log command's default filter): the prefixes
 * the Linux IOMMU drivers print with (DMAR:, DMAR-IR:, AMD-Vi:, iommu:,
 * arm-smmu...) or "iommu" / "IOMMU" anywhere.
 */
bool ish_printk_iommu_line(const char *line, size_t len);

#ifdef __cplusplus
}
#endif

#endif
