#!/bin/sh
# /test.sh of the VM suite (tests/vm/run-suite.sh): runs the scenarios named
# in SCENARIOS (comma separated) one after the other in this boot, each as
# its own shell under a time limit, with a clean slate between them.
# Prints "VMTEST-RESULT <name> <rc>" per scenario; exits with the number of
# scenarios that failed.
# Environment (kernel command line): SCENARIOS, INITIATOR (ours|openiscsi),
# SCENARIO_TIMEOUT (s, default 300), INIT_DEBUG (iscsid -d level).
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"
export INITIATOR INIT_DEBUG VMTEST_LIB

failed=0
for s in $(echo "${SCENARIOS:-}" | tr ',' ' '); do
    echo "VMTEST-SCENARIO-BEGIN $s"
    : >"$INIT_LOG"
    if [ -f "$VMTEST_LIB/scenario_$s.sh" ]; then
        timeout -s KILL "${SCENARIO_TIMEOUT:-300}" sh "$VMTEST_LIB/scenario_$s.sh"
        rc=$?
        [ "$rc" = 137 ] && echo "FAIL: scenario timed out after ${SCENARIO_TIMEOUT:-300}s"
    else
        echo "FAIL: no scenario_$s.sh in the initramfs"; rc=127
    fi
    echo "VMTEST-RESULT $s $rc"
    [ "$rc" = 0 ] || failed=$((failed + 1))
    # Clean slate for the next scenario: kill leftover writers, sessions,
    # the daemon, node records, targets.
    killall dd 2>/dev/null
    init_reset >/dev/null 2>&1
    lio_teardown >/dev/null 2>&1
    if [ -n "$(session_ids)" ]; then
        echo "VMTEST-NOTE sessions left after $s: $(session_ids | tr '\n' ' ')"
    fi
done
exit "$failed"
