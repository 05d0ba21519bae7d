#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "ipc.h"

/* Finishes w and decodes the frame back; returns the decoder's result. */
static int roundtrip(struct ipc_writer *w, struct ipc_msg **ret)
{
	uint8_t *buf;
	size_t len;
	int r = ipc_writer_finish(w, &buf, &len);
	ck_assert_int_eq(r, 0);
	r = ipc_frame_decode(buf, len, ret);
	free(buf);
	return r;
}

/* A frame whose payload is given raw (header built here). */
static int decode_raw(uint16_t version, const uint8_t *payload, size_t plen, struct ipc_msg **ret)
{
	uint8_t *buf = malloc(IPC_HDR_LEN + plen + 1);
	struct ipc_hdr h = { .version = version, .type = IPC_MSG_HELLO, .id = 7, .len = (uint32_t)plen };
	ipc_hdr_encode(&h, buf);
	if (plen)
		memcpy(buf + IPC_HDR_LEN, payload, plen);
	int r = ipc_frame_decode(buf, IPC_HDR_LEN + plen, ret);
	free(buf);
	return r;
}

START_TEST(test_header_layout)
{
	struct ipc_hdr h = { .version = 1, .type = 2, .flags = 1, .reserved = 0,
			     .id = 0x01020304, .len = 0x0a0b };
	uint8_t b[IPC_HDR_LEN];
	ipc_hdr_encode(&h, b);
	static const uint8_t want[IPC_HDR_LEN] = {
		'I', 'S', 'C', 'I', 0, 1, 0, 2, 0, 1, 0, 0, 1, 2, 3, 4, 0, 0, 0x0a, 0x0b,
	};
	ck_assert_mem_eq(b, want, sizeof(want));

	struct ipc_hdr d;
	ck_assert_int_eq(ipc_hdr_decode(b, sizeof(b), &d), 0);
	ck_assert_int_eq(d.version, 1);
	ck_assert_int_eq(d.type, 2);
	ck_assert_int_eq(d.flags, 1);
	ck_assert_uint_eq(d.id, 0x01020304);
	ck_assert_uint_eq(d.len, 0x0a0b);
	ck_assert_int_eq(ipc_hdr_check(&d), 0);

	ck_assert_int_eq(ipc_hdr_decode(b, IPC_HDR_LEN - 1, &d), -EINVAL);
	b[0] = 'X';
	ck_assert_int_eq(ipc_hdr_decode(b, sizeof(b), &d), -EBADMSG);
}
END_TEST

/* The version is checked before the length: a peer of another version may
 * have other limits, and must get the version message, not "too large". */
START_TEST(test_header_check_order)
{
	struct ipc_hdr h = { .version = 2, .len = IPC_MAX_PAYLOAD + 1 };
	ck_assert_int_eq(ipc_hdr_check(&h), -EPROTONOSUPPORT);
	h.version = IPC_PROTO_VERSION;
	ck_assert_int_eq(ipc_hdr_check(&h), -EMSGSIZE);
	h.len = IPC_MAX_PAYLOAD;
	ck_assert_int_eq(ipc_hdr_check(&h), 0);
	h.version = 0;
	h.len = 0;
	ck_assert_int_eq(ipc_hdr_check(&h), -EPROTONOSUPPORT);
}
END_TEST

START_TEST(test_roundtrip_all_types)
{
	struct ipc_writer w;
	struct ipc_msg *m;
	ipc_writer_init(&w, IPC_MSG_LOGIN, IPC_FLAG_RESPONSE, 42);
	ipc_put_u32(&w, IPC_TAG_STATUS, 0);
	ipc_put_str(&w, IPC_TAG_MESSAGE, "Login successful.");
	ipc_put_u32(&w, IPC_TAG_SID, 3);
	ipc_put_u32(&w, IPC_TAG_HOST_NO, 0xfffffffe);
	ipc_put_str(&w, IPC_TAG_DEVICE, "sdb");
	ipc_put_str(&w, IPC_TAG_DEVICE, "sdc");
	ipc_put_str(&w, IPC_TAG_DEVICE, "");
	ipc_group_begin(&w, IPC_TAG_SESSION);
	ipc_put_u32(&w, IPC_TAG_SID, 9);
	ipc_put_str(&w, IPC_TAG_SESSION_STATE, "LOGGED_IN");
	ipc_group_end(&w);
	ipc_group_begin(&w, IPC_TAG_SESSION);
	ipc_group_end(&w);
	ck_assert_int_eq(roundtrip(&w, &m), 0);

	ck_assert_int_eq(m->hdr.version, IPC_PROTO_VERSION);
	ck_assert_int_eq(m->hdr.type, IPC_MSG_LOGIN);
	ck_assert_int_eq(m->hdr.flags, IPC_FLAG_RESPONSE);
	ck_assert_uint_eq(m->hdr.id, 42);
	uint32_t v = 77;
	ck_assert_int_eq(ipc_get_u32(&m->fields, IPC_TAG_STATUS, &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_str_eq(ipc_get_str(&m->fields, IPC_TAG_MESSAGE), "Login successful.");
	ck_assert_int_eq(ipc_get_u32(&m->fields, IPC_TAG_HOST_NO, &v), 0);
	ck_assert_uint_eq(v, 0xfffffffe);
	ck_assert_uint_eq(ipc_count(&m->fields, IPC_TAG_DEVICE), 3);
	ck_assert_uint_eq(ipc_count(&m->fields, IPC_TAG_SESSION), 2);
	const struct ipc_field *s = ipc_find(&m->fields, IPC_TAG_SESSION);
	ck_assert_ptr_nonnull(s->group);
	ck_assert_int_eq(ipc_get_u32(s->group, IPC_TAG_SID, &v), 0);
	ck_assert_uint_eq(v, 9);
	ck_assert_str_eq(ipc_get_str(s->group, IPC_TAG_SESSION_STATE), "LOGGED_IN");
	/* absent fields: -ENOENT and the output untouched */
	v = 5;
	ck_assert_int_eq(ipc_get_u32(&m->fields, IPC_TAG_LOGIN_FLAGS, &v), -ENOENT);
	ck_assert_uint_eq(v, 5);
	ck_assert_ptr_null(ipc_get_str(&m->fields, IPC_TAG_RECORD));
	/* a string accessor on a number field finds nothing */
	ck_assert_ptr_null(ipc_get_str(&m->fields, IPC_TAG_SID));
	ipc_msg_free(m);
	ipc_msg_free(NULL);
}
END_TEST

START_TEST(test_empty_payload)
{
	struct ipc_writer w;
	uint8_t *buf;
	size_t len;
	struct ipc_msg *m;
	ipc_writer_init(&w, IPC_MSG_HELLO, 0, 1);
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), 0);
	ck_assert_uint_eq(len, IPC_HDR_LEN);
	ck_assert_int_eq(ipc_frame_decode(buf, len, &m), 0);
	ck_assert_uint_eq(m->fields.n, 0);
	ipc_msg_free(m);
	/* a trailing byte beyond the declared payload is not one frame */
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0;
	ck_assert_int_eq(ipc_frame_decode(longer, len + 1, &m), -EBADMSG);
	free(longer);
	free(buf);
}
END_TEST

/* The error answer is a contract with every past and future client: pin
 * its bytes. */
START_TEST(test_error_frame_fixed)
{
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(ipc_error_encode(IPC_MSG_LOGIN, 0x11223344, ISCSI_ERR_ACCESS, "no", &buf, &len), 0);
	static const uint8_t want[] = {
		'I', 'S', 'C', 'I', 0, 1, 0, 2, 0, 1, 0, 0, 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 18,
		0, 1, 0, 0, 0, 4, 0, 0, 0, 13,
		0, 2, 0, 0, 0, 2, 'n', 'o',
	};
	ck_assert_uint_eq(len, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
	free(buf);

	/* a message over the limit is cut, not refused */
	char *big = malloc(IPC_MESSAGE_MAX + 100);
	memset(big, 'x', IPC_MESSAGE_MAX + 99);
	big[IPC_MESSAGE_MAX + 99] = '\0';
	struct ipc_msg *m;
	ck_assert_int_eq(ipc_error_encode(0, 0, 9, big, &buf, &len), 0);
	ck_assert_int_eq(ipc_frame_decode(buf, len, &m), 0);
	ck_assert_uint_eq(strlen(ipc_get_str(&m->fields, IPC_TAG_MESSAGE)), IPC_MESSAGE_MAX);
	ipc_msg_free(m);
	free(buf);
	free(big);
}
END_TEST

/* Another version's frame: only STATUS and MESSAGE are read, and fields
 * that would be malformed under our table do not make it undecodable. */
START_TEST(test_other_version_fixed_fields)
{
	static const uint8_t payload[] = {
		0, 1, 0, 0, 0, 4, 0, 0, 0, 16,                 /* STATUS 16 */
		0, 9, 0, 0, 0, 2, 0xaa, 0xbb,                  /* "SID" with 2 bytes */
		0, 2, 0, 0, 0, 3, 'v', 'e', 'r',               /* MESSAGE */
		0, 11, 0, 0, 0, 1, 0,                          /* "DEVICE" with a NUL */
	};
	struct ipc_msg *m;
	ck_assert_int_eq(decode_raw(7, payload, sizeof(payload), &m), 0);
	uint32_t st;
	ck_assert_int_eq(ipc_get_u32(&m->fields, IPC_TAG_STATUS, &st), 0);
	ck_assert_uint_eq(st, 16);
	ck_assert_str_eq(ipc_get_str(&m->fields, IPC_TAG_MESSAGE), "ver");
	ck_assert_uint_eq(m->fields.n, 2);
	ck_assert_int_eq(m->hdr.version, 7);
	ipc_msg_free(m);
	/* same bytes under our version: malformed */
	ck_assert_int_eq(decode_raw(IPC_PROTO_VERSION, payload, sizeof(payload), &m), -EBADMSG);
}
END_TEST

START_TEST(test_unknown_tags_skipped)
{
	struct ipc_writer w;
	struct ipc_msg *m;
	ipc_writer_init(&w, IPC_MSG_HELLO, 0, 1);
	ipc_put_raw(&w, 0, "zz", 2);
	ipc_put_raw(&w, 999, "future", 6);
	ipc_put_raw(&w, 999, "again", 5);         /* duplicates of unknown tags too */
	ipc_put_u32(&w, IPC_TAG_SID, 4);
	ipc_put_raw(&w, 0xffff, NULL, 0);
	ck_assert_int_eq(roundtrip(&w, &m), 0);
	ck_assert_uint_eq(m->fields.n, 1);
	uint32_t sid;
	ck_assert_int_eq(ipc_get_u32(&m->fields, IPC_TAG_SID, &sid), 0);
	ck_assert_uint_eq(sid, 4);
	ipc_msg_free(m);
}
END_TEST

START_TEST(test_malformed_fields)
{
	struct ipc_msg *m = (struct ipc_msg *)0x1;

	/* duplicate of a non-repeatable tag */
	static const uint8_t dup[] = { 0, 9, 0, 0, 0, 4, 0, 0, 0, 1, 0, 9, 0, 0, 0, 4, 0, 0, 0, 2 };
	ck_assert_int_eq(decode_raw(1, dup, sizeof(dup), &m), -EBADMSG);
	ck_assert_ptr_eq(m, (struct ipc_msg *)0x1);   /* untouched on failure */
	/* integer of the wrong size */
	static const uint8_t shortint[] = { 0, 9, 0, 0, 0, 3, 0, 0, 1 };
	ck_assert_int_eq(decode_raw(1, shortint, sizeof(shortint), &m), -EBADMSG);
	static const uint8_t longint[] = { 0, 9, 0, 0, 0, 5, 0, 0, 0, 0, 1 };
	ck_assert_int_eq(decode_raw(1, longint, sizeof(longint), &m), -EBADMSG);
	/* NUL inside a string */
	static const uint8_t nul[] = { 0, 2, 0, 0, 0, 3, 'a', 0, 'b' };
	ck_assert_int_eq(decode_raw(1, nul, sizeof(nul), &m), -EBADMSG);
	/* truncated field header, value longer than what is left */
	static const uint8_t trunc_hdr[] = { 0, 9, 0, 0, 0 };
	ck_assert_int_eq(decode_raw(1, trunc_hdr, sizeof(trunc_hdr), &m), -EBADMSG);
	static const uint8_t trunc_val[] = { 0, 2, 0, 0, 0, 9, 'a', 'b' };
	ck_assert_int_eq(decode_raw(1, trunc_val, sizeof(trunc_val), &m), -EBADMSG);
	static const uint8_t huge_len[] = { 0, 2, 0xff, 0xff, 0xff, 0xff, 'a' };
	ck_assert_int_eq(decode_raw(1, huge_len, sizeof(huge_len), &m), -EBADMSG);
	/* a group inside a group is deeper than allowed */
	static const uint8_t deep[] = { 0, 15, 0, 0, 0, 6, 0, 15, 0, 0, 0, 0 };
	ck_assert_int_eq(decode_raw(1, deep, sizeof(deep), &m), -EBADMSG);
	/* a malformed field inside a group */
	static const uint8_t badgrp[] = { 0, 15, 0, 0, 0, 7, 0, 9, 0, 0, 0, 1, 0 };
	ck_assert_int_eq(decode_raw(1, badgrp, sizeof(badgrp), &m), -EBADMSG);
	/* string over its own limit (a target name of 224 bytes) */
	uint8_t name[6 + 224];
	memcpy(name, (uint8_t[]){ 0, 12, 0, 0, 0, 224 }, 6);
	memset(name + 6, 'a', 224);
	ck_assert_int_eq(decode_raw(1, name, sizeof(name), &m), -EBADMSG);
	name[5] = 223;
	ck_assert_int_eq(decode_raw(1, name, sizeof(name) - 1, &m), 0);
	ck_assert_uint_eq(strlen(ipc_get_str(&m->fields, IPC_TAG_TARGET_NAME)), 223);
	ipc_msg_free(m);
}
END_TEST

/* Every prefix of a valid payload, presented as a whole message, either
 * decodes or is rejected: never read past the end (ASan checks). */
START_TEST(test_every_truncation)
{
	struct ipc_writer w;
	uint8_t *buf;
	size_t len;
	ipc_writer_init(&w, IPC_MSG_SESSION_LIST_STATE, IPC_FLAG_RESPONSE, 3);
	ipc_put_u32(&w, IPC_TAG_STATUS, 0);
	ipc_group_begin(&w, IPC_TAG_SESSION);
	ipc_put_u32(&w, IPC_TAG_SID, 1);
	ipc_put_str(&w, IPC_TAG_TARGET_NAME, "iqn.2003-01.org.example:t1");
	ipc_group_end(&w);
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), 0);
	size_t plen = len - IPC_HDR_LEN;
	int ok = 0;
	for (size_t cut = 0; cut < plen; cut++) {
		struct ipc_msg *m;
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, buf + IPC_HDR_LEN, cut);
		int r = decode_raw(1, copy, cut, &m);
		free(copy);
		if (r == 0) {
			ok++;
			ipc_msg_free(m);
		} else {
			ck_assert_int_eq(r, -EBADMSG);
		}
	}
	/* the empty prefix and the one ending after STATUS are complete */
	ck_assert_int_eq(ok, 2);
	free(buf);
}
END_TEST

START_TEST(test_field_budget)
{
	size_t n = IPC_MAX_FIELDS + 1;
	uint8_t *p = calloc(n, IPC_TLV_HDR_LEN);
	for (size_t i = 0; i < n; i++)
		p[i * IPC_TLV_HDR_LEN + 1] = 200;   /* unknown tag, empty value */
	struct ipc_msg *m;
	ck_assert_int_eq(decode_raw(1, p, n * IPC_TLV_HDR_LEN, &m), -EBADMSG);
	ck_assert_int_eq(decode_raw(1, p, (n - 1) * IPC_TLV_HDR_LEN, &m), 0);
	ipc_msg_free(m);
	free(p);

	/* the writer enforces the same budget */
	struct ipc_writer w;
	ipc_writer_init(&w, IPC_MSG_HELLO, 0, 1);
	for (size_t i = 0; i < n; i++)
		ipc_put_str(&w, IPC_TAG_DEVICE, "");
	uint8_t *buf;
	size_t len;
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), -E2BIG);
}
END_TEST

START_TEST(test_size_limits)
{
	struct ipc_writer w;
	uint8_t *buf;
	size_t len;
	/* largest record that fits exactly in one frame */
	size_t max = IPC_MAX_PAYLOAD - IPC_TLV_HDR_LEN;
	char *rec = malloc(max + 2);
	memset(rec, 'k', max + 1);
	rec[max] = '\0';
	ipc_writer_init(&w, IPC_MSG_LOGIN, 0, 1);
	ipc_put_str(&w, IPC_TAG_RECORD, rec);
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), 0);
	ck_assert_uint_eq(len, IPC_MAX_FRAME);
	struct ipc_msg *m;
	ck_assert_int_eq(ipc_frame_decode(buf, len, &m), 0);
	ck_assert_uint_eq(strlen(ipc_get_str(&m->fields, IPC_TAG_RECORD)), max);
	ipc_msg_free(m);
	free(buf);
	/* one byte more does not fit */
	rec[max] = 'k';
	rec[max + 1] = '\0';
	ipc_writer_init(&w, IPC_MSG_LOGIN, 0, 1);
	ipc_put_str(&w, IPC_TAG_RECORD, rec);
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), -EMSGSIZE);
	free(rec);

	/* a header announcing more than the limit */
	uint8_t hb[IPC_HDR_LEN];
	struct ipc_hdr h = { .version = 1, .type = 1, .len = IPC_MAX_PAYLOAD + 1 };
	ipc_hdr_encode(&h, hb);
	ck_assert_int_eq(ipc_frame_decode(hb, sizeof(hb), &m), -EMSGSIZE);
	/* payload shorter than announced */
	h.len = 10;
	ipc_hdr_encode(&h, hb);
	ck_assert_int_eq(ipc_frame_decode(hb, sizeof(hb), &m), -EBADMSG);
}
END_TEST

START_TEST(test_writer_misuse)
{
	struct ipc_writer w;
	uint8_t *buf;
	size_t len;
	ipc_writer_init(&w, IPC_MSG_HELLO, 0, 1);
	ipc_put_str(&w, IPC_TAG_SID, "x");              /* wrong type for the tag */
	ipc_put_u32(&w, IPC_TAG_SID, 1);                /* ignored after an error */
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), -EINVAL);

	ipc_writer_init(&w, IPC_MSG_HELLO, 0, 1);
	ipc_put_u32(&w, 500, 1);                        /* unknown tag */
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), -EINVAL);

	ipc_writer_init(&w, IPC_MSG_HELLO, 0, 1);
	ipc_put_str(&w, IPC_TAG_MESSAGE, NULL);
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), -EINVAL);

	char name[IPC_NAME_MAX + 2];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ipc_writer_init(&w, IPC_MSG_HELLO, 0, 1);
	ipc_put_str(&w, IPC_TAG_TARGET_NAME, name);
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), -E2BIG);

	ipc_writer_init(&w, IPC_MSG_HELLO, 0, 1);
	ipc_group_end(&w);
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), -EINVAL);

	ipc_writer_init(&w, IPC_MSG_HELLO, 0, 1);
	ipc_group_begin(&w, IPC_TAG_SESSION);
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), -EINVAL);   /* still open */

	ipc_writer_init(&w, IPC_MSG_HELLO, 0, 1);
	ipc_group_begin(&w, IPC_TAG_SESSION);
	ipc_group_begin(&w, IPC_TAG_SESSION);           /* too deep */
	ck_assert_int_eq(ipc_writer_finish(&w, &buf, &len), -EINVAL);

	ipc_writer_init(&w, IPC_MSG_HELLO, 0, 1);
	ipc_put_u32(&w, IPC_TAG_SID, 1);
	ipc_writer_release(&w);                          /* no leak (ASan) */
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(ipc_tag_name(IPC_TAG_STATUS), "STATUS");
	ck_assert_str_eq(ipc_tag_name(IPC_TAG_SESSION), "SESSION");
	ck_assert_str_eq(ipc_tag_name(0), "?");
	ck_assert_str_eq(ipc_tag_name(IPC_TAG_MAX), "?");
	ck_assert_str_eq(ipc_msg_type_name(IPC_MSG_LOGIN), "LOGIN");
	ck_assert_str_eq(ipc_msg_type_name(IPC_MSG_STOP), "STOP");
	ck_assert_str_eq(ipc_msg_type_name(IPC_MSG_MAX), "?");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ipc");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_header_layout);
	tcase_add_test(tc, test_header_check_order);
	tcase_add_test(tc, test_roundtrip_all_types);
	tcase_add_test(tc, test_empty_payload);
	tcase_add_test(tc, test_error_frame_fixed);
	tcase_add_test(tc, test_other_version_fixed_fields);
	tcase_add_test(tc, test_unknown_tags_skipped);
	tcase_add_test(tc, test_malformed_fields);
	tcase_add_test(tc, test_every_truncation);
	tcase_add_test(tc, test_field_budget);
	tcase_add_test(tc, test_size_limits);
	tcase_add_test(tc, test_writer_misuse);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
