/* Where the initiator keeps its files.
 *
 * One relocation knob moves everything: an explicit root (a program
 * option), else $ISCSI_ROOT, else the compiled defaults, which match
 * Debian's open-iscsi so an existing /etc/iscsi tree works unchanged:
 *
 *   what                 default                         under root R
 *   config file          /etc/iscsi/iscsid.conf          R/iscsid.conf
 *   initiator name       /etc/iscsi/initiatorname.iscsi  R/initiatorname.iscsi
 *   node DB root         /etc/iscsi (nodes/, send_targets/, ifaces/,
 *                        static/, isns/)                 R
 *   lock directory       /run/lock/iscsi                 R/lock
 *   control socket       /run/iscsid/iscsid.sock         R/iscsid.sock
 *   pid file             /run/iscsid.pid                 R/iscsid.pid
 *
 * iscsid's -c and -i override the config and initiator-name files alone
 * (paths_set_config_file(), paths_set_iname_file()).
 *
 * Pure string work: nothing here touches the file system. */
#ifndef LIBINITIATOR_PATHS_H
#define LIBINITIATOR_PATHS_H

#include <limits.h>

#define PATHS_ENV_ROOT "ISCSI_ROOT"

#ifndef PATHS_DEFAULT_CONFIG_DIR
#define PATHS_DEFAULT_CONFIG_DIR "/etc/iscsi"
#endif
#ifndef PATHS_DEFAULT_DB_ROOT
#define PATHS_DEFAULT_DB_ROOT "/etc/iscsi"
#endif
#ifndef PATHS_DEFAULT_LOCK_DIR
#define PATHS_DEFAULT_LOCK_DIR "/run/lock/iscsi"
#endif
#ifndef PATHS_DEFAULT_CONTROL_SOCKET
#define PATHS_DEFAULT_CONTROL_SOCKET "/run/iscsid/iscsid.sock"
#endif
#ifndef PATHS_DEFAULT_PID_FILE
#define PATHS_DEFAULT_PID_FILE "/run/iscsid.pid"
#endif

/* sun_path holds 108 bytes including the NUL. */
#define PATHS_SOCKET_MAX 108

struct iscsi_paths {
	char root[PATH_MAX];          /* "" when the defaults are in use */
	char config_file[PATH_MAX];   /* iscsid.conf */
	char iname_file[PATH_MAX];    /* initiatorname.iscsi */
	char db_root[PATH_MAX];       /* parent of nodes/, send_targets/, ifaces/ ... */
	char lock_dir[PATH_MAX];
	char control_socket[PATHS_SOCKET_MAX];
	char pid_file[PATH_MAX];
};

/* Fill p: root_or_null (if not NULL and not empty) > $ISCSI_ROOT (read with
 * secure_getenv, so set-id programs ignore it) > defaults. A root must be
 * an absolute path; trailing slashes are dropped.
 * -EINVAL: relative root; -ENAMETOOLONG: a derived path does not fit
 * (the control socket is the tightest: under 108 bytes). p is untouched
 * on failure. */
int paths_init(struct iscsi_paths *p, const char *root_or_null);

/* iscsid -c / -i: replace one file path. Absolute or relative paths are
 * taken as given. -EINVAL for NULL/empty, -ENAMETOOLONG. */
int paths_set_config_file(struct iscsi_paths *p, const char *path);
int paths_set_iname_file(struct iscsi_paths *p, const char *path);

#endif
