#!/bin/bash
# The VM scenarios: the real kernel initiator (iscsi_tcp) driven by an
# iSCSI daemon + CLI against LIO, inside qemu (see README.md).
#
# Usage: tests/vm/run-suite.sh [SCENARIO...]
# Prints one line per scenario: "PASS: vm NAME", "FAIL: vm NAME" (followed
# by indented details) or "SKIP: vm NAME (why)"; exits 1 if any failed.
#
# Environment:
#   INITIATOR=ours       (default) this project: $ISCSID, $ISCSIADM, default
#                        build/iscsid/iscsid and build/iscsiadm/iscsiadm
#   INITIATOR=openiscsi  Debian's open-iscsi (validates the scenarios)
#   VM_BOOT=each         (default) one VM boot per scenario (isolation);
#   VM_BOOT=one          all scenarios in one boot, cleaned up in between
#   VM_JOBS=N            boots run in parallel (default 2)
#   SCENARIO_TIMEOUT=S   per scenario inside the VM (default 300)
#   VM_START_TIMEOUT=S   a guest that has not started in S s is booted once
#                        more (default 120; see boot() below)
#   INIT_DEBUG=N         iscsid -d N;  VERBOSE=1 prints every scenario's log
# Logs: $VM_CACHE/suite-$INITIATOR/NAME.log (serial console of the boot).
set -u
. "$(dirname "$0")/common.sh"

ALL_SCENARIOS="login_io luns chap portal_outage iscsid_restart logout loginall recovery_speed crash_loginall hostile_login"
top=$(cd "$VM_DIR/../.." && pwd)
initiator=${INITIATOR:-ours}
boot_mode=${VM_BOOT:-each}
jobs=${VM_JOBS:-2}
scen_timeout=${SCENARIO_TIMEOUT:-300}
scenarios=${*:-$ALL_SCENARIOS}

for s in $scenarios; do
    [ -f "$VM_DIR/guest/scenario_$s.sh" ] || die "no scenario '$s' (have: $ALL_SCENARIOS)"
done

skip_all() {
    local s
    for s in $scenarios; do echo "SKIP: vm $s ($1)"; done
    exit 0
}

# This project's binaries: build/iscsid/iscsid (automake subdir layout) or a
# plain build/iscsid file.
default_bin() { # NAME
    if [ -f "$top/build/$1" ]; then echo "$top/build/$1"; else echo "$top/build/$1/$1"; fi
}

bins=()
case $initiator in
ours)
    iscsid=${ISCSID:-$(default_bin iscsid)}
    iscsiadm=${ISCSIADM:-$(default_bin iscsiadm)}
    for b in "$iscsid" "$iscsiadm"; do
        [ -x "$b" ] || skip_all "${b#"$top"/} not built: run make in build/, or set ISCSID/ISCSIADM"
    done
    bins=(--add-bin "$iscsid:/opt/ours/iscsid" --add-bin "$iscsiadm:/opt/ours/iscsiadm")
    iscsistart=${ISCSISTART:-$(default_bin iscsistart)}
    [ -x "$iscsistart" ] && bins+=(--add-bin "$iscsistart:/opt/ours/iscsistart")
    ;;
openiscsi)
    ensure_pkg open-iscsi iscsiadm
    bins=(--add-bin /usr/sbin/iscsid --add-bin /usr/sbin/iscsiadm --add-bin /usr/sbin/iscsistart)
    ;;
*) die "INITIATOR must be 'ours' or 'openiscsi', not '$initiator'" ;;
esac

# The scripted hostile target (built by make check) for scenarios that
# need a target LIO cannot be (scenario_hostile_login.sh).
[ -x "$top/build/tests/tools/hostile_target" ] &&
    bins+=(--add-bin "$top/build/tests/tools/hostile_target:/opt/tools/hostile_target")

if [ "$(id -u)" != 0 ] && ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
    skip_all "qemu-system-x86_64 missing and not root to install it"
fi

out=$VM_CACHE/suite-$initiator
mkdir -p "$out"
rm -f "$out"/*.log "$out"/*.rc "$out"/*.vm
"$VM_DIR/fetch-kernel.sh" >/dev/null || skip_all "cannot fetch the VM kernel (offline?)"
adds=(--add "$VM_DIR/guest/initiator.sh:/lib/vmtest/initiator.sh")
for f in "$VM_DIR"/guest/scenario_*.sh; do
    adds+=(--add "$f:/lib/vmtest/${f##*/}")
done
initrd=$out/initramfs.cpio.gz
"$VM_DIR/build-initramfs.sh" -o "$initrd" --script "$VM_DIR/guest/run-scenarios.sh" \
    --modules dummy "${adds[@]}" "${bins[@]}" >/dev/null 2>"$out/build-initramfs.err" ||
    { cat "$out/build-initramfs.err" >&2; die "build-initramfs.sh failed"; }

# boot GROUP NAME...: one VM running the named scenarios; log in GROUP.log.
boot() {
    local group=$1 list per=$scen_timeout
    shift
    local rc try
    list=$(IFS=,; echo "$*")
    # A guest that does not reach its /init in VM_START_TIMEOUT s hung in
    # the emulator before userspace (nothing of ours has run): boot it
    # once more, keeping the hung boot's log as GROUP.hung.log.
    for try in 1 2; do
        "$VM_DIR/run-vm.sh" --initrd "$initrd" --log "$out/$group.log" --quiet \
            --start-timeout "${VM_START_TIMEOUT:-120}" --timeout $(( per * $# + 90 )) --mem 1536 \
            --append "SCENARIOS=$list INITIATOR=$initiator SCENARIO_TIMEOUT=$per${INIT_DEBUG:+ INIT_DEBUG=$INIT_DEBUG}" \
            >/dev/null 2>>"$out/$group.vm"
        rc=$?
        [ "$rc" = 126 ] && [ "$try" = 1 ] || break
        mv "$out/$group.log" "$out/$group.hung.log"
    done
    echo "$rc" >"$out/$group.rc"
}

start=$(date +%s)
groups=()
if [ "$boot_mode" = one ]; then
    groups=(all)
    boot all $scenarios
else
    running=0
    for s in $scenarios; do
        groups+=("$s")
        boot "$s" "$s" &
        running=$((running + 1))
        if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
    done
    wait
fi

# Serial console text of the boot that ran scenario $1.
group_of() { if [ "$boot_mode" = one ]; then echo all; else echo "$1"; fi; }

failed=0
for s in $scenarios; do
    g=$(group_of "$s")
    log=$out/$g.log
    text=$(tr -d '\r' <"$log" 2>/dev/null)
    # The scenario's own lines, between its BEGIN marker and its RESULT.
    body=$(printf '%s\n' "$text" | awk -v s="$s" '
        $0 == "VMTEST-SCENARIO-BEGIN " s { on = 1; next }
        on && $1 == "VMTEST-RESULT" { exit }
        on { print }')
    rc=$(printf '%s\n' "$text" | awk -v s="$s" '$1 == "VMTEST-RESULT" && $2 == s { print $3 }' | tail -n1)
    [ "$boot_mode" = one ] || printf '%s\n' "$body" >"$out/$s.out"
    if [ "$rc" = 0 ]; then
        echo "PASS: vm $s"
        [ -f "$out/$g.hung.log" ] &&
            echo "    (booted twice: the first boot hung before the guest started, log $out/$g.hung.log)"
        [ "${VERBOSE:-0}" = 1 ] && printf '%s\n' "$body" | sed 's/^/    /'
        continue
    fi
    failed=$((failed + 1))
    echo "FAIL: vm $s"
    if [ -z "$rc" ]; then
        why=$(grep '^run-vm.sh:' "$out/$g.vm" 2>/dev/null | tail -n1)
        [ -n "$why" ] || why=$(tail -n1 "$out/$g.vm" 2>/dev/null)
        echo "    no result: the VM exited $(cat "$out/$g.rc" 2>/dev/null) ($why)"
    fi
    if [ "${VERBOSE:-0}" = 1 ]; then
        printf '%s\n' "$body" | sed 's/^/    /'
    else
        # The last step's header, at most 12 lines before the failure, the
        # FAIL line and the daemon log tail after it (a step that printed
        # a long listing must not push the FAIL line out); with no FAIL
        # line, the step's last 40 lines.
        printf '%s\n' "$body" | awk '
            /^== / { hdr = $0; n = 0; f = 0; delete pre; post = ""; next }
            f { post = post $0 "\n"; next }
            /^FAIL: / { f = 1; post = $0 "\n"; next }
            { pre[n++ % 40] = $0 }
            END {
                if (hdr != "") print hdr
                k = f ? 12 : 40; if (k > n) k = n
                if (n > k) print "[... " n - k " lines]"
                for (i = n - k; i < n; i++) print pre[i % 40]
                printf "%s", post
            }' | sed 's/^/    /'
    fi
    echo "    (serial log: $log)"
done
echo "vm suite ($initiator): $(( $(date +%s) - start ))s, $failed failed" >&2
[ "$failed" = 0 ]
