#!/bin/bash
# Discovery through an iface leaves from the device or the address the
# iface names. Two network namespaces: the initiator's (ns I) with two
# veth links to the target's (ns T), where tgtd listens on an address
# reachable over either link; the route prefers link 0. Which link a
# connection took shows in its source address (each link has its own),
# read from the TIME-WAIT socket the connection leaves behind (ss, which
# also shows the device a socket was bound to: "10.200.1.1%i1").
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
tgtd_require
command -v ip >/dev/null && command -v ss >/dev/null || skip "ip/ss missing"
NI=iscsi-it-i$$
NT=iscsi-it-t$$
ip netns add "$NI" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$NT" || { ip netns del "$NI"; skip "cannot create network namespaces"; }
setup_root
trap 'rc=$?; tgtd_stop_all; test_cleanup; ip netns del "$NI" 2>/dev/null; ip netns del "$NT" 2>/dev/null; exit $rc' EXIT
inI() { ip netns exec "$NI" "$@"; }
inT() { ip netns exec "$NT" "$@"; }

TADDR=10.200.9.9
for k in 0 1; do
	ip link add "i$k" netns "$NI" type veth peer name "t$k" netns "$NT" || fail "veth"
	inI ip addr add "10.200.$k.1/24" dev "i$k"
	inT ip addr add "10.200.$k.2/24" dev "t$k"
	inI ip link set "i$k" up
	inT ip link set "t$k" up
done
inI ip link set lo up
inT ip link set lo up
inT ip addr add "$TADDR/32" dev lo
inI ip route add "$TADDR/32" via 10.200.0.2 dev i0 metric 10
inI ip route add "$TADDR/32" via 10.200.1.2 dev i1 metric 20
MAC0=$(inI cat /sys/class/net/i0/address)
MAC1=$(inI cat /sys/class/net/i1/address)

# tgtd inside ns T (its control socket is a file: tgtadm reaches it)
TGTD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tgtd.XXXXXX")
TGTD_CTL=$(( 1000 + (RANDOM % 30000) ))
ip netns exec "$NT" tgtd -f --iscsi "portal=$TADDR:3260" -C "$TGTD_CTL" >"$TGTD_DIR/tgtd.log" 2>&1 &
TGTD_INSTANCES="$!:$TGTD_CTL:$TGTD_DIR"
for i in $(seq 1 100); do
	tgtd_adm --mode target --op show >/dev/null 2>&1 && inT ss -Htln "sport = :3260" | grep -q . && break
	sleep 0.05
done
T=iqn.2024-01.org.example.bind:disk1
tgtd_target_nolun 1 "$T" || fail "tgtd target"

# iscsiadm in ns I, with the namespace's own /sys (ip netns exec mounts it)
iadm() { inI "$ADM" --root "$R" "$@" >"$R/out" 2>"$R/err"; }

# TIME-WAIT connections to the target, as "source-address[%device] port",
# from both sides (the side that closed first keeps the socket)
time_wait() {
	inI ss -Htan state time-wait dst "$TADDR" | awk '{ print $3 }'
	inT ss -Htan state time-wait src "$TADDR" | awk '{ print $4 }'
}

# discover IFACE: where the discovery's connection left from, as
# "address" or "address%device" (ss shows the device a socket is bound to)
discover_from() { # IFACE
	time_wait | sort >"$R/tw.before"
	iadm -m discovery -t st -p "$TADDR:3260" -I "$1" -o nonpersistent ||
		{ cat "$R/err" >&2; echo "exit $?"; return; }
	grep -qF "$TADDR:3260,1 $T" "$R/out" || { echo "target not listed"; return; }
	time_wait | sort | comm -13 "$R/tw.before" - | sed 's/:[0-9]*$//' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# expect_from IFACE ADDRESS [DEVICE]: the discovery through IFACE left from
# ADDRESS (each link has its own, so the address names the link) and, when
# the initiator's socket is the one in TIME-WAIT, was bound to DEVICE
expect_from() {
	local src
	src=$(discover_from "$1")
	case "$src" in
	"$2" | "$2%${3:-none}") ;;
	*) fail "iface $1: left from '$src', expected $2${3:+ bound to $3}" ;;
	esac
}

new_iface() { # NAME KEY VALUE...
	local n=$1; shift
	iadm -m iface -I "$n" -o new || fail "iface $n: $(cat "$R/err")"
	while [ $# -gt 0 ]; do
		iadm -m iface -I "$n" -o update -n "$1" -v "$2" || fail "iface $n $1: $(cat "$R/err")"
		shift 2
	done
}

# unbound: the route's choice, link 0
expect_from default 10.200.0.1

# by MAC address: the device that has it, link 1
new_iface bymac iface.hwaddress "$MAC1"
expect_from bymac 10.200.1.1 i1
new_iface bymac0 iface.hwaddress "$(echo "$MAC0" | tr a-f A-F)"
expect_from bymac0 10.200.0.1 i0

# by device name
new_iface bydev iface.net_ifacename i1
expect_from bydev 10.200.1.1 i1

# by source address
new_iface byaddr iface.ipaddress 10.200.1.1
expect_from byaddr 10.200.1.1

# a MAC no device in this namespace has: a clear error, exit 4
new_iface nomac iface.hwaddress 02:00:5e:00:53:99
iadm -m discovery -t st -p "$TADDR:3260" -I nomac -o nonpersistent
st=$?
[ "$st" = 4 ] || fail "unknown MAC: exit $st, expected 4: $(cat "$R/err")"
grep -qF "iface nomac: no network interface has hardware address 02:00:5e:00:53:99" "$R/err" ||
	fail "unknown MAC: $(cat "$R/err")"
# an address of the other family than the portal's: the iface is wrong, 7
new_iface v6addr iface.ipaddress 2001:db8::1
iadm -m discovery -t st -p "$TADDR:3260" -I v6addr -o nonpersistent
st=$?
[ "$st" = 7 ] || fail "IPv6 source for an IPv4 portal: exit $st, expected 7: $(cat "$R/err")"
grep -qF "local address 2001:db8::1 is not an IPv4 address" "$R/err" || fail "family mismatch: $(cat "$R/err")"
echo "PASS"
