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
 * left alone). -ENOTDIR if a component exists and is not a directory. */
int fs_mkdir_p(const char *path, mode_t mode);

/* fsync a directory (after rename/unlink inside it). */
int fs_sync_dir(const char *dir);

/* fsync the directory containing path. */
int fs_sync_parent(const char *path);

#endif
