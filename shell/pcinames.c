// SPDX-License-Identifier: MIT
/*
 * PCI vendor and device names: the ids come from the target's own config
 * space (ECAM through the gdbstub, /dev/mem on a live host), the names from
 * libpci's database. libpci is only asked for names: it never scans this
 * machine's buses (no pci_init), so a dump of another system is named by
 * what that system's devices say they are.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "pcinames.h"

#if HAVE_LIBPCI
#include <setjmp.h>

#include <pci/pci.h>

static struct pci_access *pacc;
static bool broken;		/* the database failed once: numbers from now on */
static jmp_buf lookup_jb;

static void pacc_free(void)
{
	pci_cleanup(pacc);
}

/*
 * libpci's error callback must not return (a malformed pci.ids ends in
 * it): go back to the lookup, which prints numbers instead. Warnings and
 * debug messages (no database, hwdb) are not ours to print.
 */
static void __attribute__((noreturn, format(printf, 1, 2))) names_error(char *fmt, ...)
{
	(void)fmt;
	longjmp(lookup_jb, 1);
}

static void __attribute__((format(printf, 1, 2))) names_quiet(char *fmt, ...)
{
	(void)fmt;
}

static __attribute__((noinline)) bool lookup(char *buf, size_t len, uint16_t vendor,
					     uint16_t device)
{
	if (setjmp(lookup_jb)) {
		broken = true;
		return false;
	}
	return pci_lookup_name(pacc, buf, (int)len, PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE, vendor,
			       device) != NULL;
}
#endif

bool sh_pci_ids(struct ish_target *t, uint16_t segment, uint16_t bdf, uint16_t *vendor,
		uint16_t *device)
{
	uint32_t id;
	struct ish_error *err = ish_read_config(t, segment, bdf, 0, 32, &id);

	if (err) {
		ish_error_destroy(err);
		return false;
	}
	if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
		return false;
	*vendor = (uint16_t)id;
	*device = (uint16_t)(id >> 16);
	return true;
}

const char *sh_pci_name(uint16_t vendor, uint16_t device, char *buf, size_t len)
{
#if HAVE_LIBPCI
	if (!pacc && !broken) {
		pacc = pci_alloc();
		if (!pacc)
			goto plain;
		pacc->error = names_error;
		pacc->warning = names_quiet;
		pacc->debug = names_quiet;
		/*
		 * pci.ids only: libpci 3.9's udev hwdb lookup (tried for ids the
		 * file lacks, such as QEMU's edu) leaks its udev context.
		 */
		pci_set_param(pacc, "hwdb.disable", "1");
		atexit(pacc_free);
	}
	if (!broken && lookup(buf, len, vendor, device))
		return buf;
plain:
#endif
	snprintf(buf, len, "%04x:%04x", vendor, device);
	return buf;
}
