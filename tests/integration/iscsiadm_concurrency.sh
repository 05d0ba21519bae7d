#!/bin/bash
# Twenty iscsiadm processes at once, each creating its own record,
# updating it, and updating one shared record with a key of its own.
# Afterwards every record is there, whole, and the shared record holds
# all twenty updates: none lost to a read-modify-write race, none torn.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
setup_root
N=20
T=iqn.2024-01.org.example.par
SHARED=$T:shared
KEYS=(
	node.session.initial_login_retry_max node.session.nr_sessions
	node.session.timeo.replacement_timeout node.session.err_timeo.abort_timeout
	node.session.err_timeo.lu_reset_timeout node.session.err_timeo.tgt_reset_timeout
	node.session.err_timeo.host_reset_timeout node.session.iscsi.DefaultTime2Retain
	node.session.iscsi.DefaultTime2Wait node.session.reopen_max
	node.conn[0].timeo.logout_timeout node.conn[0].timeo.login_timeout
	node.conn[0].timeo.auth_timeout node.conn[0].timeo.noop_out_interval
	node.conn[0].timeo.noop_out_timeout node.session.queue_depth
	node.conn[0].tcp.window_size node.session.iscsi.MaxConnections
	node.session.iscsi.MaxOutstandingR2T node.conn[0].tcp.type_of_service
)
value() { echo $((2 + $1)); }   # 2..21: in range for every key above

expect_rc 0 -m node -o new -T $SHARED -p 192.0.2.200:3260,1

worker() { # i
	local i=$1
	adm -m node -o new -T $T:n$i -p 192.0.2.$((10 + i)):3260,1 >/dev/null || return 1
	adm -m node -T $T:n$i -o update -n node.session.queue_depth -v $((i + 1)) \
		-n node.startup -v automatic >/dev/null || return 2
	adm -m node -T $SHARED -o update -n "${KEYS[$i]}" -v "$(value "$i")" >/dev/null || return 3
	adm -m node >/dev/null || return 4
}

pids=
for i in $(seq 0 $((N - 1))); do
	worker "$i" 2>"$R/worker.$i.err" &
	pids="$pids $!"
done
i=0
bad=
for p in $pids; do
	wait "$p"
	rc=$?
	[ $rc = 0 ] || bad="$bad $i:step$rc"
	i=$((i + 1))
done
[ -z "$bad" ] || { cat "$R"/worker.*.err; fail "workers failed:$bad"; }

expect_rc 0 -m node
[ "$(wc -l < "$R/out")" = $((N + 1)) ] || { cat "$R/out"; fail "expected $((N + 1)) records"; }
[ -s "$R/err" ] && { cat "$R/err"; fail "reading the records reported problems"; }
for i in $(seq 0 $((N - 1))); do
	expect_rc 0 -m node -T $T:n$i -o show
	expect_out "node.session.queue_depth = $((i + 1))"
	expect_out "node.startup = automatic"
	expect_out "# END RECORD"
done
expect_rc 0 -m node -T $SHARED -o show
for i in $(seq 0 $((N - 1))); do
	grep -qxF "${KEYS[$i]} = $(value "$i")" "$R/out" || { cat "$R/out"; fail "update of ${KEYS[$i]} was lost"; }
done
# no temporary files left behind by the atomic writes
left=$(find "$R/nodes" "$R/static" -name '.*' | head -5)
[ -z "$left" ] || fail "temporary files left: $left"
echo "PASS: $N concurrent iscsiadm processes"
