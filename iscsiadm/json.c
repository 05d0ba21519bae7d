#include "json.h"

#include <errno.h>
#include <string.h>

void json_init(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

static void indent(struct json *j)
{
	fputc('\n', j->f);
	for (unsigned i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Called before every value (scalar or container). False: misuse. */
static bool value_prologue(struct json *j)
{
	if (j->err)
		return false;
	if (j->depth == 0) {
		/* One top-level value per document. */
		if (j->count[0]++) {
			j->err = -EINVAL;
			return false;
		}
		return true;
	}
	if (j->is_object[j->depth]) {
		if (!j->want_value) {
			j->err = -EINVAL;
			return false;
		}
		j->want_value = false;
		return true;
	}
	if (j->count[j->depth]++)
		fputc(',', j->f);
	indent(j);
	return true;
}

static void write_escaped(FILE *f, const char *str, size_t len);

void json_key(struct json *j, const char *key)
{
	if (j->err)
		return;
	if (j->depth == 0 || !j->is_object[j->depth] || j->want_value || !key) {
		j->err = -EINVAL;
		return;
	}
	if (j->count[j->depth]++)
		fputc(',', j->f);
	indent(j);
	write_escaped(j->f, key, strlen(key));
	fputs(": ", j->f);
	j->want_value = true;
}

static void container_begin(struct json *j, bool object)
{
	if (!value_prologue(j))
		return;
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		j->err = -EINVAL;
		return;
	}
	fputc(object ? '{' : '[', j->f);
	j->depth++;
	j->is_object[j->depth] = object;
	j->count[j->depth] = 0;
}

static void container_end(struct json *j, bool object)
{
	if (j->err)
		return;
	if (j->depth == 0 || j->is_object[j->depth] != object || j->want_value) {
		j->err = -EINVAL;
		return;
	}
	bool empty = j->count[j->depth] == 0;
	j->depth--;
	if (!empty)
		indent(j);
	fputc(object ? '}' : ']', j->f);
}

void json_object_begin(struct json *j) { container_begin(j, true); }
void json_object_end(struct json *j) { container_end(j, true); }
void json_array_begin(struct json *j) { container_begin(j, false); }
void json_array_end(struct json *j) { container_end(j, false); }

/* Length of the well-formed UTF-8 sequence at s (RFC 3629 §4), or 0. */
static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;          /* no overlong forms */
		else if (c == 0xed)
			hi = 0x9f;          /* no UTF-16 surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;          /* nothing past U+10FFFF */
	} else
		return 0;
	if (left < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* A string, quoted and escaped (values and member names alike). */
static void write_escaped(FILE *f, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc(c, f);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\b': fputs("\\b", f); break;
			case '\f': fputs("\\f", f); break;
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			default: fprintf(f, "\\u%04x", c); break;
			}
			i++;
		} else if (c < 0x80) {
			fputc(c, f);
			i++;
		} else {
			size_t n = utf8_seq_len(s + i, len - i);
			if (n == 0) {
				fputs("\\ufffd", f);
				i++;
			} else {
				fwrite(s + i, 1, n, f);
				i += n;
			}
		}
	}
	fputc('"', f);
}

void json_string_len(struct json *j, const char *s, size_t len)
{
	if (value_prologue(j))
		write_escaped(j->f, s, len);
}

void json_string(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_string_len(j, s, strlen(s));
}

void json_int(struct json *j, long long v)
{
	if (value_prologue(j))
		fprintf(j->f, "%lld", v);
}

void json_uint(struct json *j, unsigned long long v)
{
	if (value_prologue(j))
		fprintf(j->f, "%llu", v);
}

void json_bool(struct json *j, bool v)
{
	if (value_prologue(j))
		fputs(v ? "true" : "false", j->f);
}

void json_null(struct json *j)
{
	if (value_prologue(j))
		fputs("null", j->f);
}

void json_kv_str(struct json *j, const char *key, const char *v)
{
	json_key(j, key);
	json_string(j, v);
}

void json_kv_str_or_null(struct json *j, const char *key, const char *v)
{
	json_key(j, key);
	json_string(j, v && *v ? v : NULL);
}

void json_kv_int(struct json *j, const char *key, long long v)
{
	json_key(j, key);
	json_int(j, v);
}

void json_kv_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	json_bool(j, v);
}

int json_end(struct json *j)
{
	if (!j->err && (j->depth != 0 || j->want_value || j->count[0] != 1))
		j->err = -EINVAL;
	fputc('\n', j->f);
	if (fflush(j->f) || ferror(j->f))
		return j->err ? j->err : -EIO;
	return j->err;
}
