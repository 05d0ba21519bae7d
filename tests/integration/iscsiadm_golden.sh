#!/bin/bash
# Golden outputs: open-iscsi's text formats (inventory §1.4) for sessions
# (flat, -P 1/2/3, from a fake sysfs tree), hosts, node records (flat,
# -P 1, record dumps), ifaces and discovery records, and the JSON forms.
# No target and no daemon are needed: iscsid-derived states print
# "Unknown" as open-iscsi prints them when iscsid is not running.
# UPDATE_GOLDEN=1 rewrites the files (review the diff!).
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
setup_root

# --- sessions: two on one target and portal (open-iscsi prints an empty
# line for the second), one over IPv6 with a CHAP user, one from firmware.
fs_host 2
fs_host 3
fs_host 4 fd00::1
fs_host 5
fs_session 2 1 iqn.2003-01.org.example:disk1 1 192.0.2.10 3260
fs_session 3 2 iqn.2003-01.org.example:disk1 1 192.0.2.10 3260
fs_session 4 3 iqn.2003-01.org.example:disk2 2 fd00::10 3260 chapuser
fs_session 5 7 iqn.2003-01.org.example:boot 1 192.0.2.20 3261 "(null)" -1
fs_lun 2 1 0 running
fs_lun 2 1 1 running sdb
fs_lun 3 2 1 running sdc
fs_lun 4 3 3 transport-offline sdd
fs_write module/scsi_transport_iscsi/version 2.0-870

expect_rc 0 -m session
compare_golden session_flat.txt
expect_rc 0 -m session -P 0
compare_golden session_flat.txt
expect_rc 0 -m session -P 1
compare_golden session_p1.txt
expect_rc 0 -m session -P 2
compare_golden session_p2.txt
expect_rc 0 -m session -P 3
compare_golden session_p3.txt
# the open-iscsi release this matches first, then our own version
expect_out "version 2.1.8 (iscsi-initiator "
expect_rc 0 -m session -r 3 -P 1
compare_golden session_r3_p1.txt
# -r without -P prints the session's node record (open-iscsi): none yet
expect_rc 21 -m session -r /sys/devices/platform/host4/session3/target4:0:0/4:0:0:3
expect_err "No records found"
expect_rc 0 -m session -P 3 --json
expect_json
compare_golden session_p3.json
expect_rc 0 -m session --json
expect_json
compare_golden session_flat.json
expect_rc 7 -m session -P 4
expect_err "iscsiadm: Invalid info level 4. Try 0 - 3."
expect_rc 7 -m session -r abc
expect_err "abc is an invalid session ID or path"
expect_rc 22 -m session -r 99
# statistics come from iscsid (GET_STATS), which does not run here
expect_rc 20 -m session -r 1 -s

# --- hosts
expect_rc 0 -m host
compare_golden host_flat.txt
expect_rc 0 -m host -P 1
compare_golden host_p1.txt
expect_rc 0 -m host -H 2 -P 2
compare_golden host_h2_p2.txt
# -H N at -P 0: open-iscsi's one line, for host N only
expect_rc 0 -m host -H 3
compare_golden host_h3_flat.txt
expect_rc 0 -m host -H 3 -P 1
expect_out "Host Number: 3"
grep -q "Host Number: 2" "$R/out" && fail "-m host -H 3 -P 1 printed host 2"
expect_rc 23 -m host -H 42
expect_rc 0 -m host -P 4
expect_out "iSCSI Transport Class version 2.0-870"
expect_out "version 2.1.8 (iscsi-initiator "
expect_rc 0 -m host --json
expect_json
compare_golden host.json

# --- node records, made with -o new (static) from compiled defaults
expect_rc 0 -m node -o new -T iqn.2003-01.org.example:disk1 -p 192.0.2.10:3260,1
expect_out "New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] 192.0.2.10,3260,1 iqn.2003-01.org.example:disk1] added"
expect_rc 0 -m node -o new -T iqn.2003-01.org.example:disk1 -p 192.0.2.11:3260,1
expect_rc 0 -m node -o new -T iqn.2003-01.org.example:disk2 -p '[fd00::10]:3260,2'
expect_rc 0 -m node -o new -T iqn.2003-01.org.example:disk3 -p 192.0.2.12
expect_rc 0 -m node
compare_golden node_flat.txt
expect_rc 0 -m node -P 1
compare_golden node_p1.txt
expect_rc 0 -m node -T iqn.2003-01.org.example:disk2 -p '[fd00::10]:3260' -o show
compare_golden node_show.txt
expect_rc 0 -m node --json
expect_json
compare_golden node.json

# --- -m session -r SID (or its sysfs path) without -P: the session's node
# record, as open-iscsi prints it; -P 1 and up: the session tree
expect_rc 0 -m session -r /sys/devices/platform/host4/session3/target4:0:0/4:0:0:3
compare_golden node_show.txt
expect_rc 0 -m session -r 3 -P 0
compare_golden node_show.txt
expect_rc 0 -m session -r 1
expect_out "# BEGIN RECORD"
expect_out "node.name = iqn.2003-01.org.example:disk1"
expect_out "node.conn[0].address = 192.0.2.10"
grep -q "192.0.2.11" "$R/out" && fail "-m session -r 1 printed the record of another portal"
expect_rc 0 -m session -r 3 --json
expect_json
expect_out '"node.name": "iqn.2003-01.org.example:disk2"'
# the firmware session has no record
expect_rc 21 -m session -r 7
expect_err "No records found"

# --- records a session uses (sessions 1 and 2 run on this one): 15
expect_rc 15 -m node -T iqn.2003-01.org.example:disk1 -p 192.0.2.10:3260 -o delete
expect_err "This command will remove the record [iface: default, target: iqn.2003-01.org.example:disk1, portal: 192.0.2.10,3260], but a session is using it."
expect_rc 15 -m node -T iqn.2003-01.org.example:disk1 -p 192.0.2.10:3260 -o update -n iface.transport_name -v iser
expect_rc 0 -m node -T iqn.2003-01.org.example:disk1 -p 192.0.2.10:3260 -o update -n node.startup -v automatic
expect_rc 0 -m node -T iqn.2003-01.org.example:disk1 -p 192.0.2.10:3260 -o show
expect_out "node.startup = automatic"
# logout of sessions goes to iscsid, which is not running here: 20,
# after open-iscsi's lines for each selected session
expect_rc 20 -m node -T iqn.2003-01.org.example:disk2 -u
expect_out "Logging out of session [sid: 3, target: iqn.2003-01.org.example:disk2, portal: fd00::10,3260]"
expect_err "iscsiadm: Could not logout of [sid: 3, target: iqn.2003-01.org.example:disk2, portal: fd00::10,3260]."
grep -q "sid: 1" "$R/out" && fail "-T disk2 -u selected another session"
expect_rc 20 -m session -u
[ "$(grep -c '^Logging out of session' "$R/out")" = 4 ] || fail "session -u must select every session"
expect_rc 20 -m session -r 2 -R
expect_out "Rescanning session [sid: 2, target: iqn.2003-01.org.example:disk1, portal: 192.0.2.10,3260]"
# logging in again to a record that has a session: 15, nothing sent
expect_rc 15 -m node -T iqn.2003-01.org.example:disk1 -p 192.0.2.10:3260 --login
expect_err "default: 1 session requested, but 1 already present."
expect_err "iscsiadm: Could not log into all portals"

# --- ifaces
expect_rc 0 -m iface -I bind0 -o new
expect_out "New interface bind0 added"
expect_rc 0 -m iface -I bind0 -o update -n iface.net_ifacename -v lo -n iface.ipaddress -v 127.0.0.1
expect_out "bind0 updated."
expect_rc 0 -m iface
compare_golden iface_flat.txt
expect_rc 0 -m iface -I default
compare_golden iface_show_default.txt
expect_rc 0 -m iface -P 1
compare_golden iface_p1.txt
expect_rc 0 -m iface --json
expect_json
compare_golden iface.json

# --- discovery records
expect_rc 0 -m discoverydb -t st -p 192.0.2.50 -o new
expect_out "New discovery record for [192.0.2.50,3260] added."
expect_rc 0 -m discoverydb -t st -p 192.0.2.50 -o update -n discovery.sendtargets.auth.username -v joe \
	-n discovery.sendtargets.auth.password -v secretsecret
expect_rc 0 -m discoverydb -t st -p 192.0.2.50 -o show
compare_golden discoverydb_show.txt
grep -q secretsecret "$R/out" && fail "secret printed without -S"
expect_rc 0 -m discoverydb -t st -p 192.0.2.50 -o show -S
expect_out "discovery.sendtargets.auth.password = secretsecret"
expect_rc 0 -m discovery
compare_golden discovery_flat.txt
expect_rc 0 -m discovery -P 1
compare_golden discovery_p1.txt
expect_rc 0 -m discoverydb -t st -p 192.0.2.50 -o show --json
expect_json
grep -q secretsecret "$R/out" && fail "secret printed in JSON without -S"
expect_out '"discovery.sendtargets.auth.password": "********"'
echo "PASS: golden outputs"
