/* The userspace carrier's requests to a session process (carrier.h,
 * carrier_uspace.h): one control connection per request (doc/uspace.md),
 * bounded by a timer, answered from the loop when the process replies:
 * logout (the session ends), rescan and the login's status (devices,
 * tpgt), stats (open-iscsi's SNMP names first, the rest "extended"). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "carrier_uspace.h"
#include "errors.h"
#include "ipc.h"
#include "log.h"
#include "session.h"

void uop_free(struct uop *o)
{
	struct us *u = o->u;
	for (struct uop **pp = &u->ops; *pp; pp = &(*pp)->next)
		if (*pp == o) {
			*pp = o->next;
			break;
		}
	loop_io_remove(u->t->loop, o->io);
	loop_timer_disarm(u->t->loop, &o->timer);
	uspace_call_free(o->call);
	free(o);
}

/* ---- requests to the process ---- */

static void uop_answer(struct uop *o, const struct transport_result *res)
{
	transport_done_fn done = o->done;
	void *data = o->data;
	struct us *u = o->u;
	uop_free(o);
	if (done)
		done(data, res);
	us_maybe_free(u);
}

static void uop_fail(struct uop *o, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void uop_fail(struct uop *o, int code, const char *fmt, ...)
{
	struct transport_result res;
	va_list ap;
	memset(&res, 0, sizeof(res));
	res.status = code;
	va_start(ap, fmt);
	vsnprintf(res.message, sizeof(res.message), fmt, ap);
	va_end(ap);
	uop_answer(o, &res);
}

/* The devices of a status body: loop devices, else the files. */
static size_t status_devices(const struct uspace_status *st, const char **v, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < st->nluns && n < max; i++) {
		const char *d = uspace_lun_device(&st->luns[i]);
		if (strlen(d) <= IPC_SHORT_STR_MAX)
			v[n++] = d;
	}
	return n;
}

void login_answer(struct us *u, const struct transport_result *res)
{
	transport_done_fn done = u->login_done;
	void *data = u->login_data;
	u->login_done = NULL;
	if (done)
		done(data, res);
}

/* A reply (or the end of the connection, r < 0). */
static void uop_reply(struct uop *o, int r, struct uspace_reply *rep)
{
	struct us *u = o->u;
	struct transport_result res;
	char what[700];
	memset(&res, 0, sizeof(res));
	us_what(u, what, sizeof(what));

	if (o->kind == UOP_LOGOUT) {
		/* the process answers once everything is gone; a process
		 * that died on the way is gone all the same */
		if (r == 0 && rep->code) {
			uop_fail(o, rep->code, "%s: %s", what, rep->text);
			return;
		}
		if (u->s) {
			struct session *s = u->s;
			u->s = NULL;
			session_end(s);
		}
		if (r < 0)
			cleanup_start(u->t, (int)u->sid);
		uop_answer(o, &res);
		return;
	}
	if (r < 0) {
		if (o->kind == UOP_LOGIN_STATUS) {
			/* logged in, then gone before it said more: still a
			 * success (carrier.h); the watch ends the session */
			res.sid = u->sid;
			uop_free(o);
			login_answer(u, &res);
			us_maybe_free(u);
			return;
		}
		uop_fail(o, ISCSI_ERR_SESS_NOT_FOUND, "%s: its process went away (%s)", what, strerror(-r));
		return;
	}
	if (rep->code) {
		if (o->kind == UOP_LOGIN_STATUS) {
			res.sid = u->sid;
			uop_free(o);
			login_answer(u, &res);
			us_maybe_free(u);
			return;
		}
		uop_fail(o, rep->code, "%s: %s", what, rep->text);
		return;
	}

	struct uspace_status st;
	const char *devs[TU_DEVICES_MAX];
	struct transport_stat stats[TU_STATS_MAX];
	char names[TU_STATS_MAX][48];
	switch (o->kind) {
	case UOP_LOGIN_STATUS:
	case UOP_STATUS:
	case UOP_RESCAN:
		if (uspace_status_parse(rep->body, &st) < 0) {
			if (o->kind == UOP_LOGIN_STATUS) {
				res.sid = u->sid;
				uop_free(o);
				login_answer(u, &res);
				us_maybe_free(u);
			} else {
				uop_fail(o, ISCSI_ERR_INTERNAL, "%s: unreadable status from its process", what);
			}
			return;
		}
		if (u->s)
			session_set_tpgt(u->s, st.tpgt);
		res.devices = devs;
		res.ndevices = status_devices(&st, devs, sizeof(devs) / sizeof(devs[0]));
		if (o->kind == UOP_LOGIN_STATUS) {
			res.sid = u->sid;
			uop_free(o);
			login_answer(u, &res);
			us_maybe_free(u);
		} else {
			uop_answer(o, &res);
		}
		uspace_status_free(&st);
		return;
	case UOP_STATS: {
		/* open-iscsi's SNMP names first, in its order; the rest are
		 * the transport's own ("iSCSI Extended") */
		static const char *const snmp[] = { "txdata_octets", "rxdata_octets", "noptx_pdus", "scsicmd_pdus",
						    "noprx_pdus", "timeout_err", NULL };
		size_t n = 0;
		for (size_t i = 0; snmp[i]; i++) {
			uint64_t v;
			if (uspace_body_u64(rep->body, snmp[i], &v) == 0)
				stats[n++] = (struct transport_stat){ .name = snmp[i], .value = v };
		}
		const char *p = rep->body;
		while (*p && n < TU_STATS_MAX) {
			const char *nl = strchr(p, '\n');
			size_t ll = nl ? (size_t)(nl - p) : strlen(p);
			const char *sp = memchr(p, ' ', ll);
			if (sp && (size_t)(sp - p) < sizeof(names[0])) {
				char key[48];
				uint64_t v;
				memcpy(key, p, (size_t)(sp - p));
				key[sp - p] = '\0';
				bool known = false;
				for (size_t i = 0; snmp[i]; i++)
					known |= !strcmp(snmp[i], key);
				if (!known && uspace_body_u64(rep->body, key, &v) == 0) {
					memcpy(names[n], key, sizeof(key));
					stats[n] = (struct transport_stat){ .name = names[n], .value = v, .extended = true };
					n++;
				}
			}
			p += ll + (nl ? 1 : 0);
		}
		res.stats = stats;
		res.nstats = n;
		uop_answer(o, &res);
		return;
	}
	case UOP_LOGOUT:
		break;
	}
}

static void on_uop(struct loop *l, int fd, uint32_t events, void *data)
{
	struct uop *o = data;
	struct uspace_reply rep;
	int r = uspace_call_step(o->call, &rep);
	if (r == -EAGAIN)
		return;
	uop_reply(o, r, &rep);
	if (r == 0)
		uspace_reply_free(&rep);
}

static void on_uop_timeout(struct loop *l, void *data)
{
	struct uop *o = data;
	char what[700];
	us_what(o->u, what, sizeof(what));
	if (o->kind == UOP_LOGIN_STATUS) {
		struct us *u = o->u;
		struct transport_result res = { .sid = u->sid };
		uop_free(o);
		login_answer(u, &res);
		us_maybe_free(u);
		return;
	}
	if (o->kind == UOP_STATUS) {
		struct us *u = o->u;
		uop_free(o);
		us_maybe_free(u);
		return;
	}
	uop_fail(o, ISCSI_ERR_REQ_TIMEDOUT, "%s: its iscsi-uspace process did not answer in time", what);
}

int uop_start(struct us *u, enum uop_kind kind, const char *verb, const char *arg, unsigned timeout_ms,
		     transport_done_fn done, void *data)
{
	struct tu *t = u->t;
	char what[700];
	struct uop *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->u = u;
	o->kind = kind;
	o->done = done;
	o->data = data;
	loop_timer_init(&o->timer, on_uop_timeout, o);
	int r = uspace_call_begin(t->rundir, (int)u->sid, verb, arg, &o->call);
	if (r == 0)
		r = loop_io_add(t->loop, uspace_call_fd(o->call), EPOLLIN, on_uop, o, &o->io);
	if (r == 0)
		r = loop_timer_arm(t->loop, &o->timer, timeout_ms);
	if (r < 0) {
		uspace_call_free(o->call);
		loop_io_remove(t->loop, o->io);
		loop_timer_disarm(t->loop, &o->timer);
		free(o);
	}
	if ((r == -ENOENT || r == -ECONNREFUSED) && done) {
		/* the process is gone (its watch says so too) */
		us_what(u, what, sizeof(what));
		if (kind != UOP_LOGOUT)
			return session_answer_later(t->base.layer, done, data, ISCSI_ERR_SESS_NOT_FOUND,
						    "%s: its iscsi-uspace process is not running", what);
		/* nothing left to log out of: what it left is cleaned */
		log_warnx("%s: its iscsi-uspace process is not running", what);
		if (u->s) {
			struct session *s = u->s;
			u->s = NULL;
			session_end(s);
		}
		cleanup_start(t, (int)u->sid);
		r = session_answer_later(t->base.layer, done, data, 0, "%s", "");
		us_maybe_free(u);
		return r;
	}
	if (r < 0)
		return r;
	o->next = u->ops;
	u->ops = o;
	return 0;
}

