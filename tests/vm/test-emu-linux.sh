#!/bin/bash
# test-emu-linux.sh - boot Debian's cloud kernel under the software CPU (--accel emu) as far
# as the emulator goes today. The kernel decompresses itself (64-bit page-fault-driven
# identity mapping), calibrates the TSC against the PIT, sets up the IOAPIC and LAPIC and
# runs deep into start_kernel, past FPU initialisation (x87, FXSAVE, XSAVE of the x87 and
# SSE components and PKRU). The markers below must all appear on the console.
# shellcheck source=../func/lib.sh
. "$(dirname "$0")/../func/lib.sh"
[ -x "$CABIN" ] || skip_all "cabin is not built"
out=$("$TOP/scripts/fetch-kernel.sh" 2>"$T/fetch.err") ||
	skip_all "debian cloud kernel unavailable: $(head -c 200 "$T/fetch.err")"
kernel=$(echo "$out" | sed -n 1p)
plan 7

# The guest ends (for now) halted with interrupts on, waiting forever: stop it once the
# last marker is out, or after 90 s.
"$CABIN" vm run --accel emu --kernel "$kernel" --memory 256M -- true >"$T/out" 2>"$T/err" \
	</dev/null &
pid=$!
for _ in $(seq 900); do
	grep -q 'x86/fpu: Enabled' "$T/out" 2>/dev/null && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
kill $pid 2>/dev/null
wait $pid 2>/dev/null
sed -n '1,3s/^/# /p' "$T/out"

con=$(cat "$T/out")
assert_contains "$con" "Linux version" "decompressed and started the kernel"
assert_contains "$con" "Command line: console=ttyS0" "boot parameters reached the kernel"
# "tsc: Detected 1000.060 MHz processor": within 1% of the virtual clock's 1 GHz
mhz=$(sed -n 's/.*tsc: Detected \([0-9]*\)\.[0-9]* MHz.*/\1/p' "$T/out" | head -n 1)
ok "TSC calibrated against the PIT on the virtual clock (~1 GHz): ${mhz:-none} MHz" \
	test "${mhz:-0}" -ge 990 -a "${mhz:-0}" -le 1010
assert_contains "$con" "Memory: " "memory map and allocators up"
assert_contains "$con" "IOAPIC[0]: apic_id" "IOAPIC found through the ACPI tables"
assert_contains "$con" "APIC: Switch to symmetric I/O mode setup" "IOAPIC timer routing checked"
assert_contains "$con" "x86/fpu: Enabled xstate features 0x203" "x87, SSE and PKRU state through XSAVE (CPUID offers PKU)"
done_testing
