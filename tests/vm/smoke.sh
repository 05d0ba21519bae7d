#!/bin/bash
# End-to-end check of the VM harness: boot the cloud kernel under TCG with
# Debian's open-iscsi (iscsid, iscsiadm) in the initramfs and run
# guest/smoke-openiscsi.sh against an in-VM LIO target.
#
# Usage: tests/vm/smoke.sh [run-vm.sh options, e.g. --quiet]
# Exit status: the guest script's; serial log in $VM_CACHE/smoke.log.
set -eu
. "$(dirname "$0")/common.sh"

ensure_pkg open-iscsi iscsiadm
start=$(date +%s)
"$VM_DIR/fetch-kernel.sh" >/dev/null
initrd=$VM_CACHE/smoke.cpio.gz
"$VM_DIR/build-initramfs.sh" -o "$initrd" \
    --script "$VM_DIR/guest/smoke-openiscsi.sh" \
    --add-bin /usr/sbin/iscsid --add-bin /usr/sbin/iscsiadm
set +e
"$VM_DIR/run-vm.sh" --initrd "$initrd" --log "$VM_CACHE/smoke.log" --timeout 600 "$@"
rc=$?
set -e
vm_log "smoke: exit $rc, $(( $(date +%s) - start ))s total"
exit "$rc"
