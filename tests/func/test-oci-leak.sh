#!/bin/bash
# 1,000 run cycles (create, start, wait, delete): afterwards no mount, cgroup, state entry,
# process or fd is left, and the runtime's own fd count does not grow.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 7
N=${CABIN_LEAK_CYCLES:-1000}

B=$T/b
mkbundle "$B"
args "$B" /init exit 0
t0=$EPOCHREALTIME
fails=0
for i in $(seq "$N"); do
	rt --log "$T/log" --debug run -b "$B" $PFX-$i >/dev/null || fails=$((fails + 1))
done
ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
echo "# $N run cycles in $ms ms ($((ms * 1000 / N)) us each)"
assert_eq "$fails" 0 "$N runs succeed"
assert_eq "$(ls "$STATE" | wc -l)" 0 "no state entries are left"
# (counting all mounts would see other users of the machine; ours all live under $T)
assert_eq "$(grep -c "$T/" /proc/self/mountinfo)" 0 "no mounts are left"
assert_eq "$(find /sys/fs/cgroup -maxdepth 8 -type d -name "$PFX-*" 2>/dev/null | wc -l)" 0 "no cgroups are left"
assert_eq "$(pgrep -f "$B" | wc -l)" 0 "no processes are left"
counts=$(grep -o '[0-9]* fds open at exit' "$T/log" | sort -u | wc -l)
assert_eq "$counts" 1 "the runtime's fd count is the same after every run"
assert_eq "$(grep -c 'fds open at exit' "$T/log")" "$N" "every run reported its fds"
done_testing
