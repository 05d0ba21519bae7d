/* Per-session figures for Prometheus: iscsid writes <dir>/iscsi.prom in
 * the text exposition format, for node_exporter's textfile collector
 * (iscsid.conf: iscsid.metrics_dir, iscsid.metrics_interval).
 *
 * The figures are the session layer's (struct session_figures: logins,
 * recoveries and their time, the last login's duration, connection
 * errors by cause) and the carrier's counters (those of `iscsiadm -m
 * session -s`), asked of the carrier of each logged-in session every
 * interval. The file is replaced whole (a temporary file renamed over
 * it: a reader sees the old or the new one), at most once a second:
 * after each change of a session's state and every interval. Sessions
 * that are gone are gone from the next file. Turning the key off, and
 * stopping iscsid, remove the file: figures nobody keeps up to date
 * would go on saying that sessions are up.
 *
 * No secrets: labels are the target name, portal, iface name and sid. */
#ifndef ISCSID_METRICS_H
#define ISCSID_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

#define METRICS_FILE "iscsi.prom"
#define METRICS_MIN_GAP_MS 1000u        /* between two writes */

struct loop;
struct metrics;

/* Observes the layer (session_layer_observe); writes nothing until
 * metrics_configure() names a directory. */
int metrics_new(struct loop *l, struct session_layer *sl, struct metrics **ret);
/* dir "" or NULL: off (the file this iscsid wrote is removed). Otherwise
 * the file is written soon and then every interval_s seconds. */
void metrics_configure(struct metrics *m, const char *dir, unsigned interval_s);
/* A clean stop: removes the file, writes no more. Call before the layer
 * is freed; metrics_free() after it (answers still in flight come back
 * while the carriers stop). */
void metrics_stop(struct metrics *m);
/* Touches only what is its own (the layer may be freed already); a
 * metrics not stopped removes its file too. NULL is a no-op. */
void metrics_free(struct metrics *m);

/* ---- the format (unit-tested on its own) ---- */

/* One listed session, as the file shows it. */
struct metrics_session {
	const char *target, *portal, *iface, *transport;
	uint32_t sid;
	enum session_state state;
	uint64_t logins, recoveries, recovery_ms;
	bool have_last_login;
	uint64_t last_login_ms;
	const uint64_t *conn_errors;                 /* SESSION_NCAUSES of them */
	const struct session_counter *counters;
	size_t ncounters;
};

/* The snapshot of s at now_ms (pointers into s). */
void metrics_session_of(const struct session *s, uint64_t now_ms, struct metrics_session *ret);
/* The whole file for these sessions: 0 and a malloc'd buffer, or -ENOMEM. */
int metrics_format(const struct metrics_session *v, size_t n, char **ret_buf, size_t *ret_len);

#endif
