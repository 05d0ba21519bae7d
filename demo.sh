#!/usr/bin/env bash
# The main job, end to end: an iSCSI target, discovery, login, the disk
# appearing, I/O with checksums, logout, with this project's iscsid and
# iscsiadm.  Run as root on Debian 12: ./demo.sh
#
#   ./demo.sh --uspace   the userspace transport instead, natively on any
#                        kernel with FUSE and loop devices (no iscsi_tcp, no
#                        VM): iscsiadm -I uspace, libiscsi in an iscsi-uspace
#                        process, the LUN as a loop device and a file
#
# Installs what it needs with apt-get and builds the project into build/.
# Where the running kernel has iscsi_tcp (and tgtd is available) it runs
# natively against a throwaway tgtd target on 127.0.0.1; elsewhere (a
# container, a kernel without the module) it boots Debian's cloud kernel in
# qemu and runs the same steps there against the kernel's LIO target.
#
# Environment:
#   INITIATOR=ours       (default) build/iscsid/iscsid + build/iscsiadm/iscsiadm
#   INITIATOR=openiscsi  Debian's open-iscsi instead (for comparison)
#   DEMO_MODE=auto|native|vm|uspace   (default auto; --uspace is uspace)
#   ISCSID, ISCSIADM     use these binaries instead of building
#   ISCSI_USPACE_PROGRAM iscsi-uspace to run (uspace mode; default: the build's)
set -uo pipefail

top=$(cd "$(dirname "$0")" && pwd)
cd "$top" || exit 1
initiator=${INITIATOR:-ours}
mode=${DEMO_MODE:-auto}
for arg in "$@"; do
	case $arg in
	--uspace) mode=uspace ;;
	-h|--help) sed -n '2,/^set -uo/{/^set -uo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) echo "usage: $0 [--uspace]" >&2; exit 2 ;;
	esac
done

if [ -t 1 ]; then bold=$'\033[1m'; off=$'\033[0m'; else bold=; off=; fi
heading() { printf '\n%s=== %s%s\n' "$bold" "$*" "$off"; }
die() { printf '\n%sDEMO FAILED:%s %s\n' "$bold" "$off" "$*" >&2; exit 1; }
# io_check DISK: 8 MiB of random data written to /dev/DISK, read back,
# and found in tgtd's backing file of LUN 1 of target 1.
io_check() {
	local disk=$1 pattern a b c
	heading "4. I/O: 8 MiB of random data through /dev/$disk"
	pattern=$(mktemp /tmp/demo-pattern.XXXXXX)
	dd if=/dev/urandom of="$pattern" bs=1M count=8 status=none
	echo "# dd if=$pattern of=/dev/$disk bs=1M oflag=direct"
	dd if="$pattern" of="/dev/$disk" bs=1M oflag=direct || die "write failed"
	a=$(sha256sum <"$pattern" | cut -d' ' -f1)
	b=$(dd if="/dev/$disk" bs=1M count=8 iflag=direct status=none | sha256sum | cut -d' ' -f1)
	c=$(dd if="$TGTD_DIR/lun1.1.img" bs=1M count=8 status=none | sha256sum | cut -d' ' -f1)
	rm -f "$pattern"
	echo "written:                   $a"
	echo "read back from /dev/$disk: $b"
	echo "tgtd's backing file:       $c"
	[ "$a" = "$b" ] && [ "$a" = "$c" ] || die "checksums differ"
	echo "checksums match"
}

case $initiator in ours|openiscsi) ;; *) die "INITIATOR must be ours or openiscsi" ;; esac
[ "$mode" = uspace ] && [ "$initiator" = openiscsi ] &&
	die "open-iscsi has no userspace transport (without iscsi_tcp its login exits 12)"
[ "$(id -u)" = 0 ] || die "run as root (it installs packages, loads modules, logs in to a target)"

. tests/lib/deps.sh

heading "Dependencies"
groups=""
[ "$initiator" = ours ] && groups="build"
[ "$initiator" = openiscsi ] && groups="bench"
deps_install $groups || die "apt-get could not install: $groups"
echo "ok"

# --- which mode --------------------------------------------------------
kernel_has_iscsi_tcp() {
	[ -d /sys/module/iscsi_tcp ] && return 0
	modprobe -q -n iscsi_tcp 2>/dev/null && modprobe -q iscsi_tcp 2>/dev/null &&
		[ -d /sys/module/iscsi_tcp ]
}
if [ "$mode" = auto ]; then
	if kernel_has_iscsi_tcp; then
		deps_install test || die "apt-get could not install the test tools (tgt)"
		if command -v tgtd >/dev/null && command -v tgtadm >/dev/null; then mode=native; else mode=vm; fi
	else
		mode=vm
	fi
fi
case $mode in
native|uspace) deps_install test || die "apt-get could not install tgt" ;;
vm) deps_install vm || die "apt-get could not install the VM tools" ;;
*) die "DEMO_MODE must be auto, native, vm or uspace" ;;
esac

# --- build ---------------------------------------------------------------
if [ "$initiator" = ours ]; then
	if [ -n "${ISCSID:-}" ] && [ -n "${ISCSIADM:-}" ]; then
		heading "Using $ISCSID and $ISCSIADM"
	else
		heading "Building the project into build/"
		jobs=$(nproc 2>/dev/null || echo 2)
		{ [ -x configure ] || ./autogen.sh; } >/tmp/demo-build.log 2>&1 &&
			mkdir -p build && cd build &&
			{ [ -f Makefile ] || ../configure; } >>/tmp/demo-build.log 2>&1 &&
			make -j"$jobs" >>/tmp/demo-build.log 2>&1
		brc=$?
		cd "$top" || exit 1
		[ "$brc" = 0 ] || { tail -n 30 /tmp/demo-build.log; die "build failed (log: /tmp/demo-build.log)"; }
		ISCSID=$top/build/iscsid/iscsid
		ISCSIADM=$top/build/iscsiadm/iscsiadm
		: "${ISCSI_USPACE_PROGRAM:=$top/build/uspace/iscsi-uspace}"
		echo "built $ISCSID and $ISCSIADM"
	fi
	[ -x "$ISCSID" ] && [ -x "$ISCSIADM" ] || die "$ISCSID or $ISCSIADM missing after the build"
fi

# --- uspace mode -----------------------------------------------------------
# The userspace transport: no kernel initiator at all. iscsid starts an
# iscsi-uspace process (libiscsi) for the session; the LUN is a file on a
# FUSE mount and a loop device on top of it.
if [ "$mode" = uspace ]; then
	: "${ISCSI_USPACE_PROGRAM:=$top/build/uspace/iscsi-uspace}"
	export ISCSI_USPACE_PROGRAM
	[ -x "$ISCSI_USPACE_PROGRAM" ] || die "$ISCSI_USPACE_PROGRAM missing"
	[ -c /dev/fuse ] || modprobe -q fuse 2>/dev/null
	[ -c /dev/fuse ] || die "no /dev/fuse: the userspace transport needs FUSE (modprobe fuse, or give the container /dev/fuse)"
	heading "Userspace transport: kernel $(uname -r)$([ -d /sys/module/iscsi_tcp ] || echo ' without iscsi_tcp'), libiscsi + FUSE + loop, tgtd on 127.0.0.1"
	die() {
		printf '\n%sDEMO FAILED:%s %s\n' "$bold" "$off" "$*" >&2
		[ -n "${root:-}" ] && [ -s "$root/iscsid.log" ] && { echo "--- iscsid log:"; tail -n 15 "$root/iscsid.log"; } >&2
		exit 1
	}
	. tests/lib/tgtd.sh
	IQN=iqn.2003-01.org.example.demo:disk1
	root=$(mktemp -d /tmp/iscsi-demo.XXXXXX)
	dpid=
	iadm() { "$ISCSIADM" --root "$root" "$@"; }
	test_cleanup() { # called by tgtd's EXIT trap: sessions out first
		if [ -n "$dpid" ]; then
			iadm -m session -u >/dev/null 2>&1
			kill "$dpid" 2>/dev/null
			wait "$dpid" 2>/dev/null
		fi
		for d in "$root"/uspace/*/; do
			[ -d "$d" ] && "$ISCSI_USPACE_PROGRAM" logout --sid "$(basename "$d")" --rundir "$root/uspace" >/dev/null 2>&1
		done
		rm -rf "$root"
	}
	tgtd_start 127.0.0.1 || die "tgtd did not start"
	tgtd_target 1 "$IQN" 1 || die "tgtd target setup"
	portal=127.0.0.1:$TGTD_PORT
	echo "tgtd target $IQN on $portal: LUN 1 = 16 MiB file"
	echo "InitiatorName=iqn.2003-01.org.example.demo:initiator" >"$root/initiatorname.iscsi"
	setsid "$ISCSID" -f --root "$root" >"$root/iscsid.log" 2>&1 &
	dpid=$!
	for _ in $(seq 1 100); do [ -S "$root/iscsid.sock" ] && break; sleep 0.1; done
	[ -S "$root/iscsid.sock" ] || die "iscsid did not start: $(cat "$root/iscsid.log")"
	echo "iscsid running (pid $dpid), files under $root, sessions under $root/uspace"
	run() { echo "# iscsiadm $*"; iadm "$@"; }

	heading "1. The built-in iface uspace"
	run -m iface | grep -E '^(default|uspace) '

	heading "2. Discovery (SendTargets) through it"
	run -m discovery -t st -p "$portal" -I uspace || die "discovery exited $?"

	heading "3. Login with libiscsi"
	out=$(run -m node -T "$IQN" -p "$portal" -I uspace --login --wait-devices) || { echo "$out"; die "login exited $?"; }
	echo "$out"
	disk=$(echo "$out" | sed -n 's/^Attached disks: \([^ ]*\).*/\1/p')
	[ -b "/dev/$disk" ] || die "no loop device after login"
	run -m session
	echo
	run -m session -P 3 | sed -n '/^Target:/p;/Iface Transport/p;/SID:/p;/Session State/p;/Attached SCSI devices/,$p'
	echo
	sid=$(iadm -m session | sed -n 's/^uspace: \[\([0-9]*\)\].*/\1/p' | head -1)
	pid=$(cat "$root/uspace/$sid/pid")
	echo "the session runs in process $pid: $(tr '\0' ' ' </proc/$pid/cmdline)"
	losetup -l "/dev/$disk"

	io_check "$disk"
	run -m session -r "$sid" -s | sed -n '1,5p;/io_errors/p'

	heading "5. iscsid restarts; the session does not notice"
	kill "$dpid"
	wait "$dpid" 2>/dev/null
	echo "iscsid stopped; the session goes on: $(dd if="/dev/$disk" bs=1M count=1 iflag=direct status=none | wc -c) bytes read"
	setsid "$ISCSID" -f --root "$root" >>"$root/iscsid.log" 2>&1 &
	dpid=$!
	for _ in $(seq 1 100); do iadm -m session -P 1 2>/dev/null | grep -q "Internal iscsid Session State: NO CHANGE" && break; sleep 0.1; done
	grep "adopted session" "$root/iscsid.log" | sed 's/^iscsid: //'
	run -m session -P 1 | grep -E 'SID|State'

	heading "6. Logout"
	run -m node -T "$IQN" -p "$portal" -I uspace --logout || die "logout exited $?"
	for _ in $(seq 1 50); do losetup "/dev/$disk" >/dev/null 2>&1 || break; sleep 0.1; done
	losetup "/dev/$disk" >/dev/null 2>&1 && die "/dev/$disk still attached after logout"
	grep -qF "$root/uspace" /proc/mounts && die "the FUSE mount is still there after logout"
	echo "/dev/$disk detached, FUSE mount gone, process $pid ended"
	heading "Demo OK"
	exit 0
fi

# --- VM mode -------------------------------------------------------------
if [ "$mode" = vm ]; then
	heading "This kernel ($(uname -r)) has no iscsi_tcp here: booting Debian's cloud kernel in qemu"
	vm=$top/tests/vm
	cache=${VM_CACHE:-$vm/.cache}
	"$vm/fetch-kernel.sh" >/dev/null || die "cannot fetch the VM kernel"
	if [ "$initiator" = ours ]; then
		bins=(--add-bin "$ISCSID:/opt/ours/iscsid" --add-bin "$ISCSIADM:/opt/ours/iscsiadm")
	else
		bins=(--add-bin /usr/sbin/iscsid --add-bin /usr/sbin/iscsiadm)
	fi
	"$vm/build-initramfs.sh" -o "$cache/demo.cpio.gz" --script "$vm/guest/demo-guest.sh" \
		--add "$vm/guest/initiator.sh:/lib/vmtest/initiator.sh" "${bins[@]}" >/dev/null 2>"$cache/demo-initramfs.err" ||
		{ cat "$cache/demo-initramfs.err" >&2; die "build-initramfs.sh failed"; }
	echo "kernel $(sed -n 's/^KERNEL_VERSION=//p' "$cache/kernel.env"), qemu TCG; serial log $cache/demo.log"
	# Show the guest's own output live: what lies between the start and exit
	# markers, without the console's CRs and escape sequences.
	"$vm/run-vm.sh" --initrd "$cache/demo.cpio.gz" --log "$cache/demo.log" --timeout 300 \
		--append "INITIATOR=$initiator" 2>/dev/null |
		tr -d '\r' | sed -u -n '/VMTEST-START/,/VMTEST-EXIT/{/^VMTEST-DMESG-BEGIN/,/^VMTEST-DMESG-END/d;/VMTEST-/d;p}'
	rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] || die "the VM demo exited $rc (serial log: $cache/demo.log)"
	exit 0
fi

# --- native mode -----------------------------------------------------------
heading "Native mode: kernel $(uname -r) with iscsi_tcp, a throwaway tgtd target on 127.0.0.1"
# From here on a failure also shows the end of our iscsid's log.
die() {
	printf '\n%sDEMO FAILED:%s %s\n' "$bold" "$off" "$*" >&2
	[ -n "${root:-}" ] && [ -s "$root/iscsid.log" ] && { echo "--- iscsid log:"; tail -n 15 "$root/iscsid.log"; } >&2
	exit 1
}
. tests/lib/tgtd.sh
IQN=iqn.2003-01.org.example.demo:disk1
root=
dpid=
test_cleanup() { # called by tgtd's EXIT trap
	if [ -n "$dpid" ]; then
		iadm -m node -T "$IQN" -p "$portal" --logout >/dev/null 2>&1
		[ "$initiator" = openiscsi ] && iadm -m node -T "$IQN" -p "$portal" -o delete >/dev/null 2>&1
		if [ "$dpid" != system ]; then kill "$dpid" 2>/dev/null; wait "$dpid" 2>/dev/null; fi
	fi
	[ -n "$root" ] && rm -rf "$root"
}
tgtd_start 127.0.0.1 || die "tgtd did not start"
tgtd_target 1 "$IQN" 1 || die "tgtd target setup"
portal=127.0.0.1:$TGTD_PORT
echo "tgtd target $IQN on $portal: LUN 1 = 16 MiB file"

if [ "$initiator" = ours ]; then
	root=$(mktemp -d /tmp/iscsi-demo.XXXXXX)
	echo "InitiatorName=iqn.2003-01.org.example.demo:initiator" >"$root/initiatorname.iscsi"
	printf 'node.startup = manual\nnode.session.scan = auto\n' >"$root/iscsid.conf"
	iadm() { "$ISCSIADM" --root "$root" "$@"; }
	# Own session: an iscsid may signal its process group when it exits.
	setsid "$ISCSID" -f --root "$root" >"$root/iscsid.log" 2>&1 &
	dpid=$!
	for _ in $(seq 1 100); do [ -S "$root/iscsid.sock" ] && break; sleep 0.1; done
	[ -S "$root/iscsid.sock" ] || die "iscsid did not start: $(cat "$root/iscsid.log")"
	echo "iscsid running (pid $dpid), files under $root"
else
	iadm() { iscsiadm "$@"; }
	if pidof iscsid >/dev/null; then
		dpid=system
	else
		setsid iscsid -f >/tmp/demo-iscsid.log 2>&1 &
		dpid=$!
		sleep 1
	fi
fi
run() { echo "# iscsiadm $*"; iadm "$@"; }

heading "1. Discovery (SendTargets)"
run -m discovery -t st -p "$portal" || die "discovery exited $?"

heading "2. Login"
run -m node -T "$IQN" -p "$portal" --login || die "login exited $?"

heading "3. The disk appears"
disk=
for _ in $(seq 1 300); do
	for s in /sys/class/iscsi_session/session*; do
		[ "$(cat "$s/targetname" 2>/dev/null)" = "$IQN" ] || continue
		for d in "$s"/device/target*/*:*:*:*/block/*; do
			[ -e "$d" ] && [ -b "/dev/${d##*/}" ] && disk=${d##*/}
		done
	done
	[ -n "$disk" ] && break
	sleep 0.1
done
[ -n "$disk" ] || die "no disk 30 s after login"
run -m session
echo
run -m session -P 3 | sed -n '/^Target:/p;/SID:/p;/Session State/p;/Negotiated/,/MaxOutstanding/p;/Attached SCSI devices/,$p'
echo
ls -l "/dev/$disk"
echo "/dev/$disk: $(blockdev --getsize64 "/dev/$disk") bytes"

io_check "$disk"

heading "5. Logout"
run -m node -T "$IQN" -p "$portal" --logout || die "logout exited $?"
for _ in $(seq 1 150); do [ -e "/dev/$disk" ] || break; sleep 0.1; done
[ ! -e "/dev/$disk" ] || die "/dev/$disk still there after logout"
echo "/dev/$disk is gone"
heading "Demo OK"
