/* Session operations on node records: login (-l, -L), logout (-u, -U),
 * rescan (-R), statistics (-s). Logins and logouts run in iscsid. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm.h"
#include "ctl.h"
#include "errors.h"
#include "node_login.h"
#include "node_recs.h"
#include "sessions.h"

void node_session_what(const struct sess_view *v, char *buf, size_t len)
{
	const char *addr = v->have_conn && v->c.persistent_address[0] ? v->c.persistent_address : v->c.address;
	int port = v->have_conn && v->c.persistent_address[0] ? v->c.persistent_port : v->c.port;

	snprintf(buf, len, "[sid: %" PRIu32 ", target: %s, portal: %s,%d]", v->s.sid, v->s.targetname,
		 v->have_conn ? addr : "", v->have_conn ? port : 0);
}

int node_logout_sessions(struct adm *a, const struct sess_view *v, size_t n)
{
	char what[600];
	int first = 0;
	struct ctl_logout *lo = calloc(n ? n : 1, sizeof(*lo));

	if (!lo) {
		adm_err("out of memory");
		return ISCSI_ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		node_session_what(&v[i], what, sizeof(what));
		adm_info(a, "Logging out of session %s", what);
		lo[i].sid = v[i].s.sid;
	}
	fflush(stdout);
	/* all at once, as open-iscsi sends them: iscsid runs them in parallel */
	ctl_logout_many(a, lo, n);
	for (size_t i = 0; i < n; i++) {
		int r = lo[i].status;
		node_session_what(&v[i], what, sizeof(what));
		if (r == 0) {
			adm_info(a, "Logout of %s successful.", what);
			continue;
		}
		/* Listed here, then ended before iscsid got to it (a restarted
		 * iscsid destroys what a logout it did not finish left): what
		 * was asked for is done. */
		if (r == ISCSI_ERR_SESS_NOT_FOUND) {
			struct sess_view now;
			int lr = sessions_load_one(a, lo[i].sid, 0, false, &now);

			sessions_view_clear(&now);
			if (lr == ISCSI_ERR_SESS_NOT_FOUND) {
				adm_info(a, "Logout of %s: the session had ended meanwhile.", what);
				continue;
			}
		}
		adm_err("Could not logout of %s.", what);
		adm_err("initiator reported error (%d - %s)", r, iscsi_err_str(r));
		if (lo[i].message[0] && strcmp(lo[i].message, iscsi_err_str(r)))
			adm_err("%s", lo[i].message);
		if (!first)
			first = r;
	}
	free(lo);
	return first;
}

/* Several records can stand for one node: "192.0.2.1,3260,1" from a
 * discovery next to "192.0.2.1,3260" (tpgt -1) from an older "-o new", or
 * records of two tags for one portal. They share the target, portal and
 * iface, and so one session: log in once. */
static bool same_node(const struct node_rec *x, const struct node_rec *y)
{
	const char *ix = x->iface.name[0] ? x->iface.name : "default";
	const char *iy = y->iface.name[0] ? y->iface.name : "default";

	return !strcmp(x->name, y->name) && x->conn.port == y->conn.port &&
	       sessions_addr_equal(x->conn.address, y->conn.address) && !strcmp(ix, iy);
}

/* Which of two records of one node to log in with: the one with the tag
 * -p named, else one with a tag the target reported (>= 0) over one
 * without, else the first. */
static bool better_rec(const struct node_rec *cand, const struct node_rec *cur, int want_tpgt)
{
	if (want_tpgt >= 0 && (cand->tpgt == want_tpgt) != (cur->tpgt == want_tpgt))
		return cand->tpgt == want_tpgt;
	return cand->tpgt >= 0 && cur->tpgt < 0;
}

/* Keeps one record per node in recs (in place, order kept); returns how
 * many remain. */
static size_t one_per_node(const struct node_rec **recs, size_t n, int want_tpgt)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j;
		for (j = 0; j < k; j++)
			if (same_node(recs[i], recs[j]))
				break;
		if (j == k)
			recs[k++] = recs[i];
		else if (better_rec(recs[i], recs[j], want_tpgt))
			recs[j] = recs[i];
	}
	return k;
}

int node_login_recs(struct adm *a, struct nodedb *db, const struct node_rec *const *in, size_t n_in)
{
	const struct node_rec **recs = calloc(n_in ? n_in : 1, sizeof(*recs));
	struct node_rec *copy = calloc(n_in ? n_in : 1, sizeof(*copy));
	const struct node_rec **todo = calloc(n_in ? n_in : 1, sizeof(*todo));
	struct sess_view *sv = NULL;
	size_t nsv = 0, k = 0;
	int first = 0;

	if (!recs || !copy || !todo) {
		free(recs);
		free(copy);
		free(todo);
		adm_err("out of memory");
		return ISCSI_ERR_NOMEM;
	}
	memcpy(recs, in, n_in * sizeof(*recs));
	size_t n = one_per_node(recs, n_in, a->portal_arg ? a->portal.tpgt : -1);
	/* A sysfs that cannot be read just means no sessions to skip. */
	if (sessions_load(a, 0, false, &sv, &nsv)) {
		sv = NULL;
		nsv = 0;
	}
	for (size_t i = 0; i < n; i++) {
		copy[i] = *recs[i];
		/* The iface file is the truth for the binding: a record keeps
		 * a copy from the day it was written. */
		struct iface_rec ir;
		if (db && copy[i].iface.name[0] && !iface_is_builtin(copy[i].iface.name) &&
		    nodedb_iface_load(db, copy[i].iface.name, &ir, NULL) == 0)
			copy[i].iface = ir;
		/* iscsid carries tcp (the kernel) and uspace (libiscsi): a
		 * record through an iser or offload iface must not log in
		 * over tcp instead. */
		if (copy[i].iface.transport_name[0] && strcmp(copy[i].iface.transport_name, "tcp") != 0 &&
		    strcmp(copy[i].iface.transport_name, "uspace") != 0) {
			char what[700];
			ctl_node_what(&copy[i], what, sizeof(what));
			adm_info(a, "Logging in to %s", what);
			fflush(stdout);
			adm_err("Could not login to %s.", what);
			adm_err("initiator reported error (%d - %s)", ISCSI_ERR_TRANS_NOT_FOUND,
				iscsi_err_str(ISCSI_ERR_TRANS_NOT_FOUND));
			adm_err("iface %s uses transport %s; this initiator carries tcp and uspace only",
				copy[i].iface.name[0] ? copy[i].iface.name : "default", copy[i].iface.transport_name);
			if (!first || first == ISCSI_ERR_SESS_EXISTS)
				first = ISCSI_ERR_TRANS_NOT_FOUND;
			continue;
		}
		if (sessions_match_rec(sv, nsv, &copy[i])) {
			adm_err("%s: 1 session requested, but 1 already present.",
				copy[i].iface.name[0] ? copy[i].iface.name : "default");
			if (!first)
				first = ISCSI_ERR_SESS_EXISTS;
			continue;
		}
		todo[k++] = &copy[i];
	}
	sessions_free(sv, nsv);
	if (k) {
		int r = ctl_login_recs(a, todo, k);
		/* The first failure wins; "already logged in" only when it
		 * is the only trouble. */
		if (r && (!first || first == ISCSI_ERR_SESS_EXISTS))
			first = r;
	}
	for (size_t i = 0; i < n; i++)
		explicit_bzero(&copy[i].session.auth, sizeof(copy[i].session.auth));
	free(copy);
	free(todo);
	free(recs);
	return first;
}

void node_login_summary(int r)
{
	/* open-iscsi's closing line after any login of -l/-L that did not
	 * happen (also "already present"); not after one that goes on in
	 * the background (29, ours) */
	if (r && r != ISCSI_ERR_AGAIN)
		adm_err("Could not log into all portals");
}

static bool startup_matches(const struct node_rec *r, const char *mode)
{
	if (!strcmp(mode, "all"))
		return true;
	enum rec_startup want = !strcmp(mode, "manual")      ? REC_STARTUP_MANUAL
				: !strcmp(mode, "automatic") ? REC_STARTUP_AUTOMATIC
							     : REC_STARTUP_ONBOOT;
	return r->startup == want || r->conn.startup == want;
}

static bool session_matches_filter(const struct sess_view *v, const struct node_filter *f)
{
	const char *addr = v->have_conn && v->c.persistent_address[0] ? v->c.persistent_address : v->c.address;
	int port = v->have_conn && v->c.persistent_address[0] ? v->c.persistent_port : v->c.port;
	const char *iface = v->s.ifacename[0] ? v->s.ifacename : "default";

	if (f->target && strcmp(f->target, v->s.targetname))
		return false;
	if (f->address && (!v->have_conn || !sessions_addr_equal(f->address, addr)))
		return false;
	if (f->port != NODEDB_ANY && port != f->port)
		return false;
	if (f->tpgt != NODEDB_ANY && v->s.tpgt != f->tpgt)
		return false;
	return !f->iface || !strcmp(f->iface, iface);
}

static int do_login(struct adm *a, struct nodedb *db, const struct node_filter *f, const char *mode)
{
	struct node_list l = { 0 };
	int r = node_find(a, db, f, &l);

	if (r)
		return r;
	size_t k = 0;
	const struct node_rec **p = node_ptrs(&l);
	if (!p) {
		node_list_free(&l);
		return ISCSI_ERR_NOMEM;
	}
	for (size_t i = 0; i < l.n; i++)
		if (!mode || startup_matches(&l.v[i].rec, mode))
			p[k++] = &l.v[i].rec;
	if (k == 0) {
		adm_err("No records found");
		r = ISCSI_ERR_NO_OBJS_FOUND;
	} else {
		/* The boot login is bounded (iscsid.automatic_login_wait):
		 * what is not logged in by then iscsid keeps trying in the
		 * background, and we exit 29 (unless something failed for
		 * good), which iscsi-login.service counts as success. */
		if (mode && !strcmp(mode, "automatic") && !a->no_wait && adm_config(a) == 0 &&
		    a->config.automatic_login_wait > 0)
			a->login_deadline_ms = ctl_now_ms() + (uint64_t)a->config.automatic_login_wait * 1000u;
		r = node_login_recs(a, db, p, k);
		node_login_summary(r);
	}
	free(p);
	node_list_free(&l);
	return r;
}

/* The sessions of f; for -U only those whose record's startup matches
 * (and never "onboot" records: the root disk may be one). */
static int select_sessions(struct adm *a, struct nodedb *db, const struct node_filter *f, const char *mode,
			   struct sess_view **ret, size_t *ret_n, size_t *ret_k)
{
	struct sess_view *v = NULL;
	size_t n = 0, k = 0;
	struct node_list l = { 0 };
	int r = sessions_load(a, 0, false, &v, &n);

	if (r)
		return r;
	if (mode) {
		r = node_find(a, db, f, &l);
		if (r) {
			sessions_free(v, n);
			return r;
		}
	}
	for (size_t i = 0; i < n; i++) {
		bool keep = session_matches_filter(&v[i], f);
		if (keep && mode) {
			keep = false;
			for (size_t j = 0; j < l.n; j++)
				if (session_matches_rec(&v[i], &l.v[j].rec) && l.v[j].rec.startup != REC_STARTUP_ONBOOT &&
				    startup_matches(&l.v[j].rec, mode))
					keep = true;
		}
		if (keep) {
			struct sess_view tmp = v[k];
			v[k] = v[i];
			v[i] = tmp;
			k++;
		}
	}
	node_list_free(&l);
	*ret = v;
	*ret_n = n;
	*ret_k = k;
	return 0;
}

int node_session_ops(struct adm *a, struct nodedb *db, const struct node_filter *f)
{
	if (a->loginall && strcmp(a->loginall, "all") && strcmp(a->loginall, "manual") &&
	    strcmp(a->loginall, "automatic") && strcmp(a->loginall, "onboot")) {
		adm_err("Invalid loginall option %s.", a->loginall);
		fputs("Try `iscsiadm --help' for more information.\n", stderr);
		return ISCSI_ERR_INVAL;
	}
	if (a->logoutall && strcmp(a->logoutall, "all") && strcmp(a->logoutall, "manual") &&
	    strcmp(a->logoutall, "automatic")) {
		adm_err("Invalid logoutall option %s.", a->logoutall);
		fputs("Try `iscsiadm --help' for more information.\n", stderr);
		return ISCSI_ERR_INVAL;
	}
	if (a->login && a->logout) {
		adm_err("--login and --logout cannot be used together");
		return ISCSI_ERR_INVAL;
	}
	if (a->loginall || a->login)
		return do_login(a, db, f, a->loginall);

	struct sess_view *v = NULL;
	size_t n = 0, k = 0;
	/* The selected sessions end up at the front of v. */
	int r = select_sessions(a, db, f, a->logoutall, &v, &n, &k);
	if (r)
		return r;
	if (k == 0) {
		adm_err("No matching sessions found");
		r = ISCSI_ERR_NO_OBJS_FOUND;
	} else if (a->logout || a->logoutall) {
		r = node_logout_sessions(a, v, k);
	} else if (a->rescan) {
		char what[600], msg[IPC_MESSAGE_MAX + 1];
		r = 0;
		for (size_t i = 0; i < k; i++) {
			node_session_what(&v[i], what, sizeof(what));
			adm_info(a, "Rescanning session %s", what);
			int e = ctl_rescan(a, &v[i].s.sid, msg, sizeof(msg));
			if (e) {
				adm_err("Could not rescan session %s: %s", what, msg[0] ? msg : iscsi_err_str(e));
				if (!r)
					r = e;
			}
		}
	} else {
		char what[600];
		r = 0;
		for (size_t i = 0; i < k; i++) {
			node_session_what(&v[i], what, sizeof(what));
			int e = ctl_print_stats(a, v[i].s.sid, what);
			if (e && !r)
				r = e;
		}
	}
	sessions_free(v, n);
	return r;
}
