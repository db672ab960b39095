#!/bin/bash
# run.sh - run cabin's test suites and summarise their TAP output.
#   tests/run.sh [unit|func|vm]...   (default: all)
# Each test program prints TAP; exit status 77 with no results means "skipped".
# The last line is always: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.." || exit 1
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(unit func vm)

pass=0 fail=0 skip=0
declare -a failed_names=() skipped_names=()
out=$(mktemp -d /tmp/cabin-tests.XXXXXX)
trap 'rm -rf "$out"' EXIT

run_one() { # run_one NAME CMD...
	local name=$1 log="$out/$(echo "$1" | tr / _).log" rc p=0 f=0 s=0 planned=-1 line
	shift
	local t0=$EPOCHREALTIME
	timeout "${CABIN_TEST_TIMEOUT:-900}" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"not ok"*) f=$((f + 1)); echo "  $name: $line" ;;
		ok*"# SKIP"* | ok*"# skip"*) s=$((s + 1)); skipped_names+=("$name: ${line#*# [Ss][Kk][Ii][Pp]}") ;;
		ok*) p=$((p + 1)) ;;
		1..*) planned=${line#1..}; planned=${planned%% *} ;;
		esac
	done <"$log"
	if [ $rc -eq 77 ] && [ $((p + f + s)) -eq 0 ]; then
		s=1
		skipped_names+=("$name: $(grep -m1 -iE 'skip' "$log" | sed 's/^# *//')")
	elif [ $rc -ne 0 ] && [ $f -eq 0 ]; then
		f=1
		echo "  $name: exited with status $rc"
	elif [ "$planned" -ge 0 ] && [ $((p + f + s)) -ne "$planned" ] 2>/dev/null; then
		f=$((f + 1))
		echo "  $name: planned $planned tests, ran $((p + f + s - 1))"
	fi
	local ms
	ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
	printf '%-6s %-44s %4d passed %3d failed %3d skipped  %6d ms\n' \
		"$([ $f -eq 0 ] && echo PASS || echo FAIL)" "$name" $p $f $s $ms
	if [ $f -ne 0 ]; then
		failed_names+=("$name")
		[ -n "${CABIN_TESTS_VERBOSE:-}" ] && sed 's/^/    | /' "$log"
		cp "$log" "${CABIN_TEST_LOGDIR:-/tmp}/cabin-test-$(echo "$name" | tr / _).log" 2>/dev/null
	fi
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
}

for suite in "${suites[@]}"; do
	case $suite in
	unit)
		for t in tests/unit/test-*; do
			[ -x "$t" ] && [ "${t%.c}" = "$t" ] || continue
			run_one "$t" "$t"
		done
		;;
	func | vm)
		for t in tests/$suite/test-*.sh; do
			[ -e "$t" ] || continue
			run_one "$t" bash "$t"
		done
		;;
	*) echo "run.sh: unknown suite $suite" >&2; exit 2 ;;
	esac
done

if [ ${#skipped_names[@]} -gt 0 ]; then
	echo "skipped:"
	printf '  %s\n' "${skipped_names[@]}"
fi
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed (logs in ${CABIN_TEST_LOGDIR:-/tmp}/cabin-test-*.log):"
	printf '  %s\n' "${failed_names[@]}"
fi
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
