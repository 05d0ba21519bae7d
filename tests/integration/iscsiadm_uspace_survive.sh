#!/usr/bin/env bash
# uspace sessions outlive iscsid, as kernel sessions do: iscsid killed
# (SIGKILL) during I/O and started again -> the I/O goes on with no error,
# the new iscsid adopts the session (-m session shows it, iscsid's state
# included), and logout works; while iscsid is down, -m session still
# lists it (from the run directory); many restarts in a row are fine. A
# crash of one session's process: iscsid reports it gone and cleans up
# after it (loop device, mount), the other session and iscsid go on. A
# login cut short by iscsid's death is undone by its process, not left
# running unknown.
set -u
. "${top_srcdir:-.}/tests/integration/iscsiadm_uspace_lib.sh"
ua_require
tgtd_start || exit 1
T1=iqn.2024-01.org.example:surv1
tgtd_target_nolun 1 "$T1"
truncate -s 64M "$TGTD_DIR/back1.img"
tgtd_adm --mode logicalunit --op new --tid 1 --lun 1 --backing-store "$TGTD_DIR/back1.img"
BACK1=$TGTD_DIR/back1.img
T2=iqn.2024-01.org.example:surv2
tgtd_target 2 "$T2"
P1=$TGTD_PORT
start_iscsid

ua_node "$T1"
ua_node "$T2"
ua_login "$T1"
check "login 1 (exit $?)" [ -n "$(ua_sid "$T1")" ]
ua_login "$T2"
check "login 2 (exit $?)" [ -n "$(ua_sid "$T2")" ]
s1=$(ua_sid "$T1")
s2=$(ua_sid "$T2")
dev1=$(ua_loop "$s1" 1)
dev2=$(ua_loop "$s2" 1)
pid1=$(cat "$RUNDIR/$s1/pid")
pid2=$(cat "$RUNDIR/$s2/pid")

# --- iscsid SIGKILL during I/O, then a new one
head -c $((32 << 20)) /dev/urandom >"$R/data"
dd if="$R/data" of="$dev1" bs=4k oflag=direct,sync status=none 2>"$R/dd.err" &
ddpid=$!
written() { timeout 5 "$USP" stats --sid "$s1" --rundir "$RUNDIR" | awk '$1 == "txdata_octets" { print $2 }'; }
for i in $(seq 1 100); do [ "$(written)" -ge $((1 << 20)) ] && break; sleep 0.02; done
check "the writes run when iscsid is killed" kill -0 "$ddpid"
ua_kill_iscsid
run -m session -P 1
check "iscsid down: -m session lists both from the run directory" \
	bash -c "grep -c '^		SID: ' '$R/out' | grep -qx 2"
check "iscsid down: its state is Unknown" grep -q "Internal iscsid Session State: Unknown" "$R/out"
check "iscsid down: the process says LOGGED IN" grep -q "iSCSI Connection State: LOGGED IN" "$R/out"
start_iscsid
for i in $(seq 1 50); do grep -q "adopted session $s2" "$R/iscsid.log" && break; sleep 0.1; done
check "the new iscsid adopts session $s1" grep -q "adopted session $s1 \[$T1, 127.0.0.1,$P1\]: iscsi-uspace process $pid1" "$R/iscsid.log"
check "... and session $s2" grep -q "adopted session $s2" "$R/iscsid.log"
run -m session -P 1
check "-m session -P 1: both, iscsid's state NO CHANGE" \
	bash -c "grep -c 'Internal iscsid Session State: NO CHANGE' '$R/out' | grep -qx 2"
wait "$ddpid"
rc=$?
check "the writes finished with no error (dd exit $rc)" [ "$rc" = 0 ]
check "tgtd's backing file holds all 32 MiB" cmp -n $((32 << 20)) "$R/data" "$BACK1"

# --- restarts in a row (SIGTERM and SIGKILL): each iscsid watches them again
for i in 1 2 3 4 5 6 7 8 9 10; do
	if [ $((i % 2)) = 0 ]; then
		kill -TERM "$DPID"
		wait "$DPID"
		DPID=
	else
		ua_kill_iscsid
	fi
	start_iscsid
done
check "10 restarts: the processes are the same" bash -c "kill -0 $pid1 && kill -0 $pid2"
sleep 0.5
run -m session -P 1
check "10 restarts: both adopted (NO CHANGE)" \
	bash -c "grep -c 'Internal iscsid Session State: NO CHANGE' '$R/out' | grep -qx 2"
check "10 restarts: no watch refused" bash -c "! grep -q 'refused the watch' '$R/iscsid.log'"

# --- the process of session 2 crashes
kill -KILL "$pid2"
for i in $(seq 1 50); do ! adm -m session 2>/dev/null | grep -q "\[$s2\]" && break; sleep 0.1; done
check "a crashed session is gone from -m session" bash -c "! '$ADM' --root '$R' --sysfs '$R/sys' -m session | grep -q '\[$s2\]'"
check "iscsid says so" grep -q "session $s2 \[$T2, 127.0.0.1,$P1\]: its iscsi-uspace process (pid $pid2) ended without a logout" "$R/iscsid.log"
for i in $(seq 1 300); do [ ! -e "$RUNDIR/$s2" ] && break; sleep 0.1; done
check "iscsid cleaned up after it: no mount, loop device or directory" \
	bash -c "! grep -qF '$RUNDIR/$s2/' /proc/mounts && ! losetup -l -n -O BACK-FILE | grep -qF '$RUNDIR/$s2/' && [ ! -e '$RUNDIR/$s2' ]"
check "iscsid goes on" kill -0 "$DPID"
check "session 1 goes on" dd if="$R/data" of="$dev1" bs=1M count=4 oflag=direct status=none
run -m session -P 1
check "session 1 is still LOGGED IN" grep -q "iSCSI Connection State: LOGGED IN" "$R/out"
ua_login "$T2"
check "a new login to target 2 works" [ $? = 0 ]
s2=$(ua_sid "$T2")
# SIGTERM (what a shutdown sends everything at the end): the process
# iscsid started logs out cleanly by itself, iscsid drops the session
pid2=$(cat "$RUNDIR/$s2/pid")
kill -TERM "$pid2"
for i in $(seq 1 100); do [ ! -e "$RUNDIR/$s2" ] && ua_gone "$pid2" 1 && break; sleep 0.1; done
check "SIGTERM: the session process logs out and ends" bash -c "[ ! -e '$RUNDIR/$s2' ] && ! losetup -l -n -O BACK-FILE | grep -qF '$RUNDIR/$s2/'"
for i in $(seq 1 30); do ! adm -m session 2>/dev/null | grep -q "\[$s2\]" && break; sleep 0.1; done
check "SIGTERM: iscsid no longer lists it" bash -c "! '$ADM' --root '$R' --sysfs '$R/sys' -m session | grep -q '\[$s2\]'"
ua_login "$T2"
check "and a login to target 2 works again" [ $? = 0 ]
s2=$(ua_sid "$T2")

# --- a login under way when iscsid dies: its process undoes it
tgtd_start || exit 1
T3=iqn.2024-01.org.example:surv3
tgtd_target 1 "$T3"
P3=$TGTD_PORT
ua_node "$T3" "$P3"
kill -STOP "$TGTD_PID"
"$ADM" --root "$R" --sysfs "$R/sys" -m node -T "$T3" -p "127.0.0.1:$P3" -I uspace --login >"$R/out3" 2>&1 &
lpid=$!
for i in $(seq 1 50); do ls "$RUNDIR" | grep -qv -e "^$s1\$" -e "^$s2\$" && break; sleep 0.1; done
s3=$(ls "$RUNDIR" | grep -v -e "^$s1\$" -e "^$s2\$")
check "the third login is under way (session $s3)" [ -n "$s3" ]
ua_kill_iscsid
wait "$lpid"
check "the waiting iscsiadm is told the connection broke (18)" [ $? = 18 ]
kill -CONT "$TGTD_PID"
for i in $(seq 1 300); do [ -n "$s3" ] && [ ! -e "$RUNDIR/$s3" ] && break; sleep 0.1; done
check "its process logged in, found nobody to tell, and logged out" [ -n "$s3" -a ! -e "$RUNDIR/$s3" ]
for i in $(seq 1 50); do pgrep -f "iscsi-uspace run --sid $s3 .*--rundir $RUNDIR" >/dev/null || break; sleep 0.1; done
no_process() { ! pgrep -f "iscsi-uspace run --sid $1 .*--rundir $RUNDIR" >/dev/null; }
check "no process of it left" no_process "$s3"
start_iscsid
run -m session
check "after a restart: the two sessions, no third" \
	bash -c "[ \$(grep -c '^uspace: ' '$R/out') = 2 ] && ! grep -q '$T3' '$R/out'"

# --- logout of everything
run -m node --logoutall=all
rc=$?
check "--logoutall=all (exit $rc)" [ "$rc" = 0 ]
check "... logs both out" bash -c "[ \$(grep -c '^Logout of .* successful.' '$R/out') = 2 ]"
for i in $(seq 1 30); do [ -z "$(ua_leftovers)" ] && break; sleep 0.1; done
left=$(ua_leftovers)
check "nothing left" [ -z "$left" ]
[ -z "$left" ] || echo "$left"
finish
