#!/bin/bash
# bench/linux-boot.sh - Debian's cloud kernel (scripts/fetch-kernel.sh) with cabin's
# initramfs, running `true` to its end: cabin's software CPU (--accel emu) against
# QEMU TCG (-M microvm -accel tcg -cpu max) on the same kernel, initramfs and command
# line (plus tsc_early_khz=1000000 for QEMU: without a calibrated TSC its boot waits).
# Runs are interleaved (ABBA); prints wall and CPU seconds per run, the medians, and
# last `ratio X`: cabin's median wall time divided by QEMU's (the issue's measure),
# with the CPU-time ratio beside it (steadier on a loaded machine).
#   bench/linux-boot.sh [N]     (default N=3 runs each)
set -u
cd "$(dirname "$0")/.." || exit 1
N=${1:-3}
QEMU=${QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null || { echo "linux-boot: needs $QEMU" >&2; exit 1; }
make -s cabin >/dev/null || exit 1
k=$(scripts/fetch-kernel.sh) || { echo "linux-boot: no kernel (scripts/fetch-kernel.sh)" >&2; exit 1; }
kernel=$(echo "$k" | sed -n 1p)
mods=$(echo "$k" | sed -n 2p)
out=$(mktemp -d /tmp/cabin-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT
./cabin vm initrd -o "$out/initrd.cpio" --modules-dir "$mods" >/dev/null 2>&1 ||
	{ echo "linux-boot: cannot build the initramfs" >&2; exit 1; }
# cabin's default command line (src/cli/cmd-vm.c VM_DEFAULT_CMDLINE), then the command
cmdline="console=ttyS0 reboot=k panic=1 pci=off 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.dumbkbd"

cabin_cmd=(./cabin vm run --accel emu --memory 256M --kernel "$kernel" --initrd "$out/initrd.cpio" -- true)
qemu_cmd=("$QEMU" -M microvm -accel tcg -cpu max -m 256M -kernel "$kernel" -initrd "$out/initrd.cpio"
	-append "$cmdline tsc_early_khz=1000000 -- true" -nodefaults -no-user-config -display none
	-serial stdio -no-reboot)

declare -a cw cc qw qc
# one NAME: appends wall and CPU seconds to NAME's lists
one() {
	local t wall u s
	TIMEFORMAT='%R %U %S'
	if [ "$1" = cabin ]; then
		t=$( { time timeout 600 "${cabin_cmd[@]}" >"$out/cabin.out" 2>&1 </dev/null; } 2>&1 )
	else
		t=$( { time timeout 600 "${qemu_cmd[@]}" >"$out/qemu.out" 2>&1 </dev/null; } 2>&1 )
	fi
	read -r wall u s <<<"$(echo "$t" | tail -n 1)"
	grep -q "Run /init as init process" "$out/$1.out" ||
		{ echo "linux-boot: $1 did not reach init" >&2; tail -5 "$out/$1.out" >&2; exit 1; }
	printf '%-6s wall %7.2f s  cpu %7.2f s\n' "$1" "$wall" "$(echo "$u + $s" | bc -l)"
	if [ "$1" = cabin ]; then
		cw+=("$wall") cc+=("$(echo "$u + $s" | bc -l)")
	else
		qw+=("$wall") qc+=("$(echo "$u + $s" | bc -l)")
	fi
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "# kernel $kernel; load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$N"); do
	if [ $((i % 2)) = 1 ]; then one cabin; one qemu; else one qemu; one cabin; fi
done
mcw=$(median "${cw[@]}") mcc=$(median "${cc[@]}") mqw=$(median "${qw[@]}") mqc=$(median "${qc[@]}")
echo "median of $N: cabin wall $mcw s cpu $mcc s; qemu-tcg wall $mqw s cpu $mqc s"
echo "cpu ratio $(echo "$mcc / $mqc" | bc -l | xargs printf '%.2f')"
echo "ratio $(echo "$mcw / $mqw" | bc -l | xargs printf '%.2f')"
