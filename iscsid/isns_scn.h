/* The SCN port of iscsid's iSNS client (isns_client.h): a listening TCP
 * socket in the loop on which the iSNS server delivers State Change
 * Notifications (RFC 4171 §5.6.5.9) and Entity Status Inquiries
 * (§5.6.5.13). Everything on it is hostile until parsed:
 *
 *   connections  non-blocking, at most ISNS_SCN_MAX_CONNS at once (one
 *                more is accepted and closed at once), each closed after
 *                idle_ms without a whole message
 *   messages     at most ISNS_SCN_MSG_MAX bytes (16 PDUs, 1024
 *                attributes); a malformed or larger one closes its
 *                connection
 *   answers      SCNs and ESIs are answered (an SCN for another node
 *                with SCN Event Rejected), anything else with Message
 *                Not Supported; responses are ignored
 *
 * An SCN for our node that says a node other than ours was added or
 * updated, or joined a discovery domain, calls back (once per SCN). */
#ifndef ISCSID_ISNS_SCN_H
#define ISCSID_ISNS_SCN_H

#include <stddef.h>
#include <stdint.h>

#include "isns.h"

#define ISNS_SCN_MAX_CONNS 8
#define ISNS_SCN_IDLE_MS 30000u
#define ISNS_SCN_MSG_MAX (64u * 1024u)       /* one message from a server */

/* The events that may mean a target we can see appeared. */
#define ISNS_SCN_WANTED (ISNS_SCN_OBJECT_ADDED | ISNS_SCN_OBJECT_UPDATED | ISNS_SCN_DD_MEMBER_ADDED)

struct loop;
struct isns_scn;

typedef void (*isns_scn_fn)(void *data);

/* Listens on a free TCP port of the numeric address addr (IPv4 or IPv6,
 * "%scope" allowed), or of all addresses (dual-stack where the host has
 * IPv6) when addr is NULL or "". iname: the node SCNs must be for.
 * idle_ms: ISNS_SCN_IDLE_MS in iscsid (tests shorten it). 0, or a
 * negative errno (-EADDRNOTAVAIL: no such local address now). */
int isns_scn_open(struct loop *l, const char *addr, const char *iname, uint64_t idle_ms, isns_scn_fn fn,
		  void *data, struct isns_scn **ret);
/* The bound port, and the address given ("" for all addresses). */
uint16_t isns_scn_port(const struct isns_scn *s);
const char *isns_scn_addr(const struct isns_scn *s);
/* Another initiator name (after a reload). */
void isns_scn_set_iname(struct isns_scn *s, const char *iname);
/* Closes the port and its connections. NULL is a no-op. */
void isns_scn_close(struct isns_scn *s);

#endif
