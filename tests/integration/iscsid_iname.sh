#!/bin/bash
# A fresh install has no initiatorname.iscsi: iscsid creates one with a
# unique name on its first start (one log line saying so), mode 0644, and
# iscsi-iname -c does the same for the systemd unit. Nothing that already
# has the name is ever changed: a valid file stays byte for byte, a
# garbage or unreadable file or a directory is a clear start-up error.
. "${top_srcdir:-.}/tests/integration/lib_iscsid.sh"
INAME_TOOL=${INAME_TOOL:-./iscsiadm/iscsi-iname}
NAME_RE='^iqn\.[0-9]{4}-[0-9]{2}\.[a-z0-9.-]+:[0-9a-f]{12}$'
setup_root
F=$R/initiatorname.iscsi

# name_of FILE: the InitiatorName of a file holding exactly that one line.
name_of() {
	[ "$(wc -l <"$1")" = 1 ] || fail "$1 has more than one line: $(cat "$1")"
	sed -n 's/^InitiatorName=//p' "$1"
}

# iscsid_fails WHAT: iscsid must refuse to start (status 1) under $R.
iscsid_fails() {
	timeout 10 "$ISCSID" -f --root "$R" --sysfs-root "$R/sys" --modprobe "" 2>"$R/err.log"
	local st=$?
	[ "$st" = 1 ] || fail "$1: iscsid exited $st, expected 1: $(cat "$R/err.log")"
}

# 1. Missing: created on the first start, used at once.
rm "$F"
start_daemon
[ -f "$F" ] || fail "iscsid did not create $F"
name1=$(name_of "$F")
[[ $name1 =~ $NAME_RE ]] || fail "created name '$name1' is not a valid generated IQN"
[ "$(stat -c %a "$F")" = 644 ] || fail "$F has mode $(stat -c %a "$F"), expected 644"
expect_log "no initiator name was set: created $F with the unique name $name1" "creation logged"
[ "$(grep -c 'created .*initiatorname' "$R/log")" = 1 ] || fail "creation not logged in exactly one line"
probe "$S" hello
expect_out "initiator_name=$name1" "HELLO uses the created name"
ls -a "$R" | grep -q '^\.initiatorname' && fail "temporary file left in $R: $(ls -a "$R")"
stop_daemon || fail "iscsid did not stop cleanly"

# 2. Restart: the same file, untouched, and no second creation line.
cp -p "$F" "$R/saved"
start_daemon
cmp -s "$F" "$R/saved" || fail "the created file changed on restart"
[ "$(grep -c 'created .*initiatorname' "$R/log")" = 1 ] || fail "name created again on restart"
stop_daemon

# 3. Another root (another host): another name.
R1=$R
R=$R1/second S=$R1/second/iscsid.sock
mkdir -p "$R/sys/class"
start_daemon
name2=$(name_of "$R/initiatorname.iscsi")
[[ $name2 =~ $NAME_RE ]] || fail "second root: '$name2' is not a valid generated IQN"
[ "$name2" != "$name1" ] || fail "two roots got the same initiator name $name1"
stop_daemon
R=$R1 S=$R1/iscsid.sock

# 4. An existing file (comment, alias, odd spacing) is used and left
# exactly as it is.
printf '# set by the admin\nInitiatorName=%s\nInitiatorAlias=lab  box \n' "$IT_NAME" >"$F"
chmod 600 "$F"
cp -p "$F" "$R/saved"
start_daemon
probe "$S" hello
expect_out "initiator_name=$IT_NAME" "existing name used"
cmp -s "$F" "$R/saved" || fail "an existing initiator name file was rewritten"
[ "$(stat -c %a "$F")" = 600 ] || fail "the mode of an existing file was changed"
[ "$(grep -c 'created .*initiatorname' "$R/log")" = 1 ] || fail "a name was created although the file existed"
stop_daemon

# 5. Garbage: a clear error naming the file, not overwritten.
printf 'this is not an initiator name\n' >"$F"
cp -p "$F" "$R/saved"
iscsid_fails "garbage file"
grep -q "$F" "$R/err.log" || fail "garbage: the error does not name $F: $(cat "$R/err.log")"
grep -q 'InitiatorName' "$R/err.log" || fail "garbage: the error does not say what is missing: $(cat "$R/err.log")"
cmp -s "$F" "$R/saved" || fail "a garbage initiator name file was overwritten"

# 6. A directory in the way: error, left as it is.
rm "$F"; mkdir "$F"
iscsid_fails "directory at the name file's path"
grep -q "$F" "$R/err.log" || fail "directory: the error does not name $F: $(cat "$R/err.log")"
[ -d "$F" ] && [ -z "$(ls -A "$F")" ] || fail "the directory at $F was changed"
rmdir "$F"

# 7. Unreadable (needs another user than root to mean anything).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	printf 'InitiatorName=%s\n' "$IT_NAME" >"$F"
	chmod 000 "$F"
	cp -p "$F" "$R/saved"
	chown -R nobody "$R/sys" && chown nobody "$R"
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
		timeout 10 "$ISCSID" -f --root "$R" --sysfs-root "$R/sys" --modprobe "" 2>"$R/err.log"
	st=$?
	chown root "$R"
	[ "$st" = 1 ] || fail "unreadable file: iscsid exited $st, expected 1: $(cat "$R/err.log")"
	grep -q "$F.*Permission denied" "$R/err.log" ||
		fail "unreadable file: unclear error: $(cat "$R/err.log")"
	cmp -s "$F" "$R/saved" && [ "$(stat -c %a "$F")" = 0 ] || fail "an unreadable name file was changed"
	rm -f "$F"
fi

# 8. iscsi-iname -c, as the systemd unit runs it: creates (message on
# stdout), then exits 0 silently leaving the file alone.
[ -x "$INAME_TOOL" ] || fail "$INAME_TOOL not built"
out=$(ISCSI_ROOT=$R/third "$INAME_TOOL" -c) || fail "iscsi-iname -c failed: $out"
G=$R/third/initiatorname.iscsi
name3=$(name_of "$G")
[[ $name3 =~ $NAME_RE ]] || fail "iscsi-iname -c wrote '$name3'"
[ "$out" = "iscsi-iname: created $G with the unique name $name3" ] || fail "iscsi-iname -c said: $out"
[ "$(stat -c %a "$G")" = 644 ] || fail "iscsi-iname -c: mode $(stat -c %a "$G")"
cp -p "$G" "$R/saved"
out=$(ISCSI_ROOT=$R/third "$INAME_TOOL" -c 2>&1) || fail "iscsi-iname -c on an existing file failed: $out"
[ -z "$out" ] || fail "iscsi-iname -c on an existing file printed: $out"
cmp -s "$G" "$R/saved" || fail "iscsi-iname -c changed an existing file"
out=$("$INAME_TOOL" -c -p iqn.2005-03.com.example "$R/fourth/name" 2>&1) || fail "iscsi-iname -c FILE: $out"
grep -Eq '^InitiatorName=iqn\.2005-03\.com\.example:[0-9a-f]{12}$' "$R/fourth/name" ||
	fail "iscsi-iname -c -p: $(cat "$R/fourth/name")"
if "$INAME_TOOL" -c -p 'bad prefix' "$R/fifth" 2>"$R/err.log"; then
	fail "iscsi-iname -c with a bad prefix succeeded"
fi
[ -e "$R/fifth" ] && fail "iscsi-iname -c with a bad prefix wrote a file"
grep -q 'prefix does not make a valid iSCSI name' "$R/err.log" || fail "bad prefix: $(cat "$R/err.log")"
echo "PASS: initiator name created on first start, never overwritten"
