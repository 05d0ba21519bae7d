/* The run directory of a session, <rundir>/<sid>/:
 *
 *   lock     write-locked (an OFD lock) by the session process for its
 *            whole life: a lock that can be taken means the process is
 *            gone (no pid reuse races); listers look with F_OFD_GETLK
 *   pid      its pid
 *   record   the node record without secrets (what adopting needs)
 *   ctl      the control socket (doc/uspace.md)
 *   luns/    the FUSE mount point
 *
 * Everything root's, 0700/0600. A crashed session leaves its mount (dead:
 * ENOTCONN) and its loop devices; rundir_cleanup() removes both. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "usp.h"

static int lock_try(int fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	return errno == EAGAIN || errno == EACCES ? -EEXIST : -errno;
}

/* dir/name into a PATH_MAX buffer (paths are checked in run.c already) */
static void join(char *buf, const char *dir, const char *name)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		buf[0] = '\0';
}

static const char *const state_files[] = { "pid", "record", "ctl", NULL };

/* Whatever a dead session left in dir (its lock is ours or free). */
static void clean_leftovers(const char *dir)
{
	char mnt[PATH_MAX], p[PATH_MAX];

	join(mnt, dir, "luns");
	loop_detach_under(mnt);
	if (umount2(mnt, MNT_DETACH) == 0)
		usp_info("unmounted the dead mount %s", mnt);
	rmdir(mnt);
	for (unsigned i = 0; state_files[i]; i++) {
		join(p, dir, state_files[i]);
		unlink(p);
	}
}

int rundir_claim(struct usp_config *c, int *ret_lock_fd)
{
	char lock[PATH_MAX];
	int r, fd;

	if ((r = fs_mkdir_p(c->rundir, 0755)) < 0)
		return r;
	if (mkdir(c->dir, 0700) && errno != EEXIST)
		return -errno;
	join(lock, c->dir, "lock");
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if ((r = lock_try(fd)) < 0) {
		close(fd);
		return r;
	}
	clean_leftovers(c->dir);
	if (mkdir(c->mnt, 0700) && errno != EEXIST) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_lock_fd = fd;
	return 0;
}

int rundir_write_state(const struct usp_config *c)
{
	char p[PATH_MAX], buf[32];
	struct node_rec *copy;
	char *text = NULL;
	size_t len = 0;
	int r;

	join(p, c->dir, "pid");
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if ((r = fs_write_atomic(p, buf, (size_t)n, 0600)) < 0)
		return r;
	/* the record without its secrets: whoever adopts the session has
	 * the node database; nothing secret goes to /run */
	copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = c->rec;
	memset(copy->session.auth.password, 0, sizeof(copy->session.auth.password));
	memset(copy->session.auth.password_in, 0, sizeof(copy->session.auth.password_in));
	r = rec_format(REC_KIND_NODE, copy, REC_FMT_DISK, &text, &len);
	free(copy);
	if (r < 0)
		return r;
	join(p, c->dir, "record");
	r = fs_write_atomic(p, text, len, 0600);
	free(text);
	return r < 0 ? r : 0;
}

int rundir_cleanup(const char *dir)
{
	char lock[PATH_MAX];
	int fd;

	join(lock, dir, "lock");
	fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && lock_try(fd)) {
		close(fd);
		return -EBUSY;
	}
	clean_leftovers(dir);
	unlink(lock);
	if (fd >= 0)
		close(fd);
	if (rmdir(dir) && errno != ENOENT)
		return -errno;
	return 0;
}

void rundir_remove(const struct usp_config *c)
{
	char p[PATH_MAX];

	rmdir(c->mnt);
	for (unsigned i = 0; state_files[i]; i++) {
		join(p, c->dir, state_files[i]);
		unlink(p);
	}
	join(p, c->dir, "lock");
	unlink(p);
	rmdir(c->dir);
}
