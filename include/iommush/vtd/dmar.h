/* SPDX-License-Identifier: MIT */
/*
 * The ACPI DMAR table (VT-d spec chapter 8 "BIOS Considerations"; ACPICA
 * actbl1.h acpi_dmar_*, dmtbinfo1.c). ish_dmar_parse() decodes a table into
 * plain arrays; ish_dmar_units() derives remapping units from it (the target
 * layer relies on that one).
 *
 * Hostile input: every length is checked against the buffer and against its
 * container. A length that lies (0, shorter than its structure, past the end
 * of its container) or a truncated header is ISH_ERROR_FORMAT naming the byte
 * offset; nothing is read outside the buffer. Things a sane table would not
 * contain but that do not stop decoding (bad checksum, reserved bits or
 * types, unaligned addresses) are kept as findings.
 */
#ifndef IOMMUSH_DMAR_H
#define IOMMUSH_DMAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ISH_DMAR_HEADER_LEN 48	/* ACPI header (36) + HAW, flags, 10 reserved */

/* 8.1 DMAR header flags */
#define ISH_DMAR_INTR_REMAP		(1u << 0)
#define ISH_DMAR_X2APIC_OPT_OUT		(1u << 1)
#define ISH_DMAR_DMA_CTRL_PLATFORM_OPT_IN	(1u << 2)

/* Remapping structure types (8.2) */
enum ish_dmar_type {
	ISH_DMAR_TYPE_DRHD = 0,	/* DMA remapping hardware unit definition (8.3) */
	ISH_DMAR_TYPE_RMRR = 1,	/* reserved memory region reporting (8.4) */
	ISH_DMAR_TYPE_ATSR = 2,	/* root port ATS capability reporting (8.5) */
	ISH_DMAR_TYPE_RHSA = 3,	/* remapping hardware static affinity (8.6) */
	ISH_DMAR_TYPE_ANDD = 4,	/* ACPI name-space device declaration (8.7) */
	ISH_DMAR_TYPE_SATC = 5,	/* SoC integrated address translation cache (8.8) */
	ISH_DMAR_TYPE_SIDP = 6,	/* SoC integrated device property (8.9) */
};

/* DRHD flags */
#define ISH_DRHD_INCLUDE_PCI_ALL	(1u << 0)
#define ISH_DRHD_ATC_REQUIRED		(1u << 1)
/* ATSR flags */
#define ISH_ATSR_ALL_PORTS		(1u << 0)
/* SATC flags */
#define ISH_SATC_ATC_REQUIRED		(1u << 0)

/* Device scope types (8.3.1) */
enum ish_dmar_scope_type {
	ISH_DMAR_SCOPE_PCI_ENDPOINT = 1,
	ISH_DMAR_SCOPE_PCI_BRIDGE = 2,
	ISH_DMAR_SCOPE_IOAPIC = 3,
	ISH_DMAR_SCOPE_HPET = 4,
	ISH_DMAR_SCOPE_NAMESPACE = 5,
};

/* One hop of a device scope path: a device and function on the current bus. */
struct ish_dmar_path {
	uint8_t dev, fn;
};

/* 8.3.1 Device Scope Structure */
struct ish_dmar_scope {
	uint32_t offset;	/* of this scope in the table */
	uint8_t type;		/* enum ish_dmar_scope_type, or reserved */
	uint8_t length;
	uint8_t flags;		/* byte 2 (reserved before SIDP) */
	uint8_t enum_id;	/* IOAPIC id, HPET number, ANDD device number */
	uint8_t bus;		/* start bus */
	size_t npath;
	struct ish_dmar_path *path;
};

/* One remapping structure; which members mean something depends on type. */
struct ish_dmar_struct {
	uint32_t offset;	/* of this structure in the table */
	uint16_t type;
	uint16_t length;
	uint8_t flags;		/* DRHD, ATSR, SATC */
	uint8_t size;		/* DRHD: register set size, 2^(size & 0xf) pages */
	uint16_t segment;	/* DRHD, RMRR, ATSR, SATC, SIDP */
	uint64_t base;		/* DRHD register base, RMRR base, RHSA register base */
	uint64_t limit;		/* RMRR end address (inclusive) */
	uint32_t proximity;	/* RHSA proximity domain */
	uint8_t device_number;	/* ANDD: matches a namespace scope's enum_id */
	char *object_name;	/* ANDD: NUL-terminated, made printable; else NULL */
	size_t nscopes;
	struct ish_dmar_scope *scopes;
	/* Unknown (reserved) types: the bytes after the 4-byte header. */
	size_t raw_len;
	uint8_t *raw;
};

/* Something wrong with the table that did not stop decoding. */
struct ish_dmar_finding {
	uint32_t offset;	/* byte offset it is about */
	char *message;
};

struct ish_dmar {
	/* ACPI table header */
	char signature[5];
	uint32_t length;	/* as the header says (<= the buffer) */
	uint8_t revision;
	uint8_t checksum;	/* the stored byte */
	bool checksum_ok;	/* all bytes of the table sum to 0 */
	char oem_id[7];
	char oem_table_id[9];
	uint32_t oem_revision;
	char creator_id[5];
	uint32_t creator_revision;
	/* DMAR */
	uint8_t haw;		/* host address width - 1, as stored */
	uint8_t flags;		/* ISH_DMAR_INTR_REMAP ... */

	size_t nstructs;
	struct ish_dmar_struct *structs;
	size_t nfindings;
	struct ish_dmar_finding *findings;
};

/* Decodes the table in buf (len bytes). See the hostile-input rules above. */
struct ish_error *ish_dmar_parse(const void *buf, size_t len, struct ish_dmar **ret);
void ish_dmar_destroy(struct ish_dmar *d);

/* Names for printing: "DRHD", "PCI endpoint", ...; NULL for reserved values. */
const char *ish_dmar_type_name(uint16_t type);
const char *ish_dmar_type_desc(uint16_t type);
const char *ish_dmar_scope_type_name(uint8_t type);

/*
 * Calls fn once per DRHD structure, in table order, with segment, flags,
 * size and register base filled (index and name are left for the caller).
 * size_pages is 2^Size pages when that fits in 8 bits, else 0 (unknown).
 * A malformed table is ISH_ERROR_FORMAT naming the offset.
 */
struct ish_error *ish_dmar_units(const void *buf, size_t len,
				 struct ish_error *(*fn)(void *arg, const struct ish_unit *u),
				 void *arg);

#ifdef __cplusplus
}
#endif

#endif
