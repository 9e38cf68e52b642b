/* SPDX-License-Identifier: MIT */
/*
 * A streaming JSON writer: commas and nesting are tracked, strings escaped,
 * numbers written as JSON integers. It writes as it goes, so a million
 * mappings never sit in memory.
 */
#ifndef IOMMUSH_JSON_H
#define IOMMUSH_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json_writer {
	FILE *f;
	int depth;
	bool first[JSON_MAX_DEPTH];	/* no member written yet at this depth */
	bool after_key;
};

void json_init(struct json_writer *w, FILE *f);
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

/* key + value shorthands */
void json_kv_u64(struct json_writer *w, const char *key, uint64_t v);
void json_kv_bool(struct json_writer *w, const char *key, bool v);
void json_kv_str(struct json_writer *w, const char *key, const char *s);

#endif
