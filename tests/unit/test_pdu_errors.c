/* PDU codec: one test per validation failure (opcode, direction, fixed
 * bits, invalid field values, AHS, data length, padding, digests,
 * truncation), each checking the error code and the named cause. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "pdu.h"
#include "pdu_sample.h"

START_TEST(test_bad_opcode)
{
	static const uint8_t bad[] = { 0x07, 0x08, 0x0f, 0x11, 0x1f, 0x27, 0x30, 0x33, 0x3e };

	for (size_t i = 0; i < sizeof(bad); i++) {
		memset(wire, 0, 48);
		wire[0] = bad[i];
		wire[1] = 0x80;
		ck_assert_int_eq(decode_err(48, PDU_DIR_ANY, &ff_opts, -EPROTO), PDU_ERR_OPCODE);
	}
	ck_assert_str_eq(pdu_opcode_name(0x07), "unknown");
	ck_assert_str_eq(pdu_opcode_name(0x43), "Login Request");
}
END_TEST

START_TEST(test_wrong_direction)
{
	struct pdu p;

	sample(ISCSI_OP_LOGIN_REQ, &p);
	size_t len = encode_ok(&p, &login_opts);
	ck_assert_int_eq(decode_err(len, PDU_DIR_TO_INITIATOR, &login_opts, -EPROTO), PDU_ERR_OPCODE);
	sample(ISCSI_OP_LOGIN_RSP, &p);
	len = encode_ok(&p, &login_opts);
	ck_assert_int_eq(decode_err(len, PDU_DIR_TO_TARGET, &login_opts, -EPROTO), PDU_ERR_OPCODE);
}
END_TEST

/* Bits the figures fix rather than reserve. */
START_TEST(test_fixed_bits)
{
	static const uint8_t f_ops[] = {
		ISCSI_OP_NOOP_IN, ISCSI_OP_SCSI_RSP, ISCSI_OP_TMF_RSP, ISCSI_OP_LOGOUT_RSP,
		ISCSI_OP_R2T, ISCSI_OP_ASYNC_MSG, ISCSI_OP_REJECT, ISCSI_OP_NOOP_OUT,
		ISCSI_OP_TMF_REQ, ISCSI_OP_LOGOUT_REQ, ISCSI_OP_SNACK,
	};
	struct pdu p;
	size_t len;

	for (size_t i = 0; i < sizeof(f_ops); i++) {
		sample(f_ops[i], &p);
		len = encode_ok(&p, &ff_opts);
		wire[1] &= 0x7f;
		ck_assert_int_eq(decode_err(len, PDU_DIR_ANY, &ff_opts, -EPROTO), PDU_ERR_RESERVED);
	}

	sample(ISCSI_OP_LOGIN_REQ, &p);
	len = encode_ok(&p, &login_opts);
	wire[0] = 0x03;          /* Login Request without the I bit */
	ck_assert_int_eq(decode_err(len, PDU_DIR_TO_TARGET, &login_opts, -EPROTO), PDU_ERR_RESERVED);

	for (int bit = 3; bit <= 5; bit++) {
		sample(ISCSI_OP_DATA_IN, &p);
		len = encode_ok(&p, &ff_opts);
		wire[1] |= (uint8_t)(1u << bit);
		ck_assert_int_eq(decode_err(len, PDU_DIR_TO_INITIATOR, &ff_opts, -EPROTO), PDU_ERR_RESERVED);
	}
}
END_TEST

static void expect_field_error(uint8_t op, void (*mangle)(struct pdu *))
{
	struct pdu p;
	size_t len;

	sample(op, &p);
	len = encode_ok(&p, &ff_opts);
	mangle(&p);
	/* The encoder refuses it too... */
	ck_assert_int_eq(pdu_encode(&p, &ff_opts, wire + 2048, 2048, &len), -EINVAL);
	/* ...so write the bad byte 1 (or 2) by hand. */
	wire[1] = p.flags;
	if (op == ISCSI_OP_LOGOUT_RSP)
		wire[2] = p.response;
	ck_assert_int_eq(decode_err(len, PDU_DIR_ANY, &ff_opts, -EPROTO), PDU_ERR_FIELD);
}

static void m_login_t_and_c(struct pdu *p) { p->flags = pdu_login_flags(true, true, 0, 1); }
static void m_login_csg2(struct pdu *p) { p->flags = pdu_login_flags(false, false, 2, 0); }
static void m_login_nsg2(struct pdu *p) { p->flags = pdu_login_flags(true, false, 1, 2); }
static void m_text_f_and_c(struct pdu *p) { p->flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_CONTINUE; }
static void m_logout_reason(struct pdu *p) { p->flags = ISCSI_FLAG_FINAL | 3; }
static void m_logout_rsp(struct pdu *p) { p->response = 4; }
static void m_tmf_fn0(struct pdu *p) { p->flags = ISCSI_FLAG_FINAL; }
static void m_tmf_fn9(struct pdu *p) { p->flags = ISCSI_FLAG_FINAL | 9; }
static void m_snack_type(struct pdu *p) { p->flags = ISCSI_FLAG_FINAL | 4; }
static void m_rsp_o_u(struct pdu *p) { p->flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_RSP_OVER | ISCSI_FLAG_RSP_UNDER; }
static void m_rsp_bidi(struct pdu *p) { p->flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_RSP_BIDI_OVER | ISCSI_FLAG_RSP_BIDI_UNDER; }
static void m_datain_s_no_f(struct pdu *p) { p->flags = ISCSI_FLAG_DATA_STATUS; }
static void m_datain_o_u(struct pdu *p) { p->flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_DATA_STATUS | ISCSI_FLAG_RSP_OVER | ISCSI_FLAG_RSP_UNDER; }

START_TEST(test_invalid_fields)
{
	expect_field_error(ISCSI_OP_LOGIN_REQ, m_login_t_and_c);
	expect_field_error(ISCSI_OP_LOGIN_RSP, m_login_t_and_c);
	expect_field_error(ISCSI_OP_LOGIN_RSP, m_login_csg2);
	expect_field_error(ISCSI_OP_LOGIN_RSP, m_login_nsg2);
	expect_field_error(ISCSI_OP_TEXT_REQ, m_text_f_and_c);
	expect_field_error(ISCSI_OP_TEXT_RSP, m_text_f_and_c);
	expect_field_error(ISCSI_OP_LOGOUT_REQ, m_logout_reason);
	expect_field_error(ISCSI_OP_LOGOUT_RSP, m_logout_rsp);
	expect_field_error(ISCSI_OP_TMF_REQ, m_tmf_fn0);
	expect_field_error(ISCSI_OP_TMF_REQ, m_tmf_fn9);
	expect_field_error(ISCSI_OP_SNACK, m_snack_type);
	expect_field_error(ISCSI_OP_SCSI_RSP, m_rsp_o_u);
	expect_field_error(ISCSI_OP_SCSI_RSP, m_rsp_bidi);
	expect_field_error(ISCSI_OP_DATA_IN, m_datain_s_no_f);
	expect_field_error(ISCSI_OP_DATA_IN, m_datain_o_u);
}
END_TEST

START_TEST(test_ahs_rules)
{
	struct pdu p;
	size_t len;

	/* AHS on anything but SCSI Command. */
	sample(ISCSI_OP_NOOP_IN, &p);
	p.data_len = 0;
	len = encode_ok(&p, &ff_opts);
	wire[4] = 1;
	memset(wire + 48, 0, 4);
	ck_assert_int_eq(decode_err(len + 4, PDU_DIR_TO_INITIATOR, &ff_opts, -EPROTO), PDU_ERR_AHS_LEN);

	/* An AHS whose AHSLength runs past TotalAHSLength. */
	sample(ISCSI_OP_SCSI_CMD, &p);
	len = encode_ok(&p, &ff_opts);
	wire[48 + 1] = 0x06;     /* 3 + 6 = 9 bytes -> 12, but only 8 present */
	ck_assert_int_eq(decode_err(len, PDU_DIR_TO_TARGET, &ff_opts, -EPROTO), PDU_ERR_AHS_LEN);

	/* Two AHS back to back are fine. */
	static const uint8_t two[12] = { 0, 1, 1, 0, 0, 5, 2, 0, 0, 0, 0x10, 0 };
	p.ahs = two;
	p.ahs_len_words = 3;
	len = encode_ok(&p, &ff_opts);
	struct pdu q;
	ck_assert_int_eq(pdu_decode(wire, len, PDU_DIR_TO_TARGET, &ff_opts, &q, NULL, NULL), 0);
	ck_assert_mem_eq(q.ahs, two, 12);

	/* The encoder refuses AHS where none is defined, or a NULL one. */
	sample(ISCSI_OP_TEXT_REQ, &p);
	p.ahs = two;
	p.ahs_len_words = 3;
	ck_assert_int_eq(pdu_encode(&p, &ff_opts, wire, sizeof(wire), &len), -EINVAL);
	sample(ISCSI_OP_SCSI_CMD, &p);
	p.ahs = NULL;
	ck_assert_int_eq(pdu_encode(&p, &ff_opts, wire, sizeof(wire), &len), -EINVAL);
}
END_TEST

START_TEST(test_data_len_limits)
{
	struct pdu p, q;
	static uint8_t big[ISCSI_LOGIN_MAX_DSL + 1];
	static uint8_t buf[ISCSI_LOGIN_MAX_DSL + 64];
	size_t len;

	/* 8192 is fine during login, 8193 is not (RFC 7143 §6.1 via opts). */
	sample(ISCSI_OP_LOGIN_RSP, &p);
	p.data = big;
	p.data_len = ISCSI_LOGIN_MAX_DSL;
	ck_assert_int_eq(pdu_encode(&p, &login_opts, buf, sizeof(buf), &len), 0);
	ck_assert_int_eq(pdu_decode(buf, len, PDU_DIR_TO_INITIATOR, &login_opts, &q, NULL, NULL), 0);
	p.data_len = ISCSI_LOGIN_MAX_DSL + 1;
	ck_assert_int_eq(pdu_encode(&p, &login_opts, buf, sizeof(buf), &len), -EINVAL);
	ck_assert_int_eq(pdu_encode(&p, &ff_opts, buf, sizeof(buf), &len), 0);
	enum pdu_error err;
	ck_assert_int_eq(pdu_decode_bhs(buf, PDU_DIR_TO_INITIATOR, &login_opts, &q, &err), -EMSGSIZE);
	ck_assert_int_eq(err, PDU_ERR_DATA_LEN);
	ck_assert_int_eq(pdu_decode(buf, len, PDU_DIR_TO_INITIATOR, &ff_opts, &q, NULL, NULL), 0);

	/* A limit above 2^24-1 is clamped, and 2^24-1 itself is accepted by
	 * pdu_decode_bhs (the reader then needs that many bytes). */
	struct pdu_opts huge = { .max_data_len = 0xffffffffu };
	memset(wire, 0, 48);
	wire[0] = ISCSI_OP_TEXT_RSP;
	wire[1] = 0x80;
	wire[5] = wire[6] = wire[7] = 0xff;
	ck_assert_int_eq(pdu_decode_bhs(wire, PDU_DIR_TO_INITIATOR, &huge, &q, &err), 0);
	ck_assert_uint_eq(q.data_len, ISCSI_MAX_DSL);
	ck_assert_uint_eq(pdu_rest_len(&q, &huge), 0x1000000);
	ck_assert_int_eq(decode_err(48, PDU_DIR_TO_INITIATOR, &huge, -EAGAIN), PDU_ERR_SHORT);

	/* Data where the opcode defines none. */
	static const uint8_t none[] = { ISCSI_OP_R2T, ISCSI_OP_LOGOUT_RSP, ISCSI_OP_TMF_RSP };
	for (size_t i = 0; i < sizeof(none); i++) {
		sample(none[i], &p);
		len = encode_ok(&p, &ff_opts);
		wire[7] = 4;
		memset(wire + 48, 0, 4);
		ck_assert_int_eq(decode_err(len + 4, PDU_DIR_TO_INITIATOR, &ff_opts, -EMSGSIZE),
				 PDU_ERR_DATA_LEN);
		p.data = payload;
		p.data_len = 4;
		ck_assert_int_eq(pdu_encode(&p, &ff_opts, wire, sizeof(wire), &len), -EINVAL);
	}
}
END_TEST

START_TEST(test_padding_nonzero)
{
	struct pdu p;
	size_t len;

	sample(ISCSI_OP_TEXT_RSP, &p);     /* 21 bytes of data, 3 of padding */
	len = encode_ok(&p, &ff_opts);
	ck_assert_uint_eq(len, 48 + 24);
	for (int i = 0; i < 3; i++) {
		encode_ok(&p, &ff_opts);
		wire[48 + 21 + i] = 0x01;
		ck_assert_int_eq(decode_err(len, PDU_DIR_TO_INITIATOR, &ff_opts, -EPROTO), PDU_ERR_PADDING);
	}
}
END_TEST

START_TEST(test_digest_mismatch)
{
	static const struct pdu_opts both = { .max_data_len = 65536, .header_digest = true, .data_digest = true };
	struct pdu p;
	size_t len;

	sample(ISCSI_OP_DATA_IN, &p);
	len = encode_ok(&p, &both);
	ck_assert_uint_eq(len, 48 + 4 + 24 + 4);
	/* The digests are CRC32C of what they cover, LSB first. */
	ck_assert_uint_eq(crc32c_get_digest(wire + 48), crc32c(0, wire, 48));
	ck_assert_uint_eq(crc32c_get_digest(wire + 76), crc32c(0, wire + 52, 24));

	wire[20] ^= 1;           /* a header byte */
	ck_assert_int_eq(decode_err(len, PDU_DIR_TO_INITIATOR, &both, -EBADMSG), PDU_ERR_HDR_DIGEST);
	encode_ok(&p, &both);
	wire[49] ^= 0x80;        /* the header digest itself */
	ck_assert_int_eq(decode_err(len, PDU_DIR_TO_INITIATOR, &both, -EBADMSG), PDU_ERR_HDR_DIGEST);
	encode_ok(&p, &both);
	wire[60] ^= 4;           /* a data byte */
	ck_assert_int_eq(decode_err(len, PDU_DIR_TO_INITIATOR, &both, -EBADMSG), PDU_ERR_DATA_DIGEST);
	encode_ok(&p, &both);
	wire[79] ^= 1;           /* the data digest itself */
	ck_assert_int_eq(decode_err(len, PDU_DIR_TO_INITIATOR, &both, -EBADMSG), PDU_ERR_DATA_DIGEST);

	/* Digests negotiated but the peer sent none: the lengths no longer
	 * line up and the header digest check reads data bytes. */
	encode_ok(&p, &ff_opts);
	ck_assert_int_eq(decode_err(48 + 24 + 8, PDU_DIR_TO_INITIATOR, &both, -EBADMSG), PDU_ERR_HDR_DIGEST);

	/* No data segment: no data digest either (§13.1 digests only what
	 * exists). */
	sample(ISCSI_OP_R2T, &p);
	ck_assert_uint_eq(encode_ok(&p, &both), 48 + 4);
}
END_TEST

START_TEST(test_truncated)
{
	static const struct pdu_opts both = { .max_data_len = 65536, .header_digest = true, .data_digest = true };
	struct pdu p;
	size_t len;

	sample(ISCSI_OP_SCSI_CMD, &p);
	len = encode_ok(&p, &both);
	for (size_t cut = 0; cut < len; cut++)
		ck_assert_int_eq(decode_err(cut, PDU_DIR_TO_TARGET, &both, -EAGAIN), PDU_ERR_SHORT);
	/* Extra bytes after the PDU are the next PDU's: not consumed. */
	size_t used;
	ck_assert_int_eq(pdu_decode(wire, len + 7, PDU_DIR_TO_TARGET, &both, &p, &used, NULL), 0);
	ck_assert_uint_eq(used, len);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pdu_errors");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_bad_opcode);
	tcase_add_test(tc, test_wrong_direction);
	tcase_add_test(tc, test_fixed_bits);
	tcase_add_test(tc, test_invalid_fields);
	tcase_add_test(tc, test_ahs_rules);
	tcase_add_test(tc, test_data_len_limits);
	tcase_add_test(tc, test_padding_nonzero);
	tcase_add_test(tc, test_digest_mismatch);
	tcase_add_test(tc, test_truncated);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
