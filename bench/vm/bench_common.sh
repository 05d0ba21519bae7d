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
