/* Taking over the kernel's sessions when iscsid starts (after a crash, a
 * SIGKILL, an upgrade): sessions outlive the daemon, and without a daemon
 * nobody would recover them or log them out.
 *
 * sysfs says what exists (class/iscsi_session: targetname, tpgt,
 * ifacename, state; the connection's persistent address and port); the
 * node database says how to log in again (credentials included); when no
 * record matches, the session's own CHAP values in sysfs and the
 * iscsid.conf defaults stand in. The kernel's `creator` is the netlink
 * port of the dead daemon: events are multicast, so ours arrive anyway.
 *
 * A daemon killed in the middle of a login leaves half-made sessions: a
 * session without a connection (killed between CREATE_SESSION and
 * CREATE_CONN), with a connection never bound, or bound with the login
 * PDUs under way. Nobody can finish those logins (the request that
 * started them is gone, and iscsiadm reported it failed), and left alone
 * they hold a SCSI host each for good, out of reach of --logoutall. So
 * after a restart every kernel session is either adopted and working (or
 * being recovered), or destroyed:
 *
 *   session state                    connection         what happens
 *   LOGGED_IN                        up                 adopted (scanned
 *                                                       if it never was)
 *   LOGGED_IN / FAILED               bound, failed, up  adopted, logged in
 *                                                       again (recovery),
 *                                                       then scanned if it
 *                                                       never was
 *   FREE after a login: devices or   any with a portal  adopted, logged in
 *   target_state SCANNED                                again (recovery_tmo
 *                                                       expired meanwhile)
 *   FREE, never logged in            any or none        destroyed
 *   any, target UNBOUND/UNBINDING    any                destroyed (the old
 *                                                       daemon was logging
 *                                                       it out)
 *   logged in once, but no connection or no portal      destroyed (cannot be
 *   address left                                        recovered)
 *
 * A half-made session whose creating netlink socket still exists belongs
 * to a program that is still logging in (iscsistart, say): left alone. */
#include <errno.h>
#include <linux/netlink.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "iscsi_if.h"
#include "iscsid.h"
#include "ksession.h"
#include "log.h"
#include "nl.h"
#include "nodedb.h"
#include "sysfs.h"

static bool find_record(struct kctx *k, const struct sysfs_session *s, const char *addr, int port,
			struct node_rec *ret)
{
	struct nodedb *db = NULL;
	struct node_list l = { 0 };
	struct node_filter f;
	bool found = false;

	if (!k->d || nodedb_open(&k->d->paths, &db) < 0)
		return false;
	node_filter_init(&f);
	f.target = s->targetname;
	f.address = addr;
	f.port = port;
	f.iface = s->ifacename[0] ? s->ifacename : "default";
	if (nodedb_node_find(db, &f, &l, NULL) == 0) {
		/* The record with the session's tpgt, else any record of
		 * the target, portal and iface (as open-iscsi matches): a
		 * session cut short before its login finished still reads
		 * tpgt 0 in sysfs, the kernel's initial value. */
		for (int pass = 0; pass < 2 && !found; pass++)
			for (size_t i = 0; i < l.n && !found; i++)
				if (pass == 1 || s->tpgt == SYSFS_UNSET || l.v[i].rec.tpgt == s->tpgt) {
					*ret = l.v[i].rec;
					found = true;
				}
	}
	node_list_free(&l);   /* wipes the CHAP secrets */
	nodedb_free(db);
	return found;
}

/* No record: the session's own values. */
static int record_from_sysfs(struct kctx *k, const struct sysfs_session *s, const char *addr, int port,
			     struct node_rec *ret)
{
	struct node_rec tmpl, rec;
	struct sysfs_session_auth a;
	char err[200];

	if (k->d)
		tmpl = k->d->config.node;
	else
		node_rec_init(&tmpl);
	int r = node_rec_from_template(&tmpl, s->targetname, addr, port, s->tpgt == SYSFS_UNSET ? -1 : s->tpgt,
				       NULL, &rec, err, sizeof(err));
	/* the template may hold iscsid.conf's CHAP defaults */
	explicit_bzero(&tmpl.session.auth, sizeof(tmpl.session.auth));
	if (r < 0) {
		explicit_bzero(&rec.session.auth, sizeof(rec.session.auth));
		log_warnx("session %" PRIu32 ": cannot adopt: %s", s->sid, err);
		return -EINVAL;
	}
	if (s->ifacename[0])
		snprintf(rec.iface.name, sizeof(rec.iface.name), "%s", s->ifacename);
	if (s->recovery_tmo != SYSFS_UNSET)
		rec.session.replacement_timeout = s->recovery_tmo;
	if (sysfs_session_auth_read(k->sysfs, s->sid, &a) == 0) {
		snprintf(rec.session.auth.username, sizeof(rec.session.auth.username), "%s", a.username);
		snprintf(rec.session.auth.password, sizeof(rec.session.auth.password), "%s", a.password);
		snprintf(rec.session.auth.username_in, sizeof(rec.session.auth.username_in), "%s", a.username_in);
		snprintf(rec.session.auth.password_in, sizeof(rec.session.auth.password_in), "%s", a.password_in);
		if (a.username[0])
			rec.session.auth.authmethod = REC_AUTH_CHAP;
		sysfs_session_auth_wipe(&a);
	}
	*ret = rec;
	explicit_bzero(&rec.session.auth, sizeof(rec.session.auth));
	return 0;
}

/* Whether the netlink socket that created a session still exists: a
 * NETLINK_ISCSI socket with that port id in /proc/net/netlink. */
static bool creator_alive(const struct kctx *k, int creator)
{
	char line[256];
	bool alive = false;
	/* -1: created by the kernel itself (sysfs prints the port id as
	 * an int, so autobound ids above INT_MAX show negative) */
	if (creator == -1)
		return false;
	FILE *f = fopen(k->proc_netlink, "re");
	if (!f)
		return false;
	while (!alive && fgets(line, sizeof(line), f)) {
		unsigned long long sk;
		unsigned proto;
		unsigned long pid;
		if (sscanf(line, "%llx %u %lu", &sk, &proto, &pid) == 3 && proto == NETLINK_ISCSI &&
		    (uint32_t)pid == (uint32_t)creator)
			alive = true;
	}
	fclose(f);
	return alive;
}

/* STOP_CONN TERM where a connection was ever bound, DESTROY_CONN,
 * DESTROY_SESSION: the kernel removes the SCSI host with the session. */
static bool destroy_leftover(struct kctx *k, uint32_t sid, const uint32_t *cids, size_t ncid, const char *why)
{
	int r;
	log_warnx("session %" PRIu32 ": %s: destroying it", sid, why);
	for (size_t i = 0; i < ncid; i++) {
		struct sysfs_conn c;
		if (sysfs_conn_read(k->sysfs, sid, cids[i], &c) == 0 && strcmp(c.state, "down") != 0) {
			r = nl_stop_conn(k->nl, sid, cids[i], ISCSI_STOP_CONN_TERM);
			if (r < 0)
				log_warnx("session %" PRIu32 ": STOP_CONN: %s", sid, nl_strerror(r));
		}
		r = nl_destroy_conn(k->nl, sid, cids[i]);
		if (r < 0)
			log_warnx("session %" PRIu32 ": DESTROY_CONN %" PRIu32 ": %s", sid, cids[i], nl_strerror(r));
	}
	r = nl_destroy_session(k->nl, sid);
	if (r < 0) {
		log_warnx("session %" PRIu32 ": DESTROY_SESSION: %s", sid, nl_strerror(r));
		return false;
	}
	return true;
}

/* Did the session ever reach the full feature phase? LOGGED_IN and FAILED
 * only follow a START_CONN; FREE is both "never logged in" and "recovery
 * timed out", told apart by what a login leaves: a scanned target or
 * LUNs. (A session logged in with node.session.scan = manual whose
 * recovery timed out while a re-login was under way looks like a fresh
 * one and is destroyed too.) */
static bool was_logged_in(const struct kctx *k, const struct sysfs_session *s)
{
	struct sysfs_lun *luns = NULL;
	size_t n = 0;
	if (s->state == SYSFS_SESSION_LOGGED_IN || s->state == SYSFS_SESSION_FAILED)
		return true;
	if (!strcmp(s->target_state, "SCANNED"))
		return true;
	if (sysfs_session_luns(k->sysfs, s->sid, &luns, &n) == 0)
		free(luns);
	return n > 0;
}

enum adopt_outcome { ADOPT_SKIPPED, ADOPT_ADOPTED, ADOPT_DESTROYED };

static enum adopt_outcome adopt_one(struct kctx *k, uint32_t sid)
{
	struct sysfs_session s;
	struct sysfs_conn c;
	struct sysfs_host h;
	struct node_rec rec;
	uint32_t *cids = NULL;
	size_t ncid = 0;
	bool have_conn = false;
	enum adopt_outcome out = ADOPT_SKIPPED;

	if (kctx_find(k, sid) || sysfs_session_read(k->sysfs, sid, &s) < 0)
		return ADOPT_SKIPPED;
	if (s.host_no == SYSFS_UNSET || sysfs_host_read(k->sysfs, (uint32_t)s.host_no, &h) < 0 ||
	    strcmp(h.proc_name, "iscsi_tcp") != 0)
		return ADOPT_SKIPPED;              /* offload HBAs and iSER are not ours */
	if (sysfs_conn_list(k->sysfs, sid, &cids, &ncid) == 0 && ncid > 0)
		have_conn = sysfs_conn_read(k->sysfs, sid, cids[0], &c) == 0;
	bool up = was_logged_in(k, &s);
	if (!up && creator_alive(k, s.creator)) {
		log_info("session %" PRIu32 ": still being logged in by netlink port %d; left alone", sid, s.creator);
		goto done;
	}
	const char *addr = have_conn ? (c.persistent_address[0] ? c.persistent_address : c.address) : "";
	int port = have_conn ? (c.persistent_address[0] ? c.persistent_port : c.port) : 0;
	char why[200];
	if (!up)
		snprintf(why, sizeof(why), "left half-made by a login that never finished (%s, %s)", s.state_str,
			 !have_conn ? "no connection" : c.state[0] ? c.state : "connection state unknown");
	else if (!strcmp(s.target_state, "UNBOUND") || !strcmp(s.target_state, "UNBINDING"))
		snprintf(why, sizeof(why), "its SCSI target is gone (%s): the old daemon was logging it out",
			 s.target_state);
	else if (!have_conn || !addr[0] || port <= 0)
		snprintf(why, sizeof(why), "%s with no %s in sysfs: it cannot be recovered", s.state_str,
			 have_conn ? "portal address" : "connection");
	else
		why[0] = '\0';
	if (why[0]) {
		if (destroy_leftover(k, sid, cids, ncid, why))
			out = ADOPT_DESTROYED;
		goto done;
	}

	bool from_db = find_record(k, &s, addr, port, &rec);
	if (!from_db && record_from_sysfs(k, &s, addr, port, &rec) < 0)
		goto done;
	/* The initiator name it logged in with, as the kernel keeps it: a
	 * re-login in recovery must present the name the target's ACL let in,
	 * though the record or iscsid's name may have changed since (they
	 * count from the next login). Without it in sysfs: the record's iface
	 * name, then iscsid's. The alias goes with iscsid's own name only, as
	 * at a fresh login. */
	const char *iname = "", *alias = "";
	if (s.initiatorname[0] && strnlen(s.initiatorname, REC_NAME_SIZE) < REC_NAME_SIZE)
		iname = s.initiatorname;
	else if (rec.iface.iname[0])
		iname = rec.iface.iname;
	else if (k->d && k->d->have_iname)
		iname = k->d->iname.name;
	if (k->d && k->d->have_iname && !strcmp(iname, k->d->iname.name))
		alias = k->d->iname.alias;
	struct ksession *ks = ks_new(k, &rec, iname, alias);
	if (!ks) {
		explicit_bzero(&rec.session.auth, sizeof(rec.session.auth));
		goto done;
	}
	/* into the layer's table, as the logged-in session it was */
	struct session_survivor sv = {
		.rec = &rec, .sid = sid, .host_no = (uint32_t)s.host_no, .state = SESSION_LOGGED_IN,
		.conn = SESSION_CONN_LOGGED_IN,
	};
	int r = session_adopt(k->carrier, &sv, &ks->sess);
	explicit_bzero(&rec.session.auth, sizeof(rec.session.auth));
	if (r < 0) {
		log_warnx("session %" PRIu32 ": cannot adopt it: %s; left as it is", sid, strerror(-r));
		ks->sess = NULL;
		ks_free(ks);
		goto done;
	}
	ks->sid = sid;
	ks->cid = cids[0];
	ks->host_no = (uint32_t)s.host_no;
	ks->have_session = ks->have_conn = true;
	ks->bound = ks->started = true;
	ks->ever_logged_in = true;
	ks->adopted = true;
	ks->tsih = 0;                              /* not in sysfs: reinstate */
	ks->state = KS_LOGGED_IN;
	out = ADOPT_ADOPTED;

	char what[700];
	log_info("adopted %s (%s, node record %s)", ks_what(ks, what, sizeof(what)), s.state_str,
		 from_db ? "found" : "not found: using sysfs values");
	/* A session that failed while no daemon listened never had its
	 * CONN_ERROR seen: recover it now. */
	bool conn_ok = !c.state[0] || !strcmp(c.state, "up");
	bool never_scanned = !strcmp(s.target_state, "ALLOCATED") && ks->p.scan == REC_SCAN_AUTO;
	if (s.state != SYSFS_SESSION_LOGGED_IN || !conn_ok) {
		log_info("%s: %s, connection %s: recovering%s", what, s.state_str, c.state[0] ? c.state : "?",
			 never_scanned ? "; its LUNs were never scanned: scanning once it is back" : "");
		/* its connection failed after START_CONN, before the scan */
		ks->scan_pending = never_scanned;
		(void)kctx_post(k, sid, KE_DROP);
	} else if (never_scanned) {
		/* killed between START_CONN and the scan: nobody has
		 * asked the kernel for the LUNs yet */
		log_info("%s: its LUNs were never scanned: scanning", what);
		if (kscan_start(ks, KSCAN_EVENT, false, NULL) < 0)
			log_warnx("%s: cannot start a scan", what);
	}
done:
	free(cids);
	return out;
}

size_t kadopt_all(struct kctx *k)
{
	uint32_t *sids = NULL;
	size_t n = 0, adopted = 0, destroyed = 0;
	if (sysfs_session_list(k->sysfs, &sids, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		switch (adopt_one(k, sids[i])) {
		case ADOPT_ADOPTED:
			adopted++;
			break;
		case ADOPT_DESTROYED:
			destroyed++;
			break;
		case ADOPT_SKIPPED:
			break;
		}
	free(sids);
	if (destroyed)
		log_info("destroyed %zu kernel session%s a dead daemon left unfinished", destroyed,
			 destroyed == 1 ? "" : "s");
	return adopted;
}

void kadopt_resync(struct kctx *k)
{
	/* events were lost: compare what we track with what sysfs says */
	for (struct ksession *ks = k->sessions; ks; ks = ks->next) {
		if (!ks->sid || ks->state == KS_DEAD)
			continue;
		if (!sysfs_session_exists(k->sysfs, ks->sid)) {
			ks->have_session = ks->have_conn = ks->bound = ks->started = false;
			(void)kctx_post(k, ks->sid, KE_HOST_GONE);
			continue;
		}
		struct sysfs_session s;
		if (ks->state == KS_LOGGED_IN && sysfs_session_read(k->sysfs, ks->sid, &s) == 0 &&
		    s.state == SYSFS_SESSION_FAILED)
			(void)kctx_post(k, ks->sid, KE_DROP);
	}
}
