// SPDX-License-Identifier: MIT
/*
 * A bounded BTF reader (contract in iommush/btf.h). Our own rather than
 * libbpf's btf__new(): the kernel view needs a few hundred lines of it, it
 * has to be fuzzed with the rest of iommush's parsers, and libbpf would add
 * a dependency (and a global print callback the library must not use)
 * for that. Format facts from Linux include/uapi/linux/btf.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommush/btf.h>

#define BTF_MAGIC 0xeb9f

/* Kinds (BTF_KIND_*). */
enum {
	KIND_UNKN, KIND_INT, KIND_PTR, KIND_ARRAY, KIND_STRUCT, KIND_UNION, KIND_ENUM, KIND_FWD,
	KIND_TYPEDEF, KIND_VOLATILE, KIND_CONST, KIND_RESTRICT, KIND_FUNC, KIND_FUNC_PROTO,
	KIND_VAR, KIND_DATASEC, KIND_FLOAT, KIND_DECL_TAG, KIND_TYPE_TAG, KIND_ENUM64,
};

/* Type chains (typedef of const of ...) and member nesting deeper than this are refused. */
#define MAX_DEPTH 32
#define MAX_TYPES (1u << 22)

struct ish_btf {
	uint8_t *data;
	size_t len;
	const uint8_t *types;	/* type section */
	uint32_t types_len;
	const char *strs;	/* string section, ends with NUL (checked) */
	uint32_t strs_len;
	uint32_t *off;		/* by id: offset of struct btf_type in types; off[0] unused */
	uint32_t ntypes;	/* ids 1..ntypes */
};

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* struct btf_type: name_off, info, size/type. */
struct btype {
	uint32_t name_off, vlen, kind, size_type;
	bool kflag;
	const uint8_t *extra;	/* what follows the 12-byte header */
};

static bool get_type(const struct ish_btf *b, uint32_t id, struct btype *t)
{
	const uint8_t *p;
	uint32_t info;

	if (!id || id > b->ntypes)
		return false;
	p = b->types + b->off[id];
	info = get32(p + 4);
	t->name_off = get32(p);
	t->vlen = info & 0xffff;
	t->kind = (info >> 24) & 0x1f;
	t->kflag = info >> 31;
	t->size_type = get32(p + 8);
	t->extra = p + 12;
	return true;
}

static const char *str_at(const struct ish_btf *b, uint32_t off)
{
	/* Type names are checked at parse time, member names only here: a stray one reads "". */
	return off < b->strs_len ? b->strs + off : "";
}

/* Bytes after the header for a type of this kind and vlen; -1 for an unknown kind. */
static int64_t extra_len(uint32_t kind, uint32_t vlen)
{
	switch (kind) {
	case KIND_INT:
	case KIND_VAR:
	case KIND_DECL_TAG:
		return 4;
	case KIND_ARRAY:
		return 12;
	case KIND_STRUCT:
	case KIND_UNION:
	case KIND_DATASEC:
	case KIND_ENUM64:
		return 12 * (int64_t)vlen;
	case KIND_ENUM:
	case KIND_FUNC_PROTO:
		return 8 * (int64_t)vlen;
	case KIND_PTR:
	case KIND_FWD:
	case KIND_TYPEDEF:
	case KIND_VOLATILE:
	case KIND_CONST:
	case KIND_RESTRICT:
	case KIND_FUNC:
	case KIND_FLOAT:
	case KIND_TYPE_TAG:
		return 0;
	default:
		return -1;
	}
}

void ish_btf_destroy(struct ish_btf *b)
{
	if (!b)
		return;
	free(b->off);
	free(b->data);
	free(b);
}

static struct ish_error *index_types(struct ish_btf *b)
{
	size_t cap = 1024;
	uint32_t pos = 0;

	b->off = malloc(cap * sizeof(*b->off));
	if (!b->off)
		return &ish_enomem;
	b->off[0] = 0;
	while (pos < b->types_len) {
		uint32_t info, kind, name_off;
		int64_t extra;

		if (b->types_len - pos < 12)
			return ish_error_format(ISH_ERROR_FORMAT,
						"BTF type %u is cut short at type section offset %u",
						b->ntypes + 1, pos);
		name_off = get32(b->types + pos);
		info = get32(b->types + pos + 4);
		kind = (info >> 24) & 0x1f;
		extra = extra_len(kind, info & 0xffff);
		if (extra < 0)
			return ish_error_format(ISH_ERROR_FORMAT, "BTF type %u has unknown kind %u",
						b->ntypes + 1, kind);
		if ((uint64_t)extra > b->types_len - pos - 12)
			return ish_error_format(ISH_ERROR_FORMAT,
						"BTF type %u runs past the type section", b->ntypes + 1);
		if (name_off >= b->strs_len)
			return ish_error_format(ISH_ERROR_FORMAT,
						"BTF type %u names string offset %u outside the "
						"string section", b->ntypes + 1, name_off);
		if (b->ntypes + 1 >= MAX_TYPES)
			return ish_error_format(ISH_ERROR_LIMIT, "more than %u BTF types", MAX_TYPES);
		if (b->ntypes + 1 >= cap) {
			uint32_t *o = realloc(b->off, 2 * cap * sizeof(*o));

			if (!o)
				return &ish_enomem;
			b->off = o;
			cap *= 2;
		}
		b->off[++b->ntypes] = pos;
		pos += 12 + (uint32_t)extra;
	}
	return NULL;
}

struct ish_error *ish_btf_parse(const void *data, size_t len, struct ish_btf **ret)
{
	const uint8_t *d = data;
	uint32_t hdr_len, type_off, type_len, str_off, str_len;
	struct ish_btf *b;
	struct ish_error *err;

	if (len < 24)
		return ish_error_format(ISH_ERROR_FORMAT, "BTF of %zu bytes has no header", len);
	if (len > ISH_BTF_MAX_SIZE)
		return ish_error_format(ISH_ERROR_LIMIT, "BTF of %zu bytes is larger than %u", len,
					ISH_BTF_MAX_SIZE);
	if ((d[0] | d[1] << 8) != BTF_MAGIC)
		return ish_error_format(ISH_ERROR_FORMAT, "no BTF magic (%02x %02x)", d[0], d[1]);
	if (d[2] != 1)
		return ish_error_format(ISH_ERROR_FORMAT, "BTF version %u (1 is known)", d[2]);
	hdr_len = get32(d + 4);
	type_off = get32(d + 8);
	type_len = get32(d + 12);
	str_off = get32(d + 16);
	str_len = get32(d + 20);
	if (hdr_len < 24 || hdr_len > len)
		return ish_error_format(ISH_ERROR_FORMAT, "BTF header length %u", hdr_len);
	if ((uint64_t)type_off + type_len > len - hdr_len ||
	    (uint64_t)str_off + str_len > len - hdr_len)
		return ish_error_format(ISH_ERROR_FORMAT,
					"BTF sections (types %u+%u, strings %u+%u) run past its %zu bytes",
					type_off, type_len, str_off, str_len, len - hdr_len);
	if (!str_len || d[hdr_len + str_off + str_len - 1] != '\0')
		return ish_error_create(ISH_ERROR_FORMAT, "BTF string section is not NUL-terminated");
	b = calloc(1, sizeof(*b));
	if (!b)
		return &ish_enomem;
	b->data = malloc(len);
	if (!b->data) {
		free(b);
		return &ish_enomem;
	}
	memcpy(b->data, d, len);
	b->len = len;
	b->types = b->data + hdr_len + type_off;
	b->types_len = type_len;
	b->strs = (const char *)b->data + hdr_len + str_off;
	b->strs_len = str_len;
	err = index_types(b);
	if (err) {
		ish_btf_destroy(b);
		return err;
	}
	*ret = b;
	return NULL;
}

size_t ish_btf_size(const struct ish_btf *b)
{
	return b->len;
}

size_t ish_btf_ntypes(const struct ish_btf *b)
{
	return b->ntypes;
}

/* Follows typedef, const, volatile, restrict and type tags to the type they name. */
static uint32_t skip_mods(const struct ish_btf *b, uint32_t id)
{
	struct btype t;

	for (int depth = 0; depth < MAX_DEPTH && get_type(b, id, &t); depth++) {
		if (t.kind != KIND_TYPEDEF && t.kind != KIND_CONST && t.kind != KIND_VOLATILE &&
		    t.kind != KIND_RESTRICT && t.kind != KIND_TYPE_TAG)
			return id;
		id = t.size_type;
	}
	return 0;
}

static struct ish_error *type_size(const struct ish_btf *b, uint32_t id, int depth, uint64_t *ret)
{
	struct btype t;

	if (depth > MAX_DEPTH)
		return ish_error_create(ISH_ERROR_FORMAT, "BTF type chain too deep (a cycle?)");
	if (!get_type(b, id, &t))
		return ish_error_format(ISH_ERROR_FORMAT, "BTF type id %u does not exist", id);
	switch (t.kind) {
	case KIND_INT:
	case KIND_STRUCT:
	case KIND_UNION:
	case KIND_ENUM:
	case KIND_ENUM64:
	case KIND_FLOAT:
	case KIND_DATASEC:
		*ret = t.size_type;
		return NULL;
	case KIND_PTR:
		*ret = 8;
		return NULL;
	case KIND_TYPEDEF:
	case KIND_CONST:
	case KIND_VOLATILE:
	case KIND_RESTRICT:
	case KIND_TYPE_TAG:
	case KIND_VAR:
		return type_size(b, t.size_type, depth + 1, ret);
	case KIND_ARRAY: {
		uint32_t nelems = get32(t.extra + 8);
		uint64_t elem;
		struct ish_error *err = type_size(b, get32(t.extra), depth + 1, &elem);

		if (err)
			return err;
		if (elem && nelems > UINT64_MAX / elem)
			return ish_error_create(ISH_ERROR_FORMAT, "BTF array size overflows");
		*ret = elem * nelems;
		return NULL;
	}
	default:
		return ish_error_format(ISH_ERROR_FORMAT, "BTF type %u (kind %u) has no size", id,
					t.kind);
	}
}

struct ish_error *ish_btf_type_size(const struct ish_btf *b, uint32_t id, uint64_t *ret)
{
	return type_size(b, id, 0, ret);
}

struct ish_error *ish_btf_find(const struct ish_btf *b, const char *type, uint32_t *ret)
{
	uint32_t want = 0, fwd = 0;
	const char *name = type;

	if (!strncmp(type, "struct ", 7)) {
		want = KIND_STRUCT;
		name = type + 7;
	} else if (!strncmp(type, "union ", 6)) {
		want = KIND_UNION;
		name = type + 6;
	} else if (!strncmp(type, "enum ", 5)) {
		want = KIND_ENUM;
		name = type + 5;
	}
	while (*name == ' ')
		name++;
	if (!*name)
		return ish_error_format(ISH_ERROR_INVALID, "'%s' names no type", type);
	for (uint32_t id = 1; id <= b->ntypes; id++) {
		struct btype t;

		get_type(b, id, &t);
		if (strcmp(str_at(b, t.name_off), name))
			continue;
		if (want == KIND_ENUM ? (t.kind == KIND_ENUM || t.kind == KIND_ENUM64) :
		    want ? t.kind == want :
			   (t.kind == KIND_TYPEDEF || t.kind == KIND_INT || t.kind == KIND_FLOAT)) {
			*ret = id;
			return NULL;
		}
		if (t.kind == KIND_FWD && want && !fwd)
			fwd = id;
	}
	if (fwd)
		return ish_error_format(ISH_ERROR_NOT_FOUND,
					"%s is only declared in the kernel's BTF, never defined", type);
	return ish_error_format(ISH_ERROR_NOT_FOUND, "no %s in the kernel's BTF", type);
}

/* struct btf_member i of t: name, type, and its bit offset and bitfield size. */
static void member_at(const struct btype *t, uint32_t i, uint32_t *name_off, uint32_t *type,
		      uint64_t *bit_off, unsigned *bit_size)
{
	const uint8_t *m = t->extra + 12 * (size_t)i;
	uint32_t off = get32(m + 8);

	*name_off = get32(m);
	*type = get32(m + 4);
	if (t->kflag) {
		*bit_off = off & 0xffffff;
		*bit_size = off >> 24;
	} else {
		*bit_off = off;
		*bit_size = 0;
	}
}

/*
 * Where a member at bit_off of type type lies: bytes of its storage unit,
 * and the bit position inside. A bitfield is an INT whose bit count is
 * below its size (without kind_flag), or has a size given (with it).
 */
static struct ish_error *place(const struct ish_btf *b, uint32_t type, uint64_t bit_off,
			       unsigned bit_size, struct ish_kernel_member *ret)
{
	uint32_t base = skip_mods(b, type);
	struct ish_error *err;
	struct btype t;
	uint64_t size;

	err = type_size(b, type, 0, &size);
	if (err)
		return err;
	if (!bit_size && get_type(b, base, &t) && t.kind == KIND_INT) {
		uint32_t enc = get32(t.extra);
		unsigned bits = enc & 0xff, shift = (enc >> 16) & 0xff;

		if (bits && (bits < 8 * size || shift)) {
			bit_size = bits;
			bit_off += shift;
		}
	}
	if (!bit_size) {
		ret->offset = bit_off / 8;
		ret->bit_offset = 0;
		ret->bit_size = 0;
		ret->size = size;
		return NULL;
	}
	if (!size || size > 8)
		return ish_error_format(ISH_ERROR_FORMAT, "BTF bitfield of a %" PRIu64 "-byte type",
					size);
	/* The aligned storage unit holding the field's first bit, as C lays it out. */
	ret->offset = bit_off / (8 * size) * size;
	ret->bit_offset = (unsigned)(bit_off - 8 * ret->offset);
	ret->bit_size = bit_size;
	ret->size = size;
	if (ret->bit_offset + bit_size > 8 * size) {
		/* A packed field crossing its unit: name the bytes that hold it. */
		ret->offset = bit_off / 8;
		ret->bit_offset = (unsigned)(bit_off % 8);
		if (ret->bit_offset + bit_size > 64)
			return ish_error_create(ISH_ERROR_FORMAT,
						"BTF bitfield spans more than 8 bytes");
		ret->size = (ret->bit_offset + bit_size + 7) / 8;
	}
	return NULL;
}

/* Members one lookup may visit: anonymous members can nest a struct in itself. */
#define MAX_VISITS (1u << 16)

/* Finds name among id's members, looking inside anonymous structs and unions. */
static struct ish_error *find_member(const struct ish_btf *b, uint32_t id, const char *name,
				     size_t name_len, int depth, unsigned *visits, uint64_t *bit_off,
				     uint32_t *type, unsigned *bit_size)
{
	struct btype t;

	if (depth > MAX_DEPTH)
		return ish_error_create(ISH_ERROR_FORMAT, "BTF members nested too deep");
	id = skip_mods(b, id);
	if (!get_type(b, id, &t) || (t.kind != KIND_STRUCT && t.kind != KIND_UNION))
		return ish_error_create(ISH_ERROR_NOT_FOUND, "not a struct or union");
	for (uint32_t i = 0; i < t.vlen; i++) {
		uint32_t mname, mtype;
		uint64_t moff;
		unsigned msize;
		const char *s;

		if (++*visits > MAX_VISITS)
			return ish_error_create(ISH_ERROR_LIMIT,
						"BTF member lookup visits too many members (a cycle?)");
		member_at(&t, i, &mname, &mtype, &moff, &msize);
		s = str_at(b, mname);
		if (*s) {
			if (strlen(s) == name_len && !memcmp(s, name, name_len)) {
				*bit_off = moff;
				*type = mtype;
				*bit_size = msize;
				return NULL;
			}
		} else {
			uint64_t inner;
			struct ish_error *err = find_member(b, mtype, name, name_len, depth + 1,
							    visits, &inner, type, bit_size);

			if (!err) {
				*bit_off = moff + inner;
				return NULL;
			}
			if (err->code != ISH_ERROR_NOT_FOUND)
				return err;
			ish_error_destroy(err);
		}
	}
	return ish_error_create(ISH_ERROR_NOT_FOUND, "no such member");
}

struct ish_error *ish_btf_member(const struct ish_btf *b, uint32_t id, const char *member,
				 struct ish_kernel_member *ret)
{
	uint64_t bit_off = 0;
	uint32_t type = id;
	unsigned bit_size = 0;
	const char *p = member;
	char tname[128];
	int parts = 0;
	unsigned visits = 0;

	if (!*member)
		return ish_error_create(ISH_ERROR_INVALID, "empty member name");
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		uint64_t inner;
		struct ish_error *err;

		if (!n || ++parts > MAX_DEPTH)
			return ish_error_format(ISH_ERROR_INVALID, "bad member name '%s'", member);
		err = find_member(b, type, p, n, 0, &visits, &inner, &type, &bit_size);
		if (err) {
			ish_btf_type_name(b, id, tname, sizeof(tname));
			if (err->code == ISH_ERROR_NOT_FOUND) {
				ish_error_destroy(err);
				return ish_error_format(ISH_ERROR_NOT_FOUND, "%s has no member '%.*s'",
							tname, (int)(p + n - member), member);
			}
			return err;
		}
		bit_off += inner;
		p += n;
		if (*p == '.') {
			if (bit_size)
				return ish_error_format(ISH_ERROR_INVALID,
							"'%.*s' is a bitfield, it has no members",
							(int)(p - member), member);
			p++;
			if (!*p)
				return ish_error_format(ISH_ERROR_INVALID, "bad member name '%s'",
							member);
		}
	}
	return place(b, type, bit_off, bit_size, ret);
}

struct ish_error *ish_btf_members(const struct ish_btf *b, uint32_t id, ish_btf_field_fn *fn,
				  void *arg)
{
	struct btype t;

	id = skip_mods(b, id);
	if (!get_type(b, id, &t) || (t.kind != KIND_STRUCT && t.kind != KIND_UNION))
		return ish_error_format(ISH_ERROR_INVALID, "BTF type %u is not a struct or union", id);
	for (uint32_t i = 0; i < t.vlen; i++) {
		struct ish_btf_field f;
		uint32_t mname;
		uint64_t off;
		unsigned bits;
		struct ish_error *err;

		member_at(&t, i, &mname, &f.type, &off, &bits);
		f.name = str_at(b, mname);
		err = place(b, f.type, off, bits, &f.where);
		if (!err)
			err = fn(arg, &f);
		if (err)
			return err;
	}
	return NULL;
}

static void type_name(const struct ish_btf *b, uint32_t id, char *buf, size_t len, int depth)
{
	const char *prefix = "", *suffix = "";
	char inner[256];
	struct btype t;

	if (!len)
		return;
	if (!id) {
		snprintf(buf, len, "void");
		return;
	}
	if (depth > MAX_DEPTH || !get_type(b, id, &t)) {
		snprintf(buf, len, "?");
		return;
	}
	switch (t.kind) {
	case KIND_PTR:
		type_name(b, t.size_type, inner, sizeof(inner), depth + 1);
		snprintf(buf, len, "%s *", inner);
		return;
	case KIND_CONST:
	case KIND_VOLATILE:
	case KIND_RESTRICT:
		type_name(b, t.size_type, inner, sizeof(inner), depth + 1);
		snprintf(buf, len, "%s %s",
			 t.kind == KIND_CONST ? "const" : t.kind == KIND_VOLATILE ? "volatile" : "restrict",
			 inner);
		return;
	case KIND_TYPE_TAG:
		type_name(b, t.size_type, buf, len, depth + 1);
		return;
	case KIND_ARRAY:
		type_name(b, get32(t.extra), inner, sizeof(inner), depth + 1);
		snprintf(buf, len, "%s [%u]", inner, get32(t.extra + 8));
		return;
	case KIND_FUNC_PROTO:
		snprintf(buf, len, "function");
		return;
	case KIND_STRUCT:
		prefix = "struct ";
		break;
	case KIND_UNION:
		prefix = "union ";
		break;
	case KIND_ENUM:
	case KIND_ENUM64:
		prefix = "enum ";
		break;
	case KIND_FWD:
		prefix = t.kflag ? "union " : "struct ";
		break;
	}
	if (!*str_at(b, t.name_off))
		suffix = "{...}";
	snprintf(buf, len, "%s%s%s", prefix, str_at(b, t.name_off), suffix);
}

void ish_btf_type_name(const struct ish_btf *b, uint32_t id, char *buf, size_t len)
{
	type_name(b, id, buf, len, 0);
}
