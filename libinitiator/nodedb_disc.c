/* Node database: discovery records and folding discovery results in. */
#include "nodedb_int.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
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
		explicit_bzero(buf, len);
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

static int disc_write(struct nodedb *db, const struct discovery_rec *rec, struct fs_batch *batch)
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
	if (batch)
		return ndb_stage_rec(batch, REC_KIND_DISCOVERY, rec, path);
	return ndb_write_rec(REC_KIND_DISCOVERY, rec, path);
}

int nodedb_disc_save(struct nodedb *db, const struct discovery_rec *rec)
{
	if (!db || !rec)
		return -EINVAL;
	int r = nodedb_lock(db);
	if (r < 0)
		return r;
	r = disc_write(db, rec, NULL);
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
			r = disc_write(db, d, NULL);
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
	if (ndb_list_reserve(&l->v, &l->cap, l->n, sizeof(*l->v), 8) < 0)
		return -ENOMEM;
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

/* The reported portals, sorted by target, port and tpgt (then position),
 * so "was this reported?" is a binary search: a discovery of thousands
 * of targets asks it for every record of the source. */
struct found_index {
	const struct disc_target *v;
	size_t *idx;    /* entries with a target and an address */
	size_t n;
	bool *dup;      /* dup[i]: v[i] repeats an earlier entry */
};

static int cmp_key(const struct disc_target *a, const char *target, int port, int tpgt)
{
	int c = strcmp(a->target, target);
	if (!c)
		c = (a->port > port) - (a->port < port);
	if (!c)
		c = (a->tpgt > tpgt) - (a->tpgt < tpgt);
	return c;
}

static int cmp_found(const void *pa, const void *pb, void *base)
{
	const struct disc_target *v = base;
	size_t ia = *(const size_t *)pa, ib = *(const size_t *)pb;
	int c = cmp_key(&v[ia], v[ib].target, v[ib].port, v[ib].tpgt);
	return c ? c : (ia > ib) - (ia < ib);
}

static void found_index_free(struct found_index *fi)
{
	free(fi->idx);
	free(fi->dup);
}

/* Staged records are not seen by ndb_scan() until the batch is
 * committed, so a repeated portal is recognised here (dup) to count as
 * kept, as it would be were the first already on disk. */
static int found_index_build(struct found_index *fi, const struct disc_target *found, size_t n)
{
	fi->v = found;
	fi->n = 0;
	fi->idx = malloc((n ? n : 1) * sizeof(*fi->idx));
	fi->dup = calloc(n ? n : 1, sizeof(*fi->dup));
	if (!fi->idx || !fi->dup) {
		found_index_free(fi);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (found[i].target && found[i].address)
			fi->idx[fi->n++] = i;
	qsort_r(fi->idx, fi->n, sizeof(*fi->idx), cmp_found, (void *)found);
	for (size_t i = 1; i < fi->n; i++) {
		const struct disc_target *a = &found[fi->idx[i]];
		/* Equal keys sort together, earlier positions first. */
		for (size_t j = i; j-- > 0;) {
			const struct disc_target *b = &found[fi->idx[j]];
			if (cmp_key(b, a->target, a->port, a->tpgt) != 0)
				break;
			if (ndb_addr_equal(a->address, b->address)) {
				fi->dup[fi->idx[i]] = true;
				break;
			}
		}
	}
	return 0;
}

/* tpgt -1 (a record without a tag) matches the portal under any tag. */
static bool found_index_has(const struct found_index *fi, const char *target, const char *addr, int port, int tpgt)
{
	size_t lo = 0, hi = fi->n;
	int from = tpgt < 0 ? INT_MIN : tpgt;

	while (lo < hi) {   /* the first entry not below the key */
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_key(&fi->v[fi->idx[mid]], target, port, from) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < fi->n; lo++) {
		const struct disc_target *e = &fi->v[fi->idx[lo]];
		if (tpgt < 0 ? strcmp(e->target, target) || e->port != port : cmp_key(e, target, port, tpgt) != 0)
			break;
		if (ndb_addr_equal(e->address, addr))
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

struct keep_ctx {
	const struct found_index *fi;
	const struct iface_rec *ifaces;
	size_t n_ifaces;
};

/* A record the delete pass keeps whatever its contents: no need to read
 * the thousand records a discovery has just written back in. */
static bool kept_anyway(const char *target, const char *addr, int port, int tpgt, const char *iface, void *ud)
{
	const struct keep_ctx *k = ud;
	return iface_in(iface, k->ifaces, k->n_ifaces) && found_index_has(k->fi, target, addr, port, tpgt);
}

static int merge_locked(struct nodedb *db, const struct discovery_rec *drec, const struct node_rec *tmpl,
			const struct iface_rec *ifaces, size_t n_ifaces, const struct disc_target *found,
			size_t n_found, unsigned flags, nodedb_in_use_fn in_use, void *userdata,
			struct nodedb_merge_result *res, struct rec_diags *diags, struct node_rec *base,
			struct node_rec *rec)
{
	struct node_list mine = { 0 };
	struct found_index fi;
	struct fs_batch batch;
	char err[160];
	int r;

	if ((r = found_index_build(&fi, found, n_found)) < 0)
		return r;
	/* Every record this discovery writes goes into one batch, made
	 * durable with a few syncs instead of two fsyncs per record (a
	 * thousand-target portal took seconds); see fs_batch_commit(). */
	fs_batch_init(&batch);
	/* The discovery record itself, if this is its first discovery. */
	r = disc_read(db, drec->type, drec->address, drec->port, &(struct discovery_rec){ 0 }, NULL);
	if (r == -ENOENT)
		r = disc_write(db, drec, &batch);
	if (r < 0 && r != -EIO)
		goto out;

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
			if (r == 0 && l.n == 0 && rec->tpgt >= 0) {
				/* A record of this node without a tag (tpgt -1:
				 * "-o new -p addr:port", or an old layout) is this
				 * node, as open-iscsi reads it: no second record.
				 * Rewritten in place, it keeps its identity. */
				f.tpgt = -1;
				r = ndb_scan(db, rec->name, &f, &l, diags);
				if (r == 0 && l.n)
					rec->tpgt = -1;
			}
			if (r == 0) {
				/* A repeat finds its first staged only if the
				 * first was new and NEW let it be written. */
				bool have = l.n || (fi.dup[i] && (flags & NODEDB_MERGE_NEW));
				if (have && (flags & NODEDB_MERGE_UPDATE)) {
					r = ndb_store(db, rec, l.n ? &l.v[0] : NULL, &batch);
					res->updated += r == 0;
				} else if (have && l.n && l.v[0].rec.disc_type == REC_DISC_STATIC) {
					/* The node a static record ("-o new") stands
					 * for is reported by this source: the record
					 * becomes this source's, as open-iscsi's
					 * rewrite makes it (clients look for it under
					 * the discovery record: os-brick parses
					 * "-m discoverydb -P 1"), settings kept. */
					struct node_rec *adopt = rec;
					*adopt = l.v[0].rec;
					adopt->disc_type = base->disc_type;
					snprintf(adopt->disc_address, sizeof(adopt->disc_address), "%s",
						 base->disc_address);
					adopt->disc_port = base->disc_port;
					r = ndb_store(db, adopt, &l.v[0], &batch);
					if (r == 0)
						ndb_unlink_static(db, adopt);
					res->kept += r == 0;
				} else if (have) {
					res->kept++;
				} else if (flags & NODEDB_MERGE_NEW) {
					r = ndb_store(db, rec, NULL, &batch);
					res->added += r == 0;
				}
			}
			node_list_free(&l);
			if (r < 0)
				goto out;
		}
	}
	r = fs_batch_commit(&batch);
	if (r < 0 || !(flags & NODEDB_MERGE_DELETE))
		goto out;

	struct node_filter f;
	struct keep_ctx kc = { &fi, ifaces, n_ifaces };
	node_filter_init(&f);
	f.disc_type = base->disc_type;
	f.disc_address = drec->address;
	f.disc_port = drec->port;
	r = ndb_scan_skip(db, NULL, &f, kept_anyway, &kc, &mine, diags);
	for (size_t i = 0; r == 0 && i < mine.n; i++) {
		const struct node_rec *e = &mine.v[i].rec;
		if (!iface_in(e->iface.name, ifaces, n_ifaces) ||
		    found_index_has(&fi, e->name, e->conn.address, e->conn.port, e->tpgt))
			continue;
		if (in_use && in_use(e, userdata)) {
			res->busy++;
			continue;
		}
		r = ndb_remove(db, &mine.v[i]);
		res->deleted += r == 0;
	}
	node_list_free(&mine);
out:
	/* After a failure this removes every temporary file: no record of
	 * this discovery was renamed into place unless its data was durable. */
	fs_batch_free(&batch);
	found_index_free(&fi);
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
