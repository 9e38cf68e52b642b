/* SPDX-License-Identifier: MIT */
/*
 * Register files: captured VT-d register values as text, for targets that
 * cannot read live registers (a dump, a raw image, debugfs). Two formats are
 * understood, line by line, and may be mixed in one file:
 *
 * (a) The text of Linux debugfs iommu/intel/iommu_regset
 *     (drivers/iommu/intel/debugfs.c, iommu_regset_show(), the same layout
 *     in v6.1 and v6.12; v6.12 no longer lists VCCAP/VCMD/VCRSP):
 *
 *	IOMMU: dmar0 Register Base Address: fed90000
 *	Name			Offset		Contents
 *	VER             	0x00		0x0000000000000010
 *	...
 *	<blank line>
 *
 *     The header starts a unit (the base is hex, with or without 0x; the
 *     older "DMAR: dmar0: Register Base Address fed90000" and
 *     "DMAR: dmar0: reg_base_addr fed90000" headers are accepted too). The
 *     column header line is skipped. A row is NAME OFFSET VALUE; the offset
 *     in the row is what counts, the name only gives the width (32 or 64,
 *     from the register table in include/iommush/regs.h; an unknown name is
 *     64 bits if its offset is 8-aligned, else 32). Kernels before the
 *     32/64 split read every register with a 64-bit access: for a 32-bit
 *     register only the low half is kept, since the upper half belongs to
 *     the next register, which has its own row.
 *
 * (b) Assignments, one per line, '#' starts a comment:
 *
 *	[dmar0 @ 0xfed90000]	a section: the unit for the following lines
 *	[dmar1]			a unit without a base (see the dump backend's
 *	[@ 0xfed91000]		dump.unit_base); a unit without a name
 *	CAP = 0x00d2008c40660462	a register by name (width from the table)
 *	0x1c = 0xc7000000	an offset, 32 bits
 *	0x20:64 = 0x1234000	an offset with an explicit width (8/16/32/64)
 *	GSTS:32 = 0		a name with a width that must agree
 *	FRCD0_HI = 0x8000...	registers that move with CAP.FRO (FRCDn_LO/HI)
 *	IOTLB = 0		or ECAP.IRO (IVA, IOTLB): placed once the file is
 *				read, from CAP/ECAP given anywhere in the unit
 *
 *     Numbers are C style (0x.. hex, else decimal). Lines before the first
 *     section or header belong to an unnamed unit without a base. Naming the
 *     same unit twice continues it. A value wider than its register is an
 *     error, as is an offset outside ISH_REGFILE_SIZE.
 *
 * Errors are ISH_ERROR_FORMAT and name "FILE:LINE". Limits: lines of at
 * most 4096 bytes, at most 256 units, files of at most 16 MiB.
 */
#ifndef IOMMUSH_REGSFILE_H
#define IOMMUSH_REGSFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/regfile.h>

#define ISH_REGSFILE_MAX_UNITS 256
#define ISH_REGSFILE_MAX_BYTES (16u << 20)

struct ish_regsfile_unit {
	char name[16];		/* "" when the file did not name the unit */
	bool has_base;
	uint64_t reg_base;
	struct ish_regfile *regs;
};

/* The units of one register file, in the order the file first names them. */
struct ish_regsfile {
	struct ish_regsfile_unit *units;
	size_t nunits;
};

/* Parses len bytes of text (need not end in NUL); where names the source in errors. */
struct ish_error *ish_regsfile_parse(const char *text, size_t len, const char *where,
				     struct ish_regsfile **ret);
/* Reads and parses the file at path. */
struct ish_error *ish_regsfile_load(const char *path, struct ish_regsfile **ret);
void ish_regsfile_destroy(struct ish_regsfile *rf);

#endif
