// SPDX-License-Identifier: MIT
/*
 * A small driver for the real-QEMU test (test_qemu.py): opens a target
 * through libiommush and performs the actions named on the command line,
 * one result line each, so that the test can hold every number against
 * QEMU's own monitor.
 *
 *   gdbstub_probe TARGET [-O K=V]... [--write] ACTION...
 *     units                  "unit INDEX base=0x.. segment=N flags=N"
 *     reg UNIT OFF WIDTH     "reg OFF=0x.."
 *     wreg UNIT OFF WIDTH V  "wreg ok" or "wreg error CODE MESSAGE"
 *     read ADDR LEN FILE     reads through ish_read_phys into FILE:
 *                            "read bytes=N m=N phys_requests=N us=N"
 *     stop | resume          "stop ok", "resume ok"
 * A failed action prints "ACTION error CODE MESSAGE" and the exit status is 1.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iommush/target.h>
#include <iommush/write.h>

#include "../../backends/rsp.h"

static uint64_t num(const char *s)
{
	return strtoull(s, NULL, 0);
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int report(const char *what, struct ish_error *err)
{
	printf("%s error %s %s\n", what, ish_error_code_name(err->code), err->message);
	ish_error_destroy(err);
	return 1;
}

int main(int argc, char **argv)
{
	struct ish_param params[16] = { { NULL, NULL } };
	size_t nparams = 0;
	unsigned flags = 0;
	struct ish_target *t = NULL;
	struct ish_error *err;
	int i = 2, status = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s TARGET [-O K=V]... [--write] ACTION...\n", argv[0]);
		return 2;
	}
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "-O") && i + 1 < argc && nparams < 16) {
			char *eq = strchr(argv[++i], '=');

			if (!eq)
				return 2;
			*eq = '\0';
			params[nparams].name = argv[i];
			params[nparams++].value = eq + 1;
		} else if (!strcmp(argv[i], "--write")) {
			flags |= ISH_OPEN_WRITE;
		} else {
			break;
		}
	}
	err = ish_target_open(argv[1], NULL, params, nparams, flags, &t);
	if (err)
		return report("open", err);
	for (; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "units")) {
			for (unsigned u = 0; u < ish_target_nunits(t); u++) {
				const struct ish_unit *un = ish_target_unit(t, u);

				printf("unit %u base=%#" PRIx64 " segment=%u flags=%u\n", u, un->reg_base,
				       un->segment, un->arch_flags);
			}
		} else if (!strcmp(a, "reg") && i + 3 < argc) {
			uint64_t v;
			uint32_t off = (uint32_t)num(argv[i + 2]);

			err = ish_read_reg(t, (unsigned)num(argv[i + 1]), off, (unsigned)num(argv[i + 3]),
					   &v);
			i += 3;
			if (err)
				status |= report("reg", err);
			else
				printf("reg 0x%x=0x%" PRIx64 "\n", off, v);
		} else if (!strcmp(a, "wreg") && i + 4 < argc) {
			err = ish_write_reg(t, (unsigned)num(argv[i + 1]), (uint32_t)num(argv[i + 2]),
					    (unsigned)num(argv[i + 3]), num(argv[i + 4]));
			i += 4;
			if (err)
				status |= report("wreg", err);
			else
				printf("wreg ok\n");
		} else if (!strcmp(a, "read") && i + 3 < argc) {
			uint64_t addr = num(argv[i + 1]);
			size_t len = (size_t)num(argv[i + 2]);
			const char *file = argv[i + 3];
			struct ish_rsp_stats before = { 0 }, after = { 0 };
			struct ish_target_stats ts0, ts1;
			struct ish_rsp *rsp = ish_gdbstub_rsp(t);
			uint8_t *buf = malloc(len ? len : 1);
			int64_t t0;
			FILE *f;

			i += 3;
			if (rsp)
				ish_rsp_stats(rsp, &before);
			ish_target_stats(t, &ts0);
			t0 = now_us();
			err = ish_read_phys(t, addr, buf, len);
			t0 = now_us() - t0;
			if (rsp)
				ish_rsp_stats(rsp, &after);
			ish_target_stats(t, &ts1);
			if (err) {
				status |= report("read", err);
			} else {
				f = fopen(file, "wb");
				if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
					printf("read error os cannot write %s\n", file);
					status = 1;
				} else {
					printf("read bytes=%zu m=%" PRIu64 " phys_requests=%" PRIu64
					       " us=%" PRId64 "\n",
					       len, after.mem_reads - before.mem_reads,
					       ts1.phys_requests - ts0.phys_requests, t0);
				}
			}
			free(buf);
		} else if (!strcmp(a, "stop")) {
			err = ish_target_stop(t);
			if (err)
				status |= report("stop", err);
			else
				printf("stop ok\n");
		} else if (!strcmp(a, "resume")) {
			err = ish_target_resume(t);
			if (err)
				status |= report("resume", err);
			else
				printf("resume ok\n");
		} else {
			fprintf(stderr, "unknown action '%s'\n", a);
			status = 2;
			break;
		}
	}
	ish_target_close(t);
	return status;
}
