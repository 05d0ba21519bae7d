/* What happens when a connection of a kernel session fails or the session
 * ends: the kernel's part of retrying (the policy and the schedule are the
 * session layer's, session_retry.c), replacing a lost connection
 * (reference §2.6), the logout sequence (§2.7) and the target's Async
 * Messages (RFC 7143 §11.9). */
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

enum ks_event krec_attempt_failed(struct ksession *ks)
{
	uint64_t delay = 0;

	kconn_close(ks);
	if (session_attempt_failed(ks->sess, &ks->err, &delay) == SESSION_GIVE_UP)
		return KE_GIVE_UP;
	/* trying again: the kernel lets go of the old socket (giving up
	 * leaves that to STOP_CONN TERM) */
	stop_recover(ks);
	if (!ks->err.redirect) {
		/* a temporary redirection lasts one attempt */
		ks_addr_failback(ks);
	}
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
	ks_addr_failback(ks);
	/* Time2Wait from the target (Async Message, Logout Response), else
	 * at once: the kernel queues I/O for replacement_timeout meanwhile */
	uint64_t delay = session_outage_begin(ks->sess);
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
	uint64_t tmo = (uint64_t)(ks->p.logout_timeout > 0 ? ks->p.logout_timeout : 15) * 1000u;
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
	uint64_t tmo = (uint64_t)(ks->p.logout_timeout > 0 ? ks->p.logout_timeout : 15) * 1000u;
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
	session_time2wait(ks->sess, t2w);
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
		if (ks->p.scan == REC_SCAN_AUTO && ks->state == KS_LOGGED_IN &&
		    kscan_start(ks, KSCAN_EVENT, false, NULL) < 0)
			log_warnx("%s: cannot start a scan", what);
		break;
	case KASYNC_LOGOUT:
		log_info("%s: target requests a logout", what);
		ks_fsm(ks, KE_ASYNC_LOGOUT);
		break;
	case KASYNC_DROPPING:
		/* the CONN_ERROR follows; reconnect after Time2Wait */
		session_time2wait(ks->sess, a.time2wait);
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
