#!/bin/bash
# Only root (and, when configured, one group) may use the control socket:
# a refused client gets 13, whether the socket's permissions stop it or
# iscsid's SO_PEERCRED check does. Needs root to act as another user.
. "${top_srcdir:-.}/tests/integration/lib_iscsid.sh"
[ "$(id -u)" = 0 ] || skip "needs root to run clients as another user"
command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
setup_root
# The probe must be reachable for the unprivileged user.
mkdir -p "$R/bin"
cp "$PROBE" "$R/bin/ipc_probe"
chmod 755 "$R/bin" "$R/bin/ipc_probe"
P=$R/bin/ipc_probe
G=4242

fake_modprobe
"$ISCSID" -f -d 1 --root "$R" --sysfs-root "$R/sys" --modprobe "$R/modprobe" --ipc-allow-gid $G 2>>"$R/log" &
DPID=$!
wait_ready

[ "$(stat -c '%a %g' "$S")" = "660 $G" ] || fail "socket is $(stat -c '%a %g' "$S"), expected 660 $G"

as() { # <setpriv args...> -- probe args
	OUT=$(setpriv "$@" 2>&1)
	ST=$?
}

# Not in the group at all: the socket's permissions refuse the connect.
as --reuid=65534 --regid=65534 --clear-groups "$P" "$S" hello
expect_status 13 "connect without permission"
expect_out "could not connect to iscsid at $S: Permission denied" "connect without permission"

# In the group as a supplementary group: the socket lets it connect, but
# SO_PEERCRED reports its primary group, and iscsid refuses it.
as --reuid=65534 --regid=65534 --groups=$G "$P" "$S" hello
expect_status 13 "refused by iscsid"
expect_out "iscsid refused the request: permission denied for uid 65534" "refused by iscsid"
expect_log "refused client" "refusal logged"
as --reuid=65534 --regid=65534 --groups=$G "$P" "$S" login /dev/null
expect_status 13 "login refused by iscsid"

# Primary group allowed by --ipc-allow-gid: served.
as --reuid=65534 --regid=$G --clear-groups "$P" "$S" hello
expect_status 0 "allowed group"
expect_out "initiator_name=$IT_NAME" "allowed group"

probe "$S" hello
expect_status 0 "root after refusals"

stop_daemon || fail "iscsid exited with $?"

# Without --ipc-allow-gid the socket is root's alone.
"$ISCSID" -f --root "$R" --sysfs-root "$R/sys" --modprobe "" 2>>"$R/log" &
DPID=$!
wait_ready
[ "$(stat -c '%a %u' "$S")" = "600 0" ] || fail "socket is $(stat -c '%a %u' "$S"), expected 600 0"
as --reuid=65534 --regid=$G --clear-groups "$P" "$S" hello
expect_status 13 "no group configured"
stop_daemon || fail "iscsid exited with $?"
echo "PASS"
