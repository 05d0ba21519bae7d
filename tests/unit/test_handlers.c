/* iscsid's request handlers through the real control server and the real
 * client, with the session layer and a test double carrier beneath it
 * (double_carrier.h) that adopts three running sessions at start: logins,
 * logouts of several sessions, rescans, the state list, and a client that
 * leaves while its login runs.
 *
 * Each test forks a client; the parent runs the daemon's loop until the
 * client exits, then checks what the client printed on a pipe. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "client_run.h"
#include "control.h"
#include "errors.h"
#include "ipc.h"
#include "ipc_client.h"
#include "iscsid.h"
#include "loop.h"
#include "double_carrier.h"
#include "record.h"
#include "session.h"
#include "transport.h"

/* ---- stubs for main.c ---- */

static int reload_calls;

int iscsid_reload(struct iscsid *d, char *err, size_t errlen)
{
	reload_calls++;
	return 0;
}

void iscsid_stop(struct iscsid *d)
{
	d->stopping = true;
}

/* ---- the carrier: the test double (double_carrier.h) ---- */

static struct iscsid d;
static struct double_carrier *fk;
static struct dc_world world;
static char dir[64], sock[108];

static bool adopted;
static void on_adopted(void *data, const struct transport_result *res)
{
	adopted = res->status == 0;
	loop_exit(d.loop, 0);
}

static void setup(void)
{
	char err[256];
	int fd;
	memset(&d, 0, sizeof(d));
	snprintf(dir, sizeof(dir), "/tmp/test_handlers.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/s", dir);
	ck_assert_int_eq(loop_new(&d.loop), 0);
	ck_assert_int_eq(ctl_socket_open(sock, (long)getgid(), &fd, err, sizeof(err)), 0);
	struct ctl_auth auth = { .uid_only = true, .allow_gid = (long)getgid() };
	ck_assert_int_eq(control_new(d.loop, fd, NULL, &auth, iscsid_dispatch, &d, &d.ctl), 0);
	/* three sessions a previous iscsid left running */
	memset(&world, 0, sizeof(world));
	dc_world_add(&world, "tcp", 1, 11, "iqn.2003-01.org.example:t1", "192.0.2.1", 3260, SESSION_LOGGED_IN);
	dc_world_add(&world, "tcp", 2, 12, "iqn.2003-01.org.example:t1", "192.0.2.2", 3260, SESSION_LOGGED_IN);
	dc_world_add(&world, "tcp", 3, 13, "iqn.2003-01.org.example:t2", "2001:db8::1", 3260, SESSION_LOGGED_IN);
	struct dc_config cfg = { .name = "tcp", .own_sid = 42, .host_no = 7, .delay_ms = 20 };
	fk = double_carrier_new(d.loop, &world, &cfg);
	ck_assert_int_eq(session_layer_new(d.loop, &d.sessions), 0);
	ck_assert_int_eq(session_layer_add_carrier(d.sessions, &fk->base), 0);
	adopted = false;
	ck_assert_int_eq(session_adopt_all(d.sessions, on_adopted, NULL), 0);
	ck_assert_int_eq(loop_run(d.loop), 0);
	ck_assert(adopted);
	ck_assert_uint_eq(session_count(d.sessions), 3);
	fk->log[0] = '\0';
}

static void teardown(void)
{
	unlink(sock);
	control_free(d.ctl);
	session_layer_free(d.sessions);
	loop_free(d.loop);
	rmdir(dir);
}

/* ---- running a client ---- */

/* Runs fn in a child against the daemon; returns what it printed. */
static char *run_client(client_fn fn)
{
	return client_run(d.loop, fn, 10000);
}

static void print_reply(FILE *out, int r, struct ipc_reply *rep)
{
	fprintf(out, "r=%d status=%d msg=%s\n", r, rep->status, rep->message);
	if (rep->msg) {
		uint32_t v;
		if (ipc_get_u32(&rep->msg->fields, IPC_TAG_SID, &v) == 0)
			fprintf(out, "sid=%u\n", v);
		if (ipc_get_u32(&rep->msg->fields, IPC_TAG_HOST_NO, &v) == 0)
			fprintf(out, "host=%u\n", v);
		for (size_t i = 0; i < rep->msg->fields.n; i++) {
			const struct ipc_field *f = &rep->msg->fields.v[i];
			if (f->tag == IPC_TAG_DEVICE)
				fprintf(out, "dev=%s\n", f->str);
			if (f->tag == IPC_TAG_SESSION) {
				ipc_get_u32(f->group, IPC_TAG_SID, &v);
				fprintf(out, "session=%u %s %s %s %s\n", v,
					ipc_get_str(f->group, IPC_TAG_TARGET_NAME),
					ipc_get_str(f->group, IPC_TAG_PORTAL),
					ipc_get_str(f->group, IPC_TAG_SESSION_STATE),
					ipc_get_str(f->group, IPC_TAG_CONN_STATE));
			}
		}
	}
	ipc_reply_free(rep);
}

#define REC_T9 "node.name = iqn.2003-01.org.example:t9\nnode.conn[0].address = 192.0.2.9\nnode.conn[0].port = 3260\n"
#define REC_T1 "node.name = iqn.2003-01.org.example:t1\nnode.conn[0].address = 192.0.2.1\nnode.conn[0].port = 3260\n"

static void c_login_ok(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_login(sock, REC_T9, IPC_LOGIN_WAIT_DEVICES, &rep), &rep);
	print_reply(out, ipc_client_login(sock, REC_T9, 0, &rep), &rep);
}

START_TEST(test_login_success_answer)
{
	char *out = run_client(c_login_ok);
	ck_assert_str_eq(out, "r=0 status=0 msg=Login to [iface: default, target: iqn.2003-01.org.example:t9, "
			      "portal: 192.0.2.9,3260] successful.\nsid=42\nhost=7\ndev=sdb\ndev=sdc\n"
			      "r=15 status=15 msg=session already exists for [iface: default, target: "
			      "iqn.2003-01.org.example:t9, portal: 192.0.2.9,3260]\n");
	ck_assert_str_eq(fk->log, "login(iqn.2003-01.org.example:t9,1) ");
	/* the new session is tracked */
	struct session *s = session_find(d.sessions, 42);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->target, "iqn.2003-01.org.example:t9");
	ck_assert_str_eq(s->portal, "192.0.2.9:3260");
	ck_assert_str_eq(s->iface, "default");
	ck_assert_uint_eq(s->host_no, 7);
}
END_TEST

static void c_login_exists(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_login(sock, REC_T1, 0, &rep), &rep);
}

START_TEST(test_login_existing_session)
{
	char *out = run_client(c_login_exists);
	ck_assert_str_eq(out, "r=15 status=15 msg=session already exists for [iface: default, target: "
			      "iqn.2003-01.org.example:t1, portal: 192.0.2.1,3260]\n");
	ck_assert_str_eq(fk->log, "");
}
END_TEST

static void c_logout_target(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_logout_node(sock, "iqn.2003-01.org.example:t1", NULL, NULL, &rep), &rep);
}

/* Both sessions to t1 are logged out; the failure of one is the answer,
 * the other is gone from the table. */
START_TEST(test_logout_by_target_first_failure)
{
	fk->fail_logout_sid = 2;
	char *out = run_client(c_logout_target);
	ck_assert_str_eq(out, "r=10 status=10 msg=target did not answer the logout of sid 2\n");
	ck_assert_str_eq(fk->log, "logout(1) logout(2) ");
	ck_assert_ptr_null(session_find(d.sessions, 1));
	ck_assert_ptr_nonnull(session_find(d.sessions, 2));
	ck_assert_uint_eq(session_count(d.sessions), 2);
}
END_TEST

static void c_logout_portal(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_logout_node(sock, "iqn.2003-01.org.example:t2", "[2001:db8::1]:3260", "default", &rep),
		    &rep);
	print_reply(out, ipc_client_logout_node(sock, "iqn.2003-01.org.example:t2", "192.0.2.1:3260", NULL, &rep),
		    &rep);
}

START_TEST(test_logout_by_portal)
{
	char *out = run_client(c_logout_portal);
	ck_assert_str_eq(out, "r=0 status=0 msg=Logout successful.\n"
			      "r=21 status=21 msg=no matching session for target iqn.2003-01.org.example:t2 portal "
			      "192.0.2.1:3260\n");
	ck_assert_str_eq(fk->log, "logout(3) ");
	ck_assert_ptr_null(session_find(d.sessions, 3));
}
END_TEST

static void c_rescan_state(FILE *out)
{
	struct ipc_reply rep;
	uint32_t sid = 2;
	print_reply(out, ipc_client_rescan(sock, NULL, &rep), &rep);
	print_reply(out, ipc_client_rescan(sock, &sid, &rep), &rep);
	print_reply(out, ipc_client_session_state(sock, &rep), &rep);
	print_reply(out, ipc_client_reload(sock, &rep), &rep);
}

START_TEST(test_rescan_state_reload)
{
	reload_calls = 0;
	char *out = run_client(c_rescan_state);
	ck_assert_str_eq(out, "r=0 status=0 msg=Rescan started.\n"
			      "dev=sdb\ndev=sdc\ndev=sdb\ndev=sdc\ndev=sdb\ndev=sdc\n"
			      "r=0 status=0 msg=Rescan started.\n"
			      "dev=sdb\ndev=sdc\n"
			      "r=0 status=0 msg=\n"
			      "session=1 iqn.2003-01.org.example:t1 192.0.2.1:3260 LOGGED_IN LOGGED IN\n"
			      "session=2 iqn.2003-01.org.example:t1 192.0.2.2:3260 LOGGED_IN LOGGED IN\n"
			      "session=3 iqn.2003-01.org.example:t2 [2001:db8::1]:3260 LOGGED_IN LOGGED IN\n"
			      "r=0 status=0 msg=configuration reloaded from \n");
	ck_assert_str_eq(fk->log, "rescan(1) rescan(2) rescan(3) rescan(2) ");
	ck_assert_int_eq(reload_calls, 1);
}
END_TEST

/* The client sends a LOGIN and leaves; the login completes later into a
 * detached request (ASan checks nothing is touched after free). */
static void c_login_and_leave(FILE *out)
{
	struct ipc_writer w;
	uint8_t *buf;
	size_t len;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	ipc_writer_init(&w, IPC_MSG_LOGIN, 0, 5);
	ipc_put_str(&w, IPC_TAG_RECORD, REC_T9);
	ipc_writer_finish(&w, &buf, &len);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && write(fd, buf, len) == (ssize_t)len)
		fprintf(out, "sent\n");
	usleep(50000);   /* the daemon has read it; the login is in flight */
	close(fd);
	free(buf);
}

static void on_quiet(struct loop *l, void *data)
{
	loop_exit(l, 0);
}

START_TEST(test_client_leaves_during_login)
{
	fk->cfg.delay_ms = 300;
	char *out = run_client(c_login_and_leave);
	ck_assert_str_eq(out, "sent\n");
	/* let the login (probe, then login: 300 ms each) complete into the
	 * detached request */
	struct loop_timer t;
	loop_timer_init(&t, on_quiet, NULL);
	loop_timer_arm(d.loop, &t, 900);
	ck_assert_int_eq(loop_run(d.loop), 0);
	ck_assert_str_eq(fk->log, "login(iqn.2003-01.org.example:t9,0) ");
	ck_assert_ptr_nonnull(session_find(d.sessions, 42));
	ck_assert_uint_eq(control_nclients(d.ctl), 0);
}
END_TEST

/* Requests about sessions that arrive while the carriers still adopt
 * what the previous iscsid left wait for the adoption: a logout of a
 * session not adopted yet must not answer "no session". */
static void c_logout_sid_then_list(FILE *out)
{
	struct ipc_reply rep;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	print_reply(out, ipc_client_logout_sid(sock, 2, &rep), &rep);
	clock_gettime(CLOCK_MONOTONIC, &b);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	fprintf(out, "waited=%s\n", ms >= 150 ? "yes" : "no");
	print_reply(out, ipc_client_hello(sock, &rep), &rep);
	print_reply(out, ipc_client_session_state(sock, &rep), &rep);
}

static void on_adoption_over(struct loop *l, void *data)
{
	struct transport_result res = { .status = 0 };
	iscsid_adopted(&d, &res);
}

START_TEST(test_requests_wait_for_adoption)
{
	d.adopting = true;
	struct loop_timer t;
	loop_timer_init(&t, on_adoption_over, NULL);
	loop_timer_arm(d.loop, &t, 200);
	char *out = run_client(c_logout_sid_then_list);
	ck_assert_str_eq(out, "r=0 status=0 msg=Logout successful.\n"
			      "waited=yes\n"
			      "r=0 status=0 msg=\n"
			      "r=0 status=0 msg=\n"
			      "session=1 iqn.2003-01.org.example:t1 192.0.2.1:3260 LOGGED_IN LOGGED IN\n"
			      "session=3 iqn.2003-01.org.example:t2 [2001:db8::1]:3260 LOGGED_IN LOGGED IN\n");
	ck_assert(!d.adopting);
	ck_assert_str_eq(fk->log, "logout(2) ");
}
END_TEST

/* Parked requests are answered "iscsid is stopping" when it stops first. */
static void c_logout_sid(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_logout_sid(sock, 1, &rep), &rep);
}

static void on_stop_while_parked(struct loop *l, void *data)
{
	ck_assert_uint_eq(d.nparked, 1);
	iscsid_unpark_all(&d);
}

START_TEST(test_parked_requests_at_stop)
{
	d.adopting = true;
	struct loop_timer t;
	loop_timer_init(&t, on_stop_while_parked, NULL);
	loop_timer_arm(d.loop, &t, 200);
	char *out = run_client(c_logout_sid);
	ck_assert_str_eq(out, "r=9 status=9 msg=iscsid is stopping\n");
	ck_assert_str_eq(fk->log, "");
	ck_assert_uint_eq(session_count(d.sessions), 3);
}
END_TEST

static void c_stop_then_hello(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_stop(sock, &rep), &rep);
	print_reply(out, ipc_client_hello(sock, &rep), &rep);
}

START_TEST(test_requests_after_stop)
{
	char *out = run_client(c_stop_then_hello);
	ck_assert_str_eq(out, "r=0 status=0 msg=iscsid is stopping\nr=29 status=29 msg=iscsid is stopping\n");
	ck_assert(d.stopping);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("handlers");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_login_success_answer);
	tcase_add_test(tc, test_login_existing_session);
	tcase_add_test(tc, test_logout_by_target_first_failure);
	tcase_add_test(tc, test_logout_by_portal);
	tcase_add_test(tc, test_rescan_state_reload);
	tcase_add_test(tc, test_client_leaves_during_login);
	tcase_add_test(tc, test_requests_after_stop);
	tcase_add_test(tc, test_requests_wait_for_adoption);
	tcase_add_test(tc, test_parked_requests_at_stop);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
