/* iscsistart: logs in to a boot target from an initramfs, without a
 * running iscsid, and leaves the session in the kernel for the real
 * iscsid to adopt after switch_root.
 *
 * How: the command line (or the boot firmware table) becomes node
 * records; a private iscsid is started under a temporary root (its own
 * control socket, lock and files; no pid file), the records go to it as
 * ordinary LOGIN requests that answer once the disks exist, and the
 * daemon is stopped with STOP, which leaves kernel sessions alone. The
 * daemon is this project's iscsid: one login engine, one kernel path.
 * What iscsid needs to adopt a session later is in sysfs already (target,
 * portal, tpgt, iface, initiator name, CHAP credentials, timeouts). */
#ifndef ISCSISTART_H
#define ISCSISTART_H

#include <stdbool.h>
#include <stddef.h>

#include "record.h"

#define ISCSISTART_MAX_PARAMS 64
/* Waiting for the private iscsid to answer its first HELLO. */
#define BOOT_READY_MS 10000
/* Waiting for it to exit after STOP, before SIGKILL. */
#define BOOT_STOP_MS 10000

struct boot {
	const char *iscsid;             /* the daemon binary */
	const char *config;             /* iscsid.conf (-c), or NULL: the default */
	const char *sysfs;              /* --sysfs, or NULL: /sys */
	const char *modprobe;           /* --modprobe, or NULL: iscsid's default */
	const char *iname;              /* written to the private root */
	int debug;                      /* -d: also the daemon's level; its log on stderr */
};

/* Logs in to each record through a private iscsid (see above), printing
 * open-iscsi's "iscsistart: Logging into ..." line and the outcome of
 * each. Returns 0 when every record has a session (one that already
 * existed counts), else the first error (errors.h). */
int boot_login(const struct boot *b, struct node_rec *recs, size_t n);

/* "iscsistart: " + message on stderr. */
__attribute__((format(printf, 1, 2)))
void start_err(const char *fmt, ...);

#endif
