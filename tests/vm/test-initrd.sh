#!/bin/bash
# test-initrd.sh - cabin's initramfs (src/vm/initrd.c) and guest init (src/guest/init):
# the archive's cpio listing, that /init is static and intact, and, with QEMU TCG as the
# CPU (KVM here cannot boot Linux, see HOST.md), that Debian's cloud kernel boots into the
# init, which loads the virtio modules, runs the command after `--` and reports its exit
# status through port 0x501 (QEMU's isa-debug-exit: status N exits QEMU with 2N+1).
# shellcheck source=../func/lib.sh
. "$(dirname "$0")/../func/lib.sh"
MKINITRD=$TOP/tests/vm/mkinitrd
INIT=$TOP/src/guest/init
QEMU=${QEMU:-qemu-system-x86_64}

[ -x "$MKINITRD" ] && [ -x "$INIT" ] || skip_all "build first: make all unit-tests"
require_cmd cpio readelf busybox
plan 15

# A static executable has no program interpreter and no dynamic section.
hdrs=$(readelf -lW "$INIT" 2>&1)
assert_not_contains "$hdrs" "INTERP" "init has no program interpreter (static)"
assert_not_contains "$hdrs" "DYNAMIC" "init has no dynamic section"

kernel=
mods=
if out=$("$TOP/scripts/fetch-kernel.sh" 2>"$T/fetch.err"); then
	kernel=$(echo "$out" | sed -n 1p)
	mods=$(echo "$out" | sed -n 2p)
fi

ok "initrd with busybox builds" "$MKINITRD" "$T/initrd" "$INIT" /bin/busybox \
	${mods:+-m "$mods"}
list=$(cpio -it --quiet <"$T/initrd" 2>&1)
for f in init dev/console bin/busybox bin/sh proc sys tmp; do
	assert_contains "$list" $'\n'"$f"$'\n' "cpio -t lists $f"
done
mkdir -p "$T/x"
(cd "$T/x" && cpio -id --quiet <"$T/initrd" 2>/dev/null)
ok "extracted /init is byte-identical to src/guest/init" cmp -s "$T/x/init" "$INIT"

if [ -z "$mods" ]; then
	skip "debian cloud kernel unavailable: $(head -c 200 "$T/fetch.err")"
	skip "debian cloud kernel unavailable"
	skip "debian cloud kernel unavailable"
	skip "debian cloud kernel unavailable"
	done_testing
fi
rel=$(basename "$mods")
load=$(cat "$T/x/lib/modules/$rel/cabin.load" 2>/dev/null)
# virtio_mmio needs virtio and virtio_ring: they must come first.
assert_eq "$(echo "$load" | grep -n -m1 -E '/virtio(_ring)?\.ko$' | cut -d: -f1)$(echo "$load" |
	grep -c virtio_mmio.ko)" "11" "cabin.load: virtio core first, virtio_mmio listed"

if ! command -v "$QEMU" >/dev/null; then
	skip_rest="no $QEMU"
	skip "$skip_rest"; skip "$skip_rest"; skip "$skip_rest"
	done_testing
fi

# Boot 1: ACPI describes the virtio-mmio devices (Debian's kernel lacks
# VIRTIO_MMIO_CMDLINE_DEVICES), a disk and an rng; the command checks both.
printf 'hello from the disk\n' >"$T/disk"
truncate -s 1M "$T/disk"
timeout 120 "$QEMU" -M microvm -accel tcg -cpu max -m 256M -kernel "$kernel" -initrd "$T/initrd" \
	-append 'console=ttyS0 tsc_early_khz=1000000 reboot=t panic=-1 quiet -- /bin/sh -c "echo hello; head -c 19 /dev/vda; echo; test -c /dev/hwrng && echo rng ok; exit 7"' \
	-nodefaults -no-user-config -display none -serial stdio -no-reboot \
	-device isa-debug-exit,iobase=0x501,iosize=1 \
	-drive "id=d0,file=$T/disk,format=raw,if=none" -device virtio-blk-device,drive=d0 \
	-device virtio-rng-device >"$T/boot1" 2>&1 </dev/null
rc=$?
out=$(tr -d '\r' <"$T/boot1")
assert_contains "$out" $'hello\nhello from the disk\nrng ok' \
	"linux under qemu tcg: init ran the command; virtio_blk and virtio_rng modules work"
assert_eq "$rc" 15 "command exit status 7 reported through port 0x501"

# Boot 2: no busybox, no ACPI, the command as `cabin vm run` passes it (cabin.cmd=, base64
# of NUL-terminated arguments): an unknown command is status 127.
"$MKINITRD" "$T/initrd2" "$INIT" -m "$mods" || true
b64=$(printf '/no/such/cmd\0arg\0' | base64 -w0)
timeout 120 "$QEMU" -M microvm,acpi=off -accel tcg -cpu max -m 256M -kernel "$kernel" \
	-initrd "$T/initrd2" \
	-append "console=ttyS0 tsc_early_khz=1000000 reboot=t panic=-1 quiet cabin.cmd=$b64" \
	-nodefaults -no-user-config -display none -serial stdio -no-reboot \
	-device isa-debug-exit,iobase=0x501,iosize=1 >"$T/boot2" 2>&1 </dev/null
rc=$?
assert_eq "$rc" 255 "cabin.cmd= decoded; missing command: status 127 reported"
done_testing
