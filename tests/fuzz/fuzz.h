/* SPDX-License-Identifier: MIT */
/*
 * What every harness shares. Each harness file defines
 * LLVMFuzzerTestOneInput(); it is linked either with libFuzzer (-Dfuzz=true,
 * clang) or with replay.c (normal builds: replays tests/fuzz/regress/<name>/
 * and tests/fuzz/corpus/<name>/ as a meson test).
 *
 * A harness must not leak, must not keep state between inputs (beyond
 * caches of constant things) and must not write outside a temporary
 * directory. Inputs are bytes read through a cursor that yields zeros past
 * the end, so any prefix of an input is itself a valid input.
 */
#ifndef IOMMUSH_FUZZ_H
#define IOMMUSH_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

struct fz {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t fz_bytes(struct fz *c, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++) {
		if (c->n) {
			v |= (uint64_t)*c->p << (8 * i);
			c->p++;
			c->n--;
		}
	}
	return v;
}

static inline uint8_t fz_u8(struct fz *c) { return (uint8_t)fz_bytes(c, 1); }
static inline uint16_t fz_u16(struct fz *c) { return (uint16_t)fz_bytes(c, 2); }
static inline uint32_t fz_u32(struct fz *c) { return (uint32_t)fz_bytes(c, 4); }
static inline uint64_t fz_u64(struct fz *c) { return fz_bytes(c, 8); }

/* Drop an error, if any: the harnesses care about crashes, not results. */
#define FZ_IGNORE(expr) ish_error_destroy(expr)

#endif
