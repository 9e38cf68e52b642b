// SPDX-License-Identifier: MIT
/*
 * The page-table format table. The decoders are walk.c's (ish_decode_sl_pte,
 * ish_decode_fl_pte): one decoding per format, which the streaming walker
 * keeps inlined in its loop.
 */
#include <string.h>

#include <iommush/pgtable.h>

static void decode_vtd_sl(uint64_t raw, unsigned level, const struct ish_walk_caps *caps,
			  struct ish_pgtable_decoded *ret)
{
	ish_decode_sl_pte(raw, level, caps, &ret->pte);
	/* VT-d encodes no level in the entry: the next table is one level down. */
	ret->next_level = ret->pte.leaf ? 0 : level - 1;
}

static void decode_x86_64(uint64_t raw, unsigned level, const struct ish_walk_caps *caps,
			  struct ish_pgtable_decoded *ret)
{
	ish_decode_fl_pte(raw, level, caps, &ret->pte);
	ret->next_level = ret->pte.leaf ? 0 : level - 1;
}

static const struct ish_pgtable_format formats[ISH_PGTABLE_COUNT] = {
	[ISH_PGTABLE_VTD_SL] = { ISH_PGTABLE_VTD_SL, "vtd-sl", 12, 9, 3, 5, false, decode_vtd_sl },
	[ISH_PGTABLE_X86_64] = { ISH_PGTABLE_X86_64, "x86-64", 12, 9, 4, 5, true, decode_x86_64 },
};

const struct ish_pgtable_format *ish_pgtable_format(enum ish_pgtable_id id)
{
	return (unsigned)id < ISH_PGTABLE_COUNT ? &formats[id] : NULL;
}

const struct ish_pgtable_format *ish_pgtable_find(const char *name)
{
	for (unsigned i = 0; name && i < ISH_PGTABLE_COUNT; i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}
