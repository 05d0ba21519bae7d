/* libinitiator/discover.c, the SendTargets discovery driver: a recorded
 * tgtd session replayed through an injected transport, the transport's
 * failures as exit codes, and its default TCP transport's iface binding
 * through the caller's binder (netio.h). tgtd itself is the integration
 * tests' peer (tests/integration/iscsiadm_discovery.sh). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "discover.h"
#include "errors.h"
#include "names.h"

/* ---- a transport that replays what a target sent ---- */

struct replay {
	uint8_t data[4096];
	size_t len, off;
	int connect_result;          /* < 0: connect fails so */
	unsigned connects, closes;
};

static int r_connect(void *ctx, const struct portal *p, const struct iface_rec *iface, uint64_t deadline,
		     char *err, size_t errlen)
{
	struct replay *r = ctx;

	r->connects++;
	if (r->connect_result < 0) {
		snprintf(err, errlen, "%s", strerror(-r->connect_result));
		return r->connect_result;
	}
	return 7;
}

static int r_write(void *ctx, int h, const void *buf, size_t len, uint64_t deadline)
{
	ck_assert_int_eq(h, 7);
	return 0;
}

static int r_read(void *ctx, int h, void *buf, size_t len, uint64_t deadline)
{
	struct replay *r = ctx;

	ck_assert_int_eq(h, 7);
	if (r->len - r->off < len) {
		r->off = r->len;
		return -ECONNRESET;
	}
	memcpy(buf, r->data + r->off, len);
	r->off += len;
	return 0;
}

static void r_close(void *ctx, int h)
{
	struct replay *r = ctx;

	r->closes++;
}

/* The recorded tgtd answers (tests/fuzz/corpus: one settings byte, then
 * the bytes tgtd sent to ISID 00023d123456). */
static void load(struct replay *r, const char *name)
{
	char path[PATH_MAX];
	const char *top = getenv("top_srcdir");
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/fuzz_discover/%s", top ? top : "..", name);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ssize_t n = read(fd, r->data, sizeof(r->data));
	ck_assert_int_gt(n, 1);
	close(fd);
	memmove(r->data, r->data + 1, (size_t)n - 1);
	r->len = (size_t)n - 1;
}

static struct portal portal = { .host = "127.0.0.1", .port = 3260, .tpgt = -1, .family = AF_INET };

static struct discover_opts opts(const struct discover_io *io)
{
	return (struct discover_opts){
		.portal = &portal,
		.initiator_name = "iqn.2024-01.org.example:unit",
		.login_timeout = 1,
		.active_timeout = 1,
		.max_recv_dlength = 32768,
		.io = io,
		.isid_qualifier = 0x123456,
	};
}

START_TEST(test_replayed_tgtd)
{
	struct replay r = { 0 };
	struct discover_io io = { r_connect, r_write, r_read, r_close, &r };
	struct discover_opts o = opts(&io);
	struct st_result res;
	char msg[DISCOVER_MSG_MAX];

	load(&r, "tgtd_plain");
	ck_assert_int_eq(discover_sendtargets(&o, &res, msg, sizeof(msg)), 0);
	ck_assert_str_eq(msg, "");
	ck_assert_uint_ge(res.n, 2);
	ck_assert_str_eq(res.targets[0].name, "iqn.2024-01.org.example:disk1");
	for (size_t i = 0; i < res.n; i++) {
		ck_assert_int_eq(name_validate(res.targets[i].name, NULL, 0), 0);
		ck_assert_uint_ge(res.targets[i].n_portals, 1);
	}
	ck_assert_uint_eq(r.connects, 1);
	ck_assert_uint_eq(r.closes, 1);
	st_result_free(&res);
}
END_TEST

START_TEST(test_target_hangs_up)
{
	struct replay r = { 0 };
	struct discover_io io = { r_connect, r_write, r_read, r_close, &r };
	struct discover_opts o = opts(&io);
	struct st_result res;
	char msg[DISCOVER_MSG_MAX];

	load(&r, "tgtd_plain");
	r.len = 100;          /* in the middle of the Login Response */
	ck_assert_int_eq(discover_sendtargets(&o, &res, msg, sizeof(msg)), ISCSI_ERR_TRANS);
	ck_assert_str_eq(msg, "SendTargets discovery at 127.0.0.1:3260 failed: "
			      "the target closed the connection during login");
	ck_assert_uint_eq(r.closes, 1);
}
END_TEST

START_TEST(test_connect_failures)
{
	struct replay r = { .connect_result = -ETIMEDOUT };
	struct discover_io io = { r_connect, r_write, r_read, r_close, &r };
	struct discover_opts o = opts(&io);
	struct st_result res;
	char msg[DISCOVER_MSG_MAX];

	ck_assert_int_eq(discover_sendtargets(&o, &res, msg, sizeof(msg)), ISCSI_ERR_TRANS_TIMEOUT);
	ck_assert_str_eq(msg, "SendTargets discovery at 127.0.0.1:3260 failed: cannot connect: timed out after 1 s");
	r.connect_result = -ECONNREFUSED;
	ck_assert_int_eq(discover_sendtargets(&o, &res, msg, sizeof(msg)), ISCSI_ERR_TRANS);
	ck_assert_str_eq(msg, "SendTargets discovery at 127.0.0.1:3260 failed: cannot connect: Connection refused");
	ck_assert_uint_eq(r.closes, 0);
}
END_TEST

/* ---- the TCP transport's binding ---- */

struct bind_log {
	int calls, family, result;
	char iface[REC_IFACE_NAME_SIZE];
	int fd;
};

static int test_binder(void *ctx, int fd, int family, const struct iface_rec *iface, char *err, size_t errlen)
{
	struct bind_log *b = ctx;

	b->calls++;
	b->family = family;
	b->fd = fd;
	snprintf(b->iface, sizeof(b->iface), "%s", iface->name);
	if (b->result < 0)
		snprintf(err, errlen, "iface %s: refused by the test", iface->name);
	return b->result;
}

/* A listener on 127.0.0.1 whose child process takes each connection and
 * closes it. Returns the child. */
static pid_t listener(struct portal *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sa, &sl), 0);
	*p = (struct portal){ .host = "127.0.0.1", .port = ntohs(sa.sin_port), .tpgt = -1, .family = AF_INET };
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);    /* a failed test must not leave it */
		for (;;) {
			int a = accept(l, NULL, NULL);
			if (a >= 0)
				close(a);
		}
	}
	close(l);
	return pid;
}

START_TEST(test_tcp_binding)
{
	struct portal p;
	pid_t l = listener(&p);
	struct iface_rec ifr;
	struct bind_log b = { .result = 0 };
	struct netio_binder binder = { test_binder, &b };
	struct discover_opts o = opts(NULL);
	struct st_result res;
	char msg[DISCOVER_MSG_MAX];

	iface_rec_init(&ifr, "eth9bound");
	snprintf(ifr.ipaddress, sizeof(ifr.ipaddress), "127.0.0.1");
	o.portal = &p;
	o.iface = &ifr;
	o.login_timeout = 2;

	/* no binder: the binding cannot be made, nothing is sent */
	ck_assert_int_eq(discover_sendtargets(&o, &res, msg, sizeof(msg)), ISCSI_ERR_TRANS);
	ck_assert_ptr_nonnull(strstr(msg, "cannot connect: iface eth9bound: binding to an iface is not available here"));

	/* the binder's refusal: a wrong iface is the caller's error */
	o.binder = &binder;
	b.result = -EAFNOSUPPORT;
	ck_assert_int_eq(discover_sendtargets(&o, &res, msg, sizeof(msg)), ISCSI_ERR_INVAL);
	ck_assert_ptr_nonnull(strstr(msg, "cannot connect: iface eth9bound: refused by the test"));
	ck_assert_int_eq(b.calls, 1);
	ck_assert_int_eq(b.family, AF_INET);
	b.result = -ENODEV;
	ck_assert_int_eq(discover_sendtargets(&o, &res, msg, sizeof(msg)), ISCSI_ERR_TRANS);

	/* bound, connected; the peer hangs up */
	b.result = 0;
	b.calls = 0;
	ck_assert_int_eq(discover_sendtargets(&o, &res, msg, sizeof(msg)), ISCSI_ERR_TRANS);
	ck_assert_int_eq(b.calls, 1);
	ck_assert_str_eq(b.iface, "eth9bound");
	ck_assert_ptr_nonnull(strstr(msg, "the target closed the connection"));

	/* an iface without a binding needs no binder */
	iface_rec_init(&ifr, "default");
	o.binder = NULL;
	ck_assert_int_eq(discover_sendtargets(&o, &res, msg, sizeof(msg)), ISCSI_ERR_TRANS);
	ck_assert_ptr_nonnull(strstr(msg, "the target closed the connection"));
	kill(l, SIGKILL);
	waitpid(l, NULL, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("discover");
	TCase *tc = tcase_create("discover");

	tcase_add_test(tc, test_replayed_tgtd);
	tcase_add_test(tc, test_target_hangs_up);
	tcase_add_test(tc, test_connect_failures);
	tcase_add_test(tc, test_tcp_binding);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
