/* CHAP for iSCSI login (RFC 1994, RFC 7143 §12.1.3).
 *
 * Two roles, both pure (no sockets, no logging; the one global is the
 * table of libcrypto entry points, filled once, see chap.c):
 *  - answering: the target challenges us; chap_response() computes
 *    R = H(I || secret || C) for CHAP_R.
 *  - verifying (mutual CHAP): we challenge the target with a
 *    struct chap_verifier and check its CHAP_R once.
 * Plus the binary-value codec for CHAP_C/CHAP_R (RFC 7143 §6.1: "0x" hex,
 * "0b" base64) and the CHAP_A algorithm list.
 *
 * Algorithm numbers are IANA's "PPP Authentication Algorithms": 5 MD5
 * (RFC 1994, the one RFC 7143 requires), 6 SHA-1, 7 SHA-256, 8 SHA3-256
 * (the numbers the Linux LIO target and open-iscsi use for CHAP_A).
 * Every digest goes through OpenSSL EVP, from libcrypto.so.3 opened on
 * first use (not linked: see chap.c).
 *
 * Errors are negative errno values:
 *   -EINVAL      bad argument or bad syntax
 *   -E2BIG       result does not fit the caller's buffer / over a limit
 *   -EPROTO      chap_alg_pick(): a well-formed algorithm we did not offer
 *   -EACCES      chap_verifier_check(): wrong response (or reused verifier)
 *   -EOPNOTSUPP  the crypto library cannot provide the digest (e.g. MD5
 *                under a FIPS-only provider)
 *   -ELIBACC     the crypto library (CHAP_LIBCRYPTO) cannot be opened
 *   -ENOMEM, -EIO  crypto library failures
 * Outputs named ret_* are untouched on failure. */
#ifndef LIBINITIATOR_CHAP_H
#define LIBINITIATOR_CHAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The library opened on first use: OpenSSL 3's libcrypto, by soname. */
#define CHAP_LIBCRYPTO "libcrypto.so.3"

enum chap_alg {
	CHAP_ALG_MD5 = 5,
	CHAP_ALG_SHA1 = 6,
	CHAP_ALG_SHA256 = 7,
	CHAP_ALG_SHA3_256 = 8,
};

/* CHAP_C and CHAP_R are at most 1024 binary bytes (RFC 7143 §12.1.3). */
#define CHAP_MAX_BIN 1024
/* Longest secret we accept (open-iscsi's limit is 256 too). */
#define CHAP_SECRET_MAX 256
/* Distinct algorithms: 5..8. */
#define CHAP_MAX_ALGS 4
/* Largest digest of any algorithm above (SHA-256, SHA3-256). */
#define CHAP_DIGEST_MAX 32
/* Length of the challenges our verifier issues: at least every digest
 * length, as RFC 7143 §12.1.3 advises for unpredictability. */
#define CHAP_CHALLENGE_LEN 32
/* Buffer for chap_encode_hex() of CHAP_MAX_BIN bytes: "0x", 2 digits a
 * byte, NUL. */
#define CHAP_HEX_BUF (2 + 2 * CHAP_MAX_BIN + 1)
/* Buffer for chap_encode_b64() of CHAP_MAX_BIN bytes. */
#define CHAP_B64_BUF (2 + 4 * ((CHAP_MAX_BIN + 2) / 3) + 1)
/* Buffer for chap_alg_list_format() of a full list: "5,6,7,8". */
#define CHAP_ALG_LIST_BUF 16

/* True for 5..8. */
bool chap_alg_valid(long n);
/* 16, 20, 32, 32; 0 for an invalid value. */
size_t chap_digest_len(enum chap_alg alg);
/* "MD5", "SHA1", "SHA256", "SHA3-256" (open-iscsi's chap_algs names);
 * NULL for an invalid value. */
const char *chap_alg_name(enum chap_alg alg);

/* Parse a configured list like "SHA256,SHA1,MD5" (names case-insensitive,
 * also "SHA-1", "SHA-256", or numbers 5..8; blanks around items allowed).
 * Keeps order, drops duplicates, and appends MD5 when missing because
 * RFC 7143 §12.1.3 makes MD5 mandatory to implement. NULL or "" gives
 * just MD5. ret_algs must hold CHAP_MAX_ALGS entries. -EINVAL for an
 * unknown name or an empty item. */
int chap_alg_list_parse(const char *s, enum chap_alg *ret_algs, size_t *ret_n);

/* Format the CHAP_A value we offer: "7,6,5". -EINVAL for n == 0,
 * n > CHAP_MAX_ALGS or an invalid entry; -E2BIG if buf (incl. NUL) is too
 * small, buf untouched then. */
int chap_alg_list_format(const enum chap_alg *algs, size_t n, char *buf, size_t cap);

/* The target's CHAP_A answer: exactly one number (decimal, or a 0x hex
 * constant) that is in our offer. "Reject", lists, garbage -> -EINVAL;
 * a valid number not offered -> -EPROTO. */
int chap_alg_pick(const char *value, const enum chap_alg *offered, size_t n, enum chap_alg *ret);

/* Decode a binary-value (RFC 7143 §6.1): "0x"/"0X" followed by one or
 * more hex digits (an odd count means an implied leading zero nibble:
 * "0xabc" is 0a bc), or "0b"/"0B" followed by base64 (RFC 4648, padding
 * optional but correct if present, unused bits zero). -EINVAL for bad
 * syntax (checked first), -E2BIG if the value is longer than cap.
 * buf is only written on success. */
int chap_decode(const char *text, uint8_t *buf, size_t cap, size_t *ret_len);
/* "0x" + lowercase hex + NUL. len must be > 0 (an empty binary-value has
 * no encoding); -E2BIG if cap is too small. */
int chap_encode_hex(const uint8_t *bin, size_t len, char *buf, size_t cap);
/* "0b" + padded base64 + NUL. Same rules as chap_encode_hex(). */
int chap_encode_b64(const uint8_t *bin, size_t len, char *buf, size_t cap);

/* Answering side: R = H(id || secret || challenge) (RFC 1994 §4.1).
 * secret: 1..CHAP_SECRET_MAX bytes; challenge: 1..CHAP_MAX_BIN bytes
 * (targets send 16-byte MD5 challenges; we accept what they send but not
 * nothing). cap must be >= chap_digest_len(alg). */
int chap_response(enum chap_alg alg, uint8_t id, const uint8_t *secret, size_t secret_len,
		  const uint8_t *challenge, size_t challenge_len,
		  uint8_t *ret_digest, size_t cap, size_t *ret_len);

/* Verifying side (mutual CHAP: we challenge the target). */
struct chap_verifier;
/* Copies the secret (1..CHAP_SECRET_MAX bytes); draws the identifier and a
 * CHAP_CHALLENGE_LEN-byte challenge from RAND_bytes. NULL with errno set
 * (EINVAL, ENOMEM, EIO) on failure. */
struct chap_verifier *chap_verifier_new(enum chap_alg alg, const uint8_t *secret, size_t secret_len);
/* The CHAP_I and CHAP_C to send. *ret_chal points into v. */
void chap_verifier_get_challenge(const struct chap_verifier *v, uint8_t *ret_id, const uint8_t **ret_chal,
				 size_t *ret_len);
/* Check the target's CHAP_R: 0 on a match, -EACCES on a mismatch or a
 * wrong length; constant-time compare. Single use: every later call
 * fails with -EACCES, so a peer cannot retry against one challenge. */
int chap_verifier_check(struct chap_verifier *v, const uint8_t *resp, size_t len);
/* Wipes the secret; NULL is a no-op. */
void chap_verifier_free(struct chap_verifier *v);

/* Reflection defence (RFC 7143 §12.1.3): true when target_chal equals the
 * challenge v issued. Call it with the target's CHAP_C against every
 * verifier this initiator has outstanding (it also covers the originator
 * rule: the challenge we send must not be the one the target sent us), and
 * refuse the login when it is true. */
bool chap_is_reflection(const struct chap_verifier *v, const uint8_t *target_chal, size_t len);

/* The same secret must not serve both directions (RFC 7143 §12.1.3).
 * Compares in time that depends only on the lengths, not the contents. */
bool chap_secrets_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Wipe memory that held a secret or a response (OPENSSL_cleanse, which the
 * compiler cannot optimise away). NULL or 0 is a no-op. */
void chap_wipe(void *p, size_t len);

#endif
