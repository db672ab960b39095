# lib.sh - TAP helpers for functional tests (source it; bash).
#   plan N | ok COND-CMD... | assert_eq A B MSG | assert_contains HAY NEEDLE MSG
#   skip_all REASON          skip the whole file (exit 77); a failure when
#                            CABIN_TESTS_MUST_RUN=1, since the machine should have it
#   skip_all_machine REASON  skip the whole file for what this kind of machine cannot
#                            have (e.g. hardware virtualization): allowed even in CI
#   skip REASON              one skipped test point
# Every test runs with the built ./cabin as $CABIN and a scratch dir $T (removed on exit).
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CABIN=${CABIN:-$TOP/cabin}
_tap_n=0
_tap_fail=0
T=$(mktemp -d /tmp/cabin-func.XXXXXX)
_cleanup_fns=()

# user_cabin: a path to the cabin binary that an unprivileged user (nobody) can run. The
# source tree may be where nobody cannot go (/root/cabin on a fresh machine): then a copy
# in $T is used.
user_cabin() {
	if setpriv --reuid 65534 --regid 65534 --clear-groups test -x "$CABIN" 2>/dev/null; then
		echo "$CABIN"
		return
	fi
	mkdir -p "$T/ubin" && cp "$CABIN" "$T/ubin/cabin" &&
		chmod 755 "$T" "$T/ubin" "$T/ubin/cabin" && echo "$T/ubin/cabin"
}
_tap_exit() {
	local f
	for f in "${_cleanup_fns[@]}"; do $f >/dev/null 2>&1; done
	rm -rf --one-file-system "$T"
}
trap _tap_exit EXIT
at_exit() { _cleanup_fns+=("$1"); }

plan() { echo "1..$1"; }
_ok() { # _ok STATUS MSG
	_tap_n=$((_tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $_tap_n - $2"
	else
		echo "not ok $_tap_n - $2"
		_tap_fail=$((_tap_fail + 1))
	fi
}
# ok MSG CMD...: passes when CMD succeeds
ok() {
	local msg=$1
	shift
	"$@"
	_ok $? "$msg"
}
# nok MSG CMD...: passes when CMD fails
nok() {
	local msg=$1
	shift
	! "$@"
	_ok $? "$msg"
}
assert_eq() {
	if [ "$1" = "$2" ]; then _ok 0 "$3"; else
		_ok 1 "$3"
		echo "#   expected: $(printf %q "$2")"
		echo "#   got:      $(printf %q "$1")"
	fi
}
assert_contains() {
	case "$1" in *"$2"*) _ok 0 "$3" ;; *)
		_ok 1 "$3"
		echo "#   expected to contain: $2"
		echo "#   got: $(printf %q "$1" | head -c 600)"
		;;
	esac
}
assert_not_contains() {
	case "$1" in *"$2"*)
		_ok 1 "$3"
		echo "#   must not contain: $2"
		;;
	*) _ok 0 "$3" ;; esac
}
skip() {
	_tap_n=$((_tap_n + 1))
	echo "ok $_tap_n # SKIP $*"
}
skip_all() {
	if [ "${CABIN_TESTS_MUST_RUN:-0}" = 1 ]; then
		echo "1..1"
		echo "not ok 1 - required but missing: $*"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 77
}
skip_all_machine() {
	echo "1..0 # SKIP $*"
	exit 77
}
require_root() { [ "$(id -u)" = 0 ] || skip_all "needs root"; }
require_cmd() {
	local c
	for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip_all "needs $c"; done
}
done_testing() { exit $((_tap_fail > 0)); }
