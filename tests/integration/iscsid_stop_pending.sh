#!/bin/bash
# SIGTERM while a login waits: the waiting client gets the transport's
# answer (exit 9, "iscsid is stopping"), not a dropped connection (18).
# The login waits here for a modprobe that takes its time; any pending
# request is answered the same way.
. "${top_srcdir:-.}/tests/integration/lib_iscsid.sh"
ADM=${ADM:-./iscsiadm/iscsiadm}
setup_root
fake_modprobe 10
start_daemon
T=iqn.2003-01.org.example:stop-pending
"$ADM" --root "$R" --sysfs "$R/sys" -m node -o new -T "$T" -p 192.0.2.1:3260 >/dev/null 2>&1 ||
	fail "cannot create the node record"

# the CLI, and a raw control client beside it
"$ADM" --root "$R" --sysfs "$R/sys" -m node -T "$T" -p 192.0.2.1:3260 --login >"$R/adm.out" 2>&1 &
apid=$!
"$PROBE" "$S" login <("$ADM" --root "$R" --sysfs "$R/sys" -m node -T "$T" -p 192.0.2.1:3260) >"$R/probe.out" 2>&1 &
ppid=$!
for i in $(seq 1 100); do
	[ -s "$R/modprobe.calls" ] && grep -q "login to \[iface: default, target: $T" "$R/log" 2>/dev/null && break
	[ -s "$R/modprobe.calls" ] && [ "$i" -gt 20 ] && break
	sleep 0.05
done
[ -s "$R/modprobe.calls" ] || fail "the login did not start modprobe"
sleep 0.3
kill -0 "$apid" 2>/dev/null || fail "iscsiadm did not wait: $(cat "$R/adm.out")"

stop_daemon || fail "iscsid exited with $?"
wait "$apid"
st=$?
OUT=$(cat "$R/adm.out")
[ "$st" = 9 ] || fail "iscsiadm --login exited $st, expected 9: $OUT"
expect_out "iscsid is stopping" "iscsiadm's message"
wait "$ppid"
OUT=$(cat "$R/probe.out")
expect_out "status=9" "control client's status"
expect_out "iscsid is stopping" "control client's message"
echo "PASS"
