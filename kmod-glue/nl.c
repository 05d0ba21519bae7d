/* The NETLINK_ISCSI socket: synchronous requests, queued events
 * (reference/kernel-iscsi-abi.md §1, §5). */
#include <errno.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nl.h"
#include "sysfs.h"

struct evq_item {
	struct evq_item *next;
	size_t len;
	uint8_t data[];
};

struct nl_iscsi {
	struct mnl_socket *mnl;     /* NULL with caller-provided I/O */
	struct nl_iscsi_io io;
	uint64_t handle;
	int timeout_ms;
	nl_event_fn cb;
	void *userdata;
	/* events that arrived while a reply was awaited, oldest first */
	struct evq_item *evq_head, *evq_tail;
	size_t evq_msgs, evq_bytes;
	bool overrun;               /* events lost: tell the daemon once */
	uint8_t tx[NL_REQ_MAX];
	uint8_t rx[NL_RX_BUF];
};

/* ---- the real socket --------------------------------------------------- */

static ssize_t mnl_io_send(void *io_data, const void *buf, size_t len)
{
	struct nl_iscsi *nl = io_data;
	ssize_t n = mnl_socket_sendto(nl->mnl, buf, len);

	return n < 0 ? -errno : n;
}

/* recvmsg rather than mnl_socket_recvfrom: we also need the sender, since
 * only the kernel (port 0) may speak to us, and MSG_TRUNC. */
static ssize_t mnl_io_recv(void *io_data, void *buf, size_t cap)
{
	struct nl_iscsi *nl = io_data;

	for (;;) {
		struct sockaddr_nl addr;
		struct iovec iov = { .iov_base = buf, .iov_len = cap };
		struct msghdr msg = {
			.msg_name = &addr, .msg_namelen = sizeof(addr),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t n;

		n = recvmsg(mnl_socket_get_fd(nl->mnl), &msg, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (msg.msg_namelen != sizeof(addr) || addr.nl_pid != 0)
			continue;           /* not from the kernel: drop */
		if (msg.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		return n;
	}
}

static struct nl_iscsi *ctx_new(void)
{
	struct nl_iscsi *nl = calloc(1, sizeof(*nl));

	if (nl)
		nl->timeout_ms = NL_DEFAULT_TIMEOUT_MS;
	return nl;
}

int nl_iscsi_open(struct nl_iscsi **ret)
{
	struct nl_iscsi *nl;
	int size = NL_RCVBUF_BYTES, e;

	if (!ret)
		return -EINVAL;
	nl = ctx_new();
	if (!nl)
		return -ENOMEM;
	nl->mnl = mnl_socket_open2(NETLINK_ISCSI, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!nl->mnl)
		goto fail;
	/* port id chosen by the kernel: several sockets per process (§5
	 * gotcha 14); group 1 needs CAP_NET_ADMIN */
	if (mnl_socket_bind(nl->mnl, 1u << (ISCSI_NL_GRP_ISCSID - 1), MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	/* Events are multicast GFP_ATOMIC and dropped when the queue is full
	 * (§5 gotcha 5): make room. FORCE ignores rmem_max but needs
	 * CAP_NET_ADMIN; failure of either is not fatal. */
	if (setsockopt(mnl_socket_get_fd(nl->mnl), SOL_SOCKET, SO_RCVBUFFORCE, &size,
		       sizeof(size)) < 0)
		(void)setsockopt(mnl_socket_get_fd(nl->mnl), SOL_SOCKET, SO_RCVBUF, &size,
				 sizeof(size));
	nl->io.fd = mnl_socket_get_fd(nl->mnl);
	nl->io.send = mnl_io_send;
	nl->io.recv = mnl_io_recv;
	nl->io.io_data = nl;
	*ret = nl;
	return 0;
fail:
	e = errno ? -errno : -EIO;
	if (nl->mnl)
		mnl_socket_close(nl->mnl);
	free(nl);
	return e;
}

int nl_iscsi_open_io(const struct nl_iscsi_io *io, struct nl_iscsi **ret)
{
	struct nl_iscsi *nl;

	if (!io || !io->send || !io->recv || !ret)
		return -EINVAL;
	nl = ctx_new();
	if (!nl)
		return -ENOMEM;
	nl->io = *io;
	*ret = nl;
	return 0;
}

static void evq_clear(struct nl_iscsi *nl)
{
	struct evq_item *it = nl->evq_head;

	while (it) {
		struct evq_item *next = it->next;

		free(it);
		it = next;
	}
	nl->evq_head = nl->evq_tail = NULL;
	nl->evq_msgs = nl->evq_bytes = 0;
}

void nl_iscsi_free(struct nl_iscsi *nl)
{
	if (!nl)
		return;
	evq_clear(nl);
	if (nl->mnl)
		mnl_socket_close(nl->mnl);
	explicit_bzero(nl, sizeof(*nl));
	free(nl);
}

int nl_iscsi_fd(const struct nl_iscsi *nl)
{
	return nl ? nl->io.fd : -EINVAL;
}

uint32_t nl_iscsi_portid(const struct nl_iscsi *nl)
{
	return nl && nl->mnl ? mnl_socket_get_portid(nl->mnl) : 0;
}

int nl_iscsi_load_handle(struct nl_iscsi *nl, const char *sysfs_root, const char *transport)
{
	uint64_t h;
	int r;

	if (!nl)
		return -EINVAL;
	r = sysfs_transport_handle(sysfs_root, transport ? transport : "tcp", &h);
	if (r < 0)
		return r;
	if (h == 0)
		return -EINVAL;
	nl->handle = h;
	return 0;
}

void nl_iscsi_set_handle(struct nl_iscsi *nl, uint64_t handle)
{
	if (nl)
		nl->handle = handle;
}

uint64_t nl_iscsi_handle(const struct nl_iscsi *nl)
{
	return nl ? nl->handle : 0;
}

void nl_iscsi_set_timeout(struct nl_iscsi *nl, int timeout_ms)
{
	if (nl)
		nl->timeout_ms = timeout_ms > 0 ? timeout_ms : NL_DEFAULT_TIMEOUT_MS;
}

void nl_iscsi_set_event_cb(struct nl_iscsi *nl, nl_event_fn cb, void *userdata)
{
	if (!nl)
		return;
	nl->cb = cb;
	nl->userdata = userdata;
}

bool nl_iscsi_has_queued(const struct nl_iscsi *nl)
{
	return nl && (nl->evq_head || nl->overrun);
}

/* ---- event queue ------------------------------------------------------- */

/* Keep a copy of one message. Past the limits the event is dropped and the
 * daemon told to resync, exactly as for a kernel-side ENOBUFS. */
static void evq_push(struct nl_iscsi *nl, const uint8_t *msg, size_t len)
{
	struct evq_item *it;

	if (nl->evq_msgs >= NL_EVQ_MAX_MSGS || nl->evq_bytes + len > NL_EVQ_MAX_BYTES) {
		nl->overrun = true;
		return;
	}
	it = malloc(sizeof(*it) + len);
	if (!it) {
		nl->overrun = true;
		return;
	}
	it->next = NULL;
	it->len = len;
	memcpy(it->data, msg, len);
	if (nl->evq_tail)
		nl->evq_tail->next = it;
	else
		nl->evq_head = it;
	nl->evq_tail = it;
	nl->evq_msgs++;
	nl->evq_bytes += len;
}

static struct evq_item *evq_pop(struct nl_iscsi *nl)
{
	struct evq_item *it = nl->evq_head;

	if (!it)
		return NULL;
	nl->evq_head = it->next;
	if (!nl->evq_head)
		nl->evq_tail = NULL;
	nl->evq_msgs--;
	nl->evq_bytes -= it->len;
	return it;
}

static void deliver_overrun(struct nl_iscsi *nl)
{
	struct nl_msg_info m;

	nl->overrun = false;
	memset(&m, 0, sizeof(m));
	m.kind = NL_MSG_OVERRUN;
	if (nl->cb)
		nl->cb(nl, &m, nl->userdata);
}

/* Deliver everything queued. The callback may issue requests, which may
 * append to the queue; popping one item at a time keeps that safe. */
static void evq_deliver(struct nl_iscsi *nl)
{
	struct evq_item *it;

	for (;;) {
		/* the overrun goes last, so the resync from sysfs it
		 * triggers sees at least what the queued events said */
		if (nl->overrun && !nl->evq_head) {
			deliver_overrun(nl);
			continue;
		}
		it = evq_pop(nl);
		if (!it)
			break;
		if (nl->cb) {
			struct nl_msg_info m;

			if (nl_parse_msg(it->data, it->len, &m) == 0)
				nl->cb(nl, &m, nl->userdata);
		}
		free(it);
	}
}

struct waiter;
static void scan_datagram(struct nl_iscsi *nl, size_t len, struct waiter *w);

int nl_iscsi_dispatch(struct nl_iscsi *nl)
{
	int budget = 256;

	if (!nl)
		return -EINVAL;
	evq_deliver(nl);
	while (budget-- > 0) {
		ssize_t n = nl->io.recv(nl->io.io_data, nl->rx, sizeof(nl->rx));

		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n == -ENOBUFS) {
			nl->overrun = true;
		} else if (n == -EMSGSIZE) {
			continue;              /* one oversized datagram: skip */
		} else if (n < 0) {
			return (int)n;
		} else {
			scan_datagram(nl, (size_t)n, NULL);
		}
		evq_deliver(nl);
	}
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What a request waits for, and where its answer goes. */
struct waiter {
	uint32_t type;
	uint32_t sid, cid;           /* GET_STATS: match the multicast answer */
	bool found;
	struct nl_msg_info reply;
	struct nl_stats *stats;
};

/* Look through one datagram for our answer (w may be NULL: nothing
 * awaited); queue the events around it. */
static void scan_datagram(struct nl_iscsi *nl, size_t len, struct waiter *w)
{
	struct nl_msg_iter it;
	struct nl_msg_info m;
	size_t off = 0;
	int r;

	nl_msg_iter_init(&it, nl->rx, len);
	while ((r = nl_msg_iter_next(&it, &m)) != 0) {
		const uint8_t *msg = nl->rx + off;
		uint32_t mlen;

		off = it.off;
		if (r < 0)
			continue;
		if (w && !w->found && m.kind == NL_MSG_REPLY && m.req_type == w->type) {
			w->reply = m;
			w->found = true;
			continue;
		}
		if (w && !w->found && w->stats && m.kind == NL_MSG_STATS && m.sid == w->sid &&
		    m.cid == w->cid && nl_stats_decode(&m, w->stats) == 0) {
			w->reply = m;
			w->reply.payload = NULL;      /* rx will be reused */
			w->found = true;
			continue;
		}
		if (m.kind == NL_MSG_EVENT || m.kind == NL_MSG_STATS) {
			memcpy(&mlen, msg, sizeof(mlen));
			evq_push(nl, msg, mlen);
		}
		/* other replies: stale answers to an earlier timed-out request */
	}
}

/* ---- requests the kernel may answer by flushing our signals ----------- */

/* iscsi_tcp ends a session's removal in iscsi_host_remove(), which
 * flushes every signal pending for the calling process (Linux 6.1's
 * libiscsi). DESTROY_SESSION always gets there, and CREATE_SESSION does
 * when it fails -- which a pending SIGKILL makes it do: the kernel's
 * thread creation for the session's work queue is killable. A SIGTERM
 * from systemd or a SIGCHLD that arrived meanwhile was lost, and a SIGKILL
 * worse: the kernel had already marked the process as dying, so it ran
 * on, logging in, and refused every later SIGKILL too (seen in the VM,
 * scenario crash_loginall).
 *
 * So those two requests are sent by a clone that shares our memory and
 * our descriptors (CLONE_VM | CLONE_FILES) and has signals of its own:
 * the kernel works in the clone's context and flushes the clone's
 * signals, while ours stay pending. The clone sends on our socket, so the
 * session's creator is still our netlink port and the answer arrives
 * here, in order with the events. CLONE_VFORK holds us until the clone
 * has sent -- the request is synchronous anyway -- and a SIGKILL for us
 * ends us even then. */
static bool sent_apart(uint32_t type)
{
	return type == ISCSI_UEVENT_CREATE_SESSION || type == ISCSI_UEVENT_DESTROY_SESSION;
}

struct apart_send {
	struct nl_iscsi *nl;
	size_t len;
	ssize_t n;
};

static int apart_send_fn(void *arg)
{
	struct apart_send *a = arg;

	a->n = a->nl->io.send(a->nl->io.io_data, a->nl->tx, a->len);
	return 0;
}

static ssize_t send_apart(struct nl_iscsi *nl, size_t len)
{
	/* the clone's stack: ours is idle until the clone has exited */
	_Alignas(16) unsigned char stack[32768];
	struct apart_send a = { .nl = nl, .len = len, .n = -EIO };
	int status;
	pid_t pid;

	pid = clone(apart_send_fn, stack + sizeof(stack), CLONE_VM | CLONE_FILES | CLONE_VFORK, &a);
	if (pid < 0)
		return nl->io.send(nl->io.io_data, nl->tx, len);
	while (waitpid(pid, &status, __WCLONE) < 0)
		if (errno != EINTR)
			break;
	return a.n;
}

static int transact(struct nl_iscsi *nl, size_t len, struct waiter *w)
{
	int64_t deadline;
	ssize_t n;

	if (nl->mnl && sent_apart(w->type))
		n = send_apart(nl, len);
	else
		n = nl->io.send(nl->io.io_data, nl->tx, len);
	if (n < 0)
		return (int)n;
	if ((size_t)n != len)
		return -EIO;
	/* The kernel handled the request inside sendmsg, so the answer is
	 * normally queued already; the timeout only guards against a reply
	 * the kernel failed to deliver (§5 gotcha 5). */
	deadline = now_ms() + nl->timeout_ms;
	while (!w->found) {
		n = nl->io.recv(nl->io.io_data, nl->rx, sizeof(nl->rx));
		if (n == -EAGAIN || n == -EWOULDBLOCK) {
			struct pollfd pfd = { .fd = nl->io.fd, .events = POLLIN };
			int64_t left = deadline - now_ms();
			int pr;

			if (left <= 0)
				return -ETIMEDOUT;
			pr = poll(&pfd, 1, (int)left);
			if (pr < 0 && errno != EINTR)
				return -errno;
			continue;
		}
		if (n == -ENOBUFS) {
			nl->overrun = true;   /* events lost; our reply may still come */
			continue;
		}
		if (n == -EMSGSIZE)
			continue;
		if (n < 0)
			return (int)n;
		scan_datagram(nl, (size_t)n, w);
	}
	return 0;
}

/* Send the message in nl->tx and return the kernel's verdict:
 * IF_ERROR's errno, else 0 with the reply in *ret (if given). */
static int request(struct nl_iscsi *nl, int built, size_t len, uint32_t type,
		   struct nl_msg_info *ret)
{
	struct waiter w;
	int r;

	if (built < 0)
		return built;
	memset(&w, 0, sizeof(w));
	w.type = type;
	r = transact(nl, len, &w);
	if (r < 0)
		return r;
	if (w.reply.iferror)
		return w.reply.iferror;
	if (ret)
		*ret = w.reply;
	return 0;
}

/* For the requests that report through r.retcode. */
static int request_retcode(struct nl_iscsi *nl, int built, size_t len, uint32_t type)
{
	struct nl_msg_info m;
	int r;

	r = request(nl, built, len, type, &m);
	if (r < 0)
		return r;
	if (m.retcode > 0 || m.retcode < -4095)
		return -EIO;
	return m.retcode;
}

#define CHECK_CTX(nl) do { if (!(nl)) return -EINVAL; if (!(nl)->handle) return -ENODEV; } while (0)

int nl_create_session(struct nl_iscsi *nl, uint32_t initial_cmdsn, uint16_t cmds_max,
		      uint16_t queue_depth, uint32_t *ret_sid, uint32_t *ret_host_no)
{
	struct nl_msg_info m;
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	r = nl_build_create_session(nl->tx, sizeof(nl->tx), nl->handle, initial_cmdsn, cmds_max,
				    queue_depth, &len);
	r = request(nl, r, len, ISCSI_UEVENT_CREATE_SESSION, &m);
	if (r < 0)
		return r;
	if (ret_sid)
		*ret_sid = m.sid;
	if (ret_host_no)
		*ret_host_no = m.host_no;
	return 0;
}

int nl_destroy_session(struct nl_iscsi *nl, uint32_t sid)
{
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	r = nl_build_destroy_session(nl->tx, sizeof(nl->tx), nl->handle, sid, &len);
	return request(nl, r, len, ISCSI_UEVENT_DESTROY_SESSION, NULL);
}

int nl_destroy_session_async(struct nl_iscsi *nl, uint32_t sid)
{
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	r = nl_build_destroy_session_async(nl->tx, sizeof(nl->tx), nl->handle, sid, &len);
	return request(nl, r, len, ISCSI_UEVENT_DESTROY_SESSION_ASYNC, NULL);
}

int nl_unbind_session(struct nl_iscsi *nl, uint32_t sid)
{
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	r = nl_build_unbind_session(nl->tx, sizeof(nl->tx), nl->handle, sid, &len);
	return request(nl, r, len, ISCSI_UEVENT_UNBIND_SESSION, NULL);
}

int nl_create_conn(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, uint32_t *ret_cid)
{
	struct nl_msg_info m;
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	r = nl_build_create_conn(nl->tx, sizeof(nl->tx), nl->handle, sid, cid, &len);
	r = request(nl, r, len, ISCSI_UEVENT_CREATE_CONN, &m);
	if (r < 0)
		return r;
	if (m.cid == UINT32_MAX)      /* open-iscsi's failure marker */
		return -EIO;
	if (ret_cid)
		*ret_cid = m.cid;
	return 0;
}

int nl_bind_conn(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, int fd, bool is_leading)
{
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	if (fd < 0)
		return -EBADF;
	r = nl_build_bind_conn(nl->tx, sizeof(nl->tx), nl->handle, sid, cid, (uint64_t)fd,
			       is_leading, &len);
	return request_retcode(nl, r, len, ISCSI_UEVENT_BIND_CONN);
}

int nl_set_param(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, enum iscsi_param param,
		 const char *value)
{
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	r = nl_build_set_param(nl->tx, sizeof(nl->tx), nl->handle, sid, cid, param, value, &len);
	r = request(nl, r, len, ISCSI_UEVENT_SET_PARAM, NULL);
	/* The value may be a CHAP secret (ISCSI_PARAM_PASSWORD...): do not
	 * keep it in the buffer until some later request overwrites it. */
	explicit_bzero(nl->tx, len);
	return r;
}

int nl_set_param_int(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, enum iscsi_param param,
		     int value)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", value);
	return nl_set_param(nl, sid, cid, param, buf);
}

int nl_set_param_uint(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, enum iscsi_param param,
		      uint32_t value)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%" PRIu32, value);
	return nl_set_param(nl, sid, cid, param, buf);
}

int nl_set_host_param(struct nl_iscsi *nl, uint32_t host_no, enum iscsi_host_param param,
		      const char *value)
{
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	r = nl_build_set_host_param(nl->tx, sizeof(nl->tx), nl->handle, host_no, param, value,
				    &len);
	return request(nl, r, len, ISCSI_UEVENT_SET_HOST_PARAM, NULL);
}

int nl_send_pdu(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, const void *hdr,
		size_t hdr_len, const void *data, size_t data_len)
{
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	r = nl_build_send_pdu(nl->tx, sizeof(nl->tx), nl->handle, sid, cid, hdr, hdr_len, data,
			      data_len, &len);
	return request_retcode(nl, r, len, ISCSI_UEVENT_SEND_PDU);
}

int nl_start_conn(struct nl_iscsi *nl, uint32_t sid, uint32_t cid)
{
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	r = nl_build_start_conn(nl->tx, sizeof(nl->tx), nl->handle, sid, cid, &len);
	return request_retcode(nl, r, len, ISCSI_UEVENT_START_CONN);
}

int nl_stop_conn(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, uint32_t flag)
{
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	r = nl_build_stop_conn(nl->tx, sizeof(nl->tx), nl->handle, sid, cid, flag, &len);
	return request(nl, r, len, ISCSI_UEVENT_STOP_CONN, NULL);
}

int nl_destroy_conn(struct nl_iscsi *nl, uint32_t sid, uint32_t cid)
{
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	r = nl_build_destroy_conn(nl->tx, sizeof(nl->tx), nl->handle, sid, cid, &len);
	return request(nl, r, len, ISCSI_UEVENT_DESTROY_CONN, NULL);
}

int nl_get_stats(struct nl_iscsi *nl, uint32_t sid, uint32_t cid, struct nl_stats *ret)
{
	struct nl_stats s;
	struct waiter w;
	size_t len = 0;
	int r;

	CHECK_CTX(nl);
	if (!ret)
		return -EINVAL;
	r = nl_build_get_stats(nl->tx, sizeof(nl->tx), nl->handle, sid, cid, &len);
	if (r < 0)
		return r;
	/* success is a multicast message (nlmsg_type 0, ev.type 20) carrying
	 * sid/cid; failure a normal unicast IF_ERROR reply (§1.7) */
	memset(&w, 0, sizeof(w));
	w.type = ISCSI_UEVENT_GET_STATS;
	w.sid = sid;
	w.cid = cid;
	w.stats = &s;
	r = transact(nl, len, &w);
	if (r < 0)
		return r;
	if (w.reply.kind == NL_MSG_REPLY)
		return w.reply.iferror ? w.reply.iferror : -EBADMSG;
	*ret = s;
	return 0;
}

const char *nl_strerror(int err)
{
	switch (err) {
	case -EPROTONOSUPPORT:
		return "NETLINK_ISCSI unavailable: kernel module scsi_transport_iscsi not loaded";
	case -ECONNREFUSED:
		return "no iSCSI kernel peer: NETLINK_ISCSI works only in the initial network namespace";
	case -ETIMEDOUT:
		return "no answer from the kernel iSCSI transport";
	case -ENODEV:
		return "iSCSI transport handle unknown: is module iscsi_tcp loaded?";
	case -EPERM:
		return "operation not permitted (NETLINK_ISCSI needs CAP_SYS_ADMIN and CAP_NET_ADMIN)";
	default:
		return strerror(err < 0 ? -err : err);
	}
}
