/* The userspace carrier's insides (carrier_uspace.c: probe, login, the
 * process's watch and end, adoption; carrier_uspace_req.c: requests on a
 * process's control socket). Everything runs on the event loop. */
#ifndef ISCSID_CARRIER_USPACE_H
#define ISCSID_CARRIER_USPACE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "carrier.h"
#include "loop.h"
#include "transport.h"
#include "uspace_ctl.h"

#define TU_NAME "uspace"
#define TU_LOGOUT_MS 120000u    /* the process bounds its logout by logout_timeout */
#define TU_RESCAN_MS 90000u     /* ... and its scan by 60 s */
#define TU_STATUS_MS 10000u     /* status, stats: the main thread answers at once */
#define TU_STATS_MAX 64
#define TU_DEVICES_MAX 256      /* LUNs a process exposes (uspace/usp.h) */

struct tu;
struct us;

enum uop_kind { UOP_LOGIN_STATUS, UOP_STATUS, UOP_LOGOUT, UOP_RESCAN, UOP_STATS };

/* One request on its own control connection. */
struct uop {
	struct us *u;
	enum uop_kind kind;
	struct uspace_call *call;
	struct loop_io *io;
	struct loop_timer timer;
	transport_done_fn done;         /* NULL for UOP_STATUS */
	void *data;
	struct uop *next;
};

/* One session: its process. */
struct us {
	struct tu *t;
	struct session *s;              /* NULL once ended */
	uint32_t sid;
	pid_t pid;
	/* the login: start, then one status for tpgt and devices */
	struct uspace_start *start;
	struct loop_io *start_io;
	transport_done_fn login_done;
	void *login_data;
	/* the process's state changes, and its end */
	struct uspace_call *watch;
	struct loop_io *watch_io;
	struct loop_timer rewatch;      /* the process refused the watch: again later */
	struct uop *ops;
	struct us *next;
};

/* `iscsi-uspace cleanup` of a dead session's leftovers. */
struct cleanup {
	struct tu *t;
	int sid;
	struct uspace_start *start;
	struct loop_io *io;
	struct cleanup *next;
};

struct tu {
	struct carrier base;            /* first: the ops table */
	struct loop *loop;
	struct iscsid *daemon;
	char rundir[PATH_MAX];
	char program[PATH_MAX];         /* "" : uspace_program() */
	char devfuse[PATH_MAX];
	struct us *head;
	struct cleanup *cleanups;
};

/* carrier_uspace.c */
const char *us_what(const struct us *u, char *buf, size_t len);
/* Frees u once nothing refers to it any more. */
void us_maybe_free(struct us *u);
/* Removes what a dead session's process left (loop devices, mount). */
void cleanup_start(struct tu *t, int sid);

/* carrier_uspace_req.c */
/* Sends verb to u's process; the answer comes through done (from the
 * loop), also when the process is not there. done NULL: nobody waits
 * (the login's status, a refresh after adoption). */
int uop_start(struct us *u, enum uop_kind kind, const char *verb, const char *arg, unsigned timeout_ms,
	      transport_done_fn done, void *data);
void uop_free(struct uop *o);
/* Answers the login u was started for (once). */
void login_answer(struct us *u, const struct transport_result *res);

#endif
