# open-isns's iSNS server (isnsd, Debian open-isns-server) on loopback for
# tests, and tgtd registering its targets there. Sourced after tgtd.sh by
# tests/integration/isns_*.sh.
#
#   isnsd_require              exit 77 (SKIP) unless isnsd and isnsadm exist
#   isnsd_start DIR            one isnsd on 127.0.0.1 at a free port, its
#                              database, pid file and control socket in DIR
#                              (ISNSD_DEFAULT_DD=0: nodes in no discovery
#                              domain see nothing, as in isnsd's default);
#                              sets ISNSD_PORT ISNSD_PID ISNSD_DIR (the caller
#                              stops it: kill $ISNSD_PID)
#   isnsadm_local ARGS...      isnsadm against it through its control socket
#                              (a control node: domains, listing everything)
#   isns_nodes TYPE            the iSCSI names of registered nodes of TYPE
#                              (Target, Initiator), one a line, sorted
#   isns_wait_nodes TYPE N [S] wait up to S seconds (10) until N nodes of
#                              TYPE are registered
#   tgtd_isns                  make the current tgtd (tgtd.sh) register its
#                              targets with this isnsd (tgtadm --mode sys:
#                              iSNSServerIP, iSNSServerPort, iSNSAccessControl
#                              Off, iSNS On; see tgtadm(8)). Give that
#                              tgtd ONE target: tgtd (1.0.85) keeps a single
#                              SCN connection, and the one isnsd opens for a
#                              second target hangs or spins it; two tgtds on
#                              127.0.0.1 register the same entity ("localhost")
#                              and replace each other.
#
# Nothing under /etc is read or written: every file isnsd and isnsadm use
# is named in DIR's configuration files.

isnsd_require() {
	if ! command -v isnsd >/dev/null 2>&1 || ! command -v isnsadm >/dev/null 2>&1; then
		echo "SKIP: isnsd/isnsadm not installed (apt-get install open-isns-server open-isns-utils)" >&2
		exit 77
	fi
}

isnsd_start() { # DIR
	local d=$1
	mkdir -p "$d/db" || return 1
	ISNSD_DIR=$d
	for _ in 1 2 3 4 5; do
		ISNSD_PORT=$(tgtd_free_port) || return 1
		# Security 0: no DSA keys (open-iscsi and tgtd use none either);
		# the default discovery domain holds every node in no domain.
		cat > "$d/isnsd.conf" <<-EOF
		Database = $d/db
		PIDFile = $d/isnsd.pid
		ControlSocket = $d/isnsctl
		BindAddress = 127.0.0.1:$ISNSD_PORT
		Security = 0
		SLPRegister = 0
		DefaultDiscoveryDomain = ${ISNSD_DEFAULT_DD:-1}
		RegistrationPeriod = 10m
		ESIMinInterval = 1m
		ESIMaxInterval = 2m
		SCNTimeout = 10
		SCNRetries = 3
		EOF
		cat > "$d/isnsadm.conf" <<-EOF
		ControlSocket = $d/isnsctl
		ServerAddress = 127.0.0.1:$ISNSD_PORT
		Security = 0
		SourceName = iqn.2024-01.org.example:isnsadm
		EOF
		isnsd -f -4 -c "$d/isnsd.conf" ${ISNSD_DEBUG:+-d "$ISNSD_DEBUG"} >"$d/isnsd.log" 2>&1 &
		ISNSD_PID=$!
		for _ in $(seq 1 100); do
			kill -0 "$ISNSD_PID" 2>/dev/null || break
			if [ -S "$d/isnsctl" ] && ss -Htln "sport = :$ISNSD_PORT" | grep -q .; then
				return 0
			fi
			sleep 0.05
		done
		kill "$ISNSD_PID" 2>/dev/null
		wait "$ISNSD_PID" 2>/dev/null
	done
	echo "isnsd did not start:" >&2
	cat "$d/isnsd.log" >&2
	return 1
}

isnsadm_local() {
	isnsadm -c "$ISNSD_DIR/isnsadm.conf" --local "$@"
}

isns_nodes() { # TYPE
	isnsadm_local --query "iscsi-node-type=$1" 2>/dev/null |
		sed -n 's/.*iSCSI name = "\(.*\)"$/\1/p' | sort
}

isns_wait_nodes() { # TYPE N [SECONDS]
	local n
	for _ in $(seq 1 $(( ${3:-10} * 20 ))); do
		n=$(isns_nodes "$1" | wc -l)
		[ "$n" = "$2" ] && return 0
		sleep 0.05
	done
	echo "isnsd lists $n $1 nodes, expected $2:" >&2
	isns_nodes "$1" >&2
	return 1
}

tgtd_isns() {
	tgtd_adm --mode sys --op update --name iSNSServerIP --value 127.0.0.1 &&
		tgtd_adm --mode sys --op update --name iSNSServerPort --value "$ISNSD_PORT" &&
		tgtd_adm --mode sys --op update --name iSNSAccessControl --value Off &&
		tgtd_adm --mode sys --op update --name iSNS --value On
}
