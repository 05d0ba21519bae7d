/* Session operations on node records and sessions, for -m node,
 * -m session and -m discovery --login: login (-l, -L), logout (-u, -U),
 * rescan (-R), statistics (-s). Logins and logouts run in iscsid. */
#ifndef ISCSIADM_NODE_LOGIN_H
#define ISCSIADM_NODE_LOGIN_H

#include <stddef.h>

#include "adm.h"
#include "nodedb.h"
#include "print.h"

/* -l, -u, -L, -U, -R, -s for the records/sessions f selects. */
int node_session_ops(struct adm *a, struct nodedb *db, const struct node_filter *f);

/* Logs in to each record (skipping those that have a session already:
 * exit 15 for them), printing open-iscsi's lines. db may be NULL (the
 * records are used as they are). First error, or 0. */
int node_login_recs(struct adm *a, struct nodedb *db, const struct node_rec *const *recs, size_t n);

/* After the logins of -m node -l/-L: open-iscsi's closing line
 * "Could not log into all portals" when r (node_login_recs()'s result)
 * says one did not happen, "already present" included. */
void node_login_summary(int r);

/* "Logging out of session [...]" / "Logout of [...] successful." for
 * each; first error or 0. */
int node_logout_sessions(struct adm *a, const struct sess_view *v, size_t n);

/* "[sid: N, target: T, portal: A,P]" */
void node_session_what(const struct sess_view *v, char *buf, size_t len);

#endif
