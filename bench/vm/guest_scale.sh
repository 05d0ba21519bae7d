#!/bin/sh
# Guest half of bench/vm/scale_bench.sh (busybox sh, one VM boot).  For each
# N in BENCH_N (comma separated, ascending) N LIO targets with one 8 MiB LUN
# each, then:
#
# The floor (this project's iscsid carries the sessions; "scan" and
# "remove" are the kernel's work alone, "login" includes iscsid's):
#   login   discovery start (records with node.session.scan = manual) ->
#           --loginall=all -> all N sessions LOGGED_IN, no disk (polled
#           every 0.1 s): creating the sessions without any SCSI scan,
#           i.e. TCP connect, Login PDUs, CREATE_SESSION/BIND/START_CONN
#   scan    write "- - -" to every session's /sys/class/scsi_host/hostH/scan
#           (BENCH_SCAN_JOBS shell workers, no fork per host) until all N
#           disks have device nodes
#   remove  write 1 to every disk's /sys/block/sdX/device/delete (same
#           workers) until no disk is left
#   rest    --logoutall=all of the sessions without disks (printed only:
#           it is the initiator's share, not the kernel's)
#   BENCH-FLOOR <N> ok <scan_ms> <remove_ms> <rest_ms> <login_ms>
#   BENCH-FLOOR <N> fail <reason...>
# scale_bench.sh reports two attach floors: "scan" alone (the kernel's
# SCSI scan and sd probe) and "create+scan" = login + scan (the sessions
# created one phase, the disks attached in the next: no overlap, so an
# initiator that scans each session as soon as it is up can beat it).
#
# Then for each initiator in BENCH_INITIATORS, one after the other:
#   attach  discovery start -> all N block devices present (ms)
#   logout  --logoutall=all start -> no session and no disk left (ms)
#   cpu     iscsid utime+stime+cutime+cstime (/proc/PID/stat, USER_HZ = 100 ticks)
#           from before discovery until all disks exist
#   rss0/1  iscsid VmRSS (KiB) before discovery / with the N sessions up
#   listing wall time (ms, best of up to BENCH_LIST_REPEAT runs, stopping
#           once a command took 5 s) of iscsiadm -m session, -P 1, -P 3,
#           --json ("-" where the initiator has no such command, TIMEOUT
#           past BENCH_LIST_TIMEOUT s, FAILED when it exits non-zero or
#           lists the wrong number of sessions), and of one `cat` of every
#           attribute file of the N iscsi_session and iscsi_connection
#           sysfs directories (cat) and of those plus each disk's SCSI
#           device state and block name (cat3, what -P 3 reads)
#   BENCH-RESULT <who> <N> ok <attach> <logout> <cpu> <rss0> <rss1> <ls> <p1> <p3> <json> <cat> <cat3>
#   BENCH-RESULT <who> <N> fail <reason...>
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

PFX=iqn.2003-01.org.example.bench:t
LOGIN_TIMEOUT=${BENCH_LOGIN_TIMEOUT:-600}
LIST_TIMEOUT=${BENCH_LIST_TIMEOUT:-60}
LIST_REPEAT=${BENCH_LIST_REPEAT:-3}
SCAN_JOBS=${BENCH_SCAN_JOBS:-4}

# Milliseconds with sub-ms resolution from /proc/timer_list ("now at N
# nsecs", third line) without a fork; /proc/uptime (10 ms) otherwise.
now() {
    local a b c d e
    if { read -r a; read -r b; read -r c d e _; } </proc/timer_list 2>/dev/null &&
       [ "$c $d" = "now at" ]; then
        NOW=$((e / 1000000))
    else
        read -r a _ </proc/uptime
        NOW=$(( ${a%.*} * 1000 + 1${a#*.}0 - 1000 ))
    fi
}

result() { echo "BENCH-RESULT $*"; }

cpu_ticks() { # PID -> utime+stime+cutime+cstime
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    # fields after "comm": state=3 ... utime=14 stime=15 cutime=16 cstime=17
    set -- $s
    shift 11
    echo $(( $1 + $2 + $3 + $4 ))
}

sessions_logged_in() { # N
    local s c=0
    for s in /sys/class/iscsi_session/session*/state; do
        [ -e "$s" ] || continue
        read -r st <"$s"
        [ "$st" = LOGGED_IN ] && c=$((c + 1))
    done
    [ "$c" -ge "$1" ]
}

# workers J CMD: run "CMD ITEM" for the items in $ITEMS split over J
# background shells (forks: J, not one per item).  Waits for those only
# (a bare `wait` would wait for iscsid too).
workers() {
    local j=0 i k pids=
    while [ "$j" -lt "$1" ]; do
        (
            k=0
            for i in $ITEMS; do
                [ $((k % $1)) = "$j" ] && $2 "$i"
                k=$((k + 1))
            done
        ) &
        pids="$pids $!"
        j=$((j + 1))
    done
    for i in $pids; do wait "$i"; done
}
scan_host() { echo "- - -" >"$1/scan"; }
delete_disk() { echo 1 >"/sys/block/$1/device/delete"; }

floor_one() {
    local n=$1 t0 t1 t2 t3 tl0 tl1 h rc i
    INITIATOR=ours; ISCSIADM_BIN=; : >"$INIT_LOG"
    if [ -n "$(session_ids)" ]; then
        echo "BENCH-FLOOR $n fail sessions left over"; return
    fi
    init_setup
    init_conf_text | sed 's/^node.session.scan = auto/node.session.scan = manual/' >"$INIT_ROOT/iscsid.conf"
    init_start || { echo "BENCH-FLOOR $n fail iscsid did not start"; return; }
    now; tl0=$NOW
    iadm -m discovery -t st -p "$PORTAL" >/tmp/disc.out 2>&1 ||
        { echo "BENCH-FLOOR $n fail discovery: $(tail -n1 /tmp/disc.out)"; init_reset; return; }
    iadm -m node --loginall=all >/tmp/login.out 2>&1; rc=$?
    # polled like wait_for_disks (0.1 s), for the same resolution
    i=1200
    while [ "$rc" = 0 ] && [ "$i" -gt 0 ] && ! sessions_logged_in "$n"; do
        sleep 0.1; i=$((i - 1))
    done
    now; tl1=$NOW
    if [ "$rc" != 0 ] || [ "$i" = 0 ]; then
        echo "BENCH-FLOOR $n fail --loginall=all exited $rc, $(session_count) sessions"; init_reset; return
    fi
    count_disks
    if [ "$DISK_COUNT" != 0 ]; then
        echo "BENCH-FLOOR $n fail $DISK_COUNT disks with node.session.scan = manual"; init_reset; return
    fi
    ITEMS=
    for h in /sys/class/iscsi_host/host*; do
        [ -e "$h" ] && ITEMS="$ITEMS /sys/class/scsi_host/${h##*/}"
    done
    now; t0=$NOW
    workers "$SCAN_JOBS" scan_host
    if ! wait_for_disks "$n" 120; then
        echo "BENCH-FLOOR $n fail $(disk_count) of $n disks after the scan writes"; init_reset; return
    fi
    now; t1=$NOW
    ITEMS=$(all_disks)
    now; t2=$NOW
    workers "$SCAN_JOBS" delete_disk
    while count_disks; [ "$DISK_COUNT" != 0 ]; do
        now; [ $((NOW - t2)) -gt 120000 ] && break
        sleep 0.05
    done
    now; t3=$NOW
    iadm -m node --logoutall=all >/dev/null 2>&1
    wait_no_sessions 120
    now
    echo "floor N=$n: login without scan $((tl1 - tl0)) ms, scan $((t1 - t0)) ms, remove $((t3 - t2)) ms, logout of the disk-less sessions $((NOW - t3)) ms"
    echo "BENCH-FLOOR $n ok $((t1 - t0)) $((t3 - t2)) $((NOW - t3)) $((tl1 - tl0))"
    init_reset
}

# list_time WHO N ARGS...: best wall time in ms, or TIMEOUT / FAILED / -
list_time() {
    local who=$1 n=$2 best= i=0 t0 rc lines
    shift 2
    while [ "$i" -lt "$LIST_REPEAT" ]; do
        now; t0=$NOW
        if [ "$who" = ours ]; then
            timeout "$LIST_TIMEOUT" "$ISCSIADM_BIN" --root "$INIT_ROOT" "$@" >/tmp/list.out 2>/tmp/list.err; rc=$?
        else
            timeout "$LIST_TIMEOUT" "$ISCSIADM_BIN" "$@" >/tmp/list.out 2>/tmp/list.err; rc=$?
        fi
        now
        if [ "$rc" = 143 ] || [ "$rc" = 124 ] || [ $((NOW - t0)) -ge $((LIST_TIMEOUT * 1000)) ]; then
            echo "  $who $*: TIMEOUT after ${LIST_TIMEOUT}s" >&2; echo TIMEOUT; return
        fi
        if [ "$rc" != 0 ]; then
            echo "  $who $*: exit $rc: $(tail -n1 /tmp/list.err)" >&2; echo FAILED; return
        fi
        case "$*" in
        "-m session") lines=$(grep -c '^tcp: ' /tmp/list.out) ;;
        *--json*) lines=$(grep -o '"sid"' /tmp/list.out | wc -l) ;;
        *) lines=$(grep -c 'SID: ' /tmp/list.out) ;;
        esac
        if [ "$lines" != "$n" ]; then
            echo "  $who $*: $lines sessions listed, not $n" >&2; echo FAILED; return
        fi
        [ -z "$best" ] || [ $((NOW - t0)) -lt "$best" ] && best=$((NOW - t0))
        [ $((NOW - t0)) -ge 5000 ] && break
        i=$((i + 1))
    done
    echo "$best"
}

cat_time() { # FILES...: best of 3 of one cat of them
    local best= i=0 t0 ok
    while [ "$i" -lt 3 ]; do
        now; t0=$NOW
        # through xargs: at 1000 sessions the names pass ARG_MAX, and a
        # cat that is not run at all (E2BIG) would time nothing
        printf '%s\n' "$@" | xargs cat >/dev/null 2>&1; ok=$?
        now
        # a sysfs file that cannot be read (a race with a state change)
        # makes cat exit 1: only 126/127 (not run) invalidate the figure
        if [ "$ok" -ge 124 ]; then echo FAILED; return; fi
        [ -z "$best" ] || [ $((NOW - t0)) -lt "$best" ] && best=$((NOW - t0))
        i=$((i + 1))
    done
    echo "$best"
}

run_one() {
    local who=$1 n=$2 t0 t1 t2 t3 rc pid rss0 rss1 c0 c1 ls p1 p3 js ct ct3 msg
    INITIATOR=$who; ISCSIADM_BIN=; : >"$INIT_LOG"
    if [ -n "$(session_ids)" ]; then
        result "$who" "$n" fail "sessions left over from the previous run"; return
    fi
    init_start || { result "$who" "$n" fail "iscsid did not start: $(tail -n1 "$INIT_LOG")"; return; }
    pid=$(init_pid)
    rss0=$(rss_kb "$pid"); c0=$(cpu_ticks "$pid")
    now; t0=$NOW
    iadm -m discovery -t st -p "$PORTAL" >/tmp/disc.out 2>&1; rc=$?
    if [ "$rc" != 0 ]; then
        result "$who" "$n" fail "discovery exited $rc: $(tail -n1 /tmp/disc.out)"; init_reset; return
    fi
    iadm -m node --loginall=all >/tmp/login.out 2>&1; rc=$?
    if [ "$rc" != 0 ]; then
        msg=$(grep -v '^Logging in\|^Login to' /tmp/login.out | tail -n1)
        result "$who" "$n" fail "--loginall=all exited $rc ($(session_count) sessions): $msg"
        init_reset; return
    fi
    if ! wait_for_disks "$n" "$LOGIN_TIMEOUT"; then
        result "$who" "$n" fail "$(disk_count) of $n disks ${LOGIN_TIMEOUT}s after --loginall=all"
        init_reset; return
    fi
    now; t1=$NOW
    c1=$(cpu_ticks "$pid"); rss1=$(rss_kb "$pid")
    echo "$who N=$n: all disks after $((t1 - t0)) ms; iscsid cpu $((c1 - c0)) ticks, VmRSS $rss0 -> $rss1 kB"
    # Let the disks' udev-less settling end before timing the listings.
    sleep 1
    ls=$(list_time "$who" "$n" -m session)
    p1=$(list_time "$who" "$n" -m session -P 1)
    p3=$(list_time "$who" "$n" -m session -P 3)
    if [ "$who" = ours ]; then js=$(list_time "$who" "$n" -m session --json); else js=-; fi
    ct=$(cat_time /sys/class/iscsi_session/session*/* /sys/class/iscsi_connection/connection*/*)
    ct3=$(cat_time /sys/class/iscsi_session/session*/* /sys/class/iscsi_connection/connection*/* \
        /sys/class/iscsi_session/session*/device/target*/*:*:*:*/state \
        /sys/class/iscsi_session/session*/device/target*/*:*:*:*/block/*/dev)
    echo "$who N=$n: -m session $ls ms, -P 1 $p1 ms, -P 3 $p3 ms, --json $js ms; cat $ct ms, cat3 $ct3 ms"
    now; t2=$NOW
    if ! msg=$(logout_all 300); then
        result "$who" "$n" fail "$msg"; init_reset; return
    fi
    now; t3=$NOW
    result "$who" "$n" ok $((t1 - t0)) $((t3 - t2)) $((c1 - c0)) "${rss0:-0}" "${rss1:-0}" \
        "$ls" "$p1" "$p3" "$js" "$ct" "$ct3"
    init_reset
}

for n in $(echo "${BENCH_N:-32}" | tr ',' ' '); do
    echo "== $n targets ($(cut -d' ' -f1 /proc/uptime)s)"
    lio_targets_grow "$n" "$PFX" 8M || exit 1
    if [ "${BENCH_FLOOR:-1}" = 1 ]; then
        echo "== floor, $n targets ($(cut -d' ' -f1 /proc/uptime)s)"
        floor_one "$n"
    fi
    for who in $(echo "${BENCH_INITIATORS:-ours,openiscsi}" | tr ',' ' '); do
        echo "== $who, $n targets ($(cut -d' ' -f1 /proc/uptime)s)"
        run_one "$who" "$n"
    done
done
exit 0
