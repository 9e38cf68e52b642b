/* SPDX-License-Identifier: MIT */
/*
 * The in-memory backend, for tests and generated images: RAM regions and
 * register files built by the caller. Writes need the target to be writable
 * (ish_mem_open makes it so).
 */
#ifndef IOMMUSH_MEM_H
#define IOMMUSH_MEM_H

#include <stddef.h>
#include <stdint.h>

#include <iommush/target.h>

/* A writable, empty mem target. */
struct ish_error *ish_mem_open(struct ish_target **ret);
/* Adds zeroed RAM at [addr, addr + size); ret (may be NULL) points at it. */
struct ish_error *ish_mem_add_ram(struct ish_target *t, uint64_t addr, uint64_t size, void **ret);
/* Adds a unit with its register block at reg_base; ret is its index. */
struct ish_error *ish_mem_add_unit(struct ish_target *t, uint64_t reg_base, uint16_t segment,
				   unsigned *ret);
/* Sets a register without side effects (no hardware behaviour is modelled). */
struct ish_error *ish_mem_set_reg(struct ish_target *t, unsigned unit, uint32_t offset,
				  unsigned width, uint64_t value);
/* A pointer to len bytes of RAM at addr, or NULL if not inside one region. */
void *ish_mem_ptr(struct ish_target *t, uint64_t addr, size_t len);
/*
 * PCI configuration space of segment:bdf, ISH_MEM_CONFIG_SIZE bytes of
 * zeros to fill in; *ret points at it (the same image on a second call).
 * Reads of functions without an image are ISH_ERROR_NOT_FOUND; a target
 * with no image at all has no config space (ISH_ERROR_UNSUPPORTED).
 * The image lives as long as the target.
 */
#define ISH_MEM_CONFIG_SIZE 4096u
struct ish_error *ish_mem_add_config(struct ish_target *t, uint16_t segment, uint16_t bdf,
				     uint8_t **ret);
/* Little-endian 64-bit store into RAM; returns false outside RAM. */
bool ish_mem_put64(struct ish_target *t, uint64_t addr, uint64_t value);

#endif
