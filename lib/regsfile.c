// SPDX-License-Identifier: MIT
/*
 * Register files: the text of debugfs iommu_regset and NAME=VALUE lines
 * (the syntax is documented in include/iommush/regsfile.h).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <iommush/regs.h>
#include <iommush/regsfile.h>

#define MAX_LINE 4096

/* A fixed-offset register by name ("GSTS", "dmar_gsts_reg"); from the regs table. */
static bool reg_by_name(const char *name, uint32_t *offset, unsigned *width)
{
	const struct ish_reg_def *r = ish_reg_find(name);

	if (!r || r->loc != ISH_REG_FIXED)
		return false;
	*offset = r->offset;
	*width = r->width;
	return true;
}

void ish_regsfile_destroy(struct ish_regsfile *rf)
{
	if (!rf)
		return;
	for (size_t i = 0; i < rf->nunits; i++)
		ish_regfile_destroy(rf->units[i].regs);
	free(rf->units);
	free(rf);
}

/*
 * An assignment to a register whose offset depends on CAP or ECAP (FRCDn_LO,
 * IVA, IOTLB): placed once the whole file has been read, so CAP/ECAP may
 * come before or after it within its unit.
 */
struct pending {
	size_t unit;		/* index into rf->units */
	unsigned line;
	const struct ish_reg_def *def;
	unsigned index;
	uint64_t value;
};

struct parser {
	const char *where;
	unsigned line;
	struct ish_regsfile *rf;
	struct ish_regsfile_unit *cur;	/* NULL until a unit is named or needed */
	struct pending *pending;
	size_t npending;
};

static struct ish_error *perr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static struct ish_error *perr(struct parser *p, const char *fmt, ...)
{
	struct ish_error *err;
	va_list ap;

	va_start(ap, fmt);
	err = ish_error_vformat(ISH_ERROR_FORMAT, fmt, ap);
	va_end(ap);
	return ish_error_prefix(err, "%s:%u", p->where, p->line);
}

/* Parses a whole token as an unsigned number in base (0 = C style). */
static bool parse_num(const char *s, int base, uint64_t *ret)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*ret = strtoull(s, &end, base);
	return !errno && !*end;
}

static bool valid_name(const char *s, size_t n)
{
	if (!n || n >= sizeof(((struct ish_regsfile_unit *)0)->name))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
			return false;
	return true;
}

/* Selects (or creates) the unit called name (may be "") with an optional base. */
static struct ish_error *select_unit(struct parser *p, const char *name, bool has_base,
				     uint64_t base)
{
	struct ish_regsfile *rf = p->rf;
	struct ish_regsfile_unit *u = NULL, *units;
	struct ish_error *err;

	for (size_t i = 0; i < rf->nunits && !u; i++) {
		if (*name && !strcmp(rf->units[i].name, name))
			u = &rf->units[i];
		else if (!*name && has_base && !rf->units[i].name[0] && rf->units[i].has_base &&
			 rf->units[i].reg_base == base)
			u = &rf->units[i];
	}
	if (u) {
		if (has_base && u->has_base && u->reg_base != base)
			return perr(p, "unit %s was given base %#" PRIx64 " before, now %#" PRIx64,
				    name, u->reg_base, base);
		if (has_base) {
			u->has_base = true;
			u->reg_base = base;
		}
		p->cur = u;
		return NULL;
	}
	if (rf->nunits >= ISH_REGSFILE_MAX_UNITS)
		return perr(p, "more than %u units", ISH_REGSFILE_MAX_UNITS);
	units = realloc(rf->units, (rf->nunits + 1) * sizeof(*units));
	if (!units)
		return &ish_enomem;
	rf->units = units;
	u = &units[rf->nunits];
	memset(u, 0, sizeof(*u));
	err = ish_regfile_create(&u->regs);
	if (err)
		return err;
	snprintf(u->name, sizeof(u->name), "%s", name);
	u->has_base = has_base;
	u->reg_base = base;
	rf->nunits++;
	p->cur = u;
	return NULL;
}

static struct ish_error *set_reg(struct parser *p, uint32_t offset, unsigned width, uint64_t value)
{
	struct ish_error *err;

	if (!p->cur) {
		err = select_unit(p, "", false, 0);
		if (err)
			return err;
	}
	if (width < 64 && value >> width)
		return perr(p, "value %#" PRIx64 " does not fit in %u bits", value, width);
	err = ish_regfile_set(p->cur->regs, offset, width, value);
	if (err) {
		struct ish_error *e2 = perr(p, "%s", err->message);

		ish_error_destroy(err);
		return e2;
	}
	return NULL;
}

/* FRCDn_LO/HI, IVA, IOTLB by name: remembered until CAP and ECAP are known. */
static struct ish_error *defer(struct parser *p, const char *name, unsigned width, uint64_t value)
{
	unsigned index;
	const struct ish_reg_def *r = ish_reg_parse(name, &index);
	struct pending *np;
	struct ish_error *err;

	if (!r)
		return perr(p, "unknown register '%s'", name);
	if (width && width != r->width)
		return perr(p, "register %s is %u bits wide, not %u", name, r->width, width);
	if (r->width < 64 && value >> r->width)
		return perr(p, "value %#" PRIx64 " does not fit in %u bits", value, r->width);
	if (!p->cur) {
		err = select_unit(p, "", false, 0);
		if (err)
			return err;
	}
	/* Bounded by the file size limit: one entry per line at most. */
	np = realloc(p->pending, (p->npending + 1) * sizeof(*np));
	if (!np)
		return &ish_enomem;
	p->pending = np;
	np[p->npending++] = (struct pending){
		.unit = (size_t)(p->cur - p->rf->units), .line = p->line, .def = r,
		.index = index, .value = value,
	};
	return NULL;
}

/* Places the deferred assignments: CAP.FRO/NFR and ECAP.IRO of their unit. */
static struct ish_error *place_pending(struct parser *p)
{
	for (size_t i = 0; i < p->npending; i++) {
		const struct pending *d = &p->pending[i];
		struct ish_regsfile_unit *u = &p->rf->units[d->unit];
		uint64_t cap = 0, ecap = 0;
		uint32_t offset;
		struct ish_error *err;
		char name[32];

		p->line = d->line;
		ish_reg_instance_name(d->def, d->index, name, sizeof(name));
		if (d->def->loc == ISH_REG_FRCD && !ish_regfile_has(u->regs, 0x08, 64, &cap))
			return perr(p, "%s: its offset is CAP.FRO*16: give CAP in the same unit", name);
		if (d->def->loc == ISH_REG_IRO && !ish_regfile_has(u->regs, 0x10, 64, &ecap))
			return perr(p, "%s: its offset is ECAP.IRO*16: give ECAP in the same unit", name);
		err = ish_reg_offset(d->def, d->index, cap, ecap, &offset);
		if (!err && (offset >= ISH_REGFILE_SIZE || ISH_REGFILE_SIZE - offset < d->def->width / 8U))
			err = ish_error_format(ISH_ERROR_FORMAT, "offset %#x is outside the %#x-byte "
					       "register block", offset, ISH_REGFILE_SIZE);
		if (!err)
			err = ish_regfile_set(u->regs, offset, d->def->width, d->value);
		if (err) {
			struct ish_error *e2 = perr(p, "%s: %s", name, err->message);

			ish_error_destroy(err);
			return e2;
		}
	}
	return NULL;
}

/* Splits s in place into at most max whitespace-separated tokens. */
static size_t split(char *s, char **tok, size_t max)
{
	size_t n = 0;

	while (*s) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (n == max)
			return max + 1;
		tok[n++] = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (*s)
			*s++ = '\0';
	}
	return n;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * "IOMMU: dmar0 Register Base Address: fed90000" and the older
 * "DMAR: dmar0: Register Base Address fed90000" / "DMAR: dmar0: reg_base_addr fed90000".
 */
static struct ish_error *parse_header(struct parser *p, char *line)
{
	char *tok[8], name[16];
	size_t n, len;
	uint64_t base;
	const char *b;

	if (strstr(line, "Invalid base address"))
		return perr(p, "the kernel reported a unit with an invalid base address");
	if (!strstr(line, "Register Base Address") && !strstr(line, "reg_base_addr"))
		return perr(p, "unrecognised unit header");
	n = split(line, tok, 8);
	if (n < 3 || n > 8)
		return perr(p, "unrecognised unit header");
	len = strlen(tok[1]);
	if (len && tok[1][len - 1] == ':')
		len--;
	if (!valid_name(tok[1], len))
		return perr(p, "bad unit name '%s'", tok[1]);
	memcpy(name, tok[1], len);
	name[len] = '\0';
	b = tok[n - 1];
	if (!strncasecmp(b, "0x", 2))
		b += 2;
	if (!parse_num(b, 16, &base))
		return perr(p, "bad register base address '%s'", tok[n - 1]);
	return select_unit(p, name, true, base);
}

/* "[dmar0 @ 0xfed90000]", "[dmar0]", "[@ 0xfed90000]" */
static struct ish_error *parse_section(struct parser *p, char *line)
{
	size_t len = strlen(line);
	char *in, *at, *name;
	uint64_t base = 0;
	bool has_base = false;

	if (line[len - 1] != ']')
		return perr(p, "section header without ']'");
	line[len - 1] = '\0';
	in = line + 1;
	at = strchr(in, '@');
	if (at) {
		char *b;

		*at = '\0';
		b = trim(at + 1);
		if (!parse_num(b, 0, &base))
			return perr(p, "bad register base address '%s'", b);
		has_base = true;
	}
	name = trim(in);
	if (*name && !valid_name(name, strlen(name)))
		return perr(p, "bad unit name '%s' (letters, digits, _-. and at most 15 of them)",
			    name);
	if (!*name && !has_base)
		return perr(p, "empty section: give a unit name, '@ BASE' or both");
	return select_unit(p, name, has_base, base);
}

/* "NAME[:W] = VALUE" or "0xOFFSET[:W] = VALUE" */
static struct ish_error *parse_assign(struct parser *p, char *line, char *eq)
{
	char *lhs, *rhs, *colon;
	uint64_t value, off, w;
	uint32_t offset;
	unsigned width = 0, tw;

	*eq = '\0';
	lhs = trim(line);
	rhs = trim(eq + 1);
	if (!parse_num(rhs, 0, &value))
		return perr(p, "bad value '%s'", rhs);
	colon = strchr(lhs, ':');
	if (colon) {
		char *ws = trim(colon + 1);

		*colon = '\0';
		lhs = trim(lhs);
		if (!parse_num(ws, 10, &w) || (w != 8 && w != 16 && w != 32 && w != 64))
			return perr(p, "bad width '%s' (8, 16, 32 or 64)", ws);
		width = (unsigned)w;
	}
	if (!*lhs)
		return perr(p, "missing register name or offset before '='");
	if (isdigit((unsigned char)*lhs)) {
		if (!parse_num(lhs, 0, &off) || off >= ISH_REGFILE_SIZE)
			return perr(p, "bad register offset '%s'", lhs);
		offset = (uint32_t)off;
		if (!width)
			width = 32;
	} else if (!reg_by_name(lhs, &offset, &tw)) {
		return defer(p, lhs, width, value);
	} else {
		if (width && width != tw)
			return perr(p, "register %s is %u bits wide, not %u", lhs, tw, width);
		width = tw;
	}
	return set_reg(p, offset, width, value);
}

/* A debugfs row: "NAME  0xOFF  0xVALUE". */
static struct ish_error *parse_row(struct parser *p, char *line)
{
	char *tok[4];
	size_t n = split(line, tok, 3);
	uint64_t off, value;
	uint32_t toff;
	unsigned width;

	if (n != 3)
		return perr(p, "unrecognised line (expected NAME=VALUE, [unit @ base] or a debugfs "
			       "iommu_regset row)");
	if (!parse_num(tok[1], 0, &off) || off >= ISH_REGFILE_SIZE)
		return perr(p, "bad register offset '%s'", tok[1]);
	if (!parse_num(tok[2], 0, &value))
		return perr(p, "bad value '%s'", tok[2]);
	if (reg_by_name(tok[0], &toff, &width)) {
		if (toff != off)
			return perr(p, "register %s is at offset %#x, not %#" PRIx64, tok[0], toff,
				    off);
	} else {
		width = off % 8 ? 32 : 64;
	}
	if (width == 32)
		value &= 0xffffffffu;
	return set_reg(p, (uint32_t)off, width, value);
}

static struct ish_error *parse_line(struct parser *p, char *line)
{
	char *hash = strchr(line, '#'), *eq;

	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return NULL;
	if (!strncmp(line, "IOMMU:", 6) || !strncmp(line, "DMAR:", 5))
		return parse_header(p, line);
	if (!strncmp(line, "Name", 4) && strstr(line, "Offset"))
		return NULL;
	if (*line == '[')
		return parse_section(p, line);
	eq = strchr(line, '=');
	if (eq)
		return parse_assign(p, line, eq);
	return parse_row(p, line);
}

struct ish_error *ish_regsfile_parse(const char *text, size_t len, const char *where,
				     struct ish_regsfile **ret)
{
	struct parser p = { .where = where ? where : "<registers>" };
	char line[MAX_LINE + 1];
	struct ish_error *err;
	size_t pos = 0;

	if (len > ISH_REGSFILE_MAX_BYTES)
		return ish_error_format(ISH_ERROR_FORMAT, "%s: larger than %u bytes", p.where,
					ISH_REGSFILE_MAX_BYTES);
	p.rf = calloc(1, sizeof(*p.rf));
	if (!p.rf)
		return &ish_enomem;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		p.line++;
		if (n && text[pos + n - 1] == '\r')
			n--;
		if (n > MAX_LINE)
			err = perr(&p, "line longer than %u bytes", MAX_LINE);
		else if (memchr(text + pos, '\0', n))
			err = perr(&p, "NUL byte in a text file");
		else {
			memcpy(line, text + pos, n);
			line[n] = '\0';
			err = parse_line(&p, line);
		}
		if (err)
			goto fail;
		pos += (nl ? (size_t)(nl - (text + pos)) + 1 : len - pos);
	}
	err = place_pending(&p);
	if (err)
		goto fail;
	free(p.pending);
	*ret = p.rf;
	return NULL;
fail:
	free(p.pending);
	ish_regsfile_destroy(p.rf);
	return err;
}

struct ish_error *ish_regsfile_load(const char *path, struct ish_regsfile **ret)
{
	size_t cap = 65536, len = 0;
	struct ish_error *err;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ish_error_errno(errno, "register file %s", path);
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return &ish_enomem;
	}
	/* Read to EOF: debugfs files report a size of 0. */
	for (;;) {
		ssize_t r;

		if (len == cap) {
			char *nb;

			if (cap > ISH_REGSFILE_MAX_BYTES) {
				free(buf);
				close(fd);
				return ish_error_format(ISH_ERROR_FORMAT,
							"register file %s is larger than %u bytes",
							path, ISH_REGSFILE_MAX_BYTES);
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				close(fd);
				return &ish_enomem;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = ish_error_errno(errno, "reading register file %s", path);
			free(buf);
			close(fd);
			return err;
		}
		if (!r)
			break;
		len += (size_t)r;
	}
	close(fd);
	err = ish_regsfile_parse(buf, len, path, ret);
	free(buf);
	return err;
}
