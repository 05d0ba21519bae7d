/* -m session: list (flat, -P 1..3), one session (-r), logout (-u),
 * rescan (-R), statistics (-s). Sessions come from sysfs; logouts and
 * rescans go through iscsid. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm.h"
#include "ctl.h"
#include "errors.h"
#include "json.h"
#include "node_login.h"
#include "node_recs.h"
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
			printf("version %s\n", PACKAGE_VERSION);
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

/* Statistics come from the kernel (GET_STATS) through iscsid. */
static int stats(struct adm *a, const struct sess_view *v, size_t n)
{
	char what[600];
	int first = 0;
	for (size_t i = 0; i < n; i++) {
		node_session_what(&v[i], what, sizeof(what));
		int r = ctl_print_stats(a, v[i].s.sid, what);
		if (r && !first)
			first = r;
	}
	return first;
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
		adm_err("No active sessions.");
		sessions_free(v, n);
		return ISCSI_ERR_NO_OBJS_FOUND;
	}
	if (a->logout)
		r = node_logout_sessions(a, v, n);
	else if (a->rescan)
		r = rescan(a, v, n, sid == 0);
	else if (a->stats)
		r = stats(a, v, n);
	else
		r = print_list(a, v, n, level);
	sessions_free(v, n);
	return r;
}
