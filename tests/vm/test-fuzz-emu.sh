#!/bin/bash
# test-fuzz-emu.sh - the differential fuzzer of the software CPU (tests/fuzz/fuzz-emu.c:
# host code of decoded blocks against the interpreter) for a few seconds from the
# committed seeds; a difference, crash or sanitizer report fails the test.
# CABIN_FUZZ_EMU_SECONDS overrides the time (long runs: see tests/fuzz/fuzz-emu.c).
. "$(dirname "$0")/../func/lib.sh"
# shellcheck source=fuzz-lib.sh
. "$(dirname "$0")/fuzz-lib.sh"

FUZZ=$TOP/tests/fuzz/fuzz-emu
SECS=${CABIN_FUZZ_EMU_SECONDS:-8}
[ -x "$FUZZ" ] || skip_all "tests/fuzz/fuzz-emu not built (needs clang and libclang-rt-14-dev on x86-64)"

plan 4
# every seed alone first: each must run the same on both sides
"$FUZZ" "$TOP"/tests/fuzz/corpus-emu/* >"$T/seeds" 2>&1
assert_eq "$?" 0 "the $(ls "$TOP/tests/fuzz/corpus-emu" | wc -l) seeds run the same with and without the JIT"
fuzz_run "$FUZZ" "$TOP/tests/fuzz/corpus-emu" "$SECS" 512 200 "a difference or crash"
[ "$_tap_fail" -eq 0 ]
