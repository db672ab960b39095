#!/bin/bash
# test-iommu.sh - `vm run --device edu [--iommu intel]`: the 64-bit test guest
# tests/guests/iommu.bin finds QEMU's edu device on the PCI bus, and
#   under --accel emu with the VT-d unit: has it copy through IOVA 0 of its own
#     second-level tables, sees an unmapped IOVA fault (reason 6 recorded, nothing
#     copied), and gets its INTx (IOAPIC entry in remappable format) and its MSI
#     (remappable format) with the vectors of their interrupt remapping entries;
#   without it (emu, and KVM where /dev/kvm is usable): plain DMA, INTx and MSI;
#   under KVM with the unit: DMA remapped, but no interrupt remapping offered (KVM's
#   in-kernel IOAPIC cannot send through it), so plain INTx and MSI.
# Also: unknown --device and --iommu values are refused.
. "$(dirname "$0")/../func/lib.sh"

G=$TOP/tests/guests/iommu.bin
[ -x "$CABIN" ] || skip_all "cabin is not built"
[ -f "$G" ] || skip_all "$G is not built (make unit-tests)"
plan 9

run() { # run ACCEL OPTS...: serial output in $T/out, stderr in $T/err, status echoed
	local accel=$1
	shift
	timeout 120 "$CABIN" vm run --accel "$accel" --memory 16M --firmware "$G" "$@" \
		>"$T/out" 2>"$T/err" </dev/null
	echo $?
}

with_iommu="edu at 00:01.0, irq pin 1 line 23
bar 0 size 100000
id 010000ed alive a5a5ffff
dma through iova 0: ok
dma from unmapped iova 0x3000: fsts 2 reason 6 sid 0008 addr 3000
fault cleared: fsts 0
intx remapped to vector 22
msi remapped to vector 21"
plain="edu at 00:01.0, irq pin 1 line 23
bar 0 size 100000
id 010000ed alive a5a5ffff
dma without an iommu: ok
intx on vector 22
msi on vector 21"

rc=$(run emu --device edu --iommu intel)
assert_eq "$rc" 0 "emu, edu behind VT-d: the guest's checks pass (exit status)"
assert_eq "$(cat "$T/out")" "$with_iommu" "emu, edu behind VT-d: DMA remapped, fault recorded, INTx and MSI remapped"
assert_contains "$(cat "$T/err")" "DMA read from \`0x3000\` by 00:01.0 blocked (fault reason 0x6)" \
	"the blocked DMA is logged"

rc=$(run emu --device edu)
assert_eq "$rc:$(cat "$T/out")" "0:$plain" "emu, edu without an IOMMU: DMA, INTx and MSI"

if [ -w /dev/kvm ]; then
	rc=$(run kvm --device edu)
	assert_eq "$rc:$(cat "$T/out")" "0:$plain" "kvm, edu: DMA, INTx (KVM_IRQ_LINE) and MSI (KVM_SIGNAL_MSI)"
	rc=$(run kvm --device edu --iommu intel)
	assert_eq "$rc:$(cat "$T/out")" "0:$(echo "$with_iommu" | head -6)
intx on vector 22
msi on vector 21" "kvm, edu behind VT-d: DMA remapped and faulting, no interrupt remapping offered"
else
	skip "no usable /dev/kvm"
	skip "no usable /dev/kvm"
fi

rc=$(run emu --device nic)
ok "an unknown --device is refused" test "$rc" = 1 -a -n "$(grep "unknown --device \`nic\`" "$T/err")"
rc=$(run emu --iommu amd)
ok "an unknown --iommu is refused" test "$rc" = 1 -a -n "$(grep "unknown --iommu \`amd\`" "$T/err")"
"$CABIN" vm run --help >"$T/help"
ok "--help documents --device edu and --iommu intel" \
	test -n "$(grep -- '--device edu adds' "$T/help")" -a -n "$(grep -- '--iommu intel' "$T/help")"
done_testing
