#!/bin/bash
# SIGHUP and RELOAD reread the configuration and the initiator name (and
# keep the old ones when the new files are broken); SIGTERM, SIGINT and
# STOP exit 0 and remove the pid file and socket; without -f the daemon
# detaches once it is ready.
. "${top_srcdir:-.}/tests/integration/lib_iscsid.sh"
setup_root
start_daemon

echo "InitiatorName=iqn.2020-01.org.example:renamed" > "$R/initiatorname.iscsi"
probe "$S" hello
expect_out "initiator_name=$IT_NAME" "name before SIGHUP"
kill -HUP "$DPID"
for i in $(seq 1 50); do
	probe "$S" hello
	case "$OUT" in *renamed*) break ;; esac
	sleep 0.05
done
expect_out "initiator_name=iqn.2020-01.org.example:renamed" "name after SIGHUP"
expect_log "SIGHUP: reloaded $R/iscsid.conf" "SIGHUP logged"

# A config with lines open-iscsi accepts and this initiator warns about
# (not a number, a trailing comment, no '='): SIGHUP applies the rest.
printf 'node.session.cmds_max = 64 # tuned\nnode.session.queue_depth = lots\nno equals sign\n' > "$R/iscsid.conf"
echo "InitiatorName=iqn.2020-01.org.example:warned" > "$R/initiatorname.iscsi"
kill -HUP "$DPID"
for i in $(seq 1 50); do
	probe "$S" hello
	case "$OUT" in *warned*) break ;; esac
	sleep 0.05
done
expect_out "initiator_name=iqn.2020-01.org.example:warned" "SIGHUP with warnings applies"
expect_log "iscsid.conf:1: node.session.cmds_max: using 64, ignoring '# tuned' after it" "SIGHUP warning"
expect_log "iscsid.conf:2: node.session.queue_depth: 'lots' is not a number; using 32" "SIGHUP warning"
probe "$S" reload
expect_status 0 "RELOAD with warnings"
echo "InitiatorName=iqn.2020-01.org.example:renamed" > "$R/initiatorname.iscsi"
probe "$S" reload
expect_status 0 "RELOAD"

# A broken config (a CHAP key's bad value, which a default would turn
# into weaker authentication): SIGHUP keeps the previous settings,
# RELOAD says why.
printf 'node.session.cmds_max = 64\nnode.session.auth.authmethod = Kerberos\n' > "$R/iscsid.conf"
echo "InitiatorName=iqn.2020-01.org.example:third" > "$R/initiatorname.iscsi"
kill -HUP "$DPID"
sleep 0.3
expect_log "configuration not reloaded, keeping the previous one" "broken config on SIGHUP"
probe "$S" hello
expect_status 0 "HELLO after a broken reload"
expect_out "initiator_name=iqn.2020-01.org.example:renamed" "settings kept after a broken reload"
probe "$S" reload
expect_status 7 "RELOAD of a broken config"
expect_out "configuration not reloaded" "RELOAD of a broken config"
expect_out "iscsid.conf:2:" "RELOAD names the bad line"
printf 'node.session.cmds_max = 64\n' > "$R/iscsid.conf"
probe "$S" reload
expect_status 0 "RELOAD"
expect_out "configuration reloaded from $R/iscsid.conf" "RELOAD"
probe "$S" hello
expect_out "initiator_name=iqn.2020-01.org.example:third" "name after RELOAD"

# SIGTERM: exit 0, pid file and socket gone.
stop_daemon
st=$?
[ $st = 0 ] || fail "SIGTERM: exit status $st"
[ ! -e "$R/iscsid.pid" ] || fail "SIGTERM: pid file left behind"
[ ! -e "$S" ] || fail "SIGTERM: socket left behind"
expect_log "received SIGTERM; stopping" "SIGTERM logged"

# SIGINT
start_daemon
kill -INT "$DPID"
wait "$DPID"
st=$?
DPID=
[ $st = 0 ] || fail "SIGINT: exit status $st"

# STOP request
start_daemon
probe "$S" stop
expect_status 0 "STOP"
expect_out "iscsid is stopping" "STOP"
wait "$DPID"
st=$?
DPID=
[ $st = 0 ] || fail "STOP: exit status $st"
[ ! -e "$R/iscsid.pid" ] || fail "STOP: pid file left behind"

# Without -f: the command returns once the daemon answers.
"$ISCSID" --root "$R" --sysfs-root "$R/sys" --modprobe "" --ipc-allow-gid "$(id -g)" 2>>"$R/log"
st=$?
[ $st = 0 ] || fail "daemon mode: exit status $st"
probe "$S" hello
expect_status 0 "daemon mode HELLO"
pid=$(cat "$R/iscsid.pid")
kill -0 "$pid" || fail "daemon mode: pid file names no process"
DPID=$pid   # for cleanup
kill -TERM "$pid"
for i in $(seq 1 100); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
kill -0 "$pid" 2>/dev/null && fail "daemon did not exit on SIGTERM"
DPID=
[ ! -e "$R/iscsid.pid" ] || fail "daemon mode: pid file left behind"
echo "PASS"
