#!/bin/sh
# Guest half of bench/vm/login_bench.sh (busybox sh, one VM boot).  For each
# N in BENCH_N (comma separated) N LIO targets with one 8 MiB LUN each;
# then for each initiator in BENCH_INITIATORS, one after the other:
#   login:  discovery start -> all N block devices present (ms)
#   logout: --logoutall=all start -> no session and no disk left (ms)
#   rss:    VmRSS of iscsid with the N sessions up (KiB)
# One line per run:
#   BENCH-RESULT <initiator> <N> ok <login_ms> <logout_ms> <rss_kb> <sessions>
#   BENCH-RESULT <initiator> <N> fail <reason...>
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

PFX=iqn.2003-01.org.example.bench:t
LOGIN_TIMEOUT=${BENCH_LOGIN_TIMEOUT:-300}

result() { echo "BENCH-RESULT $*"; }

# run_one INITIATOR N: prints one BENCH-RESULT line.
run_one() {
    local n=$2 t0 tl t1 t2 t3 rc rss pid msg
    INITIATOR=$1; ISCSIADM_BIN=; : >"$INIT_LOG"
    if [ -n "$(session_ids)" ]; then
        result "$1" "$n" fail "sessions left over from the previous run"; return
    fi
    init_start || { result "$1" "$n" fail "iscsid did not start: $(tail -n1 "$INIT_LOG")"; return; }
    pid=$(init_pid)
    t0=$(now_ms)
    iadm -m discovery -t st -p "$PORTAL" >/tmp/disc.out 2>&1; rc=$?
    if [ "$rc" != 0 ]; then
        result "$1" "$n" fail "discovery exited $rc: $(tail -n1 /tmp/disc.out)"; init_reset; return
    fi
    iadm -m node --loginall=all >/tmp/login.out 2>&1; rc=$?
    if [ "$rc" != 0 ]; then
        msg=$(grep -v '^Logging in\|^Login to' /tmp/login.out | tail -n1)
        result "$1" "$n" fail "--loginall=all exited $rc ($(session_count) sessions): $msg"
        init_reset; return
    fi
    tl=$(now_ms)
    if ! wait_for_disks "$n" "$LOGIN_TIMEOUT"; then
        result "$1" "$n" fail "$(disk_count) of $n disks ${LOGIN_TIMEOUT}s after --loginall=all"
        init_reset; return
    fi
    t1=$(now_ms)
    rss=$(rss_kb "$pid")
    echo "$1 N=$n: discovery+loginall returned after $((tl - t0)) ms, all disks after $((t1 - t0)) ms"
    echo "$1 N=$n: $(session_count) sessions, $(disk_count) disks, iscsid pid $pid VmRSS ${rss} kB" \
         "(processes named iscsid: $(pidof iscsid))"
    t2=$(now_ms)
    if ! msg=$(logout_all 120); then
        result "$1" "$n" fail "$msg"; init_reset; return
    fi
    t3=$(now_ms)
    result "$1" "$n" ok $((t1 - t0)) $((t3 - t2)) "${rss:-0}" "$n"
    init_reset
}

for n in $(echo "${BENCH_N:-32}" | tr ',' ' '); do
    echo "== $n targets ($(cut -d' ' -f1 /proc/uptime)s)"
    lio_targets_grow "$n" "$PFX" 8M || exit 1
    for who in $(echo "${BENCH_INITIATORS:-ours,openiscsi}" | tr ',' ' '); do
        echo "== $who, $n targets ($(cut -d' ' -f1 /proc/uptime)s)"
        run_one "$who" "$n"
    done
done
exit 0
