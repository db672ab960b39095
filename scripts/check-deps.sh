#!/bin/sh
# check-deps.sh - enforce the include direction of STYLE.md:
# cli -> engines (ctr, vm+kvm/emu) -> {vm, virtio, hw, img, net} -> lib.
cd "$(dirname "$0")/.." || exit 1
fail=0
check() { # check DIR FORBIDDEN...
	dir=$1
	shift
	for f in "$@"; do
		hits=$(grep -rnE "#include \"$f/" "src/$dir" 2>/dev/null)
		if [ -n "$hits" ]; then
			echo "check-deps: src/$dir must not include $f/:"
			echo "$hits"
			fail=1
		fi
	done
}
check lib cli ctr vm kvm emu virtio hw img net guest box
check ctr cli vm kvm emu virtio hw box
check kvm cli ctr emu virtio hw
check emu cli ctr kvm virtio hw
check vm cli ctr kvm emu
check virtio cli ctr kvm emu
check hw cli ctr kvm emu virtio
check img cli ctr vm kvm emu virtio hw box net
check net cli ctr vm kvm emu virtio hw box
# box: containers from images, on the container engine, the image store and networks
check box cli vm kvm emu virtio hw
exit $fail
