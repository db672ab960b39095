#!/bin/bash
# Bad input and faults: each is one clear error line, a non-zero exit, and nothing left
# behind (no state entry, mount, cgroup or process).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 58

B=$T/b
mkbundle "$B"

# expect_fail ID MSG NEEDLE CMD...: fails, with one stderr line containing NEEDLE
expect_fail() {
	local id=$1 msg=$2 needle=$3 out rc
	shift 3
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	_ok $((rc == 0)) "$msg: fails"
	assert_contains "$out" "$needle" "$msg: error names the problem"
	assert_eq "$(printf '%s\n' "$out" | wc -l)" 1 "$msg: one line"
	[ -n "$id" ] && no_leftovers "$id" "$msg: nothing left behind"
}

# config.json mistakes, caught before anything exists
cp "$B/config.json" "$T/good.json"
cfg "$B" 'c["process"]["args"]=[]'
expect_fail $PFX-1 "empty process.args" 'config.json: `process.args` must be a non-empty array of strings' rt create -b "$B" $PFX-1
cp "$T/good.json" "$B/config.json"
cfg "$B" 'c["linux"]["namespaces"].append({"type":"bogus"})'
expect_fail $PFX-2 "unknown namespace" 'unknown namespace type `bogus`' rt create -b "$B" $PFX-2
cp "$T/good.json" "$B/config.json"
echo '{"ociVersion": "1.2.0", "root": ' >"$B/config.json"
expect_fail $PFX-3 "invalid JSON" 'config.json: invalid JSON at line' rt create -b "$B" $PFX-3
cp "$T/good.json" "$B/config.json"
cfg "$B" 'c["root"]["path"]="nope"'
expect_fail $PFX-4 "missing rootfs" '`root.path`' rt create -b "$B" $PFX-4
cp "$T/good.json" "$B/config.json"
# nothing mounted inside /proc but lxcfs's files, nothing but proc on /proc (as runc)
cfg "$B" 'c["mounts"].append({"destination":"/proc/./sys/../sys/kernel","type":"tmpfs","source":"tmpfs"})'
expect_fail $PFX-4p "a mount inside /proc" '`mounts[7].destination` `/proc/./sys/../sys/kernel` is inside /proc' \
	rt create -b "$B" $PFX-4p
cp "$T/good.json" "$B/config.json"
cfg "$B" 'c["mounts"].append({"destination":"/proc/","type":"tmpfs","source":"tmpfs"})'
expect_fail $PFX-4q "a tmpfs on /proc" 'only a mount of type proc may be mounted there' rt create -b "$B" $PFX-4q
cp "$T/good.json" "$B/config.json"
cfg "$B" 'c["mounts"].append({"destination":"/proc/cpuinfo","type":"bind","source":"/proc/cpuinfo","options":["bind"]})
c["mounts"].append({"destination":"/proc","type":"bind","source":"/proc","options":["rbind"]})
c["process"]["args"]=["/init","echo","ok"]'
ok "lxcfs's files inside /proc and a bind of a procfs on /proc are accepted" rt run -b "$B" $PFX-4r
rt delete -f $PFX-4r
cp "$T/good.json" "$B/config.json"

# failures inside the container init come back as one line too
cfg "$B" 'c["mounts"].append({"destination":"/mnt","type":"bind","source":"/nonexistent-'$PFX'","options":["bind"]})'
expect_fail $PFX-5 "missing bind source" 'nonexistent-' rt create -b "$B" $PFX-5
cp "$T/good.json" "$B/config.json"
cfg "$B" 'c["mounts"].append({"destination":"/mnt","type":"nosuchfs","source":"x"})'
expect_fail $PFX-6 "unknown filesystem" 'mount `x` (nosuchfs) on `/mnt`' rt create -b "$B" $PFX-6
cp "$T/good.json" "$B/config.json"
# a limit only the kernel refuses, written once the init exists (the v1 hierarchies are
# made while it builds its filesystem): the init that waits to join them goes too
if ls /sys/fs/cgroup/cpuset.cpus.effective /sys/fs/cgroup/*/cpuset.cpus 2>/dev/null | grep -q .; then
	cfg "$B" 'c["linux"].setdefault("resources", {})["cpu"]={"cpus":"4095"}'
	expect_fail $PFX-cpus "cpuset.cpus naming no CPU" 'linux.resources.cpu.cpus: write `4095`' \
		rt run -b "$B" $PFX-cpus
	cp "$T/good.json" "$B/config.json"
else
	for _ in 1 2 3 4; do skip "no cpuset controller"; done
fi
args "$B" no-such-program
expect_fail $PFX-7 "missing executable" 'executable file `no-such-program` not found' rt run -b "$B" $PFX-7
cp "$T/good.json" "$B/config.json"

# ids
expect_fail "" "invalid id" 'invalid container id `../x`' rt create -b "$B" ../x
expect_fail "" "unknown id" "container \`$PFX-none\` does not exist" rt state $PFX-none
nok "delete of an unknown id fails" rt delete $PFX-none
args "$B" /init sleep 1000
rt create -b "$B" $PFX-dup
expect_fail "" "duplicate id" "container \`$PFX-dup\` already exists" rt create -b "$B" $PFX-dup
assert_eq "$(json_get "$(rt state $PFX-dup)" status)" created "the first container is untouched"
nok "delete of a created container needs --force" rt delete $PFX-dup
ok "delete --force of a created container" rt delete --force $PFX-dup
no_leftovers $PFX-dup "delete of a created container leaves nothing"

# the runtime SIGKILLed in the middle of create: delete --force cleans up
cfg "$B" 'c["hooks"]={"createRuntime":[{"path":"/bin/sh","args":["sh","-c","echo $$ >'"$T"'/hookpid; exec sleep 30"]}]}'
(exec "$CABIN" --root "$STATE" create -b "$B" $PFX-k) &
rpid=$!
for _ in $(seq 100); do [ -s "$T/hookpid" ] && break; sleep 0.05; done
kill -KILL $rpid
wait $rpid 2>/dev/null
kill "$(cat "$T/hookpid")" 2>/dev/null
sleep 0.2
ok "delete --force after a killed create" rt delete --force $PFX-k
no_leftovers $PFX-k "a killed create leaves nothing after delete"
cp "$T/good.json" "$B/config.json"
done_testing
