/* SPDX-License-Identifier: MIT */
/*
 * VT-d faults as the kernel logged them: the lines Linux's
 * dmar_fault_do_one() (drivers/iommu/intel/dmar.c, 5.x-6.x) prints
 *
 *   DMAR: [DMA Read NO_PASID] Request device [00:03.0] fault addr 0x7000 [fault reason 0x06] text
 *   DMAR: [DMA Write PASID 0x1] Request device [..] fault addr 0x... [fault reason 0x..] text
 *   DMAR: [INTR-REMAP] Request device [00:1f.0] fault index 0x12 [fault reason 0x25] text
 *
 * found in the printk ring buffer (iommush/printk.h): the record of a fault
 * a dump's registers no longer hold (the driver clears each FRCD it logs).
 */
#ifndef IOMMUSH_VTD_KERNEL_LOG_H
#define IOMMUSH_VTD_KERNEL_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/printk.h>
#include <iommush/vtd/fault.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ish_kernel_fault {
	uint64_t seq, ts_nsec;	/* of the log record */
	bool irq;		/* INTR-REMAP: addr is the interrupt index */
	enum ish_fault_type type;	/* read, write (page request: as the kernel says) */
	bool pasid_present;
	uint32_t pasid;
	uint16_t sid;		/* bus << 8 | device << 3 | function */
	uint64_t addr;
	unsigned reason;
	const char *text;	/* iommush's text for reason */
	char kernel_text[96];	/* the kernel's (dma_remap_fault_reasons and friends) */
	char line[256];		/* the line as logged, after "DMAR: " */
};

/*
 * Parses one line (len bytes, no newline needed). False when it is not a
 * fault line of the forms above; seq and ts_nsec are left 0.
 */
bool ish_vtd_parse_fault_line(const char *line, size_t len, struct ish_kernel_fault *ret);
/* Every fault line of log, in log order; *ret is malloc'd (NULL when none). */
struct ish_error *ish_vtd_log_faults(const struct ish_printk_log *log,
				     struct ish_kernel_fault **ret, size_t *n);

#ifdef __cplusplus
}
#endif

#endif
