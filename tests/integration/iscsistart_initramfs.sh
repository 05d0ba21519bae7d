#!/bin/bash
# The initramfs-tools integration (iscsistart/initramfs-tools): the hook
# puts iscsistart and the iscsid it runs side by side in /sbin with the
# initiator's modules; the local-top script turns the settings Debian's
# open-iscsi reads (/etc/iscsi.initramfs, iscsi_* and root=iscsi: on the
# kernel command line, iscsi_auto) into iscsistart calls, and the LUN of
# root=iscsi: into ROOT. iscsistart, modprobe and udevadm are stand-ins
# that record their arguments; the rest runs as in an initramfs.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
SCRIPT=$top_srcdir/iscsistart/initramfs-tools/scripts/local-top/iscsistart
HOOK=./iscsistart/initramfs-tools/hooks/iscsistart
setup_root
mkdir -p "$R/bin"
for p in iscsistart modprobe udevadm; do
	printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\nexit 0\n' "$p" "$R" > "$R/bin/$p"
	chmod 755 "$R/bin/$p"
done
echo "InitiatorName=iqn.2024-01.org.example:from-file" > "$R/iname"
export ISCSI_INAME_FILE=$R/iname ISCSI_INITRAMFS_CONF=$R/iscsi.initramfs ISCSI_CMDLINE=$R/cmdline
export ISCSI_PARAM_CONF=$R/param.conf ISCSI_SYSFS_ROOT=$R/sys ISCSI_FUNCTIONS=$R/none
boot() { # CMDLINE
	printf '%s\n' "$1" > "$R/cmdline"
	rm -f "$R/calls" "$R/param.conf"
	touch "$R/calls"
	PATH=$R/bin:$PATH sh "$SCRIPT" > "$R/out" 2> "$R/err" || fail "local-top exited $?: $(cat "$R/err")"
}
expect_call() { grep -qxF -- "$1" "$R/calls" || { cat "$R/calls"; fail "no call: $1"; }; }

[ "$(sh "$SCRIPT" prereqs)" = "" ] || fail "prereqs"
boot "BOOT_IMAGE=/vmlinuz root=UUID=1234 ro quiet"
[ ! -s "$R/calls" ] || fail "calls without an iSCSI root: $(cat "$R/calls")"

# root=iscsi: with mutual CHAP; its LUN 1 is sdc in sysfs
fs_host 3
fs_session 3 7 iqn.2003-01.org.example:root 1 192.0.2.2 3260
fs_lun 3 7 0 running sdb
fs_lun 3 7 1 running sdc
boot "root=iscsi:bootuser:s3cret:tgt:t5ecret@192.0.2.2::3260:1:iqn.2003-01.org.example:root ro"
expect_call "modprobe -q iscsi_tcp"
expect_call "iscsistart -i iqn.2024-01.org.example:from-file -t iqn.2003-01.org.example:root -g 1 -a 192.0.2.2 -p 3260 -u bootuser -w s3cret -U tgt -W t5ecret"
[ "$(cat "$R/param.conf")" = "export ROOT=/dev/sdc" ] || fail "ROOT: $(cat "$R/param.conf")"
# as init runs it: $ROOT is the last root= of the command line
ROOT=iscsi:192.0.2.2::3260:1:iqn.2003-01.org.example:root boot "root=iscsi:192.0.2.2::3260:1:iqn.2003-01.org.example:root ro"
[ "$(cat "$R/param.conf")" = "export ROOT=/dev/sdc" ] || fail "ROOT with init's \$ROOT: $(cat "$R/param.conf")"
# root=iscsi: for the login, a later root=UUID= for the root (a partition
# of the LUN): ROOT stays init's
boot "root=iscsi:192.0.2.2::3260:1:iqn.2003-01.org.example:root root=UUID=0f5e2a8c-1d1e-4bb3-9b57-2f3c2d3e4f5a ro"
expect_call "iscsistart -i iqn.2024-01.org.example:from-file -t iqn.2003-01.org.example:root -g 1 -a 192.0.2.2 -p 3260"
[ ! -s "$R/param.conf" ] || fail "ROOT replaced although root=UUID= came last: $(cat "$R/param.conf")"
ROOT=UUID=0f5e2a8c-1d1e-4bb3-9b57-2f3c2d3e4f5a boot "root=iscsi:192.0.2.2::3260:1:iqn.2003-01.org.example:root root=UUID=0f5e2a8c-1d1e-4bb3-9b57-2f3c2d3e4f5a"
[ ! -s "$R/param.conf" ] || fail "ROOT replaced although init's \$ROOT is UUID=: $(cat "$R/param.conf")"
# IPv6 in brackets, no port, no auth, LUN 0
boot "root=iscsi:[fd00::2]:6::0:iqn.2003-01.org.example:root"
expect_call "iscsistart -i iqn.2024-01.org.example:from-file -t iqn.2003-01.org.example:root -g 1 -a fd00::2 -p 3260"
[ "$(cat "$R/param.conf")" = "export ROOT=/dev/sdb" ] || fail "ROOT: $(cat "$R/param.conf")"

# /etc/iscsi.initramfs, two portals, the command line wins where it speaks
cat > "$R/iscsi.initramfs" <<EOC
ISCSI_INITIATOR=iqn.2024-01.org.example:from-conf
ISCSI_TARGET_NAME=iqn.2003-01.org.example:data
ISCSI_TARGET_IP="192.0.2.2 192.0.2.3"
ISCSI_TARGET_GROUP=2
ISCSI_USERNAME=confuser
ISCSI_PASSWORD=confsecret
ISCSI_PARAMS="node.session.timeo.replacement_timeout=86400"
EOC
boot "iscsi_target_port=3261 quiet"
expect_call "iscsistart -i iqn.2024-01.org.example:from-conf -t iqn.2003-01.org.example:data -g 2 -a 192.0.2.2 -p 3261 -u confuser -w confsecret -P node.session.timeo.replacement_timeout=86400"
expect_call "iscsistart -i iqn.2024-01.org.example:from-conf -t iqn.2003-01.org.example:data -g 2 -a 192.0.2.3 -p 3261 -u confuser -w confsecret -P node.session.timeo.replacement_timeout=86400"
[ ! -e "$R/param.conf" ] || fail "ROOT set without root=iscsi:"
rm "$R/iscsi.initramfs"

# the boot firmware table
boot "iscsi_auto root=/dev/sda1"
expect_call "modprobe -q iscsi_ibft"
expect_call "iscsistart -N"
expect_call "iscsistart -b"
[ "$(grep -n 'iscsistart -N' "$R/calls" | cut -d: -f1)" -lt "$(grep -n 'iscsistart -b' "$R/calls" | cut -d: -f1)" ] ||
	fail "-b before -N"

# the hook
mkdir -p "$R/dest" "$R/etc"
cat > "$R/hook-functions" <<EOC
copy_exec() { echo "copy_exec \$*" >> "$R/hook.calls"; }
manual_add_modules() { echo "manual_add_modules \$*" >> "$R/hook.calls"; }
EOC
[ -x "$HOOK" ] || fail "$HOOK not built"
DESTDIR=$R/dest HOOK_FUNCTIONS=$R/hook-functions sh "$HOOK" > "$R/out" 2>&1 || fail "hook exited $?: $(cat "$R/out")"
sbin=$(sed -n 's/^copy_exec \(.*\)\/iscsistart \/sbin$/\1/p' "$R/hook.calls")
[ -n "$sbin" ] || fail "the hook does not copy iscsistart to /sbin: $(cat "$R/hook.calls")"
grep -qxF "copy_exec $sbin/iscsid /sbin" "$R/hook.calls" || fail "iscsid is not copied next to iscsistart"
for m in iscsi_tcp libiscsi scsi_transport_iscsi iscsi_ibft sd_mod; do
	grep -qxF "manual_add_modules $m" "$R/hook.calls" || fail "module $m not added"
done
# make install-initramfs: where mkinitramfs looks (/etc/initramfs-tools
# or /usr/share/initramfs-tools), whatever the prefix
env -u MAKEFLAGS -u MFLAGS make -s install-initramfs DESTDIR="$R/inst" > "$R/out" 2>&1 ||
	fail "make install-initramfs failed: $(cat "$R/out")"
for f in hooks/iscsistart scripts/local-top/iscsistart; do
	[ -x "$R/inst/etc/initramfs-tools/$f" ] ||
		fail "make install-initramfs did not install $f into /etc/initramfs-tools: $(cd "$R/inst" && find . -type f)"
done
echo PASS
