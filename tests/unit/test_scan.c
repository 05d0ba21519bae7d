/* kmod-glue/scan.c: scan strings, blocking and off-loop sysfs writes.
 * A FIFO stands in for a `scan` file whose write blocks until the kernel
 * finishes (reference §5 gotcha 13): the writer stays blocked until the
 * test reads it, which shows the caller never waits. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_sysfs.h"
#include "scan.h"

static char *root;

static void setup(void)
{
	root = fake_sysfs_new();
	fake_add_host(root, 3);
	fake_add_session(root, 3, 1, "LOGGED_IN\n");
	fake_add_lun(root, 3, 1, 0, "transport-offline\n", "sdb");
}

static void teardown(void)
{
	fake_sysfs_free(root);
	root = NULL;
}

static void read_file(const char *rel, char *buf, size_t cap)
{
	char p[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, cap - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(fd);
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

START_TEST(test_format)
{
	char buf[64];

	ck_assert_int_eq(scan_format(SCAN_ANY, SCAN_ANY, SCAN_ANY_LUN, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "- - -");
	ck_assert_int_eq(scan_format(0, 0, 5, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0 0 5");
	ck_assert_int_eq(scan_format(0, SCAN_ANY, 18446744073709551614ull, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0 - 18446744073709551614");
	ck_assert_int_eq(scan_format(-2, 0, 0, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(scan_format(0, 0, 0, buf, 5), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_blocking)
{
	struct sysfs_hctl h = { 3, 0, 0, 0 };
	char buf[64];

	ck_assert_int_eq(scan_host(root, 3, SCAN_ANY, SCAN_ANY, SCAN_ANY_LUN), 0);
	read_file("class/scsi_host/host3/scan", buf, sizeof(buf));
	ck_assert_str_eq(buf, "- - -");
	ck_assert_int_eq(scan_host(root, 3, 0, 0, 7), 0);
	read_file("class/scsi_host/host3/scan", buf, sizeof(buf));
	ck_assert_str_eq(buf, "0 0 7");
	/* never creates files: a missing host is an error */
	ck_assert_int_eq(scan_host(root, 9, SCAN_ANY, SCAN_ANY, SCAN_ANY_LUN), -ENOENT);

	ck_assert_int_eq(scan_lun_set_running(root, &h), 0);
	read_file("bus/scsi/devices/3:0:0:0/state", buf, sizeof(buf));
	ck_assert_str_eq(buf, "running");
	ck_assert_int_eq(scan_lun_rescan(root, &h), 0);
	read_file("bus/scsi/devices/3:0:0:0/rescan", buf, sizeof(buf));
	ck_assert_str_eq(buf, "1");
	ck_assert_int_eq(scan_lun_delete(root, &h), 0);
	read_file("bus/scsi/devices/3:0:0:0/delete", buf, sizeof(buf));
	ck_assert_str_eq(buf, "1");
	ck_assert_int_eq(scan_lun_set_queue_depth(root, &h, 64), 0);
	read_file("bus/scsi/devices/3:0:0:0/queue_depth", buf, sizeof(buf));
	ck_assert_str_eq(buf, "64");
	ck_assert_int_eq(scan_lun_set_queue_depth(root, &h, 0), -EINVAL);
	h.lun = 4;
	ck_assert_int_eq(scan_lun_set_running(root, &h), -ENOENT);
}
END_TEST

struct done_rec {
	int calls;
	int result;
	struct scan_job *job;
	int free_in_cb;
};

static void on_done(struct scan_job *job, int result, void *userdata)
{
	struct done_rec *d = userdata;

	d->calls++;
	d->result = result;
	ck_assert_ptr_eq(job, d->job);
	if (d->free_in_cb)
		scan_job_free(job);
}

START_TEST(test_async_does_not_block)
{
	struct done_rec d = { 0 };
	char fifo[PATH_MAX], buf[64];
	int rfd;
	ssize_t n;

	snprintf(fifo, sizeof(fifo), "%s/class/scsi_host/host3/scan", root);
	ck_assert_int_eq(unlink(fifo), 0);
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);

	ck_assert_int_eq(scan_host_async(root, 3, SCAN_ANY, SCAN_ANY, SCAN_ANY_LUN, on_done, &d,
					 &d.job), 0);
	/* we are back while the writer is stuck in the "scan" */
	ck_assert_int_eq(wait_readable(scan_job_fd(d.job), 100), 0);
	ck_assert_int_eq(scan_job_dispatch(d.job), -EAGAIN);
	ck_assert_int_eq(d.calls, 0);

	rfd = open(fifo, O_RDONLY);
	ck_assert_int_ge(rfd, 0);
	n = read(rfd, buf, sizeof(buf) - 1);
	ck_assert_int_eq(n, 5);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "- - -");
	close(rfd);

	ck_assert_int_eq(wait_readable(scan_job_fd(d.job), 5000), 1);
	ck_assert_int_eq(scan_job_dispatch(d.job), 0);
	ck_assert_int_eq(d.calls, 1);
	ck_assert_int_eq(d.result, 0);
	ck_assert_int_eq(scan_job_dispatch(d.job), 0);    /* once only */
	ck_assert_int_eq(d.calls, 1);
	scan_job_free(d.job);
	/* the writer was never our child: nothing to reap */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}
END_TEST

START_TEST(test_async_error_and_free_in_callback)
{
	struct done_rec d = { 0 };

	d.free_in_cb = 1;
	ck_assert_int_eq(scan_host_async(root, 9, SCAN_ANY, SCAN_ANY, SCAN_ANY_LUN, on_done, &d,
					 &d.job), 0);
	ck_assert_int_eq(wait_readable(scan_job_fd(d.job), 5000), 1);
	ck_assert_int_eq(scan_job_dispatch(d.job), 0);
	ck_assert_int_eq(d.calls, 1);
	ck_assert_int_eq(d.result, -ENOENT);
}
END_TEST

START_TEST(test_async_delete)
{
	struct sysfs_hctl h = { 3, 0, 0, 0 };
	struct done_rec d = { 0 };
	char buf[16];

	ck_assert_int_eq(scan_lun_delete_async(root, &h, on_done, &d, &d.job), 0);
	ck_assert_int_eq(wait_readable(scan_job_fd(d.job), 5000), 1);
	ck_assert_int_eq(scan_job_dispatch(d.job), 0);
	ck_assert_int_eq(d.result, 0);
	read_file("bus/scsi/devices/3:0:0:0/delete", buf, sizeof(buf));
	ck_assert_str_eq(buf, "1");
	scan_job_free(d.job);
	ck_assert_int_eq(scan_write_async(root, NULL, "1", on_done, &d, &d.job), -EINVAL);
}
END_TEST

/* Abandoning a job whose write is still blocked leaves no zombie and no
 * SIGPIPE: the writer finishes on its own. */
START_TEST(test_abandon_running_job)
{
	struct done_rec d = { 0 };
	char fifo[PATH_MAX], buf[16];
	struct scan_job *job;
	int rfd;

	snprintf(fifo, sizeof(fifo), "%s/class/scsi_host/host3/scan", root);
	ck_assert_int_eq(unlink(fifo), 0);
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);
	ck_assert_int_eq(scan_host_async(root, 3, 0, 0, 1, on_done, &d, &job), 0);
	scan_job_free(job);
	rfd = open(fifo, O_RDONLY);
	ck_assert_int_ge(rfd, 0);
	ck_assert_int_eq(read(rfd, buf, sizeof(buf)), 5);
	close(rfd);
	ck_assert_int_eq(d.calls, 0);
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	scan_job_free(NULL);
}
END_TEST

/* How many live children we have other than `except` (we are a
 * subreaper, so the double-forked helper is re-parented to us); *first
 * gets one of their pids, or 0. */
static int count_children_but(pid_t except, pid_t *first)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int count = 0;

	ck_assert_ptr_nonnull(d);
	if (first)
		*first = 0;
	while ((e = readdir(d))) {
		char p[300], buf[512], *rp;
		long ppid = 0;
		char state = 0;
		int fd;
		ssize_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%s/stat", e->d_name);
		fd = open(p, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		rp = strrchr(buf, ')');          /* comm may hold spaces */
		if (rp && sscanf(rp + 1, " %c %ld", &state, &ppid) == 2 && ppid == (long)getpid() &&
		    state != 'Z' && atol(e->d_name) != (long)except) {
			if (first && !*first)
				*first = (pid_t)atol(e->d_name);
			count++;
		}
	}
	closedir(d);
	return count;
}

static int count_children(pid_t *first)
{
	return count_children_but(0, first);
}

static pid_t find_child(void)
{
	pid_t pid;

	count_children(&pid);
	return pid;
}

/* What the descriptors of pid point to, "fd=target;" sorted by fd. */
static void fd_table(pid_t pid, char *out, size_t cap)
{
	char dir[64];
	struct dirent **names;
	int n;

	out[0] = '\0';
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	n = scandir(dir, &names, NULL, versionsort);
	for (int i = 0; i < n; i++) {
		char link[PATH_MAX], target[PATH_MAX] = "";
		ssize_t len;

		if (names[i]->d_name[0] != '.') {
			snprintf(link, sizeof(link), "%s/%s", dir, names[i]->d_name);
			len = readlink(link, target, sizeof(target) - 1);
			if (len > 0)
				target[len] = '\0';
			if (!strncmp(target, "socket:", 7))
				strcpy(target, "socket");
			size_t used = strlen(out);
			int w = snprintf(out + used, cap - used, "%s=%s;", names[i]->d_name, target);

			ck_assert(w >= 0 && (size_t)w < cap - used);
		}
		free(names[i]);
	}
	free(names);
}

/* Whether every descriptor is /dev/null (0-2) or a socket (the helper's
 * own and the sockets of the jobs it runs). */
static int only_sockets(const char *table)
{
	static const char head[] = "0=/dev/null;1=/dev/null;2=/dev/null;3=socket;";
	const char *p = table;

	if (strncmp(p, head, strlen(head)))
		return 0;
	p += strlen(head);
	while (*p) {
		const char *semi = strchr(p, ';');
		const char *eq = strchr(p, '=');

		if (!semi || !eq || eq > semi || strncmp(eq, "=socket;", 8))
			return 0;
		p = semi + 1;
	}
	return 1;
}

static void make_fifo(const char *rel, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", root, rel);
	(void)unlink(path);
	ck_assert_int_eq(mkfifo(path, 0644), 0);
}

/* Reads what a job wrote into the FIFO at path (unblocking its writer). */
static void drain_fifo(const char *path, const char *expect)
{
	char buf[64];
	ssize_t n;
	int rfd;

	rfd = open(path, O_RDONLY);
	ck_assert_int_ge(rfd, 0);
	n = read(rfd, buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, expect);
	close(rfd);
}

static void finish(struct done_rec *d, int ms)
{
	ck_assert_int_eq(wait_readable(scan_job_fd(d->job), ms), 1);
	ck_assert_int_eq(scan_job_dispatch(d->job), 0);
	ck_assert_int_eq(d->calls, 1);
}

/* The helper that runs a blocked write holds nothing of the daemon's: not
 * the pid file's lock, not the control socket, not its stdio. When the
 * daemon dies mid-scan, a new daemon takes the lock at once, and the
 * helper exits (its blocked write with it). The "daemon" is a child of
 * ours, so it can die. */
START_TEST(test_helper_keeps_only_sockets)
{
	char fifo[PATH_MAX], lockpath[PATH_MAX], table[1024], go;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pid_t daemon, helper = 0, pid;
	int lockfd, p[2], status;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	snprintf(lockpath, sizeof(lockpath), "%s/iscsid.pid", root);
	make_fifo("class/scsi_host/host3/scan", fifo, sizeof(fifo));
	ck_assert_int_eq(pipe(p), 0);
	daemon = fork();
	ck_assert_int_ge(daemon, 0);
	if (daemon == 0) {
		struct done_rec d = { 0 };
		int lsock;

		close(p[0]);
		/* what a daemon holds: a locked pid file, a listening socket */
		lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl.sock", root);
		if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) < 0 || lsock < 0 ||
		    bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lsock, 4) < 0 ||
		    scan_host_async(root, 3, SCAN_ANY, SCAN_ANY, SCAN_ANY_LUN, on_done, &d, &d.job) < 0)
			_exit(1);
		(void)write(p[1], "1", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &go, 1), 1);
	close(p[0]);

	/* the helper is the one child that is not the daemon; its write is
	 * blocked opening the "scan" file nobody reads */
	for (int i = 0; i < 200 && !helper; i++) {
		count_children_but(daemon, &helper);
		if (!helper)
			usleep(10000);
	}
	ck_assert_int_gt(helper, 0);
	for (int i = 0; i < 200; i++) {
		fd_table(helper, table, sizeof(table));
		if (only_sockets(table) && strstr(table, "4=socket;"))
			break;
		usleep(10000);
	}
	ck_assert_msg(only_sockets(table), "the helper holds %s", table);

	/* the daemon dies mid-scan; a new one takes the lock */
	ck_assert_int_eq(kill(daemon, SIGKILL), 0);
	ck_assert_int_eq(waitpid(daemon, &status, 0), daemon);
	lockfd = open(lockpath, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(lockfd, 0);
	ck_assert_int_eq(flock(lockfd, LOCK_EX | LOCK_NB), 0);
	close(lockfd);
	/* and the helper follows its daemon */
	alarm(10);
	pid = waitpid(helper, &status, 0);
	alarm(0);
	ck_assert_int_eq(pid, helper);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}
END_TEST

#define NJOBS 64

/* Many jobs at once, against files and missing files: each gets its own
 * result, each file its own value, and a single helper ran them all. */
START_TEST(test_concurrent_jobs)
{
	struct done_rec d[NJOBS];
	char rel[64], val[16], buf[16];
	pid_t helper;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	memset(d, 0, sizeof(d));
	fake_mkdir(root, "jobs");
	for (int i = 0; i < NJOBS; i++) {
		snprintf(rel, sizeof(rel), "jobs/attr%d", i);
		if (i % 4 != 3)          /* every fourth is missing */
			fake_write(root, rel, "0");
		snprintf(val, sizeof(val), "v%d", i);
		ck_assert_int_eq(scan_write_async(root, rel, val, on_done, &d[i], &d[i].job), 0);
	}
	for (int i = 0; i < NJOBS; i++) {
		finish(&d[i], 5000);
		ck_assert_int_eq(d[i].result, i % 4 == 3 ? -ENOENT : 0);
		if (i % 4 != 3) {
			snprintf(rel, sizeof(rel), "jobs/attr%d", i);
			snprintf(val, sizeof(val), "v%d", i);
			read_file(rel, buf, sizeof(buf));
			ck_assert_str_eq(buf, val);
		}
		scan_job_free(d[i].job);
	}
	/* one helper, still there for the next job */
	ck_assert_int_eq(count_children(&helper), 1);
	memset(&d[0], 0, sizeof(d[0]));
	ck_assert_int_eq(scan_write_async(root, "jobs/attr0", "again", on_done, &d[0], &d[0].job), 0);
	finish(&d[0], 5000);
	ck_assert_int_eq(d[0].result, 0);
	scan_job_free(d[0].job);
	ck_assert_int_eq(find_child(), helper);
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}
END_TEST

#define NHUNG 8

/* Writes that block (a FIFO nobody reads, like a scan of a hung device)
 * delay no other job, and run in the one helper rather than in a process
 * each. */
START_TEST(test_hung_writes_do_not_delay_others)
{
	struct done_rec hung[NHUNG], ok[16];
	char fifo[NHUNG][PATH_MAX], rel[64];

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	memset(hung, 0, sizeof(hung));
	memset(ok, 0, sizeof(ok));
	for (int i = 0; i < NHUNG; i++) {
		snprintf(rel, sizeof(rel), "hung%d", i);
		make_fifo(rel, fifo[i], sizeof(fifo[i]));
		ck_assert_int_eq(scan_write_async(root, rel, "- - -", on_done, &hung[i], &hung[i].job), 0);
	}
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(scan_lun_delete_async(root, &(struct sysfs_hctl){ 3, 0, 0, 0 }, on_done,
						       &ok[i], &ok[i].job), 0);
	for (int i = 0; i < 16; i++) {
		finish(&ok[i], 5000);
		ck_assert_int_eq(ok[i].result, 0);
		scan_job_free(ok[i].job);
	}
	for (int i = 0; i < NHUNG; i++) {
		ck_assert_int_eq(scan_job_dispatch(hung[i].job), -EAGAIN);
		ck_assert_int_eq(hung[i].calls, 0);
	}
	ck_assert_int_eq(count_children(NULL), 1);
	for (int i = 0; i < NHUNG; i++) {
		drain_fifo(fifo[i], "- - -");
		finish(&hung[i], 5000);
		ck_assert_int_eq(hung[i].result, 0);
		scan_job_free(hung[i].job);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}
END_TEST

/* The helper dies with a write running: that job fails with -ECHILD, and
 * the next job starts a new helper and succeeds. */
START_TEST(test_helper_killed)
{
	struct done_rec d = { 0 }, e = { 0 };
	char fifo[PATH_MAX], buf[16];
	pid_t helper = 0, second;
	int status;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	make_fifo("class/scsi_host/host3/scan", fifo, sizeof(fifo));
	ck_assert_int_eq(scan_host_async(root, 3, SCAN_ANY, SCAN_ANY, SCAN_ANY_LUN, on_done, &d, &d.job), 0);
	for (int i = 0; i < 200 && !helper; i++) {
		helper = find_child();
		if (!helper)
			usleep(10000);
	}
	ck_assert_int_gt(helper, 0);
	ck_assert_int_eq(kill(helper, SIGKILL), 0);
	ck_assert_int_eq(waitpid(helper, &status, 0), helper);
	finish(&d, 5000);
	ck_assert_int_eq(d.result, -ECHILD);
	scan_job_free(d.job);

	ck_assert_int_eq(scan_lun_delete_async(root, &(struct sysfs_hctl){ 3, 0, 0, 0 }, on_done, &e,
					       &e.job), 0);
	finish(&e, 5000);
	ck_assert_int_eq(e.result, 0);
	read_file("bus/scsi/devices/3:0:0:0/delete", buf, sizeof(buf));
	ck_assert_str_eq(buf, "1");
	scan_job_free(e.job);
	ck_assert_int_eq(count_children(&second), 1);
	ck_assert_int_ne(second, helper);
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("scan");
	TCase *tc = tcase_create("scan");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_blocking);
	tcase_add_test(tc, test_async_does_not_block);
	tcase_add_test(tc, test_async_error_and_free_in_callback);
	tcase_add_test(tc, test_async_delete);
	tcase_add_test(tc, test_abandon_running_job);
	tcase_add_test(tc, test_helper_keeps_only_sockets);
	tcase_add_test(tc, test_concurrent_jobs);
	tcase_add_test(tc, test_hung_writes_do_not_delay_others);
	tcase_add_test(tc, test_helper_killed);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
