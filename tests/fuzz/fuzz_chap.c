/* Hostile text into the CHAP value parsers: chap_decode() (CHAP_C/CHAP_R
 * from a target), chap_alg_pick() (the target's CHAP_A) and
 * chap_alg_list_parse() (configuration). Checks round trips and that a
 * decoded value is usable as a challenge. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "chap.h"

static void check_decode(const char *text)
{
	static uint8_t bin[CHAP_MAX_BIN], back[CHAP_MAX_BIN];
	static char hex[CHAP_HEX_BUF], b64[CHAP_B64_BUF];
	size_t len = 0, len2 = 0;
	int r = chap_decode(text, bin, sizeof(bin), &len);

	if (r < 0)
		return;
	CHECK(len >= 1 && len <= CHAP_MAX_BIN);

	/* decode -> encode_hex -> decode gives the same bytes. */
	CHECK(chap_encode_hex(bin, len, hex, sizeof(hex)) == 0);
	CHECK(chap_decode(hex, back, sizeof(back), &len2) == 0);
	CHECK(len2 == len && memcmp(back, bin, len) == 0);

	/* And through base64. */
	CHECK(chap_encode_b64(bin, len, b64, sizeof(b64)) == 0);
	CHECK(chap_decode(b64, back, sizeof(back), &len2) == 0);
	CHECK(len2 == len && memcmp(back, bin, len) == 0);

	/* A decoded value is a legal challenge to answer. */
	uint8_t digest[CHAP_DIGEST_MAX];
	size_t dlen;
	enum chap_alg alg = (enum chap_alg)(CHAP_ALG_MD5 + bin[0] % CHAP_MAX_ALGS);

	CHECK(chap_response(alg, bin[0], (const uint8_t *)"secret", 6, bin, len, digest, sizeof(digest), &dlen) == 0);
	CHECK(dlen == chap_digest_len(alg));
}

static void check_algs(const char *text)
{
	static const enum chap_alg all[] = { CHAP_ALG_SHA3_256, CHAP_ALG_SHA256, CHAP_ALG_SHA1, CHAP_ALG_MD5 };
	enum chap_alg got, algs[CHAP_MAX_ALGS], again[CHAP_MAX_ALGS];
	size_t n, n2;
	char buf[CHAP_ALG_LIST_BUF];

	for (size_t k = 1; k <= CHAP_MAX_ALGS; k++) {
		if (chap_alg_pick(text, all, k, &got) == 0) {
			bool found = false;

			for (size_t i = 0; i < k; i++)
				found |= all[i] == got;
			CHECK(found);
		}
	}

	if (chap_alg_list_parse(text, algs, &n) == 0) {
		bool md5 = false;

		CHECK(n >= 1 && n <= CHAP_MAX_ALGS);
		for (size_t i = 0; i < n; i++) {
			CHECK(chap_alg_valid((long)algs[i]));
			md5 |= algs[i] == CHAP_ALG_MD5;
			for (size_t j = 0; j < i; j++)
				CHECK(algs[i] != algs[j]);
		}
		CHECK(md5);
		/* What we would send parses back to the same list. */
		CHECK(chap_alg_list_format(algs, n, buf, sizeof(buf)) == 0);
		CHECK(chap_alg_list_parse(buf, again, &n2) == 0);
		CHECK(n2 == n && memcmp(again, algs, n * sizeof(algs[0])) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Text keys arrive NUL-terminated from the text parser; an embedded
	 * NUL simply ends the value early. */
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_decode(text);
	check_algs(text);
	free(text);
	return 0;
}
