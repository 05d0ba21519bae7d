/* The control socket, <rundir>/<sid>/ctl: SOCK_SEQPACKET, root only
 * (mode 0600 and SO_PEERCRED), one request and one reply per connection,
 * except `watch`, whose connection stays open and gets a message on every
 * state change (doc/uspace.md). Served by the main thread; nothing here
 * waits on the target except rescan, which is bounded. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "errors.h"
#include "uspace_ctl.h"
#include "usp.h"

struct usp_ctl {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int watchers[USP_WATCHERS_MAX];   /* -1: free */
	enum usp_state last_state;      /* what the watchers were told last */
};

struct out {
	char *b;
	size_t len, cap;
	bool full;
};

static void out_add(struct out *o, const char *fmt, ...) USP_FMT(2, 3);
static void out_add(struct out *o, const char *fmt, ...)
{
	va_list ap;
	if (o->full)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(o->b + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = true;   /* bounded: the reply says so */
		o->b[o->len] = '\0';
		return;
	}
	o->len += (size_t)n;
}

int ctl_open(const struct usp_config *c, struct usp_ctl **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct usp_ctl *ctl;
	int r;

	if ((r = uspace_ctl_path(c->rundir, c->sid, sa.sun_path, sizeof(sa.sun_path))) < 0)
		return r;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	snprintf(ctl->path, sizeof(ctl->path), "%s", sa.sun_path);
	for (size_t i = 0; i < USP_WATCHERS_MAX; i++)
		ctl->watchers[i] = -1;
	ctl->last_state = USP_STATE_LOGGED_IN;
	unlink(ctl->path);
	ctl->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	mode_t old = umask(0077);
	if (ctl->fd < 0 || bind(ctl->fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(ctl->fd, 16)) {
		r = -errno;
		umask(old);
		if (ctl->fd >= 0)
			close(ctl->fd);
		free(ctl);
		return r;
	}
	umask(old);
	chmod(ctl->path, 0600);
	*ret = ctl;
	return 0;
}

int ctl_fd(const struct usp_ctl *ctl)
{
	return ctl->fd;
}

static bool reply(int fd, int code, const char *text, const char *body)
{
	size_t bl = body ? strlen(body) : 0;
	char *msg = malloc(bl + 512);
	bool ok = true;
	if (!msg)
		return false;
	int n = snprintf(msg, 512, "%s %d %s\n", USPACE_CTL_MAGIC, code, text);
	if (n < 0 || n >= 512)
		n = snprintf(msg, 512, "%s %d\n", USPACE_CTL_MAGIC, code);
	if (bl)
		memcpy(msg + n, body, bl);
	if (send(fd, msg, (size_t)n + bl, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		usp_debug("control reply: %m");
		ok = false;
	}
	free(msg);
	return ok;
}

/* ---- watchers ---- */

static void watch_add(struct usp_ctl *ctl, struct usp_main *m, int fd)
{
	char body[64];
	for (size_t i = 0; i < USP_WATCHERS_MAX; i++) {
		if (ctl->watchers[i] >= 0)
			continue;
		/* the current state at once, then one message per change */
		snprintf(body, sizeof(body), "state %s\n", usp_state_name(ctl->last_state));
		if (!reply(fd, 0, "state", body)) {
			close(fd);
			return;
		}
		ctl->watchers[i] = fd;
		usp_debug("watcher %d added", fd);
		return;
	}
	reply(fd, ISCSI_ERR_AGAIN, "too many watchers", NULL);
	close(fd);
	(void)m;
}

size_t ctl_watch_fds(const struct usp_ctl *ctl, int *fds, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; ctl && i < USP_WATCHERS_MAX && n < max; i++)
		if (ctl->watchers[i] >= 0)
			fds[n++] = ctl->watchers[i];
	return n;
}

static void watch_drop(struct usp_ctl *ctl, size_t i)
{
	usp_debug("watcher %d gone", ctl->watchers[i]);
	close(ctl->watchers[i]);
	ctl->watchers[i] = -1;
}

void ctl_watch_event(struct usp_ctl *ctl, int fd, short revents)
{
	for (size_t i = 0; i < USP_WATCHERS_MAX; i++) {
		if (ctl->watchers[i] != fd)
			continue;
		/* a watcher sends nothing after its request: anything else,
		 * or a hang-up, ends it */
		char c;
		if ((revents & (POLLHUP | POLLERR)) || recv(fd, &c, 1, MSG_DONTWAIT) >= 0 || errno != EAGAIN)
			watch_drop(ctl, i);
		return;
	}
}

void ctl_notify(struct usp_ctl *ctl, enum usp_state state)
{
	char body[64];
	if (!ctl || state == ctl->last_state)
		return;
	ctl->last_state = state;
	snprintf(body, sizeof(body), "state %s\n", usp_state_name(state));
	for (size_t i = 0; i < USP_WATCHERS_MAX; i++)
		/* a watcher too slow to take a few small messages is dropped
		 * rather than waited for */
		if (ctl->watchers[i] >= 0 && !reply(ctl->watchers[i], 0, "state", body))
			watch_drop(ctl, i);
}

static void do_status(struct usp_main *m, struct out *o)
{
	struct usp_status st;
	const struct node_rec *r = &m->cfg->rec;

	engine_get_status(m->engine, &st);
	out_add(o, "sid %d\npid %d\nstate %s\ntarget %s\nportal %s\n", m->cfg->sid, (int)getpid(),
		usp_state_name(st.state), r->name, st.portal);
	out_add(o, "persistent_portal %s\ntpgt %d\niface %s\ninitiator %s\nmount %s\n", m->cfg->portal,
		st.tpgt, r->iface.name[0] ? r->iface.name : "uspace", m->cfg->iname, m->cfg->mnt);
	for (unsigned i = 0; i < st.nparams; i++)
		out_add(o, "param %s\n", st.params[i]);
	pthread_rwlock_rdlock(&m->luns->lock);
	for (unsigned i = 0; i < USP_LUNS_MAX; i++) {
		const struct usp_lun *l = &m->luns->v[i];
		if (!l->used)
			continue;
		out_add(o, "lun %llu size=%llu block_size=%u file=%s/%s loop=%s\n", (unsigned long long)l->lun,
			(unsigned long long)(l->blocks * l->block_size), l->block_size, m->cfg->mnt, l->name,
			l->loopdev[0] ? l->loopdev : "-");
	}
	pthread_rwlock_unlock(&m->luns->lock);
	if (st.last_error[0])
		out_add(o, "last_error %s\n", st.last_error);
}

static void do_stats(struct usp_main *m, struct out *o)
{
	struct usp_stats s;

	engine_get_stats(m->engine, &s);
	/* open-iscsi's names where the meaning is the same (octets of
	 * SCSI data, SCSI Command PDUs, NOPs), our own otherwise */
	out_add(o, "txdata_octets %llu\nrxdata_octets %llu\n", (unsigned long long)s.bytes_written,
		(unsigned long long)s.bytes_read);
	out_add(o, "scsicmd_pdus %llu\nnoptx_pdus %llu\nnoprx_pdus %llu\ntimeout_err %llu\n",
		(unsigned long long)s.cmds, (unsigned long long)s.nops_sent, (unsigned long long)s.nops_answered,
		(unsigned long long)s.timeouts);
	out_add(o, "read_cmds %llu\nwrite_cmds %llu\nsync_cmds %llu\ncompleted %llu\n",
		(unsigned long long)s.cmds_read, (unsigned long long)s.cmds_write, (unsigned long long)s.cmds_sync,
		(unsigned long long)s.completed);
	out_add(o, "io_errors %llu\ncheck_conditions %llu\nretries %llu\n", (unsigned long long)s.errors_eio,
		(unsigned long long)s.check_conditions, (unsigned long long)s.retries);
	out_add(o, "conn_failures %llu\nreconnects %llu\nlogin_attempts %llu\nrecovery_ms %llu\n",
		(unsigned long long)s.conn_failures, (unsigned long long)s.reconnects,
		(unsigned long long)s.login_attempts, (unsigned long long)s.recovery_ms);
	out_add(o, "inflight %d\nqueued %d\n", s.inflight, s.queued);
	out_add(o, "libiscsi_queue_length %d\nlibiscsi_out_queue_length %d\nlibiscsi_nops_in_flight %d\n",
		s.queue_length, s.out_queue_length, s.nops_in_flight);
}

static bool peer_ok(int fd)
{
	struct ucred uc;
	socklen_t l = sizeof(uc);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &l))
		return false;
	return uc.uid == 0 || uc.uid == geteuid();
}

void ctl_handle(struct usp_ctl *ctl, struct usp_main *m, bool *ret_logout)
{
	char req[USPACE_CTL_REQ_MAX], verb[32], arg[64], msg[USP_MSG_SIZE];
	int fd = accept4(ctl->fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (!peer_ok(fd)) {
		reply(fd, ISCSI_ERR_ACCESS, "permission denied", NULL);
		close(fd);
		return;
	}
	/* a client that connects and says nothing does not hold us up long */
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssize_t n = recv(fd, req, sizeof(req), MSG_TRUNC);
	if (n <= 0 || (size_t)n > sizeof(req) ||
	    uspace_ctl_parse_request(req, (size_t)n, verb, sizeof(verb), arg, sizeof(arg))) {
		if (n > 0)
			reply(fd, ISCSI_ERR_INVALID_MGMT_REQ, "malformed request", NULL);
		close(fd);
		return;
	}
	struct out o = { .cap = USPACE_CTL_REPLY_MAX - 512 };
	o.b = malloc(o.cap);
	if (!o.b) {
		reply(fd, ISCSI_ERR_NOMEM, "out of memory", NULL);
		close(fd);
		return;
	}
	o.b[0] = '\0';
	if (!strcmp(verb, "status") && !arg[0]) {
		do_status(m, &o);
		reply(fd, 0, o.full ? "ok (truncated)" : "ok", o.b);
	} else if (!strcmp(verb, "stats") && !arg[0]) {
		do_stats(m, &o);
		reply(fd, 0, "ok", o.b);
	} else if (!strcmp(verb, "rescan") && !arg[0]) {
		int rc = main_rescan(m, msg, sizeof(msg));
		if (!rc)
			do_status(m, &o);
		reply(fd, rc, rc ? msg : "ok", rc ? NULL : o.b);
	} else if (!strcmp(verb, "logout") && (!arg[0] || !strcmp(arg, "safe"))) {
		char busy[256];
		main_busy_devices(m, busy, sizeof(busy));
		if (!strcmp(arg, "safe") && busy[0]) {
			snprintf(msg, sizeof(msg), "devices in use: %s", busy);
			reply(fd, ISCSI_ERR_BUSY, msg, NULL);
		} else {
			/* answered once everything is gone (main.c) */
			m->logout_client = fd;
			*ret_logout = true;
			free(o.b);
			return;
		}
	} else if (!strcmp(verb, "watch") && !arg[0]) {
		free(o.b);
		watch_add(ctl, m, fd);
		return;
	} else if (!strcmp(verb, "hello") && !arg[0]) {
		out_add(&o, "version %d\nsid %d\npid %d\n", USPACE_CTL_VERSION, m->cfg->sid, (int)getpid());
		reply(fd, 0, "ok", o.b);
	} else {
		reply(fd, ISCSI_ERR_INVALID_MGMT_REQ, "unknown request", NULL);
	}
	free(o.b);
	close(fd);
}

void ctl_close(struct usp_ctl *ctl, const struct usp_config *c)
{
	(void)c;
	if (!ctl)
		return;
	close(ctl->fd);
	unlink(ctl->path);
	/* the watchers see the hang-up when the process exits: what they
	 * wait for is the end of the session, not of the socket */
	free(ctl);
}
