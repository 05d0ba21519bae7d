/* Node database: handle, lock, helpers, and reading node records in all
 * the layouts open-iscsi has used. Writing is in nodedb_node.c. */
#include "nodedb_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"
#include "fsutil.h"
#include "secmem.h"
#include "names.h"

int nodedb_open(const struct iscsi_paths *paths, struct nodedb **ret)
{
	if (!paths || !ret || !*paths->db_root || !*paths->lock_dir)
		return -EINVAL;
	struct nodedb *db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	snprintf(db->root, sizeof(db->root), "%s", paths->db_root);
	snprintf(db->lock_dir, sizeof(db->lock_dir), "%s", paths->lock_dir);
	db->lock_fd = -1;
	db->timeout_ms = NODEDB_LOCK_TIMEOUT_MS;
	*ret = db;
	return 0;
}

void nodedb_free(struct nodedb *db)
{
	if (!db)
		return;
	if (db->lock_fd >= 0)
		close(db->lock_fd);
	free(db);
}

void nodedb_set_lock_timeout(struct nodedb *db, unsigned ms)
{
	if (db)
		db->timeout_ms = ms;
}

const char *nodedb_root(const struct nodedb *db)
{
	return db ? db->root : NULL;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int nodedb_lock(struct nodedb *db)
{
	char path[PATH_MAX];

	if (!db)
		return -EINVAL;
	if (db->lock_depth > 0) {
		db->lock_depth++;
		return 0;
	}
	int r = fs_mkdir_p(db->lock_dir, 0755);
	if (r < 0)
		return r;
	if (snprintf(path, sizeof(path), "%s/nodedb.lock", db->lock_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	/* flock, not fcntl locks: these belong to the open file, so two
	 * handles in one process exclude each other too, and closing some
	 * other descriptor of the file does not drop the lock. */
	long long deadline = now_ms() + db->timeout_ms;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			int e = -errno;
			close(fd);
			return e;
		}
		if (now_ms() >= deadline) {
			close(fd);
			return -ETIMEDOUT;
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	db->lock_fd = fd;
	db->lock_depth = 1;
	return 0;
}

void nodedb_unlock(struct nodedb *db)
{
	if (!db || db->lock_depth == 0)
		return;
	if (--db->lock_depth > 0)
		return;
	flock(db->lock_fd, LOCK_UN);
	close(db->lock_fd);
	db->lock_fd = -1;
}

int nodedb_exit_code(int err)
{
	switch (err) {
	case 0:
		return ISCSI_SUCCESS;
	case -ENOENT:
		return ISCSI_ERR_NO_OBJS_FOUND;
	case -EINVAL:
	case -ERANGE:
	case -EPERM:
	case -ENAMETOOLONG:
		return ISCSI_ERR_INVAL;
	case -ENOMEM:
		return ISCSI_ERR_NOMEM;
	default:
		return ISCSI_ERR_IDBM;
	}
}

/* ---------- helpers ---------- */

int ndb_path(const struct nodedb *db, char *buf, size_t len, const char *fmt, ...)
{
	char rel[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return -ENAMETOOLONG;
	n = snprintf(buf, len, "%s/%s", db->root, rel);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return 0;
}

int ndb_mkdirs(const struct nodedb *db, const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	if (stat(db->root, &st) < 0) {
		int r = fs_mkdir_p(db->root, NODEDB_ROOT_MODE);
		if (r < 0)
			return r;
	}
	int r = ndb_path(db, path, sizeof(path), "%s", rel);
	if (r < 0)
		return r;
	return fs_mkdir_p(path, NODEDB_DIR_MODE);
}

int ndb_read(const char *path, char **ret_buf, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if (st.st_size > REC_FILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	size_t cap = (size_t)st.st_size + 1;
	char *buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t len = 0;
	int r = fs_read_full(fd, buf, cap, &len);
	close(fd);
	if (r < 0) {
		explicit_bzero(buf, len);
		free(buf);
		return r;
	}
	if (len > (size_t)st.st_size) {
		/* Grew under us: only atomic renames should touch these. */
		explicit_bzero(buf, len);
		free(buf);
		return -EAGAIN;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int ndb_write_rec(enum rec_kind kind, const void *rec, const char *path)
{
	char *text;
	size_t len;
	int r = rec_format(kind, rec, REC_FMT_DISK, &text, &len);

	if (r < 0)
		return r;
	r = fs_write_atomic(path, text, len, NODEDB_FILE_MODE);
	explicit_bzero(text, len);
	free(text);
	return r;
}

int ndb_stage_rec(struct fs_batch *batch, enum rec_kind kind, const void *rec, const char *path)
{
	char *text;
	size_t len;
	int r = rec_format(kind, rec, REC_FMT_DISK, &text, &len);

	if (r < 0)
		return r;
	r = fs_batch_write(batch, path, text, len, NODEDB_FILE_MODE);
	explicit_bzero(text, len);
	free(text);
	return r;
}

static int addr_bin(const char *s, unsigned char bin[16], char *zone, size_t zlen)
{
	char tmp[REC_HOST_SIZE];
	const char *pct = strchr(s, '%');

	zone[0] = '\0';
	if (inet_pton(AF_INET, s, bin) == 1)
		return AF_INET;
	if (strlen(s) >= sizeof(tmp))
		return 0;
	snprintf(tmp, sizeof(tmp), "%s", s);
	if (pct) {
		tmp[pct - s] = '\0';
		snprintf(zone, zlen, "%s", pct + 1);
	}
	if (inet_pton(AF_INET6, tmp, bin) == 1)
		return AF_INET6;
	return 0;
}

bool ndb_addr_equal(const char *a, const char *b)
{
	unsigned char ba[16], bb[16];
	char za[64], zb[64];
	int fa = addr_bin(a, ba, za, sizeof(za));
	int fb = addr_bin(b, bb, zb, sizeof(zb));

	if (fa && fa == fb)
		return memcmp(ba, bb, fa == AF_INET ? 4 : 16) == 0 && strcasecmp(za, zb) == 0;
	if (fa || fb)
		return false;
	return strcasecmp(a, b) == 0;
}

static int parse_num(const char *s, size_t len, int min, int max, int *ret)
{
	int v = 0;
	bool neg = false;

	if (len && *s == '-') {
		neg = true;
		s++;
		len--;
	}
	if (len == 0 || len > 5)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	v = neg ? -v : v;
	if (v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int ndb_parse_portal_dir(const char *s, char *addr, size_t addrlen, int *port, int *tpgt)
{
	const char *c1 = strchr(s, ',');
	if (!c1)
		return -EINVAL;
	const char *c2 = strchr(c1 + 1, ',');
	if (c2 && strchr(c2 + 1, ','))
		return -EINVAL;
	size_t alen = (size_t)(c1 - s);
	if (alen == 0 || alen >= addrlen)
		return -EINVAL;
	int p, t = -2;
	size_t plen = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	if (parse_num(c1 + 1, plen, 0, 65535, &p) < 0)
		return -EINVAL;
	if (c2 && parse_num(c2 + 1, strlen(c2 + 1), -1, 65535, &t) < 0)
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	if (!rec_address_valid(addr))
		return -EINVAL;
	*port = p;
	*tpgt = t;
	return 0;
}

/* ---------- lists and filters ---------- */

void node_filter_init(struct node_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->port = NODEDB_ANY;
	f->tpgt = NODEDB_ANY;
	f->disc_type = NODEDB_ANY;
	f->disc_port = NODEDB_ANY;
}

bool node_filter_match(const struct node_filter *f, const struct node_rec *r)
{
	if (!f)
		return true;
	if (f->target && strcmp(f->target, r->name) != 0)
		return false;
	if (f->address && !ndb_addr_equal(f->address, r->conn.address))
		return false;
	if (f->port != NODEDB_ANY && f->port != r->conn.port)
		return false;
	if (f->tpgt != NODEDB_ANY && f->tpgt != r->tpgt)
		return false;
	if (f->iface && strcmp(f->iface, r->iface.name) != 0)
		return false;
	if (f->disc_type != NODEDB_ANY && f->disc_type != (int)r->disc_type)
		return false;
	if (f->disc_address && !ndb_addr_equal(f->disc_address, r->disc_address))
		return false;
	if (f->disc_port != NODEDB_ANY && f->disc_port != r->disc_port)
		return false;
	return true;
}

void node_list_free(struct node_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		explicit_bzero(&l->v[i].rec.session.auth, sizeof(l->v[i].rec.session.auth));
		free(l->v[i].path);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int ndb_list_reserve(void *vp, size_t *cap, size_t n, size_t elem, size_t first)
{
	if (n < *cap)
		return 0;
	/* vp points at a typed element pointer: copy it through void *
	 * rather than cast to void ** (which it is not). */
	void *v;
	memcpy(&v, vp, sizeof(v));
	size_t ncap = *cap ? *cap * 2 : first;
	/* the elements are records that may hold CHAP secrets */
	void *nv = secmem_grow(v, n * elem, *cap * elem, ncap * elem);
	if (!nv)
		return -ENOMEM;
	memcpy(vp, &nv, sizeof(nv));
	*cap = ncap;
	return 0;
}

int ndb_list_push(struct node_list *l, const struct node_rec *rec, const char *path)
{
	if (ndb_list_reserve(&l->v, &l->cap, l->n, sizeof(*l->v), 16) < 0)
		return -ENOMEM;
	char *p = strdup(path);
	if (!p)
		return -ENOMEM;
	l->v[l->n].rec = *rec;
	l->v[l->n].path = p;
	l->n++;
	return 0;
}

bool ndb_same_identity(const struct node_rec *a, const struct node_rec *b)
{
	return strcmp(a->name, b->name) == 0 && ndb_addr_equal(a->conn.address, b->conn.address) &&
	       a->conn.port == b->conn.port && a->tpgt == b->tpgt && strcmp(a->iface.name, b->iface.name) == 0;
}

/* ---------- reading ---------- */

struct scan_ctx {
	struct nodedb *db;
	const struct node_filter *f;
	struct node_list *out;
	struct rec_diags *diags;
	ndb_skip_fn skip;
	void *skip_ud;
	struct node_list *corrupt;  /* NULL, or the files that cannot be used (not out) */
};

/* A record file that cannot be used, noted with the identity its path
 * gives (the file says nothing): what -o delete of that record needs.
 * Of f only the parts a path holds count; a file with no iface in its
 * path is the default iface's. tpgt -2: none in the path. */
static int note_corrupt(struct scan_ctx *c, const char *rel, const char *target, const char *addr, int port,
			int tpgt, const char *iface)
{
	const struct node_filter *f = c->f;
	int r = 0;

	if (!c->corrupt)
		return 0;
	if (tpgt == -2)
		tpgt = -1;
	if (!iface)
		iface = "default";
	if (f && ((f->tpgt != NODEDB_ANY && f->tpgt != tpgt) || (f->iface && strcmp(f->iface, iface) != 0) ||
		  f->disc_type != NODEDB_ANY || f->disc_address || f->disc_port != NODEDB_ANY))
		return 0;
	struct node_rec *rec = malloc(sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	node_rec_init(rec);
	snprintf(rec->name, sizeof(rec->name), "%s", target);
	snprintf(rec->conn.address, sizeof(rec->conn.address), "%s", addr);
	rec->conn.port = port;
	rec->tpgt = tpgt;
	snprintf(rec->iface.name, sizeof(rec->iface.name), "%s", iface);
	r = ndb_list_push(c->corrupt, rec, rel);
	free(rec);
	return r;
}

/* Load one record file. The path names the record (open-iscsi looks
 * records up by path), so identity parts the path holds win over the
 * file's text; a disagreement is worth a warning. */
static int load_one(struct scan_ctx *c, const char *rel, const char *target, const char *addr, int port, int tpgt,
		    const char *iface)
{
	char path[PATH_MAX];
	char *buf;
	size_t len;
	struct node_rec *rec;

	int r = ndb_path(c->db, path, sizeof(path), "%s", rel);
	if (r < 0)
		return 0;
	r = ndb_read(path, &buf, &len);
	if (r < 0) {
		rec_diags_add(c->diags, REC_DIAG_ERROR, path, 0, "cannot read record: %s", strerror(-r));
		return r == -EFBIG ? note_corrupt(c, rel, target, addr, port, tpgt, iface) : 0;
	}
	if (len == 0) {
		/* Records are written whole and renamed into place
		 * (fs_write_atomic(), fs_batch_commit()): an empty one was
		 * truncated by something else, a crash of another writer or
		 * of the file system. Read as defaults, it would be a record
		 * without its settings and CHAP secrets. */
		free(buf);
		rec_diags_add(c->diags, REC_DIAG_ERROR, path, 0, "empty record file; skipping corrupt record");
		return note_corrupt(c, rel, target, addr, port, tpgt, iface);
	}
	rec = malloc(sizeof(*rec));
	if (!rec) {
		explicit_bzero(buf, len);
		free(buf);
		return -ENOMEM;
	}
	node_rec_init(rec);
	r = rec_parse(REC_KIND_NODE, rec, buf, len, path, c->diags);
	explicit_bzero(buf, len);
	free(buf);
	if (r < 0) {
		rec_diags_add(c->diags, REC_DIAG_ERROR, path, 0, "skipping corrupt record");
		r = note_corrupt(c, rel, target, addr, port, tpgt, iface);
		explicit_bzero(rec, sizeof(*rec));
		free(rec);
		return r;
	}
	if (*rec->name && strcmp(rec->name, target) != 0)
		rec_diags_add(c->diags, REC_DIAG_WARNING, path, 0,
			      "node.name differs from the directory name; using the directory name");
	snprintf(rec->name, sizeof(rec->name), "%s", target);
	if (*rec->conn.address && !ndb_addr_equal(rec->conn.address, addr))
		rec_diags_add(c->diags, REC_DIAG_WARNING, path, 0,
			      "node.conn[0].address differs from the directory name; using the directory name");
	snprintf(rec->conn.address, sizeof(rec->conn.address), "%s", addr);
	rec->conn.port = port;
	if (tpgt != -2)
		rec->tpgt = tpgt;
	if (iface)
		snprintf(rec->iface.name, sizeof(rec->iface.name), "%s", iface);
	else if (!*rec->iface.name)
		snprintf(rec->iface.name, sizeof(rec->iface.name), "default");
	if (!rec_iface_name_valid(rec->iface.name)) {
		rec_diags_add(c->diags, REC_DIAG_ERROR, path, 0, "invalid iface name; skipping record");
		goto out;
	}
	if (c->out && node_filter_match(c->f, rec))
		r = ndb_list_push(c->out, rec, rel);
	else
		r = 0;
	explicit_bzero(rec, sizeof(*rec));
	free(rec);
	return r;
out:
	explicit_bzero(rec, sizeof(*rec));
	free(rec);
	return 0;
}

static int scan_portal_dir(struct scan_ctx *c, const char *target, const char *pname, const char *addr, int port,
			   int tpgt)
{
	char path[PATH_MAX], rel[PATH_MAX];
	int r = ndb_path(c->db, path, sizeof(path), "nodes/%s/%s", target, pname);

	if (r < 0)
		return 0;
	DIR *d = opendir(path);
	if (!d) {
		rec_diags_add(c->diags, REC_DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (!rec_iface_name_valid(de->d_name)) {
			rec_diags_add(c->diags, REC_DIAG_WARNING, path, 0, "ignoring file with an invalid iface name");
			continue;
		}
		if (c->f && c->f->iface && strcmp(c->f->iface, de->d_name) != 0)
			continue;
		/* The path holds the whole identity only with a tpgt. */
		if (c->skip && tpgt != -2 && c->skip(target, addr, port, tpgt, de->d_name, c->skip_ud))
			continue;
		snprintf(rel, sizeof(rel), "nodes/%s/%s/%s", target, pname, de->d_name);
		r = load_one(c, rel, target, addr, port, tpgt, de->d_name);
		if (r < 0)
			break;
	}
	closedir(d);
	return r < 0 ? r : 0;
}

static int scan_target(struct scan_ctx *c, const char *target)
{
	char path[PATH_MAX], rel[PATH_MAX], addr[REC_HOST_SIZE];
	int r = ndb_path(c->db, path, sizeof(path), "nodes/%s", target);

	if (r < 0)
		return 0;
	DIR *d = opendir(path);
	if (!d) {
		if (errno != ENOENT)
			rec_diags_add(c->diags, REC_DIAG_ERROR, path, 0, "cannot open: %s", strerror(errno));
		return 0;
	}
	struct dirent *de;
	r = 0;
	while ((de = readdir(d))) {
		int port, tpgt;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (ndb_parse_portal_dir(de->d_name, addr, sizeof(addr), &port, &tpgt) < 0) {
			rec_diags_add(c->diags, REC_DIAG_WARNING, path, 0, "ignoring entry that is not <address>,<port>[,<tpgt>]");
			continue;
		}
		if (c->f && c->f->address && !ndb_addr_equal(c->f->address, addr))
			continue;
		if (c->f && c->f->port != NODEDB_ANY && c->f->port != port)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			r = scan_portal_dir(c, target, de->d_name, addr, port, tpgt);
		} else if (S_ISREG(st.st_mode)) {
			snprintf(rel, sizeof(rel), "nodes/%s/%s", target, de->d_name);
			r = load_one(c, rel, target, addr, port, tpgt, NULL);
		}
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

int ndb_scan(struct nodedb *db, const char *target, const struct node_filter *f, struct node_list *out,
	     struct rec_diags *diags)
{
	return ndb_scan_skip(db, target, f, NULL, NULL, out, diags);
}

static int scan_all(struct scan_ctx *c, const char *target)
{
	struct nodedb *db = c->db;
	const struct node_filter *f = c->f;
	struct rec_diags *diags = c->diags;
	char path[PATH_MAX];

	if (target) {
		if (name_validate(target, NULL, 0) < 0)
			return -EINVAL;
		return scan_target(c, target);
	}
	int r = ndb_path(db, path, sizeof(path), "nodes");
	if (r < 0)
		return r;
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *de;
	r = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char why[128];
		if (name_validate(de->d_name, why, sizeof(why)) < 0) {
			/* open-iscsi lists such a record; we cannot use it (the
			 * name would not pass a login), but say so at every
			 * verbosity, or it is silently gone. */
			char shown[72];
			name_escape(de->d_name, strlen(de->d_name), shown, sizeof(shown));
			rec_diags_add(diags, REC_DIAG_NOTICE, path, 0,
				      "ignoring directory \"%s\": not a valid target name (%s)", shown, why);
			continue;
		}
		if (f && f->target && strcmp(f->target, de->d_name) != 0)
			continue;
		r = scan_target(c, de->d_name);
		if (r < 0)
			break;
	}
	closedir(d);
	return r;
}

int ndb_scan_skip(struct nodedb *db, const char *target, const struct node_filter *f, ndb_skip_fn skip,
		  void *skip_ud, struct node_list *out, struct rec_diags *diags)
{
	struct scan_ctx c = { db, f, out, diags, skip, skip_ud, NULL };

	return scan_all(&c, target);
}

static int cmp_idx(const void *pa, const void *pb, void *base)
{
	const struct node_entry *v = base;
	const struct node_rec *a = &v[*(const size_t *)pa].rec;
	const struct node_rec *b = &v[*(const size_t *)pb].rec;
	int c = strcmp(a->name, b->name);
	if (!c)
		c = strcmp(a->conn.address, b->conn.address);
	if (!c)
		c = (a->conn.port > b->conn.port) - (a->conn.port < b->conn.port);
	if (!c)
		c = (a->tpgt > b->tpgt) - (a->tpgt < b->tpgt);
	if (!c)
		c = strcmp(a->iface.name, b->iface.name);
	return c;
}

/* Sorting the structs themselves would move ~20 KB per swap; sort
 * indices, then rebuild once. */
static int sort_list(struct node_list *l)
{
	if (l->n < 2)
		return 0;
	size_t *idx = malloc(l->n * sizeof(*idx));
	struct node_entry *nv = malloc(l->n * sizeof(*nv));
	if (!idx || !nv) {
		free(idx);
		free(nv);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++)
		idx[i] = i;
	qsort_r(idx, l->n, sizeof(*idx), cmp_idx, l->v);
	for (size_t i = 0; i < l->n; i++)
		nv[i] = l->v[idx[i]];
	explicit_bzero(l->v, l->n * sizeof(*l->v));
	free(l->v);
	l->v = nv;
	l->cap = l->n;
	free(idx);
	return 0;
}

/* The end of a find: a -T that is not a valid name matches nothing; the
 * list sorted into *ret, or freed on error. */
static int find_done(int r, const struct node_filter *f, struct node_list *l, struct node_list *ret)
{
	if (r == -EINVAL && f && f->target)
		r = 0;   /* an invalid name matches nothing */
	if (r == 0)
		r = sort_list(l);
	if (r < 0) {
		node_list_free(l);
		return r;
	}
	*ret = *l;
	return 0;
}

int nodedb_node_find(struct nodedb *db, const struct node_filter *f, struct node_list *ret,
		     struct rec_diags *diags)
{
	struct node_list l = { 0 };

	if (!db || !ret)
		return -EINVAL;
	int r = ndb_scan(db, f ? f->target : NULL, f, &l, diags);
	return find_done(r, f, &l, ret);
}

int nodedb_node_find_corrupt(struct nodedb *db, const struct node_filter *f, struct node_list *ret,
			     struct rec_diags *diags)
{
	struct node_list l = { 0 };

	if (!db || !ret)
		return -EINVAL;
	struct scan_ctx c = { db, f, NULL, diags, NULL, NULL, &l };
	int r = scan_all(&c, f ? f->target : NULL);
	return find_done(r, f, &l, ret);
}

/* Whether the record file at path cannot be used (as load_one() sees it). */
bool ndb_file_corrupt(const char *path)
{
	char *buf;
	size_t len;
	int r = ndb_read(path, &buf, &len);

	if (r < 0)
		return r == -EFBIG;
	struct node_rec *rec = len ? malloc(sizeof(*rec)) : NULL;
	bool bad = true;
	if (rec) {
		node_rec_init(rec);
		bad = rec_parse(REC_KIND_NODE, rec, buf, len, NULL, NULL) < 0;
		explicit_bzero(rec, sizeof(*rec));
		free(rec);
	} else if (len) {
		bad = false;   /* out of memory: not known to be corrupt */
	}
	explicit_bzero(buf, len);
	free(buf);
	return bad;
}

int nodedb_node_load(struct nodedb *db, const char *target, const char *address, int port, int tpgt,
		     const char *iface, struct node_rec *ret, struct rec_diags *diags)
{
	struct node_filter f;
	struct node_list l = { 0 };

	if (!db || !target || !address || !iface || !ret)
		return -EINVAL;
	node_filter_init(&f);
	f.target = target;
	f.address = address;
	f.port = port;
	f.tpgt = tpgt;
	f.iface = iface;
	int r = ndb_scan(db, target, &f, &l, diags);
	if (r == 0 && l.n == 0)
		r = -ENOENT;
	if (r == 0)
		*ret = l.v[0].rec;
	node_list_free(&l);
	return r;
}
