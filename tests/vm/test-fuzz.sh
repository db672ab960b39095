#!/bin/bash
# test-fuzz.sh - run the virtio libFuzzer target for a bounded time; any crash,
# sanitizer report or leak fails the test. CABIN_FUZZ_SECONDS overrides the time.
. "$(dirname "$0")/../func/lib.sh"
# shellcheck source=fuzz-lib.sh
. "$(dirname "$0")/fuzz-lib.sh"

FUZZ=$TOP/tests/fuzz/fuzz-virtio
SECS=${CABIN_FUZZ_SECONDS:-30}
[ -x "$FUZZ" ] || skip_all "tests/fuzz/fuzz-virtio not built (needs clang and libclang-rt-14-dev)"

plan 3
fuzz_run "$FUZZ" "$TOP/tests/fuzz/corpus" "$SECS" 4096 1000 "a crash"
[ "$_tap_fail" -eq 0 ]
