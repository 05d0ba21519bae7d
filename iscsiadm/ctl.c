/* Requests to iscsid (see ctl.h). */
#include "ctl.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errors.h"
#include "ipc_client.h"
#include "json.h"
#include "print.h"

uint64_t ctl_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void ctl_node_what(const struct node_rec *r, char *buf, size_t len)
{
	snprintf(buf, len, "[iface: %s, target: %s, portal: %s,%d]", r->iface.name[0] ? r->iface.name : "default",
		 r->name, r->conn.address, r->conn.port);
}

struct login_pool {
	struct adm *a;
	struct ctl_login *v;
	size_t n;
	atomic_size_t next;
};

/* The DEVICE fields of an answer as "sdb sdc". */
static void collect_devices(const struct ipc_fields *f, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].tag != IPC_TAG_DEVICE || !f->v[i].str)
			continue;
		int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", f->v[i].str);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0';
			return;
		}
		used += (size_t)n;
	}
}

static void login_one(struct adm *a, struct ctl_login *l)
{
	struct ipc_reply rep;
	char *text = NULL;
	size_t len;

	memset(&rep, 0, sizeof(rep));
	/* The daemon gets the whole record, secrets included: the socket is
	 * root-only (ipc_client.h). */
	int r = rec_format(REC_KIND_NODE, l->rec, REC_FMT_DISK, &text, &len);
	if (r) {
		l->status = ISCSI_ERR_NOMEM;
		snprintf(l->message, sizeof(l->message), "cannot format the node record: %s", strerror(-r));
		return;
	}
	if (a->no_wait) {
		/* -W: hand the request over and go; iscsid carries on with
		 * the login when we close the connection. It counts as sent
		 * only once iscsid took it (a request left in the backlog of
		 * a stopped daemon is not); an answer that comes at once (an
		 * error) is reported. */
		struct ipc_writer w;
		uint8_t *frame = NULL;
		size_t flen = 0;
		ipc_writer_init(&w, IPC_MSG_LOGIN, 0, 1);
		ipc_put_str(&w, IPC_TAG_RECORD, text);
		ipc_put_u32(&w, IPC_TAG_LOGIN_FLAGS, 0);
		l->status = ipc_writer_finish(&w, &frame, &flen)
				    ? ISCSI_ERR_NOMEM
				    : ipc_client_send_accepted(a->paths.control_socket, frame, flen,
							       IPC_CLIENT_QUICK_TIMEOUT_MS, CTL_NO_WAIT_MS, &rep,
							       &l->queued);
		if (frame)
			explicit_bzero(frame, flen);
		free(frame);
	} else {
		uint32_t flags = (a->wait_devices ? IPC_LOGIN_WAIT_DEVICES : 0) | (a->ordered ? IPC_LOGIN_NO_SCAN : 0);
		if (a->login_deadline_ms) {
			/* one deadline for the whole run, however many
			 * logins wait for a worker */
			uint64_t now = ctl_now_ms();
			uint64_t left = a->login_deadline_ms > now ? a->login_deadline_ms - now : 0;
			l->status = ipc_client_login_background(a->paths.control_socket, text, flags, (uint32_t)left,
								&rep);
			l->background = l->status == ISCSI_ERR_AGAIN;
		} else {
			l->status = ipc_client_login(a->paths.control_socket, text, flags, &rep);
		}
	}
	explicit_bzero(text, len);
	free(text);
	snprintf(l->message, sizeof(l->message), "%s", rep.message);
	uint32_t sid;
	if (l->status == 0 && rep.msg && ipc_get_u32(&rep.msg->fields, IPC_TAG_SID, &sid) == 0)
		l->sid = sid;
	if (l->status == 0 && rep.msg)
		collect_devices(&rep.msg->fields, l->devices, sizeof(l->devices));
	ipc_reply_free(&rep);
}

static void *login_worker(void *data)
{
	struct login_pool *p = data;

	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			return NULL;
		login_one(p->a, &p->v[i]);
	}
}

int ctl_login_many(struct adm *a, struct ctl_login *v, size_t n)
{
	struct login_pool pool = { .a = a, .v = v, .n = n };
	pthread_t th[CTL_MAX_PARALLEL];
	size_t nth = n < CTL_MAX_PARALLEL ? n : CTL_MAX_PARALLEL, started = 0;

	atomic_init(&pool.next, 0);
	/* One control connection per login, each waiting in its own thread:
	 * iscsid runs the logins side by side (open-iscsi sends all requests,
	 * then collects the answers). */
	for (size_t i = 0; i < nth; i++) {
		if (pthread_create(&th[i], NULL, login_worker, &pool))
			break;
		started++;
	}
	if (started == 0)
		login_worker(&pool);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	return 0;
}

/* Sorting key of --ordered: target, portal, iface. */
static int cmp_login(const void *x, const void *y)
{
	const struct node_rec *a = (*(const struct ctl_login *const *)x)->rec;
	const struct node_rec *b = (*(const struct ctl_login *const *)y)->rec;
	int c = strcmp(a->name, b->name);
	if (!c)
		c = strcmp(a->conn.address, b->conn.address);
	if (!c)
		c = a->conn.port - b->conn.port;
	if (!c)
		c = strcmp(a->iface.name, b->iface.name);
	return c;
}

/* --ordered: the logins ran without scanning; attach the disks now, one
 * session after the other in a fixed order. sd names its disks in the
 * order they are probed, and parallel scans race (DESIGN.md), so this
 * order gives the same names on every boot. Each RESCAN answers once
 * the session's disks have their device nodes. */
static void scan_in_order(struct adm *a, struct ctl_login *v, size_t n)
{
	struct ctl_login **order = calloc(n ? n : 1, sizeof(*order));
	size_t k = 0;
	if (!order) {
		adm_err("out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (v[i].status == 0 && v[i].sid && v[i].rec->session.scan != REC_SCAN_MANUAL)
			order[k++] = &v[i];
	qsort(order, k, sizeof(*order), cmp_login);
	for (size_t i = 0; i < k; i++) {
		struct ipc_reply rep;
		memset(&rep, 0, sizeof(rep));
		int r = ipc_client_rescan(a->paths.control_socket, &order[i]->sid, &rep);
		if (r == 0 && rep.msg)
			collect_devices(&rep.msg->fields, order[i]->devices, sizeof(order[i]->devices));
		else if (r)
			adm_err("scan of session %u failed: %s", order[i]->sid, rep.message[0] ? rep.message : iscsi_err_str(r));
		ipc_reply_free(&rep);
	}
	free(order);
}

int ctl_login_recs(struct adm *a, const struct node_rec *const *recs, size_t n)
{
	struct ctl_login *v = calloc(n ? n : 1, sizeof(*v));
	char what[700];
	int first = 0;

	if (!v) {
		adm_err("out of memory");
		return ISCSI_ERR_NOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		v[i].rec = recs[i];
		ctl_node_what(recs[i], what, sizeof(what));
		adm_info(a, "Logging in to %s", what);
	}
	fflush(stdout);
	ctl_login_many(a, v, n);
	if (a->ordered)
		scan_in_order(a, v, n);
	for (size_t i = 0; i < n; i++) {
		ctl_node_what(recs[i], what, sizeof(what));
		if (v[i].status == 0) {
			if (!v[i].queued)
				adm_info(a, "Login to %s successful.", what);
			if (!v[i].queued && a->wait_devices)
				adm_info(a, "Attached disks: %s", v[i].devices[0] ? v[i].devices : "(none)");
			continue;
		}
		adm_err("Could not login to %s.", what);
		adm_err("initiator reported error (%d - %s)", v[i].status, iscsi_err_str(v[i].status));
		/* Our addition: the daemon's own sentence says what went wrong. */
		if (v[i].message[0] && strcmp(v[i].message, iscsi_err_str(v[i].status)))
			adm_err("%s", v[i].message);
		/* a login that goes on in the background (29) counts only
		 * when nothing failed for good */
		if (v[i].background)
			a->login_backgrounded = true;
		else if (!first)
			first = v[i].status;
	}
	free(v);
	if (!first && a->login_backgrounded)
		first = ISCSI_ERR_AGAIN;
	return first;
}

struct logout_pool {
	struct adm *a;
	struct ctl_logout *v;
	size_t n;
	atomic_size_t next;
};

static void *logout_worker(void *data)
{
	struct logout_pool *p = data;

	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			return NULL;
		p->v[i].status = ctl_logout_sid(p->a, p->v[i].sid, p->v[i].message, sizeof(p->v[i].message));
	}
}

void ctl_logout_many(struct adm *a, struct ctl_logout *v, size_t n)
{
	struct logout_pool pool = { .a = a, .v = v, .n = n };
	pthread_t th[CTL_MAX_PARALLEL];
	size_t nth = n < CTL_MAX_PARALLEL ? n : CTL_MAX_PARALLEL, started = 0;

	atomic_init(&pool.next, 0);
	for (size_t i = 0; i < nth; i++) {
		if (pthread_create(&th[i], NULL, logout_worker, &pool))
			break;
		started++;
	}
	if (started == 0)
		logout_worker(&pool);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
}

int ctl_logout_sid(struct adm *a, uint32_t sid, char *msg, size_t msglen)
{
	struct ipc_reply rep;

	memset(&rep, 0, sizeof(rep));
	int r = ipc_client_logout_sid(a->paths.control_socket, sid, &rep);
	snprintf(msg, msglen, "%s", rep.message);
	ipc_reply_free(&rep);
	return r;
}

/* iscsid's internal session states as open-iscsi prints them. */
static void map_session_state(const char *s, char *buf, size_t len)
{
	if (!s || !strcmp(s, "UNKNOWN"))
		snprintf(buf, len, "%s", "");
	else if (!strcmp(s, "LOGGED_IN") || !strcmp(s, "LOGGED IN"))
		snprintf(buf, len, "%s", "NO CHANGE");
	else
		snprintf(buf, len, "%s", s);
}

int ctl_session_states(struct adm *a, struct ctl_state **ret, size_t *ret_n)
{
	struct ipc_reply rep;
	struct ctl_state *v = NULL;
	size_t n = 0;

	memset(&rep, 0, sizeof(rep));
	int r = ipc_client_session_state(a->paths.control_socket, &rep);
	if (r) {
		adm_dbg(a, 1, "session states from iscsid: %s", rep.message);
		ipc_reply_free(&rep);
		return r;
	}
	if (rep.msg) {
		const struct ipc_fields *f = &rep.msg->fields;
		size_t cnt = ipc_count(f, IPC_TAG_SESSION);
		v = calloc(cnt ? cnt : 1, sizeof(*v));
		if (!v) {
			ipc_reply_free(&rep);
			return ISCSI_ERR_NOMEM;
		}
		for (size_t i = 0; i < f->n; i++) {
			const struct ipc_field *fl = &f->v[i];
			uint32_t sid;
			if (fl->tag != IPC_TAG_SESSION || !fl->group)
				continue;
			if (ipc_get_u32(fl->group, IPC_TAG_SID, &sid))
				continue;
			v[n].sid = sid;
			const char *cs = ipc_get_str(fl->group, IPC_TAG_CONN_STATE);
			snprintf(v[n].conn_state, sizeof(v[n].conn_state), "%s",
				 cs && strcmp(cs, "UNKNOWN") ? cs : "");
			map_session_state(ipc_get_str(fl->group, IPC_TAG_SESSION_STATE), v[n].session_state,
					  sizeof(v[n].session_state));
			const char *str;
			if ((str = ipc_get_str(fl->group, IPC_TAG_TRANSPORT)))
				snprintf(v[n].transport, sizeof(v[n].transport), "%s", str);
			if ((str = ipc_get_str(fl->group, IPC_TAG_TARGET_NAME)))
				snprintf(v[n].target, sizeof(v[n].target), "%s", str);
			if ((str = ipc_get_str(fl->group, IPC_TAG_PORTAL)))
				snprintf(v[n].portal, sizeof(v[n].portal), "%s", str);
			if ((str = ipc_get_str(fl->group, IPC_TAG_IFACE)))
				snprintf(v[n].iface, sizeof(v[n].iface), "%s", str);
			uint32_t tpgt;
			v[n].tpgt = ipc_get_u32(fl->group, IPC_TAG_TPGT, &tpgt) == 0 && tpgt <= 65535 ? (int)tpgt : -1;
			n++;
		}
	}
	ipc_reply_free(&rep);
	*ret = v;
	*ret_n = n;
	return 0;
}

int ctl_rescan(struct adm *a, const uint32_t *sid, char *msg, size_t msglen)
{
	struct ipc_reply rep;

	memset(&rep, 0, sizeof(rep));
	int r = ipc_client_rescan(a->paths.control_socket, sid, &rep);
	snprintf(msg, msglen, "%s", rep.message);
	ipc_reply_free(&rep);
	return r;
}

int ctl_print_stats(struct adm *a, uint32_t sid, const char *what)
{
	struct ipc_reply rep;

	memset(&rep, 0, sizeof(rep));
	int r = ipc_client_session_stats(a->paths.control_socket, sid, &rep);
	if (r) {
		adm_err("Could not get session stats for %s: %s", what, rep.message[0] ? rep.message : iscsi_err_str(r));
		ipc_reply_free(&rep);
		return r;
	}
	printf("Stats for session %s\n", what);
	printf("iSCSI SNMP:\n");
	bool ext = false;
	const struct ipc_fields *f = rep.msg ? &rep.msg->fields : NULL;
	for (size_t i = 0; f && i < f->n; i++) {
		const struct ipc_field *fl = &f->v[i];
		uint64_t v = 0;
		uint32_t x = 0;
		const char *name;
		if (fl->tag != IPC_TAG_STAT || !fl->group || !(name = ipc_get_str(fl->group, IPC_TAG_STAT_NAME)))
			continue;
		(void)ipc_get_u64(fl->group, IPC_TAG_STAT_VALUE, &v);
		if (ipc_get_u32(fl->group, IPC_TAG_STAT_EXTENDED, &x) == 0 && x && !ext) {
			printf("iSCSI Extended:\n");
			ext = true;
		}
		printf("\t%s: %llu\n", name, (unsigned long long)v);
	}
	ipc_reply_free(&rep);
	return 0;
}

static void json_stat_group(struct json *j, const struct ipc_fields *f, uint16_t tag, int extended)
{
	json_object_begin(j);
	for (size_t i = 0; f && i < f->n; i++) {
		const struct ipc_field *fl = &f->v[i];
		uint64_t v = 0;
		uint32_t x = 0;
		const char *name;
		if (fl->tag != tag || !fl->group || !(name = ipc_get_str(fl->group, IPC_TAG_STAT_NAME)))
			continue;
		if (extended >= 0 && (ipc_get_u32(fl->group, IPC_TAG_STAT_EXTENDED, &x) == 0 && x) != (extended > 0))
			continue;
		(void)ipc_get_u64(fl->group, IPC_TAG_STAT_VALUE, &v);
		json_key(j, name);
		json_uint(j, v);
	}
	json_object_end(j);
}

static void json_u64_field(struct json *j, const struct ipc_fields *f, const char *key, uint16_t tag)
{
	uint64_t v;
	json_key(j, key);
	if (f && ipc_get_u64(f, tag, &v) == 0)
		json_uint(j, v);
	else
		json_null(j);
}

int ctl_json_stats(struct adm *a, struct json *j, const struct sess_view *v, const char *what)
{
	struct ipc_reply rep;

	memset(&rep, 0, sizeof(rep));
	int r = ipc_client_session_stats(a->paths.control_socket, v->s.sid, &rep);
	if (r) {
		adm_err("Could not get session stats for %s: %s", what, rep.message[0] ? rep.message : iscsi_err_str(r));
		ipc_reply_free(&rep);
		return r;
	}
	const struct ipc_fields *f = rep.msg ? &rep.msg->fields : NULL;
	json_object_begin(j);
	json_kv_int(j, "sid", v->s.sid);
	json_kv_str_or_null(j, "transport", f ? ipc_get_str(f, IPC_TAG_TRANSPORT) : NULL);
	json_kv_str(j, "target", v->s.targetname);
	json_kv_str_or_null(j, "iface", v->s.ifacename[0] ? v->s.ifacename : NULL);
	json_key(j, "current_portal");
	json_object_begin(j);
	json_kv_str_or_null(j, "address", v->have_conn ? v->c.address : NULL);
	json_kv_int(j, "port", v->have_conn ? v->c.port : 0);
	json_object_end(j);
	/* iscsid's figures (an iscsid without them: null) */
	json_kv_str_or_null(j, "state", f ? ipc_get_str(f, IPC_TAG_SESSION_STATE) : NULL);
	json_u64_field(j, f, "logins", IPC_TAG_LOGINS);
	json_u64_field(j, f, "recoveries", IPC_TAG_RECOVERIES);
	json_u64_field(j, f, "recovery_ms", IPC_TAG_RECOVERY_MS);
	json_u64_field(j, f, "last_login_ms", IPC_TAG_LAST_LOGIN_MS);
	json_key(j, "connection_errors");
	json_stat_group(j, f, IPC_TAG_CONN_ERROR, -1);
	json_key(j, "counters");
	json_stat_group(j, f, IPC_TAG_STAT, 0);
	json_key(j, "extended");
	json_stat_group(j, f, IPC_TAG_STAT, 1);
	json_object_end(j);
	ipc_reply_free(&rep);
	return 0;
}

int ctl_stop_daemon(struct adm *a)
{
	struct ipc_reply rep;

	memset(&rep, 0, sizeof(rep));
	int r = ipc_client_stop(a->paths.control_socket, &rep);
	if (r)
		adm_err("%s", rep.message[0] ? rep.message : iscsi_err_str(r));
	ipc_reply_free(&rep);
	return r;
}
