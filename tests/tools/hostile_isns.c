/* A scripted iSNS server (RFC 4171) for tests: it reads the initiator's
 * requests and answers the way the chosen mode says, most of them
 * hostile. open-isns's isnsd cannot produce these cases, which is why
 * this mock exists (DESIGN.md: mocks only where a real peer cannot).
 *
 *   hostile_isns -m MODE [-p PORT] [-n COUNT]
 *
 * Listens on 127.0.0.1:PORT (0 or absent: any free port), prints the port
 * on stdout, then serves connections until killed, one child process per
 * connection. Each request it receives is logged on stderr as
 * "request FUNCTION" (e.g. "request DevDereg").
 *
 * Modes (how a DevAttrQry is answered; other requests get status 0):
 *   normal       COUNT targets (default 3), each one portal group
 *                127.0.0.1:3260 tag 1, over as many PDUs as it takes
 *   many         like normal, COUNT defaults to 4096 (the limit: legal)
 *   badnames     like normal, but target 1 named in upper case and target 2
 *                with ".." and '/' (skipped, the others used)
 *   allbad       like normal, every name in upper case
 *   too-many     COUNT + 1 targets, COUNT defaulting to 4096
 *   repeat       the same target and portal group over and over, a 4 MiB
 *                answer that never gets anywhere
 *   bad-function a DevAttrRegRsp with the query's transaction ID
 *   bad-xid      DevAttrQryRsp after DevAttrQryRsp, each for a transaction
 *                the initiator never started, without end
 *   huge         a message of 65535-byte PDUs past 4 MiB, never LAST
 *   endless      "more fragments" PDUs of 8 bytes each, never LAST
 *   drip         such a PDU every 500 ms, never LAST (a deadline case)
 *   tlv-past     an attribute whose length runs past the end of the PDU
 *   attrs        200001 empty attributes (the attribute limit)
 *   status       status 9, No Such Entry
 *   unknown      status 6, Source Unknown, to every query; the
 *                registration that follows is accepted
 *   reg-refused  Source Unknown, then the registration refused with
 *                status 8, Source Unauthorized
 *   close        a PDU header promising 1000 bytes, 100 of them, close
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "hostile_server.h"
#include "isns.h"

enum mode {
	M_NORMAL, M_MANY, M_TOO_MANY, M_REPEAT, M_BAD_FUNCTION, M_BAD_XID, M_HUGE, M_ENDLESS, M_DRIP,
	M_TLV_PAST, M_ATTRS, M_STATUS, M_UNKNOWN, M_REG_REFUSED, M_CLOSE, M_BADNAMES, M_ALLBAD,
};

static const struct hs_mode mode_names[] = {
	{ "normal", M_NORMAL },     { "many", M_MANY },       { "too-many", M_TOO_MANY },
	{ "repeat", M_REPEAT },     { "bad-function", M_BAD_FUNCTION },
	{ "bad-xid", M_BAD_XID },   { "huge", M_HUGE },       { "endless", M_ENDLESS },
	{ "drip", M_DRIP },         { "tlv-past", M_TLV_PAST }, { "attrs", M_ATTRS },
	{ "status", M_STATUS },     { "unknown", M_UNKNOWN }, { "reg-refused", M_REG_REFUSED },
	{ "close", M_CLOSE },       { "badnames", M_BADNAMES }, { "allbad", M_ALLBAD },
};

#define CHUNK 65532u    /* payload per PDU: under the 16-bit length, a multiple of 4 */

struct conn {
	int fd;
	enum mode mode;
	unsigned count;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One PDU: header (flags as given, plus the server bit) and payload. */
static int send_pdu(struct conn *c, uint16_t function, uint16_t flags, uint16_t xid, uint16_t seq,
		    const uint8_t *data, size_t len)
{
	uint8_t hdr[ISNS_HDR_LEN];

	put16(hdr, ISNS_VERSION);
	put16(hdr + 2, function);
	put16(hdr + 4, (uint16_t)len);
	put16(hdr + 6, (uint16_t)(flags | ISNS_F_SERVER));
	put16(hdr + 8, xid);
	put16(hdr + 10, seq);
	if (hs_write_full(c->fd, hdr, sizeof(hdr)))
		return -1;
	return len ? hs_write_full(c->fd, data, len) : 0;
}

/* A whole message over as many PDUs as its length needs. */
static int send_msg(struct conn *c, uint16_t function, uint16_t xid, const uint8_t *data, size_t len)
{
	uint16_t seq = 0;
	size_t off = 0;

	do {
		size_t n = len - off > CHUNK ? CHUNK : len - off;
		uint16_t flags = (uint16_t)((off == 0 ? ISNS_F_FIRST : 0) | (off + n == len ? ISNS_F_LAST : 0));
		if (send_pdu(c, function, flags, xid, seq++, data + off, n))
			return -1;
		off += n;
	} while (off < len);
	return 0;
}

static int send_status(struct conn *c, uint16_t function, uint16_t xid, uint32_t status)
{
	uint8_t b[4];
	struct isns_buf ib;

	isns_buf_init(&ib, b, sizeof(b));
	isns_put_raw32(&ib, status);
	return send_msg(c, function | ISNS_RSP, xid, b, ib.len);
}

/* A query answer listing n targets (all the same one when same). */
static int send_targets(struct conn *c, uint16_t xid, size_t n, bool same)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	size_t cap = 64 + n * 200;
	uint8_t *mem = malloc(cap);
	struct isns_buf b;
	char name[128] = "iqn.2024-01.org.example.hostile:t0";

	if (!mem)
		return -1;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	isns_buf_init(&b, mem, cap);
	isns_put_raw32(&b, ISNS_OK);
	isns_put_nil(&b, ISNS_TAG_DELIMITER);
	for (size_t i = 0; i < n; i++) {
		if (c->mode == M_ALLBAD || (c->mode == M_BADNAMES && i == 1))
			snprintf(name, sizeof(name), "IQN.2024-01.ORG.EXAMPLE.HOSTILE:T%zu", i);
		else if (c->mode == M_BADNAMES && i == 2)
			snprintf(name, sizeof(name), "iqn.2024-01.org.example.hostile:../../tmp/evil%zu", i);
		else if (!same)
			snprintf(name, sizeof(name), "iqn.2024-01.org.example.hostile:t%zu", i);
		isns_put_str(&b, ISNS_TAG_ISCSI_NAME, name);
		isns_put_u32(&b, ISNS_TAG_ISCSI_NODE_TYPE, ISNS_NODE_TARGET);
		isns_put_str(&b, ISNS_TAG_PG_ISCSI_NAME, name);
		isns_put_addr(&b, ISNS_TAG_PG_PORTAL_IP, (struct sockaddr *)&sa);
		isns_put_u32(&b, ISNS_TAG_PG_PORTAL_PORT, 3260);
		isns_put_u32(&b, ISNS_TAG_PG_TAG, 1);
	}
	int r = b.full ? -1 : send_msg(c, ISNS_DEV_ATTR_QRY | ISNS_RSP, xid, mem, b.len);
	free(mem);
	return r;
}

/* PDUs of len bytes, FIRST on the first, LAST never: until the peer
 * gives up (or, with pause, forever at that pace). */
static void send_unending(struct conn *c, uint16_t xid, size_t len, unsigned pause_ms)
{
	uint8_t *zero = calloc(1, len);
	struct timespec ts = { pause_ms / 1000, (long)(pause_ms % 1000) * 1000000L };

	for (uint16_t seq = 0; zero; seq++) {
		if (send_pdu(c, ISNS_DEV_ATTR_QRY | ISNS_RSP, seq ? 0 : ISNS_F_FIRST, xid, seq, zero, len))
			break;
		if (pause_ms)
			nanosleep(&ts, NULL);
	}
	free(zero);
}

/* The answer to one DevAttrQry; -1 ends the connection. */
static int answer_query(struct conn *c, uint16_t xid)
{
	uint8_t b[64];
	struct isns_buf ib;

	switch (c->mode) {
	case M_NORMAL:
	case M_MANY:
	case M_BADNAMES:
	case M_ALLBAD:
		return send_targets(c, xid, c->count, false);
	case M_TOO_MANY:
		return send_targets(c, xid, (size_t)c->count + 1, false);
	case M_REPEAT:
		/* 4 MiB of the same 156-byte portal group, minus room */
		return send_targets(c, xid, (ISNS_MAX_MSG - 64) / 156, true);
	case M_BAD_FUNCTION:
		return send_status(c, ISNS_DEV_ATTR_REG, xid, ISNS_OK);
	case M_BAD_XID:
		for (uint16_t x = (uint16_t)(xid + 1000);; x++)
			if (send_status(c, ISNS_DEV_ATTR_QRY, x, ISNS_OK))
				return -1;
	case M_HUGE:
		send_unending(c, xid, 65535, 0);
		return -1;
	case M_ENDLESS:
		send_unending(c, xid, 8, 0);
		return -1;
	case M_DRIP:
		send_unending(c, xid, 8, 500);
		return -1;
	case M_TLV_PAST:
		isns_buf_init(&ib, b, sizeof(b));
		isns_put_raw32(&ib, ISNS_OK);
		isns_put_raw32(&ib, ISNS_TAG_ISCSI_NAME);
		isns_put_raw32(&ib, 1024);
		isns_put_raw32(&ib, 0x69716e2e);   /* "iqn.", then the PDU ends */
		return send_msg(c, ISNS_DEV_ATTR_QRY | ISNS_RSP, xid, b, ib.len);
	case M_ATTRS: {
		size_t n = ISNS_MAX_ATTRS + 1, len = 4 + 8 * n;
		uint8_t *mem = malloc(len);
		if (!mem)
			return -1;
		isns_buf_init(&ib, mem, len);
		isns_put_raw32(&ib, ISNS_OK);
		for (size_t i = 0; i < n; i++)
			isns_put_nil(&ib, ISNS_TAG_ISCSI_ALIAS);
		int r = send_msg(c, ISNS_DEV_ATTR_QRY | ISNS_RSP, xid, mem, ib.len);
		free(mem);
		return r;
	}
	case M_STATUS:
		return send_status(c, ISNS_DEV_ATTR_QRY, xid, ISNS_NO_SUCH_ENTRY);
	case M_UNKNOWN:
	case M_REG_REFUSED:
		return send_status(c, ISNS_DEV_ATTR_QRY, xid, ISNS_SOURCE_UNKNOWN);
	case M_CLOSE:
		memset(b, 0, sizeof(b));
		isns_buf_init(&ib, b, sizeof(b));
		isns_put_raw32(&ib, ISNS_OK);
		{
			uint8_t hdr[ISNS_HDR_LEN];
			put16(hdr, ISNS_VERSION);
			put16(hdr + 2, ISNS_DEV_ATTR_QRY | ISNS_RSP);
			put16(hdr + 4, 1000);
			put16(hdr + 6, ISNS_F_SERVER | ISNS_F_FIRST | ISNS_F_LAST);
			put16(hdr + 8, xid);
			put16(hdr + 10, 0);
			if (hs_write_full(c->fd, hdr, sizeof(hdr)) == 0)
				hs_write_full(c->fd, b, sizeof(b));
		}
		return -1;
	}
	return -1;
}

static void serve(struct conn *c)
{
	uint8_t hdr[ISNS_HDR_LEN], *payload = malloc(ISNS_PDU_PAYLOAD_MAX);

	while (payload && hs_read_full(c->fd, hdr, sizeof(hdr)) == 0) {
		uint16_t function = (uint16_t)(hdr[2] << 8 | hdr[3]), len = (uint16_t)(hdr[4] << 8 | hdr[5]);
		uint16_t xid = (uint16_t)(hdr[8] << 8 | hdr[9]);
		if (hs_read_full(c->fd, payload, len))
			break;
		fprintf(stderr, "request %s\n", isns_function_name(function));
		int r;
		if (function == ISNS_DEV_ATTR_QRY)
			r = answer_query(c, xid);
		else if (function == ISNS_DEV_ATTR_REG && c->mode == M_REG_REFUSED)
			r = send_status(c, function, xid, ISNS_SOURCE_UNAUTHORIZED);
		else
			r = send_status(c, function, xid, ISNS_OK);
		if (r)
			break;
	}
	free(payload);
}

/* hs_run's per-connection callback */
static void serve_fd(int fd, void *data)
{
	struct conn *c = data;
	c->fd = fd;
	serve(c);
}

int main(int argc, char **argv)
{
	struct hs_args a;
	hs_parse_args(argc, argv, "hostile_isns", mode_names, sizeof(mode_names) / sizeof(mode_names[0]), &a);
	struct conn c = { .mode = (enum mode)a.mode, .count = a.count };
	if (!c.count)
		c.count = c.mode == M_MANY || c.mode == M_TOO_MANY ? 4096 : 3;
	return hs_run("hostile_isns", &a, 120, serve_fd, &c);
}
