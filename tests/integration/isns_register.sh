#!/bin/bash
# iscsid and an iSNS server (iscsid.conf isns.address / isns.port /
# isns.iface) against open-isns's isnsd, with tgtd registering its target
# there and isnsadm the targets of a second tgtd:
#  - iscsid registers the initiator (isnsadm lists it, with its SCN port,
#    which listens on that portal address only);
#  - a target registered after iscsid started is discovered through the
#    State Change Notification isnsd sends: its node record appears, as
#    SendTargets writes it (discovery source isns), and iscsid logs in to
#    it (node.startup = automatic): through the uspace iface when
#    /dev/fuse exists (the session is listed), else the attempt is in the
#    log, failing with 12 (no kernel iSCSI transport here);
#  - discovery domains: with the initiator in a domain, a target outside
#    it is neither written nor logged in to; one added to the domain is
#    (DD member added notification);
#  - junk on the SCN port is logged and refused, iscsid stays up;
#  - a clean stop deregisters (isnsadm lists no initiator);
#  - an iSNS server that is down: iscsid starts, answers, says why in its
#    log and keeps trying.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
. "$top_srcdir/tests/lib/isnsd.sh"
need_root
tgtd_require
isnsd_require
setup_root
USP=$(pwd)/uspace/iscsi-uspace
RUNDIR=$R/uspace
# uspace sessions out before tgtd goes (tgtd.sh's EXIT trap calls this)
tgtd_on_exit() {
	local rc=$? sid
	for sid in $(ls "$RUNDIR" 2>/dev/null); do
		timeout 30 "$USP" logout --sid "$sid" --rundir "$RUNDIR" >/dev/null 2>&1
	done
	[ -d "$RUNDIR" ] && "$USP" cleanup --all --rundir "$RUNDIR" >/dev/null 2>&1
	tgtd_stop_all
	test_cleanup
	exit $rc
}
# ISNS_IT_IFACE=default: the host's way without /dev/fuse
if [ "${ISNS_IT_IFACE:-}" != default ] && [ -c /dev/fuse ] && [ -x "$USP" ]; then
	IFACE=uspace
	export ISCSI_USPACE_PROGRAM=$USP
	unset ISCSI_USPACE_RUNDIR
else
	IFACE=default
fi
echo "logins through iface $IFACE"
T=iqn.2024-01.org.example.reg
LOG=$R/iscsid.log

wait_for() { # SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds
	local s=$1 what=$2 i
	shift 2
	for i in $(seq 1 $((s * 10))); do
		"$@" && return 0
		kill -0 "$DPID" 2>/dev/null || fail "iscsid died while waiting for: $what"
		sleep 0.1
	done
	fail "not within $s s: $what"
}
in_log() { grep -qF -- "$1" "$LOG"; }
record() { # TARGET PORT: the record iscsid writes
	echo "$R/nodes/$1/127.0.0.1,$2,1/$IFACE"
}
has_session() { adm -m session 2>/dev/null | awk -v t="$1" '$4 == t { f = 1 } END { exit !f }'; }
# the login of TARGET ended the way this host allows
logged_in() { # TARGET
	if [ "$IFACE" = uspace ]; then
		has_session "$1"
	else
		grep -F "iSNS: login to [iface: default, target: $1," "$LOG" | grep -qF "failed:" &&
			grep -F "iSNS: login to [iface: default, target: $1," "$LOG" | grep -q "(12)$"
	fi
}

isnsd_start "$R/isnsd" || fail "isnsd"
HPIDS="$HPIDS $ISNSD_PID"
IP=$ISNSD_PORT
cat > "$R/iscsid.conf" <<EOF
isns.address = 127.0.0.1
isns.port = $IP
isns.iface = $IFACE
node.startup = automatic
node.conn[0].timeo.login_timeout = 5
node.session.initial_login_retry_max = 1
EOF
start_iscsid

# --- registration
isns_wait_nodes Initiator 1 || fail "iscsid did not register with isnsd"
[ "$(isns_nodes Initiator)" = "$INAME" ] || fail "isnsd lists another initiator: $(isns_nodes Initiator)"
wait_for 5 "registration logged" in_log "iSNS: registered $INAME with the iSNS server 127.0.0.1:$IP"
SP=$(sed -n 's/.*iSNS: registered .* (SCN port \([0-9]*\),.*/\1/p' "$LOG" | head -1)
[ -n "$SP" ] || fail "no SCN port in the log"
isnsadm_local --query "iscsi-name=$INAME" > "$R/q" 2>&1
grep -q "SCN port = $SP/tcp" "$R/q" || { cat "$R/q"; fail "isnsd does not have our SCN port $SP"; }
grep -q "Portal IP address = 127.0.0.1" "$R/q" || { cat "$R/q"; fail "isnsd does not have our portal"; }
# the SCN port listens on the address isnsd reaches us at, not on the
# host's other addresses (127.0.0.2 is as local as 127.0.0.1)
if (exec 3<>"/dev/tcp/127.0.0.2/$SP") 2>/dev/null; then
	fail "the SCN port $SP is reachable on 127.0.0.2, not only on our portal 127.0.0.1"
fi
(exec 3<>"/dev/tcp/127.0.0.1/$SP") 2>/dev/null || fail "the SCN port $SP is not reachable on 127.0.0.1"
[ -e "$R/nodes" ] && [ -n "$(ls -A "$R/nodes")" ] && fail "records before any target was registered"

# --- discovery domains: ddA holds us and disk1 (not registered yet);
# disk2 and disk3 (tgtd B, registered by isnsadm) stay outside it until
# disk2 joins it. (tgtd A registers last: tgtd mishandles the SCNs
# isnsd sends it about other registrations, see tests/lib/isnsd.sh.)
isnsadm_local --dd-register dd-name=ddA "dd-member-name=$INAME" "dd-member-name=$T:disk1" >/dev/null ||
	fail "isnsadm --dd-register"
tgtd_start || fail "tgtd B"
TB=$TGTD_PORT
tgtd_target 1 $T:disk2 1
tgtd_target 2 $T:disk3 1
isnsadm_local --register entity=tgtB "portal=127.0.0.1:$TB/tcp" target=$T:disk2 target=$T:disk3 \
	>"$R/reg.out" 2>&1 || { cat "$R/reg.out"; fail "isnsadm --register"; }
isns_wait_nodes Target 2 || fail "isnsd does not list disk2 and disk3"

# --- a target registered after iscsid started: found through the SCN
tgtd_start || fail "tgtd A"
TA=$TGTD_PORT
tgtd_target 1 $T:disk1 1
tgtd_isns || fail "tgtadm: iSNS settings"
# isnsadm's own node sees the default domain only: ask as disk1 (ddA)
sed "s/^SourceName.*/SourceName = $T:disk1/" "$ISNSD_DIR/isnsadm.conf" > "$R/ddA.conf"
ddA_nodes() { # TYPE: the nodes of ddA that isnsd lists
	isnsadm -c "$R/ddA.conf" --query "iscsi-node-type=$1" 2>/dev/null |
		sed -n 's/.*iSCSI name = "\(.*\)"$/\1/p' | sort
}
wait_for 15 "the record of disk1 written by iscsid" test -f "$(record $T:disk1 $TA)"
in_log "iSNS: state change notification: $T:disk1 added" || fail "no state change notification for disk1 logged"
in_log "iSNS: logging in to [iface: $IFACE, target: $T:disk1, portal: 127.0.0.1,$TA]" ||
	fail "iscsid did not log in to disk1"
wait_for 20 "the login to disk1 ($IFACE)" logged_in $T:disk1
expect_rc 0 -m node -T $T:disk1 -p 127.0.0.1:$TA -I $IFACE -o show
expect_out "node.discovery_address = 127.0.0.1"
expect_out "node.discovery_port = $IP"
expect_out "node.discovery_type = isns"
expect_out "node.startup = automatic"
[ -L "$R/isns/127.0.0.1,$IP/$T:disk1,127.0.0.1,$TA,1,$IFACE" ] || fail "no link from the iSNS record to disk1"
# outside the domain: not written, not tried
[ -e "$R/nodes/$T:disk2" ] && fail "disk2, outside our discovery domain, was written"
[ -e "$R/nodes/$T:disk3" ] && fail "disk3, outside our discovery domain, was written"
# the same record `iscsiadm -m discovery -t isns` writes
cp "$(record $T:disk1 $TA)" "$R/by_iscsid"
expect_rc 0 -m discovery -t isns -p 127.0.0.1:$IP -I $IFACE -o nonpersistent
[ "$(cat "$R/out")" = "127.0.0.1:$TA,1 $T:disk1" ] || { cat "$R/out"; fail "iscsiadm sees more than disk1"; }
R2=$R/st
mkdir -p "$R2/sys/class"
cp "$R/initiatorname.iscsi" "$R/iscsid.conf" "$R2/"
"$ADM" --root "$R2" --sysfs "$R2/sys" -m discovery -t isns -p 127.0.0.1:$IP -I $IFACE >/dev/null 2>"$R/err" ||
	{ cat "$R/err"; fail "iscsiadm's discovery of the same server"; }
diff -u "$R/by_iscsid" "$R2/nodes/$T:disk1/127.0.0.1,$TA,1/$IFACE" || fail "iscsid's record differs from iscsiadm's"

# --- disk2 joins our domain: found through the DD notification
isnsadm_local --dd-register dd-id=1 "dd-member-name=$T:disk2" >/dev/null || fail "isnsadm: disk2 into ddA"
wait_for 15 "the record of disk2 (added to our domain)" test -f "$(record $T:disk2 $TB)"
wait_for 20 "the login to disk2 ($IFACE)" logged_in $T:disk2
[ -e "$R/nodes/$T:disk3" ] && fail "disk3, outside our discovery domain, was written"
in_log "target: $T:disk3" && fail "iscsid tried disk3, outside our discovery domain"
has_session "$T:disk3" && fail "a session to disk3"

# --- junk on the SCN port: logged, refused, iscsid goes on
exec 3<>"/dev/tcp/127.0.0.1/$SP" || fail "cannot connect to the SCN port $SP"
printf 'GET / HTTP/1.0\r\n\r\n' >&3
wait_for 5 "junk on the SCN port logged" in_log "iSNS: bad message from 127.0.0.1:"
exec 3>&-
expect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$IP -o show
run -m session
[ "$IFACE" = uspace ] && { [ "$(grep -c "$T:disk" "$R/out")" = 2 ] || { cat "$R/out"; fail "sessions after the junk"; }; }

# --- clean stop: deregistered
[ "$IFACE" = uspace ] && { expect_rc 0 -m node --logoutall=all; }
[ "$(ddA_nodes Initiator)" = "$INAME" ] || fail "isnsd does not list the initiator in ddA: $(ddA_nodes Initiator)"
kill -TERM "$DPID"
wait "$DPID" || fail "iscsid exited with $?"
DPID=
in_log "iSNS: deregistered $INAME from the iSNS server 127.0.0.1:$IP" || fail "no deregistration logged"
[ -z "$(ddA_nodes Initiator)" ] || fail "isnsd still lists the initiator after iscsid stopped"
[ "$(ddA_nodes Target)" = "$(printf '%s\n' $T:disk1 $T:disk2)" ] || fail "ddA's targets: $(ddA_nodes Target)"

# --- the server down: iscsid starts anyway, says why, keeps trying, and
# stops promptly
kill "$ISNSD_PID"
wait "$ISNSD_PID" 2>/dev/null
: > "$LOG"
start_iscsid
wait_for 15 "the failed registration logged" in_log "iSNS: cannot connect to the iSNS server 127.0.0.1:$IP"
in_log "iSNS: next attempt in 5 s" || fail "no retry announced"
expect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$IP -o show
start=$(date +%s)
kill -TERM "$DPID"
wait "$DPID" || fail "iscsid exited with $?"
DPID=
[ $(($(date +%s) - start)) -le 3 ] || fail "iscsid took more than 3 s to stop"
in_log "deregist" && fail "deregistration attempted though never registered"
echo "PASS"
