/* What happens when a connection fails or a session ends: retry policy
 * and the reconnect schedule, replacing a lost connection (reference
 * §2.6), the logout sequence (§2.7) and the target's Async Messages
 * (RFC 7143 §11.9). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "iscsi_if.h"
#include "kasync.h"
#include "ksession.h"
#include "log.h"
#include "login.h"
#include "nl.h"
#include "pdu.h"
#include "scan.h"
#include "sysfs.h"

static void stop_recover(struct ksession *ks)
{
	if (!ks->have_conn || (!ks->bound && !ks->started))
		return;
	/* Releases the kernel's socket and, after a CONN_ERROR, waits for
	 * the kernel's own clean-up and clears it; until then BIND_CONN
	 * would fail with -ENOTCONN (reference §2.6). */
	int r = nl_stop_conn(ks->k->nl, ks->sid, ks->cid, ISCSI_STOP_CONN_RECOVER);
	if (r < 0)
		log_warnx("session %" PRIu32 ": STOP_CONN: %s", ks->sid, nl_strerror(r));
	ks->bound = ks->started = false;
}

/* Reconnect policy (iscsid.conf(5), "Reconnecting"). A path that comes
 * back should carry I/O again within a second, which multipath users
 * need, so attempts follow each other at a fixed short interval instead
 * of a growing back-off; the interval bounds what a target that stays
 * down sees: one TCP connection and one Login Request per interval and
 * session (a refused connect costs it a SYN and a RST). */
unsigned krec_retry_delay(uint64_t outage_ms)
{
	return outage_ms < KS_RETRY_FAST_WINDOW_MS ? KS_RETRY_FAST_MS : KS_RETRY_SLOW_MS;
}

/* One line per outage at info level, then again when the reason changes
 * or a minute has passed: a target that stays down for a day must not
 * fill the log with 86400 lines per session. */
static void log_attempt(struct ksession *ks, const char *what, uint64_t delay, uint64_t now)
{
	bool loud = ks->attempts <= 1 || strcmp(ks->err.msg, ks->last_fail_msg) != 0 ||
		    now - ks->last_fail_log_ms >= KS_RETRY_LOG_MS;
	if (!loud) {
		log_debug(1, "%s: %s; trying again in %" PRIu64 " ms (attempt %u)", what, ks->err.msg, delay,
			  ks->attempts + 1);
		return;
	}
	if (ks->attempts <= 1)
		log_info("%s: %s; trying again in %" PRIu64 " ms", what, ks->err.msg, delay);
	else
		log_info("%s: %s; trying again in %" PRIu64 " ms (%u attempts in %" PRIu64 " s)", what, ks->err.msg,
			 delay, ks->attempts, (now - ks->outage_start_ms) / 1000u);
	ks->last_fail_log_ms = now;
	snprintf(ks->last_fail_msg, sizeof(ks->last_fail_msg), "%s", ks->err.msg);
}

enum ks_event krec_attempt_failed(struct ksession *ks)
{
	char what[700];
	uint64_t delay, now = loop_now_ms();

	kconn_close(ks);
	ks_what(ks, what, sizeof(what));
	if (!ks->outage_start_ms)
		ks->outage_start_ms = now;
	if (!ks->ever_logged_in) {
		/* initial login: fatal errors end it; transient ones are
		 * retried for initial_login_retry_max x login_timeout from
		 * the first connect (open-iscsi's time-based budget) */
		int tmo = ks->rec.conn.login_timeout > 0 ? ks->rec.conn.login_timeout : 15;
		int max = ks->rec.session.initial_login_retry_max;
		uint64_t budget = (uint64_t)(max > 0 ? max : 0) * (uint64_t)tmo * 1000u;
		if (ks->err.fatal) {
			log_warnx("%s: login failed: %s", what, ks->err.msg);
			return KE_GIVE_UP;
		}
		if (!ks->err.now && now - ks->first_connect_ms >= budget) {
			log_warnx("%s: login failed: %s (giving up after %u attempt%s)", what, ks->err.msg,
				  ks->attempts + 1, ks->attempts ? "s" : "");
			return KE_GIVE_UP;
		}
	} else if (ks->rec.session.reopen_max > 0 && ks->attempts >= (unsigned)ks->rec.session.reopen_max) {
		log_warnx("%s: giving up after %u reconnect attempts (node.session.reopen_max)", what,
			  ks->attempts);
		ks_fail(ks, ISCSI_ERR_TRANS, true, "reconnecting failed %u times", ks->attempts);
		return KE_GIVE_UP;
	}
	/* trying again: the kernel lets go of the old socket (giving up
	 * leaves that to STOP_CONN TERM) */
	stop_recover(ks);
	if (!ks->err.now)
		ks->attempts++;
	if (!ks->err.redirect) {
		/* a temporary redirection lasts one attempt */
		snprintf(ks->addr, sizeof(ks->addr), "%s", ks->failback_addr);
		ks->port = ks->failback_port;
	}
	if (ks->err.now) {
		delay = 0;
	} else if (ks->time2wait) {
		delay = (uint64_t)ks->time2wait * 1000u;
		ks->time2wait = 0;
	} else {
		delay = krec_retry_delay(now - ks->outage_start_ms);
	}
	log_attempt(ks, what, delay, now);
	if (loop_timer_arm(ks->k->loop, &ks->timer, delay) < 0) {
		ks_fail(ks, ISCSI_ERR_NOMEM, true, "out of memory");
		return KE_GIVE_UP;
	}
	return KE_NONE;
}

enum ks_event krec_conn_lost(struct ksession *ks)
{
	char what[700];

	loop_timer_disarm(ks->k->loop, &ks->timer);
	kconn_close(ks);
	stop_recover(ks);
	ks->attempts = 0;
	ks->outage_start_ms = loop_now_ms();
	ks->last_fail_msg[0] = '\0';
	ks->redirects = 0;
	snprintf(ks->addr, sizeof(ks->addr), "%s", ks->failback_addr);
	ks->port = ks->failback_port;
	/* Time2Wait from the target (Async Message, Logout Response), else
	 * at once: the kernel queues I/O for replacement_timeout meanwhile */
	uint64_t delay = (uint64_t)ks->time2wait * 1000u;
	ks->time2wait = 0;
	log_warnx("%s: connection lost; reconnecting%s", ks_what(ks, what, sizeof(what)),
		  delay ? " after Time2Wait" : "");
	if (loop_timer_arm(ks->k->loop, &ks->timer, delay) < 0) {
		ks_fail(ks, ISCSI_ERR_NOMEM, true, "out of memory");
		return KE_HOST_GONE;
	}
	return KE_NONE;
}

enum ks_event krec_unbind(struct ksession *ks)
{
	/* The kernel removes the SCSI target (flushing the disks' caches
	 * while the connection still works), then sends
	 * KEVENT_UNBIND_SESSION. Kernels without it: go on at the timeout. */
	int r = nl_unbind_session(ks->k->nl, ks->sid);
	if (r < 0) {
		log_warnx("session %" PRIu32 ": UNBIND_SESSION: %s", ks->sid, nl_strerror(r));
		return KE_UNBOUND;
	}
	uint64_t tmo = (uint64_t)(ks->rec.conn.logout_timeout > 0 ? ks->rec.conn.logout_timeout : 15) * 1000u;
	if (tmo < KS_UNBIND_MIN_MS)
		tmo = KS_UNBIND_MIN_MS;
	(void)loop_timer_arm(ks->k->loop, &ks->timer, tmo);
	return KE_NONE;
}

enum ks_event krec_send_logout(struct ksession *ks)
{
	uint8_t hdr[ISCSI_BHS_LEN];
	size_t len = 0;

	loop_timer_disarm(ks->k->loop, &ks->timer);
	if (!ks->started)
		return KE_LOGOUT_RSP;           /* nothing to send it on */
	/* RFC 7143 §11.14: close the session. The kernel fills in ITT,
	 * CmdSN and ExpStatSN (reference §2.7). */
	if (login_build_logout(0, (uint16_t)ks->cid, 0, 0, ISCSI_LOGOUT_CLOSE_SESSION, hdr, sizeof(hdr), &len) < 0)
		return KE_LOGOUT_RSP;
	int r = nl_send_pdu(ks->k->nl, ks->sid, ks->cid, hdr, len, NULL, 0);
	if (r < 0) {
		log_warnx("session %" PRIu32 ": cannot send the Logout Request: %s", ks->sid, nl_strerror(r));
		return KE_LOGOUT_RSP;
	}
	uint64_t tmo = (uint64_t)(ks->rec.conn.logout_timeout > 0 ? ks->rec.conn.logout_timeout : 15) * 1000u;
	(void)loop_timer_arm(ks->k->loop, &ks->timer, tmo);
	return KE_NONE;
}

void krec_logout_rsp(struct ksession *ks, const uint8_t *pdu, size_t len)
{
	uint8_t response;
	unsigned t2w;
	if (kasync_logout_rsp(pdu, len, &response, &t2w) < 0)
		return;
	if (response != ISCSI_LOGOUT_RSP_OK)
		log_warnx("session %" PRIu32 ": Logout Response %u", ks->sid, response);
	/* before logging in again after a logout the target asked for */
	ks->time2wait = t2w;
}

void krec_async(struct ksession *ks, const uint8_t *pdu, size_t len)
{
	struct kasync a;
	char what[700];

	if (kasync_parse(pdu, len, &a) < 0) {
		log_warnx("session %" PRIu32 ": malformed Async Message ignored", ks->sid);
		return;
	}
	ks_what(ks, what, sizeof(what));
	switch (a.action) {
	case KASYNC_RESCAN:
		log_info("%s: target reports REPORTED LUNS DATA HAS CHANGED", what);
		if (ks->rec.session.scan == REC_SCAN_AUTO && ks->state == KS_LOGGED_IN &&
		    kscan_start(ks, KSCAN_EVENT, false, NULL) < 0)
			log_warnx("%s: cannot start a scan", what);
		break;
	case KASYNC_LOGOUT:
		log_info("%s: target requests a logout", what);
		ks_fsm(ks, KE_ASYNC_LOGOUT);
		break;
	case KASYNC_DROPPING:
		/* the CONN_ERROR follows; reconnect after Time2Wait */
		ks->time2wait = a.time2wait;
		log_info("%s: target drops the connection (Time2Wait %u s)", what, a.time2wait);
		break;
	case KASYNC_RENEGOTIATE:
		/* open-iscsi drops the connection and logs in again, which
		 * negotiates everything afresh */
		log_info("%s: target requests parameter negotiation; logging in again", what);
		ks_fsm(ks, KE_DROP);
		break;
	default:
		log_debug(1, "%s: Async Message event %u ignored", what, a.event);
		break;
	}
}

/* After a re-login: disks the kernel marked offline go back to running
 * (the kernel unblocks transport-offline ones itself). */
void krec_online_devices(struct ksession *ks)
{
	struct sysfs_lun *luns = NULL;
	size_t n = 0;
	if (sysfs_session_luns(ks->k->sysfs, ks->sid, &luns, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(luns[i].state, "offline") && strcmp(luns[i].state, "transport-offline"))
			continue;
		char hctl[64], rel[128];
		sysfs_hctl_format(&luns[i].hctl, hctl, sizeof(hctl));
		snprintf(rel, sizeof(rel), "bus/scsi/devices/%s/state", hctl);
		if (kscan_write(ks->k, rel, "running") < 0)
			log_warnx("session %" PRIu32 ": cannot set %s running", ks->sid, hctl);
	}
	free(luns);
}
