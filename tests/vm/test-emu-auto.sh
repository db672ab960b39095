#!/bin/bash
# test-emu-auto.sh - with /dev/kvm hidden (a private mount namespace binds /dev/null over
# it), `cabin vm run --accel auto` must choose the software CPU, say so on stderr, and
# run a test guest to the same output as always.
. "$(dirname "$0")/../func/lib.sh"

require_root
require_cmd unshare
G=$TOP/tests/guests
make -s -C "$TOP" tests/guests/real16.bin tests/guests/long64.bin >/dev/null ||
	skip_all "cannot build the test guests"

plan 7

run_hidden() { # run_hidden GUEST: output in $T/out, stderr in $T/err, status in $rc
	unshare -m /bin/bash -c '
		mount --make-rprivate / 2>/dev/null
		if [ -e /dev/kvm ]; then
			mount --bind /dev/null /dev/kvm || exit 99
		fi
		exec "$@"' hide "$CABIN" vm run --accel auto --memory 16M --firmware "$G/$1.bin" \
		>"$T/out" 2>"$T/err" </dev/null
	rc=$?
}

run_hidden real16
[ "$rc" = 99 ] && skip_all "cannot bind-mount over /dev/kvm here"
assert_eq "$rc" 0 "real16 with /dev/kvm hidden: exit status"
assert_contains "$(cat "$T/err")" "accelerator emu" "auto chose emu and said so"
assert_eq "$(cat "$T/out")" "$(cat "$G/real16.expected")" "real16 output under auto/emu"

run_hidden long64
assert_eq "$rc" 0 "long64 with /dev/kvm hidden: exit status"
assert_contains "$(cat "$T/err")" "accelerator emu" "auto chose emu for long64"
assert_eq "$(cat "$T/out")" "$(cat "$G/long64.expected")" "long64 output under auto/emu"

# --accel kvm cannot work with /dev/kvm hidden: it must fail with a reason, not run
unshare -m /bin/bash -c '
	mount --make-rprivate / 2>/dev/null
	[ -e /dev/kvm ] && mount --bind /dev/null /dev/kvm
	exec "$@"' hide "$CABIN" vm run --accel kvm --memory 16M --firmware "$G/real16.bin" \
	>"$T/out" 2>"$T/err" </dev/null
rc=$?
if [ "$rc" != 0 ] && grep -qi kvm "$T/err"; then
	ok "--accel kvm with /dev/kvm hidden fails naming kvm"
else
	nok "--accel kvm with /dev/kvm hidden fails naming kvm (status $rc: $(head -c 200 "$T/err"))"
fi
done_testing
