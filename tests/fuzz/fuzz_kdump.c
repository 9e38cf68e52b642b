// SPDX-License-Identifier: MIT
/*
 * kdump-compressed and flattened dumps (backends/kdump.c) through the dump
 * backend: ish_target_open() on a memfd holding the file, then VMCOREINFO,
 * the RAM ranges, and reads of every page the ranges name (bounded) plus
 * a few fixed probes, which decode the page descriptors and decompress.
 *
 * Input: byte 0 is flags, then the file.
 *   bit 0: wrap the file in makedumpfile's flattened format here, in records
 *	    of (byte 1 + 1) * 64 bytes, the first 64 bytes written twice
 *	    (garbage first, so the later record must win); byte 1 is consumed
 *	    either way;
 *   bit 1: leave out the flattened end record.
 * Seeds: tests/unit/test_kdump.c writes its images to $FZ_KDUMP_SEEDS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <iommush/target.h>

#include "fuzz.h"

#define MAX_PAGES_READ 256

static volatile uint64_t sink;

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void write_all(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;

	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			abort();
		p += w;
		n -= (size_t)w;
	}
}

static void write_flat(int fd, const uint8_t *p, size_t n, size_t rec, bool end)
{
	static uint8_t hdr[4096];
	uint8_t rh[16], junk[64];

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, "makedumpfile", 12);
	put_be64(hdr + 16, 1);
	put_be64(hdr + 24, 1);
	write_all(fd, hdr, sizeof(hdr));
	memset(junk, 0xa5, sizeof(junk));
	put_be64(rh, 0);
	put_be64(rh + 8, sizeof(junk));
	write_all(fd, rh, 16);
	write_all(fd, junk, sizeof(junk));
	for (size_t off = 0; off < n; off += rec) {
		size_t k = n - off < rec ? n - off : rec;

		put_be64(rh, off);
		put_be64(rh + 8, k);
		write_all(fd, rh, 16);
		write_all(fd, p + off, k);
	}
	if (end) {
		memset(rh, 0xff, 16);
		write_all(fd, rh, 16);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t page[4096 + 16];
	struct ish_target *t = NULL;
	struct ish_ram_range *rr = NULL;
	struct ish_error *err;
	char path[64], *vmci = NULL;
	const char *where;
	unsigned flags;
	size_t rec, len, n = 0;
	int fd;

	if (size < 2)
		return 0;
	flags = data[0];
	rec = ((size_t)data[1] + 1) * 64;
	data += 2;
	size -= 2;
	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (flags & 1)
		write_flat(fd, data, size, rec, !(flags & 2));
	else
		write_all(fd, data, size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err = ish_target_open(path, "dump", NULL, 0, 0, &t);
	if (err) {
		ish_error_destroy(err);
		close(fd);
		return 0;
	}
	err = ish_target_vmcoreinfo(t, &vmci, &len, &where);
	if (!err) {
		sink += len + (size_t)vmci[len];
		free(vmci);
	}
	ish_error_destroy(err);
	err = ish_target_ram_ranges(t, &rr, &n);
	if (!err) {
		unsigned reads = 0;

		for (size_t i = 0; i < n && reads < MAX_PAGES_READ; i++)
			for (uint64_t a = rr[i].start; a < rr[i].end && reads < MAX_PAGES_READ;
			     a += 4096, reads++) {
				FZ_IGNORE(ish_read_phys(t, a, page, 4096));
				sink += page[0];
			}
		free(rr);
	}
	ish_error_destroy(err);
	FZ_IGNORE(ish_read_phys(t, 0xffc, page, 16));
	FZ_IGNORE(ish_read_phys(t, ~0ull - 7, page, 8));
	FZ_IGNORE(ish_read_phys(t, 1ull << 52, page, 8));
	ish_target_close(t);
	close(fd);
	return 0;
}
