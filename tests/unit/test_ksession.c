/* iscsid's kernel session path (iscsid/ksession.h) against a scripted
 * kernel: NETLINK_ISCSI through nl_iscsi_open_io(), a fake sysfs tree,
 * and a real TCP listener on loopback for the connect. The scripted
 * kernel answers requests at once (as the real one does, reference
 * §1.2) and plays the target: Login Requests sent with SEND_PDU come
 * back as RECV_PDU Login Responses. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#ifdef __SANITIZE_ADDRESS__
/* the allocator's count (not every compiler installs its header) */
size_t __sanitizer_get_current_allocated_bytes(void);
#endif

#include "config.h"
#include "errors.h"
#include "fake_kernel.h"
#include "fake_sysfs.h"
#include "ks_harness.h"
#include "ipc.h"
#include "iscsi_if.h"
#include "iscsid.h"
#include "ksession.h"
#include "log.h"
#include "loop.h"
#include "nl.h"
#include "pdu.h"
#include "sysfs.h"

/* ---- tests ---- */

START_TEST(test_login)
{
	struct answer a;
	char buf[64];
	uint32_t sid = login_ok(&a, "iqn.2003-01.org.example:disk1", true);

	ck_assert_uint_eq(sid, 1);
	ck_assert_uint_eq(a.res.host_no, 3);
	/* reference §2.2: the order of the calls */
	ssize_t cs = index_of(ISCSI_UEVENT_CREATE_SESSION, 0), cc = index_of(ISCSI_UEVENT_CREATE_CONN, 0),
		bc = index_of(ISCSI_UEVENT_BIND_CONN, 0), sp = index_of(ISCSI_UEVENT_SEND_PDU, 0),
		st = index_of(ISCSI_UEVENT_START_CONN, 0);
	ck_assert(cs >= 0 && cs < cc && cc < bc && bc < sp && sp < st);
	/* pre-login parameters between bind and the first Login Request */
	ck_assert_str_eq(last_param(ISCSI_PARAM_TARGET_NAME)->value, "iqn.2003-01.org.example:disk1");
	ck_assert_str_eq(last_param(ISCSI_PARAM_INITIATOR_NAME)->value, "iqn.2005-03.org.example:initiator");
	ck_assert_str_eq(last_param(ISCSI_PARAM_PERSISTENT_ADDRESS)->value, "127.0.0.1");
	ck_assert_ptr_nonnull(last_param(ISCSI_PARAM_PING_TMO));   /* the fake sysfs has ping_tmo */
	/* two exchanges: security, operational; StatSN 101 was the last */
	ck_assert_uint_eq(count(ISCSI_UEVENT_SEND_PDU), 2);
	ck_assert_str_eq(last_param(ISCSI_PARAM_EXP_STATSN)->value, "102");
	ck_assert_str_eq(last_param(ISCSI_PARAM_TPGT)->value, "1");
	ck_assert_str_eq(last_param(ISCSI_PARAM_MAX_XMIT_DLENGTH)->value, "65536");
	ck_assert(index_of(ISCSI_UEVENT_SET_PARAM, (size_t)sp) < st);
	/* the answer came after the scan: "- - -" was written */
	ck_assert_str_eq(scan_file(3, buf, sizeof(buf)), "- - -");
	/* a second login to the same portal: 15 */
	struct node_rec rec;
	struct answer b;
	make_rec(&rec, "iqn.2003-01.org.example:disk1", true);
	struct transport_login tl = { .rec = &rec };
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, &b), 0);
	ck_assert(wait_answer(&b, 2000));
	ck_assert_int_eq(b.res.status, ISCSI_ERR_SESS_EXISTS);
}
END_TEST

START_TEST(test_auth_failure_cleans_up)
{
	struct node_rec rec;
	struct answer a;
	fk.fail_class = 0x02;
	fk.fail_detail = 0x01;
	make_rec(&rec, "iqn.2003-01.org.example:disk1", false);
	struct transport_login tl = { .rec = &rec };
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, &a), 0);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_int_eq(a.res.status, ISCSI_ERR_LOGIN_AUTH_FAILED);
	/* no retry for an authentication failure, and nothing left behind */
	ck_assert_uint_eq(count(ISCSI_UEVENT_BIND_CONN), 1);
	ck_assert_uint_eq(count(ISCSI_UEVENT_START_CONN), 0);
	ck_assert_uint_eq(last(ISCSI_UEVENT_STOP_CONN)->flag, ISCSI_STOP_CONN_TERM);
	ck_assert(index_of(ISCSI_UEVENT_DESTROY_CONN, 0) < index_of(ISCSI_UEVENT_DESTROY_SESSION, 0));
	ck_assert_uint_eq(count(ISCSI_UEVENT_DESTROY_SESSION), 1);
	ck_assert_uint_eq(kc->nsessions, 0);
}
END_TEST

START_TEST(test_silent_close_is_auth_failure)
{
	struct node_rec rec;
	struct answer a;
	fk.close_silently = true;
	make_rec(&rec, "iqn.2003-01.org.example:disk1", false);
	struct transport_login tl = { .rec = &rec };
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, &a), 0);
	ck_assert(wait_answer(&a, 5000));
	/* LIO closes without a Login Response when it refuses AuthMethod:
	 * once is retried at once, twice is an authentication failure */
	ck_assert_int_eq(a.res.status, ISCSI_ERR_LOGIN_AUTH_FAILED);
	ck_assert_uint_eq(count(ISCSI_UEVENT_BIND_CONN), 2);
	ck_assert_uint_eq(count(ISCSI_UEVENT_DESTROY_SESSION), 1);
}
END_TEST

static bool logged_in(void)
{
	struct ksession *ks = kctx_find(kc, 1);
	return ks && ks->state == KS_LOGGED_IN && count(ISCSI_UEVENT_START_CONN) >= 2;
}

START_TEST(test_recovery)
{
	struct answer a;
	uint32_t sid = login_ok(&a, "iqn.2003-01.org.example:disk1", false);
	fk.refuse_tsih = true;
	size_t before = fk.nreq;
	/* the connection fails; a second, stale report right behind it */
	fk_conn_error(sid, ISCSI_IF_ERR_TCP_CONN_CLOSE);
	fk_conn_error(sid, ISCSI_IF_ERR_TCP_CONN_CLOSE);
	ck_assert(run_until(logged_in, 5000));
	/* STOP_CONN RECOVER, then a bind on the same session */
	ssize_t stop = index_of(ISCSI_UEVENT_STOP_CONN, before);
	ck_assert(stop >= 0);
	ck_assert_uint_eq(fk.reqs[stop].flag, ISCSI_STOP_CONN_RECOVER);
	ck_assert_uint_eq(count(ISCSI_UEVENT_CREATE_SESSION), 1);
	ck_assert_uint_eq(fk.reqs[index_of(ISCSI_UEVENT_BIND_CONN, before)].sid, sid);
	/* first the session's TSIH; refused ("no such session"), then TSIH 0 */
	ssize_t p1 = index_of(ISCSI_UEVENT_SEND_PDU, before);
	ck_assert(p1 >= 0);
	ck_assert_uint_eq((fk.reqs[p1].bhs[14] << 8) | fk.reqs[p1].bhs[15], 0x1234);
	const struct req *lastlogin = NULL;
	for (size_t i = before; i < fk.nreq; i++)
		if (fk.reqs[i].type == ISCSI_UEVENT_SEND_PDU && fk.reqs[i].bhs[0] == 0x43)
			lastlogin = &fk.reqs[i];
	ck_assert_ptr_nonnull(lastlogin);
	ck_assert_uint_eq((lastlogin->bhs[14] << 8) | lastlogin->bhs[15], 0);
	/* the stale second error did not start another round */
	ck_assert_uint_eq(count(ISCSI_UEVENT_BIND_CONN), 3);
	ck_assert_str_eq(last_param(ISCSI_PARAM_SESS_RECOVERY_TMO)->value, "120");
}
END_TEST

/* A re-login in recovery sends what the record said at the login, though
 * the session keeps only those values: the target requires mutual CHAP
 * and checks the answer each time, the credentials go to the kernel
 * (which keeps them for adoption after a restart), and a longest
 * initiator name arrives whole. */
static const struct req *param_after(uint32_t param, size_t from)
{
	const struct req *r = NULL;
	for (size_t i = from; i < fk.nreq; i++)
		if (fk.reqs[i].type == ISCSI_UEVENT_SET_PARAM && fk.reqs[i].param == param)
			r = &fk.reqs[i];
	ck_assert_msg(r != NULL, "parameter %u not set", param);
	return r;
}

START_TEST(test_recovery_keeps_parameters)
{
	struct node_rec rec;
	struct answer a;
	make_rec(&rec, "iqn.2003-01.org.example:disk1", false);
	snprintf(rec.session.auth.username, sizeof(rec.session.auth.username), "alice");
	snprintf(rec.session.auth.password, sizeof(rec.session.auth.password), "secretsecret1");
	snprintf(rec.session.auth.username_in, sizeof(rec.session.auth.username_in), "target-bob");
	snprintf(rec.session.auth.password_in, sizeof(rec.session.auth.password_in), "secretsecret2");
	rec.session.replacement_timeout = 33;
	rec.session.abort_timeout = 7;
	rec.conn.noop_out_interval = 9;
	rec.conn.noop_out_timeout = 11;
	/* an initiator name of the longest kind (223 bytes) */
	char iname[224];
	snprintf(iname, sizeof(iname), "iqn.2005-03.org.example:%0199d", 7);
	ck_assert_uint_eq(strlen(iname), 223);
	snprintf(rec.iface.iname, sizeof(rec.iface.iname), "%s", iname);
	fk.chap_name = "alice";
	fk.chap_secret = "secretsecret1";
	fk.chap_name_in = "target-bob";
	fk.chap_secret_in = "secretsecret2";
	ks_login_start(&a, &rec, 0);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_msg(a.res.status == 0, "login: %d %s", a.res.status, a.res.message);
	ck_assert_uint_eq(fk.chap_verified, 1);
	/* the caller's record is gone once answered */
	memset(&rec, 0xa5, sizeof(rec));
	for (int round = 0; round < 2; round++) {
		size_t from = round ? fk.nreq : 0;
		if (round) {
			fk_conn_error(a.res.sid, ISCSI_IF_ERR_TCP_CONN_CLOSE);
			ck_assert(run_until(logged_in, 5000));
			ck_assert_uint_eq(fk.chap_verified, 2);
		}
		ck_assert_str_eq(param_after(ISCSI_PARAM_USERNAME, from)->value, "alice");
		ck_assert_str_eq(param_after(ISCSI_PARAM_PASSWORD, from)->value, "secretsecret1");
		ck_assert_str_eq(param_after(ISCSI_PARAM_USERNAME_IN, from)->value, "target-bob");
		ck_assert_str_eq(param_after(ISCSI_PARAM_PASSWORD_IN, from)->value, "secretsecret2");
		ck_assert_str_eq(param_after(ISCSI_PARAM_SESS_RECOVERY_TMO, from)->value, "33");
		ck_assert_str_eq(param_after(ISCSI_PARAM_ABORT_TMO, from)->value, "7");
		ck_assert_str_eq(param_after(ISCSI_PARAM_RECV_TMO, from)->value, "9");
		ck_assert_str_eq(param_after(ISCSI_PARAM_PING_TMO, from)->value, "11");
		ck_assert_str_eq(param_after(ISCSI_PARAM_TARGET_NAME, from)->value, "iqn.2003-01.org.example:disk1");
		ck_assert_str_eq(param_after(ISCSI_PARAM_PERSISTENT_ADDRESS, from)->value, "127.0.0.1");
		ck_assert_str_eq(param_after(ISCSI_PARAM_INITIATOR_NAME, from)->value, iname);
		ck_assert_str_eq(param_after(ISCSI_PARAM_IFACE_NAME, from)->value, "default");
	}
	ck_assert_uint_eq(count(ISCSI_UEVENT_START_CONN), 2);
}
END_TEST

START_TEST(test_logout)
{
	struct answer a, b;
	uint32_t sid = login_ok(&a, "iqn.2003-01.org.example:disk1", false);
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(session_logout(d.sessions, sid, on_done, &b), 0);
	ck_assert(!b.done);
	ck_assert(wait_answer(&b, 5000));
	ck_assert_int_eq(b.res.status, 0);
	/* reference §2.7: unbind, Logout PDU, stop TERM, destroy conn, session */
	ssize_t ub = index_of(ISCSI_UEVENT_UNBIND_SESSION, 0);
	ssize_t lo = -1;
	for (size_t i = 0; i < fk.nreq; i++)
		if (fk.reqs[i].type == ISCSI_UEVENT_SEND_PDU && fk.reqs[i].bhs[0] == 0x46)
			lo = (ssize_t)i;
	ssize_t stop = index_of(ISCSI_UEVENT_STOP_CONN, 0);
	ssize_t dc = index_of(ISCSI_UEVENT_DESTROY_CONN, 0), ds = index_of(ISCSI_UEVENT_DESTROY_SESSION_ASYNC, 0);
	ck_assert(ub >= 0 && ub < lo && lo < stop && stop < dc && dc < ds);
	ck_assert_uint_eq(count(ISCSI_UEVENT_DESTROY_SESSION), 0);
	ck_assert_uint_eq(fk.reqs[stop].flag, ISCSI_STOP_CONN_TERM);
	ck_assert_ptr_null(kctx_find(kc, sid));
	/* and a logout of what is gone */
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(session_logout(d.sessions, sid, on_done, &b), 0);
	ck_assert(wait_answer(&b, 2000));
	ck_assert_int_eq(b.res.status, ISCSI_ERR_SESS_NOT_FOUND);
}
END_TEST

/* Logouts do not wait for one another's DESTROY_SESSION: each is sent as
 * DESTROY_SESSION_ASYNC, and a logout is answered only once the kernel
 * reports the session destroyed (or, the event lost, sysfs shows it
 * gone), so a listing right after the answer no longer shows it. */
static void logout_two(bool events)
{
	struct answer a, b1, b2;
	uint32_t s1 = login_ok(&a, "iqn.2003-01.org.example:disk1", false);
	uint32_t s2 = login_ok(&a, "iqn.2003-01.org.example:disk2", false);
	fk.hold_destroy = true;
	memset(&b1, 0, sizeof(b1));
	memset(&b2, 0, sizeof(b2));
	ck_assert_int_eq(session_logout(d.sessions, s1, on_done, &b1), 0);
	ck_assert_int_eq(session_logout(d.sessions, s2, on_done, &b2), 0);
	ck_assert(wait_requests(ISCSI_UEVENT_DESTROY_SESSION_ASYNC, 2, 3000));
	ck_assert_uint_eq(count(ISCSI_UEVENT_DESTROY_SESSION), 0);
	/* both removals run in the kernel at once; nobody is answered yet */
	ck_assert(!wait_answer(&b1, 300));
	ck_assert(!b2.done);
	ck_assert(fake_has_session(fk.sysfs, s1) && fake_has_session(fk.sysfs, s2));
	fk_finish_destroys(events);
	ck_assert(wait_answer(&b1, 3000));
	ck_assert(wait_answer(&b2, 3000));
	ck_assert_int_eq(b1.res.status, 0);
	ck_assert_int_eq(b2.res.status, 0);
	ck_assert_ptr_null(session_find(d.sessions, s1));
	ck_assert_ptr_null(session_find(d.sessions, s2));
	ck_assert_uint_eq(kc->nsessions, 0);
	ck_assert_ptr_null(kc->destroys);
}

START_TEST(test_logouts_destroy_async)
{
	logout_two(true);
}
END_TEST

START_TEST(test_logout_destroy_event_lost)
{
	logout_two(false);
}
END_TEST

static char *write_mountinfo(const char *text)
{
	char path[] = "/tmp/ks-mountinfo-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return strdup(path);
}

START_TEST(test_safe_logout_refuses)
{
	struct answer a, b;
	char why[64];
	uint32_t sid = login_ok(&a, "iqn.2003-01.org.example:disk1", false);
	fake_add_lun(fk.sysfs, 3, sid, 0, "running\n", "sdc");
	fake_write(fk.sysfs, "class/block/sdc/dev", "8:32\n");
	mountinfo = write_mountinfo("40 1 8:32 / /data rw - ext4 /dev/sdc rw\n");
	snprintf(kc->mountinfo, sizeof(kc->mountinfo), "%s", mountinfo);
	d.config.safe_logout = true;
	size_t before = fk.nreq;
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(session_logout(d.sessions, sid, on_done, &b), 0);
	ck_assert(wait_answer(&b, 2000));
	ck_assert_int_eq(b.res.status, ISCSI_ERR_BUSY);
	ck_assert_ptr_nonnull(strstr(b.res.message, "/dev/sdc is mounted on /data"));
	ck_assert_uint_eq(fk.nreq, before);        /* nothing sent to the kernel */
	ck_assert_ptr_nonnull(kctx_find(kc, sid));
	(void)why;
}
END_TEST

static bool scan_written(void)
{
	char buf[64];
	return !strcmp(scan_file(3, buf, sizeof(buf)), "- - -");
}

START_TEST(test_async_luns_changed_scans)
{
	struct answer a;
	char buf[64];
	uint32_t sid = login_ok(&a, "iqn.2003-01.org.example:disk1", false);
	struct ksession *ks = kctx_find(kc, sid);
	ks->p.scan = REC_SCAN_AUTO;
	ck_assert_str_eq(scan_file(3, buf, sizeof(buf)), "");
	/* RFC 7143 §11.9: SCSI Async Event, sense 3F/0E */
	uint8_t data[2 + 18];
	memset(data, 0, sizeof(data));
	data[1] = 18;
	data[2] = 0x70;
	data[2 + 2] = 0x06;
	data[2 + 12] = 0x3f;
	data[2 + 13] = 0x0e;
	struct pdu p;
	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_ASYNC_MSG;
	p.flags = ISCSI_FLAG_FINAL;
	p.itt = ISCSI_RESERVED_TAG;
	p.async_event = ISCSI_ASYNC_SCSI_EVENT;
	p.data = data;
	p.data_len = sizeof(data);
	fk_recv_pdu(sid, &p);
	ck_assert(run_until(scan_written, 3000));
}
END_TEST

START_TEST(test_async_drop_and_renegotiate)
{
	struct answer a;
	uint32_t sid = login_ok(&a, "iqn.2003-01.org.example:disk1", false);
	struct pdu p;
	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_ASYNC_MSG;
	p.flags = ISCSI_FLAG_FINAL;
	p.itt = ISCSI_RESERVED_TAG;
	p.async_event = ISCSI_ASYNC_NEGOTIATE;
	fk_recv_pdu(sid, &p);
	/* renegotiation: drop the connection ourselves, log in again */
	ck_assert(run_until(logged_in, 5000));
	ck_assert_uint_eq(count(ISCSI_UEVENT_CREATE_SESSION), 1);
}
END_TEST

START_TEST(test_stats)
{
	struct answer a, b;
	uint32_t sid = login_ok(&a, "iqn.2003-01.org.example:disk1", false);
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(session_stats(d.sessions, sid, on_done, &b), 0);
	ck_assert(wait_answer(&b, 2000));
	ck_assert_int_eq(b.res.status, 0);
	ck_assert_uint_eq(b.res.nstats, 22);
	ck_assert_ptr_nonnull(strstr(b.devs, "scsicmd_pdus=7 "));
	ck_assert_ptr_nonnull(strstr(b.devs, "eh_abort_cnt=3x "));
}
END_TEST

START_TEST(test_wait_devices_login)
{
	struct node_rec rec;
	struct answer a;
	char node[PATH_MAX];
	make_rec(&rec, "iqn.2003-01.org.example:disk1", true);
	/* the disk the scan "finds" (sysfs entries appear with the session) */
	snprintf(node, sizeof(node), "%s/sde", fk.sysfs);
	if (mknod(node, S_IFBLK | 0600, makedev(8, 64)) < 0)
		return;
	fk.lun_on_start = "sde";
	struct transport_login tl = { .rec = &rec, .flags = IPC_LOGIN_WAIT_DEVICES };
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, &a), 0);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_int_eq(a.res.status, 0);
	ck_assert_str_eq(a.devs, "sde ");
}
END_TEST

START_TEST(test_adopt)
{
	struct answer b;
	/* what a dead iscsid left: session 7 on host 5, logged in */
	fake_add_host(fk.sysfs, 5);
	fake_add_session(fk.sysfs, 5, 7, "LOGGED_IN");
	fake_add_conn(fk.sysfs, 5, 7, 0);
	ks_restart(NULL);
	struct ksession *ks = kctx_find(kc, 7);
	ck_assert_ptr_nonnull(ks);
	ck_assert_int_eq(ks->state, KS_LOGGED_IN);
	ck_assert_str_eq(ks->p.target, "iqn.2003-01.org.example:disk1");
	ck_assert_str_eq(ks->p.address, "192.0.2.10");
	struct session *s = session_find(d.sessions, 7);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(s->portal, "192.0.2.10:3260");
	/* it can be logged out */
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(session_logout(d.sessions, 7, on_done, &b), 0);
	ck_assert(wait_answer(&b, 5000));
	ck_assert_int_eq(b.res.status, 0);
	ck_assert_uint_eq(count(ISCSI_UEVENT_DESTROY_SESSION_ASYNC), 1);
	ck_assert_ptr_null(session_find(d.sessions, 7));
}
END_TEST

static uint32_t adopted_sid;
static bool adopted_logged_in(void)
{
	struct ksession *ks = kctx_find(kc, adopted_sid);
	return ks && ks->state == KS_LOGGED_IN && count(ISCSI_UEVENT_START_CONN) >= 1;
}

START_TEST(test_adopt_failed_recovers)
{
	char p[16];
	/* a session that failed while no daemon listened: its CONN_ERROR was
	 * never seen, so adopting it must start the recovery */
	fake_add_host(fk.sysfs, 5);
	fake_add_session(fk.sysfs, 5, 7, "FAILED");
	fake_add_conn(fk.sysfs, 5, 7, 0);
	fake_conn_attr(fk.sysfs, 7, 0, "persistent_address", "127.0.0.1\n");
	snprintf(p, sizeof(p), "%d\n", port);
	fake_conn_attr(fk.sysfs, 7, 0, "persistent_port", p);
	fake_conn_attr(fk.sysfs, 7, 0, "state", "failed\n");
	ks_restart(NULL);
	adopted_sid = 7;
	ck_assert(run_until(adopted_logged_in, 5000));
	ck_assert_uint_eq(fk.reqs[index_of(ISCSI_UEVENT_STOP_CONN, 0)].flag, ISCSI_STOP_CONN_RECOVER);
	ck_assert_uint_eq(fk.reqs[index_of(ISCSI_UEVENT_BIND_CONN, 0)].sid, 7);
	ck_assert_uint_eq(count(ISCSI_UEVENT_CREATE_SESSION), 0);
	/* the TSIH of an adopted session is unknown: reinstate with 0 */
	const struct req *pdu = last(ISCSI_UEVENT_SEND_PDU);
	ck_assert_uint_eq((pdu->bhs[14] << 8) | pdu->bhs[15], 0);
	ck_assert_str_eq(session_state_text(session_find(d.sessions, 7)), "LOGGED_IN");
}
END_TEST

START_TEST(test_async_logout_request)
{
	struct answer a;
	uint32_t sid = login_ok(&a, "iqn.2003-01.org.example:disk1", false);
	struct pdu p;
	memset(&p, 0, sizeof(p));
	p.opcode = ISCSI_OP_ASYNC_MSG;
	p.flags = ISCSI_FLAG_FINAL;
	p.itt = ISCSI_RESERVED_TAG;
	p.async_event = ISCSI_ASYNC_LOGOUT_REQUEST;
	p.async_param[2] = 10;
	size_t before = fk.nreq;
	fk_recv_pdu(sid, &p);
	/* RFC 7143 §11.9.1: log out, then log in again on the same session */
	ck_assert(run_until(logged_in, 5000));
	ssize_t lo = -1;
	for (size_t i = before; i < fk.nreq; i++)
		if (fk.reqs[i].type == ISCSI_UEVENT_SEND_PDU && fk.reqs[i].bhs[0] == 0x46)
			lo = (ssize_t)i;
	ck_assert(lo >= 0);
	ssize_t stop = index_of(ISCSI_UEVENT_STOP_CONN, (size_t)lo);
	ck_assert(stop > lo);
	ck_assert_uint_eq(fk.reqs[stop].flag, ISCSI_STOP_CONN_RECOVER);
	ck_assert_uint_eq(count(ISCSI_UEVENT_CREATE_SESSION), 1);
	ck_assert_uint_eq(count(ISCSI_UEVENT_DESTROY_SESSION), 0);
}
END_TEST

START_TEST(test_host_gone)
{
	struct answer a;
	uint32_t sid = login_ok(&a, "iqn.2003-01.org.example:disk1", false);
	ck_assert_ptr_nonnull(session_find(d.sessions, sid));   /* tracked by the transport */
	fk_conn_error(sid, ISCSI_IF_ERR_INVALID_HOST);
	ck_assert(wait_requests(ISCSI_UEVENT_DESTROY_SESSION, 1, 3000));
	/* shut down, not recovered */
	ck_assert_uint_eq(count(ISCSI_UEVENT_BIND_CONN), 1);
	ck_assert_ptr_null(kctx_find(kc, sid));
	ck_assert_ptr_null(session_find(d.sessions, sid));
}
END_TEST

static int listener(int *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*ret_port = ntohs(sa.sin_port);
	return fd;
}

/* connections waiting on a listener (taken off it) */
static int accepted(int fd)
{
	int n = 0, c;
	while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		close(c);
		n++;
	}
	return n;
}

static void redirect_case(bool permanent)
{
	struct answer a;
	int port2, l2 = listener(&port2);
	int fl = fcntl(lfd, F_GETFL);
	fcntl(lfd, F_SETFL, fl | O_NONBLOCK);
	fk.redirect_port = port2;
	fk.redirect_permanent = permanent;
	uint32_t sid = login_ok(&a, "iqn.2003-01.org.example:disk1", false);
	ck_assert_int_eq(accepted(lfd), 1);
	ck_assert_int_eq(accepted(l2), 1);
	/* the kernel (and sysfs) keep the portal the record names */
	char p1[16];
	snprintf(p1, sizeof(p1), "%d", port);
	ck_assert_str_eq(last_param(ISCSI_PARAM_PERSISTENT_PORT)->value, p1);
	ck_assert_uint_eq(count(ISCSI_UEVENT_CREATE_SESSION), 1);
	/* a reconnect goes back to the record's portal after a temporary
	 * move, to the new one after a permanent one */
	fk_conn_error(sid, ISCSI_IF_ERR_TCP_CONN_CLOSE);
	ck_assert(run_until(logged_in, 5000));
	ck_assert_int_eq(accepted(lfd), permanent ? 0 : 1);
	ck_assert_int_eq(accepted(l2), permanent ? 1 : 0);
	close(l2);
}

START_TEST(test_redirect_temporary)
{
	redirect_case(false);
}
END_TEST

START_TEST(test_redirect_permanent)
{
	redirect_case(true);
}
END_TEST

/* What iscsid holds for each logged-in session (issue 10: its RSS grows
 * by less than 8 KiB a session), after a burst of logins as
 * `--loginall` sends them, all in flight at once:
 *   - the bytes allocated (malloc and the session pools) per session;
 *   - the memory left resident per session once the burst is over: the
 *     heap's pages (a session's objects between the burst's freed
 *     buffers keep whole pages; the layer trims the heap after a burst)
 *     and the pools' pages. Not under AddressSanitizer, whose allocator
 *     keeps freed memory on purpose. */
#define FOOTPRINT_N 64
#define FOOTPRINT_MAX 8192

static size_t heap_in_use(void)
{
#ifdef __SANITIZE_ADDRESS__
	/* the pools' objects come from malloc here (pool.h) */
	return __sanitizer_get_current_allocated_bytes();
#else
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd + ks_pool_bytes() + session_pool_bytes();
#endif
}

/* Descriptors open in this process (iscsid's, in these tests). */
static int open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int n = 0;
	ck_assert_ptr_nonnull(dir);
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

#ifndef __SANITIZE_ADDRESS__
/* Resident bytes of the heap ([heap] in smaps) and of the pools. */
static size_t resident(void)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	size_t kb = 0;
	bool heap = false;
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char name[256] = "";
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255s", &a, &b, name) >= 2)
			heap = !strcmp(name, "[heap]");
		else if (heap && !strncmp(line, "Rss:", 4))
			kb += strtoul(line + 4, NULL, 10);
	}
	fclose(f);
	return kb * 1024u + ks_pool_bytes() + session_pool_bytes();
}

static bool trimmed(void)
{
	return !loop_timer_armed(&d.sessions->trim);
}
#endif

START_TEST(test_session_footprint)
{
	static struct node_rec recs[FOOTPRINT_N];
	static struct answer as[FOOTPRINT_N];
	struct answer a;
	/* every connect must be queued at once by the listener */
	ck_assert_int_eq(listen(lfd, FOOTPRINT_N + 8), 0);
	login_ok(&a, "iqn.2003-01.org.example:warm", false);
	for (unsigned i = 0; i < FOOTPRINT_N; i++) {
		char name[96];
		snprintf(name, sizeof(name), "iqn.2003-01.org.example:footprint-%u", i);
		make_rec(&recs[i], name, false);
	}
#ifndef __SANITIZE_ADDRESS__
	ck_assert(run_until(trimmed, 3000));
	malloc_trim(0);
	size_t res0 = resident();
#endif
	size_t before = heap_in_use();
	int fds0 = open_fds();
	for (unsigned i = 0; i < FOOTPRINT_N; i++)
		ks_login_start(&as[i], &recs[i], 0);
	for (unsigned i = 0; i < FOOTPRINT_N; i++) {
		ck_assert(wait_answer(&as[i], 10000));
		ck_assert_msg(as[i].res.status == 0, "login %u: %d %s", i, as[i].res.status, as[i].res.message);
	}
	ck_assert_uint_eq(session_count(d.sessions), FOOTPRINT_N + 1);
	/* the kernel holds each socket once bound: iscsid keeps no
	 * descriptor per session (a thousand would reach RLIMIT_NOFILE) */
	int fds1 = open_fds();
	fprintf(stderr, "test_session_footprint: %d descriptors before, %d after %u logins\n", fds0, fds1,
		FOOTPRINT_N);
	ck_assert_msg(fds1 - fds0 < 8, "%d descriptors more after %u logins", fds1 - fds0, FOOTPRINT_N);
	size_t after = heap_in_use();
	size_t per = after > before ? (after - before) / FOOTPRINT_N : 0;
	fprintf(stderr, "test_session_footprint: %zu bytes allocated per logged-in session\n", per);
	ck_assert_msg(per < FOOTPRINT_MAX, "%zu bytes allocated per logged-in session (limit %u)", per,
		      FOOTPRINT_MAX);
#ifndef __SANITIZE_ADDRESS__
	ck_assert(run_until(trimmed, 3000));
	size_t res1 = resident();
	size_t rper = res1 > res0 ? (res1 - res0) / FOOTPRINT_N : 0;
	fprintf(stderr, "test_session_footprint: %zu bytes resident per logged-in session\n", rper);
	ck_assert_msg(rper < FOOTPRINT_MAX, "%zu bytes resident per logged-in session (limit %u)", rper,
		      FOOTPRINT_MAX);
#endif
}
END_TEST

START_TEST(test_wishes)
{
	struct node_rec r;
	struct ks_params p;
	struct iscsi_params w;
	char err[200];
	node_rec_init(&r);
	ck_assert_int_eq(ks_params_set(&p, &r, "iqn.2005-03.org.example:initiator", NULL, NULL, 0), 0);
	ck_assert_int_eq(kconn_wishes(&p, &w, err, sizeof(err)), 0);
	ck_assert_uint_eq(w.error_recovery_level, 0);
	ck_assert_uint_eq(w.max_connections, 1);
	ck_assert_uint_eq(w.max_recv_dsl, (uint32_t)r.conn.max_recv_dlength);
	ks_params_clear(&p);
	r.session.first_burst_length = 1 << 20;
	r.session.max_burst_length = 65536;
	ck_assert_int_eq(ks_params_set(&p, &r, "iqn.2005-03.org.example:initiator", NULL, NULL, 0), 0);
	ck_assert_int_eq(kconn_wishes(&p, &w, err, sizeof(err)), -EINVAL);
	ks_params_clear(&p);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ksession");
	TCase *tc = tcase_create("kernel sessions");
	tcase_add_checked_fixture(tc, ks_setup, ks_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_login);
	tcase_add_test(tc, test_auth_failure_cleans_up);
	tcase_add_test(tc, test_silent_close_is_auth_failure);
	tcase_add_test(tc, test_recovery);
	tcase_add_test(tc, test_recovery_keeps_parameters);
	tcase_add_test(tc, test_logout);
	tcase_add_test(tc, test_logouts_destroy_async);
	tcase_add_test(tc, test_logout_destroy_event_lost);
	tcase_add_test(tc, test_safe_logout_refuses);
	tcase_add_test(tc, test_async_luns_changed_scans);
	tcase_add_test(tc, test_async_drop_and_renegotiate);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_wait_devices_login);
	tcase_add_test(tc, test_adopt);
	tcase_add_test(tc, test_adopt_failed_recovers);
	tcase_add_test(tc, test_async_logout_request);
	tcase_add_test(tc, test_host_gone);
	tcase_add_test(tc, test_redirect_temporary);
	tcase_add_test(tc, test_redirect_permanent);
	tcase_add_test(tc, test_wishes);
	tcase_add_test(tc, test_session_footprint);
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
