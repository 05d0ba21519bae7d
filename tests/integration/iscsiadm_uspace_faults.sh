#!/usr/bin/env bash
# Faults under a uspace session made through iscsid and iscsiadm:
#  - tgtd stopped for a few seconds during writes and started again on the
#    same portal: the writes finish with no error and the data is all
#    there; meanwhile -m session -P 1 shows the recovery (TRANSPORT WAIT,
#    FAILED, iscsid's REOPEN), then LOGGED IN again;
#  - a target that misbehaves after login (tests/tools/hostile_target
#    io-* modes): that session's I/O fails with EIO, iscsid and a session
#    to tgtd next to it go on, and the bad session logs out.
set -u
. "${top_srcdir:-.}/tests/integration/iscsiadm_uspace_lib.sh"
ua_require
tgtd_start || exit 1
T=iqn.2024-01.org.example:ufault
PORT=$TGTD_PORT
BACK=$R/back.img
truncate -s 64M "$BACK"
configure() {
	tgtd_target_nolun 1 "$T" &&
		tgtd_adm --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$BACK"
}
configure
start_iscsid
ua_node "$T"
ua_login "$T"
sid=$(ua_sid "$T")
check "login (session $sid)" [ -n "$sid" ]
dev=$(ua_loop "$sid" 1)

# --- the target goes away during writes and comes back
head -c $((48 << 20)) /dev/urandom >"$R/data"
dd if="$R/data" of="$dev" bs=4k oflag=direct status=none 2>"$R/dd.err" &
ddpid=$!
written() { timeout 5 "$USP" stats --sid "$sid" --rundir "$RUNDIR" | awk '$1 == "txdata_octets" { print $2 }'; }
for i in $(seq 1 100); do [ "$(written)" -ge $((1 << 20)) ] && break; sleep 0.02; done
check "the writes are running when tgtd dies" kill -0 "$ddpid"
tgtd_kill
for i in $(seq 1 50); do
	run -m session -P 1
	grep -q "Internal iscsid Session State: REOPEN" "$R/out" && break
	sleep 0.1
done
check "-P 1 while the target is away: TRANSPORT WAIT" grep -q "iSCSI Connection State: TRANSPORT WAIT" "$R/out"
check "-P 1: iSCSI Session State FAILED" grep -q "iSCSI Session State: FAILED" "$R/out"
check "-P 1: iscsid's state REOPEN" grep -q "Internal iscsid Session State: REOPEN" "$R/out"
run -m session -P 3
check "-P 3: the LUN is blocked" grep -q $'Attached scsi disk loop[0-9]*\t\tState: blocked' "$R/out"
sleep 2.5
check "tgtd back on the same portal" tgtd_again configure
wait "$ddpid"
ddrc=$?
check "the writes finished with no I/O error (dd exit $ddrc)" [ "$ddrc" = 0 ]
[ "$ddrc" = 0 ] || cat "$R/dd.err"
check "tgtd's backing file holds all 48 MiB" cmp -n $((48 << 20)) "$R/data" "$BACK"
for i in $(seq 1 100); do
	run -m session -P 1
	grep -q "Internal iscsid Session State: NO CHANGE" "$R/out" && break
	sleep 0.1
done
check "-P 1: LOGGED IN again" grep -q "iSCSI Connection State: LOGGED IN" "$R/out"
check "-P 1: iscsid's state NO CHANGE again" grep -q "Internal iscsid Session State: NO CHANGE" "$R/out"
check "iscsid logged the recovery" grep -q "session $sid \[$T, 127.0.0.1,$PORT\] is operational after recovery" "$R/iscsid.log"
run -m session -r "$sid" -s
check "-s counts the reconnect" grep -qx $'\treconnects: [1-9][0-9]*' "$R/out"
check "-s: no I/O error" grep -qx $'\tio_errors: 0' "$R/out"

# --- hostile targets after login; the tgtd session goes on
HOSTILE=$(pwd)/tests/tools/hostile_target
hpids=""
for mode in io-bad-pdu io-datain-overflow io-huge-dsl io-bad-itt io-r2t-beyond; do
	"$HOSTILE" -m "$mode" >"$R/port.$mode" 2>/dev/null &
	HPIDS="$HPIDS $!"
	for i in $(seq 1 50); do [ -s "$R/port.$mode" ] && break; sleep 0.05; done
	hport=$(head -1 "$R/port.$mode")
	H=iqn.2024-01.org.example.hostile:t0000
	adm -m node -o new -T "$H" -p "127.0.0.1:$hport" -I uspace >/dev/null
	adm -m node -T "$H" -p "127.0.0.1:$hport" -I uspace -o update -n node.session.timeo.replacement_timeout -v 3 \
		-n node.conn[0].timeo.noop_out_interval -v 1 -n node.conn[0].timeo.noop_out_timeout -v 1 >/dev/null
	run -m node -T "$H" -p "127.0.0.1:$hport" -I uspace --login
	rc=$?
	check "$mode: login and scan work (exit $rc)" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || { cat "$R/err"; continue; }
	hsid=$(adm -m session | awk -v p="127.0.0.1:$hport," 'index($3, p) == 1 { gsub(/[][]/, "", $2); print $2 }')
	file=$(ua_file "$hsid" 0)
	if [ "$mode" = io-r2t-beyond ]; then
		io="dd if=/dev/zero of='$file' bs=4k count=1 oflag=direct conv=notrunc status=none"
	else
		io="dd if='$file' of=/dev/null bs=4k count=1 iflag=direct status=none"
	fi
	check "$mode: the I/O fails with EIO" bash -c "! timeout 60 $io 2>'$R/err.$mode' && grep -q 'Input/output error' '$R/err.$mode'"
	check "$mode: iscsid goes on" kill -0 "$DPID"
	check "$mode: the tgtd session goes on" dd if=/dev/zero of="$dev" bs=64k count=4 oflag=direct status=none
	run -m node -T "$H" -p "127.0.0.1:$hport" -I uspace --logout
	check "$mode: the hostile session logs out (exit $?)" [ -z "$(adm -m session | grep ":$hport,")" ]
done
run -m session -P 1
check "the tgtd session is still LOGGED IN" grep -q "iSCSI Connection State: LOGGED IN" "$R/out"
run -m node -T "$T" -p "127.0.0.1:$PORT" -I uspace --logout
check "logout (exit $?)" [ -z "$(ua_sid "$T")" ]
for i in $(seq 1 30); do [ -z "$(ua_leftovers)" ] && break; sleep 0.1; done
check "nothing left" [ -z "$(ua_leftovers)" ]
finish
