/* SPDX-License-Identifier: MIT */
/*
 * Bit-field helpers for hardware words, for every architecture. Never lay C
 * bitfields over hardware.
 */
#ifndef IOMMUSH_BITS_H
#define IOMMUSH_BITS_H

#include <stdint.h>

/* Bits hi..lo of x, as an unsigned value. */
#define ISH_BITS(x, hi, lo) \
	((((uint64_t)(x)) >> (lo)) & ((((hi) - (lo)) >= 63) ? ~0ULL : ((1ULL << ((hi) - (lo) + 1)) - 1)))
#define ISH_BIT(x, n) ((((uint64_t)(x)) >> (n)) & 1u)
/* A mask of bits hi..lo. */
#define ISH_GENMASK(hi, lo) ((~0ULL >> (63 - (hi))) & (~0ULL << (lo)))

#endif
