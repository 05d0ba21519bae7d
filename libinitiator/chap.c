/* CHAP for iSCSI login: digests, the binary-value codec, CHAP_A lists and
 * the verifier for mutual CHAP. See chap.h for the contract. */
#include "chap.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

/* ---- libcrypto, opened on first use ------------------------------------ */

/* OpenSSL 3's libcrypto (configure asks for >= 3.0) is opened the first
 * time a digest is needed rather than linked: loading it costs every
 * start of a program ~0.8 ms of CPU (thousands of symbol relocations,
 * its constructors), which for iscsiadm, started once per command by
 * scripts and mostly without CHAP, was a third of a 1000-target
 * discovery. Programs that link it anyway (iscsid, iscsistart: an
 * initramfs builder copies the libraries a binary names) get the copy
 * already loaded. These entry points, set once, are the only
 * process-wide state of libinitiator. */

static struct {
	__typeof__(&EVP_MD_fetch) md_fetch;
	__typeof__(&EVP_MD_free) md_free;
	__typeof__(&EVP_MD_get_size) md_get_size;
	__typeof__(&EVP_MD_CTX_new) ctx_new;
	__typeof__(&EVP_MD_CTX_free) ctx_free;
	__typeof__(&EVP_DigestInit_ex2) init;
	__typeof__(&EVP_DigestUpdate) update;
	__typeof__(&EVP_DigestFinal_ex) final;
	__typeof__(&ERR_clear_error) err_clear;
	__typeof__(&RAND_bytes) rand_bytes;
	bool ok;
} crypto;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

static void crypto_open(void)
{
	void *h = dlopen(CHAP_LIBCRYPTO, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

	if (!h)
		return;
#define SYM(field, name) (crypto.field = (__typeof__(crypto.field))dlsym(h, name)) != NULL
	crypto.ok = SYM(md_fetch, "EVP_MD_fetch") && SYM(md_free, "EVP_MD_free") &&
		    SYM(md_get_size, "EVP_MD_get_size") && SYM(ctx_new, "EVP_MD_CTX_new") &&
		    SYM(ctx_free, "EVP_MD_CTX_free") && SYM(init, "EVP_DigestInit_ex2") &&
		    SYM(update, "EVP_DigestUpdate") && SYM(final, "EVP_DigestFinal_ex") &&
		    SYM(err_clear, "ERR_clear_error") && SYM(rand_bytes, "RAND_bytes");
#undef SYM
}

/* Whether libcrypto's entry points are there (opening it once). */
static bool crypto_ready(void)
{
	return pthread_once(&crypto_once, crypto_open) == 0 && crypto.ok;
}

/* Equal in time independent of where they differ. */
static bool mem_equal_ct(const uint8_t *a, const uint8_t *b, size_t n)
{
	unsigned diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned)(a[i] ^ b[i]);
	return diff == 0;
}

/* ---- algorithms ------------------------------------------------------- */

struct alg_info {
	enum chap_alg alg;
	size_t digest_len;
	const char *name;     /* what we print and what open-iscsi configs use */
	const char *evp_name; /* what OpenSSL's default provider fetches */
};

static const struct alg_info alg_table[] = {
	{ CHAP_ALG_MD5, 16, "MD5", "MD5" },
	{ CHAP_ALG_SHA1, 20, "SHA1", "SHA1" },
	{ CHAP_ALG_SHA256, 32, "SHA256", "SHA2-256" },
	{ CHAP_ALG_SHA3_256, 32, "SHA3-256", "SHA3-256" },
};

/* Extra spellings accepted in configuration. */
static const struct {
	const char *name;
	enum chap_alg alg;
} alg_aliases[] = {
	{ "MD5", CHAP_ALG_MD5 },       { "SHA1", CHAP_ALG_SHA1 },
	{ "SHA-1", CHAP_ALG_SHA1 },    { "SHA256", CHAP_ALG_SHA256 },
	{ "SHA-256", CHAP_ALG_SHA256 }, { "SHA3-256", CHAP_ALG_SHA3_256 },
};

static const struct alg_info *alg_lookup(long n)
{
	for (size_t i = 0; i < sizeof(alg_table) / sizeof(alg_table[0]); i++)
		if ((long)alg_table[i].alg == n)
			return &alg_table[i];
	return NULL;
}

bool chap_alg_valid(long n)
{
	return alg_lookup(n) != NULL;
}

size_t chap_digest_len(enum chap_alg alg)
{
	const struct alg_info *a = alg_lookup((long)alg);

	return a ? a->digest_len : 0;
}

const char *chap_alg_name(enum chap_alg alg)
{
	const struct alg_info *a = alg_lookup((long)alg);

	return a ? a->name : NULL;
}

/* A number as RFC 7143 §6.1 writes one: decimal-constant (no leading
 * zeros, so "05" is not one) or hex-constant. Values saturate at a bound
 * far above any algorithm number, so long inputs cannot overflow. */
#define NUMBER_SATURATE 1000000L

static int hex_nibble(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int parse_number(const char *s, size_t n, long *ret)
{
	long v = 0;

	if (n == 0)
		return -EINVAL;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (size_t i = 2; i < n; i++) {
			int d = hex_nibble((unsigned char)s[i]);

			if (d < 0)
				return -EINVAL;
			v = v * 16 + d;
			if (v > NUMBER_SATURATE)
				v = NUMBER_SATURATE;
		}
	} else {
		if (s[0] == '0' && n > 1)
			return -EINVAL;
		for (size_t i = 0; i < n; i++) {
			if (s[i] < '0' || s[i] > '9')
				return -EINVAL;
			v = v * 10 + (s[i] - '0');
			if (v > NUMBER_SATURATE)
				v = NUMBER_SATURATE;
		}
	}
	*ret = v;
	return 0;
}

static int parse_alg_item(const char *s, size_t n, enum chap_alg *ret)
{
	long v;

	for (size_t i = 0; i < sizeof(alg_aliases) / sizeof(alg_aliases[0]); i++) {
		if (strlen(alg_aliases[i].name) == n && strncasecmp(alg_aliases[i].name, s, n) == 0) {
			*ret = alg_aliases[i].alg;
			return 0;
		}
	}
	if (parse_number(s, n, &v) < 0 || !chap_alg_valid(v))
		return -EINVAL;
	*ret = (enum chap_alg)v;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

int chap_alg_list_parse(const char *s, enum chap_alg *ret_algs, size_t *ret_n)
{
	enum chap_alg algs[CHAP_MAX_ALGS];
	size_t n = 0;
	bool have_md5 = false;

	if (!ret_algs || !ret_n)
		return -EINVAL;

	if (s && *s) {
		const char *p = s;

		for (;;) {
			const char *end = strchr(p, ',');
			const char *b = p, *e = end ? end : p + strlen(p);
			enum chap_alg a;
			bool dup = false;

			while (b < e && is_blank(*b))
				b++;
			while (e > b && is_blank(e[-1]))
				e--;
			if (parse_alg_item(b, (size_t)(e - b), &a) < 0)
				return -EINVAL;
			for (size_t i = 0; i < n; i++)
				dup |= algs[i] == a;
			/* Only CHAP_MAX_ALGS distinct values exist, so a
			 * non-duplicate always fits. */
			if (!dup && n < CHAP_MAX_ALGS)
				algs[n++] = a;
			if (!end)
				break;
			p = end + 1;
		}
	}

	for (size_t i = 0; i < n; i++)
		have_md5 |= algs[i] == CHAP_ALG_MD5;
	/* RFC 7143 §12.1.3: MD5 support is mandatory, so it is always in
	 * what we offer, after the configured preferences. */
	if (!have_md5)
		algs[n++] = CHAP_ALG_MD5;

	memcpy(ret_algs, algs, n * sizeof(algs[0]));
	*ret_n = n;
	return 0;
}

int chap_alg_list_format(const enum chap_alg *algs, size_t n, char *buf, size_t cap)
{
	char tmp[CHAP_ALG_LIST_BUF];
	size_t len = 0;

	if (!algs || !buf || n == 0 || n > CHAP_MAX_ALGS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!chap_alg_valid((long)algs[i]))
			return -EINVAL;
		if (i > 0)
			tmp[len++] = ',';
		/* Every valid number is a single digit. */
		tmp[len++] = (char)('0' + (int)algs[i]);
	}
	tmp[len] = '\0';
	if (len + 1 > cap)
		return -E2BIG;
	memcpy(buf, tmp, len + 1);
	return 0;
}

int chap_alg_pick(const char *value, const enum chap_alg *offered, size_t n, enum chap_alg *ret)
{
	long v;

	if (!value || !offered || !ret || n == 0 || n > CHAP_MAX_ALGS)
		return -EINVAL;
	/* RFC 7143 §12.1.3: the target answers CHAP_A with one algorithm
	 * from our list; anything else ("Reject", a list) ends CHAP. */
	if (parse_number(value, strlen(value), &v) < 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if ((long)offered[i] == v && chap_alg_valid(v)) {
			*ret = offered[i];
			return 0;
		}
	}
	return -EPROTO;
}

/* ---- binary-value codec (RFC 7143 §6.1) -------------------------------- */

static int decode_hex(const char *s, size_t n, uint8_t *buf, size_t cap, size_t *ret_len)
{
	size_t len, i = 0, o = 0;

	if (n == 0)
		return -EINVAL;
	for (size_t k = 0; k < n; k++)
		if (hex_nibble((unsigned char)s[k]) < 0)
			return -EINVAL;
	/* "a hex-constant of n hexadecimal digits has a byte-length of
	 * (the integral part of) (n+1)/2": an odd count has an implied
	 * leading zero nibble. */
	len = n / 2 + n % 2;
	if (len > cap)
		return -E2BIG;
	if (n % 2)
		buf[o++] = (uint8_t)hex_nibble((unsigned char)s[i++]);
	for (; i < n; i += 2)
		buf[o++] = (uint8_t)(hex_nibble((unsigned char)s[i]) << 4 | hex_nibble((unsigned char)s[i + 1]));
	*ret_len = len;
	return 0;
}

static const char b64_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int decode_b64(const char *s, size_t n, uint8_t *buf, size_t cap, size_t *ret_len)
{
	size_t pad = 0, m, len, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	int last;

	while (pad < n && s[n - 1 - pad] == '=')
		pad++;
	m = n - pad;
	if (m == 0 || pad > 2)
		return -EINVAL;
	for (size_t k = 0; k < m; k++)
		if (b64_value((unsigned char)s[k]) < 0)
			return -EINVAL;
	/* Padding is optional, but when present it completes the last
	 * quantum exactly (RFC 4648 §4). One lone character in a quantum
	 * carries only 6 bits: not even one byte. */
	if ((pad && n % 4) || m % 4 == 1)
		return -EINVAL;
	/* Non-zero unused bits mean the text is not a canonical encoding
	 * (RFC 4648 §3.5); refusing them keeps one value one spelling. */
	last = b64_value((unsigned char)s[m - 1]);
	if ((m % 4 == 2 && (last & 0x0f)) || (m % 4 == 3 && (last & 0x03)))
		return -EINVAL;
	len = m / 4 * 3 + (m % 4 == 0 ? 0 : m % 4 - 1);
	if (len > cap)
		return -E2BIG;
	for (size_t k = 0; k < m; k++) {
		acc = (acc << 6) | (uint32_t)b64_value((unsigned char)s[k]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*ret_len = len;
	return 0;
}

int chap_decode(const char *text, uint8_t *buf, size_t cap, size_t *ret_len)
{
	size_t n;

	if (!text || !ret_len || (!buf && cap > 0))
		return -EINVAL;
	n = strlen(text);
	if (n < 2 || text[0] != '0')
		return -EINVAL;
	if (text[1] == 'x' || text[1] == 'X')
		return decode_hex(text + 2, n - 2, buf, cap, ret_len);
	if (text[1] == 'b' || text[1] == 'B')
		return decode_b64(text + 2, n - 2, buf, cap, ret_len);
	return -EINVAL;
}

int chap_encode_hex(const uint8_t *bin, size_t len, char *buf, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	if (!bin || !buf || len == 0)
		return -EINVAL;
	if (len > (SIZE_MAX - 3) / 2 || cap < 2 + 2 * len + 1)
		return -E2BIG;
	buf[o++] = '0';
	buf[o++] = 'x';
	for (size_t i = 0; i < len; i++) {
		buf[o++] = digits[bin[i] >> 4];
		buf[o++] = digits[bin[i] & 0x0f];
	}
	buf[o] = '\0';
	return 0;
}

int chap_encode_b64(const uint8_t *bin, size_t len, char *buf, size_t cap)
{
	size_t o = 0, i = 0;

	if (!bin || !buf || len == 0)
		return -EINVAL;
	if (len > (SIZE_MAX / 4 - 3) || cap < 2 + 4 * ((len + 2) / 3) + 1)
		return -E2BIG;
	buf[o++] = '0';
	buf[o++] = 'b';
	for (; i + 3 <= len; i += 3) {
		uint32_t q = (uint32_t)bin[i] << 16 | (uint32_t)bin[i + 1] << 8 | bin[i + 2];

		buf[o++] = b64_alphabet[q >> 18];
		buf[o++] = b64_alphabet[(q >> 12) & 0x3f];
		buf[o++] = b64_alphabet[(q >> 6) & 0x3f];
		buf[o++] = b64_alphabet[q & 0x3f];
	}
	if (len - i == 1) {
		uint32_t q = (uint32_t)bin[i] << 16;

		buf[o++] = b64_alphabet[q >> 18];
		buf[o++] = b64_alphabet[(q >> 12) & 0x3f];
		buf[o++] = '=';
		buf[o++] = '=';
	} else if (len - i == 2) {
		uint32_t q = (uint32_t)bin[i] << 16 | (uint32_t)bin[i + 1] << 8;

		buf[o++] = b64_alphabet[q >> 18];
		buf[o++] = b64_alphabet[(q >> 12) & 0x3f];
		buf[o++] = b64_alphabet[(q >> 6) & 0x3f];
		buf[o++] = '=';
	}
	buf[o] = '\0';
	return 0;
}

/* ---- digests ----------------------------------------------------------- */

static int md_fetch(enum chap_alg alg, EVP_MD **ret)
{
	const struct alg_info *a = alg_lookup((long)alg);
	EVP_MD *md;

	if (!a)
		return -EINVAL;
	if (!crypto_ready())
		return -ELIBACC;
	md = crypto.md_fetch(NULL, a->evp_name, NULL);
	if (!md) {
		/* e.g. MD5 with only the FIPS provider loaded. Leave no
		 * stale entries on the thread's OpenSSL error queue. */
		crypto.err_clear();
		return -EOPNOTSUPP;
	}
	*ret = md;
	return 0;
}

/* RFC 1994 §4.1: the response is the hash of the Identifier, then the
 * secret, then the challenge value. out holds CHAP_DIGEST_MAX bytes. */
static int digest_compute(const EVP_MD *md, size_t want, uint8_t id, const uint8_t *secret, size_t secret_len,
			  const uint8_t *challenge, size_t challenge_len, uint8_t *out)
{
	/* md came from md_fetch(): crypto is ready */
	EVP_MD_CTX *ctx = crypto.ctx_new();
	unsigned int outlen = 0;
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	if ((size_t)crypto.md_get_size(md) != want || crypto.init(ctx, md, NULL) != 1 ||
	    crypto.update(ctx, &id, 1) != 1 || crypto.update(ctx, secret, secret_len) != 1 ||
	    crypto.update(ctx, challenge, challenge_len) != 1 || crypto.final(ctx, out, &outlen) != 1 ||
	    outlen != want) {
		crypto.err_clear();
		r = -EIO;
	}
	/* EVP_MD_CTX_free() cleanses the hash state, which held the
	 * secret. */
	crypto.ctx_free(ctx);
	return r;
}

int chap_response(enum chap_alg alg, uint8_t id, const uint8_t *secret, size_t secret_len,
		  const uint8_t *challenge, size_t challenge_len,
		  uint8_t *ret_digest, size_t cap, size_t *ret_len)
{
	uint8_t out[CHAP_DIGEST_MAX];
	size_t dlen = chap_digest_len(alg);
	EVP_MD *md = NULL;
	int r;

	if (dlen == 0 || !ret_digest || !ret_len)
		return -EINVAL;
	if (!secret || secret_len == 0 || secret_len > CHAP_SECRET_MAX)
		return -EINVAL;
	/* We accept the challenge length the target chose (tgt and LIO
	 * send 16 bytes for MD5), but an empty one proves nothing and
	 * RFC 7143 §12.1.3 caps it at 1024 bytes. */
	if (!challenge || challenge_len == 0 || challenge_len > CHAP_MAX_BIN)
		return -EINVAL;
	if (cap < dlen)
		return -E2BIG;
	r = md_fetch(alg, &md);
	if (r < 0)
		return r;
	r = digest_compute(md, dlen, id, secret, secret_len, challenge, challenge_len, out);
	crypto.md_free(md);
	if (r == 0) {
		memcpy(ret_digest, out, dlen);
		*ret_len = dlen;
	}
	chap_wipe(out, sizeof(out));
	return r;
}

/* ---- verifier (mutual CHAP) ------------------------------------------- */

struct chap_verifier {
	enum chap_alg alg;
	EVP_MD *md;
	bool used;
	uint8_t id;
	uint8_t challenge[CHAP_CHALLENGE_LEN];
	size_t secret_len;
	uint8_t secret[CHAP_SECRET_MAX];
};

struct chap_verifier *chap_verifier_new(enum chap_alg alg, const uint8_t *secret, size_t secret_len)
{
	struct chap_verifier *v;
	int r;

	if (!chap_alg_valid((long)alg) || !secret || secret_len == 0 || secret_len > CHAP_SECRET_MAX) {
		errno = EINVAL;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (!v) {
		errno = ENOMEM;
		return NULL;
	}
	v->alg = alg;
	/* Fetch the digest now so a missing algorithm shows before we send
	 * a challenge we could never check. */
	r = md_fetch(alg, &v->md);
	if (r < 0) {
		free(v);
		errno = -r;
		return NULL;
	}
	/* Challenges must be unpredictable and never repeat (RFC 7143
	 * §12.1.3, RFC 1994 §2.3). They come from OpenSSL's CSPRNG, 32
	 * bytes each: two equal challenges within any realistic number of
	 * logins have probability far below 2^-128, so no process-wide
	 * history is kept (libinitiator holds no mutable globals). A
	 * failing RNG fails the verifier; there is no weaker fallback. */
	if (crypto.rand_bytes(v->challenge, sizeof(v->challenge)) != 1 || crypto.rand_bytes(&v->id, 1) != 1) {
		crypto.err_clear();
		crypto.md_free(v->md);
		free(v);
		errno = EIO;
		return NULL;
	}
	memcpy(v->secret, secret, secret_len);
	v->secret_len = secret_len;
	return v;
}

void chap_verifier_get_challenge(const struct chap_verifier *v, uint8_t *ret_id, const uint8_t **ret_chal,
				 size_t *ret_len)
{
	if (!v)
		return;
	if (ret_id)
		*ret_id = v->id;
	if (ret_chal)
		*ret_chal = v->challenge;
	if (ret_len)
		*ret_len = sizeof(v->challenge);
}

int chap_verifier_check(struct chap_verifier *v, const uint8_t *resp, size_t len)
{
	uint8_t want[CHAP_DIGEST_MAX];
	size_t dlen;
	int r;

	if (!v)
		return -EINVAL;
	/* One challenge, one answer: a second try (a guessing peer, or a
	 * replay) never gets compared. */
	if (v->used)
		return -EACCES;
	v->used = true;
	dlen = chap_digest_len(v->alg);
	if (!resp || len != dlen)
		return -EACCES;
	r = digest_compute(v->md, dlen, v->id, v->secret, v->secret_len, v->challenge, sizeof(v->challenge), want);
	if (r == 0 && !mem_equal_ct(want, resp, dlen))
		r = -EACCES;
	chap_wipe(want, sizeof(want));
	return r;
}

void chap_verifier_free(struct chap_verifier *v)
{
	if (!v)
		return;
	if (v->md)   /* set only once crypto was ready */
		crypto.md_free(v->md);
	chap_wipe(v, sizeof(*v));
	free(v);
}

bool chap_is_reflection(const struct chap_verifier *v, const uint8_t *target_chal, size_t len)
{
	if (!v || !target_chal || len != sizeof(v->challenge))
		return false;
	return mem_equal_ct(v->challenge, target_chal, len);
}

bool chap_secrets_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	size_t n = alen > blen ? alen : blen;
	unsigned diff = alen != blen;

	if ((!a && alen) || (!b && blen))
		return false;
	/* Walk the longer length whatever the contents, so the time says
	 * nothing about where the secrets differ. */
	for (size_t i = 0; i < n; i++) {
		uint8_t x = i < alen ? a[i] : 0;
		uint8_t y = i < blen ? b[i] : 0;

		diff |= (unsigned)(x ^ y);
	}
	return diff == 0;
}

void chap_wipe(void *p, size_t len)
{
	if (p && len)
		explicit_bzero(p, len);
}
