/* iscsiadm's JSON writer: structure, escaping, UTF-8 repair, misuse. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct out {
	char *buf;
	size_t len;
	FILE *f;
};

static void out_open(struct out *o, struct json *j)
{
	o->buf = NULL;
	o->len = 0;
	o->f = open_memstream(&o->buf, &o->len);
	ck_assert_ptr_nonnull(o->f);
	json_init(j, o->f);
}

static void out_close(struct out *o)
{
	fclose(o->f);
}

/* The escaped form of one string value. */
static char *escaped(const char *s, size_t len)
{
	struct out o;
	struct json j;

	out_open(&o, &j);
	json_string_len(&j, s, len);
	ck_assert_int_eq(json_end(&j), 0);
	out_close(&o);
	return o.buf;
}

START_TEST(test_document_shape)
{
	struct out o;
	struct json j;

	out_open(&o, &j);
	json_object_begin(&j);
	json_key(&j, "nodes");
	json_array_begin(&j);
	json_object_begin(&j);
	json_kv_str(&j, "target", "iqn.2001-04.com.example:disk");
	json_kv_int(&j, "port", 3260);
	json_kv_int(&j, "tpgt", -1);
	json_kv_bool(&j, "flash", false);
	json_kv_str_or_null(&j, "netdev", "");
	json_object_end(&j);
	json_array_end(&j);
	json_key(&j, "empty");
	json_array_begin(&j);
	json_array_end(&j);
	json_object_end(&j);
	ck_assert_int_eq(json_end(&j), 0);
	out_close(&o);
	ck_assert_str_eq(o.buf, "{\n"
				"  \"nodes\": [\n"
				"    {\n"
				"      \"target\": \"iqn.2001-04.com.example:disk\",\n"
				"      \"port\": 3260,\n"
				"      \"tpgt\": -1,\n"
				"      \"flash\": false,\n"
				"      \"netdev\": null\n"
				"    }\n"
				"  ],\n"
				"  \"empty\": []\n"
				"}\n");
	free(o.buf);
}
END_TEST

START_TEST(test_escapes)
{
	char *s = escaped("a\"b\\c/d", 7);
	ck_assert_str_eq(s, "\"a\\\"b\\\\c/d\"\n");
	free(s);
	s = escaped("\b\f\n\r\t\x01\x1f\x7f", 8);
	ck_assert_str_eq(s, "\"\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f\"\n");
	free(s);
	/* an embedded NUL from a length-counted string */
	s = escaped("a\0b", 3);
	ck_assert_str_eq(s, "\"a\\u0000b\"\n");
	free(s);
	/* a terminal escape sequence a hostile target put in a name */
	s = escaped("x\x1b[2Jy", 6);
	ck_assert_str_eq(s, "\"x\\u001b[2Jy\"\n");
	free(s);
}
END_TEST

START_TEST(test_utf8)
{
	/* valid sequences pass through: é (2), € (3), 😀 (4) */
	char *s = escaped("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	ck_assert_str_eq(s, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"\n");
	free(s);
	/* stray continuation byte, overlong '/', surrogate, > U+10FFFF,
	 * truncated sequence at the end: each bad lead byte becomes U+FFFD */
	s = escaped("\x80", 1);
	ck_assert_str_eq(s, "\"\\ufffd\"\n");
	free(s);
	s = escaped("\xc0\xaf", 2);
	ck_assert_str_eq(s, "\"\\ufffd\\ufffd\"\n");
	free(s);
	s = escaped("\xed\xa0\x80", 3);
	ck_assert_str_eq(s, "\"\\ufffd\\ufffd\\ufffd\"\n");
	free(s);
	s = escaped("\xf4\x90\x80\x80", 4);
	ck_assert_str_eq(s, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"\n");
	free(s);
	s = escaped("ok\xe2\x82", 4);
	ck_assert_str_eq(s, "\"ok\\ufffd\\ufffd\"\n");
	free(s);
}
END_TEST

START_TEST(test_misuse)
{
	struct out o;
	struct json j;

	/* a value where a key is due */
	out_open(&o, &j);
	json_object_begin(&j);
	json_int(&j, 1);
	json_object_end(&j);
	ck_assert_int_eq(json_end(&j), -EINVAL);
	out_close(&o);
	free(o.buf);

	/* unbalanced */
	out_open(&o, &j);
	json_array_begin(&j);
	ck_assert_int_eq(json_end(&j), -EINVAL);
	out_close(&o);
	free(o.buf);

	/* wrong closer */
	out_open(&o, &j);
	json_array_begin(&j);
	json_object_end(&j);
	ck_assert_int_eq(json_end(&j), -EINVAL);
	out_close(&o);
	free(o.buf);

	/* key without value */
	out_open(&o, &j);
	json_object_begin(&j);
	json_key(&j, "k");
	json_object_end(&j);
	ck_assert_int_eq(json_end(&j), -EINVAL);
	out_close(&o);
	free(o.buf);

	/* two top-level values */
	out_open(&o, &j);
	json_null(&j);
	json_null(&j);
	ck_assert_int_eq(json_end(&j), -EINVAL);
	out_close(&o);
	free(o.buf);

	/* too deep */
	out_open(&o, &j);
	for (int i = 0; i < JSON_MAX_DEPTH + 2; i++)
		json_array_begin(&j);
	ck_assert_int_eq(json_end(&j), -EINVAL);
	out_close(&o);
	free(o.buf);
}
END_TEST

START_TEST(test_numbers_and_null)
{
	struct out o;
	struct json j;

	out_open(&o, &j);
	json_array_begin(&j);
	json_int(&j, -9223372036854775807LL - 1);
	json_uint(&j, 18446744073709551615ULL);
	json_string(&j, NULL);
	json_bool(&j, true);
	json_array_end(&j);
	ck_assert_int_eq(json_end(&j), 0);
	out_close(&o);
	ck_assert_str_eq(o.buf, "[\n  -9223372036854775808,\n  18446744073709551615,\n  null,\n  true\n]\n");
	free(o.buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_document_shape);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_misuse);
	tcase_add_test(tc, test_numbers_and_null);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
