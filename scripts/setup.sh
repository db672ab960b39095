#!/bin/sh
# setup.sh - install, through apt, every build and test dependency of cabin that is
# missing on a Debian 12 machine. Idempotent, and silent when everything is present.
#   CABIN_SETUP_MINIMAL=1  only what building needs (no peers for tests and benchmarks)
set -eu

BUILD_PKGS="gcc make pkg-config libc6-dev libjansson-dev libseccomp-dev libcap-dev
libmnl-dev libnftables-dev busybox-static"
# Tests and benchmarks: clang + libFuzzer for the fuzz targets, peers to compare with
# (crun, runc, podman, qemu), and the tools the functional tests drive.
TEST_PKGS="clang libclang-rt-14-dev crun runc podman uidmap fuse-overlayfs qemu-system-x86
iproute2 python3 util-linux procps cpio xz-utils kmod hyperfine"

pkgs=$BUILD_PKGS
if [ "${CABIN_SETUP_MINIMAL:-0}" != 1 ]; then
	pkgs="$pkgs $TEST_PKGS"
	# Subsystems list further packages in scripts/pkgs.d/<subsystem>.txt (one per line, # comments).
	for f in "$(dirname "$0")"/pkgs.d/*.txt; do
		[ -e "$f" ] && pkgs="$pkgs $(sed 's/#.*//' "$f" | tr '\n' ' ')"
	done
fi

missing=
for p in $pkgs; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "setup: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "setup: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Try with the current lists first; refresh them only when that fails.
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing >/tmp/cabin-setup.log 2>&1; then
	apt-get update -q >>/tmp/cabin-setup.log 2>&1 || true
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >>/tmp/cabin-setup.log 2>&1 || {
		tail -20 /tmp/cabin-setup.log >&2
		echo "setup: apt-get install failed (log: /tmp/cabin-setup.log)" >&2
		exit 1
	}
fi
