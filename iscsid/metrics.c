/* iscsi.prom: the session layer's figures in Prometheus's text
 * exposition format (metrics.h), and the writer that keeps the file up
 * to date from the event loop. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fsutil.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"

/* ---- the format ----
 *
 * One family after the other, each with its HELP and TYPE lines and then
 * a sample per session, as the format wants a family's samples together.
 * Every sample of a session carries the labels target, portal, iface and
 * sid (unique together: sid alone is, the rest is for people and
 * joins). */

/* Label values: backslash, double quote and line feed escaped, nothing
 * else is special (the exposition format). */
static void put_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void put_labels(FILE *f, const struct metrics_session *s, const char *extra, const char *extra_value)
{
	fputs("{target=\"", f);
	put_value(f, s->target);
	fputs("\",portal=\"", f);
	put_value(f, s->portal);
	fputs("\",iface=\"", f);
	put_value(f, s->iface);
	fprintf(f, "\",sid=\"%" PRIu32 "\"", s->sid);
	if (extra) {
		fprintf(f, ",%s=\"", extra);
		put_value(f, extra_value);
		fputc('"', f);
	}
	fputc('}', f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_u64(FILE *f, const char *name, const struct metrics_session *s, const char *extra,
		       const char *extra_value, uint64_t v)
{
	fputs(name, f);
	put_labels(f, s, extra, extra_value);
	fprintf(f, " %" PRIu64 "\n", v);
}

/* milliseconds as seconds, exactly */
static void sample_ms(FILE *f, const char *name, const struct metrics_session *s, uint64_t ms)
{
	fputs(name, f);
	put_labels(f, s, NULL, NULL);
	fprintf(f, " %" PRIu64 ".%03" PRIu64 "\n", ms / 1000u, ms % 1000u);
}

/* The carriers' counters with names of their own: open-iscsi's SNMP
 * names (kernel GET_STATS, and the uspace carrier's same names). Any
 * other counter goes into iscsi_session_transport_counter{counter=...}. */
static const struct {
	const char *stat, *metric, *help;
} known[] = {
	{ "txdata_octets", "iscsi_session_tx_data_bytes_total", "Data bytes sent (txdata_octets)." },
	{ "rxdata_octets", "iscsi_session_rx_data_bytes_total", "Data bytes received (rxdata_octets)." },
	{ "scsicmd_pdus", "iscsi_session_scsi_command_pdus_total", "SCSI Command PDUs sent (scsicmd_pdus)." },
	{ "scsirsp_pdus", "iscsi_session_scsi_response_pdus_total", "SCSI Response PDUs received (scsirsp_pdus)." },
	{ "noptx_pdus", "iscsi_session_nop_out_pdus_total", "NOP-Out PDUs sent (noptx_pdus)." },
	{ "noprx_pdus", "iscsi_session_nop_in_pdus_total", "NOP-In PDUs received (noprx_pdus)." },
	{ "timeout_err", "iscsi_session_timeout_errors_total", "Timeouts the transport counted (timeout_err)." },
	{ "digest_err", "iscsi_session_digest_errors_total", "Digest errors (digest_err)." },
};
#define NKNOWN (sizeof(known) / sizeof(known[0]))

static bool is_known(const char *name)
{
	for (size_t i = 0; i < NKNOWN; i++)
		if (!strcmp(known[i].stat, name))
			return true;
	return false;
}

/* The first counter of s with that name (a carrier that repeats a name
 * would make two samples of one series). */
static const struct session_counter *counter_find(const struct metrics_session *s, const char *name, size_t before)
{
	for (size_t i = 0; i < before && i < s->ncounters; i++)
		if (!strcmp(s->counters[i].name, name))
			return &s->counters[i];
	return NULL;
}

static const char *state_label(enum session_state st)
{
	switch (st) {
	case SESSION_LOGGED_IN:
		return "logged_in";
	case SESSION_RECOVERY:
		return "recovery";
	case SESSION_LOGOUT:
		return "logout";
	default:
		return "login";
	}
}

int metrics_format(const struct metrics_session *v, size_t n, char **ret_buf, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return -ENOMEM;

	family(f, "iscsi_sessions", "gauge", "iSCSI sessions iscsid carries (as iscsiadm -m session lists them).");
	fprintf(f, "iscsi_sessions %zu\n", n);
	if (n) {
		family(f, "iscsi_session_info", "gauge", "One per session; transport: its carrier (tcp, uspace).");
		for (size_t i = 0; i < n; i++)
			sample_u64(f, "iscsi_session_info", &v[i], "transport", v[i].transport, 1);
		family(f, "iscsi_session_up", "gauge", "1 when the session is logged in (full feature phase).");
		for (size_t i = 0; i < n; i++)
			sample_u64(f, "iscsi_session_up", &v[i], NULL, NULL, v[i].state == SESSION_LOGGED_IN);
		family(f, "iscsi_session_state", "gauge", "The session's state: 1 for the one it is in.");
		static const enum session_state listed[] = { SESSION_LOGGED_IN, SESSION_RECOVERY, SESSION_LOGOUT };
		for (size_t i = 0; i < n; i++)
			for (size_t k = 0; k < 3; k++)
				sample_u64(f, "iscsi_session_state", &v[i], "state", state_label(listed[k]),
					   v[i].state == listed[k]);
		family(f, "iscsi_session_logins_total", "counter",
		       "Logins that reached full feature phase (the first and each after a recovery).");
		for (size_t i = 0; i < n; i++)
			sample_u64(f, "iscsi_session_logins_total", &v[i], NULL, NULL, v[i].logins);
		family(f, "iscsi_session_recoveries_total", "counter", "Times the logged-in session lost its connection.");
		for (size_t i = 0; i < n; i++)
			sample_u64(f, "iscsi_session_recoveries_total", &v[i], NULL, NULL, v[i].recoveries);
		family(f, "iscsi_session_recovery_seconds_total", "counter",
		       "Time spent in recovery, the current one included.");
		for (size_t i = 0; i < n; i++)
			sample_ms(f, "iscsi_session_recovery_seconds_total", &v[i], v[i].recovery_ms);
		bool any = false;
		for (size_t i = 0; i < n; i++)
			any |= v[i].have_last_login;
		if (any) {
			family(f, "iscsi_session_last_login_duration_seconds", "gauge",
			       "How long the last successful login took (its last attempt, where the transport says).");
			for (size_t i = 0; i < n; i++)
				if (v[i].have_last_login)
					sample_ms(f, "iscsi_session_last_login_duration_seconds", &v[i],
						  v[i].last_login_ms);
		}
		family(f, "iscsi_session_connection_errors_total", "counter",
		       "Connections lost and login attempts failed, by cause.");
		for (size_t i = 0; i < n; i++)
			for (int c = 0; c < SESSION_NCAUSES; c++)
				sample_u64(f, "iscsi_session_connection_errors_total", &v[i], "cause",
					   session_cause_name((enum session_cause)c),
					   v[i].conn_errors ? v[i].conn_errors[c] : 0);
	}

	/* the carriers' counters, where a session has them */
	for (size_t k = 0; k < NKNOWN; k++) {
		bool head = false;
		for (size_t i = 0; i < n; i++) {
			const struct session_counter *c = counter_find(&v[i], known[k].stat, v[i].ncounters);
			if (!c)
				continue;
			if (!head)
				family(f, known[k].metric, "counter", known[k].help);
			head = true;
			sample_u64(f, known[k].metric, &v[i], NULL, NULL, c->value);
		}
	}
	bool head = false;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < v[i].ncounters; j++) {
			const struct session_counter *c = &v[i].counters[j];
			if (!c->name[0] || is_known(c->name) || counter_find(&v[i], c->name, j))
				continue;
			if (!head)
				family(f, "iscsi_session_transport_counter", "untyped",
				       "The transport's other counters (iscsiadm -m session -s), by name.");
			head = true;
			sample_u64(f, "iscsi_session_transport_counter", &v[i], "counter", c->name, c->value);
		}

	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

void metrics_session_of(const struct session *s, uint64_t now_ms, struct metrics_session *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->target = s->target;
	ret->portal = s->portal;
	ret->iface = s->iface;
	ret->transport = s->carrier->ops->name;
	ret->sid = s->sid;
	ret->state = s->state;
	ret->logins = s->fig.logins;
	ret->recoveries = s->fig.recoveries;
	ret->recovery_ms = session_recovery_ms(s, now_ms);
	ret->have_last_login = s->fig.have_last_login;
	ret->last_login_ms = s->fig.last_login_ms;
	ret->conn_errors = s->fig.conn_errors;
	ret->counters = s->fig.counters;
	ret->ncounters = s->fig.ncounters;
}

/* ---- the writer ---- */

struct metrics {
	struct loop *loop;
	struct session_layer *sl;
	char dir[CONFIG_PATH_SIZE];          /* "" off */
	char path[CONFIG_PATH_SIZE + sizeof("/" METRICS_FILE)];
	uint64_t interval_ms;
	struct loop_timer write_timer;       /* the next write, at most one a second */
	struct loop_timer tick;              /* every interval: counters, then a write */
	uint64_t last_write_ms;
	unsigned refreshing;                 /* stats answers still to come */
	bool written;                        /* path holds our file */
	bool failing;                        /* the last write failed (logged once) */
	bool stopped;
};

/* Replaces path without an fsync: the loop does not wait for the disk,
 * and a snapshot that a crash loses is rewritten by the next iscsid. A
 * reader sees the old file or the new one. */
static int write_file(const char *dir, const char *path, const char *buf, size_t len)
{
	char tmp[CONFIG_PATH_SIZE + 32];
	int n = snprintf(tmp, sizeof(tmp), "%s/." METRICS_FILE ".XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* node_exporter reads it as another user; nobody else writes it */
	int r = fchmod(fd, 0644) < 0 ? -errno : fs_write_all(fd, buf, len);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}

static void write_now(struct metrics *m)
{
	struct session_layer *sl = m->sl;
	size_t n = session_count(sl), i = 0;
	struct metrics_session *v = calloc(n ? n : 1, sizeof(*v));
	char *buf = NULL;
	size_t len = 0;
	uint64_t now = loop_now_ms();
	int r = -ENOMEM;

	if (v) {
		for (struct session *s = session_first(sl); s && i < n; s = session_next(s))
			metrics_session_of(s, now, &v[i++]);
		r = metrics_format(v, i, &buf, &len);
	}
	if (r == 0)
		r = write_file(m->dir, m->path, buf, len);
	free(buf);
	free(v);
	m->last_write_ms = now;
	if (r < 0) {
		if (!m->failing)
			log_warnx("metrics: cannot write %s: %s (trying again every write)", m->path, strerror(-r));
		m->failing = true;
		return;
	}
	if (m->failing)
		log_info("metrics: %s is written again", m->path);
	m->failing = false;
	m->written = true;
}

static void on_write(struct loop *l, void *data)
{
	struct metrics *m = data;
	(void)l;
	if (m->dir[0] && !m->stopped)
		write_now(m);
}

/* Soon, but not within METRICS_MIN_GAP_MS of the last write: a burst of
 * changes (hundreds of sessions logging in) makes one write. */
static void write_soon(struct metrics *m)
{
	if (!m->dir[0] || m->stopped || loop_timer_armed(&m->write_timer))
		return;
	uint64_t now = loop_now_ms(), delay = 0;
	if (m->last_write_ms && now - m->last_write_ms < METRICS_MIN_GAP_MS)
		delay = METRICS_MIN_GAP_MS - (now - m->last_write_ms);
	if (loop_timer_arm(m->loop, &m->write_timer, delay) < 0)
		log_warnx("metrics: cannot arm a timer; %s is not updated", m->path);
}

static void on_change(void *data)
{
	write_soon(data);
}

struct refresh {
	struct metrics *m;
	uint32_t sid;
};

static void on_counters(void *data, const struct transport_result *res)
{
	struct refresh *rf = data;
	struct metrics *m = rf->m;
	if (res->status == 0 && !m->stopped && !m->sl->stopping) {
		struct session *s = session_find(m->sl, rf->sid);
		if (s)
			session_keep_counters(s, res->stats, res->nstats);
	}
	free(rf);
	if (--m->refreshing == 0)
		write_soon(m);
}

/* Asks the carrier of each logged-in session for its counters; the file
 * follows once all answered. A refresh still under way (a slow carrier)
 * lets this tick pass. */
static void refresh(struct metrics *m)
{
	struct session_layer *sl = m->sl;
	size_t n = session_count(sl), k = 0;
	uint32_t *sids = calloc(n ? n : 1, sizeof(*sids));
	if (!sids) {
		write_soon(m);
		return;
	}
	for (struct session *s = session_first(sl); s && k < n; s = session_next(s))
		if (s->state == SESSION_LOGGED_IN && s->carrier->ops->stats)
			sids[k++] = s->sid;
	m->refreshing++;                /* held until every request is out */
	for (size_t i = 0; i < k; i++) {
		struct refresh *rf = calloc(1, sizeof(*rf));
		if (!rf)
			break;
		rf->m = m;
		rf->sid = sids[i];
		m->refreshing++;
		if (session_stats(sl, sids[i], on_counters, rf) < 0) {
			m->refreshing--;
			free(rf);
		}
	}
	free(sids);
	if (--m->refreshing == 0)
		write_soon(m);
}

static void on_tick(struct loop *l, void *data)
{
	struct metrics *m = data;
	if (!m->dir[0] || m->stopped)
		return;
	if (m->refreshing == 0)
		refresh(m);
	if (loop_timer_arm(l, &m->tick, m->interval_ms) < 0)
		log_warnx("metrics: cannot arm a timer; %s is written on changes only", m->path);
}

static void remove_file(struct metrics *m)
{
	if (m->written && unlink(m->path) < 0 && errno != ENOENT)
		log_warnx("metrics: cannot remove %s: %s", m->path, strerror(errno));
	m->written = false;
}

int metrics_new(struct loop *l, struct session_layer *sl, struct metrics **ret)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->loop = l;
	m->sl = sl;
	loop_timer_init(&m->write_timer, on_write, m);
	loop_timer_init(&m->tick, on_tick, m);
	session_layer_observe(sl, on_change, m);
	*ret = m;
	return 0;
}

void metrics_configure(struct metrics *m, const char *dir, unsigned interval_s)
{
	if (!dir)
		dir = "";
	if (m->stopped)
		return;
	uint64_t interval_ms = (uint64_t)(interval_s ? interval_s : CONFIG_METRICS_INTERVAL_DEFAULT) * 1000u;
	if (!strcmp(dir, m->dir) && interval_ms == m->interval_ms)
		return;
	if (strcmp(dir, m->dir) != 0) {
		remove_file(m);
		if (!dir[0])
			log_info("metrics: off");
		m->failing = false;
	}
	snprintf(m->dir, sizeof(m->dir), "%s", dir);
	snprintf(m->path, sizeof(m->path), "%s/" METRICS_FILE, dir);
	m->interval_ms = interval_ms;
	loop_timer_disarm(m->loop, &m->tick);
	if (!dir[0]) {
		loop_timer_disarm(m->loop, &m->write_timer);
		return;
	}
	log_info("metrics: writing %s (on changes and every %u s)", m->path, (unsigned)(interval_ms / 1000u));
	/* the counters first, then the file */
	if (loop_timer_arm(m->loop, &m->tick, 0) < 0)
		log_warnx("metrics: cannot arm a timer; %s is not written", m->path);
}

void metrics_stop(struct metrics *m)
{
	if (!m || m->stopped)
		return;
	m->stopped = true;
	loop_timer_disarm(m->loop, &m->tick);
	loop_timer_disarm(m->loop, &m->write_timer);
	session_layer_observe(m->sl, NULL, NULL);
	remove_file(m);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	/* the layer may be gone: only what is ours */
	loop_timer_disarm(m->loop, &m->tick);
	loop_timer_disarm(m->loop, &m->write_timer);
	if (!m->stopped)
		remove_file(m);
	free(m);
}
