#!/usr/bin/env bash
# The login engine against a real target: tgtd (Debian package tgt) on
# loopback, driven by tests/tools/login_probe.
#
# Targets: one without authentication, one with CHAP, one with mutual CHAP
# (tgtd's --outgoing account). Checks the exit codes a user would see:
# 0 for good logins (CHAP with MD5, CHAP with a SHA list that tgtd
# mishandles and our MD5 retry recovers, mutual CHAP, discovery with
# SendTargets), 24 for a wrong password or a target that fails mutual
# authentication, 19 for an unknown target.
#
# Skips (77) unless run as root with tgtd installed. tgtd ignores SIGTERM,
# so it is asked to shut down through tgtadm and then killed by PID; the
# trap does that on every exit path.
set -u

builddir=${builddir:-.}
probe=$builddir/tests/tools/login_probe

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: login_tgtd needs root (tgtd)"
	exit 77
fi
if ! command -v tgtd >/dev/null 2>&1 || ! command -v tgtadm >/dev/null 2>&1; then
	echo "SKIP: tgtd/tgtadm not installed (Debian package tgt)"
	exit 77
fi
if [ ! -x "$probe" ]; then
	echo "FAIL: $probe not built"
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/login_tgtd.XXXXXX")
tgtd_pid=
cport=

cleanup() {
	if [ -n "$tgtd_pid" ]; then
		tgtadm -C "$cport" --mode system --op delete --force >/dev/null 2>&1
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$tgtd_pid" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$tgtd_pid" 2>/dev/null
		wait "$tgtd_pid" 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

port_in_use() { # <port>
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A free iSCSI port and a control port of our own, so that parallel runs
# (other build directories, a system tgtd) do not collide.
started=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
	port=$((20000 + RANDOM % 20000))
	cport=$((1000 + RANDOM % 30000))
	port_in_use "$port" && continue
	tgtd -f --iscsi "portal=127.0.0.1:$port" -C "$cport" >"$work/tgtd.log" 2>&1 &
	tgtd_pid=$!
	for _ in $(seq 1 50); do
		if tgtadm -C "$cport" --lld iscsi --mode target --op show >/dev/null 2>&1 && port_in_use "$port"; then
			started=1
			break
		fi
		kill -0 "$tgtd_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ "$started" = 1 ] && break
	# Port or control port taken: tgtd may keep running without a portal.
	kill -KILL "$tgtd_pid" 2>/dev/null
	wait "$tgtd_pid" 2>/dev/null
	tgtd_pid=
done
if [ "$started" != 1 ]; then
	echo "FAIL: could not start tgtd"
	cat "$work/tgtd.log"
	exit 1
fi

adm() {
	tgtadm -C "$cport" --lld iscsi "$@" || { echo "FAIL: tgtadm $*"; exit 1; }
}

iqn=iqn.2024-01.org.example.test
truncate -s 16M "$work/disk.img"
adm --mode target --op new --tid 1 --targetname "$iqn:noauth"
adm --mode target --op new --tid 2 --targetname "$iqn:chap"
adm --mode target --op new --tid 3 --targetname "$iqn:mutual"
for tid in 1 2 3; do
	adm --mode logicalunit --op new --tid "$tid" --lun 1 --backing-store "$work/disk.img"
	adm --mode target --op bind --tid "$tid" --initiator-address ALL
done
adm --mode account --op new --user alice --password alice-secret-12
adm --mode account --op bind --tid 2 --user alice
adm --mode account --op new --user bob --password bob-secret-345
adm --mode account --op bind --tid 3 --user bob
adm --mode account --op new --user disk3 --password target-secret-678
adm --mode account --op bind --tid 3 --user disk3 --outgoing

pass=0
fail=0
check() { # <name> <expected exit> <probe args...>
	local name=$1 want=$2 got
	shift 2
	"$probe" -p "127.0.0.1:$port" "$@" >"$work/$name.out" 2>&1
	got=$?
	if [ "$got" = "$want" ]; then
		echo "PASS: $name (exit $got)"
		pass=$((pass + 1))
	else
		echo "FAIL: $name: exit $got, expected $want"
		sed 's/^/    /' "$work/$name.out"
		fail=$((fail + 1))
	fi
}
expect_output() { # <name> <text>
	if grep -q -- "$2" "$work/$1.out"; then
		echo "PASS: $1 prints '$2'"
		pass=$((pass + 1))
	else
		echo "FAIL: $1 does not print '$2'"
		sed 's/^/    /' "$work/$1.out"
		fail=$((fail + 1))
	fi
}

check noauth 0 -t "$iqn:noauth"
expect_output noauth "login successful"
expect_output noauth "logout response 0"
check chap_md5 0 -t "$iqn:chap" -u alice -w alice-secret-12
expect_output chap_md5 "CHAP MD5"
# tgtd answers CHAP_A=7 but computes SHA-1: the engine asks for a retry
# with MD5 only, and the retry succeeds.
check chap_sha_fallback 0 -t "$iqn:chap" -u alice -w alice-secret-12 -a SHA256,SHA1,MD5
expect_output chap_sha_fallback "retry with CHAP_A=5"
check chap_mutual 0 -t "$iqn:mutual" -u bob -w bob-secret-345 -U disk3 -W target-secret-678
expect_output chap_mutual "target authenticated (mutual CHAP)"
check chap_wrong_password 24 -t "$iqn:chap" -u alice -w not-the-password
check chap_wrong_password_sha 24 -t "$iqn:chap" -u alice -w not-the-password -a SHA256,MD5
check chap_mutual_wrong_target_secret 24 -t "$iqn:mutual" -u bob -w bob-secret-345 -U disk3 -W wrong-secret-000
check chap_missing 24 -t "$iqn:chap"
check unknown_target 19 -t "$iqn:nothere"
check discovery 0 -d
expect_output discovery "target $iqn:mutual 127.0.0.1:$port,1"
# Secrets never reach the transcript.
if grep -q -e alice-secret-12 -e bob-secret-345 -e target-secret-678 "$work"/*.out; then
	echo "FAIL: a secret appears in the probe output"
	fail=$((fail + 1))
else
	echo "PASS: no secret in the transcripts"
	pass=$((pass + 1))
fi

echo "login_tgtd: $pass passed, $fail failed"
[ "$fail" = 0 ]
