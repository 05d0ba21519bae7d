/* A scripted kernel for iscsid tests (fake_kernel.h). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chap.h"
#include "fake_kernel.h"
#include "fake_sysfs.h"
#include "iscsi_if.h"

enum { EV = 16, U = 32, R = 56, PL = 72 };

static void wr32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static uint32_t rd32(const uint8_t *b, size_t off)
{
	uint32_t v;
	memcpy(&v, b + off, 4);
	return v;
}

/* ---- the scripted kernel and target ---- */

struct fk fk;

void fk_push(const void *buf, size_t len)
{
	ck_assert_uint_lt(fk.tail, QMAX);
	fk.q[fk.tail] = malloc(len);
	ck_assert_ptr_nonnull(fk.q[fk.tail]);
	memcpy(fk.q[fk.tail], buf, len);
	fk.qlen[fk.tail++] = len;
	uint64_t one = 1;
	ck_assert_int_eq(write(fk.efd, &one, 8), 8);
}

void fk_event(uint32_t type, uint32_t sid, uint32_t r1, uint32_t r2, const void *payload, size_t plen)
{
	uint8_t b[PL + 48 + 8192];
	memset(b, 0, PL);
	wr32(b, 0, (uint32_t)(PL + plen));
	wr32(b, EV, type);
	wr32(b, R, sid);
	wr32(b, R + 4, r1);
	wr32(b, R + 8, r2);
	if (plen)
		memcpy(b + PL, payload, plen);
	fk_push(b, PL + plen);
}

static void fk_destroyed(uint32_t sid, bool event)
{
	if (fake_has_session(fk.sysfs, sid))
		fake_del_session(fk.sysfs, sid);   /* with its host (iscsi_tcp) */
	/* host_no first, then sid: the reverse of the other session events */
	if (event)
		fk_event(ISCSI_KEVENT_DESTROY_SESSION, 0, sid, 0, NULL, 0);
}

void fk_finish_destroys(bool events)
{
	for (size_t i = 0; i < fk.nheld; i++)
		fk_destroyed(fk.held[i], events);
	fk.nheld = 0;
}

void fk_conn_error(uint32_t sid, uint32_t err)
{
	fk_event(ISCSI_KEVENT_CONN_ERROR, sid, 0, err, NULL, 0);
}

/* a target PDU as RECV_PDU: BHS + DataSegmentLength bytes */
void fk_recv_pdu(uint32_t sid, const struct pdu *p)
{
	uint8_t buf[48 + 8192];
	ck_assert_int_eq(pdu_encode_bhs(p, NULL, buf), 0);
	if (p->data_len)
		memcpy(buf + 48, p->data, p->data_len);
	fk_event(ISCSI_KEVENT_RECV_PDU, sid, 0, 0, buf, 48 + p->data_len);
}

/* The value of KEY in a Login Request's key=value text (NUL separated),
 * or NULL. */
static const char *text_value(const uint8_t *d, size_t n, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < n;) {
		const char *kv = (const char *)d + i;
		size_t l = strnlen(kv, n - i);
		if (l > kl && !memcmp(kv, key, kl) && kv[kl] == '=')
			return kv + kl + 1;
		i += l + 1;
	}
	return NULL;
}

/* The security stage of a target that requires CHAP (fk.chap_secret):
 * AuthMethod=CHAP, CHAP_A=5 with a challenge, then the initiator's
 * response checked against fk.chap_name/chap_secret (0x0201 if wrong)
 * and, when it sends a challenge of its own, fk.chap_name_in's answer
 * with chap_secret_in. Fills rs (flags, data in buf); false when the
 * request is not the security stage. */
static bool fk_chap(const struct pdu *rq, const uint8_t *d, size_t n, struct pdu *rs, char *buf, size_t cap)
{
	static uint8_t id, chal[16];
	const char *v;
	bool t = pdu_login_transit(rq);
	int len = 0;

	if (pdu_login_csg(rq) != ISCSI_STAGE_SECURITY)
		return false;
	rs->flags = pdu_login_flags(false, false, ISCSI_STAGE_SECURITY, 0);
	if ((v = text_value(d, n, "AuthMethod"))) {
		if (!strstr(v, "CHAP")) {
			rs->status_class = 0x02;
			rs->status_detail = 0x01;
			return true;
		}
		len = snprintf(buf, cap, "AuthMethod=CHAP%cTargetPortalGroupTag=1", 0);
	} else if (text_value(d, n, "CHAP_A")) {
		char hex[2 * sizeof(chal) + 3];
		id++;
		for (size_t i = 0; i < sizeof(chal); i++)
			chal[i] = (uint8_t)(id * 31 + i);
		ck_assert_int_eq(chap_encode_hex(chal, sizeof(chal), hex, sizeof(hex)), 0);
		len = snprintf(buf, cap, "CHAP_A=5%cCHAP_I=%u%cCHAP_C=%s", 0, id, 0, hex);
	} else if ((v = text_value(d, n, "CHAP_R"))) {
		uint8_t got[CHAP_DIGEST_MAX], want[CHAP_DIGEST_MAX];
		size_t gl = 0, wl = 0;
		const char *name = text_value(d, n, "CHAP_N");
		ck_assert_int_eq(chap_response(CHAP_ALG_MD5, id, (const uint8_t *)fk.chap_secret,
					       strlen(fk.chap_secret), chal, sizeof(chal), want, sizeof(want), &wl), 0);
		if (chap_decode(v, got, sizeof(got), &gl) < 0 || gl != wl || memcmp(got, want, wl) ||
		    !name || strcmp(name, fk.chap_name ? fk.chap_name : "")) {
			rs->status_class = 0x02;
			rs->status_detail = 0x01;
			return true;
		}
		fk.chap_verified++;
		const char *ci = text_value(d, n, "CHAP_I"), *cc = text_value(d, n, "CHAP_C");
		if (ci && cc && fk.chap_secret_in) {
			uint8_t ichal[CHAP_MAX_BIN], r[CHAP_DIGEST_MAX];
			size_t il = 0, rl = 0;
			char hex[2 * CHAP_DIGEST_MAX + 3];
			ck_assert_int_eq(chap_decode(cc, ichal, sizeof(ichal), &il), 0);
			ck_assert_int_eq(chap_response(CHAP_ALG_MD5, (uint8_t)atoi(ci), (const uint8_t *)fk.chap_secret_in,
						       strlen(fk.chap_secret_in), ichal, il, r, sizeof(r), &rl), 0);
			ck_assert_int_eq(chap_encode_hex(r, rl, hex, sizeof(hex)), 0);
			len = snprintf(buf, cap, "CHAP_N=%s%cCHAP_R=%s", fk.chap_name_in ? fk.chap_name_in : "", 0, hex);
		}
		rs->flags = pdu_login_flags(t, false, ISCSI_STAGE_SECURITY, t ? pdu_login_nsg(rq) : 0);
	} else {
		return false;
	}
	rs->data = (const uint8_t *)buf;
	rs->data_len = len ? (uint32_t)len + 1 : 0;
	return true;
}

static void fk_login_rsp(uint32_t sid, const uint8_t *reqhdr, const uint8_t *data, size_t dlen)
{
	struct pdu rq, rs;
	char chapbuf[512];
	ck_assert_int_eq(pdu_decode_bhs(reqhdr, PDU_DIR_TO_TARGET, NULL, &rq, NULL), 0);
	if (fk.no_answer)
		return;
	if (fk.close_silently) {
		fk_conn_error(sid, ISCSI_IF_ERR_TCP_CONN_CLOSE);
		return;
	}
	if (fk.login_conn_error) {
		/* what iscsi_tcp does with a response whose header it cannot
		 * take (libiscsi_tcp: "datalen N > 8192", a foreign ITT) */
		fk_conn_error(sid, fk.login_conn_error);
		return;
	}
	unsigned csg = pdu_login_csg(&rq), nsg = pdu_login_nsg(&rq);
	memset(&rs, 0, sizeof(rs));
	rs.opcode = ISCSI_OP_LOGIN_RSP;
	memcpy(rs.isid, rq.isid, 6);
	rs.itt = 0x0000007fu;         /* the kernel's login task, not ours */
	rs.statsn = fk.statsn++;
	rs.exp_cmdsn = rq.cmdsn;
	rs.max_cmdsn = rq.cmdsn + 32;
	if (fk.redirect_port) {
		/* RFC 7143 §11.13.5: 0x0101 / 0x0102 with TargetAddress */
		char ta[300];
		int n = snprintf(ta, sizeof(ta), "TargetAddress=%s:%d,1",
				 fk.redirect_host ? fk.redirect_host : "127.0.0.1", fk.redirect_port);
		rs.status_class = 0x01;
		rs.status_detail = fk.redirect_permanent ? 0x02 : 0x01;
		rs.flags = pdu_login_flags(false, false, csg, 0);
		rs.data = (const uint8_t *)ta;
		rs.data_len = (uint32_t)n + 1;
		fk.redirect_port = 0;
		fk_recv_pdu(sid, &rs);
		return;
	}
	if (fk.unavailable) {
		/* LIO with the portal group disabled */
		fk.unavailable--;
		rs.status_class = 0x03;
		rs.status_detail = 0x01;
		rs.flags = pdu_login_flags(false, false, csg, 0);
		fk_recv_pdu(sid, &rs);
		return;
	}
	if (fk.fail_class || (fk.refuse_tsih && rq.tsih)) {
		rs.status_class = fk.fail_class ? fk.fail_class : 0x02;
		rs.status_detail = fk.fail_class ? fk.fail_detail : 0x0a;
		rs.flags = pdu_login_flags(false, false, csg, 0);
		fk_recv_pdu(sid, &rs);
		return;
	}
	if (fk.chap_secret && fk_chap(&rq, data, dlen, &rs, chapbuf, sizeof(chapbuf))) {
		fk_recv_pdu(sid, &rs);
		return;
	}
	static const char sec[] = "AuthMethod=None\0TargetPortalGroupTag=1";
	static const char op[] = "HeaderDigest=None\0DataDigest=None\0MaxRecvDataSegmentLength=65536";
	/* T as the request's (an initiator with CHAP credentials offers
	 * CHAP,None without T; None is the answer, then it asks to move on) */
	bool t = pdu_login_transit(&rq);
	rs.flags = pdu_login_flags(t, false, csg, t ? nsg : 0);
	rs.tsih = t && nsg == ISCSI_STAGE_FULL ? 0x1234 : rq.tsih;
	rs.data = (const uint8_t *)(csg == ISCSI_STAGE_SECURITY ? sec : op);
	rs.data_len = csg == ISCSI_STAGE_SECURITY ? sizeof(sec) : sizeof(op);
	fk_recv_pdu(sid, &rs);
	if (t && nsg == ISCSI_STAGE_FULL && fk.die_with_login) {
		fk.die_with_login--;
		fk_conn_error(sid, ISCSI_IF_ERR_INVALID_HOST);
	}
}

static void fk_logout_rsp(uint32_t sid)
{
	struct pdu rs;
	memset(&rs, 0, sizeof(rs));
	rs.opcode = ISCSI_OP_LOGOUT_RSP;
	rs.flags = ISCSI_FLAG_FINAL;
	rs.itt = 0x80;
	rs.statsn = fk.statsn++;
	fk_recv_pdu(sid, &rs);
}

static void fk_stats(uint32_t sid, uint32_t cid)
{
	uint8_t b[PL + sizeof(struct iscsi_stats) + 72];
	struct iscsi_stats st;
	memset(b, 0, sizeof(b));
	memset(&st, 0, sizeof(st));
	st.txdata_octets = 1000;
	st.scsicmd_pdus = 7;
	st.custom_length = 1;
	wr32(b, 0, sizeof(b));
	wr32(b, EV, ISCSI_UEVENT_GET_STATS);
	wr32(b, U, sid);
	wr32(b, U + 4, cid);
	memcpy(b + PL, &st, sizeof(st));
	snprintf((char *)b + PL + sizeof(st), 64, "eh_abort_cnt");
	uint64_t v = 3;
	memcpy(b + PL + sizeof(st) + 64, &v, 8);
	fk_push(b, sizeof(b));
}

ssize_t fk_send(void *io_data, const void *buf, size_t len)
{
	const uint8_t *m = buf;
	uint8_t rep[PL];
	(void)io_data;
	ck_assert_uint_ge(len, PL);
	ck_assert_uint_lt(fk.nreq, RMAX);
	struct req *rq = &fk.reqs[fk.nreq++];
	struct timespec ts;
	memset(rq, 0, sizeof(*rq));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	rq->ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	rq->type = rd32(m, EV);
	rq->sid = rd32(m, U);
	memcpy(rep, m, PL);
	wr32(rep, 0, PL);
	memset(rep + R, 0, 16);
	bool reply = true;
	switch (rq->type) {
	case ISCSI_UEVENT_CREATE_SESSION: {
		uint32_t sid = fk.next_sid++, host = fk.next_host++;
		/* the class session starts FREE; START_CONN logs it in */
		fake_add_host(fk.sysfs, host);
		fake_add_session(fk.sysfs, host, sid, "FREE\n");
		fake_session_attr(fk.sysfs, sid, "target_state", "ALLOCATED\n");
		fake_add_conn(fk.sysfs, host, sid, 0);
		wr32(rep, R, sid);
		wr32(rep, R + 4, host);
		break;
	}
	case ISCSI_UEVENT_CREATE_CONN:
		wr32(rep, R, rq->sid);
		wr32(rep, R + 4, rd32(m, U + 4));
		break;
	case ISCSI_UEVENT_SET_PARAM: {
		rq->param = rd32(m, U + 8);
		size_t vl = rd32(m, U + 12);
		if (vl > sizeof(rq->value))
			vl = sizeof(rq->value);
		memcpy(rq->value, m + PL, vl);
		rq->value[sizeof(rq->value) - 1] = '\0';
		break;
	}
	case ISCSI_UEVENT_BIND_CONN: {
		/* the kernel takes the socket by its descriptor here
		 * (sockfd_lookup) and iscsid closes its own right after: what
		 * it is bound to is read now */
		int sfd = (int)rd32(m, U + 8);
		socklen_t sl = sizeof(fk.bound_dev);
		memset(fk.bound_dev, 0, sizeof(fk.bound_dev));
		if (getsockopt(sfd, SOL_SOCKET, SO_BINDTODEVICE, fk.bound_dev, &sl) < 0)
			snprintf(fk.bound_dev, sizeof(fk.bound_dev), "?");
		break;
	}
	case ISCSI_UEVENT_STOP_CONN:
		rq->flag = rd32(m, U + 16);
		break;
	case ISCSI_UEVENT_SEND_PDU:
		memcpy(rq->bhs, m + PL, 48);
		break;
	case ISCSI_UEVENT_GET_STATS:
		reply = false;
		break;
	default:
		break;
	}
	if (rq->type == ISCSI_UEVENT_DESTROY_CONN)
		fake_del_conn(fk.sysfs, rq->sid, rd32(m, U + 4));
	if (rq->type == ISCSI_UEVENT_DESTROY_SESSION && fake_has_session(fk.sysfs, rq->sid))
		fake_del_session(fk.sysfs, rq->sid);   /* with its host (iscsi_tcp) */
	if (rq->type == ISCSI_UEVENT_START_CONN && fake_has_session(fk.sysfs, rq->sid)) {
		fake_session_attr(fk.sysfs, rq->sid, "state", "LOGGED_IN\n");
		fake_conn_attr(fk.sysfs, rq->sid, 0, "state", "up\n");
	}
	if (reply)
		fk_push(rep, PL);
	if (rq->type == ISCSI_UEVENT_START_CONN && fk.lun_on_start)
		fake_add_lun(fk.sysfs, fk.next_host - 1, rq->sid, 0, "running\n", fk.lun_on_start);

	/* what the kernel and the target do next */
	if (rq->type == ISCSI_UEVENT_SEND_PDU && (rq->bhs[0] & 0x3f) == ISCSI_OP_LOGIN_REQ)
		fk_login_rsp(rq->sid, rq->bhs, m + PL + 48, len > PL + 48 ? len - PL - 48 : 0);
	else if (rq->type == ISCSI_UEVENT_SEND_PDU && (rq->bhs[0] & 0x3f) == ISCSI_OP_LOGOUT_REQ)
		fk_logout_rsp(rq->sid);
	else if (rq->type == ISCSI_UEVENT_DESTROY_SESSION_ASYNC && fk.hold_destroy &&
		 fk.nheld < sizeof(fk.held) / sizeof(fk.held[0]))
		fk.held[fk.nheld++] = rq->sid;
	else if (rq->type == ISCSI_UEVENT_DESTROY_SESSION_ASYNC)
		fk_destroyed(rq->sid, true);
	else if (rq->type == ISCSI_UEVENT_UNBIND_SESSION)
		fk_event(ISCSI_KEVENT_UNBIND_SESSION, rq->sid, 0, 0, NULL, 0);
	else if (rq->type == ISCSI_UEVENT_GET_STATS)
		fk_stats(rq->sid, rd32(m, U + 4));
	return (ssize_t)len;
}

ssize_t fk_recv(void *io_data, void *buf, size_t cap)
{
	(void)io_data;
	if (fk.head == fk.tail)
		return -EAGAIN;
	size_t n = fk.qlen[fk.head];
	ck_assert_uint_le(n, cap);
	memcpy(buf, fk.q[fk.head], n);
	free(fk.q[fk.head]);
	fk.head++;
	if (fk.head == fk.tail) {
		uint64_t v;
		(void)!read(fk.efd, &v, 8);
	}
	return (ssize_t)n;
}

size_t count(uint32_t type)
{
	size_t n = 0;
	for (size_t i = 0; i < fk.nreq; i++)
		n += fk.reqs[i].type == type;
	return n;
}

size_t count_sid(uint32_t type, uint32_t sid)
{
	size_t n = 0;
	for (size_t i = 0; i < fk.nreq; i++)
		n += fk.reqs[i].type == type && fk.reqs[i].sid == sid;
	return n;
}

const struct req *last(uint32_t type)
{
	for (size_t i = fk.nreq; i-- > 0;)
		if (fk.reqs[i].type == type)
			return &fk.reqs[i];
	return NULL;
}

const struct req *last_param(uint32_t param)
{
	for (size_t i = fk.nreq; i-- > 0;)
		if (fk.reqs[i].type == ISCSI_UEVENT_SET_PARAM && fk.reqs[i].param == param)
			return &fk.reqs[i];
	return NULL;
}

ssize_t index_of(uint32_t type, size_t from)
{
	for (size_t i = from; i < fk.nreq; i++)
		if (fk.reqs[i].type == type)
			return (ssize_t)i;
	return -1;
}

