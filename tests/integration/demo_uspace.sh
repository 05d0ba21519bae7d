#!/usr/bin/env bash
# ./demo.sh --uspace runs the whole demo natively with the userspace
# transport (no iscsi_tcp, no VM): discovery and login through the
# built-in iface uspace, the LUN as a loop device, I/O with checksums,
# an iscsid restart the session does not notice, logout. Here with the
# build tree's programs (the demo builds them itself otherwise).
set -u
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v tgtd >/dev/null || { echo "SKIP: tgtd not installed"; exit 77; }
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
top=${top_srcdir:-.}
b=$(pwd)
out=$(mktemp /tmp/demo-uspace.XXXXXX)
trap 'rm -f "$out"' EXIT
ISCSID=$b/iscsid/iscsid ISCSIADM=$b/iscsiadm/iscsiadm ISCSI_USPACE_PROGRAM=$b/uspace/iscsi-uspace \
	timeout 300 "$top/demo.sh" --uspace >"$out" 2>&1
rc=$?
fail=0
ok() { if "${@:2}"; then echo "PASS: $1"; else echo "FAIL: $1"; fail=1; fi; }
ok "demo.sh --uspace exits 0 ($rc)" [ "$rc" = 0 ]
ok "it ends with Demo OK" grep -q "=== Demo OK" "$out"
ok "it logged in through iface uspace" grep -q "^Login to \[iface: uspace, target: iqn.2003-01.org.example.demo:disk1" "$out"
ok "the checksums matched" grep -qx "checksums match" "$out"
ok "the session outlived an iscsid restart" grep -q "^adopted session 1000000" "$out"
none_left() { ! pgrep -f 'iscsi-uspace run .*--rundir /tmp/iscsi-demo' >/dev/null; }
ok "nothing left: no demo session process" none_left
[ "$fail" = 0 ] || cat "$out"
exit $fail
