/* Node database: iface records (ifaces/<name>) and the built-ins. */
#include "nodedb_int.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void iface_list_free(struct iface_list *l)
{
	if (!l)
		return;
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int iface_read(struct nodedb *db, const char *name, struct iface_rec *ret, struct rec_diags *diags)
{
	char path[PATH_MAX];
	char *buf;
	size_t len;
	int r;

	if ((r = ndb_path(db, path, sizeof(path), "ifaces/%s", name)) < 0)
		return r;
	r = ndb_read(path, &buf, &len);
	if (r < 0) {
		if (r != -ENOENT)
			rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "cannot read record: %s", strerror(-r));
		return r == -ENOENT ? r : -EIO;
	}
	struct iface_rec *ifr = malloc(sizeof(*ifr));
	if (!ifr) {
		free(buf);
		return -ENOMEM;
	}
	iface_rec_init(ifr, name);
	r = rec_parse(REC_KIND_IFACE, ifr, buf, len, path, diags);
	free(buf);
	if (r == 0) {
		if (strcmp(ifr->name, name) != 0)
			rec_diags_add(diags, REC_DIAG_WARNING, path, 0,
				      "iface.iscsi_ifacename differs from the file name; using the file name");
		snprintf(ifr->name, sizeof(ifr->name), "%s", name);
		*ret = *ifr;
	} else {
		rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "skipping corrupt record");
		r = -EIO;
	}
	free(ifr);
	return r;
}

int nodedb_iface_load(struct nodedb *db, const char *name, struct iface_rec *ret, struct rec_diags *diags)
{
	if (!db || !ret || !rec_iface_name_valid(name))
		return -EINVAL;
	if (iface_is_builtin(name))
		return iface_rec_builtin(name, ret);
	return iface_read(db, name, ret, diags);
}

static int iface_write(struct nodedb *db, const struct iface_rec *rec)
{
	char path[PATH_MAX];
	int r;

	if ((r = ndb_mkdirs(db, "ifaces")) < 0 || (r = ndb_path(db, path, sizeof(path), "ifaces/%s", rec->name)) < 0)
		return r;
	return ndb_write_rec(REC_KIND_IFACE, rec, path);
}

int nodedb_iface_save(struct nodedb *db, const struct iface_rec *rec)
{
	if (!db || !rec || !rec_iface_name_valid(rec->name))
		return -EINVAL;
	if (iface_is_builtin(rec->name))
		return -EPERM;
	int r = nodedb_lock(db);
	if (r < 0)
		return r;
	r = iface_write(db, rec);
	nodedb_unlock(db);
	return r;
}

/* Set the pairs on ifr (-o update rules), then check the result: all or
 * nothing, the reason in err. */
static int iface_apply(struct iface_rec *ifr, const struct rec_kv *kv, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		int r = rec_set(REC_KIND_IFACE, ifr, kv[i].key, kv[i].value, REC_SET_UPDATE, err, errlen);
		if (r < 0)
			return r;
	}
	return iface_rec_check(ifr, err, errlen);
}

/* The node's copy, without the iface file's unknown keys (extras stay
 * with ifaces/<name>, as node_rec_from_template() does). */
static int copy_iface(struct node_rec *rec, void *ud)
{
	struct iface_rec *ifr = ud;

	if (memcmp(&rec->iface, ifr, offsetof(struct iface_rec, extras)) == 0)
		return 1;
	rec->iface = *ifr;
	memset(&rec->iface.extras, 0, sizeof(rec->iface.extras));
	return 0;
}

/* Node records keep a copy of their iface (open-iscsi's format; -o show
 * prints it): bring the copies of the records bound to ifr up to date. */
static int iface_to_nodes(struct nodedb *db, const struct iface_rec *ifr, struct rec_diags *diags)
{
	struct node_filter f;

	node_filter_init(&f);
	f.iface = ifr->name;
	return nodedb_node_modify(db, &f, copy_iface, (void *)ifr, NULL, diags);
}

int nodedb_iface_update(struct nodedb *db, const char *name, const struct rec_kv *kv, size_t n, char *err,
			size_t errlen, struct rec_diags *diags)
{
	if (!db || (!kv && n) || !rec_iface_name_valid(name))
		return -EINVAL;
	if (iface_is_builtin(name))
		return -EPERM;
	struct iface_rec *ifr = malloc(sizeof(*ifr));
	if (!ifr)
		return -ENOMEM;
	int r = nodedb_lock(db);
	if (r == 0) {
		r = iface_read(db, name, ifr, diags);
		if (r == 0)
			r = iface_apply(ifr, kv, n, err, errlen);
		if (r == 0)
			r = iface_write(db, ifr);
		if (r == 0)
			r = iface_to_nodes(db, ifr, diags);
		nodedb_unlock(db);
	}
	free(ifr);
	return r;
}

int nodedb_iface_new(struct nodedb *db, const char *name, const struct rec_kv *kv, size_t n, bool *ret_existed,
		     char *err, size_t errlen, struct rec_diags *diags)
{
	bool existed = false;

	if (!db || (!kv && n) || !rec_iface_name_valid(name))
		return -EINVAL;
	if (iface_is_builtin(name))
		return -EPERM;
	struct iface_rec *ifr = malloc(sizeof(*ifr));
	if (!ifr)
		return -ENOMEM;
	int r = nodedb_lock(db);
	if (r == 0) {
		r = iface_read(db, name, ifr, diags);
		if (r == 0)
			existed = true;
		else if (r == -ENOENT) {
			iface_rec_init(ifr, name);
			r = 0;
		}
		if (r == 0 && (!existed || n)) {
			r = iface_apply(ifr, kv, n, err, errlen);
			if (r == 0)
				r = iface_write(db, ifr);
			if (r == 0 && existed)
				r = iface_to_nodes(db, ifr, diags);
		}
		nodedb_unlock(db);
	}
	free(ifr);
	if (r == 0 && ret_existed)
		*ret_existed = existed;
	return r;
}

int nodedb_iface_delete(struct nodedb *db, const char *name)
{
	char path[PATH_MAX];

	if (!db || !rec_iface_name_valid(name))
		return -EINVAL;
	if (iface_is_builtin(name))
		return -EPERM;
	int r = ndb_path(db, path, sizeof(path), "ifaces/%s", name);
	if (r < 0)
		return r;
	if ((r = nodedb_lock(db)) < 0)
		return r;
	r = unlink(path) < 0 ? -errno : 0;
	nodedb_unlock(db);
	return r;
}

static int iface_push(struct iface_list *l, const struct iface_rec *ifr)
{
	if (ndb_list_reserve(&l->v, &l->cap, l->n, sizeof(*l->v), 8) < 0)
		return -ENOMEM;
	l->v[l->n++] = *ifr;
	return 0;
}

static int cmp_iface(const void *a, const void *b)
{
	return strcmp(((const struct iface_rec *)a)->name, ((const struct iface_rec *)b)->name);
}

int nodedb_iface_list(struct nodedb *db, struct iface_list *ret, struct rec_diags *diags)
{
	struct iface_list l = { 0 };
	char path[PATH_MAX];
	int r;

	if (!db || !ret)
		return -EINVAL;
	struct iface_rec *ifr = malloc(sizeof(*ifr));
	if (!ifr)
		return -ENOMEM;
	if ((r = ndb_path(db, path, sizeof(path), "ifaces")) < 0)
		goto out;
	DIR *d = opendir(path);
	if (d) {
		struct dirent *de;
		while (r == 0 && (de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			if (!rec_iface_name_valid(de->d_name) || iface_is_builtin(de->d_name)) {
				rec_diags_add(diags, REC_DIAG_WARNING, path, 0, "ignoring file with an invalid iface name");
				continue;
			}
			int lr = iface_read(db, de->d_name, ifr, diags);
			if (lr == 0)
				r = iface_push(&l, ifr);
			else if (lr == -ENOMEM)
				r = lr;
		}
		closedir(d);
	}
	if (r == 0 && l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), cmp_iface);
	for (size_t i = 0; r == 0 && iface_builtin_names[i]; i++) {
		iface_rec_builtin(iface_builtin_names[i], ifr);
		r = iface_push(&l, ifr);
	}
out:
	free(ifr);
	if (r < 0) {
		iface_list_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}
