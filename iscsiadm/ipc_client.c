/* Control protocol client (see ipc_client.h). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "ipc_client.h"

__attribute__((format(printf, 3, 4)))
static int fail(struct ipc_reply *ret, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ret->message, sizeof(ret->message), fmt, ap);
	va_end(ap);
	ret->status = status;
	return status;
}

int ipc_client_timeout(uint16_t type)
{
	switch (type) {
	case IPC_MSG_LOGIN:
	case IPC_MSG_LOGOUT:
	case IPC_MSG_RESCAN:
		return IPC_CLIENT_NO_TIMEOUT;
	default:
		return IPC_CLIENT_QUICK_TIMEOUT_MS;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll timeout left until deadline (-1 = none). */
static int left(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t l = deadline - now_ms();
	return l < 0 ? 0 : (int)(l > 1000000000 ? 1000000000 : l);
}

static int connect_to(const char *path, int timeout_ms, struct ipc_reply *ret, int *ret_fd)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
		return fail(ret, ISCSI_ERR_INVAL, "invalid iscsid socket path");
	strcpy(sa.sun_path, path);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(ret, ISCSI_ERR_NOMEM, "cannot create a socket: %s", strerror(errno));
	/* A UNIX connect() blocks while the daemon's backlog is full; the
	 * send timeout bounds that wait. */
	if (timeout_ms >= 0) {
		struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	int r;
	do
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		int e = errno;
		close(fd);
		if (e == EACCES || e == EPERM)
			return fail(ret, ISCSI_ERR_ACCESS,
				    "could not connect to iscsid at %s: %s (only root may use iscsid)", path,
				    strerror(e));
		if (e == EAGAIN || e == ETIMEDOUT)
			return fail(ret, ISCSI_ERR_REQ_TIMEDOUT,
				    "could not connect to iscsid at %s: timed out (daemon busy)", path);
		return fail(ret, ISCSI_ERR_ISCSID_NOTCONN, "could not connect to iscsid at %s: %s", path,
			    strerror(e));
	}
	*ret_fd = fd;
	return 0;
}

/* Sends frame; stops early (without error) when the daemon already
 * answers or closes: its answer explains why. */
static int send_frame(int fd, const uint8_t *frame, size_t len, int64_t deadline, struct ipc_reply *ret)
{
	size_t off = 0;
	while (off < len) {
		struct pollfd p = { .fd = fd, .events = POLLOUT | POLLIN };
		int n = poll(&p, 1, left(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(ret, ISCSI_ERR_ISCSID_COMM_ERR, "poll: %s", strerror(errno));
		if (n == 0)
			return fail(ret, ISCSI_ERR_REQ_TIMEDOUT, "timed out sending the request to iscsid");
		if (p.revents & (POLLIN | POLLHUP | POLLERR))
			return 0;
		ssize_t w = send(fd, frame + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (w < 0)
			return 0;       /* EPIPE, ECONNRESET: read what it said */
		off += (size_t)w;
	}
	return 0;
}

/* Reads exactly len bytes. 0, or an exit code with the message set. */
static int recv_exact(int fd, uint8_t *buf, size_t len, int64_t deadline, bool started,
		      struct ipc_reply *ret)
{
	size_t off = 0;
	while (off < len) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int n = poll(&p, 1, left(deadline));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(ret, ISCSI_ERR_ISCSID_COMM_ERR, "poll: %s", strerror(errno));
		if (n == 0)
			return fail(ret, ISCSI_ERR_REQ_TIMEDOUT, "timed out waiting for iscsid to answer");
		ssize_t r = recv(fd, buf + off, len - off, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (r <= 0) {
			if (!started && off == 0)
				return fail(ret, ISCSI_ERR_ISCSID_COMM_ERR,
					    "iscsid closed the connection without answering (daemon died?)");
			return fail(ret, ISCSI_ERR_ISCSID_COMM_ERR,
				    "connection to iscsid dropped in the middle of its answer");
		}
		off += (size_t)r;
	}
	return 0;
}

static int read_answer(int fd, const struct ipc_hdr *req, int64_t deadline, struct ipc_reply *ret)
{
	uint8_t hb[IPC_HDR_LEN];
	struct ipc_hdr h;
	int r = recv_exact(fd, hb, sizeof(hb), deadline, false, ret);
	if (r)
		return r;
	if (ipc_hdr_decode(hb, sizeof(hb), &h) < 0)
		return fail(ret, ISCSI_ERR_ISCSID_COMM_ERR,
			    "the peer at the iscsid socket does not speak the iscsid control protocol");
	if (h.len > IPC_MAX_PAYLOAD) {
		if (h.version != IPC_PROTO_VERSION)
			goto version;
		return fail(ret, ISCSI_ERR_ISCSID_COMM_ERR, "iscsid sent an answer over the size limit");
	}
	uint8_t *body = NULL;
	if (h.len) {
		body = malloc(h.len);
		if (!body)
			return fail(ret, ISCSI_ERR_NOMEM, "out of memory");
		r = recv_exact(fd, body, h.len, deadline, true, ret);
		if (r) {
			free(body);
			return r;
		}
	}
	struct ipc_msg *m = NULL;
	r = ipc_msg_decode(&h, body, h.len, &m);
	free(body);
	if (r < 0) {
		if (h.version != IPC_PROTO_VERSION)
			goto version;
		return fail(ret, ISCSI_ERR_ISCSID_COMM_ERR, "iscsid sent a malformed answer");
	}

	uint32_t status;
	const char *msg = ipc_get_str(&m->fields, IPC_TAG_MESSAGE);
	bool has_status = ipc_get_u32(&m->fields, IPC_TAG_STATUS, &status) == 0;
	if (h.version != IPC_PROTO_VERSION) {
		/* Only the fixed-forever fields mean anything here. */
		r = fail(ret, has_status && status ? (int)status : ISCSI_ERR_INVALID_MGMT_REQ, "%s",
			 msg ? msg : "");
		if (!msg)
			goto version_free;
		ipc_msg_free(m);
		return r;
	}
	bool ours = h.type == req->type && h.id == req->id;
	bool early = h.type == IPC_MSG_NONE && h.id == 0 && has_status && status != 0;
	if (!(h.flags & IPC_FLAG_RESPONSE) || !(ours || early) || !has_status) {
		ipc_msg_free(m);
		return fail(ret, ISCSI_ERR_ISCSID_COMM_ERR, "iscsid sent an answer that does not match the request");
	}
	/* exit codes must fit a process status */
	ret->status = status > 255 ? ISCSI_ERR : (int)status;
	snprintf(ret->message, sizeof(ret->message), "%s", msg ? msg : "");
	if (ret->status && !ret->message[0])
		snprintf(ret->message, sizeof(ret->message), "%s", iscsi_err_str(ret->status));
	ret->msg = m;
	return ret->status;

version_free:
	ipc_msg_free(m);
version:
	return fail(ret, ISCSI_ERR_INVALID_MGMT_REQ,
		    "iscsid speaks protocol %u, iscsiadm speaks %u: install matching versions", h.version,
		    IPC_PROTO_VERSION);
}

int ipc_client_call(const char *path, const uint8_t *frame, size_t len, int timeout_ms,
		    struct ipc_reply *ret)
{
	struct ipc_hdr req;
	int fd = -1;

	memset(ret, 0, sizeof(*ret));
	if (!frame || ipc_hdr_decode(frame, len, &req) < 0 || len != IPC_HDR_LEN + (size_t)req.len)
		return fail(ret, ISCSI_ERR_INVAL, "invalid request frame");
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	int r = connect_to(path, timeout_ms, ret, &fd);
	if (r)
		return r;
	r = send_frame(fd, frame, len, deadline, ret);
	if (!r)
		r = read_answer(fd, &req, deadline, ret);
	close(fd);
	return r;
}

static int hello_frame(uint8_t **ret_buf, size_t *ret_len);

int ipc_client_send_accepted(const char *path, const uint8_t *frame, size_t len, int accept_ms, int answer_ms,
			     struct ipc_reply *ret, bool *ret_queued)
{
	struct ipc_hdr req, hello_hdr;
	uint8_t *hello = NULL;
	size_t hello_len = 0;
	int fd = -1;

	memset(ret, 0, sizeof(*ret));
	*ret_queued = false;
	if (!frame || ipc_hdr_decode(frame, len, &req) < 0 || len != IPC_HDR_LEN + (size_t)req.len)
		return fail(ret, ISCSI_ERR_INVAL, "invalid request frame");
	if (hello_frame(&hello, &hello_len) < 0)
		return fail(ret, ISCSI_ERR_NOMEM, "out of memory");
	(void)ipc_hdr_decode(hello, hello_len, &hello_hdr);

	/* A connect() that returns has only reached the listen backlog, and
	 * a request written then sits in the socket buffer: neither says
	 * iscsid will ever read it (stopped, hung, backlog full). An answer
	 * to HELLO on this connection does; the request follows on it. */
	int64_t deadline = now_ms() + accept_ms;
	int r = connect_to(path, accept_ms, ret, &fd);
	if (!r)
		r = send_frame(fd, hello, hello_len, deadline, ret);
	if (!r)
		r = read_answer(fd, &hello_hdr, deadline, ret);
	free(hello);
	ipc_reply_free(ret);
	if (r == ISCSI_ERR_REQ_TIMEDOUT)
		r = fail(ret, r, "iscsid did not take the request within %d s (stopped or overloaded?); nothing was sent",
			 accept_ms / 1000);
	if (r) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	memset(ret, 0, sizeof(*ret));
	deadline = now_ms() + answer_ms;
	r = send_frame(fd, frame, len, deadline, ret);
	if (r == ISCSI_ERR_REQ_TIMEDOUT) {
		/* iscsid reads a request only when it is complete */
		r = fail(ret, r, "timed out sending the request to iscsid; nothing was sent");
	} else if (!r) {
		r = read_answer(fd, &req, deadline, ret);
		if (r == ISCSI_ERR_REQ_TIMEDOUT) {
			/* Read by a daemon that is serving us: it carries on
			 * after we close. */
			memset(ret, 0, sizeof(*ret));
			*ret_queued = true;
			r = 0;
		}
	}
	close(fd);
	return r;
}

void ipc_reply_free(struct ipc_reply *ret)
{
	if (!ret)
		return;
	ipc_msg_free(ret->msg);
	ret->msg = NULL;
}

/* ---- helpers ---- */

static uint32_t new_id(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint32_t id = (uint32_t)getpid() * 2654435761u ^ (uint32_t)ts.tv_nsec;
	return id ? id : 1;
}

static int call_writer(const char *path, struct ipc_writer *w, struct ipc_reply *ret)
{
	uint8_t *buf;
	size_t len;
	uint16_t type = w->type;
	int r = ipc_writer_finish(w, &buf, &len);
	if (r < 0) {
		memset(ret, 0, sizeof(*ret));
		if (r == -EMSGSIZE || r == -E2BIG)
			return fail(ret, ISCSI_ERR_INVAL, "request too large for the control protocol");
		return fail(ret, r == -ENOMEM ? ISCSI_ERR_NOMEM : ISCSI_ERR_INVAL,
			    "cannot build the request: %s", strerror(-r));
	}
	r = ipc_client_call(path, buf, len, ipc_client_timeout(type), ret);
	/* LOGIN frames carry the node record, CHAP secrets included. */
	explicit_bzero(buf, len);
	free(buf);
	return r;
}

static void writer_start(struct ipc_writer *w, uint16_t type)
{
	ipc_writer_init(w, type, 0, new_id());
}

int ipc_client_hello(const char *path, struct ipc_reply *ret)
{
	struct ipc_writer w;
	writer_start(&w, IPC_MSG_HELLO);
	ipc_put_u32(&w, IPC_TAG_PROTO_VERSION, IPC_PROTO_VERSION);
	return call_writer(path, &w, ret);
}

static int hello_frame(uint8_t **ret_buf, size_t *ret_len)
{
	struct ipc_writer w;
	writer_start(&w, IPC_MSG_HELLO);
	ipc_put_u32(&w, IPC_TAG_PROTO_VERSION, IPC_PROTO_VERSION);
	return ipc_writer_finish(&w, ret_buf, ret_len);
}

int ipc_client_login(const char *path, const char *record_text, uint32_t flags, struct ipc_reply *ret)
{
	struct ipc_writer w;
	writer_start(&w, IPC_MSG_LOGIN);
	ipc_put_str(&w, IPC_TAG_RECORD, record_text);
	ipc_put_u32(&w, IPC_TAG_LOGIN_FLAGS, flags);
	return call_writer(path, &w, ret);
}

int ipc_client_login_background(const char *path, const char *record_text, uint32_t flags, uint32_t background_ms,
				struct ipc_reply *ret)
{
	struct ipc_writer w;
	writer_start(&w, IPC_MSG_LOGIN);
	ipc_put_str(&w, IPC_TAG_RECORD, record_text);
	ipc_put_u32(&w, IPC_TAG_LOGIN_FLAGS, flags);
	ipc_put_u32(&w, IPC_TAG_LOGIN_BACKGROUND_MS, background_ms);
	return call_writer(path, &w, ret);
}

int ipc_client_logout_sid(const char *path, uint32_t sid, struct ipc_reply *ret)
{
	struct ipc_writer w;
	writer_start(&w, IPC_MSG_LOGOUT);
	ipc_put_u32(&w, IPC_TAG_SID, sid);
	return call_writer(path, &w, ret);
}

int ipc_client_logout_node(const char *path, const char *target, const char *portal, const char *iface,
			   struct ipc_reply *ret)
{
	struct ipc_writer w;
	writer_start(&w, IPC_MSG_LOGOUT);
	ipc_put_str(&w, IPC_TAG_TARGET_NAME, target);
	if (portal)
		ipc_put_str(&w, IPC_TAG_PORTAL, portal);
	if (iface)
		ipc_put_str(&w, IPC_TAG_IFACE, iface);
	return call_writer(path, &w, ret);
}

int ipc_client_session_state(const char *path, struct ipc_reply *ret)
{
	struct ipc_writer w;
	writer_start(&w, IPC_MSG_SESSION_LIST_STATE);
	return call_writer(path, &w, ret);
}

int ipc_client_rescan(const char *path, const uint32_t *sid, struct ipc_reply *ret)
{
	struct ipc_writer w;
	writer_start(&w, IPC_MSG_RESCAN);
	if (sid)
		ipc_put_u32(&w, IPC_TAG_SID, *sid);
	return call_writer(path, &w, ret);
}

int ipc_client_session_stats(const char *path, uint32_t sid, struct ipc_reply *ret)
{
	struct ipc_writer w;
	writer_start(&w, IPC_MSG_SESSION_STATS);
	ipc_put_u32(&w, IPC_TAG_SID, sid);
	return call_writer(path, &w, ret);
}

int ipc_client_reload(const char *path, struct ipc_reply *ret)
{
	struct ipc_writer w;
	writer_start(&w, IPC_MSG_RELOAD);
	return call_writer(path, &w, ret);
}

int ipc_client_stop(const char *path, struct ipc_reply *ret)
{
	struct ipc_writer w;
	writer_start(&w, IPC_MSG_STOP);
	return call_writer(path, &w, ret);
}
