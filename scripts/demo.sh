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
# No --kernel: cabin boots its default guest (Linux where the CPU has hardware
# virtualization, else the built-in test guest) and says which and why.
./cabin vm run
echo "microVM exited with status $?"
