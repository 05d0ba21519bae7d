#!/bin/sh
# The test SAN of the full Debian VM: the kernel's LIO iSCSI target on
# 127.0.0.1:3260, one target per extra virtio disk whose serial is
# "lio-NAME" (iqn.2003-01.org.example.vmtest:NAME, LUN 0 = that disk
# through the iblock backstore, demo mode: any initiator, no CHAP).
# The disks are files on the host, so the LUNs keep their data across
# reboots, and nothing on the root file system holds them.
#
#   vmtest-san.sh start   configure (vmtest-san.service ExecStart)
#   vmtest-san.sh stop    log which targets still have sessions, then clear
#                         everything, as targetctl's "clear" does
#
# A target named in /etc/vmtest-san.down (one NAME a line) starts with its
# portal group disabled: it refuses logins (0x0301) as a storage array
# that is still down does, until a scenario writes 1 to tpgt_1/enable.
#
# Root on iSCSI (run.sh, "# root: iscsi"): the initramfs runs "start"
# before it logs in (guest/initramfs-san), and lists the targets it made
# in $KEEP. The configuration lives in the kernel, so it outlives the
# switch to the real root: "start" there keeps targets that exist, and
# "stop" leaves the listed ones up, as a real SAN outlives its clients'
# shutdown (the root file system is on them until the power-off).
set -u
CFS=/sys/kernel/config/target
IQN_PREFIX=iqn.2003-01.org.example.vmtest
PORTAL=127.0.0.1:3260
KEEP=/run/vmtest-san.initramfs

say() { echo "vmtest-san: $*"; }
put() { printf '%s' "$2" >"$1" || { say "cannot write '$2' to $1"; exit 1; }; }

start() {
    modprobe -a configfs target_core_mod target_core_iblock iscsi_target_mod ||
        { say "cannot load the LIO modules"; exit 1; }
    grep -q ' /sys/kernel/config ' /proc/mounts ||
        mount -t configfs configfs /sys/kernel/config || exit 1
    mkdir -p "$CFS/iscsi" || exit 1
    ip link set lo up
    # The virtio disks appear while udev handles the coldplug events.
    udevadm settle -t 30 || true
    n=0
    for s in /sys/block/vd*/serial; do
        [ -r "$s" ] || continue
        serial=$(cat "$s")
        case $serial in lio-?*) ;; *) continue ;; esac
        name=${serial#lio-}
        dev=${s%/serial}; dev=/dev/${dev##*/}
        if [ -d "$CFS/iscsi/$IQN_PREFIX:$name" ]; then
            say "target $IQN_PREFIX:$name configured already (by the initramfs)"
            n=$((n + 1))
            continue
        fi
        bs=$CFS/core/iblock_0/$name
        mkdir -p "$bs" || exit 1
        put "$bs/control" "udev_path=$dev"
        # A stable unit serial: stable /dev/disk/by-id names for the LUN.
        put "$bs/wwn/vpd_unit_serial" "$(printf '%s' "$name" | md5sum | cut -c1-32)"
        put "$bs/enable" 1
        tpg=$CFS/iscsi/$IQN_PREFIX:$name/tpgt_1
        mkdir -p "$tpg" || exit 1
        put "$tpg/attrib/generate_node_acls" 1
        put "$tpg/attrib/demo_mode_write_protect" 0
        put "$tpg/attrib/cache_dynamic_acls" 1
        put "$tpg/attrib/authentication" 0
        mkdir "$tpg/lun/lun_0" && ln -s "$bs" "$tpg/lun/lun_0/$name" || exit 1
        mkdir "$tpg/np/$PORTAL" || exit 1
        if [ -r /etc/vmtest-san.down ] && grep -qxF "$name" /etc/vmtest-san.down; then
            say "target $IQN_PREFIX:$name on $PORTAL, LUN 0 = $dev: portal group disabled (down)"
        else
            put "$tpg/enable" 1
            say "target $IQN_PREFIX:$name on $PORTAL, LUN 0 = $dev"
        fi
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || { say "no virtio disk with a lio-NAME serial"; exit 1; }
}

# kept IQN: a target the initramfs made (see the top)?
kept() { [ -r "$KEEP" ] && grep -qxF "$1" "$KEEP"; }

stop() {
    live= keep=
    # Every portal group: a scenario may add more (tpgt_2 for multipath),
    # named "NAME,TPGT" beyond the first.
    for tpg in "$CFS"/iscsi/"$IQN_PREFIX":*/tpgt_*; do
        [ -d "$tpg" ] || continue
        full=${tpg%/tpgt_*}; t=${full##*:}; g=${tpg##*/tpgt_}
        if kept "${full##*/}"; then [ "$g" = 1 ] && keep="$keep $t"; continue; fi
        [ "$g" = 1 ] || t="$t,$g"
        n=$(grep -c . "$tpg/dynamic_sessions" 2>/dev/null)
        [ "${n:-0}" -gt 0 ] && live="$live $t"
    done
    # The boot-2 checks read this line from the previous boot's journal.
    say "stopping; targets with sessions:${live:- none}${keep:+; kept up (root, from the initramfs):$keep}"
    for tpg in "$CFS"/iscsi/*/tpgt_*; do
        [ -d "$tpg" ] || continue
        t=${tpg%/tpgt_*}; kept "${t##*/}" && continue
        printf 0 >"$tpg/enable" 2>/dev/null
        for l in "$tpg"/lun/lun_*/*; do [ -L "$l" ] && rm "$l"; done
        for d in "$tpg"/lun/lun_* "$tpg"/np/*; do [ -d "$d" ] && rmdir "$d"; done
        rmdir "$tpg"
    done
    for t in "$CFS"/iscsi/*:*; do [ -d "$t" ] && ! kept "${t##*/}" && rmdir "$t"; done
    for b in "$CFS"/core/iblock_*/*; do
        [ -d "$b" ] && ! kept "$IQN_PREFIX:${b##*/}" && rmdir "$b"
    done
    say "cleared"
}

case ${1:-} in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
