#!/bin/sh
# Discovery, login, the disk attaches (-m session -P 3 shows it running,
# /dev/sdX exists with the LUN's size); 8 MiB written through the disk read
# back identical and identical in the target's backing file.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

IQN=iqn.2003-01.org.example.vmtest:loginio
BACKING=$LIO_BACKING_DIR/loginio_0.img

step "target: $IQN, one 64 MiB LUN"
lio_simple_target "$IQN" 64M || fail "LIO setup"
init_start || fail "iscsid did not start"

step "discovery"
out=$(iadm -m discovery -t st -p "$PORTAL"); rc=$?
echo "$out"
[ "$rc" = 0 ] || fail "discovery exited $rc"
echo "$out" | grep -q "^$PORTAL,1 $IQN\$" || fail "discovery did not report '$PORTAL,1 $IQN'"

step "login"
iadm -m node -T "$IQN" -p "$PORTAL" --login; rc=$?
[ "$rc" = 0 ] || fail "login exited $rc"
wait_for_disks 1 30 || fail "no disk 30 s after login"
sid=$(session_of "$IQN") || fail "no session in /sys/class/iscsi_session for $IQN"
[ "$(session_state "$sid")" = LOGGED_IN ] || fail "session $sid state: $(session_state "$sid")"
disk=$(disks_of_session "$sid")
[ "$(echo "$disk" | wc -w)" = 1 ] || fail "expected one disk, got: $disk"
[ -b "/dev/$disk" ] || fail "/dev/$disk is not a block device"
size=$(disk_bytes "$disk")
[ "$size" = 67108864 ] || fail "/dev/$disk has $size bytes, expected 67108864"
[ "$(blockdev --getsize64 "/dev/$disk")" = 67108864 ] || fail "blockdev --getsize64 /dev/$disk"
[ "$(lio_sessions "$IQN")" = "$INIT_NAME" ] || fail "target lists sessions: $(lio_sessions "$IQN")"

step "iscsiadm -m session -P 3"
p3=$(iadm -m session -P 3); rc=$?
echo "$p3"
[ "$rc" = 0 ] || fail "-m session -P 3 exited $rc"
echo "$p3" | grep -q "Target: $IQN" || fail "-P 3 does not name $IQN"
echo "$p3" | grep -q "iSCSI Session State: LOGGED_IN" || fail "-P 3 does not show LOGGED_IN"
[ "$(p3_disks "$IQN")" = "$disk" ] ||
    fail "-P 3 does not show 'Attached scsi disk $disk<TAB><TAB>State: running'"
iadm -m session | grep -q "^tcp: \[$sid\] $PORTAL,1 $IQN" || fail "-m session flat line for [$sid]"

step "write 8 MiB at offset 4 MiB through /dev/$disk, read back"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=8 2>/dev/null
want=$(sha256sum </tmp/pattern | cut -d' ' -f1)
dd if=/tmp/pattern of="/dev/$disk" bs=1M seek=4 oflag=direct 2>/tmp/dd.err || fail "write: $(cat /tmp/dd.err)"
got=$(dd if="/dev/$disk" bs=1M skip=4 count=8 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "read back sha256 $got, wrote $want"
md5a=$(md5sum </tmp/pattern | cut -d' ' -f1)
md5b=$(dd if="/dev/$disk" bs=1M skip=4 count=8 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
[ "$md5a" = "$md5b" ] || fail "read back md5 $md5b, wrote $md5a"
tgt=$(dd if="$BACKING" bs=1M skip=4 count=8 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$tgt" = "$want" ] || fail "target backing file holds $tgt, wrote $want"
echo "sha256 $want on the disk and in the backing file"

step "logout"
iadm -m node -T "$IQN" -p "$PORTAL" --logout; rc=$?
[ "$rc" = 0 ] || fail "logout exited $rc"
wait_no_sessions 15 || fail "session or disk left after logout"
[ ! -e "/dev/$disk" ] || fail "/dev/$disk still exists after logout"
init_stop
step "login_io OK"
