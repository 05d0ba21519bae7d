#!/bin/bash
# Discovery CHAP against tgtd (accounts bound without a target id guard
# its discovery sessions): credentials from iscsid.conf (-m discovery)
# and from the discovery record (-m discoverydb -D), one-way and mutual,
# right and wrong (exit 24), secrets masked unless -S. iscsiadm is not
# linked with libcrypto (it opens it when CHAP needs it, so commands
# without CHAP start faster): the CHAP runs here are that path.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
tgtd_require
setup_root
tgtd_start || fail "tgtd"
P=$TGTD_PORT
T=iqn.2024-01.org.example.chap
tgtd_target 1 $T:disk1 1
tgtd_discovery_chap discuser discsecret1234 || fail "tgtadm account"
if command -v readelf >/dev/null 2>&1; then
	readelf -d "$ADM" | grep -q 'NEEDED.*libcrypto' && fail "iscsiadm is linked with libcrypto"
	# ...but the daemons name it, though chap.c reaches it by dlopen(),
	# so that initramfs and image builders copy it (without it every
	# CHAP login at boot fails)
	for b in "$ISCSID" "${ISCSID%/iscsid/iscsid}/iscsistart/iscsistart"; do
		[ -x "$b" ] || continue
		readelf -d "$b" | grep -q 'NEEDED.*libcrypto' || fail "$b does not name libcrypto"
	done
fi

# no credentials: the target refuses the discovery session
expect_rc 24 -m discovery -t st -p 127.0.0.1:$P -o nonpersistent
expect_err "authentication failure"
expect_err "Could not perform SendTargets discovery"

# -m discovery takes them from iscsid.conf
cat > "$R/iscsid.conf" <<EOF
discovery.sendtargets.auth.authmethod = CHAP
discovery.sendtargets.auth.username = discuser
discovery.sendtargets.auth.password = discsecret1234
EOF
expect_rc 0 -m discovery -t st -p 127.0.0.1:$P
expect_out "127.0.0.1:$P,1 $T:disk1"
# stored in the discovery record (0600), masked when shown
[ "$(stat -c %a "$R/send_targets/127.0.0.1,$P/st_config")" = 600 ] || fail "st_config not 0600"
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o show
expect_out "discovery.sendtargets.auth.password = ********"
grep -q discsecret1234 "$R/out" && fail "secret shown without -S"
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o show -S
expect_out "discovery.sendtargets.auth.password = discsecret1234"

# wrong password in iscsid.conf: 24
sed -i 's/discsecret1234/wrongsecret99/' "$R/iscsid.conf"
expect_rc 24 -m discovery -t st -p 127.0.0.1:$P -o nonpersistent
grep -q wrongsecret99 "$R/err" && fail "secret printed in an error"

# discoverydb -D uses the record: fix it there
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o update -n discovery.sendtargets.auth.password -v discsecret1234
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -D
expect_out "$T:disk1"

# mutual CHAP: the target proves it knows password_in
tgtd_discovery_chap_mutual tgtuser tgtsecret5678 || fail "tgtadm outgoing account"
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o update \
	-n discovery.sendtargets.auth.username_in -v tgtuser \
	-n discovery.sendtargets.auth.password_in -v tgtsecret5678
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -D
expect_out "$T:disk1"
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o update -n discovery.sendtargets.auth.password_in -v notthesecret
expect_rc 24 -m discoverydb -t st -p 127.0.0.1:$P -D
expect_err "mutual CHAP"
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o show --json
expect_json
grep -q notthesecret "$R/out" && fail "secret in JSON without -S"
expect_rc 0 -m discoverydb -t st -p 127.0.0.1:$P -o show --json -S
expect_out '"discovery.sendtargets.auth.password_in": "notthesecret"'
echo "PASS: discovery CHAP"
