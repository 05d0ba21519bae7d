#!/bin/bash
# libvirt's iSCSI storage pool (src/util/viriscsi.c and
# src/storage/storage_backend_iscsi.c) as the command sequence it runs,
# against tgtd on 127.0.0.1: the portal always as "address:port,1", long
# options (--mode, --portal, --targetname, and --target as an abbreviation
# of --targetname), the iface made for an initiator IQN (--op new, update
# of iface.initiatorname, found again in the "-m iface" list), source
# discovery (nonpersistent, then persistent with --interface), the pool
# start (session probe, --op new with status 0 required, CHAP updates,
# --login), also when the target's portal group tag is not 1. There is no
# iscsi_tcp on the host: logins reach iscsid and fail with 12; the session
# half (-m session parsing, -r SID -R, logout) runs in the VM
# (tests/vm/guest/scenario_clients.sh).
. "${top_srcdir:-.}/tests/integration/iscsiadm_lib.sh"
need_root
tgtd_require
setup_root

tgtd_start || fail "tgtd"
P=$TGTD_PORT
PORTAL=127.0.0.1:$P,1
T=iqn.2013-01.org.libvirt:pool
POOL_IQN=iqn.2013-01.org.libvirt:host-initiator
tgtd_target 1 $T-a 1 || fail "tgtadm"
tgtd_target 2 $T-b 1 || fail "tgtadm"
start_iscsid

# virStorageBackendIQNFound: "--mode iface"; the name is up to the first
# space, the initiator name after the fourth comma
iface_of_iqn() {
	run --mode iface || fail "--mode iface exited $?"
	awk -v want="$1" '{
		name = $1; rest = substr($0, index($0, " ") + 1)
		n = split(rest, f, ",")
		if (n == 5 && f[5] == want) { print name; exit }
	}' "$R/out"
}

# --- findPoolSources: nonpersistent discovery of the "addr:port,1" portal,
# two columns per line ("^\s*(\S+)\s+(\S+)\s*$")
expect_rc 0 --mode discovery --type sendtargets --portal $PORTAL --op nonpersistent
got=$(awk 'NF == 2 { print $2 }' "$R/out" | sort | tr '\n' ' ')
[ "$got" = "$T-a $T-b " ] || { cat "$R/out"; fail "source discovery gave: $got"; }
[ -e "$R/nodes" ] && fail "nonpersistent discovery wrote records"

# --- the iface for the pool's initiator IQN: none yet, so libvirt makes
# libvirt-iface-XXXXXXXX (exit status ignored, then checked in the list)
[ -z "$(iface_of_iqn $POOL_IQN)" ] || fail "an iface for $POOL_IQN before libvirt made one"
IF=libvirt-iface-0a1b2c3d
expect_rc 0 --mode iface --interface $IF --op new
expect_rc 0 --mode iface --interface $IF --op update --name iface.initiatorname --value $POOL_IQN
[ "$(iface_of_iqn $POOL_IQN)" = $IF ] || fail "the iface list does not give $IF for $POOL_IQN"
# made again (a second pool with that IQN finds it; a racing one makes it)
expect_rc 0 --mode iface --interface $IF --op new
[ "$(iface_of_iqn $POOL_IQN)" = $IF ] || fail "-o new of an existing iface lost its initiator name"
# virISCSIScanTargetsInternal(persist): discovery bound to that iface
expect_rc 0 --mode discovery --type sendtargets --portal $PORTAL --interface $IF
[ -f "$R/nodes/$T-a/127.0.0.1,$P,1/$IF" ] || fail "no record of $T-a bound to $IF"

# --- startPool: no session for the target yet (the probe's exit status
# is not checked; its regex finds nothing)
run --mode session
grep -Eq "^tcp:[[:space:]]+\[[^]]+\][[:space:]]+[^[:space:]]+[[:space:]]+$T-a" "$R/out" &&
	fail "a session for $T-a before login"
# virISCSINodeNew: --op new must exit 0; the discovered ",1" record is it
expect_rc 0 --mode node --portal $PORTAL --targetname $T-a --op new
[ -s "$R/err" ] && { cat "$R/err"; fail "--op new wrote to stderr"; }
# virStorageBackendISCSISetAuth: --target (abbreviated) --op update
for kv in node.session.auth.authmethod=CHAP node.session.auth.username=pooluser \
	node.session.auth.password=pool-secret-2468; do
	expect_rc 0 --mode node --portal $PORTAL --target $T-a --op update --name "${kv%%=*}" --value "${kv#*=}"
done
expect_rc 0 --mode node --portal $PORTAL --targetname $T-a --interface $IF --op show
expect_out "node.session.auth.username = pooluser"
expect_out "iface.initiatorname = $POOL_IQN"
# virISCSIConnectionLogin with the iface; here 12 (no kernel transport)
expect_rc 12 --mode node --portal $PORTAL --targetname $T-a --login --interface $IF
[ "$(grep -c '^Logging in to ' "$R/out")" = 1 ] || { cat "$R/out"; fail "more than one login"; }
expect_out "Logging in to [iface: $IF, target: $T-a, portal: 127.0.0.1,$P]"

# --- a target whose portal group tag is 2: libvirt still passes ",1".
# The record the target's discovery wrote (",2", made here by hand as
# tgtd always says 1) is the node: --op new keeps it, the updates reach
# it, one login (this pool has no initiator IQN: no iface)
expect_rc 0 --mode node --targetname $T-b --interface $IF --op delete
expect_rc 0 --mode node --portal 127.0.0.1:$P,2 --targetname $T-b --op new
expect_rc 0 --mode node --portal $PORTAL --targetname $T-b --op new
expect_out "127.0.0.1,$P,2 $T-b] already exists; left unchanged"
expect_rc 0 --mode node --targetname $T-b
[ "$(grep -c '^# BEGIN RECORD' "$R/out")" = 1 ] || fail "--op new with ,1 made a second record of $T-b"
expect_rc 0 --mode node --portal $PORTAL --target $T-b --op update --name node.session.auth.username --value pool2
expect_rc 0 --mode node --portal 127.0.0.1:$P,2 --targetname $T-b
expect_out "node.session.auth.username = pool2"
expect_rc 12 --mode node --portal $PORTAL --targetname $T-b --login
[ "$(grep -c '^Logging in to ' "$R/out")" = 1 ] || { cat "$R/out"; fail "more than one login for $T-b"; }

# --- stopPool: logout (no session here: 21)
expect_rc 21 --mode node --portal $PORTAL --targetname $T-a --logout --interface $IF
echo "PASS: libvirt command sequence"
