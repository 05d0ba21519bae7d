/* The control protocol between iscsiadm (and other clients) and iscsid.
 *
 * A message is a frame: a fixed 20-byte header followed by a payload of
 * typed TLV fields. Everything is big-endian. doc/ipc.md is the
 * specification; this header is the codec both sides share.
 *
 *   offset size  field
 *   0      4     magic "ISCI"
 *   4      2     protocol version (IPC_PROTO_VERSION)
 *   6      2     message type (enum ipc_msg_type)
 *   8      2     flags (IPC_FLAG_RESPONSE on answers; others ignored)
 *   10     2     reserved, sent as 0, ignored
 *   12     4     request id (the response echoes it)
 *   16     4     payload length (at most IPC_MAX_PAYLOAD)
 *
 *   field: tag u16, length u32, value (length bytes)
 *
 * Fixed forever, whatever the protocol version: the header layout and
 * magic, the TLV layout, and tags 1 (IPC_TAG_STATUS, u32 exit code) and
 * 2 (IPC_TAG_MESSAGE, string). That is what lets a client of any version
 * read the error a daemon of another version sends back.
 *
 * Decoding rules: unknown tags are skipped (newer peers may add fields);
 * a known tag with a value of the wrong size, a string with a NUL byte or
 * over its limit, a duplicate of a non-repeatable tag, a truncated field
 * or too many fields rejects the whole message with -EBADMSG.
 */
#ifndef LIBINITIATOR_IPC_H
#define LIBINITIATOR_IPC_H

#include <stddef.h>
#include <stdint.h>

#define IPC_MAGIC "ISCI"
#define IPC_PROTO_VERSION 1
#define IPC_HDR_LEN 20
#define IPC_MAX_FRAME 65536u                       /* header + payload */
#define IPC_MAX_PAYLOAD (IPC_MAX_FRAME - IPC_HDR_LEN)
#define IPC_TLV_HDR_LEN 6
#define IPC_MAX_FIELDS 4096                        /* per message, all levels */
#define IPC_MAX_DEPTH 2                            /* top level + one group level */

#define IPC_FLAG_RESPONSE 0x0001

enum ipc_msg_type {
	/* Type of an answer to a frame the daemon could not read or did
	 * not read (bad magic, busy, peer refused): always an error. */
	IPC_MSG_NONE = 0,
	IPC_MSG_HELLO = 1,
	IPC_MSG_LOGIN = 2,
	IPC_MSG_LOGOUT = 3,
	IPC_MSG_SESSION_LIST_STATE = 4,
	IPC_MSG_RESCAN = 5,
	IPC_MSG_RELOAD = 6,
	IPC_MSG_STOP = 7,
	IPC_MSG_SESSION_STATS = 8,
	IPC_MSG_MAX,
};

enum ipc_type {
	IPC_T_U32 = 1,
	IPC_T_U64,
	IPC_T_STR,     /* 0..max bytes, no NUL; not NUL-terminated on the wire */
	IPC_T_GROUP,   /* value is itself a list of fields */
};

enum ipc_tag {
	IPC_TAG_STATUS = 1,          /* u32: exit code from errors.h (responses) */
	IPC_TAG_MESSAGE = 2,         /* str: human text (responses) */
	IPC_TAG_DAEMON_VERSION = 3,  /* str: iscsid package version (HELLO) */
	IPC_TAG_INITIATOR_NAME = 4,  /* str (HELLO) */
	IPC_TAG_INITIATOR_ALIAS = 5, /* str (HELLO) */
	IPC_TAG_CONFIG_FILE = 6,     /* str: iscsid.conf the daemon read (HELLO) */
	IPC_TAG_RECORD = 7,          /* str: node record as "key = value" lines (LOGIN) */
	IPC_TAG_LOGIN_FLAGS = 8,     /* u32: IPC_LOGIN_* (LOGIN) */
	IPC_TAG_SID = 9,             /* u32: session id */
	IPC_TAG_HOST_NO = 10,        /* u32: SCSI host number */
	IPC_TAG_DEVICE = 11,         /* str, repeatable: block device name ("sdb") */
	IPC_TAG_TARGET_NAME = 12,    /* str: iSCSI target name */
	IPC_TAG_PORTAL = 13,         /* str: "address:port" */
	IPC_TAG_IFACE = 14,          /* str: iface name */
	IPC_TAG_SESSION = 15,        /* group, repeatable (SESSION_LIST_STATE) */
	IPC_TAG_SESSION_STATE = 16,  /* str, inside IPC_TAG_SESSION */
	IPC_TAG_CONN_STATE = 17,     /* str, inside IPC_TAG_SESSION */
	IPC_TAG_PROTO_VERSION = 18,  /* u32: the sender's protocol version (HELLO) */
	IPC_TAG_STAT = 19,           /* group, repeatable (SESSION_STATS answer), in order */
	IPC_TAG_STAT_NAME = 20,      /* str, inside IPC_TAG_STAT: "txdata_octets" ... */
	IPC_TAG_STAT_VALUE = 21,     /* u64, inside IPC_TAG_STAT */
	IPC_TAG_STAT_EXTENDED = 22,  /* u32 1, inside IPC_TAG_STAT: a driver-specific counter */
	IPC_TAG_TRANSPORT = 23,      /* str, inside IPC_TAG_SESSION: its carrier ("tcp", "uspace") */
	IPC_TAG_TPGT = 24,           /* u32, inside IPC_TAG_SESSION: target portal group tag (absent: unknown) */
	IPC_TAG_LOGINS = 25,         /* u64 (SESSION_STATS answer): logins that reached full feature phase */
	IPC_TAG_RECOVERIES = 26,     /* u64 (SESSION_STATS answer): connections lost while logged in */
	IPC_TAG_RECOVERY_MS = 27,    /* u64 (SESSION_STATS answer): time in recovery, the current one included */
	IPC_TAG_LAST_LOGIN_MS = 28,  /* u64 (SESSION_STATS answer): the last login's duration (absent: none yet) */
	IPC_TAG_CONN_ERROR = 29,     /* group, repeatable (SESSION_STATS answer): STAT_NAME (cause), STAT_VALUE */
	IPC_TAG_LOGIN_BACKGROUND_MS = 30, /* u32 (LOGIN): not logged in after this many ms: answer
					   * ISCSI_ERR_AGAIN and keep trying in the background */
	IPC_TAG_MAX,
};

/* LOGIN flags */
#define IPC_LOGIN_WAIT_DEVICES 0x0001  /* answer only once block devices exist */
#define IPC_LOGIN_NO_SCAN      0x0002  /* do not scan: the client scans (RESCAN) in its own order */

/* Limits on string values (bytes, without any terminator). */
#define IPC_MESSAGE_MAX 4096
#define IPC_NAME_MAX 223               /* RFC 7143 §4.2.7.1 (iSCSI names) */
#define IPC_SHORT_STR_MAX 255
#define IPC_PATH_STR_MAX 4096

struct ipc_hdr {
	uint16_t version;
	uint16_t type;
	uint16_t flags;
	uint16_t reserved;
	uint32_t id;
	uint32_t len;          /* payload length */
};

/* Checks the magic and fills *ret (any version, any length). -EINVAL when
 * len < IPC_HDR_LEN, -EBADMSG on a wrong magic. */
int ipc_hdr_decode(const uint8_t *buf, size_t len, struct ipc_hdr *ret);
/* The checks a receiver makes after the magic, in this order: version
 * (-EPROTONOSUPPORT when it is not IPC_PROTO_VERSION), then payload length
 * (-EMSGSIZE over IPC_MAX_PAYLOAD). The version comes first because the
 * limits are a property of the version. */
int ipc_hdr_check(const struct ipc_hdr *h);
void ipc_hdr_encode(const struct ipc_hdr *h, uint8_t out[IPC_HDR_LEN]);

/* ---- decoded messages ---- */

struct ipc_fields;

struct ipc_field {
	uint16_t tag;
	uint8_t type;                 /* enum ipc_type */
	uint32_t len;                 /* value length on the wire */
	uint64_t num;                 /* IPC_T_U32, IPC_T_U64 */
	const char *str;              /* IPC_T_STR: NUL-terminated copy */
	struct ipc_fields *group;     /* IPC_T_GROUP */
};

struct ipc_fields {
	size_t n;
	struct ipc_field *v;
};

struct ipc_msg {
	struct ipc_hdr hdr;
	struct ipc_fields fields;
};

/* Decodes a payload of hdr->len bytes (len must equal hdr->len). When
 * hdr->version is not ours only the fixed-forever tags (STATUS, MESSAGE)
 * are interpreted and all others skipped, so an error from a daemon of
 * another version can still be shown. Returns 0, -EBADMSG (malformed),
 * -EINVAL (len mismatch), -ENOMEM. */
int ipc_msg_decode(const struct ipc_hdr *hdr, const uint8_t *payload, size_t len,
		   struct ipc_msg **ret);
/* Header + payload in one buffer, exactly one frame long. The header must
 * pass ipc_hdr_decode(); the version is not checked (see above), the
 * length is (-EMSGSIZE). */
int ipc_frame_decode(const uint8_t *buf, size_t len, struct ipc_msg **ret);
void ipc_msg_free(struct ipc_msg *m);

/* First field with tag, or NULL. */
const struct ipc_field *ipc_find(const struct ipc_fields *f, uint16_t tag);
/* 0, or -ENOENT when absent; *ret untouched then. */
int ipc_get_u32(const struct ipc_fields *f, uint16_t tag, uint32_t *ret);
int ipc_get_u64(const struct ipc_fields *f, uint16_t tag, uint64_t *ret);
/* The string, or NULL when absent. */
const char *ipc_get_str(const struct ipc_fields *f, uint16_t tag);
/* Number of fields with tag (for repeatable tags). */
size_t ipc_count(const struct ipc_fields *f, uint16_t tag);

/* Name of a tag / message type for logs ("STATUS", "LOGIN"), or "?". */
const char *ipc_tag_name(uint16_t tag);
const char *ipc_msg_type_name(uint16_t type);

/* ---- encoding ---- */

/* Builds one frame. The first error (bad tag/type pairing, string with a
 * NUL byte or over its limit, frame over IPC_MAX_FRAME, nesting too deep,
 * no memory) sticks and is returned by ipc_writer_finish(); the put
 * functions need no checks in between. */
struct ipc_writer {
	uint8_t *buf;
	size_t len;
	size_t cap;
	int err;
	unsigned depth;
	size_t group_at[IPC_MAX_DEPTH];
	uint16_t version;
	uint16_t type;
	uint16_t flags;
	uint32_t id;
	unsigned nfields;
};

void ipc_writer_init(struct ipc_writer *w, uint16_t type, uint16_t flags, uint32_t id);
void ipc_put_u32(struct ipc_writer *w, uint16_t tag, uint32_t v);
void ipc_put_u64(struct ipc_writer *w, uint16_t tag, uint64_t v);
void ipc_put_str(struct ipc_writer *w, uint16_t tag, const char *s);
/* Any tag and bytes, unchecked against the tag table: for tests and for
 * forward-compatible extensions. Still limited in size. */
void ipc_put_raw(struct ipc_writer *w, uint16_t tag, const void *val, size_t len);
void ipc_group_begin(struct ipc_writer *w, uint16_t tag);
void ipc_group_end(struct ipc_writer *w);
/* Completes the frame and hands over the buffer (free() it). On failure
 * returns the sticky error and releases everything. */
int ipc_writer_finish(struct ipc_writer *w, uint8_t **ret_buf, size_t *ret_len);
/* Drops an unfinished writer. */
void ipc_writer_release(struct ipc_writer *w);

/* The fixed-forever error answer: header with our version, type and id
 * as given, IPC_FLAG_RESPONSE; STATUS and MESSAGE (truncated to
 * IPC_MESSAGE_MAX). */
int ipc_error_encode(uint16_t type, uint32_t id, uint32_t status, const char *message,
		     uint8_t **ret_buf, size_t *ret_len);

#endif
