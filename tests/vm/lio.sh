# LIO (kernel iSCSI target) set-up through configfs, for test scripts run
# inside the VM.  busybox sh compatible.  Usage inside /test.sh:
#     . "$VMTEST_LIB/lio.sh"
#     lio_simple_target iqn.2003-01.org.example:t1 64M      # one LUN, port 3260
# or step by step:
#     lio_backstore_fileio disk0 64M
#     lio_target_create  iqn.2003-01.org.example:t1
#     lio_portal_add     iqn.2003-01.org.example:t1 127.0.0.1 3260
#     lio_lun_add        iqn.2003-01.org.example:t1 0 disk0
#     lio_auth           iqn.2003-01.org.example:t1 user secret12345 [muser msecret12345]
#     lio_tpg_enable     iqn.2003-01.org.example:t1
# All functions return non-zero (with a message on stderr) on failure.
# LIO_TPGT selects the portal group tag (default 1).
#
# configfs layout used (kernel 6.1):
#   target/core/fileio_0/NAME/{control,enable}         backstore
#   target/iscsi/IQN/tpgt_T/{enable,np/IP:PORT,lun/lun_N/<link to backstore>}
#   target/iscsi/IQN/tpgt_T/attrib/*   generate_node_acls, authentication, ...
#   target/iscsi/IQN/tpgt_T/auth/*     demo-mode CHAP credentials
#   target/iscsi/IQN/tpgt_T/param/*    login keys offered (HeaderDigest, ...)
#   target/iscsi/IQN/tpgt_T/acls/INITIATOR/{auth/*,lun_N/<link to tpg lun>,info}
#   target/iscsi/discovery_auth/*      SendTargets session CHAP

LIO_CFS=${LIO_CFS:-/sys/kernel/config/target}
LIO_TPGT=${LIO_TPGT:-1}
LIO_BACKING_DIR=${LIO_BACKING_DIR:-/tmp/lio}

lio_err() { echo "lio: $*" >&2; return 1; }

# Write a value without trailing newline: the CHAP and name attributes keep
# whatever bytes they get.
lio_put() { # lio_put FILE VALUE
    [ -e "$1" ] || { lio_err "no such configfs file: $1"; return 1; }
    printf '%s' "$2" >"$1" 2>/dev/null || { lio_err "write '$2' to $1 failed"; return 1; }
}

lio_tpg() { echo "$LIO_CFS/iscsi/$1/tpgt_$LIO_TPGT"; }

# Size with an optional K/M/G suffix -> bytes.
lio_bytes() {
    case $1 in
        *[kK]) echo $(( ${1%?} * 1024 )) ;;
        *[mM]) echo $(( ${1%?} * 1024 * 1024 )) ;;
        *[gG]) echo $(( ${1%?} * 1024 * 1024 * 1024 )) ;;
        *) echo $(( $1 )) ;;
    esac
}

# Make sure configfs and the iscsi fabric directory exist (mkdir of
# target/iscsi registers the fabric with target_core).
lio_init() {
    [ -d "$LIO_CFS" ] || grep -q ' /sys/kernel/config ' /proc/mounts ||
        mount -t configfs configfs /sys/kernel/config
    [ -d "$LIO_CFS" ] || { lio_err "$LIO_CFS missing: target_core_mod not loaded?"; return 1; }
    [ -d "$LIO_CFS/iscsi" ] || mkdir "$LIO_CFS/iscsi" ||
        { lio_err "cannot create $LIO_CFS/iscsi: iscsi_target_mod not loaded?"; return 1; }
}

# lio_backstore_fileio NAME SIZE [FILE]: sparse file on tmpfs (default
# $LIO_BACKING_DIR/NAME.img) exported as backstore NAME.
lio_backstore_fileio() {
    local name=$1 size file dir
    size=$(lio_bytes "$2") || return 1
    file=${3:-$LIO_BACKING_DIR/$1.img}
    lio_init || return 1
    mkdir -p "$(dirname "$file")"
    truncate -s "$size" "$file" || { lio_err "cannot create $file"; return 1; }
    dir=$LIO_CFS/core/fileio_0/$name
    mkdir -p "$dir" || { lio_err "mkdir $dir failed"; return 1; }
    lio_put "$dir/control" "fd_dev_name=$file,fd_dev_size=$size" || return 1
    # A stable serial gives the initiator a stable device identifier.
    lio_put "$dir/wwn/vpd_unit_serial" "$(printf '%s' "$name" | md5sum | cut -c1-32)" || true
    lio_put "$dir/enable" 1
}

lio_backstore_delete() { # NAME
    rmdir "$LIO_CFS/core/fileio_0/$1" || { lio_err "cannot remove backstore $1 (still linked?)"; return 1; }
}

# lio_target_create IQN: target + TPG in demo mode (any initiator may log in,
# LUNs mapped automatically, writable), no authentication, not yet enabled.
lio_target_create() {
    local tpg
    lio_init || return 1
    tpg=$(lio_tpg "$1")
    mkdir -p "$tpg" || { lio_err "cannot create $tpg"; return 1; }
    lio_put "$tpg/attrib/generate_node_acls" 1 &&
    lio_put "$tpg/attrib/demo_mode_write_protect" 0 &&
    lio_put "$tpg/attrib/cache_dynamic_acls" 1 &&
    lio_put "$tpg/attrib/authentication" 0
}

lio_portal_add() { # IQN [IP [PORT]]
    mkdir "$(lio_tpg "$1")/np/${2:-127.0.0.1}:${3:-3260}" ||
        { lio_err "cannot add portal ${2:-127.0.0.1}:${3:-3260} to $1 (port in use?)"; return 1; }
}

lio_portal_del() { # IQN [IP [PORT]]
    rmdir "$(lio_tpg "$1")/np/${2:-127.0.0.1}:${3:-3260}"
}

# lio_lun_add IQN LUN BACKSTORE: works on a running (enabled) target too;
# logged-in initiators get a REPORTED LUNS DATA HAS CHANGED unit attention.
lio_lun_add() {
    local lundir bs=$LIO_CFS/core/fileio_0/$3
    lundir=$(lio_tpg "$1")/lun/lun_$2
    [ -d "$bs" ] || { lio_err "no backstore $3"; return 1; }
    mkdir "$lundir" || { lio_err "cannot create $lundir"; return 1; }
    ln -s "$bs" "$lundir/$3" || { lio_err "cannot link $3 into $lundir"; return 1; }
}

lio_lun_del() { # IQN LUN
    local lundir l
    lundir=$(lio_tpg "$1")/lun/lun_$2
    for l in "$lundir"/*; do [ -L "$l" ] && rm "$l"; done
    rmdir "$lundir"
}

# lio_auth IQN USER PASS [MUSER MPASS]: CHAP (mutual if MUSER given) for all
# demo-mode initiators. Empty MUSER clears mutual CHAP.
lio_auth() {
    local tpg
    tpg=$(lio_tpg "$1")
    lio_put "$tpg/auth/userid" "$2" &&
    lio_put "$tpg/auth/password" "$3" &&
    lio_put "$tpg/auth/userid_mutual" "${4:-}" &&
    lio_put "$tpg/auth/password_mutual" "${5:-}" &&
    lio_put "$tpg/attrib/authentication" 1
}

lio_auth_off() { # IQN
    lio_put "$(lio_tpg "$1")/attrib/authentication" 0
}

# lio_discovery_auth USER PASS [MUSER MPASS] / lio_discovery_auth off
lio_discovery_auth() {
    local d=$LIO_CFS/iscsi/discovery_auth
    lio_init || return 1
    if [ "$1" = off ]; then
        lio_put "$d/enforce_discovery_auth" 0; return
    fi
    lio_put "$d/userid" "$1" &&
    lio_put "$d/password" "$2" &&
    lio_put "$d/userid_mutual" "${3:-}" &&
    lio_put "$d/password_mutual" "${4:-}" &&
    lio_put "$d/enforce_discovery_auth" 1
}

lio_attrib() { lio_put "$(lio_tpg "$1")/attrib/$2" "$3"; }  # IQN NAME VALUE
lio_param() { lio_put "$(lio_tpg "$1")/param/$2" "$3"; }    # IQN KEY VALUE

# Enable accepts logins.  Disable drops every session of the TPG and refuses
# new logins until re-enabled (for outage tests).
lio_tpg_enable() { lio_put "$(lio_tpg "$1")/enable" 1; }
lio_tpg_disable() { lio_put "$(lio_tpg "$1")/enable" 0; }

# lio_acl_add IQN INITIATOR [USER PASS [MUSER MPASS]]: explicit ACL mapping
# every current TPG LUN; with generate_node_acls=0 only these may log in.
lio_acl_add() {
    local tpg acl l n
    tpg=$(lio_tpg "$1"); acl=$tpg/acls/$2
    mkdir "$acl" || { lio_err "cannot create ACL $2"; return 1; }
    for l in "$tpg"/lun/lun_*; do
        [ -d "$l" ] || continue
        n=${l##*/}
        mkdir "$acl/$n" && ln -s "$l" "$acl/$n/lun" || return 1
    done
    if [ -n "${3:-}" ]; then
        lio_put "$acl/auth/userid" "$3" && lio_put "$acl/auth/password" "$4" &&
        lio_put "$acl/auth/userid_mutual" "${5:-}" &&
        lio_put "$acl/auth/password_mutual" "${6:-}" || return 1
    fi
}

lio_acl_del() { # IQN INITIATOR
    local acl l f
    acl=$(lio_tpg "$1")/acls/$2
    for l in "$acl"/lun_*; do
        [ -d "$l" ] || continue
        for f in "$l"/*; do [ -L "$f" ] && rm "$f"; done
        rmdir "$l"
    done
    rmdir "$acl"
}

# Initiator names with a session on the TPG (one per line, may be empty).
lio_sessions() { cat "$(lio_tpg "$1")/dynamic_sessions" 2>/dev/null; }

# lio_acl_addrs IQN INITIATOR: the initiator-side address of every
# connection of INITIATOR's sessions (explicit ACLs only: lio_acl_add),
# one per line, from the ACL's info ("   Address 10.0.0.1 TCP  StatSN: ...").
lio_acl_addrs() {
    awk '$1 == "Address" { print $2 }' "$(lio_tpg "$1")/acls/$2/info" 2>/dev/null
}

# lio_simple_target IQN SIZE [PORT [IP]]: backstore "<last IQN part>_0"
# + target + portal + LUN 0, enabled.
lio_simple_target() {
    local bs
    bs=$(echo "${1##*:}" | tr -c 'A-Za-z0-9_\n' '_')_0
    lio_backstore_fileio "$bs" "$2" &&
    lio_target_create "$1" &&
    lio_portal_add "$1" "${4:-127.0.0.1}" "${3:-3260}" &&
    lio_lun_add "$1" 0 "$bs" &&
    lio_tpg_enable "$1"
}

# lio_targets_grow N PREFIX SIZE: targets PREFIX1..PREFIXN, one LUN each,
# added to those a previous call made (LIO_GROWN), or made anew when N is
# fewer (the benchmarks' rising N in one boot).
LIO_GROWN=0
lio_targets_grow() {
    if [ "$1" -lt "$LIO_GROWN" ]; then lio_teardown; LIO_GROWN=0; fi
    while [ "$LIO_GROWN" -lt "$1" ]; do
        LIO_GROWN=$((LIO_GROWN + 1))
        lio_simple_target "$2$LIO_GROWN" "$3" || { echo "LIO setup failed at target $LIO_GROWN"; return 1; }
    done
}

# lio_targets_create N PREFIX SIZE [PORT]: targets PREFIX1..PREFIXN, one LUN
# each, all on the same portal (the np is shared by IP:PORT).
lio_targets_create() {
    local i=1
    while [ "$i" -le "$1" ]; do
        lio_simple_target "$2$i" "$3" "${4:-3260}" || return 1
        i=$((i + 1))
    done
}

# Remove one target completely (sessions are dropped first).
lio_target_delete() { # IQN
    local t=$LIO_CFS/iscsi/$1 tpg d l
    for tpg in "$t"/tpgt_*; do
        [ -d "$tpg" ] || continue
        printf 0 >"$tpg/enable" 2>/dev/null
        for d in "$tpg"/acls/*; do [ -d "$d" ] && lio_acl_del "$1" "${d##*/}"; done
        for d in "$tpg"/lun/lun_*; do
            [ -d "$d" ] || continue
            for l in "$d"/*; do [ -L "$l" ] && rm "$l"; done
            rmdir "$d"
        done
        for d in "$tpg"/np/*; do [ -d "$d" ] && rmdir "$d"; done
        rmdir "$tpg"
    done
    rmdir "$t"
}

# Remove every target and backstore (between test cases).
lio_teardown() {
    local t b
    for t in "$LIO_CFS"/iscsi/iqn.* "$LIO_CFS"/iscsi/eui.* "$LIO_CFS"/iscsi/naa.*; do
        [ -d "$t" ] && lio_target_delete "${t##*/}"
    done
    for b in "$LIO_CFS"/core/fileio_0/*; do
        [ -d "$b" ] && rmdir "$b"
    done
    rm -rf "$LIO_BACKING_DIR"
    return 0
}
