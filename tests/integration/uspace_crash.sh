#!/usr/bin/env bash
# A userspace session process that dies: SIGKILL of one session leaves the
# others working; its dead mount and loop devices are removed by an
# explicit cleanup or by the next start of the same session; SIGTERM logs
# out cleanly; a host without /dev/fuse (a private mount namespace hides
# it) gets a clear message and exit 12, with nothing created.
set -u
. "${top_srcdir:-.}/tests/integration/uspace_lib.sh"
usp_require
tgtd_start || exit 1
I=iqn.2024-01.org.example
tgtd_target 1 "$I:a"
tgtd_target 2 "$I:b"
usp_record "$I:a" </dev/null >"$USP_WORK/ra"
usp_record "$I:b" </dev/null >"$USP_WORK/rb"
usp_start 1 "$USP_WORK/ra"
check "session 1 (exit $USP_RC)" [ "$USP_RC" = 0 ]
usp_start 2 "$USP_WORK/rb"
check "session 2 (exit $USP_RC)" [ "$USP_RC" = 0 ]
pid1=$(cat "$USP_RUNDIR/1/pid")
pid2=$(cat "$USP_RUNDIR/2/pid")
check "each session has its own process" [ -n "$pid1" -a -n "$pid2" -a "$pid1" != "$pid2" ]
check "a session process is in a session of its own (setsid)" [ "$(ps -o sid= -p "$pid1")" != "$(ps -o sid= -p $$)" -a "$(ps -o ppid= -p "$pid1" | tr -d " ")" != $$ ]
loop1=$(usp_loop 1 1)
loop2=$(usp_loop 2 1)

# Session 2 writes while session 1 is killed.
dd if=/dev/urandom of="$USP_WORK/d" bs=1M count=8 status=none
dd if="$USP_WORK/d" of="$loop2" bs=64k oflag=direct status=none 2>"$USP_WORK/dd2.err" &
ddpid=$!
kill -KILL "$pid1"
wait "$ddpid"
check "session 2's writes went on (dd exit $?)" [ ! -s "$USP_WORK/dd2.err" ]
check "session 2 is still LOGGED_IN" [ "$(usp_field 2 state)" = LOGGED_IN ]
check "its data reached tgtd" cmp -n $((8 << 20)) "$USP_WORK/d" "$TGTD_DIR/lun2.1.img"
check "list: 1 dead, 2 running" [ "$("$USP" list | awk '{ print $1 $3 }' | tr '\n' ' ')" = "1dead 2running " ]
check "session 1 left its loop device" bash -c "losetup -l -n -O BACK-FILE | grep -q '$USP_RUNDIR/1/'"
check "status of the dead session: 2" bash -c "'$USP' status --sid 1 >/dev/null 2>&1; [ \$? = 2 ]"
check "cleanup of a running session is refused (28)" bash -c "'$USP' cleanup --sid 2 >/dev/null 2>&1; [ \$? = 28 ]"
check "cleanup of session 1" "$USP" cleanup --sid 1
check "no mount of session 1" bash -c "! grep -qF '$USP_RUNDIR/1/' /proc/mounts"
check "no loop device of session 1" bash -c "! losetup -l -n -O BACK-FILE | grep -q '$USP_RUNDIR/1/'"
check "its directory is gone" [ ! -e "$USP_RUNDIR/1" ]
check "session 2 unaffected by the cleanup" dd if="$loop2" of=/dev/null bs=64k count=16 iflag=direct status=none

# Killed again; this time the next start cleans up.
usp_start 1 "$USP_WORK/ra"
check "session 1 again (exit $USP_RC)" [ "$USP_RC" = 0 ]
kill -KILL "$(cat "$USP_RUNDIR/1/pid")"
sleep 0.3
usp_start 1 "$USP_WORK/ra"
check "start over a killed session 1 (exit $USP_RC)" [ "$USP_RC" = 0 ]
check "exactly one loop device for session 1" [ "$(losetup -l -n -O BACK-FILE | grep -c "$USP_RUNDIR/1/")" = 1 ]
check "exactly one mount for session 1" [ "$(grep -cF "$USP_RUNDIR/1/" /proc/mounts)" = 1 ]
check "and it works" dd if=/dev/zero of="$(usp_loop 1 1)" bs=64k count=16 oflag=direct status=none

# SIGTERM: a clean logout.
pid1=$(cat "$USP_RUNDIR/1/pid")
kill -TERM "$pid1"
for i in $(seq 1 100); do kill -0 "$pid1" 2>/dev/null || break; sleep 0.1; done
check "SIGTERM: the process exits" bash -c "! kill -0 $pid1 2>/dev/null"
check "SIGTERM: no mount, loop device or directory of session 1" \
	bash -c "! grep -qF '$USP_RUNDIR/1/' /proc/mounts && ! losetup -l -n -O BACK-FILE | grep -q '$USP_RUNDIR/1/' && [ ! -e '$USP_RUNDIR/1' ]"
check "logout session 2" usp_logout 2
check "nothing left" [ -z "$(usp_leftovers)" ]

# No /dev/fuse: a private mount namespace with an empty /dev.
if command -v unshare >/dev/null; then
	unshare -m bash -c "mount --make-rprivate / && mount -t tmpfs tmpfs /dev && mknod -m 666 /dev/null c 1 3 &&
		'$USP' run --sid 7 --rundir '$USP_RUNDIR' <'$USP_WORK/ra' >'$USP_WORK/nofuse' 2>&1"
	rc=$?
	check "no /dev/fuse: exit 12 ($rc)" [ "$rc" = 12 ]
	check "no /dev/fuse: says so" grep -q "/dev/fuse" "$USP_WORK/nofuse"
	check "no /dev/fuse: nothing created" [ ! -e "$USP_RUNDIR/7" ]
fi
finish
