#!/bin/bash
# test-guests.sh - run cabin's test guests (tests/guests/*.bin, 64 KiB firmware images) under
# every accelerator that `cabin vm run` offers here (kvm, emu), and under QEMU TCG as the
# reference machine when qemu-system-x86_64 is installed. Each run must print exactly
# tests/guests/<name>.expected on the serial port and exit with status 0 through port 0x501.
# When both kvm and emu run a guest, their --dump-regs files must be byte-identical.
#   CABIN_GUESTS="real16 long64"   run only these guests
#   CABIN_GUEST_ACCELS="kvm emu"    accelerators to try (default: kvm emu)
# shellcheck source=../func/lib.sh
. "$(dirname "$0")/../func/lib.sh"
G=$TOP/tests/guests
QEMU=${QEMU:-qemu-system-x86_64}
TIMEOUT=${CABIN_GUEST_TIMEOUT:-120}

# name:cpus:needs. needs: "hwvirt" when KVM's instruction emulator cannot run the guest
# (see below); "virtio" for the guest that needs a disk and an rng device; "noqemu" when
# QEMU TCG is no reference: it takes a fault after a task switch's commit point (a bad
# segment in the new TSS) at the old task's EIP and resumes the new task there, where the
# SDM (vol. 3 8.3) has it taken in the new task at the new task's first instruction.
ALL_GUESTS="real16:1: prot32:1: paging32:1:hwvirt paging32-pae:1:hwvirt swint32:1:hwvirt task32:1:hwvirt
taskfault32:1:hwvirt,noqemu long64:1: timer:1: smp2:2: smp3:3: smp4:4: compute-small:1: virtio:1:virtio"

[ -x "$CABIN" ] || skip_all "cabin is not built"
for g in $ALL_GUESTS; do
	[ -f "$G/${g%%:*}.bin" ] || skip_all "$G/${g%%:*}.bin is not built (make unit-tests)"
done

# Where /dev/kvm is the software KVM for nested guests (kvm_pvm: no vmx/svm in the CPU
# flags), KVM runs guest ring 0 through its instruction emulator, which implements
# IRET and INT n only in real mode and refuses CR0.PG outside long mode. The guests that
# need those run under KVM only with hardware virtualization.
hwvirt=0
grep -qwE 'vmx|svm' /proc/cpuinfo && hwvirt=1

# A disk image for the virtio guest: sector 0 holds a known pattern.
make_disk() {
	python3 - "$1" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(bytes((i * 7 + 3) & 0xff for i in range(512)))
    f.write(b"\0" * (64 * 1024 - 512))
EOF
}

# run_cabin ACCEL NAME CPUS OUTPREFIX: runs one guest; leaves OUT.serial, OUT.err, OUT.regs
# and prints the exit status.
run_cabin() {
	local accel=$1 name=$2 cpus=$3 out=$4 extra=()
	if [ "$name" = virtio ]; then
		make_disk "$out.disk"
		extra=(--disk "$out.disk")
		[ -n "$rng_opt" ] && extra+=("$rng_opt")
	fi
	timeout "$TIMEOUT" "$CABIN" vm run --firmware "$G/$name.bin" --accel "$accel" \
		--memory 16M --cpus "$cpus" --dump-regs "$out.regs" "${extra[@]}" \
		>"$out.serial" 2>"$out.err" </dev/null
	echo $?
}

# Does `cabin vm run --accel ACCEL` exist yet? Run the smallest guest; a refusal that
# names the option or the accelerator means "not there", anything else is a result.
accel_available() {
	local accel=$1 rc
	[ "$accel" = kvm ] && { [ -w /dev/kvm ] || return 1; }
	rc=$(run_cabin "$accel" real16 1 "$T/probe-$accel")
	[ "$rc" = 0 ] && return 0
	[ -s "$T/probe-$accel.serial" ] && return 0
	! grep -qiE "not available|unknown|unrecognized|unsupported|not supported|invalid option|usage" \
		"$T/probe-$accel.err"
}

rng_opt=
"$CABIN" vm run --help 2>&1 | grep -q -- '--rng' && rng_opt=--rng

accels=()
missing=()
for a in ${CABIN_GUEST_ACCELS:-kvm emu}; do
	if accel_available "$a"; then accels+=("$a"); else missing+=("$a"); fi
done
have_qemu=0
command -v "$QEMU" >/dev/null 2>&1 && have_qemu=1

guests=()
for g in $ALL_GUESTS; do
	if [ -n "${CABIN_GUESTS:-}" ]; then
		case " $CABIN_GUESTS " in *" ${g%%:*} "*) ;; *) continue ;; esac
	fi
	guests+=("$g")
done
[ ${#accels[@]} -gt 0 ] || [ $have_qemu = 1 ] ||
	skip_all "no accelerator: cabin vm run --accel kvm|emu unavailable and no $QEMU"

# Plan: per guest and accelerator one point for the output and one for the status; per
# guest one register comparison; per guest one QEMU reference run; one per missing accel;
# for the virtio guest one more per accelerator: its write reached the disk image.
n=$(( ${#guests[@]} * (2 * ${#accels[@]} + 1 + have_qemu) + ${#missing[@]} ))
case " ${guests[*]} " in *" virtio:"*) n=$((n + ${#accels[@]})) ;; esac
case " ${guests[*]} " in *" compute-small:"*) n=$((n + 1)) ;; esac
plan $n
for a in "${missing[@]}"; do
	skip "cabin vm run --accel $a is not available yet ($(head -c 200 "$T/probe-$a.err" 2>/dev/null | tr '\n' ' '))"
done

for g in "${guests[@]}"; do
	name=${g%%:*}
	if [ "$name" = compute-small ]; then
		# The same workload natively must print the same checksum.
		iters=$(sed -n 's/^compute: \([0-9]*\) iterations.*/\1/p' "$G/compute-small.expected")
		assert_eq "$("$G/compute-native" "$iters" 2>&1)" "$(cat "$G/compute-small.expected")" \
			"compute-native prints the guest's checksum"
	fi
	rest=${g#*:}
	cpus=${rest%%:*}
	needs=${rest#*:}
	expected=$(cat "$G/$name.expected")
	ran=()
	for a in "${accels[@]}"; do
		if [ "$a" = kvm ] && [[ $needs == *hwvirt* ]] && [ $hwvirt = 0 ]; then
			skip "$name under kvm: this KVM is software (no vmx/svm): its emulator lacks IRET/INT n/paging outside real or long mode"
			skip "$name under kvm: exit status (see above)"
			continue
		fi
		out=$T/$name-$a
		t0=$EPOCHREALTIME
		rc=$(run_cabin "$a" "$name" "$cpus" "$out")
		ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
		echo "# $name under $a: ${ms} ms, status $rc"
		assert_eq "$(cat "$out.serial")" "$expected" "$name under $a: serial output"
		if ! assert_eq "$rc" 0 "$name under $a: exit status"; then
			sed 's/^/#   stderr: /' "$out.err" | head -n 20
		fi
		if [ "$needs" = virtio ]; then
			assert_eq "$(head -c 27 <(tail -c +513 "$out.disk" 2>/dev/null))" \
				"cabin virtio-blk write test" "$name under $a: sector 1 written to the disk image"
		fi
		[ "$rc" = 0 ] && ran+=("$a")
	done
	if [ ${#ran[@]} -eq 2 ]; then
		if cmp -s "$T/$name-${ran[0]}.regs" "$T/$name-${ran[1]}.regs" &&
			[ -s "$T/$name-${ran[0]}.regs" ]; then
			_ok 0 "$name: final registers equal under ${ran[0]} and ${ran[1]}"
		else
			_ok 1 "$name: final registers equal under ${ran[0]} and ${ran[1]}"
			diff "$T/$name-${ran[0]}.regs" "$T/$name-${ran[1]}.regs" | sed 's/^/#   /' | head -n 40
		fi
	else
		skip "$name: register comparison needs kvm and emu (ran: ${ran[*]:-none})"
	fi
	if [ $have_qemu = 1 ] && [[ $needs == *noqemu* ]]; then
		skip "$name under qemu tcg: no reference (faults after a task switch's commit point)"
	elif [ $have_qemu = 1 ]; then
		# QEMU's isa-debug-exit exits with (N << 1) | 1: status 1 is the guest's 0.
		# Its microvm transports are modern only with force-legacy=false; the guest
		# finds them at QEMU's address when cabin's slots are empty.
		out=$T/$name-qemu
		qextra=()
		if [ "$needs" = virtio ]; then
			make_disk "$out.disk"
			qextra=(-global virtio-mmio.force-legacy=false
				-drive "id=d0,file=$out.disk,format=raw,if=none"
				-device virtio-blk-device,drive=d0 -device virtio-rng-device)
		fi
		timeout "$TIMEOUT" "$QEMU" -M microvm,acpi=off -accel tcg -smp "$cpus" -m 16M \
			-bios "$G/$name.bin" -nodefaults -display none -serial stdio \
			-device isa-debug-exit,iobase=0x501,iosize=1 "${qextra[@]}" \
			>"$out.serial" 2>"$out.err" </dev/null
		rc=$?
		if [ "$rc" = 1 ] && [ "$(cat "$out.serial")" = "$expected" ]; then
			_ok 0 "$name under qemu tcg (reference): output and status"
		else
			_ok 1 "$name under qemu tcg (reference): output and status (status $rc)"
			diff <(echo "$expected") "$out.serial" | sed 's/^/#   /' | head -n 20
		fi
	fi
done
done_testing
