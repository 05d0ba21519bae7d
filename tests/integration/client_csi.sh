#!/bin/bash
# Kubernetes csi-lib-iscsi (iscsi/iscsi.go, iscsi/iscsiadm.go) as the
# command sequence its Connect/Disconnect run, with the exit codes it
# accepts and the output it parses, against tgtd on 127.0.0.1: the iface
# check, the rescan, Discoverydb (new, discovery CHAP update, --discover,
# delete after a failed discovery), CreateDBEntry after a discovery (one
# record, one login), Login (and its delete after a failure), Logout by
# address without port, DeleteDBEntry. There is no iscsi_tcp on the host:
# logins reach iscsid and fail with 12; the session half runs in the VM
# (tests/vm/guest/scenario_clients.sh).
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
tgtd_require
setup_root

tgtd_start || fail "tgtd"
P=$TGTD_PORT
T=iqn.2016-09.com.example.csi:vol
tgtd_target 1 $T-a 1 || fail "tgtadm"
tgtd_target 2 $T-b 1 || fail "tgtadm"
start_iscsid

# csi-lib-iscsi runs every iscsiadm with a 3 s timeout
timed() { # RC ARGS...: expect_rc, and the command must finish in 3 s
	local t0 t1
	t0=$(date +%s%N)
	expect_rc "$@"
	t1=$(date +%s%N)
	[ $(( (t1 - t0) / 1000000 )) -lt 3000 ] || fail "iscsiadm ${*:2} took more than csi-lib-iscsi's 3 s"
}

# --- Connect: ShowInterface ("-m iface -o show -I default"), transport
# from the "iface.transport_name = (.*)\n" line ("" means tcp)
timed 0 -m iface -o show -I default
grep -q '^iface.transport_name = tcp$' "$R/out" || fail "no iface.transport_name line"
# ListInterfaces
timed 0 -m iface -o show
expect_out "default tcp,<empty>,<empty>,<empty>,<empty>"

# --- connectTarget: rescan by address without port (errors ignored),
# then sessionExists ("-m session": 21 means none)
timed 21 -m node -T $T-a -p 127.0.0.1 -R
timed 21 -m session

# --- Discoverydb with discovery CHAP: new, update, --discover
DB=(-m discoverydb -t sendtargets -p 127.0.0.1:$P -I default)
timed 0 "${DB[@]}" -o new
timed 0 "${DB[@]}" -o new   # again (another volume on the portal): still 0
tgtd_discovery_chap csidisc disc-secret-4321 || fail "tgtadm"
timed 0 "${DB[@]}" -o update -n discovery.sendtargets.auth.authmethod -v CHAP \
	-n discovery.sendtargets.auth.username -v csidisc -n discovery.sendtargets.auth.password -v disc-secret-4321
timed 0 "${DB[@]}" --discover
expect_out "127.0.0.1:$P,1 $T-a"
expect_out "127.0.0.1:$P,1 $T-b"

# --- CreateDBEntry after the discovery ("-o new" without a tpgt next to
# the discovered ",1" record) and the session CHAP update: one record
N=(-m node -T $T-a -p 127.0.0.1:$P)
timed 0 "${N[@]}" -I default -o new
[ -s "$R/err" ] && { cat "$R/err"; fail "CreateDBEntry's -o new wrote to stderr"; }
expect_out "already exists; left unchanged"
timed 0 "${N[@]}" -o update -n node.session.auth.authmethod -v CHAP \
	-n node.session.auth.username -v csiuser -n node.session.auth.password -v csi-secret-8765
timed 0 -m node
[ "$(grep -c " $T-a\$" "$R/out")" = 1 ] || { cat "$R/out"; fail "CreateDBEntry made a second record of $T-a"; }
timed 0 "${N[@]}" -o show
expect_out "node.tpgt = 1"
expect_out "node.session.auth.username = csiuser"
# the discovery secrets go to the discovery record, never to a node
# record: open-iscsi refuses them there (7), so does this
timed 7 "${N[@]}" -o update -n discovery.sendtargets.auth.authmethod -v CHAP

# --- Login: one login for the one node (here: 12, no kernel transport),
# then csi-lib-iscsi deletes the record after a failed login
timed 12 "${N[@]}" -l
[ "$(grep -c '^Logging in to ' "$R/out")" = 1 ] || { cat "$R/out"; fail "one node, more than one login"; }
[ "$(grep -c "login to \[iface: default, target: $T-a, portal: 127.0.0.1,$P\] requested" "$R/iscsid.log")" = 1 ] ||
	fail "iscsid did not get exactly one login request for $T-a"
grep -q "node.session.auth.username = csiuser" "$R/nodes/$T-a/127.0.0.1,$P,1/default" ||
	fail "record lost its CHAP user"
timed 0 "${N[@]}" -o delete
[ -e "$R/nodes/$T-a" ] && fail "the record is still there after -o delete"

# --- Disconnect: Logout by address without port, then DeleteDBEntry
timed 21 -m node -T $T-b -p 127.0.0.1 -u
expect_err "No matching sessions found"
timed 0 -m node -T $T-b -o delete
timed 21 -m node -T $T-b -o delete

# --- a failed discovery (wrong discovery secret): csi-lib-iscsi deletes
# the discoverydb record, then starts again from -o new
timed 0 "${DB[@]}" -o update -n discovery.sendtargets.auth.password -v wrong-secret-000
timed 24 "${DB[@]}" --discover
timed 0 "${DB[@]}" -o delete
[ -e "$R/send_targets/127.0.0.1,$P" ] && fail "discoverydb -o delete left the record"
timed 0 "${DB[@]}" -o new
timed 6 -m discoverydb -t sendtargets -p 127.0.0.1:$((P + 1)) -I default -o delete

# --- the iface csi-lib-iscsi deletes when no device showed up: a
# built-in one cannot be deleted (7, ignored by the library)
timed 7 -m iface -I default -o delete
echo "PASS: csi-lib-iscsi command sequence"
