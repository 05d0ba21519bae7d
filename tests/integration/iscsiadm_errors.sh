#!/bin/bash
# Exit codes a user meets (inventory §1.5): argument errors (7), nothing
# found (21), a missing iface or discovery record (6), a closed port (4), a connect that times out (8, when the
# network lets a SYN go unanswered), iscsid not running (20), iscsid
# without a kernel transport (12), a client iscsid refuses (13), a record
# in use (15), unsupported operations (27).
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
tgtd_require
setup_root

# --- the command line (no target needed)
expect_rc 7 -m node -x 1
expect_err "iscsiadm: node mode: option '-x' is not allowed/supported"
expect_rc 7 -m discovery -T iqn.2024-01.org.example:x
expect_err "discovery mode: option '-T' is not allowed/supported"
expect_rc 7 -m session -p 127.0.0.1
expect_rc 7 -m iface -l
expect_rc 7 -m host -T x
expect_rc 7 -m node -o bogus
expect_err "can not recognize operation: 'bogus'"
expect_rc 7 -m node -o new -o show
expect_rc 7 -m node -P 3
expect_err "Invalid info level 3. Try 0 or 1."
expect_rc 7 -m bogus
expect_rc 7 -m node -L sometimes
expect_err "Invalid loginall option sometimes."
expect_rc 7 -m node -U onboot
expect_rc 7 -m node -v x
expect_rc 7 -m node -o update -n node.startup
expect_err "name 'node.startup' has no value"
# -k stops iscsid only on its own; beside a mode it is refused (nothing
# stopped: checked with iscsid up below)
expect_rc 7 -m session -k 0
expect_err "session mode: option '-k' is not allowed/supported"
expect_rc 7 -m discovery -t st -p 300.1.2.3:3260
expect_rc 7 -m discovery -t st -p 127.0.0.1:99999
expect_rc 7 -m discovery -t st
expect_err "Please specify portal"
expect_rc 7 -m node -I '../evil' -o show
expect_rc 7 -m iface -o new
expect_err "No interface passed in."
expect_rc 7 -m iface -I default -o delete
expect_rc 7 -k 1
expect_rc 0 -V
# Scripts read the word after "version" as the open-iscsi release (LXD
# splits on spaces and takes the third field): the release whose
# behaviour this matches, then our own version in parentheses.
set -- $(cat "$R/out")
[ "$1 $2 $3" = "iscsiadm version 2.1.8" ] || fail "-V printed '$*', expected 'iscsiadm version 2.1.8 (...)'"
expect_out "iscsiadm version 2.1.8 (iscsi-initiator "
[ "$(wc -l < "$R/out")" = 1 ] || fail "-V printed more than one line"
expect_rc 0 --version
expect_out "iscsiadm version 2.1.8 ("
"$ISCSID" -v >"$R/out" 2>&1 || fail "iscsid -v failed"
expect_out "iscsid version 2.1.8 (iscsi-initiator "
expect_rc 0 -h
expect_out "iscsiadm -m node"
expect_rc 7
expect_err "Try \`iscsiadm --help' for more information."
"$ADM" --root relative/dir -m node >/dev/null 2>&1
[ $? = 7 ] || fail "a relative --root must be refused"

# --- nothing there: 21
expect_rc 21 -m node
expect_err "iscsiadm: No records found"
expect_rc 21 -m session
expect_err "iscsiadm: No active sessions."
# open-iscsi's words when an operation finds no session
expect_rc 21 -m session -u
expect_err "iscsiadm: No matching sessions found"
expect_rc 21 -m session -R
expect_err "iscsiadm: No session found."
expect_rc 21 -m session -s
expect_err "iscsiadm: No session found."
expect_rc 21 -m host
expect_rc 21 -m discovery
expect_rc 21 -m node -T iqn.2024-01.org.example:none -o show
expect_rc 21 -m node -T iqn.2024-01.org.example:none -o update -n node.startup -v automatic
# a missing iface: open-iscsi's codes (os-brick accepts 0, 2 or 6 from
# "-m iface -I name" before it falls back to the default iface)
expect_rc 6 -m iface -I nosuch
expect_err "iface nosuch not found"
expect_rc 6 -m iface -I nosuch -o show
expect_rc 7 -m iface -I nosuch -o update -n iface.net_ifacename -v lo
expect_rc 7 -m iface -I nosuch -o delete
[ -e "$R/ifaces/nosuch" ] && fail "a failed update created the iface"
# -o new on an existing iface: 0 (as open-iscsi), its settings kept
expect_rc 0 -m iface -I again0 -o new
expect_out "New interface again0 added"
expect_rc 0 -m iface -I again0 -o update -n iface.net_ifacename -v lo
expect_rc 0 -m iface -I again0 -o new
expect_out "Interface again0 already exists; left unchanged"
[ -s "$R/err" ] && { cat "$R/err"; fail "-o new on an existing iface wrote to stderr"; }
expect_rc 0 -m iface -I again0
expect_out "iface.net_ifacename = lo"
expect_rc 0 -m iface -I again0 -o delete
expect_rc 21 -m fw
# iSNS is built in: a server that is not there is a failed query (25)
expect_rc 25 -m discovery -t isns -p 127.0.0.1:1
expect_err "cannot connect to the iSNS server 127.0.0.1:1"
expect_rc 30 -m discovery -t bogus -p 127.0.0.1

# --- node records: new / update / delete / show
N=iqn.2024-01.org.example:static
expect_rc 0 -m node -o new -T $N -p 192.0.2.7:3260,1
expect_out "New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] 192.0.2.7,3260,1 $N] added"
[ -L "$R/static/$N,192.0.2.7,3260,1,default" ] || fail "no static/ link"
expect_rc 0 -m node -o new -T $N -p 192.0.2.7:3260,1
expect_out "already exists"
expect_rc 0 -m node -T $N -p 192.0.2.7 -o update -n node.startup -v automatic \
	-n node.session.auth.username -v bob -n node.session.auth.password -v s3cretpass
expect_rc 0 -m node -T $N -p 192.0.2.7 -o show
expect_out "node.startup = automatic"
expect_out "node.session.auth.username = bob"
expect_out "node.session.auth.password = ********"
grep -q s3cretpass "$R/out" && fail "secret shown without -S"
expect_rc 0 -m node -T $N -p 192.0.2.7 -o show -S
expect_out "node.session.auth.password = s3cretpass"
expect_rc 0 -m node -T $N -o show --json
expect_json
expect_out '"node.session.auth.password": "********"'
expect_rc 7 -m node -T $N -o update -n node.startup -v sometimes
expect_rc 7 -m node -T $N -o update -n node.no_such_key -v 1
expect_rc 7 -m node -T $N -o update -n node.name -v iqn.2024-01.org.example:other
expect_rc 7 -m node -T $N -o update -n iface.hwaddress -v 00:11:22:33:44:55
expect_rc 0 -m node -T $N -o update -n node.session.queue_depth -v 16
expect_rc 7 -m node -T $N -o update -n node.session.queue_depth -v 100000
expect_rc 7 -m node -o new -T 'iqn.2024-01.org.example:bad/name' -p 192.0.2.7
# a -n without -v where nothing is set is ignored, as open-iscsi does
expect_rc 0 -m node -T $N -p 192.0.2.7 -o show -n node.startup
expect_out "node.startup = automatic"
expect_rc 0 -m node -T $N -p 192.0.2.7 -n node.startup
expect_out "node.name = $N"
# an operation beside -l/-u is refused, not dropped (open-iscsi's words);
# nothing changes, no login is tried
expect_rc 7 -m node -T $N -p 192.0.2.7 --login -o update -n node.startup -v manual
expect_err "iscsiadm: Invalid parameters. Login/logout and op passed in"
grep -q "Logging in" "$R/out" && fail "--login -o update tried a login"
expect_rc 7 -m node -T $N -p 192.0.2.7 --logout -o delete
expect_err "Login/logout and op passed in"
expect_rc 0 -m node -T $N -p 192.0.2.7 -o show
expect_out "node.startup = automatic"
expect_rc 0 -m node -T $N -p 192.0.2.7 -o delete
# "-o new --login" adds the record and does nothing else (open-iscsi)
expect_rc 0 -m node -o new -T $N:new -p 192.0.2.8:3260 --login
expect_out "New iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] 192.0.2.8,3260,-1 $N:new] added"
grep -q "Logging in" "$R/out" && fail "-o new --login tried a login"
expect_rc 0 -m node -T $N:new -p 192.0.2.8 -o delete
expect_rc 21 -m node -T $N -o show
[ -e "$R/static/$N,192.0.2.7,3260,1,default" ] && fail "static/ link left after delete"

# --- one node per target, portal and iface (open-iscsi's matching): a
# tpgt given with -p selects records of any tag, and -o new next to a
# record of another tag, or of none, keeps that record (its settings
# too) instead of adding a second one that --login would log in again
expect_rc 0 -m node -o new -T $N -p 192.0.2.7:3260,1
expect_rc 0 -m node -T $N -p 192.0.2.7 -o update -n node.session.auth.username -v keepme
expect_rc 0 -m node -o new -T $N -p 192.0.2.7:3260
expect_out "iSCSI node [tcp:[hw=,ip=,net_if=,iscsi_if=default] 192.0.2.7,3260,1 $N] already exists; left unchanged"
[ -s "$R/err" ] && { cat "$R/err"; fail "-o new of an existing node wrote to stderr"; }
expect_rc 0 -m node -o new -T $N -p 192.0.2.7:3260,2
expect_out "192.0.2.7,3260,1 $N] already exists"
expect_rc 0 -m node
[ "$(grep -c " $N\$" "$R/out")" = 1 ] || { cat "$R/out"; fail "-o new made a second record of one node"; }
expect_rc 0 -m node -T $N -p 192.0.2.7:3260,2 -o show
expect_out "node.tpgt = 1"
expect_out "node.session.auth.username = keepme"
expect_rc 0 -m node -T $N -p 192.0.2.7:3260,5 -o update -n node.startup -v automatic
expect_rc 0 -m node -T $N -o show
expect_out "node.startup = automatic"
# two records of one portal under two tags (an older tree, or a target
# whose portal moved to another group): -p ...,1 selects both
mkdir -p "$R/nodes/$N/192.0.2.7,3260,2"
sed 's/^node.tpgt = 1$/node.tpgt = 2/' "$R/nodes/$N/192.0.2.7,3260,1/default" \
	>"$R/nodes/$N/192.0.2.7,3260,2/default"
chmod 600 "$R/nodes/$N/192.0.2.7,3260,2/default"
expect_rc 0 -m node -T $N -p 192.0.2.7:3260,1 -o show
[ "$(grep -c '^# BEGIN RECORD' "$R/out")" = 2 ] || fail "-p addr:port,1 did not select the record of tag 2"
expect_rc 0 -m node -T $N -p 192.0.2.7:3260,9 -o delete
expect_rc 21 -m node -T $N -o show

# --- a closed port on 127.0.0.1: 4
tgtd_start || fail "tgtd"
P=$TGTD_PORT
T=iqn.2024-01.org.example.err
tgtd_target 1 $T:disk1 1
tgtd_target 2 $T:disk2 1
CLOSED=$(tgtd_free_port)
expect_rc 4 -m discovery -t st -p 127.0.0.1:$CLOSED
expect_err "cannot connect: Connection refused"
expect_err "Could not perform SendTargets discovery: encountered connection failure"

# --- a connect nobody answers: 8 (only where the address is routed and
# silently dropped; an unreachable network fails fast with 4)
cat > "$R/iscsid.conf" <<EOF
discovery.sendtargets.timeo.login_timeout = 1
EOF
run -m discovery -t st -p 192.0.2.1:3260 -o nonpersistent
rc=$?
[ $rc = 8 ] || [ $rc = 4 ] || fail "connect to a black hole exited $rc, expected 8 or 4"
[ $rc = 8 ] && expect_err "timed out"
rm "$R/iscsid.conf"

# --- logins need iscsid
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P
expect_rc 20 -m node -T $T:disk1 -p 127.0.0.1:$P --login
expect_out "Logging in to [iface: default, target: $T:disk1, portal: 127.0.0.1,$P]"
expect_err "iscsiadm: Could not login to [iface: default, target: $T:disk1, portal: 127.0.0.1,$P]."
expect_err "iscsiadm: initiator reported error (20 - could not connect to iscsid)"
# open-iscsi's closing line of a node login that did not happen, once
[ "$(grep -c '^iscsiadm: Could not log into all portals$' "$R/err")" = 1 ] ||
	{ cat "$R/err"; fail "-m node --login: no single 'Could not log into all portals' line"; }
expect_rc 20 -m discovery -t st -p 127.0.0.1:$P --login
expect_out "127.0.0.1:$P,1 $T:disk1"
# (open-iscsi's discovery --login has no such line)
grep -q "log into all portals" "$R/err" && fail "discovery --login printed 'Could not log into all portals'"
expect_rc 20 -k 0

# --- iscsid up, but no kernel transport here: 12, for every record, in parallel
start_iscsid
expect_rc 7 -m node -k 0
kill -0 "$DPID" 2>/dev/null || fail "-m node -k 0 stopped iscsid"
expect_rc 12 -m node --login
expect_err "iscsiadm: Could not log into all portals"
expect_err "iscsiadm: Could not login to [iface: default, target: $T:disk1, portal: 127.0.0.1,$P]."
expect_err "iscsiadm: Could not login to [iface: default, target: $T:disk2, portal: 127.0.0.1,$P]."
expect_err "iscsiadm: initiator reported error (12 - iSCSI driver not found. Please make sure it is loaded, and retry the operation)"
expect_rc 0 -m node -o update -n node.startup -v automatic -T $T:disk2
expect_rc 12 -m node -L automatic
expect_out "Logging in to [iface: default, target: $T:disk2, portal: 127.0.0.1,$P]"
grep -q "disk1" "$R/out" && fail "-L automatic logged in to a manual record"
expect_rc 21 -m node -L onboot
# several records of one node (tags 1 and -1): one login, not two
sed 's/^node.tpgt = 1$/node.tpgt = -1/' "$R/nodes/$T:disk1/127.0.0.1,$P,1/default" \
	>"$R/nodes/$T:disk1/127.0.0.1,$P"
chmod 600 "$R/nodes/$T:disk1/127.0.0.1,$P"
expect_rc 0 -m node -T $T:disk1 -o show
[ "$(grep -c '^# BEGIN RECORD' "$R/out")" = 2 ] || fail "the tag-less record of disk1 is not read"
for p in 127.0.0.1:$P 127.0.0.1:$P,1 127.0.0.1:$P,2; do
	expect_rc 12 -m node -T $T:disk1 -p $p --login
	[ "$(grep -c '^Logging in to ' "$R/out")" = 1 ] || { cat "$R/out"; fail "-p $p: two records of one node, logged in twice"; }
	[ "$(grep -c 'Could not login to ' "$R/err")" = 1 ] || { cat "$R/err"; fail "-p $p: two login attempts"; }
done
expect_rc 12 -m node -L all
[ "$(grep -c '^Logging in to ' "$R/out")" = 2 ] || { cat "$R/out"; fail "-L all: expected one login per node (2)"; }
rm "$R/nodes/$T:disk1/127.0.0.1,$P"
# -W: sent and not awaited; an immediate refusal is still reported
expect_rc 12 -m node -T $T:disk1 -l -W
# -W with iscsid stopped (SIGSTOP): connect() succeeds into the listen
# backlog, but nobody takes the request: 33, not "queued", and nothing
# is sent (no login when iscsid runs again)
before=$(grep -c "login to .* requested" "$R/iscsid.log")
kill -STOP "$DPID"
t0=$(date +%s)
run -m node -T $T:disk1 -l -W
rc=$?
t1=$(date +%s)
kill -CONT "$DPID"
[ $rc = 33 ] || { cat "$R/out" "$R/err"; fail "-W to a stopped iscsid exited $rc, expected 33"; }
expect_err "iscsid did not take the request within 10 s"
expect_err "Could not login to [iface: default, target: $T:disk1, portal: 127.0.0.1,$P]."
[ $((t1 - t0)) -le 15 ] || fail "-W to a stopped iscsid took $((t1 - t0)) s"
sleep 1   # iscsid, running again, takes the abandoned connection
[ "$(grep -c "login to .* requested" "$R/iscsid.log")" = "$before" ] ||
	fail "a -W request that was reported as not sent reached iscsid"
expect_rc 12 -m discovery -t st -p 127.0.0.1:$P --login
expect_rc 21 -m node -u
expect_err "No matching sessions found"
expect_rc 21 -m session -u

# --- a client iscsid refuses: 13 (the socket's mode, then the daemon's
# own SO_PEERCRED check once the socket lets the client in)
chmod -R a+rX "$R"
find "$R/nodes" -type f -exec chmod a+r {} +
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
if $NOBODY true 2>/dev/null; then
	$NOBODY "$ADM" --root "$R" --sysfs "$R/sys" -m node -T $T:disk1 --login >"$R/out" 2>"$R/err"
	rc=$?
	[ $rc = 13 ] || { cat "$R/err"; fail "non-root login through a root-only socket exited $rc, expected 13"; }
	chmod 666 "$R/iscsid.sock"
	$NOBODY "$ADM" --root "$R" --sysfs "$R/sys" -m node -T $T:disk1 --login >"$R/out" 2>"$R/err"
	rc=$?
	[ $rc = 13 ] || { cat "$R/err"; fail "iscsid accepted a non-root client (exit $rc, expected 13)"; }
	$NOBODY "$ADM" --root "$R" --sysfs "$R/sys" -k 0 >"$R/out" 2>"$R/err"
	rc=$?
	[ $rc = 13 ] || { cat "$R/err"; fail "non-root -k 0 exited $rc, expected 13"; }
	kill -0 "$DPID" 2>/dev/null || fail "iscsid stopped for a non-root client"
fi

# --- unsupported, said plainly: 27
expect_rc 27 -m host -C chap -H 1
expect_rc 27 -m iface -I default -o apply
expect_rc 0 -k 0
wait "$DPID"
DPID=
echo "PASS: exit codes"
