# Shared by tests/integration/iscsid_*.sh: runs iscsid in the foreground
# under a temporary root with a fake sysfs that has no iscsi_transport, so
# nothing touches the real system. Tests run from the build directory.

ISCSID=${ISCSID:-./iscsid/iscsid}
PROBE=${PROBE:-./tests/tools/ipc_probe}
HARNESS=${HARNESS:-./tests/tools/sd_harness}
IT_NAME=iqn.2020-01.org.example:test-initiator
DPID=

fail() {
	echo "FAIL: $*"
	if [ -n "${R:-}" ] && [ -f "$R/log" ]; then
		echo "--- iscsid log"
		cat "$R/log"
	fi
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

cleanup() {
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	[ -n "${R:-}" ] && rm -rf "$R"
}

setup_root() {
	R=$(mktemp -d /tmp/iscsid-it.XXXXXX) || fail "mktemp"
	chmod 755 "$R"
	mkdir -p "$R/sys/class"
	echo "InitiatorName=$IT_NAME" > "$R/initiatorname.iscsi"
	S=$R/iscsid.sock
	trap cleanup EXIT
}

# A stand-in for modprobe that records each call and fails.
fake_modprobe() { # [seconds to sleep]
	cat > "$R/modprobe" <<EOS
#!/bin/sh
echo "\$*" >> "$R/modprobe.calls"
sleep ${1:-0}
exit 1
EOS
	chmod 755 "$R/modprobe"
}

# Polls HELLO until it answers (5 s).
wait_ready() { # [socket]
	local i
	for i in $(seq 1 100); do
		"$PROBE" "${1:-$S}" hello >/dev/null 2>&1 && return 0
		if [ -n "$DPID" ] && ! kill -0 "$DPID" 2>/dev/null; then
			fail "iscsid exited during start-up"
		fi
		sleep 0.05
	done
	fail "iscsid did not answer HELLO within 5 s"
}

start_daemon() { # [extra iscsid args]
	[ -x "$R/modprobe" ] || fake_modprobe
	"$ISCSID" -f -d 1 --root "$R" --sysfs-root "$R/sys" --modprobe "$R/modprobe" \
		--ipc-allow-gid "$(id -g)" "$@" 2>>"$R/log" &
	DPID=$!
	wait_ready
}

# SIGKILL, as a crash would: no clean-up by the daemon. The job is
# disowned first so bash does not print a "Killed" notice later.
kill_hard() {
	local i
	disown "$DPID" 2>/dev/null
	kill -KILL "$DPID"
	for i in $(seq 1 250); do
		[ -e "/proc/$DPID" ] && ! grep -q '^State:.*Z' "/proc/$DPID/status" 2>/dev/null || break
		sleep 0.02
	done
	DPID=
}

# Sends SIGTERM and returns iscsid's exit status.
stop_daemon() {
	local st
	kill -TERM "$DPID"
	wait "$DPID"
	st=$?
	DPID=
	return $st
}

# Runs the probe, keeps its output in $OUT and its status in $ST.
probe() {
	OUT=$("$PROBE" "$@" 2>&1)
	ST=$?
}

expect_status() { # <status> <what>
	[ "$ST" = "$1" ] || fail "$2: expected status $1, got $ST: $OUT"
}

expect_out() { # <fixed string> <what>
	case "$OUT" in
	*"$1"*) ;;
	*) fail "$2: expected '$1' in: $OUT" ;;
	esac
}

expect_log() { # <fixed string> <what>
	grep -qF -- "$1" "$R/log" || fail "$2: expected '$1' in the log"
}
