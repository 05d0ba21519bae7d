#!/bin/sh
# iscsid is killed with SIGKILL while a dd writes through its disk, then
# restarted: the new daemon adopts the kernel sessions (-m session -P 3
# still lists them with their disks), I/O carries on across the restart,
# and a logout through the new daemon works.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

PFX=iqn.2003-01.org.example.vmtest:restart
CHUNKS=12

step "two targets, two sessions"
lio_targets_create 2 "$PFX" 32M || fail "LIO setup"
init_start || fail "iscsid did not start"
iadm -m discovery -t st -p "$PORTAL" >/dev/null || fail "discovery exited $?"
iadm -m node -T "${PFX}1" -p "$PORTAL" --login || fail "login 1 exited $?"
iadm -m node -T "${PFX}2" -p "$PORTAL" --login || fail "login 2 exited $?"
wait_for_disks 2 30 || fail "expected 2 disks, have $(disk_count)"
sid1=$(session_of "${PFX}1"); sid2=$(session_of "${PFX}2")
disk1=$(disks_of_session "$sid1"); disk2=$(disks_of_session "$sid2")
echo "sessions $sid1 (/dev/$disk1) and $sid2 (/dev/$disk2)"

step "background writer on /dev/$disk1"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=$CHUNKS 2>/dev/null
want=$(sha256sum </tmp/pattern | cut -d' ' -f1)
(
    i=0
    while [ "$i" -lt "$CHUNKS" ]; do
        dd if=/tmp/pattern bs=1M skip="$i" count=1 2>/dev/null; sleep 0.4; i=$((i + 1))
    done | dd of="/dev/$disk1" bs=1M iflag=fullblock oflag=direct 2>/tmp/dd.err
    echo $? >/tmp/dd.rc
) &
writer=$!
sleep 1

step "SIGKILL iscsid (pid $(init_pid))"
init_kill9 || fail "kill -9"
[ "$(session_ids | tr '\n' ' ')" = "$sid1 $sid2 " ] || fail "sessions changed with the daemon gone: $(session_ids)"
# The kernel keeps doing I/O without the daemon.
dd if=/tmp/pattern of="/dev/$disk2" bs=1M count=2 oflag=direct 2>/dev/null || fail "write to /dev/$disk2 without iscsid"
kill -0 "$writer" 2>/dev/null || fail "the writer ended before the restart: $(cat /tmp/dd.err)"
sleep 1

step "restart iscsid"
init_start || fail "iscsid did not restart"
kill -0 "$writer" 2>/dev/null || echo "note: the writer finished before the restart completed"
# A daemon may re-login to resynchronise an adopted session (open-iscsi
# does for a session with I/O in flight), so allow it some seconds.
both_running() {
    [ "$(p3_disks "${PFX}1")" = "$disk1" ] && [ "$(p3_disks "${PFX}2")" = "$disk2" ]
}
wait_for 30 both_running || {
    iadm -m session -P 3 | grep -E 'Target:|Session State|Attached scsi disk'
    fail "-P 3 after the restart does not show /dev/$disk1 and /dev/$disk2 running"
}
p3=$(iadm -m session -P 3); rc=$?
echo "$p3" | grep -E 'Target:|Session State|Attached scsi disk'
[ "$rc" = 0 ] || fail "-m session -P 3 exited $rc after the restart"
[ "$(echo "$p3" | grep -c 'iSCSI Session State: LOGGED_IN')" = 2 ] || fail "-P 3 does not show 2 LOGGED_IN sessions"
iadm -m session | grep -q "^tcp: \[$sid1\] $PORTAL,1 ${PFX}1" || fail "-m session does not list [$sid1]"

step "the writer finished without an I/O error"
wait "$writer"
rc=$(cat /tmp/dd.rc 2>/dev/null)
[ "$rc" = 0 ] || fail "dd exited ${rc:-?}: $(cat /tmp/dd.err)"
got=$(dd if="/dev/$disk1" bs=1M count=$CHUNKS iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "/dev/$disk1 holds $got, wrote $want"

step "the adopted sessions still recover: portal of target 1 off 3 s"
lio_tpg_disable "${PFX}1" && sleep 3 || fail "LIO disable"
[ "$(session_state "$sid1")" != LOGGED_IN ] || fail "session $sid1 still LOGGED_IN with its portal off"
lio_tpg_enable "${PFX}1" || fail "LIO enable"
wait_for 40 sh -c "[ \"\$(cat /sys/class/iscsi_session/session$sid1/state)\" = LOGGED_IN ]" ||
    fail "adopted session $sid1 did not recover (state $(session_state "$sid1"))"
got=$(dd if="/dev/$disk1" bs=1M count=$CHUNKS iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "/dev/$disk1 after recovery holds $got"

step "logout through the new daemon"
iadm -m node -T "${PFX}1" -p "$PORTAL" --logout || fail "logout 1 exited $?"
wait_for 15 sh -c "[ ! -e /sys/class/iscsi_session/session$sid1 ]" || fail "session $sid1 left after logout"
[ ! -e "/dev/$disk1" ] || fail "/dev/$disk1 left after logout"
iadm -m session -r "$sid2" -u || fail "logout of session $sid2 by id exited $?"
wait_no_sessions 15 || fail "sessions left: $(session_ids | tr '\n' ' ')"
init_stop
step "iscsid_restart OK"
