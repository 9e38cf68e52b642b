// SPDX-License-Identifier: MIT
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "json.h"

/* --- the output buffer --- */

void out_buf_init(struct out_buf *b, FILE *f)
{
	int fd = fileno(f);

	b->f = f;
	b->len = 0;
	b->limit = OUT_BUF_SIZE - OUT_BUF_ROOM_MAX;
	b->err = 0;
	b->tty = fd >= 0 && isatty(fd);
}

int out_buf_flush(struct out_buf *b)
{
	errno = 0;
	if (b->len && !b->err) {
		/*
		 * Whatever the FILE holds goes first (it is empty unless someone
		 * wrote to it directly); a piece this large then goes straight
		 * to write(2) instead of through the FILE's own small buffer.
		 */
		if (fwrite_unlocked(b->data, 1, b->len, b->f) != b->len || fflush(b->f))
			b->err = errno ? errno : EIO;
	} else if (!b->err && fflush(b->f)) {
		b->err = errno ? errno : EIO;
	}
	b->len = 0;
	return b->err;
}

void out_buf_write(struct out_buf *b, const char *s, size_t n)
{
	while (n) {
		size_t room = OUT_BUF_SIZE - b->len, k = n < room ? n : room;

		memcpy(b->data + b->len, s, k);
		b->len += k;
		s += k;
		n -= k;
		if (b->len == OUT_BUF_SIZE)
			out_buf_flush(b);
	}
}

/* --- the writer --- */

static void emit(struct json_writer *w, const char *s, size_t n)
{
	if (w->buf)
		out_buf_write(w->buf, s, n);
	else
		fwrite_unlocked(s, 1, n, w->f);
}

static void emit_c(struct json_writer *w, char c)
{
	if (w->buf) {
		if (w->buf->len == OUT_BUF_SIZE)
			out_buf_flush(w->buf);
		w->buf->data[w->buf->len++] = c;
	} else {
		putc_unlocked(c, w->f);
	}
}

void json_init(struct json_writer *w, FILE *f)
{
	w->f = f;
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
	w->lines = 0;
	w->buf = NULL;
}

void json_set_buffer(struct json_writer *w, struct out_buf *b)
{
	w->buf = b;
}

/* Separator before a value or key at the current depth. */
static void sep(struct json_writer *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth] && w->depth + 1 != w->lines)
		emit_c(w, ',');
	w->first[w->depth] = false;
}

/* After a complete value: a JSON Lines value ends its line. */
static void done(struct json_writer *w)
{
	if (w->depth + 1 != w->lines)
		return;
	emit_c(w, '\n');
	if (w->buf)
		out_buf_line(w->buf);
}

static void open_(struct json_writer *w, char c)
{
	sep(w);
	emit_c(w, c);
	if (w->depth < JSON_MAX_DEPTH - 1)
		w->depth++;
	w->first[w->depth] = true;
}

static void close_(struct json_writer *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	emit_c(w, c);
	done(w);
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

void json_lines_begin(struct json_writer *w)
{
	w->lines = w->depth + 1;
	w->first[w->depth] = true;
}

void json_lines_end(struct json_writer *w)
{
	w->lines = 0;
}

/* Bytes that need no escape: printable ASCII but '"' and '\\'. */
static inline bool plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static void put_string(struct json_writer *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	emit_c(w, '"');
	for (;;) {
		const unsigned char *run = p;
		char esc[6];

		while (plain(*p))
			p++;
		if (p > run)
			emit(w, (const char *)run, (size_t)(p - run));
		if (!*p)
			break;
		switch (*p) {
		case '"': emit(w, "\\\"", 2); break;
		case '\\': emit(w, "\\\\", 2); break;
		case '\n': emit(w, "\\n", 2); break;
		case '\t': emit(w, "\\t", 2); break;
		case '\r': emit(w, "\\r", 2); break;
		default:
			/* Controls and every byte >= 0x7f, which keeps the output valid UTF-8. */
			memcpy(esc, "\\u00", 4);
			fmt_hex(esc + 4, *p, 2);
			emit(w, esc, 6);
		}
		p++;
	}
	emit_c(w, '"');
}

void json_key(struct json_writer *w, const char *key)
{
	sep(w);
	put_string(w, key);
	emit_c(w, ':');
	w->after_key = true;
}

void json_u64(struct json_writer *w, uint64_t v)
{
	char b[FMT_U64_MAX];

	sep(w);
	emit(w, b, (size_t)(fmt_u64(b, v) - b));
	done(w);
}

void json_i64(struct json_writer *w, int64_t v)
{
	char b[FMT_U64_MAX];

	sep(w);
	emit(w, b, (size_t)(fmt_i64(b, v) - b));
	done(w);
}

void json_bool(struct json_writer *w, bool v)
{
	sep(w);
	if (v)
		emit(w, "true", 4);
	else
		emit(w, "false", 5);
	done(w);
}

void json_null(struct json_writer *w)
{
	sep(w);
	emit(w, "null", 4);
	done(w);
}

void json_str(struct json_writer *w, const char *s)
{
	sep(w);
	if (s)
		put_string(w, s);
	else
		emit(w, "null", 4);
	done(w);
}

void json_raw(struct json_writer *w, const char *s, size_t n)
{
	sep(w);
	emit(w, s, n);
	done(w);
}

char *json_raw_begin(struct json_writer *w, size_t max)
{
	if (!w->buf)
		return NULL;
	sep(w);
	return out_buf_room(w->buf, max);
}

void json_raw_end(struct json_writer *w, char *end)
{
	out_buf_commit(w->buf, end);
	done(w);
}

void json_end_line(struct json_writer *w)
{
	emit_c(w, '\n');
	if (w->buf)
		out_buf_line(w->buf);
	w->depth = 0;
	w->first[0] = true;
	w->after_key = false;
	w->lines = 0;
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
