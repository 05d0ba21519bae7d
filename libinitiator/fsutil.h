/* Small file-system helpers for the node database and the initiator
 * name file: atomic replacement and directory creation. */
#ifndef LIBINITIATOR_FSUTIL_H
#define LIBINITIATOR_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Replace path with data so a reader sees the old or the new file, never
 * a mix, and a crash leaves one of the two: a temporary file
 * ".<name>.XXXXXX" in the same directory, fchmod(mode), write, fsync,
 * rename over path, fsync the directory. Names starting with '.' are
 * skipped by the node database readers. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* mkdir -p with mode for every directory it creates (existing ones are
 * left alone). -ENOTDIR if a component exists and is not a directory.
 * Walks up from path only as far as it must, so creating a leaf under an
 * existing parent costs one mkdir. */
int fs_mkdir_p(const char *path, mode_t mode);

/* write() all of data, again after EINTR and short writes: 0 or -errno. */
int fs_write_all(int fd, const void *data, size_t len);

/* read() until buf is full or end of file, again after EINTR: 0 with
 * *ret_len the bytes read (< cap only at end of file), or -errno. */
int fs_read_full(int fd, void *buf, size_t cap, size_t *ret_len);

/* fsync a directory (after rename/unlink inside it). */
int fs_sync_dir(const char *dir);

/* fsync the directory containing path. */
int fs_sync_parent(const char *path);

/* Many atomic replacements made durable together, for writers of
 * hundreds of small files (the node records of one discovery), where
 * fs_write_atomic()'s two fsyncs per file dominate.
 *
 *   fs_batch_write()   writes a temporary ".<name>.XXXXXX" beside path
 *                      (mode, no fsync); nothing is visible yet
 *   fs_batch_link()    a symlink to create once the file staged last is
 *                      in place (replacing whatever link has that name)
 *   fs_batch_commit()  makes every temporary file durable, renames each
 *                      over its path in the order staged, creates the
 *                      links, makes the directories durable
 *   fs_batch_free()    removes every temporary file not yet renamed
 *
 * Readers see each file old or new, never torn, as with
 * fs_write_atomic(); a crash before the renames are durable leaves some
 * files old and some new. Up to FS_BATCH_FSYNC_MAX files are synced one
 * by one (fsync of each file, then of each directory once); a larger
 * batch uses syncfs(2) once before the renames and once after, which
 * also writes out whatever else is dirty on those file systems. Errors:
 * the first failure is returned, every temporary file is removed, and no
 * file whose data was not durable has been renamed into place. The
 * caller serialises batches on the same paths (the node database lock). */
#define FS_BATCH_FSYNC_MAX 16

struct fs_batch_entry {
	char *tmp;          /* NULL once renamed or removed */
	char *path;
	char *link_target;  /* with link_path: symlink after the rename */
	char *link_path;
};

struct fs_batch {
	struct fs_batch_entry *v;
	size_t n, cap;
	int *fs_fds;        /* one directory per file system, for syncfs */
	dev_t *fs_devs;
	size_t n_fs;
};

void fs_batch_init(struct fs_batch *b);
int fs_batch_write(struct fs_batch *b, const char *path, const void *data, size_t len, mode_t mode);
int fs_batch_link(struct fs_batch *b, const char *target, const char *link_path);
int fs_batch_commit(struct fs_batch *b);
void fs_batch_free(struct fs_batch *b);   /* NULL is a no-op; b reusable after fs_batch_init() */

/* For a freshly forked child of a daemon: keep fd as descriptor 3, point
 * 0-2 at /dev/null and close everything else (close_range, or a loop on
 * kernels before 5.9), so the child holds none of the daemon's locks,
 * listening sockets or peers while it blocks. Async-signal-safe. Returns
 * 3, or -1 when fd could not be moved. */
int fs_child_keep_only(int fd);

/* Raises the soft RLIMIT_NOFILE toward the hard one, at most to want
 * (0: the hard limit). Daemons and tools that hold a descriptor per
 * session, client or job call it at start; Linux's default soft limit
 * is 1024. Returns the soft limit now in force (0 when unknown). */
unsigned long fs_raise_nofile(unsigned long want);

#endif
