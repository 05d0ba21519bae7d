#!/bin/sh
# A target that answers the Login Request with a PDU the kernel refuses
# (tests/tools/hostile_target: a Login Response for an ITT never issued,
# one that claims DataSegmentLength 16777215 with 62 bytes sent). The
# kernel raises a connection error; the login must fail as a protocol
# error by the target (exit 19, the kernel's reason in the message), not
# as an authentication failure, and leave no session or SCSI host behind.
# A real target (LIO) closing the connection without an answer is still
# an authentication failure (24): the heuristic for that case stays.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

HT=${HOSTILE_TARGET:-/opt/tools/hostile_target}
IQN=iqn.2024-01.org.example.hostile:t0000

[ -x "$HT" ] || fail "$HT missing (build it with make check: tests/tools/hostile_target)"
init_start || fail "iscsid did not start"

# hostile_login MODE CODE REASON: the login through MODE's target.
hostile_login() {
    local pid p rc
    rm -f /tmp/ht.port
    "$HT" -m "$1" >/tmp/ht.port 2>/tmp/ht.err &
    pid=$!
    wait_for 5 test -s /tmp/ht.port || fail "hostile_target -m $1 did not start: $(cat /tmp/ht.err)"
    p=127.0.0.1:$(cat /tmp/ht.port)
    iadm -m node -T "$IQN" -p "$p" -o new >/dev/null || fail "-o new exited $?"
    # open-iscsi ignores the kernel's error and waits for the login timer
    node_set "$IQN" "$p" node.conn[0].timeo.login_timeout 3 >/dev/null
    node_set "$IQN" "$p" node.session.initial_login_retry_max 1 >/dev/null
    iadm -m node -T "$IQN" -p "$p" --login >/tmp/login.out 2>&1; rc=$?
    cat /tmp/login.out
    echo "$1: exit $rc"
    [ "$rc" != 0 ] || fail "$1: the login succeeded"
    if [ "$INITIATOR" = ours ]; then
        [ "$rc" = "$2" ] || fail "$1: exit $rc, expected $2 (protocol error by the target)"
        grep -q "protocol error by the target" /tmp/login.out || fail "$1: no 'protocol error by the target'"
        grep -q "$3" /tmp/login.out || fail "$1: the kernel's reason ($3) is not reported"
        grep -qi "authentication" /tmp/login.out && fail "$1: reported as an authentication failure"
    fi
    dmesg | grep -E 'datalen|itt' | tail -n 2
    wait_for 5 sh -c '[ -z "$(ls /sys/class/iscsi_session 2>/dev/null)" ]' ||
        fail "$1: session left: $(session_ids | tr '\n' ' ')"
    [ -z "$(ls /sys/class/iscsi_host 2>/dev/null)" ] || fail "$1: SCSI host left: $(ls /sys/class/iscsi_host)"
    iadm -m node -T "$IQN" -p "$p" -o delete >/dev/null
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
}

step "Login Response with DataSegmentLength 16777215, 62 bytes sent"
hostile_login login-huge-dsl 19 DATALEN

step "Login Response for an ITT the initiator never issued"
hostile_login login-bad-itt 19 BAD_ITT

step "LIO closing without an answer (CHAP required, none configured) is still 24"
lio_simple_target iqn.2003-01.org.example.vmtest:needchap 8M &&
    lio_auth iqn.2003-01.org.example.vmtest:needchap vmuser vmsecret12345 || fail "LIO setup"
iadm -m discovery -t st -p "$PORTAL" >/dev/null || fail "discovery exited $?"
iadm -m node -T iqn.2003-01.org.example.vmtest:needchap -p "$PORTAL" --login >/tmp/login.out 2>&1; rc=$?
cat /tmp/login.out
auth_fail_ok "$rc" || fail "login without CHAP to a CHAP target exited $rc, expected 24"
[ -z "$(session_ids)" ] || fail "session left after the refused login"
init_stop
step "hostile_login OK"
