/* Hostile text data segments (RFC 7143 §6.1). The first two bytes pick a
 * split point: the rest is fed to text_asm as two Continue PDUs and must
 * parse exactly as text_parse() parses it whole. What parses is encoded,
 * parsed again and must come back identical; the iterator, text_list_add()
 * and the character checks must agree with the parser. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "text.h"

static int lists_equal(const struct text_list *a, const struct text_list *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->kv[i].key, b->kv[i].key) != 0 ||
		    strcmp(a->kv[i].value, b->kv[i].value) != 0)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const uint8_t *d = data + 2;
	size_t n = size - 2;
	size_t split = (((size_t)data[0] << 8) | data[1]) % (n + 1);

	struct text_list whole, joined, again, added;
	int r1 = text_parse(d, n, &whole);

	struct text_asm a;
	text_asm_init(&a, 0);
	int f1 = text_asm_feed(&a, d, split);
	int f2 = text_asm_feed(&a, d + split, n - split);
	if (f1 == 0 && f2 == 0) {
		int r2 = text_asm_finish(&a, &joined);
		CHECK(r1 == r2);
		if (r2 == 0) {
			CHECK(lists_equal(&whole, &joined));
			text_list_free(&joined);
		}
	} else {
		CHECK(n > TEXT_MAX_BYTES && r1 == -E2BIG);
	}
	size_t left;
	text_asm_data(&a, &left);
	CHECK(left == 0 || f1 < 0 || f2 < 0);
	text_asm_free(&a);

	/* The iterator walks the same pairs, and fails where parsing does
	 * for syntax reasons. */
	struct text_iter it;
	struct text_pair kv;
	size_t count = 0;
	int k;
	text_iter_init(&it, d, n);
	while ((k = text_iter_next(&it, &kv)) > 0) {
		CHECK(text_key_valid(kv.key, kv.key_len));
		CHECK(text_value_valid(kv.value, kv.value_len));
		count++;
	}
	if (r1 == -EPROTO)
		CHECK(k == -EPROTO);
	if (r1 != 0)
		return 0;
	CHECK(k == 0 && count == whole.n && whole.n <= TEXT_MAX_KEYS);

	/* Building the same list key by key succeeds. */
	text_list_init(&added);
	for (size_t i = 0; i < whole.n; i++)
		CHECK(text_list_add(&added, whole.kv[i].key, whole.kv[i].value) == 0);
	CHECK(lists_equal(&whole, &added));
	text_list_clear(&added);
	CHECK(added.n == 0);
	text_list_free(&added);

	/* encode -> parse is the identity, and encoding is canonical. */
	uint8_t *buf, *buf2;
	size_t len, len2;
	CHECK(text_encode(&whole, &buf, &len) == 0);
	CHECK(text_parse(buf, len, &again) == 0);
	CHECK(lists_equal(&whole, &again));
	CHECK(text_encode(&again, &buf2, &len2) == 0);
	CHECK(len == len2 && memcmp(buf, buf2, len) == 0);
	for (size_t i = 0; i < whole.n; i++)
		CHECK(text_find(&again, whole.kv[i].key) != NULL &&
		      strcmp(text_find(&again, whole.kv[i].key), whole.kv[i].value) == 0);
	free(buf);
	free(buf2);
	text_list_free(&again);
	text_list_free(&whole);
	return 0;
}
