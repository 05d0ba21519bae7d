#!/usr/bin/env bash
# LUNs of a uspace session through iscsiadm: a target with two LUNs
# gives two loop devices (--wait-devices, -P 3); a LUN added later and a
# LUN that comes back larger are picked up by `-m session -R` (and
# `-m node -R`), which names the devices; -P 3 shows them.
set -u
. "${top_srcdir:-.}/tests/integration/iscsiadm_uspace_lib.sh"
ua_require
tgtd_start || exit 1
T=iqn.2024-01.org.example:uluns
tgtd_target 1 "$T" 2
start_iscsid
ua_node "$T"
ua_login "$T" --wait-devices
check "login (exit $?)" [ -n "$(ua_sid "$T")" ]
sid=$(ua_sid "$T")
d1=$(ua_loop "$sid" 1)
d2=$(ua_loop "$sid" 2)
check "--wait-devices names both loop devices" grep -qx "Attached disks: ${d1#/dev/} ${d2#/dev/}" "$R/out"
run -m session -P 3
check "-P 3: two LUNs" bash -c "[ \$(grep -c $'^\t\tLun: ' '$R/out') = 2 ]"
check "-P 3: LUN 1 and its disk" grep -qx $'\t\t\tAttached scsi disk '"${d1#/dev/}"$'\t\tState: running' "$R/out"

truncate -s 24M "$TGTD_DIR/lun3.img"
tgtd_adm --mode logicalunit --op new --tid 1 --lun 3 --backing-store "$TGTD_DIR/lun3.img"
run -m session -r "$sid" -R
rc=$?
check "-m session -r SID -R (exit $rc)" [ "$rc" = 0 ]
check "open-iscsi's rescan line" grep -qx "Rescanning session \[sid: $sid, target: $T, portal: 127.0.0.1,$TGTD_PORT\]" "$R/out"
d3=$(ua_loop "$sid" 3)
check "LUN 3 has a loop device of 24 MiB" [ -b "$d3" -a "$(blockdev --getsize64 "$d3" 2>/dev/null)" = $((24 << 20)) ]
run -m session -P 3
check "-P 3: three LUNs" bash -c "[ \$(grep -c $'^\t\tLun: ' '$R/out') = 3 ]"
check "-P 3: LUN 3 with its size" grep -qx $'\t\tLun: 3\tSize: 25165824\tBlock Size: 512' "$R/out"
check "-P 3: and its disk" grep -qx $'\t\t\tAttached scsi disk '"${d3#/dev/}"$'\t\tState: running' "$R/out"
head -c 1M /dev/urandom >"$R/d"
check "LUN 3 takes writes" dd if="$R/d" of="$d3" bs=1M oflag=direct status=none
check "into its backing file" cmp -n $((1 << 20)) "$R/d" "$TGTD_DIR/lun3.img"

# tgtd cannot resize a LUN in place: LUN 2 goes and comes back larger
tgtd_adm --mode logicalunit --op delete --tid 1 --lun 2
truncate -s 40M "$TGTD_DIR/lun1.2.img"
tgtd_adm --mode logicalunit --op new --tid 1 --lun 2 --backing-store "$TGTD_DIR/lun1.2.img"
run -m node -T "$T" -p "127.0.0.1:$TGTD_PORT" -I uspace -R
rc=$?
check "-m node -T T -R (exit $rc)" [ "$rc" = 0 ]
check "LUN 2 keeps its loop device ($d2)" [ "$(ua_loop "$sid" 2)" = "$d2" ]
check "which is 40 MiB now" [ "$(blockdev --getsize64 "$d2")" = $((40 << 20)) ]
run -m session -P 3
check "-P 3: LUN 2's new size" grep -qx $'\t\tLun: 2\tSize: 41943040\tBlock Size: 512' "$R/out"
# every session (-R without -r)
run -m session -R
check "-m session -R (exit $?)" grep -q "^Rescanning session \[sid: $sid" "$R/out"

run -m node -T "$T" -p "127.0.0.1:$TGTD_PORT" -I uspace --logout
check "logout (exit $?)" [ -z "$(ua_sid "$T")" ]
for i in $(seq 1 30); do [ -z "$(ua_leftovers)" ] && break; sleep 0.1; done
left=$(ua_leftovers)
check "nothing left" [ -z "$left" ]
finish
