/* The login engine (RFC 7143 §6, §11.12, §11.13, §12): a pure step
 * function. It never touches a socket: the caller sends the PDU each call
 * returns and feeds back every Login Response it receives.
 *
 *   struct login *l = login_new(&cfg);
 *   login_start(l, &out);                 // out.kind == LOGIN_SEND
 *   while (out.kind == LOGIN_SEND) {
 *           send(out.pdu, out.pdu_len);
 *           receive one PDU -> buf, len;
 *           login_step(l, buf, len, &out);
 *   }
 *   switch (out.kind) { LOGIN_DONE, LOGIN_REDIRECT, LOGIN_FAILED,
 *                       LOGIN_RETRY_MD5 }
 *   login_free(l);
 *
 * Stages: SecurityNegotiation (AuthMethod, CHAP) -> LoginOperational-
 * Negotiation (params.c) -> FullFeaturePhase. We always ask for the
 * operational stage after security (NSG=1) and the full feature phase after
 * it (NSG=3); a target may stay in a stage (T=0) but never jump past the
 * stage we asked for.
 *
 * Authentication (open-iscsi's rule: CHAP whenever credentials are set):
 *   no username/password       AuthMethod=None
 *   username/password          AuthMethod=CHAP,None (a target that
 *                              chooses None does not need to know us)
 *   + username_in/password_in  AuthMethod=CHAP: mutual CHAP, the target
 *                              must prove it knows password_in; None,
 *                              a skipped or wrong CHAP_R, a reflected
 *                              challenge all fail with exit code 24
 * CHAP_A offers the configured list in order (MD5 appended when missing).
 * Some targets mishandle the newer algorithms: they answer CHAP_A=Reject,
 * fail the login (0x0200/0x0201) right after our CHAP_A list, or pick one
 * and verify with another (tgtd answers CHAP_A=7 but computes SHA-1, then
 * fails our SHA-256 CHAP_R with 0x0200/0x0201). If we offered more than
 * MD5, those outcomes are LOGIN_RETRY_MD5: the caller should reconnect
 * and log in again with chap_algs = { CHAP_ALG_MD5 } (renegotiating
 * CHAP_A in band would repeat a key, which §6.2 forbids). A real wrong
 * password then fails the MD5 login too, with exit code 24.
 *
 * Continuation: a response with C=1 is assembled (up to TEXT_MAX_BYTES)
 * and answered with empty requests until the last part arrives; a request
 * text longer than max_send_data goes out in parts with C=1, each answered
 * by an empty response.
 *
 * Failures carry an exit code (errors.h) and a message that never holds a
 * secret. Status classes: 0x0201/0x0202 -> 24, 0x0203 and other initiator
 * errors -> 19, target errors -> 5 (iscsi_err_from_login_status()); our own
 * authentication failures -> 24; protocol violations by the target -> 19.
 */
#ifndef LIBINITIATOR_LOGIN_H
#define LIBINITIATOR_LOGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chap.h"
#include "names.h"
#include "params.h"
#include "pdu.h"

#define LOGIN_MSG_MAX 256
/* Login Responses one login may take before we give up on the target. */
#define LOGIN_MAX_EXCHANGES 64

struct login_config {
	const char *initiator_name;         /* required, a valid iSCSI name */
	const char *initiator_alias;        /* NULL or "" for none */
	const char *target_name;            /* required for Normal, NULL for Discovery */
	enum iscsi_session_type session_type;
	uint8_t isid[6];                    /* see login_isid_make() */
	uint16_t tsih;                      /* 0: new session (leading login);
	                                     * else the session's TSIH (adding or
	                                     * reinstating a connection) */
	uint16_t cid;
	uint32_t itt;                       /* Initiator Task Tag of every login request */
	uint32_t cmdsn;                     /* initial CmdSN; login requests are
	                                     * immediate, so it stays the same */
	uint32_t exp_statsn;                /* ExpStatSN of the first request */
	/* CHAP (one-way when username/password are set, mutual when the
	 * _in pair is set too). Secrets are NUL-terminated strings of
	 * 1..CHAP_SECRET_MAX bytes, as node records hold them. */
	const char *username;
	const char *password;
	const char *username_in;
	const char *password_in;
	const enum chap_alg *chap_algs;     /* preference order; NULL/0: MD5 only */
	size_t n_chap_algs;
	const struct iscsi_params *wishes;  /* NULL: params_init_wishes() */
	uint32_t max_send_data;             /* data bytes per request PDU; 0: 8192 */
	/* Other logins of this initiator still in progress, whose mutual
	 * CHAP challenges a target must not send back to us (reflection,
	 * RFC 7143 §12.1.3). Borrowed: they must outlive this login. */
	const struct login *const *peers;
	size_t n_peers;
};

enum login_kind {
	LOGIN_SEND = 1,       /* send out.pdu, then feed the response to login_step() */
	LOGIN_DONE,           /* full feature phase reached; out.result is valid */
	LOGIN_REDIRECT,       /* status 0x0101/0x0102: log in at out.redirect */
	LOGIN_FAILED,         /* out.exit_code, out.msg */
	LOGIN_RETRY_MD5,      /* as FAILED (same exit code and message), but a
	                       * fresh login offering only CHAP_A=5 may succeed
	                       * (see above) */
};

struct login_result {
	/* Negotiated values, tpgt and target_alias too. After a non-leading
	 * login (cfg.tsih != 0) the session-wide keys were not negotiated and
	 * hold RFC defaults: the session's own values stay in force. */
	struct iscsi_params params;
	uint16_t tsih;                /* the session's TSIH */
	uint32_t cmdsn;               /* CmdSN for the first full feature phase command */
	uint32_t exp_statsn;          /* StatSN of the final response + 1 */
	uint32_t exp_cmdsn;           /* from the final response */
	uint32_t max_cmdsn;
	bool authenticated;           /* CHAP was done (initiator authenticated) */
	bool target_authenticated;    /* mutual CHAP verified the target */
	enum chap_alg chap_alg;       /* when authenticated */
};

struct login_redirect {
	struct portal portal;         /* host, port (3260 when absent), tpgt (-1) */
	bool permanent;               /* 0x0102 (else 0x0101, temporary) */
};

struct login_out {
	enum login_kind kind;
	/* LOGIN_SEND: the whole PDU as it goes on a socket (BHS, data, zero
	 * padding; login has no digests), and the same split for the kernel's
	 * SEND_PDU (BHS = first ISCSI_BHS_LEN bytes of pdu). The buffer belongs
	 * to the login and is valid until the next call. */
	const uint8_t *pdu;
	size_t pdu_len;
	const uint8_t *data;
	size_t data_len;              /* DataSegmentLength, without padding */
	struct login_result result;   /* LOGIN_DONE */
	struct login_redirect redirect; /* LOGIN_REDIRECT */
	/* The target's Status-Class/Detail when it sent a non-zero status. */
	uint8_t status_class;
	uint8_t status_detail;
	int exit_code;                /* 0 for SEND/DONE/REDIRECT */
	char msg[LOGIN_MSG_MAX];      /* FAILED/RETRY_MD5: why; REDIRECT: where */
};

struct login;

/* open-iscsi's ISID layout: type 0 (OUI), OUI 00:02:3D, then 24 bits that
 * tell the initiator's sessions apart (open-iscsi: 0 and the 16-bit
 * session number). */
void login_isid_make(uint32_t qualifier, uint8_t ret_isid[6]);

/* Checks a configuration: names valid, Discovery without and Normal with
 * a TargetName, CHAP credentials complete and within limits, mutual CHAP
 * only with one-way CHAP and never with the same secret both ways
 * (RFC 7143 §12.1.3), algorithms valid, wishes valid. 0 or -EINVAL with a
 * reason in err (may be NULL; never quotes a secret). */
int login_config_check(const struct login_config *cfg, char *err, size_t errlen);

/* Copies what it needs from cfg (secrets included; wiped on free).
 * NULL with errno EINVAL (login_config_check() fails) or ENOMEM. */
struct login *login_new(const struct login_config *cfg);

/* The first Login Request. 0, or -EINVAL when called twice, -ENOMEM. */
int login_start(struct login *l, struct login_out *out);

/* Feed one received PDU (buf holds exactly one PDU: BHS, data, padding).
 * Returns 0 with out filled; -EINVAL when called before login_start() or
 * after the login ended; -ENOMEM (out then says LOGIN_FAILED too). Any
 * misbehaviour of the target ends in LOGIN_FAILED, never in a crash. */
int login_step(struct login *l, const uint8_t *buf, size_t len, struct login_out *out);

/* The same for a PDU whose BHS and data come separately (the kernel's
 * RECV_PDU event): data_len is DataSegmentLength, padding optional. */
int login_step_split(struct login *l, const uint8_t bhs[ISCSI_BHS_LEN], const uint8_t *data,
		     size_t data_len, struct login_out *out);

/* Wipes secrets and frees; NULL is a no-op. */
void login_free(struct login *l);

/* True when chal is the mutual CHAP challenge l sent (or is about to
 * send), for the reflection check across logins. */
bool login_challenge_is_ours(const struct login *l, const uint8_t *chal, size_t len);

/* A Logout Request (RFC 7143 §11.14), immediate, F=1, e.g. reason
 * ISCSI_LOGOUT_CLOSE_SESSION to end a discovery session. cid is used for
 * the connection reasons only. 48 bytes into buf; 0, -ENOBUFS, -EINVAL. */
int login_build_logout(uint32_t itt, uint16_t cid, uint32_t cmdsn, uint32_t exp_statsn,
		       enum iscsi_logout_reason reason, uint8_t *buf, size_t cap, size_t *ret_len);

/* Checks a Logout Response to that request: opcode, ITT. 0 and
 * *ret_response (enum iscsi_logout_response), or -EPROTO. */
int login_parse_logout_response(const uint8_t *buf, size_t len, uint32_t itt, uint8_t *ret_response);

#endif
