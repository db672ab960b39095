#!/bin/bash
# demo-container.sh - the container half of `make demo`: a busybox root filesystem from
# Debian's busybox-static (no network), a config.json from `cabin spec`, and one
# container that shows its hostname, its pid and its user.
set -eu
cd "$(dirname "$0")/.."
CABIN=${CABIN:-$PWD/cabin}
BUSYBOX=/bin/busybox # busybox-static: one binary, no libraries to copy
[ -x "$BUSYBOX" ] || { echo "demo: busybox-static is not installed (make deps)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "demo: containers need root" >&2; exit 1; }

W=$(mktemp -d /tmp/cabin-demo.XXXXXX)
ID=demo-$$
cleanup() {
	"$CABIN" --root "$W/state" delete --force "$ID" >/dev/null 2>&1 || true
	rm -rf --one-file-system "$W"
}
trap cleanup EXIT

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

say "building a busybox root filesystem in $W/bundle/rootfs"
mkdir -p "$W/bundle/rootfs/"{bin,proc,sys,dev,tmp,etc}
cp "$BUSYBOX" "$W/bundle/rootfs/bin/busybox"
for a in $("$BUSYBOX" --list); do
	[ "$a" = busybox ] || ln -sf busybox "$W/bundle/rootfs/bin/$a"
done
echo "root:x:0:0:root:/:/bin/sh" >"$W/bundle/rootfs/etc/passwd"
echo "$(ls "$W/bundle/rootfs/bin" | wc -l) applets, $(du -sh "$W/bundle/rootfs" | cut -f1)"

say "cabin spec: writing a default config.json"
(cd "$W/bundle" && "$CABIN" spec)
python3 - "$W/bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["hostname"] = "cabin-demo"
c["process"]["args"] = ["/bin/sh", "-c",
    'echo "hostname: $(hostname)"; echo "my pid:   $$"; echo "my user:  $(id)";'
    ' echo "processes:"; ps -o pid,user,args; echo "mounts:"; cut -d" " -f2,3 /proc/mounts | head -8']
json.dump(c, open(p, "w"), indent=1)
PY
echo "process.args: /bin/sh -c '...hostname, \$\$, id, ps, mounts...'"

say "cabin run $ID (new pid, mount, uts, ipc, network and cgroup namespaces)"
t0=$(date +%s%N)
"$CABIN" --root "$W/state" run --bundle "$W/bundle" "$ID" | sed 's/^/    | /'
rc=${PIPESTATUS[0]}
t1=$(date +%s%N)
echo "exit status $rc; create+start+wait+delete took $(((t1 - t0) / 1000000)) ms"
[ "$rc" = 0 ]

say "the lifecycle step by step: create, state, start, kill, delete"
python3 - "$W/bundle/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["/bin/sleep", "1000"]
json.dump(c, open(p, "w"), indent=1)
PY
"$CABIN" --root "$W/state" create --bundle "$W/bundle" "$ID"
echo "status after create: $("$CABIN" --root "$W/state" state "$ID" | grep -o '"status": "[a-z]*"')"
"$CABIN" --root "$W/state" start "$ID"
echo "status after start:  $("$CABIN" --root "$W/state" state "$ID" | grep -o '"status": "[a-z]*"')"
echo "exec inside it:      $("$CABIN" --root "$W/state" exec "$ID" /bin/hostname)"
"$CABIN" --root "$W/state" kill "$ID" KILL
sleep 0.2
echo "status after kill:   $("$CABIN" --root "$W/state" state "$ID" | grep -o '"status": "[a-z]*"')"
"$CABIN" --root "$W/state" delete "$ID"
echo "after delete:        $(ls "$W/state" | wc -l) containers left"
say "container demo done"
