/* Internals of the login engine shared by login.c (stages, PDUs,
 * operational negotiation) and login_auth.c (security stage). */
#ifndef LIBINITIATOR_LOGIN_INT_H
#define LIBINITIATOR_LOGIN_INT_H

#include "login.h"
#include "text.h"

/* Where the security stage stands: what we sent last and expect an answer
 * to (RFC 7143 §12.1.3 for the CHAP order). */
enum auth_step {
	AUTH_METHOD_SENT = 0, /* AuthMethod offered; expect AuthMethod */
	AUTH_CHAP_A_SENT,     /* CHAP_A list sent; expect CHAP_A, CHAP_I, CHAP_C */
	AUTH_CHAP_R_SENT,     /* CHAP_N/CHAP_R sent; expect acceptance (and the
	                       * target's CHAP_N/CHAP_R for mutual CHAP) */
	AUTH_DONE,
};

struct login {
	/* Configuration (copied). */
	char *initiator_name;
	char *initiator_alias;
	char *target_name;
	enum iscsi_session_type type;
	uint8_t isid[6];
	uint16_t tsih;
	uint16_t cid;
	uint32_t itt;
	uint32_t cmdsn;
	uint32_t exp_statsn;
	char *username;
	char *password;
	char *username_in;
	char *password_in;
	enum chap_alg algs[CHAP_MAX_ALGS];
	size_t n_algs;
	uint32_t max_send;
	bool offer_chap;      /* credentials configured */
	bool mutual;          /* ... both ways */
	const struct login *const *peers;
	size_t n_peers;

	struct params_nego *nego;

	/* Progress. */
	bool started;
	bool ended;
	unsigned stage;       /* CSG of our requests */
	bool ops_offered;     /* operational keys sent */
	unsigned exchanges;   /* responses received */
	bool have_version;
	uint8_t version_max;

	/* The logical request in flight and the part of it sent so far. */
	bool req_transit;
	unsigned req_nsg;
	uint8_t *txt;
	size_t txt_len;
	size_t txt_off;
	bool sent_continue;   /* the last PDU had C=1 */
	bool sent_transit;    /* the last PDU had T=1 */

	/* Response text assembled across C=1 parts. */
	struct text_asm rsp;

	/* Security stage. */
	enum auth_step auth;
	bool chap_chosen;
	bool initiator_authenticated;
	bool target_verified;
	enum chap_alg alg;
	struct chap_verifier *verifier;
	struct text_list auth_out;   /* security keys for the next request */

	/* The outcome being built when a step fails. */
	int fail_code;
	uint8_t fail_status_class;   /* the target's non-zero status, if any */
	uint8_t fail_status_detail;
	bool fail_retry_md5;
	char fail_msg[LOGIN_MSG_MAX];

	uint8_t pdubuf[ISCSI_BHS_LEN + ISCSI_LOGIN_MAX_DSL + 4];
};

/* Records why the login fails (first call wins) and returns -EPROTO. */
int login_fail(struct login *l, int exit_code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The security keys of the first request (AuthMethod). */
int login_auth_first(struct login *l, struct text_list *out);
/* Processes the security keys of one complete response in the security
 * stage; fills l->auth_out with what the next request must carry. */
int login_auth_receive(struct login *l, const struct text_list *in, bool transit);
/* Called when the target leaves the security stage: fails unless the
 * authentication we require is complete. */
int login_auth_check_transit(struct login *l);
/* T bit of the next security stage request. */
bool login_auth_ready(const struct login *l);

#endif
