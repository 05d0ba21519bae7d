#!/bin/bash
# What a client reports when the daemon is not there, goes away, or does
# not answer: 20, 18 and 33, each with a message that says so.
. "${top_srcdir:-.}/tests/integration/lib_iscsid.sh"
setup_root

probe "$R/none.sock" hello
expect_status 20 "no socket"
expect_out "message=could not connect to iscsid at $R/none.sock: No such file or directory" "no socket"

# A socket file nobody listens on (left by a killed daemon).
start_daemon
kill_hard
probe "$S" hello
expect_status 20 "stale socket"
expect_out "could not connect to iscsid at $S: Connection refused" "stale socket"

# Something listens but goes away without answering (3 s: long enough for
# the probe to connect on a loaded machine; it then waits for the answer).
"$HARNESS" --listen "$R/mute.sock" -- sleep 3 &
h=$!
for i in $(seq 1 100); do [ -S "$R/mute.sock" ] && break; sleep 0.02; done
probe "$R/mute.sock" hello
wait $h
expect_status 18 "listener went away"
expect_out "iscsid closed the connection without answering" "listener went away"

# Something listens and never answers.
"$HARNESS" --listen "$R/slow.sock" -- sleep 3 &
h=$!
for i in $(seq 1 100); do [ -S "$R/slow.sock" ] && break; sleep 0.02; done
t0=$(date +%s%N)
probe "$R/slow.sock" hello-timeout 500
t1=$(date +%s%N)
kill $h 2>/dev/null
wait $h 2>/dev/null
expect_status 33 "no answer"
expect_out "timed out" "no answer"
ms=$(( (t1 - t0) / 1000000 ))
[ $ms -ge 450 ] && [ $ms -lt 2500 ] || fail "timeout took $ms ms, expected about 500"
echo "PASS"
