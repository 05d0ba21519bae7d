/* iscsid's session layer: one table of sessions, whatever carries them,
 * with one writer (the layer itself: session*.c), one lifecycle
 *
 *     LOGIN --> LOGGED_IN <--> RECOVERY
 *                 |   ^           |
 *                 v   |           |
 *                 LOGOUT <--------+        and from each: --> gone
 *
 * and the requests of the control handlers (login, logout, rescan, stats,
 * the state list), each passed to the carrier of its session (carrier.h).
 *
 *   session.c        the table, the lifecycle, the carriers' reports,
 *                    adoption after a restart (session_adopt_all)
 *   session_req.c    requests: carrier choice, duplicate and size checks,
 *                    the probe before a login, answers
 *   session_retry.c  the policy of sessions whose carrier drives its own
 *                    connection attempts: budget, schedule, redirections
 *
 * What iscsiadm sees: a session is listed from its first LOGGED_IN (or its
 * adoption) until it ends, with the states of SESSION_LIST_STATE
 * ("Internal iscsid Session State" / "iSCSI Connection State"):
 *
 *   layer state   session    connection
 *   LOGGED_IN     LOGGED_IN  LOGGED IN
 *   RECOVERY      REOPEN     TRANSPORT WAIT | IN LOGIN | IN LOGOUT
 *   LOGOUT        CLEANUP    IN LOGOUT
 *
 * A login under way (LOGIN) is in the table, so a second login to the
 * same node is refused (15), but it is not listed and a logout or rescan
 * by target does not select it.
 *
 * Threading: everything on the event loop; every request answers through
 * its done callback, later, never from inside the call (transport.h). */
#ifndef ISCSID_SESSION_H
#define ISCSID_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carrier.h"
#include "loop.h"
#include "record.h"
#include "transport.h"

#define SESSION_PORTAL_SIZE 300
#define SESSION_MAX 4096          /* sessions and logins tracked at once */
#define SESSION_MAX_CARRIERS 4

/* What the retry policy takes from the node record. */
struct session_policy {
	int login_timeout;              /* node.conn[0].timeo.login_timeout, s */
	int initial_login_retry_max;    /* node.session.initial_login_retry_max */
	int reopen_max;                 /* node.session.reopen_max (0: no limit) */
};

/* Counters of the current login or outage (session_retry.c). */
struct session_retry {
	bool driven;                    /* the carrier reports its attempts */
	uint64_t first_attempt_ms;      /* the initial login's budget starts here */
	uint64_t outage_start_ms;       /* first failure (or loss) since the last success; 0 none */
	unsigned attempts;              /* failed, since the last success */
	unsigned redirects;
	unsigned time2wait;             /* s, before the next attempt; 0 none */
	uint64_t last_fail_log_ms;
	char *last_fail_msg;            /* owned; NULL: none since the last success */
	bool unbounded;                 /* a background login: no initial-login budget */
	bool background;                /* ... whose request was answered: still trying */
};

/* Why a connection failed, as far as the layer learns it: a logged-in
 * connection lost (every carrier reports that as LOGGED_IN -> RECOVERY),
 * and the failed attempts of carriers that report them
 * (session_attempt_failed), by their exit code. */
enum session_cause {
	SESSION_CAUSE_CONN_LOST = 0,    /* a logged-in connection went away */
	SESSION_CAUSE_CONNECT,          /* the TCP connection failed (4) */
	SESSION_CAUSE_TIMEOUT,          /* connect, login or PDU timeout (8, 11, 33) */
	SESSION_CAUSE_AUTH,             /* authentication failed (24) */
	SESSION_CAUSE_LOGIN,            /* the target rejected the login (5, 19) */
	SESSION_CAUSE_OTHER,
	SESSION_NCAUSES,
};

#define SESSION_COUNTERS_MAX 48         /* carrier counters kept per session */
#define SESSION_COUNTER_NAME 48

/* One carrier counter (struct transport_stat), kept. */
struct session_counter {
	char name[SESSION_COUNTER_NAME];
	uint64_t value;
	bool extended;
};

/* What the layer counts for each session (metrics.h, `iscsiadm -m
 * session -s --json`), whatever carries it. Times from loop_now_ms(). */
struct session_figures {
	uint64_t logins;                /* times it reached LOGGED_IN (first login, recoveries) */
	uint64_t recoveries;            /* LOGGED_IN -> RECOVERY */
	uint64_t recovery_ms;           /* in RECOVERY, ended recoveries */
	uint64_t recovery_since_ms;     /* the current recovery began; 0 none */
	uint64_t login_start_ms;        /* the current login (or its last attempt) began; 0 none */
	uint64_t last_login_ms;         /* how long the last successful login took */
	bool have_last_login;
	uint64_t conn_errors[SESSION_NCAUSES];
	/* the carrier's counters at the last refresh (metrics.c); allocated
	 * only then, so sessions cost nothing more without metrics */
	struct session_counter *counters;
	size_t ncounters;
};

/* One entry. Read-only outside session*.c. */
struct session {
	struct session_layer *layer;
	struct carrier *carrier;
	void *priv;                     /* the carrier's object */
	uint32_t sid;                   /* 0 until known */
	uint32_t host_no;
	char target[REC_NAME_SIZE];     /* RFC 7143 §4.2.7.1: 223 bytes */
	char address[REC_HOST_SIZE];
	int port;
	int tpgt;                       /* -1 unknown */
	char portal[SESSION_PORTAL_SIZE];  /* "address:port", "[v6]:port" */
	char iface[REC_IFACE_NAME_SIZE];
	enum session_state state;
	enum session_conn conn;
	struct session_policy policy;
	struct session_retry retry;
	struct session_figures fig;
	bool logout_pending;            /* a logout request is with the carrier */
	unsigned in_call;               /* inside a carrier operation: free later */
	bool ended;                     /* session_end() came during in_call */
	struct login_wait *login;       /* the login request it answers */
	struct session *next;
};

struct sl_answer;
struct adopt_all;

struct session_layer {
	struct loop *loop;
	struct session *head;           /* in sid order; entries without an id first */
	size_t n;                       /* entries, listed or not */
	size_t nlisted;
	struct carrier *carriers[SESSION_MAX_CARRIERS];
	size_t ncarriers;
	struct sl_answer *ans_head, *ans_tail;   /* answers decided by the layer itself */
	struct loop_timer kick;
	bool stopping;
	size_t nrequests;               /* logins, logouts and adoptions in flight */
	struct loop_timer trim;         /* the heap after a burst (session_request_end) */
	/* told when the list or a listed session's state changes */
	void (*observer)(void *data);
	void *observer_data;
	/* Whether a background login is still wanted (its node record is
	 * there and automatic); asked after each failed attempt. NULL: yes. */
	bool (*login_wanted)(void *data, const struct session *s);
	void *login_wanted_data;
};

int session_layer_new(struct loop *l, struct session_layer **ret);
/* Frees every carrier (they answer what is in flight and end their
 * sessions, which live on), delivers the answers the layer decided, and
 * frees the table. NULL is a no-op. */
void session_layer_free(struct session_layer *l);
/* Takes c over (freed with the layer). -ENOSPC, -EEXIST (same name). */
int session_layer_add_carrier(struct session_layer *l, struct carrier *c);
/* SIGHUP: each carrier's reload. */
void session_layer_reload(struct session_layer *l);
/* Asks every carrier for its surviving sessions (at start-up). Logs per
 * carrier whether it is usable; done (may be NULL) once all answered,
 * with the first failure. 0, or < 0 when nothing was started. */
int session_adopt_all(struct session_layer *l, transport_done_fn done, void *data);

/* fn(data) after each change of what iscsiadm lists: a session listed,
 * its state changed, a session gone (not while the layer stops). fn
 * must not change the table; NULL to stop. */
void session_layer_observe(struct session_layer *l, void (*fn)(void *data), void *data);

/* ---- figures (session.c) ---- */

/* "connection_lost", "connect", "timeout", "auth", "login", "other" */
const char *session_cause_name(enum session_cause c);
/* The time s spent in recovery up to now, ended recoveries and the
 * current one. */
uint64_t session_recovery_ms(const struct session *s, uint64_t now_ms);
/* Keeps the counters of a stats answer for s (metrics.c refreshes them). */
void session_keep_counters(struct session *s, const struct transport_stat *v, size_t n);

/* ---- requests (session_req.c) ---- */

/* Logs in with the carrier named by rec->iface.transport_name ("" is
 * "tcp"): 12 when there is none or its probe fails, 15 when a session or
 * login to the same target, portal and iface exists, then the carrier's
 * answer. A background login (req->background) has no initial-login
 * budget: when background_ms pass without an outcome it is answered with
 * ISCSI_ERR_AGAIN and goes on trying until it logs in, fails for good,
 * l->login_wanted says no, or iscsid stops; the log says when it goes to
 * the background and how it ends. */
int session_login(struct session_layer *l, const struct transport_login *req, transport_done_fn done,
		  void *data);
/* 2 for an unknown sid, 29 while it logs in or out, else the carrier's answer. */
int session_logout(struct session_layer *l, uint32_t sid, transport_done_fn done, void *data);
/* 2 for an unknown sid, 32 unless LOGGED_IN, else the carrier's answer. */
int session_rescan(struct session_layer *l, uint32_t sid, transport_done_fn done, void *data);
/* 2 for an unknown sid, 27 when the carrier keeps no counters. */
int session_stats(struct session_layer *l, uint32_t sid, transport_done_fn done, void *data);

/* ---- reading the table ---- */

/* Listed sessions (LOGGED_IN, RECOVERY, LOGOUT, with an id). */
struct session *session_find(const struct session_layer *l, uint32_t sid);
struct session *session_first(const struct session_layer *l);
struct session *session_next(const struct session *s);
size_t session_count(const struct session_layer *l);
/* Any entry, listed or not, with that id. */
struct session *session_lookup(const struct session_layer *l, uint32_t sid);
/* A session or login to the node rec names (target, portal, iface). */
struct session *session_find_node(const struct session_layer *l, const struct node_rec *rec);
/* Whether s is to target (exact), and to portal / iface when those are
 * not NULL or "". */
bool session_matches(const struct session *s, const char *target, const char *portal, const char *iface);
/* Listed sessions to target, and to portal / iface when not NULL or "".
 * Returns how many match; *ret_first is the first one (NULL if none). */
size_t session_match(const struct session_layer *l, const char *target, const char *portal, const char *iface,
		     struct session **ret_first);
/* "LOGGED_IN", "REOPEN", "CLEANUP"; "LOGGED IN", "TRANSPORT WAIT", ... */
const char *session_state_text(const struct session *s);
const char *session_conn_text(const struct session *s);
const char *session_state_name(enum session_state st);

/* ---- inside the layer ---- */

/* The memory the table's entries take (pool.h): tests. */
size_t session_pool_bytes(void);

bool session_listed(const struct session *s);
/* Unlinks and frees s (or marks it, when inside a carrier call). */
void session_drop(struct session *s);
/* Around a carrier call that takes s: the carrier may end s inside it.
 * session_call_end() frees s then and returns false; true while s lives. */
void session_call_begin(struct session *s);
bool session_call_end(struct session *s);
struct session *session_open(struct session_layer *l, struct carrier *c, const struct node_rec *rec,
			     enum session_state st, enum session_conn conn);
/* The lowest free id >= c->ops->sid_min at or above c->next_sid; 0 if none. */
uint32_t session_sid_alloc(struct session_layer *l, struct carrier *c);
struct carrier *session_carrier(const struct session_layer *l, const char *transport_name);
/* Delivers done(data, {code, message}) from the loop. 0 or -ENOMEM. */
int session_answer_later(struct session_layer *l, transport_done_fn done, void *data, int code, const char *fmt,
			 ...) __attribute__((format(printf, 5, 6)));
void session_answers_flush(struct session_layer *l);
/* Around every login, logout and adoption: once none is in flight, the
 * memory their burst freed is given back to the system when there is
 * SESSION_TRIM_MIN or more of it (memlock_trim): after a burst, not
 * after each of a trickle of logins. */
#define SESSION_TRIM_MIN (256u * 1024u)
void session_request_begin(struct session_layer *l);
void session_request_end(struct session_layer *l);
/* Called by session_end(): the login waiting for s forgets it. */
void session_login_forget(struct session *s);

#endif
