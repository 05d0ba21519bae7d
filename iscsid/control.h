/* The control socket server: accepts clients on a UNIX stream socket,
 * checks who they are (SO_PEERCRED), reads framed requests (ipc.h) with
 * limits on size, count and time, hands each complete request to the
 * dispatcher, and writes answers without ever blocking.
 *
 * A connection carries one request at a time: while a request is being
 * handled (a login may take minutes) the connection reads nothing more;
 * a client wanting parallel requests opens several connections. The
 * handler answers exactly once, now or later, with ctl_reply() or
 * ctl_reply_error(). If the client went away meanwhile, the answer is
 * dropped and the request freed all the same. */
#ifndef ISCSID_CONTROL_H
#define ISCSID_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "ipc.h"

struct loop;
struct control;
struct ctl_request;

#define CTL_DEFAULT_MAX_CLIENTS 64
#define CTL_DEFAULT_READ_TIMEOUT_MS 5000     /* a whole request, from its first byte */
#define CTL_DEFAULT_WRITE_TIMEOUT_MS 10000   /* a whole answer */
#define CTL_BACKLOG 128

/* Who may talk to iscsid. root (uid 0) always. */
struct ctl_auth {
	bool uid_only;        /* iscsid.ipc_auth_uid = Yes (default): uid 0 only;
			       * No: also any uid whose user name is "root" */
	long allow_gid;       /* iscsid.ipc_allow_gid: peers whose (primary) gid is
			       * this; -1 = none */
};

struct ctl_limits {
	size_t max_clients;
	unsigned read_timeout_ms;
	unsigned write_timeout_ms;
};

typedef void (*ctl_dispatch_fn)(void *data, struct ctl_request *req);

/* Creates the listening socket at path: makes the parent directory (0755)
 * when missing, removes a stale socket left by a dead daemon (only after
 * a connect() shows nobody listens, and only if it is a socket), binds,
 * sets mode 0600 (0660 and group allow_gid when allow_gid >= 0), listens.
 * Returns 0 and the fd; or a negative errno with a sentence in err
 * (-EADDRINUSE: another daemon answers there). */
int ctl_socket_open(const char *path, long allow_gid, int *ret_fd, char *err, size_t errlen);
/* Removes the socket file if it is still the one fd is bound to. */
void ctl_socket_unlink(const char *path, int fd);
/* Re-applies the mode/group after iscsid.ipc_allow_gid changed. */
int ctl_socket_chmod(const char *path, long allow_gid);

/* listen_fd must be listening; the control takes ownership of it. */
int control_new(struct loop *l, int listen_fd, const struct ctl_limits *limits,
		const struct ctl_auth *auth, ctl_dispatch_fn dispatch, void *data,
		struct control **ret);
void control_set_auth(struct control *c, const struct ctl_auth *auth);
/* Closes the listening socket: clients connecting from now on are
 * refused, the connected ones still get their answers. NULL is a no-op. */
void control_stop_accepting(struct control *c);
/* Sends what answers are queued (bounded in time, the loop need not run),
 * closes every connection (requests in flight become detached) and the
 * listening socket. NULL is a no-op. */
void control_free(struct control *c);
size_t control_nclients(const struct control *c);

/* ---- requests ---- */

const struct ipc_msg *ctl_request_msg(const struct ctl_request *r);
const struct ucred *ctl_request_peer(const struct ctl_request *r);
/* The client closed its connection; the answer will be dropped. */
bool ctl_request_detached(const struct ctl_request *r);

/* Starts an answer: header for r, STATUS and (when not NULL) MESSAGE. */
void ctl_reply_init(struct ctl_request *r, struct ipc_writer *w, uint32_t status, const char *message);
/* Finishes w, queues it on the connection and frees r. If w cannot be
 * finished (too large ...) an error answer goes out instead. */
void ctl_reply(struct ctl_request *r, struct ipc_writer *w);
void ctl_reply_error(struct ctl_request *r, uint32_t status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
