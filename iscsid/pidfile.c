/* Pid file with O_EXCL + flock (see pidfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pidfile.h"

struct pidfile {
	int fd;
	char *path;
	dev_t dev;
	ino_t ino;
};

static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *end;
	long v = strtol(buf, &end, 10);
	if (end == buf || v <= 0 || v > 0x7fffffffL)
		return 0;
	return (pid_t)v;
}

int pidfile_acquire(const char *path, struct pidfile **ret, pid_t *ret_holder)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0 && errno == EEXIST)
		/* stale, or held by a running daemon: the lock tells which */
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int r = errno == EWOULDBLOCK ? -EEXIST : -errno;
		if (r == -EEXIST && ret_holder)
			*ret_holder = read_pid(fd);
		close(fd);
		return r;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	struct pidfile *p = calloc(1, sizeof(*p));
	char *dup = strdup(path);
	if (!p || !dup) {
		free(p);
		free(dup);
		close(fd);
		return -ENOMEM;
	}
	p->path = dup;
	p->fd = fd;
	p->dev = st.st_dev;
	p->ino = st.st_ino;
	*ret = p;
	return 0;
}

int pidfile_write(struct pidfile *p)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(p->fd, 0) < 0)
		return -errno;
	if (pwrite(p->fd, buf, (size_t)n, 0) != n)
		return errno ? -errno : -EIO;
	return 0;
}

void pidfile_release(struct pidfile *p)
{
	struct stat st;
	if (!p)
		return;
	/* Remove only the file we locked, not one a successor created. */
	if (stat(p->path, &st) == 0 && st.st_dev == p->dev && st.st_ino == p->ino)
		unlink(p->path);
	close(p->fd);
	free(p->path);
	free(p);
}
