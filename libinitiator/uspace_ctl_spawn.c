/* Starting iscsi-uspace so that it belongs to nobody: fork, setsid, fork
 * again; the middle process exits at once (reaped here: it exits before
 * doing anything that can block), the session process is re-parented to
 * init. Two pipes: the record goes down one (stdin of the process:
 * secrets never in argv or environ), one line comes back up the other
 * (fd 3):
 *
 *   "<code> <pid> <message>\n"    code 0: logged in / cleaned
 *
 * and then the pipe closes. EOF without a line means the process died
 * (ISCSI_ERR_CHILD_TERMINATED). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "uspace_ctl.h"

#ifndef USPACE_PROGRAM_DEFAULT
#define USPACE_PROGRAM_DEFAULT "/usr/libexec/iscsi-initiator/iscsi-uspace"
#endif

struct uspace_start {
	int fd;                 /* read end of the answer pipe */
	char buf[600];
	size_t len;
};

const char *uspace_program(void)
{
	const char *env = secure_getenv(USPACE_PROGRAM_ENV);
	return env && *env == '/' ? env : USPACE_PROGRAM_DEFAULT;
}

static const char *program_path(const char *p)
{
	return p && *p ? p : uspace_program();
}

static void close_pair(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

int uspace_start_begin(const struct uspace_start_args *a, struct uspace_start **ret)
{
	int rec[2] = { -1, -1 }, ans[2] = { -1, -1 }, r;
	char sid[16], dbg[16];
	const char *argv[16];
	int n = 0;

	if (a->sid < 1 || (a->mode == USPACE_SPAWN_RUN && (!a->record || !a->record_len)))
		return -EINVAL;
	snprintf(sid, sizeof(sid), "%d", a->sid);
	snprintf(dbg, sizeof(dbg), "%d", a->debug > 0 ? a->debug : 0);
	argv[n++] = program_path(a->program);
	argv[n++] = a->mode == USPACE_SPAWN_RUN ? "run" : "cleanup";
	argv[n++] = "--sid";
	argv[n++] = sid;
	argv[n++] = "--rundir";
	argv[n++] = uspace_rundir(a->rundir);
	argv[n++] = "--ready-fd";
	argv[n++] = "3";
	if (a->initiator_name && *a->initiator_name) {
		argv[n++] = "--initiator-name";
		argv[n++] = a->initiator_name;
	}
	if (a->no_loop)
		argv[n++] = "--no-loop";
	if (a->to_syslog)
		argv[n++] = "--syslog";
	if (a->debug > 0) {
		argv[n++] = "--debug";
		argv[n++] = dbg;
	}
	argv[n] = NULL;

	if (pipe2(rec, O_CLOEXEC) || pipe2(ans, O_CLOEXEC)) {
		r = -errno;
		goto fail;
	}
	if (a->mode == USPACE_SPAWN_RUN) {
		/* the whole record fits the pipe, so writing never waits for
		 * the child */
		if (a->record_len > 65536 && fcntl(rec[1], F_SETPIPE_SZ, (int)a->record_len) < 0) {
			r = -E2BIG;
			goto fail;
		}
		size_t off = 0;
		while (off < a->record_len) {
			ssize_t w = write(rec[1], a->record + off, a->record_len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				r = w < 0 ? -errno : -EIO;
				goto fail;
			}
			off += (size_t)w;
		}
	}
	close(rec[1]);
	rec[1] = -1;

	pid_t mid = fork();
	if (mid < 0) {
		r = -errno;
		goto fail;
	}
	if (mid == 0) {
		/* only async-signal-safe calls from here on. The caller may
		 * block signals (iscsid takes them through a signalfd): the
		 * session process starts with none blocked, or SIGTERM would
		 * never reach it */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		if (setsid() < 0)
			_exit(127);
		pid_t pid = fork();
		if (pid != 0)
			_exit(pid < 0 ? 127 : 0);
		int devnull = open("/dev/null", O_RDWR);
		int err = a->stderr_fd >= 0 ? a->stderr_fd : devnull;
		if (devnull < 0 || dup2(rec[0], 0) < 0 || dup2(devnull, 1) < 0 || dup2(ans[1], USPACE_READY_FD) < 0 ||
		    (err != 2 && dup2(err, 2) < 0))
			_exit(127);
		/* a dup2 onto itself keeps O_CLOEXEC */
		for (int fd = 0; fd <= USPACE_READY_FD; fd++)
			fcntl(fd, F_SETFD, 0);
		/* dup2 clears O_CLOEXEC on the copies; everything else goes
		 * (iscsid's sockets, its clients', its pid-file lock) */
		if (close_range(USPACE_READY_FD + 1, ~0U, 0) < 0)
			for (int fd = USPACE_READY_FD + 1; fd < 65536; fd++)
				close(fd);
		if (chdir("/"))
			_exit(127);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
		;
	close_pair(rec);
	close(ans[1]);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		close(ans[0]);
		return -ECHILD;
	}
	struct uspace_start *s = calloc(1, sizeof(*s));
	if (!s) {
		close(ans[0]);
		return -ENOMEM;
	}
	s->fd = ans[0];
	fcntl(s->fd, F_SETFL, O_NONBLOCK);
	*ret = s;
	return 0;
fail:
	close_pair(rec);
	close_pair(ans);
	return r;
}

int uspace_start_fd(const struct uspace_start *s)
{
	return s->fd;
}

int uspace_start_step(struct uspace_start *s, struct uspace_start_result *ret)
{
	for (;;) {
		char *nl = memchr(s->buf, '\n', s->len);
		if (nl) {
			*nl = '\0';
			char *end;
			long code = strtol(s->buf, &end, 10);
			long pid = *end == ' ' ? strtol(end + 1, &end, 10) : -1;
			memset(ret, 0, sizeof(*ret));
			if (code < 0 || code > 255 || pid < 0 || (*end && *end != ' ')) {
				ret->code = ISCSI_ERR_INTERNAL;
				snprintf(ret->message, sizeof(ret->message), "iscsi-uspace answered something unreadable");
			} else {
				ret->code = (int)code;
				ret->pid = (pid_t)pid;
				snprintf(ret->message, sizeof(ret->message), "%s", *end ? end + 1 : "");
			}
			return 0;
		}
		if (s->len == sizeof(s->buf)) {
			memset(ret, 0, sizeof(*ret));
			ret->code = ISCSI_ERR_INTERNAL;
			snprintf(ret->message, sizeof(ret->message), "iscsi-uspace's answer is too long");
			return 0;
		}
		ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -EAGAIN : -errno;
		if (n == 0) {
			memset(ret, 0, sizeof(*ret));
			ret->code = ISCSI_ERR_CHILD_TERMINATED;
			snprintf(ret->message, sizeof(ret->message), "iscsi-uspace exited without an answer");
			return 0;
		}
		s->len += (size_t)n;
	}
}

void uspace_start_free(struct uspace_start *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s);
}

int uspace_start(const struct uspace_start_args *a, int timeout_ms, struct uspace_start_result *ret)
{
	struct uspace_start *s;
	struct timespec t0, t;
	int r = uspace_start_begin(a, &s);

	if (r < 0)
		return r;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((r = uspace_start_step(s, ret)) == -EAGAIN) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (el >= timeout_ms) {
			r = -ETIMEDOUT;
			break;
		}
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		if (poll(&p, 1, (int)(timeout_ms - el)) < 0 && errno != EINTR) {
			r = -errno;
			break;
		}
	}
	uspace_start_free(s);
	return r;
}
