/* Carriers: what carries sessions beneath iscsid's session layer
 * (session.h). A carrier implements one value of iface.transport_name:
 *
 *   "tcp"     the kernel carrier (carrier_kernel.c, ksession.h): iscsi_tcp
 *             through NETLINK_ISCSI, our login engine (libinitiator
 *             login.c) driven with PDUs the kernel carries, SCSI scans
 *             through sysfs. Sessions live in the kernel.
 *   "uspace"  the userspace carrier (carrier_uspace.c): one data-path process per
 *             session (libiscsi, LUNs through FUSE and loop devices) that
 *             does its own login and reconnect; the carrier starts it,
 *             talks to it over a UNIX control socket, and adopts the
 *             running ones after a restart. Sessions live in those
 *             processes.
 *
 * What the layer owns and what a carrier owns
 * -------------------------------------------
 * The layer owns the session table (it is its only writer), the lifecycle
 * states iscsiadm shows, duplicate-login and table-size checks, the
 * request plumbing, adoption as one operation over all carriers, and the
 * transport-independent policy of sessions whose carrier drives its own
 * connection attempts (session_attempt_*: the initial-login budget,
 * node.session.reopen_max, the reconnect schedule, Time2Wait, the
 * redirection limit, which failures end a session). A carrier owns how a
 * session is made and kept: the kernel carrier its login engine, the MD5
 * fall-back of its CHAP offer, TSIH reinstatement, the kernel's objects,
 * scans and mounts; the uspace carrier its processes (libiscsi logs in,
 * follows redirections and reconnects there, by its own rules).
 *
 * Rules every carrier keeps
 * -------------------------
 * 1. Everything runs on the event loop thread; nothing blocks (work that
 *    blocks runs off the loop: loop_work, children).
 * 2. An operation that takes done returns 0 when it accepted the
 *    operation and then calls done exactly once, later, from the event
 *    loop -- never from inside the call itself. A negative return means
 *    nothing was started and done will not be called. Many operations may
 *    be in flight at once. done may start new operations on the same
 *    carrier, so a carrier is in a consistent state whenever it calls done.
 * 3. The report functions below (session_state_set, session_set_sid,
 *    session_end, session_adopt, session_attempt_*) may be called at any
 *    time on the loop, also from inside an operation. They never call
 *    back into the carrier: the layer calls carrier operations only from
 *    its own timer, from a request, or from a done the carrier called.
 * 4. After session_end(s) the carrier never touches s again.
 * 5. free() answers everything in flight with ISCSI_ERR_INTERNAL ("iscsid
 *    is stopping"), ends its sessions with session_end(), and leaves every
 *    session that reached LOGGED_IN running: stopping iscsid never logs a
 *    session out. Half-made logins are undone.
 *
 * The operations
 * --------------
 * probe    is the carrier usable here? status 0, or ISCSI_ERR_TRANS_NOT_FOUND
 *          (12) with a message saying what is missing. The layer probes
 *          before every login and opens the table entry only after a
 *          successful probe.
 * adopt    report every session that outlived the previous iscsid through
 *          session_adopt(), then done (status as for probe). Called once
 *          at start-up (session_adopt_all); a carrier that becomes usable
 *          only later (the kernel's module loaded after a SIGHUP) adopts
 *          then, on its own.
 * login    carry the session s (state LOGIN, in the table already) for the
 *          record in req: report its progress with session_state_set(),
 *          its id with session_set_sid() unless the layer gave it one
 *          (sid_min), and its end with session_end(). done answers the
 *          request: success once it is logged in (devices when the request
 *          asked to wait for them), or the error when it failed -- the
 *          session is then over: the carrier has ended s or never kept it
 *          (the layer drops an entry the carrier did not end). A success
 *          whose session ended before the answer arrived is still a
 *          success: it was logged in.
 * logout   log s out; s is LOGGED_IN or RECOVERY, and no other logout of
 *          s is in flight. done: 0 once s has ended (session_end), or the
 *          error with s still there.
 * rescan   s is LOGGED_IN: look for new and resized LUNs; done lists the
 *          block devices.
 * stats    the counters of `iscsiadm -m session -s`; NULL when the carrier
 *          has none (the layer answers ISCSI_ERR_OP_NOT_SUPP).
 * reload   SIGHUP: forget cached conclusions (that modprobe failed, say).
 * free     see rule 5.
 *
 * Session ids
 * -----------
 * One space for all carriers, unique in the table. The kernel carrier
 * uses the kernel's sid (the kernel counts up from 1 per boot and never
 * reuses one). A carrier with sid_min != 0 gets its ids from the layer:
 * the lowest one >= sid_min above every id the layer handed out or
 * adopted, never one in use, preset in s->sid when login is called. The
 * carrier persists it with the session (the uspace data-path process
 * keeps it) and reports it again when it adopts the session after a
 * restart. CARRIER_SID_USPACE_MIN is far above what the kernel reaches in
 * one boot (a million sessions); should a kernel sid ever meet an id in
 * use, session_set_sid() refuses it and the kernel carrier fails that
 * login instead of showing two sessions under one id. */
#ifndef ISCSID_CARRIER_H
#define ISCSID_CARRIER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport.h"

struct carrier;
struct loop;
struct nl_iscsi;
struct node_rec;
struct session;
struct session_layer;
struct iscsid;

#define CARRIER_SID_USPACE_MIN 1000000u

struct carrier_ops {
	const char *name;                  /* iface.transport_name: "tcp", "uspace" */
	uint32_t sid_min;                  /* 0: ids from the carrier; else from the layer */
	int (*probe)(struct carrier *c, transport_done_fn done, void *data);
	int (*adopt)(struct carrier *c, transport_done_fn done, void *data);
	int (*login)(struct carrier *c, struct session *s, const struct transport_login *req,
		     transport_done_fn done, void *data);
	int (*logout)(struct carrier *c, struct session *s, transport_done_fn done, void *data);
	int (*rescan)(struct carrier *c, struct session *s, transport_done_fn done, void *data);
	int (*stats)(struct carrier *c, struct session *s, transport_done_fn done, void *data);
	void (*reload)(struct carrier *c);
	void (*free)(struct carrier *c);
};

/* Implementations embed this as their first member; the layer fills in
 * layer and next_sid when the carrier is added (session_layer_add_carrier). */
struct carrier {
	const struct carrier_ops *ops;
	struct session_layer *layer;
	uint32_t next_sid;                 /* sid_min carriers: the next id to try */
};

/* ---- lifecycle (what iscsiadm -m session -P 1 shows) ---- */

enum session_state {
	SESSION_LOGIN = 0,      /* the first login is under way: not listed yet */
	SESSION_LOGGED_IN,      /* full feature phase */
	SESSION_RECOVERY,       /* the connection is being replaced */
	SESSION_LOGOUT,         /* a logout is under way */
	SESSION_NSTATES,        /* (gone: session_end) */
};

/* The connection's phase while logging in or recovering; LOGGED_IN and
 * LOGOUT imply theirs. */
enum session_conn {
	SESSION_CONN_TRANSPORT_WAIT = 0,   /* connecting, or waiting to */
	SESSION_CONN_IN_LOGIN,             /* login PDUs under way */
	SESSION_CONN_LOGGED_IN,
	SESSION_CONN_IN_LOGOUT,            /* a logout the target asked for, before a re-login */
};

/* ---- reports from carriers (rule 3) ---- */

/* The session's state. Allowed: LOGIN -> LOGIN, LOGGED_IN;
 * LOGGED_IN -> RECOVERY, LOGOUT; RECOVERY -> RECOVERY, LOGGED_IN, LOGOUT;
 * LOGOUT -> LOGGED_IN (a logout that did not happen). Anything else is
 * refused with -EINVAL (logged), the state stays. */
int session_state_set(struct session *s, enum session_state st, enum session_conn conn);
/* The carrier's own id for s (sid_min == 0) and its SCSI host. -EEXIST
 * when another session has that id (s keeps none), -EINVAL for 0. */
int session_set_sid(struct session *s, uint32_t sid, uint32_t host_no);
/* The target portal group tag the login found (the record may say -1). */
void session_set_tpgt(struct session *s, int tpgt);
/* s is gone (logged out, given up, destroyed, its process died, or the
 * carrier stops). The layer removes it from the table and frees it. */
void session_end(struct session *s);
/* The carrier's own object for s. */
void session_set_priv(struct session *s, void *priv);
void *session_priv(const struct session *s);
uint32_t session_sid(const struct session *s);
/* "session 3 [iqn..., 192.0.2.1,3260]" (or "login [...]" before an id). */
const char *session_what(const struct session *s, char *buf, size_t len);

/* A session that outlived the previous iscsid. */
struct session_survivor {
	const struct node_rec *rec;     /* target, portal, iface, tpgt, timeouts (not kept) */
	uint32_t sid;                   /* the kernel's, or the one the layer once gave */
	uint32_t host_no;
	enum session_state state;       /* as the carrier finds it */
	enum session_conn conn;
};
/* Puts a survivor in the table. -EEXIST (its id is taken), -ERANGE (an
 * id below the carrier's sid_min), -EINVAL (no id, no record), -ENOSPC
 * (the table is full), -ENOMEM: the carrier then leaves that session as
 * it is and does not track it. */
int session_adopt(struct carrier *c, const struct session_survivor *sv, struct session **ret);

/* ---- policy for carriers that drive connection attempts themselves ----
 * (session_retry.c). The kernel carrier calls these; a carrier whose
 * sessions reconnect on their own (uspace) need not. */

/* Why an attempt failed and how it should count. The text is allocated
 * only when an attempt fails (a session that never fails carries none):
 * zero-initialise, set with session_err_set(), read with
 * session_err_msg(), release with session_err_clear(). */
struct session_err {
	int code;                       /* exit code (errors.h) */
	char *msg;                      /* at most TRANSPORT_MSG_MAX - 1 chars; NULL: none (or no memory) */
	bool fatal;                     /* never retry an initial login (24, 19, bad config) */
	bool now;                       /* retry at once, not counted (redirect, MD5 fall-back) */
	bool redirect;                  /* this attempt follows a redirection */
};

/* Replaces all of e (flags cleared, the old text freed). */
void session_err_set(struct session_err *e, int code, bool fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void session_err_vset(struct session_err *e, int code, bool fatal, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
/* The text, or the standard text of e->code when there is none. */
const char *session_err_msg(const struct session_err *e);
void session_err_clear(struct session_err *e);

/* Reconnect schedule: the first attempt after a connection is lost goes
 * out at once; after a failed attempt the next one follows after
 * SESSION_RETRY_FAST_MS while the outage is younger than
 * SESSION_RETRY_FAST_WINDOW_MS, then after SESSION_RETRY_SLOW_MS: at most
 * two attempts a second per session, one a second in a long outage. A
 * Time2Wait from the target replaces the next wait once. */
#define SESSION_RETRY_FAST_MS       500u
#define SESSION_RETRY_SLOW_MS       1000u
#define SESSION_RETRY_FAST_WINDOW_MS 30000u
#define SESSION_RETRY_LOG_MS        60000u /* "still failing" at most this often */
#define SESSION_MAX_REDIRECTS       8      /* per login, and per recovery */

enum session_next { SESSION_RETRY, SESSION_GIVE_UP };

/* The wait after a failed attempt in an outage (or an initial login)
 * that began outage_ms ago. */
unsigned session_retry_delay(uint64_t outage_ms);
/* An attempt starts: the initial login's budget counts from the first. */
void session_attempt_begin(struct session *s);
/* An attempt failed with e. An initial login gives up on a fatal error or
 * when initial_login_retry_max x login_timeout have passed since the
 * first attempt (a background login, session.h: no budget, but it ends
 * when layer->login_wanted says its node record is gone); a logged-in session retries whatever the error, until
 * node.session.reopen_max attempts (then e says so). Otherwise *ret_delay
 * is the wait before the next attempt. Logs the failure (rate-limited). */
enum session_next session_attempt_failed(struct session *s, struct session_err *e, uint64_t *ret_delay);
/* The connection of a logged-in session is gone and the carrier will
 * reconnect: the outage starts now. Returns the wait before the first
 * attempt (the target's Time2Wait, else 0). */
uint64_t session_outage_begin(struct session *s);
/* The target asked for Time2Wait seconds before the next login
 * (Async Message, Logout Response; RFC 7143 §11.9, §11.15). */
void session_time2wait(struct session *s, unsigned seconds);
/* One more redirection in this login or recovery: false beyond
 * SESSION_MAX_REDIRECTS. */
bool session_redirect_allowed(struct session *s);

/* ---- the carriers of this iscsid ---- */

/* The kernel carrier ("tcp"): usable when <sysfs_root>/class/iscsi_transport/tcp
 * exists. When it does not, the first operation that needs it runs
 * `<modprobe> -q iscsi_tcp` once as a child process (reaped through the
 * loop, killed after modprobe_timeout_ms) and looks again; SIGHUP
 * (reload) allows one more attempt. Once it exists, sessions run through
 * NETLINK_ISCSI (ksession.h); the first operation that finds it opens the
 * netlink socket and adopts the sessions the kernel already has. */
struct carrier_kernel_config {
	const char *sysfs_root;            /* NULL: "/sys" */
	const char *modprobe;              /* NULL: "modprobe" from PATH; "" disables loading */
	unsigned modprobe_timeout_ms;      /* 0: 10000 */
	struct iscsid *daemon;             /* configuration, initiator name, node database; NULL in tests */
	/* tests */
	const char *devdir;                /* NULL: /dev */
	const char *mountinfo;             /* NULL: /proc/self/mountinfo */
	const char *proc_netlink;          /* NULL: /proc/net/netlink */
	struct nl_iscsi *nl;               /* an nl_iscsi_open_io() context (taken over) */
};

int carrier_kernel_new(struct loop *l, const struct carrier_kernel_config *cfg, struct carrier **ret);

/* The userspace carrier ("uspace", carrier_uspace.c): one iscsi-uspace
 * process per session (libinitiator/uspace_ctl.h, doc/uspace.md), ids
 * from CARRIER_SID_USPACE_MIN. Usable when /dev/fuse opens and the
 * program can be run; the processes outlive iscsid and are adopted from
 * the run directory at start-up. */
struct carrier_uspace_config {
	struct iscsid *daemon;             /* initiator name, safe_logout, root; NULL in tests */
	const char *rundir;                /* NULL: uspace_rundir_for_root(daemon's root) */
	const char *program;               /* NULL: uspace_program() */
	const char *devfuse;               /* NULL: /dev/fuse */
};

int carrier_uspace_new(struct loop *l, const struct carrier_uspace_config *cfg, struct carrier **ret);

#endif
