# Sourced by the VM benchmarks (bench/vm/*_bench.sh) after
# tests/vm/common.sh.
#
# bench_initiators WHO...: for each of "ours" and "openiscsi", what goes
# into the initramfs (bins: --add-bin arguments), the comma list the
# guest runs (run_list), and why one cannot run (unavailable[WHO]).
# Ours are build/iscsid/iscsid and build/iscsiadm/iscsiadm unless ISCSID,
# ISCSIADM say otherwise (set as iscsid, iscsiadm); open-iscsi comes
# from Debian's package.

bench_default_bin() {
    if [ -f "$top/build/$1" ]; then echo "$top/build/$1"; else echo "$top/build/$1/$1"; fi
}

bench_initiators() {
    local who
    iscsid=${ISCSID:-$(bench_default_bin iscsid)}
    iscsiadm=${ISCSIADM:-$(bench_default_bin iscsiadm)}
    bins=()
    declare -gA unavailable=()
    run_list=
    for who in "$@"; do
        case $who in
        ours)
            if [ -x "$iscsid" ] && [ -x "$iscsiadm" ]; then
                bins+=(--add-bin "$iscsid:/opt/ours/iscsid" --add-bin "$iscsiadm:/opt/ours/iscsiadm")
            else
                unavailable[ours]="not built ($iscsid, $iscsiadm)"
                continue
            fi
            ;;
        openiscsi)
            ensure_pkg open-iscsi iscsiadm
            bins+=(--add-bin /usr/sbin/iscsid --add-bin /usr/sbin/iscsiadm)
            ;;
        *) die "unknown initiator '$who' (ours, openiscsi)" ;;
        esac
        run_list="$run_list${run_list:+,}$who"
    done
}

# bench_boot NAME GUEST MEM_MB TIMEOUT_S APPEND: the initramfs
# $out/NAME.cpio.gz with the guest script GUEST, the initiators (bins) and
# the guest's initiator library, booted once with APPEND on the kernel
# command line (serial log: $log); sets vmrc and results (the guest's
# BENCH-RESULT and BENCH-FLOOR lines).
bench_boot() {
    local name=$1 guest=$2 mem=$3 tmo=$4 append=$5 start
    "$VM_DIR/fetch-kernel.sh" >/dev/null || die "cannot fetch the VM kernel"
    "$VM_DIR/build-initramfs.sh" -o "$out/$name.cpio.gz" --script "$guest" \
        --add "$VM_DIR/guest/initiator.sh:/lib/vmtest/initiator.sh" "${bins[@]}" \
        >/dev/null 2>"$out/build.err" || { cat "$out/build.err" >&2; die "build-initramfs.sh failed"; }
    start=$(date +%s)
    "$VM_DIR/run-vm.sh" --initrd "$out/$name.cpio.gz" --log "$log" --quiet --mem "$mem" \
        --timeout "$tmo" --append "$append" 2>"$out/vm.err"
    vmrc=$?
    vm_log "VM exited $vmrc after $(( $(date +%s) - start ))s"
    [ "$vmrc" = 0 ] || tail -n 3 "$out/vm.err" >&2
    results=$(tr -d '\r' <"$log" | grep '^BENCH-RESULT \|^BENCH-FLOOR ')
}
