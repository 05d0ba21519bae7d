#!/bin/bash
# A session in sysfs that iscsid does not carry (HBA firmware, another
# initiator, or an iscsid that cannot use NETLINK_ISCSI, as here): a logout
# of it is refused with iscsid's answer and a clear error, never a crash
# (iscsiadm aborted with "free(): invalid pointer" here: the view it
# re-read to tell "ended meanwhile" from "still there" was freed as if it
# were an array it owned). The listing of the same tree stays correct.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
setup_root
TREE=${TREE:-./tests/tools/fake_sysfs_tree}
[ -x "$TREE" ] || fail "no $TREE (make builds it)"
rm -rf "$R/sys"
"$TREE" "$R/sys" 2 || fail "fake_sysfs_tree"
start_iscsid

expect_rc 0 -m session
expect_out "tcp: [1] 127.0.0.1:3260,1 iqn.2024-01.org.example.scale:t00001 (non-flash)"
expect_out "tcp: [2] 127.0.0.1:3260,1 iqn.2024-01.org.example.scale:t00002 (non-flash)"

# iscsid answers "no such session": the session is still there, so that
# is an error of the logout (exit 2), said as such
expect_rc 2 -m session -r 1 -u
expect_out "Logging out of session [sid: 1, target: iqn.2024-01.org.example.scale:t00001, portal: 127.0.0.1,3260]"
expect_err "Could not logout of [sid: 1"
expect_err "initiator reported error (2 - "
grep -q "ended meanwhile" "$R/out" "$R/err" && fail "a session still in sysfs was called ended"

# -m session -u: every session, each refused alike, iscsid still running
expect_rc 2 -m session -u
expect_err "Could not logout of [sid: 2"
kill -0 "$DPID" 2>/dev/null || fail "iscsid died"
expect_rc 0 -m session
echo "PASS"
