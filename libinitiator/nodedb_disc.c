/* Node database: discovery records and folding discovery results in. */
#include "nodedb_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"

static int disc_dirs(enum rec_disc_type type, const char **top, const char **file)
{
	switch (type) {
	case REC_DISC_SENDTARGETS:
		*top = "send_targets";
		*file = "st_config";
		return 0;
	case REC_DISC_ISNS:
		*top = "isns";
		*file = "isns_config";
		return 0;
	default:
		return -EINVAL;
	}
}

static int disc_check(enum rec_disc_type type, const char *address, int port, const char **top,
		      const char **file)
{
	if (disc_dirs(type, top, file) < 0 || !rec_address_valid(address) || port < 1 || port > 65535)
		return -EINVAL;
	return 0;
}

void disc_list_free(struct disc_list *l)
{
	if (!l)
		return;
	if (l->v)
		explicit_bzero(l->v, l->n * sizeof(*l->v));
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int disc_read(struct nodedb *db, enum rec_disc_type type, const char *address, int port,
		     struct discovery_rec *ret, struct rec_diags *diags)
{
	const char *top, *file;
	char path[PATH_MAX];
	char *buf;
	size_t len;
	struct stat st;
	int r;

	if ((r = disc_check(type, address, port, &top, &file)) < 0)
		return r;
	if ((r = ndb_path(db, path, sizeof(path), "%s/%s,%d", top, address, port)) < 0)
		return r;
	if (lstat(path, &st) < 0)
		return -errno;
	/* Very old trees kept the record as the <addr>,<port> file itself. */
	if (S_ISDIR(st.st_mode) && (r = ndb_path(db, path, sizeof(path), "%s/%s,%d/%s", top, address, port, file)) < 0)
		return r;
	r = ndb_read(path, &buf, &len);
	if (r < 0) {
		if (r != -ENOENT)
			rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "cannot read record: %s", strerror(-r));
		return r == -ENOENT ? r : -EIO;
	}
	struct discovery_rec *d = malloc(sizeof(*d));
	if (!d) {
		free(buf);
		return -ENOMEM;
	}
	discovery_rec_init(d, type);
	r = rec_parse(REC_KIND_DISCOVERY, d, buf, len, path, diags);
	explicit_bzero(buf, len);
	free(buf);
	if (r == 0) {
		/* The path names the record. */
		d->type = type;
		snprintf(d->address, sizeof(d->address), "%s", address);
		d->port = port;
		*ret = *d;
	} else {
		rec_diags_add(diags, REC_DIAG_ERROR, path, 0, "skipping corrupt record");
		r = -EIO;
	}
	explicit_bzero(d, sizeof(*d));
	free(d);
	return r;
}

int nodedb_disc_load(struct nodedb *db, enum rec_disc_type type, const char *address, int port,
		     struct discovery_rec *ret, struct rec_diags *diags)
{
	if (!db || !address || !ret)
		return -EINVAL;
	return disc_read(db, type, address, port, ret, diags);
}

static int disc_write(struct nodedb *db, const struct discovery_rec *rec)
{
	const char *top, *file;
	char rel[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int r;

	if ((r = disc_check(rec->type, rec->address, rec->port, &top, &file)) < 0)
		return r;
	snprintf(rel, sizeof(rel), "%s/%s,%d", top, rec->address, rec->port);
	if ((r = ndb_path(db, path, sizeof(path), "%s", rel)) < 0)
		return r;
	/* A legacy record file is replaced by the directory form. */
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) < 0)
		return -errno;
	if ((r = ndb_mkdirs(db, rel)) < 0 || (r = ndb_path(db, path, sizeof(path), "%s/%s", rel, file)) < 0)
		return r;
	return ndb_write_rec(REC_KIND_DISCOVERY, rec, path);
}

int nodedb_disc_save(struct nodedb *db, const struct discovery_rec *rec)
{
	if (!db || !rec)
		return -EINVAL;
	int r = nodedb_lock(db);
	if (r < 0)
		return r;
	r = disc_write(db, rec);
	nodedb_unlock(db);
	return r;
}

int nodedb_disc_update(struct nodedb *db, enum rec_disc_type type, const char *address, int port,
		       const struct rec_kv *kv, size_t n, char *err, size_t errlen, struct rec_diags *diags)
{
	if (!db || !address || (!kv && n))
		return -EINVAL;
	struct discovery_rec *d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	int r = nodedb_lock(db);
	if (r == 0) {
		r = disc_read(db, type, address, port, d, diags);
		for (size_t i = 0; r == 0 && i < n; i++)
			r = rec_set(REC_KIND_DISCOVERY, d, kv[i].key, kv[i].value, REC_SET_UPDATE, err, errlen);
		if (r == 0)
			r = disc_write(db, d);
		nodedb_unlock(db);
	}
	explicit_bzero(d, sizeof(*d));
	free(d);
	return r;
}

int nodedb_disc_delete(struct nodedb *db, enum rec_disc_type type, const char *address, int port)
{
	const char *top, *file;
	char path[PATH_MAX], entry[PATH_MAX];
	struct stat st;
	int r;

	if (!db || !address)
		return -EINVAL;
	if ((r = disc_check(type, address, port, &top, &file)) < 0)
		return r;
	if ((r = ndb_path(db, path, sizeof(path), "%s/%s,%d", top, address, port)) < 0)
		return r;
	if ((r = nodedb_lock(db)) < 0)
		return r;
	if (lstat(path, &st) < 0) {
		r = -errno;
	} else if (S_ISREG(st.st_mode)) {
		r = unlink(path) < 0 ? -errno : 0;
	} else if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (!d) {
			r = -errno;
		} else {
			struct dirent *de;
			while ((de = readdir(d))) {
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				if (snprintf(entry, sizeof(entry), "%s/%s", path, de->d_name) >= (int)sizeof(entry))
					continue;
				/* Only what we (or open-iscsi) put here: the record and
				 * links; anything else keeps the directory. */
				if ((lstat(entry, &st) == 0 && S_ISLNK(st.st_mode)) || !strcmp(de->d_name, file))
					unlink(entry);
			}
			closedir(d);
			r = rmdir(path) < 0 ? -errno : 0;
		}
	} else {
		r = -EINVAL;
	}
	nodedb_unlock(db);
	return r;
}

static int disc_push(struct disc_list *l, const struct discovery_rec *d)
{
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		struct discovery_rec *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
		l->cap = ncap;
	}
	l->v[l->n++] = *d;
	return 0;
}

static int cmp_disc(const void *pa, const void *pb)
{
	const struct discovery_rec *a = pa, *b = pb;
	if (a->type != b->type)
		return a->type < b->type ? -1 : 1;
	int c = strcmp(a->address, b->address);
	if (c)
		return c;
	return (a->port > b->port) - (a->port < b->port);
}

int nodedb_disc_list(struct nodedb *db, struct disc_list *ret, struct rec_diags *diags)
{
	static const enum rec_disc_type types[] = { REC_DISC_SENDTARGETS, REC_DISC_ISNS };
	struct disc_list l = { 0 };
	char path[PATH_MAX], addr[REC_HOST_SIZE];
	int r = 0;

	if (!db || !ret)
		return -EINVAL;
	struct discovery_rec *d = malloc(sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (size_t t = 0; r == 0 && t < 2; t++) {
		const char *top = NULL, *file = NULL;
		disc_dirs(types[t], &top, &file);
		if ((r = ndb_path(db, path, sizeof(path), "%s", top)) < 0)
			break;
		DIR *dir = opendir(path);
		if (!dir)
			continue;
		struct dirent *de;
		while (r == 0 && (de = readdir(dir))) {
			int port, tpgt;
			if (de->d_name[0] == '.')
				continue;
			/* "<addr>,<port>" only: open-iscsi before 2.0-872 put
			 * node links directly in isns/; they have more commas. */
			if (ndb_parse_portal_dir(de->d_name, addr, sizeof(addr), &port, &tpgt) < 0 || tpgt != -2 ||
			    port < 1) {
				rec_diags_add(diags, REC_DIAG_WARNING, path, 0, "ignoring entry that is not <address>,<port>");
				continue;
			}
			int lr = disc_read(db, types[t], addr, port, d, diags);
			if (lr == 0)
				r = disc_push(&l, d);
			else if (lr == -ENOMEM)
				r = lr;
		}
		closedir(dir);
	}
	explicit_bzero(d, sizeof(*d));
	free(d);
	if (r < 0) {
		disc_list_free(&l);
		return r;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), cmp_disc);
	*ret = l;
	return 0;
}

/* ---------- merge ---------- */

static bool reported(const struct node_rec *rec, const struct disc_target *found, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (found[i].target && found[i].address && strcmp(found[i].target, rec->name) == 0 &&
		    ndb_addr_equal(found[i].address, rec->conn.address) && found[i].port == rec->conn.port &&
		    found[i].tpgt == rec->tpgt)
			return true;
	}
	return false;
}

static bool iface_in(const char *name, const struct iface_rec *ifaces, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ifaces[i].name, name) == 0)
			return true;
	return false;
}

static int merge_locked(struct nodedb *db, const struct discovery_rec *drec, const struct node_rec *tmpl,
			const struct iface_rec *ifaces, size_t n_ifaces, const struct disc_target *found,
			size_t n_found, unsigned flags, nodedb_in_use_fn in_use, void *userdata,
			struct nodedb_merge_result *res, struct rec_diags *diags, struct node_rec *base,
			struct node_rec *rec)
{
	struct node_list mine = { 0 };
	char err[160];
	int r;

	/* The discovery record itself, if this is its first discovery. */
	r = disc_read(db, drec->type, drec->address, drec->port, &(struct discovery_rec){ 0 }, NULL);
	if (r == -ENOENT)
		r = disc_write(db, drec);
	if (r < 0 && r != -EIO)
		return r;

	*base = *tmpl;
	base->disc_type = drec->type == REC_DISC_ISNS ? REC_DISC_ISNS : REC_DISC_SENDTARGETS;
	snprintf(base->disc_address, sizeof(base->disc_address), "%s", drec->address);
	base->disc_port = drec->port;

	for (size_t i = 0; i < n_found; i++) {
		const struct disc_target *t = &found[i];
		for (size_t k = 0; k < n_ifaces; k++) {
			if (node_rec_from_template(base, t->target, t->address, t->port, t->tpgt, &ifaces[k], rec, err,
						   sizeof(err)) < 0) {
				rec_diags_add(diags, REC_DIAG_WARNING, NULL, 0, "skipping discovered portal: %s", err);
				res->invalid++;
				break;
			}
			struct node_filter f;
			struct node_list l = { 0 };
			node_filter_init(&f);
			f.target = rec->name;
			f.address = rec->conn.address;
			f.port = rec->conn.port;
			f.tpgt = rec->tpgt;
			f.iface = rec->iface.name;
			r = ndb_scan(db, rec->name, &f, &l, diags);
			if (r == 0) {
				if (l.n && (flags & NODEDB_MERGE_UPDATE)) {
					r = ndb_store(db, rec, &l.v[0]);
					res->updated += r == 0;
				} else if (l.n) {
					res->kept++;
				} else if (flags & NODEDB_MERGE_NEW) {
					r = ndb_store(db, rec, NULL);
					res->added += r == 0;
				}
			}
			node_list_free(&l);
			if (r < 0)
				return r;
		}
	}

	if (!(flags & NODEDB_MERGE_DELETE))
		return 0;
	struct node_filter f;
	node_filter_init(&f);
	f.disc_type = base->disc_type;
	f.disc_address = drec->address;
	f.disc_port = drec->port;
	r = ndb_scan(db, NULL, &f, &mine, diags);
	for (size_t i = 0; r == 0 && i < mine.n; i++) {
		const struct node_rec *e = &mine.v[i].rec;
		if (!iface_in(e->iface.name, ifaces, n_ifaces) || reported(e, found, n_found))
			continue;
		if (in_use && in_use(e, userdata)) {
			res->busy++;
			continue;
		}
		r = ndb_remove(db, &mine.v[i]);
		res->deleted += r == 0;
	}
	node_list_free(&mine);
	return r;
}

int nodedb_disc_merge(struct nodedb *db, const struct discovery_rec *drec, const struct node_rec *tmpl,
		      const struct iface_rec *ifaces, size_t n_ifaces, const struct disc_target *found,
		      size_t n_found, unsigned flags, nodedb_in_use_fn in_use, void *userdata,
		      struct nodedb_merge_result *ret, struct rec_diags *diags)
{
	struct nodedb_merge_result res = { 0 };
	struct iface_rec def;

	if (!db || !drec || !tmpl || (!found && n_found) || (!ifaces && n_ifaces))
		return -EINVAL;
	if (drec->type != REC_DISC_SENDTARGETS && drec->type != REC_DISC_ISNS)
		return -EINVAL;
	if (!rec_address_valid(drec->address))
		return -EINVAL;
	if (n_ifaces == 0) {
		iface_rec_builtin("default", &def);
		ifaces = &def;
		n_ifaces = 1;
	}
	struct node_rec *work = malloc(2 * sizeof(*work));
	if (!work)
		return -ENOMEM;
	int r = nodedb_lock(db);
	if (r == 0) {
		r = merge_locked(db, drec, tmpl, ifaces, n_ifaces, found, n_found, flags, in_use, userdata, &res,
				 diags, &work[0], &work[1]);
		nodedb_unlock(db);
	}
	explicit_bzero(work, 2 * sizeof(*work));
	free(work);
	if (ret)
		*ret = res;
	return r;
}
