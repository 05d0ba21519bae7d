/* The login engine: stages, Login Request/Response PDUs, continuation,
 * sequence numbers and outcomes (RFC 7143 §6, §11.12, §11.13). The
 * security stage is in login_auth.c, key negotiation in params.c. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errbuf.h"
#include "errors.h"
#include "login_int.h"

static const char *const stage_names[] = {
	"SecurityNegotiation", "LoginOperationalNegotiation", "reserved stage 2", "FullFeaturePhase",
};

void login_isid_make(uint32_t qualifier, uint8_t ret_isid[6])
{
	/* RFC 7143 §11.12.5: T=00 (OUI format), then the 22-bit OUI field
	 * (00:02:3D, open-iscsi's), then the 24-bit qualifier. */
	ret_isid[0] = 0x00;
	ret_isid[1] = 0x02;
	ret_isid[2] = 0x3d;
	ret_isid[3] = (uint8_t)(qualifier >> 16);
	ret_isid[4] = (uint8_t)(qualifier >> 8);
	ret_isid[5] = (uint8_t)qualifier;
}

static bool empty(const char *s)
{
	return !s || s[0] == '\0';
}

static int check_text(const char *what, const char *s, size_t max, char *err, size_t errlen)
{
	size_t n = strlen(s);

	if (n > max || !text_value_valid(s, n)) {
		errbuf_set(err, errlen, "%s is too long or holds control characters", what);
		return -EINVAL;
	}
	return 0;
}

int login_config_check(const struct login_config *cfg, char *err, size_t errlen)
{
	char why[128];
	int r;

	if (!cfg) {
		errbuf_set(err, errlen, "no configuration");
		return -EINVAL;
	}
	if (empty(cfg->initiator_name) || name_validate(cfg->initiator_name, why, sizeof(why)) < 0) {
		errbuf_set(err, errlen, "invalid initiator name: %s", empty(cfg->initiator_name) ? "empty" : why);
		return -EINVAL;
	}
	if (cfg->session_type == ISCSI_SESSION_NORMAL) {
		if (empty(cfg->target_name) || name_validate(cfg->target_name, why, sizeof(why)) < 0) {
			errbuf_set(err, errlen, "invalid target name: %s", empty(cfg->target_name) ? "empty" : why);
			return -EINVAL;
		}
	} else if (cfg->session_type == ISCSI_SESSION_DISCOVERY) {
		/* §13.4: a discovery session names no target. */
		if (!empty(cfg->target_name)) {
			errbuf_set(err, errlen, "a discovery session has no target name");
			return -EINVAL;
		}
	} else {
		errbuf_set(err, errlen, "invalid session type");
		return -EINVAL;
	}
	if (!empty(cfg->initiator_alias) && check_text("initiator alias", cfg->initiator_alias, 255, err, errlen) < 0)
		return -EINVAL;
	if (empty(cfg->username) != empty(cfg->password)) {
		errbuf_set(err, errlen, "CHAP needs both a username and a password");
		return -EINVAL;
	}
	if (empty(cfg->username_in) != empty(cfg->password_in)) {
		errbuf_set(err, errlen, "mutual CHAP needs both username_in and password_in");
		return -EINVAL;
	}
	if (!empty(cfg->username_in) && empty(cfg->username)) {
		errbuf_set(err, errlen, "mutual CHAP needs the outgoing username and password as well");
		return -EINVAL;
	}
	if (!empty(cfg->username)) {
		if (check_text("CHAP username", cfg->username, 255, err, errlen) < 0)
			return -EINVAL;
		if (strlen(cfg->password) > CHAP_SECRET_MAX) {
			errbuf_set(err, errlen, "CHAP password longer than %d bytes", CHAP_SECRET_MAX);
			return -EINVAL;
		}
	}
	if (!empty(cfg->username_in)) {
		if (check_text("CHAP username_in", cfg->username_in, 255, err, errlen) < 0)
			return -EINVAL;
		if (strlen(cfg->password_in) > CHAP_SECRET_MAX) {
			errbuf_set(err, errlen, "CHAP password_in longer than %d bytes", CHAP_SECRET_MAX);
			return -EINVAL;
		}
		/* §12.1.3: the same secret must not be used in both directions. */
		if (chap_secrets_equal((const uint8_t *)cfg->password, strlen(cfg->password),
				       (const uint8_t *)cfg->password_in, strlen(cfg->password_in))) {
			errbuf_set(err, errlen, "mutual CHAP must use a different secret in each direction");
			return -EINVAL;
		}
	}
	if (cfg->n_chap_algs > CHAP_MAX_ALGS || (cfg->n_chap_algs > 0 && !cfg->chap_algs)) {
		errbuf_set(err, errlen, "invalid CHAP algorithm list");
		return -EINVAL;
	}
	for (size_t i = 0; i < cfg->n_chap_algs; i++) {
		if (!chap_alg_valid((long)cfg->chap_algs[i])) {
			errbuf_set(err, errlen, "invalid CHAP algorithm %d", (int)cfg->chap_algs[i]);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (cfg->chap_algs[j] == cfg->chap_algs[i]) {
				errbuf_set(err, errlen, "CHAP algorithm %d listed twice", (int)cfg->chap_algs[i]);
				return -EINVAL;
			}
	}
	if (cfg->wishes) {
		r = params_validate_wishes(cfg->wishes, why, sizeof(why));
		if (r < 0) {
			errbuf_set(err, errlen, "invalid session parameters: %s", why);
			return -EINVAL;
		}
	}
	if (cfg->max_send_data > ISCSI_LOGIN_MAX_DSL) {
		errbuf_set(err, errlen, "login requests carry at most %u data bytes", ISCSI_LOGIN_MAX_DSL);
		return -EINVAL;
	}
	if (cfg->n_peers > 0 && !cfg->peers) {
		errbuf_set(err, errlen, "invalid peer list");
		return -EINVAL;
	}
	return 0;
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (empty(s))
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

static void free_secret(char *s)
{
	if (s) {
		chap_wipe(s, strlen(s));
		free(s);
	}
}

struct login *login_new(const struct login_config *cfg)
{
	struct iscsi_params wishes;
	struct login *l;
	bool oom = false, have_md5 = false;

	if (login_config_check(cfg, NULL, 0) < 0) {
		errno = EINVAL;
		return NULL;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		errno = ENOMEM;
		return NULL;
	}
	text_list_init(&l->auth_out);
	text_asm_init(&l->rsp, TEXT_MAX_BYTES);
	l->initiator_name = dup_or_null(cfg->initiator_name, &oom);
	l->initiator_alias = dup_or_null(cfg->initiator_alias, &oom);
	l->target_name = dup_or_null(cfg->target_name, &oom);
	l->username = dup_or_null(cfg->username, &oom);
	l->password = dup_or_null(cfg->password, &oom);
	l->username_in = dup_or_null(cfg->username_in, &oom);
	l->password_in = dup_or_null(cfg->password_in, &oom);
	l->type = cfg->session_type;
	memcpy(l->isid, cfg->isid, sizeof(l->isid));
	l->tsih = cfg->tsih;
	l->cid = cfg->cid;
	l->itt = cfg->itt;
	l->cmdsn = cfg->cmdsn;
	l->exp_statsn = cfg->exp_statsn;
	l->offer_chap = l->username != NULL;
	l->mutual = l->username_in != NULL;
	l->max_send = cfg->max_send_data ? cfg->max_send_data : ISCSI_LOGIN_MAX_DSL;
	l->peers = cfg->peers;
	l->n_peers = cfg->n_peers;
	for (size_t i = 0; i < cfg->n_chap_algs; i++) {
		l->algs[l->n_algs++] = cfg->chap_algs[i];
		have_md5 |= cfg->chap_algs[i] == CHAP_ALG_MD5;
	}
	/* §12.1.3: MD5 is mandatory to implement; always offer it. */
	if (!have_md5 && l->n_algs < CHAP_MAX_ALGS)
		l->algs[l->n_algs++] = CHAP_ALG_MD5;
	if (cfg->wishes)
		wishes = *cfg->wishes;
	else
		params_init_wishes(&wishes);
	/* A non-zero TSIH adds a connection to a session: not leading. */
	l->nego = params_nego_new(&wishes, cfg->session_type, cfg->tsih == 0);
	if (oom || !l->nego) {
		login_free(l);
		errno = ENOMEM;
		return NULL;
	}
	return l;
}

void login_free(struct login *l)
{
	if (!l)
		return;
	free(l->initiator_name);
	free(l->initiator_alias);
	free(l->target_name);
	free(l->username);
	free_secret(l->password);
	free(l->username_in);
	free_secret(l->password_in);
	params_nego_free(l->nego);
	if (l->txt) {
		chap_wipe(l->txt, l->txt_len);
		free(l->txt);
	}
	text_asm_free(&l->rsp);
	text_list_free(&l->auth_out);
	chap_verifier_free(l->verifier);
	chap_wipe(l->pdubuf, sizeof(l->pdubuf));
	free(l);
}

int login_fail(struct login *l, int exit_code, const char *fmt, ...)
{
	va_list ap;

	if (l->fail_code == 0) {
		l->fail_code = exit_code;
		va_start(ap, fmt);
		vsnprintf(l->fail_msg, sizeof(l->fail_msg), fmt, ap);
		va_end(ap);
	}
	return -EPROTO;
}

static void out_reset(struct login_out *out)
{
	memset(out, 0, sizeof(*out));
}

/* Ends the login with the recorded failure. */
static int finish_failed(struct login *l, struct login_out *out, int r)
{
	out_reset(out);
	l->ended = true;
	if (r == -ENOMEM && l->fail_code == 0)
		login_fail(l, ISCSI_ERR_NOMEM, "out of memory");
	if (l->fail_code == 0)
		login_fail(l, ISCSI_ERR_INTERNAL, "internal error (%d)", r);
	out->kind = l->fail_retry_md5 ? LOGIN_RETRY_MD5 : LOGIN_FAILED;
	out->exit_code = l->fail_code;
	out->status_class = l->fail_status_class;
	out->status_detail = l->fail_status_detail;
	snprintf(out->msg, sizeof(out->msg), "%s", l->fail_msg);
	return r == -ENOMEM ? r : 0;
}

/* Sends the next part of the logical request: all of it, or max_send
 * bytes with C=1 (§11.12.2: then T=0, and NSG is reserved). */
static int send_part(struct login *l, struct login_out *out)
{
	struct pdu_opts o = { .max_data_len = ISCSI_LOGIN_MAX_DSL };
	struct pdu p;
	size_t left = l->txt_len - l->txt_off, n = left > l->max_send ? l->max_send : left, len = 0;
	bool more = n < left, transit = !more && l->req_transit;
	int r;

	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_LOGIN_REQ;
	p.immediate = true; /* §11.12: login requests are immediate */
	p.flags = pdu_login_flags(transit, more, l->stage, transit ? l->req_nsg : 0);
	p.version_max = ISCSI_VERSION;
	p.version_min = ISCSI_VERSION;
	memcpy(p.isid, l->isid, sizeof(p.isid));
	p.tsih = l->tsih;
	p.itt = l->itt;
	p.cid = l->cid;
	p.cmdsn = l->cmdsn;
	p.exp_statsn = l->exp_statsn;
	p.data_len = (uint32_t)n;
	p.data = n ? l->txt + l->txt_off : NULL;
	r = pdu_encode(&p, &o, l->pdubuf, sizeof(l->pdubuf), &len);
	if (r < 0)
		return login_fail(l, ISCSI_ERR_INTERNAL, "cannot encode a Login Request (%d)", r);
	l->txt_off += n;
	l->sent_continue = more;
	l->sent_transit = transit;
	out_reset(out);
	out->kind = LOGIN_SEND;
	out->pdu = l->pdubuf;
	out->pdu_len = len;
	out->data = l->pdubuf + ISCSI_BHS_LEN;
	out->data_len = n;
	return 0;
}

/* Starts a new logical request with the keys in req. */
static int send_request(struct login *l, struct text_list *req, bool transit, unsigned nsg,
			struct login_out *out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = text_encode(req, &buf, &len);

	if (r < 0)
		return r;
	if (l->txt) {
		chap_wipe(l->txt, l->txt_len);
		free(l->txt);
	}
	l->txt = buf;
	l->txt_len = len;
	l->txt_off = 0;
	l->req_transit = transit;
	l->req_nsg = nsg;
	return send_part(l, out);
}

int login_start(struct login *l, struct login_out *out)
{
	struct text_list req;
	int r;

	if (!l || !out || l->started)
		return -EINVAL;
	l->started = true;
	l->stage = ISCSI_STAGE_SECURITY;
	text_list_init(&req);
	/* §13.5, §13.4, §13.21: the first request names us, the target
	 * (Normal) and the session type (leading login only). */
	r = text_list_add(&req, "InitiatorName", l->initiator_name);
	if (r == 0 && l->initiator_alias)
		r = text_list_add(&req, "InitiatorAlias", l->initiator_alias);
	if (r == 0 && l->target_name)
		r = text_list_add(&req, "TargetName", l->target_name);
	if (r == 0 && l->tsih == 0)
		r = text_list_add(&req, "SessionType", l->type == ISCSI_SESSION_DISCOVERY ? "Discovery" : "Normal");
	if (r == 0)
		r = login_auth_first(l, &req);
	if (r == 0)
		r = send_request(l, &req, login_auth_ready(l), ISCSI_STAGE_OPERATIONAL, out);
	text_list_free(&req);
	if (r < 0)
		return finish_failed(l, out, r);
	return 0;
}

/* Status-Class non-zero: the login ends here (§11.13.5). */
static int handle_status(struct login *l, const struct pdu *p, struct login_out *out)
{
	unsigned sc = p->status_class, sd = p->status_detail;

	l->fail_status_class = (uint8_t)sc;
	l->fail_status_detail = (uint8_t)sd;
	if (sc == 1 && (sd == 1 || sd == 2)) {
		struct text_list kv;
		const char *addr;
		char why[128], where[PORTAL_HOST_MAX + 32];
		struct portal portal;
		int r;

		text_list_init(&kv);
		r = text_parse(p->data, p->data_len, &kv);
		if (r == -ENOMEM)
			return r;
		addr = r == 0 ? text_find(&kv, "TargetAddress") : NULL;
		if (!addr) {
			text_list_free(&kv);
			return login_fail(l, ISCSI_ERR_FATAL_LOGIN,
					  "target redirected the login (0x%02x%02x) without a TargetAddress", sc, sd);
		}
		r = portal_parse(addr, &portal, why, sizeof(why));
		text_list_free(&kv);
		if (r < 0)
			return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target redirected the login to an invalid address: %s",
					  why);
		out_reset(out);
		l->ended = true;
		out->kind = LOGIN_REDIRECT;
		out->redirect.portal = portal;
		out->redirect.permanent = sd == 2;
		out->status_class = (uint8_t)sc;
		out->status_detail = (uint8_t)sd;
		if (portal_format(&portal, where, sizeof(where)) < 0)
			snprintf(where, sizeof(where), "?");
		snprintf(out->msg, sizeof(out->msg), "target moved %s to %.200s",
			 sd == 2 ? "permanently" : "temporarily", where);
		return 1;
	}
	/* A target that chokes on a CHAP_A list with newer algorithms, or
	 * that picks one and then computes another (tgtd answers CHAP_A=7
	 * but verifies with SHA-1): initiator error or authentication
	 * failure right after the CHAP_A list or after a non-MD5 CHAP_R.
	 * A fresh login offering MD5 only tells a real wrong password
	 * (0x0201 again) from such a target. */
	if (sc == 2 && (sd == 0 || sd == 1) && l->stage == ISCSI_STAGE_SECURITY &&
	    !(l->n_algs == 1 && l->algs[0] == CHAP_ALG_MD5) &&
	    (l->auth == AUTH_CHAP_A_SENT || (l->auth == AUTH_CHAP_R_SENT && l->alg != CHAP_ALG_MD5)))
		l->fail_retry_md5 = true;
	if (sc == 2 && sd == 5)
		login_fail(l, ISCSI_ERR_FATAL_LOGIN,
			   "target reported: unsupported version (0x0205); it supports versions %u..%u, we need 0",
			   p->version_active, p->version_max);
	if (l->fail_retry_md5)
		login_fail(l, iscsi_err_from_login_status(sc, sd),
			   "target reported: %s (0x%02x%02x) %s; retry offering only MD5 (CHAP_A=5)",
			   iscsi_login_status_str(sc, sd), sc, sd,
			   l->auth == AUTH_CHAP_A_SENT ? "after our CHAP_A list" : "after a CHAP response with SHA");
	login_fail(l, iscsi_err_from_login_status(sc, sd), "target reported: %s (0x%02x%02x)",
		   iscsi_login_status_str(sc, sd), sc, sd);
	return -EPROTO;
}

/* Header checks every response must pass. */
static int check_header(struct login *l, const struct pdu *p)
{
	if (p->opcode != ISCSI_OP_LOGIN_RSP) {
		if (p->opcode == ISCSI_OP_REJECT)
			return login_fail(l, ISCSI_ERR_FATAL_LOGIN,
					  "target rejected our Login Request (Reject reason 0x%02x)", p->reject_reason);
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target sent a %s (opcode 0x%02x) during login",
				  pdu_opcode_name(p->opcode), p->opcode);
	}
	if (p->itt != l->itt)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "Login Response for ITT 0x%08x, expected 0x%08x", p->itt,
				  l->itt);
	/* A Login reject from tgtd carries a zero ISID; the status matters
	 * more than the ISID there, so only successful responses must echo
	 * ours. */
	if (p->status_class == 0 && memcmp(p->isid, l->isid, sizeof(l->isid)) != 0)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "Login Response for another ISID");
	/* §11.13.1: every response of the login carries the same
	 * Version-max. (A reject is judged by its status instead.) */
	if (p->status_class != 0)
		return 0;
	if (l->have_version && p->version_max != l->version_max)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target changed Version-max from %u to %u", l->version_max,
				  p->version_max);
	l->have_version = true;
	l->version_max = p->version_max;
	return 0;
}

/* Stage rules for a success response (§6.3, §11.13.3, §11.13.6). */
static int check_stages(struct login *l, const struct pdu *p)
{
	unsigned csg = pdu_login_csg(p), nsg = pdu_login_nsg(p);
	bool transit = pdu_login_transit(p);

	if (p->version_active != ISCSI_VERSION)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target chose iSCSI version %u; we support only version 0",
				  p->version_active);
	if (csg != l->stage)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target answered in stage %s while we are in %s",
				  stage_names[csg & 3], stage_names[l->stage & 3]);
	if (transit && !l->sent_transit)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target set T=1 although our request had T=0");
	if (transit && (nsg <= csg || nsg > l->req_nsg))
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target moved to %s from %s; we asked for %s",
				  stage_names[nsg & 3], stage_names[csg & 3], stage_names[l->req_nsg & 3]);
	if (l->sent_continue && (p->data_len > 0 || pdu_is_continue(p)))
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN,
				  "target sent keys before our continued request was complete");
	return 0;
}

static int finish_done(struct login *l, const struct pdu *p, struct login_out *out)
{
	char why[LOGIN_MSG_MAX];
	struct login_result res;
	int r;

	/* §11.13.3: a new session gets a non-zero TSIH in the final
	 * response; an existing one keeps its TSIH. */
	if (l->tsih == 0 && p->tsih == 0)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target ended the login without assigning a TSIH");
	if (l->tsih != 0 && p->tsih != l->tsih)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target answered with TSIH %u for session %u", p->tsih,
				  l->tsih);
	memset(&res, 0, sizeof(res));
	r = params_nego_result(l->nego, &res.params, why, sizeof(why));
	if (r < 0)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "%s", why);
	res.tsih = p->tsih;
	res.cmdsn = l->cmdsn;
	res.exp_statsn = l->exp_statsn;
	res.exp_cmdsn = p->exp_cmdsn;
	res.max_cmdsn = p->max_cmdsn;
	res.authenticated = l->initiator_authenticated;
	res.target_authenticated = l->target_verified;
	res.chap_alg = l->chap_chosen ? l->alg : (enum chap_alg)0;
	out_reset(out);
	l->ended = true;
	out->kind = LOGIN_DONE;
	out->result = res;
	return 0;
}

/* The next request once a response text has been processed. */
static int next_request(struct login *l, struct login_out *out)
{
	struct text_list req;
	bool transit;
	unsigned nsg;
	int r = 0;

	text_list_init(&req);
	if (l->stage == ISCSI_STAGE_SECURITY) {
		for (size_t i = 0; r == 0 && i < l->auth_out.n; i++)
			r = text_list_add(&req, l->auth_out.kv[i].key, l->auth_out.kv[i].value);
		text_list_clear(&l->auth_out);
		transit = login_auth_ready(l);
		nsg = ISCSI_STAGE_OPERATIONAL;
	} else {
		if (!l->ops_offered) {
			r = params_nego_offer(l->nego, &req);
			l->ops_offered = true;
		}
		transit = true;
		nsg = ISCSI_STAGE_FULL;
	}
	if (r == 0)
		r = params_nego_answer(l->nego, &req);
	if (r == 0)
		r = send_request(l, &req, transit, nsg, out);
	text_list_clear(&req);
	text_list_free(&req);
	return r;
}

static int step(struct login *l, const struct pdu *p, struct login_out *out)
{
	struct text_list kv;
	char why[LOGIN_MSG_MAX];
	bool transit, final;
	unsigned nsg;
	int r;

	r = check_header(l, p);
	if (r < 0)
		return r;
	if (++l->exchanges > LOGIN_MAX_EXCHANGES)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target did not finish the login in %d exchanges",
				  LOGIN_MAX_EXCHANGES);
	if (p->status_class != 0)
		return handle_status(l, p, out);
	r = check_stages(l, p);
	if (r < 0)
		return r;
	/* §11.13.4: StatSN counts every response; we acknowledge the last.
	 * A target whose login StatSNs do not count up by one is tolerated,
	 * as open-iscsi tolerates it: only ExpStatSN follows them. */
	l->exp_statsn = p->statsn + 1;

	if (l->sent_continue)
		return send_part(l, out); /* the target took our part; send the next */

	r = text_asm_feed(&l->rsp, p->data, p->data_len);
	if (r == -E2BIG)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target sent more than %u bytes of login keys",
				  TEXT_MAX_BYTES);
	if (r < 0)
		return r;
	if (pdu_is_continue(p)) {
		/* §11.13.7: more of this text follows; an empty request with
		 * the same stage fields fetches it. */
		if (l->txt) {
			chap_wipe(l->txt, l->txt_len);
			free(l->txt);
			l->txt = NULL;
		}
		l->txt_len = l->txt_off = 0;
		return send_part(l, out);
	}
	text_list_init(&kv);
	r = text_asm_finish(&l->rsp, &kv);
	if (r < 0) {
		if (r == -ENOMEM)
			return r;
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target sent malformed login keys (%s)",
				  r == -EEXIST ? "a key twice" : r == -E2BIG ? "too many" : "bad syntax");
	}

	transit = pdu_login_transit(p);
	nsg = pdu_login_nsg(p);
	final = transit && nsg == ISCSI_STAGE_FULL;
	if (l->stage == ISCSI_STAGE_SECURITY) {
		r = login_auth_receive(l, &kv, transit);
		if (r == 0 && transit)
			r = login_auth_check_transit(l);
	}
	if (r == 0) {
		r = params_nego_receive(l->nego, &kv, l->stage, final, why, sizeof(why));
		if (r == -EPROTO)
			login_fail(l, ISCSI_ERR_FATAL_LOGIN, "%s", why);
		else if (r == -E2BIG)
			login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target sent more keys than we can answer (%d)",
				   TEXT_MAX_KEYS);
	}
	text_list_clear(&kv);
	text_list_free(&kv);
	if (r < 0)
		return r;

	if (transit) {
		l->stage = nsg;
		if (final)
			return finish_done(l, p, out);
	}
	r = next_request(l, out);
	/* Our answers to what the target sent, with our offers, exceed what
	 * one request may carry (TEXT_MAX_KEYS): the target's doing. */
	if (r == -E2BIG)
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target sent more keys than one login request can answer (%d)",
				  TEXT_MAX_KEYS);
	return r;
}

/* Runs one decoded response through the engine and turns the outcome
 * into out. */
static int run(struct login *l, const struct pdu *p, struct login_out *out)
{
	int r = step(l, p, out);

	if (r == 1)
		return 0; /* redirect, out filled */
	if (r < 0)
		return finish_failed(l, out, r);
	return 0;
}

static int decode_failed(struct login *l, int r, enum pdu_error e, uint32_t dsl, struct login_out *out)
{
	if (r == -EMSGSIZE && e == PDU_ERR_DATA_LEN)
		login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target sent %u bytes of data in a login PDU (limit %u)", dsl,
			   ISCSI_LOGIN_MAX_DSL);
	else
		login_fail(l, ISCSI_ERR_FATAL_LOGIN, "malformed PDU from the target: %s", pdu_strerror(e));
	return finish_failed(l, out, -EPROTO);
}

int login_step(struct login *l, const uint8_t *buf, size_t len, struct login_out *out)
{
	struct pdu_opts o = { .max_data_len = ISCSI_LOGIN_MAX_DSL };
	enum pdu_error e = PDU_OK;
	struct pdu p;
	size_t used = 0;
	int r;

	if (!l || !out || !l->started || l->ended || (!buf && len > 0))
		return -EINVAL;
	r = pdu_decode(buf, len, PDU_DIR_TO_INITIATOR, &o, &p, &used, &e);
	if (r < 0) {
		uint32_t dsl = len >= 8 ? ((uint32_t)buf[5] << 16 | (uint32_t)buf[6] << 8 | buf[7]) : 0;

		if (r == -EAGAIN)
			e = PDU_ERR_SHORT;
		return decode_failed(l, r, e, dsl, out);
	}
	if (used != len) {
		login_fail(l, ISCSI_ERR_FATAL_LOGIN, "%zu bytes after the Login Response", len - used);
		return finish_failed(l, out, -EPROTO);
	}
	return run(l, &p, out);
}

int login_step_split(struct login *l, const uint8_t bhs[ISCSI_BHS_LEN], const uint8_t *data, size_t data_len,
		     struct login_out *out)
{
	struct pdu_opts o = { .max_data_len = ISCSI_LOGIN_MAX_DSL };
	enum pdu_error e = PDU_OK;
	struct pdu p;
	int r;

	if (!l || !out || !bhs || !l->started || l->ended || (!data && data_len > 0))
		return -EINVAL;
	r = pdu_decode_split(bhs, data, data_len, PDU_DIR_TO_INITIATOR, &o, &p, &e);
	if (r < 0)
		return decode_failed(l, r, e, (uint32_t)bhs[5] << 16 | (uint32_t)bhs[6] << 8 | bhs[7], out);
	return run(l, &p, out);
}

int login_build_logout(uint32_t itt, uint16_t cid, uint32_t cmdsn, uint32_t exp_statsn,
		       enum iscsi_logout_reason reason, uint8_t *buf, size_t cap, size_t *ret_len)
{
	struct pdu_opts o = { .max_data_len = 0 };
	struct pdu p;

	if (!buf || !ret_len || (unsigned)reason > ISCSI_LOGOUT_REMOVE_FOR_RECOVERY)
		return -EINVAL;
	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_LOGOUT_REQ;
	p.immediate = true;
	p.flags = (uint8_t)(ISCSI_FLAG_FINAL | (unsigned)reason);
	p.itt = itt;
	if (reason != ISCSI_LOGOUT_CLOSE_SESSION)
		p.cid = cid;
	p.cmdsn = cmdsn;
	p.exp_statsn = exp_statsn;
	return pdu_encode(&p, &o, buf, cap, ret_len);
}

int login_parse_logout_response(const uint8_t *buf, size_t len, uint32_t itt, uint8_t *ret_response)
{
	struct pdu_opts o = { .max_data_len = ISCSI_LOGIN_MAX_DSL };
	struct pdu p;
	size_t used = 0;

	if (!buf || !ret_response)
		return -EINVAL;
	if (pdu_decode(buf, len, PDU_DIR_TO_INITIATOR, &o, &p, &used, NULL) < 0 || used != len)
		return -EPROTO;
	if (p.opcode != ISCSI_OP_LOGOUT_RSP || p.itt != itt)
		return -EPROTO;
	*ret_response = p.response;
	return 0;
}
