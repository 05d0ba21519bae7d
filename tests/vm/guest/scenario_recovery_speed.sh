#!/bin/sh
# How soon a session is back after its target returns: the portal group is
# disabled for 3 s (tpgt_1/enable = 0: LIO drops the session and refuses
# logins), then enabled again, three times. The session must be LOGGED_IN
# (sysfs) within RECOVERY_BOUND_MS of the re-enable each time; this
# project aims at under 1 s (bench/vm/recovery_bench.sh measures it next
# to open-iscsi), the bound is generous so that only a regression (a
# growing back-off, say) fails it.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

IQN=iqn.2003-01.org.example.vmtest:recovery
BOUND=${RECOVERY_BOUND_MS:-3000}
CYCLES=3

# UP_MS: /proc/uptime in ms, without a fork (10 ms resolution).
up_ms() {
    local u s c
    read -r u _ </proc/uptime
    s=${u%.*}; c=${u#*.}; c=${c#0}
    UP_MS=$(( s * 1000 + c * 10 ))
}

step "target + login"
lio_simple_target "$IQN" 16M || fail "LIO setup"
init_start || fail "iscsid did not start"
iadm -m discovery -t st -p "$PORTAL" >/dev/null || fail "discovery exited $?"
iadm -m node -T "$IQN" -p "$PORTAL" --login || fail "login exited $?"
wait_for_disks 1 30 || fail "no disk after login"
sid=$(session_of "$IQN")
state=/sys/class/iscsi_session/session$sid/state

i=1
worst=0
while [ "$i" -le "$CYCLES" ]; do
    step "outage $i: portal group disabled for 3 s"
    lio_tpg_disable "$IQN" || fail "LIO disable"
    wait_for 5 sh -c "[ \"\$(cat $state)\" != LOGGED_IN ]" || fail "session still LOGGED_IN with the portal disabled"
    sleep 3
    lio_tpg_enable "$IQN" || fail "LIO enable"
    up_ms; t0=$UP_MS
    while :; do
        read -r st <"$state"
        up_ms
        [ "$st" = LOGGED_IN ] && break
        [ $((UP_MS - t0)) -gt 30000 ] && fail "session not LOGGED_IN 30 s after the re-enable (state $st)"
        sleep 0.02
    done
    ms=$((UP_MS - t0))
    echo "outage $i: LOGGED_IN ${ms} ms after the portal group was enabled again"
    [ "$ms" -gt "$worst" ] && worst=$ms
    [ "$ms" -le "$BOUND" ] || fail "recovery took ${ms} ms (bound ${BOUND} ms)"
    i=$((i + 1))
done
[ "$(session_ids)" = "$sid" ] || fail "sessions now: $(session_ids | tr '\n' ' '), expected only $sid"
[ "$(p3_disks "$IQN")" = "$(all_disks)" ] || fail "-P 3 does not show the disk running after the outages"

echo "what the daemon logged:"
grep -E 'connection lost|trying again|operational after recovery' "$INIT_LOG" | tail -n 9

step "logout"
iadm -m node -T "$IQN" -p "$PORTAL" --logout || fail "logout exited $?"
wait_no_sessions 15 || fail "session left after logout"
init_stop
step "recovery_speed OK (worst ${worst} ms)"
