#!/bin/bash
# SendTargets discovery of many targets from one tgtd portal, this
# project's iscsiadm against libiscsi's iscsi-ls, in one run.
#
#   bench/discovery_bench.sh [BUILD_DIR] [TARGETS] [RUNS]
#
# BUILD_DIR holds iscsiadm/iscsiadm (default: ./build); TARGETS defaults
# to 1000, RUNS per variant to 11 (median and best are printed, and
# their ratios to iscsi-ls). iscsiadm -o nonpersistent and iscsi-ls run
# in alternating pairs, so a load that comes and goes weighs on both
# alike. Needs root and tgt (tgtd/tgtadm) and libiscsi-bin (iscsi-ls).
# Variants:
#   iscsiadm -o nonpersistent    discovery only, nothing written
#   iscsiadm (new database)      discovery + writing every node record, into
#                                a fresh root each run
#   iscsiadm (new, after rm -rf) the same, into a root whose database was
#                                deleted just before
#   iscsiadm (re-discovery)      discovery over existing records (kept)
#   iscsi-ls                     libiscsi's discovery, printing the list
#
# Why two new-database variants: ext4 without a journal (this project's
# machines) skips inodes freed in the last minutes when it allocates new
# ones, so creating thousands of files right after deleting thousands
# costs far more than creating them on a quiet file system; that cost
# is the file system's, not the discovery's. The fresh roots are removed
# only at the end, after every timing.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
ntargets=${2:-1000}
runs=${3:-11}
adm=$build/iscsiadm/iscsiadm

[ "$(id -u)" = 0 ] || { echo "needs root (tgtd)"; exit 77; }
. "$top/tests/lib/deps.sh"
deps_install test bench || exit 1
[ -x "$adm" ] || { echo "no $adm: build first (make)"; exit 1; }

. "$top/tests/lib/tgtd.sh"
tgtd_require
root=$(mktemp -d)
rmroot=$(mktemp -d)
keeproot=$(mktemp -d)
fresh=$(mktemp -d)
trap 'tgtd_stop_all; rm -rf "$root" "$rmroot" "$keeproot" "$fresh"' EXIT
tgtd_start || exit 1
echo "tgtd on 127.0.0.1:$TGTD_PORT: creating $ntargets targets..."
for i in $(seq 1 "$ntargets"); do
	tgtd_target_nolun "$i" "iqn.2024-01.org.example.bench:target$(printf %05d "$i")" || exit 1
done
echo "InitiatorName=iqn.2024-01.org.example:bench" > "$root/initiatorname.iscsi"
cp "$root/initiatorname.iscsi" "$rmroot/"
cp "$root/initiatorname.iscsi" "$keeproot/"
portal=127.0.0.1:$TGTD_PORT

now() { date +%s.%N; }

# The variants. The two that write nothing, iscsiadm -o nonpersistent
# and iscsi-ls, are timed in pairs, in turn first, so that a load that
# comes and goes on the machine (other builds, CI) weighs on both alike
# and no write-back of the other variants falls on either; then the
# writing variants, round-robin.
labels=(
	"iscsiadm -o nonpersistent"
	"iscsi-ls (libiscsi)"
	"iscsiadm, writing a new database"
	"iscsiadm, new database after rm -rf"
	"iscsiadm, re-discovery (records kept)"
)
cmds=(
	"'$adm' --root '$root' -m discovery -t st -p $portal -o nonpersistent"
	"iscsi-ls iscsi://$portal"
	"'$adm' --root \"\$new\" -m discovery -t st -p $portal"
	"'$adm' --root '$rmroot' -m discovery -t st -p $portal"
	"'$adm' --root '$keeproot' -m discovery -t st -p $portal"
)
# shellcheck disable=SC2016 # expanded by eval, per run
preps=(
	""
	""
	'new=$(mktemp -d "$fresh/root.XXXXXX") && cp "$root/initiatorname.iscsi" "$new/"'
	"rm -rf '$rmroot/nodes' '$rmroot/send_targets' '$rmroot/static'"
	""
)
declare -A times
# the records the re-discovery variant finds
"$adm" --root "$keeproot" -m discovery -t st -p "$portal" >/dev/null || exit 1

time_one() { # variant
	local v=$1 t0 t1 n
	[ -n "${preps[$v]}" ] && eval "${preps[$v]}"
	t0=$(now)
	n=$(eval "${cmds[$v]}" | wc -l)
	t1=$(now)
	if [ "$n" != "$ntargets" ]; then
		echo "${labels[$v]}: listed $n targets, expected $ntargets" >&2
		exit 1
	fi
	times[$v]+="$(echo "$t1 - $t0" | bc -l) "
}

for r in $(seq 1 "$runs"); do
	if [ $((r % 2)) = 1 ]; then
		time_one 0; time_one 1
	else
		time_one 1; time_one 0
	fi
done
for _ in $(seq 1 "$runs"); do
	time_one 2; time_one 3; time_one 4
done

# The median and the best of variant v, in ms, into MED and BEST.
stats() {
	local sorted
	# shellcheck disable=SC2086 # the times are words
	mapfile -t sorted < <(printf '%s\n' ${times[$1]} | sort -g)
	BEST=$(echo "${sorted[0]} * 1000" | bc -l)
	MED=$(echo "${sorted[$(( ${#sorted[@]} / 2 ))]} * 1000" | bc -l)
}

printf '\nSendTargets discovery of %d targets from tgtd, %d runs each (ms):\n' "$ntargets" "$runs"
printf '  %-40s %9s %9s\n' "" median best
declare -a med best
for v in "${!cmds[@]}"; do
	stats "$v"
	med[v]=$MED best[v]=$BEST
	printf '  %-40s %9.2f %9.2f\n' "${labels[$v]}" "$MED" "$BEST"
done
printf '\nratios to iscsi-ls (1.00 = as fast; below 1 = faster):\n'
printf '  %-40s %9s %9s\n' "" median best
for v in 0 2 3 4; do
	printf '  %-40s %9.2f %9.2f\n' "${labels[$v]}" "$(echo "${med[$v]} / ${med[1]}" | bc -l)" \
		"$(echo "${best[$v]} / ${best[1]}" | bc -l)"
done
