#!/bin/sh
# This project's additions on the kernel session path (INITIATOR=ours only):
# login --wait-devices returns with the disks' device nodes in place and
# names them; -m session -s / -m node -s print the kernel's counters;
# iscsid.safe_logout refuses (28) to log out a session whose disk is
# mounted; -R waits for the new LUN's device.
# Not in run-suite.sh's default list: tests/vm/run-suite.sh kfeatures
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

IQN=iqn.2003-01.org.example.vmtest:kfeat

[ "$INITIATOR" = ours ] || { echo "SKIP: this project's options"; exit 0; }

step "target with LUN 0 (16 MiB) and LUN 1 (24 MiB); iscsid.safe_logout = Yes"
lio_backstore_fileio k0 16M && lio_backstore_fileio k1 24M && lio_backstore_fileio k2 8M &&
lio_target_create "$IQN" && lio_portal_add "$IQN" 127.0.0.1 3260 &&
lio_lun_add "$IQN" 0 k0 && lio_lun_add "$IQN" 1 k1 && lio_tpg_enable "$IQN" || fail "LIO setup"
init_setup || fail "setup"
echo "iscsid.safe_logout = Yes" >>"$INIT_ROOT/iscsid.conf"
init_start || fail "iscsid did not start"
iadm -m discovery -t st -p "$PORTAL" >/dev/null || fail "discovery exited $?"

step "login --wait-devices"
iadm -m node -T "$IQN" -p "$PORTAL" --login --wait-devices >/tmp/login.out 2>&1; rc=$?
cat /tmp/login.out
[ "$rc" = 0 ] || fail "login exited $rc"
# no waiting here: the nodes must exist when iscsiadm returns
line=$(grep '^Attached disks: ' /tmp/login.out) || fail "no 'Attached disks:' line"
disks=${line#Attached disks: }
[ "$(echo "$disks" | wc -w)" = 2 ] || fail "expected 2 disks, got '$disks'"
for d in $disks; do
    [ -b "/dev/$d" ] || fail "/dev/$d is not there when login --wait-devices returned"
done
sid=$(session_of "$IQN") || fail "no session"
[ "$(disks_of_session "$sid" | tr '\n' ' ')" = "$disks " ] || fail "disks by LUN: $(disks_of_session "$sid" | tr '\n' ' ') vs $disks"

step "iscsiadm -m session -s"
iadm -m session -s >/tmp/stats.out 2>&1; rc=$?
cat /tmp/stats.out
[ "$rc" = 0 ] || fail "-m session -s exited $rc"
grep -q "^Stats for session \[sid: $sid, target: $IQN, portal: 127.0.0.1,3260\]" /tmp/stats.out || fail "no Stats line"
grep -q '^iSCSI SNMP:' /tmp/stats.out || fail "no 'iSCSI SNMP:'"
for c in txdata_octets rxdata_octets scsicmd_pdus login_pdus datain_pdus timeout_err; do
    grep -q "^	$c: [0-9]*\$" /tmp/stats.out || fail "no counter $c"
done
[ "$(grep -c '^	[a-z_0-9]*: [0-9]*$' /tmp/stats.out)" -ge 21 ] || fail "fewer than 21 counters"
n=$(awk '$1 == "scsicmd_pdus:" { print $2 }' /tmp/stats.out)
[ "${n:-0}" -gt 0 ] || fail "scsicmd_pdus is ${n:-?} after a scan"
iadm -m node -T "$IQN" -p "$PORTAL" -s >/dev/null || fail "-m node -s exited $?"

step "a new LUN; -m session -r $sid -R waits for its device"
lio_lun_add "$IQN" 2 k2 || fail "LIO LUN add"
iadm -m session -r "$sid" -R || fail "-R exited $?"
[ "$(disks_of_session "$sid" | wc -l)" = 3 ] || fail "LUN 2 not attached when -R returned"
d2=$(disks_of_session "$sid" | tail -n1)
[ -b "/dev/$d2" ] || fail "/dev/$d2 missing when -R returned"

step "safe_logout: a mounted disk keeps its session"
first=${disks%% *}
if mke2fs -q "/dev/$first" >/dev/null 2>&1 && mkdir -p /mnt/k && mount -t ext2 "/dev/$first" /mnt/k 2>/dev/null; then
    iadm -m node -T "$IQN" -p "$PORTAL" --logout >/tmp/lo.out 2>&1; rc=$?
    cat /tmp/lo.out
    [ "$rc" = 28 ] || fail "logout with /dev/$first mounted exited $rc, expected 28"
    [ "$(session_state "$sid")" = LOGGED_IN ] || fail "session $sid is $(session_state "$sid") after a refused logout"
    umount /mnt/k || fail "umount"
else
    echo "note: cannot make and mount an ext2 file system here; mount check not exercised"
fi

step "logout"
iadm -m node -T "$IQN" -p "$PORTAL" --logout || fail "logout exited $?"
wait_no_sessions 15 || fail "session left after logout"

step "boot: --loginall=automatic logs in only node.startup = automatic"
iadm -m node --loginall=automatic >/dev/null 2>&1; rc=$?
[ "$rc" = 21 ] || fail "--loginall=automatic with only manual records exited $rc, expected 21"
node_set "$IQN" "$PORTAL" node.startup automatic || fail "update node.startup"
iadm -m node --loginall=automatic || fail "--loginall=automatic exited $?"
wait_for_disks 3 30 || fail "no disks after --loginall=automatic"
iadm -m node --logoutall=automatic || fail "--logoutall=automatic exited $?"
wait_no_sessions 15 || fail "session left after --logoutall=automatic"
init_stop
# a sanitizer build (ISCSID=build-san/...) reports into the daemon's log
if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$INIT_LOG"; then
    grep -A 30 -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$INIT_LOG" | head -n 60
    fail "the sanitizer reported errors in iscsid"
fi
step "kfeatures OK"
