/* Reading record text, and the diagnostics list shared by the record,
 * config and node database readers. */
#include "record_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- diagnostics ---------- */

void rec_diags_init(struct rec_diags *d)
{
	if (d)
		memset(d, 0, sizeof(*d));
}

void rec_diags_free(struct rec_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].path);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

void rec_diags_add(struct rec_diags *d, enum rec_diag_level level, const char *path, unsigned line,
		   const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return;
	if (d->n >= REC_DIAGS_MAX) {
		d->dropped++;
		return;
	}
	if (d->n == d->cap) {
		size_t ncap = d->cap ? d->cap * 2 : 8;
		struct rec_diag *nv = realloc(d->v, ncap * sizeof(*nv));
		if (!nv) {
			d->dropped++;
			return;
		}
		d->v = nv;
		d->cap = ncap;
	}
	struct rec_diag *e = &d->v[d->n];
	memset(e, 0, sizeof(*e));
	e->level = level;
	e->line = line;
	if (path) {
		e->path = strdup(path);
		if (!e->path) {
			d->dropped++;
			return;
		}
	}
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	d->n++;
}

size_t rec_diags_count(const struct rec_diags *d, enum rec_diag_level level)
{
	size_t n = 0;

	if (!d)
		return 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].level == level)
			n++;
	return n;
}

void rec_diag_format(const struct rec_diag *e, char *buf, size_t len)
{
	const char *lvl = e->level == REC_DIAG_ERROR ? "error" : "warning";

	if (e->path && e->line)
		snprintf(buf, len, "%s:%u: %s: %s", e->path, e->line, lvl, e->msg);
	else if (e->path)
		snprintf(buf, len, "%s: %s: %s", e->path, lvl, e->msg);
	else if (e->line)
		snprintf(buf, len, "line %u: %s: %s", e->line, lvl, e->msg);
	else
		snprintf(buf, len, "%s: %s", lvl, e->msg);
}

/* ---------- lines ---------- */

int rec_split_line(char *line, char **ret_key, char **ret_value)
{
	char *p = line;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p || *p == '#')
		return 0;
	char *key = p;
	while (*p && !isspace((unsigned char)*p) && *p != '=')
		p++;
	if (p == key)
		return -EINVAL;
	char *kend = p;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '=')
		return -EINVAL;
	*kend = '\0';
	p++;
	while (isspace((unsigned char)*p))
		p++;
	char *end = p + strlen(p);
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	*ret_key = key;
	*ret_value = p;
	return 1;
}

/* Unknown keys are kept only if they look like keys, so a stray line of
 * junk is not copied into every later save. */
int rec_next_line(const char *buf, size_t len, size_t *off, char *line, size_t size, unsigned *lineno,
		  const char *path, struct rec_diags *diags)
{
	if (*off >= len)
		return 0;

	const char *nl = memchr(buf + *off, '\n', len - *off);
	size_t l = nl ? (size_t)(nl - (buf + *off)) : len - *off;

	(*lineno)++;
	if (l >= size) {
		rec_diags_add(diags, REC_DIAG_ERROR, path, *lineno, "line longer than %zu bytes", size - 1);
		*off += l + 1;
		return -E2BIG;
	}
	memcpy(line, buf + *off, l);
	line[l] = '\0';
	*off += l + 1;
	return 1;
}

static bool key_like(const char *k)
{
	if (!*k || strlen(k) >= REC_EXTRA_KEY_SIZE)
		return false;
	for (; *k; k++) {
		unsigned char c = (unsigned char)*k;
		if (!isalnum(c) && c != '.' && c != '_' && c != '-' && c != '[' && c != ']')
			return false;
	}
	return true;
}

static void extras_put(struct rec_extras *x, const char *key, const char *value, const char *path,
		       unsigned lineno, struct rec_diags *diags)
{
	if (!key_like(key)) {
		rec_diags_add(diags, REC_DIAG_WARNING, path, lineno, "ignoring malformed key");
		return;
	}
	/* The value checks come first: a repeated key must not slip control
	 * characters or a truncated value into the next save. */
	for (const char *v = value; *v; v++) {
		if ((unsigned char)*v < 0x20 && *v != '\t') {
			rec_diags_add(diags, REC_DIAG_WARNING, path, lineno, "dropping unknown key %s (control characters)",
				      key);
			return;
		}
	}
	if (strlen(value) >= REC_EXTRA_VALUE_SIZE) {
		rec_diags_add(diags, REC_DIAG_WARNING, path, lineno, "dropping unknown key %s", key);
		return;
	}
	for (unsigned i = 0; i < x->n; i++) {
		if (strcmp(x->kv[i].key, key) == 0) {
			snprintf(x->kv[i].value, sizeof(x->kv[i].value), "%s", value);
			return;
		}
	}
	if (x->n >= REC_EXTRA_MAX) {
		rec_diags_add(diags, REC_DIAG_WARNING, path, lineno, "dropping unknown key %s", key);
		return;
	}
	snprintf(x->kv[x->n].key, sizeof(x->kv[x->n].key), "%s", key);
	snprintf(x->kv[x->n].value, sizeof(x->kv[x->n].value), "%s", value);
	x->n++;
}

static size_t rec_size(enum rec_kind kind)
{
	switch (kind) {
	case REC_KIND_NODE:
		return sizeof(struct node_rec);
	case REC_KIND_DISCOVERY:
		return sizeof(struct discovery_rec);
	case REC_KIND_IFACE:
		return sizeof(struct iface_rec);
	}
	return 0;
}

static bool starts_with_comment(const char *line, const char *what)
{
	while (isspace((unsigned char)*line))
		line++;
	return strncmp(line, what, strlen(what)) == 0;
}

int rec_parse(enum rec_kind kind, void *rec, const char *buf, size_t len, const char *path,
	      struct rec_diags *diags)
{
	const struct rec_schema *s = rec_schema_get(kind);
	bool corrupt = false, begin = false, end = false;
	char line[REC_LINE_MAX];
	char err[256];
	unsigned lineno = 0;

	if (!s || !rec || (!buf && len))
		return -EINVAL;
	if (len > REC_FILE_MAX) {
		rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "record larger than %d bytes", REC_FILE_MAX);
		return -EINVAL;
	}
	if (len && memchr(buf, '\0', len)) {
		rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "NUL byte in record");
		return -EINVAL;
	}

	size_t sz = rec_size(kind);
	void *work = malloc(sz);
	if (!work)
		return -ENOMEM;
	memcpy(work, rec, sz);
	struct rec_extras *x = (struct rec_extras *)((char *)work + s->extras_offset);

	size_t off = 0;
	int got;
	while ((got = rec_next_line(buf, len, &off, line, sizeof(line), &lineno, path, diags)) != 0) {
		if (got < 0) {
			corrupt = true;
			continue;
		}
		size_t l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[l - 1] = '\0';

		if (starts_with_comment(line, REC_BEGIN))
			begin = true;
		else if (starts_with_comment(line, REC_END))
			end = true;

		char *key, *value;
		int r = rec_split_line(line, &key, &value);
		if (r == 0)
			continue;
		if (r < 0) {
			rec_diags_add(diags, REC_DIAG_ERROR, path, lineno, "not a \"key = value\" line");
			corrupt = true;
			continue;
		}
		r = rec_set(kind, work, key, value, REC_SET_LOAD, err, sizeof(err));
		if (r == -ENOENT)
			extras_put(x, key, value, path, lineno, diags);
		else if (r < 0)
			rec_diags_add(diags, REC_DIAG_WARNING, path, lineno, "%s; keeping the previous value", err);
	}
	if (begin && !end) {
		rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "\"" REC_BEGIN "\" without \"" REC_END
			      "\" (truncated file?)");
		corrupt = true;
	}
	if (!corrupt)
		memcpy(rec, work, sz);
	explicit_bzero(work, sz);
	free(work);
	explicit_bzero(line, sizeof(line));
	return corrupt ? -EINVAL : 0;
}
