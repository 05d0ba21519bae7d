#include "paths.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4)))
static int fmt_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int paths_init(struct iscsi_paths *p, const char *root_or_null)
{
	struct iscsi_paths np;
	const char *root = root_or_null;
	int r = 0;

	if (!p)
		return -EINVAL;
	if (!root || !*root)
		root = secure_getenv(PATHS_ENV_ROOT);
	if (root && !*root)
		root = NULL;

	memset(&np, 0, sizeof(np));
	if (!root) {
		r |= fmt_path(np.config_file, sizeof(np.config_file), "%s/iscsid.conf", PATHS_DEFAULT_CONFIG_DIR);
		r |= fmt_path(np.iname_file, sizeof(np.iname_file), "%s/initiatorname.iscsi",
			      PATHS_DEFAULT_CONFIG_DIR);
		r |= fmt_path(np.db_root, sizeof(np.db_root), "%s", PATHS_DEFAULT_DB_ROOT);
		r |= fmt_path(np.lock_dir, sizeof(np.lock_dir), "%s", PATHS_DEFAULT_LOCK_DIR);
		r |= fmt_path(np.control_socket, sizeof(np.control_socket), "%s", PATHS_DEFAULT_CONTROL_SOCKET);
		r |= fmt_path(np.pid_file, sizeof(np.pid_file), "%s", PATHS_DEFAULT_PID_FILE);
		if (r)
			return -ENAMETOOLONG;
		*p = np;
		return 0;
	}

	/* A relative root would make the absolute symlinks the node database
	 * writes (static/, send_targets/) depend on the working directory. */
	if (root[0] != '/')
		return -EINVAL;
	size_t len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		len--;
	if (len >= sizeof(np.root))
		return -ENAMETOOLONG;
	memcpy(np.root, root, len);
	np.root[len] = '\0';
	/* "/" as root: avoid "//iscsid.conf". */
	const char *base = strcmp(np.root, "/") == 0 ? "" : np.root;

	r |= fmt_path(np.config_file, sizeof(np.config_file), "%s/iscsid.conf", base);
	r |= fmt_path(np.iname_file, sizeof(np.iname_file), "%s/initiatorname.iscsi", base);
	r |= fmt_path(np.db_root, sizeof(np.db_root), "%s", np.root);
	r |= fmt_path(np.lock_dir, sizeof(np.lock_dir), "%s/lock", base);
	r |= fmt_path(np.control_socket, sizeof(np.control_socket), "%s/iscsid.sock", base);
	r |= fmt_path(np.pid_file, sizeof(np.pid_file), "%s/iscsid.pid", base);
	if (r)
		return -ENAMETOOLONG;
	*p = np;
	return 0;
}

static int set_one(char *dst, size_t cap, const char *path)
{
	if (!path || !*path)
		return -EINVAL;
	size_t len = strlen(path);
	if (len >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, path, len + 1);
	return 0;
}

int paths_set_config_file(struct iscsi_paths *p, const char *path)
{
	if (!p)
		return -EINVAL;
	return set_one(p->config_file, sizeof(p->config_file), path);
}

int paths_set_iname_file(struct iscsi_paths *p, const char *path)
{
	if (!p)
		return -EINVAL;
	return set_one(p->iname_file, sizeof(p->iname_file), path);
}
