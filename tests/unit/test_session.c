/* iscsid's session layer (iscsid/session.h) with carriers that are not the
 * kernel one: two test doubles (double_carrier.h), "double" with ids from
 * the layer (as the userspace carrier will have them) and "tcp" with ids
 * of its own (as the kernel has them), behind the real request handlers,
 * control server and client. What a user sees: login, a second login to
 * the node (15), recovery in the state list, logout, adoption of the
 * sessions that outlived a stopped iscsid, a session that dies in the
 * batch of its login answer; and the layer's contract with carriers: the
 * lifecycle it accepts, ids, failed logins, stopping, and the retry
 * policy it keeps for carriers that drive their own attempts.
 *
 * Client tests fork a client; the parent runs the daemon's loop until
 * the client exits, then checks what the client printed on a pipe. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "double_carrier.h"
#include "loop_wait.h"
#include "errors.h"
#include "ipc.h"
#include "ipc_client.h"
#include "iscsid.h"
#include "log.h"
#include "client_run.h"
#include "loop.h"
#include "session.h"

/* ---- stubs for main.c ---- */

int iscsid_reload(struct iscsid *dd, char *err, size_t errlen)
{
	(void)dd;
	(void)err;
	(void)errlen;
	return 0;
}

void iscsid_stop(struct iscsid *dd)
{
	dd->stopping = true;
}

/* ---- the daemon: a layer over two doubles sharing one world ---- */

#define SID0 CARRIER_SID_USPACE_MIN

static struct iscsid d;
static struct dc_world world;
static struct double_carrier *dbl;     /* "double": ids from the layer */
static struct double_carrier *tcp;     /* "tcp": its own ids */
static char dir[64], sock[108];

struct answer {
	int n;                             /* how often done was called */
	struct transport_result res;
	char devs[128];
};

static void on_done(void *data, const struct transport_result *res)
{
	struct answer *a = data;
	a->n++;
	a->res = *res;
	a->res.devices = NULL;
	a->res.stats = NULL;
	for (size_t i = 0; i < res->ndevices; i++) {
		strcat(a->devs, res->devices[i]);
		strcat(a->devs, " ");
	}
	for (size_t i = 0; i < res->nstats; i++) {
		char b[64];
		snprintf(b, sizeof(b), "%s=%llu ", res->stats[i].name, (unsigned long long)res->stats[i].value);
		strcat(a->devs, b);
	}
}

static void on_deadline(struct loop *l, void *data)
{
	(void)data;
	loop_exit(l, -ETIMEDOUT);
}

static struct answer *cur;
static void on_poll(struct loop *l, void *data)
{
	if (cur->n)
		loop_exit(l, 0);
	else
		loop_timer_arm(l, data, 5);
}

static bool wait_answer(struct answer *a, unsigned ms)
{
	struct loop_timer poll, dl;
	cur = a;
	loop_timer_init(&poll, on_poll, &poll);
	loop_timer_init(&dl, on_deadline, NULL);
	loop_timer_arm(d.loop, &poll, 0);
	loop_timer_arm(d.loop, &dl, ms);
	int r = loop_run(d.loop);
	loop_timer_disarm(d.loop, &poll);
	loop_timer_disarm(d.loop, &dl);
	return r == 0;
}

static bool run_until(bool (*c)(void), unsigned ms)
{
	return loop_run_until(d.loop, c, 2, ms);
}

/* The double's login was called (the probe is behind it). */
static bool login_called(void)
{
	return strstr(dbl->log, "login(") != NULL;
}

/* Runs the loop for ms (what is in flight finishes). */
static void settle(unsigned ms)
{
	struct loop_timer dl;
	loop_timer_init(&dl, on_deadline, NULL);
	loop_timer_arm(d.loop, &dl, ms);
	(void)loop_run(d.loop);
}

/* iscsid starts: a layer, the two carriers, adoption of what runs. */
static void start(void)
{
	struct dc_config c1 = { .name = "double", .sid_min = SID0, .host_no = 0, .delay_ms = 10 };
	struct dc_config c2 = { .name = "tcp", .own_sid = 1, .host_no = 5, .delay_ms = 10 };
	struct answer a;
	ck_assert_int_eq(session_layer_new(d.loop, &d.sessions), 0);
	dbl = double_carrier_new(d.loop, &world, &c1);
	tcp = double_carrier_new(d.loop, &world, &c2);
	ck_assert_int_eq(session_layer_add_carrier(d.sessions, &dbl->base), 0);
	ck_assert_int_eq(session_layer_add_carrier(d.sessions, &tcp->base), 0);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(session_adopt_all(d.sessions, on_done, &a), 0);
	ck_assert_int_eq(a.n, 0);              /* never from inside the call */
	ck_assert(wait_answer(&a, 2000));
	ck_assert_int_eq(a.res.status, 0);
}

/* iscsid stops: the carriers leave their sessions running. */
static void stop(void)
{
	session_layer_free(d.sessions);
	d.sessions = NULL;
	dbl = tcp = NULL;
}

static void setup(void)
{
	char err[256];
	int fd;
	memset(&d, 0, sizeof(d));
	memset(&world, 0, sizeof(world));
	log_init(true, 0);
	snprintf(dir, sizeof(dir), "/tmp/test_session.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/s", dir);
	ck_assert_int_eq(loop_new(&d.loop), 0);
	ck_assert_int_eq(ctl_socket_open(sock, (long)getgid(), &fd, err, sizeof(err)), 0);
	struct ctl_auth auth = { .uid_only = true, .allow_gid = (long)getgid() };
	ck_assert_int_eq(control_new(d.loop, fd, NULL, &auth, iscsid_dispatch, &d, &d.ctl), 0);
	start();
}

static void teardown(void)
{
	unlink(sock);
	control_free(d.ctl);
	stop();
	loop_free(d.loop);
	rmdir(dir);
}

/* ---- running a client ---- */

static char *run_client(client_fn fn)
{
	return client_run(d.loop, fn, 10000);
}

static void print_reply(FILE *out, int r, struct ipc_reply *rep)
{
	fprintf(out, "r=%d msg=%s\n", r, rep->message);
	if (rep->msg) {
		uint32_t v;
		if (ipc_get_u32(&rep->msg->fields, IPC_TAG_SID, &v) == 0)
			fprintf(out, "sid=%u\n", v);
		uint64_t logins, rec, rec_ms, last;
		if (ipc_get_u64(&rep->msg->fields, IPC_TAG_LOGINS, &logins) == 0) {
			/* SESSION_STATS: the layer's figures */
			(void)ipc_get_u64(&rep->msg->fields, IPC_TAG_RECOVERIES, &rec);
			(void)ipc_get_u64(&rep->msg->fields, IPC_TAG_RECOVERY_MS, &rec_ms);
			fprintf(out, "fig=%s %s logins=%llu recoveries=%llu in_recovery=%s last_login=%s errors=",
				ipc_get_str(&rep->msg->fields, IPC_TAG_SESSION_STATE),
				ipc_get_str(&rep->msg->fields, IPC_TAG_TRANSPORT), (unsigned long long)logins,
				(unsigned long long)rec, rec_ms ? "yes" : "no",
				ipc_get_u64(&rep->msg->fields, IPC_TAG_LAST_LOGIN_MS, &last) == 0 ? "yes" : "no");
			for (size_t i = 0; i < rep->msg->fields.n; i++) {
				const struct ipc_field *f = &rep->msg->fields.v[i];
				uint64_t n = 0;
				if (f->tag != IPC_TAG_CONN_ERROR)
					continue;
				(void)ipc_get_u64(f->group, IPC_TAG_STAT_VALUE, &n);
				fprintf(out, "%s:%llu,", ipc_get_str(f->group, IPC_TAG_STAT_NAME), (unsigned long long)n);
			}
			fputc('\n', out);
		}
		for (size_t i = 0; i < rep->msg->fields.n; i++) {
			const struct ipc_field *f = &rep->msg->fields.v[i];
			if (f->tag == IPC_TAG_DEVICE)
				fprintf(out, "dev=%s\n", f->str);
			if (f->tag == IPC_TAG_STAT)
				fprintf(out, "stat=%s\n", ipc_get_str(f->group, IPC_TAG_STAT_NAME));
			if (f->tag == IPC_TAG_SESSION) {
				ipc_get_u32(f->group, IPC_TAG_SID, &v);
				uint32_t tpgt;
				char tag[16] = "-";
				if (ipc_get_u32(f->group, IPC_TAG_TPGT, &tpgt) == 0)
					snprintf(tag, sizeof(tag), "%u", tpgt);
				/* iscsiadm lists sessions sysfs does not have
				 * from the transport and tag */
				fprintf(out, "session=%u %s %s,%s %s/%s %s\n", v, ipc_get_str(f->group, IPC_TAG_TARGET_NAME),
					ipc_get_str(f->group, IPC_TAG_PORTAL), tag,
					ipc_get_str(f->group, IPC_TAG_SESSION_STATE),
					ipc_get_str(f->group, IPC_TAG_CONN_STATE),
					ipc_get_str(f->group, IPC_TAG_TRANSPORT));
			}
		}
	}
	ipc_reply_free(rep);
}

#define T1 "iqn.2003-01.org.example:u1"
#define T2 "iqn.2003-01.org.example:u2"
/* a record whose iface is named after its transport, as iface "uspace" is */
#define REC(t, tr) \
	"node.name = " t "\nnode.conn[0].address = 192.0.2.7\nnode.conn[0].port = 3260\n" \
	"iface.iscsi_ifacename = " tr "\niface.transport_name = " tr "\n"

static void c_login_twice_list_logout(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_login(sock, REC(T1, "double"), IPC_LOGIN_WAIT_DEVICES, &rep), &rep);
	print_reply(out, ipc_client_login(sock, REC(T1, "double"), 0, &rep), &rep);
	print_reply(out, ipc_client_session_state(sock, &rep), &rep);
	print_reply(out, ipc_client_session_stats(sock, SID0, &rep), &rep);
	print_reply(out, ipc_client_logout_sid(sock, SID0, &rep), &rep);
	print_reply(out, ipc_client_session_state(sock, &rep), &rep);
	print_reply(out, ipc_client_logout_node(sock, T1, NULL, NULL, &rep), &rep);
}

/* login, a second login to the node (15), the list, stats, logout */
START_TEST(test_login_duplicate_logout)
{
	char *out = run_client(c_login_twice_list_logout);
	ck_assert_str_eq(out, "r=0 msg=Login to [iface: double, target: " T1 ", portal: 192.0.2.7,3260] successful.\n"
			      "sid=1000000\ndev=sdb\ndev=sdc\n"
			      "r=15 msg=session already exists for [iface: double, target: " T1
			      ", portal: 192.0.2.7,3260]\n"
			      "r=0 msg=\nsession=1000000 " T1 " 192.0.2.7:3260,- LOGGED_IN/LOGGED IN double\n"
			      "r=0 msg=\nsid=1000000\n"
			      "fig=LOGGED_IN double logins=1 recoveries=0 in_recovery=no last_login=yes "
			      "errors=connection_lost:0,connect:0,timeout:0,auth:0,login:0,other:0,\n"
			      "stat=txdata_octets\nstat=rxdata_octets\n"
			      "r=0 msg=Logout successful.\n"
			      "r=0 msg=\n"
			      "r=21 msg=no matching session for target " T1 "\n");
	ck_assert_str_eq(dbl->log, "login(" T1 ",1) stats(1000000) logout(1000000) ");
	ck_assert_str_eq(tcp->log, "");
	ck_assert_uint_eq(d.sessions->n, 0);
	ck_assert_uint_eq(dc_world_alive(&world), 0);
}
END_TEST

static uint32_t lost_sid;

static void c_recovery(FILE *out)
{
	struct ipc_reply rep;
	uint32_t sid = lost_sid;
	print_reply(out, ipc_client_session_state(sock, &rep), &rep);
	print_reply(out, ipc_client_rescan(sock, &sid, &rep), &rep);
	print_reply(out, ipc_client_login(sock, REC(T1, "double"), 0, &rep), &rep);
}

static void c_state(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_session_state(sock, &rep), &rep);
}

static void c_stats_lost(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_session_stats(sock, lost_sid, &rep), &rep);
}

static struct answer *login_direct(struct answer *a, const char *target, const char *transport)
{
	static struct node_rec rec[8];
	static size_t next;
	struct node_rec *r = &rec[next++ % 8];
	node_rec_init(r);
	snprintf(r->name, sizeof(r->name), "%s", target);
	snprintf(r->conn.address, sizeof(r->conn.address), "192.0.2.7");
	r->conn.port = 3260;
	snprintf(r->iface.transport_name, sizeof(r->iface.transport_name), "%s", transport);
	snprintf(r->iface.name, sizeof(r->iface.name), "%s", transport);
	struct transport_login tl = { .rec = r };
	memset(a, 0, sizeof(*a));
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, a), 0);
	ck_assert_int_eq(a->n, 0);
	return a;
}

/* The carrier reports a lost connection: the list shows the recovery,
 * a rescan is refused, a second login still is; then it is back. */
START_TEST(test_recovery_shown)
{
	struct answer a;
	ck_assert(wait_answer(login_direct(&a, T1, "double"), 2000));
	ck_assert_int_eq(a.res.status, 0);
	lost_sid = a.res.sid;
	dc_lose(dbl, lost_sid);
	char *out = run_client(c_recovery);
	ck_assert_str_eq(out, "r=0 msg=\nsession=1000000 " T1 " 192.0.2.7:3260,- REOPEN/TRANSPORT WAIT double\n"
			      "r=32 msg=session 1000000 is not logged in (REOPEN, TRANSPORT WAIT): only logged-in "
			      "sessions are scanned\n"
			      "r=15 msg=session already exists for [iface: double, target: " T1
			      ", portal: 192.0.2.7,3260]\n");
	settle(20);
	out = run_client(c_stats_lost);
	ck_assert_str_eq(out, "r=0 msg=\nsid=1000000\n"
			      "fig=RECOVERY double logins=1 recoveries=1 in_recovery=yes last_login=yes "
			      "errors=connection_lost:1,connect:0,timeout:0,auth:0,login:0,other:0,\n"
			      "stat=txdata_octets\nstat=rxdata_octets\n");
	dc_back(dbl, lost_sid);
	out = run_client(c_state);
	ck_assert_str_eq(out, "r=0 msg=\nsession=1000000 " T1 " 192.0.2.7:3260,- LOGGED_IN/LOGGED IN double\n");
	/* the figures of `iscsiadm -m session -s --json`: a second login */
	out = run_client(c_stats_lost);
	ck_assert_str_eq(out, "r=0 msg=\nsid=1000000\n"
			      "fig=LOGGED_IN double logins=2 recoveries=1 in_recovery=yes last_login=yes "
			      "errors=connection_lost:1,connect:0,timeout:0,auth:0,login:0,other:0,\n"
			      "stat=txdata_octets\nstat=rxdata_octets\n");
	/* a logout during recovery */
	dc_lose(dbl, lost_sid);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(session_logout(d.sessions, lost_sid, on_done, &a), 0);
	ck_assert(wait_answer(&a, 2000));
	ck_assert_int_eq(a.res.status, 0);
	ck_assert_ptr_null(session_lookup(d.sessions, lost_sid));
}
END_TEST

/* iscsid stops and starts again: the sessions that run are adopted with
 * their ids and states, from both carriers; new ids stay above them. */
START_TEST(test_restart_adopts)
{
	struct answer a, b, c;
	ck_assert(wait_answer(login_direct(&a, T1, "double"), 2000));
	ck_assert(wait_answer(login_direct(&b, T2, "double"), 2000));
	ck_assert(wait_answer(login_direct(&c, T1, "tcp"), 2000));
	ck_assert_uint_eq(a.res.sid, SID0);
	ck_assert_uint_eq(b.res.sid, SID0 + 1);
	ck_assert_uint_eq(c.res.sid, 1);
	ck_assert_uint_eq(c.res.host_no, 5);
	dc_lose(dbl, SID0 + 1);
	/* a login under way when iscsid stops is answered and undone */
	struct answer e;
	dbl->cfg.delay_ms = 300;
	dbl->log[0] = '\0';
	login_direct(&e, "iqn.2003-01.org.example:late", "double");
	ck_assert(run_until(login_called, 2000));
	ck_assert_uint_eq(dc_world_alive(&world), 4);
	stop();
	ck_assert_int_eq(e.n, 1);
	ck_assert_int_eq(e.res.status, ISCSI_ERR_INTERNAL);
	ck_assert_str_eq(e.res.message, "iscsid is stopping");
	ck_assert_uint_eq(dc_world_alive(&world), 3);

	start();
	char *out = run_client(c_state);
	ck_assert_str_eq(out, "r=0 msg=\n"
			      "session=1 " T1 " 192.0.2.7:3260,- LOGGED_IN/LOGGED IN tcp\n"
			      "session=1000000 " T1 " 192.0.2.7:3260,- LOGGED_IN/LOGGED IN double\n"
			      "session=1000001 " T2 " 192.0.2.7:3260,- REOPEN/TRANSPORT WAIT double\n");
	/* the adopted sessions count for duplicates and can be logged out */
	struct answer f;
	ck_assert(wait_answer(login_direct(&f, T1, "double"), 2000));
	ck_assert_int_eq(f.res.status, ISCSI_ERR_SESS_EXISTS);
	ck_assert(wait_answer(login_direct(&f, "iqn.2003-01.org.example:new", "double"), 2000));
	ck_assert_int_eq(f.res.status, 0);
	ck_assert_uint_eq(f.res.sid, SID0 + 2);
	memset(&f, 0, sizeof(f));
	ck_assert_int_eq(session_logout(d.sessions, SID0 + 1, on_done, &f), 0);
	ck_assert(wait_answer(&f, 2000));
	ck_assert_int_eq(f.res.status, 0);
	ck_assert_uint_eq(session_count(d.sessions), 3);
	ck_assert_uint_eq(dc_world_alive(&world), 3);
}
END_TEST

static void c_login_login(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_login(sock, REC(T1, "double"), 0, &rep), &rep);
	print_reply(out, ipc_client_session_state(sock, &rep), &rep);
	print_reply(out, ipc_client_login(sock, REC(T1, "double"), 0, &rep), &rep);
	print_reply(out, ipc_client_session_state(sock, &rep), &rep);
}

/* The session dies in the batch that decided its login answer: the login
 * succeeded (it did), nothing stale is left, the next login goes on. */
START_TEST(test_death_in_the_login_batch)
{
	dbl->die_with_login = true;
	char *out = run_client(c_login_login);
	dbl->die_with_login = false;
	ck_assert_str_eq(out, "r=0 msg=Login to [iface: double, target: " T1 ", portal: 192.0.2.7,3260] successful.\n"
			      "sid=1000000\n"
			      "r=0 msg=\n"
			      "r=0 msg=Login to [iface: double, target: " T1 ", portal: 192.0.2.7,3260] successful.\n"
			      "sid=1000001\n"
			      "r=0 msg=\n");
	ck_assert_uint_eq(d.sessions->n, 0);
	ck_assert_uint_eq(session_count(d.sessions), 0);
}
END_TEST

static void c_transports(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_login(sock, REC(T1, "iser"), 0, &rep), &rep);
	print_reply(out, ipc_client_login(sock, REC(T1, "double"), 0, &rep), &rep);
}

/* A transport no carrier serves, a carrier that cannot work here: 12,
 * and nothing of the login stays. */
START_TEST(test_transport_missing)
{
	dbl->probe_status = ISCSI_ERR_TRANS_NOT_FOUND;
	char *out = run_client(c_transports);
	ck_assert_str_eq(out, "r=12 msg=iSCSI transport 'iser' not available: iscsid has no carrier for it\n"
			      "r=12 msg=the double is switched off\n");
	ck_assert_str_eq(dbl->log, "");
	ck_assert_uint_eq(d.sessions->n, 0);
}
END_TEST

/* A failed login leaves no entry: whether the carrier ended it before
 * answering or (against the rules) did not. */
START_TEST(test_failed_login_leaves_nothing)
{
	struct answer a;
	dbl->login_status = ISCSI_ERR_LOGIN_AUTH_FAILED;
	ck_assert(wait_answer(login_direct(&a, T1, "double"), 2000));
	ck_assert_int_eq(a.res.status, ISCSI_ERR_LOGIN_AUTH_FAILED);
	ck_assert_uint_eq(d.sessions->n, 0);
	dbl->login_fail_keeps = true;
	ck_assert(wait_answer(login_direct(&a, T1, "double"), 2000));
	ck_assert_int_eq(a.res.status, ISCSI_ERR_LOGIN_AUTH_FAILED);
	ck_assert_uint_eq(d.sessions->n, 0);
	dbl->login_status = 0;
	ck_assert(wait_answer(login_direct(&a, T1, "double"), 2000));
	ck_assert_int_eq(a.res.status, 0);
	ck_assert_int_eq(a.n, 1);
}
END_TEST

/* Two logins to the node in one loop turn: the one whose probe comes
 * back second is refused with 15, the first holds the entry; each is
 * answered once. */
START_TEST(test_concurrent_logins)
{
	struct answer a, b;
	login_direct(&a, T1, "double");
	login_direct(&b, T1, "double");
	ck_assert(wait_answer(&a, 2000));
	ck_assert(wait_answer(&b, 2000));
	settle(50);
	ck_assert_int_eq(a.n, 1);
	ck_assert_int_eq(b.n, 1);
	/* whichever probe the carrier answered first */
	struct answer *ok = a.res.status == 0 ? &a : &b, *dup = ok == &a ? &b : &a;
	ck_assert_int_eq(ok->res.status, 0);
	ck_assert_int_eq(dup->res.status, ISCSI_ERR_SESS_EXISTS);
	ck_assert_str_eq(dup->res.message,
			 "a login to [iface: double, target: " T1 ", portal: 192.0.2.7,3260] is in progress (sid 1000000)");
	ck_assert_str_eq(dbl->log, "login(" T1 ",0) ");
}
END_TEST

/* Requests the layer answers itself: unknown ids, a logout of a login
 * under way or of one already being logged out, stats of a carrier
 * without counters; a session its carrier ends inside the logout call. */
START_TEST(test_layer_answers)
{
	struct answer a, b, c;
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(session_logout(d.sessions, 77, on_done, &a), 0);
	ck_assert_int_eq(a.n, 0);
	ck_assert(wait_answer(&a, 1000));
	ck_assert_int_eq(a.res.status, ISCSI_ERR_SESS_NOT_FOUND);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(session_rescan(d.sessions, 77, on_done, &a), 0);
	ck_assert(wait_answer(&a, 1000));
	ck_assert_int_eq(a.res.status, ISCSI_ERR_SESS_NOT_FOUND);

	/* a login under way: its id is known (from the layer), not listed */
	dbl->cfg.delay_ms = 300;
	login_direct(&a, T1, "double");
	ck_assert(run_until(login_called, 2000));
	dbl->cfg.delay_ms = 10;
	struct session *s = session_lookup(d.sessions, SID0);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->state, SESSION_LOGIN);
	ck_assert_ptr_null(session_find(d.sessions, SID0));
	ck_assert_uint_eq(session_count(d.sessions), 0);
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(session_logout(d.sessions, SID0, on_done, &b), 0);
	ck_assert(wait_answer(&b, 1000));
	ck_assert_int_eq(b.res.status, ISCSI_ERR_AGAIN);
	ck_assert(wait_answer(&a, 2000));
	ck_assert_int_eq(a.res.status, 0);

	/* two logouts: the second waits for nothing, 29 */
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(session_logout(d.sessions, SID0, on_done, &b), 0);
	ck_assert_int_eq(session_logout(d.sessions, SID0, on_done, &c), 0);
	ck_assert(wait_answer(&c, 1000));
	ck_assert_int_eq(c.res.status, ISCSI_ERR_AGAIN);
	ck_assert(wait_answer(&b, 1000));
	ck_assert_int_eq(b.res.status, 0);

	/* no counters */
	ck_assert(wait_answer(login_direct(&a, T1, "tcp"), 2000));
	tcp->ops.stats = NULL;
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(session_stats(d.sessions, a.res.sid, on_done, &b), 0);
	ck_assert(wait_answer(&b, 1000));
	ck_assert_int_eq(b.res.status, ISCSI_ERR_OP_NOT_SUPP);
	ck_assert_str_eq(b.res.message, "iSCSI transport 'tcp' keeps no statistics");

	/* ended from inside the logout call (carrier rule 3) */
	tcp->end_inside_logout = true;
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(session_logout(d.sessions, a.res.sid, on_done, &b), 0);
	ck_assert_ptr_null(session_lookup(d.sessions, a.res.sid));
	ck_assert(wait_answer(&b, 1000));
	ck_assert_int_eq(b.res.status, 0);
	ck_assert_uint_eq(d.sessions->n, 0);
}
END_TEST

/* The lifecycle the layer accepts from carriers, and ids. */
START_TEST(test_lifecycle_and_ids)
{
	struct node_rec rec;
	struct session *s, *t;
	node_rec_init(&rec);
	snprintf(rec.name, sizeof(rec.name), T1);
	snprintf(rec.conn.address, sizeof(rec.conn.address), "192.0.2.9");
	rec.conn.port = 3260;
	s = session_open(d.sessions, &tcp->base, &rec, SESSION_LOGIN, SESSION_CONN_TRANSPORT_WAIT);
	ck_assert_ptr_nonnull(s);
	/* an initial login has no recovery and no logout */
	ck_assert_int_eq(session_state_set(s, SESSION_RECOVERY, SESSION_CONN_IN_LOGIN), -EINVAL);
	ck_assert_int_eq(session_state_set(s, SESSION_LOGOUT, SESSION_CONN_IN_LOGOUT), -EINVAL);
	ck_assert_int_eq(s->state, SESSION_LOGIN);
	ck_assert_int_eq(session_state_set(s, SESSION_LOGIN, SESSION_CONN_IN_LOGIN), 0);
	ck_assert_int_eq(session_set_sid(s, 9, 4), 0);
	ck_assert_uint_eq(session_count(d.sessions), 0);
	ck_assert_int_eq(session_state_set(s, SESSION_LOGGED_IN, SESSION_CONN_TRANSPORT_WAIT), 0);
	ck_assert_str_eq(session_conn_text(s), "LOGGED IN");
	ck_assert_uint_eq(session_count(d.sessions), 1);
	ck_assert_int_eq(session_state_set(s, SESSION_LOGIN, SESSION_CONN_IN_LOGIN), -EINVAL);
	ck_assert_int_eq(session_state_set(s, SESSION_RECOVERY, SESSION_CONN_IN_LOGOUT), 0);
	ck_assert_str_eq(session_state_text(s), "REOPEN");
	ck_assert_str_eq(session_conn_text(s), "IN LOGOUT");
	ck_assert_int_eq(session_state_set(s, SESSION_LOGOUT, SESSION_CONN_TRANSPORT_WAIT), 0);
	ck_assert_str_eq(session_state_text(s), "CLEANUP");
	ck_assert_int_eq(session_state_set(s, SESSION_RECOVERY, SESSION_CONN_IN_LOGIN), -EINVAL);

	/* one id space: another carrier cannot take 9, nor adopt it */
	t = session_open(d.sessions, &tcp->base, &rec, SESSION_LOGIN, SESSION_CONN_TRANSPORT_WAIT);
	ck_assert_int_eq(session_set_sid(t, 9, 1), -EEXIST);
	ck_assert_int_eq(session_set_sid(t, 0, 1), -EINVAL);
	struct session_survivor sv = { .rec = &rec, .sid = 9, .state = SESSION_LOGGED_IN };
	struct session *u = NULL;
	ck_assert_int_eq(session_adopt(&dbl->base, &sv, &u), -ERANGE);       /* below its sid_min */
	sv.sid = SID0 + 40;
	ck_assert_int_eq(session_adopt(&dbl->base, &sv, &u), 0);
	ck_assert_int_eq(session_adopt(&tcp->base, &sv, &u), -EEXIST);
	/* the layer's next id is above the adopted one */
	ck_assert_uint_eq(session_sid_alloc(d.sessions, &dbl->base), SID0 + 41);
	session_end(s);
	session_end(t);
	session_end(u);
	ck_assert_uint_eq(d.sessions->n, 0);
	ck_assert_uint_eq(session_count(d.sessions), 0);
}
END_TEST

/* ---- the retry policy (session_retry.c) ---- */

START_TEST(test_retry_delay)
{
	/* a fixed short interval, never a growing back-off: at most two
	 * attempts a second, one a second once the outage is old */
	ck_assert_uint_eq(session_retry_delay(0), SESSION_RETRY_FAST_MS);
	ck_assert_uint_eq(session_retry_delay(SESSION_RETRY_FAST_WINDOW_MS - 1), SESSION_RETRY_FAST_MS);
	ck_assert_uint_eq(session_retry_delay(SESSION_RETRY_FAST_WINDOW_MS), SESSION_RETRY_SLOW_MS);
	ck_assert_uint_eq(session_retry_delay(24ull * 3600 * 1000), SESSION_RETRY_SLOW_MS);
	ck_assert_uint_ge(SESSION_RETRY_FAST_MS, 250);
	ck_assert_uint_le(SESSION_RETRY_SLOW_MS, 1000);
	ck_assert_uint_ge(SESSION_RETRY_SLOW_MS, SESSION_RETRY_FAST_MS);
}
END_TEST

static struct session *open_rec(enum session_state st, int retry_max, int reopen_max)
{
	struct node_rec rec;
	node_rec_init(&rec);
	snprintf(rec.name, sizeof(rec.name), T1);
	snprintf(rec.conn.address, sizeof(rec.conn.address), "192.0.2.9");
	rec.conn.port = 3260;
	rec.conn.login_timeout = 1;
	rec.session.initial_login_retry_max = retry_max;
	rec.session.reopen_max = reopen_max;
	struct session *s = session_open(d.sessions, &tcp->base, &rec, st, SESSION_CONN_TRANSPORT_WAIT);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* An initial login: fatal errors end it, a redirection or fall-back is
 * retried at once, anything else within the budget (here: none). */
START_TEST(test_retry_initial_login)
{
	struct session_err e = { 0 };
	uint64_t delay = 77;
	struct session *s = open_rec(SESSION_LOGIN, 0, 0);
	session_attempt_begin(s);
	session_err_set(&e, ISCSI_ERR_FATAL_LOGIN, false, "redirected");
	e.now = true;
	ck_assert_int_eq(session_attempt_failed(s, &e, &delay), SESSION_RETRY);
	ck_assert_uint_eq(delay, 0);
	ck_assert_uint_eq(s->retry.attempts, 0);             /* not counted */
	session_err_set(&e, ISCSI_ERR_TRANS, false, "refused");
	ck_assert_int_eq(session_attempt_failed(s, &e, &delay), SESSION_GIVE_UP);   /* budget 0 */
	session_end(s);

	s = open_rec(SESSION_LOGIN, 1000, 0);
	session_attempt_begin(s);
	session_err_set(&e, ISCSI_ERR_TRANS, false, "refused");
	ck_assert_int_eq(session_attempt_failed(s, &e, &delay), SESSION_RETRY);
	ck_assert_uint_eq(delay, SESSION_RETRY_FAST_MS);
	session_err_set(&e, ISCSI_ERR_LOGIN_AUTH_FAILED, true, "authentication failed");
	ck_assert_int_eq(session_attempt_failed(s, &e, &delay), SESSION_GIVE_UP);
	session_end(s);
	session_err_clear(&e);
}
END_TEST

/* A session carries no failure text until an attempt fails: the text is
 * allocated then, replaced by the next failure (the flags cleared with
 * it), cut at what a reply holds, and without one (empty, or no memory)
 * the code's own text stands in. */
START_TEST(test_err_text)
{
	struct session_err e = { 0 };
	ck_assert_ptr_null(e.msg);
	ck_assert_str_eq(session_err_msg(&e), iscsi_err_str(ISCSI_ERR_LOGIN));
	session_err_set(&e, ISCSI_ERR_TRANS, false, "cannot connect to %s:%d", "192.0.2.7", 3260);
	e.now = e.redirect = true;
	ck_assert_str_eq(session_err_msg(&e), "cannot connect to 192.0.2.7:3260");
	session_err_set(&e, ISCSI_ERR_LOGIN_AUTH_FAILED, true, "%s", "");
	ck_assert_ptr_null(e.msg);
	ck_assert(e.fatal && !e.now && !e.redirect);
	ck_assert_str_eq(session_err_msg(&e), iscsi_err_str(ISCSI_ERR_LOGIN_AUTH_FAILED));
	char big[3 * TRANSPORT_MSG_MAX];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	session_err_set(&e, ISCSI_ERR_TRANS, false, "%s", big);
	ck_assert_uint_eq(strlen(session_err_msg(&e)), TRANSPORT_MSG_MAX - 1);
	session_err_clear(&e);
	ck_assert_ptr_null(e.msg);
	ck_assert_int_eq(e.code, 0);
	session_err_clear(&e);   /* twice is harmless */
}
END_TEST

/* A session that was logged in retries whatever the error, waits the
 * target's Time2Wait once, and gives up after reopen_max attempts. */
START_TEST(test_retry_recovery)
{
	struct session_err e = { 0 };
	uint64_t delay = 0;
	struct session *s = open_rec(SESSION_LOGIN, 1, 3);
	ck_assert_int_eq(session_set_sid(s, 12, 1), 0);
	ck_assert_int_eq(session_state_set(s, SESSION_LOGGED_IN, SESSION_CONN_LOGGED_IN), 0);
	session_time2wait(s, 2);
	ck_assert_int_eq(session_state_set(s, SESSION_RECOVERY, SESSION_CONN_TRANSPORT_WAIT), 0);
	ck_assert_uint_eq(session_outage_begin(s), 2000);     /* the target's Time2Wait */
	session_time2wait(s, 3);
	session_err_set(&e, ISCSI_ERR_LOGIN_AUTH_FAILED, true, "authentication failed");
	ck_assert_int_eq(session_attempt_failed(s, &e, &delay), SESSION_RETRY);
	ck_assert_uint_eq(delay, 3000);
	ck_assert_int_eq(session_attempt_failed(s, &e, &delay), SESSION_RETRY);
	ck_assert_uint_eq(delay, SESSION_RETRY_FAST_MS);
	ck_assert_int_eq(session_attempt_failed(s, &e, &delay), SESSION_RETRY);
	ck_assert_int_eq(session_attempt_failed(s, &e, &delay), SESSION_GIVE_UP);
	ck_assert_int_eq(e.code, ISCSI_ERR_TRANS);
	ck_assert_str_eq(e.msg, "reconnecting failed 3 times");
	/* back: the counters start again */
	ck_assert_int_eq(session_state_set(s, SESSION_LOGGED_IN, SESSION_CONN_LOGGED_IN), 0);
	ck_assert_uint_eq(s->retry.attempts, 0);
	ck_assert_uint_eq(s->retry.outage_start_ms, 0);
	session_end(s);
	session_err_clear(&e);
}
END_TEST

START_TEST(test_redirect_limit)
{
	struct session *s = open_rec(SESSION_LOGIN, 1, 0);
	for (int i = 0; i < SESSION_MAX_REDIRECTS; i++)
		ck_assert(session_redirect_allowed(s));
	ck_assert(!session_redirect_allowed(s));
	ck_assert_int_eq(session_set_sid(s, 12, 1), 0);
	ck_assert_int_eq(session_state_set(s, SESSION_LOGGED_IN, SESSION_CONN_LOGGED_IN), 0);
	ck_assert(session_redirect_allowed(s));      /* counted per login and per outage */
	ck_assert_int_eq(session_state_set(s, SESSION_RECOVERY, SESSION_CONN_TRANSPORT_WAIT), 0);
	(void)session_outage_begin(s);
	for (int i = 0; i < SESSION_MAX_REDIRECTS; i++)
		ck_assert(session_redirect_allowed(s));
	ck_assert(!session_redirect_allowed(s));
	session_end(s);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("layer");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_login_duplicate_logout);
	tcase_add_test(tc, test_recovery_shown);
	tcase_add_test(tc, test_restart_adopts);
	tcase_add_test(tc, test_death_in_the_login_batch);
	tcase_add_test(tc, test_transport_missing);
	tcase_add_test(tc, test_failed_login_leaves_nothing);
	tcase_add_test(tc, test_concurrent_logins);
	tcase_add_test(tc, test_layer_answers);
	tcase_add_test(tc, test_lifecycle_and_ids);
	suite_add_tcase(s, tc);
	tc = tcase_create("retry");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_retry_delay);
	tcase_add_test(tc, test_retry_initial_login);
	tcase_add_test(tc, test_err_text);
	tcase_add_test(tc, test_retry_recovery);
	tcase_add_test(tc, test_redirect_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
