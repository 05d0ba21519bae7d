/* iSNS discovery and registration over one TCP connection to an iSNS
 * server (RFC 4171), blocking with deadlines, over discover.h's
 * transport (TCP by netio.h unless a test injects its own). iscsiadm
 * runs discover_isns(); iscsid's off-loop workers use the calls below it
 * to register, subscribe to State Change Notifications, query and
 * deregister.
 *
 * Everything the server sends goes through isns.h's checks; a server
 * that sends something malformed, too large, endless or nothing at all
 * fails that one call with a sentence saying why, within its deadline. */
#ifndef LIBINITIATOR_ISNS_DISC_H
#define LIBINITIATOR_ISNS_DISC_H

#include <stddef.h>
#include <stdint.h>

#include "discover.h"
#include "isns.h"
#include "nodedb.h"

#define ISNS_TIMEOUT_DEFAULT 10     /* s: connect, and each call's whole answer */
#define ISNS_MAX_STRAY 16           /* messages that answer nothing, per call */

struct isns_disc_opts {
	const struct portal *server;        /* port: 3205 unless given */
	const struct iface_rec *iface;      /* binding of the connection; NULL: none */
	const struct netio_binder *binder;  /* makes iface's binding (TCP); NULL: none */
	const struct discover_io *io;       /* NULL: TCP */
	const char *initiator_name;         /* Source of every request */
	const char *entity_id;              /* NULL: the initiator name */
	unsigned connect_timeout;           /* s; 0: ISNS_TIMEOUT_DEFAULT */
	unsigned call_timeout;              /* s; 0: ISNS_TIMEOUT_DEFAULT */
	const struct isns_limits *limits;   /* NULL: isns.h's defaults */
	int debug;                          /* progress lines on stderr at >= 2 */
};

struct isns_conn {
	const struct isns_disc_opts *o;
	struct discover_io io;
	int fd;
	uint16_t xid;
	struct isns_rx rx;
	char where[PORTAL_HOST_MAX + 16];   /* "host:port" for messages */
};

/* Connects: 0, or a negative errno with err ("cannot connect to the iSNS
 * server H:P: ..."). -EINVAL/-EAFNOSUPPORT: the iface cannot work. */
int isns_conn_open(struct isns_conn *c, const struct isns_disc_opts *o, char *err, size_t errlen);
void isns_conn_close(struct isns_conn *c);

/* One request (payload built with isns.h) and its response: 0 and *ret
 * (ret->status is the server's verdict), or -ETIMEDOUT (no whole answer
 * within call_timeout), -ECONNRESET (closed), -EPROTO/-EMSGSIZE (a
 * malformed, oversized or endless answer, or more than ISNS_MAX_STRAY
 * messages that answer nothing), -ENOMEM; err says which. */
int isns_conn_call(struct isns_conn *c, uint16_t function, uint16_t flags, const struct isns_buf *payload,
		   struct isns_msg *ret, char *err, size_t errlen);

/* The calls an initiator makes. Each returns 0, the iSNS status (> 0)
 * when the server refused, or a negative errno; err says why. */
int isns_query_targets(struct isns_conn *c, const char *target, struct st_result *ret, char *err, size_t errlen);
/* DevAttrReg with the Replace flag (a registration left by an earlier
 * run is replaced, not added to); *ret_period: the server's Registration
 * Period in seconds (0: none given, nothing expires). */
int isns_register(struct isns_conn *c, const struct isns_reg *r, uint32_t *ret_period, char *err, size_t errlen);
int isns_register_scn(struct isns_conn *c, uint32_t bitmap, char *err, size_t errlen);
int isns_deregister(struct isns_conn *c, char *err, size_t errlen);

/* `iscsiadm -m discovery -t isns`: the targets the server lets this
 * initiator see, as SendTargets would list them (tpgt = the Portal Group
 * Tag). A server that does not know the initiator (Source Unknown) gets a
 * registration for the length of the query, as open-iscsi does. Returns
 * an exit code (errors.h) and a sentence in msg:
 *   0   *ret filled (maybe no targets)
 *   25  the query failed: no connection, no answer in time, a refusal, a
 *       malformed, oversized or endless answer (ISCSI_ERR_ISNS_QUERY)
 *   26  the server wanted a registration and refused it
 *   7   the iface cannot work; 3 out of memory */
int discover_isns(const struct isns_disc_opts *o, struct st_result *ret, char *msg, size_t msglen);

/* The portals of a discovery result as nodedb_disc_merge() takes them,
 * pointing into r: 0 and *ret (free()), or -ENOMEM. */
int disc_targets_from_result(const struct st_result *r, struct disc_target **ret, size_t *ret_n);

#endif
