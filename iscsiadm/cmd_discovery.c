/* -m discovery and -m discoverydb: SendTargets and iSNS discovery (run
 * here, see discover.c and isns_disc.c) and the discovery records.
 *
 * Deviation from open-iscsi (issue #286): re-running a discovery keeps
 * the settings of node records that exist already; only -o update
 * rewrites them from iscsid.conf. New portals are added, portals this
 * source no longer reports are deleted unless a session uses them. */
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adm.h"
#include "bind.h"
#include "ctl.h"
#include "discover.h"
#include "isns_disc.h"
#include "errors.h"
#include "json.h"
#include "node_login.h"
#include "node_recs.h"
#include "nodedb.h"
#include "print.h"
#include "sessions.h"

#define DISC_MAX_IFACES ADM_MAX_IFACES

struct disc_ctx {
	struct adm *a;
	struct nodedb *db;
	struct discovery_rec drec;
	struct iface_rec ifaces[DISC_MAX_IFACES];
	size_t n_ifaces;
	struct sess_view *sv;
	size_t nsv;
	bool in_use_failed;
};

/* Whether -p named a port: "h:p", "[v6]:p" (a bare IPv6 address has
 * colons but no port), with or without ",tpgt" (portal_parse()'s forms). */
static bool portal_has_port(const char *arg)
{
	const char *comma = strrchr(arg, ',');
	size_t n = comma ? (size_t)(comma - arg) : strlen(arg);
	const char *colon = memchr(arg, ':', n);

	if (arg[0] == '[') {
		const char *close = memchr(arg, ']', n);
		return close && (size_t)(close - arg) + 1 < n && close[1] == ':';
	}
	return colon && !memchr(colon + 1, ':', n - (size_t)(colon - arg) - 1);
}

static int disc_type_arg(struct adm *a, enum rec_disc_type *ret)
{
	const char *t = a->disc_type;

	if (!t || !strcmp(t, "st") || !strcmp(t, "sendtargets")) {
		*ret = REC_DISC_SENDTARGETS;
		return 0;
	}
	if (!strcmp(t, "isns")) {
		*ret = REC_DISC_ISNS;
		/* an iSNS server listens on 3205 (RFC 4171 §5.2) unless -p
		 * names another port */
		if (a->portal_arg && !portal_has_port(a->portal_arg))
			a->portal.port = ISNS_DEFAULT_PORT;
		return 0;
	}
	adm_err("unknown discovery type '%s': use sendtargets (st), isns or fw", t);
	return ISCSI_ERR_UNKNOWN_DISCOVERY_TYPE;
}

static bool in_use_cb(const struct node_rec *rec, void *userdata)
{
	struct disc_ctx *c = userdata;
	char what[700];

	if (!sessions_match_rec(c->sv, c->nsv, rec))
		return false;
	snprintf(what, sizeof(what), "[iface: %s, target: %s, portal: %s,%d]", rec->iface.name, rec->name,
		 rec->conn.address, rec->conn.port);
	adm_err("This command will remove the record %s, but a session is using it. Logout session then rerun command to remove record.",
		what);
	c->in_use_failed = true;
	return true;
}

static int load_ifaces(struct disc_ctx *c)
{
	struct adm *a = c->a;

	for (size_t i = 0; i < a->n_ifaces && i < DISC_MAX_IFACES; i++) {
		int r = node_load_iface(a, c->db, a->ifaces[i], &c->ifaces[c->n_ifaces]);
		if (r)
			return r;
		c->n_ifaces++;
	}
	if (c->n_ifaces == 0) {
		iface_rec_builtin("default", &c->ifaces[0]);
		c->n_ifaces = 1;
	}
	return 0;
}

/* One discovery through one iface. */
struct disc_pass {
	struct st_result res;
	int status;                /* exit code of discover_sendtargets() */
};

/* The node records the passes stand for, one per target portal and iface
 * whose discovery reported it: iface by iface in -I order (as open-iscsi
 * lists them), each in the order its target listed them (pointers into
 * the passes and c). */
static struct node_id *result_nodes(struct disc_ctx *c, const struct disc_pass *pass, size_t *ret_n)
{
	size_t total = 0, k = 0;

	for (size_t f = 0; f < c->n_ifaces; f++)
		for (size_t i = 0; !pass[f].status && i < pass[f].res.n; i++)
			total += pass[f].res.targets[i].n_portals;
	struct node_id *v = calloc(total ? total : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t f = 0; f < c->n_ifaces; f++)
		for (size_t i = 0; !pass[f].status && i < pass[f].res.n; i++) {
			const struct st_target *t = &pass[f].res.targets[i];
			for (size_t p = 0; p < t->n_portals; p++)
				v[k++] = (struct node_id){ t->name, t->portals[p].host, t->portals[p].port,
							   t->portals[p].tpgt, c->ifaces[f].name };
		}
	*ret_n = k;
	return v;
}

static void print_result(struct disc_ctx *c, const struct node_id *v, size_t n)
{
	struct adm *a = c->a;

	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "discovery");
		json_disc(&j, &c->drec);
		json_key(&j, "nodes");
		json_array_begin(&j);
		for (size_t i = 0; i < n; i++)
			json_node_id(&j, &v[i]);
		json_array_end(&j);
		json_object_end(&j);
		json_end(&j);
	} else if (a->print_level >= 1) {
		print_node_id_tree(stdout, v, n, PRINT_TREE_DISC);
	} else {
		print_node_ids_flat(stdout, v, n);
	}
}

/* --login after a discovery: the stored records (their settings, CHAP
 * ...), or without a database (nonpersistent) the result completed from
 * iscsid.conf. */
static int login_result(struct disc_ctx *c, const struct node_id *v, size_t n)
{
	struct adm *a = c->a;
	const struct node_rec **p = calloc(n, sizeof(*p));
	struct node_rec *full = calloc(n, sizeof(*full));
	int r = p && full ? adm_config(a) : ISCSI_ERR_NOMEM;

	for (size_t i = 0; !r && i < n; i++) {
		const struct iface_rec *ir = &c->ifaces[0];
		char err[256];
		for (size_t f = 0; f < c->n_ifaces; f++)
			if (!strcmp(c->ifaces[f].name, v[i].iface))
				ir = &c->ifaces[f];
		if ((a->ops & ADM_OP_NONPERSISTENT) ||
		    nodedb_node_load(c->db, v[i].target, v[i].address, v[i].port, v[i].tpgt, v[i].iface, &full[i],
				     NULL))
			node_rec_from_template(&a->config.node, v[i].target, v[i].address, v[i].port, v[i].tpgt, ir,
					       &full[i], err, sizeof(err));
		p[i] = &full[i];
	}
	if (!r)
		r = node_login_recs(a, c->db, p, n);
	if (full)
		explicit_bzero(full, n * sizeof(*full));
	free(full);
	free(p);
	return r;
}

/* A failure of one iface's discovery that leaves the others worth
 * trying: the path is down (open-iscsi goes on the same way). */
static bool disc_error_transient(int r)
{
	return r == ISCSI_ERR_TRANS || r == ISCSI_ERR_TRANS_TIMEOUT;
}

/* One discovery (SendTargets or iSNS) through iface ir, as that iface's
 * initiator. */
static int discover_through(struct disc_ctx *c, const struct iface_rec *ir, struct st_result *res)
{
	struct adm *a = c->a;
	char msg[DISCOVER_MSG_MAX];
	struct portal where = { .port = (uint16_t)c->drec.port, .tpgt = -1, .family = AF_UNSPEC };
	const struct netio_binder binder = { bind_iface_hook, (void *)a->sysfs_root };
	const char *kind = c->drec.type == REC_DISC_ISNS ? "iSNS" : "SendTargets";
	int r;

	snprintf(where.host, sizeof(where.host), "%s", c->drec.address);
	if (a->portal_arg)
		where.family = a->portal.family;
	if (c->drec.type == REC_DISC_ISNS) {
		struct isns_disc_opts io = {
			.server = &where,
			.iface = ir,
			.binder = &binder,
			.initiator_name = ir->iname[0] ? ir->iname : a->iname.name,
			.debug = a->debug,
		};
		r = discover_isns(&io, res, msg, sizeof(msg));
		goto done;
	}
	struct discover_opts o = {
		.portal = &where,
		.iface = ir,
		.initiator_name = ir->iname[0] ? ir->iname : a->iname.name,
		.initiator_alias = a->iname.alias,
		.auth = &c->drec.auth,
		.login_timeout = c->drec.login_timeout > 0 ? (unsigned)c->drec.login_timeout : 15,
		.active_timeout = c->drec.active_timeout > 0 ? (unsigned)c->drec.active_timeout : 30,
		.max_recv_dlength = c->drec.max_recv_dlength >= 512 ? (uint32_t)c->drec.max_recv_dlength : 32768,
		.debug = a->debug,
		.binder = &binder,
	};
	r = discover_sendtargets(&o, res, msg, sizeof(msg));
done:
	if (r == 0 && res->n_skipped) {
		/* The other targets are recorded, as open-iscsi does; these
		 * are named so a target that lists none of them is noticed. */
		char w[PORTAL_HOST_MAX + 16];
		portal_format(&where, w, sizeof(w));
		for (size_t i = 0; i < res->n_skipped && i < ST_SKIP_NOTES; i++)
			adm_err("warning: %s discovery at %s: skipping invalid entry: %s", kind, w, res->skipped[i]);
		if (res->n_skipped > ST_SKIP_NOTES)
			adm_err("warning: %s discovery at %s: skipping %zu more invalid entries", kind, w,
				res->n_skipped - ST_SKIP_NOTES);
	}
	if (r) {
		adm_err("%s", msg);
		if (c->n_ifaces > 1)
			adm_err("Could not perform %s discovery through iface %s: %s", kind, ir->name,
				iscsi_err_str(r));
		else
			adm_err("Could not perform %s discovery: %s", kind, iscsi_err_str(r));
	}
	return r;
}

/* Fold what pass found into the DB for its iface alone: the records of
 * an iface whose discovery failed are left as they are. */
static int store_pass(struct disc_ctx *c, const struct iface_rec *ir, const struct st_result *res, unsigned flags)
{
	struct adm *a = c->a;
	struct disc_target *found;
	size_t nf;

	if (disc_targets_from_result(res, &found, &nf) < 0)
		return ISCSI_ERR_NOMEM;
	/* An answer with entries left out does not say which targets are
	 * gone: a target listed only with addresses we could not use is
	 * absent from found, and its records (CHAP, startup) must not go
	 * with it. Nothing is deleted this time. */
	if (res->n_skipped && (flags & NODEDB_MERGE_DELETE)) {
		flags &= ~NODEDB_MERGE_DELETE;
		adm_err("warning: iface %s: records of targets this answer did not list are kept, as some of its "
			"entries were invalid", ir->name);
	}
	struct nodedb_merge_result mr;
	struct rec_diags d;
	int r = 0;
	rec_diags_init(&d);
	int e = nodedb_disc_merge(c->db, &c->drec, &a->config.node, ir, 1, found, nf, flags, in_use_cb, c, &mr, &d);
	if (e) {
		adm_err("could not store the discovered nodes: %s", strerror(-e));
		r = nodedb_exit_code(e);
	} else {
		adm_dbg(a, 1, "iface %s: nodes: %zu added, %zu kept, %zu updated, %zu deleted, %zu in use", ir->name,
			mr.added, mr.kept, mr.updated, mr.deleted, mr.busy);
	}
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	free(found);
	return r;
}

/* Discovery with c->drec (address, port, auth, timeouts) and the -o ops:
 * one discovery session through each iface (-I, several allowed; none:
 * the default iface), each binding its connection and logging in with
 * its initiator name, and records bound to each iface for the portals
 * its discovery reported. An iface whose path is down (4, 8) is passed
 * over while another one works; any other failure ends the command
 * before anything is written. */
static int run_discovery(struct disc_ctx *c)
{
	struct adm *a = c->a;
	unsigned ops = a->ops;
	int r, first_err = 0;
	size_t n_ok = 0;

	if (ops & ~(ADM_OP_NEW | ADM_OP_DELETE | ADM_OP_UPDATE | ADM_OP_NONPERSISTENT)) {
		adm_err("operation is not supported with discovery; use new, delete, update or nonpersistent");
		return ISCSI_ERR_INVAL;
	}
	if (a->print_level > 1) {
		adm_err("Invalid info level %d. Try 0 or 1.", a->print_level);
		return ISCSI_ERR_INVAL;
	}
	r = adm_iname(a);
	if (r)
		return r;
	r = load_ifaces(c);
	if (r)
		return r;
	struct disc_pass *pass = calloc(c->n_ifaces, sizeof(*pass));
	if (!pass)
		return ISCSI_ERR_NOMEM;
	for (size_t f = 0; f < c->n_ifaces; f++)
		st_result_init(&pass[f].res);
	for (size_t f = 0; f < c->n_ifaces; f++) {
		pass[f].status = discover_through(c, &c->ifaces[f], &pass[f].res);
		if (!pass[f].status) {
			n_ok++;
			continue;
		}
		if (!first_err)
			first_err = pass[f].status;
		if (!disc_error_transient(pass[f].status)) {
			r = pass[f].status;
			goto out;
		}
	}
	if (n_ok == 0) {
		r = first_err;
		goto out;
	}

	size_t n = 0;
	struct node_id *v = result_nodes(c, pass, &n);
	if (!v) {
		r = ISCSI_ERR_NOMEM;
		goto out;
	}
	if (!(ops & ADM_OP_NONPERSISTENT)) {
		unsigned flags = 0;
		if (ops & ADM_OP_NEW)
			flags |= NODEDB_MERGE_NEW;
		if (ops & ADM_OP_DELETE)
			flags |= NODEDB_MERGE_DELETE;
		if (ops & ADM_OP_UPDATE)
			flags |= NODEDB_MERGE_UPDATE;
		if (!flags)
			flags = NODEDB_MERGE_NEW | NODEDB_MERGE_DELETE;   /* never UPDATE: see top */
		if (flags & NODEDB_MERGE_DELETE)
			r = sessions_load(a, 0, false, &c->sv, &c->nsv);
		if (!r)
			r = adm_config(a);
		for (size_t f = 0; !r && f < c->n_ifaces; f++)
			if (!pass[f].status)
				r = store_pass(c, &c->ifaces[f], &pass[f].res, flags);
		if (r) {
			free(v);
			goto out;
		}
	}

	if (n == 0 && !a->json) {
		adm_err("No portals found");
		r = ISCSI_ERR_NO_OBJS_FOUND;
	} else {
		print_result(c, v, n);
		if (n == 0)
			r = ISCSI_ERR_NO_OBJS_FOUND;
	}
	if (r == 0 && c->in_use_failed)
		r = ISCSI_ERR_SESS_EXISTS;
	fflush(stdout);

	if (a->login && n) {
		int e = login_result(c, v, n);
		if (e && !r)
			r = e;
	}
	free(v);
out:
	for (size_t f = 0; f < c->n_ifaces; f++)
		st_result_free(&pass[f].res);
	free(pass);
	return r;
}

static int disc_print_tree(struct adm *a, struct nodedb *db, const struct disc_list *l);

static int list_disc(struct adm *a, struct nodedb *db)
{
	struct disc_list l = { 0 };
	struct rec_diags d;

	rec_diags_init(&d);
	int r = nodedb_disc_list(db, &l, &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r) {
		adm_err("could not list discovery records: %s", strerror(-r));
		return nodedb_exit_code(r);
	}
	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "discovery");
		json_array_begin(&j);
		for (size_t i = 0; i < l.n; i++)
			json_disc(&j, &l.v[i]);
		json_array_end(&j);
		json_object_end(&j);
		r = json_end(&j) ? ISCSI_ERR : 0;
	} else if (a->print_level >= 1) {
		r = disc_print_tree(a, db, &l);
	} else {
		for (size_t i = 0; i < l.n; i++)
			print_disc_flat(stdout, &l.v[i]);
	}
	if (l.n == 0 && !a->json && a->print_level < 1) {
		adm_err("No discovery records found");
		r = ISCSI_ERR_NO_OBJS_FOUND;
	}
	disc_list_free(&l);
	return r;
}

/* The node tree of the records a filter selects, or "No targets found.". */
static void print_source_nodes(struct adm *a, struct nodedb *db, const struct node_filter *f)
{
	struct node_list nl = { 0 };

	if (node_find(a, db, f, &nl) == 0 && nl.n) {
		const struct node_rec **p = node_ptrs(&nl);
		if (p)
			print_node_tree(stdout, p, nl.n, PRINT_TREE_DISC);
		free(p);
	} else {
		printf("No targets found.\n");
	}
	node_list_free(&nl);
}

/* The records of one discovery type, each followed by the nodes it
 * found (open-iscsi prints sendtargets and iSNS sources alike). */
static void print_disc_section(struct adm *a, struct nodedb *db, const struct disc_list *l,
			       enum rec_disc_type type)
{
	struct node_filter f;
	bool any = false;

	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].type != type)
			continue;
		any = true;
		printf("DiscoveryAddress: %s,%d\n", l->v[i].address, l->v[i].port);
		node_filter_init(&f);
		f.disc_type = type;
		f.disc_address = l->v[i].address;
		f.disc_port = l->v[i].port;
		struct node_list nl = { 0 };
		if (node_find(a, db, &f, &nl) == 0 && nl.n) {
			const struct node_rec **p = node_ptrs(&nl);
			if (p)
				print_node_tree(stdout, p, nl.n, PRINT_TREE_DISC);
			free(p);
		}
		node_list_free(&nl);
	}
	if (!any)
		printf("No targets found.\n");
}

static int disc_print_tree(struct adm *a, struct nodedb *db, const struct disc_list *l)
{
	struct node_filter f;

	printf("SENDTARGETS:\n");
	print_disc_section(a, db, l, REC_DISC_SENDTARGETS);
	printf("iSNS:\n");
	print_disc_section(a, db, l, REC_DISC_ISNS);
	printf("STATIC:\n");
	node_filter_init(&f);
	f.disc_type = REC_DISC_STATIC;
	print_source_nodes(a, db, &f);
	printf("FIRMWARE:\n");
	node_filter_init(&f);
	f.disc_type = REC_DISC_FW;
	print_source_nodes(a, db, &f);
	return 0;
}

static int load_disc(struct adm *a, struct nodedb *db, enum rec_disc_type type, struct discovery_rec *ret)
{
	struct rec_diags d;

	rec_diags_init(&d);
	int r = nodedb_disc_load(db, type, a->portal.host, a->portal.port, ret, &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r == -ENOENT) {
		/* open-iscsi's codes, which clients test: os-brick creates the
		 * record for discovery CHAP only when "-o update" exits 6. */
		if (a->mode == ADM_MODE_DISCOVERYDB) {
			adm_err("Discovery record [%s,%d] not found.", a->portal.host, a->portal.port);
			return ISCSI_ERR_IDBM;
		}
		adm_err("Discovery record [%s,%d] not found!", a->portal.host, a->portal.port);
		return ISCSI_ERR_INVAL;
	}
	if (r) {
		adm_err("could not read discovery record [%s,%d]: %s", a->portal.host, a->portal.port,
			strerror(-r));
		return nodedb_exit_code(r);
	}
	return 0;
}

static int show_disc(struct adm *a, struct nodedb *db, enum rec_disc_type type)
{
	struct discovery_rec drec;
	int r = load_disc(a, db, type, &drec);

	if (r)
		return r;
	r = adm_show_record(a, REC_KIND_DISCOVERY, &drec, a->show_secrets ? REC_FMT_SECRETS : REC_FMT_SHOW);
	explicit_bzero(&drec, sizeof(drec));
	return r;
}

/* Deletes the record and the node records it discovered. A node record a
 * session uses is kept (and named on stderr): open-iscsi deletes it too,
 * leaving a running session without its record (no startup setting, no
 * CHAP for a relogin, nothing for "-m session -r" to print); refusing
 * the whole delete (15) instead broke clients that delete the discovery
 * record after every discovery (oVirt vdsm) or after a failed one
 * (csi-lib-iscsi) while other volumes of that portal are logged in. The
 * discovery record itself goes: that is what was asked for. */
static int delete_disc(struct adm *a, struct nodedb *db, enum rec_disc_type type)
{
	struct discovery_rec drec;
	struct node_filter f;
	struct node_list nl = { 0 };
	struct sess_view *sv = NULL;
	size_t nsv = 0;
	int r = load_disc(a, db, type, &drec);

	if (r)
		return r;
	explicit_bzero(&drec, sizeof(drec));
	node_filter_init(&f);
	f.disc_type = type;
	f.disc_address = a->portal.host;
	f.disc_port = a->portal.port;
	if (nodedb_lock(db))
		return ISCSI_ERR_IDBM;
	r = node_find(a, db, &f, &nl);
	if (!r)
		r = sessions_load(a, 0, false, &sv, &nsv);
	for (size_t i = 0; !r && i < nl.n; i++) {
		const struct node_rec *rec = &nl.v[i].rec;
		char what[700];
		ctl_node_what(rec, what, sizeof(what));
		if (sessions_match_rec(sv, nsv, rec)) {
			adm_err("Kept the node record %s: a session is using it. Logout session, then remove it with -m node -o delete.",
				what);
			continue;
		}
		int e = nodedb_node_delete(db, rec);
		if (e && e != -ENOENT) {
			adm_err("Could not delete the node record %s: %s", what, strerror(-e));
			r = nodedb_exit_code(e);
		}
	}
	if (!r) {
		int e = nodedb_disc_delete(db, type, a->portal.host, a->portal.port);
		if (e) {
			adm_err("could not delete discovery record [%s,%d]: %s", a->portal.host, a->portal.port,
				strerror(-e));
			r = nodedb_exit_code(e);
		}
	}
	nodedb_unlock(db);
	node_list_free(&nl);
	sessions_free(sv, nsv);
	return r;
}

static int disc_from_config(struct adm *a, enum rec_disc_type type, struct discovery_rec *ret)
{
	int r = adm_config(a);

	if (r)
		return r;
	*ret = type == REC_DISC_ISNS ? a->config.isns : a->config.sendtargets;
	ret->type = type;
	snprintf(ret->address, sizeof(ret->address), "%s", a->portal.host);
	ret->port = a->portal.port;
	return 0;
}

static int open_db(struct adm *a, struct nodedb **ret)
{
	int r = nodedb_open(&a->paths, ret);

	if (r) {
		adm_err("cannot open the node database: %s", strerror(-r));
		return nodedb_exit_code(r);
	}
	return 0;
}

static int discover_with(struct adm *a, struct nodedb *db, const struct discovery_rec *drec)
{
	struct disc_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return ISCSI_ERR_NOMEM;
	c->a = a;
	c->db = db;
	c->drec = *drec;
	int r = run_discovery(c);
	sessions_free(c->sv, c->nsv);
	/* drec holds the discovery CHAP secrets. Only the iface slots in
	 * use (and the one a failed load_ifaces() may have half written)
	 * were ever written: wiping all DISC_MAX_IFACES (400 KiB) would
	 * only fault in pages calloc() never touched. */
	size_t used = c->n_ifaces < DISC_MAX_IFACES ? c->n_ifaces + 1 : DISC_MAX_IFACES;
	explicit_bzero(&c->drec, sizeof(c->drec));
	explicit_bzero(c->ifaces, used * sizeof(c->ifaces[0]));
	free(c);
	return r;
}

int cmd_discovery(struct adm *a)
{
	struct nodedb *db = NULL;
	struct discovery_rec drec;
	enum rec_disc_type type;
	int r;

	if (a->discover) {
		adm_err("-D is for discoverydb mode: iscsiadm -m discoverydb -t st -p %s -D",
			a->portal_arg ? a->portal_arg : "<portal>");
		return ISCSI_ERR_INVAL;
	}
	if (a->disc_type && !strcmp(a->disc_type, "fw"))
		return cmd_fw_discovery(a);
	r = open_db(a, &db);
	if (r)
		return r;
	if (!a->disc_type && !a->portal_arg) {
		r = list_disc(a, db);
	} else if (!a->portal_arg) {
		adm_err("Please specify portal as <ipaddr>[:<ipport>]");
		r = ISCSI_ERR_INVAL;
	} else if (!a->disc_type) {
		/* -p alone: the record of that portal */
		if (a->ops & (ADM_OP_NEW | ADM_OP_UPDATE)) {
			adm_err("discovery mode cannot create or change records: use -m discoverydb -t st -p %s -o %s",
				a->portal_arg, (a->ops & ADM_OP_NEW) ? "new" : "update");
			r = ISCSI_ERR_INVAL;
		} else if (a->ops & ADM_OP_DELETE) {
			r = delete_disc(a, db, REC_DISC_SENDTARGETS);
		} else {
			r = show_disc(a, db, REC_DISC_SENDTARGETS);
		}
	} else if ((r = disc_type_arg(a, &type)) == 0) {
		/* open-iscsi's discovery mode takes its settings (CHAP,
		 * timeouts) from iscsid.conf every time and stores them. */
		r = disc_from_config(a, type, &drec);
		if (!r && !(a->ops & ADM_OP_NONPERSISTENT)) {
			int e = nodedb_disc_save(db, &drec);
			if (e) {
				adm_err("could not store the discovery record: %s", strerror(-e));
				r = nodedb_exit_code(e);
			}
		}
		if (!r)
			r = discover_with(a, db, &drec);
		explicit_bzero(&drec, sizeof(drec));
	}
	nodedb_free(db);
	return r;
}

static int disc_update(struct adm *a, struct nodedb *db, enum rec_disc_type type)
{
	struct rec_kv kv[ADM_MAX_PARAMS];
	struct rec_diags d;
	char err[256] = "";

	if (a->n_params == 0) {
		adm_err("update requires name and value");
		return ISCSI_ERR_INVAL;
	}
	struct discovery_rec drec;
	int r = load_disc(a, db, type, &drec);
	explicit_bzero(&drec, sizeof(drec));
	if (r)
		return r;
	for (size_t i = 0; i < a->n_params; i++)
		kv[i] = (struct rec_kv){ a->params[i].name, a->params[i].value };
	rec_diags_init(&d);
	r = nodedb_disc_update(db, type, a->portal.host, a->portal.port, kv, a->n_params, err, sizeof(err), &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r) {
		/* the record exists: ENOENT here is an unknown key */
		if (r == -ENOENT) {
			adm_err("Could not update the discovery record: %s", err[0] ? err : "unknown key");
			return ISCSI_ERR_INVAL;
		}
		adm_err("Could not update the discovery record: %s", err[0] ? err : strerror(-r));
		return nodedb_exit_code(r);
	}
	return 0;
}

int cmd_discoverydb(struct adm *a)
{
	struct nodedb *db = NULL;
	struct discovery_rec drec;
	enum rec_disc_type type;
	unsigned op = a->ops;
	int r;

	if (a->disc_type && !strcmp(a->disc_type, "fw"))
		return cmd_fw_discovery(a);
	r = open_db(a, &db);
	if (r)
		return r;
	if (!a->portal_arg) {
		if (a->disc_type || a->discover || (op & ~ADM_OP_SHOW)) {
			adm_err("Please specify portal as <ipaddr>[:<ipport>]");
			r = ISCSI_ERR_INVAL;
		} else {
			r = list_disc(a, db);
		}
		nodedb_free(db);
		return r;
	}
	r = disc_type_arg(a, &type);
	if (r) {
		nodedb_free(db);
		return r;
	}
	if (a->discover) {
		/* Discovery with the stored record, made from iscsid.conf
		 * when there is none yet. */
		r = nodedb_disc_load(db, type, a->portal.host, a->portal.port, &drec, NULL);
		if (r == -ENOENT) {
			r = disc_from_config(a, type, &drec);
			if (!r && !(op & ADM_OP_NONPERSISTENT)) {
				int e = nodedb_disc_save(db, &drec);
				if (e) {
					adm_err("could not store the discovery record: %s", strerror(-e));
					r = nodedb_exit_code(e);
				}
			}
		} else if (r) {
			adm_err("could not read discovery record [%s,%d]: %s", a->portal.host, a->portal.port,
				strerror(-r));
			r = nodedb_exit_code(r);
		}
		if (!r)
			r = discover_with(a, db, &drec);
		explicit_bzero(&drec, sizeof(drec));
	} else if (op == ADM_OP_NEW) {
		if (nodedb_disc_load(db, type, a->portal.host, a->portal.port, &drec, NULL) == 0) {
			adm_info(a, "Discovery record [%s,%d] already exists; left unchanged.", a->portal.host,
				 a->portal.port);
		} else if ((r = disc_from_config(a, type, &drec)) == 0) {
			int e = nodedb_disc_save(db, &drec);
			if (e) {
				adm_err("could not store the discovery record: %s", strerror(-e));
				r = nodedb_exit_code(e);
			} else {
				adm_info(a, "New discovery record for [%s,%d] added.", a->portal.host, a->portal.port);
			}
		}
		explicit_bzero(&drec, sizeof(drec));
	} else if (op == ADM_OP_UPDATE) {
		r = disc_update(a, db, type);
	} else if (op == ADM_OP_DELETE) {
		r = delete_disc(a, db, type);
	} else if (op == 0 || op == ADM_OP_SHOW) {
		r = show_disc(a, db, type);
	} else {
		adm_err("operation is not supported.");
		r = ISCSI_ERR_INVAL;
	}
	nodedb_free(db);
	return r;
}
