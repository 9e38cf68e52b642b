// SPDX-License-Identifier: MIT
/* Argument parsing shared by every command. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/pci.h>	/* ISH_BDF() */

#include "shell.h"

bool parse_u64(const char *s, uint64_t *ret)
{
	unsigned shift = 0;
	uint64_t v;
	char *end;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end)
		return false;
	if (shift && v > (~0ULL >> shift))
		return false;
	*ret = v << shift;
	return true;
}

static bool parse_hex_field(const char **s, unsigned max, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (!isxdigit((unsigned char)**s))
		return false;
	v = strtoul(*s, &end, 16);
	if (v > max)
		return false;
	*ret = (unsigned)v;
	*s = end;
	return true;
}

bool parse_bdf(const char *s, uint16_t *segment, uint16_t *bdf)
{
	unsigned a, b, c, d;
	const char *p = s;

	if (!s || !*s)
		return false;
	/* [SEG:]BUS:DEV.FN, DEV.FN (bus 0), or a plain 16-bit requester id */
	if (strchr(s, '.')) {
		unsigned seg = 0, bus = 0, dev, fn;
		unsigned colons = 0;

		for (const char *q = s; *q; q++)
			colons += *q == ':';
		if (colons == 2) {
			if (!parse_hex_field(&p, 0xffff, &a) || *p++ != ':')
				return false;
			seg = a;
		}
		if (colons >= 1) {
			if (!parse_hex_field(&p, 0xff, &b) || *p++ != ':')
				return false;
			bus = b;
		}
		if (!parse_hex_field(&p, 0x1f, &c) || *p++ != '.')
			return false;
		dev = c;
		if (!isdigit((unsigned char)*p) || !parse_hex_field(&p, 7, &d) || *p)
			return false;
		fn = d;
		if (segment)
			*segment = (uint16_t)seg;
		*bdf = ISH_BDF(bus, dev, fn);
		return true;
	}
	{
		uint64_t v;

		if (!parse_u64(s, &v) || v > 0xffff)
			return false;
		if (segment)
			*segment = 0;
		*bdf = (uint16_t)v;
		return true;
	}
}

bool parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	const char *sep;
	char buf[64];
	uint64_t a, b;

	if (!s || strlen(s) >= sizeof(buf))
		return false;
	sep = strpbrk(s, "-+");
	if (!sep) {
		if (!parse_u64(s, &a))
			return false;
		/* One address names its 4-KiB page, the smallest every IOMMU maps. */
		*lo = a & ~0xfffULL;
		*hi = *lo + 0xfff;
		return true;
	}
	memcpy(buf, s, (size_t)(sep - s));
	buf[sep - s] = 0;
	if (!parse_u64(buf, &a) || !parse_u64(sep + 1, &b))
		return false;
	if (*sep == '+') {
		if (!b || a + b - 1 < a)
			return false;
		b = a + b - 1;
	}
	if (b < a)
		return false;
	*lo = a;
	*hi = b;
	return true;
}

const char *fmt_bdf(uint16_t bdf, char buf[static 8])
{
	static const char hex[] = "0123456789abcdef";
	unsigned bus = ISH_BDF_BUS(bdf), dev = ISH_BDF_DEV(bdf), fn = ISH_BDF_FN(bdf);

	buf[0] = hex[bus >> 4];
	buf[1] = hex[bus & 15];
	buf[2] = ':';
	buf[3] = hex[dev >> 4];
	buf[4] = hex[dev & 15];
	buf[5] = '.';
	buf[6] = (char)('0' + fn);
	buf[7] = 0;
	return buf;
}

bool sh_getopt(struct ish_shell *sh, const struct ish_command *cmd, int *argc, char **argv,
	       struct sh_opt *opts, size_t nopts)
{
	int out = 1;
	bool only_positional = false;

	for (size_t i = 0; i < nopts; i++)
		opts[i].value = NULL;
	for (int i = 1; i < *argc; i++) {
		const char *a = argv[i];
		size_t k;

		if (only_positional || a[0] != '-' || a[1] != '-' ) {
			argv[out++] = argv[i];
			continue;
		}
		if (!a[2]) {
			only_positional = true;
			continue;
		}
		for (k = 0; k < nopts; k++) {
			size_t n = strlen(opts[k].name);

			if (!strncmp(a, opts[k].name, n) && (a[n] == 0 || (a[n] == '=' && opts[k].has_value)))
				break;
		}
		if (k == nopts) {
			sh_error(sh, "unknown option '%s'", a);
			sh_usage(sh, cmd);
			return false;
		}
		if (!opts[k].has_value) {
			opts[k].value = "";
		} else if (strchr(a, '=')) {
			opts[k].value = strchr(a, '=') + 1;
		} else if (i + 1 < *argc) {
			opts[k].value = argv[++i];
		} else {
			sh_error(sh, "option '%s' needs a value", a);
			sh_usage(sh, cmd);
			return false;
		}
	}
	argv[out] = NULL;
	*argc = out;
	return true;
}
