/* SPDX-License-Identifier: MIT */
/*
 * Building VT-d images in a mem target for the unit tests, once: 64-bit
 * entries in guest RAM, a bump allocator of 4-KiB table pages, and
 * page-table paths (second-level and first-level lay out 9 bits a level
 * alike). Each test keeps its own fixture and calls these.
 */
#ifndef IOMMUSH_TEST_IMAGE_H
#define IOMMUSH_TEST_IMAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <iommush/mem.h>
#include <iommush/target.h>

#define IMG_ADDR_MASK 0xffffffffff000ULL

/* The little-endian quadword at a (0 outside RAM). */
static inline uint64_t img_get(struct ish_target *t, uint64_t a)
{
	uint64_t v = 0;
	uint8_t *p = ish_mem_ptr(t, a, 8);

	for (int i = 7; p && i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Stores v at a; a test that writes outside its RAM is broken: exit. */
static inline void img_put(struct ish_target *t, uint64_t a, uint64_t v)
{
	if (!ish_mem_put64(t, a, v)) {
		fprintf(stderr, "put outside RAM at %#llx\n", (unsigned long long)a);
		exit(1);
	}
}

/* The next free 4-KiB page of *next. */
static inline uint64_t img_page(uint64_t *next)
{
	*next += 4096;
	return *next - 4096;
}

/* The entry for iova at level in the table at table. */
static inline uint64_t img_slot(uint64_t table, uint64_t iova, unsigned level)
{
	return table + ((iova >> (12 + 9 * (level - 1))) & 511) * 8;
}

/*
 * Maps iova to hpa with bits in the tables rooted at root (levels deep),
 * as a leaf at leaf_level (a large page above 1), allocating the missing
 * tables from *next with R|W|X (second-level) = P|RW|US (first-level). fl
 * says which format the caller builds; both have this layout.
 */
static inline void img_map(struct ish_target *t, uint64_t *next, bool fl, uint64_t root,
			   unsigned levels, uint64_t iova, uint64_t hpa, uint64_t bits,
			   unsigned leaf_level)
{
	uint64_t table = root;

	(void)fl;
	for (unsigned level = levels; level > leaf_level; level--) {
		uint64_t e = img_slot(table, iova, level), v = img_get(t, e);

		if (!v) {
			v = img_page(next) | 7;
			img_put(t, e, v);
		}
		table = v & IMG_ADDR_MASK;
	}
	img_put(t, img_slot(table, iova, leaf_level), hpa | bits | (leaf_level > 1 ? 0x80 : 0));
}

/* The address of the leaf entry for iova (to corrupt it). */
static inline uint64_t img_leaf_entry(struct ish_target *t, uint64_t root, unsigned levels,
				      uint64_t iova, unsigned leaf_level)
{
	uint64_t table = root;

	for (unsigned level = levels; level > leaf_level; level--)
		table = img_get(t, img_slot(table, iova, level)) & IMG_ADDR_MASK;
	return img_slot(table, iova, leaf_level);
}

#endif
