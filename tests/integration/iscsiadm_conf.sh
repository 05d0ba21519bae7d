#!/bin/bash
# An iscsid.conf open-iscsi accepts (an empty value a configuration
# template renders for an unset secret, "value # comment", a number open-
# iscsi's strtoul() reads anyhow, a line without '='): iscsid starts,
# `-m node -o new` and discovery work, and each such line gets a warning
# naming file, line and key and the value used instead, at the default
# log level (no -d), never quoting a secret. Records take the file's
# defaults (Debian's initial_login_retry_max = 8, login_timeout = 15).
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
setup_root
T=iqn.2024-01.org.example.conf

cat > "$R/iscsid.conf" <<'EOF'
# as Debian ships it
node.session.initial_login_retry_max = 8
node.conn[0].timeo.login_timeout = 15
# what a template renders for unset secrets
node.session.auth.username = 
node.session.auth.password =
node.session.cmds_max = 64 # comment
node.session.queue_depth = 99999
node.session.nr_sessions = 0
node.conn[0].timeo.noop_out_interval = abc
node.session.auth.username_in = tgtuser # mutual
node.session.auth.password_in = Hush-Hush-42 # rotated
this line has no equals sign
EOF

# --- iscsid starts (no -d) and logs each warning
printf '#!/bin/sh\nexit 1\n' > "$R/modprobe"
chmod 755 "$R/modprobe"
"$ISCSID" -f --root "$R" --sysfs-root "$R/sys" --modprobe "$R/modprobe" 2>>"$R/iscsid.log" &
DPID=$!
for i in $(seq 1 100); do
	[ -S "$R/iscsid.sock" ] && break
	kill -0 "$DPID" 2>/dev/null || fail "iscsid refused the configuration"
	sleep 0.05
done
[ -S "$R/iscsid.sock" ] || fail "iscsid did not create its socket"
for w in "iscsid.conf:7: node.session.cmds_max: using 64, ignoring '# comment' after it" \
	"iscsid.conf:8: node.session.queue_depth: 99999 out of range (1..1024); using 32" \
	"iscsid.conf:9: node.session.nr_sessions: 0 out of range (1..256); using 1" \
	"iscsid.conf:10: node.conn[0].timeo.noop_out_interval: 'abc' is not a number; using 5" \
	"iscsid.conf:11: node.session.auth.username_in: the value includes the text after '#'" \
	"iscsid.conf:12: node.session.auth.password_in: the value includes the text after '#'" \
	"iscsid.conf:13: not a \"key = value\" line; ignored"; do
	grep -qF -- "$w" "$R/iscsid.log" || { cat "$R/iscsid.log"; fail "iscsid did not log: $w"; }
done
grep -q "iscsid.conf:[56]:" "$R/iscsid.log" && { cat "$R/iscsid.log"; fail "an empty string value was warned about"; }
grep -q "Hush-Hush" "$R/iscsid.log" && fail "iscsid logged a secret"

# --- -o new: exit 0, the same warnings on stderr without -d
expect_rc 0 -m node -o new -T $T:disk1 -p 127.0.0.1:3260
for w in "iscsiadm: $R/iscsid.conf:7: warning: node.session.cmds_max: using 64" \
	"$R/iscsid.conf:8: warning: node.session.queue_depth: 99999 out of range (1..1024); using 32" \
	"$R/iscsid.conf:9: warning: node.session.nr_sessions" \
	"$R/iscsid.conf:10: warning: node.conn[0].timeo.noop_out_interval" \
	"$R/iscsid.conf:13: warning: not a \"key = value\" line; ignored"; do
	expect_err "$w"
done
grep -q "Hush-Hush" "$R/err" && fail "iscsiadm printed a secret"
expect_rc 0 -m node -T $T:disk1 -p 127.0.0.1:3260 -o show
expect_out "node.session.cmds_max = 64"
expect_out "node.session.queue_depth = 32"
expect_out "node.session.nr_sessions = 1"
expect_out "node.conn[0].timeo.noop_out_interval = 5"
expect_out "node.session.auth.username = <empty>"
expect_out "node.session.auth.password = <empty>"
expect_out "node.session.auth.username_in = tgtuser # mutual"
expect_out "node.session.initial_login_retry_max = 8"
expect_out "node.conn[0].timeo.login_timeout = 15"

# --- a CHAP key whose fallback would weaken authentication: refused (6)
printf 'node.session.auth.authmethod = Kerberos\n' > "$R/strict.conf"
cp "$R/iscsid.conf" "$R/lenient.conf"
cp "$R/strict.conf" "$R/iscsid.conf"
expect_rc 6 -m node -o new -T $T:disk2 -p 127.0.0.1:3260
expect_err "$R/iscsid.conf:1: error: node.session.auth.authmethod: unknown value 'Kerberos'"
cp "$R/lenient.conf" "$R/iscsid.conf"

# --- SendTargets discovery with the same file (tgtd on loopback)
if [ "$(id -u)" = 0 ] && command -v tgtd >/dev/null 2>&1 && command -v tgtadm >/dev/null 2>&1; then
	tgtd_start || fail "tgtd"
	tgtd_target 1 $T:disk3 1 || fail "tgtd target"
	expect_rc 0 -m discovery -t st -p 127.0.0.1:$TGTD_PORT
	expect_out "127.0.0.1:$TGTD_PORT,1 $T:disk3"
	expect_err "$R/iscsid.conf:7: warning: node.session.cmds_max: using 64"
	expect_rc 0 -m node -T $T:disk3 -p 127.0.0.1:$TGTD_PORT -o show
	expect_out "node.session.queue_depth = 32"
	expect_out "node.session.initial_login_retry_max = 8"
else
	echo "note: not root or no tgtd: discovery not run"
fi
echo PASS
