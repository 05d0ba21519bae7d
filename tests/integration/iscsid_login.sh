#!/bin/bash
# LOGIN with no kernel transport fails fast with 12 and says what is
# missing; logins wait (without blocking the daemon) for the one modprobe
# attempt; with the transport present nothing is faked; LOGOUT and RESCAN
# of sessions that do not exist say so.
. "${top_srcdir:-.}/tests/integration/lib_iscsid.sh"
setup_root
cat > "$R/rec" <<EOR
# BEGIN RECORD 2.1.8
node.name = iqn.2003-01.org.example:target1
node.tpgt = 1
node.conn[0].address = 192.0.2.1
node.conn[0].port = 3260
# END RECORD
EOR

# modprobe takes 2 s: logins sent meanwhile wait for it; HELLO does not.
fake_modprobe 2
start_daemon
pids=
for i in 1 2 3 4 5 6 7 8; do
	"$PROBE" "$S" login "$R/rec" > "$R/login.$i" 2>&1 &
	pids="$pids $!"
done
t0=$(date +%s%N)
probe "$S" hello
t1=$(date +%s%N)
expect_status 0 "HELLO while modprobe runs"
[ $(( (t1 - t0) / 1000000 )) -lt 1000 ] || fail "HELLO took $(( (t1 - t0) / 1000000 )) ms while modprobe ran"
wait $pids
for i in 1 2 3 4 5 6 7 8; do
	OUT=$(cat "$R/login.$i")
	case "$OUT" in
	"status=12"*) ;;
	*) fail "login $i: $OUT" ;;
	esac
done
expect_out "message=iSCSI transport 'tcp' not available: $R/sys/class/iscsi_transport/tcp does not exist (kernel module iscsi_tcp not loaded and modprobe iscsi_tcp failed" "login message"
[ "$(wc -l < "$R/modprobe.calls")" = 1 ] || fail "modprobe ran $(wc -l < "$R/modprobe.calls") times, expected once"
[ "$(cat "$R/modprobe.calls")" = "-q iscsi_tcp" ] || fail "modprobe arguments: $(cat "$R/modprobe.calls")"

# Later logins fail at once, without another modprobe.
t0=$(date +%s%N)
probe "$S" login "$R/rec"
t1=$(date +%s%N)
expect_status 12 "second login"
[ $(( (t1 - t0) / 1000000 )) -lt 1000 ] || fail "second login took $(( (t1 - t0) / 1000000 )) ms"
[ "$(wc -l < "$R/modprobe.calls")" = 1 ] || fail "modprobe ran again"
expect_log "login to [iface: default, target: iqn.2003-01.org.example:target1, portal: 192.0.2.1,3260] failed" "login log line"

# SIGHUP allows one more attempt.
kill -HUP "$DPID"
sleep 0.3
probe "$S" login "$R/rec"
expect_status 12 "login after SIGHUP"
[ "$(wc -l < "$R/modprobe.calls")" = 2 ] || fail "modprobe not retried after SIGHUP"

# Bad records are the client's error (7), not the transport's.
printf 'node.conn[0].address = 192.0.2.1\n' > "$R/noname"
probe "$S" login "$R/noname"
expect_status 7 "record without node.name"
expect_out "node.name is missing" "record without node.name"
printf 'node.name = iqn.2003-01.org.example:t\nthis is not a record line\n' > "$R/bad"
probe "$S" login "$R/bad"
expect_status 7 "corrupt record"
expect_out "invalid node record" "corrupt record"
printf 'node.name = iqn.2003-01.org.example:t\n' > "$R/noaddr"
probe "$S" login "$R/noaddr"
expect_status 7 "record without a portal"

# Sessions that do not exist.
probe "$S" logout-sid 7
expect_status 2 "logout of an unknown sid"
expect_out "no session with sid 7" "logout of an unknown sid"
probe "$S" logout-node iqn.2003-01.org.example:target1 192.0.2.1:3260
expect_status 21 "logout by node"
expect_out "no matching session for target iqn.2003-01.org.example:target1 portal 192.0.2.1:3260" "logout by node"
probe "$S" rescan 3
expect_status 2 "rescan of an unknown sid"
probe "$S" rescan
expect_status 21 "rescan all"
expect_out "no active sessions" "rescan all"

# With the transport directory present but no usable kernel behind it
# (no NETLINK_ISCSI here, no handle in the fake sysfs): no fake session,
# an honest answer.
mkdir -p "$R/sys/class/iscsi_transport/tcp"
probe "$S" login "$R/rec"
expect_status 12 "login with the transport present"
expect_out "is loaded, but iscsid cannot use it" "login with the transport present"
probe "$S" state
expect_status 0 "state"
case "$OUT" in *session*) fail "a session appeared: $OUT" ;; esac

stop_daemon || fail "iscsid exited with $?"
echo "PASS"
