#!/bin/bash
# iscsid starts, answers HELLO, rejects bad frames and other protocol
# versions with a clear answer and keeps serving; a second daemon refuses
# to start; a stale socket is replaced.
. "${top_srcdir:-.}/tests/integration/lib_iscsid.sh"
setup_root
start_daemon

probe "$S" hello
expect_status 0 "HELLO"
expect_out "initiator_name=$IT_NAME" "HELLO initiator name"
expect_out "proto_version=1" "HELLO protocol version"
expect_out "daemon_version=" "HELLO daemon version"
expect_out "config_file=$R/iscsid.conf" "HELLO config file"

[ "$(cat "$R/iscsid.pid")" = "$DPID" ] || fail "pid file does not hold the daemon's pid"
[ -S "$S" ] || fail "no control socket at $S"
mode=$(stat -c %a "$S")
[ "$mode" = 660 ] || fail "socket mode $mode, expected 660 with --ipc-allow-gid"

# Another protocol version: an answer any version can read, naming both.
probe "$S" version 2
expect_status 16 "version mismatch"
expect_out "iscsid speaks protocol 1, the client speaks protocol 2: install matching versions" "version mismatch"
expect_out "version=1" "version mismatch answer header"
expect_out "id=4660" "version mismatch echoes the request id"

probe "$S" garbage
expect_status 16 "bad magic"
expect_out "bad magic" "bad magic"
probe "$S" malformed
expect_status 16 "malformed fields"
expect_out "malformed LOGIN request" "malformed fields"
probe "$S" badtype
expect_status 16 "unknown type"
expect_out "unknown request type 999" "unknown type"

probe "$S" state
expect_status 0 "SESSION_LIST_STATE"
case "$OUT" in *session*) fail "sessions listed with no transport: $OUT" ;; esac

probe "$S" hello
expect_status 0 "HELLO after bad clients"

# A second daemon under the same root: refused by the pid file.
if timeout 5 "$ISCSID" -f --root "$R" --sysfs-root "$R/sys" --modprobe "" 2>"$R/second.log"; then
	fail "a second iscsid started"
fi
grep -qF "iscsid is already running (pid $DPID holds $R/iscsid.pid)" "$R/second.log" ||
	fail "second daemon's message: $(cat "$R/second.log")"
# ... and by the socket when the pid file differs.
if timeout 5 "$ISCSID" -f --root "$R" -p "$R/other.pid" --sysfs-root "$R/sys" --modprobe "" 2>"$R/second.log"; then
	fail "a second iscsid started on the same socket"
fi
grep -qF "another iscsid is already listening on $S" "$R/second.log" ||
	fail "second daemon's message: $(cat "$R/second.log")"
[ -e "$R/other.pid" ] && fail "the refused daemon left its pid file"

# A daemon that died hard leaves its socket and pid file: both are taken over.
kill_hard
[ -S "$S" ] || fail "expected a stale socket after SIGKILL"
start_daemon
expect_log "removed stale control socket $S" "stale socket"
probe "$S" hello
expect_status 0 "HELLO after replacing a stale socket"

stop_daemon || fail "iscsid exited with $?"

# $ISCSI_ROOT relocates like --root.
ISCSI_ROOT=$R "$ISCSID" -f --sysfs-root "$R/sys" --modprobe "" --ipc-allow-gid "$(id -g)" 2>>"$R/log" &
DPID=$!
wait_ready
[ "$(cat "$R/iscsid.pid")" = "$DPID" ] || fail "ISCSI_ROOT: pid file not under the root"
stop_daemon || fail "iscsid exited with $?"

# Command line errors: exit 7 with a message.
"$ISCSID" -d 9 2>"$R/usage.log"
st=$?
[ $st = 7 ] || fail "-d 9: exit status $st"
grep -qF "wants a level from 0 to 8" "$R/usage.log" || fail "-d 9: $(cat "$R/usage.log")"
"$ISCSID" --root relative/dir -f 2>"$R/usage.log"
st=$?
[ $st = 7 ] || fail "relative root: exit status $st"
echo "PASS"
