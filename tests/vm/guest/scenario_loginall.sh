#!/bin/sh
# 32 targets (LOGINALL_N) discovered at once and logged in with
# --loginall=all: every target gets one session and one disk.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

PFX=iqn.2003-01.org.example.vmtest:many
N=${LOGINALL_N:-32}

step "$N targets"
lio_targets_create "$N" "$PFX" 8M || fail "LIO setup"
init_start || fail "iscsid did not start"

step "discovery"
t0=$(now_ms)
n=$(iadm -m discovery -t st -p "$PORTAL" | grep -c " ${PFX}[0-9]*\$")
[ "$n" = "$N" ] || fail "discovery listed $n targets, expected $N"

step "--loginall=all"
iadm -m node --loginall=all >/tmp/login.out 2>&1; rc=$?
[ "$rc" = 0 ] || { tail -n 5 /tmp/login.out; fail "--loginall=all exited $rc"; }
[ "$(grep -c 'successful' /tmp/login.out)" = "$N" ] || fail "expected $N 'successful' lines"
wait_for_disks "$N" 120 || fail "$(disk_count) of $N disks 120 s after --loginall=all"
echo "$N disks $(( $(now_ms) - t0 )) ms after discovery began"

step "each target: one session, one running disk of 8 MiB"
[ "$(session_count)" = "$N" ] || fail "$(session_count) sessions, expected $N"
[ "$(all_disks | sort -u | wc -l)" = "$N" ] || fail "disk names not distinct"
: >/tmp/targets
for sdir in /sys/class/iscsi_session/session*; do
    t=$(cat "$sdir/targetname"); sid=${sdir##*/session}
    d=$(disks_of_session "$sid")
    [ "$(echo "$d" | wc -w)" = 1 ] || fail "$t: disks '$d'"
    [ -b "/dev/$d" ] || fail "$t: /dev/$d missing"
    [ "$(disk_bytes "$d")" = 8388608 ] || fail "$t: /dev/$d has $(disk_bytes "$d") bytes"
    echo "$t" >>/tmp/targets
done
[ "$(grep -c "^${PFX}[0-9]*\$" /tmp/targets)" = "$N" ] || fail "sessions not on the $N targets"
[ "$(sort -u /tmp/targets | wc -l)" = "$N" ] || fail "a target has two sessions"
[ "$(p3_disks | wc -l)" = "$N" ] || fail "-P 3 shows $(p3_disks | wc -l) running disks, expected $N"
[ "$(ls /dev/sd* | wc -l)" -ge "$N" ] || fail "fewer than $N /dev/sd* nodes"

step "--logoutall=all"
t0=$(now_ms)
iadm -m node --logoutall=all >/dev/null || fail "--logoutall=all exited $?"
wait_no_sessions 60 || fail "$(session_count) sessions, $(disk_count) disks left"
echo "all gone after $(( $(now_ms) - t0 )) ms"
init_stop
step "loginall OK"
