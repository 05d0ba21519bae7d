/* iSCSI PDU codec (RFC 7143 §11). See pdu.h for the model.
 *
 * Reserved fields. RFC 7143 §11 (opening text): a sender MUST set reserved
 * bits and fields to 0, and a receiver MUST ignore them unless specified
 * otherwise. So the decoder accepts junk in every field drawn as "Reserved"
 * or "." in the §11 figures, and leaves the matching struct fields zero
 * (re-encoding then writes zeros). It rejects only what the figures fix to
 * a value rather than reserve, which no real target gets wrong:
 *   - the F bit drawn as "1" (NOP-Out/In, TMF, Logout, SCSI Response, R2T,
 *     Async, Reject, SNACK) and the I bit drawn as "1" in Login Request,
 *   - the three bits drawn as "0 0 0" in Data-In byte 1 (§11.7),
 * with PDU_ERR_RESERVED. Defined fields whose value or combination is a
 * protocol error (T and C both set, stage 2, unknown logout reason or
 * response, TMF function or SNACK type, O and U both set, Data-In S without
 * F) give PDU_ERR_FIELD: "receipt of reserved code values in defined fields
 * MUST be reported as a protocol error" (same text). Fields that are
 * reserved only in some cases (Logout CID for reason 0, Login NSG without
 * T, Data-In status/StatSN/residual without S) are ignored in those cases.
 *
 * Codes whose meaning belongs to a higher layer (Login Status-Class, Reject
 * reason, Async event, SCSI status) are passed through unchecked, and so is
 * the ITT of Async Message and Reject (drawn as 0xffffffff, but nothing
 * here depends on it).
 */
#include <errno.h>
#include <string.h>

#include "crc32c.h"
#include "pdu.h"

static uint16_t get16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t get24(const uint8_t *b)
{
	return (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[2];
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put24(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 16);
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static size_t pad4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Per-opcode shape: the byte-1 bits that are defined (the rest are
 * reserved), the bits fixed to 1, whether the I bit exists, whether a data
 * segment may follow (§11.5, §11.6, §11.8, §11.14, §11.15, §11.16 define
 * none for TMF, R2T, Logout and SNACK). */
struct op_shape {
	uint8_t opcode;
	uint8_t flags_mask;
	uint8_t flags_fixed;
	bool has_immediate;
	bool has_data;
	const char *name;
};

static const struct op_shape op_shapes[] = {
	{ ISCSI_OP_NOOP_OUT,   0x80, 0x80, true,  true,  "NOP-Out" },
	{ ISCSI_OP_SCSI_CMD,   0xe7, 0x00, true,  true,  "SCSI Command" },
	{ ISCSI_OP_TMF_REQ,    0xff, 0x80, true,  false, "Task Management Function Request" },
	{ ISCSI_OP_LOGIN_REQ,  0xcf, 0x00, true,  true,  "Login Request" },
	{ ISCSI_OP_TEXT_REQ,   0xc0, 0x00, true,  true,  "Text Request" },
	{ ISCSI_OP_DATA_OUT,   0x80, 0x00, false, true,  "SCSI Data-Out" },
	{ ISCSI_OP_LOGOUT_REQ, 0xff, 0x80, true,  false, "Logout Request" },
	{ ISCSI_OP_SNACK,      0x8f, 0x80, false, false, "SNACK Request" },
	{ ISCSI_OP_NOOP_IN,    0x80, 0x80, false, true,  "NOP-In" },
	{ ISCSI_OP_SCSI_RSP,   0x9e, 0x80, false, true,  "SCSI Response" },
	{ ISCSI_OP_TMF_RSP,    0x80, 0x80, false, false, "Task Management Function Response" },
	{ ISCSI_OP_LOGIN_RSP,  0xcf, 0x00, false, true,  "Login Response" },
	{ ISCSI_OP_TEXT_RSP,   0xc0, 0x00, false, true,  "Text Response" },
	{ ISCSI_OP_DATA_IN,    0xc7, 0x00, false, true,  "SCSI Data-In" },
	{ ISCSI_OP_LOGOUT_RSP, 0x80, 0x80, false, false, "Logout Response" },
	{ ISCSI_OP_R2T,        0x80, 0x80, false, false, "Ready To Transfer" },
	{ ISCSI_OP_ASYNC_MSG,  0x80, 0x80, false, true,  "Asynchronous Message" },
	{ ISCSI_OP_REJECT,     0x80, 0x80, false, true,  "Reject" },
};

static const struct op_shape *op_shape_find(uint8_t opcode)
{
	for (size_t i = 0; i < sizeof(op_shapes) / sizeof(op_shapes[0]); i++)
		if (op_shapes[i].opcode == opcode)
			return &op_shapes[i];
	return NULL;
}

/* Initiator opcodes are 0x00..0x1f, target opcodes 0x20..0x3f (§11.2.1.2). */
static bool op_dir_ok(uint8_t opcode, enum pdu_dir dir)
{
	switch (dir) {
	case PDU_DIR_TO_TARGET:
		return opcode < 0x20;
	case PDU_DIR_TO_INITIATOR:
		return opcode >= 0x20;
	default:
		return true;
	}
}

static uint32_t opts_max_dsl(const struct pdu_opts *o)
{
	if (!o || o->max_data_len > ISCSI_MAX_DSL)
		return ISCSI_MAX_DSL;
	return o->max_data_len;
}

/* Clear byte-1 bits that are reserved in this particular PDU (beyond the
 * per-opcode mask), so the struct holds only what is defined. */
static uint8_t flags_canonical(uint8_t opcode, uint8_t flags)
{
	switch (opcode) {
	case ISCSI_OP_LOGIN_REQ:
	case ISCSI_OP_LOGIN_RSP:
		/* NSG is reserved unless T is set (§11.12.3). */
		if (!(flags & ISCSI_FLAG_TRANSIT))
			flags &= (uint8_t)~3u;
		break;
	case ISCSI_OP_DATA_IN:
		/* O and U are only defined with S (§11.7). */
		if (!(flags & ISCSI_FLAG_DATA_STATUS))
			flags &= (uint8_t)~(ISCSI_FLAG_RSP_OVER | ISCSI_FLAG_RSP_UNDER);
		break;
	default:
		break;
	}
	return flags;
}

/* Value and combination rules of defined fields; shared by decode and
 * encode so that the encoder never emits what the decoder refuses. */
static bool fields_valid(const struct pdu *p)
{
	uint8_t f = p->flags;

	switch (p->opcode) {
	case ISCSI_OP_LOGIN_REQ:
	case ISCSI_OP_LOGIN_RSP:
		/* §11.12.2: T and C are never both 1; §11.12.3: stage 2 is
		 * reserved. */
		if ((f & ISCSI_FLAG_TRANSIT) && (f & ISCSI_FLAG_CONTINUE))
			return false;
		if (pdu_login_csg(p) == 2 || ((f & ISCSI_FLAG_TRANSIT) && pdu_login_nsg(p) == 2))
			return false;
		return true;
	case ISCSI_OP_TEXT_REQ:
	case ISCSI_OP_TEXT_RSP:
		/* §11.10.2, §11.11.2: C set requires F clear. */
		return !((f & ISCSI_FLAG_FINAL) && (f & ISCSI_FLAG_CONTINUE));
	case ISCSI_OP_LOGOUT_REQ:
		return pdu_logout_reason(p) <= ISCSI_LOGOUT_REMOVE_FOR_RECOVERY;
	case ISCSI_OP_LOGOUT_RSP:
		return p->response <= ISCSI_LOGOUT_RSP_CLEANUP_FAILED;
	case ISCSI_OP_TMF_REQ:
		return pdu_tmf_function(p) >= ISCSI_TMF_ABORT_TASK &&
		       pdu_tmf_function(p) <= ISCSI_TMF_TASK_REASSIGN;
	case ISCSI_OP_SNACK:
		return pdu_snack_type(p) <= ISCSI_SNACK_R_DATA;
	case ISCSI_OP_SCSI_RSP:
		/* §11.4: o/u and O/U are mutually exclusive. */
		if ((f & ISCSI_FLAG_RSP_BIDI_OVER) && (f & ISCSI_FLAG_RSP_BIDI_UNDER))
			return false;
		return !((f & ISCSI_FLAG_RSP_OVER) && (f & ISCSI_FLAG_RSP_UNDER));
	case ISCSI_OP_DATA_IN:
		/* §11.7: S only on the final Data-In (F set too). */
		if ((f & ISCSI_FLAG_DATA_STATUS) && !(f & ISCSI_FLAG_FINAL))
			return false;
		return !((f & ISCSI_FLAG_RSP_OVER) && (f & ISCSI_FLAG_RSP_UNDER));
	default:
		return true;
	}
}

/* Bytes 8..47 of the BHS <-> opcode-specific fields. One function per
 * direction, one case per opcode, each listing exactly the fields of the
 * §11 figure. */
static void bhs_read_fields(struct pdu *p, const uint8_t *b)
{
	bool status = p->flags & ISCSI_FLAG_DATA_STATUS;

	switch (p->opcode) {
	case ISCSI_OP_NOOP_OUT:                  /* §11.18 */
	case ISCSI_OP_TEXT_REQ:                  /* §11.10 */
		memcpy(p->lun, b + 8, 8);
		p->ttt = get32(b + 20);
		p->cmdsn = get32(b + 24);
		p->exp_statsn = get32(b + 28);
		break;
	case ISCSI_OP_SCSI_CMD:                  /* §11.3 */
		memcpy(p->lun, b + 8, 8);
		p->exp_xfer_len = get32(b + 20);
		p->cmdsn = get32(b + 24);
		p->exp_statsn = get32(b + 28);
		memcpy(p->cdb, b + 32, 16);
		break;
	case ISCSI_OP_TMF_REQ:                   /* §11.5 */
		memcpy(p->lun, b + 8, 8);
		p->ref_task_tag = get32(b + 20);
		p->cmdsn = get32(b + 24);
		p->exp_statsn = get32(b + 28);
		p->ref_cmdsn = get32(b + 32);
		p->exp_datasn = get32(b + 36);
		break;
	case ISCSI_OP_LOGIN_REQ:                 /* §11.12 */
		p->version_max = b[2];
		p->version_min = b[3];
		memcpy(p->isid, b + 8, 6);
		p->tsih = get16(b + 14);
		p->cid = get16(b + 20);
		p->cmdsn = get32(b + 24);
		p->exp_statsn = get32(b + 28);
		break;
	case ISCSI_OP_DATA_OUT:                  /* §11.7 */
		memcpy(p->lun, b + 8, 8);
		p->ttt = get32(b + 20);
		p->exp_statsn = get32(b + 28);
		p->datasn = get32(b + 36);
		p->buffer_offset = get32(b + 40);
		break;
	case ISCSI_OP_LOGOUT_REQ:                /* §11.14 */
		/* "CID or Reserved": reserved when closing the session. */
		if (pdu_logout_reason(p) != ISCSI_LOGOUT_CLOSE_SESSION)
			p->cid = get16(b + 20);
		p->cmdsn = get32(b + 24);
		p->exp_statsn = get32(b + 28);
		break;
	case ISCSI_OP_SNACK:                     /* §11.16 */
		memcpy(p->lun, b + 8, 8);
		p->ttt = get32(b + 20);
		p->exp_statsn = get32(b + 28);
		p->beg_run = get32(b + 40);
		p->run_length = get32(b + 44);
		break;
	case ISCSI_OP_NOOP_IN:                   /* §11.19 */
	case ISCSI_OP_TEXT_RSP:                  /* §11.11 */
		memcpy(p->lun, b + 8, 8);
		p->ttt = get32(b + 20);
		break;
	case ISCSI_OP_SCSI_RSP:                  /* §11.4 */
		p->response = b[2];
		p->status = b[3];
		p->snack_tag = get32(b + 20);
		p->exp_datasn = get32(b + 36);
		p->bidi_residual = get32(b + 40);
		p->residual = get32(b + 44);
		break;
	case ISCSI_OP_TMF_RSP:                   /* §11.6 */
		p->response = b[2];
		break;
	case ISCSI_OP_LOGIN_RSP:                 /* §11.13 */
		p->version_max = b[2];
		p->version_active = b[3];
		memcpy(p->isid, b + 8, 6);
		p->tsih = get16(b + 14);
		p->status_class = b[36];
		p->status_detail = b[37];
		break;
	case ISCSI_OP_DATA_IN:                   /* §11.7 */
		memcpy(p->lun, b + 8, 8);
		p->ttt = get32(b + 20);
		p->datasn = get32(b + 36);
		p->buffer_offset = get32(b + 40);
		if (status) {
			p->status = b[3];
			p->statsn = get32(b + 24);
			p->residual = get32(b + 44);
		}
		break;
	case ISCSI_OP_LOGOUT_RSP:                /* §11.15 */
		p->response = b[2];
		p->time2wait = get16(b + 40);
		p->time2retain = get16(b + 42);
		break;
	case ISCSI_OP_R2T:                       /* §11.8 */
		memcpy(p->lun, b + 8, 8);
		p->ttt = get32(b + 20);
		p->r2tsn = get32(b + 36);
		p->buffer_offset = get32(b + 40);
		p->desired_len = get32(b + 44);
		break;
	case ISCSI_OP_ASYNC_MSG:                 /* §11.9 */
		memcpy(p->lun, b + 8, 8);
		p->async_event = b[36];
		p->async_vcode = b[37];
		p->async_param[0] = get16(b + 38);
		p->async_param[1] = get16(b + 40);
		p->async_param[2] = get16(b + 42);
		break;
	case ISCSI_OP_REJECT:                    /* §11.17 */
		p->reject_reason = b[2];
		p->datasn = get32(b + 36);
		break;
	default:
		break;
	}
	/* Every target PDU carries StatSN (Data-In only with S), ExpCmdSN and
	 * MaxCmdSN at 24, 28 and 32. */
	if (p->opcode >= 0x20) {
		if (p->opcode != ISCSI_OP_DATA_IN)
			p->statsn = get32(b + 24);
		p->exp_cmdsn = get32(b + 28);
		p->max_cmdsn = get32(b + 32);
	}
}

static void bhs_write_fields(const struct pdu *p, uint8_t *b)
{
	bool status = p->flags & ISCSI_FLAG_DATA_STATUS;

	switch (p->opcode) {
	case ISCSI_OP_NOOP_OUT:
	case ISCSI_OP_TEXT_REQ:
		memcpy(b + 8, p->lun, 8);
		put32(b + 20, p->ttt);
		put32(b + 24, p->cmdsn);
		put32(b + 28, p->exp_statsn);
		break;
	case ISCSI_OP_SCSI_CMD:
		memcpy(b + 8, p->lun, 8);
		put32(b + 20, p->exp_xfer_len);
		put32(b + 24, p->cmdsn);
		put32(b + 28, p->exp_statsn);
		memcpy(b + 32, p->cdb, 16);
		break;
	case ISCSI_OP_TMF_REQ:
		memcpy(b + 8, p->lun, 8);
		put32(b + 20, p->ref_task_tag);
		put32(b + 24, p->cmdsn);
		put32(b + 28, p->exp_statsn);
		put32(b + 32, p->ref_cmdsn);
		put32(b + 36, p->exp_datasn);
		break;
	case ISCSI_OP_LOGIN_REQ:
		b[2] = p->version_max;
		b[3] = p->version_min;
		memcpy(b + 8, p->isid, 6);
		put16(b + 14, p->tsih);
		put16(b + 20, p->cid);
		put32(b + 24, p->cmdsn);
		put32(b + 28, p->exp_statsn);
		break;
	case ISCSI_OP_DATA_OUT:
		memcpy(b + 8, p->lun, 8);
		put32(b + 20, p->ttt);
		put32(b + 28, p->exp_statsn);
		put32(b + 36, p->datasn);
		put32(b + 40, p->buffer_offset);
		break;
	case ISCSI_OP_LOGOUT_REQ:
		if (pdu_logout_reason(p) != ISCSI_LOGOUT_CLOSE_SESSION)
			put16(b + 20, p->cid);
		put32(b + 24, p->cmdsn);
		put32(b + 28, p->exp_statsn);
		break;
	case ISCSI_OP_SNACK:
		memcpy(b + 8, p->lun, 8);
		put32(b + 20, p->ttt);
		put32(b + 28, p->exp_statsn);
		put32(b + 40, p->beg_run);
		put32(b + 44, p->run_length);
		break;
	case ISCSI_OP_NOOP_IN:
	case ISCSI_OP_TEXT_RSP:
		memcpy(b + 8, p->lun, 8);
		put32(b + 20, p->ttt);
		break;
	case ISCSI_OP_SCSI_RSP:
		b[2] = p->response;
		b[3] = p->status;
		put32(b + 20, p->snack_tag);
		put32(b + 36, p->exp_datasn);
		put32(b + 40, p->bidi_residual);
		put32(b + 44, p->residual);
		break;
	case ISCSI_OP_TMF_RSP:
		b[2] = p->response;
		break;
	case ISCSI_OP_LOGIN_RSP:
		b[2] = p->version_max;
		b[3] = p->version_active;
		memcpy(b + 8, p->isid, 6);
		put16(b + 14, p->tsih);
		b[36] = p->status_class;
		b[37] = p->status_detail;
		break;
	case ISCSI_OP_DATA_IN:
		memcpy(b + 8, p->lun, 8);
		put32(b + 20, p->ttt);
		put32(b + 36, p->datasn);
		put32(b + 40, p->buffer_offset);
		if (status) {
			b[3] = p->status;
			put32(b + 24, p->statsn);
			put32(b + 44, p->residual);
		}
		break;
	case ISCSI_OP_LOGOUT_RSP:
		b[2] = p->response;
		put16(b + 40, p->time2wait);
		put16(b + 42, p->time2retain);
		break;
	case ISCSI_OP_R2T:
		memcpy(b + 8, p->lun, 8);
		put32(b + 20, p->ttt);
		put32(b + 36, p->r2tsn);
		put32(b + 40, p->buffer_offset);
		put32(b + 44, p->desired_len);
		break;
	case ISCSI_OP_ASYNC_MSG:
		memcpy(b + 8, p->lun, 8);
		b[36] = p->async_event;
		b[37] = p->async_vcode;
		put16(b + 38, p->async_param[0]);
		put16(b + 40, p->async_param[1]);
		put16(b + 42, p->async_param[2]);
		break;
	case ISCSI_OP_REJECT:
		b[2] = p->reject_reason;
		put32(b + 36, p->datasn);
		break;
	default:
		break;
	}
	if (p->opcode >= 0x20) {
		if (p->opcode != ISCSI_OP_DATA_IN)
			put32(b + 24, p->statsn);
		put32(b + 28, p->exp_cmdsn);
		put32(b + 32, p->max_cmdsn);
	}
}

static int fail(enum pdu_error e, enum pdu_error *ret_err)
{
	if (ret_err)
		*ret_err = e;
	switch (e) {
	case PDU_ERR_SHORT:
		return -EAGAIN;
	case PDU_ERR_DATA_LEN:
		return -EMSGSIZE;
	case PDU_ERR_HDR_DIGEST:
	case PDU_ERR_DATA_DIGEST:
		return -EBADMSG;
	default:
		return -EPROTO;
	}
}

static int ok(enum pdu_error *ret_err)
{
	if (ret_err)
		*ret_err = PDU_OK;
	return 0;
}

int pdu_decode_bhs(const uint8_t bhs[ISCSI_BHS_LEN], enum pdu_dir dir,
		   const struct pdu_opts *o, struct pdu *ret, enum pdu_error *ret_err)
{
	const struct op_shape *s;
	struct pdu p;

	memset(&p, 0, sizeof(p));
	p.opcode = bhs[0] & ISCSI_OPCODE_MASK;
	s = op_shape_find(p.opcode);
	if (!s || !op_dir_ok(p.opcode, dir))
		return fail(PDU_ERR_OPCODE, ret_err);

	/* Byte 0 bit 7 is reserved everywhere; the I bit only exists in
	 * requests that can be immediate, and Login Requests always are
	 * (§11.12: the figure draws it as 1). */
	if (s->has_immediate)
		p.immediate = bhs[0] & ISCSI_OP_IMMEDIATE;
	if (p.opcode == ISCSI_OP_LOGIN_REQ && !p.immediate)
		return fail(PDU_ERR_RESERVED, ret_err);
	if ((bhs[1] & s->flags_fixed) != s->flags_fixed)
		return fail(PDU_ERR_RESERVED, ret_err);
	/* Data-In byte 1 bits 5..3 are drawn as 0, not reserved (§11.7). */
	if (p.opcode == ISCSI_OP_DATA_IN && (bhs[1] & 0x38))
		return fail(PDU_ERR_RESERVED, ret_err);
	p.flags = flags_canonical(p.opcode, bhs[1] & s->flags_mask);

	/* Only SCSI Command has AHS types defined (§11.2.2: Extended CDB,
	 * Bidirectional Read Expected Data Transfer Length). */
	p.ahs_len_words = bhs[4];
	if (p.ahs_len_words && p.opcode != ISCSI_OP_SCSI_CMD)
		return fail(PDU_ERR_AHS_LEN, ret_err);

	p.data_len = get24(bhs + 5);
	if (p.data_len > opts_max_dsl(o) || (p.data_len > 0 && !s->has_data))
		return fail(PDU_ERR_DATA_LEN, ret_err);

	p.itt = get32(bhs + 16);
	bhs_read_fields(&p, bhs);
	if (!fields_valid(&p))
		return fail(PDU_ERR_FIELD, ret_err);

	/* memcpy keeps the zeroed padding bytes, so decoded structs compare
	 * equal with memcmp() when their fields do. */
	memcpy(ret, &p, sizeof(p));
	return ok(ret_err);
}

size_t pdu_rest_len(const struct pdu *p, const struct pdu_opts *o)
{
	size_t n = (size_t)p->ahs_len_words * 4 + pad4(p->data_len);

	if (o && o->header_digest)
		n += ISCSI_DIGEST_LEN;
	if (o && o->data_digest && p->data_len > 0)
		n += ISCSI_DIGEST_LEN;
	return n;
}

size_t pdu_wire_len(const struct pdu *p, const struct pdu_opts *o)
{
	return ISCSI_BHS_LEN + pdu_rest_len(p, o);
}

/* Each AHS is AHSLength (2 bytes, counting neither itself, AHSType nor the
 * padding), AHSType (1), then AHSLength bytes padded to 4 (§11.2.2). The
 * chain must fill TotalAHSLength exactly. */
static bool ahs_chain_valid(const uint8_t *a, size_t len)
{
	size_t off = 0;

	while (off < len) {
		if (len - off < 4)
			return false;
		size_t one = pad4(3 + (size_t)get16(a + off));
		if (one > len - off)
			return false;
		off += one;
	}
	return true;
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

int pdu_decode_rest(struct pdu *p, const uint8_t *buf, size_t len,
		    const struct pdu_opts *o, enum pdu_error *ret_err)
{
	size_t ahs_len = (size_t)p->ahs_len_words * 4;
	size_t off = ISCSI_BHS_LEN + ahs_len;
	bool hd = o && o->header_digest, dd = o && o->data_digest;

	if (len < ISCSI_BHS_LEN + pdu_rest_len(p, o))
		return fail(PDU_ERR_SHORT, ret_err);
	if (hd) {
		if (crc32c(0, buf, off) != crc32c_get_digest(buf + off))
			return fail(PDU_ERR_HDR_DIGEST, ret_err);
		off += ISCSI_DIGEST_LEN;
	}
	if (ahs_len && !ahs_chain_valid(buf + ISCSI_BHS_LEN, ahs_len))
		return fail(PDU_ERR_AHS_LEN, ret_err);
	/* §11.1: pad bytes are sent as 0; peers do, and a non-zero pad is a
	 * sign the framing is off, so it is refused. */
	if (!all_zero(buf + off + p->data_len, pad4(p->data_len) - p->data_len))
		return fail(PDU_ERR_PADDING, ret_err);
	if (dd && p->data_len > 0) {
		size_t dlen = pad4(p->data_len);

		if (crc32c(0, buf + off, dlen) != crc32c_get_digest(buf + off + dlen))
			return fail(PDU_ERR_DATA_DIGEST, ret_err);
	}
	p->ahs = ahs_len ? buf + ISCSI_BHS_LEN : NULL;
	p->data = p->data_len ? buf + off : NULL;
	return ok(ret_err);
}

int pdu_decode(const uint8_t *buf, size_t len, enum pdu_dir dir,
	       const struct pdu_opts *o, struct pdu *ret, size_t *ret_used,
	       enum pdu_error *ret_err)
{
	struct pdu p;
	int r;

	if (len < ISCSI_BHS_LEN)
		return fail(PDU_ERR_SHORT, ret_err);
	r = pdu_decode_bhs(buf, dir, o, &p, ret_err);
	if (r < 0)
		return r;
	r = pdu_decode_rest(&p, buf, len, o, ret_err);
	if (r < 0)
		return r;
	memcpy(ret, &p, sizeof(p));
	if (ret_used)
		*ret_used = pdu_wire_len(&p, o);
	return 0;
}

int pdu_decode_split(const uint8_t bhs[ISCSI_BHS_LEN], const uint8_t *data,
		     size_t data_len, enum pdu_dir dir, const struct pdu_opts *o,
		     struct pdu *ret, enum pdu_error *ret_err)
{
	struct pdu_opts plain = { .max_data_len = opts_max_dsl(o) };
	struct pdu p;
	int r;

	r = pdu_decode_bhs(bhs, dir, &plain, &p, ret_err);
	if (r < 0)
		return r;
	if (p.ahs_len_words)
		return fail(PDU_ERR_AHS_LEN, ret_err);
	if (data_len != p.data_len && data_len != pad4(p.data_len))
		return fail(PDU_ERR_DATA_LEN, ret_err);
	if (data_len > 0 && !data)
		return fail(PDU_ERR_SHORT, ret_err);
	if (data_len > p.data_len && !all_zero(data + p.data_len, data_len - p.data_len))
		return fail(PDU_ERR_PADDING, ret_err);
	p.data = p.data_len ? data : NULL;
	memcpy(ret, &p, sizeof(p));
	return ok(ret_err);
}

/* What pdu_encode_bhs() and pdu_encode() refuse to write. */
static int encode_check(const struct pdu *p, const struct pdu_opts *o)
{
	const struct op_shape *s = op_shape_find(p->opcode);
	struct pdu tmp;

	if (!s)
		return -EINVAL;
	if (p->data_len > opts_max_dsl(o) || (p->data_len > 0 && !s->has_data))
		return -EINVAL;
	if (p->data_len > 0 && !p->data)
		return -EINVAL;
	if (p->ahs_len_words && (p->opcode != ISCSI_OP_SCSI_CMD || !p->ahs))
		return -EINVAL;
	/* Judge the flags as they will go on the wire, as the decoder does. */
	memcpy(&tmp, p, sizeof(tmp));
	tmp.flags = (uint8_t)(flags_canonical(p->opcode, p->flags & s->flags_mask) | s->flags_fixed);
	if (!fields_valid(&tmp))
		return -EINVAL;
	return 0;
}

static void bhs_write(const struct pdu *p, uint8_t *b)
{
	const struct op_shape *s = op_shape_find(p->opcode);
	bool imm = s->has_immediate && (p->immediate || p->opcode == ISCSI_OP_LOGIN_REQ);

	memset(b, 0, ISCSI_BHS_LEN);
	b[0] = (uint8_t)(p->opcode | (imm ? ISCSI_OP_IMMEDIATE : 0));
	b[1] = (uint8_t)(flags_canonical(p->opcode, p->flags & s->flags_mask) | s->flags_fixed);
	b[4] = p->ahs_len_words;
	put24(b + 5, p->data_len);
	put32(b + 16, p->itt);
	bhs_write_fields(p, b);
}

int pdu_encode_bhs(const struct pdu *p, const struct pdu_opts *o,
		   uint8_t ret_bhs[ISCSI_BHS_LEN])
{
	int r = encode_check(p, o);

	if (r < 0)
		return r;
	bhs_write(p, ret_bhs);
	return 0;
}

int pdu_encode(const struct pdu *p, const struct pdu_opts *o,
	       uint8_t *buf, size_t cap, size_t *ret_len)
{
	size_t ahs_len = (size_t)p->ahs_len_words * 4, off, total;
	int r = encode_check(p, o);

	if (r < 0)
		return r;
	total = pdu_wire_len(p, o);
	if (cap < total)
		return -ENOBUFS;

	bhs_write(p, buf);
	off = ISCSI_BHS_LEN;
	if (ahs_len) {
		memcpy(buf + off, p->ahs, ahs_len);
		off += ahs_len;
	}
	if (o && o->header_digest) {
		crc32c_put_digest(buf + off, crc32c(0, buf, off));
		off += ISCSI_DIGEST_LEN;
	}
	if (p->data_len > 0) {
		size_t dlen = pad4(p->data_len);

		memcpy(buf + off, p->data, p->data_len);
		memset(buf + off + p->data_len, 0, dlen - p->data_len);
		if (o && o->data_digest) {
			crc32c_put_digest(buf + off + dlen, crc32c(0, buf + off, dlen));
			dlen += ISCSI_DIGEST_LEN;
		}
		off += dlen;
	}
	*ret_len = off;
	return 0;
}

const char *pdu_strerror(enum pdu_error e)
{
	switch (e) {
	case PDU_OK:
		return "no error";
	case PDU_ERR_SHORT:
		return "PDU truncated";
	case PDU_ERR_OPCODE:
		return "unknown opcode or wrong direction";
	case PDU_ERR_RESERVED:
		return "fixed header bit has the wrong value";
	case PDU_ERR_DATA_LEN:
		return "data segment too long or not allowed";
	case PDU_ERR_AHS_LEN:
		return "invalid additional header segment";
	case PDU_ERR_PADDING:
		return "non-zero padding";
	case PDU_ERR_HDR_DIGEST:
		return "header digest mismatch";
	case PDU_ERR_DATA_DIGEST:
		return "data digest mismatch";
	case PDU_ERR_FIELD:
		return "invalid header field value";
	}
	return "unknown PDU error";
}

const char *pdu_opcode_name(uint8_t opcode)
{
	const struct op_shape *s = op_shape_find(opcode & ISCSI_OPCODE_MASK);

	return s ? s->name : "unknown";
}

void pdu_set_isid_tsih(struct pdu *p, const uint8_t isid[6], uint16_t tsih)
{
	memcpy(p->isid, isid, 6);
	p->tsih = tsih;
}

void pdu_get_isid_tsih(const struct pdu *p, uint8_t isid[6], uint16_t *tsih)
{
	memcpy(isid, p->isid, 6);
	*tsih = p->tsih;
}
