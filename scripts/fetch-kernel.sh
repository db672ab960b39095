#!/bin/sh
# fetch-kernel.sh - download Debian's cloud kernel through apt and unpack it.
#   scripts/fetch-kernel.sh [CACHE_DIR]      (default: $CABIN_KERNEL_CACHE or
#                                            /var/cache/cabin/kernel)
# Prints two lines: the path of the bzImage and the path of its modules dir
# (…/lib/modules/<version>). Idempotent: a kernel already unpacked in the cache is
# reused without touching the network. Uses only apt (apt-get download, dpkg-deb).
set -eu

cache=${1:-${CABIN_KERNEL_CACHE:-/var/cache/cabin/kernel}}
meta=linux-image-cloud-amd64

# The metapackage depends on exactly one versioned image package, e.g.
# linux-image-6.1.0-56-cloud-amd64; that one holds vmlinuz and the modules.
pkg=$(apt-cache depends "$meta" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
if [ -z "$pkg" ]; then
	# Maybe the package lists are missing (fresh container): refresh once.
	apt-get update -q >/dev/null 2>&1 || true
	pkg=$(apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-cloud-amd64\)$/\1/p' | head -n1)
fi
if [ -z "$pkg" ]; then
	# No apt metadata at all: fall back to whatever is already unpacked.
	pkg=$(ls -1 "$cache" 2>/dev/null | grep '^linux-image-.*-cloud-amd64$' | sort -V | tail -n1)
	[ -n "$pkg" ] || { echo "fetch-kernel: cannot resolve \`$meta\` through apt" >&2; exit 1; }
fi
ver=${pkg#linux-image-}
dir=$cache/$pkg

if [ ! -e "$dir/.done" ]; then
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	# apt drops privileges to _apt for the download: let it write there.
	chmod 755 "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -q "$pkg" >/dev/null) || {
		echo "fetch-kernel: apt-get download \`$pkg\` failed" >&2
		exit 1
	}
	dpkg-deb -x "$tmp"/*.deb "$tmp/root"
	rm -rf "$dir"
	mv "$tmp/root" "$dir"
	touch "$dir/.done"
fi

vmlinuz=$dir/boot/vmlinuz-$ver
mods=$dir/lib/modules/$ver
[ -f "$vmlinuz" ] || { echo "fetch-kernel: \`$vmlinuz\` missing" >&2; exit 1; }
[ -d "$mods" ] || { echo "fetch-kernel: \`$mods\` missing" >&2; exit 1; }
echo "$vmlinuz"
echo "$mods"
