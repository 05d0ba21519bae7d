/* open-iscsi's text formats (inventory §1.4), byte for byte, and the JSON
 * forms of the same listings (doc/iscsiadm.8, JSON OUTPUT).
 *
 * "<empty>" stands for an unset value; IPv6 addresses are bracketed. */
#ifndef ISCSIADM_PRINT_H
#define ISCSIADM_PRINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "json.h"
#include "record.h"
#include "sysfs.h"
#include "uspace_ctl.h"

#define PRINT_EMPTY "<empty>"

/* "addr:port" or "[addr]:port" (IPv6). */
void print_fmt_addr_port(char *buf, size_t len, const char *addr, int port);

/* ---- node records ---- */

/* What identifies a node record, borrowed from a record or a discovery
 * result (a whole struct node_rec is large). */
struct node_id {
	const char *target;
	const char *address;
	int port;
	int tpgt;
	const char *iface;
};

void node_id_from_rec(const struct node_rec *r, struct node_id *ret);

/* "<addr>:<port>,<tpgt> <target>" */
void print_node_flat(FILE *f, const struct node_rec *r);
void print_node_id_flat(FILE *f, const struct node_id *id);
/* The same for n of them, written in few pieces. */
void print_node_ids_flat(FILE *f, const struct node_id *ids, size_t n);
/* The Target / Portal / Iface Name trees, grouped as given (nodedb
 * returns records sorted by target, portal, iface), in open-iscsi's three
 * forms: a Target line when the target changes, then
 *   PRINT_TREE_NODE   (-m node -P 1) a Portal and an Iface Name line for
 *                     every record
 *   PRINT_TREE_DISC   (discovery -P 1) a Portal line when address or port
 *                     change, an Iface Name line for every record
 *   PRINT_TREE_IFACE  (-m iface -P 1, under "Iface: <name>") a Portal line
 *                     for every record, one tab deeper, no Iface Name */
enum print_tree {
	PRINT_TREE_NODE,
	PRINT_TREE_DISC,
	PRINT_TREE_IFACE,
};
void print_node_tree(FILE *f, const struct node_rec *const *recs, size_t n, enum print_tree form);
void print_node_id_tree(FILE *f, const struct node_id *ids, size_t n, enum print_tree form);
/* JSON object for one node (identity only). */
void json_node(struct json *j, const struct node_rec *r);
void json_node_id(struct json *j, const struct node_id *id);
/* JSON object with every key of a record, values as -o show prints them
 * (secrets masked unless show_secrets; unset strings null). */
void json_record(struct json *j, enum rec_kind kind, const void *rec, bool show_secrets);

/* ---- ifaces ---- */

/* "<name> <transport>,<hwaddress>,<ipaddress>,<netdev>,<initiatorname>" */
void print_iface_flat(FILE *f, const struct iface_rec *r);
void json_iface(struct json *j, const struct iface_rec *r);

/* ---- discovery records ---- */

/* "<addr>:<port> via sendtargets|isns" */
void print_disc_flat(FILE *f, const struct discovery_rec *r);
void json_disc(struct json *j, const struct discovery_rec *r);

/* ---- sessions (sysfs + iscsid) ---- */

struct sess_view {
	struct sysfs_session s;
	struct sysfs_conn c;           /* the first connection */
	bool have_conn;
	struct sysfs_host h;
	bool have_host;
	char transport[32];            /* "tcp"; "" when unknown */
	bool flash;                    /* created by HBA firmware, not by iscsid */
	char conn_state[32];           /* from iscsid; "" = Unknown */
	char iscsid_state[32];         /* "Internal iscsid Session State"; "" = Unknown */
	struct sysfs_lun *luns;        /* -P 3 only */
	size_t n_luns;
	bool luns_ok;
	struct sysfs_session_auth auth;   /* -S at -P 2+, when readable */
	bool auth_ok;
	/* A session of the userspace transport (an iscsi-uspace process;
	 * sysfs has none): s and c hold what its process or iscsid said, the
	 * integers it did not say are SYSFS_UNSET, there is no host. */
	bool uspace;
	char uspace_state[16];         /* the process's; "" when it did not answer */
	struct uspace_lun *ulun;       /* -P 3: its LUNs, files and loop devices */
	size_t n_ulun;
};

/* "<transport>: [<sid>] <paddr>:<pport>,<tpgt> <target> (non-flash)" */
void print_session_flat(FILE *f, const struct sess_view *v);
/* Orders views as open-iscsi's tree does: sessions of one target (and
 * one portal) next to each other, otherwise in sid order. */
void print_sessions_order(struct sess_view *v, size_t n);
/* The -P 1..3 tree (prefix "" for -m session, "\t" under -m host -P 2+). */
void print_sessions_tree(FILE *f, const struct sess_view *v, size_t n, int level, const char *prefix,
			 bool show_secrets);
/* JSON object for one session with the fields of print level `level`. */
void json_session(struct json *j, const struct sess_view *v, int level, bool show_secrets);

/* ---- hosts ---- */

struct host_view {
	struct sysfs_host h;
	char transport[32];
};

/* "<transport>: [<host>] <ip>,[<hwaddress>],<netdev> <initiatorname>" */
void print_host_flat(FILE *f, const struct host_view *v);
/* "Host Number: N" block of -P 1. */
void print_host_tree(FILE *f, const struct host_view *v);
void json_host(struct json *j, const struct host_view *v);

/* Transport name from a SCSI host's proc_name: "iscsi_tcp" -> "tcp". */
void print_transport_from_proc(const char *proc_name, char *buf, size_t len);

#endif
