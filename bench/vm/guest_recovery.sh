#!/bin/sh
# Guest half of bench/vm/recovery_bench.sh (busybox sh, one VM boot). One
# LIO target with one LUN; for each initiator in BENCH_INITIATORS, one
# after the other: log in, then BENCH_CYCLES times disable the portal group
# (tpgt_1/enable = 0) for BENCH_OUTAGE_S seconds plus an offset that
# differs per cycle (0 to 1.9 s: a retry interval in phase with the outage
# would otherwise decide the result), enable it again, and measure the
# time from the re-enable until sysfs shows the session LOGGED_IN. One
# line per outage:
#   BENCH-RESULT <initiator> <cycle> ok <ms> <outage_ms>
#   BENCH-RESULT <initiator> <cycle> fail <reason...>
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

IQN=iqn.2003-01.org.example.bench:recovery
CYCLES=${BENCH_CYCLES:-5}
OUTAGE=${BENCH_OUTAGE_S:-3}
OFFSETS="0 0.7 1.4 0.3 1.1 1.8 0.5 1.2 1.9 0.9"   # cycle i uses word (i - 1) mod 10

result() { echo "BENCH-RESULT $*"; }

# UP_MS: /proc/uptime in ms without a fork (10 ms resolution).
up_ms() {
    local u s c
    read -r u _ </proc/uptime
    s=${u%.*}; c=${u#*.}; c=${c#0}
    UP_MS=$(( s * 1000 + c * 10 ))
}

run_one() { # INITIATOR
    local who=$1 sid state i st t0 t_off off
    INITIATOR=$1; ISCSIADM_BIN=; : >"$INIT_LOG"
    init_start || { result "$1" 0 fail "iscsid did not start"; return; }
    iadm -m discovery -t st -p "$PORTAL" >/dev/null 2>&1 &&
        iadm -m node -T "$IQN" -p "$PORTAL" --login >/dev/null 2>&1 &&
        wait_for_disks 1 30 || { result "$1" 0 fail "login failed"; init_reset; return; }
    sid=$(session_of "$IQN")
    state=/sys/class/iscsi_session/session$sid/state
    i=1
    while [ "$i" -le "$CYCLES" ]; do
        lio_tpg_disable "$IQN"
        if ! wait_for 10 sh -c "[ \"\$(cat $state)\" != LOGGED_IN ]"; then
            result "$who" "$i" fail "session still LOGGED_IN with the portal disabled"
            lio_tpg_enable "$IQN"; i=$((i + 1)); continue
        fi
        up_ms; t_off=$UP_MS
        set -- $OFFSETS; shift $(( (i - 1) % 10 )); off=$1
        sleep "$OUTAGE"; sleep "$off"
        lio_tpg_enable "$IQN"
        up_ms; t0=$UP_MS
        while :; do
            read -r st <"$state"
            up_ms
            [ "$st" = LOGGED_IN ] && break
            [ $((UP_MS - t0)) -gt 60000 ] && break
            sleep 0.02
        done
        if [ "$st" = LOGGED_IN ]; then
            result "$who" "$i" ok $((UP_MS - t0)) $((t0 - t_off))
        else
            result "$who" "$i" fail "not LOGGED_IN 60 s after the re-enable"
        fi
        # let the scan/device state settle before the next outage
        sleep 1
        i=$((i + 1))
    done
    init_reset
}

echo "== target ($(cut -d' ' -f1 /proc/uptime)s)"
lio_simple_target "$IQN" 16M || { echo "LIO setup failed"; exit 1; }
for who in $(echo "${BENCH_INITIATORS:-ours,openiscsi}" | tr ',' ' '); do
    echo "== $who ($(cut -d' ' -f1 /proc/uptime)s)"
    run_one "$who"
done
exit 0
