/* Blocking sysfs writes (scan, device delete) made off the event loop. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

/* Runs in the grandchild: only async-signal-safe calls (the daemon may be
 * multithreaded), then _exit without running the parent's atexit hooks. */
static void __attribute__((noreturn)) child_write(int sock, const char *path, const char *value,
						  size_t len)
{
	int32_t res = 0;
	ssize_t n;
	int fd;

	/* The writer may block for as long as the kernel probes (or
	 * forever, on a hung device), so it must not keep anything the
	 * daemon opened: a copy of the pid file's locked descriptor would
	 * stop a restarted daemon from starting, copies of the control
	 * socket and of target sockets would keep them open after the
	 * daemon is gone. */
	sock = fs_child_keep_only(sock);
	if (sock < 0)
		_exit(0);               /* the daemon sees the job fail (-ECHILD) */
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_TRUNC);
	if (fd < 0) {
		res = -errno;
	} else {
		do {
			n = write(fd, value, len);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			res = -errno;
		else if ((size_t)n != len)
			res = -EIO;
		if (close(fd) < 0 && res == 0 && errno != EINTR)
			res = -errno;
	}
	(void)send(sock, &res, sizeof(res), MSG_NOSIGNAL);
	_exit(0);
}

/* Fork twice: the middle process exits at once and is reaped here, so the
 * writer is re-parented to init and the daemon has no child to reap,
 * whether or not it waits for the job. */
static int spawn_write(const char *path, const char *value, int *ret_fd)
{
	size_t len = strlen(value);
	int sv[2], status;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
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
		if (g < 0) {
			int32_t res = -errno;

			(void)send(sv[1], &res, sizeof(res), MSG_NOSIGNAL);
			_exit(0);
		}
		if (g > 0)
			_exit(0);
		child_write(sv[1], path, value, len);
	}
	close(sv[1]);
	/* the middle child exits right after its fork; if the daemon's own
	 * SIGCHLD handling reaped it first, ECHILD is fine */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
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
	r = spawn_write(path, value, &job->fd);
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
		res = -ECHILD;            /* the writer died without reporting */
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
