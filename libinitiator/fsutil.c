#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

int fs_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	/* Some file systems cannot fsync a directory; the rename still
	 * happened. */
	if (r == -EINVAL || r == -EROFS)
		r = 0;
	return r;
}

int fs_sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	if (!slash)
		return fs_sync_dir(".");
	size_t n = (size_t)(slash - path);
	if (n == 0)
		return fs_sync_dir("/");
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return fs_sync_dir(dir);
}

int fs_read_full(int fd, void *buf, size_t cap, size_t *ret_len)
{
	char *p = buf;
	size_t len = 0;

	while (len < cap) {
		ssize_t r = read(fd, p + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*ret_len = len;
			return -errno;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	*ret_len = len;
	return 0;
}

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* The mkostemp() template of a temporary file beside path. */
static int tmp_name(const char *path, char *tmp, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int n;

	if (!*base)
		return -EINVAL;
	if (slash)
		n = snprintf(tmp, len, "%.*s/.%s.XXXXXX", (int)(slash - path), path, base);
	else
		n = snprintf(tmp, len, ".%s.XXXXXX", base);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int r = tmp_name(path, tmp, sizeof(tmp));

	if (r < 0)
		return r;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode) < 0)
		r = -errno;
	if (!r)
		r = fs_write_all(fd, data, len);
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r) {
		unlink(tmp);
		return r;
	}
	return fs_sync_parent(path);
}

static int is_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int fs_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0)
		return -EINVAL;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	/* Up: cut components off until one can be made or exists. */
	for (;;) {
		if (mkdir(buf, mode) == 0)
			break;
		if (errno == EEXIST) {
			int r = is_dir(buf);
			if (r < 0 || strlen(buf) == len)
				return r;
			break;
		}
		if (errno != ENOENT)
			return -errno;
		char *slash = strrchr(buf, '/');
		if (!slash || slash == buf)
			return -ENOENT;
		*slash = '\0';
	}
	/* Down: put the cut separators back, making each level. */
	for (size_t cut = strlen(buf); cut < len; cut = strlen(buf)) {
		buf[cut] = '/';
		if (mkdir(buf, mode) < 0) {
			if (errno != EEXIST)
				return -errno;
			int r = is_dir(buf);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---------- batches ---------- */

void fs_batch_init(struct fs_batch *b)
{
	memset(b, 0, sizeof(*b));
}

static void batch_remove_temps(struct fs_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->v[i].tmp) {
			unlink(b->v[i].tmp);
			free(b->v[i].tmp);
			b->v[i].tmp = NULL;
		}
	}
}

void fs_batch_free(struct fs_batch *b)
{
	if (!b)
		return;
	batch_remove_temps(b);
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].path);
		free(b->v[i].link_target);
		free(b->v[i].link_path);
	}
	free(b->v);
	for (size_t i = 0; i < b->n_fs; i++)
		close(b->fs_fds[i]);
	free(b->fs_fds);
	free(b->fs_devs);
	fs_batch_init(b);
}

/* Keep a directory descriptor on the file system of the temporary file
 * fd, opened before its data is written: syncfs(2) reports the writeback
 * errors of the file system since that descriptor was opened. */
static int batch_note_fs(struct fs_batch *b, int fd, const char *tmp)
{
	struct stat st;
	char dir[PATH_MAX];

	if (fstat(fd, &st) < 0)
		return -errno;
	for (size_t i = 0; i < b->n_fs; i++)
		if (b->fs_devs[i] == st.st_dev)
			return 0;
	const char *slash = strrchr(tmp, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == tmp)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - tmp), tmp);
	int *nfds = realloc(b->fs_fds, (b->n_fs + 1) * sizeof(*nfds));
	if (!nfds)
		return -ENOMEM;
	b->fs_fds = nfds;
	dev_t *ndevs = realloc(b->fs_devs, (b->n_fs + 1) * sizeof(*ndevs));
	if (!ndevs)
		return -ENOMEM;
	b->fs_devs = ndevs;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	b->fs_fds[b->n_fs] = dfd;
	b->fs_devs[b->n_fs] = st.st_dev;
	b->n_fs++;
	return 0;
}

int fs_batch_write(struct fs_batch *b, const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int r;

	if (!b || !path || (!data && len))
		return -EINVAL;
	if ((r = tmp_name(path, tmp, sizeof(tmp))) < 0)
		return r;
	r = 0;
	if (b->n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 64;
		struct fs_batch_entry *nv = realloc(b->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		b->v = nv;
		b->cap = ncap;
	}
	struct fs_batch_entry e = { .path = strdup(path) };
	if (!e.path)
		return -ENOMEM;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(e.path);
		return r;
	}
	e.tmp = strdup(tmp);
	if (!e.tmp)
		r = -ENOMEM;
	if (!r)
		r = batch_note_fs(b, fd, tmp);
	if (!r && fchmod(fd, mode) < 0)
		r = -errno;
	if (!r)
		r = fs_write_all(fd, data, len);
	if (close(fd) < 0 && !r)
		r = -errno;
	if (r) {
		unlink(tmp);
		free(e.tmp);
		free(e.path);
		return r;
	}
	b->v[b->n++] = e;
	return 0;
}

int fs_batch_link(struct fs_batch *b, const char *target, const char *link_path)
{
	if (!b || !target || !link_path || b->n == 0 || b->v[b->n - 1].link_path)
		return -EINVAL;
	struct fs_batch_entry *e = &b->v[b->n - 1];
	char *t = strdup(target), *l = strdup(link_path);
	if (!t || !l) {
		free(t);
		free(l);
		return -ENOMEM;
	}
	e->link_target = t;
	e->link_path = l;
	return 0;
}

static int batch_syncfs(const struct fs_batch *b)
{
	for (size_t i = 0; i < b->n_fs; i++)
		if (syncfs(b->fs_fds[i]) < 0)
			return -errno;
	return 0;
}

static int batch_fsync_files(const struct fs_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		int fd = open(b->v[i].tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return -errno;
		int r = fsync(fd) < 0 ? -errno : 0;
		close(fd);
		if (r < 0)
			return r;
	}
	return 0;
}

/* fsync the directory holding path, unless dirs[0..*n) has it already. */
static int sync_parent_once(const char *path, char (*dirs)[PATH_MAX], size_t *n)
{
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;

	if (len == 0 || len >= PATH_MAX)
		return fs_sync_parent(path);
	for (size_t i = 0; i < *n; i++)
		if (strlen(dirs[i]) == len && memcmp(dirs[i], path, len) == 0)
			return 0;
	memcpy(dirs[*n], path, len);
	dirs[*n][len] = '\0';
	(*n)++;
	return fs_sync_dir(dirs[*n - 1]);
}

/* The directories of the first `done` entries and of their links. */
static int batch_fsync_dirs(const struct fs_batch *b, size_t done)
{
	char (*dirs)[PATH_MAX] = malloc(2 * done * sizeof(*dirs));
	size_t n = 0;
	int r = 0;

	if (!dirs)
		return -ENOMEM;
	for (size_t i = 0; i < done; i++) {
		int e = sync_parent_once(b->v[i].path, dirs, &n);
		if (e == 0 && b->v[i].link_path)
			e = sync_parent_once(b->v[i].link_path, dirs, &n);
		if (e < 0 && r == 0)
			r = e;
	}
	free(dirs);
	return r;
}

static int make_symlink(const char *target, const char *path)
{
	if (symlink(target, path) == 0)
		return 0;
	if (errno != EEXIST)
		return -errno;
	/* Replace what is there (an old link). Not atomic: readers use the
	 * link's name, and a crash in between only loses the link. */
	if (unlink(path) < 0 || symlink(target, path) < 0)
		return -errno;
	return 0;
}

int fs_batch_commit(struct fs_batch *b)
{
	if (!b)
		return -EINVAL;
	if (b->n == 0)
		return 0;
	if (!b->v[0].tmp)
		return -EINVAL;   /* committed (or failed) already */
	bool few = b->n <= FS_BATCH_FSYNC_MAX;
	/* The data of every file is durable before any of them replaces
	 * an old one: a crash never leaves a renamed, empty file. */
	int r = few ? batch_fsync_files(b) : batch_syncfs(b);
	if (r < 0) {
		batch_remove_temps(b);
		return r;
	}
	size_t done;
	for (done = 0; done < b->n; done++) {
		struct fs_batch_entry *e = &b->v[done];
		if (rename(e->tmp, e->path) < 0) {
			r = -errno;
			break;
		}
		free(e->tmp);
		e->tmp = NULL;
	}
	batch_remove_temps(b);
	for (size_t i = 0; i < done; i++) {
		const struct fs_batch_entry *e = &b->v[i];
		if (e->link_path) {
			int lr = make_symlink(e->link_target, e->link_path);
			if (lr < 0 && r == 0)
				r = lr;
		}
	}
	if (done == 0)
		return r;
	/* The renames and links are durable when their directories are. */
	int sr = few ? batch_fsync_dirs(b, done) : batch_syncfs(b);
	return r ? r : sr;
}

int fs_child_keep_only(int fd)
{
	int null;

	if (fd != 3) {
		if (dup2(fd, 3) < 0)
			return -1;
		fd = 3;
	}
	null = open("/dev/null", O_RDWR | O_NOCTTY);
	if (null >= 0)
		for (int i = 0; i < 3; i++)
			(void)dup2(null, i);
	if (close_range(4, ~0u, 0) < 0) {
		struct rlimit rl;
		unsigned max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
				       rl.rlim_cur < 1048576 ? (unsigned)rl.rlim_cur : 65536u;
		for (unsigned i = 4; i < max; i++)
			(void)close((int)i);
	}
	return fd;
}

unsigned long fs_raise_nofile(unsigned long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	rlim_t target = rl.rlim_max;
	if (want && (rlim_t)want < target)
		target = (rlim_t)want;
	if (rl.rlim_cur < target) {
		struct rlimit nl = { .rlim_cur = target, .rlim_max = rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
			rl.rlim_cur = target;
	}
	return rl.rlim_cur == RLIM_INFINITY ? ULONG_MAX : (unsigned long)rl.rlim_cur;
}
