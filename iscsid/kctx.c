/* The kernel carrier's context: the NETLINK_ISCSI socket on the loop, the
 * deferred event queue and "the pump" that works through it, answers
 * waiting to be delivered, and the list of kernel sessions (ksession.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>

#include "errors.h"
#include "iscsi_if.h"
#include "iscsid.h"
#include "ksession.h"
#include "log.h"
#include "nl.h"
#include "sysfs.h"

#define KEV_INTERNAL 0u        /* type of events posted by ourselves */

struct kev {
	struct kev *next;
	uint32_t type;             /* ISCSI_KEVENT_*, or KEV_INTERNAL */
	uint32_t sid;
	uint32_t error;
	enum ks_event internal;
	size_t len;                /* RECV_PDU: BHS + data */
	uint8_t data[];
};

/* ---- requests and their answers ---- */

struct kreq *kreq_new(transport_done_fn done, void *data)
{
	struct kreq *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->done = done;
	r->data = data;
	return r;
}

void kreq_free(struct kreq *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->res.ndevices; i++)
		free(r->devnames[i]);
	free(r->stats);
	free(r);
}

int kreq_set_devices(struct kreq *r, char *const *names, size_t n)
{
	for (size_t i = 0; i < r->res.ndevices; i++)
		free(r->devnames[i]);
	r->res.ndevices = 0;
	if (n > KS_MAX_DEVICES)
		n = KS_MAX_DEVICES;
	for (size_t i = 0; i < n; i++) {
		r->devnames[i] = strdup(names[i]);
		if (!r->devnames[i])
			return -ENOMEM;
		r->devptrs[i] = r->devnames[i];
		r->res.ndevices = i + 1;
	}
	r->res.devices = r->devptrs;
	return 0;
}

void kreq_finish(struct kctx *k, struct kreq *r)
{
	if (!r)
		return;
	r->next = NULL;
	if (k->fin_tail)
		k->fin_tail->next = r;
	else
		k->fin_head = r;
	k->fin_tail = r;
	kctx_poke(k);
}

static void deliver_finished(struct kctx *k)
{
	struct kreq *r;
	/* done() may start new operations: they queue behind */
	while ((r = k->fin_head)) {
		k->fin_head = r->next;
		if (!k->fin_head)
			k->fin_tail = NULL;
		r->done(r->data, &r->res);
		kreq_free(r);
	}
}

/* ---- sessions ---- */

struct ksession *kctx_find(const struct kctx *k, uint32_t sid)
{
	if (!sid)
		return NULL;
	for (struct ksession *ks = k->sessions; ks; ks = ks->next)
		if (ks->sid == sid && ks->state != KS_DEAD)
			return ks;
	return NULL;
}

/* ---- the deferred event queue ---- */

static void evq_push(struct kctx *k, struct kev *e)
{
	e->next = NULL;
	if (k->evq_tail)
		k->evq_tail->next = e;
	else
		k->evq_head = e;
	k->evq_tail = e;
	k->evq_n++;
	k->evq_bytes += e->len;
}

static struct kev *evq_pop(struct kctx *k)
{
	struct kev *e = k->evq_head;
	if (!e)
		return NULL;
	k->evq_head = e->next;
	if (!k->evq_head)
		k->evq_tail = NULL;
	k->evq_n--;
	k->evq_bytes -= e->len;
	return e;
}

static void evq_clear(struct kctx *k)
{
	struct kev *e;
	while ((e = evq_pop(k)))
		free(e);
}

int kctx_post(struct kctx *k, uint32_t sid, enum ks_event ev)
{
	struct kev *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->type = KEV_INTERNAL;
	e->sid = sid;
	e->internal = ev;
	evq_push(k, e);
	kctx_poke(k);
	return 0;
}

static struct kdestroy **destroy_find(struct kctx *k, uint32_t sid);

/* The netlink callback: copy, never act (ksession.h). Events for sessions
 * we do not track belong to other tools (reference §5 gotcha 3). */
static void on_nl_event(struct nl_iscsi *nl, const struct nl_msg_info *m, void *userdata)
{
	struct kctx *k = userdata;
	(void)nl;
	if (m->kind == NL_MSG_OVERRUN) {
		log_warnx("kernel iSCSI events were lost; checking sessions against sysfs");
		k->overrun = true;
		return;
	}
	if (m->kind != NL_MSG_EVENT)
		return;
	switch (m->type) {
	case ISCSI_KEVENT_RECV_PDU:
	case ISCSI_KEVENT_CONN_ERROR:
	case ISCSI_KEVENT_UNBIND_SESSION:
	case ISCSI_KEVENT_DESTROY_SESSION:
		break;
	default:
		return;
	}
	if (!kctx_find(k, m->sid) && !(m->type == ISCSI_KEVENT_DESTROY_SESSION && destroy_find(k, m->sid))) {
		log_debug(3, "netlink: %s for sid %u (not ours)", nl_type_name(m->type), m->sid);
		return;
	}
	size_t len = m->type == ISCSI_KEVENT_RECV_PDU ? m->payload_len : 0;
	if (k->evq_n >= KS_EVQ_MAX_EVENTS || k->evq_bytes + len > KS_EVQ_MAX_BYTES) {
		k->overrun = true;
		return;
	}
	struct kev *e = malloc(sizeof(*e) + len);
	if (!e) {
		k->overrun = true;
		return;
	}
	memset(e, 0, sizeof(*e));
	e->type = m->type;
	e->sid = m->sid;
	e->error = m->error;
	e->len = len;
	if (len)
		memcpy(e->data, m->payload, len);
	evq_push(k, e);
}

void kctx_drop_stale(struct kctx *k, uint32_t sid)
{
	if (k->nl)
		(void)nl_iscsi_dispatch(k->nl);
	struct kev **pp = &k->evq_head;
	k->evq_tail = NULL;
	while (*pp) {
		struct kev *e = *pp;
		if (e->sid == sid && (e->type == ISCSI_KEVENT_CONN_ERROR || e->type == ISCSI_KEVENT_RECV_PDU)) {
			log_debug(2, "session %u: dropping a stale %s", sid, nl_type_name(e->type));
			*pp = e->next;
			k->evq_n--;
			k->evq_bytes -= e->len;
			free(e);
			continue;
		}
		k->evq_tail = e;
		pp = &e->next;
	}
}

/* ---- asynchronous DESTROY_SESSION ---- */

struct kdestroy {
	uint32_t sid;
	struct kreq *req;
	uint64_t deadline;
	struct kdestroy *next;
};

static struct kdestroy **destroy_find(struct kctx *k, uint32_t sid)
{
	for (struct kdestroy **pp = &k->destroys; *pp; pp = &(*pp)->next)
		if ((*pp)->sid == sid)
			return pp;
	return NULL;
}

static void destroy_done(struct kctx *k, struct kdestroy **pp)
{
	struct kdestroy *d = *pp;
	*pp = d->next;
	kreq_finish(k, d->req);
	free(d);
}

static void on_destroy_poll(struct loop *l, void *data)
{
	struct kctx *k = data;
	uint64_t now = loop_now_ms();
	(void)l;
	for (struct kdestroy **pp = &k->destroys; *pp;) {
		if (!sysfs_session_exists(k->sysfs, (*pp)->sid)) {
			destroy_done(k, pp);
		} else if (now >= (*pp)->deadline) {
			log_warnx("session %" PRIu32 ": the kernel has not removed it %u s after DESTROY_SESSION_ASYNC",
				  (*pp)->sid, KS_DESTROY_WAIT_MS / 1000);
			destroy_done(k, pp);
		} else {
			pp = &(*pp)->next;
		}
	}
	if (k->destroys)
		(void)loop_timer_arm(k->loop, &k->destroy_poll, KS_DESTROY_POLL_MS);
}

int kctx_destroy_async(struct kctx *k, uint32_t sid, struct kreq *req)
{
	if (k->no_async_destroy || k->stopping)
		return -EOPNOTSUPP;
	struct kdestroy *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	int r = nl_destroy_session_async(k->nl, sid);
	if (r < 0) {
		free(d);
		if (r == -ENOSYS || r == -EOPNOTSUPP) {
			log_info("the kernel has no DESTROY_SESSION_ASYNC: sessions are destroyed one by one");
			k->no_async_destroy = true;
		}
		return r;
	}
	d->sid = sid;
	d->req = req;
	d->deadline = loop_now_ms() + KS_DESTROY_WAIT_MS;
	d->next = k->destroys;
	k->destroys = d;
	if (!loop_timer_armed(&k->destroy_poll))
		(void)loop_timer_arm(k->loop, &k->destroy_poll, KS_DESTROY_POLL_MS);
	return 0;
}

static void handle_event(struct kctx *k, struct kev *e)
{
	struct ksession *ks = kctx_find(k, e->sid);
	if (!ks) {
		struct kdestroy **pp;
		if (e->type == ISCSI_KEVENT_DESTROY_SESSION && (pp = destroy_find(k, e->sid)))
			destroy_done(k, pp);
		return;
	}
	if (e->type == KEV_INTERNAL)
		ks_fsm(ks, e->internal);
	else
		ks_on_kevent(ks, e->type, e->error, e->data, e->len);
}

static bool pump_pending(const struct kctx *k)
{
	return k->evq_head || k->fin_head || k->overrun || (k->nl && nl_iscsi_has_queued(k->nl));
}

static void pump_run(struct kctx *k)
{
	if (k->pumping)
		return;
	k->pumping = true;
	int budget = KS_PUMP_BATCH;
	do {
		if (k->nl)
			(void)nl_iscsi_dispatch(k->nl);
		struct kev *e;
		while (budget > 0 && (e = evq_pop(k))) {
			budget--;
			handle_event(k, e);
			free(e);
		}
		deliver_finished(k);
		if (k->overrun && !k->evq_head) {
			k->overrun = false;
			kadopt_resync(k);
		}
	} while (budget > 0 && pump_pending(k));
	k->pumping = false;
	/* a flood must not starve the loop: the rest runs next time round */
	if (pump_pending(k))
		kctx_poke(k);
}

static void on_pump(struct loop *l, void *data)
{
	(void)l;
	pump_run(data);
}

void kctx_poke(struct kctx *k)
{
	if (!loop_timer_armed(&k->pump) && loop_timer_arm(k->loop, &k->pump, 0) < 0)
		log_warnx("cannot arm a timer: kernel events delayed");
}

static void on_nl_readable(struct loop *l, int fd, uint32_t events, void *data)
{
	(void)l;
	(void)fd;
	(void)events;
	pump_run(data);
}

/* ---- set-up ---- */

int kctx_new(const struct kctx_config *cfg, struct kctx **ret)
{
	struct kctx *k = calloc(1, sizeof(*k));
	int r;
	if (!k)
		return -ENOMEM;
	k->loop = cfg->loop;
	k->d = cfg->daemon;
	k->carrier = cfg->carrier;
	if (cfg->sysfs_root && strcmp(cfg->sysfs_root, "/sys")) {
		snprintf(k->sysfs_buf, sizeof(k->sysfs_buf), "%s", cfg->sysfs_root);
		k->sysfs = k->sysfs_buf;
	}
	snprintf(k->devdir, sizeof(k->devdir), "%s", cfg->devdir ? cfg->devdir : "/dev");
	snprintf(k->mountinfo, sizeof(k->mountinfo), "%s",
		 cfg->mountinfo ? cfg->mountinfo : "/proc/self/mountinfo");
	snprintf(k->proc_netlink, sizeof(k->proc_netlink), "%s",
		 cfg->proc_netlink ? cfg->proc_netlink : "/proc/net/netlink");
	loop_timer_init(&k->pump, on_pump, k);
	loop_timer_init(&k->destroy_poll, on_destroy_poll, k);

	if (cfg->nl) {
		k->nl = cfg->nl;
	} else {
		r = nl_iscsi_open(&k->nl);
		if (r < 0) {
			log_warnx("cannot open NETLINK_ISCSI: %s", nl_strerror(r));
			free(k);
			return r;
		}
		r = nl_iscsi_load_handle(k->nl, k->sysfs, "tcp");
		if (r < 0) {
			log_warnx("cannot read the iscsi_tcp transport handle: %s", nl_strerror(r));
			nl_iscsi_free(k->nl);
			free(k);
			return r;
		}
	}
	nl_iscsi_set_event_cb(k->nl, on_nl_event, k);
	r = loop_io_add(k->loop, nl_iscsi_fd(k->nl), EPOLLIN, on_nl_readable, k, &k->nl_io);
	if (r < 0) {
		nl_iscsi_free(k->nl);
		free(k);
		return r;
	}
	kctx_poke(k);
	*ret = k;
	return 0;
}

void kctx_free(struct kctx *k)
{
	if (!k)
		return;
	k->stopping = true;
	/* sessions stay in the kernel; logins that never finished are
	 * cleaned up so that no half-made session is left behind */
	while (k->sessions)
		ks_fsm(k->sessions, KE_STOP);   /* every state: -> DEAD, freed */
	kscan_free_all(k, ISCSI_ERR_INTERNAL, "iscsid is stopping");
	/* logged out; the kernel finishes the removal without us */
	while (k->destroys)
		destroy_done(k, &k->destroys);
	loop_timer_disarm(k->loop, &k->destroy_poll);
	deliver_finished(k);
	evq_clear(k);
	loop_timer_disarm(k->loop, &k->pump);
	loop_io_remove(k->loop, k->nl_io);
	nl_iscsi_free(k->nl);
	free(k);
}
