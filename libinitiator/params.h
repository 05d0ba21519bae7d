/* Login key negotiation (RFC 7143 §6.2, §13).
 *
 * One table (params.c) describes every key this initiator understands:
 * its type, range, default, result function, who may send it, whether it
 * is leading-connection-only and whether it matters in a discovery
 * session. struct params_nego walks that table for one login:
 *
 *   params_nego_offer()    the operational keys we propose (once)
 *   params_nego_receive()  the keys of one complete Login Response text
 *                          (after Continue assembly): answers to our
 *                          offers are checked against the result
 *                          function, target proposals are answered,
 *                          declarations recorded
 *   params_nego_answer()   our answers to the target's proposals, to go
 *                          into the next Login Request
 *   params_nego_result()   the negotiated values once the login is done
 *
 * Security keys (AuthMethod, CHAP_*) are in the table so that they are
 * "understood", but login.c negotiates them; params_nego_receive() skips
 * them in the security stage and refuses them in the operational stage.
 *
 * Everything the target sends is checked: an out-of-range answer, a value
 * we did not offer, a renegotiated key or a reserved constant used as a
 * value fails with -EPROTO and a message saying which key and why.
 */
#ifndef LIBINITIATOR_PARAMS_H
#define LIBINITIATOR_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "text.h"

/* HeaderDigest / DataDigest. Negotiated results are NONE or CRC32C only;
 * the two list forms are wishes (the order is our preference). */
enum iscsi_digest {
	ISCSI_DIGEST_NONE = 0,
	ISCSI_DIGEST_CRC32C = 1,
	ISCSI_DIGEST_CRC32C_NONE = 2,
	ISCSI_DIGEST_NONE_CRC32C = 3,
};

enum iscsi_session_type {
	ISCSI_SESSION_NORMAL = 0,
	ISCSI_SESSION_DISCOVERY = 1,
};

/* TaskReporting values (RFC 7143 §13.23). */
enum iscsi_task_reporting {
	ISCSI_TASK_REPORTING_RFC3720 = 0,
	ISCSI_TASK_REPORTING_RESPONSE_FENCE = 1,
	ISCSI_TASK_REPORTING_FAST_ABORT = 2,
};

#define ISCSI_TARGET_ALIAS_MAX 255

/* Operational parameters: as wishes (what we offer, from the node record)
 * or as the negotiated result handed to the kernel. Comments read
 * "RFC default, range, result function". */
struct iscsi_params {
	/* Connection scope. */
	uint8_t header_digest;          /* None, CRC32C|None list, first of the offer */
	uint8_t data_digest;            /* None, CRC32C|None list, first of the offer */
	uint32_t max_recv_dsl;          /* 8192, 512..2^24-1, declared: what we receive */
	uint32_t max_xmit_dsl;          /* 8192, 512..2^24-1, the target's declared
	                                 * MaxRecvDataSegmentLength (as a wish: 0 = take
	                                 * the target's, else min(wish, target's)) */
	/* Session scope, leading connection only. */
	uint32_t max_connections;       /* 1, 1..65535, min() */
	bool initial_r2t;               /* Yes, OR */
	bool immediate_data;            /* Yes, AND */
	uint32_t max_burst_length;      /* 262144, 512..2^24-1, min() */
	uint32_t first_burst_length;    /* 65536, 512..2^24-1, min(), <= MaxBurstLength */
	uint32_t default_time2wait;     /* 2, 0..3600, max() */
	uint32_t default_time2retain;   /* 20, 0..3600, min() */
	uint32_t max_outstanding_r2t;   /* 1, 1..65535, min() */
	bool data_pdu_in_order;         /* Yes, OR */
	bool data_sequence_in_order;    /* Yes, OR */
	uint32_t error_recovery_level;  /* 0, 0..2, min() */
	uint32_t protocol_level;        /* 0, 0..31, min() (RFC 7144 iSCSIProtocolLevel) */
	uint8_t task_reporting;         /* RFC3720, list, first of the offer */
	/* Declared by the target. */
	int32_t tpgt;                   /* -1 until declared; 0..65535 */
	char target_alias[ISCSI_TARGET_ALIAS_MAX + 1];
};

/* The values that hold when nothing is negotiated (RFC 7143 §13). */
void params_init_defaults(struct iscsi_params *p);

/* open-iscsi's node defaults (node.conn[0].iscsi.*, node.session.iscsi.*):
 * MaxRecvDataSegmentLength 262144, MaxXmitDataSegmentLength 0,
 * FirstBurstLength 262144, MaxBurstLength 16776192, ImmediateData Yes,
 * InitialR2T No, digests None, MaxOutstandingR2T 1, DefaultTime2Wait 2,
 * DefaultTime2Retain 0, ErrorRecoveryLevel 0, MaxConnections 1. */
void params_init_wishes(struct iscsi_params *p);

/* Checks wishes before they are offered: every value in its range,
 * FirstBurstLength <= MaxBurstLength, digests 0..3. 0 or -EINVAL with a
 * reason in err (may be NULL). */
int params_validate_wishes(const struct iscsi_params *w, char *err, size_t errlen);

/* "None", "CRC32C", "CRC32C,None", "None,CRC32C" (the node record form,
 * case-insensitive, blanks around items allowed) <-> enum iscsi_digest. */
int params_digest_parse(const char *s, uint8_t *ret);
const char *params_digest_name(uint8_t d);

/* True for AuthMethod and the CHAP_* keys. */
bool params_key_is_security(const char *key);

/* Parses a numerical-value (RFC 7143 §6.1): a decimal-constant or a
 * hex-constant ("0x..."), below 2^64. 0 or -EINVAL. */
int params_parse_number(const char *s, uint64_t *ret);

struct params_nego;

/* A negotiation for one login. wish is copied (validated: NULL with errno
 * EINVAL when params_validate_wishes() fails). leading is false when the
 * login adds a connection to an existing session (TSIH != 0): then the
 * leading-only keys are neither offered nor accepted. */
struct params_nego *params_nego_new(const struct iscsi_params *wish, enum iscsi_session_type type,
				    bool leading);
void params_nego_free(struct params_nego *n);   /* NULL is a no-op */

/* Appends the operational keys we propose that are not yet settled (a key
 * the target already proposed is answered instead). Keys irrelevant to the
 * session type or to a non-leading connection are left out. Each key is
 * offered at most once per login. 0 or a negative errno from text_list_add. */
int params_nego_offer(struct params_nego *n, struct text_list *out);

/* Processes one complete Login Response text received in stage (0
 * security, 1 operational). final is true when that response is the Login
 * Final-Response (T=1, NSG=FullFeaturePhase): a proposal that needs an
 * answer is then a protocol error, since there will be no next request.
 * Returns 0, -EPROTO with a reason in err (the target broke a rule), or
 * -ENOMEM. */
int params_nego_receive(struct params_nego *n, const struct text_list *in, unsigned stage, bool final,
			char *err, size_t errlen);

/* True when answers are waiting for the next request. */
bool params_nego_pending(const struct params_nego *n);

/* Moves the waiting answers into out (in the order the keys arrived). */
int params_nego_answer(struct params_nego *n, struct text_list *out);

/* The negotiated values. Keys we offered that the target never answered
 * take the value an unanswered offer implies (RFC 7143 §6.2.2: for an
 * OR key offered as Yes or an AND key offered as No the offer is the
 * result) or else the RFC default. 0, or -EPROTO with a reason in err when
 * the outcome is unacceptable (e.g. a digest we require was rejected). */
int params_nego_result(const struct params_nego *n, struct iscsi_params *ret, char *err, size_t errlen);

#endif
