#!/usr/bin/env bash
# A target that misbehaves after login (tests/tools/hostile_target io-*
# modes: a bad PDU, too much Data-In, a huge DataSegmentLength, a response
# for an unknown task, an R2T beyond the burst): the userspace session's
# I/O fails with EIO (the connection is dropped, each reconnect meets the
# same target, replacement_timeout ends it), its process does not crash
# and answers status and logout, and a session to tgtd next to it goes on.
set -u
. "${top_srcdir:-.}/tests/integration/uspace_lib.sh"
usp_require
HOSTILE=$(cd "$builddir" && pwd)/tests/tools/hostile_target
[ -x "$HOSTILE" ] || { echo "FAIL: $HOSTILE not built"; exit 1; }
tgtd_start || exit 1
tgtd_target 1 iqn.2024-01.org.example:good
usp_record iqn.2024-01.org.example:good </dev/null >"$USP_WORK/good"
usp_start 1 "$USP_WORK/good"
check "a session to tgtd (exit $USP_RC)" [ "$USP_RC" = 0 ]
good=$(usp_loop 1 1)
hpids=""
hostile_cleanup() { for p in $hpids; do kill "$p" 2>/dev/null; done; }
trap 'hostile_cleanup; tgtd_on_exit' EXIT

sid=10
for mode in io-bad-pdu io-datain-overflow io-huge-dsl io-bad-itt io-r2t-beyond; do
	"$HOSTILE" -m "$mode" >"$USP_WORK/port.$mode" 2>/dev/null &
	hpids="$hpids $!"
	for i in $(seq 1 50); do [ -s "$USP_WORK/port.$mode" ] && break; sleep 0.05; done
	port=$(head -1 "$USP_WORK/port.$mode")
	printf '%s\n' "node.session.timeo.replacement_timeout = 3" "node.conn[0].timeo.noop_out_interval = 1" "node.conn[0].timeo.noop_out_timeout = 1" |
		usp_record iqn.2024-01.org.example.hostile:t0000 "$port" >"$USP_WORK/rec.$mode"
	usp_start $sid "$USP_WORK/rec.$mode"
	check "$mode: login and scan work (exit $USP_RC)" [ "$USP_RC" = 0 ]
	if [ "$USP_RC" != 0 ]; then sed 's/^/    /' "$USP_WORK/start.$sid"; sid=$((sid + 1)); continue; fi
	pid=$(cat "$USP_RUNDIR/$sid/pid")
	file=$(usp_file $sid 0)
	if [ "$mode" = io-r2t-beyond ]; then
		io="dd if=/dev/zero of='$file' bs=4k count=1 oflag=direct conv=notrunc status=none"
	else
		io="dd if='$file' of=/dev/null bs=4k count=1 iflag=direct status=none"
	fi
	check "$mode: the I/O fails with EIO" bash -c "! timeout 60 $io 2>'$USP_WORK/err.$mode' && grep -q 'Input/output error' '$USP_WORK/err.$mode'"
	check "$mode: the session process is alive" kill -0 "$pid"
	check "$mode: and answers status ($(usp_field $sid state))" [ -n "$(usp_field $sid state)" ]
	check "$mode: the tgtd session goes on" dd if=/dev/zero of="$good" bs=64k count=4 oflag=direct status=none
	check "$mode: logout" usp_logout $sid
	sid=$((sid + 1))
done
check "tgtd session still LOGGED_IN" [ "$(usp_field 1 state)" = LOGGED_IN ]
usp_logout 1
check "nothing left" [ -z "$(usp_leftovers)" ]
finish
