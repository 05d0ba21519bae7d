#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sendtargets.h"

#define SEG(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

/* Shaped like the examples of RFC 7143 Appendix C: targets in order, each
 * followed by its addresses; one target with no address (reachable through
 * the discovery portal). */
static const char response[] =
	"TargetName=iqn.1993-11.com.example:diskarray.sn.8675309\0"
	"TargetAddress=[2001:db8::1]:3260,1\0"
	"TargetAddress=192.0.2.215:3000,2\0"
	"TargetName=iqn.1993-11.com.example:diskarray.sn.1234567\0"
	"TargetName=iqn.2001-04.com.example:tape\0"
	"TargetAlias=Tape Library\0"
	"TargetAddress=storage.example.com,3\0";

START_TEST(test_parse_response)
{
	struct st_result r;
	char err[ST_ERR_MAX] = "";
	char buf[300];

	ck_assert_int_eq(sendtargets_parse(SEG(response), &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_str_eq(r.targets[0].name, "iqn.1993-11.com.example:diskarray.sn.8675309");
	ck_assert_uint_eq(r.targets[0].n_portals, 2);
	ck_assert_int_eq(portal_format(&r.targets[0].portals[0], buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "[2001:db8::1]:3260,1");
	ck_assert_int_eq(portal_format(&r.targets[0].portals[1], buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "192.0.2.215:3000,2");
	ck_assert_str_eq(r.targets[1].name, "iqn.1993-11.com.example:diskarray.sn.1234567");
	ck_assert_uint_eq(r.targets[1].n_portals, 0);
	ck_assert_str_eq(r.targets[2].name, "iqn.2001-04.com.example:tape");
	ck_assert_uint_eq(r.targets[2].n_portals, 1);
	ck_assert_str_eq(r.targets[2].portals[0].host, "storage.example.com");
	ck_assert_uint_eq(r.targets[2].portals[0].port, 3260);
	ck_assert_int_eq(r.targets[2].portals[0].tpgt, 3);
	ck_assert_int_eq(r.targets[2].portals[0].family, AF_UNSPEC);

	/* The target with no address gets the discovery portal. */
	struct portal disc;
	ck_assert_int_eq(portal_parse("192.0.2.1:3260", &disc, NULL, 0), 0);
	ck_assert_int_eq(sendtargets_apply_default_portal(&r, &disc), 0);
	ck_assert_uint_eq(r.targets[1].n_portals, 1);
	ck_assert_str_eq(r.targets[1].portals[0].host, "192.0.2.1");
	ck_assert_uint_eq(r.targets[0].n_portals, 2);   /* others unchanged */
	st_result_free(&r);
	ck_assert_uint_eq(r.n, 0);
	st_result_free(&r);
	st_result_free(NULL);
}
END_TEST

START_TEST(test_parse_tolerance)
{
	struct st_result r;

	/* Empty response: no targets, not an error. */
	ck_assert_int_eq(sendtargets_parse(NULL, 0, &r, NULL, 0), 0);
	ck_assert_uint_eq(r.n, 0);
	st_result_free(&r);
	/* No tpgt, no final NUL, a target named twice, a portal twice. */
	ck_assert_int_eq(sendtargets_parse(SEG(
		"TargetName=iqn.2001-04.com.example:a\0"
		"TargetAddress=192.0.2.1\0"
		"TargetName=iqn.2001-04.com.example:b\0"
		"TargetAddress=192.0.2.2:3260,1\0"
		"TargetName=iqn.2001-04.com.example:a\0"
		"TargetAddress=192.0.2.1:3260\0"
		"TargetAddress=192.0.2.3:3260,1"), &r, NULL, 0), 0);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(r.targets[0].n_portals, 2);
	ck_assert_int_eq(r.targets[0].portals[0].tpgt, -1);
	ck_assert_str_eq(r.targets[0].portals[1].host, "192.0.2.3");
	ck_assert_uint_eq(r.targets[1].n_portals, 1);
	st_result_free(&r);
}
END_TEST

/* Many targets, each named a second time later with another address:
 * the second mention adds to the first, whatever its position (the
 * name lookup is a hash table that grows while the answer is read). */
START_TEST(test_parse_many_renamed)
{
	enum { N = 3000 };
	char *b = malloc((size_t)N * 2 * 90);
	size_t off = 0;
	struct st_result r;

	ck_assert_ptr_nonnull(b);
	for (unsigned pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < N; i++) {
			off += (size_t)sprintf(b + off, "TargetName=iqn.2001-04.com.example:t%u", i) + 1;
			off += (size_t)sprintf(b + off, "TargetAddress=192.0.2.%u:3260,1", pass + 1) + 1;
		}
	ck_assert_int_eq(sendtargets_parse((const uint8_t *)b, off, &r, NULL, 0), 0);
	ck_assert_uint_eq(r.n, N);
	for (unsigned i = 0; i < N; i++) {
		char want[64];
		snprintf(want, sizeof(want), "iqn.2001-04.com.example:t%u", i);
		ck_assert_str_eq(r.targets[i].name, want);
		ck_assert_uint_eq(r.targets[i].n_portals, 2);
		ck_assert_str_eq(r.targets[i].portals[0].host, "192.0.2.1");
		ck_assert_str_eq(r.targets[i].portals[1].host, "192.0.2.2");
	}
	st_result_free(&r);
	free(b);
}
END_TEST

static void expect_fail(const uint8_t *d, size_t n, int code, const char *why)
{
	struct st_result r = { .targets = (struct st_target *)&r, .n = 42 };
	char err[ST_ERR_MAX] = "";
	ck_assert_int_eq(sendtargets_parse(d, n, &r, err, sizeof(err)), code);
	ck_assert_msg(strstr(err, why) != NULL, "got \"%s\", want \"%s\"", err, why);
	ck_assert_uint_eq(r.n, 42);   /* untouched */
	/* The message never echoes the peer's raw bytes. */
	for (const char *p = err; *p; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
			      "unprintable byte in \"%s\"", err);
}

START_TEST(test_parse_hostile)
{
	expect_fail(SEG("TargetAddress=192.0.2.1:3260,1\0TargetName=iqn.2001-04.com.example:a\0"),
		    -EPROTO, "before any TargetName");
	expect_fail(SEG("TargetName=../../etc/passwd\0"), -EPROTO, "invalid TargetName");
	expect_fail(SEG("TargetName=iqn.2001-04.com.example:../x\0"), -EPROTO, "invalid TargetName");
	expect_fail(SEG("TargetName=iqn.2001-04.com.example:..\0"), -EPROTO, "\"..\"");
	expect_fail(SEG("TargetName=\0"), -EPROTO, "empty");
	expect_fail(SEG("TargetName=iqn.2001-04.com.example:a\x1b[31m\0"), -EPROTO, "malformed");
	expect_fail(SEG("TargetName=iqn.2001-04.com.example:a\0TargetAddress=192.0.2.1:0,1\0"),
		    -EPROTO, "iqn.2001-04.com.example:a has an invalid TargetAddress: invalid port");
	expect_fail(SEG("TargetName=iqn.2001-04.com.example:a\0TargetAddress=;rm -rf /\0"),
		    -EPROTO, "invalid TargetAddress");
	expect_fail(SEG("TargetName=iqn.2001-04.com.example:a\0garbage\0"), -EPROTO, "malformed");

	char big[700] = "TargetName=iqn.2001-04.com.example:";
	size_t l = strlen(big);
	memset(big + l, 'a', 300);
	expect_fail((const uint8_t *)big, l + 300, -EPROTO, "longer than 223");
	memset(big + l, 'a', 600);
	expect_fail((const uint8_t *)big, l + 600, -EPROTO, "too long");
}
END_TEST

/* Appends "TargetName=...\0" for target i and k addresses. */
static size_t put_target(char *b, size_t off, unsigned i, unsigned k)
{
	off += (size_t)sprintf(b + off, "TargetName=iqn.2001-04.com.example:t%u", i) + 1;
	for (unsigned j = 0; j < k; j++)
		off += (size_t)sprintf(b + off, "TargetAddress=192.0.2.%u:%u,1", j % 250 + 1,
				       3260 + j) + 1;
	return off;
}

START_TEST(test_parse_limits)
{
	char *b = malloc(ST_MAX_BYTES + 16);
	struct st_result r;
	size_t n = 0, before_last = 0;

	/* ST_MAX_TARGETS targets are fine, one more is not. */
	for (unsigned i = 0; i <= ST_MAX_TARGETS; i++) {
		before_last = n;
		n = put_target(b, n, i, 0);
	}
	ck_assert_int_eq(sendtargets_parse((uint8_t *)b, before_last, &r, NULL, 0), 0);
	ck_assert_uint_eq(r.n, ST_MAX_TARGETS);
	st_result_free(&r);
	expect_fail((uint8_t *)b, n, -E2BIG, "more than 4096 targets");

	/* ST_MAX_PORTALS portals per target, then -E2BIG. */
	n = put_target(b, 0, 1, ST_MAX_PORTALS);
	ck_assert_int_eq(sendtargets_parse((uint8_t *)b, n, &r, NULL, 0), 0);
	ck_assert_uint_eq(r.targets[0].n_portals, ST_MAX_PORTALS);
	st_result_free(&r);
	n = put_target(b, 0, 1, ST_MAX_PORTALS + 1);
	expect_fail((uint8_t *)b, n, -E2BIG, "more than 64 portals");

	/* Total portals across targets. */
	n = 0;
	for (unsigned i = 0; i < ST_MAX_PORTALS_TOTAL / ST_MAX_PORTALS + 1; i++)
		n = put_target(b, n, i, ST_MAX_PORTALS);
	ck_assert_uint_lt(n, ST_MAX_BYTES);
	expect_fail((uint8_t *)b, n, -E2BIG, "more than 16384 portals");

	/* Byte ceiling. */
	memset(b, 0, ST_MAX_BYTES + 1);
	expect_fail((uint8_t *)b, ST_MAX_BYTES + 1, -E2BIG, "larger than");
	free(b);
}
END_TEST

START_TEST(test_build_request)
{
	uint8_t buf[300];
	size_t len;

	ck_assert_int_eq(sendtargets_build_request(NULL, buf, sizeof(buf), &len), 0);
	ck_assert_uint_eq(len, 16);
	ck_assert_mem_eq(buf, "SendTargets=All\0", 16);
	ck_assert_int_eq(sendtargets_build_request("", buf, sizeof(buf), &len), 0);
	ck_assert_mem_eq(buf, "SendTargets=\0", len);
	ck_assert_int_eq(sendtargets_build_request("iqn.2001-04.com.example:a", buf, sizeof(buf), &len), 0);
	ck_assert_mem_eq(buf, "SendTargets=iqn.2001-04.com.example:a\0", len);
	ck_assert_int_eq(sendtargets_build_request("not a name", buf, sizeof(buf), &len), -EINVAL);
	ck_assert_int_eq(sendtargets_build_request(NULL, buf, 15, &len), -ENOBUFS);
	ck_assert_int_eq(sendtargets_build_request(NULL, buf, 16, &len), 0);
}
END_TEST

/* A Text Response as pdu_decode() would give it, with this window. */
static uint32_t rsp_exp_cmdsn = 11, rsp_max_cmdsn = 20;

static struct pdu text_rsp(uint32_t itt, uint8_t flags, uint32_t ttt, uint32_t statsn,
			   const void *data, size_t len)
{
	struct pdu p;
	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_TEXT_RSP;
	p.flags = flags;
	p.itt = itt;
	p.ttt = ttt;
	p.statsn = statsn;
	p.exp_cmdsn = rsp_exp_cmdsn;
	p.max_cmdsn = rsp_max_cmdsn;
	p.data_len = (uint32_t)len;
	p.data = len ? (const uint8_t *)data : NULL;
	return p;
}

START_TEST(test_exchange_single)
{
	struct st_exchange ex;
	struct pdu req, rsp;
	struct st_result r;

	ck_assert_int_eq(st_exchange_start(&ex, 0x1234, 10, 7, 10, 20, &req), 0);
	ck_assert_uint_eq(req.opcode, ISCSI_OP_TEXT_REQ);
	ck_assert(!req.immediate);
	ck_assert_uint_eq(req.flags, ISCSI_FLAG_FINAL);
	ck_assert_uint_eq(req.itt, 0x1234);
	ck_assert_uint_eq(req.ttt, ISCSI_RESERVED_TAG);
	ck_assert_uint_eq(req.cmdsn, 10);
	ck_assert_uint_eq(req.exp_statsn, 7);
	ck_assert_uint_eq(req.data_len, 16);
	ck_assert_mem_eq(req.data, "SendTargets=All\0", 16);

	rsp = text_rsp(0x1234, ISCSI_FLAG_FINAL, ISCSI_RESERVED_TAG, 7, SEG(response));
	ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_DONE);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(ex.cmdsn, 11);       /* for the Logout that follows */
	ck_assert_uint_eq(ex.exp_statsn, 8);
	st_result_free(&r);
	/* Over: a further PDU is a caller error. */
	ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), -EINVAL);
	st_exchange_free(&ex);
	st_exchange_free(NULL);
}
END_TEST

/* RFC 7143 §11.11.4: a long response comes in pieces; the initiator asks
 * for each next piece with an empty Text Request echoing the TTT. The
 * split falls inside a pair (C=1), then between complete segments (F=0,
 * C=0, ending on a pair's NUL); the final segment lacks its last NUL. */
START_TEST(test_exchange_continue)
{
	struct st_exchange ex;
	struct pdu req, rsp;
	struct st_result r;
	static const char part1[] = "TargetName=iqn.2001-04.com.example:a\0TargetAddr";
	static const char part2[] = "ess=192.0.2.1:3260,1\0";
	static const char part3[] = "TargetName=iqn.2001-04.com.example:b";

	ck_assert_int_eq(st_exchange_start(&ex, 1, 100, 50, 100, 110, &req), 0);
	rsp_exp_cmdsn = 101;
	rsp_max_cmdsn = 110;

	rsp = text_rsp(1, ISCSI_FLAG_CONTINUE, 0xabcd, 50, SEG(part1));
	ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_SEND);
	ck_assert_uint_eq(req.opcode, ISCSI_OP_TEXT_REQ);
	ck_assert_uint_eq(req.flags, ISCSI_FLAG_FINAL);
	ck_assert_uint_eq(req.itt, 1);
	ck_assert_uint_eq(req.ttt, 0xabcd);
	ck_assert_uint_eq(req.cmdsn, 101);
	ck_assert_uint_eq(req.exp_statsn, 51);
	ck_assert_uint_eq(req.data_len, 0);
	ck_assert_ptr_null(req.data);

	rsp = text_rsp(1, 0, 0xabce, 51, SEG(part2));
	ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_SEND);
	ck_assert_uint_eq(req.ttt, 0xabce);
	ck_assert(!req.immediate);
	ck_assert_uint_eq(req.cmdsn, 102);
	ck_assert_uint_eq(req.exp_statsn, 52);

	rsp = text_rsp(1, ISCSI_FLAG_FINAL, ISCSI_RESERVED_TAG, 52, SEG(part3));
	ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_DONE);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(r.targets[0].n_portals, 1);
	ck_assert_str_eq(r.targets[0].portals[0].host, "192.0.2.1");
	ck_assert_str_eq(r.targets[1].name, "iqn.2001-04.com.example:b");
	ck_assert_uint_eq(ex.cmdsn, 103);
	ck_assert_uint_eq(ex.exp_statsn, 53);
	st_result_free(&r);
	st_exchange_free(&ex);
	rsp_exp_cmdsn = 11;
	rsp_max_cmdsn = 20;
}
END_TEST

/* tgtd's split (its cmnd_exec_text): the answer cut every
 * MaxRecvDataSegmentLength bytes wherever that falls, each part but the
 * last with F=0 and C=0 and a fresh TTT, the last with F=1 and TTT
 * 0xffffffff. Parts that end mid-pair are joined, not NUL-terminated. */
/* Runs answer through an exchange cut every mrdsl bytes (tgtd style: no
 * C bit), with st_exchange_digest() after every request when digest;
 * returns the last step, *r (on ST_STEP_DONE) and the error text. */
static int run_split(const char *answer, size_t len, size_t mrdsl, bool digest, struct st_result *r,
		     char *err, size_t errlen)
{
	struct st_exchange ex;
	struct pdu req, rsp;
	uint32_t ttt = 0x10, statsn = 7;
	size_t off = 0;
	int step;

	ck_assert_int_eq(st_exchange_start(&ex, 0x77, 10, statsn, 10, 20, &req), 0);
	do {
		size_t n = len - off > mrdsl ? mrdsl : len - off;
		bool last = off + n == len;
		rsp = text_rsp(0x77, last ? ISCSI_FLAG_FINAL : 0, last ? ISCSI_RESERVED_TAG : ++ttt, statsn++,
			       answer + off, n);
		off += n;
		step = st_exchange_step(&ex, &rsp, &req, r);
		if (step == ST_STEP_SEND && digest)
			st_exchange_digest(&ex);
	} while (step == ST_STEP_SEND && off < len);
	snprintf(err, errlen, "%s", st_exchange_error(&ex));
	st_exchange_free(&ex);
	return step;
}

/* Parsing what has come while the next part is on its way gives what
 * parsing it all at the end gives, wherever the parts are cut: the same
 * targets, or the same error at the same byte. */
START_TEST(test_exchange_digest_same)
{
	static const char good[] =
		"TargetName=iqn.2024-01.org.example:a\0"
		"TargetAddress=192.0.2.1:3260,1\0"
		"TargetAlias=disk a\0"
		"TargetName=iqn.2024-01.org.example:b\0"
		"TargetAddress=192.0.2.1:3260,1\0"
		"TargetAddress=[2001:db8::1]:3260,2\0"
		"TargetName=iqn.2024-01.org.example:a\0"
		"TargetAddress=192.0.2.9:3261,1\0"
		"TargetName=iqn.2024-01.org.example:c\0";
	static const char bad_name[] =
		"TargetName=iqn.2024-01.org.example:a\0"
		"TargetAddress=192.0.2.1:3260,1\0"
		"TargetName=iqn.2024-01.org.example:../b\0"
		"TargetAddress=192.0.2.1:3260,1\0";
	static const char bad_pair[] =
		"TargetName=iqn.2024-01.org.example:a\0"
		"TargetAddress=192.0.2.1:3260,1\0"
		"\0"
		"TargetName=iqn.2024-01.org.example:b\0";
	static const char bad_addr[] =
		"TargetName=iqn.2024-01.org.example:a\0"
		"TargetAddress=192.0.2.1:3260,1\0"
		"TargetName=iqn.2024-01.org.example:b\0"
		"TargetAddress=192.0.2.1:0,1\0";
	/* n: targets found, -1: the response fails. An invalid name or
	 * address is skipped, the others kept; a malformed pair fails all. */
	const struct { const char *s; size_t len; int n; } cases[] = {
		{ good, sizeof(good) - 1, 3 },
		{ bad_name, sizeof(bad_name) - 1, 1 },
		{ bad_pair, sizeof(bad_pair) - 1, -1 },
		{ bad_addr, sizeof(bad_addr) - 1, 1 },
	};

	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
		for (size_t m = 1; m <= cases[c].len; m++) {
			struct st_result r1, r2;
			char e1[ST_ERR_MAX], e2[ST_ERR_MAX];
			int s1 = run_split(cases[c].s, cases[c].len, m, false, &r1, e1, sizeof(e1));
			int s2 = run_split(cases[c].s, cases[c].len, m, true, &r2, e2, sizeof(e2));
			ck_assert_msg(s1 == s2, "case %zu cut %zu: %d / %d", c, m, s1, s2);
			ck_assert_msg(strcmp(e1, e2) == 0, "case %zu cut %zu: \"%s\" / \"%s\"", c, m, e1, e2);
			if (cases[c].n >= 0)
				ck_assert_int_eq(s1, ST_STEP_DONE);
			else
				ck_assert_int_lt(s1, 0);
			if (s1 != ST_STEP_DONE)
				continue;
			ck_assert_uint_eq(r1.n, (size_t)cases[c].n);
			ck_assert_uint_eq(r2.n, r1.n);
			ck_assert_uint_eq(r1.n_skipped, c == 0 ? 0 : c == 1 ? 1 : 2);
			ck_assert_uint_eq(r2.n_skipped, r1.n_skipped);
			for (size_t i = 0; i < r1.n_skipped; i++)
				ck_assert_str_eq(r1.skipped[i], r2.skipped[i]);
			for (size_t i = 0; i < r1.n; i++) {
				ck_assert_str_eq(r1.targets[i].name, r2.targets[i].name);
				ck_assert_uint_eq(r1.targets[i].n_portals, r2.targets[i].n_portals);
				for (size_t p = 0; p < r1.targets[i].n_portals; p++)
					ck_assert(portal_equal(&r1.targets[i].portals[p], &r2.targets[i].portals[p]));
			}
			if (c == 0) {
				ck_assert_uint_eq(r2.targets[0].n_portals, 2);
				ck_assert_uint_eq(r2.targets[1].n_portals, 2);
				ck_assert_uint_eq(r2.targets[2].n_portals, 0);
			}
			st_result_free(&r1);
			st_result_free(&r2);
		}
}
END_TEST

START_TEST(test_exchange_tgtd_split)
{
	static const char answer[] =
		"TargetName=iqn.2024-01.org.example.bench:target00001\0"
		"TargetAddress=127.0.0.1:3260,1\0"
		"TargetName=iqn.2024-01.org.example.bench:target00002\0"
		"TargetAddress=127.0.0.1:3260,1\0"
		"TargetName=iqn.2024-01.org.example.bench:target00003\0"
		"TargetAddress=127.0.0.1:3260,1\0";
	const size_t len = sizeof(answer) - 1;
	/* 40 cuts inside names and addresses; 53 ends the first part on a
	 * pair's NUL (complete text, no C bit needed) and cuts the others;
	 * 1 makes every byte a PDU. */
	static const size_t mrdsl[] = { 40, 53, 7, 1 };

	for (size_t m = 0; m < sizeof(mrdsl) / sizeof(mrdsl[0]); m++) {
		struct st_exchange ex;
		struct pdu req, rsp;
		struct st_result r;
		uint32_t ttt = 0x10, statsn = 7;
		size_t off = 0;
		int step;

		ck_assert_int_eq(st_exchange_start(&ex, 0x77, 10, statsn, 10, 20, &req), 0);
		do {
			size_t n = len - off > mrdsl[m] ? mrdsl[m] : len - off;
			bool last = off + n == len;
			rsp = text_rsp(0x77, last ? ISCSI_FLAG_FINAL : 0, last ? ISCSI_RESERVED_TAG : ++ttt, statsn++,
				       answer + off, n);
			off += n;
			step = st_exchange_step(&ex, &rsp, &req, &r);
			if (!last) {
				ck_assert_int_eq(step, ST_STEP_SEND);
				ck_assert_uint_eq(req.ttt, ttt);
				ck_assert_uint_eq(req.data_len, 0);
			}
		} while (off < len);
		ck_assert_msg(step == ST_STEP_DONE, "MRDSL %zu: %d (%s)", mrdsl[m], step, st_exchange_error(&ex));
		ck_assert_uint_eq(r.n, 3);
		for (size_t i = 0; i < 3; i++) {
			char want[64];
			snprintf(want, sizeof(want), "iqn.2024-01.org.example.bench:target%05zu", i + 1);
			ck_assert_str_eq(r.targets[i].name, want);
			ck_assert_uint_eq(r.targets[i].n_portals, 1);
			ck_assert_str_eq(r.targets[i].portals[0].host, "127.0.0.1");
			ck_assert_uint_eq(r.targets[i].portals[0].port, 3260);
			ck_assert_int_eq(r.targets[i].portals[0].tpgt, 1);
		}
		st_result_free(&r);
		st_exchange_free(&ex);
	}
}
END_TEST

START_TEST(test_exchange_window_closed)
{
	struct st_exchange ex;
	struct pdu req, rsp;
	struct st_result r;

	/* MaxCmdSN = ExpCmdSN - 1: window closed, send immediate. */
	ck_assert_int_eq(st_exchange_start(&ex, 1, 10, 0, 10, 9, &req), 0);
	ck_assert(req.immediate);
	ck_assert_uint_eq(req.cmdsn, 10);
	ck_assert_uint_eq(ex.cmdsn, 10);   /* an immediate request takes no CmdSN */
	/* The response opens it (ExpCmdSN 11, MaxCmdSN 20). */
	rsp = text_rsp(1, 0, 5, 0, NULL, 0);
	ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_SEND);
	ck_assert(!req.immediate);
	ck_assert_uint_eq(req.cmdsn, 10);
	ck_assert_uint_eq(ex.cmdsn, 11);
	st_exchange_free(&ex);
}
END_TEST

static void expect_step_fail(struct pdu *rsp, int code, const char *why)
{
	struct st_exchange ex;
	struct pdu req;
	struct st_result r;

	ck_assert_int_eq(st_exchange_start(&ex, 1, 10, 7, 10, 20, &req), 0);
	ck_assert_int_eq(st_exchange_step(&ex, rsp, &req, &r), code);
	ck_assert_msg(strstr(st_exchange_error(&ex), why) != NULL, "got \"%s\", want \"%s\"",
		      st_exchange_error(&ex), why);
	ck_assert(!ex.active);
	st_exchange_free(&ex);
}

START_TEST(test_exchange_errors)
{
	struct pdu rsp;

	rsp = text_rsp(2, ISCSI_FLAG_FINAL, ISCSI_RESERVED_TAG, 7, SEG(response));
	expect_step_fail(&rsp, -EPROTO, "unknown task tag 0x00000002");
	rsp = text_rsp(1, ISCSI_FLAG_FINAL | ISCSI_FLAG_CONTINUE, 5, 7, SEG(response));
	expect_step_fail(&rsp, -EPROTO, "both F and C");
	rsp = text_rsp(1, ISCSI_FLAG_CONTINUE, ISCSI_RESERVED_TAG, 7, SEG(response));
	expect_step_fail(&rsp, -EPROTO, "no Target Transfer Tag");
	rsp = text_rsp(1, ISCSI_FLAG_FINAL, ISCSI_RESERVED_TAG, 7, SEG("TargetName=/etc\0"));
	expect_step_fail(&rsp, -EPROTO, "invalid TargetName");
	rsp = text_rsp(1, ISCSI_FLAG_FINAL, ISCSI_RESERVED_TAG, 7, SEG(response));
	rsp.opcode = ISCSI_OP_NOOP_IN;
	expect_step_fail(&rsp, -EPROTO, "unexpected PDU (opcode 0x20)");
	rsp = text_rsp(1, ISCSI_FLAG_FINAL, ISCSI_RESERVED_TAG, 7, NULL, 0);
	rsp.data_len = 5;
	expect_step_fail(&rsp, -EINVAL, "without its data");

	/* A Reject of our Text Request (the rejected BHS carries our ITT). */
	uint8_t bhs[ISCSI_BHS_LEN] = { ISCSI_OP_TEXT_REQ, ISCSI_FLAG_FINAL };
	bhs[19] = 1;
	memset(&rsp, 0, sizeof(rsp));
	rsp.opcode = ISCSI_OP_REJECT;
	rsp.itt = ISCSI_RESERVED_TAG;
	rsp.reject_reason = ISCSI_REJECT_CMD_NOT_SUPPORTED;
	rsp.data = bhs;
	rsp.data_len = sizeof(bhs);
	expect_step_fail(&rsp, -EPROTO, "rejected the SendTargets request (reason 0x05)");

	/* A Reject of some other task is not ours. */
	struct st_exchange ex;
	struct pdu req;
	struct st_result r;
	bhs[19] = 9;
	ck_assert_int_eq(st_exchange_start(&ex, 1, 10, 7, 10, 20, &req), 0);
	ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_IGNORED);
	ck_assert(ex.active);
	bhs[0] = ISCSI_OP_NOOP_OUT;
	bhs[19] = 1;
	ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_IGNORED);
	st_exchange_free(&ex);
}
END_TEST

/* One oddly named target must not cost the others (open-iscsi records
 * them all): an invalid TargetName is skipped with the TargetAddresses
 * after it, an invalid TargetAddress alone, a target left with no valid
 * address as a whole; each is noted, escaped and bounded. (Control
 * characters never get this far: the text itself is malformed, see
 * test_parse_hostile.) */
static const char mixed[] =
	"TargetName=iqn.2024-01.org.example:disk1\0"
	"TargetAddress=192.0.2.1:3260,1\0"
	"TargetName=IQN.2024-01.ORG.EXAMPLE:UPPER\0"
	"TargetAddress=192.0.2.1:3260,1\0"
	"TargetName=iqn.2024-01.org.example:has space\0"
	"TargetName=iqn.2024-01.org.example:a@b\0"
	"TargetName=iqn.2024-01.org.example:caf\xc3\xa9\0"
	"TargetName=iqn.2024-01.org.example:q\"\\\0"
	"TargetAddress=192.0.2.9:3260,1\0"
	"TargetName=iqn.2024-01.org.example:../../tmp/evil\0"
	"TargetName=iqn.2024-01.org.example:disk2\0"
	"TargetAddress=192.0.2.1:0,1\0"
	"TargetAddress=192.0.2.2:3260,1\0"
	"TargetName=iqn.2024-01.org.example:noaddr\0"
	"TargetAddress=;rm -rf /\0"
	"TargetName=iqn.2024-01.org.example:disk3\0";

static void check_mixed(const struct st_result *r)
{
	ck_assert_uint_eq(r->n, 3);
	ck_assert_str_eq(r->targets[0].name, "iqn.2024-01.org.example:disk1");
	ck_assert_str_eq(r->targets[1].name, "iqn.2024-01.org.example:disk2");
	ck_assert_uint_eq(r->targets[1].n_portals, 1);
	ck_assert_str_eq(r->targets[1].portals[0].host, "192.0.2.2");
	ck_assert_str_eq(r->targets[2].name, "iqn.2024-01.org.example:disk3");
	ck_assert_uint_eq(r->targets[2].n_portals, 0);
	/* UPPER, space, @, UTF-8, quote, "..", disk2's port 0, noaddr's
	 * address, then noaddr itself */
	ck_assert_uint_eq(r->n_skipped, 9);
	ck_assert_msg(strstr(r->skipped[0], "TargetName \"IQN.2024-01.ORG.EXAMPLE:UPPER\": ") != NULL, "%s",
		      r->skipped[0]);
	ck_assert_msg(strstr(r->skipped[1], "has space") != NULL, "%s", r->skipped[1]);
	ck_assert_msg(strstr(r->skipped[3], "caf\\xc3\\xa9") != NULL, "%s", r->skipped[3]);
	ck_assert_msg(strstr(r->skipped[4], ":q\\x22\\x5c\"") != NULL, "%s", r->skipped[4]);
	ck_assert_msg(strstr(r->skipped[6], "TargetAddress \"192.0.2.1:0,1\" of iqn.2024-01.org.example:disk2")
		      != NULL, "%s", r->skipped[6]);
	for (size_t i = 0; i < ST_SKIP_NOTES; i++)
		for (const char *p = r->skipped[i]; *p; p++)
			ck_assert_msg((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
				      "unprintable byte in \"%s\"", r->skipped[i]);
}

START_TEST(test_parse_skip_invalid)
{
	struct st_result r;
	char err[ST_ERR_MAX] = "";

	ck_assert_int_eq(sendtargets_parse(SEG(mixed), &r, err, sizeof(err)), 0);
	check_mixed(&r);
	st_result_free(&r);

	/* More than ST_SKIP_NOTES: counted, notes bounded; a name too long
	 * for any buffer is shown cut. */
	static char many[64 * 1024];
	size_t off = 0;
	for (int i = 0; i < 40; i++)
		off += (size_t)sprintf(many + off, "TargetName=bad name %d", i) + 1;
	off += (size_t)sprintf(many + off, "TargetName=iqn.2024-01.org.example:") ;
	memset(many + off, 'z', 1000);
	off += 1000;
	many[off++] = '\0';
	off += (size_t)sprintf(many + off, "TargetName=iqn.2024-01.org.example:ok") + 1;
	ck_assert_int_eq(sendtargets_parse((const uint8_t *)many, off, &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.n_skipped, 41);
	ck_assert_ptr_nonnull(strstr(r.skipped[7], "\"bad name 7\""));
	st_result_free(&r);
	off = 0;
	off += (size_t)sprintf(many + off, "TargetName=iqn.2024-01.org.example:") ;
	memset(many + off, 'z', 1000);
	off += 1000;
	many[off++] = '\0';
	off += (size_t)sprintf(many + off, "TargetName=iqn.2024-01.org.example:ok") + 1;
	ck_assert_int_eq(sendtargets_parse((const uint8_t *)many, off, &r, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.n_skipped, 1);
	ck_assert_msg(strstr(r.skipped[0], "zzz...\": 1024 bytes, too long") != NULL, "%s", r.skipped[0]);
	ck_assert_uint_lt(strlen(r.skipped[0]), 160);
	st_result_free(&r);

	/* Nothing valid: the response fails, saying why. */
	expect_fail(SEG("TargetName=IQN.2024-01.ORG.EXAMPLE:UPPER\0TargetName=iqn.2024-01.org.example:a b\0"),
		    -EPROTO, "invalid TargetName: iSCSI name must start with \"iqn.\", \"eui.\" or \"naa.\" (and 1 more");
	expect_fail(SEG("TargetName=iqn.2001-04.com.example:a\0TargetAddress=192.0.2.1:0,1\0"), -EPROTO,
		    "iqn.2001-04.com.example:a has an invalid TargetAddress: invalid port");
	/* still a protocol error, whatever came before */
	expect_fail(SEG("TargetAddress=192.0.2.1:3260,1\0TargetName=iqn.2001-04.com.example:a\0"),
		    -EPROTO, "before any TargetName");
	expect_fail(SEG("TargetName=iqn.2001-04.com.example:a\0TargetName=bad\0garbage\0"), -EPROTO,
		    "malformed");
}
END_TEST

/* The same through the exchange, in pieces digested as they come and
 * the last parsed at the final step. */
START_TEST(test_exchange_skip_invalid)
{
	for (size_t cut = 1; cut < sizeof(mixed) - 1; cut += 37) {
		struct st_exchange ex;
		struct pdu req, rsp;
		struct st_result r;

		ck_assert_int_eq(st_exchange_start(&ex, 1, 10, 7, 10, 20, &req), 0);
		rsp = text_rsp(1, ISCSI_FLAG_CONTINUE, 5, 7, mixed, cut);
		ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_SEND);
		st_exchange_digest(&ex);
		rsp = text_rsp(1, ISCSI_FLAG_FINAL, ISCSI_RESERVED_TAG, 8, mixed + cut, sizeof(mixed) - 1 - cut);
		ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_DONE);
		check_mixed(&r);
		st_result_free(&r);
		st_exchange_free(&ex);
	}
}
END_TEST

START_TEST(test_exchange_limits)
{
	struct st_exchange ex;
	struct pdu req, rsp;
	struct st_result r;
	int k = 0;

	/* A target that never sets F=1 is cut off after ST_MAX_ROUNDS. */
	ck_assert_int_eq(st_exchange_start(&ex, 1, 10, 7, 10, 20, &req), 0);
	rsp = text_rsp(1, 0, 5, 7, NULL, 0);
	for (unsigned i = 0; i < ST_MAX_ROUNDS; i++)
		ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_SEND);
	k = st_exchange_step(&ex, &rsp, &req, &r);
	ck_assert_int_eq(k, -E2BIG);
	ck_assert_ptr_nonnull(strstr(st_exchange_error(&ex), "more than 4096 PDUs"));
	st_exchange_free(&ex);

	/* Nor can it send more than ST_MAX_BYTES. */
	static char chunk[65536];
	memset(chunk, 'a', sizeof(chunk));
	ck_assert_int_eq(st_exchange_start(&ex, 1, 10, 7, 10, 20, &req), 0);
	rsp = text_rsp(1, ISCSI_FLAG_CONTINUE, 5, 7, chunk, sizeof(chunk));
	for (unsigned i = 0; i < ST_MAX_BYTES / sizeof(chunk); i++)
		ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_SEND);
	ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), -E2BIG);
	ck_assert_ptr_nonnull(strstr(st_exchange_error(&ex), "larger than"));
	st_exchange_free(&ex);
}
END_TEST

/* Through the real PDU codec: what the exchange asks to send encodes and
 * decodes to itself, and a Text Response read from wire bytes drives it. */
START_TEST(test_exchange_wire)
{
	struct pdu_opts o = { .max_data_len = 8192 };
	struct st_exchange ex;
	struct pdu req, back, rsp;
	struct st_result r;
	uint8_t wire[8192 + 128];
	size_t len, used;

	ck_assert_int_eq(st_exchange_start(&ex, 0x42, 3, 2, 3, 10, &req), 0);
	ck_assert_int_eq(pdu_encode(&req, &o, wire, sizeof(wire), &len), 0);
	ck_assert_uint_eq(len, ISCSI_BHS_LEN + 16);
	ck_assert_uint_eq(wire[0], ISCSI_OP_TEXT_REQ);
	ck_assert_uint_eq(wire[1], 0x80);   /* F=1, C=0 */
	ck_assert_mem_eq(wire + ISCSI_BHS_LEN, "SendTargets=All\0", 16);
	ck_assert_int_eq(pdu_decode(wire, len, PDU_DIR_TO_TARGET, &o, &back, &used, NULL), 0);
	ck_assert_uint_eq(back.itt, 0x42);
	ck_assert_uint_eq(back.ttt, ISCSI_RESERVED_TAG);
	ck_assert_uint_eq(back.cmdsn, 3);
	ck_assert_uint_eq(back.exp_statsn, 2);

	struct pdu t;
	memset(&t, 0, sizeof(t));
	t.opcode = ISCSI_OP_TEXT_RSP;
	t.flags = ISCSI_FLAG_FINAL;
	t.itt = 0x42;
	t.ttt = ISCSI_RESERVED_TAG;
	t.statsn = 2;
	t.exp_cmdsn = 4;
	t.max_cmdsn = 11;
	t.data = (const uint8_t *)response;
	t.data_len = sizeof(response) - 1;
	ck_assert_int_eq(pdu_encode(&t, &o, wire, sizeof(wire), &len), 0);
	ck_assert_int_eq(pdu_decode(wire, len, PDU_DIR_TO_INITIATOR, &o, &rsp, &used, NULL), 0);
	ck_assert_int_eq(st_exchange_step(&ex, &rsp, &req, &r), ST_STEP_DONE);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_uint_eq(ex.exp_statsn, 3);
	ck_assert_uint_eq(ex.cmdsn, 4);
	ck_assert_uint_eq(ex.max_cmdsn, 11);
	st_result_free(&r);
	st_exchange_free(&ex);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sendtargets");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_parse_response);
	tcase_add_test(tc, test_parse_tolerance);
	tcase_add_test(tc, test_parse_many_renamed);
	tcase_add_test(tc, test_parse_hostile);
	tcase_add_test(tc, test_parse_skip_invalid);
	tcase_add_test(tc, test_exchange_skip_invalid);
	tcase_add_test(tc, test_parse_limits);
	tcase_add_test(tc, test_build_request);
	tcase_add_test(tc, test_exchange_single);
	tcase_add_test(tc, test_exchange_continue);
	tcase_add_test(tc, test_exchange_tgtd_split);
	tcase_add_test(tc, test_exchange_digest_same);
	tcase_add_test(tc, test_exchange_window_closed);
	tcase_add_test(tc, test_exchange_errors);
	tcase_add_test(tc, test_exchange_limits);
	tcase_add_test(tc, test_exchange_wire);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
