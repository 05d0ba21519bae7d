/* kmod-glue/scan.c: scan strings, blocking and off-loop sysfs writes.
 * A FIFO stands in for a `scan` file whose write blocks until the kernel
 * finishes (reference §5 gotcha 13): the writer stays blocked until the
 * test reads it, which shows the caller never waits. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
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

/* The pid of a child of ours (we are a subreaper, so the double-forked
 * writer is re-parented to us), or 0. */
static pid_t find_child(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t found = 0;

	ck_assert_ptr_nonnull(d);
	while (!found && (e = readdir(d))) {
		char p[300], buf[512], *rp;
		long ppid = 0;
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
		if (rp && sscanf(rp + 1, " %*c %ld", &ppid) == 1 && ppid == (long)getpid())
			found = (pid_t)atol(e->d_name);
	}
	closedir(d);
	return found;
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
			snprintf(out + strlen(out), cap - strlen(out), "%s=%s;", names[i]->d_name, target);
		}
		free(names[i]);
	}
	free(names);
}

/* The writer of a scan that blocks holds nothing of its parent's: not the
 * pid file's lock (after a crash mid-scan a new daemon must be able to
 * take it), not the control socket, not the parent's stdio. */
START_TEST(test_writer_keeps_only_its_socket)
{
	struct done_rec d = { 0 };
	char fifo[PATH_MAX], lockpath[PATH_MAX], table[1024], buf[16];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	pid_t writer = 0;
	int lockfd, lsock, rfd;

	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	/* what a daemon holds: a locked pid file, a listening socket */
	snprintf(lockpath, sizeof(lockpath), "%s/iscsid.pid", root);
	lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(lockfd, 0);
	ck_assert_int_eq(flock(lockfd, LOCK_EX | LOCK_NB), 0);
	lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lsock, 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/ctl.sock", root);
	ck_assert_int_eq(bind(lsock, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lsock, 4), 0);

	snprintf(fifo, sizeof(fifo), "%s/class/scsi_host/host3/scan", root);
	ck_assert_int_eq(unlink(fifo), 0);
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);
	ck_assert_int_eq(scan_host_async(root, 3, SCAN_ANY, SCAN_ANY, SCAN_ANY_LUN, on_done, &d, &d.job), 0);

	/* the writer is blocked opening the "scan" file nobody reads */
	for (int i = 0; i < 200; i++) {
		writer = find_child();
		if (writer) {
			fd_table(writer, table, sizeof(table));
			if (!strcmp(table, "0=/dev/null;1=/dev/null;2=/dev/null;3=socket;"))
				break;
		}
		usleep(10000);
	}
	ck_assert_int_gt(writer, 0);
	fd_table(writer, table, sizeof(table));
	ck_assert_str_eq(table, "0=/dev/null;1=/dev/null;2=/dev/null;3=socket;");

	/* the daemon dies (its descriptors close); a new one takes the lock */
	close(lockfd);
	close(lsock);
	lockfd = open(lockpath, O_RDWR | O_CLOEXEC);
	ck_assert_int_ge(lockfd, 0);
	ck_assert_int_eq(flock(lockfd, LOCK_EX | LOCK_NB), 0);
	close(lockfd);

	/* the scan ends: the writer reports and exits */
	rfd = open(fifo, O_RDONLY);
	ck_assert_int_ge(rfd, 0);
	ck_assert_int_eq(read(rfd, buf, sizeof(buf)), 5);
	close(rfd);
	ck_assert_int_eq(wait_readable(scan_job_fd(d.job), 5000), 1);
	ck_assert_int_eq(scan_job_dispatch(d.job), 0);
	ck_assert_int_eq(d.result, 0);
	scan_job_free(d.job);
	ck_assert_int_eq(waitpid(writer, NULL, 0), writer);
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
	tcase_add_test(tc, test_writer_keeps_only_its_socket);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
