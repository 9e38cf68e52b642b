/* SPDX-License-Identifier: MIT */
/*
 * Helpers for the live-host backend tests (test_devmem.c, test_kcore.c):
 * the demo snapshot of a real QEMU guest (demo/demo.snapshot) laid out as
 * the files a live host has, and comparisons against the dump backend's
 * view of the same guest.
 */
#ifndef IOMMUSH_TEST_LIVE_COMMON_H
#define IOMMUSH_TEST_LIVE_COMMON_H

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <iommush/vtd/context.h>
#include <iommush/target.h>
#include <iommush/walk.h>

#include "check.h"
#include "config.h"

#define DEMO ISH_SOURCE_ROOT "/demo/demo.snapshot"

struct seg {
	uint64_t paddr, len;
};

/* The PT_LOADs of an ELF core (at most max). */
static inline size_t demo_segments(const char *path, struct seg *segs, size_t max)
{
	int fd = open(path, O_RDONLY);
	Elf *e;
	size_t n = 0, phnum;

	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_getphdrnum(e, &phnum)) {
		fprintf(stderr, "%s: not ELF\n", path);
		exit(1);
	}
	for (size_t i = 0; i < phnum && n < max; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD && ph.p_memsz)
			segs[n++] = (struct seg){ ph.p_paddr, ph.p_memsz };
	}
	elf_end(e);
	close(fd);
	return n;
}

static inline void write_all(int fd, const void *buf, size_t len, uint64_t off)
{
	if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len) {
		perror("pwrite");
		exit(1);
	}
}

/* Copies every PT_LOAD of the dump to fd: at its physical address + delta. */
static inline void copy_ram(struct ish_target *dump, const struct seg *segs, size_t n, int fd,
			    uint64_t (*where)(uint64_t paddr, void *arg), void *arg)
{
	static uint8_t buf[65536];

	for (size_t i = 0; i < n; i++) {
		for (uint64_t off = 0; off < segs[i].len; off += sizeof(buf)) {
			size_t c = segs[i].len - off < sizeof(buf) ? (size_t)(segs[i].len - off) :
				   sizeof(buf);

			OK(ish_read_phys(dump, segs[i].paddr + off, buf, c));
			write_all(fd, buf, c, where(segs[i].paddr + off, arg));
		}
	}
}

/*
 * A file laid out like /dev/mem of the dump's machine: RAM at its physical
 * addresses, and unit 0's register page (every 32-bit word the dump has)
 * at its register base, which ends the file.
 */
static inline uint64_t devmem_same_addr(uint64_t paddr, void *arg)
{
	(void)arg;
	return paddr;
}

static inline void write_devmem_file(struct ish_target *dump, const struct seg *segs, size_t n,
				     const char *path)
{
	const struct ish_unit *u = ish_target_unit(dump, 0);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		exit(1);
	copy_ram(dump, segs, n, fd, devmem_same_addr, NULL);
	for (uint32_t off = 0; off < 0x1000; off += 4) {
		uint64_t v;
		struct ish_error *err = ish_read_reg(dump, 0, off, 32, &v);
		uint32_t w = (uint32_t)v;

		if (err) {
			ish_error_destroy(err);
			continue;
		}
		write_all(fd, &w, 4, u->reg_base + off);
	}
	if (ftruncate(fd, (off_t)(u->reg_base + 0x1000)))
		exit(1);
	close(fd);
}

static inline char *write_dmar(struct ish_target *dump, const char *dir)
{
	size_t len;
	const void *dmar = ish_target_dmar(dump, &len);
	char *path;
	int fd;

	if (!dmar || asprintf(&path, "%s/DMAR", dir) < 0)
		exit(1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write_all(fd, dmar, len, 0);
	close(fd);
	return path;
}

struct maplist {
	size_t n;
	uint64_t sum;		/* of iova ^ hpa * 3 ^ size * 7, order-sensitive enough */
};

static inline struct ish_error *map_cb(void *arg, const struct ish_mapping *m)
{
	struct maplist *l = arg;

	l->n++;
	l->sum = l->sum * 31 + (m->iova ^ m->hpa * 3 ^ m->size * 7 ^ (uint64_t)m->write << 1);
	return NULL;
}

struct devlist {
	size_t n;
	uint16_t bdf[64];
	unsigned unit[64];
};

static inline struct ish_error *dev_cb(void *arg, const struct ish_device *d)
{
	struct devlist *l = arg;

	if (l->n < 64) {
		l->bdf[l->n] = d->bdf;
		l->unit[l->n] = d->unit;
		l->n++;
	}
	return NULL;
}

/*
 * The two targets agree on memory (every page of the dump) and on what the
 * decoders make of it: devices and every device's mappings.
 */
static inline void same_view(struct ish_target *dump, struct ish_target *t, const struct seg *segs,
			     size_t nsegs)
{
	static uint8_t a[4096], b[4096];
	struct devlist da = { 0 }, db = { 0 };
	size_t differ = 0, pages = 0;

	for (size_t i = 0; i < nsegs; i++) {
		for (uint64_t off = 0; off < segs[i].len; off += 4096) {
			size_t c = segs[i].len - off < 4096 ? (size_t)(segs[i].len - off) : 4096;

			OK(ish_read_phys(dump, segs[i].paddr + off, a, c));
			OK(ish_read_phys(t, segs[i].paddr + off, b, c));
			differ += !!memcmp(a, b, c);
			pages++;
		}
	}
	CHECK_EQ(differ, 0);
	CHECK(pages > 10);
	OK(ish_devices(dump, false, dev_cb, NULL, &da));
	OK(ish_devices(t, false, dev_cb, NULL, &db));
	CHECK_EQ(da.n, db.n);
	CHECK(da.n >= 3);
	for (size_t i = 0; i < da.n && i < db.n; i++) {
		struct maplist ma = { 0 }, mb = { 0 };

		CHECK_EQ(da.bdf[i], db.bdf[i]);
		OK(ish_mappings(dump, (int)da.unit[i], da.bdf[i], ISH_PASID_NONE, 0, ~0ULL, map_cb, NULL,
				&ma, NULL, NULL));
		OK(ish_mappings(t, (int)db.unit[i], db.bdf[i], ISH_PASID_NONE, 0, ~0ULL, map_cb, NULL,
				&mb, NULL, NULL));
		CHECK_EQ(ma.n, mb.n);
		CHECK_EQ(ma.sum, mb.sum);
	}
}

#endif
