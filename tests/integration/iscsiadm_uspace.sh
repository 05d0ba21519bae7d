#!/usr/bin/env bash
# The userspace transport through iscsid and iscsiadm, on a host without
# iscsi_tcp: `iscsiadm -m node -T T -p P -I uspace --login` logs in with
# libiscsi (an iscsi-uspace process); --wait-devices names the loop
# devices; 64 MiB written through the loop device read back equal to
# tgtd's backing file; a file system made and mounted on it; -m session
# (flat, -P 1, -P 3, --json) and -s show the session, -m session -r its
# record; a second login is 15; logout leaves no mount, loop device or
# process; without /dev/fuse the login says so and exits 12.
set -u
. "${top_srcdir:-.}/tests/integration/iscsiadm_uspace_lib.sh"
ua_require
tgtd_start || exit 1
T=iqn.2024-01.org.example:uio
tgtd_target_nolun 1 "$T"
truncate -s 96M "$TGTD_DIR/big.img"
tgtd_adm --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$TGTD_DIR/big.img"
start_iscsid

run -m iface
check "-m iface lists the built-in uspace iface" grep -qx "uspace uspace,<empty>,<empty>,<empty>,<empty>" "$R/out"
run -m iface -I uspace
check "iface uspace: iface.transport_name = uspace" grep -qx "iface.transport_name = uspace" "$R/out"

ua_node "$T"
ua_login "$T" --wait-devices
rc=$?
check "login with -I uspace (exit $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || { cat "$R/out" "$R/err"; finish; exit 1; }
check "open-iscsi's login lines" grep -qx "Login to \[iface: uspace, target: $T, portal: 127.0.0.1,$TGTD_PORT\] successful." "$R/out"
check "--wait-devices names the loop device" grep -qx "Attached disks: loop[0-9]*" "$R/out"
sid=$(ua_sid "$T")
check "a session id from the uspace range ($sid)" [ "${sid:-0}" -ge 1000000 ]
dev=$(ua_loop "$sid" 1)
file=$(ua_file "$sid" 1)
check "the announced disk is the session's loop device ($dev)" grep -qx "Attached disks: ${dev#/dev/}" "$R/out"
check "the loop device is 96 MiB" [ "$(blockdev --getsize64 "$dev" 2>/dev/null)" = $((96 << 20)) ]
check "the file is under the root's run directory" [ "$file" = "$RUNDIR/$sid/luns/lun1" ]

# what iscsiadm shows
run -m session
check "-m session: the flat line" grep -qx "uspace: \[$sid\] 127.0.0.1:$TGTD_PORT,1 $T (non-flash)" "$R/out"
run -m session -P 1
check "-m session -P 1 (tests/golden/iscsiadm/uspace_session_p1.txt)" ua_golden uspace_session_p1.txt
run -m session -P 3
check "-m session -P 3 (tests/golden/iscsiadm/uspace_session_p3.txt)" ua_golden uspace_session_p3.txt
run -m session -P 3 --json
rc=$?
check "-m session -P 3 --json (exit $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || cat "$R/err"
check "-m session -P 3 --json is JSON" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$R/out"
check "-m session -P 3 --json (tests/golden/iscsiadm/uspace_session_p3.json)" ua_golden uspace_session_p3.json
run -m session -r "$sid"
check "-m session -r SID: the node record" grep -qx "node.name = $T" "$R/out"
check "... of iface uspace" grep -qx "iface.transport_name = uspace" "$R/out"
run -m node -T "$T" -p "127.0.0.1:$TGTD_PORT" -I uspace --login
check "a second login: 15" [ $? = 15 ]
check "... in open-iscsi's words" grep -qx "iscsiadm: uspace: 1 session requested, but 1 already present." "$R/err"

# 64 MiB through the loop device, compared with tgtd's backing file
head -c $((64 << 20)) /dev/urandom >"$R/data"
check "64 MiB written through $dev" dd if="$R/data" of="$dev" bs=1M oflag=direct status=none
check "tgtd's backing file holds them" cmp -n $((64 << 20)) "$R/data" "$TGTD_DIR/big.img"
check "read back through the loop device" cmp <(dd if="$dev" bs=1M count=64 iflag=direct status=none) "$R/data"
check "read back through the file" cmp <(dd if="$file" bs=64k count=1024 status=none) "$R/data"

# counters through iscsid (-s)
run -m session -r "$sid" -s
rc=$?
check "-m session -r SID -s (exit $rc)" [ "$rc" = 0 ]
check "-s: open-iscsi's header" grep -qx "Stats for session \[sid: $sid, target: $T, portal: 127.0.0.1,$TGTD_PORT\]" "$R/out"
w=$(awk '$1 == "txdata_octets:" { print $2 }' "$R/out")
check "-s counts the 64 MiB written (txdata_octets $w)" [ "${w:-0}" -ge $((64 << 20)) ]
check "-s: libiscsi's own counters under iSCSI Extended" grep -q "^iSCSI Extended:" "$R/out"
check "-s: no I/O errors" grep -qx $'\tio_errors: 0' "$R/out"

# a file system on it
if command -v mkfs.ext4 >/dev/null; then
	check "mkfs.ext4 on $dev" mkfs.ext4 -q -F "$dev"
	mkdir -p "$R/mnt"
	check "mount $dev" mount "$dev" "$R/mnt"
	head -c 5M /dev/urandom >"$R/f"
	cp "$R/f" "$R/mnt/f" && sync
	umount "$R/mnt"
	echo 3 >/proc/sys/vm/drop_caches
	mount "$dev" "$R/mnt"
	check "a file read back after a remount" cmp "$R/f" "$R/mnt/f"
	# iscsid.safe_logout refuses while it is mounted (28), as on the kernel path
	echo "iscsid.safe_logout = Yes" >"$R/iscsid.conf"
	kill -HUP "$DPID"
	sleep 0.3
	run -m session -r "$sid" -u
	check "safe_logout: logout refused while mounted (28)" [ $? = 28 ]
	check "safe_logout: says which device" grep -q "devices in use: $dev" "$R/err"
	umount "$R/mnt"
	check "fsck is clean" bash -c "fsck.ext4 -n '$dev' >/dev/null 2>&1"
	rm -f "$R/iscsid.conf"
	kill -HUP "$DPID"
	sleep 0.3
else
	echo "SKIP: mkfs.ext4 not installed"
fi

# logout
pid=$(cat "$RUNDIR/$sid/pid")
run -m node -T "$T" -p "127.0.0.1:$TGTD_PORT" -I uspace --logout
rc=$?
check "logout (exit $rc)" [ "$rc" = 0 ]
check "open-iscsi's logout line" grep -qx "Logout of \[sid: $sid, target: $T, portal: 127.0.0.1,$TGTD_PORT\] successful." "$R/out"
check "the session process is gone" ua_gone "$pid"
left=$(ua_leftovers)
check "logout leaves no mount, loop device, process or directory" [ -z "$left" ]
[ -z "$left" ] && : || echo "$left"
run -m session
check "-m session: none left (21)" [ $? = 21 ]

# No /dev/fuse (a private mount namespace with an empty /dev): 12, says so.
if command -v unshare >/dev/null; then
	kill -TERM "$DPID"
	wait "$DPID"
	DPID=
	# (the mounts end with '|| exit': an and-list sent to the background
	# whole would make %1 a subshell, and kill %1 left iscsid running)
	unshare -m bash -c "mount --make-rprivate / && mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 || exit 99
		'$ISCSID' -f -d 1 --root '$R' --sysfs-root '$R/sys' --modprobe '$R/modprobe' 2>>'$R/iscsid.log' &
		for i in \$(seq 1 100); do [ -S '$R/iscsid.sock' ] && break; sleep 0.05; done
		'$ADM' --root '$R' --sysfs '$R/sys' -m node -T '$T' -p '127.0.0.1:$TGTD_PORT' -I uspace --login >'$R/out' 2>'$R/err'
		rc=\$?; kill %1; wait; exit \$rc"
	rc=$?
	check "no /dev/fuse: login exits 12 ($rc)" [ "$rc" = 12 ]
	check "no /dev/fuse: says so" grep -q "iSCSI transport 'uspace' not available: it needs FUSE, and /dev/fuse cannot be opened" "$R/err"
	check "no /dev/fuse: no session" [ -z "$(ls -A "$RUNDIR" 2>/dev/null)" ]
fi
finish
