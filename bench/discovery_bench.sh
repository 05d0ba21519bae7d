#!/bin/bash
# SendTargets discovery of many targets from one tgtd portal, this
# project's iscsiadm against libiscsi's iscsi-ls, in one run.
#
#   bench/discovery_bench.sh [BUILD_DIR] [TARGETS] [RUNS]
#
# BUILD_DIR holds iscsiadm/iscsiadm (default: ./build); TARGETS defaults
# to 1000, RUNS per variant to 11 (median and best are printed). Needs root and tgt
# (tgtd/tgtadm) and libiscsi-bin (iscsi-ls). Variants:
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
fresh=$(mktemp -d)
trap 'tgtd_stop_all; rm -rf "$root" "$fresh"' EXIT
tgtd_start || exit 1
echo "tgtd on 127.0.0.1:$TGTD_PORT: creating $ntargets targets..."
for i in $(seq 1 "$ntargets"); do
	tgtd_target_nolun "$i" "iqn.2024-01.org.example.bench:target$(printf %05d "$i")" || exit 1
done
echo "InitiatorName=iqn.2024-01.org.example:bench" > "$root/initiatorname.iscsi"
portal=127.0.0.1:$TGTD_PORT

now() { date +%s.%N; }

# RUNS wall times of a command (a shell snippet): the median into MED,
# the best into BEST; checks the number of targets listed
best() { # label command
	local label=$1 cmd=$2 t0 t1 n times=()
	for _ in $(seq 1 "$runs"); do
		[ -n "${PREP:-}" ] && eval "$PREP"
		t0=$(now)
		n=$(eval "$cmd" | wc -l)
		t1=$(now)
		if [ "$n" != "$ntargets" ]; then
			echo "$label: listed $n targets, expected $ntargets" >&2
			exit 1
		fi
		times+=("$(echo "$t1 - $t0" | bc -l)")
	done
	mapfile -t times < <(printf '%s\n' "${times[@]}" | sort -g)
	BEST=${times[0]}
	MED=${times[$(( ${#times[@]} / 2 ))]}
}

PREP=
best "iscsiadm -o nonpersistent" "'$adm' --root '$root' -m discovery -t st -p $portal -o nonpersistent"
t_np=$MED b_np=$BEST
# shellcheck disable=SC2016 # expanded by eval, per run
PREP='new=$(mktemp -d "$fresh/root.XXXXXX") && cp "$root/initiatorname.iscsi" "$new/"'
best "iscsiadm (new database)" "'$adm' --root \"\$new\" -m discovery -t st -p $portal"
t_db=$MED b_db=$BEST
PREP="rm -rf '$root/nodes' '$root/send_targets' '$root/static'"
best "iscsiadm (new, after rm -rf)" "'$adm' --root '$root' -m discovery -t st -p $portal"
t_rm=$MED b_rm=$BEST
PREP=
best "iscsiadm (re-discovery)" "'$adm' --root '$root' -m discovery -t st -p $portal"
t_re=$MED b_re=$BEST
best "iscsi-ls" "iscsi-ls iscsi://$portal"
t_ls=$MED b_ls=$BEST

printf '\nSendTargets discovery of %d targets, %d runs each (seconds):\n' "$ntargets" "$runs"
printf '  %-40s %8s %8s\n' "" median best
printf '  %-40s %8.3f %8.3f\n' "iscsiadm -o nonpersistent" "$t_np" "$b_np"
printf '  %-40s %8.3f %8.3f\n' "iscsiadm, writing a new database" "$t_db" "$b_db"
printf '  %-40s %8.3f %8.3f\n' "iscsiadm, new database after rm -rf" "$t_rm" "$b_rm"
printf '  %-40s %8.3f %8.3f\n' "iscsiadm, re-discovery (records kept)" "$t_re" "$b_re"
printf '  %-40s %8.3f %8.3f\n' "iscsi-ls (libiscsi)" "$t_ls" "$b_ls"
printf 'ratio (medians) iscsiadm nonpersistent / iscsi-ls: %.2f\n' "$(echo "$t_np / $t_ls" | bc -l)"
printf 'ratio (medians) iscsiadm new database / iscsi-ls:  %.2f\n' "$(echo "$t_db / $t_ls" | bc -l)"
printf 'ratio (medians) iscsiadm new after rm -rf / iscsi-ls: %.2f\n' "$(echo "$t_rm / $t_ls" | bc -l)"
printf 'ratio (medians) iscsiadm re-discovery / iscsi-ls:  %.2f\n' "$(echo "$t_re / $t_ls" | bc -l)"
