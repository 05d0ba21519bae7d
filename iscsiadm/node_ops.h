/* Helpers shared by -m node, -m discovery and -m session. */
#ifndef ISCSIADM_NODE_OPS_H
#define ISCSIADM_NODE_OPS_H

#include <stddef.h>

#include "adm.h"
#include "nodedb.h"
#include "print.h"

/* The -T / -p / -I selection. */
void node_filter_from_args(const struct adm *a, struct node_filter *f);
/* nodedb_node_find() with diagnostics printed; exit code. */
int node_find(struct adm *a, struct nodedb *db, const struct node_filter *f, struct node_list *ret);
/* Pointers to the records of l (free() the array). NULL: no memory. */
const struct node_rec **node_ptrs(const struct node_list *l);
/* An iface record (stored or built in), with open-iscsi-like errors. */
int node_load_iface(struct adm *a, struct nodedb *db, const char *name, struct iface_rec *ret);

/* -l, -u, -L, -U, -R, -s for the records/sessions f selects. */
int node_session_ops(struct adm *a, struct nodedb *db, const struct node_filter *f);

/* Logs in to each record (skipping those that have a session already:
 * exit 15 for them), printing open-iscsi's lines. db may be NULL (the
 * records are used as they are). First error, or 0. */
int node_login_recs(struct adm *a, struct nodedb *db, const struct node_rec *const *recs, size_t n);

/* "Logging out of session [...]" / "Logout of [...] successful." for
 * each; first error or 0. */
int node_logout_sessions(struct adm *a, const struct sess_view *v, size_t n);

/* "[sid: N, target: T, portal: A,P]" */
void node_session_what(const struct sess_view *v, char *buf, size_t len);

#endif
