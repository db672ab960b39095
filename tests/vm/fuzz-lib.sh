# shellcheck shell=bash
# fuzz-lib.sh - running a libFuzzer target from a test (sourced after ../func/lib.sh).

# fuzz_run FUZZER SEEDS SECS MAX_LEN MIN_RUNS WHAT: run FUZZER for SECS seconds from the
# committed seeds in the directory SEEDS, which are only read (new inputs go to a scratch
# corpus). Three TAP points: it exits 0 (no WHAT: a crash, sanitizer report or leak), it
# left no artifact, and it executed more than MIN_RUNS inputs. On a failure the report is
# shown and the failing inputs are kept in /tmp.
fuzz_run() {
	local fuzz=$1 seeds=$2 secs=$3 maxlen=$4 min=$5 what=$6 name rc runs
	name=$(basename "$fuzz")
	mkdir -p "$T/$name/corpus" "$T/$name/artifacts"
	"$fuzz" -max_total_time="$secs" -max_len="$maxlen" -timeout=20 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$T/$name/artifacts/" \
		"$T/$name/corpus" "$seeds" >"$T/$name/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/$name/log")
	sed -n 's/^/# /; /^# #[0-9]*.*DONE/p; /^# stat::/p' "$T/$name/log"
	assert_eq "$rc" 0 "fuzzer ran ${secs}s without $what (exit $rc)"
	ok "no crash artifacts" test -z "$(ls -A "$T/$name/artifacts")"
	ok "executed inputs ($runs)" test "${runs:-0}" -gt "$min"
	if [ "$rc" != 0 ]; then
		grep -m1 -B2 -A25 -E 'differ|ERROR|runtime error|deadly signal' "$T/$name/log" |
			sed 's/^/# /'
		cp -r "$T/$name/artifacts" "/tmp/cabin-$name-artifacts.$$" 2>/dev/null &&
			echo "# failing inputs kept in /tmp/cabin-$name-artifacts.$$"
	fi
}
