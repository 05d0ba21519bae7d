/* -m node: the node records (list, -o new|delete|update|show) and the
 * session operations on them (login, logout, -L, -U, -R, -s), which live
 * in node_login.c; the record helpers other modes share are in
 * node_recs.c. */
#include <errno.h>
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

static int no_records(struct adm *a, const char *what)
{
	if (a->json && what)
		printf("{\n  \"%s\": []\n}\n", what);
	adm_err("No records found");
	return ISCSI_ERR_NO_OBJS_FOUND;
}

static int list_nodes(struct adm *a, const struct node_list *l)
{
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "nodes");
		json_array_begin(&j);
		for (size_t i = 0; i < l->n; i++)
			json_node(&j, &l->v[i].rec);
		json_array_end(&j);
		json_object_end(&j);
		return json_end(&j) ? ISCSI_ERR : 0;
	}
	if (a->print_level >= 1) {
		const struct node_rec **p = node_ptrs(l);
		if (!p)
			return ISCSI_ERR_NOMEM;
		print_node_tree(stdout, p, l->n, PRINT_TREE_NODE);
		free(p);
		return 0;
	}
	for (size_t i = 0; i < l->n; i++)
		print_node_flat(stdout, &l->v[i].rec);
	return 0;
}

/* "[tcp:[hw=,ip=,net_if=,iscsi_if=default] 192.0.2.1,3260,1 iqn...]" */
static void new_node_what(const struct node_rec *r, char *buf, size_t len)
{
	snprintf(buf, len, "[%s:[hw=%s,ip=%s,net_if=%s,iscsi_if=%s] %s,%d,%d %s]", r->iface.transport_name,
		 r->iface.hwaddress, r->iface.ipaddress, r->iface.netdev, r->iface.name, r->conn.address,
		 r->conn.port, r->tpgt, r->name);
}

static int new_node(struct adm *a, struct nodedb *db)
{
	struct iface_rec ir;
	struct node_rec rec;
	char err[256], what[800];
	int r;

	if (!a->target || !a->portal_arg) {
		adm_err("-o new needs a target name (-T) and a portal (-p)");
		return ISCSI_ERR_INVAL;
	}
	r = adm_config(a);
	if (r)
		return r;
	r = node_load_iface(a, db, adm_iface_name(a), &ir);
	if (r)
		return r;
	if (node_rec_from_template(&a->config.node, a->target, a->portal.host, a->portal.port, a->portal.tpgt, &ir,
				   &rec, err, sizeof(err))) {
		adm_err("Error while adding record: %s", err);
		return ISCSI_ERR_INVAL;
	}
	rec.disc_type = REC_DISC_STATIC;

	/* One node per target, portal and iface: a record of this node with
	 * any tpgt is this node. A discovery wrote "192.0.2.1,3260,1"; a
	 * client that then runs "-o new -p 192.0.2.1:3260" (csi-lib-iscsi)
	 * or "-p 192.0.2.1:3260,1" for a target whose tag is 2 (libvirt)
	 * must not get a second record, or its --login would log in twice.
	 * open-iscsi adds the second record (and resets an existing one of
	 * the same tag to defaults); this keeps the one there is, settings
	 * included. The lock spans the check and the write. */
	struct node_filter f;
	struct node_list l = { 0 };
	node_filter_init(&f);
	f.target = rec.name;
	f.address = rec.conn.address;
	f.port = rec.conn.port;
	f.iface = rec.iface.name;
	r = nodedb_lock(db);
	if (r) {
		adm_err("could not lock the node database: %s", strerror(-r));
		return nodedb_exit_code(r);
	}
	r = node_find(a, db, &f, &l);
	if (r == 0 && l.n == 0)
		r = nodedb_node_save(db, &rec, NODEDB_SAVE_EXCL);
	else if (r == 0)
		r = -EEXIST;
	nodedb_unlock(db);
	if (r == -EEXIST) {
		/* Replacing it would reset the user's settings to defaults;
		 * keep it (re-running a setup script stays harmless). */
		for (size_t i = 0; i < (l.n ? l.n : 1); i++) {
			new_node_what(l.n ? &l.v[i].rec : &rec, what, sizeof(what));
			adm_info(a, "iSCSI node %s already exists; left unchanged (use -o update to change it)",
				 what);
		}
		node_list_free(&l);
		return 0;
	}
	node_list_free(&l);
	if (r > 0)
		return r;       /* node_find() said why */
	if (r) {
		adm_err("Error while adding record: %s", strerror(-r));
		return nodedb_exit_code(r);
	}
	new_node_what(&rec, what, sizeof(what));
	adm_info(a, "New iSCSI node %s added", what);
	return 0;
}

/* A record a session uses is not deleted: open-iscsi's words, exit 15. */
static bool in_use(const struct sess_view *sv, size_t nsv, const struct node_rec *rec, const char *what, int *first)
{
	if (!sessions_match_rec(sv, nsv, rec))
		return false;
	adm_err("This command will remove the record %s, but a session is using it. Logout session then rerun command to remove record.",
		what);
	if (!*first)
		*first = ISCSI_ERR_SESS_EXISTS;
	return true;
}

/* l: the records to delete; bad: files of the records selected that
 * cannot be read (nodedb_node_find_corrupt()), deleted too, as
 * open-iscsi deletes a record by its path without reading it. */
static int delete_nodes(struct adm *a, struct nodedb *db, const struct node_list *l, const struct node_list *bad)
{
	struct sess_view *sv = NULL;
	size_t nsv = 0;
	int first = 0;

	int r = sessions_load(a, 0, false, &sv, &nsv);
	if (r)
		return r;
	for (size_t i = 0; i < bad->n; i++) {
		const struct node_rec *rec = &bad->v[i].rec;
		char what[700];
		ctl_node_what(rec, what, sizeof(what));
		if (in_use(sv, nsv, rec, what, &first))
			continue;
		r = nodedb_node_delete_corrupt(db, &bad->v[i]);
		if (r == 0)
			adm_err("Deleted corrupt record %s (%s/%s)", what, a->paths.db_root, bad->v[i].path);
		else if (r != -ENOENT && r != -EEXIST) {
			adm_err("Could not delete corrupt record %s: %s", what, strerror(-r));
			if (!first)
				first = nodedb_exit_code(r);
		}
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct node_rec *rec = &l->v[i].rec;
		char what[700];
		ctl_node_what(rec, what, sizeof(what));
		if (in_use(sv, nsv, rec, what, &first))
			continue;
		r = nodedb_node_delete(db, rec);
		if (r && r != -ENOENT) {
			adm_err("Could not delete record %s: %s", what, strerror(-r));
			if (!first)
				first = nodedb_exit_code(r);
		}
	}
	sessions_free(sv, nsv);
	return first;
}

static int update_nodes(struct adm *a, struct nodedb *db, const struct node_filter *f, const struct node_list *l)
{
	struct rec_kv kv[ADM_MAX_PARAMS];
	struct rec_diags d;
	char err[256] = "";
	size_t count = 0;
	bool iface_key = false;

	if (a->n_params == 0) {
		adm_err("update requires name and value");
		return ISCSI_ERR_INVAL;
	}
	for (size_t i = 0; i < a->n_params; i++) {
		kv[i] = (struct rec_kv){ a->params[i].name, a->params[i].value };
		if (!strncmp(a->params[i].name, "iface.", 6))
			iface_key = true;
	}
	/* The binding of a record a session runs on cannot change under it
	 * (open-iscsi refuses iface.transport_name the same way). */
	if (iface_key) {
		struct sess_view *sv = NULL;
		size_t nsv = 0;
		int r = sessions_load(a, 0, false, &sv, &nsv);
		if (r)
			return r;
		for (size_t i = 0; i < l->n; i++)
			if (sessions_match_rec(sv, nsv, &l->v[i].rec)) {
				char what[700];
				ctl_node_what(&l->v[i].rec, what, sizeof(what));
				adm_err("Cannot change the iface of %s while a session uses it. Logout session then rerun command.",
					what);
				sessions_free(sv, nsv);
				return ISCSI_ERR_SESS_EXISTS;
			}
		sessions_free(sv, nsv);
	}
	rec_diags_init(&d);
	int r = nodedb_node_update(db, f, kv, a->n_params, &count, err, sizeof(err), &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r) {
		adm_err("Could not update the node records: %s", err[0] ? err : strerror(-r));
		/* records matched: ENOENT names an unknown key */
		return r == -ENOENT ? ISCSI_ERR_INVAL : nodedb_exit_code(r);
	}
	if (count == 0)
		return no_records(a, NULL);
	return 0;
}

int cmd_node(struct adm *a)
{
	struct nodedb *db = NULL;
	struct node_filter f;
	struct node_list l = { 0 }, bad = { 0 };
	unsigned op = a->ops;
	int r;

	if (a->print_level > 1) {
		adm_err("Invalid info level %d. Try 0 or 1.", a->print_level);
		return ISCSI_ERR_INVAL;
	}
	if ((op & (op - 1)) || (op & ~(ADM_OP_NEW | ADM_OP_DELETE | ADM_OP_UPDATE | ADM_OP_SHOW))) {
		adm_err("operation is not supported.");
		return ISCSI_ERR_INVAL;
	}
	if (a->loginall && a->logoutall) {
		adm_err("-L and -U cannot be used together");
		return ISCSI_ERR_INVAL;
	}
	if (a->n_ifaces > 1)
		adm_err("node mode only uses one -I; using %s", a->ifaces[0]);
	r = nodedb_open(&a->paths, &db);
	if (r) {
		adm_err("cannot open the node database: %s", strerror(-r));
		return nodedb_exit_code(r);
	}
	node_filter_from_args(a, &f);

	/* open-iscsi's order: "-o new" adds the record and nothing else
	 * (a -l/-u/-R/-s beside it is not acted on); another operation
	 * beside -l or -u is an error, not one of the two silently dropped */
	if (op == ADM_OP_NEW && !a->loginall && !a->logoutall) {
		r = new_node(a, db);
		nodedb_free(db);
		return r;
	}
	if (op && (a->login || a->logout)) {
		adm_err("Invalid parameters. Login/logout and op passed in");
		nodedb_free(db);
		return ISCSI_ERR_INVAL;
	}
	if (a->loginall || a->logoutall || a->login || a->logout || a->rescan || a->stats) {
		r = node_session_ops(a, db, &f);
		nodedb_free(db);
		return r;
	}

	r = node_find(a, db, &f, &l);
	if (r)
		goto out;
	bool filtered = a->target || a->portal_arg || a->n_ifaces;
	/* A record selected by -T/-p/-I whose file cannot be read (its
	 * error was printed above) is deleted by its path. */
	if (op == ADM_OP_DELETE && filtered) {
		r = nodedb_node_find_corrupt(db, &f, &bad, NULL);
		if (r) {
			adm_err("could not read the node records: %s", strerror(-r));
			r = nodedb_exit_code(r);
			goto out;
		}
	}
	if (l.n == 0 && bad.n == 0) {
		r = no_records(a, op == ADM_OP_DELETE || op == ADM_OP_UPDATE ? NULL
				  : op == 0 && !filtered ? "nodes" : "records");
		goto out;
	}
	switch (op) {
	case ADM_OP_DELETE:
		r = delete_nodes(a, db, &l, &bad);
		break;
	case ADM_OP_UPDATE:
		r = update_nodes(a, db, &f, &l);
		break;
	case ADM_OP_SHOW:
		r = node_show_records(a, &l);
		break;
	default:
		/* open-iscsi: no operation lists everything, or shows the
		 * records a -T/-p/-I selects (a tree with -P 1). */
		r = filtered && a->print_level < 1 ? node_show_records(a, &l) : list_nodes(a, &l);
		break;
	}
out:
	node_list_free(&l);
	node_list_free(&bad);
	nodedb_free(db);
	return r;
}
