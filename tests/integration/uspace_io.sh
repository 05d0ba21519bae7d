#!/usr/bin/env bash
# The userspace transport against tgtd: iscsi-uspace logs in (no kernel
# initiator: this host has no iscsi_tcp), the LUNs appear as files and
# loop devices; 64 MiB written through the loop device read back equal to
# tgtd's backing file; a file system made and mounted on it; status and
# stats say what happened; logout leaves no mount, loop device, process
# or file behind.
set -u
. "${top_srcdir:-.}/tests/integration/uspace_lib.sh"
usp_require
tgtd_start || exit 1
T=iqn.2024-01.org.example:io
tgtd_target_nolun 1 "$T"
truncate -s 96M "$TGTD_DIR/big.img"
tgtd_adm --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$TGTD_DIR/big.img"

usp_record "$T" </dev/null >"$USP_WORK/rec"
usp_start 1 "$USP_WORK/rec"
check "login through iscsi-uspace (exit $USP_RC)" [ "$USP_RC" = 0 ]
[ "$USP_RC" = 0 ] || { cat "$USP_WORK/start.1"; finish; exit 1; }
check "state LOGGED_IN" [ "$(usp_field 1 state)" = LOGGED_IN ]
check "status names target and portal" [ "$(usp_field 1 target)" = "$T" -a "$(usp_field 1 persistent_portal)" = "127.0.0.1:$TGTD_PORT" ]
check "tpgt from the login" [ "$(usp_field 1 tpgt)" = 1 ]
check "negotiated HeaderDigest reported" grep -qx "param HeaderDigest=None" <(usp_status 1)
file=$(usp_file 1 1)
dev=$(usp_loop 1 1)
check "LUN 1 is a file of 96 MiB" [ -f "$file" -a "$(stat -c %s "$file" 2>/dev/null)" = $((96 << 20)) ]
check "LUN 0 (tgtd's controller) is no file" [ -z "$(usp_lunline 1 0)" ]
check "LUN 1 has a loop device" [ -b "$dev" ]
check "the loop device is 96 MiB" [ "$(blockdev --getsize64 "$dev" 2>/dev/null)" = $((96 << 20)) ]

# 64 MiB through the loop device, direct and buffered, then compared with
# what tgtd wrote to its backing file.
head -c $((64 << 20)) /dev/urandom >"$USP_WORK/data"
check "64 MiB written through $dev (O_DIRECT)" dd if="$USP_WORK/data" of="$dev" bs=1M oflag=direct status=none
check "backing file equals what was written" cmp -n $((64 << 20)) "$USP_WORK/data" "$TGTD_DIR/big.img"
check "read back through the loop device" cmp <(dd if="$dev" bs=1M count=64 iflag=direct status=none) "$USP_WORK/data"
check "read back through the file" cmp <(dd if="$file" bs=4k count=16384 status=none) "$USP_WORK/data"
check "an unaligned read of the file" cmp <(dd if="$file" bs=1 skip=1000 count=3000 status=none) <(dd if="$USP_WORK/data" bs=1 skip=1000 count=3000 status=none)
check "an unaligned write of the file is refused (EINVAL)" bash -c "! dd if=/dev/zero of='$file' bs=100 count=1 conv=notrunc status=none 2>/dev/null"
head -c 1M /dev/urandom >"$USP_WORK/tail"
check "buffered write at 80 MiB + fsync" dd if="$USP_WORK/tail" of="$dev" bs=64k seek=1280 conv=fsync status=none
check "backing file has it" cmp <(dd if="$TGTD_DIR/big.img" bs=64k skip=1280 count=16 status=none) "$USP_WORK/tail"
check "writing past the end fails" bash -c "! dd if=/dev/zero of='$file' bs=512 seek=$((96 << 11)) count=1 conv=notrunc status=none 2>/dev/null"

# A file system on it.
if command -v mkfs.ext4 >/dev/null; then
	check "mkfs.ext4 on $dev" mkfs.ext4 -q -F "$dev"
	mkdir -p "$USP_WORK/mnt"
	check "mount $dev" mount "$dev" "$USP_WORK/mnt"
	head -c 5M /dev/urandom >"$USP_WORK/f"
	cp "$USP_WORK/f" "$USP_WORK/mnt/f" && sync
	check "logout safe refuses while mounted (28)" bash -c "'$USP' logout --safe --sid 1 >/dev/null 2>&1; [ \$? = 28 ]"
	umount "$USP_WORK/mnt"
	echo 3 >/proc/sys/vm/drop_caches
	mount "$dev" "$USP_WORK/mnt"
	check "file read back after remount" cmp "$USP_WORK/f" "$USP_WORK/mnt/f"
	umount "$USP_WORK/mnt"
	check "fsck is clean" bash -c "fsck.ext4 -n '$dev' >/dev/null 2>&1"
else
	echo "SKIP: mkfs.ext4 not installed"
fi

stats=$(timeout 10 "$USP" stats --sid 1)
w=$(echo "$stats" | awk '$1 == "txdata_octets" { print $2 }')
c=$(echo "$stats" | awk '$1 == "scsicmd_pdus" { print $2 }')
check "stats count the bytes written (>= 65 MiB: $w)" [ "${w:-0}" -ge $((65 << 20)) ]
check "stats count commands ($c)" [ "${c:-0}" -gt 64 ]
check "no I/O errors counted" [ "$(echo "$stats" | awk '$1 == "io_errors" { print $2 }')" = 0 ]
check "list shows the session running" bash -c "'$USP' list | grep -qx '1 [0-9]* running'"
usp_start 1 "$USP_WORK/rec"
check "second start of sid 1 exits 15" [ "$USP_RC" = 15 ]
check "record in the run directory is root's only" [ "$(stat -c %a "$USP_RUNDIR/1/record")" = 600 ]

pid=$(cat "$USP_RUNDIR/1/pid")
check "logout" usp_logout 1
gone() { local i; for i in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; return 1; }
check "the session process is gone" gone "$pid"
left=$(usp_leftovers)
check "logout leaves no mount, loop device, process or file" [ -z "$left" ]
[ -z "$left" ] || echo "$left"
check "status of a gone session: 2" bash -c "'$USP' status --sid 1 >/dev/null 2>&1; [ \$? = 2 ]"
finish
