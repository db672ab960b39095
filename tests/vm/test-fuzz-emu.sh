#!/bin/bash
# test-fuzz-emu.sh - the differential fuzzer of the software CPU (tests/fuzz/fuzz-emu.c:
# host code of decoded blocks against the interpreter) for a few seconds from the
# committed seeds; a difference, crash or sanitizer report fails the test.
# CABIN_FUZZ_EMU_SECONDS overrides the time (long runs: see tests/fuzz/fuzz-emu.c).
. "$(dirname "$0")/../func/lib.sh"

FUZZ=$TOP/tests/fuzz/fuzz-emu
SECS=${CABIN_FUZZ_EMU_SECONDS:-8}
[ -x "$FUZZ" ] || skip_all "tests/fuzz/fuzz-emu not built (needs clang and libclang-rt-14-dev on x86-64)"

plan 4
mkdir -p "$T/corpus" "$T/artifacts"
# every seed alone first: each must run the same on both sides
"$FUZZ" "$TOP"/tests/fuzz/corpus-emu/* >"$T/seeds" 2>&1
assert_eq "$?" 0 "the $(ls "$TOP/tests/fuzz/corpus-emu" | wc -l) seeds run the same with and without the JIT"
# New inputs go to the scratch corpus; the committed seeds are only read.
"$FUZZ" -max_total_time="$SECS" -max_len=512 -timeout=20 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$T/artifacts/" \
	"$T/corpus" "$TOP/tests/fuzz/corpus-emu" >"$T/log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/log")
sed -n 's/^/# /; /^# #[0-9]*.*DONE/p; /^# stat::/p' "$T/log"
assert_eq "$rc" 0 "fuzzer ran ${SECS}s without a difference or crash (exit $rc)"
ok "no crash artifacts" test -z "$(ls -A "$T/artifacts")"
ok "executed inputs ($runs)" test "${runs:-0}" -gt 200
if [ "$rc" != 0 ]; then
	grep -m1 -B2 -A25 -E 'differ|ERROR|runtime error|deadly signal' "$T/log" | sed 's/^/# /'
	cp -r "$T/artifacts" "/tmp/cabin-fuzz-emu-artifacts.$$" 2>/dev/null &&
		echo "# inputs kept in /tmp/cabin-fuzz-emu-artifacts.$$"
fi
[ "$_tap_fail" -eq 0 ]
