/* The NETLINK_ISCSI user/kernel ABI, as spoken by scsi_transport_iscsi in
 * Linux 6.1 (software iscsi_tcp).
 *
 * Written for this project from the facts collected in
 * shared/reference/kernel-iscsi-abi.md (§1.3-§1.7); the numbers and byte
 * offsets are the kernel's, the spelling is ours. The _Static_asserts at
 * the end pin the x86_64 (LP64) layout that was checked against the
 * kernel's own header: a mismatch here would make every request
 * misparse, so it must fail the build, not a login.
 *
 * Names that would collide with libinitiator (enum iscsi_err, the BHS
 * length) carry an ISCSI_IF_ prefix here.
 *
 * All integers are host byte order.
 */
#ifndef KMODGLUE_ISCSI_IF_H
#define KMODGLUE_ISCSI_IF_H

#include <stddef.h>
#include <stdint.h>

/* Protocol number (linux/netlink.h) and multicast groups. */
#ifndef NETLINK_ISCSI
#define NETLINK_ISCSI 8
#endif
#define ISCSI_NL_GRP_ISCSID 1u   /* every event an iscsid needs */
#define ISCSI_NL_GRP_UIP    2u   /* PATH_REQ / IF_DOWN for offload helpers */

/* Message types: requests (user -> kernel, 11..43) and kernel events
 * (101..111). A request carries its type both in nlmsg_type and in
 * iscsi_uevent.type (the kernel dispatches on the first and checks the
 * second in places). */
#define ISCSI_UEVENT_BASE 10u
#define ISCSI_KEVENT_BASE 100u

enum iscsi_uevent_type {
	ISCSI_UEVENT_UNKNOWN                          = 0,
	ISCSI_UEVENT_CREATE_SESSION                   = ISCSI_UEVENT_BASE + 1,
	ISCSI_UEVENT_DESTROY_SESSION                  = ISCSI_UEVENT_BASE + 2,
	ISCSI_UEVENT_CREATE_CONN                      = ISCSI_UEVENT_BASE + 3,
	ISCSI_UEVENT_DESTROY_CONN                     = ISCSI_UEVENT_BASE + 4,
	ISCSI_UEVENT_BIND_CONN                        = ISCSI_UEVENT_BASE + 5,
	ISCSI_UEVENT_SET_PARAM                        = ISCSI_UEVENT_BASE + 6,
	ISCSI_UEVENT_START_CONN                       = ISCSI_UEVENT_BASE + 7,
	ISCSI_UEVENT_STOP_CONN                        = ISCSI_UEVENT_BASE + 8,
	ISCSI_UEVENT_SEND_PDU                         = ISCSI_UEVENT_BASE + 9,
	ISCSI_UEVENT_GET_STATS                        = ISCSI_UEVENT_BASE + 10,
	ISCSI_UEVENT_GET_PARAM                        = ISCSI_UEVENT_BASE + 11,
	ISCSI_UEVENT_TRANSPORT_EP_CONNECT             = ISCSI_UEVENT_BASE + 12,
	ISCSI_UEVENT_TRANSPORT_EP_POLL                = ISCSI_UEVENT_BASE + 13,
	ISCSI_UEVENT_TRANSPORT_EP_DISCONNECT          = ISCSI_UEVENT_BASE + 14,
	ISCSI_UEVENT_TGT_DSCVR                        = ISCSI_UEVENT_BASE + 15,
	ISCSI_UEVENT_SET_HOST_PARAM                   = ISCSI_UEVENT_BASE + 16,
	ISCSI_UEVENT_UNBIND_SESSION                   = ISCSI_UEVENT_BASE + 17,
	ISCSI_UEVENT_CREATE_BOUND_SESSION             = ISCSI_UEVENT_BASE + 18,
	ISCSI_UEVENT_TRANSPORT_EP_CONNECT_THROUGH_HOST = ISCSI_UEVENT_BASE + 19,
	ISCSI_UEVENT_PATH_UPDATE                      = ISCSI_UEVENT_BASE + 20,
	ISCSI_UEVENT_SET_IFACE_PARAMS                 = ISCSI_UEVENT_BASE + 21,
	ISCSI_UEVENT_PING                             = ISCSI_UEVENT_BASE + 22,
	ISCSI_UEVENT_GET_CHAP                         = ISCSI_UEVENT_BASE + 23,
	ISCSI_UEVENT_DELETE_CHAP                      = ISCSI_UEVENT_BASE + 24,
	ISCSI_UEVENT_SET_FLASHNODE_PARAMS             = ISCSI_UEVENT_BASE + 25,
	ISCSI_UEVENT_NEW_FLASHNODE                    = ISCSI_UEVENT_BASE + 26,
	ISCSI_UEVENT_DEL_FLASHNODE                    = ISCSI_UEVENT_BASE + 27,
	ISCSI_UEVENT_LOGIN_FLASHNODE                  = ISCSI_UEVENT_BASE + 28,
	ISCSI_UEVENT_LOGOUT_FLASHNODE                 = ISCSI_UEVENT_BASE + 29,
	ISCSI_UEVENT_LOGOUT_FLASHNODE_SID             = ISCSI_UEVENT_BASE + 30,
	ISCSI_UEVENT_SET_CHAP                         = ISCSI_UEVENT_BASE + 31,
	ISCSI_UEVENT_GET_HOST_STATS                   = ISCSI_UEVENT_BASE + 32,
	ISCSI_UEVENT_DESTROY_SESSION_ASYNC            = ISCSI_UEVENT_BASE + 33,
	ISCSI_UEVENT_MAX                              = ISCSI_UEVENT_DESTROY_SESSION_ASYNC,

	ISCSI_KEVENT_RECV_PDU                         = ISCSI_KEVENT_BASE + 1,
	ISCSI_KEVENT_CONN_ERROR                       = ISCSI_KEVENT_BASE + 2,
	ISCSI_KEVENT_IF_ERROR                         = ISCSI_KEVENT_BASE + 3,
	ISCSI_KEVENT_DESTROY_SESSION                  = ISCSI_KEVENT_BASE + 4,
	ISCSI_KEVENT_UNBIND_SESSION                   = ISCSI_KEVENT_BASE + 5,
	ISCSI_KEVENT_CREATE_SESSION                   = ISCSI_KEVENT_BASE + 6,
	ISCSI_KEVENT_PATH_REQ                         = ISCSI_KEVENT_BASE + 7,
	ISCSI_KEVENT_IF_DOWN                          = ISCSI_KEVENT_BASE + 8,
	ISCSI_KEVENT_CONN_LOGIN_STATE                 = ISCSI_KEVENT_BASE + 9,
	ISCSI_KEVENT_HOST_EVENT                       = ISCSI_KEVENT_BASE + 10,
	ISCSI_KEVENT_PING_COMP                        = ISCSI_KEVENT_BASE + 11,
	ISCSI_KEVENT_MAX                              = ISCSI_KEVENT_PING_COMP,
};

/* The fixed part of every message after the nlmsghdr. `u` holds request
 * arguments, `r` reply results and event fields. Member names follow the
 * reference's table (§1.4) so the two can be read side by side. */
struct iscsi_uevent {
	uint32_t type;              /* enum iscsi_uevent_type */
	uint32_t iferror;           /* negative errno (as u32) in IF_ERROR replies */
	uint64_t transport_handle;  /* sysfs class/iscsi_transport/<name>/handle */

	union {
		struct {
			uint32_t initial_cmdsn;
			uint16_t cmds_max;
			uint16_t queue_depth;
		} c_session;
		struct {
			uint64_t ep_handle;
			uint32_t initial_cmdsn;
			uint16_t cmds_max;
			uint16_t queue_depth;
		} c_bound_session;
		struct {            /* DESTROY_SESSION(_ASYNC), UNBIND_SESSION */
			uint32_t sid;
		} d_session;
		struct {
			uint32_t sid;
			uint32_t cid;
		} c_conn;
		struct {
			uint32_t sid;
			uint32_t cid;
			uint64_t transport_eph;   /* the TCP socket fd, widened */
			uint32_t is_leading;
		} b_conn;
		struct {
			uint32_t sid;
			uint32_t cid;
		} d_conn;
		struct {
			uint32_t sid;
			uint32_t cid;
			uint32_t hdr_size;
			uint32_t data_size;
		} send_pdu;
		struct {
			uint32_t sid;
			uint32_t cid;
			uint32_t param;           /* enum iscsi_param */
			uint32_t len;             /* strlen(value) + 1 */
		} set_param;
		struct {
			uint32_t sid;
			uint32_t cid;
		} start_conn;
		struct {
			uint32_t sid;
			uint32_t cid;
			uint64_t conn_handle;     /* unused by 6.1 */
			uint32_t flag;            /* ISCSI_STOP_CONN_* */
		} stop_conn;
		struct {
			uint32_t sid;
			uint32_t cid;
		} get_stats;
		struct {
			uint32_t non_blocking;
		} ep_connect;
		struct {
			uint32_t host_no;
			uint32_t non_blocking;
		} ep_connect_through_host;
		struct {
			uint64_t ep_handle;
			uint32_t timeout_ms;
		} ep_poll;
		struct {
			uint64_t ep_handle;
		} ep_disconnect;
		struct {
			uint32_t type;            /* enum iscsi_tgt_dscvr */
			uint32_t host_no;
			uint32_t enable;
		} tgt_dscvr;
		struct {
			uint32_t host_no;
			uint32_t param;           /* enum iscsi_host_param */
			uint32_t len;
		} set_host_param;
		struct {
			uint32_t host_no;
		} set_path;
		struct {
			uint32_t host_no;
			uint32_t count;
		} set_iface_params;
		struct {
			uint32_t host_no;
			uint32_t iface_num;
			uint32_t iface_type;
			uint32_t payload_size;
			uint32_t pid;
		} iscsi_ping;
		struct {
			uint32_t host_no;
			uint32_t num_entries;
			uint16_t chap_tbl_idx;
		} get_chap;
		struct {
			uint32_t host_no;
			uint16_t chap_tbl_idx;
		} delete_chap;
		struct {
			uint32_t host_no;
			uint32_t flashnode_idx;
			uint32_t count;
		} set_flashnode;
		struct {
			uint32_t host_no;
			uint32_t len;
		} new_flashnode;
		struct {
			uint32_t host_no;
			uint32_t flashnode_idx;
		} del_flashnode, login_flashnode, logout_flashnode;
		struct {
			uint32_t host_no;
			uint32_t sid;
		} logout_flashnode_sid;
		struct {
			uint32_t host_no;
		} get_host_stats;
	} u;

	union {
		int32_t retcode;            /* BIND_CONN, START_CONN, SEND_PDU, EP_POLL */
		struct {                    /* CREATE_SESSION reply, KEVENT_CREATE_SESSION */
			uint32_t sid;
			uint32_t host_no;
		} c_session_ret;
		struct {
			uint32_t sid;
			uint32_t cid;
		} c_conn_ret;
		struct {                    /* KEVENT_UNBIND_SESSION */
			uint32_t sid;
			uint32_t host_no;
		} unbind_session;
		struct {                    /* KEVENT_RECV_PDU */
			uint32_t sid;
			uint32_t cid;
			uint64_t recv_handle;
		} recv_req;
		struct {                    /* KEVENT_CONN_LOGIN_STATE (qla4xxx) */
			uint32_t sid;
			uint32_t cid;
			uint32_t state;       /* enum iscsi_if_conn_state */
		} conn_login;
		struct {                    /* KEVENT_CONN_ERROR */
			uint32_t sid;
			uint32_t cid;
			uint32_t error;       /* enum iscsi_if_err */
		} connerror;
		struct {                    /* KEVENT_DESTROY_SESSION: host_no FIRST */
			uint32_t host_no;
			uint32_t sid;
		} d_session;
		struct {
			uint64_t handle;
		} ep_connect_ret;
		struct {
			uint32_t host_no;
		} req_path;
		struct {
			uint32_t host_no;
		} notify_if_down;
		struct {
			uint32_t host_no;
			uint32_t data_size;
			uint32_t code;        /* enum iscsi_host_event_code */
		} host_event;
		struct {
			uint32_t host_no;
			uint32_t status;
			uint32_t pid;
			uint32_t data_size;
		} ping_comp;
		struct {
			uint32_t flashnode_idx;
		} new_flashnode_ret;
	} r;
} __attribute__((aligned(8)));

/* Operational and session parameters for SET_PARAM (value is ASCII text). */
enum iscsi_param {
	ISCSI_PARAM_MAX_RECV_DLENGTH = 0,
	ISCSI_PARAM_MAX_XMIT_DLENGTH,
	ISCSI_PARAM_HDRDGST_EN,
	ISCSI_PARAM_DATADGST_EN,
	ISCSI_PARAM_INITIAL_R2T_EN,
	ISCSI_PARAM_MAX_R2T,
	ISCSI_PARAM_IMM_DATA_EN,
	ISCSI_PARAM_FIRST_BURST,
	ISCSI_PARAM_MAX_BURST,
	ISCSI_PARAM_PDU_INORDER_EN,
	ISCSI_PARAM_DATASEQ_INORDER_EN,          /* 10 */
	ISCSI_PARAM_ERL,
	ISCSI_PARAM_IFMARKER_EN,
	ISCSI_PARAM_OFMARKER_EN,
	ISCSI_PARAM_EXP_STATSN,
	ISCSI_PARAM_TARGET_NAME,
	ISCSI_PARAM_TPGT,
	ISCSI_PARAM_PERSISTENT_ADDRESS,
	ISCSI_PARAM_PERSISTENT_PORT,
	ISCSI_PARAM_SESS_RECOVERY_TMO,
	ISCSI_PARAM_CONN_PORT,                   /* 20, read-only */
	ISCSI_PARAM_CONN_ADDRESS,                /* read-only */
	ISCSI_PARAM_USERNAME,
	ISCSI_PARAM_USERNAME_IN,
	ISCSI_PARAM_PASSWORD,
	ISCSI_PARAM_PASSWORD_IN,
	ISCSI_PARAM_FAST_ABORT,
	ISCSI_PARAM_ABORT_TMO,
	ISCSI_PARAM_LU_RESET_TMO,
	ISCSI_PARAM_HOST_RESET_TMO,
	ISCSI_PARAM_PING_TMO,                    /* 30 */
	ISCSI_PARAM_RECV_TMO,
	ISCSI_PARAM_IFACE_NAME,
	ISCSI_PARAM_ISID,
	ISCSI_PARAM_INITIATOR_NAME,
	ISCSI_PARAM_TGT_RESET_TMO,
	ISCSI_PARAM_TARGET_ALIAS,
	ISCSI_PARAM_CHAP_IN_IDX,
	ISCSI_PARAM_CHAP_OUT_IDX,
	ISCSI_PARAM_BOOT_ROOT,
	ISCSI_PARAM_BOOT_NIC,                    /* 40 */
	ISCSI_PARAM_BOOT_TARGET,
	ISCSI_PARAM_AUTO_SND_TGT_DISABLE,
	ISCSI_PARAM_DISCOVERY_SESS,
	ISCSI_PARAM_PORTAL_TYPE,
	ISCSI_PARAM_CHAP_AUTH_EN,
	ISCSI_PARAM_DISCOVERY_LOGOUT_EN,
	ISCSI_PARAM_BIDI_CHAP_EN,
	ISCSI_PARAM_DISCOVERY_AUTH_OPTIONAL,
	ISCSI_PARAM_DEF_TIME2WAIT,
	ISCSI_PARAM_DEF_TIME2RETAIN,             /* 50 */
	ISCSI_PARAM_MAX_SEGMENT_SIZE,
	ISCSI_PARAM_STATSN,
	ISCSI_PARAM_KEEPALIVE_TMO,
	ISCSI_PARAM_LOCAL_PORT,
	ISCSI_PARAM_TSID,
	ISCSI_PARAM_DEF_TASKMGMT_TMO,
	ISCSI_PARAM_TCP_TIMESTAMP_STAT,
	ISCSI_PARAM_TCP_WSF_DISABLE,
	ISCSI_PARAM_TCP_NAGLE_DISABLE,
	ISCSI_PARAM_TCP_TIMER_SCALE,             /* 60 */
	ISCSI_PARAM_TCP_TIMESTAMP_EN,
	ISCSI_PARAM_TCP_XMIT_WSF,
	ISCSI_PARAM_TCP_RECV_WSF,
	ISCSI_PARAM_IP_FRAGMENT_DISABLE,
	ISCSI_PARAM_IPV4_TOS,
	ISCSI_PARAM_IPV6_TC,
	ISCSI_PARAM_IPV6_FLOW_LABEL,
	ISCSI_PARAM_IS_FW_ASSIGNED_IPV6,
	ISCSI_PARAM_DISCOVERY_PARENT_IDX,
	ISCSI_PARAM_DISCOVERY_PARENT_TYPE,       /* 70 */
	ISCSI_PARAM_LOCAL_IPADDR,
	ISCSI_PARAM_MAX,                         /* 72 */
};

/* Host parameters for SET_HOST_PARAM; iscsi_tcp accepts 0..2. */
enum iscsi_host_param {
	ISCSI_HOST_PARAM_HWADDRESS = 0,
	ISCSI_HOST_PARAM_INITIATOR_NAME = 1,
	ISCSI_HOST_PARAM_NETDEV_NAME = 2,
	ISCSI_HOST_PARAM_IPADDRESS = 3,
	ISCSI_HOST_PARAM_PORT_STATE = 4,
	ISCSI_HOST_PARAM_PORT_SPEED = 5,
	ISCSI_HOST_PARAM_MAX = 6,
};

/* Connection error codes carried by KEVENT_CONN_ERROR. */
#define ISCSI_IF_ERR_BASE 1000u
enum iscsi_if_err {
	ISCSI_IF_OK                       = 0,
	ISCSI_IF_ERR_DATASN               = ISCSI_IF_ERR_BASE + 1,
	ISCSI_IF_ERR_DATA_OFFSET          = ISCSI_IF_ERR_BASE + 2,
	ISCSI_IF_ERR_MAX_CMDSN            = ISCSI_IF_ERR_BASE + 3,
	ISCSI_IF_ERR_EXP_CMDSN            = ISCSI_IF_ERR_BASE + 4,
	ISCSI_IF_ERR_BAD_OPCODE           = ISCSI_IF_ERR_BASE + 5,
	ISCSI_IF_ERR_DATALEN              = ISCSI_IF_ERR_BASE + 6,
	ISCSI_IF_ERR_AHSLEN               = ISCSI_IF_ERR_BASE + 7,
	ISCSI_IF_ERR_PROTO                = ISCSI_IF_ERR_BASE + 8,
	ISCSI_IF_ERR_LUN                  = ISCSI_IF_ERR_BASE + 9,
	ISCSI_IF_ERR_BAD_ITT              = ISCSI_IF_ERR_BASE + 10,
	ISCSI_IF_ERR_CONN_FAILED          = ISCSI_IF_ERR_BASE + 11,
	ISCSI_IF_ERR_R2TSN                = ISCSI_IF_ERR_BASE + 12,
	ISCSI_IF_ERR_SESSION_FAILED       = ISCSI_IF_ERR_BASE + 13,
	ISCSI_IF_ERR_HDR_DGST             = ISCSI_IF_ERR_BASE + 14,
	ISCSI_IF_ERR_DATA_DGST            = ISCSI_IF_ERR_BASE + 15,
	ISCSI_IF_ERR_PARAM_NOT_FOUND      = ISCSI_IF_ERR_BASE + 16,
	ISCSI_IF_ERR_NO_SCSI_CMD          = ISCSI_IF_ERR_BASE + 17,
	ISCSI_IF_ERR_INVALID_HOST         = ISCSI_IF_ERR_BASE + 18,
	ISCSI_IF_ERR_XMIT_FAILED          = ISCSI_IF_ERR_BASE + 19,
	ISCSI_IF_ERR_TCP_CONN_CLOSE       = ISCSI_IF_ERR_BASE + 20,
	ISCSI_IF_ERR_SCSI_EH_SESSION_RST  = ISCSI_IF_ERR_BASE + 21,
	ISCSI_IF_ERR_NOP_TIMEDOUT         = ISCSI_IF_ERR_BASE + 22,
};

/* Login-offload connection states (KEVENT_CONN_LOGIN_STATE). */
enum iscsi_if_conn_state {
	ISCSI_IF_CONN_STATE_FREE = 0,
	ISCSI_IF_CONN_STATE_XPT_WAIT = 1,
	ISCSI_IF_CONN_STATE_IN_LOGIN = 2,
	ISCSI_IF_CONN_STATE_LOGGED_IN = 3,
	ISCSI_IF_CONN_STATE_IN_LOGOUT = 4,
	ISCSI_IF_CONN_STATE_LOGOUT_REQUESTED = 5,
	ISCSI_IF_CONN_STATE_CLEANUP_WAIT = 6,
};

/* STOP_CONN flag; 6.1 acts on TERM and RECOVER only. */
#define ISCSI_STOP_CONN_TERM    1u
#define ISCSI_STOP_CONN_SUSPEND 2u
#define ISCSI_STOP_CONN_RECOVER 3u

/* Transport capability bits (sysfs `caps`). */
#define ISCSI_CAP_RECOVERY_L0           0x1u
#define ISCSI_CAP_RECOVERY_L1           0x2u
#define ISCSI_CAP_RECOVERY_L2           0x4u
#define ISCSI_CAP_MULTI_R2T             0x8u
#define ISCSI_CAP_HDRDGST               0x10u
#define ISCSI_CAP_DATADGST              0x20u
#define ISCSI_CAP_MULTI_CONN            0x40u
#define ISCSI_CAP_TEXT_NEGO             0x80u
#define ISCSI_CAP_MARKERS               0x100u
#define ISCSI_CAP_FW_DB                 0x200u
#define ISCSI_CAP_SENDTARGETS_OFFLOAD   0x400u
#define ISCSI_CAP_DATA_PATH_OFFLOAD     0x800u
#define ISCSI_CAP_DIGEST_OFFLOAD        0x1000u
#define ISCSI_CAP_PADDING_OFFLOAD       0x2000u
#define ISCSI_CAP_LOGIN_OFFLOAD         0x4000u

enum iscsi_tgt_dscvr {
	ISCSI_TGT_DSCVR_SEND_TARGETS = 1,
	ISCSI_TGT_DSCVR_ISNS = 2,
	ISCSI_TGT_DSCVR_SLP = 3,
};

enum iscsi_host_event_code {
	ISCSI_EVENT_LINKUP = 1,
	ISCSI_EVENT_LINKDOWN = 2,
};

/* GET_STATS answer payload: struct iscsi_stats, then custom_length
 * entries of struct iscsi_stats_custom. */
#define ISCSI_STATS_CUSTOM_MAX      32u
#define ISCSI_STATS_CUSTOM_DESC_MAX 64u

struct iscsi_stats_custom {
	char desc[ISCSI_STATS_CUSTOM_DESC_MAX];   /* not necessarily NUL-terminated */
	uint64_t value;
};

struct iscsi_stats {
	uint64_t txdata_octets;
	uint64_t rxdata_octets;
	uint32_t noptx_pdus;
	uint32_t scsicmd_pdus;
	uint32_t tmfcmd_pdus;
	uint32_t login_pdus;
	uint32_t text_pdus;
	uint32_t dataout_pdus;
	uint32_t logout_pdus;
	uint32_t snack_pdus;
	uint32_t noprx_pdus;
	uint32_t scsirsp_pdus;
	uint32_t tmfrsp_pdus;
	uint32_t textrsp_pdus;
	uint32_t datain_pdus;
	uint32_t logoutrsp_pdus;
	uint32_t r2t_pdus;
	uint32_t async_pdus;
	uint32_t rjt_pdus;
	uint32_t digest_err;
	uint32_t timeout_err;
	uint32_t custom_length;
	/* custom entries follow (8-aligned), see ISCSI_IF_STATS_LEN */
};

/* Sizes on the wire (LP64). */
#define ISCSI_IF_NLMSGHDR_LEN   16u
#define ISCSI_IF_UEVENT_LEN     56u
#define ISCSI_IF_MSG_MIN        (ISCSI_IF_NLMSGHDR_LEN + ISCSI_IF_UEVENT_LEN)  /* 72 */
#define ISCSI_IF_PDU_HDR_LEN    48u     /* the BHS, as SEND_PDU/RECV_PDU carry it */
#define ISCSI_IF_PDU_DATA_MAX   8192u   /* kernel's login/text data limit */
#define ISCSI_IF_STATS_LEN      96u
#define ISCSI_IF_STATS_CUSTOM_LEN 72u
#define ISCSI_IF_PARAM_VALUE_MAX 4096u  /* PAGE_SIZE: SET_PARAM len incl. NUL */

/* The layout the kernel uses on LP64 targets (checked on x86_64). On
 * 32-bit x86, uint64_t is 4-aligned inside structs and the kernel's own
 * layout differs the same way ours does, so only LP64 is pinned here. */
#if defined(__LP64__)
_Static_assert(sizeof(struct iscsi_uevent) == 56, "iscsi_uevent size");
_Static_assert(offsetof(struct iscsi_uevent, type) == 0, "type");
_Static_assert(offsetof(struct iscsi_uevent, iferror) == 4, "iferror");
_Static_assert(offsetof(struct iscsi_uevent, transport_handle) == 8, "handle");
_Static_assert(offsetof(struct iscsi_uevent, u) == 16, "u offset");
_Static_assert(sizeof(((struct iscsi_uevent *)0)->u) == 24, "u size");
_Static_assert(offsetof(struct iscsi_uevent, r) == 40, "r offset");
_Static_assert(sizeof(((struct iscsi_uevent *)0)->r) == 16, "r size");
_Static_assert(offsetof(struct iscsi_uevent, u.c_session.cmds_max) == 20, "cmds_max");
_Static_assert(offsetof(struct iscsi_uevent, u.c_session.queue_depth) == 22, "queue_depth");
_Static_assert(offsetof(struct iscsi_uevent, u.c_bound_session.initial_cmdsn) == 24, "bound cmdsn");
_Static_assert(offsetof(struct iscsi_uevent, u.b_conn.transport_eph) == 24, "transport_eph");
_Static_assert(offsetof(struct iscsi_uevent, u.b_conn.is_leading) == 32, "is_leading");
_Static_assert(offsetof(struct iscsi_uevent, u.send_pdu.hdr_size) == 24, "hdr_size");
_Static_assert(offsetof(struct iscsi_uevent, u.send_pdu.data_size) == 28, "data_size");
_Static_assert(offsetof(struct iscsi_uevent, u.set_param.param) == 24, "param");
_Static_assert(offsetof(struct iscsi_uevent, u.set_param.len) == 28, "len");
_Static_assert(offsetof(struct iscsi_uevent, u.stop_conn.conn_handle) == 24, "conn_handle");
_Static_assert(offsetof(struct iscsi_uevent, u.stop_conn.flag) == 32, "flag");
_Static_assert(offsetof(struct iscsi_uevent, u.set_host_param.param) == 20, "host param");
_Static_assert(offsetof(struct iscsi_uevent, u.set_host_param.len) == 24, "host len");
_Static_assert(offsetof(struct iscsi_uevent, u.ep_poll.timeout_ms) == 24, "timeout_ms");
_Static_assert(offsetof(struct iscsi_uevent, u.get_chap.chap_tbl_idx) == 24, "chap idx");
_Static_assert(offsetof(struct iscsi_uevent, r.c_session_ret.host_no) == 44, "c_session host_no");
_Static_assert(offsetof(struct iscsi_uevent, r.recv_req.recv_handle) == 48, "recv_handle");
_Static_assert(offsetof(struct iscsi_uevent, r.connerror.error) == 48, "connerror");
_Static_assert(offsetof(struct iscsi_uevent, r.d_session.host_no) == 40, "d_session host_no");
_Static_assert(offsetof(struct iscsi_uevent, r.d_session.sid) == 44, "d_session sid");
_Static_assert(offsetof(struct iscsi_uevent, r.unbind_session.host_no) == 44, "unbind host_no");
_Static_assert(offsetof(struct iscsi_uevent, r.ping_comp.data_size) == 52, "ping data_size");
_Static_assert(sizeof(struct iscsi_stats) == ISCSI_IF_STATS_LEN, "iscsi_stats size");
_Static_assert(offsetof(struct iscsi_stats, noptx_pdus) == 16, "noptx");
_Static_assert(offsetof(struct iscsi_stats, timeout_err) == 88, "timeout_err");
_Static_assert(offsetof(struct iscsi_stats, custom_length) == 92, "custom_length");
_Static_assert(sizeof(struct iscsi_stats_custom) == ISCSI_IF_STATS_CUSTOM_LEN, "custom size");
_Static_assert(offsetof(struct iscsi_stats_custom, value) == 64, "custom value");
#endif

#endif
