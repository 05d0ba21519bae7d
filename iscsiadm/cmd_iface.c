/* -m iface: the iface records that bind sessions and discovery to a
 * network interface (iface.net_ifacename), a MAC address
 * (iface.hwaddress) or a local IP address (iface.ipaddress). "default"
 * (tcp) and "iser" are built in. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm.h"
#include "errors.h"
#include "json.h"
#include "nodedb.h"
#include "print.h"
#include "sessions.h"

/* The node records bound to iface name. */
static int bound_nodes(struct adm *a, struct nodedb *db, const char *name, struct node_list *ret)
{
	struct node_filter f;
	struct rec_diags d;

	node_filter_init(&f);
	f.iface = name;
	rec_diags_init(&d);
	int r = nodedb_node_find(db, &f, ret, &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	return r;
}

/* Every iface (only: that one), flat or with -P 1 the tree of the node
 * records bound to each. */
static int list_ifaces(struct adm *a, struct nodedb *db, const struct iface_rec *only)
{
	struct iface_list l = { 0 };
	struct rec_diags d;
	struct json j;
	int r;

	if (only) {
		l.v = malloc(sizeof(*l.v));
		r = l.v ? 0 : -ENOMEM;
		if (l.v) {
			l.v[0] = *only;
			l.n = l.cap = 1;
		}
	} else {
		rec_diags_init(&d);
		r = nodedb_iface_list(db, &l, &d);
		adm_print_diags(a, &d);
		rec_diags_free(&d);
	}
	if (r) {
		adm_err("could not list iface records: %s", strerror(-r));
		return nodedb_exit_code(r);
	}
	if (a->json) {
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "ifaces");
		json_array_begin(&j);
	}
	for (size_t i = 0; i < l.n; i++) {
		struct iface_rec *ir = &l.v[i];
		struct node_list nl = { 0 };
		if (a->print_level >= 1)
			bound_nodes(a, db, ir->name, &nl);
		if (a->json) {
			/* json_iface() closes its object: write the fields here
			 * to add the bound nodes at -P 1. */
			json_object_begin(&j);
			json_kv_str(&j, "name", ir->name);
			json_kv_str_or_null(&j, "transport", ir->transport_name);
			json_kv_str_or_null(&j, "hwaddress", ir->hwaddress);
			json_kv_str_or_null(&j, "ipaddress", ir->ipaddress);
			json_kv_str_or_null(&j, "netdev", ir->netdev);
			json_kv_str_or_null(&j, "initiatorname", ir->iname);
			if (a->print_level >= 1) {
				json_key(&j, "nodes");
				json_array_begin(&j);
				for (size_t k = 0; k < nl.n; k++)
					json_node(&j, &nl.v[k].rec);
				json_array_end(&j);
			}
			json_object_end(&j);
		} else if (a->print_level >= 1) {
			printf("Iface: %s\n", ir->name);
			const struct node_rec **recs = calloc(nl.n ? nl.n : 1, sizeof(*recs));
			if (recs) {
				for (size_t k = 0; k < nl.n; k++)
					recs[k] = &nl.v[k].rec;
				print_node_tree(stdout, recs, nl.n, PRINT_TREE_IFACE);
				free(recs);
			}
		} else {
			print_iface_flat(stdout, ir);
		}
		node_list_free(&nl);
	}
	r = 0;
	if (a->json) {
		json_array_end(&j);
		json_object_end(&j);
		r = json_end(&j) ? ISCSI_ERR : 0;
	}
	iface_list_free(&l);
	return r;
}

/* missing: the exit code when there is no such iface. open-iscsi's, which
 * scripts test: 6 (ISCSI_ERR_IDBM) for show, 7 for update and delete;
 * os-brick accepts only 0, 2 or 6 from `-m iface -I name` before falling
 * back to the default iface. */
static int load_iface(struct adm *a, struct nodedb *db, const char *name, int missing, struct iface_rec *ret)
{
	struct rec_diags d;

	rec_diags_init(&d);
	int r = nodedb_iface_load(db, name, ret, &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r == -ENOENT)
		adm_err("iface %s not found: there is no record %s/ifaces/%s", name, nodedb_root(db), name);
	else if (r)
		adm_err("could not read iface %s: %s", name, strerror(-r));
	return r ? (r == -ENOENT ? missing : nodedb_exit_code(r)) : 0;
}

static int show_iface(struct adm *a, struct nodedb *db, const char *name)
{
	struct iface_rec ir;
	int r = load_iface(a, db, name, ISCSI_ERR_IDBM, &ir);

	if (r)
		return r;
	if (a->print_level >= 1)
		return list_ifaces(a, db, &ir);
	return adm_show_record(a, REC_KIND_IFACE, &ir, REC_FMT_SHOW);
}

/* The -n/-v pairs as the library takes them. */
static size_t iface_params(const struct adm *a, struct rec_kv *kv)
{
	for (size_t i = 0; i < a->n_params; i++)
		kv[i] = (struct rec_kv){ a->params[i].name, a->params[i].value };
	return a->n_params;
}

/* A setting the library refused: -ENOENT names an unknown key, the rest
 * are bad values (7); anything else is the database's trouble. */
static int iface_set_error(int r)
{
	return r == -ENOENT || r == -EINVAL || r == -ERANGE || r == -EPERM || r == -ENAMETOOLONG
		       ? ISCSI_ERR_INVAL
		       : nodedb_exit_code(r);
}

/* Sessions started through iface name (their sysfs ifacename). */
static size_t sessions_through(struct adm *a, const char *name)
{
	struct sess_view *sv = NULL;
	size_t nsv = 0, k = 0;

	if (sessions_load(a, 0, false, &sv, &nsv))
		return 0;
	for (size_t i = 0; i < nsv; i++)
		if (!strcmp(sv[i].s.ifacename[0] ? sv[i].s.ifacename : "default", name))
			k++;
	sessions_free(sv, nsv);
	return k;
}

static void warn_in_use(struct adm *a, const char *name)
{
	/* open-iscsi's warning: the running sessions keep their binding */
	if (sessions_through(a, name))
		adm_err("Updating iface while iscsi sessions are using it. You must logout the running sessions then log back in for the new settings to take affect.");
}

static int new_iface(struct adm *a, struct nodedb *db, const char *name)
{
	struct rec_kv kv[ADM_MAX_PARAMS];
	struct rec_diags d;
	char err[256] = "";
	bool existed = false;

	if (iface_is_builtin(name)) {
		adm_err("Could not add interface %s: the name is taken by a built-in iface.", name);
		return ISCSI_ERR_INVAL;
	}
	/* One lock hold from the check to the write: two "-o new" at once
	 * create it once, and neither overwrites what an "-o update" set
	 * between. The -n/-v pairs are set as the record is made (open-iscsi
	 * applies them too), all of them or, on a bad one, none. */
	size_t n = iface_params(a, kv);
	if (n)
		warn_in_use(a, name);
	rec_diags_init(&d);
	int r = nodedb_iface_new(db, name, kv, n, &existed, err, sizeof(err), &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r) {
		adm_err("Could not add interface %s: %s", name, err[0] ? err : strerror(-r));
		return iface_set_error(r);
	}
	if (existed) {
		/* open-iscsi exits 0 here (after resetting the iface to
		 * defaults); scripts run "-o new" then "-o update" without
		 * checking first. Keep the user's settings, as -m node -o new
		 * does. */
		if (n)
			adm_info(a, "Interface %s already exists; %s updated.", name, name);
		else
			adm_info(a, "Interface %s already exists; left unchanged (use -o update to change it)", name);
		return 0;
	}
	adm_info(a, "New interface %s added", name);
	return 0;
}

static int update_iface(struct adm *a, struct nodedb *db, const char *name)
{
	struct rec_kv kv[ADM_MAX_PARAMS];
	struct rec_diags d;
	char err[256] = "";

	if (a->n_params == 0) {
		adm_err("update requires name and value");
		return ISCSI_ERR_INVAL;
	}
	if (iface_is_builtin(name)) {
		adm_err("Could not update iface %s: built-in ifaces cannot be changed; create one with -o new",
			name);
		return ISCSI_ERR_INVAL;
	}
	struct iface_rec ir;
	int r = load_iface(a, db, name, ISCSI_ERR_INVAL, &ir);
	if (r)
		return r;
	warn_in_use(a, name);
	size_t n = iface_params(a, kv);
	rec_diags_init(&d);
	r = nodedb_iface_update(db, name, kv, n, err, sizeof(err), &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r) {
		adm_err("Could not update iface %s: %s", name, err[0] ? err : strerror(-r));
		return iface_set_error(r);
	}
	adm_info(a, "%s updated.", name);
	return 0;
}

static int delete_iface(struct adm *a, struct nodedb *db, const char *name)
{
	struct iface_rec ir;
	struct node_list nl = { 0 };
	struct sess_view *sv = NULL;
	size_t nsv = 0;
	int r;

	if (iface_is_builtin(name)) {
		adm_err("Could not delete iface %s: built-in ifaces cannot be deleted.", name);
		return ISCSI_ERR_INVAL;
	}
	r = load_iface(a, db, name, ISCSI_ERR_INVAL, &ir);
	if (r)
		return r;
	/* Deleting an iface deletes the node records bound to it. open-iscsi
	 * refuses (15) a record a session uses after deleting the others;
	 * here nothing is deleted unless all of them can be. */
	r = nodedb_lock(db);
	if (r) {
		adm_err("could not lock the node database: %s", strerror(-r));
		return nodedb_exit_code(r);
	}
	int rc = bound_nodes(a, db, name, &nl) ? ISCSI_ERR_IDBM : 0;
	if (!rc)
		rc = sessions_load(a, 0, false, &sv, &nsv);
	for (size_t i = 0; i < nl.n && !(rc && rc != ISCSI_ERR_SESS_EXISTS); i++)
		if (sessions_match_rec(sv, nsv, &nl.v[i].rec)) {
			adm_err("This command will remove the record [iface: %s, target: %s, portal: %s,%d], but a session is using it. Logout session then rerun command to remove record.",
				name, nl.v[i].rec.name, nl.v[i].rec.conn.address, nl.v[i].rec.conn.port);
			rc = ISCSI_ERR_SESS_EXISTS;
		}
	for (size_t i = 0; !rc && i < nl.n; i++) {
		r = nodedb_node_delete(db, &nl.v[i].rec);
		if (r && r != -ENOENT) {
			adm_err("could not delete a node bound to %s: %s", name, strerror(-r));
			rc = nodedb_exit_code(r);
		}
	}
	if (!rc) {
		r = nodedb_iface_delete(db, name);
		if (r)
			rc = nodedb_exit_code(r);
	}
	nodedb_unlock(db);
	node_list_free(&nl);
	sessions_free(sv, nsv);
	if (rc) {
		adm_err("Could not delete iface %s: %s", name, iscsi_err_str(rc));
		return rc;
	}
	adm_info(a, "%s unbound and deleted.", name);
	return 0;
}

int cmd_iface(struct adm *a)
{
	struct nodedb *db = NULL;
	int r;

	if (a->submode || a->host_arg || (a->ops & (ADM_OP_APPLY | ADM_OP_APPLYALL))) {
		adm_err("iface mode: %s configures offload HBAs, which this initiator does not manage",
			a->submode ? "-C" : a->host_arg ? "-H" : "-o apply");
		return ISCSI_ERR_OP_NOT_SUPP;
	}
	if (a->print_level > 1) {
		adm_err("Invalid info level %d. Try 0 - 1.", a->print_level);
		return ISCSI_ERR_INVAL;
	}
	if (a->ops & ~(ADM_OP_NEW | ADM_OP_DELETE | ADM_OP_UPDATE | ADM_OP_SHOW)) {
		adm_err("operation is not supported.");
		return ISCSI_ERR_INVAL;
	}
	if (a->n_ifaces > 1)
		adm_err("iface mode only uses one -I; using %s", a->ifaces[0]);
	r = nodedb_open(&a->paths, &db);
	if (r) {
		adm_err("cannot open the node database: %s", strerror(-r));
		return nodedb_exit_code(r);
	}
	const char *name = a->n_ifaces ? a->ifaces[0] : NULL;
	unsigned op = a->ops;
	if ((op & (op - 1)) != 0) {
		adm_err("operation is not supported.");
		r = ISCSI_ERR_INVAL;
	} else if (!name && (op & (ADM_OP_NEW | ADM_OP_DELETE | ADM_OP_UPDATE))) {
		adm_err("Could not %s interface. No interface passed in.",
			op == ADM_OP_NEW ? "add" : op == ADM_OP_DELETE ? "delete" : "update");
		r = ISCSI_ERR_INVAL;
	} else if (!name) {
		r = list_ifaces(a, db, NULL);
	} else if (op == ADM_OP_NEW) {
		r = new_iface(a, db, name);
	} else if (op == ADM_OP_UPDATE) {
		r = update_iface(a, db, name);
	} else if (op == ADM_OP_DELETE) {
		r = delete_iface(a, db, name);
	} else {
		r = show_iface(a, db, name);
	}
	nodedb_free(db);
	return r;
}
