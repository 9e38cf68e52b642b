// SPDX-License-Identifier: MIT
/*
 * makedumpfile's kdump-compressed dumps, plain and flattened. Layout (from
 * makedumpfile's diskdump_mod.h and makedumpfile.h, and QEMU's dump.h):
 *
 *   block 0            struct disk_dump_header (signature "KDUMP   ")
 *   block 1..          struct kdump_sub_header (sub_hdr_size blocks)
 *   then               bitmap_blocks blocks: the 1st bitmap (pages that are
 *                      RAM), then the 2nd (pages written), one bit per pfn,
 *                      least significant bit first
 *   then               one page_desc_t per set bit of the 2nd bitmap, in pfn
 *                      order: {off_t offset; u32 size; u32 flags; u64 page_flags}
 *   then               the pages, each compressed (flags) or stored raw
 *
 * All fields are the dumped machine's byte order; only x86-64 (little
 * endian, 8-byte longs) is read. The flattened format (makedumpfile -F,
 * QEMU 7.2's dump-guest-memory -z) is a 4096-byte "makedumpfile" header and
 * then big-endian (offset, size) records each followed by size bytes of the
 * plain file at offset, ended by a (-1, -1) record. It is indexed once and
 * then read like the plain file: the index costs 32 bytes a record, the file
 * is never copied.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "backends.h"
#include "kdump.h"

#ifdef ISH_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef ISH_HAVE_LZO
#include <lzo/lzo1x.h>
#endif
#ifdef ISH_HAVE_SNAPPY
#include <snappy-c.h>
#endif
#ifdef ISH_HAVE_ZSTD
#include <zstd.h>
#endif

/* diskdump_mod.h: DUMP_DH_* (header status and page_desc_t flags). */
#define DUMP_DH_COMPRESSED_ZLIB 0x1
#define DUMP_DH_COMPRESSED_LZO 0x2
#define DUMP_DH_COMPRESSED_SNAPPY 0x4
#define DUMP_DH_COMPRESSED_INCOMPLETE 0x8
#define DUMP_DH_COMPRESSED_ZSTD 0x20
#define DUMP_DH_CODECS \
	(DUMP_DH_COMPRESSED_ZLIB | DUMP_DH_COMPRESSED_LZO | DUMP_DH_COMPRESSED_SNAPPY | \
	 DUMP_DH_COMPRESSED_ZSTD)

/* struct disk_dump_header on x86-64 (new_utsname is 6 * 65 bytes). */
#define DH_VERSION 8
#define DH_STATUS 424
#define DH_BLOCK_SIZE 428
#define DH_SUB_HDR_SIZE 432
#define DH_BITMAP_BLOCKS 436
#define DH_MAX_MAPNR 440
#define DH_SIZE 464

/* struct kdump_sub_header, fields by the header version that added them. */
#define SH_PHYS_BASE 0		/* v1 */
#define SH_DUMP_LEVEL 8		/* v1 */
#define SH_SPLIT 12		/* v2 */
#define SH_OFFSET_VMCOREINFO 32	/* v3 */
#define SH_SIZE_VMCOREINFO 40
#define SH_MAX_MAPNR_64 96	/* v6 */
#define SH_SIZE 104

#define PD_SIZE 24		/* page_desc_t */

/* makedumpfile.h: the flattened format. */
#define MDF_SIGNATURE "makedumpfile"
#define MDF_HEADER_SIZE 4096
#define MDF_TYPE_FLAT_HEADER 1

/*
 * Sane caps: pages of 4 KiB to 64 KiB (x86-64 and arm64 dumps), bitmaps
 * for up to 16 TiB of 4 KiB pages, VMCOREINFO up to 1 MiB (the kernel's is
 * one page).
 */
#define MIN_BLOCK 4096u
#define MAX_BLOCK 65536u
#define MAX_BITMAP (256ULL << 20)
#define MAX_VMCOREINFO (1u << 20)
#define RANK_BITS 4096u		/* one cumulative count per this many bits */

struct flat_rec {
	uint64_t off;		/* in the plain file */
	uint64_t size;
	uint64_t pos;		/* of its bytes in the flattened file */
	uint64_t seq;		/* later records win over earlier ones */
};

struct ish_kdump {
	int fd;
	uint64_t file_size;
	/* flattened: the index, sorted by off */
	bool flat;
	struct flat_rec *recs;
	size_t nrecs;
	bool overlaps;		/* some records rewrite others (until flat_resolve) */
	uint64_t vsize;		/* size of the plain file */

	uint32_t version;
	uint32_t status;
	uint32_t block_size;
	int32_t dump_level;	/* -1: unknown (header version 0) */
	int64_t phys_base;	/* the header's; QEMU 7.2 gets it wrong, VMCOREINFO does not */
	uint64_t max_mapnr;
	uint64_t bitmap_len;	/* bytes of each bitmap */
	uint8_t *bitmap1, *bitmap2;
	uint64_t *rank;		/* set bits of bitmap2 before each RANK_BITS block */
	uint64_t desc_off;
	uint64_t ndesc;
	char *vmcoreinfo;
	size_t vmcoreinfo_len;
	uint8_t *cbuf;		/* one compressed page */
	uint8_t *page;		/* the last page decoded */
	uint64_t page_pfn;	/* UINT64_MAX: none */
#ifdef ISH_HAVE_ZSTD
	ZSTD_DCtx *zstd;
#endif
};

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

bool ish_kdump_magic(const void *buf, size_t len)
{
	return (len >= 8 && !memcmp(buf, "KDUMP   ", 8)) ||
	       (len >= 12 && !memcmp(buf, MDF_SIGNATURE, 12));
}

struct ish_error *ish_kdump_excluded(uint64_t addr, int dump_level)
{
	if (dump_level >= 0)
		return ish_error_fault(addr,
				       "physical address %#" PRIx64 " is excluded from the dump by "
				       "makedumpfile (dump level %d)",
				       addr, dump_level);
	return ish_error_fault(addr,
			       "physical address %#" PRIx64 " is excluded from the dump by "
			       "makedumpfile (p_filesz < p_memsz: a filtered dump, makedumpfile -d)",
			       addr);
}

/* Exactly n bytes of the flattened or plain file, at off. */
static struct ish_error *file_pread(struct ish_kdump *kd, uint64_t pos, void *buf, size_t n)
{
	uint8_t *out = buf;

	if (pos > kd->file_size || n > kd->file_size - pos)
		return ish_error_format(ISH_ERROR_FORMAT,
					"the dump is truncated: %zu bytes at file offset %#" PRIx64
					" lie past its end (%" PRIu64 " bytes)",
					n, pos, kd->file_size);
	size_t done;
	int rc = ish_pread_all(kd->fd, out, n, pos, &done);

	if (rc < 0)
		return ish_error_errno(errno, "reading the dump at file offset %#" PRIx64, pos + done);
	if (rc > 0)
		return ish_error_format(ISH_ERROR_FORMAT,
					"the dump is truncated at file offset %#" PRIx64
					" (it shrank while open?)",
					pos + done);
	return NULL;
}

/* --- the flattened index --- */

static int cmp_rec(const void *a, const void *b)
{
	const struct flat_rec *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A max-heap of record indices by seq: the latest record covering the sweep's position on top. */
static void heap_push(size_t *h, size_t *n, const struct flat_rec *r, size_t v)
{
	size_t i = (*n)++;

	while (i && r[h[(i - 1) / 2]].seq < r[v].seq) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static void heap_pop(size_t *h, size_t *n, const struct flat_rec *r)
{
	size_t v = h[--*n], i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && r[h[c + 1]].seq > r[h[c]].seq)
			c++;
		if (r[h[c]].seq <= r[v].seq)
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = v;
}

/*
 * Records that rewrite earlier ones (makedumpfile may write a range twice):
 * one sweep over the sorted records turns them into disjoint pieces, each
 * read from the latest record that covers it, so a read is a binary search
 * whatever the file holds (O(n log n) once, at most 2n pieces).
 */
static struct ish_error *flat_resolve(struct ish_kdump *kd)
{
	struct flat_rec *r = kd->recs, *out;
	size_t n = kd->nrecs, *heap, nh = 0, i = 0, nout = 0;
	uint64_t x = 0;

	heap = malloc(n * sizeof(*heap));
	out = malloc(2 * n * sizeof(*out));
	if (!heap || !out) {
		free(heap);
		free(out);
		return &ish_enomem;
	}
	while (i < n || nh) {
		uint64_t end, nb;
		const struct flat_rec *top;

		if (!nh && x < r[i].off)
			x = r[i].off;
		while (i < n && r[i].off <= x)
			heap_push(heap, &nh, r, i++);
		while (nh && r[heap[0]].off + r[heap[0]].size <= x)
			heap_pop(heap, &nh, r);
		if (!nh)
			continue;
		top = &r[heap[0]];
		end = top->off + top->size;
		nb = i < n && r[i].off < end ? r[i].off : end;
		if (nb > x && nout < 2 * n)
			out[nout++] = (struct flat_rec){ x, nb - x, top->pos + (x - top->off), top->seq };
		x = nb;
	}
	free(heap);
	free(kd->recs);
	kd->recs = out;
	kd->nrecs = nout;
	kd->overlaps = false;
	return NULL;
}

static struct ish_error *flat_index(struct ish_kdump *kd)
{
	uint8_t hdr[32];
	uint64_t pos = MDF_HEADER_SIZE, max_end = 0;
	size_t cap = 0;
	struct ish_error *err;

	err = file_pread(kd, 0, hdr, sizeof(hdr));
	if (err)
		return ish_error_prefix(err, "flattened header");
	if (be64(hdr + 16) != MDF_TYPE_FLAT_HEADER)
		return ish_error_format(ISH_ERROR_FORMAT,
					"flattened dump of type %" PRIu64 " (only type 1 is known)",
					be64(hdr + 16));
	for (;;) {
		uint8_t rh[16];
		uint64_t off, size;

		if (kd->file_size - pos < sizeof(rh))
			return ish_error_format(ISH_ERROR_FORMAT,
						"the flattened dump is truncated: no end record "
						"(-1, -1) after %zu records, file offset %#" PRIx64,
						kd->nrecs, pos);
		err = file_pread(kd, pos, rh, sizeof(rh));
		if (err)
			return err;
		off = be64(rh);
		size = be64(rh + 8);
		pos += sizeof(rh);
		if (off == UINT64_MAX && size == UINT64_MAX)
			break;
		if (off >> 63 || size >> 63 || size > kd->file_size - pos)
			return ish_error_format(ISH_ERROR_FORMAT,
						"flattened record %zu at file offset %#" PRIx64
						": offset %#" PRIx64 ", size %#" PRIx64
						" (past the end of the file, or negative)",
						kd->nrecs, pos - sizeof(rh), off, size);
		if (!size)
			continue;
		if (kd->nrecs == cap) {
			/* Each record holds at least 17 file bytes: bounded by the file. */
			size_t ncap = cap ? cap * 2 : 64;
			struct flat_rec *r = realloc(kd->recs, ncap * sizeof(*r));

			if (!r)
				return &ish_enomem;
			kd->recs = r;
			cap = ncap;
		}
		kd->recs[kd->nrecs] = (struct flat_rec){ off, size, pos, kd->nrecs };
		kd->nrecs++;
		pos += size;
	}
	if (kd->nrecs)
		qsort(kd->recs, kd->nrecs, sizeof(*kd->recs), cmp_rec);
	for (size_t i = 0; i < kd->nrecs; i++) {
		if (kd->recs[i].off < max_end)
			kd->overlaps = true;
		if (kd->recs[i].off + kd->recs[i].size > max_end)
			max_end = kd->recs[i].off + kd->recs[i].size;
	}
	kd->vsize = max_end;
	return kd->overlaps ? flat_resolve(kd) : NULL;
}

/*
 * Bytes of the plain file at off from the flattened one. Bytes no record
 * wrote read as zeros, as a hole in the plain file would.
 */
static struct ish_error *flat_read(struct ish_kdump *kd, uint64_t off, uint8_t *buf, size_t n)
{
	if (off > kd->vsize || n > kd->vsize - off)
		return ish_error_format(ISH_ERROR_FORMAT,
					"the dump is truncated: %zu bytes at offset %#" PRIx64
					" lie past the end of the flattened records (%#" PRIx64 ")",
					n, off, kd->vsize);
	while (n) {
		const struct flat_rec *best = NULL;
		uint64_t next = UINT64_MAX, chunk;
		struct ish_error *err;

		{
			size_t lo = 0, hi = kd->nrecs;

			/* the last record starting at or before off */
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;

				if (kd->recs[mid].off <= off)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo && off - kd->recs[lo - 1].off < kd->recs[lo - 1].size)
				best = &kd->recs[lo - 1];
			if (lo < kd->nrecs)
				next = kd->recs[lo].off;
		}
		if (best) {
			chunk = best->off + best->size - off;
			if (chunk > next - off)
				chunk = next - off;
			if (chunk > n)
				chunk = n;
			err = file_pread(kd, best->pos + (off - best->off), buf, (size_t)chunk);
			if (err)
				return err;
		} else {
			chunk = next - off < n ? next - off : n;
			memset(buf, 0, (size_t)chunk);
		}
		buf += chunk;
		off += chunk;
		n -= (size_t)chunk;
	}
	return NULL;
}

/* Bytes of the plain kdump file. */
static struct ish_error *vread(struct ish_kdump *kd, uint64_t off, void *buf, size_t n)
{
	return kd->flat ? flat_read(kd, off, buf, n) : file_pread(kd, off, buf, n);
}

/* --- headers and bitmaps --- */

static bool bit(const uint8_t *bm, uint64_t pfn)
{
	return bm[pfn / 8] >> (pfn % 8) & 1;
}

static unsigned popcount8(uint8_t v)
{
	return (unsigned)__builtin_popcount(v);
}

static struct ish_error *read_headers(struct ish_kdump *kd)
{
	uint8_t dh[DH_SIZE], sh[SH_SIZE] = { 0 };
	uint64_t sub_blocks, bitmap_blocks, bm_off, max_mapnr, mapnr_bits;
	size_t sh_len;
	struct ish_error *err;

	err = vread(kd, 0, dh, sizeof(dh));
	if (err)
		return ish_error_prefix(err, "kdump header");
	if (memcmp(dh, "KDUMP   ", 8))
		return ish_error_create(ISH_ERROR_FORMAT,
					"the flattened dump does not hold a kdump-compressed image "
					"(no \"KDUMP   \" signature)");
	kd->version = le32(dh + DH_VERSION);
	kd->status = le32(dh + DH_STATUS);
	kd->block_size = le32(dh + DH_BLOCK_SIZE);
	sub_blocks = le32(dh + DH_SUB_HDR_SIZE);
	bitmap_blocks = le32(dh + DH_BITMAP_BLOCKS);
	max_mapnr = le32(dh + DH_MAX_MAPNR);
	if (kd->version > 6)
		return ish_error_format(ISH_ERROR_UNSUPPORTED,
					"kdump header version %u (versions up to 6 are known)",
					kd->version);
	if (kd->block_size < MIN_BLOCK || kd->block_size > MAX_BLOCK ||
	    (kd->block_size & (kd->block_size - 1)))
		return ish_error_format(ISH_ERROR_FORMAT,
					"kdump block size %u (a power of two from %u to %u expected)",
					kd->block_size, MIN_BLOCK, MAX_BLOCK);
	kd->dump_level = -1;
	if (kd->version >= 1) {
		if (!sub_blocks)
			return ish_error_create(ISH_ERROR_FORMAT,
						"kdump header version >= 1 without a sub-header");
		sh_len = sub_blocks * kd->block_size < SH_SIZE ? (size_t)(sub_blocks * kd->block_size) :
								 SH_SIZE;
		err = vread(kd, kd->block_size, sh, sh_len);
		if (err)
			return ish_error_prefix(err, "kdump sub-header");
		kd->phys_base = (int64_t)le64(sh + SH_PHYS_BASE);
		kd->dump_level = (int32_t)le32(sh + SH_DUMP_LEVEL);
		if (kd->version >= 2 && le32(sh + SH_SPLIT))
			return ish_error_create(ISH_ERROR_UNSUPPORTED,
						"one part of a split dump (makedumpfile --split): "
						"join the parts with makedumpfile --reassemble");
		if (kd->version >= 6 && le64(sh + SH_MAX_MAPNR_64))
			max_mapnr = le64(sh + SH_MAX_MAPNR_64);
	}
	if (!bitmap_blocks || bitmap_blocks % 2)
		return ish_error_format(ISH_ERROR_FORMAT,
					"kdump bitmap of %" PRIu64 " blocks (an even number expected)",
					bitmap_blocks);
	kd->bitmap_len = bitmap_blocks / 2 * kd->block_size;
	if (kd->bitmap_len > MAX_BITMAP)
		return ish_error_format(ISH_ERROR_LIMIT,
					"kdump bitmaps of %" PRIu64 " bytes each (more than %llu)",
					kd->bitmap_len, MAX_BITMAP);
	mapnr_bits = kd->bitmap_len * 8;
	kd->max_mapnr = max_mapnr < mapnr_bits ? max_mapnr : mapnr_bits;
	bm_off = (1 + sub_blocks) * kd->block_size;
	kd->desc_off = bm_off + 2 * kd->bitmap_len;
	/* Checked here, so a header's claim never sizes an allocation beyond the file. */
	if (kd->desc_off > (kd->flat ? kd->vsize : kd->file_size))
		return ish_error_format(ISH_ERROR_FORMAT,
					"the dump is truncated: its bitmaps end at %#" PRIx64
					", past the end of the file",
					kd->desc_off);
	kd->bitmap1 = malloc(kd->bitmap_len);
	kd->bitmap2 = malloc(kd->bitmap_len);
	if (!kd->bitmap1 || !kd->bitmap2)
		return &ish_enomem;
	err = vread(kd, bm_off, kd->bitmap1, kd->bitmap_len);
	if (!err)
		err = vread(kd, bm_off + kd->bitmap_len, kd->bitmap2, kd->bitmap_len);
	if (err)
		return ish_error_prefix(err, "kdump bitmaps");

	kd->rank = malloc((kd->max_mapnr / RANK_BITS + 1) * sizeof(*kd->rank));
	if (!kd->rank)
		return &ish_enomem;
	for (uint64_t b = 0, count = 0; b <= kd->max_mapnr / RANK_BITS; b++) {
		uint64_t first = b * RANK_BITS / 8, last = first + RANK_BITS / 8;

		kd->rank[b] = count;
		if (last > kd->bitmap_len)
			last = kd->bitmap_len;
		for (uint64_t i = first; i < last; i++)
			count += popcount8(kd->bitmap2[i]);
		kd->ndesc = count;
	}

	if (kd->version >= 3) {
		uint64_t off = le64(sh + SH_OFFSET_VMCOREINFO), size = le64(sh + SH_SIZE_VMCOREINFO);

		if (size > MAX_VMCOREINFO)
			return ish_error_format(ISH_ERROR_LIMIT,
						"kdump VMCOREINFO of %" PRIu64 " bytes (more than %u)",
						size, MAX_VMCOREINFO);
		if (off && size) {
			kd->vmcoreinfo = malloc((size_t)size + 1);
			if (!kd->vmcoreinfo)
				return &ish_enomem;
			err = vread(kd, off, kd->vmcoreinfo, (size_t)size);
			if (err)
				return ish_error_prefix(err, "kdump VMCOREINFO (sub-header offset_vmcoreinfo)");
			kd->vmcoreinfo[size] = 0;
			kd->vmcoreinfo_len = strlen(kd->vmcoreinfo);
		}
	}
	return NULL;
}

struct ish_error *ish_kdump_open(int fd, uint64_t file_size, struct ish_kdump **ret)
{
	struct ish_kdump *kd = calloc(1, sizeof(*kd));
	uint8_t magic[12] = { 0 };
	struct ish_error *err;

	if (!kd)
		return &ish_enomem;
	kd->fd = fd;
	kd->file_size = file_size;
	kd->page_pfn = UINT64_MAX;
	err = file_pread(kd, 0, magic, file_size < sizeof(magic) ? (size_t)file_size : sizeof(magic));
	if (!err && !ish_kdump_magic(magic, file_size < sizeof(magic) ? (size_t)file_size :
									 sizeof(magic)))
		err = ish_error_create(ISH_ERROR_FORMAT, "not a kdump-compressed or flattened dump");
	if (!err && !memcmp(magic, MDF_SIGNATURE, 12)) {
		kd->flat = true;
		err = flat_index(kd);
	}
	if (!err)
		err = read_headers(kd);
	if (!err) {
		kd->cbuf = malloc(kd->block_size);
		kd->page = malloc(kd->block_size);
		if (!kd->cbuf || !kd->page)
			err = &ish_enomem;
	}
	if (err) {
		ish_kdump_destroy(kd);
		return err;
	}
	*ret = kd;
	return NULL;
}

void ish_kdump_destroy(struct ish_kdump *kd)
{
	if (!kd)
		return;
#ifdef ISH_HAVE_ZSTD
	ZSTD_freeDCtx(kd->zstd);
#endif
	free(kd->recs);
	free(kd->bitmap1);
	free(kd->bitmap2);
	free(kd->rank);
	free(kd->vmcoreinfo);
	free(kd->cbuf);
	free(kd->page);
	free(kd);
}

const char *ish_kdump_vmcoreinfo(const struct ish_kdump *kd, size_t *len)
{
	*len = kd->vmcoreinfo_len;
	return kd->vmcoreinfo;
}

struct ish_error *ish_kdump_ram_ranges(const struct ish_kdump *kd, struct ish_ram_range **ret,
				       size_t *n)
{
	struct ish_ram_range *r = NULL;
	size_t cnt = 0, cap = 0;
	uint64_t pfn = 0;

	while (pfn < kd->max_mapnr) {
		uint64_t start;

		if (!kd->bitmap1[pfn / 8] && !(pfn % 8)) {
			pfn += 8;
			continue;
		}
		if (!bit(kd->bitmap1, pfn)) {
			pfn++;
			continue;
		}
		start = pfn;
		while (pfn < kd->max_mapnr && bit(kd->bitmap1, pfn))
			pfn++;
		if (cnt == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct ish_ram_range *nr = realloc(r, ncap * sizeof(*nr));

			if (!nr) {
				free(r);
				return &ish_enomem;
			}
			r = nr;
			cap = ncap;
		}
		r[cnt].start = start * kd->block_size;
		r[cnt].end = pfn * kd->block_size;
		cnt++;
	}
	*ret = r ? r : malloc(sizeof(*r));
	if (!*ret)
		return &ish_enomem;
	*n = cnt;
	return NULL;
}

/* --- pages --- */

static const char *codec_name(uint32_t flag)
{
	switch (flag) {
	case DUMP_DH_COMPRESSED_ZLIB: return "zlib";
	case DUMP_DH_COMPRESSED_LZO: return "lzo";
	case DUMP_DH_COMPRESSED_SNAPPY: return "snappy";
	case DUMP_DH_COMPRESSED_ZSTD: return "zstd";
	}
	return "??";
}

static __attribute__((unused)) struct ish_error *not_built(uint64_t addr, uint32_t flag)
{
	return ish_error_fault(addr,
			       "this iommush was built without %s: page at %#" PRIx64
			       " is %s-compressed",
			       codec_name(flag), addr, codec_name(flag));
}

/* Decompresses size bytes of kd->cbuf into kd->page: exactly one block, never more. */
static struct ish_error *decompress(struct ish_kdump *kd, uint64_t addr, uint32_t flag, size_t size)
{
	size_t out = kd->block_size;
	bool ok = false;

	switch (flag) {
	case DUMP_DH_COMPRESSED_ZLIB: {
#ifdef ISH_HAVE_ZLIB
		uLongf n = kd->block_size;

		ok = uncompress(kd->page, &n, kd->cbuf, (uLong)size) == Z_OK;
		out = n;
		break;
#else
		return not_built(addr, flag);
#endif
	}
	case DUMP_DH_COMPRESSED_LZO: {
#ifdef ISH_HAVE_LZO
		lzo_uint n = kd->block_size;

		ok = lzo1x_decompress_safe(kd->cbuf, size, kd->page, &n, NULL) == LZO_E_OK;
		out = n;
		break;
#else
		return not_built(addr, flag);
#endif
	}
	case DUMP_DH_COMPRESSED_SNAPPY: {
#ifdef ISH_HAVE_SNAPPY
		size_t n;

		/* snappy_uncompress trusts its output length: ask the stream first. */
		if (snappy_uncompressed_length((const char *)kd->cbuf, size, &n) != SNAPPY_OK ||
		    n != kd->block_size)
			break;
		ok = snappy_uncompress((const char *)kd->cbuf, size, (char *)kd->page, &n) ==
		     SNAPPY_OK;
		out = n;
		break;
#else
		return not_built(addr, flag);
#endif
	}
	case DUMP_DH_COMPRESSED_ZSTD: {
#ifdef ISH_HAVE_ZSTD
		size_t n;

		if (!kd->zstd) {
			kd->zstd = ZSTD_createDCtx();
			if (!kd->zstd)
				return &ish_enomem;
		}
		n = ZSTD_decompressDCtx(kd->zstd, kd->page, kd->block_size, kd->cbuf, size);
		ok = !ZSTD_isError(n);
		out = n;
		break;
#else
		return not_built(addr, flag);
#endif
	}
	}
	if (!ok || out != kd->block_size)
		return ish_error_fault(addr,
				       "the %s-compressed page at %#" PRIx64
				       " does not decompress to one %u-byte page",
				       codec_name(flag), addr, kd->block_size);
	return NULL;
}

/*
 * A page whose descriptor or bytes cannot be read is a fault at its address
 * (a walk reports it and goes on), not a malformed-file error.
 */
static struct ish_error *as_fault(struct ish_error *err, uint64_t addr)
{
	if (err && err != &ish_enomem) {
		err->code = ISH_ERROR_FAULT;
		err->address = addr;
		err->has_address = true;
	}
	return err;
}

static struct ish_error *load_page(struct ish_kdump *kd, uint64_t pfn)
{
	uint64_t addr = pfn * kd->block_size, idx, first, off;
	uint8_t pd[PD_SIZE];
	uint32_t size, flags, codec;
	struct ish_error *err;

	kd->page_pfn = UINT64_MAX;	/* kd->page is about to be overwritten */
	if (pfn >= kd->max_mapnr || !bit(kd->bitmap1, pfn))
		return ish_error_fault(addr, "physical address %#" PRIx64 " is not in the dump", addr);
	if (!bit(kd->bitmap2, pfn))
		return ish_kdump_excluded(addr, kd->dump_level);
	idx = kd->rank[pfn / RANK_BITS];
	first = pfn / RANK_BITS * RANK_BITS;
	for (uint64_t i = first / 8; i < pfn / 8; i++)
		idx += popcount8(kd->bitmap2[i]);
	idx += popcount8(kd->bitmap2[pfn / 8] & ((1u << (pfn % 8)) - 1));
	err = vread(kd, kd->desc_off + idx * PD_SIZE, pd, sizeof(pd));
	if (err && (kd->status & DUMP_DH_COMPRESSED_INCOMPLETE))
		return as_fault(ish_error_prefix(err, "the dump is incomplete (makedumpfile stopped writing it, "
				       "status %#x): page descriptor %" PRIu64 " (physical address %#"
				       PRIx64 ")", kd->status, idx, addr), addr);
	if (err)
		return as_fault(ish_error_prefix(err, "page descriptor %" PRIu64 " (physical address %#"
						  PRIx64 ")", idx, addr), addr);
	off = le64(pd);
	size = le32(pd + 8);
	flags = le32(pd + 12);
	codec = flags & DUMP_DH_CODECS;
	if (codec & (codec - 1))
		return ish_error_fault(addr,
				       "the page at %#" PRIx64 " claims several codecs (flags %#x)",
				       addr, flags);
	if (!codec ? size != kd->block_size : !size || size > kd->block_size)
		return ish_error_fault(addr,
				       "the page at %#" PRIx64 " has a descriptor of %u bytes "
				       "(flags %#x, page size %u)",
				       addr, size, flags, kd->block_size);
	err = vread(kd, off, codec ? kd->cbuf : kd->page, size);
	if (err)
		return as_fault(ish_error_prefix(err, "page at %#" PRIx64, addr), addr);
	if (codec) {
		err = decompress(kd, addr, codec, size);
		if (err)
			return err;
	}
	kd->page_pfn = pfn;
	return NULL;
}

struct ish_error *ish_kdump_read(struct ish_kdump *kd, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t pfn = addr / kd->block_size, off = addr % kd->block_size;
		size_t n = kd->block_size - off < len ? (size_t)(kd->block_size - off) : len;
		struct ish_error *err;

		if (pfn != kd->page_pfn) {
			err = load_page(kd, pfn);
			if (err)
				return err;
		}
		memcpy(out, kd->page + off, n);
		out += n;
		addr += n;
		len -= n;
	}
	return NULL;
}
