#!/bin/bash
# The cgroup v2 manager on any host with a cgroup2 mount: in a private mount namespace
# without the v1 hierarchies, cabin sees a pure v2 host (a hybrid one has cgroup2 too),
# and run, ps, pause, resume, events --stats, kill --all and delete go through cgroup2
# only: cgroup.procs, cgroup.freeze, cpu.stat, cgroup.kill.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
require_cmd unshare
v2=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") break
	if ($(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | head -1)
[ -n "$v2" ] || skip_all "no cgroup2 mount"
plan 7

PFX=secv$$
B=$T/b
mkbundle "$B"
args "$B" /init sleep 100
cfg "$B" "c['linux']['cgroupsPath']='/$PFX-cg'; c['linux'].pop('resources', None)"
cleanup() { rmdir "$v2/$PFX-cg" 2>/dev/null; }
at_exit cleanup

# every step in one namespace: the v1 hierarchies unmounted there only
unshare -m bash -s "$CABIN" "$STATE" "$B" "$PFX" "$v2" >"$T/out" 2>&1 <<'EOF'
CABIN=$1 STATE=$2 B=$3 PFX=$4 v2=$5
rt() { "$CABIN" --root "$STATE" "$@"; }
for m in $(awk '{ for (i = 7; i < NF; i++) if ($i == "-") break
	if ($(i + 1) == "cgroup") print $5 }' /proc/self/mountinfo); do
	umount "$m" || exit 1
done
rt run -d --bundle "$B" $PFX-c >/dev/null && echo "run ok"
[ -d "$v2/$PFX-cg" ] && echo "dir ok"
echo "ps $(rt ps $PFX-c | tail -n +2 | wc -l)"
rt pause $PFX-c && echo "paused $(cat "$v2/$PFX-cg/cgroup.freeze") $(rt state $PFX-c | grep -o '"status": *"[a-z]*"' | grep -o '[a-z]*"$')"
rt resume $PFX-c && echo "resumed $(cat "$v2/$PFX-cg/cgroup.freeze")"
rt events --stats $PFX-c | grep -q '"cpu":{"usage":{"total":[0-9]' && echo "stats ok"
rt kill --all $PFX-c KILL
for _ in $(seq 50); do [ "$(cat "$v2/$PFX-cg/cgroup.procs" 2>/dev/null)" = "" ] && break; sleep 0.1; done
rt delete $PFX-c && [ ! -e "$v2/$PFX-cg" ] && echo "deleted ok"
EOF
out=$(cat "$T/out")
assert_contains "$out" "run ok" "run -d as on a pure v2 host"
assert_contains "$out" "dir ok" "the container's cgroup is made in cgroup2"
assert_contains "$out" "ps 1" "ps lists the init from cgroup2's cgroup.procs"
assert_contains "$out" "paused 1 paused" "pause writes cgroup.freeze, state says paused"
assert_contains "$out" "resumed 0" "resume thaws it"
assert_contains "$out" "stats ok" "events --stats reads cpu.stat"
assert_contains "$out" "deleted ok" "kill --all and delete remove the cgroup"

done_testing
