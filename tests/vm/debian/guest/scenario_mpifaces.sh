#!/bin/sh
# boots: 1
# disks: mpif:64M
#
# dm-multipath over two ifaces (issue 8 "Ifaces": multipath over two
# ifaces): one target portal, two NICs on one storage subnet, one session
# per NIC, bound by iscsiadm ifaces, each path failing at the link level
# on its own.
#
#   initiator (main namespace)         "switch" + target (namespace san)
#   mpa 10.9.0.1  ==== veth ====  mpa-t \
#   mpb 10.9.0.2  ==== veth ====  mpb-t - br0 10.9.0.10, LIO portal :3260
#   (MAC 02:00:5e:00:53:b2)
#
# LIO's portal socket lives in the namespace of the process that creates
# the np directory, so the portal is made from inside san; the target is
# reachable only through the two links. Both NICs are on 10.9.0.0/24: the
# routing table alone sends everything through mpa, so only the iface
# bindings give path b its own NIC (the host set-up a storage network of
# that shape needs: arp_ignore 1 / arp_announce 2, so each NIC answers
# ARP for its own address only, and rp_filter 2, since replies to mpb
# arrive on a NIC that is not the route back; iscsid.conf(5) MULTIPATH).
#   ifa  iface.net_ifacename = mpa
#   ifb  iface.hwaddress = mpb's MAC
# Checks:
#  - discovery with -I ifa -I ifb makes one record per iface, each
#    iface's SendTargets went out through its NIC; `--login` of the
#    target logs in through both: two sessions (LIO sees two), the same
#    LUN behind both (one WWID), each session's TCP connection bound to
#    its iface's NIC with that NIC's address (ss), a direct read through
#    each path's disk arrives on that path's NIC and not on the other;
#    the timeouts of the records (iscsid.conf) in the kernel
#  - `-m session -P 3` shows both sessions with their iface and disk
#  - multipathd makes one map of the two paths; ext4 on it, a writer
#    (fsync per file)
#  - failover 1: the switch port of path a goes down (mpa loses its
#    carrier) until OUTAGE s after its session failed: the other session
#    stays logged in, the map fails the path, the writer goes on through
#    mpb (its bytes leave through mpb, not mpa); the port comes back: the
#    session logs in again by itself, through mpa, multipathd reinstates
#    the path
#  - `systemctl restart iscsid` (the sessions are adopted)
#  - failover 2: the initiator's NIC mpb is set down (`ip link set mpb
#    down`), the same checks the other way; the adopted session's new
#    connection is bound to mpb again (the iface's MAC looked up anew)
#  - the writer's exit status, no error on the map or ext4, every file
#    read back after a remount; logout of the target ends both sessions
# Results: mpifK_detected_s (link down to session FAILED),
# mpifK_path_failed_s (to the map failing the path), mpifK_max_pause_s
# (writer), mpifK_relogin_s (link back to LOGGED_IN), mpifK_reinstated_s
# (to `active ready` in multipathd).
. /opt/vmtest/lib.sh
T=$(iqn mpif)
CFS=/sys/kernel/config/target
TPG=$CFS/iscsi/$T/tpgt_1
NS=san
TA=10.9.0.10
P=$TA:3260
A1=10.9.0.1 A2=10.9.0.2
MAC2=02:00:5e:00:53:b2
MNT=/mnt/mpif
CONF=/etc/iscsi/iscsid.conf
# replacement_timeout, NOOP-Out interval and timeout (each differs from
# the default, so the kernel's values show the records' are used), and
# multipathd's fast_io_fail_tmo, which replaces recovery_tmo.
REPL=6 NOOP_INT=2 NOOP_TMO=3 FIO=5
# How long a link stays down after its session failed: past recovery_tmo.
OUTAGE=8
MIB=1048576

san() { nsenter --net=/run/netns/$NS "$@"; }
nic_of() { case $1 in 1) echo mpa ;; 2) echo mpb ;; esac; }
addr_of() { case $1 in 1) echo $A1 ;; 2) echo $A2 ;; esac; }
iface_of() { case $1 in 1) echo ifa ;; 2) echo ifb ;; esac; }
stat_of() { cat "/sys/class/net/$1/statistics/$2"; }
# sysctl_set KEY=VALUE...: net.* settings of the caller's namespace (no
# procps in the image).
sysctl_set() {
    for kv in "$@"; do
        printf '%s' "${kv#*=}" >"/proc/sys/$(echo "${kv%%=*}" | tr . /)" || return 1
    done
}
sysctl_get() { cat "/proc/sys/$(echo "$1" | tr . /)"; }

# Sessions, disks, connections ---------------------------------------------

# sid_of IFACE: the session of target T started through IFACE.
sid_of() {
    for s in /sys/class/iscsi_session/session*; do
        [ "$(cat "$s/targetname" 2>/dev/null)" = "$T" ] || continue
        [ "$(cat "$s/ifacename" 2>/dev/null)" = "$1" ] && { echo "${s##*/session}"; return 0; }
    done
    return 1
}
nsessions() { cat /sys/class/iscsi_session/session*/targetname 2>/dev/null | grep -cxF "$T"; }
sess_state() { cat "/sys/class/iscsi_session/session$1/state" 2>/dev/null; }
sess_is() { [ "$(sess_state "$1")" = "$2" ]; }
# disk_of SID: the sd disk of LUN 0 of session SID.
disk_of() {
    for d in /sys/class/iscsi_session/session"$1"/device/target*/*:0/block/*; do
        [ -e "$d" ] && { echo "${d##*/}"; return 0; }
    done
    return 1
}
# conn_end SID: the local end of the session's TCP connection as ss shows
# it: "ADDR%DEV:PORT" when the socket is bound to a device, "ADDR:PORT"
# when not; the port is the one the kernel's connection reports.
conn_end() {
    _p=$(cat "/sys/class/iscsi_connection/connection$1:0/local_port" 2>/dev/null) || return 1
    ss -tnH state established "( sport = :$_p and dport = :3260 )" | awk -v t="$P" '$4 == t { print $3; exit }'
}
# check_conn K WHEN: path K's session is connected from its NIC's address
# on a socket bound to that NIC.
check_conn() {
    _s=$(sid_of "$(iface_of "$1")") || { bad "no session through $(iface_of "$1") ($2)"; return; }
    _e=$(conn_end "$_s")
    echo "session $_s ($(iface_of "$1")): $_e -> $P ($2)"
    case $_e in
    "$(addr_of "$1")%$(nic_of "$1"):"[0-9]*) ;;
    *) ss -tn state established
       bad "session $_s through $(iface_of "$1") connected from '$_e' ($2), expected $(addr_of "$1") bound to $(nic_of "$1")" ;;
    esac
}

# map: the name of the (only) multipath map.
map() { dmsetup ls --target multipath 2>/dev/null | awk '$1 != "No" { print $1; exit }'; }
has_map() { [ -n "$(map)" ]; }
# path_state DEV: multipathd's "dm_st chk_st" of a path ("active ready").
path_state() { multipathd show paths format '%d %t %T' 2>/dev/null | awk -v d="$1" '$1 == d { print $2, $3 }'; }
path_is() { [ "$(path_state "$1")" = "$2" ]; }
# dm_active DEV: the kernel's map has path DEV active (multipathd's own
# view of a path can say "active" while the kernel still has it failed).
dm_active() { dmsetup status "$M" 2>/dev/null | grep -q " $(cat "/sys/block/$1/dev") A "; }
both_active() { path_is "$D1" "active ready" && path_is "$D2" "active ready"; }
map_paths() { multipathd show paths format '%d %m' 2>/dev/null | awk -v m="$1" '$2 == m' | wc -l; }
running_disks() { iscsiadm -m session -P 3 | grep -Ec "Attached scsi disk sd[a-z]+[[:space:]]+State: running"; }
running_is() { [ "$(running_disks)" = "$1" ]; }
# kernel_failed_path T0 MAJ:MIN: uptime of dm-multipath's first "Failing
# path MAJ:MIN." at or after uptime T0.
kernel_failed_path() {
    dmesg | sed -n "s/^\[ *\([0-9.]*\)\] device-mapper: multipath: .*: Failing path $2\.\$/\1/p" |
        awk -v t="$1" '$1 >= t { print; exit }'
}
fs_errors() {
    dmesg | grep -E "EXT4-fs (error|warning)|Buffer I/O error on dev dm-|I/O error, dev dm-|Aborting journal|Remounting filesystem read-only"
}
# p3_session SID: the -m session -P 3 lines of session SID (both sessions
# have the same portal: split at each "Current Portal").
p3_session() {
    echo "$P3" | awk -v sid="$1" '
        /^[[:space:]]*Current Portal:/ { n++ } { b[n] = b[n] $0 "\n" }
        $0 ~ "^[[:space:]]*SID: " sid "$" { want = n }
        END { if (want) printf "%s", b[want] }'
}

# The network ----------------------------------------------------------------

net_setup() {
    ip netns add $NS || return 1
    ip link add mpa type veth peer name mpa-t &&
    ip link add mpb address $MAC2 type veth peer name mpb-t || return 1
    ip link set mpa-t netns $NS && ip link set mpb-t netns $NS || return 1
    for n in mpa mpb; do
        # no IPv6 chatter in the per-NIC byte counts
        sysctl_set net.ipv6.conf.$n.disable_ipv6=1 \
            net.ipv4.conf.$n.arp_ignore=1 net.ipv4.conf.$n.arp_announce=2 net.ipv4.conf.$n.rp_filter=2 ||
            return 1
    done
    ip addr add $A1/24 dev mpa && ip addr add $A2/24 dev mpb &&
    ip link set mpa up && ip link set mpb up || return 1
    san sh -c 'printf 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6 &&
        printf 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' || return 1
    san ip link add br0 type bridge && san ip link set mpa-t master br0 &&
    san ip link set mpb-t master br0 && san ip addr add $TA/24 dev br0 || return 1
    for n in lo mpa-t mpb-t br0; do san ip link set $n up || return 1; done
}

# path_down K / path_up K: path 1: the switch port (mpa's peer) goes down,
# mpa loses its carrier (a pulled cable); path 2: the initiator's NIC is
# set down (its route goes with it).
path_down() {
    case $1 in
    1) san ip link set mpa-t down ;;
    2) ip link set mpb down ;;
    esac
}
path_up() {
    case $1 in
    1) san ip link set mpa-t up ;;
    2) ip link set mpb up ;;
    esac
}

boot1() {
    step "network: mpa $A1 and mpb $A2 ($MAC2) in the main namespace, target $TA behind both in namespace $NS"
    net_setup || fail "network set-up"
    ip -br addr show dev mpa; ip -br addr show dev mpb; ip route show 10.9.0.0/24
    san ip -br addr show dev br0
    for n in mpa mpb; do
        echo "$n: arp_ignore $(sysctl_get net.ipv4.conf.$n.arp_ignore) arp_announce $(sysctl_get net.ipv4.conf.$n.arp_announce)" \
            "rp_filter $(sysctl_get net.ipv4.conf.$n.rp_filter) (all: $(sysctl_get net.ipv4.conf.all.rp_filter))"
    done

    step "LIO: portal $P made from inside $NS (replaces 127.0.0.1:3260)"
    [ -d "$TPG" ] || fail "no $TPG (vmtest-san)"
    san mkdir "$TPG/np/$P" || fail "mkdir $TPG/np/$P in namespace $NS"
    rmdir "$TPG/np/$PORTAL" || fail "rmdir $TPG/np/$PORTAL"
    ls "$TPG/np"
    san ss -tlnH | awk -v ns="$NS" '{ print "listening in " ns ": " $4 }'
    san ss -tlnH | awk -v p="$P" '$4 == p { ok = 1 } END { exit !ok }' || fail "LIO does not listen on $P in $NS"
    ss -tlnH | awk -v p="$P" '$4 == p { ok = 1 } END { exit !ok }' && bad "LIO listens on $P in the main namespace"

    step "iscsid.conf: multipath timeouts; ifaces ifa (net_ifacename mpa) and ifb (hwaddress $MAC2)"
    mkdir -p /etc/iscsi
    cat >>"$CONF" <<EOF
node.session.timeo.replacement_timeout = $REPL
node.conn[0].timeo.noop_out_interval = $NOOP_INT
node.conn[0].timeo.noop_out_timeout = $NOOP_TMO
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
    # records' values are checked before it runs.
    systemctl stop multipathd.socket multipathd.service
    systemctl enable --now iscsid.socket || fail "enable iscsid.socket"
    iscsiadm -m iface -I ifa -o new >/dev/null && iscsiadm -m iface -I ifb -o new >/dev/null ||
        fail "iscsiadm -m iface -o new"
    iscsiadm -m iface -I ifa -o update -n iface.net_ifacename -v mpa >/dev/null &&
        iscsiadm -m iface -I ifb -o update -n iface.hwaddress -v $MAC2 >/dev/null || fail "iscsiadm -m iface -o update"
    iscsiadm -m iface | grep -E '^if[ab] '
    iscsiadm -m iface | grep -qx "ifa tcp,<empty>,<empty>,mpa,<empty>" &&
        iscsiadm -m iface | grep -qx "ifb tcp,$MAC2,<empty>,<empty>,<empty>" || bad "-m iface does not list ifa and ifb as set"

    step "discovery through both ifaces: -p $TA -I ifa -I ifb"
    ta0=$(stat_of mpa tx_packets) tb0=$(stat_of mpb tx_packets)
    iscsiadm -m discovery -t st -p $TA -I ifa -I ifb || fail "discovery through ifa and ifb failed"
    ta=$(( $(stat_of mpa tx_packets) - ta0 )) tb=$(( $(stat_of mpb tx_packets) - tb0 ))
    echo "packets sent: mpa $ta, mpb $tb"
    # a SendTargets exchange: SYN, ACKs, Login, Text, Logout, FIN: > 4 each
    [ "$ta" -gt 4 ] && [ "$tb" -gt 4 ] || bad "discovery did not go out through both NICs (mpa $ta, mpb $tb packets)"
    iscsiadm -m node -P 1
    for i in ifa ifb; do
        iscsiadm -m node -T "$T" -p $P -I $i >/dev/null 2>&1 || bad "no record of $T at $P through $i"
    done
    v=$(iscsiadm -m node -T "$T" -p $P -I ifb | sed -n 's/^iface.hwaddress = //p')
    [ "$v" = "$MAC2" ] || bad "record of ifb: iface.hwaddress '$v', expected $MAC2"

    step "--login of the target: a session through each iface"
    iscsiadm -m node -T "$T" --login || bad "iscsiadm -m node -T $T --login failed"
    [ "$(nsessions)" = 2 ] || fail "$(nsessions) session(s) to $T, expected 2"
    S1=$(sid_of ifa) || fail "no session through ifa"
    S2=$(sid_of ifb) || fail "no session through ifb"
    # Two sessions of one initiator name to one portal group: LIO keeps
    # both only when their ISIDs differ (else the second reinstates the first).
    n=$(grep -c . "$TPG/dynamic_sessions")
    [ "$n" = 2 ] || bad "LIO has $n session(s), expected 2"
    udevadm settle -t 30
    wait_for 30 disk_of "$S1" && wait_for 30 disk_of "$S2" || fail "no disk behind session $S1 or $S2"
    D1=$(disk_of "$S1") D2=$(disk_of "$S2")
    echo "session $S1 (ifa) -> $D1, session $S2 (ifb) -> $D2"
    w1=$(udevadm info -q property -n "$D1" | sed -n 's/^ID_SERIAL=//p')
    w2=$(udevadm info -q property -n "$D2" | sed -n 's/^ID_SERIAL=//p')
    [ -n "$w1" ] && [ "$w1" = "$w2" ] || bad "the paths have different or no ID_SERIAL ('$w1', '$w2')"

    step "each path on its own NIC"
    check_conn 1 "after login"
    check_conn 2 "after login"
    # A direct read through each path's disk: its bytes arrive on that
    # path's NIC, not on the other.
    for k in 1 2; do
        eval "d=\$D$k"
        n=$(nic_of $k); o=$(nic_of $((3 - k)))
        r0=$(stat_of "$n" rx_bytes) o0=$(stat_of "$o" rx_bytes)
        dd if="/dev/$d" of=/dev/null bs=1M count=8 iflag=direct 2>/dev/null || bad "read from $d failed"
        r=$(( $(stat_of "$n" rx_bytes) - r0 )) o1=$(( $(stat_of "$o" rx_bytes) - o0 ))
        echo "8 MiB read through $d: $n received $r bytes, $o $o1"
        [ "$r" -ge $((8 * MIB)) ] && [ "$o1" -lt $MIB ] ||
            bad "8 MiB read through $d (path $k) did not arrive on $n alone ($n $r, $o $o1 bytes)"
    done

    step "the timeouts in the kernel"
    for s in "$S1" "$S2"; do
        rt=$(cat "/sys/class/iscsi_session/session$s/recovery_tmo")
        rv=$(cat "/sys/class/iscsi_connection/connection$s:0/recv_tmo")
        pt=$(cat "/sys/class/iscsi_connection/connection$s:0/ping_tmo")
        echo "session $s: recovery_tmo $rt recv_tmo $rv ping_tmo $pt"
        [ "$rt" = $REPL ] && [ "$rv" = $NOOP_INT ] && [ "$pt" = $NOOP_TMO ] ||
            bad "session $s: recovery_tmo/recv_tmo/ping_tmo $rt/$rv/$pt, expected $REPL/$NOOP_INT/$NOOP_TMO"
    done

    step "-m session -P 3: both sessions with their iface and disk"
    P3=$(iscsiadm -m session -P 3) || bad "-m session -P 3 exited $?"
    for k in 1 2; do
        eval "s=\$S$k d=\$D$k"
        b=$(p3_session "$s")
        echo "$b" | grep -E 'Current Portal|Iface (Name|IPaddress|HWaddress|Netdev)|SID:|Session State|Attached scsi'
        name=$(iface_of $k)
        # open-iscsi (libopeniscsiusr) names a session bound by MAC address
        # "<transport>.<MAC>.ipv4.0" instead of its iface (the busybox
        # scenario ifaces has the details)
        [ "$VMTEST_INITIATOR" = openiscsi ] && [ $k = 2 ] && name=tcp.$MAC2.ipv4.0
        for l in "Iface Name: $name" "Iface IPaddress: $(addr_of $k)" "iSCSI Session State: LOGGED_IN"; do
            echo "$b" | grep -qxF "$(printf '\t\t%s' "$l")" || bad "-P 3, session $s: no '$l'"
        done
        case $k in
        1) echo "$b" | grep -qxF "$(printf '\t\tIface Netdev: mpa')" || bad "-P 3, session $s: no 'Iface Netdev: mpa'" ;;
        2) echo "$b" | grep -qxF "$(printf '\t\tIface HWaddress: %s' $MAC2)" || bad "-P 3, session $s: no 'Iface HWaddress: $MAC2'" ;;
        esac
        echo "$b" | grep -Eq "Attached scsi disk ${d}[[:space:]]+State: running" || bad "-P 3, session $s: $d not running"
    done

    step "multipathd: one map of both paths"
    systemctl start multipathd.service || fail "systemctl start multipathd failed"
    wait_for 30 has_map || fail "no multipath map 30 s after multipathd started"
    M=$(map)
    wait_for 30 both_active || bad "not both paths active: $D1 '$(path_state "$D1")', $D2 '$(path_state "$D2")'"
    multipath -ll
    [ "$(dmsetup ls --target multipath | grep -vc '^No')" = 1 ] || bad "more than one multipath map"
    [ "$(map_paths "$M")" = 2 ] || bad "map $M has $(map_paths "$M") path(s), expected 2"

    step "ext4 on /dev/mapper/$M, a writer"
    mkfs.ext4 -q -F "/dev/mapper/$M" || fail "mkfs.ext4 /dev/mapper/$M"
    mkdir -p "$MNT" && mount "/dev/mapper/$M" "$MNT" || fail "mount /dev/mapper/$M"
    writer_start "$MNT/w"
    wait_for 20 writer_has 5 || bad "the writer does not write"

    failover 1 "$S1" "$D1" "$S2"
    step "systemctl restart iscsid: the sessions are adopted"
    e1=$(conn_end "$S1") e2=$(conn_end "$S2")
    systemctl restart iscsid.service || bad "systemctl restart iscsid failed"
    wait_for 30 running_is 2 || bad "-P 3 after the restart: $(running_disks) disk(s) running, expected 2"
    check_conn 1 "after the restart"
    check_conn 2 "after the restart"
    # This project adopts the sessions as they are; open-iscsi 2.1.8 logs
    # them in again when I/O was in flight (tests/vm/README.md, gotchas).
    if [ "$VMTEST_INITIATOR" = ours ]; then
        [ "$(conn_end "$S1")" = "$e1" ] && [ "$(conn_end "$S2")" = "$e2" ] ||
            bad "the restart replaced a connection ($e1 $e2 -> $(conn_end "$S1") $(conn_end "$S2"))"
    fi
    failover 2 "$S2" "$D2" "$S1"

    sleep 2
    writer_stop
    echo "writer: exit $WRITER_RC, $(writer_count) files"
    [ "$WRITER_RC" = 0 ] || bad "the writer failed (exit $WRITER_RC): I/O error through the map"
    errs=$(fs_errors)
    [ -z "$errs" ] || { bad "errors on the map or the file system:"; echo "$errs" | head -n 20; }
    dmesg | grep -E 'device-mapper: multipath: .*(Failing|Reinstating)|session recovery timed out|ping timeout'
    umount "$MNT" && mount "/dev/mapper/$M" "$MNT" || bad "remount $MNT"
    bad_files=$(writer_verify)
    [ -z "$bad_files" ] || { bad "files differ from what was written:"; echo "$bad_files"; }
    echo "$(writer_count) files verified"
    umount "$MNT" || bad "umount $MNT"
    # shellcheck disable=SC2154 # (lib.sh)
    [ "$_failures" = 0 ] || journalctl -b -u multipathd --no-pager -o short-monotonic | tail -n 60
    ip -s -br link show dev mpa; ip -s -br link show dev mpb

    step "logout of the target: both sessions"
    multipath -f "$M" || bad "multipath -f $M"
    udevadm settle -t 30
    iscsiadm -m node -T "$T" --logout || bad "iscsiadm -m node -T $T --logout failed"
    [ "$(nsessions)" = 0 ] || bad "$(nsessions) session(s) left after the logout"
    finish
}

# failover K SID DEV OTHER_SID: path K down under the writer until $OUTAGE
# s after its session failed, then back.
failover() {
    k=$1 sid=$2 dev=$3 other=$4
    n=$(nic_of "$k") o=$(nic_of $((3 - k)))
    step "failover $k: path $k ($n) down under the writer"
    c0=$(writer_count)
    t0=$(now)
    path_down "$k" || { bad "cannot take path $k down"; return; }
    wait_for 20 sess_is "$sid" FAILED || bad "session $sid not FAILED 20 s after path $k went down"
    t_sf=$(now)
    echo "session $sid FAILED $(secs "$t0" "$t_sf") s after path $k went down"
    result "mpif${k}_detected_s" "$(secs "$t0" "$t_sf")"
    # From here until the link returns: the writer's bytes leave through
    # the other NIC alone, and the other session never fails.
    nt0=$(stat_of "$n" tx_bytes) ot0=$(stat_of "$o" tx_bytes) c_sf=$(writer_count)
    c_late="" other_states=""
    t_late=$(awk -v t="$t_sf" -v r="$FIO" 'BEGIN { printf "%d", t + r + 2 }')
    t_end=$(awk -v t="$t_sf" -v o="$OUTAGE" 'BEGIN { printf "%d", t + o }')
    while [ "$(now | cut -d. -f1)" -lt "$t_end" ]; do
        [ -z "$c_late" ] && [ "$(now | cut -d. -f1)" -ge "$t_late" ] && c_late=$(writer_count)
        st=$(sess_state "$other")
        [ "$st" = LOGGED_IN ] || other_states="$other_states $st"
        sleep 0.2
    done
    c1=$(writer_count)
    nt=$(( $(stat_of "$n" tx_bytes) - nt0 )) ot=$(( $(stat_of "$o" tx_bytes) - ot0 ))
    t_failed=$(kernel_failed_path "$t0" "$(cat "/sys/block/$dev/dev")")
    echo "path $dev failed in the map $(secs "$t0" "${t_failed:-$t0}") s after path $k went down;" \
        "$((c1 - c0)) files written meanwhile; longest pause $(writer_max_gap "$t0") s;" \
        "from the session's failure on: $((c1 - c_sf)) files, $o sent $ot bytes, $n $nt"
    [ -z "$other_states" ] || bad "session $other (the other path) left LOGGED_IN while path $k was down:$other_states"
    [ -n "$t_failed" ] || bad "the map did not fail path $dev during the outage"
    [ "$c1" -gt "${c_late:-$c1}" ] ||
        bad "the writer wrote nothing later than recovery_tmo + 2 s after session $sid failed"
    # Every file finished meanwhile went out through the other NIC (all
    # but the one under way when the session failed, which may have been
    # sent before); the failed NIC sends at most reconnect SYNs.
    min=$(( (c1 - c_sf - 1) * 262144 ))
    [ "$ot" -ge "$min" ] && [ "$nt" -lt 65536 ] ||
        bad "while path $k was down the writes did not leave through $o alone ($o $ot bytes for $((c1 - c_sf)) files, $n $nt)"
    result "mpif${k}_path_failed_s" "$(secs "$t0" "${t_failed:-$t0}")"
    result "mpif${k}_max_pause_s" "$(writer_max_gap "$t0")"

    step "failover $k: path $k back"
    t1=$(now)
    path_up "$k" || bad "cannot bring path $k back"
    wait_for 40 sess_is "$sid" LOGGED_IN || bad "session $sid did not log in again within 40 s"
    t_in=$(now)
    wait_for 40 path_is "$dev" "active ready" ||
        bad "multipathd did not reinstate $dev within 40 s ('$(path_state "$dev")')"
    t_mpd=$(now)
    wait_for 40 dm_active "$dev" || bad "the map did not reinstate $dev within 40 s ($(dmsetup status "$M"))"
    t_back=$(now)
    echo "session $sid logged in $(secs "$t1" "$t_in") s after path $k came back;" \
        "path $dev active for multipathd $(secs "$t1" "$t_mpd") s after, in the map $(secs "$t1" "$t_back") s after"
    dmsetup status "$M"
    check_conn "$k" "after the re-login"
    multipathd show paths format '%d %t %T %m'
    result "mpif${k}_relogin_s" "$(secs "$t1" "$t_in")"
    result "mpif${k}_reinstated_s" "$(secs "$t1" "$t_back")"
}

case ${1:-1} in
1) boot1 ;;
*) fail "scenario mpifaces has 1 boot, not $1" ;;
esac
