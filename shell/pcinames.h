/* SPDX-License-Identifier: MIT */
#ifndef IOMMUSH_PCINAMES_H
#define IOMMUSH_PCINAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/target.h>

/* Vendor and device id from the target's config space; false if unreadable or absent. */
bool sh_pci_ids(struct ish_target *t, uint16_t segment, uint16_t bdf, uint16_t *vendor,
		uint16_t *device);
/* "Vendor Device" from libpci's database, or "vvvv:dddd" without it. */
const char *sh_pci_name(uint16_t vendor, uint16_t device, char *buf, size_t len);

#endif
