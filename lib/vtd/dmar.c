// SPDX-License-Identifier: MIT
/*
 * ACPI DMAR table decoder (VT-d spec chapter 8). The table comes from
 * firmware or from a dump file, so it is treated as hostile: every field is
 * read through rd8/rd16/rd32/rd64 after the containing length has been
 * checked against the buffer.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/vtd/dmar.h>
#include <iommush/vtd/vtd.h>

/* Minimum lengths of each structure type, up to its first device scope. */
static const uint16_t struct_min_len[] = {
	[ISH_DMAR_TYPE_DRHD] = 16,
	[ISH_DMAR_TYPE_RMRR] = 24,
	[ISH_DMAR_TYPE_ATSR] = 8,
	[ISH_DMAR_TYPE_RHSA] = 20,
	[ISH_DMAR_TYPE_ANDD] = 8,
	[ISH_DMAR_TYPE_SATC] = 8,
	[ISH_DMAR_TYPE_SIDP] = 8,
};

#define SCOPE_HEADER_LEN 6
/* Structures are at most 64 KiB; a scope at most 255 bytes: these bound every loop. */

static const struct {
	const char *name, *desc;
} type_names[] = {
	[ISH_DMAR_TYPE_DRHD] = { "DRHD", "DMA remapping hardware unit" },
	[ISH_DMAR_TYPE_RMRR] = { "RMRR", "reserved memory region" },
	[ISH_DMAR_TYPE_ATSR] = { "ATSR", "root port ATS capability" },
	[ISH_DMAR_TYPE_RHSA] = { "RHSA", "remapping hardware static affinity" },
	[ISH_DMAR_TYPE_ANDD] = { "ANDD", "ACPI namespace device declaration" },
	[ISH_DMAR_TYPE_SATC] = { "SATC", "SoC integrated address translation cache" },
	[ISH_DMAR_TYPE_SIDP] = { "SIDP", "SoC integrated device property" },
};

static const char *const scope_names[] = {
	[ISH_DMAR_SCOPE_PCI_ENDPOINT] = "PCI endpoint",
	[ISH_DMAR_SCOPE_PCI_BRIDGE] = "PCI bridge",
	[ISH_DMAR_SCOPE_IOAPIC] = "IOAPIC",
	[ISH_DMAR_SCOPE_HPET] = "HPET",
	[ISH_DMAR_SCOPE_NAMESPACE] = "ACPI namespace device",
};

const char *ish_dmar_type_name(uint16_t type)
{
	return type < sizeof(type_names) / sizeof(type_names[0]) ? type_names[type].name : NULL;
}

const char *ish_dmar_type_desc(uint16_t type)
{
	return type < sizeof(type_names) / sizeof(type_names[0]) ? type_names[type].desc : NULL;
}

const char *ish_dmar_scope_type_name(uint8_t type)
{
	return type < sizeof(scope_names) / sizeof(scope_names[0]) ? scope_names[type] : NULL;
}

/* Little-endian reads; callers have bounds-checked p .. p + width. */
static uint8_t rd8(const uint8_t *p)
{
	return p[0];
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Copies n bytes of an ACPI id field, making it printable. */
static void copy_id(char *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[n] = 0;
}

static struct ish_error *finding(struct ish_dmar *d, uint32_t offset, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct ish_error *finding(struct ish_dmar *d, uint32_t offset, const char *fmt, ...)
{
	struct ish_dmar_finding *f;
	va_list ap;
	int r;

	/* A table can have at most a few thousand structures; this bounds memory too. */
	if (d->nfindings >= 4096)
		return NULL;
	f = realloc(d->findings, (d->nfindings + 1) * sizeof(*f));
	if (!f)
		return &ish_enomem;
	d->findings = f;
	f = &d->findings[d->nfindings];
	f->offset = offset;
	va_start(ap, fmt);
	r = vasprintf(&f->message, fmt, ap);
	va_end(ap);
	if (r < 0)
		return &ish_enomem;
	d->nfindings++;
	return NULL;
}

static struct ish_error *bad(uint32_t offset, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static struct ish_error *bad(uint32_t offset, const char *fmt, ...)
{
	struct ish_error *err;
	va_list ap;

	va_start(ap, fmt);
	err = ish_error_vformat(ISH_ERROR_FORMAT, fmt, ap);
	va_end(ap);
	return ish_error_prefix(err, "malformed DMAR table at offset 0x%x", offset);
}

/* Decodes the device scopes in [start, end) of the table t. */
static struct ish_error *parse_scopes(struct ish_dmar *d, struct ish_dmar_struct *s,
				      const uint8_t *t, uint32_t start, uint32_t end)
{
	uint32_t off;
	size_t n = 0;

	/* Count first, so the array is allocated once. */
	for (off = start; off < end;) {
		uint8_t len;

		if (end - off < SCOPE_HEADER_LEN)
			return bad(off, "device scope header truncated: %u bytes left in %s at %#x",
				   end - off, ish_dmar_type_name(s->type), s->offset);
		len = rd8(t + off + 1);
		if (len < SCOPE_HEADER_LEN)
			return bad(off, "device scope length %u is shorter than its header (6)", len);
		if (len > end - off)
			return bad(off, "device scope length %u runs past the end of %s at %#x",
				   len, ish_dmar_type_name(s->type), s->offset);
		if ((len - SCOPE_HEADER_LEN) % 2)
			return bad(off, "device scope length %u leaves half a path entry", len);
		off += len;
		n++;
	}
	if (!n)
		return NULL;
	s->scopes = calloc(n, sizeof(*s->scopes));
	if (!s->scopes)
		return &ish_enomem;
	for (off = start; off < end; s->nscopes++) {
		struct ish_dmar_scope *sc = &s->scopes[s->nscopes];
		struct ish_error *err = NULL;

		sc->offset = off;
		sc->type = rd8(t + off);
		sc->length = rd8(t + off + 1);
		sc->flags = rd8(t + off + 2);
		sc->enum_id = rd8(t + off + 4);
		sc->bus = rd8(t + off + 5);
		sc->npath = (size_t)(sc->length - SCOPE_HEADER_LEN) / 2;
		if (sc->npath) {
			sc->path = calloc(sc->npath, sizeof(*sc->path));
			if (!sc->path)
				return &ish_enomem;
		}
		for (size_t i = 0; i < sc->npath; i++) {
			sc->path[i].dev = rd8(t + off + SCOPE_HEADER_LEN + 2 * i);
			sc->path[i].fn = rd8(t + off + SCOPE_HEADER_LEN + 2 * i + 1);
			if (sc->path[i].dev > 31 || sc->path[i].fn > 7)
				err = finding(d, off + SCOPE_HEADER_LEN + 2 * (uint32_t)i,
					      "path entry %02x,%02x is not a device (0-31) and function (0-7)",
					      sc->path[i].dev, sc->path[i].fn);
			if (err)
				return err;
		}
		if (!ish_dmar_scope_type_name(sc->type))
			err = finding(d, off, "device scope type %u is reserved", sc->type);
		else if (sc->type != ISH_DMAR_SCOPE_NAMESPACE && !sc->npath)
			err = finding(d, off, "%s scope has no path", ish_dmar_scope_type_name(sc->type));
		if (!err && rd8(t + off + 3))
			err = finding(d, off + 3, "device scope reserved byte is %#x",
				      rd8(t + off + 3));
		if (err)
			return err;
		off += sc->length;
	}
	return NULL;
}

/* Fields of one structure whose length was already checked against the table. */
static struct ish_error *parse_struct(struct ish_dmar *d, struct ish_dmar_struct *s,
				      const uint8_t *t)
{
	const uint8_t *p = t + s->offset;
	uint32_t scopes = 0;	/* offset of the first scope in the structure, 0 = none */
	struct ish_error *err = NULL;

	switch (s->type) {
	case ISH_DMAR_TYPE_DRHD:
		s->flags = rd8(p + 4);
		s->size = rd8(p + 5);
		s->segment = rd16(p + 6);
		s->base = rd64(p + 8);
		scopes = 16;
		if (s->flags & ~(ISH_DRHD_INCLUDE_PCI_ALL | ISH_DRHD_ATC_REQUIRED))
			err = finding(d, s->offset + 4, "DRHD reserved flag bits set: %#x", s->flags);
		if (!err && (s->size & 0xf0))
			err = finding(d, s->offset + 5, "DRHD size reserved bits set: %#x", s->size);
		if (!err && !s->base)
			err = finding(d, s->offset + 8, "DRHD register base address is 0");
		else if (!err && (s->base & 0xfff))
			err = finding(d, s->offset + 8,
				      "DRHD register base %#" PRIx64 " is not page aligned", s->base);
		break;
	case ISH_DMAR_TYPE_RMRR:
		s->segment = rd16(p + 6);
		s->base = rd64(p + 8);
		s->limit = rd64(p + 16);
		scopes = 24;
		if (s->base & 0xfff)
			err = finding(d, s->offset + 8, "RMRR base %#" PRIx64 " is not page aligned",
				      s->base);
		else if ((s->limit & 0xfff) != 0xfff)
			err = finding(d, s->offset + 16,
				      "RMRR end %#" PRIx64 " does not end a page", s->limit);
		else if (s->limit < s->base)
			err = finding(d, s->offset + 16,
				      "RMRR end %#" PRIx64 " is below its base %#" PRIx64, s->limit,
				      s->base);
		break;
	case ISH_DMAR_TYPE_ATSR:
		s->flags = rd8(p + 4);
		s->segment = rd16(p + 6);
		scopes = 8;
		if (s->flags & ~ISH_ATSR_ALL_PORTS)
			err = finding(d, s->offset + 4, "ATSR reserved flag bits set: %#x", s->flags);
		break;
	case ISH_DMAR_TYPE_RHSA:
		s->base = rd64(p + 8);
		s->proximity = rd32(p + 16);
		if (s->length != 20)
			err = finding(d, s->offset + 2, "RHSA length %u is not 20", s->length);
		break;
	case ISH_DMAR_TYPE_ANDD: {
		size_t n = s->length - 8u;

		s->device_number = rd8(p + 7);
		s->object_name = malloc(n + 1);
		if (!s->object_name)
			return &ish_enomem;
		/* The name is NUL-terminated inside the structure; stop at the first NUL. */
		for (size_t i = 0; i <= n; i++) {
			uint8_t c = i < n ? rd8(p + 8 + i) : 0;

			if (!c) {
				s->object_name[i] = 0;
				break;
			}
			s->object_name[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
		}
		if (!n || rd8(p + s->length - 1))
			err = finding(d, s->offset + 8, "ANDD object name is not NUL-terminated");
		break;
	}
	case ISH_DMAR_TYPE_SATC:
		s->flags = rd8(p + 4);
		s->segment = rd16(p + 6);
		scopes = 8;
		if (s->flags & ~ISH_SATC_ATC_REQUIRED)
			err = finding(d, s->offset + 4, "SATC reserved flag bits set: %#x", s->flags);
		break;
	case ISH_DMAR_TYPE_SIDP:
		s->segment = rd16(p + 6);
		scopes = 8;
		break;
	default:
		s->raw_len = s->length - 4u;
		if (s->raw_len) {
			s->raw = malloc(s->raw_len);
			if (!s->raw)
				return &ish_enomem;
			memcpy(s->raw, p + 4, s->raw_len);
		}
		err = finding(d, s->offset, "remapping structure type %u is reserved; kept raw",
			      s->type);
		break;
	}
	if (err)
		return err;
	if (scopes)
		err = parse_scopes(d, s, t, s->offset + scopes, s->offset + s->length);
	return err;
}

void ish_dmar_destroy(struct ish_dmar *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nstructs; i++) {
		struct ish_dmar_struct *s = &d->structs[i];

		for (size_t j = 0; j < s->nscopes; j++)
			free(s->scopes[j].path);
		free(s->scopes);
		free(s->object_name);
		free(s->raw);
	}
	free(d->structs);
	for (size_t i = 0; i < d->nfindings; i++)
		free(d->findings[i].message);
	free(d->findings);
	free(d);
}

static struct ish_error *parse(const uint8_t *t, size_t buflen, struct ish_dmar *d)
{
	uint32_t len, off;
	uint8_t sum = 0;
	size_t n = 0;
	struct ish_error *err;

	if (buflen < ISH_DMAR_HEADER_LEN)
		return bad(0, "table header truncated: %zu bytes, the header needs %d", buflen,
			   ISH_DMAR_HEADER_LEN);
	copy_id(d->signature, t, 4);
	if (memcmp(t, "DMAR", 4))
		return bad(0, "signature is \"%s\", not \"DMAR\"", d->signature);
	len = rd32(t + 4);
	if (len < ISH_DMAR_HEADER_LEN)
		return bad(4, "table length %u is shorter than the DMAR header (%d)", len,
			   ISH_DMAR_HEADER_LEN);
	if (len > buflen)
		return bad(4, "table length %u runs past the %zu bytes available", len, buflen);
	d->length = len;
	d->revision = rd8(t + 8);
	d->checksum = rd8(t + 9);
	copy_id(d->oem_id, t + 10, 6);
	copy_id(d->oem_table_id, t + 16, 8);
	d->oem_revision = rd32(t + 24);
	copy_id(d->creator_id, t + 28, 4);
	d->creator_revision = rd32(t + 32);
	d->haw = rd8(t + 36);
	d->flags = rd8(t + 37);

	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + t[i]);
	d->checksum_ok = !sum;
	if (!d->checksum_ok) {
		err = finding(d, 9, "checksum %#04x is wrong: the table sums to %#04x, not 0",
			      d->checksum, sum);
		if (err)
			return err;
	}
	if (len < buflen) {
		err = finding(d, len, "%zu bytes after the table length are ignored", buflen - len);
		if (err)
			return err;
	}
	if (d->flags & ~7u) {
		err = finding(d, 37, "reserved DMAR flag bits set: %#x", d->flags);
		if (err)
			return err;
	}

	/* Walk the structure headers once to validate lengths and count. */
	for (off = ISH_DMAR_HEADER_LEN; off < len; n++) {
		uint16_t type, slen;

		if (len - off < 4)
			return bad(off, "remapping structure header truncated: %u bytes left",
				   len - off);
		type = rd16(t + off);
		slen = rd16(t + off + 2);
		if (slen < 4)
			return bad(off, "structure length %u is shorter than its header (4)", slen);
		if (type < sizeof(struct_min_len) / sizeof(struct_min_len[0]) &&
		    slen < struct_min_len[type])
			return bad(off, "%s length %u is shorter than the structure (%u)",
				   ish_dmar_type_name(type), slen, struct_min_len[type]);
		if (slen > len - off)
			return bad(off, "structure length %u runs past the end of the table (%u)",
				   slen, len);
		off += slen;
	}
	if (n) {
		d->structs = calloc(n, sizeof(*d->structs));
		if (!d->structs)
			return &ish_enomem;
	}
	for (off = ISH_DMAR_HEADER_LEN; off < len; d->nstructs++) {
		struct ish_dmar_struct *s = &d->structs[d->nstructs];

		s->offset = off;
		s->type = rd16(t + off);
		s->length = rd16(t + off + 2);
		err = parse_struct(d, s, t);
		if (err) {
			d->nstructs++;	/* so destroy frees what it allocated */
			return err;
		}
		off += s->length;
	}
	return NULL;
}

struct ish_error *ish_dmar_parse(const void *buf, size_t len, struct ish_dmar **ret)
{
	struct ish_dmar *d;
	struct ish_error *err;

	if (!buf && len)
		return ish_error_create(ISH_ERROR_INVALID, "no DMAR buffer");
	d = calloc(1, sizeof(*d));
	if (!d)
		return &ish_enomem;
	err = parse(buf, len, d);
	if (err) {
		ish_dmar_destroy(d);
		return err;
	}
	*ret = d;
	return NULL;
}

struct ish_error *ish_dmar_units(const void *buf, size_t len,
				 struct ish_error *(*fn)(void *arg, const struct ish_unit *u),
				 void *arg)
{
	struct ish_dmar *d;
	struct ish_error *err = ish_dmar_parse(buf, len, &d);

	if (err)
		return err;
	for (size_t i = 0; i < d->nstructs && !err; i++) {
		const struct ish_dmar_struct *s = &d->structs[i];
		struct ish_unit u;
		unsigned sz = s->size & 0xf;

		if (s->type != ISH_DMAR_TYPE_DRHD)
			continue;
		memset(&u, 0, sizeof(u));
		u.segment = s->segment;
		u.arch_flags = s->flags;
		u.size_pages = sz < 8 ? (uint8_t)(1u << sz) : 0;
		u.reg_base = s->base;
		err = fn(arg, &u);
	}
	ish_dmar_destroy(d);
	return err;
}
