/* kmod-glue/ibft.c: the iBFT as iscsi_ibft shows it, read from trees
 * built here the way the kernel lays them out (attribute names and value
 * formats of drivers/firmware/iscsi_ibft.c and iscsi_boot_sysfs.c), and
 * from hostile ones: values too long, missing, not numbers, not UTF-8,
 * FIFOs, unreadable files. A bad table is a clear diagnostic, never a
 * crash or a hang, and never shows a secret. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake_sysfs.h"
#include "ibft.h"

#define SECRET "s3cr3t-Pa55word"
#define RSECRET "r3v-s3cr3t-word"
#define INAME "iqn.1994-05.com.example:boot-client"
#define TNAME "iqn.2003-01.org.linux-iscsi.target:root"

static char *root;

static void attr(const char *entry, const char *name, const char *value)
{
	char rel[512];

	snprintf(rel, sizeof(rel), "firmware/ibft/%s/%s", entry, name);
	fake_write(root, rel, value);
}

static void rm_attr(const char *entry, const char *name)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/firmware/ibft/%s/%s", root, entry, name);
	ck_assert_int_eq(unlink(p), 0);
}

/* What a firmware with one NIC and one CHAP target makes the kernel
 * show: values end in a newline, except subnet-mask (the kernel prints
 * it without one). */
static void add_table(void)
{
	attr("initiator", "index", "0\n");
	attr("initiator", "flags", "3\n");
	attr("initiator", "initiator-name", INAME "\n");
	attr("ethernet0", "index", "0\n");
	attr("ethernet0", "flags", "3\n");
	attr("ethernet0", "ip-addr", "192.0.2.15\n");
	attr("ethernet0", "prefix-len", "24\n");
	attr("ethernet0", "subnet-mask", "255.255.255.0");
	attr("ethernet0", "origin", "1\n");
	attr("ethernet0", "gateway", "192.0.2.1\n");
	attr("ethernet0", "primary-dns", "192.0.2.53\n");
	attr("ethernet0", "vlan", "0\n");
	attr("ethernet0", "mac", "52:54:00:12:34:56\n");
	attr("target0", "index", "0\n");
	attr("target0", "flags", "3\n");
	attr("target0", "ip-addr", "192.0.2.2\n");
	attr("target0", "port", "3260\n");
	attr("target0", "lun", "00000000\n");
	attr("target0", "chap-type", "2\n");
	attr("target0", "nic-assoc", "0\n");
	attr("target0", "target-name", TNAME "\n");
	attr("target0", "chap-name", "bootuser\n");
	attr("target0", "chap-secret", SECRET "\n");
	attr("target0", "rev-chap-name", "tgtuser\n");
	attr("target0", "rev-chap-name-secret", RSECRET "\n");
	fake_write(root, "firmware/ibft/acpi_header/signature", "iBFT\n");
	/* the NIC with that MAC */
	fake_write(root, "devices/virtual/net/eth7/address", "52:54:00:12:34:56\n");
	fake_symlink(root, "class/net/eth7", "../../devices/virtual/net/eth7");
}

static void setup(void)
{
	root = fake_sysfs_new();
	add_table();
}

static void teardown(void)
{
	fake_sysfs_free(root);
	root = NULL;
}

static char *print_target(const struct ibft *t, size_t i, bool secrets)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ibft_target_fprint(t, i, secrets, f), 0);
	fclose(f);
	return buf;
}

/* Every diagnostic as one text, to look for words (and for secrets). */
static char *diag_text(const struct rec_diags *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	for (size_t i = 0; i < d->n; i++) {
		char line[PATH_MAX + 300];
		rec_diag_format(&d->v[i], line, sizeof(line));
		fprintf(f, "%s %s\n", d->v[i].level == REC_DIAG_ERROR ? "E" : "W", line);
	}
	fclose(f);
	return buf;
}

static size_t read_table(struct ibft *t, char **ret_diags)
{
	struct rec_diags d;

	rec_diags_init(&d);
	ck_assert_int_eq(ibft_read(root, t, &d), 0);
	*ret_diags = diag_text(&d);
	rec_diags_free(&d);
	ck_assert(strstr(*ret_diags, SECRET) == NULL);
	ck_assert(strstr(*ret_diags, RSECRET) == NULL);
	return t->n_targets;
}

START_TEST(test_kernel_layout)
{
	struct ibft t;
	char *dg;

	ck_assert_uint_eq(read_table(&t, &dg), 1);
	ck_assert_str_eq(dg, "");
	ck_assert_str_eq(t.initiator_name, INAME);
	ck_assert_uint_eq(t.n_nics, 1);
	ck_assert_str_eq(t.nics[0].netdev, "eth7");
	ck_assert_int_eq(t.nics[0].prefix_len, 24);
	ck_assert_int_eq(t.targets[0].port, 3260);
	ck_assert_str_eq(t.targets[0].chap_secret, SECRET);

	/* open-iscsi's fw_print_entry() order and spelling */
	char *out = print_target(&t, 0, false);
	ck_assert_str_eq(out, "# BEGIN RECORD 2.1.8\n"
			      "iface.initiatorname = " INAME "\n"
			      "iface.transport_name = tcp\n"
			      "iface.hwaddress = 52:54:00:12:34:56\n"
			      "iface.bootproto = STATIC\n"
			      "iface.ipaddress = 192.0.2.15\n"
			      "iface.prefix_len = 24\n"
			      "iface.subnet_mask = 255.255.255.0\n"
			      "iface.gateway = 192.0.2.1\n"
			      "iface.primary_dns = 192.0.2.53\n"
			      "iface.vlan_id = 0\n"
			      "iface.net_ifacename = eth7\n"
			      "node.name = " TNAME "\n"
			      "node.conn[0].address = 192.0.2.2\n"
			      "node.conn[0].port = 3260\n"
			      "node.session.auth.username = bootuser\n"
			      "node.session.auth.password = ********\n"
			      "node.session.auth.username_in = tgtuser\n"
			      "node.session.auth.password_in = ********\n"
			      "node.boot_lun = 00000000\n"
			      "# END RECORD\n");
	free(out);
	out = print_target(&t, 0, true);
	ck_assert(strstr(out, "node.session.auth.password = " SECRET "\n") != NULL);
	ck_assert(strstr(out, "node.session.auth.password_in = " RSECRET "\n") != NULL);
	free(out);
	ibft_free(&t);
	ibft_free(&t);              /* twice, and zeroed: fine */
	free(dg);
}
END_TEST

/* DHCP, IPv6, no CHAP, a second NIC through its PCI device link, a
 * second target on it, entries listed in index order. */
START_TEST(test_two_targets_dhcp_ipv6)
{
	struct ibft t;
	char *dg;

	attr("ethernet1", "index", "1\n");
	attr("ethernet1", "flags", "1\n");
	attr("ethernet1", "ip-addr", "2001:db8::15\n");
	attr("ethernet1", "prefix-len", "64\n");
	attr("ethernet1", "origin", "3\n");
	attr("ethernet1", "mac", "52:54:00:AB:CD:EF\n");
	fake_mkdir(root, "devices/pci0000:00/0000:00:03.0/net/ens3");
	fake_symlink(root, "firmware/ibft/ethernet1/device", "../../../devices/pci0000:00/0000:00:03.0");
	attr("target1", "index", "1\n");
	attr("target1", "flags", "1\n");
	attr("target1", "ip-addr", "2001:db8::2\n");
	attr("target1", "port", "0\n");              /* none: 3260 */
	attr("target1", "nic-assoc", "1\n");
	attr("target1", "target-name", "iqn.2003-01.org.example:data\n");
	ck_assert_uint_eq(read_table(&t, &dg), 2);
	ck_assert_str_eq(t.targets[0].name, TNAME);
	ck_assert_str_eq(t.targets[1].name, "iqn.2003-01.org.example:data");
	ck_assert_uint_eq(t.targets[1].nic, 1);
	ck_assert_str_eq(t.nics[1].netdev, "ens3");
	ck_assert_str_eq(t.nics[1].mac, "52:54:00:ab:cd:ef");
	char *out = print_target(&t, 1, false);
	ck_assert_str_eq(out, "# BEGIN RECORD 2.1.8\n"
			      "iface.initiatorname = " INAME "\n"
			      "iface.transport_name = tcp\n"
			      "iface.hwaddress = 52:54:00:ab:cd:ef\n"
			      "iface.bootproto = DHCP\n"
			      "iface.ipaddress = 2001:db8::15\n"
			      "iface.prefix_len = 64\n"
			      "iface.net_ifacename = ens3\n"
			      "node.name = iqn.2003-01.org.example:data\n"
			      "node.conn[0].address = 2001:db8::2\n"
			      "node.conn[0].port = 3260\n"
			      "# END RECORD\n");
	free(out);
	ibft_free(&t);
	free(dg);
}
END_TEST

START_TEST(test_no_table)
{
	struct ibft t;
	char *empty = fake_sysfs_new();

	ck_assert_int_eq(ibft_read(empty, &t, NULL), -ENOENT);
	ck_assert_uint_eq(t.n_targets, 0);
	fake_write(empty, "firmware/ibft", "a file, not a directory\n");
	ck_assert_int_eq(ibft_read(empty, &t, NULL), -ENOENT);
	fake_sysfs_free(empty);
	/* a table without its initiator entry: nothing, and why */
	empty = fake_sysfs_new();
	fake_write(empty, "firmware/ibft/target0/flags", "3\n");
	struct rec_diags d;
	rec_diags_init(&d);
	ck_assert_int_eq(ibft_read(empty, &t, &d), 0);
	ck_assert_uint_eq(t.n_targets, 0);
	ck_assert_uint_eq(rec_diags_count(&d, REC_DIAG_ERROR), 1);
	ck_assert(strstr(d.v[0].msg, "no initiator entry") != NULL);
	rec_diags_free(&d);
	ibft_free(&t);
	fake_sysfs_free(empty);
}
END_TEST

START_TEST(test_invalid_entries_left_out)
{
	struct ibft t;
	char *dg;

	/* target1: flags 0 (an empty slot); target2: its NIC is missing;
	 * target3 on ethernet3, whose flags are 0 */
	attr("target1", "index", "1\n");
	attr("target1", "flags", "0\n");
	attr("target2", "index", "2\n");
	attr("target2", "flags", "3\n");
	attr("target2", "ip-addr", "192.0.2.3\n");
	attr("target2", "nic-assoc", "9\n");
	attr("target2", "target-name", "iqn.2003-01.org.example:t2\n");
	attr("ethernet3", "index", "3\n");
	attr("ethernet3", "flags", "0\n");
	attr("ethernet3", "mac", "52:54:00:00:00:03\n");
	attr("target3", "index", "3\n");
	attr("target3", "flags", "3\n");
	attr("target3", "ip-addr", "192.0.2.4\n");
	attr("target3", "nic-assoc", "3\n");
	attr("target3", "target-name", "iqn.2003-01.org.example:t3\n");
	ck_assert_uint_eq(read_table(&t, &dg), 1);
	ck_assert_str_eq(t.targets[0].name, TNAME);
	ck_assert(strstr(dg, "W ") && strstr(dg, "target1: warning: flags 0"));
	ck_assert(strstr(dg, "target2: error: nic-assoc 9 names no valid NIC entry"));
	ck_assert(strstr(dg, "ethernet3: warning: flags 0"));
	ck_assert(strstr(dg, "target3: error: nic-assoc 3"));
	ibft_free(&t);
	free(dg);
}
END_TEST

/* Each hostile value, alone, on the one target of the table: the target
 * is left out (required or CHAP values) or the value dropped (optional
 * ones), and the diagnostic names the attribute. */
START_TEST(test_hostile_values)
{
	static char big[6000];
	static const struct {
		const char *entry, *attr, *value;
		size_t targets;         /* 0: the target goes, 1: it stays */
		const char *says;
	} cases[] = {
		{ "target0", "target-name", big, 0, "target-name: error: value too long" },
		{ "target0", "target-name", "iqn.2003-01.org.example:\xff\xfe\n", 0, "target-name: error: " },
		{ "target0", "target-name", "", 0, "target-name: error: " },
		{ "target0", "ip-addr", "192.0.2.300\n", 0, "ip-addr: error: not an IPv4 or IPv6 address" },
		{ "target0", "ip-addr", "host.example.org\n", 0, "ip-addr: error: not an IPv4" },
		{ "target0", "port", "32x60\n", 0, "port: error: not a number from 0 to 65535" },
		{ "target0", "port", "-1\n", 0, "port: error: not a number" },
		{ "target0", "port", "99999999999999999999\n", 0, "port: error: not a number" },
		{ "target0", "port", "65536\n", 0, "port: error: not a number" },
		{ "target0", "nic-assoc", "256\n", 0, "nic-assoc: error: not a number from 0 to 255" },
		{ "target0", "flags", " 3\n", 0, "flags: error: not a number" },
		{ "target0", "index", "\n", 0, "index: error: not a number" },
		{ "target0", "chap-name", "user\x01name\n", 0, "chap-name: error: not printable UTF-8" },
		{ "target0", "chap-secret", "pa\xc0\xafss\n", 0, "chap-secret: error: not printable UTF-8" },
		{ "target0", "chap-secret", big, 0, "chap-secret: error: value too long" },
		{ "target0", "rev-chap-name-secret", "\xed\xa0\x80surrogate\n", 0, "rev-chap-name-secret: error: not printable" },
		{ "target0", "lun", "0000zz00\n", 1, "lun: error: not hexadecimal; ignored" },
		{ "target0", "lun", "00000000000000000\n", 1, "lun: error: value too long; ignored" },
		{ "ethernet0", "mac", "52:54:00:12:34\n", 0, "mac: error: not a MAC address" },
		{ "ethernet0", "flags", "three\n", 0, "ethernet0/flags: error: not a number" },
		{ "ethernet0", "gateway", "192.0.2.1 ; reboot\n", 1, "gateway: error: not an IPv4 or IPv6 address; ignored" },
		{ "ethernet0", "prefix-len", "129\n", 1, "prefix-len: error: not a number from 0 to 128; ignored" },
		{ "ethernet0", "hostname", "host\nname\n", 1, "hostname: error: not printable UTF-8 text; ignored" },
		{ "initiator", "initiator-name", "iqn.bad name\n", 1, "initiator-name: error: " },
	};

	memset(big, 'a', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ibft t;
		char *dg;

		teardown();
		setup();
		attr(cases[i].entry, cases[i].attr, cases[i].value);
		ck_assert_msg(read_table(&t, &dg) == cases[i].targets, "case %zu (%s/%s): %zu targets", i,
			      cases[i].entry, cases[i].attr, t.n_targets);
		ck_assert_msg(strstr(dg, cases[i].says) != NULL, "case %zu: diagnostics:\n%s", i, dg);
		ck_assert_msg(strstr(dg, "E ") == dg || strstr(dg, "\nE ") != NULL, "case %zu: not an error", i);
		if (cases[i].targets) {
			/* what is printed stays printable */
			char *out = print_target(&t, 0, true);
			for (const char *p = out; *p; p++)
				ck_assert(*p == '\n' || ((unsigned char)*p >= ' ' && *p != 0x7f));
			free(out);
		}
		ibft_free(&t);
		free(dg);
	}
}
END_TEST

START_TEST(test_missing_files)
{
	static const struct {
		const char *entry, *attr;
		size_t targets;
	} cases[] = {
		{ "target0", "target-name", 0 }, { "target0", "ip-addr", 0 }, { "target0", "nic-assoc", 0 },
		{ "target0", "flags", 0 },       { "ethernet0", "mac", 0 },   { "ethernet0", "index", 0 },
		{ "target0", "port", 1 },        { "target0", "lun", 1 },     { "target0", "chap-secret", 1 },
		{ "ethernet0", "ip-addr", 1 },   { "initiator", "initiator-name", 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ibft t;
		char *dg;

		teardown();
		setup();
		rm_attr(cases[i].entry, cases[i].attr);
		ck_assert_msg(read_table(&t, &dg) == cases[i].targets, "case %zu: %s/%s", i, cases[i].entry,
			      cases[i].attr);
		if (!cases[i].targets)
			ck_assert_msg(strstr(dg, ": error: missing; the entry is left out") != NULL, "case %zu:\n%s", i, dg);
		else
			ck_assert_msg(strstr(dg, cases[i].attr) == NULL, "case %zu:\n%s", i, dg);
		if (cases[i].targets && !strcmp(cases[i].attr, "port"))
			ck_assert_int_eq(t.targets[0].port, 3260);
		ibft_free(&t);
		free(dg);
	}
}
END_TEST

/* Things no kernel makes: a FIFO (would block a plain read), a directory
 * where a value belongs, junk entry names, an index past one byte, a
 * NUL byte in a value, a symlink loop where the NIC's device is. */
START_TEST(test_hostile_tree)
{
	struct ibft t;
	char p[PATH_MAX], *dg;

	snprintf(p, sizeof(p), "%s/firmware/ibft/target0/port", root);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mkfifo(p, 0600), 0);
	snprintf(p, sizeof(p), "%s/firmware/ibft/ethernet0/gateway", root);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	fake_mkdir(root, "firmware/ibft/target");
	fake_mkdir(root, "firmware/ibft/targetX");
	fake_mkdir(root, "firmware/ibft/target256");
	fake_mkdir(root, "firmware/ibft/ethernet4294967296");
	fake_write(root, "firmware/ibft/target7", "not a directory\n");
	fake_symlink(root, "firmware/ibft/ethernet0/device", "device");
	ck_assert_uint_eq(read_table(&t, &dg), 0);
	ck_assert_msg(strstr(dg, "target0/port: error: not a regular file; the entry is left out") != NULL, "%s", dg);
	ck_assert_msg(strstr(dg, "ethernet0/gateway: error: not a regular file; ignored") != NULL, "%s", dg);
	ck_assert_msg(strstr(dg, "target256: error: index past 255") != NULL, "%s", dg);
	ibft_free(&t);
	free(dg);

	/* an embedded NUL ends the value; what follows is not read */
	teardown();
	setup();
	fake_write(root, "firmware/ibft/target0/ip-addr", "192.0.2.2");
	snprintf(p, sizeof(p), "%s/firmware/ibft/target0/target-name", root);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(TNAME "\0; echo pwned\n", 1, sizeof(TNAME "\0; echo pwned\n") - 1, f);
	fclose(f);
	ck_assert_uint_eq(read_table(&t, &dg), 1);
	ck_assert_str_eq(t.targets[0].name, TNAME);
	ibft_free(&t);
	free(dg);
}
END_TEST

/* Reading the table needs CAP_SYS_ADMIN (iscsi_boot_sysfs): without it
 * every read is EACCES, and that is the answer, not "no targets". */
START_TEST(test_unreadable)
{
	char p[PATH_MAX];
	int status;

	snprintf(p, sizeof(p), "%s/firmware/ibft/target0/target-name", root);
	ck_assert_int_eq(chmod(p, 0), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ibft t;
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(10);
		_exit(ibft_read(root, &t, NULL) == -EACCES ? 0 : 11);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_netdev)
{
	struct ibft t;
	char *dg;

	/* no device with that MAC: the entry stays, without a device */
	teardown();
	setup();
	fake_write(root, "devices/virtual/net/eth7/address", "52:54:00:99:99:99\n");
	ck_assert_uint_eq(read_table(&t, &dg), 1);
	ck_assert_str_eq(t.nics[0].netdev, "");
	ck_assert(strstr(dg, "warning: no network device has its MAC address 52:54:00:12:34:56"));
	char *out = print_target(&t, 0, false);
	ck_assert(strstr(out, "iface.net_ifacename") == NULL);
	free(out);
	ibft_free(&t);
	free(dg);
	/* the older net:<name> link */
	fake_mkdir(root, "devices/pci0000:00/0000:00:04.0/net:eth3");
	fake_symlink(root, "firmware/ibft/ethernet0/device", "../../../devices/pci0000:00/0000:00:04.0");
	ck_assert_uint_eq(read_table(&t, &dg), 1);
	ck_assert_str_eq(t.nics[0].netdev, "eth3");
	ibft_free(&t);
	free(dg);
}
END_TEST

START_TEST(test_login_record)
{
	struct ibft t;
	struct node_rec tmpl, rec;
	char err[256], *dg;

	ck_assert_uint_eq(read_table(&t, &dg), 1);
	node_rec_init(&tmpl);
	tmpl.startup = REC_STARTUP_AUTOMATIC;
	snprintf(tmpl.session.auth.username, sizeof(tmpl.session.auth.username), "conf-user");
	tmpl.session.replacement_timeout = 77;
	ck_assert_int_eq(ibft_target_rec(&t, 0, &tmpl, &rec, err, sizeof(err)), 0);
	ck_assert_str_eq(rec.name, TNAME);
	ck_assert_str_eq(rec.conn.address, "192.0.2.2");
	ck_assert_int_eq(rec.conn.port, 3260);
	ck_assert_int_eq(rec.tpgt, 1);
	ck_assert_str_eq(rec.iface.name, "default");
	ck_assert_str_eq(rec.iface.iname, INAME);
	ck_assert_int_eq(rec.startup, REC_STARTUP_ONBOOT);
	ck_assert_int_eq(rec.conn.startup, REC_STARTUP_ONBOOT);
	ck_assert_int_eq(rec.disc_type, REC_DISC_FW);
	ck_assert_int_eq(rec.session.replacement_timeout, 77);
	ck_assert_int_eq(rec.session.auth.authmethod, REC_AUTH_CHAP);
	ck_assert_str_eq(rec.session.auth.username, "bootuser");
	ck_assert_str_eq(rec.session.auth.password, SECRET);
	ck_assert_str_eq(rec.session.auth.username_in, "tgtuser");
	ck_assert_str_eq(rec.session.auth.password_in, RSECRET);
	ck_assert_int_eq(ibft_target_rec(&t, 1, &tmpl, &rec, err, sizeof(err)), -EINVAL);
	ibft_free(&t);
	free(dg);
	/* no CHAP in the firmware: none from iscsid.conf either */
	rm_attr("target0", "chap-name");
	rm_attr("target0", "chap-secret");
	rm_attr("target0", "rev-chap-name");
	rm_attr("target0", "rev-chap-name-secret");
	ck_assert_uint_eq(read_table(&t, &dg), 1);
	ck_assert_int_eq(ibft_target_rec(&t, 0, &tmpl, &rec, err, sizeof(err)), 0);
	ck_assert_int_eq(rec.session.auth.authmethod, REC_AUTH_NONE);
	ck_assert_str_eq(rec.session.auth.username, "");
	ibft_free(&t);
	free(dg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ibft");
	TCase *tc = tcase_create("ibft");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_kernel_layout);
	tcase_add_test(tc, test_two_targets_dhcp_ipv6);
	tcase_add_test(tc, test_no_table);
	tcase_add_test(tc, test_invalid_entries_left_out);
	tcase_add_test(tc, test_hostile_values);
	tcase_add_test(tc, test_missing_files);
	tcase_add_test(tc, test_hostile_tree);
	tcase_add_test(tc, test_unreadable);
	tcase_add_test(tc, test_netdev);
	tcase_add_test(tc, test_login_record);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
