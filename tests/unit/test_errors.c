#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

/* The numbers are a public contract with scripts: pin a few. */
START_TEST(test_numbers_stable)
{
	ck_assert_int_eq(ISCSI_ERR_TRANS_NOT_FOUND, 12);
	ck_assert_int_eq(ISCSI_ERR_SESS_EXISTS, 15);
	ck_assert_int_eq(ISCSI_ERR_ISCSID_NOTCONN, 20);
	ck_assert_int_eq(ISCSI_ERR_NO_OBJS_FOUND, 21);
	ck_assert_int_eq(ISCSI_ERR_LOGIN_AUTH_FAILED, 24);
	ck_assert_int_eq(ISCSI_ERR_REQ_TIMEDOUT, 33);
}
END_TEST

START_TEST(test_every_code_has_text)
{
	for (int i = 0; i < ISCSI_ERR_MAX; i++) {
		ck_assert_ptr_nonnull(iscsi_err_str(i));
		ck_assert_int_gt(strlen(iscsi_err_str(i)), 0);
	}
	ck_assert_str_eq(iscsi_err_str(-1), "unknown error");
	ck_assert_str_eq(iscsi_err_str(ISCSI_ERR_MAX), "unknown error");
	ck_assert_str_eq(iscsi_err_str(24), "iSCSI login failed due to authorization failure");
}
END_TEST

START_TEST(test_login_status_map)
{
	ck_assert_int_eq(iscsi_err_from_login_status(0, 0), 0);
	ck_assert_int_eq(iscsi_err_from_login_status(2, 1), ISCSI_ERR_LOGIN_AUTH_FAILED);
	ck_assert_int_eq(iscsi_err_from_login_status(2, 2), ISCSI_ERR_LOGIN_AUTH_FAILED);
	ck_assert_int_eq(iscsi_err_from_login_status(2, 3), ISCSI_ERR_FATAL_LOGIN);
	ck_assert_int_eq(iscsi_err_from_login_status(2, 5), ISCSI_ERR_FATAL_LOGIN);
	ck_assert_int_eq(iscsi_err_from_login_status(3, 2), ISCSI_ERR_LOGIN);
	ck_assert_int_eq(iscsi_err_from_login_status(3, 9), ISCSI_ERR_FATAL_LOGIN);
	ck_assert_int_eq(iscsi_err_from_login_status(9, 0), ISCSI_ERR_FATAL_LOGIN);
	ck_assert_str_eq(iscsi_login_status_str(2, 3), "target not found");
	ck_assert_str_eq(iscsi_login_status_str(7, 7), "unknown login status");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("errors");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_numbers_stable);
	tcase_add_test(tc, test_every_code_has_text);
	tcase_add_test(tc, test_login_status_map);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
