#!/bin/bash
# test-emu-linux-run.sh - Debian's cloud kernel under the software CPU (--accel emu) with
# cabin's initramfs runs a command to its end: two vCPUs come up, the command's output
# reaches the console, and `vm run` exits with the command's status.
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
plan 7

start=$(date +%s)
timeout 300 "$CABIN" vm run --accel emu --kernel "$kernel" --initrd "$T/initrd.cpio" \
	--memory 256M --cpus 2 -- sh -c 'uname -a; grep -c ^processor /proc/cpuinfo; exit 3' \
	>"$T/out" 2>"$T/err" </dev/null
rc=$?
secs=$(($(date +%s) - start))
con=$(cat "$T/out")
assert_eq "$rc" 3 "vm run exits with the guest command's status (${secs}s)"
[ "$rc" = 3 ] || tail -20 "$T/out" | sed 's/^/# /'
assert_contains "$con" "Run /init as init process" "the kernel starts cabin's init"
assert_contains "$con" "Linux cabin 6.1" "uname -a from the guest"
assert_eq "$(tr -d '\r' <"$T/out" | grep -x '[0-9]*' | tail -1)" 2 "the guest sees 2 CPUs"
assert_not_contains "$con" "BUG:" "no kernel BUG on the way"

# no --kernel: the default kernel and cabin's initramfs, on the software CPU too
timeout 300 "$CABIN" vm run --accel emu -- sh -c 'exit 5' >"$T/out2" 2>"$T/err2" </dev/null
assert_eq "$?" 5 "vm run --accel emu without --kernel: the default kernel runs the command"
assert_contains "$(cat "$T/err2")" "booting the default kernel" "... and says which kernel it boots"
done_testing
