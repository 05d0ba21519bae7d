/* Selecting, loading and printing node records: shared by -m node,
 * -m session (-r prints the session's record), -m discovery and the
 * login code (node_login.c). Nothing here talks to iscsid. */
#ifndef ISCSIADM_NODE_RECS_H
#define ISCSIADM_NODE_RECS_H

#include <stddef.h>

#include "adm.h"
#include "nodedb.h"

/* The -T / -p / -I selection. */
void node_filter_from_args(const struct adm *a, struct node_filter *f);
/* nodedb_node_find() with diagnostics printed; exit code. */
int node_find(struct adm *a, struct nodedb *db, const struct node_filter *f, struct node_list *ret);
/* Pointers to the records of l (free() the array). NULL: no memory. */
const struct node_rec **node_ptrs(const struct node_list *l);
/* An iface record (stored or built in), with open-iscsi-like errors. */
int node_load_iface(struct adm *a, struct nodedb *db, const char *name, struct iface_rec *ret);
/* Every record of l as `-o show` prints it (`# BEGIN RECORD` ...), or
 * as JSON with -j; secrets as -S says. Exit code. */
int node_show_records(const struct adm *a, const struct node_list *l);

#endif
