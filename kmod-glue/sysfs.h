/* Reading the iSCSI state the kernel exports in sysfs
 * (reference/kernel-iscsi-abi.md §3).
 *
 * Every function takes the sysfs mount point first (NULL means "/sys"),
 * so tests run against fake trees. Attribute reads are bounded, strip the
 * trailing newline, and treat "(null)" (a string attribute never set) as
 * unset. Files the kernel may lack (older kernels, attributes invisible
 * for a transport, -ENOTCONN while no socket is bound) leave the field
 * unset instead of failing the whole read.
 *
 * Unset conventions in the structs: strings "" ; integers SYSFS_UNSET.
 *
 * Functions return 0 or a negative errno; ret_* are written only on
 * success. Lists are malloc'ed arrays, freed with free().
 */
#ifndef KMODGLUE_SYSFS_H
#define KMODGLUE_SYSFS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYSFS_DEFAULT_ROOT "/sys"
#define SYSFS_UNSET        INT_MIN
#define SYSFS_ATTR_MAX     4096      /* a sysfs attribute is at most a page */
#define SYSFS_NAME_MAX     256       /* iSCSI names are at most 223 bytes */
#define SYSFS_SHORT_MAX    64
#define SYSFS_LIST_MAX     65536     /* cap on entries returned by a listing */
#define SYSFS_LUN_BLOCK_MAX 4        /* block devices kept per LUN */

/* ---- generic attributes ------------------------------------------------ */

/* Read root/relpath into buf (cap >= 2). -ENOENT missing, -ENODATA the
 * value was "(null)", -EOVERFLOW longer than cap - 1, -EACCES unreadable,
 * else the read/open error. */
int sysfs_read_attr(const char *root, const char *relpath, char *buf, size_t cap);
/* Decimal (leading/trailing blanks tolerated; "off" -> -1 as recovery_tmo
 * prints it); -EINVAL if not a number or out of range. */
int sysfs_read_int(const char *root, const char *relpath, int *ret);
int sysfs_read_u64(const char *root, const char *relpath, uint64_t *ret);
/* Hex, with or without 0x. */
int sysfs_read_hex(const char *root, const char *relpath, uint32_t *ret);
/* Blocking write of value (no newline added) to an attribute. */
int sysfs_write_attr(const char *root, const char *relpath, const char *value);

/* ---- transport --------------------------------------------------------- */

/* name: "tcp" for iscsi_tcp. */
bool sysfs_transport_exists(const char *root, const char *name);
int sysfs_transport_handle(const char *root, const char *name, uint64_t *ret);  /* root only */
int sysfs_transport_caps(const char *root, const char *name, uint32_t *ret);

/* ---- sessions ---------------------------------------------------------- */

enum sysfs_session_state {
	SYSFS_SESSION_UNKNOWN = 0,
	SYSFS_SESSION_LOGGED_IN,
	SYSFS_SESSION_FAILED,
	SYSFS_SESSION_FREE,
};

/* Whether a CHAP secret is present: the files are readable only with
 * CAP_SYS_ADMIN. The secret itself is only in struct sysfs_session_auth. */
enum sysfs_secret {
	SYSFS_SECRET_UNREADABLE = 0,
	SYSFS_SECRET_UNSET,
	SYSFS_SECRET_SET,
};

struct sysfs_session {
	uint32_t sid;
	int host_no;                        /* from the device path; SYSFS_UNSET if not found */
	char targetname[SYSFS_NAME_MAX];
	int tpgt;
	enum sysfs_session_state state;
	char state_str[SYSFS_SHORT_MAX];    /* as read, e.g. "LOGGED_IN" */
	char target_state[SYSFS_SHORT_MAX]; /* UNBOUND/ALLOCATED/SCANNED/UNBINDING */
	int recovery_tmo;                   /* -1 = off */
	char initiatorname[SYSFS_NAME_MAX];
	char ifacename[SYSFS_SHORT_MAX];
	int target_id;                      /* -1 after unbind */
	int creator;                        /* netlink port id, -1 kernel-created */
	char username[SYSFS_NAME_MAX];      /* "" if unset or unreadable */
	char username_in[SYSFS_NAME_MAX];
	bool auth_readable;                 /* false: not root, usernames unknown */
	enum sysfs_secret password;
	enum sysfs_secret password_in;
	/* negotiated / error-handling values */
	int initial_r2t;
	int immediate_data;
	int first_burst_len;
	int max_burst_len;
	int max_outstanding_r2t;
	int data_pdu_in_order;
	int data_seq_in_order;
	int erl;
	int fast_abort;
	int abort_tmo;
	int lu_reset_tmo;
	int tgt_reset_tmo;
};

/* CHAP credentials of a session, for adopting it after a restart. Never
 * print; wipe with sysfs_session_auth_wipe(). */
struct sysfs_session_auth {
	char username[SYSFS_NAME_MAX];
	char password[SYSFS_NAME_MAX];
	char username_in[SYSFS_NAME_MAX];
	char password_in[SYSFS_NAME_MAX];
};

/* Sorted sids of class/iscsi_session/session*. An absent class directory
 * (module not loaded) is an empty list, not an error. */
int sysfs_session_list(const char *root, uint32_t **ret_sids, size_t *ret_n);
bool sysfs_session_exists(const char *root, uint32_t sid);
/* -ENOENT if the session does not exist. */
int sysfs_session_read(const char *root, uint32_t sid, struct sysfs_session *ret);
/* How much of a session or connection to read: a listing of hundreds of
 * sessions pays one open per attribute.
 *   SYSFS_BRIEF  what a one-line listing prints: the session's host_no,
 *                targetname, tpgt, creator; the connection's portals
 *                (address, port and their persistent copies)
 *   SYSFS_TREE   also the session's state, iface fields and timeouts
 *                and the connection's state (what iscsiadm -m session -P 1 prints)
 *   SYSFS_FULL   everything
 * Fields not read are unset (SYSFS_UNSET, ""). */
enum sysfs_detail { SYSFS_BRIEF, SYSFS_TREE, SYSFS_FULL };
int sysfs_session_read_detail(const char *root, uint32_t sid, enum sysfs_detail detail,
			      struct sysfs_session *ret);
int sysfs_session_host(const char *root, uint32_t sid, uint32_t *ret_host_no);
/* -EACCES without CAP_SYS_ADMIN. */
int sysfs_session_auth_read(const char *root, uint32_t sid, struct sysfs_session_auth *ret);
void sysfs_session_auth_wipe(struct sysfs_session_auth *a);
const char *sysfs_session_state_name(enum sysfs_session_state s);

/* ---- connections ------------------------------------------------------- */

struct sysfs_conn {
	uint32_t sid;
	uint32_t cid;
	char address[SYSFS_SHORT_MAX];      /* peer; "" when no socket is bound */
	int port;
	char persistent_address[SYSFS_SHORT_MAX];
	int persistent_port;
	char state[SYSFS_SHORT_MAX];        /* up/down/failed/bound; "" on < 5.7 */
	uint32_t exp_statsn;
	bool exp_statsn_set;
	int max_recv_dlength;
	int max_xmit_dlength;
	int header_digest;                  /* 0 none, 1 CRC32C */
	int data_digest;
	int local_port;
	int ping_tmo;                       /* SYSFS_UNSET: kernel lacks in-kernel NOPs */
	int recv_tmo;
};

/* Sorted cids of class/iscsi_connection/connection<sid>:*. */
int sysfs_conn_list(const char *root, uint32_t sid, uint32_t **ret_cids, size_t *ret_n);
int sysfs_conn_read(const char *root, uint32_t sid, uint32_t cid, struct sysfs_conn *ret);
int sysfs_conn_read_detail(const char *root, uint32_t sid, uint32_t cid, enum sysfs_detail detail,
			   struct sysfs_conn *ret);
/* exp_statsn alone, read before a re-login (§2.2 step 5). */
int sysfs_conn_exp_statsn(const char *root, uint32_t sid, uint32_t cid, uint32_t *ret);

/* ---- hosts ------------------------------------------------------------- */

struct sysfs_host {
	uint32_t host_no;
	char ipaddress[SYSFS_SHORT_MAX];
	char hwaddress[SYSFS_SHORT_MAX];
	char netdev[SYSFS_SHORT_MAX];
	char initiatorname[SYSFS_NAME_MAX];
	char state[SYSFS_SHORT_MAX];        /* class/scsi_host/hostH/state, e.g. "running" */
	char proc_name[SYSFS_SHORT_MAX];    /* "iscsi_tcp" */
};

int sysfs_host_read(const char *root, uint32_t host_no, struct sysfs_host *ret);
/* proc_name only; the other strings "". */
int sysfs_host_read_brief(const char *root, uint32_t host_no, struct sysfs_host *ret);
/* "<root>/class/scsi_host/host<H>/scan" into buf. */
int sysfs_host_scan_path(const char *root, uint32_t host_no, char *buf, size_t cap);

/* ---- SCSI devices ------------------------------------------------------ */

struct sysfs_hctl {
	uint32_t host;
	uint32_t channel;
	uint32_t target;
	uint64_t lun;
};

struct sysfs_lun {
	struct sysfs_hctl hctl;
	char state[SYSFS_SHORT_MAX];   /* running, blocked, offline, transport-offline, ... */
	int type;                      /* SCSI peripheral type, 0 disk, 5 cd; SYSFS_UNSET */
	size_t n_block;
	char block[SYSFS_LUN_BLOCK_MAX][SYSFS_SHORT_MAX];   /* "sda"; none until sd probed */
};

/* "H:C:T:L" <-> struct. parse: -EINVAL unless exactly four numbers. */
int sysfs_hctl_parse(const char *s, struct sysfs_hctl *ret);
int sysfs_hctl_format(const struct sysfs_hctl *h, char *buf, size_t cap);

/* LUNs below the session's device (targetH:C:T/H:C:T:L), sorted by H:C:T:L;
 * an empty list before the first scan. */
int sysfs_session_luns(const char *root, uint32_t sid, struct sysfs_lun **ret_luns, size_t *ret_n);
int sysfs_lun_read(const char *root, const struct sysfs_hctl *h, struct sysfs_lun *ret);
/* The session that owns bus/scsi/devices/H:C:T:L: walk up its device path
 * to a component "session<N>". -ENOENT no such device, -ENODEV not iSCSI. */
int sysfs_lun_session(const char *root, const struct sysfs_hctl *h, uint32_t *ret_sid);
/* The H:C:T:L behind a block device name ("sda") via class/block/sda/device. */
int sysfs_block_hctl(const char *root, const char *block, struct sysfs_hctl *ret);

#endif
