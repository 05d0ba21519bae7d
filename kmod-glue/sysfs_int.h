/* Helpers shared by sysfs.c and sysfs_dev.c; not part of the API. */
#ifndef KMODGLUE_SYSFS_INT_H
#define KMODGLUE_SYSFS_INT_H

#include <dirent.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "sysfs.h"

const char *sysfs_root_or_default(const char *root);
/* snprintf into buf; -ENAMETOOLONG on truncation, -EINVAL on error. */
int sysfs_path(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Read the attribute at an absolute path (same contract as sysfs_read_attr). */
int sysfs_read_abs(const char *path, char *buf, size_t cap);
/* Strict unsigned decimal: digits only, no sign or blanks, fits. */
int sysfs_parse_u32(const char *s, uint32_t *ret);
int sysfs_parse_u64(const char *s, uint64_t *ret);
/* name = prefix + strict u32 (e.g. "session12"). */
int sysfs_parse_prefixed(const char *name, const char *prefix, uint32_t *ret);
/* Canonical path of <root>/<rel...>: -ENOENT if missing. */
int sysfs_realpath(char *out, const char *path);
/* The session's device directory (…/hostH/sessionS), canonical. */
int sysfs_session_devdir(const char *root, uint32_t sid, char out[PATH_MAX]);
/* opendir with O_CLOEXEC; NULL with errno set. */
DIR *sysfs_opendir(const char *path);
/* Append v to a growable sorted-later array of u32 with SYSFS_LIST_MAX cap. */
int sysfs_u32_push(uint32_t **arr, size_t *n, size_t *cap, uint32_t v);
void sysfs_u32_sort(uint32_t *arr, size_t n);

#endif
