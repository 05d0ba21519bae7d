# Debian packages each part of the project needs. Sourced by tests/run-all.sh
# and demo.sh; installs only what is missing, so a ready machine pays nothing.
deps_build="autoconf automake libtool pkg-config make gcc libmnl-dev libssl-dev check libiscsi-dev libfuse3-dev fuse3"
deps_test="clang libclang-rt-14-dev tgt libiscsi-bin open-isns-server open-isns-utils iproute2 util-linux procps systemd prometheus-node-exporter curl"
deps_vm="qemu-system-x86 busybox-static cpio xz-utils kmod"
# the full Debian VM (tests/vm/debian): root file system and disk images
deps_debianvm="qemu-system-x86 kmod mmdebstrap e2fsprogs"
deps_bench="open-iscsi bc fio linux-perf"

deps_install() { # <group>...
	local want="" missing="" p g
	for g in "$@"; do eval "want=\"\$want \$deps_$g\""; done
	for p in $want; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "missing Debian packages:$missing (run as root to install them)" >&2
		return 1
	fi
	echo "installing:$missing"
	apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}
