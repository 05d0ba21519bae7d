#!/bin/bash
# `make install` puts the shipped iscsid.conf where the programs look for
# it (a fresh install otherwise runs on compiled defaults while the file
# sits unread under PREFIX/etc), readable by root only (it may hold CHAP
# secrets), and never over the administrator's own file.
set -u
fail() { echo "FAIL: $*"; exit 1; }

T=$(mktemp -d /tmp/install-layout.XXXXXX) || fail "mktemp"
trap 'rm -rf "$T"' EXIT
inst() { env -u MAKEFLAGS -u MFLAGS make -s install DESTDIR="$T/root" >"$T/install.out" 2>&1 ||
	fail "make install DESTDIR=$T/root failed: $(tail -n 5 "$T/install.out")"; }
inst

# Where the programs look: iscsi-iname -h names the directory.
f=$(./iscsiadm/iscsi-iname -h 2>&1 | grep -o '/[^ )]*/initiatorname.iscsi' | head -n1)
[ -n "$f" ] || fail "iscsi-iname -h names no configuration directory: $(./iscsiadm/iscsi-iname -h 2>&1)"
dir=${f%/initiatorname.iscsi}
conf=$T/root$dir/iscsid.conf
[ -f "$conf" ] || fail "make install put no iscsid.conf in $dir (the programs' directory): $(cd "$T/root" && find . -name iscsid.conf)"
cmp -s "$conf" "${top_srcdir:-.}/etc/iscsid.conf" || fail "$conf is not the shipped etc/iscsid.conf"
mode=$(stat -c %a "$conf")
[ "$mode" = 600 ] || fail "$conf has mode $mode, expected 600 (it may hold CHAP secrets)"

# A second install keeps the administrator's file byte for byte.
printf 'node.session.auth.password = kept-secret\n' >>"$conf"
sum=$(md5sum <"$conf")
inst
[ "$(md5sum <"$conf")" = "$sum" ] || fail "a second make install replaced the edited $conf"
grep -q "keeping the existing" "$T/install.out" || fail "make install did not say it kept $conf"

# Uninstall removes only the shipped file, never an edited one.
env -u MAKEFLAGS -u MFLAGS make -s uninstall DESTDIR="$T/root" >/dev/null 2>&1 || fail "make uninstall failed"
[ -f "$conf" ] || fail "make uninstall removed the edited $conf"
echo "PASS"
