#!/bin/sh
# boots: 1
# disks: d1:64M
#
# The daemon under systemd while a file system on iSCSI is busy (issue 8
# "Boot and shutdown under systemd"). ext4 on d1, mounted through an
# fstab line with _netdev, a writer running (each file fsync'ed):
#  - `systemctl stop iscsid`: the session stays logged in, the disk
#    running, the writer goes on
#  - `systemctl start iscsid`: the daemon adopts the session
#    (`-m session -P 3`: LOGGED_IN, the disk attached and running) and
#    really takes care of it: the portal group goes off for 3 s and the
#    session comes back by itself
#  - `systemctl restart iscsid` three times under the writer
#  - then: the writer's exit status, no I/O error in the kernel log, every
#    file reads back as written after a remount, nothing failed
#  - at last `systemctl stop iscsid` and power off: the shutdown still
#    logs out (through socket activation for this project) before the SAN
#    goes down, with no stop job to wait for (checked by the runner on
#    the console)
# Results: how long the writer paused at the stop, the start and the
# restarts (ms-level pauses are expected; seconds would mean the daemon
# blocked I/O).
. /opt/vmtest/lib.sh
T1=$(iqn d1)
MNT=/mnt/d1
TPG1=/sys/kernel/config/target/iscsi/$T1/tpgt_1

# Kernel lines that mean I/O failed somewhere (the 3 s outage only shows
# "detected conn error", which is not among them).
io_errors() {
    dmesg | grep -E 'I/O error|rejecting I/O|DID_NO_CONNECT|device offline|EXT4-fs (error|warning)|Aborting journal|Remounting filesystem read-only'
}
sess() { for s in /sys/class/iscsi_session/session*; do
    [ "$(cat "$s/targetname" 2>/dev/null)" = "$T1" ] && { echo "${s##*/session}"; return 0; }
done; return 1; }
sess_is() { [ "$(cat "/sys/class/iscsi_session/session$S/state" 2>/dev/null)" = "$1" ]; }
disk_running() { [ "$(cat "/sys/block/$D/device/state" 2>/dev/null)" = running ]; }
active() { systemctl is-active -q iscsid.service; }

# progress WHAT: the writer writes at least 3 more files within 20 s.
progress() {
    _c=$(writer_count)
    wait_for 20 writer_has $((_c + 3)) || bad "the writer made no progress $1 ($_c files)"
}

# adopted: -P 3 shows the session logged in with its disk running.
adopted() {
    p3=$(iscsiadm -m session -P 3 2>&1)
    echo "$p3" | grep -q "iSCSI Session State: LOGGED_IN" &&
        echo "$p3" | grep -Eq "Attached scsi disk ${D}[[:space:]]+State: running"
}

step "enable iscsid.socket, discovery, login (starts iscsid), ext4 from fstab (_netdev)"
systemctl enable --now iscsid.socket || fail "systemctl enable --now iscsid.socket"
iscsiadm -m discovery -t st -p "$PORTAL_IP" >/dev/null || fail "discovery failed"
iscsiadm -m node -T "$T1" -p "$PORTAL" --login || fail "login $T1"
active || bad "iscsid.service not active after a login through the socket"
S=$(sess) || fail "no session to $T1"
dev=$(lun_dev "$T1") || fail "no disk for $T1"
D=${dev#/dev/}
mkfs.ext4 -q -F "$dev" || fail "mkfs.ext4 $dev"
udevadm settle -t 10
uuid=$(blkid -s UUID -o value "$dev")
[ -n "$uuid" ] || fail "no UUID on $dev"
mkdir -p "$MNT"
echo "UUID=$uuid $MNT ext4 _netdev 0 2" >>/etc/fstab
systemctl daemon-reload
mount "$MNT" || fail "mount $MNT"

writer_start "$MNT/w"
wait_for 20 writer_has 5 || fail "the writer does not write"

step "systemctl stop iscsid: the session and the mount keep working"
t=$(now)
systemctl stop iscsid.service || bad "systemctl stop iscsid.service failed"
active && bad "iscsid.service still active after stop"
pidof iscsid >/dev/null && bad "an iscsid process is left after stop: $(pidof iscsid)"
sess_is LOGGED_IN || bad "session $S is $(cat "/sys/class/iscsi_session/session$S/state") with iscsid stopped"
disk_running || bad "$D is $(cat "/sys/block/$D/device/state") with iscsid stopped"
progress "with iscsid stopped"
active && bad "iscsid.service was started again while nothing asked for it"
result stop_pause_s "$(writer_max_gap "$t")"

step "systemctl start iscsid: the session is adopted"
t=$(now)
systemctl start iscsid.service || bad "systemctl start iscsid.service failed"
wait_for 20 adopted || { bad "-m session -P 3 does not show session $S logged in with $D running:"; echo "$p3"; }
echo "$p3" | grep -E 'Target:|Current Portal|SID|Session State|Attached scsi disk'
progress "after the start"
result start_pause_s "$(writer_max_gap "$t")"
if [ "$VMTEST_INITIATOR" = ours ]; then
    journalctl -b -u iscsid.service --since "-60 s" --no-pager -o cat | grep -q "adopted session $S " ||
        bad "no 'adopted session $S' line in iscsid's journal after the start"
fi

step "the adopted session recovers from a 3 s outage"
printf 0 >"$TPG1/enable"
wait_for 10 sess_is FAILED || bad "session $S not FAILED with its portal group off"
sleep 3
t=$(now)
printf 1 >"$TPG1/enable"
wait_for 20 sess_is LOGGED_IN || bad "the adopted session did not log in again within 20 s"
echo "logged in again $(secs "$t" "$(now)") s after the portal group came back"
progress "after the outage"

step "systemctl restart iscsid, three times, under the writer"
t=$(now)
for i in 1 2 3; do
    systemctl restart iscsid.service || bad "systemctl restart iscsid.service ($i) failed"
    wait_for 20 adopted || bad "restart $i: session $S not shown logged in with $D running"
    progress "after restart $i"
done
result restart_pause_s "$(writer_max_gap "$t")"
sess_is LOGGED_IN || bad "session $S is $(cat "/sys/class/iscsi_session/session$S/state") after the restarts"

step "the writer, the kernel log, the data"
writer_stop
echo "writer: exit $WRITER_RC, $(writer_count) files"
[ "$WRITER_RC" = 0 ] || bad "the writer failed (exit $WRITER_RC)"
errs=$(io_errors)
[ -z "$errs" ] || { bad "I/O errors in the kernel log:"; echo "$errs" | head -n 20; }
umount "$MNT" && mount "$MNT" || bad "remount $MNT"
bad_files=$(writer_verify)
[ -z "$bad_files" ] || { bad "files differ from what was written:"; echo "$bad_files"; }
failed=$(systemctl --failed --no-legend --plain)
[ -z "$failed" ] || { bad "failed units:"; echo "$failed"; }

# The power-off with the daemon stopped by hand: the runner checks on the
# console that the SAN saw no session left and no stop job was waited for.
step "systemctl stop iscsid, then power off"
systemctl stop iscsid.service || bad "systemctl stop iscsid.service failed"
has_session "$T1" || bad "stopping iscsid logged $T1 out"
finish
