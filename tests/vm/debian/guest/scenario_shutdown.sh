#!/bin/sh
# boots: 2
# disks: t1:64M t2:64M t3:64M
#
# Boot and shutdown under systemd (issue 7 "sessions left logged in at
# shutdown", issue 8 "Boot and shutdown under systemd").
# Boot 1, from a fresh `make install`: enable iscsid.socket (iscsid must
#   not start before first use; the initiator name appears), discovery,
#   t1 node.startup=automatic, t2 logged in by hand, t3 onboot (must
#   survive the shutdown logout: checked by stopping the logout unit),
#   mkfs on t1, fstab line by UUID with _netdev, mount, write a file,
#   reboot.
# Boot 2 reads boot 1's shutdown from the persistent journal: /mnt/t1
#   unmounted before its session logged out, t1 and t2 logged out before
#   the SAN (our "network") went down, no SCSI/iSCSI error line, nothing
#   failed in the initiator's units. Then: t1 logged in again at boot,
#   the _netdev mount is back with the file intact, t2 is not,
#   `systemctl --failed` is empty; `systemctl stop iscsid` leaves the
#   session and the mount working, and the power-off after it is as
#   clean (checked by the runner on the console). Results: shutdown_journal_s (marker ->
#   last journal line of boot 1; the runner measures the whole shutdown
#   to power-off from the console), boot_to_mount_s (kernel start -> mount).
. /opt/vmtest/lib.sh
T1=$(iqn t1) T2=$(iqn t2) T3=$(iqn t3)
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
    iscsiadm -m node -T "$T1" -p "$PORTAL" -o update -n node.startup -v automatic || fail "update t1"
    iscsiadm -m node -T "$T2" -p "$PORTAL" -o update -n node.startup -v manual || fail "update t2"

    if [ "$VMTEST_INITIATOR" = ours ]; then
        step "the shutdown logout spares onboot sessions"
        iscsiadm -m node -T "$T3" -p "$PORTAL" -o update -n node.startup -v onboot || fail "update t3"
        for t in "$T1" "$T2" "$T3"; do
            iscsiadm -m node -T "$t" -p "$PORTAL" --login || fail "login $t"
        done
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

    step "login: t1 (automatic), t2 (by hand)"
    for t in "$T1" "$T2"; do
        has_session "$t" || iscsiadm -m node -T "$t" -p "$PORTAL" --login || fail "login $t"
    done
    d1=$(lun_dev "$T1") || fail "no disk for t1"
    d2=$(lun_dev "$T2") || fail "no disk for t2"
    echo "t1 -> $d1, t2 -> $d2"
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

# ts PATTERN: monotonic time of the first line of boot 1's shutdown
# ($SD: its journal from the VMTEST-SHUTDOWN marker on) matching the
# extended regex (empty if none).
ts() {
    grep -E -m1 -- "$1" "$SD" | sed -n 's/^\[ *\([0-9][0-9]*\.[0-9]*\)\].*/\1/p'
}
before() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 < b + 0) }'; }

boot2() {
    step "boot 2: wait for the boot to finish"
    state=$(timeout 180 systemctl is-system-running --wait)
    echo "system state: $state"

    J=$VMTEST_DIR/journal-boot1.txt
    journalctl -b -1 -o short-monotonic --no-pager >"$J" 2>&1 ||
        fail "no journal of the previous boot (journalctl -b -1)"
    SD=$VMTEST_DIR/journal-boot1-shutdown.txt
    sed -n '/VMTEST-SHUTDOWN/,$p' "$J" >"$SD"
    step "boot 1's shutdown, from its journal ($(wc -l <"$SD") lines)"
    t_req=$(ts 'VMTEST-SHUTDOWN')
    t_umount=$(ts "Unmounted .*$MNT")
    t_out1=$(ts "Logout of .*target: $T1, .*successful")
    t_out2=$(ts "Logout of .*target: $T2, .*successful")
    t_san=$(ts 'vmtest-san: stopping')
    t_end=$(tail -n 1 "$SD" | sed -n 's/^\[ *\([0-9][0-9]*\.[0-9]*\)\].*/\1/p')
    echo "shutdown requested $t_req, $MNT unmounted $t_umount, t1 logged out $t_out1," \
         "t2 logged out $t_out2, SAN stopped $t_san, journal ends $t_end"
    [ -n "$t_req" ] || bad "no VMTEST-SHUTDOWN marker in boot 1's journal"
    [ -n "$t_umount" ] || bad "$MNT was not unmounted by systemd at shutdown"
    [ -n "$t_out1" ] || bad "t1 (automatic) was not logged out at shutdown"
    [ -n "$t_out2" ] || bad "t2 (logged in by hand) was not logged out at shutdown"
    [ -n "$t_umount" ] && [ -n "$t_out1" ] && ! before "$t_umount" "$t_out1" &&
        bad "t1 logged out ($t_out1) before $MNT was unmounted ($t_umount)"
    for t in "$t_out1" "$t_out2"; do
        [ -n "$t" ] && ! before "$t" "$t_san" && bad "a logout ($t) came after the SAN went down ($t_san)"
    done
    grep -F 'vmtest-san: stopping' "$SD" | sed 's/^.*vmtest-san: /vmtest-san: /'
    grep -q 'vmtest-san: stopping; targets with sessions: none' "$SD" ||
        bad "the SAN still had sessions when it went down"
    errs=$(grep -E -i 'Synchronize Cache|rejecting I/O to offline device|DID_NO_CONNECT|I/O error|detected conn error|device offline' "$SD")
    if [ -n "$errs" ]; then
        bad "error lines in boot 1's shutdown:"
        echo "$errs" | head -n 20
    fi
    # shellcheck disable=SC2086
    ierrs=$(journalctl -b -1 -p err --no-pager -o short-monotonic $UNITS 2>/dev/null | grep -v '^-- ')
    [ -z "$ierrs" ] || { bad "errors from the initiator's units at boot 1:"; echo "$ierrs" | head -n 20; }
    if [ -n "$t_req" ] && [ -n "$t_end" ]; then
        result shutdown_journal_s "$(awk -v a="$t_req" -v b="$t_end" 'BEGIN { printf "%.2f", b - a }')"
    fi

    step "boot 2: automatic login and the _netdev mount"
    wait_for 60 has_session "$T1" || bad "t1 (automatic) did not log in at boot"
    has_session "$T2" && bad "t2 (manual) logged in at boot"
    if findmnt "$MNT" >/dev/null; then
        findmnt "$MNT"
        src=$(findmnt -n -o SOURCE "$MNT")
        case $src in /dev/sd*) ;; *) bad "$MNT is mounted from $src, not an iSCSI disk" ;; esac
        [ "$(sha256sum <"$MNT/data")" = "$(cat "$VMTEST_DIR/t1.sha256")" ] ||
            bad "$MNT/data differs from what boot 1 wrote"
        us=$(systemctl show -P ActiveEnterTimestampMonotonic "$(systemd-escape -p --suffix=mount "$MNT")")
        [ -n "$us" ] && [ "$us" != 0 ] && result boot_to_mount_s "$(awk -v u="$us" 'BEGIN { printf "%.2f", u / 1e6 }')"
    else
        bad "$MNT is not mounted after boot 2"
    fi
    failed=$(systemctl --failed --no-legend --plain)
    [ -z "$failed" ] || { bad "failed units at boot 2:"; echo "$failed"; }
    iscsiadm -m session

    # The daemon stopped by hand before the power-off: the sessions and
    # the mount keep working, and the shutdown still logs out (through
    # socket activation) without waiting for a stop job; the runner checks
    # the power-off on the console.
    step "systemctl stop iscsid.service, then power off"
    systemctl stop iscsid.service || bad "systemctl stop iscsid.service failed"
    systemctl is-active -q iscsid.service && bad "iscsid.service still active after stop"
    has_session "$T1" || bad "stopping iscsid logged t1 out"
    if findmnt "$MNT" >/dev/null; then
        echo "written with iscsid stopped" >"$MNT/after-stop" && sync -f "$MNT/after-stop" ||
            bad "cannot write to $MNT with iscsid stopped"
    fi
    finish
}

case ${1:-1} in
1) boot1 ;;
2) boot2 ;;
*) fail "scenario shutdown has 2 boots, not $1" ;;
esac
