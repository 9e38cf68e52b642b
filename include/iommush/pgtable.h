/* SPDX-License-Identifier: MIT */
/*
 * Page-table formats as data (issue 12, first step). One descriptor per
 * format: granule, index bits per level, the levels it may have, and a
 * decoder that says present / leaf / next table / address / permissions
 * and which reserved bits are set (from the caps). Linux's
 * io_pgtable_init_table[] is the model.
 *
 * The descriptor carries the next level the decoder found, because AMD-Vi
 * v1 tables encode it per entry (the "next level" field); formats where it
 * is always level - 1 say so through the same field.
 *
 * Built: VT-d second-level (9.8) and x86-64 4/5-level paging, which is
 * VT-d first-level (9.7) and AMD-Vi v2. AMD-Vi v1 and ARM LPAE are the
 * next rows (see HACKING.md, "How to add a page-table format").
 */
#ifndef IOMMUSH_PGTABLE_H
#define IOMMUSH_PGTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/walk.h>

#ifdef __cplusplus
extern "C" {
#endif

enum ish_pgtable_id {
	ISH_PGTABLE_VTD_SL,	/* VT-d second-level (9.8) */
	ISH_PGTABLE_X86_64,	/* x86-64 = VT-d first-level (9.7) = AMD-Vi v2 */
	ISH_PGTABLE_COUNT,
};

struct ish_pgtable_decoded {
	struct ish_pte pte;
	unsigned next_level;	/* of the table pte.addr points at (non-leaf only) */
};

struct ish_pgtable_format {
	enum ish_pgtable_id id;
	const char *name;	/* "vtd-sl", "x86-64" */
	unsigned granule_shift;	/* 12: 4 KiB pages and table pages */
	unsigned bits_per_level;	/* 9: 512 eight-byte entries a table */
	unsigned min_levels, max_levels;
	bool canonical;		/* input addresses are sign-extended (x86-64) */
	void (*decode)(uint64_t raw, unsigned level, const struct ish_walk_caps *caps,
		       struct ish_pgtable_decoded *ret);
};

/* NULL for an id beyond the table. */
const struct ish_pgtable_format *ish_pgtable_format(enum ish_pgtable_id id);
/* By name; NULL when there is none. */
const struct ish_pgtable_format *ish_pgtable_find(const char *name);

/* Input bits a table of levels levels translates (12 + 9 * levels for VT-d). */
static inline unsigned ish_pgtable_width(const struct ish_pgtable_format *f, unsigned levels)
{
	return f->granule_shift + f->bits_per_level * levels;
}

/* The bytes one entry at level covers. */
static inline uint64_t ish_pgtable_level_size(const struct ish_pgtable_format *f, unsigned level)
{
	return 1ULL << (f->granule_shift + f->bits_per_level * (level - 1));
}

/* The entry index of va in a table at level. */
static inline unsigned ish_pgtable_index(const struct ish_pgtable_format *f, unsigned level,
					 uint64_t va)
{
	return (unsigned)((va >> (f->granule_shift + f->bits_per_level * (level - 1))) &
			  ((1u << f->bits_per_level) - 1));
}

#ifdef __cplusplus
}
#endif

#endif
