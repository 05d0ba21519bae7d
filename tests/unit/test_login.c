/* The login engine: golden transcripts (tests/golden/login/NAME.txt, format
 * in tests/golden/login/README) replayed against login_step(), plus API
 * tests that need more than a transcript (reflection across logins,
 * configuration checks, logout PDUs). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
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

#define GOLDEN_MAX 128

static char *golden_files[GOLDEN_MAX];
static int n_golden;

static const char *golden_dir(void)
{
	static char dir[4096];
	const char *top = getenv("top_srcdir");

	snprintf(dir, sizeof(dir), "%s/tests/golden/login", top ? top : ".");
	return dir;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_golden_list(void)
{
	DIR *d = opendir(golden_dir());
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && n_golden < GOLDEN_MAX) {
		size_t n = strlen(e->d_name);

		if (n > 4 && strcmp(e->d_name + n - 4, ".txt") == 0)
			golden_files[n_golden++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(golden_files, (size_t)n_golden, sizeof(char *), cmp_str);
}

START_TEST(test_golden)
{
	login_golden_run(golden_dir(), golden_files[_i]);
}
END_TEST

START_TEST(test_golden_present)
{
	/* A missing directory must not turn into "nothing failed". */
	ck_assert_int_ge(n_golden, 20);
}
END_TEST

/* ---- API tests --------------------------------------------------------- */

static void base_cfg(struct login_config *c)
{
	memset(c, 0, sizeof(*c));
	c->initiator_name = "iqn.2024-01.org.example:host";
	c->target_name = "iqn.2024-01.org.example:disk1";
	c->session_type = ISCSI_SESSION_NORMAL;
	login_isid_make(1, c->isid);
	c->itt = 7;
	c->cmdsn = 1;
}

START_TEST(test_isid)
{
	uint8_t isid[6];

	login_isid_make(0x123456, isid);
	ck_assert_uint_eq(isid[0], 0x00);
	ck_assert_uint_eq(isid[1], 0x02);
	ck_assert_uint_eq(isid[2], 0x3d);
	ck_assert_uint_eq(isid[3], 0x12);
	ck_assert_uint_eq(isid[4], 0x34);
	ck_assert_uint_eq(isid[5], 0x56);
}
END_TEST

START_TEST(test_config_check)
{
	struct login_config c;
	char err[256];

	base_cfg(&c);
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), 0);

	c.target_name = NULL;
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "target name"));
	c.session_type = ISCSI_SESSION_DISCOVERY;
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), 0);
	c.target_name = "iqn.2024-01.org.example:disk1";
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), -EINVAL);

	base_cfg(&c);
	c.initiator_name = "not a name";
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), -EINVAL);

	base_cfg(&c);
	c.username = "u";
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), -EINVAL);
	c.password = "secret-one-12";
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), 0);
	c.username_in = "t";
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), -EINVAL);
	c.password_in = "secret-one-12";
	/* §12.1.3: never the same secret both ways; the message must not
	 * quote it. */
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "different secret"));
	ck_assert_ptr_null(strstr(err, "secret-one-12"));
	errno = 0;
	ck_assert_ptr_null(login_new(&c));
	ck_assert_int_eq(errno, EINVAL);
	c.password_in = "secret-two-34";
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), 0);

	/* Mutual without one-way is refused. */
	c.username = NULL;
	c.password = NULL;
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), -EINVAL);

	base_cfg(&c);
	enum chap_alg dup[2] = { CHAP_ALG_SHA256, CHAP_ALG_SHA256 };
	c.chap_algs = dup;
	c.n_chap_algs = 2;
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), -EINVAL);
	enum chap_alg bad[1] = { (enum chap_alg)3 };
	c.chap_algs = bad;
	c.n_chap_algs = 1;
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), -EINVAL);

	base_cfg(&c);
	struct iscsi_params w;
	params_init_wishes(&w);
	w.first_burst_length = w.max_burst_length + 1;
	c.wishes = &w;
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), -EINVAL);
	base_cfg(&c);
	c.max_send_data = 8193;
	ck_assert_int_eq(login_config_check(&c, err, sizeof(err)), -EINVAL);
}
END_TEST

static void decode_req(const struct login_out *out, struct text_list *kv)
{
	struct pdu_opts o = { .max_data_len = ISCSI_LOGIN_MAX_DSL };
	struct pdu p;

	ck_assert_int_eq(out->kind, LOGIN_SEND);
	ck_assert_int_eq(pdu_decode(out->pdu, out->pdu_len, PDU_DIR_TO_TARGET, &o, &p, NULL, NULL), 0);
	text_list_init(kv);
	ck_assert_int_eq(text_parse(p.data, p.data_len, kv), 0);
}

static void feed(struct login *l, const struct login_config *c, uint8_t flags, uint32_t statsn, const char *text,
		 struct login_out *out)
{
	struct pdu_opts o = { .max_data_len = ISCSI_LOGIN_MAX_DSL };
	uint8_t buf[ISCSI_BHS_LEN + 8200];
	size_t len = 0, tl = 0;
	uint8_t data[8192];
	struct pdu p;

	/* text: pairs separated by '|' */
	for (const char *s = text; *s; s++)
		data[tl++] = *s == '|' ? '\0' : (uint8_t)*s;
	if (tl)
		data[tl++] = '\0';
	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_LOGIN_RSP;
	p.flags = flags;
	memcpy(p.isid, c->isid, 6);
	p.itt = c->itt;
	p.statsn = statsn;
	p.exp_cmdsn = 1;
	p.max_cmdsn = 2;
	p.data_len = (uint32_t)tl;
	p.data = tl ? data : NULL;
	ck_assert_int_eq(pdu_encode(&p, &o, buf, sizeof(buf), &len), 0);
	ck_assert_int_eq(login_step(l, buf, len, out), 0);
}

/* Drives a mutual CHAP login up to the request that carries our CHAP_C. */
static struct login *mutual_to_challenge(struct login_config *c, struct login_out *out, char *ret_chal, size_t cap)
{
	struct text_list kv;
	struct login *l;

	l = login_new(c);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(login_start(l, out), 0);
	decode_req(out, &kv);
	ck_assert_str_eq(text_find(&kv, "AuthMethod"), "CHAP");
	text_list_free(&kv);
	feed(l, c, pdu_login_flags(false, false, 0, 0), 1, "AuthMethod=CHAP", out);
	decode_req(out, &kv);
	ck_assert_str_eq(text_find(&kv, "CHAP_A"), "5");
	text_list_free(&kv);
	feed(l, c, pdu_login_flags(false, false, 0, 0), 2, "CHAP_A=5|CHAP_I=1|CHAP_C=0x0102030405060708090a0b0c0d0e0f10",
	     out);
	if (out->kind != LOGIN_SEND)
		return l;
	decode_req(out, &kv);
	snprintf(ret_chal, cap, "%s", text_find(&kv, "CHAP_C"));
	text_list_free(&kv);
	return l;
}

START_TEST(test_reflection_across_logins)
{
	struct login_config c;
	struct login_out out;
	char chal[CHAP_HEX_BUF], text[CHAP_HEX_BUF + 64];
	struct login *a, *b;
	const struct login *peers[1];

	base_cfg(&c);
	c.username = "alice";
	c.password = "alice-secret-1";
	c.username_in = "target";
	c.password_in = "target-secret-2";
	a = mutual_to_challenge(&c, &out, chal, sizeof(chal));
	ck_assert_int_eq(out.kind, LOGIN_SEND);
	ck_assert(strncmp(chal, "0x", 2) == 0);
	ck_assert(login_challenge_is_ours(a, (const uint8_t *)"x", 1) == false);

	/* Login B (another connection of ours) is challenged by the target
	 * with A's challenge: the target wants our answer to it. */
	peers[0] = a;
	c.peers = peers;
	c.n_peers = 1;
	b = login_new(&c);
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(login_start(b, &out), 0);
	feed(b, &c, pdu_login_flags(false, false, 0, 0), 1, "AuthMethod=CHAP", &out);
	snprintf(text, sizeof(text), "CHAP_A=5|CHAP_I=9|CHAP_C=%s", chal);
	feed(b, &c, pdu_login_flags(false, false, 0, 0), 2, text, &out);
	ck_assert_int_eq(out.kind, LOGIN_FAILED);
	ck_assert_int_eq(out.exit_code, ISCSI_ERR_LOGIN_AUTH_FAILED);
	ck_assert_ptr_nonnull(strstr(out.msg, "reflection"));
	login_free(b);
	login_free(a);
}
END_TEST

START_TEST(test_split_step_and_usage)
{
	struct login_config c;
	struct login_out out;
	struct login *l;
	uint8_t bhs[ISCSI_BHS_LEN];
	struct pdu p;
	const char data[] = "AuthMethod=None\0TargetPortalGroupTag=1";

	base_cfg(&c);
	l = login_new(&c);
	ck_assert_ptr_nonnull(l);
	/* Steps before start are refused. */
	ck_assert_int_eq(login_step(l, bhs, sizeof(bhs), &out), -EINVAL);
	ck_assert_int_eq(login_start(l, &out), 0);
	ck_assert_int_eq(login_start(l, &out), -EINVAL);
	/* BHS and data separately, as the kernel's RECV_PDU delivers them. */
	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_LOGIN_RSP;
	p.flags = pdu_login_flags(true, false, 0, 1);
	memcpy(p.isid, c.isid, 6);
	p.itt = c.itt;
	p.statsn = 41;
	p.data_len = sizeof(data);
	p.data = (const uint8_t *)data;
	ck_assert_int_eq(pdu_encode_bhs(&p, NULL, bhs), 0);
	ck_assert_int_eq(login_step_split(l, bhs, (const uint8_t *)data, sizeof(data), &out), 0);
	ck_assert_int_eq(out.kind, LOGIN_SEND);
	ck_assert_uint_eq(out.pdu_len, ISCSI_BHS_LEN + ((out.data_len + 3) & ~(size_t)3));
	ck_assert_ptr_eq(out.data, out.pdu + ISCSI_BHS_LEN);
	/* ExpStatSN acknowledges StatSN 41. */
	ck_assert_uint_eq((uint32_t)out.pdu[28] << 24 | (uint32_t)out.pdu[29] << 16 | (uint32_t)out.pdu[30] << 8 |
				  out.pdu[31],
			  42);
	/* A truncated PDU fails the login cleanly. */
	ck_assert_int_eq(login_step(l, bhs, 20, &out), 0);
	ck_assert_int_eq(out.kind, LOGIN_FAILED);
	ck_assert_int_eq(out.exit_code, ISCSI_ERR_FATAL_LOGIN);
	ck_assert_int_eq(login_step(l, bhs, sizeof(bhs), &out), -EINVAL);
	login_free(l);
	login_free(NULL);
}
END_TEST

/* Regression: a target that sends more keys than one request can answer
 * (TEXT_MAX_KEYS NotUnderstood answers plus our offers) made the login
 * fail as an internal error; it is the target's fault. */
START_TEST(test_too_many_keys_to_answer)
{
	struct login_config c;
	struct login_out out;
	struct login *l;
	char *text = malloc(8192);
	size_t o = 0;

	ck_assert_ptr_nonnull(text);
	o += (size_t)snprintf(text + o, 8192 - o, "AuthMethod=None");
	for (int i = 0; i < 250; i++)
		o += (size_t)snprintf(text + o, 8192 - o, "|X-k%03d=v", i);
	ck_assert_uint_lt(o, 8000);
	base_cfg(&c);
	l = login_new(&c);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(login_start(l, &out), 0);
	feed(l, &c, pdu_login_flags(true, false, 0, 1), 1, text, &out);
	ck_assert_int_eq(out.kind, LOGIN_FAILED);
	ck_assert_int_eq(out.exit_code, ISCSI_ERR_FATAL_LOGIN);
	ck_assert_ptr_nonnull(strstr(out.msg, "keys"));
	login_free(l);
	free(text);
}
END_TEST

START_TEST(test_logout)
{
	uint8_t buf[64], rsp[48];
	size_t len = 0;
	struct pdu p;
	uint8_t code = 0xff;
	struct pdu_opts o = { .max_data_len = 0 };

	ck_assert_int_eq(login_build_logout(0x11, 3, 5, 9, ISCSI_LOGOUT_CLOSE_SESSION, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 48);
	ck_assert_uint_eq(buf[0], ISCSI_OP_LOGOUT_REQ | ISCSI_OP_IMMEDIATE);
	ck_assert_uint_eq(buf[1], 0x80);
	ck_assert_int_eq(pdu_decode(buf, len, PDU_DIR_TO_TARGET, &o, &p, NULL, NULL), 0);
	ck_assert_uint_eq(p.itt, 0x11);
	ck_assert_uint_eq(p.cmdsn, 5);
	ck_assert_uint_eq(p.exp_statsn, 9);
	ck_assert_uint_eq(p.cid, 0); /* reserved when closing the session */
	ck_assert_int_eq(login_build_logout(0x11, 3, 5, 9, ISCSI_LOGOUT_CLOSE_CONNECTION, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(buf[21], 3);
	ck_assert_int_eq(login_build_logout(0x11, 3, 5, 9, ISCSI_LOGOUT_CLOSE_SESSION, buf, 10, &len), -ENOBUFS);

	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_LOGOUT_RSP;
	p.flags = 0x80;
	p.itt = 0x11;
	p.response = ISCSI_LOGOUT_RSP_OK;
	ck_assert_int_eq(pdu_encode_bhs(&p, NULL, rsp), 0);
	ck_assert_int_eq(login_parse_logout_response(rsp, sizeof(rsp), 0x11, &code), 0);
	ck_assert_uint_eq(code, 0);
	ck_assert_int_eq(login_parse_logout_response(rsp, sizeof(rsp), 0x12, &code), -EPROTO);
	ck_assert_int_eq(login_parse_logout_response(rsp, 40, 0x11, &code), -EPROTO);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("login");
	TCase *tc = tcase_create("golden");
	TCase *api = tcase_create("api");
	SRunner *sr;
	int failed;

	load_golden_list();
	tcase_add_test(tc, test_golden_present);
	if (n_golden > 0)
		tcase_add_loop_test(tc, test_golden, 0, n_golden);
	suite_add_tcase(s, tc);
	tcase_add_test(api, test_isid);
	tcase_add_test(api, test_config_check);
	tcase_add_test(api, test_reflection_across_logins);
	tcase_add_test(api, test_split_step_and_usage);
	tcase_add_test(api, test_too_many_keys_to_answer);
	tcase_add_test(api, test_logout);
	suite_add_tcase(s, api);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	for (int i = 0; i < n_golden; i++)
		free(golden_files[i]);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
