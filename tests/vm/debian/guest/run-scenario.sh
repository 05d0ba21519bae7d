#!/bin/sh
# vmtest-scenario.service: runs /opt/vmtest/scenario_NAME.sh BOOT for
# this boot and ends the boot. The kernel command line says what to run:
#   vmtest.scenario=NAME vmtest.boot=K vmtest.boots=N vmtest.initiator=ours|openiscsi
# The scenario exits with its number of failed checks. The last boot, or
# a boot that stopped on a fatal failure (lib.sh: fail), prints
# "VMTEST-EXIT <failed checks of all boots>" and powers off; an earlier
# boot prints "VMTEST-SHUTDOWN <K>" and reboots (qemu runs with
# -no-reboot, so the host starts the next boot on the same disk image).
# The scenario's output also goes to /var/lib/vmtest/NAME.bootK.out.
set -u
scenario= boot=1 boots=1 initiator=ours
for w in $(cat /proc/cmdline); do
    case $w in
    vmtest.scenario=*) scenario=${w#*=} ;;
    vmtest.boot=*) boot=${w#*=} ;;
    vmtest.boots=*) boots=${w#*=} ;;
    vmtest.initiator=*) initiator=${w#*=} ;;
    esac
done
export VMTEST_BOOT=$boot VMTEST_BOOTS=$boots VMTEST_INITIATOR=$initiator
export VMTEST_DIR=/var/lib/vmtest
mkdir -p "$VMTEST_DIR"

echo "VMTEST-BOOT $boot/$boots $scenario $initiator"
if [ -f "/opt/vmtest/scenario_$scenario.sh" ]; then
    { timeout -s KILL "${VMTEST_SCENARIO_TIMEOUT:-600}" sh "/opt/vmtest/scenario_$scenario.sh" "$boot"
      echo $? >/run/vmtest.rc; } 2>&1 | tee "$VMTEST_DIR/$scenario.boot$boot.out"
    rc=$(cat /run/vmtest.rc)
else
    echo "FAIL: no /opt/vmtest/scenario_$scenario.sh"
    rc=127
fi
[ "$rc" = 0 ] || [ "$rc" -lt 100 ] 2>/dev/null || : >/run/vmtest.fatal
prev=$(cat "$VMTEST_DIR/failures" 2>/dev/null || echo 0)
total=$((prev + rc))
[ "$total" -lt 125 ] || total=124
echo "$total" >"$VMTEST_DIR/failures"
sync
if [ -e /run/vmtest.fatal ] || [ "$boot" -ge "$boots" ]; then
    printf '\nVMTEST-EXIT %s\n' "$total"
    systemctl --no-block --job-mode=replace-irreversibly start poweroff.target
else
    printf '\nVMTEST-SHUTDOWN %s\n' "$boot"
    systemctl --no-block --job-mode=replace-irreversibly start reboot.target
fi
