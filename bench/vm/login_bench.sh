#!/bin/bash
# Login/logout benchmark in ONE VM boot (tests/vm harness, LIO target and
# the kernel initiator inside qemu): N targets with one LUN each, this
# project's iscsid/iscsiadm and Debian's open-iscsi one after the other.
#
# Usage: bench/vm/login_bench.sh [N...]        (default: "32 128")
# Measures per initiator and N:
#   login   time from the start of discovery until all N block devices exist
#   logout  time from --logoutall=all until every session and disk is gone
#   RSS     VmRSS of iscsid (/proc/PID/status) with the N sessions up
# and prints a table with the ratios ours/open-iscsi.  A side that fails is
# reported as FAILED with the reason, never with numbers.
#
# Environment: ISCSID, ISCSIADM (default build/iscsid/iscsid,
# build/iscsiadm/iscsiadm), BENCH_INITIATORS (default "ours openiscsi"),
# VM_CACHE, VM_MEM (MB, default 2048).  Serial log: $VM_CACHE/bench/login_bench.log
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/vm/common.sh"

ns=${*:-32 128}
initiators=${BENCH_INITIATORS:-ours openiscsi}
# Targets are created incrementally, so run the sizes in ascending order.
ns=$(printf '%s\n' $ns | sort -n | uniq | tr '\n' ' ')
for n in $ns; do
    case $n in ''|*[!0-9]*) die "N must be a number, not '$n'" ;; esac
done

. "$top/bench/vm/bench_common.sh"
bench_initiators $initiators

out=$VM_CACHE/bench
mkdir -p "$out"
log=$out/login_bench.log
if [ -n "$run_list" ]; then
    total=0
    for n in $ns; do total=$((total + n)); done
    vm_log "one VM boot: N = $ns, initiators: $run_list (log: $log)"
    bench_boot bench "$top/bench/vm/guest_bench.sh" "${VM_MEM:-2048}" $(( 300 + total * 20 )) \
        "BENCH_N=$(echo $ns | tr ' ' ,) BENCH_INITIATORS=$run_list"
else
    results=
fi

# field WHO N COLUMN: a number from that run's ok line, else empty.
field() {
    printf '%s\n' "$results" | awk -v w="$1" -v n="$2" -v c="$3" \
        '$2 == w && $3 == n && $4 == "ok" { print $c }' | tail -n1
}
status() { # WHO N -> ok | FAILED | not built | no result
    local line
    if [ -n "${unavailable[$1]:-}" ]; then echo "not built"; return; fi
    line=$(printf '%s\n' "$results" | awk -v w="$1" -v n="$2" '$2 == w && $3 == n' | tail -n1)
    case $line in
    *" ok "*) echo ok ;;
    *" fail "*) echo FAILED ;;
    *) echo "no result" ;;
    esac
}
ratio() { # A B
    if [ -n "$1" ] && [ -n "$2" ] && [ "$2" != 0 ]; then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
    else
        echo "n/a"
    fi
}

echo
echo "iSCSI login benchmark: kernel $(sed -n 's/^KERNEL_VERSION=//p' "$VM_CACHE/kernel.env"), qemu TCG, LIO on 127.0.0.1, 8 MiB LUN per target"
printf '%-8s %-34s %12s %12s %16s\n' targets metric ours open-iscsi ours/open-iscsi
printf '%-8s %-34s %12s %12s %16s\n' ------- ---------------------------------- ------------ ------------ ----------------
for n in $ns; do
    so=$(status ours "$n"); sc=$(status openiscsi "$n")
    for m in "5 discovery -> all disks (ms)" "6 logout -> all disks gone (ms)" "7 iscsid VmRSS after login (KiB)"; do
        col=${m%% *}; name=${m#* }
        a=$(field ours "$n" "$col"); b=$(field openiscsi "$n" "$col")
        printf '%-8s %-34s %12s %12s %16s\n' "$n" "$name" "${a:-$so}" "${b:-$sc}" "$(ratio "$a" "$b")"
    done
done
echo
# Why a side has no numbers.
for who in $initiators; do
    if [ -n "${unavailable[$who]:-}" ]; then
        echo "$who: ${unavailable[$who]}"
        continue
    fi
    for n in $ns; do
        case $(status "$who" "$n") in
        FAILED)
            printf '%s\n' "$results" | awk -v w="$who" -v n="$n" '$2 == w && $3 == n && $4 == "fail" {
                $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print w ", " n " targets: FAILED: " $0 }' | tail -n1 ;;
        "no result") echo "$who, $n targets: no result (VM exit ${vmrc:-?}; see $log)" ;;
        esac
    done
done
# Exit 0 only when every run that could be attempted produced numbers.
rc=0
for who in $initiators; do
    [ -n "${unavailable[$who]:-}" ] && { rc=1; continue; }
    for n in $ns; do [ "$(status "$who" "$n")" = ok ] || rc=1; done
done
exit $rc
