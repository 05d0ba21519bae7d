#!/bin/sh
# A target with two LUNs gives two disks of the right sizes; a LUN added on
# the running target appears after `iscsiadm -m session -R`, another one
# after `iscsiadm -m session -r SID -R`.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

IQN=iqn.2003-01.org.example.vmtest:luns

# expect_disks SID "size0 size1 ...": the session's disks, by LUN, in bytes.
expect_disks() {
    local got="" d
    for d in $(disks_of_session "$1"); do
        [ -b "/dev/$d" ] || fail "/dev/$d missing"
        got="$got $(disk_bytes "$d")"
    done
    [ "$got" = " $2" ] || fail "disk sizes by LUN:$got, expected $2"
}

step "target with LUN 0 (32 MiB) and LUN 1 (48 MiB)"
lio_backstore_fileio l0 32M && lio_backstore_fileio l1 48M &&
lio_backstore_fileio l2 16M && lio_backstore_fileio l3 24M &&
lio_target_create "$IQN" && lio_portal_add "$IQN" 127.0.0.1 3260 &&
lio_lun_add "$IQN" 0 l0 && lio_lun_add "$IQN" 1 l1 && lio_tpg_enable "$IQN" ||
    fail "LIO setup"
init_start || fail "iscsid did not start"

step "discovery + login"
iadm -m discovery -t st -p "$PORTAL" || fail "discovery exited $?"
iadm -m node -T "$IQN" -p "$PORTAL" --login || fail "login exited $?"
wait_for_disks 2 30 || fail "expected 2 disks, have $(disk_count)"
sid=$(session_of "$IQN") || fail "no session"
expect_disks "$sid" "33554432 50331648"
[ "$(p3_disks "$IQN" | wc -l)" = 2 ] || fail "-P 3 shows $(p3_disks "$IQN" | wc -l) running disks, expected 2"
echo "disks: $(disks_of_session "$sid" | tr '\n' ' ')"

step "LUN 2 (16 MiB) added on the target; iscsiadm -m session -R"
lio_lun_add "$IQN" 2 l2 || fail "LIO LUN add"
sleep 1
[ "$(disk_count)" = 2 ] || echo "note: the kernel found LUN 2 without a rescan"
iadm -m session -R || fail "-m session -R exited $?"
wait_for_disks 3 30 || fail "no new disk after -m session -R (have $(disk_count))"
expect_disks "$sid" "33554432 50331648 16777216"

step "LUN 3 (24 MiB) added; iscsiadm -m session -r $sid -R"
lio_lun_add "$IQN" 3 l3 || fail "LIO LUN add"
iadm -m session -r "$sid" -R || fail "-m session -r $sid -R exited $?"
wait_for_disks 4 30 || fail "no new disk after -m session -r $sid -R (have $(disk_count))"
expect_disks "$sid" "33554432 50331648 16777216 25165824"
[ "$(p3_disks "$IQN" | wc -l)" = 4 ] || fail "-P 3 shows $(p3_disks "$IQN" | wc -l) running disks, expected 4"
echo "disks: $(disks_of_session "$sid" | tr '\n' ' ')"

step "each LUN's writes land in its own backing file"
lun=0
for d in $(disks_of_session "$sid"); do
    printf 'lun%s-marker' "$lun" | dd of="/dev/$d" bs=4k conv=sync oflag=direct 2>/dev/null ||
        fail "write to /dev/$d"
    got=$(dd if="$LIO_BACKING_DIR/l$lun.img" bs=11 count=1 2>/dev/null)
    [ "$got" = "lun$lun-marker" ] || fail "LUN $lun (/dev/$d): backing file starts with '$got'"
    lun=$((lun + 1))
done

step "logout"
iadm -m node -T "$IQN" -p "$PORTAL" --logout || fail "logout exited $?"
wait_no_sessions 15 || fail "disks left after logout: $(all_disks | tr '\n' ' ')"
init_stop
step "luns OK"
