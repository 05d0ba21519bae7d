/* The userspace carrier ("uspace", carrier.h): each session is an
 * iscsi-uspace process (libiscsi; LUNs as files on a FUSE mount and as
 * loop devices), started through libinitiator/uspace_ctl.h and spoken to
 * over its control socket (doc/uspace.md). The process logs in,
 * reconnects and scans by itself; iscsid starts it, answers the login
 * with what it says, watches it, passes logout/rescan/stats on, and adopts
 * the running ones after a restart. The processes are nobody's children
 * (setsid, double fork): stopping or killing iscsid leaves them running.
 *
 * Per session, one control connection stays open: `watch`, on which the
 * process sends its state whenever it changes (LOGGED_IN, RECOVERY,
 * FAILED, LOGOUT). Its end is the end of the process: a logout, or a
 * crash; after a crash the run directory's leftovers (a dead FUSE mount,
 * loop devices) are cleaned by `iscsi-uspace cleanup`. Every other
 * request is one connection, one reply, bounded by a timer
 * (carrier_uspace_req.c). Nothing here blocks: starting a process is a
 * fork, and every answer comes through the loop. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "carrier.h"
#include "carrier_uspace.h"
#include "errbuf.h"
#include "errors.h"
#include "ipc.h"
#include "iscsid.h"
#include "log.h"
#include "loop.h"
#include "record.h"
#include "session.h"
#include "uspace_ctl.h"


static const char *program(const struct tu *t)
{
	return t->program[0] ? t->program : uspace_program();
}

/* ---- probe ---- */

/* 0, or 12 with msg: what the host (or this build) lacks. */
static int usable(const struct tu *t, char *msg, size_t len)
{
#ifndef HAVE_USPACE
	(void)t;
	errbuf_set(msg, len,
		   "iSCSI transport '" TU_NAME "' not available: this iscsid was built without it (libiscsi or "
		   "libfuse3 were missing: install libiscsi-dev and libfuse3-dev and build again)");
	return ISCSI_ERR_TRANS_NOT_FOUND;
#endif
	int fd = open(t->devfuse, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		errbuf_set(msg, len,
			 "iSCSI transport '" TU_NAME "' not available: it needs FUSE, and %s cannot be opened (%s): "
			 "load the fuse module, or give the container %s",
			 t->devfuse, strerror(errno), t->devfuse);
		return ISCSI_ERR_TRANS_NOT_FOUND;
	}
	close(fd);
	if (access(program(t), X_OK) < 0) {
		errbuf_set(msg, len, "iSCSI transport '" TU_NAME "' not available: %s cannot be run (%s)", program(t),
			 strerror(errno));
		return ISCSI_ERR_TRANS_NOT_FOUND;
	}
	return 0;
}

static int tu_probe(struct carrier *c, transport_done_fn done, void *data)
{
	struct tu *t = (struct tu *)c;
	char msg[TRANSPORT_MSG_MAX] = "";
	int code = usable(t, msg, sizeof(msg));
	return session_answer_later(c->layer, done, data, code, "%s", msg);
}

/* ---- sessions and their requests ---- */

const char *us_what(const struct us *u, char *buf, size_t len)
{
	if (u->s)
		return session_what(u->s, buf, len);
	snprintf(buf, len, "session %" PRIu32, u->sid);
	return buf;
}

static void us_unlink(struct us *u)
{
	for (struct us **pp = &u->t->head; *pp; pp = &(*pp)->next)
		if (*pp == u) {
			*pp = u->next;
			return;
		}
}

void us_maybe_free(struct us *u)
{
	if (u->s || u->start || u->watch || u->ops)
		return;
	loop_timer_disarm(u->t->loop, &u->rewatch);
	us_unlink(u);
	free(u);
}

static void watch_close(struct us *u)
{
	loop_io_remove(u->t->loop, u->watch_io);
	u->watch_io = NULL;
	uspace_call_free(u->watch);
	u->watch = NULL;
}

/* ---- cleanup of dead sessions ---- */

static void cleanup_free(struct cleanup *cl)
{
	for (struct cleanup **pp = &cl->t->cleanups; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	loop_io_remove(cl->t->loop, cl->io);
	uspace_start_free(cl->start);
	free(cl);
}

static void on_cleanup(struct loop *l, int fd, uint32_t events, void *data)
{
	struct cleanup *cl = data;
	struct uspace_start_result res;
	int r = uspace_start_step(cl->start, &res);
	if (r == -EAGAIN)
		return;
	if (r < 0 || res.code)
		log_warnx("uspace session %d: cleaning up after it failed: %s", cl->sid,
			  r < 0 ? strerror(-r) : res.message);
	else
		log_info("uspace session %d: cleaned up what its process left (mount, loop devices)", cl->sid);
	cleanup_free(cl);
}

/* Detaches the loop devices and unmounts the dead FUSE mount of a session
 * whose process died, in a process of its own (umount may wait). */
void cleanup_start(struct tu *t, int sid)
{
	char dir[PATH_MAX];
	int n = snprintf(dir, sizeof(dir), "%s/%d", t->rundir, sid);
	if (n < 0 || (size_t)n >= sizeof(dir) || access(dir, F_OK) < 0)
		return;                         /* it cleaned up itself */
	struct cleanup *cl = calloc(1, sizeof(*cl));
	if (!cl)
		return;
	struct uspace_start_args a = {
		.mode = USPACE_SPAWN_CLEANUP, .program = t->program[0] ? t->program : NULL, .rundir = t->rundir,
		.sid = sid, .to_syslog = !log_to_stderr(), .stderr_fd = log_to_stderr() ? 2 : -1,
	};
	cl->t = t;
	cl->sid = sid;
	int r = uspace_start_begin(&a, &cl->start);
	if (r == 0 && (r = loop_io_add(t->loop, uspace_start_fd(cl->start), EPOLLIN, on_cleanup, cl, &cl->io)) == 0) {
		cl->next = t->cleanups;
		t->cleanups = cl;
		return;
	}
	log_warnx("uspace session %d: cannot clean up after it: %s", sid, strerror(-r));
	uspace_start_free(cl->start);
	free(cl);
}

/* ---- the process's end ---- */

/* The process is gone (its watch connection closed). */
static void us_gone(struct us *u)
{
	char what[700];
	watch_close(u);
	if (u->s) {
		bool logout = false;
		for (struct uop *o = u->ops; o; o = o->next)
			logout |= o->kind == UOP_LOGOUT;
		if (!logout)
			log_warnx("%s: its iscsi-uspace process (pid %ld) ended without a logout", us_what(u, what, sizeof(what)),
				  (long)u->pid);
		struct session *s = u->s;
		u->s = NULL;
		session_end(s);
	}
	cleanup_start(u->t, (int)u->sid);
}

/* "LOGGED_IN", "RECOVERY", ... from the process: the layer's states.
 * FAILED (replacement_timeout passed: I/O fails, reconnecting goes on)
 * is a recovery that has not ended. */
static void apply_state(struct us *u, const char *st)
{
	if (!u->s)
		return;
	if (!strcmp(st, "LOGGED_IN"))
		(void)session_state_set(u->s, SESSION_LOGGED_IN, SESSION_CONN_LOGGED_IN);
	else if (!strcmp(st, "RECOVERY") || !strcmp(st, "FAILED"))
		(void)session_state_set(u->s, SESSION_RECOVERY, SESSION_CONN_TRANSPORT_WAIT);
	else if (!strcmp(st, "LOGOUT"))
		(void)session_state_set(u->s, SESSION_LOGOUT, SESSION_CONN_IN_LOGOUT);
}

static void on_watch(struct loop *l, int fd, uint32_t events, void *data)
{
	struct us *u = data;
	for (;;) {
		struct uspace_reply rep;
		int r = uspace_call_step(u->watch, &rep);
		if (r == -EAGAIN)
			return;
		if (r < 0) {
			us_gone(u);
			us_maybe_free(u);
			return;
		}
		char st[32];
		if (rep.code) {
			/* busy (too many watchers): the session goes on, we
			 * ask again */
			char what[700];
			log_warnx("%s: its process refused the watch (%s); asking again", us_what(u, what, sizeof(what)),
				  rep.text);
			uspace_reply_free(&rep);
			watch_close(u);
			if (loop_timer_arm(u->t->loop, &u->rewatch, 1000) < 0)
				log_warnx("cannot arm a timer: session %" PRIu32 " is not watched", u->sid);
			return;
		}
		if (uspace_body_str(rep.body, "state", st, sizeof(st)) == 0)
			apply_state(u, st);
		uspace_reply_free(&rep);
	}
}

static int watch_open(struct us *u);

static void on_rewatch(struct loop *l, void *data)
{
	struct us *u = data;
	int r = watch_open(u);
	if (r == -ENOENT || r == -ECONNREFUSED) {
		us_gone(u);
		us_maybe_free(u);
	} else if (r < 0 && loop_timer_arm(l, &u->rewatch, 1000) < 0) {
		log_warnx("cannot arm a timer: session %" PRIu32 " is not watched", u->sid);
	}
}

static int watch_open(struct us *u)
{
	int r = uspace_call_begin(u->t->rundir, (int)u->sid, "watch", NULL, &u->watch);
	if (r < 0)
		return r;
	r = loop_io_add(u->t->loop, uspace_call_fd(u->watch), EPOLLIN, on_watch, u, &u->watch_io);
	if (r < 0) {
		uspace_call_free(u->watch);
		u->watch = NULL;
	}
	return r;
}

/* ---- login ---- */

static void on_start(struct loop *l, int fd, uint32_t events, void *data)
{
	struct us *u = data;
	struct tu *t = u->t;
	struct uspace_start_result res;
	char what[700];
	int r = uspace_start_step(u->start, &res);
	if (r == -EAGAIN)
		return;
	loop_io_remove(t->loop, u->start_io);
	u->start_io = NULL;
	uspace_start_free(u->start);
	u->start = NULL;
	if (r < 0) {
		res.code = ISCSI_ERR_CHILD_TERMINATED;
		snprintf(res.message, sizeof(res.message), "cannot read the answer of iscsi-uspace: %s", strerror(-r));
	}
	us_what(u, what, sizeof(what));
	if (res.code) {
		/* the login failed: the process is gone (it cleaned up);
		 * the layer drops the entry when it gets the answer */
		struct transport_result tr;
		memset(&tr, 0, sizeof(tr));
		tr.status = res.code;
		snprintf(tr.message, sizeof(tr.message), "%s", res.message[0] ? res.message : iscsi_err_str(res.code));
		if (u->s)
			session_set_priv(u->s, NULL);
		u->s = NULL;
		login_answer(u, &tr);
		us_maybe_free(u);
		return;
	}
	u->pid = res.pid;
	log_info("%s: iscsi-uspace process %ld is logged in", what, (long)u->pid);
	if (u->s)
		(void)session_state_set(u->s, SESSION_LOGGED_IN, SESSION_CONN_LOGGED_IN);
	if (watch_open(u) < 0)
		log_warnx("%s: cannot watch its process", what);
	/* one status for the tpgt and the devices, then the answer */
	if (uop_start(u, UOP_LOGIN_STATUS, "status", NULL, TU_STATUS_MS, NULL, NULL) < 0 || !u->ops) {
		struct transport_result tr = { .sid = u->sid };
		login_answer(u, &tr);
	}
	if (!u->watch && u->s) {
		/* it is gone already: logged in all the same (carrier.h) */
		struct session *s = u->s;
		u->s = NULL;
		session_end(s);
		cleanup_start(t, (int)u->sid);
	}
	us_maybe_free(u);
}

static int tu_login(struct carrier *c, struct session *s, const struct transport_login *req,
		    transport_done_fn done, void *data)
{
	struct tu *t = (struct tu *)c;
	const struct node_rec *rec = req ? req->rec : NULL;
	char msg[TRANSPORT_MSG_MAX];
	const char *iname = NULL;

	if (!rec || !s || !session_sid(s))
		return -EINVAL;
	if (rec->iface.iname[0])
		iname = rec->iface.iname;
	else if (t->daemon && t->daemon->have_iname)
		iname = t->daemon->iname.name;
	if (!iname)
		return session_answer_later(c->layer, done, data, ISCSI_ERR_INVAL,
					    "no initiator name: set InitiatorName in the initiator name file");
	int code = usable(t, msg, sizeof(msg));
	if (code)
		return session_answer_later(c->layer, done, data, code, "%s", msg);

	struct us *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->t = t;
	u->sid = session_sid(s);
	loop_timer_init(&u->rewatch, on_rewatch, u);
	char *text = NULL;
	size_t len = 0;
	/* the record with its secrets goes down a pipe, never argv */
	int r = rec_format(REC_KIND_NODE, rec, REC_FMT_DISK, &text, &len);
	if (r == 0) {
		struct uspace_start_args a = {
			.mode = USPACE_SPAWN_RUN,
			.program = t->program[0] ? t->program : NULL,
			.rundir = t->rundir,
			.sid = (int)u->sid,
			.record = text,
			.record_len = len,
			.initiator_name = iname,
			.to_syslog = !log_to_stderr(),
			.stderr_fd = log_to_stderr() ? 2 : -1,
			.debug = log_debug_level() > 1 ? log_debug_level() - 1 : 0,
		};
		r = uspace_start_begin(&a, &u->start);
		explicit_bzero(text, len);
		free(text);
	}
	if (r == 0 && (r = loop_io_add(t->loop, uspace_start_fd(u->start), EPOLLIN, on_start, u, &u->start_io)) < 0) {
		/* nobody will read its answer: it logs out again by itself */
		uspace_start_free(u->start);
	}
	if (r < 0) {
		free(u);
		return session_answer_later(c->layer, done, data, ISCSI_ERR_INTERNAL, "cannot start %s: %s",
					    program(t), strerror(-r));
	}
	u->s = s;
	u->login_done = done;
	u->login_data = data;
	u->next = t->head;
	t->head = u;
	session_set_priv(s, u);
	(void)session_state_set(s, SESSION_LOGIN, SESSION_CONN_IN_LOGIN);
	log_debug(1, "uspace session %" PRIu32 ": started %s for %s", u->sid, program(t), rec->name);
	return 0;
}

/* ---- logout, rescan, stats ---- */

static int tu_logout(struct carrier *c, struct session *s, transport_done_fn done, void *data)
{
	struct tu *t = (struct tu *)c;
	struct us *u = session_priv(s);
	if (!u)
		return -EINVAL;
	bool safe = t->daemon && t->daemon->config.safe_logout;
	return uop_start(u, UOP_LOGOUT, "logout", safe ? "safe" : NULL, TU_LOGOUT_MS, done, data);
}

static int tu_rescan(struct carrier *c, struct session *s, transport_done_fn done, void *data)
{
	struct us *u = session_priv(s);
	if (!u)
		return -EINVAL;
	return uop_start(u, UOP_RESCAN, "rescan", NULL, TU_RESCAN_MS, done, data);
}

static int tu_stats(struct carrier *c, struct session *s, transport_done_fn done, void *data)
{
	struct us *u = session_priv(s);
	if (!u)
		return -EINVAL;
	return uop_start(u, UOP_STATS, "stats", NULL, TU_STATUS_MS, done, data);
}

/* ---- adoption ---- */

static void adopt_one(struct tu *t, int sid, pid_t pid, struct node_rec *rec)
{
	char *text = NULL;
	size_t len = 0;
	struct rec_diags diags;

	if ((uint32_t)sid < CARRIER_SID_USPACE_MIN) {
		log_info("uspace session %d in %s was not started by iscsid; left alone", sid, t->rundir);
		return;
	}
	if (session_lookup(t->base.layer, (uint32_t)sid))
		return;
	int r = uspace_read_record(t->rundir, sid, &text, &len);
	if (r < 0) {
		log_warnx("uspace session %d: cannot read its record: %s; not adopted", sid, strerror(-r));
		return;
	}
	node_rec_init(rec);
	rec_diags_init(&diags);
	r = rec_parse(REC_KIND_NODE, rec, text, len, NULL, &diags);
	rec_diags_free(&diags);
	free(text);
	if (r < 0 || !rec->name[0]) {
		log_warnx("uspace session %d: its record is unreadable; not adopted", sid);
		return;
	}
	struct us *u = calloc(1, sizeof(*u));
	if (!u)
		return;
	u->t = t;
	u->sid = (uint32_t)sid;
	u->pid = pid;
	loop_timer_init(&u->rewatch, on_rewatch, u);
	if (watch_open(u) < 0) {
		/* it ended between the listing and now */
		free(u);
		return;
	}
	/* LOGGED_IN until the watch says otherwise (its first message
	 * is the current state) */
	struct session_survivor sv = {
		.rec = rec, .sid = (uint32_t)sid, .state = SESSION_LOGGED_IN, .conn = SESSION_CONN_LOGGED_IN,
	};
	struct session *s;
	r = session_adopt(&t->base, &sv, &s);
	if (r < 0) {
		log_warnx("uspace session %d: not adopted: %s", sid, strerror(-r));
		watch_close(u);
		free(u);
		return;
	}
	u->s = s;
	session_set_priv(s, u);
	u->next = t->head;
	t->head = u;
	char what[700];
	log_info("adopted %s: iscsi-uspace process %ld", session_what(s, what, sizeof(what)), (long)pid);
	/* the tpgt the login found (the record may not have it) */
	(void)uop_start(u, UOP_STATUS, "status", NULL, TU_STATUS_MS, NULL, NULL);
}

static int tu_adopt(struct carrier *c, transport_done_fn done, void *data)
{
	struct tu *t = (struct tu *)c;
	struct uspace_entry *v = NULL;
	size_t n = 0;
	char msg[TRANSPORT_MSG_MAX] = "";
	int code = usable(t, msg, sizeof(msg));

	/* sessions that run are adopted whatever the probe says now */
	int r = uspace_list(t->rundir, &v, &n);
	if (r < 0) {
		log_warnx("cannot list the uspace sessions in %s: %s", t->rundir, strerror(-r));
	} else if (n) {
		struct node_rec *rec = malloc(sizeof(*rec));
		for (size_t i = 0; rec && i < n; i++) {
			if (v[i].alive)
				adopt_one(t, v[i].sid, v[i].pid, rec);
			else
				cleanup_start(t, v[i].sid);
		}
		if (rec)
			explicit_bzero(rec, sizeof(*rec));
		free(rec);
	}
	free(v);
	return session_answer_later(c->layer, done, data, code, "%s", msg);
}

/* ---- the rest ---- */

static void tu_reload(struct carrier *c)
{
	(void)c;       /* nothing cached: the probe looks every time */
}

static void tu_free(struct carrier *c)
{
	struct tu *t = (struct tu *)c;
	const struct transport_result stopping = { .status = ISCSI_ERR_INTERNAL, .message = "iscsid is stopping" };

	/* the processes go on; a login still under way is undone by its
	 * process when its answer finds nobody to read it */
	while (t->head) {
		struct us *u = t->head;
		t->head = u->next;
		while (u->ops) {
			struct uop *o = u->ops;
			transport_done_fn done = o->done;
			void *data = o->data;
			u->ops = o->next;
			o->next = NULL;
			loop_io_remove(t->loop, o->io);
			loop_timer_disarm(t->loop, &o->timer);
			uspace_call_free(o->call);
			free(o);
			if (done)
				done(data, &stopping);
		}
		if (u->start) {
			loop_io_remove(t->loop, u->start_io);
			uspace_start_free(u->start);
		}
		if (u->login_done) {
			/* the layer drops the entry of a failed login */
			u->s = NULL;
			login_answer(u, &stopping);
		}
		watch_close(u);
		loop_timer_disarm(t->loop, &u->rewatch);
		if (u->s)
			session_end(u->s);
		free(u);
	}
	while (t->cleanups)
		cleanup_free(t->cleanups);
	free(t);
}

static const struct carrier_ops tu_ops = {
	.name = TU_NAME,
	.sid_min = CARRIER_SID_USPACE_MIN,
	.probe = tu_probe,
	.adopt = tu_adopt,
	.login = tu_login,
	.logout = tu_logout,
	.rescan = tu_rescan,
	.stats = tu_stats,
	.reload = tu_reload,
	.free = tu_free,
};

int carrier_uspace_new(struct loop *l, const struct carrier_uspace_config *cfg, struct carrier **ret)
{
	struct tu *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->base.ops = &tu_ops;
	t->loop = l;
	t->daemon = cfg ? cfg->daemon : NULL;
	int r = 0;
	if (cfg && cfg->rundir && *cfg->rundir)
		r = snprintf(t->rundir, sizeof(t->rundir), "%s", cfg->rundir) >= (int)sizeof(t->rundir) ? -ENAMETOOLONG : 0;
	else
		r = uspace_rundir_for_root(t->daemon ? t->daemon->paths.root : NULL, t->rundir, sizeof(t->rundir));
	if (!r && cfg && cfg->program && *cfg->program &&
	    snprintf(t->program, sizeof(t->program), "%s", cfg->program) >= (int)sizeof(t->program))
		r = -ENAMETOOLONG;
	if (!r && snprintf(t->devfuse, sizeof(t->devfuse), "%s",
			   cfg && cfg->devfuse && *cfg->devfuse ? cfg->devfuse : "/dev/fuse") >= (int)sizeof(t->devfuse))
		r = -ENAMETOOLONG;
	if (r < 0) {
		free(t);
		return r;
	}
	*ret = &t->base;
	return 0;
}
