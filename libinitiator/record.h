/* Node, discovery and iface records: typed structs plus ONE schema table
 * per kind from which parsing, printing (`-o show`, the on-disk files)
 * and `-o update` all come.
 *
 * The text format is open-iscsi's, byte for byte (checked against the
 * output of Debian's iscsiadm 2.1.8):
 *
 *   # BEGIN RECORD 2.1.8
 *   node.name = iqn.2001-04.com.example:disk1
 *   ...
 *   # END RECORD
 *
 * Key order, spelling and value words (Yes/No, manual/automatic/onboot,
 * None/CRC32C,...) are open-iscsi's. The version written is "2.1.8" so
 * that open-iscsi's own tools read our files without complaint (they do
 * not check it; RHEL writes "6.2.1.x" into the same place).
 *
 * Two text forms:
 *  - show (REC_FMT_SHOW): every key; unset strings print "<empty>"; a set
 *    secret prints "********" unless REC_FMT_SECRETS.
 *  - disk (REC_FMT_DISK): what the record files hold: unset strings are
 *    left out, secrets are written in clear (the files are 0600), and
 *    keys this version does not know (from newer or older tools) are
 *    written back as they were read.
 *
 * Errors are negative errno values; outputs are untouched on failure. */
#ifndef LIBINITIATOR_RECORD_H
#define LIBINITIATOR_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "names.h"

#define REC_VERSION "2.1.8"
#define REC_BEGIN "# BEGIN RECORD"
#define REC_END "# END RECORD"

#define REC_NAME_SIZE (NAME_MAX_LEN + 1)       /* iSCSI names */
#define REC_HOST_SIZE (PORTAL_HOST_MAX + 1)    /* portal addresses / host names */
#define REC_IFACE_NAME_MAX 64                  /* open-iscsi's -I limit */
#define REC_IFACE_NAME_SIZE (REC_IFACE_NAME_MAX + 1)
#define REC_NETDEV_SIZE 16                     /* IFNAMSIZ */
#define REC_IPADDR_SIZE 64                     /* IPv6 text with a zone id */
#define REC_HWADDR_SIZE 32
#define REC_TRANSPORT_SIZE 16
#define REC_TOKEN_SIZE 32                      /* iface offload words */
#define REC_AUTH_SIZE 257                      /* CHAP names and secrets: 256 bytes */
#define REC_CHAP_ALGS_SIZE 48
#define REC_LINE_MAX 2048                      /* longer lines are rejected */
#define REC_FILE_MAX (256 * 1024)              /* larger record files are rejected */
#define REC_EXTRA_MAX 12                       /* unknown keys kept per record */
#define REC_EXTRA_KEY_SIZE 96
#define REC_EXTRA_VALUE_SIZE 256

enum rec_kind {
	REC_KIND_NODE,
	REC_KIND_DISCOVERY,
	REC_KIND_IFACE,
};

/* Enumerations hold their open-iscsi index so the value words line up. */
enum rec_startup {
	REC_STARTUP_MANUAL = 0,     /* "manual" */
	REC_STARTUP_AUTOMATIC = 1,  /* "automatic" */
	REC_STARTUP_ONBOOT = 2,     /* "onboot" (node only) */
};

enum rec_disc_type {
	REC_DISC_SENDTARGETS = 0,   /* node: "send_targets", discovery: "sendtargets" */
	REC_DISC_ISNS = 1,          /* "isns" */
	REC_DISC_OFFLOAD_ST = 2,    /* "offload_send_targets" */
	REC_DISC_SLP = 3,           /* "slp" */
	REC_DISC_STATIC = 4,        /* "static" */
	REC_DISC_FW = 5,            /* "fw" */
};

enum rec_authmethod {
	REC_AUTH_NONE = 0,          /* "None" */
	REC_AUTH_CHAP = 1,          /* "CHAP" */
};

/* Preference lists as open-iscsi spells them (RFC 7143 §13.1). */
enum rec_digest {
	REC_DIGEST_NONE = 0,        /* "None" */
	REC_DIGEST_CRC32C = 1,      /* "CRC32C" */
	REC_DIGEST_CRC32C_NONE = 2, /* "CRC32C,None" */
	REC_DIGEST_NONE_CRC32C = 3, /* "None,CRC32C" */
};

enum rec_scan {
	REC_SCAN_MANUAL = 0,        /* "manual" */
	REC_SCAN_AUTO = 1,          /* "auto" */
};

/* Keys read from a file that this version does not know. */
struct rec_extras {
	unsigned n;
	struct {
		char key[REC_EXTRA_KEY_SIZE];
		char value[REC_EXTRA_VALUE_SIZE];
	} kv[REC_EXTRA_MAX];
};

struct rec_auth {
	enum rec_authmethod authmethod;
	char username[REC_AUTH_SIZE];
	char password[REC_AUTH_SIZE];       /* secret */
	char username_in[REC_AUTH_SIZE];
	char password_in[REC_AUTH_SIZE];    /* secret */
	char chap_algs[REC_CHAP_ALGS_SIZE]; /* "SHA3-256,SHA256,SHA1,MD5" style */
};

/* iface.* (ifaces/<name>, and embedded in every node record). Only name,
 * transport_name, hwaddress, net_ifacename, ipaddress and initiatorname
 * matter to software iSCSI; the rest configure offload HBAs and are kept
 * as strings/numbers so they survive a load/save. Words such as
 * "enable"/"disable" are stored as text (REC_TOKEN_SIZE). */
struct iface_rec {
	char name[REC_IFACE_NAME_SIZE];             /* iface.iscsi_ifacename */
	char netdev[REC_NETDEV_SIZE];               /* iface.net_ifacename */
	char ipaddress[REC_IPADDR_SIZE];
	int prefix_len;
	char hwaddress[REC_HWADDR_SIZE];
	char transport_name[REC_TRANSPORT_SIZE];
	char iname[REC_NAME_SIZE];                  /* iface.initiatorname */
	char state[REC_TOKEN_SIZE];
	int vlan_id;
	int vlan_priority;
	char vlan_state[REC_TOKEN_SIZE];
	int iface_num;
	int mtu;
	int port;
	/* IPv4 block (printed unless the iface name contains "ipv6") */
	char bootproto[REC_TOKEN_SIZE];
	char subnet_mask[REC_IPADDR_SIZE];
	char gateway[REC_IPADDR_SIZE];
	char dhcp_alt_client_id_state[REC_TOKEN_SIZE];
	char dhcp_alt_client_id[REC_IPADDR_SIZE];
	char dhcp_dns[REC_TOKEN_SIZE];
	char dhcp_learn_iqn[REC_TOKEN_SIZE];
	char dhcp_req_vendor_id_state[REC_TOKEN_SIZE];
	char dhcp_vendor_id_state[REC_TOKEN_SIZE];
	char dhcp_vendor_id[REC_IPADDR_SIZE];
	char dhcp_slp_da[REC_TOKEN_SIZE];
	char fragmentation[REC_TOKEN_SIZE];
	char gratuitous_arp[REC_TOKEN_SIZE];
	char incoming_forwarding[REC_TOKEN_SIZE];
	char tos_state[REC_TOKEN_SIZE];
	int tos;
	int ttl;
	/* IPv6 block (printed instead when the iface name contains "ipv6") */
	char ipv6_autocfg[REC_TOKEN_SIZE];
	char linklocal_autocfg[REC_TOKEN_SIZE];
	char router_autocfg[REC_TOKEN_SIZE];
	char ipv6_linklocal[REC_IPADDR_SIZE];
	char ipv6_router[REC_IPADDR_SIZE];
	int dup_addr_detect_cnt;
	int flow_label;
	char gratuitous_neighbor_adv[REC_TOKEN_SIZE];
	int hop_limit;
	char mld[REC_TOKEN_SIZE];
	int nd_reachable_tmo;
	int nd_rexmit_time;
	int nd_stale_tmo;
	int router_adv_link_mtu;
	int traffic_class;
	/* common tail */
	char delayed_ack[REC_TOKEN_SIZE];
	char tcp_nagle[REC_TOKEN_SIZE];
	char tcp_wsf_state[REC_TOKEN_SIZE];
	int tcp_wsf;
	int tcp_timer_scale;
	char tcp_timestamp[REC_TOKEN_SIZE];
	char redirect[REC_TOKEN_SIZE];
	int def_task_mgmt_timeout;
	char header_digest[REC_TOKEN_SIZE];
	char data_digest[REC_TOKEN_SIZE];
	char immediate_data[REC_TOKEN_SIZE];
	char initial_r2t[REC_TOKEN_SIZE];
	char data_seq_inorder[REC_TOKEN_SIZE];
	char data_pdu_inorder[REC_TOKEN_SIZE];
	int erl;
	int max_receive_data_len;
	int first_burst_len;
	int max_outstanding_r2t;
	int max_burst_len;
	char chap_auth[REC_TOKEN_SIZE];
	char bidi_chap[REC_TOKEN_SIZE];
	char strict_login_compliance[REC_TOKEN_SIZE];
	char discovery_auth[REC_TOKEN_SIZE];
	char discovery_logout[REC_TOKEN_SIZE];
	struct rec_extras extras;                   /* ifaces/<name> files only */
};

struct node_session {
	int initial_cmdsn;
	int initial_login_retry_max;
	int xmit_thread_priority;
	int cmds_max;
	int queue_depth;
	int nr_sessions;
	struct rec_auth auth;
	int replacement_timeout;
	int abort_timeout;
	int lu_reset_timeout;
	int tgt_reset_timeout;
	int host_reset_timeout;
	bool fast_abort;
	bool initial_r2t;
	bool immediate_data;
	int first_burst_length;
	int max_burst_length;
	int default_time2retain;
	int default_time2wait;
	int max_connections;
	int max_outstanding_r2t;
	int erl;
	enum rec_scan scan;
	int reopen_max;
};

/* node.conn[0].*: open-iscsi supports exactly one connection per session. */
struct node_conn {
	char address[REC_HOST_SIZE];
	int port;
	enum rec_startup startup;
	int tcp_window_size;
	int tcp_type_of_service;
	int logout_timeout;
	int login_timeout;
	int auth_timeout;
	int noop_out_interval;
	int noop_out_timeout;
	int max_xmit_dlength;   /* MaxXmitDataSegmentLength, 0 = target's MRDSL */
	int max_recv_dlength;   /* MaxRecvDataSegmentLength */
	enum rec_digest header_digest;
	enum rec_digest data_digest;
	bool ifmarker;
	bool ofmarker;
};

struct node_rec {
	char name[REC_NAME_SIZE];          /* target name */
	int tpgt;                          /* -1: unknown */
	enum rec_startup startup;
	bool leading_login;
	struct iface_rec iface;
	char disc_address[REC_HOST_SIZE];
	int disc_port;
	enum rec_disc_type disc_type;
	struct node_session session;
	struct node_conn conn;
	struct rec_extras extras;
};

/* send_targets/<ip>,<port>/st_config and isns/<ip>,<port>/isns_config. */
struct discovery_rec {
	enum rec_startup startup;          /* manual or automatic */
	enum rec_disc_type type;           /* REC_DISC_SENDTARGETS or REC_DISC_ISNS */
	char address[REC_HOST_SIZE];
	int port;
	struct rec_auth auth;              /* sendtargets only */
	int login_timeout;
	bool use_discoveryd;
	int discoveryd_poll_inval;
	int reopen_max;
	int auth_timeout;
	int active_timeout;
	int max_recv_dlength;
	struct rec_extras extras;
};

/* --- defaults (open-iscsi's compiled defaults, inventory §2.10) --- */

/* Node template: tpgt -1, iface "default" (tcp), discovery type static. */
void node_rec_init(struct node_rec *r);
/* type REC_DISC_SENDTARGETS (port 3260) or REC_DISC_ISNS (port 3205). */
void discovery_rec_init(struct discovery_rec *r, enum rec_disc_type type);
/* Blank iface with the given name (may be NULL) and transport "tcp". */
void iface_rec_init(struct iface_rec *r, const char *name);
/* Built-in ifaces: "default" -> tcp, "iser" -> iser, "uspace" -> uspace
 * (the userspace transport). -ENOENT otherwise. */
int iface_rec_builtin(const char *name, struct iface_rec *ret);
bool iface_is_builtin(const char *name);
/* Their names, in listing order, NULL-terminated. */
extern const char *const iface_builtin_names[];
/* A record -o new/-o update may write: it names its network interface one
 * way, by iface.net_ifacename or by iface.hwaddress, not both (open-iscsi
 * refuses to switch an iface from one to the other the same way). Records
 * read from files are not checked: there net_ifacename wins (bind.h).
 * -EINVAL with the reason in err. */
int iface_rec_check(const struct iface_rec *r, char *err, size_t errlen);

/* Fill a node record for (target, address, port, tpgt, iface) from a
 * template (usually struct iscsi_config.node). Validates the target name,
 * the address (IPv4, IPv6 or host name), port 1..65535, tpgt -1..65535
 * and the iface name. iface may be NULL: the "default" iface.
 * -EINVAL with a reason in err. */
int node_rec_from_template(const struct node_rec *tmpl, const char *target, const char *address, int port,
			   int tpgt, const struct iface_rec *iface, struct node_rec *ret, char *err, size_t errlen);

/* --- validation helpers shared with nodedb --- */

/* 1..64 bytes of [A-Za-z0-9_.:-], not starting with '.': safe as a file
 * name. */
bool rec_iface_name_valid(const char *name);
/* A portal address as stored in records: IPv4, IPv6 (no brackets, zone
 * allowed) or an RFC 1123 host name; never contains '/' or ','. */
bool rec_address_valid(const char *addr);

/* --- the schema --- */

enum rec_set_mode {
	REC_SET_LOAD,    /* a record file: every key, lenient number ranges */
	REC_SET_UPDATE,  /* `-o update`: identity keys refused, ranges enforced */
	REC_SET_CONFIG,  /* iscsid.conf: like UPDATE */
};

/* Set one key by name from its text value ("<empty>" or "" clears a
 * string). Errors, each with a one-line reason in err (never quoting a
 * secret's value):
 *   -ENOENT        unknown key for this kind
 *   -EPERM         key identifies the record (node.name, node.tpgt,
 *                  node.conn[0].address/port, node.discovery_*,
 *                  iface.iscsi_ifacename, discovery address/port/type) or,
 *                  in a node record, an iface.* key other than
 *                  iface.transport_name ("use iface mode")
 *   -EINVAL        value not of the key's type or an unknown word
 *   -ERANGE        number outside the key's range
 *   -ENAMETOOLONG  string longer than the key allows */
int rec_set(enum rec_kind kind, void *rec, const char *key, const char *value, enum rec_set_mode mode, char *err,
	    size_t errlen);

/* The value of one key as `-o show` prints it ("" for an unset string,
 * "********" for a set secret unless show_secrets). -ENOENT unknown key,
 * -ENOBUFS buffer too small. */
int rec_get(enum rec_kind kind, const void *rec, const char *key, bool show_secrets, char *buf, size_t len);

/* True if the key exists for this kind (including hidden legacy keys). */
bool rec_key_known(enum rec_kind kind, const char *key);
/* True if the key holds a secret (password, password_in). */
bool rec_key_secret(enum rec_kind kind, const char *key);

#define REC_FMT_SHOW 0u          /* `-o show` */
#define REC_FMT_SECRETS 1u       /* `-S`: print secrets in clear */
#define REC_FMT_DISK 2u          /* record-file form (implies secrets) */

/* Visit every printed key in order. value is "" for an unset string (the
 * caller prints "<empty>" or a JSON null), already masked per flags.
 * A nonzero return from cb stops the walk and is returned. */
typedef int (*rec_visit_fn)(const char *key, const char *value, void *userdata);
int rec_foreach(enum rec_kind kind, const void *rec, unsigned flags, rec_visit_fn cb, void *userdata);

/* The whole text, "# BEGIN RECORD 2.1.8\n...# END RECORD\n". */
int rec_format(enum rec_kind kind, const void *rec, unsigned flags, char **ret_buf, size_t *ret_len);
int rec_fprint(enum rec_kind kind, const void *rec, unsigned flags, FILE *f);

/* --- diagnostics: a bounded list the caller prints --- */

enum rec_diag_level {
	REC_DIAG_WARNING,   /* applied anyway or ignored (unknown key ...);
			     * iscsiadm and iscsistart print it with -d */
	REC_DIAG_ERROR,     /* the line or the whole record was rejected */
	REC_DIAG_FALLBACK,  /* a value was not used as written: a default,
			     * the previous value or its leading number was
			     * used instead. A warning every caller prints. */
	REC_DIAG_NOTICE,    /* a warning shown at every verbosity: records left
			       out that the user would otherwise never see are
			       missing (a directory whose name is not valid) */
};

struct rec_diag {
	enum rec_diag_level level;
	char *path;         /* file, or NULL */
	unsigned line;      /* 1-based; 0 = whole file */
	char msg[200];
};

#define REC_DIAGS_MAX 256

struct rec_diags {
	struct rec_diag *v;
	size_t n;
	size_t cap;
	size_t dropped;     /* entries past REC_DIAGS_MAX (or lost to ENOMEM) */
};

void rec_diags_init(struct rec_diags *d);
void rec_diags_free(struct rec_diags *d);
/* d may be NULL (no-op). */
__attribute__((format(printf, 5, 6)))
void rec_diags_add(struct rec_diags *d, enum rec_diag_level level, const char *path, unsigned line,
		   const char *fmt, ...);
size_t rec_diags_count(const struct rec_diags *d, enum rec_diag_level level);
/* "path:line: error: msg" into buf (for printing); "warning" for both
 * warning levels. */
void rec_diag_format(const struct rec_diag *e, char *buf, size_t len);

/* Parse a record's text (disk or show form) into rec, which the caller
 * has initialised with defaults (node_rec_init() ...). Comments and blank
 * lines are skipped; "<empty>" reads as unset; unknown keys are kept in
 * rec's extras (up to REC_EXTRA_MAX). A bad value for a known key is a
 * warning and leaves that key as it was.
 * -EINVAL (record corrupt, rec must not be used; diags say where): NUL
 * bytes, a line over REC_LINE_MAX, a line that is not "key = value", a
 * "# BEGIN RECORD" without its "# END RECORD" (a torn write), text larger
 * than REC_FILE_MAX. path is only used for diagnostics. */
int rec_parse(enum rec_kind kind, void *rec, const char *buf, size_t len, const char *path,
	      struct rec_diags *diags);

/* Split one "key = value" line the way record and config files are read:
 * key up to blank or '=', value the rest of the line with blanks trimmed.
 * Returns 1 with key/value pointing into line (which is modified), 0 for
 * a blank or comment line, -EINVAL when there is no '=' or no key.
 * An empty value is allowed (returns "" in *ret_value). */
int rec_split_line(char *line, char **ret_key, char **ret_value);

/* The line loop of every text file reader (records, iscsid.conf,
 * initiatorname.iscsi): copies the line of buf[0..len) that starts at *off
 * into line (size bytes, NUL-terminated, '\n' dropped) and moves *off past
 * it; *lineno counts lines. Returns 1 with a line, 0 at the end of buf, or
 * -E2BIG for a line of size bytes or more: it is skipped and reported in
 * diags as an error on its line (path labels it). */
int rec_next_line(const char *buf, size_t len, size_t *off, char *line, size_t size, unsigned *lineno,
		  const char *path, struct rec_diags *diags);

#endif
