# Host-side helpers shared by the tests/vm scripts (sourced, bash).
# Not for use inside the VM: see lio.sh for the guest library.

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_CACHE=${VM_CACHE:-$VM_DIR/.cache}

vm_log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# apt-get with a lock timeout: CI machines may still be running another apt.
vm_apt() {
    DEBIAN_FRONTEND=noninteractive apt-get -q -y \
        -o DPkg::Lock::Timeout=600 "$@"
}

# Package lists may be empty on a fresh machine; apt-cache then finds nothing.
vm_apt_lists_ready() {
    local f
    for f in /var/lib/apt/lists/*_Packages*; do [ -e "$f" ] && return 0; done
    return 1
}

vm_apt_update_once() {
    if [ -z "${VM_APT_UPDATED:-}" ]; then
        vm_log "running apt-get update"
        vm_apt update >&2 || die "apt-get update failed"
        VM_APT_UPDATED=1
    fi
}

# ensure_pkg PACKAGE [COMMAND]: install PACKAGE unless it (or COMMAND) is there.
# CI starts from a fresh machine, so every script installs what it uses.
ensure_pkg() {
    local pkg=$1 cmd=${2:-}
    if [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1; then
        return 0
    fi
    if dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed'; then
        [ -z "$cmd" ] || command -v "$cmd" >/dev/null 2>&1 || \
            die "$cmd not found although package $pkg is installed"
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "${cmd:-$pkg} not found: apt-get install $pkg (needs root)"
    vm_log "installing missing host package $pkg"
    vm_apt_lists_ready || vm_apt_update_once
    if ! vm_apt install --no-install-recommends "$pkg" >&2; then
        vm_apt_update_once
        vm_apt install --no-install-recommends "$pkg" >&2 || \
            die "${cmd:-$pkg} not found and 'apt-get install $pkg' failed"
    fi
    [ -z "$cmd" ] || command -v "$cmd" >/dev/null 2>&1 || \
        die "$cmd still not found after installing $pkg"
}
