#!/bin/bash
# SendTargets discovery against tgtd on loopback, with no kernel module:
# output format, the node database it writes, re-discovery semantics
# (settings kept, stale nodes deleted, new ones added), nonpersistent,
# discoverydb, -P 1 and JSON, iface binding, IPv6, and the same target
# list as libiscsi's iscsi-ls.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
tgtd_require
setup_root
tgtd_start || fail "tgtd"
P=$TGTD_PORT
T=iqn.2024-01.org.example.tgt
tgtd_target 1 $T:disk1 2
tgtd_target 2 $T:disk2 1
tgtd_target_nolun 3 $T:disk3

# --- discovery: flat lines in the target's order, records written
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P
[ "$(wc -l < "$R/out")" = 3 ] || { cat "$R/out"; fail "expected 3 discovered portals"; }
grep -vqE "^127\.0\.0\.1:$P,1 $T:disk[123]\$" "$R/out" && { cat "$R/out"; fail "bad discovery line"; }
[ -f "$R/send_targets/127.0.0.1,$P/st_config" ] || fail "no discovery record"
[ -f "$R/nodes/$T:disk1/127.0.0.1,$P,1/default" ] || fail "no node record for disk1"
[ "$(stat -c %a "$R/nodes/$T:disk1/127.0.0.1,$P,1/default")" = 600 ] || fail "node record not 0600"
expect_rc 0 -m node
[ "$(wc -l < "$R/out")" = 3 ] || fail "expected 3 node records"
expect_rc 0 -m discovery
expect_out "127.0.0.1:$P via sendtargets"
expect_rc 0 -m node -T $T:disk1 -p 127.0.0.1:$P -o show
expect_out "node.discovery_address = 127.0.0.1"
expect_out "node.discovery_port = $P"
expect_out "node.discovery_type = send_targets"

# --- the same list as libiscsi's iscsi-ls
if command -v iscsi-ls >/dev/null 2>&1; then
	iscsi-ls "iscsi://127.0.0.1:$P" | sort > "$R/ls.txt" || fail "iscsi-ls failed"
	expect_rc 0 -m discovery -t st -p 127.0.0.1:$P -o nonpersistent
	sed -E 's/^([^ ]+) (.*)$/Target:\2 Portal:\1/' "$R/out" | sort > "$R/ours.txt"
	diff -u "$R/ls.txt" "$R/ours.txt" || fail "discovered targets differ from iscsi-ls"
fi

# --- re-discovery keeps what the user changed (open-iscsi #286)
expect_rc 0 -m node -T $T:disk1 -p 127.0.0.1:$P -o update -n node.startup -v automatic \
	-n node.session.queue_depth -v 64
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P
expect_rc 0 -m node -T $T:disk1 -p 127.0.0.1:$P -o show
expect_out "node.startup = automatic"
expect_out "node.session.queue_depth = 64"
# ... unless -o update asks for the iscsid.conf values again
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P -o update
expect_rc 0 -m node -T $T:disk1 -p 127.0.0.1:$P -o show
expect_out "node.startup = manual"
expect_out "node.session.queue_depth = 32"

# --- a target that went away: -o new keeps its record, the default
# deletes it; a new target is added
tgtd_adm --mode target --op delete --force --tid 3 || fail "tgtadm delete"
tgtd_target_nolun 4 $T:disk4
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P -o new
expect_out "$T:disk4"
[ -f "$R/nodes/$T:disk3/127.0.0.1,$P,1/default" ] || fail "-o new deleted a stale record"
# a session on the stale record keeps it: exit 15, the others still done
fs_host 9
fs_session 9 1 $T:disk3 1 127.0.0.1 $P
expect_rc 15 -m discovery -t st -p 127.0.0.1:$P
expect_err "This command will remove the record [iface: default, target: $T:disk3, portal: 127.0.0.1,$P], but a session is using it."
[ -f "$R/nodes/$T:disk3/127.0.0.1,$P,1/default" ] || fail "record in use was deleted"
rm -rf "$R/sys"
mkdir -p "$R/sys/class"
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P
[ -e "$R/nodes/$T:disk3" ] && fail "stale record disk3 not deleted"
[ -f "$R/nodes/$T:disk4/127.0.0.1,$P,1/default" ] || fail "new target disk4 not added"

# --- -P 1 and JSON
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P -P 1 -o nonpersistent
expect_out "Target: $T:disk1"
expect_out "	Portal: 127.0.0.1:$P,1"
expect_out "		Iface Name: default"
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P -o nonpersistent --json
expect_json
expect_out "\"target\": \"$T:disk2\""
expect_out "\"port\": $P"

# --- nonpersistent writes nothing
R0=$R
R=$(mktemp -d "${TMPDIR:-/tmp}/iscsiadm-np.XXXXXX")
mkdir -p "$R/sys"
echo "InitiatorName=$INAME" > "$R/initiatorname.iscsi"
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P -o nonpersistent
[ -e "$R/nodes" ] && fail "nonpersistent discovery wrote node records"
[ -e "$R/send_targets" ] && fail "nonpersistent discovery wrote a discovery record"
# no initiator name: a clear error, nothing sent
rm "$R/initiatorname.iscsi"
expect_rc 7 -m discovery -t st -p 127.0.0.1:$P -o nonpersistent
expect_err "initiatorname.iscsi"
rm -rf "$R"
R=$R0

# --- discoverydb: delete while a discovered node is logged in: the
# discovery record and the records no session uses go, exit 0 (clients
# delete it after every discovery: vdsm; after a failed one: csi-lib-
# iscsi); the record the session uses is kept and named (open-iscsi
# deletes it too)
fs_host 9
fs_session 9 1 $T:disk1 1 127.0.0.1 $P
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o delete
expect_err "Kept the node record [iface: default, target: $T:disk1, portal: 127.0.0.1,$P]: a session is using it."
[ -f "$R/nodes/$T:disk1/127.0.0.1,$P,1/default" ] || fail "discoverydb delete removed a record a session uses"
[ -e "$R/nodes/$T:disk2" ] && fail "discoverydb delete left a record no session uses"
[ -e "$R/send_targets/127.0.0.1,$P" ] && fail "discoverydb delete left the discovery record"
expect_rc 0 -m session -r 1
expect_out "node.name = $T:disk1"
rm -rf "$R/sys"
mkdir -p "$R/sys/class"
expect_rc 0 -m node -T $T:disk1 -o delete
[ -e "$R/nodes/$T:disk1" ] && fail "the kept record could not be deleted once logged out"

# --- discoverydb: new, show, update, discover (-D), delete
# a missing discovery record: open-iscsi's 6 in discoverydb mode (os-brick
# creates the record for discovery CHAP only on 6), 7 in discovery mode
expect_rc 6 -m discoverydb -t st -p 127.0.0.1:$P -o show
expect_err "Discovery record [127.0.0.1,$P] not found."
expect_rc 6 -m discoverydb -t st -p 127.0.0.1:$P -o update -n discovery.sendtargets.auth.authmethod -v CHAP
expect_rc 6 -m discoverydb -t st -p 127.0.0.1:$P -o delete
[ -e "$R/send_targets/127.0.0.1,$P" ] && fail "a failed update created the discovery record"
expect_rc 7 -m discovery -p 127.0.0.1:$P
expect_err "Discovery record [127.0.0.1,$P] not found!"
expect_rc 7 -m discovery -p 127.0.0.1:$P -o delete
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o new
expect_out "New discovery record for [127.0.0.1,$P] added."
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o update -n discovery.sendtargets.timeo.login_timeout -v 7
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o show
expect_out "discovery.sendtargets.timeo.login_timeout = 7"
expect_out "discovery.sendtargets.address = 127.0.0.1"
expect_rc 7 -m discoverydb -t st -p 127.0.0.1:$P -o update -n discovery.sendtargets.bogus -v 1
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -D
[ "$(wc -l < "$R/out")" = 3 ] || fail "discoverydb -D: expected 3 portals"
expect_rc 0 -m discoverydb
expect_out "127.0.0.1:$P via sendtargets"
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o show --json
expect_json
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o delete
[ -e "$R/nodes/$T:disk1" ] && fail "discoverydb delete left the discovered nodes"
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -D

# --- iface binding: by local address and device, and bindings that
# cannot work fail before anything is sent
expect_rc 0 -m iface -I lo0 -o new
expect_rc 0 -m iface -I lo0 -o update -n iface.ipaddress -v 127.0.0.1 -n iface.net_ifacename -v lo
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P -I lo0
expect_out "127.0.0.1:$P,1 $T:disk1"
[ -f "$R/nodes/$T:disk1/127.0.0.1,$P,1/lo0" ] || fail "no record bound to iface lo0"
expect_rc 0 -m node -I lo0 -P 1
expect_out "Iface Name: lo0"
expect_rc 0 -m iface -I nodev -o new
expect_rc 0 -m iface -I nodev -o update -n iface.net_ifacename -v nosuchdev0
expect_rc 4 -m discovery -t st -p 127.0.0.1:$P -I nodev -o nonpersistent
expect_err "network interface nosuchdev0 does not exist"
expect_rc 0 -m iface -I noaddr -o new
expect_rc 0 -m iface -I noaddr -o update -n iface.ipaddress -v 192.0.2.99
expect_rc 4 -m discovery -t st -p 127.0.0.1:$P -I noaddr -o nonpersistent
expect_err "cannot use local address 192.0.2.99"
expect_rc 0 -m iface -I nomac -o new
expect_rc 0 -m iface -I nomac -o update -n iface.hwaddress -v 02:00:5e:00:53:99
expect_rc 4 -m discovery -t st -p 127.0.0.1:$P -I nomac -o nonpersistent
expect_err "no network interface has hardware address"
expect_rc 21 -m discovery -t st -p 127.0.0.1:$P -I notthere -o nonpersistent
# deleting an iface deletes the records bound to it
expect_rc 0 -m iface -I lo0 -o delete
expect_out "lo0 unbound and deleted."
[ -e "$R/nodes/$T:disk1/127.0.0.1,$P,1/lo0" ] && fail "record bound to a deleted iface left"

# --- an answer longer than our MaxRecvDataSegmentLength (32768): tgtd
# splits it mid-pair over several Text Responses
tgtd_start || fail "second tgtd"
LONG=iqn.2024-01.org.example.long:$(printf 'x%.0s' $(seq 1 170))
for i in $(seq 1 160); do
	tgtd_target_nolun "$i" "$LONG$i" || fail "tgtadm"
done
expect_rc 0 -m discovery -t st -p 127.0.0.1:$TGTD_PORT -o nonpersistent
[ "$(wc -l < "$R/out")" = 160 ] || fail "long answer: expected 160 targets, got $(wc -l < "$R/out")"
if command -v iscsi-ls >/dev/null 2>&1; then
	iscsi-ls "iscsi://127.0.0.1:$TGTD_PORT" | sort > "$R/ls.txt"
	sed -E 's/^([^ ]+) (.*)$/Target:\2 Portal:\1/' "$R/out" | sort > "$R/ours.txt"
	diff -q "$R/ls.txt" "$R/ours.txt" >/dev/null || fail "long answer differs from iscsi-ls"
fi

# --- IPv6 portal (when the loopback has ::1)
if ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
	tgtd_start ::1 || fail "tgtd on ::1"
	tgtd_target_nolun 1 $T:v6
	expect_rc 0 -m discovery -t st -p "[::1]:$TGTD_PORT"
	expect_out "[::1]:$TGTD_PORT,1 $T:v6"
	[ -f "$R/nodes/$T:v6/::1,$TGTD_PORT,1/default" ] || fail "no IPv6 node record"
	expect_rc 0 -m node -T $T:v6 -p "[::1]:$TGTD_PORT" -o show
	expect_out "node.conn[0].address = ::1"
fi
echo "PASS: discovery against tgtd"
