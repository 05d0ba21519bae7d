#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chap.h"

/* Decode a hex string without prefix into bytes (test helper only). */
static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = strlen(s) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		ck_assert_int_eq(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* ---- fixed digest vectors ------------------------------------------------
 * Expected values computed outside this code, with the OpenSSL command line
 * over the bytes id || secret || challenge, and cross-checked with Python's
 * hashlib:
 *   V1: printf '\001secretsecret\000\001\002\003\004\005\006\007\010\011\012\013\014\015\016\017' > v1.bin
 *   V2: printf '\377p@ss w0rd!\312\376\272\276' > v2.bin
 *   V3: { printf '\000x'; head -c 1024 /dev/zero | tr '\000' '\245'; } > v3.bin
 *   openssl dgst -md5|-sha1|-sha256|-sha3-256 -r vN.bin
 */
struct vector {
	enum chap_alg alg;
	uint8_t id;
	const char *secret;
	int chal; /* 1: 00..0f, 2: ca fe ba be, 3: 1024 x a5 */
	const char *digest;
};

static const struct vector vectors[] = {
	{ CHAP_ALG_MD5, 0x01, "secretsecret", 1, "226dc576c33f04ff9c3a200ffe35f442" },
	{ CHAP_ALG_SHA1, 0x01, "secretsecret", 1, "ae35ac1694de2cf7e68e790fbface9a28501fed7" },
	{ CHAP_ALG_SHA256, 0x01, "secretsecret", 1,
	  "024aef34e176668b34ec2bf7f5525e3bf7f0e94d7cec77cb07d08c3d5a8e23ca" },
	{ CHAP_ALG_SHA3_256, 0x01, "secretsecret", 1,
	  "e2bd0aba5f885a39aa4fbebccc63203c2f728f034cbaf009b44c2f0c5544f172" },
	{ CHAP_ALG_MD5, 0xff, "p@ss w0rd!", 2, "82aeb20f2d4c876dac0b24b1f96b241a" },
	{ CHAP_ALG_SHA1, 0xff, "p@ss w0rd!", 2, "04bfbf7b882ffba8d34b2564a782dd74050887b5" },
	{ CHAP_ALG_SHA256, 0xff, "p@ss w0rd!", 2,
	  "e84a190352ec17b973c77eeb0518ba17c99fd3e606107526ef65d13ef750d054" },
	{ CHAP_ALG_SHA3_256, 0xff, "p@ss w0rd!", 2,
	  "533f6ea1f3a6260c1b2b79fcfe062bbd02a17932966694284e5995151b9a6cd1" },
	{ CHAP_ALG_MD5, 0x00, "x", 3, "2fdcd6be5e18be701ef4a201295fd70d" },
	{ CHAP_ALG_SHA1, 0x00, "x", 3, "fd23093982462e0e008dcace4d18b8a445fc2100" },
	{ CHAP_ALG_SHA256, 0x00, "x", 3, "3cec3a5779bded7e39d82f97e3c355acc9e0f092f836c5a9581290a6f127667a" },
	{ CHAP_ALG_SHA3_256, 0x00, "x", 3,
	  "aeb4821e8ac09f4d65df66da010cad659fe8da0daccebe104072ef513730d661" },
};

static size_t make_challenge(int which, uint8_t *c)
{
	switch (which) {
	case 1:
		for (int i = 0; i < 16; i++)
			c[i] = (uint8_t)i;
		return 16;
	case 2:
		return unhex("cafebabe", c);
	default:
		memset(c, 0xa5, CHAP_MAX_BIN);
		return CHAP_MAX_BIN;
	}
}

START_TEST(test_response_vectors)
{
	const struct vector *v = &vectors[_i];
	uint8_t chal[CHAP_MAX_BIN], want[CHAP_DIGEST_MAX], got[CHAP_DIGEST_MAX];
	size_t clen = make_challenge(v->chal, chal), wlen = unhex(v->digest, want), glen = 0;

	ck_assert_uint_eq(wlen, chap_digest_len(v->alg));
	ck_assert_int_eq(chap_response(v->alg, v->id, (const uint8_t *)v->secret, strlen(v->secret), chal, clen, got,
				       sizeof(got), &glen),
			 0);
	ck_assert_uint_eq(glen, wlen);
	ck_assert_mem_eq(got, want, wlen);
}
END_TEST

/* RFC 1994 §4.1: the hash covers Identifier, secret and challenge, in that
 * order; changing any one changes the response. */
START_TEST(test_response_structure)
{
	const uint8_t sec[] = "secretsecret";
	uint8_t chal[16], base[32], other[32];
	size_t blen, olen;

	make_challenge(1, chal);
	ck_assert_int_eq(chap_response(CHAP_ALG_MD5, 1, sec, 12, chal, 16, base, sizeof(base), &blen), 0);
	ck_assert_int_eq(chap_response(CHAP_ALG_MD5, 2, sec, 12, chal, 16, other, sizeof(other), &olen), 0);
	ck_assert_mem_ne(base, other, 16);
	ck_assert_int_eq(chap_response(CHAP_ALG_MD5, 1, sec, 11, chal, 16, other, sizeof(other), &olen), 0);
	ck_assert_mem_ne(base, other, 16);
	chal[15] ^= 1;
	ck_assert_int_eq(chap_response(CHAP_ALG_MD5, 1, sec, 12, chal, 16, other, sizeof(other), &olen), 0);
	ck_assert_mem_ne(base, other, 16);
}
END_TEST

START_TEST(test_response_rejects)
{
	const uint8_t sec[] = "s";
	uint8_t chal[CHAP_MAX_BIN + 1] = { 0 }, out[32], big[CHAP_SECRET_MAX + 1] = { 0 };
	size_t len = 99;

	ck_assert_int_eq(chap_response(CHAP_ALG_MD5, 0, sec, 1, chal, 0, out, sizeof(out), &len), -EINVAL);
	ck_assert_int_eq(chap_response(CHAP_ALG_MD5, 0, sec, 1, chal, CHAP_MAX_BIN + 1, out, sizeof(out), &len),
			 -EINVAL);
	ck_assert_int_eq(chap_response(CHAP_ALG_MD5, 0, sec, 1, NULL, 16, out, sizeof(out), &len), -EINVAL);
	ck_assert_int_eq(chap_response(CHAP_ALG_MD5, 0, sec, 0, chal, 16, out, sizeof(out), &len), -EINVAL);
	ck_assert_int_eq(chap_response(CHAP_ALG_MD5, 0, big, sizeof(big), chal, 16, out, sizeof(out), &len),
			 -EINVAL);
	ck_assert_int_eq(chap_response((enum chap_alg)4, 0, sec, 1, chal, 16, out, sizeof(out), &len), -EINVAL);
	ck_assert_int_eq(chap_response(CHAP_ALG_SHA256, 0, sec, 1, chal, 16, out, 31, &len), -E2BIG);
	ck_assert_uint_eq(len, 99); /* untouched on failure */
	/* The longest secret and challenge are accepted. */
	ck_assert_int_eq(chap_response(CHAP_ALG_MD5, 0, big, CHAP_SECRET_MAX, chal, CHAP_MAX_BIN, out, 16, &len), 0);
	ck_assert_uint_eq(len, 16);
}
END_TEST

START_TEST(test_alg_table)
{
	ck_assert(!chap_alg_valid(4));
	ck_assert(chap_alg_valid(5));
	ck_assert(chap_alg_valid(8));
	ck_assert(!chap_alg_valid(9));
	ck_assert(!chap_alg_valid(-5));
	ck_assert_uint_eq(chap_digest_len(CHAP_ALG_MD5), 16);
	ck_assert_uint_eq(chap_digest_len(CHAP_ALG_SHA1), 20);
	ck_assert_uint_eq(chap_digest_len(CHAP_ALG_SHA256), 32);
	ck_assert_uint_eq(chap_digest_len(CHAP_ALG_SHA3_256), 32);
	ck_assert_uint_eq(chap_digest_len((enum chap_alg)0), 0);
	ck_assert_str_eq(chap_alg_name(CHAP_ALG_MD5), "MD5");
	ck_assert_str_eq(chap_alg_name(CHAP_ALG_SHA1), "SHA1");
	ck_assert_str_eq(chap_alg_name(CHAP_ALG_SHA256), "SHA256");
	ck_assert_str_eq(chap_alg_name(CHAP_ALG_SHA3_256), "SHA3-256");
	ck_assert_ptr_null(chap_alg_name((enum chap_alg)9));
}
END_TEST

/* ---- binary-value codec ---------------------------------------------- */

static int dec(const char *text, uint8_t *buf, size_t cap, size_t *len)
{
	return chap_decode(text, buf, cap, len);
}

START_TEST(test_decode_hex)
{
	uint8_t b[8];
	size_t len = 0;

	ck_assert_int_eq(dec("0x0102ff", b, sizeof(b), &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_mem_eq(b, "\x01\x02\xff", 3);
	/* Uppercase prefix and digits. */
	ck_assert_int_eq(dec("0XABcd", b, sizeof(b), &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(b, "\xab\xcd", 2);
	/* Odd digit count: implied leading zero (RFC 7143 §6.1 byte-length
	 * (n+1)/2, most significant digit first). */
	ck_assert_int_eq(dec("0xabc", b, sizeof(b), &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert_mem_eq(b, "\x0a\xbc", 2);
	ck_assert_int_eq(dec("0x1", b, sizeof(b), &len), 0);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(b[0], 1);
	/* Leading zeros are bytes. */
	ck_assert_int_eq(dec("0x0000", b, sizeof(b), &len), 0);
	ck_assert_uint_eq(len, 2);
}
END_TEST

START_TEST(test_decode_bad)
{
	static const char *bad[] = {
		"", "0", "0x", "0X", "0b", "0B", "x12", "12", "0y12", "0x12g4", "0x 12", "0x12 ", " 0x12",
		"0x-1", "0b=", "0b==", "0b===", "0bZ", "0bZm9v=", "0bZg=", "0bZg===", "0bZ=g=", "0bZm 9v",
		"0bZm9v!", "0bZh==", "0bZm9=", "0b-_", "00x12",
	};
	uint8_t b[16] = { 0x77 };
	size_t len = 1234;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(dec(bad[i], b, sizeof(b), &len) == -EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert_uint_eq(len, 1234);
		ck_assert_uint_eq(b[0], 0x77);
	}
	ck_assert_int_eq(chap_decode(NULL, b, sizeof(b), &len), -EINVAL);
	ck_assert_int_eq(chap_decode("0x12", b, sizeof(b), NULL), -EINVAL);
}
END_TEST

START_TEST(test_decode_limits)
{
	/* 1024 bytes fit CHAP_MAX_BIN, 1025 do not. */
	char *text = malloc(2 + 2 * (CHAP_MAX_BIN + 1) + 1);
	uint8_t *b = malloc(CHAP_MAX_BIN);
	size_t len = 7;

	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(b);
	memcpy(text, "0x", 2);
	memset(text + 2, 'f', 2 * CHAP_MAX_BIN);
	text[2 + 2 * CHAP_MAX_BIN] = '\0';
	ck_assert_int_eq(chap_decode(text, b, CHAP_MAX_BIN, &len), 0);
	ck_assert_uint_eq(len, CHAP_MAX_BIN);
	ck_assert_uint_eq(b[CHAP_MAX_BIN - 1], 0xff);
	/* One more digit: 1025 bytes (odd count rounds up). */
	text[2 + 2 * CHAP_MAX_BIN] = 'f';
	text[3 + 2 * CHAP_MAX_BIN] = '\0';
	len = 7;
	ck_assert_int_eq(chap_decode(text, b, CHAP_MAX_BIN, &len), -E2BIG);
	ck_assert_uint_eq(len, 7);
	/* Too long and invalid: syntax is reported first. */
	text[2] = 'z';
	ck_assert_int_eq(chap_decode(text, b, CHAP_MAX_BIN, &len), -EINVAL);
	/* Small caller buffers. */
	ck_assert_int_eq(chap_decode("0x010203", b, 2, &len), -E2BIG);
	ck_assert_int_eq(chap_decode("0bAQID", b, 2, &len), -E2BIG);
	ck_assert_int_eq(chap_decode("0bAQID", b, 3, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(chap_decode("0x01", NULL, 0, &len), -E2BIG);
	free(text);
	free(b);
}
END_TEST

/* RFC 4648 §10 test vectors, with and without padding. */
static const struct {
	const char *plain;
	const char *b64;
} rfc4648[] = {
	{ "f", "Zg==" },       { "fo", "Zm8=" },         { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

START_TEST(test_base64_vectors)
{
	char text[32], out[32];
	uint8_t b[16];
	size_t len, plen = strlen(rfc4648[_i].plain);

	snprintf(text, sizeof(text), "0b%s", rfc4648[_i].b64);
	ck_assert_int_eq(chap_decode(text, b, sizeof(b), &len), 0);
	ck_assert_uint_eq(len, plen);
	ck_assert_mem_eq(b, rfc4648[_i].plain, plen);
	/* Uppercase prefix. */
	text[1] = 'B';
	ck_assert_int_eq(chap_decode(text, b, sizeof(b), &len), 0);
	ck_assert_uint_eq(len, plen);
	/* Without the padding. */
	char *eq = strchr(text, '=');
	if (eq) {
		*eq = '\0';
		ck_assert_int_eq(chap_decode(text, b, sizeof(b), &len), 0);
		ck_assert_uint_eq(len, plen);
		ck_assert_mem_eq(b, rfc4648[_i].plain, plen);
	}
	/* Encoding gives the padded form. */
	ck_assert_int_eq(chap_encode_b64((const uint8_t *)rfc4648[_i].plain, plen, out, sizeof(out)), 0);
	snprintf(text, sizeof(text), "0b%s", rfc4648[_i].b64);
	ck_assert_str_eq(out, text);
}
END_TEST

START_TEST(test_encode)
{
	const uint8_t bin[] = { 0x00, 0xab, 0x0f, 0xf0 };
	char buf[16];

	ck_assert_int_eq(chap_encode_hex(bin, 4, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0x00ab0ff0");
	/* Exactly enough room: "0x" + 8 digits + NUL. */
	ck_assert_int_eq(chap_encode_hex(bin, 4, buf, 11), 0);
	memset(buf, 'Q', sizeof(buf));
	ck_assert_int_eq(chap_encode_hex(bin, 4, buf, 10), -E2BIG);
	ck_assert_int_eq(buf[0], 'Q');
	ck_assert_int_eq(chap_encode_hex(bin, 0, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(chap_encode_b64(bin, 0, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(chap_encode_b64(bin, 4, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "0bAKsP8A==");
	ck_assert_int_eq(chap_encode_b64(bin, 4, buf, 11), 0);
	ck_assert_int_eq(chap_encode_b64(bin, 4, buf, 10), -E2BIG);
}
END_TEST

START_TEST(test_round_trip_max)
{
	uint8_t *bin = malloc(CHAP_MAX_BIN), *back = malloc(CHAP_MAX_BIN);
	char *hex = malloc(CHAP_HEX_BUF), *b64 = malloc(CHAP_B64_BUF);
	size_t len;

	for (size_t i = 0; i < CHAP_MAX_BIN; i++)
		bin[i] = (uint8_t)(i * 7 + 3);
	ck_assert_int_eq(chap_encode_hex(bin, CHAP_MAX_BIN, hex, CHAP_HEX_BUF), 0);
	ck_assert_uint_eq(strlen(hex), CHAP_HEX_BUF - 1);
	ck_assert_int_eq(chap_decode(hex, back, CHAP_MAX_BIN, &len), 0);
	ck_assert_uint_eq(len, CHAP_MAX_BIN);
	ck_assert_mem_eq(back, bin, CHAP_MAX_BIN);
	ck_assert_int_eq(chap_encode_b64(bin, CHAP_MAX_BIN, b64, CHAP_B64_BUF), 0);
	ck_assert_uint_eq(strlen(b64), CHAP_B64_BUF - 1);
	ck_assert_int_eq(chap_decode(b64, back, CHAP_MAX_BIN, &len), 0);
	ck_assert_uint_eq(len, CHAP_MAX_BIN);
	ck_assert_mem_eq(back, bin, CHAP_MAX_BIN);
	free(bin);
	free(back);
	free(hex);
	free(b64);
}
END_TEST

/* ---- CHAP_A lists ----------------------------------------------------- */

START_TEST(test_list_parse)
{
	enum chap_alg a[CHAP_MAX_ALGS];
	size_t n = 0;
	char buf[CHAP_ALG_LIST_BUF];

	ck_assert_int_eq(chap_alg_list_parse("SHA256,SHA1,MD5", a, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(a[0], CHAP_ALG_SHA256);
	ck_assert_int_eq(a[1], CHAP_ALG_SHA1);
	ck_assert_int_eq(a[2], CHAP_ALG_MD5);
	ck_assert_int_eq(chap_alg_list_format(a, n, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "7,6,5");

	/* MD5 is appended when missing; names are case-insensitive; blanks
	 * around items are fine; duplicates collapse. */
	ck_assert_int_eq(chap_alg_list_parse(" sha3-256 , Sha-256,SHA3-256", a, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(chap_alg_list_format(a, n, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "8,7,5");

	/* Numbers, mixed with names; MD5 keeps its configured place. */
	ck_assert_int_eq(chap_alg_list_parse("5,8,SHA1,0x07,7", a, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(chap_alg_list_format(a, n, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "5,8,6,7");

	ck_assert_int_eq(chap_alg_list_parse("", a, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(a[0], CHAP_ALG_MD5);
	ck_assert_int_eq(chap_alg_list_parse(NULL, a, &n), 0);
	ck_assert_uint_eq(n, 1);
}
END_TEST

START_TEST(test_list_parse_bad)
{
	static const char *bad[] = { "SHA512", "MD5,", ",MD5", "MD5,,SHA1", "4", "9", "05", "MD 5", " ",
				     "MD5;SHA1", "SHA", "MD55", "0x", "-5", "+5" };
	enum chap_alg a[CHAP_MAX_ALGS] = { CHAP_ALG_SHA1 };
	size_t n = 42;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(chap_alg_list_parse(bad[i], a, &n) == -EINVAL, "accepted \"%s\"", bad[i]);
		ck_assert_uint_eq(n, 42);
		ck_assert_int_eq(a[0], CHAP_ALG_SHA1);
	}
}
END_TEST

START_TEST(test_list_format_bad)
{
	enum chap_alg a[] = { CHAP_ALG_SHA3_256, CHAP_ALG_SHA256, CHAP_ALG_SHA1, CHAP_ALG_MD5, CHAP_ALG_MD5 };
	enum chap_alg bogus[] = { CHAP_ALG_MD5, (enum chap_alg)3 };
	char buf[CHAP_ALG_LIST_BUF];

	ck_assert_int_eq(chap_alg_list_format(a, 4, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "8,7,6,5");
	ck_assert_int_eq(chap_alg_list_format(a, 4, buf, 8), 0);
	ck_assert_int_eq(chap_alg_list_format(a, 4, buf, 7), -E2BIG);
	ck_assert_int_eq(chap_alg_list_format(a, 0, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(chap_alg_list_format(a, 5, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(chap_alg_list_format(bogus, 2, buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(test_pick)
{
	const enum chap_alg offer[] = { CHAP_ALG_SHA256, CHAP_ALG_MD5 };
	enum chap_alg got = CHAP_ALG_SHA1;

	ck_assert_int_eq(chap_alg_pick("7", offer, 2, &got), 0);
	ck_assert_int_eq(got, CHAP_ALG_SHA256);
	ck_assert_int_eq(chap_alg_pick("5", offer, 2, &got), 0);
	ck_assert_int_eq(got, CHAP_ALG_MD5);
	ck_assert_int_eq(chap_alg_pick("0x5", offer, 2, &got), 0);
	ck_assert_int_eq(got, CHAP_ALG_MD5);

	/* A target choosing something we did not offer. */
	got = CHAP_ALG_SHA1;
	ck_assert_int_eq(chap_alg_pick("6", offer, 2, &got), -EPROTO);
	ck_assert_int_eq(chap_alg_pick("8", offer, 2, &got), -EPROTO);
	ck_assert_int_eq(chap_alg_pick("99", offer, 2, &got), -EPROTO);
	ck_assert_int_eq(chap_alg_pick("99999999999999999999999", offer, 2, &got), -EPROTO);
	/* Not a single number. */
	ck_assert_int_eq(chap_alg_pick("Reject", offer, 2, &got), -EINVAL);
	ck_assert_int_eq(chap_alg_pick("NotUnderstood", offer, 2, &got), -EINVAL);
	ck_assert_int_eq(chap_alg_pick("7,5", offer, 2, &got), -EINVAL);
	ck_assert_int_eq(chap_alg_pick("", offer, 2, &got), -EINVAL);
	ck_assert_int_eq(chap_alg_pick(" 5", offer, 2, &got), -EINVAL);
	ck_assert_int_eq(chap_alg_pick("05", offer, 2, &got), -EINVAL);
	ck_assert_int_eq(chap_alg_pick("MD5", offer, 2, &got), -EINVAL);
	ck_assert_int_eq(chap_alg_pick(NULL, offer, 2, &got), -EINVAL);
	ck_assert_int_eq(chap_alg_pick("5", offer, 0, &got), -EINVAL);
	ck_assert_int_eq(got, CHAP_ALG_SHA1);
}
END_TEST

/* ---- verifier ---------------------------------------------------------- */

static struct chap_verifier *answer(enum chap_alg alg, const char *secret, uint8_t *resp, size_t *rlen)
{
	struct chap_verifier *v = chap_verifier_new(alg, (const uint8_t *)secret, strlen(secret));
	const uint8_t *chal;
	size_t clen;
	uint8_t id;

	ck_assert_ptr_nonnull(v);
	chap_verifier_get_challenge(v, &id, &chal, &clen);
	ck_assert_uint_ge(clen, chap_digest_len(alg));
	ck_assert_uint_eq(clen, CHAP_CHALLENGE_LEN);
	/* What the target computes with its copy of the secret. */
	ck_assert_int_eq(chap_response(alg, id, (const uint8_t *)secret, strlen(secret), chal, clen, resp,
				       CHAP_DIGEST_MAX, rlen),
			 0);
	return v;
}

START_TEST(test_verifier_ok)
{
	static const enum chap_alg algs[] = { CHAP_ALG_MD5, CHAP_ALG_SHA1, CHAP_ALG_SHA256, CHAP_ALG_SHA3_256 };
	uint8_t resp[CHAP_DIGEST_MAX];
	size_t rlen;
	struct chap_verifier *v = answer(algs[_i], "target-secret-1", resp, &rlen);

	ck_assert_int_eq(chap_verifier_check(v, resp, rlen), 0);
	/* Single use: the same right answer is refused the second time. */
	ck_assert_int_eq(chap_verifier_check(v, resp, rlen), -EACCES);
	chap_verifier_free(v);
}
END_TEST

START_TEST(test_verifier_wrong)
{
	uint8_t resp[CHAP_DIGEST_MAX];
	size_t rlen;
	struct chap_verifier *v = answer(CHAP_ALG_SHA256, "target-secret-1", resp, &rlen);

	resp[31] ^= 0x80;
	ck_assert_int_eq(chap_verifier_check(v, resp, rlen), -EACCES);
	/* After a failure even the right answer is refused. */
	resp[31] ^= 0x80;
	ck_assert_int_eq(chap_verifier_check(v, resp, rlen), -EACCES);
	chap_verifier_free(v);

	/* A response made with another secret. */
	struct chap_verifier *w = chap_verifier_new(CHAP_ALG_MD5, (const uint8_t *)"right", 5);
	const uint8_t *chal;
	size_t clen;
	uint8_t id;

	ck_assert_ptr_nonnull(w);
	chap_verifier_get_challenge(w, &id, &chal, &clen);
	ck_assert_int_eq(chap_response(CHAP_ALG_MD5, id, (const uint8_t *)"wrong", 5, chal, clen, resp,
				       sizeof(resp), &rlen),
			 0);
	ck_assert_int_eq(chap_verifier_check(w, resp, rlen), -EACCES);
	chap_verifier_free(w);
}
END_TEST

START_TEST(test_verifier_length)
{
	uint8_t resp[CHAP_DIGEST_MAX];
	size_t rlen;
	struct chap_verifier *v = answer(CHAP_ALG_MD5, "s3cr3t", resp, &rlen);

	/* A truncated or padded response never matches. */
	ck_assert_int_eq(chap_verifier_check(v, resp, rlen - 1), -EACCES);
	chap_verifier_free(v);
	v = answer(CHAP_ALG_MD5, "s3cr3t", resp, &rlen);
	ck_assert_int_eq(chap_verifier_check(v, resp, rlen + 1), -EACCES);
	chap_verifier_free(v);
	v = answer(CHAP_ALG_MD5, "s3cr3t", resp, &rlen);
	ck_assert_int_eq(chap_verifier_check(v, NULL, 0), -EACCES);
	chap_verifier_free(v);
}
END_TEST

START_TEST(test_verifier_new_bad)
{
	uint8_t big[CHAP_SECRET_MAX + 1] = { 1 };

	errno = 0;
	ck_assert_ptr_null(chap_verifier_new(CHAP_ALG_MD5, big, 0));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(chap_verifier_new(CHAP_ALG_MD5, big, sizeof(big)));
	ck_assert_ptr_null(chap_verifier_new((enum chap_alg)9, big, 4));
	ck_assert_ptr_null(chap_verifier_new(CHAP_ALG_MD5, NULL, 4));
	struct chap_verifier *v = chap_verifier_new(CHAP_ALG_MD5, big, CHAP_SECRET_MAX);
	ck_assert_ptr_nonnull(v);
	chap_verifier_free(v);
	chap_verifier_free(NULL);
	ck_assert_int_eq(chap_verifier_check(NULL, big, 16), -EINVAL);
}
END_TEST

START_TEST(test_challenges_differ)
{
	/* Fresh verifiers never share a challenge. */
	enum { N = 64 };
	uint8_t seen[N][CHAP_CHALLENGE_LEN];

	for (int i = 0; i < N; i++) {
		struct chap_verifier *v = chap_verifier_new(CHAP_ALG_MD5, (const uint8_t *)"abc", 3);
		const uint8_t *chal;
		size_t clen;

		ck_assert_ptr_nonnull(v);
		chap_verifier_get_challenge(v, NULL, &chal, &clen);
		memcpy(seen[i], chal, clen);
		for (int j = 0; j < i; j++)
			ck_assert_mem_ne(seen[i], seen[j], CHAP_CHALLENGE_LEN);
		chap_verifier_free(v);
	}
}
END_TEST

START_TEST(test_reflection)
{
	struct chap_verifier *v = chap_verifier_new(CHAP_ALG_MD5, (const uint8_t *)"abc", 3);
	const uint8_t *chal;
	uint8_t copy[CHAP_CHALLENGE_LEN];
	size_t clen;

	ck_assert_ptr_nonnull(v);
	chap_verifier_get_challenge(v, NULL, &chal, &clen);
	memcpy(copy, chal, clen);
	/* A target handing our own challenge back is refused... */
	ck_assert(chap_is_reflection(v, copy, clen));
	/* ...a different or shorter one is not a reflection. */
	ck_assert(!chap_is_reflection(v, copy, clen - 1));
	copy[0] ^= 1;
	ck_assert(!chap_is_reflection(v, copy, clen));
	ck_assert(!chap_is_reflection(NULL, copy, clen));
	ck_assert(!chap_is_reflection(v, NULL, clen));
	chap_verifier_free(v);
}
END_TEST

START_TEST(test_secrets_equal)
{
	ck_assert(chap_secrets_equal((const uint8_t *)"secret", 6, (const uint8_t *)"secret", 6));
	ck_assert(!chap_secrets_equal((const uint8_t *)"secret", 6, (const uint8_t *)"secreT", 6));
	ck_assert(!chap_secrets_equal((const uint8_t *)"secret", 6, (const uint8_t *)"secret", 5));
	ck_assert(!chap_secrets_equal((const uint8_t *)"secret", 5, (const uint8_t *)"secret", 6));
	/* Same bytes then zeros is still a different secret. */
	ck_assert(!chap_secrets_equal((const uint8_t *)"ab\0", 3, (const uint8_t *)"ab", 2));
	ck_assert(!chap_secrets_equal(NULL, 3, (const uint8_t *)"abc", 3));
}
END_TEST

START_TEST(test_wipe)
{
	uint8_t b[8];

	memset(b, 0xaa, sizeof(b));
	chap_wipe(b, sizeof(b));
	for (size_t i = 0; i < sizeof(b); i++)
		ck_assert_uint_eq(b[i], 0);
	chap_wipe(NULL, 5);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chap");
	TCase *tc = tcase_create("digest");
	tcase_add_loop_test(tc, test_response_vectors, 0, (int)(sizeof(vectors) / sizeof(vectors[0])));
	tcase_add_test(tc, test_response_structure);
	tcase_add_test(tc, test_response_rejects);
	tcase_add_test(tc, test_alg_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("codec");
	tcase_add_test(tc, test_decode_hex);
	tcase_add_test(tc, test_decode_bad);
	tcase_add_test(tc, test_decode_limits);
	tcase_add_loop_test(tc, test_base64_vectors, 0, (int)(sizeof(rfc4648) / sizeof(rfc4648[0])));
	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_round_trip_max);
	suite_add_tcase(s, tc);

	tc = tcase_create("algs");
	tcase_add_test(tc, test_list_parse);
	tcase_add_test(tc, test_list_parse_bad);
	tcase_add_test(tc, test_list_format_bad);
	tcase_add_test(tc, test_pick);
	suite_add_tcase(s, tc);

	tc = tcase_create("verifier");
	tcase_add_loop_test(tc, test_verifier_ok, 0, 4);
	tcase_add_test(tc, test_verifier_wrong);
	tcase_add_test(tc, test_verifier_length);
	tcase_add_test(tc, test_verifier_new_bad);
	tcase_add_test(tc, test_challenges_differ);
	tcase_add_test(tc, test_reflection);
	tcase_add_test(tc, test_secrets_equal);
	tcase_add_test(tc, test_wipe);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
