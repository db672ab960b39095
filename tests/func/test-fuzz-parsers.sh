#!/bin/bash
# test-fuzz-parsers.sh - run each libFuzzer target of the parsers that take hostile input
# (tests/fuzz/fuzz-{layer,registry,user,boot,spec}) on its seed corpus (tests/fuzz/seeds/NAME,
# written by mkseeds.py, with the inputs that crashed cabin once; seeds/NAME.dict is its
# dictionary when there is one) and then for a few seconds of fuzzing. Any crash, sanitizer report, leak or escaped write fails the test.
# The layer and user targets run a second time with openat2 failing (ENOSYS), through
# the fallback path walker. CABIN_FUZZ_SECONDS sets the time of each run (default 5);
# longer runs: tests/fuzz/README.md.
. "$(dirname "$0")/lib.sh"

SECS=${CABIN_FUZZ_SECONDS:-5}
RUNS="layer registry user boot spec layer:no-openat2 user:no-openat2"
[ -x "$TOP/tests/fuzz/fuzz-layer" ] ||
	skip_all "tests/fuzz/fuzz-* not built (needs clang and libclang-rt-14-dev)"

plan 14
for run in $RUNS; do
	name=${run%%:*}
	mkdir -p "$T/$run/corpus" "$T/$run/artifacts"
	env=()
	[ "$run" != "${run#*:no-openat2}" ] && env=(CABIN_FUZZ_NO_OPENAT2=1)
	dict=()
	[ -f "$TOP/tests/fuzz/seeds/$name.dict" ] && dict=(-dict="$TOP/tests/fuzz/seeds/$name.dict")
	# New inputs go to the scratch corpus; the committed seeds are only read. A finding
	# exits 99: libFuzzer's default, 77, is the skip status of sandbox.h.
	(cd "$T/$run" && env "${env[@]}" "$TOP/tests/fuzz/fuzz-$name" -max_total_time="$SECS" \
		"${dict[@]}" -max_len=4096 -timeout=20 -error_exitcode=99 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$T/$run/artifacts/" "$T/$run/corpus" \
		"$TOP/tests/fuzz/seeds/$name") >"$T/$run/log" 2>&1
	rc=$?
	if [ $rc = 77 ]; then
		skip "fuzz-$run: $(grep -m1 SKIP "$T/$run/log")"
		skip "fuzz-$run: not run"
		continue
	fi
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/$run/log")
	sed -n 's/^/# /; /^# #[0-9]*.*DONE/p' "$T/$run/log"
	ok "fuzz-$run: seeds and ${SECS}s of fuzzing without a finding (exit $rc)" \
		test "$rc" = 0 -a -z "$(ls -A "$T/$run/artifacts")"
	ok "fuzz-$run: executed inputs (${runs:-0})" test "${runs:-0}" -gt 100
	if [ "$rc" != 0 ]; then
		grep -m1 -B2 -A25 -E 'ERROR|FINDING|runtime error|deadly signal' "$T/$run/log" |
			sed 's/^/# /'
		cp -r "$T/$run/artifacts" "/tmp/cabin-fuzz-$run.$$" 2>/dev/null &&
			echo "# inputs kept in /tmp/cabin-fuzz-$run.$$"
	fi
done
[ "$_tap_fail" -eq 0 ]
