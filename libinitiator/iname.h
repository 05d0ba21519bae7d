/* The initiator's own name: initiatorname.iscsi and fresh IQNs.
 *
 * initiatorname.iscsi holds "InitiatorName=<iSCSI name>" and optionally
 * "InitiatorAlias=<text>" (RFC 7143 §13.6), '#' comment lines, blank
 * lines. The name must pass name_validate(). */
#ifndef LIBINITIATOR_INAME_H
#define LIBINITIATOR_INAME_H

#include <stddef.h>

#include "names.h"
#include "record.h"

/* Our naming authority prefix for generated names (iscsi-iname -p
 * overrides it; distributions set their own, e.g. Debian's
 * "iqn.1993-08.org.debian:01"). */
#define INAME_DEFAULT_PREFIX "iqn.2026-11.org.linux-iscsi-initiator"
#define INAME_ALIAS_MAX 255          /* RFC 7143 §13.6: up to 255 bytes */
#define INAME_FILE_MAX (64 * 1024)

struct initiator_name {
	char name[NAME_MAX_LEN + 1];
	char alias[INAME_ALIAS_MAX + 1];     /* "" when absent */
};

/* "<prefix>:<12 lowercase hex digits>" from getrandom() (48 random bits).
 * prefix NULL or "" -> INAME_DEFAULT_PREFIX. The result is validated:
 * -EINVAL if the prefix does not make a valid name, -ENOBUFS if len is
 * too small, or the getrandom() errno. buf untouched on failure. */
int iname_generate(const char *prefix, char *buf, size_t len);

/* Parse the file's text. path labels diagnostics. -EINVAL: no
 * InitiatorName line, an invalid name or alias, NUL bytes, an over-long
 * line (each reported in diags with the line number). Unknown lines are
 * warnings. Several InitiatorName lines: the last wins (warning). */
int iname_parse(const char *buf, size_t len, const char *path, struct initiator_name *ret,
		struct rec_diags *diags);

/* Read and parse. -ENOENT if the file does not exist. */
int iname_load(const char *path, struct initiator_name *ret, struct rec_diags *diags);

/* Write the file with mode 0644: "InitiatorName=<name>\n" and, if alias
 * is not empty, "InitiatorAlias=<alias>\n". Readers never see a partial
 * file (temp file, fsync, then rename or link). !overwrite: -EEXIST if
 * anything has that name, even a dangling symbolic link; this is checked
 * by link(2) itself, so two writers racing cannot both win and an
 * existing file is never replaced. overwrite: rename over it. */
int iname_write(const char *path, const struct initiator_name *n, int overwrite);

/* First start on a fresh install: create path with a fresh name from
 * iname_generate(prefix) (as distributions do when the package is
 * installed), creating its directory (0755) if missing. Never replaces
 * anything: -EEXIST if path exists (valid or not). 0 and *ret (may be
 * NULL) = what was written. */
int iname_create(const char *path, const char *prefix, struct initiator_name *ret);

#endif
