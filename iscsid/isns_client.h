/* iscsid's iSNS client (RFC 4171): with isns.address set in iscsid.conf,
 * iscsid registers this initiator with that iSNS server, subscribes to
 * State Change Notifications, and discovers the targets the server lets
 * it see, writing their node records as `iscsiadm -m discovery -t isns`
 * does (new records only: existing ones are left as they are) and logging
 * in to each record it added whose node.startup is automatic.
 *
 *   passes    a pass (register with the Replace flag, SCNReg, DevAttrQry,
 *             write the records) runs in an off-loop worker (loop.h): at
 *             start-up, after an SCN that a node was added or updated,
 *             and every half Registration Period (so the entity never
 *             expires); a failed pass is retried with back-off (5 s up to
 *             5 min). SCNs during a pass coalesce into one more pass.
 *   SCNs      the SCN port (isns_scn.h), the SCN Port registered with our
 *             Portal: a listening TCP socket in the loop on the address
 *             the server reaches us at (the local address of the
 *             connection to it), found by the first pass, which then
 *             runs again at once; all addresses only when that address
 *             keeps changing or cannot be bound.
 *   stop      a clean stop deregisters the entity (DevDereg), bounded by
 *             ISNS_CLIENT_STOP_TIMEOUT seconds.
 *
 * A server that is down, slow or hostile costs a failed pass and a log
 * line; it never blocks the loop. */
#ifndef ISCSID_ISNS_CLIENT_H
#define ISCSID_ISNS_CLIENT_H

#include <stdint.h>

#define ISNS_CLIENT_PASS_TIMEOUT_MS 60000u   /* one whole pass in the worker */
#define ISNS_CLIENT_RETRY_MIN_S 5u
#define ISNS_CLIENT_RETRY_MAX_S 300u
#define ISNS_CLIENT_REFRESH_S 600u            /* when the server gives no period */
#define ISNS_CLIENT_STOP_TIMEOUT 2u           /* s: connect, and the DevDereg */

struct iscsid;
struct isns_client;

/* Nothing happens until isns_client_configure(). */
int isns_client_new(struct iscsid *d, struct isns_client **ret);
/* After each (re)load of iscsid.conf: the server of d->config (isns.address,
 * isns.port); "" turns it off. A changed server gets a new registration;
 * the old one is deregistered. */
void isns_client_configure(struct isns_client *c);
/* A clean stop: deregisters when registered (blocking, bounded). */
void isns_client_stop(struct isns_client *c);
/* NULL is a no-op. */
void isns_client_free(struct isns_client *c);

#endif
