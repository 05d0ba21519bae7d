/* -m session: list (flat, -P 1..3), one session (-r: its node record,
 * or its tree with -P 1..3), logout (-u), rescan (-R), statistics (-s).
 * Sessions come from sysfs; logouts and rescans go through iscsid. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm.h"
#include "ctl.h"
#include "errors.h"
#include "json.h"
#include "node_login.h"
#include "node_recs.h"
#include "nodedb.h"
#include "print.h"
#include "sessions.h"

static int print_list(struct adm *a, struct sess_view *v, size_t n, int level)
{
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "sessions");
		json_array_begin(&j);
		for (size_t i = 0; i < n; i++)
			json_session(&j, &v[i], level, a->show_secrets);
		json_array_end(&j);
		json_object_end(&j);
		return json_end(&j) ? ISCSI_ERR : 0;
	}
	if (level <= 0) {
		for (size_t i = 0; i < n; i++)
			print_session_flat(stdout, &v[i]);
		return 0;
	}
	if (level >= 3) {
		char ver[64];
		if (sysfs_read_attr(a->sysfs_root, "module/scsi_transport_iscsi/version", ver, sizeof(ver)) == 0) {
			printf("iSCSI Transport Class version %s\n", ver);
			printf("version %s\n", ADM_VERSION_STRING);
		}
	}
	print_sessions_order(v, n);
	print_sessions_tree(stdout, v, n, level, "", a->show_secrets);
	return 0;
}

static int rescan(struct adm *a, struct sess_view *v, size_t n, bool all)
{
	char what[600], msg[IPC_MESSAGE_MAX + 1];

	for (size_t i = 0; i < n; i++) {
		node_session_what(&v[i], what, sizeof(what));
		adm_info(a, "Rescanning session %s", what);
	}
	fflush(stdout);
	int r = all ? ctl_rescan(a, NULL, msg, sizeof(msg)) : ctl_rescan(a, &v[0].s.sid, msg, sizeof(msg));
	if (r) {
		adm_err("Could not rescan: %s", msg[0] ? msg : iscsi_err_str(r));
		return r;
	}
	return 0;
}

/* Statistics come from the kernel (GET_STATS) through iscsid. --json:
 * {"sessions": [...]} with iscsid's figures beside the counters; a
 * session whose figures cannot be had is left out (and the exit code
 * says so). */
static int stats(struct adm *a, const struct sess_view *v, size_t n)
{
	char what[600];
	int first = 0;
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "sessions");
		json_array_begin(&j);
		for (size_t i = 0; i < n; i++) {
			node_session_what(&v[i], what, sizeof(what));
			int r = ctl_json_stats(a, &j, &v[i], what);
			if (r && !first)
				first = r;
		}
		json_array_end(&j);
		json_object_end(&j);
		if (json_end(&j) && !first)
			first = ISCSI_ERR;
		return first;
	}
	for (size_t i = 0; i < n; i++) {
		node_session_what(&v[i], what, sizeof(what));
		int r = ctl_print_stats(a, v[i].s.sid, what);
		if (r && !first)
			first = r;
	}
	return first;
}

/* -r SID without -P (or with -P 0): open-iscsi prints the node record(s)
 * the session was made from, "# BEGIN RECORD" ... (iscsiadm.c hands the
 * session's target, persistent portal and iface to the node printer);
 * none in the database: "No records found", 21. */
static int print_session_record(struct adm *a, const struct sess_view *v)
{
	struct nodedb *db = NULL;
	struct node_filter f;
	struct node_list l = { 0 };

	int r = nodedb_open(&a->paths, &db);
	if (r) {
		adm_err("cannot open the node database: %s", strerror(-r));
		return nodedb_exit_code(r);
	}
	node_filter_init(&f);
	f.target = v->s.targetname;
	if (v->have_conn) {
		bool pers = v->c.persistent_address[0] != '\0';
		f.address = pers ? v->c.persistent_address : v->c.address;
		f.port = pers ? v->c.persistent_port : v->c.port;
	}
	f.iface = v->s.ifacename[0] ? v->s.ifacename : "default";
	r = node_find(a, db, &f, &l);
	if (r == 0 && l.n == 0) {
		if (a->json)
			printf("{\n  \"records\": []\n}\n");
		adm_err("No records found");
		r = ISCSI_ERR_NO_OBJS_FOUND;
	} else if (r == 0) {
		r = node_show_records(a, &l);
	}
	node_list_free(&l);
	nodedb_free(db);
	return r;
}

int cmd_session(struct adm *a)
{
	struct sess_view *v = NULL;
	size_t n = 0;
	int level = a->print_level, r;
	uint32_t sid = 0;

	if (level > 3) {
		adm_err("Invalid info level %d. Try 0 - 3.", level);
		return ISCSI_ERR_INVAL;
	}
	if (a->ops & ~(ADM_OP_SHOW)) {
		adm_err("session mode: operation not supported; change the node record with -m node -o update");
		return ISCSI_ERR_OP_NOT_SUPP;
	}
	if (a->n_params) {
		adm_err("session mode: -n/-v need -m node -o update");
		return ISCSI_ERR_INVAL;
	}
	if (a->sid_arg && sessions_parse_sid(a->sid_arg, &sid)) {
		adm_err("%s is an invalid session ID or path", a->sid_arg);
		return ISCSI_ERR_INVAL;
	}
	int load_level = level < 0 ? 0 : level;
	if (a->logout || a->rescan || a->stats)
		load_level = 0;
	/* The one-line listing, which os-brick, csi-lib-iscsi and others
	 * run all the time: 4 files per session instead of 45. */
	else if (level < 0 && !a->json && !sid)
		load_level = SESS_LOAD_FLAT;
	/* -P 1 prints no timeouts, negotiated parameters or CHAP */
	else if (level == 1 && !a->json)
		a->lean_tree = true;

	if (sid) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return ISCSI_ERR_NOMEM;
		r = sessions_load_one(a, sid, load_level, a->show_secrets, v);
		if (r) {
			free(v);
			if (r == ISCSI_ERR_SESS_NOT_FOUND) {
				adm_err("Could not get session info for sid %" PRIu32 ": no such session", sid);
				return ISCSI_ERR_SYSFS_LOOKUP;
			}
			return r;
		}
		n = 1;
	} else {
		r = sessions_load(a, load_level, a->show_secrets, &v, &n);
		if (r)
			return r;
	}

	if (n == 0) {
		if (a->json && !a->logout && !a->rescan && !a->stats)
			print_list(a, v, 0, level);
		/* open-iscsi's words for each: a listing, a logout (through
		 * its logout of matching portals), a rescan or stats */
		adm_err("%s", a->logout		       ? "No matching sessions found"
			      : a->rescan || a->stats ? "No session found."
						      : "No active sessions.");
		sessions_free(v, n);
		return ISCSI_ERR_NO_OBJS_FOUND;
	}
	if (a->logout)
		r = node_logout_sessions(a, v, n);
	else if (a->rescan)
		r = rescan(a, v, n, sid == 0);
	else if (a->stats)
		r = stats(a, v, n);
	else if (sid && level <= 0)
		r = print_session_record(a, &v[0]);
	else
		r = print_list(a, v, n, level);
	sessions_free(v, n);
	return r;
}
