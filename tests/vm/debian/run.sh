#!/bin/bash
# The full Debian VM suite: a Debian 12 root file system (systemd as PID 1,
# udev, multipath-tools; tests/vm/debian/build-rootfs.sh) with this
# project installed by `make install`, booted with Debian's cloud kernel
# under qemu (TCG) from a disk image. The SAN is LIO inside the same VM
# (vmtest-san.service), backed by extra virtio disks so the LUNs keep
# their data across reboots. A scenario (guest/scenario_NAME.sh) runs from
# vmtest-scenario.service; a scenario with several boots reboots the VM
# and the next boot reuses the same disk image.
# A scenario with "# root: iscsi" boots from an iSCSI LUN instead (see
# build_iscsi_root): the root file system is on a virtio disk that the
# initramfs (Debian's initramfs-tools, built in the image by
# update-initramfs with this project's hook) exports through LIO and logs
# in to with iscsistart.
#
# Usage: tests/vm/debian/run.sh [SCENARIO...]        (default: all)
# Prints "PASS: debian-vm NAME (results)", "FAIL: debian-vm NAME" (with
# the reasons) or "SKIP: debian-vm NAME (why)"; exits 1 if any failed.
#
# Environment:
#   INITIATOR=ours        (default) `make install` of $BUILD_DIR into the image
#   INITIATOR=openiscsi   Debian's open-iscsi package instead (comparison)
#   BUILD_DIR=DIR         configured build tree (default build/)
#   BOOT_TIMEOUT=S        per boot (default 420)
#   VERBOSE=1             print every boot's console log
#   VM_APPEND="WORDS"     more kernel command line (e.g. udev.log_level=debug)
#   ISCSID_CONSOLE=1      iscsid's log on the console instead of the journal
#                         (what it did while the root file system hung)
# Logs: $VM_CACHE/debian/out-$INITIATOR/NAME/ (bootK.log: serial console
# with host timestamps; guest/: /var/lib/vmtest of the VM after the last
# boot, e.g. journal-boot1.txt).
set -u
. "$(dirname "$0")/../common.sh"

DEB_DIR=$VM_DIR/debian
top=$(cd "$VM_DIR/../.." && pwd)
initiator=${INITIATOR:-ours}
build=${BUILD_DIR:-$top/build}
boot_timeout=${BOOT_TIMEOUT:-420}
all=$(cd "$DEB_DIR/guest" && ls scenario_*.sh | sed 's/^scenario_//; s/\.sh$//' | tr '\n' ' ')
scenarios=${*:-$all}

skip_all() {
    local s
    for s in $scenarios; do echo "SKIP: debian-vm $s ($1)"; done
    exit 0
}

for s in $scenarios; do
    [ -f "$DEB_DIR/guest/scenario_$s.sh" ] || die "no scenario '$s' (have: $all)"
done
[ "$(id -u)" = 0 ] || skip_all "needs root (mmdebstrap, image ownership)"
case $initiator in
ours)
    [ -f "$build/Makefile" ] && [ -x "$build/iscsid/iscsid" ] ||
        skip_all "${build#"$top"/} is not a built tree: configure and make first, or set BUILD_DIR"
    extra=
    ;;
openiscsi) extra=open-iscsi ;;
*) die "INITIATOR must be 'ours' or 'openiscsi', not '$initiator'" ;;
esac

ensure_pkg qemu-system-x86 qemu-system-x86_64
ensure_pkg e2fsprogs mke2fs
ensure_pkg e2fsprogs debugfs
ensure_pkg kmod depmod
ensure_pkg util-linux unshare
"$VM_DIR/fetch-kernel.sh" >/dev/null || skip_all "cannot fetch the VM kernel (offline?)"
# shellcheck disable=SC1091
. "$VM_CACHE/kernel.env"
rootfs=$("$DEB_DIR/build-rootfs.sh" ${extra:+--extra "$extra"}) ||
    skip_all "cannot build the Debian root file system (offline?)"

out=$VM_CACHE/debian/out-$initiator
mkdir -p "$out"

# header KEY FILE: the value of a "# KEY: value" line of a scenario.
header() { sed -n "s/^# $1: *//p" "$2" | head -n 1; }

# Lines that mean a disk lost its path under I/O at shutdown.
SHUTDOWN_ERRORS='Synchronize Cache|rejecting I/O to offline device|DID_NO_CONNECT|I/O error|detected conn error'

# Units that would only add noise or load to a test boot.
MASKED="apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer
    e2scrub_reap.service fstrim.timer getty@tty1.service serial-getty@ttyS0.service
    systemd-tmpfiles-clean.timer"

# build_image DIR: DIR/root.img from the cached tree + kernel modules +
# this project (make install) + the test harness.
build_image() {
    local work=$1 st=$1/stage g=$DEB_DIR/guest u
    rm -rf "$st"
    cp -a "$rootfs/." "$st" || return 1
    mkdir -p "$st/usr/lib/modules"
    cp -a "$MODULES_DIR" "$st/usr/lib/modules/$KERNEL_VERSION" || return 1
    depmod -b "$st" -a "$KERNEL_VERSION" || return 1
    if [ "$initiator" = ours ]; then
        # What the README tells a user to do, into the image.
        make -C "$build" install DESTDIR="$st" >"$work/make-install.log" 2>&1 ||
            { tail -n 20 "$work/make-install.log" >&2; return 1; }
    fi
    # /etc/target: LIO's db_root (it complains when missing).
    install -d "$st/opt/vmtest" "$st/var/lib/vmtest" "$st/var/log/journal" "$st/etc/target" \
        "$st/etc/systemd/journald.conf.d" "$st/etc/systemd/system/multi-user.target.wants" \
        "$st/etc/systemd/system/network-online.target.wants"
    install -m 755 "$g/run-scenario.sh" "$g/vmtest-san.sh" "$st/opt/vmtest/"
    install -m 644 "$g/lib.sh" "$g"/scenario_*.sh "$st/opt/vmtest/"
    install -m 644 "$g/vmtest-san.service" "$g/vmtest-scenario.service" "$st/etc/systemd/system/"
    ln -sf ../vmtest-san.service "$st/etc/systemd/system/multi-user.target.wants/"
    ln -sf ../vmtest-san.service "$st/etc/systemd/system/network-online.target.wants/"
    ln -sf ../vmtest-scenario.service "$st/etc/systemd/system/multi-user.target.wants/"
    install -m 644 "$g/59-vmtest-lio-backing.rules" "$st/etc/udev/rules.d/"
    install -m 644 "$g/journald.conf" "$st/etc/systemd/journald.conf.d/vmtest.conf"
    install -m 644 "$g/multipath.conf" "$st/etc/multipath.conf"
    install -D -m 755 "$g/vmtest-final" "$st/usr/lib/systemd/system-shutdown/vmtest-final"
    for u in $MASKED; do ln -sf /dev/null "$st/etc/systemd/system/$u"; done
    # qemu's "-cpu max" offers virtualization, so udev loads kvm at boot:
    # of no use under TCG, and tens of seconds of a busy CPU there.
    printf 'blacklist kvm_amd\nblacklist kvm_intel\nblacklist kvm\n' >"$st/etc/modprobe.d/vmtest-nokvm.conf"
    if [ "${ISCSID_CONSOLE:-0}" = 1 ]; then
        install -d "$st/etc/systemd/system/iscsid.service.d"
        printf '[Service]\nStandardOutput=tty\nStandardError=tty\nTTYPath=/dev/console\n' \
            >"$st/etc/systemd/system/iscsid.service.d/console.conf"
    fi
    echo vmtest >"$st/etc/hostname"
    printf '127.0.0.1 localhost\n127.0.1.1 vmtest\n::1 localhost\n' >"$st/etc/hosts"
    # A fixed machine id: not a "first boot" (no presets applied), and both
    # boots write to the same journal directory.
    tr -d '-' </proc/sys/kernel/random/uuid >"$st/etc/machine-id"
    if [ "$root_mode" = iscsi ]; then
        build_iscsi_root "$work" "$st" || return 1
    else
        echo "/dev/nvme0n1 / ext4 defaults 0 1" >"$st/etc/fstab"
    fi
    rm -f "$work/$root_img"
    mke2fs -q -t ext4 -L vmroot -U "$root_uuid" -d "$st" "$work/$root_img" 1536M || return 1
    rm -rf "$st"
}

# Root on iSCSI: the LUN of target iqn.2003-01.org.example.vmtest:root
# (LIO in the same VM, backed by the virtio disk with serial lio-root that
# holds this image) is the root disk, set up as the README and
# iscsistart(8) tell an administrator of a Debian system to do it:
# `make install-initramfs`, the initiator name, /etc/iscsi/iscsi.initramfs
# (Debian's settings file: target, portal), fstab by UUID, iscsid.service
# enabled, `update-initramfs -c` (run in the image, with its own Debian
# initramfs-tools). The harness adds its own initramfs parts (guest/
# initramfs-*: the SAN comes up in init-premount, before the login).
# With INITIATOR=openiscsi, Debian's open-iscsi hook does the login.
ROOT_IQN=iqn.2003-01.org.example.vmtest:root
ROOT_INAME=iqn.2003-01.org.example.vmtest:rootclient
build_iscsi_root() {
    local work=$1 st=$2 g=$DEB_DIR/guest rc f
    if [ "$initiator" = ours ]; then
        make -C "$build" install-initramfs DESTDIR="$st" >>"$work/make-install.log" 2>&1 ||
            { tail -n 20 "$work/make-install.log" >&2; return 1; }
    else
        # Debian's hook adds no SCSI disk driver (it counts on MODULES=most).
        echo sd_mod >>"$st/etc/initramfs-tools/modules"
    fi
    install -d -m 755 "$st/etc/iscsi"
    echo "InitiatorName=$ROOT_INAME" >"$st/etc/iscsi/initiatorname.iscsi"
    printf 'ISCSI_TARGET_NAME=%s\nISCSI_TARGET_IP=127.0.0.1\nISCSI_TARGET_PORT=3260\n' "$ROOT_IQN" \
        >"$st/etc/iscsi/iscsi.initramfs"
    chmod 600 "$st/etc/iscsi/iscsi.initramfs"
    echo "UUID=$root_uuid / ext4 defaults,_netdev 0 1" >"$st/etc/fstab"
    install -m 755 "$g/initramfs-hook" "$st/etc/initramfs-tools/hooks/vmtest"
    install -D -m 755 "$g/initramfs-san" "$st/etc/initramfs-tools/scripts/init-premount/vmtest-san"
    install -D -m 755 "$g/initramfs-record" "$st/etc/initramfs-tools/scripts/local-premount/vmtest-record"
    install -m 644 "$g/initramfs.conf" "$st/etc/initramfs-tools/conf.d/vmtest"
    # /boot as the kernel package leaves it (mkinitramfs reads the config).
    cp "$(dirname "$KERNEL_IMAGE")/config-$KERNEL_VERSION" "$st/boot/" || return 1
    # In a mount namespace of its own: /proc and /dev for the chroot, gone
    # with it.
    unshare -m sh -c '
        mount -t proc proc "$1/proc" && mount --bind /dev "$1/dev" &&
        chroot "$1" systemctl enable iscsid.service &&
        chroot "$1" update-initramfs -c -k "$2"' sh "$st" "$KERNEL_VERSION" ||
        { echo "update-initramfs in the image failed" >&2; return 1; }
    cp "$st/boot/initrd.img-$KERNEL_VERSION" "$work/initrd.img" || return 1
    # What the boot needs must be in it (a hook that installs where
    # mkinitramfs does not look adds nothing, silently).
    chroot "$st" lsinitramfs "/boot/initrd.img-$KERNEL_VERSION" >"$work/initrd.list" || return 1
    rc=0
    for f in sbin/iscsistart scripts/init-premount/vmtest-san bin/vmtest-san etc/iscsi.initramfs \
            scripts/local-premount/vmtest-record; do
        grep -Eq "^(usr/)?$f\$" "$work/initrd.list" || { echo "the initramfs has no $f" >&2; rc=1; }
    done
    if [ "$initiator" = ours ]; then
        grep -Eq '^(usr/)?sbin/iscsid$' "$work/initrd.list" || { echo "the initramfs has no sbin/iscsid" >&2; rc=1; }
        grep -q '^scripts/local-top/iscsistart$' "$work/initrd.list" ||
            { echo "the initramfs has no scripts/local-top/iscsistart" >&2; rc=1; }
    fi
    return $rc
}

# boot DIR K N NAME DISKS [WORDS]: one boot, WORDS added to the kernel
# command line; the serial log (each line prefixed with the host's
# seconds since qemu started) in DIR/bootK.log.
boot() {
    local work=$1 k=$2 n=$3 name=$4 disks=$5 append=${6:-} d dn args=() t0 line
    for d in $disks; do
        dn=${d%%:*}
        args+=(-drive "file=$work/lio-$dn.img,format=raw,if=none,id=lio$dn,cache=unsafe"
               -device "virtio-blk-pci,drive=lio$dn,serial=lio-$dn")
    done
    local rootargs=(-drive "file=$work/root.img,format=raw,if=none,id=root,cache=unsafe"
                    -device nvme,drive=root,serial=vmroot)
    local cmdline="console=ttyS0 root=/dev/nvme0n1 rw panic=-1 quiet loglevel=4 mitigations=off"
    if [ "$root_mode" = iscsi ]; then
        # The root disk is the LIO backing disk (the first virtio disk).
        rootargs=(-initrd "$work/initrd.img"
                  -drive "file=$work/$root_img,format=raw,if=none,id=lioroot,cache=unsafe"
                  -device virtio-blk-pci,drive=lioroot,serial=lio-root)
        cmdline="console=ttyS0 root=UUID=$root_uuid ro panic=-1 quiet loglevel=4 mitigations=off"
    fi
    cmdline+=" systemd.show_status=auto vmtest.scenario=$name vmtest.boot=$k vmtest.boots=$n"
    cmdline+=" vmtest.initiator=$initiator${append:+ $append}${VM_APPEND:+ $VM_APPEND}"
    local try qrc
    for try in 1 2; do
        t0=$EPOCHREALTIME
        timeout -k 10 "$boot_timeout" \
            qemu-system-x86_64 -accel "${VM_ACCEL:-tcg}" -cpu "${VM_CPU:-max}" -m 1024 -smp 2 \
            -nographic -no-reboot -nic none -kernel "$KERNEL_IMAGE" -append "$cmdline" \
            "${rootargs[@]}" "${args[@]}" </dev/null 2>&1 |
        while IFS= read -r line || [ -n "$line" ]; do
            printf '%9.3f %s\n' "$(bc_sub "$EPOCHREALTIME" "$t0")" "${line//$'\r'/}"
        done >"$work/boot$k.log"
        qrc=${PIPESTATUS[0]}
        printf '%9.3f VMTEST-HOST-QEMU-EXIT %s\n' "$(bc_sub "$EPOCHREALTIME" "$t0")" "$qrc" >>"$work/boot$k.log"
        # A guest that printed nothing at all (no kernel-timestamped line:
        # normally the SAN unit's, ~10 s in) in the whole timeout hung in
        # the emulator before userspace, before anything under test ran
        # (seen once under TCG on a loaded 2-core host): boot it once more,
        # keeping the hung log beside.
        if [ "$try" = 1 ] && { [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; } &&
            ! grep -q '\[ *[0-9][0-9]*\.[0-9]*\]' "$work/boot$k.log"; then
            mv "$work/boot$k.log" "$work/boot$k.hung.log"
            echo "debian-vm $name: boot $k printed nothing in ${boot_timeout}s (hung before userspace); booting again" >&2
            continue
        fi
        break
    done
}

# Seconds between two $EPOCHREALTIME values, without forking.
bc_sub() {
    local a=${1/./} b=${2/./}
    local d=$(( 10#$a - 10#$b ))
    printf '%d.%06d' $((d / 1000000)) $((d % 1000000))
}

# marker_time LOG REGEX: host seconds of the first line matching.
marker_time() { awk -v re="$2" '$0 ~ re { print $1; exit }' "$1"; }

# check_iscsi_root DIR K: after boot K of a root on iSCSI: the root
# session was still logged in when systemd-shutdown had remounted the
# root read-only (guest/vmtest-final's line), and the file system the
# shutdown left is clean (e2fsck of the backing disk's image).
check_iscsi_root() {
    local work=$1 k=$2 fin out line
    fin=$(grep -o 'VMTEST-FINAL .*' "$work/boot$k.log" | tail -n 1)
    if [ -z "$fin" ]; then
        why+=("boot $k: no VMTEST-FINAL line: systemd-shutdown did not get to its last step")
    else
        case $fin in
        *" root=/dev/sd"*":ro "*) ;;
        *) why+=("boot $k: the root was not an iSCSI disk remounted read-only at the end: $fin") ;;
        esac
        case " ${fin#*sessions:} " in
        *" root:LOGGED_IN "*) ;;
        *) why+=("boot $k: the root's session was not logged in at the end: $fin") ;;
        esac
    fi
    if ! out=$(e2fsck -fn "$work/$root_img" 2>&1); then
        why+=("boot $k: the root file system is not clean after the shutdown (e2fsck -fn):")
        while IFS= read -r line; do why+=("  $line"); done < <(printf '%s\n' "$out" | head -n 8)
    fi
    if dumpe2fs -h "$work/$root_img" 2>/dev/null | grep -q '^Filesystem features:.*needs_recovery'; then
        why+=("boot $k: the root file system's journal needs a recovery after the shutdown")
    fi
}

run_scenario() {
    local name=$1 f=$DEB_DIR/guest/scenario_$1.sh work=$out/$1 boots disks clean d k rc=
    local t_start t_img results=() why=() line
    boots=$(header boots "$f"); boots=${boots:-1}
    disks=$(header disks "$f")
    clean=$(header clean-shutdown "$f")
    root_mode=$(header root "$f") root_img=root.img
    root_uuid=$(cat /proc/sys/kernel/random/uuid)
    [ "$root_mode" = iscsi ] && root_img=lio-root.img
    rm -rf "$work"; mkdir -p "$work"
    t_start=$(date +%s)
    if ! build_image "$work" >"$work/build-image.log" 2>&1; then
        echo "FAIL: debian-vm $name"; echo "    image build failed:"; tail -n 15 "$work/build-image.log" | sed 's/^/    /'
        return 1
    fi
    t_img=$(( $(date +%s) - t_start ))
    for d in $disks; do truncate -s "${d#*:}" "$work/lio-${d%%:*}.img"; done
    for ((k = 1; k <= boots; k++)); do
        boot "$work" "$k" "$boots" "$name" "$disks" "$(header "append-$k" "$f")"
        [ "${VERBOSE:-0}" = 1 ] && sed "s/^/    [boot $k] /" "$work/boot$k.log"
        # Kernel errors reach the console (loglevel 4) even after journald
        # is gone: the end of a shutdown is only visible here.
        if sed -n '/VMTEST-SHUTDOWN\|VMTEST-EXIT/,$p' "$work/boot$k.log" |
                grep -Eq "$SHUTDOWN_ERRORS"; then
            why+=("boot $k: kernel errors on the console during shutdown:")
            while IFS= read -r line; do why+=("  $line"); done < <(
                sed -n '/VMTEST-SHUTDOWN\|VMTEST-EXIT/,$p' "$work/boot$k.log" | grep -E "$SHUTDOWN_ERRORS" | head -n 5)
        fi
        # Unless the scenario says otherwise, every session is logged out
        # before the SAN (the "network") goes down, in every boot.
        # (Only the SAN unit's own line: a scenario may quote older ones.)
        local san_re='vmtest-san\.sh\[[0-9]*\]: vmtest-san: stopping; targets with sessions:'
        if [ "$clean" != no ] && grep "$san_re" "$work/boot$k.log" | grep -vq 'sessions: none'; then
            why+=("boot $k: the SAN went down under live sessions:")
            why+=("  $(grep "$san_re" "$work/boot$k.log" | grep -v 'sessions: none' | head -n 1)")
        fi
        if grep -q 'A stop job is running' "$work/boot$k.log"; then
            why+=("boot $k: systemd waited for a stop job at shutdown:")
            while IFS= read -r line; do why+=("  $line"); done < <(grep 'A stop job is running' "$work/boot$k.log" | tail -n 3)
        fi
        [ "$root_mode" = iscsi ] && check_iscsi_root "$work" "$k"
        local t_sd t_exit
        t_sd=$(marker_time "$work/boot$k.log" 'VMTEST-SHUTDOWN|VMTEST-EXIT')
        t_exit=$(marker_time "$work/boot$k.log" 'VMTEST-HOST-QEMU-EXIT')
        [ -n "$t_sd" ] && results+=("boot $k: $(awk -v a="$t_sd" 'BEGIN { printf "%.0f", a }') s + shutdown $(awk -v a="$t_sd" -v b="$t_exit" 'BEGIN { printf "%.1f", b - a }') s")
        rc=$(sed -n 's/.*VMTEST-EXIT \([0-9][0-9]*\)$/\1/p' "$work/boot$k.log" | tail -n 1)
        [ -n "$rc" ] && break
        if ! grep -q "VMTEST-SHUTDOWN $k\$" "$work/boot$k.log"; then
            if grep -q 'Kernel panic' "$work/boot$k.log"; then
                why+=("boot $k: kernel panic")
            elif grep -Eq 'VMTEST-HOST-QEMU-EXIT (124|137)$' "$work/boot$k.log"; then
                why+=("boot $k: timed out after ${boot_timeout}s")
            else
                why+=("boot $k: ended without a VMTEST marker ($(tail -n 1 "$work/boot$k.log"))")
            fi
            rc=125
            break
        fi
    done
    # What the guest kept in /var/lib/vmtest (outputs, boot 1's journal).
    rm -rf "$work/guest"
    debugfs -R "rdump /var/lib/vmtest $work" "$work/$root_img" >/dev/null 2>&1 &&
        mv "$work/vmtest" "$work/guest" 2>/dev/null
    while IFS= read -r line; do results+=("$line"); done < <(
        sed -n 's/.*VMTEST-RESULT \([^ ]*\) \(.*\)$/\1=\2/p' "$work"/boot*.log)
    results+=("image ${t_img} s" "total $(( $(date +%s) - t_start )) s")
    local summary
    summary=$(printf '%s; ' "${results[@]}"); summary=${summary%; }
    if [ "${rc:-1}" = 0 ] && [ ${#why[@]} = 0 ]; then
        echo "PASS: debian-vm $name ($summary)"
        return 0
    fi
    echo "FAIL: debian-vm $name (failed checks: ${rc:-none}; $summary)"
    for line in "${why[@]}"; do echo "    $line"; done
    # The scenario's own lines (checks and FAIL: reasons) from every boot.
    for ((k = 1; k <= boots; k++)); do
        [ -f "$work/boot$k.log" ] || continue
        sed -n '/VMTEST-BOOT /,/VMTEST-\(EXIT\|SHUTDOWN\)/p' "$work/boot$k.log" |
            sed 's/^ *[0-9.]* //; s/^\[ *[0-9.]*\] run-scenario.sh\[[0-9]*\]: //' | grep -v '^$' |
            sed "s/^/    [boot $k] /"
    done
    echo "    logs: $work"
    return 1
}

failed=0
for s in $scenarios; do
    run_scenario "$s" || failed=$((failed + 1))
done
[ "$failed" = 0 ]
