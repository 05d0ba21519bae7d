#!/bin/bash
# oVirt vdsm (lib/vdsm/storage/iscsiadm.py, iscsi.py) as the command
# sequence it runs, with the output it parses, against tgtd on 127.0.0.1:
# iface create/update/info/list ("--op=new", key = value lines, the six
# fields of the list), discoverSendTargets (discoverydb new, CHAP update,
# --discover parsed as "ip:port,tpgt iqn", and the delete it always runs
# afterwards, also while a discovered node is logged in), addIscsiNode
# ("-p addr:port,tpgt" --op=new, node.startup manual, CHAP), login (15
# counts as success), removeIscsiNode (logout, 21 = no session; delete),
# the session rescan (21 = none). There is no iscsi_tcp on the host:
# logins reach iscsid and fail with 12; the session half runs in the VM
# (tests/vm/guest/scenario_clients.sh).
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
tgtd_require
setup_root

tgtd_start || fail "tgtd"
P=$TGTD_PORT
T=iqn.2015-01.org.ovirt:lun
tgtd_target 1 $T-1 1 || fail "tgtadm"
tgtd_target 2 $T-2 1 || fail "tgtadm"
start_iscsid
IF=vdsm-if0

# iface_list: every line split on blanks and commas gives exactly six
# values (Iface namedtuple), "<empty>" meaning None
iface_fields() { # NAME: the six fields of NAME's line, space separated
	run -m iface || fail "-m iface exited $?"
	awk -v n="$1" '{ line = $0; gsub(/[ \t,]/, " ", line); m = split(line, f, " ")
		if (f[1] == n) { if (m != 6) print "BAD " m; else print line } }' "$R/out"
}

# --- IscsiInterface.create(): --op=new, then update of every key set
expect_rc 0 -m iface -I $IF --op=new
for kv in iface.transport_name=tcp iface.net_ifacename=lo iface.initiatorname=iqn.2015-01.org.ovirt:host1; do
	expect_rc 0 -m iface -I $IF -n "${kv%%=*}" -v "${kv#*=}" --op=update
done
[ "$(iface_fields $IF)" = "$IF tcp <empty> <empty> lo iqn.2015-01.org.ovirt:host1" ] ||
	fail "iface list line for vdsm: '$(iface_fields $IF)'"
# iface_info: "key = value" lines, "#" lines skipped
expect_rc 0 -m iface -I $IF
awk '!/^#/ && !/ = / { bad = 1 } END { exit bad }' "$R/out" || { cat "$R/out"; fail "iface record: a line vdsm cannot split on '='"; }
expect_out "iface.net_ifacename = lo"
# iface_new on an existing iface: vdsm then checks whether it exists
expect_rc 0 -m iface -I $IF --op=new
expect_rc 0 -m iface -I $IF
expect_out "iface.initiatorname = iqn.2015-01.org.ovirt:host1"

# --- discoverSendTargets: new, credentials, --discover, then (finally)
# delete, all with -I IF
DB=(-m discoverydb -t sendtargets -I $IF -p 127.0.0.1:$P)
discover() { # expects 0 from every step; sets TARGETS "ip port tpgt iqn" lines
	expect_rc 0 "${DB[@]}" --op=new
	expect_rc 0 "${DB[@]}" -n discovery.sendtargets.auth.authmethod -v None --op=update
	expect_rc 0 "${DB[@]}" --discover
	# discoverydb_discover: "rest, iqn = line.split()", "rest, tpgt =
	# rest.split(',')", then host and port
	TARGETS=$(awk 'NF != 2 { print "BAD"; next }
		{ n = split($1, a, ","); if (n != 2) { print "BAD"; next }
		  p = a[1]; i = match(p, /:[0-9]+$/); print substr(p, 1, i - 1), substr(p, i + 1), a[2], $2 }' "$R/out")
	echo "$TARGETS" | grep -q BAD && { cat "$R/out"; fail "discovery output vdsm cannot split"; }
	expect_rc 0 "${DB[@]}" --op=delete
}
discover
[ "$TARGETS" = "$(printf '%s\n' "127.0.0.1 $P 1 $T-1" "127.0.0.1 $P 1 $T-2")" ] || fail "targets: $TARGETS"
[ -e "$R/send_targets/127.0.0.1,$P" ] && fail "the discovery record outlived its delete"

# --- addIscsiNode: "-p addr:port,tpgt" (the tpgt the discovery gave)
NODE=(-m node -T $T-1 -I $IF -p 127.0.0.1:$P,1)
expect_rc 0 "${NODE[@]}" --op=new
expect_rc 0 "${NODE[@]}" -n node.startup -v manual --op=update
expect_rc 0 "${NODE[@]}" -n node.session.auth.authmethod -v CHAP --op=update
expect_rc 0 "${NODE[@]}" -n node.session.auth.username -v vdsm --op=update
expect_rc 0 "${NODE[@]}" -n node.session.auth.password -v vdsm-secret-1357 --op=update
[ -f "$R/nodes/$T-1/127.0.0.1,$P,1/$IF" ] || fail "no record of $T-1 bound to $IF"
# loginToIscsiNode: 0 or 15; here 12 (no kernel transport), one request
expect_rc 12 "${NODE[@]}" -l
[ "$(grep -c '^Logging in to ' "$R/out")" = 1 ] || fail "more than one login"
expect_out "Logging in to [iface: $IF, target: $T-1, portal: 127.0.0.1,$P]"

# --- a discovery while that node is logged in (vdsm rediscovers for every
# connection): the delete in its finally must exit 0, and the record the
# session uses stays
fs_host 5
fs_session 5 1 $T-1 1 127.0.0.1 $P
fs_write devices/platform/host5/session1/iscsi_session/session1/ifacename $IF
discover
[ -f "$R/nodes/$T-1/127.0.0.1,$P,1/$IF" ] || fail "the record of the logged-in node was deleted"
expect_err "Kept the node record [iface: $IF, target: $T-1, portal: 127.0.0.1,$P]: a session is using it."
expect_rc 0 "${NODE[@]}"
expect_out "node.session.auth.username = vdsm"

# --- session_rescan: "-m session -R" (21 = no sessions; here iscsid is
# asked and knows no session 1: anything else is an error for vdsm)
rm -rf "$R/sys"
mkdir -p "$R/sys/class"
expect_rc 21 -m session -R

# --- removeIscsiNode: logout (21 = no session), delete
expect_rc 21 "${NODE[@]}" -u
expect_rc 0 "${NODE[@]}" --op=delete
expect_rc 21 "${NODE[@]}" --op=delete
# IscsiInterface.delete()
expect_rc 0 -m iface -I $IF --op=delete
expect_rc 6 -m iface -I $IF
echo "PASS: vdsm command sequence"
