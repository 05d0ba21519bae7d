#!/bin/bash
# Scale benchmark in ONE VM boot (tests/vm harness, LIO target and the
# kernel initiator inside qemu TCG): N targets with one 8 MiB LUN each;
# this project's iscsid/iscsiadm beside Debian's open-iscsi beside the
# kernel floor, as ratios (guest half: bench/vm/guest_scale.sh).
#
# Usage: bench/vm/scale_bench.sh [N...]        (default: "32 128 512")
#
# The floor is what the kernel needs for N sessions. This project's iscsid
# first logs the sessions in with node.session.scan = manual (so no disk
# exists yet), then the kernel's steps are timed alone:
#   attach floor, scan only
#                = writing "- - -" to every iSCSI host's scan file (4 shell
#                  workers) until all N disks have device nodes: the SCSI
#                  scan and sd probe the kernel must do for any initiator
#                  (the row "discovery -> all disks");
#   attach floor, create+scan
#                = the login phase (discovery start -> all N sessions
#                  LOGGED_IN and no disk, by this project's iscsid, so it
#                  includes iscsid's own login work) + the scan only floor:
#                  creating and scanning the sessions one phase after the
#                  other (the row "  vs create+scan floor", the login
#                  phase alone in the line below the table);
#   logout floor, remove only
#                = writing 1 to every disk's device/delete (same workers)
#                  until no disk is left: the SCSI/sd teardown that
#                  iscsi_remove_session() does, without the Logout PDUs and
#                  DESTROY_SESSION (which are an initiator's share) (the
#                  row "logout -> all disks gone");
#   logout floor, remove+logout
#                = the remove only floor + --logoutall=all of the then
#                  disk-less sessions by this project's iscsid (Logout PDUs,
#                  unbind, DESTROY_SESSION and the hosts' removal): the two
#                  phases one after the other (the row "  vs remove+logout
#                  floor", the logout phase alone in a line below the table).
# Per initiator:
#   attach       start of discovery -> all N disks exist
#   logout       --logoutall=all -> no session and no disk left
#   CPU/login    iscsid utime+stime(+children) across the attach, / N
#   RSS/session  iscsid Rss growth across the attach, / N
#   listings     iscsiadm -m session, -P 1, -P 3, --json (open-iscsi has no
#                --json) with N sessions up, best of 3, capped by
#                BENCH_LIST_TIMEOUT (default 60 s: TIMEOUT); "cat" is
#                `xargs cat` (the names pass ARG_MAX at 1000 sessions) of
#                every attribute file of the sessions and
#                connections (for -P 3 also each disk's state and dev): the
#                sysfs reading cost under the VM's emulation, the baseline
#                the listings are divided by.
# Goals (issue 10): attach <= 1.2x floor; logout <= 0.5x open-iscsi and
# <= 1.2x floor; CPU/login <= 0.3x open-iscsi; RSS < 8 KiB/session;
# listings < 50 ms at 512 outside the emulation cost.
# A side that fails is reported as FAILED with the reason, never numbers;
# exit 0 only when every attempted side produced figures.
#
# Environment: ISCSID, ISCSIADM (default build/iscsid/iscsid,
# build/iscsiadm/iscsiadm), BENCH_INITIATORS (default "ours openiscsi"),
# BENCH_FLOOR=0 (skip the floor), BENCH_LIST_TIMEOUT, VM_CACHE, VM_MEM (MB,
# default 1024 + 4 per target).  Serial log: $VM_CACHE/bench/scale_bench.log
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/vm/common.sh"

ns=${*:-32 128 512}
initiators=${BENCH_INITIATORS:-ours openiscsi}
ns=$(printf '%s\n' $ns | sort -n | uniq | tr '\n' ' ')
for n in $ns; do
    case $n in ''|*[!0-9]*) die "N must be a number, not '$n'" ;; esac
done

. "$top/bench/vm/bench_common.sh"
bench_initiators $initiators
# The floor needs this project's iscsid even when only open-iscsi is timed.
if [[ ",$run_list," != *,ours,* ]] && [ -x "$iscsid" ] && [ -x "$iscsiadm" ]; then
    bins+=(--add-bin "$iscsid:/opt/ours/iscsid" --add-bin "$iscsiadm:/opt/ours/iscsiadm")
fi
floor=${BENCH_FLOOR:-1}
# The floor needs this project's iscsid to carry the sessions.
[ -n "${unavailable[ours]:-}" ] && floor=0

out=$VM_CACHE/bench
mkdir -p "$out"
log=$out/scale_bench.log
max=0; total=0
for n in $ns; do total=$((total + n)); [ "$n" -gt "$max" ] && max=$n; done
if [ -n "$run_list" ]; then
    vm_log "one VM boot: N = $ns, initiators: $run_list, floor: $floor (log: $log)"
    bench_boot scale "$top/bench/vm/guest_scale.sh" "${VM_MEM:-$((1024 + max * 4))}" \
        "${BENCH_VM_TIMEOUT:-$(( 300 + total * 60 ))}" \
        "BENCH_N=$(echo $ns | tr ' ' ,) BENCH_INITIATORS=$run_list BENCH_FLOOR=$floor ${BENCH_LIST_TIMEOUT:+BENCH_LIST_TIMEOUT=$BENCH_LIST_TIMEOUT}"
else
    results=
fi

field() { # WHO N COLUMN (BENCH-RESULT columns: 5 = first figure)
    printf '%s\n' "$results" | awk -v w="$1" -v n="$2" -v c="$3" \
        '$1 == "BENCH-RESULT" && $2 == w && $3 == n && $4 == "ok" { print $c }' | tail -n1
}
ffield() { # N COLUMN (BENCH-FLOOR columns: 4 = first figure)
    printf '%s\n' "$results" | awk -v n="$1" -v c="$2" \
        '$1 == "BENCH-FLOOR" && $2 == n && $3 == "ok" { print $c }' | tail -n1
}
status() { # WHO N -> ok | FAILED | not built | no result | - (not asked for)
    local line
    case " $initiators floor " in *" $1 "*) ;; *) echo "-"; return ;; esac
    if [ -n "${unavailable[$1]:-}" ]; then echo "not built"; return; fi
    if [ "$1" = floor ]; then
        line=$(printf '%s\n' "$results" | awk -v n="$2" '$1 == "BENCH-FLOOR" && $2 == n' | tail -n1)
        line=${line/ $2 / x $2 }
    else
        line=$(printf '%s\n' "$results" | awk -v w="$1" -v n="$2" '$1 == "BENCH-RESULT" && $2 == w && $3 == n' | tail -n1)
    fi
    case $line in
    *" ok "*|*" ok") echo ok ;;
    *" fail "*) echo FAILED ;;
    *) echo "no result" ;;
    esac
}
num() { case $1 in ''|*[!0-9.]*) return 1 ;; esac; }
ratio() { # A B
    if num "$1" && num "$2" && [ "$2" != 0 ]; then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
    else
        echo "n/a"
    fi
}
per() { # A B N [SCALE] -> (A - B) * SCALE / N with 2 decimals
    if num "$1" && num "$2"; then
        awk -v a="$1" -v b="$2" -v n="$3" -v s="${4:-1}" 'BEGIN { printf "%.2f", (a - b) * s / n }'
    fi
}

row() { # METRIC OURS OPENISCSI FLOOR
    printf '%-28s %11s %11s %9s %12s %10s\n' "$1" "$2" "$3" "$4" "$(ratio "$2" "$3")" "$(ratio "$2" "$4")"
}

echo
echo "iSCSI scale benchmark: kernel $(sed -n 's/^KERNEL_VERSION=//p' "$VM_CACHE/kernel.env"), qemu TCG, LIO on 127.0.0.1, 8 MiB LUN per target"
echo "(times in ms; CPU in ms of iscsid per login; RSS in KiB per session; floor and cat: see the script header)"
for n in $ns; do
    so=$(status ours "$n"); sc=$(status openiscsi "$n"); sf=FAILED
    [ "$floor" = 1 ] && sf=$(status floor "$n")
    [ "$floor" = 1 ] || sf=-
    echo
    printf '%-28s %11s %11s %9s %12s %10s\n' "N = $n" ours open-iscsi floor ours/open ours/floor
    a=$(field ours "$n" 5); b=$(field openiscsi "$n" 5); f=$(ffield "$n" 4)
    row "discovery -> all disks" "${a:-$so}" "${b:-$sc}" "${f:-$sf}"
    fs=$f; fl=$(ffield "$n" 7); fcs=
    if num "$f" && num "$fl"; then fcs=$((f + fl)); elif [ -n "$f" ]; then fcs=n/a; else fcs=$sf; fi
    row "  vs create+scan floor" "${a:-$so}" "${b:-$sc}" "$fcs"
    a=$(field ours "$n" 6); b=$(field openiscsi "$n" 6); f=$(ffield "$n" 5)
    row "logout -> all disks gone" "${a:-$so}" "${b:-$sc}" "${f:-$sf}"
    fd=$(ffield "$n" 6); frd=
    if num "$f" && num "$fd"; then frd=$((f + fd)); elif [ -n "$f" ]; then frd=n/a; else frd=$sf; fi
    row "  vs remove+logout floor" "${a:-$so}" "${b:-$sc}" "$frd"
    a=$(per "$(field ours "$n" 7)" 0 "$n" 10); b=$(per "$(field openiscsi "$n" 7)" 0 "$n" 10)
    row "iscsid CPU per login (ms)" "${a:-$so}" "${b:-$sc}" -
    a=$(per "$(field ours "$n" 9)" "$(field ours "$n" 8)" "$n"); b=$(per "$(field openiscsi "$n" 9)" "$(field openiscsi "$n" 8)" "$n")
    row "iscsid RSS per session" "${a:-$so}" "${b:-$sc}" -
    for m in "10 -m session:14" "11 -m session -P 1:14" "12 -m session -P 3:15" "13 -m session --json:14"; do
        col=${m%% *}; rest=${m#* }; name=${rest%:*}; ccol=${rest##*:}
        a=$(field ours "$n" "$col"); b=$(field openiscsi "$n" "$col"); c=$(field ours "$n" "$ccol")
        [ -n "$c" ] || c=$(field openiscsi "$n" "$ccol")
        printf '%-28s %11s %11s %9s %12s %10s\n' "$name" "${a:-$so}" "${b:-$sc}" "${c:-n/a}" "$(ratio "$a" "$b")" "$(ratio "$a" "$c")"
    done
    echo "  (listing rows: the floor column is the cat baseline, ours/floor = ours/cat)"
    r=$(printf '%s\n' "$results" | awk -v n="$n" '$1 == "BENCH-FLOOR" && $2 == n && $3 == "ok" { print $6 }' | tail -n1)
    [ -n "$r" ] && echo "  (floor run: --logoutall=all of the $n sessions once their disks were deleted: $r ms)"
    [ -n "$fl" ] && echo "  (floor run: discovery -> all $n sessions logged in without scan: $fl ms; create+scan = that + scan only $fs ms)"
done
echo
# Why a side has no numbers.
sides="$initiators"; [ "$floor" = 1 ] && sides="$sides floor"
for who in $sides; do
    if [ -n "${unavailable[$who]:-}" ]; then
        echo "$who: ${unavailable[$who]}"
        continue
    fi
    for n in $ns; do
        case $(status "$who" "$n") in
        FAILED)
            if [ "$who" = floor ]; then
                printf '%s\n' "$results" | awk -v n="$n" '$1 == "BENCH-FLOOR" && $2 == n && $3 == "fail" {
                    $1 = $2 = $3 = ""; sub(/^ +/, ""); print "floor, " n " targets: FAILED: " $0 }' | tail -n1
            else
                printf '%s\n' "$results" | awk -v w="$who" -v n="$n" '$1 == "BENCH-RESULT" && $2 == w && $3 == n && $4 == "fail" {
                    $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print w ", " n " targets: FAILED: " $0 }' | tail -n1
            fi ;;
        "no result") echo "$who, $n targets: no result (VM exit ${vmrc:-?}; see $log)" ;;
        esac
    done
done
rc=0
for who in $sides; do
    [ -n "${unavailable[$who]:-}" ] && { rc=1; continue; }
    for n in $ns; do [ "$(status "$who" "$n")" = ok ] || rc=1; done
done
exit $rc
