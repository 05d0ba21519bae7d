#!/bin/sh
# CHAP and mutual CHAP against LIO: a wrong secret fails with exit 24
# (authorization failure) and leaves no session behind; the right one logs
# in and the disk attaches.  Same for the target's (mutual) secret.
set -u
. "$VMTEST_LIB/lio.sh"
. "$VMTEST_LIB/initiator.sh"

IQN=iqn.2003-01.org.example.vmtest:chap

# login_refused WHAT: the login must fail as an authorization failure and
# leave neither a kernel session nor a target-side session.
login_refused() {
    local rc
    iadm -m node -T "$IQN" -p "$PORTAL" --login >/tmp/login.out 2>&1; rc=$?
    cat /tmp/login.out
    [ "$rc" != 0 ] || fail "login with $1 succeeded"
    auth_fail_ok "$rc" || fail "login with $1 exited $rc, expected 24 (authorization failure)"
    echo "login with $1 refused: exit $rc"
    [ -z "$(session_ids)" ] || fail "session left after a refused login: $(session_ids | tr '\n' ' ')"
    sleep 2
    [ -z "$(session_ids)" ] || fail "session appeared 2 s after a refused login"
    [ -z "$(lio_sessions "$IQN")" ] || fail "target lists a session after a refused login"
    [ "$(disk_count)" = 0 ] || fail "disk present after a refused login"
}

login_works() { # WHAT
    iadm -m node -T "$IQN" -p "$PORTAL" --login || fail "login with $1 exited $?"
    wait_for_disks 1 30 || fail "no disk after login with $1"
    d=$(all_disks)
    [ "$(p3_disks "$IQN")" = "$d" ] || fail "-P 3 does not show $d running"
    dd if="/dev/$d" of=/dev/null bs=1M count=1 iflag=direct 2>/dev/null || fail "read from /dev/$d"
    echo "login with $1: /dev/$d"
    iadm -m node -T "$IQN" -p "$PORTAL" --logout || fail "logout exited $?"
    wait_no_sessions 15 || fail "session left after logout"
}

step "target $IQN requiring CHAP (user vmuser)"
lio_simple_target "$IQN" 16M && lio_auth "$IQN" vmuser vmsecret12345 || fail "LIO setup"
init_start || fail "iscsid did not start"
iadm -m discovery -t st -p "$PORTAL" >/dev/null || fail "discovery exited $?"

step "no credentials"
login_refused "no CHAP configured"

step "CHAP with a wrong secret"
node_set "$IQN" "$PORTAL" node.session.auth.authmethod CHAP || fail "update authmethod"
node_set "$IQN" "$PORTAL" node.session.auth.username vmuser || fail "update username"
node_set "$IQN" "$PORTAL" node.session.auth.password wrongsecret12 || fail "update password"
login_refused "a wrong CHAP secret"

step "CHAP with a wrong user name"
node_set "$IQN" "$PORTAL" node.session.auth.username nosuchuser || fail "update username"
node_set "$IQN" "$PORTAL" node.session.auth.password vmsecret12345 || fail "update password"
login_refused "a wrong CHAP user"

step "CHAP with the right secret"
node_set "$IQN" "$PORTAL" node.session.auth.username vmuser || fail "update username"
login_works "the right CHAP secret"

step "mutual CHAP: the target must prove itself (user tgtuser)"
lio_auth "$IQN" vmuser vmsecret12345 tgtuser tgtsecret1234 || fail "LIO mutual setup"
node_set "$IQN" "$PORTAL" node.session.auth.username_in tgtuser || fail "update username_in"
node_set "$IQN" "$PORTAL" node.session.auth.password_in wrongtgtsecret || fail "update password_in"
login_refused "a wrong mutual (target) secret"

step "mutual CHAP with the right secrets"
node_set "$IQN" "$PORTAL" node.session.auth.password_in tgtsecret1234 || fail "update password_in"
login_works "mutual CHAP"

init_stop
step "chap OK"
