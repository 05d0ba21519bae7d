#!/bin/bash
# systemd integration: a listening socket passed on fd 3 is served (and
# not removed at exit: it belongs to systemd), READY/RELOADING/STOPPING
# reach $NOTIFY_SOCKET (path and abstract names), and a wrong fd 3 is
# refused.
. "${top_srcdir:-.}/tests/integration/lib_iscsid.sh"
setup_root
fake_modprobe
A=$R/activated.sock

"$HARNESS" --listen "$A" --notify "$R/notify.log" -- \
	"$ISCSID" -f --root "$R" --sysfs-root "$R/sys" --modprobe "$R/modprobe" --ipc-allow-gid "$(id -g)" \
	2>>"$R/log" &
DPID=$!
wait_ready "$A"
probe "$A" hello
expect_status 0 "HELLO on the passed socket"
[ ! -e "$S" ] || fail "iscsid created its own socket although one was passed"
grep -qx "READY=1" "$R/notify.log" || fail "no READY=1: $(cat "$R/notify.log")"
kill -HUP "$DPID"
for i in $(seq 1 40); do grep -qx "RELOADING=1" "$R/notify.log" && break; sleep 0.05; done
grep -qx "RELOADING=1" "$R/notify.log" || fail "no RELOADING=1 after SIGHUP: $(cat "$R/notify.log")"
stop_daemon || fail "exit status $? under socket activation"
grep -qx "STOPPING=1" "$R/notify.log" || fail "no STOPPING=1: $(cat "$R/notify.log")"
[ -S "$A" ] || fail "iscsid removed the socket systemd passed"

# Abstract notification socket ("@name").
rm -f "$R/notify.log"
"$HARNESS" --listen "$A" --notify "$R/notify.log" --abstract -- \
	"$ISCSID" -f --root "$R" --sysfs-root "$R/sys" --modprobe "$R/modprobe" --ipc-allow-gid "$(id -g)" \
	2>>"$R/log" &
DPID=$!
wait_ready "$A"
grep -qx "READY=1" "$R/notify.log" || fail "abstract: no READY=1"
stop_daemon || fail "abstract: exit status $?"

# fd 3 that is not a listening socket: refuse to start.
if timeout 5 sh -c 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" -f --root "$1" --sysfs-root "$1/sys" --modprobe "" 3</dev/null' \
	"$ISCSID" "$R" 2>"$R/bad.log"; then
	fail "iscsid started with a bogus fd 3"
fi
grep -qF "descriptor 3 is not a listening UNIX stream socket" "$R/bad.log" || fail "bogus fd 3: $(cat "$R/bad.log")"

# systemd's own tool, when installed.
if command -v systemd-socket-activate >/dev/null; then
	systemd-socket-activate -l "$R/sa.sock" "$ISCSID" -f --root "$R" --sysfs-root "$R/sys" \
		--modprobe "" --ipc-allow-gid "$(id -g)" 2>>"$R/log" &
	DPID=$!
	for i in $(seq 1 100); do [ -S "$R/sa.sock" ] && break; sleep 0.05; done
	probe "$R/sa.sock" hello
	expect_status 0 "HELLO through systemd-socket-activate"
	stop_daemon || fail "systemd-socket-activate: exit status $?"
fi
echo "PASS"
