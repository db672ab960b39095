#!/bin/bash
# Faults with a security edge, each as its regression test:
#  - exec takes the container's configuration from create, not the bundle's config.json now
#  - seccomp: the runtime's fds are closed before an ERRNO-default filter; syscalls newer
#    than the profile get ENOSYS (any number above its highest, per architecture); with noNewPrivileges the filter covers the
#    startContainer hooks; NOTIFY on write is refused; NOTIFY fds of exec'd
#    processes reach the agent, before the identity change when it is notified; a hook
#    killed by the filter is reported
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
BUSYBOX=$(command -v busybox) || skip_all "needs busybox (busybox-static)"
plan 25

PFX=secf$$
agent=
cleanup() {
	local c
	for c in $(rt list -q 2>/dev/null); do rt delete --force "$c"; done
	[ -z "$agent" ] || kill "$agent" 2>/dev/null
}
at_exit cleanup
cd "$T" || exit 1

B=$T/b
mkbundle "$B"
mkdir -p "$B/rootfs/bin"
cp "$BUSYBOX" "$B/rootfs/bin/busybox"
for a in sh grep cat mkdir id; do ln -sf busybox "$B/rootfs/bin/$a"; done
cp "$B/config.json" "$T/good.json"

# --- exec keeps the configuration of create ----------------------------------------------
cfg "$B" 'c["linux"]["seccomp"]={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
 {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}'
args "$B" /init sleep 1000
rt run -d --bundle "$B" $PFX-cfg >/dev/null
assert_contains "$(rt exec $PFX-cfg /bin/mkdir /tmp/a 2>&1)" "Operation not permitted" \
	"exec: the container's seccomp profile applies"
cp "$T/good.json" "$B/config.json" # the bundle's config.json now has no seccomp
out=$(rt exec $PFX-cfg /bin/mkdir /tmp/b 2>&1)
assert_contains "$out" "Operation not permitted" "exec after config.json was edited: still filtered"
rm -f "$B/config.json"
out=$(rt exec $PFX-cfg /bin/mkdir /tmp/c 2>&1)
assert_contains "$out" "Operation not permitted" "exec after config.json was removed: still filtered"
rt delete --force $PFX-cfg
cp "$T/good.json" "$B/config.json"

# --- an ERRNO-default profile ----------------------------------------------------------
# Everything the runtime and the test payload need, but neither close_range nor mkdir;
# the highest syscall listed is rseq (334 on x86_64).
allow='"read","write","open","openat","close","stat","fstat","lstat","newfstatat","statx",
"poll","lseek","mmap","mprotect","munmap","brk","rt_sigaction","rt_sigprocmask",
"rt_sigreturn","ioctl","pread64","pwrite64","readv","writev","access","faccessat",
"pipe","pipe2","sched_yield","mremap","madvise","dup","dup2","dup3","nanosleep",
"clock_nanosleep","getpid","getppid","gettid","socket","connect","sendto","recvfrom","sendmsg",
"recvmsg","socketpair","clone","fork","vfork","execve","execveat","exit","exit_group",
"wait4","waitid","kill","uname","fcntl","getdents","getdents64","getcwd","chdir","fchdir",
"readlink","readlinkat","umask","gettimeofday","getrlimit","prlimit64","setrlimit","getuid",
"getgid","geteuid","getegid","getgroups","setgroups","setuid","setgid","setresuid",
"setresgid","getresuid","getresgid","setsid","getpgrp","setpgid","capget","capset","prctl",
"arch_prctl","sigaltstack","set_tid_address","set_robust_list","futex","rseq","getrandom",
"clock_gettime","tgkill","tkill","statfs","fstatfs"'
[ "$(uname -m)" = x86_64 ] || skip_all "the syscall numbers below are x86_64's"
cfg "$B" "c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':1,
 'architectures':['SCMP_ARCH_X86_64'],'syscalls':[{'names':[$allow],'action':'SCMP_ACT_ALLOW'}]}"
args "$B" /init fds
assert_eq "$(rt run --bundle "$B" $PFX-fds 9<"$T/good.json" 8>"$T/out" 2>&1)" 3 \
	"fds of the caller are closed before an ERRNO-default filter (only stdio)"
args "$B" /init syscall 83
assert_eq "$(rt run --bundle "$B" $PFX-eperm 2>&1)" "-1 Operation not permitted" \
	"a syscall the profile leaves out gets the default action"
args "$B" /init syscall 400
assert_eq "$(rt run --bundle "$B" $PFX-enosys 2>&1)" "-1 Function not implemented" \
	"a syscall above the profile's highest gets ENOSYS"
# per architecture: the profile also names i386's syscalls, whose numbers run higher
cfg "$B" "c['linux']['seccomp']['architectures']=['SCMP_ARCH_X86_64','SCMP_ARCH_X86']"
args "$B" /init syscall32 1000
assert_eq "$(rt run --bundle "$B" $PFX-i386a 2>&1)" "-38 Function not implemented" \
	"i386 (int 0x80): a syscall above the profile's highest i386 one gets ENOSYS"
args "$B" /init syscall32 380
assert_eq "$(rt run --bundle "$B" $PFX-i386b 2>&1)" "-1 Operation not permitted" \
	"i386: 380 is above x86_64's highest (rseq 334) but below i386's (rseq 386): EPERM"
args "$B" /init syscall 380
assert_eq "$(rt run --bundle "$B" $PFX-i386c 2>&1)" "-1 Function not implemented" \
	"x86_64: the same 380 gets ENOSYS there"
for nr in 1000 100000; do
	args "$B" /init syscall $nr
	assert_eq "$(rt run --bundle "$B" $PFX-enosys$nr 2>&1)" "-1 Function not implemented" \
		"syscall $nr, far above the profile's highest, gets ENOSYS too"
done

# --- noNewPrivileges: the filter covers the startContainer hooks -----------------------
cp "$T/good.json" "$B/config.json"
cfg "$B" 'c["process"]["noNewPrivileges"]=True
c["linux"]["seccomp"]={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
 {"names":["mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}
c["hooks"]={"startContainer":[{"path":"/bin/sh","args":["sh","-c","grep Seccomp: /proc/self/status > /tmp/hook-seccomp"]}]}'
args "$B" /init echo hi
rt run --bundle "$B" $PFX-nnp >/dev/null 2>&1
assert_eq "$(awk '{print $2}' "$B/rootfs/tmp/hook-seccomp" 2>&1)" 2 \
	"noNewPrivileges: the startContainer hook runs under the filter (as runc)"

# --- SCMP_ACT_NOTIFY on write ----------------------------------------------------------
cp "$T/good.json" "$B/config.json"
cfg "$B" "c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'$T/l.sock',
 'syscalls':[{'names':['write'],'action':'SCMP_ACT_NOTIFY'}]}"
out=$(rt run --bundle "$B" $PFX-notify 2>&1)
rc=$?
assert_contains "$rc $out" "SCMP_ACT_NOTIFY cannot be used for the write syscall" "NOTIFY on write is refused"
no_leftovers $PFX-notify "NOTIFY on write: nothing left behind"

# --- SCMP_ACT_NOTIFY: each filter's fd reaches the agent, exec'd processes' too ----------
cp "$T/good.json" "$B/config.json"
cfg "$B" "c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'$T/agent.sock',
 'syscalls':[{'names':['mkdir','mkdirat'],'action':'SCMP_ACT_NOTIFY'}]}"
args "$B" /init sleep 1000
out=$(rt run --bundle "$B" $PFX-noagent 2>&1)
assert_contains "$out" "failed to connect with seccomp agent" "NOTIFY without an agent: a clear error"
python3 "$TOP/tests/helpers/seccomp-agent.py" "$T/agent.sock" "$T/agent.log" 123 &
agent=$!
for _ in $(seq 50); do [ -S "$T/agent.sock" ] && break; sleep 0.1; done
rt run -d --bundle "$B" $PFX-agent >/dev/null 2>&1
out=$(rt exec $PFX-agent /bin/mkdir /tmp/x 2>&1)
# the agent answers ENOMEDIUM; a notify fd nobody listens to gives ENOSYS
assert_contains "$out" "No medium found" "NOTIFY: the exec'd process's syscall is answered by the agent"
assert_eq "$(wc -l <"$T/agent.log")" 2 "the agent got the init's fd and the exec'd process's"
rt delete --force $PFX-agent

# Without noNewPrivileges the filter is loaded before the identity change: with NOTIFY on
# setgroups/setresuid the exec'd process must hand its listener over before making them,
# or it waits forever on a listener only it holds. The agent lets each syscall go on.
kill "$agent" 2>/dev/null
wait "$agent" 2>/dev/null
rm -f "$T/agent.sock" "$T/agent.log"
cp "$T/good.json" "$B/config.json"
cfg "$B" "c['process']['noNewPrivileges']=False
c['linux']['seccomp']={'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'$T/agent.sock',
 'syscalls':[{'names':['setgroups','setresuid','setresgid'],'action':'SCMP_ACT_NOTIFY'}]}"
args "$B" /init sleep 1000
python3 "$TOP/tests/helpers/seccomp-agent.py" "$T/agent.sock" "$T/agent.log" 0 &
agent=$!
for _ in $(seq 50); do [ -S "$T/agent.sock" ] && break; sleep 0.1; done
rt run -d --bundle "$B" $PFX-idn >/dev/null 2>&1
out=$(timeout -s KILL 30 "$CABIN" --root "$STATE" exec --user 1000:1000 $PFX-idn /bin/id 2>&1)
assert_eq "$?" 0 "NOTIFY on setgroups/setresuid without noNewPrivileges: exec --user does not hang"
assert_contains "$out" "uid=1000 gid=1000" "the agent let the exec'd process's identity change through"
rt delete --force $PFX-idn

# --- a hook killed by the filter -------------------------------------------------------
cp "$T/good.json" "$B/config.json"
cfg "$B" 'c["linux"]["seccomp"]={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
 {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_KILL"}]}
c["hooks"]={"startContainer":[{"path":"/bin/sh","args":["sh","-c","mkdir /tmp/h"]}]}'
args "$B" /init echo hi
out=$(rt run --bundle "$B" $PFX-hookkill 2>&1)
assert_contains "$out" "error running hook startContainer[0] \`/bin/sh\`: killed by signal 31 (bad system call)" \
	"a startContainer hook killed by the filter: the error says so"

# --- cgroups ---------------------------------------------------------------------------
cp "$T/good.json" "$B/config.json"
args "$B" /init sleep 1000
# cg_dirs NAME: the directory NAME in every cgroup hierarchy mounted on the host
cg_dirs() {
	# the file system type is the field after "-" (optional fields vary in number)
	awk '{ for (i = 7; i < NF; i++) if ($i == "-") break
		if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | sort -u |
		while read -r m; do echo "$m/$1"; done
}
cg_make() { # cg_make NAME: a pre-existing cgroup, as a host might have one
	local d
	for d in $(cg_dirs "$1"); do
		mkdir -p "$d" 2>/dev/null || continue
		[ -e "$d/cpuset.cpus" ] && cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus" &&
			cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
	done
	return 0
}
cg_gone() { local d; for d in $(cg_dirs "$1"); do rmdir "$d" 2>/dev/null; done; }

# A frozen pre-existing cgroup: refused at once (runc: "container's cgroup unexpectedly
# frozen"), instead of an init that freezes on entry and a `run -d` that never returns.
fz=secfrozen$$
cg_make $fz
fdir=$(cg_dirs $fz | while read -r d; do [ -e "$d/freezer.state" ] && echo "$d"; done | head -1)
[ -z "$fdir" ] && fdir=$(cg_dirs $fz | while read -r d; do [ -e "$d/cgroup.freeze" ] && echo "$d"; done | head -1)
if [ -e "$fdir/freezer.state" ]; then echo FROZEN >"$fdir/freezer.state"; else echo 1 >"$fdir/cgroup.freeze"; fi
cfg "$B" "c['linux']['cgroupsPath']='/$fz'"
timeout -k 2 20 "$CABIN" --root "$STATE" run -d --bundle "$B" $PFX-frozen >/dev/null 2>"$T/frozen.err"
rc=$?; out=$(cat "$T/frozen.err")
assert_contains "$rc $out" "unexpectedly frozen" "a frozen pre-existing cgroup is refused"
assert_eq "$(cat "$fdir/freezer.state" "$fdir/cgroup.freeze" 2>/dev/null | head -1)" \
	"$(if [ -e "$fdir/freezer.state" ]; then echo FROZEN; else echo 1; fi)" \
	"and left as it was"
if [ -e "$fdir/freezer.state" ]; then echo THAWED >"$fdir/freezer.state"; else echo 0 >"$fdir/cgroup.freeze"; fi
timeout -k 2 20 "$CABIN" --root "$STATE" delete --force $PFX-frozen 2>/dev/null
cg_gone $fz

# create killed at any point: delete --force finds every cgroup it made. Half of the runs
# kill it the moment its first cgroup directory appears (the window before state.json
# named them), the other half at random.
cp "$T/good.json" "$B/config.json"
args "$B" /init sleep 1000
first=$(cg_dirs "" | head -1)
for i in $(seq 20); do
	cfg "$B" "c['linux']['cgroupsPath']='/$PFX-k$i'"
	[ $((i % 2)) = 0 ] && { "$INIT" waitpath "$first/$PFX-k$i" & w=$!; }
	"$CABIN" --root "$STATE" create --bundle "$B" $PFX-k$i >/dev/null 2>&1 &
	p=$!
	if [ $((i % 2)) = 0 ]; then
		wait $w
	else
		sleep "0.0$((RANDOM % 10))$((RANDOM % 10))"
	fi
	kill -9 $p 2>/dev/null
	wait $p 2>/dev/null
	rt delete --force $PFX-k$i >/dev/null 2>&1
done
left=$(for d in $(cg_dirs ""); do find "$d" -maxdepth 5 -type d -name "$PFX-k*" 2>/dev/null; done)
assert_eq "$left" "" "20 creates killed at random points: no cgroup left after delete --force"
for d in $left; do rmdir "$d"; done

# A hybrid host's cgroup2 root belongs to the host: a container that asks for hugetlb limits
# (hugetlb lives in cgroup2 there when v1 does not mount it) must not turn the controller
# on in the root's cgroup.subtree_control, where it would stay for every cgroup of the host.
v2=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") break
	if ($(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | head -1)
nv1=$(awk '{ for (i = 7; i < NF; i++) if ($i == "-") break
	if ($(i + 1) == "cgroup") print $5 }' /proc/self/mountinfo | wc -l)
hp=$(ls /sys/kernel/mm/hugepages 2>/dev/null | sed -n 's/^hugepages-\([0-9]*\)kB$/\1/p' | head -1)
if [ -z "$v2" ] || [ "$nv1" = 0 ]; then
	skip "not a hybrid cgroup host"
	skip "not a hybrid cgroup host"
elif [ -z "$hp" ] || ! grep -qw hugetlb "$v2/cgroup.controllers"; then
	skip "no hugetlb controller in cgroup2"
	skip "no hugetlb controller in cgroup2"
else
	sz=$((hp / 1024))MB
	[ "$hp" -lt 1024 ] && sz=${hp}KB
	cp "$T/good.json" "$B/config.json"
	cfg "$B" "c['linux']['cgroupsPath']='/$PFX-huge'
c['linux']['resources']={'hugepageLimits':[{'pageSize':'$sz','limit':$((hp * 1024 * 4))}]}"
	args "$B" /init echo hi
	if ! grep -qw hugetlb "$v2/cgroup.subtree_control"; then
		# the root as it is: watch it, and take back what a faulty run would leave
		rt run --bundle "$B" $PFX-huge >/dev/null 2>"$T/huge.err"
		got=$(grep -ow hugetlb "$v2/cgroup.subtree_control")
		grep -qw hugetlb "$v2/cgroup.subtree_control" && echo -hugetlb >"$v2/cgroup.subtree_control"
	else
		# hugetlb is on in the real root already (the host's choice): watch a root of our own,
		# an empty cgroup that a cgroup namespace and a private cgroup2 mount make the root
		ns=$v2/$PFX-nsroot
		mkdir -p "$ns"
		# shellcheck disable=SC2016
		bash -c 'echo $$ >"$1/cgroup.procs" && exec unshare -m -C bash -c "
			umount $2 && mount -t cgroup2 none $2 && mkdir $2/leaf && echo \$\$ >$2/leaf/cgroup.procs &&
			$3 --root $4 run --bundle $5 $6" ' _ "$ns" "$v2" "$CABIN" "$STATE" "$B" $PFX-huge \
			>/dev/null 2>"$T/huge.err"
		got=$(grep -ow hugetlb "$ns/cgroup.subtree_control")
		rmdir "$ns/$PFX-huge" "$ns/leaf" "$ns" 2>/dev/null
	fi
	rt delete --force $PFX-huge >/dev/null 2>&1
	assert_eq "$got" "" "a container with hugetlb limits writes no +hugetlb into the cgroup2 root's subtree_control"
	assert_contains "$(cat "$T/huge.err")" "not enabled in the host's" \
		"  ... and the error says the host has not enabled it there"
fi

done_testing
