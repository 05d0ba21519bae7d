#!/usr/bin/env bash
# Runs every test this project has, from a fresh Debian 12 machine, as root:
# installs the build and test dependencies, builds with -Werror, runs the
# unit and integration tests, the unit tests again under ASan+UBSan, each
# fuzz harness for a short smoke, `make distcheck`, and the VM suite.
# Ends with one line: "N passed, N failed".
#
# Environment: FUZZ_SECONDS (default 15), SKIP_VM=1 (both VM suites),
# SKIP_DEBIAN_VM=1, SKIP_DISTCHECK=1.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. tests/lib/deps.sh
deps_install build test || { echo "dependency installation failed"; echo "0 passed, 1 failed"; exit 1; }

jobs=$(nproc 2>/dev/null || echo 2)
passed=0
failed=0
failures=()
reasons=()

# Adds the PASS/FAIL counts of an automake test-suite.log.
count_suite() { # <label> <build dir>
	local log=$2/test-suite.log p f
	if [ ! -f "$log" ]; then
		failed=$((failed + 1)); failures+=("$1: no test-suite.log"); return
	fi
	p=$(sed -n 's/^# PASS: *//p' "$log" | head -1)
	f=$(( $(sed -n 's/^# FAIL: *//p' "$log" | head -1) + $(sed -n 's/^# ERROR: *//p' "$log" | head -1) + $(sed -n 's/^# XPASS: *//p' "$log" | head -1) ))
	passed=$((passed + p)); failed=$((failed + f))
	[ "$f" -eq 0 ] || failures+=("$1: $f failed (see $log)")
}

step() { # <label> <command...>: one pass/fail unit
	local label=$1; shift
	echo "=== $label"
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$label"); fi
}

echo "=== bootstrap"
./autogen.sh >autogen.out 2>&1 || { echo "autogen.sh failed"; cat autogen.out; echo "0 passed, 1 failed"; exit 1; }
# autoconf and automake warnings are bugs in configure.ac / Makefile.am
# (e.g. a compile check before AC_USE_SYSTEM_EXTENSIONS).
step "autogen.sh without warnings" bash -c '! grep -i -B1 -A2 "warning" autogen.out'
rm -f autogen.out

# 1. Normal build: warnings are errors; unit + integration tests.
rm -rf build && mkdir build
if (cd build && ../configure --enable-werror >configure.out 2>&1 && make -j"$jobs" >make.out 2>&1); then
	(cd build && make -j"$jobs" check >check.out 2>&1)
	grep -E '^(PASS|FAIL|SKIP|ERROR|XFAIL|XPASS):' build/check.out
	count_suite "make check" build
else
	echo "build failed:"; tail -n 30 build/configure.out build/make.out
	failed=$((failed + 1)); failures+=("build")
fi

# 2. Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
rm -rf build-san && mkdir build-san
san="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
if (cd build-san && ../configure --enable-werror CFLAGS="$san" LDFLAGS="-fsanitize=address,undefined" >configure.out 2>&1 &&
	make -j"$jobs" >make.out 2>&1); then
	unit=$(cd build-san && make -s print-unit-tests)
	(cd build-san && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		make -j"$jobs" check TESTS="$unit" >check.out 2>&1)
	grep -E '^(PASS|FAIL|ERROR):' build-san/check.out | sed 's/^/[asan+ubsan] /'
	count_suite "sanitizer unit tests" build-san
else
	echo "sanitizer build failed:"; tail -n 30 build-san/configure.out build-san/make.out
	failed=$((failed + 1)); failures+=("sanitizer build")
fi

# 3. Every fuzz harness, briefly, on its seed corpus.
if [ -d build ]; then
	out=$(cd build && make fuzz-smoke FUZZ_SECONDS="${FUZZ_SECONDS:-15}" 2>&1)
	echo "$out" | grep -E '^(PASS|FAIL): fuzz' || echo "$out" | tail -30
	p=$(echo "$out" | grep -c '^PASS: fuzz'); f=$(echo "$out" | grep -c '^FAIL: fuzz')
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; failures+=("fuzz harnesses did not build"); fi
	passed=$((passed + p)); failed=$((failed + f))
	[ "$f" -eq 0 ] || failures+=("fuzz smoke")
fi

# The session listings of N sessions outside the emulation, as a smoke
# (a sysfs tree on tmpfs; every listing must show all N sessions).
step "listing benchmark smoke (N=32 and 512, tmpfs sysfs tree)" env RUNS=3 bench/listing_bench.sh build 32 512

# 4. The release tarball builds and passes its own checks.
if [ "${SKIP_DISTCHECK:-0}" != 1 ]; then
	step "make distcheck" bash -c 'cd build && make -j'"$jobs"' distcheck >distcheck.out 2>&1 || { tail -40 distcheck.out; exit 1; }'
fi

# 5. The real kernel initiator in a VM (tests/vm), when present.
# VM_SCENARIOS: the seven scenarios of the kernel path plus this project's
# own features (wait-for-devices, stats, safe_logout, ordered attach,
# iface binding and name lookups of kernel sessions, client command
# sequences, recovery speed, crash leftovers, hostile Login Responses,
# iscsistart without iscsid and adoption of its sessions, two paths
# through two ifaces).
VM_SCENARIOS=${VM_SCENARIOS-login_io luns chap portal_outage iscsid_restart logout loginall kfeatures ordered plumbing clients recovery_speed crash_loginall hostile_login iscsistart ifaces}
if [ "${SKIP_VM:-0}" != 1 ] && [ -n "$VM_SCENARIOS" ]; then
	deps_install vm || { failed=$((failed + 1)); failures+=("VM dependencies"); }
	vmout=$(tests/vm/run-suite.sh $VM_SCENARIOS 2>&1); vmrc=$?
	# each result line; a failed scenario's details (its last step, the
	# failure, the daemon log tail or why the VM gave no result) with it
	echo "$vmout" | awk '/^(PASS|FAIL|SKIP):/ { d = ($1 == "FAIL:"); print; next } d && /^    / { print; next } { d = 0 }'
	p=$(echo "$vmout" | grep -c '^PASS:'); f=$(echo "$vmout" | grep -c '^FAIL:')
	if [ "$vmrc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$vmout" | tail -30; fi
	passed=$((passed + p)); failed=$((failed + f))
	[ "$f" -eq 0 ] || failures+=("VM suite")
	# Each failed scenario's own reason, repeated in the summary at the end.
	# (a scenario that printed no FAIL line: why the VM gave no result, or
	# the last line it printed)
	reasons+=("$(echo "$vmout" | awk '
		function flush() { if (s != "") print "  vm " s ": " (last != "" ? last : "no details") }
		/^FAIL: vm / { flush(); s = $3; last = ""; next }
		s != "" && /^    (FAIL: |no result: )/ { sub(/^    /, ""); print "  vm " s ": " $0; s = ""; next }
		s != "" && /^    / && !/^    \(serial log:/ { last = substr($0, 5); next }
		s != "" && !/^    / { flush(); s = "" }
		END { flush() }')")
	# The scale benchmark at a small N as a smoke (~20 s of VM): passes
	# when this project, Debian's open-iscsi and the kernel floor all
	# produced figures; the timings are printed, never asserted.
	step "vm scale benchmark smoke (N=8: ours, open-iscsi, floor)" \
		env BENCH_LIST_TIMEOUT=30 BENCH_VM_TIMEOUT=300 bench/vm/scale_bench.sh 8
fi

# 6. The full Debian VM (tests/vm/debian): systemd, udev, multipath-tools,
# `make install` of build/ into a Debian 12 image, on a 2-CPU host:
# shutdown (3 boots) ~100 s, iscsid_service ~55 s, multipath ~120 s,
# rootfs (root on an iSCSI LUN through initramfs-tools, 2 boots) ~2.5-5 min,
# mpifaces ~140 s, bootdown (a target down at boot, 2 boots) ~2 min; the
# first run on a machine also builds the cached root file system
# (mmdebstrap, ~80 s).
DEBIAN_VM_SCENARIOS=${DEBIAN_VM_SCENARIOS-shutdown iscsid_service multipath rootfs mpifaces bootdown}
if [ "${SKIP_VM:-0}" != 1 ] && [ "${SKIP_DEBIAN_VM:-0}" != 1 ] && [ -n "$DEBIAN_VM_SCENARIOS" ]; then
	deps_install debianvm || { failed=$((failed + 1)); failures+=("Debian VM dependencies"); }
	start=$(date +%s)
	dvout=$(BUILD_DIR="$top/build" tests/vm/debian/run.sh $DEBIAN_VM_SCENARIOS 2>&1); dvrc=$?
	# FAIL lines come with their reasons (indented).
	echo "$dvout" | grep -E -A40 '^FAIL:' | grep -E '^(FAIL:|    )' | head -n 80
	echo "$dvout" | grep -E '^(PASS|SKIP):'
	echo "(full Debian VM: $(( $(date +%s) - start )) s)"
	p=$(echo "$dvout" | grep -c '^PASS:'); f=$(echo "$dvout" | grep -c '^FAIL:')
	if [ "$dvrc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "$dvout" | tail -30; fi
	passed=$((passed + p)); failed=$((failed + f))
	[ "$f" -eq 0 ] || failures+=("full Debian VM suite")
	reasons+=("$(echo "$dvout" | awk '/^FAIL: / { s = $2 " " $3 } s != "" && /^    .*FAIL/ { sub(/^ +/, ""); print "  " s ": " $0; s = "" }')")
fi

for x in "${failures[@]}"; do echo "failed: $x"; done
for x in "${reasons[@]}"; do [ -n "$x" ] && printf '%s\n' "$x" | head -n 5; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
