#!/bin/bash
# Boot the test VM (qemu, TCG) and exit with the guest test's exit code.
#
# Usage: run-vm.sh [--initrd FILE] [--kernel FILE] [--log FILE]
#            [--timeout SEC] [--mem MB] [--smp N] [--append "K=V ..."]
#            [--quiet [--start-timeout SEC]] [-- extra qemu args]
# Defaults: initrd $VM_CACHE/initramfs.cpio.gz, kernel from
# $VM_CACHE/kernel.env, log $VM_CACHE/serial.log, timeout 600 s
# ($VM_TIMEOUT), 1024 MB, 2 CPUs, $VM_ACCEL (default tcg), $VM_CPU (max).
# --append words NAME=value become environment variables of /test.sh.
# --start-timeout: the guest must print VMTEST-START (the first line of
# /init) within SEC seconds, or qemu is stopped and the exit is 126 (the
# emulator hung before userspace: seen rarely under TCG on a loaded host).
# Exit: the rc from "VMTEST-EXIT <rc>"; 124 on timeout; 126 when the guest
# did not start in time; 125 if the marker is missing for another reason
# (panic, qemu error).
set -eu
. "$(dirname "$0")/common.sh"

initrd=$VM_CACHE/initramfs.cpio.gz
kernel=
log=$VM_CACHE/serial.log
timeout_s=${VM_TIMEOUT:-600}
mem=1024
smp=2
append_extra=
quiet=0
start_timeout=
qemu_extra=()
while [ $# -gt 0 ]; do
    case $1 in
        --initrd) initrd=$2; shift 2 ;;
        --kernel) kernel=$2; shift 2 ;;
        --log) log=$2; shift 2 ;;
        --timeout) timeout_s=$2; shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --smp) smp=$2; shift 2 ;;
        --append) append_extra="$append_extra $2"; shift 2 ;;
        --quiet) quiet=1; shift ;;
        --start-timeout) start_timeout=$2; shift 2 ;;
        --) shift; qemu_extra=("$@"); break ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

ensure_pkg qemu-system-x86 qemu-system-x86_64
ensure_pkg coreutils timeout
if [ -z "$kernel" ]; then
    [ -f "$VM_CACHE/kernel.env" ] || "$VM_DIR/fetch-kernel.sh" >/dev/null
    # shellcheck disable=SC1091
    . "$VM_CACHE/kernel.env"
    kernel=$KERNEL_IMAGE
fi
[ -f "$kernel" ] || die "kernel $kernel not found: run tests/vm/fetch-kernel.sh"
[ -f "$initrd" ] || die "initramfs $initrd not found: run tests/vm/build-initramfs.sh"
mkdir -p "$(dirname "$log")"

# quiet + loglevel keep boot noise off the console; panic=-1 with
# -no-reboot turns a panic into a qemu exit instead of a hang.
cmdline="console=ttyS0 quiet loglevel=4 panic=-1 oops=panic mitigations=off$append_extra"

qemu=(qemu-system-x86_64 -accel "${VM_ACCEL:-tcg}" -cpu "${VM_CPU:-max}" -m "$mem" -smp "$smp"
      -nographic -no-reboot -nic none
      -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
      ${qemu_extra[@]+"${qemu_extra[@]}"})

start=$(date +%s)
set +e
if [ "$quiet" = 1 ] && [ -n "$start_timeout" ]; then
    timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$log" 2>&1 &
    qpid=$!
    started=0
    while kill -0 "$qpid" 2>/dev/null; do
        if grep -q '^VMTEST-START' "$log" 2>/dev/null; then started=1; break; fi
        [ $(( $(date +%s) - start )) -ge "$start_timeout" ] && break
        sleep 1
    done
    if [ "$started" = 0 ] && kill -0 "$qpid" 2>/dev/null && ! grep -q '^VMTEST-START' "$log"; then
        # timeout(1) passes TERM on to qemu and reaps it
        kill -TERM "$qpid" 2>/dev/null
        wait "$qpid" 2>/dev/null
        vm_log "the guest printed no VMTEST-START in ${start_timeout}s: qemu stopped (log: $log)"
        tail -n 3 "$log" >&2
        exit 126
    fi
    wait "$qpid"
    qrc=$?
elif [ "$quiet" = 1 ]; then
    timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null >"$log" 2>&1
    qrc=$?
else
    set -o pipefail
    timeout -k 10 "$timeout_s" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
    qrc=${PIPESTATUS[0]}
    set +o pipefail
fi
set -e
elapsed=$(( $(date +%s) - start ))

# The serial console emits CRLF.
rc=$(tr -d '\r' <"$log" | sed -n 's/^VMTEST-EXIT \([0-9][0-9]*\)$/\1/p' | tail -n1)
if [ -n "$rc" ]; then
    vm_log "guest test exited $rc after ${elapsed}s (log: $log)"
    exit "$rc"
fi
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
    vm_log "timed out after ${timeout_s}s without VMTEST-EXIT (log: $log)"
    exit 124
fi
if grep -q 'Kernel panic' "$log"; then
    vm_log "guest kernel panicked (log: $log):"
    grep -A3 'Kernel panic' "$log" | head -n 5 >&2
else
    vm_log "no VMTEST-EXIT marker; qemu exited $qrc after ${elapsed}s (log: $log)"
    tail -n 5 "$log" >&2
fi
exit 125
