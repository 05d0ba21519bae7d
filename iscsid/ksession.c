/* The session state machine of the kernel path, as data: rows of
 * {state, event, next state, action}. ks_fsm() finds the row, logs one
 * line "state -event-> next", switches state and runs the action, which
 * may hand back one more event (an attempt that failed, a login that
 * finished). A session that ends in DEAD is freed before ks_fsm returns.
 *
 * One connection per session (open-iscsi's model, ERL 0). The phases a
 * connection goes through are RFC 7143 §6 (login), §7.1.4 (recovery at
 * ERL 0: the connection is replaced, the session reinstated) and §11.14
 * (logout). kconn.c, krecovery.c and kscan.c do the work. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "iscsi_if.h"
#include "ipc.h"
#include "iscsid.h"
#include "ksession.h"
#include "log.h"
#include "login.h"
#include "nl.h"
#include "pdu.h"
#include "pool.h"

#define KS_ANY KS_NSTATES

typedef enum ks_event (*ks_action)(struct ksession *ks);

struct ks_row {
	enum ks_state state;      /* KS_ANY: every state */
	enum ks_event ev;
	enum ks_state next;
	ks_action fn;
};

static const char *const state_names[KS_NSTATES] = {
	[KS_FREE] = "FREE",
	[KS_XPT_WAIT] = "XPT_WAIT",
	[KS_IN_LOGIN] = "IN_LOGIN",
	[KS_LOGGED_IN] = "LOGGED_IN",
	[KS_REOPEN_WAIT] = "REOPEN_WAIT",
	[KS_UNBINDING] = "UNBINDING",
	[KS_IN_LOGOUT] = "IN_LOGOUT",
	[KS_RELOGOUT] = "RELOGOUT",
	[KS_DEAD] = "DEAD",
};

static const char *const event_names[KE_NEVENTS] = {
	[KE_NONE] = "none",
	[KE_START] = "start",
	[KE_REOPEN] = "reopen",
	[KE_CONNECTED] = "connected",
	[KE_LOGIN_RSP] = "login-rsp",
	[KE_LOGIN_DONE] = "login-done",
	[KE_FAIL] = "fail",
	[KE_GIVE_UP] = "give-up",
	[KE_TIMEOUT] = "timeout",
	[KE_CONN_ERROR] = "conn-error",
	[KE_HOST_GONE] = "host-gone",
	[KE_DROP] = "drop",
	[KE_LOGOUT] = "logout",
	[KE_UNBOUND] = "unbound",
	[KE_LOGOUT_RSP] = "logout-rsp",
	[KE_ASYNC_LOGOUT] = "async-logout",
	[KE_STOP] = "stop",
};

const char *ks_state_name(enum ks_state s)
{
	return s < KS_NSTATES ? state_names[s] : "?";
}

const char *ks_event_name(enum ks_event e)
{
	return e < KE_NEVENTS ? event_names[e] : "?";
}

/* ---- actions ---- */

static enum ks_event a_connect(struct ksession *ks)
{
	return kconn_connect(ks);
}

static enum ks_event a_start_login(struct ksession *ks)
{
	return kconn_start_login(ks);
}

static enum ks_event a_login_rsp(struct ksession *ks)
{
	return kconn_login_rsp(ks, ks->rx_pdu, ks->rx_len);
}

static enum ks_event a_full_feature(struct ksession *ks)
{
	enum ks_event ev = kconn_full_feature(ks);
	/* a logged-in session keeps no text of the last failed attempt */
	if (ev == KE_NONE)
		session_err_clear(&ks->err);
	return ev;
}

static enum ks_event a_timeout(struct ksession *ks)
{
	/* open-iscsi's codes: 8 while connecting, 11 once the Login
	 * Request is out and the target does not answer it */
	if (ks->state == KS_XPT_WAIT)
		ks_fail(ks, ISCSI_ERR_TRANS_TIMEOUT, false, "timed out connecting to %s:%d after %d s", ks->addr,
			ks->port, ks->p.login_timeout);
	else
		ks_fail(ks, ISCSI_ERR_PDU_TIMEOUT, false,
			"login timed out after %d s: the target did not answer the Login Request",
			ks->p.login_timeout);
	return KE_FAIL;
}

/* What a CONN_ERROR during login says about the target: the socket
 * closed or failed (the network, or the target hanging up), or the kernel
 * refused a PDU the target sent (libiscsi_tcp checks every header before
 * a PDU reaches us), or something else went wrong in the kernel. */
enum conn_error_kind { CE_CLOSE, CE_PDU, CE_OTHER };

static enum conn_error_kind conn_error_kind(uint32_t e)
{
	switch (e) {
	case ISCSI_IF_ERR_TCP_CONN_CLOSE:
	case ISCSI_IF_ERR_CONN_FAILED:
	case ISCSI_IF_ERR_XMIT_FAILED:
		return CE_CLOSE;
	case ISCSI_IF_ERR_DATASN:
	case ISCSI_IF_ERR_DATA_OFFSET:
	case ISCSI_IF_ERR_MAX_CMDSN:
	case ISCSI_IF_ERR_EXP_CMDSN:
	case ISCSI_IF_ERR_BAD_OPCODE:
	case ISCSI_IF_ERR_DATALEN:
	case ISCSI_IF_ERR_AHSLEN:
	case ISCSI_IF_ERR_PROTO:
	case ISCSI_IF_ERR_LUN:
	case ISCSI_IF_ERR_BAD_ITT:
	case ISCSI_IF_ERR_R2TSN:
	case ISCSI_IF_ERR_HDR_DGST:
	case ISCSI_IF_ERR_DATA_DGST:
	case ISCSI_IF_ERR_NO_SCSI_CMD:
		return CE_PDU;
	default:
		return CE_OTHER;
	}
}

static const char *conn_error_reason(uint32_t e)
{
	switch (e) {
	case ISCSI_IF_ERR_DATALEN:
		return "its DataSegmentLength exceeds what the kernel accepts";
	case ISCSI_IF_ERR_BAD_ITT:
		return "it carried an Initiator Task Tag the kernel never issued";
	case ISCSI_IF_ERR_BAD_OPCODE:
		return "its opcode is not one a target may send";
	case ISCSI_IF_ERR_AHSLEN:
		return "its AHS length is invalid";
	case ISCSI_IF_ERR_PROTO:
		return "it breaks the protocol";
	case ISCSI_IF_ERR_HDR_DGST:
	case ISCSI_IF_ERR_DATA_DGST:
		return "its digest does not match";
	case ISCSI_IF_ERR_EXP_CMDSN:
	case ISCSI_IF_ERR_MAX_CMDSN:
		return "its command sequence numbers are out of range";
	default:
		return "the kernel could not accept it";
	}
}

static enum ks_event a_login_conn_error(struct ksession *ks)
{
	uint32_t e = ks->conn_error;
	switch (conn_error_kind(e)) {
	case CE_PDU:
		/* The target sent something the kernel refused (a Login
		 * Response with a wrong ITT or a DataSegmentLength beyond
		 * 8192, say): a protocol error by the target, exit 19 as
		 * when the login engine finds one itself (login.h) and as
		 * open-iscsi answers a Login Response it cannot use. A
		 * target that does this does it again: no retry of an
		 * initial login. */
		ks->silent_drops = 0;
		ks_fail(ks, ISCSI_ERR_FATAL_LOGIN, true,
			"protocol error by the target: the kernel rejected the PDU it sent during login, because "
			"%s (connection error %" PRIu32 ", %s)",
			conn_error_reason(e), e, nl_conn_error_name(e));
		return KE_FAIL;
	case CE_OTHER:
		ks->silent_drops = 0;
		ks_fail(ks, ISCSI_ERR_TRANS, false,
			"the kernel failed the connection during login (connection error %" PRIu32 ", %s)", e,
			nl_conn_error_name(e));
		return KE_FAIL;
	case CE_CLOSE:
		break;
	}
	/* Events arrive in order: a Login Response sent before the target
	 * closed the connection has been handled already (LIO answers a
	 * CHAP failure with 0x0201 and closes at once). */
	if (ks->rsp_seen) {
		ks->silent_drops = 0;
		ks_fail(ks, ISCSI_ERR_TRANS, false, "the connection closed during login");
		return KE_FAIL;
	}
	/* Closed without a word in answer to our first Login Request, which
	 * is all security negotiation: LIO does this when the AuthMethod we
	 * offer is not one it accepts (it requires CHAP and we have no
	 * credentials). Once may be the network; twice is the target
	 * refusing us. Only a close counts: a PDU the kernel refused is
	 * the target's protocol error, above. */
	if (++ks->silent_drops >= 2 && !ks->ever_logged_in) {
		ks_fail(ks, ISCSI_ERR_LOGIN_AUTH_FAILED, true,
			"the target closed the connection without answering the login, twice: it refused our "
			"authentication (%s)",
			ks_params_auth(&ks->p)->username[0] ? "CHAP" : "no CHAP credentials configured");
		return KE_FAIL;
	}
	ks_fail(ks, ISCSI_ERR_TRANS, false, "the target closed the connection without answering the login");
	ks->err.now = ks->silent_drops < 2;
	return KE_FAIL;
}

static enum ks_event a_attempt_failed(struct ksession *ks)
{
	return krec_attempt_failed(ks);
}

static enum ks_event a_conn_lost(struct ksession *ks)
{
	return krec_conn_lost(ks);
}

static enum ks_event a_unbind(struct ksession *ks)
{
	return krec_unbind(ks);
}

static enum ks_event a_send_logout(struct ksession *ks)
{
	return krec_send_logout(ks);
}

/* Answers what waits on the session. */
static void answer_pending(struct ksession *ks, int login_code, const char *login_msg, int logout_code,
			   const char *logout_msg)
{
	if (ks->login_req) {
		ks->login_req->res.status = login_code;
		snprintf(ks->login_req->res.message, sizeof(ks->login_req->res.message), "%s", login_msg);
		kreq_finish(ks->k, ks->login_req);
		ks->login_req = NULL;
	}
	if (ks->logout_req) {
		ks->logout_req->res.status = logout_code;
		snprintf(ks->logout_req->res.message, sizeof(ks->logout_req->res.message), "%s", logout_msg);
		kreq_finish(ks->k, ks->logout_req);
		ks->logout_req = NULL;
	}
}

/* The end of a session: logout done, login given up, host removed. */
static enum ks_event a_shutdown(struct ksession *ks)
{
	char what[700];
	int code = ks->err.code ? ks->err.code : ISCSI_ERR_LOGIN;
	const char *msg = session_err_msg(&ks->err);

	loop_timer_disarm(ks->k->loop, &ks->timer);
	kscan_abort_session(ks, ISCSI_ERR_SESS_NOT_FOUND, "the session ended");
	kconn_close(ks);
	kconn_teardown(ks);
	if (ks->ever_logged_in)
		log_info("%s is shut down", ks_what(ks, what, sizeof(what)));
	answer_pending(ks, code, msg, 0, "");
	return KE_NONE;
}

/* iscsid stops: sessions live on in the kernel; a login that has not
 * finished is undone (no half-made session is left behind). */
static enum ks_event a_stop(struct ksession *ks)
{
	loop_timer_disarm(ks->k->loop, &ks->timer);
	kscan_abort_session(ks, ISCSI_ERR_INTERNAL, "iscsid is stopping");
	kconn_close(ks);
	if (!ks->ever_logged_in)
		kconn_teardown(ks);
	answer_pending(ks, ISCSI_ERR_INTERNAL, "iscsid is stopping", ISCSI_ERR_INTERNAL, "iscsid is stopping");
	return KE_NONE;
}

static const struct ks_row rows[] = {
	/* login (initial, and every reconnect) */
	{ KS_FREE, KE_START, KS_XPT_WAIT, a_connect },
	{ KS_REOPEN_WAIT, KE_REOPEN, KS_XPT_WAIT, a_connect },
	{ KS_XPT_WAIT, KE_CONNECTED, KS_IN_LOGIN, a_start_login },
	{ KS_XPT_WAIT, KE_TIMEOUT, KS_XPT_WAIT, a_timeout },
	{ KS_XPT_WAIT, KE_FAIL, KS_REOPEN_WAIT, a_attempt_failed },
	{ KS_IN_LOGIN, KE_LOGIN_RSP, KS_IN_LOGIN, a_login_rsp },
	{ KS_IN_LOGIN, KE_TIMEOUT, KS_IN_LOGIN, a_timeout },
	{ KS_IN_LOGIN, KE_CONN_ERROR, KS_IN_LOGIN, a_login_conn_error },
	{ KS_IN_LOGIN, KE_FAIL, KS_REOPEN_WAIT, a_attempt_failed },
	{ KS_IN_LOGIN, KE_LOGIN_DONE, KS_LOGGED_IN, a_full_feature },
	{ KS_LOGGED_IN, KE_FAIL, KS_REOPEN_WAIT, a_attempt_failed },   /* START_CONN refused */
	{ KS_REOPEN_WAIT, KE_GIVE_UP, KS_DEAD, a_shutdown },
	/* recovery (RFC 7143 §7.1.4.3: ERL 0 replaces the connection) */
	{ KS_LOGGED_IN, KE_CONN_ERROR, KS_REOPEN_WAIT, a_conn_lost },
	{ KS_LOGGED_IN, KE_DROP, KS_REOPEN_WAIT, a_conn_lost },
	{ KS_LOGGED_IN, KE_ASYNC_LOGOUT, KS_RELOGOUT, a_send_logout },
	{ KS_RELOGOUT, KE_LOGOUT_RSP, KS_REOPEN_WAIT, a_conn_lost },
	{ KS_RELOGOUT, KE_TIMEOUT, KS_REOPEN_WAIT, a_conn_lost },
	{ KS_RELOGOUT, KE_CONN_ERROR, KS_REOPEN_WAIT, a_conn_lost },
	/* logout (reference §2.7) */
	{ KS_LOGGED_IN, KE_LOGOUT, KS_UNBINDING, a_unbind },
	{ KS_UNBINDING, KE_UNBOUND, KS_IN_LOGOUT, a_send_logout },
	{ KS_UNBINDING, KE_TIMEOUT, KS_IN_LOGOUT, a_send_logout },
	{ KS_IN_LOGOUT, KE_LOGOUT_RSP, KS_DEAD, a_shutdown },
	{ KS_IN_LOGOUT, KE_TIMEOUT, KS_DEAD, a_shutdown },
	{ KS_IN_LOGOUT, KE_CONN_ERROR, KS_DEAD, a_shutdown },
	/* logout while the session is being recovered: nothing to log out of */
	{ KS_XPT_WAIT, KE_LOGOUT, KS_DEAD, a_shutdown },
	{ KS_IN_LOGIN, KE_LOGOUT, KS_DEAD, a_shutdown },
	{ KS_REOPEN_WAIT, KE_LOGOUT, KS_DEAD, a_shutdown },
	{ KS_RELOGOUT, KE_LOGOUT, KS_DEAD, a_shutdown },
	/* the end */
	{ KS_ANY, KE_HOST_GONE, KS_DEAD, a_shutdown },
	{ KS_ANY, KE_STOP, KS_DEAD, a_stop },
};

static const struct ks_row *find_row(enum ks_state s, enum ks_event ev)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (rows[i].ev == ev && (rows[i].state == s || rows[i].state == KS_ANY))
			return &rows[i];
	return NULL;
}

const char *ks_what(const struct ksession *ks, char *buf, size_t len)
{
	if (ks->sid)
		snprintf(buf, len, "session %" PRIu32 " [%s, %s,%d]", ks->sid, ks->p.target, ks->p.address,
			 ks->p.port);
	else
		snprintf(buf, len, "login [%s, %s,%d]", ks->p.target, ks->p.address, ks->p.port);
	return buf;
}

/* addr and failback_addr are p.address until a redirection gives them
 * copies of their own */
static void addr_free(struct ksession *ks)
{
	if (ks->addr != ks->failback_addr)
		free((char *)ks->addr);
	ks->addr = ks->failback_addr;
}

void ks_addr_failback(struct ksession *ks)
{
	addr_free(ks);
	ks->port = ks->failback_port;
}

int ks_addr_redirect(struct ksession *ks, const char *host, int port, bool permanent)
{
	char *h = strdup(host);
	if (!h)
		return -ENOMEM;
	addr_free(ks);
	if (permanent) {
		if (ks->failback_addr != ks->p.address)
			free((char *)ks->failback_addr);
		ks->failback_addr = h;
		ks->failback_port = port;
	}
	ks->addr = h;
	ks->port = port;
	return 0;
}

void ks_fsm(struct ksession *ks, enum ks_event ev)
{
	char what[700];
	/* a chain is short (fail -> give-up); the bound guards a loop */
	for (int n = 0; ev != KE_NONE && n < 16; n++) {
		const struct ks_row *row = find_row(ks->state, ev);
		if (!row) {
			log_debug(2, "%s: %s ignored in %s", ks_what(ks, what, sizeof(what)), ks_event_name(ev),
				  ks_state_name(ks->state));
			break;
		}
		log_info("%s: %s -%s-> %s", ks_what(ks, what, sizeof(what)), ks_state_name(ks->state),
			 ks_event_name(ev), ks_state_name(row->next));
		ks->state = row->next;
		ev = row->fn ? row->fn(ks) : KE_NONE;
		ks_report(ks);
	}
	if (ks->state == KS_DEAD)
		ks_free(ks);
}

void ks_fail(struct ksession *ks, int code, bool fatal, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	session_err_vset(&ks->err, code, fatal, fmt, ap);
	va_end(ap);
}

/* A kernel event for this session, from the pump. */
void ks_on_kevent(struct ksession *ks, uint32_t type, uint32_t error, const uint8_t *pdu, size_t len)
{
	char what[700];
	enum ks_event ev = KE_NONE;

	switch (type) {
	case ISCSI_KEVENT_CONN_ERROR:
		ks->conn_error = error;
		if (ks->state == KS_LOGGED_IN || ks->state == KS_IN_LOGIN)
			log_warnx("%s: kernel reports connection error %" PRIu32 " (%s)",
				  ks_what(ks, what, sizeof(what)), error, nl_conn_error_name(error));
		/* the SCSI host is going away: shut down, do not recover */
		ev = error == ISCSI_IF_ERR_INVALID_HOST ? KE_HOST_GONE : KE_CONN_ERROR;
		break;
	case ISCSI_KEVENT_UNBIND_SESSION:
		ev = KE_UNBOUND;
		break;
	case ISCSI_KEVENT_DESTROY_SESSION:
		/* someone else destroyed it: nothing of it is left to undo */
		log_warnx("%s was destroyed by another program", ks_what(ks, what, sizeof(what)));
		ks->have_session = ks->have_conn = ks->bound = ks->started = false;
		ev = KE_HOST_GONE;
		break;
	case ISCSI_KEVENT_RECV_PDU:
		if (len < ISCSI_BHS_LEN)
			return;
		switch (pdu[0] & ISCSI_OPCODE_MASK) {
		case ISCSI_OP_LOGIN_RSP:
			ks->rx_pdu = pdu;
			ks->rx_len = len;
			ks_fsm(ks, KE_LOGIN_RSP);
			return;
		case ISCSI_OP_LOGOUT_RSP:
			krec_logout_rsp(ks, pdu, len);
			ev = KE_LOGOUT_RSP;
			break;
		case ISCSI_OP_ASYNC_MSG:
			krec_async(ks, pdu, len);
			return;
		default:
			log_debug(2, "%s: ignoring a %s from the kernel", ks_what(ks, what, sizeof(what)),
				  pdu_opcode_name(pdu[0]));
			return;
		}
		break;
	default:
		return;
	}
	ks_fsm(ks, ev);
}

/* The layer's lifecycle state for ks's state. A login counts as done
 * only once START_CONN succeeded: a session whose START_CONN the kernel
 * refused sits in LOGGED_IN for the one transition that takes it back. */
static enum session_state layer_state(const struct ksession *ks, enum session_conn *conn)
{
	*conn = SESSION_CONN_TRANSPORT_WAIT;
	switch (ks->state) {
	case KS_LOGGED_IN:
		if (ks->started) {
			*conn = SESSION_CONN_LOGGED_IN;
			return SESSION_LOGGED_IN;
		}
		*conn = SESSION_CONN_IN_LOGIN;
		break;
	case KS_IN_LOGIN:
		*conn = SESSION_CONN_IN_LOGIN;
		break;
	case KS_RELOGOUT:
		*conn = SESSION_CONN_IN_LOGOUT;
		break;
	case KS_UNBINDING:
	case KS_IN_LOGOUT:
		*conn = SESSION_CONN_IN_LOGOUT;
		return SESSION_LOGOUT;
	default:
		break;
	}
	return ks->ever_logged_in ? SESSION_RECOVERY : SESSION_LOGIN;
}

/* What the session layer shows follows the session machine: a login that
 * finished and a session that ended in the same pump run leave nothing
 * behind, whatever order their answers are delivered in. */
void ks_report(struct ksession *ks)
{
	struct session *s = ks->sess;
	if (!s)
		return;
	if (ks->state == KS_DEAD) {
		ks->sess = NULL;
		session_end(s);
		return;
	}
	enum session_conn conn;
	enum session_state st = layer_state(ks, &conn);
	(void)session_state_set(s, st, conn);
}

static void on_ks_timer(struct loop *l, void *data)
{
	struct ksession *ks = data;
	struct kctx *k = ks->k;
	(void)l;
	/* one timer; what it means depends on the state */
	switch (ks->state) {
	case KS_FREE:
		ks_fsm(ks, KE_START);
		break;
	case KS_REOPEN_WAIT:
		ks_fsm(ks, KE_REOPEN);
		break;
	default:
		ks_fsm(ks, KE_TIMEOUT);
		break;
	}
	kctx_poke(k);
}

/* the kernel sessions, side by side (pool.h) */
static struct pool ks_pool = POOL_INIT(struct ksession);

size_t ks_pool_bytes(void)
{
	return pool_bytes(&ks_pool);
}

struct ksession *ks_new(struct kctx *k, const struct node_rec *rec, const char *iname, const char *ialias)
{
	struct ksession *ks = pool_alloc(&ks_pool);
	if (!ks)
		return NULL;
	if (ks_params_set(&ks->p, rec, iname, ialias, ks->strbuf, sizeof(ks->strbuf)) < 0) {
		pool_free(&ks_pool, ks);
		return NULL;
	}
	ks->failback_addr = ks->p.address;
	ks->k = k;
	ks->fd = -1;
	ks->failback_port = ks->p.port;
	ks->addr = ks->failback_addr;
	ks->port = ks->p.port;
	loop_timer_init(&ks->timer, on_ks_timer, ks);
	ks->next = k->sessions;
	k->sessions = ks;
	k->nsessions++;
	return ks;
}

void ks_free(struct ksession *ks)
{
	struct kctx *k = ks->k;
	ks->state = KS_DEAD;
	ks_report(ks);
	for (struct ksession **pp = &k->sessions; *pp; pp = &(*pp)->next)
		if (*pp == ks) {
			*pp = ks->next;
			k->nsessions--;
			break;
		}
	loop_timer_disarm(k->loop, &ks->timer);
	kscan_abort_session(ks, ISCSI_ERR_INTERNAL, "the session went away");
	kconn_close(ks);
	answer_pending(ks, ISCSI_ERR_INTERNAL, "the session went away", ISCSI_ERR_INTERNAL,
		       "the session went away");
	addr_free(ks);
	if (ks->failback_addr != ks->p.address)
		free((char *)ks->failback_addr);
	ks_params_clear(&ks->p);   /* wipes the credentials */
	session_err_clear(&ks->err);
	pool_free(&ks_pool, ks);
}

/* ---- requests ---- */

static int finish_now(struct kctx *k, transport_done_fn done, void *data, int code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int finish_now(struct kctx *k, transport_done_fn done, void *data, int code, const char *fmt, ...)
{
	va_list ap;
	struct kreq *r = kreq_new(done, data);
	if (!r)
		return -ENOMEM;
	r->res.status = code;
	va_start(ap, fmt);
	vsnprintf(r->res.message, sizeof(r->res.message), fmt, ap);
	va_end(ap);
	kreq_finish(k, r);
	return 0;
}

int kctx_login(struct kctx *k, struct session *s, const struct transport_login *req, transport_done_fn done,
	       void *data)
{
	const struct node_rec *rec = req->rec;
	const char *iname = NULL, *alias = "";
	char why[200];

	/* duplicate logins and the table's size are the layer's checks */
	if (rec->iface.iname[0])
		iname = rec->iface.iname;
	else if (k->d && k->d->have_iname) {
		iname = k->d->iname.name;
		alias = k->d->iname.alias;
	}
	if (!iname)
		return finish_now(k, done, data, ISCSI_ERR_INVAL,
				  "no initiator name: set InitiatorName in the initiator name file");
	struct ksession *ks = ks_new(k, rec, iname, alias);
	if (!ks)
		return -ENOMEM;
	struct iscsi_params w;
	if (kconn_wishes(&ks->p, &w, why, sizeof(why)) < 0) {
		ks_free(ks);
		return finish_now(k, done, data, ISCSI_ERR_INVAL, "invalid node record: %s", why);
	}
	ks->login_req = kreq_new(done, data);
	if (!ks->login_req) {
		ks_free(ks);
		return -ENOMEM;
	}
	ks->no_scan = req->flags & IPC_LOGIN_NO_SCAN;
	ks->wait_devices = req->flags & IPC_LOGIN_WAIT_DEVICES;
	/* KE_START comes from the loop: done is never called from here */
	if (loop_timer_arm(k->loop, &ks->timer, 0) < 0) {
		ks->login_req->done = NULL;
		kreq_free(ks->login_req);
		ks->login_req = NULL;
		ks_free(ks);
		return -ENOMEM;
	}
	/* from now on ks reports to the layer (and ends s when it dies) */
	ks->sess = s;
	return 0;
}

int kctx_logout(struct kctx *k, uint32_t sid, transport_done_fn done, void *data)
{
	struct ksession *ks = kctx_find(k, sid);
	char why[600];

	/* the layer lets one logout of a logged-in session through */
	if (!ks)
		return finish_now(k, done, data, ISCSI_ERR_SESS_NOT_FOUND, "no session with sid %" PRIu32, sid);
	if (k->d && k->d->config.safe_logout) {
		int r = kmount_session_busy(k->sysfs, k->mountinfo, sid, why, sizeof(why));
		if (r > 0)
			return finish_now(k, done, data, ISCSI_ERR_BUSY,
					  "session %" PRIu32 " is in use: %s (iscsid.safe_logout = Yes)", sid, why);
		if (r < 0)
			log_warnx("safe_logout: cannot check the mounts of session %" PRIu32 ": %s", sid,
				  strerror(-r));
	}
	ks->logout_req = kreq_new(done, data);
	if (!ks->logout_req)
		return -ENOMEM;
	if (kctx_post(k, sid, KE_LOGOUT) < 0) {
		kreq_free(ks->logout_req);
		ks->logout_req = NULL;
		return -ENOMEM;
	}
	return 0;
}

int kctx_rescan(struct kctx *k, uint32_t sid, transport_done_fn done, void *data)
{
	struct ksession *ks = kctx_find(k, sid);
	/* the layer sends only logged-in sessions */
	if (!ks)
		return finish_now(k, done, data, ISCSI_ERR_SESS_NOT_FOUND, "no session with sid %" PRIu32, sid);
	struct kreq *r = kreq_new(done, data);
	if (!r)
		return -ENOMEM;
	r->res.sid = sid;
	r->res.host_no = ks->host_no;
	int e = kscan_start(ks, KSCAN_RESCAN, true, r);
	if (e < 0) {
		r->res.status = ISCSI_ERR_INTERNAL;
		snprintf(r->res.message, sizeof(r->res.message), "cannot start the scan: %s", strerror(-e));
		kreq_finish(k, r);
	}
	return 0;
}

/* RFC 3720/7143 MIB names, in the order of struct iscsi_stats. */
int kctx_stats(struct kctx *k, uint32_t sid, transport_done_fn done, void *data)
{
	struct ksession *ks = kctx_find(k, sid);
	struct nl_stats *st;
	if (!ks)
		return finish_now(k, done, data, ISCSI_ERR_SESS_NOT_FOUND, "no session with sid %" PRIu32, sid);
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	int r = nl_get_stats(k->nl, sid, ks->cid, st);
	kctx_poke(k);
	if (r < 0) {
		free(st);
		return finish_now(k, done, data, ISCSI_ERR_INTERNAL, "cannot get statistics of session %" PRIu32 ": %s",
				  sid, nl_strerror(r));
	}
	struct kreq *q = kreq_new(done, data);
	if (!q) {
		free(st);
		return -ENOMEM;
	}
	const struct iscsi_stats *s = &st->s;
	const struct {
		const char *name;
		uint64_t v;
	} std[] = {
		{ "txdata_octets", s->txdata_octets }, { "rxdata_octets", s->rxdata_octets },
		{ "noptx_pdus", s->noptx_pdus }, { "scsicmd_pdus", s->scsicmd_pdus },
		{ "tmfcmd_pdus", s->tmfcmd_pdus }, { "login_pdus", s->login_pdus },
		{ "text_pdus", s->text_pdus }, { "dataout_pdus", s->dataout_pdus },
		{ "logout_pdus", s->logout_pdus }, { "snack_pdus", s->snack_pdus },
		{ "noprx_pdus", s->noprx_pdus }, { "scsirsp_pdus", s->scsirsp_pdus },
		{ "tmfrsp_pdus", s->tmfrsp_pdus }, { "textrsp_pdus", s->textrsp_pdus },
		{ "datain_pdus", s->datain_pdus }, { "logoutrsp_pdus", s->logoutrsp_pdus },
		{ "r2t_pdus", s->r2t_pdus }, { "async_pdus", s->async_pdus },
		{ "rjt_pdus", s->rjt_pdus }, { "digest_err", s->digest_err },
		{ "timeout_err", s->timeout_err },
	};
	size_t nstd = sizeof(std) / sizeof(std[0]);
	size_t n = nstd + st->n_custom;
	/* names live in the stats block itself: copy them next to it */
	q->stats = calloc(n, sizeof(*q->stats) + sizeof(st->custom[0].desc));
	if (!q->stats) {
		free(st);
		kreq_free(q);
		return -ENOMEM;
	}
	char *names = (char *)(q->stats + n);
	for (size_t i = 0; i < nstd; i++) {
		q->stats[i].name = std[i].name;
		q->stats[i].value = std[i].v;
	}
	for (size_t i = 0; i < st->n_custom; i++) {
		char *nm = names + i * sizeof(st->custom[0].desc);
		memcpy(nm, st->custom[i].desc, sizeof(st->custom[0].desc));
		q->stats[nstd + i].name = nm;
		q->stats[nstd + i].value = st->custom[i].value;
		q->stats[nstd + i].extended = true;
	}
	q->res.stats = q->stats;
	q->res.nstats = n;
	q->res.sid = sid;
	q->res.host_no = ks->host_no;
	free(st);
	kreq_finish(k, q);
	return 0;
}
