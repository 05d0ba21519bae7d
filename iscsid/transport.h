/* The request vocabulary shared by the control handlers, the session
 * layer (session.h) and the carriers beneath it (carrier.h): what a
 * request carries and what its answer holds.
 *
 * Every operation is asynchronous. A call returns 0 when it accepted the
 * operation, and then calls done exactly once, later, from the event loop
 * (never from inside the call itself, so callers need not be re-entrant).
 * A negative return means nothing was started and done will not be
 * called. */
#ifndef ISCSID_TRANSPORT_H
#define ISCSID_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node_rec;

#define TRANSPORT_MSG_MAX 1024

/* One counter of `iscsiadm -m session -s`. */
struct transport_stat {
	const char *name;                  /* "txdata_octets", ... */
	uint64_t value;
	bool extended;                     /* driver-specific ("iSCSI Extended:") */
};

struct transport_result {
	int status;                        /* exit code (errors.h); 0 = success */
	char message[TRANSPORT_MSG_MAX];   /* human text; "" = the default text for status */
	uint32_t sid;                      /* login: the new session */
	uint32_t host_no;                  /* login: its SCSI host */
	const char *const *devices;        /* login with wait-for-devices, rescan: "sdb", ... */
	size_t ndevices;
	const struct transport_stat *stats;   /* stats */
	size_t nstats;
};

typedef void (*transport_done_fn)(void *data, const struct transport_result *res);

struct transport_login {
	const struct node_rec *rec;        /* parsed node record (record.h); the caller's until done */
	uint32_t flags;                    /* IPC_LOGIN_* (ipc.h) */
	/* IPC_TAG_LOGIN_BACKGROUND_MS: answer ISCSI_ERR_AGAIN once
	 * background_ms have passed without an outcome, and keep trying
	 * (session_req.c) */
	bool background;
	uint32_t background_ms;
};

#endif
