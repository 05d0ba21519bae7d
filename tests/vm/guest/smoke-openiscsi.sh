#!/bin/sh
# Guest half of tests/vm/smoke.sh (busybox sh): LIO target + open-iscsi
# initiator over loopback. Checks discovery, login, I/O reaching the
# backing file, LUN hot-add, a target outage and recovery, CHAP, logout.
set -eu
. "$VMTEST_LIB/lio.sh"

IQN=iqn.2003-01.org.example.vmtest:smoke
PORTAL=127.0.0.1:3260
BACKING=$LIO_BACKING_DIR/smoke_0.img
step() { echo "== $* ($(cut -d' ' -f1 /proc/uptime)s)"; }
fail() { echo "FAIL: $*"; exit 1; }

# wait_for SECONDS CMD...: poll CMD every 0.2 s.
wait_for() {
    local n=$(( $1 * 5 )); shift
    while [ "$n" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2; n=$((n - 1))
    done
    return 1
}

# Block device name of LUN $1 of the only session, empty if none.
lun_disk() {
    local d
    for d in /sys/class/iscsi_session/session*/device/target*/*:*:*:"$1"/block/*; do
        [ -e "$d" ] && { echo "${d##*/}"; return 0; }
    done
    return 1
}
session_state() { cat /sys/class/iscsi_session/session*/state 2>/dev/null; }
logged_in() { [ "$(session_state)" = LOGGED_IN ]; }

step "LIO target with a 64 MiB fileio LUN"
lio_simple_target "$IQN" 64M
lio_backstore_fileio extra 16M

step "open-iscsi configuration"
mkdir -p /etc/iscsi /var/lib/iscsi /run/lock/iscsi
printf 'InitiatorName=iqn.2003-01.org.example.vmtest:initiator\n' >/etc/iscsi/initiatorname.iscsi
cat >/etc/iscsi/iscsid.conf <<'EOF'
iscsid.startup = /usr/sbin/iscsid
node.startup = manual
node.session.timeo.replacement_timeout = 60
node.conn[0].timeo.login_timeout = 15
node.conn[0].timeo.logout_timeout = 15
node.conn[0].timeo.noop_out_interval = 2
node.conn[0].timeo.noop_out_timeout = 2
node.session.initial_login_retry_max = 4
node.session.scan = auto
EOF
# Own session: iscsid signals its whole process group when it exits.
setsid iscsid -f >/tmp/iscsid.log 2>&1 &
iscsid_pid=$!
# iscsiadm talks to iscsid over an abstract unix socket.
wait_for 10 sh -c 'netstat -xl | grep -q ISCSIADM_ABSTRACT_NAMESPACE' ||
    fail "iscsid did not start: $(cat /tmp/iscsid.log)"

step "discovery"
out=$(iscsiadm -m discovery -t sendtargets -p "$PORTAL")
echo "$out"
echo "$out" | grep -q " $IQN\$" || fail "discovery did not report $IQN"

step "login"
iscsiadm -m node -T "$IQN" -p "$PORTAL" --login
wait_for 30 lun_disk 0 || fail "no block device for LUN 0"
disk=$(lun_disk 0)
echo "LUN 0 is /dev/$disk, $(cat /sys/block/"$disk"/size) sectors"
[ "$(cat /sys/block/"$disk"/size)" = 131072 ] || fail "LUN 0 is not 64 MiB"
[ "$(lio_sessions "$IQN")" = iqn.2003-01.org.example.vmtest:initiator ] ||
    fail "target does not list the initiator session"

step "write/read 4 MiB at 1 MiB offset"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=4 2>/dev/null
dd if=/tmp/pattern of=/dev/"$disk" bs=1M seek=1 oflag=direct 2>/dev/null
dd if=/dev/"$disk" of=/tmp/readback bs=1M skip=1 count=4 iflag=direct 2>/dev/null
cmp /tmp/pattern /tmp/readback || fail "read back differs"
dd if="$BACKING" of=/tmp/backing bs=1M skip=1 count=4 2>/dev/null
cmp /tmp/pattern /tmp/backing || fail "backing file differs from what was written"

step "hot-add LUN 1 on the running target"
lio_lun_add "$IQN" 1 extra
iscsiadm -m session -R >/dev/null
wait_for 30 lun_disk 1 || fail "LUN 1 did not appear after rescan"
echo "LUN 1 is /dev/$(lun_disk 1)"

step "target outage: disable TPG"
lio_tpg_disable "$IQN"
wait_for 20 sh -c '! grep -q LOGGED_IN /sys/class/iscsi_session/session*/state' ||
    fail "session still LOGGED_IN after TPG disable"
echo "initiator session state: $(session_state)"
[ -z "$(lio_sessions "$IQN")" ] || fail "target still lists a session"
step "target back: enable TPG"
lio_tpg_enable "$IQN"
wait_for 60 logged_in || fail "session did not recover"
dd if=/dev/"$disk" of=/tmp/readback bs=1M skip=1 count=4 iflag=direct 2>/dev/null
cmp /tmp/pattern /tmp/readback || fail "read after recovery differs"

step "logout"
iscsiadm -m node -T "$IQN" -p "$PORTAL" --logout
wait_for 10 sh -c '! ls /sys/class/iscsi_session/ | grep -q session' ||
    fail "session still present after logout"
[ ! -e /sys/block/"$disk" ] || fail "/dev/$disk still present after logout"

step "CHAP: wrong secret refused, right one accepted, mutual CHAP"
lio_auth "$IQN" smokeuser smokesecret12
iscsiadm -m node -T "$IQN" -p "$PORTAL" -o update -n node.session.auth.authmethod -v CHAP
iscsiadm -m node -T "$IQN" -p "$PORTAL" -o update -n node.session.auth.username -v smokeuser
iscsiadm -m node -T "$IQN" -p "$PORTAL" -o update -n node.session.auth.password -v wrongsecret12
iscsiadm -m node -T "$IQN" -p "$PORTAL" -o update -n node.session.initial_login_retry_max -v 1
if iscsiadm -m node -T "$IQN" -p "$PORTAL" --login >/tmp/login.out 2>&1; then
    fail "login with a wrong CHAP secret succeeded"
fi
# LIO answers 0x0201 and closes at once, so open-iscsi reports either
# error 24 (authorization failure) or 19 (non-retryable), depending on timing.
grep -q 'login fail' /tmp/login.out || fail "unexpected error: $(cat /tmp/login.out)"
lio_auth "$IQN" smokeuser smokesecret12 mutualuser mutualsecret12
iscsiadm -m node -T "$IQN" -p "$PORTAL" -o update -n node.session.auth.password -v smokesecret12
iscsiadm -m node -T "$IQN" -p "$PORTAL" -o update -n node.session.auth.username_in -v mutualuser
iscsiadm -m node -T "$IQN" -p "$PORTAL" -o update -n node.session.auth.password_in -v wrongmutual12
if iscsiadm -m node -T "$IQN" -p "$PORTAL" --login >/tmp/login.out 2>&1; then
    fail "login with a wrong mutual CHAP secret succeeded"
fi
grep -q 'login fail' /tmp/login.out || fail "unexpected error: $(cat /tmp/login.out)"
iscsiadm -m node -T "$IQN" -p "$PORTAL" -o update -n node.session.auth.password_in -v mutualsecret12
iscsiadm -m node -T "$IQN" -p "$PORTAL" --login
wait_for 30 lun_disk 0 || fail "no disk after CHAP login"
iscsiadm -m node -T "$IQN" -p "$PORTAL" --logout

# ---- the rest exercises lio.sh features later tests rely on ----
INI=iqn.2003-01.org.example.vmtest:initiator
MULTI=iqn.2003-01.org.example.vmtest:multi
step "3 targets on a second port"
lio_teardown
iscsiadm -m node -o delete >/dev/null 2>&1 || true
lio_targets_create 3 "$MULTI" 8M 3261
out=$(iscsiadm -m discovery -t st -p 127.0.0.1:3261)
[ "$(echo "$out" | grep -c " ${MULTI}[123]\$")" = 3 ] || fail "expected 3 targets, got: $out"

step "discovery CHAP"
lio_discovery_auth duser dsecret123456
if iscsiadm -m discovery -t st -p 127.0.0.1:3261 >/tmp/disc.out 2>&1; then
    fail "discovery without credentials succeeded"
fi
iscsiadm -m discoverydb -t st -p 127.0.0.1:3261 -o new >/dev/null 2>&1 || true
for kv in authmethod=CHAP username=duser password=dsecret123456; do
    iscsiadm -m discoverydb -t st -p 127.0.0.1:3261 -o update \
        -n "discovery.sendtargets.auth.${kv%%=*}" -v "${kv#*=}"
done
iscsiadm -m discoverydb -t st -p 127.0.0.1:3261 --discover | grep -q " ${MULTI}1\$" ||
    fail "discovery with CHAP failed"
lio_discovery_auth off

step "explicit ACLs (generate_node_acls=0)"
lio_attrib "${MULTI}1" generate_node_acls 0
lio_acl_add "${MULTI}1" iqn.2003-01.org.example.vmtest:someone-else
if iscsiadm -m node -T "${MULTI}1" -p 127.0.0.1:3261 --login >/tmp/login.out 2>&1; then
    fail "login without an ACL succeeded"
fi
lio_acl_add "${MULTI}1" "$INI"
iscsiadm -m node -T "${MULTI}1" -p 127.0.0.1:3261 --login
wait_for 30 lun_disk 0 || fail "no disk via explicit ACL"
[ "$(cat /sys/block/"$(lun_disk 0)"/size)" = 16384 ] || fail "wrong LUN size via ACL"
iscsiadm -m node -T "${MULTI}1" -p 127.0.0.1:3261 --logout

step "header/data digest offered by the target"
lio_param "${MULTI}2" HeaderDigest CRC32C
lio_param "${MULTI}2" DataDigest CRC32C
iscsiadm -m node -T "${MULTI}2" -p 127.0.0.1:3261 -o update \
    -n 'node.conn[0].iscsi.HeaderDigest' -v CRC32C
iscsiadm -m node -T "${MULTI}2" -p 127.0.0.1:3261 -o update \
    -n 'node.conn[0].iscsi.DataDigest' -v CRC32C
iscsiadm -m node -T "${MULTI}2" -p 127.0.0.1:3261 --login
wait_for 30 lun_disk 0 || fail "no disk with digests"
hd=$(cat /sys/class/iscsi_connection/connection*/header_digest)
dg=$(cat /sys/class/iscsi_connection/connection*/data_digest)
# sysfs shows the negotiated digest as 1 (CRC32C) or 0 (None).
[ "$hd $dg" = "1 1" ] || fail "digests not negotiated: $hd $dg"
dd if=/tmp/pattern of=/dev/"$(lun_disk 0)" bs=1M oflag=direct 2>/dev/null
cmp /tmp/pattern "$LIO_BACKING_DIR/multi2_0.img" 0 0 2>&1 | grep -q 'EOF on /tmp/pattern' ||
    fail "digest I/O did not reach the backing file"

step "teardown with a session still logged in"
kill "$iscsid_pid" 2>/dev/null || true
lio_teardown
wait_for 20 sh -c '! grep -q LOGGED_IN /sys/class/iscsi_session/session*/state' ||
    fail "session survived target deletion"
for t in /sys/kernel/config/target/iscsi/iqn.*; do
    [ ! -e "$t" ] || fail "target $t left after teardown"
done
step "smoke OK"
