#!/bin/bash
# iSNS discovery against open-isns's isnsd (Debian open-isns-server) on
# 127.0.0.1 holding TARGETS targets: this project's iscsiadm against
# Debian's open-iscsi iscsiadm, in one run: what each finds (the lists
# must be the same) and how long it takes, as medians and ratios.
#
#   bench/isns_bench.sh [BUILD_DIR] [TARGETS] [RUNS]
#
# BUILD_DIR holds iscsiadm/iscsiadm (default ./build); TARGETS defaults
# to 40 (registered by isnsadm, 10 per entity), RUNS per variant to 11.
# isnsd (open-isns 0.101) answers a DevAttrQry with at most about 50
# targets (more: "Internal error", status 11) to either initiator; both
# ask with one DevAttrQry, so the bench stays below that.
# Needs root, open-isns-server, open-isns-utils, open-iscsi, python3.
# Variants, each through both initiators:
#   -o nonpersistent   the query alone, nothing written
#   new records        the query and every node record written into an
#                      empty database (both databases on tmpfs)
#
# What open-iscsi needs on this host, which has no kernel iSCSI: its
# iscsiadm drops an iface whose transport is not in
# /sys/class/iscsi_transport, asks iscsid for the initiator name, and
# tries to reach iscsid (waiting a second to start it) before it
# discovers. The whole run is in a private mount namespace: tmpfs over
# /etc/iscsi (open-iscsi's database, nothing of the host's is read or
# written) and over /sys/class with a stand-in iscsi_transport/tcp; the
# initiator name is set on an iface ("bench"); and while it runs, a
# stand-in on iscsid's abstract socket closes each connection at once
# (iscsiadm logs "daemon died?" and goes on; SIGPIPE ignored), so its figures are the
# discovery's, not the wait. Its iscsid cannot run here at all (no
# NETLINK_ISCSI), so neither can its registration with the server
# (discovery.isns.use_discoveryd): that part is compared in no figure.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
ntargets=${2:-40}
runs=${3:-11}
adm=$build/iscsiadm/iscsiadm

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 77; }
[ -x "$adm" ] || { echo "no $adm: build first (make)"; exit 1; }
oi=/sbin/iscsiadm
[ -x "$oi" ] && "$oi" --version 2>/dev/null | grep -q "iscsiadm version 2" ||
	{ echo "Debian's open-iscsi is not installed (apt-get install open-iscsi)"; exit 77; }
command -v python3 >/dev/null || { echo "needs python3"; exit 77; }
if [ -z "${ISNS_BENCH_NS:-}" ]; then
	exec env ISNS_BENCH_NS=1 unshare -m --propagation private "$0" "$build" "$ntargets" "$runs"
fi

. "$top/tests/lib/tgtd.sh"
. "$top/tests/lib/isnsd.sh"
isnsd_require
work=$(mktemp -d)
stub=
trap 'kill $stub $ISNSD_PID 2>/dev/null; wait 2>/dev/null; umount "$work"; rm -rf "$work"' EXIT
mount -t tmpfs tmpfs "$work" || exit 1
mount -t tmpfs tmpfs /etc/iscsi || exit 1

isnsd_start "$work/isnsd" || exit 1
echo "isnsd on 127.0.0.1:$ISNSD_PORT: registering $ntargets targets..."
T=iqn.2024-01.org.example.bench
for ((e = 0; e * 10 < ntargets; e++)); do
	args=()
	for ((i = e * 10 + 1; i <= ntargets && i <= e * 10 + 10; i++)); do
		args+=("target=$T:t$(printf %05d "$i")")
	done
	isnsadm_local --register "entity=bench$e" "portal=127.0.0.1:$((3260 + e))/tcp" "${args[@]}" \
		>"$work/reg.out" 2>&1 || { cat "$work/reg.out"; exit 1; }
done
# (isnsadm's own query fails with "Internal error" beyond a few dozen
# targets: the count is checked on what the initiators find)
# (after isnsd and isnsadm are done with the real one)
mount -t tmpfs tmpfs /sys/class || exit 1
mkdir -p /sys/class/iscsi_transport/tcp
echo 1 > /sys/class/iscsi_transport/tcp/handle
echo 0x39 > /sys/class/iscsi_transport/tcp/caps

# ours: its own root on tmpfs
ours=$work/ours
mkdir -p "$ours/sys/class"
echo "InitiatorName=iqn.2024-01.org.example:bench-ours" > "$ours/initiatorname.iscsi"
# open-iscsi: the initiator name on an iface
echo "InitiatorName=iqn.2024-01.org.example:bench-oi" > /etc/iscsi/initiatorname.iscsi
echo "iscsid.startup = /bin/true" > /etc/iscsi/iscsid.conf
"$oi" -m iface -I bench -o new >/dev/null 2>&1
"$oi" -m iface -I bench -o update -n iface.initiatorname -v iqn.2024-01.org.example:bench-oi >/dev/null ||
	exit 1
python3 -c '
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind("\0ISCSIADM_ABSTRACT_NAMESPACE")
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
' 2>"$work/stub.err" &
stub=$!
# open-iscsi's iscsiadm writes its request to the stand-in, which may
# have closed already: EPIPE, not death by SIGPIPE (inherited)
trap '' PIPE
sleep 0.3
kill -0 "$stub" 2>/dev/null || echo "note: iscsid's abstract socket is taken; open-iscsi's figures include its wait"

p=127.0.0.1:$ISNSD_PORT
ours_np="'$adm' --root '$ours' --sysfs '$ours/sys' -m discovery -t isns -p $p -o nonpersistent"
ours_db="'$adm' --root '$ours' --sysfs '$ours/sys' -m discovery -t isns -p $p"
oi_np="'$oi' -m discovery -t isns -p $p -I bench -o nonpersistent 2>>$work/oi.err"
oi_db="'$oi' -m discovery -t isns -p $p -I bench 2>/dev/null"
ours_clean="rm -rf '$ours/nodes' '$ours/isns'"
oi_clean="rm -rf /etc/iscsi/nodes /etc/iscsi/isns"

# what each finds
eval "$ours_np" | sort > "$work/ours.list"
eval "$oi_np" | sort > "$work/oi.list"
n_ours=$(wc -l < "$work/ours.list")
n_oi=$(wc -l < "$work/oi.list")
echo "found: ours $n_ours portals, open-iscsi $n_oi (registered: $ntargets)"
[ "$n_ours" = "$ntargets" ] && [ "$n_oi" = "$ntargets" ] ||
	{ echo "not all $ntargets found (isnsd answers at most about 50 targets):"; grep -v "daemon died" "$work/oi.err" | tail -3; exit 1; }
if diff -q "$work/ours.list" "$work/oi.list" >/dev/null; then
	echo "same list: yes"
else
	echo "same list: NO"
	diff "$work/ours.list" "$work/oi.list" | head -10
fi
eval "$ours_clean; $ours_db" >/dev/null
eval "$oi_clean; $oi_db" >/dev/null
echo "records written: ours $(find "$ours/nodes" -type f | wc -l), open-iscsi $(find /etc/iscsi/nodes -type f | wc -l)"

now() { date +%s.%N; }
# RUNS wall times of CMD after PREP each: median into MED, best into BEST
timeit() { # PREP CMD
	local t0 t1 n times=()
	for _ in $(seq 1 "$runs"); do
		eval "$1"
		t0=$(now)
		n=$(eval "$2" | wc -l)
		t1=$(now)
		[ "$n" = "$n_ours" ] || { echo "listed $n portals, expected $n_ours: $2" >&2; exit 1; }
		times+=("$(echo "$t1 - $t0" | bc -l)")
	done
	mapfile -t times < <(printf '%s\n' "${times[@]}" | sort -g)
	BEST=${times[0]}
	MED=${times[$((${#times[@]} / 2))]}
}
ms() { printf '%8.1f' "$(echo "$1 * 1000" | bc -l)"; }
row() { # label ours_med ours_best oi_med oi_best
	printf '%-18s %s %s   %s %s   %6.2fx\n' "$1" "$(ms "$2")" "$(ms "$3")" "$(ms "$4")" "$(ms "$5")" \
		"$(echo "$2 / $4" | bc -l)"
}

timeit ":" "$ours_np"
o_np=$MED ob_np=$BEST
timeit ":" "$oi_np"
i_np=$MED ib_np=$BEST
timeit "$ours_clean" "$ours_db"
o_db=$MED ob_db=$BEST
timeit "$oi_clean" "$oi_db"
i_db=$MED ib_db=$BEST

echo
echo "iSNS discovery of $ntargets targets, $runs runs each, wall time in ms (median, best)"
printf '%-18s %17s   %17s   %s\n' "" "this project" "open-iscsi 2.1.8" "ratio (median)"
row "-o nonpersistent" "$o_np" "$ob_np" "$i_np" "$ib_np"
row "new records" "$o_db" "$ob_db" "$i_db" "$ib_db"

# iscsid: registration and a target that appears later, found through
# the server's State Change Notification (this project only: open-iscsi's
# iscsid, and so its discoveryd, needs NETLINK_ISCSI)
umount /sys/class
d=$work/daemon
mkdir -p "$d/sys/class"
echo "InitiatorName=iqn.2024-01.org.example:bench-daemon" > "$d/initiatorname.iscsi"
printf 'isns.address = 127.0.0.1\nisns.port = %s\n' "$ISNSD_PORT" > "$d/iscsid.conf"
t0=$(now)
"$build/iscsid/iscsid" -f --root "$d" --sysfs-root "$d/sys" --modprobe "" 2>"$d/log" &
dpid=$!
stub="$stub $dpid"
for _ in $(seq 1 1000); do
	grep -q "iSNS: the server lists" "$d/log" && break
	sleep 0.005
done
t1=$(now)
grep -q "iSNS: the server lists" "$d/log" || { cat "$d/log"; echo "iscsid did not register"; exit 1; }
echo
echo "iscsid start -> registered, subscribed and $ntargets records written: $(ms "$(echo "$t1 - $t0" | bc -l)") ms"
lat=()
for k in $(seq 1 5); do
	t0=$(now)
	isnsadm_local --register "entity=late$k" "portal=127.0.0.2:$((3360 + k))/tcp" "target=$T:late$k" \
		>/dev/null 2>&1 || { echo "isnsadm --register late$k failed"; exit 1; }
	for _ in $(seq 1 2000); do
		[ -f "$d/nodes/$T:late$k/127.0.0.2,$((3360 + k)),1/default" ] && break
		sleep 0.002
	done
	t1=$(now)
	[ -f "$d/nodes/$T:late$k/127.0.0.2,$((3360 + k)),1/default" ] || { echo "late$k not found"; exit 1; }
	lat+=("$(echo "$t1 - $t0" | bc -l)")
	# (gone again: isnsd's answer has room for about 50 targets)
	isnsadm_local --deregister "iscsi-name=$T:late$k" >/dev/null 2>&1
	sleep 0.2
done
mapfile -t lat < <(printf '%s\n' "${lat[@]}" | sort -g)
echo "target registered -> its record written by iscsid (SCN, query, write), 5 runs:" \
	"median $(ms "${lat[2]}") ms, best $(ms "${lat[0]}") ms (isnsadm's own run included)"
kill -TERM "$dpid"
wait "$dpid"
grep -q "iSNS: deregistered" "$d/log" && echo "iscsid stopped: deregistered" || echo "iscsid stopped: NOT deregistered"
