/* Exit codes shared by iscsiadm and iscsid, numbered as open-iscsi numbers
 * them (include/iscsi_err.h there) because scripts and systemd units test
 * these numbers (e.g. SuccessExitStatus=15 21). Never renumber. */
#ifndef LIBINITIATOR_ERRORS_H
#define LIBINITIATOR_ERRORS_H

enum iscsi_err {
	ISCSI_SUCCESS = 0,
	ISCSI_ERR = 1,
	ISCSI_ERR_SESS_NOT_FOUND = 2,
	ISCSI_ERR_NOMEM = 3,
	ISCSI_ERR_TRANS = 4,
	ISCSI_ERR_LOGIN = 5,
	ISCSI_ERR_IDBM = 6,
	ISCSI_ERR_INVAL = 7,
	ISCSI_ERR_TRANS_TIMEOUT = 8,
	ISCSI_ERR_INTERNAL = 9,
	ISCSI_ERR_LOGOUT = 10,
	ISCSI_ERR_PDU_TIMEOUT = 11,
	ISCSI_ERR_TRANS_NOT_FOUND = 12,
	ISCSI_ERR_ACCESS = 13,
	ISCSI_ERR_TRANS_CAPS = 14,
	ISCSI_ERR_SESS_EXISTS = 15,
	ISCSI_ERR_INVALID_MGMT_REQ = 16,
	ISCSI_ERR_ISNS_UNAVAILABLE = 17,
	ISCSI_ERR_ISCSID_COMM_ERR = 18,
	ISCSI_ERR_FATAL_LOGIN = 19,
	ISCSI_ERR_ISCSID_NOTCONN = 20,
	ISCSI_ERR_NO_OBJS_FOUND = 21,
	ISCSI_ERR_SYSFS_LOOKUP = 22,
	ISCSI_ERR_HOST_NOT_FOUND = 23,
	ISCSI_ERR_LOGIN_AUTH_FAILED = 24,
	ISCSI_ERR_ISNS_QUERY = 25,
	ISCSI_ERR_ISNS_REG_FAILED = 26,
	ISCSI_ERR_OP_NOT_SUPP = 27,
	ISCSI_ERR_BUSY = 28,
	ISCSI_ERR_AGAIN = 29,
	ISCSI_ERR_UNKNOWN_DISCOVERY_TYPE = 30,
	ISCSI_ERR_CHILD_TERMINATED = 31,
	ISCSI_ERR_SESSION_NOT_CONNECTED = 32,
	ISCSI_ERR_REQ_TIMEDOUT = 33,
	ISCSI_ERR_MAX = 34,
};

/* The message open-iscsi prints for a code ("initiator reported error
 * (N - <text>)"); "unknown error" for numbers outside the table. */
const char *iscsi_err_str(int err);

/* Map a login Status-Class/Status-Detail (RFC 7143 §11.13.5) to an exit
 * code: 0x0201/0x0202 -> 24, other initiator errors and target errors that
 * retrying cannot fix -> 19, target busy/out of resources -> 5. */
int iscsi_err_from_login_status(unsigned status_class, unsigned status_detail);

/* Human text for a login status, e.g. "authentication failure". */
const char *iscsi_login_status_str(unsigned status_class, unsigned status_detail);

#endif
