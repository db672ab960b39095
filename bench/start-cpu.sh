#!/bin/bash
# start-cpu.sh - CPU time and waits of a container start, RUNTIME against crun.
#
# usage: bench/start-cpu.sh [RUNTIME] [N]      (root; RUNTIME default ./cabin, N default 20)
#   On a machine shared with other work, wall-clock medians mostly measure the scheduler.
#   This counts what the runtime itself spends on `run` of /bin/true in a static busybox
#   bundle: CPU time (user + system, of the runtime and every process it waited for, from
#   wait4(2)) and voluntary context switches (each one a wait: a sync message, an RCU grace
#   period, a child). Samples alternate (A B B A ...); containers are force-deleted outside
#   the measured run. Peak memory: bench/start.sh.
# env:
#   REF          runtime to compare with (default crun)
#   HYBRID_MASK  auto|1|0: as bench/start.sh, mask the hybrid unified cgroup.controllers in
#                a private mount namespace so that crun runs (both runtimes run there)
# output: a table, then as the last line `ratio X` = median CPU time of RUNTIME / REF.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RT=$(command -v "${1:-$TOP/cabin}") || { echo "start-cpu.sh: runtime not found" >&2; exit 2; }
RT=$(readlink -f "$RT")
N=${2:-20}
REF=$(command -v "${REF:-crun}") || { echo "start-cpu.sh: \`${REF:-crun}\` not found" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "start-cpu.sh: needs root" >&2; exit 2; }
BUSYBOX=$(command -v busybox) || { echo "start-cpu.sh: busybox (busybox-static) not installed" >&2; exit 2; }
command -v python3 >/dev/null || { echo "start-cpu.sh: needs python3" >&2; exit 2; }
CTRL=/sys/fs/cgroup/unified/cgroup.controllers

if [ -z "${_START_CPU_INNS:-}" ] && [ "${HYBRID_MASK:-auto}" != 0 ] &&
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = tmpfs ] &&
	[ -n "$(tr -d '\n' <"$CTRL")" ]; then
	empty=$(mktemp)
	export _START_CPU_INNS=1
	exec unshare -m --propagation private /bin/sh -c \
		'mount --bind "$1" '"$CTRL"' && rm -f "$1" && shift && exec "$@"' \
		sh "$empty" /bin/bash "$0" "$RT" "$N"
fi

W=$(mktemp -d /tmp/start-cpu.XXXXXX)
trap 'rm -rf --one-file-system "$W"' EXIT
mkdir -p "$W/b/rootfs/"{bin,proc,sys,dev,tmp,etc}
cp "$BUSYBOX" "$W/b/rootfs/bin/busybox"
ln -s busybox "$W/b/rootfs/bin/true"
(cd "$W/b" && "$REF" spec) || exit 2
python3 - "$W/b/config.json" <<'EOF' || exit 2
import json, sys
p = sys.argv[1]; c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(p, "w"), indent=1)
EOF

python3 - "$REF" "$RT" "$N" "$W" <<'EOF'
import os, statistics, subprocess, sys, time
ref, rt, n, w = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
res = {ref: [], rt: []}

def one(binary, i, keep):
    cid = "sc-%d-%s-%d" % (os.getpid(), "r" if binary == ref else "t", i)
    root = os.path.join(w, "root-" + ("r" if binary == ref else "t"))
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        fd = os.open("/dev/null", os.O_RDWR)
        for f in (0, 1, 2):
            os.dup2(fd, f)
        os.execv(binary, [binary, "--root", root, "run", "--bundle", w + "/b", cid])
    _, status, ru = os.wait4(pid, 0)
    wall = time.monotonic() - t0
    subprocess.run([binary, "--root", root, "delete", "--force", cid],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("start-cpu.sh: %s run failed (status %d)" % (binary, status))
    if keep:
        res[binary].append((ru.ru_utime + ru.ru_stime, ru.ru_nvcsw, wall))

for i in range(3):
    one(ref, -1 - i, False); one(rt, -1 - i, False)
for i in range(n):
    order = (ref, rt) if i % 2 == 0 else (rt, ref)
    for b in order:
        one(b, i, True)

print("# N=%d interleaved runs of /bin/true; load %s" % (n, open("/proc/loadavg").read().split()[0]))
print("%-34s %10s %10s %10s" % ("runtime (medians)", "cpu ms", "waits", "wall ms"))
med = {}
for b in (ref, rt):
    v = res[b]
    med[b] = statistics.median(x[0] for x in v) * 1000
    print("%-34s %10.2f %10.0f %10.2f" % (b[-34:], med[b], statistics.median(x[1] for x in v),
          statistics.median(x[2] for x in v) * 1000))
print("ratio %.3f" % (med[rt] / med[ref]))
EOF
