#!/bin/sh
# boots: 2
# root: iscsi
# append-2: root=iscsi:127.0.0.1::3260:0:iqn.2003-01.org.example.vmtest:root
#
# Root on iSCSI (issue 8, "Root on iSCSI"). The runner builds the image
# as an administrator sets up a Debian root on iSCSI (run.sh:
# build_iscsi_root): this project installed with make install and make
# install-initramfs, /etc/iscsi/iscsi.initramfs naming the target,
# iscsid.service enabled, fstab by UUID, update-initramfs; the root file
# system is on the LUN of iqn...:root, which LIO in the same VM exports
# from a virtio disk (set up by the harness's init-premount script). The
# kernel command line says root=UUID=...; boot 2 adds a later
# root=iscsi:... (RFC 4173), which init takes: the local-top script logs
# in to what it names and makes its LUN's disk the root device.
# Both boots: the initramfs logged in with iscsistart and left no iscsid;
#   / is mounted from that session's disk (by its UUID, not from the
#   backing disk); iscsid (iscsid.service) adopted the session (-P 3:
#   LOGGED_IN, the root disk running); I/O on / works; nothing failed.
# Boot 1: a 4 s target outage (tpgt enable=0) under writes to / is
#   recovered by iscsid with no I/O error; --logoutall=all leaves the
#   root session alone (ours); reboot.
# Boot 2: boot 1's shutdown left the file system clean (the initramfs's
#   fsck says clean, the kernel replayed no journal), the file of boot 1
#   reads back, no error line from the initiator in boot 1's journal.
# The runner checks every shutdown (console: no stop job waited for, no
# I/O error; systemd-shutdown's last step still sees the root session
# logged in with / read-only; e2fsck of the image after the power-off).
# Results: boot_to_multiuser_s (kernel start -> multi-user.target),
# initramfs_login_s (SAN up -> root device found: network, iscsistart,
# udev), outage_recovery_s (portal back -> LOGGED_IN).
. /opt/vmtest/lib.sh
ROOT_T=$(iqn root)
TPG=/sys/kernel/config/target/iscsi/$ROOT_T/tpgt_1
INITRD_INFO=/run/vmtest/initramfs.txt
ERRORS='I/O error|rejecting I/O|DID_NO_CONNECT|EXT4-fs error|Buffer I/O|device offline|journal commit I/O error'

# The session of the root target and its disk, from sysfs.
root_sid() {
    for s in /sys/class/iscsi_session/session*; do
        [ "$(cat "$s/targetname" 2>/dev/null)" = "$ROOT_T" ] && { echo "${s##*/session}"; return 0; }
    done
    return 1
}
sid_disk() {
    for b in /sys/class/iscsi_session/session"$1"/device/target*/*:*:*:0/block/*; do
        [ -e "$b" ] && { echo "${b##*/}"; return 0; }
    done
    return 1
}
sid_state() { cat "/sys/class/iscsi_session/session$1/state" 2>/dev/null; }
kernel_errors() { dmesg | grep -E -c "$ERRORS"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# common: what both boots check; sets SID, DISK.
common() {
    step "the initramfs: iscsistart logged in, no iscsid left"
    [ -r "$INITRD_INFO" ] || fail "no $INITRD_INFO: the harness's initramfs scripts did not run"
    cat "$INITRD_INFO"
    grep -q '^iscsid_processes=0$' "$INITRD_INFO" ||
        bad "iscsid processes were left in the initramfs after the login"
    grep -Eq "^session=[0-9]+ $ROOT_T LOGGED_IN disks: sd[a-z]+" "$INITRD_INFO" ||
        bad "the initramfs had no logged-in session of $ROOT_T with a disk when the root device was found"
    a=$(sed -n 's/^san_ready_uptime=//p' "$INITRD_INFO")
    b=$(sed -n 's/^login_done_uptime=//p' "$INITRD_INFO")
    [ -n "$a" ] && [ -n "$b" ] && result "initramfs_login_s$VMTEST_BOOT" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b - a }')"

    step "/ is the LUN's disk, found by UUID"
    SID=$(root_sid) || fail "no iSCSI session of $ROOT_T"
    DISK=$(sid_disk "$SID") || fail "session $SID has no disk"
    grep -q "^session=$SID " "$INITRD_INFO" ||
        bad "session $SID is not the one the initramfs made (logged in again after the switch?)"
    grep -qx "root_device=/dev/$DISK" "$INITRD_INFO" ||
        bad "in the initramfs, root= did not resolve to the LUN's disk /dev/$DISK"
    src=$(findmnt -n -o SOURCE /)
    echo "session $SID, disk $DISK, / from $src ($(findmnt -n -o FSTYPE,OPTIONS /))"
    [ "$src" = "/dev/$DISK" ] || fail "/ is mounted from $src, not from the LUN's disk /dev/$DISK"
    uuid=$(sed -n 's/.*root=UUID=\([^ ]*\).*/\1/p' /proc/cmdline)
    [ -n "$uuid" ] || bad "no root=UUID= on the kernel command line: $(cat /proc/cmdline)"
    [ "$(blkid -s UUID -o value "/dev/$DISK")" = "$uuid" ] || bad "/dev/$DISK does not have the UUID $uuid"
    [ "$(readlink -f "/dev/disk/by-uuid/$uuid")" = "/dev/$DISK" ] ||
        bad "/dev/disk/by-uuid/$uuid points at $(readlink -f "/dev/disk/by-uuid/$uuid"), not /dev/$DISK"
    findmnt -n -o OPTIONS / | grep -q '^rw' || bad "/ is not read-write"

    step "iscsid adopted the session"
    systemctl is-active -q iscsid.service || bad "iscsid.service is not running"
    iscsiadm -m session -P 3 >/run/vmtest/p3.txt 2>&1 || bad "iscsiadm -m session -P 3 failed"
    cat /run/vmtest/p3.txt
    grep -q "Target: $ROOT_T" /run/vmtest/p3.txt || bad "-P 3 does not show $ROOT_T"
    grep -q 'iSCSI Session State: LOGGED_IN' /run/vmtest/p3.txt || bad "-P 3: the session is not LOGGED_IN"
    grep -Eq "Attached scsi disk $DISK[[:space:]]+State: running" /run/vmtest/p3.txt ||
        bad "-P 3 does not show the root disk $DISK running"
    # (ISCSID_CONSOLE=1 sends iscsid's log to the console instead.)
    if [ "$VMTEST_INITIATOR" = ours ] && [ ! -e /etc/systemd/system/iscsid.service.d/console.conf ]; then
        journalctl -b -u iscsid.service --no-pager -o cat | grep -F "adopted" ||
            bad "iscsid's journal does not say it adopted the session"
    fi

    step "I/O on /"
    head -c 8388608 /dev/urandom >/var/tmp/io.bin && sync -f /var/tmp/io.bin || bad "cannot write /var/tmp/io.bin"
    sum1=$(sha256sum </var/tmp/io.bin)
    echo 3 >/proc/sys/vm/drop_caches
    [ "$(sha256sum </var/tmp/io.bin)" = "$sum1" ] || bad "/var/tmp/io.bin reads back different"
    rm -f /var/tmp/io.bin
}

# outage: the portal group off for 4 s under writes to /.
outage() {
    step "a 4 s target outage under writes to /"
    # Everything the outage's controller runs is in memory (a root read
    # would wait for the session it is about to restore; /run is noexec).
    mkdir -p /run/vmtest/mem
    mount -t tmpfs -o size=8m,mode=0700 vmtest-mem /run/vmtest/mem || fail "tmpfs for the controller"
    cp /bin/busybox /run/vmtest/mem/busybox || fail "cp busybox"
    BB=/run/vmtest/mem/busybox
    head -c 65536 /dev/urandom >/run/vmtest/chunk
    errs0=$(kernel_errors)
    conn0=$(dmesg | grep -c 'detected conn error')
    t_start=$(uptime_s)
    (
        i=0
        while [ $i -lt 30 ]; do
            dd if=/run/vmtest/chunk of=/var/tmp/outage.$i bs=64k conv=fsync status=none || exit 1
            i=$((i + 1))
            $BB sleep 0.3
        done
    ) &
    writer=$!
    $BB sleep 1
    (
        echo 0 >"$TPG/enable"
        $BB sleep 2
        read -r st <"/sys/class/iscsi_session/session$SID/state"
        echo "during=$st" >/run/vmtest/outage.txt
        $BB sleep 2
        read -r back _ </proc/uptime
        echo 1 >"$TPG/enable"
        echo "back=$back" >>/run/vmtest/outage.txt
        # the recovery, up to 60 s (the writer waits for it)
        n=0
        while [ $n -lt 600 ]; do
            read -r st <"/sys/class/iscsi_session/session$SID/state"
            [ "$st" = LOGGED_IN ] && break
            $BB sleep 0.1
            n=$((n + 1))
        done
        read -r up _ </proc/uptime
        echo "state=$st" >>/run/vmtest/outage.txt
        echo "recovered=$up" >>/run/vmtest/outage.txt
    ) &
    ctl=$!
    wait "$ctl"
    wait "$writer"; wrc=$?
    cat /run/vmtest/outage.txt
    back=$(sed -n 's/^back=//p' /run/vmtest/outage.txt)
    rec=$(sed -n 's/^recovered=//p' /run/vmtest/outage.txt)
    # boot 2 reads boot 1's journal: what the initiator logs during the
    # outage (e.g. open-iscsi's "login rejected" at error priority) is
    # expected
    echo "$t_start ${rec:-$(uptime_s)}" >"$VMTEST_DIR/outage.window"
    if grep -qx 'state=LOGGED_IN' /run/vmtest/outage.txt; then
        result outage_recovery_s "$(awk -v a="$back" -v b="$rec" 'BEGIN { printf "%.2f", b - a }')"
    else
        bad "the root session is $(sid_state "$SID") 60 s after the portal came back"
    fi
    grep -q '^during=FAILED' /run/vmtest/outage.txt ||
        bad "the session was not FAILED during the outage ($(cat /run/vmtest/outage.txt)): no outage happened?"
    [ "$(dmesg | grep -c 'detected conn error')" -gt "$conn0" ] || bad "the kernel saw no connection error"
    [ "$wrc" = 0 ] || bad "the writer to / failed across the outage (exit $wrc)"
    echo 3 >/proc/sys/vm/drop_caches
    i=0
    while [ $i -lt 30 ]; do
        cmp -s /run/vmtest/chunk /var/tmp/outage.$i || { bad "/var/tmp/outage.$i differs after the outage"; break; }
        i=$((i + 1))
    done
    rm -f /var/tmp/outage.*
    [ "$(root_sid)" = "$SID" ] || bad "the root session changed across the outage ($SID -> $(root_sid))"
    if [ "$(kernel_errors)" != "$errs0" ]; then
        bad "kernel I/O errors during the outage:"
        dmesg | grep -E "$ERRORS" | tail -n 10
    fi
    dmesg | grep -E 'conn error|session recovery|iscsi' | tail -n 8
}

boot1() {
    common
    outage

    if [ "$VMTEST_INITIATOR" = ours ]; then
        # open-iscsi logs out a session without a node record; Debian's
        # logout-all.sh keeps the root's by itself (not run here: it
        # would take the root away).
        step "iscsiadm -m node --logoutall=all leaves the root session"
        iscsiadm -m node --logoutall=all; echo "exit $?"
        [ "$(root_sid)" = "$SID" ] && [ "$(sid_state "$SID")" = LOGGED_IN ] ||
            fail "--logoutall=all logged out the root session"
        echo "after the logoutall" >/var/tmp/after-logoutall && sync -f /var/tmp/after-logoutall ||
            bad "cannot write to / after --logoutall=all"
    fi

    step "a file for boot 2; results"
    head -c 1048576 /dev/urandom >/var/lib/vmtest/boot1.bin
    sha256sum </var/lib/vmtest/boot1.bin >/var/lib/vmtest/boot1.sha256
    us=$(systemctl show -P ActiveEnterTimestampMonotonic multi-user.target)
    [ -n "$us" ] && [ "$us" != 0 ] && result boot_to_multiuser_s1 "$(awk -v u="$us" 'BEGIN { printf "%.2f", u / 1e6 }')"
    failed=$(systemctl --failed --no-legend --plain)
    [ -z "$failed" ] || { bad "failed units:"; echo "$failed"; }
    # No sync: the shutdown must write it out with the session up.
    finish
}

boot2() {
    common

    step "root=iscsi: made the LUN's disk the root device"
    grep -q ' root=iscsi:' /proc/cmdline || bad "no root=iscsi: on the command line: $(cat /proc/cmdline)"
    grep -qx "ROOT=/dev/$DISK" "$INITRD_INFO" ||
        bad "the local-top scripts did not set ROOT to the LUN's disk /dev/$DISK ($(grep '^ROOT=' "$INITRD_INFO"))"

    step "boot 1's shutdown left the root file system clean"
    if [ -r /run/initramfs/fsck.log ]; then
        cat /run/initramfs/fsck.log
        grep -q 'clean' /run/initramfs/fsck.log || bad "the initramfs's fsck did not find the root clean"
        grep -qi 'recover' /run/initramfs/fsck.log && bad "the initramfs's fsck recovered the journal"
    else
        bad "no /run/initramfs/fsck.log: the initramfs did not check the root file system"
    fi
    if dmesg | grep -E "EXT4-fs \\($DISK\\).*(recovery complete|orphan)"; then
        bad "the kernel replayed the journal or cleaned orphans on /dev/$DISK"
    fi
    [ "$(sha256sum </var/lib/vmtest/boot1.bin)" = "$(cat /var/lib/vmtest/boot1.sha256)" ] ||
        bad "the file boot 1 wrote (without sync) reads back different"
    if [ "$VMTEST_INITIATOR" = ours ]; then
        [ "$(cat /var/tmp/after-logoutall 2>/dev/null)" = "after the logoutall" ] ||
            bad "the file written after --logoutall=all is gone"
    fi

    step "boot 1's journal"
    J=$VMTEST_DIR/journal-boot1.txt
    journalctl -b -1 -o short-monotonic --no-pager >"$J" 2>&1 || bad "no journal of boot 1"
    grep -E "Logout of .*$ROOT_T" "$J" && bad "the root session was logged out in boot 1"
    # I/O errors never (the scenario's own lines aside); connection
    # errors only in the outage, not in the shutdown
    io=$(grep -E "$ERRORS" "$J" | grep -v 'run-scenario')
    [ -z "$io" ] || { bad "I/O error lines in boot 1's journal:"; echo "$io" | head -n 10; }
    sd=$(sed -n '/VMTEST-SHUTDOWN/,$p' "$J" | grep -E "$ERRORS|detected conn error" | grep -v 'run-scenario')
    [ -z "$sd" ] || { bad "error lines in boot 1's shutdown:"; echo "$sd" | head -n 10; }
    read -r w0 w1 <"$VMTEST_DIR/outage.window" 2>/dev/null
    ierrs=$(journalctl -b -1 -p err --no-pager -o short-monotonic -u iscsid.service -u iscsid.socket \
        -u iscsi-login.service -u iscsi-logout.service -u open-iscsi.service 2>/dev/null | grep -v '^-- ' |
        awk -v a="${w0:-0}" -v b="${w1:-0}" '{ t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t)
            if (!(t + 0 >= a && t + 0 <= b + 1)) print }')
    [ -z "$ierrs" ] || { bad "errors from the initiator's units at boot 1:"; echo "$ierrs" | head -n 10; }

    us=$(systemctl show -P ActiveEnterTimestampMonotonic multi-user.target)
    [ -n "$us" ] && [ "$us" != 0 ] && result boot_to_multiuser_s2 "$(awk -v u="$us" 'BEGIN { printf "%.2f", u / 1e6 }')"
    failed=$(systemctl --failed --no-legend --plain)
    [ -z "$failed" ] || { bad "failed units:"; echo "$failed"; }
    finish
}

case ${1:-1} in
1) boot1 ;;
2) boot2 ;;
*) fail "scenario rootfs has 2 boots, not $1" ;;
esac
