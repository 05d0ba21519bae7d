#!/bin/sh
# Two paths to one target through two ifaces (what dm-multipath builds
# on): each session leaves from the NIC or address its iface names and
# logs in with its iface's initiator name.
#   ifd0 (MAC0, 10.98.0.1) and ifd1 (10.98.1.1): dummy devices; LIO
#   listens on both addresses (one portal group), with ACLs for two
#   initiator names only (generate_node_acls 0).
#   ifa  iface.hwaddress = MAC0, iface.initiatorname = INAME_A -> portal P0
#   ifb  iface.net_ifacename = ifd1, iface.initiatorname = INAME_B -> P1
# Checks: discovery with -I ifa -I ifb (one discovery per iface: ifb,
# bound to ifd1, cannot reach P0, so only ifa gets records; open-iscsi
# fails the whole discovery there) and without -I (default iface only;
# open-iscsi tries every tcp iface); the two
# logins; each session's TCP connection (/proc/net/tcp through netstat)
# has the local address of its iface's NIC, and LIO's ACL of the iface's
# initiator name shows a session from that address; -m session -P 3 shows
# both sessions with their iface; I/O through both disks reaches the one
# LUN; an iface a session uses is not deleted (15) and an update warns;
# logout of one path leaves the other working. Then iface.ipaddress (a
# source address, 127.0.0.2): this project binds it; open-iscsi refuses
# it for software iSCSI ("not supported with iscsi_tcp"), so that part
# branches on $INITIATOR.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

IQN=iqn.2003-01.org.example.vmtest:ifaces
INAME_A=iqn.2003-01.org.example.vmtest:path-a
INAME_B=iqn.2003-01.org.example.vmtest:path-b
MAC0=02:00:5e:00:53:20
MAC1=02:00:5e:00:53:21
A0=10.98.0.1
A1=10.98.1.1
P0=$A0:3260
P1=$A1:3260

ours() { [ "$INITIATOR" = ours ]; }

cleanup() {
    iadm -m node --logoutall=all >/dev/null 2>&1
    wait_no_sessions 20
    for i in ifa ifb ifc; do iadm -m iface -I $i -o delete >/dev/null 2>&1; done
    ip link del ifd0 2>/dev/null
    ip link del ifd1 2>/dev/null
}

# sid_of_iface IFACE: the session started through IFACE (sysfs ifacename)
sid_of_iface() {
    local s
    for s in /sys/class/iscsi_session/session*; do
        [ "$(cat "$s/ifacename" 2>/dev/null)" = "$1" ] && { echo "${s##*/session}"; return 0; }
    done
    return 1
}

# local_end SID: "address:port" of the session's TCP connection as the
# kernel's iSCSI host and connection report it
local_end() {
    local h
    h=$(basename "$(readlink -f "/sys/class/iscsi_session/session$1/device/..")")
    echo "$(cat "/sys/class/iscsi_host/$h/ipaddress"):$(cat "/sys/class/iscsi_connection/connection$1:0/local_port")"
}

# expect_path IFACE LOCAL_ADDR TARGET_ADDR INAME: the session through IFACE
# is an established TCP connection from LOCAL_ADDR to TARGET_ADDR:3260
# (netstat reads /proc/net/tcp), logged in as INAME, and LIO's ACL of
# INAME shows a session from LOCAL_ADDR
expect_path() {
    local sid le
    sid=$(sid_of_iface "$1") || fail "no session through iface $1"
    le=$(local_end "$sid")
    echo "session $sid through $1: $le -> $3:3260 as $(cat "/sys/class/iscsi_session/session$sid/initiatorname")"
    case $le in
    "$2":[0-9]*) ;;
    *) fail "session through $1 left from $le, expected $2 (the iface's)" ;;
    esac
    netstat -tn 2>/dev/null | awk -v l="$le" -v r="$3:3260" '$4 == l && $5 == r && $6 == "ESTABLISHED" { ok = 1 } END { exit !ok }' ||
        { netstat -tn; fail "no established TCP connection $le -> $3:3260 for iface $1"; }
    [ "$(cat "/sys/class/iscsi_session/session$sid/initiatorname")" = "$4" ] ||
        fail "session through $1 logged in as $(cat "/sys/class/iscsi_session/session$sid/initiatorname"), not $4"
    lio_acl_addrs "$IQN" "$4" | grep -qxF "$2" ||
        { cat "$(lio_tpg "$IQN")/acls/$4/info"; fail "LIO shows no session of $4 from $2"; }
}

# bound PORTAL IFACE: a record of IQN at PORTAL bound to IFACE exists, from
# the -m node -P 1 tree (open-iscsi prints it only without -T/-p/-I)
bound() {
    iadm -m node -P 1 2>/dev/null | awk -v p="$1" -v i="$2" '
        /Portal: / { split($2, a, ","); cur = a[1] }
        /Iface Name: / && cur == p && $3 == i { ok = 1 } END { exit !ok }'
}

# p3_block PORTAL: the -m session -P 3 lines of the session at PORTAL
p3_block() {
    iadm -m session -P 3 2>/dev/null | awk -v p="Current Portal: $1,1" '
        /^\t*Current Portal:/ { n++ } { b[n] = b[n] $0 "\n" }
        index($0, p) { want = n }
        END { if (want) printf "%s", b[want] }'
}

step "dummy devices ifd0 $A0 ($MAC0), ifd1 $A1 ($MAC1); LIO on both, ACLs for two names"
ip link add ifd0 type dummy && ip link add ifd1 type dummy || fail "ip link add"
ip link set ifd0 address $MAC0 && ip addr add $A0/24 dev ifd0 && ip link set ifd0 up &&
ip link set ifd1 address $MAC1 && ip addr add $A1/24 dev ifd1 && ip link set ifd1 up || fail "dummy set-up"
lio_backstore_fileio ifaces0 16M && lio_target_create "$IQN" && lio_portal_add "$IQN" $A0 3260 &&
lio_portal_add "$IQN" $A1 3260 && lio_lun_add "$IQN" 0 ifaces0 && lio_attrib "$IQN" generate_node_acls 0 &&
lio_acl_add "$IQN" $INAME_A && lio_acl_add "$IQN" $INAME_B && lio_tpg_enable "$IQN" || fail "LIO setup"
init_setup || fail "setup"
init_start || fail "iscsid did not start"

step "ifaces: ifa by MAC + initiator name A, ifb by device + initiator name B"
for i in ifa ifb; do iadm -m iface -I $i -o new >/dev/null || fail "iface $i"; done
iadm -m iface -I ifa -o update -n iface.hwaddress -v $MAC0 >/dev/null &&
iadm -m iface -I ifa -o update -n iface.initiatorname -v $INAME_A >/dev/null &&
iadm -m iface -I ifb -o update -n iface.net_ifacename -v ifd1 >/dev/null &&
iadm -m iface -I ifb -o update -n iface.initiatorname -v $INAME_B >/dev/null || fail "iface update"
iadm -m iface >/tmp/ifaces.out || fail "-m iface exited $?"
cat /tmp/ifaces.out
grep -qx "ifa tcp,$MAC0,<empty>,<empty>,$INAME_A" /tmp/ifaces.out &&
grep -qx "ifb tcp,<empty>,<empty>,ifd1,$INAME_B" /tmp/ifaces.out || fail "-m iface list"

step "discovery through P0 with -I ifa -I ifb: one discovery per iface, ifb's cannot reach P0"
# (a 3 s connect timeout: ifb's SYNs go nowhere)
iadm -m discoverydb -t st -p $P0 -o new >/dev/null &&
iadm -m discoverydb -t st -p $P0 -o update -n discovery.sendtargets.timeo.login_timeout -v 3 ||
    fail "discovery record"
iadm -m discoverydb -t st -p $P0 -I ifa -I ifb --discover >/tmp/disc.out 2>/tmp/disc.err; rc=$?
cat /tmp/disc.out /tmp/disc.err
if ours; then
    # the path of one iface being down does not cost the other its records
    [ "$rc" = 0 ] || fail "discovery exited $rc"
    grep -qx "$P0,1 $IQN" /tmp/disc.out && grep -qx "$P1,1 $IQN" /tmp/disc.out || fail "discovery output"
    grep -q "Could not perform SendTargets discovery through iface ifb" /tmp/disc.err || fail "no word on ifb"
    bound $P0 ifa && bound $P1 ifa || fail "no records bound to ifa"
else
    # open-iscsi 2.1.8 means a connect failure of one iface not to be
    # fatal, but reports a connect timeout as 11 (PDU timeout), which is:
    # the whole discovery fails and nothing is written
    [ "$rc" != 0 ] || fail "open-iscsi's discovery through an unreachable iface exited 0"
    bound $P0 ifa && fail "open-iscsi wrote ifa's records"
    iadm -m discoverydb -t st -p $P0 -I ifa --discover >/dev/null || fail "discovery through ifa exited $?"
fi
bound $P0 ifb || bound $P1 ifb && fail "records bound to ifb, whose discovery could not reach $P0"
# without -I: this project discovers through the default iface only;
# open-iscsi goes through every tcp iface (ifa, ifb), and ifb's timeout
# fails it
iadm -m discoverydb -t st -p $P0 --discover -o nonpersistent -P 1 >/tmp/disc0.out 2>&1; rc=$?
cat /tmp/disc0.out
if ours; then
    [ "$rc" = 0 ] || fail "discovery without -I exited $rc"
    grep -q "Iface Name: default" /tmp/disc0.out || fail "discovery without -I: not through default"
    grep -q "Iface Name: if" /tmp/disc0.out && fail "discovery without -I bound ifa or ifb"
else
    [ "$rc" != 0 ] || fail "open-iscsi's discovery without -I went through the default iface only"
fi
iadm -m discovery -t st -p $P1 -I ifb >/dev/null || fail "discovery through ifb at $P1 exited $?"
bound $P1 ifb || fail "no record of $P1 bound to ifb"

step "-o new without -I: the default iface; its initiator name ($INIT_NAME) has no ACL: refused"
iadm -m node -o new -T $IQN -p $P0 >/tmp/new.out || fail "-o new without -I exited $?"
cat /tmp/new.out
# bound to the default iface, not to the ifaces there are
grep -qF "iscsi_if=default] $A0,3260,-1 $IQN] added" /tmp/new.out || fail "-o new without -I: not the default iface"
bound $P0 default || fail "-o new without -I: no default record"
iadm -m node -T $IQN -p $P0 -I default -o update -n node.session.initial_login_retry_max -v 0 ||
    fail "update default record"
iadm -m node -T $IQN -p $P0 -I default --login >/tmp/def.out 2>&1; rc=$?
cat /tmp/def.out
auth_fail_ok "$rc" || fail "login as $INIT_NAME, which has no ACL, exited $rc (expected 24)"
[ -z "$(session_ids)" ] || fail "a session was left: $(session_ids)"
iadm -m node -T $IQN -p $P0 -I default -o delete || fail "-o delete default"

step "login through ifa to P0 and through ifb to P1: two sessions, two disks"
iadm -m node -T $IQN -p $P0 -I ifa --login || fail "login through ifa exited $?"
iadm -m node -T $IQN -p $P1 -I ifb --login || fail "login through ifb exited $?"
[ "$(session_count)" = 2 ] || fail "expected 2 sessions, have $(session_count)"
wait_for_disks 2 30 || fail "2 disks did not appear"
expect_path ifa $A0 $A0 $INAME_A
expect_path ifb $A1 $A1 $INAME_B

step "-m session -P 3: both sessions with their iface"
iadm -m session -P 3 >/tmp/p3.out 2>&1 || { cat /tmp/p3.out; fail "-m session -P 3 exited $?"; }
cat /tmp/p3.out
p3_block $P0 >/tmp/p3a
p3_block $P1 >/tmp/p3b
check_p3() { # FILE LINE...
    local f=$1 l
    shift
    for l in "$@"; do
        grep -qxF "$(printf '\t\t%s' "$l")" "$f" || { cat "$f"; fail "-m session -P 3 lacks '$l'"; }
    done
}
check_p3 /tmp/p3a "Iface Transport: tcp" "Iface Initiatorname: $INAME_A" "Iface IPaddress: $A0" \
    "Iface HWaddress: $MAC0"
check_p3 /tmp/p3b "Iface Name: ifb" "Iface Transport: tcp" "Iface Initiatorname: $INAME_B" \
    "Iface IPaddress: $A1" "Iface Netdev: ifd1"
if ours; then
    check_p3 /tmp/p3a "Iface Name: ifa" "Iface Netdev: <empty>"
    check_p3 /tmp/p3b "Iface HWaddress: <empty>"
else
    # open-iscsi (libopeniscsiusr) names a session bound by MAC address
    # "<transport>.<MAC>.ipv4.0" (meant for bnx2i) instead of its iface,
    # and shows the unset half of the binding as "default"
    check_p3 /tmp/p3a "Iface Name: tcp.$MAC0.ipv4.0" "Iface Netdev: default"
    check_p3 /tmp/p3b "Iface HWaddress: default"
fi
for f in /tmp/p3a /tmp/p3b; do
    grep -q "Attached scsi disk sd[a-z]*.*State: running" $f || { cat $f; fail "-P 3: no running disk"; }
done

step "I/O: written through one path, read back through the other"
da=$(disks_of_session "$(sid_of_iface ifa)")
db=$(disks_of_session "$(sid_of_iface ifb)")
[ -n "$da" ] && [ -n "$db" ] && [ "$da" != "$db" ] || fail "disks: '$da' '$db'"
dd if=/dev/urandom of=/tmp/pat bs=64k count=16 2>/dev/null
dd if=/tmp/pat of=/dev/$da bs=64k oflag=direct 2>/dev/null || fail "write through $da"
dd if=/dev/$db of=/tmp/back bs=64k count=16 iflag=direct 2>/dev/null || fail "read through $db"
cmp /tmp/pat /tmp/back || fail "read through $db differs from what was written through $da"
dd if=/tmp/pat of=/dev/$db bs=64k seek=32 oflag=direct 2>/dev/null || fail "write through $db"
dd if=/dev/$da of=/tmp/back bs=64k skip=32 count=16 iflag=direct 2>/dev/null || fail "read through $da"
cmp /tmp/pat /tmp/back || fail "read through $da differs from what was written through $db"

step "an iface a session uses: update warns, delete refused (15)"
iadm -m iface -I ifb -o update -n iface.initiatorname -v $INAME_B >/tmp/upd.out 2>&1 ||
    { cat /tmp/upd.out; fail "update of a used iface exited $?"; }
cat /tmp/upd.out
grep -q "Updating iface while iscsi sessions are using it" /tmp/upd.out || fail "no warning for a used iface"
iadm -m iface -I ifb -o delete >/tmp/del.out 2>&1; rc=$?
cat /tmp/del.out
[ "$rc" = 15 ] || fail "delete of an iface a session uses exited $rc, expected 15"
grep -q "This command will remove the record \[iface: ifb, target: $IQN, portal: $A1,3260\], but a session is using it" /tmp/del.out ||
    fail "delete: no message naming the record in use"
iadm -m iface -I ifb >/dev/null || fail "iface ifb gone after a refused delete"
bound $P1 ifb || fail "the record the session uses is gone"
if ours; then
    # nothing deleted unless everything can be
    bound $P0 ifb || fail "a refused iface delete deleted ifb's record of $P0"
else
    # open-iscsi deletes the records no session uses, then refuses
    bound $P0 ifb && fail "open-iscsi kept ifb's record of $P0"
fi

step "logout of the ifa path leaves the ifb path working"
iadm -m node -T $IQN -p $P0 -I ifa --logout || fail "logout ifa exited $?"
[ "$(session_count)" = 1 ] || fail "expected 1 session left, have $(session_count)"
sid_of_iface ifb >/dev/null || fail "the ifb session went with the ifa logout"
sid_of_iface ifa >/dev/null && fail "the ifa session is still there"
expect_path ifb $A1 $A1 $INAME_B
db=$(disks_of_session "$(sid_of_iface ifb)")
dd if=/dev/$db of=/tmp/back bs=64k count=16 iflag=direct 2>/dev/null || fail "read through $db after the logout"
cmp /tmp/pat /tmp/back || fail "data through $db changed"
dd if=/tmp/pat of=/dev/$db bs=64k seek=64 oflag=direct 2>/dev/null || fail "write through $db after the logout"

step "iface.ipaddress (127.0.0.2) with initiator name A, to P1 (-o new -I)"
iadm -m iface -I ifc -o new >/dev/null &&
iadm -m iface -I ifc -o update -n iface.ipaddress -v 127.0.0.2 >/dev/null &&
iadm -m iface -I ifc -o update -n iface.initiatorname -v $INAME_A >/dev/null || fail "iface ifc"
iadm -m node -o new -T $IQN -p $P1 -I ifc >/dev/null || fail "-o new -I ifc"
iadm -m node -T $IQN -p $P1 -I ifc -o update -n node.session.initial_login_retry_max -v 0 >/dev/null
iadm -m node -T $IQN -p $P1 -I ifc --login >/tmp/ifc.out 2>&1; rc=$?
cat /tmp/ifc.out
if ours; then
    [ "$rc" = 0 ] || fail "login through ifc exited $rc"
    expect_path ifc 127.0.0.2 $A1 $INAME_A
    iadm -m node -T $IQN -p $P1 -I ifc --logout >/dev/null || fail "logout ifc exited $?"
else
    # open-iscsi 2.1.8: "Cannot bind 127.0.0.2 to net/scsi interface. This
    # is not supported with software iSCSI (iscsi_tcp)."
    [ "$rc" != 0 ] || fail "open-iscsi logged in through an ipaddress iface"
    sid_of_iface ifc >/dev/null && fail "a session through ifc"
fi
[ "$(session_count)" = 1 ] || fail "expected only the ifb session, have $(session_count)"

step "a login through the built-in iser iface (no iSER here): 12, no session"
iadm -m node -o new -T $IQN -p $P1 -I iser >/dev/null || fail "-o new -I iser"
iadm -m node -T $IQN -p $P1 -I iser --login >/tmp/iser.out 2>&1; rc=$?
cat /tmp/iser.out
[ "$rc" = 12 ] || fail "login through iser exited $rc, expected 12"
[ "$(session_count)" = 1 ] || fail "expected only the ifb session, have $(session_count)"
iadm -m node -T $IQN -p $P1 -I iser -o delete >/dev/null || fail "-o delete -I iser"

step "logout of the last path; the iface can go now"
iadm -m node -T $IQN -p $P1 -I ifb --logout || fail "logout ifb exited $?"
wait_no_sessions 20 || fail "sessions left"
iadm -m iface -I ifb -o delete || fail "delete ifb exited $?"
if ours; then
    bound $P1 ifb || bound $P0 ifb && fail "records bound to a deleted iface left"
fi
# (open-iscsi 2.1.8 removes the discovery link of the record the refused
# delete kept, but leaves the record bound to the deleted iface)
cleanup
echo "PASS"
