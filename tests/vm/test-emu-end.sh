#!/bin/bash
# test-emu-end.sh - how a VM ends, under the software CPU (runs on every machine): each
# cause has its own documented exit status and, when it is not the guest's own report,
# one line on stderr naming it. Also a Multiboot v1 kernel with --debug-exit and fw_cfg,
# and inputs `vm run` must refuse.
. "$(dirname "$0")/../func/lib.sh"

G=$TOP/tests/vm/guests
make -s -C "$TOP" tests/vm/guests/multiboot.elf $(for g in hello halt triple-fault reset echo; do
	echo tests/vm/guests/$g.bin
done) >/dev/null || skip_all "cannot assemble the test guests (gcc -m32, ld, objcopy)"
ROOT=$T/root

plan 29

vmrun() { # vmrun ARGS... : sets $out, $errout, $rc
	timeout 60 "$CABIN" --root "$ROOT" vm run --accel emu --memory 16M "$@" >"$T/out" \
		2>"$T/err" </dev/null
	rc=$?
	out=$(cat "$T/out")
	errout=$(cat "$T/err")
}

vmrun --firmware "$G/hello.bin"
assert_eq "$rc" 42 "exit port: the value written"
assert_eq "$errout" "" "exit port: nothing on stderr"
vmrun --firmware "$G/reset.bin"
assert_eq "$rc" 0 "i8042 reset request: 0"
vmrun --firmware "$G/halt.bin"
assert_eq "$rc" 252 "halted with interrupts off: 252"
assert_contains "$errout" "halted with interrupts disabled" "halt: the cause on stderr"
assert_contains "$errout" "exit status 252" "halt: the line names the status"
vmrun --firmware "$G/halt.bin" --cpus 2
assert_eq "$rc" 252 "BSP halted, AP never started: 252"
vmrun --firmware "$G/triple-fault.bin"
assert_eq "$rc" 251 "triple fault: 251"
assert_contains "$errout" "triple fault at rip" "triple fault: the cause on stderr"
assert_eq "$(grep -c . "$T/err")" 1 "triple fault: exactly one line on stderr"

# vm stop: the echo guest polls the serial port forever.
# Wait for the control socket as long as a loaded machine may need (up to 60 s).
timeout 120 "$CABIN" --root "$ROOT" vm run --accel emu --memory 16M --name emumach-end \
	--firmware "$G/echo.bin" >"$T/out" 2>"$T/err" </dev/null &
pid=$!
for _ in $(seq 600); do
	[ -S "$ROOT/vm/emumach-end.sock" ] && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
"$CABIN" --root "$ROOT" vm stop emumach-end
_ok $? "vm stop answers"
wait $pid
assert_eq "$?" 253 "vm stop: 253"
assert_contains "$(cat "$T/err")" "stopped by \`vm stop\`" "vm stop: the cause on stderr"

out=$("$CABIN" vm run --help)
assert_contains "$out" "251       a triple fault" "--help documents the triple-fault status"
assert_contains "$out" "253       stopped by \`cabin vm stop\`" "--help documents the stop status"
for c in pause stop resume; do
	out=$("$CABIN" --root "$ROOT" vm $c --help 2>&1)
	assert_contains "$out" "usage: cabin vm $c NAME" "vm $c --help prints usage, not a VM lookup"
done

# Multiboot v1 + --debug-exit: status (V << 1) | 1 with V the initrd's first byte.
printf '\x2a-initrd' >"$T/initrd"
vmrun --kernel "$G/multiboot.elf" --initrd "$T/initrd" --cpus 2 --debug-exit 0xf4 \
	--cmdline "x=1 y"
assert_eq "$rc" 85 "Multiboot: module 0x2a through --debug-exit gives (0x2a << 1) | 1"
assert_eq "$(head -1 "$T/out")" "$G/multiboot.elf x=1 y" \
	"Multiboot command line: the kernel's path and only the user's words"
assert_contains "$out" "memory map" "Multiboot information has a memory map"
assert_contains "$out" "mem_lower 639" "Multiboot information has mem_lower"
assert_contains "$out" "cpus 2" "fw_cfg reports the CPU count"
vmrun --kernel "$G/multiboot.elf" --debug-exit 244
assert_eq "$rc" 65 "Multiboot without initrd: no module; --debug-exit takes decimal"
vmrun --kernel "$G/multiboot.elf"
assert_eq "$rc" 252 "without --debug-exit port 0xf4 does nothing"

# Refusals.
vmrun --firmware "$G/hello.bin" --disk "$T/initrd,rw,foo"
assert_contains "$errout" "unknown option \`foo\`" "--disk with an unknown option is refused"
vmrun --kernel "$G/multiboot.elf" --debug-exit zz
assert_contains "$errout" "invalid --debug-exit \`zz\`" "a bad --debug-exit port is refused"
# A bzImage header whose syssize says more than the file holds.
python3 - "$T/trunc.bzImage" <<'PY'
import struct, sys
b = bytearray(5 * 512 + 0x2000)
b[0x1f1] = 4
struct.pack_into("<I", b, 0x1f4, 0x4000 // 16)   # syssize: 16 KiB, the file has 8 KiB
struct.pack_into("<H", b, 0x1fe, 0xaa55)
b[0x200:0x202] = b"\xeb\x6a"
b[0x202:0x206] = b"HdrS"
struct.pack_into("<H", b, 0x206, 0x020f)
b[0x211] = 1
struct.pack_into("<H", b, 0x236, 1)
struct.pack_into("<I", b, 0x238, 2047)
open(sys.argv[1], "wb").write(b)
PY
vmrun --kernel "$T/trunc.bzImage"
assert_eq "$rc" 1 "a truncated bzImage fails"
assert_contains "$errout" "is truncated: \`syssize\`" "the error names syssize"
