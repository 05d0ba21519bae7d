/* Client side of iscsi-uspace, the userspace (libiscsi) session process:
 * start one detached, find the running ones, and talk to their control
 * sockets (doc/uspace.md has the protocol).
 *
 * Everything that waits comes in two forms: a begin/fd/step/free set for
 * an event loop (iscsid: poll the fd for POLLIN, call step until it stops
 * returning -EAGAIN; nothing blocks longer than a few system calls), and
 * a blocking call with a timeout for tools and tests.
 *
 * Errors are negative errno values; results of the session process
 * itself (login refused, session exists, ...) are open-iscsi exit codes
 * (errors.h) in the result structs. */
#ifndef LIBINITIATOR_USPACE_CTL_H
#define LIBINITIATOR_USPACE_CTL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define USPACE_CTL_VERSION 1
#define USPACE_CTL_MAGIC "uspace/1"
#define USPACE_RUNDIR_DEFAULT "/run/iscsi-uspace"
#define USPACE_RUNDIR_ENV "ISCSI_USPACE_RUNDIR"     /* tests relocate it */
#define USPACE_PROGRAM_ENV "ISCSI_USPACE_PROGRAM"   /* tests use the build tree's */
#define USPACE_CTL_REQ_MAX 4096
#define USPACE_CTL_REPLY_MAX 65536
#define USPACE_SID_MAX 0x7fffffff
#define USPACE_READY_FD 3                           /* the child's answer pipe */

/* --- the wire (one SOCK_SEQPACKET message each way) --- */

/* "uspace/1 <verb>[ <arg>]\n"; verb and arg are words of [a-z0-9_-].
 * Returns the length, -EINVAL for a bad word, -ENOBUFS. */
int uspace_ctl_format_request(char *buf, size_t len, const char *verb, const char *arg);
/* The other way round; -EPROTO for anything else (other version too). */
int uspace_ctl_parse_request(const char *buf, size_t len, char *verb, size_t verb_len, char *arg,
			     size_t arg_len);

struct uspace_reply {
	int code;               /* 0 or an exit code (errors.h) */
	char text[256];         /* one line */
	char *body;             /* "key value" lines, NUL-terminated; may be "" */
};
/* "uspace/1 <code> <text>\n<body>". -EPROTO when malformed. */
int uspace_ctl_parse_reply(const char *buf, size_t len, struct uspace_reply *ret);
void uspace_reply_free(struct uspace_reply *r);

/* The body of a status reply. */
struct uspace_lun {
	uint64_t lun;
	uint64_t size;          /* bytes */
	uint32_t block_size;
	char file[PATH_MAX];
	char loop[32];          /* "" when none */
};

#define USPACE_PARAMS_MAX 32
struct uspace_status {
	int sid;
	pid_t pid;
	char state[16];         /* LOGIN LOGGED_IN RECOVERY FAILED LOGOUT */
	char target[224];
	char portal[300];       /* current: after a redirect */
	char persistent_portal[300];
	int tpgt;
	char iface[65];
	char initiator[224];
	char mount[PATH_MAX];
	char last_error[256];
	size_t nparams;
	char params[USPACE_PARAMS_MAX][96];   /* "Key=Value" */
	size_t nluns;
	struct uspace_lun *luns;
};
/* -EPROTO for a malformed body (unknown keys are skipped). */
int uspace_status_parse(const char *body, struct uspace_status *ret);
/* What stands for the LUN where a block device would: its loop device
 * without "/dev/" ("loop0"), or the file's path when it has none. */
const char *uspace_lun_device(const struct uspace_lun *l);
void uspace_status_free(struct uspace_status *s);
/* A number from a "key value" body (stats); -ENOENT when absent. */
int uspace_body_u64(const char *body, const char *key, uint64_t *ret);
/* The value of "key" in a reply body ("state LOGGED_IN" -> "LOGGED_IN"),
 * copied into buf; -ENOENT when absent. */
int uspace_body_str(const char *body, const char *key, char *buf, size_t len);

/* --- requests to a running session --- */

/* The run directory of programs that relocate their files under a root
 * (iscsid --root, iscsiadm --root, $ISCSI_ROOT; paths.h): root NULL or ""
 * is the default. $ISCSI_USPACE_RUNDIR wins, else <root>/uspace, else
 * USPACE_RUNDIR_DEFAULT. -ENAMETOOLONG. */
int uspace_rundir_for_root(const char *root, char *buf, size_t len);

/* <rundir>/<sid>/ctl. rundir NULL: $ISCSI_USPACE_RUNDIR, else the default. */
int uspace_ctl_path(const char *rundir, int sid, char *buf, size_t len);
const char *uspace_rundir(const char *rundir_or_null);

struct uspace_call;
/* Connects and sends (neither blocks on a local SEQPACKET socket).
 * -ENOENT/-ECONNREFUSED: no such session running. The verb "watch"
 * keeps the connection: call step again for every state change; the
 * connection ends (-ECONNRESET) when the process exits. */
int uspace_call_begin(const char *rundir, int sid, const char *verb, const char *arg, struct uspace_call **ret);
int uspace_call_fd(const struct uspace_call *c);
/* -EAGAIN until the reply is there; then 0 with *ret filled (free it with
 * uspace_reply_free). -EPROTO, -ECONNRESET (the process went away). */

int uspace_call_step(struct uspace_call *c, struct uspace_reply *ret);
void uspace_call_free(struct uspace_call *c);   /* NULL is a no-op */
/* Blocking, for tools: -ETIMEDOUT after timeout_ms. */
int uspace_call(const char *rundir, int sid, const char *verb, const char *arg, int timeout_ms,
		struct uspace_reply *ret);

/* --- sessions in the run directory --- */

struct uspace_entry {
	int sid;
	pid_t pid;              /* 0 when unknown */
	bool alive;             /* its process holds the lock */
};
/* Sorted by sid; *ret_list is malloc()ed (free()). A missing run
 * directory is an empty list. */
int uspace_list(const char *rundir, struct uspace_entry **ret_list, size_t *ret_n);
/* The record a session was started with (no secrets), malloc()ed text. */
int uspace_read_record(const char *rundir, int sid, char **ret_text, size_t *ret_len);

/* --- starting the process --- */

enum uspace_spawn_mode {
	USPACE_SPAWN_RUN,       /* log in and serve (record required) */
	USPACE_SPAWN_CLEANUP,   /* remove a dead session's mount, loop devices, files */
};

struct uspace_start_args {
	enum uspace_spawn_mode mode;
	const char *program;    /* NULL: $ISCSI_USPACE_PROGRAM, else the installed one */
	const char *rundir;     /* NULL: uspace_rundir(NULL) */
	int sid;                /* 1..USPACE_SID_MAX */
	const char *record;     /* node record text, secrets included: it goes
	                         * through a pipe, never argv or environ */
	size_t record_len;
	const char *initiator_name;  /* NULL: iface.initiatorname of the record */
	bool no_loop;           /* files only, no loop devices */
	bool to_syslog;         /* the process logs to syslog (else to stderr_fd) */
	int stderr_fd;          /* the process's stderr; -1: /dev/null */
	int debug;
};

struct uspace_start_result {
	int code;               /* 0 logged in (or cleaned); else an exit code */
	pid_t pid;              /* the session process */
	char message[512];
};

/* The program uspace_start_begin() runs for args.program == NULL:
 * $ISCSI_USPACE_PROGRAM (absolute), else the installed one. */
const char *uspace_program(void);

struct uspace_start;
/* Forks the process (setsid, double fork: it is nobody's child and
 * outlives the caller) and writes the record into its pipe. */
int uspace_start_begin(const struct uspace_start_args *a, struct uspace_start **ret);
int uspace_start_fd(const struct uspace_start *s);
/* -EAGAIN until the process answered (logged in or failed). */
int uspace_start_step(struct uspace_start *s, struct uspace_start_result *ret);
/* Forgets the process (it goes on). NULL is a no-op. */
void uspace_start_free(struct uspace_start *s);
/* Blocking: -ETIMEDOUT when no answer within timeout_ms (the process may
 * still log in; ask it with status). */
int uspace_start(const struct uspace_start_args *a, int timeout_ms, struct uspace_start_result *ret);

#endif
