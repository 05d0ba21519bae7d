#!/bin/sh
# --loginall=all --ordered (INITIATOR=ours only): disks attach one session at
# a time in target order, so the names are the same in every run: the
# targets sorted by name get sda, sdb, ... in that order. Measures the cost
# against a parallel --loginall=all (ORDERED_N targets, default 32).
# Not in run-suite.sh's default list: tests/vm/run-suite.sh ordered
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

PFX=iqn.2003-01.org.example.vmtest:ord
N=${ORDERED_N:-32}

[ "$INITIATOR" = ours ] || { echo "SKIP: this project's options"; exit 0; }

# "target disk" lines, by target name
mapping() {
    local s
    for s in /sys/class/iscsi_session/session*; do
        echo "$(cat "$s/targetname") $(disks_of_session "${s##*/session}")"
    done | sort
}

# sd names in the order sd hands them out: sda..sdz, sdaa, ...
sd_order() { awk '{ print length($2), $2 }' | sort -n -k1,1 -k2,2 | cut -d' ' -f2; }

run_login() { # LABEL ARGS...
    local label=$1 t0 t1
    shift
    t0=$(now_ms)
    iadm -m node --loginall=all "$@" >/tmp/login.out 2>&1 || { tail -n 5 /tmp/login.out; fail "$label: exited $?"; }
    wait_for_disks "$N" 120 || fail "$label: $(disk_count) of $N disks"
    t1=$(now_ms)
    echo "$label: $N disks in $((t1 - t0)) ms"
    eval "ms_$label=$((t1 - t0))"
}

logout_all() {
    iadm -m node --logoutall=all >/dev/null || fail "--logoutall=all exited $?"
    wait_no_sessions 60 || fail "sessions left"
}

step "$N targets"
lio_targets_create "$N" "$PFX" 8M || fail "LIO setup"
init_start || fail "iscsid did not start"
[ "$(iadm -m discovery -t st -p "$PORTAL" | grep -c " ${PFX}[0-9]*\$")" = "$N" ] || fail "discovery"

step "--ordered, twice: same names, in target order"
run_login ordered --ordered
mapping >/tmp/map1
[ "$(wc -l </tmp/map1)" = "$N" ] || fail "mapping has $(wc -l </tmp/map1) lines"
# sorted by target, the disks must come out in sd's naming order
[ "$(cut -d' ' -f2 /tmp/map1 | tr '\n' ' ')" = "$(sd_order </tmp/map1 | tr '\n' ' ')" ] ||
    { cat /tmp/map1; fail "disks are not in target order"; }
logout_all
run_login ordered2 --ordered --wait-devices
mapping >/tmp/map2
cmp -s /tmp/map1 /tmp/map2 || { diff /tmp/map1 /tmp/map2; fail "names changed between two ordered logins"; }
[ "$(grep -c '^Attached disks: sd' /tmp/login.out)" = "$N" ] || fail "expected $N 'Attached disks:' lines"
logout_all

step "parallel, for comparison"
run_login parallel
mapping >/tmp/map3
if cmp -s /tmp/map1 /tmp/map3; then same=same; else same=different; fi
logout_all
echo "TIMING ordered=${ms_ordered}ms ordered+wait=${ms_ordered2}ms parallel=${ms_parallel}ms (parallel names: $same as ordered)"
init_stop
step "ordered OK"
