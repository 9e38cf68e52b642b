/* SPDX-License-Identifier: MIT */
/*
 * kdump.c: makedumpfile's kdump-compressed format ("KDUMP   ", header
 * versions 1 to 6, written by makedumpfile -c/-l/-p/-z and QEMU's
 * dump-guest-memory -z/-l/-s) and its flattened wrapping (makedumpfile -F,
 * what QEMU 7.2 writes), read through dump.c. The file descriptor stays
 * the caller's.
 */
#ifndef IOMMUSH_BACKENDS_KDUMP_H
#define IOMMUSH_BACKENDS_KDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <iommush/error.h>
#include <iommush/target.h>

struct ish_kdump;

/* Do the first len bytes of a file start a kdump-compressed or flattened dump? */
bool ish_kdump_magic(const void *buf, size_t len);
/*
 * Reads the headers, the bitmaps, VMCOREINFO and (flattened) the record
 * index of the dump open on fd (file_size bytes). Every offset is checked
 * against the file; memory is bounded by the file's size, not its claims.
 */
struct ish_error *ish_kdump_open(int fd, uint64_t file_size, struct ish_kdump **ret);
void ish_kdump_destroy(struct ish_kdump *kd);
/*
 * Physical memory. A page the 2nd bitmap leaves out is ISH_ERROR_FAULT
 * "excluded from the dump by makedumpfile (dump level N)"; a page of a
 * codec this build lacks says so.
 */
struct ish_error *ish_kdump_read(struct ish_kdump *kd, uint64_t addr, void *buf, size_t len);
/* The VMCOREINFO text of the sub-header (NUL-terminated), or NULL. */
const char *ish_kdump_vmcoreinfo(const struct ish_kdump *kd, size_t *len);
/* RAM as the 1st bitmap has it, sorted and disjoint; *ret is malloc'd. */
struct ish_error *ish_kdump_ram_ranges(const struct ish_kdump *kd, struct ish_ram_range **ret,
				       size_t *n);
/* The error an ELF dump's left-out page (p_filesz < p_memsz of a kernel dump) reads as. */
struct ish_error *ish_kdump_excluded(uint64_t addr, int dump_level);

#endif
