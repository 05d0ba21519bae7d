/* What a kernel session keeps of its node record (ksession.h: struct
 * ks_params). Hundreds of sessions each held a whole struct node_rec
 * (~12 KB of offload settings, unknown keys and fixed-size strings);
 * they keep the few values their logins use: the strings packed into the
 * ksession's own buffer (strbuf) when they fit, else into one
 * allocation, and the CHAP credentials into another allocation that is
 * wiped before it is freed. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ksession.h"

static const struct ks_auth no_auth = {
	.username = "", .password = "", .username_in = "", .password_in = "", .chap_algs = "",
};

/* Packs n (at most 16) strings behind head bytes: into into (into_cap
 * bytes) when they fit, else into an allocation. src[i] is a field of
 * cap[i] bytes (NULL is ""): at most cap[i] - 1 bytes of it are taken,
 * so that each string still fits its field. *ret points to the memory
 * used (its size in *ret_size), *out[i] into it. -ENOMEM, -EINVAL. */
static int pack(const char *const *src, const size_t *cap, const char ***out, size_t n, size_t head,
		char *into, size_t into_cap, void **ret, size_t *ret_size)
{
	size_t len[16], total = head;
	if (n > sizeof(len) / sizeof(len[0]))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		len[i] = src[i] && cap[i] ? strnlen(src[i], cap[i] - 1) : 0;
		total += len[i] + 1;
	}
	char *buf = into && total <= into_cap ? into : malloc(total);
	if (!buf)
		return -ENOMEM;
	char *q = buf + head;
	for (size_t i = 0; i < n; i++) {
		if (len[i])
			memcpy(q, src[i], len[i]);
		q[len[i]] = '\0';
		*out[i] = q;
		q += len[i] + 1;
	}
	*ret = buf;
	*ret_size = total;
	return 0;
}

static int auth_set(struct ks_params *p, const struct rec_auth *a)
{
	if (!a->username[0] && !a->password[0] && !a->username_in[0] && !a->password_in[0] && !a->chap_algs[0])
		return 0;
	const char *src[] = { a->username, a->password, a->username_in, a->password_in, a->chap_algs };
	const size_t cap[] = { sizeof(a->username), sizeof(a->password), sizeof(a->username_in),
			       sizeof(a->password_in), sizeof(a->chap_algs) };
	struct ks_auth tmp;
	const char **out[] = { &tmp.username, &tmp.password, &tmp.username_in, &tmp.password_in, &tmp.chap_algs };
	void *buf;
	size_t size;
	/* the pointers into buf are collected in tmp, the head of buf */
	if (pack(src, cap, out, 5, offsetof(struct ks_auth, buf), NULL, 0, &buf, &size) < 0)
		return -ENOMEM;
	struct ks_auth *au = buf;
	au->size = size;
	au->username = tmp.username;
	au->password = tmp.password;
	au->username_in = tmp.username_in;
	au->password_in = tmp.password_in;
	au->chap_algs = tmp.chap_algs;
	p->auth = au;
	return 0;
}

int ks_params_set(struct ks_params *p, const struct node_rec *rec, const char *iname, const char *ialias,
		  char *into, size_t into_cap)
{
	memset(p, 0, sizeof(*p));
	const char *src[] = { rec->name,           rec->conn.address,     rec->iface.name, rec->iface.netdev,
			      rec->iface.hwaddress, rec->iface.ipaddress, iname,           ialias };
	const size_t cap[] = { sizeof(rec->name),           sizeof(rec->conn.address),
			       sizeof(rec->iface.name),     sizeof(rec->iface.netdev),
			       sizeof(rec->iface.hwaddress), sizeof(rec->iface.ipaddress),
			       REC_NAME_SIZE,               256 };
	const char **out[] = { &p->target,    &p->address,   &p->iface_name, &p->netdev,
			       &p->hwaddress, &p->ipaddress, &p->iname,      &p->ialias };
	void *buf;
	size_t size;
	if (pack(src, cap, out, sizeof(src) / sizeof(src[0]), 0, into, into_cap, &buf, &size) < 0)
		return -ENOMEM;
	p->strs = buf;
	p->strs_owned = buf != into;
	if (auth_set(p, &rec->session.auth) < 0) {
		if (p->strs_owned)
			free(p->strs);
		memset(p, 0, sizeof(*p));
		return -ENOMEM;
	}
	p->tpgt = rec->tpgt;
	p->port = rec->conn.port;
	p->login_timeout = rec->conn.login_timeout;
	p->logout_timeout = rec->conn.logout_timeout;
	p->tcp_window_size = rec->conn.tcp_window_size;
	p->noop_out_interval = rec->conn.noop_out_interval;
	p->noop_out_timeout = rec->conn.noop_out_timeout;
	p->max_xmit_dlength = rec->conn.max_xmit_dlength;
	p->max_recv_dlength = rec->conn.max_recv_dlength;
	p->header_digest = rec->conn.header_digest;
	p->data_digest = rec->conn.data_digest;
	p->initial_cmdsn = rec->session.initial_cmdsn;
	p->cmds_max = rec->session.cmds_max;
	p->queue_depth = rec->session.queue_depth;
	p->replacement_timeout = rec->session.replacement_timeout;
	p->abort_timeout = rec->session.abort_timeout;
	p->lu_reset_timeout = rec->session.lu_reset_timeout;
	p->tgt_reset_timeout = rec->session.tgt_reset_timeout;
	p->fast_abort = rec->session.fast_abort;
	p->initial_r2t = rec->session.initial_r2t;
	p->immediate_data = rec->session.immediate_data;
	p->first_burst_length = rec->session.first_burst_length;
	p->max_burst_length = rec->session.max_burst_length;
	p->default_time2wait = rec->session.default_time2wait;
	p->default_time2retain = rec->session.default_time2retain;
	p->max_outstanding_r2t = rec->session.max_outstanding_r2t;
	p->scan = rec->session.scan;
	return 0;
}

void ks_params_clear(struct ks_params *p)
{
	if (p->auth) {
		explicit_bzero(p->auth, p->auth->size);
		free(p->auth);
	}
	if (p->strs_owned)
		free(p->strs);
	memset(p, 0, sizeof(*p));
}

const struct ks_auth *ks_params_auth(const struct ks_params *p)
{
	return p->auth ? p->auth : &no_auth;
}
