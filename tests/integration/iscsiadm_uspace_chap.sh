#!/usr/bin/env bash
# CHAP, digests and the other keys through iscsiadm -I uspace: the same
# node-record settings as on the kernel path. What libiscsi does works
# (CHAP, mutual CHAP, header digests); what it cannot do is refused with
# iscsi-uspace's reason and open-iscsi's exit code, passed on by iscsid
# and printed by iscsiadm (never a weaker session): CHAP algorithms
# without MD5 and a required data digest 14, a source address 14, a
# target without the required header digest 19, a wrong secret 24.
# Secrets never reach the process's command line, the run directory,
# iscsid's log or iscsiadm's output.
set -u
. "${top_srcdir:-.}/tests/integration/iscsiadm_uspace_lib.sh"
ua_require
tgtd_start || exit 1
I=iqn.2024-01.org.example
tgtd_target 1 "$I:chap"
tgtd_target 2 "$I:mutual"
tgtd_chap 1 alice alice-secret-12
tgtd_chap 2 bob bob-secret-345
tgtd_chap_mutual 2 disk3 target-secret-678
start_iscsid

set_rec() { # TARGET name value ...
	local t=$1
	shift
	local args=()
	while [ $# -ge 2 ]; do
		args+=(-n "$1" -v "$2")
		shift 2
	done
	adm -m node -T "$t" -p "127.0.0.1:$TGTD_PORT" -I "${IFACE:-uspace}" -o update "${args[@]}" >/dev/null
}
# try NAME WANT-EXIT TARGET: logs in, expects the exit code; logs out on success
try() {
	local name=$1 want=$2 t=$3 rc
	run -m node -T "$t" -p "127.0.0.1:$TGTD_PORT" -I "${IFACE:-uspace}" --login
	rc=$?
	if [ "$rc" = "$want" ]; then
		check "$name (exit $rc)" true
	else
		check "$name: exit $rc, expected $want" false
		sed 's/^/    /' "$R/out" "$R/err"
	fi
}
logout() { run -m node -T "$1" -p "127.0.0.1:$TGTD_PORT" -I "${IFACE:-uspace}" --logout; }
# iscsid answers a failed login when the process's watch ends; the run
# directory's clean-up (`iscsi-uspace cleanup`) runs after that answer,
# so on a loaded machine it may still be at work: allowed 15 s.
nothing_left() {
	local i
	for i in $(seq 150); do
		[ -z "$(ua_leftovers)" ] && return 0
		sleep 0.1
	done
	ua_leftovers
	return 1
}

ua_node "$I:chap"
ua_node "$I:mutual"
set_rec "$I:chap" node.session.auth.authmethod CHAP node.session.auth.username alice \
	node.session.auth.password alice-secret-12
try chap 0 "$I:chap"
sid=$(ua_sid "$I:chap")
pid=$(cat "$RUNDIR/$sid/pid" 2>/dev/null)
check "no secret in the process's command line" bash -c "! grep -q secret /proc/$pid/cmdline"
check "no secret in the run directory" bash -c "! grep -rq secret '$RUNDIR'"
run -m session -P 2
check "-P 2 shows the CHAP user name" grep -qx $'\t\tusername: alice' "$R/out"
check "-P 2 masks the password" grep -qx $'\t\tpassword: \\*\\*\\*\\*\\*\\*\\*\\*' "$R/out"
check "no secret in -m session -P 2" bash -c "! grep -q secret '$R/out'"
run -m session -P 3 --json
check "no secret in --json" bash -c "! grep -q secret '$R/out'"
check "I/O on the CHAP session" dd if=/dev/zero of="$(ua_loop "$sid" 1)" bs=64k count=16 oflag=direct status=none
logout "$I:chap"

set_rec "$I:mutual" node.session.auth.authmethod CHAP node.session.auth.username bob \
	node.session.auth.password bob-secret-345 node.session.auth.username_in disk3 \
	node.session.auth.password_in target-secret-678
try mutual_chap 0 "$I:mutual"
logout "$I:mutual"

set_rec "$I:chap" node.session.auth.password not-the-password
try wrong_password 24 "$I:chap"
check "wrong password: iscsiadm says authentication failed" grep -q "initiator reported error (24 - iSCSI login failed due to authorization failure)" "$R/err"
check "wrong password: nothing left" nothing_left
set_rec "$I:mutual" node.session.auth.password_in wrong-secret-000
try target_fails_mutual_chap 24 "$I:mutual"
check "target failing mutual CHAP: nothing left" nothing_left

set_rec "$I:chap" node.session.auth.password alice-secret-12 node.session.auth.chap_algs SHA256,SHA1
try chap_without_md5 14 "$I:chap"
check "chap_without_md5: iscsi-uspace's reason reaches the user" \
	grep -q "the uspace transport (libiscsi) can only do CHAP with MD5, node.session.auth.chap_algs = SHA256,SHA1 does not allow it" "$R/err"
set_rec "$I:chap" node.session.auth.chap_algs SHA256,MD5
try chap_algs_with_md5 0 "$I:chap"
logout "$I:chap"

set_rec "$I:chap" node.conn[0].iscsi.DataDigest CRC32C
try data_digest_required 14 "$I:chap"
check "data_digest_required: says why" grep -q "cannot do data digests" "$R/err"
set_rec "$I:chap" node.conn[0].iscsi.DataDigest None node.conn[0].iscsi.HeaderDigest CRC32C
try header_digest_refused_by_target 19 "$I:chap"
check "nothing left" nothing_left
tgtd_adm --mode target --op update --tid 1 --name HeaderDigest --value CRC32C
try header_digest 0 "$I:chap"
run -m session -P 2
check "-P 2: HeaderDigest: CRC32C" grep -qx $'\t\tHeaderDigest: CRC32C' "$R/out"
logout "$I:chap"

# an iface of one's own on the uspace transport; a source address is
# beyond libiscsi
run -m iface -I usrc -o new -n iface.transport_name -v uspace -n iface.ipaddress -v 127.0.0.2
check "an iface with iface.transport_name = uspace" [ $? = 0 ]
IFACE=usrc ua_node "$I:chap"
IFACE=usrc set_rec "$I:chap" node.session.auth.username alice node.session.auth.password alice-secret-12
IFACE=usrc try source_address 14 "$I:chap"
check "source_address: says why" grep -q "cannot bind to a source address (iface.ipaddress = 127.0.0.2)" "$R/err"

check "no secret in iscsid's log" bash -c "! grep -q secret '$R/iscsid.log'"
check "nothing left" nothing_left
finish
