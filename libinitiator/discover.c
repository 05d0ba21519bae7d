/* One SendTargets discovery: connect, discovery login, Text exchange,
 * Logout (RFC 7143 §4.3, §11.10-§11.15, Appendix C). */
#include "discover.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "errors.h"
#include "login.h"
#include "netio.h"
#include "params.h"
#include "pdu.h"
#include "secmem.h"

/* A discovery session uses one task tag per task; any values will do. */
#define ITT_LOGIN 0x00000001u
#define ITT_TEXT 0x00000002u
#define ITT_LOGOUT 0x00000003u
#define LOGOUT_WAIT_MS 3000u

static int tcp_connect(void *ctx, const struct portal *p, const struct iface_rec *iface, uint64_t deadline,
		       char *err, size_t errlen)
{
	return netio_connect(p, iface, ctx, deadline, err, errlen);
}

static int tcp_write(void *ctx, int h, const void *buf, size_t len, uint64_t deadline)
{
	(void)ctx;
	return netio_write_all(h, buf, len, deadline);
}

static int tcp_read(void *ctx, int h, void *buf, size_t len, uint64_t deadline)
{
	(void)ctx;
	return netio_read_exact(h, buf, len, deadline);
}

static void tcp_close(void *ctx, int h)
{
	(void)ctx;
	close(h);
}

const struct discover_io discover_tcp_io = {
	.connect = tcp_connect,
	.write_all = tcp_write,
	.read_exact = tcp_read,
	.close = tcp_close,
};

struct dconn {
	const struct discover_opts *o;
	const struct discover_io *io;
	struct portal where;            /* the portal of this connection (may be a redirect) */
	int fd;
	uint8_t *buf;                   /* one received PDU */
	size_t cap;
	struct pdu_opts rx;             /* limits for what we receive */
	struct pdu_opts tx;             /* limits for what we send */
	char *msg;
	size_t msglen;
};

__attribute__((format(printf, 2, 3)))
static void dbg(const struct dconn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->o->debug < 2)
		return;
	fprintf(stderr, "%s: discovery: ", program_invocation_short_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void where_str(const struct portal *p, char *buf, size_t len)
{
	struct portal q = *p;

	q.tpgt = -1;
	if (portal_format(&q, buf, len))
		snprintf(buf, len, "%s", "(portal)");
}

__attribute__((format(printf, 3, 4)))
static int fail(struct dconn *c, int code, const char *fmt, ...)
{
	char w[PORTAL_HOST_MAX + 16], why[DISCOVER_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	where_str(&c->where, w, sizeof(w));
	snprintf(c->msg, c->msglen, "SendTargets discovery at %s failed: %s", w, why);
	return code;
}

/* An I/O error as an exit code with a message. */
static int io_fail(struct dconn *c, int r, const char *during)
{
	if (r == -ETIMEDOUT)
		return fail(c, ISCSI_ERR_PDU_TIMEOUT, "no answer from the target %s (timed out)", during);
	if (r == -ECONNRESET)
		return fail(c, ISCSI_ERR_TRANS, "the target closed the connection %s", during);
	if (r == -EPROTO || r == -EMSGSIZE || r == -EBADMSG)
		return fail(c, ISCSI_ERR_FATAL_LOGIN, "the target sent an invalid PDU %s", during);
	return fail(c, ISCSI_ERR_TRANS, "connection error %s: %s", during, strerror(-r));
}

static int send_bytes(struct dconn *c, const uint8_t *p, size_t len, uint64_t deadline)
{
	return c->io->write_all(c->io->ctx, c->fd, p, len, deadline);
}

/* Reads one PDU into c->buf; *ret's pointers refer into it. */
static int recv_pdu(struct dconn *c, struct pdu *ret, size_t *ret_len, uint64_t deadline, char *why,
		    size_t whylen)
{
	enum pdu_error pe = PDU_OK;
	int r = c->io->read_exact(c->io->ctx, c->fd, c->buf, ISCSI_BHS_LEN, deadline);

	if (r)
		return r;
	r = pdu_decode_bhs(c->buf, PDU_DIR_TO_INITIATOR, &c->rx, ret, &pe);
	if (r) {
		snprintf(why, whylen, "%s", pdu_strerror(pe));
		return -EPROTO;
	}
	size_t rest = pdu_rest_len(ret, &c->rx);
	if (ISCSI_BHS_LEN + rest > c->cap) {
		snprintf(why, whylen, "PDU larger than negotiated");
		return -EPROTO;
	}
	r = c->io->read_exact(c->io->ctx, c->fd, c->buf + ISCSI_BHS_LEN, rest, deadline);
	if (r)
		return r;
	r = pdu_decode_rest(ret, c->buf, ISCSI_BHS_LEN + rest, &c->rx, &pe);
	if (r) {
		snprintf(why, whylen, "%s", pdu_strerror(pe));
		return -EPROTO;
	}
	*ret_len = ISCSI_BHS_LEN + rest;
	return 0;
}

static int ensure_buf(struct dconn *c, uint32_t max_data)
{
	/* BHS + the largest AHS + digests + data + padding. */
	size_t need = ISCSI_BHS_LEN + ISCSI_MAX_AHS_LEN + 2 * ISCSI_DIGEST_LEN + (size_t)max_data + 4;
	if (need <= c->cap)
		return 0;
	/* the login PDUs received carry CHAP exchanges */
	uint8_t *nb = secmem_grow(c->buf, c->cap, c->cap, need);
	if (!nb)
		return -ENOMEM;
	c->buf = nb;
	c->cap = need;
	return 0;
}

struct login_outcome {
	int code;                      /* exit code */
	bool redirect;
	struct portal to;
	bool retry_md5;
	struct login_result result;
};

/* The discovery login on a connected c->fd. */
static int do_login(struct dconn *c, const enum chap_alg *algs, size_t n_algs, struct login_outcome *out)
{
	const struct discover_opts *o = c->o;
	const struct rec_auth *a = o->auth;
	struct iscsi_params wishes;
	struct login_out lo;
	struct login *l;
	uint32_t q;
	char why[160];
	int r;

	memset(out, 0, sizeof(*out));
	params_init_wishes(&wishes);
	wishes.max_recv_dsl = o->max_recv_dlength;
	q = o->isid_qualifier;
	if (!q && getrandom(&q, sizeof(q), 0) != sizeof(q))
		q = (uint32_t)getpid();
	struct login_config cfg = {
		.initiator_name = o->initiator_name,
		.initiator_alias = o->initiator_alias,
		.session_type = ISCSI_SESSION_DISCOVERY,
		.itt = ITT_LOGIN,
		.cmdsn = 1,
		.exp_statsn = 0,
		.username = a && a->username[0] ? a->username : NULL,
		.password = a && a->username[0] ? a->password : NULL,
		.username_in = a && a->username[0] && a->username_in[0] ? a->username_in : NULL,
		.password_in = a && a->username[0] && a->username_in[0] ? a->password_in : NULL,
		.chap_algs = algs,
		.n_chap_algs = n_algs,
		.wishes = &wishes,
	};
	login_isid_make(q & 0xffffffu, cfg.isid);
	if (login_config_check(&cfg, why, sizeof(why)))
		return fail(c, ISCSI_ERR_INVAL, "%s", why);
	l = login_new(&cfg);
	if (!l)
		return fail(c, ISCSI_ERR_NOMEM, "out of memory");

	uint64_t deadline = netio_now_ms() + (uint64_t)o->login_timeout * 1000u;
	c->rx = (struct pdu_opts){ .max_data_len = ISCSI_LOGIN_MAX_DSL };
	if (ensure_buf(c, ISCSI_LOGIN_MAX_DSL)) {
		login_free(l);
		return fail(c, ISCSI_ERR_NOMEM, "out of memory");
	}
	r = login_start(l, &lo);
	while (r == 0 && lo.kind == LOGIN_SEND) {
		struct pdu rsp;
		size_t len;
		r = send_bytes(c, lo.pdu, lo.pdu_len, deadline);
		if (r)
			break;
		why[0] = '\0';
		r = recv_pdu(c, &rsp, &len, deadline, why, sizeof(why));
		if (r == -EPROTO) {
			login_free(l);
			return fail(c, ISCSI_ERR_FATAL_LOGIN, "invalid PDU during login: %s", why);
		}
		if (r)
			break;
		r = login_step(l, c->buf, len, &lo);
	}
	login_free(l);
	if (r == -ENOMEM)
		return fail(c, ISCSI_ERR_NOMEM, "out of memory");
	if (r)
		return io_fail(c, r, "during login");

	switch (lo.kind) {
	case LOGIN_DONE:
		out->result = lo.result;
		return 0;
	case LOGIN_REDIRECT:
		out->redirect = true;
		out->to = lo.redirect.portal;
		dbg(c, "redirected: %s", lo.msg);
		return 0;
	case LOGIN_RETRY_MD5:
		out->retry_md5 = true;
		return fail(c, lo.exit_code ? lo.exit_code : ISCSI_ERR_LOGIN_AUTH_FAILED, "%s", lo.msg);
	default:
		return fail(c, lo.exit_code ? lo.exit_code : ISCSI_ERR_LOGIN, "login failed: %s", lo.msg);
	}
}

static int send_pdu(struct dconn *c, const struct pdu *p, uint64_t deadline)
{
	uint8_t out[ISCSI_BHS_LEN + 2 * ISCSI_DIGEST_LEN + 16 + NAME_MAX_LEN + 8];
	size_t len;
	int r = pdu_encode(p, &c->tx, out, sizeof(out), &len);

	if (r)
		return r;
	return send_bytes(c, out, len, deadline);
}

/* A NOP-In the target sent on its own: answer when it asks (RFC 7143
 * §11.18, §11.19), else ignore. */
static int answer_nop(struct dconn *c, const struct pdu *nop, const struct st_exchange *ex, uint64_t deadline)
{
	if (nop->ttt == ISCSI_RESERVED_TAG)
		return 0;
	struct pdu out = {
		.opcode = ISCSI_OP_NOOP_OUT,
		.immediate = true,
		.flags = ISCSI_FLAG_FINAL,
		.itt = ISCSI_RESERVED_TAG,
		.ttt = nop->ttt,
		.cmdsn = ex->cmdsn,
		.exp_statsn = ex->exp_statsn,
	};
	memcpy(out.lun, nop->lun, sizeof(out.lun));
	return send_pdu(c, &out, deadline);
}

/* A Logout Request closing the session (RFC 7143 §11.14); *ret_dl is
 * the deadline for its answer. */
static int send_logout(struct dconn *c, uint32_t cmdsn, uint32_t exp_statsn, uint64_t *ret_dl)
{
	uint8_t lbuf[ISCSI_BHS_LEN];
	size_t len;

	*ret_dl = netio_now_ms() + LOGOUT_WAIT_MS;
	if (login_build_logout(ITT_LOGOUT, 0, cmdsn, exp_statsn, ISCSI_LOGOUT_CLOSE_SESSION, lbuf, sizeof(lbuf),
			       &len))
		return -EINVAL;
	return send_bytes(c, lbuf, len, *ret_dl);
}

/* The Text exchange after a successful login. */
static int do_sendtargets(struct dconn *c, const struct login_result *lr, struct st_result *ret)
{
	const struct discover_opts *o = c->o;
	struct st_exchange ex;
	struct pdu req, rsp;
	size_t len;
	char why[160];
	int r;

	c->rx = (struct pdu_opts){
		.max_data_len = lr->params.max_recv_dsl,
		.header_digest = lr->params.header_digest == ISCSI_DIGEST_CRC32C,
		.data_digest = lr->params.data_digest == ISCSI_DIGEST_CRC32C,
	};
	c->tx = c->rx;
	c->tx.max_data_len = lr->params.max_xmit_dsl ? lr->params.max_xmit_dsl : ISCSI_LOGIN_MAX_DSL;
	if (ensure_buf(c, c->rx.max_data_len))
		return fail(c, ISCSI_ERR_NOMEM, "out of memory");

	r = st_exchange_start(&ex, ITT_TEXT, lr->cmdsn, lr->exp_statsn, lr->exp_cmdsn, lr->max_cmdsn, &req);
	if (r)
		return fail(c, ISCSI_ERR_INTERNAL, "cannot build the SendTargets request");
	/* Each Text Response must come within active_timeout; the whole
	 * exchange gets four times that, so a target dripping Continue PDUs
	 * cannot hold us forever. */
	uint64_t per_pdu = (uint64_t)o->active_timeout * 1000u;
	uint64_t total = netio_now_ms() + 4 * per_pdu;
	uint64_t ldl = 0;
	bool logout_sent = false;
	int step = ST_STEP_SEND;
	for (;;) {
		if (step == ST_STEP_SEND) {
			r = send_pdu(c, &req, total);
			if (r)
				break;
			/* the target answers meanwhile */
			st_exchange_digest(&ex);
		}
		uint64_t now = netio_now_ms(), dl = now + per_pdu < total ? now + per_pdu : total;
		why[0] = '\0';
		r = recv_pdu(c, &rsp, &len, dl, why, sizeof(why));
		if (r == -EPROTO) {
			st_exchange_free(&ex);
			return fail(c, ISCSI_ERR_FATAL_LOGIN, "invalid PDU in the SendTargets exchange: %s", why);
		}
		if (r)
			break;
		if (rsp.opcode == ISCSI_OP_NOOP_IN) {
			r = answer_nop(c, &rsp, &ex, dl);
			if (r)
				break;
			step = ST_STEP_IGNORED;
			continue;
		}
		if (rsp.opcode == ISCSI_OP_ASYNC_MSG) {
			if (rsp.async_event == ISCSI_ASYNC_SCSI_EVENT || rsp.async_event == ISCSI_ASYNC_VENDOR) {
				step = ST_STEP_IGNORED;
				continue;
			}
			st_exchange_free(&ex);
			return fail(c, ISCSI_ERR_TRANS, "the target ended the discovery session (async event %u)",
				    rsp.async_event);
		}
		if (rsp.opcode != ISCSI_OP_TEXT_RSP && rsp.opcode != ISCSI_OP_REJECT) {
			st_exchange_free(&ex);
			return fail(c, ISCSI_ERR_FATAL_LOGIN, "unexpected %s PDU in the SendTargets exchange",
				    pdu_opcode_name(rsp.opcode));
		}
		/* The last Text Response (F=1): the Logout goes out before the
		 * list is read, so the target answers it meanwhile. Its
		 * CmdSN and ExpStatSN are those st_exchange_step() would
		 * leave: no request follows, and this StatSN + 1. */
		if (rsp.opcode == ISCSI_OP_TEXT_RSP && pdu_is_final(&rsp) && rsp.itt == ITT_TEXT)
			logout_sent = send_logout(c, ex.cmdsn, rsp.statsn + 1, &ldl) == 0;
		step = st_exchange_step(&ex, &rsp, &req, ret);
		if (step < 0) {
			int code = step == -ENOMEM ? ISCSI_ERR_NOMEM : ISCSI_ERR_FATAL_LOGIN;
			r = fail(c, code, "%s", st_exchange_error(&ex));
			st_exchange_free(&ex);
			return r;
		}
		if (step == ST_STEP_DONE)
			break;
	}
	if (r) {
		st_exchange_free(&ex);
		return io_fail(c, r, "during SendTargets");
	}

	/* Close the session politely; the targets are ours already, so a
	 * target that botches the Logout costs nothing. */
	if (logout_sent) {
		uint8_t resp_code = 0;
		for (int i = 0; i < 4; i++) {
			if (recv_pdu(c, &rsp, &len, ldl, why, sizeof(why)))
				break;
			if (rsp.opcode != ISCSI_OP_LOGOUT_RSP)
				continue;
			if (login_parse_logout_response(c->buf, len, ITT_LOGOUT, &resp_code) == 0)
				dbg(c, "logout response %u", resp_code);
			break;
		}
	}
	st_exchange_free(&ex);
	return 0;
}

int discover_sendtargets(const struct discover_opts *o, struct st_result *ret, char *msg, size_t msglen)
{
	struct discover_io tcp = discover_tcp_io;
	struct dconn c = { .o = o, .io = o->io, .where = *o->portal, .fd = -1, .msg = msg, .msglen = msglen };
	enum chap_alg algs[CHAP_MAX_ALGS];
	size_t n_algs = 0;
	struct st_result res;
	int code = 0;

	msg[0] = '\0';
	if (!c.io) {
		tcp.ctx = (void *)o->binder;
		c.io = &tcp;
	}
	st_result_init(&res);
	if (o->auth && o->auth->username[0] &&
	    chap_alg_list_parse(o->auth->chap_algs[0] ? o->auth->chap_algs : NULL, algs, &n_algs))
		return fail(&c, ISCSI_ERR_INVAL, "invalid CHAP algorithm list '%s' in chap_algs", o->auth->chap_algs);

	for (int hop = 0;; hop++) {
		char err[200] = "";
		char w[PORTAL_HOST_MAX + 16];
		uint64_t deadline = netio_now_ms() + (uint64_t)o->login_timeout * 1000u;

		where_str(&c.where, w, sizeof(w));
		dbg(&c, "connecting to %s", w);
		c.fd = c.io->connect(c.io->ctx, &c.where, o->iface, deadline, err, sizeof(err));
		if (c.fd < 0) {
			int r = c.fd;
			c.fd = -1;
			if (r == -ETIMEDOUT)
				code = fail(&c, ISCSI_ERR_TRANS_TIMEOUT, "cannot connect: timed out after %u s",
					    o->login_timeout);
			else if (r == -EINVAL || r == -EAFNOSUPPORT)
				/* the iface record itself cannot work (netio.h) */
				code = fail(&c, ISCSI_ERR_INVAL, "cannot connect: %s", err);
			else
				code = fail(&c, ISCSI_ERR_TRANS, "cannot connect: %s", err);
			break;
		}
		struct login_outcome lo = { 0 };
		code = do_login(&c, n_algs ? algs : NULL, n_algs, &lo);
		if (code && lo.retry_md5 && n_algs > 1) {
			/* A target that chokes on a CHAP_A list: once more with
			 * MD5 alone (login.h). */
			dbg(&c, "retrying the login offering CHAP_A=5 only");
			c.io->close(c.io->ctx, c.fd);
			algs[0] = CHAP_ALG_MD5;
			n_algs = 1;
			continue;
		}
		if (code == 0 && lo.redirect) {
			c.io->close(c.io->ctx, c.fd);
			c.fd = -1;
			if (hop + 1 >= DISCOVER_MAX_REDIRECTS) {
				code = fail(&c, ISCSI_ERR_LOGIN, "more than %d redirections", DISCOVER_MAX_REDIRECTS);
				break;
			}
			c.where = lo.to;
			continue;
		}
		if (code == 0) {
			code = do_sendtargets(&c, &lo.result, &res);
			if (code == 0) {
				struct portal self = *o->portal;
				self.tpgt = lo.result.params.tpgt;
				if (sendtargets_apply_default_portal(&res, &self))
					code = fail(&c, ISCSI_ERR_NOMEM, "out of memory");
			}
		}
		break;
	}
	if (c.fd >= 0)
		c.io->close(c.io->ctx, c.fd);
	secmem_free(c.buf, c.cap);
	if (code) {
		st_result_free(&res);
		return code;
	}
	*ret = res;
	return 0;
}
