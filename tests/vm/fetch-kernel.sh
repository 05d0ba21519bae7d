#!/bin/bash
# Fetch and unpack Debian's cloud kernel for the test VM.
#
# Usage: fetch-kernel.sh [--meta PKG] [--print]
#   --meta PKG  meta package to resolve (default linux-image-cloud-amd64,
#               or $VM_KERNEL_META); $VM_KERNEL_PKG skips the resolution.
# Cache: $VM_CACHE (default tests/vm/.cache). Writes $VM_CACHE/kernel.env
# (sourceable KEY=VALUE lines) and prints it on stdout.
#
# The versioned image package behind the meta package changes with every
# Debian point release, so it is resolved at run time, not hard-coded.
set -eu
. "$(dirname "$0")/common.sh"

meta=${VM_KERNEL_META:-linux-image-cloud-amd64}
while [ $# -gt 0 ]; do
    case $1 in
        --meta) meta=$2; shift 2 ;;
        --print) shift ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) die "unknown argument: $1" ;;
    esac
done

ensure_pkg apt apt-get
ensure_pkg dpkg dpkg-deb
ensure_pkg kmod depmod
ensure_pkg xz-utils xz

mkdir -p "$VM_CACHE/debs" "$VM_CACHE/kernel"
envfile=$VM_CACHE/kernel.env

resolve() {
    local pkg ver
    pkg=${VM_KERNEL_PKG:-}
    if [ -z "$pkg" ]; then
        pkg=$(apt-cache depends "$meta" 2>/dev/null |
              awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
    fi
    [ -n "$pkg" ] || return 1
    ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null |
          awk '$1 == "Version:" { print $2; exit }')
    [ -n "$ver" ] || return 1
    printf '%s %s\n' "$pkg" "$ver"
}

if ! vm_apt_lists_ready || ! r=$(resolve); then
    # Offline with a filled cache is fine: keep using what was fetched.
    if [ -f "$envfile" ] && ! vm_apt_lists_ready; then
        vm_log "apt lists missing; reusing cached kernel"
        cat "$envfile"; exit 0
    fi
    vm_apt_update_once
    r=$(resolve) || die "cannot resolve the kernel package behind $meta (apt-cache depends $meta)"
fi
pkg=${r% *}; ver=${r#* }
dest=$VM_CACHE/kernel/${pkg}_$ver

if [ ! -f "$dest/.ready" ]; then
    deb=$(ls "$VM_CACHE/debs/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
    if [ -z "$deb" ]; then
        vm_log "downloading $pkg $ver"
        # The _apt sandbox user cannot write into root's cache dir.
        (cd "$VM_CACHE/debs" &&
         apt-get -q -o APT::Sandbox::User=root download "$pkg=$ver" >&2) ||
            die "apt-get download $pkg=$ver failed"
        deb=$(ls "$VM_CACHE/debs/${pkg}_"*.deb | head -n1)
    fi
    rm -rf "$dest"
    dpkg-deb -x "$deb" "$dest.tmp" || die "dpkg -x $deb failed"
    mv "$dest.tmp" "$dest"
    kdir=$(ls -d "$dest"/lib/modules/* "$dest"/usr/lib/modules/* 2>/dev/null | head -n1)
    [ -n "$kdir" ] || die "no modules directory in $deb"
    # The package ships no modules.dep (its postinst runs depmod), so make it.
    depmod -b "${kdir%/lib/modules/*}" -a "${kdir##*/}" ||
        die "depmod failed for $kdir"
    [ -s "$kdir/modules.dep" ] || die "depmod wrote no $kdir/modules.dep"
    touch "$dest/.ready"
fi

kdir=$(ls -d "$dest"/lib/modules/* "$dest"/usr/lib/modules/* 2>/dev/null | head -n1)
kver=${kdir##*/}
image=$dest/boot/vmlinuz-$kver
[ -f "$image" ] || die "kernel image $image missing"

cat >"$envfile.tmp" <<EOF
KERNEL_PKG=$pkg
KERNEL_PKG_VERSION=$ver
KERNEL_VERSION=$kver
KERNEL_IMAGE=$image
MODULES_DIR=$kdir
EOF
mv "$envfile.tmp" "$envfile"
cat "$envfile"
