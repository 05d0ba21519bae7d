# Start and stop tgtd (the userspace iSCSI target from the "tgt" package)
# on loopback for tests. Sourced by tests/integration/*.sh and bench/*.sh.
#
#   tgtd_require                  exit 77 (SKIP) unless root and tgtd exist
#   tgtd_start [ADDR]             start one instance on ADDR (127.0.0.1) at a
#                                 free port; sets TGTD_ADDR TGTD_PORT TGTD_CTL
#                                 TGTD_PID TGTD_DIR. Several instances may run
#                                 at once: each call starts a new one and the
#                                 variables describe the latest.
#   tgtd_target TID NAME [NLUNS]  a target with NLUNS (default 1) 16 MiB LUNs
#                                 backed by sparse files, open to everyone
#   tgtd_target_nolun TID NAME    a target with only the controller LUN 0
#                                 (cheap: for the 1000-target cases)
#   tgtd_chap TID USER PASS       CHAP required to log in to target TID
#   tgtd_chap_mutual TID USER PASS  the target's own (outgoing) credentials
#   tgtd_discovery_chap USER PASS   CHAP required for discovery sessions
#   tgtd_discovery_chap_mutual USER PASS
#   tgtd_stop_all                 stop every instance this shell started
#                                 (tgtd_start installs an EXIT trap that
#                                 calls it, then test_cleanup if defined)
#
# tgtd is driven through its control socket (tgtadm -C <control port>), so
# instances never share state, and nothing under /etc is read or written.

TGTD_INSTANCES=""

tgtd_require() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root (tgtd)" >&2
		exit 77
	fi
	if ! command -v tgtd >/dev/null 2>&1 || ! command -v tgtadm >/dev/null 2>&1; then
		echo "SKIP: tgtd/tgtadm not installed (apt-get install tgt)" >&2
		exit 77
	fi
}

# A TCP port nobody listens on, from a range away from the usual services.
tgtd_free_port() {
	local p i
	for i in $(seq 1 200); do
		p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
		if ! ss -Htln "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

tgtd_adm() { # tgtadm against the current instance
	tgtadm -C "$TGTD_CTL" --lld iscsi "$@"
}

tgtd_start() {
	local addr=${1:-127.0.0.1} try portal
	TGTD_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tgtd.XXXXXX") || return 1
	for try in 1 2 3 4 5; do
		TGTD_PORT=$(tgtd_free_port) || return 1
		# Control ports name unix sockets under /var/run/tgtd; pick one no
		# other instance uses.
		TGTD_CTL=$(( 1000 + (RANDOM % 30000) ))
		[ -e "/var/run/tgtd/socket.$TGTD_CTL" ] && continue
		case $addr in
		*:*) portal="[$addr]:$TGTD_PORT" ;;
		*) portal="$addr:$TGTD_PORT" ;;
		esac
		tgtd -f --iscsi "portal=$portal" -C "$TGTD_CTL" >"$TGTD_DIR/tgtd.log" 2>&1 &
		TGTD_PID=$!
		TGTD_INSTANCES="$TGTD_INSTANCES $TGTD_PID:$TGTD_CTL:$TGTD_DIR"
		trap tgtd_on_exit EXIT
		# Ready when the control socket answers and the portal listens.
		local i
		for i in $(seq 1 200); do
			if ! kill -0 "$TGTD_PID" 2>/dev/null; then
				break
			fi
			if tgtadm -C "$TGTD_CTL" --lld iscsi --mode target --op show >/dev/null 2>&1 &&
				ss -Htln "sport = :$TGTD_PORT" | grep -q .; then
				TGTD_ADDR=$addr
				return 0
			fi
			sleep 0.05
		done
		# not ready: tgtd ignores SIGTERM, so a plain kill would leave the
		# wait below hanging for good
		kill -9 "$TGTD_PID" 2>/dev/null
		wait "$TGTD_PID" 2>/dev/null
	done
	echo "tgtd did not start:" >&2
	cat "$TGTD_DIR/tgtd.log" >&2
	return 1
}

# tgtd_kill: the current tgtd dies (SIGKILL), as in a crash.
tgtd_kill() {
	kill -KILL "$TGTD_PID"
	wait "$TGTD_PID" 2>/dev/null
}

# tgtd_again CONFIGURE...: a new tgtd on the portal of the one killed
# (retried while the old listening port lingers), set up by running
# CONFIGURE... once it answers. The same targets and LUNs come back.
tgtd_again() {
	local i j portal
	case $TGTD_ADDR in
	*:*) portal="[$TGTD_ADDR]:$TGTD_PORT" ;;
	*) portal="$TGTD_ADDR:$TGTD_PORT" ;;
	esac
	for i in $(seq 1 50); do
		TGTD_CTL=$(( 1000 + (RANDOM % 30000) ))
		[ -e "/var/run/tgtd/socket.$TGTD_CTL" ] && continue
		tgtd -f --iscsi "portal=$portal" -C "$TGTD_CTL" >>"$TGTD_DIR/tgtd-again.log" 2>&1 &
		TGTD_PID=$!
		TGTD_INSTANCES="$TGTD_INSTANCES $TGTD_PID:$TGTD_CTL:$TGTD_DIR"
		for j in $(seq 1 40); do
			kill -0 "$TGTD_PID" 2>/dev/null || break
			if tgtd_adm --mode target --op show >/dev/null 2>&1 &&
				ss -Htln "sport = :$TGTD_PORT" | grep -q .; then
				"$@" && return 0
			fi
			sleep 0.05
		done
		kill -KILL "$TGTD_PID" 2>/dev/null
		wait "$TGTD_PID" 2>/dev/null
		sleep 0.2
	done
	return 1
}

tgtd_target_nolun() { # TID NAME
	tgtd_adm --mode target --op new --tid "$1" --targetname "$2" &&
		tgtd_adm --mode target --op bind --tid "$1" --initiator-address ALL
}

tgtd_target() { # TID NAME [NLUNS]
	local tid=$1 name=$2 n=${3:-1} l
	tgtd_target_nolun "$tid" "$name" || return 1
	for l in $(seq 1 "$n"); do
		truncate -s 16M "$TGTD_DIR/lun$tid.$l.img" &&
			tgtd_adm --mode logicalunit --op new --tid "$tid" --lun "$l" \
				--backing-store "$TGTD_DIR/lun$tid.$l.img" || return 1
	done
}

tgtd_chap() { # TID USER PASS
	tgtd_adm --mode account --op new --user "$2" --password "$3" &&
		tgtd_adm --mode account --op bind --tid "$1" --user "$2"
}

tgtd_chap_mutual() { # TID USER PASS
	tgtd_adm --mode account --op new --user "$2" --password "$3" &&
		tgtd_adm --mode account --op bind --tid "$1" --user "$2" --outgoing
}

# Accounts bound without a target id are global in tgtd: they guard
# discovery sessions.
tgtd_discovery_chap() { # USER PASS
	tgtd_adm --mode account --op new --user "$1" --password "$2" &&
		tgtd_adm --mode account --op bind --user "$1"
}

tgtd_discovery_chap_mutual() { # USER PASS
	tgtd_adm --mode account --op new --user "$1" --password "$2" &&
		tgtd_adm --mode account --op bind --user "$1" --outgoing
}

# The EXIT trap: stop tgtd, then the test's own test_cleanup if it has one.
tgtd_on_exit() {
	local rc=$?
	tgtd_stop_all
	if command -v test_cleanup >/dev/null 2>&1; then
		test_cleanup
	fi
	exit $rc
}

tgtd_stop_all() {
	local inst pid ctl dir i
	for inst in $TGTD_INSTANCES; do
		pid=${inst%%:*}
		ctl=${inst#*:}; ctl=${ctl%%:*}
		dir=${inst#*:*:}
		# tgtd ignores SIGTERM; the control socket's "delete system" stops
		# it. A tgtd stuck in its own iSNS code never answers: bounded.
		timeout 5 tgtadm -C "$ctl" --op delete --mode system >/dev/null 2>&1
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		rm -f "/var/run/tgtd/socket.$ctl" "/var/run/tgtd/socket.$ctl.lock"
		case $dir in
		*/tgtd.*) rm -rf "$dir" ;;
		esac
	done
	TGTD_INSTANCES=""
}
