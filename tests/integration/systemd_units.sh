#!/bin/bash
# The systemd units as `make install` installs them, checked offline with
# systemd's own loader (systemd-analyze verify --root: no systemd as
# PID 1 needed), and the shutdown order they promise, computed by
# systemd's transaction code rather than read from the files:
#
#   a _netdev mount on an iSCSI disk is unmounted before the logout,
#   the logout happens before the network goes down,
#   the logout unit is stopped at shutdown at all (it conflicts with
#   shutdown.target), iscsid.service is not (recovery for sessions kept
#   to the end, e.g. the root file system),
#   iscsid.service can be started during shutdown (stopped by hand, the
#   logout activates it through the socket): its start pulls in nothing
#   that conflicts with shutdown.target, and it is not ordered against
#   the logout or the network (a stop job runs before a start job of
#   units ordered either way: they would wait for each other),
#   the logout covers every session, not only node.startup = automatic.
#
# "X is ordered after Y" is tested by adding a probe unit ordered after X
# and before Y: systemd-analyze verify then reports an ordering cycle
# exactly when X already comes after Y through the units' dependencies.
set -u
fail() { echo "FAIL: $*"; [ -s "${T:-/nonexistent}/verify.out" ] && sed 's/^/    /' "$T/verify.out"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

command -v systemd-analyze >/dev/null || skip "systemd-analyze not installed (apt-get install systemd)"
HOST_UNITS=/usr/lib/systemd/system
[ -f "$HOST_UNITS/remote-fs-pre.target" ] || HOST_UNITS=/lib/systemd/system
[ -f "$HOST_UNITS/remote-fs-pre.target" ] || skip "systemd's own units are not installed"

T=$(mktemp -d /tmp/systemd-units.XXXXXX) || fail "mktemp"
trap 'rm -rf "$T"' EXIT
env -u MAKEFLAGS -u MFLAGS make -s install DESTDIR="$T/root" >"$T/install.out" 2>&1 ||
	fail "make install DESTDIR=$T/root failed: $(tail -n 5 "$T/install.out")"
sock=$(find "$T/root" -name iscsid.socket -path '*/systemd/system/*')
[ -n "$sock" ] || fail "make install put no iscsid.socket under a systemd/system directory"
U=${sock%/iscsid.socket}
for u in iscsid.service iscsid.socket iscsi-login.service iscsi-logout.service iscsi-initiatorname.service; do
	[ -f "$U/$u" ] || fail "make install did not install $u (in ${U#"$T/root"})"
done

# The root for verify: the installed tree plus what the units refer to on
# every system (systemd's own units, /bin/kill, /bin/true).
R=$T/root
mkdir -p "$R/usr/lib/systemd" "$R/usr/bin" "$R/etc/systemd/system"
mkdir -p "$R/usr/lib/systemd/system"
cp -an "$HOST_UNITS/." "$R/usr/lib/systemd/system/" || fail "cannot copy systemd's units"
for b in kill true; do
	cp "$(type -P $b)" "$R/usr/bin/$b" || fail "no $b program"
done
[ -e "$R/bin" ] || ln -s usr/bin "$R/bin"
# With a --prefix outside systemd's search path (make distcheck), or the
# host's own iscsid.service in the way, systemd would not load ours by
# name: put them where the administrator's units go, which wins.
cp "$U"/* "$R/etc/systemd/system/" || fail "cannot copy the installed units"
U=$R/etc/systemd/system

verify() { # UNIT-PATH...: 0 if systemd-analyze verify is silent and happy
	systemd-analyze verify --man=no --generators=no --root="$R" "$@" >"$T/verify.out" 2>&1 &&
		[ ! -s "$T/verify.out" ]
}

# 1. The units load cleanly: no unknown keys, no missing executables, no
# ordering cycles, a start transaction for each.
verify "$U"/iscsid.service "$U"/iscsid.socket "$U"/iscsi-login.service "$U"/iscsi-logout.service \
	"$U"/iscsi-initiatorname.service || fail "systemd-analyze verify of the installed units"

# A _netdev mount of an iSCSI disk, as systemd-fstab-generator writes it
# for "UUID=... /mnt/t1 ext4 _netdev 0 2" (systemd adds the network
# ordering implied by _netdev itself), and a network service ordered the
# way every network service is (ifupdown, systemd-networkd, NetworkManager).
E=$R/etc/systemd/system
cat >"$E/mnt-t1.mount" <<'EOF'
[Unit]
Before=remote-fs.target
[Mount]
What=/dev/disk/by-uuid/0b7d4c0e-5d0e-4a36-9a57-5a4e3f9e2c11
Where=/mnt/t1
Type=ext4
Options=_netdev
EOF
cat >"$E/test-network.service" <<'EOF'
[Unit]
Wants=network.target
Before=network.target network-online.target
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/true
EOF

# ordered_after X Y: does X start after (and so stop before) Y?
ordered_after() {
	cat >"$E/test-probe.service" <<EOF
[Unit]
Wants=$1 $2
After=$1
Before=$2
[Service]
Type=oneshot
ExecStart=/bin/true
EOF
	systemd-analyze verify --man=no --generators=no --root="$R" "$E/test-probe.service" >"$T/verify.out" 2>&1
	grep -q 'ordering cycle' "$T/verify.out"
}

# 2. Shutdown: unmount, then log out, then the network.
ordered_after mnt-t1.mount iscsi-logout.service ||
	fail "a _netdev mount is not unmounted before iscsi-logout.service logs out"
ordered_after iscsi-logout.service test-network.service ||
	fail "iscsi-logout.service does not log out before the network goes down"
ordered_after iscsi-logout.service iscsid.service &&
	fail "iscsi-logout.service is ordered after iscsid.service: a logout that has to start iscsid would wait for itself"
ordered_after iscsid.service iscsi-logout.service &&
	fail "iscsid.service is ordered after iscsi-logout.service: a logout that has to start iscsid would wait for itself"
ordered_after iscsid.service test-network.service &&
	fail "iscsid.service is ordered after the network: started by the logout at shutdown, it would wait for the network to stop"
# Boot: logins before _netdev mounts, after the network.
ordered_after mnt-t1.mount iscsi-login.service ||
	fail "_netdev mounts are not ordered after iscsi-login.service"
ordered_after iscsi-login.service test-network.service ||
	fail "iscsi-login.service does not wait for the network"
# The probe itself must not be the cause: no cycle without the units' own
# ordering.
ordered_after test-network.service mnt-t1.mount && fail "the probe finds cycles where there are none"

# conflicts X: does starting shutdown.target stop X?
conflicts() {
	cat >"$E/test-probe.service" <<EOF
[Unit]
DefaultDependencies=no
Requires=shutdown.target $1
[Service]
Type=oneshot
ExecStart=/bin/true
EOF
	systemd-analyze verify --man=no --generators=no --root="$R" "$E/test-probe.service" >"$T/verify.out" 2>&1
	grep -qi 'conflict' "$T/verify.out"
}
# 3. Stopped at shutdown at all (with DefaultDependencies=no nothing else
# would stop it, and its ExecStop would never run).
conflicts iscsi-logout.service || fail "iscsi-logout.service is not stopped at shutdown"
conflicts iscsi-login.service || fail "iscsi-login.service is not stopped at shutdown"
conflicts iscsid.service && fail "iscsid.service is stopped at shutdown (sessions kept to the end need it)"
# What a start of iscsid.service pulls in (systemd's debug log names each
# job it installs): nothing but its slices, or starting it during
# shutdown is refused as "destructive".
SYSTEMD_LOG_LEVEL=debug systemd-analyze verify --man=no --generators=no --root="$R" "$U/iscsid.service" \
	>"$T/verify.out" 2>&1
grep -q 'Installed new job iscsid.service/start' "$T/verify.out" ||
	fail "no start job for iscsid.service in systemd's debug output (format changed?)"
pulled=$(sed -n 's/.*Installed new job \([^ ]*\)\/start.*/\1/p' "$T/verify.out" | grep -v -e '^iscsid.service$' -e '\.slice$' | sort -u)
[ -z "$pulled" ] || { : >"$T/verify.out"; fail "starting iscsid.service also starts: $(echo $pulled) (refused during shutdown)"; }

# 4. What the units run and pull in. (Parsed from the installed files.)
val() { # UNIT KEY: every value of KEY, space separated
	sed -n "s/^$2=//p" "$U/$1" | tr '\n' ' '
}
case " $(val iscsi-logout.service ExecStop) " in
*"iscsiadm -m node --logoutall=all "*) ;;
*) fail "iscsi-logout.service does not log out every session: ExecStop=$(val iscsi-logout.service ExecStop)" ;;
esac
case " $(val iscsi-logout.service SuccessExitStatus) " in *" 21 "*) ;;
*) fail "iscsi-logout.service fails when there is no session (exit 21)" ;; esac
# a target down at boot: iscsiadm exits 29 after iscsid.automatic_login_wait,
# iscsid goes on in the background; the unit must not count as failed
case " $(val iscsi-login.service SuccessExitStatus) " in *" 29 "*) ;;
*) fail "iscsi-login.service fails when a target is down at boot (exit 29)" ;; esac
for u in iscsid.socket iscsi-login.service; do
	case " $(val $u Wants) $(val $u Requires) " in *" iscsi-logout.service "*) ;;
	*) fail "$u does not pull in iscsi-logout.service: sessions would not be logged out" ;; esac
done
case " $(val iscsid.socket Also) " in *" iscsi-login.service "*) ;;
*) fail "enabling iscsid.socket does not enable the boot-time login" ;; esac
case " $(val iscsid.socket Wants) " in *" iscsi-initiatorname.service "*) ;;
*) fail "iscsid.socket does not create the initiator name on a fresh install" ;; esac
[ "$(val iscsid.service LimitCORE)" = "0 " ] || fail "iscsid.service allows core dumps (CHAP secrets): LimitCORE=$(val iscsid.service LimitCORE)"
case "$(val iscsi-initiatorname.service ExecStart)" in
*"iscsi-iname -c "*) ;;
*) fail "iscsi-initiatorname.service does not run iscsi-iname -c" ;;
esac

# 5. Sessions of the userspace transport are iscsi-uspace processes in
# iscsid.service's cgroup. Stopping iscsid, or its crash and restart
# (Restart=on-failure), must leave them running for the next iscsid to
# adopt: only KillMode=process spares the rest of the cgroup ("mixed"
# and "control-group" kill it once the main process is gone). The value
# systemd takes is the last one of the unit and its drop-ins, as
# systemd-analyze shows them.
km=$(systemd-analyze cat-config --root="$R" systemd/system/iscsid.service 2>"$T/verify.out" |
	sed -n 's/^[[:space:]]*KillMode[[:space:]]*=[[:space:]]*//p' | tail -n 1)
[ "$km" = process ] ||
	fail "iscsid.service has KillMode=${km:-control-group (the default)}: stopping or restarting iscsid would kill every uspace session's process"

echo "PASS: units verified; shutdown order: unmount, logout, network; iscsid's stop spares uspace sessions"
