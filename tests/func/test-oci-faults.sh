#!/bin/bash
# Faults with a security edge, each as its regression test:
#  - exec takes the container's configuration from create, not the bundle's config.json now
#  - seccomp: the runtime's fds are closed before an ERRNO-default filter; syscalls newer
#    than the profile get ENOSYS (any number above its highest, per architecture); with noNewPrivileges the filter covers the
#    startContainer hooks; NOTIFY on write is refused; NOTIFY fds of exec'd
#    processes reach the agent; a hook killed by the filter is reported
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
BUSYBOX=$(command -v busybox) || skip_all "needs busybox (busybox-static)"
plan 18

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
for a in sh grep cat mkdir; do ln -sf busybox "$B/rootfs/bin/$a"; done
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

# --- a hook killed by the filter -------------------------------------------------------
cp "$T/good.json" "$B/config.json"
cfg "$B" 'c["linux"]["seccomp"]={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
 {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_KILL"}]}
c["hooks"]={"startContainer":[{"path":"/bin/sh","args":["sh","-c","mkdir /tmp/h"]}]}'
args "$B" /init echo hi
out=$(rt run --bundle "$B" $PFX-hookkill 2>&1)
assert_contains "$out" "error running hook startContainer[0] \`/bin/sh\`: killed by signal 31 (bad system call)" \
	"a startContainer hook killed by the filter: the error says so"

done_testing
