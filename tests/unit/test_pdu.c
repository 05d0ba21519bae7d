/* PDU codec: a fixed RFC vector, byte layouts checked against the RFC 7143
 * §11 figures, round trips for every opcode with and without digests, the
 * split (kernel) form. Validation failures are in test_pdu_errors.c. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crc32c.h"
#include "pdu.h"
#include "pdu_sample.h"

/* Round trip for each opcode, each digest combination, both the one-step
 * and the two-step decoder. */
START_TEST(test_roundtrip_every_opcode)
{
	for (size_t i = 0; i < sizeof(all_ops); i++) {
		for (size_t k = 0; k < sizeof(all_opts) / sizeof(all_opts[0]); k++) {
			const struct pdu_opts *o = &all_opts[k];
			enum pdu_dir dir = all_ops[i] < 0x20 ? PDU_DIR_TO_TARGET : PDU_DIR_TO_INITIATOR;
			struct pdu p, q, r;
			size_t used = 0, len;
			enum pdu_error err;

			sample(all_ops[i], &p);
			len = encode_ok(&p, o);
			ck_assert_int_eq(pdu_decode(wire, len, dir, o, &q, &used, &err), 0);
			ck_assert_int_eq(err, PDU_OK);
			ck_assert_uint_eq(used, len);
			ck_assert_msg(pdu_same(&p, &q), "%s opts %zu", pdu_opcode_name(all_ops[i]), k);
			ck_assert_int_eq(pdu_decode(wire, len, PDU_DIR_ANY, o, &q, NULL, NULL), 0);

			ck_assert_int_eq(pdu_decode_bhs(wire, dir, o, &r, &err), 0);
			ck_assert_uint_eq(ISCSI_BHS_LEN + pdu_rest_len(&r, o), len);
			ck_assert_ptr_null(r.data);
			ck_assert_int_eq(pdu_decode_rest(&r, wire, len, o, &err), 0);
			ck_assert(pdu_same(&p, &r));
			/* Data (when present) points into the buffer, after the
			 * BHS, AHS and header digest. */
			if (r.data_len)
				ck_assert_ptr_eq(r.data, wire + 48 + r.ahs_len_words * 4 +
						 (o->header_digest ? 4 : 0));
		}
	}
}
END_TEST

/* RFC 7143 Appendix B.4: the SCSI Read (10) command PDU decodes to the
 * fields it spells, and with HeaderDigest its digest is 56 3a 96 d9. */
START_TEST(test_rfc_read10_vector)
{
	static const uint8_t bhs[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
		0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	static const struct pdu_opts hd = { .max_data_len = 8192, .header_digest = true };
	struct pdu p;
	size_t len;

	memcpy(wire, bhs, 48);
	memcpy(wire + 48, (const uint8_t[]){ 0x56, 0x3a, 0x96, 0xd9 }, 4);
	ck_assert_int_eq(pdu_decode(wire, 52, PDU_DIR_TO_TARGET, &hd, &p, &len, NULL), 0);
	ck_assert_uint_eq(len, 52);
	ck_assert_int_eq(p.opcode, ISCSI_OP_SCSI_CMD);
	ck_assert(!p.immediate);
	ck_assert_int_eq(p.flags, ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ);
	ck_assert_uint_eq(p.itt, 0x14000000);
	ck_assert_uint_eq(p.exp_xfer_len, 0x400);
	ck_assert_uint_eq(p.cmdsn, 0x14);
	ck_assert_uint_eq(p.exp_statsn, 0x18);
	ck_assert_int_eq(p.cdb[0], 0x28);
	ck_assert_int_eq(p.cdb[8], 0x02);

	/* And the encoder reproduces the vector, digest included. */
	memset(wire, 0xee, sizeof(wire));
	len = encode_ok(&p, &hd);
	ck_assert_uint_eq(len, 52);
	ck_assert_mem_eq(wire, bhs, 48);
	ck_assert_mem_eq(wire + 48, ((const uint8_t[]){ 0x56, 0x3a, 0x96, 0xd9 }), 4);
}
END_TEST

/* Byte positions of the fields the login engine relies on (§11.12). */
START_TEST(test_login_request_layout)
{
	struct pdu p;

	sample(ISCSI_OP_LOGIN_REQ, &p);
	p.version_max = 0x01;
	p.version_min = 0x00;
	encode_ok(&p, &login_opts);
	ck_assert_int_eq(wire[0], 0x43);                 /* I bit + 0x03 */
	ck_assert_int_eq(wire[1], 0x87);                 /* T, CSG 1, NSG 3 */
	ck_assert_int_eq(wire[2], 0x01);
	ck_assert_int_eq(wire[3], 0x00);
	ck_assert_int_eq(wire[4], 0);
	ck_assert_mem_eq(wire + 5, ((const uint8_t[]){ 0, 0, 21 }), 3);
	ck_assert_mem_eq(wire + 8, ((const uint8_t[]){ 0x80, 0x12, 0x34, 0x56, 0x78, 0x9a, 0x12, 0x34 }), 8);
	ck_assert_mem_eq(wire + 16, ((const uint8_t[]){ 1, 2, 3, 4, 0x43, 0x21, 0, 0 }), 8);
	ck_assert_mem_eq(wire + 24, ((const uint8_t[]){ 0x41, 0x42, 0x43, 0x44, 0x0a, 0x0b, 0x0c, 0x0d }), 8);
	for (int i = 32; i < 48; i++)
		ck_assert_int_eq(wire[i], 0);
	ck_assert_mem_eq(wire + 48, payload, 21);
	ck_assert_mem_eq(wire + 69, ((const uint8_t[]){ 0, 0, 0 }), 3);  /* padding */

	/* The immediate bit is always set on Login Requests. */
	p.immediate = false;
	encode_ok(&p, &login_opts);
	ck_assert_int_eq(wire[0], 0x43);
}
END_TEST

START_TEST(test_login_response_layout)
{
	struct pdu p, q;

	memset(wire, 0, 48);
	wire[0] = 0x23;
	wire[1] = 0x81;          /* T, CSG 0, NSG 1 */
	wire[2] = 0x00;
	wire[3] = 0x00;
	memcpy(wire + 8, (const uint8_t[]){ 0x80, 1, 2, 3, 4, 5, 0x00, 0x09 }, 8);
	wire[19] = 0x2a;
	wire[27] = 5;            /* StatSN */
	wire[31] = 6;            /* ExpCmdSN */
	wire[35] = 7;            /* MaxCmdSN */
	wire[36] = 2;            /* Status-Class */
	wire[37] = 1;            /* Status-Detail */
	ck_assert_int_eq(pdu_decode(wire, 48, PDU_DIR_TO_INITIATOR, &login_opts, &p, NULL, NULL), 0);
	ck_assert(pdu_login_transit(&p));
	ck_assert_uint_eq(pdu_login_csg(&p), ISCSI_STAGE_SECURITY);
	ck_assert_uint_eq(pdu_login_nsg(&p), ISCSI_STAGE_OPERATIONAL);
	ck_assert_uint_eq(p.tsih, 9);
	ck_assert_int_eq(p.isid[0], 0x80);
	ck_assert_uint_eq(p.itt, 0x2a);
	ck_assert_uint_eq(p.statsn, 5);
	ck_assert_uint_eq(p.exp_cmdsn, 6);
	ck_assert_uint_eq(p.max_cmdsn, 7);
	ck_assert_int_eq(p.status_class, 2);
	ck_assert_int_eq(p.status_detail, 1);
	ck_assert_ptr_null(p.data);

	uint8_t isid[6];
	uint16_t tsih;
	pdu_get_isid_tsih(&p, isid, &tsih);
	ck_assert_mem_eq(isid, ((const uint8_t[]){ 0x80, 1, 2, 3, 4, 5 }), 6);
	ck_assert_uint_eq(tsih, 9);

	/* NSG is reserved without T (§11.12.3): ignored, not an error. */
	wire[1] = 0x02;
	ck_assert_int_eq(pdu_decode(wire, 48, PDU_DIR_TO_INITIATOR, &login_opts, &q, NULL, NULL), 0);
	ck_assert_uint_eq(pdu_login_nsg(&q), 0);
}
END_TEST

/* RFC 7143 §11: receivers ignore reserved fields. A target that puts junk
 * in every reserved byte of a NOP-In and an R2T is still understood, and
 * the junk does not survive into the struct or a re-encoding. */
START_TEST(test_reserved_junk_ignored)
{
	struct pdu p, clean;

	sample(ISCSI_OP_NOOP_IN, &clean);
	clean.data_len = 0;
	clean.data = NULL;
	encode_ok(&clean, &ff_opts);
	wire[0] |= 0xc0;         /* bit 7 and the (response) I bit */
	wire[1] |= 0x7f;         /* reserved flag bits */
	wire[2] = wire[3] = 0xff;
	memset(wire + 36, 0xff, 12);
	ck_assert_int_eq(pdu_decode(wire, 48, PDU_DIR_TO_INITIATOR, &ff_opts, &p, NULL, NULL), 0);
	ck_assert(pdu_same(&p, &clean));

	sample(ISCSI_OP_R2T, &clean);
	encode_ok(&clean, &ff_opts);
	wire[1] |= 0x7f;
	wire[2] = wire[3] = 0xee;
	ck_assert_int_eq(pdu_decode(wire, 48, PDU_DIR_TO_INITIATOR, &ff_opts, &p, NULL, NULL), 0);
	ck_assert(pdu_same(&p, &clean));
	encode_ok(&p, &ff_opts);
	ck_assert_int_eq(wire[1], 0x80);
	ck_assert_int_eq(wire[2], 0);

	/* Data-In without S: status, StatSN and residual are reserved. */
	sample(ISCSI_OP_DATA_IN, &clean);
	clean.flags = 0;
	clean.status = 0;
	clean.statsn = 0;
	clean.residual = 0;
	encode_ok(&clean, &ff_opts);
	wire[3] = 0x02;
	memset(wire + 24, 0xff, 4);
	memset(wire + 44, 0xff, 4);
	ck_assert_int_eq(pdu_decode(wire, 48 + 24, PDU_DIR_TO_INITIATOR, &ff_opts, &p, NULL, NULL), 0);
	ck_assert(pdu_same(&p, &clean));

	/* Logout "close session": CID is reserved. */
	sample(ISCSI_OP_LOGOUT_REQ, &clean);
	clean.flags = ISCSI_FLAG_FINAL | ISCSI_LOGOUT_CLOSE_SESSION;
	clean.cid = 0;
	encode_ok(&clean, &ff_opts);
	wire[20] = 0x12;
	ck_assert_int_eq(pdu_decode(wire, 48, PDU_DIR_TO_TARGET, &ff_opts, &p, NULL, NULL), 0);
	ck_assert_uint_eq(p.cid, 0);
}
END_TEST

/* Field offsets checked against the §11 figures independently of the
 * encoder: byte k of the BHS holds k, so a 32-bit field at offset k reads
 * as BE32(k). Then the encoder must put back exactly the defined bytes and
 * zero the reserved ones. */
#define BE16(k) ((uint16_t)((k) << 8 | ((k) + 1)))
#define BE32(k) ((uint32_t)(k) << 24 | (uint32_t)((k) + 1) << 16 | (uint32_t)((k) + 2) << 8 | (uint32_t)((k) + 3))

static const struct {
	uint8_t byte0, byte1;
	const char *defined;     /* 'x' for each of bytes 0..47 the opcode defines */
} layouts[] = {
	/*                          0         1         2         3         4
	 *                          0123456789012345678901234567890123456789012345678 */
	{ 0x40, 0x80, "xx..xxxxxxxxxxxxxxxxxxxxxxxxxxxx................" },  /* NOP-Out */
	{ 0x01, 0xe1, "xx..xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },  /* SCSI Cmd */
	{ 0x02, 0x81, "xx..xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx........" },  /* TMF Req */
	{ 0x43, 0x87, "xxxxxxxxxxxxxxxxxxxxxx..xxxxxxxx................" },  /* Login Req */
	{ 0x04, 0x80, "xx..xxxxxxxxxxxxxxxxxxxxxxxxxxxx................" },  /* Text Req */
	{ 0x05, 0x80, "xx..xxxxxxxxxxxxxxxxxxxx....xxxx....xxxxxxxx...." },  /* Data-Out */
	{ 0x06, 0x81, "xx..xxxx........xxxxxx..xxxxxxxx................" },  /* Logout Req */
	{ 0x10, 0x81, "xx..xxxxxxxxxxxxxxxxxxxx....xxxx........xxxxxxxx" },  /* SNACK */
	{ 0x20, 0x80, "xx..xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx............" },  /* NOP-In */
	{ 0x21, 0x80, "xxxxxxxx........xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },  /* SCSI Rsp */
	{ 0x22, 0x80, "xxx.xxxx........xxxx....xxxxxxxxxxxx............" },  /* TMF Rsp */
	{ 0x23, 0x87, "xxxxxxxxxxxxxxxxxxxx....xxxxxxxxxxxxxx.........." },  /* Login Rsp */
	{ 0x24, 0x80, "xx..xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx............" },  /* Text Rsp */
	{ 0x25, 0x81, "xx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },  /* Data-In, S */
	{ 0x26, 0x80, "xxx.xxxx........xxxx....xxxxxxxxxxxx....xxxx...." },  /* Logout Rsp */
	{ 0x31, 0x80, "xx..xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" },  /* R2T */
	{ 0x32, 0x80, "xx..xxxxxxxxxxxxxxxx....xxxxxxxxxxxxxxxxxxxx...." },  /* Async */
	{ 0x3f, 0x80, "xxx.xxxx........xxxx....xxxxxxxxxxxxxxxx........" },  /* Reject */
};

START_TEST(test_field_offsets)
{
	static const struct pdu_opts o = { .max_data_len = 8192 };
	uint8_t in[48], out[48];
	struct pdu p;

	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		for (int k = 0; k < 48; k++)
			in[k] = (uint8_t)k;
		in[0] = layouts[i].byte0;
		in[1] = layouts[i].byte1;
		in[4] = 0;                       /* no AHS, no data */
		in[5] = in[6] = in[7] = 0;
		if ((in[0] & 0x3f) == ISCSI_OP_LOGOUT_RSP)
			in[2] = ISCSI_LOGOUT_RSP_NO_RECOVERY;
		ck_assert_msg(pdu_decode_bhs(in, PDU_DIR_ANY, &o, &p, NULL) == 0, "layout %zu", i);
		ck_assert_int_eq(pdu_encode_bhs(&p, &o, out), 0);
		for (int k = 0; k < 48; k++) {
			bool def = layouts[i].defined[k] == 'x';
			ck_assert_msg(out[k] == (def ? in[k] : 0), "%s byte %d: %02x",
				      pdu_opcode_name(in[0]), k, out[k]);
		}
	}

	/* Spot checks that the bytes land in the right named fields. */
	for (int k = 0; k < 48; k++)
		in[k] = (uint8_t)k;
	in[0] = 0x31; in[1] = 0x80; in[4] = in[5] = in[6] = in[7] = 0;
	ck_assert_int_eq(pdu_decode_bhs(in, PDU_DIR_ANY, &o, &p, NULL), 0);
	ck_assert_uint_eq(p.itt, BE32(16));
	ck_assert_uint_eq(p.ttt, BE32(20));
	ck_assert_uint_eq(p.statsn, BE32(24));
	ck_assert_uint_eq(p.exp_cmdsn, BE32(28));
	ck_assert_uint_eq(p.max_cmdsn, BE32(32));
	ck_assert_uint_eq(p.r2tsn, BE32(36));
	ck_assert_uint_eq(p.buffer_offset, BE32(40));
	ck_assert_uint_eq(p.desired_len, BE32(44));
	ck_assert_int_eq(p.lun[0], 8);
	ck_assert_int_eq(p.lun[7], 15);

	in[0] = 0x21;
	ck_assert_int_eq(pdu_decode_bhs(in, PDU_DIR_ANY, &o, &p, NULL), 0);
	ck_assert_int_eq(p.response, 2);
	ck_assert_int_eq(p.status, 3);
	ck_assert_uint_eq(p.snack_tag, BE32(20));
	ck_assert_uint_eq(p.exp_datasn, BE32(36));
	ck_assert_uint_eq(p.bidi_residual, BE32(40));
	ck_assert_uint_eq(p.residual, BE32(44));

	in[0] = 0x32;
	ck_assert_int_eq(pdu_decode_bhs(in, PDU_DIR_ANY, &o, &p, NULL), 0);
	ck_assert_int_eq(p.async_event, 36);
	ck_assert_int_eq(p.async_vcode, 37);
	ck_assert_uint_eq(p.async_param[0], BE16(38));
	ck_assert_uint_eq(p.async_param[1], BE16(40));
	ck_assert_uint_eq(p.async_param[2], BE16(42));

	in[0] = 0x26;
	in[2] = 1;
	ck_assert_int_eq(pdu_decode_bhs(in, PDU_DIR_ANY, &o, &p, NULL), 0);
	ck_assert_int_eq(p.response, 1);
	ck_assert_uint_eq(p.time2wait, BE16(40));
	ck_assert_uint_eq(p.time2retain, BE16(42));

	in[0] = 0x3f;
	ck_assert_int_eq(pdu_decode_bhs(in, PDU_DIR_ANY, &o, &p, NULL), 0);
	ck_assert_int_eq(p.reject_reason, 1);
	ck_assert_uint_eq(p.datasn, BE32(36));

	in[0] = 0x02; in[1] = 0x85;
	ck_assert_int_eq(pdu_decode_bhs(in, PDU_DIR_ANY, &o, &p, NULL), 0);
	ck_assert_uint_eq(pdu_tmf_function(&p), ISCSI_TMF_LUN_RESET);
	ck_assert_uint_eq(p.ref_task_tag, BE32(20));
	ck_assert_uint_eq(p.cmdsn, BE32(24));
	ck_assert_uint_eq(p.exp_statsn, BE32(28));
	ck_assert_uint_eq(p.ref_cmdsn, BE32(32));
	ck_assert_uint_eq(p.exp_datasn, BE32(36));

	in[0] = 0x10; in[1] = 0x82;
	ck_assert_int_eq(pdu_decode_bhs(in, PDU_DIR_ANY, &o, &p, NULL), 0);
	ck_assert_uint_eq(pdu_snack_type(&p), ISCSI_SNACK_DATA_ACK);
	ck_assert_uint_eq(p.exp_statsn, BE32(28));
	ck_assert_uint_eq(p.beg_run, BE32(40));
	ck_assert_uint_eq(p.run_length, BE32(44));

	in[0] = 0x43; in[1] = 0x87; in[2] = 2;
	ck_assert_int_eq(pdu_decode_bhs(in, PDU_DIR_ANY, &o, &p, NULL), 0);
	ck_assert_int_eq(p.version_max, 2);
	ck_assert_int_eq(p.version_min, 3);
	ck_assert_int_eq(p.isid[5], 13);
	ck_assert_uint_eq(p.tsih, BE16(14));
	ck_assert_uint_eq(p.cid, BE16(20));
	ck_assert_uint_eq(p.cmdsn, BE32(24));

	in[0] = 0x23;
	ck_assert_int_eq(pdu_decode_bhs(in, PDU_DIR_ANY, &o, &p, NULL), 0);
	ck_assert_int_eq(p.version_active, 3);
	ck_assert_int_eq(p.status_class, 36);
	ck_assert_int_eq(p.status_detail, 37);
}
END_TEST

/* The kernel's RECV_PDU form: BHS and data apart, no digests, padding
 * optional. */
START_TEST(test_split_decode)
{
	struct pdu p, q;
	uint8_t bhs[48], data[24];
	enum pdu_error err;

	sample(ISCSI_OP_LOGIN_RSP, &p);
	ck_assert_int_eq(pdu_encode_bhs(&p, &login_opts, bhs), 0);
	size_t len = encode_ok(&p, &login_opts);
	ck_assert_mem_eq(bhs, wire, 48);

	memcpy(data, payload, 21);
	memset(data + 21, 0, 3);
	ck_assert_int_eq(pdu_decode_split(bhs, data, 21, PDU_DIR_TO_INITIATOR, &login_opts, &q, &err), 0);
	ck_assert(pdu_same(&p, &q));
	ck_assert_ptr_eq(q.data, data);
	ck_assert_int_eq(pdu_decode_split(bhs, data, 24, PDU_DIR_TO_INITIATOR, &login_opts, &q, &err), 0);
	ck_assert(pdu_same(&p, &q));
	ck_assert_int_eq(pdu_decode_split(bhs, data, 20, PDU_DIR_TO_INITIATOR, &login_opts, &q, &err), -EMSGSIZE);
	ck_assert_int_eq(err, PDU_ERR_DATA_LEN);
	ck_assert_int_eq(pdu_decode_split(bhs, data, 22, PDU_DIR_TO_INITIATOR, &login_opts, &q, &err), -EMSGSIZE);
	data[23] = 1;
	ck_assert_int_eq(pdu_decode_split(bhs, data, 24, PDU_DIR_TO_INITIATOR, &login_opts, &q, &err), -EPROTO);
	ck_assert_int_eq(err, PDU_ERR_PADDING);
	/* Same validation as the wire form. */
	ck_assert_int_eq(pdu_decode_split(bhs, data, 21, PDU_DIR_TO_TARGET, &login_opts, &q, &err), -EPROTO);
	ck_assert_int_eq(err, PDU_ERR_OPCODE);

	/* No data at all. */
	sample(ISCSI_OP_LOGOUT_RSP, &p);
	ck_assert_int_eq(pdu_encode_bhs(&p, NULL, bhs), 0);
	ck_assert_int_eq(pdu_decode_split(bhs, NULL, 0, PDU_DIR_TO_INITIATOR, &login_opts, &q, &err), 0);
	ck_assert(pdu_same(&p, &q));
	(void)len;
}
END_TEST

START_TEST(test_encode_errors)
{
	struct pdu p;
	size_t len;

	sample(ISCSI_OP_TEXT_REQ, &p);
	size_t need = pdu_wire_len(&p, &ff_opts);
	ck_assert_int_eq(pdu_encode(&p, &ff_opts, wire, need - 1, &len), -ENOBUFS);
	ck_assert_int_eq(pdu_encode(&p, &ff_opts, wire, need, &len), 0);
	p.data = NULL;
	ck_assert_int_eq(pdu_encode(&p, &ff_opts, wire, sizeof(wire), &len), -EINVAL);
	p.opcode = 0x07;
	ck_assert_int_eq(pdu_encode(&p, &ff_opts, wire, sizeof(wire), &len), -EINVAL);
	uint8_t bhs[48];
	ck_assert_int_eq(pdu_encode_bhs(&p, NULL, bhs), -EINVAL);
}
END_TEST

START_TEST(test_strerror)
{
	for (int e = PDU_OK; e <= PDU_ERR_FIELD; e++)
		ck_assert_str_ne(pdu_strerror((enum pdu_error)e), "unknown PDU error");
	ck_assert_str_eq(pdu_strerror(PDU_ERR_HDR_DIGEST), "header digest mismatch");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pdu");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_roundtrip_every_opcode);
	tcase_add_test(tc, test_rfc_read10_vector);
	tcase_add_test(tc, test_login_request_layout);
	tcase_add_test(tc, test_login_response_layout);
	tcase_add_test(tc, test_reserved_junk_ignored);
	tcase_add_test(tc, test_field_offsets);
	tcase_add_test(tc, test_split_decode);
	tcase_add_test(tc, test_encode_errors);
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
