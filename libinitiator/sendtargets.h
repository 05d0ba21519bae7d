/* SendTargets discovery (RFC 7143 §13.3 SendTargets, §13.8 TargetAddress,
 * Appendix C).
 *
 * Two layers:
 *   sendtargets_parse()   an assembled SendTargets response -> target list
 *   struct st_exchange    the Text Request/Response exchange of a discovery
 *                         session (RFC 7143 §11.10, §11.11), as a pure step
 *                         function: Text Response PDU in, next Text Request
 *                         PDU or the final target list out.
 *
 * The response lists targets in order, each "TargetName=<name>" followed
 * by zero or more "TargetAddress=<host>[:<port>],<tpgt>" (Appendix C).
 * A target with no TargetAddress is reachable through the portal of the
 * discovery session itself: it is returned with n_portals == 0, and
 * sendtargets_apply_default_portal() fills in the discovery portal.
 * Everything else the target sends (e.g. TargetAlias) is ignored.
 *
 * An entry the initiator cannot use (a TargetName name_validate()
 * rejects, with the TargetAddresses after it, or a TargetAddress that
 * does not parse) is skipped and noted in the result, as open-iscsi
 * records the other targets; only a response whose every entry is
 * invalid fails. What breaks the text itself (syntax, a TargetAddress
 * before any TargetName, the ST_MAX_* limits) fails the whole response.
 */
#ifndef LIBINITIATOR_SENDTARGETS_H
#define LIBINITIATOR_SENDTARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"
#include "pdu.h"
#include "text.h"

#define ST_MAX_TARGETS 4096
#define ST_MAX_PORTALS 64           /* per target */
#define ST_MAX_PORTALS_TOTAL 16384  /* whole response: bounds memory */
#define ST_MAX_BYTES (1024u * 1024u) /* assembled response */
#define ST_MAX_ROUNDS 4096          /* Text Response PDUs per exchange */
#define ST_ERR_MAX 192
#define ST_SKIP_NOTES 8             /* skipped entries described; more are only counted */
#define ST_SKIP_NOTE_MAX 256

/* Portals are the struct portal of names.h; tpgt is -1 when the target
 * left the tag out, which Appendix C does not allow but is tolerated. */
struct st_target {
	char name[NAME_MAX_LEN + 1];
	struct portal *portals;
	size_t n_portals;               /* 0: same portal as the discovery session */
	bool bad_addr;                  /* a TargetAddress of it was skipped */
};

struct st_result {
	struct st_target *targets;
	size_t n;
	size_t n_skipped;               /* invalid entries left out */
	/* The first ST_SKIP_NOTES of them, e.g. 'TargetName "x": why', in
	 * words safe to print (peer bytes escaped by name_escape()). */
	char skipped[ST_SKIP_NOTES][ST_SKIP_NOTE_MAX];
};

void st_result_init(struct st_result *r);
void st_result_free(struct st_result *r);   /* NULL is a no-op; r reusable */
/* Counts an entry left out of r and, among the first ST_SKIP_NOTES,
 * describes it (the text must be safe to print: name_escape()). */
__attribute__((format(printf, 2, 3)))
void st_result_skip(struct st_result *r, const char *fmt, ...);

/* Parses an assembled response segment. Returns 0 and *ret (overwritten;
 * free with st_result_free()), with invalid entries skipped and noted in
 * ret->skipped, or -EPROTO (bad text syntax, TargetAddress before any
 * TargetName, entries none of which is valid), -E2BIG (over the ST_MAX_*
 * limits), -ENOMEM; err (may be NULL) then says why in words safe to
 * print (never raw peer bytes). A target named twice has its portals
 * merged; a portal listed twice for a target is kept once. A target all
 * of whose TargetAddresses are invalid is skipped (it did not say it is
 * reachable through the discovery portal). */
int sendtargets_parse(const uint8_t *data, size_t len, struct st_result *ret,
		      char *err, size_t errlen);

/* Gives every target with no portal a copy of *discovery (keeping the
 * tpgt -1 unless *discovery has one). 0 or -ENOMEM. */
int sendtargets_apply_default_portal(struct st_result *r, const struct portal *discovery);

/* Text Request data "SendTargets=<what>\0". what NULL means "All" (the
 * only value allowed in a discovery session, §13.3); otherwise an iSCSI
 * name (validated) or "" for the current target in a normal session.
 * Returns 0 and *ret_len, -EINVAL, or -ENOBUFS when cap is too small. */
int sendtargets_build_request(const char *what, uint8_t *buf, size_t cap, size_t *ret_len);

/* The discovery Text exchange. The caller owns the transport: it sends
 * each request PDU st_exchange_start()/st_exchange_step() fill in (whose
 * data pointer refers into the st_exchange, valid until the next call),
 * and feeds every Text Response or Reject PDU it receives to
 * st_exchange_step(). NOP-In and Async Message PDUs are the caller's to
 * handle. After ST_STEP_DONE, ex->cmdsn and ex->exp_statsn are the values
 * for the next request (e.g. the Logout). */
enum st_step {
	ST_STEP_SEND = 1,     /* *ret_req is the next Text Request to send */
	ST_STEP_DONE = 2,     /* *ret_result holds the targets */
	ST_STEP_IGNORED = 3,  /* a Reject for some other PDU; nothing to do */
};

/* A SendTargets answer parsed as it arrives (sendtargets.c). */
struct st_name_slot;
struct st_parse {
	struct st_result r;
	struct st_name_slot *slot;  /* the name index */
	size_t slot_cap;
	size_t cap;                 /* room in r.targets */
	size_t total;               /* portals so far */
	size_t cur;                 /* target of the last TargetName, ST_CUR_NONE, ST_CUR_SKIP */
	size_t done;                /* bytes of the text parsed */
	size_t last_addr, last_len; /* the last TargetAddress parsed (offset, length; 0: none) */
	struct portal last_p;
	char first_bad[ST_ERR_MAX]; /* why the first skipped entry was */
};
#define ST_CUR_NONE SIZE_MAX        /* no TargetName yet */
#define ST_CUR_SKIP (SIZE_MAX - 1)  /* the last TargetName was invalid */

struct st_exchange {
	uint32_t itt;
	uint32_t cmdsn;       /* CmdSN of the next request */
	uint32_t exp_statsn;  /* StatSN + 1 of the last response */
	uint32_t exp_cmdsn;   /* from the last response */
	uint32_t max_cmdsn;   /* from the last response */
	unsigned rounds;
	bool active;          /* a request is outstanding */
	struct text_asm data;
	uint8_t req[16 + NAME_MAX_LEN + 1];
	size_t req_len;
	char err[ST_ERR_MAX];
	struct st_parse ps;   /* what st_exchange_digest() parsed */
	bool ps_off;          /* a digest failed: the last step parses it all */
};

/* Fills *ret_req with the first Text Request ("SendTargets=All", F=1,
 * TTT 0xffffffff). itt: the task tag the caller chose; cmdsn and
 * exp_statsn: from the login that opened the discovery session
 * (exp_cmdsn/max_cmdsn as the last Login Response gave them). ex is
 * initialised here: st_exchange_free() a used one before starting again. */
int st_exchange_start(struct st_exchange *ex, uint32_t itt, uint32_t cmdsn,
		      uint32_t exp_statsn, uint32_t exp_cmdsn, uint32_t max_cmdsn,
		      struct pdu *ret_req);

/* Feeds one received PDU. Returns ST_STEP_SEND (empty Text Request with
 * the TTT echoed, F=1, to fetch more: RFC 7143 §11.10.4, §11.11.4),
 * ST_STEP_DONE (*ret_result filled, overwritten; free with
 * st_result_free()), ST_STEP_IGNORED, or a negative errno: -EPROTO for a
 * protocol error or a Reject, -E2BIG over limits, -ENOMEM, -EINVAL when
 * called with no exchange running. After an error, st_exchange_error()
 * says why; the exchange is over. */
int st_exchange_step(struct st_exchange *ex, const struct pdu *rsp,
		     struct pdu *ret_req, struct st_result *ret_result);

/* Optional, after sending the request ST_STEP_SEND gave: parses the
 * pairs received whole so far, work done while the next Text Response
 * is on its way instead of after the last. The result and every error
 * are the same with or without it (a failure here leaves it all to the
 * last step, which then parses the whole text). */
void st_exchange_digest(struct st_exchange *ex);

const char *st_exchange_error(const struct st_exchange *ex);
void st_exchange_free(struct st_exchange *ex);   /* NULL is a no-op */

#endif
