#!/bin/bash
# Build (once) the root file system of the full Debian test VM: Debian 12
# "minbase" with systemd as PID 1, udev, kmod, util-linux, e2fsprogs,
# iproute2, multipath-tools and the shared libraries this project links
# (libmnl0, libssl3), from Debian's packages with mmdebstrap.
#
# Usage: build-rootfs.sh [--extra "pkg ..."] [--print]
#   --extra  more packages (e.g. open-iscsi for the comparison image)
# Prints the directory of the cached tree. The cache is keyed by the
# package list, suite and mirror: $VM_CACHE/debian/rootfs-<key>/ (about
# 190 MB; ~80 s to build on a fresh machine, then reused), complete when
# rootfs-<key>.ready (the package list) exists. $VM_DEBIAN_MIRROR overrides the mirror
# (default http://deb.debian.org/debian; security updates from
# http://deb.debian.org/debian-security unless $VM_DEBIAN_SECURITY is set).
set -eu
. "$(dirname "$0")/../common.sh"

# What a real server has for the storage stack, nothing more. The rest
# (apt, dpkg, coreutils, ...) comes with the minbase variant.
BASE_PACKAGES="systemd systemd-sysv udev kmod util-linux e2fsprogs iproute2
    multipath-tools libmnl0 libssl3"
# Root on iSCSI: Debian's initramfs builder, and the busybox it puts into
# every initramfs when installed (mmdebstrap skips Recommends).
BASE_PACKAGES="$BASE_PACKAGES initramfs-tools busybox"
SUITE=bookworm
mirror=${VM_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security=${VM_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
extra=
while [ $# -gt 0 ]; do
    case $1 in
        --extra) extra="$extra $2"; shift 2 ;;
        --print) shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

packages=$(printf '%s\n' $BASE_PACKAGES $extra | LC_ALL=C sort -u | tr '\n' ' ')
packages=${packages% }
key=$(printf '%s\n' "$SUITE" "$mirror" "$security" "$packages" | sha256sum | cut -c1-16)
dir=$VM_CACHE/debian/rootfs-$key
if [ -f "$dir.ready" ]; then
    echo "$dir"
    exit 0
fi

[ "$(id -u)" = 0 ] || die "building the Debian root file system needs root (mmdebstrap --mode=root)"
ensure_pkg mmdebstrap mmdebstrap
mkdir -p "$VM_CACHE/debian"
# One build at a time per cache (parallel runners wait for each other).
exec 9>"$VM_CACHE/debian/.lock"
flock 9
if [ -f "$dir.ready" ]; then echo "$dir"; exit 0; fi

# Trees of other package lists are kept (the comparison image has its
# own); a tree without its .ready marker is an interrupted build.
rm -rf "$dir" "$dir.tmp"
vm_log "building the Debian $SUITE root file system ($packages) with mmdebstrap"
start=$(date +%s)
# Documentation, manual pages and translations are of no use in the VM.
if ! mmdebstrap --mode=root --variant=minbase --format=directory \
        --include="$(echo "$packages" | tr ' ' ',')" \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        "$SUITE" "$dir.tmp" \
        "deb $mirror $SUITE main" "deb $mirror $SUITE-updates main" \
        "deb $security $SUITE-security main" >"$VM_CACHE/debian/mmdebstrap.log" 2>&1; then
    tail -n 20 "$VM_CACHE/debian/mmdebstrap.log" >&2
    rm -rf "$dir.tmp"
    die "mmdebstrap failed (log: $VM_CACHE/debian/mmdebstrap.log)"
fi
mv "$dir.tmp" "$dir"
printf '%s\n' "$packages" >"$dir.ready"
vm_log "built $dir ($(du -sh "$dir" | cut -f1)) in $(( $(date +%s) - start )) s"
echo "$dir"
