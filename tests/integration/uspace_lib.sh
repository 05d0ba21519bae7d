# Shared by tests/integration/uspace_*.sh: iscsi-uspace from the build
# tree against tgtd on 127.0.0.1, under a private run directory.
#
#   usp_require            SKIP (77) unless root, tgtd, FUSE and the program
#   usp_record TARGET [key = value lines on stdin appended]
#                          prints a node record for TARGET on the current tgtd
#   usp_start SID FILE    starts a session (iscsi-uspace start); sets USP_RC
#   usp_status SID         the status body
#   usp_field SID KEY      one status value
#   usp_loop SID LUN       the loop device of a LUN
#   usp_file SID LUN       the file of a LUN
#   usp_logout SID
#   usp_leftovers          prints what a session left behind (mounts, loop
#                          devices, processes, directories under USP_RUNDIR)
#   pass/fail/finish       counting

builddir=${builddir:-.}
USP=$(cd "$builddir" && pwd)/uspace/iscsi-uspace
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top_srcdir/tests/lib/tgtd.sh"

USP_PASS=0
USP_FAIL=0
USP_INAME=iqn.2024-01.org.example:uspace-test

pass() { echo "PASS: $*"; USP_PASS=$((USP_PASS + 1)); }
fail() { echo "FAIL: $*"; USP_FAIL=$((USP_FAIL + 1)); }
check() { # <description> <command...>
	local d=$1; shift
	if "$@"; then pass "$d"; else fail "$d"; fi
}
finish() {
	echo "$(basename "$0" .sh): $USP_PASS passed, $USP_FAIL failed"
	[ "$USP_FAIL" = 0 ]
}

usp_require() {
	tgtd_require
	if [ ! -x "$USP" ]; then
		echo "FAIL: $USP not built"
		exit 1
	fi
	if [ ! -c /dev/fuse ]; then
		echo "SKIP: no /dev/fuse on this host"
		exit 77
	fi
	USP_RUNDIR=$(mktemp -d "${TMPDIR:-/tmp}/uspace-run.XXXXXX")
	USP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/uspace-work.XXXXXX")
	export ISCSI_USPACE_RUNDIR=$USP_RUNDIR
}

# The EXIT trap of tgtd.sh calls this: sessions out first (their I/O needs
# tgtd), then whatever a crash left.
test_cleanup() {
	local sid
	for sid in $(ls "$USP_RUNDIR" 2>/dev/null); do
		timeout 20 "$USP" logout --sid "$sid" >/dev/null 2>&1
	done
	for sid in $(ls "$USP_RUNDIR" 2>/dev/null); do
		pkill -KILL -F "$USP_RUNDIR/$sid/pid" 2>/dev/null
	done
	[ -n "${USP_RUNDIR:-}" ] && "$USP" cleanup --all --rundir "$USP_RUNDIR" >/dev/null 2>&1
	rm -rf "${USP_WORK:-/nonexistent}"
	rmdir "$USP_RUNDIR" 2>/dev/null
}

usp_record() { # TARGET [PORT]
	cat <<EOF
node.name = $1
node.tpgt = 1
node.conn[0].address = 127.0.0.1
node.conn[0].port = ${2:-$TGTD_PORT}
iface.iscsi_ifacename = uspace
iface.initiatorname = $USP_INAME
node.conn[0].timeo.noop_out_interval = 2
node.conn[0].timeo.noop_out_timeout = 2
node.conn[0].timeo.login_timeout = 5
node.session.initial_login_retry_max = 1
EOF
	cat
}

usp_start() { # SID RECORD-FILE; output in $USP_WORK/start.SID
	timeout 120 "$USP" start --sid "$1" <"$2" >"$USP_WORK/start.$1" 2>&1
	USP_RC=$?
	return $USP_RC
}

usp_status() { timeout 30 "$USP" status --sid "$1" 2>/dev/null; }
usp_field() { usp_status "$1" | awk -v k="$2" '$1 == k { sub(/^[^ ]* /, ""); print; exit }'; }
usp_lunline() { usp_status "$1" | awk -v l="$2" '$1 == "lun" && $2 == l'; }
usp_loop() { usp_lunline "$1" "$2" | tr ' ' '\n' | sed -n 's/^loop=//p'; }
usp_file() { usp_lunline "$1" "$2" | tr ' ' '\n' | sed -n 's/^file=//p'; }
usp_logout() { timeout 60 "$USP" logout --sid "$1" >/dev/null 2>&1; }

usp_wait_state() { # SID STATE SECONDS
	local i
	for i in $(seq 1 $(($3 * 10))); do
		[ "$(usp_field "$1" state)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# The process answers a logout (and a refused login) as the last thing
# before it exits, so the caller may see it for a moment longer: only the
# process gets up to 3 s; mounts, loop devices and files must be gone.
usp_leftovers() {
	grep -F "$USP_RUNDIR" /proc/mounts
	losetup -l -n -O NAME,BACK-FILE 2>/dev/null | grep -F "$USP_RUNDIR"
	ls -A "$USP_RUNDIR"
	for _ in $(seq 1 30); do
		pgrep -f "iscsi-uspace run .*--rundir $USP_RUNDIR" >/dev/null || return 0
		sleep 0.1
	done
	pgrep -a -f "iscsi-uspace run .*--rundir $USP_RUNDIR"
}
