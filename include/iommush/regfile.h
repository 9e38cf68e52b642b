/* SPDX-License-Identifier: MIT */
/*
 * A sparse register store for backends that do not reach live registers
 * (dumps, debugfs, the mem backend): bytes captured at offsets of one unit's
 * register block. Reading a byte that was never captured is ISH_ERROR_NOT_FOUND.
 */
#ifndef IOMMUSH_REGFILE_H
#define IOMMUSH_REGFILE_H

#include <stdbool.h>
#include <stdint.h>

#include <iommush/error.h>

#define ISH_REGFILE_SIZE 0x10000u	/* enough for FRO/IRO up to 0x3ff * 16 plus records */

struct ish_regfile;

struct ish_error *ish_regfile_create(struct ish_regfile **ret);
void ish_regfile_destroy(struct ish_regfile *rf);
/* width is 8, 16, 32 or 64 */
struct ish_error *ish_regfile_set(struct ish_regfile *rf, uint32_t offset, unsigned width,
				  uint64_t value);
struct ish_error *ish_regfile_get(const struct ish_regfile *rf, uint32_t offset, unsigned width,
				  uint64_t *ret);
/* ish_regfile_get() for callers that only ask whether it was captured. */
bool ish_regfile_has(const struct ish_regfile *rf, uint32_t offset, unsigned width, uint64_t *ret);
/* Calls fn for each captured aligned 32-bit word (for snapshots); stops on error. */
struct ish_error *ish_regfile_foreach(const struct ish_regfile *rf,
				      struct ish_error *(*fn)(void *arg, uint32_t offset, uint32_t value),
				      void *arg);

#endif
