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
 * then the table entry and the carrier's login. A background login
 * (transport.h) may be answered before it ends: it then keeps its own
 * copy of the record and lives on until the carrier's done. */
struct login_wait {
	struct session_layer *l;
	struct carrier *c;
	struct transport_login req;     /* req.rec stays the caller's until done (or is own) */
	transport_done_fn done;
	void *data;
	struct session *s;              /* the entry; NULL before it exists and after it ended */
	struct node_rec *own;           /* background: the layer's copy of the record */
	struct loop_timer bg_timer;
	bool answered;                  /* background: the request has its answer */
	uint64_t answered_ms;
};

void session_login_forget(struct session *s)
{
	if (s->login) {
		s->login->s = NULL;
		s->login = NULL;
	}
}

static void login_what(const struct login_wait *w, char *buf, size_t len)
{
	const struct node_rec *rec = w->req.rec;
	snprintf(buf, len, "[iface: %s, target: %s, portal: %s,%d]", rec->iface.name[0] ? rec->iface.name : "default",
		 rec->name, rec->conn.address, rec->conn.port);
}

static void login_wait_free(struct login_wait *w)
{
	struct session_layer *l = w->l;
	loop_timer_disarm(l->loop, &w->bg_timer);
	if (w->own) {
		explicit_bzero(w->own, sizeof(*w->own));
		free(w->own);
	}
	bool counted = !w->answered;
	free(w);
	if (counted)
		session_request_end(l);
}

/* The login is over: answers the request, or, when it was answered
 * already, says in the log how the background login ended. */
static void login_finish(struct login_wait *w, const struct transport_result *res)
{
	if (!w->answered) {
		w->done(w->data, res);
	} else {
		char what[600];
		login_what(w, what, sizeof(what));
		uint64_t secs = (loop_now_ms() - w->answered_ms) / 1000u;
		if (res->status == 0)
			log_info("login to %s successful (sid %" PRIu32 "), %" PRIu64
				 " s after it went to the background",
				 what, res->sid, secs);
		else
			log_warnx("background login to %s ended after %" PRIu64 " s: %s", what, secs,
				  res->message[0] ? res->message : iscsi_err_str(res->status));
	}
	login_wait_free(w);
}

/* The same node twice: open-iscsi's 15, in its words. */
static int dup_answer(struct login_wait *w, const struct session *dup)
{
	char what[600];
	login_what(w, what, sizeof(what));
	if (session_listed(dup))
		return session_answer_later(w->l, w->done, w->data, ISCSI_ERR_SESS_EXISTS,
					    "session already exists for %s", what);
	if (dup->retry.background)
		return session_answer_later(w->l, w->done, w->data, ISCSI_ERR_SESS_EXISTS,
					    "a login to %s is in progress in the background", what);
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
		s->retry.background = s->retry.unbounded = false;
		if (res->status != 0) {
			/* a failed login is over: the carrier let go of s */
			session_drop(s);
		} else if (s->state == SESSION_LOGIN) {
			if (!s->sid && res->sid)
				(void)session_set_sid(s, res->sid, res->host_no);
			(void)session_state_set(s, SESSION_LOGGED_IN, SESSION_CONN_LOGGED_IN);
		}
	}
	login_finish(w, res);
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
	login_finish(w, &res);
}

/* background_ms passed and the login goes on: the request gets its
 * answer (29, "retry may succeed"), the session keeps trying. */
static void login_to_background(struct loop *lp, void *data)
{
	struct login_wait *w = data;
	struct transport_result res;
	char what[600];
	(void)lp;

	login_what(w, what, sizeof(what));
	memset(&res, 0, sizeof(res));
	res.status = ISCSI_ERR_AGAIN;
	char why[300] = "";
	if (w->s && w->s->retry.last_fail_msg && w->s->retry.last_fail_msg[0])
		snprintf(why, sizeof(why), " (%.290s)", w->s->retry.last_fail_msg);
	snprintf(res.message, sizeof(res.message),
		 "not logged in after %" PRIu32 " s%s; iscsid keeps trying in the background",
		 w->req.background_ms / 1000u, why);
	log_warnx("login to %s: %s", what, res.message);
	if (w->s)
		w->s->retry.background = true;
	w->answered = true;
	w->answered_ms = loop_now_ms();
	w->done(w->data, &res);
	/* from now on the record is ours and nobody waits: no longer part
	 * of a burst (a target that stays away must not stop the trim) */
	w->done = NULL;
	w->data = NULL;
	session_request_end(w->l);
}

static void login_probed(void *data, const struct transport_result *res)
{
	struct login_wait *w = data;
	struct session_layer *l = w->l;
	struct carrier *c = w->c;

	if (res->status != 0) {
		login_finish(w, res);
		return;
	}
	if (l->stopping) {
		login_fail(w, ISCSI_ERR_INTERNAL, "iscsid is stopping");
		return;
	}
	/* another login to the node may have started meanwhile */
	struct session *dup = session_find_node(l, w->req.rec);
	if (dup) {
		if (w->answered) {
			login_fail(w, ISCSI_ERR_SESS_EXISTS, "another login to the node is under way");
			return;
		}
		loop_timer_disarm(l->loop, &w->bg_timer);
		if (dup_answer(w, dup) < 0)
			login_fail(w, ISCSI_ERR_NOMEM, "iscsid is out of memory");
		else
			login_wait_free(w);
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
	s->retry.unbounded = w->req.background;
	s->retry.background = w->answered;
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
	loop_timer_init(&w->bg_timer, login_to_background, w);
	struct session *dup = session_find_node(l, req->rec);
	if (dup) {
		int r = dup_answer(w, dup);
		free(w);
		return r;
	}
	session_request_begin(l);       /* ended by login_wait_free() */
	if (req->background) {
		/* the caller's record goes with the answer; the login may
		 * outlive it */
		w->own = malloc(sizeof(*w->own));
		if (!w->own) {
			login_wait_free(w);
			return -ENOMEM;
		}
		memcpy(w->own, req->rec, sizeof(*w->own));
		w->req.rec = w->own;
		if (loop_timer_arm(l->loop, &w->bg_timer, req->background_ms) < 0) {
			login_wait_free(w);
			return -ENOMEM;
		}
	}
	/* the entry is opened once the carrier can take it: a login to a
	 * transport that is missing is 12, whatever else runs */
	int r = c->ops->probe(c, login_probed, w);
	if (r < 0)
		login_wait_free(w);
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
	struct session_layer *l = w->l;
	free(w);
	session_request_end(l);
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
	session_request_begin(l);
	session_call_begin(s);
	int r = c->ops->logout(c, s, logout_answered, w);
	if (session_call_end(s) && r < 0)
		s->logout_pending = false;
	if (r < 0) {
		free(w);
		session_request_end(l);
	}
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
