/* The negotiation table (RFC 7143 §6.2, §13): defaults, wishes, offers,
 * answers checked against result functions, proposals answered. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "text.h"

static struct params_nego *nego(enum iscsi_session_type type, bool leading)
{
	struct iscsi_params w;
	struct params_nego *n;

	params_init_wishes(&w);
	n = params_nego_new(&w, type, leading);
	ck_assert_ptr_nonnull(n);
	return n;
}

/* Builds a list from "k=v|k=v". */
static void kv(struct text_list *l, const char *s)
{
	char buf[1024], *save = NULL;

	text_list_init(l);
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *p = strtok_r(buf, "|", &save); p; p = strtok_r(NULL, "|", &save)) {
		char *eq = strchr(p, '=');

		ck_assert_ptr_nonnull(eq);
		*eq = '\0';
		ck_assert_int_eq(text_list_add(l, p, eq + 1), 0);
	}
}

static int receive(struct params_nego *n, const char *s, unsigned stage, bool final, char *err, size_t errlen)
{
	struct text_list l;
	int r;

	kv(&l, s);
	r = params_nego_receive(n, &l, stage, final, err, errlen);
	text_list_free(&l);
	return r;
}

/* Offers as one "k=v|k=v" string. */
static void offers(struct params_nego *n, char *buf, size_t cap)
{
	struct text_list l;

	text_list_init(&l);
	ck_assert_int_eq(params_nego_offer(n, &l), 0);
	buf[0] = '\0';
	for (size_t i = 0; i < l.n; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, cap - len, "%s%s=%s", i ? "|" : "", l.kv[i].key, l.kv[i].value);
	}
	text_list_free(&l);
}

static void answers(struct params_nego *n, char *buf, size_t cap)
{
	struct text_list l;

	text_list_init(&l);
	ck_assert_int_eq(params_nego_answer(n, &l), 0);
	buf[0] = '\0';
	for (size_t i = 0; i < l.n; i++) {
		size_t len = strlen(buf);

		snprintf(buf + len, cap - len, "%s%s=%s", i ? "|" : "", l.kv[i].key, l.kv[i].value);
	}
	text_list_free(&l);
}

START_TEST(test_defaults)
{
	struct iscsi_params p;

	/* RFC 7143 §13 defaults. */
	params_init_defaults(&p);
	ck_assert_uint_eq(p.header_digest, ISCSI_DIGEST_NONE);
	ck_assert_uint_eq(p.max_recv_dsl, 8192);
	ck_assert_uint_eq(p.max_xmit_dsl, 8192);
	ck_assert_uint_eq(p.max_connections, 1);
	ck_assert(p.initial_r2t);
	ck_assert(p.immediate_data);
	ck_assert_uint_eq(p.max_burst_length, 262144);
	ck_assert_uint_eq(p.first_burst_length, 65536);
	ck_assert_uint_eq(p.default_time2wait, 2);
	ck_assert_uint_eq(p.default_time2retain, 20);
	ck_assert_uint_eq(p.max_outstanding_r2t, 1);
	ck_assert(p.data_pdu_in_order);
	ck_assert(p.data_sequence_in_order);
	ck_assert_uint_eq(p.error_recovery_level, 0);
	ck_assert_int_eq(p.tpgt, -1);

	/* open-iscsi's node defaults. */
	params_init_wishes(&p);
	ck_assert_uint_eq(p.max_recv_dsl, 262144);
	ck_assert_uint_eq(p.max_xmit_dsl, 0);
	ck_assert_uint_eq(p.first_burst_length, 262144);
	ck_assert_uint_eq(p.max_burst_length, 16776192);
	ck_assert(!p.initial_r2t);
	ck_assert(p.immediate_data);
	ck_assert_uint_eq(p.default_time2retain, 0);
	ck_assert_int_eq(params_validate_wishes(&p, NULL, 0), 0);
}
END_TEST

START_TEST(test_validate_wishes)
{
	struct iscsi_params p;
	char err[128];

	params_init_wishes(&p);
	p.max_recv_dsl = 511;
	ck_assert_int_eq(params_validate_wishes(&p, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "MaxRecvDataSegmentLength"));
	params_init_wishes(&p);
	p.max_burst_length = 16777216;
	ck_assert_int_eq(params_validate_wishes(&p, err, sizeof(err)), -EINVAL);
	params_init_wishes(&p);
	p.first_burst_length = 65536;
	p.max_burst_length = 8192;
	ck_assert_int_eq(params_validate_wishes(&p, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "FirstBurstLength"));
	params_init_wishes(&p);
	p.error_recovery_level = 3;
	ck_assert_int_eq(params_validate_wishes(&p, err, sizeof(err)), -EINVAL);
	params_init_wishes(&p);
	p.max_xmit_dsl = 100;
	ck_assert_int_eq(params_validate_wishes(&p, err, sizeof(err)), -EINVAL);
	params_init_wishes(&p);
	p.header_digest = 4;
	ck_assert_int_eq(params_validate_wishes(&p, err, sizeof(err)), -EINVAL);
	errno = 0;
	ck_assert_ptr_null(params_nego_new(&p, ISCSI_SESSION_NORMAL, true));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(test_digest_parse)
{
	uint8_t d = 99;

	ck_assert_int_eq(params_digest_parse("None", &d), 0);
	ck_assert_uint_eq(d, ISCSI_DIGEST_NONE);
	ck_assert_int_eq(params_digest_parse("crc32c", &d), 0);
	ck_assert_uint_eq(d, ISCSI_DIGEST_CRC32C);
	ck_assert_int_eq(params_digest_parse("CRC32C, None", &d), 0);
	ck_assert_uint_eq(d, ISCSI_DIGEST_CRC32C_NONE);
	ck_assert_int_eq(params_digest_parse("None,CRC32C", &d), 0);
	ck_assert_uint_eq(d, ISCSI_DIGEST_NONE_CRC32C);
	ck_assert_int_eq(params_digest_parse("None,None", &d), -EINVAL);
	ck_assert_int_eq(params_digest_parse("CRC32", &d), -EINVAL);
	ck_assert_int_eq(params_digest_parse("", &d), -EINVAL);
	ck_assert_int_eq(params_digest_parse("None,CRC32C,None", &d), -EINVAL);
	ck_assert_str_eq(params_digest_name(ISCSI_DIGEST_CRC32C_NONE), "CRC32C,None");
	ck_assert_ptr_null(params_digest_name(7));
}
END_TEST

START_TEST(test_parse_number)
{
	uint64_t v;

	ck_assert_int_eq(params_parse_number("262144", &v), 0);
	ck_assert_uint_eq(v, 262144);
	ck_assert_int_eq(params_parse_number("0x40000", &v), 0);
	ck_assert_uint_eq(v, 262144);
	ck_assert_int_eq(params_parse_number("18446744073709551615", &v), 0);
	ck_assert_int_eq(params_parse_number("18446744073709551616", &v), -EINVAL);
	ck_assert_int_eq(params_parse_number("0x10000000000000000", &v), -EINVAL);
	ck_assert_int_eq(params_parse_number("", &v), -EINVAL);
	ck_assert_int_eq(params_parse_number("0x", &v), -EINVAL);
	ck_assert_int_eq(params_parse_number("-1", &v), -EINVAL);
	ck_assert_int_eq(params_parse_number("12 ", &v), -EINVAL);
	ck_assert(params_key_is_security("CHAP_R"));
	ck_assert(params_key_is_security("AuthMethod"));
	ck_assert(!params_key_is_security("MaxBurstLength"));
}
END_TEST

START_TEST(test_offers)
{
	char buf[2048];
	struct params_nego *n = nego(ISCSI_SESSION_NORMAL, true);

	offers(n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "HeaderDigest=None|DataDigest=None|MaxConnections=1|InitialR2T=No|ImmediateData=Yes|"
			      "MaxRecvDataSegmentLength=262144|MaxBurstLength=16776192|FirstBurstLength=262144|"
			      "DefaultTime2Wait=2|DefaultTime2Retain=0|MaxOutstandingR2T=1|DataPDUInOrder=Yes|"
			      "DataSequenceInOrder=Yes|ErrorRecoveryLevel=0");
	/* Each key once per login. */
	offers(n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	params_nego_free(n);

	n = nego(ISCSI_SESSION_DISCOVERY, true);
	offers(n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "HeaderDigest=None|DataDigest=None|MaxRecvDataSegmentLength=262144|"
			      "DefaultTime2Wait=2|DefaultTime2Retain=0|ErrorRecoveryLevel=0");
	params_nego_free(n);

	n = nego(ISCSI_SESSION_NORMAL, false);
	offers(n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "HeaderDigest=None|DataDigest=None|MaxRecvDataSegmentLength=262144");
	params_nego_free(n);
	params_nego_free(NULL);
}
END_TEST

START_TEST(test_min_max_answers)
{
	char err[256], buf[1024];
	struct iscsi_params p;
	struct params_nego *n = nego(ISCSI_SESSION_NORMAL, true);

	offers(n, buf, sizeof(buf));
	/* Within the result functions: accepted. */
	ck_assert_int_eq(receive(n, "MaxBurstLength=65536|FirstBurstLength=131072|DefaultTime2Wait=10|"
				    "MaxOutstandingR2T=1|InitialR2T=Yes|ImmediateData=No|MaxRecvDataSegmentLength=4096",
				 1, false, err, sizeof(err)),
			 0);
	ck_assert(!params_nego_pending(n));
	ck_assert_int_eq(params_nego_result(n, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.max_burst_length, 65536);
	/* §13.14: FirstBurstLength never above MaxBurstLength. */
	ck_assert_uint_eq(p.first_burst_length, 65536);
	ck_assert_uint_eq(p.default_time2wait, 10);
	ck_assert(p.initial_r2t);
	ck_assert(!p.immediate_data);
	ck_assert_uint_eq(p.max_xmit_dsl, 4096);
	ck_assert_uint_eq(p.max_recv_dsl, 262144);
	/* Unanswered DefaultTime2Retain: the RFC default applies. */
	ck_assert_uint_eq(p.default_time2retain, 20);
	/* OR offered Yes, unanswered: Yes (§6.2.2). */
	ck_assert(p.data_pdu_in_order);
	params_nego_free(n);

	n = nego(ISCSI_SESSION_NORMAL, true);
	offers(n, buf, sizeof(buf));
	/* max(): below our offer is not admissible. */
	ck_assert_int_eq(receive(n, "DefaultTime2Wait=1", 1, false, err, sizeof(err)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "DefaultTime2Wait"));
	params_nego_free(n);

	n = nego(ISCSI_SESSION_NORMAL, true);
	offers(n, buf, sizeof(buf));
	ck_assert_int_eq(receive(n, "ErrorRecoveryLevel=1", 1, false, err, sizeof(err)), -EPROTO);
	params_nego_free(n);

	n = nego(ISCSI_SESSION_NORMAL, true);
	offers(n, buf, sizeof(buf));
	/* OR offered Yes must stay Yes. */
	ck_assert_int_eq(receive(n, "DataPDUInOrder=No", 1, false, err, sizeof(err)), -EPROTO);
	params_nego_free(n);

	n = nego(ISCSI_SESSION_NORMAL, true);
	offers(n, buf, sizeof(buf));
	ck_assert_int_eq(receive(n, "MaxConnections=0", 1, false, err, sizeof(err)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "outside 1..65535"));
	params_nego_free(n);

	n = nego(ISCSI_SESSION_NORMAL, true);
	offers(n, buf, sizeof(buf));
	ck_assert_int_eq(receive(n, "ImmediateData=maybe", 1, false, err, sizeof(err)), -EPROTO);
	params_nego_free(n);

	n = nego(ISCSI_SESSION_NORMAL, true);
	offers(n, buf, sizeof(buf));
	ck_assert_int_eq(receive(n, "MaxRecvDataSegmentLength=100", 1, false, err, sizeof(err)), -EPROTO);
	params_nego_free(n);
}
END_TEST

START_TEST(test_wish_caps_xmit)
{
	struct iscsi_params w, p;
	char err[128];
	struct params_nego *n;

	params_init_wishes(&w);
	w.max_xmit_dsl = 16384;
	n = params_nego_new(&w, ISCSI_SESSION_NORMAL, true);
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(receive(n, "MaxRecvDataSegmentLength=262144|TargetPortalGroupTag=3|TargetAlias=disk",
				 0, false, err, sizeof(err)),
			 0);
	/* The same declaration again is harmless; another value is not. */
	ck_assert_int_eq(receive(n, "TargetPortalGroupTag=3", 1, false, err, sizeof(err)), 0);
	ck_assert_int_eq(params_nego_result(n, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.max_xmit_dsl, 16384);
	ck_assert_int_eq(p.tpgt, 3);
	ck_assert_str_eq(p.target_alias, "disk");
	ck_assert_int_eq(receive(n, "TargetPortalGroupTag=4", 1, false, err, sizeof(err)), -EPROTO);
	ck_assert_int_eq(receive(n, "TargetAlias=other", 1, false, err, sizeof(err)), -EPROTO);
	params_nego_free(n);

	n = nego(ISCSI_SESSION_NORMAL, true);
	ck_assert_int_eq(receive(n, "TargetPortalGroupTag=65536", 0, false, err, sizeof(err)), -EPROTO);
	params_nego_free(n);
	n = nego(ISCSI_SESSION_NORMAL, true);
	{
		char alias[300];

		memset(alias, 'a', sizeof(alias));
		alias[0] = 'T';
		memcpy(alias, "TargetAlias=", 12);
		alias[299] = '\0';
		ck_assert_int_eq(receive(n, alias, 0, false, err, sizeof(err)), -EPROTO);
	}
	params_nego_free(n);
}
END_TEST

START_TEST(test_reject_irrelevant)
{
	struct iscsi_params w, p;
	char err[256], buf[1024];
	struct params_nego *n;

	/* AND offered No: the default Yes after Reject is not acceptable. */
	params_init_wishes(&w);
	w.immediate_data = false;
	n = params_nego_new(&w, ISCSI_SESSION_NORMAL, true);
	offers(n, buf, sizeof(buf));
	ck_assert_int_eq(receive(n, "ImmediateData=Reject", 1, false, err, sizeof(err)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "not acceptable"));
	params_nego_free(n);

	/* ... but Irrelevant is (the key does not matter then). */
	n = params_nego_new(&w, ISCSI_SESSION_NORMAL, true);
	offers(n, buf, sizeof(buf));
	ck_assert_int_eq(receive(n, "ImmediateData=Irrelevant|DefaultTime2Retain=NotUnderstood", 1, false, err,
				 sizeof(err)),
			 -EPROTO);
	params_nego_free(n);

	n = params_nego_new(&w, ISCSI_SESSION_NORMAL, true);
	offers(n, buf, sizeof(buf));
	ck_assert_int_eq(receive(n, "ImmediateData=Irrelevant|MaxBurstLength=NotUnderstood", 1, false, err,
				 sizeof(err)),
			 0);
	ck_assert_int_eq(params_nego_result(n, &p, err, sizeof(err)), 0);
	/* AND offered No: No whatever the target says, Irrelevant included
	 * (the default Yes would have the kernel send immediate data we
	 * said we would not send). */
	ck_assert(!p.immediate_data);
	ck_assert_uint_eq(p.max_burst_length, 262144); /* default */
	params_nego_free(n);
}
END_TEST

/* Regression: HeaderDigest/DataDigest=Irrelevant to a CRC32C-only offer
 * ended with digests off, although the node demands them. */
START_TEST(test_irrelevant_digest_required)
{
	struct iscsi_params w, p;
	char err[256], buf[1024];
	struct params_nego *n;

	params_init_wishes(&w);
	w.header_digest = ISCSI_DIGEST_CRC32C;
	n = params_nego_new(&w, ISCSI_SESSION_NORMAL, true);
	offers(n, buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "HeaderDigest=CRC32C"));
	ck_assert_int_eq(receive(n, "HeaderDigest=Irrelevant", 1, false, err, sizeof(err)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "HeaderDigest"));
	params_nego_free(n);

	/* With None acceptable, Irrelevant leaves the default None. */
	w.header_digest = ISCSI_DIGEST_CRC32C_NONE;
	n = params_nego_new(&w, ISCSI_SESSION_NORMAL, true);
	offers(n, buf, sizeof(buf));
	ck_assert_int_eq(receive(n, "HeaderDigest=Irrelevant|InitialR2T=Irrelevant", 1, false, err, sizeof(err)), 0);
	ck_assert_int_eq(params_nego_result(n, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.header_digest, ISCSI_DIGEST_NONE);
	/* OR offered No: the default Yes stands. */
	ck_assert(p.initial_r2t);
	params_nego_free(n);
}
END_TEST

START_TEST(test_proposals)
{
	char err[256], buf[1024];
	struct iscsi_params p;
	struct params_nego *n = nego(ISCSI_SESSION_NORMAL, true);

	ck_assert_int_eq(receive(n, "MaxBurstLength=65536|InitialR2T=Yes|ImmediateData=Yes|DataDigest=CRC32C,None|"
				    "HeaderDigest=CRC32C|X-vendor.Key=1|Unknown=2|OFMarker=Yes|IFMarkInt=1~65535|"
				    "MaxOutstandingR2T=70000|SendTargets=All",
				 1, false, err, sizeof(err)),
			 0);
	ck_assert(params_nego_pending(n));
	answers(n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "MaxBurstLength=65536|InitialR2T=Yes|ImmediateData=Yes|DataDigest=None|"
			      "HeaderDigest=Reject|X-vendor.Key=NotUnderstood|Unknown=NotUnderstood|OFMarker=Reject|"
			      "IFMarkInt=Reject|MaxOutstandingR2T=Reject|SendTargets=Reject");
	ck_assert(!params_nego_pending(n));
	/* Answered keys are not offered again. */
	offers(n, buf, sizeof(buf));
	ck_assert_ptr_null(strstr(buf, "MaxBurstLength"));
	ck_assert_ptr_null(strstr(buf, "DataDigest"));
	ck_assert_ptr_nonnull(strstr(buf, "FirstBurstLength=262144"));
	ck_assert_int_eq(params_nego_result(n, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.max_burst_length, 65536);
	ck_assert_uint_eq(p.first_burst_length, 65536);
	ck_assert_uint_eq(p.data_digest, ISCSI_DIGEST_NONE);
	ck_assert(p.initial_r2t);
	params_nego_free(n);

	/* A proposal in the final response: optional answers are fine
	 * (OR with Yes fixes the result), required ones are an error. */
	n = nego(ISCSI_SESSION_NORMAL, true);
	ck_assert_int_eq(receive(n, "InitialR2T=Yes|X-foo=bar", 1, true, err, sizeof(err)), 0);
	ck_assert(!params_nego_pending(n));
	ck_assert_int_eq(receive(n, "MaxBurstLength=4096", 1, true, err, sizeof(err)), -EPROTO);
	params_nego_free(n);

	/* Security keys belong to the security stage. */
	n = nego(ISCSI_SESSION_NORMAL, true);
	ck_assert_int_eq(receive(n, "CHAP_A=5", 0, false, err, sizeof(err)), 0);
	ck_assert(!params_nego_pending(n));
	ck_assert_int_eq(receive(n, "CHAP_A=5", 1, false, err, sizeof(err)), -EPROTO);
	params_nego_free(n);

	/* Discovery: irrelevant keys are answered Irrelevant and keep their
	 * defaults. */
	n = nego(ISCSI_SESSION_DISCOVERY, true);
	ck_assert_int_eq(receive(n, "ImmediateData=No|MaxConnections=4|HeaderDigest=None", 0, false, err,
				 sizeof(err)),
			 0);
	answers(n, buf, sizeof(buf));
	ck_assert_str_eq(buf, "ImmediateData=Irrelevant|MaxConnections=Irrelevant|HeaderDigest=None");
	ck_assert_int_eq(params_nego_result(n, &p, err, sizeof(err)), 0);
	ck_assert(p.immediate_data);
	ck_assert_uint_eq(p.max_connections, 1);
	params_nego_free(n);
}
END_TEST

START_TEST(test_renegotiation)
{
	char err[256], buf[1024];
	struct params_nego *n = nego(ISCSI_SESSION_NORMAL, true);

	offers(n, buf, sizeof(buf));
	ck_assert_int_eq(receive(n, "MaxBurstLength=65536", 1, false, err, sizeof(err)), 0);
	/* The same value again is tolerated, another is not. */
	ck_assert_int_eq(receive(n, "MaxBurstLength=65536", 1, false, err, sizeof(err)), 0);
	ck_assert_int_eq(receive(n, "MaxBurstLength=4096", 1, false, err, sizeof(err)), -EPROTO);
	ck_assert_ptr_nonnull(strstr(err, "second time"));
	params_nego_free(n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("params");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_validate_wishes);
	tcase_add_test(tc, test_digest_parse);
	tcase_add_test(tc, test_parse_number);
	tcase_add_test(tc, test_offers);
	tcase_add_test(tc, test_min_max_answers);
	tcase_add_test(tc, test_wish_caps_xmit);
	tcase_add_test(tc, test_reject_irrelevant);
	tcase_add_test(tc, test_irrelevant_digest_required);
	tcase_add_test(tc, test_proposals);
	tcase_add_test(tc, test_renegotiation);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
