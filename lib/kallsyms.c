// SPDX-License-Identifier: MIT
/*
 * kallsyms decoded from the kernel's memory, at the addresses VMCOREINFO
 * gives (SYMBOL(kallsyms_names), ..., Linux >= 6.0). Format facts from
 * Linux scripts/kallsyms.c and kernel/kallsyms.c (6.1, 6.12):
 *  - kallsyms_token_table: 256 NUL-terminated tokens back to back;
 *    kallsyms_token_index: 256 u16 offsets of each token in the table.
 *  - kallsyms_names: per symbol a length, then that many token numbers;
 *    the length is one byte, or two when the first has bit 7 set (low 7
 *    bits first, then the next byte << 7: "big" symbols of newer kernels). The
 *    expanded name's first character is the symbol type, dropped here.
 *  - kallsyms_offsets (CONFIG_KALLSYMS_BASE_RELATIVE): s32 per symbol.
 *    With absolute per-CPU symbols (x86-64 SMP; 6.1 here) an offset >= 0
 *    is the address itself and a negative one means relative_base - 1 -
 *    offset; without (newer kernels) every offset is an unsigned u32 from
 *    relative_base. No negative offset at all means the latter. The stored
 *    kallsyms_relative_base is already relocated. Without BASE_RELATIVE,
 *    kallsyms_addresses holds the addresses themselves.
 *  - kallsyms_num_syms: an unsigned int (an unsigned long on older
 *    kernels: its low half is the same number).
 * Every read is bounded; the tables are untrusted input.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_internal.h"

#define MAX_SYMS (1u << 22)
#define MAX_NAME 1024			/* expanded; KSYM_NAME_LEN is 512 */
#define MAX_NAMES_TABLE (64u << 20)	/* bytes of kallsyms_names */
#define MAX_NAMES_BLOB (256u << 20)	/* bytes of expanded names */
#define MAX_TOKEN_TABLE 65536u
#define READ_CHUNK 16384u

/* A sequential reader of kernel memory, a chunk at a time. */
struct kreader {
	struct ish_kernel *k;
	uint64_t va;		/* of buf[0] */
	uint8_t buf[READ_CHUNK];
	size_t pos, len;
	uint64_t consumed, limit;
};

static struct ish_error *kr_byte(struct kreader *r, uint8_t *ret)
{
	if (r->pos == r->len) {
		size_t n = READ_CHUNK;
		struct ish_error *err;

		if (r->consumed >= r->limit)
			return ish_error_format(ISH_ERROR_FORMAT,
						"kallsyms_names runs past %" PRIu64 " bytes", r->limit);
		r->va += r->len;
		/* Chunks end at page boundaries, so the last one reads no page past the table's. */
		n -= r->va & 4095;
		if (n > r->limit - r->consumed)
			n = (size_t)(r->limit - r->consumed);
		err = ish_kernel_read(r->k, r->va, r->buf, n);
		if (err)
			return err;
		r->pos = 0;
		r->len = n;
		r->consumed += n;
	}
	*ret = r->buf[r->pos++];
	return NULL;
}

void ish_kallsyms_deinit(struct ish_kallsyms *s)
{
	free(s->names);
	free(s->name_off);
	free(s->addr);
	free(s->index);
	memset(s, 0, sizeof(*s));
}

static uint64_t hash_name(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ULL;
	return h;
}

long ish_kallsyms_find(const struct ish_kallsyms *s, const char *name)
{
	if (!s->index_cap)
		return -1;
	for (size_t i = hash_name(name) & (s->index_cap - 1);; i = (i + 1) & (s->index_cap - 1)) {
		uint32_t v = s->index[i];

		if (!v)
			return -1;
		if (!strcmp(s->names + s->name_off[v - 1], name))
			return (long)(v - 1);
	}
}

/* The first symbol of a name wins, as kallsyms_lookup_name() finds it first. */
static struct ish_error *build_index(struct ish_kallsyms *s)
{
	size_t cap = 16;

	while (cap < 2 * s->n)
		cap *= 2;
	s->index = calloc(cap, sizeof(*s->index));
	if (!s->index)
		return &ish_enomem;
	s->index_cap = cap;
	for (size_t n = 0; n < s->n; n++) {
		const char *name = s->names + s->name_off[n];
		size_t i;

		for (i = hash_name(name) & (cap - 1); s->index[i]; i = (i + 1) & (cap - 1))
			if (!strcmp(s->names + s->name_off[s->index[i] - 1], name))
				break;
		if (!s->index[i])
			s->index[i] = (uint32_t)(n + 1);
	}
	return NULL;
}

static struct ish_error *symbol_va(struct ish_kernel *k, const char *sym, uint64_t *ret)
{
	char key[64];
	struct ish_error *err;

	snprintf(key, sizeof(key), "SYMBOL(%s)", sym);
	err = ish_vmcoreinfo_number(k->vmci, key, ret);
	if (err && err->code == ISH_ERROR_NOT_FOUND) {
		ish_error_destroy(err);
		return ish_error_format(ISH_ERROR_NOT_FOUND,
					"VMCOREINFO has no SYMBOL(%s): the kernel is older than 6.0 "
					"or has no kallsyms", sym);
	}
	return err;
}

struct tokens {
	char table[MAX_TOKEN_TABLE + 1];
	uint16_t start[256];
	uint8_t len[256];
};

static struct ish_error *load_tokens(struct ish_kernel *k, struct tokens *tk)
{
	uint64_t table_va, index_va, size;
	uint8_t idx[512];
	unsigned max = 0;
	struct ish_error *err;

	err = symbol_va(k, "kallsyms_token_table", &table_va);
	if (!err)
		err = symbol_va(k, "kallsyms_token_index", &index_va);
	if (!err)
		err = ish_kernel_read(k, index_va, idx, sizeof(idx));
	if (err)
		return err;
	for (unsigned i = 0; i < 256; i++) {
		tk->start[i] = (uint16_t)(idx[2 * i] | idx[2 * i + 1] << 8);
		if (tk->start[i] > max)
			max = tk->start[i];
	}
	/*
	 * The table's end: the index when it follows the table (as the linker
	 * script lays them out), else a margin past the last token's start.
	 */
	if (index_va > table_va && index_va - table_va <= MAX_TOKEN_TABLE)
		size = index_va - table_va;
	else
		size = max + 256 < MAX_TOKEN_TABLE ? max + 256 : MAX_TOKEN_TABLE;
	err = ish_kernel_read(k, table_va, tk->table, size);
	if (err)
		return ish_error_prefix(err, "kallsyms_token_table");
	tk->table[size] = '\0';
	for (unsigned i = 0; i < 256; i++) {
		size_t n;

		if (tk->start[i] >= size)
			return ish_error_format(ISH_ERROR_FORMAT,
						"kallsyms token %u starts past the token table", i);
		n = strnlen(tk->table + tk->start[i], size - tk->start[i]);
		if (tk->start[i] + n >= size || n > 255)
			return ish_error_format(ISH_ERROR_FORMAT,
						"kallsyms token %u does not end in the token table", i);
		tk->len[i] = (uint8_t)n;
	}
	return NULL;
}

static struct ish_error *append_name(struct ish_kallsyms *s, const char *name, size_t len)
{
	if (s->names_len + len + 1 > s->names_cap) {
		size_t cap = s->names_cap ? s->names_cap : 1u << 16;
		char *p;

		while (cap < s->names_len + len + 1)
			cap *= 2;
		if (cap > MAX_NAMES_BLOB)
			return ish_error_create(ISH_ERROR_LIMIT, "kallsyms names are too long");
		p = realloc(s->names, cap);
		if (!p)
			return &ish_enomem;
		s->names = p;
		s->names_cap = cap;
	}
	memcpy(s->names + s->names_len, name, len);
	s->names[s->names_len + len] = '\0';
	s->names_len += len + 1;
	return NULL;
}

static struct ish_error *load_names(struct ish_kernel *k, const struct tokens *tk, uint64_t names_va,
				    uint64_t limit)
{
	struct ish_kallsyms *s = &k->syms;
	struct kreader *r = calloc(1, sizeof(*r));
	struct ish_error *err = NULL;
	char name[MAX_NAME + 1];

	if (!r)
		return &ish_enomem;
	r->k = k;
	r->va = names_va;
	r->limit = limit;
	for (size_t i = 0; i < s->n && !err; i++) {
		uint8_t b0 = 0, b1 = 0;
		size_t len, out = 0;

		if (!(i % 4096) && (err = ish_target_check_interrupt(k->t)))
			break;
		err = kr_byte(r, &b0);
		if (err)
			break;
		len = b0;
		if (b0 & 0x80) {
			err = kr_byte(r, &b1);
			if (err)
				break;
			len = (b0 & 0x7f) | (size_t)b1 << 7;
		}
		for (size_t j = 0; j < len && !err; j++) {
			uint8_t tok = 0;

			err = kr_byte(r, &tok);
			if (err)
				break;
			if (out + tk->len[tok] > MAX_NAME) {
				err = ish_error_format(ISH_ERROR_FORMAT,
						       "kallsyms symbol %zu is longer than %u bytes", i,
						       MAX_NAME);
				break;
			}
			memcpy(name + out, tk->table + tk->start[tok], tk->len[tok]);
			out += tk->len[tok];
		}
		if (err)
			break;
		s->name_off[i] = (uint32_t)s->names_len;
		/* The first character is the type ('T', 't', 'D', ...). */
		err = append_name(s, name + (out ? 1 : 0), out ? out - 1 : 0);
	}
	free(r);
	if (err)
		return ish_error_prefix(err, "kallsyms_names");
	return NULL;
}

static struct ish_error *load_addresses(struct ish_kernel *k)
{
	struct ish_kallsyms *s = &k->syms;
	uint64_t offsets_va, base_va, base;
	struct ish_error *err;
	uint8_t *raw;
	bool any_negative = false;

	err = symbol_va(k, "kallsyms_offsets", &offsets_va);
	if (err && err->code == ISH_ERROR_NOT_FOUND) {
		uint64_t addrs_va;

		/* Without CONFIG_KALLSYMS_BASE_RELATIVE: the addresses themselves. */
		ish_error_destroy(err);
		err = symbol_va(k, "kallsyms_addresses", &addrs_va);
		if (err)
			return ish_error_prefix(err, "neither kallsyms_offsets nor kallsyms_addresses");
		raw = malloc(s->n * 8);
		if (!raw)
			return &ish_enomem;
		err = ish_kernel_read(k, addrs_va, raw, s->n * 8);
		for (size_t i = 0; !err && i < s->n; i++) {
			uint64_t v = 0;

			for (int b = 7; b >= 0; b--)
				v = v << 8 | raw[8 * i + b];
			s->addr[i] = v;
		}
		free(raw);
		return err ? ish_error_prefix(err, "kallsyms_addresses") : NULL;
	}
	if (!err)
		err = symbol_va(k, "kallsyms_relative_base", &base_va);
	if (!err)
		err = ish_kernel_read_u64(k, base_va, &base);
	if (err)
		return err;
	raw = malloc(s->n * 4);
	if (!raw)
		return &ish_enomem;
	err = ish_kernel_read(k, offsets_va, raw, s->n * 4);
	if (err) {
		free(raw);
		return ish_error_prefix(err, "kallsyms_offsets");
	}
	for (size_t i = 0; i < s->n; i++)
		if (raw[4 * i + 3] & 0x80)
			any_negative = true;
	for (size_t i = 0; i < s->n; i++) {
		uint32_t u = (uint32_t)raw[4 * i] | (uint32_t)raw[4 * i + 1] << 8 |
			     (uint32_t)raw[4 * i + 2] << 16 | (uint32_t)raw[4 * i + 3] << 24;
		int32_t o = (int32_t)u;

		if (!any_negative)
			s->addr[i] = base + u;
		else if (o >= 0)
			s->addr[i] = (uint64_t)o;
		else
			s->addr[i] = base - 1 - (uint64_t)(int64_t)o;
	}
	free(raw);
	return NULL;
}

struct ish_error *ish_kallsyms_load(struct ish_kernel *k)
{
	struct ish_kallsyms *s = &k->syms;
	uint64_t names_va, num_va, token_va, limit = MAX_NAMES_TABLE;
	struct tokens *tk;
	struct ish_error *err;
	uint8_t nb[4];
	uint32_t num;

	err = symbol_va(k, "kallsyms_names", &names_va);
	if (!err)
		err = symbol_va(k, "kallsyms_num_syms", &num_va);
	if (!err)
		err = ish_kernel_read(k, num_va, nb, 4);
	if (err)
		return err;
	num = (uint32_t)nb[0] | (uint32_t)nb[1] << 8 | (uint32_t)nb[2] << 16 | (uint32_t)nb[3] << 24;
	if (!num || num > MAX_SYMS)
		return ish_error_format(ISH_ERROR_FORMAT, "kallsyms_num_syms is %u", num);
	s->n = num;
	s->name_off = calloc(num, sizeof(*s->name_off));
	s->addr = calloc(num, sizeof(*s->addr));
	tk = malloc(sizeof(*tk));
	if (!s->name_off || !s->addr || !tk) {
		free(tk);
		ish_kallsyms_deinit(s);
		return &ish_enomem;
	}
	err = load_tokens(k, tk);
	/* The names table ends where the next table starts, when one follows it. */
	if (!err && !symbol_va(k, "kallsyms_token_table", &token_va) && token_va > names_va &&
	    token_va - names_va < limit)
		limit = token_va - names_va;
	if (!err)
		err = load_names(k, tk, names_va, limit);
	free(tk);
	if (!err)
		err = load_addresses(k);
	if (!err)
		err = build_index(s);
	if (err)
		ish_kallsyms_deinit(s);
	return err;
}
