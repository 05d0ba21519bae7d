/* Setting, getting and printing record keys through the schema rows
 * (record_schema.c). Parsing whole files lives in record_parse.c. */
#include "record_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errbuf.h"
#include "names.h"
#include "secmem.h"
#include "params.h"

/* A value quoted in a message: printable ASCII only, at most 48 bytes, so
 * a hostile file cannot inject terminal escapes into our output. */
static const char *quote(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; s[i] && o + 4 < len; i++) {
		if (i >= 48) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		unsigned char c = (unsigned char)s[i];
		buf[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	buf[o] = '\0';
	return buf;
}

/* ---------- defaults ---------- */

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void iface_rec_init(struct iface_rec *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	if (name)
		copy_str(r->name, sizeof(r->name), name);
	copy_str(r->transport_name, sizeof(r->transport_name), "tcp");
}

static bool iface_value_set(const char *v)
{
	return v[0] && strcmp(v, "default") != 0;
}

int iface_rec_check(const struct iface_rec *r, char *err, size_t errlen)
{
	if (iface_value_set(r->netdev) && iface_value_set(r->hwaddress)) {
		errbuf_set(err, errlen,
			   "iface %s is bound both by iface.hwaddress (%s) and by iface.net_ifacename (%s): "
			   "name the network interface one way only (clear the other with -v '<empty>')",
			   r->name, r->hwaddress, r->netdev);
		return -EINVAL;
	}
	return 0;
}

/* open-iscsi's two, and "uspace": sessions in userspace (libiscsi,
 * iscsi-uspace) on hosts without iscsi_tcp. */
const char *const iface_builtin_names[] = { "default", "iser", "uspace", NULL };

bool iface_is_builtin(const char *name)
{
	for (size_t i = 0; name && iface_builtin_names[i]; i++)
		if (strcmp(name, iface_builtin_names[i]) == 0)
			return true;
	return false;
}

int iface_rec_builtin(const char *name, struct iface_rec *ret)
{
	if (!iface_is_builtin(name))
		return -ENOENT;
	iface_rec_init(ret, name);
	if (strcmp(name, "default") != 0)
		copy_str(ret->transport_name, sizeof(ret->transport_name), name);
	return 0;
}

/* The enums name the same four preference lists with the same numbers. */
_Static_assert((int)REC_DIGEST_NONE == (int)ISCSI_DIGEST_NONE &&
	       (int)REC_DIGEST_CRC32C == (int)ISCSI_DIGEST_CRC32C &&
	       (int)REC_DIGEST_CRC32C_NONE == (int)ISCSI_DIGEST_CRC32C_NONE &&
	       (int)REC_DIGEST_NONE_CRC32C == (int)ISCSI_DIGEST_NONE_CRC32C,
	       "rec_digest and iscsi_digest differ");

void node_rec_init(struct node_rec *r)
{
	/* The negotiated iSCSI keys (node.session.iscsi.*, node.conn[0].iscsi.*)
	 * come from params_init_wishes(), the one place open-iscsi's
	 * operational defaults are written down. */
	struct iscsi_params w;

	params_init_wishes(&w);
	memset(r, 0, sizeof(*r));
	r->tpgt = -1;
	r->startup = REC_STARTUP_MANUAL;
	r->leading_login = false;
	iface_rec_init(&r->iface, "default");
	r->disc_port = 0;
	r->disc_type = REC_DISC_STATIC;

	struct node_session *s = &r->session;
	s->initial_cmdsn = 0;
	s->initial_login_retry_max = 4;
	/* 0 as upstream has it since 2.1.9 (2.1.8 used -20; the setting has
	 * no effect on current kernels either way). */
	s->xmit_thread_priority = 0;
	s->cmds_max = 128;
	s->queue_depth = 32;
	s->nr_sessions = 1;
	s->auth.authmethod = REC_AUTH_NONE;
	copy_str(s->auth.chap_algs, sizeof(s->auth.chap_algs), "MD5");
	s->replacement_timeout = 120;
	s->abort_timeout = 15;
	s->lu_reset_timeout = 30;
	s->tgt_reset_timeout = 30;
	s->host_reset_timeout = 60;
	s->fast_abort = true;
	s->initial_r2t = w.initial_r2t;
	s->immediate_data = w.immediate_data;
	s->first_burst_length = (int)w.first_burst_length;
	s->max_burst_length = (int)w.max_burst_length;
	s->default_time2retain = (int)w.default_time2retain;
	s->default_time2wait = (int)w.default_time2wait;
	s->max_connections = (int)w.max_connections;
	s->max_outstanding_r2t = (int)w.max_outstanding_r2t;
	s->erl = (int)w.error_recovery_level;
	s->scan = REC_SCAN_AUTO;
	s->reopen_max = 0;

	struct node_conn *c = &r->conn;
	c->port = PORTAL_DEFAULT_PORT;
	c->startup = REC_STARTUP_MANUAL;
	c->tcp_window_size = 524288;
	c->tcp_type_of_service = 0;
	c->logout_timeout = 15;
	c->login_timeout = 30;
	c->auth_timeout = 45;
	c->noop_out_interval = 5;
	c->noop_out_timeout = 5;
	c->max_xmit_dlength = (int)w.max_xmit_dsl;
	c->max_recv_dlength = (int)w.max_recv_dsl;
	c->header_digest = (enum rec_digest)w.header_digest;
	c->data_digest = (enum rec_digest)w.data_digest;
	c->ifmarker = false;
	c->ofmarker = false;
}

void discovery_rec_init(struct discovery_rec *r, enum rec_disc_type type)
{
	memset(r, 0, sizeof(*r));
	r->startup = REC_STARTUP_MANUAL;
	r->type = type;
	if (type == REC_DISC_ISNS) {
		r->port = 3205;                 /* iSNS well-known port */
		r->use_discoveryd = false;
		r->discoveryd_poll_inval = -1;
		return;
	}
	r->port = PORTAL_DEFAULT_PORT;
	r->auth.authmethod = REC_AUTH_NONE;
	copy_str(r->auth.chap_algs, sizeof(r->auth.chap_algs), "MD5");
	r->login_timeout = 15;
	r->use_discoveryd = false;
	r->discoveryd_poll_inval = 30;
	r->reopen_max = 5;
	r->auth_timeout = 45;
	r->active_timeout = 30;
	r->max_recv_dlength = 32768;
}

/* ---------- value checks ---------- */

bool rec_iface_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > REC_IFACE_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!isalnum((unsigned char)c) && c != '_' && c != '.' && c != ':' && c != '-')
			return false;
	}
	return true;
}

bool rec_address_valid(const char *addr)
{
	char buf[REC_HOST_SIZE + 2];
	struct portal p;

	if (!addr || !*addr || strlen(addr) >= REC_HOST_SIZE)
		return false;
	/* portal_parse() reads ',' as a tpgt and ':' as a port; a stored
	 * address has neither (IPv6 goes in brackets for the check). */
	if (strpbrk(addr, ",/[] \t"))
		return false;
	if (strchr(addr, ':'))
		snprintf(buf, sizeof(buf), "[%s]", addr);
	else
		snprintf(buf, sizeof(buf), "%s", addr);
	return portal_parse(buf, &p, NULL, 0) == 0;
}

static bool text_ok(const char *s)
{
	size_t len = strlen(s);

	/* Leading/trailing blanks would not survive a save and reload. */
	if (len && (isspace((unsigned char)s[0]) || isspace((unsigned char)s[len - 1])))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

static bool token_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Linux's dev_valid_name(): no '/', ':', blanks; not "." or "..". */
static bool netdev_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= REC_NETDEV_SIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || (unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static bool ipaddr_ok(const char *s)
{
	unsigned char bin[16];
	char tmp[REC_IPADDR_SIZE];
	const char *pct = strchr(s, '%');

	if (inet_pton(AF_INET, s, bin) == 1)
		return true;
	if (strlen(s) >= sizeof(tmp))
		return false;
	copy_str(tmp, sizeof(tmp), s);
	if (pct) {
		tmp[pct - s] = '\0';
		if (!pct[1] || !token_ok(pct + 1) || strchr(pct + 1, '/'))
			return false;
	}
	return inet_pton(AF_INET6, tmp, bin) == 1;
}

static bool hwaddr_ok(const char *s)
{
	if (strlen(s) != 17)
		return false;
	char sep = s[2];
	if (sep != ':' && sep != '-')
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != sep)
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* The transports open-iscsi knows (its iface.transport_name values). A
 * record file may name any of them; -o update and iscsid.conf only these,
 * so a typo does not leave an iface no session can use. */
static const char *const known_transports[] = { "tcp", "iser", "qla4xxx", "cxgb3i", "cxgb4i", "bnx2i",
						"be2iscsi", "qedi", "ocs", "uspace", NULL };

static bool transport_known(const char *s)
{
	for (size_t i = 0; known_transports[i]; i++)
		if (strcmp(s, known_transports[i]) == 0)
			return true;
	return false;
}

static bool transport_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= REC_TRANSPORT_SIZE)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* "SHA256, md5" -> "SHA256,MD5": known names (case-insensitive), no
 * repeats, at most four. open-iscsi ignores unknown names with a warning;
 * we refuse them so a typo cannot silently weaken the offer. */
static int chap_algs_canon(const char *s, char *out, size_t cap, char *err, size_t errlen)
{
	static const char *const names[] = { "MD5", "SHA1", "SHA256", "SHA3-256" };
	bool seen[4] = { false, false, false, false };
	char res[REC_CHAP_ALGS_SIZE] = "";
	size_t o = 0;
	const char *p = s;

	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *a = p;
		while (len && isspace((unsigned char)*a)) {
			a++;
			len--;
		}
		while (len && isspace((unsigned char)a[len - 1]))
			len--;
		size_t k;
		for (k = 0; k < 4; k++)
			if (strlen(names[k]) == len && strncasecmp(a, names[k], len) == 0)
				break;
		if (k == 4) {
			errbuf_set(err, errlen, "unknown CHAP algorithm (expected MD5, SHA1, SHA256, SHA3-256)");
			return -EINVAL;
		}
		if (seen[k]) {
			errbuf_set(err, errlen, "CHAP algorithm %s listed twice", names[k]);
			return -EINVAL;
		}
		seen[k] = true;
		o += (size_t)snprintf(res + o, sizeof(res) - o, "%s%s", o ? "," : "", names[k]);
		if (!e)
			break;
		p = e + 1;
		if (!*p) {
			errbuf_set(err, errlen, "empty item in CHAP algorithm list");
			return -EINVAL;
		}
	}
	if (o == 0) {
		errbuf_set(err, errlen, "empty CHAP algorithm list");
		return -EINVAL;
	}
	if (o >= cap)
		return -ENAMETOOLONG;
	memcpy(out, res, o + 1);
	return 0;
}

/* Strict decimal int: optional sign, digits, nothing else. */
static int parse_int(const char *s, long long *ret)
{
	const char *p = s;
	bool neg = false;
	long long v = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		v = v * 10 + (*p - '0');
		if (v > (long long)INT_MAX + 1)
			return -ERANGE;
	}
	v = neg ? -v : v;
	if (v < INT_MIN || v > INT_MAX)
		return -ERANGE;
	*ret = v;
	return 0;
}

/* ---------- set / get ---------- */

static int set_str(const struct rec_field *f, char *dst, const char *value, char *err, size_t errlen)
{
	char q[64];
	char canon[REC_CHAP_ALGS_SIZE];
	bool secret = f->flags & REC_F_SECRET;

	if (strcmp(value, "<empty>") == 0)
		value = "";
	if (strlen(value) >= f->size) {
		errbuf_set(err, errlen, "%s: value too long (at most %zu bytes)", f->key, f->size - 1);
		return -ENAMETOOLONG;
	}
	if (*value) {
		bool ok = true;
		char why[128] = "";
		switch (f->check) {
		case REC_C_TEXT:
			ok = text_ok(value);
			break;
		case REC_C_TOKEN:
			ok = token_ok(value);
			break;
		case REC_C_NAME:
			ok = name_validate(value, why, sizeof(why)) == 0;
			break;
		case REC_C_HOST:
			ok = rec_address_valid(value);
			break;
		case REC_C_IFACE_NAME:
			ok = rec_iface_name_valid(value);
			break;
		case REC_C_NETDEV:
			ok = netdev_ok(value);
			break;
		case REC_C_IPADDR:
			ok = ipaddr_ok(value);
			break;
		case REC_C_HWADDR:
			ok = hwaddr_ok(value);
			break;
		case REC_C_TRANSPORT:
			ok = transport_ok(value);
			break;
		case REC_C_CHAP_ALGS: {
			int r = chap_algs_canon(value, canon, sizeof(canon), why, sizeof(why));
			if (r == -ENAMETOOLONG) {
				errbuf_set(err, errlen, "%s: value too long", f->key);
				return r;
			}
			ok = r == 0;
			value = canon;
			break;
		}
		}
		if (!ok) {
			if (secret || !*why)
				errbuf_set(err, errlen, "%s: invalid value%s%s%s", f->key, secret ? "" : " '",
					secret ? "" : quote(value, q, sizeof(q)), secret ? "" : "'");
			else
				errbuf_set(err, errlen, "%s: invalid value '%s': %s", f->key, quote(value, q, sizeof(q)),
					why);
			return -EINVAL;
		}
	}
	copy_str(dst, f->size, value);
	return 0;
}

static void list_words(const char *const *w, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; w[i] && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", w[i]);
}

int rec_set(enum rec_kind kind, void *rec, const char *key, const char *value, enum rec_set_mode mode, char *err,
	    size_t errlen)
{
	size_t base = 0;
	unsigned sflags = 0;
	char q[64], words[160];
	const struct rec_field *f = rec_schema_find(kind, key, &base, &sflags);

	if (!rec || !key || !value)
		return -EINVAL;
	if (!f || (mode != REC_SET_LOAD && (f->flags & REC_F_HIDDEN))) {
		errbuf_set(err, errlen, "unknown parameter %s", quote(key, q, sizeof(q)));
		return -ENOENT;
	}
	if (mode != REC_SET_LOAD) {
		if ((sflags & REC_S_NODE_IFACE) && !(f->flags & REC_F_NODE_RW)) {
			errbuf_set(err, errlen, "%s: iface settings are changed in iface mode (-m iface)", f->key);
			return -EPERM;
		}
		if (f->flags & REC_F_IDENT) {
			errbuf_set(err, errlen, "%s identifies the record and cannot be changed", f->key);
			return -EPERM;
		}
	}
	void *dst = (char *)rec + base + f->offset;

	if (f->check == REC_C_TRANSPORT && mode != REC_SET_LOAD && *value && strcmp(value, "<empty>") != 0 &&
	    !transport_known(value)) {
		list_words(known_transports, words, sizeof(words));
		errbuf_set(err, errlen, "%s: unknown transport '%s' (expected %s)", f->key,
			   quote(value, q, sizeof(q)), words);
		return -EINVAL;
	}
	switch (f->type) {
	case REC_T_IGNORE:
		return 0;
	case REC_T_STR:
		return set_str(f, dst, value, err, errlen);
	case REC_T_INT: {
		long long v;
		int r = parse_int(value, &v);
		if (r == -EINVAL) {
			errbuf_set(err, errlen, "%s: '%s' is not a number", f->key, quote(value, q, sizeof(q)));
			return r;
		}
		if (r == 0 && mode != REC_SET_LOAD) {
			bool in = v >= f->min && v <= f->max;
			if ((f->flags & REC_F_ZERO_OK) && v == 0)
				in = true;
			if (!in)
				r = -ERANGE;
			else if ((f->flags & REC_F_POW2) && (v & (v - 1)))
				r = -ERANGE;
		}
		if (r < 0) {
			errbuf_set(err, errlen, "%s: %s out of range (%s%d..%d%s)", f->key, quote(value, q, sizeof(q)),
				(f->flags & REC_F_ZERO_OK) ? "0 or " : "", f->min, f->max,
				(f->flags & REC_F_POW2) ? ", a power of two" : "");
			return -ERANGE;
		}
		*(int *)dst = (int)v;
		return 0;
	}
	case REC_T_BOOL:
		if (strcasecmp(value, "Yes") == 0) {
			*(bool *)dst = true;
			return 0;
		}
		if (strcasecmp(value, "No") == 0) {
			*(bool *)dst = false;
			return 0;
		}
		errbuf_set(err, errlen, "%s: unknown value '%s' (expected Yes or No)", f->key,
			quote(value, q, sizeof(q)));
		return -EINVAL;
	case REC_T_ENUM:
		for (int i = 0; f->words[i]; i++) {
			if (strcasecmp(value, f->words[i]) == 0) {
				*(int *)dst = i;
				return 0;
			}
		}
		list_words(f->words, words, sizeof(words));
		errbuf_set(err, errlen, "%s: unknown value '%s' (expected %s)", f->key, quote(value, q, sizeof(q)),
			words);
		return -EINVAL;
	}
	return -EINVAL;
}

/* The printed text of a row. Strings come back as a pointer into the
 * record; numbers are formatted into num. */
static const char *field_text(const void *rec, const struct rec_field *f, size_t base, unsigned flags,
			      char *num, size_t numlen)
{
	const void *src = (const char *)rec + base + f->offset;

	switch (f->type) {
	case REC_T_STR: {
		const char *s = src;
		if (*s && (f->flags & REC_F_SECRET) && !(flags & (REC_FMT_SECRETS | REC_FMT_DISK)))
			return "********";
		return s;
	}
	case REC_T_INT:
		snprintf(num, numlen, "%d", *(const int *)src);
		return num;
	case REC_T_BOOL:
		return *(const bool *)src ? "Yes" : "No";
	case REC_T_ENUM: {
		int v = *(const int *)src;
		for (int i = 0; f->words[i]; i++)
			if (i == v)
				return f->words[i];
		return "";
	}
	case REC_T_IGNORE:
		break;
	}
	return "";
}

int rec_get(enum rec_kind kind, const void *rec, const char *key, bool show_secrets, char *buf, size_t len)
{
	size_t base = 0;
	char num[16];
	const struct rec_field *f = rec_schema_find(kind, key, &base, NULL);

	if (!rec || !buf || len == 0)
		return -EINVAL;
	if (!f || (f->flags & REC_F_HIDDEN))
		return -ENOENT;
	const char *t = field_text(rec, f, base, show_secrets ? REC_FMT_SECRETS : 0, num, sizeof(num));
	if (strlen(t) >= len)
		return -ENOBUFS;
	memcpy(buf, t, strlen(t) + 1);
	return 0;
}

bool rec_key_known(enum rec_kind kind, const char *key)
{
	return rec_schema_find(kind, key, NULL, NULL) != NULL;
}

bool rec_key_secret(enum rec_kind kind, const char *key)
{
	const struct rec_field *f = rec_schema_find(kind, key, NULL, NULL);
	return f && (f->flags & REC_F_SECRET);
}

int rec_foreach(enum rec_kind kind, const void *rec, unsigned flags, rec_visit_fn cb, void *userdata)
{
	const struct rec_schema *s = rec_schema_get(kind);
	char num[16];

	if (!s || !rec || !cb)
		return -EINVAL;
	for (size_t i = 0; i < s->n; i++) {
		const struct rec_section *sec = &s->sections[i];
		for (size_t j = 0; j < sec->n; j++) {
			const struct rec_field *f = &sec->fields[j];
			if (!rec_field_visible(kind, rec, f, sec->base))
				continue;
			const char *t = field_text(rec, f, sec->base, flags, num, sizeof(num));
			if ((flags & REC_FMT_DISK) && !*t)
				continue;
			int r = cb(f->key, t, userdata);
			if (r)
				return r;
		}
	}
	if (flags & REC_FMT_DISK) {
		const struct rec_extras *x = (const void *)((const char *)rec + s->extras_offset);
		for (unsigned i = 0; i < x->n && i < REC_EXTRA_MAX; i++) {
			int r = cb(x->kv[i].key, x->kv[i].value, userdata);
			if (r)
				return r;
		}
	}
	return 0;
}

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool oom;
};

static void sb_add(struct strbuf *sb, const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	size_t need = sb->len + la + lb + lc + 1;

	if (sb->oom)
		return;
	if (need > sb->cap) {
		size_t ncap = sb->cap ? sb->cap : 4096;
		while (ncap < need)
			ncap *= 2;
		/* the text may hold secrets (REC_FMT_DISK) */
		char *n = secmem_grow(sb->buf, sb->buf ? sb->len + 1 : 0, sb->cap, ncap);
		if (!n) {
			sb->oom = true;
			return;
		}
		sb->buf = n;
		sb->cap = ncap;
	}
	memcpy(sb->buf + sb->len, a, la);
	memcpy(sb->buf + sb->len + la, b, lb);
	memcpy(sb->buf + sb->len + la + lb, c, lc);
	sb->len += la + lb + lc;
	sb->buf[sb->len] = '\0';
}

struct fmt_ctx {
	struct strbuf sb;
	unsigned flags;
};

static int fmt_one(const char *key, const char *value, void *ud)
{
	struct fmt_ctx *c = ud;

	sb_add(&c->sb, key, " = ", "");
	sb_add(&c->sb, *value ? value : "<empty>", "\n", "");
	return 0;
}

int rec_format(enum rec_kind kind, const void *rec, unsigned flags, char **ret_buf, size_t *ret_len)
{
	struct fmt_ctx c = { .flags = flags };

	if (!rec || !ret_buf || !rec_schema_get(kind))
		return -EINVAL;
	sb_add(&c.sb, REC_BEGIN " " REC_VERSION "\n", "", "");
	int r = rec_foreach(kind, rec, flags, fmt_one, &c);
	sb_add(&c.sb, REC_END "\n", "", "");
	if (r == 0 && c.sb.oom)
		r = -ENOMEM;
	if (r < 0) {
		if (c.sb.buf)
			explicit_bzero(c.sb.buf, c.sb.cap);
		free(c.sb.buf);
		return r;
	}
	*ret_buf = c.sb.buf;
	if (ret_len)
		*ret_len = c.sb.len;
	return 0;
}

int rec_fprint(enum rec_kind kind, const void *rec, unsigned flags, FILE *f)
{
	char *buf;
	size_t len;
	int r = rec_format(kind, rec, flags, &buf, &len);

	if (r < 0)
		return r;
	if (fwrite(buf, 1, len, f) != len)
		r = -EIO;
	/* The text may hold secrets: do not leave them in freed memory. */
	explicit_bzero(buf, len);
	free(buf);
	return r;
}

int node_rec_from_template(const struct node_rec *tmpl, const char *target, const char *address, int port,
			   int tpgt, const struct iface_rec *iface, struct node_rec *ret, char *err, size_t errlen)
{
	struct iface_rec def;
	char why[128];

	if (!tmpl || !ret)
		return -EINVAL;
	if (!target || name_validate(target, why, sizeof(why)) < 0) {
		errbuf_set(err, errlen, "invalid target name: %s", target ? why : "missing");
		return -EINVAL;
	}
	if (!rec_address_valid(address)) {
		errbuf_set(err, errlen, "invalid portal address");
		return -EINVAL;
	}
	if (port < 1 || port > 65535) {
		errbuf_set(err, errlen, "invalid port %d (1-65535)", port);
		return -EINVAL;
	}
	if (tpgt < -1 || tpgt > 65535) {
		errbuf_set(err, errlen, "invalid portal group tag %d (0-65535)", tpgt);
		return -EINVAL;
	}
	if (!iface) {
		iface_rec_builtin("default", &def);
		iface = &def;
	}
	if (!rec_iface_name_valid(iface->name)) {
		errbuf_set(err, errlen, "invalid iface name");
		return -EINVAL;
	}
	memcpy(ret, tmpl, sizeof(*ret));
	copy_str(ret->name, sizeof(ret->name), target);
	ret->tpgt = tpgt;
	copy_str(ret->conn.address, sizeof(ret->conn.address), address);
	ret->conn.port = port;
	ret->iface = *iface;
	memset(&ret->iface.extras, 0, sizeof(ret->iface.extras));
	return 0;
}
