/* kmod-glue/nl.c: requests, replies and the event queue, over a scripted
 * transport (no NETLINK_ISCSI on the build host). The scripted "kernel"
 * has its answers queued before the request is sent, as the real one does
 * (the request is processed inside sendmsg, reference §1.2). */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_sysfs.h"
#include "nl.h"

enum { EV = 16, U = 32, R = 56, PAYLOAD = 72 };

static void wr32(uint8_t *b, size_t off, uint32_t v)
{
	memcpy(b + off, &v, 4);
}

static uint32_t rd32(const uint8_t *b, size_t off)
{
	uint32_t v;

	memcpy(&v, b + off, 4);
	return v;
}

/* ---- the scripted transport ----------------------------------------------- */

#define QMAX 64

struct fake {
	int pipefd[2];                /* never readable: polls time out */
	uint8_t *q[QMAX];
	size_t qlen[QMAX];
	size_t head, tail;
	int enobufs;                  /* recv fails with ENOBUFS this many times */
	size_t gen_events;            /* then produces this many CONN_ERRORs */
	uint32_t gen_sid;
	size_t nsent;
	uint8_t last[NL_REQ_MAX];
	size_t last_len;
	const uint8_t *last_buf;      /* the context's own send buffer */
};

static void fake_push(struct fake *f, const void *buf, size_t len)
{
	ck_assert_uint_lt(f->tail, QMAX);
	f->q[f->tail] = malloc(len);
	ck_assert_ptr_nonnull(f->q[f->tail]);
	memcpy(f->q[f->tail], buf, len);
	f->qlen[f->tail++] = len;
}

static size_t mk_event(uint8_t *b, uint32_t type, uint32_t r0, uint32_t r1, uint32_t r2)
{
	memset(b, 0, 16);
	memset(b + EV, 0xaa, 56);           /* uninitialised bytes (§1.2) */
	wr32(b, 0, 72);
	wr32(b, EV, type);
	wr32(b, R, r0);
	wr32(b, R + 4, r1);
	wr32(b, R + 8, r2);
	return 72;
}

static void push_event(struct fake *f, uint32_t type, uint32_t r0, uint32_t r1, uint32_t r2)
{
	uint8_t b[72];

	fake_push(f, b, mk_event(b, type, r0, r1, r2));
}

static void push_reply(struct fake *f, uint32_t req, int32_t iferror, uint32_t r0, uint32_t r1)
{
	uint8_t b[72];

	memset(b, 0, sizeof(b));
	wr32(b, 0, 72);
	memcpy(b + 4, &(uint16_t){ (uint16_t)req }, 2);
	wr32(b, EV, iferror ? 103 : req);
	wr32(b, EV + 4, (uint32_t)iferror);
	wr32(b, R, r0);
	wr32(b, R + 4, r1);
	fake_push(f, b, sizeof(b));
}

static ssize_t fake_send(void *io, const void *buf, size_t len)
{
	struct fake *f = io;

	ck_assert_uint_le(len, sizeof(f->last));
	memcpy(f->last, buf, len);
	f->last_len = len;
	f->last_buf = buf;
	f->nsent++;
	return (ssize_t)len;
}

static ssize_t fake_recv(void *io, void *buf, size_t cap)
{
	struct fake *f = io;
	size_t len;

	if (f->enobufs > 0) {
		f->enobufs--;
		return -ENOBUFS;
	}
	if (f->gen_events > 0) {
		f->gen_events--;
		return (ssize_t)mk_event(buf, ISCSI_KEVENT_CONN_ERROR, f->gen_sid++, 0, 1011);
	}
	if (f->head == f->tail)
		return -EAGAIN;
	len = f->qlen[f->head];
	ck_assert_uint_le(len, cap);
	memcpy(buf, f->q[f->head], len);
	free(f->q[f->head++]);
	return (ssize_t)len;
}

static struct fake *F;
static struct nl_iscsi *NL;

/* What the event callback saw. */
static struct nl_msg_info seen[2048];
static size_t nseen;
static int reentrant_rc = 1;

static void on_event(struct nl_iscsi *nl, const struct nl_msg_info *m, void *userdata)
{
	ck_assert_ptr_eq(userdata, &nseen);
	if (nseen < sizeof(seen) / sizeof(seen[0]))
		seen[nseen] = *m;
	nseen++;
	/* a daemon answering CONN_ERROR with STOP_CONN(RECOVER) from the callback */
	if (m->kind == NL_MSG_EVENT && m->type == ISCSI_KEVENT_CONN_ERROR && m->sid == 77)
		reentrant_rc = nl_stop_conn(nl, 77, 0, ISCSI_STOP_CONN_RECOVER);
}

static void setup(void)
{
	struct nl_iscsi_io io;

	F = calloc(1, sizeof(*F));
	ck_assert_ptr_nonnull(F);
	ck_assert_int_eq(pipe(F->pipefd), 0);
	memset(&io, 0, sizeof(io));
	io.fd = F->pipefd[0];
	io.send = fake_send;
	io.recv = fake_recv;
	io.io_data = F;
	ck_assert_int_eq(nl_iscsi_open_io(&io, &NL), 0);
	nl_iscsi_set_handle(NL, 0x1234);
	nl_iscsi_set_event_cb(NL, on_event, &nseen);
	nl_iscsi_set_timeout(NL, 200);
	nseen = 0;
	reentrant_rc = 1;
}

static void teardown(void)
{
	nl_iscsi_free(NL);
	NL = NULL;
	while (F->head < F->tail)
		free(F->q[F->head++]);
	close(F->pipefd[0]);
	close(F->pipefd[1]);
	free(F);
}

START_TEST(test_open_real_socket)
{
	struct nl_iscsi *nl = NULL;
	int r = nl_iscsi_open(&nl);

	/* The build host has no scsi_transport_iscsi; a VM with it opens. */
	if (r == 0) {
		ck_assert_int_ge(nl_iscsi_fd(nl), 0);
		ck_assert_int_eq(nl_create_session(nl, 0, 128, 32, NULL, NULL), -ENODEV);
		nl_iscsi_free(nl);
	} else {
		ck_assert_msg(r == -EPROTONOSUPPORT || r == -EPERM, "open: %d", r);
		ck_assert_ptr_null(nl);
	}
	nl_iscsi_free(NULL);
}
END_TEST

START_TEST(test_handle)
{
	char *root = fake_sysfs_new();
	uint32_t sid = 0;

	nl_iscsi_set_handle(NL, 0);
	ck_assert_int_eq(nl_create_session(NL, 0, 128, 32, &sid, NULL), -ENODEV);
	ck_assert_uint_eq(F->nsent, 0);
	ck_assert_int_eq(nl_iscsi_load_handle(NL, root, NULL), -ENOENT);
	fake_add_transport(root, "tcp", "18446744072108347392\n", "0x39\n");
	ck_assert_int_eq(nl_iscsi_load_handle(NL, root, NULL), 0);
	ck_assert_uint_eq(nl_iscsi_handle(NL), 18446744072108347392ull);
	push_reply(F, 11, 0, 1, 3);
	ck_assert_int_eq(nl_create_session(NL, 0, 128, 32, &sid, NULL), 0);
	uint64_t h;
	memcpy(&h, F->last + EV + 8, 8);                /* ev.transport_handle */
	ck_assert_uint_eq(h, 18446744072108347392ull);
	fake_sysfs_free(root);
}
END_TEST

START_TEST(test_events_before_reply_are_kept)
{
	uint32_t sid = 0, host = 0;

	push_event(F, ISCSI_KEVENT_CREATE_SESSION, 1, 3, 0);   /* emitted before the reply */
	push_reply(F, 11, 0, 1, 3);
	ck_assert_int_eq(nl_create_session(NL, 5, 128, 32, &sid, &host), 0);
	ck_assert_uint_eq(sid, 1);
	ck_assert_uint_eq(host, 3);
	ck_assert_uint_eq(F->nsent, 1);
	ck_assert_uint_eq(F->last_len, 72);
	ck_assert_uint_eq(rd32(F->last, EV), 11);
	ck_assert_uint_eq(rd32(F->last, U), 5);
	/* not delivered from inside the request, but kept */
	ck_assert_uint_eq(nseen, 0);
	ck_assert(nl_iscsi_has_queued(NL));
	push_event(F, ISCSI_KEVENT_CONN_ERROR, 1, 0, 1020);    /* arrives later */
	ck_assert_int_eq(nl_iscsi_dispatch(NL), 0);
	ck_assert_uint_eq(nseen, 2);
	ck_assert_uint_eq(seen[0].type, ISCSI_KEVENT_CREATE_SESSION);
	ck_assert_uint_eq(seen[0].sid, 1);
	ck_assert_uint_eq(seen[0].host_no, 3);
	ck_assert_uint_eq(seen[1].type, ISCSI_KEVENT_CONN_ERROR);
	ck_assert_uint_eq(seen[1].error, 1020);
	ck_assert(!nl_iscsi_has_queued(NL));
}
END_TEST

START_TEST(test_if_error_reply)
{
	push_reply(F, 16, -ENOSYS, 0, 0);
	ck_assert_int_eq(nl_set_param_int(NL, 1, 0, ISCSI_PARAM_SESS_RECOVERY_TMO, 120), -ENOSYS);
	ck_assert_uint_eq(F->last_len, 72 + 4);
	ck_assert_str_eq((char *)F->last + PAYLOAD, "120");
	push_reply(F, 16, 0, 0, 0);
	ck_assert_int_eq(nl_set_param_uint(NL, 1, 0, ISCSI_PARAM_EXP_STATSN, 4000000000u), 0);
	ck_assert_str_eq((char *)F->last + PAYLOAD, "4000000000");
	push_reply(F, 14, -EINVAL, 0, 0);
	ck_assert_int_eq(nl_destroy_conn(NL, 9, 0), -EINVAL);
	push_reply(F, 12, -EBUSY, 0, 0);
	ck_assert_int_eq(nl_destroy_session(NL, 9), -EBUSY);
}
END_TEST

/* Regression: a CHAP secret sent with SET_PARAM stayed in the context's
 * send buffer until a later request overwrote it. */
START_TEST(test_set_param_secret_wiped)
{
	static const char secret[] = "hunter2-chap-secret";

	push_reply(F, 16, 0, 0, 0);
	ck_assert_int_eq(nl_set_param(NL, 1, 0, ISCSI_PARAM_PASSWORD, secret), 0);
	/* what went to the kernel held it ... */
	ck_assert_str_eq((char *)F->last + PAYLOAD, secret);
	/* ... the buffer it went from no longer does */
	ck_assert_ptr_nonnull(F->last_buf);
	ck_assert_ptr_null(memmem(F->last_buf, F->last_len, "hunter2", 7));
	/* refused by the kernel: wiped as well */
	push_reply(F, 16, -EINVAL, 0, 0);
	ck_assert_int_eq(nl_set_param(NL, 1, 0, ISCSI_PARAM_PASSWORD_IN, secret), -EINVAL);
	ck_assert_ptr_null(memmem(F->last_buf, F->last_len, "hunter2", 7));
}
END_TEST

START_TEST(test_retcode_replies)
{
	push_reply(F, 15, 0, (uint32_t)-EEXIST, 0);
	ck_assert_int_eq(nl_bind_conn(NL, 1, 0, 5, true), -EEXIST);
	ck_assert_uint_eq(rd32(F->last, U + 16), 1);
	push_reply(F, 15, 0, 0, 0);
	ck_assert_int_eq(nl_bind_conn(NL, 1, 0, 5, true), 0);
	ck_assert_int_eq(nl_bind_conn(NL, 1, 0, -1, true), -EBADF);
	push_reply(F, 17, 0, (uint32_t)-EPERM, 0);
	ck_assert_int_eq(nl_start_conn(NL, 1, 0), -EPERM);
	push_reply(F, 19, 0, 0, 0);
	uint8_t bhs[48] = { 0x46, 0x80 };
	ck_assert_int_eq(nl_send_pdu(NL, 1, 0, bhs, sizeof(bhs), NULL, 0), 0);
	ck_assert_uint_eq(F->last_len, 72 + 48);
	ck_assert_uint_eq(F->last[PAYLOAD], 0x46);
	/* IF_ERROR wins over r for these too */
	push_reply(F, 19, -EINVAL, 0, 0);
	ck_assert_int_eq(nl_send_pdu(NL, 1, 0, bhs, sizeof(bhs), NULL, 0), -EINVAL);
}
END_TEST

START_TEST(test_timeout)
{
	struct timespec a, b;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &a);
	ck_assert_int_eq(nl_unbind_session(NL, 3), -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	ck_assert_int_ge(ms, 190);
	ck_assert_int_lt(ms, 2000);
	ck_assert_str_eq(nl_strerror(-ETIMEDOUT), "no answer from the kernel iSCSI transport");
}
END_TEST

START_TEST(test_stale_and_garbage_skipped)
{
	uint8_t junk[40];
	uint32_t cid = 99;

	memset(junk, 0, sizeof(junk));                /* nlmsg_len 0: framing lost */
	fake_push(F, junk, sizeof(junk));
	push_reply(F, 16, 0, 0, 0);                    /* answer to an earlier request */
	push_reply(F, 13, 0, 4, 0);
	ck_assert_int_eq(nl_create_conn(NL, 4, 0, &cid), 0);
	ck_assert_uint_eq(cid, 0);
	ck_assert(!nl_iscsi_has_queued(NL));
}
END_TEST

START_TEST(test_two_messages_in_one_datagram)
{
	uint8_t b[144];
	uint32_t sid = 0;

	mk_event(b, ISCSI_KEVENT_CREATE_SESSION, 6, 2, 0);
	memset(b + 72, 0, 72);
	wr32(b + 72, 0, 72);
	memcpy(b + 72 + 4, &(uint16_t){ 11 }, 2);
	wr32(b + 72, EV, 11);
	wr32(b + 72, R, 6);
	wr32(b + 72, R + 4, 2);
	fake_push(F, b, sizeof(b));
	ck_assert_int_eq(nl_create_session(NL, 0, 128, 32, &sid, NULL), 0);
	ck_assert_uint_eq(sid, 6);
	ck_assert_int_eq(nl_iscsi_dispatch(NL), 0);
	ck_assert_uint_eq(nseen, 1);
	ck_assert_uint_eq(seen[0].sid, 6);
}
END_TEST

static void push_stats(struct fake *f, uint32_t sid, uint32_t cid, uint32_t n)
{
	uint8_t b[72 + 96 + 32 * 72];
	size_t len = 72 + 96 + n * 72;

	memset(b, 0, sizeof(b));
	wr32(b, 0, (uint32_t)len);
	wr32(b, EV, 20);
	wr32(b, U, sid);
	wr32(b, U + 4, cid);
	wr32(b, PAYLOAD + 28, 7);                      /* login_pdus */
	wr32(b, PAYLOAD + 92, n);
	for (uint32_t i = 0; i < n; i++)
		strcpy((char *)b + PAYLOAD + 96 + i * 72, "eh_abort_cnt");
	fake_push(f, b, len);
}

START_TEST(test_get_stats)
{
	struct nl_stats s;

	push_stats(F, 9, 0, 1);                        /* someone else's answer */
	push_stats(F, 2, 0, 3);
	ck_assert_int_eq(nl_get_stats(NL, 2, 0, &s), 0);
	ck_assert_uint_eq(s.sid, 2);
	ck_assert_uint_eq(s.s.login_pdus, 7);
	ck_assert_uint_eq(s.n_custom, 3);
	ck_assert_str_eq(s.custom[2].desc, "eh_abort_cnt");
	ck_assert_int_eq(nl_iscsi_dispatch(NL), 0);
	ck_assert_uint_eq(nseen, 1);
	ck_assert_int_eq(seen[0].kind, NL_MSG_STATS);
	ck_assert_uint_eq(seen[0].sid, 9);
	/* failure is an ordinary unicast IF_ERROR reply */
	push_reply(F, 20, -EEXIST, 0, 0);
	ck_assert_int_eq(nl_get_stats(NL, 2, 5, &s), -EEXIST);
}
END_TEST

START_TEST(test_enobufs_is_reported_not_fatal)
{
	F->enobufs = 1;
	push_event(F, ISCSI_KEVENT_RECV_PDU, 1, 0, 0);  /* too short: dropped */
	push_reply(F, 14, 0, 0, 0);
	ck_assert_int_eq(nl_destroy_conn(NL, 1, 0), 0);
	ck_assert(nl_iscsi_has_queued(NL));
	ck_assert_int_eq(nl_iscsi_dispatch(NL), 0);
	ck_assert_uint_eq(nseen, 1);
	ck_assert_int_eq(seen[0].kind, NL_MSG_OVERRUN);
	/* and when it happens while the daemon reads events */
	F->enobufs = 1;
	push_event(F, ISCSI_KEVENT_CONN_ERROR, 1, 0, 1011);
	ck_assert_int_eq(nl_iscsi_dispatch(NL), 0);
	ck_assert_uint_eq(nseen, 3);
	ck_assert_int_eq(seen[1].kind, NL_MSG_OVERRUN);
	ck_assert_uint_eq(seen[2].type, ISCSI_KEVENT_CONN_ERROR);
	ck_assert(!nl_iscsi_has_queued(NL));
}
END_TEST

START_TEST(test_event_queue_is_bounded)
{
	F->gen_events = NL_EVQ_MAX_MSGS + 100;
	F->gen_sid = 1000;
	push_reply(F, 18, 0, 0, 0);
	ck_assert_int_eq(nl_stop_conn(NL, 1, 0, ISCSI_STOP_CONN_TERM), 0);
	ck_assert_int_eq(nl_iscsi_dispatch(NL), 0);
	/* the first NL_EVQ_MAX_MSGS in order, then one overrun */
	ck_assert_uint_eq(nseen, NL_EVQ_MAX_MSGS + 1);
	ck_assert_uint_eq(seen[0].sid, 1000);
	ck_assert_uint_eq(seen[NL_EVQ_MAX_MSGS - 1].sid, 1000 + NL_EVQ_MAX_MSGS - 1);
	ck_assert_int_eq(seen[NL_EVQ_MAX_MSGS].kind, NL_MSG_OVERRUN);
}
END_TEST

START_TEST(test_request_from_event_callback)
{
	push_event(F, ISCSI_KEVENT_CONN_ERROR, 77, 0, 1020);
	/* what the kernel holds by the time the callback sends STOP_CONN */
	uint8_t pdu[72 + 48];
	mk_event(pdu, ISCSI_KEVENT_RECV_PDU, 77, 0, 0);
	wr32(pdu, 0, sizeof(pdu));
	memset(pdu + 72, 0, 48);
	pdu[72] = 0x26;
	fake_push(F, pdu, sizeof(pdu));
	push_reply(F, 18, 0, 0, 0);
	ck_assert_int_eq(nl_iscsi_dispatch(NL), 0);
	ck_assert_int_eq(reentrant_rc, 0);
	ck_assert_uint_eq(rd32(F->last, EV), 18);
	ck_assert_uint_eq(rd32(F->last, U + 16), ISCSI_STOP_CONN_RECOVER);
	ck_assert_uint_eq(nseen, 2);
	ck_assert_uint_eq(seen[0].type, ISCSI_KEVENT_CONN_ERROR);
	ck_assert_uint_eq(seen[1].type, ISCSI_KEVENT_RECV_PDU);
	ck_assert_uint_eq(seen[1].payload_len, 48);
}
END_TEST

/* A real socket pair, the reply coming 50 ms after the request: the wait
 * must poll, not spin or give up. */
static ssize_t sock_send(void *io, const void *buf, size_t len)
{
	ssize_t n = send(*(int *)io, buf, len, MSG_NOSIGNAL);

	return n < 0 ? -errno : n;
}

static ssize_t sock_recv(void *io, void *buf, size_t cap)
{
	ssize_t n = recv(*(int *)io, buf, cap, MSG_DONTWAIT);

	return n < 0 ? -errno : n;
}

START_TEST(test_socket_wait_polls)
{
	struct nl_iscsi *nl;
	struct nl_iscsi_io io;
	int sv[2], status;
	uint8_t req[128];
	pid_t pid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		uint8_t b[72];
		ssize_t n = recv(sv[1], req, sizeof(req), 0);      /* the request */

		if (n != 72 || rd32(req, EV) != 27)
			_exit(1);
		usleep(50 * 1000);
		memcpy(b, req, 72);                               /* reply = echo */
		if (send(sv[1], b, 72, 0) != 72)
			_exit(2);
		_exit(0);
	}
	memset(&io, 0, sizeof(io));
	io.fd = sv[0];
	io.send = sock_send;
	io.recv = sock_recv;
	io.io_data = &sv[0];
	ck_assert_int_eq(nl_iscsi_open_io(&io, &nl), 0);
	nl_iscsi_set_handle(nl, 1);
	ck_assert_int_eq(nl_iscsi_fd(nl), sv[0]);
	ck_assert_int_eq(nl_unbind_session(nl, 4), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	nl_iscsi_free(nl);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nl_ctx");
	TCase *tc = tcase_create("context");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_open_real_socket);
	tcase_add_test(tc, test_handle);
	tcase_add_test(tc, test_events_before_reply_are_kept);
	tcase_add_test(tc, test_if_error_reply);
	tcase_add_test(tc, test_set_param_secret_wiped);
	tcase_add_test(tc, test_retcode_replies);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_stale_and_garbage_skipped);
	tcase_add_test(tc, test_two_messages_in_one_datagram);
	tcase_add_test(tc, test_get_stats);
	tcase_add_test(tc, test_enobufs_is_reported_not_fatal);
	tcase_add_test(tc, test_event_queue_is_bounded);
	tcase_add_test(tc, test_request_from_event_callback);
	tcase_add_test(tc, test_socket_wait_polls);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
