/* The FUSE mount: <rundir>/<sid>/luns/, one regular file per LUN.
 *
 * libfuse's low-level API, one reader thread: a read, write or fsync
 * becomes a request for the engine and the handler returns at once; the
 * engine answers the kernel when the target has answered. So the number
 * of requests in flight is bounded by the kernel (max_background, raised
 * here) and by node.session.cmds_max, not by threads.
 *
 * Files are opened with direct_io: no page cache in front of data that
 * lives on the target (and that another initiator may change). Reads may
 * start anywhere; writes must be whole blocks of the LUN (EINVAL
 * otherwise), as for a block device opened with O_DIRECT: a read-modify-
 * write here could not be atomic. The files cannot grow or shrink. */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "usp.h"

#define ATTR_TIMEOUT 1.0

struct usp_fs {
	struct usp_config *cfg;
	struct usp_luns *luns;
	struct usp_engine *engine;
	struct fuse_session *se;
	pthread_t thread;
	bool running;
};

static bool ino_lun(fuse_ino_t ino, unsigned *ret_idx)
{
	if (ino < 2 || ino >= 2 + USP_LUNS_MAX)
		return false;
	*ret_idx = (unsigned)(ino - 2);
	return true;
}

/* Attributes of a LUN under the read lock; false when it is gone. */
static bool lun_attr(struct usp_fs *fs, unsigned idx, struct stat *st, struct usp_lun *ret)
{
	bool ok;

	pthread_rwlock_rdlock(&fs->luns->lock);
	ok = fs->luns->v[idx].used;
	if (ok) {
		struct usp_lun *l = &fs->luns->v[idx];
		if (ret)
			*ret = *l;
		if (st) {
			memset(st, 0, sizeof(*st));
			st->st_ino = idx + 2;
			st->st_mode = S_IFREG | 0600;
			st->st_nlink = 1;
			st->st_size = (off_t)(l->blocks * l->block_size);
			st->st_blksize = (blksize_t)l->block_size;
			st->st_blocks = (blkcnt_t)(l->blocks * l->block_size / 512);
		}
	}
	pthread_rwlock_unlock(&fs->luns->lock);
	return ok;
}

static void root_attr(struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = FUSE_ROOT_ID;
	st->st_mode = S_IFDIR | 0755;
	st->st_nlink = 2;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct usp_fs *fs = fuse_req_userdata(req);
	struct fuse_entry_param ep = { .attr_timeout = ATTR_TIMEOUT, .entry_timeout = ATTR_TIMEOUT };
	int idx = -1;

	if (parent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	pthread_rwlock_rdlock(&fs->luns->lock);
	for (unsigned i = 0; i < USP_LUNS_MAX; i++)
		if (fs->luns->v[i].used && !strcmp(fs->luns->v[i].name, name)) {
			idx = (int)i;
			break;
		}
	pthread_rwlock_unlock(&fs->luns->lock);
	if (idx < 0 || !lun_attr(fs, (unsigned)idx, &ep.attr, NULL)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	ep.ino = (fuse_ino_t)idx + 2;
	fuse_reply_entry(req, &ep);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct usp_fs *fs = fuse_req_userdata(req);
	struct stat st;
	unsigned idx;

	(void)fi;
	if (ino == FUSE_ROOT_ID) {
		root_attr(&st);
		fuse_reply_attr(req, &st, ATTR_TIMEOUT);
		return;
	}
	if (!ino_lun(ino, &idx) || !lun_attr(fs, idx, &st, NULL)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fuse_reply_attr(req, &st, ATTR_TIMEOUT);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi)
{
	struct usp_fs *fs = fuse_req_userdata(req);
	struct stat st;
	unsigned idx;

	(void)fi;
	if (!ino_lun(ino, &idx) || !lun_attr(fs, idx, &st, NULL)) {
		fuse_reply_err(req, ino == FUSE_ROOT_ID ? EPERM : ENOENT);
		return;
	}
	/* a LUN's size is the target's; O_TRUNC of an unchanged size and
	 * time updates are accepted and ignored */
	if ((to_set & FUSE_SET_ATTR_SIZE) && attr->st_size != st.st_size) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	fuse_reply_attr(req, &st, ATTR_TIMEOUT);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct usp_fs *fs = fuse_req_userdata(req);
	char *buf;
	size_t used = 0;
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	if (size > 65536)
		size = 65536;
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* offsets: 1 ".", 2 "..", 3 + i the LUN in slot i */
	memset(&st, 0, sizeof(st));
	for (off_t pos = off; pos < 2 + USP_LUNS_MAX; pos++) {
		const char *name;
		char lname[32];
		if (pos == 0) {
			name = ".";
			st.st_ino = FUSE_ROOT_ID;
			st.st_mode = S_IFDIR;
		} else if (pos == 1) {
			name = "..";
			st.st_ino = FUSE_ROOT_ID;
			st.st_mode = S_IFDIR;
		} else {
			unsigned i = (unsigned)(pos - 2);
			bool used_slot;
			pthread_rwlock_rdlock(&fs->luns->lock);
			used_slot = fs->luns->v[i].used;
			if (used_slot)
				snprintf(lname, sizeof(lname), "%s", fs->luns->v[i].name);
			pthread_rwlock_unlock(&fs->luns->lock);
			if (!used_slot)
				continue;
			name = lname;
			st.st_ino = i + 2;
			st.st_mode = S_IFREG;
		}
		size_t n = fuse_add_direntry(req, buf + used, size - used, name, &st, pos + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct usp_fs *fs = fuse_req_userdata(req);
	unsigned idx;

	if (!ino_lun(ino, &idx) || !lun_attr(fs, idx, NULL, NULL)) {
		fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
		return;
	}
	fi->direct_io = 1;
	fi->keep_cache = 0;
	fuse_reply_open(req, fi);
}

/* --- I/O: handed to the engine, answered from its thread --- */

/* I/O buffers. A fresh 1 MiB allocation is mmap'ed, faulted in page by
 * page (zeroed by the kernel) and unmapped again when freed: perf showed
 * that costing more CPU than moving the data (a third of the read path,
 * page faults under memset and memcpy). Large buffers are kept for the
 * next request instead, at most POOL_MAX of them (about 34 MiB); small
 * ones come from the heap, where reuse is cheap already. */
#define POOL_MIN (128 * 1024)                   /* buffers above this are pooled */
#define POOL_BUF (USP_IO_MAX + 65536)           /* a whole request + one block of skew */
#define POOL_MAX 32

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static void *pool[POOL_MAX];
static size_t npool;

static void *buf_get(size_t bytes)
{
	void *p = NULL;
	if (bytes > POOL_MIN) {
		pthread_mutex_lock(&pool_mu);
		if (npool)
			p = pool[--npool];
		pthread_mutex_unlock(&pool_mu);
		if (p)
			return p;
		bytes = POOL_BUF;
	}
	return posix_memalign(&p, 4096, bytes ? bytes : 4096) ? NULL : p;
}

static void buf_put(void *p, size_t bytes)
{
	if (p && bytes > POOL_MIN) {
		pthread_mutex_lock(&pool_mu);
		if (npool < POOL_MAX) {
			pool[npool++] = p;
			p = NULL;
		}
		pthread_mutex_unlock(&pool_mu);
	}
	free(p);
}

/* Receive buffers: libfuse allocates them (at its own size) and reads
 * each request into one. A write's data is sent from there, not copied
 * (a 1 MiB memcpy per request): its buffer goes with the request until
 * the target has the data, and the next request is read into another.
 * Only the reader thread receives; rx_cur is the buffer it is working on. */
static struct {
	char *mem;
	size_t len;
	bool taken;
} rx_cur;
static void *rx_pool[POOL_MAX];
static size_t nrx;

static void *rx_get(void)
{
	void *p = NULL;
	pthread_mutex_lock(&pool_mu);
	if (nrx)
		p = rx_pool[--nrx];
	pthread_mutex_unlock(&pool_mu);
	return p;                       /* NULL: libfuse allocates one */
}

static void rx_put(void *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&pool_mu);
	if (nrx < POOL_MAX) {
		rx_pool[nrx++] = p;
		p = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	free(p);
}

static void req_free(struct usp_req *r)
{
	if (r->rx)
		rx_put(r->rx);
	else
		buf_put(r->buf, r->iov.iov_len);
	free(r);
}

static void done_read(struct usp_req *r, int err)
{
	if (err)
		fuse_reply_err(r->fuse_req, -err);
	else
		fuse_reply_buf(r->fuse_req, (const char *)r->buf + r->skip, r->len);
	req_free(r);
}

static void done_write(struct usp_req *r, int err)
{
	if (err)
		fuse_reply_err(r->fuse_req, -err);
	else
		fuse_reply_write(r->fuse_req, r->len);
	req_free(r);
}

static void done_sync(struct usp_req *r, int err)
{
	fuse_reply_err(r->fuse_req, -err);
	req_free(r);
}

static struct usp_req *req_new(fuse_req_t req, const struct usp_lun *l, enum usp_op op)
{
	struct usp_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->fuse_req = req;
	r->op = op;
	r->lun = l->lun;
	r->block_size = l->block_size;
	return r;
}

static int req_buf(struct usp_req *r)
{
	size_t bytes = (size_t)r->nblocks * r->block_size;
	void *p = bytes <= POOL_BUF ? buf_get(bytes) : NULL;
	if (!p)
		return -ENOMEM;
	r->buf = p;
	r->iov.iov_base = p;
	r->iov.iov_len = bytes;
	return 0;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct usp_fs *fs = fuse_req_userdata(req);
	struct usp_lun l;
	unsigned idx;

	(void)fi;
	if (!ino_lun(ino, &idx) || !lun_attr(fs, idx, NULL, &l)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	uint64_t fsize = l.blocks * l.block_size;
	if (off < 0 || (uint64_t)off >= fsize || !size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (size > USP_IO_MAX)
		size = USP_IO_MAX;
	if ((uint64_t)off + size > fsize)
		size = (size_t)(fsize - (uint64_t)off);
	struct usp_req *r = req_new(req, &l, USP_OP_READ);
	if (!r) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r->lba = (uint64_t)off / l.block_size;
	r->skip = (size_t)((uint64_t)off % l.block_size);
	r->len = size;
	r->nblocks = (uint32_t)((r->skip + size + l.block_size - 1) / l.block_size);
	if (req_buf(r)) {
		free(r);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	/* a target that sends less than it says must not show the reader
	 * whatever this process had in that memory before */
	memset(r->buf, 0, r->iov.iov_len);
	r->done = done_read;
	engine_submit(fs->engine, r);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	struct usp_fs *fs = fuse_req_userdata(req);
	struct usp_lun l;
	unsigned idx;

	(void)fi;
	if (!ino_lun(ino, &idx) || !lun_attr(fs, idx, NULL, &l)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	uint64_t fsize = l.blocks * l.block_size;
	if (off < 0 || (uint64_t)off % l.block_size || size % l.block_size) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if ((uint64_t)off >= fsize || size > fsize - (uint64_t)off) {
		fuse_reply_err(req, ENOSPC);
		return;
	}
	if (!size) {
		fuse_reply_write(req, 0);
		return;
	}
	struct usp_req *r = req_new(req, &l, USP_OP_WRITE);
	if (!r) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r->lba = (uint64_t)off / l.block_size;
	r->len = size;
	r->nblocks = (uint32_t)(size / l.block_size);
	if (rx_cur.mem && buf >= rx_cur.mem && size <= rx_cur.len && buf - rx_cur.mem <= (ptrdiff_t)(rx_cur.len - size)) {
		/* the data stays where it was received */
		r->rx = rx_cur.mem;
		rx_cur.taken = true;
		r->iov.iov_base = (void *)buf;
		r->iov.iov_len = size;
	} else if (req_buf(r)) {
		free(r);
		fuse_reply_err(req, ENOMEM);
		return;
	} else {
		memcpy(r->buf, buf, size);
	}
	r->done = done_write;
	engine_submit(fs->engine, r);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct usp_fs *fs = fuse_req_userdata(req);
	struct usp_lun l;
	unsigned idx;

	(void)datasync;
	(void)fi;
	if (!ino_lun(ino, &idx) || !lun_attr(fs, idx, NULL, &l)) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct usp_req *r = req_new(req, &l, USP_OP_SYNC);
	if (!r) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	r->done = done_sync;
	engine_submit(fs->engine, r);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	/* close(2): writes are already on the target (direct_io) */
	fuse_reply_err(req, 0);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	(void)userdata;
	conn->max_write = USP_IO_MAX;
	/* asynchronous direct I/O (the loop device's) is "background" to
	 * the kernel: let a queue depth of 32 and more through */
	conn->max_background = 128;
	conn->congestion_threshold = 96;
	if (conn->capable & FUSE_CAP_ASYNC_DIO)
		conn->want |= FUSE_CAP_ASYNC_DIO;
	if (conn->capable & FUSE_CAP_ASYNC_READ)
		conn->want |= FUSE_CAP_ASYNC_READ;
	conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

static const struct fuse_lowlevel_ops ops = {
	.init = op_init,
	.lookup = op_lookup,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
	.write = op_write,
	.fsync = op_fsync,
	.flush = op_flush,
};

static void on_sigusr1(int sig)
{
	(void)sig;   /* only interrupts the reader's read(2) */
}

/* fuse_session_loop(), with receive buffers that a write may keep. */
static void *fs_thread(void *arg)
{
	struct usp_fs *fs = arg;
	struct fuse_buf fbuf = { .mem = NULL };

	while (!fuse_session_exited(fs->se)) {
		if (!fbuf.mem)
			fbuf.mem = rx_get();
		int res = fuse_session_receive_buf(fs->se, &fbuf);
		if (res == -EINTR)
			continue;
		if (res <= 0)
			break;
		rx_cur.mem = fbuf.mem;
		rx_cur.len = (size_t)res;
		rx_cur.taken = false;
		fuse_session_process_buf(fs->se, &fbuf);
		if (rx_cur.taken)
			fbuf.mem = NULL;
		rx_cur.mem = NULL;
	}
	rx_put(fbuf.mem);
	fuse_session_reset(fs->se);
	return NULL;
}

int fs_start(struct usp_config *c, struct usp_luns *luns, struct usp_engine *e, struct usp_fs **ret)
{
	struct usp_fs *fs = calloc(1, sizeof(*fs));
	char fsname[64];

	if (!fs)
		return -ENOMEM;
	fs->cfg = c;
	fs->luns = luns;
	fs->engine = e;
	snprintf(fsname, sizeof(fsname), "-ofsname=iscsi-uspace:%d,subtype=iscsi", c->sid);
	char *argv[] = { "iscsi-uspace", fsname, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(2, argv);
	fs->se = fuse_session_new(&args, &ops, sizeof(ops), fs);
	if (!fs->se) {
		free(fs);
		return -EIO;
	}
	if (fuse_session_mount(fs->se, c->mnt)) {
		fuse_session_destroy(fs->se);
		free(fs);
		return -EIO;
	}
	struct sigaction sa = { .sa_handler = on_sigusr1 };   /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	if (pthread_create(&fs->thread, NULL, fs_thread, fs)) {
		fuse_session_unmount(fs->se);
		fuse_session_destroy(fs->se);
		free(fs);
		return -EAGAIN;
	}
	fs->running = true;
	*ret = fs;
	return 0;
}

void fs_notify(struct usp_fs *fs, unsigned idx)
{
	if (fs && fs->running)
		fuse_lowlevel_notify_inval_inode(fs->se, (fuse_ino_t)idx + 2, 0, 0);
}

void fs_unmount(struct usp_fs *fs)
{
	if (!fs || !fs->running)
		return;
	fuse_session_exit(fs->se);
	/* the signal may come before the reader is in read(2): repeat */
	for (;;) {
		pthread_kill(fs->thread, SIGUSR1);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_timedjoin_np(fs->thread, NULL, &ts) == 0)
			break;
	}
	fs->running = false;
	/* as root this is umount2(MNT_DETACH): a mount still held (a loop
	 * device someone keeps open) goes from the namespace now */
	fuse_session_unmount(fs->se);
}

void fs_free(struct usp_fs *fs)
{
	if (!fs)
		return;
	fs_unmount(fs);
	fuse_session_destroy(fs->se);
	free(fs);
}
