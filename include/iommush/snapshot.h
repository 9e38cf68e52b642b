/* SPDX-License-Identifier: MIT */
/*
 * iommush snapshots: an ELF64 core file that the dump backend opens like any
 * other dump, plus notes that carry what a memory dump lacks.
 *
 * File layout (System V gABI, ELF-64 object file format):
 *   Elf64_Ehdr	ET_CORE, EM_X86_64, ELFDATA2LSB, no sections
 *   Elf64_Phdr	[0] PT_NOTE, then one PT_LOAD per captured range, sorted by
 *		address; p_paddr = physical address, p_vaddr = 0,
 *		p_filesz = p_memsz = length, p_flags = PF_R
 *   note data, then the bytes of each range; a range's file offset is
 *   congruent to its address modulo 4096 (so pages can be mapped), and
 *   ranges that touch are written as one segment. With 65535 or more
 *   segments, e_phnum is PN_XNUM and section header 0 holds the count in
 *   sh_info (gABI extended numbering).
 *
 * Every iommush note has the name "IOMMUSH" (namesz 8, with its NUL) and a
 * descriptor of little-endian fields; name and descriptor are padded to 4
 * bytes as in every ELF core. Notes of other names (CORE, QEMU, VMCOREINFO)
 * are ignored by the reader.
 *
 *   ISH_NT_VERSION (1): u32 format version (ISH_SNAPSHOT_VERSION), u32 0.
 *			 First note of the segment.
 *   ISH_NT_UNIT (2):	 one per remapping unit, in unit order:
 *			   0  char name[16]	NUL-padded
 *			  16  u16 segment
 *			  18  u8  arch_flags	the arch's unit flags (VT-d: DRHD flags)
 *			  19  u8  size_pages	DRHD size field, 0 = unknown
 *			  20  u32 nregs
 *			  24  u64 reg_base
 *			  32  nregs x { u32 offset, u32 width (8/16/32/64), u64 value }
 *   ISH_NT_DMAR (3):	 the raw ACPI DMAR table, at most once.
 *   ISH_NT_PCICFG (4):	 PCI configuration space of one device, as read from the
 *			 target (ECAM): u16 segment, u16 bdf, u32 len (<= 4096),
 *			 then len bytes. Lets a snapshot name its devices.
 *   ISH_NT_ARCH (5):	 char name[16], NUL-padded: the IOMMU architecture of the
 *			 units (iommush/arch.h: "vtd"), at most once. A snapshot
 *			 without it (every 1.0 writer before it, the demo) is vtd.
 *   ISH_NT_ACPI (6):	 one raw ACPI table (its signature in bytes 0-3), at most
 *			 one per signature: the firmware table of architectures
 *			 after VT-d (IVRS, IORT). VT-d's DMAR stays in ISH_NT_DMAR,
 *			 which every 1.0 reader knows; a reader that finds an
 *			 ACPI note with signature DMAR and no ISH_NT_DMAR takes it
 *			 as the DMAR table.
 *
 * A reader accepts a larger version number only if its major part (bits
 * 31..16) is the same; new note types are ignored.
 */
#ifndef IOMMUSH_SNAPSHOT_H
#define IOMMUSH_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/regfile.h>
#include <iommush/target.h>

#define ISH_SNAPSHOT_NOTE_NAME "IOMMUSH"
#define ISH_SNAPSHOT_VERSION 0x00010000u	/* major 1, minor 0 */

enum {
	ISH_NT_VERSION = 1,
	ISH_NT_UNIT = 2,
	ISH_NT_DMAR = 3,
	ISH_NT_PCICFG = 4,
	ISH_NT_ARCH = 5,
	ISH_NT_ACPI = 6,
};

#define ISH_NT_ARCH_LEN 16u

/* One raw ACPI table. */
struct ish_snapshot_acpi {
	char signature[5];	/* from the table's first 4 bytes, NUL-terminated */
	const uint8_t *bytes;
	size_t len;
};

#define ISH_PCICFG_MAX 4096u

/* One device's configuration space. */
struct ish_snapshot_pcicfg {
	uint16_t segment;
	uint16_t bdf;
	uint32_t len;
	const uint8_t *bytes;
};

#define ISH_NT_UNIT_HEADER 32u
#define ISH_NT_UNIT_REG 16u
/* Reader limits: a note segment larger than this is refused. */
#define ISH_SNAPSHOT_MAX_NOTES (64u << 20)

/*
 * One captured range of physical memory. bytes NULL means the range reads as
 * zeros: it is written as a PT_LOAD with p_filesz 0 and takes no file space
 * (an interrupt-remapping table is mostly empty pages).
 */
struct ish_snapshot_range {
	uint64_t addr;
	uint64_t len;
	const void *bytes;
};

/* One unit and its captured registers (regs may be NULL: none captured). */
struct ish_snapshot_unit {
	struct ish_unit unit;		/* index is ignored */
	const struct ish_regfile *regs;
};

struct ish_snapshot {
	const struct ish_snapshot_range *ranges;
	size_t nranges;
	const struct ish_snapshot_unit *units;
	size_t nunits;
	const void *dmar;		/* NULL: no DMAR note */
	size_t dmar_len;
	const struct ish_snapshot_pcicfg *pcicfg;
	size_t npcicfg;
	const char *arch;		/* NULL: no arch note (read as vtd) */
	const struct ish_snapshot_acpi *acpi;	/* ACPI notes, signatures distinct */
	size_t nacpi;
};

/*
 * Writes snap to path as an ELF core: to "path.tmp" first, then fsync and
 * rename(), so path is either the old file or the complete new one, and no
 * .tmp file is left behind on failure. Ranges must not overlap (ISH_ERROR_INVALID);
 * their order does not matter. Registers are written as the 32-bit words
 * ish_regfile_foreach() yields.
 */
struct ish_error *ish_snapshot_write_elf(const char *path, const struct ish_snapshot *snap);

/* --- the reader side, used by the dump backend --- */

struct ish_snapshot_notes {
	uint32_t version;		/* 0 if the segment had no IOMMUSH version note */
	struct ish_unit *units;		/* index = position */
	struct ish_regfile **regs;	/* one per unit, never NULL */
	size_t nunits;
	uint8_t *dmar;			/* NULL if there was no DMAR note */
	size_t dmar_len;
	struct ish_snapshot_pcicfg *pcicfg;	/* bytes owned by the notes */
	size_t npcicfg;
	char arch[ISH_NT_ARCH_LEN];	/* "" if there was no arch note (vtd) */
	struct ish_snapshot_acpi *acpi;	/* bytes owned by the notes */
	size_t nacpi;
};

/*
 * Parses the contents of one PT_NOTE segment. A segment without iommush
 * notes gives an empty result (version 0), not an error; a malformed note
 * (lengths past the segment, a lying nregs, a bad width, an unknown major
 * version) is ISH_ERROR_FORMAT naming its offset in the segment.
 */
struct ish_error *ish_snapshot_parse_notes(const void *buf, size_t len,
					   struct ish_snapshot_notes **ret);
void ish_snapshot_notes_destroy(struct ish_snapshot_notes *notes);

#endif
