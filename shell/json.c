// SPDX-License-Identifier: MIT
#include <inttypes.h>

#include "json.h"

void json_init(struct json_writer *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
}

/* Separator before a value or key at the current depth. */
static void sep(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		fputc(',', w->f);
	w->first[w->depth] = false;
}

static void open_(struct json_writer *w, char c)
{
	sep(w);
	fputc(c, w->f);
	if (w->depth < JSON_MAX_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = true;
}

static void close_(struct json_writer *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	fputc(c, w->f);
}

void json_begin_object(struct json_writer *w)
{
	open_(w, '{');
}

void json_end_object(struct json_writer *w)
{
	close_(w, '}');
}

void json_begin_array(struct json_writer *w)
{
	open_(w, '[');
}

void json_end_array(struct json_writer *w)
{
	close_(w, ']');
}

static void put_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (*p < 0x20 || *p >= 0x7f) /* keeps the output valid UTF-8 */
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void json_key(struct json_writer *w, const char *key)
{
	sep(w);
	put_string(w->f, key);
	fputc(':', w->f);
	w->after_key = true;
}

void json_u64(struct json_writer *w, uint64_t v)
{
	sep(w);
	fprintf(w->f, "%" PRIu64, v);
}

void json_i64(struct json_writer *w, int64_t v)
{
	sep(w);
	fprintf(w->f, "%" PRId64, v);
}

void json_bool(struct json_writer *w, bool v)
{
	sep(w);
	fputs(v ? "true" : "false", w->f);
}

void json_null(struct json_writer *w)
{
	sep(w);
	fputs("null", w->f);
}

void json_str(struct json_writer *w, const char *s)
{
	sep(w);
	if (s)
		put_string(w->f, s);
	else
		fputs("null", w->f);
}

void json_end_line(struct json_writer *w)
{
	fputc('\n', w->f);
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
}

void json_kv_u64(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_u64(w, v);
}

void json_kv_bool(struct json_writer *w, const char *key, bool v)
{
	json_key(w, key);
	json_bool(w, v);
}

void json_kv_str(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_str(w, s);
}
