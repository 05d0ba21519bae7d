/* Control socket server (see control.h). Every client is untrusted until
 * SO_PEERCRED says otherwise, and even then its bytes are only parsed by
 * the ipc codec; no client can make the daemon block or grow without
 * bound: max clients, max frame size, a time limit to send a request and
 * one to read the answer. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <pwd.h>
#include <unistd.h>

#include "control.h"
#include "errors.h"
#include "log.h"
#include "loop.h"

#define CTL_ACCEPT_BURST 128
#define CTL_ACCEPT_PAUSE_MS 1000
#define CTL_DRAIN_MS 1000                /* final answers at exit, all together */

struct ctl_conn;

struct ctl_request {
	struct ctl_conn *conn;          /* NULL once the client is gone */
	struct ipc_msg *msg;
	struct ucred peer;
};

struct ctl_conn {
	struct control *ctl;
	int fd;
	struct loop_io *io;
	struct ucred cred;
	bool closing;                   /* close once the answer is out */
	uint8_t hdr[IPC_HDR_LEN];
	size_t hdr_got;
	struct ipc_hdr h;
	uint8_t *body;
	size_t body_got;
	uint8_t *out;
	size_t out_len;
	size_t out_off;
	struct ctl_request *req;        /* being handled */
	struct loop_timer timer;        /* read or write deadline */
	struct ctl_conn *prev;
	struct ctl_conn *next;
};

/* A request body can hold a LOGIN record with CHAP secrets: wipe what was
 * received before giving the memory back. */
static void conn_body_free(struct ctl_conn *c)
{
	if (c->body) {
		explicit_bzero(c->body, c->body_got);
		free(c->body);
		c->body = NULL;
	}
}

struct control {
	struct loop *loop;
	int lfd;
	struct loop_io *lio;
	struct ctl_limits lim;
	struct ctl_auth auth;
	ctl_dispatch_fn dispatch;
	void *data;
	struct ctl_conn *conns;
	size_t nconns;
	struct loop_timer accept_pause;
};

static void conn_close(struct ctl_conn *c, const char *why)
{
	struct control *ctl = c->ctl;
	if (why)
		log_debug(1, "control: closing client pid %ld uid %u: %s", (long)c->cred.pid, c->cred.uid, why);
	loop_io_remove(ctl->loop, c->io);
	loop_timer_disarm(ctl->loop, &c->timer);
	close(c->fd);
	if (c->req)
		c->req->conn = NULL;
	conn_body_free(c);
	free(c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->nconns--;
	free(c);
}

static bool conn_reading(const struct ctl_conn *c)
{
	return !c->req && !c->closing && !c->out;
}

static void conn_update_events(struct ctl_conn *c)
{
	uint32_t ev = 0;
	if (conn_reading(c))
		ev |= EPOLLIN;
	if (c->out)
		ev |= EPOLLOUT;
	loop_io_set_events(c->ctl->loop, c->io, ev);
}

/* Ready for the next request: it must arrive whole within the limit. */
static void conn_wait_request(struct ctl_conn *c)
{
	c->hdr_got = 0;
	conn_body_free(c);
	c->body_got = 0;
	if (loop_timer_arm(c->ctl->loop, &c->timer, c->ctl->lim.read_timeout_ms) < 0)
		log_warnx("control: cannot arm a timer");
	conn_update_events(c);
}

/* Writes what it can. Returns false when c was closed. */
static bool conn_flush(struct ctl_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_update_events(c);
			return true;
		}
		if (n <= 0) {
			conn_close(c, "write failed");
			return false;
		}
		c->out_off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_off = 0;
	if (c->closing) {
		conn_close(c, "answer sent, closing");
		return false;
	}
	conn_wait_request(c);
	return true;
}

/* Takes ownership of buf. Returns false when c was closed. */
static bool conn_send(struct ctl_conn *c, uint8_t *buf, size_t len)
{
	c->out = buf;
	c->out_len = len;
	c->out_off = 0;
	if (loop_timer_arm(c->ctl->loop, &c->timer, c->ctl->lim.write_timeout_ms) < 0)
		log_warnx("control: cannot arm a timer");
	return conn_flush(c);
}

/* An error answer, then the connection closes: used when the stream can
 * no longer be trusted to be in sync (bad frame) or the peer is refused. */
static bool conn_fail(struct ctl_conn *c, uint16_t type, uint32_t id, uint32_t status,
		      const char *msg)
{
	uint8_t *buf;
	size_t len;
	log_debug(1, "control: client pid %ld: %s", (long)c->cred.pid, msg);
	c->closing = true;
	if (ipc_error_encode(type, id, status, msg, &buf, &len) < 0) {
		conn_close(c, "out of memory");
		return false;
	}
	return conn_send(c, buf, len);
}

/* A complete header is in c->hdr: check it in the documented order. */
static bool conn_header_done(struct ctl_conn *c)
{
	char msg[256];
	if (ipc_hdr_decode(c->hdr, sizeof(c->hdr), &c->h) < 0)
		return conn_fail(c, IPC_MSG_NONE, 0, ISCSI_ERR_INVALID_MGMT_REQ,
				 "not an iscsid control message (bad magic)");
	int r = ipc_hdr_check(&c->h);
	if (r == -EPROTONOSUPPORT) {
		snprintf(msg, sizeof(msg),
			 "iscsid speaks protocol %u, the client speaks protocol %u: install matching "
			 "versions of iscsid and iscsiadm", IPC_PROTO_VERSION, c->h.version);
		log_warnx("control: client pid %ld: %s", (long)c->cred.pid, msg);
		return conn_fail(c, c->h.type, c->h.id, ISCSI_ERR_INVALID_MGMT_REQ, msg);
	}
	if (r == -EMSGSIZE) {
		snprintf(msg, sizeof(msg), "message too large: %u bytes (limit %u)",
			 c->h.len + IPC_HDR_LEN, IPC_MAX_FRAME);
		log_warnx("control: client pid %ld: %s", (long)c->cred.pid, msg);
		return conn_fail(c, c->h.type, c->h.id, ISCSI_ERR_INVALID_MGMT_REQ, msg);
	}
	if (c->h.flags & IPC_FLAG_RESPONSE)
		return conn_fail(c, c->h.type, c->h.id, ISCSI_ERR_INVALID_MGMT_REQ,
				 "expected a request, got a response");
	if (c->h.len) {
		c->body = malloc(c->h.len);
		if (!c->body)
			return conn_fail(c, c->h.type, c->h.id, ISCSI_ERR_NOMEM, "iscsid is out of memory");
	}
	return true;
}

static void conn_request_done(struct ctl_conn *c)
{
	struct control *ctl = c->ctl;
	struct ipc_msg *m;
	loop_timer_disarm(ctl->loop, &c->timer);
	int r = ipc_msg_decode(&c->h, c->body, c->h.len, &m);
	conn_body_free(c);
	if (r < 0) {
		char msg[128];
		snprintf(msg, sizeof(msg), "malformed %s request: %s", ipc_msg_type_name(c->h.type),
			 r == -ENOMEM ? "out of memory" : "bad field encoding");
		conn_fail(c, c->h.type, c->h.id, r == -ENOMEM ? ISCSI_ERR_NOMEM : ISCSI_ERR_INVALID_MGMT_REQ,
			  msg);
		return;
	}
	struct ctl_request *req = calloc(1, sizeof(*req));
	if (!req) {
		ipc_msg_free(m);
		conn_fail(c, c->h.type, c->h.id, ISCSI_ERR_NOMEM, "iscsid is out of memory");
		return;
	}
	req->conn = c;
	req->msg = m;
	req->peer = c->cred;
	c->req = req;
	conn_update_events(c);
	log_debug(2, "control: %s request %u from pid %ld", ipc_msg_type_name(m->hdr.type), m->hdr.id,
		  (long)c->cred.pid);
	/* May answer right away and even close c: do not touch c after. */
	ctl->dispatch(ctl->data, req);
}

/* Reads what is there. Returns false when c must not be touched again. */
static bool conn_read(struct ctl_conn *c)
{
	for (;;) {
		uint8_t *dst;
		size_t want;
		if (c->hdr_got < IPC_HDR_LEN) {
			dst = c->hdr + c->hdr_got;
			want = IPC_HDR_LEN - c->hdr_got;
		} else {
			dst = c->body + c->body_got;
			want = c->h.len - c->body_got;
		}
		ssize_t n = want ? recv(c->fd, dst, want, MSG_DONTWAIT) : 0;
		if (want && n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return true;
			conn_close(c, "read failed");
			return false;
		}
		if (want && n == 0) {
			conn_close(c, c->hdr_got ? "client closed in the middle of a request" : NULL);
			return false;
		}
		if (c->hdr_got < IPC_HDR_LEN) {
			c->hdr_got += (size_t)n;
			if (c->hdr_got < IPC_HDR_LEN)
				continue;
			if (!conn_header_done(c) || c->closing)
				return false;
			if (c->h.len)
				continue;
		} else {
			c->body_got += (size_t)n;
			if (c->body_got < c->h.len)
				continue;
		}
		conn_request_done(c);
		return false;
	}
}

static void on_conn_event(struct loop *l, int fd, uint32_t events, void *data)
{
	struct ctl_conn *c = data;
	if (events & EPOLLERR) {
		conn_close(c, "socket error");
		return;
	}
	if ((events & EPOLLOUT) && c->out && !conn_flush(c))
		return;
	if ((events & EPOLLIN) && conn_reading(c)) {
		conn_read(c);
		return;
	}
	/* Hung up while we were not reading (a request in progress, or an
	 * answer it will never read). */
	if (events & EPOLLHUP)
		conn_close(c, c->req ? "client went away; its request continues" : "client hung up");
}

static void on_conn_timer(struct loop *l, void *data)
{
	struct ctl_conn *c = data;
	if (c->out) {
		log_warnx("control: client pid %ld did not read its answer within %u ms; dropping it",
			  (long)c->cred.pid, c->ctl->lim.write_timeout_ms);
		conn_close(c, NULL);
		return;
	}
	log_warnx("control: client pid %ld sent no complete request within %u ms; dropping it",
		  (long)c->cred.pid, c->ctl->lim.read_timeout_ms);
	conn_close(c, NULL);
}

/* ---- accepting ---- */

static bool auth_ok(const struct control *ctl, const struct ucred *cr)
{
	if (cr->uid == 0)
		return true;
	if (ctl->auth.allow_gid >= 0 && (long)cr->gid == ctl->auth.allow_gid)
		return true;
	if (!ctl->auth.uid_only) {
		/* Legacy open-iscsi rule (ipc_auth_uid = No): the user *named*
		 * root. May consult NSS; only used when configured. */
		struct passwd pw, *res = NULL;
		char buf[1024];
		if (getpwuid_r(cr->uid, &pw, buf, sizeof(buf), &res) == 0 && res &&
		    strcmp(res->pw_name, "root") == 0)
			return true;
	}
	return false;
}

/* Best effort, never blocks: a fresh socket has room for one small frame. */
static void send_and_close(int fd, uint32_t status, const char *msg)
{
	uint8_t *buf;
	size_t len;
	if (ipc_error_encode(IPC_MSG_NONE, 0, status, msg, &buf, &len) == 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n;
		free(buf);
	}
	close(fd);
}

static void on_accept_resume(struct loop *l, void *data)
{
	struct control *ctl = data;
	loop_io_set_events(l, ctl->lio, EPOLLIN);
}

static void accept_one(struct control *ctl, int fd)
{
	struct ucred cr;
	socklen_t crlen = sizeof(cr);
	char msg[200];

	if (ctl->nconns >= ctl->lim.max_clients) {
		snprintf(msg, sizeof(msg), "iscsid is busy: too many control clients (limit %zu), try again",
			 ctl->lim.max_clients);
		log_debug(1, "control: %s", msg);
		send_and_close(fd, ISCSI_ERR_AGAIN, msg);
		return;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	struct ctl_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		send_and_close(fd, ISCSI_ERR_NOMEM, "iscsid is out of memory");
		return;
	}
	c->ctl = ctl;
	c->fd = fd;
	c->cred = cr;
	loop_timer_init(&c->timer, on_conn_timer, c);
	if (loop_io_add(ctl->loop, fd, 0, on_conn_event, c, &c->io) < 0) {
		free(c);
		send_and_close(fd, ISCSI_ERR_NOMEM, "iscsid is out of resources");
		return;
	}
	c->next = ctl->conns;
	if (c->next)
		c->next->prev = c;
	ctl->conns = c;
	ctl->nconns++;

	if (!auth_ok(ctl, &cr)) {
		snprintf(msg, sizeof(msg),
			 "iscsid refused the request: permission denied for uid %u (only root may use iscsid)",
			 cr.uid);
		log_warnx("control: refused client pid %ld uid %u gid %u", (long)cr.pid, cr.uid, cr.gid);
		conn_fail(c, IPC_MSG_NONE, 0, ISCSI_ERR_ACCESS, msg);
		return;
	}
	conn_wait_request(c);
}

static void on_listen(struct loop *l, int fd, uint32_t events, void *data)
{
	struct control *ctl = data;
	for (int i = 0; i < CTL_ACCEPT_BURST; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			accept_one(ctl, cfd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		/* Out of descriptors or memory: level-triggered epoll would
		 * spin; pause accepting for a moment. */
		log_warn("control: accept");
		loop_io_set_events(l, ctl->lio, 0);
		loop_timer_arm(l, &ctl->accept_pause, CTL_ACCEPT_PAUSE_MS);
		return;
	}
}

int control_new(struct loop *l, int listen_fd, const struct ctl_limits *limits,
		const struct ctl_auth *auth, ctl_dispatch_fn dispatch, void *data,
		struct control **ret)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->loop = l;
	ctl->lfd = listen_fd;
	ctl->lim.max_clients = limits && limits->max_clients ? limits->max_clients : CTL_DEFAULT_MAX_CLIENTS;
	ctl->lim.read_timeout_ms = limits && limits->read_timeout_ms ? limits->read_timeout_ms
								     : CTL_DEFAULT_READ_TIMEOUT_MS;
	ctl->lim.write_timeout_ms = limits && limits->write_timeout_ms ? limits->write_timeout_ms
								       : CTL_DEFAULT_WRITE_TIMEOUT_MS;
	ctl->auth.uid_only = true;
	ctl->auth.allow_gid = -1;
	if (auth)
		ctl->auth = *auth;
	ctl->dispatch = dispatch;
	ctl->data = data;
	loop_timer_init(&ctl->accept_pause, on_accept_resume, ctl);
	int r = loop_io_add(l, listen_fd, EPOLLIN, on_listen, ctl, &ctl->lio);
	if (r < 0) {
		free(ctl);
		return r;
	}
	*ret = ctl;
	return 0;
}

void control_set_auth(struct control *c, const struct ctl_auth *auth)
{
	c->auth = *auth;
}

size_t control_nclients(const struct control *c)
{
	return c->nconns;
}

void control_stop_accepting(struct control *c)
{
	if (!c || c->lfd < 0)
		return;
	loop_timer_disarm(c->loop, &c->accept_pause);
	loop_io_remove(c->loop, c->lio);
	c->lio = NULL;
	close(c->lfd);
	c->lfd = -1;
}

/* At exit, with the loop no longer running: answers already queued (the
 * "iscsid is stopping" of requests the transport gave up) still reach
 * their clients, within CTL_DRAIN_MS for all of them together. */
static void conns_drain(struct control *c)
{
	uint64_t deadline = loop_now_ms() + CTL_DRAIN_MS;

	for (struct ctl_conn *k = c->conns; k; k = k->next) {
		while (k->out && k->out_off < k->out_len) {
			ssize_t n = send(k->fd, k->out + k->out_off, k->out_len - k->out_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0) {
				k->out_off += (size_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			uint64_t now = loop_now_ms();
			if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK) || now >= deadline)
				break;
			struct pollfd pfd = { .fd = k->fd, .events = POLLOUT };
			(void)poll(&pfd, 1, (int)(deadline - now));
		}
	}
}

void control_free(struct control *c)
{
	if (!c)
		return;
	conns_drain(c);
	while (c->conns)
		conn_close(c->conns, NULL);
	control_stop_accepting(c);
	free(c);
}

/* ---- requests ---- */

const struct ipc_msg *ctl_request_msg(const struct ctl_request *r)
{
	return r->msg;
}

const struct ucred *ctl_request_peer(const struct ctl_request *r)
{
	return &r->peer;
}

bool ctl_request_detached(const struct ctl_request *r)
{
	return r->conn == NULL;
}

void ctl_reply_init(struct ctl_request *r, struct ipc_writer *w, uint32_t status, const char *message)
{
	ipc_writer_init(w, r->msg->hdr.type, IPC_FLAG_RESPONSE, r->msg->hdr.id);
	ipc_put_u32(w, IPC_TAG_STATUS, status);
	if (message)
		ipc_put_str(w, IPC_TAG_MESSAGE, message);
}

void ctl_reply(struct ctl_request *r, struct ipc_writer *w)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int e = ipc_writer_finish(w, &buf, &len);
	if (e < 0) {
		log_warnx("control: cannot encode the %s answer: %s", ipc_msg_type_name(r->msg->hdr.type),
			  strerror(-e));
		char msg[128];
		snprintf(msg, sizeof(msg), "iscsid could not encode its answer: %s", strerror(-e));
		if (ipc_error_encode(r->msg->hdr.type, r->msg->hdr.id, ISCSI_ERR_INTERNAL, msg, &buf, &len) < 0)
			buf = NULL;
	}
	struct ctl_conn *c = r->conn;
	ipc_msg_free(r->msg);
	free(r);
	if (!c) {
		free(buf);
		return;
	}
	c->req = NULL;
	if (!buf) {
		conn_close(c, "out of memory");
		return;
	}
	conn_send(c, buf, len);
}

void ctl_reply_error(struct ctl_request *r, uint32_t status, const char *fmt, ...)
{
	char msg[IPC_MESSAGE_MAX + 1];
	struct ipc_writer w;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctl_reply_init(r, &w, status, msg);
	ctl_reply(r, &w);
}

/* ---- the socket file ---- */

static int mkdir_parents(char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		int r = mkdir_parents(dir);
		*slash = '/';
		if (r < 0)
			return r;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int fill_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

int ctl_socket_chmod(const char *path, long allow_gid)
{
	if (allow_gid >= 0) {
		if (chown(path, (uid_t)-1, (gid_t)allow_gid) < 0 || chmod(path, 0660) < 0)
			return -errno;
		return 0;
	}
	if (chmod(path, 0600) < 0)
		return -errno;
	return 0;
}

int ctl_socket_open(const char *path, long allow_gid, int *ret_fd, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	int r;

	if (fill_addr(path, &sa) < 0) {
		snprintf(err, errlen, "control socket path too long: %s", path);
		return -ENAMETOOLONG;
	}
	char *dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	char *slash = strrchr(dir, '/');
	r = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		r = mkdir_parents(dir);
	}
	if (r < 0) {
		snprintf(err, errlen, "cannot create directory %s: %s", dir, strerror(-r));
		free(dir);
		return r;
	}
	free(dir);

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket; not removing it", path);
			return -EEXIST;
		}
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (probe < 0)
			return -errno;
		r = connect(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
		close(probe);
		if (r == 0 || r == -EAGAIN || r == -EINPROGRESS) {
			snprintf(err, errlen, "another iscsid is already listening on %s", path);
			return -EADDRINUSE;
		}
		if (r != -ECONNREFUSED) {
			snprintf(err, errlen, "cannot check the old socket %s: %s", path, strerror(-r));
			return r;
		}
		/* nobody listens: a dead daemon's socket */
		if (unlink(path) < 0 && errno != ENOENT) {
			r = -errno;
			snprintf(err, errlen, "cannot remove stale socket %s: %s", path, strerror(errno));
			return r;
		}
		log_info("removed stale control socket %s", path);
	}

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return r;
	}
	/* No window in which the socket is open to everyone. */
	mode_t old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (r == 0)
		r = ctl_socket_chmod(path, allow_gid);
	if (r == 0 && listen(fd, CTL_BACKLOG) < 0)
		r = -errno;
	if (r < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

void ctl_socket_unlink(const char *path, int fd)
{
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	struct stat st;
	/* Remove the file only while it is still ours: the name we bound and
	 * a socket (a successor daemon might have replaced it meanwhile only
	 * after we stopped listening, which we have not yet). */
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 || len <= sizeof(sa_family_t))
		return;
	sa.sun_path[sizeof(sa.sun_path) - 1] = '\0';
	if (strcmp(sa.sun_path, path) != 0)
		return;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
}
