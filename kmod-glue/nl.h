/* NETLINK_ISCSI: talking to scsi_transport_iscsi.
 *
 * Two layers:
 *
 *  1. A pure codec (nl_codec.c): nl_build_*() write one request message
 *     into a caller buffer, nl_parse_msg() decodes one received message,
 *     nl_msg_iter walks a datagram that holds several. No I/O, no
 *     allocation; unit-tested against the byte layouts of
 *     reference/kernel-iscsi-abi.md §1.
 *
 *  2. A context (nl.c), struct nl_iscsi: the socket (through libmnl),
 *     synchronous requests with a timeout, and a bounded queue of events
 *     that arrived while a reply was awaited (reference §5 gotcha 1).
 *
 * Event loop integration (the daemon):
 *   - watch nl_iscsi_fd() for EPOLLIN, level-triggered;
 *   - call nl_iscsi_dispatch() when it is readable AND whenever
 *     nl_iscsi_has_queued() is true (events queued during a request do
 *     not make the fd readable); e.g. check it before every epoll_wait;
 *   - the event callback may issue requests (nl_stop_conn() from a
 *     CONN_ERROR); events read meanwhile join the queue, in order.
 *   - an NL_MSG_OVERRUN "event" means the kernel dropped events (ENOBUFS,
 *     or our own queue limit): re-read session and connection state from
 *     sysfs. It is not fatal.
 *
 * Every function returns 0 or a negative errno; ret_* outputs are written
 * only on success. Request functions return the kernel's error: the
 * negative errno of an IF_ERROR reply, or r.retcode for the requests that
 * report through it (BIND_CONN, START_CONN, SEND_PDU).
 */
#ifndef KMODGLUE_NL_H
#define KMODGLUE_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "iscsi_if.h"

/* ---- codec ------------------------------------------------------------ */

/* Largest SET_PARAM/SET_HOST_PARAM value: the kernel takes len <= PAGE_SIZE
 * including the NUL. */
#define NL_PARAM_VALUE_MAX   (ISCSI_IF_PARAM_VALUE_MAX - 1)
/* SEND_PDU limits: a BHS plus AHS, and the kernel's 8192-byte data cap. */
#define NL_PDU_HDR_MAX       (ISCSI_IF_PDU_HDR_LEN + 255u * 4u)
#define NL_PDU_DATA_MAX      ISCSI_IF_PDU_DATA_MAX
/* Enough for any request we build. */
#define NL_REQ_MAX           (ISCSI_IF_MSG_MIN + NL_PDU_HDR_MAX + NL_PDU_DATA_MAX)

/* Each builder writes nlmsghdr + iscsi_uevent (+ payload) at buf and sets
 * *ret_len to nlmsg_len (72 + payload, not padded). nlmsg_type and ev.type
 * are both the request type, nlmsg_flags 0, nlmsg_seq/pid 0 (the kernel
 * ignores them), every unused byte 0. -ENOBUFS if cap is too small,
 * -EINVAL for bad arguments (value too long, sizes over the limits). */
int nl_build_create_session(void *buf, size_t cap, uint64_t handle, uint32_t initial_cmdsn,
			    uint16_t cmds_max, uint16_t queue_depth, size_t *ret_len);
int nl_build_destroy_session(void *buf, size_t cap, uint64_t handle, uint32_t sid, size_t *ret_len);
int nl_build_destroy_session_async(void *buf, size_t cap, uint64_t handle, uint32_t sid,
				   size_t *ret_len);
int nl_build_unbind_session(void *buf, size_t cap, uint64_t handle, uint32_t sid, size_t *ret_len);
int nl_build_create_conn(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
			 size_t *ret_len);
int nl_build_bind_conn(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
		       uint64_t transport_eph, bool is_leading, size_t *ret_len);
int nl_build_set_param(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
		       uint32_t param, const char *value, size_t *ret_len);
int nl_build_set_host_param(void *buf, size_t cap, uint64_t handle, uint32_t host_no,
			    uint32_t param, const char *value, size_t *ret_len);
int nl_build_send_pdu(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
		      const void *hdr, size_t hdr_len, const void *data, size_t data_len,
		      size_t *ret_len);
int nl_build_start_conn(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
			size_t *ret_len);
/* flag: ISCSI_STOP_CONN_TERM or ISCSI_STOP_CONN_RECOVER (others -EINVAL) */
int nl_build_stop_conn(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
		       uint32_t flag, size_t *ret_len);
int nl_build_destroy_conn(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
			  size_t *ret_len);
int nl_build_get_stats(void *buf, size_t cap, uint64_t handle, uint32_t sid, uint32_t cid,
		       size_t *ret_len);

enum nl_msg_kind {
	NL_MSG_REPLY = 1,     /* unicast answer to our request (nlmsg_type != 0) */
	NL_MSG_EVENT,         /* multicast kernel event we decode (fields below) */
	NL_MSG_STATS,         /* multicast GET_STATS answer (nlmsg_type 0, ev.type 20) */
	NL_MSG_IGNORED,       /* well-formed but of no interest (unknown type, offload-only) */
	NL_MSG_OVERRUN,       /* never parsed: synthesised by the context for lost events */
};

/* The decoded view of one message. Which fields are meaningful:
 *
 *  REPLY: req_type (= nlmsg_type), iferror (0, or the negative errno when
 *         ev.type was IF_ERROR), and when iferror == 0: retcode for
 *         BIND_CONN/START_CONN/SEND_PDU, sid+host_no for CREATE_SESSION,
 *         sid+cid for CREATE_CONN.
 *  EVENT: type =
 *         ISCSI_KEVENT_RECV_PDU       sid, cid, payload = BHS + data (>= 48)
 *         ISCSI_KEVENT_CONN_ERROR     sid, cid, error (enum iscsi_if_err)
 *         ISCSI_KEVENT_CREATE_SESSION sid, host_no (also reported for the
 *                                     type-11 form of old kernels)
 *         ISCSI_KEVENT_DESTROY_SESSION sid, host_no
 *         ISCSI_KEVENT_UNBIND_SESSION sid, host_no
 *  STATS: sid, cid (echoed), payload = struct iscsi_stats + customs,
 *         already length-checked; decode with nl_stats_decode().
 *
 * payload points into the buffer given to nl_parse_msg() and is only
 * valid as long as it. Only bytes the kernel initialises are read (§1.2:
 * most events leave iferror and u uninitialised). */
struct nl_msg_info {
	enum nl_msg_kind kind;
	uint16_t nlmsg_type;
	uint32_t type;          /* ev.type */
	uint32_t req_type;      /* REPLY: the request answered */
	int iferror;
	int32_t retcode;
	uint32_t sid;
	uint32_t cid;
	uint32_t host_no;
	uint32_t error;
	const uint8_t *payload;
	size_t payload_len;
};

/* Decode one message that starts at buf; len is what is left of the
 * datagram. The message is nlmsg_len bytes (16 <= nlmsg_len <= len).
 * -EBADMSG: truncated or inconsistent (nlmsg_len < 72 or > len, a reply
 * whose ev.type is neither its nlmsg_type nor IF_ERROR, RECV_PDU shorter
 * than a BHS, stats shorter than custom_length says, custom_length > 32). */
int nl_parse_msg(const void *buf, size_t len, struct nl_msg_info *ret);

/* Walk the messages of one received datagram. next() returns 1 with *ret
 * filled, 0 at the end, -EBADMSG for a bad message: if the framing itself
 * was broken (nlmsg_len < 16 or past the end) the rest of the datagram is
 * dropped, otherwise only that message is skipped; call next() again. */
struct nl_msg_iter {
	const uint8_t *buf;
	size_t len;
	size_t off;
};
void nl_msg_iter_init(struct nl_msg_iter *it, const void *buf, size_t len);
int nl_msg_iter_next(struct nl_msg_iter *it, struct nl_msg_info *ret);

struct nl_stats_custom {
	char desc[ISCSI_STATS_CUSTOM_DESC_MAX + 1];   /* always NUL-terminated */
	uint64_t value;
};

struct nl_stats {
	uint32_t sid, cid;
	struct iscsi_stats s;                         /* s.custom_length = n_custom */
	uint32_t n_custom;
	struct nl_stats_custom custom[ISCSI_STATS_CUSTOM_MAX];
};

/* Copy a STATS message (kind NL_MSG_STATS) into *ret. -EINVAL otherwise. */
int nl_stats_decode(const struct nl_msg_info *m, struct nl_stats *ret);

/* Names for logs: "CREATE_SESSION", "RECV_PDU", "TCP_CONN_CLOSE", ... or
 * "unknown". */
const char *nl_type_name(uint32_t type);
const char *nl_conn_error_name(uint32_t error);

/* ---- context ---------------------------------------------------------- */

struct nl_iscsi;

/* Called for every event, STATS answer that nobody awaited, and overrun
 * (kind NL_MSG_OVERRUN, other fields 0). m and m->payload are valid only
 * during the call. Events for sessions the daemon does not know must be
 * filtered by the daemon (other tools' sessions arrive too). */
typedef void (*nl_event_fn)(struct nl_iscsi *nl, const struct nl_msg_info *m, void *userdata);

#define NL_DEFAULT_TIMEOUT_MS 5000
#define NL_RCVBUF_BYTES       (4 * 1024 * 1024)
#define NL_EVQ_MAX_MSGS       1024u
#define NL_EVQ_MAX_BYTES      (2u * 1024u * 1024u)
#define NL_RX_BUF             32768u

/* Open socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC|SOCK_NONBLOCK,
 * NETLINK_ISCSI), bind to group ISCSI_NL_GRP_ISCSID with a kernel-chosen
 * port id, raise the receive buffer. Errors: -EPROTONOSUPPORT (module
 * scsi_transport_iscsi not loaded / not loadable), -EPERM (binding the
 * group needs CAP_NET_ADMIN), -ENOMEM. See nl_strerror(). The transport
 * handle starts unset: requests fail with -ENODEV until
 * nl_iscsi_load_handle() or nl_iscsi_set_handle(). */
int nl_iscsi_open(struct nl_iscsi **ret);

/* For tests and alternative transports: the context over caller-provided
 * I/O. send() returns bytes sent or -errno; recv() returns one datagram's
 * length, -EAGAIN when empty, -ENOBUFS on overrun, other -errno; fd is
 * what nl_iscsi_fd() returns and what the wait polls. io is copied. */
struct nl_iscsi_io {
	int fd;
	ssize_t (*send)(void *io_data, const void *buf, size_t len);
	ssize_t (*recv)(void *io_data, void *buf, size_t cap);
	void *io_data;
};
int nl_iscsi_open_io(const struct nl_iscsi_io *io, struct nl_iscsi **ret);

void nl_iscsi_free(struct nl_iscsi *nl);    /* NULL ok; closes the socket */

int nl_iscsi_fd(const struct nl_iscsi *nl);
uint32_t nl_iscsi_portid(const struct nl_iscsi *nl);   /* sysfs `creator` of our sessions */

/* Read class/iscsi_transport/<transport>/handle under sysfs_root (NULL =
 * "/sys"; transport NULL = "tcp"). Re-call after iscsi_tcp is reloaded. */
int nl_iscsi_load_handle(struct nl_iscsi *nl, const char *sysfs_root, const char *transport);
void nl_iscsi_set_handle(struct nl_iscsi *nl, uint64_t handle);
uint64_t nl_iscsi_handle(const struct nl_iscsi *nl);

void nl_iscsi_set_timeout(struct nl_iscsi *nl, int timeout_ms);   /* <= 0: default */
void nl_iscsi_set_event_cb(struct nl_iscsi *nl, nl_event_fn cb, void *userdata);

/* Deliver queued events, then read and deliver everything the socket holds
 * (up to 256 datagrams per call, so a flood cannot starve the loop; the fd
 * stays readable). 0, or a negative errno for a socket error. */
int nl_iscsi_dispatch(struct nl_iscsi *nl);
bool nl_iscsi_has_queued(const struct nl_iscsi *nl);

/* Requests. Synchronous: they send, then wait up to the timeout for the
 * answer, queueing events that arrive first. -ETIMEDOUT if none came. */
/* CREATE_SESSION and DESTROY_SESSION are sent by a clone of the caller
 * with signals of its own, so that the kernel's flush of the pending
 * signals in iscsi_host_remove() cannot swallow a SIGKILL or SIGTERM sent
 * to the daemon (see nl.c). */
int nl_create_session(struct nl_iscsi *nl, uint32_t initial_cmdsn, uint16_t cmds_max,
		      uint16_t queue_depth, uint32_t *ret_sid, uint32_t *ret_host_no);
int nl_destroy_session(struct nl_iscsi *nl, uint32_t sid);
int nl_destroy_session_async(struct nl_iscsi *nl, uint32_t sid);
int nl_unbind_session(struct nl_iscsi *nl, uint32_t sid);
int nl_create_conn(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, uint32_t *ret_cid);
/* fd: the connected TCP socket, open in THIS process (§5 gotcha 8:
 * a bad fd is r.retcode -EEXIST). */
int nl_bind_conn(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, int fd, bool is_leading);
int nl_set_param(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, enum iscsi_param param,
		 const char *value);
int nl_set_param_int(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, enum iscsi_param param,
		     int value);
int nl_set_param_uint(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, enum iscsi_param param,
		      uint32_t value);
int nl_set_host_param(struct nl_iscsi *nl, uint32_t host_no, enum iscsi_host_param param,
		      const char *value);
/* hdr: the 48-byte BHS (plus AHS if any); the kernel replaces ITT and
 * CmdSN (§2.2 step 7). */
int nl_send_pdu(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, const void *hdr,
		size_t hdr_len, const void *data, size_t data_len);
int nl_start_conn(struct nl_iscsi *nl, uint32_t sid, uint32_t cid);
int nl_stop_conn(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, uint32_t flag);
int nl_destroy_conn(struct nl_iscsi *nl, uint32_t sid, uint32_t cid);
int nl_get_stats(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, struct nl_stats *ret);

/* Text for errors from this module, in the project's words:
 * -EPROTONOSUPPORT -> "NETLINK_ISCSI unavailable: kernel module
 * scsi_transport_iscsi not loaded", -ECONNREFUSED (other net namespace),
 * -ETIMEDOUT, -ENODEV (no transport handle), else strerror(). */
const char *nl_strerror(int err);

#endif
