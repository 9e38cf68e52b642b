/* SPDX-License-Identifier: MIT */
/*
 * A streaming JSON writer: commas and nesting are tracked, strings escaped,
 * numbers written as JSON integers. It writes as it goes, so a million
 * mappings never sit in memory; numbers and strings are formatted by hand
 * (shell/fmt.h), not by printf.
 *
 * It writes to its FILE, or, while an output buffer is attached
 * (json_set_buffer), into that buffer: the shell's listings attach one so
 * that a million small objects become a few hundred large writes.
 *
 * A list can be written as one JSON array (json_begin_array) or as JSON Lines
 * (json_lines_begin): then every value written at the list's level is a
 * complete JSON value ending with a newline, and no commas or brackets
 * surround them.
 */
#ifndef IOMMUSH_JSON_H
#define IOMMUSH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

/*
 * An output buffer in front of a FILE (shell listings, text or JSON). Writes
 * are appended and go to the FILE in large pieces: when the buffer fills,
 * at out_buf_flush, and, on a terminal, at the end of every line (so an
 * interactive listing still appears line by line). The first failed write
 * is remembered in err (an errno) and everything after it is dropped, so a
 * writer into a closed pipe can stop as soon as it looks.
 */
#define OUT_BUF_SIZE 65536
/* Largest piece out_buf_room hands out. */
#define OUT_BUF_ROOM_MAX 4096

struct out_buf {
	FILE *f;
	size_t len;
	size_t limit;	/* a line end with this much buffered flushes (out_buf_init: nearly full) */
	int err;	/* errno of the first failed write; 0 while all is well */
	bool tty;	/* f is a terminal: flush at each line end */
	char data[OUT_BUF_SIZE];
};

void out_buf_init(struct out_buf *b, FILE *f);
/* Writes what is buffered to the FILE and flushes it; returns b->err. */
int out_buf_flush(struct out_buf *b);
void out_buf_write(struct out_buf *b, const char *s, size_t n);

/* Room for n <= OUT_BUF_ROOM_MAX bytes at the end; out_buf_commit says how far was written. */
static inline char *out_buf_room(struct out_buf *b, size_t n)
{
	if (OUT_BUF_SIZE - b->len < n)
		out_buf_flush(b);
	return b->data + b->len;
}

static inline void out_buf_commit(struct out_buf *b, char *end)
{
	b->len = (size_t)(end - b->data);
	if (b->len >= OUT_BUF_SIZE - OUT_BUF_ROOM_MAX)
		out_buf_flush(b);
}

/* Ends a line: on a terminal the line goes out now, elsewhere once limit is reached. */
static inline void out_buf_line(struct out_buf *b)
{
	if (b->tty || b->len >= b->limit)
		out_buf_flush(b);
}

struct json_writer {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* no member written yet at this depth */
	bool after_key;
	int lines;			/* 1 + the depth whose values are JSON Lines; 0: none */
	struct out_buf *buf;		/* when set, output goes here instead of f */
};

void json_init(struct json_writer *w, FILE *f);
/* Sends the output to b (NULL: back to the FILE). Flush b yourself. */
void json_set_buffer(struct json_writer *w, struct out_buf *b);
void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
void json_u64(struct json_writer *w, uint64_t v);
void json_i64(struct json_writer *w, int64_t v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
void json_str(struct json_writer *w, const char *s);
/* Ends a top-level value with a newline. */
void json_end_line(struct json_writer *w);

/*
 * JSON Lines: from here on, values written at the current depth are one per
 * line (each followed by a newline, no commas) until json_lines_end.
 */
void json_lines_begin(struct json_writer *w);
void json_lines_end(struct json_writer *w);

/*
 * A value the caller formatted itself (a complete JSON value of n bytes),
 * placed like any other value: the fast path for objects written a million
 * times, built with shell/fmt.h.
 */
void json_raw(struct json_writer *w, const char *s, size_t n);
/*
 * The same, formatted in place: with a buffer attached, room for one value of
 * at most max (<= OUT_BUF_ROOM_MAX) bytes, and json_raw_end says where it
 * ended. Without a buffer it returns NULL and writes nothing: use json_raw.
 */
char *json_raw_begin(struct json_writer *w, size_t max);
void json_raw_end(struct json_writer *w, char *end);

/* key + value shorthands */
void json_kv_u64(struct json_writer *w, const char *key, uint64_t v);
void json_kv_bool(struct json_writer *w, const char *key, bool v);
void json_kv_str(struct json_writer *w, const char *key, const char *s);

#endif
