#!/usr/bin/env bash
# The userspace transport against libiscsi itself, one tgtd on loopback,
# one run: libiscsi's iscsi-perf (the anchor; bench/libiscsi_write for
# writes, which iscsi-perf cannot do), then iscsi-uspace through its loop
# device and through its FUSE file, driven by fio (libaio, O_DIRECT):
#
#   4 KiB random reads, 32 in flight      IOPS
#   1 MiB sequential reads, 8 in flight   MB/s
#   1 MiB sequential writes, 8 in flight  MB/s
#
# and the CPU seconds per GiB moved, twice: all CPU time on the host
# during the run minus tgtd's (includes kernel threads such as the loop
# driver's, and whatever else runs on the host), and the initiator's own
# processes alone (iscsi-perf / libiscsi_write; iscsi-uspace plus fio),
# which a busy shared host disturbs much less. Prints each figure and its
# ratio to the anchor. Aim: >= 0.5x the IOPS, >= 0.7x the bandwidth.
#
# Run as root from a build directory (or set builddir): bench/uspace_bench.sh
# Environment: BENCH_SECONDS (10 per run), BENCH_PERF=1 records a perf
# profile of the uspace random-read run into uspace-bench.perf,
# BENCH_VIA=iscsid makes the session the way users do (iscsid from the
# build tree, iscsiadm -I uspace --login: the same iscsi-uspace data path)
# instead of starting iscsi-uspace directly; BENCH_USPACE=PROGRAM measures
# another iscsi-uspace (an older build, say) against the same anchor.
set -u
builddir=${builddir:-.}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
. "$top_srcdir/tests/lib/tgtd.sh"
tgtd_require
SECS=${BENCH_SECONDS:-10}
USP=${BENCH_USPACE:-$(cd "$builddir" && pwd)/uspace/iscsi-uspace}
WRITER=$(cd "$builddir" && pwd)/bench/libiscsi_write
for t in iscsi-perf fio; do
	command -v $t >/dev/null || { echo "$t not installed (apt-get install libiscsi-bin fio)"; exit 1; }
done
[ -x "$USP" ] && [ -x "$WRITER" ] || { echo "build first (make)"; exit 1; }

VIA=${BENCH_VIA:-direct}
case $VIA in direct|iscsid) ;; *) echo "BENCH_VIA must be direct or iscsid"; exit 1 ;; esac
RUNDIR=$(mktemp -d /tmp/uspace-bench.XXXXXX)
export ISCSI_USPACE_RUNDIR=$RUNDIR ISCSI_USPACE_PROGRAM=$USP
SID=1
DPID=
test_cleanup() {
	timeout 30 "$USP" logout --sid "$SID" >/dev/null 2>&1
	"$USP" cleanup --all >/dev/null 2>&1
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	rm -rf "$RUNDIR" /dev/shm/uspace-bench.img
}
tgtd_start || exit 1
T=iqn.2024-01.org.example:bench
IQN=iqn.2024-01.org.example:bench-initiator
# in memory, so that the target's disk is not what is measured
truncate -s 2G /dev/shm/uspace-bench.img
tgtd_target_nolun 1 "$T"
tgtd_adm --mode logicalunit --op new --tid 1 --lun 1 --backing-store /dev/shm/uspace-bench.img
URL=iscsi://127.0.0.1:$TGTD_PORT/$T/1
HZ=$(getconf CLK_TCK)

busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
tgtd_cpu() { awk '{ print $14 + $15 }' "/proc/$TGTD_PID/stat"; }
# cpu_begin / cpu_end BYTES: initiator CPU seconds per GiB for the run
cpu_begin() { B0=$(busy); G0=$(tgtd_cpu); }
cpu_end() {
	local b g
	b=$(busy); g=$(tgtd_cpu)
	echo "$b $B0 $g $G0 $1 $HZ" | awk '{ cpu = (($1 - $2) - ($3 - $4)) / $6; gib = $5 / 1073741824;
		printf "%.2f", (gib > 0 ? cpu / gib : 0) }'
}

# process CPU: the anchor's through /usr/bin/time, iscsi-uspace's from
# /proc, fio's from its own report
ptime() { /usr/bin/time -f '%U %S' -o "$RUNDIR/ptime" "$@"; }
ptime_s() { awk '{ print $1 + $2 }' "$RUNDIR/ptime"; }
pcpu() { awk -v hz="$HZ" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }
per_gib() { awk -v c="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? c / (b / 1073741824) : 0) }'; }
perf_read() { # INFLIGHT BLOCKS [-r]: prints "IOPS"
	timeout $((SECS + 30)) /usr/bin/time -f '%U %S' -o "$RUNDIR/ptime" \
		iscsi-perf -i "$IQN" -m "$1" -b "$2" ${3:-} -t "$SECS" "$URL" 2>&1 |
		tr '\r' '\n' | sed -n 's/.*iops average \([0-9]*\).*/\1/p' | tail -1
}
fio_run() { # FILE RW BS DEPTH: prints "IOPS KiB/s" of the direction
	local out
	out=$(fio --name=b --filename="$1" --rw="$2" --bs="$3" --iodepth="$4" --direct=1 --ioengine=libaio \
		--runtime="$SECS" --time_based --minimal 2>/dev/null) || return 1
	# and fio's CPU seconds (its usr% + sys% of the run)
	case $2 in
	*write) echo "$out" | awk -F';' -v t="$SECS" '{ print $49, $48, ($88 + $89) / 100 * t }' ;;
	*) echo "$out" | awk -F';' -v t="$SECS" '{ print $8, $7, ($88 + $89) / 100 * t }' ;;
	esac
}

declare -A R C P
# --- the anchor ---
cpu_begin; iops=$(perf_read 32 8 -r)
R[a_rand]=$iops; C[a_rand]=$(cpu_end $((iops * 4096 * SECS))); P[a_rand]=$(per_gib "$(ptime_s)" $((iops * 4096 * SECS)))
cpu_begin; iops=$(perf_read 8 2048)
R[a_seqr]=$(awk -v i="$iops" 'BEGIN { printf "%.0f", i * 1048576 / 1e6 }'); C[a_seqr]=$(cpu_end $((iops * 1048576 * SECS)))
P[a_seqr]=$(per_gib "$(ptime_s)" $((iops * 1048576 * SECS)))
cpu_begin; mbs=$(ptime "$WRITER" -i "$IQN" -m 8 -b 2048 -t "$SECS" "$URL" | awk '{ print $2 }')
wbytes=$(awk -v m="$mbs" -v s="$SECS" 'BEGIN { printf "%.0f", m * 1e6 * s }')
R[a_seqw]=${mbs%.*}; C[a_seqw]=$(cpu_end "$wbytes"); P[a_seqw]=$(per_gib "$(ptime_s)" "$wbytes")

# --- iscsi-uspace ---
if [ "$VIA" = iscsid ]; then
	# what a user does: iscsid, a node record through iface uspace, login
	ADM=$(cd "$builddir" && pwd)/iscsiadm/iscsiadm
	ROOT=$RUNDIR/root
	mkdir -p "$ROOT"
	echo "InitiatorName=$IQN" >"$ROOT/initiatorname.iscsi"
	"$(cd "$builddir" && pwd)/iscsid/iscsid" -f --root "$ROOT" --modprobe "" 2>"$RUNDIR/iscsid.log" &
	DPID=$!
	for i in $(seq 1 100); do [ -S "$ROOT/iscsid.sock" ] && break; sleep 0.05; done
	"$ADM" --root "$ROOT" -m node -o new -T "$T" -p "127.0.0.1:$TGTD_PORT" -I uspace >/dev/null &&
		"$ADM" --root "$ROOT" -m node -T "$T" -p "127.0.0.1:$TGTD_PORT" -I uspace --login >/dev/null ||
		{ echo "iscsiadm -I uspace --login failed"; cat "$RUNDIR/iscsid.log"; exit 1; }
	SID=$("$ADM" --root "$ROOT" -m session | sed -n 's/^uspace: \[\([0-9]*\)\].*/\1/p' | head -1)
else
	cat >"$RUNDIR/rec" <<R
node.name = $T
node.conn[0].address = 127.0.0.1
node.conn[0].port = $TGTD_PORT
iface.initiatorname = $IQN
R
	"$USP" start --sid 1 --syslog <"$RUNDIR/rec" >/dev/null || { echo "iscsi-uspace did not log in"; exit 1; }
fi
DEV=$("$USP" status --sid "$SID" | awk '$1 == "lun" && $2 == 1' | tr ' ' '\n' | sed -n 's/^loop=//p')
FILE=$("$USP" status --sid "$SID" | awk '$1 == "lun" && $2 == 1' | tr ' ' '\n' | sed -n 's/^file=//p')
USPPID=$("$USP" status --sid "$SID" | awk '$1 == "pid" { print $2 }')
for path in loop file; do
	f=$DEV; [ $path = file ] && f=$FILE
	perfpid=
	if [ "${BENCH_PERF:-0}" = 1 ] && [ $path = loop ] && command -v perf >/dev/null; then
		perf record -q -a -g -o uspace-bench.perf -- sleep "$SECS" >/dev/null 2>&1 &
		perfpid=$!
	fi
	u0=$(pcpu "$USPPID"); cpu_begin; set -- $(fio_run "$f" randread 4k 32)
	R[${path}_rand]=${1%.*}; C[${path}_rand]=$(cpu_end $(( ${1%.*} * 4096 * SECS )))
	P[${path}_rand]=$(per_gib "$(awk -v a="$u0" -v b="$(pcpu "$USPPID")" -v f="$3" 'BEGIN { print b - a + f }')" $(( ${1%.*} * 4096 * SECS )))
	[ -n "$perfpid" ] && wait "$perfpid"
	u0=$(pcpu "$USPPID"); cpu_begin; set -- $(fio_run "$f" read 1M 8)
	R[${path}_seqr]=$(awk -v k="$2" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }'); C[${path}_seqr]=$(cpu_end $(( $2 * 1024 * SECS )))
	P[${path}_seqr]=$(per_gib "$(awk -v a="$u0" -v b="$(pcpu "$USPPID")" -v f="$3" 'BEGIN { print b - a + f }')" $(( $2 * 1024 * SECS )))
	u0=$(pcpu "$USPPID"); cpu_begin; set -- $(fio_run "$f" write 1M 8)
	R[${path}_seqw]=$(awk -v k="$2" 'BEGIN { printf "%.0f", k * 1024 / 1e6 }'); C[${path}_seqw]=$(cpu_end $(( $2 * 1024 * SECS )))
	P[${path}_seqw]=$(per_gib "$(awk -v a="$u0" -v b="$(pcpu "$USPPID")" -v f="$3" 'BEGIN { print b - a + f }')" $(( $2 * 1024 * SECS )))
done
stats=$("$USP" stats --sid "$SID")
if [ "$VIA" = iscsid ]; then
	"$ADM" --root "$ROOT" -m session -u >/dev/null
else
	"$USP" logout --sid "$SID" >/dev/null
fi

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }
printf '\nuspace_bench: tgtd on 127.0.0.1 (memory-backed LUN), %s s per run, session %s\n\n' "$SECS" \
	"$([ "$VIA" = iscsid ] && echo "made by iscsid (iscsiadm -I uspace)" || echo "started directly")"
printf '%-30s %12s %12s %7s %12s %7s\n' "" "libiscsi" "uspace loop" "ratio" "uspace file" "ratio"
row() { # LABEL KEY
	printf '%-30s %12s %12s %7s %12s %7s\n' "$1" "${R[a_$2]}" "${R[loop_$2]}" "$(ratio "${R[loop_$2]}" "${R[a_$2]}")" \
		"${R[file_$2]}" "$(ratio "${R[file_$2]}" "${R[a_$2]}")"
	printf '%-30s %12s %12s %7s %12s %7s\n' "  CPU s/GiB, host" "${C[a_$2]}" "${C[loop_$2]}" "" "${C[file_$2]}" ""
	printf '%-30s %12s %12s %7s %12s %7s\n' "  CPU s/GiB, initiator procs" "${P[a_$2]}" "${P[loop_$2]}" \
		"$(ratio "${P[loop_$2]}" "${P[a_$2]}")" "${P[file_$2]}" "$(ratio "${P[file_$2]}" "${P[a_$2]}")"
}
row "4 KiB random read, QD32 IOPS" rand
row "1 MiB seq read, QD8 MB/s" seqr
row "1 MiB seq write, QD8 MB/s" seqw
echo
echo "anchor: iscsi-perf for reads, bench/libiscsi_write for writes (same libiscsi, no FUSE/loop)"
echo "targets: IOPS >= 0.5x, MB/s >= 0.7x; host load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "CPU ratio: initiator processes vs the anchor's (loop: the loop driver's kernel threads not counted)"
echo "$stats" | awk '$1 == "conn_failures" || $1 == "io_errors" { printf "uspace %s %s\n", $1, $2 }'
