/* Control requests: one handler per message type (doc/ipc.md lists what
 * each carries). Handlers validate what the client sent, then either
 * answer at once or hand the work to the session layer (session.h), which
 * passes it to the session's carrier, and answer from its completion
 * callback. Every request gets exactly one answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "errors.h"
#include "ipc.h"
#include "iscsid.h"
#include "log.h"
#include "nodedb.h"
#include "record.h"
#include "session.h"
#include "transport.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

typedef void (*handler_fn)(struct iscsid *d, struct ctl_request *req);

static const struct ipc_fields *req_fields(const struct ctl_request *req)
{
	return &ctl_request_msg(req)->fields;
}

/* The answer for a finished transport operation. */
static void reply_result(struct ctl_request *req, const struct transport_result *res,
			 const char *success_msg)
{
	struct ipc_writer w;
	const char *msg = res->message[0] ? res->message : NULL;
	if (res->status != 0) {
		ctl_reply_error(req, (uint32_t)res->status, "%s", msg ? msg : iscsi_err_str(res->status));
		return;
	}
	ctl_reply_init(req, &w, 0, msg ? msg : success_msg);
	if (res->sid)
		ipc_put_u32(&w, IPC_TAG_SID, res->sid);
	if (res->sid)
		ipc_put_u32(&w, IPC_TAG_HOST_NO, res->host_no);
	for (size_t i = 0; i < res->ndevices; i++)
		ipc_put_str(&w, IPC_TAG_DEVICE, res->devices[i]);
	ctl_reply(req, &w);
}

/* ---- HELLO ---- */

static void h_hello(struct iscsid *d, struct ctl_request *req)
{
	struct ipc_writer w;
	ctl_reply_init(req, &w, 0, NULL);
	ipc_put_str(&w, IPC_TAG_DAEMON_VERSION, PACKAGE_VERSION);
	ipc_put_u32(&w, IPC_TAG_PROTO_VERSION, IPC_PROTO_VERSION);
	if (d->have_iname) {
		ipc_put_str(&w, IPC_TAG_INITIATOR_NAME, d->iname.name);
		if (d->iname.alias[0])
			ipc_put_str(&w, IPC_TAG_INITIATOR_ALIAS, d->iname.alias);
	}
	ipc_put_str(&w, IPC_TAG_CONFIG_FILE, d->paths.config_file);
	ctl_reply(req, &w);
}

/* ---- LOGIN ---- */

struct login_op {
	struct ctl_request *req;
	bool background;                /* answered early, the layer logs the rest */
	struct node_rec rec;
	char what[600];                 /* "[iface: ..., target: ..., portal: ...]" */
};

/* The record carries CHAP secrets: wipe it before the memory is reused. */
static void login_op_free(struct login_op *op)
{
	if (!op)
		return;
	explicit_bzero(op, sizeof(*op));
	free(op);
}

static void login_done(void *data, const struct transport_result *res)
{
	struct login_op *op = data;
	char ok[700];
	/* The layer keeps its table in step with the carrier's sessions
	 * (one writer, session.h): by now the new session is in it, or gone
	 * again if it died before this answer was delivered. */
	if (res->status == 0)
		log_info("login to %s successful (sid %u)", op->what, res->sid);
	else if (op->background && res->status == ISCSI_ERR_AGAIN)
		; /* the layer said it goes on in the background */
	else
		log_warnx("login to %s failed: %s", op->what,
			  res->message[0] ? res->message : iscsi_err_str(res->status));
	snprintf(ok, sizeof(ok), "Login to %s successful.", op->what);
	reply_result(op->req, res, ok);
	login_op_free(op);
}

static void h_login(struct iscsid *d, struct ctl_request *req)
{
	const char *text = ipc_get_str(req_fields(req), IPC_TAG_RECORD);
	uint32_t flags = 0;
	struct rec_diags diags;

	if (!text) {
		ctl_reply_error(req, ISCSI_ERR_INVAL, "LOGIN request without a node record");
		return;
	}
	(void)ipc_get_u32(req_fields(req), IPC_TAG_LOGIN_FLAGS, &flags);
	uint32_t bg_ms = 0;
	bool background = ipc_get_u32(req_fields(req), IPC_TAG_LOGIN_BACKGROUND_MS, &bg_ms) == 0;
	struct login_op *op = calloc(1, sizeof(*op));
	if (!op) {
		ctl_reply_error(req, ISCSI_ERR_NOMEM, "iscsid is out of memory");
		return;
	}
	op->req = req;
	op->background = background;
	node_rec_init(&op->rec);
	rec_diags_init(&diags);
	int r = rec_parse(REC_KIND_NODE, &op->rec, text, strlen(text), NULL, &diags);
	if (r < 0) {
		char why[300] = "unreadable record";
		for (size_t i = 0; i < diags.n; i++)
			if (diags.v[i].level == REC_DIAG_ERROR) {
				rec_diag_format(&diags.v[i], why, sizeof(why));
				break;
			}
		rec_diags_free(&diags);
		login_op_free(op);
		ctl_reply_error(req, ISCSI_ERR_INVAL, "invalid node record: %s", why);
		return;
	}
	rec_diags_free(&diags);

	char err[200];
	if (!op->rec.name[0] || name_validate(op->rec.name, err, sizeof(err)) < 0) {
		const char *why = op->rec.name[0] ? "node.name is not a valid iSCSI name" : "node.name is missing";
		login_op_free(op);
		ctl_reply_error(req, ISCSI_ERR_INVAL, "invalid node record: %s", why);
		return;
	}
	if (!op->rec.conn.address[0] || !rec_address_valid(op->rec.conn.address) ||
	    op->rec.conn.port < 1 || op->rec.conn.port > 65535) {
		login_op_free(op);
		ctl_reply_error(req, ISCSI_ERR_INVAL,
				"invalid node record: node.conn[0].address/port do not name a portal");
		return;
	}
	const char *iface = op->rec.iface.name[0] ? op->rec.iface.name : "default";
	/* open-iscsi's words, which scripts match: "portal: 192.0.2.1,3260" */
	snprintf(op->what, sizeof(op->what), "[iface: %s, target: %s, portal: %s,%d]", iface, op->rec.name,
		 op->rec.conn.address, op->rec.conn.port);

	/* the layer refuses a second session to the node (15) */
	log_debug(1, "login to %s requested by pid %ld", op->what, (long)ctl_request_peer(req)->pid);
	struct transport_login tl = { .rec = &op->rec, .flags = flags, .background = background, .background_ms = bg_ms };
	r = session_login(d->sessions, &tl, login_done, op);
	if (r < 0) {
		login_op_free(op);
		ctl_reply_error(req, ISCSI_ERR_INTERNAL, "cannot start the login: %s", strerror(-r));
	}
}

/* Is the background login s still wanted? Its node record must still be
 * there with node.startup = automatic (`iscsiadm -o delete` or `-o update
 * -n node.startup -v manual` stop it). A database that cannot be read
 * keeps the login going: a glitch must not drop a boot disk. */
bool iscsid_login_wanted(void *data, const struct session *s)
{
	struct iscsid *d = data;
	struct nodedb *db = NULL;
	struct node_list l = { 0 };
	struct node_filter f;
	bool wanted = true;

	if (nodedb_open(&d->paths, &db) < 0)
		return true;
	node_filter_init(&f);
	f.target = s->target;
	f.address = s->address;
	f.port = s->port;
	f.iface = s->iface[0] ? s->iface : "default";
	if (nodedb_node_find(db, &f, &l, NULL) == 0) {
		wanted = false;
		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].rec.startup == REC_STARTUP_AUTOMATIC || l.v[i].rec.conn.startup == REC_STARTUP_AUTOMATIC)
				wanted = true;
	}
	node_list_free(&l);   /* wipes the CHAP secrets */
	nodedb_free(db);
	return wanted;
}

/* ---- LOGOUT / RESCAN: one session, or several ---- */

struct multi_op {
	struct ctl_request *req;
	enum ipc_msg_type type;
	size_t pending;
	uint32_t single_sid;            /* the sid when there is one session */
	int status;                     /* first failure */
	char message[TRANSPORT_MSG_MAX];
	char **devs;                    /* RESCAN: block devices found, in order */
	size_t ndevs;
};

static void multi_finish(struct multi_op *m)
{
	struct transport_result res;
	memset(&res, 0, sizeof(res));
	res.status = m->status;
	snprintf(res.message, sizeof(res.message), "%s", m->message);
	res.devices = (const char *const *)m->devs;
	res.ndevices = m->ndevs;
	reply_result(m->req, &res, m->type == IPC_MSG_LOGOUT ? "Logout successful." : "Rescan started.");
	for (size_t i = 0; i < m->ndevs; i++)
		free(m->devs[i]);
	free(m->devs);
	free(m);
}

/* One part finished (the layer removes a logged-out session from the
 * table itself). */
static void multi_done(void *data, const struct transport_result *res)
{
	struct multi_op *m = data;
	if (res->status != 0 && m->status == 0) {
		m->status = res->status;
		snprintf(m->message, sizeof(m->message), "%s",
			 res->message[0] ? res->message : iscsi_err_str(res->status));
	}
	/* keep the devices a rescan reports (bounded by the answer's size) */
	for (size_t i = 0; i < res->ndevices && m->ndevs < 4096; i++) {
		char **v = realloc(m->devs, (m->ndevs + 1) * sizeof(*v));
		if (!v)
			break;
		m->devs = v;
		if (!(m->devs[m->ndevs] = strdup(res->devices[i])))
			break;
		m->ndevs++;
	}
	if (--m->pending == 0)
		multi_finish(m);
}

/* Starts the operation on each sid; answers when all have finished. */
static void multi_start(struct iscsid *d, struct ctl_request *req, const uint32_t *sids, size_t n)
{
	struct multi_op *m = calloc(1, sizeof(*m));
	if (!m) {
		ctl_reply_error(req, ISCSI_ERR_NOMEM, "iscsid is out of memory");
		return;
	}
	m->req = req;
	m->type = ctl_request_msg(req)->hdr.type;
	m->pending = 1;             /* held until every part is started */
	for (size_t i = 0; i < n; i++) {
		m->pending++;
		int r = m->type == IPC_MSG_LOGOUT ? session_logout(d->sessions, sids[i], multi_done, m)
						  : session_rescan(d->sessions, sids[i], multi_done, m);
		if (r < 0)
			m->pending--;
		if (r < 0 && m->status == 0) {
			m->status = ISCSI_ERR_INTERNAL;
			snprintf(m->message, sizeof(m->message), "cannot start the request for sid %u: %s",
				 sids[i], strerror(-r));
		}
	}
	/* Parts never complete from inside the calls above (session.h), so
	 * this is where the last one can be counted down at the earliest. */
	if (--m->pending == 0)
		multi_finish(m);
}

/* Resolves the sessions a LOGOUT or RESCAN names; answers and returns
 * -1 when there are none; else fills *ret (malloc'd) and returns n. */
static long select_sessions(struct iscsid *d, struct ctl_request *req, bool all_when_empty,
			    uint32_t **ret)
{
	const struct ipc_fields *f = req_fields(req);
	const char *target = ipc_get_str(f, IPC_TAG_TARGET_NAME);
	const char *portal = ipc_get_str(f, IPC_TAG_PORTAL);
	const char *iface = ipc_get_str(f, IPC_TAG_IFACE);
	uint32_t sid;
	size_t n = 0;
	uint32_t *v;

	if (ipc_get_u32(f, IPC_TAG_SID, &sid) == 0) {
		if (!session_find(d->sessions, sid)) {
			ctl_reply_error(req, ISCSI_ERR_SESS_NOT_FOUND, "no session with sid %u", sid);
			return -1;
		}
		v = malloc(sizeof(*v));
		if (!v)
			goto nomem;
		v[0] = sid;
		*ret = v;
		return 1;
	}
	if (!target && !all_when_empty) {
		ctl_reply_error(req, ISCSI_ERR_INVAL, "%s needs a sid or a target name",
				ipc_msg_type_name(ctl_request_msg(req)->hdr.type));
		return -1;
	}
	n = target ? session_match(d->sessions, target, portal, iface, NULL) : session_count(d->sessions);
	if (n == 0) {
		if (target)
			ctl_reply_error(req, ISCSI_ERR_NO_OBJS_FOUND,
					"no matching session for target %s%s%s%s%s", target,
					portal ? " portal " : "", portal ? portal : "", iface ? " iface " : "",
					iface ? iface : "");
		else
			ctl_reply_error(req, ISCSI_ERR_NO_OBJS_FOUND, "no active sessions");
		return -1;
	}
	v = calloc(n, sizeof(*v));
	if (!v)
		goto nomem;
	size_t i = 0;
	for (struct session *s = session_first(d->sessions); s && i < n; s = session_next(s))
		if (!target || session_matches(s, target, portal, iface))
			v[i++] = s->sid;
	*ret = v;
	return (long)i;
nomem:
	ctl_reply_error(req, ISCSI_ERR_NOMEM, "iscsid is out of memory");
	return -1;
}

static void h_logout(struct iscsid *d, struct ctl_request *req)
{
	uint32_t *sids;
	long n = select_sessions(d, req, false, &sids);
	if (n < 0)
		return;
	multi_start(d, req, sids, (size_t)n);
	free(sids);
}

static void h_rescan(struct iscsid *d, struct ctl_request *req)
{
	uint32_t *sids;
	long n = select_sessions(d, req, true, &sids);
	if (n < 0)
		return;
	multi_start(d, req, sids, (size_t)n);
	free(sids);
}

/* ---- SESSION_STATS ---- */

struct stats_op {
	struct iscsid *d;
	struct ctl_request *req;
	uint32_t sid;
};

static void stats_done(void *data, const struct transport_result *res)
{
	struct stats_op *op = data;
	struct ipc_writer w;
	if (res->status != 0) {
		ctl_reply_error(op->req, (uint32_t)res->status, "%s",
				res->message[0] ? res->message : iscsi_err_str(res->status));
		free(op);
		return;
	}
	ctl_reply_init(op->req, &w, 0, NULL);
	ipc_put_u32(&w, IPC_TAG_SID, op->sid);
	for (size_t i = 0; i < res->nstats; i++) {
		ipc_group_begin(&w, IPC_TAG_STAT);
		ipc_put_str(&w, IPC_TAG_STAT_NAME, res->stats[i].name);
		ipc_put_u64(&w, IPC_TAG_STAT_VALUE, res->stats[i].value);
		if (res->stats[i].extended)
			ipc_put_u32(&w, IPC_TAG_STAT_EXTENDED, 1);
		ipc_group_end(&w);
	}
	/* the layer's figures, as the metrics file has them (metrics.h) */
	struct session *s = op->d->stopping ? NULL : session_find(op->d->sessions, op->sid);
	if (s) {
		session_keep_counters(s, res->stats, res->nstats);
		ipc_put_str(&w, IPC_TAG_SESSION_STATE, session_state_name(s->state));
		ipc_put_str(&w, IPC_TAG_TRANSPORT, s->carrier->ops->name);
		ipc_put_u64(&w, IPC_TAG_LOGINS, s->fig.logins);
		ipc_put_u64(&w, IPC_TAG_RECOVERIES, s->fig.recoveries);
		ipc_put_u64(&w, IPC_TAG_RECOVERY_MS, session_recovery_ms(s, loop_now_ms()));
		if (s->fig.have_last_login)
			ipc_put_u64(&w, IPC_TAG_LAST_LOGIN_MS, s->fig.last_login_ms);
		for (int c = 0; c < SESSION_NCAUSES; c++) {
			ipc_group_begin(&w, IPC_TAG_CONN_ERROR);
			ipc_put_str(&w, IPC_TAG_STAT_NAME, session_cause_name((enum session_cause)c));
			ipc_put_u64(&w, IPC_TAG_STAT_VALUE, s->fig.conn_errors[c]);
			ipc_group_end(&w);
		}
	}
	ctl_reply(op->req, &w);
	free(op);
}

static void h_session_stats(struct iscsid *d, struct ctl_request *req)
{
	uint32_t sid;
	if (ipc_get_u32(req_fields(req), IPC_TAG_SID, &sid) < 0) {
		ctl_reply_error(req, ISCSI_ERR_INVAL, "SESSION_STATS needs a sid");
		return;
	}
	if (!session_find(d->sessions, sid)) {
		ctl_reply_error(req, ISCSI_ERR_SESS_NOT_FOUND, "no session with sid %u", sid);
		return;
	}
	struct stats_op *op = calloc(1, sizeof(*op));
	if (!op) {
		ctl_reply_error(req, ISCSI_ERR_NOMEM, "iscsid is out of memory");
		return;
	}
	op->d = d;
	op->req = req;
	op->sid = sid;
	int r = session_stats(d->sessions, sid, stats_done, op);
	if (r < 0) {
		free(op);
		ctl_reply_error(req, ISCSI_ERR_INTERNAL, "cannot get statistics: %s", strerror(-r));
	}
}

/* ---- SESSION_LIST_STATE ---- */

static void h_session_list_state(struct iscsid *d, struct ctl_request *req)
{
	struct ipc_writer w;
	ctl_reply_init(req, &w, 0, NULL);
	for (struct session *s = session_first(d->sessions); s; s = session_next(s)) {
		ipc_group_begin(&w, IPC_TAG_SESSION);
		ipc_put_u32(&w, IPC_TAG_SID, s->sid);
		ipc_put_u32(&w, IPC_TAG_HOST_NO, s->host_no);
		ipc_put_str(&w, IPC_TAG_TARGET_NAME, s->target);
		ipc_put_str(&w, IPC_TAG_PORTAL, s->portal);
		ipc_put_str(&w, IPC_TAG_IFACE, s->iface);
		ipc_put_str(&w, IPC_TAG_SESSION_STATE, session_state_text(s));
		ipc_put_str(&w, IPC_TAG_CONN_STATE, session_conn_text(s));
		/* what iscsiadm needs to list sessions sysfs does not have */
		ipc_put_str(&w, IPC_TAG_TRANSPORT, s->carrier->ops->name);
		if (s->tpgt >= 0)
			ipc_put_u32(&w, IPC_TAG_TPGT, (uint32_t)s->tpgt);
		ipc_group_end(&w);
	}
	ctl_reply(req, &w);
}

/* ---- RELOAD, STOP ---- */

static void h_reload(struct iscsid *d, struct ctl_request *req)
{
	char err[300];
	if (iscsid_reload(d, err, sizeof(err)) < 0) {
		ctl_reply_error(req, ISCSI_ERR_INVAL, "configuration not reloaded: %s", err);
		return;
	}
	ctl_reply_error(req, 0, "configuration reloaded from %s", d->paths.config_file);
}

static void h_stop(struct iscsid *d, struct ctl_request *req)
{
	log_info("stop requested by pid %ld", (long)ctl_request_peer(req)->pid);
	ctl_reply_error(req, 0, "iscsid is stopping");
	iscsid_stop(d);
}

static const handler_fn handlers[IPC_MSG_MAX] = {
	[IPC_MSG_HELLO] = h_hello,
	[IPC_MSG_LOGIN] = h_login,
	[IPC_MSG_LOGOUT] = h_logout,
	[IPC_MSG_SESSION_LIST_STATE] = h_session_list_state,
	[IPC_MSG_RESCAN] = h_rescan,
	[IPC_MSG_RELOAD] = h_reload,
	[IPC_MSG_STOP] = h_stop,
	[IPC_MSG_SESSION_STATS] = h_session_stats,
};

void iscsid_dispatch(void *data, struct ctl_request *req)
{
	struct iscsid *d = data;
	uint16_t type = ctl_request_msg(req)->hdr.type;
	if (type >= IPC_MSG_MAX || !handlers[type]) {
		ctl_reply_error(req, ISCSI_ERR_INVALID_MGMT_REQ,
				"unknown request type %u (this iscsid knows types 1 to %u)", type,
				IPC_MSG_MAX - 1);
		return;
	}
	if (d->stopping) {
		ctl_reply_error(req, ISCSI_ERR_AGAIN, "iscsid is stopping");
		return;
	}
	if (d->adopting && type != IPC_MSG_HELLO && type != IPC_MSG_RELOAD && type != IPC_MSG_STOP) {
		if (d->nparked == d->cparked) {
			size_t c = d->cparked ? d->cparked * 2 : 16;
			struct ctl_request **v = realloc(d->parked, c * sizeof(*v));
			if (!v) {
				ctl_reply_error(req, ISCSI_ERR_NOMEM, "iscsid is out of memory");
				return;
			}
			d->parked = v;
			d->cparked = c;
		}
		d->parked[d->nparked++] = req;
		return;
	}
	handlers[type](d, req);
}

void iscsid_adopted(void *data, const struct transport_result *res)
{
	struct iscsid *d = data;
	(void)res;                      /* each carrier logged its own outcome */
	d->adopting = false;
	/* in arrival order; a handler may park nothing now */
	struct ctl_request **v = d->parked;
	size_t n = d->nparked;
	d->parked = NULL;
	d->nparked = d->cparked = 0;
	for (size_t i = 0; i < n; i++)
		iscsid_dispatch(d, v[i]);
	free(v);
}

void iscsid_unpark_all(struct iscsid *d)
{
	for (size_t i = 0; i < d->nparked; i++)
		ctl_reply_error(d->parked[i], ISCSI_ERR_INTERNAL, "iscsid is stopping");
	free(d->parked);
	d->parked = NULL;
	d->nparked = d->cparked = 0;
}
