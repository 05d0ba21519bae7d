#!/bin/bash
# Build a busybox initramfs that loads the iSCSI initiator + LIO target
# modules, runs a test script as /test.sh and powers the VM off.
#
# Usage: build-initramfs.sh --script FILE [-o OUT.cpio.gz]
#            [--add HOST_PATH[:GUEST_PATH]]...   file or directory
#            [--add-bin BINARY[:GUEST_PATH]]...  binary + its shared libs
#            [--modules "mod1 mod2"]            extra kernel modules
#            [--kernel-env FILE]                default $VM_CACHE/kernel.env
# Default OUT: $VM_CACHE/initramfs.cpio.gz. lio.sh is always included as
# /lib/vmtest/lio.sh. Inside the VM the console shows
#   VMTEST-START, the script's output, then "VMTEST-EXIT <rc>".
# Kernel command line words of the form NAME=value (run-vm.sh --append)
# reach /test.sh as environment variables.
set -eu
. "$(dirname "$0")/common.sh"

# Needed by every test: initiator side (sd_mod for the disks) and target side.
DEFAULT_MODULES="configfs scsi_mod sd_mod scsi_transport_iscsi libiscsi
    libiscsi_tcp iscsi_tcp target_core_mod target_core_file target_core_iblock
    iscsi_target_mod"

out=$VM_CACHE/initramfs.cpio.gz
script=
envfile=$VM_CACHE/kernel.env
extra_modules=
adds=()
bins=()
while [ $# -gt 0 ]; do
    case $1 in
        --script) script=$2; shift 2 ;;
        -o|--output) out=$2; shift 2 ;;
        --add) adds+=("$2"); shift 2 ;;
        --add-bin) bins+=("$2"); shift 2 ;;
        --modules) extra_modules="$extra_modules $2"; shift 2 ;;
        --kernel-env) envfile=$2; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[ -n "$script" ] || die "--script FILE is required"
[ -f "$script" ] || die "test script $script not found"

ensure_pkg busybox-static
ensure_pkg cpio cpio
ensure_pkg gzip gzip
ensure_pkg libc-bin ldd
busybox=/bin/busybox
# The dynamic 'busybox' package conflicts with busybox-static; insist on static.
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is dynamically linked: apt-get install busybox-static"

if [ ! -f "$envfile" ]; then
    "$VM_DIR/fetch-kernel.sh" >/dev/null || die "fetch-kernel.sh failed"
fi
# shellcheck disable=SC1090
. "$envfile"
[ -d "$MODULES_DIR" ] || die "modules dir $MODULES_DIR missing: rerun fetch-kernel.sh"

root=$(mktemp -d "${TMPDIR:-/tmp}/vm-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

# Merged /usr layout like Debian 12, so ldd's /lib and /usr/lib paths both work.
# etc/target: LIO's db_root (persistent reservations, ALUA state).
mkdir -p "$root"/{usr/bin,usr/sbin,usr/lib,usr/lib64,dev,proc,sys,tmp,run,etc/target,root,var/lib,mnt}
ln -s usr/bin "$root/bin"; ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"; ln -s usr/lib64 "$root/lib64"
ln -s /run "$root/var/run"
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || true

cp "$busybox" "$root/usr/bin/busybox"
for applet in $("$busybox" --list-full); do
    case $applet in linuxrc|*/init) continue ;; esac
    [ -e "$root/$applet" ] || ln -s /usr/bin/busybox "$root/$applet"
done

# --- kernel modules: closure over modules.dep, dependencies first ---------
order=$(awk -v want="$DEFAULT_MODULES $extra_modules" '
    function norm(p,  n) { n = p; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n)
                           gsub(/-/, "_", n); return n }
    FNR == NR { builtin[norm($1)] = 1; next }
    { key = $1; sub(/:$/, "", key); n = norm(key); path[n] = key; deps[n] = ""
      for (i = 2; i <= NF; i++) deps[n] = deps[n] " " norm($i) }
    function visit(n,  a, k, i) {
        if (n in seen) return; seen[n] = 1
        if (n in builtin) return
        if (!(n in path)) { missing = missing " " n; return }
        k = split(deps[n], a, " "); for (i = 1; i <= k; i++) visit(a[i])
        print path[n]
    }
    END { k = split(want, w, /[ \t\n]+/)
          for (i = 1; i <= k; i++) if (w[i] != "") { m = w[i]; gsub(/-/, "_", m); visit(m) }
          if (missing != "") { print "missing modules:" missing > "/dev/stderr"; exit 3 } }
    ' "$MODULES_DIR/modules.builtin" "$MODULES_DIR/modules.dep") ||
    die "module resolution failed (see above); check $MODULES_DIR/modules.dep"

case $order in *.ko.xz*) ensure_pkg xz-utils xz ;; esac
case $order in *.ko.zst*) ensure_pkg zstd zstd ;; esac

kmod_root=$root/lib/modules/$KERNEL_VERSION
mkdir -p "$kmod_root"
: >"$root/etc/vmtest-modules"
for m in $order; do
    # busybox insmod cannot read compressed modules, so store them plain.
    dst=${m%.xz}; dst=${dst%.zst}; dst=${dst%.gz}
    mkdir -p "$kmod_root/$(dirname "$dst")"
    case $m in
        *.xz) xz -dc "$MODULES_DIR/$m" >"$kmod_root/$dst" ;;
        *.zst) zstd -qdc "$MODULES_DIR/$m" >"$kmod_root/$dst" ;;
        *.gz) gzip -dc "$MODULES_DIR/$m" >"$kmod_root/$dst" ;;
        *) cp "$MODULES_DIR/$m" "$kmod_root/$dst" ;;
    esac
    echo "$dst" >>"$root/etc/vmtest-modules"
done
# A trimmed modules.dep lets busybox modprobe/modprobe -r work in the guest.
awk 'NR == FNR { keep[$1] = 1; next }
     { k = $1; sub(/:$/, "", k); sub(/\.(xz|zst|gz)$/, "", k)
       if (!(k in keep)) next
       line = k ":"; for (i = 2; i <= NF; i++) { d = $i; sub(/\.(xz|zst|gz)$/, "", d); line = line " " d }
       print line }' "$root/etc/vmtest-modules" "$MODULES_DIR/modules.dep" >"$kmod_root/modules.dep"
cp "$MODULES_DIR/modules.builtin" "$kmod_root/" 2>/dev/null || true

# --- extra files and binaries ---------------------------------------------
copy_in() { # copy_in HOST GUEST
    local src=$1 dst=$2
    [ -e "$src" ] || die "--add: $src not found"
    mkdir -p "$root$(dirname "$dst")"
    # Replace a busybox applet symlink of the same name instead of writing through it.
    [ -L "$root$dst" ] && rm -f "$root$dst"
    cp -a -L "$src" "$root$dst"
}
for a in ${adds[@]+"${adds[@]}"}; do
    src=${a%%:*}; dst=${a#*:}
    [ "$dst" = "$a" ] && dst=$(realpath -s "$src")
    case $dst in /*) ;; *) die "--add: guest path must be absolute: $dst" ;; esac
    copy_in "$src" "$dst"
done
for b in ${bins[@]+"${bins[@]}"}; do
    src=${b%%:*}; dst=${b#*:}
    # A bare command name is looked up in PATH.
    [ -f "$src" ] || src=$(command -v "$src" 2>/dev/null) || die "--add-bin: $b not found"
    [ "$dst" = "$b" ] && dst=$(realpath -s "$src")
    case $dst in /*) ;; *) die "--add-bin: guest path must be absolute: $dst" ;; esac
    copy_in "$src" "$dst"
    # ldd prints "name => /path (addr)" for libs and "/path (addr)" for the loader.
    if libs=$(ldd "$src" 2>/dev/null); then
        for lib in $(printf '%s\n' "$libs" | awk '
                $2 == "=>" && $3 ~ /^\// { print $3; next }
                $1 ~ /^\// { print $1 }'); do
            [ -e "$root$lib" ] || copy_in "$lib" "$lib"
        done
    fi
done

mkdir -p "$root/lib/vmtest"
install -m 644 "$VM_DIR/lio.sh" "$root/lib/vmtest/lio.sh"
install -m 755 "$script" "$root/test.sh"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf '127.0.0.1 localhost vmtest\n::1 localhost\n' >"$root/etc/hosts"

cat >"$root/init" <<'INIT'
#!/bin/sh
# PID 1 of the test VM. Ends with "VMTEST-EXIT <rc>" on the console and a
# forced power-off, whatever the test does.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/lock /var/lock
hostname vmtest
ip link set lo up

finish() {
    rc=$1
    if [ "$rc" != 0 ] || [ "${VMTEST_DMESG:-0}" = 1 ]; then
        # Boot messages before /init are rarely of interest.
        echo "VMTEST-DMESG-BEGIN"
        dmesg | sed -n '/Run \/init as init process/,$p'
        echo "VMTEST-DMESG-END"
    fi
    sync
    # Own line, so kernel messages cannot share it.
    printf '\nVMTEST-EXIT %s\n' "$rc"
    poweroff -f
    sleep 5; reboot -f
}

kver=$(uname -r)
while read -r m; do
    if ! insmod "/lib/modules/$kver/$m"; then
        echo "VMTEST-ERROR insmod $m failed"
        finish 125
    fi
done </etc/vmtest-modules
mount -t configfs configfs /sys/kernel/config || { echo "VMTEST-ERROR no configfs"; finish 125; }
# Keep the console for the test's own output; the full kernel log is
# dumped at the end on failure (or with VMTEST_DMESG=1).
dmesg -n "${VMTEST_LOGLEVEL:-1}"

export VMTEST_LIB=/lib/vmtest
echo "VMTEST-START $kver"
cd /
/bin/sh /test.sh
finish $?
INIT
chmod 755 "$root/init"

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
vm_log "wrote $out ($(du -h "$out" | cut -f1), kernel $KERNEL_VERSION)"
