// SPDX-License-Identifier: MIT
/*
 * The shell's hand formatters (shell/fmt.h) against printf, which they
 * replace in the output hot paths: every function on edge values and on
 * 200,000 pseudo-random ones of every magnitude. And the JSON writer
 * (shell/json.c): the same calls give the same bytes through an attached
 * output buffer (across many 64 KiB flushes) as straight to the FILE, JSON
 * Lines put one value a line, and strings are escaped as JSON wants.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fmt.h"
#include "json.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned mismatches;

static void same(const char *what, uint64_t v, const char *want, const char *start, const char *end)
{
	size_t n = strlen(want);

	if ((size_t)(end - start) == n && !memcmp(start, want, n)) {
		check_passed++;
		return;
	}
	check_failed++;
	if (mismatches++ < 10)
		fprintf(stderr, "%s(%#llx): got '%.*s', printf says '%s'\n", what,
			(unsigned long long)v, (int)(end - start), start, want);
}

static void numbers(uint64_t v)
{
	char got[64], want[64];

	snprintf(want, sizeof(want), "%" PRIu64, v);
	same("fmt_u64", v, want, got, fmt_u64(got, v));
	snprintf(want, sizeof(want), "%" PRId64, (int64_t)v);
	same("fmt_i64", v, want, got, fmt_i64(got, (int64_t)v));
	snprintf(want, sizeof(want), "%#" PRIx64, v);
	same("fmt_xhex", v, want, got, fmt_xhex(got, v));
	for (unsigned min = 1; min <= 16; min++) {
		snprintf(want, sizeof(want), "%0*" PRIx64, (int)min, v);
		same("fmt_hex", v, want, got, fmt_hex(got, v, min));
	}
	CHECK(fmt_u64_digits(v) == strlen((snprintf(want, sizeof(want), "%" PRIu64, v), want)));
}

static void padding(void)
{
	static const char words[][12] = { "", "4K", "2M", "0x1800", "dmar0", "123456789" };
	char got[96], want[96];

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		for (unsigned w = 0; w <= 12; w++) {
			snprintf(want, sizeof(want), "%*s", (int)w, words[i]);
			same("fmt_rjust", w, want, got, fmt_rjust(got, fmt_str(got, words[i]), w));
			snprintf(want, sizeof(want), "%-*s|", (int)w, words[i]);
			char *e = fmt_ljust(got, fmt_str(got, words[i]), w);

			*e++ = '|';
			same("fmt_ljust", w, want, got, e);
		}
	}
}

/* One document with every kind of value, n objects in a list. */
static void document(struct json_writer *w, unsigned n, bool lines)
{
	if (lines)
		json_lines_begin(w);
	else
		json_begin_array(w);
	for (unsigned i = 0; i < n; i++) {
		char raw[64];

		json_begin_object(w);
		json_kv_u64(w, "i", i);
		json_key(w, "neg");
		json_i64(w, -(int64_t)i * 1000003);
		json_kv_str(w, "s", i % 3 ? "plain" : "q\"b\\n\n\t\r\x01\x7f\xc3\xa9");
		json_kv_bool(w, "b", i & 1);
		json_key(w, "nul");
		json_null(w);
		json_key(w, "list");
		json_begin_array(w);
		for (unsigned k = 0; k < i % 4; k++)
			json_u64(w, UINT64_MAX - k);
		json_end_array(w);
		json_key(w, "raw");
		json_raw(w, raw, (size_t)(fmt_lit(fmt_u64(fmt_lit(raw, "{\"x\":"), i), "}") - raw));
		json_end_object(w);
	}
	if (lines) {
		json_lines_end(w);
	} else {
		json_end_array(w);
		json_end_line(w);
	}
}

static char *render(unsigned n, bool lines, bool buffered, size_t *len)
{
	struct json_writer w;
	struct out_buf *b = malloc(sizeof(*b));
	char *p = NULL;
	FILE *f = open_memstream(&p, len);

	if (!b || !f)
		abort();
	json_init(&w, f);
	if (buffered) {
		out_buf_init(b, f);
		json_set_buffer(&w, b);
	}
	document(&w, n, lines);
	if (buffered)
		CHECK(out_buf_flush(b) == 0);
	fclose(f);
	free(b);
	return p;
}

static void writer(void)
{
	size_t n1, n2, n3, n4;
	/* ~150 bytes an object: 3,000 objects cross the 64 KiB buffer several times. */
	char *direct = render(3000, false, false, &n1);
	char *buffered = render(3000, false, true, &n2);
	char *lines = render(3000, true, true, &n3);
	char *lines_direct = render(3000, true, false, &n4);
	unsigned nl = 0;

	CHECK(n1 > 3 * OUT_BUF_SIZE);
	CHECK(n1 == n2 && !memcmp(direct, buffered, n1));
	CHECK(n3 == n4 && !memcmp(lines, lines_direct, n3));
	/* The lines are the array's elements: drop "[", "]\n", and a comma becomes a newline. */
	CHECK(n3 == n1 - 2);
	CHECK(direct[0] == '[' && !memcmp(direct + n1 - 2, "]\n", 2));
	for (size_t i = 0, depth = 0; i < n3 && i + 1 < n1; i++) {
		char a = direct[i + 1], l = lines[i];

		if (l == '\n') {
			nl++;
			CHECK(depth == 0 && (a == ',' || a == ']'));
			continue;
		}
		if (l != a) {
			CHECK(l == a);
			break;
		}
		if (a == '{' || a == '[')
			depth++;
		if (a == '}' || a == ']')
			depth--;
	}
	CHECK(nl == 3000);
	/* The escapes: controls as \u00XX, bytes >= 0x7f too (output stays ASCII). */
	CHECK(strstr(direct, "\"s\":\"q\\\"b\\\\n\\n\\t\\r\\u0001\\u007f\\u00c3\\u00a9\"") != NULL);
	CHECK(strstr(direct, "\"list\":[18446744073709551615,18446744073709551614]") != NULL);
	CHECK(strstr(direct, "\"neg\":-2000006,") != NULL);
	CHECK(strstr(direct, "\"raw\":{\"x\":7}}") != NULL);
	free(direct);
	free(buffered);
	free(lines);
	free(lines_direct);
}

int main(void)
{
	static const uint64_t edges[] = {
		0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 4095, 4096, 0xf, 0x10, 0xff, 0x100,
		0x7fffffffffffffffULL, 0x8000000000000000ULL, UINT64_MAX, UINT64_MAX - 1,
		9999999999999999999ULL, 10000000000000000000ULL, 0x4000000000ULL,
		0x100000000ULL, 0xfffffffffULL,
	};

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		numbers(edges[i]);
	for (unsigned i = 0; i < 50000; i++)
		numbers(next() >> (next() % 64));
	for (unsigned p = 0; p < 20; p++) {
		uint64_t v = 1;

		for (unsigned k = 0; k < p; k++)
			v *= 10;
		numbers(v - 1);
		numbers(v);
		numbers(v + 1);
	}
	padding();
	writer();
	printf("%u passed, %u failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}
