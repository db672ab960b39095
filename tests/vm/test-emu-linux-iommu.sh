#!/bin/bash
# test-emu-linux-iommu.sh - Debian's cloud kernel under --accel emu with `--iommu intel
# --device edu` and intel_iommu=on: it finds the VT-d unit in the DMAR table, turns on
# interrupt remapping (queued invalidation, the interrupt remapping table) and then
# takes its serial and virtio interrupts through IOAPIC entries in remappable format;
# it scans the PCI bus the DSDT declares, finds edu and puts it in a translated DMA
# domain (context entries, invalidations), with no fault; the command still runs to its
# end with its status.
# shellcheck source=../func/lib.sh
. "$(dirname "$0")/../func/lib.sh"
[ -x "$CABIN" ] || skip_all "cabin is not built"
out=$("$TOP/scripts/fetch-kernel.sh" 2>"$T/fetch.err") ||
	skip_all "debian cloud kernel unavailable: $(head -c 200 "$T/fetch.err")"
kernel=$(echo "$out" | sed -n 1p)
mods=$(echo "$out" | sed -n 2p)
[ -x /bin/busybox ] || skip_all "no /bin/busybox for the guest's shell"
"$CABIN" vm initrd -o "$T/initrd.cpio" --modules-dir "$mods" 2>"$T/initrd.err" ||
	skip_all "cannot build cabin's initramfs: $(head -c 200 "$T/initrd.err")"
plan 8

start=$(date +%s)
timeout 300 "$CABIN" vm run --accel emu --kernel "$kernel" --initrd "$T/initrd.cpio" \
	--memory 256M --iommu intel --device edu --rng --cmdline intel_iommu=on \
	-- sh -c 'grep IR-IO-APIC /proc/interrupts; exit 3' \
	>"$T/out" 2>"$T/err" </dev/null
rc=$?
secs=$(($(date +%s) - start))
con=$(tr -d '\r' <"$T/out")
assert_eq "$rc" 3 "vm run exits with the guest command's status (${secs}s)"
[ "$rc" = 3 ] || tail -20 "$T/out" | sed 's/^/# /'
assert_contains "$con" "DMAR: dmar0: reg_base_addr fed90000 ver 1:0" "the kernel finds the unit in the DMAR table"
assert_contains "$con" "DMAR-IR: Enabled IRQ remapping in xapic mode" "interrupt remapping on"
ok "the serial port's interrupts arrive remapped" \
	test -n "$(echo "$con" | grep -E '^ *[0-9]+: +[1-9][0-9]* +IR-IO-APIC +4-edge +ttyS0')"
assert_contains "$con" "pci 0000:00:01.0: [1234:11e8] type 00 class 0x00ff00" "PCI: edu found"
assert_contains "$con" "pci 0000:00:01.0: Adding to iommu group" "edu gets an IOMMU group"
assert_not_contains "$(cat "$T/err")" "vt-d:" "no DMA or interrupt request blocked"
assert_not_contains "$con" "BUG:" "no kernel BUG on the way"
done_testing
