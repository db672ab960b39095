#!/bin/sh
# demo.sh - what `make demo` shows: a container, images pulled from a registry the demo
# starts on loopback and run, then a microVM, each on built-in defaults.
set -eu
cd "$(dirname "$0")/.."
echo "== cabin demo: a container =="
scripts/demo-container.sh
echo
echo "== cabin demo: images, from a registry on loopback =="
scripts/demo-image.sh
echo
echo "== cabin demo: a microVM =="
# No --kernel: cabin boots Debian's cloud kernel (fetched through apt) with its own
# initramfs, on KVM where the CPU has hardware virtualization, else on its software CPU,
# and runs the command after `--` in the guest; `vm run` exits with its status.
./cabin vm run -- sh -c 'uname -a; grep -m1 ^model.name /proc/cpuinfo; exit 3' </dev/null &&
	rc=0 || rc=$?
echo "microVM exited with status $rc (3: the guest command's)"
