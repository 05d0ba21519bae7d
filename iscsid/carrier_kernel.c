/* The kernel carrier (iscsi_tcp, carrier.h): find out whether the kernel
 * can carry sessions, load the module once if not, then hand every
 * request to the kernel session path (ksession.h: netlink CREATE_SESSION
 * ... START_CONN, recovery, logout, adoption of existing sessions). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "carrier.h"
#include "errors.h"
#include "ksession.h"
#include "log.h"
#include "loop.h"
#include "nl.h"

extern char **environ;

#define TK_MODULE "iscsi_tcp"
#define TK_NAME "tcp"
#define TK_DEFAULT_TIMEOUT_MS 10000u

enum op_kind { OP_PROBE, OP_LOGIN, OP_LOGOUT, OP_RESCAN, OP_STATS };

struct op {
	enum op_kind kind;
	transport_done_fn done;
	void *data;
	uint32_t sid;
	struct session *s;              /* OP_LOGIN: the layer's entry */
	struct transport_login login;   /* OP_LOGIN: rec stays the caller's until done */
	struct transport_result res;
	struct op *next;
};

struct op_queue {
	struct op *head;
	struct op **tail;
};

struct tk {
	struct carrier base;            /* first: the ops table */
	struct loop *loop;
	char *modprobe;                 /* "" = never load modules */
	unsigned timeout_ms;
	char class_path[512];           /* <sysfs>/class/iscsi_transport/tcp */
	char *sysfs_root;               /* NULL: /sys */
	struct iscsid *daemon;
	struct kctx_config kcfg;        /* tests' paths and netlink context */
	char devdir[PATH_MAX], mountinfo[PATH_MAX], proc_netlink[PATH_MAX];
	struct kctx *k;                 /* the session path, once the transport is there */
	char kerr[200];                 /* why it could not be set up */

	bool modprobe_tried;
	char modprobe_outcome[160];     /* why loading did not help */
	pid_t child;                    /* modprobe running, or 0 */
	struct loop_timer child_timer;

	struct op_queue waiting;        /* for modprobe to finish */
	struct op_queue ready;          /* results to deliver from the loop */
	struct loop_timer kick;
};

static void queue_init(struct op_queue *q)
{
	q->head = NULL;
	q->tail = &q->head;
}

static void queue_push(struct op_queue *q, struct op *o)
{
	o->next = NULL;
	*q->tail = o;
	q->tail = &o->next;
}

static struct op *queue_pop(struct op_queue *q)
{
	struct op *o = q->head;
	if (o) {
		q->head = o->next;
		if (!q->head)
			q->tail = &q->head;
	}
	return o;
}

static bool transport_present(const struct tk *t)
{
	struct stat st;
	return stat(t->class_path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void result_missing(const struct tk *t, struct transport_result *r)
{
	r->status = ISCSI_ERR_TRANS_NOT_FOUND;
	snprintf(r->message, sizeof(r->message),
		 "iSCSI transport '" TK_NAME "' not available: %s does not exist (kernel module "
		 TK_MODULE " not loaded and %s)",
		 t->class_path, t->modprobe_outcome[0] ? t->modprobe_outcome : "modprobe " TK_MODULE " failed");
}

/* The session path needs NETLINK_ISCSI and the transport handle; it is
 * set up on first use (at start-up: the layer's adoption) and adopts the
 * sessions the kernel already has. */
static int ensure_kctx(struct tk *t)
{
	if (t->k)
		return 0;
	struct kctx_config kc = t->kcfg;
	kc.loop = t->loop;
	kc.daemon = t->daemon;
	kc.sysfs_root = t->sysfs_root;
	kc.carrier = &t->base;
	int r = kctx_new(&kc, &t->k);
	t->kcfg.nl = NULL;              /* taken over, also when it failed */
	if (r < 0) {
		snprintf(t->kerr, sizeof(t->kerr), "%s", nl_strerror(r));
		return r;
	}
	t->kerr[0] = '\0';
	size_t n = kadopt_all(t->k);
	if (n)
		log_info("adopted %zu iSCSI session%s from the kernel", n, n == 1 ? "" : "s");
	return 0;
}

struct kctx *carrier_kernel_kctx(struct carrier *c)
{
	return ((struct tk *)c)->k;
}

/* Decides o now: a result to deliver (true), or handed to the session
 * path, which answers later (false; o is freed). */
static bool result_for(struct tk *t, struct op *o)
{
	memset(&o->res, 0, sizeof(o->res));
	if (!transport_present(t)) {
		result_missing(t, &o->res);
		return true;
	}
	if (ensure_kctx(t) < 0) {
		o->res.status = ISCSI_ERR_TRANS_NOT_FOUND;
		snprintf(o->res.message, sizeof(o->res.message),
			 "iSCSI transport '" TK_NAME "' is loaded, but iscsid cannot use it: %s", t->kerr);
		return true;
	}
	int r = 0;
	switch (o->kind) {
	case OP_PROBE:
		return true;
	case OP_LOGIN:
		r = kctx_login(t->k, o->s, &o->login, o->done, o->data);
		break;
	case OP_LOGOUT:
		r = kctx_logout(t->k, o->sid, o->done, o->data);
		break;
	case OP_RESCAN:
		r = kctx_rescan(t->k, o->sid, o->done, o->data);
		break;
	case OP_STATS:
		r = kctx_stats(t->k, o->sid, o->done, o->data);
		break;
	}
	if (r < 0) {
		o->res.status = ISCSI_ERR_INTERNAL;
		snprintf(o->res.message, sizeof(o->res.message), "cannot start the request: %s", strerror(-r));
		return true;
	}
	free(o);
	return false;
}

static void kick_fire(struct loop *l, void *data)
{
	struct tk *t = data;
	struct op *o;
	/* done() may submit new operations; they queue behind. */
	while ((o = queue_pop(&t->ready))) {
		o->done(o->data, &o->res);
		free(o);
	}
}

/* Decide the outcome of every waiting operation now. */
static void resolve_waiting(struct tk *t)
{
	struct op *o;
	while ((o = queue_pop(&t->waiting)))
		if (result_for(t, o))
			queue_push(&t->ready, o);
	if (t->ready.head && loop_timer_arm(t->loop, &t->kick, 0) < 0)
		log_warnx("transport: cannot arm a timer; results delayed");
}

static void modprobe_finished(struct tk *t)
{
	t->child = 0;
	loop_timer_disarm(t->loop, &t->child_timer);
	if (transport_present(t))
		log_info("loaded kernel module " TK_MODULE);
	resolve_waiting(t);
}

static void on_modprobe_exit(struct loop *l, pid_t pid, int st, void *data)
{
	struct tk *t = data;
	if (pid != t->child)
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		snprintf(t->modprobe_outcome, sizeof(t->modprobe_outcome),
			 "modprobe " TK_MODULE " succeeded but the transport did not appear");
	else if (WIFEXITED(st))
		snprintf(t->modprobe_outcome, sizeof(t->modprobe_outcome),
			 "modprobe " TK_MODULE " failed with exit status %d", WEXITSTATUS(st));
	else
		snprintf(t->modprobe_outcome, sizeof(t->modprobe_outcome),
			 "modprobe " TK_MODULE " was killed by signal %d", WTERMSIG(st));
	modprobe_finished(t);
}

static void on_modprobe_timeout(struct loop *l, void *data)
{
	struct tk *t = data;
	if (t->child <= 0)
		return;
	log_warnx("modprobe " TK_MODULE " did not finish within %u ms; killing it", t->timeout_ms);
	kill(t->child, SIGKILL);
	/* The loop still reaps it; we no longer wait for it. */
	loop_child_forget(l, t->child);
	snprintf(t->modprobe_outcome, sizeof(t->modprobe_outcome),
		 "modprobe " TK_MODULE " timed out after %u ms", t->timeout_ms);
	modprobe_finished(t);
}

/* posix_spawn: the child starts with the signal mask and dispositions a
 * normal program expects (the daemon blocks its signals for signalfd). */
static int spawn_modprobe(struct tk *t, pid_t *ret)
{
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	sigset_t none, defs;
	char *argv[] = { t->modprobe, (char *)"-q", (char *)TK_MODULE, NULL };
	int r;

	sigemptyset(&none);
	sigemptyset(&defs);
	sigaddset(&defs, SIGPIPE);
	sigaddset(&defs, SIGTERM);
	sigaddset(&defs, SIGINT);
	sigaddset(&defs, SIGHUP);
	sigaddset(&defs, SIGCHLD);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defs);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);

	if (strchr(t->modprobe, '/'))
		r = posix_spawn(ret, t->modprobe, &fa, &attr, argv, environ);
	else
		r = posix_spawnp(ret, t->modprobe, &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

/* Called with the new operation queued in waiting. */
static void evaluate(struct tk *t)
{
	if (t->child)
		return;                         /* modprobe running: wait for it */
	if (transport_present(t) || t->modprobe_tried) {
		resolve_waiting(t);
		return;
	}
	t->modprobe_tried = true;
	if (!t->modprobe[0]) {
		snprintf(t->modprobe_outcome, sizeof(t->modprobe_outcome),
			 "loading kernel modules is disabled");
		resolve_waiting(t);
		return;
	}
	pid_t pid;
	int r = spawn_modprobe(t, &pid);
	if (r < 0) {
		snprintf(t->modprobe_outcome, sizeof(t->modprobe_outcome),
			 "modprobe " TK_MODULE " could not be run: %s", strerror(-r));
		resolve_waiting(t);
		return;
	}
	log_debug(1, "transport: %s missing, running %s -q " TK_MODULE " (pid %ld)", t->class_path,
		  t->modprobe, (long)pid);
	t->child = pid;
	/* Timer first: loop_child_watch() may reap a quick child at once,
	 * and that must disarm the timer, not be followed by arming it. */
	if (loop_timer_arm(t->loop, &t->child_timer, t->timeout_ms) < 0 ||
	    loop_child_watch(t->loop, pid, on_modprobe_exit, t) < 0) {
		/* cannot wait for it: treat as failed, the loop still reaps it */
		loop_child_forget(t->loop, pid);
		snprintf(t->modprobe_outcome, sizeof(t->modprobe_outcome), "iscsid ran out of memory");
		modprobe_finished(t);
	}
	/* loop_child_watch() may have reaped it already and resolved */
}

static int submit(struct carrier *base, enum op_kind kind, struct session *s,
		  const struct transport_login *login, transport_done_fn done, void *data)
{
	struct tk *t = (struct tk *)base;
	if (!done)
		return -EINVAL;
	struct op *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->kind = kind;
	o->done = done;
	o->data = data;
	o->s = s;
	o->sid = s ? session_sid(s) : 0;
	if (login)
		o->login = *login;
	queue_push(&t->waiting, o);
	evaluate(t);
	return 0;
}

/* probe and adopt: the transport is there (modprobe once), the netlink
 * context open; creating that adopts the kernel's sessions. */
static int tk_probe(struct carrier *c, transport_done_fn done, void *data)
{
	return submit(c, OP_PROBE, NULL, NULL, done, data);
}

static int tk_login(struct carrier *c, struct session *s, const struct transport_login *req,
		    transport_done_fn done, void *data)
{
	if (!req || !req->rec || !s)
		return -EINVAL;
	return submit(c, OP_LOGIN, s, req, done, data);
}

static int tk_logout(struct carrier *c, struct session *s, transport_done_fn done, void *data)
{
	return submit(c, OP_LOGOUT, s, NULL, done, data);
}

static int tk_rescan(struct carrier *c, struct session *s, transport_done_fn done, void *data)
{
	return submit(c, OP_RESCAN, s, NULL, done, data);
}

static int tk_stats(struct carrier *c, struct session *s, transport_done_fn done, void *data)
{
	return submit(c, OP_STATS, s, NULL, done, data);
}

static void tk_reload(struct carrier *base)
{
	struct tk *t = (struct tk *)base;
	if (!t->child) {
		t->modprobe_tried = false;
		t->modprobe_outcome[0] = '\0';
	}
}

static void complete_stopping(struct op_queue *q)
{
	struct op *o;
	while ((o = queue_pop(q))) {
		memset(&o->res, 0, sizeof(o->res));
		o->res.status = ISCSI_ERR_INTERNAL;
		snprintf(o->res.message, sizeof(o->res.message), "iscsid is stopping");
		o->done(o->data, &o->res);
		free(o);
	}
}

static void tk_free(struct carrier *base)
{
	struct tk *t = (struct tk *)base;
	/* sessions live on in the kernel; pending requests are answered */
	kctx_free(t->k);
	loop_timer_disarm(t->loop, &t->kick);
	loop_timer_disarm(t->loop, &t->child_timer);
	if (t->child)
		loop_child_forget(t->loop, t->child);
	/* Already decided results are delivered as they are. */
	struct op *o;
	while ((o = queue_pop(&t->ready))) {
		o->done(o->data, &o->res);
		free(o);
	}
	complete_stopping(&t->waiting);
	if (t->kcfg.nl)
		nl_iscsi_free(t->kcfg.nl);
	free(t->modprobe);
	free(t->sysfs_root);
	free(t);
}

static const struct carrier_ops tk_ops = {
	.name = TK_NAME,
	.sid_min = 0,                   /* the kernel's sids */
	.probe = tk_probe,
	.adopt = tk_probe,
	.login = tk_login,
	.logout = tk_logout,
	.rescan = tk_rescan,
	.stats = tk_stats,
	.reload = tk_reload,
	.free = tk_free,
};

static int dup_path(char *dst, size_t cap, const char *src)
{
	if (!src)
		return 0;
	int n = snprintf(dst, cap, "%s", src);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int carrier_kernel_new(struct loop *l, const struct carrier_kernel_config *cfg, struct carrier **ret)
{
	const char *root = cfg && cfg->sysfs_root ? cfg->sysfs_root : "/sys";
	struct tk *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->base.ops = &tk_ops;
	t->loop = l;
	t->timeout_ms = cfg && cfg->modprobe_timeout_ms ? cfg->modprobe_timeout_ms : TK_DEFAULT_TIMEOUT_MS;
	t->modprobe = strdup(cfg && cfg->modprobe ? cfg->modprobe : "modprobe");
	t->daemon = cfg ? cfg->daemon : NULL;
	if (cfg && cfg->sysfs_root)
		t->sysfs_root = strdup(cfg->sysfs_root);
	int n = snprintf(t->class_path, sizeof(t->class_path), "%s/class/iscsi_transport/" TK_NAME,
			 strcmp(root, "/") == 0 ? "" : root);
	int r = 0;
	if (!t->modprobe || (cfg && cfg->sysfs_root && !t->sysfs_root))
		r = -ENOMEM;
	else if (n < 0 || (size_t)n >= sizeof(t->class_path))
		r = -ENAMETOOLONG;
	/* paths tests point elsewhere (kctx_config: NULL is the real one) */
	if (!r && cfg) {
		r = dup_path(t->devdir, sizeof(t->devdir), cfg->devdir);
		r = r ? r : dup_path(t->mountinfo, sizeof(t->mountinfo), cfg->mountinfo);
		r = r ? r : dup_path(t->proc_netlink, sizeof(t->proc_netlink), cfg->proc_netlink);
		t->kcfg.devdir = cfg->devdir ? t->devdir : NULL;
		t->kcfg.mountinfo = cfg->mountinfo ? t->mountinfo : NULL;
		t->kcfg.proc_netlink = cfg->proc_netlink ? t->proc_netlink : NULL;
		if (!r)
			t->kcfg.nl = cfg->nl;
	}
	if (r < 0) {
		free(t->modprobe);
		free(t->sysfs_root);
		free(t);
		return r;
	}
	queue_init(&t->waiting);
	queue_init(&t->ready);
	loop_timer_init(&t->kick, kick_fire, t);
	loop_timer_init(&t->child_timer, on_modprobe_timeout, t);
	*ret = &t->base;
	return 0;
}
