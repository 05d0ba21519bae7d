/* kmod-glue/bind.c: iface binding of sockets. The MAC lookup reads a fake
 * /sys/class/net; the bindings themselves are made on real sockets and
 * read back (SO_BINDTODEVICE, getsockname) on the loopback device, the
 * only one a test can count on. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bind.h"
#include "errors.h"
#include "fake_sysfs.h"

static char *root;

static void add_netdev(const char *name, const char *address, const char *master)
{
	char rel[256], target[256];

	snprintf(rel, sizeof(rel), "devices/virtual/net/%s/address", name);
	fake_write(root, rel, address);
	snprintf(rel, sizeof(rel), "class/net/%s", name);
	snprintf(target, sizeof(target), "../../devices/virtual/net/%s", name);
	fake_symlink(root, rel, target);
	if (master) {
		snprintf(rel, sizeof(rel), "devices/virtual/net/%s/master", name);
		snprintf(target, sizeof(target), "../%s", master);
		fake_symlink(root, rel, target);
	}
}

static void setup(void)
{
	root = fake_sysfs_new();
	/* the real loopback device, given an address we can look for */
	add_netdev("lo", "02:00:5e:10:00:01\n", NULL);
	add_netdev("nosuch9", "52:54:00:12:34:56\n", NULL);
	/* a bond and its port share the address: the bond is meant */
	add_netdev("bond0", "52:54:00:aa:bb:cc\n", NULL);
	add_netdev("eth1", "52:54:00:aa:bb:cc\n", "bond0");
	/* a VLAN shares its parent's address: ambiguous */
	add_netdev("eth2", "52:54:00:de:ad:01\n", NULL);
	add_netdev("eth2.7", "52:54:00:de:ad:01\n", NULL);
	/* not an Ethernet address */
	add_netdev("ib0", "80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0f:5c:31\n", NULL);
}

static void teardown(void)
{
	fake_sysfs_free(root);
	root = NULL;
}

START_TEST(test_mac_lookup)
{
	char dev[IFNAMSIZ];

	ck_assert_int_eq(bind_netdev_by_mac(root, "52:54:00:12:34:56", dev, sizeof(dev)), 0);
	ck_assert_str_eq(dev, "nosuch9");
	ck_assert_int_eq(bind_netdev_by_mac(root, "52-54-00-12-34-56", dev, sizeof(dev)), 0);
	ck_assert_str_eq(dev, "nosuch9");
	ck_assert_int_eq(bind_netdev_by_mac(root, "52:54:00:AA:BB:CC", dev, sizeof(dev)), 0);
	ck_assert_str_eq(dev, "bond0");
	ck_assert_int_eq(bind_netdev_by_mac(root, "52:54:00:de:ad:01", dev, sizeof(dev)), -ENOTUNIQ);
	ck_assert_int_eq(bind_netdev_by_mac(root, "52:54:00:00:00:99", dev, sizeof(dev)), -ENODEV);
	ck_assert_int_eq(bind_netdev_by_mac(root, "52:54:00:12:34", dev, sizeof(dev)), -EINVAL);
	ck_assert_int_eq(bind_netdev_by_mac(root, "52:54:00:12:34:56:78", dev, sizeof(dev)), -EINVAL);
	ck_assert_int_eq(bind_netdev_by_mac(root, "52:54:00:12:34:5g", dev, sizeof(dev)), -EINVAL);
	ck_assert_int_eq(bind_netdev_by_mac(root, "52:54:00:12:34:56", dev, 4), -ENAMETOOLONG);
	/* no class/net at all */
	char *empty = fake_sysfs_new();
	ck_assert_int_eq(bind_netdev_by_mac(empty, "52:54:00:12:34:56", dev, sizeof(dev)), -ENODEV);
	fake_sysfs_free(empty);
}
END_TEST

static struct iface_rec iface(const char *netdev, const char *hw, const char *ip)
{
	struct iface_rec r;

	iface_rec_init(&r, "test0");
	snprintf(r.netdev, sizeof(r.netdev), "%s", netdev);
	snprintf(r.hwaddress, sizeof(r.hwaddress), "%s", hw);
	snprintf(r.ipaddress, sizeof(r.ipaddress), "%s", ip);
	return r;
}

static int tcp4(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	return s;
}

/* The device the socket is bound to, "" when none. */
static void bound_dev(int s, char *buf, size_t len)
{
	socklen_t sl = (socklen_t)len;

	buf[0] = '\0';
	ck_assert_int_eq(getsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, buf, &sl), 0);
	buf[sl < len ? sl : len - 1] = '\0';
}

START_TEST(test_nothing_to_bind)
{
	struct iface_rec r = iface("", "", "");
	char err[200] = "", dev[IFNAMSIZ];
	int s = tcp4();

	ck_assert(!bind_iface_wanted(NULL));
	ck_assert(!bind_iface_wanted(&r));
	ck_assert_int_eq(bind_iface(s, AF_INET, NULL, root, err, sizeof(err)), 0);
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), 0);
	r = iface("default", "default", "default");
	ck_assert(!bind_iface_wanted(&r));
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), 0);
	bound_dev(s, dev, sizeof(dev));
	ck_assert_str_eq(dev, "");
	ck_assert_str_eq(err, "");
	close(s);
}
END_TEST

START_TEST(test_bind_by_netdev_and_mac)
{
	struct iface_rec r = iface("lo", "", "");
	char err[200] = "", dev[IFNAMSIZ];
	int s = tcp4();

	ck_assert(bind_iface_wanted(&r));
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), 0);
	bound_dev(s, dev, sizeof(dev));
	ck_assert_str_eq(dev, "lo");
	close(s);

	/* by MAC: the device the fake sysfs gives that address */
	r = iface("", "02:00:5E:10:00:01", "");
	s = tcp4();
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), 0);
	bound_dev(s, dev, sizeof(dev));
	ck_assert_str_eq(dev, "lo");
	close(s);

	/* net_ifacename wins over hwaddress */
	r = iface("lo", "52:54:00:00:00:99", "");
	s = tcp4();
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), 0);
	bound_dev(s, dev, sizeof(dev));
	ck_assert_str_eq(dev, "lo");
	close(s);
}
END_TEST

START_TEST(test_bind_errors)
{
	struct iface_rec r = iface("nosuchdev0", "", "");
	char err[200];
	int s = tcp4();

	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), -ENODEV);
	ck_assert_str_eq(err, "iface test0: network interface nosuchdev0 does not exist");
	ck_assert_int_eq(bind_exit_code(-ENODEV), ISCSI_ERR_TRANS);
	ck_assert(!bind_error_fatal(-ENODEV));

	r = iface("", "52:54:00:00:00:99", "");
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), -ENODEV);
	ck_assert_str_eq(err, "iface test0: no network interface has hardware address 52:54:00:00:00:99");

	/* a MAC the fake sysfs has, on a device this host lacks */
	r = iface("", "52:54:00:12:34:56", "");
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), -ENODEV);
	ck_assert_str_eq(err, "iface test0: network interface nosuch9 does not exist");

	r = iface("", "52:54:00:de:ad:01", "");
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "several network interfaces have hardware address 52:54:00:de:ad:01"));
	ck_assert_int_eq(bind_exit_code(-EINVAL), ISCSI_ERR_INVAL);
	ck_assert(bind_error_fatal(-EINVAL));

	r = iface("", "52:54:00", "");
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "iface test0: invalid hardware address 52:54:00");

	r = iface("", "", "192.0.2.99");
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), -EADDRNOTAVAIL);
	ck_assert_ptr_nonnull(strstr(err, "iface test0: cannot use local address 192.0.2.99"));
	ck_assert_int_eq(bind_exit_code(-EADDRNOTAVAIL), ISCSI_ERR_TRANS);

	r = iface("", "", "::1");
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), -EAFNOSUPPORT);
	ck_assert_str_eq(err, "iface test0: local address ::1 is not an IPv4 address like the portal's");
	ck_assert_int_eq(bind_exit_code(-EAFNOSUPPORT), ISCSI_ERR_INVAL);

	r = iface("", "", "not-an-address");
	ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "iface test0: not-an-address is not an IP address");

	ck_assert_int_eq(bind_exit_code(-EPERM), ISCSI_ERR_ACCESS);
	ck_assert_int_eq(bind_exit_code(0), 0);
	close(s);
}
END_TEST

/* A source address, alone and with a device: the connection leaves from
 * it (what the listening side sees as the peer). */
START_TEST(test_bind_address_connects_from_it)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	char err[200], dev[IFNAMSIZ], ip[INET_ADDRSTRLEN];
	int l = tcp4();

	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sa, &sl), 0);

	const char *cases[][2] = { { "", "127.0.0.2" }, { "lo", "127.0.0.3" } };
	for (size_t i = 0; i < 2; i++) {
		struct iface_rec r = iface(cases[i][0], "", cases[i][1]);
		struct sockaddr_in peer;
		socklen_t pl = sizeof(peer);
		int s = tcp4();

		ck_assert_int_eq(bind_iface(s, AF_INET, &r, root, err, sizeof(err)), 0);
		bound_dev(s, dev, sizeof(dev));
		ck_assert_str_eq(dev, cases[i][0]);
		ck_assert_int_eq(connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		int a = accept(l, (struct sockaddr *)&peer, &pl);
		ck_assert_int_ge(a, 0);
		ck_assert_ptr_nonnull(inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip)));
		ck_assert_str_eq(ip, cases[i][1]);
		close(a);
		close(s);
	}
	close(l);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bind");
	TCase *tc = tcase_create("bind");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mac_lookup);
	tcase_add_test(tc, test_nothing_to_bind);
	tcase_add_test(tc, test_bind_by_netdev_and_mac);
	tcase_add_test(tc, test_bind_errors);
	tcase_add_test(tc, test_bind_address_connects_from_it);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
