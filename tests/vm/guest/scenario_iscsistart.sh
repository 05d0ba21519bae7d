#!/bin/sh
# Root-on-iSCSI logins without a daemon: iscsistart logs in to a CHAP
# target from its command line (-i/-t/-g/-a/-p/-u/-w) and to the target
# of a boot firmware table (-b: an iBFT tree on a tmpfs over /sys/firmware,
# where iscsi_ibft would put it), with no iscsid running before or after.
# The disks work; then iscsid starts and adopts both sessions (-P 3 shows
# them, a writer carries on across the adoption, the CHAP session
# recovers from a portal outage with the credentials the kernel kept);
# --logoutall=all leaves these boot (onboot) sessions alone, also once
# `-m discovery -t fw` has stored the firmware's record; -r SID -u ends
# them.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

PFX=iqn.2003-01.org.example.vmtest:boot
FW_INAME=iqn.2003-01.org.example.vmtest:firmware-client
CHUNKS=10

istart() {
    if [ "$INITIATOR" = ours ]; then
        ISCSI_ROOT=$INIT_ROOT "$OURS_DIR/iscsistart" "$@"
    else
        /usr/sbin/iscsistart "$@"
    fi
}
daemons() {
    local c
    for c in /proc/[0-9]*/comm; do
        [ "$(cat "$c" 2>/dev/null)" = iscsid ] && { c=${c%/comm}; echo "${c#/proc/}"; }
    done
}
cleanup_fw() { umount /sys/firmware 2>/dev/null; }
trap cleanup_fw EXIT

step "two targets: ${PFX}1 with CHAP, ${PFX}2 without"
lio_targets_create 2 "$PFX" 32M || fail "LIO setup"
lio_auth "${PFX}1" bootuser bootsecret1234 || fail "LIO CHAP"
init_setup || fail "initiator set-up"
[ -z "$(daemons)" ] || fail "an iscsid runs before the test: $(daemons)"

step "iscsistart -i -t -g -a -p -u -w (no iscsid)"
t0=$(now_ms)
istart -i "$INIT_NAME" -t "${PFX}1" -g 1 -a 127.0.0.1 -p 3260 -u bootuser -w bootsecret1234 \
    >/tmp/istart1.out 2>&1
rc=$?
t1=$(now_ms)
cat /tmp/istart1.out
[ "$rc" = 0 ] || fail "iscsistart exited $rc"
echo "iscsistart took $((t1 - t0)) ms"
sid1=$(session_of "${PFX}1") || fail "no session for ${PFX}1"
[ "$(session_state "$sid1")" = LOGGED_IN ] || fail "session $sid1 is $(session_state "$sid1")"
wait_for_disks 1 20 || fail "no disk for session $sid1"
disk1=$(disks_of_session "$sid1")
[ -b "/dev/$disk1" ] || fail "/dev/$disk1 missing"
[ -z "$(daemons)" ] || fail "iscsistart left an iscsid running: $(daemons)"
grep -q bootsecret1234 /tmp/istart1.out && fail "iscsistart printed the CHAP secret"
[ "$(cat /sys/class/iscsi_session/session$sid1/username)" = bootuser ] || fail "CHAP user not in sysfs"
[ "$(cat /sys/class/iscsi_session/session$sid1/initiatorname)" = "$INIT_NAME" ] || fail "initiator name"
if [ "$INITIATOR" = ours ]; then
    grep -q "Attached disks: $disk1" /tmp/istart1.out || fail "iscsistart did not report /dev/$disk1"
    ls -d /run/iscsistart.* >/dev/null 2>&1 && fail "iscsistart left its private directory: $(ls -d /run/iscsistart.*)"
fi

step "the same again: the session exists already"
istart -i "$INIT_NAME" -t "${PFX}1" -g 1 -a 127.0.0.1 -u bootuser -w bootsecret1234 >/tmp/istart2.out 2>&1
rc=$?
cat /tmp/istart2.out
if [ "$INITIATOR" = ours ]; then
    [ "$rc" = 0 ] || fail "second iscsistart exited $rc (a session that exists is no failure)"
    grep -q "already exists" /tmp/istart2.out || fail "second iscsistart did not say the session exists"
else
    echo "open-iscsi: exit $rc"
fi
[ "$(session_count)" = 1 ] || fail "$(session_count) sessions after the second iscsistart"

step "iscsistart -b with an iBFT on /sys/firmware (target ${PFX}2)"
mount -t tmpfs fwtest /sys/firmware || fail "tmpfs on /sys/firmware"
d=/sys/firmware/ibft
mkdir -p $d/initiator $d/ethernet0 $d/target0 || fail "mkdir"
w() { printf '%s\n' "$2" >"$d/$1"; }
w initiator/index 0; w initiator/flags 3; w initiator/initiator-name "$FW_INAME"
w ethernet0/index 0; w ethernet0/flags 3; w ethernet0/ip-addr 127.0.0.1; w ethernet0/prefix-len 8
printf 255.0.0.0 >$d/ethernet0/subnet-mask; w ethernet0/origin 1; w ethernet0/vlan 0
w ethernet0/mac 52:54:00:12:34:56
w target0/index 0; w target0/flags 3; w target0/ip-addr 127.0.0.1; w target0/port 3260
w target0/lun 00000000; w target0/chap-type 0; w target0/nic-assoc 0; w target0/target-name "${PFX}2"
istart -f >/tmp/fw.out 2>/tmp/fw.err || { cat /tmp/fw.out /tmp/fw.err; fail "iscsistart -f exited $?"; }
cat /tmp/fw.out
grep -q "^node.name = ${PFX}2$" /tmp/fw.out || fail "-f does not show the firmware target"
istart -b >/tmp/istart3.out 2>&1
rc=$?
cat /tmp/istart3.out
[ "$rc" = 0 ] || fail "iscsistart -b exited $rc"
sid2=$(session_of "${PFX}2") || fail "no session for ${PFX}2"
[ "$(cat /sys/class/iscsi_session/session$sid2/initiatorname)" = "$FW_INAME" ] ||
    fail "-b did not use the firmware's initiator name"
wait_for_disks 2 20 || fail "no disk for session $sid2"
disk2=$(disks_of_session "$sid2")
[ -z "$(daemons)" ] || fail "iscsistart -b left an iscsid running: $(daemons)"

step "I/O with no daemon at all"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=$CHUNKS 2>/dev/null
want=$(sha256sum </tmp/pattern | cut -d' ' -f1)
dd if=/tmp/pattern of="/dev/$disk2" bs=1M oflag=direct 2>/dev/null || fail "write to /dev/$disk2"
got=$(dd if="/dev/$disk2" bs=1M count=$CHUNKS iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "/dev/$disk2 reads back $got"
(
    i=0
    while [ "$i" -lt "$CHUNKS" ]; do
        dd if=/tmp/pattern bs=1M skip="$i" count=1 2>/dev/null; sleep 0.4; i=$((i + 1))
    done | dd of="/dev/$disk1" bs=1M iflag=fullblock oflag=direct 2>/tmp/dd.err
    echo $? >/tmp/dd.rc
) &
writer=$!
sleep 1

step "iscsid starts and adopts both sessions"
init_start || fail "iscsid did not start"
both_running() {
    [ "$(p3_disks "${PFX}1")" = "$disk1" ] && [ "$(p3_disks "${PFX}2")" = "$disk2" ]
}
wait_for 30 both_running || {
    iadm -m session -P 3 | grep -E 'Target:|Session State|Attached scsi disk'
    fail "-P 3 does not show /dev/$disk1 and /dev/$disk2 running"
}
iadm -m session -P 3 | grep -E 'Target:|Current Portal|Iface Initiatorname|Session State|Attached scsi disk'
[ "$(iadm -m session -P 3 | grep -c 'iSCSI Session State: LOGGED_IN')" = 2 ] || fail "-P 3: not 2 LOGGED_IN"
wait "$writer"
rc=$(cat /tmp/dd.rc 2>/dev/null)
[ "$rc" = 0 ] || fail "the writer across the adoption exited ${rc:-?}: $(cat /tmp/dd.err)"
got=$(dd if="/dev/$disk1" bs=1M count=$CHUNKS iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "/dev/$disk1 holds $got after the adoption"

step "the adopted CHAP session recovers from a 3 s outage"
lio_tpg_disable "${PFX}1" && sleep 3 || fail "LIO disable"
[ "$(session_state "$sid1")" != LOGGED_IN ] || fail "session $sid1 still LOGGED_IN with its portal off"
lio_tpg_enable "${PFX}1" || fail "LIO enable"
wait_for 40 sh -c "[ \"\$(cat /sys/class/iscsi_session/session$sid1/state)\" = LOGGED_IN ]" ||
    fail "adopted session $sid1 did not recover (state $(session_state "$sid1"))"
got=$(dd if="/dev/$disk1" bs=1M count=$CHUNKS iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "/dev/$disk1 after recovery holds $got"
dd if=/tmp/pattern of="/dev/$disk1" bs=1M count=1 oflag=direct 2>/dev/null || fail "write after recovery"

step "--logoutall=all keeps the boot sessions"
iadm -m node --logoutall=all >/tmp/lo.out 2>&1
rc=$?
cat /tmp/lo.out
[ "$rc" = 21 ] || fail "--logoutall=all with only boot sessions exited $rc, expected 21"
[ "$(session_count)" = 2 ] || fail "--logoutall=all ended a boot session"
iadm -m discovery -t fw >/tmp/fwdisc.out 2>&1 || { cat /tmp/fwdisc.out; fail "-m discovery -t fw exited $?"; }
cat /tmp/fwdisc.out
iadm -m node -T "${PFX}2" -p 127.0.0.1:3260 -o show | grep -E '^node\.(startup|discovery_type) ' || true
if [ "$INITIATOR" = openiscsi ] &&
    iadm -m node -T "${PFX}2" -p 127.0.0.1:3260 -o show | grep -q '^node.startup = manual'; then
    # Debian's 2.1.8 predates open-iscsi #482 (2024): its firmware
    # records are "manual", and --logoutall=all would end the boot session
    echo "open-iscsi: firmware record stored as manual (before #482): not logging out all"
else
    iadm -m node -T "${PFX}2" -p 127.0.0.1:3260 -o show | grep -q '^node.startup = onboot' ||
        fail "the firmware record is not onboot"
    iadm -m node --logoutall=all >/tmp/lo.out 2>&1
    rc=$?
    cat /tmp/lo.out
    [ "$rc" = 21 ] || fail "--logoutall=all with an onboot record exited $rc, expected 21"
    [ "$(session_count)" = 2 ] || fail "--logoutall=all ended the firmware session"
    iadm -m node --logoutall=automatic >/dev/null 2>&1
    [ "$(session_count)" = 2 ] || fail "--logoutall=automatic ended a boot session"
fi

step "-m session -r SID -u ends them"
iadm -m session -r "$sid1" -u || fail "logout of session $sid1 exited $?"
iadm -m session -r "$sid2" -u || fail "logout of session $sid2 exited $?"
wait_no_sessions 15 || fail "sessions left: $(session_ids | tr '\n' ' ')"
iadm -m node -o delete >/dev/null 2>&1
init_stop
step "iscsistart OK"
