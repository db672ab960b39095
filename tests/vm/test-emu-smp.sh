#!/bin/bash
# test-emu-smp.sh - several vCPUs on the software CPU (--accel emu): INIT and SIPIs sent
# back to back start an AP, an AP never started counts as halted so a BSP ending with
# "cli; hlt" ends the VM with 0, and the machine does not end between a SIPI and the
# started AP's first instruction. The expectations are what `--accel kvm` gives.
. "$(dirname "$0")/../func/lib.sh"

G=$TOP/tests/vm/guests
make -s -C "$TOP" tests/vm/guests/smp.bin tests/vm/guests/halt.bin tests/vm/guests/hello.bin \
	>/dev/null || skip_all "cannot assemble the test guests (gcc -m32, ld, objcopy)"
ROOT=$T/root
ROUNDS=10

plan 15

vmrun() { # vmrun ARGS... : sets $out, $rc, $secs
	local t0=$SECONDS

	timeout 20 "$CABIN" --root "$ROOT" vm run --accel emu "$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	secs=$((SECONDS - t0))
	out=$(cat "$T/out")
}

vmrun --firmware "$G/smp.bin" --cpus 2
assert_eq "$rc" 17 "INIT then SIPI with no delay starts the second vCPU"
assert_eq "$out" "$(printf 'BSP sends INIT-SIPI\nAP up')" "BSP and AP output"
[ "$secs" -le 5 ]
_ok $? "smp.bin ends at once (${secs}s)"

# Whether the AP takes the INIT before or after the SIPI arrives is up to the host
# scheduler: repeat so both orders are seen.
bad=0
for i in $(seq $ROUNDS); do
	vmrun --firmware "$G/smp.bin" --cpus 2
	[ "$rc" = 17 ] || bad=$((bad + 1))
done
assert_eq "$bad" 0 "smp.bin started the AP in $ROUNDS of $ROUNDS runs"

vmrun --firmware "$G/smp.bin" --cpus 3
assert_eq "$rc" 17 "three vCPUs: the one started AP runs, the other waits"
assert_contains "$out" "AP up" "three vCPUs: AP output"

vmrun --firmware "$G/halt.bin" --cpus 2
assert_eq "$rc" 252 "two vCPUs: BSP halted and AP never started end the VM with 252"
assert_eq "$out" "halting" "halt.bin output"
[ "$secs" -le 5 ]
_ok $? "halt.bin with an AP never started ends at once (${secs}s)"

vmrun --firmware "$G/halt.bin" --cpus 4
assert_eq "$rc" 252 "four vCPUs: three APs never started, BSP halted: status 252"

vmrun --firmware "$G/halt.bin" --cpus 1
assert_eq "$rc" 252 "one vCPU: halt ends the VM with 252"

vmrun --firmware "$G/smp.bin" --cpus 1
assert_eq "$rc" 252 "one vCPU: the IPIs go nowhere and the halted BSP ends the VM"
assert_eq "$out" "BSP sends INIT-SIPI" "one vCPU: no AP output"

vmrun --firmware "$G/hello.bin" --cpus 3
assert_eq "$rc" 42 "three vCPUs: the BSP runs, the APs wait for a SIPI"
assert_contains "$out" "hello from the test firmware" "hello.bin output with idle APs"
