/* iscsid's metrics file (iscsid/metrics.h): the text exposition format
 * as node_exporter's textfile collector reads it (families together,
 * HELP and TYPE, label values escaped), and the writer over the session
 * layer with a test double carrier: the file appears with the session's
 * figures, follows a recovery, loses a session that ends, is not
 * world-writable, and is removed when iscsid stops. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "double_carrier.h"
#include "loop_wait.h"
#include "errors.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "session.h"

/* ---- the format ---- */

static char *format(const struct metrics_session *v, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	ck_assert_int_eq(metrics_format(v, n, &buf, &len), 0);
	ck_assert_uint_eq(strlen(buf), len);
	return buf;
}

static const uint64_t errs[SESSION_NCAUSES] = { [SESSION_CAUSE_CONN_LOST] = 3, [SESSION_CAUSE_AUTH] = 1 };

/* Every label value is escaped: backslash, double quote, line feed. A
 * target name with them cannot be a valid iSCSI name, but an iface name
 * or a portal from a record may hold anything: the file stays readable. */
START_TEST(test_escaping)
{
	struct metrics_session s = {
		.target = "iqn.2003-01.org.example:a\\b\"c\nd", .portal = "[fe80::1]:3260", .iface = "if\"1",
		.transport = "uspace", .sid = 1000000, .state = SESSION_LOGGED_IN, .logins = 1, .conn_errors = errs,
	};
	char *out = format(&s, 1);
	const char *labels = "{target=\"iqn.2003-01.org.example:a\\\\b\\\"c\\nd\",portal=\"[fe80::1]:3260\","
			     "iface=\"if\\\"1\",sid=\"1000000\"}";
	char want[512];
	snprintf(want, sizeof(want), "\niscsi_session_logins_total%s 1\n", labels);
	ck_assert_msg(strstr(out, want), "no %s in\n%s", want, out);
	snprintf(want, sizeof(want), "\niscsi_session_up%s 1\n", labels);
	ck_assert_ptr_nonnull(strstr(out, want));
	/* one sample a line: no raw line feed inside a label */
	for (char *p = out; (p = strchr(p, '\n')); p++)
		ck_assert(p[1] == '\0' || p[1] == '#' || !strncmp(p + 1, "iscsi_", 6));
	free(out);
}
END_TEST

/* The families, each with HELP and TYPE once and its samples together;
 * the carrier's counters under names of their own or by name. */
START_TEST(test_families)
{
	struct session_counter c1[] = {
		{ .name = "txdata_octets", .value = 4096 },
		{ .name = "rxdata_octets", .value = 8192 },
		{ .name = "reconnects", .value = 2, .extended = true },
		{ .name = "txdata_octets", .value = 1 },        /* a repeated name: the first one counts */
	};
	struct metrics_session v[2] = {
		{ .target = "iqn.2003-01.org.example:t1", .portal = "127.0.0.1:3260", .iface = "uspace",
		  .transport = "uspace", .sid = 1000000, .state = SESSION_LOGGED_IN, .logins = 2, .recoveries = 1,
		  .recovery_ms = 1500, .have_last_login = true, .last_login_ms = 42, .conn_errors = errs,
		  .counters = c1, .ncounters = 4 },
		{ .target = "iqn.2003-01.org.example:t2", .portal = "127.0.0.1:3260", .iface = "default",
		  .transport = "tcp", .sid = 7, .state = SESSION_RECOVERY, .logins = 1, .recoveries = 1,
		  .recovery_ms = 250, .conn_errors = errs },
	};
	char *out = format(v, 2);
	const char *l1 = "{target=\"iqn.2003-01.org.example:t1\",portal=\"127.0.0.1:3260\",iface=\"uspace\",sid=\"1000000\"";
	const char *l2 = "{target=\"iqn.2003-01.org.example:t2\",portal=\"127.0.0.1:3260\",iface=\"default\",sid=\"7\"";
	const char *want[] = {
		"# HELP iscsi_sessions ", "# TYPE iscsi_sessions gauge\niscsi_sessions 2\n",
		"# TYPE iscsi_session_logins_total counter\n",
		"# TYPE iscsi_session_recovery_seconds_total counter\n",
		"# TYPE iscsi_session_last_login_duration_seconds gauge\n",
		"# TYPE iscsi_session_tx_data_bytes_total counter\n",
		"# TYPE iscsi_session_transport_counter untyped\n",
		NULL,
	};
	for (size_t i = 0; want[i]; i++)
		ck_assert_msg(strstr(out, want[i]), "no %s in\n%s", want[i], out);
	char line[512];
	const struct {
		const char *name, *labels, *extra, *value;
	} samples[] = {
		{ "iscsi_session_info", l1, ",transport=\"uspace\"", "1" },
		{ "iscsi_session_info", l2, ",transport=\"tcp\"", "1" },
		{ "iscsi_session_up", l1, "", "1" },
		{ "iscsi_session_up", l2, "", "0" },
		{ "iscsi_session_state", l2, ",state=\"recovery\"", "1" },
		{ "iscsi_session_state", l2, ",state=\"logged_in\"", "0" },
		{ "iscsi_session_logins_total", l1, "", "2" },
		{ "iscsi_session_recoveries_total", l2, "", "1" },
		{ "iscsi_session_recovery_seconds_total", l1, "", "1.500" },
		{ "iscsi_session_recovery_seconds_total", l2, "", "0.250" },
		{ "iscsi_session_last_login_duration_seconds", l1, "", "0.042" },
		{ "iscsi_session_connection_errors_total", l1, ",cause=\"connection_lost\"", "3" },
		{ "iscsi_session_connection_errors_total", l2, ",cause=\"auth\"", "1" },
		{ "iscsi_session_connection_errors_total", l2, ",cause=\"timeout\"", "0" },
		{ "iscsi_session_tx_data_bytes_total", l1, "", "4096" },
		{ "iscsi_session_rx_data_bytes_total", l1, "", "8192" },
		{ "iscsi_session_transport_counter", l1, ",counter=\"reconnects\"", "2" },
	};
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		snprintf(line, sizeof(line), "\n%s%s%s} %s\n", samples[i].name, samples[i].labels, samples[i].extra,
			 samples[i].value);
		ck_assert_msg(strstr(out, line), "no %s in\n%s", line, out);
	}
	/* no last login for t2: no sample; the repeated counter once */
	snprintf(line, sizeof(line), "iscsi_session_last_login_duration_seconds%s", l2);
	ck_assert_ptr_null(strstr(out, line));
	snprintf(line, sizeof(line), "iscsi_session_tx_data_bytes_total%s} 1\n", l1);
	ck_assert_ptr_null(strstr(out, line));
	ck_assert_ptr_null(strstr(out, "counter=\"txdata_octets\""));
	/* each family's HELP and TYPE once, and its samples right after */
	const char *fams[] = { "iscsi_session_info", "iscsi_session_state", "iscsi_session_connection_errors_total",
			       "iscsi_session_transport_counter", NULL };
	for (size_t i = 0; fams[i]; i++) {
		char type[128];
		snprintf(type, sizeof(type), "# TYPE %s ", fams[i]);
		char *t = strstr(out, type);
		ck_assert_ptr_nonnull(t);
		ck_assert_ptr_null(strstr(t + 1, type));
		/* after the TYPE line: only its samples until the next # */
		char *p = strchr(t, '\n') + 1;
		size_t fl = strlen(fams[i]);
		int n = 0;
		while (*p && *p != '#') {
			ck_assert_msg(!strncmp(p, fams[i], fl) && p[fl] == '{', "stray line in %s: %.60s", fams[i], p);
			p = strchr(p, '\n') + 1;
			n++;
		}
		ck_assert_int_gt(n, 0);
	}
	free(out);
}
END_TEST

/* No session: the count, and no family without samples. */
START_TEST(test_empty)
{
	char *out = format(NULL, 0);
	ck_assert_str_eq(out, "# HELP iscsi_sessions iSCSI sessions iscsid carries (as iscsiadm -m session lists "
			      "them).\n# TYPE iscsi_sessions gauge\niscsi_sessions 0\n");
	free(out);
}
END_TEST

/* ---- the writer over the layer ---- */

static struct loop *lp;
static struct session_layer *sl;
static struct double_carrier *dbl;
static struct dc_world world;
static char dir[64], path[256];

static bool run_until(bool (*c)(void), unsigned ms)
{
	return loop_run_until(lp, c, 5, ms);
}

static char content[65536];

static bool file_has(const char *s)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	size_t n = fread(content, 1, sizeof(content) - 1, f);
	fclose(f);
	content[n] = '\0';
	return strstr(content, s) != NULL;
}

#define T1 "iqn.2003-01.org.example:m1"
#define LBL "{target=\"" T1 "\",portal=\"192.0.2.7:3260\",iface=\"double\",sid=\"1000000\"}"

static bool has_up(void)
{
	return file_has("\niscsi_session_up" LBL " 1\n") && file_has("iscsi_session_tx_data_bytes_total" LBL " 4096\n");
}
static bool has_recovery(void)
{
	return file_has("\niscsi_session_up" LBL " 0\n");
}
static bool has_back(void)
{
	return file_has("\niscsi_session_logins_total" LBL " 2\n");
}
static bool has_none(void)
{
	return file_has("\niscsi_sessions 0\n");
}

static int answered;
static struct transport_result last;
static void on_done(void *data, const struct transport_result *res)
{
	(void)data;
	answered++;
	last = *res;
}
static bool got_answer(void)
{
	return answered > 0;
}

START_TEST(test_writer)
{
	struct dc_config cfg = { .name = "double", .sid_min = CARRIER_SID_USPACE_MIN, .delay_ms = 5 };
	struct metrics *m;
	struct node_rec rec;
	struct stat st;

	memset(&world, 0, sizeof(world));
	log_init(true, 0);
	snprintf(dir, sizeof(dir), "/tmp/test_metrics.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/iscsi.prom", dir);
	ck_assert_int_eq(loop_new(&lp), 0);
	ck_assert_int_eq(session_layer_new(lp, &sl), 0);
	dbl = double_carrier_new(lp, &world, &cfg);
	ck_assert_int_eq(session_layer_add_carrier(sl, &dbl->base), 0);
	ck_assert_int_eq(metrics_new(lp, sl, &m), 0);
	metrics_configure(m, dir, 1);
	ck_assert(run_until(has_none, 3000));

	node_rec_init(&rec);
	snprintf(rec.name, sizeof(rec.name), "%s", T1);
	snprintf(rec.conn.address, sizeof(rec.conn.address), "192.0.2.7");
	rec.conn.port = 3260;
	snprintf(rec.iface.transport_name, sizeof(rec.iface.transport_name), "double");
	snprintf(rec.iface.name, sizeof(rec.iface.name), "double");
	struct transport_login tl = { .rec = &rec };
	ck_assert_int_eq(session_login(sl, &tl, on_done, NULL), 0);
	ck_assert(run_until(got_answer, 2000));
	ck_assert_int_eq(last.status, 0);

	/* up, one login, the carrier's counters after the next interval */
	ck_assert_msg(run_until(has_up, 4000), "%s", content);
	ck_assert_ptr_nonnull(strstr(content, "\niscsi_session_logins_total" LBL " 1\n"));
	ck_assert_ptr_nonnull(strstr(content, "\niscsi_session_recoveries_total" LBL " 0\n"));
	ck_assert_ptr_nonnull(strstr(content, "\niscsi_session_last_login_duration_seconds" LBL " "));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);

	/* a lost connection shows within a second or so, and its end */
	dc_lose(dbl, CARRIER_SID_USPACE_MIN);
	ck_assert_msg(run_until(has_recovery, 3000), "%s", content);
	ck_assert_ptr_nonnull(strstr(content, "\niscsi_session_recoveries_total" LBL " 1\n"));
	ck_assert_ptr_nonnull(strstr(content, "{target=\"" T1 "\",portal=\"192.0.2.7:3260\",iface=\"double\","
					      "sid=\"1000000\",cause=\"connection_lost\"} 1\n"));
	dc_back(dbl, CARRIER_SID_USPACE_MIN);
	ck_assert_msg(run_until(has_back, 3000), "%s", content);
	ck_assert_ptr_nonnull(strstr(content, "\niscsi_session_up" LBL " 1\n"));
	ck_assert_ptr_null(strstr(content, "\niscsi_session_recovery_seconds_total" LBL " 0.000\n"));

	/* the session ends: its series go */
	dc_die(dbl, CARRIER_SID_USPACE_MIN);
	ck_assert_msg(run_until(has_none, 3000), "%s", content);
	ck_assert_ptr_null(strstr(content, T1));
	/* no temporary file left beside it */
	char tmpl[160];
	snprintf(tmpl, sizeof(tmpl), "ls -A %s | grep -qv '^iscsi.prom$'", dir);
	ck_assert_int_ne(system(tmpl), 0);

	/* off: the file goes; on again: it comes back; a clean stop removes it */
	metrics_configure(m, "", 1);
	ck_assert_int_ne(access(path, F_OK), 0);
	metrics_configure(m, dir, 1);
	ck_assert(run_until(has_none, 3000));
	metrics_stop(m);
	ck_assert_int_ne(access(path, F_OK), 0);
	session_layer_free(sl);
	metrics_free(m);
	loop_free(lp);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* A directory that is not there: a warning, iscsid goes on, and the file
 * appears once the directory does. */
static bool file_exists(void)
{
	return access(path, F_OK) == 0;
}

START_TEST(test_missing_dir)
{
	struct metrics *m;
	char sub[128];
	log_init(true, 0);
	snprintf(dir, sizeof(dir), "/tmp/test_metrics.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/later", dir);
	snprintf(path, sizeof(path), "%s/iscsi.prom", sub);
	ck_assert_int_eq(loop_new(&lp), 0);
	ck_assert_int_eq(session_layer_new(lp, &sl), 0);
	ck_assert_int_eq(metrics_new(lp, sl, &m), 0);
	metrics_configure(m, sub, 1);
	ck_assert(!run_until(file_exists, 1500));
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	ck_assert(run_until(file_exists, 3000));
	metrics_stop(m);
	ck_assert(!file_exists());
	session_layer_free(sl);
	metrics_free(m);
	loop_free(lp);
	ck_assert_int_eq(rmdir(sub), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("format");
	tcase_add_test(tc, test_escaping);
	tcase_add_test(tc, test_families);
	tcase_add_test(tc, test_empty);
	suite_add_tcase(s, tc);
	tc = tcase_create("writer");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_writer);
	tcase_add_test(tc, test_missing_dir);
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
