/* Node database: writing and deleting node records, and their links. */
#include "nodedb_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "names.h"

static int identity_valid(const struct node_rec *rec)
{
	if (name_validate(rec->name, NULL, 0) < 0 || !rec_address_valid(rec->conn.address) ||
	    rec->conn.port < 1 || rec->conn.port > 65535 || rec->tpgt < -1 || rec->tpgt > 65535 ||
	    !rec_iface_name_valid(rec->iface.name))
		return -EINVAL;
	return 0;
}

int ndb_link_name(const struct node_rec *rec, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s,%s,%d,%d,%s", rec->name, rec->conn.address, rec->conn.port, rec->tpgt,
			 rec->iface.name);
	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

/* The directory (or legacy file) a record's links point to. */
static int portal_rel(const struct node_rec *rec, char *buf, size_t len)
{
	int n;

	if (rec->tpgt >= 0)
		n = snprintf(buf, len, "nodes/%s/%s,%d,%d", rec->name, rec->conn.address, rec->conn.port, rec->tpgt);
	else
		n = snprintf(buf, len, "nodes/%s/%s,%d", rec->name, rec->conn.address, rec->conn.port);
	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

static int make_link(struct nodedb *db, const char *dir_rel, const struct node_rec *rec, bool create_dir,
		     struct fs_batch *batch)
{
	char name[PATH_MAX], lpath[PATH_MAX], target[PATH_MAX], prel[PATH_MAX], dpath[PATH_MAX];
	struct stat st;
	int r;

	if ((r = ndb_path(db, dpath, sizeof(dpath), "%s", dir_rel)) < 0)
		return r;
	if (stat(dpath, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (!create_dir)
			return 0;
		if ((r = ndb_mkdirs(db, dir_rel)) < 0)
			return r;
	}
	if ((r = ndb_link_name(rec, name, sizeof(name))) < 0 || (r = portal_rel(rec, prel, sizeof(prel))) < 0 ||
	    (r = ndb_path(db, lpath, sizeof(lpath), "%s/%s", dir_rel, name)) < 0 ||
	    (r = ndb_path(db, target, sizeof(target), "%s", prel)) < 0)
		return r;
	/* Absolute, like open-iscsi's; readers use the link's name, never
	 * its target, so a moved tree still reads correctly. */
	if (batch)
		return fs_batch_link(batch, target, lpath);
	if (unlink(lpath) < 0 && errno != ENOENT)
		return -errno;
	if (symlink(target, lpath) < 0)
		return -errno;
	return 0;
}

static int make_links(struct nodedb *db, const struct node_rec *rec, struct fs_batch *batch)
{
	char dir[PATH_MAX];

	switch (rec->disc_type) {
	case REC_DISC_STATIC:
		/* open-iscsi links static records only when the tpgt is known. */
		if (rec->tpgt < 0)
			return 0;
		return make_link(db, "static", rec, true, batch);
	case REC_DISC_SENDTARGETS:
	case REC_DISC_ISNS:
		if (!rec_address_valid(rec->disc_address))
			return 0;
		snprintf(dir, sizeof(dir), "%s/%s,%d", rec->disc_type == REC_DISC_ISNS ? "isns" : "send_targets",
			 rec->disc_address, rec->disc_port);
		return make_link(db, dir, rec, false, batch);
	default:
		return 0;
	}
}

static void unlink_in_subdirs(struct nodedb *db, const char *top, const char *name)
{
	char path[PATH_MAX], lpath[PATH_MAX];

	if (ndb_path(db, path, sizeof(path), "%s", top) < 0)
		return;
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(lpath, sizeof(lpath), "%s/%s/%s", path, de->d_name, name) >= (int)sizeof(lpath))
			continue;
		struct stat st;
		if (lstat(lpath, &st) == 0 && S_ISLNK(st.st_mode))
			unlink(lpath);
	}
	closedir(d);
}

void ndb_unlink_static(struct nodedb *db, const struct node_rec *rec)
{
	char name[PATH_MAX], lpath[PATH_MAX];
	struct stat st;

	if (ndb_link_name(rec, name, sizeof(name)) < 0)
		return;
	if (ndb_path(db, lpath, sizeof(lpath), "static/%s", name) == 0 && lstat(lpath, &st) == 0 &&
	    S_ISLNK(st.st_mode))
		unlink(lpath);
}

static void remove_links(struct nodedb *db, const struct node_rec *rec)
{
	char name[PATH_MAX];

	if (ndb_link_name(rec, name, sizeof(name)) < 0)
		return;
	ndb_unlink_static(db, rec);
	unlink_in_subdirs(db, "send_targets", name);
	unlink_in_subdirs(db, "isns", name);
}

/* A legacy single-record file at rel must become a directory holding
 * that record as <old_iface>, so another iface's record can sit beside
 * it (open-iscsi would overwrite it instead). */
static int convert_to_dir(struct nodedb *db, const char *rel, const char *old_iface)
{
	char path[PATH_MAX], tmp[PATH_MAX], moved[PATH_MAX];
	int r;

	if ((r = ndb_path(db, path, sizeof(path), "%s", rel)) < 0)
		return r;
	char *slash = strrchr(path, '/');
	if (!slash)
		return -EINVAL;
	if (snprintf(tmp, sizeof(tmp), "%.*s/.%s.XXXXXX", (int)(slash - path), path, slash + 1) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (!mkdtemp(tmp))
		return -errno;
	if (snprintf(moved, sizeof(moved), "%s/%s", tmp, old_iface) >= (int)sizeof(moved)) {
		rmdir(tmp);
		return -ENAMETOOLONG;
	}
	if (rename(path, moved) < 0) {
		r = -errno;
		rmdir(tmp);
		return r;
	}
	if (rename(tmp, path) < 0) {
		r = -errno;
		/* Put the record back where it was. */
		if (rename(moved, path) == 0)
			rmdir(tmp);
		return r;
	}
	return fs_sync_parent(path);
}

/* The iface a legacy file's record belongs to. */
static void file_iface(struct nodedb *db, const char *rel, char *iface, size_t len)
{
	char path[PATH_MAX];
	char *buf;
	size_t blen;
	struct node_rec *rec = malloc(sizeof(*rec));

	snprintf(iface, len, "default");
	if (!rec)
		return;
	node_rec_init(rec);
	if (ndb_path(db, path, sizeof(path), "%s", rel) == 0 && ndb_read(path, &buf, &blen) == 0) {
		if (rec_parse(REC_KIND_NODE, rec, buf, blen, NULL, NULL) == 0 && rec_iface_name_valid(rec->iface.name))
			snprintf(iface, len, "%s", rec->iface.name);
		explicit_bzero(buf, blen);
		free(buf);
	}
	explicit_bzero(rec, sizeof(*rec));
	free(rec);
}

static int write_rec(struct fs_batch *batch, const struct node_rec *rec, const char *path)
{
	if (batch)
		return ndb_stage_rec(batch, REC_KIND_NODE, rec, path);
	return ndb_write_rec(REC_KIND_NODE, rec, path);
}

int ndb_store(struct nodedb *db, const struct node_rec *rec, const struct node_entry *existing,
	      struct fs_batch *batch)
{
	char path[PATH_MAX], prel[PATH_MAX], frel[PATH_MAX];
	struct stat st;
	int r;

	if (existing) {
		if ((r = ndb_path(db, path, sizeof(path), "%s", existing->path)) < 0 ||
		    (r = write_rec(batch, rec, path)) < 0)
			return r;
		return make_links(db, rec, batch);
	}
	if ((r = portal_rel(rec, prel, sizeof(prel))) < 0 || (r = ndb_path(db, path, sizeof(path), "%s", prel)) < 0)
		return r;
	bool as_file = false;
	if (lstat(path, &st) == 0) {
		if (S_ISREG(st.st_mode)) {
			char old[REC_IFACE_NAME_SIZE];
			file_iface(db, prel, old, sizeof(old));
			if (rec->tpgt < 0 && strcmp(old, rec->iface.name) == 0)
				as_file = true;
			else if ((r = convert_to_dir(db, prel, old)) < 0)
				return r;
		} else if (!S_ISDIR(st.st_mode)) {
			return -EEXIST;
		}
	} else if (errno != ENOENT) {
		return -errno;
	} else if (rec->tpgt < 0) {
		/* open-iscsi writes tpgt -1 records as a single file. */
		as_file = true;
	}
	if (as_file) {
		char trel[PATH_MAX];
		snprintf(trel, sizeof(trel), "nodes/%s", rec->name);
		if ((r = ndb_mkdirs(db, trel)) < 0)
			return r;
		snprintf(frel, sizeof(frel), "%s", prel);
	} else {
		if ((r = ndb_mkdirs(db, prel)) < 0)
			return r;
		if (snprintf(frel, sizeof(frel), "%s/%s", prel, rec->iface.name) >= (int)sizeof(frel))
			return -ENAMETOOLONG;
	}
	if ((r = ndb_path(db, path, sizeof(path), "%s", frel)) < 0 || (r = write_rec(batch, rec, path)) < 0)
		return r;
	return make_links(db, rec, batch);
}

int ndb_remove(struct nodedb *db, const struct node_entry *e)
{
	char path[PATH_MAX], dir[PATH_MAX];
	int r;

	if ((r = ndb_path(db, path, sizeof(path), "%s", e->path)) < 0)
		return r;
	if (unlink(path) < 0)
		return -errno;
	remove_links(db, &e->rec);
	/* Leave no empty portal or target directories behind; a non-empty
	 * one (another iface, another portal) stays. */
	snprintf(dir, sizeof(dir), "%s", path);
	for (int up = 0; up < 2; up++) {
		char *slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = '\0';
		if (strlen(dir) <= strlen(db->root) + strlen("/nodes"))
			break;
		if (rmdir(dir) < 0)
			break;
	}
	/* dir is now the first directory that still exists above the
	 * removed entries: make the removal durable there. */
	if (fs_sync_dir(dir) < 0)
		(void)fs_sync_parent(dir);
	return 0;
}

/* Scan for the records with rec's identity (caller holds the lock). */
static int scan_identity(struct nodedb *db, const struct node_rec *rec, struct node_list *l)
{
	struct node_filter f;

	node_filter_init(&f);
	f.target = rec->name;
	f.address = rec->conn.address;
	f.port = rec->conn.port;
	f.tpgt = rec->tpgt;
	f.iface = rec->iface.name;
	return ndb_scan(db, rec->name, &f, l, NULL);
}

int nodedb_node_save(struct nodedb *db, const struct node_rec *rec, unsigned flags)
{
	struct node_list l = { 0 };

	if (!db || !rec)
		return -EINVAL;
	if (identity_valid(rec) < 0)
		return -EINVAL;
	int r = nodedb_lock(db);
	if (r < 0)
		return r;
	r = scan_identity(db, rec, &l);
	if (r == 0 && l.n && (flags & NODEDB_SAVE_EXCL))
		r = -EEXIST;
	if (r == 0)
		r = ndb_store(db, rec, l.n ? &l.v[0] : NULL, NULL);
	node_list_free(&l);
	nodedb_unlock(db);
	return r;
}

int nodedb_node_modify(struct nodedb *db, const struct node_filter *f, nodedb_modify_fn fn, void *userdata,
		       size_t *ret_count, struct rec_diags *diags)
{
	struct node_list l = { 0 };
	size_t count = 0;

	if (!db || !fn)
		return -EINVAL;
	int r = nodedb_lock(db);
	if (r < 0)
		return r;
	r = ndb_scan(db, f ? f->target : NULL, f, &l, diags);
	if (r == -EINVAL && f && f->target)
		r = 0;
	struct node_rec *copy = malloc(sizeof(*copy));
	if (!copy)
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		*copy = l.v[i].rec;
		int fr = fn(copy, userdata);
		if (fr < 0) {
			r = fr;
			break;
		}
		if (fr > 0)
			continue;
		if (!ndb_same_identity(copy, &l.v[i].rec)) {
			r = -EINVAL;
			break;
		}
		r = ndb_store(db, copy, &l.v[i], NULL);
		if (r == 0)
			count++;
	}
	if (copy) {
		explicit_bzero(copy, sizeof(*copy));
		free(copy);
	}
	node_list_free(&l);
	nodedb_unlock(db);
	if (ret_count)
		*ret_count = count;
	return r;
}

struct update_ctx {
	const struct rec_kv *kv;
	size_t n;
	char *err;
	size_t errlen;
};

static int apply_kv(struct node_rec *rec, void *ud)
{
	struct update_ctx *u = ud;

	for (size_t i = 0; i < u->n; i++) {
		int r = rec_set(REC_KIND_NODE, rec, u->kv[i].key, u->kv[i].value, REC_SET_UPDATE, u->err, u->errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

int nodedb_node_update(struct nodedb *db, const struct node_filter *f, const struct rec_kv *kv, size_t n,
		       size_t *ret_count, char *err, size_t errlen, struct rec_diags *diags)
{
	struct update_ctx u = { kv, n, err, errlen };

	if (!db || (!kv && n))
		return -EINVAL;
	/* Check every pair on a scratch record first, so a typo in the
	 * third pair does not leave the first two applied. */
	struct node_rec *scratch = malloc(sizeof(*scratch));
	if (!scratch)
		return -ENOMEM;
	node_rec_init(scratch);
	int r = apply_kv(scratch, &u);
	explicit_bzero(scratch, sizeof(*scratch));
	free(scratch);
	if (r < 0)
		return r;
	return nodedb_node_modify(db, f, apply_kv, &u, ret_count, diags);
}

int nodedb_node_delete(struct nodedb *db, const struct node_rec *rec)
{
	struct node_list l = { 0 };

	if (!db || !rec)
		return -EINVAL;
	if (identity_valid(rec) < 0)
		return -EINVAL;
	int r = nodedb_lock(db);
	if (r < 0)
		return r;
	r = scan_identity(db, rec, &l);
	if (r == 0 && l.n == 0)
		r = -ENOENT;
	for (size_t i = 0; r == 0 && i < l.n; i++)
		r = ndb_remove(db, &l.v[i]);
	node_list_free(&l);
	nodedb_unlock(db);
	return r;
}

int nodedb_node_delete_corrupt(struct nodedb *db, const struct node_entry *e)
{
	char path[PATH_MAX];

	if (!db || !e || !e->path)
		return -EINVAL;
	/* Only what nodedb_node_find_corrupt() hands out: a file under
	 * nodes/ named by a valid identity. */
	if (strncmp(e->path, "nodes/", 6) != 0 || strstr(e->path, "/.") || identity_valid(&e->rec) < 0)
		return -EINVAL;
	int r = nodedb_lock(db);
	if (r < 0)
		return r;
	if ((r = ndb_path(db, path, sizeof(path), "%s", e->path)) == 0) {
		struct stat st;
		if (lstat(path, &st) < 0)
			r = -errno;
		else if (!S_ISREG(st.st_mode))
			r = -EINVAL;
		else if (!ndb_file_corrupt(path))
			r = -EEXIST;   /* rewritten whole meanwhile */
		else
			r = ndb_remove(db, e);
	}
	nodedb_unlock(db);
	return r;
}
