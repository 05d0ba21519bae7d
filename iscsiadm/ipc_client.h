/* The client side of the control protocol (doc/ipc.md): connect to
 * iscsid's socket, send one request, wait for its answer.
 *
 * Every call returns an exit code from errors.h, the same number it puts
 * in ret->status, with a sentence for the user in ret->message whenever it
 * is not 0:
 *   the daemon's own status and message, when it answered;
 *   20 ISCSI_ERR_ISCSID_NOTCONN  nothing listens at the path
 *      ("could not connect to iscsid at <path>: <strerror>");
 *   13 ISCSI_ERR_ACCESS          the socket's permissions refused us
 *      (the daemon's own refusal is also 13);
 *   18 ISCSI_ERR_ISCSID_COMM_ERR the connection broke or the answer was
 *      not a valid answer to our request;
 *   33 ISCSI_ERR_REQ_TIMEDOUT    no answer within the time limit;
 *   16 ISCSI_ERR_INVALID_MGMT_REQ the daemon speaks another protocol
 *      version (the message names both);
 *    7 ISCSI_ERR_INVAL           bad arguments (path too long, ...).
 * ret->msg holds the decoded answer (for fields such as SID or the
 * SESSION groups) when the daemon answered in our protocol version;
 * release it with ipc_reply_free(). */
#ifndef ISCSIADM_IPC_CLIENT_H
#define ISCSIADM_IPC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ipc.h"

#define IPC_CLIENT_NO_TIMEOUT (-1)
#define IPC_CLIENT_QUICK_TIMEOUT_MS 10000

struct ipc_reply {
	int status;
	char message[IPC_MESSAGE_MAX + 1];
	struct ipc_msg *msg;
};

/* How long to wait for the answer to a request of this type, in ms, or
 * IPC_CLIENT_NO_TIMEOUT: logins, logouts and rescans wait as long as the
 * daemon works on them (their own timeouts are the node's login and
 * logout timeouts); queries get IPC_CLIENT_QUICK_TIMEOUT_MS. */
int ipc_client_timeout(uint16_t type);

/* Sends a finished request frame (ipc_writer_finish()) to the daemon at
 * path and waits up to timeout_ms (or forever) for the answer. */
int ipc_client_call(const char *path, const uint8_t *frame, size_t len, int timeout_ms,
		    struct ipc_reply *ret);

/* Hands a request to the daemon without waiting for its outcome (-W):
 * connects, exchanges HELLO on the connection (at most accept_ms: only an
 * answer proves the daemon reads this connection; a connect() that
 * succeeded may just sit in the listen backlog of a stopped daemon), then
 * sends frame and waits answer_ms for an immediate answer. Returns 0 with
 * *ret_queued set when the daemon took the request and is still working
 * on it, the daemon's status when it answered at once, or a client-side
 * status (20, 13, 18, 33 "did not take the request") when the request
 * never reached it. */
int ipc_client_send_accepted(const char *path, const uint8_t *frame, size_t len, int accept_ms, int answer_ms,
			     struct ipc_reply *ret, bool *ret_queued);

/* Build-and-call helpers, each with ipc_client_timeout() of its type. */
int ipc_client_hello(const char *path, struct ipc_reply *ret);
/* record_text: the node record as record.h's rec_format() writes it
 * (REC_FMT_DISK, secrets included: the socket is root-only).
 * flags: IPC_LOGIN_*. */
int ipc_client_login(const char *path, const char *record_text, uint32_t flags, struct ipc_reply *ret);
/* The same with IPC_TAG_LOGIN_BACKGROUND_MS: a login not over after
 * background_ms is answered with ISCSI_ERR_AGAIN and iscsid keeps trying
 * (--loginall=automatic, iscsid.automatic_login_wait). */
int ipc_client_login_background(const char *path, const char *record_text, uint32_t flags, uint32_t background_ms,
				struct ipc_reply *ret);
int ipc_client_logout_sid(const char *path, uint32_t sid, struct ipc_reply *ret);
/* portal ("address:port", "[v6]:port") and iface may be NULL: any. */
int ipc_client_logout_node(const char *path, const char *target, const char *portal, const char *iface,
			   struct ipc_reply *ret);
int ipc_client_session_state(const char *path, struct ipc_reply *ret);
/* sid NULL: every session. */
int ipc_client_rescan(const char *path, const uint32_t *sid, struct ipc_reply *ret);
int ipc_client_session_stats(const char *path, uint32_t sid, struct ipc_reply *ret);
int ipc_client_reload(const char *path, struct ipc_reply *ret);
int ipc_client_stop(const char *path, struct ipc_reply *ret);

/* Frees ret->msg; NULL and an already freed reply are fine. */
void ipc_reply_free(struct ipc_reply *ret);

#endif
