/* Shared helpers for the PDU codec tests. */
#include <check.h>
#include <string.h>

#include "pdu_sample.h"

const struct pdu_opts login_opts = { .max_data_len = ISCSI_LOGIN_MAX_DSL };
const struct pdu_opts ff_opts = { .max_data_len = 262144 };
const struct pdu_opts all_opts[4] = {
	{ .max_data_len = ISCSI_LOGIN_MAX_DSL },
	{ .max_data_len = 65536, .header_digest = true },
	{ .max_data_len = 65536, .data_digest = true },
	{ .max_data_len = 262144, .header_digest = true, .data_digest = true },
};

uint8_t wire[4096];
const uint8_t payload[21] = "0123456789abcdefghij";  /* 21 bytes: needs padding */
const uint8_t ahs_ecdb[8] = { 0x00, 0x05, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44 };

bool pdu_same(const struct pdu *a, const struct pdu *b)
{
	struct pdu x, y;

	if (a->data_len != b->data_len || a->ahs_len_words != b->ahs_len_words)
		return false;
	if (a->data_len && memcmp(a->data, b->data, a->data_len) != 0)
		return false;
	if (a->ahs_len_words && memcmp(a->ahs, b->ahs, a->ahs_len_words * 4u) != 0)
		return false;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	x.data = y.data = NULL;
	x.ahs = y.ahs = NULL;
	return memcmp(&x, &y, sizeof(x)) == 0;
}

/* A PDU of the given opcode with every field the opcode has set to a
 * distinct non-zero value, and nothing else set. */
void sample(uint8_t op, struct pdu *p)
{
	static const uint8_t lun[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };
	static const uint8_t isid[6] = { 0x80, 0x12, 0x34, 0x56, 0x78, 0x9a };
	bool req = op < 0x20;

	memset(p, 0, sizeof(*p));
	p->opcode = op;
	p->itt = 0x01020304;
	if (req) {
		p->exp_statsn = 0x0a0b0c0d;
	} else {
		p->statsn = 0x11121314;
		p->exp_cmdsn = 0x21222324;
		p->max_cmdsn = 0x31323334;
	}
	switch (op) {
	case ISCSI_OP_NOOP_OUT:
		p->immediate = true;
		p->flags = ISCSI_FLAG_FINAL;
		memcpy(p->lun, lun, 8);
		p->ttt = ISCSI_RESERVED_TAG;
		p->cmdsn = 0x41424344;
		break;
	case ISCSI_OP_TEXT_REQ:
		p->flags = ISCSI_FLAG_CONTINUE;
		memcpy(p->lun, lun, 8);
		p->ttt = 0x55;
		p->cmdsn = 0x41424344;
		break;
	case ISCSI_OP_SCSI_CMD:
		p->flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_CMD_READ | 1;
		memcpy(p->lun, lun, 8);
		p->exp_xfer_len = 4096;
		p->cmdsn = 0x41424344;
		for (int i = 0; i < 16; i++)
			p->cdb[i] = (uint8_t)(0x28 + i);
		p->ahs_len_words = 2;
		p->ahs = ahs_ecdb;
		break;
	case ISCSI_OP_TMF_REQ:
		p->immediate = true;
		p->flags = ISCSI_FLAG_FINAL | ISCSI_TMF_ABORT_TASK;
		memcpy(p->lun, lun, 8);
		p->ref_task_tag = 0x77;
		p->cmdsn = 0x41424344;
		p->ref_cmdsn = 0x61;
		p->exp_datasn = 0x62;
		break;
	case ISCSI_OP_LOGIN_REQ:
		p->immediate = true;
		p->flags = pdu_login_flags(true, false, ISCSI_STAGE_OPERATIONAL, ISCSI_STAGE_FULL);
		p->version_max = 0;
		p->version_min = 0;
		pdu_set_isid_tsih(p, isid, 0x1234);
		p->cid = 0x4321;
		p->cmdsn = 0x41424344;
		break;
	case ISCSI_OP_DATA_OUT:
		p->flags = ISCSI_FLAG_FINAL;
		memcpy(p->lun, lun, 8);
		p->ttt = 0x99;
		p->datasn = 3;
		p->buffer_offset = 8192;
		break;
	case ISCSI_OP_LOGOUT_REQ:
		p->immediate = true;
		p->flags = ISCSI_FLAG_FINAL | ISCSI_LOGOUT_CLOSE_CONNECTION;
		p->cid = 7;
		p->cmdsn = 0x41424344;
		break;
	case ISCSI_OP_SNACK:
		p->flags = ISCSI_FLAG_FINAL | ISCSI_SNACK_STATUS;
		memcpy(p->lun, lun, 8);
		p->ttt = 0x98;
		p->beg_run = 5;
		p->run_length = 6;
		break;
	case ISCSI_OP_NOOP_IN:
	case ISCSI_OP_TEXT_RSP:
		p->flags = ISCSI_FLAG_FINAL;
		memcpy(p->lun, lun, 8);
		p->ttt = 0x56;
		break;
	case ISCSI_OP_SCSI_RSP:
		p->flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_RSP_BIDI_OVER | ISCSI_FLAG_RSP_UNDER;
		p->response = 1;
		p->status = 2;
		p->snack_tag = 0x66;
		p->exp_datasn = 9;
		p->bidi_residual = 10;
		p->residual = 11;
		break;
	case ISCSI_OP_TMF_RSP:
		p->flags = ISCSI_FLAG_FINAL;
		p->response = 5;
		break;
	case ISCSI_OP_LOGIN_RSP:
		p->flags = pdu_login_flags(true, false, ISCSI_STAGE_SECURITY, ISCSI_STAGE_OPERATIONAL);
		p->version_max = 0;
		p->version_active = 0;
		pdu_set_isid_tsih(p, isid, 0x0007);
		p->status_class = 0;
		p->status_detail = 0;
		break;
	case ISCSI_OP_DATA_IN:
		p->flags = ISCSI_FLAG_FINAL | ISCSI_FLAG_DATA_STATUS | ISCSI_FLAG_RSP_OVER |
			   ISCSI_FLAG_DATA_ACK;
		memcpy(p->lun, lun, 8);
		p->ttt = 0x57;
		p->status = 0x02;
		p->datasn = 4;
		p->buffer_offset = 512;
		p->residual = 12;
		break;
	case ISCSI_OP_LOGOUT_RSP:
		p->flags = ISCSI_FLAG_FINAL;
		p->response = ISCSI_LOGOUT_RSP_CID_NOT_FOUND;
		p->time2wait = 2;
		p->time2retain = 20;
		break;
	case ISCSI_OP_R2T:
		p->flags = ISCSI_FLAG_FINAL;
		memcpy(p->lun, lun, 8);
		p->ttt = 0x58;
		p->r2tsn = 1;
		p->buffer_offset = 1024;
		p->desired_len = 65536;
		break;
	case ISCSI_OP_ASYNC_MSG:
		p->flags = ISCSI_FLAG_FINAL;
		memcpy(p->lun, lun, 8);
		p->itt = ISCSI_RESERVED_TAG;
		p->async_event = ISCSI_ASYNC_DROP_CONNECTION;
		p->async_vcode = 3;
		p->async_param[0] = 1;
		p->async_param[1] = 2;
		p->async_param[2] = 3;
		break;
	case ISCSI_OP_REJECT:
		p->flags = ISCSI_FLAG_FINAL;
		p->itt = ISCSI_RESERVED_TAG;
		p->reject_reason = ISCSI_REJECT_PROTOCOL_ERROR;
		p->datasn = 13;
		break;
	}
	/* Data wherever the opcode allows it (§11.5-§11.16 define none for
	 * TMF, Logout, R2T and SNACK). */
	switch (op) {
	case ISCSI_OP_TMF_REQ: case ISCSI_OP_TMF_RSP: case ISCSI_OP_LOGOUT_REQ:
	case ISCSI_OP_LOGOUT_RSP: case ISCSI_OP_R2T: case ISCSI_OP_SNACK:
		break;
	default:
		p->data = payload;
		p->data_len = sizeof(payload);
	}
}

const uint8_t all_ops[N_OPS] = {
	ISCSI_OP_NOOP_OUT, ISCSI_OP_SCSI_CMD, ISCSI_OP_TMF_REQ, ISCSI_OP_LOGIN_REQ,
	ISCSI_OP_TEXT_REQ, ISCSI_OP_DATA_OUT, ISCSI_OP_LOGOUT_REQ, ISCSI_OP_SNACK,
	ISCSI_OP_NOOP_IN, ISCSI_OP_SCSI_RSP, ISCSI_OP_TMF_RSP, ISCSI_OP_LOGIN_RSP,
	ISCSI_OP_TEXT_RSP, ISCSI_OP_DATA_IN, ISCSI_OP_LOGOUT_RSP, ISCSI_OP_R2T,
	ISCSI_OP_ASYNC_MSG, ISCSI_OP_REJECT,
};

size_t encode_ok(const struct pdu *p, const struct pdu_opts *o)
{
	size_t len = 0;

	ck_assert_int_eq(pdu_encode(p, o, wire, sizeof(wire), &len), 0);
	ck_assert_uint_eq(len, pdu_wire_len(p, o));
	return len;
}

enum pdu_error decode_err(size_t len, enum pdu_dir dir, const struct pdu_opts *o, int want_rc)
{
	struct pdu p;
	enum pdu_error err = PDU_OK;

	memset(&p, 0xa5, sizeof(p));
	ck_assert_int_eq(pdu_decode(wire, len, dir, o, &p, NULL, &err), want_rc);
	/* ret is untouched on failure. */
	for (size_t i = 0; i < sizeof(p); i++)
		ck_assert_int_eq(((uint8_t *)&p)[i], 0xa5);
	return err;
}

