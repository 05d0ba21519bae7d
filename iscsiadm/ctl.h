/* iscsiadm's requests to iscsid, on top of ipc_client.h, with open-iscsi's
 * messages: logins and logouts of node records (many at once), session
 * states for `-m session -P 1`, rescans, stopping the daemon. */
#ifndef ISCSIADM_CTL_H
#define ISCSIADM_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adm.h"
#include "ipc.h"
#include "record.h"

/* Logins that run in iscsid at once from one iscsiadm (iscsid accepts 64
 * control clients; leave room for others). */
#define CTL_MAX_PARALLEL 32
/* -W: how long an immediate refusal may take to come back (once iscsid
 * took the request; taking it may take IPC_CLIENT_QUICK_TIMEOUT_MS). */
#define CTL_NO_WAIT_MS 500

#define CTL_DEVICES_MAX 1024

struct ctl_login {
	const struct node_rec *rec;
	int status;                        /* exit code; 0 = logged in */
	char message[IPC_MESSAGE_MAX + 1];
	uint32_t sid;
	bool queued;                       /* -W: sent, answer not awaited */
	bool background;                   /* answered 29: iscsid keeps trying */
	char devices[CTL_DEVICES_MAX];     /* "sdb sdc" (--wait-devices, --ordered) */
};

/* Sends every login request before waiting for any answer (up to
 * CTL_MAX_PARALLEL in flight), then fills status/message/sid of each.
 * Returns 0, or an exit code when nothing could be attempted. */
int ctl_login_many(struct adm *a, struct ctl_login *v, size_t n);

/* Prints open-iscsi's login lines for recs: "Logging in to [...]" for
 * each, then "Login to [...] successful." or the two error lines.
 * Returns the first error (exit code), 0 when all succeeded. */
int ctl_login_recs(struct adm *a, const struct node_rec *const *recs, size_t n);

/* CLOCK_MONOTONIC in ms (adm.login_deadline_ms). */
uint64_t ctl_now_ms(void);

/* "[iface: I, target: T, portal: A,P]" */
void ctl_node_what(const struct node_rec *r, char *buf, size_t len);

/* Logout of one session (sid != 0) or of every session of a node. */
int ctl_logout_sid(struct adm *a, uint32_t sid, char *msg, size_t msglen);

struct ctl_logout {
	uint32_t sid;
	int status;                        /* exit code; 0 = logged out */
	char message[IPC_MESSAGE_MAX + 1];
};

/* Logouts of many sessions, up to CTL_MAX_PARALLEL at once (iscsid runs
 * them side by side); fills status/message of each. */
void ctl_logout_many(struct adm *a, struct ctl_logout *v, size_t n);

/* iscsid's view of one session: "LOGGED IN"/"NO CHANGE"... "" when the
 * daemon does not know it or is not running. */
struct ctl_state {
	uint32_t sid;
	char conn_state[32];
	char session_state[32];
	/* what sessions without sysfs (uspace) are listed from */
	char transport[32];                /* "tcp", "uspace"; "" from an older iscsid */
	char target[IPC_NAME_MAX + 1];
	char portal[IPC_SHORT_STR_MAX + 1];   /* "address:port", "[v6]:port" */
	char iface[IPC_SHORT_STR_MAX + 1];
	int tpgt;                          /* -1 unknown */
};

/* All sessions iscsid knows. 0 (even with none) or an exit code (iscsid
 * not reachable: 20 ...), *ret malloc'd. */
int ctl_session_states(struct adm *a, struct ctl_state **ret, size_t *ret_n);

/* sid NULL: every session. Exit code; msg says why on failure. */
int ctl_rescan(struct adm *a, const uint32_t *sid, char *msg, size_t msglen);

/* -s: "Stats for session [...]" and the kernel's counters. Exit code. */
int ctl_print_stats(struct adm *a, uint32_t sid, const char *what);

struct json;
struct sess_view;
/* -s --json: one object for the session v: who it is, then iscsid's
 * figures (state, logins, recoveries, recovery_ms, last_login_ms,
 * connection_errors by cause) and the carrier's counters ("counters":
 * open-iscsi's SNMP names, "extended": the transport's own). Nothing is
 * written on failure: the exit code, the error on stderr. */
int ctl_json_stats(struct adm *a, struct json *j, const struct sess_view *v, const char *what);

/* -k 0 */
int ctl_stop_daemon(struct adm *a);

#endif
