#!/bin/bash
# Discovery with several -I: one SendTargets session through each iface,
# leaving from that iface's link and logging in with its initiator name,
# and node records bound to each iface for what its own discovery
# reported (open-iscsi's per-iface discovery). Two network namespaces as
# in iscsiadm_iface_bind.sh: the initiator's with links i0, i1 (and i2,
# which is down) to the target's, where tgtd listens on an address
# reachable over i0 and i1. tgtd's ACLs make each link and initiator name
# see different targets:
#   T_ANY  every initiator
#   T_L1   only connections from 10.203.1.1 (link i1)
#   T_NA   only the initiator name $INAME_A
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
tgtd_require
command -v ip >/dev/null && command -v ss >/dev/null || skip "ip/ss missing"
NI=iscsi-itd-i$$
NT=iscsi-itd-t$$
ip netns add "$NI" 2>/dev/null || skip "cannot create network namespaces"
ip netns add "$NT" || { ip netns del "$NI"; skip "cannot create network namespaces"; }
setup_root
trap 'rc=$?; tgtd_stop_all; test_cleanup; ip netns del "$NI" 2>/dev/null; ip netns del "$NT" 2>/dev/null; exit $rc' EXIT
inI() { ip netns exec "$NI" "$@"; }
inT() { ip netns exec "$NT" "$@"; }

TADDR=10.203.9.9
for k in 0 1 2; do
	ip link add "i$k" netns "$NI" type veth peer name "t$k" netns "$NT" || fail "veth"
	inI ip addr add "10.203.$k.1/24" dev "i$k"
	inT ip addr add "10.203.$k.2/24" dev "t$k"
	[ "$k" = 2 ] && continue    # i2: down
	inI ip link set "i$k" up
	inT ip link set "t$k" up
done
inI ip link set lo up
inT ip link set lo up
inT ip addr add "$TADDR/32" dev lo
inI ip route add "$TADDR/32" via 10.203.0.2 dev i0 metric 10
inI ip route add "$TADDR/32" via 10.203.1.2 dev i1 metric 20
MAC1=$(inI cat /sys/class/net/i1/address)

TGTD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tgtd.XXXXXX")
TGTD_CTL=$(( 1000 + (RANDOM % 30000) ))
ip netns exec "$NT" tgtd -f --iscsi "portal=$TADDR:3260" -C "$TGTD_CTL" >"$TGTD_DIR/tgtd.log" 2>&1 &
TGTD_INSTANCES="$!:$TGTD_CTL:$TGTD_DIR"
for i in $(seq 1 100); do
	tgtd_adm --mode target --op show >/dev/null 2>&1 && inT ss -Htln "sport = :3260" | grep -q . && break
	sleep 0.05
done
INAME_A=iqn.2003-01.org.example:initiator-a
T_ANY=iqn.2003-01.org.example.disc:any
T_L1=iqn.2003-01.org.example.disc:link1
T_NA=iqn.2003-01.org.example.disc:name-a
tgtd_target_nolun 1 $T_ANY || fail "tgtd target"
tgtd_adm --mode target --op new --tid 2 --targetname $T_L1 &&
	tgtd_adm --mode target --op bind --tid 2 --initiator-address 10.203.1.1 || fail "tgtd T_L1"
# (a name ACL alone: next to "ALL", tgtd 1.0.85 lists the target to anyone)
tgtd_adm --mode target --op new --tid 3 --targetname $T_NA &&
	tgtd_adm --mode target --op bind --tid 3 --initiator-name $INAME_A || fail "tgtd T_NA"

iadm() { inI "$ADM" --root "$R" "$@" >"$R/out" 2>"$R/err"; }
xrc() { # CODE ARGS...: iscsiadm in ns I exits CODE
	local want=$1 got
	shift
	iadm "$@"
	got=$?
	[ "$got" = "$want" ] || { cat "$R/out" "$R/err"; fail "iscsiadm $* exited $got, expected $want"; }
}
have() { [ -f "$R/nodes/$1/$TADDR,3260,1/$2" ]; }

# the TIME-WAIT connections to the target from both sides, as
# "source-address[%device]"
time_wait() {
	{
		inI ss -Htan state time-wait dst "$TADDR" | awk '{ print $3 }'
		inT ss -Htan state time-wait src "$TADDR" | awk '{ print $4 }'
	} | sed 's/:[0-9]*$//' | sort
}

xrc 0 -m iface -I pa -o new -n iface.net_ifacename -v i0 -n iface.initiatorname -v $INAME_A
xrc 0 -m iface -I pb -o new -n iface.hwaddress -v "$MAC1"
xrc 0 -m iface -I pdead -o new -n iface.net_ifacename -v i2

# --- two ifaces: two discovery sessions, one per link, each seeing what
# its link and its initiator name may see
time_wait >"$R/tw.before"
xrc 0 -m discovery -t st -p $TADDR -I pa -I pb
time_wait | comm -13 "$R/tw.before" - | sort -u >"$R/tw.new"
grep -qx "10.203.0.1%i0\|10.203.0.1" "$R/tw.new" && grep -qx "10.203.1.1%i1\|10.203.1.1" "$R/tw.new" ||
	fail "expected one discovery connection from each link, saw: $(tr '\n' ' ' <"$R/tw.new")"
have $T_ANY pa && have $T_NA pa && have $T_ANY pb && have $T_L1 pb ||
	{ find "$R/nodes" -type f; fail "a record of what an iface's own discovery reported is missing"; }
have $T_L1 pa && fail "$T_L1 bound to pa: only link i1 may see it"
have $T_NA pb && fail "$T_NA bound to pb: only $INAME_A may see it"
# open-iscsi's flat lines, iface by iface
[ "$(grep -c "^$TADDR:3260,1 " "$R/out")" = 4 ] || { cat "$R/out"; fail "expected 4 discovered records"; }
grep -q "^$TADDR:3260,1 $T_NA$" "$R/out" && grep -q "^$TADDR:3260,1 $T_L1$" "$R/out" ||
	{ cat "$R/out"; fail "flat output"; }
xrc 0 -m node -I pa
[ "$(grep -c '^# BEGIN RECORD' "$R/out")" = 2 ] || fail "-m node -I pa: expected 2 records"
xrc 0 -m iface -I pb -P 1
grep -q "Target: $T_L1" "$R/out" && grep -q "Target: $T_ANY" "$R/out" || { cat "$R/out"; fail "-m iface -I pb -P 1"; }

# -P 1 without writing: the Target/Portal/Iface Name tree, iface by iface
xrc 0 -m discovery -t st -p $TADDR -I pa -I pb -P 1 -o nonpersistent
grep -c "Iface Name: pa" "$R/out" | grep -qx 2 && grep -c "Iface Name: pb" "$R/out" | grep -qx 2 ||
	{ cat "$R/out"; fail "-P 1 tree"; }

# --- an iface whose link is down: its discovery fails (exit 4 alone),
# beside a working one it is passed over with a message, no record for it
xrc 4 -m discovery -t st -p $TADDR -I pdead -o nonpersistent
xrc 0 -m discovery -t st -p $TADDR -I pa -I pdead
grep -q "Could not perform SendTargets discovery through iface pdead" "$R/err" || { cat "$R/err"; fail "no message for pdead"; }
have $T_ANY pdead && fail "a record bound to pdead, whose discovery failed"
have $T_ANY pa || fail "pa's record lost"

# --- re-discovery through one iface deletes that iface's stale records
# only: T_L1 is gone from the target; pb loses it, pa keeps T_NA (which
# pb never sees)
tgtd_adm --mode target --op delete --tid 2 || fail "tgtd delete T_L1"
xrc 0 -m discovery -t st -p $TADDR -I pb
have $T_L1 pb && fail "stale record $T_L1/pb kept"
have $T_NA pa && have $T_ANY pa && have $T_ANY pb || { find "$R/nodes" -type f; fail "records of another iface deleted"; }

# --- a wrong iface among several ends the command before anything is
# written: an IPv6 source for an IPv4 portal (7)
xrc 0 -m iface -I pv6 -o new -n iface.ipaddress -v fd00::1
find "$R/nodes" -type f | sort >"$R/before"
xrc 7 -m discovery -t st -p $TADDR -I pa -I pv6 -o new -o delete -o update
find "$R/nodes" -type f | sort | diff -u "$R/before" - || fail "records changed by a discovery that failed"
echo "PASS"
