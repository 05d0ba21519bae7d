#!/bin/bash
# iscsiadm -m fw and firmware discovery against constructed iBFT trees
# (--sysfs): open-iscsi's record text byte for byte (tests/golden/
# iscsiadm/fw_S.txt is Debian's iscsiadm 2.1.8 output for the same tree,
# its two blocks in index order), secrets masked unless -S, JSON, exit 21
# without a table, hostile entries reported and left out, firmware logins
# through iscsid (records built on the fly, interface keys not
# overridable), -m discovery -t fw storing onboot records that
# --logoutall never touches.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
. "$top_srcdir/tests/integration/ibft_tree.sh"
setup_root

# --- no firmware table
for args in "-m fw" "-m fw -l" "-m discovery -t fw" "-m discoverydb -t fw -D"; do
	expect_rc 21 $args
	expect_err "iscsiadm: Could not get list of targets from firmware. (err 21)"
done
expect_rc 7 -m discoverydb -t fw
expect_err "Invalid command. Possibly missing --discover argument."
expect_rc 7 -m fw -p 127.0.0.1
expect_err "fw mode: option '-p' is not allowed/supported"

# --- the table
ibft_tree "$R/sys"
expect_rc 0 -m fw -S
cmp -s "$R/out" "$GOLDEN/fw_S.txt" || { diff -u "$GOLDEN/fw_S.txt" "$R/out"; fail "-m fw -S differs from open-iscsi's"; }
[ ! -s "$R/err" ] || { cat "$R/err"; fail "-m fw wrote to stderr"; }
expect_rc 0 -m fw
sed -e "s/= $IBFT_SECRET\$/= ********/" -e "s/= $IBFT_RSECRET\$/= ********/" "$GOLDEN/fw_S.txt" > "$R/want"
cmp -s "$R/out" "$R/want" || { diff -u "$R/want" "$R/out"; fail "-m fw: secrets not masked as expected"; }
grep -q "$IBFT_SECRET\|$IBFT_RSECRET" "$R/out" && fail "-m fw printed a secret"
expect_rc 0 -m fw --json
expect_json
grep -q "$IBFT_SECRET" "$R/out" && fail "-m fw --json printed a secret"
expect_out '"node.session.auth.password": "********"'
expect_out '"iface.net_ifacename": "fwnic0"'
expect_out "\"node.name\": \"$IBFT_T1\""
expect_rc 0 -m fw -j -S
expect_out "\"node.session.auth.password\": \"$IBFT_SECRET\""
# the same through $ISCSI_SYSFS_ROOT
ISCSI_SYSFS_ROOT=$R/sys "$ADM" --root "$R" -m fw > "$R/out2" || fail "-m fw with ISCSI_SYSFS_ROOT"
cmp -s "$R/out2" "$R/want" || fail "ISCSI_SYSFS_ROOT: other output"

# --- hostile entries: reported on stderr, left out; the rest still works
cp -a "$R/sys/firmware/ibft" "$R/ibft.good"
printf 'iqn.2003-01.org.example:\377\376\n' > "$R/sys/firmware/ibft/target1/target-name"
expect_rc 0 -m fw
expect_err "firmware/ibft/target1/target-name: error: "
grep -c '^# BEGIN RECORD' "$R/out" | grep -qx 1 || fail "the hostile target was printed"
expect_out "node.name = $IBFT_T0"
head -c 8000 /dev/zero | tr '\0' 7 > "$R/sys/firmware/ibft/target0/port"
expect_rc 21 -m fw
expect_err "target0/port: error: value too long; the entry is left out"
expect_err "Could not get list of targets from firmware. (err 21)"
printf 'pa\300ss\n' > "$R/sys/firmware/ibft/target0/port"
rm -f "$R/sys/firmware/ibft/initiator/initiator-name"
expect_rc 21 -m fw
expect_err "target0/port: error: not a number from 0 to 65535"
rm -rf "$R/sys/firmware/ibft"
cp -a "$R/ibft.good" "$R/sys/firmware/ibft"
printf 'Zq9\001Zq9\n' > "$R/sys/firmware/ibft/target0/chap-secret"
expect_rc 0 -m fw -S
expect_err "target0/chap-secret: error: not printable UTF-8 text; the entry is left out"
grep -q "Zq9" "$R/out" "$R/err" && fail "a bad secret's value was shown"
rm -rf "$R/sys/firmware/ibft"
cp -a "$R/ibft.good" "$R/sys/firmware/ibft"

# --- -m fw -l: logins through iscsid (no kernel transport here: 12)
expect_rc 7 -m fw -l -n iface.hwaddress -v 52:54:00:00:00:01
expect_err "Cannot override interface parameters for firmware logins"
expect_rc 7 -m fw -l -n node.no.such.key -v 1
expect_err "Could not merge user params"
if [ "$(id -u)" = 0 ]; then
	start_iscsid
	expect_rc 12 -m fw -l
	# root on iSCSI: all of iscsid stays in memory (mlockall), so that
	# recovering the root disk's session never waits for that disk
	# (not in an AddressSanitizer build, which does not lock)
	if ! grep -aq __asan_init "$ISCSID"; then
		locked=$(sed -n 's/^VmLck:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$DPID/status")
		[ "${locked:-0}" -gt 1024 ] ||
			fail "iscsid's memory is not locked (VmLck: ${locked:-?} kB)"
	fi
	expect_out "Logging in to [iface: default, target: $IBFT_T0, portal: 127.0.0.1,3260]"
	expect_out "Logging in to [iface: default, target: $IBFT_T1, portal: 127.0.0.2,3261]"
	expect_err "iSCSI transport 'tcp' not available"
	[ ! -d "$R/nodes" ] || fail "-m fw -l wrote node records"
	grep -q "$IBFT_SECRET" "$R/iscsid.log" && fail "iscsid logged a secret"

	# --- firmware discovery: onboot records, stale ones dropped
	expect_rc 0 -m discovery -t fw
	printf '127.0.0.1:3260,1 %s\n127.0.0.2:3261,1 %s\n' "$IBFT_T0" "$IBFT_T1" > "$R/want"
	cmp -s "$R/out" "$R/want" || { diff -u "$R/want" "$R/out"; fail "-m discovery -t fw output"; }
	expect_rc 0 -m node -T "$IBFT_T0" -p 127.0.0.1:3260 -o show -S
	expect_out "node.startup = onboot"
	expect_out "node.conn[0].startup = onboot"
	expect_out "node.discovery_type = fw"
	expect_out "node.tpgt = 1"
	expect_out "iface.initiatorname = $IBFT_INAME"
	expect_out "node.session.auth.authmethod = CHAP"
	expect_out "node.session.auth.password = $IBFT_SECRET"
	expect_out "node.session.auth.password_in = $IBFT_RSECRET"
	expect_rc 0 -m discoverydb -t fw -D -P 1
	expect_out "Target: $IBFT_T1"
	expect_out "		Iface Name: default"
	rm -rf "$R/sys/firmware/ibft/target1"
	expect_rc 0 -m discovery -t fw -o nonpersistent
	expect_rc 0 -m node -T "$IBFT_T1" -o show
	expect_rc 0 -m discovery -t fw -j
	expect_json
	expect_rc 21 -m node -T "$IBFT_T1" -o show
	expect_rc 0 -m node -T "$IBFT_T0" -o show

	# --- --logoutall never logs out an onboot (firmware) session; a
	# manual record's session is logged out (iscsid: no such session)
	expect_rc 0 -m node -o new -T iqn.2003-01.org.example:manual -p 127.0.0.3:3260,1
	fs_host 1
	fs_session 1 1 "$IBFT_T0" 1 127.0.0.1 3260
	fs_session 1 2 iqn.2003-01.org.example:manual 1 127.0.0.3 3260
	run -m node --logoutall=all
	grep -q "Logging out of session \[sid: 2, target: iqn.2003-01.org.example:manual" "$R/out" ||
		{ cat "$R/out" "$R/err"; fail "--logoutall=all did not pick the manual session"; }
	grep -q "sid: 1," "$R/out" "$R/err" && fail "--logoutall=all touched the firmware (onboot) session"
	rm -rf "$R/sys/class/iscsi_session/session2"
	expect_rc 21 -m node --logoutall=all
	expect_err "No matching sessions found"
else
	echo "note: not root: the iscsid parts are not run"
fi
echo PASS
