/* The private iscsid and the logins through it (see iscsistart.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "ipc_client.h"
#include "iscsistart.h"
#include "paths.h"

void start_err(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("iscsistart: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The daemon, for the signal handler: a SIGTERM to iscsistart stops it
 * (which leaves sessions alone) and the waits below then end. */
static volatile pid_t daemon_pid;

static void on_signal(int sig)
{
	(void)sig;
	if (daemon_pid > 0)
		kill(daemon_pid, SIGTERM);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fresh 0700 directory for the daemon: under $TMPDIR, /run (what an
 * initramfs has), or /tmp, wherever the control socket's path fits. */
static int make_root(char *ret, size_t len)
{
	const char *dirs[] = { secure_getenv("TMPDIR"), "/run", "/tmp" };
	int err = -ENOENT;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!dirs[i] || dirs[i][0] != '/')
			continue;
		int n = snprintf(ret, len, "%s/iscsistart.XXXXXX", dirs[i]);
		if (n < 0 || (size_t)n >= len || (size_t)n + sizeof("/iscsid.sock") > PATHS_SOCKET_MAX)
			continue;
		if (mkdtemp(ret))
			return 0;
		err = -errno;
	}
	return err;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int e = n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO;
	if (close(fd) < 0 && !e)
		e = -errno;
	return e;
}

/* The last lines of the daemon's log ("iscsid: ..."). */
static void show_log(const char *path)
{
	char line[1024], tail[20][1024];
	size_t n = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		memcpy(tail[n % 20], line, sizeof(line));
		n++;
	}
	fclose(f);
	for (size_t i = n > 20 ? n - 20 : 0; i < n; i++)
		fprintf(stderr, "iscsistart: %s", tail[i % 20]);
}

struct daemon {
	char root[PATH_MAX];
	char sock[PATHS_SOCKET_MAX];
	char log[PATH_MAX];
	pid_t pid;
};

/* Forks and execs the daemon; a pipe carries an exec failure back. */
static int spawn(const struct boot *b, struct daemon *d)
{
	char conf[PATH_MAX], dbg[8];
	const char *argv[16];
	int n = 0, p[2];

	if (b->config) {
		snprintf(conf, sizeof(conf), "%s", b->config);
	} else {
		struct iscsi_paths paths;
		if (paths_init(&paths, NULL) < 0)
			return -EINVAL;
		snprintf(conf, sizeof(conf), "%s", paths.config_file);
	}
	argv[n++] = b->iscsid;
	argv[n++] = "-f";
	argv[n++] = "-n";
	argv[n++] = "--root";
	argv[n++] = d->root;
	argv[n++] = "-c";
	argv[n++] = conf;
	if (b->sysfs) {
		argv[n++] = "--sysfs-root";
		argv[n++] = b->sysfs;
	}
	if (b->modprobe) {
		argv[n++] = "--modprobe";
		argv[n++] = b->modprobe;
	}
	if (b->debug) {
		snprintf(dbg, sizeof(dbg), "%d", b->debug);
		argv[n++] = "-d";
		argv[n++] = dbg;
	}
	argv[n] = NULL;

	int logfd = -1;
	if (!b->debug) {
		logfd = open(d->log, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (logfd < 0)
			return -errno;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		int e = -errno;
		if (logfd >= 0)
			close(logfd);
		return e;
	}
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		int e = -errno;
		close(p[0]);
		close(p[1]);
		if (logfd >= 0)
			close(logfd);
		return e;
	}
	if (pid == 0) {
		/* its own session: nothing sent to our process group (a
		 * console's ^C) reaches it; we stop it ourselves */
		setsid();
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		/* a unit or an initrd's systemd that runs iscsistart talks to
		 * iscsistart, not to this daemon: no readiness notices from
		 * it, no activation sockets for it */
		unsetenv("NOTIFY_SOCKET");
		unsetenv("LISTEN_PID");
		unsetenv("LISTEN_FDS");
		unsetenv("LISTEN_FDNAMES");
		unsetenv("WATCHDOG_PID");
		unsetenv("WATCHDOG_USEC");
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0)
			dup2(null, 0);
		dup2(logfd >= 0 ? logfd : 2, 1);
		if (logfd >= 0)
			dup2(logfd, 2);
		execv(b->iscsid, (char *const *)argv);
		int e = errno;
		ssize_t w = write(p[1], &e, sizeof(e));
		(void)w;
		_exit(127);
	}
	close(p[1]);
	if (logfd >= 0)
		close(logfd);
	int e = 0;
	ssize_t r;
	do
		r = read(p[0], &e, sizeof(e));
	while (r < 0 && errno == EINTR);
	close(p[0]);
	if (r == (ssize_t)sizeof(e)) {
		waitpid(pid, NULL, 0);
		return -e;
	}
	d->pid = pid;
	daemon_pid = pid;
	return 0;
}

static int wait_ready(const struct daemon *d)
{
	long long deadline = now_ms() + BOOT_READY_MS;

	for (;;) {
		int st;
		pid_t w = waitpid(d->pid, &st, WNOHANG);
		if (w == d->pid) {
			daemon_pid = 0;
			if (WIFEXITED(st))
				start_err("the private iscsid exited with status %d before it was ready", WEXITSTATUS(st));
			else
				start_err("the private iscsid was killed by signal %d before it was ready",
					  WIFSIGNALED(st) ? WTERMSIG(st) : 0);
			return -ECHILD;
		}
		struct ipc_reply rep;
		memset(&rep, 0, sizeof(rep));
		int r = ipc_client_hello(d->sock, &rep);
		ipc_reply_free(&rep);
		if (r == 0)
			return 0;
		if (r != ISCSI_ERR_ISCSID_NOTCONN) {
			start_err("the private iscsid does not answer: %s", rep.message);
			return -EPROTO;
		}
		if (now_ms() >= deadline) {
			start_err("the private iscsid did not answer within %d ms", BOOT_READY_MS);
			return -ETIMEDOUT;
		}
		sleep_ms(20);
	}
}

static void stop_daemon(struct daemon *d)
{
	struct ipc_reply rep;
	long long deadline = now_ms() + BOOT_STOP_MS;

	if (d->pid <= 0)
		return;
	memset(&rep, 0, sizeof(rep));
	if (ipc_client_stop(d->sock, &rep) != 0)
		kill(d->pid, SIGTERM);
	ipc_reply_free(&rep);
	for (;;) {
		pid_t w = waitpid(d->pid, NULL, WNOHANG);
		if (w == d->pid || (w < 0 && errno != EINTR))
			break;
		if (now_ms() >= deadline) {
			start_err("the private iscsid did not stop within %d ms; killing it", BOOT_STOP_MS);
			kill(d->pid, SIGKILL);
			waitpid(d->pid, NULL, 0);
			break;
		}
		sleep_ms(20);
	}
	d->pid = 0;
	daemon_pid = 0;
}

static void what(const struct node_rec *r, char *buf, size_t len)
{
	bool v6 = strchr(r->conn.address, ':') != NULL;
	snprintf(buf, len, "[iface: %s, target: %s, portal: %s%s%s,%d]", r->iface.name[0] ? r->iface.name : "default",
		 r->name, v6 ? "[" : "", r->conn.address, v6 ? "]" : "", r->conn.port);
}

static int login_one(const struct daemon *d, const struct node_rec *rec)
{
	struct ipc_reply rep;
	char *text = NULL, w[700];
	size_t len = 0;

	what(rec, w, sizeof(w));
	printf("iscsistart: Logging into %s %s:%d,%d\n", rec->name, rec->conn.address, rec->conn.port, rec->tpgt);
	fflush(stdout);
	/* the whole record, secrets included, over the private root-only
	 * socket; never on a command line or in a file */
	if (rec_format(REC_KIND_NODE, rec, REC_FMT_DISK, &text, &len) < 0) {
		start_err("cannot format the node record of %s", w);
		return ISCSI_ERR_NOMEM;
	}
	memset(&rep, 0, sizeof(rep));
	int r = ipc_client_login(d->sock, text, IPC_LOGIN_WAIT_DEVICES, &rep);
	explicit_bzero(text, len);
	free(text);
	if (r == 0) {
		char disks[1024] = "";
		size_t used = 0;
		for (size_t i = 0; rep.msg && i < rep.msg->fields.n; i++) {
			const struct ipc_field *f = &rep.msg->fields.v[i];
			if (f->tag != IPC_TAG_DEVICE || !f->str)
				continue;
			int k = snprintf(disks + used, sizeof(disks) - used, "%s%s", used ? " " : "", f->str);
			if (k < 0 || (size_t)k >= sizeof(disks) - used)
				break;
			used += (size_t)k;
		}
		char ok[760];
		snprintf(ok, sizeof(ok), "Login to %s successful.", w);
		printf("iscsistart: %s\n", ok);
		printf("iscsistart: Attached disks: %s\n", used ? disks : "(none)");
		/* what else the daemon had to say (a failed scan ...) */
		if (rep.message[0] && strcmp(rep.message, ok))
			printf("iscsistart: %s\n", rep.message);
	} else if (r == ISCSI_ERR_SESS_EXISTS) {
		/* a boot script run twice, or the firmware already did it */
		printf("iscsistart: Session to %s already exists.\n", w);
		r = 0;
	} else {
		start_err("Could not log into %s.", w);
		start_err("initiator reported error (%d - %s)", r, iscsi_err_str(r));
		if (rep.message[0] && strcmp(rep.message, iscsi_err_str(r)))
			start_err("%s", rep.message);
	}
	fflush(stdout);
	ipc_reply_free(&rep);
	return r;
}

int boot_login(const struct boot *b, struct node_rec *recs, size_t n)
{
	struct daemon d;
	struct sigaction sa, old_int, old_term, old_hup;
	int r, first = 0;
	bool why = false;

	memset(&d, 0, sizeof(d));
	r = make_root(d.root, sizeof(d.root));
	if (r < 0) {
		start_err("cannot create a private directory for iscsid (in $TMPDIR, /run or /tmp): %s", strerror(-r));
		return ISCSI_ERR_NOMEM;
	}
	/* make_root() kept the socket's path within its limit */
	size_t rl = strlen(d.root);
	memcpy(d.sock, d.root, rl);
	memcpy(d.sock + rl, "/iscsid.sock", sizeof("/iscsid.sock"));
	memcpy(d.log, d.root, rl);
	memcpy(d.log + rl, "/iscsid.log", sizeof("/iscsid.log"));

	if (b->iname) {
		char path[PATH_MAX + 32], text[REC_NAME_SIZE + 32];
		snprintf(path, sizeof(path), "%s/initiatorname.iscsi", d.root);
		snprintf(text, sizeof(text), "InitiatorName=%s\n", b->iname);
		(void)write_file(path, text);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);

	r = spawn(b, &d);
	if (r < 0) {
		start_err("cannot run %s: %s", b->iscsid, strerror(-r));
		first = ISCSI_ERR_ISCSID_NOTCONN;
	} else if (wait_ready(&d) < 0) {
		first = ISCSI_ERR_ISCSID_NOTCONN;
		why = true;
	} else {
		for (size_t i = 0; i < n; i++) {
			r = login_one(&d, &recs[i]);
			if (r && !first)
				first = r;
		}
	}
	stop_daemon(&d);
	/* a login's answer says what went wrong; a daemon that never
	 * answered only says it in its log */
	if (why && !b->debug)
		show_log(d.log);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	nftw(d.root, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return first;
}
