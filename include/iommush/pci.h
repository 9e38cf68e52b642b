/* SPDX-License-Identifier: MIT */
/*
 * PCI functions of a target and the DMAR device scopes that name them.
 *
 * Enumeration: a backend that knows the system's functions (the live
 * backends, through libpci over sysfs) lists them with its pci_functions
 * hook; every other target is scanned through ish_read_config(), starting
 * at bus 0 (and at every start bus a DMAR device scope names) and following
 * bridges to their secondary buses. Only reachable buses are read, so a slow
 * backend (gdbstub) pays 32 reads per bus, not 65,536 blind ones. The scan
 * is bounded against hostile config space: each bus is read at most once
 * per segment, and a bridge whose secondary bus is not above its own bus,
 * whose subordinate bus is below its secondary, or whose secondary bus was
 * already reached, is kept as a finding and not followed.
 *
 * Device scopes (VT-d 5.0 8.3.1): a start bus and a path of (device,
 * function) hops; every hop but the last is a PCI-PCI bridge and the next
 * hop is on its secondary bus. A PCI sub-hierarchy scope (type 2) covers the
 * bridge's secondary..subordinate buses as well.
 */
#ifndef IOMMUSH_PCI_H
#define IOMMUSH_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/arch.h>
#include <iommush/error.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Type 0/1 configuration header offsets (PCI Local Bus 3.0 6.1, Linux pci_regs.h). */
/* PCI requester id */
#define ISH_BDF(bus, dev, fn) ((uint16_t)(((bus) << 8) | ((dev) << 3) | (fn)))
#define ISH_BDF_BUS(bdf) (((bdf) >> 8) & 0xff)
#define ISH_BDF_DEV(bdf) (((bdf) >> 3) & 0x1f)
#define ISH_BDF_FN(bdf) ((bdf) & 0x7)
#define ISH_BDF_DEVFN(bdf) ((bdf) & 0xff)
/* "bb:dd.f", as lspci prints a function of segment 0. */
#define ISH_BDF_FMT "%02x:%02x.%u"
#define ISH_BDF_ARGS(bdf) ISH_BDF_BUS(bdf), ISH_BDF_DEV(bdf), ISH_BDF_FN(bdf)

#define PCI_VENDOR_ID		0x00
#define PCI_CLASS_REVISION	0x08	/* class code in bits 31:8 */
#define PCI_HEADER_TYPE		0x0e
#define  PCI_HEADER_TYPE_MASK	0x7f
#define  PCI_HEADER_TYPE_NORMAL	0
#define  PCI_HEADER_TYPE_BRIDGE	1
#define  PCI_HEADER_TYPE_CARDBUS	2
#define  PCI_HEADER_TYPE_MFD	0x80	/* multi-function device */
#define PCI_PRIMARY_BUS		0x18	/* bridges: primary, secondary, subordinate bus */

struct ish_pci_func {
	uint16_t segment;
	uint16_t bdf;
	uint16_t vendor, device;
	uint32_t class;		/* 24 bits: base class, subclass, programming interface */
	uint8_t header_type;	/* as read, with PCI_HEADER_TYPE_MFD */
	bool have_header;	/* header type (and bus numbers) could be read */
	bool bridge;		/* header type 1 */
	uint8_t primary, secondary, subordinate;	/* bridges only */
};

/* Something wrong in config space that did not stop the enumeration. */
struct ish_pci_finding {
	uint16_t segment;
	uint16_t bdf;
	char *message;
};

struct ish_pci {
	bool from_backend;	/* listed by the backend (libpci), not scanned */
	size_t n;
	struct ish_pci_func *funcs;	/* sorted by segment, bdf */
	size_t nfindings;
	struct ish_pci_finding *findings;
	uint64_t config_reads;	/* ish_read_config() calls the scan made */
};

/*
 * Every PCI function of t. Config reads that fail with ISH_ERROR_NOT_FOUND
 * or ISH_ERROR_FAULT mean "no function there"; any other error (timeout,
 * protocol, interrupt, a backend that has no config space) stops and is
 * returned.
 */
struct ish_error *ish_pci_enumerate(struct ish_target *t, struct ish_pci **ret);
void ish_pci_destroy(struct ish_pci *p);
/* The function at segment:bdf in p, or NULL. */
const struct ish_pci_func *ish_pci_find(const struct ish_pci *p, uint16_t segment, uint16_t bdf);

/*
 * What the tables say about one function: its unit (and how it was chosen)
 * and its context entry (VT-d 5.0 9.3 legacy, 9.4 scalable), decoded as
 * `devices` does. Not knowing (no unit covers it, its registers or tables
 * unreadable) is said in why, not returned; errors are only those that
 * stop everything (out of memory, interrupted, timeout, protocol).
 * Filled by the architecture (VT-d: lib/vtd/scope.c).
 */
struct ish_pci_context {
	bool have_unit;
	unsigned unit;
	enum ish_cover how;
	bool read;		/* the context entry was reached and read */
	bool present;		/* its P bit */
	bool scalable;		/* the unit is in scalable mode */
	const char *type;	/* "multi-level", "pass-through", "sl-only", ... or NULL */
	bool have_did;
	uint16_t did;
	char why[112];		/* when !have_unit or !read */
};

/*
 * Every function ish_pci_enumerate() finds, in its order, with its context
 * (ish_pci_context), passed to fn until fn or a lookup fails. *ret gets the
 * enumeration (its findings too) whenever it succeeded, even if a later
 * step failed; the caller destroys it.
 */
typedef struct ish_error *ish_pci_func_fn(void *arg, const struct ish_pci_func *f,
					  const struct ish_pci_context *c);
struct ish_error *ish_pci_each(struct ish_target *t, ish_pci_func_fn *fn, void *arg,
			       struct ish_pci **ret);

#ifdef __cplusplus
}
#endif

#endif
