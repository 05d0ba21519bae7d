#!/bin/sh
# boots: 3
# disks: t1:64M t2:64M t3:64M
#
# Boot and shutdown under systemd (issue 7 "sessions left logged in at
# shutdown", issue 8 "Boot and shutdown under systemd").
# Boot 1, from a fresh `make install`: enable iscsid.socket (iscsid must
#   not start before first use, and start on it; the initiator name
#   appears), discovery, t3 onboot (must survive the shutdown logout:
#   checked by stopping the logout unit), then t1 and t3
#   node.startup=automatic, t2 logged in by hand, mkfs on t1, fstab line
#   by UUID with _netdev, mount, write a file, reboot.
# Boot 2 reads boot 1's shutdown from the persistent journal: /mnt/t1
#   unmounted before its session logged out, every session logged out
#   before the SAN (our "network") went down, no SCSI/iSCSI error line,
#   nothing failed in the initiator's units. Then, with no command typed:
#   t1 and t3 logged in at boot, t2 not, the _netdev mount is back with
#   the file intact, `systemctl --failed` is empty; another file is
#   written (no sync). Reboot: the plain shutdown of a system that logged
#   in and mounted at boot.
# Boot 3: the same checks for boot 2's shutdown and boot (both files
#   intact); power off.
# Results per boot K: bootK_to_mount_s (kernel start -> the mount unit
#   active), bootK_login_s (the login unit: iscsid's start and the
#   logins), bootK_login_to_mount_s, bootK_shutdown_journal_s (marker ->
#   last journal line; the runner measures the whole shutdown to power-off
#   from the console), bootK_umount_to_logout_s. Stopping iscsid by hand
#   before a power-off: scenario iscsid_service.
. /opt/vmtest/lib.sh
T1=$(iqn t1) T2=$(iqn t2) T3=$(iqn t3)
# Logged in at boot (node.startup = automatic), and by hand.
AUTO="$T1 $T3" MANUAL=$T2
MNT=/mnt/t1
INAME=/etc/iscsi/initiatorname.iscsi

case $VMTEST_INITIATOR in
ours) LOGIN_UNIT=iscsi-login.service LOGOUT_UNIT=iscsi-logout.service
      UNITS="-u iscsid.service -u iscsid.socket -u iscsi-login.service -u iscsi-logout.service -u iscsi-initiatorname.service" ;;
openiscsi) LOGIN_UNIT=open-iscsi.service LOGOUT_UNIT=open-iscsi.service
      UNITS="-u iscsid.service -u iscsid.socket -u open-iscsi.service" ;;
*) fail "unknown initiator $VMTEST_INITIATOR" ;;
esac

boot1() {
    step "fresh install: enable iscsid.socket"
    if [ "$VMTEST_INITIATOR" = ours ] && [ -e "$INAME" ]; then
        bad "$INAME exists before first use (the image should be a fresh make install)"
    fi
    systemctl enable --now iscsid.socket || fail "systemctl enable --now iscsid.socket failed"
    if ! wait_for 10 grep -q '^InitiatorName=iqn\.' "$INAME"; then
        bad "no initiator name in $INAME after enabling iscsid.socket: logins would fail"
        mkdir -p /etc/iscsi && iscsi-iname -g >"$INAME"
    fi
    grep '^InitiatorName=' "$INAME"
    # 0644 as distributions install it (Debian's open-iscsi makes it 0600).
    if [ "$VMTEST_INITIATOR" = ours ]; then
        mode=$(stat -c %a "$INAME"); [ "$mode" = 644 ] || bad "$INAME has mode $mode, expected 644"
    fi
    if systemctl is-active -q iscsid.service; then
        bad "iscsid.service is running before first use (socket activation expected)"
    fi
    if ! systemctl is-enabled -q "$LOGIN_UNIT"; then
        bad "$LOGIN_UNIT is not enabled: automatic nodes would not log in at boot"
        systemctl enable "$LOGIN_UNIT"
    fi

    step "discovery and node records"
    iscsiadm -m discovery -t st -p "$PORTAL_IP" || fail "discovery failed"
    for t in "$T1" "$T2" "$T3"; do
        iscsiadm -m node -T "$t" -p "$PORTAL" >/dev/null || fail "no node record for $t"
    done
    # This project's discovery and record commands need no daemon.
    if [ "$VMTEST_INITIATOR" = ours ] && systemctl is-active -q iscsid.service; then
        bad "iscsid.service started for discovery or a record command (nothing needed it)"
    fi
    iscsiadm -m node -T "$T1" -p "$PORTAL" -o update -n node.startup -v automatic || fail "update t1"
    iscsiadm -m node -T "$T2" -p "$PORTAL" -o update -n node.startup -v manual || fail "update t2"

    if [ "$VMTEST_INITIATOR" = ours ]; then
        step "the shutdown logout spares onboot sessions"
        iscsiadm -m node -T "$T3" -p "$PORTAL" -o update -n node.startup -v onboot || fail "update t3"
        for t in "$T1" "$T2" "$T3"; do
            iscsiadm -m node -T "$t" -p "$PORTAL" --login || fail "login $t"
        done
        systemctl is-active -q iscsid.service ||
            bad "iscsid.service is not active after a login (the socket should have started it)"
        # Logging out while udev still probes the new disks makes the
        # kernel log read errors that have nothing to do with this test.
        udevadm settle -t 30
        if ! systemctl is-active -q "$LOGOUT_UNIT"; then
            bad "$LOGOUT_UNIT is not active with sessions up: nothing would log them out at shutdown"
        else
            systemctl stop "$LOGOUT_UNIT" || bad "stopping $LOGOUT_UNIT failed"
            has_session "$T1" && bad "t1 (automatic) still logged in after $LOGOUT_UNIT stopped"
            has_session "$T2" && bad "t2 (manual) still logged in after $LOGOUT_UNIT stopped"
            has_session "$T3" || bad "t3 (onboot) was logged out by $LOGOUT_UNIT"
            systemctl start "$LOGOUT_UNIT" || bad "starting $LOGOUT_UNIT failed"
        fi
        has_session "$T3" && { iscsiadm -m node -T "$T3" -p "$PORTAL" --logout || fail "logout t3"; }
    fi

    step "login: t1 and t3 (automatic), t2 (by hand)"
    iscsiadm -m node -T "$T3" -p "$PORTAL" -o update -n node.startup -v automatic || fail "update t3"
    for t in "$T1" "$T2" "$T3"; do
        has_session "$t" || iscsiadm -m node -T "$t" -p "$PORTAL" --login || fail "login $t"
    done
    systemctl is-active -q iscsid.service ||
        bad "iscsid.service is not active after a login (the socket should have started it)"
    d1=$(lun_dev "$T1") || fail "no disk for t1"
    d2=$(lun_dev "$T2") || fail "no disk for t2"
    d3=$(lun_dev "$T3") || fail "no disk for t3"
    echo "t1 -> $d1, t2 -> $d2, t3 -> $d3"
    # Logging out at shutdown while udev still probes a new disk makes
    # the kernel log read errors that have nothing to do with this test.
    udevadm settle -t 30
    systemctl is-active -q "$LOGOUT_UNIT" ||
        bad "$LOGOUT_UNIT is not active with sessions up: nothing would log them out at shutdown"

    step "ext4 on t1, fstab by UUID with _netdev, mount, write"
    mkfs.ext4 -q -F "$d1" || fail "mkfs.ext4 $d1"
    udevadm settle -t 10
    uuid=$(blkid -s UUID -o value "$d1") || fail "blkid $d1"
    [ -n "$uuid" ] || fail "no UUID on $d1"
    by_uuid=$(readlink -f "/dev/disk/by-uuid/$uuid")
    [ "$by_uuid" = "$d1" ] || bad "/dev/disk/by-uuid/$uuid points at '$by_uuid', not $d1"
    mkdir -p "$MNT"
    echo "UUID=$uuid $MNT ext4 _netdev 0 2" >>/etc/fstab
    systemctl daemon-reload
    mount "$MNT" || fail "mount $MNT"
    head -c 4194304 /dev/urandom >"$MNT/data" || fail "write $MNT/data"
    sha256sum <"$MNT/data" >"$VMTEST_DIR/t1.sha256"
    findmnt "$MNT"
    iscsiadm -m session
    # No sync: the unmount at shutdown must write the data out while the
    # session is still up.
    finish
}

# ts PATTERN: monotonic time of the first line of the previous boot's
# shutdown ($SD: its journal from the VMTEST-SHUTDOWN marker on) matching
# the extended regex (empty if none).
ts() {
    grep -E -m1 -- "$1" "$SD" | sed -n 's/^\[ *\([0-9][0-9]*\.[0-9]*\)\].*/\1/p'
}
before() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 < b + 0) }'; }
name() { echo "${1##*:}"; }

# prev_shutdown K "IQN...": boot K's shutdown, from its journal: the
# mount unmounted before t1's logout, each IQN logged out before the SAN
# went down, no error line.
prev_shutdown() {
    pk=$1 out=$2
    J=$VMTEST_DIR/journal-boot$pk.txt
    journalctl -b -1 -o short-monotonic --no-pager >"$J" 2>&1 ||
        fail "no journal of the previous boot (journalctl -b -1)"
    SD=$VMTEST_DIR/journal-boot$pk-shutdown.txt
    sed -n '/VMTEST-SHUTDOWN/,$p' "$J" >"$SD"
    step "boot $pk's shutdown, from its journal ($(wc -l <"$SD") lines)"
    t_req=$(ts 'VMTEST-SHUTDOWN')
    t_umount=$(ts "Unmounted .*$MNT")
    t_san=$(ts 'vmtest-san: stopping')
    t_end=$(tail -n 1 "$SD" | sed -n 's/^\[ *\([0-9][0-9]*\.[0-9]*\)\].*/\1/p')
    echo "shutdown requested $t_req, $MNT unmounted $t_umount, SAN stopped $t_san, journal ends $t_end"
    [ -n "$t_req" ] || bad "no VMTEST-SHUTDOWN marker in boot $pk's journal"
    [ -n "$t_umount" ] || bad "$MNT was not unmounted by systemd at boot $pk's shutdown"
    t_last=
    for t in $out; do
        t_out=$(ts "Logout of .*target: $t, .*successful")
        echo "$(name "$t") logged out $t_out"
        before "$t_last" "$t_out" || [ -z "$t_last" ] && t_last=$t_out
        if [ -z "$t_out" ]; then
            bad "$(name "$t") was not logged out at boot $pk's shutdown"
            continue
        fi
        before "$t_out" "$t_san" || bad "$(name "$t")'s logout ($t_out) came after the SAN went down ($t_san)"
        [ "$t" = "$T1" ] && [ -n "$t_umount" ] && ! before "$t_umount" "$t_out" &&
            bad "t1 logged out ($t_out) before $MNT was unmounted ($t_umount)"
    done
    grep -F 'vmtest-san: stopping' "$SD" | sed 's/^.*vmtest-san: /vmtest-san: /'
    grep -q 'vmtest-san: stopping; targets with sessions: none' "$SD" ||
        bad "the SAN still had sessions when it went down at boot $pk's shutdown"
    grep -q 'A stop job is running' "$SD" && bad "boot $pk's shutdown waited for a stop job"
    errs=$(grep -E -i 'Synchronize Cache|rejecting I/O to offline device|DID_NO_CONNECT|I/O error|detected conn error|device offline' "$SD")
    if [ -n "$errs" ]; then
        bad "error lines in boot $pk's shutdown:"
        echo "$errs" | head -n 20
    fi
    # shellcheck disable=SC2086
    ierrs=$(journalctl -b -1 -p err --no-pager -o short-monotonic $UNITS 2>/dev/null | grep -v '^-- ')
    [ -z "$ierrs" ] || { bad "errors from the initiator's units at boot $pk:"; echo "$ierrs" | head -n 20; }
    if [ -n "$t_req" ] && [ -n "$t_end" ]; then
        result "boot${pk}_shutdown_journal_s" "$(awk -v a="$t_req" -v b="$t_end" 'BEGIN { printf "%.2f", b - a }')"
    fi
    # The initiator's part: from the unmount to the last logout.
    if [ -n "$t_umount" ] && [ -n "$t_last" ]; then
        result "boot${pk}_umount_to_logout_s" "$(awk -v a="$t_umount" -v b="$t_last" 'BEGIN { printf "%.2f", b - a }')"
    fi
}

# up_at UNIT: seconds from kernel start to UNIT's activation (empty if never).
up_at() {
    _us=$(systemctl show -P ActiveEnterTimestampMonotonic "$1")
    [ -n "$_us" ] && [ "$_us" != 0 ] && awk -v u="$_us" 'BEGIN { printf "%.2f", u / 1e6 }'
}

started_at() {
    _us=$(systemctl show -P InactiveExitTimestampMonotonic "$1")
    [ -n "$_us" ] && [ "$_us" != 0 ] && awk -v u="$_us" 'BEGIN { printf "%.2f", u / 1e6 }'
}

# this_boot K: with no command typed, the automatic nodes logged in, the
# manual one not, the _netdev mount back with the file, nothing failed.
this_boot() {
    bk=$1
    step "boot $bk: automatic logins and the _netdev mount"
    for t in $AUTO; do
        wait_for 60 has_session "$t" || bad "$(name "$t") (automatic) did not log in at boot"
    done
    has_session "$MANUAL" && bad "$(name "$MANUAL") (manual) logged in at boot"
    if findmnt "$MNT" >/dev/null; then
        findmnt "$MNT"
        src=$(findmnt -n -o SOURCE "$MNT")
        case $src in /dev/sd*) ;; *) bad "$MNT is mounted from $src, not an iSCSI disk" ;; esac
        [ "$(sha256sum <"$MNT/data")" = "$(cat "$VMTEST_DIR/t1.sha256")" ] ||
            bad "$MNT/data differs from what boot 1 wrote"
        if [ -f "$VMTEST_DIR/t1-data2.sha256" ]; then
            [ "$(sha256sum <"$MNT/data2" 2>/dev/null)" = "$(cat "$VMTEST_DIR/t1-data2.sha256")" ] ||
                bad "$MNT/data2 differs from what boot 2 wrote"
        fi
        m=$(up_at "$(systemd-escape -p --suffix=mount "$MNT")")
        l=$(started_at "$LOGIN_UNIT") ld=$(up_at "$LOGIN_UNIT")
        echo "kernel start -> $LOGIN_UNIT started $l s, iscsid up $(up_at iscsid.service) s," \
            "$LOGIN_UNIT done $ld s, $MNT mounted $m s"
        [ -n "$m" ] && result "boot${bk}_to_mount_s" "$m"
        # The initiator's own part (the login unit: iscsid's start and the
        # logins), and from its start to the mount (+ udev, fsck, mount).
        [ -n "$ld" ] && [ -n "$l" ] && result "boot${bk}_login_s" "$(secs "$l" "$ld")"
        [ -n "$m" ] && [ -n "$l" ] && result "boot${bk}_login_to_mount_s" "$(secs "$l" "$m")"
    else
        bad "$MNT is not mounted after boot $bk"
    fi
    failed=$(systemctl --failed --no-legend --plain)
    [ -z "$failed" ] || { bad "failed units at boot $bk:"; echo "$failed"; }
    systemd-analyze 2>/dev/null | head -n 1
    iscsiadm -m session
}

boot_n() {
    k=$1
    step "boot $k: wait for the boot to finish"
    state=$(timeout 180 systemctl is-system-running --wait)
    echo "system state: $state"
    # Boot 1 had every target logged in; boot 2 only the automatic ones.
    if [ "$k" = 2 ]; then prev_shutdown 1 "$AUTO $MANUAL"; else prev_shutdown $((k - 1)) "$AUTO"; fi
    this_boot "$k"
    if [ "$k" = 2 ] && findmnt "$MNT" >/dev/null; then
        # Unsynced again: boot 2's shutdown must write it out before the logout.
        head -c 4194304 /dev/urandom >"$MNT/data2" || bad "write $MNT/data2"
        sha256sum <"$MNT/data2" >"$VMTEST_DIR/t1-data2.sha256"
    fi
    finish
}

case ${1:-1} in
1) boot1 ;;
2|3) boot_n "$1" ;;
*) fail "scenario shutdown has 3 boots, not $1" ;;
esac
