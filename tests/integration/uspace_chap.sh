#!/usr/bin/env bash
# CHAP through the userspace transport (libiscsi): one-way and mutual CHAP
# log in; a wrong secret or a target that fails mutual authentication
# exits 24 and leaves nothing behind; what libiscsi 1.19 cannot do is
# refused before anything reaches the target (chap_algs without MD5, a
# required data digest: 14); secrets never show in the command line, the
# environment or the run directory.
set -u
. "${top_srcdir:-.}/tests/integration/uspace_lib.sh"
usp_require
tgtd_start || exit 1
I=iqn.2024-01.org.example
tgtd_target 1 "$I:chap"
tgtd_target 2 "$I:mutual"
tgtd_chap 1 alice alice-secret-12
tgtd_chap 2 bob bob-secret-345
tgtd_chap_mutual 2 disk3 target-secret-678

nothing_left() { [ -z "$(usp_leftovers)" ]; }
try() { # NAME SID WANT-EXIT TARGET [record lines]
	local name=$1 sid=$2 want=$3 t=$4
	shift 4
	printf '%s\n' "$@" | usp_record "$t" >"$USP_WORK/rec.$name"
	usp_start "$sid" "$USP_WORK/rec.$name"
	if [ "$USP_RC" = "$want" ]; then
		pass "$name (exit $USP_RC)"
	else
		fail "$name: exit $USP_RC, expected $want"
		sed 's/^/    /' "$USP_WORK/start.$sid"
	fi
}

try chap 1 0 "$I:chap" "node.session.auth.authmethod = CHAP" \
	"node.session.auth.username = alice" "node.session.auth.password = alice-secret-12"
check "CHAP session is LOGGED_IN" [ "$(usp_field 1 state)" = LOGGED_IN ]
pid=$(cat "$USP_RUNDIR/1/pid" 2>/dev/null)
check "no secret in the command line" bash -c "! grep -q secret /proc/$pid/cmdline"
check "no secret in the environment" bash -c "! tr '\0' '\n' </proc/$pid/environ | grep -q secret"
check "no secret in the run directory" bash -c "! grep -rq secret '$USP_RUNDIR'"
check "no secret in the status" bash -c "! '$USP' status --sid 1 | grep -q secret"
check "the process is not dumpable (secrets)" [ "$(stat -c %u /proc/$pid/status)" = 0 ]
data=$(usp_loop 1 1)
check "I/O on the CHAP session" dd if=/dev/zero of="$data" bs=64k count=16 oflag=direct status=none
usp_logout 1

try mutual 2 0 "$I:mutual" "node.session.auth.authmethod = CHAP" \
	"node.session.auth.username = bob" "node.session.auth.password = bob-secret-345" \
	"node.session.auth.username_in = disk3" "node.session.auth.password_in = target-secret-678"
check "mutual CHAP session is LOGGED_IN" [ "$(usp_field 2 state)" = LOGGED_IN ]
usp_logout 2

try wrong_password 3 24 "$I:chap" "node.session.auth.authmethod = CHAP" \
	"node.session.auth.username = alice" "node.session.auth.password = not-the-password"
check "wrong password: nothing left" nothing_left
try no_credentials 4 24 "$I:chap"
check "no credentials: nothing left" nothing_left
try mutual_wrong_target_secret 5 24 "$I:mutual" "node.session.auth.authmethod = CHAP" \
	"node.session.auth.username = bob" "node.session.auth.password = bob-secret-345" \
	"node.session.auth.username_in = disk3" "node.session.auth.password_in = wrong-secret-000"
check "target failing mutual CHAP: nothing left" nothing_left
try sha_only 6 14 "$I:chap" "node.session.auth.username = alice" \
	"node.session.auth.password = alice-secret-12" "node.session.auth.chap_algs = SHA256,SHA1"
check "sha_only: says why" grep -q "MD5" "$USP_WORK/start.6"
try sha_md5_list 7 0 "$I:chap" "node.session.auth.username = alice" \
	"node.session.auth.password = alice-secret-12" "node.session.auth.chap_algs = SHA256,MD5"
usp_logout 7
try data_digest_required 8 14 "$I:chap" "node.conn[0].iscsi.DataDigest = CRC32C"
check "data_digest_required: says why" grep -q "data digest" "$USP_WORK/start.8"
try source_address 9 14 "$I:chap" "iface.ipaddress = 127.0.0.2"
# tgtd does no digests unless told; libiscsi would take its "None"
try header_digest_refused 10 19 "$I:chap" "node.conn[0].iscsi.HeaderDigest = CRC32C" \
	"node.session.auth.username = alice" "node.session.auth.password = alice-secret-12"
try header_digest_optional 12 0 "$I:chap" "node.conn[0].iscsi.HeaderDigest = CRC32C,None" \
	"node.session.auth.username = alice" "node.session.auth.password = alice-secret-12"
usp_logout 12
tgtd_adm --mode target --op update --tid 1 --name HeaderDigest --value CRC32C
try header_digest 10 0 "$I:chap" "node.conn[0].iscsi.HeaderDigest = CRC32C" \
	"node.session.auth.username = alice" "node.session.auth.password = alice-secret-12"
check "HeaderDigest=CRC32C negotiated" grep -qx "param HeaderDigest=CRC32C" <(usp_status 10)
check "I/O with header digests" dd if=/dev/zero of="$(usp_loop 10 1)" bs=64k count=16 oflag=direct status=none
usp_logout 10
try mutual_without_oneway 11 7 "$I:mutual" "node.session.auth.username_in = disk3" \
	"node.session.auth.password_in = target-secret-678"
check "refusals and failures leave nothing behind" nothing_left
check "no secret in any message" bash -c "! grep -l -e alice-secret -e bob-secret -e target-secret -e not-the-password '$USP_WORK'/start.*"
finish
