/* iscsi-uspace: one iSCSI session in userspace (libiscsi), its LUNs
 * exposed as files on a FUSE mount and as loop block devices.
 *
 * Threads (one process per session):
 *  - main:   control socket, signals, loop devices, start and stop;
 *  - engine: owns the libiscsi context (libiscsi 1.19 is not thread
 *            safe): login, recovery, NOP-Outs, SCSI commands;
 *  - fuse:   libfuse's loop; read/write/fsync become requests handed to
 *            the engine, which answers the kernel itself when the target
 *            has answered, so many requests are in flight at once.
 *
 * Errors are negative errno values unless a function says it returns an
 * iscsi_err exit code (libinitiator/errors.h). */
#ifndef USPACE_USP_H
#define USPACE_USP_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/uio.h>
#include <time.h>

#include "record.h"

#define USP_LUNS_MAX 256                 /* LUNs exposed per session */
#define USP_PARAMS_MAX 32                /* negotiated keys kept */
#define USP_PARAM_SIZE 96
#define USP_MSG_SIZE 512
#define USP_IO_MAX (1024 * 1024)         /* largest FUSE request (max_write) */
#define USP_CONN_RETRIES 5             /* a command in flight when the connection
                                          * failed this often fails (EIO), as sd
                                          * gives up after its retries: a target
                                          * that logs in and then chokes on the
                                          * same command every time */
#define USP_CMD_TIMEOUT 30               /* s: a SCSI command the target never
                                          * answers fails the connection, as
                                          * the kernel's sd timeout does */

/* --- log.c --- */
#define USP_FMT(a, b) __attribute__((format(printf, a, b)))
void usp_log_init(bool syslog, int debug);
int usp_log_debug_level(void);
void usp_err(const char *fmt, ...) USP_FMT(1, 2);
void usp_warn(const char *fmt, ...) USP_FMT(1, 2);
void usp_info(const char *fmt, ...) USP_FMT(1, 2);
void usp_debug(const char *fmt, ...) USP_FMT(1, 2);

/* --- the session's settings (config.c) --- */
enum usp_state {
	USP_STATE_LOGIN,       /* first login under way */
	USP_STATE_LOGGED_IN,
	USP_STATE_RECOVERY,    /* connection lost, I/O held, reconnecting */
	USP_STATE_FAILED,      /* replacement_timeout passed: I/O fails, still reconnecting */
	USP_STATE_LOGOUT,      /* logging out, no new I/O */
};
const char *usp_state_name(enum usp_state s);

struct usp_config {
	struct node_rec rec;            /* secrets included: never written out */
	int sid;
	char rundir[PATH_MAX];          /* the parent: <rundir>/<sid>/ is ours */
	char dir[PATH_MAX];             /* <rundir>/<sid> */
	char mnt[PATH_MAX];             /* <dir>/luns: the FUSE mount */
	char iname[256];                /* initiator name */
	char portal[300];               /* "host:port" for libiscsi */
	int header_digest;              /* enum iscsi_header_digest */
	bool chap, mutual;
	char bind_if[32];               /* iface.net_ifacename or from hwaddress */
	bool no_loop;                   /* --no-loop: files only */
	int replacement_timeout;        /* s; <0 waits forever, 0 fails at once */
	int login_timeout;              /* s, each login attempt */
	int login_retries;              /* first login: attempts after the first */
	int noop_interval, noop_timeout;/* s; 0 = no NOP-Outs */
	int cmds_max;                   /* commands in flight */
};

/* Fills c->rec-derived fields and refuses what libiscsi 1.19 cannot do
 * honestly. Returns 0 or an iscsi_err exit code with a message in msg.
 * Warnings for settings that cannot be applied but weaken nothing are
 * logged. */
int usp_config_check(struct usp_config *c, char *msg, size_t msglen);

/* --- LUN table (shared by main, fuse and engine; lock in usp_luns) --- */
struct usp_lun {
	bool used;
	uint64_t lun;                   /* LUN number (REPORT LUNS, flat space) */
	uint32_t block_size;
	uint64_t blocks;
	char name[32];                  /* "lun<N>" */
	char loopdev[32];               /* "/dev/loopN" or "" */
};

struct usp_luns {
	pthread_rwlock_t lock;
	struct usp_lun v[USP_LUNS_MAX]; /* FUSE inode = index + 2 */
	uint64_t generation;            /* bumped on every change */
};

/* A scan result from the engine. */
struct usp_scan_lun {
	uint64_t lun;
	uint32_t block_size;
	uint64_t blocks;
};
struct usp_scan {
	size_t n;
	struct usp_scan_lun v[USP_LUNS_MAX];
	size_t skipped;                 /* LUNs past USP_LUNS_MAX or not disks */
};

/* --- engine.c: libiscsi owner --- */
enum usp_op { USP_OP_READ, USP_OP_WRITE, USP_OP_SYNC };

struct usp_req {
	struct usp_req *next, *prev;
	enum usp_op op;
	uint64_t lun;
	uint32_t block_size;
	uint64_t lba;
	uint32_t nblocks;
	size_t skip;                    /* read: bytes to drop at the front */
	size_t len;                     /* read: bytes to return; write: bytes */
	unsigned char *buf;             /* whole blocks (NULL: the data is in rx) */
	void *rx;                       /* write: the FUSE receive buffer the data
	                                 * is in, held until the request is done */
	struct iovec iov;               /* buf as libiscsi's scsi_iovec (same layout) */
	void *fuse_req;                 /* fuse_req_t */
	/* Called once, on the engine thread (or the submitter's when the
	 * session has failed): err 0 or a negative errno. */
	void (*done)(struct usp_req *r, int err);
	/* engine only */
	struct usp_engine *owner;
	struct scsi_task *task;
	uint64_t seq;                   /* arrival order, kept across recovery */
	unsigned retries;               /* UNIT ATTENTION / BUSY retries */
	unsigned conn_failures;         /* connections lost while it was in flight */
	uint64_t not_before_ms;         /* BUSY: wait a little */
};

struct usp_stats {
	uint64_t cmds, cmds_read, cmds_write, cmds_sync, cmds_other;
	uint64_t bytes_read, bytes_written;
	uint64_t completed, errors_eio, check_conditions, retries;
	uint64_t conn_failures, reconnects, login_attempts, timeouts;
	uint64_t nops_sent, nops_answered;
	uint64_t recovery_ms;           /* total time spent in RECOVERY/FAILED */
	int queue_length, out_queue_length, nops_in_flight;  /* libiscsi's own */
	int inflight, queued;
};

struct usp_status {
	enum usp_state state;
	char portal[300];               /* current (after a redirect) */
	int tpgt;                       /* -1 unknown */
	unsigned nparams;
	char params[USP_PARAMS_MAX][USP_PARAM_SIZE];  /* "Key=Value" as negotiated */
	char last_error[USP_MSG_SIZE];
};

struct usp_engine;

/* Starts the engine thread and the first login; blocks until LOGGED_IN
 * or failure. Returns 0 or an iscsi_err exit code (msg says why). */
int engine_start(struct usp_config *c, struct usp_engine **ret, char *msg, size_t msglen);
/* Hands one request to the engine (any thread). It answers the FUSE
 * request itself. */
void engine_submit(struct usp_engine *e, struct usp_req *r);
/* REPORT LUNS + INQUIRY + READ CAPACITY, blocking the caller (not the
 * engine) up to timeout_ms. 0, or an iscsi_err code with msg. */
int engine_scan(struct usp_engine *e, struct usp_scan *ret, int timeout_ms, char *msg, size_t msglen);
/* Fails all held I/O, logs out (bounded by logout_timeout), stops the
 * thread and frees everything. NULL is a no-op. */
void engine_stop(struct usp_engine *e, bool logout);
void engine_get_status(struct usp_engine *e, struct usp_status *ret);
/* Readable (POLLIN) when the state changed; engine_state() reads the
 * state and clears it. */
int engine_notify_fd(const struct usp_engine *e);
enum usp_state engine_state(struct usp_engine *e);
void engine_get_stats(struct usp_engine *e, struct usp_stats *ret);

/* --- fs.c: the FUSE mount --- */
struct usp_fs;
int fs_start(struct usp_config *c, struct usp_luns *luns, struct usp_engine *e, struct usp_fs **ret);
/* A LUN's size changed or LUNs came or went: drop cached attributes. */
void fs_notify(struct usp_fs *fs, unsigned idx);
/* Unmounts (lazily when busy): no new requests come. */
void fs_unmount(struct usp_fs *fs);
/* After the engine answered every request. NULL is a no-op. */
void fs_free(struct usp_fs *fs);

/* --- loopdev.c --- */
/* Attaches path (a LUN file) to a free loop device with direct I/O where
 * it works. ret_dev gets "/dev/loopN". */
int loop_attach(const char *path, uint32_t block_size, char *ret_dev, size_t len);
/* Re-reads the backing file's size (LOOP_SET_CAPACITY). */
int loop_resize(const char *dev);
/* Detaches (autoclear when still open elsewhere). */
int loop_detach(const char *dev);
/* Detaches every loop device whose backing file lies under dir. Returns
 * the number detached. */
int loop_detach_under(const char *dir);

/* --- rundir.c --- */
/* Takes <dir>/lock (held for the life of the process). -EEXIST when a live
 * process holds it. Stale leftovers of a dead one are cleaned first. */
int rundir_claim(struct usp_config *c, int *ret_lock_fd);
/* Writes pid, sid and the record (no secrets) into <dir>. */
int rundir_write_state(const struct usp_config *c);
/* Removes loop devices, the mount and the files of a dead session's
 * directory. Returns 0, -EBUSY if its process is alive. */
int rundir_cleanup(const char *dir);
void rundir_remove(const struct usp_config *c);

/* --- ctl.c: control socket --- */
struct usp_ctl;
struct usp_main;
int ctl_open(const struct usp_config *c, struct usp_ctl **ret);
int ctl_fd(const struct usp_ctl *ctl);
/* Accepts and answers one pending request (POLLIN on ctl_fd). Sets
 * *ret_logout when a logout was asked for; reply_logout() answers it. */
void ctl_handle(struct usp_ctl *ctl, struct usp_main *m, bool *ret_logout);
/* Watchers: connections that asked for `watch` stay open and get one
 * message per state change (doc/uspace.md). ctl_watch_fds() fills up to
 * max descriptors to poll (a hang-up drops the watcher: ctl_watch_event). */
#define USP_WATCHERS_MAX 8
size_t ctl_watch_fds(const struct usp_ctl *ctl, int *fds, size_t max);
void ctl_watch_event(struct usp_ctl *ctl, int fd, short revents);
void ctl_notify(struct usp_ctl *ctl, enum usp_state state);
void ctl_close(struct usp_ctl *ctl, const struct usp_config *c);

/* main.c: what the control requests act on. */
struct usp_main {
	struct usp_config *cfg;
	struct usp_engine *engine;
	struct usp_fs *fs;
	struct usp_luns *luns;
	int logout_client;              /* control connection waiting for logout, or -1 */
	bool safe_logout;
};
/* Rescan: new LUNs get files and loop devices, resized LUNs change size.
 * 0 or an iscsi_err code with msg. */
int main_rescan(struct usp_main *m, char *msg, size_t msglen);
/* Loop devices of LUNs that are mounted or held open: their names, ""
 * when none. */
void main_busy_devices(struct usp_main *m, char *buf, size_t len);

#endif
