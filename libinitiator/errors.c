#include "errors.h"

#include <stddef.h>

static const char *const err_text[ISCSI_ERR_MAX] = {
	[ISCSI_SUCCESS] = "success",
	[ISCSI_ERR] = "unknown error",
	[ISCSI_ERR_SESS_NOT_FOUND] = "session not found",
	[ISCSI_ERR_NOMEM] = "no available memory",
	[ISCSI_ERR_TRANS] = "encountered connection failure",
	[ISCSI_ERR_LOGIN] = "encountered iSCSI login failure",
	[ISCSI_ERR_IDBM] = "could not access object/record",
	[ISCSI_ERR_INVAL] = "invalid parameter",
	[ISCSI_ERR_TRANS_TIMEOUT] = "connection timed out",
	[ISCSI_ERR_INTERNAL] = "internal error",
	[ISCSI_ERR_LOGOUT] = "encountered iSCSI logout failure",
	[ISCSI_ERR_PDU_TIMEOUT] = "iSCSI PDU timed out",
	[ISCSI_ERR_TRANS_NOT_FOUND] = "iSCSI driver not found. Please make sure it is loaded, and retry the operation",
	[ISCSI_ERR_ACCESS] = "daemon access denied",
	[ISCSI_ERR_TRANS_CAPS] = "iSCSI driver does not support requested capability.",
	[ISCSI_ERR_SESS_EXISTS] = "session exists",
	[ISCSI_ERR_INVALID_MGMT_REQ] = "Unknown request",
	[ISCSI_ERR_ISNS_UNAVAILABLE] = "iSNS service not supported",
	[ISCSI_ERR_ISCSID_COMM_ERR] = "could not communicate to iscsid",
	[ISCSI_ERR_FATAL_LOGIN] = "encountered non-retryable iSCSI login failure",
	[ISCSI_ERR_ISCSID_NOTCONN] = "could not connect to iscsid",
	[ISCSI_ERR_NO_OBJS_FOUND] = "no objects found",
	[ISCSI_ERR_SYSFS_LOOKUP] = "sysfs lookup failure",
	[ISCSI_ERR_HOST_NOT_FOUND] = "host not found",
	[ISCSI_ERR_LOGIN_AUTH_FAILED] = "iSCSI login failed due to authorization failure",
	[ISCSI_ERR_ISNS_QUERY] = "iSNS query failed",
	[ISCSI_ERR_ISNS_REG_FAILED] = "iSNS registration failed",
	[ISCSI_ERR_OP_NOT_SUPP] = "operation not supported",
	[ISCSI_ERR_BUSY] = "device or resource in use",
	[ISCSI_ERR_AGAIN] = "operation failed but retry may succeed",
	[ISCSI_ERR_UNKNOWN_DISCOVERY_TYPE] = "unknown discovery type",
	[ISCSI_ERR_CHILD_TERMINATED] = "child process terminated",
	[ISCSI_ERR_SESSION_NOT_CONNECTED] = "session likely not connected",
	[ISCSI_ERR_REQ_TIMEDOUT] = "iscsid request timed out",
};

const char *iscsi_err_str(int err)
{
	if (err < 0 || err >= ISCSI_ERR_MAX)
		return err_text[ISCSI_ERR];
	return err_text[err];
}

/* RFC 7143 §11.13.5: class 1 redirection, 2 initiator error, 3 target error. */
int iscsi_err_from_login_status(unsigned status_class, unsigned status_detail)
{
	switch (status_class) {
	case 0:
		return ISCSI_SUCCESS;
	case 1:
		/* A redirect that reached the caller was not followed. */
		return ISCSI_ERR_LOGIN;
	case 2:
		if (status_detail == 0x01 || status_detail == 0x02)
			return ISCSI_ERR_LOGIN_AUTH_FAILED;
		return ISCSI_ERR_FATAL_LOGIN;
	case 3:
		/* 0x01 target error, 0x02 service unavailable, 0x03 out of
		 * resources: transient, a retry may succeed. */
		if (status_detail <= 0x03)
			return ISCSI_ERR_LOGIN;
		return ISCSI_ERR_FATAL_LOGIN;
	default:
		return ISCSI_ERR_FATAL_LOGIN;
	}
}

const char *iscsi_login_status_str(unsigned status_class, unsigned status_detail)
{
	unsigned code = (status_class << 8) | status_detail;

	switch (code) {
	case 0x0000: return "login accepted";
	case 0x0101: return "target moved temporarily";
	case 0x0102: return "target moved permanently";
	case 0x0200: return "initiator error";
	case 0x0201: return "authentication failure";
	case 0x0202: return "authorization failure";
	case 0x0203: return "target not found";
	case 0x0204: return "target removed";
	case 0x0205: return "unsupported version";
	case 0x0206: return "too many connections";
	case 0x0207: return "missing parameter";
	case 0x0208: return "cannot include connection in session";
	case 0x0209: return "session type not supported";
	case 0x020a: return "session does not exist";
	case 0x020b: return "invalid request during login";
	case 0x0300: return "target error";
	case 0x0301: return "service unavailable";
	case 0x0302: return "out of resources";
	default: return "unknown login status";
	}
}
