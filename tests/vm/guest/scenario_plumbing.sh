#!/bin/sh
# How kernel sessions connect (INITIATOR=ours: this project's behaviour):
#  - iface.hwaddress binds the session's socket to the device with that
#    MAC. The target listens on dm0's address; dm1 is another
#    device. Through an iface naming dm1's MAC the target cannot be
#    reached (the socket is bound to dm1), through one naming dm0's
#    it can; a MAC no device has fails at once with exit 4, saying so.
#  - a portal named by a host name whose lookup never gets an answer (the
#    name server's address routes into a dummy device, which drops
#    everything): iscsid keeps serving -- another login completes while
#    the lookup hangs -- and the login fails with a clear error.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

IQN=iqn.2003-01.org.example.vmtest:plumb
MAC0=02:00:5e:00:53:10
MAC1=02:00:5e:00:53:11

[ "$INITIATOR" = ours ] || { echo "SKIP: this project's connection set-up"; exit 0; }

step "dummy devices: dm0 10.99.0.1 (target), dm1 10.99.1.1, dm2 (DNS black hole)"
for i in 0 1 2; do
    ip link add "dm$i" type dummy || fail "ip link add dm$i"
done
ip link set dm0 address $MAC0 && ip addr add 10.99.0.1/24 dev dm0 && ip link set dm0 up &&
ip link set dm1 address $MAC1 && ip addr add 10.99.1.1/24 dev dm1 && ip link set dm1 up &&
ip addr add 10.53.0.1/24 dev dm2 && ip link set dm2 up || fail "dummy set-up"

step "target on 10.99.0.1:3260 and 127.0.0.1:3260"
lio_backstore_fileio p0 16M && lio_target_create "$IQN" && lio_portal_add "$IQN" 10.99.0.1 3260 &&
lio_portal_add "$IQN" 127.0.0.1 3260 && lio_lun_add "$IQN" 0 p0 && lio_tpg_enable "$IQN" || fail "LIO setup"
init_setup || fail "setup"
init_start || fail "iscsid did not start"

# new_node IFACE PORTAL: a node record through IFACE, one attempt
new_node() {
    iadm -m node -o new -T "$IQN" -p "$2" -I "$1" >/dev/null || fail "node record $1 $2"
    iadm -m node -T "$IQN" -p "$2" -I "$1" -o update -n node.session.initial_login_retry_max -v 0 &&
    iadm -m node -T "$IQN" -p "$2" -I "$1" -o update -n node.conn[0].timeo.login_timeout -v 6 ||
        fail "node record $1 $2: update"
}
for i in viamac wrongmac nomac; do
    iadm -m iface -I $i -o new >/dev/null || fail "iface $i"
done
iadm -m iface -I viamac -o update -n iface.hwaddress -v $MAC0 >/dev/null &&
iadm -m iface -I wrongmac -o update -n iface.hwaddress -v $MAC1 >/dev/null &&
iadm -m iface -I nomac -o update -n iface.hwaddress -v 02:00:5e:00:53:99 >/dev/null || fail "iface update"
for i in viamac wrongmac nomac; do new_node $i 10.99.0.1:3260; done

step "iface.hwaddress of dm1: bound to dm1, the target is out of reach"
iadm -m node -T "$IQN" -p 10.99.0.1:3260 -I wrongmac --login >/tmp/wrong.out 2>&1; rc=$?
cat /tmp/wrong.out
[ "$rc" != 0 ] || fail "logged in through dm1's MAC: iface.hwaddress was not honoured"
[ -z "$(session_ids)" ] || fail "a session was left: $(session_ids)"

step "iface.hwaddress no device has: exit 4, says which"
iadm -m node -T "$IQN" -p 10.99.0.1:3260 -I nomac --login >/tmp/nomac.out 2>&1; rc=$?
cat /tmp/nomac.out
[ "$rc" = 4 ] || fail "unknown MAC: exit $rc, expected 4"
grep -q "iface nomac: no network interface has hardware address 02:00:5e:00:53:99" /tmp/nomac.out ||
    fail "unknown MAC: no clear message"

step "iface.hwaddress of dm0: logs in"
iadm -m node -T "$IQN" -p 10.99.0.1:3260 -I viamac --login || fail "login through dm0's MAC exited $?"
sid=$(session_of "$IQN") || fail "no session"
h=$(basename "$(readlink -f "/sys/class/iscsi_session/session$sid/device/..")")
echo "session $sid on $h: hwaddress $(cat "/sys/class/iscsi_host/$h/hwaddress" 2>/dev/null)," \
    "ipaddress $(cat "/sys/class/iscsi_host/$h/ipaddress" 2>/dev/null)"
iadm -m node -T "$IQN" -p 10.99.0.1:3260 -I viamac --logout >/dev/null || fail "logout exited $?"

step "a portal host name whose lookup hangs"
printf 'hosts: files dns\n' >/etc/nsswitch.conf
printf 'nameserver 10.53.0.53\noptions timeout:5 attempts:5\n' >/etc/resolv.conf
new_node default slow.example:3260
iadm -m node -T "$IQN" -p slow.example:3260 -o update -n node.conn[0].timeo.login_timeout -v 10 ||
    fail "slow.example: update"
t0=$(now_ms)
iadm -m node -T "$IQN" -p slow.example:3260 --login >/tmp/slow.out 2>&1 &
spid=$!
sleep 1
iadm -m node -T "$IQN" -p 127.0.0.1:3260 -o new >/dev/null
iadm -m node -T "$IQN" -p 127.0.0.1:3260 --login >/tmp/fast.out 2>&1 || { cat /tmp/fast.out; fail "login to 127.0.0.1 exited $?"; }
t1=$(now_ms)
iadm -m session >/tmp/sessions.out 2>&1 || fail "-m session exited $?"
cat /tmp/sessions.out
echo "another login was done $((t1 - t0)) ms after the lookup started"
[ $((t1 - t0)) -lt 8000 ] || fail "another login waited $((t1 - t0)) ms behind a name lookup"
kill -0 "$spid" 2>/dev/null || { cat /tmp/slow.out; fail "the lookup did not hang (the test's black hole leaks)"; }
wait "$spid"; rc=$?
t2=$(now_ms)
cat /tmp/slow.out
[ "$rc" = 4 ] || fail "login to slow.example: exit $rc, expected 4"
grep -q "cannot resolve slow.example: no answer from the name service within 9.5 s" /tmp/slow.out ||
    fail "login to slow.example: no clear message"
echo "the hung lookup's login failed after $((t2 - t0)) ms"
iadm -m node --logoutall=all >/dev/null || fail "logoutall exited $?"
echo "PASS"
