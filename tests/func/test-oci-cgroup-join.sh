#!/bin/bash
# The init is in the container's cgroup in every hierarchy from its start, however it got
# there: created in its cgroup2 directory by clone3(CLONE_INTO_CGROUP) and joining each
# v1 hierarchy itself, or, without clone3 (a seccomp filter makes it fail with ENOSYS,
# as before Linux 5.3), moved into cgroup2 by the runtime. Also through the double fork
# of a new time namespace (the init is forked by the first child), and on a pure cgroup2
# host (the v1 hierarchies unmounted in a private mount namespace). The caller stays in
# its own cgroup and nothing is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
[ -r /proc/self/cgroup ] || skip_all "no /proc/self/cgroup"
plan 10

PFX=secj$$
B=$T/b
mkbundle "$B"
args "$B" /init sleep 100
cfg "$B" "c['linux'].pop('resources', None)"
cleanup() {
	local c
	for c in $(rt list -q 2>/dev/null); do rt delete --force "$c"; done
}
at_exit cleanup
before=$(cat /proc/self/cgroup)

# placed ID MODE...: run ID detached (MODE: a wrapper such as `$INIT noclone3`) and print
# the lines of the init's /proc/PID/cgroup that do not name the container's cgroup
placed() {
	local id=$1 pid cgs
	shift
	"$@" "$CABIN" --root "$STATE" run -d --bundle "$B" "$id" >/dev/null 2>"$T/err" ||
		{ echo "run failed: $(cat "$T/err")"; return; }
	pid=$(json_get "$(rt state "$id")" pid)
	cgs=$(cat "/proc/$pid/cgroup" 2>/dev/null)
	[ -n "$cgs" ] || echo "no init"
	echo "$cgs" | grep -v "/$id\$"
	rt delete --force "$id"
}

out=$(placed $PFX-c3)
assert_eq "$out" "" "clone3: the init is in the container's cgroup in every hierarchy"
no_leftovers $PFX-c3 "clone3: delete leaves nothing"

out=$(placed $PFX-nc "$INIT" noclone3)
assert_eq "$out" "" "without clone3: the init is in the container's cgroup in every hierarchy"
no_leftovers $PFX-nc "without clone3: delete leaves nothing"

if [ -e /proc/self/ns/time ]; then
	cfg "$B" "c['linux']['namespaces'].append({'type': 'time'})"
	out=$(placed $PFX-tn)
	assert_eq "$out" "" "a new time namespace (init forked by the first child): placed too"
	out=$(placed $PFX-tn2 "$INIT" noclone3)
	assert_eq "$out" "" "  ... and without clone3"
	cfg "$B" "c['linux']['namespaces'] = [n for n in c['linux']['namespaces'] if n['type'] != 'time']"
else
	skip "no time namespaces on this kernel"
	skip "no time namespaces on this kernel"
fi

v2=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") break
	if ($(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | head -1)
if [ -n "$v2" ] && command -v unshare >/dev/null; then
	out=$(unshare -m bash -s "$CABIN" "$STATE" "$B" "$PFX-v2" <<'SH' 2>&1
CABIN=$1 STATE=$2 B=$3 ID=$4
for m in $(awk '{ for (i = 7; i < NF; i++) if ($i == "-") break
	if ($(i + 1) == "cgroup") print $5 }' /proc/self/mountinfo); do
	umount "$m" || exit 1
done
"$CABIN" --root "$STATE" run -d --bundle "$B" "$ID" >/dev/null || exit 1
pid=$("$CABIN" --root "$STATE" state "$ID" | python3 -c 'import json, sys; print(json.load(sys.stdin)["pid"])')
grep '^0::' "/proc/$pid/cgroup"
"$CABIN" --root "$STATE" delete --force "$ID"
SH
	)
	assert_eq "$out" "0::/$PFX-v2" "pure cgroup2: created in its cgroup by clone3"
	assert_eq "$(ls -d "$v2/$PFX-v2" 2>/dev/null)" "" "  ... removed by delete"
else
	skip "no cgroup2 mount"
	skip "no cgroup2 mount"
fi

assert_eq "$(cat /proc/self/cgroup)" "$before" "the caller is still in its own cgroups"
no_leftovers $PFX-c3 "nothing left of any of them"
