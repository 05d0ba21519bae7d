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

lun_dev() {
    _l=/dev/disk/by-path/ip-$PORTAL-iscsi-$1-lun-0
    wait_for 30 test -b "$_l" || return 1
    readlink -f "$_l"
}
