#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define SEG(s) ((const uint8_t *)(s)), (sizeof(s) - 1)

/* The first Login Request of RFC 7143 Appendix B.1 (the keys an initiator
 * sends to open a session). */
static const char rfc_login[] =
	"InitiatorName=iqn.1999-07.com.os:hostid.77\0"
	"TargetName=iqn.1999-07.com.acme:diskarray.sn.88\0"
	"AuthMethod=KRB5,SRP,None\0";

START_TEST(test_parse_rfc_vector)
{
	struct text_list l;
	ck_assert_int_eq(text_parse(SEG(rfc_login), &l), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(l.kv[0].key, "InitiatorName");
	ck_assert_str_eq(l.kv[0].value, "iqn.1999-07.com.os:hostid.77");
	ck_assert_str_eq(text_find(&l, "TargetName"), "iqn.1999-07.com.acme:diskarray.sn.88");
	ck_assert_str_eq(text_find(&l, "AuthMethod"), "KRB5,SRP,None");
	ck_assert_ptr_null(text_find(&l, "authmethod"));   /* §6.1: case sensitive */
	ck_assert_ptr_null(text_find(&l, "Missing"));

	/* Encoding gives back the same bytes. */
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(text_encode(&l, &buf, &len), 0);
	ck_assert_uint_eq(len, sizeof(rfc_login) - 1);
	ck_assert_mem_eq(buf, rfc_login, len);
	free(buf);
	text_list_free(&l);
	ck_assert_uint_eq(l.n, 0);
	text_list_free(&l);   /* twice is harmless */
	text_list_free(NULL);
}
END_TEST

START_TEST(test_parse_edges)
{
	struct text_list l;

	/* Empty segment: empty list. */
	ck_assert_int_eq(text_parse(NULL, 0, &l), 0);
	ck_assert_uint_eq(l.n, 0);
	text_list_free(&l);
	/* Missing NUL after the last pair is accepted. */
	ck_assert_int_eq(text_parse(SEG("A=1\0B=2"), &l), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_str_eq(text_find(&l, "B"), "2");
	text_list_free(&l);
	/* NULs after the last pair are padding. */
	ck_assert_int_eq(text_parse(SEG("A=1\0\0\0\0"), &l), 0);
	ck_assert_uint_eq(l.n, 1);
	text_list_free(&l);
	/* Empty value; '=' inside a value (base64); UTF-8 alias. */
	ck_assert_int_eq(text_parse(SEG("TargetAlias=\0CHAP_C=0bAAE=\0InitiatorAlias=h\xc3\xa9te\0"), &l), 0);
	ck_assert_str_eq(text_find(&l, "TargetAlias"), "");
	ck_assert_str_eq(text_find(&l, "CHAP_C"), "0bAAE=");
	ck_assert_str_eq(text_find(&l, "InitiatorAlias"), "h\xc3\xa9te");
	text_list_free(&l);
	/* Keys that do not start with a capital (RFC 7144) and X# / X- keys. */
	ck_assert_int_eq(text_parse(SEG("iSCSIProtocolLevel=1\0X#NodeArchitecture=x\0X-com.example.k=y\0"), &l), 0);
	ck_assert_uint_eq(l.n, 3);
	text_list_free(&l);
}
END_TEST

static void expect_parse_err(const uint8_t *d, size_t n, int err)
{
	struct text_list l = { .kv = (struct text_kv *)&l, .n = 77, .cap = 99 };
	ck_assert_int_eq(text_parse(d, n, &l), err);
	/* Untouched on failure. */
	ck_assert_ptr_eq(l.kv, (struct text_kv *)&l);
	ck_assert_uint_eq(l.n, 77);
}

START_TEST(test_parse_errors)
{
	expect_parse_err(SEG("NoEquals\0"), -EPROTO);
	expect_parse_err(SEG("=value\0"), -EPROTO);
	expect_parse_err(SEG("A=1\0\0B=2\0"), -EPROTO);        /* empty pair */
	expect_parse_err(SEG("\0A=1\0"), -EPROTO);
	expect_parse_err(SEG("Key Name=1\0"), -EPROTO);
	expect_parse_err(SEG("Ke/y=1\0"), -EPROTO);
	expect_parse_err(SEG("K\xc3\xa9y=1\0"), -EPROTO);
	expect_parse_err(SEG("#X=1\0"), -EPROTO);
	expect_parse_err(SEG("X#=1\0"), -EPROTO);
	expect_parse_err(SEG("A=line\nbreak\0"), -EPROTO);
	expect_parse_err(SEG("A=esc\x1b[2J\0"), -EPROTO);
	expect_parse_err(SEG("A=del\x7f\0"), -EPROTO);
	expect_parse_err(SEG("A=1\0B=2\0A=3\0"), -EEXIST);
	expect_parse_err(SEG("A=1\0A=1"), -EEXIST);
}
END_TEST

START_TEST(test_parse_limits)
{
	size_t cap = TEXT_MAX_BYTES + 64;
	uint8_t *b = malloc(cap);
	struct text_list l;
	size_t n;

	/* Key of exactly 63 bytes is fine, 64 is not. */
	memset(b, 'K', 64);
	b[63] = '=';
	b[64] = 'v';
	ck_assert_int_eq(text_parse(b, 65, &l), 0);
	ck_assert_uint_eq(strlen(l.kv[0].key), TEXT_KEY_MAX);
	text_list_free(&l);
	memset(b, 'K', 64);
	b[64] = '=';
	expect_parse_err(b, 65, -EPROTO);

	/* Value of TEXT_VALUE_MAX bytes is fine, one more is not. */
	memcpy(b, "V=", 2);
	memset(b + 2, 'x', TEXT_VALUE_MAX + 1);
	ck_assert_int_eq(text_parse(b, 2 + TEXT_VALUE_MAX, &l), 0);
	ck_assert_uint_eq(strlen(l.kv[0].value), TEXT_VALUE_MAX);
	text_list_free(&l);
	expect_parse_err(b, 2 + TEXT_VALUE_MAX + 1, -EPROTO);

	/* TEXT_MAX_KEYS pairs parse; one more is -E2BIG. */
	n = 0;
	for (int i = 0; i <= TEXT_MAX_KEYS; i++)
		n += (size_t)sprintf((char *)b + n, "K%d=%d", i, i) + 1;
	size_t last = strlen("K256=256") + 1;
	ck_assert_int_eq(text_parse(b, n - last, &l), 0);
	ck_assert_uint_eq(l.n, TEXT_MAX_KEYS);
	ck_assert_str_eq(text_find(&l, "K255"), "255");
	text_list_free(&l);
	expect_parse_err(b, n, -E2BIG);

	/* More than TEXT_MAX_BYTES in a segment is -E2BIG, whatever it holds. */
	memset(b, 0, cap);
	expect_parse_err(b, TEXT_MAX_BYTES + 1, -E2BIG);
	ck_assert_int_eq(text_parse(b, TEXT_MAX_BYTES, &l), 0);   /* all padding */
	ck_assert_uint_eq(l.n, 0);
	text_list_free(&l);
	free(b);
}
END_TEST

START_TEST(test_list_add)
{
	struct text_list l;
	char big[TEXT_VALUE_MAX + 2];

	text_list_init(&l);
	ck_assert_int_eq(text_list_add(&l, "HeaderDigest", "CRC32C,None"), 0);
	ck_assert_int_eq(text_list_add(&l, "HeaderDigest", "None"), -EEXIST);
	ck_assert_int_eq(text_list_add(&l, "", "x"), -EINVAL);
	ck_assert_int_eq(text_list_add(&l, "Bad Key", "x"), -EINVAL);
	ck_assert_int_eq(text_list_add(&l, "Bad=Key", "x"), -EINVAL);
	ck_assert_int_eq(text_list_add(&l, "Key", "tab\there"), -EINVAL);
	ck_assert_int_eq(text_list_add(&l, NULL, "x"), -EINVAL);
	ck_assert_int_eq(text_list_add(&l, "Key", NULL), -EINVAL);
	ck_assert_int_eq(text_list_add(NULL, "Key", "x"), -EINVAL);
	memset(big, 'k', 64);
	big[64] = '\0';
	ck_assert_int_eq(text_list_add(&l, big, "x"), -E2BIG);
	big[63] = '\0';
	ck_assert_int_eq(text_list_add(&l, big, "x"), 0);
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(text_list_add(&l, "Big", big), -E2BIG);
	big[TEXT_VALUE_MAX] = '\0';
	ck_assert_int_eq(text_list_add(&l, "Big", big), 0);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(text_find(&l, "HeaderDigest"), "CRC32C,None");

	/* The list caps at TEXT_MAX_KEYS entries. */
	for (int i = (int)l.n; i < TEXT_MAX_KEYS; i++) {
		char k[16];
		snprintf(k, sizeof(k), "K%d", i);
		ck_assert_int_eq(text_list_add(&l, k, "1"), 0);
	}
	ck_assert_int_eq(text_list_add(&l, "OneMore", "1"), -E2BIG);

	/* clear empties but keeps the list usable. */
	text_list_clear(&l);
	ck_assert_uint_eq(l.n, 0);
	ck_assert_ptr_null(text_find(&l, "HeaderDigest"));
	ck_assert_int_eq(text_list_add(&l, "HeaderDigest", "None"), 0);
	ck_assert_str_eq(text_find(&l, "HeaderDigest"), "None");
	text_list_free(&l);
	text_list_clear(NULL);
}
END_TEST

START_TEST(test_encode)
{
	struct text_list l;
	uint8_t *buf;
	size_t len = 99;

	text_list_init(&l);
	ck_assert_int_eq(text_encode(&l, &buf, &len), 0);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(len, 0);
	free(buf);

	ck_assert_int_eq(text_list_add(&l, "MaxRecvDataSegmentLength", "262144"), 0);
	ck_assert_int_eq(text_list_add(&l, "TargetAlias", ""), 0);
	ck_assert_int_eq(text_encode(&l, &buf, &len), 0);
	static const char want[] = "MaxRecvDataSegmentLength=262144\0TargetAlias=\0";
	ck_assert_uint_eq(len, sizeof(want) - 1);
	ck_assert_mem_eq(buf, want, len);

	struct text_list back;
	ck_assert_int_eq(text_parse(buf, len, &back), 0);
	ck_assert_uint_eq(back.n, 2);
	ck_assert_str_eq(text_find(&back, "MaxRecvDataSegmentLength"), "262144");
	ck_assert_str_eq(text_find(&back, "TargetAlias"), "");
	text_list_free(&back);
	free(buf);
	text_list_free(&l);
}
END_TEST

/* A pair may be split anywhere across Continue PDUs (RFC 7143 §6.1):
 * every split point gives the same list as the whole segment. */
START_TEST(test_asm_split_everywhere)
{
	const size_t n = sizeof(rfc_login) - 1;

	for (size_t cut1 = 0; cut1 <= n; cut1++) {
		for (size_t cut2 = cut1; cut2 <= n; cut2 += 7) {
			struct text_asm a;
			struct text_list l;
			text_asm_init(&a, 0);
			ck_assert_int_eq(text_asm_feed(&a, (const uint8_t *)rfc_login, cut1), 0);
			ck_assert_int_eq(text_asm_feed(&a, (const uint8_t *)rfc_login + cut1, cut2 - cut1), 0);
			ck_assert_int_eq(text_asm_feed(&a, (const uint8_t *)rfc_login + cut2, n - cut2), 0);
			ck_assert_int_eq(text_asm_finish(&a, &l), 0);
			ck_assert_uint_eq(l.n, 3);
			ck_assert_str_eq(l.kv[1].value, "iqn.1999-07.com.acme:diskarray.sn.88");
			ck_assert_str_eq(l.kv[2].value, "KRB5,SRP,None");
			text_list_free(&l);
			text_asm_free(&a);
		}
	}
}
END_TEST

START_TEST(test_asm_limits_and_reset)
{
	struct text_asm a;
	struct text_list l;
	size_t len;
	uint8_t chunk[100];

	memset(chunk, 'x', sizeof(chunk));
	text_asm_init(&a, 250);
	ck_assert_int_eq(text_asm_feed(&a, chunk, 100), 0);
	ck_assert_int_eq(text_asm_feed(&a, chunk, 100), 0);
	ck_assert_int_eq(text_asm_feed(&a, chunk, 100), -E2BIG);
	text_asm_data(&a, &len);
	ck_assert_uint_eq(len, 200);   /* nothing appended by the failed feed */
	ck_assert_int_eq(text_asm_feed(&a, chunk, 50), 0);
	/* 250 'x' and no '=': a syntax error, and the assembly is reset. */
	ck_assert_int_eq(text_asm_finish(&a, &l), -EPROTO);
	text_asm_data(&a, &len);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(text_asm_feed(&a, SEG("A=1\0")), 0);
	ck_assert_int_eq(text_asm_finish(&a, &l), 0);
	ck_assert_str_eq(text_find(&l, "A"), "1");
	text_list_free(&l);
	/* Finish resets on success too: the next LTDS starts empty. */
	ck_assert_int_eq(text_asm_finish(&a, &l), 0);
	ck_assert_uint_eq(l.n, 0);
	text_list_free(&l);
	text_asm_free(&a);
	text_asm_free(&a);
	text_asm_free(NULL);

	/* The limit never exceeds TEXT_MAX_BYTES through text_asm_init(). */
	text_asm_init(&a, 10u * TEXT_MAX_BYTES);
	ck_assert_uint_eq(a.max, TEXT_MAX_BYTES);
	text_asm_init_max(&a, 10u * TEXT_MAX_BYTES);
	ck_assert_uint_eq(a.max, 10u * TEXT_MAX_BYTES);
	text_asm_init_max(&a, 0);
	ck_assert_uint_eq(a.max, TEXT_ASM_HARD_MAX);
}
END_TEST

/* Values are checked 8 bytes at a time: a control byte (0x00-0x1f,
 * 0x7f) is refused at every position and next to any other byte, UTF-8
 * bytes (0x80 and up) pass. */
START_TEST(test_value_control_everywhere)
{
	char v[21];

	for (unsigned pos = 0; pos < sizeof(v); pos++)
		for (unsigned c = 0; c < 256; c++) {
			memset(v, 0xc3, sizeof(v));   /* UTF-8 lead bytes */
			v[pos] = (char)c;
			int ok = c >= 0x20 && c != 0x7f;
			ck_assert_msg(text_value_valid(v, sizeof(v)) == ok, "byte 0x%02x at %u", c, pos);
			memset(v, 'a', sizeof(v));
			v[pos] = (char)c;
			ck_assert_msg(text_value_valid(v, sizeof(v)) == ok, "byte 0x%02x at %u", c, pos);
		}
}
END_TEST

START_TEST(test_iter_ordered_duplicates)
{
	static const char seg[] = "TargetName=a\0TargetAddress=x\0TargetName=b\0TargetName=a";
	struct text_iter it;
	struct text_pair kv;
	const char *want[][2] = { { "TargetName", "a" }, { "TargetAddress", "x" },
				  { "TargetName", "b" }, { "TargetName", "a" } };

	text_iter_init(&it, SEG(seg));
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(text_iter_next(&it, &kv), 1);
		ck_assert_uint_eq(kv.key_len, strlen(want[i][0]));
		ck_assert_mem_eq(kv.key, want[i][0], kv.key_len);
		ck_assert_uint_eq(kv.value_len, strlen(want[i][1]));
		ck_assert_mem_eq(kv.value, want[i][1], kv.value_len);
	}
	ck_assert_int_eq(text_iter_next(&it, &kv), 0);
	ck_assert_int_eq(text_iter_next(&it, &kv), 0);

	/* The bad pair stops the walk and keeps stopping it. */
	text_iter_init(&it, SEG("A=1\0bad\0C=3\0"));
	ck_assert_int_eq(text_iter_next(&it, &kv), 1);
	ck_assert_int_eq(text_iter_next(&it, &kv), -EPROTO);
	ck_assert_int_eq(text_iter_next(&it, &kv), -EPROTO);
	/* The same segment through text_parse() is rejected whole. */
	ck_assert_int_eq(text_parse(SEG(seg), &(struct text_list){ 0 }), -EEXIST);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_parse_rfc_vector);
	tcase_add_test(tc, test_parse_edges);
	tcase_add_test(tc, test_parse_errors);
	tcase_add_test(tc, test_parse_limits);
	tcase_add_test(tc, test_list_add);
	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_asm_split_everywhere);
	tcase_add_test(tc, test_asm_limits_and_reset);
	tcase_add_test(tc, test_iter_ordered_duplicates);
	tcase_add_test(tc, test_value_control_everywhere);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
