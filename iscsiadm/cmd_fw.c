/* -m fw, -m discovery -t fw, -m discoverydb -t fw -D: the iSCSI Boot
 * Firmware Table (kmod-glue/ibft.h) under <sysfs>/firmware/ibft.
 *
 *   -m fw            each firmware target as a `# BEGIN RECORD` block of
 *                    open-iscsi's fw keys (secrets masked unless -S)
 *   -m fw -l [-W]    log in to every firmware target with a record built
 *                    on the fly (iscsid.conf defaults, the firmware's
 *                    values, -n/-v on top, node.startup onboot); nothing
 *                    is written to the node database
 *   -m discovery -t fw [-o ...] [-I iface...] [-l]
 *                    store a record per target and iface (discovery type
 *                    fw, startup onboot: never logged out by
 *                    --logoutall), drop fw records the firmware no longer
 *                    lists, print them as discovery does
 *
 * No table, or none of its targets usable: exit 21 with open-iscsi's
 * "Could not get list of targets from firmware." */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm.h"
#include "errors.h"
#include "ibft.h"
#include "json.h"
#include "node_login.h"
#include "node_recs.h"
#include "nodedb.h"
#include "print.h"
#include "sessions.h"

static int fw_load(struct adm *a, struct ibft *t)
{
	struct rec_diags d;

	rec_diags_init(&d);
	int r = ibft_read(a->sysfs_root, t, &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r == -ENOENT || (r == 0 && t->n_targets == 0)) {
		ibft_free(t);
		if (r == -ENOENT)
			adm_dbg(a, 1, "no boot firmware table: %s/%s does not exist",
				a->sysfs_root ? a->sysfs_root : "/sys", IBFT_DIR);
		adm_err("Could not get list of targets from firmware. (err %d)", ISCSI_ERR_NO_OBJS_FOUND);
		return ISCSI_ERR_NO_OBJS_FOUND;
	}
	if (r == -EACCES || r == -EPERM) {
		adm_err("cannot read the boot firmware table %s/%s: %s (it needs root)",
			a->sysfs_root ? a->sysfs_root : "/sys", IBFT_DIR, strerror(-r));
		return ISCSI_ERR_ACCESS;
	}
	if (r < 0) {
		adm_err("cannot read the boot firmware table %s/%s: %s", a->sysfs_root ? a->sysfs_root : "/sys",
			IBFT_DIR, strerror(-r));
		return r == -ENOMEM ? ISCSI_ERR_NOMEM : ISCSI_ERR_SYSFS_LOOKUP;
	}
	return 0;
}

static int json_kv(const char *key, const char *value, void *userdata)
{
	json_kv_str(userdata, key, value);
	return 0;
}

static int fw_print(const struct adm *a, const struct ibft *t)
{
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "records");
		json_array_begin(&j);
		for (size_t i = 0; i < t->n_targets; i++) {
			json_object_begin(&j);
			ibft_target_foreach(t, i, a->show_secrets, json_kv, &j);
			json_object_end(&j);
		}
		json_array_end(&j);
		json_object_end(&j);
		return json_end(&j) ? ISCSI_ERR : 0;
	}
	for (size_t i = 0; i < t->n_targets; i++)
		if (ibft_target_fprint(t, i, a->show_secrets, stdout) < 0)
			return ISCSI_ERR;
	return 0;
}

/* -n/-v on a firmware record, as open-iscsi's fill_in_default_fw_values():
 * the firmware decides the interface; boot logins retry longer and send
 * no NOP-Outs unless told otherwise. */
static int fw_apply_params(struct adm *a, struct node_rec *rec)
{
	static const char *const fixed[] = { "iface.net_ifacename", "iface.hwaddress", "iface.transport_name" };
	char err[256];

	for (size_t i = 0; i < a->n_params; i++) {
		for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
			if (!strcmp(a->params[i].name, fixed[k])) {
				adm_err("Cannot override interface parameters for firmware logins");
				return ISCSI_ERR_INVAL;
			}
		int r = rec_set(REC_KIND_NODE, rec, a->params[i].name, a->params[i].value, REC_SET_UPDATE, err,
				sizeof(err));
		if (r) {
			adm_err("Could not merge user params: %s", err);
			return ISCSI_ERR_INVAL;
		}
	}
	if (!adm_param(a, "node.session.initial_login_retry_max"))
		rec->session.initial_login_retry_max = 30;
	if (!adm_param(a, "node.conn[0].timeo.noop_out_interval"))
		rec->conn.noop_out_interval = 0;
	if (!adm_param(a, "node.conn[0].timeo.noop_out_timeout"))
		rec->conn.noop_out_timeout = 0;
	if (!adm_param(a, "node.session.scan"))
		rec->session.scan = REC_SCAN_AUTO;
	return 0;
}

static void wipe_recs(struct node_rec *recs, size_t n)
{
	if (recs)
		explicit_bzero(recs, n * sizeof(*recs));
	free(recs);
}

static int fw_login(struct adm *a, const struct ibft *t)
{
	struct node_rec *recs = calloc(t->n_targets, sizeof(*recs));
	const struct node_rec **p = calloc(t->n_targets, sizeof(*p));
	char err[256];
	int r = recs && p ? adm_config(a) : ISCSI_ERR_NOMEM;

	for (size_t i = 0; !r && i < t->n_targets; i++) {
		if (ibft_target_rec(t, i, &a->config.node, &recs[i], err, sizeof(err)) < 0) {
			adm_err("Could not convert firmware info to node record: %s", err);
			r = ISCSI_ERR_INVAL;
			break;
		}
		r = fw_apply_params(a, &recs[i]);
		p[i] = &recs[i];
	}
	if (!r) {
		r = node_login_recs(a, NULL, p, t->n_targets);
		/* The boot targets are usually logged in already (iscsistart
		 * in the initramfs): that is no failure, as with open-iscsi. */
		if (r == ISCSI_ERR_SESS_EXISTS)
			r = 0;
	}
	free(p);
	wipe_recs(recs, t->n_targets);
	return r;
}

int cmd_fw(struct adm *a)
{
	struct ibft t;
	int r = fw_load(a, &t);

	if (r)
		return r;
	r = a->login ? fw_login(a, &t) : fw_print(a, &t);
	ibft_free(&t);
	return r;
}

/* ---- firmware discovery ---- */

struct fw_disc {
	struct adm *a;
	struct nodedb *db;
	struct node_rec *recs;          /* one per target and iface */
	size_t n;
	struct sess_view *sv;
	size_t nsv;
};

static bool listed(const struct fw_disc *c, const struct node_rec *r)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->recs[i].name, r->name) && !strcmp(c->recs[i].conn.address, r->conn.address) &&
		    c->recs[i].conn.port == r->conn.port && c->recs[i].tpgt == r->tpgt &&
		    !strcmp(c->recs[i].iface.name, r->iface.name))
			return true;
	return false;
}

/* Stores the records as the -o ops say; under the database lock. */
static int fw_store(struct fw_disc *c, unsigned ops)
{
	struct adm *a = c->a;
	struct node_filter f;
	struct node_list old = { 0 };
	struct rec_diags d;
	int r, e = 0;

	r = nodedb_lock(c->db);
	if (r) {
		adm_err("cannot lock the node database: %s", strerror(-r));
		return nodedb_exit_code(r);
	}
	node_filter_init(&f);
	f.disc_type = REC_DISC_FW;
	rec_diags_init(&d);
	r = nodedb_node_find(c->db, &f, &old, &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r) {
		adm_err("cannot read the node database: %s", strerror(-r));
		nodedb_unlock(c->db);
		return nodedb_exit_code(r);
	}
	if (ops & ADM_OP_DELETE) {
		for (size_t i = 0; i < old.n; i++) {
			const struct node_rec *o = &old.v[i].rec;
			if (listed(c, o))
				continue;
			if (sessions_match_rec(c->sv, c->nsv, o)) {
				adm_err("firmware record [iface: %s, target: %s, portal: %s,%d] is no longer in the "
					"firmware but a session uses it; kept",
					o->iface.name, o->name, o->conn.address, o->conn.port);
				continue;
			}
			int x = nodedb_node_delete(c->db, o);
			if (x && x != -ENOENT) {
				adm_err("Could not delete [%s, %s,%d]: %s", o->name, o->conn.address, o->conn.port,
					strerror(-x));
				if (!e)
					e = nodedb_exit_code(x);
			}
		}
	}
	for (size_t i = 0; i < c->n; i++) {
		const struct node_rec *n = &c->recs[i];
		bool exists = false;
		for (size_t k = 0; k < old.n && !exists; k++)
			exists = !strcmp(old.v[k].rec.name, n->name) &&
				 !strcmp(old.v[k].rec.conn.address, n->conn.address) &&
				 old.v[k].rec.conn.port == n->conn.port && old.v[k].rec.tpgt == n->tpgt &&
				 !strcmp(old.v[k].rec.iface.name, n->iface.name);
		if (!exists) {
			/* the same node found another way (sendtargets, -o new) */
			struct node_rec tmp;
			exists = nodedb_node_load(c->db, n->name, n->conn.address, n->conn.port, n->tpgt,
						  n->iface.name, &tmp, NULL) == 0;
			explicit_bzero(&tmp, sizeof(tmp));
		}
		if (exists ? !(ops & ADM_OP_UPDATE) : !(ops & ADM_OP_NEW))
			continue;
		int x = nodedb_node_save(c->db, n, 0);
		if (x) {
			adm_err("Could not add/update [tcp:[hw=,ip=,net_if=,iscsi_if=%s] %s,%d,%d %s]: %s",
				n->iface.name, n->conn.address, n->conn.port, n->tpgt, n->name, strerror(-x));
			if (!e)
				e = nodedb_exit_code(x);
		}
	}
	node_list_free(&old);   /* wipes the CHAP secrets */
	nodedb_unlock(c->db);
	return e;
}

static void fw_disc_print(const struct fw_disc *c)
{
	struct adm *a = c->a;
	const struct node_rec **p = calloc(c->n ? c->n : 1, sizeof(*p));

	if (!p)
		return;
	for (size_t i = 0; i < c->n; i++)
		p[i] = &c->recs[i];
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "nodes");
		json_array_begin(&j);
		for (size_t i = 0; i < c->n; i++)
			json_node(&j, p[i]);
		json_array_end(&j);
		json_object_end(&j);
		json_end(&j);
	} else if (a->print_level >= 1) {
		print_node_tree(stdout, p, c->n, PRINT_TREE_DISC);
	} else {
		for (size_t i = 0; i < c->n; i++)
			print_node_flat(stdout, p[i]);
	}
	free(p);
}

static int fw_build(struct fw_disc *c, const struct ibft *t)
{
	struct adm *a = c->a;
	struct iface_rec ifaces[ADM_MAX_IFACES];
	size_t ni = 0;
	char err[256];
	int r;

	for (size_t i = 0; i < a->n_ifaces; i++) {
		r = node_load_iface(a, c->db, a->ifaces[i], &ifaces[ni]);
		if (r)
			return r;
		ni++;
	}
	if (ni == 0)
		iface_rec_builtin("default", &ifaces[ni++]);
	c->recs = calloc(t->n_targets * ni, sizeof(*c->recs));
	if (!c->recs)
		return ISCSI_ERR_NOMEM;
	for (size_t i = 0; i < t->n_targets; i++) {
		struct node_rec base;
		if (ibft_target_rec(t, i, &a->config.node, &base, err, sizeof(err)) < 0) {
			adm_err("Could not convert firmware info to node record: %s", err);
			explicit_bzero(&base, sizeof(base));
			return ISCSI_ERR_INVAL;
		}
		for (size_t f = 0; f < ni; f++) {
			struct node_rec *n = &c->recs[c->n++];
			*n = base;
			/* the iface's own initiator name, if it has one, wins */
			char iname[sizeof(n->iface.iname)];
			memcpy(iname, base.iface.iname, sizeof(iname));
			n->iface = ifaces[f];
			if (!n->iface.iname[0])
				memcpy(n->iface.iname, iname, sizeof(iname));
		}
		explicit_bzero(&base, sizeof(base));
	}
	return 0;
}

int cmd_fw_discovery(struct adm *a)
{
	struct fw_disc c = { .a = a };
	struct ibft t;
	unsigned ops = a->ops;
	int r;

	if (a->mode == ADM_MODE_DISCOVERYDB && !a->discover) {
		adm_err("Invalid command. Possibly missing --discover argument.");
		return ISCSI_ERR_INVAL;
	}
	if (ops & ~(ADM_OP_NEW | ADM_OP_DELETE | ADM_OP_UPDATE | ADM_OP_NONPERSISTENT)) {
		adm_err("operation is not supported with discovery; use new, delete, update or nonpersistent");
		return ISCSI_ERR_INVAL;
	}
	if (a->print_level > 1) {
		adm_err("Invalid info level %d. Try 0 or 1.", a->print_level);
		return ISCSI_ERR_INVAL;
	}
	/* open-iscsi: no -o means every operation for firmware discovery */
	if (!ops)
		ops = ADM_OP_NEW | ADM_OP_DELETE | ADM_OP_UPDATE;
	r = fw_load(a, &t);
	if (r)
		return r;
	r = adm_config(a);
	if (!r && (r = nodedb_open(&a->paths, &c.db)) != 0) {
		adm_err("cannot open the node database: %s", strerror(-r));
		r = nodedb_exit_code(r);
	}
	if (!r)
		r = fw_build(&c, &t);
	ibft_free(&t);
	if (!r && !(ops & ADM_OP_NONPERSISTENT)) {
		/* records in use by a session are never deleted */
		if (ops & ADM_OP_DELETE)
			r = sessions_load(a, 0, false, &c.sv, &c.nsv);
		if (!r)
			r = fw_store(&c, ops);
	}
	if (!r) {
		fw_disc_print(&c);
		fflush(stdout);
		if (a->login) {
			const struct node_rec **p = calloc(c.n, sizeof(*p));
			if (!p) {
				r = ISCSI_ERR_NOMEM;
			} else {
				for (size_t i = 0; i < c.n; i++)
					p[i] = &c.recs[i];
				r = node_login_recs(a, c.db, p, c.n);
				free(p);
			}
		}
	}
	sessions_free(c.sv, c.nsv);
	wipe_recs(c.recs, c.n);
	nodedb_free(c.db);
	return r;
}
