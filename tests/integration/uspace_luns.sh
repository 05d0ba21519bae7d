#!/usr/bin/env bash
# LUNs of a userspace session: a target with two LUNs gives two files and
# two loop devices; a LUN added later appears after a rescan (file and
# loop device); a LUN that comes back larger changes size (file and loop
# device); a LUN that goes away loses its file.
set -u
. "${top_srcdir:-.}/tests/integration/uspace_lib.sh"
usp_require
tgtd_start || exit 1
T=iqn.2024-01.org.example:luns
tgtd_target 1 "$T" 2

usp_record "$T" </dev/null >"$USP_WORK/rec"
usp_start 1 "$USP_WORK/rec"
check "login (exit $USP_RC)" [ "$USP_RC" = 0 ]
check "two LUN files" [ -f "$(usp_file 1 1)" -a -f "$(usp_file 1 2)" ]
check "two loop devices" [ -b "$(usp_loop 1 1)" -a -b "$(usp_loop 1 2)" ]
check "the directory lists lun1 lun2" [ "$(ls "$USP_RUNDIR/1/luns" | tr '\n' ' ')" = "lun1 lun2 " ]
check "no LUN 3 yet" [ -z "$(usp_lunline 1 3)" ]

truncate -s 24M "$TGTD_DIR/lun3.img"
tgtd_adm --mode logicalunit --op new --tid 1 --lun 3 --backing-store "$TGTD_DIR/lun3.img"
check "rescan" bash -c "timeout 60 '$USP' rescan --sid 1 >/dev/null"
f3=$(usp_file 1 3)
d3=$(usp_loop 1 3)
check "LUN 3 has a file of 24 MiB" [ "$(stat -c %s "$f3" 2>/dev/null)" = $((24 << 20)) ]
check "LUN 3 has a loop device of 24 MiB" [ "$(blockdev --getsize64 "$d3" 2>/dev/null)" = $((24 << 20)) ]
head -c 1M /dev/urandom >"$USP_WORK/d"
check "LUN 3 takes writes" dd if="$USP_WORK/d" of="$d3" bs=1M oflag=direct status=none
check "into its backing file" cmp -n $((1 << 20)) "$USP_WORK/d" "$TGTD_DIR/lun3.img"
check "the other LUNs kept their devices" [ -b "$(usp_loop 1 1)" -a -b "$(usp_loop 1 2)" ]

# tgtd cannot resize a LUN in place: LUN 2 goes and comes back larger.
d2=$(usp_loop 1 2)
tgtd_adm --mode logicalunit --op delete --tid 1 --lun 2
truncate -s 40M "$TGTD_DIR/lun1.2.img"
tgtd_adm --mode logicalunit --op new --tid 1 --lun 2 --backing-store "$TGTD_DIR/lun1.2.img"
check "rescan after the resize" bash -c "timeout 60 '$USP' rescan --sid 1 >/dev/null"
check "LUN 2's file is 40 MiB" [ "$(stat -c %s "$(usp_file 1 2)")" = $((40 << 20)) ]
check "LUN 2 keeps its loop device ($d2)" [ "$(usp_loop 1 2)" = "$d2" ]
check "which is 40 MiB now" [ "$(blockdev --getsize64 "$d2")" = $((40 << 20)) ]
check "the new end is writable" dd if="$USP_WORK/d" of="$d2" bs=1M seek=39 oflag=direct status=none

tgtd_adm --mode logicalunit --op delete --tid 1 --lun 3
check "rescan after LUN 3 went away" bash -c "timeout 60 '$USP' rescan --sid 1 >/dev/null"
check "LUN 3 has no file any more" [ -z "$(usp_lunline 1 3)" -a ! -e "$f3" ]
check "and its loop device is detached" bash -c "! losetup '$d3' 2>/dev/null | grep -q '$USP_RUNDIR'"
check "logout" usp_logout 1
left=$(usp_leftovers)
check "nothing left" [ -z "$left" ]
[ -z "$left" ] || echo "$left"
finish
