/* iSCSI PDU codec (RFC 7143 §11).
 *
 * A PDU on the wire is: BHS (48 bytes), AHS (TotalAHSLength * 4 bytes),
 * optional HeaderDigest (4), data segment (DataSegmentLength bytes, padded
 * to a multiple of 4), optional DataDigest (4).
 *
 * The codec converts between wire bytes and `struct pdu`, a typed view of
 * the BHS plus borrowed pointers to the AHS and data segment. Decoding is
 * split in two steps because a receiver reads the BHS first and only then
 * knows how many more bytes to read:
 *
 *   pdu_decode_bhs()  48 bytes -> header fields, and the total length of
 *                     the rest (pdu_rest_len()), validated against limits
 *   pdu_decode_rest() the remaining bytes -> AHS/data pointers, digests and
 *                     padding checked
 *
 * pdu_decode() does both for a complete buffer. Nothing allocates; all
 * integers are host order in `struct pdu`.
 */
#ifndef LIBINITIATOR_PDU_H
#define LIBINITIATOR_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISCSI_BHS_LEN            48u
#define ISCSI_DIGEST_LEN         4u
#define ISCSI_MAX_DSL            0xffffffu  /* 2^24 - 1: DataSegmentLength field */
#define ISCSI_LOGIN_MAX_DSL      8192u      /* RFC 7143 §6.1: during login */
#define ISCSI_MAX_AHS_LEN        (255u * 4u) /* TotalAHSLength is one byte of words */
#define ISCSI_RESERVED_TAG       0xffffffffu

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

/* Login stages (CSG/NSG, RFC 7143 §11.12.3). */
enum iscsi_login_stage {
	ISCSI_STAGE_SECURITY    = 0,
	ISCSI_STAGE_OPERATIONAL = 1,
	ISCSI_STAGE_FULL        = 3,
};

/* Flags byte (BHS byte 1) bits. */
#define ISCSI_FLAG_FINAL     0x80  /* F bit */
#define ISCSI_FLAG_TRANSIT   0x80  /* T bit, login */
#define ISCSI_FLAG_CONTINUE  0x40  /* C bit, login and text */

/* Typed fields of the BHS. Which ones are meaningful depends on the opcode;
 * the codec encodes and validates exactly the fields each opcode has and
 * requires the others (reserved on the wire) to be zero on decode. */
struct pdu {
	uint8_t opcode;          /* without the immediate bit */
	bool immediate;
	uint8_t flags;           /* byte 1 as on the wire (F/T/C/A/W/R/…) */
	uint8_t ahs_len_words;   /* TotalAHSLength */
	uint32_t data_len;       /* DataSegmentLength */
	uint8_t lun[8];          /* LUN, or ISID(6)+TSIH(2) for login */
	uint32_t itt;            /* Initiator Task Tag */
	uint32_t ttt;            /* Target Transfer Tag / SNACK tag / bytes 20-23 */
	uint32_t cmdsn;          /* CmdSN (requests) or StatSN (responses) at 24 */
	uint32_t exp_statsn;     /* ExpStatSN (requests) or ExpCmdSN (responses) at 28 */
	uint32_t max_cmdsn;      /* MaxCmdSN (responses) at 32 */
	uint8_t  rest[12];       /* bytes 36..47, opcode specific (see below) */

	/* Opcode-specific bytes that live outside the generic slots. */
	uint8_t byte2;           /* e.g. login Version-max / response code */
	uint8_t byte3;           /* e.g. login Version-min / status */
	uint16_t cid;            /* login/logout request CID (bytes 20-21) */

	/* Borrowed pointers into the decode buffer (or caller data for encode). */
	const uint8_t *ahs;
	const uint8_t *data;
};

/* Limits and options a receiver or sender applies. */
struct pdu_opts {
	uint32_t max_data_len;   /* DataSegmentLength ceiling for this direction */
	bool header_digest;      /* CRC32C after BHS+AHS */
	bool data_digest;        /* CRC32C after padded data, when data_len > 0 */
};

/* Decode errors (negative errno values are returned; these name the cause
 * for diagnostics through pdu_strerror()). */
enum pdu_error {
	PDU_OK = 0,
	PDU_ERR_SHORT,        /* buffer shorter than the PDU */
	PDU_ERR_OPCODE,       /* unknown opcode, or one not valid in that direction */
	PDU_ERR_RESERVED,     /* a reserved field was not zero */
	PDU_ERR_DATA_LEN,     /* DataSegmentLength above the allowed maximum */
	PDU_ERR_AHS_LEN,      /* AHS where none is allowed or inconsistent */
	PDU_ERR_PADDING,      /* padding bytes not zero */
	PDU_ERR_HDR_DIGEST,
	PDU_ERR_DATA_DIGEST,
	PDU_ERR_FIELD,        /* a defined field has an invalid value */
};

/* Direction a PDU travels, for opcode validation. */
enum pdu_dir {
	PDU_DIR_ANY = 0,
	PDU_DIR_TO_TARGET,    /* initiator opcodes 0x00..0x1f */
	PDU_DIR_TO_INITIATOR, /* target opcodes 0x20..0x3f */
};

/* Bytes of AHS + header digest + padded data + data digest that follow a
 * decoded BHS. */
size_t pdu_rest_len(const struct pdu *p, const struct pdu_opts *o);

/* Total encoded size of p. */
size_t pdu_wire_len(const struct pdu *p, const struct pdu_opts *o);

/* Decode a 48-byte BHS. Returns 0, or -EPROTO / -EMSGSIZE with *ret_err
 * (may be NULL) naming the cause. ret is untouched on failure. */
int pdu_decode_bhs(const uint8_t bhs[ISCSI_BHS_LEN], enum pdu_dir dir,
		   const struct pdu_opts *o, struct pdu *ret, enum pdu_error *ret_err);

/* Given p from pdu_decode_bhs() and the whole PDU (bhs included) in buf,
 * check digests and padding and set p->ahs / p->data. */
int pdu_decode_rest(struct pdu *p, const uint8_t *buf, size_t len,
		    const struct pdu_opts *o, enum pdu_error *ret_err);

/* Both steps on a complete buffer; *ret_used = bytes consumed. */
int pdu_decode(const uint8_t *buf, size_t len, enum pdu_dir dir,
	       const struct pdu_opts *o, struct pdu *ret, size_t *ret_used,
	       enum pdu_error *ret_err);

/* Encode p (with p->data_len bytes at p->data, p->ahs_len_words*4 at p->ahs)
 * into buf. Returns 0 and *ret_len, -ENOBUFS when cap is too small,
 * -EINVAL when p is not encodable (e.g. data_len > o->max_data_len). */
int pdu_encode(const struct pdu *p, const struct pdu_opts *o,
	       uint8_t *buf, size_t cap, size_t *ret_len);

const char *pdu_strerror(enum pdu_error e);
const char *pdu_opcode_name(uint8_t opcode);

/* Helpers for login PDUs: ISID/TSIH live in the LUN slot. */
void pdu_set_isid_tsih(struct pdu *p, const uint8_t isid[6], uint16_t tsih);
void pdu_get_isid_tsih(const struct pdu *p, uint8_t isid[6], uint16_t *tsih);

/* Login field accessors (RFC 7143 §11.12, §11.13). */
static inline unsigned pdu_login_csg(const struct pdu *p) { return (p->flags >> 2) & 3; }
static inline unsigned pdu_login_nsg(const struct pdu *p) { return p->flags & 3; }

#endif
