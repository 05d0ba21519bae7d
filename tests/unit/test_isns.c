/* The iSNSP codec (libinitiator/isns.c, isns_result.c): requests as
 * RFC 4171 lays them out, and every way a server's bytes can be wrong. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isns.h"

#define T_A "iqn.2024-01.org.example.tgt:a"
#define T_B "iqn.2024-01.org.example.tgt:b"
#define INAME "iqn.2024-01.org.example:init"

static uint8_t mem[1 << 16];
static struct isns_buf b;

static void start(uint32_t status, bool response)
{
	isns_buf_init(&b, mem, sizeof(mem));
	if (response)
		isns_put_raw32(&b, status);
}

static void put_ip4(uint32_t tag, const char *ip)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, ip, &sin.sin_addr);
	isns_put_addr(&b, tag, (struct sockaddr *)&sin);
}

static void put_pg(const char *name, const char *ip, uint32_t port, int tag)
{
	isns_put_str(&b, ISNS_TAG_PG_ISCSI_NAME, name);
	put_ip4(ISNS_TAG_PG_PORTAL_IP, ip);
	isns_put_u32(&b, ISNS_TAG_PG_PORTAL_PORT, port);
	if (tag < 0)
		isns_put_nil(&b, ISNS_TAG_PG_TAG);
	else
		isns_put_u32(&b, ISNS_TAG_PG_TAG, (uint32_t)tag);
}

/* The payload in b as one PDU. */
static size_t frame(uint16_t function, uint16_t xid, uint8_t *out)
{
	isns_pdu_header(function, ISNS_F_SERVER, xid, b.len, out);
	memcpy(out + ISNS_HDR_LEN, b.p, b.len);
	return ISNS_HDR_LEN + b.len;
}

static int decode(uint16_t function, struct isns_msg *m, char *err)
{
	static uint8_t pdu[sizeof(mem) + ISNS_HDR_LEN];
	size_t n = frame(function, 7, pdu);
	return isns_msg_decode(pdu, n, NULL, m, err, ISNS_ERR_MAX);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

START_TEST(test_query_request_layout)
{
	uint8_t buf[1024];
	struct isns_buf q;
	struct isns_msg m;
	char err[ISNS_ERR_MAX], s[256];

	isns_buf_init(&q, buf, sizeof(buf));
	ck_assert_int_eq(isns_build_query(&q, INAME, NULL), 0);
	/* Source, key (Node Type = target), Delimiter, 8 attributes asked for */
	b = q;
	ck_assert_int_eq(decode(ISNS_DEV_ATTR_QRY, &m, err), 0);
	ck_assert_uint_eq(m.n_attrs, 11);
	ck_assert_uint_eq(m.attrs[0].tag, ISNS_TAG_ISCSI_NAME);
	ck_assert_int_eq(isns_attr_str(&m.attrs[0], s, sizeof(s)), 0);
	ck_assert_str_eq(s, INAME);
	ck_assert_uint_eq(m.attrs[0].len % 4, 0);
	ck_assert_uint_eq(m.attrs[1].tag, ISNS_TAG_ISCSI_NODE_TYPE);
	ck_assert_uint_eq(be32(m.attrs[1].val), ISNS_NODE_TARGET);
	ck_assert_uint_eq(m.delim, 2);
	ck_assert_uint_eq(m.attrs[10].tag, ISNS_TAG_PG_TAG);
	ck_assert_uint_eq(m.attrs[10].len, 0);
	isns_msg_free(&m);
	/* a name too long for iSCSI is refused before anything is sent */
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	isns_buf_init(&q, buf, sizeof(buf));
	ck_assert_int_eq(isns_build_query(&q, longname, NULL), -EINVAL);
	isns_buf_init(&q, buf, 16);
	ck_assert_int_eq(isns_build_query(&q, INAME, NULL), -ENOBUFS);
}
END_TEST

START_TEST(test_reg_request_layout)
{
	uint8_t buf[1024];
	struct isns_buf q;
	struct isns_msg m;
	char err[ISNS_ERR_MAX], s[256];
	struct sockaddr_in sin = { .sin_family = AF_INET };
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	struct isns_reg r = { .iname = INAME, .eid = "host-eid", .portal = (struct sockaddr *)&sin,
			      .portal_port = 40000, .scn_port = 40000 };

	isns_buf_init(&q, buf, sizeof(buf));
	ck_assert_int_eq(isns_build_reg(&q, &r), 0);
	b = q;
	ck_assert_int_eq(decode(ISNS_DEV_ATTR_REG, &m, err), 0);
	/* source, key EID, delimiter, EID, protocol, portal ip/port, SCN port, name, type */
	ck_assert_uint_eq(m.n_attrs, 10);
	ck_assert_uint_eq(m.delim, 2);
	ck_assert_uint_eq(m.attrs[3].tag, ISNS_TAG_EID);
	ck_assert_uint_eq(m.attrs[4].tag, ISNS_TAG_ENTITY_PROTOCOL);
	ck_assert_uint_eq(be32(m.attrs[4].val), ISNS_ENTITY_PROTOCOL_ISCSI);
	ck_assert_uint_eq(m.attrs[5].tag, ISNS_TAG_PORTAL_IP);
	int fam;
	ck_assert_int_eq(isns_attr_addr(&m.attrs[5], s, sizeof(s), &fam), 0);
	ck_assert_str_eq(s, "192.0.2.7");
	ck_assert_int_eq(fam, AF_INET);
	ck_assert_uint_eq(m.attrs[7].tag, ISNS_TAG_SCN_PORT);
	ck_assert_uint_eq(be32(m.attrs[7].val), 40000);
	ck_assert_uint_eq(m.attrs[9].tag, ISNS_TAG_ISCSI_NODE_TYPE);
	ck_assert_uint_eq(be32(m.attrs[9].val), ISNS_NODE_INITIATOR);
	isns_msg_free(&m);

	isns_buf_init(&q, buf, sizeof(buf));
	ck_assert_int_eq(isns_build_dereg(&q, INAME, "host-eid"), 0);
	isns_buf_init(&q, buf, sizeof(buf));
	ck_assert_int_eq(isns_build_scn_reg(&q, INAME, ISNS_SCN_OBJECT_ADDED), 0);
	b = q;
	ck_assert_int_eq(decode(ISNS_SCN_REG, &m, err), 0);
	ck_assert_uint_eq(m.n_attrs, 4);
	ck_assert_uint_eq(m.attrs[3].tag, ISNS_TAG_ISCSI_SCN_BITMAP);
	isns_msg_free(&m);
}
END_TEST

START_TEST(test_query_result)
{
	struct isns_msg m;
	struct st_result r;
	struct isns_query_stats st;
	char err[ISNS_ERR_MAX] = "";

	start(0, true);
	isns_put_u32(&b, ISNS_TAG_ISCSI_NODE_TYPE, ISNS_NODE_TARGET);
	isns_put_nil(&b, ISNS_TAG_DELIMITER);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, T_A);
	isns_put_u32(&b, ISNS_TAG_ISCSI_NODE_TYPE, ISNS_NODE_TARGET);
	put_ip4(ISNS_TAG_PORTAL_IP, "192.0.2.1");
	isns_put_u32(&b, ISNS_TAG_PORTAL_PORT, 3260);
	put_pg(T_A, "192.0.2.1", 3260, 1);
	put_pg(T_A, "192.0.2.2", 3261, 2);
	put_pg(T_A, "192.0.2.3", 3260, -1);             /* NULL PGT: not for this node */
	put_pg(T_A, "192.0.2.4", 3260 | ISNS_PORT_UDP, 1); /* UDP: no iSCSI portal */
	put_pg(T_B, "0.0.0.0", 3260, 1);                /* nowhere to connect */
	put_pg(T_B, "198.51.100.9", 3260, 7);
	ck_assert_int_eq(decode(ISNS_DEV_ATTR_QRY | ISNS_RSP, &m, err), 0);
	ck_assert_uint_eq(m.status, 0);
	ck_assert_int_eq(isns_query_result(&m, &r, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.pgs, 6);
	ck_assert_uint_eq(st.skipped, 3);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_str_eq(r.targets[0].name, T_A);
	ck_assert_uint_eq(r.targets[0].n_portals, 2);
	ck_assert_str_eq(r.targets[0].portals[1].host, "192.0.2.2");
	ck_assert_uint_eq(r.targets[0].portals[1].port, 3261);
	ck_assert_int_eq(r.targets[0].portals[1].tpgt, 2);
	ck_assert_str_eq(r.targets[1].name, T_B);
	ck_assert_int_eq(r.targets[1].portals[0].tpgt, 7);
	st_result_free(&r);
	isns_msg_free(&m);
}
END_TEST

/* A target whose name we reject is skipped and noted (escaped, once
 * for its several Portal Groups); the others are used, as with
 * SendTargets. Only an answer with no valid target fails. */
START_TEST(test_query_result_invalid_name)
{
	struct isns_msg m;
	struct st_result r;
	struct isns_query_stats st;
	char err[ISNS_ERR_MAX] = "";

	start(0, true);
	isns_put_nil(&b, ISNS_TAG_DELIMITER);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, "IQN.2024-01.ORG.EXAMPLE:UPPER");
	isns_put_u32(&b, ISNS_TAG_ISCSI_NODE_TYPE, ISNS_NODE_TARGET);
	put_pg("IQN.2024-01.ORG.EXAMPLE:UPPER", "192.0.2.1", 3260, 1);
	put_pg("IQN.2024-01.ORG.EXAMPLE:UPPER", "192.0.2.2", 3260, 1);
	put_pg(T_A, "192.0.2.1", 3260, 1);
	put_pg("iqn.2024-01.org.example:caf\xc3\xa9", "192.0.2.1", 3260, 1);
	ck_assert_int_eq(decode(ISNS_DEV_ATTR_QRY | ISNS_RSP, &m, err), 0);
	ck_assert_int_eq(isns_query_result(&m, &r, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.targets[0].name, T_A);
	ck_assert_uint_eq(st.skipped, 3);
	ck_assert_uint_eq(r.n_skipped, 2);
	ck_assert_msg(strstr(r.skipped[0], "Portal Group of \"IQN.2024-01.ORG.EXAMPLE:UPPER\": not a valid iSCSI name")
		      != NULL, "%s", r.skipped[0]);
	ck_assert_msg(strstr(r.skipped[1], "caf\\xc3\\xa9") != NULL, "%s", r.skipped[1]);
	st_result_free(&r);
	isns_msg_free(&m);

	/* A malformed Portal Group of such a name: the error shows it escaped. */
	start(0, true);
	isns_put_nil(&b, ISNS_TAG_DELIMITER);
	isns_put_str(&b, ISNS_TAG_PG_ISCSI_NAME, "iqn.2024-01.org.example:\x1b[2J");
	put_ip4(ISNS_TAG_PG_PORTAL_IP, "192.0.2.1");
	ck_assert_int_eq(decode(ISNS_DEV_ATTR_QRY | ISNS_RSP, &m, err), 0);
	ck_assert_int_eq(isns_query_result(&m, &r, NULL, err, sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, "Portal Group of iqn.2024-01.org.example:\\x1b[2J without") != NULL, "%s", err);
	isns_msg_free(&m);
}
END_TEST

START_TEST(test_query_result_not_targets)
{
	struct isns_msg m;
	struct st_result r;
	char err[ISNS_ERR_MAX] = "";

	/* a server that answers with an initiator's portal group too */
	start(0, true);
	isns_put_nil(&b, ISNS_TAG_DELIMITER);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, "iqn.2024-01.org.example:other-initiator");
	isns_put_u32(&b, ISNS_TAG_ISCSI_NODE_TYPE, ISNS_NODE_INITIATOR);
	put_pg("iqn.2024-01.org.example:other-initiator", "192.0.2.9", 3260, 1);
	put_pg(T_A, "192.0.2.1", 3260, 1);
	ck_assert_int_eq(decode(ISNS_DEV_ATTR_QRY | ISNS_RSP, &m, err), 0);
	ck_assert_int_eq(isns_query_result(&m, &r, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_str_eq(r.targets[0].name, T_A);
	st_result_free(&r);
	isns_msg_free(&m);
}
END_TEST

/* A response whose operating attributes are built by fn must be refused
 * with a message containing want. */
static void expect_bad_result(void (*fn)(void), const char *want)
{
	struct isns_msg m;
	struct st_result r;
	char err[ISNS_ERR_MAX] = "";

	start(0, true);
	isns_put_nil(&b, ISNS_TAG_DELIMITER);
	fn();
	ck_assert_int_eq(decode(ISNS_DEV_ATTR_QRY | ISNS_RSP, &m, err), 0);
	ck_assert_int_eq(isns_query_result(&m, &r, NULL, err, sizeof(err)), -EPROTO);
	ck_assert_msg(strstr(err, want), "'%s' lacks '%s'", err, want);
	isns_msg_free(&m);
}

static void bad_name(void)
{
	put_pg("not an iscsi name", "192.0.2.1", 3260, 1);
}

static void bad_addr_len(void)
{
	isns_put_str(&b, ISNS_TAG_PG_ISCSI_NAME, T_A);
	isns_put_u32(&b, ISNS_TAG_PG_PORTAL_IP, 0x7f000001);
}

static void addr_without_pg(void)
{
	put_ip4(ISNS_TAG_PG_PORTAL_IP, "192.0.2.1");
}

static void pg_without_port(void)
{
	isns_put_str(&b, ISNS_TAG_PG_ISCSI_NAME, T_A);
	put_ip4(ISNS_TAG_PG_PORTAL_IP, "192.0.2.1");
	isns_put_u32(&b, ISNS_TAG_PG_TAG, 1);
}

static void pg_tag_too_big(void)
{
	put_pg(T_A, "192.0.2.1", 3260, 70000);
}

static void unterminated_name(void)
{
	/* 4 bytes of name and no NUL */
	isns_put_raw32(&b, ISNS_TAG_PG_ISCSI_NAME);
	isns_put_raw32(&b, 4);
	isns_put_raw32(&b, 0x69716e2e);
}

static void second_delimiter(void)
{
	isns_put_nil(&b, ISNS_TAG_DELIMITER);
}

START_TEST(test_query_result_malformed)
{
	expect_bad_result(bad_name, "not a valid iSCSI name");
	expect_bad_result(bad_addr_len, "not 16 bytes");
	expect_bad_result(addr_without_pg, "outside a Portal Group");
	expect_bad_result(pg_without_port, "without its portal address and port");
	expect_bad_result(pg_tag_too_big, "malformed Portal Group Tag");
	expect_bad_result(unterminated_name, "not a NUL-terminated string");
	expect_bad_result(second_delimiter, "second Delimiter");
}
END_TEST

/* Raw bytes as one message: the decoder must refuse them with err
 * containing want. */
static void expect_bad_bytes(const uint8_t *p, size_t n, const struct isns_limits *lim, int rc, const char *want)
{
	struct isns_msg m;
	char err[ISNS_ERR_MAX] = "";

	ck_assert_int_eq(isns_msg_decode(p, n, lim, &m, err, sizeof(err)), rc);
	ck_assert_msg(strstr(err, want), "'%s' lacks '%s'", err, want);
}

START_TEST(test_framing_errors)
{
	uint8_t pdu[256];
	size_t n;

	start(0, true);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, T_A);
	n = frame(ISNS_DEV_ATTR_QRY | ISNS_RSP, 1, pdu);

	uint8_t x[256];
	memcpy(x, pdu, n);
	x[1] = 2;                                       /* version 2 */
	expect_bad_bytes(x, n, NULL, -EPROTO, "version 2");
	memcpy(x, pdu, n);
	x[6] |= ISNS_F_AUTH >> 8;                       /* authentication block */
	expect_bad_bytes(x, n, NULL, -EPROTO, "authentication block");
	memcpy(x, pdu, n);
	x[6] &= (uint8_t)~(ISNS_F_FIRST >> 8);          /* no FIRST */
	expect_bad_bytes(x, n, NULL, -EPROTO, "starts no message");
	memcpy(x, pdu, n);
	x[11] = 3;                                      /* first PDU, sequence 3 */
	expect_bad_bytes(x, n, NULL, -EPROTO, "sequence 3, not 0");
	/* truncated: fewer bytes than the PDU Length says */
	expect_bad_bytes(pdu, n - 4, NULL, -EPROTO, "truncated");
	/* attribute length not a multiple of 4 */
	memcpy(x, pdu, n);
	x[ISNS_HDR_LEN + 4 + 7] = 30;
	expect_bad_bytes(x, n, NULL, -EPROTO, "not a multiple of 4");
	/* attribute running past the end */
	memcpy(x, pdu, n);
	x[ISNS_HDR_LEN + 4 + 7] = 200;
	expect_bad_bytes(x, n, NULL, -EPROTO, "runs past the end");
	/* an attribute header cut short: PDU Length 4 bytes into it */
	memcpy(x, pdu, n);
	x[5] = 8;
	expect_bad_bytes(x, ISNS_HDR_LEN + 8, NULL, -EPROTO, "inside an attribute header");
	/* a response with no room for its status */
	uint8_t empty[ISNS_HDR_LEN];
	isns_pdu_header(ISNS_DEV_ATTR_QRY | ISNS_RSP, 0, 1, 0, empty);
	expect_bad_bytes(empty, sizeof(empty), NULL, -EPROTO, "without a status");
	/* a Delimiter with a value */
	start(0, true);
	isns_put_u32(&b, ISNS_TAG_DELIMITER, 1);
	n = frame(ISNS_DEV_ATTR_QRY | ISNS_RSP, 1, pdu);
	expect_bad_bytes(pdu, n, NULL, -EPROTO, "Delimiter with 4 bytes");
}
END_TEST

/* A message in several PDUs: the pieces of the payload in order. */
static size_t split(uint16_t function, uint16_t xid, const uint8_t *payload, size_t len, size_t piece,
		    uint8_t *out)
{
	size_t pos = 0, o = 0;
	uint16_t seq = 0;
	do {
		size_t k = len - pos < piece ? len - pos : piece;
		uint16_t flags = ISNS_F_SERVER | (pos == 0 ? ISNS_F_FIRST : 0) | (pos + k == len ? ISNS_F_LAST : 0);
		out[o] = 0;
		out[o + 1] = 1;
		out[o + 2] = (uint8_t)(function >> 8);
		out[o + 3] = (uint8_t)function;
		out[o + 4] = (uint8_t)(k >> 8);
		out[o + 5] = (uint8_t)k;
		out[o + 6] = (uint8_t)(flags >> 8);
		out[o + 7] = (uint8_t)flags;
		out[o + 8] = (uint8_t)(xid >> 8);
		out[o + 9] = (uint8_t)xid;
		out[o + 10] = (uint8_t)(seq >> 8);
		out[o + 11] = (uint8_t)seq;
		memcpy(out + o + 12, payload + pos, k);
		o += 12 + k;
		pos += k;
		seq++;
	} while (pos < len);
	return o;
}

START_TEST(test_reassembly_and_limits)
{
	static uint8_t out[1 << 17];
	struct isns_msg m;
	struct st_result r;
	char err[ISNS_ERR_MAX] = "";

	start(0, true);
	isns_put_nil(&b, ISNS_TAG_DELIMITER);
	for (int i = 0; i < 40; i++) {
		char name[64];
		snprintf(name, sizeof(name), "iqn.2024-01.org.example.tgt:t%d", i);
		put_pg(name, "192.0.2.1", 3260, i);
	}
	/* attributes cut across PDU boundaries: 100 bytes a piece */
	size_t n = split(ISNS_DEV_ATTR_QRY | ISNS_RSP, 9, b.p, b.len, 100, out);
	ck_assert_int_eq(isns_msg_decode(out, n, NULL, &m, err, sizeof(err)), 0);
	ck_assert_int_eq(isns_query_result(&m, &r, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(r.n, 40);
	ck_assert_uint_eq(m.xid, 9);
	st_result_free(&r);
	isns_msg_free(&m);

	/* a PDU of another transaction in the middle */
	uint8_t save = out[12 + 100 + 9];
	out[12 + 100 + 9] ^= 1;
	expect_bad_bytes(out, n, NULL, -EPROTO, "inside a DevAttrQryRsp message");
	out[12 + 100 + 9] = save;
	/* out of sequence */
	out[12 + 100 + 11] = 5;
	expect_bad_bytes(out, n, NULL, -EPROTO, "sequence 1 expected");
	out[12 + 100 + 11] = 1;

	struct isns_limits lim = { .max_msg = 1000, .max_pdus = 1024, .max_attrs = 10000 };
	expect_bad_bytes(out, n, &lim, -EMSGSIZE, "larger than 1000 bytes");
	lim = (struct isns_limits){ .max_msg = 1 << 20, .max_pdus = 5, .max_attrs = 10000 };
	expect_bad_bytes(out, n, &lim, -EMSGSIZE, "more than 5 PDUs");
	lim = (struct isns_limits){ .max_msg = 1 << 20, .max_pdus = 1024, .max_attrs = 50 };
	expect_bad_bytes(out, n, &lim, -EMSGSIZE, "more than 50 attributes");

	/* a message that never ends: empty PDUs without LAST */
	static uint8_t loop[ISNS_HDR_LEN * 2000];
	for (int i = 0; i < 2000; i++) {
		uint16_t flags = ISNS_F_SERVER | (i == 0 ? ISNS_F_FIRST : 0);
		uint8_t *h = loop + i * ISNS_HDR_LEN;
		memset(h, 0, ISNS_HDR_LEN);
		h[1] = 1;
		h[2] = 0x80;
		h[3] = 2;
		h[6] = (uint8_t)(flags >> 8);
		h[9] = 1;
		h[10] = (uint8_t)(i >> 8);
		h[11] = (uint8_t)i;
	}
	expect_bad_bytes(loop, sizeof(loop), NULL, -EMSGSIZE, "more than 1024 PDUs");
}
END_TEST

START_TEST(test_rx_byte_by_byte)
{
	static uint8_t out[4096];
	struct isns_rx rx;
	struct isns_msg m;
	char err[ISNS_ERR_MAX] = "";

	start(0, true);
	isns_put_nil(&b, ISNS_TAG_DELIMITER);
	put_pg(T_A, "192.0.2.1", 3260, 1);
	size_t n = split(ISNS_DEV_ATTR_QRY | ISNS_RSP, 3, b.p, b.len, 16, out);
	isns_rx_init(&rx, NULL);
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t *dst;
		size_t want;
		ck_assert_int_eq(isns_rx_space(&rx, &dst, &want), 0);
		ck_assert_uint_gt(want, 0);
		*dst = out[i];
		r = isns_rx_commit(&rx, 1, err, sizeof(err));
		ck_assert_int_ge(r, 0);
		if (r == 1)
			ck_assert_uint_eq(i, n - 1);
	}
	ck_assert_int_eq(r, 1);
	r = isns_rx_take(&rx, &m, err, sizeof(err));
	ck_assert_msg(r == 0, "%s", err);
	ck_assert_uint_eq(m.n_attrs, 5);
	isns_msg_free(&m);
	isns_rx_free(&rx);
}
END_TEST

START_TEST(test_scn_and_answers)
{
	struct isns_msg m, a;
	struct isns_scn_event ev[2];
	size_t n = 0;
	char err[ISNS_ERR_MAX] = "", dest[256];
	uint8_t out[512];
	size_t len;

	start(0, false);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, INAME);
	isns_put_raw32(&b, ISNS_TAG_TIMESTAMP);
	isns_put_raw32(&b, 8);
	isns_put_raw32(&b, 0);
	isns_put_raw32(&b, 12345);
	isns_put_u32(&b, ISNS_TAG_ISCSI_SCN_BITMAP, ISNS_SCN_OBJECT_ADDED);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, T_A);
	isns_put_u32(&b, ISNS_TAG_ISCSI_SCN_BITMAP, ISNS_SCN_OBJECT_REMOVED);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, T_B);
	isns_put_u32(&b, ISNS_TAG_ISCSI_SCN_BITMAP, ISNS_SCN_OBJECT_UPDATED);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, T_B);
	ck_assert_int_eq(decode(ISNS_SCN, &m, err), 0);
	ck_assert_int_eq(isns_scn_parse(&m, dest, sizeof(dest), ev, 2, &n, err, sizeof(err)), 0);
	ck_assert_str_eq(dest, INAME);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(ev[0].bitmap, ISNS_SCN_OBJECT_ADDED);
	ck_assert_str_eq(ev[0].name, T_A);
	ck_assert_str_eq(ev[1].name, T_B);
	ck_assert_str_eq(isns_scn_event_str(ev[1].bitmap), "removed");

	/* the answer: SCNRsp, same transaction, status 0, the destination */
	ck_assert_int_eq(isns_build_answer(&m, ISNS_OK, out, sizeof(out), &len), 0);
	ck_assert_int_eq(isns_msg_decode(out, len, NULL, &a, err, sizeof(err)), 0);
	ck_assert_uint_eq(a.function, ISNS_SCN | ISNS_RSP);
	ck_assert_uint_eq(a.xid, 7);
	ck_assert_uint_eq(a.status, 0);
	ck_assert_uint_eq(a.n_attrs, 1);
	ck_assert_int_eq(isns_attr_str(&a.attrs[0], dest, sizeof(dest)), 0);
	ck_assert_str_eq(dest, INAME);
	isns_msg_free(&a);
	isns_msg_free(&m);

	/* an event without its node name */
	start(0, false);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, INAME);
	isns_put_u32(&b, ISNS_TAG_ISCSI_SCN_BITMAP, ISNS_SCN_OBJECT_ADDED);
	ck_assert_int_eq(decode(ISNS_SCN, &m, err), 0);
	ck_assert_int_eq(isns_scn_parse(&m, dest, sizeof(dest), ev, 2, &n, err, sizeof(err)), -EPROTO);
	isns_msg_free(&m);

	/* ESI: its attributes echoed */
	start(0, false);
	isns_put_str(&b, ISNS_TAG_EID, "host-eid");
	put_ip4(ISNS_TAG_PORTAL_IP, "192.0.2.7");
	isns_put_u32(&b, ISNS_TAG_PORTAL_PORT, 40000);
	ck_assert_int_eq(decode(ISNS_ESI, &m, err), 0);
	ck_assert_int_eq(isns_build_answer(&m, ISNS_OK, out, sizeof(out), &len), 0);
	ck_assert_int_eq(isns_msg_decode(out, len, NULL, &a, err, sizeof(err)), 0);
	ck_assert_uint_eq(a.function, ISNS_ESI | ISNS_RSP);
	ck_assert_uint_eq(a.n_attrs, 3);
	isns_msg_free(&a);
	isns_msg_free(&m);

	/* anything else: refused as not supported */
	start(0, false);
	isns_put_str(&b, ISNS_TAG_ISCSI_NAME, INAME);
	ck_assert_int_eq(decode(ISNS_DEV_ATTR_REG, &m, err), 0);
	ck_assert_int_eq(isns_build_answer(&m, ISNS_MSG_NOT_SUPPORTED, out, sizeof(out), &len), 0);
	ck_assert_int_eq(isns_msg_decode(out, len, NULL, &a, err, sizeof(err)), 0);
	ck_assert_uint_eq(a.status, ISNS_MSG_NOT_SUPPORTED);
	ck_assert_uint_eq(a.n_attrs, 0);
	isns_msg_free(&a);
	isns_msg_free(&m);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(isns_status_str(ISNS_SOURCE_UNKNOWN), "source unknown");
	ck_assert_str_eq(isns_status_str(4), "unknown status");
	ck_assert_str_eq(isns_status_str(0xffffffffu), "unknown status");
	ck_assert_str_eq(isns_function_name(ISNS_DEV_ATTR_QRY | ISNS_RSP), "DevAttrQryRsp");
	ck_assert_str_eq(isns_function_name(0x7777), "unknown function");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("isns");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_query_request_layout);
	tcase_add_test(tc, test_reg_request_layout);
	tcase_add_test(tc, test_query_result);
	tcase_add_test(tc, test_query_result_not_targets);
	tcase_add_test(tc, test_query_result_invalid_name);
	tcase_add_test(tc, test_query_result_malformed);
	tcase_add_test(tc, test_framing_errors);
	tcase_add_test(tc, test_reassembly_and_limits);
	tcase_add_test(tc, test_rx_byte_by_byte);
	tcase_add_test(tc, test_scn_and_answers);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
