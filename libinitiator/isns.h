/* iSNSP, the Internet Storage Name Service protocol (RFC 4171 §5, §6):
 * bytes only, no sockets.
 *
 *   framing      the 12-byte PDU header (§5.1), a message split over
 *                several PDUs put back together (§5.3) under limits
 *   attributes   Tag-Length-Value (§5.5), 4-byte aligned values
 *   requests     what an initiator sends: DevAttrReg, DevAttrQry,
 *                DevDereg, SCNReg (§5.6.5); and its answers to what a
 *                server sends it: SCN and ESI responses (§5.7.5)
 *   results      a DevAttrQry response as the target list SendTargets
 *                gives (sendtargets.h), from the Portal Group objects;
 *                an SCN's destination and events
 *
 * Everything a server sends is hostile: a PDU header with a wrong
 * version, an authentication block, a PDU outside its message, a message
 * or attribute count over the limits, an attribute running past its
 * message or with a length that is not a multiple of 4, a value of the
 * wrong size, a name that is no iSCSI name: each fails with -EPROTO (or
 * -EMSGSIZE for the limits) and a sentence saying why, never raw peer
 * bytes. Memory is bounded by struct isns_limits. */
#ifndef LIBINITIATOR_ISNS_H
#define LIBINITIATOR_ISNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sendtargets.h"

#define ISNS_DEFAULT_PORT 3205
#define ISNS_HDR_LEN 12
#define ISNS_VERSION 1
#define ISNS_PDU_PAYLOAD_MAX 65535u   /* the 16-bit PDU Length */
#define ISNS_ERR_MAX 200

/* Header flags (§5.1.4). */
#define ISNS_F_CLIENT 0x8000u
#define ISNS_F_SERVER 0x4000u
#define ISNS_F_AUTH 0x2000u
#define ISNS_F_REPLACE 0x1000u
#define ISNS_F_LAST 0x0800u
#define ISNS_F_FIRST 0x0400u

/* Function IDs (§5.1.3); a response is its request's ID | ISNS_RSP. */
enum isns_function {
	ISNS_DEV_ATTR_REG = 0x0001,
	ISNS_DEV_ATTR_QRY = 0x0002,
	ISNS_DEV_GET_NEXT = 0x0003,
	ISNS_DEV_DEREG = 0x0004,
	ISNS_SCN_REG = 0x0005,
	ISNS_SCN_DEREG = 0x0006,
	ISNS_SCN_EVENT = 0x0007,
	ISNS_SCN = 0x0008,
	ISNS_ESI = 0x000d,
	ISNS_HEARTBEAT = 0x000e,
};
#define ISNS_RSP 0x8000u

/* Attribute tags (§6.1) this initiator reads or writes. */
enum isns_tag {
	ISNS_TAG_DELIMITER = 0,
	ISNS_TAG_EID = 1,
	ISNS_TAG_ENTITY_PROTOCOL = 2,
	ISNS_TAG_TIMESTAMP = 4,
	ISNS_TAG_REGISTRATION_PERIOD = 6,
	ISNS_TAG_PORTAL_IP = 16,
	ISNS_TAG_PORTAL_PORT = 17,
	ISNS_TAG_ESI_PORT = 20,
	ISNS_TAG_SCN_PORT = 23,
	ISNS_TAG_ISCSI_NAME = 32,
	ISNS_TAG_ISCSI_NODE_TYPE = 33,
	ISNS_TAG_ISCSI_ALIAS = 34,
	ISNS_TAG_ISCSI_SCN_BITMAP = 35,
	ISNS_TAG_PG_ISCSI_NAME = 48,
	ISNS_TAG_PG_PORTAL_IP = 49,
	ISNS_TAG_PG_PORTAL_PORT = 50,
	ISNS_TAG_PG_TAG = 51,
	ISNS_TAG_PG_INDEX = 52,
	ISNS_TAG_DD_ID = 2065,
};

/* Response status codes (§5.4). */
enum isns_status {
	ISNS_OK = 0,
	ISNS_UNKNOWN_ERROR = 1,
	ISNS_MSG_FORMAT_ERROR = 2,
	ISNS_INVALID_REGISTRATION = 3,
	ISNS_INVALID_QUERY = 5,
	ISNS_SOURCE_UNKNOWN = 6,
	ISNS_SOURCE_ABSENT = 7,
	ISNS_SOURCE_UNAUTHORIZED = 8,
	ISNS_NO_SUCH_ENTRY = 9,
	ISNS_VERSION_NOT_SUPPORTED = 10,
	ISNS_INTERNAL_ERROR = 11,
	ISNS_BUSY = 12,
	ISNS_OPTION_NOT_UNDERSTOOD = 13,
	ISNS_INVALID_UPDATE = 14,
	ISNS_MSG_NOT_SUPPORTED = 15,
	ISNS_SCN_EVENT_REJECTED = 16,
	ISNS_SCN_REG_REJECTED = 17,
	ISNS_ATTR_NOT_IMPLEMENTED = 18,
	ISNS_ESI_NOT_AVAILABLE = 21,
	ISNS_INVALID_DEREG = 22,
	ISNS_REG_FEATURE_NOT_SUPPORTED = 23,
};

#define ISNS_ENTITY_PROTOCOL_ISCSI 2u     /* §6.2.2 */
#define ISNS_NODE_TARGET 0x1u             /* iSCSI Node Type bits (§6.4.2) */
#define ISNS_NODE_INITIATOR 0x2u
#define ISNS_NODE_CONTROL 0x4u
#define ISNS_PORT_UDP 0x10000u            /* Portal TCP/UDP Port: bit 15 of the upper half (§6.3.2) */

/* iSCSI SCN Bitmap (§6.4.4). */
#define ISNS_SCN_DD_MEMBER_ADDED 0x01u
#define ISNS_SCN_DD_MEMBER_REMOVED 0x02u
#define ISNS_SCN_OBJECT_UPDATED 0x04u
#define ISNS_SCN_OBJECT_ADDED 0x08u
#define ISNS_SCN_OBJECT_REMOVED 0x10u
#define ISNS_SCN_MANAGEMENT 0x20u
#define ISNS_SCN_TARGET_AND_SELF_ONLY 0x40u
#define ISNS_SCN_INITIATOR_AND_SELF_ONLY 0x80u

/* ---- limits ---- */

/* What one received message may cost. The defaults hold a DevAttrQry
 * answer for thousands of targets. */
#define ISNS_MAX_MSG (4u * 1024u * 1024u)  /* payload bytes, all PDUs */
#define ISNS_MAX_PDUS 1024u                /* PDUs in one message */
#define ISNS_MAX_ATTRS 200000u             /* attributes in one message */

struct isns_limits {
	size_t max_msg;
	unsigned max_pdus;
	size_t max_attrs;
};

/* ---- writing ---- */

/* A payload being built into caller memory. A put that does not fit sets
 * full and writes nothing more; the build functions then return -ENOBUFS. */
struct isns_buf {
	uint8_t *p;
	size_t len;
	size_t cap;
	bool full;
};

void isns_buf_init(struct isns_buf *b, uint8_t *mem, size_t cap);
void isns_put_u32(struct isns_buf *b, uint32_t tag, uint32_t v);
/* A NUL-terminated string padded with NULs to a multiple of 4 (§5.5.1). */
void isns_put_str(struct isns_buf *b, uint32_t tag, const char *s);
/* 16 bytes: IPv6, or IPv4 as ::ffff:a.b.c.d (§6.3.1). */
void isns_put_addr(struct isns_buf *b, uint32_t tag, const struct sockaddr *sa);
/* A zero-length attribute: "return this attribute" in a query. */
void isns_put_nil(struct isns_buf *b, uint32_t tag);
/* A bare 4-byte value (a response's status). */
void isns_put_raw32(struct isns_buf *b, uint32_t v);

/* The PDU header for a message payload of len bytes sent as one PDU
 * (len <= ISNS_PDU_PAYLOAD_MAX): flags gets FIRST and LAST. */
void isns_pdu_header(uint16_t function, uint16_t flags, uint16_t xid, size_t len, uint8_t hdr[ISNS_HDR_LEN]);

/* What DevAttrReg registers: one Network Entity (iSCSI), one Portal
 * (where SCNs reach us; omitted when portal is NULL) and one Storage
 * Node, an initiator. */
struct isns_reg {
	const char *iname;                 /* Source and iSCSI Name */
	const char *alias;                 /* NULL or "": none */
	const char *eid;                   /* Entity Identifier */
	const struct sockaddr *portal;     /* Portal IP Address */
	uint16_t portal_port;              /* Portal TCP/UDP Port (TCP) */
	uint16_t scn_port;                 /* SCN Port (TCP); 0: none */
};

/* Request payloads (§5.6.5). Each returns 0, -EINVAL (a name missing or
 * too long), or -ENOBUFS when the buffer is too small. */
int isns_build_reg(struct isns_buf *b, const struct isns_reg *r);
/* DevAttrQry for the targets visible to iname (target NULL), or for one
 * target: their iSCSI Name and Node Type, Portals, and Portal Groups
 * (name, address, port, tag) -- the objects the results are made of. */
int isns_build_query(struct isns_buf *b, const char *iname, const char *target);
/* DevGetNext over the target nodes iname may see: the one after the
 * iSCSI Name last (NULL: the first). */
int isns_build_getnext(struct isns_buf *b, const char *iname, const char *last);
/* DevDereg of the whole entity eid (its portal and node with it). */
int isns_build_dereg(struct isns_buf *b, const char *iname, const char *eid);
/* SCNReg for iname's own node. */
int isns_build_scn_reg(struct isns_buf *b, const char *iname, uint32_t bitmap);

/* ---- reading ---- */

struct isns_attr {
	uint32_t tag;
	uint32_t len;                   /* multiple of 4 */
	const uint8_t *val;             /* into the message's data */
};

/* A received message, put together from its PDUs. */
struct isns_msg {
	uint16_t function;
	uint16_t flags;                 /* of its first PDU */
	uint16_t xid;
	uint32_t status;                /* responses: the first 4 bytes */
	uint8_t *data;                  /* the payload, all PDUs */
	size_t len;
	struct isns_attr *attrs;        /* after the status in a response */
	size_t n_attrs;
	size_t delim;                   /* index of the first Delimiter; n_attrs if none */
};
void isns_msg_free(struct isns_msg *m);   /* NULL is a no-op; m reusable */
bool isns_msg_is_response(const struct isns_msg *m);

/* The receiving side of a connection: ask where the next bytes go
 * (isns_rx_space), read at most that many there, report how many came
 * (isns_rx_commit). No PDU byte is ever read beyond what is asked, so a
 * blocking caller can read exactly that much. */
struct isns_rx {
	struct isns_limits lim;
	uint8_t hdr[ISNS_HDR_LEN];
	size_t hdr_have;
	size_t pdu_len;                 /* payload of the PDU being read */
	size_t pdu_have;
	bool in_pdu;                    /* reading a payload */
	bool in_msg;                    /* between a FIRST and a LAST PDU */
	uint16_t function, flags, xid, next_seq;
	unsigned npdus;
	uint8_t *msg;
	size_t msg_len, msg_cap;
	bool ready;                     /* a whole message waits for isns_rx_take() */
};

/* lim NULL: the ISNS_MAX_* defaults. */
void isns_rx_init(struct isns_rx *rx, const struct isns_limits *lim);
void isns_rx_free(struct isns_rx *rx);
/* Where to put the next bytes and at most how many (> 0). -ENOMEM.
 * Not to be called while a message is ready. */
int isns_rx_space(struct isns_rx *rx, uint8_t **ret_buf, size_t *ret_len);
/* n bytes arrived at the place isns_rx_space() gave: 1 when a message is
 * complete (isns_rx_take() it), 0 when more is needed, or -EPROTO /
 * -EMSGSIZE with err saying why (the connection is unusable then). */
int isns_rx_commit(struct isns_rx *rx, size_t n, char *err, size_t errlen);
/* The complete message, its attributes checked (§5.5): 0, or -EPROTO /
 * -EMSGSIZE / -ENOMEM with err. The receiver is ready for the next. */
int isns_rx_take(struct isns_rx *rx, struct isns_msg *ret, char *err, size_t errlen);
/* A whole buffer as one message (tests, fuzzing): the same checks. */
int isns_msg_decode(const uint8_t *buf, size_t len, const struct isns_limits *lim, struct isns_msg *ret,
		    char *err, size_t errlen);

/* Values of attributes, checked: -EPROTO when the length is wrong for the
 * type; strings must end with a NUL inside the value (-EPROTO) and fit
 * cap (-ENAMETOOLONG). */
int isns_attr_u32(const struct isns_attr *a, uint32_t *ret);
int isns_attr_str(const struct isns_attr *a, char *buf, size_t cap);
/* The address as text: dotted IPv4 for ::ffff:a.b.c.d, else IPv6. */
int isns_attr_addr(const struct isns_attr *a, char *buf, size_t cap, int *ret_family);

/* ---- results ---- */

struct isns_query_stats {
	size_t pgs;                     /* Portal Group objects read */
	size_t skipped;                 /* not usable: no tag (NULL PGT), UDP, wildcard address, not a target */
};

/* A successful DevAttrQry response as targets and portals (tpgt = the
 * Portal Group Tag): 0 and *ret (free with st_result_free()), -EPROTO
 * (malformed objects or addresses), -E2BIG (over the ST_MAX_* limits),
 * -ENOMEM; err says why. A target whose name is not a valid iSCSI name
 * is skipped and noted in ret (st_result_skip()), as SendTargets does;
 * an answer none of whose targets is valid fails (-EPROTO). */
int isns_query_result(const struct isns_msg *m, struct st_result *ret, struct isns_query_stats *stats, char *err,
		      size_t errlen);

/* An SCN (§5.6.5.9): the destination (ours) and the events, each the
 * SCN bitmap and the name of the node it concerns; at most max kept
 * (*ret_n counts all). 0 or -EPROTO with err. */
struct isns_scn_event {
	uint32_t bitmap;
	char name[224];
};
int isns_scn_parse(const struct isns_msg *m, char *dest, size_t destlen, struct isns_scn_event *ev, size_t max,
		   size_t *ret_n, char *err, size_t errlen);

/* The answer to a request the server sent us: a complete PDU (header
 * included) into out, same transaction. With status 0, an SCN response
 * carries the SCN's destination attribute (§5.7.5.9) and an ESI response
 * echoes the ESI's attributes (§5.7.5.13); otherwise the status alone
 * (e.g. ISNS_MSG_NOT_SUPPORTED). 0, -ENOBUFS, -EINVAL (req is a response). */
int isns_build_answer(const struct isns_msg *req, uint32_t status, uint8_t *out, size_t cap, size_t *ret_len);

const char *isns_status_str(uint32_t status);
const char *isns_function_name(uint16_t function);
const char *isns_scn_event_str(uint32_t bitmap);

#endif
