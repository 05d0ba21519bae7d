/* One connection attempt of a kernel session (reference
 * kernel-iscsi-abi.md §2.2): a non-blocking TCP connect from userspace,
 * CREATE_SESSION / CREATE_CONN (new sessions), BIND_CONN with the socket,
 * the pre-login SET_PARAMs (§2.3), the login through the kernel (SEND_PDU
 * down, RECV_PDU up) driven by the pure login engine, the negotiated
 * SET_PARAMs with EXP_STATSN, START_CONN. */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bind.h"
#include "chap.h"
#include "errors.h"
#include "iscsi_if.h"
#include "ksession.h"
#include "log.h"
#include "login.h"
#include "nl.h"
#include "pdu.h"
#include "resolve.h"
#include "sysfs.h"

/* ITT of our Login Requests. The kernel replaces it with its login task's
 * tag (§2.2 step 7) and checks the tag of the response before passing it
 * up; we put ours back into the response for the engine's check. */
#define KCONN_LOGIN_ITT 0u

int kconn_wishes(const struct ks_params *p, struct iscsi_params *ret, char *err, size_t errlen)
{
	struct iscsi_params w;
	params_init_wishes(&w);
	/* enum rec_digest and enum iscsi_digest share their numbering */
	w.header_digest = (uint8_t)p->header_digest;
	w.data_digest = (uint8_t)p->data_digest;
	w.max_recv_dsl = (uint32_t)p->max_recv_dlength;
	w.max_xmit_dsl = (uint32_t)p->max_xmit_dlength;
	w.max_connections = 1;          /* one connection per session (open-iscsi) */
	w.initial_r2t = p->initial_r2t;
	w.immediate_data = p->immediate_data;
	w.max_burst_length = (uint32_t)p->max_burst_length;
	w.first_burst_length = (uint32_t)p->first_burst_length;
	w.default_time2wait = (uint32_t)p->default_time2wait;
	w.default_time2retain = (uint32_t)p->default_time2retain;
	w.max_outstanding_r2t = (uint32_t)p->max_outstanding_r2t;
	/* iscsi_tcp recovers at ERL 0 only (caps 0x39) */
	w.error_recovery_level = 0;
	if (params_validate_wishes(&w, err, errlen) < 0)
		return -EINVAL;
	*ret = w;
	return 0;
}

/* ---- the socket ---- */

void kconn_close(struct ksession *ks)
{
	resolve_cancel(ks->k->loop, ks->resolving);
	ks->resolving = NULL;
	login_free(ks->login);
	ks->login = NULL;
	if (ks->io) {
		loop_io_remove(ks->k->loop, ks->io);
		ks->io = NULL;
	}
	if (ks->fd >= 0) {
		close(ks->fd);
		ks->fd = -1;
	}
}

static void on_connect(struct loop *l, int fd, uint32_t events, void *data)
{
	struct ksession *ks = data;
	struct kctx *k = ks->k;
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	(void)events;

	loop_io_remove(l, ks->io);
	ks->io = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		ks_fail(ks, ISCSI_ERR_TRANS, false, "cannot connect to %s:%d: %s", ks->addr, ks->port,
			strerror(soerr));
		ks_fsm(ks, KE_FAIL);
	} else {
		ks_fsm(ks, KE_CONNECTED);
	}
	kctx_poke(k);
}

/* Portal addresses come from records and redirections: IP literals as a
 * rule, answered at once. A host name is looked up off the loop
 * (resolve.h): the login timer keeps running meanwhile, and the lookup
 * gets a little less than it, so that its own error is what the user sees. */
static uint64_t resolve_timeout_ms(const struct ksession *ks)
{
	uint64_t tmo = (uint64_t)(ks->p.login_timeout > 0 ? ks->p.login_timeout : 15) * 1000u;
	return tmo > 1000 ? tmo - 500 : 500;
}

/* iface binding (kmod-glue/bind.h, the same routine as discovery's):
 * device by name or by MAC address, source address. A device or address
 * that is missing may come later (retried); a wrong iface never works. */
static int bind_to_iface(struct ksession *ks, int fd, int family)
{
	const struct ks_params *p = &ks->p;
	char err[TRANSPORT_MSG_MAX];

	if (!p->netdev[0] && !p->hwaddress[0] && !p->ipaddress[0])
		return 0;
	/* an iface record only for the call: sessions keep the few fields */
	struct iface_rec *iface = malloc(sizeof(*iface));
	if (!iface) {
		ks_fail(ks, ISCSI_ERR_NOMEM, false, "out of memory");
		return -ENOMEM;
	}
	iface_rec_init(iface, p->iface_name[0] ? p->iface_name : NULL);
	snprintf(iface->netdev, sizeof(iface->netdev), "%s", p->netdev);
	snprintf(iface->hwaddress, sizeof(iface->hwaddress), "%s", p->hwaddress);
	snprintf(iface->ipaddress, sizeof(iface->ipaddress), "%s", p->ipaddress);
	int r = bind_iface(fd, family, iface, ks->k->sysfs, err, sizeof(err));
	free(iface);
	if (r < 0)
		ks_fail(ks, bind_exit_code(r), bind_error_fatal(r), "%s", err);
	return r;
}

/* The socket, its options and binding, a non-blocking connect to sa. */
static enum ks_event connect_to(struct ksession *ks, const struct sockaddr *sa, socklen_t salen)
{
	int one = 1;

	ks->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (ks->fd < 0) {
		ks_fail(ks, ISCSI_ERR_TRANS, false, "cannot create a socket: %s", strerror(errno));
		return KE_FAIL;
	}
	(void)setsockopt(ks->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ks->p.tcp_window_size > 0) {
		int w = ks->p.tcp_window_size;
		(void)setsockopt(ks->fd, SOL_SOCKET, SO_RCVBUF, &w, sizeof(w));
		(void)setsockopt(ks->fd, SOL_SOCKET, SO_SNDBUF, &w, sizeof(w));
	}
	if (bind_to_iface(ks, ks->fd, sa->sa_family) < 0)
		return KE_FAIL;
	if (connect(ks->fd, sa, salen) < 0 && errno != EINPROGRESS) {
		ks_fail(ks, ISCSI_ERR_TRANS, false, "cannot connect to %s:%d: %s", ks->addr, ks->port,
			strerror(errno));
		return KE_FAIL;
	}
	int r = loop_io_add(ks->k->loop, ks->fd, EPOLLOUT, on_connect, ks, &ks->io);
	if (r < 0) {
		ks_fail(ks, ISCSI_ERR_NOMEM, false, "cannot watch the socket: %s", strerror(-r));
		return KE_FAIL;
	}
	return KE_NONE;
}

static void on_resolved(void *data, int status, const struct sockaddr_storage *addrs, const socklen_t *lens,
			size_t n, const char *why)
{
	struct ksession *ks = data;
	struct kctx *k = ks->k;
	enum ks_event ev;

	ks->resolving = NULL;
	if (status < 0) {
		ks_fail(ks, ISCSI_ERR_TRANS, false, "%s", why);
		ev = KE_FAIL;
	} else {
		log_debug(1, "%s resolved (%zu address%s)", ks->addr, n, n == 1 ? "" : "es");
		ev = connect_to(ks, (const struct sockaddr *)&addrs[0], lens[0]);
	}
	if (ev != KE_NONE)
		ks_fsm(ks, ev);
	kctx_poke(k);
}

enum ks_event kconn_connect(struct ksession *ks)
{
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	enum ks_event ev;

	kconn_close(ks);
	session_attempt_begin(ks->sess);
	if (resolve_numeric(ks->addr, ks->port, &ss, &sslen) == 0) {
		ev = connect_to(ks, (struct sockaddr *)&ss, sslen);
	} else {
		int r = resolve_start(ks->k->loop, ks->addr, ks->port, resolve_timeout_ms(ks), on_resolved, ks,
				      &ks->resolving);
		if (r < 0)
			ks_fail(ks, ISCSI_ERR_TRANS, false, "cannot resolve %s: %s", ks->addr,
				r == -EAGAIN ? "too many lookups waiting" : strerror(-r));
		ev = r < 0 ? KE_FAIL : KE_NONE;
	}
	if (ev != KE_NONE)
		return ev;
	/* node.conn[0].timeo.login_timeout covers the lookup, connect and login */
	int tmo = ks->p.login_timeout > 0 ? ks->p.login_timeout : 15;
	(void)loop_timer_arm(ks->k->loop, &ks->timer, (uint64_t)tmo * 1000u);
	return KE_NONE;
}

/* ---- netlink helpers ---- */

/* SET_PARAM: -ENOSYS means this kernel does not keep the value, which is
 * tolerated (reference §2.3); an empty string is not sent. */
static int setp(struct ksession *ks, enum iscsi_param p, const char *v)
{
	if (!v || !*v)
		return 0;
	int r = nl_set_param(ks->k->nl, ks->sid, ks->cid, p, v);
	if (r == -ENOSYS)
		return 0;
	if (r < 0)
		ks_fail(ks, ISCSI_ERR_INTERNAL, false, "the kernel refused parameter %d: %s", (int)p, nl_strerror(r));
	return r;
}

static int setp_int(struct ksession *ks, enum iscsi_param p, long v)
{
	char b[24];
	snprintf(b, sizeof(b), "%ld", v);
	return setp(ks, p, b);
}

/* SET_HOST_PARAM: -ENOSYS and -EINVAL are tolerated (old kernels). */
static void seth(struct ksession *ks, enum iscsi_host_param p, const char *v)
{
	if (!v || !*v || !strcmp(v, "default"))
		return;
	int r = nl_set_host_param(ks->k->nl, ks->host_no, p, v);
	if (r < 0 && r != -ENOSYS && r != -EINVAL)
		log_warnx("session %" PRIu32 ": SET_HOST_PARAM %d: %s", ks->sid, (int)p, nl_strerror(r));
}

static bool sysfs_conn_has(struct ksession *ks, const char *attr)
{
	char rel[128], buf[64];
	snprintf(rel, sizeof(rel), "class/iscsi_connection/connection%" PRIu32 ":%" PRIu32 "/%s", ks->sid,
		 ks->cid, attr);
	return sysfs_read_attr(ks->k->sysfs, rel, buf, sizeof(buf)) != -ENOENT;
}

/* Before the login (reference §2.3, first table). */
static int set_prelogin_params(struct ksession *ks)
{
	const struct ks_params *r = &ks->p;
	const struct ks_auth *a = ks_params_auth(r);
	int e = 0;

	e = e ? e : setp(ks, ISCSI_PARAM_TARGET_NAME, r->target);
	e = e ? e : setp(ks, ISCSI_PARAM_PERSISTENT_ADDRESS, r->address);
	e = e ? e : setp_int(ks, ISCSI_PARAM_PERSISTENT_PORT, r->port);
	e = e ? e : setp_int(ks, ISCSI_PARAM_SESS_RECOVERY_TMO, r->replacement_timeout);
	/* kept in sysfs: what adopts the session after a restart reads them */
	if (a->username[0]) {
		e = e ? e : setp(ks, ISCSI_PARAM_USERNAME, a->username);
		e = e ? e : setp(ks, ISCSI_PARAM_PASSWORD, a->password);
		e = e ? e : setp(ks, ISCSI_PARAM_USERNAME_IN, a->username_in);
		e = e ? e : setp(ks, ISCSI_PARAM_PASSWORD_IN, a->password_in);
	}
	e = e ? e : setp_int(ks, ISCSI_PARAM_FAST_ABORT, r->fast_abort ? 1 : 0);
	e = e ? e : setp_int(ks, ISCSI_PARAM_ABORT_TMO, r->abort_timeout);
	e = e ? e : setp_int(ks, ISCSI_PARAM_LU_RESET_TMO, r->lu_reset_timeout);
	e = e ? e : setp_int(ks, ISCSI_PARAM_TGT_RESET_TMO, r->tgt_reset_timeout);
	/* in-kernel NOP-Outs: the kernel pings after RECV_TMO s of silence
	 * and fails the connection when PING_TMO s pass without an answer */
	ks->ping_tmo_ok = sysfs_conn_has(ks, "ping_tmo");
	if (ks->ping_tmo_ok) {
		e = e ? e : setp_int(ks, ISCSI_PARAM_PING_TMO, r->noop_out_timeout);
		e = e ? e : setp_int(ks, ISCSI_PARAM_RECV_TMO, r->noop_out_interval);
	}
	e = e ? e : setp(ks, ISCSI_PARAM_IFACE_NAME, r->iface_name[0] ? r->iface_name : "default");
	e = e ? e : setp(ks, ISCSI_PARAM_INITIATOR_NAME, r->iname);
	e = e ? e : setp_int(ks, ISCSI_PARAM_DISCOVERY_SESS, 0);
	if (!e) {
		seth(ks, ISCSI_HOST_PARAM_NETDEV_NAME, r->netdev);
		seth(ks, ISCSI_HOST_PARAM_HWADDRESS, r->hwaddress);
	}
	return e;
}

static enum ks_event send_login_pdu(struct ksession *ks, const struct login_out *out)
{
	int r = nl_send_pdu(ks->k->nl, ks->sid, ks->cid, out->pdu, ISCSI_BHS_LEN, out->pdu + ISCSI_BHS_LEN,
			    out->pdu_len - ISCSI_BHS_LEN);
	if (r < 0) {
		ks_fail(ks, ISCSI_ERR_TRANS, false, "the kernel did not send the Login Request: %s", nl_strerror(r));
		return KE_FAIL;
	}
	return KE_NONE;
}

enum ks_event kconn_start_login(struct ksession *ks)
{
	struct nl_iscsi *nl = ks->k->nl;
	char why[200];
	int r;

	if (!ks->have_session) {
		int cmds = ks->p.cmds_max > 0 ? ks->p.cmds_max : 128;
		int qd = ks->p.queue_depth > 0 ? ks->p.queue_depth : 32;
		if (cmds > 4096)
			cmds = 4096;
		if (qd > 65535)
			qd = 65535;
		r = nl_create_session(nl, (uint32_t)ks->p.initial_cmdsn, (uint16_t)cmds, (uint16_t)qd,
				      &ks->sid, &ks->host_no);
		if (r < 0) {
			ks_fail(ks, ISCSI_ERR_INTERNAL, true, "the kernel did not create a session: %s", nl_strerror(r));
			return KE_FAIL;
		}
		ks->have_session = true;
		log_debug(1, "session %" PRIu32 " created on host%" PRIu32, ks->sid, ks->host_no);
		if (session_set_sid(ks->sess, ks->sid, ks->host_no) < 0) {
			ks_fail(ks, ISCSI_ERR_INTERNAL, true,
				"the kernel gave the session id %" PRIu32 ", which another session has", ks->sid);
			return KE_FAIL;
		}
	}
	if (!ks->have_conn) {
		r = nl_create_conn(nl, ks->sid, 0, &ks->cid);
		if (r < 0) {
			ks_fail(ks, ISCSI_ERR_INTERNAL, true, "the kernel did not create a connection: %s",
				nl_strerror(r));
			return KE_FAIL;
		}
		ks->have_conn = true;
	}
	if (ks->bound) {
		/* never bind twice without a stop in between (§5 gotcha 9) */
		(void)nl_stop_conn(nl, ks->sid, ks->cid, ISCSI_STOP_CONN_RECOVER);
		ks->bound = ks->started = false;
	}
	kctx_drop_stale(ks->k, ks->sid);
	r = nl_bind_conn(nl, ks->sid, ks->cid, ks->fd, true);
	if (r < 0) {
		ks_fail(ks, ISCSI_ERR_TRANS, false, "the kernel did not take the connection: %s", nl_strerror(r));
		return KE_FAIL;
	}
	ks->bound = true;
	/* BIND_CONN took a reference to the socket (iscsi_tcp keeps it
	 * until the connection is stopped): the login and everything after
	 * go through the kernel, so our descriptor is let go now. A
	 * thousand sessions must not hold a thousand descriptors (EMFILE
	 * near RLIMIT_NOFILE's 1024), and an adopted session has none. */
	close(ks->fd);
	ks->fd = -1;
	/* a new connection starts at 0; a replacement continues where the
	 * old one was (§2.2 step 5) */
	uint32_t exp_statsn = 0;
	(void)sysfs_conn_exp_statsn(ks->k->sysfs, ks->sid, ks->cid, &exp_statsn);
	if (set_prelogin_params(ks) < 0)
		return KE_FAIL;

	struct iscsi_params wishes;
	if (kconn_wishes(&ks->p, &wishes, why, sizeof(why)) < 0) {
		ks_fail(ks, ISCSI_ERR_INVAL, true, "invalid node record: %s", why);
		return KE_FAIL;
	}
	enum chap_alg algs[CHAP_MAX_ALGS];
	size_t nalgs = 0;
	const struct ks_auth *a = ks_params_auth(&ks->p);
	if (ks->md5_only) {
		algs[0] = CHAP_ALG_MD5;
		nalgs = 1;
	} else if (chap_alg_list_parse(a->chap_algs[0] ? a->chap_algs : NULL, algs, &nalgs) < 0) {
		ks_fail(ks, ISCSI_ERR_INVAL, true, "invalid node.session.auth.chap_algs '%s'", a->chap_algs);
		return KE_FAIL;
	}
	bool chap = a->username[0] && a->password[0];
	bool mutual = chap && a->username_in[0] && a->password_in[0];
	/* ERL 0 recovery (RFC 7143 §6.3.5): first ask to continue the
	 * session the target may still hold; if it says the session is
	 * gone, reinstate it with TSIH 0 and the same ISID. */
	uint16_t tsih = ks->ever_logged_in && !ks->tsih_refused ? ks->tsih : 0;
	struct login_config cfg = {
		.initiator_name = ks->p.iname,
		.initiator_alias = ks->p.ialias[0] ? ks->p.ialias : NULL,
		.target_name = ks->p.target,
		.session_type = ISCSI_SESSION_NORMAL,
		.tsih = tsih,
		.cid = (uint16_t)ks->cid,
		.itt = KCONN_LOGIN_ITT,
		.cmdsn = (uint32_t)ks->p.initial_cmdsn,  /* the kernel writes its own */
		.exp_statsn = exp_statsn,
		.username = chap ? a->username : NULL,
		.password = chap ? a->password : NULL,
		.username_in = mutual ? a->username_in : NULL,
		.password_in = mutual ? a->password_in : NULL,
		.chap_algs = algs,
		.n_chap_algs = nalgs,
		.wishes = &wishes,
	};
	/* open-iscsi's ISID: 00 02 3D + the low 3 bytes of the sid */
	login_isid_make(ks->sid & 0xffffffu, cfg.isid);
	if (login_config_check(&cfg, why, sizeof(why)) < 0) {
		ks_fail(ks, ISCSI_ERR_INVAL, true, "cannot log in: %s", why);
		return KE_FAIL;
	}
	login_free(ks->login);
	ks->login = login_new(&cfg);
	if (!ks->login) {
		ks_fail(ks, ISCSI_ERR_NOMEM, true, "out of memory");
		return KE_FAIL;
	}
	struct login_out out;
	if (login_start(ks->login, &out) < 0 || out.kind != LOGIN_SEND) {
		ks_fail(ks, ISCSI_ERR_NOMEM, true, "cannot start the login");
		return KE_FAIL;
	}
	log_debug(1, "session %" PRIu32 ": login (TSIH %u, ExpStatSN %" PRIu32 ")", ks->sid, tsih, exp_statsn);
	ks->rsp_seen = false;
	return send_login_pdu(ks, &out);
}

enum ks_event kconn_login_rsp(struct ksession *ks, const uint8_t *pdu, size_t len)
{
	uint8_t bhs[ISCSI_BHS_LEN];
	struct login_out out;

	if (!ks->login || len < ISCSI_BHS_LEN)
		return KE_NONE;
	ks->rsp_seen = true;
	ks->silent_drops = 0;
	memcpy(bhs, pdu, ISCSI_BHS_LEN);
	/* the kernel matched the tag to its login task: put ours back */
	bhs[16] = (uint8_t)(KCONN_LOGIN_ITT >> 24);
	bhs[17] = (uint8_t)(KCONN_LOGIN_ITT >> 16);
	bhs[18] = (uint8_t)(KCONN_LOGIN_ITT >> 8);
	bhs[19] = (uint8_t)KCONN_LOGIN_ITT;
	int r = login_step_split(ks->login, bhs, pdu + ISCSI_BHS_LEN, len - ISCSI_BHS_LEN, &out);
	if (r < 0 && out.kind != LOGIN_FAILED) {
		ks_fail(ks, ISCSI_ERR_NOMEM, false, "login: out of memory");
		return KE_FAIL;
	}
	switch (out.kind) {
	case LOGIN_SEND:
		return send_login_pdu(ks, &out);
	case LOGIN_DONE:
		ks->result = out.result;
		return KE_LOGIN_DONE;
	case LOGIN_REDIRECT: {
		const struct portal *p = &out.redirect.portal;
		/* the target's TargetAddress is hostile input: checked */
		if (!rec_address_valid(p->host) || p->port == 0) {
			ks_fail(ks, ISCSI_ERR_FATAL_LOGIN, true, "redirected to an invalid address");
			return KE_FAIL;
		}
		if (!session_redirect_allowed(ks->sess)) {
			ks_fail(ks, ISCSI_ERR_FATAL_LOGIN, true, "more than %d redirections", SESSION_MAX_REDIRECTS);
			return KE_FAIL;
		}
		/* RFC 7143 §11.13.5: a permanent move also changes where
		 * later reconnects go; a temporary one does not */
		if (ks_addr_redirect(ks, p->host, p->port, out.redirect.permanent) < 0) {
			ks_fail(ks, ISCSI_ERR_NOMEM, false, "out of memory");
			return KE_FAIL;
		}
		ks_fail(ks, ISCSI_ERR_LOGIN, false, "%s redirected to %s:%u",
			out.redirect.permanent ? "permanently" : "temporarily", p->host, p->port);
		ks->err.now = true;
		ks->err.redirect = true;
		return KE_FAIL;
	}
	case LOGIN_RETRY_MD5:
		if (!ks->md5_only) {
			ks_fail(ks, out.exit_code, false, "%s; trying again with CHAP_A=5 (MD5) only", out.msg);
			ks->md5_only = true;
			ks->err.now = true;
			return KE_FAIL;
		}
		ks_fail(ks, out.exit_code, true, "%s", out.msg);
		return KE_FAIL;
	default:
		if (out.status_class == 0x02 && out.status_detail == 0x0a && !ks->tsih_refused && ks->ever_logged_in) {
			/* "session does not exist": reinstate it (TSIH 0) */
			ks_fail(ks, ISCSI_ERR_LOGIN, false, "the target no longer has the session; reinstating it");
			ks->tsih_refused = true;
			ks->err.now = true;
			return KE_FAIL;
		}
		ks_fail(ks, out.exit_code ? out.exit_code : ISCSI_ERR_LOGIN,
			out.exit_code == ISCSI_ERR_LOGIN_AUTH_FAILED || out.exit_code == ISCSI_ERR_FATAL_LOGIN, "%s",
			out.msg);
		return KE_FAIL;
	}
}

/* The kernel's MAX_R2T must be a power of two; a larger pool than the
 * negotiated MaxOutstandingR2T is always safe. */
static unsigned r2t_pool(uint32_t v)
{
	unsigned p = 1;
	while (p < v && p < 65536)
		p <<= 1;
	return p;
}

enum ks_event kconn_full_feature(struct ksession *ks)
{
	const struct login_result *res = &ks->result;
	const struct iscsi_params *c = &res->params;     /* connection scope */
	int e = 0;

	loop_timer_disarm(ks->k->loop, &ks->timer);
	/* a leading login negotiated the session keys; a continuation kept
	 * those of the session (login.h) */
	bool leading = !(ks->ever_logged_in && !ks->tsih_refused && ks->tsih);
	if (leading || !ks->have_neg) {
		ks->neg = res->params;
		ks->have_neg = true;
	}
	const struct iscsi_params *s = &ks->neg;        /* session scope */
	int tpgt = s->tpgt >= 0 ? s->tpgt : ks->p.tpgt;

	/* reference §2.3, second table; EXP_STATSN: StatSN of the final
	 * Login Response + 1, which the kernel never sees itself */
	e = e ? e : setp_int(ks, ISCSI_PARAM_MAX_RECV_DLENGTH, c->max_recv_dsl);
	e = e ? e : setp_int(ks, ISCSI_PARAM_MAX_XMIT_DLENGTH, c->max_xmit_dsl);
	e = e ? e : setp_int(ks, ISCSI_PARAM_HDRDGST_EN, c->header_digest == ISCSI_DIGEST_CRC32C);
	e = e ? e : setp_int(ks, ISCSI_PARAM_DATADGST_EN, c->data_digest == ISCSI_DIGEST_CRC32C);
	e = e ? e : setp_int(ks, ISCSI_PARAM_INITIAL_R2T_EN, s->initial_r2t);
	e = e ? e : setp_int(ks, ISCSI_PARAM_MAX_R2T, r2t_pool(s->max_outstanding_r2t));
	e = e ? e : setp_int(ks, ISCSI_PARAM_IMM_DATA_EN, s->immediate_data);
	e = e ? e : setp_int(ks, ISCSI_PARAM_FIRST_BURST, s->first_burst_length);
	e = e ? e : setp_int(ks, ISCSI_PARAM_MAX_BURST, s->max_burst_length);
	e = e ? e : setp_int(ks, ISCSI_PARAM_PDU_INORDER_EN, s->data_pdu_in_order);
	e = e ? e : setp_int(ks, ISCSI_PARAM_DATASEQ_INORDER_EN, s->data_sequence_in_order);
	e = e ? e : setp_int(ks, ISCSI_PARAM_ERL, 0);
	if (!e) {
		char b[16];
		snprintf(b, sizeof(b), "%" PRIu32, res->exp_statsn);
		e = setp(ks, ISCSI_PARAM_EXP_STATSN, b);
	}
	if (!e && tpgt >= 0)
		e = setp_int(ks, ISCSI_PARAM_TPGT, tpgt);
	if (e)
		return KE_FAIL;
	int r = nl_start_conn(ks->k->nl, ks->sid, ks->cid);
	if (r < 0) {
		ks_fail(ks, ISCSI_ERR_INTERNAL, false, "the kernel did not start the connection: %s", nl_strerror(r));
		return KE_FAIL;
	}
	ks->started = true;
	login_free(ks->login);
	ks->login = NULL;
	ks->tsih = res->tsih;
	ks->tsih_refused = false;
	/* the layer logs that it is operational (ks_report -> LOGGED_IN) */
	if (ks->ever_logged_in) {
		krec_online_devices(ks);
		if (ks->scan_pending && kscan_start(ks, KSCAN_EVENT, false, NULL) < 0)
			log_warnx("session %" PRIu32 ": cannot start a scan", ks->sid);
		ks->scan_pending = false;
		return KE_NONE;
	}
	ks->ever_logged_in = true;
	if (ks->login_req) {
		struct kreq *q = ks->login_req;
		q->res.sid = ks->sid;
		q->res.host_no = ks->host_no;
		if (ks->no_scan || ks->p.scan == REC_SCAN_MANUAL) {
			ks->login_req = NULL;
			kreq_finish(ks->k, q);
		} else {
			/* open-iscsi answers once the scan has been done */
			ks->login_req = NULL;
			r = kscan_start(ks, KSCAN_LOGIN, ks->wait_devices, q);
			if (r < 0) {
				snprintf(q->res.message, sizeof(q->res.message),
					 "logged in, but the SCSI scan could not be started: %s", strerror(-r));
				kreq_finish(ks->k, q);
			}
		}
	}
	return KE_NONE;
}

void kconn_teardown(struct ksession *ks)
{
	struct nl_iscsi *nl = ks->k->nl;
	int r;

	if (ks->have_conn) {
		if (ks->bound || ks->started || ks->ever_logged_in) {
			r = nl_stop_conn(nl, ks->sid, ks->cid, ISCSI_STOP_CONN_TERM);
			if (r < 0)
				log_warnx("session %" PRIu32 ": STOP_CONN: %s", ks->sid, nl_strerror(r));
		}
		r = nl_destroy_conn(nl, ks->sid, ks->cid);
		if (r < 0)
			log_warnx("session %" PRIu32 ": DESTROY_CONN: %s", ks->sid, nl_strerror(r));
		ks->have_conn = ks->bound = ks->started = false;
	}
	if (ks->have_session && ks->logout_req && ks->state == KS_DEAD &&
	    kctx_destroy_async(ks->k, ks->sid, ks->logout_req) == 0) {
		/* answered when the kernel has removed it */
		ks->logout_req = NULL;
		ks->have_session = false;
	}
	if (ks->have_session) {
		r = nl_destroy_session(nl, ks->sid);
		if (r < 0)
			log_warnx("session %" PRIu32 ": DESTROY_SESSION: %s", ks->sid, nl_strerror(r));
		ks->have_session = false;
	}
}
