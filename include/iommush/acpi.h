/* SPDX-License-Identifier: MIT */
/*
 * Finding ACPI tables in physical memory, for targets that have RAM but no
 * firmware interface (a QEMU dump-guest-memory core, a raw image).
 * ACPI 6.5 section 5.2.5.1 (finding the RSDP on IA-PC: the first KiB of the
 * EBDA, then 0xE0000-0xFFFFF on 16-byte boundaries), 5.2.5.3 (RSDP),
 * 5.2.6 (system description table header), 5.2.7 (RSDT), 5.2.8 (XSDT).
 * Everything is read through ish_read_phys(); every length is capped and
 * every checksum verified, so hostile memory yields errors, not crashes.
 */
#ifndef IOMMUSH_ACPI_H
#define IOMMUSH_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

#define ACPI_RSDP_SIG "RSD PTR "
#define ACPI_RSDP_V1_LEN 20	/* checksum covers these bytes */
#define ACPI_RSDP_V2_LEN 36	/* extended checksum covers these */
#define ACPI_SDT_HEADER_LEN 36
#define ACPI_TABLE_MAX_LEN (1u << 20)	/* larger tables are refused */
#define ACPI_MAX_ENTRIES 1024		/* RSDT/XSDT entries looked at */

struct ish_acpi_rsdp {
	uint64_t addr;		/* where it was found */
	uint8_t revision;	/* 0: ACPI 1.0 (RSDT only); 2+: XSDT too */
	char oem_id[7];
	uint32_t rsdt;
	uint64_t xsdt;		/* 0 if revision < 2 or not valid */
};

struct ish_acpi_table {
	uint64_t addr;		/* physical address of the table */
	uint32_t len;		/* header length field, validated */
	uint8_t *data;		/* len bytes, malloc'ed */
};

/* Scans the EBDA and the BIOS area for an RSDP with a valid checksum. */
struct ish_error *ish_acpi_find_rsdp(struct ish_target *t, struct ish_acpi_rsdp *ret);

/*
 * Finds the first table with signature sig (4 characters, e.g. "DMAR")
 * through the XSDT (when revision >= 2 and it is valid) or else the RSDT.
 * Tables whose checksum fails are skipped (the error names them if no good
 * one is found). ISH_ERROR_NOT_FOUND when there is no RSDP or no such table.
 * Free ret with ish_acpi_table_deinit().
 */
struct ish_error *ish_acpi_find_table(struct ish_target *t, const char *sig,
				      struct ish_acpi_table *ret);
void ish_acpi_table_deinit(struct ish_acpi_table *table);

/* Reads and validates (length, checksum) the table at addr. */
struct ish_error *ish_acpi_read_table(struct ish_target *t, uint64_t addr,
				      struct ish_acpi_table *ret);

#endif
