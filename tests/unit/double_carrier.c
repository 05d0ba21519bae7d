/* The test double carrier (double_carrier.h). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "double_carrier.h"
#include "errors.h"
#include "ipc.h"

enum dc_kind { DC_PROBE, DC_ADOPT, DC_LOGIN, DC_LOGOUT, DC_RESCAN, DC_STATS };

struct dc_op {
	struct double_carrier *dc;
	enum dc_kind kind;
	struct loop_timer t;
	transport_done_fn done;
	void *data;
	struct dc_proc *p;
	uint32_t flags;
	struct dc_op *next;
};

static const char *const dc_devices[] = { "sdb", "sdc" };
static const struct transport_stat dc_stats[] = {
	{ .name = "txdata_octets", .value = 4096 },
	{ .name = "rxdata_octets", .value = 8192 },
};

static struct double_carrier *dc_of(struct carrier *c)
{
	return (struct double_carrier *)c;
}

static void logf_(struct double_carrier *dc, const char *what, uint32_t sid)
{
	char b[64];
	snprintf(b, sizeof(b), "%s(%u) ", what, sid);
	strncat(dc->log, b, sizeof(dc->log) - strlen(dc->log) - 1);
}

static void op_unlink(struct dc_op *op)
{
	for (struct dc_op **pp = &op->dc->ops_head; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			return;
		}
}

static void answer(struct dc_op *op, const struct transport_result *res)
{
	op_unlink(op);
	loop_timer_disarm(op->dc->loop, &op->t);
	op->done(op->data, res);
	free(op);
}

static void answer_code(struct dc_op *op, int code, const char *msg)
{
	struct transport_result r;
	memset(&r, 0, sizeof(r));
	r.status = code;
	snprintf(r.message, sizeof(r.message), "%s", msg ? msg : "");
	answer(op, &r);
}

static void proc_end(struct dc_proc *p)
{
	struct session *s = p->s;
	p->alive = false;
	p->s = NULL;
	if (s)
		session_end(s);
}

static struct dc_proc *proc_of(struct double_carrier *dc, uint32_t sid)
{
	for (size_t i = 0; i < DC_MAX_PROCS; i++)
		if (dc->world->procs[i].alive && dc->world->procs[i].sid == sid)
			return &dc->world->procs[i];
	return NULL;
}

static void fire(struct loop *l, void *data)
{
	struct dc_op *op = data;
	struct double_carrier *dc = op->dc;
	struct dc_proc *p = op->p;
	struct transport_result r;
	(void)l;
	memset(&r, 0, sizeof(r));

	switch (op->kind) {
	case DC_PROBE:
		answer_code(op, dc->probe_status, dc->probe_status ? "the double is switched off" : NULL);
		return;
	case DC_ADOPT:
		for (size_t i = 0; i < DC_MAX_PROCS; i++) {
			struct dc_proc *q = &dc->world->procs[i];
			if (!q->alive || q->s || strcmp(q->carrier, dc->ops.name))
				continue;
			struct session_survivor sv = {
				.rec = &q->rec, .sid = q->sid, .host_no = q->host_no, .state = q->state,
				.conn = SESSION_CONN_TRANSPORT_WAIT,
			};
			if (session_adopt(&dc->base, &sv, &q->s) == 0)
				session_set_priv(q->s, q);
		}
		answer_code(op, 0, NULL);
		return;
	case DC_LOGIN:
		if (dc->login_status) {
			if (!dc->login_fail_keeps)
				proc_end(p);
			else
				p->alive = false;
			p->s = NULL;
			answer_code(op, dc->login_status, "the double refused the login");
			return;
		}
		if (!dc->cfg.sid_min) {
			ck_assert_int_eq(session_set_sid(p->s, p->sid, p->host_no), 0);
		}
		ck_assert_int_eq(session_state_set(p->s, SESSION_LOGGED_IN, SESSION_CONN_LOGGED_IN), 0);
		p->state = SESSION_LOGGED_IN;
		r.sid = p->sid;
		r.host_no = p->host_no;
		if (op->flags & IPC_LOGIN_WAIT_DEVICES) {
			r.devices = dc_devices;
			r.ndevices = 2;
		}
		/* the session dies in the batch that decided its answer */
		if (dc->die_with_login)
			proc_end(p);
		answer(op, &r);
		return;
	case DC_LOGOUT:
		if (p->sid == dc->fail_logout_sid) {
			char m[64];
			snprintf(m, sizeof(m), "target did not answer the logout of sid %u", p->sid);
			answer_code(op, ISCSI_ERR_LOGOUT, m);
			return;
		}
		if (p->s)
			ck_assert_int_eq(session_state_set(p->s, SESSION_LOGOUT, SESSION_CONN_IN_LOGOUT), 0);
		proc_end(p);
		answer_code(op, 0, NULL);
		return;
	case DC_RESCAN:
		r.devices = dc_devices;
		r.ndevices = 2;
		answer(op, &r);
		return;
	case DC_STATS:
		r.stats = dc_stats;
		r.nstats = 2;
		r.sid = p->sid;
		answer(op, &r);
		return;
	}
}

static int queue(struct double_carrier *dc, enum dc_kind kind, struct dc_proc *p, transport_done_fn done,
		 void *data)
{
	struct dc_op *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->dc = dc;
	op->kind = kind;
	op->p = p;
	op->done = done;
	op->data = data;
	loop_timer_init(&op->t, fire, op);
	op->next = dc->ops_head;
	dc->ops_head = op;
	ck_assert_int_eq(loop_timer_arm(dc->loop, &op->t, dc->cfg.delay_ms), 0);
	return 0;
}

static int dc_probe(struct carrier *c, transport_done_fn done, void *data)
{
	return queue(dc_of(c), DC_PROBE, NULL, done, data);
}

static int dc_adopt(struct carrier *c, transport_done_fn done, void *data)
{
	return queue(dc_of(c), DC_ADOPT, NULL, done, data);
}

static int dc_login(struct carrier *c, struct session *s, const struct transport_login *req, transport_done_fn done,
		    void *data)
{
	struct double_carrier *dc = dc_of(c);
	struct dc_proc *p = NULL;
	char b[300];
	snprintf(b, sizeof(b), "login(%s,%u) ", req->rec->name, req->flags);
	strncat(dc->log, b, sizeof(dc->log) - strlen(dc->log) - 1);
	/* the layer opened s before; ids from the layer are already there */
	ck_assert_int_eq(s->state, SESSION_LOGIN);
	ck_assert(dc->cfg.sid_min ? session_sid(s) >= dc->cfg.sid_min : session_sid(s) == 0);
	for (size_t i = 0; i < DC_MAX_PROCS && !p; i++)
		if (!dc->world->procs[i].alive)
			p = &dc->world->procs[i];
	if (!p)
		return -ENOSPC;
	memset(p, 0, sizeof(*p));
	p->alive = true;
	snprintf(p->carrier, sizeof(p->carrier), "%s", dc->ops.name);
	p->rec = *req->rec;
	p->sid = dc->cfg.sid_min ? session_sid(s) : dc->next_own_sid++;
	p->host_no = dc->cfg.host_no;
	p->state = SESSION_LOGIN;
	p->s = s;
	session_set_priv(s, p);
	int r = queue(dc, DC_LOGIN, p, done, data);
	if (r == 0) {
		struct dc_op *op = dc->ops_head;
		op->flags = req->flags;
	}
	return r;
}

static int dc_logout(struct carrier *c, struct session *s, transport_done_fn done, void *data)
{
	struct double_carrier *dc = dc_of(c);
	struct dc_proc *p = session_priv(s);
	logf_(dc, "logout", session_sid(s));
	ck_assert_ptr_nonnull(p);
	/* allowed by the rules: a report from inside an operation */
	if (dc->end_inside_logout)
		proc_end(p);
	return queue(dc, DC_LOGOUT, p, done, data);
}

static int dc_rescan(struct carrier *c, struct session *s, transport_done_fn done, void *data)
{
	struct double_carrier *dc = dc_of(c);
	logf_(dc, "rescan", session_sid(s));
	return queue(dc, DC_RESCAN, session_priv(s), done, data);
}

static int dc_stats_op(struct carrier *c, struct session *s, transport_done_fn done, void *data)
{
	struct double_carrier *dc = dc_of(c);
	logf_(dc, "stats", session_sid(s));
	return queue(dc, DC_STATS, session_priv(s), done, data);
}

static void dc_free(struct carrier *c)
{
	struct double_carrier *dc = dc_of(c);
	/* rule 5: answer what is in flight, undo logins that never
	 * finished, leave running sessions running */
	while (dc->ops_head) {
		struct dc_op *op = dc->ops_head;
		if (op->kind == DC_LOGIN && op->p && op->p->state == SESSION_LOGIN)
			proc_end(op->p);
		answer_code(op, ISCSI_ERR_INTERNAL, "iscsid is stopping");
	}
	for (size_t i = 0; i < DC_MAX_PROCS; i++) {
		struct dc_proc *p = &dc->world->procs[i];
		if (p->alive && p->s) {
			struct session *s = p->s;
			p->s = NULL;
			session_end(s);
		}
	}
	free(dc);
}

static const struct carrier_ops dc_ops = {
	.probe = dc_probe,
	.adopt = dc_adopt,
	.login = dc_login,
	.logout = dc_logout,
	.rescan = dc_rescan,
	.stats = dc_stats_op,
	.free = dc_free,
};

struct double_carrier *double_carrier_new(struct loop *l, struct dc_world *w, const struct dc_config *cfg)
{
	struct double_carrier *dc = calloc(1, sizeof(*dc));
	ck_assert_ptr_nonnull(dc);
	dc->cfg = *cfg;
	dc->ops = dc_ops;
	dc->ops.name = cfg->name ? cfg->name : "double";
	dc->ops.sid_min = cfg->sid_min;
	if (cfg->no_stats)
		dc->ops.stats = NULL;
	dc->base.ops = &dc->ops;
	dc->loop = l;
	dc->world = w;
	dc->next_own_sid = cfg->own_sid ? cfg->own_sid : 1;
	/* ids of a restarted carrier continue above the running ones */
	for (size_t i = 0; i < DC_MAX_PROCS; i++)
		if (w->procs[i].alive && !strcmp(w->procs[i].carrier, dc->ops.name) &&
		    w->procs[i].sid >= dc->next_own_sid && !cfg->sid_min)
			dc->next_own_sid = w->procs[i].sid + 1;
	return dc;
}

void dc_lose(struct double_carrier *dc, uint32_t sid)
{
	struct dc_proc *p = proc_of(dc, sid);
	ck_assert_ptr_nonnull(p);
	p->state = SESSION_RECOVERY;
	ck_assert_int_eq(session_state_set(p->s, SESSION_RECOVERY, SESSION_CONN_TRANSPORT_WAIT), 0);
}

void dc_back(struct double_carrier *dc, uint32_t sid)
{
	struct dc_proc *p = proc_of(dc, sid);
	ck_assert_ptr_nonnull(p);
	p->state = SESSION_LOGGED_IN;
	ck_assert_int_eq(session_state_set(p->s, SESSION_LOGGED_IN, SESSION_CONN_LOGGED_IN), 0);
}

void dc_die(struct double_carrier *dc, uint32_t sid)
{
	struct dc_proc *p = proc_of(dc, sid);
	ck_assert_ptr_nonnull(p);
	proc_end(p);
}

void dc_world_add(struct dc_world *w, const char *carrier, uint32_t sid, uint32_t host_no, const char *target,
		  const char *address, int port, enum session_state st)
{
	for (size_t i = 0; i < DC_MAX_PROCS; i++) {
		struct dc_proc *p = &w->procs[i];
		if (p->alive)
			continue;
		memset(p, 0, sizeof(*p));
		p->alive = true;
		snprintf(p->carrier, sizeof(p->carrier), "%s", carrier);
		p->sid = sid;
		p->host_no = host_no;
		p->state = st;
		node_rec_init(&p->rec);
		snprintf(p->rec.name, sizeof(p->rec.name), "%s", target);
		snprintf(p->rec.conn.address, sizeof(p->rec.conn.address), "%s", address);
		p->rec.conn.port = port;
		return;
	}
	ck_abort_msg("the double's world is full");
}

size_t dc_world_alive(const struct dc_world *w)
{
	size_t n = 0;
	for (size_t i = 0; i < DC_MAX_PROCS; i++)
		n += w->procs[i].alive;
	return n;
}
