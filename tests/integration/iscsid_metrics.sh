#!/usr/bin/env bash
# iscsid's metrics file (iscsid.conf: iscsid.metrics_dir) with a real
# session and a real node_exporter: tgtd on 127.0.0.1, iscsid, a uspace
# session through iscsiadm.
#  - the file appears with the session up and one login, the carrier's
#    counters, no initiator name, and is not world-writable;
#  - `iscsiadm -m session -s --json` (and -r SID) shows the same figures;
#    plain -s still prints open-iscsi's text;
#  - tgtd stopped for a few seconds and started again: the file shows the
#    recovery, then the session up again with recoveries >= 1, a second
#    login and time spent in recovery;
#  - prometheus-node-exporter's textfile collector serves our iscsi_
#    series with node_textfile_scrape_error 0;
#  - logout: the session's series go; iscsid stops: the file goes.
set -u
. "${top_srcdir:-.}/tests/integration/iscsiadm_uspace_lib.sh"
ua_require
NODE_EXPORTER=${NODE_EXPORTER:-$(command -v prometheus-node-exporter || command -v node_exporter)}
[ -n "$NODE_EXPORTER" ] || fail "prometheus-node-exporter is not installed (tests/lib/deps.sh: deps_test)"
command -v curl >/dev/null || fail "curl is not installed (tests/lib/deps.sh: deps_test)"
tgtd_start || exit 1
T=iqn.2024-01.org.example:metrics
PORT=$TGTD_PORT
BACK=$R/back.img
truncate -s 16M "$BACK"
configure() {
	tgtd_target_nolun 1 "$T" &&
		tgtd_adm --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$BACK"
}
configure || fail "tgtd target"

M=$R/metrics
PROM=$M/iscsi.prom
mkdir -m 755 "$M"
cat >"$R/iscsid.conf" <<EOF
iscsid.metrics_dir = $M
iscsid.metrics_interval = 1
EOF
start_iscsid
ua_node "$T"
ua_login "$T"
sid=$(ua_sid "$T")
check "login (session $sid)" [ -n "$sid" ]
LBL="{target=\"$T\",portal=\"127.0.0.1:$PORT\",iface=\"uspace\",sid=\"$sid\"}"

prom_has() { grep -qxF -- "$1" "$PROM" 2>/dev/null; }
wait_prom() { # LINE [SECONDS]
	local i
	for i in $(seq 1 $((${2:-5} * 10))); do
		prom_has "$1" && return 0
		sleep 0.1
	done
	return 1
}
# the value of a series (first match), or nothing
prom_value() { grep -F -- "$1$LBL " "$PROM" 2>/dev/null | awk '{ print $2; exit }'; }

check "the file shows the session up" wait_prom "iscsi_session_up$LBL 1"
check "one login" prom_has "iscsi_session_logins_total$LBL 1"
check "no recovery yet" prom_has "iscsi_session_recoveries_total$LBL 0"
check "state logged_in" prom_has "iscsi_session_state{target=\"$T\",portal=\"127.0.0.1:$PORT\",iface=\"uspace\",sid=\"$sid\",state=\"logged_in\"} 1"
check "the transport in iscsi_session_info" prom_has "iscsi_session_info{target=\"$T\",portal=\"127.0.0.1:$PORT\",iface=\"uspace\",sid=\"$sid\",transport=\"uspace\"} 1"
check "the last login's duration" [ -n "$(prom_value iscsi_session_last_login_duration_seconds)" ]
check "the carrier's counters (libiscsi's, refreshed every interval)" \
	wait_prom "# TYPE iscsi_session_tx_data_bytes_total counter" 5
check "HELP and TYPE lines" grep -q "^# HELP iscsi_session_logins_total " "$PROM"
mode=$(stat -c %a "$PROM")
check "the file is not world-writable (mode $mode)" [ $((8#$mode & 8#022)) = 0 ]
check "no initiator name in the file" bash -c "! grep -qF '$INAME' '$PROM'"
check "no temporary file left" [ "$(ls -A "$M")" = iscsi.prom ]

# --- iscsiadm -m session -s --json: the same figures
run -m session -s --json
rc=$?
check "-s --json (exit $rc)" [ "$rc" = 0 ]
expect_json
json_get() { # PYTHON-EXPR on the first session
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["sessions"][0]; print(eval(sys.argv[2]))' "$R/out" "$1"
}
check "-s --json: state LOGGED_IN" [ "$(json_get 's["state"]')" = LOGGED_IN ]
check "-s --json: logins 1" [ "$(json_get 's["logins"]')" = 1 ]
check "-s --json: recoveries 0" [ "$(json_get 's["recoveries"]')" = 0 ]
check "-s --json: no connection lost" [ "$(json_get 's["connection_errors"]["connection_lost"]')" = 0 ]
check "-s --json: the SNMP counters" [ -n "$(json_get 's["counters"]["txdata_octets"]')" ]
check "-s --json: the sid and target" [ "$(json_get 's["sid"], s["target"], s["transport"]')" = "($sid, '$T', 'uspace')" ]
run -m session -r "$sid" -s --json
check "-r $sid -s --json: one session, logins 1" [ "$(json_get 'len(json.load(open(sys.argv[1]))["sessions"]), s["logins"]')" = "(1, 1)" ]
run -m session -s
check "plain -s: open-iscsi's text, unchanged" bash -c "head -2 '$R/out' | tail -1 | grep -qx 'iSCSI SNMP:' && ! grep -q logins '$R/out'"

# --- the target goes away and comes back
tgtd_kill
check "the file shows the recovery" wait_prom "iscsi_session_up$LBL 0" 10
check "state recovery" prom_has "iscsi_session_state{target=\"$T\",portal=\"127.0.0.1:$PORT\",iface=\"uspace\",sid=\"$sid\",state=\"recovery\"} 1"
sleep 2
check "tgtd back on the same portal" tgtd_again configure
check "the session is up again" wait_prom "iscsi_session_up$LBL 1" 30
check "a second login" prom_has "iscsi_session_logins_total$LBL 2"
rec=$(prom_value iscsi_session_recoveries_total)
check "recoveries >= 1 ($rec)" [ "${rec:-0}" -ge 1 ]
secs=$(prom_value iscsi_session_recovery_seconds_total)
check "time in recovery ($secs s) at least the 2 s tgtd was away" awk -v s="${secs:-0}" 'BEGIN { exit !(s >= 2) }'
check "the lost connection by cause" grep -q "^iscsi_session_connection_errors_total{.*sid=\"$sid\",cause=\"connection_lost\"} [1-9]" "$PROM"
run -m session -s --json
check "-s --json after the recovery: recoveries >= 1, 2 logins" \
	[ "$(json_get 's["recoveries"] >= 1, s["logins"], s["recovery_ms"] >= 2000')" = "(True, 2, True)" ]

# --- a real node_exporter serves the file
NPORT=$(tgtd_free_port)
"$NODE_EXPORTER" --collector.disable-defaults --collector.textfile --collector.textfile.directory="$M" \
	--web.listen-address="127.0.0.1:$NPORT" >"$R/node_exporter.log" 2>&1 &
NEPID=$!
HPIDS="$HPIDS $NEPID"
for i in $(seq 1 100); do
	curl -sf "http://127.0.0.1:$NPORT/metrics" >"$R/scrape" 2>/dev/null && break
	sleep 0.1
done
check "node_exporter answers on 127.0.0.1:$NPORT" [ -s "$R/scrape" ]
check "node_textfile_scrape_error 0" grep -qx "node_textfile_scrape_error 0" "$R/scrape"
# node_exporter sorts the labels by name
check "node_exporter serves iscsi_session_up 1" \
	grep -qxF "iscsi_session_up{iface=\"uspace\",portal=\"127.0.0.1:$PORT\",sid=\"$sid\",target=\"$T\"} 1" "$R/scrape"
check "node_exporter serves iscsi_session_recoveries_total" \
	grep -q "^iscsi_session_recoveries_total{.*sid=\"$sid\".*} [1-9]" "$R/scrape"
check "node_exporter serves the carrier's counters" grep -q "^iscsi_session_tx_data_bytes_total{" "$R/scrape"
check "node_exporter serves iscsi_sessions 1" grep -qx "iscsi_sessions 1" "$R/scrape"
check "node_exporter has the file's mtime" grep -q "^node_textfile_mtime_seconds{file=\"$PROM\"}" "$R/scrape"
[ -s "$R/scrape" ] || tail -5 "$R/node_exporter.log"
kill "$NEPID" 2>/dev/null
wait "$NEPID" 2>/dev/null

# --- logout: its series go; a clean stop: the file goes
run -m node -T "$T" -p "127.0.0.1:$PORT" -I uspace --logout
check "logout (exit $?)" [ -z "$(ua_sid "$T")" ]
check "the file has no session after the logout" wait_prom "iscsi_sessions 0" 5
check "... and no series of it" bash -c "! grep -qF 'sid=\"$sid\"' '$PROM'"
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
DPID=
check "iscsid's clean stop removes the file" [ ! -e "$PROM" ]
finish
