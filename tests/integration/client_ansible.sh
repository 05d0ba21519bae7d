#!/bin/bash
# Ansible community.general's open_iscsi module (plugins/modules/
# open_iscsi.py) as the command sequence it runs, with the output it
# parses, against tgtd on 127.0.0.1: the cached node list ("--mode node",
# 21 = none, at most two fields a line), discovery, CHAP by target name
# ("--op=update"), login with --portal, the logged-on check (a regex on
# "--mode session"), auto_node_startup / auto_portal_startup (the first
# line naming node.startup in the record), rescans. There is no iscsi_tcp
# on the host: logins reach iscsid and fail with 12; the session half runs
# in the VM (tests/vm/guest/scenario_clients.sh).
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
tgtd_require
setup_root

tgtd_start || fail "tgtd"
P=$TGTD_PORT
T=iqn.2012-06.org.ansible:disk
tgtd_target 1 $T-1 1 || fail "tgtadm"
tgtd_target 2 $T-2 1 || fail "tgtadm"
start_iscsid

# iscsi_get_cached_nodes(portal): rc 0 (lines of at most two fields,
# target second, portal address before the first ":") or 21
cached() {
	run --mode node
	local rc=$?
	[ $rc = 21 ] && return 0
	[ $rc = 0 ] || fail "--mode node exited $rc"
	awk -v portal="$1" 'NF > 2 { print "BAD"; exit } { split($1, a, ":"); if (portal == "" || a[1] == portal) print $2 }' \
		"$R/out" | sort
}
# target_isauto: the first line with "node.startup" says automatic or not
isauto() {
	expect_rc 0 --mode node --targetname "$@"
	awk '/node.startup/ { print ($0 ~ /automatic/) ? "yes" : "no"; exit }' "$R/out"
}

[ -z "$(cached 127.0.0.1)" ] || fail "nodes before discovery"
# discover: yes
expect_rc 0 --mode discovery --type sendtargets --portal 127.0.0.1:$P
[ "$(cached 127.0.0.1 | tr '\n' ' ')" = "$T-1 $T-2 " ] || fail "cached nodes after discovery: $(cached 127.0.0.1)"
cached 127.0.0.1 | grep -q BAD && fail "a --mode node line with more than two fields"

# login: yes, with node_user/node_pass (updates by target name only)
for kv in node.session.auth.authmethod=CHAP node.session.auth.username=ansible \
	node.session.auth.password=ansible-secret-97531; do
	expect_rc 0 --mode node --targetname $T-1 --op=update --name "${kv%%=*}" --value "${kv#*=}"
done
# target_loggedon: no session yet (21)
expect_rc 21 --mode session
expect_rc 12 --mode node --targetname $T-1 --login --portal 127.0.0.1:$P
[ "$(grep -c '^Logging in to ' "$R/out")" = 1 ] || fail "more than one login"
grep -q "login to \[iface: default, target: $T-1, portal: 127.0.0.1,$P\] requested" "$R/iscsid.log" ||
	fail "the login did not reach iscsid"

# auto_node_startup: yes
[ "$(isauto $T-1)" = no ] || fail "node.startup should start manual"
expect_rc 0 --mode node --targetname $T-1 --op=update --name node.startup --value automatic
[ "$(isauto $T-1)" = yes ] || fail "auto_node_startup did not stick"
# auto_portal_startup: the same with --portal
[ "$(isauto $T-2 --portal 127.0.0.1:$P)" = no ] || fail "$T-2 should be manual"
expect_rc 0 --mode node --targetname $T-2 --op=update --name node.startup --value automatic --portal 127.0.0.1:$P
[ "$(isauto $T-2 --portal 127.0.0.1:$P)" = yes ] || fail "auto_portal_startup did not stick"
expect_rc 0 --mode node --targetname $T-2 --op=update --name node.startup --value manual --portal 127.0.0.1:$P
[ "$(isauto $T-2 --portal 127.0.0.1:$P)" = no ] || fail "setmanual did not stick"

# rescan: yes (nothing logged in here: 21, output returned as is)
expect_rc 21 --mode session --rescan
expect_rc 21 --mode node --rescan -T $T-1
# login: no -> target_logout (no session here: 21)
expect_rc 21 --mode node --targetname $T-1 --logout
# a second run of the same play: discovery again changes nothing
before=$(cached 127.0.0.1)
expect_rc 0 --mode discovery --type sendtargets --portal 127.0.0.1:$P
[ "$(cached 127.0.0.1)" = "$before" ] || fail "rediscovery changed the cached nodes"
[ "$(isauto $T-1)" = yes ] || fail "rediscovery reset node.startup"
echo "PASS: Ansible open_iscsi command sequence"
