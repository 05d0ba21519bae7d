/* The session layer's table and lifecycle (session.h), the reports
 * carriers make about their sessions (carrier.h), and adoption after a
 * restart. This file and session_req.c / session_retry.c are the only
 * writers of the table. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errors.h"
#include "log.h"
#include "memlock.h"
#include "pool.h"
#include "session.h"

/* ---- the lifecycle, as data ---- */

static const char *const state_names[SESSION_NSTATES] = {
	[SESSION_LOGIN] = "LOGIN",
	[SESSION_LOGGED_IN] = "LOGGED_IN",
	[SESSION_RECOVERY] = "RECOVERY",
	[SESSION_LOGOUT] = "LOGOUT",
};

/* allowed[from][to] (session_end() is allowed from everywhere) */
static const bool allowed[SESSION_NSTATES][SESSION_NSTATES] = {
	[SESSION_LOGIN] = { [SESSION_LOGIN] = true, [SESSION_LOGGED_IN] = true },
	[SESSION_LOGGED_IN] = { [SESSION_LOGGED_IN] = true, [SESSION_RECOVERY] = true, [SESSION_LOGOUT] = true },
	[SESSION_RECOVERY] = { [SESSION_RECOVERY] = true, [SESSION_LOGGED_IN] = true, [SESSION_LOGOUT] = true },
	[SESSION_LOGOUT] = { [SESSION_LOGOUT] = true, [SESSION_LOGGED_IN] = true },
};

const char *session_state_name(enum session_state st)
{
	return st < SESSION_NSTATES ? state_names[st] : "?";
}

/* open-iscsi's words for iscsid's session state and the connection's */
const char *session_state_text(const struct session *s)
{
	switch (s->state) {
	case SESSION_LOGGED_IN:
		return "LOGGED_IN";
	case SESSION_RECOVERY:
		return "REOPEN";
	case SESSION_LOGOUT:
		return "CLEANUP";
	default:
		return "UNKNOWN";
	}
}

const char *session_conn_text(const struct session *s)
{
	if (s->state == SESSION_LOGGED_IN)
		return "LOGGED IN";
	if (s->state == SESSION_LOGOUT)
		return "IN LOGOUT";
	switch (s->conn) {
	case SESSION_CONN_TRANSPORT_WAIT:
		return "TRANSPORT WAIT";
	case SESSION_CONN_IN_LOGIN:
		return "IN LOGIN";
	case SESSION_CONN_LOGGED_IN:
		return "LOGGED IN";
	case SESSION_CONN_IN_LOGOUT:
		return "IN LOGOUT";
	}
	return "UNKNOWN";
}

bool session_listed(const struct session *s)
{
	return s->sid != 0 && s->state != SESSION_LOGIN && !s->ended;
}

/* ---- the table ---- */

/* the table's entries, side by side (pool.h) */
static struct pool entry_pool = POOL_INIT(struct session);

size_t session_pool_bytes(void)
{
	return pool_bytes(&entry_pool);
}

static void entry_free(struct session *s)
{
	free(s->fig.counters);
	free(s->retry.last_fail_msg);
	pool_free(&entry_pool, s);
}

static void notify(struct session_layer *l)
{
	if (l->observer && !l->stopping)
		l->observer(l->observer_data);
}

void session_layer_observe(struct session_layer *l, void (*fn)(void *data), void *data)
{
	l->observer = fn;
	l->observer_data = data;
}

static void unlink_entry(struct session *s)
{
	struct session_layer *l = s->layer;
	for (struct session **pp = &l->head; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			s->next = NULL;
			return;
		}
}

/* In sid order, as listings print them; entries without an id first. */
static void link_entry(struct session *s)
{
	struct session **pp = &s->layer->head;
	while (*pp && (*pp)->sid < s->sid)
		pp = &(*pp)->next;
	s->next = *pp;
	*pp = s;
}

/* Keeps the count of listed entries after a change to s that began when
 * s was (or was not) listed. */
static void relist(struct session *s, bool was)
{
	bool now = session_listed(s);
	if (now && !was)
		s->layer->nlisted++;
	else if (was && !now)
		s->layer->nlisted--;
	if (now != was)
		notify(s->layer);
}

struct session *session_lookup(const struct session_layer *l, uint32_t sid)
{
	if (!sid)
		return NULL;
	for (struct session *s = l->head; s; s = s->next)
		if (s->sid == sid && !s->ended)
			return s;
	return NULL;
}

struct session *session_find(const struct session_layer *l, uint32_t sid)
{
	struct session *s = session_lookup(l, sid);
	return s && session_listed(s) ? s : NULL;
}

struct session *session_next(const struct session *s)
{
	for (s = s->next; s; s = s->next)
		if (session_listed(s))
			return (struct session *)s;
	return NULL;
}

struct session *session_first(const struct session_layer *l)
{
	for (struct session *s = l->head; s; s = s->next)
		if (session_listed(s))
			return s;
	return NULL;
}

size_t session_count(const struct session_layer *l)
{
	return l->nlisted;
}

static const char *rec_iface(const struct node_rec *rec)
{
	return rec->iface.name[0] ? rec->iface.name : "default";
}

struct session *session_find_node(const struct session_layer *l, const struct node_rec *rec)
{
	const char *iface = rec_iface(rec);
	for (struct session *s = l->head; s; s = s->next)
		if (!s->ended && !strcmp(s->target, rec->name) && !strcasecmp(s->address, rec->conn.address) &&
		    s->port == rec->conn.port && !strcmp(s->iface, iface))
			return s;
	return NULL;
}

bool session_matches(const struct session *s, const char *target, const char *portal, const char *iface)
{
	if (strcmp(s->target, target) != 0)
		return false;
	if (portal && *portal && strcmp(s->portal, portal) != 0)
		return false;
	if (iface && *iface && strcmp(s->iface, iface) != 0)
		return false;
	return true;
}

size_t session_match(const struct session_layer *l, const char *target, const char *portal, const char *iface,
		     struct session **ret_first)
{
	size_t n = 0;
	struct session *first = NULL;
	for (struct session *s = session_first(l); s; s = session_next(s)) {
		if (!session_matches(s, target, portal, iface))
			continue;
		if (!first)
			first = s;
		n++;
	}
	if (ret_first)
		*ret_first = first;
	return n;
}

/* "address:port", brackets around IPv6: how clients name a portal when
 * they select sessions. */
static void format_portal(const char *addr, int port, char *buf, size_t len)
{
	if (strchr(addr, ':'))
		snprintf(buf, len, "[%s]:%d", addr, port);
	else
		snprintf(buf, len, "%s:%d", addr, port);
}

struct session *session_open(struct session_layer *l, struct carrier *c, const struct node_rec *rec,
			     enum session_state st, enum session_conn conn)
{
	if (l->n >= SESSION_MAX)
		return NULL;
	struct session *s = pool_alloc(&entry_pool);
	if (!s)
		return NULL;
	s->layer = l;
	s->carrier = c;
	snprintf(s->target, sizeof(s->target), "%s", rec->name);
	snprintf(s->address, sizeof(s->address), "%s", rec->conn.address);
	s->port = rec->conn.port;
	s->tpgt = rec->tpgt;
	format_portal(rec->conn.address, rec->conn.port, s->portal, sizeof(s->portal));
	snprintf(s->iface, sizeof(s->iface), "%s", rec_iface(rec));
	s->policy.login_timeout = rec->conn.login_timeout;
	s->policy.initial_login_retry_max = rec->session.initial_login_retry_max;
	s->policy.reopen_max = rec->session.reopen_max;
	s->state = st;
	s->conn = conn;
	if (st == SESSION_LOGIN)
		s->fig.login_start_ms = loop_now_ms();
	link_entry(s);
	l->n++;
	relist(s, false);
	return s;
}

void session_drop(struct session *s)
{
	struct session_layer *l = s->layer;
	if (s->ended)
		return;
	bool was = session_listed(s);
	session_login_forget(s);
	s->ended = true;                /* out of every lookup now */
	relist(s, was);
	if (s->in_call)
		return;                 /* freed when the call returns */
	unlink_entry(s);
	l->n--;
	entry_free(s);
}

void session_call_begin(struct session *s)
{
	s->in_call++;
}

bool session_call_end(struct session *s)
{
	if (--s->in_call || !s->ended)
		return !s->ended;
	unlink_entry(s);
	s->layer->n--;
	entry_free(s);
	return false;
}

uint32_t session_sid_alloc(struct session_layer *l, struct carrier *c)
{
	uint32_t min = c->ops->sid_min;
	uint32_t sid = c->next_sid >= min ? c->next_sid : min;
	/* the table holds at most SESSION_MAX ids: one of that many tries is free */
	for (size_t i = 0; i <= SESSION_MAX; i++, sid++) {
		if (sid < min)
			sid = min;                 /* wrapped */
		if (!session_lookup(l, sid)) {
			c->next_sid = sid + 1;
			return sid;
		}
	}
	return 0;
}

/* ---- reports from carriers ---- */

void session_set_priv(struct session *s, void *priv)
{
	s->priv = priv;
}

void *session_priv(const struct session *s)
{
	return s->priv;
}

uint32_t session_sid(const struct session *s)
{
	return s->sid;
}

const char *session_what(const struct session *s, char *buf, size_t len)
{
	if (s->sid)
		snprintf(buf, len, "session %" PRIu32 " [%s, %s,%d]", s->sid, s->target, s->address, s->port);
	else
		snprintf(buf, len, "login [%s, %s,%d]", s->target, s->address, s->port);
	return buf;
}

int session_set_sid(struct session *s, uint32_t sid, uint32_t host_no)
{
	struct session_layer *l = s->layer;
	if (!sid)
		return -EINVAL;
	struct session *o = session_lookup(l, sid);
	if (o && o != s) {
		log_warnx("%s: session id %" PRIu32 " is already used by a session to %s through %s", s->target, sid,
			  o->target, o->carrier->ops->name);
		return -EEXIST;
	}
	bool was = session_listed(s);
	unlink_entry(s);
	s->sid = sid;
	s->host_no = host_no;
	link_entry(s);
	relist(s, was);
	return 0;
}

void session_set_tpgt(struct session *s, int tpgt)
{
	if (tpgt >= 0 && tpgt <= 65535)
		s->tpgt = tpgt;
}

/* ---- figures ---- */

static const char *const cause_names[SESSION_NCAUSES] = {
	[SESSION_CAUSE_CONN_LOST] = "connection_lost",
	[SESSION_CAUSE_CONNECT] = "connect",
	[SESSION_CAUSE_TIMEOUT] = "timeout",
	[SESSION_CAUSE_AUTH] = "auth",
	[SESSION_CAUSE_LOGIN] = "login",
	[SESSION_CAUSE_OTHER] = "other",
};

const char *session_cause_name(enum session_cause c)
{
	return c < SESSION_NCAUSES ? cause_names[c] : "?";
}

uint64_t session_recovery_ms(const struct session *s, uint64_t now_ms)
{
	uint64_t ms = s->fig.recovery_ms;
	if (s->fig.recovery_since_ms && now_ms > s->fig.recovery_since_ms)
		ms += now_ms - s->fig.recovery_since_ms;
	return ms;
}

void session_keep_counters(struct session *s, const struct transport_stat *v, size_t n)
{
	struct session_figures *f = &s->fig;
	if (n > SESSION_COUNTERS_MAX)
		n = SESSION_COUNTERS_MAX;
	if (n > f->ncounters || !f->counters) {
		struct session_counter *c = realloc(f->counters, (n ? n : 1) * sizeof(*c));
		if (!c)
			return;                 /* the previous ones stay */
		f->counters = c;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(f->counters[i].name, sizeof(f->counters[i].name), "%s", v[i].name ? v[i].name : "");
		f->counters[i].value = v[i].value;
		f->counters[i].extended = v[i].extended;
	}
	f->ncounters = n;
}

/* What a change of state means for the figures. A LOGOUT that returns
 * to LOGGED_IN (a logout that did not happen) is no login. */
static void count_transition(struct session *s, enum session_state from, enum session_state to)
{
	struct session_figures *f = &s->fig;
	uint64_t now = loop_now_ms();
	if (from == SESSION_RECOVERY && to != SESSION_RECOVERY && f->recovery_since_ms) {
		f->recovery_ms += now - f->recovery_since_ms;
		f->recovery_since_ms = 0;
	}
	if (from == SESSION_LOGGED_IN && to == SESSION_RECOVERY) {
		f->recoveries++;
		f->conn_errors[SESSION_CAUSE_CONN_LOST]++;
		f->recovery_since_ms = now;
		f->login_start_ms = now;        /* until the carrier says an attempt began */
	}
	if (to == SESSION_LOGGED_IN && (from == SESSION_LOGIN || from == SESSION_RECOVERY)) {
		f->logins++;
		if (f->login_start_ms) {
			f->last_login_ms = now - f->login_start_ms;
			f->have_last_login = true;
		}
	}
	if (to != SESSION_LOGIN && to != SESSION_RECOVERY)
		f->login_start_ms = 0;
}

/* Success ends a login or an outage (session_retry.c counts them). */
static void logged_in(struct session *s, enum session_state from)
{
	struct session_retry *r = &s->retry;
	char what[700];
	uint64_t outage = r->outage_start_ms ? loop_now_ms() - r->outage_start_ms : 0;

	session_what(s, what, sizeof(what));
	if (from == SESSION_RECOVERY && r->driven)
		log_info("%s is operational after recovery (%u attempt%s, %" PRIu64 ".%03" PRIu64 " s)", what,
			 r->attempts + 1, r->attempts ? "s" : "", outage / 1000u, outage % 1000u);
	else if (from == SESSION_RECOVERY)
		log_info("%s is operational after recovery (%" PRIu64 ".%03" PRIu64 " s)", what, outage / 1000u,
			 outage % 1000u);
	else if (from == SESSION_LOGIN)
		log_info("%s through [iface: %s] is operational now", what, s->iface);
	r->outage_start_ms = 0;
	r->attempts = 0;
	r->redirects = 0;
	free(r->last_fail_msg);
	r->last_fail_msg = NULL;
}

int session_state_set(struct session *s, enum session_state st, enum session_conn conn)
{
	char what[700];
	if (st >= SESSION_NSTATES || s->ended)
		return -EINVAL;
	if (st == SESSION_LOGGED_IN)
		conn = SESSION_CONN_LOGGED_IN;
	else if (st == SESSION_LOGOUT)
		conn = SESSION_CONN_IN_LOGOUT;
	if (st == s->state && conn == s->conn)
		return 0;
	if (!allowed[s->state][st]) {
		log_warnx("%s: %s reported %s -> %s, which the session lifecycle does not have; ignored",
			  session_what(s, what, sizeof(what)), s->carrier->ops->name, session_state_name(s->state),
			  session_state_name(st));
		return -EINVAL;
	}
	enum session_state from = s->state;
	bool was = session_listed(s);
	log_debug(1, "%s: %s/%s -> %s/%s", session_what(s, what, sizeof(what)), session_state_name(from),
		  session_conn_text(s), session_state_name(st),
		  st == SESSION_LOGGED_IN ? "LOGGED IN" : st == SESSION_LOGOUT ? "IN LOGOUT" : "");
	s->state = st;
	s->conn = conn;
	count_transition(s, from, st);
	if (st == SESSION_LOGGED_IN && from != SESSION_LOGGED_IN)
		logged_in(s, from);
	/* an outage the carrier does not count itself still has a start */
	if (st == SESSION_RECOVERY && from == SESSION_LOGGED_IN && !s->retry.outage_start_ms)
		s->retry.outage_start_ms = loop_now_ms();
	relist(s, was);
	if (was || session_listed(s))
		notify(s->layer);
	return 0;
}

void session_end(struct session *s)
{
	char what[700];
	if (s->ended)
		return;
	if (!s->layer->stopping)
		log_debug(1, "%s: %s -> gone", session_what(s, what, sizeof(what)), session_state_name(s->state));
	session_drop(s);
}

int session_adopt(struct carrier *c, const struct session_survivor *sv, struct session **ret)
{
	struct session_layer *l = c->layer;
	if (!l || !sv->rec || !sv->sid || sv->state >= SESSION_NSTATES)
		return -EINVAL;
	if (c->ops->sid_min && sv->sid < c->ops->sid_min)
		return -ERANGE;
	if (session_lookup(l, sv->sid))
		return -EEXIST;
	if (l->n >= SESSION_MAX)
		return -ENOSPC;
	struct session *s = session_open(l, c, sv->rec, sv->state, sv->conn);
	if (!s)
		return -ENOMEM;
	if (sv->state == SESSION_LOGGED_IN)
		s->conn = SESSION_CONN_LOGGED_IN;
	else if (sv->state == SESSION_LOGOUT)
		s->conn = SESSION_CONN_IN_LOGOUT;
	if (sv->state == SESSION_RECOVERY) {
		s->retry.outage_start_ms = loop_now_ms();
		/* figures count from the adoption: the recovery time too */
		s->fig.recovery_since_ms = s->retry.outage_start_ms;
	}
	(void)session_set_sid(s, sv->sid, sv->host_no);
	/* ids the layer hands out stay above the ones that came back */
	if (c->ops->sid_min && sv->sid >= c->next_sid)
		c->next_sid = sv->sid + 1;
	*ret = s;
	return 0;
}

/* ---- carriers ---- */

struct carrier *session_carrier(const struct session_layer *l, const char *transport_name)
{
	const char *name = transport_name && *transport_name ? transport_name : "tcp";
	for (size_t i = 0; i < l->ncarriers; i++)
		if (!strcmp(l->carriers[i]->ops->name, name))
			return l->carriers[i];
	return NULL;
}

int session_layer_add_carrier(struct session_layer *l, struct carrier *c)
{
	if (session_carrier(l, c->ops->name))
		return -EEXIST;
	if (l->ncarriers >= SESSION_MAX_CARRIERS)
		return -ENOSPC;
	c->layer = l;
	c->next_sid = c->ops->sid_min;
	l->carriers[l->ncarriers++] = c;
	return 0;
}

void session_layer_reload(struct session_layer *l)
{
	for (size_t i = 0; i < l->ncarriers; i++)
		if (l->carriers[i]->ops->reload)
			l->carriers[i]->ops->reload(l->carriers[i]);
}

static void on_kick(struct loop *lp, void *data)
{
	(void)lp;
	session_answers_flush(data);
}

/* ---- the heap after a burst ----
 * A burst of logins holds many requests at once (iscsiadm --loginall
 * keeps 32 in flight: a node record parsed from each, the messages, the
 * carriers' requests, ~28 KiB a login); freed, they leave holes below
 * whatever was allocated later, which glibc's malloc keeps resident (it
 * only gives back the top of the heap). Once the burst is over the free
 * pages inside the heap go back too (memlock.h). */

static void on_trim(struct loop *lp, void *data)
{
	struct session_layer *l = data;
	(void)lp;
	if (l->nrequests)
		return;                 /* a new burst: trimmed after it */
	(void)memlock_trim(SESSION_TRIM_MIN);
}

void session_request_begin(struct session_layer *l)
{
	l->nrequests++;
}

void session_request_end(struct session_layer *l)
{
	if (l->nrequests && --l->nrequests)
		return;
	if (l->stopping || loop_timer_armed(&l->trim))
		return;
	/* from the loop: the answer that ended the burst is freed by then */
	(void)loop_timer_arm(l->loop, &l->trim, 0);
}

int session_layer_new(struct loop *lp, struct session_layer **ret)
{
	struct session_layer *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->loop = lp;
	loop_timer_init(&l->kick, on_kick, l);
	loop_timer_init(&l->trim, on_trim, l);
	*ret = l;
	return 0;
}

void session_layer_free(struct session_layer *l)
{
	if (!l)
		return;
	l->stopping = true;
	/* sessions live on where they are; carriers answer what they hold */
	for (size_t i = l->ncarriers; i-- > 0;) {
		struct carrier *c = l->carriers[i];
		c->ops->free(c);
	}
	l->ncarriers = 0;
	session_answers_flush(l);
	loop_timer_disarm(l->loop, &l->kick);
	loop_timer_disarm(l->loop, &l->trim);
	/* what a carrier did not end (it cannot be inside a call now) */
	while (l->head) {
		struct session *s = l->head;
		l->head = s->next;
		session_login_forget(s);
		entry_free(s);
	}
	free(l);
}

/* ---- adoption ---- */

struct adopt_all {
	struct session_layer *l;
	transport_done_fn done;
	void *data;
	size_t pending;
	struct transport_result res;    /* the first failure */
};

struct adopt_one {
	struct adopt_all *all;
	const char *name;
};

static void adopt_all_finish(struct adopt_all *a)
{
	struct session_layer *l = a->l;
	if (a->done)
		a->done(a->data, &a->res);
	free(a);
	session_request_end(l);
}

static void adopt_answered(void *data, const struct transport_result *res)
{
	struct adopt_one *o = data;
	struct adopt_all *a = o->all;
	if (res->status == 0)
		log_info("iSCSI transport '%s' is available", o->name);
	else
		log_warnx("%s", res->message[0] ? res->message : iscsi_err_str(res->status));
	if (res->status && !a->res.status) {
		a->res.status = res->status;
		snprintf(a->res.message, sizeof(a->res.message), "%s", res->message);
	}
	free(o);
	if (--a->pending == 0)
		adopt_all_finish(a);
}

int session_adopt_all(struct session_layer *l, transport_done_fn done, void *data)
{
	struct adopt_all *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->l = l;
	a->done = done;
	a->data = data;
	a->pending = 1;                 /* held until every carrier was asked */
	session_request_begin(l);
	for (size_t i = 0; i < l->ncarriers; i++) {
		struct carrier *c = l->carriers[i];
		struct adopt_one *o = calloc(1, sizeof(*o));
		if (!o)
			continue;
		o->all = a;
		o->name = c->ops->name;
		a->pending++;
		if (c->ops->adopt(c, adopt_answered, o) < 0) {
			log_warnx("cannot ask iSCSI transport '%s' for its sessions", c->ops->name);
			free(o);
			a->pending--;
		}
	}
	/* carriers never answer from inside adopt(): nothing finished yet */
	if (--a->pending == 0) {
		session_request_end(l);
		if (!done) {
			free(a);
			return 0;
		}
		/* no carrier: answer from the loop all the same */
		int r = session_answer_later(l, done, data, 0, "%s", "");
		free(a);
		return r;
	}
	return 0;
}
