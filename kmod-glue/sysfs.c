/* sysfs reading: attributes, transport, sessions, connections, hosts
 * (reference/kernel-iscsi-abi.md §3). Devices and H:C:T:L mapping live in
 * sysfs_dev.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sysfs.h"
#include "sysfs_int.h"

const char *sysfs_root_or_default(const char *root)
{
	return root && *root ? root : SYSFS_DEFAULT_ROOT;
}

int sysfs_path(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= cap)
		return -ENAMETOOLONG;
	return 0;
}

/* Reads one attribute from an open descriptor, which it closes. */
static int read_fd_attr(int fd, char *buf, size_t cap)
{
	char tmp[SYSFS_ATTR_MAX + 1];
	size_t len = 0;
	int err = 0;

	/* Bounded: a sysfs attribute is at most one page; anything longer
	 * is not an attribute we understand. */
	while (len < sizeof(tmp)) {
		ssize_t n = read(fd, tmp + len, sizeof(tmp) - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* A sysfs attribute's show() output (at most a page) comes
		 * whole in the first read when the buffer holds it: a short
		 * read is its end, and asking again for the end-of-file
		 * would cost a listing of 512 sessions 20000 system calls. */
		if (len < sizeof(tmp))
			break;
	}
	close(fd);
	if (err)
		goto out;
	if (len > SYSFS_ATTR_MAX) {
		err = -EOVERFLOW;
		goto out;
	}
	tmp[len] = '\0';
	len = strlen(tmp);                  /* stop at an embedded NUL */
	while (len > 0 && (tmp[len - 1] == '\n' || tmp[len - 1] == '\r'))
		tmp[--len] = '\0';
	if (strcmp(tmp, "(null)") == 0)
		err = -ENODATA;
	else if (len >= cap)
		err = -EOVERFLOW;
	else
		memcpy(buf, tmp, len + 1);
out:
	explicit_bzero(tmp, sizeof(tmp));   /* may have held a CHAP secret */
	return err;
}

int sysfs_read_abs(const char *path, char *buf, size_t cap)
{
	int fd;

	if (!buf || cap < 2)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return read_fd_attr(fd, buf, cap);
}

int sysfs_read_attr(const char *root, const char *relpath, char *buf, size_t cap)
{
	char path[PATH_MAX];
	int r;

	if (!relpath)
		return -EINVAL;
	r = sysfs_path(path, sizeof(path), "%s/%s", sysfs_root_or_default(root), relpath);
	if (r < 0)
		return r;
	return sysfs_read_abs(path, buf, cap);
}

static int parse_s64(const char *s, long long lo, long long hi, long long *ret)
{
	char *end;
	long long v;

	while (*s == ' ' || *s == '\t')
		s++;
	if (strcmp(s, "off") == 0) {        /* recovery_tmo style */
		v = -1;
	} else {
		if (!*s)
			return -EINVAL;
		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno || end == s)
			return -EINVAL;
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}

int sysfs_read_int(const char *root, const char *relpath, int *ret)
{
	char buf[SYSFS_SHORT_MAX];
	long long v;
	int r;

	r = sysfs_read_attr(root, relpath, buf, sizeof(buf));
	if (r < 0)
		return r;
	/* INT_MIN is our "unset" marker, never a value */
	r = parse_s64(buf, (long long)INT_MIN + 1, INT_MAX, &v);
	if (r < 0)
		return r;
	*ret = (int)v;
	return 0;
}

int sysfs_parse_u64(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

int sysfs_parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r;

	r = sysfs_parse_u64(s, &v);
	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

int sysfs_parse_prefixed(const char *name, const char *prefix, uint32_t *ret)
{
	size_t n = strlen(prefix);

	if (strncmp(name, prefix, n) != 0)
		return -EINVAL;
	return sysfs_parse_u32(name + n, ret);
}

int sysfs_read_u64(const char *root, const char *relpath, uint64_t *ret)
{
	char buf[SYSFS_SHORT_MAX];
	int r;

	r = sysfs_read_attr(root, relpath, buf, sizeof(buf));
	if (r < 0)
		return r;
	r = sysfs_parse_u64(buf, ret);
	return r < 0 ? -EINVAL : 0;
}

int sysfs_read_hex(const char *root, const char *relpath, uint32_t *ret)
{
	char buf[SYSFS_SHORT_MAX];
	const char *s = buf;
	uint64_t v = 0;
	int r;

	r = sysfs_read_attr(root, relpath, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EINVAL;
		v = v * 16 + (uint64_t)d;
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	*ret = (uint32_t)v;
	return 0;
}

int sysfs_write_attr(const char *root, const char *relpath, const char *value)
{
	char path[PATH_MAX];
	size_t len;
	ssize_t n;
	int fd, r;

	if (!relpath || !value)
		return -EINVAL;
	r = sysfs_path(path, sizeof(path), "%s/%s", sysfs_root_or_default(root), relpath);
	if (r < 0)
		return r;
	/* no O_CREAT: an attribute that is not there is an error, not a file */
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_TRUNC);
	if (fd < 0)
		return -errno;
	len = strlen(value);
	/* sysfs store() sees one write; do not split it */
	do {
		n = write(fd, value, len);
	} while (n < 0 && errno == EINTR);
	r = n < 0 ? -errno : ((size_t)n != len ? -EIO : 0);
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	return r;
}

/* ---- transport --------------------------------------------------------- */

static int transport_rel(char *buf, size_t cap, const char *name, const char *attr)
{
	/* name is a single path component */
	if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return -EINVAL;
	return sysfs_path(buf, cap, "class/iscsi_transport/%s%s%s", name, attr ? "/" : "",
			  attr ? attr : "");
}

bool sysfs_transport_exists(const char *root, const char *name)
{
	char rel[PATH_MAX], path[PATH_MAX];
	struct stat st;

	if (transport_rel(rel, sizeof(rel), name, NULL) < 0)
		return false;
	if (sysfs_path(path, sizeof(path), "%s/%s", sysfs_root_or_default(root), rel) < 0)
		return false;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sysfs_transport_handle(const char *root, const char *name, uint64_t *ret)
{
	char rel[PATH_MAX];
	int r;

	r = transport_rel(rel, sizeof(rel), name, "handle");
	if (r < 0)
		return r;
	return sysfs_read_u64(root, rel, ret);
}

int sysfs_transport_caps(const char *root, const char *name, uint32_t *ret)
{
	char rel[PATH_MAX];
	int r;

	r = transport_rel(rel, sizeof(rel), name, "caps");
	if (r < 0)
		return r;
	return sysfs_read_hex(root, rel, ret);
}

/* ---- listing helpers --------------------------------------------------- */

int sysfs_u32_push(uint32_t **arr, size_t *n, size_t *cap, uint32_t v)
{
	if (*n >= SYSFS_LIST_MAX)
		return -E2BIG;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		uint32_t *p = realloc(*arr, nc * sizeof(**arr));

		if (!p)
			return -ENOMEM;
		*arr = p;
		*cap = nc;
	}
	(*arr)[(*n)++] = v;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void sysfs_u32_sort(uint32_t *arr, size_t n)
{
	if (n > 1)
		qsort(arr, n, sizeof(*arr), cmp_u32);
}

DIR *sysfs_opendir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

/* Entries of <root>/<dir> named prefix<u32>[<sep><u32>], collecting the
 * first number, or (match_first set) the second number of entries whose
 * first number equals *match_first. */
static int list_numbered(const char *root, const char *dir, const char *prefix,
			 const uint32_t *match_first, uint32_t **ret, size_t *ret_n)
{
	char path[PATH_MAX];
	uint32_t *arr = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int r;

	r = sysfs_path(path, sizeof(path), "%s/%s", sysfs_root_or_default(root), dir);
	if (r < 0)
		return r;
	d = sysfs_opendir(path);
	if (!d) {
		if (errno != ENOENT)
			return -errno;
		*ret = NULL;          /* class absent: module not loaded, no entries */
		*ret_n = 0;
		return 0;
	}
	r = 0;
	while ((de = readdir(d))) {
		char name[256];
		uint32_t v;
		char *colon;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		snprintf(name, sizeof(name), "%s", de->d_name + strlen(prefix));
		colon = strchr(name, ':');
		if (match_first) {
			uint32_t first;

			if (!colon)
				continue;
			*colon = '\0';
			if (sysfs_parse_u32(name, &first) < 0 || first != *match_first ||
			    sysfs_parse_u32(colon + 1, &v) < 0)
				continue;
		} else if (colon || sysfs_parse_u32(name, &v) < 0) {
			continue;
		}
		r = sysfs_u32_push(&arr, &n, &cap, v);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0) {
		free(arr);
		return r;
	}
	sysfs_u32_sort(arr, n);
	*ret = arr;
	*ret_n = n;
	return 0;
}

/* ---- sessions ---------------------------------------------------------- */

int sysfs_session_list(const char *root, uint32_t **ret_sids, size_t *ret_n)
{
	if (!ret_sids || !ret_n)
		return -EINVAL;
	return list_numbered(root, "class/iscsi_session", "session", NULL, ret_sids, ret_n);
}

bool sysfs_session_exists(const char *root, uint32_t sid)
{
	char path[PATH_MAX];
	struct stat st;

	if (sysfs_path(path, sizeof(path), "%s/class/iscsi_session/session%u",
		       sysfs_root_or_default(root), sid) < 0)
		return false;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sysfs_realpath(char *out, const char *path)
{
	if (!realpath(path, out))
		return -errno;
	return 0;
}

int sysfs_session_devdir(const char *root, uint32_t sid, char out[PATH_MAX])
{
	char path[PATH_MAX], real[PATH_MAX], suffix[64];
	size_t rl, sl;
	int r;

	/* class/iscsi_session/sessionS -> …/hostH/sessionS/iscsi_session/sessionS */
	r = sysfs_path(path, sizeof(path), "%s/class/iscsi_session/session%u",
		       sysfs_root_or_default(root), sid);
	if (r < 0)
		return r;
	r = sysfs_realpath(real, path);
	if (r < 0)
		return r;
	snprintf(suffix, sizeof(suffix), "/iscsi_session/session%u", sid);
	rl = strlen(real);
	sl = strlen(suffix);
	if (rl > sl && strcmp(real + rl - sl, suffix) == 0) {
		real[rl - sl] = '\0';
		memcpy(out, real, rl - sl + 1);
		return 0;
	}
	/* otherwise trust the class device's `device` link */
	r = sysfs_path(path, sizeof(path), "%s/class/iscsi_session/session%u/device",
		       sysfs_root_or_default(root), sid);
	if (r < 0)
		return r;
	return sysfs_realpath(out, path);
}

int sysfs_session_host(const char *root, uint32_t sid, uint32_t *ret_host_no)
{
	char dev[PATH_MAX];
	char *slash;
	uint32_t h;
	int r;

	/* Fast path: the class link names the host directly,
	 * ../../devices/.../host<H>/session<S>/iscsi_session/session<S>;
	 * one readlink instead of resolving every component. */
	{
		char path[PATH_MAX], suffix[64];
		ssize_t n;
		size_t sl;

		if (sysfs_path(path, sizeof(path), "%s/class/iscsi_session/session%u",
			       sysfs_root_or_default(root), sid) == 0 &&
		    (n = readlink(path, dev, PATH_MAX - 1)) > 0) {
			dev[n] = '\0';
			snprintf(suffix, sizeof(suffix), "/session%u/iscsi_session/session%u", sid, sid);
			sl = strlen(suffix);
			if ((size_t)n > sl && strcmp(dev + n - sl, suffix) == 0) {
				dev[n - sl] = '\0';
				slash = strrchr(dev, '/');
				if (slash && sysfs_parse_prefixed(slash + 1, "host", &h) == 0) {
					*ret_host_no = h;
					return 0;
				}
			}
		}
	}
	r = sysfs_session_devdir(root, sid, dev);
	if (r < 0)
		return r;
	/* the session device's parent is the Scsi_Host, named host<H> */
	slash = strrchr(dev, '/');
	if (!slash)
		return -ENODEV;
	*slash = '\0';
	slash = strrchr(dev, '/');
	if (!slash || sysfs_parse_prefixed(slash + 1, "host", &h) < 0)
		return -ENODEV;
	*ret_host_no = h;
	return 0;
}

/* The attributes of one sysfs object, read relative to its directory,
 * opened once: every read by full path would resolve the class link and
 * the device path again (a listing of 512 sessions reads ~20000 files). */
struct adir {
	const char *root;
	const char *base;
	int fd;                 /* -1: not opened yet; -2: open failed, use paths */
};

#define ADIR_INIT(r, b) { .root = (r), .base = (b), .fd = -1 }

static int adir_read(struct adir *d, const char *attr, char *buf, size_t cap)
{
	char rel[PATH_MAX];
	int fd;

	if (!buf || cap < 2)
		return -EINVAL;
	if (d->fd == -1) {
		if (sysfs_path(rel, sizeof(rel), "%s/%s", sysfs_root_or_default(d->root), d->base) < 0)
			d->fd = -2;
		else {
			d->fd = open(rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (d->fd < 0)
				d->fd = -2;
		}
	}
	if (d->fd < 0) {
		if (sysfs_path(rel, sizeof(rel), "%s/%s", d->base, attr) < 0)
			return -ENAMETOOLONG;
		return sysfs_read_attr(d->root, rel, buf, cap);
	}
	fd = openat(d->fd, attr, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return read_fd_attr(fd, buf, cap);
}

static void adir_close(struct adir *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

/* Optional attributes: a missing or unreadable file leaves the default. */
static void opt_str(struct adir *d, const char *attr, char *buf, size_t cap)
{
	if (adir_read(d, attr, buf, cap) < 0)
		buf[0] = '\0';
}

static int opt_int(struct adir *d, const char *attr)
{
	char buf[SYSFS_SHORT_MAX];
	long long v;

	/* INT_MIN is our "unset" marker, never a value */
	if (adir_read(d, attr, buf, sizeof(buf)) < 0 ||
	    parse_s64(buf, (long long)INT_MIN + 1, INT_MAX, &v) < 0)
		return SYSFS_UNSET;
	return (int)v;
}

static enum sysfs_secret secret_state(struct adir *d, const char *attr)
{
	char buf[SYSFS_NAME_MAX];
	enum sysfs_secret s;
	int r;

	r = adir_read(d, attr, buf, sizeof(buf));
	if (r == -EACCES || r == -EPERM)
		s = SYSFS_SECRET_UNREADABLE;
	else if (r == 0 && buf[0])
		s = SYSFS_SECRET_SET;
	else if (r == -EOVERFLOW)
		s = SYSFS_SECRET_SET;
	else
		s = SYSFS_SECRET_UNSET;
	explicit_bzero(buf, sizeof(buf));
	return s;
}

static enum sysfs_session_state parse_state(const char *s)
{
	if (strcmp(s, "LOGGED_IN") == 0)
		return SYSFS_SESSION_LOGGED_IN;
	if (strcmp(s, "FAILED") == 0)
		return SYSFS_SESSION_FAILED;
	if (strcmp(s, "FREE") == 0)
		return SYSFS_SESSION_FREE;
	return SYSFS_SESSION_UNKNOWN;
}

const char *sysfs_session_state_name(enum sysfs_session_state s)
{
	switch (s) {
	case SYSFS_SESSION_LOGGED_IN: return "LOGGED_IN";
	case SYSFS_SESSION_FAILED: return "FAILED";
	case SYSFS_SESSION_FREE: return "FREE";
	default: return "UNKNOWN";
	}
}

static int session_read(const char *root, uint32_t sid, enum sysfs_detail detail, struct sysfs_session *ret)
{
	struct sysfs_session s;
	char base[64], tmp[SYSFS_NAME_MAX];
	uint32_t host;
	int r;

	if (!ret)
		return -EINVAL;
	if (!sysfs_session_exists(root, sid))
		return -ENOENT;
	snprintf(base, sizeof(base), "class/iscsi_session/session%u", sid);
	struct adir d = ADIR_INIT(root, base);
	memset(&s, 0, sizeof(s));
	s.sid = sid;
	s.host_no = sysfs_session_host(root, sid, &host) == 0 && host <= INT_MAX ?
		    (int)host : SYSFS_UNSET;
	opt_str(&d, "targetname", s.targetname, sizeof(s.targetname));
	s.tpgt = opt_int(&d, "tpgt");
	s.creator = opt_int(&d, "creator");
	s.target_id = s.recovery_tmo = s.abort_tmo = s.lu_reset_tmo = s.tgt_reset_tmo = SYSFS_UNSET;
	s.initial_r2t = s.immediate_data = s.first_burst_len = s.max_burst_len = SYSFS_UNSET;
	s.max_outstanding_r2t = s.data_pdu_in_order = s.data_seq_in_order = SYSFS_UNSET;
	s.erl = s.fast_abort = SYSFS_UNSET;
	s.password = s.password_in = SYSFS_SECRET_UNSET;
	if (detail == SYSFS_BRIEF) {
		s.state = parse_state(s.state_str);
		goto done;
	}
	opt_str(&d, "state", s.state_str, sizeof(s.state_str));
	s.state = parse_state(s.state_str);
	opt_str(&d, "target_state", s.target_state, sizeof(s.target_state));
	s.recovery_tmo = opt_int(&d, "recovery_tmo");
	opt_str(&d, "initiatorname", s.initiatorname, sizeof(s.initiatorname));
	opt_str(&d, "ifacename", s.ifacename, sizeof(s.ifacename));
	s.abort_tmo = opt_int(&d, "abort_tmo");
	s.lu_reset_tmo = opt_int(&d, "lu_reset_tmo");
	s.tgt_reset_tmo = opt_int(&d, "tgt_reset_tmo");
	if (detail == SYSFS_TREE)
		goto done;
	s.target_id = opt_int(&d, "target_id");

	/* usernames are not secrets, but they share the root-only mode */
	r = adir_read(&d, "username", tmp, sizeof(tmp));
	s.auth_readable = !(r == -EACCES || r == -EPERM);
	if (r == 0)
		memcpy(s.username, tmp, sizeof(s.username));
	opt_str(&d, "username_in", s.username_in, sizeof(s.username_in));
	s.password = secret_state(&d, "password");
	s.password_in = secret_state(&d, "password_in");

	s.initial_r2t = opt_int(&d, "initial_r2t");
	s.immediate_data = opt_int(&d, "immediate_data");
	s.first_burst_len = opt_int(&d, "first_burst_len");
	s.max_burst_len = opt_int(&d, "max_burst_len");
	s.max_outstanding_r2t = opt_int(&d, "max_outstanding_r2t");
	s.data_pdu_in_order = opt_int(&d, "data_pdu_in_order");
	s.data_seq_in_order = opt_int(&d, "data_seq_in_order");
	s.erl = opt_int(&d, "erl");
	s.fast_abort = opt_int(&d, "fast_abort");
done:
	adir_close(&d);
	*ret = s;
	return 0;
}

int sysfs_session_read(const char *root, uint32_t sid, struct sysfs_session *ret)
{
	return session_read(root, sid, SYSFS_FULL, ret);
}

int sysfs_session_read_detail(const char *root, uint32_t sid, enum sysfs_detail detail,
			      struct sysfs_session *ret)
{
	return session_read(root, sid, detail, ret);
}

void sysfs_session_auth_wipe(struct sysfs_session_auth *a)
{
	if (a)
		explicit_bzero(a, sizeof(*a));
}

int sysfs_session_auth_read(const char *root, uint32_t sid, struct sysfs_session_auth *ret)
{
	static const char *const attrs[] = { "username", "password", "username_in", "password_in" };
	struct sysfs_session_auth a;
	char *dst[4];
	int r = 0;

	if (!ret)
		return -EINVAL;
	if (!sysfs_session_exists(root, sid))
		return -ENOENT;
	memset(&a, 0, sizeof(a));
	dst[0] = a.username;
	dst[1] = a.password;
	dst[2] = a.username_in;
	dst[3] = a.password_in;
	for (size_t i = 0; i < 4; i++) {
		char rel[128];

		snprintf(rel, sizeof(rel), "class/iscsi_session/session%u/%s", sid, attrs[i]);
		r = sysfs_read_attr(root, rel, dst[i], SYSFS_NAME_MAX);
		if (r == -EACCES || r == -EPERM || r == -EOVERFLOW)
			break;
		if (r < 0)
			dst[i][0] = '\0';          /* missing or (null): unset */
		r = 0;
	}
	if (r < 0) {
		sysfs_session_auth_wipe(&a);
		return r;
	}
	*ret = a;
	sysfs_session_auth_wipe(&a);
	return 0;
}

/* ---- connections ------------------------------------------------------- */

int sysfs_conn_list(const char *root, uint32_t sid, uint32_t **ret_cids, size_t *ret_n)
{
	char dir[64];
	int r;

	if (!ret_cids || !ret_n)
		return -EINVAL;
	/* The session's device directory holds its connections: a few
	 * entries, where the class directory holds every session's (a
	 * listing of N sessions would read N * N entries). */
	snprintf(dir, sizeof(dir), "class/iscsi_session/session%u/device", sid);
	r = list_numbered(root, dir, "connection", &sid, ret_cids, ret_n);
	if (r == 0 && *ret_n > 0)
		return 0;
	if (r == 0)
		free(*ret_cids);
	return list_numbered(root, "class/iscsi_connection", "connection", &sid, ret_cids, ret_n);
}

static int conn_read(const char *root, uint32_t sid, uint32_t cid, enum sysfs_detail detail,
		     struct sysfs_conn *ret)
{
	struct sysfs_conn c;
	char base[64], path[PATH_MAX], buf[SYSFS_SHORT_MAX];
	struct stat st;
	uint32_t v;

	if (!ret)
		return -EINVAL;
	snprintf(base, sizeof(base), "class/iscsi_connection/connection%u:%u", sid, cid);
	if (sysfs_path(path, sizeof(path), "%s/%s", sysfs_root_or_default(root), base) < 0)
		return -ENAMETOOLONG;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return -ENOENT;
	struct adir d = ADIR_INIT(root, base);
	memset(&c, 0, sizeof(c));
	c.sid = sid;
	c.cid = cid;
	/* address/port/local_port read -ENOTCONN while no socket is bound */
	opt_str(&d, "address", c.address, sizeof(c.address));
	c.port = opt_int(&d, "port");
	opt_str(&d, "persistent_address", c.persistent_address,
		sizeof(c.persistent_address));
	c.persistent_port = opt_int(&d, "persistent_port");
	c.max_recv_dlength = c.max_xmit_dlength = c.header_digest = c.data_digest = SYSFS_UNSET;
	c.local_port = c.ping_tmo = c.recv_tmo = SYSFS_UNSET;
	if (detail == SYSFS_BRIEF)
		goto done;
	opt_str(&d, "state", c.state, sizeof(c.state));
	if (detail == SYSFS_TREE)
		goto done;
	if (adir_read(&d, "exp_statsn", buf, sizeof(buf)) == 0 && sysfs_parse_u32(buf, &v) == 0) {
		c.exp_statsn = v;
		c.exp_statsn_set = true;
	}
	c.max_recv_dlength = opt_int(&d, "max_recv_dlength");
	c.max_xmit_dlength = opt_int(&d, "max_xmit_dlength");
	c.header_digest = opt_int(&d, "header_digest");
	c.data_digest = opt_int(&d, "data_digest");
	c.local_port = opt_int(&d, "local_port");
	c.ping_tmo = opt_int(&d, "ping_tmo");
	c.recv_tmo = opt_int(&d, "recv_tmo");
done:
	adir_close(&d);
	*ret = c;
	return 0;
}

int sysfs_conn_read(const char *root, uint32_t sid, uint32_t cid, struct sysfs_conn *ret)
{
	return conn_read(root, sid, cid, SYSFS_FULL, ret);
}

int sysfs_conn_read_detail(const char *root, uint32_t sid, uint32_t cid, enum sysfs_detail detail,
			   struct sysfs_conn *ret)
{
	return conn_read(root, sid, cid, detail, ret);
}

int sysfs_conn_exp_statsn(const char *root, uint32_t sid, uint32_t cid, uint32_t *ret)
{
	char rel[128], buf[SYSFS_SHORT_MAX];
	uint32_t v;
	int r;

	snprintf(rel, sizeof(rel), "class/iscsi_connection/connection%u:%u/exp_statsn", sid, cid);
	r = sysfs_read_attr(root, rel, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (sysfs_parse_u32(buf, &v) < 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* ---- hosts ------------------------------------------------------------- */

/* brief: proc_name only (the transport's name). */
static int host_read(const char *root, uint32_t host_no, bool brief, struct sysfs_host *ret)
{
	struct sysfs_host h;
	char ibase[64], sbase[64], p1[PATH_MAX], p2[PATH_MAX];
	struct stat st;

	if (!ret)
		return -EINVAL;
	snprintf(ibase, sizeof(ibase), "class/iscsi_host/host%u", host_no);
	snprintf(sbase, sizeof(sbase), "class/scsi_host/host%u", host_no);
	if (sysfs_path(p1, sizeof(p1), "%s/%s", sysfs_root_or_default(root), ibase) < 0 ||
	    sysfs_path(p2, sizeof(p2), "%s/%s", sysfs_root_or_default(root), sbase) < 0)
		return -ENAMETOOLONG;
	if (stat(p1, &st) < 0 && stat(p2, &st) < 0)
		return -ENOENT;
	struct adir di = ADIR_INIT(root, ibase), ds = ADIR_INIT(root, sbase);
	memset(&h, 0, sizeof(h));
	h.host_no = host_no;
	opt_str(&ds, "proc_name", h.proc_name, sizeof(h.proc_name));
	if (brief)
		goto done;
	opt_str(&di, "ipaddress", h.ipaddress, sizeof(h.ipaddress));
	opt_str(&di, "hwaddress", h.hwaddress, sizeof(h.hwaddress));
	opt_str(&di, "netdev", h.netdev, sizeof(h.netdev));
	opt_str(&di, "initiatorname", h.initiatorname, sizeof(h.initiatorname));
	opt_str(&ds, "state", h.state, sizeof(h.state));
done:
	adir_close(&di);
	adir_close(&ds);
	*ret = h;
	return 0;
}

int sysfs_host_read(const char *root, uint32_t host_no, struct sysfs_host *ret)
{
	return host_read(root, host_no, false, ret);
}

int sysfs_host_read_brief(const char *root, uint32_t host_no, struct sysfs_host *ret)
{
	return host_read(root, host_no, true, ret);
}

int sysfs_host_scan_path(const char *root, uint32_t host_no, char *buf, size_t cap)
{
	if (!buf)
		return -EINVAL;
	return sysfs_path(buf, cap, "%s/class/scsi_host/host%u/scan", sysfs_root_or_default(root),
			  host_no);
}
