#!/bin/sh
# The session half of the clients that drive iscsiadm (their record and
# discovery half: tests/integration/client_*.sh), each as the command
# sequence the client runs, against LIO with the real kernel initiator:
#   os-brick      -o new, scan manual + its own sysfs scan, -m session
#                 parsing, startup, logout, delete
#   csi-lib-iscsi discoverydb, CreateDBEntry after the discovery (no second
#                 record, one login, no exit 15), CHAP, logout by address
#   libvirt       a target whose portal group tag is 2 reached as ",1",
#                 -m session regex, -r SID -R, -P 3, an iface carrying the
#                 pool's initiator name
#   vdsm          iface, discoverydb new/--discover/delete (also while
#                 logged in), node new ",tpgt", login, -m session -R,
#                 -m session -r SID -u
#   Ansible       cached nodes, login with --portal, the session regex,
#                 auto startup, rescans, logout
# and the open-iscsi outputs they rely on: -m session -r SID (and its
# sysfs path) prints the node record, -m host -H N one line, --version
# and the -P 3 "version" line, -W.
# Runs unchanged with INITIATOR=openiscsi where the behaviour is meant to
# be the same; the places where this project differs on purpose branch
# on $INITIATOR (ours) and say why.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

PFX=iqn.2003-01.org.example.vmtest:client
T_OSB=${PFX}-osbrick
T_CSI=${PFX}-csi
T_LV=${PFX}-libvirt
T_VDSM=${PFX}-vdsm
T_ANS=${PFX}-ansible
ADDR=${PORTAL%:*}

ours() { [ "$INITIATOR" = ours ]; }

# sid_of_portal IQN PORTAL: os-brick/csi-lib-iscsi parse of "-m session":
# "tcp: [SID] PORTAL,TPGT IQN (non-flash)"
sid_of_portal() {
    iadm -m session 2>/dev/null | awk -v iqn="$1" -v portal="$2" '
        { split($3, p, ","); sid = substr($2, 2, length($2) - 2) }
        $1 == "tcp:" && p[1] == portal && $4 == iqn { print sid; exit }'
}

# sessions_of IQN: how many kernel sessions the target has
sessions_of() {
    local s n=0
    for s in /sys/class/iscsi_session/session*; do
        [ "$(cat "$s/targetname" 2>/dev/null)" = "$1" ] && n=$((n + 1))
    done
    echo "$n"
}

host_of_session() { # SID -> SCSI host number (the sysfs path libvirt/os-brick walk)
    local d
    for d in /sys/class/iscsi_host/host*/device/session"$1"; do
        [ -e "$d" ] || continue
        d=${d#/sys/class/iscsi_host/host}
        echo "${d%%/*}"
        return 0
    done
    return 1
}

step "targets: five, one per client; libvirt's in portal group 2"
for t in "$T_OSB" "$T_CSI" "$T_VDSM" "$T_ANS"; do
    lio_simple_target "$t" 16M || fail "LIO setup of $t"
done
LIO_TPGT=2 lio_simple_target "$T_LV" 16M || fail "LIO setup of $T_LV"
lio_auth "$T_CSI" csiuser csi-secret-8765 || fail "LIO CHAP"
init_start || fail "iscsid did not start"

step "--version: the open-iscsi release first"
v=$(iadm --version) || fail "--version exited $?"
echo "$v"
case $v in "iscsiadm version 2.1.8"*) ;; *) fail "--version: '$v'" ;; esac
if ours; then
    case $v in "iscsiadm version 2.1.8 (iscsi-initiator "*")") ;; *) fail "no own version after 2.1.8: '$v'" ;; esac
fi

# ---------------------------------------------------------------- os-brick
step "os-brick: show, -o new, scan manual, login"
N="-m node -T $T_OSB -p $PORTAL"
iadm $N >/tmp/o 2>/tmp/e; rc=$?
[ "$rc" = 21 ] || fail "show of a missing record exited $rc, expected 21"
[ -s /tmp/e ] || fail "a missing record printed nothing on stderr (os-brick would not create it)"
iadm $N --interface default --op new >/tmp/o 2>/tmp/e || fail "--op new exited $?"
[ -s /tmp/e ] && fail "--op new wrote to stderr: $(cat /tmp/e)"
iadm $N --op update -n node.session.scan -v manual 2>/tmp/e || fail "update of node.session.scan exited $?"
[ -s /tmp/e ] && fail "update of node.session.scan wrote to stderr (os-brick: no manual scan)"
iadm $N --login; rc=$?
[ "$rc" = 0 ] || [ "$rc" = 15 ] || fail "login exited $rc"
sid=$(sid_of_portal "$T_OSB" "$PORTAL")
[ -n "$sid" ] || fail "-m session has no 'tcp: [SID] $PORTAL,1 $T_OSB' line"
iadm $N --op update -n node.startup -v automatic || fail "update of node.startup exited $?"
sleep 2
[ -z "$(disks_of_session "$sid")" ] || fail "node.session.scan = manual, but the LUN was scanned at login"
step "os-brick: its own scan through sysfs (get_hctl, scan_iscsi)"
h=$(host_of_session "$sid") || fail "no /sys/class/iscsi_host/host*/device/session$sid"
echo "- - 0" >"/sys/class/scsi_host/host$h/scan" || fail "write to host$h/scan"
wait_for 20 sh -c "ls /sys/class/scsi_host/host$h/device/session$sid/target$h:*:*/$h:*:*:0/block/* >/dev/null 2>&1" ||
    fail "LUN 0 of session $sid has no block device after os-brick's scan"
disk=$(disks_of_session "$sid")
[ -b "/dev/$disk" ] || fail "/dev/$disk missing"
step "os-brick: disconnect (startup manual, logout, delete)"
iadm $N --op update -n node.startup -v manual || fail "update of node.startup exited $?"
iadm $N --logout || fail "logout exited $?"
iadm $N --op delete || fail "delete exited $?"
wait_no_sessions 15 || fail "session left after os-brick's disconnect"

# ------------------------------------------------------------ csi-lib-iscsi
step "csi-lib-iscsi: iface, rescan, discoverydb, CreateDBEntry after discovery"
iadm -m iface -o show -I default | grep -q '^iface.transport_name = tcp$' || fail "default iface transport"
iadm -m node -T "$T_CSI" -p "$ADDR" -R >/dev/null 2>&1   # errors ignored
DB="-m discoverydb -t sendtargets -p $PORTAL -I default"
iadm $DB -o new || fail "discoverydb -o new exited $?"
iadm $DB --discover >/tmp/o || fail "--discover exited $?"
grep -q "^$PORTAL,1 $T_CSI\$" /tmp/o || fail "--discover did not list $T_CSI"
N="-m node -T $T_CSI -p $PORTAL"
iadm $N -I default -o new 2>/tmp/e || fail "CreateDBEntry's -o new exited $?"
iadm $N -o update -n node.session.auth.authmethod -v CHAP -n node.session.auth.username -v csiuser \
    -n node.session.auth.password -v csi-secret-8765 || fail "CHAP update exited $?"
nrec=$(iadm -m node | grep -c " $T_CSI\$")
echo "$T_CSI: $nrec node record(s)"
# this project: the discovered ",1" record is the node (one record);
# open-iscsi 2.1.8 adds a second one (tpgt -1)
if ours; then [ "$nrec" = 1 ] || fail "CreateDBEntry after discovery made a second record"; fi
step "csi-lib-iscsi: Login"
iadm $N -l >/tmp/o 2>/tmp/e; rc=$?
cat /tmp/o /tmp/e
echo "login with $nrec record(s) exited $rc; $(sessions_of "$T_CSI") session(s)"
if ours; then
    [ "$rc" = 0 ] || fail "Login exited $rc (csi-lib-iscsi deletes the record on any error)"
    [ "$(grep -c '^Logging in to ' /tmp/o)" = 1 ] || fail "more than one login"
fi
[ "$(sessions_of "$T_CSI")" = 1 ] || fail "$(sessions_of "$T_CSI") sessions for $T_CSI, expected 1"
wait_for_disks 1 30 || fail "no disk for $T_CSI"
step "csi-lib-iscsi: Logout by address, DeleteDBEntry"
iadm -m node -T "$T_CSI" -p "$ADDR" -u || fail "Logout exited $?"
iadm -m node -T "$T_CSI" -o delete || fail "DeleteDBEntry exited $?"
wait_no_sessions 15 || fail "session left after csi-lib-iscsi's Logout"

# ------------------------------------------------------------------ libvirt
step "libvirt: pool sources (nonpersistent), a target in portal group 2"
iadm --mode discovery --type sendtargets --portal "$PORTAL,1" --op nonpersistent >/tmp/o || fail "nonpersistent discovery exited $?"
grep -q "^$PORTAL,2 $T_LV\$" /tmp/o || fail "no '$PORTAL,2 $T_LV' line"
# someone ran a persistent discovery before: the record is ",2"
iadm -m discovery -t st -p "$PORTAL" >/dev/null || fail "discovery exited $?"
step "libvirt: startPool (session probe, --op new with ',1', --login)"
iadm --mode session 2>/dev/null | grep -Eq "^tcp:[[:space:]]+\[[^]]+\][[:space:]]+[^[:space:]]+[[:space:]]+$T_LV" &&
    fail "session for $T_LV before the pool started"
iadm --mode node --portal "$PORTAL,1" --targetname "$T_LV" --op new || fail "virISCSINodeNew exited $? (must be 0)"
nrec=$(iadm -m node | grep -c " $T_LV\$")
echo "$T_LV: $nrec node record(s) after --op new with ,1"
if ours; then [ "$nrec" = 1 ] || fail "--op new with ,1 next to the ,2 record made a second record"; fi
iadm --mode node --portal "$PORTAL,1" --target "$T_LV" --op update --name node.startup --value manual ||
    fail "update with --target exited $?"
iadm --mode node --portal "$PORTAL,1" --targetname "$T_LV" --login >/tmp/o 2>&1; rc=$?
cat /tmp/o
echo "login with $nrec record(s) exited $rc"
if ours; then [ "$rc" = 0 ] || fail "virISCSIConnectionLogin exited $rc"; fi
[ "$(sessions_of "$T_LV")" = 1 ] || fail "$(sessions_of "$T_LV") sessions for $T_LV, expected 1"
step "libvirt: refreshPool (session regex, -r SID -R, sysfs host, -P 3)"
sid=$(iadm --mode session | sed -n "s/^tcp:[[:space:]]*\[\([^]]*\)\][[:space:]]*[^[:space:]]*[[:space:]]*$T_LV.*/\1/p")
[ -n "$sid" ] || fail "virISCSIGetSession found no session for $T_LV"
iadm --mode session -r "$sid" -R || fail "virISCSIRescanLUNs exited $?"
ls -d /sys/class/iscsi_session/session"$sid"/device/target* >/dev/null 2>&1 || fail "no target below session$sid/device"
wait_for_disks 1 30 || fail "no disk for $T_LV"
p3=$(iadm -m session -P 3) || fail "-P 3 exited $?"
echo "$p3" | sed -n 1,4p
echo "$p3" | grep -q "^version 2.1.8" || fail "-P 3 has no 'version 2.1.8' line"
echo "$p3" | grep -q "Current Portal: $PORTAL,2" || fail "-P 3: no 'Current Portal: $PORTAL,2'"
[ -n "$(p3_disks "$T_LV")" ] || fail "-P 3: no running disk for $T_LV"

step "-m session -r SID: the session's node record"
iadm -m session -r "$sid" >/tmp/o || fail "-m session -r $sid exited $?"
grep -q '^# BEGIN RECORD' /tmp/o || { cat /tmp/o; fail "-m session -r $sid printed no record"; }
grep -q "^node.name = $T_LV\$" /tmp/o || fail "-m session -r $sid: not $T_LV's record"
grep -q "^node.conn\[0\].address = $ADDR\$" /tmp/o || fail "-m session -r $sid: no node.conn[0].address"
grep -q '^# END RECORD' /tmp/o || fail "-m session -r $sid: no END RECORD"
h=$(host_of_session "$sid") || fail "no host for session $sid"
iadm -m session -r "/sys/devices/platform/host$h/session$sid" >/tmp/o2 || fail "-r sysfs path exited $?"
cmp -s /tmp/o /tmp/o2 || fail "-r by sysfs path differs from -r $sid"

# (the host's initiatorname attribute is empty for iscsi_tcp with either
# initiator: "tcp: [0] 127.0.0.1,[<empty>],<empty> <empty>")
step "-m host -H $h: open-iscsi's one line"
iadm -m host -H "$h" >/tmp/o || fail "-m host -H $h exited $?"
cat /tmp/o
grep -Eq "^tcp: \[$h\] $ADDR,\[[^]]*\],[^ ]* [^ ]+\$" /tmp/o || fail "no 'tcp: [$h] $ADDR,[hw],netdev initiatorname' line"
if ours; then
    [ "$(wc -l </tmp/o)" = 1 ] || fail "-m host -H $h printed more than host $h"
    iadm -m host -H "$h" -P 1 | grep -q "^Host Number: $h" || fail "-m host -H $h -P 1: no detail block"
fi

step "libvirt: stopPool"
iadm --mode node --portal "$PORTAL,1" --targetname "$T_LV" --logout || fail "virISCSIConnectionLogout exited $?"
wait_no_sessions 15 || fail "session left after libvirt's logout"

step "libvirt: a pool with an initiator IQN (its own iface)"
LV_IQN=iqn.2003-01.org.example.vmtest:libvirt-host
IF=libvirt-iface-0a1b2c3d
iadm --mode iface --interface "$IF" --op new >/dev/null 2>&1
iadm --mode iface --interface "$IF" --op update --name iface.initiatorname --value "$LV_IQN" >/dev/null 2>&1
iadm --mode iface | awk -v want="$LV_IQN" '{ n = split(substr($0, index($0, " ") + 1), f, ","); if (n == 5 && f[5] == want) ok = 1 } END { exit !ok }' ||
    fail "the iface list does not show $IF with $LV_IQN"
iadm --mode discovery --type sendtargets --portal "$PORTAL,1" --interface "$IF" >/dev/null || fail "discovery with --interface exited $?"
iadm --mode node --portal "$PORTAL,1" --targetname "$T_LV" --interface "$IF" --login || fail "login with --interface exited $?"
sid=$(session_of "$T_LV") || fail "no session for $T_LV"
[ "$(cat /sys/class/iscsi_session/session"$sid"/initiatorname)" = "$LV_IQN" ] ||
    fail "session $sid logged in as $(cat /sys/class/iscsi_session/session"$sid"/initiatorname), not the iface's $LV_IQN"
[ "$(cat /sys/class/iscsi_session/session"$sid"/ifacename)" = "$IF" ] || fail "session $sid is not on iface $IF"
iadm --mode node --portal "$PORTAL,1" --targetname "$T_LV" --interface "$IF" --logout || fail "logout exited $?"
wait_no_sessions 15 || fail "session left"
# (not libvirt: the test's cleanup) the iface and the records bound to it
iadm --mode iface --interface "$IF" --op delete >/dev/null || fail "iface delete exited $?"

# --------------------------------------------------------------------- vdsm
step "vdsm: iface, discoverSendTargets, addIscsiNode, login"
VIF=vdsm-if0
iadm -m iface -I "$VIF" --op=new || fail "iface --op=new exited $?"
iadm -m iface -I "$VIF" -n iface.transport_name -v tcp --op=update || fail "iface update exited $?"
iadm -m iface -I "$VIF" -n iface.net_ifacename -v lo --op=update || fail "iface update exited $?"
vdsm_discover() {
    local db="-m discoverydb -t sendtargets -I $VIF -p $PORTAL" rc
    iadm $db --op=new || fail "discoverydb --op=new exited $?"
    iadm $db -n discovery.sendtargets.auth.authmethod -v None --op=update || fail "discoverydb update exited $?"
    iadm $db --discover >/tmp/disc; rc=$?
    iadm $db --op=delete || fail "discoverydb --op=delete (vdsm's finally) exited $?"
    [ "$rc" = 0 ] || fail "--discover exited $rc"
    awk 'NF != 2 { bad = 1 } END { exit bad }' /tmp/disc || fail "discovery output vdsm cannot split"
    grep -q "^$PORTAL,1 $T_VDSM\$" /tmp/disc || fail "discovery did not list $T_VDSM"
}
vdsm_discover
N="-m node -T $T_VDSM -I $VIF -p $PORTAL,1"
iadm $N --op=new || fail "node --op=new exited $?"
iadm $N -n node.startup -v manual --op=update || fail "node update exited $?"
iadm $N -l; rc=$?
[ "$rc" = 0 ] || [ "$rc" = 15 ] || fail "node_login exited $rc"
sid=$(session_of "$T_VDSM") || fail "no session for $T_VDSM"
[ "$(cat /sys/class/iscsi_session/session"$sid"/ifacename)" = "$VIF" ] || fail "session $sid is not on iface $VIF"
wait_for_disks 1 30 || fail "no disk for $T_VDSM"
step "vdsm: discovery again while logged in (discoverydb delete must exit 0)"
vdsm_discover
iadm $N >/dev/null 2>&1; rc=$?
echo "record of the logged-in node after the discoverydb delete: exit $rc"
# this project keeps the record a session uses; open-iscsi deletes it
if ours; then [ "$rc" = 0 ] || fail "the discoverydb delete removed the record of a logged-in node"; fi
[ "$(sessions_of "$T_VDSM")" = 1 ] || fail "the session did not survive the discoverydb delete"
step "vdsm: session_rescan, session_logout, removeIscsiNode"
iadm -m session -R || fail "-m session -R exited $?"
iadm -m session -r "$sid" -u || fail "-m session -r $sid -u exited $?"
wait_no_sessions 15 || fail "session left after -m session -r $sid -u"
iadm $N -u >/dev/null 2>&1; rc=$?
[ "$rc" = 21 ] || fail "node_disconnect without a session exited $rc, expected 21"
iadm $N --op=delete >/dev/null 2>&1; rc=$?
if ours; then [ "$rc" = 0 ] || fail "node_delete exited $rc"; fi
iadm -m iface -I "$VIF" --op=delete || fail "iface delete exited $?"

# ------------------------------------------------------------------ Ansible
step "Ansible: discover, cached nodes, login with --portal"
iadm --mode discovery --type sendtargets --portal "$PORTAL" >/dev/null || fail "discover exited $?"
iadm --mode node >/tmp/o || fail "--mode node exited $?"
awk 'NF > 2 { bad = 1 } END { exit bad }' /tmp/o || fail "a --mode node line with more than two fields"
grep -q " $T_ANS\$" /tmp/o || fail "$T_ANS not in the cached nodes"
iadm --mode session 2>/dev/null | grep -q "$ADDR:3260.*$T_ANS" && fail "logged on before login"
iadm --mode node --targetname "$T_ANS" --login --portal "$PORTAL" || fail "login exited $?"
iadm --mode session | grep -q "$ADDR:3260.*$T_ANS" || fail "target_loggedon does not see the session"
wait_for_disks 1 30 || fail "no disk for $T_ANS"
step "Ansible: auto_node_startup, rescans, logout"
isauto() { iadm --mode node --targetname "$T_ANS" | awk '/node.startup/ { print ($0 ~ /automatic/) ? "yes" : "no"; exit }'; }
[ "$(isauto)" = no ] || fail "node.startup should start manual"
iadm --mode node --targetname "$T_ANS" --op=update --name node.startup --value automatic || fail "setauto exited $?"
[ "$(isauto)" = yes ] || fail "auto_node_startup did not stick"
iadm --mode session --rescan >/dev/null || fail "--mode session --rescan exited $?"
iadm --mode node --rescan -T "$T_ANS" >/dev/null || fail "--mode node --rescan exited $?"
iadm --mode node --targetname "$T_ANS" --logout || fail "logout exited $?"
wait_no_sessions 15 || fail "session left after Ansible's logout"

step "-W: login requests handed to iscsid, not awaited"
iadm -m node -T "$T_ANS" -p "$PORTAL" -l -W; rc=$?
[ "$rc" = 0 ] || fail "-W login exited $rc"
wait_for 30 sh -c "[ -n \"\$(ls /sys/class/iscsi_session/ 2>/dev/null)\" ]" || fail "no session 30 s after -W login"
wait_for_disks 1 30 || fail "no disk after -W login"
iadm -m node -T "$T_ANS" -p "$PORTAL" --logout || fail "logout exited $?"
wait_no_sessions 15 || fail "session left"
init_stop
step "clients OK"
