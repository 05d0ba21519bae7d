#!/bin/bash
# Recovery benchmark in ONE VM boot (tests/vm harness, LIO target and the
# kernel initiator inside qemu TCG): how long after a target comes back a
# session is LOGGED_IN again, this project's iscsid next to Debian's
# open-iscsi.
#
# Usage: bench/vm/recovery_bench.sh [CYCLES [OUTAGE_S]]   (default 10 3)
# Each cycle disables the target's portal group (LIO tpgt_1/enable = 0:
# the session drops, logins are refused) for OUTAGE_S seconds plus a
# per-cycle offset of 0 to 1.9 s (so that no retry interval happens to be
# in phase with the outage), enables it, and times re-enable -> sysfs
# session state LOGGED_IN (polled every ~20 ms; /proc/uptime has 10 ms
# resolution). Prints every cycle, then
# min/median/max per initiator and the ratio of the medians
# ours/open-iscsi. A side that fails is reported as FAILED with the
# reason, never with numbers.
#
# Environment: ISCSID, ISCSIADM (default build/iscsid/iscsid,
# build/iscsiadm/iscsiadm), BENCH_INITIATORS (default "ours openiscsi"),
# VM_CACHE.  Serial log: $VM_CACHE/bench/recovery_bench.log
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/vm/common.sh"

cycles=${1:-10}
outage=${2:-3}
for v in "$cycles" "$outage"; do
    case $v in ''|*[!0-9]*) die "CYCLES and OUTAGE_S must be numbers, not '$v'" ;; esac
done
initiators=${BENCH_INITIATORS:-ours openiscsi}

. "$top/bench/vm/bench_common.sh"
bench_initiators $initiators

out=$VM_CACHE/bench
mkdir -p "$out"
log=$out/recovery_bench.log
results=
if [ -n "$run_list" ]; then
    vm_log "one VM boot: $cycles outages of $outage s per initiator: $run_list (log: $log)"
    bench_boot recovery "$top/bench/vm/guest_recovery.sh" 1024 $(( 240 + cycles * (outage + 77) * 2 )) \
        "BENCH_CYCLES=$cycles BENCH_OUTAGE_S=$outage BENCH_INITIATORS=$run_list"
fi

# ok_values WHO: the ms of every successful cycle, one per line.
ok_values() { printf '%s\n' "$results" | awk -v w="$1" '$2 == w && $4 == "ok" { print $5 }'; }
stat() { # WHO min|median|max
    ok_values "$1" | sort -n | awk -v what="$2" '{ v[NR] = $1 } END {
        if (NR == 0) exit
        if (what == "min") print v[1]
        else if (what == "max") print v[NR]
        else if (NR % 2) print v[(NR + 1) / 2]
        else printf "%d\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { # A B
    if [ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ]; then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
    else
        echo "n/a"
    fi
}
cell() { # WHO CYCLE
    local line
    case " $initiators " in *" $1 "*) ;; *) echo "not run"; return ;; esac
    [ -n "${unavailable[$1]:-}" ] && { echo "not built"; return; }
    line=$(printf '%s\n' "$results" | awk -v w="$1" -v c="$2" '$2 == w && $3 == c' | tail -n1)
    case $line in
    *" ok "*) echo "$line" | awk '{ print $5 }' ;;
    *" fail "*) echo FAILED ;;
    *) echo "no result" ;;
    esac
}

echo
echo "Recovery benchmark: kernel $(sed -n 's/^KERNEL_VERSION=//p' "$VM_CACHE/kernel.env"), qemu TCG, LIO on 127.0.0.1,"
echo "portal group disabled for $outage s + 0..1.9 s, then enabled; ms from the re-enable until the session is LOGGED_IN"
printf '%-10s %10s %12s %12s %16s\n' outage length ours open-iscsi ours/open-iscsi
printf '%-10s %10s %12s %12s %16s\n' ---------- ---------- ------------ ------------ ----------------
for i in $(seq 1 "$cycles"); do
    a=$(cell ours "$i"); b=$(cell openiscsi "$i")
    len=$(printf '%s\n' "$results" | awk -v c="$i" '$3 == c && $4 == "ok" { printf "%.1f s\n", $6 / 1000 }' | head -n1)
    printf '%-10s %10s %12s %12s %16s\n' "$i" "${len:-?}" "$a" "$b" "$(ratio "$(echo "$a" | tr -dc 0-9)" "$(echo "$b" | tr -dc 0-9)")"
done
for m in min median max; do
    a=$(stat ours $m); b=$(stat openiscsi $m)
    printf '%-10s %10s %12s %12s %16s\n' "$m" "" "${a:-n/a}" "${b:-n/a}" "$(ratio "$a" "$b")"
done
echo
# Why a side has no numbers.
rc=0
for who in $initiators; do
    if [ -n "${unavailable[$who]:-}" ]; then
        echo "$who: ${unavailable[$who]}"; rc=1; continue
    fi
    printf '%s\n' "$results" | awk -v w="$who" '$2 == w && $4 == "fail" {
        c = $3; $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print w ", outage " c ": FAILED: " $0 }'
    [ "$(ok_values "$who" | wc -l)" = "$cycles" ] || rc=1
done
exit $rc
