/* A small streaming JSON writer for iscsiadm --json (RFC 8259).
 *
 * Output is indented two spaces per level, one value per line, so both jq
 * and people can read it. Strings are escaped completely: '"', '\\',
 * every control character (U+0000..U+001F as \n, \t ... or \u00XX, and
 * DEL as \u007f), and bytes that are not well-formed UTF-8 (stray
 * continuation bytes, overlong forms, surrogates, values past U+10FFFF,
 * truncated sequences) become U+FFFD, so the document is always valid
 * UTF-8 whatever a target put into a name.
 *
 * Misuse (a value where a key is due, unbalanced ends, nesting deeper than
 * JSON_MAX_DEPTH) is recorded and reported by json_end(); nothing is
 * written for the offending call. */
#ifndef ISCSIADM_JSON_H
#define ISCSIADM_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	unsigned depth;
	bool is_object[JSON_MAX_DEPTH];
	unsigned count[JSON_MAX_DEPTH];   /* members/elements written so far */
	bool want_value;                  /* a key was written, its value is due */
	int err;                          /* first misuse: -EINVAL, or -EIO */
};

void json_init(struct json *j, FILE *f);

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);

/* Inside an object: the member name; the next call writes its value. */
void json_key(struct json *j, const char *key);

/* NULL writes null. */
void json_string(struct json *j, const char *s);
/* Exactly len bytes (may hold NUL bytes, escaped as \u0000). */
void json_string_len(struct json *j, const char *s, size_t len);
void json_int(struct json *j, long long v);
void json_uint(struct json *j, unsigned long long v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* key + value in one call. json_kv_str_or_null() writes null for NULL
 * and for "" (an unset record field). */
void json_kv_str(struct json *j, const char *key, const char *v);
void json_kv_str_or_null(struct json *j, const char *key, const char *v);
void json_kv_int(struct json *j, const char *key, long long v);
void json_kv_bool(struct json *j, const char *key, bool v);

/* Ends the document with a newline and flushes. 0, or the first misuse
 * (-EINVAL: unbalanced or misplaced calls) or -EIO (write error). */
int json_end(struct json *j);

#endif
