/* What a target's Async Message (RFC 7143 §11.9) or Logout Response
 * (§11.15) asks of a session: pure parsing of hostile input, no state,
 * fuzzed on its own (tests/fuzz/fuzz_kasync.c). The PDUs are as the
 * kernel passes them up in RECV_PDU: the 48-byte BHS, then exactly
 * DataSegmentLength bytes (no digests, padding optional). */
#ifndef ISCSID_KASYNC_H
#define ISCSID_KASYNC_H

#include <stddef.h>
#include <stdint.h>

#define KASYNC_T2W_MAX 3600u      /* RFC 7143 §13.15: DefaultTime2Wait range */

enum kasync_action {
	KASYNC_IGNORE = 0,        /* vendor-specific, other SCSI events ... */
	KASYNC_RESCAN,            /* SCSI event, sense 3F/0E REPORTED LUNS DATA HAS CHANGED */
	KASYNC_LOGOUT,            /* the target requests a logout (event 1) */
	KASYNC_DROPPING,          /* the target drops the connection(s) (events 2, 3) */
	KASYNC_RENEGOTIATE,       /* the target requests parameter negotiation (event 4) */
};

struct kasync {
	enum kasync_action action;
	uint8_t event;            /* AsyncEvent */
	unsigned time2wait;       /* s, KASYNC_DROPPING: Parameter2, capped */
};

/* 0, or -EPROTO for something that is not a well-formed Async Message. */
int kasync_parse(const uint8_t *pdu, size_t len, struct kasync *ret);

/* A Logout Response: its response code and Time2Wait (capped). 0 or
 * -EPROTO. */
int kasync_logout_rsp(const uint8_t *pdu, size_t len, uint8_t *ret_response, unsigned *ret_time2wait);

#endif
