#!/bin/bash
# test-kvm.sh - the VMM paths of `cabin vm run` on /dev/kvm, with tiny firmware guests
# (tests/vm/guests): serial output, exit port, halt, triple fault, i8042 reset, unclaimed
# port/MMIO, --dump-regs, several vCPUs, the control socket, and bad input.
. "$(dirname "$0")/../func/lib.sh"

[ -e /dev/kvm ] || skip_all_machine "no /dev/kvm"
[ -r /dev/kvm ] && [ -w /dev/kvm ] || skip_all_machine "/dev/kvm is not accessible"
G=$TOP/tests/vm/guests
make -s -C "$TOP" $(for g in hello exit-dword exit-big halt triple-fault reset unclaimed regs echo smp string-io; do
	echo tests/vm/guests/$g.bin
done) >/dev/null || skip_all "cannot assemble the test guests (gcc -m32, ld, objcopy)"
ROOT=$T/root

plan 65

vmrun() { # vmrun ARGS... : sets $out, $errout, $rc
	timeout 60 "$CABIN" --root "$ROOT" vm run --accel kvm "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	out=$(cat "$T/out")
	errout=$(cat "$T/err")
}

vmrun --firmware "$G/hello.bin"
assert_eq "$rc" 42 "exit status from a byte written to port 0x501"
assert_contains "$out" "hello from the test firmware" "serial output reaches stdout"

vmrun --firmware "$G/exit-dword.bin"
assert_eq "$rc" 7 "exit status from a dword written to port 0x501"
vmrun --firmware "$G/exit-big.bin"
assert_eq "$rc" 255 "a status above 255 is reported as 255, not truncated"

vmrun --firmware "$G/halt.bin"
assert_eq "$rc" 252 "hlt with interrupts disabled ends the VM with status 252"
assert_contains "$out" "halting" "output before the final hlt"

vmrun --firmware "$G/triple-fault.bin"
if grep -qwE 'vmx|svm' /proc/cpuinfo; then
	assert_eq "$rc" 251 "a triple fault ends the VM with status 251"
	assert_contains "$out" "faulting" "output before the triple fault"
	assert_contains "$errout" "triple fault at rip" "one line names the triple fault"
else
	# The software KVM for nested guests (kvm_pvm) emulates real-mode interrupts
	# without checking the IVT limit, so the guest never faults there; the emulator
	# (tests/vm/test-guests.sh, test-emu-*.sh) covers the same guest.
	skip "triple fault under kvm: this KVM is software (no vmx/svm) and ignores the real-mode IVT limit"
	assert_contains "$out" "faulting" "output before the triple fault"
	skip "triple fault message under kvm: see above"
fi

vmrun --firmware "$G/reset.bin"
assert_eq "$rc" 0 "i8042 reset (0xFE to port 0x64) ends the VM with status 0"
assert_contains "$out" "rebooting" "output before the reset"

vmrun --firmware "$G/unclaimed.bin"
assert_eq "$rc" 3 "unclaimed port and MMIO accesses read all ones and the guest goes on"
assert_contains "$out" "still alive" "the guest runs after unclaimed MMIO"
assert_contains "$errout" "unclaimed MMIO write at \`0xd0000000\`" "unclaimed MMIO is logged"
assert_contains "$errout" "unclaimed port read \`0x1234\`" "unclaimed port read is logged"

vmrun --firmware "$G/string-io.bin"
assert_eq "$rc" 9 "string port I/O (rep outs/ins) moves every element"
assert_contains "$out" "string I/O: rep outsb works" "rep outsb reaches the serial port"
n=$(grep -c unclaimed "$T/err")
[ "$n" -ge 10 ] && [ "$n" -le 40 ]
_ok $? "2004 unclaimed reads are logged with a rate limit ($n lines)"

vmrun --firmware "$G/regs.bin" --dump-regs "$T/regs"
assert_eq "$rc" 5 "regs guest exits with 5"
regs=$(cat "$T/regs" 2>/dev/null)
want="rax rbx rcx rdx rsi rdi rsp rbp r8 r9 r10 r11 r12 r13 r14 r15 rip rflags cr0 cr3 cr4 efer"
want="$want fcw fsw ftw mxcsr st0 st1 st2 st3 st4 st5 st6 st7"
want="$want xmm0 xmm1 xmm2 xmm3 xmm4 xmm5 xmm6 xmm7 xmm8 xmm9 xmm10 xmm11 xmm12 xmm13 xmm14 xmm15 "
assert_eq "$(cut -d= -f1 "$T/regs" | tr '\n' ' ')" "$want" \
	"--dump-regs writes every register in order"
assert_contains "$regs" "rbx=0x0000000011111111" "--dump-regs rbx"
assert_contains "$regs" "rbp=0x0000000055555555" "--dump-regs rbp"
assert_contains "$regs" "rsp=0x0000000000006000" "--dump-regs rsp"
assert_contains "$regs" "rax=0x0000000000000005" "--dump-regs rax"
assert_contains "$regs" "rdx=0x0000000000000501" "--dump-regs rdx"
assert_contains "$regs" "rip=0x0000000000000101" "--dump-regs rip is past the exiting out"
assert_eq "$(grep -cE '^[a-z0-9]+=0x[0-9a-f]{16}$' "$T/regs")" 22 "--dump-regs line format"

vmrun --firmware "$G/hello.bin" --cpus 3 --memory 64M
assert_eq "$rc" 42 "three vCPUs: the BSP runs, the APs wait for a SIPI"
vmrun --firmware "$G/halt.bin" --cpus 2
assert_eq "$rc" 252 "two vCPUs: BSP halted and AP never started end the VM"

vmrun --firmware "$G/smp.bin" --cpus 2
assert_eq "$rc" 17 "INIT-SIPI through the in-kernel LAPIC starts the second vCPU"
assert_contains "$out" "AP up" "the AP runs its trampoline and prints"
vmrun --firmware "$G/smp.bin" --cpus 1
assert_eq "$rc" 252 "with one vCPU the SIPI goes nowhere and the halted BSP ends the VM"

vmrun
assert_eq "$rc" 0 "the built-in test guest exits 0"
assert_contains "$out" "built-in test guest" "the built-in test guest greets on the serial port"
if grep -qwE 'vmx|svm' /proc/cpuinfo; then
	skip "this CPU has vmx/svm: the reason message is for machines without"
else
	assert_contains "$errout" "KVM without hardware virtualization (vmx/svm): booting the built-in test guest" "says why it boots the test guest"
fi

# Bad input: each is one clear error line and a non-zero status.
vmrun --kernel "$T/no-such-kernel"
assert_eq "$rc" 1 "missing kernel file fails"
assert_contains "$errout" "open kernel \`$T/no-such-kernel\`" "error names the missing kernel"
vmrun --firmware "$T/no-such-fw"
assert_contains "$errout" "open firmware \`$T/no-such-fw\`" "error names the missing firmware"
# A bzImage header whose setup_sects points past the end of the file.
python3 - "$T/trunc.bzImage" <<'PY'
import struct, sys
b = bytearray(0x400)
b[0x1f1] = 30                            # setup_sects: 31 * 512 bytes of setup
b[0x1fe:0x200] = b"\x55\xaa"
b[0x201] = 0x66                          # header ends at 0x268
b[0x202:0x206] = b"HdrS"
struct.pack_into("<H", b, 0x206, 0x020f)
b[0x211] = 0x01                          # LOADED_HIGH
struct.pack_into("<H", b, 0x236, 0x1)    # XLF_KERNEL_64
open(sys.argv[1], "wb").write(b)
PY
vmrun --kernel "$T/trunc.bzImage"
assert_eq "$rc" 1 "truncated bzImage fails"
assert_contains "$errout" "bzImage \`$T/trunc.bzImage\`: \`setup_sects\`" "error names the file and field"
head -c 4096 /dev/urandom >"$T/garbage"
vmrun --kernel "$T/garbage"
assert_contains "$errout" "no \`HdrS\` magic" "a file that is no kernel is refused"
vmrun --firmware "$G/hello.bin" --memory 12Q
assert_contains "$errout" "invalid --memory \`12Q\`" "bad --memory is refused"
vmrun --firmware "$G/hello.bin" --memory 0
assert_eq "$rc" 1 "--memory 0 is refused"
head -c 300000 /dev/zero >"$T/big.fw"
vmrun --firmware "$T/big.fw"
assert_contains "$errout" "more than \`262144\`" "firmware above 256 KiB is refused"
vmrun --firmware "$G/hello.bin" -- echo hi
assert_contains "$errout" "need a kernel, not --firmware" "a guest command with --firmware is refused"
vmrun --firmware "$G/hello.bin" --cpus 0
assert_contains "$errout" "invalid --cpus \`0\`" "--cpus 0 is refused"

# Control socket: ls, pause, resume, stop on a guest that echoes its serial input.
mkfifo "$T/in"
exec 7<>"$T/in"
"$CABIN" --root "$ROOT" vm run --accel kvm --name "kt$$" --firmware "$G/echo.bin" \
	<"$T/in" >"$T/echo.out" 2>"$T/echo.err" &
vmpid=$!
for _ in $(seq 100); do grep -q "echo ready" "$T/echo.out" 2>/dev/null && break; sleep 0.1; done
assert_contains "$(cat "$T/echo.out")" "echo ready" "echo guest started"
ls_out=$("$CABIN" --root "$ROOT" vm ls)
assert_contains "$ls_out" "kt$$" "vm ls lists the VM by name"
assert_contains "$(echo "$ls_out" | grep "kt$$")" "$vmpid" "vm ls shows its pid"
assert_contains "$(echo "$ls_out" | grep "kt$$")" "running" "vm ls shows it running"
ok "vm pause" "$CABIN" --root "$ROOT" vm pause "kt$$"
assert_contains "$("$CABIN" --root "$ROOT" vm ls | grep "kt$$")" "paused" "vm ls shows it paused"
printf 'a' >&7
sleep 1
assert_not_contains "$(cat "$T/echo.out")" "<a" "a paused guest does not run"
ok "vm resume" "$CABIN" --root "$ROOT" vm resume "kt$$"
for _ in $(seq 100); do grep -q "<a" "$T/echo.out" 2>/dev/null && break; sleep 0.1; done
assert_contains "$(cat "$T/echo.out")" "<a" "a resumed guest runs again and reads the input"
out2=$(timeout 10 "$CABIN" --root "$ROOT" vm run --accel kvm --name "kt$$" --firmware "$G/hello.bin" 2>&1 </dev/null)
assert_contains "$out2" "already running" "a second VM with the same name is refused"
ok "vm stop" "$CABIN" --root "$ROOT" vm stop "kt$$"
wait $vmpid
assert_eq "$?" 253 "a stopped VM exits with status 253"
assert_eq "$(ls "$ROOT/vm" 2>/dev/null)" "" "the control socket is removed at exit"
nok "vm stop of an unknown VM fails" "$CABIN" --root "$ROOT" vm stop "nope$$"

# SIGTERM ends the VM, even a paused one.
"$CABIN" --root "$ROOT" vm run --accel kvm --name "ks$$" --firmware "$G/echo.bin" \
	<"$T/in" >"$T/echo2.out" 2>/dev/null &
vmpid=$!
for _ in $(seq 100); do grep -q "echo ready" "$T/echo2.out" 2>/dev/null && break; sleep 0.1; done
ok "vm pause before SIGTERM" "$CABIN" --root "$ROOT" vm pause "ks$$"
kill -TERM $vmpid
wait $vmpid
assert_eq "$?" 143 "SIGTERM ends a paused VM with 128+15"
exec 7>&-

# A closed stdout (SIGPIPE) costs the guest its output, not the VMM its life.
timeout 60 "$CABIN" --root "$ROOT" vm run --accel kvm --firmware "$G/hello.bin" </dev/null 2>/dev/null | head -c 1 >/dev/null
assert_eq "${PIPESTATUS[0]}" 42 "the guest's status survives a closed stdout"

# On a terminal: raw mode while the VM runs, the previous mode restored after.
if command -v script >/dev/null && command -v stty >/dev/null; then
	script -qec "stty -g >'$T/tty-before'; '$CABIN' --root '$ROOT' vm run --name tty$$ --accel kvm \
		--firmware '$G/echo.bin'; stty -g >'$T/tty-after'" /dev/null </dev/null >"$T/tty.out" 2>&1 &
	spid=$!
	for _ in $(seq 100); do grep -q "echo ready" "$T/tty.out" 2>/dev/null && break; sleep 0.1; done
	vpid=$("$CABIN" --root "$ROOT" vm ls | awk -v n="tty$$" '$1 == n { print $2 }')
	pts=$(readlink "/proc/$vpid/fd/0" 2>/dev/null)
	during=$(stty -F "$pts" -g 2>/dev/null)
	"$CABIN" --root "$ROOT" vm stop "tty$$"
	wait $spid
	[ -n "$during" ] && [ "$during" != "$(cat "$T/tty-before")" ]
	_ok $? "the terminal is in raw mode while the VM runs"
	assert_eq "$(cat "$T/tty-after" 2>/dev/null)" "$(cat "$T/tty-before")" "the terminal mode is restored at exit"
else
	skip "needs script and stty"
	skip "needs script and stty"
fi
done_testing
