/* iSCSI PDU codec (RFC 7143 §11).
 *
 * A PDU on the wire is: BHS (48 bytes), AHS (TotalAHSLength * 4 bytes),
 * optional HeaderDigest (4), data segment (DataSegmentLength bytes, padded
 * to a multiple of 4), optional DataDigest (4, only when the data segment is
 * not empty).
 *
 * The codec converts between wire bytes and `struct pdu`, a typed view of
 * the BHS plus borrowed pointers to the AHS and data segment. Decoding is
 * split in two steps because a receiver reads the BHS first and only then
 * knows how many more bytes to read:
 *
 *   pdu_decode_bhs()  48 bytes -> header fields, validated against limits;
 *                     pdu_rest_len() then says how many bytes follow
 *   pdu_decode_rest() the whole PDU -> AHS/data pointers, digests and
 *                     padding checked
 *
 * pdu_decode() does both for a complete buffer. pdu_decode_split() decodes
 * a PDU whose BHS and data segment arrive separately without AHS, padding
 * or digests (the kernel's ISCSI_KEVENT_RECV_PDU), and pdu_encode_bhs()
 * writes only the 48-byte BHS (for ISCSI_UEVENT_SEND_PDU).
 *
 * Nothing allocates; all integers are host order in `struct pdu`. Which
 * fields an opcode uses is listed beside each field; the codec reads and
 * writes exactly those and leaves every other field zero on decode (and
 * ignores them on encode), so a decoded PDU can be compared field by field.
 */
#ifndef LIBINITIATOR_PDU_H
#define LIBINITIATOR_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISCSI_BHS_LEN            48u
#define ISCSI_DIGEST_LEN         4u
#define ISCSI_MAX_DSL            0xffffffu   /* 2^24 - 1: DataSegmentLength field */
#define ISCSI_LOGIN_MAX_DSL      8192u       /* RFC 7143 §6.1: during login */
#define ISCSI_MAX_AHS_LEN        (255u * 4u) /* TotalAHSLength is one byte of words */
#define ISCSI_RESERVED_TAG       0xffffffffu
#define ISCSI_VERSION            0x00u       /* Version-max/min (RFC 7143 §11.12.4) */

/* Opcodes (RFC 7143 §11.2.1.2). */
enum iscsi_opcode {
	ISCSI_OP_NOOP_OUT   = 0x00,
	ISCSI_OP_SCSI_CMD   = 0x01,
	ISCSI_OP_TMF_REQ    = 0x02,
	ISCSI_OP_LOGIN_REQ  = 0x03,
	ISCSI_OP_TEXT_REQ   = 0x04,
	ISCSI_OP_DATA_OUT   = 0x05,
	ISCSI_OP_LOGOUT_REQ = 0x06,
	ISCSI_OP_SNACK      = 0x10,
	ISCSI_OP_NOOP_IN    = 0x20,
	ISCSI_OP_SCSI_RSP   = 0x21,
	ISCSI_OP_TMF_RSP    = 0x22,
	ISCSI_OP_LOGIN_RSP  = 0x23,
	ISCSI_OP_TEXT_RSP   = 0x24,
	ISCSI_OP_DATA_IN    = 0x25,
	ISCSI_OP_LOGOUT_RSP = 0x26,
	ISCSI_OP_R2T        = 0x31,
	ISCSI_OP_ASYNC_MSG  = 0x32,
	ISCSI_OP_REJECT     = 0x3f,
};
#define ISCSI_OPCODE_MASK   0x3f
#define ISCSI_OP_IMMEDIATE  0x40

/* Login stages (CSG/NSG, RFC 7143 §11.12.3); 2 is reserved. */
enum iscsi_login_stage {
	ISCSI_STAGE_SECURITY    = 0,
	ISCSI_STAGE_OPERATIONAL = 1,
	ISCSI_STAGE_FULL        = 3,
};

/* Flags byte (BHS byte 1) bits. */
#define ISCSI_FLAG_FINAL          0x80  /* F bit */
#define ISCSI_FLAG_TRANSIT        0x80  /* T bit, login */
#define ISCSI_FLAG_CONTINUE       0x40  /* C bit, login and text */
#define ISCSI_FLAG_CMD_READ       0x40  /* R bit, SCSI Command (§11.3.1) */
#define ISCSI_FLAG_CMD_WRITE      0x20  /* W bit, SCSI Command */
#define ISCSI_FLAG_CMD_ATTR_MASK  0x07  /* ATTR, SCSI Command (§11.3.1.2) */
#define ISCSI_FLAG_RSP_BIDI_OVER  0x10  /* o bit, SCSI Response (§11.4.1) */
#define ISCSI_FLAG_RSP_BIDI_UNDER 0x08  /* u bit */
#define ISCSI_FLAG_RSP_OVER       0x04  /* O bit, SCSI Response and Data-In */
#define ISCSI_FLAG_RSP_UNDER      0x02  /* U bit, SCSI Response and Data-In */
#define ISCSI_FLAG_DATA_ACK       0x40  /* A bit, Data-In (§11.7.2) */
#define ISCSI_FLAG_DATA_STATUS    0x01  /* S bit, Data-In (§11.7.3) */

/* Logout Request reason codes (§11.14.1). */
enum iscsi_logout_reason {
	ISCSI_LOGOUT_CLOSE_SESSION    = 0,
	ISCSI_LOGOUT_CLOSE_CONNECTION = 1,
	ISCSI_LOGOUT_REMOVE_FOR_RECOVERY = 2,
};

/* Logout Response codes (§11.15.1). */
enum iscsi_logout_response {
	ISCSI_LOGOUT_RSP_OK             = 0,
	ISCSI_LOGOUT_RSP_CID_NOT_FOUND  = 1,
	ISCSI_LOGOUT_RSP_NO_RECOVERY    = 2,
	ISCSI_LOGOUT_RSP_CLEANUP_FAILED = 3,
};

/* Async Message events (§11.9.1). */
enum iscsi_async_event {
	ISCSI_ASYNC_SCSI_EVENT       = 0,
	ISCSI_ASYNC_LOGOUT_REQUEST   = 1,
	ISCSI_ASYNC_DROP_CONNECTION  = 2,
	ISCSI_ASYNC_DROP_ALL         = 3,
	ISCSI_ASYNC_NEGOTIATE        = 4,
	ISCSI_ASYNC_VENDOR           = 255,
};

/* Reject reasons (§11.17.1). */
enum iscsi_reject_reason {
	ISCSI_REJECT_DATA_DIGEST        = 0x02,
	ISCSI_REJECT_SNACK              = 0x03,
	ISCSI_REJECT_PROTOCOL_ERROR     = 0x04,
	ISCSI_REJECT_CMD_NOT_SUPPORTED  = 0x05,
	ISCSI_REJECT_IMMEDIATE_CMD      = 0x06,
	ISCSI_REJECT_TASK_IN_PROGRESS   = 0x07,
	ISCSI_REJECT_INVALID_DATA_ACK   = 0x08,
	ISCSI_REJECT_INVALID_FIELD      = 0x09,
	ISCSI_REJECT_LONG_OP            = 0x0a,
	ISCSI_REJECT_NEGOTIATION_RESET  = 0x0b,
	ISCSI_REJECT_WAITING_FOR_LOGOUT = 0x0c,
};

/* Task management functions (§11.5.1). */
enum iscsi_tmf_function {
	ISCSI_TMF_ABORT_TASK        = 1,
	ISCSI_TMF_ABORT_TASK_SET    = 2,
	ISCSI_TMF_CLEAR_ACA         = 3,
	ISCSI_TMF_CLEAR_TASK_SET    = 4,
	ISCSI_TMF_LUN_RESET         = 5,
	ISCSI_TMF_TARGET_WARM_RESET = 6,
	ISCSI_TMF_TARGET_COLD_RESET = 7,
	ISCSI_TMF_TASK_REASSIGN     = 8,
};

/* SNACK types (§11.16.1). */
enum iscsi_snack_type {
	ISCSI_SNACK_DATA_R2T  = 0,
	ISCSI_SNACK_STATUS    = 1,
	ISCSI_SNACK_DATA_ACK  = 2,
	ISCSI_SNACK_R_DATA    = 3,
};

/* Typed fields of the BHS. The comment after each field lists the opcodes
 * that carry it; for all others the codec leaves it zero on decode and does
 * not write it on encode. */
struct pdu {
	/* Every opcode (§11.2.1). */
	uint8_t opcode;          /* enum iscsi_opcode, without the I bit */
	bool immediate;          /* I bit; requests only (always set for Login) */
	uint8_t flags;           /* byte 1: F/T/C/R/W/... bits and the sub-fields
	                          * read by the inline accessors below; reserved
	                          * bits are cleared on decode */
	uint8_t ahs_len_words;   /* TotalAHSLength in 4-byte words (SCSI Command) */
	uint32_t data_len;       /* DataSegmentLength */
	uint8_t lun[8];          /* NOP-Out/In, SCSI Cmd, TMF Req, Text, Data,
	                          * R2T, Async, SNACK */
	uint32_t itt;            /* Initiator Task Tag, every opcode (Async and
	                          * Reject carry 0xffffffff) */

	/* Login Request/Response (§11.12, §11.13); bytes 8..15. */
	uint8_t isid[6];
	uint16_t tsih;
	uint8_t version_max;     /* Login Req, Login Rsp */
	uint8_t version_min;     /* Login Req */
	uint8_t version_active;  /* Login Rsp */
	uint8_t status_class;    /* Login Rsp (§11.13.5) */
	uint8_t status_detail;   /* Login Rsp */
	uint16_t cid;            /* Login Req, Logout Req */

	/* Sequence numbers. */
	uint32_t cmdsn;          /* every request except Data-Out and SNACK */
	uint32_t exp_statsn;     /* every request */
	uint32_t statsn;         /* every response; Data-In only with the S bit */
	uint32_t exp_cmdsn;      /* every response */
	uint32_t max_cmdsn;      /* every response */

	uint32_t ttt;            /* Target Transfer Tag: NOP-Out/In, Text Req/Rsp,
	                          * Data-Out/In, R2T; SNACK: TTT or SNACK Tag */

	/* SCSI Command (§11.3). */
	uint32_t exp_xfer_len;   /* Expected Data Transfer Length */
	uint8_t cdb[16];

	/* SCSI Response (§11.4), TMF Response (§11.6), Logout Response
	 * (§11.15), Data-In (§11.7). */
	uint8_t response;        /* SCSI Rsp, TMF Rsp, Logout Rsp */
	uint8_t status;          /* SCSI status: SCSI Rsp; Data-In with S bit */
	uint32_t snack_tag;      /* SCSI Rsp */
	uint32_t exp_datasn;     /* SCSI Rsp, TMF Req */
	uint32_t bidi_residual;  /* SCSI Rsp: Bidirectional Read Residual Count */
	uint32_t residual;       /* SCSI Rsp, Data-In: Residual Count */

	/* Data-Out/In (§11.7), R2T (§11.8), Reject (§11.17). */
	uint32_t datasn;         /* Data-Out, Data-In; Reject: DataSN/R2TSN */
	uint32_t r2tsn;          /* R2T */
	uint32_t buffer_offset;  /* Data-Out, Data-In, R2T */
	uint32_t desired_len;    /* R2T: Desired Data Transfer Length */

	/* Task Management Function Request (§11.5). */
	uint32_t ref_task_tag;   /* Referenced Task Tag */
	uint32_t ref_cmdsn;      /* RefCmdSN */

	/* Async Message (§11.9). */
	uint8_t async_event;     /* enum iscsi_async_event */
	uint8_t async_vcode;
	uint16_t async_param[3]; /* Parameter1..3 */

	/* Reject (§11.17). */
	uint8_t reject_reason;   /* enum iscsi_reject_reason */

	/* Logout Response (§11.15). */
	uint16_t time2wait;
	uint16_t time2retain;

	/* SNACK Request (§11.16). */
	uint32_t beg_run;
	uint32_t run_length;

	/* Borrowed pointers into the decode buffer (or caller data for encode);
	 * NULL when the length is 0. */
	const uint8_t *ahs;      /* ahs_len_words * 4 bytes */
	const uint8_t *data;     /* data_len bytes, no padding */
};

/* Limits and options a receiver or sender applies. */
struct pdu_opts {
	/* DataSegmentLength ceiling: ISCSI_LOGIN_MAX_DSL during login, then the
	 * negotiated MaxRecvDataSegmentLength (receiving: ours; sending: the
	 * peer's). Values above ISCSI_MAX_DSL are treated as ISCSI_MAX_DSL. */
	uint32_t max_data_len;
	bool header_digest;      /* CRC32C after BHS+AHS */
	bool data_digest;        /* CRC32C after padded data, when data_len > 0 */
};

/* Why a decode failed (for diagnostics, pdu_strerror()). */
enum pdu_error {
	PDU_OK = 0,
	PDU_ERR_SHORT,        /* buffer shorter than the PDU (-EAGAIN) */
	PDU_ERR_OPCODE,       /* unknown opcode, or one not valid in that direction */
	PDU_ERR_RESERVED,     /* a bit the RFC fixes (0, or the 1 of F) was wrong */
	PDU_ERR_DATA_LEN,     /* DataSegmentLength above the maximum, or data on
	                       * an opcode that has none (-EMSGSIZE) */
	PDU_ERR_AHS_LEN,      /* AHS where none is allowed, or malformed */
	PDU_ERR_PADDING,      /* padding bytes not zero */
	PDU_ERR_HDR_DIGEST,   /* header digest mismatch (-EBADMSG) */
	PDU_ERR_DATA_DIGEST,  /* data digest mismatch (-EBADMSG) */
	PDU_ERR_FIELD,        /* a defined field has an invalid value or
	                       * combination (e.g. login T and C both set) */
};

/* Direction a PDU travels, for opcode validation. */
enum pdu_dir {
	PDU_DIR_ANY = 0,
	PDU_DIR_TO_TARGET,    /* initiator opcodes 0x00..0x1f */
	PDU_DIR_TO_INITIATOR, /* target opcodes 0x20..0x3f */
};

/* Return values of the decoders: 0; -EAGAIN (PDU_ERR_SHORT); -EMSGSIZE
 * (PDU_ERR_DATA_LEN); -EBADMSG (digest mismatch); -EPROTO (anything else).
 * *ret_err (ret_err may be NULL) names the cause. Outputs are untouched on
 * failure. o == NULL means no digests and a limit of ISCSI_MAX_DSL. */

/* Bytes of AHS + header digest + padded data + data digest that follow a
 * decoded BHS. */
size_t pdu_rest_len(const struct pdu *p, const struct pdu_opts *o);

/* Total encoded size of p (BHS included). */
size_t pdu_wire_len(const struct pdu *p, const struct pdu_opts *o);

/* Decode a 48-byte BHS: opcode and direction, fixed bits, TotalAHSLength,
 * DataSegmentLength against o->max_data_len. ret->ahs/data stay NULL. */
int pdu_decode_bhs(const uint8_t bhs[ISCSI_BHS_LEN], enum pdu_dir dir,
		   const struct pdu_opts *o, struct pdu *ret, enum pdu_error *ret_err);

/* Given p from pdu_decode_bhs() and the whole PDU (BHS included) in buf,
 * len >= ISCSI_BHS_LEN + pdu_rest_len(): check the header digest, the AHS
 * layout, padding and the data digest, and set p->ahs / p->data (pointers
 * into buf). p is untouched on failure. */
int pdu_decode_rest(struct pdu *p, const uint8_t *buf, size_t len,
		    const struct pdu_opts *o, enum pdu_error *ret_err);

/* Both steps on a buffer holding at least one complete PDU;
 * *ret_used (may be NULL) = bytes the PDU occupies. */
int pdu_decode(const uint8_t *buf, size_t len, enum pdu_dir dir,
	       const struct pdu_opts *o, struct pdu *ret, size_t *ret_used,
	       enum pdu_error *ret_err);

/* Decode a BHS and its data segment delivered separately, as the kernel
 * passes up a PDU (no AHS, no digests): data_len must be DataSegmentLength,
 * or that rounded up to 4 with zero padding. ret->data points into data. */
int pdu_decode_split(const uint8_t bhs[ISCSI_BHS_LEN], const uint8_t *data,
		     size_t data_len, enum pdu_dir dir, const struct pdu_opts *o,
		     struct pdu *ret, enum pdu_error *ret_err);

/* Encode p (p->data_len bytes at p->data, p->ahs_len_words*4 at p->ahs)
 * into buf: BHS, AHS, header digest, data, zero padding, data digest.
 * Returns 0 and *ret_len, -ENOBUFS when cap is too small, -EINVAL when p is
 * not encodable (unknown opcode, data_len > o->max_data_len, data or AHS on
 * an opcode that has none, NULL pointer with a non-zero length). Fields an
 * opcode does not have are not written (reserved bytes are zero). */
int pdu_encode(const struct pdu *p, const struct pdu_opts *o,
	       uint8_t *buf, size_t cap, size_t *ret_len);

/* Write only the 48-byte BHS of p (no digests; o may be NULL: no data
 * length limit beyond ISCSI_MAX_DSL). Same errors as pdu_encode(). */
int pdu_encode_bhs(const struct pdu *p, const struct pdu_opts *o,
		   uint8_t ret_bhs[ISCSI_BHS_LEN]);

const char *pdu_strerror(enum pdu_error e);
/* "Login Request", ... ; "unknown" for others. The I bit is ignored. */
const char *pdu_opcode_name(uint8_t opcode);

/* Login helpers (ISID/TSIH live in bytes 8..15). */
void pdu_set_isid_tsih(struct pdu *p, const uint8_t isid[6], uint16_t tsih);
void pdu_get_isid_tsih(const struct pdu *p, uint8_t isid[6], uint16_t *tsih);

/* Byte-1 sub-fields. */
static inline unsigned pdu_login_csg(const struct pdu *p) { return (p->flags >> 2) & 3; }
static inline unsigned pdu_login_nsg(const struct pdu *p) { return p->flags & 3; }
static inline bool pdu_login_transit(const struct pdu *p) { return p->flags & ISCSI_FLAG_TRANSIT; }
static inline bool pdu_is_final(const struct pdu *p) { return p->flags & ISCSI_FLAG_FINAL; }
static inline bool pdu_is_continue(const struct pdu *p) { return p->flags & ISCSI_FLAG_CONTINUE; }
static inline unsigned pdu_logout_reason(const struct pdu *p) { return p->flags & 0x7f; }
static inline unsigned pdu_tmf_function(const struct pdu *p) { return p->flags & 0x7f; }
static inline unsigned pdu_snack_type(const struct pdu *p) { return p->flags & 0x0f; }
static inline unsigned pdu_scsi_attr(const struct pdu *p) { return p->flags & ISCSI_FLAG_CMD_ATTR_MASK; }

/* Login Request/Response byte 1: T|C|.|.|CSG|NSG. */
static inline uint8_t pdu_login_flags(bool transit, bool cont, unsigned csg, unsigned nsg)
{
	return (uint8_t)((transit ? ISCSI_FLAG_TRANSIT : 0) | (cont ? ISCSI_FLAG_CONTINUE : 0) |
			 ((csg & 3) << 2) | (nsg & 3));
}

#endif
