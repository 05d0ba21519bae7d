/* Taking over the kernel's sessions when iscsid starts (after a crash, a
 * SIGKILL, an upgrade): sessions outlive the daemon, and without a daemon
 * nobody would recover them or log them out.
 *
 * sysfs says what exists (class/iscsi_session: targetname, tpgt,
 * ifacename, state; the connection's persistent address and port); the
 * node database says how to log in again (credentials included); when no
 * record matches, the session's own CHAP values in sysfs and the
 * iscsid.conf defaults stand in. The kernel's `creator` is the netlink
 * port of the dead daemon: events are multicast, so ours arrive anyway. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "iscsid.h"
#include "ksession.h"
#include "log.h"
#include "nodedb.h"
#include "sysfs.h"

/* "address:port", brackets around IPv6, as handlers.c names portals. */
static void format_portal(const char *addr, int port, char *buf, size_t len)
{
	if (strchr(addr, ':'))
		snprintf(buf, len, "[%s]:%d", addr, port);
	else
		snprintf(buf, len, "%s:%d", addr, port);
}

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
		for (size_t i = 0; i < l.n && !found; i++)
			if (s->tpgt == SYSFS_UNSET || l.v[i].rec.tpgt < 0 || l.v[i].rec.tpgt == s->tpgt) {
				*ret = l.v[i].rec;
				found = true;
			}
		for (size_t i = 0; i < l.n; i++)
			explicit_bzero(&l.v[i].rec.session.auth, sizeof(l.v[i].rec.session.auth));
	}
	node_list_free(&l);
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
	if (node_rec_from_template(&tmpl, s->targetname, addr, port, s->tpgt == SYSFS_UNSET ? -1 : s->tpgt, NULL,
				   &rec, err, sizeof(err)) < 0) {
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

static bool adopt_one(struct kctx *k, uint32_t sid)
{
	struct sysfs_session s;
	struct sysfs_conn c;
	struct sysfs_host h;
	struct node_rec rec;
	uint32_t *cids = NULL;
	size_t ncid = 0;
	bool have_conn = false;

	if (kctx_find(k, sid) || sysfs_session_read(k->sysfs, sid, &s) < 0)
		return false;
	if (s.host_no == SYSFS_UNSET || sysfs_host_read(k->sysfs, (uint32_t)s.host_no, &h) < 0 ||
	    strcmp(h.proc_name, "iscsi_tcp") != 0)
		return false;                      /* offload HBAs and iSER are not ours */
	if (sysfs_conn_list(k->sysfs, sid, &cids, &ncid) == 0 && ncid > 0)
		have_conn = sysfs_conn_read(k->sysfs, sid, cids[0], &c) == 0;
	if (!have_conn) {
		free(cids);
		log_warnx("session %" PRIu32 ": no connection in sysfs; not adopted", sid);
		return false;
	}
	const char *addr = c.persistent_address[0] ? c.persistent_address : c.address;
	int port = c.persistent_address[0] ? c.persistent_port : c.port;
	if (!addr[0] || port <= 0) {
		free(cids);
		log_warnx("session %" PRIu32 ": no portal address in sysfs; not adopted", sid);
		return false;
	}
	bool from_db = find_record(k, &s, addr, port, &rec);
	if (!from_db && record_from_sysfs(k, &s, addr, port, &rec) < 0) {
		free(cids);
		return false;
	}
	struct ksession *ks = ks_new(k, &rec);
	explicit_bzero(&rec.session.auth, sizeof(rec.session.auth));
	if (!ks) {
		free(cids);
		return false;
	}
	ks->sid = sid;
	ks->cid = cids[0];
	ks->host_no = (uint32_t)s.host_no;
	free(cids);
	ks->have_session = ks->have_conn = true;
	ks->bound = ks->started = true;
	ks->ever_logged_in = true;
	ks->adopted = true;
	ks->tsih = 0;                              /* not in sysfs: reinstate */
	if (rec.iface.iname[0])
		snprintf(ks->iname, sizeof(ks->iname), "%s", rec.iface.iname);
	else if (s.initiatorname[0])
		(void)ks_strcpy(ks->iname, sizeof(ks->iname), s.initiatorname);
	else if (k->d && k->d->have_iname)
		snprintf(ks->iname, sizeof(ks->iname), "%s", k->d->iname.name);
	if (k->d)
		snprintf(ks->ialias, sizeof(ks->ialias), "%s", k->d->iname.alias);
	ks->state = KS_LOGGED_IN;

	if (k->d) {
		struct session t;
		memset(&t, 0, sizeof(t));
		t.sid = sid;
		t.host_no = ks->host_no;
		(void)ks_strcpy(t.target, sizeof(t.target), s.targetname);
		format_portal(ks->rec.conn.address, ks->rec.conn.port, t.portal, sizeof(t.portal));
		snprintf(t.iface, sizeof(t.iface), "%s", ks->rec.iface.name[0] ? ks->rec.iface.name : "default");
		t.state = "LOGGED_IN";
		t.conn_state = "LOGGED IN";
		int r = session_add(&k->d->sessions, &t);
		if (r < 0 && r != -EEXIST)
			log_warnx("cannot track session %" PRIu32 ": %s", sid, strerror(-r));
	}
	char what[700];
	log_info("adopted %s (%s, node record %s)", ks_what(ks, what, sizeof(what)), s.state_str,
		 from_db ? "found" : "not found: using sysfs values");
	/* A session that failed while no daemon listened never had its
	 * CONN_ERROR seen: recover it now. */
	bool conn_ok = !c.state[0] || !strcmp(c.state, "up");
	if (!strcmp(s.target_state, "UNBOUND") || !strcmp(s.target_state, "UNBINDING")) {
		/* the old daemon was logging it out: finish that */
		log_info("%s: its SCSI target is gone (%s): ending the session", what, s.target_state);
		(void)kctx_post(k, sid, KE_HOST_GONE);
	} else if (s.state != SYSFS_SESSION_LOGGED_IN || !conn_ok) {
		log_info("%s: %s, connection %s: recovering", what, s.state_str, c.state[0] ? c.state : "?");
		(void)kctx_post(k, sid, KE_DROP);
	}
	return true;
}

size_t kadopt_all(struct kctx *k)
{
	uint32_t *sids = NULL;
	size_t n = 0, adopted = 0;
	if (sysfs_session_list(k->sysfs, &sids, &n) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (adopt_one(k, sids[i]))
			adopted++;
	free(sids);
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
