#!/bin/bash
# iscsid registered with a scripted hostile iSNS server
# (tests/tools/hostile_isns.c; iscsid.conf isns.address): whatever the
# server does -- a malformed, oversized, endless or dripping answer, a
# refusal, a connection closed mid-answer -- iscsid logs why and when it
# tries again, keeps answering its control socket, and stops promptly.
# The SCN port refuses an oversized notification and a flood of
# connections the same way. A well-behaved answer (mode normal) writes
# the records.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
HISNS=${HISNS:-./tests/tools/hostile_isns}
[ -x "$HISNS" ] || skip "hostile_isns not built"
need_root
setup_root
T=iqn.2024-01.org.example.hostile
LOG=$R/iscsid.log

start_hisns() { # MODE [COUNT]: sets HPORT, HPID
	start_hostile_tool "$HISNS" hisns "$@"
}

wait_log() { # SECONDS STRING
	local i
	for i in $(seq 1 $(($1 * 10))); do
		grep -qF -- "$2" "$LOG" && return 0
		kill -0 "$DPID" 2>/dev/null || fail "iscsid died"
		sleep 0.1
	done
	fail "not in the log within $1 s: $2"
}

alive() { # WHAT: iscsid runs and answers its control socket
	kill -0 "$DPID" 2>/dev/null || fail "iscsid died ($1)"
	run -m session
	[ $? = 21 ] || { cat "$R/out" "$R/err"; fail "iscsid does not answer ($1)"; }
}

stop_promptly() { # WHAT
	local start
	start=$(date +%s)
	kill -TERM "$DPID"
	wait "$DPID" || fail "iscsid exited with $? ($1)"
	DPID=
	[ $(($(date +%s) - start)) -le 4 ] || fail "iscsid took more than 4 s to stop ($1)"
}

with_server() { # MODE
	start_hisns "$1"
	printf 'isns.address = 127.0.0.1\nisns.port = %s\n' "$HPORT" > "$R/iscsid.conf"
	: > "$LOG"
	start_iscsid
}

# MODE:WHY: the reason iscsid gives for the failed exchange
for m in "huge:larger than" "endless:more than 1024 PDUs" "bad-xid:do not answer" "tlv-past:runs past" "attrs:more than 200000 attributes" "status:no such entry (status 9)" \
	"drip:no answer from the iSNS server"; do
	mode=${m%%:*}
	why=${m#*:}
	with_server "$mode"
	wait_log 20 "iSNS: next attempt in 5 s"
	grep -F "iSNS: " "$LOG" | grep -qF "127.0.0.1:$HPORT" || fail "$mode: the log does not name the server"
	[ -z "$why" ] || grep -F "warning: iSNS: " "$LOG" | grep -qF -- "$why" ||
		{ grep "iSNS" "$LOG"; fail "$mode: the log does not say '$why'"; }
	alive "$mode"
	[ -e "$R/nodes" ] && [ -n "$(ls -A "$R/nodes")" ] && fail "$mode: records written"
	stop_promptly "$mode"
	kill "$HPID"
	wait "$HPID" 2>/dev/null
	echo "ok: $mode: $(grep -F "warning: iSNS: " "$LOG" | grep -v "next attempt" | head -1)"
done

# a well-behaved answer: three targets written, none logged in to
# (node.startup manual, the default); the SCN port then gets a
# notification over its size limit and more connections than it keeps
with_server normal
wait_log 10 "3 node records added"
[ "$(find "$R/nodes" -type f | wc -l)" = 3 ] || fail "normal: expected 3 records"
grep -qF "logging in" "$LOG" && fail "normal: a login to a manual record"
SP=$(sed -n 's/.*iSNS: registered .* (SCN port \([0-9]*\),.*/\1/p' "$LOG" | head -1)
[ -n "$SP" ] || fail "no SCN port in the log"
python3 - "$SP" <<'EOF' || fail "cannot send to the SCN port"
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
# SCN PDUs of 65535 bytes, FIRST then middle ones: past the 64 KiB limit
for seq in range(3):
    flags = 0x4000 | (0x0400 if seq == 0 else 0)
    try:
        s.sendall(struct.pack(">HHHHHH", 1, 0x0008, 65532, flags, 7, seq) + b"\0" * 65532)
    except OSError:
        break
s.close()
EOF
wait_log 5 "on the SCN port: "
grep -F "on the SCN port" "$LOG" | grep -qi "size\|large\|limit" || { grep "SCN port" "$LOG"; fail "oversized SCN not refused as such"; }
# 20 idle connections: the port keeps 8, refuses the others, and a
# notification still gets through afterwards
python3 - "$SP" <<'EOF' || fail "connection flood"
import socket, sys, time
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(20)]
time.sleep(0.5)
closed = 0
for c in conns:
    c.settimeout(0.5)
    try:
        if c.recv(1) == b"":
            closed += 1
    except socket.timeout:
        pass
    except OSError:
        closed += 1
sys.exit(0 if closed >= 12 else 1)
EOF
alive "after the SCN port abuse"
# isns.address removed, SIGHUP: deregistered at once, and not again at
# the stop
grep -q "request DevDereg" "$R/hisns.normal.err" && fail "a DevDereg before any was due"
: > "$R/iscsid.conf"
kill -HUP "$DPID"
wait_log 10 "iSNS: deregistered from 127.0.0.1:$HPORT"
grep -qF "iSNS: isns.address unset; no longer registered" "$LOG" || fail "SIGHUP: the log does not say why"
grep -q "request DevDereg" "$R/hisns.normal.err" || fail "SIGHUP: the server got no DevDereg"
alive "after SIGHUP"
stop_promptly "normal"
[ "$(grep -c "request DevDereg" "$R/hisns.normal.err")" = 1 ] || fail "DevDereg sent again at the stop"
# registered again: a clean stop deregisters
printf 'isns.address = 127.0.0.1\nisns.port = %s\n' "$HPORT" > "$R/iscsid.conf"
: > "$LOG"
start_iscsid
wait_log 10 "iSNS: registered $INAME"
stop_promptly "normal, again"
grep -qF "iSNS: deregistered $INAME from the iSNS server 127.0.0.1:$HPORT" "$LOG" || fail "normal: not deregistered"
[ "$(grep -c "request DevDereg" "$R/hisns.normal.err")" = 2 ] || fail "the server got no DevDereg at the stop"
echo "PASS"
