/* iscsid's uspace carrier (iscsid/carrier_uspace.c) under the session
 * layer, without processes: what its probe answers and what a login
 * through it gets when the host or the build lacks something (exit 12
 * with the reason), that answers come from the loop and never from
 * inside the call, and adoption from an empty or missing run directory.
 * Built twice: as configured, and without the transport (HAVE_USPACE
 * undefined), where every login says the build lacks it. Logins that
 * start real iscsi-uspace processes are tests/integration/iscsiadm_uspace*.sh. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "carrier.h"
#include "errors.h"
#include "loop.h"
#include "record.h"
#include "session.h"

static struct loop *lp;
static struct session_layer *sl;
static struct loop_timer deadline;
static char rundir[64];

struct answer {
	int n;
	int status;
	char message[TRANSPORT_MSG_MAX];
};

static void on_done(void *data, const struct transport_result *res)
{
	struct answer *a = data;
	a->n++;
	a->status = res->status;
	snprintf(a->message, sizeof(a->message), "%s", res->message);
	loop_exit(lp, 0);
}

static void on_deadline(struct loop *l, void *data)
{
	(void)data;
	loop_exit(l, 1);
}

/* Runs the loop until a is answered (2 s at most). */
static bool wait_answer(struct answer *a)
{
	if (a->n)
		return true;
	loop_timer_arm(lp, &deadline, 2000);
	loop_run(lp);
	loop_timer_disarm(lp, &deadline);
	return a->n == 1;
}

static void setup(void)
{
	ck_assert_int_eq(loop_new(&lp), 0);
	ck_assert_int_eq(session_layer_new(lp, &sl), 0);
	loop_timer_init(&deadline, on_deadline, NULL);
	snprintf(rundir, sizeof(rundir), "/tmp/test-carrier-uspace.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(rundir));
}

static void teardown(void)
{
	session_layer_free(sl);
	loop_free(lp);
	rmdir(rundir);
}

static struct carrier *carrier(const char *devfuse, const char *program)
{
	struct carrier_uspace_config cfg = { .rundir = rundir, .devfuse = devfuse, .program = program };
	struct carrier *c;
	ck_assert_int_eq(carrier_uspace_new(lp, &cfg, &c), 0);
	ck_assert_int_eq(session_layer_add_carrier(sl, c), 0);
	ck_assert_str_eq(c->ops->name, "uspace");
	ck_assert_uint_eq(c->ops->sid_min, CARRIER_SID_USPACE_MIN);
	return c;
}

static void probe(struct carrier *c, struct answer *a)
{
	memset(a, 0, sizeof(*a));
	ck_assert_int_eq(c->ops->probe(c, on_done, a), 0);
	ck_assert_int_eq(a->n, 0);       /* never from inside the call */
	ck_assert(wait_answer(a));
}

#define BUILT_WITHOUT \
	"iSCSI transport 'uspace' not available: this iscsid was built without it (libiscsi or libfuse3 were " \
	"missing: install libiscsi-dev and libfuse3-dev and build again)"

START_TEST(test_probe_no_fuse)
{
	struct answer a;
	probe(carrier("/nonexistent/fuse", "/bin/true"), &a);
	ck_assert_int_eq(a.status, ISCSI_ERR_TRANS_NOT_FOUND);
#ifdef HAVE_USPACE
	ck_assert_str_eq(a.message, "iSCSI transport 'uspace' not available: it needs FUSE, and /nonexistent/fuse "
				    "cannot be opened (No such file or directory): load the fuse module, or give the "
				    "container /nonexistent/fuse");
#else
	ck_assert_str_eq(a.message, BUILT_WITHOUT);
#endif
}
END_TEST

START_TEST(test_probe_no_program)
{
	struct answer a;
	probe(carrier("/dev/null", "/nonexistent/iscsi-uspace"), &a);
	ck_assert_int_eq(a.status, ISCSI_ERR_TRANS_NOT_FOUND);
#ifdef HAVE_USPACE
	ck_assert_str_eq(a.message, "iSCSI transport 'uspace' not available: /nonexistent/iscsi-uspace cannot be run "
				    "(No such file or directory)");
#else
	ck_assert_str_eq(a.message, BUILT_WITHOUT);
#endif
}
END_TEST

START_TEST(test_probe_usable)
{
	struct answer a;
	probe(carrier("/dev/null", "/bin/true"), &a);
#ifdef HAVE_USPACE
	ck_assert_int_eq(a.status, 0);
#else
	ck_assert_int_eq(a.status, ISCSI_ERR_TRANS_NOT_FOUND);
	ck_assert_str_eq(a.message, BUILT_WITHOUT);
#endif
}
END_TEST

/* A login through the layer to a host without FUSE: 12 and the reason,
 * nothing left in the table. */
START_TEST(test_login_no_fuse)
{
	struct node_rec *rec = calloc(1, sizeof(*rec));
	struct answer a = { 0 };
	carrier("/nonexistent/fuse", "/bin/true");
	node_rec_init(rec);
	snprintf(rec->name, sizeof(rec->name), "iqn.2003-01.org.example:u");
	snprintf(rec->conn.address, sizeof(rec->conn.address), "192.0.2.7");
	rec->conn.port = 3260;
	ck_assert_int_eq(iface_rec_builtin("uspace", &rec->iface), 0);
	struct transport_login req = { .rec = rec };
	ck_assert_int_eq(session_login(sl, &req, on_done, &a), 0);
	ck_assert_int_eq(a.n, 0);
	ck_assert(wait_answer(&a));
	ck_assert_int_eq(a.status, ISCSI_ERR_TRANS_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(a.message, "iSCSI transport 'uspace' not available: "));
	ck_assert_uint_eq(sl->n, 0);
	free(rec);
}
END_TEST

/* At start-up: nothing in the run directory (or no run directory) is no
 * session and no error; the answer says whether the transport is usable. */
START_TEST(test_adopt_nothing)
{
	struct answer a = { 0 };
	struct carrier *c = carrier("/dev/null", "/bin/true");
	ck_assert_int_eq(c->ops->adopt(c, on_done, &a), 0);
	ck_assert_int_eq(a.n, 0);
	ck_assert(wait_answer(&a));
#ifdef HAVE_USPACE
	ck_assert_int_eq(a.status, 0);
#else
	ck_assert_int_eq(a.status, ISCSI_ERR_TRANS_NOT_FOUND);
#endif
	ck_assert_uint_eq(sl->n, 0);
	rmdir(rundir);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(c->ops->adopt(c, on_done, &a), 0);
	ck_assert(wait_answer(&a));
	ck_assert_uint_eq(sl->n, 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("carrier_uspace");
	TCase *t = tcase_create("probe");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_probe_no_fuse);
	tcase_add_test(t, test_probe_no_program);
	tcase_add_test(t, test_probe_usable);
	tcase_add_test(t, test_login_no_fuse);
	tcase_add_test(t, test_adopt_nothing);
	suite_add_tcase(s, t);
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
