#!/bin/bash
# iscsistart -N in a network namespace made here: veth devices with the
# firmware's MAC addresses (no `device` link in the table, so the MAC
# finds them), the address and prefix set, the link up, a host route to
# each target (through the firmware's gateway when the target is off the
# subnet); a second run changes nothing; a MAC no device has, or an
# off-subnet target without a gateway, is a clear error (exit 1).
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
. "$top_srcdir/tests/integration/ibft_tree.sh"
START=${START:-$PWD/iscsistart/iscsistart}
need_root
command -v ip >/dev/null || skip "ip (iproute2) missing"
NS=iscsistart-n$$
ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace"
setup_root
trap 'rc=$?; test_cleanup; ip netns del "$NS" 2>/dev/null; exit $rc' EXIT
inN() { ip netns exec "$NS" "$@"; }

for k in 0 1; do
	ip -n "$NS" link add "fwnic$k" type veth peer name "peer$k" || fail "veth"
	ip -n "$NS" link set "peer$k" up
done
ip -n "$NS" link set fwnic0 address 52:54:00:12:34:56
ip -n "$NS" link set fwnic1 address 52:54:00:AB:CD:EF

# the firmware's table; its NICs found by MAC through the namespace's own
# /sys/class/net (ip netns exec mounts a sysfs of the namespace)
ibft_tree "$R/sys"
rm "$R/sys/firmware/ibft/ethernet0/device" "$R/sys/firmware/ibft/ethernet1/device"
rm -rf "$R/sys/class"
ln -s /sys/class "$R/sys/class"
ibft_w "$R/sys" target0/ip-addr 192.0.2.2          # on ethernet0's subnet
ibft_w "$R/sys" target1/ip-addr 203.0.113.9        # elsewhere: through the gateway
ibft_w "$R/sys" ethernet1/gateway 198.51.100.1

netup() { inN "$START" --sysfs "$R/sys" -N >"$R/out" 2>"$R/err"; }
netup || { cat "$R/out" "$R/err"; fail "-N exited $?"; }
expect_out "Setting up software interface fwnic0"
expect_out "Setting up software interface fwnic1"
check() {
	ip -n "$NS" -o addr show dev fwnic0 | grep -q "inet 192.0.2.15/24 " || fail "fwnic0: $(ip -n "$NS" -o addr show dev fwnic0)"
	ip -n "$NS" -o addr show dev fwnic1 | grep -q "inet 198.51.100.7/16 " || fail "fwnic1: $(ip -n "$NS" -o addr show dev fwnic1)"
	for k in 0 1; do
		ip -n "$NS" -o link show "fwnic$k" | grep -q "[<,]UP[,>]" || fail "fwnic$k is not up"
	done
	[ "$(ip -n "$NS" route show 192.0.2.2/32)" = "192.0.2.2 dev fwnic0 scope link " ] ||
		fail "route to target0: '$(ip -n "$NS" route show 192.0.2.2/32)'"
	[ "$(ip -n "$NS" route show 203.0.113.9/32)" = "203.0.113.9 via 198.51.100.1 dev fwnic1 " ] ||
		fail "route to target1: '$(ip -n "$NS" route show 203.0.113.9/32)'"
	inN ip route get 203.0.113.9 | grep -q "via 198.51.100.1 dev fwnic1 src 198.51.100.7" ||
		fail "the kernel would not send to target1 through fwnic1: $(inN ip route get 203.0.113.9)"
}
check
ip -n "$NS" -o addr show | sort > "$R/before"
netup || { cat "$R/out" "$R/err"; fail "second -N exited $?"; }
check
ip -n "$NS" -o addr show | sort > "$R/after"
cmp -s "$R/before" "$R/after" || fail "a second -N changed the addresses"
[ "$(ip -n "$NS" route show 203.0.113.9/32 | wc -l)" = 1 ] || fail "a second -N added a route twice"

# no device has the firmware's MAC
ibft_w "$R/sys" ethernet0/mac 52:54:00:00:00:99
netup
[ $? = 1 ] || { cat "$R/out" "$R/err"; fail "-N with an unknown MAC: expected 1"; }
expect_err "no network device has the firmware's MAC address 52:54:00:00:00:99 (ethernet0)"
ibft_w "$R/sys" ethernet0/mac 52:54:00:12:34:56
# off the subnet, no gateway
ibft_w "$R/sys" target0/ip-addr 203.0.113.77
rm "$R/sys/firmware/ibft/ethernet0/gateway"
netup
[ $? = 1 ] || { cat "$R/out" "$R/err"; fail "-N with an unreachable target: expected 1"; }
expect_out "Setting up software interface fwnic0 failed"
expect_err "fwnic0: target 203.0.113.77 is outside 192.0.2.15/24 and the firmware names no gateway"
echo PASS
