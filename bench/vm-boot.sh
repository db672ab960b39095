#!/bin/bash
# vm-boot.sh - cabin's microVM monitor against QEMU's microvm on the same accelerator: KVM
#   where /dev/kvm is usable, else cabin's software CPU (--accel emu) against QEMU TCG:
#   launch to first serial byte, launch to exit (guest writes its status to port 0x501),
#   and the VMM's own memory (RSS minus the guest RAM it has touched).
#   bench/vm-boot.sh [N]      (default N=20 interleaved runs, ABBA order; medians in ms)
#   VM_BOOT_ACCEL=emu bench/vm-boot.sh   compare emu with QEMU TCG even where KVM works
# Prints `ratio X` last: cabin's median launch-to-exit divided by QEMU's.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-20}
CABIN=${CABIN:-$TOP/cabin}
QEMU=${QEMU:-qemu-system-x86_64}
IMG=$TOP/tests/vm/guests/hello.bin
IDLE=$TOP/tests/vm/guests/echo.bin
MEM=128M

command -v "$QEMU" >/dev/null || { echo "vm-boot: needs $QEMU (apt-get install qemu-system-x86)" >&2; exit 1; }
# VM_BOOT_ACCEL=emu forces the software-CPU comparison where /dev/kvm exists too.
if [ -w /dev/kvm ] && [ "${VM_BOOT_ACCEL:-}" != emu ]; then
	ACCEL=kvm
	QEMU_ACCEL=(-accel kvm -cpu host,-arch-capabilities)
else
	ACCEL=emu
	QEMU_ACCEL=(-accel tcg -cpu max)
fi
make -s -C "$TOP" cabin tests/vm/guests/hello.bin tests/vm/guests/echo.bin >/dev/null

echo "# the guest is cabin's 64 KiB real-mode test firmware (tests/vm/guests/hello.bin): it prints"
echo "# a line on COM1 and writes 42 to port 0x501. This machine's /dev/kvm cannot boot Linux"
echo "# (nested software KVM), so the small test guest stands in for a kernel here."
if [ "$ACCEL" = emu ]; then
	echo "# no usable /dev/kvm: cabin --accel emu against QEMU -accel tcg -cpu max"
elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	echo "# /dev/kvm here is software-nested (no vmx/svm): absolute times are not those of real hardware"
fi

cabin_cmd=("$CABIN" --root "$(mktemp -d /tmp/cabin-bench.XXXXXX)" vm run --accel $ACCEL --memory $MEM)
qemu_cmd=("$QEMU" -M microvm,acpi=off "${QEMU_ACCEL[@]}" -m $MEM
	-nodefaults -no-user-config -display none -serial stdio
	-device isa-debug-exit,iobase=0x501,iosize=1)

# Timing and memory are measured by a small Python driver: it starts the VMM, timestamps
# the first byte on its stdout and its exit, and for the memory mode waits for the idle
# guest's banner and reads /proc/PID/status and smaps.
exec python3 - "$N" "$IMG" "$IDLE" "${#cabin_cmd[@]}" "${cabin_cmd[@]}" "${qemu_cmd[@]}" <<'PY'
import os, statistics, subprocess, sys, time

n, img, idle, ncab = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
cabin = sys.argv[5:5 + ncab]
qemu = sys.argv[5 + ncab:]
vmms = {
    "cabin": (lambda fw: cabin + ["--firmware", fw], 42),
    "qemu": (lambda fw: qemu + ["-bios", fw], 42 * 2 + 1),  # isa-debug-exit: (N << 1) | 1
}

def once(name):
    argv, want = vmms[name][0](img), vmms[name][1]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    first = p.stdout.read(1)
    t1 = time.perf_counter()
    p.stdout.read()
    rc = p.wait()
    t2 = time.perf_counter()
    if not first or rc != want:
        sys.exit(f"vm-boot: {name} failed (status {rc}, expected {want}): {' '.join(argv)}")
    return (t1 - t0) * 1000, (t2 - t0) * 1000

def vmm_memory(name):
    """VmRSS minus the Rss of the largest mapping (guest RAM), in KiB, once the guest idles."""
    argv = vmms[name][0](idle)
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    buf = b""
    while b"echo ready" not in buf:
        c = p.stdout.read(1)
        if not c:
            sys.exit(f"vm-boot: {name} idle guest did not start")
        buf += c
    time.sleep(0.3)
    rss = 0
    with open(f"/proc/{p.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    guest, cur_size = 0, 0
    biggest = (0, 0)
    with open(f"/proc/{p.pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5:
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                cur_size = hi - lo
            elif parts[0] == "Rss:" and cur_size > biggest[0]:
                biggest = (cur_size, int(parts[1]))
    guest = biggest[1]
    p.stdin.write(b"q")
    p.stdin.close()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    return rss, guest

for name in vmms:  # warm-up: page cache, KVM module state
    once(name)
res = {name: ([], []) for name in vmms}
for i in range(n):
    order = ["cabin", "qemu"] if i % 2 == 0 else ["qemu", "cabin"]
    for name in order:
        a, b = once(name)
        res[name][0].append(a)
        res[name][1].append(b)

load = open("/proc/loadavg").read().split()[:3]
print(f"# N={n} interleaved runs, ms (medians; min in brackets); load: {' '.join(load)}")
print(f"{'vmm':8} {'first byte':>18} {'exit':>18}")
for name in vmms:
    fb, ex = res[name]
    print(f"{name:8} {statistics.median(fb):10.1f} [{min(fb):5.1f}] {statistics.median(ex):10.1f} [{min(ex):5.1f}]")
print("# VMM memory with the guest idle: VmRSS - Rss of the guest RAM mapping, KiB")
mem = {}
for name in vmms:
    rss, guest = vmm_memory(name)
    mem[name] = rss - guest
    print(f"{name:8} VmRSS {rss:8d}  guest {guest:8d}  vmm {rss - guest:8d}")
print(f"memory ratio {mem['cabin'] / max(mem['qemu'], 1):.3f}")
print(f"ratio {statistics.median(res['cabin'][1]) / statistics.median(res['qemu'][1]):.3f}")
PY
