/* Sessions of the userspace transport in listings (sessions.h). sysfs
 * has none of them: what runs is the uspace run directory (one live
 * process per entry, uspace_list), what each is its process says
 * (status, on its control socket) or, when it does not answer in time,
 * its record there; iscsid's view adds the ones only it knows (another
 * run directory). Root only, as the run directory and iscsid's socket
 * are. */
#include "sessions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "errors.h"
#include "uspace_ctl.h"

#define STATUS_TIMEOUT_MS 2000     /* a process busy with a rescan answers later */

/* Bounded copy (sysfs fields are shorter than the record's and the
 * status's; a value that does not fit is cut). */
__attribute__((noinline)) static void put(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);
	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Everything sysfs would say, unset. */
static void view_init(struct sess_view *v, uint32_t sid)
{
	memset(v, 0, sizeof(*v));
	v->uspace = true;
	put(v->transport, sizeof(v->transport), "uspace");
	struct sysfs_session *s = &v->s;
	s->sid = sid;
	s->host_no = SYSFS_UNSET;
	s->tpgt = -1;
	s->recovery_tmo = s->target_id = s->initial_r2t = s->immediate_data = SYSFS_UNSET;
	s->first_burst_len = s->max_burst_len = s->max_outstanding_r2t = SYSFS_UNSET;
	s->data_pdu_in_order = s->data_seq_in_order = s->erl = s->fast_abort = SYSFS_UNSET;
	s->abort_tmo = s->lu_reset_tmo = s->tgt_reset_tmo = SYSFS_UNSET;
	s->creator = 0;                 /* made by iscsid, not firmware */
	s->password = s->password_in = SYSFS_SECRET_UNSET;
	struct sysfs_conn *c = &v->c;
	c->sid = sid;
	c->port = c->persistent_port = SYSFS_UNSET;
	c->max_recv_dlength = c->max_xmit_dlength = c->header_digest = c->data_digest = SYSFS_UNSET;
	c->local_port = c->ping_tmo = c->recv_tmo = SYSFS_UNSET;
}

/* "address:port" or "[v6]:port". */
static int split_portal(const char *p, char *addr, size_t alen, int *port)
{
	const char *colon;
	size_t n;
	if (*p == '[') {
		const char *end = strchr(p, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		n = (size_t)(end - p - 1);
		p++;
		colon = end + 1;
	} else {
		colon = strrchr(p, ':');
		if (!colon)
			return -EINVAL;
		n = (size_t)(colon - p);
	}
	char *e;
	long v = strtol(colon + 1, &e, 10);
	if (n == 0 || n >= alen || *e || v < 1 || v > 65535)
		return -EINVAL;
	memcpy(addr, p, n);
	addr[n] = '\0';
	*port = (int)v;
	return 0;
}

/* The kernel's words for the session state, as scripts compare them:
 * a session whose connection is being replaced is FAILED there. */
static const char *session_state_word(const char *st)
{
	if (!strcmp(st, "RECOVERY") || !strcmp(st, "FAILED"))
		return "FAILED";
	return st;
}

static const char *conn_state_word(const char *st)
{
	if (!strcmp(st, "LOGGED_IN"))
		return "LOGGED IN";
	if (!strcmp(st, "RECOVERY") || !strcmp(st, "FAILED"))
		return "TRANSPORT WAIT";
	if (!strcmp(st, "LOGOUT"))
		return "IN LOGOUT";
	if (!strcmp(st, "LOGIN"))
		return "IN LOGIN";
	return "";
}

static int yes_no(const char *v)
{
	return !strcmp(v, "Yes") ? 1 : !strcmp(v, "No") ? 0 : SYSFS_UNSET;
}

static int number(const char *v)
{
	char *e;
	long n = strtol(v, &e, 10);
	return *v && !*e && n >= 0 && n <= 0x7fffffff ? (int)n : SYSFS_UNSET;
}

/* "Key=Value" as the target answered at login: for these keys its answer
 * is the negotiated value (RFC 7143 §13); its MaxRecvDataSegmentLength
 * is what we may send. */
static void apply_param(struct sess_view *v, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq)
		return;
	size_t kl = (size_t)(eq - kv);
	const char *val = eq + 1;
#define KEY(k) (kl == sizeof(k) - 1 && !strncmp(kv, k, kl))
	if (KEY("HeaderDigest"))
		v->c.header_digest = !strcmp(val, "CRC32C") ? 1 : !strcmp(val, "None") ? 0 : SYSFS_UNSET;
	else if (KEY("DataDigest"))
		v->c.data_digest = !strcmp(val, "CRC32C") ? 1 : !strcmp(val, "None") ? 0 : SYSFS_UNSET;
	else if (KEY("MaxRecvDataSegmentLength"))
		v->c.max_xmit_dlength = number(val);
	else if (KEY("FirstBurstLength"))
		v->s.first_burst_len = number(val);
	else if (KEY("MaxBurstLength"))
		v->s.max_burst_len = number(val);
	else if (KEY("ImmediateData"))
		v->s.immediate_data = yes_no(val);
	else if (KEY("InitialR2T"))
		v->s.initial_r2t = yes_no(val);
	else if (KEY("MaxOutstandingR2T"))
		v->s.max_outstanding_r2t = number(val);
	else if (KEY("ErrorRecoveryLevel"))
		v->s.erl = number(val);
#undef KEY
}

static void from_status(struct sess_view *v, struct uspace_status *st, int level)
{
	struct sysfs_session *s = &v->s;
	put(s->targetname, sizeof(s->targetname), st->target);
	s->tpgt = st->tpgt;
	put(v->uspace_state, sizeof(v->uspace_state), st->state);
	put(s->state_str, sizeof(s->state_str), session_state_word(st->state));
	put(v->conn_state, sizeof(v->conn_state), conn_state_word(st->state));
	put(s->initiatorname, sizeof(s->initiatorname), st->initiator);
	put(s->ifacename, sizeof(s->ifacename), st->iface);
	v->have_conn = split_portal(st->portal, v->c.address, sizeof(v->c.address), &v->c.port) == 0;
	if (split_portal(st->persistent_portal, v->c.persistent_address, sizeof(v->c.persistent_address),
			 &v->c.persistent_port) < 0)
		v->c.persistent_address[0] = '\0';
	put(v->c.state, sizeof(v->c.state), !strcmp(st->state, "LOGGED_IN") ? "up" : "failed");
	for (size_t i = 0; i < st->nparams; i++)
		apply_param(v, st->params[i]);
	if (level >= 3) {
		v->ulun = st->luns;
		v->n_ulun = st->nluns;
		st->luns = NULL;
		st->nluns = 0;
	}
}

/* What the record the process was started with adds (-P 2: the
 * recovery timeout, CHAP user names), and all there is of a process that
 * did not answer. */
static void from_record(struct adm *a, const char *rundir, struct sess_view *v, bool answered)
{
	char *text = NULL;
	size_t len = 0;
	struct rec_diags d;
	struct node_rec *rec = malloc(sizeof(*rec));

	if (!rec || uspace_read_record(rundir, (int)v->s.sid, &text, &len) < 0) {
		free(rec);
		return;
	}
	node_rec_init(rec);
	rec_diags_init(&d);
	int r = rec_parse(REC_KIND_NODE, rec, text, len, NULL, &d);
	rec_diags_free(&d);
	free(text);
	if (r < 0) {
		adm_dbg(a, 1, "uspace session %u: unreadable record", v->s.sid);
		free(rec);
		return;
	}
	struct sysfs_session *s = &v->s;
	s->recovery_tmo = rec->session.replacement_timeout;
	put(s->username, sizeof(s->username), rec->session.auth.username);
	put(s->username_in, sizeof(s->username_in), rec->session.auth.username_in);
	s->auth_readable = true;
	/* the record keeps no secret, but CHAP runs only with one */
	s->password = rec->session.auth.username[0] ? SYSFS_SECRET_SET : SYSFS_SECRET_UNSET;
	s->password_in = rec->session.auth.username_in[0] ? SYSFS_SECRET_SET : SYSFS_SECRET_UNSET;
	if (!answered) {
		put(s->targetname, sizeof(s->targetname), rec->name);
		s->tpgt = rec->tpgt;
		put(s->ifacename, sizeof(s->ifacename), rec->iface.name[0] ? rec->iface.name : "uspace");
		put(s->initiatorname, sizeof(s->initiatorname), rec->iface.iname);
		put(v->c.persistent_address, sizeof(v->c.persistent_address), rec->conn.address);
		v->c.persistent_port = rec->conn.port;
		put(v->c.address, sizeof(v->c.address), rec->conn.address);
		v->c.port = rec->conn.port;
		v->have_conn = true;
	}
	free(rec);
}

static void from_iscsid(struct sess_view *v, const struct ctl_state *st)
{
	put(v->s.targetname, sizeof(v->s.targetname), st->target);
	v->s.tpgt = st->tpgt;
	put(v->s.ifacename, sizeof(v->s.ifacename), st->iface);
	if (split_portal(st->portal, v->c.address, sizeof(v->c.address), &v->c.port) == 0) {
		put(v->c.persistent_address, sizeof(v->c.persistent_address), v->c.address);
		v->c.persistent_port = v->c.port;
		v->have_conn = true;
	}
}

/* The view of run-directory entry sid: 0, or -ENOENT when its process
 * is gone. */
static int load_entry(struct adm *a, const char *rundir, uint32_t sid, int level, struct sess_view *v)
{
	struct uspace_reply rep;
	struct uspace_status st;
	bool answered = false;

	view_init(v, sid);
	int r = uspace_call(rundir, (int)sid, "status", NULL, STATUS_TIMEOUT_MS, &rep);
	if (r == -ENOENT || r == -ECONNREFUSED)
		return -ENOENT;
	if (r == 0) {
		if (rep.code == 0 && uspace_status_parse(rep.body, &st) == 0) {
			from_status(v, &st, level);
			uspace_status_free(&st);
			answered = true;
		}
		uspace_reply_free(&rep);
	} else {
		adm_dbg(a, 1, "uspace session %u: no status (%s)", sid, strerror(-r));
	}
	if (!answered || level >= 2)
		from_record(a, rundir, v, answered);
	return v->s.targetname[0] ? 0 : -ENOENT;
}

int sessions_uspace_rundir(struct adm *a, char *buf, size_t len)
{
	return uspace_rundir_for_root(a->paths.root, buf, len);
}

static bool have_sid(const struct sess_view *v, size_t n, uint32_t sid)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].s.sid == sid)
			return true;
	return false;
}

static int grow(struct sess_view **v, size_t n, size_t *cap)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 8;
	struct sess_view *nv = realloc(*v, nc * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
}

int sessions_uspace_add(struct adm *a, int level, const struct ctl_state *st, size_t nst, struct sess_view **v,
			size_t *n)
{
	char rundir[PATH_MAX];
	struct uspace_entry *e = NULL;
	size_t ne = 0, cap = *n;

	if (sessions_uspace_rundir(a, rundir, sizeof(rundir)) < 0)
		return 0;
	if (uspace_list(rundir, &e, &ne) < 0)
		ne = 0;
	for (size_t i = 0; i < ne; i++) {
		if (!e[i].alive || have_sid(*v, *n, (uint32_t)e[i].sid))
			continue;
		if (grow(v, *n, &cap) < 0) {
			free(e);
			return -ENOMEM;
		}
		if (load_entry(a, rundir, (uint32_t)e[i].sid, level, &(*v)[*n]) == 0)
			(*n)++;
		else
			free((*v)[*n].ulun);
	}
	free(e);
	/* what iscsid carries that is neither in sysfs nor here */
	for (size_t i = 0; i < nst; i++) {
		if (!st[i].transport[0] || !strcmp(st[i].transport, "tcp") || have_sid(*v, *n, st[i].sid))
			continue;
		if (grow(v, *n, &cap) < 0)
			return -ENOMEM;
		view_init(&(*v)[*n], st[i].sid);
		snprintf((*v)[*n].transport, sizeof((*v)[*n].transport), "%s", st[i].transport);
		from_iscsid(&(*v)[*n], &st[i]);
		(*n)++;
	}
	return 0;
}

int sessions_uspace_one(struct adm *a, uint32_t sid, int level, const struct ctl_state *st, size_t nst,
			struct sess_view *ret)
{
	char rundir[PATH_MAX];
	if (sessions_uspace_rundir(a, rundir, sizeof(rundir)) == 0 && load_entry(a, rundir, sid, level, ret) == 0)
		return 0;
	free(ret->ulun);
	ret->ulun = NULL;
	for (size_t i = 0; i < nst; i++)
		if (st[i].sid == sid && st[i].transport[0] && strcmp(st[i].transport, "tcp")) {
			view_init(ret, sid);
			put(ret->transport, sizeof(ret->transport), st[i].transport);
			from_iscsid(ret, &st[i]);
			return 0;
		}
	return -ENOENT;
}
