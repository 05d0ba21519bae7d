/* iscsid/kconn.c's connection set-up for kernel sessions, against the
 * scripted kernel (fake_kernel.c) and TCP listeners on loopback:
 *
 *   - the socket is bound as the iface says (kmod-glue/bind.c): by MAC
 *     address (looked up in the fake sysfs' class/net), device, source
 *     address; a MAC no device has fails the login with a clear error;
 *   - host names (portals, redirections) are looked up off the loop: with
 *     a name service that never answers, another login completes
 *     meanwhile and the blocked one fails at its timeout saying why.
 *
 * The program runs in its own mount and network namespaces (root only,
 * else SKIP): /etc/nsswitch.conf says "files dns", /etc/hosts names
 * target.example, /etc/resolv.conf points at a UDP socket on 127.0.0.1
 * that reads nothing -- the real getaddrinfo() blocks there. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "errors.h"
#include "fake_kernel.h"
#include "fake_sysfs.h"
#include "iscsid.h"
#include "ksession.h"
#include "log.h"
#include "loop.h"
#include "nl.h"
#include "session.h"

#define LO_MAC "02:00:5e:10:00:01"

static struct loop *lp;
static struct iscsid d;
static struct kctx *kc;
static int lfd = -1;
static int port;

struct answer {
	bool done;
	struct transport_result res;
	uint64_t at;
};

static void on_done(void *data, const struct transport_result *res)
{
	struct answer *a = data;
	a->done = true;
	a->res = *res;
	a->res.devices = NULL;
	a->res.stats = NULL;
	a->at = loop_now_ms();
}

static struct answer *cur;
static struct loop_timer poll_t, dl_t;

static void on_poll(struct loop *l, void *data)
{
	if (cur->done)
		loop_exit(l, 0);
	else
		loop_timer_arm(l, &poll_t, 5);
}

static void on_deadline(struct loop *l, void *data)
{
	loop_exit(l, 1);
}

static bool wait_answer(struct answer *a, unsigned ms)
{
	cur = a;
	loop_timer_init(&poll_t, on_poll, NULL);
	loop_timer_init(&dl_t, on_deadline, NULL);
	loop_timer_arm(lp, &poll_t, 0);
	loop_timer_arm(lp, &dl_t, ms);
	int r = loop_run(lp);
	loop_timer_disarm(lp, &poll_t);
	loop_timer_disarm(lp, &dl_t);
	return r == 0;
}

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

/* The source address of the connection waiting on fd ("" when none). */
static void peer_of(int fd, char *buf, size_t len)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int c = accept4(fd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
	buf[0] = '\0';
	if (c < 0)
		return;
	inet_ntop(AF_INET, &sa.sin_addr, buf, (socklen_t)len);
	close(c);
}

static void setup(void)
{
	memset(&fk, 0, sizeof(fk));
	fk.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ck_assert_int_ge(fk.efd, 0);
	fk.next_sid = 1;
	fk.next_host = 3;
	fk.statsn = 100;
	fk.sysfs = fake_sysfs_new();
	fake_add_transport(fk.sysfs, "tcp", "1", "0x39");
	/* the loopback device, with an address the iface can name */
	fake_write(fk.sysfs, "devices/virtual/net/lo/address", LO_MAC "\n");
	fake_symlink(fk.sysfs, "class/net/lo", "../../devices/virtual/net/lo");
	lfd = listener(&port);

	memset(&d, 0, sizeof(d));
	config_init(&d.config);
	snprintf(d.iname.name, sizeof(d.iname.name), "iqn.2005-03.org.example:initiator");
	d.have_iname = true;
	ck_assert_int_eq(paths_init(&d.paths, fk.sysfs), 0);
	ck_assert_int_eq(loop_new(&lp), 0);
	d.loop = lp;
	log_init(true, 0);

	struct nl_iscsi_io io = { .fd = fk.efd, .send = fk_send, .recv = fk_recv };
	struct nl_iscsi *nl;
	ck_assert_int_eq(nl_iscsi_open_io(&io, &nl), 0);
	nl_iscsi_set_handle(nl, 1);
	/* the session layer with the kernel carrier, started as iscsid does */
	struct carrier_kernel_config kcfg = {
		.sysfs_root = fk.sysfs, .modprobe = "", .daemon = &d, .devdir = fk.sysfs, .nl = nl,
		.proc_netlink = "/nonexistent",
	};
	struct carrier *car;
	struct answer a;
	ck_assert_int_eq(session_layer_new(lp, &d.sessions), 0);
	ck_assert_int_eq(carrier_kernel_new(lp, &kcfg, &car), 0);
	ck_assert_int_eq(session_layer_add_carrier(d.sessions, car), 0);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(session_adopt_all(d.sessions, on_done, &a), 0);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_int_eq(a.res.status, 0);
	kc = carrier_kernel_kctx(car);
	ck_assert_ptr_nonnull(kc);
}

static void teardown(void)
{
	session_layer_free(d.sessions);
	kc = NULL;
	loop_free(lp);
	close(lfd);
	while (fk.head < fk.tail)
		free(fk.q[fk.head++]);
	close(fk.efd);
	fake_sysfs_free(fk.sysfs);
}

static void make_rec(struct node_rec *r, const char *target, const char *host, int p)
{
	node_rec_init(r);
	snprintf(r->name, sizeof(r->name), "%s", target);
	snprintf(r->conn.address, sizeof(r->conn.address), "%s", host);
	r->conn.port = p;
	r->tpgt = 1;
	r->conn.login_timeout = 3;
	r->session.initial_login_retry_max = 1;
	r->session.scan = REC_SCAN_MANUAL;
}

static void start_login(struct node_rec *rec, struct answer *a)
{
	struct transport_login tl = { .rec = rec };
	memset(a, 0, sizeof(*a));
	ck_assert_int_eq(session_login(d.sessions, &tl, on_done, a), 0);
}

/* The device the session's socket was bound to when the kernel took it
 * (iscsid keeps no descriptor after BIND_CONN). */
static void bound_dev(uint32_t sid, char *buf, size_t len)
{
	struct ksession *ks = kctx_find(kc, sid);
	ck_assert_ptr_nonnull(ks);
	ck_assert_int_lt(ks->fd, 0);
	ck_assert_uint_ge(count(ISCSI_UEVENT_BIND_CONN), 1);
	snprintf(buf, len, "%s", fk.bound_dev);
}

/* ---- iface binding ---- */

START_TEST(test_iface_hwaddress)
{
	struct node_rec rec;
	struct answer a;
	char dev[IFNAMSIZ];

	make_rec(&rec, "iqn.2003-01.org.example:bymac", "127.0.0.1", port);
	snprintf(rec.iface.name, sizeof(rec.iface.name), "bymac");
	snprintf(rec.iface.hwaddress, sizeof(rec.iface.hwaddress), "%s", LO_MAC);
	start_login(&rec, &a);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_msg(a.res.status == 0, "login: %d %s", a.res.status, a.res.message);
	bound_dev(a.res.sid, dev, sizeof(dev));
	ck_assert_str_eq(dev, "lo");
}
END_TEST

START_TEST(test_iface_unknown_hwaddress)
{
	struct node_rec rec;
	struct answer a;

	make_rec(&rec, "iqn.2003-01.org.example:nomac", "127.0.0.1", port);
	snprintf(rec.iface.name, sizeof(rec.iface.name), "nomac");
	snprintf(rec.iface.hwaddress, sizeof(rec.iface.hwaddress), "02:00:5e:00:53:99");
	start_login(&rec, &a);
	ck_assert(wait_answer(&a, 10000));
	ck_assert_int_eq(a.res.status, ISCSI_ERR_TRANS);
	ck_assert_str_eq(a.res.message, "iface nomac: no network interface has hardware address 02:00:5e:00:53:99");
	ck_assert_uint_eq(count(ISCSI_UEVENT_CREATE_SESSION), 0);   /* nothing half-made */
}
END_TEST

START_TEST(test_iface_device_and_address)
{
	struct node_rec rec;
	struct answer a;
	char dev[IFNAMSIZ], peer[INET_ADDRSTRLEN];

	make_rec(&rec, "iqn.2003-01.org.example:byaddr", "127.0.0.1", port);
	snprintf(rec.iface.name, sizeof(rec.iface.name), "byaddr");
	snprintf(rec.iface.netdev, sizeof(rec.iface.netdev), "lo");
	snprintf(rec.iface.ipaddress, sizeof(rec.iface.ipaddress), "127.0.0.2");
	start_login(&rec, &a);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_msg(a.res.status == 0, "login: %d %s", a.res.status, a.res.message);
	bound_dev(a.res.sid, dev, sizeof(dev));
	ck_assert_str_eq(dev, "lo");
	peer_of(lfd, peer, sizeof(peer));
	ck_assert_str_eq(peer, "127.0.0.2");

	/* an address of the other family: the iface is wrong, never retried */
	make_rec(&rec, "iqn.2003-01.org.example:v6", "127.0.0.1", port);
	snprintf(rec.iface.name, sizeof(rec.iface.name), "v6");
	snprintf(rec.iface.ipaddress, sizeof(rec.iface.ipaddress), "::1");
	rec.session.initial_login_retry_max = 4;
	start_login(&rec, &a);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_int_eq(a.res.status, ISCSI_ERR_INVAL);
	ck_assert_str_eq(a.res.message, "iface v6: local address ::1 is not an IPv4 address like the portal's");
}
END_TEST

/* ---- host names ---- */

START_TEST(test_name_resolved_off_the_loop)
{
	struct node_rec rec;
	struct answer a;

	make_rec(&rec, "iqn.2003-01.org.example:named", "target.example", port);
	start_login(&rec, &a);
	ck_assert(wait_answer(&a, 5000));
	ck_assert_msg(a.res.status == 0, "login: %d %s", a.res.status, a.res.message);
}
END_TEST

START_TEST(test_blocked_lookup_blocks_nothing_else)
{
	struct node_rec slow, fast;
	struct answer a, b;

	make_rec(&slow, "iqn.2003-01.org.example:slow", "slow.example", port);
	slow.session.initial_login_retry_max = 0;      /* one attempt */
	start_login(&slow, &a);
	uint64_t t0 = loop_now_ms();
	make_rec(&fast, "iqn.2003-01.org.example:fast", "127.0.0.1", port);
	start_login(&fast, &b);
	ck_assert(wait_answer(&b, 10000));
	ck_assert_msg(b.res.status == 0, "login: %d %s", b.res.status, b.res.message);
	ck_assert_msg(b.at - t0 < 1000, "a login waited %llu ms behind a name lookup",
		      (unsigned long long)(b.at - t0));
	ck_assert(!a.done);
	ck_assert(wait_answer(&a, 10000));
	ck_assert_int_eq(a.res.status, ISCSI_ERR_TRANS);
	ck_assert_str_eq(a.res.message, "cannot resolve slow.example: no answer from the name service within 2.5 s");
	ck_assert_uint_lt(a.at - t0, 4000);
}
END_TEST

/* A target redirects to a name: the lookup does not stop the loop. */
START_TEST(test_redirect_to_a_name)
{
	struct node_rec rec, fast;
	struct answer a, b;

	fk.redirect_host = "slow.example";
	fk.redirect_port = port;
	make_rec(&rec, "iqn.2003-01.org.example:redirected", "127.0.0.1", port);
	start_login(&rec, &a);
	uint64_t t0 = loop_now_ms();
	/* let the redirection happen, then another login */
	while (fk.redirect_port && loop_now_ms() - t0 < 3000) {
		struct answer none = { 0 };
		cur = &none;
		wait_answer(&none, 20);
	}
	ck_assert_int_eq(fk.redirect_port, 0);
	make_rec(&fast, "iqn.2003-01.org.example:fast2", "127.0.0.1", port);
	uint64_t t1 = loop_now_ms();
	start_login(&fast, &b);
	ck_assert(wait_answer(&b, 10000));
	ck_assert_msg(b.res.status == 0, "login: %d %s", b.res.status, b.res.message);
	ck_assert_msg(b.at - t1 < 1000, "a login waited %llu ms behind a redirection's lookup",
		      (unsigned long long)(b.at - t1));
	/* the lookup fails at its timeout; a temporary redirection falls
	 * back to the record's portal (RFC 7143 §11.13.5), which logs in */
	ck_assert(wait_answer(&a, 15000));
	ck_assert_msg(a.res.status == 0, "login: %d %s", a.res.status, a.res.message);
	ck_assert_uint_ge(a.at - t0, 2500);
	fk.redirect_host = NULL;
}
END_TEST

/* ---- the namespaces ---- */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int bind_file(const char *dir, const char *name, const char *text, const char *over)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (write_file(path, text) < 0)
		return -1;
	return mount(path, over, NULL, MS_BIND, NULL);
}

/* Own namespaces with a name service that never answers. 0, or -1 with
 * why on stdout. */
static int private_world(char *dir)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWNET) < 0) {
		printf("SKIP: cannot make namespaces (%s); needs root\n", strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		printf("SKIP: mount --make-rprivate /: %s\n", strerror(errno));
		return -1;
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = { .ifr_name = "lo" };
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return -1;
	/* the "name server": takes queries, never answers (kept open) */
	struct sockaddr_in ns = { .sin_family = AF_INET, .sin_port = htons(53),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	if (bind(s, (struct sockaddr *)&ns, sizeof(ns)) < 0)
		return -1;
	if (!mkdtemp(dir))
		return -1;
	if (bind_file(dir, "nsswitch.conf", "hosts: files dns\n", "/etc/nsswitch.conf") < 0 ||
	    bind_file(dir, "hosts", "127.0.0.1 localhost\n127.0.0.1 target.example\n", "/etc/hosts") < 0 ||
	    bind_file(dir, "resolv.conf", "nameserver 127.0.0.1\noptions timeout:5 attempts:2\n",
		      "/etc/resolv.conf") < 0) {
		printf("SKIP: cannot bind-mount files over /etc: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

int main(void)
{
	char dir[] = "/tmp/test_kconn.XXXXXX";
	if (private_world(dir) < 0)
		return 77;
	Suite *s = suite_create("kconn");
	TCase *tc = tcase_create("kconn");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_iface_hwaddress);
	tcase_add_test(tc, test_iface_unknown_hwaddress);
	tcase_add_test(tc, test_iface_device_and_address);
	tcase_add_test(tc, test_name_resolved_off_the_loop);
	tcase_add_test(tc, test_blocked_lookup_blocks_nothing_else);
	tcase_add_test(tc, test_redirect_to_a_name);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		failed++;
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
