#!/bin/bash
# test-acpi.sh - cabin's ACPI tables (src/vm/x86/acpi.c) read by other software:
#  1. ACPICA's disassembler (`iasl -d`) decodes every table, and the DSDT's ASL
#     recompiles without errors or warnings; the decoded fields are checked.
#  2. Debian's cloud kernel (no VIRTIO_MMIO_CMDLINE_DEVICES, no X86_MPPARSE)
#     boots with these tables and nothing else describing the machine: QEMU
#     TCG is the CPU, `-M microvm,acpi=off` keeps QEMU's own tables out, and
#     the tables, built for microvm's device layout (8 virtio-mmio transports
#     of 512 bytes at 0xfeb00000, GSIs 5-12), are loaded at 0xe0000. The
#     kernel must find both CPUs in the MADT, the console in the DSDT, and
#     the virtio disk and rng only through the LNRO0005 devices. A second boot
#     powers off: Linux must use the FADT's sleep control register (port
#     0x600, where an isa-debug-exit device turns the value into QEMU's status).
# shellcheck source=../func/lib.sh
. "$(dirname "$0")/../func/lib.sh"
DUMP=$TOP/tests/vm/acpi-dump
MKINITRD=$TOP/tests/vm/mkinitrd
INIT=$TOP/src/guest/init
QEMU=${QEMU:-qemu-system-x86_64}

[ -x "$DUMP" ] || skip_all "build first: make all unit-tests"
require_cmd iasl
plan 21

# 1. iasl: cabin's own layout, 2 vCPUs and 3 devices (slots 0-2).
mkdir -p "$T/t"
ok "acpi-dump writes the tables" "$DUMP" "$T/t" 2
for t in xsdt facp apic dsdt; do
	(cd "$T/t" && iasl -d "$t.dat") >"$T/iasl-$t.log" 2>&1
	assert_contains "$(cat "$T/iasl-$t.log")" "$([ $t = dsdt ] && echo "Disassembly completed" ||
		echo "Acpi Data Table [${t^^}] decoded")" "iasl -d $t.dat decodes it"
done
dsl=$(cat "$T/t/dsdt.dsl" 2>/dev/null)
vr=$(echo "$dsl" | tr -s ' \n' ' ')
assert_eq "$(echo "$dsl" | grep -c '"LNRO0005"')" 3 "DSDT: three LNRO0005 devices"
assert_contains "$vr" 'Device (VR02) { Name (_HID, "LNRO0005") // _HID: Hardware ID Name (_UID, 0x02) // _UID: Unique ID Name (_CCA, One) // _CCA: Cache Coherency Attribute Name (_CRS, ResourceTemplate () // _CRS: Current Resource Settings { Memory32Fixed (ReadWrite, 0xD0002000, // Address Base 0x00001000, // Address Length ) Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, ) { 0x00000007, } }) }' \
	"DSDT: VR02 is 4 KiB at 0xd0002000 with GSI 7, edge, active high"
ok "DSDT: VR00 at 0xd0000000 GSI 5, VR01 at 0xd0001000 GSI 6" \
	grep -qE 'Memory32Fixed \(ReadWrite, 0xD0000000, .* \{ 0x00000005, \}.*Memory32Fixed \(ReadWrite, 0xD0001000, .* \{ 0x00000006, \}' <<<"$vr"
assert_contains "$vr" 'Device (COM1) { Name (_HID, EisaId ("PNP0501")' "DSDT: COM1 is PNP0501"
ok "DSDT: COM1 at 0x3f8, 8 ports, IRQ 4" \
	grep -qE 'Device \(COM1\).*0x03F8, // Range Minimum 0x03F8, // Range Maximum 0x01, // Alignment 0x08, // Length.*\{ 0x00000004, \}.*Device \(PS2K\)' <<<"$vr"
(cd "$T/t" && iasl -p recompiled dsdt.dsl) >"$T/iasl-c.log" 2>&1
assert_contains "$(cat "$T/iasl-c.log")" "Compilation successful. 0 Errors, 0 Warnings" \
	"the disassembled DSDT recompiles cleanly"
facp=$(cat "$T/t/facp.dsl" 2>/dev/null)
ok "FADT: hardware reduced, 8042 present, DSDT pointers set, sleep control at port 0x600" \
	bash -c 'grep -q "Hardware Reduced (V5) : 1" <<<"$1" &&
		grep -A5 "Sleep Control Register" <<<"$1" | grep -q "Address : 0000000000000600" &&
		grep -q "8042 Present on ports 60/64 (V2) : 1" <<<"$1" &&
		[ "$(grep -c "DSDT Address : 0*E0" <<<"$1")" = 2 ]' - "$facp"
apic=$(cat "$T/t/apic.dsl" 2>/dev/null)
ok "MADT: 2 local APICs, the IOAPIC at 0xfec00000 from GSI 0, IRQ 0 -> GSI 2" \
	bash -c '[ "$(grep -c "\[Processor Local APIC\]" <<<"$1")" = 2 ] &&
		grep -q "Address : FEC00000" <<<"$1" &&
		grep -A4 "Interrupt Source Override" <<<"$1" | grep -q "Interrupt : 00000002"' - "$apic"

# 2. A real kernel with these tables and no others.
kernel= mods=
if out=$("$TOP/scripts/fetch-kernel.sh" 2>"$T/fetch.err"); then
	kernel=$(echo "$out" | sed -n 1p)
	mods=$(echo "$out" | sed -n 2p)
fi
if [ -z "$mods" ] || ! command -v "$QEMU" >/dev/null || [ ! -x "$MKINITRD" ]; then
	for _ in 1 2 3 4 5 6 7 8; do skip "needs Debian's cloud kernel, $QEMU and tests/vm/mkinitrd"; done
	done_testing
fi
mkdir -p "$T/q"
devs=()
for i in 0 1 2 3 4 5 6 7; do devs+=("$((0xfeb00000 + 512 * i)):512:$((5 + i))"); done
"$DUMP" "$T/q" 2 "${devs[@]}"
"$MKINITRD" "$T/initrd" "$INIT" /bin/busybox -m "$mods" >/dev/null
printf 'hello from the disk\n' >"$T/disk"
truncate -s 1M "$T/disk"
cmd='echo; echo cpus=$(nproc); head -c 19 /dev/vda; echo; test -c /dev/hwrng && echo rng ok; md5sum /sys/firmware/acpi/tables/DSDT; exit 7'
timeout 150 "$QEMU" -M microvm,acpi=off -accel tcg -cpu max -smp 2 -m 256M -kernel "$kernel" \
	-initrd "$T/initrd" \
	-append "console=ttyS0 tsc_early_khz=1000000 reboot=t panic=-1 -- /bin/sh -c \"$cmd\"" \
	-nodefaults -no-user-config -display none -serial stdio -no-reboot \
	-device isa-debug-exit,iobase=0x501,iosize=1 \
	-device loader,file="$T/q/acpi.bin",addr=0xe0000,force-raw=on \
	-drive "id=d0,file=$T/disk,format=raw,if=none" -device virtio-blk-device,drive=d0 \
	-device virtio-rng-device >"$T/boot" 2>&1 </dev/null
rc=$?
out=$(tr -d '\r' <"$T/boot")
assert_contains "$out" "ACPI: RSDP 0x00000000000E0000 000024 (v02 CABIN )" \
	"linux found the RSDP at 0xe0000"
assert_contains "$out" "cpus=2" "both CPUs came from the MADT (the kernel has no MP table parser)"
assert_contains "$out" $'hello from the disk\nrng ok' \
	"virtio-blk and virtio-rng found through the DSDT's LNRO0005 devices"
assert_contains "$out" "$(md5sum <"$T/q/dsdt.dat" | cut -d' ' -f1)  /sys/firmware/acpi/tables/DSDT" \
	"the kernel's DSDT is cabin's, byte for byte"
assert_contains "$out" "ttyS0 at I/O 0x3f8" "the console came from PNP0501"
assert_eq "$rc" 15 "the command's exit status 7 came back through port 0x501"
[ "$rc" = 15 ] || tail -n 40 "$T/boot" | sed 's/^/# /'
assert_contains "$out" "ACPI: PM: (supports S0 S5)" "linux offers ACPI power off (\\_S5 and the sleep registers)"

# Power off: (SLP_TYP 5 << 2) | SLP_EN = 0x34 written to port 0x600 exits QEMU with 0x34 * 2 + 1.
timeout 150 "$QEMU" -M microvm,acpi=off -accel tcg -cpu max -m 256M -kernel "$kernel" \
	-initrd "$T/initrd" \
	-append "console=ttyS0 tsc_early_khz=1000000 reboot=t panic=-1 -- /bin/sh -c \"poweroff -f; exit 7\"" \
	-nodefaults -no-user-config -display none -serial stdio -no-reboot \
	-device isa-debug-exit,iobase=0x501,iosize=1 -device isa-debug-exit,iobase=0x600,iosize=1 \
	-device loader,file="$T/q/acpi.bin",addr=0xe0000,force-raw=on >"$T/boot2" 2>&1 </dev/null
rc=$?
assert_eq "$rc" 105 "poweroff -f: linux wrote SLP_TYP 5 | SLP_EN to the sleep control register"
[ "$rc" = 105 ] || tail -n 20 "$T/boot2" | sed 's/^/# /'
done_testing
