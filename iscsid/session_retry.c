/* The transport-independent policy of sessions whose carrier drives its
 * own connection attempts (carrier.h): how long an initial login keeps
 * trying, when a logged-in session gives up reconnecting, how long to
 * wait between attempts, how many redirections a login may follow, and
 * what the log says about it. The carrier says why an attempt failed and
 * whether that can ever work (session_err); the layer decides what
 * follows. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "log.h"
#include "session.h"

void session_err_vset(struct session_err *e, int code, bool fatal, const char *fmt, va_list ap)
{
	char buf[TRANSPORT_MSG_MAX];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	session_err_clear(e);
	e->code = code;
	e->fatal = fatal;
	e->msg = buf[0] ? strdup(buf) : NULL;  /* NULL when out of memory: the code's own text */
}

void session_err_set(struct session_err *e, int code, bool fatal, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	session_err_vset(e, code, fatal, fmt, ap);
	va_end(ap);
}

const char *session_err_msg(const struct session_err *e)
{
	return e->msg && e->msg[0] ? e->msg : iscsi_err_str(e->code ? e->code : ISCSI_ERR_LOGIN);
}

void session_err_clear(struct session_err *e)
{
	free(e->msg);
	memset(e, 0, sizeof(*e));
}

/* Reconnect policy (iscsid.conf(5), "Reconnecting"). A path that comes
 * back should carry I/O again within a second, which multipath users
 * need, so attempts follow each other at a fixed short interval instead
 * of a growing back-off; the interval bounds what a target that stays
 * down sees: one TCP connection and one Login Request per interval and
 * session (a refused connect costs it a SYN and a RST). */
unsigned session_retry_delay(uint64_t outage_ms)
{
	return outage_ms < SESSION_RETRY_FAST_WINDOW_MS ? SESSION_RETRY_FAST_MS : SESSION_RETRY_SLOW_MS;
}

void session_attempt_begin(struct session *s)
{
	s->retry.driven = true;
	/* the last login's duration is that of its last attempt */
	s->fig.login_start_ms = loop_now_ms();
	if (!s->retry.first_attempt_ms)
		s->retry.first_attempt_ms = loop_now_ms();
}

/* One line per outage at info level, then again when the reason changes
 * or a minute has passed: a target that stays down for a day must not
 * fill the log with 86400 lines per session. */
static void log_attempt(struct session *s, const char *what, const char *msg, uint64_t delay, uint64_t now)
{
	struct session_retry *r = &s->retry;
	bool loud = r->attempts <= 1 || !r->last_fail_msg || strcmp(msg, r->last_fail_msg) != 0 ||
		    now - r->last_fail_log_ms >= SESSION_RETRY_LOG_MS;
	if (!loud) {
		log_debug(1, "%s: %s; trying again in %" PRIu64 " ms (attempt %u)", what, msg, delay, r->attempts + 1);
		return;
	}
	if (r->attempts <= 1)
		log_info("%s: %s; trying again in %" PRIu64 " ms", what, msg, delay);
	else
		log_info("%s: %s; trying again in %" PRIu64 " ms (%u attempts in %" PRIu64 " s)", what, msg, delay,
			 r->attempts, (now - r->outage_start_ms) / 1000u);
	r->last_fail_log_ms = now;
	if (!r->last_fail_msg || strcmp(msg, r->last_fail_msg) != 0) {
		/* NULL when out of memory: the next failure is logged loud */
		free(r->last_fail_msg);
		r->last_fail_msg = strdup(msg);
	}
}

static enum session_cause cause_of(int code)
{
	switch (code) {
	case ISCSI_ERR_TRANS:
		return SESSION_CAUSE_CONNECT;
	case ISCSI_ERR_TRANS_TIMEOUT:
	case ISCSI_ERR_PDU_TIMEOUT:
	case ISCSI_ERR_REQ_TIMEDOUT:
		return SESSION_CAUSE_TIMEOUT;
	case ISCSI_ERR_LOGIN_AUTH_FAILED:
		return SESSION_CAUSE_AUTH;
	case ISCSI_ERR_LOGIN:
	case ISCSI_ERR_FATAL_LOGIN:
		return SESSION_CAUSE_LOGIN;
	default:
		return SESSION_CAUSE_OTHER;
	}
}

enum session_next session_attempt_failed(struct session *s, struct session_err *e, uint64_t *ret_delay)
{
	struct session_retry *r = &s->retry;
	char what[700];
	uint64_t delay, now = loop_now_ms();

	r->driven = true;
	/* a redirection or an MD5 fall-back is no failed connection */
	if (!e->now)
		s->fig.conn_errors[cause_of(e->code)]++;
	session_what(s, what, sizeof(what));
	if (!r->outage_start_ms)
		r->outage_start_ms = now;
	if (s->state == SESSION_LOGIN) {
		/* initial login: fatal errors end it; transient ones are
		 * retried for initial_login_retry_max x login_timeout from
		 * the first attempt (open-iscsi's time-based budget) */
		int tmo = s->policy.login_timeout > 0 ? s->policy.login_timeout : 15;
		int max = s->policy.initial_login_retry_max;
		uint64_t budget = (uint64_t)(max > 0 ? max : 0) * (uint64_t)tmo * 1000u;
		if (e->fatal) {
			log_warnx("%s: login failed: %s", what, session_err_msg(e));
			return SESSION_GIVE_UP;
		}
		/* a background login (the boot's) has no budget: it goes on
		 * while its node record is there and automatic */
		if (r->unbounded && s->layer->login_wanted &&
		    !s->layer->login_wanted(s->layer->login_wanted_data, s)) {
			log_warnx("%s: login stopped: the node record is gone or no longer automatic", what);
			session_err_set(e, ISCSI_ERR_NO_OBJS_FOUND, true,
					"stopped: the node record is gone or no longer node.startup = automatic");
			return SESSION_GIVE_UP;
		}
		if (!r->unbounded && !e->now && now - r->first_attempt_ms >= budget) {
			log_warnx("%s: login failed: %s (giving up after %u attempt%s)", what, session_err_msg(e), r->attempts + 1,
				  r->attempts ? "s" : "");
			return SESSION_GIVE_UP;
		}
	} else if (s->policy.reopen_max > 0 && r->attempts >= (unsigned)s->policy.reopen_max) {
		/* a session that was logged in keeps trying whatever the
		 * error (the target may come back), unless the record
		 * limits the attempts */
		log_warnx("%s: giving up after %u reconnect attempts (node.session.reopen_max)", what, r->attempts);
		session_err_set(e, ISCSI_ERR_TRANS, true, "reconnecting failed %u times", r->attempts);
		return SESSION_GIVE_UP;
	}
	if (!e->now)
		r->attempts++;
	if (e->now) {
		delay = 0;
	} else if (r->time2wait) {
		delay = (uint64_t)r->time2wait * 1000u;
		r->time2wait = 0;
	} else {
		delay = session_retry_delay(now - r->outage_start_ms);
	}
	log_attempt(s, what, session_err_msg(e), delay, now);
	*ret_delay = delay;
	return SESSION_RETRY;
}

uint64_t session_outage_begin(struct session *s)
{
	struct session_retry *r = &s->retry;
	r->driven = true;
	r->attempts = 0;
	r->outage_start_ms = loop_now_ms();
	free(r->last_fail_msg);
	r->last_fail_msg = NULL;
	r->redirects = 0;
	/* Time2Wait from the target, else at once (the kernel, say, queues
	 * I/O for replacement_timeout meanwhile) */
	uint64_t delay = (uint64_t)r->time2wait * 1000u;
	r->time2wait = 0;
	return delay;
}

void session_time2wait(struct session *s, unsigned seconds)
{
	s->retry.time2wait = seconds;
}

bool session_redirect_allowed(struct session *s)
{
	return ++s->retry.redirects <= SESSION_MAX_REDIRECTS;
}
