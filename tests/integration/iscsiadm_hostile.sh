#!/bin/bash
# Discovery against a target that answers the login properly and then
# misbehaves (tests/tools/hostile_target.c). Each case must end in a clear
# error naming the portal and the reason, with exit 19 (protocol), 11
# (stalled) or 24, within the configured timeouts, writing no records;
# 1500 targets are legal and must work. iscsid, running beside, stays up.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
[ -x "$HOSTILE" ] || skip "hostile_target not built"
setup_root
cat > "$R/iscsid.conf" <<EOF
discovery.sendtargets.timeo.login_timeout = 2
discovery.sendtargets.timeo.active_timeout = 2
EOF
if [ "$(id -u)" = 0 ]; then
	start_iscsid
fi

# case MODE EXIT TEXT: discovery fails with EXIT, stderr holds TEXT
case_fails() {
	start_hostile "$1"
	local t0=$SECONDS
	expect_rc "$2" -m discovery -t st -p 127.0.0.1:$HPORT
	expect_err "SendTargets discovery at 127.0.0.1:$HPORT failed"
	expect_err "$3"
	[ $((SECONDS - t0)) -le 10 ] || fail "mode $1 took $((SECONDS - t0)) s"
	[ -s "$R/out" ] && { cat "$R/out"; fail "mode $1 printed targets"; }
	[ -e "$R/nodes" ] && fail "mode $1 left node records"
	# nothing from the peer reaches the terminal raw
	LC_ALL=C grep -q "$(printf '\033')" "$R/err" && fail "mode $1: escape sequence on stderr"
	if [ -n "$DPID" ]; then
		kill -0 "$DPID" 2>/dev/null || fail "iscsid died during mode $1"
	fi
	return 0
}

case_fails oversized 19 "larger than"
case_fails noequals 19 "malformed"
case_fails control 19 "SendTargets response"
case_fails badnames 19 "invalid TargetName"
case_fails endless 19 "more than"
case_fails garbage 19 "invalid PDU"
case_fails stall 11 "timed out"
case_fails stall-login 11 "timed out"
case_fails reject 24 "authentication failure"

# Names with '/' or ".." beside a valid target: since open-iscsi records
# the targets it can (and one odd name once made a whole discovery fail),
# the invalid entries are skipped and named on stderr, escaped; the valid
# one is recorded. No record or path ever comes of the invalid names.
start_hostile slash
expect_rc 0 -m discovery -t st -p 127.0.0.1:$HPORT
[ "$(wc -l < "$R/out")" = 1 ] || { cat "$R/out"; fail "slash: expected 1 target"; }
expect_out "127.0.0.1:$HPORT,1 iqn.2024-01.org.example.hostile:t0000"
expect_err "skipping invalid entry: TargetName \"iqn.2024-01.org.example.hostile:../../../../tmp/evil\""
expect_err "skipping invalid entry: TargetName \"iqn.2024-01.org.example.hostile:a/b\""
[ "$(find "$R/nodes" -mindepth 1 -maxdepth 1 | wc -l)" = 1 ] || { ls -R "$R/nodes"; fail "slash: extra records"; }
find "$R" -name "*evil*" | grep -q . && fail "slash: a path made of a target name"
expect_rc 0 -m node
[ "$(wc -l < "$R/out")" = 1 ] || fail "slash: expected 1 node record"
rm -rf "$R/nodes" "$R/send_targets"

# legal: 1500 targets over many Continue PDUs
start_hostile many 1500
expect_rc 0 -m discovery -t st -p 127.0.0.1:$HPORT
[ "$(wc -l < "$R/out")" = 1500 ] || fail "expected 1500 targets, got $(wc -l < "$R/out")"
expect_out "127.0.0.1:$HPORT,1 iqn.2024-01.org.example.hostile:t1499"
expect_rc 0 -m node
[ "$(wc -l < "$R/out")" = 1500 ] || fail "expected 1500 node records"
if [ -n "$DPID" ]; then
	kill -0 "$DPID" 2>/dev/null || fail "iscsid died"
fi
echo "PASS: hostile discovery targets"
