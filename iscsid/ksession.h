/* The kernel carrier (iscsi_tcp through NETLINK_ISCSI, carrier.h): what
 * the files behind carrier_kernel.c share.
 *
 *   carrier_kernel.c  the carrier's ops table: is iscsi_tcp there (one
 *                modprobe), requests handed to the context
 *   kctx.c       the context: netlink socket on the loop, the deferred
 *                event queue, finished requests, the kernel sessions
 *   ksession.c   the kernel session state machine ({state, event, action}
 *                rows), what it reports to the session layer, and the
 *                requests it serves (login, logout, rescan, stats)
 *   kconn.c      one connection attempt: non-blocking TCP connect, kernel
 *                session/connection set-up, our login engine's PDUs
 *                through the kernel (MD5 fall-back, TSIH reinstatement),
 *                negotiated parameters, START_CONN
 *   krecovery.c  connection loss and the kernel's part of reconnecting
 *                (the schedule is the layer's: session_attempt_failed),
 *                Async Messages, logout PDUs
 *   kadopt.c     taking over the kernel's sessions after a restart
 *   kscan.c      SCSI scans off the loop, waiting for block devices
 *   kmount.c     is a device of a session mounted (iscsid.safe_logout)
 *
 * Every kernel session has its entry in the session layer (ks->sess),
 * opened by the layer before the login, or by session_adopt(); ks_report()
 * tells the layer the lifecycle state after every transition and ends
 * the entry when the session dies. Policy that is not the kernel's (the
 * retry budget, the reconnect schedule, the redirection limit, duplicate
 * logins, the table's size) is the layer's.
 *
 * Everything runs on the event loop. Netlink events never run session
 * code directly: the netlink callback only copies them into a queue that
 * a zero timer ("the pump") works through, so a session's actions never
 * re-enter one another (STYLE.md: OpenBSD's deferred session machine). */
#ifndef ISCSID_KSESSION_H
#define ISCSID_KSESSION_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "login.h"
#include "loop.h"
#include "params.h"
#include "record.h"
#include "carrier.h"
#include "transport.h"

struct iscsid;
struct nl_iscsi;
struct nl_msg_info;
struct scan_job;
struct kscan;
struct session;

/* ---- limits and timing ---- */

#define KS_EVQ_MAX_EVENTS      4096   /* deferred netlink events */
#define KS_EVQ_MAX_BYTES       (8u * 1024u * 1024u)
#define KS_PUMP_BATCH          256    /* events per pump run before yielding */
#define KS_DEVWAIT_MS          30000u /* waiting for block devices after a scan */
#define KS_DEVPOLL_MS          20u
#define KS_UNBIND_MIN_MS       30000u /* SCSI target removal may flush caches */
#define KS_DESTROY_POLL_MS     100u   /* a lost KEVENT_DESTROY_SESSION is noticed in sysfs */
#define KS_DESTROY_WAIT_MS     60000u /* then the logout is answered anyway */
#define KS_MAX_DEVICES         256    /* names reported per request */
#define KS_STRS_INLINE         232    /* a session's names, kept in its struct when they fit */

/* ---- the session machine ---- */

enum ks_state {
	KS_FREE = 0,        /* nothing started */
	KS_XPT_WAIT,        /* TCP connect in progress */
	KS_IN_LOGIN,        /* login PDUs through the kernel */
	KS_LOGGED_IN,       /* full feature phase */
	KS_REOPEN_WAIT,     /* connection gone: waiting to reconnect */
	KS_UNBINDING,       /* logout: waiting for the kernel to remove the SCSI target */
	KS_IN_LOGOUT,       /* logout: Logout Request sent, waiting for the response */
	KS_RELOGOUT,        /* target asked for a logout; we relogin after it */
	KS_DEAD,            /* cleaned up; freed after the current event */
	KS_NSTATES,
};

enum ks_event {
	KE_NONE = 0,
	KE_START,           /* a login request */
	KE_REOPEN,          /* the reconnect timer fired */
	KE_CONNECTED,       /* TCP connect finished */
	KE_LOGIN_RSP,       /* a Login Response arrived (RECV_PDU) */
	KE_LOGIN_DONE,      /* the login engine reached the full feature phase */
	KE_FAIL,            /* this attempt failed (ks->err says why) */
	KE_GIVE_UP,         /* no more attempts: report and clean up */
	KE_TIMEOUT,         /* the state's timer fired */
	KE_CONN_ERROR,      /* CONN_ERROR from the kernel */
	KE_HOST_GONE,       /* CONN_ERROR ISCSI_ERR_INVALID_HOST: shut down */
	KE_DROP,            /* we drop the connection (renegotiation, resync) */
	KE_LOGOUT,          /* a logout request */
	KE_UNBOUND,         /* KEVENT_UNBIND_SESSION */
	KE_LOGOUT_RSP,      /* a Logout Response arrived */
	KE_ASYNC_LOGOUT,    /* Async Message: the target requests a logout */
	KE_STOP,            /* iscsid is stopping */
	KE_NEVENTS,
};

/* A transport operation waiting for its answer. */
struct kreq {
	transport_done_fn done;
	void *data;
	struct transport_result res;
	char *devnames[KS_MAX_DEVICES];         /* owned; res.devices points here */
	const char *devptrs[KS_MAX_DEVICES];
	struct transport_stat *stats;           /* owned */
	struct kreq *next;
};

/* The CHAP credentials of a session: one allocation, wiped before it is
 * freed. Strings are "" when unset. */
struct ks_auth {
	size_t size;                    /* of the allocation */
	const char *username, *password, *username_in, *password_in;
	const char *chap_algs;          /* node.session.auth.chap_algs */
	char buf[];
};

/* What a kernel session keeps of its node record: the values its
 * connection attempts (the first login, every re-login in recovery), its
 * logout and its log lines use, copied when the login is asked for (an
 * -o update changes the next login, not a running session, as in
 * open-iscsi). A struct node_rec is ~12 KB, mostly offload and unknown
 * keys; this is a few hundred bytes: the strings live in one allocation
 * (strs), the credentials in another (auth, NULL when there are none).
 * Numbers mean what the node record's fields of the same name mean. */
struct ks_params {
	const char *target;             /* node.name */
	const char *address;            /* node.conn[0].address (connects: ks->addr) */
	const char *iface_name;         /* iface.iscsi_ifacename; "" default */
	const char *netdev, *hwaddress, *ipaddress;  /* the iface's binding (bind.h) */
	const char *iname, *ialias;     /* the initiator's name and alias in this session */
	char *strs;                     /* the strings above: the caller's buffer or owned */
	bool strs_owned;
	struct ks_auth *auth;           /* owned, wiped on free; NULL: no credentials */
	int tpgt;
	int port;                       /* node.conn[0].port */
	/* node.conn[0] */
	int login_timeout, logout_timeout;
	int tcp_window_size;
	int noop_out_interval, noop_out_timeout;
	int max_xmit_dlength, max_recv_dlength;
	enum rec_digest header_digest, data_digest;
	/* node.session */
	int initial_cmdsn, cmds_max, queue_depth;
	int replacement_timeout, abort_timeout, lu_reset_timeout, tgt_reset_timeout;
	bool fast_abort, initial_r2t, immediate_data;
	int first_burst_length, max_burst_length;
	int default_time2wait, default_time2retain, max_outstanding_r2t;
	enum rec_scan scan;
};

/* Fills p from rec and the initiator name and alias (NULL: ""); the
 * strings go into buf (cap bytes) when they fit, else into an allocation
 * of their own. 0 or -ENOMEM (p holds nothing then). */
int ks_params_set(struct ks_params *p, const struct node_rec *rec, const char *iname, const char *ialias,
		  char *buf, size_t cap);
/* Frees what p owns; the credentials are wiped first. */
void ks_params_clear(struct ks_params *p);
/* The credentials, all "" when there are none. */
const struct ks_auth *ks_params_auth(const struct ks_params *p);

struct ksession {
	struct kctx *k;
	struct ksession *next;
	struct session *sess;           /* the layer's entry; NULL once ended */
	enum ks_state state;

	/* kernel objects */
	uint32_t sid, cid, host_no;
	bool have_session;              /* CREATE_SESSION done */
	bool have_conn;                 /* CREATE_CONN done */
	bool bound;                     /* BIND_CONN done since the last STOP_CONN */
	bool started;                   /* START_CONN done (conn running) */
	bool ever_logged_in;            /* a recovery, not an initial login */
	bool adopted;                   /* found in sysfs at start-up */
	bool no_scan;                   /* IPC_LOGIN_NO_SCAN */
	bool scan_pending;              /* adopted before its LUNs were scanned: scan once logged in again */
	bool wait_devices;              /* IPC_LOGIN_WAIT_DEVICES */
	bool ping_tmo_ok;               /* kernel does NOP-Outs (sysfs ping_tmo exists) */

	struct ks_params p;             /* what it keeps of its node record */
	char strbuf[KS_STRS_INLINE];    /* p's strings, when they fit */

	/* where the next connect goes (RFC 7143 §11.13.5: redirection):
	 * failback_addr, or a temporary redirection's own copy */
	const char *addr;
	int port;
	const char *failback_addr;      /* p.address, or a permanent redirection's own copy */
	int failback_port;

	int fd;                         /* our copy of the TCP socket, -1 */
	struct loop_work *resolving;    /* host name lookup off the loop (kconn.c) */
	struct loop_io *io;
	struct loop_timer timer;        /* login / reconnect / logout timeouts */

	struct login *login;
	bool md5_only;                  /* LOGIN_RETRY_MD5 was asked for */
	uint16_t tsih;                  /* of the session at the target; 0 unknown */
	bool tsih_refused;              /* target said the session is gone: reinstate */
	struct iscsi_params neg;        /* negotiated on the leading login */
	bool have_neg;

	bool rsp_seen;                  /* a Login Response came in this attempt */
	unsigned silent_drops;          /* attempts the target closed without answering */
	struct session_err err;         /* why this attempt failed (ks_fail) */
	uint32_t conn_error;            /* ISCSI_IF_ERR_* of the CONN_ERROR being handled */
	const uint8_t *rx_pdu;          /* the PDU of the event being handled */
	size_t rx_len;
	struct login_result result;     /* of the login that just finished */

	struct kreq *login_req;         /* answered when the login finishes */
	struct kreq *logout_req;
	struct kscan *login_scan;       /* the scan that answers login_req */
};

/* ---- the context (kctx.c) ---- */

struct kev;

struct kctx {
	struct loop *loop;
	struct iscsid *d;                    /* config, initiator name, node database; may be NULL in tests */
	struct carrier *carrier;             /* ours (session_adopt) */
	char sysfs_buf[PATH_MAX];
	const char *sysfs;                   /* NULL: /sys */
	char devdir[PATH_MAX];               /* "/dev" */
	char mountinfo[PATH_MAX];            /* "/proc/self/mountinfo" */
	char proc_netlink[PATH_MAX];         /* "/proc/net/netlink" (adoption) */
	struct nl_iscsi *nl;
	struct loop_io *nl_io;
	struct loop_timer pump;
	bool pumping;
	struct kev *evq_head, *evq_tail;
	size_t evq_n, evq_bytes;
	bool overrun;
	struct kreq *fin_head, *fin_tail;    /* answers to deliver from the pump */
	struct ksession *sessions;
	size_t nsessions;
	struct kscan *scans;                 /* running scans */
	bool stopping;
	struct kdestroy *destroys;           /* DESTROY_SESSION_ASYNC sent, not done */
	struct loop_timer destroy_poll;
	bool no_async_destroy;               /* the kernel lacks DESTROY_SESSION_ASYNC */
};

struct kctx_config {
	struct loop *loop;
	struct iscsid *daemon;
	const char *sysfs_root;              /* NULL: /sys */
	const char *devdir;                  /* NULL: /dev */
	const char *mountinfo;               /* NULL: /proc/self/mountinfo */
	const char *proc_netlink;            /* NULL: /proc/net/netlink */
	struct nl_iscsi *nl;                 /* tests: an nl_iscsi_open_io() context (taken over) */
	struct carrier *carrier;
};

int kctx_new(const struct kctx_config *cfg, struct kctx **ret);
/* Answers everything pending with "iscsid is stopping"; sessions live on
 * in the kernel. NULL is a no-op. */
void kctx_free(struct kctx *k);

/* The carrier operations (carrier.h semantics: 0 = accepted and done
 * will be called later from the loop; < 0 = nothing started). */
int kctx_login(struct kctx *k, struct session *s, const struct transport_login *req, transport_done_fn done,
	       void *data);
int kctx_logout(struct kctx *k, uint32_t sid, transport_done_fn done, void *data);
int kctx_rescan(struct kctx *k, uint32_t sid, transport_done_fn done, void *data);
int kctx_stats(struct kctx *k, uint32_t sid, transport_done_fn done, void *data);

/* Schedules the pump (after netlink requests left events queued, or an
 * internal event was posted). */
void kctx_poke(struct kctx *k);
/* Moves whatever netlink holds into the deferred queue, then drops the
 * queued CONN_ERROR / RECV_PDU events of sid: called right before a new
 * BIND_CONN, after which they could only be mistaken for news about the
 * new connection. */
void kctx_drop_stale(struct kctx *k, uint32_t sid);
/* A logged-out session's DESTROY_SESSION without holding the loop: sends
 * DESTROY_SESSION_ASYNC (the kernel removes the SCSI host from a worker,
 * so N logouts tear down side by side rather than one after the other)
 * and finishes req once the kernel reports KEVENT_DESTROY_SESSION or the
 * session is gone from sysfs. < 0: nothing sent (kernel without it), the
 * caller destroys it itself; req is untouched then. */
int kctx_destroy_async(struct kctx *k, uint32_t sid, struct kreq *req);
/* Posts an internal event for a session, handled by the pump in order. */
int kctx_post(struct kctx *k, uint32_t sid, enum ks_event ev);

struct kreq *kreq_new(transport_done_fn done, void *data);
/* Queues r for delivery from the pump; r is freed after done(). */
void kreq_finish(struct kctx *k, struct kreq *r);
/* Copies names into r (at most KS_MAX_DEVICES). -ENOMEM. */
int kreq_set_devices(struct kreq *r, char *const *names, size_t n);
void kreq_free(struct kreq *r);

struct ksession *kctx_find(const struct kctx *k, uint32_t sid);
/* Tests: the context of a kernel carrier, once an operation created it. */
struct kctx *carrier_kernel_kctx(struct carrier *c);

/* ---- the session machine (ksession.c) ---- */

/* A session for rec, logged in as iname (alias: ialias, NULL none). NULL
 * when out of memory. */
struct ksession *ks_new(struct kctx *k, const struct node_rec *rec, const char *iname, const char *ialias);
/* Unlinks and frees; closes our descriptors, wipes secrets. */
void ks_free(struct ksession *ks);
/* The memory the kernel sessions' structs take (pool.h): tests. */
size_t ks_pool_bytes(void);
/* Runs ev (and the events its actions chain) through the table. */
void ks_fsm(struct ksession *ks, enum ks_event ev);
const char *ks_state_name(enum ks_state s);
const char *ks_event_name(enum ks_event e);
/* A netlink event for this session (from the pump). */
void ks_on_kevent(struct ksession *ks, uint32_t type, uint32_t error, const uint8_t *pdu, size_t len);
/* Tells the session layer the lifecycle state that goes with ks's state
 * (session_state_set), or ends the entry once ks is DEAD (session_end).
 * ks_fsm() and ks_free() call it after every change. */
void ks_report(struct ksession *ks);
void ks_fail(struct ksession *ks, int code, bool fatal, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "[sid: 1, target: iqn..., portal: 192.0.2.1,3260]" for logs. */
const char *ks_what(const struct ksession *ks, char *buf, size_t len);
/* The next connect goes to the failback address again (after a
 * temporary redirection, or a connection lost). */
void ks_addr_failback(struct ksession *ks);
/* A redirection to host:port; a permanent one also moves the failback
 * address. -ENOMEM (nothing changed). */
int ks_addr_redirect(struct ksession *ks, const char *host, int port, bool permanent);

/* ---- one connection attempt (kconn.c) ---- */

/* Opens the socket and starts a non-blocking connect to ks->addr:port,
 * arms the login timer. KE_NONE, or KE_FAIL with ks->err set. */
enum ks_event kconn_connect(struct ksession *ks);
/* The socket is connected: session, connection, bind, parameters, first
 * Login Request. KE_NONE (now in login), or KE_FAIL. */
enum ks_event kconn_start_login(struct ksession *ks);
/* A Login Response: KE_NONE (next request sent), KE_LOGIN_DONE, KE_FAIL. */
enum ks_event kconn_login_rsp(struct ksession *ks, const uint8_t *pdu, size_t len);
/* Negotiated parameters, EXP_STATSN, START_CONN. KE_NONE or KE_FAIL. */
enum ks_event kconn_full_feature(struct ksession *ks);
/* Closes our socket and login state (not the kernel's objects). */
void kconn_close(struct ksession *ks);
/* STOP_CONN TERM, DESTROY_CONN, DESTROY_SESSION as far as they exist. */
void kconn_teardown(struct ksession *ks);
/* The login engine's wishes from a session's parameters. 0 or -EINVAL
 * (why in err). */
int kconn_wishes(const struct ks_params *p, struct iscsi_params *ret, char *err, size_t errlen);

/* ---- recovery and logout (krecovery.c) ---- */

/* After a failed attempt: the layer decides (session_attempt_failed):
 * KE_GIVE_UP, or KE_NONE with the reconnect scheduled (KE_REOPEN from the
 * timer). */
enum ks_event krec_attempt_failed(struct ksession *ks);
/* The connection of a logged-in session is gone: STOP_CONN RECOVER,
 * schedule the reconnect (session_outage_begin). */
enum ks_event krec_conn_lost(struct ksession *ks);
/* Logout: UNBIND_SESSION (KE_UNBOUND follows), the Logout Request. */
enum ks_event krec_unbind(struct ksession *ks);
enum ks_event krec_send_logout(struct ksession *ks);
/* A Logout Response PDU: remembers Time2Wait. */
void krec_logout_rsp(struct ksession *ks, const uint8_t *pdu, size_t len);
/* An Async Message PDU (RFC 7143 §11.9): may post events. */
void krec_async(struct ksession *ks, const uint8_t *pdu, size_t len);
/* After a successful re-login: LUNs back to running. */
void krec_online_devices(struct ksession *ks);

/* ---- adoption (kadopt.c) ---- */

/* Takes over every iscsi_tcp session sysfs lists (each into the layer's
 * table through session_adopt), destroys the ones a dead daemon left
 * half-made (kadopt.c). Returns how many it adopted. */
size_t kadopt_all(struct kctx *k);
/* After lost events: compare what we track with sysfs. */
void kadopt_resync(struct kctx *k);

/* ---- scans (kscan.c) ---- */

enum kscan_kind {
	KSCAN_LOGIN,        /* host scan after login; answers the login */
	KSCAN_RESCAN,       /* -R: host scan + LUN rescans; answers the request */
	KSCAN_EVENT,        /* REPORTED LUNS DATA HAS CHANGED: host scan, no answer */
};

/* Starts a scan for ks; req (may be NULL) is answered when it ends, with
 * the block devices when wait_devices (always for RESCAN). */
int kscan_start(struct ksession *ks, enum kscan_kind kind, bool wait_devices, struct kreq *req);
/* Forget the scans of a session that goes away (requests answered with
 * code, message). */
void kscan_abort_session(struct ksession *ks, int code, const char *msg);
void kscan_free_all(struct kctx *k, int code, const char *msg);
/* A sysfs write off the loop whose outcome is only logged. */
int kscan_write(struct kctx *k, const char *relpath, const char *value);

/* Block devices of the disk LUNs of sid (sd: types 0, 7, 0xe, 0x14):
 * 1 and the names (sorted by LUN; free with kscan_names_free) when every
 * disk LUN has its /dev node, 0 when some have not yet, < 0 on error.
 * why names a missing one. */
int kscan_devices(const char *sysfs, const char *devdir, uint32_t sid, char ***ret_names,
		  size_t *ret_n, char *why, size_t whylen);
void kscan_names_free(char **names, size_t n);

/* ---- mounts (kmount.c) ---- */

/* 1 when a block device of sid, a partition of one, or a device stacked
 * on one (holders/, recursively) is mounted according to mountinfo (why
 * says which and where); 0 when none; < 0 on error. */
int kmount_session_busy(const char *sysfs, const char *mountinfo, uint32_t sid, char *why,
			size_t whylen);

#endif
