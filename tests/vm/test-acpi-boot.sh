#!/bin/bash
# test-acpi-boot.sh - the ACPI tables as `cabin vm run` gives them to a kernel, read from
# inside the guest: tests/vm/guests/acpi-check.bin (a fake bzImage) follows the zero page's
# acpi_rsdp_addr through XSDT, FADT, MADT and DSDT, verifies signatures and checksums,
# prints the number of local APICs and virtio-mmio devices and powers off through the
# FADT's sleep control register. Run under each accelerator this machine has.
# shellcheck source=../func/lib.sh
. "$(dirname "$0")/../func/lib.sh"

G=$TOP/tests/vm/guests
make -s -C "$TOP" tests/vm/guests/acpi-check.bin >/dev/null || skip_all "cannot assemble acpi-check"
[ -x "$CABIN" ] || skip_all "build first: make"
ROOT=$T/root
truncate -s 1M "$T/d0" "$T/d1"

accels=(emu)
[ -e /dev/kvm ] && accels+=(kvm)
plan $((4 * ${#accels[@]}))

vmrun() { # vmrun ARGS... : sets $out, $rc
	timeout 120 "$CABIN" --root "$ROOT" vm run "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	out=$(cat "$T/out")
}

for a in "${accels[@]}"; do
	vmrun --accel "$a" --cpus 2 --kernel "$G/acpi-check.bin" --disk "$T/d0" --disk "$T/d1,ro" --rng
	assert_eq "$out" "acpi cpus=2 virtio=3" \
		"$a: tables found from the zero page, checksums good, 2 CPUs, 3 virtio-mmio devices"
	assert_eq "$rc" 0 "$a: powered off through the sleep control register"
	[ "$rc" = 0 ] || sed 's/^/# /' "$T/err"
	vmrun --accel "$a" --cpus 4 --kernel "$G/acpi-check.bin"
	assert_eq "$out" "acpi cpus=4 virtio=0" "$a: 4 CPUs, no devices"
	assert_eq "$rc" 0 "$a: exit status 0"
done
done_testing
