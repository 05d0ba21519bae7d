#!/bin/bash
# iscsid and iscsiadm hold CHAP secrets: neither may be dumped to a core
# file or traced by another process of its user. The kernel shows a
# process that is not dumpable by making /proc/PID/* root's; run both as an
# unprivileged user to see that.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
command -v setpriv >/dev/null || skip "setpriv missing"
[ -x "$HOSTILE" ] || skip "hostile_target not built"
setup_root
NOBODY=65534
chown "$NOBODY:$NOBODY" "$R"
AS_NOBODY="setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups --"

# /proc/PID/status's owner while PID runs as nobody: 0 when not dumpable.
check_not_dumpable() { # PID WHAT
	local uid owner
	uid=$(awk '$1 == "Uid:" { print $2 }' "/proc/$1/status")
	owner=$(stat -c %u "/proc/$1/status")
	[ "$uid" = "$NOBODY" ] || fail "$2 does not run as $NOBODY (uid $uid)"
	[ "$owner" = 0 ] || fail "$2 is dumpable: /proc/$1/status belongs to uid $owner"
}

printf '#!/bin/sh\nexit 1\n' > "$R/modprobe"
chmod 755 "$R/modprobe"
$AS_NOBODY "$ISCSID" -f --root "$R" --sysfs-root "$R/sys" --modprobe "$R/modprobe" 2>>"$R/iscsid.log" &
DPID=$!
for i in $(seq 1 100); do
	[ -S "$R/iscsid.sock" ] && break
	kill -0 "$DPID" 2>/dev/null || fail "iscsid exited during start-up"
	sleep 0.05
done
[ -S "$R/iscsid.sock" ] || fail "iscsid did not create its socket"
check_not_dumpable "$DPID" iscsid
kill -TERM "$DPID"
wait "$DPID" || fail "iscsid exited with $? on SIGTERM"
DPID=

# iscsiadm, while a discovery waits for a target that never answers
cat > "$R/iscsid.conf" <<EOC
discovery.sendtargets.timeo.login_timeout = 5
EOC
chmod 644 "$R/iscsid.conf"
start_hostile stall-login
$AS_NOBODY "$ADM" --root "$R" --sysfs "$R/sys" -m discovery -t st -p "127.0.0.1:$HPORT" >"$R/out" 2>"$R/err" &
apid=$!
for i in $(seq 1 100); do
	[ "$(awk '$1 == "Uid:" { print $2 }' "/proc/$apid/status")" = $NOBODY ] && break
	sleep 0.02
done
sleep 0.3
kill -0 "$apid" 2>/dev/null || fail "iscsiadm ended early: $(cat "$R/err")"
check_not_dumpable "$apid" iscsiadm
wait "$apid"
st=$?
[ "$st" = 11 ] || fail "discovery of a stalled target exited $st, expected 11: $(cat "$R/err")"
echo "PASS"
