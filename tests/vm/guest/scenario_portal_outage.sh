#!/bin/sh
# The target's portal group is disabled for ~4 s (well under
# replacement_timeout) while a dd writes through the disk, then enabled:
# the session recovers by itself, dd exits 0, the data is all there.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

IQN=iqn.2003-01.org.example.vmtest:outage
BACKING=$LIO_BACKING_DIR/outage_0.img
CHUNKS=16

step "target + login"
lio_simple_target "$IQN" 64M || fail "LIO setup"
init_start || fail "iscsid did not start"
iadm -m discovery -t st -p "$PORTAL" >/dev/null || fail "discovery exited $?"
iadm -m node -T "$IQN" -p "$PORTAL" --login || fail "login exited $?"
wait_for_disks 1 30 || fail "no disk after login"
sid=$(session_of "$IQN"); disk=$(all_disks)
echo "session $sid, /dev/$disk"

step "background writer: one dd, $CHUNKS MiB fed at ~3 MiB/s"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=$CHUNKS 2>/dev/null
want=$(sha256sum </tmp/pattern | cut -d' ' -f1)
# The feeder paces the data so that the dd is mid-stream during the outage.
(
    i=0
    while [ "$i" -lt "$CHUNKS" ]; do
        dd if=/tmp/pattern bs=1M skip="$i" count=1 2>/dev/null; sleep 0.3; i=$((i + 1))
    done | dd of="/dev/$disk" bs=1M iflag=fullblock oflag=direct 2>/tmp/dd.err
    echo $? >/tmp/dd.rc
) &
writer=$!
sleep 1
kill -0 "$writer" 2>/dev/null || fail "the writer ended before the outage: $(cat /tmp/dd.err)"

step "portal disabled (tpgt_1/enable = 0)"
t0=$(now_ms)
lio_tpg_disable "$IQN" || fail "LIO disable"
wait_for 4 sh -c "[ \"\$(cat /sys/class/iscsi_session/session$sid/state)\" != LOGGED_IN ]" ||
    fail "session still LOGGED_IN with the portal disabled"
echo "initiator sees: $(session_state "$sid")"
while [ $(( $(now_ms) - t0 )) -lt 4000 ]; do sleep 0.2; done
kill -0 "$writer" 2>/dev/null || fail "the writer ended during the outage: $(cat /tmp/dd.err)"

step "portal enabled after $(( $(now_ms) - t0 )) ms"
lio_tpg_enable "$IQN" || fail "LIO enable"
wait_for 40 sh -c "[ \"\$(cat /sys/class/iscsi_session/session$sid/state)\" = LOGGED_IN ]" ||
    fail "session did not recover within 40 s (state $(session_state "$sid"))"
echo "session $sid LOGGED_IN again $(( $(now_ms) - t0 )) ms after the outage began"
[ "$(session_ids)" = "$sid" ] || fail "sessions now: $(session_ids | tr '\n' ' '), expected only $sid"

step "writer finishes without an I/O error"
wait "$writer"
rc=$(cat /tmp/dd.rc 2>/dev/null)
cat /tmp/dd.err
[ "$rc" = 0 ] || fail "dd exited ${rc:-?}: $(cat /tmp/dd.err)"
grep -q "^$CHUNKS+0 records out" /tmp/dd.err || fail "dd did not write $CHUNKS full MiB"

step "data checks out (disk and backing file)"
got=$(dd if="/dev/$disk" bs=1M count=$CHUNKS iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "disk holds $got, wrote $want"
got=$(dd if="$BACKING" bs=1M count=$CHUNKS 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "backing file holds $got, wrote $want"
[ "$(p3_disks "$IQN")" = "$disk" ] || fail "-P 3 does not show /dev/$disk running after recovery"
dmesg | grep -E 'I/O error|rejecting I/O' && fail "the kernel logged I/O errors"

step "logout"
iadm -m node -T "$IQN" -p "$PORTAL" --logout || fail "logout exited $?"
wait_no_sessions 15 || fail "session left after logout"
init_stop
step "portal_outage OK"
