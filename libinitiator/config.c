#include "config.h"
#include "fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record_int.h"
#include "secmem.h"

/* Keys newer (or older) open-iscsi versions put in iscsid.conf that this
 * initiator accepts without using them. */
static const char *const accepted_unused[] = {
	"node.session.sess_reopen_log_freq",
	"node.session.conn_reopen_log_freq",
	"node.conn[0].tcp.congestion_control",
	"discovery.sendtargets.timeo.idle_timeout",
	"node.conn[0].timeo.active_timeout",
	"node.conn[0].timeo.idle_timeout",
	"node.conn[0].timeo.ping_timeout",
	"node.session.err_timeo.reset_timeout",
	NULL,
};

void config_init(struct iscsi_config *c)
{
	memset(c, 0, sizeof(*c));
	c->safe_logout = false;
	c->ipc_auth_uid = true;
	c->metrics_interval = CONFIG_METRICS_INTERVAL_DEFAULT;
	c->automatic_login_wait = CONFIG_AUTOMATIC_LOGIN_WAIT;
	c->isns_port = 3205;
	node_rec_init(&c->node);
	discovery_rec_init(&c->sendtargets, REC_DISC_SENDTARGETS);
	discovery_rec_init(&c->isns, REC_DISC_ISNS);
}

/* What apply() made of one "key = value" line. */
enum apply_result {
	APPLY_OK,
	APPLY_NOTE,      /* REC_DIAG_WARNING: a key not used (unknown ...) */
	APPLY_FALLBACK,  /* REC_DIAG_FALLBACK: the value was not used as written */
	APPLY_ERROR,     /* REC_DIAG_ERROR: the file is refused */
};

/* s quoted in a diagnostic that ends up on a terminal or in the log:
 * printable ASCII only, cut short with "..." to fit len. */
static const char *printable(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; s[i]; i++) {
		if (o + 4 >= len && s[i + 1]) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		unsigned char ch = (unsigned char)s[i];
		buf[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	buf[o] = '\0';
	return buf;
}

/* A number the way open-iscsi's strtoul() reads it, its leading digits,
 * but only where a blank ends them: "64 # tuned" is 64 with *ret_rest at
 * "# tuned" ("" when nothing follows); "5s" or "32O5" (a typo more often
 * than a unit) is not a number. */
static int parse_uint_word(const char *v, unsigned long *ret, const char **ret_rest)
{
	char *end;

	if (!isdigit((unsigned char)v[0]))
		return -EINVAL;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (*end && !isspace((unsigned char)*end))
		return -EINVAL;
	if (errno)
		return -ERANGE;
	while (isspace((unsigned char)*end))
		end++;
	*ret = n;
	*ret_rest = end;
	return 0;
}

/* One of iscsid's own unsigned keys: min..max; otherwise *dst is kept. */
static enum apply_result apply_uint(const char *key, const char *value, unsigned long min, unsigned long max,
				    unsigned *dst, char *err, size_t errlen)
{
	char q[64], rq[64];
	unsigned long v;
	const char *rest;

	if (!*value) {
		snprintf(err, errlen, "%s: no value; using %u", key, *dst);
		return APPLY_FALLBACK;
	}
	int r = parse_uint_word(value, &v, &rest);
	if (r < 0 || v < min || v > max) {
		snprintf(err, errlen, "%s: '%s' is not a number from %lu to %lu; using %u", key,
			 printable(value, q, sizeof(q)), min, max, *dst);
		return APPLY_FALLBACK;
	}
	*dst = (unsigned)v;
	if (*rest) {
		snprintf(err, errlen, "%s: using %lu, ignoring '%s' after it", key, v, printable(rest, rq, sizeof(rq)));
		return APPLY_FALLBACK;
	}
	return APPLY_OK;
}

/* iscsid.safe_logout, iscsid.ipc_auth_uid: Yes or No; otherwise *dst is
 * kept (ipc_auth_uid's default, Yes, is the stricter one). */
static enum apply_result apply_bool(const char *key, const char *value, bool *dst, char *err, size_t errlen)
{
	char q[64];

	if (strcasecmp(value, "Yes") == 0) {
		*dst = true;
		return APPLY_OK;
	}
	if (strcasecmp(value, "No") == 0) {
		*dst = false;
		return APPLY_OK;
	}
	snprintf(err, errlen, "%s: '%s' is not Yes or No; using %s", key, printable(value, q, sizeof(q)),
		 *dst ? "Yes" : "No");
	return APPLY_FALLBACK;
}

/* One of iscsid's own string keys; "" unsets it. An invalid value leaves
 * the previous one. */
static enum apply_result apply_own_str(const char *key, const char *value, bool ok, const char *why, char *dst,
				       size_t size, char *err, size_t errlen)
{
	char q[64], p[64];

	if (ok && strlen(value) >= size) {
		ok = false;
		why = "value too long";
	}
	if (!ok) {
		snprintf(err, errlen, "%s: '%s': %s; using %s%s%s", key, printable(value, q, sizeof(q)), why,
			 *dst ? "'" : "", *dst ? printable(dst, p, sizeof(p)) : "no value", *dst ? "'" : "");
		return APPLY_FALLBACK;
	}
	memcpy(dst, value, strlen(value) + 1);
	return APPLY_OK;
}

/* Keys whose value is not replaced by a default when it is bad: the file
 * is refused instead. For the CHAP keys a fallback would weaken or switch
 * off authentication the administrator asked for (method None, MD5 for
 * SHA256, no mutual CHAP), and a secret cannot be stored other than as
 * written. An empty value is still "unset", as in open-iscsi. */
static bool key_strict(const char *key, const struct rec_field *f)
{
	return strstr(key, ".auth.") != NULL || (f && (f->flags & REC_F_SECRET));
}

struct apply_target {
	enum rec_kind kind;
	void *rec;
};

/* A key of the node and discovery templates, on each of the n records
 * it belongs to. Bad values are reported in the words of rec_set() and
 * leave each record's previous value (the default, unless the key came
 * earlier in the file). */
static enum apply_result apply_rec(const struct apply_target *t, size_t n, const struct rec_field *f,
				   const char *key, const char *value, char *err, size_t errlen)
{
	char why[160], raw[512], cur[80], rq[64];
	bool strict = key_strict(key, f);

	/* what stays: "128", "manual", "'text'" or "no value" */
	if (rec_get(t[0].kind, t[0].rec, key, false, raw, sizeof(raw)) < 0)
		snprintf(cur, sizeof(cur), "the previous value");
	else if (!*raw)
		snprintf(cur, sizeof(cur), "no value");
	else if (f->type == REC_T_STR)
		snprintf(cur, sizeof(cur), "'%s'", printable(raw, rq, sizeof(rq)));
	else
		snprintf(cur, sizeof(cur), "%s", printable(raw, rq, sizeof(rq)));
	/* As open-iscsi ("does not have value"): the line is skipped and an
	 * earlier value stays, so a later empty line never clears a secret.
	 * Said only when something stays: a template's "username = " over
	 * an empty default changes nothing and is not worth a warning. */
	if (!*value) {
		if (!*raw)
			return APPLY_OK;
		snprintf(err, errlen, "%s: no value; using %s", key, cur);
		return APPLY_FALLBACK;
	}
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = rec_set(t[i].kind, t[i].rec, key, value, REC_SET_CONFIG, why, sizeof(why));
	if (r == 0) {
		/* As open-iscsi, a string is the rest of the line, '#' and
		 * all; a comment after it is most likely not meant to be part
		 * of a user name or secret (never quoted here). */
		const char *h = strchr(value, '#');
		if (f->type == REC_T_STR && h && h > value && isspace((unsigned char)h[-1])) {
			snprintf(err, errlen,
				 "%s: the value includes the text after '#' (as in open-iscsi); put comments on a "
				 "line of their own", key);
			return APPLY_FALLBACK;
		}
		return APPLY_OK;
	}
	if (strict) {
		/* rec_set() never quotes a secret. */
		snprintf(err, errlen, "%s", why);
		return APPLY_ERROR;
	}
	/* "64 # tuned", "automatic # at boot": the first word, when it is
	 * a valid value on its own (open-iscsi's strtoul() takes 64). */
	if (f->type == REC_T_INT || f->type == REC_T_BOOL || f->type == REC_T_ENUM) {
		size_t w = 0;
		while (value[w] && !isspace((unsigned char)value[w]))
			w++;
		char word[64];
		if (value[w] && w < sizeof(word)) {
			memcpy(word, value, w);
			word[w] = '\0';
			const char *rest = value + w;
			while (isspace((unsigned char)*rest))
				rest++;
			char scratch[8];
			r = 0;
			for (size_t i = 0; i < n && r == 0; i++)
				r = rec_set(t[i].kind, t[i].rec, key, word, REC_SET_CONFIG, scratch, sizeof(scratch));
			if (r == 0) {
				snprintf(err, errlen, "%s: using %s, ignoring '%s' after it", key, word,
					 printable(rest, rq, sizeof(rq)));
				return APPLY_FALLBACK;
			}
		}
	}
	snprintf(err, errlen, "%s; using %s", why, cur);
	return APPLY_FALLBACK;
}

/* One "key = value" line; the reason for anything but APPLY_OK in err. */
static enum apply_result apply(struct iscsi_config *c, const char *key, const char *value, char *err,
			       size_t errlen)
{
	if (strcmp(key, "iscsid.startup") == 0)
		return apply_own_str(key, value, true, NULL, c->startup, sizeof(c->startup), err, errlen);
	if (strcmp(key, "iscsid.safe_logout") == 0)
		return apply_bool(key, value, &c->safe_logout, err, errlen);
	if (strcmp(key, "iscsid.ipc_auth_uid") == 0)
		return apply_bool(key, value, &c->ipc_auth_uid, err, errlen);
	if (strcmp(key, "iscsid.metrics_dir") == 0)
		/* an absolute path, or nothing (off) */
		return apply_own_str(key, value, !value[0] || value[0] == '/', "not an absolute path",
				     c->metrics_dir, sizeof(c->metrics_dir), err, errlen);
	if (strcmp(key, "iscsid.metrics_interval") == 0)
		return apply_uint(key, value, CONFIG_METRICS_INTERVAL_MIN, CONFIG_METRICS_INTERVAL_MAX,
				  &c->metrics_interval, err, errlen);
	if (strcmp(key, "iscsid.automatic_login_wait") == 0)
		return apply_uint(key, value, 0, CONFIG_AUTOMATIC_LOGIN_WAIT_MAX, &c->automatic_login_wait, err,
				  errlen);
	if (strcmp(key, "isns.address") == 0)
		/* as node.conn[0].address: a host name or a numeric address */
		return apply_own_str(key, value, !value[0] || rec_address_valid(value),
				     "not a host name or address", c->isns_address, sizeof(c->isns_address), err,
				     errlen);
	if (strcmp(key, "isns.iface") == 0)
		return apply_own_str(key, value,
				     !value[0] || (strlen(value) < sizeof(c->isns_iface) &&
						   rec_iface_name_valid(value)),
				     "not a valid iface name", c->isns_iface, sizeof(c->isns_iface), err, errlen);
	if (strcmp(key, "isns.port") == 0) {
		unsigned port = (unsigned)c->isns_port;
		enum apply_result r = apply_uint(key, value, 1, 65535, &port, err, errlen);
		c->isns_port = (int)port;
		return r;
	}
	for (size_t i = 0; accepted_unused[i]; i++) {
		if (strcmp(key, accepted_unused[i]) == 0) {
			snprintf(err, errlen, "%s is not used by this initiator; ignored", key);
			return APPLY_NOTE;
		}
	}

	/* node.session.auth.chap_algs sets both the node and the discovery
	 * default, as in open-iscsi (the discovery record stores it under
	 * the node key). */
	const struct apply_target all[] = {
		{ REC_KIND_NODE, &c->node },
		{ REC_KIND_DISCOVERY, &c->sendtargets },
		{ REC_KIND_DISCOVERY, &c->isns },
	};
	struct apply_target t[3];
	const struct rec_field *field = NULL;
	size_t n = 0;
	bool ident = false;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		size_t base;
		unsigned sflags;
		const struct rec_field *f = rec_schema_find(all[i].kind, key, &base, &sflags);
		if (!f || (f->flags & REC_F_HIDDEN))
			continue;
		/* Rows belong to one discovery type; the other struct skips. */
		if (all[i].rec == &c->sendtargets && (f->flags & REC_F_ISNS))
			continue;
		if (all[i].rec == &c->isns && (f->flags & REC_F_ST))
			continue;
		if ((f->flags & REC_F_IDENT) || (sflags & REC_S_NODE_IFACE)) {
			ident = true;
			continue;
		}
		if (!field)
			field = f;
		t[n++] = all[i];
	}
	if (n)
		return apply_rec(t, n, field, key, value, err, errlen);
	if (ident) {
		snprintf(err, errlen, "%s cannot have a default (it identifies a record); ignored", key);
		return APPLY_NOTE;
	}
	char shown[101];
	snprintf(err, errlen, "unknown key %s; ignored", printable(key, shown, sizeof(shown)));
	return APPLY_NOTE;
}

/* The first word of a line that is not "key = value" (up to a blank or
 * '='), cut in place: the key it was meant to set. */
static char *first_word(char *s)
{
	s += strspn(s, " \t");
	s[strcspn(s, " \t=")] = '\0';
	return s;
}

static bool key_is_strict(const char *key)
{
	const struct rec_field *f = rec_schema_find(REC_KIND_NODE, key, NULL, NULL);
	if (!f)
		f = rec_schema_find(REC_KIND_DISCOVERY, key, NULL, NULL);
	return key_strict(key, f);
}

/* A line longer than CONFIG_LINE_MAX: a comment is skipped; one whose
 * key is a CHAP key is an error (its value cannot be read, and a secret
 * is never cut short); any other is ignored, as in open-iscsi. */
static bool long_line(const char *buf, size_t start, size_t len, const char *name, unsigned lineno,
		      struct rec_diags *diags)
{
	char head[128], shown[101];
	char *key = NULL, *value;

	/* the key is what follows the indentation, however long that is */
	while (start < len && (buf[start] == ' ' || buf[start] == '\t'))
		start++;
	size_t l = len - start < sizeof(head) - 1 ? len - start : sizeof(head) - 1;
	memcpy(head, buf + start, l);
	head[l] = '\0';
	char *nl = strchr(head, '\n');
	if (nl)
		*nl = '\0';
	int r = rec_split_line(head, &key, &value);
	if (r == 0)
		return true;
	if (r < 0)
		key = first_word(head);   /* no '=' in the first bytes */
	if (key_is_strict(key)) {
		rec_diags_add(diags, REC_DIAG_ERROR, name, lineno, "%s: line longer than %d bytes",
			      printable(key, shown, sizeof(shown)), CONFIG_LINE_MAX);
		explicit_bzero(head, sizeof(head));
		return false;
	}
	rec_diags_add(diags, REC_DIAG_FALLBACK, name, lineno, "line longer than %d bytes (%s); ignored",
		      CONFIG_LINE_MAX, printable(key, shown, sizeof(shown)));
	explicit_bzero(head, sizeof(head));
	return true;
}

int config_parse(const char *buf, size_t len, const char *name, struct iscsi_config *ret,
		 struct rec_diags *diags)
{
	struct iscsi_config *c;
	char line[CONFIG_LINE_MAX + 1];
	char err[256];
	unsigned lineno = 0;
	bool bad = false;

	if (!ret || (!buf && len))
		return -EINVAL;
	if (len > CONFIG_FILE_MAX) {
		rec_diags_add(diags, REC_DIAG_ERROR, name, 0, "file larger than %d bytes", CONFIG_FILE_MAX);
		return -EINVAL;
	}
	if (len && memchr(buf, '\0', len)) {
		rec_diags_add(diags, REC_DIAG_ERROR, name, 0, "NUL byte in file");
		return -EINVAL;
	}
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	config_init(c);

	size_t off = 0, start = 0;
	int got;
	/* rec_next_line() reports nothing itself (NULL): long_line() decides. */
	while ((got = rec_next_line(buf, len, &off, line, sizeof(line), &lineno, name, NULL)) != 0) {
		if (got < 0) {
			if (!long_line(buf, start, len, name, lineno, diags))
				bad = true;
			start = off;
			continue;
		}
		start = off;

		char *key, *value;
		int r = rec_split_line(line, &key, &value);
		if (r == 0)
			continue;
		if (r < 0) {
			/* open-iscsi skips such a line with a warning; a CHAP
			 * key ("node.session.auth.authmethod CHAP") must not be
			 * skipped into no authentication */
			char shown[101];
			const char *k = first_word(line);
			if (key_is_strict(k)) {
				rec_diags_add(diags, REC_DIAG_ERROR, name, lineno, "%s: not a \"key = value\" line",
					      printable(k, shown, sizeof(shown)));
				bad = true;
			} else {
				rec_diags_add(diags, REC_DIAG_FALLBACK, name, lineno,
					      "not a \"key = value\" line; ignored");
			}
			continue;
		}
		switch (apply(c, key, value, err, sizeof(err))) {
		case APPLY_OK:
			break;
		case APPLY_NOTE:
			rec_diags_add(diags, REC_DIAG_WARNING, name, lineno, "%s", err);
			break;
		case APPLY_FALLBACK:
			rec_diags_add(diags, REC_DIAG_FALLBACK, name, lineno, "%s", err);
			break;
		case APPLY_ERROR:
			rec_diags_add(diags, REC_DIAG_ERROR, name, lineno, "%s", err);
			bad = true;
			break;
		}
	}
	explicit_bzero(line, sizeof(line));
	if (!bad)
		memcpy(ret, c, sizeof(*c));
	explicit_bzero(c, sizeof(*c));
	free(c);
	return bad ? -EINVAL : 0;
}

int config_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	size_t cap = (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t len = 0;
	for (;;) {
		if (len == cap) {
			/* The file grew while we read it: never past max + 1. */
			if (cap > max)
				break;
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			/* the text may hold CHAP secrets */
			char *n = secmem_grow(buf, len, cap + 1, ncap + 1);
			if (!n) {
				secmem_free(buf, len);
				close(fd);
				return -ENOMEM;
			}
			buf = n;
			cap = ncap;
		}
		size_t n = 0, want = cap - len;
		int r = fs_read_full(fd, buf + len, want, &n);
		len += n;
		if (r < 0) {
			explicit_bzero(buf, len);
			free(buf);
			close(fd);
			return r;
		}
		if (n < want)
			break;          /* end of file */
	}
	close(fd);
	if (len > max) {
		explicit_bzero(buf, len);
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int config_load(const char *path, struct iscsi_config *ret, struct rec_diags *diags)
{
	char *buf;
	size_t len;

	if (!path || !ret)
		return -EINVAL;
	int r = config_read_file(path, CONFIG_FILE_MAX, &buf, &len);
	if (r == -ENOENT) {
		config_init(ret);
		return -ENOENT;
	}
	if (r == -EFBIG) {
		rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "file larger than %d bytes", CONFIG_FILE_MAX);
		return -EINVAL;
	}
	if (r < 0)
		return r;
	r = config_parse(buf, len, path, ret, diags);
	explicit_bzero(buf, len);
	free(buf);
	return r;
}
