#!/bin/bash
# test-ctr-res.sh - resources and security of a container through the whole runtime:
# cgroup limits read back on the host, pause/resume, update, kill --all and delete
# (no cgroup directory left), and inside the container: capabilities, seccomp,
# rlimits, sysctl, oomScoreAdj, personality.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd python3
BUSYBOX=$(command -v busybox) || skip_all "needs busybox (busybox-static)"
[ -x "$CABIN" ] || skip_all "cabin not built"

plan 18

ID=cabin-test-res-$$
R="$T/state"
B="$T/bundle"
mkdir -p "$B/rootfs/bin" "$B/rootfs/tmp" "$R"
cp "$BUSYBOX" "$B/rootfs/bin/busybox"
for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -sf busybox "$B/rootfs/bin/$a"; done
(cd "$B" && "$CABIN" spec) || skip_all "cabin spec failed"
cleanup() {
	"$CABIN" --root "$R" delete --force "$ID" >/dev/null 2>&1
	"$CABIN" --root "$R" delete --force "$ID-run" >/dev/null 2>&1
}
at_exit cleanup

# edit config.json: edit KEY=PYTHON-EXPR ...
edit() {
	python3 - "$B/config.json" "$@" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
for e in sys.argv[2:]:
    exec(e, {"c": c})
json.dump(c, open(p, "w"), indent=1)
EOF
}

edit 'c["process"]["terminal"] = False' \
	'c["process"]["noNewPrivileges"] = True' \
	'c["linux"]["resources"] = {"memory": {"limit": 67108864, "swap": 134217728}, "cpu": {"shares": 512, "quota": 20000, "period": 100000}, "pids": {"limit": 20}, "devices": [{"allow": False, "access": "rwm"}]}' \
	'c["process"]["capabilities"] = {k: ["CAP_CHOWN", "CAP_KILL"] for k in ("bounding", "effective", "permitted")}' \
	'c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512}]' \
	'c["process"]["oomScoreAdj"] = 300' \
	'c["linux"]["sysctl"] = {"kernel.shmmni": "1234"}' \
	'c["linux"]["personality"] = {"domain": "LINUX"}' \
	'c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]}' \
	'c["process"]["args"] = ["sh", "-c", "grep -E \"^Cap(Eff|Bnd)\" /proc/self/status; echo nofile $(ulimit -n) $(ulimit -Hn); echo oom $(cat /proc/self/oom_score_adj); echo shmmni $(cat /proc/sys/kernel/shmmni); mkdir /tmp/d 2>&1; echo x > /dev/null && echo devnull ok"]'

out=$(cd "$B" && timeout 30 "$CABIN" --root "$R" run "$ID-run" 2>&1)
assert_contains "$out" "CapEff:	0000000000000021" "capabilities: effective set is CHOWN+KILL"
assert_contains "$out" "CapBnd:	0000000000000021" "capabilities: bounding set is CHOWN+KILL"
assert_contains "$out" "nofile 256 512" "rlimits: RLIMIT_NOFILE 256/512"
assert_contains "$out" "oom 300" "oomScoreAdj 300"
assert_contains "$out" "shmmni 1234" "sysctl kernel.shmmni in the container's ipc namespace"
assert_contains "$out" "Function not implemented" "seccomp: mkdir gets errnoRet 38 (ENOSYS)"
assert_contains "$out" "devnull ok" "devices: deny-all still leaves the default /dev/null"

# a long-running container: limits on the host, pause/resume, update, kill --all, delete
edit 'c["process"]["args"] = ["sh", "-c", "sleep 1000 & sleep 1000"]'
(cd "$B" && "$CABIN" --root "$R" create "$ID") >/dev/null 2>&1
ok "create a container with limits" "$CABIN" --root "$R" start "$ID"
pid=$("$CABIN" --root "$R" state "$ID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
# the container's cgroup in the v1 hierarchy holding controller $1 (co-mounted or not)
cgpath() { awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup"; }
if [ -d /sys/fs/cgroup/memory ] && [ -n "$(cgpath memory)" ]; then
	M=/sys/fs/cgroup/memory$(cgpath memory)
	C=/sys/fs/cgroup/cpu$(cgpath cpu)
	P=/sys/fs/cgroup/pids$(cgpath pids)
	F=/sys/fs/cgroup/freezer$(cgpath freezer)
	assert_eq "$(cat "$M/memory.limit_in_bytes")" 67108864 "host: memory.limit_in_bytes"
	assert_eq "$(cat "$M/memory.memsw.limit_in_bytes")" 134217728 "host: memory.memsw.limit_in_bytes"
	assert_eq "$(cat "$C/cpu.shares") $(cat "$C/cpu.cfs_quota_us")" "512 20000" "host: cpu.shares, cfs_quota_us"
	assert_eq "$(cat "$P/pids.max")" 20 "host: pids.max"
	"$CABIN" --root "$R" pause "$ID"
	assert_eq "$(cat "$F/freezer.state")" FROZEN "pause: freezer.state FROZEN"
	"$CABIN" --root "$R" resume "$ID"
	assert_eq "$(cat "$F/freezer.state")" THAWED "resume: freezer.state THAWED"
	echo '{"pids": {"limit": 30}}' | "$CABIN" --root "$R" update --resources - "$ID"
	assert_eq "$(cat "$P/pids.max")" 30 "update: pids.max 30"
	n=$(wc -l <"$P/cgroup.procs")
	ok "kill --all KILL" "$CABIN" --root "$R" kill --all "$ID" KILL
	# kill --all returns once the signal is sent, as runc's does: the processes take a
	# moment to exit. (A cgroup file's size is always 0: test its content, not `-s`.)
	for _ in $(seq 300); do # up to 30 s on a loaded machine
		left=$(cat "$P/cgroup.procs")
		[ -n "$left" ] || break
		sleep 0.1
	done
	for p in $left; do # what is left, for the log
		echo "# left in $P: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) $(grep -E '^(State|PPid)' "/proc/$p/status" 2>/dev/null | tr '\n\t' '  ')"
	done
	assert_eq "$n $(echo "$left" | grep -c .)" "2 0" "kill --all: both processes gone"
	"$CABIN" --root "$R" delete "$ID" >/dev/null 2>&1
	ok "delete removes the cgroup directories" test ! -e "$M" -a ! -e "$P" -a ! -e "$F"
else
	for _ in $(seq 10); do skip "no cgroup v1 memory hierarchy (v2 host)"; done
fi
done_testing
