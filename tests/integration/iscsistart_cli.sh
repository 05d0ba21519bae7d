#!/bin/bash
# iscsistart on a host without iscsi_tcp: open-iscsi's command line and
# its error words and exit codes (7 for missing or bad arguments, 21
# without a firmware table), -f printing what iscsiadm -m fw prints, the
# login path through a private iscsid (12 naming the missing module, the
# daemon gone and its directory removed afterwards), and CHAP secrets
# gone from /proc/<pid>/cmdline while it runs.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
. "$top_srcdir/tests/integration/ibft_tree.sh"
START=${START:-./iscsistart/iscsistart}
setup_root
export ISCSI_ROOT=$R TMPDIR=$R/tmp
mkdir -p "$TMPDIR"
IN=iqn.2024-01.org.example:boot
TN=iqn.2003-01.org.example:root

st() { "$START" "$@" >"$R/out" 2>"$R/err"; }
expect_st() { # CODE ARGS...
	local want=$1 got
	shift
	st "$@"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "--- stdout"; cat "$R/out"; echo "--- stderr"; cat "$R/err"
		fail "iscsistart $* exited $got, expected $want"
	fi
}

# --- the command line of open-iscsi's iscsistart
expect_st 0 -h
for o in "-c, --config=" "-i, --initiatorname=" "-t, --targetname=" "-g, --tgpt=" "-a, --address=" \
	"-p, --port=" "-u, --username=" "-w, --password=" "-U, --username_in=" "-W, --password_in=" \
	"-d, --debug=" "-b, --fwparam_connect" "-N, --fwparam_network" "-f, --fwparam_print" \
	"-P, --param=NAME=VALUE" "-h, --help" "-v, --version"; do
	expect_out "$o"
done
expect_st 0 -v
expect_out "iscsistart version "
expect_st 0 --version

expect_st 7
expect_err "iscsistart: InitiatorName not set. Exiting iscsistart"
expect_st 7 -i "$IN"
expect_err "Portal Group not set. Exiting iscsistart"
expect_st 7 --initiatorname "$IN" --tgpt 1
expect_err "TargetName not set. Exiting iscsistart"
expect_st 7 -i "$IN" -g 1 -t "$TN"
expect_err "IP Address not set. Exiting iscsistart"
ok="-i $IN -g 1 -t $TN -a 127.0.0.1"
expect_st 7 -i "$IN" -g 1 -t "not a target name" -a 127.0.0.1
expect_err "invalid target name"
expect_st 7 -i "iqn.2024-13.bad" -g 1 -t "$TN" -a 127.0.0.1
expect_err "invalid initiator name"
expect_st 7 -i "$IN" -g one -t "$TN" -a 127.0.0.1
expect_err "invalid portal group tag 'one'"
expect_st 7 -i "$IN" -g 65536 -t "$TN" -a 127.0.0.1
expect_st 7 $ok -p 0
expect_err "invalid port '0'"
expect_st 7 $ok -p 3260x
expect_st 7 -i "$IN" -g 1 -t "$TN" -a "not an address!"
expect_err "invalid portal address"
expect_st 7 -i "$IN" -g 1 -t "iqn.2003-01.org.example:$(printf 'x%.0s' $(seq 1 230))" -a 127.0.0.1
expect_err "Max targetname length is 223."
expect_st 7 $ok -w "$(printf 's%.0s' $(seq 1 300))"
expect_err "invalid password. Max password length is 256."
expect_st 7 $ok -d 9
expect_st 7 $ok -P node.session.timeo.replacement_timeout
expect_err "Invalid --param node.session.timeo.replacement_timeout. Missing value."
expect_st 7 $ok -P node.session.auth.password=
expect_err "Invalid --param node.session.auth.password. Missing value."
expect_st 7 $ok -P node.no.such.key=1
expect_err "invalid --param node.no.such.key"
expect_st 7 $ok -P node.session.scan=sometimes
expect_err "invalid --param node.session.scan: node.session.scan: unknown value 'sometimes'"
expect_st 7 $ok -P node.name=iqn.2003-01.org.example:other
expect_err "give it with -t, -g, -a or -p"
expect_st 7 $ok -Z
expect_err "Try \`iscsistart --help' for more information."
expect_st 7 $ok stray
expect_err "unexpected argument 'stray'"
# a value open-iscsi reads anyhow: a warning (without -d), and on
printf 'node.session.timeo.replacement_timeout = soon\n' > "$R/warn.conf"
expect_st 20 $ok -c "$R/warn.conf" --iscsid "$R/no-such-iscsid"
expect_err "$R/warn.conf:1: warning: node.session.timeo.replacement_timeout: 'soon' is not a number; using 120"
# a CHAP key's bad value is refused
printf 'node.session.auth.authmethod = Kerberos\n' > "$R/bad.conf"
expect_st 6 $ok -c "$R/bad.conf"
expect_err "could not read $R/bad.conf"

# --- the firmware
expect_st 21 --sysfs "$R/sys" -f
expect_err "iscsistart: Could not get list of targets from firmware."
expect_st 21 --sysfs "$R/sys" -b
expect_err "iscsistart: Could not get boot entry."
expect_st 21 --sysfs "$R/sys" -N
expect_err "iscsistart: Could not setup fw entries."
ibft_tree "$R/sys"
expect_st 0 --sysfs "$R/sys" -f
sed -e "s/= $IBFT_SECRET\$/= ********/" -e "s/= $IBFT_RSECRET\$/= ********/" "$GOLDEN/fw_S.txt" > "$R/want"
cmp -s "$R/out" "$R/want" || { diff -u "$R/want" "$R/out"; fail "-f differs from iscsiadm -m fw"; }
ISCSI_SYSFS_ROOT=$R/sys "$START" -f > "$R/out2" || fail "-f with ISCSI_SYSFS_ROOT"
cmp -s "$R/out2" "$R/want" || fail "-f with ISCSI_SYSFS_ROOT differs"

[ "$(id -u)" = 0 ] || { echo "note: not root: the login parts are not run"; echo PASS; exit 0; }

# --- logins through the private iscsid: no iscsi_tcp here
printf '#!/bin/sh\necho "$*" >> %s/modprobe.calls\nexit 1\n' "$R" > "$R/modprobe"
chmod 755 "$R/modprobe"
run_st() { st --sysfs "$R/sys" --iscsid ./iscsid/iscsid --modprobe "$R/modprobe" "$@"; }
run_st $ok -u bootuser -w "$IBFT_SECRET"
[ $? = 12 ] || { cat "$R/out" "$R/err"; fail "login without iscsi_tcp: expected 12"; }
expect_out "iscsistart: Logging into $TN 127.0.0.1:3260,1"
expect_err "initiator reported error (12 - "
expect_err "iSCSI transport 'tcp' not available: $R/sys/class/iscsi_transport/tcp does not exist (kernel module iscsi_tcp not loaded"
grep -qx -- "-q iscsi_tcp" "$R/modprobe.calls" || fail "the private iscsid did not try to load iscsi_tcp"
grep -q "$IBFT_SECRET" "$R/out" "$R/err" && fail "a secret was printed"
[ -z "$(ls -A "$TMPDIR")" ] || fail "left behind in \$TMPDIR: $(ls -A "$TMPDIR")"
pgrep -f -- "--root $TMPDIR/iscsistart" >/dev/null && fail "the private iscsid is still running"
# -b: every firmware target, the firmware's initiator name
run_st -b
[ $? = 12 ] || { cat "$R/out" "$R/err"; fail "-b without iscsi_tcp: expected 12"; }
expect_out "iscsistart: Logging into $IBFT_T0 127.0.0.1:3260,1"
expect_out "iscsistart: Logging into $IBFT_T1 127.0.0.2:3261,1"
expect_st 20 $ok --iscsid "$R/no-such-iscsid"
expect_err "cannot run $R/no-such-iscsid: No such file or directory"
printf '#!/bin/sh\necho "cannot start" >&2\nexit 1\n' > "$R/bad-iscsid"
chmod 755 "$R/bad-iscsid"
expect_st 20 $ok --iscsid "$R/bad-iscsid"
expect_err "the private iscsid exited with status 1 before it was ready"
expect_err "iscsistart: cannot start"
[ -z "$(ls -A "$TMPDIR")" ] || fail "left behind in \$TMPDIR: $(ls -A "$TMPDIR")"
# a systemd unit's notification and activation variables are not the
# private daemon's
printf '#!/bin/sh\nenv > %s/daemon.env\nexit 1\n' "$R" > "$R/env-iscsid"
chmod 755 "$R/env-iscsid"
NOTIFY_SOCKET=/run/systemd/notify LISTEN_PID=$$ LISTEN_FDS=1 expect_st 20 $ok --iscsid "$R/env-iscsid"
grep -q "^PATH=" "$R/daemon.env" || fail "the daemon stand-in did not run"
grep -E "^(NOTIFY_SOCKET|LISTEN_PID|LISTEN_FDS)=" "$R/daemon.env" && fail "systemd variables reached the private iscsid"

# --- secrets leave the command line at once; SIGTERM stops the daemon
# (a stand-in that never answers keeps iscsistart waiting for it)
printf '#!/bin/sh\nexec sleep 30\n' > "$R/slow-iscsid"
chmod 755 "$R/slow-iscsid"
"$START" $ok -u bootuser -w "$IBFT_SECRET" -U tgtuser --password_in="$IBFT_RSECRET" \
	-P node.session.auth.password=Third-Secret-9 --iscsid "$R/slow-iscsid" >"$R/out" 2>"$R/err" &
SPID=$!
for i in $(seq 1 100); do
	DAEMON=$(pgrep -P "$SPID" sleep)
	[ -n "$DAEMON" ] && break
	sleep 0.05
done
[ -n "$DAEMON" ] || fail "the stand-in daemon did not start"
tr '\0' ' ' < "/proc/$SPID/cmdline" > "$R/cmdline"
for s in "$IBFT_SECRET" "$IBFT_RSECRET" Third-Secret-9; do
	grep -q -- "$s" "$R/cmdline" && fail "secret in /proc/$SPID/cmdline: $(cat "$R/cmdline")"
	grep -q -- "$s" "/proc/$DAEMON/cmdline" && fail "secret on the daemon's command line"
done
grep -q -- "--iscsid $R/slow-iscsid" "$R/cmdline" || fail "cmdline check saw the wrong process: $(cat "$R/cmdline")"
grep -q -- "$IN" "$R/cmdline" || fail "the rest of the command line was wiped too"
[ -n "$(ls -A "$TMPDIR")" ] || fail "no private directory while it runs"
t0=$(date +%s%N)
kill -TERM "$SPID"
wait "$SPID"
rc=$?
t1=$(date +%s%N)
[ "$rc" = 20 ] || { cat "$R/out" "$R/err"; fail "SIGTERM while waiting for the daemon: exit $rc, expected 20"; }
[ $(( (t1 - t0) / 1000000 )) -lt 3000 ] || fail "SIGTERM took $(( (t1 - t0) / 1000000 )) ms"
kill -0 "$DAEMON" 2>/dev/null && fail "the daemon outlived iscsistart"
[ -z "$(ls -A "$TMPDIR")" ] || fail "left behind in \$TMPDIR after SIGTERM: $(ls -A "$TMPDIR")"
echo PASS
