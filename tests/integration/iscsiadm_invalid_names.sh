#!/bin/bash
# What open-iscsi records or shows and we used to drop or fail on
# (found by a new user's trial against Debian's open-iscsi 2.1.8):
#  - SendTargets: a target whose name we reject (here upper case, which
#    tgtd serves) is skipped with a warning naming it; the others are
#    recorded, for discovery, discoverydb --discover and nonpersistent.
#  - a node directory whose name we reject is named on stderr at the
#    default level, once, while stdout stays parseable.
#  - a record file that does not parse, or a zero-length one, is not
#    used, and -o delete of the record it stands for removes it.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
tgtd_require
setup_root
tgtd_start || fail "tgtd"
P=$TGTD_PORT
T=iqn.2024-01.org.example
UP=IQN.2024-01.ORG.EXAMPLE:UPPER
tgtd_target_nolun 1 $T:disk1
tgtd_target_nolun 2 $UP || skip "tgtd refuses an upper-case target name"
tgtd_target_nolun 3 $T:disk2

# --- A: the odd target is skipped, named on stderr, the others recorded
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P
[ "$(wc -l < "$R/out")" = 2 ] || { cat "$R/out"; fail "expected 2 discovered portals"; }
expect_out "127.0.0.1:$P,1 $T:disk1"
expect_out "127.0.0.1:$P,1 $T:disk2"
expect_err "warning: SendTargets discovery at 127.0.0.1:$P: skipping invalid entry: TargetName \"$UP\": iSCSI name must start with"
[ "$(grep -c "skipping invalid entry" "$R/err")" = 1 ] || { cat "$R/err"; fail "expected one warning"; }
[ -f "$R/nodes/$T:disk1/127.0.0.1,$P,1/default" ] || fail "no record for disk1"
[ -f "$R/nodes/$T:disk2/127.0.0.1,$P,1/default" ] || fail "no record for disk2"
[ -e "$R/nodes/$UP" ] && fail "a record for the invalid name"
expect_rc 0 -m node
[ "$(wc -l < "$R/out")" = 2 ] || fail "expected 2 node records"
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P --discover
expect_out "$T:disk2"
expect_err "TargetName \"$UP\""
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P -o nonpersistent
[ "$(wc -l < "$R/out")" = 2 ] || { cat "$R/out"; fail "nonpersistent: expected 2 portals"; }
expect_err "TargetName \"$UP\""
# An answer with an entry left out deletes no record: it cannot tell a
# target that is gone from one listed only with addresses we refused,
# and such a record may hold CHAP settings and node.startup.
tgtd_adm --mode target --op delete --force --tid 3 || fail "tgtadm delete"
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P
expect_err "records of targets this answer did not list are kept"
[ -f "$R/nodes/$T:disk2/127.0.0.1,$P,1/default" ] || fail "disk2's record deleted by an answer with invalid entries"

# Only the odd one: the discovery fails as before, saying why.
tgtd_adm --mode target --op delete --force --tid 1 || fail "tgtadm delete"
rm -rf "$R/nodes" "$R/send_targets"
expect_rc 19 -m discovery -t st -p 127.0.0.1:$P
expect_err "invalid TargetName: iSCSI name must start with"
[ -e "$R/nodes" ] && fail "records written by a failed discovery"

# --- B: a record open-iscsi wrote for a name we reject is named on
# stderr at the default level, once per command; stdout lists the rest
rm -rf "$R/nodes" "$R/send_targets"
expect_rc 0 -m node -o new -T $T:ok -p 127.0.0.1:3260
cp -r "$R/nodes/$T:ok" "$R/nodes/$T:has space"
mkdir "$R/nodes/$(printf "$T:\033[2J")"
for cmd in "-m node" "-m node -P 1" "-m node -o update -n node.startup -v manual"; do
	expect_rc 0 $cmd
	[ "$(grep -c "ignoring directory \"$T:has space\": not a valid target name" "$R/err")" = 1 ] ||
		{ cat "$R/err"; fail "$cmd: expected one warning for the directory"; }
	expect_err "ignoring directory \"$T:\x1b[2J\""
	grep -q "has space" "$R/out" && fail "$cmd: the invalid record on stdout"
	LC_ALL=C grep -q "$(printf '\033')" "$R/err" && fail "$cmd: escape sequence on stderr"
done
expect_rc 0 -m node
[ "$(cat "$R/out")" = "127.0.0.1:3260,-1 $T:ok" ] || { cat "$R/out"; fail "stdout is not the one record"; }
rm -rf "$R/nodes/$T:has space" "$R/nodes/$(printf "$T:\033[2J")"

# --- C: a record file with a garbage line, and a zero-length one (a
# crash truncated it; our writes rename whole files into place), are not
# used, and -o delete of the record each stands for removes it
rm -rf "$R/nodes" "$R/static"
tgtd_target_nolun 4 $T:disk4
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P
G="$R/nodes/$T:disk4/127.0.0.1,$P,1/default"
[ -f "$G" ] || fail "no record for disk4"
echo "garbage line" >> "$G"
expect_rc 21 -m node -T $T:disk4 -p 127.0.0.1:$P
expect_err "skipping corrupt record"
expect_rc 0 -m node -T $T:disk4 -p 127.0.0.1:$P -o delete
expect_err "Deleted corrupt record [iface: default, target: $T:disk4, portal: 127.0.0.1,$P]"
[ -e "$G" ] && fail "the corrupt record is still there"
[ -e "$R/nodes/$T:disk4" ] && fail "its directory is still there"
[ -n "$(ls -A "$R/send_targets/127.0.0.1,$P")" ] &&
	[ "$(ls -A "$R/send_targets/127.0.0.1,$P")" != st_config ] && fail "a link to it is still there"

expect_rc 0 -m discovery -t st -p 127.0.0.1:$P
: > "$G"
expect_rc 21 -m node
expect_err "$G: error: empty record file; skipping corrupt record"
[ -s "$R/out" ] && { cat "$R/out"; fail "the empty record is listed"; }
expect_rc 21 -m node -L all
expect_rc 21 -m node -T $T:disk4 -p 127.0.0.1:$P --login
expect_err "empty record file"
expect_rc 0 -m node -T $T:disk4 -o delete
expect_err "Deleted corrupt record"
[ -e "$G" ] && fail "the empty record is still there"
# nothing left to delete
expect_rc 21 -m node -T $T:disk4 -o delete

echo "PASS: invalid names and corrupt records"
