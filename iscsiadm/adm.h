/* iscsiadm: what every mode file shares — the parsed command line, the
 * context (paths, configuration, initiator name) and the message helpers.
 *
 * Messages follow open-iscsi: informational lines on stdout, errors and
 * warnings on stderr prefixed "iscsiadm: ". Mode handlers return an exit
 * code from errors.h (never a negative errno). */
#ifndef ISCSIADM_ADM_H
#define ISCSIADM_ADM_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "iname.h"
#include "names.h"
#include "paths.h"
#include "record.h"

#ifndef PACKAGE_NAME
#define PACKAGE_NAME "iscsi-initiator"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0"
#endif
#ifndef OPENISCSI_COMPAT_VERSION
#define OPENISCSI_COMPAT_VERSION "2.1.8"
#endif
/* "2.1.8 (iscsi-initiator 0.1.0)": where open-iscsi prints its version
 * (`--version`, the "version" line of -P 3), scripts read the first word
 * as an open-iscsi release and gate features on it: that is the release
 * whose behaviour this iscsiadm keeps. Our own version follows. */
#define ADM_VERSION_STRING OPENISCSI_COMPAT_VERSION " (" PACKAGE_NAME " " PACKAGE_VERSION ")"

enum adm_mode {
	ADM_MODE_NONE = 0,
	ADM_MODE_DISCOVERY,
	ADM_MODE_DISCOVERYDB,
	ADM_MODE_NODE,
	ADM_MODE_SESSION,
	ADM_MODE_IFACE,
	ADM_MODE_FW,
	ADM_MODE_HOST,
};

/* -o values; several -o are or'ed (open-iscsi's bit flags). */
#define ADM_OP_NEW           0x001u
#define ADM_OP_DELETE        0x002u
#define ADM_OP_UPDATE        0x004u
#define ADM_OP_SHOW          0x008u
#define ADM_OP_NONPERSISTENT 0x010u
#define ADM_OP_APPLY         0x020u
#define ADM_OP_APPLYALL      0x040u
#define ADM_OP_LOGIN         0x080u
#define ADM_OP_LOGOUT        0x100u

#define ADM_MAX_PARAMS 64
#define ADM_MAX_IFACES 64

struct adm_param {
	const char *name;
	const char *value;   /* NULL until its -v arrives */
};

struct adm {
	/* the command line */
	enum adm_mode mode;
	unsigned ops;
	struct adm_param params[ADM_MAX_PARAMS];
	size_t n_params;
	const char *target;          /* -T */
	const char *portal_arg;      /* -p as given */
	struct portal portal;        /* -p parsed (valid when portal_arg) */
	const char *ifaces[ADM_MAX_IFACES];   /* -I */
	size_t n_ifaces;
	const char *disc_type;       /* -t */
	const char *sid_arg;         /* -r */
	const char *host_arg;        /* -H */
	const char *submode;         /* -C */
	const char *loginall;        /* -L */
	const char *logoutall;       /* -U */
	int print_level;             /* -P; -1 when not given */
	int debug;                   /* -d */
	bool discover;               /* -D */
	bool login;                  /* -l */
	bool logout;                 /* -u */
	bool rescan;                 /* -R */
	bool stats;                  /* -s */
	bool show_secrets;           /* -S */
	bool no_wait;                /* -W */
	bool json;                   /* -j / --json */
	bool lean_tree;              /* -m session -P 1: sysfs reads skip what it does not print (sessions.c) */
	bool wait_devices;           /* --wait-devices: logins answer once the disks exist */
	bool ordered;                /* --ordered: log in all, then scan one session at a
				      * time in target/portal/iface order (stable sdX names) */
	uint64_t login_deadline_ms;  /* --loginall=automatic: CLOCK_MONOTONIC ms by which every
				      * login is answered (iscsid.automatic_login_wait); 0 none */
	bool login_backgrounded;     /* a login went on in the background (exit 29) */
	const char *root;            /* --root */
	const char *sysfs_root;      /* --sysfs / $ISCSI_SYSFS_ROOT; NULL: /sys */

	/* context, filled by adm_context_load() on first use */
	struct iscsi_paths paths;
	struct iscsi_config config;
	bool config_loaded;
	struct initiator_name iname;
	int iname_err;               /* 0 when iname is valid */
	bool iname_loaded;
};

/* "iscsiadm: " + message + newline on stderr. */
__attribute__((format(printf, 1, 2)))
void adm_err(const char *fmt, ...);
/* Informational line on stdout (suppressed with --json, whose document is
 * the only thing on stdout). */
__attribute__((format(printf, 2, 3)))
void adm_info(const struct adm *a, const char *fmt, ...);
/* Debug line on stderr when -d level >= level. */
__attribute__((format(printf, 3, 4)))
void adm_dbg(const struct adm *a, int level, const char *fmt, ...);

/* Prints a parser's diagnostics: errors always, warnings at -d 1. */
void adm_print_diags(const struct adm *a, const struct rec_diags *d);

/* Loads iscsid.conf (missing file: compiled defaults) once; prints the
 * file's errors. Exit code (0 or 6). */
int adm_config(struct adm *a);
/* Loads initiatorname.iscsi once. Exit code; prints why on failure. */
int adm_iname(struct adm *a);

/* The value of -n name among the pairs, or NULL. */
const char *adm_param(const struct adm *a, const char *name);

/* An exit code for a negative errno from the library (record DB, sysfs). */
int adm_errno_to_exit(int neg_errno);

/* Prints one record on stdout: with -j as {"records": [rec]} (secrets as
 * -S says), else rec_fprint() with flags. Exit code (0 or ISCSI_ERR). */
int adm_show_record(const struct adm *a, enum rec_kind kind, const void *rec, unsigned flags);

/* "<iface>" or "default" when no -I was given. */
const char *adm_iface_name(const struct adm *a);

/* Mode entry points (cmd_*.c). Each returns an exit code. */
int cmd_discovery(struct adm *a);
int cmd_discoverydb(struct adm *a);
int cmd_node(struct adm *a);
int cmd_session(struct adm *a);
int cmd_iface(struct adm *a);
int cmd_host(struct adm *a);
int cmd_fw(struct adm *a);
/* -m discovery -t fw, -m discoverydb -t fw -D (cmd_fw.c) */
int cmd_fw_discovery(struct adm *a);

#endif
