/* SPDX-License-Identifier: MIT */
/*
 * Hand formatting for the output hot paths (a million mappings a command):
 * numbers and padding written straight into a caller's buffer, no printf.
 * Each function writes at p and returns the end of what it wrote; the caller
 * guarantees the room (FMT_U64_MAX for a number). Nothing is NUL-terminated.
 *
 * The results are byte for byte what printf gives for the format named beside
 * each function, so text output built from these is identical to the printf
 * output it replaced (the transcripts check).
 */
#ifndef IOMMUSH_FMT_H
#define IOMMUSH_FMT_H

#include <stdint.h>
#include <string.h>

/* Room for any one number: 20 decimal digits, or "0x" and 16 hex digits. */
#define FMT_U64_MAX 24

static const char fmt_digits2[201] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Decimal digits of v (1..20). */
static inline unsigned fmt_u64_digits(uint64_t v)
{
	static const uint64_t pow10[19] = {
		10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
		100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL,
		1000000000000ULL, 10000000000000ULL, 100000000000000ULL,
		1000000000000000ULL, 10000000000000000ULL, 100000000000000000ULL,
		1000000000000000000ULL, 10000000000000000000ULL,
	};
	unsigned n = 1;

	while (n < 20 && v >= pow10[n - 1])
		n++;
	return n;
}

/* "%" PRIu64; written from the end, two digits at a time, straight into p */
static inline char *fmt_u64(char *p, uint64_t v)
{
	char *end = p + fmt_u64_digits(v), *t = end;

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		t -= 2;
		t[0] = fmt_digits2[d];
		t[1] = fmt_digits2[d + 1];
	}
	if (v >= 10) {
		t -= 2;
		t[0] = fmt_digits2[v * 2];
		t[1] = fmt_digits2[v * 2 + 1];
	} else {
		*--t = (char)('0' + v);
	}
	return end;
}

/* "%" PRId64 */
static inline char *fmt_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return fmt_u64(p, -(uint64_t)v);
	}
	return fmt_u64(p, (uint64_t)v);
}

/* Hex digits of v (1..16). */
static inline unsigned fmt_hex_digits(uint64_t v)
{
	return v ? (unsigned)(64 - __builtin_clzll(v) + 3) / 4 : 1;
}

/* "%0*" PRIx64 with width min (at least the significant digits; min <= 16) */
static inline char *fmt_hex(char *p, uint64_t v, unsigned min)
{
	static const char hex[] = "0123456789abcdef";
	unsigned n = fmt_hex_digits(v);
	char *end, *t;

	if (n < min)
		n = min;
	end = t = p + n;
	/* A byte (two digits) a step; the last digit alone when n is odd. */
	for (; t - p >= 2; v >>= 8) {
		t -= 2;
		t[0] = hex[(v >> 4) & 0xf];
		t[1] = hex[v & 0xf];
	}
	if (t > p)
		*p = hex[v & 0xf];
	return end;
}

/* "%#" PRIx64: "0" for zero, else "0x" and the digits */
static inline char *fmt_xhex(char *p, uint64_t v)
{
	if (!v) {
		*p = '0';
		return p + 1;
	}
	p[0] = '0';
	p[1] = 'x';
	return fmt_hex(p + 2, v, 1);
}

static inline char *fmt_mem(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

/* A string literal, its length known at compile time. */
#define fmt_lit(p, s) fmt_mem((p), (s), sizeof(s) - 1)

static inline char *fmt_str(char *p, const char *s)
{
	return fmt_mem(p, s, strlen(s));
}

static inline char *fmt_spaces(char *p, size_t n)
{
	memset(p, ' ', n);
	return p + n;
}

/*
 * Pads what was written since start to width: "%*s" (right-justified, the
 * text moves) or "%-*s" (left-justified, spaces follow). Longer text stays.
 */
static inline char *fmt_rjust(char *start, char *end, size_t width)
{
	size_t n = (size_t)(end - start);

	if (n >= width)
		return end;
	memmove(start + (width - n), start, n);
	memset(start, ' ', width - n);
	return start + width;
}

static inline char *fmt_ljust(char *start, char *end, size_t width)
{
	size_t n = (size_t)(end - start);

	return n >= width ? end : fmt_spaces(end, width - n);
}

#endif
