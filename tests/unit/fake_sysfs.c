#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "fake_sysfs.h"

/* snprintf that treats truncation as a broken fixture (and keeps gcc's
 * truncation analysis out of test scaffolding). */
static void __attribute__((format(printf, 3, 4))) xsnprintf(char *buf, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, cap, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap)
		abort();
}

static void __attribute__((noreturn, format(printf, 1, 2))) die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fake_sysfs: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, ": %s\n", strerror(errno));
	va_end(ap);
	abort();
}

static void join(char *buf, size_t cap, const char *root, const char *rel)
{
	xsnprintf(buf, cap, "%s/%s", root, rel);
}

char *fake_sysfs_new(void)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	char *root;

	xsnprintf(tmpl, sizeof(tmpl), "%s/kmodglue-sysfs-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(tmpl))
		die("mkdtemp");
	/* traversable by an unprivileged uid (the EACCES test drops to one) */
	if (chmod(tmpl, 0755) < 0)
		die("chmod");
	root = strdup(tmpl);
	if (!root)
		die("strdup");
	return root;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fake_sysfs_free(char *root)
{
	if (!root)
		return;
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}

static void mkdirs_abs(const char *path)
{
	char tmp[PATH_MAX];

	xsnprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			die("mkdir %s", tmp);
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		die("mkdir %s", tmp);
}

void fake_mkdir(const char *root, const char *rel)
{
	char path[PATH_MAX];

	join(path, sizeof(path), root, rel);
	mkdirs_abs(path);
}

static void parent_dirs(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	xsnprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		mkdirs_abs(dir);
	}
}

void fake_write(const char *root, const char *rel, const char *content)
{
	char path[PATH_MAX];
	size_t len = strlen(content);
	int fd;

	join(path, sizeof(path), root, rel);
	parent_dirs(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("open %s", path);
	if (write(fd, content, len) != (ssize_t)len)
		die("write %s", path);
	close(fd);
}

void fake_symlink(const char *root, const char *rel, const char *target)
{
	char path[PATH_MAX];

	join(path, sizeof(path), root, rel);
	parent_dirs(path);
	if (symlink(target, path) < 0)
		die("symlink %s", path);
}

static void writef(const char *root, const char *content, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void writef(const char *root, const char *content, const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	fake_write(root, rel, content);
}

void fake_add_transport(const char *root, const char *name, const char *handle, const char *caps)
{
	char rel[PATH_MAX], tgt[PATH_MAX];

	xsnprintf(rel, sizeof(rel), "devices/virtual/iscsi_transport/%s", name);
	fake_mkdir(root, rel);
	if (handle)
		writef(root, handle, "%s/handle", rel);
	if (caps)
		writef(root, caps, "%s/caps", rel);
	xsnprintf(tgt, sizeof(tgt), "../../devices/virtual/iscsi_transport/%s", name);
	xsnprintf(rel, sizeof(rel), "class/iscsi_transport/%s", name);
	fake_symlink(root, rel, tgt);
}

void fake_add_host(const char *root, uint32_t host)
{
	char rel[PATH_MAX], tgt[PATH_MAX];
	const char *h = "devices/platform/host";

	writef(root, "", "%s%u/scsi_host/host%u/scan", h, host, host);
	writef(root, "running\n", "%s%u/scsi_host/host%u/state", h, host, host);
	writef(root, "iscsi_tcp\n", "%s%u/scsi_host/host%u/proc_name", h, host, host);
	writef(root, "192.0.2.1\n", "%s%u/iscsi_host/host%u/ipaddress", h, host, host);
	writef(root, "(null)\n", "%s%u/iscsi_host/host%u/hwaddress", h, host, host);
	writef(root, "(null)\n", "%s%u/iscsi_host/host%u/netdev", h, host, host);
	writef(root, "iqn.2005-03.org.example:host\n", "%s%u/iscsi_host/host%u/initiatorname", h,
	       host, host);
	xsnprintf(rel, sizeof(rel), "class/scsi_host/host%u", host);
	xsnprintf(tgt, sizeof(tgt), "../../%s%u/scsi_host/host%u", h, host, host);
	fake_symlink(root, rel, tgt);
	xsnprintf(rel, sizeof(rel), "class/iscsi_host/host%u", host);
	xsnprintf(tgt, sizeof(tgt), "../../%s%u/iscsi_host/host%u", h, host, host);
	fake_symlink(root, rel, tgt);
}

void fake_session_attr(const char *root, uint32_t sid, const char *attr, const char *value)
{
	writef(root, value, "class/iscsi_session/session%u/%s", sid, attr);
}

void fake_add_session(const char *root, uint32_t host, uint32_t sid, const char *state)
{
	static const struct { const char *attr, *value; } attrs[] = {
		{ "targetname", "iqn.2003-01.org.example:disk1\n" },
		{ "tpgt", "1\n" },
		{ "recovery_tmo", "120\n" },
		{ "initiatorname", "iqn.2005-03.org.example:host\n" },
		{ "ifacename", "default\n" },
		{ "target_id", "0\n" },
		{ "target_state", "SCANNED\n" },
		{ "creator", "4242\n" },
		{ "username", "(null)\n" },
		{ "username_in", "(null)\n" },
		{ "password", "(null)\n" },
		{ "password_in", "(null)\n" },
		{ "initial_r2t", "0\n" },
		{ "immediate_data", "1\n" },
		{ "first_burst_len", "65536\n" },
		{ "max_burst_len", "262144\n" },
		{ "max_outstanding_r2t", "1\n" },
		{ "data_pdu_in_order", "1\n" },
		{ "data_seq_in_order", "1\n" },
		{ "erl", "0\n" },
		{ "fast_abort", "1\n" },
		{ "abort_tmo", "15\n" },
		{ "lu_reset_tmo", "30\n" },
		{ "tgt_reset_tmo", "30\n" },
	};
	char dev[PATH_MAX], rel[PATH_MAX], tgt[PATH_MAX];

	xsnprintf(dev, sizeof(dev), "devices/platform/host%u/session%u", host, sid);
	xsnprintf(rel, sizeof(rel), "%s/iscsi_session/session%u", dev, sid);
	fake_mkdir(root, rel);
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		writef(root, attrs[i].value, "%s/%s", rel, attrs[i].attr);
	writef(root, state, "%s/state", rel);
	xsnprintf(tgt, sizeof(tgt), "../../../session%u", sid);
	writef(root, "", "%s/uevent", rel);
	{
		char link[PATH_MAX];

		xsnprintf(link, sizeof(link), "%s/device", rel);
		fake_symlink(root, link, tgt);
	}
	xsnprintf(tgt, sizeof(tgt), "../../%s/iscsi_session/session%u", dev, sid);
	xsnprintf(rel, sizeof(rel), "class/iscsi_session/session%u", sid);
	fake_symlink(root, rel, tgt);
}

void fake_conn_attr(const char *root, uint32_t sid, uint32_t cid, const char *attr,
		    const char *value)
{
	writef(root, value, "class/iscsi_connection/connection%u:%u/%s", sid, cid, attr);
}

void fake_add_conn(const char *root, uint32_t host, uint32_t sid, uint32_t cid)
{
	static const struct { const char *attr, *value; } attrs[] = {
		{ "address", "192.0.2.10\n" },
		{ "port", "3260\n" },
		{ "persistent_address", "192.0.2.10\n" },
		{ "persistent_port", "3260\n" },
		{ "state", "up\n" },
		{ "exp_statsn", "4294967295\n" },
		{ "max_recv_dlength", "262144\n" },
		{ "max_xmit_dlength", "65536\n" },
		{ "header_digest", "1\n" },
		{ "data_digest", "0\n" },
		{ "local_port", "51234\n" },
		{ "ping_tmo", "5\n" },
		{ "recv_tmo", "5\n" },
	};
	char dev[PATH_MAX], rel[PATH_MAX], tgt[PATH_MAX], link[PATH_MAX];

	xsnprintf(dev, sizeof(dev), "devices/platform/host%u/session%u/connection%u:%u", host, sid,
		 sid, cid);
	xsnprintf(rel, sizeof(rel), "%s/iscsi_connection/connection%u:%u", dev, sid, cid);
	fake_mkdir(root, rel);
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		writef(root, attrs[i].value, "%s/%s", rel, attrs[i].attr);
	xsnprintf(link, sizeof(link), "%s/device", rel);
	xsnprintf(tgt, sizeof(tgt), "../../../connection%u:%u", sid, cid);
	fake_symlink(root, link, tgt);
	xsnprintf(link, sizeof(link), "class/iscsi_connection/connection%u:%u", sid, cid);
	xsnprintf(tgt, sizeof(tgt), "../../%s/iscsi_connection/connection%u:%u", dev, sid, cid);
	fake_symlink(root, link, tgt);
}

void fake_add_lun(const char *root, uint32_t host, uint32_t sid, uint64_t lun, const char *state,
		  const char *block)
{
	char tdir[PATH_MAX], ldir[PATH_MAX], hctl[64], link[PATH_MAX], tgt[PATH_MAX];

	xsnprintf(hctl, sizeof(hctl), "%u:0:0:%" PRIu64, host, lun);
	xsnprintf(tdir, sizeof(tdir), "devices/platform/host%u/session%u/target%u:0:0", host, sid,
		 host);
	xsnprintf(ldir, sizeof(ldir), "%s/%s", tdir, hctl);
	writef(root, state, "%s/state", ldir);
	writef(root, "0\n", "%s/type", ldir);
	writef(root, "", "%s/delete", ldir);
	writef(root, "", "%s/rescan", ldir);
	writef(root, "32\n", "%s/queue_depth", ldir);
	xsnprintf(link, sizeof(link), "bus/scsi/devices/%s", hctl);
	xsnprintf(tgt, sizeof(tgt), "../../../%s", ldir);
	fake_symlink(root, link, tgt);
	if (block) {
		writef(root, "8:0\n", "%s/block/%s/dev", ldir, block);
		xsnprintf(link, sizeof(link), "%s/block/%s/device", ldir, block);
		xsnprintf(tgt, sizeof(tgt), "../../../%s", hctl);
		fake_symlink(root, link, tgt);
		xsnprintf(link, sizeof(link), "class/block/%s", block);
		xsnprintf(tgt, sizeof(tgt), "../../%s/block/%s", ldir, block);
		fake_symlink(root, link, tgt);
	}
}

int fake_has_session(const char *root, uint32_t sid)
{
	char path[PATH_MAX];
	struct stat st;

	xsnprintf(path, sizeof(path), "%s/class/iscsi_session/session%u", root, sid);
	return stat(path, &st) == 0;
}

/* Unlinks the symlinks of root/rel that point nowhere any more. */
static void drop_dangling(const char *root, const char *rel)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct stat st;
	DIR *d;
	struct dirent *e;

	join(dir, sizeof(dir), root, rel);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		xsnprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && stat(path, &st) < 0 && unlink(path) < 0)
			die("unlink %s", path);
	}
	closedir(d);
}

void fake_del_session(const char *root, uint32_t sid)
{
	static const char *const classes[] = { "class/iscsi_session", "class/iscsi_connection", "class/scsi_host",
					       "class/iscsi_host", "class/block", "bus/scsi/devices" };
	char link[PATH_MAX], target[PATH_MAX], host[PATH_MAX];
	ssize_t n;
	unsigned h;
	const char *p;

	xsnprintf(link, sizeof(link), "%s/class/iscsi_session/session%u", root, sid);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		die("readlink %s", link);
	target[n] = '\0';
	p = strstr(target, "devices/platform/host");
	if (!p || sscanf(p, "devices/platform/host%u/", &h) != 1)
		die("no host in %s", target);
	xsnprintf(host, sizeof(host), "%s/devices/platform/host%u", root, h);
	if (nftw(host, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		die("rm -r %s", host);
	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		drop_dangling(root, classes[i]);
}

void fake_del_conn(const char *root, uint32_t sid, uint32_t cid)
{
	char link[PATH_MAX], dir[PATH_MAX];

	xsnprintf(link, sizeof(link), "%s/class/iscsi_connection/connection%u:%u", root, sid, cid);
	/* .../sessionS/connectionS:C/iscsi_connection/connectionS:C -> .../connectionS:C */
	if (!realpath(link, dir))
		return;
	char *p = strrchr(dir, '/');
	if (!p)
		die("bad path %s", dir);
	*p = '\0';
	p = strrchr(dir, '/');
	if (!p)
		die("bad path %s", dir);
	*p = '\0';
	if (nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		die("rm -r %s", dir);
	if (unlink(link) < 0)
		die("unlink %s", link);
}
