#!/bin/bash
# iSNS discovery (RFC 4171) against open-isns's isnsd, with tgtd
# registering its target there (and isnsadm the targets of a second
# tgtd): -m discovery -t isns, -m discoverydb -t
# isns (new, show, update, -D, delete), the records written, the same
# records SendTargets writes for the same targets, -o new/delete and
# nonpersistent, -P 1 and JSON, and discovery domains deciding what an
# initiator sees; a server that is gone fails with exit 25 and changes
# nothing.
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
. "$top_srcdir/tests/lib/isnsd.sh"
need_root
tgtd_require
isnsd_require
setup_root
isnsd_start "$R/isnsd" || fail "isnsd"
HPIDS="$HPIDS $ISNSD_PID"
IP=$ISNSD_PORT
T=iqn.2024-01.org.example.tgt
isns_reg() { # isnsadm --register, its chatter shown only when it fails
	isnsadm_local --register "$@" >"$R/isnsadm.out" 2>&1 || { cat "$R/isnsadm.out"; return 1; }
}
# tgtd B: disk2 and disk3, registered by open-isns's own client (isnsadm)
# as entity tgtB. tgtd handles one SCN connection only (a second one,
# which isnsd opens for each further target, hangs it in a blocking read
# or spins it on a closed descriptor) and names its entity after its
# address, so two tgtds on 127.0.0.1 replace each other: tgtd registers
# one target itself, isnsadm the others.
tgtd_start || fail "tgtd B"
PB=$TGTD_PORT
tgtd_target 1 $T:disk2 1
tgtd_target_nolun 2 $T:disk3
isns_reg entity=tgtB "portal=127.0.0.1:$PB/tcp" target=$T:disk2 target=$T:disk3 ||
	fail "isnsadm --register"
# tgtd A: disk1 with two LUNs, registered by tgtd itself
tgtd_start || fail "tgtd A"
TP=$TGTD_PORT
tgtd_target 1 $T:disk1 2
tgtd_isns || fail "tgtadm: iSNS settings"
isns_wait_nodes Target 3 || fail "tgtd did not register its target with isnsd"
# --- discovery: open-iscsi's lines, records under isns/
expect_rc 0 -m discovery -t isns -p 127.0.0.1:$IP
[ "$(wc -l < "$R/out")" = 3 ] || { cat "$R/out" "$R/err"; fail "expected 3 discovered portals"; }
printf '%s\n' "127.0.0.1:$TP,1 $T:disk1" "127.0.0.1:$PB,1 $T:disk2" "127.0.0.1:$PB,1 $T:disk3" | sort > "$R/want"
sort "$R/out" | diff -u "$R/want" - || fail "discovery lines"
[ -f "$R/isns/127.0.0.1,$IP/isns_config" ] || fail "no iSNS discovery record"
[ -L "$R/isns/127.0.0.1,$IP/$T:disk1,127.0.0.1,$TP,1,default" ] || fail "no link from the iSNS record to disk1"
[ -f "$R/nodes/$T:disk1/127.0.0.1,$TP,1/default" ] || fail "no node record for disk1"
expect_rc 0 -m node -T $T:disk1 -p 127.0.0.1:$TP -o show
expect_out "node.discovery_address = 127.0.0.1"
expect_out "node.discovery_port = $IP"
expect_out "node.discovery_type = isns"
expect_out "node.tpgt = 1"
expect_rc 0 -m discovery
expect_out "127.0.0.1:$IP via isns"
expect_rc 0 -m discovery -P 1
sed -n '/^iSNS:$/,/^STATIC:$/p' "$R/out" > "$R/isns.tree"
grep -qx "DiscoveryAddress: 127.0.0.1,$IP" "$R/isns.tree" || { cat "$R/out"; fail "-P 1: no iSNS DiscoveryAddress"; }
grep -qx "Target: $T:disk2" "$R/isns.tree" || { cat "$R/out"; fail "-P 1: disk2 not under iSNS"; }
grep -qx "	Portal: 127.0.0.1:$TP,1" "$R/isns.tree" || { cat "$R/out"; fail "-P 1: no portal under iSNS"; }

# --- the records SendTargets writes for the same targets, but for the
# discovery source
R2=$R/st
mkdir -p "$R2/sys/class"
cp "$R/initiatorname.iscsi" "$R2/"
for p in $TP $PB; do
	"$ADM" --root "$R2" --sysfs "$R2/sys" -m discovery -t st -p 127.0.0.1:$p >/dev/null 2>"$R/st.err" ||
		{ cat "$R/st.err"; fail "SendTargets discovery of the same tgtds ($p)"; }
done
(cd "$R/nodes" && find . -type f | sort) > "$R/isns.files"
(cd "$R2/nodes" && find . -type f | sort) > "$R/st.files"
diff -u "$R/st.files" "$R/isns.files" || fail "iSNS and SendTargets wrote different node records"
while read -r f; do
	diff -u <(grep -v '^node\.discovery_' "$R2/nodes/$f") <(grep -v '^node\.discovery_' "$R/nodes/$f") ||
		fail "record $f differs between SendTargets and iSNS beyond its discovery source"
done < "$R/isns.files"
grep -q '^node.discovery_type = send_targets' "$R2/nodes/$T:disk1/127.0.0.1,$TP,1/default" ||
	fail "SendTargets record without its discovery type"

# --- nonpersistent and JSON write nothing
R3=$R/np
mkdir -p "$R3/sys/class"
cp "$R/initiatorname.iscsi" "$R3/"
"$ADM" --root "$R3" --sysfs "$R3/sys" -m discovery -t isns -p 127.0.0.1:$IP -o nonpersistent --json \
	>"$R/out" 2>"$R/err" || { cat "$R/err"; fail "nonpersistent JSON discovery"; }
expect_json
grep -q "$T:disk3" "$R/out" || { cat "$R/out"; fail "JSON lacks disk3"; }
[ -e "$R3/nodes" ] || [ -e "$R3/isns" ] && fail "-o nonpersistent wrote records"
expect_rc 0 -m discovery -t isns -p 127.0.0.1:$IP -o nonpersistent -P 1
expect_out "Target: $T:disk1"
expect_out "		Iface Name: default"

# --- a target that went away: -o new keeps its record, the default
# deletes it; a new one is added
isnsadm_local --deregister "iscsi-name=$T:disk3" >/dev/null || fail "isnsadm --deregister"
isns_reg entity=tgtB "portal=127.0.0.1:$PB/tcp" target=$T:disk4 ||
	fail "isnsadm --register disk4"
isns_wait_nodes Target 3 || fail "isnsd did not drop disk3"
isns_nodes Target | grep -qx "$T:disk4" || fail "isnsd does not list disk4"
expect_rc 0 -m discovery -t isns -p 127.0.0.1:$IP -o new
expect_out "$T:disk4"
[ -f "$R/nodes/$T:disk3/127.0.0.1,$PB,1/default" ] || fail "-o new deleted a stale record"
expect_rc 0 -m node -T $T:disk1 -p 127.0.0.1:$TP -o update -n node.startup -v automatic
expect_rc 0 -m discovery -t isns -p 127.0.0.1:$IP
[ -e "$R/nodes/$T:disk3" ] && fail "stale record disk3 not deleted"
[ -f "$R/nodes/$T:disk4/127.0.0.1,$PB,1/default" ] || fail "disk4 not added"
expect_rc 0 -m node -T $T:disk1 -p 127.0.0.1:$TP -o show
expect_out "node.startup = automatic"

# --- discoverydb: the iSNS record itself
expect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$IP -o show
expect_out "discovery.type = isns"
expect_out "discovery.isns.address = 127.0.0.1"
expect_out "discovery.isns.port = $IP"
expect_out "discovery.isns.use_discoveryd = No"
expect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$IP -o update -n discovery.isns.use_discoveryd -v Yes
expect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$IP -o show
expect_out "discovery.isns.use_discoveryd = Yes"
expect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$IP -o delete
[ -e "$R/isns/127.0.0.1,$IP" ] && fail "discoverydb -o delete left the record"
[ -e "$R/nodes/$T:disk1" ] && fail "discoverydb -o delete left its node records"
expect_rc 6 -m discoverydb -t isns -p 127.0.0.1:$IP -o show
expect_err "Discovery record [127.0.0.1,$IP] not found."
expect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$IP -o new
expect_out "New discovery record for [127.0.0.1,$IP] added."
[ -e "$R/nodes" ] && [ -n "$(ls "$R/nodes")" ] && fail "-o new discovered"
expect_rc 0 -m discoverydb -t isns -p 127.0.0.1:$IP -D
[ "$(wc -l < "$R/out")" = 3 ] || { cat "$R/out" "$R/err"; fail "discoverydb -D: expected 3 portals"; }
[ -f "$R/nodes/$T:disk4/127.0.0.1,$PB,1/default" ] || fail "discoverydb -D wrote no records"
# the iSNS port is the default for -t isns
expect_rc 0 -m discoverydb -t isns -p 127.0.0.1 -o new
expect_out "New discovery record for [127.0.0.1,3205] added."
[ -f "$R/isns/127.0.0.1,3205/isns_config" ] || fail "no record for the default iSNS port"
expect_rc 0 -m discovery
expect_out "127.0.0.1:3205 via isns"
expect_rc 0 -m discoverydb -t isns -p 127.0.0.1 -o delete

# --- discovery domains: our initiator shares one with disk1 only; an
# initiator in no domain (here through an iface with its own name) sees
# the default domain, without disk1
isnsadm_local --dd-register dd-name=ddA "dd-member-name=$INAME" "dd-member-name=$T:disk1" >/dev/null ||
	fail "isnsadm --dd-register"
expect_rc 0 -m discovery -t isns -p 127.0.0.1:$IP
[ "$(cat "$R/out")" = "127.0.0.1:$TP,1 $T:disk1" ] || { cat "$R/out"; fail "domain ddA: expected disk1 alone"; }
[ -e "$R/nodes/$T:disk2" ] && fail "a target outside our domain kept its record"
expect_rc 0 -m iface -I other -o new
expect_rc 0 -m iface -I other -o update -n iface.initiatorname -v iqn.2024-01.org.example:other
expect_rc 0 -m discovery -t isns -p 127.0.0.1:$IP -I other -o nonpersistent
grep -q "$T:disk1" "$R/out" && { cat "$R/out"; fail "an initiator outside ddA saw disk1"; }
expect_out "127.0.0.1:$PB,1 $T:disk2"
expect_out "127.0.0.1:$PB,1 $T:disk4"
# the domain's target leaving it hides it from us too
isnsadm_local --dd-deregister 1 "dd-member-name=$T:disk1" >/dev/null || fail "isnsadm --dd-deregister"
expect_rc 21 -m discovery -t isns -p 127.0.0.1:$IP -o nonpersistent
expect_err "No portals found"

# --- the server gone: a clear error, exit 25 (open-iscsi's
# ISCSI_ERR_ISNS_QUERY), and the records discovered before are kept
kill "$ISNSD_PID"
wait "$ISNSD_PID" 2>/dev/null
(cd "$R/nodes" && find . -type f | sort) > "$R/before"
expect_rc 25 -m discovery -t isns -p 127.0.0.1:$IP
expect_err "cannot connect to the iSNS server 127.0.0.1:$IP"
expect_rc 25 -m discoverydb -t isns -p 127.0.0.1:$IP -D
expect_err "cannot connect to the iSNS server 127.0.0.1:$IP"
(cd "$R/nodes" && find . -type f | sort) | diff -u "$R/before" - || fail "a failed discovery changed the records"

# --- an isnsd without the default domain (its own default): a node in
# no domain sees nothing, registered or not; one named in a domain sees
# that domain's targets without registering first
ISNSD_DEFAULT_DD=0 isnsd_start "$R/isnsd0" || fail "isnsd without the default domain"
HPIDS="$HPIDS $ISNSD_PID"
IP=$ISNSD_PORT
isns_reg entity=tgtB "portal=127.0.0.1:$PB/tcp" target=$T:disk2 target=$T:disk4 ||
	fail "isnsadm --register (second isnsd)"
expect_rc 21 -m discovery -t isns -p 127.0.0.1:$IP -o nonpersistent
expect_err "No portals found"
isnsadm_local --dd-register dd-name=ddB "dd-member-name=$INAME" "dd-member-name=$T:disk4" >/dev/null ||
	fail "isnsadm --dd-register (second isnsd)"
expect_rc 0 -m discovery -t isns -p 127.0.0.1:$IP -o nonpersistent
[ "$(cat "$R/out")" = "127.0.0.1:$PB,1 $T:disk4" ] || { cat "$R/out"; fail "domain ddB: expected disk4 alone"; }
[ -z "$(isns_nodes Initiator)" ] || fail "discovery left an initiator registered"

# --- more targets than isnsd puts in one answer (it refuses a query of
# about 50 with "internal error"): discovery asks name by name
# (DevGetNext) and finds every target with its portal
isnsd_start "$R/isnsd3" || fail "isnsd (many targets)"
HPIDS="$HPIDS $ISNSD_PID"
IP=$ISNSD_PORT
: >"$R/want"
for e in 0 1 2; do
	args=("portal=127.0.0.1:$((3300 + e))/tcp")
	for i in $(seq $((e * 45 + 1)) $((e * 45 + 45))); do
		args+=("target=$T:many$i")
		echo "127.0.0.1:$((3300 + e)),1 $T:many$i" >>"$R/want"
	done
	isns_reg entity=many$e "${args[@]}" || fail "isnsadm --register (entity many$e)"
done
expect_rc 0 -m discovery -t isns -p 127.0.0.1:$IP -o nonpersistent
sort "$R/out" | diff -u <(sort "$R/want") - || fail "135 targets: not the list registered"
echo "PASS"
