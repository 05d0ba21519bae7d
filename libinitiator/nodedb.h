/* The node database on disk, in open-iscsi's layout (inventory §2.9), so
 * a tree written by open-iscsi works unchanged and open-iscsi can read
 * ours:
 *
 *   <root>/nodes/<target>/<addr>,<port>,<tpgt>/<iface>    node record
 *   <root>/nodes/<target>/<addr>,<port>                   legacy: one record
 *                                                         (written for tpgt -1,
 *                                                         as open-iscsi does)
 *   <root>/nodes/<target>/<addr>,<port>/<iface>           legacy, read only
 *   <root>/nodes/<target>/<addr>,<port>,<tpgt>            legacy file, read only
 *   <root>/send_targets/<addr>,<port>/st_config           discovery record
 *   <root>/send_targets/<addr>,<port>/<target>,<addr>,<port>,<tpgt>,<iface>
 *                                                         -> node portal dir
 *   <root>/isns/<addr>,<port>/isns_config                 (+ links, same idea)
 *   <root>/static/<target>,<addr>,<port>,<tpgt>,<iface>   -> node portal dir
 *                                                         (records made by -o new)
 *   <root>/ifaces/<name>                                  iface record
 *
 * Every name that becomes a path component is validated first (target:
 * name_validate(); address: rec_address_valid(); iface:
 * rec_iface_name_valid()). Files are written atomically (temporary file,
 * fsync, rename, fsync of the directory) with mode 0600 because records
 * hold CHAP secrets; directories are created 0700 (the root itself 0755).
 *
 * Writers serialise on a lock file, <lock_dir>/nodedb.lock, with flock(2):
 * polled every 10 ms up to the lock timeout (30 s by default), then
 * -ETIMEDOUT, which nodedb_exit_code() maps to ISCSI_ERR_IDBM (6). Every
 * read-modify-write (save, modify, update, delete, merge) holds the lock
 * from the read to the rename, so concurrent iscsiadm processes never
 * lose an update. Readers need no lock: a rename is atomic. The lock is
 * reentrant within one struct nodedb; callers may take it around several
 * calls (nodedb_lock()/nodedb_unlock()).
 *
 * A record that cannot be read (unreadable, torn, malformed) is reported
 * in the caller's struct rec_diags with path and line, and skipped; the
 * others still load.
 *
 * Errors are negative errno values:
 *   -ENOENT      no such record
 *   -EINVAL      invalid name/address/iface/value (reason in err where
 *                there is an err buffer)
 *   -EPERM       key not updatable, or a built-in iface (default, iser)
 *   -EEXIST      NODEDB_SAVE_EXCL and the record exists
 *   -ETIMEDOUT   lock timeout
 *   -ENOMEM, -EIO, -EACCES ... from the system */
#ifndef LIBINITIATOR_NODEDB_H
#define LIBINITIATOR_NODEDB_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "paths.h"
#include "record.h"

#define NODEDB_LOCK_TIMEOUT_MS 30000
#define NODEDB_ANY INT_MIN

struct nodedb;

/* Remembers the DB root and lock directory from paths; no I/O. */
int nodedb_open(const struct iscsi_paths *paths, struct nodedb **ret);
void nodedb_free(struct nodedb *db);
void nodedb_set_lock_timeout(struct nodedb *db, unsigned ms);
const char *nodedb_root(const struct nodedb *db);

/* Reentrant: nested calls count. */
int nodedb_lock(struct nodedb *db);
void nodedb_unlock(struct nodedb *db);

/* Exit code for a nodedb error: 0 -> 0, -ETIMEDOUT/-EIO/-EACCES... ->
 * ISCSI_ERR_IDBM (6), -ENOENT -> ISCSI_ERR_NO_OBJS_FOUND (21), -EINVAL,
 * -ERANGE, -EPERM, -ENAMETOOLONG -> ISCSI_ERR_INVAL (7), -ENOMEM ->
 * ISCSI_ERR_NOMEM (3). */
int nodedb_exit_code(int err);

/* Which node records to act on; NULL / NODEDB_ANY fields match anything.
 * Addresses compare as addresses ("FD00:0::1" matches "fd00::1"), host
 * names case-insensitively. */
struct node_filter {
	const char *target;
	const char *address;
	int port;
	int tpgt;
	const char *iface;
	int disc_type;              /* enum rec_disc_type or NODEDB_ANY */
	const char *disc_address;
	int disc_port;
};
void node_filter_init(struct node_filter *f);
bool node_filter_match(const struct node_filter *f, const struct node_rec *rec);

struct node_entry {
	struct node_rec rec;
	char *path;                 /* file it was read from, relative to the root */
};

struct node_list {
	struct node_entry *v;
	size_t n;
	size_t cap;
};
void node_list_free(struct node_list *l);

/* All node records matching f (NULL: all), sorted by target, address,
 * port, tpgt, iface. 0 even when nothing matches (ret->n == 0). */
int nodedb_node_find(struct nodedb *db, const struct node_filter *f, struct node_list *ret,
		     struct rec_diags *diags);

/* The one record with this identity. -ENOENT if absent. */
int nodedb_node_load(struct nodedb *db, const char *target, const char *address, int port, int tpgt,
		     const char *iface, struct node_rec *ret, struct rec_diags *diags);

#define NODEDB_SAVE_EXCL 0x1u       /* -EEXIST if the record exists */

/* Create or replace the record with rec's identity (name, conn address
 * and port, tpgt, iface name). Links: disc_type static and tpgt >= 0 ->
 * static/ link (open-iscsi makes none for tpgt -1); send_targets/isns ->
 * a link in that discovery record's directory when it exists. */
int nodedb_node_save(struct nodedb *db, const struct node_rec *rec, unsigned flags);

/* Under the lock, for every record matching f: call fn on a copy; fn
 * returns < 0 to stop (that error is returned, nothing more written),
 * 0 to save the changed copy, > 0 to leave the record alone. fn must not
 * change the identity (-EINVAL if it does). ret_count: records saved. */
typedef int (*nodedb_modify_fn)(struct node_rec *rec, void *userdata);
int nodedb_node_modify(struct nodedb *db, const struct node_filter *f, nodedb_modify_fn fn, void *userdata,
		       size_t *ret_count, struct rec_diags *diags);

struct rec_kv {
	const char *key;
	const char *value;
};

/* `-o update`: set each key (REC_SET_UPDATE rules, rec_set()) on every
 * matching record. All pairs are checked before anything is written: a
 * bad key or value fails the whole call with the reason in err.
 * ret_count: records updated (0 when nothing matched). */
int nodedb_node_update(struct nodedb *db, const struct node_filter *f, const struct rec_kv *kv, size_t n,
		       size_t *ret_count, char *err, size_t errlen, struct rec_diags *diags);

/* Delete the record with rec's identity, its links, and directories left
 * empty. -ENOENT if absent. */
int nodedb_node_delete(struct nodedb *db, const struct node_rec *rec);

/* The node record files matching f that cannot be used: they do not
 * parse, are empty or too large. Records are written whole and renamed
 * into place, so an empty one was truncated by something else (a crash
 * of another writer or of the file system); read as defaults it would
 * be a record without its settings and CHAP secrets. Of f only what a
 * path holds counts (target, address, port, tpgt, iface; a file with no
 * iface in its path is the default iface's): each entry's rec has that
 * identity and defaults, its path the file. Listing and loading skip
 * these files with an error in diags ("skipping corrupt record"). */
int nodedb_node_find_corrupt(struct nodedb *db, const struct node_filter *f, struct node_list *ret,
			     struct rec_diags *diags);

/* Delete such a file (an entry nodedb_node_find_corrupt() gave), the
 * links to its identity and directories left empty, under the lock, as
 * nodedb_node_delete() does. -EEXIST when the file can be used now (it
 * was rewritten meanwhile), -ENOENT when it is gone. */
int nodedb_node_delete_corrupt(struct nodedb *db, const struct node_entry *e);

/* ---- discovery records (sendtargets, iSNS) ---- */

struct disc_list {
	struct discovery_rec *v;
	size_t n;
	size_t cap;
};
void disc_list_free(struct disc_list *l);

int nodedb_disc_load(struct nodedb *db, enum rec_disc_type type, const char *address, int port,
		     struct discovery_rec *ret, struct rec_diags *diags);
int nodedb_disc_save(struct nodedb *db, const struct discovery_rec *rec);
int nodedb_disc_update(struct nodedb *db, enum rec_disc_type type, const char *address, int port,
		       const struct rec_kv *kv, size_t n, char *err, size_t errlen, struct rec_diags *diags);
/* Removes the record and its node links (not the node records: find
 * them with a disc_* filter and delete them, checking sessions first). */
int nodedb_disc_delete(struct nodedb *db, enum rec_disc_type type, const char *address, int port);
/* Sendtargets records, then iSNS, each sorted by address and port. */
int nodedb_disc_list(struct nodedb *db, struct disc_list *ret, struct rec_diags *diags);

/* What a discovery returned: one portal of one target. */
struct disc_target {
	const char *target;
	const char *address;
	int port;
	int tpgt;
};

#define NODEDB_MERGE_NEW    0x1u  /* add records for newly reported portals */
#define NODEDB_MERGE_DELETE 0x2u  /* delete this source's records no longer reported */
#define NODEDB_MERGE_UPDATE 0x4u  /* rewrite existing records from tmpl (open-iscsi's
				     default; without it user changes are kept) */

struct nodedb_merge_result {
	size_t added;
	size_t kept;       /* existing, settings left untouched */
	size_t updated;
	size_t deleted;
	size_t busy;       /* stale but in_use() said a session uses it */
	size_t invalid;    /* reported entries with a bad name/address (skipped) */
};

/* Fold a fresh discovery result into the DB under one lock hold. For
 * every reported (target, portal, tpgt) and every iface in ifaces
 * (n_ifaces 0: the built-in "default"): a missing record is created from
 * tmpl (with disc_type/address/port taken from drec) if NEW; an existing
 * one is kept (a static record, from "-o new", becomes this source's:
 * its disc_* fields change, nothing else), or rewritten from tmpl if
 * UPDATE. With DELETE, records
 * whose disc_type/address/port name this source, bound to one of the
 * ifaces, and not reported now are deleted, unless in_use (may be NULL)
 * says a session uses them. The discovery record itself is written if it
 * does not exist yet. The records written go into place together after
 * their data is durable (fs_batch_commit() in fsutil.h); when writing
 * them fails, the error is returned and no temporary file is left, and
 * when it fails before the renames, none of them is in place. */
typedef bool (*nodedb_in_use_fn)(const struct node_rec *rec, void *userdata);
int nodedb_disc_merge(struct nodedb *db, const struct discovery_rec *drec, const struct node_rec *tmpl,
		      const struct iface_rec *ifaces, size_t n_ifaces, const struct disc_target *found,
		      size_t n_found, unsigned flags, nodedb_in_use_fn in_use, void *userdata,
		      struct nodedb_merge_result *ret, struct rec_diags *diags);

/* ---- iface records ---- */

struct iface_list {
	struct iface_rec *v;
	size_t n;
	size_t cap;
};
void iface_list_free(struct iface_list *l);

/* ifaces/<name>, or the built-in default/iser. -ENOENT otherwise. */
int nodedb_iface_load(struct nodedb *db, const char *name, struct iface_rec *ret, struct rec_diags *diags);
/* -EPERM for default/iser (built in, not stored). */
int nodedb_iface_save(struct nodedb *db, const struct iface_rec *rec);
/* Set the pairs (REC_SET_UPDATE rules) on a stored iface, all or nothing:
 * a bad key or value, or a record bound both by iface.net_ifacename and
 * iface.hwaddress (iface_rec_check()), fails with the reason in err and
 * nothing written. The node records bound to the iface get the new iface
 * settings too (they keep a copy, as open-iscsi's do). */
int nodedb_iface_update(struct nodedb *db, const char *name, const struct rec_kv *kv, size_t n, char *err,
			size_t errlen, struct rec_diags *diags);
/* `-m iface -o new [-n -v]...`: create the iface with the pairs set
 * (checked as by nodedb_iface_update(), nothing written on error). An
 * existing iface is kept, with the pairs set on it; *ret_existed says
 * which. -EPERM for default/iser. */
int nodedb_iface_new(struct nodedb *db, const char *name, const struct rec_kv *kv, size_t n, bool *ret_existed,
		     char *err, size_t errlen, struct rec_diags *diags);
int nodedb_iface_delete(struct nodedb *db, const char *name);
/* Stored ifaces sorted by name, then the built-ins (as `iscsiadm -m
 * iface` lists them). */
int nodedb_iface_list(struct nodedb *db, struct iface_list *ret, struct rec_diags *diags);

#endif
