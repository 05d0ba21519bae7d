/* What a restarted iscsid does with the kernel sessions it finds
 * (iscsid/kadopt.c): the shapes a daemon killed in the middle of logins
 * leaves in sysfs, against the scripted kernel. Every session ends up
 * adopted and working, or destroyed with its SCSI host; what is adopted
 * can be logged out, so nothing is left beyond a logout of everything. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "fake_kernel.h"
#include "fake_sysfs.h"
#include "iscsi_if.h"
#include "ks_harness.h"
#include "ksession.h"
#include "nodedb.h"
#include "sysfs.h"

/* A session on host sid + 10 as a dead daemon left it. conn: NULL for no
 * connection, else its state (down, bound, failed, up). */
static void leftover(uint32_t sid, const char *state, const char *target_state, const char *conn)
{
	char v[32];
	fake_add_host(fk.sysfs, sid + 10);
	fake_add_session(fk.sysfs, sid + 10, sid, state);
	fake_session_attr(fk.sysfs, sid, "target_state", target_state);
	if (!conn)
		return;
	fake_add_conn(fk.sysfs, sid + 10, sid, 0);
	fake_conn_attr(fk.sysfs, sid, 0, "state", conn);
	/* the portal is the test's listener (the scripted kernel answers) */
	fake_conn_attr(fk.sysfs, sid, 0, "persistent_address", "127.0.0.1\n");
	snprintf(v, sizeof(v), "%d\n", port);
	fake_conn_attr(fk.sysfs, sid, 0, "persistent_port", v);
}

static bool host_exists(uint32_t host)
{
	char rel[64], buf[64];
	snprintf(rel, sizeof(rel), "class/scsi_host/host%u/proc_name", host);
	return sysfs_read_attr(fk.sysfs, rel, buf, sizeof(buf)) == 0;
}

static bool all_logged_in(void)
{
	for (uint32_t sid = 14; sid <= 15; sid++) {
		struct ksession *ks = kctx_find(kc, sid);
		if (!ks || ks->state != KS_LOGGED_IN)
			return false;
	}
	struct ksession *ks = kctx_find(kc, 17);
	return ks && ks->state == KS_LOGGED_IN && count_sid(ISCSI_UEVENT_START_CONN, 14) == 1 &&
	       count_sid(ISCSI_UEVENT_START_CONN, 17) == 1;
}

static bool scanned15(void)
{
	char buf[64];
	return !strcmp(scan_file(25, buf, sizeof(buf)), "- - -");
}

START_TEST(test_half_made_sessions)
{
	char netlink[] = "/tmp/ks-netlink-XXXXXX";
	/* killed right after CREATE_SESSION */
	leftover(11, "FREE\n", "ALLOCATED\n", NULL);
	/* after CREATE_CONN, before BIND_CONN */
	leftover(12, "FREE\n", "ALLOCATED\n", "down\n");
	/* bound, login PDUs under way */
	leftover(13, "FREE\n", "ALLOCATED\n", "bound\n");
	/* a logged-in session being recovered: bound, not started */
	leftover(14, "FAILED\n", "SCANNED\n", "bound\n");
	/* logged in, killed before the scan */
	leftover(15, "LOGGED_IN\n", "ALLOCATED\n", "up\n");
	/* half-made by a program that is still at it: its netlink socket
	 * (port 777) is alive */
	leftover(16, "FREE\n", "ALLOCATED\n", "bound\n");
	fake_session_attr(fk.sysfs, 16, "creator", "777\n");
	/* logged in once, recovery_tmo expired (FREE), re-login under way */
	leftover(17, "FREE\n", "SCANNED\n", "failed\n");
	fake_add_lun(fk.sysfs, 27, 17, 0, "transport-offline\n", "sdq");

	int fd = mkstemp(netlink);
	ck_assert_int_ge(fd, 0);
	const char *text = "sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n"
			   "0000000012345678 8   777        00000001 0        0        0     2        0        4711\n"
			   "0000000012345679 0   4242       00000000 0        0        0     2        0        4712\n";
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ks_restart(netlink);
	unlink(netlink);

	/* the half-made ones are gone, hosts included, in the kernel's order */
	for (uint32_t sid = 11; sid <= 13; sid++) {
		ck_assert_msg(!fake_has_session(fk.sysfs, sid), "session %u left", sid);
		ck_assert_msg(!host_exists(sid + 10), "host%u left", sid + 10);
		ck_assert_ptr_null(kctx_find(kc, sid));
		ck_assert_uint_eq(count_sid(ISCSI_UEVENT_DESTROY_SESSION, sid), 1);
	}
	ck_assert_uint_eq(count_sid(ISCSI_UEVENT_DESTROY_CONN, 11), 0);
	ck_assert_uint_eq(count_sid(ISCSI_UEVENT_STOP_CONN, 12), 0);    /* never bound */
	ck_assert_uint_eq(count_sid(ISCSI_UEVENT_DESTROY_CONN, 12), 1);
	const struct req *stop13 = &fk.reqs[index_of(ISCSI_UEVENT_STOP_CONN, 0)];
	ck_assert_uint_eq(stop13->sid, 13);
	ck_assert_uint_eq(stop13->flag, ISCSI_STOP_CONN_TERM);
	ck_assert_uint_eq(count_sid(ISCSI_UEVENT_DESTROY_CONN, 13), 1);
	/* someone else's login is left alone */
	ck_assert(fake_has_session(fk.sysfs, 16));
	ck_assert_uint_eq(count_sid(ISCSI_UEVENT_DESTROY_SESSION, 16), 0);
	ck_assert_ptr_null(kctx_find(kc, 16));

	/* the others are adopted and working: 14 and 17 logged in again on
	 * their own session, 15 scanned */
	ck_assert(run_until(all_logged_in, 10000));
	ck_assert(run_until(scanned15, 3000));
	ck_assert_uint_eq(count(ISCSI_UEVENT_CREATE_SESSION), 0);
	ck_assert_uint_eq(count_sid(ISCSI_UEVENT_START_CONN, 15), 0);
	for (uint32_t sid = 14; sid <= 17; sid++) {
		if (sid == 16)
			continue;
		struct session *s = session_find(d.sessions, sid);
		ck_assert_msg(s != NULL, "session %u not tracked", sid);
		ck_assert_str_eq(session_state_text(s), "LOGGED_IN");
	}
	ck_assert_uint_eq(session_count(d.sessions), 3);

	/* logging out everything iscsid tracks leaves only the foreign one */
	struct answer b[3];
	uint32_t sids[3] = { 14, 15, 17 };
	for (int i = 0; i < 3; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		ck_assert_int_eq(session_logout(d.sessions, sids[i], on_done, &b[i]), 0);
	}
	for (int i = 0; i < 3; i++) {
		ck_assert(wait_answer(&b[i], 5000));
		ck_assert_int_eq(b[i].res.status, 0);
		ck_assert(!fake_has_session(fk.sysfs, sids[i]));
		ck_assert(!host_exists(sids[i] + 10));
	}
	ck_assert_uint_eq(session_count(d.sessions), 0);
	uint32_t *left = NULL;
	size_t n = 0;
	ck_assert_int_eq(sysfs_session_list(fk.sysfs, &left, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(left[0], 16);
	free(left);
}
END_TEST

/* A logged-in session that lost its connection and its portal address
 * cannot be recovered: destroyed rather than kept beyond any logout. */
START_TEST(test_no_connection_after_login)
{
	leftover(18, "FAILED\n", "SCANNED\n", NULL);
	ks_restart(NULL);
	ck_assert(!fake_has_session(fk.sysfs, 18));
	ck_assert(!host_exists(28));
	ck_assert_ptr_null(kctx_find(kc, 18));
	ck_assert_ptr_null(session_find(d.sessions, 18));
}
END_TEST

static bool scanned29(void)
{
	char buf[64];
	return !strcmp(scan_file(29, buf, sizeof(buf)), "- - -");
}

static bool logged_in19(void)
{
	struct ksession *ks = kctx_find(kc, 19);
	return ks && ks->state == KS_LOGGED_IN && count_sid(ISCSI_UEVENT_START_CONN, 19) == 1;
}

/* Logged in, its connection failed before the scan (the target dropped
 * it), then the daemon was killed: adopted, logged in again, and its LUNs
 * scanned once it is back -- not left LOGGED_IN without a disk. */
START_TEST(test_failed_before_scan)
{
	leftover(19, "FAILED\n", "ALLOCATED\n", "failed\n");
	ks_restart(NULL);
	ck_assert_ptr_nonnull(kctx_find(kc, 19));
	ck_assert(run_until(logged_in19, 5000));
	ck_assert(run_until(scanned29, 3000));
	ck_assert_str_eq(session_state_text(session_find(d.sessions, 19)), "LOGGED_IN");
}
END_TEST

static bool logged_in20(void)
{
	struct ksession *ks = kctx_find(kc, 20);
	return ks && ks->state == KS_LOGGED_IN && count_sid(ISCSI_UEVENT_START_CONN, 20) == 1;
}

/* A session logged in under another initiator name than its node record
 * gives now (the record's iface.initiatorname was changed since): its
 * re-login presents the name it logged in with, which the kernel keeps --
 * the target's ACL knows that one. The new name counts from the next
 * login. */
START_TEST(test_relogin_keeps_initiator_name)
{
	struct nodedb *db;
	struct node_rec rec;
	leftover(20, "FAILED\n", "SCANNED\n", "failed\n");
	fake_session_attr(fk.sysfs, 20, "initiatorname", "iqn.2005-03.org.example:the-old-name\n");
	make_rec(&rec, "iqn.2003-01.org.example:disk1", true);
	snprintf(rec.iface.iname, sizeof(rec.iface.iname), "iqn.2005-03.org.example:the-new-name");
	ck_assert_int_eq(nodedb_open(&d.paths, &db), 0);
	ck_assert_int_eq(nodedb_node_save(db, &rec, 0), 0);
	nodedb_free(db);
	ks_restart(NULL);
	ck_assert_ptr_nonnull(kctx_find(kc, 20));
	ck_assert(run_until(logged_in20, 5000));
	const char *name = NULL;
	for (size_t i = 0; i < fk.nreq; i++)
		if (fk.reqs[i].type == ISCSI_UEVENT_SET_PARAM && fk.reqs[i].sid == 20 &&
		    fk.reqs[i].param == ISCSI_PARAM_INITIATOR_NAME)
			name = fk.reqs[i].value;
	ck_assert_ptr_nonnull(name);
	ck_assert_str_eq(name, "iqn.2005-03.org.example:the-old-name");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("kadopt");
	TCase *tc = tcase_create("restart");
	tcase_add_checked_fixture(tc, ks_setup, ks_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_half_made_sessions);
	tcase_add_test(tc, test_no_connection_after_login);
	tcase_add_test(tc, test_failed_before_scan);
	tcase_add_test(tc, test_relogin_keeps_initiator_name);
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
