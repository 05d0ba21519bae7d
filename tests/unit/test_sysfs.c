/* kmod-glue/sysfs.c and sysfs_dev.c against fake sysfs trees built with
 * the real layout's symlinks (reference/kernel-iscsi-abi.md §3). */
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
#include "sysfs.h"

static char *root;

static void rm(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	ck_assert_int_eq(unlink(p), 0);
}

/* Session 1 (host 3): logged in, connections 0 and 1, LUNs 0 (sdb),
 * 1 (no block device yet), 2 (transport-offline) and 10 (blocked).
 * Session 2 (host 4): FAILED, its connection without a socket.
 * Session 10 (host 12): FREE, no connections, odd or missing files.
 * A non-iSCSI disk 0:0:0:0, and junk names in the class directories. */
static void build_tree(const char *base)
{
	fake_add_transport(base, "tcp", "18446744072108347392\n", "0x39\n");
	fake_add_host(base, 3);
	fake_add_session(base, 3, 1, "LOGGED_IN\n");
	fake_add_conn(base, 3, 1, 0);
	fake_add_conn(base, 3, 1, 1);
	fake_add_lun(base, 3, 1, 0, "running\n", "sdb");
	fake_add_lun(base, 3, 1, 1, "running\n", NULL);
	fake_add_lun(base, 3, 1, 10, "blocked\n", "sdc");
	fake_add_lun(base, 3, 1, 2, "transport-offline\n", "sdd");

	fake_add_host(base, 4);
	fake_add_session(base, 4, 2, "FAILED\n");
	fake_add_conn(base, 4, 2, 0);
	fake_conn_attr(base, 2, 0, "state", "failed\n");

	fake_add_host(base, 12);
	fake_add_session(base, 12, 10, "FREE\n");
	fake_session_attr(base, 10, "targetname", "(null)\n");
	fake_session_attr(base, 10, "tpgt", "abc\n");
	fake_session_attr(base, 10, "recovery_tmo", "-1\n");
	fake_session_attr(base, 10, "target_id", "-1\n");
	fake_session_attr(base, 10, "username", "alice\n");
	fake_session_attr(base, 10, "password", "s3cret\n");

	fake_mkdir(base, "class/iscsi_session/sessionX");
	fake_mkdir(base, "class/iscsi_session/session");
	fake_mkdir(base, "class/iscsi_session/session-3");
	fake_mkdir(base, "class/iscsi_connection/connection10");
	fake_mkdir(base, "class/iscsi_connection/connection1:x");

	fake_write(base, "devices/pci0000:00/host0/target0:0:0/0:0:0:0/state", "running\n");
	fake_symlink(base, "bus/scsi/devices/0:0:0:0",
		     "../../../devices/pci0000:00/host0/target0:0:0/0:0:0:0");
}

static void setup(void)
{
	root = fake_sysfs_new();
	build_tree(root);
	rm("class/iscsi_session/session10/first_burst_len");
	rm("class/iscsi_connection/connection2:0/address");
}

static void teardown(void)
{
	fake_sysfs_free(root);
	root = NULL;
}

START_TEST(test_read_attr)
{
	char buf[16];
	char big[5000];

	ck_assert_int_eq(sysfs_read_attr(root, "class/iscsi_session/session1/state", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "LOGGED_IN");           /* newline stripped */
	ck_assert_int_eq(sysfs_read_attr(root, "class/iscsi_session/session1/username", buf, sizeof(buf)), -ENODATA);
	ck_assert_int_eq(sysfs_read_attr(root, "class/iscsi_session/session1/nope", buf, sizeof(buf)), -ENOENT);
	strcpy(buf, "keep");
	ck_assert_int_eq(sysfs_read_attr(root, "class/iscsi_session/session1/targetname", buf, 8), -EOVERFLOW);
	ck_assert_str_eq(buf, "keep");
	ck_assert_int_eq(sysfs_read_attr(root, "class/scsi_host/host3/scan", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	fake_write(root, "x/crlf", "up\r\n");
	ck_assert_int_eq(sysfs_read_attr(root, "x/crlf", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "up");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fake_write(root, "x/big", big);                 /* no attribute is > a page */
	ck_assert_int_eq(sysfs_read_attr(root, "x/big", big, sizeof(big)), -EOVERFLOW);
	ck_assert_int_eq(sysfs_read_attr(root, "x", buf, sizeof(buf)), -EISDIR);
	ck_assert_int_eq(sysfs_read_attr(root, "x/crlf", buf, 1), -EINVAL);
}
END_TEST

START_TEST(test_read_numbers)
{
	uint64_t u;
	uint32_t h;
	int v;

	fake_write(root, "n/off", "off\n");
	fake_write(root, "n/sp", " 12 \n");
	fake_write(root, "n/bad", "12abc\n");
	fake_write(root, "n/min", "-2147483648\n");
	fake_write(root, "n/hex", "0x39\n");
	fake_write(root, "n/hex2", "1f\n");
	fake_write(root, "n/hexbad", "0x\n");
	fake_write(root, "n/u64", "18446744073709551615\n");
	fake_write(root, "n/u64big", "18446744073709551616\n");
	ck_assert_int_eq(sysfs_read_int(root, "n/off", &v), 0);
	ck_assert_int_eq(v, -1);
	ck_assert_int_eq(sysfs_read_int(root, "n/sp", &v), 0);
	ck_assert_int_eq(v, 12);
	v = 77;
	ck_assert_int_eq(sysfs_read_int(root, "n/bad", &v), -EINVAL);
	ck_assert_int_eq(sysfs_read_int(root, "n/min", &v), -EINVAL);   /* reserved: SYSFS_UNSET */
	ck_assert_int_eq(v, 77);
	ck_assert_int_eq(sysfs_read_hex(root, "n/hex", &h), 0);
	ck_assert_uint_eq(h, 0x39);
	ck_assert_int_eq(sysfs_read_hex(root, "n/hex2", &h), 0);
	ck_assert_uint_eq(h, 0x1f);
	ck_assert_int_eq(sysfs_read_hex(root, "n/hexbad", &h), -EINVAL);
	ck_assert_int_eq(sysfs_read_u64(root, "n/u64", &u), 0);
	ck_assert_uint_eq(u, UINT64_MAX);
	ck_assert_int_eq(sysfs_read_u64(root, "n/u64big", &u), -EINVAL);
	ck_assert_int_eq(sysfs_read_u64(root, "n/sp", &u), -EINVAL);
}
END_TEST

START_TEST(test_transport)
{
	uint64_t handle = 0;
	uint32_t caps = 0;

	ck_assert(sysfs_transport_exists(root, "tcp"));
	ck_assert(!sysfs_transport_exists(root, "bnx2i"));
	ck_assert(!sysfs_transport_exists(root, "../iscsi_transport/tcp"));
	ck_assert_int_eq(sysfs_transport_handle(root, "tcp", &handle), 0);
	ck_assert_uint_eq(handle, 18446744072108347392ull);
	ck_assert_int_eq(sysfs_transport_caps(root, "tcp", &caps), 0);
	ck_assert_uint_eq(caps, 0x39);
	ck_assert_int_eq(sysfs_transport_handle(root, "bnx2i", &handle), -ENOENT);
	ck_assert_int_eq(sysfs_transport_handle(root, "..", &handle), -EINVAL);
	fake_write(root, "class/iscsi_transport/tcp/handle", "0xffff\n");
	ck_assert_int_eq(sysfs_transport_handle(root, "tcp", &handle), -EINVAL);
}
END_TEST

START_TEST(test_session_list)
{
	uint32_t *sids = NULL;
	size_t n = 99;
	char *empty = fake_sysfs_new();

	ck_assert_int_eq(sysfs_session_list(root, &sids, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(sids[0], 1);                  /* numeric order, junk ignored */
	ck_assert_uint_eq(sids[1], 2);
	ck_assert_uint_eq(sids[2], 10);
	free(sids);
	/* module not loaded: no class directory, no sessions, no error */
	ck_assert_int_eq(sysfs_session_list(empty, &sids, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(sids);
	fake_sysfs_free(empty);
	ck_assert(sysfs_session_exists(root, 2));
	ck_assert(!sysfs_session_exists(root, 3));
}
END_TEST

START_TEST(test_session_logged_in)
{
	struct sysfs_session s;

	ck_assert_int_eq(sysfs_session_read(root, 1, &s), 0);
	ck_assert_uint_eq(s.sid, 1);
	ck_assert_int_eq(s.host_no, 3);
	ck_assert_str_eq(s.targetname, "iqn.2003-01.org.example:disk1");
	ck_assert_int_eq(s.tpgt, 1);
	ck_assert_int_eq(s.state, SYSFS_SESSION_LOGGED_IN);
	ck_assert_str_eq(s.state_str, "LOGGED_IN");
	ck_assert_str_eq(s.target_state, "SCANNED");
	ck_assert_int_eq(s.recovery_tmo, 120);
	ck_assert_str_eq(s.initiatorname, "iqn.2005-03.org.example:host");
	ck_assert_str_eq(s.ifacename, "default");
	ck_assert_int_eq(s.target_id, 0);
	ck_assert_int_eq(s.creator, 4242);
	ck_assert(s.auth_readable);
	ck_assert_str_eq(s.username, "");
	ck_assert_int_eq(s.password, SYSFS_SECRET_UNSET);
	ck_assert_int_eq(s.initial_r2t, 0);
	ck_assert_int_eq(s.immediate_data, 1);
	ck_assert_int_eq(s.first_burst_len, 65536);
	ck_assert_int_eq(s.max_burst_len, 262144);
	ck_assert_int_eq(s.max_outstanding_r2t, 1);
	ck_assert_int_eq(s.data_pdu_in_order, 1);
	ck_assert_int_eq(s.data_seq_in_order, 1);
	ck_assert_int_eq(s.erl, 0);
	ck_assert_int_eq(s.fast_abort, 1);
	ck_assert_int_eq(s.abort_tmo, 15);
	ck_assert_int_eq(s.lu_reset_tmo, 30);
	ck_assert_int_eq(s.tgt_reset_tmo, 30);
	ck_assert_str_eq(sysfs_session_state_name(s.state), "LOGGED_IN");
}
END_TEST

/* The lighter reads give exactly the fields they promise, equal to the
 * full read's, and leave every other field unset. */
START_TEST(test_session_detail_levels)
{
	struct sysfs_session full, b, t;
	struct sysfs_conn cf, cb, ct;

	ck_assert_int_eq(sysfs_session_read(root, 1, &full), 0);
	ck_assert_int_eq(sysfs_session_read_detail(root, 1, SYSFS_BRIEF, &b), 0);
	ck_assert_int_eq(sysfs_session_read_detail(root, 1, SYSFS_TREE, &t), 0);
	ck_assert_int_eq(b.sid, full.sid);
	ck_assert_int_eq(b.host_no, 3);
	ck_assert_str_eq(b.targetname, full.targetname);
	ck_assert_int_eq(b.tpgt, full.tpgt);
	ck_assert_int_eq(b.creator, 4242);
	ck_assert_str_eq(b.state_str, "");
	ck_assert_str_eq(b.ifacename, "");
	ck_assert_int_eq(b.recovery_tmo, SYSFS_UNSET);
	ck_assert_int_eq(b.first_burst_len, SYSFS_UNSET);
	ck_assert_int_eq(b.target_id, SYSFS_UNSET);

	ck_assert_str_eq(t.targetname, full.targetname);
	ck_assert_str_eq(t.state_str, "LOGGED_IN");
	ck_assert_int_eq(t.state, SYSFS_SESSION_LOGGED_IN);
	ck_assert_str_eq(t.ifacename, full.ifacename);
	ck_assert_str_eq(t.initiatorname, full.initiatorname);
	ck_assert_int_eq(t.recovery_tmo, 120);
	ck_assert_int_eq(t.abort_tmo, 15);
	ck_assert_int_eq(t.first_burst_len, SYSFS_UNSET);
	ck_assert_int_eq(t.erl, SYSFS_UNSET);
	ck_assert_int_eq(t.password, SYSFS_SECRET_UNSET);

	ck_assert_int_eq(sysfs_conn_read(root, 1, 0, &cf), 0);
	ck_assert_int_eq(sysfs_conn_read_detail(root, 1, 0, SYSFS_BRIEF, &cb), 0);
	ck_assert_int_eq(sysfs_conn_read_detail(root, 1, 0, SYSFS_TREE, &ct), 0);
	ck_assert_str_eq(cb.address, cf.address);
	ck_assert_int_eq(cb.port, cf.port);
	ck_assert_str_eq(cb.persistent_address, cf.persistent_address);
	ck_assert_int_eq(cb.persistent_port, cf.persistent_port);
	ck_assert_str_eq(cb.state, "");
	ck_assert_int_eq(cb.max_recv_dlength, SYSFS_UNSET);
	ck_assert_str_eq(ct.state, cf.state);
	ck_assert_int_eq(ct.header_digest, SYSFS_UNSET);
	ck_assert(!ct.exp_statsn_set);
	ck_assert_int_eq(sysfs_session_read_detail(root, 3, SYSFS_BRIEF, &b), -ENOENT);
}
END_TEST

/* A class link whose target does not end in .../session<S>/iscsi_session/
 * session<S> still finds its host through the resolved path. */
START_TEST(test_session_host_odd_link)
{
	uint32_t host = 0;

	fake_mkdir(root, "devices/platform/host7/session21/iscsi_session/session21");
	fake_symlink(root, "devices/platform/host7/alias21", "session21/iscsi_session/session21");
	fake_symlink(root, "class/iscsi_session/session21", "../../devices/platform/host7/alias21");
	ck_assert_int_eq(sysfs_session_host(root, 21, &host), 0);
	ck_assert_uint_eq(host, 7);
}
END_TEST

START_TEST(test_session_failed_and_odd_files)
{
	struct sysfs_session s;
	uint32_t host = 0;

	ck_assert_int_eq(sysfs_session_read(root, 2, &s), 0);
	ck_assert_int_eq(s.state, SYSFS_SESSION_FAILED);
	ck_assert_int_eq(s.host_no, 4);

	ck_assert_int_eq(sysfs_session_read(root, 10, &s), 0);
	ck_assert_int_eq(s.state, SYSFS_SESSION_FREE);
	ck_assert_int_eq(s.host_no, 12);
	ck_assert_str_eq(s.targetname, "");                 /* "(null)" */
	ck_assert_int_eq(s.tpgt, SYSFS_UNSET);              /* "abc" */
	ck_assert_int_eq(s.first_burst_len, SYSFS_UNSET);   /* missing */
	ck_assert_int_eq(s.recovery_tmo, -1);
	ck_assert_int_eq(s.target_id, -1);
	ck_assert_str_eq(s.username, "alice");
	ck_assert_int_eq(s.password, SYSFS_SECRET_SET);
	ck_assert_int_eq(s.password_in, SYSFS_SECRET_UNSET);
	/* the struct never carries the secret itself */
	ck_assert_ptr_null(memmem(&s, sizeof(s), "s3cret", 6));

	fake_session_attr(root, 10, "state", "WEIRD\n");
	ck_assert_int_eq(sysfs_session_read(root, 10, &s), 0);
	ck_assert_int_eq(s.state, SYSFS_SESSION_UNKNOWN);
	ck_assert_str_eq(s.state_str, "WEIRD");

	memset(&s, 0x5a, sizeof(s));
	ck_assert_int_eq(sysfs_session_read(root, 3, &s), -ENOENT);
	ck_assert_uint_eq(s.sid, 0x5a5a5a5a);               /* untouched */
	ck_assert_int_eq(sysfs_session_host(root, 3, &host), -ENOENT);
	ck_assert_int_eq(sysfs_session_host(root, 2, &host), 0);
	ck_assert_uint_eq(host, 4);
}
END_TEST

START_TEST(test_session_without_host_parent)
{
	struct sysfs_session s;
	uint32_t host = 0;

	/* a session device not under a host<N> directory */
	fake_mkdir(root, "devices/virtual/session20/iscsi_session/session20");
	fake_write(root, "devices/virtual/session20/iscsi_session/session20/state", "FREE\n");
	fake_symlink(root, "class/iscsi_session/session20",
		     "../../devices/virtual/session20/iscsi_session/session20");
	ck_assert_int_eq(sysfs_session_host(root, 20, &host), -ENODEV);
	ck_assert_int_eq(sysfs_session_read(root, 20, &s), 0);
	ck_assert_int_eq(s.host_no, SYSFS_UNSET);
	ck_assert_int_eq(s.tpgt, SYSFS_UNSET);
}
END_TEST

START_TEST(test_auth)
{
	struct sysfs_session_auth a;

	ck_assert_int_eq(sysfs_session_auth_read(root, 10, &a), 0);
	ck_assert_str_eq(a.username, "alice");
	ck_assert_str_eq(a.password, "s3cret");
	ck_assert_str_eq(a.username_in, "");
	ck_assert_str_eq(a.password_in, "");
	sysfs_session_auth_wipe(&a);
	for (size_t i = 0; i < sizeof(a); i++)
		ck_assert_uint_eq(((unsigned char *)&a)[i], 0);
	sysfs_session_auth_wipe(NULL);
	ck_assert_int_eq(sysfs_session_auth_read(root, 1, &a), 0);
	ck_assert_str_eq(a.password, "");
	ck_assert_int_eq(sysfs_session_auth_read(root, 3, &a), -ENOENT);
}
END_TEST

/* The CHAP files are root-only in the kernel; read them as an
 * unprivileged user in a child (as root: drop to nobody). */
START_TEST(test_unreadable_secrets)
{
	static const char *const attrs[] = { "username", "username_in", "password", "password_in" };
	int status;
	pid_t pid;

	for (size_t i = 0; i < 4; i++) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/class/iscsi_session/session10/%s", root, attrs[i]);
		ck_assert_int_eq(chmod(p, 0600), 0);
		if (geteuid() != 0)
			ck_assert_int_eq(chmod(p, 0), 0);
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sysfs_session s;
		struct sysfs_session_auth a;

		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(10);
		if (sysfs_session_read(root, 10, &s) < 0)
			_exit(11);
		if (s.auth_readable || s.username[0] || s.password != SYSFS_SECRET_UNREADABLE ||
		    s.password_in != SYSFS_SECRET_UNREADABLE)
			_exit(12);
		if (strcmp(s.state_str, "FREE") != 0)       /* the rest is still read */
			_exit(13);
		if (sysfs_session_auth_read(root, 10, &a) != -EACCES)
			_exit(14);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_connections)
{
	struct sysfs_conn c;
	uint32_t *cids = NULL, statsn = 0;
	size_t n = 0;

	ck_assert_int_eq(sysfs_conn_list(root, 1, &cids, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(cids[0], 0);
	ck_assert_uint_eq(cids[1], 1);
	free(cids);
	ck_assert_int_eq(sysfs_conn_list(root, 10, &cids, &n), 0);   /* none, junk ignored */
	ck_assert_uint_eq(n, 0);
	free(cids);

	ck_assert_int_eq(sysfs_conn_read(root, 1, 0, &c), 0);
	ck_assert_str_eq(c.address, "192.0.2.10");
	ck_assert_int_eq(c.port, 3260);
	ck_assert_str_eq(c.persistent_address, "192.0.2.10");
	ck_assert_int_eq(c.persistent_port, 3260);
	ck_assert_str_eq(c.state, "up");
	ck_assert(c.exp_statsn_set);
	ck_assert_uint_eq(c.exp_statsn, 4294967295u);
	ck_assert_int_eq(c.max_recv_dlength, 262144);
	ck_assert_int_eq(c.max_xmit_dlength, 65536);
	ck_assert_int_eq(c.header_digest, 1);
	ck_assert_int_eq(c.data_digest, 0);
	ck_assert_int_eq(c.local_port, 51234);
	ck_assert_int_eq(c.ping_tmo, 5);
	ck_assert_int_eq(c.recv_tmo, 5);

	ck_assert_int_eq(sysfs_conn_read(root, 2, 0, &c), 0);
	ck_assert_str_eq(c.address, "");                 /* no socket bound */
	ck_assert_str_eq(c.state, "failed");
	ck_assert_int_eq(sysfs_conn_read(root, 2, 1, &c), -ENOENT);

	ck_assert_int_eq(sysfs_conn_exp_statsn(root, 1, 0, &statsn), 0);
	ck_assert_uint_eq(statsn, 4294967295u);
	fake_conn_attr(root, 1, 0, "exp_statsn", "4294967296\n");
	ck_assert_int_eq(sysfs_conn_exp_statsn(root, 1, 0, &statsn), -EINVAL);
	ck_assert_int_eq(sysfs_conn_read(root, 1, 0, &c), 0);
	ck_assert(!c.exp_statsn_set);
}
END_TEST

START_TEST(test_host)
{
	struct sysfs_host h;
	char path[PATH_MAX];

	ck_assert_int_eq(sysfs_host_read(root, 3, &h), 0);
	ck_assert_uint_eq(h.host_no, 3);
	ck_assert_str_eq(h.ipaddress, "192.0.2.1");
	ck_assert_str_eq(h.hwaddress, "");
	ck_assert_str_eq(h.netdev, "");
	ck_assert_str_eq(h.initiatorname, "iqn.2005-03.org.example:host");
	ck_assert_str_eq(h.state, "running");
	ck_assert_str_eq(h.proc_name, "iscsi_tcp");
	ck_assert_int_eq(sysfs_host_read(root, 99, &h), -ENOENT);
	ck_assert_int_eq(sysfs_host_scan_path("/sys", 3, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/sys/class/scsi_host/host3/scan");
	ck_assert_int_eq(sysfs_host_scan_path(NULL, 12, path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/sys/class/scsi_host/host12/scan");
	ck_assert_int_eq(sysfs_host_scan_path(NULL, 12, path, 10), -ENAMETOOLONG);
}
END_TEST

START_TEST(test_luns)
{
	struct sysfs_lun *l = NULL;
	size_t n = 0;

	ck_assert_int_eq(sysfs_session_luns(root, 1, &l, &n), 0);
	ck_assert_uint_eq(n, 4);
	/* numeric H:C:T:L order: 0, 1, 2, 10 */
	ck_assert_uint_eq(l[0].hctl.lun, 0);
	ck_assert_uint_eq(l[1].hctl.lun, 1);
	ck_assert_uint_eq(l[2].hctl.lun, 2);
	ck_assert_uint_eq(l[3].hctl.lun, 10);
	ck_assert_uint_eq(l[0].hctl.host, 3);
	ck_assert_uint_eq(l[0].hctl.channel, 0);
	ck_assert_uint_eq(l[0].hctl.target, 0);
	ck_assert_str_eq(l[0].state, "running");
	ck_assert_int_eq(l[0].type, 0);
	ck_assert_uint_eq(l[0].n_block, 1);
	ck_assert_str_eq(l[0].block[0], "sdb");
	ck_assert_uint_eq(l[1].n_block, 0);               /* not probed yet */
	ck_assert_str_eq(l[2].state, "transport-offline");
	ck_assert_str_eq(l[3].state, "blocked");
	ck_assert_str_eq(l[3].block[0], "sdc");
	free(l);
	ck_assert_int_eq(sysfs_session_luns(root, 10, &l, &n), 0);   /* before the first scan */
	ck_assert_uint_eq(n, 0);
	free(l);
	ck_assert_int_eq(sysfs_session_luns(root, 7, &l, &n), -ENOENT);
}
END_TEST

START_TEST(test_lun_read_and_mapping)
{
	struct sysfs_hctl h = { 3, 0, 0, 2 }, b;
	struct sysfs_lun l;
	uint32_t sid = 0;

	ck_assert_int_eq(sysfs_lun_read(root, &h, &l), 0);
	ck_assert_str_eq(l.state, "transport-offline");
	ck_assert_str_eq(l.block[0], "sdd");
	ck_assert_int_eq(sysfs_lun_session(root, &h, &sid), 0);
	ck_assert_uint_eq(sid, 1);
	h.lun = 1;
	ck_assert_int_eq(sysfs_lun_session(root, &h, &sid), 0);
	ck_assert_uint_eq(sid, 1);
	h = (struct sysfs_hctl){ 0, 0, 0, 0 };
	ck_assert_int_eq(sysfs_lun_session(root, &h, &sid), -ENODEV);   /* not iSCSI */
	h.host = 9;
	ck_assert_int_eq(sysfs_lun_session(root, &h, &sid), -ENOENT);
	ck_assert_int_eq(sysfs_lun_read(root, &h, &l), -ENOENT);

	ck_assert_int_eq(sysfs_block_hctl(root, "sdc", &b), 0);
	ck_assert_uint_eq(b.host, 3);
	ck_assert_uint_eq(b.lun, 10);
	ck_assert_int_eq(sysfs_block_hctl(root, "sdz", &b), -ENOENT);
	ck_assert_int_eq(sysfs_block_hctl(root, "../sdc", &b), -EINVAL);
}
END_TEST

/* A sysfs root whose own path has a component named like a session must
 * not make a non-iSCSI device look like one. */
START_TEST(test_root_named_session)
{
	char sub[PATH_MAX];
	struct sysfs_hctl h = { 0, 0, 0, 0 };
	uint32_t sid = 0;

	snprintf(sub, sizeof(sub), "%s/session9", root);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	build_tree(sub);
	ck_assert_int_eq(sysfs_lun_session(sub, &h, &sid), -ENODEV);
	h = (struct sysfs_hctl){ 3, 0, 0, 0 };
	ck_assert_int_eq(sysfs_lun_session(sub, &h, &sid), 0);
	ck_assert_uint_eq(sid, 1);
}
END_TEST

START_TEST(test_hctl_parse)
{
	struct sysfs_hctl h;
	char buf[64];

	ck_assert_int_eq(sysfs_hctl_parse("3:0:0:1", &h), 0);
	ck_assert_uint_eq(h.host, 3);
	ck_assert_uint_eq(h.lun, 1);
	ck_assert_int_eq(sysfs_hctl_parse("4294967295:1:2:18446744073709551615", &h), 0);
	ck_assert_uint_eq(h.host, UINT32_MAX);
	ck_assert_uint_eq(h.lun, UINT64_MAX);
	ck_assert_int_eq(sysfs_hctl_format(&h, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "4294967295:1:2:18446744073709551615");
	ck_assert_int_eq(sysfs_hctl_format(&h, buf, 8), -ENAMETOOLONG);
	static const char *const bad[] = {
		"3:0:0", "3:0:0:1:5", "a:b:c:d", "-1:0:0:0", "3:0:0:", ":0:0:1", "3::0:1",
		"4294967296:0:0:0", "3:0:0:18446744073709551616", " 3:0:0:1", "target3:0:0", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sysfs_hctl_parse(bad[i], &h) == -EINVAL, "accepted '%s'", bad[i]);
	ck_assert_int_eq(sysfs_hctl_parse(NULL, &h), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sysfs");
	TCase *tc = tcase_create("tree");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_read_attr);
	tcase_add_test(tc, test_read_numbers);
	tcase_add_test(tc, test_transport);
	tcase_add_test(tc, test_session_list);
	tcase_add_test(tc, test_session_logged_in);
	tcase_add_test(tc, test_session_detail_levels);
	tcase_add_test(tc, test_session_host_odd_link);
	tcase_add_test(tc, test_session_failed_and_odd_files);
	tcase_add_test(tc, test_session_without_host_parent);
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_unreadable_secrets);
	tcase_add_test(tc, test_connections);
	tcase_add_test(tc, test_host);
	tcase_add_test(tc, test_luns);
	tcase_add_test(tc, test_lun_read_and_mapping);
	tcase_add_test(tc, test_root_named_session);
	tcase_add_test(tc, test_hctl_parse);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
