#!/bin/bash
# Misbehaving clients cannot stop iscsid from serving others: an
# oversized message is answered and dropped, a client that stalls in the
# middle of a request is dropped after 5 s without delaying anyone, and
# a client that does not read its answers is dropped after 10 s, and
# clients beyond the limit get a busy answer.
. "${top_srcdir:-.}/tests/integration/lib_iscsid.sh"
setup_root
start_daemon

probe "$S" oversize
expect_status 16 "oversized message"
expect_out "message too large: 1048596 bytes (limit 65536)" "oversized message"
expect_out "id=9" "oversized message answer echoes the id"
probe "$S" hello
expect_status 0 "HELLO after an oversized message"

# Half a header, then silence for 8 s.
"$PROBE" "$S" half 8000 > "$R/half.out" 2>&1 &
half=$!
sleep 0.3
for i in 1 2 3; do
	t0=$(date +%s%N)
	probe "$S" hello
	t1=$(date +%s%N)
	expect_status 0 "HELLO while another client stalls"
	[ $(( (t1 - t0) / 1000000 )) -lt 1000 ] || fail "HELLO took $(( (t1 - t0) / 1000000 )) ms while another client stalled"
done
wait $half
closed=$(sed -n 's/^closed=//p' "$R/half.out")
[ -n "$closed" ] || fail "the stalled client was not dropped: $(cat "$R/half.out")"
[ "$closed" -ge 4000 ] && [ "$closed" -le 7000 ] || fail "stalled client dropped after $closed ms, expected about 5000"
expect_log "sent no complete request within 5000 ms; dropping it" "stall logged"

# A client that sends requests but never reads the answers: once its
# answers fill the socket, iscsid stops serving it, serves others, and
# drops it after 10 s.
"$PROBE" "$S" noread 12000 > "$R/noread.out" 2>"$R/noread.err" &
nr=$!
sleep 2.5
for i in 1 2 3; do
	t0=$(date +%s%N)
	probe "$S" hello
	t1=$(date +%s%N)
	expect_status 0 "HELLO while another client does not read"
	[ $(( (t1 - t0) / 1000000 )) -lt 1000 ] || fail "HELLO took $(( (t1 - t0) / 1000000 )) ms while another client did not read"
done
wait $nr
[ "$(cat "$R/noread.out")" = dropped ] || fail "the client that does not read was not dropped: $(cat "$R/noread.out" "$R/noread.err")"
expect_log "did not read its answer within 10000 ms; dropping it" "non-reading client logged"

# 100 clients at once against a limit of 64.
probe "$S" flood 100
expect_status 0 "flood"
ok=$(echo "$OUT" | sed -n 's/.*ok=\([0-9]*\).*/\1/p')
busy=$(echo "$OUT" | sed -n 's/.*busy=\([0-9]*\).*/\1/p')
failed=$(echo "$OUT" | sed -n 's/.*failed=\([0-9]*\).*/\1/p')
[ "$failed" = 0 ] || fail "flood: clients without a proper answer: $OUT"
[ $((ok + busy)) = 100 ] || fail "flood: $OUT"
[ "$ok" -ge 1 ] && [ "$ok" -le 64 ] || fail "flood: $ok clients served, limit is 64"
[ "$busy" -ge 36 ] || fail "flood: only $busy busy answers: $OUT"
probe "$S" hello
expect_status 0 "HELLO after the flood"

stop_daemon || fail "iscsid exited with $?"
echo "PASS"
