# Guest library of the full Debian VM scenarios (sourced, POSIX sh).
#
#   VMTEST_INITIATOR  ours (this project, installed by make install under
#                     /usr/local) or openiscsi (Debian's package)
#   VMTEST_DIR        /var/lib/vmtest: kept on the root disk across boots,
#                     copied to the host after the last boot
#
#   step MSG            progress line with the uptime
#   bad MSG             record a failure and go on: later checks and
#                       boots still run (their results help more than an
#                       early stop)
#   fail MSG            record a failure and stop the scenario: no further
#                       boot
#   finish              end this boot's part: exit with the failure count
#   result KEY VALUE    a measurement: "VMTEST-RESULT KEY VALUE" (console)
#   iqn NAME            the test SAN's target name for disk lio-NAME
#   wait_for SEC CMD..  poll CMD every 0.2 s
#   lun_dev IQN         /dev/sdX of LUN 0 of the session with IQN (waits 30 s)
#   has_session IQN     is there a kernel session with IQN?
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
PORTAL_IP=127.0.0.1
PORTAL=127.0.0.1:3260
IQN_PREFIX=iqn.2003-01.org.example.vmtest
VMTEST_DIR=${VMTEST_DIR:-/var/lib/vmtest}
VMTEST_INITIATOR=${VMTEST_INITIATOR:-ours}
_failures=0

step() { echo "== $* ($(cut -d' ' -f1 /proc/uptime)s)"; }
bad() { echo "FAIL: $*"; _failures=$((_failures + 1)); }
fail() { bad "$@"; : >/run/vmtest.fatal; finish; }
finish() {
    [ "$_failures" = 0 ] && echo "all checks of this boot passed" || echo "$_failures check(s) failed"
    [ "$_failures" -lt 100 ] || _failures=99
    exit "$_failures"
}
result() { echo "VMTEST-RESULT $1 $2"; }
iqn() { echo "$IQN_PREFIX:$1"; }

wait_for() {
    _n=$(( $1 * 5 )); shift
    while [ "$_n" -gt 0 ]; do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2; _n=$((_n - 1))
    done
    return 1
}

# From sysfs: asking iscsiadm could start iscsid (socket activation).
has_session() { cat /sys/class/iscsi_session/session*/targetname 2>/dev/null | grep -qxF "$1"; }

# A writer for I/O that must carry on across failures (a daemon restart,
# a path failover). Each file of 256 KiB is fsync'ed (coreutils sync FILE)
# before the next; its sha256 is kept on the root file system and
# "N uptime" goes to the log. It stops at the first failed command or
# when asked.
#   writer_start DIR    start it in the background, files DIR/fN
#   writer_count        files written so far; writer_has N: at least N?
#   writer_stop         stop it and wait: WRITER_RC = its exit status
#                       (0 = every write and fsync succeeded)
#   writer_max_gap T    the longest pause (s) between two files after uptime T
#   writer_verify       every file reads back as written ("" = all good)
#   now / secs A B      uptime; B - A with one decimal
_W=/run/vmtest-writer
now() { cut -d' ' -f1 /proc/uptime; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
writer_start() {
    rm -rf "$_W"; mkdir -p "$_W" "$1"
    (
        i=0
        while [ ! -e "$_W/stop" ]; do
            i=$((i + 1))
            head -c 262144 /dev/urandom >"$1/f$i" && sync "$1/f$i" ||
                { echo "writer: file $1/f$i failed" >&2; echo 1 >"$_W/rc"; exit 1; }
            sha256sum "$1/f$i" >>"$_W/sums"
            echo "$i $(now)" >>"$_W/log"
        done
        echo 0 >"$_W/rc"
    ) &
    _wpid=$!
}
writer_count() { wc -l <"$_W/log" 2>/dev/null || echo 0; }
writer_has() { [ "$(writer_count)" -ge "$1" ]; }
writer_stop() {
    : >"$_W/stop"
    wait "$_wpid"
    WRITER_RC=$(cat "$_W/rc" 2>/dev/null || echo none)
}
writer_max_gap() {
    awk -v from="$1" '$2 >= from { if (p != "" && $2 - p > m) m = $2 - p; p = $2 } END { printf "%.1f", m }' "$_W/log"
}
writer_verify() { sha256sum -c --quiet "$_W/sums" 2>&1 | head -n 5; }

lun_dev() {
    _l=/dev/disk/by-path/ip-$PORTAL-iscsi-$1-lun-0
    wait_for 30 test -b "$_l" || return 1
    readlink -f "$_l"
}
