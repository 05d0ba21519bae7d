#!/bin/bash
# OpenStack os-brick's iSCSI connector (os_brick/initiator/connectors/
# iscsi.py) as the command sequence it runs, with the exit codes it
# accepts and the output it parses, against tgtd on 127.0.0.1: the iface
# check, the single-path connect (show, -o new, -o update of scan and
# CHAP, -m session, login, node.startup), the multipath discovery (with
# the startup values it saves and restores), discovery CHAP through
# discoverydb (update, exit 6, -o new, update, --discover), the
# discoverydb -P 1 tree it parses, and the disconnect. There is no
# iscsi_tcp on the host: logins reach iscsid and fail with 12; the session
# half runs in the VM (tests/vm/guest/scenario_clients.sh).
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
tgtd_require
setup_root

tgtd_start || fail "tgtd"
P=$TGTD_PORT
PORTAL=127.0.0.1:$P
T=iqn.2010-10.org.openstack:volume
tgtd_target 1 $T-1 1 || fail "tgtadm"
tgtd_target 2 $T-2 1 || fail "tgtadm"
start_iscsid

# no_stderr: os-brick treats any stderr output of these commands as failure
no_stderr() {
	[ -s "$R/err" ] && { cat "$R/err"; fail "$1 wrote to stderr (os-brick would take that as a failure)"; }
	return 0
}

# initiator/utils.py: "-o update -n node.session.scan" is used only when
# the iscsiadm binary contains the key
grep -qF node.session.scan "$ADM" || fail "the iscsiadm binary does not contain 'node.session.scan'"

# --- _validate_iface_transport: "-m iface -I NAME" may exit 0, 2 or 6;
# the transport comes from the "iface.transport_name = tcp" line
expect_rc 6 -m iface -I cinder-iface
expect_rc 0 -m iface -I cinder-iface -o new
expect_rc 0 -m iface -I cinder-iface
awk '$1 == "iface.transport_name" && $3 == "tcp" { ok = 1 } END { exit !ok }' "$R/out" ||
	fail "no 'iface.transport_name = tcp' line for os-brick"

# --- _connect_to_iscsi_portal (single path): show the record; on stderr
# output create it with "--interface default --op new" (0 or 6 accepted,
# any stderr makes it retry), then set scan and CHAP
N1=(-m node -T $T-1 -p $PORTAL)
expect_rc 21 "${N1[@]}"
[ -s "$R/err" ] || fail "a missing record printed nothing on stderr: os-brick would not create it"
expect_rc 0 "${N1[@]}" --interface default --op new
no_stderr "--op new"
expect_out "New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] 127.0.0.1,$P,-1 $T-1] added"
expect_rc 0 "${N1[@]}" --op update -n node.session.scan -v manual
no_stderr "update of node.session.scan (os-brick's manual scan check)"
expect_rc 0 "${N1[@]}" --op update -n node.session.auth.authmethod -v CHAP
expect_rc 0 "${N1[@]}" --op update -n node.session.auth.username -v brick
expect_rc 0 "${N1[@]}" --op update -n node.session.auth.password -v brick-secret-1234
# _get_iscsi_sessions_full: "-m session", 0 or 21
expect_rc 21 -m session
# the login (0 or 15 accepted; here iscsid has no kernel transport)
expect_rc 12 "${N1[@]}" --login
[ "$(grep -c '^Logging in to ' "$R/out")" = 1 ] || fail "one record, more than one login"
grep -q "login to \[iface: default, target: $T-1, portal: 127.0.0.1,$P\] requested" "$R/iscsid.log" ||
	fail "the login request did not reach iscsid"
expect_rc 0 "${N1[@]}" --op update -n node.startup -v automatic
# a second connect finds the record: exit 0, nothing on stderr, no -o new
expect_rc 0 "${N1[@]}"
no_stderr "the record show"
expect_out "node.session.scan = manual"
expect_out "node.session.auth.username = brick"
expect_out "node.session.auth.password = ********"
expect_out "node.startup = automatic"
grep -q brick-secret-1234 "$R/out" && fail "the CHAP secret was printed"

# --- multipath: _get_node_startup_values ("-m node --op show -p", 0 or
# 21, "node.name"/"node.startup" pairs), discovery, and the values again
startups() {
	run -m node --op show -p $PORTAL
	local rc=$?
	[ $rc = 0 ] || [ $rc = 21 ] || fail "-m node --op show -p exited $rc"
	awk '$1 == "node.name" { n = $3 } $1 == "node.startup" && n != "" { print n, $3; n = "" }' "$R/out"
}
[ "$(startups)" = "$T-1 automatic" ] || fail "startup values before discovery: $(startups)"
expect_rc 0 -m discovery -t sendtargets -I default -p $PORTAL
# _get_target_portals_from_iscsiadm_output: two fields, the second "iqn."
got=$(awk 'NF == 2 && $2 ~ /^iqn\./ { split($1, a, ","); print a[1], $2 }' "$R/out" | sort)
want=$(printf '%s\n' "$PORTAL $T-1" "$PORTAL $T-2")
[ "$got" = "$want" ] || { cat "$R/out"; fail "discovery output parsed as: $got"; }
# os-brick restores startup values the discovery changed; none changed
[ "$(startups)" = "$(printf '%s\n' "$T-1 automatic" "$T-2 manual")" ] ||
	fail "discovery changed node.startup: $(startups)"
# the record -o new made is the node the target reported: one record
expect_rc 0 -m node
[ "$(grep -c " $T-1\$" "$R/out")" = 1 ] || { cat "$R/out"; fail "discovery added a second record of $T-1"; }
expect_rc 0 "${N1[@]}" --op show
expect_out "node.session.auth.username = brick"

# --- discovery CHAP (_discover_iscsi_portals with discovery_auth_method):
# update the discoverydb record; on exit 6 create it and update again
tgtd_discovery_chap brickdisc disc-secret-5678 || fail "tgtadm"
DB=(-m discoverydb -t sendtargets -I default -p $PORTAL)
CHAPKV=(-n discovery.sendtargets.auth.authmethod -v CHAP -n discovery.sendtargets.auth.username -v brickdisc
	-n discovery.sendtargets.auth.password -v disc-secret-5678)
expect_rc 0 "${DB[@]}" --op delete   # the record the plain discovery wrote
expect_rc 6 "${DB[@]}" --op update "${CHAPKV[@]}"
expect_rc 0 -m discoverydb -t sendtargets -p $PORTAL -I default --op new
expect_rc 0 "${DB[@]}" --op update "${CHAPKV[@]}"
expect_rc 0 "${DB[@]}" --discover
got=$(awk 'NF == 2 && $2 ~ /^iqn\./ { split($1, a, ","); print a[1], $2 }' "$R/out" | sort)
[ "$got" = "$want" ] || { cat "$R/out" "$R/err"; fail "discovery with CHAP parsed as: $got"; }
# _get_discoverydb_portals: the -P 1 tree, the block of this portal
expect_rc 0 -m discoverydb -o show -P 1
got=$(awk -v addr="DiscoveryAddress: 127.0.0.1,$P" '
	$0 == "SENDTARGETS:" { st = 1; next }
	st && $0 == addr { on = 1; next }
	on && ($0 ~ /^DiscoveryAddress/ || $0 ~ /^iSNS:/) { exit }
	on {
		l = $0; sub(/^[ \t]+/, "", l)
		if (l ~ /^Target:/) iqn = substr(l, 9)
		else if (l ~ /^Portal:/) { ip = substr(l, 9); sub(/,.*/, "", ip) }
		else if (l == "Iface Name: default" && iqn != "" && ip != "") { print ip, iqn; ip = "" }
	}' "$R/out" | sort)
[ "$got" = "$want" ] || { cat "$R/out"; fail "discoverydb -P 1 parsed as: $got"; }

# --- _disconnect_from_iscsi_portal: startup manual, logout, delete (each
# 0, 21 or 255 accepted)
expect_rc 0 "${N1[@]}" --op update -n node.startup -v manual
expect_rc 21 "${N1[@]}" --logout
expect_rc 0 "${N1[@]}" --op delete
expect_rc 21 "${N1[@]}"
echo "PASS: os-brick command sequence"
