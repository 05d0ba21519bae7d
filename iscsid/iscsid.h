/* The daemon's state, passed to every part of it (no globals). */
#ifndef ISCSID_ISCSID_H
#define ISCSID_ISCSID_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "iname.h"
#include "paths.h"
#include "session.h"

struct loop;
struct control;
struct ctl_request;
struct session_layer;
struct metrics;
struct isns_client;

struct iscsid {
	struct loop *loop;
	struct iscsi_paths paths;
	struct iscsi_config config;
	struct initiator_name iname;
	bool have_iname;
	long allow_gid;                 /* --ipc-allow-gid, -1 = none */
	struct control *ctl;
	struct session_layer *sessions;   /* the session layer, its carriers beneath it */
	struct metrics *metrics;          /* iscsi.prom (metrics.h) */
	struct isns_client *isns;         /* isns.address (isns_client.h) */
	bool stopping;
	/* Until the carriers have taken over the sessions that outlived
	 * the previous iscsid, requests about sessions wait here: a logout
	 * of a session not adopted yet would find no such session. */
	bool adopting;
	struct ctl_request **parked;
	size_t nparked, cparked;
};

/* Reads iscsid.conf and the initiator name file again (SIGHUP, RELOAD).
 * On a parse error the previous settings stay and err says why (one
 * line); returns -EINVAL then. A missing file means defaults (config) or
 * no initiator name (logins will fail), not an error. */
int iscsid_reload(struct iscsid *d, char *err, size_t errlen);

/* Leaves the event loop; main() then tears everything down. */
void iscsid_stop(struct iscsid *d);

/* session_layer.login_wanted: the node record of s is there and
 * automatic (handlers.c). */
struct session;
bool iscsid_login_wanted(void *data, const struct session *s);

/* The control request dispatcher (handlers.c). */
void iscsid_dispatch(void *data, struct ctl_request *req);
/* session_adopt_all's answer: the requests parked meanwhile run now (or
 * are told iscsid is stopping). */
void iscsid_adopted(void *data, const struct transport_result *res);
/* Answers what is parked with "iscsid is stopping" (at exit), status 9
 * (ISCSI_ERR_INTERNAL) as for the requests the carriers had in hand. */
void iscsid_unpark_all(struct iscsid *d);

#endif
