/* iscsid/kasync.c: Async Messages (RFC 7143 §11.9) and Logout Responses
 * (§11.15) as a target sends them. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "kasync.h"
#include "pdu.h"

START_TEST(test_kasync)
{
	struct kasync a;
	struct pdu p;
	uint8_t buf[48 + 32];
	uint8_t resp;
	unsigned t2w;
	/* descriptor-format sense (0x72): ASC/ASCQ at bytes 2, 3 */
	uint8_t data[2 + 8] = { 0, 8, 0x72, 0x06, 0x3f, 0x0e, 0, 0, 0, 0 };
	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_ASYNC_MSG;
	p.flags = ISCSI_FLAG_FINAL;
	p.itt = ISCSI_RESERVED_TAG;
	p.data = data;
	p.data_len = sizeof(data);
	ck_assert_int_eq(pdu_encode_bhs(&p, NULL, buf), 0);
	memcpy(buf + 48, data, sizeof(data));
	ck_assert_int_eq(kasync_parse(buf, 48 + sizeof(data), &a), 0);
	ck_assert_int_eq(a.action, KASYNC_RESCAN);
	/* another ASC: nothing to do */
	buf[48 + 4] = 0x29;
	ck_assert_int_eq(kasync_parse(buf, 48 + sizeof(data), &a), 0);
	ck_assert_int_eq(a.action, KASYNC_IGNORE);
	/* a sense length beyond the data is clipped, not trusted */
	buf[48 + 4] = 0x3f;
	buf[48 + 1] = 0xff;
	ck_assert_int_eq(kasync_parse(buf, 48 + sizeof(data), &a), 0);
	ck_assert_int_eq(a.action, KASYNC_RESCAN);
	/* dropping the connection: Time2Wait is Parameter2, capped */
	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_ASYNC_MSG;
	p.flags = ISCSI_FLAG_FINAL;
	p.itt = ISCSI_RESERVED_TAG;
	p.async_event = ISCSI_ASYNC_DROP_ALL;
	p.async_param[1] = 60000;
	ck_assert_int_eq(pdu_encode_bhs(&p, NULL, buf), 0);
	ck_assert_int_eq(kasync_parse(buf, 48, &a), 0);
	ck_assert_int_eq(a.action, KASYNC_DROPPING);
	ck_assert_uint_eq(a.time2wait, KASYNC_T2W_MAX);
	/* not an Async Message, too short */
	ck_assert_int_eq(kasync_logout_rsp(buf, 48, &resp, &t2w), -EPROTO);
	ck_assert_int_eq(kasync_parse(buf, 47, &a), -EPROTO);
	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_LOGOUT_RSP;
	p.flags = ISCSI_FLAG_FINAL;
	p.response = ISCSI_LOGOUT_RSP_CLEANUP_FAILED;
	p.time2wait = 2;
	ck_assert_int_eq(pdu_encode_bhs(&p, NULL, buf), 0);
	ck_assert_int_eq(kasync_logout_rsp(buf, 48, &resp, &t2w), 0);
	ck_assert_uint_eq(resp, ISCSI_LOGOUT_RSP_CLEANUP_FAILED);
	ck_assert_uint_eq(t2w, 2);
	ck_assert_int_eq(kasync_parse(buf, 48, &a), -EPROTO);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("kasync");
	TCase *tc = tcase_create("kasync");
	tcase_add_test(tc, test_kasync);
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
