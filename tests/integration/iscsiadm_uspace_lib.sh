# Shared by tests/integration/iscsiadm_uspace*.sh: the userspace transport
# the way a user drives it, iscsiadm -> iscsid -> iscsi-uspace (all from
# the build tree), against tgtd on 127.0.0.1, under a temporary root (the
# uspace run directory is $R/uspace).
#
#   ua_require             SKIP (77) unless root, tgtd and /dev/fuse; the root
#   ua_node T [PORT]       a node record for T through iface uspace
#   ua_login T [args]      iscsiadm --login for it; output in $R/out, $R/err
#   ua_sid T               the sid of the session to T (from -m session)
#   ua_status SID          the session process's status
#   ua_loop SID LUN, ua_file SID LUN
#   ua_leftovers           what sessions left: mounts, loop devices,
#                          processes, directories under $R/uspace
#   check/finish           counting (iscsiadm_lib's fail() stops the test)

. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
USP=$(pwd)/uspace/iscsi-uspace
UA_PASS=0
UA_FAIL=0

check() { # <description> <command...>
	local d=$1
	shift
	if "$@"; then
		echo "PASS: $d"
		UA_PASS=$((UA_PASS + 1))
	else
		echo "FAIL: $d"
		UA_FAIL=$((UA_FAIL + 1))
	fi
}

finish() {
	echo "$(basename "$0" .sh): $UA_PASS passed, $UA_FAIL failed"
	[ "$UA_FAIL" = 0 ] || { echo "--- iscsid log (end)"; tail -n 30 "$R/iscsid.log"; }
	[ "$UA_FAIL" = 0 ]
}

ua_require() {
	need_root
	tgtd_require
	[ -c /dev/fuse ] || skip "no /dev/fuse on this host"
	[ -x "$USP" ] || { echo "FAIL: $USP not built"; exit 1; }
	setup_root
	# iscsid runs the build tree's iscsi-uspace; its run directory
	# follows the root
	export ISCSI_USPACE_PROGRAM=$USP
	unset ISCSI_USPACE_RUNDIR
	RUNDIR=$R/uspace
}

# The EXIT trap (tgtd.sh's, replaced): sessions out while their target is
# still there, then whatever a crash left, then tgtd and the root.
tgtd_on_exit() {
	local rc=$? sid
	for sid in $(ls "$RUNDIR" 2>/dev/null); do
		timeout 30 "$USP" logout --sid "$sid" --rundir "$RUNDIR" >/dev/null 2>&1
	done
	for sid in $(ls "$RUNDIR" 2>/dev/null); do
		[ -f "$RUNDIR/$sid/pid" ] && kill -KILL "$(cat "$RUNDIR/$sid/pid")" 2>/dev/null
	done
	[ -d "$RUNDIR" ] && "$USP" cleanup --all --rundir "$RUNDIR" >/dev/null 2>&1
	tgtd_stop_all
	test_cleanup
	exit $rc
}

ua_node() { # TARGET [PORT]: a static record through iface uspace
	adm -m node -o new -T "$1" -p "127.0.0.1:${2:-$TGTD_PORT}" -I "${IFACE:-uspace}" >/dev/null &&
		adm -m node -T "$1" -p "127.0.0.1:${2:-$TGTD_PORT}" -I "${IFACE:-uspace}" -o update \
			-n node.conn[0].timeo.noop_out_interval -v 2 -n node.conn[0].timeo.noop_out_timeout -v 2 \
			-n node.conn[0].timeo.login_timeout -v 5 -n node.session.initial_login_retry_max -v 1 >/dev/null
}

ua_login() { # TARGET [iscsiadm args]
	local t=$1
	shift
	run -m node -T "$t" -p "127.0.0.1:$TGTD_PORT" -I uspace --login "$@"
}

ua_sid() { adm -m session 2>/dev/null | awk -v t="$1" '$1 == "uspace:" && $4 == t { gsub(/[][]/, "", $2); print $2; exit }'; }
ua_status() { timeout 30 "$USP" status --sid "$1" --rundir "$RUNDIR" 2>/dev/null; }
ua_lunline() { ua_status "$1" | awk -v l="$2" '$1 == "lun" && $2 == l'; }
ua_loop() { ua_lunline "$1" "$2" | tr ' ' '\n' | sed -n 's/^loop=//p'; }
ua_file() { ua_lunline "$1" "$2" | tr ' ' '\n' | sed -n 's/^file=//p'; }

# iscsid killed as a crash would; its socket stays behind, and would make
# start_iscsid return before the next iscsid listens.
ua_kill_iscsid() {
	disown "$DPID" 2>/dev/null
	kill -KILL "$DPID"
	ua_gone "$DPID"
	DPID=
	rm -f "$R/iscsid.sock"
}

# A process counts as gone when it is a zombie too (its parent, init,
# reaps it when it gets to it).
ua_gone() { # PID [SECONDS]
	local i
	for i in $(seq 1 $((${2:-5} * 10))); do
		[ -e "/proc/$1" ] || return 0
		grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

ua_leftovers() {
	grep -F "$RUNDIR" /proc/mounts
	losetup -l -n -O NAME,BACK-FILE 2>/dev/null | grep -F "$RUNDIR"
	pgrep -a -f "iscsi-uspace run .*--rundir $RUNDIR"
	ls -A "$RUNDIR" 2>/dev/null
}

# Compares $R/out with a golden file after replacing what differs from
# run to run: the port, the root, loop device numbers.
ua_golden() { # FILE
	sed -e "s|$R|@ROOT@|g" -e "s|127\.0\.0\.1:$TGTD_PORT|127.0.0.1:@PORT@|g" \
		-e "s|127\.0\.0\.1,$TGTD_PORT|127.0.0.1,@PORT@|g" -e "s|\"port\": $TGTD_PORT|\"port\": @PORT@|g" \
		-e 's/loop[0-9][0-9]*/loopN/g' "$R/out" >"$R/out.golden"
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		cp "$R/out.golden" "$GOLDEN/$1"
		return 0
	fi
	diff -u "$GOLDEN/$1" "$R/out.golden"
}
