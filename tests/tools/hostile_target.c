/* A scripted iSCSI discovery target for tests: it answers a discovery
 * login properly (AuthMethod=None, every operational key accepted) and
 * then answers "SendTargets=All" the way the chosen mode says, most of
 * them hostile. tgtd cannot produce these cases, which is why this mock
 * exists (DESIGN.md: mocks only where a real peer cannot).
 *
 *   hostile_target -m MODE [-p PORT] [-n COUNT]
 *
 * Listens on 127.0.0.1:PORT (0 or absent: any free port), prints the port
 * on stdout, then serves connections until killed, one child process per
 * connection.
 *
 * Modes (what the SendTargets answer is):
 *   normal      COUNT targets (default 3), split over Continue PDUs when
 *               longer than the initiator's MaxRecvDataSegmentLength
 *   many        like normal, COUNT defaults to 1500 (legal, must work)
 *   oversized   a valid but endless stream of targets: 64 MiB or until
 *               the initiator gives up
 *   noequals    a pair without '=' ("TargetNameiqn...")
 *   control     a target name holding control characters (ESC, BEL)
 *   slash       a valid target, then target names with '/' and ".." in
 *               them (skipped, the valid one recorded)
 *   badnames    only target names with '/' and ".." in them
 *   endless     Continue PDUs that never end, each carrying a few bytes
 *   stall       never answers the Text Request
 *   stall-login never answers the first Login Request
 *   garbage     answers the Text Request with bytes that are not a PDU
 *   reject      answers the login with status 0x0201 (authentication)
 *   login-bad-itt   answers the first Login Request with a Login Response
 *               for an ITT the initiator never used (0xdeadbeef), then
 *               keeps the connection open until the initiator closes it
 *   login-huge-dsl  answers it with a Login Response header that claims
 *               DataSegmentLength 16777215 but carries 62 bytes, then
 *               keeps the connection open (a kernel initiator refuses the
 *               header: "datalen 16777215 > 8192")
 * The login-* modes serve normal (not only discovery) logins: they break
 * the login before the session type matters.
 *
 * The io-* modes serve a normal session properly (one 1 MiB disk at LUN
 * 0: REPORT LUNS, INQUIRY, READ CAPACITY, TEST UNIT READY, writes that
 * fit the immediate data, NOP-Outs) and misbehave on the first READ (or
 * WRITE for io-r2t-beyond), on every connection:
 *   io-bad-pdu      answers with a PDU of an opcode no target sends (0x3e)
 *   io-datain-overflow  a Data-In carrying twice the bytes the READ asked for
 *   io-huge-dsl     a Data-In header claiming 16 MiB of data, 100 bytes sent
 *   io-bad-itt      a SCSI Response for a task the initiator never started
 *   io-r2t-beyond   an R2T for 16 MiB past the end of a 4 KiB WRITE (beyond
 *                   any burst), after all its data came as immediate data
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "hostile_server.h"
#include "pdu.h"
#include "text.h"

enum mode {
	M_NORMAL, M_MANY, M_OVERSIZED, M_NOEQUALS, M_CONTROL, M_SLASH, M_BADNAMES,
	M_ENDLESS, M_STALL, M_STALL_LOGIN, M_GARBAGE, M_REJECT,
	M_LOGIN_BAD_ITT, M_LOGIN_HUGE_DSL,
	M_IO_BAD_PDU, M_IO_DATAIN_OVERFLOW, M_IO_HUGE_DSL, M_IO_BAD_ITT, M_IO_R2T_BEYOND,
};

static const struct hs_mode mode_names[] = {
	{ "normal", M_NORMAL }, { "many", M_MANY }, { "oversized", M_OVERSIZED },
	{ "noequals", M_NOEQUALS }, { "control", M_CONTROL }, { "slash", M_SLASH },
	{ "badnames", M_BADNAMES },
	{ "endless", M_ENDLESS }, { "stall", M_STALL }, { "stall-login", M_STALL_LOGIN },
	{ "garbage", M_GARBAGE }, { "reject", M_REJECT },
	{ "login-bad-itt", M_LOGIN_BAD_ITT }, { "login-huge-dsl", M_LOGIN_HUGE_DSL },
	{ "io-bad-pdu", M_IO_BAD_PDU }, { "io-datain-overflow", M_IO_DATAIN_OVERFLOW },
	{ "io-huge-dsl", M_IO_HUGE_DSL }, { "io-bad-itt", M_IO_BAD_ITT }, { "io-r2t-beyond", M_IO_R2T_BEYOND },
};

static bool mode_io(enum mode m)
{
	return m >= M_IO_BAD_PDU;
}

struct conn {
	int fd;
	enum mode mode;
	unsigned count;
	uint16_t port;
	uint32_t statsn;
	uint32_t exp_cmdsn;
	uint32_t peer_mrdsl;    /* what the initiator can receive */
	uint8_t isid[6];
};

#define RX_MAX (ISCSI_BHS_LEN + ISCSI_MAX_AHS_LEN + 8 + 65536 + 8)

/* One request PDU into buf; *p points into buf. */
static int recv_pdu(struct conn *c, uint8_t *buf, struct pdu *p)
{
	struct pdu_opts o = { .max_data_len = 65536 };
	enum pdu_error e;

	if (hs_read_full(c->fd, buf, ISCSI_BHS_LEN))
		return -1;
	if (pdu_decode_bhs(buf, PDU_DIR_TO_TARGET, &o, p, &e)) {
		fprintf(stderr, "hostile_target: bad PDU from initiator: %s\n", pdu_strerror(e));
		return -1;
	}
	size_t rest = pdu_rest_len(p, &o);
	if (ISCSI_BHS_LEN + rest > RX_MAX || hs_read_full(c->fd, buf + ISCSI_BHS_LEN, rest))
		return -1;
	if (pdu_decode_rest(p, buf, ISCSI_BHS_LEN + rest, &o, &e)) {
		fprintf(stderr, "hostile_target: bad PDU from initiator: %s\n", pdu_strerror(e));
		return -1;
	}
	return 0;
}

static int send_pdu(struct conn *c, const struct pdu *p)
{
	struct pdu_opts o = { .max_data_len = ISCSI_MAX_DSL };
	size_t len = pdu_wire_len(p, &o), used;
	uint8_t *buf = malloc(len);
	int r = -1;

	if (buf && pdu_encode(p, &o, buf, len, &used) == 0)
		r = hs_write_full(c->fd, buf, used);
	free(buf);
	return r;
}

/* Appends "k=v\0" to a growing buffer. */
struct obuf {
	uint8_t *b;
	size_t len, cap;
};

static void ob_add(struct obuf *o, const void *s, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 1024;
		while (cap < o->len + n)
			cap *= 2;
		uint8_t *nb = realloc(o->b, cap);
		if (!nb) {
			perror("hostile_target: realloc");
			exit(1);
		}
		o->b = nb;
		o->cap = cap;
	}
	memcpy(o->b + o->len, s, n);
	o->len += n;
}

static void ob_kv(struct obuf *o, const char *k, const char *v)
{
	ob_add(o, k, strlen(k));
	ob_add(o, "=", 1);
	ob_add(o, v, strlen(v));
	ob_add(o, "", 1);
}

/* The answer a cooperative target gives to one operational key. NULL:
 * declarative, no answer. */
static const char *answer_key(struct conn *c, const char *k, const char *v)
{
	if (!strcmp(k, "InitiatorName") || !strcmp(k, "InitiatorAlias") || !strcmp(k, "SessionType") ||
	    !strcmp(k, "TargetName"))
		return NULL;
	if (!strcmp(k, "MaxRecvDataSegmentLength")) {
		unsigned long n = strtoul(v, NULL, 0);
		c->peer_mrdsl = n >= 512 && n <= 65536 ? (uint32_t)n : 8192;
		return NULL;
	}
	if (!strcmp(k, "HeaderDigest") || !strcmp(k, "DataDigest"))
		return "None";
	if (!strcmp(k, "IFMarker") || !strcmp(k, "OFMarker"))
		return "No";
	if (!strcmp(k, "TaskReporting"))
		return "RFC3720";
	if (!strcmp(k, "AuthMethod"))
		return "None";
	if (!strncmp(k, "X-", 2) || !strncmp(k, "X#", 2))
		return "NotUnderstood";
	/* Numbers (min/max rules) and booleans: the initiator's own value
	 * is always an acceptable result. */
	return v;
}

/* Reads and drops whatever the initiator sends until it closes. */
static void drain(struct conn *c, uint8_t *buf)
{
	while (read(c->fd, buf, RX_MAX) > 0)
		;
}

/* A malformed Login Response (modes login-*), then silence. */
static int send_broken_login_rsp(struct conn *c, struct pdu *rsp, uint8_t *buf)
{
	static const char keys[62] = "AuthMethod=None\0TargetPortalGroupTag=1\0HeaderDigest=None\0\0\0\0";
	struct pdu_opts o = { .max_data_len = ISCSI_MAX_DSL };
	uint8_t out[ISCSI_BHS_LEN + 64];
	size_t used;

	rsp->data = (const uint8_t *)keys;
	rsp->data_len = sizeof(keys);
	if (c->mode == M_LOGIN_BAD_ITT)
		rsp->itt = 0xdeadbeefu;
	if (pdu_encode(rsp, &o, out, sizeof(out), &used))
		return -1;
	if (c->mode == M_LOGIN_HUGE_DSL) {
		/* DataSegmentLength (BHS bytes 5..7) far beyond what is sent */
		out[5] = out[6] = out[7] = 0xff;
	}
	if (hs_write_full(c->fd, out, used))
		return -1;
	drain(c, buf);
	return -1;
}

/* Answers login requests until the full feature phase; 0 when done. */
static int do_login(struct conn *c, uint8_t *buf)
{
	struct pdu req;

	for (int round = 0; round < 16; round++) {
		if (recv_pdu(c, buf, &req))
			return -1;
		if (req.opcode != ISCSI_OP_LOGIN_REQ) {
			fprintf(stderr, "hostile_target: expected a Login Request\n");
			return -1;
		}
		if (c->mode == M_STALL_LOGIN) {
			pause();
			return -1;
		}
		uint16_t tsih;
		pdu_get_isid_tsih(&req, c->isid, &tsih);
		c->exp_cmdsn = req.cmdsn;

		struct obuf o = { 0 };
		struct text_iter it;
		struct text_pair kv;
		text_iter_init(&it, req.data, req.data_len);
		while (text_iter_next(&it, &kv) == 1) {
			char k[TEXT_KEY_MAX + 1], v[1024];
			if (kv.key_len >= sizeof(k) || kv.value_len >= sizeof(v))
				continue;
			memcpy(k, kv.key, kv.key_len);
			k[kv.key_len] = '\0';
			memcpy(v, kv.value, kv.value_len);
			v[kv.value_len] = '\0';
			const char *a = answer_key(c, k, v);
			if (a)
				ob_kv(&o, k, a);
		}

		unsigned csg = pdu_login_csg(&req), nsg = pdu_login_nsg(&req);
		bool transit = pdu_login_transit(&req);
		struct pdu rsp = {
			.opcode = ISCSI_OP_LOGIN_RSP,
			.flags = pdu_login_flags(transit, false, csg, transit ? nsg : 0),
			.itt = req.itt,
			.statsn = c->statsn,
			.exp_cmdsn = c->exp_cmdsn,
			.max_cmdsn = c->exp_cmdsn + 1,
			.data = o.len ? o.b : NULL,
			.data_len = (uint32_t)o.len,
		};
		bool done = transit && nsg == ISCSI_STAGE_FULL;
		pdu_set_isid_tsih(&rsp, c->isid, done ? 1 : 0);
		if (c->mode == M_LOGIN_BAD_ITT || c->mode == M_LOGIN_HUGE_DSL) {
			free(o.b);
			return send_broken_login_rsp(c, &rsp, buf);
		}
		if (c->mode == M_REJECT) {
			rsp.flags = pdu_login_flags(false, false, csg, 0);
			rsp.status_class = 2;
			rsp.status_detail = 1;
			rsp.data = NULL;
			rsp.data_len = 0;
		}
		int r = send_pdu(c, &rsp);
		free(o.b);
		c->statsn++;
		if (r || c->mode == M_REJECT)
			return -1;
		if (done)
			return 0;
	}
	return -1;
}

/* One Text Response; data is sent as is (the caller keeps parts within
 * the initiator's limit, except on purpose). */
static int send_text(struct conn *c, const struct pdu *req, const uint8_t *data, size_t len, bool more)
{
	struct pdu rsp = {
		.opcode = ISCSI_OP_TEXT_RSP,
		.flags = more ? ISCSI_FLAG_CONTINUE : ISCSI_FLAG_FINAL,
		.itt = req->itt,
		.ttt = more ? 0x1000u + c->statsn : ISCSI_RESERVED_TAG,
		.statsn = c->statsn++,
		.exp_cmdsn = req->cmdsn + 1,
		.max_cmdsn = req->cmdsn + 2,
		.data = len ? data : NULL,
		.data_len = (uint32_t)len,
	};
	memset(rsp.lun, 0, sizeof(rsp.lun));
	return send_pdu(c, &rsp);
}

/* Sends a whole LTDS split over Continue PDUs, reading the initiator's
 * empty Text Request between the parts (RFC 7143 §11.10.2). */
static int send_ltds(struct conn *c, struct pdu *req, uint8_t *buf, const uint8_t *data, size_t len)
{
	size_t off = 0, part = c->peer_mrdsl ? c->peer_mrdsl : 8192;

	for (;;) {
		size_t n = len - off < part ? len - off : part;
		bool more = off + n < len;
		if (send_text(c, req, data + off, n, more))
			return -1;
		off += n;
		if (!more)
			return 0;
		if (recv_pdu(c, buf, req) || req->opcode != ISCSI_OP_TEXT_REQ)
			return -1;
	}
}

static void target_list(struct conn *c, struct obuf *o, unsigned n)
{
	char name[128], addr[64];

	snprintf(addr, sizeof(addr), "127.0.0.1:%u,1", c->port);
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "iqn.2024-01.org.example.hostile:t%04u", i);
		ob_kv(o, "TargetName", name);
		ob_kv(o, "TargetAddress", addr);
	}
}

static int do_sendtargets(struct conn *c, uint8_t *buf)
{
	struct pdu req;
	struct obuf o = { 0 };
	int r = -1;

	if (recv_pdu(c, buf, &req) || req.opcode != ISCSI_OP_TEXT_REQ)
		return -1;

	switch (c->mode) {
	case M_NORMAL:
	case M_MANY:
		target_list(c, &o, c->count);
		r = send_ltds(c, &req, buf, o.b, o.len);
		break;
	case M_NOEQUALS:
		target_list(c, &o, 1);
		ob_add(&o, "TargetNameiqn.2024-01.org.example.hostile:bad", 46);
		r = send_ltds(c, &req, buf, o.b, o.len);
		break;
	case M_CONTROL:
		target_list(c, &o, 1);
		ob_kv(&o, "TargetName", "iqn.2024-01.org.example.hostile:\x1b[2J\x07x");
		r = send_ltds(c, &req, buf, o.b, o.len);
		break;
	case M_SLASH:
	case M_BADNAMES:
		if (c->mode == M_SLASH)
			target_list(c, &o, 1);
		ob_kv(&o, "TargetName", "iqn.2024-01.org.example.hostile:../../../../tmp/evil");
		ob_kv(&o, "TargetName", "iqn.2024-01.org.example.hostile:a/b");
		r = send_ltds(c, &req, buf, o.b, o.len);
		break;
	case M_OVERSIZED: {
		/* Valid pairs, an endless supply of them. */
		size_t sent = 0, part = c->peer_mrdsl ? c->peer_mrdsl : 8192;
		unsigned i = 0;
		while (sent < 64u * 1024 * 1024) {
			o.len = 0;
			while (o.len < part - 128) {
				char name[96];
				snprintf(name, sizeof(name), "iqn.2024-01.org.example.hostile:big%08u", i++);
				ob_kv(&o, "TargetName", name);
			}
			if (send_text(c, &req, o.b, o.len, true))
				break;
			sent += o.len;
			if (recv_pdu(c, buf, &req) || req.opcode != ISCSI_OP_TEXT_REQ)
				break;
		}
		r = -1;
		break;
	}
	case M_ENDLESS:
		for (unsigned i = 0; i < 10u * 1000 * 1000; i++) {
			if (send_text(c, &req, (const uint8_t *)"Tar", 3, true))
				break;
			if (recv_pdu(c, buf, &req) || req.opcode != ISCSI_OP_TEXT_REQ)
				break;
		}
		r = -1;
		break;
	case M_STALL:
		pause();
		break;
	case M_GARBAGE: {
		static const uint8_t junk[64] = "\xff\xff\xff\xffnot an iSCSI PDU at all........................";
		r = hs_write_full(c->fd, junk, sizeof(junk));
		sleep(1);
		break;
	}
	case M_STALL_LOGIN:
	case M_REJECT:
	case M_LOGIN_BAD_ITT:
	case M_LOGIN_HUGE_DSL:
	default:
		break;
	}
	free(o.b);
	return r;
}

/* Logout Request -> Logout Response "closed successfully". */
static void do_logout(struct conn *c, uint8_t *buf)
{
	struct pdu req;

	if (recv_pdu(c, buf, &req) || req.opcode != ISCSI_OP_LOGOUT_REQ)
		return;
	struct pdu rsp = {
		.opcode = ISCSI_OP_LOGOUT_RSP,
		.flags = ISCSI_FLAG_FINAL,
		.itt = req.itt,
		.statsn = c->statsn++,
		.exp_cmdsn = req.cmdsn + 1,
		.max_cmdsn = req.cmdsn + 2,
		.response = ISCSI_LOGOUT_RSP_OK,
	};
	send_pdu(c, &rsp);
}


/* --- io-* modes: a small disk that turns hostile on I/O --- */

#define IO_DISK_BLOCKS 2048u   /* 1 MiB of 512-byte blocks */

static int send_rsp(struct conn *c, const struct pdu *req, uint8_t status)
{
	struct pdu rsp = {
		.opcode = ISCSI_OP_SCSI_RSP,
		.flags = ISCSI_FLAG_FINAL,
		.itt = req->itt,
		.statsn = c->statsn++,
		.exp_cmdsn = req->cmdsn + 1,
		.max_cmdsn = req->cmdsn + 32,
		.status = status,
	};
	return send_pdu(c, &rsp);
}

/* Data-In with the status (S bit) for a command that reads len bytes. */
static int send_datain(struct conn *c, const struct pdu *req, const uint8_t *data, uint32_t len)
{
	uint32_t want = req->exp_xfer_len;
	struct pdu d = {
		.opcode = ISCSI_OP_DATA_IN,
		.flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_DATA_STATUS,
		.itt = req->itt,
		.ttt = ISCSI_RESERVED_TAG,
		.statsn = c->statsn++,
		.exp_cmdsn = req->cmdsn + 1,
		.max_cmdsn = req->cmdsn + 32,
		.data = len ? data : NULL,
		.data_len = len < want ? len : want,
	};
	memcpy(d.lun, req->lun, 8);
	if (len < want) {
		d.flags |= ISCSI_FLAG_RSP_UNDER;
		d.residual = want - len;
	}
	return send_pdu(c, &d);
}

/* The misbehaviour of the mode, in answer to req. */
static int misbehave(struct conn *c, const struct pdu *req, uint8_t *buf)
{
	static uint8_t big[8192];
	uint8_t raw[ISCSI_BHS_LEN + 100];

	memset(raw, 0, sizeof(raw));
	switch (c->mode) {
	case M_IO_BAD_PDU:
		raw[0] = 0x3e;
		raw[1] = 0x80;
		memcpy(raw + 16, &req->itt, 4);
		if (hs_write_full(c->fd, raw, ISCSI_BHS_LEN))
			return -1;
		break;
	case M_IO_DATAIN_OVERFLOW: {
		struct pdu d = {
			.opcode = ISCSI_OP_DATA_IN,
			.flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_DATA_STATUS,
			.itt = req->itt,
			.ttt = ISCSI_RESERVED_TAG,
			.statsn = c->statsn++,
			.exp_cmdsn = req->cmdsn + 1,
			.max_cmdsn = req->cmdsn + 32,
			.data = big,
			.data_len = req->exp_xfer_len * 2 < sizeof(big) ? req->exp_xfer_len * 2 : sizeof(big),
		};
		memset(big, 0xa5, sizeof(big));
		if (send_pdu(c, &d))
			return -1;
		break;
	}
	case M_IO_HUGE_DSL:
		raw[0] = ISCSI_OP_DATA_IN;
		raw[1] = ISCSI_FLAG_FINAL;
		raw[5] = raw[6] = raw[7] = 0xff;
		memcpy(raw + 16, &req->itt, 4);
		if (hs_write_full(c->fd, raw, sizeof(raw)))
			return -1;
		break;
	case M_IO_BAD_ITT: {
		struct pdu bad = *req;
		bad.itt = 0xdeadbeefu;
		if (send_rsp(c, &bad, 0))
			return -1;
		break;
	}
	case M_IO_R2T_BEYOND: {
		struct pdu r2t = {
			.opcode = ISCSI_OP_R2T,
			.flags = ISCSI_FLAG_FINAL,
			.itt = req->itt,
			.ttt = 0x1234,
			.statsn = c->statsn,
			.exp_cmdsn = req->cmdsn + 1,
			.max_cmdsn = req->cmdsn + 32,
			.buffer_offset = req->exp_xfer_len,
			.desired_len = 16u << 20,
		};
		memcpy(r2t.lun, req->lun, 8);
		if (send_pdu(c, &r2t))
			return -1;
		break;
	}
	default:
		return -1;
	}
	/* then whatever the initiator sends is read and ignored until it
	 * gives up on this connection */
	drain(c, buf);
	return -1;
}

static int serve_cmd(struct conn *c, struct pdu *req, uint8_t *buf)
{
	uint8_t d[64];
	uint8_t op = req->cdb[0];

	memset(d, 0, sizeof(d));
	switch (op) {
	case 0xa0: /* REPORT LUNS: LUN 0 */
		d[3] = 8;
		return send_datain(c, req, d, 16);
	case 0x12: /* INQUIRY, standard data: a disk */
		if (req->cdb[1] & 1)
			return send_rsp(c, req, 0x02);
		d[2] = 5;
		d[3] = 2;
		d[4] = 31;
		memcpy(d + 8, "HOSTILE DISK            0001", 28);
		return send_datain(c, req, d, 36);
	case 0x9e: /* READ CAPACITY(16) */
		d[6] = (IO_DISK_BLOCKS - 1) >> 8;
		d[7] = (IO_DISK_BLOCKS - 1) & 0xff;
		d[10] = 2;  /* 512 */
		return send_datain(c, req, d, 32);
	case 0x25: /* READ CAPACITY(10) */
		d[2] = (IO_DISK_BLOCKS - 1) >> 8;
		d[3] = (IO_DISK_BLOCKS - 1) & 0xff;
		d[6] = 2;
		return send_datain(c, req, d, 8);
	case 0x28: case 0x88: /* READ */
		if (c->mode != M_IO_R2T_BEYOND)
			return misbehave(c, req, buf);
		return send_datain(c, req, NULL, 0);
	case 0x2a: case 0x8a: /* WRITE: all of it came as immediate data */
		if (c->mode == M_IO_R2T_BEYOND)
			return misbehave(c, req, buf);
		return send_rsp(c, req, 0);
	default:   /* TEST UNIT READY, SYNCHRONIZE CACHE, ... */
		return send_rsp(c, req, 0);
	}
}

static void serve_io(struct conn *c, uint8_t *buf)
{
	struct pdu req;

	while (recv_pdu(c, buf, &req) == 0) {
		switch (req.opcode) {
		case ISCSI_OP_SCSI_CMD:
			if (serve_cmd(c, &req, buf))
				return;
			break;
		case ISCSI_OP_NOOP_OUT:
			if (req.itt != ISCSI_RESERVED_TAG) {
				struct pdu nop = {
					.opcode = ISCSI_OP_NOOP_IN,
					.flags = ISCSI_FLAG_FINAL,
					.itt = req.itt,
					.ttt = ISCSI_RESERVED_TAG,
					.statsn = c->statsn++,
					.exp_cmdsn = req.cmdsn + (req.immediate ? 0 : 1),
					.max_cmdsn = req.cmdsn + 32,
				};
				memcpy(nop.lun, req.lun, 8);
				if (send_pdu(c, &nop))
					return;
			}
			break;
		case ISCSI_OP_LOGOUT_REQ: {
			struct pdu rsp = {
				.opcode = ISCSI_OP_LOGOUT_RSP,
				.flags = ISCSI_FLAG_FINAL,
				.itt = req.itt,
				.statsn = c->statsn++,
				.exp_cmdsn = req.cmdsn + 1,
				.max_cmdsn = req.cmdsn + 2,
				.response = ISCSI_LOGOUT_RSP_OK,
			};
			send_pdu(c, &rsp);
			return;
		}
		default:   /* Data-Out (not expected: all writes are immediate) */
			break;
		}
	}
}

static void serve(struct conn *c)
{
	uint8_t *buf = malloc(RX_MAX);

	if (!buf)
		return;
	c->statsn = 0x100;
	if (mode_io(c->mode)) {
		if (do_login(c, buf) == 0)
			serve_io(c, buf);
	} else if (do_login(c, buf) == 0 && do_sendtargets(c, buf) == 0) {
		do_logout(c, buf);
	}
	free(buf);
}

static struct hs_args a;        /* a.port: the port bound, for the SendTargets answer */

/* hs_run's per-connection callback */
static void serve_fd(int fd, void *data)
{
	struct conn *c = data;
	c->fd = fd;
	c->port = (uint16_t)a.port;
	serve(c);
}

int main(int argc, char **argv)
{
	hs_parse_args(argc, argv, "hostile_target", mode_names, sizeof(mode_names) / sizeof(mode_names[0]), &a);
	struct conn c = { .mode = (enum mode)a.mode, .count = a.count };
	if (!c.count)
		c.count = c.mode == M_MANY ? 1500 : 3;
	return hs_run("hostile_target", &a, 300, serve_fd, &c);
}
