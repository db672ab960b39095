#!/bin/bash
# bench/emu.sh - the compute test guest (tests/guests/compute.bin, 10^8 iterations of an
# integer workload) under cabin's software CPU (--accel emu), under --accel kvm, as the
# same workload compiled natively (tests/guests/compute-native) and under QEMU TCG
# (qemu-system-x86_64 -accel tcg -M microvm,acpi=off -bios IMG).
# Then the second workload (tests/guests/compute2*.bin: CRC-32, a sieve and a recursive
# quicksort, short blocks, calls and byte accesses) as a 64-bit and a 32-bit guest,
# each against QEMU TCG ("compute2 ratio X", "compute2-32 ratio X").
# Prints wall and CPU seconds per run, the emulator's guest instructions per second,
# and last the ratio of emu's CPU time to QEMU TCG's on the first guest ("ratio X").
# CPU time (user+sys) is what is compared: these machines are shared, so wall time is
# noisy.
#   BENCH_ITERS=N      build and run the compute guest for N iterations (default: the
#                      test suite's tests/guests/compute.bin, 2*10^7 iterations)
#   BENCH_IMG=path     another guest image
#   BENCH_KVM_TIMEOUT  seconds before the KVM run is abandoned (default 60; nested
#                      software KVM runs guest ring 0 thousands of times slower)
#   BENCH_RUNS         emu and QEMU runs, interleaved; the least CPU time counts (default 3)
#   BENCH_KVM=0        skip the KVM run
#   BENCH_COMPUTE2=0   skip the second workload
set -u
cd "$(dirname "$0")/.." || exit 1
make -s all tests/guests/compute.bin tests/guests/compute-native tests/guests/compute2.bin \
	tests/guests/compute2-32.bin tests/guests/compute2-native >/dev/null || exit 1
IMG=${BENCH_IMG:-tests/guests/compute.bin}
native_args=()
if [ -n "${BENCH_ITERS:-}" ]; then
	make -s "build/emu-bench/compute-$BENCH_ITERS.bin" >/dev/null || exit 1
	IMG=build/emu-bench/compute-$BENCH_ITERS.bin
	native_args=("$BENCH_ITERS")
fi
QEMU=${QEMU:-qemu-system-x86_64}
KVM_TIMEOUT=${BENCH_KVM_TIMEOUT:-60}
out=$(mktemp -d /tmp/cabin-bench.XXXXXX)
trap 'rm -rf "$out"' EXIT

# run NAME TIMEOUT CMD...: sets wall, cpu, rc; output in $out/NAME.out, .err
run() {
	local name=$1 to=$2 t
	shift 2
	TIMEFORMAT='%R %U %S'
	t=$( { time timeout "$to" "$@" >"$out/$name.out" 2>"$out/$name.err" </dev/null; } 2>&1 )
	rc=$?
	# `time` reports the status of timeout through $?: recompute from the files
	read -r wall u s <<<"$(echo "$t" | tail -n 1)"
	cpu=$(echo "$u + $s" | bc -l)
	printf '%-10s wall %8.3f s  cpu %8.3f s  %s\n' "$name" "$wall" "$cpu" \
		"$(grep -m1 -o 'checksum [0-9a-f]*' "$out/$name.out" || echo '(no checksum)')"
}

# mips CPU_SECONDS: guest instructions per CPU second of the last emu run, in millions
mips() {
	local insns
	insns=$(grep -m1 '^emu:' "$out/emu.err" | awk '{print $2}')
	[ -n "$insns" ] && echo "$insns / $1 / 1000000" | bc -l | xargs printf '%.1f'
}

RUNS=${BENCH_RUNS:-3}
have_qemu=0
command -v "$QEMU" >/dev/null 2>&1 && have_qemu=1
min() { echo "if ($1 < $2) $1 else $2" | bc -l; }

echo "image: $IMG"
run native 600 tests/guests/compute-native "${native_args[@]}"
native_cpu=$cpu

emu_cpu=999999 qemu_cpu=999999
for i in $(seq "$RUNS"); do
	CABIN_EMU_STATS=1 run emu 1200 ./cabin vm run --accel emu --memory 16M --firmware "$IMG"
	emu_cpu=$(min "$cpu" "$emu_cpu")
	if [ $have_qemu = 1 ]; then
		run qemu-tcg 1200 "$QEMU" -M microvm,acpi=off -accel tcg -m 16M -bios "$IMG" \
			-nodefaults -display none -serial stdio \
			-device isa-debug-exit,iobase=0x501,iosize=1
		qemu_cpu=$(min "$cpu" "$qemu_cpu")
	fi
done
stats=$(grep -m1 '^emu:' "$out/emu.err")
insns=$(echo "$stats" | awk '{print $2}')
echo "emu stats (last run): $stats"
if [ -n "$insns" ]; then
	echo "emu: $(echo "$insns / $emu_cpu / 1000000" | bc -l | xargs printf '%.1f') million guest instructions per CPU second"
fi

if [ "${BENCH_COMPUTE2:-1}" != 0 ]; then
	run native2 600 tests/guests/compute2-native
	for g in compute2 compute2-32; do
		e_cpu=999999 q_cpu=999999
		for i in $(seq "$RUNS"); do
			CABIN_EMU_STATS=1 run emu 1200 ./cabin vm run --accel emu --memory 16M \
				--firmware "tests/guests/$g.bin"
			e_cpu=$(min "$cpu" "$e_cpu")
			if [ $have_qemu = 1 ]; then
				run qemu-tcg 1200 "$QEMU" -M microvm,acpi=off -accel tcg -m 16M \
					-bios "tests/guests/$g.bin" -nodefaults -display none \
					-serial stdio -device isa-debug-exit,iobase=0x501,iosize=1
				q_cpu=$(min "$cpu" "$q_cpu")
			fi
		done
		echo "$g: best of $RUNS: emu cpu $e_cpu s ($(mips "$e_cpu") million instructions per CPU second)$([ $have_qemu = 1 ] && echo ", qemu-tcg cpu $q_cpu s")"
		[ $have_qemu = 1 ] && echo "$g ratio $(echo "$e_cpu / $q_cpu" | bc -l | xargs printf '%.2f')"
	done
fi

if [ "${BENCH_KVM:-1}" = 0 ]; then
	echo "kvm: skipped (BENCH_KVM=0)"
elif [ -w /dev/kvm ]; then
	run kvm "$KVM_TIMEOUT" ./cabin vm run --accel kvm --memory 16M --firmware "$IMG"
	[ "$rc" = 124 ] && echo "kvm: did not finish in $KVM_TIMEOUT s (timeout)"
else
	echo "kvm: /dev/kvm not available"
fi

echo "best of $RUNS: emu cpu $emu_cpu s$([ $have_qemu = 1 ] && echo ", qemu-tcg cpu $qemu_cpu s")"
if [ $have_qemu = 1 ]; then
	echo "emu/native cpu: $(echo "$emu_cpu / $native_cpu" | bc -l | xargs printf '%.1f')"
	echo "ratio $(echo "$emu_cpu / $qemu_cpu" | bc -l | xargs printf '%.2f')"
else
	echo "qemu-tcg: $QEMU not installed"
	echo "ratio n/a"
fi
