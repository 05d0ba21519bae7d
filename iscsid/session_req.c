/* Requests through the session layer (session.h): each goes to the
 * carrier of its session, after the checks that do not depend on the
 * carrier. Answers the layer decides itself go out from a zero timer, so
 * that no done is ever called from inside a request. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "session.h"

/* ---- answers decided by the layer ---- */

struct sl_answer {
	transport_done_fn done;
	void *data;
	struct transport_result res;
	struct sl_answer *next;
};

int session_answer_later(struct session_layer *l, transport_done_fn done, void *data, int code, const char *fmt,
			 ...)
{
	va_list ap;
	struct sl_answer *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->done = done;
	a->data = data;
	a->res.status = code;
	va_start(ap, fmt);
	vsnprintf(a->res.message, sizeof(a->res.message), fmt, ap);
	va_end(ap);
	if (l->ans_tail)
		l->ans_tail->next = a;
	else
		l->ans_head = a;
	l->ans_tail = a;
	if (!loop_timer_armed(&l->kick) && loop_timer_arm(l->loop, &l->kick, 0) < 0)
		log_warnx("cannot arm a timer: answers delayed");
	return 0;
}

void session_answers_flush(struct session_layer *l)
{
	struct sl_answer *a;
	/* done() may start new requests: their answers queue behind */
	while ((a = l->ans_head)) {
		l->ans_head = a->next;
		if (!l->ans_head)
			l->ans_tail = NULL;
		a->done(a->data, &a->res);
		free(a);
	}
}

/* ---- LOGIN ---- */

/* A login from the request to its answer: first the carrier's probe,
 * then the table entry and the carrier's login. */
struct login_wait {
	struct session_layer *l;
	struct carrier *c;
	struct transport_login req;     /* req.rec stays the caller's until done */
	transport_done_fn done;
	void *data;
	struct session *s;              /* the entry; NULL before it exists and after it ended */
};

void session_login_forget(struct session *s)
{
	if (s->login) {
		s->login->s = NULL;
		s->login = NULL;
	}
}

/* The same node twice: open-iscsi's 15, in its words. */
static int dup_answer(struct login_wait *w, const struct session *dup)
{
	const struct node_rec *rec = w->req.rec;
	const char *iface = rec->iface.name[0] ? rec->iface.name : "default";
	char what[600];
	snprintf(what, sizeof(what), "[iface: %s, target: %s, portal: %s,%d]", iface, rec->name, rec->conn.address,
		 rec->conn.port);
	if (session_listed(dup))
		return session_answer_later(w->l, w->done, w->data, ISCSI_ERR_SESS_EXISTS,
					    "session already exists for %s", what);
	if (dup->sid)
		return session_answer_later(w->l, w->done, w->data, ISCSI_ERR_SESS_EXISTS,
					    "a login to %s is in progress (sid %" PRIu32 ")", what, dup->sid);
	return session_answer_later(w->l, w->done, w->data, ISCSI_ERR_SESS_EXISTS,
				    "a login to %s is in progress", what);
}

static void login_answered(void *data, const struct transport_result *res)
{
	struct login_wait *w = data;
	struct session *s = w->s;
	if (s) {
		s->login = NULL;
		if (res->status != 0) {
			/* a failed login is over: the carrier let go of s */
			session_drop(s);
		} else if (s->state == SESSION_LOGIN) {
			if (!s->sid && res->sid)
				(void)session_set_sid(s, res->sid, res->host_no);
			(void)session_state_set(s, SESSION_LOGGED_IN, SESSION_CONN_LOGGED_IN);
		}
	}
	w->done(w->data, res);
	free(w);
}

/* Answers w now (we are in a done of the carrier, not in a request). */
static void login_fail(struct login_wait *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void login_fail(struct login_wait *w, int code, const char *fmt, ...)
{
	struct transport_result res;
	va_list ap;
	memset(&res, 0, sizeof(res));
	res.status = code;
	va_start(ap, fmt);
	vsnprintf(res.message, sizeof(res.message), fmt, ap);
	va_end(ap);
	w->done(w->data, &res);
	free(w);
}

static void login_probed(void *data, const struct transport_result *res)
{
	struct login_wait *w = data;
	struct session_layer *l = w->l;
	struct carrier *c = w->c;

	if (res->status != 0) {
		w->done(w->data, res);
		free(w);
		return;
	}
	if (l->stopping) {
		login_fail(w, ISCSI_ERR_INTERNAL, "iscsid is stopping");
		return;
	}
	/* another login to the node may have started meanwhile */
	struct session *dup = session_find_node(l, w->req.rec);
	if (dup) {
		if (dup_answer(w, dup) < 0)
			login_fail(w, ISCSI_ERR_NOMEM, "iscsid is out of memory");
		else
			free(w);
		return;
	}
	if (l->n >= SESSION_MAX) {
		login_fail(w, ISCSI_ERR_NOMEM, "too many sessions (at most %d)", SESSION_MAX);
		return;
	}
	struct session *s = session_open(l, c, w->req.rec, SESSION_LOGIN, SESSION_CONN_TRANSPORT_WAIT);
	if (!s) {
		login_fail(w, ISCSI_ERR_NOMEM, "iscsid is out of memory");
		return;
	}
	if (c->ops->sid_min) {
		uint32_t sid = session_sid_alloc(l, c);
		if (!sid || session_set_sid(s, sid, 0) < 0) {
			session_drop(s);
			login_fail(w, ISCSI_ERR_NOMEM, "no free session id for transport '%s'", c->ops->name);
			return;
		}
	}
	w->s = s;
	s->login = w;
	session_call_begin(s);
	int r = c->ops->login(c, s, &w->req, login_answered, w);
	bool alive = session_call_end(s);
	if (r < 0) {
		if (alive)
			session_drop(s);
		login_fail(w, ISCSI_ERR_INTERNAL, "cannot start the login: %s", strerror(-r));
	}
}

int session_login(struct session_layer *l, const struct transport_login *req, transport_done_fn done, void *data)
{
	if (!req || !req->rec || !done)
		return -EINVAL;
	const char *tname = req->rec->iface.transport_name;
	struct carrier *c = session_carrier(l, tname);
	if (!c)
		return session_answer_later(l, done, data, ISCSI_ERR_TRANS_NOT_FOUND,
					    "iSCSI transport '%s' not available: iscsid has no carrier for it", tname);
	struct login_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->l = l;
	w->c = c;
	w->req = *req;
	w->done = done;
	w->data = data;
	struct session *dup = session_find_node(l, req->rec);
	if (dup) {
		int r = dup_answer(w, dup);
		free(w);
		return r;
	}
	/* the entry is opened once the carrier can take it: a login to a
	 * transport that is missing is 12, whatever else runs */
	int r = c->ops->probe(c, login_probed, w);
	if (r < 0)
		free(w);
	return r;
}

/* ---- LOGOUT ---- */

struct logout_wait {
	struct session_layer *l;
	uint32_t sid;
	transport_done_fn done;
	void *data;
};

static void logout_answered(void *data, const struct transport_result *res)
{
	struct logout_wait *w = data;
	struct session *s = session_lookup(w->l, w->sid);
	if (s)
		s->logout_pending = false;
	w->done(w->data, res);
	free(w);
}

int session_logout(struct session_layer *l, uint32_t sid, transport_done_fn done, void *data)
{
	struct session *s = session_lookup(l, sid);
	if (!done)
		return -EINVAL;
	if (!s)
		return session_answer_later(l, done, data, ISCSI_ERR_SESS_NOT_FOUND, "no session with sid %" PRIu32,
					    sid);
	if (s->state == SESSION_LOGIN)
		return session_answer_later(l, done, data, ISCSI_ERR_AGAIN,
					    "session %" PRIu32 " is still logging in", sid);
	if (s->state == SESSION_LOGOUT || s->logout_pending)
		return session_answer_later(l, done, data, ISCSI_ERR_AGAIN,
					    "a logout of session %" PRIu32 " is in progress", sid);
	struct logout_wait *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->l = l;
	w->sid = sid;
	w->done = done;
	w->data = data;
	struct carrier *c = s->carrier;
	s->logout_pending = true;
	session_call_begin(s);
	int r = c->ops->logout(c, s, logout_answered, w);
	if (session_call_end(s) && r < 0)
		s->logout_pending = false;
	if (r < 0)
		free(w);
	return r;
}

/* ---- RESCAN, SESSION_STATS ---- */

int session_rescan(struct session_layer *l, uint32_t sid, transport_done_fn done, void *data)
{
	struct session *s = session_lookup(l, sid);
	if (!done)
		return -EINVAL;
	if (!s)
		return session_answer_later(l, done, data, ISCSI_ERR_SESS_NOT_FOUND, "no session with sid %" PRIu32,
					    sid);
	if (s->state != SESSION_LOGGED_IN)
		return session_answer_later(l, done, data, ISCSI_ERR_SESSION_NOT_CONNECTED,
					    "session %" PRIu32 " is not logged in (%s, %s): only logged-in sessions "
					    "are scanned",
					    sid, session_state_text(s), session_conn_text(s));
	session_call_begin(s);
	int r = s->carrier->ops->rescan(s->carrier, s, done, data);
	(void)session_call_end(s);
	return r;
}

int session_stats(struct session_layer *l, uint32_t sid, transport_done_fn done, void *data)
{
	struct session *s = session_lookup(l, sid);
	if (!done)
		return -EINVAL;
	if (!s)
		return session_answer_later(l, done, data, ISCSI_ERR_SESS_NOT_FOUND, "no session with sid %" PRIu32,
					    sid);
	if (!s->carrier->ops->stats)
		return session_answer_later(l, done, data, ISCSI_ERR_OP_NOT_SUPP,
					    "iSCSI transport '%s' keeps no statistics", s->carrier->ops->name);
	session_call_begin(s);
	int r = s->carrier->ops->stats(s->carrier, s, done, data);
	(void)session_call_end(s);
	return r;
}
