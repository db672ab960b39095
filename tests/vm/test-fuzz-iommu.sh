#!/bin/bash
# test-fuzz-iommu.sh - run the PCI/edu/VT-d libFuzzer target for a bounded time from its
# seeds (tests/fuzz/corpus-iommu, written by mkseeds-iommu.py); any crash, sanitizer
# report or leak fails the test. CABIN_FUZZ_SECONDS overrides the time.
. "$(dirname "$0")/../func/lib.sh"

FUZZ=$TOP/tests/fuzz/fuzz-iommu
SECS=${CABIN_FUZZ_SECONDS:-15}
[ -x "$FUZZ" ] || skip_all "tests/fuzz/fuzz-iommu not built (needs clang and libclang-rt-14-dev)"

plan 3
mkdir -p "$T/corpus" "$T/artifacts"
"$FUZZ" -max_total_time="$SECS" -max_len=4096 -timeout=20 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$T/artifacts/" \
	"$T/corpus" "$TOP/tests/fuzz/corpus-iommu" >"$T/log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/log")
sed -n 's/^/# /; /^# #[0-9]*.*DONE/p; /^# stat::/p' "$T/log"
assert_eq "$rc" 0 "fuzzer ran ${SECS}s without a crash (exit $rc)"
ok "no crash artifacts" test -z "$(ls -A "$T/artifacts")"
ok "executed inputs ($runs)" test "${runs:-0}" -gt 1000
if [ "$rc" != 0 ]; then
	grep -m1 -B2 -A25 -E 'ERROR|runtime error|deadly signal' "$T/log" | sed 's/^/# /'
	cp -r "$T/artifacts" "/tmp/cabin-fuzz-iommu-artifacts.$$" 2>/dev/null &&
		echo "# crash inputs kept in /tmp/cabin-fuzz-iommu-artifacts.$$"
fi
[ "$_tap_fail" -eq 0 ]
