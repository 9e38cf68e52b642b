// SPDX-License-Identifier: MIT
/*
 * Walk benchmark (not a test): a mem image with 1,000,000 4-KiB second-level
 * mappings for one legacy-mode device, walked with ish_mappings(). Two
 * variants: HPAs scattered (every other page, so nothing coalesces) and
 * HPAs contiguous (everything coalesces into one range). Writes leaves/s,
 * ranges, elapsed time and peak RSS to a file (default bench/results.txt).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <iommush/mem.h>
#include <iommush/vtd/vtd.h>
#include <iommush/walk.h>

#define NMAP 1000000u
#define REPS 5

static void put(uint8_t *ram, uint64_t base, uint64_t addr, uint64_t v)
{
	memcpy(ram + (addr - base), &v, 8);	/* little-endian host */
}

/* Tables at 16 MiB: root, context, L4, L3, 4 L2s, 1954 L1s. */
static struct ish_target *build(bool contiguous)
{
	const uint64_t base = 16ULL << 20, size = 16ULL << 20;
	uint64_t rta = base, ctp = base + 0x1000, l4 = base + 0x2000, l3 = base + 0x3000;
	uint64_t l2 = base + 0x4000, l1 = base + 0x8000;
	unsigned nl1 = (NMAP + 511) / 512, unit;
	struct ish_target *t;
	uint8_t *ram;

	if (ish_mem_open(&t) || ish_mem_add_ram(t, base, size, (void **)&ram) ||
	    ish_mem_add_unit(t, 0xfed90000, 0, &unit)) {
		fprintf(stderr, "bench_walk: cannot build the image\n");
		exit(1);
	}
	ish_mem_set_reg(t, 0, DMAR_CAP_REG, 64, (0x4ULL << 8) | (47ULL << 16));
	ish_mem_set_reg(t, 0, DMAR_ECAP_REG, 64, 0);
	ish_mem_set_reg(t, 0, DMAR_GSTS_REG, 32, DMA_GSTS_TES);
	ish_mem_set_reg(t, 0, DMAR_RTADDR_REG, 64, rta);
	put(ram, base, rta, ctp | 1);
	put(ram, base, ctp + 0x18 * 16, l4 | 1);
	put(ram, base, ctp + 0x18 * 16 + 8, 2 | 1 << 8);
	put(ram, base, l4, l3 | 3);
	for (unsigned i = 0; i < (nl1 + 511) / 512; i++)
		put(ram, base, l3 + i * 8, (l2 + i * 0x1000ULL) | 3);
	for (unsigned i = 0; i < nl1; i++)
		put(ram, base, l2 + i * 8, (l1 + i * 0x1000ULL) | 3);
	for (unsigned i = 0; i < NMAP; i++) {
		uint64_t hpa = contiguous ? (1ULL << 32) + i * 0x1000ULL :
			       (1ULL << 32) + i * 0x2000ULL;

		put(ram, base, l1 + i * 8ULL, hpa | 3);
	}
	return t;
}

struct counts {
	uint64_t ranges, bytes;
};

static struct ish_error *count(void *arg, const struct ish_mapping *m)
{
	struct counts *c = arg;

	c->ranges++;
	c->bytes += m->size;
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void run(FILE *out, const char *name, bool contiguous)
{
	struct ish_target *t = build(contiguous);
	struct ish_walk_stats st;
	double ms[REPS];
	struct counts c;

	for (int r = 0; r < REPS; r++) {
		struct ish_error *err;
		double t0;

		memset(&c, 0, sizeof(c));
		t0 = now();
		err = ish_mappings(t, 0, ISH_BDF(0, 3, 0), ISH_PASID_NONE, 0, ~0ULL, count, NULL, &c,
				   NULL, &st);
		ms[r] = (now() - t0) * 1e3;
		if (err) {
			fprintf(stderr, "bench_walk: %s\n", err->message);
			exit(1);
		}
	}
	qsort(ms, REPS, sizeof(ms[0]), cmp);
	for (FILE *f = stdout;; f = out) {
		fprintf(f, "%-11s leaves=%" PRIu64 " ranges=%" PRIu64 " table_pages=%" PRIu64
			" best=%.2fms median=%.2fms leaves/s=%.0f\n", name, st.leaves, c.ranges,
			st.pages, ms[0], ms[REPS / 2], st.leaves / (ms[0] / 1e3));
		if (f == out || !out)
			break;
	}
	if (c.bytes != NMAP * 4096ULL) {
		fprintf(stderr, "bench_walk: walked %" PRIu64 " bytes, expected %llu\n", c.bytes,
			NMAP * 4096ULL);
		exit(1);
	}
	ish_target_close(t);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "bench/results.txt";
	FILE *out = fopen(path, "w");
	struct rusage ru;

	if (!out)
		perror(path);
	run(out, "scattered", false);
	run(out, "contiguous", true);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS %ld KiB\n", ru.ru_maxrss);
	if (out) {
		fprintf(out, "peak RSS %ld KiB\n", ru.ru_maxrss);
		fclose(out);
	}
	return 0;
}
