#!/bin/sh
# Guest half of ./demo.sh in VM mode (busybox sh): an LIO target on
# 127.0.0.1, then discovery, login, the disk, I/O with checksums, logout,
# with the initiator chosen by INITIATOR (see initiator.sh).
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

IQN=iqn.2003-01.org.example.demo:disk1
BACKING=$LIO_BACKING_DIR/disk1_0.img

heading() { printf '\n=== %s\n' "$*"; }
# run ARGS...: show the iscsiadm command line as a user would type it, run it.
run() {
    echo "# iscsiadm $*"
    iadm "$@"
}
die() { echo "DEMO FAILED: $*"; [ -s "$INIT_LOG" ] && tail -n 15 "$INIT_LOG"; exit 1; }

case $INITIATOR in
ours) who="this project's iscsid + iscsiadm (files under $INIT_ROOT)" ;;
*) who="Debian's open-iscsi" ;;
esac
heading "Setup: kernel $(uname -r), iscsi_tcp + LIO loaded; initiator: $who"
lio_simple_target "$IQN" 64M || die "LIO target setup"
echo "LIO target $IQN on $PORTAL: LUN 0 = 64 MiB file $BACKING"
init_start || die "iscsid did not start"
echo "iscsid running (pid $(init_pid)), initiator name $INIT_NAME"

heading "1. Discovery (SendTargets)"
run -m discovery -t st -p "$PORTAL" || die "discovery exited $?"

heading "2. Login"
run -m node -T "$IQN" -p "$PORTAL" --login || die "login exited $?"

heading "3. The disk appears"
wait_for_disks 1 30 || die "no disk 30 s after login"
disk=$(all_disks)
run -m session || die "-m session exited $?"
echo
run -m session -P 3 | sed -n '/^Target:/p;/SID:/p;/Session State/p;/Negotiated/,/MaxOutstanding/p;/Attached SCSI devices/,$p'
echo
ls -l "/dev/$disk"
echo "/dev/$disk: $(disk_bytes "$disk") bytes"

heading "4. I/O: 8 MiB of random data through /dev/$disk"
dd if=/dev/urandom of=/tmp/pattern bs=1M count=8 2>/dev/null
echo "# dd if=/tmp/pattern of=/dev/$disk bs=1M oflag=direct"
dd if=/tmp/pattern of="/dev/$disk" bs=1M oflag=direct || die "write failed"
echo "# dd if=/dev/$disk bs=1M count=8 iflag=direct | sha256sum"
a=$(sha256sum </tmp/pattern | cut -d' ' -f1)
b=$(dd if="/dev/$disk" bs=1M count=8 iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
c=$(dd if="$BACKING" bs=1M count=8 2>/dev/null | sha256sum | cut -d' ' -f1)
echo "written:                 $a"
echo "read back from /dev/$disk: $b"
echo "target's backing file:   $c"
[ "$a" = "$b" ] && [ "$a" = "$c" ] || die "checksums differ"
echo "checksums match"

heading "5. Logout"
run -m node -T "$IQN" -p "$PORTAL" --logout || die "logout exited $?"
wait_no_sessions 15 || die "session or disk left after logout"
[ ! -e "/dev/$disk" ] || die "/dev/$disk still there"
echo "/dev/$disk is gone; no iSCSI session left"
init_stop
heading "Demo OK"
