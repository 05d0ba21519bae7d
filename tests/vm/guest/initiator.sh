# Guest shell library (busybox sh): one interface to the initiator under
# test, so the VM scenarios read the same for this project's iscsid/iscsiadm
# and for Debian's open-iscsi.  Sourced from $VMTEST_LIB/initiator.sh.
#
#   INITIATOR=ours       iscsid/iscsiadm of this project, at $OURS_DIR
#                        (default /opt/ours), every file under $INIT_ROOT
#   INITIATOR=openiscsi  /usr/sbin/iscsid and /usr/sbin/iscsiadm, /etc/iscsi
#
# Daemon:   init_setup, init_start, init_stop, init_kill9, init_pid,
#           init_reset (stop + forget every node record)
# CLI:      iadm ARGS...             the right iscsiadm, the right root
#           node_set IQN PORTAL KEY VALUE
#           auth_fail_ok RC          is RC an acceptable "authorization failed"?
# Kernel:   session_ids, session_count, session_of IQN, session_state SID,
#           disks_of_session SID, all_disks, disk_count, disk_bytes DISK,
#           wait_for_disks N TIMEOUT, wait_no_sessions TIMEOUT,
#           p3_disks [IQN]           "sdX" per running disk in -m session -P 3
# Misc:     step, fail, wait_for SECONDS CMD..., now_ms, rss_kb PID

INITIATOR=${INITIATOR:-ours}
INIT_NAME=${INIT_NAME:-iqn.2003-01.org.example.vmtest:initiator}
OURS_DIR=${OURS_DIR:-/opt/ours}
INIT_ROOT=${INIT_ROOT:-/run/ours}
INIT_LOG=${INIT_LOG:-/tmp/iscsid.log}
INIT_PIDFILE=/run/vmtest-iscsid.pid
PORTAL=${PORTAL:-127.0.0.1:3260}

step() { echo "== $* ($(cut -d' ' -f1 /proc/uptime)s)"; }
# fail MSG: print, show the daemon log tail, and end the scenario.
fail() {
    echo "FAIL: $*"
    if [ -s "$INIT_LOG" ]; then
        echo "--- last lines of the iscsid log ($INITIATOR)"
        tail -n 25 "$INIT_LOG"
    fi
    exit 1
}

# wait_for SECONDS CMD...: poll CMD every 0.2 s until it succeeds.
wait_for() {
    local n=$(( $1 * 5 )); shift
    while [ "$n" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2; n=$((n - 1))
    done
    return 1
}

now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }
# Resident KiB of a process: smaps_rollup's Rss, which the kernel counts
# page by page. VmRSS in /proc/PID/status is summed from per-task caches
# that are folded in every 64 page faults: right after iscsid locked
# itself in memory it read ~1.5 MiB low (kernel 6.1), which went into
# every "RSS growth" figure measured from there.
rss_kb() {
    local v
    v=$(awk '$1 == "Rss:" { print $2; exit }' "/proc/$1/smaps_rollup" 2>/dev/null)
    [ -n "$v" ] || v=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null)
    echo "$v"
}

# Configuration shared by both initiators.  replacement_timeout is well
# above the outages the scenarios cause (4 s), so I/O must survive them.
init_conf_text() {
    cat <<'EOF'
node.startup = manual
node.session.timeo.replacement_timeout = 60
node.conn[0].timeo.login_timeout = 15
node.conn[0].timeo.logout_timeout = 15
node.conn[0].timeo.noop_out_interval = 5
node.conn[0].timeo.noop_out_timeout = 10
node.session.initial_login_retry_max = 4
node.session.scan = auto
EOF
}

init_setup() {
    case $INITIATOR in
    ours)
        ISCSID_BIN=$OURS_DIR/iscsid; ISCSIADM_BIN=$OURS_DIR/iscsiadm
        mkdir -p "$INIT_ROOT"
        [ -f "$INIT_ROOT/iscsid.conf" ] || init_conf_text >"$INIT_ROOT/iscsid.conf"
        printf 'InitiatorName=%s\n' "$INIT_NAME" >"$INIT_ROOT/initiatorname.iscsi"
        ;;
    openiscsi)
        ISCSID_BIN=/usr/sbin/iscsid; ISCSIADM_BIN=/usr/sbin/iscsiadm
        mkdir -p /etc/iscsi /var/lib/iscsi /run/lock/iscsi
        if [ ! -f /etc/iscsi/iscsid.conf ]; then
            { echo "iscsid.startup = /usr/sbin/iscsid"; init_conf_text; } >/etc/iscsi/iscsid.conf
        fi
        printf 'InitiatorName=%s\n' "$INIT_NAME" >/etc/iscsi/initiatorname.iscsi
        ;;
    *) echo "initiator.sh: unknown INITIATOR '$INITIATOR'" >&2; return 1 ;;
    esac
    [ -x "$ISCSID_BIN" ] && [ -x "$ISCSIADM_BIN" ] ||
        { echo "initiator.sh: $ISCSID_BIN or $ISCSIADM_BIN missing" >&2; return 1; }
}

# iadm ARGS...: this initiator's iscsiadm; its exit status.
iadm() {
    [ -n "${ISCSIADM_BIN:-}" ] || init_setup || return 1
    if [ "$INITIATOR" = ours ]; then
        "$ISCSIADM_BIN" --root "$INIT_ROOT" "$@"
    else
        "$ISCSIADM_BIN" "$@"
    fi
}

init_pid() { cat "$INIT_PIDFILE" 2>/dev/null; }

init_alive() { local p; p=$(init_pid) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

# Inode of our control socket, empty if none (a stale one survives SIGKILL).
ours_sock_inode() { stat -c %i "$INIT_ROOT/iscsid.sock" 2>/dev/null; }

init_ready() {
    init_alive || return 1
    if [ "$INITIATOR" = ours ]; then
        [ -S "$INIT_ROOT/iscsid.sock" ] && [ "$(ours_sock_inode)" != "$INIT_OLD_SOCK" ]
    else
        netstat -xl 2>/dev/null | grep -q ISCSIADM_ABSTRACT_NAMESPACE
    fi
}

# init_start: start the daemon in its own session (iscsid signals its whole
# process group on exit) and wait until it accepts control connections.
init_start() {
    local pid
    init_setup || return 1
    INIT_OLD_SOCK=
    [ "$INITIATOR" = ours ] && INIT_OLD_SOCK=$(ours_sock_inode)
    echo "--- iscsid start ($INITIATOR, $(cut -d' ' -f1 /proc/uptime)s)" >>"$INIT_LOG"
    if [ "$INITIATOR" = ours ]; then
        setsid "$ISCSID_BIN" -f --root "$INIT_ROOT" ${INIT_DEBUG:+-d "$INIT_DEBUG"} >>"$INIT_LOG" 2>&1 &
    else
        setsid "$ISCSID_BIN" -f ${INIT_DEBUG:+-d "$INIT_DEBUG"} >>"$INIT_LOG" 2>&1 &
    fi
    pid=$!
    echo "$pid" >"$INIT_PIDFILE"
    if ! wait_for 15 init_ready; then
        echo "initiator.sh: iscsid ($INITIATOR) did not become ready" >&2
        tail -n 20 "$INIT_LOG" >&2
        return 1
    fi
}

# init_stop: SIGTERM, wait up to 10 s, then SIGKILL.
init_stop() {
    local pid n=50
    pid=$(init_pid) || return 0
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    while [ "$n" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.2; n=$((n - 1)); done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    rm -f "$INIT_PIDFILE"
    return 0
}

# init_kill9: SIGKILL, as a crash; waits up to 20 s for the process to be
# gone. A daemon that runs on was seen when the kernel flushed the signal
# (iscsi_host_remove() in DESTROY_SESSION, and in a CREATE_SESSION that a
# pending SIGKILL makes fail, flushes the caller's pending signals, and
# later SIGKILLs are dropped as "already dying"): iscsid sends those from
# a clone for that reason, and this reports it.
init_kill9() {
    local pid n=0
    pid=$(init_pid) || return 1
    kill -KILL "$pid" || return 1
    while [ -e "/proc/$pid" ] && [ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]; do
        n=$((n + 1))
        if [ "$n" -ge 200 ]; then
            echo "initiator.sh: pid $pid survives SIGKILL ($(grep -E '^(State|SigPnd|ShdPnd)' "/proc/$pid/status" 2>/dev/null | tr '\n' ' '))" >&2
            return 1
        fi
        sleep 0.1
    done
    wait "$pid" 2>/dev/null
    rm -f "$INIT_PIDFILE"
}

# init_reset: log out what is left, stop the daemon, forget the node
# records (between scenarios or benchmark runs).
init_reset() {
    if [ -n "$(session_ids)" ] && init_alive; then
        iadm -m node --logoutall=all >/dev/null 2>&1
        wait_no_sessions 20
    fi
    init_alive && iadm -m node -o delete >/dev/null 2>&1
    init_stop
    if [ "$INITIATOR" = ours ]; then
        rm -rf "$INIT_ROOT"
    else
        rm -rf /etc/iscsi/nodes /etc/iscsi/send_targets
    fi
    ISCSIADM_BIN=
}

node_set() { # IQN PORTAL KEY VALUE
    iadm -m node -T "$1" -p "$2" -o update -n "$3" -v "$4"
}

# LIO answers a CHAP failure with 0x0201 and closes the socket at once, so
# open-iscsi reports 24 or 19 depending on timing (tests/vm/README.md).
# This project must say 24.
auth_fail_ok() {
    [ "$1" = 24 ] && return 0
    [ "$INITIATOR" = openiscsi ] && [ "$1" = 19 ]
}

# ---- kernel state, read from sysfs (independent of the initiator) ---------

session_ids() {
    local s
    for s in /sys/class/iscsi_session/session*; do
        [ -e "$s" ] && echo "${s##*/session}"
    done
}
session_count() { session_ids | wc -l; }
session_state() { cat "/sys/class/iscsi_session/session$1/state" 2>/dev/null; }

session_of() { # IQN -> SID (the first one)
    local s
    for s in /sys/class/iscsi_session/session*; do
        [ "$(cat "$s/targetname" 2>/dev/null)" = "$1" ] && { echo "${s##*/session}"; return 0; }
    done
    return 1
}

# Block devices of session SID, one per line, by LUN.
disks_of_session() {
    local d l
    for d in /sys/class/iscsi_session/session"$1"/device/target*/*:*:*:*/block/*; do
        [ -e "$d" ] || continue
        l=${d%/block/*}; l=${l##*:}
        echo "$l ${d##*/}"
    done | sort -n | cut -d' ' -f2
}

all_disks() {
    local d l
    for d in /sys/class/iscsi_session/session*/device/target*/*:*:*:*/block/*; do
        [ -e "$d" ] && echo "${d##*/}"
    done
}

# A disk counts once its device node exists.  Sets DISK_COUNT without a
# fork: the wait loops below poll it while hundreds of logins run.
count_disks() {
    local d
    DISK_COUNT=0
    for d in /sys/class/iscsi_session/session*/device/target*/*:*:*:*/block/*; do
        [ -b "/dev/${d##*/}" ] && DISK_COUNT=$((DISK_COUNT + 1))
    done
}
disk_count() { count_disks; echo "$DISK_COUNT"; }

disk_bytes() { echo $(( $(cat "/sys/block/$1/size") * 512 )); }

# Polled every 0.1 s: the timing resolution of the benchmark.
wait_for_disks() { # N TIMEOUT: at least N iSCSI disks with device nodes
    local n=$(( $2 * 10 ))
    while [ "$n" -gt 0 ]; do
        count_disks
        [ "$DISK_COUNT" -ge "$1" ] && return 0
        sleep 0.1; n=$((n - 1))
    done
    return 1
}

# In the VM every sd disk is an iSCSI one (qemu runs without drives).
wait_no_sessions() { # TIMEOUT: no session and no iSCSI disk left
    local n=$(( $1 * 10 )) d
    while [ "$n" -gt 0 ]; do
        for d in /sys/class/iscsi_session/session* /sys/block/sd*; do
            [ -e "$d" ] && break
        done
        [ -e "$d" ] || return 0
        sleep 0.1; n=$((n - 1))
    done
    return 1
}

# logout_all TIMEOUT: --logoutall=all, then no session and no disk within
# TIMEOUT s; 1 with the reason on stdout when not.
logout_all() {
    local rc
    iadm -m node --logoutall=all >/tmp/logout.out 2>&1; rc=$?
    if [ "$rc" != 0 ]; then
        echo "--logoutall=all exited $rc: $(tail -n1 /tmp/logout.out)"; return 1
    fi
    if ! wait_no_sessions "$1"; then
        echo "$(session_count) sessions left $1 s after --logoutall=all"; return 1
    fi
}

# p3_disks [IQN]: disks that `iscsiadm -m session -P 3` reports as
# "Attached scsi disk sdX<TAB><TAB>State: running" (for IQN's sessions only).
p3_disks() {
    iadm -m session -P 3 2>/dev/null | awk -v want="${1:-}" '
        /^Target: / { cur = $2 }
        /Attached scsi disk / {
            if (want != "" && cur != want) next
            for (i = 1; i <= NF; i++) if ($i == "disk") d = $(i + 1)
            if ($0 ~ /State: running/) print d
        }'
}
