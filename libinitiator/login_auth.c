/* The security stage of a login: AuthMethod and CHAP (RFC 7143 §12.1.3,
 * RFC 1994). The keys arrive as one complete text per response; this
 * file decides what the next request says and when authentication is
 * complete. Messages never quote a secret. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "login_int.h"

/* The AuthMethod list we offer. With mutual CHAP the target must
 * authenticate itself, so None is not offered: a target choosing it would
 * leave us talking to someone we cannot verify. */
static const char *auth_offer(const struct login *l)
{
	if (!l->offer_chap)
		return "None";
	return l->mutual ? "CHAP" : "CHAP,None";
}

int login_auth_first(struct login *l, struct text_list *out)
{
	l->auth = AUTH_METHOD_SENT;
	return text_list_add(out, "AuthMethod", auth_offer(l));
}

bool login_auth_ready(const struct login *l)
{
	/* We may leave the security stage when nothing is left to do on our
	 * side: no CHAP offered, CHAP_R sent (the target's acceptance is the
	 * transition, §12.1.3), or done. While AuthMethod=CHAP,None or the
	 * CHAP_A list is pending, T=0 keeps the target from transiting
	 * before CHAP has run. */
	switch (l->auth) {
	case AUTH_METHOD_SENT:
		return !l->offer_chap;
	case AUTH_CHAP_A_SENT:
		return false;
	case AUTH_CHAP_R_SENT:
	case AUTH_DONE:
		return true;
	}
	return false;
}

/* Security keys the target may send at this step; others are refused. */
static int check_unexpected(struct login *l, const struct text_list *in, const char *const *allowed,
			    size_t n_allowed)
{
	for (size_t i = 0; i < in->n; i++) {
		const char *k = in->kv[i].key;
		bool ok = false;

		if (!params_key_is_security(k))
			continue;
		for (size_t j = 0; j < n_allowed; j++)
			if (strcmp(k, allowed[j]) == 0)
				ok = true;
		if (!ok)
			return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target sent %s out of turn in the security stage", k);
	}
	return 0;
}

static int receive_method(struct login *l, const struct text_list *in, bool transit)
{
	static const char *const allowed[] = { "AuthMethod" };
	const char *am = text_find(in, "AuthMethod");
	int r = check_unexpected(l, in, allowed, 1);

	if (r < 0)
		return r;
	if (!am) {
		/* No choice yet. Without CHAP we simply ask again (or the
		 * target transits, which login_auth_check_transit() judges). */
		if (!l->offer_chap || transit)
			return 0;
		return login_fail(l, ISCSI_ERR_FATAL_LOGIN, "target did not answer AuthMethod=%s", auth_offer(l));
	}
	if (strcmp(am, "None") == 0) {
		if (l->mutual)
			return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED,
					  "target chose AuthMethod=None, but mutual CHAP is configured: "
					  "the target cannot be authenticated");
		l->auth = AUTH_DONE;
		return 0;
	}
	if (strcmp(am, "CHAP") == 0) {
		char list[CHAP_ALG_LIST_BUF];

		if (!l->offer_chap)
			return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED,
					  "target requires CHAP authentication, but no CHAP credentials are configured");
		if (transit)
			return login_fail(l, ISCSI_ERR_FATAL_LOGIN,
					  "target chose AuthMethod=CHAP and ended the security stage at once");
		r = chap_alg_list_format(l->algs, l->n_algs, list, sizeof(list));
		if (r < 0)
			return login_fail(l, ISCSI_ERR_INTERNAL, "cannot format the CHAP_A list");
		r = text_list_add(&l->auth_out, "CHAP_A", list);
		if (r < 0)
			return r;
		l->chap_chosen = true;
		l->auth = AUTH_CHAP_A_SENT;
		return 0;
	}
	if (strcmp(am, "Reject") == 0)
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "target rejected AuthMethod=%s", auth_offer(l));
	/* §6.2.1: choosing a value that was not offered is a protocol error. */
	return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "target chose AuthMethod=%.32s, which we did not offer", am);
}

static bool offered_only_md5(const struct login *l)
{
	return l->n_algs == 1 && l->algs[0] == CHAP_ALG_MD5;
}

static int receive_challenge(struct login *l, const struct text_list *in)
{
	static const char *const allowed[] = { "CHAP_A", "CHAP_I", "CHAP_C" };
	const char *a = text_find(in, "CHAP_A"), *i = text_find(in, "CHAP_I"), *c = text_find(in, "CHAP_C");
	uint8_t chal[CHAP_MAX_BIN], digest[CHAP_DIGEST_MAX];
	char hex[CHAP_HEX_BUF];
	size_t chal_len = 0, dlen = 0;
	uint64_t id;
	int r = check_unexpected(l, in, allowed, 3);

	if (r < 0)
		return r;
	if (!a)
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "target did not answer CHAP_A");
	if (strcmp(a, "Reject") == 0) {
		if (!offered_only_md5(l)) {
			l->fail_retry_md5 = true;
			return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED,
					  "target rejected our CHAP_A list; retry offering only MD5 (CHAP_A=5)");
		}
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "target rejected CHAP_A=5 (MD5)");
	}
	r = chap_alg_pick(a, l->algs, l->n_algs, &l->alg);
	if (r == -EPROTO)
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "target offered CHAP_A=%.32s which we did not propose", a);
	if (r < 0)
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "target answered CHAP_A=%.32s, not one algorithm number", a);
	if (!i || !c)
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "target chose CHAP_A=%u but sent no %s",
				  (unsigned)l->alg, !i ? "CHAP_I" : "CHAP_C");
	if (params_parse_number(i, &id) < 0 || id > 255)
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "target sent CHAP_I=%.32s, not a number in 0..255", i);
	r = chap_decode(c, chal, sizeof(chal), &chal_len);
	if (r < 0 || chal_len == 0)
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "target sent a malformed CHAP_C (%s)",
				  r == -E2BIG ? "longer than 1024 bytes" : "not a hex or base64 constant");

	if (l->mutual) {
		l->verifier = chap_verifier_new(l->alg, (const uint8_t *)l->password_in, strlen(l->password_in));
		if (!l->verifier) {
			if (errno == ENOMEM)
				return -ENOMEM;
			return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "cannot create a CHAP challenge with %s%s",
					  chap_alg_name(l->alg),
					  errno == ELIBACC ? ": " CHAP_LIBCRYPTO " cannot be loaded" : "");
		}
		/* §12.1.3: a target that sends back a challenge we issued is
		 * trying to obtain our answer to it; refuse (this login's own
		 * challenge and those of our other logins in progress). */
		if (login_challenge_is_ours(l, chal, chal_len))
			goto reflected;
		for (size_t p = 0; p < l->n_peers; p++)
			if (l->peers[p] && login_challenge_is_ours(l->peers[p], chal, chal_len))
				goto reflected;
	}

	r = chap_response(l->alg, (uint8_t)id, (const uint8_t *)l->password, strlen(l->password), chal, chal_len,
			  digest, sizeof(digest), &dlen);
	if (r < 0)
		goto response_failed;
	if ((r = text_list_add(&l->auth_out, "CHAP_N", l->username)) < 0)
		goto out;
	if ((r = chap_encode_hex(digest, dlen, hex, sizeof(hex))) < 0)
		goto out;
	if ((r = text_list_add(&l->auth_out, "CHAP_R", hex)) < 0)
		goto out;
	if (l->mutual) {
		const uint8_t *ours;
		size_t ours_len;
		uint8_t our_id;
		char idbuf[4];

		chap_verifier_get_challenge(l->verifier, &our_id, &ours, &ours_len);
		snprintf(idbuf, sizeof(idbuf), "%u", our_id);
		if ((r = text_list_add(&l->auth_out, "CHAP_I", idbuf)) < 0)
			goto out;
		if ((r = chap_encode_hex(ours, ours_len, hex, sizeof(hex))) < 0)
			goto out;
		r = text_list_add(&l->auth_out, "CHAP_C", hex);
	}
out:
	chap_wipe(digest, sizeof(digest));
	chap_wipe(hex, sizeof(hex));
	if (r < 0)
		return r == -ENOMEM ? r : login_fail(l, ISCSI_ERR_INTERNAL, "cannot build the CHAP response");
	l->auth = AUTH_CHAP_R_SENT;
	return 0;

reflected:
	return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED,
			  "target sent one of our own CHAP challenges back (reflection attack); refusing");
response_failed:
	chap_wipe(digest, sizeof(digest));
	return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "cannot compute the CHAP response with %s%s",
			  chap_alg_name(l->alg) ? chap_alg_name(l->alg) : "?",
			  r == -EOPNOTSUPP ? ": not available in the crypto library" :
			  r == -ELIBACC ? ": " CHAP_LIBCRYPTO " cannot be loaded" : "");
}

static int receive_verdict(struct login *l, const struct text_list *in)
{
	static const char *const allowed[] = { "CHAP_N", "CHAP_R" };
	const char *n = text_find(in, "CHAP_N"), *rv = text_find(in, "CHAP_R");
	uint8_t resp[CHAP_MAX_BIN];
	size_t len = 0;
	int r = check_unexpected(l, in, allowed, 2);

	if (r < 0)
		return r;
	/* A success status to our CHAP_R means the target accepted us. */
	l->initiator_authenticated = true;
	if (!l->mutual) {
		if (n || rv)
			return login_fail(l, ISCSI_ERR_FATAL_LOGIN,
					  "target sent %s although we did not challenge it", n ? "CHAP_N" : "CHAP_R");
		l->auth = AUTH_DONE;
		return 0;
	}
	if (!n || !rv)
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED,
				  "target did not authenticate itself (no %s): mutual CHAP is configured",
				  !n ? "CHAP_N" : "CHAP_R");
	if (strcmp(n, l->username_in) != 0)
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED,
				  "target authenticated as CHAP_N=%.64s, expected %.64s", n, l->username_in);
	r = chap_decode(rv, resp, sizeof(resp), &len);
	if (r < 0)
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED, "target sent a malformed CHAP_R");
	if (chap_verifier_check(l->verifier, resp, len) < 0)
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED,
				  "target failed mutual CHAP authentication (wrong CHAP_R)");
	l->target_verified = true;
	l->auth = AUTH_DONE;
	return 0;
}

int login_auth_receive(struct login *l, const struct text_list *in, bool transit)
{
	switch (l->auth) {
	case AUTH_METHOD_SENT:
		return receive_method(l, in, transit);
	case AUTH_CHAP_A_SENT:
		return receive_challenge(l, in);
	case AUTH_CHAP_R_SENT:
		return receive_verdict(l, in);
	case AUTH_DONE:
		return check_unexpected(l, in, NULL, 0);
	}
	return 0;
}

int login_auth_check_transit(struct login *l)
{
	switch (l->auth) {
	case AUTH_DONE:
		return 0;
	case AUTH_METHOD_SENT:
		/* The target moved on without choosing: no authentication. */
		if (l->mutual)
			return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED,
					  "target ended the security stage without authenticating itself, "
					  "but mutual CHAP is configured");
		l->auth = AUTH_DONE;
		return 0;
	default:
		return login_fail(l, ISCSI_ERR_LOGIN_AUTH_FAILED,
				  "target ended the security stage before CHAP authentication finished");
	}
}

bool login_challenge_is_ours(const struct login *l, const uint8_t *chal, size_t len)
{
	return l && l->verifier && chap_is_reflection(l->verifier, chal, len);
}
