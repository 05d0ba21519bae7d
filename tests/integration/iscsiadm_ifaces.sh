#!/bin/bash
# -m iface records: create/update/delete/show of the binding keys
# (iface.net_ifacename, iface.hwaddress, iface.ipaddress, and
# iface.initiatorname, iface.transport_name), open-iscsi's lines and exit
# codes, -P 1 and --json, node records bound to an iface (-m node -I,
# delete with the iface, refused while a session uses one), and -I on a
# login through a transport iscsid does not carry. No daemon, no target:
# sessions are a fake sysfs tree.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
setup_root

T=iqn.2003-01.org.example:ifaces
OTHER=iqn.2003-01.org.example:other

sum_of() { cksum <"$R/ifaces/$1"; }

# bad IFACE KEY VALUE WHAT: exit 7, stderr says WHAT (after the key, when
# WHAT is about the value), the record file is byte for byte what it was
bad() {
	local before
	before=$(sum_of "$1")
	expect_rc 7 -m iface -I "$1" -o update -n "$2" -v "$3"
	case $4 in
	"bound both"*) expect_err "Could not update iface $1: iface $1 is $4" ;;
	identifies*) expect_err "Could not update iface $1: $2 $4" ;;
	*) expect_err "Could not update iface $1: $2: $4" ;;
	esac
	[ "$(sum_of "$1")" = "$before" ] || fail "a refused $2 '$3' changed ifaces/$1"
}

# --- create: open-iscsi's line; -n/-v pairs given to -o new are set
expect_rc 0 -m iface -I p0 -o new
expect_out "New interface p0 added"
expect_rc 0 -m iface -I p1 -o new -n iface.ipaddress -v 192.0.2.11 -n iface.initiatorname -v iqn.2003-01.org.example:p1
expect_out "New interface p1 added"
expect_rc 0 -m iface -I p1
expect_out "iface.ipaddress = 192.0.2.11"
expect_out "iface.initiatorname = iqn.2003-01.org.example:p1"
expect_out "iface.transport_name = tcp"
# a bad pair: nothing created
expect_rc 7 -m iface -I p2 -o new -n iface.ipaddress -v 192.0.2.12 -n iface.hwaddress -v 02:00:5e:00:53
expect_err "iface.hwaddress: invalid value '02:00:5e:00:53'"
[ -e "$R/ifaces/p2" ] && fail "-o new with a bad value left ifaces/p2"
expect_rc 6 -m iface -I p2
# -o new on an existing iface with pairs: kept, the pairs set
expect_rc 0 -m iface -I p1 -o new -n iface.net_ifacename -v eth1
expect_rc 0 -m iface -I p1
expect_out "iface.ipaddress = 192.0.2.11"
expect_out "iface.net_ifacename = eth1"

# --- update: each binding key, accepted forms
for kv in iface.hwaddress=02:00:5e:00:53:01 iface.hwaddress=02-00-5E-00-53-01 iface.ipaddress=192.0.2.10 \
	iface.ipaddress=fd00::10 iface.ipaddress=fe80::1%eth0 iface.initiatorname=iqn.2003-01.org.example:p0 \
	iface.transport_name=tcp; do
	expect_rc 0 -m iface -I p0 -o update -n "${kv%%=*}" -v "${kv#*=}"
	expect_out "p0 updated."
	expect_rc 0 -m iface -I p0 -o show
	expect_out "${kv%%=*} = ${kv#*=}"
done

# --- bad values: 7, a clear reason, nothing written
bad p0 iface.hwaddress 02:00:5e:00:53 "invalid value '02:00:5e:00:53'"
bad p0 iface.hwaddress 02:00:5e:00:53:01:02 "invalid value"
bad p0 iface.hwaddress zz:00:5e:00:53:01 "invalid value"
bad p0 iface.hwaddress eth0 "invalid value 'eth0'"
bad p0 iface.ipaddress 192.0.2.300 "invalid value '192.0.2.300'"
bad p0 iface.ipaddress host.example "invalid value 'host.example'"
bad p0 iface.ipaddress 192.0.2.10/24 "invalid value"
bad p1 iface.net_ifacename eth0123456789abcdef "value too long (at most 15 bytes)"
bad p1 iface.net_ifacename a/b "invalid value 'a/b'"
bad p1 iface.net_ifacename "a b" "invalid value"
bad p1 iface.net_ifacename .. "invalid value"
bad p0 iface.initiatorname notaname "invalid value 'notaname'"
bad p0 iface.transport_name tpc "unknown transport 'tpc'"
bad p0 iface.iscsi_ifacename p9 "identifies the record"
expect_rc 7 -m iface -I p0 -o update -n iface.nosuch -v 1
expect_err "unknown parameter iface.nosuch"
# several pairs, the last one bad: none is written
before=$(sum_of p0)
expect_rc 7 -m iface -I p0 -o update -n iface.ipaddress -v 192.0.2.99 -n iface.hwaddress -v nope
[ "$(sum_of p0)" = "$before" ] || fail "a refused update wrote its good pairs"
# one NIC named two ways: refused (open-iscsi: "Can not update interface
# binding from hwaddress to net_ifacename"); clearing one switches
bad p0 iface.net_ifacename eth0 "bound both by iface.hwaddress (02-00-5E-00-53-01) and by iface.net_ifacename (eth0)"
bad p1 iface.hwaddress 02:00:5e:00:53:02 "bound both by iface.hwaddress"
expect_rc 0 -m iface -I p0 -o update -n iface.hwaddress -v '<empty>' -n iface.net_ifacename -v eth0
expect_rc 0 -m iface -I p0
expect_out "iface.net_ifacename = eth0"
expect_out "iface.hwaddress = <empty>"
# built-ins and missing ifaces (open-iscsi's codes: 7 to change, 6 to show)
expect_rc 7 -m iface -I default -o update -n iface.ipaddress -v 192.0.2.1
expect_rc 7 -m iface -I iser -o delete
expect_rc 7 -m iface -I nosuch -o update -n iface.ipaddress -v 192.0.2.1
expect_rc 6 -m iface -I nosuch

# --- list: "name transport,hwaddress,ipaddress,netdev,initiatorname"
expect_rc 0 -m iface -I p0 -o update -n iface.ipaddress -v 192.0.2.10
expect_rc 0 -m iface
expect_out "p0 tcp,<empty>,192.0.2.10,eth0,iqn.2003-01.org.example:p0"
expect_out "p1 tcp,<empty>,192.0.2.11,eth1,iqn.2003-01.org.example:p1"
expect_out "default tcp,<empty>,<empty>,<empty>,<empty>"
[ "$(head -1 "$R/out")" = "p0 tcp,<empty>,192.0.2.10,eth0,iqn.2003-01.org.example:p0" ] || fail "stored ifaces first"

# --- node records bound to ifaces
expect_rc 0 -m node -o new -T $T -p 192.0.2.1:3260,1 -I p0
expect_out "New iSCSI node [tcp:[hw=,ip=192.0.2.10,net_if=eth0,iscsi_if=p0] 192.0.2.1,3260,1 $T] added"
expect_rc 0 -m node -o new -T $T -p 192.0.2.1:3260,1 -I p1
expect_rc 0 -m node -o new -T $T -p 192.0.2.1:3260,1
expect_rc 0 -m node -o new -T $T -p 192.0.2.2:3260,1 -I p0
expect_rc 0 -m node -o new -T $OTHER -p 192.0.2.1:3260,1 -I p1
[ -f "$R/nodes/$T/192.0.2.1,3260,1/p0" ] && [ -f "$R/nodes/$T/192.0.2.1,3260,1/p1" ] &&
	[ -f "$R/nodes/$T/192.0.2.1,3260,1/default" ] || fail "one record per iface expected"
# -m node -I selects that iface's records
expect_rc 0 -m node -I p0
expect_out "node.name = $T"
expect_out "iface.iscsi_ifacename = p0"
grep -q "iface.iscsi_ifacename = p1\|iface.iscsi_ifacename = default" "$R/out" && fail "-m node -I p0 showed other ifaces' records"
[ "$(grep -c '^# BEGIN RECORD' "$R/out")" = 2 ] || fail "-m node -I p0: expected its 2 records"
expect_rc 21 -m node -I p2
# -m node -P 1: a Portal line and an Iface Name line for every record
expect_rc 0 -m node -T $T -P 1
cat >"$R/want" <<EOF
Target: $T
	Portal: 192.0.2.1:3260,1
		Iface Name: default
	Portal: 192.0.2.1:3260,1
		Iface Name: p0
	Portal: 192.0.2.1:3260,1
		Iface Name: p1
	Portal: 192.0.2.2:3260,1
		Iface Name: p0
EOF
diff -u "$R/want" "$R/out" || fail "-m node -P 1 differs from open-iscsi's tree"
# -m iface -P 1: the records under each iface, no Iface Name lines
expect_rc 0 -m iface -P 1
cat >"$R/want" <<EOF
Iface: p0
	Target: $T
		Portal: 192.0.2.1:3260,1
		Portal: 192.0.2.2:3260,1
Iface: p1
	Target: $T
		Portal: 192.0.2.1:3260,1
	Target: $OTHER
		Portal: 192.0.2.1:3260,1
Iface: default
	Target: $T
		Portal: 192.0.2.1:3260,1
Iface: iser
Iface: uspace
EOF
diff -u "$R/want" "$R/out" || fail "-m iface -P 1 differs from open-iscsi's tree"
# -I NAME -P 1: that iface's tree only (a missing one: 6, as show)
expect_rc 0 -m iface -I p1 -P 1
printf 'Iface: p1\n\tTarget: %s\n\t\tPortal: 192.0.2.1:3260,1\n\tTarget: %s\n\t\tPortal: 192.0.2.1:3260,1\n' \
	$T $OTHER >"$R/want"
diff -u "$R/want" "$R/out" || fail "-m iface -I p1 -P 1"
expect_rc 6 -m iface -I nosuch -P 1

# --- JSON
expect_rc 0 -m iface --json
expect_json
expect_out '"name": "p0"'
expect_out '"ipaddress": "192.0.2.10"'
expect_out '"netdev": "eth0"'
expect_out '"hwaddress": null'
expect_rc 0 -m iface -P 1 -I p0 --json
expect_json
expect_out '"nodes": ['
expect_out '"address": "192.0.2.2"'
grep -q '"name": "p1"' "$R/out" && fail "-I p0 --json listed p1"
expect_rc 0 -m iface -I p1 --json
expect_json
expect_out '"iface.net_ifacename": "eth1"'

# --- an iface update reaches the records bound to it (their copy, which
# -o show prints), not the others
expect_rc 0 -m iface -I p0 -o update -n iface.ipaddress -v 192.0.2.20
expect_rc 0 -m node -T $T -p 192.0.2.2:3260 -I p0 -o show
expect_out "iface.ipaddress = 192.0.2.20"
expect_rc 0 -m node -T $T -p 192.0.2.1:3260 -I p1 -o show
expect_out "iface.ipaddress = 192.0.2.11"

# --- a login through an iface whose transport iscsid does not carry
expect_rc 0 -m node -o new -T $T -p 192.0.2.3:3260,1 -I iser
expect_rc 12 -m node -T $T -p 192.0.2.3:3260 -I iser --login
expect_err "Could not login to [iface: iser, target: $T, portal: 192.0.2.3,3260]."
expect_err "iface iser uses transport iser; this initiator carries tcp and uspace only"
expect_rc 0 -m node -T $T -p 192.0.2.3:3260 -I iser -o delete

# --- a session through p1 (fake sysfs): updating p1 warns, deleting it is
# refused with 15 and deletes nothing
fs_host 3
fs_session 3 1 $T 1 192.0.2.1 3260
fs_write devices/platform/host3/session1/iscsi_session/session1/ifacename p1
expect_rc 0 -m iface -I p1 -o update -n iface.ipaddress -v 192.0.2.21
expect_err "Updating iface while iscsi sessions are using it"
expect_rc 0 -m iface -I p0 -o update -n iface.ipaddress -v 192.0.2.22
[ -s "$R/err" ] && fail "updating an iface no session uses warned: $(cat "$R/err")"
expect_rc 15 -m iface -I p1 -o delete
expect_err "This command will remove the record [iface: p1, target: $T, portal: 192.0.2.1,3260], but a session is using it."
expect_err "Could not delete iface p1: session exists"
[ -f "$R/ifaces/p1" ] && [ -f "$R/nodes/$T/192.0.2.1,3260,1/p1" ] && [ -f "$R/nodes/$OTHER/192.0.2.1,3260,1/p1" ] ||
	fail "a refused iface delete deleted something"
rm -rf "$R/sys"
mkdir -p "$R/sys/class"

# --- delete: the records bound to the iface go with it, the others stay
expect_rc 0 -m iface -I p1 -o delete
expect_out "p1 unbound and deleted."
[ -e "$R/ifaces/p1" ] && fail "ifaces/p1 left"
[ -e "$R/nodes/$T/192.0.2.1,3260,1/p1" ] && fail "a record bound to p1 left"
[ -e "$R/nodes/$OTHER" ] && fail "$OTHER's only record (p1) left"
[ -f "$R/nodes/$T/192.0.2.1,3260,1/p0" ] && [ -f "$R/nodes/$T/192.0.2.1,3260,1/default" ] ||
	fail "records of other ifaces deleted"
expect_rc 7 -m iface -I p1 -o delete
echo "PASS"
