/* iscsid.conf: open-iscsi's keys and compiled defaults (inventory §2.10).
 *
 * Both iscsid and iscsiadm read the file themselves; records created by
 * iscsiadm take their defaults from here whether or not the daemon runs
 * (open-iscsi silently used compiled defaults when iscsid was down).
 *
 * Format: "key = value" lines; '#' starts a comment line; blank lines and
 * blanks around '=' are ignored; the value is the rest of the line (as in
 * open-iscsi: "# ..." after a string is part of it). A key given twice:
 * the last one wins. */
#ifndef LIBINITIATOR_CONFIG_H
#define LIBINITIATOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"

#define CONFIG_LINE_MAX 1024          /* longer lines are skipped (config_parse) */
#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_STARTUP_SIZE 1024
#define CONFIG_PATH_SIZE 4096
#define CONFIG_METRICS_INTERVAL_DEFAULT 15
#define CONFIG_METRICS_INTERVAL_MIN 1
#define CONFIG_METRICS_INTERVAL_MAX 3600
#define CONFIG_AUTOMATIC_LOGIN_WAIT 30     /* s, iscsid.automatic_login_wait */
#define CONFIG_AUTOMATIC_LOGIN_WAIT_MAX 86400

struct iscsi_config {
	/* iscsid.startup: command iscsiadm runs when iscsid is not
	 * reachable; "" when unset. */
	char startup[CONFIG_STARTUP_SIZE];
	/* iscsid.safe_logout: refuse logout while devices are mounted. */
	bool safe_logout;
	/* iscsid.ipc_auth_uid: control clients must be UID 0 (Yes, the
	 * default) rather than any user named "root" (No). */
	bool ipc_auth_uid;
	/* iscsid.metrics_dir: where iscsid keeps iscsi.prom (Prometheus
	 * text format, for node_exporter's textfile collector); "" (the
	 * default): no metrics file. An absolute path. */
	char metrics_dir[CONFIG_PATH_SIZE];
	/* iscsid.metrics_interval: seconds between rewrites of the file
	 * when nothing changes (CONFIG_METRICS_INTERVAL_MIN..MAX, 15). */
	unsigned metrics_interval;
	/* iscsid.automatic_login_wait: how long `iscsiadm -m node
	 * --loginall=automatic` (the boot login) waits for its nodes, s;
	 * what is not logged in by then iscsid keeps trying in the
	 * background. 0: no bound (each login runs its whole budget). */
	unsigned automatic_login_wait;
	/* isns.address / isns.port: the iSNS server iscsid registers this
	 * initiator with, and whose State Change Notifications make it
	 * discover (and log in to) new targets (iscsid.conf(5)); "" (the
	 * default): none. A host name or address; the port 3205 unless
	 * given. */
	char isns_address[REC_HOST_SIZE];
	int isns_port;
	/* isns.iface: the iface the node records iscsid writes are bound to
	 * (and its logins go through); "" (the default): "default". */
	char isns_iface[REC_IFACE_NAME_SIZE];
	/* node.* defaults for new node records (iface: "default"). */
	struct node_rec node;
	/* discovery.sendtargets.* defaults for new discovery records. */
	struct discovery_rec sendtargets;
	/* discovery.isns.* defaults. */
	struct discovery_rec isns;
};

/* Compiled defaults, as if the file were empty. */
void config_init(struct iscsi_config *c);

/* Parse text on top of compiled defaults. name labels diagnostics.
 *
 * A file open-iscsi accepts is accepted: what open-iscsi would read
 * differently or skip is a REC_DIAG_FALLBACK naming the line and key and
 * the value used instead, and the parse goes on:
 *   - "key =": a string key is unset; any other key keeps its value;
 *   - a number, Yes/No or word followed by a blank and more ("64 # x",
 *     as open-iscsi's strtoul() reads it): the first word, when valid;
 *   - a value not of the key's type or out of its range: the key keeps
 *     its value (the compiled default, or what an earlier line set);
 *   - a string with " #": kept whole, as open-iscsi does;
 *   - a line without '=', or over CONFIG_LINE_MAX (not a comment):
 *     skipped.
 * Other warnings (REC_DIAG_WARNING: unknown keys, keys that identify
 * records and so cannot have defaults, newer open-iscsi keys this
 * initiator does not use) do not fail the parse either.
 *
 * Errors, where going on would be unsafe: a NUL byte, a file over
 * CONFIG_FILE_MAX, and a bad non-empty value (or an over-long line) for a
 * CHAP key (node.session.auth.*, discovery.sendtargets.auth.*), since a
 * default there would weaken or switch off the authentication asked for
 * and a secret is never stored other than as written. Each gets a diag
 * with the line number (never a secret's value); the result is then
 * -EINVAL and ret is untouched. */
int config_parse(const char *buf, size_t len, const char *name, struct iscsi_config *ret,
		 struct rec_diags *diags);

/* Read and parse a file. A missing file is not an error: ret gets the
 * compiled defaults and the result is -ENOENT (callers that require the
 * file check for it). Other read errors: negative errno, ret untouched. */
int config_load(const char *path, struct iscsi_config *ret, struct rec_diags *diags);

/* Read a whole file of at most max bytes (O_CLOEXEC, O_NOFOLLOW not used:
 * /etc/iscsi may be a symlink farm). -EFBIG if larger. The buffer is
 * NUL-terminated for convenience; *ret_len excludes the NUL. */
int config_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

#endif
