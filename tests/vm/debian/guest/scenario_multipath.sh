#!/bin/sh
# boots: 1
# disks: mp:64M
#
# dm-multipath over two iSCSI paths (issue 8 "Multipath"), with the
# distribution's multipath-tools: one target (mp) in two LIO target portal
# groups, tpgt_1 on 127.0.0.1:3260 and tpgt_2 on 127.0.0.2:3260, both with
# LUN 0 = the same backstore (same WWID and unit serial).
#  - iscsid.conf carries the values a multipath set-up wants
#    (replacement_timeout, NOOP-Out interval and timeout); the records
#    made by discovery have them and they reach the kernel (the session's
#    recovery_tmo, the connection's ping_tmo and recv_tmo), checked
#    before multipathd runs; multipathd then writes its fast_io_fail_tmo
#    into recovery_tmo, which holds over reconnects and an iscsid restart
#  - discovery records both portals, `--login` of the target logs in to
#    both, udev's by-path links (one per path) and by-id names (the same
#    serial on both paths) exist; multipathd, started with a minimal
#    /etc/multipath.conf, assembles one map with both paths active
#  - ext4 on the map, a writer (fsync per file) running: tpgt_1 disabled
#    for longer than replacement_timeout and recovery_tmo -> the path
#    fails, the writer goes on through tpgt_2 with no error; tpgt_1
#    re-enabled -> the session logs in again by itself and multipathd
#    reinstates the path. Then path 2 goes silent (packets to
#    127.0.0.2:3260 dropped): the kernel's NOP-Out timer fails it with the
#    configured ping_tmo and recv_tmo, the same failover follows, and the
#    path comes back when the packets flow again. At the end the writer's
#    exit status, the kernel log (no error on the map or the file system)
#    and every file read back after a remount
#  - `-m session -P 3` shows both sessions with their disks
#  - `--logoutall=all` with the map mounted, as open-iscsi 2.1.8 does it:
#    with iscsid.safe_logout = Yes refused (28, the map's mount counts as
#    a use of both sessions), both sessions kept; with the default (No)
#    both are logged out, the map loses its paths and queues I/O
#    (no_path_retry); `--login` again within that time gives the map its
#    paths back and the queued write completes
# Results: the failover figures (see failover below).
. /opt/vmtest/lib.sh
T=$(iqn mp)
P1=127.0.0.1:3260 P2=127.0.0.2:3260
CFS=/sys/kernel/config/target
TPG2=$CFS/iscsi/$T/tpgt_2
MNT=/mnt/mp
CONF=/etc/iscsi/iscsid.conf
# The values under test (each differs from the default: 120, 5, 5), and
# multipathd's fast_io_fail_tmo, which replaces replacement_timeout on
# every path it takes (iscsid.conf(5), MULTIPATH).
REPL=8 NOOP_INT=2 NOOP_TMO=3 FIO=5
# How long a path stays down after its session failed: well past
# recovery_tmo.
OUTAGE=10

# Path devices and sessions ------------------------------------------------

# bypath PORTAL: the by-path link of LUN 0 behind PORTAL.
bypath() { echo "/dev/disk/by-path/ip-$1-iscsi-$T-lun-0"; }
# sid_of ADDR: the session number of target mp whose connection goes to ADDR.
sid_of() {
    for c in /sys/class/iscsi_connection/connection*; do
        [ "$(cat "$c/persistent_address" 2>/dev/null)" = "$1" ] || continue
        n=${c##*/connection}; n=${n%%:*}
        [ "$(cat "/sys/class/iscsi_session/session$n/targetname" 2>/dev/null)" = "$T" ] || continue
        echo "$n"; return 0
    done
    return 1
}
nsessions() { cat /sys/class/iscsi_session/session*/targetname 2>/dev/null | grep -cxF "$T"; }
sess_state() { cat "/sys/class/iscsi_session/session$1/state" 2>/dev/null; }
# map: the name of the (only) multipath map.
map() { dmsetup ls --target multipath 2>/dev/null | awk '$1 != "No" { print $1; exit }'; }
# path_state DEV: multipathd's "dm_st chk_st" of a path ("active ready").
path_state() { multipathd show paths format '%d %t %T' 2>/dev/null | awk -v d="$1" '$1 == d { print $2, $3 }'; }
path_is() { [ "$(path_state "$1")" = "$2" ]; }
both_active() { path_is "$D1" "active ready" && path_is "$D2" "active ready"; }
has_map() { [ -n "$(map)" ]; }
# map_paths MAP [DM_STATE]: how many paths multipathd has in MAP (in that state).
map_paths() { multipathd show paths format '%d %m %t' 2>/dev/null | awk -v m="$1" -v s="${2:-}" '$2 == m && (s == "" || $3 == s)' | wc -l; }
map_has() { [ "$(map_paths "$1" "${3:-}")" = "$2" ]; }
sess_is() { [ "$(sess_state "$1")" = "$2" ]; }
# Disks that -m session -P 3 shows attached and running.
running_disks() { iscsiadm -m session -P 3 | grep -Ec "Attached scsi disk sd[a-z]+[[:space:]]+State: running"; }
running_is() { [ "$(running_disks)" = "$1" ]; }
# kernel_failed_path T0 MAJ:MIN: uptime of dm-multipath's first "Failing
# path MAJ:MIN." line at or after uptime T0.
kernel_failed_path() {
    dmesg | sed -n "s/^\[ *\([0-9.]*\)\] device-mapper: multipath: .*: Failing path $2\.\$/\1/p" |
        awk -v t="$1" '$1 >= t { print; exit }'
}

# check_recovery_tmo WHEN: both sessions have multipathd's fast_io_fail_tmo.
check_recovery_tmo() {
    for s in "$S1" "$S2"; do
        v=$(cat "/sys/class/iscsi_session/session$s/recovery_tmo")
        echo "session $s: recovery_tmo $v ($1)"
        [ "$v" = "$FIO" ] || bad "session $s: recovery_tmo $v after $1, expected multipathd's fast_io_fail_tmo $FIO"
    done
}
# Errors the map or the file system must never see (a path's own sd
# errors during a failover are expected and not matched).
fs_errors() {
    dmesg | grep -E "EXT4-fs (error|warning)|Buffer I/O error on dev dm-|I/O error, dev dm-|end_request: I/O error, dev dm-|Aborting journal|Remounting filesystem read-only"
}

boot1() {
    step "second portal group: tpgt_2 on $P2, LUN 0 = the same backstore"
    # vmtest-san.sh: the iblock backstore named after the disk.
    bs=$CFS/core/iblock_0/mp
    [ -d "$bs" ] || fail "no backstore $bs"
    mkdir "$TPG2" || fail "mkdir $TPG2"
    for a in generate_node_acls=1 demo_mode_write_protect=0 cache_dynamic_acls=1 authentication=0; do
        printf '%s' "${a#*=}" >"$TPG2/attrib/${a%=*}" || fail "tpgt_2 attrib $a"
    done
    mkdir "$TPG2/lun/lun_0" && ln -s "$bs" "$TPG2/lun/lun_0/mp" && mkdir "$TPG2/np/$P2" ||
        fail "tpgt_2 LUN / portal"
    printf 1 >"$TPG2/enable" || fail "enable tpgt_2"

    step "multipath settings: iscsid.conf and a minimal multipath.conf"
    mkdir -p /etc/iscsi
    cat >>"$CONF" <<EOF
node.session.timeo.replacement_timeout = $REPL
node.conn[0].timeo.noop_out_interval = $NOOP_INT
node.conn[0].timeo.noop_out_timeout = $NOOP_TMO
iscsid.safe_logout = Yes
EOF
    cat >/etc/multipath.conf <<EOF
defaults {
    user_friendly_names yes
    find_multipaths yes
    fast_io_fail_tmo $FIO
}
blacklist {
    devnode "^nvme"
    devnode "^vd[a-z]"
}
EOF
    # multipathd writes its fast_io_fail_tmo into recovery_tmo: the
    # initiator's own values are checked before it runs.
    systemctl stop multipathd.socket multipathd.service

    step "discovery: both portals"
    systemctl enable --now iscsid.socket || fail "enable iscsid.socket"
    iscsiadm -m discovery -t st -p "$PORTAL_IP" || fail "discovery failed"
    iscsiadm -m node
    for p in "$P1,1" "$P2,2"; do
        iscsiadm -m node | grep -qxF "$p $T" || bad "no node record '$p $T' after discovery"
    done
    for p in "$P1" "$P2"; do
        v=$(iscsiadm -m node -T "$T" -p "$p" | sed -n 's/^node.session.timeo.replacement_timeout = //p')
        [ "$v" = "$REPL" ] || bad "record $p: replacement_timeout '$v', iscsid.conf says $REPL"
    done

    step "--login of the target: both paths"
    iscsiadm -m node -T "$T" --login || bad "iscsiadm -m node -T $T --login failed"
    [ "$(nsessions)" = 2 ] || fail "$(nsessions) session(s) to $T, expected 2"
    S1=$(sid_of 127.0.0.1) || fail "no session through 127.0.0.1"
    S2=$(sid_of 127.0.0.2) || fail "no session through 127.0.0.2"
    wait_for 30 test -b "$(bypath $P1)" || bad "no $(bypath $P1)"
    wait_for 30 test -b "$(bypath $P2)" || bad "no $(bypath $P2)"
    udevadm settle -t 30
    D1=$(readlink -f "$(bypath $P1)"); D1=${D1#/dev/}
    D2=$(readlink -f "$(bypath $P2)"); D2=${D2#/dev/}
    echo "session $S1 ($P1) -> $D1, session $S2 ($P2) -> $D2"
    [ -n "$D1" ] && [ -n "$D2" ] && [ "$D1" != "$D2" ] || fail "the two paths are not two disks ('$D1', '$D2')"

    step "the timeouts in the kernel"
    for s in "$S1" "$S2"; do
        v=$(cat "/sys/class/iscsi_session/session$s/recovery_tmo")
        [ "$v" = "$REPL" ] || bad "session $s: recovery_tmo $v, expected $REPL (replacement_timeout)"
        v=$(cat /sys/class/iscsi_connection/connection"$s":0/recv_tmo)
        [ "$v" = "$NOOP_INT" ] || bad "session $s: recv_tmo $v, expected $NOOP_INT (noop_out_interval)"
        v=$(cat /sys/class/iscsi_connection/connection"$s":0/ping_tmo)
        [ "$v" = "$NOOP_TMO" ] || bad "session $s: ping_tmo $v, expected $NOOP_TMO (noop_out_timeout)"
        echo "session $s: recovery_tmo $(cat "/sys/class/iscsi_session/session$s/recovery_tmo")" \
            "recv_tmo $(cat /sys/class/iscsi_connection/connection"$s":0/recv_tmo)" \
            "ping_tmo $(cat /sys/class/iscsi_connection/connection"$s":0/ping_tmo)"
    done

    step "udev: by-path per path, by-id names (same serial)"
    for l in /dev/disk/by-path/*-iscsi-* /dev/disk/by-id/scsi-* /dev/disk/by-id/wwn-*; do
        [ -L "$l" ] && echo "$l -> $(readlink "$l")"
    done
    id1=$(udevadm info -q property -n "$D1" | sed -n 's/^ID_SERIAL=//p')
    id2=$(udevadm info -q property -n "$D2" | sed -n 's/^ID_SERIAL=//p')
    echo "ID_SERIAL $D1: $id1, $D2: $id2"
    [ -n "$id1" ] && [ "$id1" = "$id2" ] || bad "the paths have different or no ID_SERIAL ('$id1', '$id2')"
    for d in "$D1" "$D2"; do
        udevadm info -q symlink -n "$d" | tr ' ' '\n' | grep -q "^disk/by-id/scsi-$id1\$" ||
            bad "$d has no by-id link disk/by-id/scsi-$id1 ($(udevadm info -q symlink -n "$d"))"
    done
    test -e "/dev/disk/by-id/scsi-$id1" || bad "no /dev/disk/by-id/scsi-$id1"

    step "multipathd assembles one map"
    systemctl start multipathd.service || fail "systemctl start multipathd failed"
    wait_for 30 has_map || fail "no multipath map 30 s after multipathd started"
    M=$(map)
    wait_for 30 both_active || bad "not both paths active: $D1 '$(path_state "$D1")', $D2 '$(path_state "$D2")'"
    multipath -ll
    multipathd show paths format '%d %t %T %m %w'
    [ "$(dmsetup ls --target multipath | grep -vc '^No')" = 1 ] || bad "more than one multipath map"
    [ "$(map_paths "$M")" = 2 ] || bad "map $M has $(map_paths "$M") path(s), expected 2"
    check_recovery_tmo "multipathd took the paths"
    multipathd show config local 2>/dev/null | grep -E 'fast_io_fail|no_path_retry|polling_interval' | sort -u

    step "ext4 on /dev/mapper/$M, mounted, -P 3"
    mkfs.ext4 -q -F "/dev/mapper/$M" || fail "mkfs.ext4 /dev/mapper/$M"
    mkdir -p "$MNT" && mount "/dev/mapper/$M" "$MNT" || fail "mount /dev/mapper/$M"
    P3=$(iscsiadm -m session -P 3)
    echo "$P3" | grep -E 'Target:|Current Portal|SID:|Session State:|Recovery Timeout|Attached scsi disk'
    for d in "$D1" "$D2"; do
        echo "$P3" | grep -Eq "Attached scsi disk ${d}[[:space:]]+State: running" || bad "-P 3 does not show $d running"
    done
    for p in "$P1,1" "$P2,2"; do
        echo "$P3" | grep -q "Current Portal: $p" || bad "-P 3 shows no session on $p"
    done

    writer_start "$MNT/w"
    wait_for 20 writer_has 5 || bad "the writer does not write"
    failover 1 disable "$S1" "$D1"
    failover 2 silent "$S2" "$D2"
    check_recovery_tmo "the reconnects"
    sleep 2
    writer_stop
    echo "writer: exit $WRITER_RC, $(writer_count) files"
    [ "$WRITER_RC" = 0 ] || bad "the writer failed (exit $WRITER_RC): I/O error through the map"
    errs=$(fs_errors)
    [ -z "$errs" ] || { bad "errors on the map or the file system:"; echo "$errs" | head -n 20; }
    dmesg | grep -E 'device-mapper: multipath: .*(Failing|Reinstating)|session recovery timed out'

    verify "after the failovers"

    step "--logoutall=all with the map mounted, iscsid.safe_logout = Yes"
    iscsiadm -m node --logoutall=all; rc=$?
    echo "exit $rc, $(nsessions) session(s) left"
    # open-iscsi 2.1.8 does the same: 28, both sessions kept.
    [ "$rc" = 28 ] || bad "--logoutall=all with the map mounted and safe_logout exited $rc, expected 28"
    [ "$(nsessions)" = 2 ] || bad "--logoutall=all with safe_logout = Yes left $(nsessions) session(s)"

    step "--logoutall=all with the map mounted, iscsid.safe_logout = No (the default)"
    sed -i '/^iscsid.safe_logout/d' "$CONF"
    systemctl restart iscsid.service || bad "systemctl restart iscsid failed"
    wait_for 20 running_is 2 || bad "-P 3 after the restart: $(running_disks) disk(s) running, expected 2"
    check_recovery_tmo "an iscsid restart"
    if [ "$(nsessions)" = 2 ]; then
        iscsiadm -m node --logoutall=all; rc=$?
        echo "exit $rc, $(nsessions) session(s) left"
        [ "$rc" = 0 ] || bad "--logoutall=all exited $rc"
        [ "$(nsessions)" = 0 ] || bad "--logoutall=all left $(nsessions) session(s)"
    fi
    wait_for 20 map_has "$M" 0 ||
        bad "map $M still has paths after the logout"
    multipath -ll
    findmnt "$MNT" >/dev/null || bad "$MNT is no longer mounted"
    # A write now queues in the map (no_path_retry) until a path returns.
    (head -c 1048576 /dev/urandom >"$MNT/queued" && sync "$MNT/queued"; echo $? >/run/mp-queued.rc) &
    qpid=$!
    sleep 3
    [ -e /run/mp-queued.rc ] && bad "a write with no path completed ($(cat /run/mp-queued.rc)) instead of queueing"
    t0=$(now)
    iscsiadm -m node -T "$T" --login || bad "login again failed"
    [ "$(nsessions)" = 2 ] || bad "$(nsessions) session(s) after --login, expected 2"
    udevadm settle -t 30
    wait_for 60 map_has "$M" 2 active ||
        bad "map $M did not get both paths back"
    wait "$qpid"
    qrc=$(cat /run/mp-queued.rc 2>/dev/null)
    echo "queued write: exit $qrc, $(secs "$t0" "$(now)") s after the login"
    [ "$qrc" = 0 ] || bad "the write queued while the map had no path failed ($qrc)"
    multipath -ll
    errs=$(fs_errors)
    [ -z "$errs" ] || { bad "errors on the map or the file system:"; echo "$errs" | head -n 20; }
    verify "at the end"
    umount "$MNT" || bad "umount $MNT"
    finish
}

# path_down K MODE / path_up K MODE: take portal group K's path away and
# give it back. disable: LIO's tpgt_K/enable = 0 (the target closes the
# connection at once, then refuses logins). silent: everything the
# initiator sends to 127.0.0.K:3260 is dropped on lo (netem, loss 100%),
# so nothing tells it the path is gone but its NOP-Outs going unanswered.
path_down() {
    case $2 in
    disable) printf 0 >"$CFS/iscsi/$T/tpgt_$1/enable" ;;
    silent) tc qdisc add dev lo root handle 1: prio &&
            tc qdisc add dev lo parent 1:3 handle 30: netem loss 100% &&
            tc filter add dev lo parent 1: protocol ip prio 1 u32 \
                match ip dst "127.0.0.$1/32" match ip dport 3260 0xffff flowid 1:3 ;;
    esac
}
path_up() {
    case $2 in
    disable) printf 1 >"$CFS/iscsi/$T/tpgt_$1/enable" ;;
    silent) tc qdisc del dev lo root ;;
    esac
}

# failover K MODE SID DEV: path K down under the writer until $OUTAGE s
# after its session failed, then back.
failover() {
    k=$1 mode=$2 sid=$3 dev=$4
    step "failover $k: path $k down ($mode) under the writer"
    c0=$(writer_count)
    t0=$(now)
    path_down "$k" "$mode" || { bad "cannot take path $k down ($mode)"; return; }
    wait_for 20 sess_is "$sid" FAILED || bad "session $sid not FAILED 20 s after path $k went down"
    t_sf=$(now)
    echo "session $sid FAILED $(secs "$t0" "$t_sf") s after path $k went down"
    if [ "$mode" = silent ]; then
        # Only the kernel's NOP-Out timer can notice a silent path, with the
        # record's noop_out_interval (recv_tmo) and noop_out_timeout (ping_tmo).
        line=$(dmesg | grep "connection$sid:0: ping timeout of" | tail -n 1)
        echo "${line:-no ping timeout line}"
        echo "$line" | grep -q "ping timeout of $NOOP_TMO secs expired, recv timeout $NOOP_INT," ||
            bad "no 'ping timeout of $NOOP_TMO secs expired, recv timeout $NOOP_INT' for connection$sid:0"
        result "mp${k}_silent_detected_s" "$(secs "$t0" "$t_sf")"
    fi
    # Until the path comes back: how far the writer got by recovery_tmo +
    # 2 s after the session failed.
    c_late=""
    t_late=$(awk -v t="$t_sf" -v r="$FIO" 'BEGIN { printf "%d", t + r + 2 }')
    t_end=$(awk -v t="$t_sf" -v o="$OUTAGE" 'BEGIN { printf "%d", t + o }')
    while [ "$(now | cut -d. -f1)" -lt "$t_end" ]; do
        [ -z "$c_late" ] && [ "$(now | cut -d. -f1)" -ge "$t_late" ] && c_late=$(writer_count)
        sleep 0.2
    done
    c1=$(writer_count)
    # When the map failed the path: the kernel's line (multipathd's own
    # view lags: it may reload the map when the path's ALUA state cannot
    # be read, and only its next check marks the path failed).
    t_failed=$(kernel_failed_path "$t0" "$(cat "/sys/block/$dev/dev")")
    echo "path $dev failed in the map $(secs "$t0" "${t_failed:-$t0}") s after path $k went down;" \
        "$((c1 - c0)) files written meanwhile; longest pause $(writer_max_gap "$t0") s"
    [ -n "$t_failed" ] || bad "the map did not fail path $dev during the outage"
    # The writer carries on through the other path once the failed one
    # gave its I/O back (recovery_tmo: multipathd's fast_io_fail_tmo).
    [ "$c1" -gt "${c_late:-$c1}" ] ||
        bad "the writer wrote nothing later than recovery_tmo + 2 s after session $sid failed"
    result "mp${k}_path_failed_s" "$(secs "$t0" "${t_failed:-$t0}")"
    result "mp${k}_max_pause_s" "$(writer_max_gap "$t0")"

    step "failover $k: path $k back"
    t1=$(now)
    path_up "$k" "$mode" || bad "cannot bring path $k back ($mode)"
    wait_for 40 sess_is "$sid" LOGGED_IN ||
        bad "session $sid did not log in again within 40 s"
    t_in=$(now)
    wait_for 40 path_is "$dev" "active ready" ||
        bad "multipathd did not reinstate $dev within 40 s ('$(path_state "$dev")')"
    t_back=$(now)
    echo "session $sid logged in $(secs "$t1" "$t_in") s after path $k came back;" \
        "path $dev active $(secs "$t1" "$t_back") s after"
    multipathd show paths format '%d %t %T %m'
    result "mp${k}_relogin_s" "$(secs "$t1" "$t_in")"
    result "mp${k}_reinstated_s" "$(secs "$t1" "$t_back")"
}

# verify WHEN: every file the writer finished reads back as written,
# from the disk (after a remount), through the map.
verify() {
    umount "$MNT" && mount "/dev/mapper/$M" "$MNT" || { bad "remount $MNT ($1)"; return; }
    bad_files=$(writer_verify)
    [ -z "$bad_files" ] || { bad "files differ from what was written ($1):"; echo "$bad_files"; }
    echo "$(writer_count) files verified ($1)"
}

case ${1:-1} in
1) boot1 ;;
*) fail "scenario multipath has 1 boot, not $1" ;;
esac
