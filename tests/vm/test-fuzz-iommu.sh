#!/bin/bash
# test-fuzz-iommu.sh - run the PCI/edu/VT-d libFuzzer target for a bounded time from its
# seeds (tests/fuzz/corpus-iommu, written by mkseeds-iommu.py); any crash, sanitizer
# report or leak fails the test. CABIN_FUZZ_SECONDS overrides the time.
. "$(dirname "$0")/../func/lib.sh"
# shellcheck source=fuzz-lib.sh
. "$(dirname "$0")/fuzz-lib.sh"

FUZZ=$TOP/tests/fuzz/fuzz-iommu
SECS=${CABIN_FUZZ_SECONDS:-15}
[ -x "$FUZZ" ] || skip_all "tests/fuzz/fuzz-iommu not built (needs clang and libclang-rt-14-dev)"

plan 3
fuzz_run "$FUZZ" "$TOP/tests/fuzz/corpus-iommu" "$SECS" 4096 1000 "a crash"
[ "$_tap_fail" -eq 0 ]
