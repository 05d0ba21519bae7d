/* SCSI devices of iSCSI sessions: H:C:T:L names, the LUNs below a
 * session, their block devices, and the way back from a device to its
 * session (reference/kernel-iscsi-abi.md §3). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sysfs.h"
#include "sysfs_int.h"

int sysfs_hctl_parse(const char *s, struct sysfs_hctl *ret)
{
	char buf[96], *parts[4], *p;
	struct sysfs_hctl h;
	size_t n = 0;

	if (!s || !ret || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	p = buf;
	parts[n++] = p;
	while ((p = strchr(p, ':'))) {
		if (n == 4)
			return -EINVAL;
		*p++ = '\0';
		parts[n++] = p;
	}
	if (n != 4)
		return -EINVAL;
	if (sysfs_parse_u32(parts[0], &h.host) < 0 || sysfs_parse_u32(parts[1], &h.channel) < 0 ||
	    sysfs_parse_u32(parts[2], &h.target) < 0 || sysfs_parse_u64(parts[3], &h.lun) < 0)
		return -EINVAL;
	*ret = h;
	return 0;
}

int sysfs_hctl_format(const struct sysfs_hctl *h, char *buf, size_t cap)
{
	if (!h || !buf)
		return -EINVAL;
	return sysfs_path(buf, cap, "%" PRIu32 ":%" PRIu32 ":%" PRIu32 ":%" PRIu64, h->host,
			  h->channel, h->target, h->lun);
}

static void dir_attr(const char *dir, const char *attr, char *buf, size_t cap)
{
	char path[PATH_MAX];

	buf[0] = '\0';
	if (sysfs_path(path, sizeof(path), "%s/%s", dir, attr) < 0 ||
	    sysfs_read_abs(path, buf, cap) < 0)
		buf[0] = '\0';
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Block devices of one SCSI device: entries of <dir>/block/ (and the
 * "block:sdX" links of old kernels), sorted, at most SYSFS_LUN_BLOCK_MAX. */
static void lun_blocks(const char *dir, struct sysfs_lun *l)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	l->n_block = 0;
	if (sysfs_path(path, sizeof(path), "%s/block", dir) == 0 && (d = sysfs_opendir(path))) {
		while ((de = readdir(d)) && l->n_block < SYSFS_LUN_BLOCK_MAX) {
			if (de->d_name[0] == '.' || strlen(de->d_name) >= SYSFS_SHORT_MAX)
				continue;
			strcpy(l->block[l->n_block++], de->d_name);
		}
		closedir(d);
	}
	if (l->n_block == 0 && (d = sysfs_opendir(dir))) {
		while ((de = readdir(d)) && l->n_block < SYSFS_LUN_BLOCK_MAX) {
			const char *n = de->d_name + 6;

			if (strncmp(de->d_name, "block:", 6) != 0 || !*n ||
			    strlen(n) >= SYSFS_SHORT_MAX)
				continue;
			strcpy(l->block[l->n_block++], n);
		}
		closedir(d);
	}
	qsort(l->block, l->n_block, sizeof(l->block[0]), cmp_name);
}

/* Read a SCSI device directory (canonical path). */
static void lun_read_dir(const char *dir, const struct sysfs_hctl *h, struct sysfs_lun *l)
{
	char buf[SYSFS_SHORT_MAX];
	uint32_t t;

	memset(l, 0, sizeof(*l));
	l->hctl = *h;
	dir_attr(dir, "state", l->state, sizeof(l->state));
	dir_attr(dir, "type", buf, sizeof(buf));
	l->type = buf[0] && sysfs_parse_u32(buf, &t) == 0 && t <= 0x1f ? (int)t : SYSFS_UNSET;
	lun_blocks(dir, l);
}

/* The canonical directory of SCSI device h, <root>/bus/scsi/devices/<h:c:t:l>
 * with links resolved, into real (PATH_MAX bytes). */
static int lun_dir_resolve(const char *root, const struct sysfs_hctl *h, char *real)
{
	char name[96], path[PATH_MAX];
	int r;

	r = sysfs_hctl_format(h, name, sizeof(name));
	if (r < 0)
		return r;
	r = sysfs_path(path, sizeof(path), "%s/bus/scsi/devices/%s", sysfs_root_or_default(root),
		       name);
	if (r < 0)
		return r;
	r = sysfs_realpath(real, path);
	if (r < 0)
		return r;
	return 0;
}

int sysfs_lun_read(const char *root, const struct sysfs_hctl *h, struct sysfs_lun *ret)
{
	char real[PATH_MAX];
	struct sysfs_lun l;
	int r;

	if (!h || !ret)
		return -EINVAL;
	r = lun_dir_resolve(root, h, real);
	if (r < 0)
		return r;
	lun_read_dir(real, h, &l);
	*ret = l;
	return 0;
}

static int cmp_lun(const void *a, const void *b)
{
	const struct sysfs_hctl *x = &((const struct sysfs_lun *)a)->hctl;
	const struct sysfs_hctl *y = &((const struct sysfs_lun *)b)->hctl;

	if (x->host != y->host)
		return x->host < y->host ? -1 : 1;
	if (x->channel != y->channel)
		return x->channel < y->channel ? -1 : 1;
	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	if (x->lun != y->lun)
		return x->lun < y->lun ? -1 : 1;
	return 0;
}

static int lun_push(struct sysfs_lun **arr, size_t *n, size_t *cap, const struct sysfs_lun *l)
{
	if (*n >= SYSFS_LIST_MAX)
		return -E2BIG;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct sysfs_lun *p = realloc(*arr, nc * sizeof(**arr));

		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = nc;
	}
	(*arr)[(*n)++] = *l;
	return 0;
}

/* The H:C:T:L directories of one target<H>:<C>:<T> directory. */
static int scan_target_dir(const char *tdir, struct sysfs_lun **arr, size_t *n, size_t *cap)
{
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = sysfs_opendir(tdir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct sysfs_hctl h;
		struct sysfs_lun l;

		if (sysfs_hctl_parse(de->d_name, &h) < 0)
			continue;
		if (sysfs_path(path, sizeof(path), "%s/%s", tdir, de->d_name) < 0)
			continue;
		lun_read_dir(path, &h, &l);
		r = lun_push(arr, n, cap, &l);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

int sysfs_session_luns(const char *root, uint32_t sid, struct sysfs_lun **ret_luns, size_t *ret_n)
{
	char dev[PATH_MAX];
	struct sysfs_lun *arr = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r;

	if (!ret_luns || !ret_n)
		return -EINVAL;
	r = sysfs_session_devdir(root, sid, dev);
	if (r < 0)
		return r;
	d = sysfs_opendir(dev);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char tdir[PATH_MAX];

		/* target<H>:<C>:<T>; T = 0 for iscsi_tcp but do not assume */
		if (strncmp(de->d_name, "target", 6) != 0)
			continue;
		if (sysfs_path(tdir, sizeof(tdir), "%s/%s", dev, de->d_name) < 0)
			continue;
		r = scan_target_dir(tdir, &arr, &n, &cap);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0) {
		free(arr);
		return r;
	}
	if (n > 1)
		qsort(arr, n, sizeof(*arr), cmp_lun);
	*ret_luns = arr;
	*ret_n = n;
	return 0;
}

int sysfs_lun_session(const char *root, const struct sysfs_hctl *h, uint32_t *ret_sid)
{
	char real[PATH_MAX], rootreal[PATH_MAX];
	size_t rl;
	char *p;
	int r;

	if (!h || !ret_sid)
		return -EINVAL;
	r = lun_dir_resolve(root, h, real);
	if (r < 0)
		return r;
	r = sysfs_realpath(rootreal, sysfs_root_or_default(root));
	if (r < 0)
		return r;
	/* Only components below the sysfs root count: a test directory
	 * called "session5" must not look like a session. */
	rl = strlen(rootreal);
	if (strncmp(real, rootreal, rl) != 0 || (real[rl] != '/' && rl > 1))
		return -ENODEV;
	/* walk up from the device to the first component session<N> */
	while ((p = strrchr(real, '/')) && (size_t)(p - real) >= rl) {
		uint32_t sid;

		if (sysfs_parse_prefixed(p + 1, "session", &sid) == 0) {
			*ret_sid = sid;
			return 0;
		}
		*p = '\0';
	}
	return -ENODEV;
}

int sysfs_block_hctl(const char *root, const char *block, struct sysfs_hctl *ret)
{
	char path[PATH_MAX], real[PATH_MAX];
	const char *base;
	int r;

	if (!block || !*block || strchr(block, '/') || !ret || block[0] == '.')
		return -EINVAL;
	r = sysfs_path(path, sizeof(path), "%s/class/block/%s/device", sysfs_root_or_default(root),
		       block);
	if (r < 0)
		return r;
	r = sysfs_realpath(real, path);
	if (r < 0)
		return r;
	base = strrchr(real, '/');
	if (!base)
		return -ENODEV;
	return sysfs_hctl_parse(base + 1, ret) < 0 ? -ENODEV : 0;
}
