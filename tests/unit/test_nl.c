/* kmod-glue/nl_codec.c: NETLINK_ISCSI byte layouts
 * (reference/kernel-iscsi-abi.md §1.2-§1.8) and the decoding of replies
 * and events. The context (nl.c) is tested in test_nl_ctx.c. */
#include <check.h>
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nl.h"

#define HANDLE 0xffffffffc0a81234ull

static uint32_t rd32(const uint8_t *b, size_t off)
{
	uint32_t v;

	memcpy(&v, b + off, 4);
	return v;
}

static uint16_t rd16(const uint8_t *b, size_t off)
{
	uint16_t v;

	memcpy(&v, b + off, 2);
	return v;
}

static uint64_t rd64(const uint8_t *b, size_t off)
{
	uint64_t v;

	memcpy(&v, b + off, 8);
	return v;
}

static void wr32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static void wr16(uint8_t *b, size_t off, uint16_t v)
{
	memcpy(b + off, &v, 2);
}

/* Message offsets: nlmsghdr 0..15, uevent from 16 (u at 32, r at 56),
 * payload from 72. */
enum { EV = 16, U = 32, R = 56, PAYLOAD = 72 };

/* Common header checks of a request the kernel must accept. */
static void check_header(const uint8_t *b, size_t len, uint32_t type)
{
	ck_assert_uint_eq(rd32(b, 0), len);              /* nlmsg_len */
	ck_assert_uint_eq(rd16(b, 4), type);             /* nlmsg_type = request */
	ck_assert_uint_eq(rd16(b, 6), 0);                /* flags */
	ck_assert_uint_eq(rd32(b, 8), 0);                /* seq */
	ck_assert_uint_eq(rd32(b, 12), 0);               /* pid */
	ck_assert_uint_eq(rd32(b, EV + 0), type);        /* ev.type = same */
	ck_assert_uint_eq(rd32(b, EV + 4), 0);           /* iferror */
	ck_assert_uint_eq(rd64(b, EV + 8), HANDLE);
	for (size_t i = R; i < PAYLOAD; i++)             /* r zero */
		ck_assert_uint_eq(b[i], 0);
}

static int all_zero(const uint8_t *b, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (b[i])
			return 0;
	return 1;
}

START_TEST(test_build_create_session)
{
	uint8_t b[256];
	size_t len = 0;

	memset(b, 0xee, sizeof(b));
	ck_assert_int_eq(nl_build_create_session(b, sizeof(b), HANDLE, 7, 128, 32, &len), 0);
	ck_assert_uint_eq(len, 72);
	check_header(b, len, 11);
	ck_assert_uint_eq(rd32(b, U + 0), 7);            /* initial_cmdsn @16 */
	ck_assert_uint_eq(rd16(b, U + 4), 128);          /* cmds_max @20 */
	ck_assert_uint_eq(rd16(b, U + 6), 32);           /* queue_depth @22 */
	ck_assert(all_zero(b, U + 8, R));
	ck_assert_uint_eq(b[72], 0xee);                  /* nothing written past */
}
END_TEST

START_TEST(test_build_session_requests)
{
	uint8_t b[128];
	size_t len = 0;

	ck_assert_int_eq(nl_build_destroy_session(b, sizeof(b), HANDLE, 5, &len), 0);
	check_header(b, len, 12);
	ck_assert_uint_eq(rd32(b, U), 5);
	ck_assert(all_zero(b, U + 4, R));
	ck_assert_int_eq(nl_build_unbind_session(b, sizeof(b), HANDLE, 6, &len), 0);
	check_header(b, len, 27);
	ck_assert_uint_eq(rd32(b, U), 6);
	ck_assert_int_eq(nl_build_destroy_session_async(b, sizeof(b), HANDLE, 8, &len), 0);
	check_header(b, len, 43);
	ck_assert_uint_eq(rd32(b, U), 8);
}
END_TEST

START_TEST(test_build_conn_requests)
{
	static const struct {
		int (*fn)(void *, size_t, uint64_t, uint32_t, uint32_t, size_t *);
		uint32_t type;
	} cases[] = {
		{ nl_build_create_conn, 13 },
		{ nl_build_destroy_conn, 14 },
		{ nl_build_start_conn, 17 },
		{ nl_build_get_stats, 20 },
	};
	uint8_t b[128];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(cases[i].fn(b, sizeof(b), HANDLE, 3, 1, &len), 0);
		ck_assert_uint_eq(len, 72);
		check_header(b, len, cases[i].type);
		ck_assert_uint_eq(rd32(b, U), 3);        /* sid @16 */
		ck_assert_uint_eq(rd32(b, U + 4), 1);    /* cid @20 */
		ck_assert(all_zero(b, U + 8, R));
	}
}
END_TEST

START_TEST(test_build_bind_conn)
{
	uint8_t b[128];
	size_t len = 0;

	ck_assert_int_eq(nl_build_bind_conn(b, sizeof(b), HANDLE, 4, 0, 9, true, &len), 0);
	check_header(b, len, 15);
	ck_assert_uint_eq(rd32(b, U), 4);
	ck_assert_uint_eq(rd32(b, U + 4), 0);
	ck_assert_uint_eq(rd64(b, U + 8), 9);            /* transport_eph @24 */
	ck_assert_uint_eq(rd32(b, U + 16), 1);           /* is_leading @32 */
	ck_assert(all_zero(b, U + 20, R));
	ck_assert_int_eq(nl_build_bind_conn(b, sizeof(b), HANDLE, 4, 1, 9, false, &len), 0);
	ck_assert_uint_eq(rd32(b, U + 16), 0);
}
END_TEST

START_TEST(test_build_stop_conn)
{
	uint8_t b[128];
	size_t len = 0;

	ck_assert_int_eq(nl_build_stop_conn(b, sizeof(b), HANDLE, 2, 0, ISCSI_STOP_CONN_RECOVER, &len), 0);
	check_header(b, len, 18);
	ck_assert_uint_eq(rd32(b, U), 2);
	ck_assert_uint_eq(rd64(b, U + 8), 0);            /* conn_handle @24 unused */
	ck_assert_uint_eq(rd32(b, U + 16), 3);           /* flag @32 */
	ck_assert_int_eq(nl_build_stop_conn(b, sizeof(b), HANDLE, 2, 0, ISCSI_STOP_CONN_TERM, &len), 0);
	ck_assert_uint_eq(rd32(b, U + 16), 1);
	/* SUSPEND does nothing in 6.1: refuse it instead of silently failing */
	ck_assert_int_eq(nl_build_stop_conn(b, sizeof(b), HANDLE, 2, 0, 2, &len), -EINVAL);
	ck_assert_int_eq(nl_build_stop_conn(b, sizeof(b), HANDLE, 2, 0, 0, &len), -EINVAL);
}
END_TEST

START_TEST(test_build_set_param)
{
	const char *name = "iqn.2003-01.org.example:disk1";
	uint8_t b[512];
	size_t len = 0, n = strlen(name);

	ck_assert_int_eq(nl_build_set_param(b, sizeof(b), HANDLE, 1, 0, ISCSI_PARAM_TARGET_NAME,
					    name, &len), 0);
	ck_assert_uint_eq(len, 72 + n + 1);              /* not padded */
	check_header(b, len, 16);
	ck_assert_uint_eq(rd32(b, U), 1);
	ck_assert_uint_eq(rd32(b, U + 4), 0);
	ck_assert_uint_eq(rd32(b, U + 8), 15);           /* param @24: TARGET_NAME */
	ck_assert_uint_eq(rd32(b, U + 12), n + 1);       /* len @28 = strlen + 1 */
	ck_assert_mem_eq(b + PAYLOAD, name, n + 1);      /* NUL included */

	ck_assert_int_eq(nl_build_set_param(b, sizeof(b), HANDLE, 1, 0, ISCSI_PARAM_EXP_STATSN,
					    "4294967295", &len), 0);
	ck_assert_uint_eq(rd32(b, U + 8), 14);
	ck_assert_str_eq((char *)b + PAYLOAD, "4294967295");
}
END_TEST

START_TEST(test_build_set_param_limits)
{
	static uint8_t b[NL_REQ_MAX];
	static char big[5000];
	size_t len = 0;

	memset(big, 'a', 4095);
	big[4095] = '\0';                                 /* len 4096 = PAGE_SIZE: allowed */
	ck_assert_int_eq(nl_build_set_param(b, sizeof(b), HANDLE, 1, 0, ISCSI_PARAM_USERNAME, big, &len), 0);
	ck_assert_uint_eq(rd32(b, U + 12), 4096);
	big[4095] = 'a';
	big[4096] = '\0';                                 /* 4097: the kernel says -EINVAL */
	ck_assert_int_eq(nl_build_set_param(b, sizeof(b), HANDLE, 1, 0, ISCSI_PARAM_USERNAME, big, &len), -EINVAL);
	ck_assert_int_eq(nl_build_set_param(b, sizeof(b), HANDLE, 1, 0, ISCSI_PARAM_USERNAME, NULL, &len), -EINVAL);
	ck_assert_int_eq(nl_build_set_param(b, sizeof(b), HANDLE, 1, 0, 72, "1", &len), -EINVAL);
	/* buffer too small: error, length untouched */
	len = 999;
	ck_assert_int_eq(nl_build_set_param(b, 73, HANDLE, 1, 0, ISCSI_PARAM_ERL, "0", &len), -ENOBUFS);
	ck_assert_uint_eq(len, 999);
	ck_assert_int_eq(nl_build_set_param(b, 74, HANDLE, 1, 0, ISCSI_PARAM_ERL, "0", &len), 0);
	ck_assert_uint_eq(len, 74);
}
END_TEST

START_TEST(test_build_set_host_param)
{
	uint8_t b[256];
	size_t len = 0;

	ck_assert_int_eq(nl_build_set_host_param(b, sizeof(b), HANDLE, 7, ISCSI_HOST_PARAM_NETDEV_NAME,
						 "eth0", &len), 0);
	ck_assert_uint_eq(len, 72 + 5);
	check_header(b, len, 26);
	ck_assert_uint_eq(rd32(b, U), 7);                /* host_no @16 */
	ck_assert_uint_eq(rd32(b, U + 4), 2);            /* param @20 */
	ck_assert_uint_eq(rd32(b, U + 8), 5);            /* len @24 */
	ck_assert_str_eq((char *)b + PAYLOAD, "eth0");
	ck_assert_int_eq(nl_build_set_host_param(b, sizeof(b), HANDLE, 7, 6, "x", &len), -EINVAL);
}
END_TEST

START_TEST(test_build_send_pdu)
{
	static uint8_t b[NL_REQ_MAX], big[8193];
	uint8_t bhs[48], data[13];
	size_t len = 0;

	for (size_t i = 0; i < sizeof(bhs); i++)
		bhs[i] = (uint8_t)i;
	memset(data, 0x5a, sizeof(data));
	bhs[0] = 0x43;
	ck_assert_int_eq(nl_build_send_pdu(b, sizeof(b), HANDLE, 1, 0, bhs, 48, data, 13, &len), 0);
	ck_assert_uint_eq(len, 72 + 48 + 13);
	check_header(b, len, 19);
	ck_assert_uint_eq(rd32(b, U + 8), 48);           /* hdr_size @24 */
	ck_assert_uint_eq(rd32(b, U + 12), 13);          /* data_size @28 */
	ck_assert_mem_eq(b + PAYLOAD, bhs, 48);
	ck_assert_mem_eq(b + PAYLOAD + 48, data, 13);

	ck_assert_int_eq(nl_build_send_pdu(b, sizeof(b), HANDLE, 1, 0, bhs, 48, NULL, 0, &len), 0);
	ck_assert_uint_eq(len, 120);
	ck_assert_int_eq(nl_build_send_pdu(b, sizeof(b), HANDLE, 1, 0, bhs, 47, NULL, 0, &len), -EINVAL);
	ck_assert_int_eq(nl_build_send_pdu(b, sizeof(b), HANDLE, 1, 0, bhs, 48, NULL, 5, &len), -EINVAL);
	ck_assert_int_eq(nl_build_send_pdu(b, sizeof(b), HANDLE, 1, 0, bhs, 48, big, 8193, &len), -EINVAL);
	ck_assert_int_eq(nl_build_send_pdu(b, sizeof(b), HANDLE, 1, 0, bhs, 48, big, 8192, &len), 0);
	ck_assert_uint_eq(len, 72 + 48 + 8192);
}
END_TEST

/* ---- synthetic kernel messages ------------------------------------------ */

/* A kernel event: nlmsg_type 0; iferror and u filled with 0xAA the way
 * uninitialised skb memory might look (§1.2). */
static size_t mk_event(uint8_t *b, uint32_t type, const void *payload, size_t plen)
{
	memset(b, 0, 16);
	memset(b + EV, 0xaa, 56);
	wr32(b, 0, (uint32_t)(72 + plen));
	wr32(b, EV, type);
	memset(b + R, 0, 16);
	if (plen)
		memcpy(b + PAYLOAD, payload, plen);
	return 72 + plen;
}

/* A reply: the request echoed, r set, type possibly IF_ERROR. */
static size_t mk_reply(uint8_t *b, uint32_t req, uint32_t ev_type, int32_t iferror)
{
	memset(b, 0, 72);
	wr32(b, 0, 72);
	wr16(b, 4, (uint16_t)req);
	wr32(b, EV, ev_type);
	wr32(b, EV + 4, (uint32_t)iferror);
	return 72;
}

START_TEST(test_parse_reply_create_session)
{
	uint8_t b[128];
	struct nl_msg_info m;
	size_t len;

	ck_assert_int_eq(nl_build_create_session(b, sizeof(b), HANDLE, 0, 128, 32, &len), 0);
	wr32(b, R, 3);                                    /* r.c_session_ret.sid */
	wr32(b, R + 4, 9);                                /* host_no */
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_int_eq(m.kind, NL_MSG_REPLY);
	ck_assert_uint_eq(m.req_type, 11);
	ck_assert_int_eq(m.iferror, 0);
	ck_assert_uint_eq(m.sid, 3);
	ck_assert_uint_eq(m.host_no, 9);
}
END_TEST

START_TEST(test_parse_reply_if_error)
{
	uint8_t b[128];
	struct nl_msg_info m;
	size_t len = mk_reply(b, 15, 103, -EINVAL);

	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_int_eq(m.kind, NL_MSG_REPLY);
	ck_assert_uint_eq(m.req_type, 15);
	ck_assert_uint_eq(m.type, 103);
	ck_assert_int_eq(m.iferror, -EINVAL);
	/* IF_ERROR with a non-negative iferror is not something the kernel sends */
	mk_reply(b, 15, 103, 0);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), -EBADMSG);
	/* a reply whose ev.type is neither its type nor IF_ERROR */
	mk_reply(b, 15, 17, 0);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), -EBADMSG);
}
END_TEST

START_TEST(test_parse_reply_retcode_and_conn)
{
	uint8_t b[128];
	struct nl_msg_info m;
	size_t len = mk_reply(b, 15, 15, 0);

	wr32(b, R, (uint32_t)-EEXIST);                    /* bad fd: r.retcode */
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_int_eq(m.iferror, 0);
	ck_assert_int_eq(m.retcode, -EEXIST);
	len = mk_reply(b, 13, 13, 0);
	wr32(b, R, 4);
	wr32(b, R + 4, 2);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_uint_eq(m.sid, 4);
	ck_assert_uint_eq(m.cid, 2);
}
END_TEST

START_TEST(test_parse_events)
{
	uint8_t b[256], pdu[48 + 20];
	struct nl_msg_info m;
	size_t len;

	memset(pdu, 0, sizeof(pdu));
	pdu[0] = 0x23;
	len = mk_event(b, 101, pdu, sizeof(pdu));
	wr32(b, R, 5);
	wr32(b, R + 4, 0);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_int_eq(m.kind, NL_MSG_EVENT);
	ck_assert_uint_eq(m.type, ISCSI_KEVENT_RECV_PDU);
	ck_assert_uint_eq(m.sid, 5);
	ck_assert_ptr_eq(m.payload, b + 72);
	ck_assert_uint_eq(m.payload_len, 68);
	ck_assert_uint_eq(m.payload[0], 0x23);

	len = mk_event(b, 102, NULL, 0);
	wr32(b, R, 5);
	wr32(b, R + 4, 1);
	wr32(b, R + 8, 1020);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_uint_eq(m.type, ISCSI_KEVENT_CONN_ERROR);
	ck_assert_uint_eq(m.sid, 5);
	ck_assert_uint_eq(m.cid, 1);
	ck_assert_uint_eq(m.error, ISCSI_IF_ERR_TCP_CONN_CLOSE);
	ck_assert_int_eq(m.iferror, 0);                   /* garbage never surfaces */
	ck_assert_str_eq(nl_conn_error_name(m.error), "TCP_CONN_CLOSE");

	/* DESTROY_SESSION: host_no @40, sid @44 */
	len = mk_event(b, 104, NULL, 0);
	wr32(b, R, 7);
	wr32(b, R + 4, 3);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_uint_eq(m.host_no, 7);
	ck_assert_uint_eq(m.sid, 3);

	/* UNBIND_SESSION and CREATE_SESSION: sid @40, host_no @44 */
	len = mk_event(b, 105, NULL, 0);
	wr32(b, R, 3);
	wr32(b, R + 4, 7);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_uint_eq(m.sid, 3);
	ck_assert_uint_eq(m.host_no, 7);
	len = mk_event(b, 106, NULL, 0);
	wr32(b, R, 4);
	wr32(b, R + 4, 8);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_uint_eq(m.type, ISCSI_KEVENT_CREATE_SESSION);
	ck_assert_uint_eq(m.sid, 4);
	ck_assert_uint_eq(m.host_no, 8);
	/* old kernels: CREATE_SESSION announced with type 11 */
	len = mk_event(b, 11, NULL, 0);
	wr32(b, R, 4);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_int_eq(m.kind, NL_MSG_EVENT);
	ck_assert_uint_eq(m.type, ISCSI_KEVENT_CREATE_SESSION);

	/* offload-only and unknown types: ignored, not errors */
	len = mk_event(b, 107, NULL, 0);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_int_eq(m.kind, NL_MSG_IGNORED);
	len = mk_event(b, 150, NULL, 0);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_int_eq(m.kind, NL_MSG_IGNORED);
}
END_TEST

START_TEST(test_parse_truncated)
{
	uint8_t b[256], pdu[47];
	struct nl_msg_info m;
	size_t len;

	memset(&m, 0x11, sizeof(m));
	memset(pdu, 0, sizeof(pdu));
	len = mk_event(b, 101, pdu, sizeof(pdu));           /* shorter than a BHS */
	ck_assert_int_eq(nl_parse_msg(b, len, &m), -EBADMSG);
	len = mk_event(b, 102, NULL, 0);
	ck_assert_int_eq(nl_parse_msg(b, 15, &m), -EBADMSG);  /* not even a header */
	ck_assert_int_eq(nl_parse_msg(b, 71, &m), -EBADMSG);  /* nlmsg_len past the data */
	wr32(b, 0, 71);                                       /* shorter than the uevent */
	ck_assert_int_eq(nl_parse_msg(b, len, &m), -EBADMSG);
	wr32(b, 0, 0xffffffff);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), -EBADMSG);
	ck_assert_uint_eq(m.sid, 0x11111111);                 /* untouched on failure */
	ck_assert_int_eq(nl_parse_msg(NULL, 0, &m), -EINVAL);
}
END_TEST

static size_t mk_stats(uint8_t *b, uint32_t sid, uint32_t cid, uint32_t n, size_t give)
{
	uint8_t payload[96 + 40 * 72];
	size_t len;

	memset(payload, 0, sizeof(payload));
	memcpy(payload, &(uint64_t){ 123456789012ull }, 8);
	wr32(payload, 28, 4);                                 /* login_pdus */
	wr32(payload, 92, n);                                 /* custom_length */
	for (uint32_t i = 0; i < n && i < 40; i++) {
		uint8_t *c = payload + 96 + i * 72;

		memset(c, 'a' + (int)i, 64);                      /* no NUL at all */
		memcpy(c + 64, &(uint64_t){ 1000 + i }, 8);
	}
	len = mk_event(b, 20, payload, give);
	memset(b + U, 0, 24);                                 /* this one is memset */
	wr32(b, U, sid);
	wr32(b, U + 4, cid);
	return len;
}

START_TEST(test_parse_stats)
{
	static uint8_t b[8192];
	struct nl_msg_info m;
	struct nl_stats s;
	size_t len;

	len = mk_stats(b, 2, 0, 3, 96 + 3 * 72);
	ck_assert_uint_eq(len, 16 + 368);                     /* §1.7: 56 + 96 + 3*72 after nlmsghdr */
	ck_assert_int_eq(nl_parse_msg(b, len, &m), 0);
	ck_assert_int_eq(m.kind, NL_MSG_STATS);
	ck_assert_uint_eq(m.sid, 2);
	ck_assert_uint_eq(m.cid, 0);
	ck_assert_int_eq(nl_stats_decode(&m, &s), 0);
	ck_assert_uint_eq(s.s.txdata_octets, 123456789012ull);
	ck_assert_uint_eq(s.s.login_pdus, 4);
	ck_assert_uint_eq(s.n_custom, 3);
	ck_assert_uint_eq(strlen(s.custom[1].desc), 64);
	ck_assert_int_eq(s.custom[1].desc[0], 'b');
	ck_assert_uint_eq(s.custom[2].value, 1002);

	len = mk_stats(b, 2, 0, 3, 96 + 2 * 72);              /* says 3, carries 2 */
	ck_assert_int_eq(nl_parse_msg(b, len, &m), -EBADMSG);
	len = mk_stats(b, 2, 0, 33, 96 + 33 * 72);            /* over ISCSI_STATS_CUSTOM_MAX */
	ck_assert_int_eq(nl_parse_msg(b, len, &m), -EBADMSG);
	len = mk_stats(b, 2, 0, 0, 95);
	ck_assert_int_eq(nl_parse_msg(b, len, &m), -EBADMSG);
	memset(&m, 0, sizeof(m));
	m.kind = NL_MSG_EVENT;
	ck_assert_int_eq(nl_stats_decode(&m, &s), -EINVAL);
}
END_TEST

START_TEST(test_iter_multiple)
{
	uint8_t b[1024];
	struct nl_msg_iter it;
	struct nl_msg_info m;
	size_t off = 0, n;

	memset(b, 0, sizeof(b));
	/* SET_PARAM-shaped reply-sized message with an odd length, then an
	 * event, then a reply: alignment padding must be skipped */
	off += mk_event(b + off, 105, "xyz", 3);           /* 75 bytes */
	wr32(b, R, 1);
	off = NLMSG_ALIGN(off);
	n = mk_reply(b + off, 16, 103, -ENOSYS);
	off += n;
	n = mk_event(b + off, 102, NULL, 0);
	wr32(b + off, R + 8, 1011);
	off += n;

	nl_msg_iter_init(&it, b, off);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), 1);
	ck_assert_uint_eq(m.type, ISCSI_KEVENT_UNBIND_SESSION);
	ck_assert_uint_eq(m.sid, 1);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), 1);
	ck_assert_int_eq(m.kind, NL_MSG_REPLY);
	ck_assert_int_eq(m.iferror, -ENOSYS);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), 1);
	ck_assert_uint_eq(m.error, ISCSI_IF_ERR_CONN_FAILED);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), 0);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), 0);
}
END_TEST

START_TEST(test_iter_bad_messages)
{
	uint8_t b[1024];
	struct nl_msg_iter it;
	struct nl_msg_info m;
	size_t off = 0;

	memset(b, 0, sizeof(b));
	/* a well-framed but too-short message is skipped alone */
	wr32(b, 0, 40);
	off = 40;
	off += mk_event(b + off, 106, NULL, 0);
	wr32(b + 40, R, 12);
	nl_msg_iter_init(&it, b, off);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), -EBADMSG);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), 1);
	ck_assert_uint_eq(m.sid, 12);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), 0);

	/* nlmsg_len 0: framing lost, the rest is dropped */
	wr32(b, 0, 0);
	nl_msg_iter_init(&it, b, off);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), -EBADMSG);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), 0);

	/* nlmsg_len beyond the datagram */
	mk_event(b, 106, NULL, 0);
	wr32(b, 0, 200);
	nl_msg_iter_init(&it, b, 72);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), -EBADMSG);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), 0);

	/* trailing garbage shorter than a header */
	mk_event(b, 106, NULL, 0);
	nl_msg_iter_init(&it, b, 72 + 10);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), 1);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), -EBADMSG);
	ck_assert_int_eq(nl_msg_iter_next(&it, &m), 0);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(nl_type_name(ISCSI_UEVENT_SET_PARAM), "SET_PARAM");
	ck_assert_str_eq(nl_type_name(ISCSI_KEVENT_RECV_PDU), "RECV_PDU");
	ck_assert_str_eq(nl_type_name(99), "unknown");
	ck_assert_str_eq(nl_type_name(100000), "unknown");
	ck_assert_str_eq(nl_conn_error_name(1022), "NOP_TIMEDOUT");
	ck_assert_str_eq(nl_conn_error_name(1023), "unknown");
	ck_assert_str_eq(nl_conn_error_name(1000), "unknown");
	ck_assert_str_eq(nl_strerror(-EPROTONOSUPPORT),
			 "NETLINK_ISCSI unavailable: kernel module scsi_transport_iscsi not loaded");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nl");
	TCase *tc = tcase_create("codec");

	tcase_add_test(tc, test_build_create_session);
	tcase_add_test(tc, test_build_session_requests);
	tcase_add_test(tc, test_build_conn_requests);
	tcase_add_test(tc, test_build_bind_conn);
	tcase_add_test(tc, test_build_stop_conn);
	tcase_add_test(tc, test_build_set_param);
	tcase_add_test(tc, test_build_set_param_limits);
	tcase_add_test(tc, test_build_set_host_param);
	tcase_add_test(tc, test_build_send_pdu);
	tcase_add_test(tc, test_parse_reply_create_session);
	tcase_add_test(tc, test_parse_reply_if_error);
	tcase_add_test(tc, test_parse_reply_retcode_and_conn);
	tcase_add_test(tc, test_parse_events);
	tcase_add_test(tc, test_parse_truncated);
	tcase_add_test(tc, test_parse_stats);
	tcase_add_test(tc, test_iter_multiple);
	tcase_add_test(tc, test_iter_bad_messages);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
