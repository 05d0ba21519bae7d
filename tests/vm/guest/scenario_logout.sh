#!/bin/sh
# Logout removes the session and its disks (/dev/sdX gone, nothing left in
# /sys/class/iscsi_session); logging out one target leaves the others
# alone; --logoutall=all ends every session.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

PFX=iqn.2003-01.org.example.vmtest:logout
N=4

step "$N targets, $N logins"
lio_targets_create $N "$PFX" 16M || fail "LIO setup"
init_start || fail "iscsid did not start"
[ "$(iadm -m discovery -t st -p "$PORTAL" | grep -c " ${PFX}[0-9]*\$")" = $N ] ||
    fail "discovery did not list $N targets"
i=1
while [ "$i" -le $N ]; do
    iadm -m node -T "$PFX$i" -p "$PORTAL" --login || fail "login $i exited $?"
    i=$((i + 1))
done
wait_for_disks $N 30 || fail "expected $N disks, have $(disk_count)"
[ "$(session_count)" = $N ] || fail "expected $N sessions, have $(session_count)"
sid1=$(session_of "${PFX}1"); disk1=$(disks_of_session "$sid1")
others=$(all_disks | grep -vx "$disk1" | tr '\n' ' ')
echo "target 1: session $sid1 /dev/$disk1; others: $others"

step "logout of target 1 only"
iadm -m node -T "${PFX}1" -p "$PORTAL" --logout; rc=$?
[ "$rc" = 0 ] || fail "logout exited $rc"
wait_for 10 sh -c "[ ! -e /dev/$disk1 ] && [ ! -e /sys/class/iscsi_session/session$sid1 ]" ||
    fail "/dev/$disk1 or session $sid1 still there 10 s after logout"
[ "$(session_count)" = $((N - 1)) ] || fail "$(session_count) sessions left, expected $((N - 1))"
for d in $others; do
    [ -b "/dev/$d" ] || fail "/dev/$d of another target vanished"
    dd if="/dev/$d" of=/dev/null bs=1M count=1 iflag=direct 2>/dev/null || fail "read /dev/$d"
done
[ -z "$(lio_sessions "${PFX}1")" ] || fail "target 1 still lists a session"
iadm -m node -T "${PFX}1" -p "$PORTAL" --logout >/dev/null 2>&1; rc=$?
[ "$rc" = 21 ] || fail "logout of a target without a session exited $rc, expected 21"

step "--logoutall=all with $((N - 1)) sessions"
iadm -m node --logoutall=all; rc=$?
[ "$rc" = 0 ] || fail "--logoutall=all exited $rc"
wait_no_sessions 15 || fail "left after --logoutall=all: sessions $(session_ids | tr '\n' ' ') disks $(all_disks | tr '\n' ' ')"
for d in $disk1 $others; do
    [ ! -e "/dev/$d" ] || fail "/dev/$d still exists"
done
[ -z "$(ls /sys/class/iscsi_session/)" ] || fail "/sys/class/iscsi_session not empty"
[ -z "$(ls /sys/class/iscsi_connection/)" ] || fail "/sys/class/iscsi_connection not empty"
i=1
while [ "$i" -le $N ]; do
    [ -z "$(lio_sessions "$PFX$i")" ] || fail "target $i still lists a session"
    i=$((i + 1))
done
iadm -m session >/tmp/s.out 2>&1; rc=$?
[ "$rc" = 21 ] || fail "-m session with no sessions exited $rc, expected 21: $(cat /tmp/s.out)"
iadm -m node --logoutall=all >/dev/null 2>&1; rc=$?
[ "$rc" = 21 ] || fail "--logoutall=all with no sessions exited $rc, expected 21"

step "the targets take new logins"
iadm -m node -T "${PFX}2" -p "$PORTAL" --login || fail "login again exited $?"
wait_for_disks 1 30 || fail "no disk after logging in again"
iadm -m node --logoutall=all || fail "--logoutall=all exited $?"
wait_no_sessions 15 || fail "session left"
init_stop
step "logout OK"
