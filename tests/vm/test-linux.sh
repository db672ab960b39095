#!/bin/bash
# test-linux.sh - boot Debian's cloud kernel under `cabin vm run` with cabin's initramfs
# (guest init + virtio modules + busybox) and run commands in it: output reaches the
# console, and the command's exit status becomes cabin's. Needs hardware virtualization:
# the software KVM of nested machines cannot boot Linux (HOST.md); test-initrd.sh checks
# the same kernel, initramfs and init under QEMU TCG there.
# shellcheck source=../func/lib.sh
. "$(dirname "$0")/../func/lib.sh"
grep -qwE 'vmx|svm' /proc/cpuinfo ||
	skip_all_machine "no hardware virtualization (vmx/svm): this KVM cannot boot Linux"
[ -w /dev/kvm ] || skip_all "no /dev/kvm"
[ -x "$CABIN" ] && [ -x "$TOP/src/guest/init" ] && [ -x "$TOP/tests/vm/mkinitrd" ] ||
	skip_all "build first: make all unit-tests"
"$CABIN" vm run --help 2>&1 | grep -q -- --kernel || skip_all "cabin vm run --kernel is not available yet"
out=$("$TOP/scripts/fetch-kernel.sh" 2>"$T/fetch.err") ||
	skip_all "debian cloud kernel unavailable: $(head -c 200 "$T/fetch.err")"
kernel=$(echo "$out" | sed -n 1p)
mods=$(echo "$out" | sed -n 2p)
plan 5

ok "initramfs builds" "$TOP/tests/vm/mkinitrd" "$T/initrd" "$TOP/src/guest/init" -m "$mods" \
	/bin/busybox

t0=$EPOCHREALTIME
out=$(timeout 120 "$CABIN" vm run --kernel "$kernel" --initrd "$T/initrd" --memory 256M \
	-- echo hello 2>"$T/err1" </dev/null)
rc=$?
echo "# echo hello: $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 )) ms"
assert_contains "$out" "hello" "echo hello in the guest prints hello"
assert_eq "$rc" 0 "exit status 0"

out=$(timeout 120 "$CABIN" vm run --kernel "$kernel" --initrd "$T/initrd" --memory 256M \
	-- sh -c 'grep -q "^virtio_mmio " /proc/modules && echo mmio-loaded; exit 7' \
	2>"$T/err2" </dev/null)
rc=$?
assert_contains "$out" "mmio-loaded" "virtio_mmio module loaded by the init"
assert_eq "$rc" 7 "exit status 7 of the guest command is cabin's"
done_testing
