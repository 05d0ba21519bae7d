#!/usr/bin/env bash
# Recovery of a userspace session: tgtd killed during writes and started
# again a few seconds later on the same portal -> the writes finish with
# no error and the data is all there; with a short
# node.session.timeo.replacement_timeout the held I/O fails with EIO once
# it passes (state FAILED, new I/O fails at once), and works again when
# the target is back, as on the kernel path.
set -u
. "${top_srcdir:-.}/tests/integration/uspace_lib.sh"
usp_require
tgtd_start || exit 1
T=iqn.2024-01.org.example:rec
PORT=$TGTD_PORT
BACK=$USP_WORK/back.img
truncate -s 64M "$BACK"

configure() {
	tgtd_target_nolun 1 "$T" &&
		tgtd_adm --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$BACK"
}
configure

usp_record "$T" </dev/null >"$USP_WORK/rec1"
usp_start 1 "$USP_WORK/rec1"
check "login (exit $USP_RC)" [ "$USP_RC" = 0 ]
dev=$(usp_loop 1 1)
head -c $((48 << 20)) /dev/urandom >"$USP_WORK/data"

# Small direct writes take a few seconds: tgtd goes away in the middle.
dd if="$USP_WORK/data" of="$dev" bs=4k oflag=direct status=none 2>"$USP_WORK/dd.err" &
ddpid=$!
for i in $(seq 1 100); do
	[ "$(timeout 5 "$USP" stats --sid 1 | awk '$1 == "txdata_octets" { print $2 }')" -ge $((1 << 20)) ] && break
	sleep 0.02
done
check "the writes are still running when tgtd dies" kill -0 "$ddpid"
tgtd_kill
sleep 0.5
check "state RECOVERY while the target is away" usp_wait_state 1 RECOVERY 5
sleep 2.5
check "tgtd back on the same portal" tgtd_again configure
wait "$ddpid"
ddrc=$?
check "the writes finished with no I/O error (dd exit $ddrc)" [ "$ddrc" = 0 ]
[ "$ddrc" = 0 ] || cat "$USP_WORK/dd.err"
check "state LOGGED_IN again" usp_wait_state 1 LOGGED_IN 10
check "tgtd's backing file holds all 48 MiB" cmp -n $((48 << 20)) "$USP_WORK/data" "$BACK"
stats=$(timeout 10 "$USP" stats --sid 1)
check "stats count the reconnect" [ "$(echo "$stats" | awk '$1 == "reconnects" { print $2 }')" -ge 1 ]
check "no I/O error counted" [ "$(echo "$stats" | awk '$1 == "io_errors" { print $2 }')" = 0 ]
usp_logout 1

# replacement_timeout 3 s: held I/O fails when it passes.
echo "node.session.timeo.replacement_timeout = 3" | usp_record "$T" >"$USP_WORK/rec2"
usp_start 2 "$USP_WORK/rec2"
check "login with replacement_timeout 3 (exit $USP_RC)" [ "$USP_RC" = 0 ]
dev=$(usp_loop 2 1)
file=$(usp_file 2 1)
tgtd_kill
t0=$(date +%s)
check "a write fails with EIO once replacement_timeout passed" \
	bash -c "! dd if='$USP_WORK/data' of='$file' bs=4k count=1 oflag=direct conv=notrunc status=none 2>'$USP_WORK/eio.err'"
t1=$(date +%s)
check "dd says Input/output error" grep -q "Input/output error" "$USP_WORK/eio.err"
check "it took about replacement_timeout ($((t1 - t0)) s)" [ $((t1 - t0)) -ge 2 -a $((t1 - t0)) -le 12 ]
check "state FAILED" [ "$(usp_field 2 state)" = FAILED ]
check "new I/O fails at once" bash -c "! timeout 2 dd if='$dev' of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null"
check "tgtd back" tgtd_again configure
check "the session logs in again by itself" usp_wait_state 2 LOGGED_IN 15
check "I/O works again" dd if="$USP_WORK/data" of="$dev" bs=64k count=16 oflag=direct status=none
check "and reached the target" cmp -n $((1 << 20)) "$USP_WORK/data" "$BACK"
check "logout" usp_logout 2
left=$(usp_leftovers)
check "nothing left" [ -z "$left" ]
finish
