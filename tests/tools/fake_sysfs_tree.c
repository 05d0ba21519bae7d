/* A sysfs tree of N logged-in iSCSI sessions (one connection and one
 * disk each) built under a directory, with the kernel's layout and
 * symlinks (tests/unit/fake_sysfs.h), for bench/listing_bench.sh: the
 * listings' own cost outside the VM's emulation, with no kernel
 * initiator on this machine.
 *
 *   fake_sysfs_tree DIR N
 *
 * Each session also carries the iscsi_session and iscsi_connection
 * attributes of Linux 6.1 that the unit-test fixture leaves out, so that
 * a cat of every attribute reads as many files as on a real host. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fake_sysfs.h"

static const char *const session_extra[] = {
	"targetalias", "boot_root", "boot_nic", "boot_target", "auto_snd_tgt_disable",
	"discovery_session", "portal_type", "chap_auth", "discovery_logout", "bidi_chap",
	"discovery_auth_optional", "def_time2wait", "def_time2retain", "isid", "tsid",
	"is_fw_assigned_sess", "discovery_parent_idx", "discovery_parent_type", "chap_out_idx",
	"chap_in_idx", "def_taskmgmt_tmo",
};
static const char *const conn_extra[] = {
	"ifmarker", "ofmarker", "tcp_timestamp_stat", "tcp_wsf_disable", "tcp_nagle_disable",
	"tcp_timer_scale", "tcp_xmit_wsf", "tcp_recv_wsf", "ipv4_tos", "ipv6_traffic_class",
	"ipv6_flow_label", "is_fw_assigned_ipv6", "keepalive_tmo", "max_segment_size",
	"local_ipaddr", "statsn", "tcp_timestamp_en", "fragment_disable", "ipv6_flow_lbl",
	"redirect_ip", "link_local_ipv6", "portal_type",
};

int main(int argc, char **argv)
{
	char *end, val[96], block[32];
	unsigned long n;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DIR N\n", argv[0]);
		return 2;
	}
	errno = 0;
	n = strtoul(argv[2], &end, 10);
	if (errno || *end || n == 0 || n > 100000) {
		fprintf(stderr, "%s: N must be 1..100000, not '%s'\n", argv[0], argv[2]);
		return 2;
	}
	if (mkdir(argv[1], 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
		return 1;
	}
	fake_add_transport(argv[1], "tcp", "18446744072635924192\n", "0x39\n");
	fake_write(argv[1], "module/scsi_transport_iscsi/version", "2.0-870\n");
	for (uint32_t i = 1; i <= n; i++) {
		uint32_t host = i + 1;     /* host0, host1: the machine's own */

		fake_add_host(argv[1], host);
		fake_add_session(argv[1], host, i, "LOGGED_IN\n");
		snprintf(val, sizeof(val), "iqn.2024-01.org.example.scale:t%05" PRIu32 "\n", i);
		fake_session_attr(argv[1], i, "targetname", val);
		snprintf(val, sizeof(val), "%" PRIu32 "\n", i);
		fake_session_attr(argv[1], i, "target_id", val);
		for (size_t k = 0; k < sizeof(session_extra) / sizeof(session_extra[0]); k++)
			fake_session_attr(argv[1], i, session_extra[k], "(null)\n");
		fake_add_conn(argv[1], host, i, 0);
		fake_conn_attr(argv[1], i, 0, "address", "127.0.0.1\n");
		fake_conn_attr(argv[1], i, 0, "persistent_address", "127.0.0.1\n");
		for (size_t k = 0; k < sizeof(conn_extra) / sizeof(conn_extra[0]); k++)
			fake_conn_attr(argv[1], i, 0, conn_extra[k], "(null)\n");
		/* sda, ..., sdz, sdaa, ...: the kernel's disk names */
		{
			char name[8];
			int len = 0;
			uint32_t v = i;        /* 1-based */

			while (v > 0) {
				v--;
				name[len++] = (char)('a' + v % 26);
				v /= 26;
			}
			snprintf(block, sizeof(block), "sd");
			for (int k = len - 1; k >= 0; k--)
				block[2 + (len - 1 - k)] = name[k];
			block[2 + len] = '\0';
		}
		fake_add_lun(argv[1], host, i, 0, "running\n", block);
	}
	return 0;
}
