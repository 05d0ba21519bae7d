# Shared by tests/integration/iscsiadm_*.sh (sourced, not a test itself).
# Tests run from the build directory; every one works in a temporary
# ISCSI_ROOT and a fake or empty sysfs, never in /etc or /sys.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
ADM=${ADM:-./iscsiadm/iscsiadm}
ISCSID=${ISCSID:-./iscsid/iscsid}
HOSTILE=${HOSTILE:-./tests/tools/hostile_target}
GOLDEN=$top_srcdir/tests/golden/iscsiadm
INAME=iqn.2024-01.org.example:initiator
R=
DPID=
HPIDS=
export LC_ALL=C

. "$top_srcdir/tests/lib/tgtd.sh"

fail() {
	echo "FAIL: $*"
	if [ -n "$R" ] && [ -f "$R/iscsid.log" ]; then
		echo "--- iscsid log"
		tail -20 "$R/iscsid.log"
	fi
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

# Called by tgtd.sh's EXIT trap (or ours when tgtd is not used).
test_cleanup() {
	local p
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	for p in $HPIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "$R" ] && rm -rf "$R"
	R=
}

# A fresh root: initiatorname.iscsi, an empty fake sysfs, no iscsid.conf
# (compiled defaults) unless the test writes one.
setup_root() {
	R=$(mktemp -d "${TMPDIR:-/tmp}/iscsiadm-it.XXXXXX") || fail "mktemp"
	chmod 755 "$R"
	mkdir -p "$R/sys/class"
	echo "InitiatorName=$INAME" > "$R/initiatorname.iscsi"
	trap 'rc=$?; tgtd_stop_all; test_cleanup; exit $rc' EXIT
}

adm() {
	"$ADM" --root "$R" --sysfs "$R/sys" "$@"
}

# Runs iscsiadm, keeps stdout/stderr in $R/out and $R/err, returns its code.
run() {
	"$ADM" --root "$R" --sysfs "$R/sys" "$@" >"$R/out" 2>"$R/err"
}

# expect_rc CODE iscsiadm-args...
expect_rc() {
	local want=$1 got
	shift
	run "$@"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout"; cat "$R/out"; echo "--- stderr"; cat "$R/err"
		fail "iscsiadm $* exited $got, expected $want"
	fi
}

expect_out() { # fixed string expected in $R/out
	grep -qF -- "$1" "$R/out" || { cat "$R/out"; fail "stdout lacks: $1"; }
}

expect_err() { # fixed string expected in $R/err
	grep -qF -- "$1" "$R/err" || { cat "$R/err"; fail "stderr lacks: $1"; }
}

# JSON must parse (python3 when present; the writer's own unit test
# covers escaping either way).
expect_json() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$R/out" ||
			{ cat "$R/out"; fail "stdout is not valid JSON"; }
	fi
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
}

# iscsid from this tree in the foreground under $R (no kernel module:
# its modprobe stand-in always fails).
start_iscsid() {
	printf '#!/bin/sh\nexit 1\n' > "$R/modprobe"
	chmod 755 "$R/modprobe"
	"$ISCSID" -f -d 1 --root "$R" --sysfs-root "$R/sys" --modprobe "$R/modprobe" "$@" \
		2>>"$R/iscsid.log" &
	DPID=$!
	local i
	for i in $(seq 1 100); do
		[ -S "$R/iscsid.sock" ] && return 0
		kill -0 "$DPID" 2>/dev/null || fail "iscsid exited during start-up"
		sleep 0.05
	done
	fail "iscsid did not create its socket"
}

# A scripted hostile peer (tests/tools/hostile_*) in MODE on a free port:
# sets HPORT (what it printed) and HPID; its output in $R/PREFIX.MODE
# (stdout) and $R/PREFIX.MODE.err.
start_hostile_tool() { # PROGRAM PREFIX MODE [COUNT]
	local f="$R/$2.$3" what=${1##*/}
	"$1" -m "$3" ${4:+-n "$4"} >"$f" 2>"$f.err" &
	HPID=$!
	HPIDS="$HPIDS $HPID"
	local i
	for i in $(seq 1 100); do
		HPORT=$(head -1 "$f" 2>/dev/null)
		[ -n "$HPORT" ] && return 0
		sleep 0.02
	done
	fail "$what did not start"
}

# The hostile target in MODE on a free port: sets HPORT.
start_hostile() { # MODE [COUNT]
	start_hostile_tool "$HOSTILE" hostile "$@"
}

# --- fake sysfs (layout of reference/kernel-iscsi-abi.md §3) ---

fs_write() { # REL CONTENT
	mkdir -p "$(dirname "$R/sys/$1")"
	printf '%s\n' "$2" > "$R/sys/$1"
}

fs_host() { # H
	local d=devices/platform/host$1
	fs_write "$d/scsi_host/host$1/state" running
	fs_write "$d/scsi_host/host$1/proc_name" iscsi_tcp
	: > "$R/sys/$d/scsi_host/host$1/scan"
	fs_write "$d/iscsi_host/host$1/ipaddress" "${2:-192.0.2.1}"
	fs_write "$d/iscsi_host/host$1/hwaddress" "(null)"
	fs_write "$d/iscsi_host/host$1/netdev" "(null)"
	fs_write "$d/iscsi_host/host$1/initiatorname" "$INAME"
	mkdir -p "$R/sys/class/scsi_host" "$R/sys/class/iscsi_host"
	ln -s "../../$d/scsi_host/host$1" "$R/sys/class/scsi_host/host$1"
	ln -s "../../$d/iscsi_host/host$1" "$R/sys/class/iscsi_host/host$1"
}

# fs_session H SID TARGET TPGT ADDR PORT [username] [creator]
fs_session() {
	local h=$1 s=$2 d=devices/platform/host$1/session$2
	local b=$d/iscsi_session/session$s a
	fs_write "$b/targetname" "$3"
	fs_write "$b/tpgt" "$4"
	fs_write "$b/state" LOGGED_IN
	fs_write "$b/recovery_tmo" 120
	fs_write "$b/initiatorname" "$INAME"
	fs_write "$b/ifacename" default
	fs_write "$b/target_id" 0
	fs_write "$b/target_state" SCANNED
	fs_write "$b/creator" "${8:-4242}"
	fs_write "$b/username" "${7:-(null)}"
	fs_write "$b/username_in" "(null)"
	fs_write "$b/password" "(null)"
	fs_write "$b/password_in" "(null)"
	fs_write "$b/initial_r2t" 0
	fs_write "$b/immediate_data" 1
	fs_write "$b/first_burst_len" 65536
	fs_write "$b/max_burst_len" 262144
	fs_write "$b/max_outstanding_r2t" 1
	fs_write "$b/data_pdu_in_order" 1
	fs_write "$b/data_seq_in_order" 1
	fs_write "$b/erl" 0
	fs_write "$b/fast_abort" 1
	fs_write "$b/abort_tmo" 15
	fs_write "$b/lu_reset_tmo" 30
	fs_write "$b/tgt_reset_tmo" 30
	ln -s "../../../session$s" "$R/sys/$b/device"
	mkdir -p "$R/sys/class/iscsi_session"
	ln -s "../../$b" "$R/sys/class/iscsi_session/session$s"
	local c=$d/connection$s:0/iscsi_connection/connection$s:0
	fs_write "$c/address" "$5"
	fs_write "$c/port" "$6"
	fs_write "$c/persistent_address" "$5"
	fs_write "$c/persistent_port" "$6"
	fs_write "$c/state" up
	fs_write "$c/exp_statsn" 7
	fs_write "$c/max_recv_dlength" 262144
	fs_write "$c/max_xmit_dlength" 65536
	fs_write "$c/header_digest" 0
	fs_write "$c/data_digest" 0
	fs_write "$c/local_port" 51234
	ln -s "../../../connection$s:0" "$R/sys/$c/device"
	mkdir -p "$R/sys/class/iscsi_connection"
	ln -s "../../$c" "$R/sys/class/iscsi_connection/connection$s:0"
}

fs_lun() { # H SID LUN STATE [BLOCK]
	local t=devices/platform/host$1/session$2/target$1:0:0
	local l=$t/$1:0:0:$3
	fs_write "$l/state" "$4"
	fs_write "$l/type" 0
	mkdir -p "$R/sys/bus/scsi/devices"
	ln -s "../../../$l" "$R/sys/bus/scsi/devices/$1:0:0:$3"
	if [ -n "${5:-}" ]; then
		fs_write "$l/block/$5/dev" 8:16
		ln -s "../../../$1:0:0:$3" "$R/sys/$l/block/$5/device"
		mkdir -p "$R/sys/class/block"
		ln -s "../../$l/block/$5" "$R/sys/class/block/$5"
	fi
}

# compare_golden NAME: $R/out against tests/golden/iscsiadm/NAME, after
# replacing this build's version with @VERSION@.
compare_golden() {
	sed -e 's/^version .*/version @VERSION@/' "$R/out" > "$R/out.norm"
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		cp "$R/out.norm" "$GOLDEN/$1"
		return 0
	fi
	diff -u "$GOLDEN/$1" "$R/out.norm" || fail "output differs from golden file $1"
}
