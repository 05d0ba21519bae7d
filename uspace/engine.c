/* The engine thread: the only thread that touches libiscsi.
 *
 * Connections are made by us, not by libiscsi's automatic reconnect: its
 * reconnect re-sends held commands after the new login with no way to
 * fail them when node.session.timeo.replacement_timeout passes, and a
 * write the caller was told had failed must not land later. So libiscsi
 * runs with auto-reconnect off; a lost connection (socket error, a bad
 * PDU, a command or NOP-Out timeout) tears the context down, puts the
 * commands that were in flight back at the front of our own queue, and a
 * new context logs in with the same ISID (session reinstatement,
 * RFC 7143 §6.3.5) while the queue waits. When replacement_timeout passes
 * first, everything held fails with EIO and new I/O fails at once until
 * the target is back, as on the kernel path (state FAILED). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "engine_int.h"
#include "errbuf.h"
#include "errors.h"

#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 4000
#define LOGIN_RETRY_MS 1000
#define REDIRECTS_MAX 8

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* libiscsi's log function has no context argument; one session per
 * process, so one engine. */
static struct usp_engine *log_engine;

/* "TargetLoginReply: Key=Value [target]" at level 6 is how libiscsi 1.19
 * reports what the target answered; it has no getter for negotiated
 * values. Kept for status. */
static void libiscsi_log(int level, const char *message)
{
	struct usp_engine *e = log_engine;
	static const char tag[] = "TargetLoginReply: ";

	if (e && !strncmp(message, tag, sizeof(tag) - 1)) {
		char kv[USP_PARAM_SIZE];
		snprintf(kv, sizeof(kv), "%s", message + sizeof(tag) - 1);
		char *sp = strstr(kv, " [");
		if (sp)
			*sp = '\0';
		/* never keep CHAP values: they are the target's challenge/response */
		if (!strncmp(kv, "CHAP_", 5) || !strchr(kv, '='))
			return;
		struct usp_status *s = &e->stat_local;
		size_t klen = (size_t)(strchr(kv, '=') - kv);
		for (unsigned i = 0; i < s->nparams; i++)
			if (!strncmp(s->params[i], kv, klen + 1)) {
				snprintf(s->params[i], USP_PARAM_SIZE, "%s", kv);
				return;
			}
		if (s->nparams < USP_PARAMS_MAX)
			snprintf(s->params[s->nparams++], USP_PARAM_SIZE, "%s", kv);
		if (!strncmp(kv, "TargetPortalGroupTag=", 21))
			s->tpgt = atoi(kv + 21);
		return;
	}
	/* what matters is logged by us, once, with the session's words */
	usp_debug("libiscsi(%d): %s", level, message);
}

/* Publish the state and counters for other threads. */
static void publish(struct usp_engine *e)
{
	pthread_mutex_lock(&e->mu);
	if (e->ctx && !e->ctx_dead) {
		e->st.queue_length = iscsi_queue_length(e->ctx);
		e->st.out_queue_length = iscsi_out_queue_length(e->ctx);
		e->st.nops_in_flight = iscsi_get_nops_in_flight(e->ctx);
	} else {
		e->st.queue_length = e->st.out_queue_length = e->st.nops_in_flight = 0;
	}
	e->st.inflight = e->inflight.n;
	e->st.queued = e->queue.n;
	e->stats = e->st;
	e->stat_local.state = e->state;
	snprintf(e->stat_local.portal, sizeof(e->stat_local.portal), "%s", e->cur_portal);
	e->status = e->stat_local;
	pthread_mutex_unlock(&e->mu);
}

static void set_state(struct usp_engine *e, enum usp_state s)
{
	if (e->state == s)
		return;
	usp_info("session %d: %s -> %s", e->cfg->sid, usp_state_name(e->state), usp_state_name(s));
	pthread_mutex_lock(&e->mu);
	e->state = s;
	pthread_mutex_unlock(&e->mu);
	/* main tells the control socket's watchers (iscsid) */
	uint64_t one = 1;
	if (e->notify_fd >= 0 && write(e->notify_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		usp_warn("eventfd write: %m");
}

static void first_login_result(struct usp_engine *e, int rc, const char *msg)
{
	pthread_mutex_lock(&e->mu);
	e->login_done = true;
	e->login_rc = rc;
	snprintf(e->login_msg, sizeof(e->login_msg), "%s", msg ? msg : "");
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
}

/* The next attempt, after a failed one. */
static void schedule_attempt(struct usp_engine *e, unsigned delay_ms)
{
	e->next_attempt_ms = now_ms() + delay_ms;
}

/* One connection or login attempt failed (rc: the exit code it would be). */
static void attempt_failed(struct usp_engine *e, int rc, const char *msg)
{
	e->ctx_dead = true;
	e->phase = C_NONE;
	snprintf(e->stat_local.last_error, sizeof(e->stat_local.last_error), "%s", msg);
	if (e->state == USP_STATE_LOGIN) {
		bool fatal = rc == ISCSI_ERR_LOGIN_AUTH_FAILED || rc == ISCSI_ERR_FATAL_LOGIN;
		if (fatal || e->attempts > e->cfg->login_retries) {
			usp_err("login to %s %s failed: %s", e->cfg->rec.name, e->cur_portal, msg);
			first_login_result(e, rc, msg);
			e->stopping = true;
			return;
		}
		usp_info("login attempt %d failed (%s), retrying", e->attempts, msg);
		schedule_attempt(e, LOGIN_RETRY_MS);
		return;
	}
	if (e->stopping)
		return;
	usp_debug("reconnect failed: %s", msg);
	schedule_attempt(e, e->backoff_ms);
	e->backoff_ms = e->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : e->backoff_ms * 2;
}

/* libiscsi says "Failed to log in to target. Status: <text>(<n>)". */
static int login_status_from_error(const char *err, unsigned *ret_status)
{
	const char *p = strstr(err, "Status: ");
	if (!p || !(p = strrchr(p, '(')))
		return -1;
	char *end;
	unsigned long v = strtoul(p + 1, &end, 10);
	if (*end != ')' || v > 0xffff)
		return -1;
	*ret_status = (unsigned)v;
	return 0;
}

static bool param_is(struct usp_engine *e, const char *key, const char *value)
{
	size_t kl = strlen(key);
	for (unsigned i = 0; i < e->stat_local.nparams; i++) {
		const char *p = e->stat_local.params[i];
		if (!strncmp(p, key, kl) && p[kl] == '=')
			return !strcmp(p + kl + 1, value);
	}
	return false;
}

static void login_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct usp_engine *e = priv;

	if (e->tearing_down || ctx != e->ctx || e->phase != C_LOGIN)
		return;
	if (status == SCSI_STATUS_REDIRECT) {
		const char *addr = iscsi_get_target_address(ctx);
		if (++e->redirects > REDIRECTS_MAX || !addr || !*addr) {
			attempt_failed(e, ISCSI_ERR_LOGIN, "too many login redirects");
			return;
		}
		/* TargetAddress is "host:port,tpgt" */
		snprintf(e->cur_portal, sizeof(e->cur_portal), "%s", addr);
		e->cur_portal[strcspn(e->cur_portal, ",")] = '\0';
		usp_info("target redirects to %s", e->cur_portal);
		e->ctx_dead = true;
		e->phase = C_NONE;
		schedule_attempt(e, 0);
		return;
	}
	if (status != SCSI_STATUS_GOOD) {
		const char *err = iscsi_get_error(ctx);
		unsigned ls;
		char msg[USP_MSG_SIZE];
		snprintf(msg, sizeof(msg), "%s", err && *err ? err : "login failed");
		if (!login_status_from_error(msg, &ls))
			attempt_failed(e, iscsi_err_from_login_status(ls >> 8, ls & 0xff), msg);
		else if (strstr(msg, "CHAP"))
			/* libiscsi's own checks of the target's CHAP answer
			 * (mutual CHAP): the target failed to authenticate */
			attempt_failed(e, ISCSI_ERR_LOGIN_AUTH_FAILED, msg);
		else
			attempt_failed(e, ISCSI_ERR_TRANS, msg);
		return;
	}
	/* libiscsi 1.19 takes whatever HeaderDigest the target answers; a
	 * record that requires digests must not get a session without */
	if (e->cfg->header_digest == ISCSI_HEADER_DIGEST_CRC32C && !param_is(e, "HeaderDigest", "CRC32C")) {
		attempt_failed(e, ISCSI_ERR_FATAL_LOGIN, "the target refused HeaderDigest=CRC32C, which "
			       "node.conn[0].iscsi.HeaderDigest requires");
		return;
	}
	e->phase = C_UP;
	e->redirects = 0;
	e->backoff_ms = BACKOFF_MIN_MS;
	e->attempt_deadline_ms = 0;
	e->last_rx_ms = now_ms();
	e->nop_sent_ms = 0;
	/* login replies captured; per-command logging would cost */
	iscsi_set_log_level(ctx, usp_log_debug_level() > 1 ? 2 : 1);
	e->stat_local.last_error[0] = '\0';
	if (e->state == USP_STATE_LOGIN) {
		set_state(e, USP_STATE_LOGGED_IN);
		usp_info("logged in to %s %s (session %d)", e->cfg->rec.name, e->cur_portal, e->cfg->sid);
		first_login_result(e, 0, "");
	} else {
		e->st.reconnects++;
		e->st.recovery_ms += now_ms() - e->recovery_since_ms;
		usp_info("session %d: reconnected after %llu ms", e->cfg->sid,
			 (unsigned long long)(now_ms() - e->recovery_since_ms));
		set_state(e, USP_STATE_LOGGED_IN);
	}
	io_dispatch(e);
}

static void connect_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct usp_engine *e = priv;

	if (e->tearing_down || ctx != e->ctx)
		return;
	if (e->phase != C_CONNECTING) {
		/* the second call: an established connection went away */
		if (status != SCSI_STATUS_GOOD && e->phase == C_UP)
			conn_lost(e, "connection closed");
		return;
	}
	if (status != SCSI_STATUS_GOOD) {
		char msg[USP_MSG_SIZE];
		snprintf(msg, sizeof(msg), "cannot connect to %s: %s", e->cur_portal, iscsi_get_error(ctx));
		attempt_failed(e, ISCSI_ERR_TRANS, msg);
		return;
	}
	e->phase = C_LOGIN;
	if (iscsi_login_async(ctx, login_cb, e)) {
		char msg[USP_MSG_SIZE];
		snprintf(msg, sizeof(msg), "login: %s", iscsi_get_error(ctx));
		attempt_failed(e, ISCSI_ERR_LOGIN, msg);
	}
}

static struct iscsi_context *ctx_new(struct usp_engine *e)
{
	struct usp_config *c = e->cfg;
	const struct rec_auth *a = &c->rec.session.auth;
	struct iscsi_context *ctx = iscsi_create_context(c->iname);

	if (!ctx)
		return NULL;
	iscsi_set_log_fn(ctx, libiscsi_log);
	iscsi_set_log_level(ctx, 6);
	if (iscsi_set_targetname(ctx, c->rec.name) || iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL) ||
	    iscsi_set_header_digest(ctx, (enum iscsi_header_digest)c->header_digest) ||
	    iscsi_set_isid_random(ctx, e->isid_rnd, (uint32_t)c->sid & 0xffff) ||
	    iscsi_set_immediate_data(ctx, c->rec.session.immediate_data ? ISCSI_IMMEDIATE_DATA_YES
									: ISCSI_IMMEDIATE_DATA_NO) ||
	    iscsi_set_initial_r2t(ctx, c->rec.session.initial_r2t ? ISCSI_INITIAL_R2T_YES : ISCSI_INITIAL_R2T_NO))
		goto fail;
	if (c->chap && iscsi_set_initiator_username_pwd(ctx, a->username, a->password))
		goto fail;
	if (c->mutual && iscsi_set_target_username_pwd(ctx, a->username_in, a->password_in))
		goto fail;
	if (c->bind_if[0])
		iscsi_set_bind_interfaces(ctx, c->bind_if);
	iscsi_set_noautoreconnect(ctx, 1);
	iscsi_set_timeout(ctx, USP_CMD_TIMEOUT);
	/* a peer that vanishes while we send is noticed within this */
	iscsi_set_tcp_user_timeout(ctx, 15000);
	return ctx;
fail:
	usp_err("libiscsi: %s", iscsi_get_error(ctx));
	iscsi_destroy_context(ctx);
	return NULL;
}

static void attempt_start(struct usp_engine *e)
{
	e->next_attempt_ms = 0;
	if (e->state == USP_STATE_LOGIN)
		e->attempts++;
	e->st.login_attempts++;
	e->stat_local.nparams = 0;
	e->stat_local.tpgt = e->cfg->rec.tpgt;
	e->ctx = ctx_new(e);
	if (!e->ctx) {
		attempt_failed(e, ISCSI_ERR_NOMEM, "cannot create a libiscsi context");
		return;
	}
	e->phase = C_CONNECTING;
	e->attempt_deadline_ms = now_ms() + (uint64_t)e->cfg->login_timeout * 1000;
	if (iscsi_connect_async(e->ctx, e->cur_portal, connect_cb, e)) {
		char msg[USP_MSG_SIZE];
		snprintf(msg, sizeof(msg), "cannot connect to %s: %s", e->cur_portal, iscsi_get_error(e->ctx));
		attempt_failed(e, ISCSI_ERR_TRANS, msg);
	}
}

void conn_lost(struct usp_engine *e, const char *why)
{
	if (e->phase != C_UP && e->phase != C_LOGOUT)
		return;
	e->ctx_dead = true;
	e->phase = C_NONE;
	if (e->stopping)
		return;
	e->st.conn_failures++;
	usp_warn("session %d: connection lost: %s", e->cfg->sid, why);
	snprintf(e->stat_local.last_error, sizeof(e->stat_local.last_error), "%s", why);
	e->recovery_since_ms = now_ms();
	e->backoff_ms = BACKOFF_MIN_MS;
	set_state(e, e->cfg->replacement_timeout == 0 ? USP_STATE_FAILED : USP_STATE_RECOVERY);
	schedule_attempt(e, 0);
}

/* Out of every libiscsi callback: free the dead context. Commands in
 * flight go back to the queue first, so the cancellations libiscsi
 * delivers while it frees find them orphaned. */
static void teardown(struct usp_engine *e)
{
	if (!e->ctx_dead || !e->ctx)
		return;
	io_orphan_inflight(e);
	e->tearing_down = true;
	iscsi_destroy_context(e->ctx);
	e->tearing_down = false;
	e->ctx = NULL;
	e->ctx_dead = false;
	e->nop_sent_ms = 0;
	if (e->state == USP_STATE_FAILED)
		io_fail_queue(e);
}

static void nop_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct usp_engine *e = priv;

	if (e->tearing_down || ctx != e->ctx)
		return;
	if (status == SCSI_STATUS_GOOD) {
		e->st.nops_answered++;
		e->nop_sent_ms = 0;
		e->last_rx_ms = now_ms();
	} else {
		conn_lost(e, "NOP-Out failed");
	}
}

static void logout_cb(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct usp_engine *e = priv;
	if (!e->tearing_down)
		e->logout_done = true;
}

/* Timers: login deadline, NOP-Out, replacement timeout, next attempt. */
static void timers(struct usp_engine *e)
{
	uint64_t now = now_ms();
	struct usp_config *c = e->cfg;

	if ((e->phase == C_CONNECTING || e->phase == C_LOGIN) && e->attempt_deadline_ms &&
	    now >= e->attempt_deadline_ms) {
		char msg[USP_MSG_SIZE];
		snprintf(msg, sizeof(msg), "login to %s timed out after %d s", e->cur_portal, c->login_timeout);
		attempt_failed(e, ISCSI_ERR_TRANS_TIMEOUT, msg);
	}
	if (e->phase == C_UP && c->noop_interval > 0) {
		if (e->nop_sent_ms && now - e->nop_sent_ms >= (uint64_t)c->noop_timeout * 1000) {
			e->st.timeouts++;
			conn_lost(e, "NOP-Out timed out");
		} else if (!e->nop_sent_ms && now - e->last_rx_ms >= (uint64_t)c->noop_interval * 1000) {
			if (iscsi_nop_out_async(e->ctx, nop_cb, NULL, 0, e) == 0) {
				e->nop_sent_ms = now;
				e->st.nops_sent++;
			}
		}
	}
	if (e->state == USP_STATE_RECOVERY && c->replacement_timeout > 0 &&
	    now - e->recovery_since_ms >= (uint64_t)c->replacement_timeout * 1000) {
		usp_warn("session %d: replacement_timeout (%d s) passed, failing I/O", c->sid,
			 c->replacement_timeout);
		set_state(e, USP_STATE_FAILED);
		io_fail_queue(e);
	}
	if (e->phase == C_NONE && !e->ctx && e->next_attempt_ms && now >= e->next_attempt_ms && !e->stopping)
		attempt_start(e);
}

/* Takes what other threads handed over. */
static void take_submissions(struct usp_engine *e)
{
	uint64_t v;
	struct scan_job *scans;
	struct reqlist sub;

	if (read(e->evfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		usp_warn("eventfd: %m");
	pthread_mutex_lock(&e->mu);
	sub = e->submitted;
	e->submitted = (struct reqlist){ 0 };
	scans = e->scans;
	e->scans = NULL;
	if (e->stop_req && !e->stopping) {
		e->stopping = true;
		if (e->logout_req && e->phase == C_UP)
			e->phase = C_LOGOUT;
	}
	pthread_mutex_unlock(&e->mu);

	struct usp_req *r;
	while ((r = rl_pop(&sub))) {
		r->seq = ++e->seq;
		if (e->stopping || e->state == USP_STATE_FAILED) {
			io_complete(e, r, -EIO);
			continue;
		}
		rl_push_tail(&e->queue, r);
	}
	while (scans) {
		struct scan_job *j = scans;
		scans = j->next;
		if (e->phase != C_UP || e->state != USP_STATE_LOGGED_IN)
			scan_finish(e, j, ISCSI_ERR_SESSION_NOT_CONNECTED, "session is not logged in (%s)",
				    usp_state_name(e->state));
		else
			scan_begin(e, j);
	}
}

static void run_stop(struct usp_engine *e)
{
	/* held I/O fails; what is in flight may still finish */
	io_fail_queue(e);
	if (e->phase == C_LOGOUT && !e->logout_deadline_ms) {
		int tmo = e->cfg->rec.conn.logout_timeout > 0 ? e->cfg->rec.conn.logout_timeout : 15;
		e->logout_deadline_ms = now_ms() + (uint64_t)tmo * 1000;
		if (e->inflight.n == 0 && iscsi_logout_async(e->ctx, logout_cb, e))
			e->logout_done = true;
		else if (e->inflight.n)
			e->logout_deadline_ms = 0;   /* after the last completion */
	}
}

static bool stop_finished(struct usp_engine *e)
{
	if (!e->stopping)
		return false;
	if (e->phase == C_LOGOUT)
		return e->logout_done || (e->logout_deadline_ms && now_ms() >= e->logout_deadline_ms) ||
		       e->ctx_dead;
	if (e->phase == C_UP && e->inflight.n)
		return false;
	return true;
}

static void *engine_main(void *arg)
{
	struct usp_engine *e = arg;

	attempt_start(e);
	for (;;) {
		struct pollfd p[2] = { { .fd = e->evfd, .events = POLLIN } };
		int n = 1, events = 0, tmo = 250;

		teardown(e);
		publish(e);
		if (stop_finished(e))
			break;
		if (e->ctx) {
			events = iscsi_which_events(e->ctx);
			if (events) {
				p[1] = (struct pollfd){ .fd = iscsi_get_fd(e->ctx), .events = (short)events };
				n = 2;
			} else {
				tmo = 100;
			}
		}
		if (e->next_attempt_ms && !e->ctx) {
			uint64_t now = now_ms();
			int d = e->next_attempt_ms > now ? (int)(e->next_attempt_ms - now) : 0;
			if (d < tmo)
				tmo = d;
		}
		int r = poll(p, (nfds_t)n, tmo);
		if (r < 0 && errno != EINTR) {
			usp_err("engine poll: %m");
			break;
		}
		if (p[0].revents & POLLIN)
			take_submissions(e);
		if (e->ctx && !e->ctx_dead) {
			int rev = n == 2 ? p[1].revents : 0;
			if (iscsi_service(e->ctx, rev) < 0) {
				char msg[USP_MSG_SIZE];
				snprintf(msg, sizeof(msg), "%s", iscsi_get_error(e->ctx));
				if (e->phase == C_UP || e->phase == C_LOGOUT)
					conn_lost(e, msg);
				else if (e->phase == C_CONNECTING || e->phase == C_LOGIN)
					attempt_failed(e, ISCSI_ERR_TRANS, msg);
			}
		}
		if (e->stopping)
			run_stop(e);
		else
			io_dispatch(e);
		if (e->phase == C_LOGOUT && !e->logout_deadline_ms && e->inflight.n == 0)
			run_stop(e);
		timers(e);
	}
	e->ctx_dead = true;
	if (e->ctx) {
		io_orphan_inflight(e);
		e->tearing_down = true;
		iscsi_destroy_context(e->ctx);
		e->tearing_down = false;
		e->ctx = NULL;
	}
	io_fail_queue(e);
	set_state(e, USP_STATE_LOGOUT);
	publish(e);
	pthread_mutex_lock(&e->mu);
	e->thread_done = true;
	/* scans still waiting */
	while (e->scans) {
		struct scan_job *j = e->scans;
		e->scans = j->next;
		pthread_mutex_unlock(&e->mu);
		scan_finish(e, j, ISCSI_ERR_SESSION_NOT_CONNECTED, "session is stopping");
		pthread_mutex_lock(&e->mu);
	}
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->mu);
	if (!e->login_done)
		first_login_result(e, e->fail_rc ? e->fail_rc : ISCSI_ERR_LOGIN, "stopped before login");
	return NULL;
}

static void wake(struct usp_engine *e)
{
	uint64_t one = 1;
	if (write(e->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		usp_warn("eventfd write: %m");
}

int engine_start(struct usp_config *c, struct usp_engine **ret, char *msg, size_t msglen)
{
	struct usp_engine *e = calloc(1, sizeof(*e));

	if (!e) {
		errbuf_set(msg, msglen, "out of memory");
		return ISCSI_ERR_NOMEM;
	}
	e->cfg = c;
	e->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	e->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(e->cur_portal, sizeof(e->cur_portal), "%s", c->portal);
	e->backoff_ms = BACKOFF_MIN_MS;
	e->state = USP_STATE_LOGIN;
	e->stat_local.tpgt = c->rec.tpgt;
	if (getrandom(&e->isid_rnd, sizeof(e->isid_rnd), 0) != sizeof(e->isid_rnd))
		e->isid_rnd = (uint32_t)getpid() ^ (uint32_t)now_ms();
	e->isid_rnd &= 0xffffff;
	/* libiscsi 1.19 draws the mutual-CHAP challenge from rand() */
	srand(e->isid_rnd ^ (unsigned)now_ms());
	log_engine = e;
	if (e->evfd < 0 || e->notify_fd < 0 || pthread_create(&e->thread, NULL, engine_main, e)) {
		errbuf_set(msg, msglen, "cannot start the engine thread");
		if (e->evfd >= 0)
			close(e->evfd);
		if (e->notify_fd >= 0)
			close(e->notify_fd);
		free(e);
		return ISCSI_ERR_NOMEM;
	}
	pthread_mutex_lock(&e->mu);
	while (!e->login_done)
		pthread_cond_wait(&e->cond, &e->mu);
	int rc = e->login_rc;
	errbuf_set(msg, msglen, "%s", e->login_msg);
	pthread_mutex_unlock(&e->mu);
	if (rc) {
		engine_stop(e, false);
		return rc;
	}
	*ret = e;
	return 0;
}

void engine_submit(struct usp_engine *e, struct usp_req *r)
{
	pthread_mutex_lock(&e->mu);
	bool dead = e->state == USP_STATE_FAILED || e->stop_req || e->thread_done;
	if (!dead)
		rl_push_tail(&e->submitted, r);
	pthread_mutex_unlock(&e->mu);
	if (dead) {
		/* fail fast, as the kernel does for a session past its
		 * replacement_timeout */
		r->done(r, -EIO);
		return;
	}
	wake(e);
}

int engine_scan(struct usp_engine *e, struct usp_scan *out, int timeout_ms, char *msg, size_t msglen)
{
	struct scan_job *j = calloc(1, sizeof(*j));
	struct timespec dl;
	int rc;

	if (!j) {
		errbuf_set(msg, msglen, "out of memory");
		return ISCSI_ERR_NOMEM;
	}
	j->out = out;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
	if (dl.tv_nsec >= 1000000000) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&e->mu);
	if (e->thread_done) {
		pthread_mutex_unlock(&e->mu);
		free(j);
		errbuf_set(msg, msglen, "session is stopping");
		return ISCSI_ERR_SESSION_NOT_CONNECTED;
	}
	j->next = e->scans;
	e->scans = j;
	pthread_mutex_unlock(&e->mu);
	wake(e);
	pthread_mutex_lock(&e->mu);
	while (!j->done)
		if (pthread_cond_timedwait(&e->cond, &e->mu, &dl) == ETIMEDOUT)
			break;
	if (!j->done) {
		j->abandoned = true;   /* the engine frees it */
		j->out = NULL;
		pthread_mutex_unlock(&e->mu);
		errbuf_set(msg, msglen, "scan timed out");
		return ISCSI_ERR_REQ_TIMEDOUT;
	}
	pthread_mutex_unlock(&e->mu);
	rc = j->rc;
	errbuf_set(msg, msglen, "%s", j->msg);
	free(j->ents);
	free(j);
	return rc;
}

void engine_stop(struct usp_engine *e, bool logout)
{
	if (!e)
		return;
	pthread_mutex_lock(&e->mu);
	e->stop_req = true;
	e->logout_req = logout;
	pthread_mutex_unlock(&e->mu);
	wake(e);
	pthread_join(e->thread, NULL);
	if (log_engine == e)
		log_engine = NULL;
	close(e->evfd);
	close(e->notify_fd);
	pthread_mutex_destroy(&e->mu);
	pthread_cond_destroy(&e->cond);
	free(e);
}

void engine_get_status(struct usp_engine *e, struct usp_status *ret)
{
	pthread_mutex_lock(&e->mu);
	*ret = e->status;
	ret->state = e->state;
	pthread_mutex_unlock(&e->mu);
}

int engine_notify_fd(const struct usp_engine *e)
{
	return e->notify_fd;
}

enum usp_state engine_state(struct usp_engine *e)
{
	uint64_t v;
	/* the notification is consumed with the state it announced */
	if (read(e->notify_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		usp_warn("eventfd read: %m");
	pthread_mutex_lock(&e->mu);
	enum usp_state s = e->state;
	pthread_mutex_unlock(&e->mu);
	return s;
}

void engine_get_stats(struct usp_engine *e, struct usp_stats *ret)
{
	pthread_mutex_lock(&e->mu);
	*ret = e->stats;
	pthread_mutex_unlock(&e->mu);
}
