#include "iname.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fsutil.h"

int iname_generate(const char *prefix, char *buf, size_t len)
{
	unsigned char rnd[6];
	char name[NAME_MAX_LEN + 2];
	size_t got = 0;

	if (!buf)
		return -EINVAL;
	if (!prefix || !*prefix)
		prefix = INAME_DEFAULT_PREFIX;
	while (got < sizeof(rnd)) {
		ssize_t r = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)r;
	}
	int n = snprintf(name, sizeof(name), "%s:%02x%02x%02x%02x%02x%02x", prefix, rnd[0], rnd[1], rnd[2],
			 rnd[3], rnd[4], rnd[5]);
	if (n < 0 || (size_t)n >= sizeof(name) || name_validate(name, NULL, 0) < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENOBUFS;
	memcpy(buf, name, (size_t)n + 1);
	return 0;
}

static int alias_valid(const char *s)
{
	/* UTF-8 text (RFC 7143 §13.6); we refuse control characters so the
	 * alias cannot break the line format or a terminal. */
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			return 0;
	return 1;
}

int iname_parse(const char *buf, size_t len, const char *path, struct initiator_name *ret,
		struct rec_diags *diags)
{
	struct initiator_name n;
	char line[CONFIG_LINE_MAX + 1];
	char why[128];
	unsigned lineno = 0;
	bool bad = false, have_name = false;

	if (!ret || (!buf && len))
		return -EINVAL;
	if (len > INAME_FILE_MAX || (len && memchr(buf, '\0', len))) {
		rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "not an initiator name file");
		return -EINVAL;
	}
	memset(&n, 0, sizeof(n));
	size_t off = 0;
	int got;
	while ((got = rec_next_line(buf, len, &off, line, sizeof(line), &lineno, path, diags)) != 0) {
		if (got < 0) {
			bad = true;
			continue;
		}

		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		char *end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (!*p || *p == '#')
			continue;
		if (strncmp(p, "InitiatorName=", 14) == 0) {
			p += 14;
			while (*p == ' ' || *p == '\t')
				p++;
			if (name_validate(p, why, sizeof(why)) < 0) {
				rec_diags_add(diags, REC_DIAG_ERROR, path, lineno, "invalid InitiatorName: %s", why);
				bad = true;
				continue;
			}
			if (have_name)
				rec_diags_add(diags, REC_DIAG_WARNING, path, lineno,
					      "InitiatorName given again; using this one");
			snprintf(n.name, sizeof(n.name), "%s", p);
			have_name = true;
		} else if (strncmp(p, "InitiatorAlias=", 15) == 0) {
			p += 15;
			while (*p == ' ' || *p == '\t')
				p++;
			if (strlen(p) > INAME_ALIAS_MAX || !alias_valid(p)) {
				rec_diags_add(diags, REC_DIAG_ERROR, path, lineno, "invalid InitiatorAlias");
				bad = true;
				continue;
			}
			snprintf(n.alias, sizeof(n.alias), "%s", p);
		} else {
			rec_diags_add(diags, REC_DIAG_WARNING, path, lineno, "ignoring unknown line");
		}
	}
	if (!have_name && !bad) {
		rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "no InitiatorName= line");
		bad = true;
	}
	if (bad)
		return -EINVAL;
	*ret = n;
	return 0;
}

int iname_load(const char *path, struct initiator_name *ret, struct rec_diags *diags)
{
	char *buf;
	size_t len;

	if (!path || !ret)
		return -EINVAL;
	int r = config_read_file(path, INAME_FILE_MAX, &buf, &len);
	if (r == -EFBIG) {
		rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "file too large");
		return -EINVAL;
	}
	if (r < 0)
		return r;
	r = iname_parse(buf, len, path, ret, diags);
	free(buf);
	return r;
}

/* Creates path with text, or -EEXIST if anything has that name (a file,
 * a directory, even a dangling symbolic link): the text goes to a
 * temporary file beside it (0644, synced), which is then hard-linked to
 * path; link() never replaces. A reader sees no file or the whole file. */
static int write_excl(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;

	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", dirlen, path, slash ? slash + 1 : path) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fchmod(fd, 0644) < 0 ? -errno : 0;
	if (!r)
		r = fs_write_all(fd, text, len);
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && link(tmp, path) < 0)
		r = -errno;
	unlink(tmp);
	if (!r)
		r = fs_sync_parent(path);
	return r;
}

int iname_write(const char *path, const struct initiator_name *n, int overwrite)
{
	char text[sizeof(n->name) + sizeof(n->alias) + 64];

	if (!path || !*path || !n || name_validate(n->name, NULL, 0) < 0 || !alias_valid(n->alias))
		return -EINVAL;
	int len = snprintf(text, sizeof(text), "InitiatorName=%s\n%s%s%s", n->name, *n->alias ? "InitiatorAlias=" : "",
			   n->alias, *n->alias ? "\n" : "");
	if (len < 0 || (size_t)len >= sizeof(text))
		return -EINVAL;
	if (!overwrite)
		return write_excl(path, text, (size_t)len);
	return fs_write_atomic(path, text, (size_t)len, 0644);
}

int iname_create(const char *path, const char *prefix, struct initiator_name *ret)
{
	struct initiator_name n;
	char dir[PATH_MAX];
	const char *slash;

	if (!path || !*path)
		return -EINVAL;
	memset(&n, 0, sizeof(n));
	int r = iname_generate(prefix, n.name, sizeof(n.name));
	if (r < 0)
		return r;
	/* make install may not have created the directory (/etc/iscsi). */
	slash = strrchr(path, '/');
	if (slash && slash != path) {
		if ((size_t)(slash - path) >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		r = fs_mkdir_p(dir, 0755);
		if (r < 0)
			return r;
	}
	r = iname_write(path, &n, 0);
	if (r < 0)
		return r;
	if (ret)
		*ret = n;
	return 0;
}
