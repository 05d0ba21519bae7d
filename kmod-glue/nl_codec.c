/* NETLINK_ISCSI message encoding and decoding: pure functions over byte
 * buffers (reference/kernel-iscsi-abi.md §1.2-§1.8). Buffers may be
 * unaligned, so fields are moved with memcpy, never through casts. */
#include <errno.h>
#include <linux/netlink.h>
#include <string.h>

#include "nl.h"

_Static_assert(sizeof(struct nlmsghdr) == ISCSI_IF_NLMSGHDR_LEN, "nlmsghdr size");

/* Offsets inside a message (nlmsghdr + uevent), from the struct layout. */
#define EV_OFF                 ISCSI_IF_NLMSGHDR_LEN
#define OFF(member)            (EV_OFF + offsetof(struct iscsi_uevent, member))

static uint32_t get_u32(const uint8_t *p, size_t off)
{
	uint32_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static uint16_t get_u16(const uint8_t *p, size_t off)
{
	uint16_t v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* Write header + uevent (+ up to two payload parts) for request `type`.
 * `ev` supplies the u union; type/handle are set here, r and iferror stay
 * zero. */
static int build(void *buf, size_t cap, uint32_t type, uint64_t handle, struct iscsi_uevent *ev,
		 const void *p1, size_t l1, const void *p2, size_t l2, size_t *ret_len)
{
	struct nlmsghdr nlh;
	size_t total;

	if (!buf || !ev || !ret_len)
		return -EINVAL;
	if (l1 > NL_REQ_MAX || l2 > NL_REQ_MAX)
		return -EINVAL;
	total = ISCSI_IF_MSG_MIN + l1 + l2;
	if (total > cap)
		return -ENOBUFS;

	ev->type = type;
	ev->iferror = 0;
	ev->transport_handle = handle;
	memset(&ev->r, 0, sizeof(ev->r));

	memset(&nlh, 0, sizeof(nlh));
	nlh.nlmsg_len = (uint32_t)total;     /* not padded, as open-iscsi sends it */
	nlh.nlmsg_type = (uint16_t)type;
	memcpy(buf, &nlh, sizeof(nlh));
	memcpy((uint8_t *)buf + EV_OFF, ev, sizeof(*ev));
	if (l1)
		memcpy((uint8_t *)buf + ISCSI_IF_MSG_MIN, p1, l1);
	if (l2)
		memcpy((uint8_t *)buf + ISCSI_IF_MSG_MIN + l1, p2, l2);
	*ret_len = total;
	return 0;
}

/* Every builder starts from an all-zero uevent so padding and unused union
 * bytes never carry stack garbage to the kernel. */
#define EV_ZERO(ev) struct iscsi_uevent ev; memset(&ev, 0, sizeof(ev))

int nl_build_create_session(void *buf, size_t cap, uint64_t handle, uint32_t initial_cmdsn,
			    uint16_t cmds_max, uint16_t queue_depth, size_t *ret_len)
{
	EV_ZERO(ev);
	ev.u.c_session.initial_cmdsn = initial_cmdsn;
	ev.u.c_session.cmds_max = cmds_max;
	ev.u.c_session.queue_depth = queue_depth;
	return build(buf, cap, ISCSI_UEVENT_CREATE_SESSION, handle, &ev, NULL, 0, NULL, 0, ret_len);
}

static int build_sid(void *buf, size_t cap, uint32_t type, uint64_t handle, uint32_t sid,
		     size_t *ret_len)
{
	EV_ZERO(ev);
	ev.u.d_session.sid = sid;
	return build(buf, cap, type, handle, &ev, NULL, 0, NULL, 0, ret_len);
}

int nl_build_destroy_session(void *buf, size_t cap, uint64_t handle, uint32_t sid, size_t *ret_len)
{
	return build_sid(buf, cap, ISCSI_UEVENT_DESTROY_SESSION, handle, sid, ret_len);
}

int nl_build_destroy_session_async(void *buf, size_t cap, uint64_t handle, uint32_t sid,
				   size_t *ret_len)
{
	return build_sid(buf, cap, ISCSI_UEVENT_DESTROY_SESSION_ASYNC, handle, sid, ret_len);
}

int nl_build_unbind_session(void *buf, size_t cap, uint64_t handle, uint32_t sid, size_t *ret_len)
{
	return build_sid(buf, cap, ISCSI_UEVENT_UNBIND_SESSION, handle, sid, ret_len);
}

/* CREATE_CONN, DESTROY_CONN, START_CONN and GET_STATS share the layout
 * sid @16, cid @20. */
static int build_sid_cid(void *buf, size_t cap, uint32_t type, uint64_t handle, uint32_t sid,
			 uint32_t cid, size_t *ret_len)
{
	EV_ZERO(ev);
	ev.u.c_conn.sid = sid;
	ev.u.c_conn.cid = cid;
	return build(buf, cap, type, handle, &ev, NULL, 0, NULL, 0, ret_len);
}

int nl_build_create_conn(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
			 size_t *ret_len)
{
	return build_sid_cid(buf, cap, ISCSI_UEVENT_CREATE_CONN, handle, sid, cid, ret_len);
}

int nl_build_destroy_conn(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
			  size_t *ret_len)
{
	return build_sid_cid(buf, cap, ISCSI_UEVENT_DESTROY_CONN, handle, sid, cid, ret_len);
}

int nl_build_start_conn(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
			size_t *ret_len)
{
	return build_sid_cid(buf, cap, ISCSI_UEVENT_START_CONN, handle, sid, cid, ret_len);
}

int nl_build_get_stats(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
		       size_t *ret_len)
{
	return build_sid_cid(buf, cap, ISCSI_UEVENT_GET_STATS, handle, sid, cid, ret_len);
}

int nl_build_bind_conn(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
		       uint64_t transport_eph, bool is_leading, size_t *ret_len)
{
	EV_ZERO(ev);
	ev.u.b_conn.sid = sid;
	ev.u.b_conn.cid = cid;
	ev.u.b_conn.transport_eph = transport_eph;
	ev.u.b_conn.is_leading = is_leading ? 1 : 0;
	return build(buf, cap, ISCSI_UEVENT_BIND_CONN, handle, &ev, NULL, 0, NULL, 0, ret_len);
}

int nl_build_stop_conn(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
		       uint32_t flag, size_t *ret_len)
{
	/* 6.1 only acts on TERM and RECOVER; anything else is silently a
	 * no-op there (§1.6), which would hide a caller bug. */
	if (flag != ISCSI_STOP_CONN_TERM && flag != ISCSI_STOP_CONN_RECOVER)
		return -EINVAL;
	EV_ZERO(ev);
	ev.u.stop_conn.sid = sid;
	ev.u.stop_conn.cid = cid;
	ev.u.stop_conn.flag = flag;
	return build(buf, cap, ISCSI_UEVENT_STOP_CONN, handle, &ev, NULL, 0, NULL, 0, ret_len);
}

/* The value travels NUL-terminated with len = strlen + 1, which passes both
 * the 6.1.53 checks (len <= payload, strlen(data) <= len), §1.5 and §6. */
static int value_len(const char *value, size_t *ret)
{
	size_t n;

	if (!value)
		return -EINVAL;
	n = strnlen(value, NL_PARAM_VALUE_MAX + 1);
	if (n > NL_PARAM_VALUE_MAX)
		return -EINVAL;
	*ret = n + 1;
	return 0;
}

int nl_build_set_param(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
		       uint32_t param, const char *value, size_t *ret_len)
{
	size_t len;
	int r;

	r = value_len(value, &len);
	if (r < 0)
		return r;
	if (param >= ISCSI_PARAM_MAX)
		return -EINVAL;
	EV_ZERO(ev);
	ev.u.set_param.sid = sid;
	ev.u.set_param.cid = cid;
	ev.u.set_param.param = param;
	ev.u.set_param.len = (uint32_t)len;
	return build(buf, cap, ISCSI_UEVENT_SET_PARAM, handle, &ev, value, len, NULL, 0, ret_len);
}

int nl_build_set_host_param(void *buf, size_t cap, uint64_t handle, uint32_t host_no,
			    uint32_t param, const char *value, size_t *ret_len)
{
	size_t len;
	int r;

	r = value_len(value, &len);
	if (r < 0)
		return r;
	if (param >= ISCSI_HOST_PARAM_MAX)
		return -EINVAL;
	EV_ZERO(ev);
	ev.u.set_host_param.host_no = host_no;
	ev.u.set_host_param.param = param;
	ev.u.set_host_param.len = (uint32_t)len;
	return build(buf, cap, ISCSI_UEVENT_SET_HOST_PARAM, handle, &ev, value, len, NULL, 0,
		     ret_len);
}

int nl_build_send_pdu(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
		      const void *hdr, size_t hdr_len, const void *data, size_t data_len,
		      size_t *ret_len)
{
	/* The kernel copies a 48-byte BHS out of the header part. */
	if (!hdr || hdr_len < ISCSI_IF_PDU_HDR_LEN || hdr_len > NL_PDU_HDR_MAX)
		return -EINVAL;
	if (data_len > NL_PDU_DATA_MAX || (data_len && !data))
		return -EINVAL;
	EV_ZERO(ev);
	ev.u.send_pdu.sid = sid;
	ev.u.send_pdu.cid = cid;
	ev.u.send_pdu.hdr_size = (uint32_t)hdr_len;
	ev.u.send_pdu.data_size = (uint32_t)data_len;
	return build(buf, cap, ISCSI_UEVENT_SEND_PDU, handle, &ev, hdr, hdr_len, data, data_len,
		     ret_len);
}

/* ---- decoding --------------------------------------------------------- */

static int parse_reply(const uint8_t *p, uint16_t nlmsg_type, uint32_t type,
		       struct nl_msg_info *m)
{
	m->kind = NL_MSG_REPLY;
	m->req_type = nlmsg_type;
	if (type == ISCSI_KEVENT_IF_ERROR) {
		/* iferror is a u32 holding a negative errno (§1.8). A reply
		 * claiming an error without a negative value is malformed. */
		int32_t e = (int32_t)get_u32(p, OFF(iferror));

		if (e >= 0 || e < -4095)
			return -EBADMSG;
		m->iferror = e;
		return 0;
	}
	if (type != nlmsg_type)
		return -EBADMSG;
	switch (nlmsg_type) {
	case ISCSI_UEVENT_CREATE_SESSION:
	case ISCSI_UEVENT_CREATE_BOUND_SESSION:
		m->sid = get_u32(p, OFF(r.c_session_ret.sid));
		m->host_no = get_u32(p, OFF(r.c_session_ret.host_no));
		break;
	case ISCSI_UEVENT_CREATE_CONN:
		m->sid = get_u32(p, OFF(r.c_conn_ret.sid));
		m->cid = get_u32(p, OFF(r.c_conn_ret.cid));
		break;
	case ISCSI_UEVENT_BIND_CONN:
	case ISCSI_UEVENT_START_CONN:
	case ISCSI_UEVENT_SEND_PDU:
	case ISCSI_UEVENT_TRANSPORT_EP_POLL:
		m->retcode = (int32_t)get_u32(p, OFF(r.retcode));
		break;
	default:
		break;
	}
	return 0;
}

static int parse_stats(const uint8_t *p, size_t msg_len, struct nl_msg_info *m)
{
	size_t plen = msg_len - ISCSI_IF_MSG_MIN;
	uint32_t n;

	if (plen < ISCSI_IF_STATS_LEN)
		return -EBADMSG;
	n = get_u32(p, ISCSI_IF_MSG_MIN + offsetof(struct iscsi_stats, custom_length));
	if (n > ISCSI_STATS_CUSTOM_MAX)
		return -EBADMSG;
	if (plen < ISCSI_IF_STATS_LEN + (size_t)n * ISCSI_IF_STATS_CUSTOM_LEN)
		return -EBADMSG;
	m->kind = NL_MSG_STATS;
	/* the stats message memsets its uevent, so u is safe to read */
	m->sid = get_u32(p, OFF(u.get_stats.sid));
	m->cid = get_u32(p, OFF(u.get_stats.cid));
	m->payload = p + ISCSI_IF_MSG_MIN;
	m->payload_len = ISCSI_IF_STATS_LEN + (size_t)n * ISCSI_IF_STATS_CUSTOM_LEN;
	return 0;
}

/* Events: read only r fields the kernel writes for that type (§1.2, §5
 * gotcha 10), never iferror or u. */
static int parse_event(const uint8_t *p, size_t msg_len, uint32_t type, struct nl_msg_info *m)
{
	m->kind = NL_MSG_EVENT;
	switch (type) {
	case ISCSI_KEVENT_RECV_PDU:
		if (msg_len < ISCSI_IF_MSG_MIN + ISCSI_IF_PDU_HDR_LEN)
			return -EBADMSG;
		m->sid = get_u32(p, OFF(r.recv_req.sid));
		m->cid = get_u32(p, OFF(r.recv_req.cid));
		m->payload = p + ISCSI_IF_MSG_MIN;
		m->payload_len = msg_len - ISCSI_IF_MSG_MIN;
		return 0;
	case ISCSI_KEVENT_CONN_ERROR:
		m->sid = get_u32(p, OFF(r.connerror.sid));
		m->cid = get_u32(p, OFF(r.connerror.cid));
		m->error = get_u32(p, OFF(r.connerror.error));
		return 0;
	case ISCSI_UEVENT_CREATE_SESSION:
		/* old kernels announced new sessions with the request type */
		m->type = ISCSI_KEVENT_CREATE_SESSION;
		/* fall through */
	case ISCSI_KEVENT_CREATE_SESSION:
		m->sid = get_u32(p, OFF(r.c_session_ret.sid));
		m->host_no = get_u32(p, OFF(r.c_session_ret.host_no));
		return 0;
	case ISCSI_KEVENT_UNBIND_SESSION:
		m->sid = get_u32(p, OFF(r.unbind_session.sid));
		m->host_no = get_u32(p, OFF(r.unbind_session.host_no));
		return 0;
	case ISCSI_KEVENT_DESTROY_SESSION:
		/* host_no first: the reverse of the other session events */
		m->host_no = get_u32(p, OFF(r.d_session.host_no));
		m->sid = get_u32(p, OFF(r.d_session.sid));
		return 0;
	default:
		m->kind = NL_MSG_IGNORED;
		return 0;
	}
}

int nl_parse_msg(const void *buf, size_t len, struct nl_msg_info *ret)
{
	const uint8_t *p = buf;
	struct nl_msg_info m;
	uint32_t msg_len, type;
	uint16_t nlmsg_type;
	int r;

	if (!p || !ret)
		return -EINVAL;
	if (len < ISCSI_IF_NLMSGHDR_LEN)
		return -EBADMSG;
	msg_len = get_u32(p, offsetof(struct nlmsghdr, nlmsg_len));
	if (msg_len > len || msg_len < ISCSI_IF_MSG_MIN)
		return -EBADMSG;
	nlmsg_type = get_u16(p, offsetof(struct nlmsghdr, nlmsg_type));
	type = get_u32(p, OFF(type));

	memset(&m, 0, sizeof(m));
	m.nlmsg_type = nlmsg_type;
	m.type = type;
	if (nlmsg_type != 0)
		r = parse_reply(p, nlmsg_type, type, &m);
	else if (type == ISCSI_UEVENT_GET_STATS)
		r = parse_stats(p, msg_len, &m);
	else
		r = parse_event(p, msg_len, type, &m);
	if (r < 0)
		return r;
	*ret = m;
	return 0;
}

void nl_msg_iter_init(struct nl_msg_iter *it, const void *buf, size_t len)
{
	it->buf = buf;
	it->len = buf ? len : 0;
	it->off = 0;
}

int nl_msg_iter_next(struct nl_msg_iter *it, struct nl_msg_info *ret)
{
	const uint8_t *p;
	size_t left, step;
	uint32_t msg_len;

	if (it->off >= it->len)
		return 0;
	p = it->buf + it->off;
	left = it->len - it->off;
	if (left < ISCSI_IF_NLMSGHDR_LEN) {
		it->off = it->len;
		/* a few alignment bytes after the last message are fine */
		return left < NLMSG_ALIGNTO ? 0 : -EBADMSG;
	}
	msg_len = get_u32(p, 0);
	if (msg_len < ISCSI_IF_NLMSGHDR_LEN || msg_len > left) {
		it->off = it->len;      /* framing lost: drop the rest */
		return -EBADMSG;
	}
	step = NLMSG_ALIGN((size_t)msg_len);
	it->off += step < left ? step : left;
	return nl_parse_msg(p, msg_len, ret) < 0 ? -EBADMSG : 1;
}

int nl_stats_decode(const struct nl_msg_info *m, struct nl_stats *ret)
{
	struct nl_stats s;

	if (!m || !ret || m->kind != NL_MSG_STATS || !m->payload ||
	    m->payload_len < ISCSI_IF_STATS_LEN)
		return -EINVAL;
	memset(&s, 0, sizeof(s));
	s.sid = m->sid;
	s.cid = m->cid;
	memcpy(&s.s, m->payload, ISCSI_IF_STATS_LEN);
	if (s.s.custom_length > ISCSI_STATS_CUSTOM_MAX ||
	    m->payload_len < ISCSI_IF_STATS_LEN + (size_t)s.s.custom_length * ISCSI_IF_STATS_CUSTOM_LEN)
		return -EINVAL;
	s.n_custom = s.s.custom_length;
	for (uint32_t i = 0; i < s.n_custom; i++) {
		const uint8_t *c = m->payload + ISCSI_IF_STATS_LEN + (size_t)i * ISCSI_IF_STATS_CUSTOM_LEN;

		/* desc may fill all 64 bytes without a NUL */
		memcpy(s.custom[i].desc, c, ISCSI_STATS_CUSTOM_DESC_MAX);
		s.custom[i].desc[ISCSI_STATS_CUSTOM_DESC_MAX] = '\0';
		memcpy(&s.custom[i].value, c + offsetof(struct iscsi_stats_custom, value),
		       sizeof(uint64_t));
	}
	*ret = s;
	return 0;
}

const char *nl_type_name(uint32_t type)
{
	static const char *const names[] = {
		[ISCSI_UEVENT_CREATE_SESSION] = "CREATE_SESSION",
		[ISCSI_UEVENT_DESTROY_SESSION] = "DESTROY_SESSION",
		[ISCSI_UEVENT_CREATE_CONN] = "CREATE_CONN",
		[ISCSI_UEVENT_DESTROY_CONN] = "DESTROY_CONN",
		[ISCSI_UEVENT_BIND_CONN] = "BIND_CONN",
		[ISCSI_UEVENT_SET_PARAM] = "SET_PARAM",
		[ISCSI_UEVENT_START_CONN] = "START_CONN",
		[ISCSI_UEVENT_STOP_CONN] = "STOP_CONN",
		[ISCSI_UEVENT_SEND_PDU] = "SEND_PDU",
		[ISCSI_UEVENT_GET_STATS] = "GET_STATS",
		[ISCSI_UEVENT_SET_HOST_PARAM] = "SET_HOST_PARAM",
		[ISCSI_UEVENT_UNBIND_SESSION] = "UNBIND_SESSION",
		[ISCSI_UEVENT_DESTROY_SESSION_ASYNC] = "DESTROY_SESSION_ASYNC",
		[ISCSI_KEVENT_RECV_PDU] = "RECV_PDU",
		[ISCSI_KEVENT_CONN_ERROR] = "CONN_ERROR",
		[ISCSI_KEVENT_IF_ERROR] = "IF_ERROR",
		[ISCSI_KEVENT_DESTROY_SESSION] = "KEVENT_DESTROY_SESSION",
		[ISCSI_KEVENT_UNBIND_SESSION] = "KEVENT_UNBIND_SESSION",
		[ISCSI_KEVENT_CREATE_SESSION] = "KEVENT_CREATE_SESSION",
		[ISCSI_KEVENT_PATH_REQ] = "PATH_REQ",
		[ISCSI_KEVENT_IF_DOWN] = "IF_DOWN",
		[ISCSI_KEVENT_CONN_LOGIN_STATE] = "CONN_LOGIN_STATE",
		[ISCSI_KEVENT_HOST_EVENT] = "HOST_EVENT",
		[ISCSI_KEVENT_PING_COMP] = "PING_COMP",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}

const char *nl_conn_error_name(uint32_t error)
{
	static const char *const names[] = {
		"OK", "DATASN", "DATA_OFFSET", "MAX_CMDSN", "EXP_CMDSN", "BAD_OPCODE",
		"DATALEN", "AHSLEN", "PROTO", "LUN", "BAD_ITT", "CONN_FAILED", "R2TSN",
		"SESSION_FAILED", "HDR_DGST", "DATA_DGST", "PARAM_NOT_FOUND", "NO_SCSI_CMD",
		"INVALID_HOST", "XMIT_FAILED", "TCP_CONN_CLOSE", "SCSI_EH_SESSION_RST",
		"NOP_TIMEDOUT",
	};

	if (error == 0)
		return names[0];
	if (error > ISCSI_IF_ERR_BASE && error - ISCSI_IF_ERR_BASE < sizeof(names) / sizeof(names[0]))
		return names[error - ISCSI_IF_ERR_BASE];
	return "unknown";
}
