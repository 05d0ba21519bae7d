/* How iscsid's kernel session path retries and reports failed logins
 * (iscsid/krecovery.c, ksession.c), against the scripted kernel: the
 * reconnect schedule after a lost connection, a login the target never
 * answers, a Login Response the kernel refuses. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "fake_kernel.h"
#include "fake_sysfs.h"
#include "iscsi_if.h"
#include "ks_harness.h"
#include "ksession.h"

/* ---- the reconnect schedule ---- */

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

static bool recovered(void)
{
	struct ksession *ks = kctx_find(kc, 1);
	return ks && ks->state == KS_LOGGED_IN && count(ISCSI_UEVENT_START_CONN) >= 2;
}

/* The target drops the connection and refuses logins (0x0301, as LIO does
 * with its portal group disabled) four times, then accepts again. */
START_TEST(test_recovery_schedule)
{
	struct answer a;
	uint32_t sid = login_ok(&a, "iqn.2003-01.org.example:disk1", false);
	size_t before = fk.nreq;
	fk.unavailable = 4;
	fk_conn_error(sid, ISCSI_IF_ERR_TCP_CONN_CLOSE);
	ck_assert(run_until(recovered, 20000));

	uint64_t binds[8];
	size_t nb = 0;
	for (size_t i = before; i < fk.nreq && nb < 8; i++)
		if (fk.reqs[i].type == ISCSI_UEVENT_BIND_CONN)
			binds[nb++] = fk.reqs[i].ms;
	ck_assert_uint_eq(nb, 5);                 /* four refused, the fifth logs in */
	ssize_t stop = index_of(ISCSI_UEVENT_STOP_CONN, before);
	ck_assert(stop >= 0);
	/* the first attempt goes out at once */
	ck_assert_uint_lt(binds[0] - fk.reqs[stop].ms, 200);
	for (size_t i = 1; i < nb; i++) {
		uint64_t gap = binds[i] - binds[i - 1];
		/* bounded: a target that stays down is not hammered ... */
		ck_assert_msg(gap >= SESSION_RETRY_FAST_MS - 20, "attempt %zu followed after %llu ms", i,
			      (unsigned long long)gap);
		/* ... and it does not grow: the path is back within a
		 * second of the target accepting again */
		ck_assert_msg(gap <= SESSION_RETRY_FAST_MS + 300, "attempt %zu followed after %llu ms", i,
			      (unsigned long long)gap);
	}
	/* logged in from the attempt that found the target back */
	ck_assert_uint_lt(last(ISCSI_UEVENT_START_CONN)->ms - binds[nb - 1], 200);
	ck_assert_uint_eq(count(ISCSI_UEVENT_CREATE_SESSION), 1);
}
END_TEST

/* ---- exit codes of failed logins ---- */

START_TEST(test_login_timeout_in_login)
{
	struct node_rec rec;
	struct answer a;
	/* the target accepts the connection and never answers the login */
	fk.no_answer = true;
	make_rec(&rec, "iqn.2003-01.org.example:disk1", false);
	rec.conn.login_timeout = 1;
	rec.session.initial_login_retry_max = 1;
	ks_login_start(&a, &rec, 0);
	ck_assert(wait_answer(&a, 5000));
	/* open-iscsi: 8 is a timeout while connecting, 11 while waiting for
	 * the Login Response */
	ck_assert_int_eq(a.res.status, ISCSI_ERR_PDU_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(a.res.message, "did not answer the Login Request"));
	ck_assert_uint_eq(count(ISCSI_UEVENT_DESTROY_SESSION), 1);
	ck_assert_uint_eq(kc->nsessions, 0);
}
END_TEST

/* The kernel refuses the target's Login Response (libiscsi_tcp: "datalen
 * 16777215 > 8192", or an ITT it never issued) and reports a connection
 * error: a protocol error by the target, not an authentication failure. */
static void refused_response(uint32_t err, const char *name)
{
	struct node_rec rec;
	struct answer a;
	fk.login_conn_error = err;
	make_rec(&rec, "iqn.2003-01.org.example:disk1", false);
	ks_login_start(&a, &rec, 0);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_msg(a.res.status == ISCSI_ERR_FATAL_LOGIN, "%s: exit %d (%s)", name, a.res.status, a.res.message);
	ck_assert_ptr_nonnull(strstr(a.res.message, "protocol error by the target"));
	ck_assert_ptr_nonnull(strstr(a.res.message, name));
	ck_assert_ptr_null(strstr(a.res.message, "authentication"));
	/* not retried, nothing left behind */
	ck_assert_uint_eq(count(ISCSI_UEVENT_BIND_CONN), 1);
	ck_assert_uint_eq(count(ISCSI_UEVENT_DESTROY_SESSION), 1);
	ck_assert_uint_eq(kc->nsessions, 0);
}

START_TEST(test_kernel_refuses_datalen)
{
	refused_response(ISCSI_IF_ERR_DATALEN, "DATALEN");
}
END_TEST

START_TEST(test_kernel_refuses_itt)
{
	refused_response(ISCSI_IF_ERR_BAD_ITT, "BAD_ITT");
}
END_TEST

/* Any other kernel error during login is neither the target's protocol
 * error nor its silence: a transport failure, retried. */
START_TEST(test_other_kernel_error_retried)
{
	struct node_rec rec;
	struct answer a;
	fk.login_conn_error = ISCSI_IF_ERR_SESSION_FAILED;
	make_rec(&rec, "iqn.2003-01.org.example:disk1", false);
	rec.conn.login_timeout = 1;
	ks_login_start(&a, &rec, 0);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_msg(a.res.status == ISCSI_ERR_TRANS, "exit %d (%s)", a.res.status, a.res.message);
	ck_assert_ptr_nonnull(strstr(a.res.message, "SESSION_FAILED"));
	ck_assert_uint_ge(count(ISCSI_UEVENT_BIND_CONN), 2);
}
END_TEST

/* The heuristic for targets that hang up on an AuthMethod they do not
 * accept still holds for a close, and only for a close. */
START_TEST(test_silent_close_still_auth)
{
	struct node_rec rec;
	struct answer a;
	fk.close_silently = true;
	make_rec(&rec, "iqn.2003-01.org.example:disk1", false);
	ks_login_start(&a, &rec, 0);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_int_eq(a.res.status, ISCSI_ERR_LOGIN_AUTH_FAILED);
	ck_assert_uint_eq(count(ISCSI_UEVENT_BIND_CONN), 2);
}
END_TEST

/* ---- a background login (--loginall=automatic at boot) ---- */

static struct answer bg;
static bool bg_wanted = true;

static bool bg_logged_in(void)
{
	return bg.done && session_count(d.sessions) == 1 && session_first(d.sessions)->state == SESSION_LOGGED_IN;
}

static bool table_empty(void)
{
	return d.sessions->n == 0 && kc->nsessions == 0;
}

static bool wanted(void *data, const struct session *s)
{
	(void)data;
	ck_assert_str_eq(s->target, "iqn.2003-01.org.example:boot");
	return bg_wanted;
}

/* The target refuses every login (LIO with its portal group disabled)
 * for longer than the record's initial-login budget (1 s) and the bound
 * of the request: the request is answered 29 at the bound, the login goes
 * on past the budget, and logs in once the target accepts again. */
START_TEST(test_background_login_goes_on)
{
	struct node_rec rec;
	make_rec(&rec, "iqn.2003-01.org.example:boot", false);
	rec.conn.login_timeout = 1;
	rec.session.initial_login_retry_max = 1;
	d.sessions->login_wanted = wanted;
	bg_wanted = true;
	fk.unavailable = 1000000;
	struct transport_login tl = { .rec = &rec, .background = true, .background_ms = 700 };
	memset(&bg, 0, sizeof(bg));
	uint64_t t0 = loop_now_ms();
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, &bg), 0);
	/* the caller's record may go with the answer */
	memset(&rec, 0xa5, sizeof(rec));
	ck_assert(wait_answer(&bg, 5000));
	uint64_t took = loop_now_ms() - t0;
	ck_assert_int_eq(bg.res.status, ISCSI_ERR_AGAIN);
	ck_assert_msg(took >= 650 && took < 1500, "answered after %llu ms", (unsigned long long)took);
	ck_assert_msg(strstr(bg.res.message, "keeps trying in the background"), "%s", bg.res.message);
	/* answered, it is no longer part of a burst: the heap is trimmed
	 * after the others (session.h), though this one goes on */
	ck_assert_uint_eq(d.sessions->nrequests, 0);
	/* still trying, well past the 1 s budget of the record */
	size_t binds = count(ISCSI_UEVENT_BIND_CONN);
	run_until(table_empty, 2500);
	ck_assert_uint_eq(d.sessions->n, 1);
	ck_assert_uint_eq(session_count(d.sessions), 0);      /* not listed while it logs in */
	ck_assert_uint_gt(count(ISCSI_UEVENT_BIND_CONN), binds + 1);
	/* at a bounded rate: at most two attempts a second */
	ck_assert_uint_le(count(ISCSI_UEVENT_BIND_CONN), (loop_now_ms() - t0) / SESSION_RETRY_FAST_MS + 2);
	/* the target comes up: logged in without another request */
	memset(&bg, 0, sizeof(bg));
	bg.done = true;
	fk.unavailable = 0;
	ck_assert(run_until(bg_logged_in, 5000));
	ck_assert_uint_eq(kc->nsessions, 1);
	ck_assert_uint_eq(count(ISCSI_UEVENT_START_CONN), 1);
	ck_assert_uint_eq(d.sessions->nrequests, 0);
	/* a logged-in session that loses its connection is the recovery
	 * path's again, not a login in the background */
	ck_assert(!session_first(d.sessions)->retry.unbounded);
}
END_TEST

/* The node record is deleted (or set to manual) meanwhile: it stops. */
START_TEST(test_background_login_stops_unwanted)
{
	struct node_rec rec;
	make_rec(&rec, "iqn.2003-01.org.example:boot", false);
	d.sessions->login_wanted = wanted;
	bg_wanted = true;
	fk.unavailable = 1000000;
	struct transport_login tl = { .rec = &rec, .background = true, .background_ms = 300 };
	memset(&bg, 0, sizeof(bg));
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, &bg), 0);
	ck_assert(wait_answer(&bg, 5000));
	ck_assert_int_eq(bg.res.status, ISCSI_ERR_AGAIN);
	ck_assert(!run_until(table_empty, 1500));
	bg_wanted = false;
	ck_assert(run_until(table_empty, 3000));
	ck_assert_uint_eq(count(ISCSI_UEVENT_DESTROY_SESSION), count(ISCSI_UEVENT_CREATE_SESSION));
	/* a new login to the node is possible again */
	fk.unavailable = 0;
	uint32_t sid = login_ok(&bg, "iqn.2003-01.org.example:boot", false);
	ck_assert_uint_ne(sid, 0);
}
END_TEST

/* iscsid stops during a background login: the half-made session is
 * undone, nothing is left or leaked (ASan), nothing is answered twice. */
START_TEST(test_background_login_iscsid_stops)
{
	struct node_rec rec;
	make_rec(&rec, "iqn.2003-01.org.example:boot", false);
	fk.unavailable = 1000000;
	struct transport_login tl = { .rec = &rec, .background = true, .background_ms = 300 };
	memset(&bg, 0, sizeof(bg));
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, &bg), 0);
	ck_assert(wait_answer(&bg, 5000));
	ck_assert_int_eq(bg.res.status, ISCSI_ERR_AGAIN);
	ck_assert(wait_requests(ISCSI_UEVENT_BIND_CONN, count(ISCSI_UEVENT_BIND_CONN) + 1, 3000));
	memset(&bg, 0, sizeof(bg));
	ks_stop();
	ck_assert(!bg.done);
	ck_assert_uint_eq(count(ISCSI_UEVENT_DESTROY_SESSION), count(ISCSI_UEVENT_CREATE_SESSION));
}
END_TEST

/* A target that is up: the answer is the login's, as without a bound. */
START_TEST(test_background_login_in_time)
{
	struct node_rec rec;
	make_rec(&rec, "iqn.2003-01.org.example:boot", false);
	fk.unavailable = 2;
	struct transport_login tl = { .rec = &rec, .background = true, .background_ms = 5000 };
	memset(&bg, 0, sizeof(bg));
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, &bg), 0);
	ck_assert(wait_answer(&bg, 5000));
	ck_assert_int_eq(bg.res.status, 0);
	ck_assert_uint_ne(bg.res.sid, 0);
	ck_assert_uint_eq(session_count(d.sessions), 1);
}
END_TEST

/* Without the bound the record's budget still ends a login to a target
 * that stays down (open-iscsi's behaviour for -l and --loginall=all). */
START_TEST(test_plain_login_gives_up)
{
	struct node_rec rec;
	struct answer a;
	make_rec(&rec, "iqn.2003-01.org.example:boot", false);
	rec.conn.login_timeout = 1;
	rec.session.initial_login_retry_max = 1;
	fk.unavailable = 1000000;
	ks_login_start(&a, &rec, 0);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_int_ne(a.res.status, 0);
	ck_assert_int_ne(a.res.status, ISCSI_ERR_AGAIN);
	ck_assert(run_until(table_empty, 2000));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("krecovery");
	TCase *tc = tcase_create("schedule");
	tcase_add_test(tc, test_retry_delay);
	suite_add_tcase(s, tc);
	tc = tcase_create("kernel sessions");
	tcase_add_checked_fixture(tc, ks_setup, ks_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_recovery_schedule);
	tcase_add_test(tc, test_login_timeout_in_login);
	tcase_add_test(tc, test_kernel_refuses_datalen);
	tcase_add_test(tc, test_kernel_refuses_itt);
	tcase_add_test(tc, test_other_kernel_error_retried);
	tcase_add_test(tc, test_silent_close_still_auth);
	tcase_add_test(tc, test_background_login_goes_on);
	tcase_add_test(tc, test_background_login_stops_unwanted);
	tcase_add_test(tc, test_background_login_iscsid_stops);
	tcase_add_test(tc, test_background_login_in_time);
	tcase_add_test(tc, test_plain_login_gives_up);
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
