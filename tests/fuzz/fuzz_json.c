/* iscsiadm's JSON writer with arbitrary bytes as keys and string values
 * (target names and record values come from peers and files): the
 * document must be valid UTF-8, hold no raw control character, and keep
 * every byte of input that was valid UTF-8 and printable. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Strict UTF-8 check of the whole output. */
static void check_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c < 0x20 && c != '\n')
			abort();   /* raw control character */
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
		if (k == 0 || c > 0xf4 || i + k > n)
			abort();
		for (size_t j = 1; j < k; j++)
			if ((s[i + j] & 0xc0) != 0x80)
				abort();
		if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] > 0x9f) ||
		    (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] > 0x8f))
			abort();
		i += k;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct json j;

	if (!f)
		return 0;
	size_t half = size / 2;
	char *key = malloc(half + 1);
	if (!key) {
		fclose(f);
		free(buf);
		return 0;
	}
	memcpy(key, data, half);
	key[half] = '\0';   /* keys are C strings: cut at the first NUL */
	json_init(&j, f);
	json_object_begin(&j);
	json_key(&j, key);
	json_string_len(&j, (const char *)data + half, size - half);
	json_key(&j, "list");
	json_array_begin(&j);
	json_string_len(&j, (const char *)data, size);
	json_int(&j, (long long)size);
	json_array_end(&j);
	json_object_end(&j);
	if (json_end(&j) != 0)
		abort();
	fclose(f);
	check_utf8((const unsigned char *)buf, len);
	/* printable ASCII input other than '"' and '\\' passes through */
	int plain = 1;
	for (size_t i = half; i < size; i++)
		if (data[i] < 0x20 || data[i] >= 0x7f || data[i] == '"' || data[i] == '\\')
			plain = 0;
	if (plain && size > half && !memmem(buf, len, data + half, size - half))
		abort();
	free(key);
	free(buf);
	return 0;
}
