#!/bin/bash
# test-kvm-boot.sh - the kernel boot protocols on /dev/kvm, checked from inside the guest:
# fake kernels (tests/vm/guests: bzImage, ELF 64-bit entry, ELF PVH) print the command line
# the VMM wrote and exit with the first byte of the initrd they were handed.
. "$(dirname "$0")/../func/lib.sh"

[ -e /dev/kvm ] || skip_all_machine "no /dev/kvm"
G=$TOP/tests/vm/guests
make -s -C "$TOP" tests/vm/guests/bzimage.bin tests/vm/guests/elf64.elf tests/vm/guests/pvh.elf \
	>/dev/null || skip_all "cannot assemble the fake kernels"
ROOT=$T/root

plan 34

vmrun() { # vmrun ARGS... : sets $out, $errout, $rc
	timeout 60 "$CABIN" --root "$ROOT" vm run --accel kvm "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	out=$(cat "$T/out")
	errout=$(cat "$T/err")
}

printf '\x2a-initrd' >"$T/initrd"
truncate -s 1M "$T/disk0.img"
truncate -s 1M "$T/disk1.img"

for k in bzimage.bin elf64.elf pvh.elf; do
	vmrun --kernel "$G/$k" --initrd "$T/initrd" --cmdline "hello=world" \
		--disk "$T/disk0.img" --disk "$T/disk1.img,ro" --rng -- echo "a b"
	assert_eq "$rc" 42 "$k: entered, found the initrd and exited with its first byte"
	assert_contains "$out" "console=ttyS0 reboot=k panic=1 pci=off" \
		"$k: Firecracker's default command line"
	assert_contains "$out" "hello=world" "$k: --cmdline appended"
	assert_contains "$out" "virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6 virtio_mmio.device=4K@0xd0002000:7" \
		"$k: each virtio device announced with its slot and GSI"
	assert_eq "${out##*virtio_mmio.device=4K@0xd0002000:7 }" 'hello=world -- echo "a b"' \
		"$k: --cmdline after the devices, the guest command last after \`--\`, blanks quoted"
done

vmrun --kernel "$G/bzimage.bin"
assert_eq "$rc" 64 "bzImage without initrd: ramdisk_size is 0"
assert_eq "$out" "console=ttyS0 reboot=k panic=1 pci=off 8250.nr_uarts=1 i8042.noaux i8042.nomux i8042.dumbkbd" \
	"no devices, no command: the default command line alone"
vmrun --kernel "$G/pvh.elf"
assert_eq "$rc" 64 "PVH without initrd: no module"

vmrun --kernel "$G/bzimage.bin" --cmdline "$(head -c 3000 /dev/zero | tr '\0' x)"
assert_contains "$errout" "accepts at most \`2048\`" "a command line longer than the kernel's cmdline_size is refused"
vmrun --kernel "$G/bzimage.bin" --disk "$T/missing.img"
assert_eq "$rc" 1 "a missing disk image fails"
assert_contains "$errout" "missing.img" "the error names the disk image"
vmrun --kernel "$G/bzimage.bin" --initrd "$T/missing.rd"
assert_contains "$errout" "open initrd \`$T/missing.rd\`" "a missing initrd is named"
vmrun --kernel "$G/bzimage.bin" -- echo 'say "hi"'
assert_contains "$errout" "has a double quote" "a double quote in the guest command is refused"
vmrun --firmware "$G/hello.bin" --kernel "$G/bzimage.bin"
assert_contains "$errout" "exclude each other" "--kernel and --firmware together are refused"
# Devices on the command line (the guest does not drive them here; attaching must work).
vmrun --firmware "$G/hello.bin" --vsock "3,$T/vsock.sock" --rng --disk "$T/disk0.img,ro"
assert_eq "$rc" 42 "--vsock, --rng and a read-only --disk attach"
vmrun --firmware "$G/hello.bin" --vsock "2,$T/vsock.sock"
assert_contains "$errout" "need CID (>= 3)" "--vsock with a reserved CID is refused"
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && ip netns add "cbvm$$" 2>/dev/null; then
	ip netns exec "cbvm$$" timeout 60 "$CABIN" --root "$ROOT" vm run --accel kvm \
		--firmware "$G/hello.bin" --net "tap=cbtap$$" >/dev/null 2>"$T/err" </dev/null
	assert_eq "$?" 42 "--net tap=NAME attaches a virtio-net card (private netns)"
	ip netns del "cbvm$$"
else
	skip "--net needs root and ip netns"
fi
vmrun --firmware "$G/hello.bin" --net "bridge=br0"
assert_contains "$errout" "--net must be \`tap=NAME\`" "--net without tap= is refused"
vmrun --firmware "$G/hello.bin" --accel bogus
assert_contains "$errout" "--accel must be kvm, emu or auto" "unknown --accel is refused"
if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	timeout 60 "$CABIN" --root "$ROOT" vm run --accel auto --firmware "$G/hello.bin" \
		>/dev/null 2>"$T/err" </dev/null
	assert_contains "$(cat "$T/err")" "no vmx/svm in /proc/cpuinfo" "--accel auto says why it does not pick kvm"
else
	timeout 60 "$CABIN" --root "$ROOT" vm run --accel auto --firmware "$G/hello.bin" \
		>/dev/null 2>"$T/err" </dev/null
	assert_contains "$(cat "$T/err")" "accelerator kvm" "--accel auto picks hardware-assisted kvm"
fi

# `cabin vm initrd` (the builder is shared with the default-kernel path of `vm run`).
if [ -x "$TOP/src/guest/init" ] && command -v cpio >/dev/null; then
	ok "vm initrd writes an archive" "$CABIN" vm initrd -o "$T/rd.cpio" --file "$T/initrd:/etc/marker"
	list=$(cd "$T" && cpio -t <rd.cpio 2>/dev/null)
	assert_contains "$list" "init" "the archive holds /init"
	assert_contains "$list" "etc/marker" "--file HOST:GUEST lands at GUEST"
else
	skip "src/guest/init or cpio missing"
	skip "src/guest/init or cpio missing"
	skip "src/guest/init or cpio missing"
fi
nok "vm initrd with a missing --file fails" "$CABIN" vm initrd -o "$T/rd2.cpio" --file "$T/nope"
done_testing
