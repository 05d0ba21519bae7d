#!/bin/bash
# iSNS discovery against a scripted server that answers the query badly
# (tests/tools/hostile_isns.c): a wrong function or transaction, a
# message over the size, PDU or attribute limits, an attribute running
# past its PDU, more targets than allowed, a refusal, a connection closed
# mid-answer, an answer that never ends. Each must fail with exit 25
# (ISCSI_ERR_ISNS_QUERY; 26 when the registration is refused), a clear
# reason naming the server, within the 10 s iSNS deadline, writing no
# record, through -m discovery and -m discoverydb -D alike; iscsid,
# running beside, stays up. Answers at the limits (4096 targets, the
# same portal group repeated to 4 MiB) must work, and targets with names
# we reject are skipped beside valid ones.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
HISNS=${HISNS:-./tests/tools/hostile_isns}
[ -x "$HISNS" ] || skip "hostile_isns not built"
setup_root
if [ "$(id -u)" = 0 ]; then
	start_iscsid
fi
T=iqn.2024-01.org.example.hostile

start_hisns() { # MODE [COUNT]: sets HPORT, HPID
	start_hostile_tool "$HISNS" hisns "$@"
}

# iscsiadm under a watchdog: a hang fails the test (exit 124) instead of
# holding CI.
trun() {
	timeout -k 5 30 "$ADM" --root "$R" --sysfs "$R/sys" "$@" >"$R/out" 2>"$R/err"
}

texpect_rc() { # CODE iscsiadm-args...
	local want=$1 got
	shift
	trun "$@"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout"; cat "$R/out"; echo "--- stderr"; cat "$R/err"
		[ "$got" = 124 ] && fail "iscsiadm $* hung (killed after 30 s)"
		fail "iscsiadm $* exited $got, expected $want"
	fi
}

no_records() { # MODE
	[ -e "$R/nodes" ] && [ -n "$(ls -A "$R/nodes")" ] && { ls -R "$R/nodes"; fail "mode $1 left node records"; }
	[ -s "$R/out" ] && { cat "$R/out"; fail "mode $1 printed targets"; }
	LC_ALL=C grep -q "$(printf '\033')" "$R/err" && fail "mode $1: escape sequence on stderr"
	if [ -n "$DPID" ]; then
		kill -0 "$DPID" 2>/dev/null || fail "iscsid died during mode $1"
	fi
	return 0
}

# case_fails MODE EXIT TEXT [MAXSECS]: both discovery commands fail with
# EXIT, stderr holding the server's address and TEXT
case_fails() {
	local max=${4:-5} t0
	start_hisns "$1"
	t0=$SECONDS
	texpect_rc "$2" -m discovery -t isns -p 127.0.0.1:$HPORT
	[ $((SECONDS - t0)) -le "$max" ] || fail "mode $1 took $((SECONDS - t0)) s"
	expect_err "iSNS discovery failed:"
	expect_err "127.0.0.1:$HPORT"
	expect_err "$3"
	expect_err "Could not perform iSNS discovery"
	no_records "$1"
	# the saved discovery record, run again: the same
	texpect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$HPORT -o new
	t0=$SECONDS
	texpect_rc "$2" -m discoverydb -t isns -p 127.0.0.1:$HPORT -D
	[ $((SECONDS - t0)) -le "$max" ] || fail "mode $1 (discoverydb) took $((SECONDS - t0)) s"
	expect_err "$3"
	no_records "$1"
	texpect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$HPORT -o delete
}

# The server's logic works at all: three targets, records written.
start_hisns normal
texpect_rc 0 -m discovery -t isns -p 127.0.0.1:$HPORT
[ "$(wc -l < "$R/out")" = 3 ] || { cat "$R/out" "$R/err"; fail "normal: expected 3 portals"; }
expect_out "127.0.0.1:3260,1 $T:t2"
[ -f "$R/nodes/$T:t0/127.0.0.1,3260,1/default" ] || fail "normal: no node record"
texpect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$HPORT -o delete
[ -e "$R/nodes/$T:t0" ] && fail "records of the normal server left"

# Targets whose names we reject are skipped with a warning naming them
# (escaped), the others recorded, as with SendTargets (open-iscsi records
# them all); no record or path comes of them. None valid: a failure.
start_hisns badnames 4
texpect_rc 0 -m discovery -t isns -p 127.0.0.1:$HPORT
[ "$(wc -l < "$R/out")" = 2 ] || { cat "$R/out" "$R/err"; fail "badnames: expected 2 portals"; }
expect_out "127.0.0.1:3260,1 $T:t0"
expect_out "127.0.0.1:3260,1 $T:t3"
expect_err "iSNS discovery at 127.0.0.1:$HPORT: skipping invalid entry: Portal Group of \"IQN.2024-01.ORG.EXAMPLE.HOSTILE:T1\""
expect_err "skipping invalid entry: Portal Group of \"$T:../../tmp/evil2\""
find "$R" -name "*evil*" | grep -q . && fail "badnames: a path made of a target name"
[ "$(find "$R/nodes" -mindepth 1 -maxdepth 1 | wc -l)" = 2 ] || { ls -R "$R/nodes"; fail "badnames: records"; }
texpect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$HPORT -o delete

case_fails allbad 25 "not a valid iSCSI name"
case_fails bad-function 25 "answered DevAttrQry with DevAttrRegRsp"
case_fails bad-xid 25 "more than 16 messages that do not answer DevAttrQry"
case_fails huge 25 "message larger than 4194304 bytes"
case_fails endless 25 "message in more than 1024 PDUs"
case_fails tlv-past 25 "attribute 32 (1024 bytes) runs past the end of the message"
case_fails attrs 25 "message with more than 200000 attributes"
case_fails too-many 25 "lists more than 4096 targets"
case_fails status 25 "refused the query: no such entry (status 9)"
case_fails unknown 25 "refused the query: source unknown (status 6)"
# it registered for the query, and deregistered when the query failed
grep -qx "request DevAttrReg" "$R/hisns.unknown.err" || fail "unknown: no registration"
grep -qx "request DevDereg" "$R/hisns.unknown.err" || fail "unknown: registration left behind"
case_fails reg-refused 26 "refused the registration: source unauthorized (status 8)"
case_fails close 25 "closed the connection before answering DevAttrQry"
# a PDU every 500 ms, never the last: the 10 s deadline covers the whole
# answer, not each read
case_fails drip 25 "to DevAttrQry within 10 s" 14

# legal at the limits: 4096 targets over several PDUs; one portal group
# repeated for 4 MiB is one target
start_hisns many
texpect_rc 0 -m discovery -t isns -p 127.0.0.1:$HPORT -o nonpersistent
[ "$(wc -l < "$R/out")" = 4096 ] || fail "many: expected 4096 portals, got $(wc -l < "$R/out")"
expect_out "127.0.0.1:3260,1 $T:t4095"
start_hisns repeat
texpect_rc 0 -m discovery -t isns -p 127.0.0.1:$HPORT -o nonpersistent
[ "$(cat "$R/out")" = "127.0.0.1:3260,1 $T:t0" ] || { head "$R/out"; fail "repeat: expected one portal"; }
if [ -n "$DPID" ]; then
	kill -0 "$DPID" 2>/dev/null || fail "iscsid died"
fi
echo "PASS: hostile iSNS servers"
