/* iscsid's session layer with the real request handlers, control server
 * and client in front of it and the kernel carrier on the scripted kernel
 * beneath: the table follows the session machine (one writer,
 * session.h), whatever order a login's answer and a session's end are
 * delivered in.
 *
 * Each test forks a client; the parent runs the daemon's loop until the
 * client exits, then checks what the client printed on a pipe. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "errors.h"
#include "fake_kernel.h"
#include "fake_sysfs.h"
#include "ipc.h"
#include "ipc_client.h"
#include "iscsi_if.h"
#include "client_run.h"
#include "ks_harness.h"
#include "ksession.h"

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

static char dir[64], sock[108];

static void setup(void)
{
	char err[256];
	int fd;
	ks_setup();
	snprintf(dir, sizeof(dir), "/tmp/test_ktable.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/s", dir);
	ck_assert_int_eq(ctl_socket_open(sock, (long)getgid(), &fd, err, sizeof(err)), 0);
	struct ctl_auth auth = { .uid_only = true, .allow_gid = (long)getgid() };
	ck_assert_int_eq(control_new(lp, fd, NULL, &auth, iscsid_dispatch, &d, &d.ctl), 0);
}

static void teardown(void)
{
	unlink(sock);
	control_free(d.ctl);
	rmdir(dir);
	ks_teardown();
}

/* ---- running a client ---- */

static char *run_client(client_fn fn)
{
	return client_run(lp, fn, 15000);
}

static void print_reply(FILE *out, int r, struct ipc_reply *rep)
{
	fprintf(out, "r=%d status=%d\n", r, rep->status);
	ipc_reply_free(rep);
}

static char record[512];

static void c_login_twice(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_login(sock, record, 0, &rep), &rep);
	print_reply(out, ipc_client_login(sock, record, 0, &rep), &rep);
}

/* The session dies (its SCSI host goes away) in the same event batch as
 * the Login Response that completes its login: the login is answered as
 * successful (it was), the session is gone, and the next login to the
 * node is not refused with 15 ("session exists") by a stale table
 * entry. */
START_TEST(test_death_in_the_login_batch)
{
	snprintf(record, sizeof(record),
		 "node.name = iqn.2003-01.org.example:disk1\nnode.conn[0].address = 127.0.0.1\n"
		 "node.conn[0].port = %d\nnode.session.scan = manual\nnode.session.initial_login_retry_max = 1\n"
		 "node.conn[0].timeo.login_timeout = 5\n",
		 port);
	fk.die_with_login = 1;
	char *out = run_client(c_login_twice);
	ck_assert_str_eq(out, "r=0 status=0\nr=0 status=0\n");
	ck_assert_uint_eq(count(ISCSI_UEVENT_CREATE_SESSION), 2);
	ck_assert_uint_eq(count_sid(ISCSI_UEVENT_DESTROY_SESSION, 1), 1);
	/* the table holds the second session only */
	ck_assert_ptr_null(session_find(d.sessions, 1));
	struct session *s = session_find(d.sessions, 2);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(session_state_text(s), "LOGGED_IN");
	ck_assert_uint_eq(session_count(d.sessions), 1);
}
END_TEST

static void c_login_logout(FILE *out)
{
	struct ipc_reply rep;
	print_reply(out, ipc_client_login(sock, record, 0, &rep), &rep);
	print_reply(out, ipc_client_logout_node(sock, "iqn.2003-01.org.example:disk1", NULL, NULL, &rep), &rep);
	print_reply(out, ipc_client_logout_node(sock, "iqn.2003-01.org.example:disk1", NULL, NULL, &rep), &rep);
}

/* The table's entry comes with the login and goes with the logout. */
START_TEST(test_login_logout_table)
{
	snprintf(record, sizeof(record),
		 "node.name = iqn.2003-01.org.example:disk1\nnode.conn[0].address = 127.0.0.1\n"
		 "node.conn[0].port = %d\nnode.session.scan = manual\n",
		 port);
	char *out = run_client(c_login_logout);
	ck_assert_str_eq(out, "r=0 status=0\nr=0 status=0\nr=21 status=21\n");
	ck_assert_uint_eq(session_count(d.sessions), 0);
	ck_assert(!fake_has_session(fk.sysfs, 1));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ktable");
	TCase *tc = tcase_create("table");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_death_in_the_login_batch);
	tcase_add_test(tc, test_login_logout_table);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
