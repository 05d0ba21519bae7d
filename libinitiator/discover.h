/* SendTargets discovery, with no kernel module and no daemon: a TCP
 * connection of our own (netio.h, or a transport the caller injects), a
 * discovery login (login.h, SessionType=Discovery), the SendTargets Text
 * exchange (sendtargets.h), a Logout. iscsiadm calls it; it blocks.
 *
 * Everything the target sends goes through the library's validators
 * (PDU codec, text parser, name_validate()) before it is used; a hostile
 * or broken answer fails this one discovery with a message saying why.
 * An entry with an invalid name or address is left out of the result and
 * noted in it (st_result.skipped, sendtargets.h) for the caller to show. */
#ifndef LIBINITIATOR_DISCOVER_H
#define LIBINITIATOR_DISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "netio.h"
#include "record.h"
#include "sendtargets.h"

#define DISCOVER_MSG_MAX 512
#define DISCOVER_MAX_REDIRECTS 8

/* The transport under a discovery: TCP (netio.h) unless a test or a
 * fuzzer supplies its own. Same contracts as netio_connect(),
 * netio_write_all(), netio_read_exact(); handles are whatever connect
 * returns (>= 0). */
struct discover_io {
	int (*connect)(void *ctx, const struct portal *p, const struct iface_rec *iface, uint64_t deadline_ms,
		       char *err, size_t errlen);
	int (*write_all)(void *ctx, int h, const void *buf, size_t len, uint64_t deadline_ms);
	int (*read_exact)(void *ctx, int h, void *buf, size_t len, uint64_t deadline_ms);
	void (*close)(void *ctx, int h);
	void *ctx;
};

/* TCP through netio.h; ctx: the struct netio_binder (or NULL). */
extern const struct discover_io discover_tcp_io;

struct discover_opts {
	const struct portal *portal;        /* the discovery portal */
	const struct iface_rec *iface;      /* binding: netdev, hwaddress, ipaddress; NULL: none */
	const struct netio_binder *binder;  /* makes iface's binding (TCP transport); NULL: none */
	const char *initiator_name;
	const char *initiator_alias;        /* NULL or "" */
	const struct rec_auth *auth;        /* discovery CHAP; NULL: none */
	unsigned login_timeout;             /* s: TCP connect + login */
	unsigned active_timeout;            /* s: wait for each Text Response */
	uint32_t max_recv_dlength;          /* our MaxRecvDataSegmentLength */
	int debug;                          /* -d level: progress lines on stderr (>= 2) */
	const struct discover_io *io;       /* NULL: TCP */
	uint32_t isid_qualifier;            /* low 24 bits of the ISID; 0: random */
};

/* Runs one discovery. Returns an exit code (errors.h): 0 with *ret filled
 * (targets without a TargetAddress get the discovery portal), or
 *   4  connection refused/reset/closed by the target, or the iface's
 *      device or address is missing
 *   7  the iface cannot work (its address is of the other family, its
 *      MAC address names several devices)
 *   8  TCP connect timed out
 *   11 the target stopped answering (login or Text Response)
 *   24 authentication failed (discovery CHAP)
 *   19 the target broke the protocol (bad PDU, malformed or hostile
 *      SendTargets text, over the size limits), or refused the login
 *   5  other login failures the target may recover from
 * with a sentence in msg naming the portal and the reason. */
int discover_sendtargets(const struct discover_opts *o, struct st_result *ret, char *msg, size_t msglen);

#endif
