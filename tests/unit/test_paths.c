#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "fsutil.h"
#include "paths.h"

START_TEST(test_defaults)
{
	struct iscsi_paths p;

	unsetenv(PATHS_ENV_ROOT);
	ck_assert_int_eq(paths_init(&p, NULL), 0);
	ck_assert_str_eq(p.root, "");
	ck_assert_str_eq(p.config_file, PATHS_DEFAULT_CONFIG_DIR "/iscsid.conf");
	ck_assert_str_eq(p.iname_file, PATHS_DEFAULT_CONFIG_DIR "/initiatorname.iscsi");
	ck_assert_str_eq(p.db_root, PATHS_DEFAULT_DB_ROOT);
	ck_assert_str_eq(p.lock_dir, "/run/lock/iscsi");
	ck_assert_str_eq(p.control_socket, "/run/iscsid/iscsid.sock");
	ck_assert_str_eq(p.pid_file, "/run/iscsid.pid");
	/* An empty root means "not given". */
	ck_assert_int_eq(paths_init(&p, ""), 0);
	ck_assert_str_eq(p.db_root, PATHS_DEFAULT_DB_ROOT);
}
END_TEST

START_TEST(test_root_everything_under_it)
{
	struct iscsi_paths p;

	unsetenv(PATHS_ENV_ROOT);
	ck_assert_int_eq(paths_init(&p, "/tmp/x//"), 0);
	ck_assert_str_eq(p.root, "/tmp/x");
	ck_assert_str_eq(p.config_file, "/tmp/x/iscsid.conf");
	ck_assert_str_eq(p.iname_file, "/tmp/x/initiatorname.iscsi");
	ck_assert_str_eq(p.db_root, "/tmp/x");
	ck_assert_str_eq(p.lock_dir, "/tmp/x/lock");
	ck_assert_str_eq(p.control_socket, "/tmp/x/iscsid.sock");
	ck_assert_str_eq(p.pid_file, "/tmp/x/iscsid.pid");
	ck_assert_int_eq(paths_init(&p, "/"), 0);
	ck_assert_str_eq(p.config_file, "/iscsid.conf");
	ck_assert_str_eq(p.db_root, "/");
}
END_TEST

START_TEST(test_env_and_precedence)
{
	struct iscsi_paths p;

	setenv(PATHS_ENV_ROOT, "/srv/iscsi", 1);
	ck_assert_int_eq(paths_init(&p, NULL), 0);
	ck_assert_str_eq(p.config_file, "/srv/iscsi/iscsid.conf");
	ck_assert_str_eq(p.lock_dir, "/srv/iscsi/lock");
	/* The program option beats the environment. */
	ck_assert_int_eq(paths_init(&p, "/opt/r"), 0);
	ck_assert_str_eq(p.config_file, "/opt/r/iscsid.conf");
	/* An empty variable is ignored. */
	setenv(PATHS_ENV_ROOT, "", 1);
	ck_assert_int_eq(paths_init(&p, NULL), 0);
	ck_assert_str_eq(p.db_root, PATHS_DEFAULT_DB_ROOT);
	/* A relative root is refused, and p stays as it was. */
	setenv(PATHS_ENV_ROOT, "rel/dir", 1);
	ck_assert_int_eq(paths_init(&p, NULL), -EINVAL);
	ck_assert_str_eq(p.db_root, PATHS_DEFAULT_DB_ROOT);
	unsetenv(PATHS_ENV_ROOT);
}
END_TEST

START_TEST(test_overrides_and_limits)
{
	struct iscsi_paths p;
	char longroot[200];

	unsetenv(PATHS_ENV_ROOT);
	ck_assert_int_eq(paths_init(&p, "/r"), 0);
	ck_assert_int_eq(paths_set_config_file(&p, "/etc/other.conf"), 0);
	ck_assert_int_eq(paths_set_iname_file(&p, "name.txt"), 0);
	ck_assert_str_eq(p.config_file, "/etc/other.conf");
	ck_assert_str_eq(p.iname_file, "name.txt");
	ck_assert_str_eq(p.db_root, "/r");
	ck_assert_int_eq(paths_set_config_file(&p, ""), -EINVAL);
	ck_assert_int_eq(paths_set_iname_file(&p, NULL), -EINVAL);

	/* The control socket must fit sun_path (108 bytes). */
	longroot[0] = '/';
	memset(longroot + 1, 'a', 150);
	longroot[151] = '\0';
	ck_assert_int_eq(paths_init(&p, longroot), -ENAMETOOLONG);
	ck_assert_str_eq(p.db_root, "/r");
}
END_TEST

/* iscsid holds a descriptor per login in flight: the soft limit goes up
 * to the hard one (or to what the caller asks), never past it. */
START_TEST(test_raise_nofile)
{
	struct rlimit rl;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max < 128)
		return;   /* nothing to show under so low a hard limit */
	struct rlimit low = { .rlim_cur = 64, .rlim_max = rl.rlim_max };
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	ck_assert_uint_eq(fs_raise_nofile(100), 100);
	ck_assert_uint_eq(fs_raise_nofile(80), 100);      /* never lowered */
	unsigned long hard = rl.rlim_max == RLIM_INFINITY ? ULONG_MAX : (unsigned long)rl.rlim_max;
	ck_assert_uint_eq(fs_raise_nofile(0), hard);
	struct rlimit now;
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &now), 0);
	ck_assert(now.rlim_cur == rl.rlim_max && now.rlim_max == rl.rlim_max);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("paths");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_root_everything_under_it);
	tcase_add_test(tc, test_env_and_precedence);
	tcase_add_test(tc, test_overrides_and_limits);
	tcase_add_test(tc, test_raise_nofile);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
