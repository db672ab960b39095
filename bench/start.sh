#!/bin/bash
# start.sh - container start-to-exit latency and peak memory of an OCI runtime against crun.
#
# usage: bench/start.sh [RUNTIME] [N]      (root; RUNTIME default ./cabin, N default 30)
#   Each sample runs `RUNTIME run --bundle B ID` of /bin/true in a static busybox bundle
#   from a small launcher that waits for it with wait4(2): wall time from fork to reap, and
#   the peak resident set (ru_maxrss) of the runtime and every process it waited for. Samples alternate
#   between the two runtimes (A B B A ...) so background load affects both alike; the
#   container is force-deleted outside the timed region.
# env:
#   REF          runtime to compare with (default crun)
#   RT_FLAGS     global flags for RUNTIME (e.g. --root DIR)
#   WARMUP       untimed runs of each first (default 3)
#   HYBRID_MASK  auto|1|0: crun refuses hybrid cgroup v1+v2 hosts whose
#                /sys/fs/cgroup/unified/cgroup.controllers lists controllers; auto masks
#                that file with an empty one in a private mount namespace on such hosts.
#                Both runtimes run in that namespace; nothing changes outside it.
# output: a table (ms, peak RSS in KiB), then `rss_ratio X` and, as the last line,
#   `ratio X` = median time of RUNTIME / median time of REF.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RT=${1:-$TOP/cabin}
N=${2:-30}
RT=$(command -v "$RT") || { echo "start.sh: runtime \`${1:-$TOP/cabin}\` not found" >&2; exit 2; }
RT=$(readlink -f "$RT")
REF=$(command -v "${REF:-crun}") || { echo "start.sh: reference runtime \`${REF:-crun}\` not found" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "start.sh: needs root" >&2; exit 2; }
BUSYBOX=$(command -v busybox) || { echo "start.sh: busybox (busybox-static) not installed" >&2; exit 2; }
CTRL=/sys/fs/cgroup/unified/cgroup.controllers

if [ -z "${_CABIN_BENCH_NS:-}" ]; then
	export _CABIN_BENCH_NS=1
	mask=${HYBRID_MASK:-auto}
	if [ "$mask" = auto ]; then
		mask=0
		[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] && [ -n "$(cat "$CTRL" 2>/dev/null)" ] && mask=1
	fi
	if [ "$mask" = 1 ]; then
		echo "# hybrid cgroups: $CTRL (\`$(cat "$CTRL")\`) masked in a private mount namespace"
		exec unshare --mount --propagation private /bin/bash -c \
			'e=$(mktemp) && mount --bind "$e" "$1" && rm -f "$e" && shift && exec "$@"' \
			bench "$CTRL" /bin/bash "$TOP/bench/start.sh" "$RT" "$N"
	fi
	exec unshare --mount --propagation private /bin/bash "$TOP/bench/start.sh" "$RT" "$N"
fi

W=$(mktemp -d /tmp/cabin-bench.XXXXXX)
trap 'rm -rf --one-file-system "$W"' EXIT
chmod 755 "$W"
R=$W/bundle/rootfs
mkdir -p "$R"/{bin,proc,sys,dev,tmp,etc}
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh true; do ln -s busybox "$R/bin/$a"; done

# The same configuration for both runtimes: the usual namespaces, the default
# filesystems, masked and read-only paths, no terminal.
cat >"$W/bundle/config.json" <<'EOF'
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": { "uid": 0, "gid": 0 },
    "args": [ "/bin/true" ],
    "env": [ "PATH=/bin", "TERM=xterm" ],
    "cwd": "/",
    "capabilities": {
      "bounding": [ "CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE" ],
      "effective": [ "CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE" ],
      "permitted": [ "CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE" ]
    },
    "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
    "noNewPrivileges": true
  },
  "root": { "path": "rootfs", "readonly": true },
  "hostname": "bench",
  "mounts": [
    { "destination": "/proc", "type": "proc", "source": "proc" },
    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
      "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
    { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
      "options": [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620" ] },
    { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
      "options": [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
    { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
      "options": [ "nosuid", "noexec", "nodev" ] },
    { "destination": "/sys", "type": "sysfs", "source": "sysfs",
      "options": [ "nosuid", "noexec", "nodev", "ro" ] },
    { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
      "options": [ "nosuid", "nodev", "mode=1777" ] }
  ],
  "linux": {
    "namespaces": [
      { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
      { "type": "uts" }, { "type": "mount" }
    ],
    "maskedPaths": [ "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
      "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
      "/proc/scsi" ],
    "readonlyPaths": [ "/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq",
      "/proc/sys", "/proc/sysrq-trigger" ]
  }
}
EOF

# A small static launcher measures each run: the peak RSS the kernel reports for a child
# includes the memory of the process that forked it up to exec, so the runtime must not be
# forked from the (large) python interpreter.
cat >"$W/spawn.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
/* spawn ERRFILE ARGV...: run ARGV with stdin/stdout on /dev/null and stderr to ERRFILE;
 * print "<elapsed ns> <peak RSS KiB> <exit status>" */
int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int st = 0;
	pid_t pid;

	if (argc < 3)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		int efd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || efd < 0)
			_exit(126);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(efd, 2);
		execv(argv[2], argv + 2);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &st, 0, &ru) != pid)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%lld %ld %d\n",
	       (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec),
	       ru.ru_maxrss, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
EOF
${CC:-cc} -O2 -static -o "$W/spawn" "$W/spawn.c" 2>/dev/null || ${CC:-cc} -O2 -o "$W/spawn" "$W/spawn.c" ||
	{ echo "start.sh: cannot compile the launcher (cc)" >&2; exit 2; }

python3 - "$W/bundle" "$N" "${WARMUP:-3}" "$REF" "$RT" "${RT_FLAGS:-}" <<'EOF'
import os, sys, statistics, shlex, subprocess

bundle, n, warmup, ref, rt, rt_flags = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
runtimes = [("ref", [ref]), ("rt", [rt] + shlex.split(rt_flags))]
seq = 0
spawner = os.path.join(os.path.dirname(bundle), "spawn")
errpath = os.path.join(os.path.dirname(bundle), "err")

def one(label, argv):
    """one timed `run`: (ms, peak RSS KiB); the container is deleted afterwards"""
    global seq
    seq += 1
    cid = "cabin-bench-%d-%s-%d" % (os.getpid(), label, seq)
    out = subprocess.run([spawner, errpath] + argv + ["run", "--bundle", bundle, cid],
                         stdout=subprocess.PIPE, check=True).stdout.split()
    ns, rss, status = int(out[0]), int(out[1]), int(out[2])
    subprocess.run(argv + ["delete", "--force", cid], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if status != 0:
        msg = open(errpath, errors="replace").read(400).strip()
        sys.exit("start.sh: `%s run` failed (status %d): %s" % (" ".join(argv), status, msg))
    return ns / 1e6, rss

for _ in range(warmup):
    for label, argv in runtimes:
        one(label, argv)
res = {"ref": [], "rt": []}
for i in range(n):
    order = runtimes if i % 2 == 0 else runtimes[::-1]
    for label, argv in order:
        res[label].append(one(label, argv))

load = open("/proc/loadavg").read().split()[:3]
print("# %d interleaved runs of /bin/true (busybox bundle); load %s" % (n, " ".join(load)))
print("%-36s %8s %8s %8s %8s %10s" % ("runtime", "mean", "min", "median", "max", "peakRSS"))
med = {}
for label, argv in runtimes:
    ms = [x[0] for x in res[label]]
    rss = [x[1] for x in res[label]]
    med[label] = (statistics.median(ms), statistics.median(rss))
    print("%-36s %8.2f %8.2f %8.2f %8.2f %8d KiB" % (" ".join(argv)[:36], statistics.mean(ms), min(ms),
          med[label][0], max(ms), med[label][1]))
print("rss_ratio %.3f" % (med["rt"][1] / med["ref"][1]))
print("ratio %.3f" % (med["rt"][0] / med["ref"][0]))
EOF
