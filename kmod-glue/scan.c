/* Blocking sysfs writes (scan, device delete) made off the event loop. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "scan.h"
#include "sysfs_int.h"

struct scan_job {
	int fd;
	bool finished;
	scan_done_fn done;
	void *userdata;
};

int scan_format(int channel, int target, uint64_t lun, char *buf, size_t cap)
{
	char c[16], t[16], l[32];

	if (!buf || channel < SCAN_ANY || target < SCAN_ANY)
		return -EINVAL;
	if (channel == SCAN_ANY)
		strcpy(c, "-");
	else
		snprintf(c, sizeof(c), "%d", channel);
	if (target == SCAN_ANY)
		strcpy(t, "-");
	else
		snprintf(t, sizeof(t), "%d", target);
	if (lun == SCAN_ANY_LUN)
		strcpy(l, "-");
	else
		snprintf(l, sizeof(l), "%" PRIu64, lun);
	return sysfs_path(buf, cap, "%s %s %s", c, t, l);
}

static int scan_rel(uint32_t host_no, char *buf, size_t cap)
{
	return sysfs_path(buf, cap, "class/scsi_host/host%" PRIu32 "/scan", host_no);
}

int scan_host(const char *sysfs_root, uint32_t host_no, int channel, int target, uint64_t lun)
{
	char rel[64], val[80];
	int r;

	r = scan_format(channel, target, lun, val, sizeof(val));
	if (r < 0)
		return r;
	r = scan_rel(host_no, rel, sizeof(rel));
	if (r < 0)
		return r;
	return sysfs_write_attr(sysfs_root, rel, val);
}

/* ---- the helper ----------------------------------------------------------
 *
 * One process, started on the first job and kept: it receives each job as
 * a request on its SOCK_SEQPACKET (the path, the value, and the job's
 * socket as SCM_RIGHTS) and makes the write in a thread of its own, which
 * answers on the job's socket. Forking the daemon for every write cost it
 * copy-on-write faults across its whole address space (~20 % of its CPU
 * while 128 sessions logged in); a thread costs neither.
 *
 * The helper is double-forked like the writers were, so the daemon never
 * reaps it, and keeps nothing of the daemon's but its socket
 * (fs_child_keep_only): a thread stuck in a write that never returns keeps
 * the helper alive, but no pid-file lock, control socket or target socket
 * with it, so a restarted daemon starts (and starts a helper of its own).
 * The helper exits when the daemon's end of its socket closes (the daemon
 * exited); a write still blocked then ends with it, or, when the kernel
 * holds it uninterruptibly, finishes alone. If the helper dies, its queued
 * and running jobs' sockets close (their jobs fail with -ECHILD) and the
 * next job starts a new helper.
 *
 * The daemon has no threads of its own (nl.c's clone holds it until the
 * clone exits), so the forked helper may use malloc and pthread_create. */

#define HELPER_STACK (128 * 1024)
#define VALUE_MAX    4096              /* a sysfs attribute is one page */

struct helper_hdr {
	uint32_t path_len, value_len;   /* bytes following, no NULs */
};

struct helper_req {
	int sock;
	size_t value_len;
	char *value;                    /* points into path[] */
	char path[];
};

static struct {
	int ctl;                        /* our end of the helper's socket, or -1 */
	pid_t owner;                    /* the process that started it */
} helper = { -1, 0 };

/* open, write and close: 0 or the negative errno */
static int32_t write_attr(const char *path, const char *value, size_t len)
{
	int32_t res = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_TRUNC);
	if (fd < 0)
		return -errno;
	do {
		n = write(fd, value, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		res = -errno;
	else if ((size_t)n != len)
		res = -EIO;
	if (close(fd) < 0 && res == 0 && errno != EINTR)
		res = -errno;
	return res;
}

static void reply(int sock, int32_t res)
{
	/* the job may have been freed: then nobody listens */
	(void)send(sock, &res, sizeof(res), MSG_NOSIGNAL);
	close(sock);
}

static void *writer_main(void *arg)
{
	struct helper_req *q = arg;

	reply(q->sock, write_attr(q->path, q->value, q->value_len));
	free(q);
	return NULL;
}

/* One request: the header, path and value, and one descriptor. Malformed
 * ones (there is no other sender than the daemon) are dropped; dropping
 * closes the job's socket, so its job fails rather than hangs. */
static void helper_serve(int ctl, pthread_attr_t *attr)
{
	static char buf[sizeof(struct helper_hdr) + PATH_MAX + VALUE_MAX];
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cb;
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cb.b,
			    .msg_controllen = sizeof(cb.b) };
	struct helper_req *q;
	struct helper_hdr hdr;
	struct cmsghdr *c;
	int sock = -1, e;
	ssize_t n;

	n = recvmsg(ctl, &m, MSG_CMSG_CLOEXEC);
	if (n == 0)
		_exit(0);                       /* the daemon is gone */
	if (n < 0) {
		if (errno == EINTR)
			return;
		_exit(1);
	}
	c = CMSG_FIRSTHDR(&m);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
	    c->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&sock, CMSG_DATA(c), sizeof(int));
	if (sock < 0)
		return;
	memcpy(&hdr, buf, sizeof(hdr));
	if ((m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || (size_t)n < sizeof(hdr) ||
	    hdr.path_len == 0 || hdr.path_len >= PATH_MAX || hdr.value_len > VALUE_MAX ||
	    (size_t)n != sizeof(hdr) + hdr.path_len + hdr.value_len) {
		close(sock);
		return;
	}
	q = malloc(sizeof(*q) + hdr.path_len + 1 + hdr.value_len + 1);
	if (!q) {
		reply(sock, -ENOMEM);
		return;
	}
	q->sock = sock;
	memcpy(q->path, buf + sizeof(hdr), hdr.path_len);
	q->path[hdr.path_len] = '\0';
	q->value = q->path + hdr.path_len + 1;
	q->value_len = hdr.value_len;
	memcpy(q->value, buf + sizeof(hdr) + hdr.path_len, hdr.value_len);
	q->value[hdr.value_len] = '\0';
	{
		pthread_t t;

		e = pthread_create(&t, attr, writer_main, q);
	}
	if (e != 0) {
		reply(sock, -e);
		free(q);
	}
}

static void __attribute__((noreturn)) helper_main(int ctl)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	pthread_attr_t attr;
	sigset_t none;

	ctl = fs_child_keep_only(ctl);
	if (ctl < 0)
		_exit(1);                       /* the daemon's send fails: EPIPE */
	/* what ps, top and pgrep -x show: not a second "iscsid" */
	(void)prctl(PR_SET_NAME, "iscsid-scan", 0, 0, 0);
	/* The daemon blocks the signals its loop reads from a signalfd; the
	 * helper takes the default actions, except for SIGPIPE: a write to a
	 * closed pipe or socket is an error to report, not a reason to die. */
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* each running write holds two descriptors here (the job's socket
	 * and the file), one per session that scans at the same time */
	(void)fs_raise_nofile(65536);
	if (pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0 ||
	    pthread_attr_setstacksize(&attr, HELPER_STACK) != 0)
		_exit(1);
	for (;;)
		helper_serve(ctl, &attr);
}

static void helper_close(void)
{
	/* in a child of the process that started it, the descriptor may be
	 * closed or reused already: leave it alone */
	if (helper.ctl >= 0 && helper.owner == getpid())
		close(helper.ctl);
	helper.ctl = -1;
}

/* Fork twice: the middle process exits at once and is reaped here, so the
 * helper is re-parented to init and the daemon has no child to reap. */
static int helper_start(void)
{
	struct timeval tv = { .tv_sec = 5 };
	int sv[2], status = 0;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(sv[0]);
		close(sv[1]);
		return e;
	}
	if (pid == 0) {
		pid_t g;

		close(sv[0]);
		g = fork();
		if (g < 0)
			_exit(1);
		if (g > 0)
			_exit(0);
		helper_main(sv[1]);
	}
	close(sv[1]);
	/* if the daemon's own SIGCHLD handling reaped the middle child
	 * first (ECHILD), its status is unknown: a failed fork then shows as
	 * EPIPE on the first send */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		close(sv[0]);
		return -EAGAIN;
	}
	/* A helper that stops reading (stopped by a signal) must not hold
	 * the daemon's loop: the send gives up and a new helper is started. */
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	helper.ctl = sv[0];
	helper.owner = getpid();
	return 0;
}

static int helper_send(const char *path, const char *value, int sock)
{
	struct helper_hdr hdr = { (uint32_t)strlen(path), (uint32_t)strlen(value) };
	struct iovec iov[3] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)path, .iov_len = hdr.path_len },
		{ .iov_base = (void *)value, .iov_len = hdr.value_len },
	};
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cb;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 3, .msg_control = cb.b,
			    .msg_controllen = sizeof(cb.b) };
	struct cmsghdr *c;
	ssize_t n;

	memset(&cb, 0, sizeof(cb));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &sock, sizeof(int));
	do {
		n = sendmsg(helper.ctl, &m, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == sizeof(hdr) + hdr.path_len + hdr.value_len ? 0 : -EIO;
}

/* Hands the write to the helper; *ret_fd is the job's end of a socket the
 * helper answers on (or closes, if it dies first). */
static int submit_write(const char *path, const char *value, int *ret_fd)
{
	int sv[2], r = -EPIPE;

	if (strlen(path) >= PATH_MAX || strlen(value) > VALUE_MAX)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -errno;
	/* a dead or stuck helper is replaced once */
	for (int attempt = 0; attempt < 2; attempt++) {
		if (helper.ctl < 0 || helper.owner != getpid()) {
			helper_close();
			r = helper_start();
			if (r < 0)
				break;
		}
		r = helper_send(path, value, sv[1]);
		if (r == 0 || r == -EINVAL || r == -ENOMEM || r == -ENOBUFS)
			break;
		helper_close();
	}
	close(sv[1]);
	if (r < 0) {
		close(sv[0]);
		return r;
	}
	*ret_fd = sv[0];
	return 0;
}

int scan_write_async(const char *sysfs_root, const char *relpath, const char *value,
		     scan_done_fn done, void *userdata, struct scan_job **ret)
{
	char path[PATH_MAX];
	struct scan_job *job;
	int r;

	if (!relpath || !value || !ret)
		return -EINVAL;
	r = sysfs_path(path, sizeof(path), "%s/%s", sysfs_root_or_default(sysfs_root), relpath);
	if (r < 0)
		return r;
	job = calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->done = done;
	job->userdata = userdata;
	r = submit_write(path, value, &job->fd);
	if (r < 0) {
		free(job);
		return r;
	}
	*ret = job;
	return 0;
}

int scan_host_async(const char *sysfs_root, uint32_t host_no, int channel, int target,
		    uint64_t lun, scan_done_fn done, void *userdata, struct scan_job **ret)
{
	char rel[64], val[80];
	int r;

	r = scan_format(channel, target, lun, val, sizeof(val));
	if (r < 0)
		return r;
	r = scan_rel(host_no, rel, sizeof(rel));
	if (r < 0)
		return r;
	return scan_write_async(sysfs_root, rel, val, done, userdata, ret);
}

int scan_job_fd(const struct scan_job *job)
{
	return job ? job->fd : -EINVAL;
}

int scan_job_dispatch(struct scan_job *job)
{
	int32_t res;
	ssize_t n;

	if (!job)
		return -EINVAL;
	if (job->finished)
		return 0;
	n = recv(job->fd, &res, sizeof(res), 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return -EAGAIN;
		res = -errno;
	} else if (n == 0) {
		res = -ECHILD;            /* the helper died without reporting */
	} else if ((size_t)n != sizeof(res) || res > 0) {
		res = -EIO;
	}
	job->finished = true;
	/* last action: the callback may free the job */
	if (job->done)
		job->done(job, res, job->userdata);
	return 0;
}

void scan_job_free(struct scan_job *job)
{
	if (!job)
		return;
	if (job->fd >= 0)
		close(job->fd);
	free(job);
}

static int lun_rel(const struct sysfs_hctl *h, const char *attr, char *buf, size_t cap)
{
	char name[96];
	int r;

	if (!h)
		return -EINVAL;
	r = sysfs_hctl_format(h, name, sizeof(name));
	if (r < 0)
		return r;
	return sysfs_path(buf, cap, "bus/scsi/devices/%s/%s", name, attr);
}

static int lun_write(const char *sysfs_root, const struct sysfs_hctl *h, const char *attr,
		     const char *value)
{
	char rel[160];
	int r;

	r = lun_rel(h, attr, rel, sizeof(rel));
	if (r < 0)
		return r;
	return sysfs_write_attr(sysfs_root, rel, value);
}

int scan_lun_set_running(const char *sysfs_root, const struct sysfs_hctl *h)
{
	return lun_write(sysfs_root, h, "state", "running");
}

int scan_lun_rescan(const char *sysfs_root, const struct sysfs_hctl *h)
{
	return lun_write(sysfs_root, h, "rescan", "1");
}

int scan_lun_delete(const char *sysfs_root, const struct sysfs_hctl *h)
{
	return lun_write(sysfs_root, h, "delete", "1");
}

int scan_lun_delete_async(const char *sysfs_root, const struct sysfs_hctl *h,
			  scan_done_fn done, void *userdata, struct scan_job **ret)
{
	char rel[160];
	int r;

	r = lun_rel(h, "delete", rel, sizeof(rel));
	if (r < 0)
		return r;
	return scan_write_async(sysfs_root, rel, "1", done, userdata, ret);
}

int scan_lun_set_queue_depth(const char *sysfs_root, const struct sysfs_hctl *h,
			     unsigned int depth)
{
	char val[16];

	if (depth == 0)
		return -EINVAL;
	snprintf(val, sizeof(val), "%u", depth);
	return lun_write(sysfs_root, h, "queue_depth", val);
}
