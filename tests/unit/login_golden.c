/* The golden transcript runner for tests/unit/test_login.c: replays one
 * tests/golden/login/NAME.txt file (format in tests/golden/login/README)
 * against the login engine, failing the current Check test on the first
 * difference. */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chap.h"
#include "errors.h"
#include "login.h"
#include "params.h"
#include "pdu.h"
#include "text.h"
#include "login_golden.h"

#define LINE_MAX_LEN 16384

/* ---- transcript runner ------------------------------------------------ */

struct runner {
	const char *file;
	int lineno;
	char **lines;
	int n_lines;
	int pos;
	/* configuration */
	struct login_config cfg;
	struct iscsi_params wishes;
	bool have_wishes;
	enum chap_alg algs[CHAP_MAX_ALGS];
	char strs[16][512];
	int n_strs;
	/* run */
	struct login *l;
	struct login_out out;
	uint32_t statsn;
	unsigned last_status;   /* Status-Class/Detail of the last response fed */
	/* our logical request being collected across C=1 parts */
	uint8_t sent[65536];
	size_t sent_len;
	/* the last logical request we sent, complete */
	struct text_list last_req;
	char target_chap_a[16];
};

#define FAILF(r, ...) ck_abort_msg("%s:%d: %s", (r)->file, (r)->lineno, fmtbuf(__VA_ARGS__))

static const char *fmtbuf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *fmtbuf(const char *fmt, ...)
{
	static char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static char *keep(struct runner *r, const char *s)
{
	ck_assert_int_lt(r->n_strs, 16);
	snprintf(r->strs[r->n_strs], sizeof(r->strs[0]), "%s", s);
	return r->strs[r->n_strs++];
}

static unsigned long num(struct runner *r, const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s)
		FAILF(r, "bad number '%s'", s);
	return v;
}

static void hex_bytes(struct runner *r, const char *s, uint8_t *buf, size_t cap, size_t *ret_len)
{
	size_t n = 0;

	while (*s) {
		unsigned v;

		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) || sscanf(s, "%2x", &v) != 1)
			FAILF(r, "bad hex '%s'", s);
		if (n >= cap)
			FAILF(r, "hex too long");
		buf[n++] = (uint8_t)v;
		s += 2;
	}
	*ret_len = n;
}

static void set_wish(struct runner *r, const char *key, const char *v)
{
	struct iscsi_params *w = &r->wishes;

	if (!r->have_wishes) {
		params_init_wishes(w);
		r->have_wishes = true;
	}
	if (strcmp(key, "HeaderDigest") == 0)
		ck_assert_int_eq(params_digest_parse(v, &w->header_digest), 0);
	else if (strcmp(key, "DataDigest") == 0)
		ck_assert_int_eq(params_digest_parse(v, &w->data_digest), 0);
	else if (strcmp(key, "MaxRecvDataSegmentLength") == 0)
		w->max_recv_dsl = (uint32_t)num(r, v);
	else if (strcmp(key, "MaxXmitDataSegmentLength") == 0)
		w->max_xmit_dsl = (uint32_t)num(r, v);
	else if (strcmp(key, "MaxBurstLength") == 0)
		w->max_burst_length = (uint32_t)num(r, v);
	else if (strcmp(key, "FirstBurstLength") == 0)
		w->first_burst_length = (uint32_t)num(r, v);
	else if (strcmp(key, "InitialR2T") == 0)
		w->initial_r2t = strcmp(v, "Yes") == 0;
	else if (strcmp(key, "ImmediateData") == 0)
		w->immediate_data = strcmp(v, "Yes") == 0;
	else if (strcmp(key, "DefaultTime2Retain") == 0)
		w->default_time2retain = (uint32_t)num(r, v);
	else
		FAILF(r, "unknown wish %s", key);
}

static void config_line(struct runner *r, char *rest)
{
	for (char *tok = strtok(rest, " \t"); tok; tok = strtok(NULL, " \t")) {
		char *eq = strchr(tok, '=');
		const char *k = tok, *v;

		if (!eq)
			FAILF(r, "config token without '=': %s", tok);
		*eq = '\0';
		v = eq + 1;
		if (strcmp(k, "initiator") == 0)
			r->cfg.initiator_name = keep(r, v);
		else if (strcmp(k, "alias") == 0)
			r->cfg.initiator_alias = keep(r, v);
		else if (strcmp(k, "target") == 0)
			r->cfg.target_name = keep(r, v);
		else if (strcmp(k, "type") == 0)
			r->cfg.session_type = strcmp(v, "discovery") == 0 ? ISCSI_SESSION_DISCOVERY : ISCSI_SESSION_NORMAL;
		else if (strcmp(k, "isid") == 0) {
			size_t n;
			hex_bytes(r, v, r->cfg.isid, 6, &n);
			ck_assert_uint_eq(n, 6);
		} else if (strcmp(k, "tsih") == 0)
			r->cfg.tsih = (uint16_t)num(r, v);
		else if (strcmp(k, "cid") == 0)
			r->cfg.cid = (uint16_t)num(r, v);
		else if (strcmp(k, "itt") == 0)
			r->cfg.itt = (uint32_t)num(r, v);
		else if (strcmp(k, "cmdsn") == 0)
			r->cfg.cmdsn = (uint32_t)num(r, v);
		else if (strcmp(k, "expstatsn") == 0)
			r->cfg.exp_statsn = (uint32_t)num(r, v);
		else if (strcmp(k, "username") == 0)
			r->cfg.username = keep(r, v);
		else if (strcmp(k, "password") == 0)
			r->cfg.password = keep(r, v);
		else if (strcmp(k, "username_in") == 0)
			r->cfg.username_in = keep(r, v);
		else if (strcmp(k, "password_in") == 0)
			r->cfg.password_in = keep(r, v);
		else if (strcmp(k, "algs") == 0) {
			size_t n = 0;
			ck_assert_int_eq(chap_alg_list_parse(v, r->algs, &n), 0);
			r->cfg.chap_algs = r->algs;
			r->cfg.n_chap_algs = n;
		} else if (strcmp(k, "max_send") == 0)
			r->cfg.max_send_data = (uint32_t)num(r, v);
		else if (strncmp(k, "wish.", 5) == 0)
			set_wish(r, k + 5, v);
		else
			FAILF(r, "unknown config key %s", k);
	}
}

static bool is_block_line(const char *line, char dir)
{
	return line[0] == dir && (line[1] == ' ' || (line[1] == '+' && line[2] == ' '));
}

/* Compares one request PDU we produced with a "> login ..." block. */
static void expect_send(struct runner *r, char *hdr)
{
	struct pdu_opts o = { .max_data_len = ISCSI_LOGIN_MAX_DSL };
	struct pdu p;
	size_t used = 0;
	struct text_list want;
	int rc;

	if (r->out.kind != LOGIN_SEND)
		FAILF(r, "expected a request, engine said kind %d exit %d: %s", r->out.kind, r->out.exit_code,
		      r->out.msg);
	rc = pdu_decode(r->out.pdu, r->out.pdu_len, PDU_DIR_TO_TARGET, &o, &p, &used, NULL);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(used, r->out.pdu_len);
	ck_assert_uint_eq(p.opcode, ISCSI_OP_LOGIN_REQ);
	ck_assert(p.immediate);
	ck_assert_uint_eq(r->out.data_len, p.data_len);
	ck_assert_int_eq(memcmp(p.isid, r->cfg.isid, 6), 0);
	ck_assert_uint_eq(p.itt, r->cfg.itt);
	ck_assert_uint_eq(p.cid, r->cfg.cid);
	ck_assert_uint_eq(p.version_max, 0);
	ck_assert_uint_eq(p.version_min, 0);

	for (char *tok = strtok(hdr, " \t"); tok; tok = strtok(NULL, " \t")) {
		char *eq = strchr(tok, '=');
		unsigned long v, got;

		if (!eq)
			FAILF(r, "bad header token %s", tok);
		*eq = '\0';
		v = num(r, eq + 1);
		if (strcmp(tok, "T") == 0)
			got = pdu_login_transit(&p);
		else if (strcmp(tok, "C") == 0)
			got = pdu_is_continue(&p);
		else if (strcmp(tok, "CSG") == 0)
			got = pdu_login_csg(&p);
		else if (strcmp(tok, "NSG") == 0)
			got = pdu_login_nsg(&p);
		else if (strcmp(tok, "cmdsn") == 0)
			got = p.cmdsn;
		else if (strcmp(tok, "expstatsn") == 0)
			got = p.exp_statsn;
		else if (strcmp(tok, "tsih") == 0)
			got = p.tsih;
		else if (strcmp(tok, "len") == 0)
			got = p.data_len;
		else
			FAILF(r, "unknown header field %s", tok);
		if (got != v)
			FAILF(r, "request %s=%lu, expected %lu", tok, got, v);
	}

	/* Collect this PDU's data into the logical request. */
	ck_assert_uint_le(r->sent_len + p.data_len, sizeof(r->sent));
	if (p.data_len)
		memcpy(r->sent + r->sent_len, p.data, p.data_len);
	r->sent_len += p.data_len;

	text_list_init(&want);
	while (r->pos < r->n_lines && is_block_line(r->lines[r->pos], '>')) {
		char *line = r->lines[r->pos++], *eq;

		r->lineno = r->pos;
		eq = strchr(line + 2, '=');
		if (!eq)
			FAILF(r, "key line without '='");
		*eq = '\0';
		ck_assert_int_eq(text_list_add(&want, line + 2, eq + 1), 0);
	}
	if (pdu_is_continue(&p)) {
		if (want.n)
			FAILF(r, "keys are compared on the last part of a continued request");
		text_list_free(&want);
		return;
	}
	text_list_free(&r->last_req);
	text_list_init(&r->last_req);
	rc = text_parse(r->sent, r->sent_len, &r->last_req);
	if (rc < 0)
		FAILF(r, "our request text does not parse (%d)", rc);
	r->sent_len = 0;
	if (r->last_req.n != want.n) {
		char all[2048] = "";

		for (size_t i = 0; i < r->last_req.n; i++) {
			strncat(all, r->last_req.kv[i].key, sizeof(all) - strlen(all) - 1);
			strncat(all, "=", sizeof(all) - strlen(all) - 1);
			strncat(all, r->last_req.kv[i].value, sizeof(all) - strlen(all) - 1);
			strncat(all, " ", sizeof(all) - strlen(all) - 1);
		}
		FAILF(r, "request has %zu keys, expected %zu: %s", r->last_req.n, want.n, all);
	}
	for (size_t i = 0; i < want.n; i++) {
		if (strcmp(r->last_req.kv[i].key, want.kv[i].key) != 0)
			FAILF(r, "request key %zu is %s, expected %s", i, r->last_req.kv[i].key, want.kv[i].key);
		if (strcmp(want.kv[i].value, "*") == 0)
			continue;
		if (strcmp(r->last_req.kv[i].value, want.kv[i].value) != 0)
			FAILF(r, "request %s=%s, expected %s", want.kv[i].key, r->last_req.kv[i].value,
			      want.kv[i].value);
	}
	text_list_free(&want);
}

/* CHAP_R the target would send for the challenge in our last request. */
static void mutual_response(struct runner *r, bool wrong, char *buf, size_t cap)
{
	const char *i = text_find(&r->last_req, "CHAP_I"), *c = text_find(&r->last_req, "CHAP_C");
	const char *secret = wrong ? "not-the-secret" : r->cfg.password_in;
	uint8_t chal[CHAP_MAX_BIN], dig[CHAP_DIGEST_MAX];
	size_t clen = 0, dlen = 0;
	enum chap_alg alg = (enum chap_alg)num(r, r->target_chap_a);

	if (!i || !c)
		FAILF(r, "$mutual without CHAP_I/CHAP_C in our last request");
	ck_assert_int_eq(chap_decode(c, chal, sizeof(chal), &clen), 0);
	ck_assert_int_eq(chap_response(alg, (uint8_t)num(r, i), (const uint8_t *)secret, strlen(secret), chal, clen,
				       dig, sizeof(dig), &dlen), 0);
	ck_assert_int_eq(chap_encode_hex(dig, dlen, buf, cap), 0);
}

/* Builds a Login Response from a "< login ..." block and feeds it. */
static void send_response(struct runner *r, char *hdr)
{
	static uint8_t data[65536], pdu[65536 + 64];
	struct pdu_opts o = { .max_data_len = ISCSI_MAX_DSL };
	struct pdu p;
	size_t dlen = 0, len = 0;
	bool t = false, c = false;
	unsigned csg = 0, nsg = 0;

	memset(&p, 0, sizeof(p));
	r->last_status = 0;
	p.opcode = ISCSI_OP_LOGIN_RSP;
	memcpy(p.isid, r->cfg.isid, 6);
	p.tsih = r->cfg.tsih;
	p.itt = r->cfg.itt;
	p.statsn = r->statsn;
	p.exp_cmdsn = r->cfg.cmdsn;
	p.max_cmdsn = r->cfg.cmdsn + 1;
	for (char *tok = strtok(hdr, " \t"); tok; tok = strtok(NULL, " \t")) {
		char *eq = strchr(tok, '=');
		const char *v;

		if (!eq)
			FAILF(r, "bad header token %s", tok);
		*eq = '\0';
		v = eq + 1;
		if (strcmp(tok, "T") == 0)
			t = num(r, v);
		else if (strcmp(tok, "C") == 0)
			c = num(r, v);
		else if (strcmp(tok, "CSG") == 0)
			csg = (unsigned)num(r, v);
		else if (strcmp(tok, "NSG") == 0)
			nsg = (unsigned)num(r, v);
		else if (strcmp(tok, "status") == 0) {
			unsigned long s = num(r, v);
			p.status_class = (uint8_t)(s >> 8);
			p.status_detail = (uint8_t)s;
			r->last_status = (unsigned)s;
		} else if (strcmp(tok, "statsn") == 0)
			p.statsn = (uint32_t)num(r, v);
		else if (strcmp(tok, "expcmdsn") == 0)
			p.exp_cmdsn = (uint32_t)num(r, v);
		else if (strcmp(tok, "maxcmdsn") == 0)
			p.max_cmdsn = (uint32_t)num(r, v);
		else if (strcmp(tok, "tsih") == 0)
			p.tsih = (uint16_t)num(r, v);
		else if (strcmp(tok, "itt") == 0)
			p.itt = (uint32_t)num(r, v);
		else if (strcmp(tok, "vmax") == 0)
			p.version_max = (uint8_t)num(r, v);
		else if (strcmp(tok, "vactive") == 0)
			p.version_active = (uint8_t)num(r, v);
		else if (strcmp(tok, "isid") == 0) {
			size_t n;
			hex_bytes(r, v, p.isid, 6, &n);
		} else
			FAILF(r, "unknown response field %s", tok);
	}
	p.flags = pdu_login_flags(t, c, csg, nsg);
	r->statsn = p.statsn + 1;

	while (r->pos < r->n_lines && is_block_line(r->lines[r->pos], '<')) {
		char *line = r->lines[r->pos++];
		bool raw = line[1] == '+';
		const char *kv = raw ? line + 3 : line + 2;
		char computed[CHAP_HEX_BUF + 16];
		size_t n;

		r->lineno = r->pos;
		if (strncmp(kv, "fill ", 5) == 0) {
			/* "X-Fill=aaa...\0" of exactly N bytes */
			n = num(r, kv + 5);
			ck_assert_uint_ge(n, 8);
			ck_assert_uint_le(dlen + n, sizeof(data));
			memcpy(data + dlen, "X-Fill=", 7);
			memset(data + dlen + 7, 'a', n - 8);
			data[dlen + n - 1] = '\0';
			dlen += n;
			continue;
		}
		if (strcmp(kv, "CHAP_R=$mutual") == 0 || strcmp(kv, "CHAP_R=$mutual-wrong") == 0) {
			strcpy(computed, "CHAP_R=");
			mutual_response(r, strstr(kv, "wrong") != NULL, computed + 7, sizeof(computed) - 7);
			kv = computed;
		}
		if (strncmp(kv, "CHAP_A=", 7) == 0)
			snprintf(r->target_chap_a, sizeof(r->target_chap_a), "%s", kv + 7);
		n = strlen(kv);
		ck_assert_uint_le(dlen + n + 1, sizeof(data));
		memcpy(data + dlen, kv, n);
		dlen += n;
		if (!raw)
			data[dlen++] = '\0';
	}
	p.data_len = (uint32_t)dlen;
	p.data = dlen ? data : NULL;
	ck_assert_int_eq(pdu_encode(&p, &o, pdu, sizeof(pdu), &len), 0);
	ck_assert_int_ge(login_step(r->l, pdu, len, &r->out), 0);
}

static void send_raw(struct runner *r, const char *hex)
{
	static uint8_t pdu[16384];
	size_t len = 0;

	hex_bytes(r, hex, pdu, sizeof(pdu), &len);
	ck_assert_int_ge(login_step(r->l, pdu, len, &r->out), 0);
}

static uint32_t param_value(struct runner *r, const struct iscsi_params *p, const char *k)
{
	if (strcmp(k, "HeaderDigest") == 0) return p->header_digest;
	if (strcmp(k, "DataDigest") == 0) return p->data_digest;
	if (strcmp(k, "MaxRecvDataSegmentLength") == 0) return p->max_recv_dsl;
	if (strcmp(k, "MaxXmitDataSegmentLength") == 0) return p->max_xmit_dsl;
	if (strcmp(k, "MaxConnections") == 0) return p->max_connections;
	if (strcmp(k, "InitialR2T") == 0) return p->initial_r2t;
	if (strcmp(k, "ImmediateData") == 0) return p->immediate_data;
	if (strcmp(k, "MaxBurstLength") == 0) return p->max_burst_length;
	if (strcmp(k, "FirstBurstLength") == 0) return p->first_burst_length;
	if (strcmp(k, "DefaultTime2Wait") == 0) return p->default_time2wait;
	if (strcmp(k, "DefaultTime2Retain") == 0) return p->default_time2retain;
	if (strcmp(k, "MaxOutstandingR2T") == 0) return p->max_outstanding_r2t;
	if (strcmp(k, "DataPDUInOrder") == 0) return p->data_pdu_in_order;
	if (strcmp(k, "DataSequenceInOrder") == 0) return p->data_sequence_in_order;
	if (strcmp(k, "ErrorRecoveryLevel") == 0) return p->error_recovery_level;
	if (strcmp(k, "TargetPortalGroupTag") == 0) return (uint32_t)p->tpgt;
	FAILF(r, "unknown param %s", k);
	return 0;
}

static void check_outcome(struct runner *r, char *rest)
{
	char *what = strtok(rest, " \t");

	if (!what)
		FAILF(r, "empty outcome");
	if (strcmp(what, "done") == 0) {
		if (r->out.kind != LOGIN_DONE)
			FAILF(r, "expected done, got kind %d exit %d: %s", r->out.kind, r->out.exit_code, r->out.msg);
		for (char *tok = strtok(NULL, " \t"); tok; tok = strtok(NULL, " \t")) {
			char *eq = strchr(tok, '=');
			const struct login_result *res = &r->out.result;
			unsigned long got, want;

			if (!eq)
				FAILF(r, "bad outcome token %s", tok);
			*eq = '\0';
			if (strcmp(tok, "alias") == 0) {
				if (strcmp(res->params.target_alias, eq + 1) != 0)
					FAILF(r, "alias '%s', expected '%s'", res->params.target_alias, eq + 1);
				continue;
			}
			want = num(r, eq + 1);
			if (strcmp(tok, "tsih") == 0)
				got = res->tsih;
			else if (strcmp(tok, "expstatsn") == 0)
				got = res->exp_statsn;
			else if (strcmp(tok, "cmdsn") == 0)
				got = res->cmdsn;
			else if (strcmp(tok, "expcmdsn") == 0)
				got = res->exp_cmdsn;
			else if (strcmp(tok, "maxcmdsn") == 0)
				got = res->max_cmdsn;
			else if (strcmp(tok, "auth") == 0)
				got = res->authenticated;
			else if (strcmp(tok, "target_auth") == 0)
				got = res->target_authenticated;
			else if (strcmp(tok, "chap_alg") == 0)
				got = res->chap_alg;
			else
				got = param_value(r, &res->params, tok);
			if (got != want)
				FAILF(r, "result %s=%lu, expected %lu", tok, got, want);
		}
	} else if (strcmp(what, "failed") == 0 || strcmp(what, "retry-md5") == 0) {
		enum login_kind kind = what[0] == 'f' ? LOGIN_FAILED : LOGIN_RETRY_MD5;
		char *code = strtok(NULL, " \t"), *msg = strtok(NULL, "");

		if (r->out.kind != kind)
			FAILF(r, "expected %s, got kind %d exit %d: %s", what, r->out.kind, r->out.exit_code, r->out.msg);
		if (!code || (int)num(r, code) != r->out.exit_code)
			FAILF(r, "exit code %d, expected %s (%s)", r->out.exit_code, code ? code : "?", r->out.msg);
		/* A failure the target reported carries its status to the caller. */
		if (r->last_status &&
		    (r->out.status_class != (r->last_status >> 8) || r->out.status_detail != (r->last_status & 0xff)))
			FAILF(r, "status 0x%02x%02x in the result, the target sent 0x%04x", r->out.status_class,
			      r->out.status_detail, r->last_status);
		while (msg && *msg == ' ')
			msg++;
		if (msg && !strstr(r->out.msg, msg))
			FAILF(r, "message '%s' does not contain '%s'", r->out.msg, msg);
	} else if (strcmp(what, "redirect") == 0) {
		char *host = strtok(NULL, " \t"), *port = strtok(NULL, " \t"), *tpgt = strtok(NULL, " \t"),
		     *kind = strtok(NULL, " \t");

		if (r->out.kind != LOGIN_REDIRECT)
			FAILF(r, "expected redirect, got kind %d: %s", r->out.kind, r->out.msg);
		if (!host || !port || !tpgt || !kind)
			FAILF(r, "redirect needs host port tpgt kind");
		ck_assert_str_eq(r->out.redirect.portal.host, host);
		ck_assert_uint_eq(r->out.redirect.portal.port, num(r, port));
		ck_assert_int_eq(r->out.redirect.portal.tpgt, (int)strtol(tpgt, NULL, 0));
		ck_assert_int_eq(r->out.redirect.permanent, strcmp(kind, "permanent") == 0);
	} else {
		FAILF(r, "unknown outcome %s", what);
	}
}

void login_golden_run(const char *dir, const char *name)
{
	char path[4200], buf[LINE_MAX_LEN];
	struct runner *r = calloc(1, sizeof(*r));
	bool outcome = false;
	FILE *f;

	ck_assert_ptr_nonnull(r);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	r->file = name;
	r->lines = calloc(4096, sizeof(char *));
	while (fgets(buf, sizeof(buf), f) && r->n_lines < 4096) {
		buf[strcspn(buf, "\r\n")] = '\0';
		r->lines[r->n_lines++] = strdup(buf);
	}
	fclose(f);
	text_list_init(&r->last_req);
	r->statsn = 1;

	while (r->pos < r->n_lines) {
		char *line = r->lines[r->pos++];

		r->lineno = r->pos;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (strncmp(line, "config ", 7) == 0) {
			if (r->l)
				FAILF(r, "config after the login started");
			config_line(r, line + 7);
			continue;
		}
		if (!r->l) {
			if (r->have_wishes)
				r->cfg.wishes = &r->wishes;
			if (!r->cfg.initiator_name)
				r->cfg.initiator_name = "iqn.2024-01.org.example:host";
			r->l = login_new(&r->cfg);
			if (!r->l)
				FAILF(r, "login_new failed (%s)", strerror(errno));
			ck_assert_int_eq(login_start(r->l, &r->out), 0);
		}
		if (strncmp(line, "> login", 7) == 0)
			expect_send(r, line + 7);
		else if (strncmp(line, "< login", 7) == 0)
			send_response(r, line + 7);
		else if (strncmp(line, "< raw ", 6) == 0)
			send_raw(r, line + 6);
		else if (strncmp(line, "= ", 2) == 0) {
			check_outcome(r, line + 2);
			outcome = true;
		} else
			FAILF(r, "cannot read line '%s'", line);
	}
	if (!outcome)
		FAILF(r, "transcript has no outcome line");
	/* The engine is over: further input is refused. */
	if (r->out.kind != LOGIN_SEND) {
		uint8_t junk[48] = { 0x23 };
		ck_assert_int_eq(login_step(r->l, junk, sizeof(junk), &r->out), -EINVAL);
	}
	login_free(r->l);
	text_list_free(&r->last_req);
	for (int i = 0; i < r->n_lines; i++)
		free(r->lines[i]);
	free(r->lines);
	free(r);
}
