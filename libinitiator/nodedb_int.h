/* Internal to nodedb*.c. */
#ifndef LIBINITIATOR_NODEDB_INT_H
#define LIBINITIATOR_NODEDB_INT_H

#include <limits.h>
#include <stdbool.h>

#include "fsutil.h"
#include "nodedb.h"

#define NODEDB_DIR_MODE 0700
#define NODEDB_ROOT_MODE 0755
#define NODEDB_FILE_MODE 0600

struct nodedb {
	char root[PATH_MAX];
	char lock_dir[PATH_MAX];
	int lock_fd;
	unsigned lock_depth;
	unsigned timeout_ms;
};

/* root + "/" + formatted relative path. -ENAMETOOLONG. */
__attribute__((format(printf, 4, 5)))
int ndb_path(const struct nodedb *db, char *buf, size_t len, const char *fmt, ...);

/* mkdir -p <root>/<rel> (root 0755, below 0700). */
int ndb_mkdirs(const struct nodedb *db, const char *rel);

/* Read a regular file (not following a final symlink) of at most
 * REC_FILE_MAX bytes. */
int ndb_read(const char *path, char **ret_buf, size_t *ret_len);

/* Format rec (disk form) and write it atomically to the absolute path. */
int ndb_write_rec(enum rec_kind kind, const void *rec, const char *path);

/* The same, staged in batch: in place at fs_batch_commit(). */
int ndb_stage_rec(struct fs_batch *batch, enum rec_kind kind, const void *rec, const char *path);

/* Address equality: as binary addresses when both parse, else
 * case-insensitive text. */
bool ndb_addr_equal(const char *a, const char *b);

/* "addr,port[,tpgt]" -> parts. tpgt is -2 when absent. -EINVAL. */
int ndb_parse_portal_dir(const char *s, char *addr, size_t addrlen, int *port, int *tpgt);

/* Scan one target's directory (or all with target NULL), appending the
 * records that match f. */
int ndb_scan(struct nodedb *db, const char *target, const struct node_filter *f, struct node_list *out,
	     struct rec_diags *diags);

/* Whether a scan may leave a record unread, judged on the identity its
 * path holds (records whose path lacks the tpgt are always read). */
typedef bool (*ndb_skip_fn)(const char *target, const char *addr, int port, int tpgt, const char *iface,
			    void *userdata);

/* Whether the record file at path (absolute) cannot be used: it does
 * not parse, is empty or too large. Not when it cannot be read. */
bool ndb_file_corrupt(const char *path);

/* ndb_scan() that skips the records skip() says true for, unread. */
int ndb_scan_skip(struct nodedb *db, const char *target, const struct node_filter *f, ndb_skip_fn skip,
		  void *skip_ud, struct node_list *out, struct rec_diags *diags);

/* Room for one more element in a growable array: *vp is the array (of
 * elem-sized elements, n in use, *cap allocated), doubled when full,
 * starting at first. *vp and *cap untouched on -ENOMEM. */
int ndb_list_reserve(void *vp, size_t *cap, size_t n, size_t elem, size_t first);

int ndb_list_push(struct node_list *l, const struct node_rec *rec, const char *path);

/* Link name "<target>,<addr>,<port>,<tpgt>,<iface>". */
int ndb_link_name(const struct node_rec *rec, char *buf, size_t len);

bool ndb_same_identity(const struct node_rec *a, const struct node_rec *b);

/* Write rec under the lock: to existing->path when given, else to its
 * new place (creating directories, converting a legacy single-record file
 * into a directory when a second iface arrives), then the links. With a
 * batch, the record and its link are staged there (directories are made
 * now): ndb_scan() does not see it until fs_batch_commit(). */
int ndb_store(struct nodedb *db, const struct node_rec *rec, const struct node_entry *existing,
	      struct fs_batch *batch);

/* Remove rec's link in static/, if any (a record that stops being static). */
void ndb_unlink_static(struct nodedb *db, const struct node_rec *rec);

/* Delete one loaded entry and its links (lock held). */
int ndb_remove(struct nodedb *db, const struct node_entry *e);

#endif
