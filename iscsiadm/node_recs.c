/* Node record helpers shared by the modes (see node_recs.h). */
#include "node_recs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "json.h"
#include "print.h"

void node_filter_from_args(const struct adm *a, struct node_filter *f)
{
	node_filter_init(f);
	f->target = a->target;
	if (a->portal_arg) {
		f->address = a->portal.host;
		f->port = a->portal.port;
		if (a->portal.tpgt >= 0)
			f->tpgt = a->portal.tpgt;
	}
	if (a->n_ifaces)
		f->iface = a->ifaces[0];
}

int node_find(struct adm *a, struct nodedb *db, const struct node_filter *f, struct node_list *ret)
{
	struct rec_diags d;

	rec_diags_init(&d);
	int r = nodedb_node_find(db, f, ret, &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r) {
		adm_err("could not read the node records: %s", strerror(-r));
		return nodedb_exit_code(r);
	}
	return 0;
}

const struct node_rec **node_ptrs(const struct node_list *l)
{
	const struct node_rec **p = calloc(l->n ? l->n : 1, sizeof(*p));

	if (p)
		for (size_t i = 0; i < l->n; i++)
			p[i] = &l->v[i].rec;
	return p;
}

int node_load_iface(struct adm *a, struct nodedb *db, const char *name, struct iface_rec *ret)
{
	struct rec_diags d;

	rec_diags_init(&d);
	int r = nodedb_iface_load(db, name, ret, &d);
	adm_print_diags(a, &d);
	rec_diags_free(&d);
	if (r == -ENOENT) {
		adm_err("iface %s not found: create it with -m iface -I %s -o new", name, name);
		return ISCSI_ERR_NO_OBJS_FOUND;
	}
	if (r) {
		adm_err("could not read iface %s: %s", name, strerror(-r));
		return nodedb_exit_code(r);
	}
	return 0;
}

int node_show_records(const struct adm *a, const struct node_list *l)
{
	unsigned fl = a->show_secrets ? REC_FMT_SECRETS : REC_FMT_SHOW;

	if (a->json) {
		struct json j;
		json_init(&j, stdout);
		json_object_begin(&j);
		json_key(&j, "records");
		json_array_begin(&j);
		for (size_t i = 0; i < l->n; i++)
			json_record(&j, REC_KIND_NODE, &l->v[i].rec, a->show_secrets);
		json_array_end(&j);
		json_object_end(&j);
		return json_end(&j) ? ISCSI_ERR : 0;
	}
	for (size_t i = 0; i < l->n; i++)
		if (rec_fprint(REC_KIND_NODE, &l->v[i].rec, fl, stdout))
			return ISCSI_ERR;
	return 0;
}
