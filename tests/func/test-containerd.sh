#!/bin/bash
# containerd 1.6 as a real client: `ctr run --runc-binary cabin` drives cabin through the
# io.containerd.runc.v2 shim (create with a pid file and fifos, start, exec, ps, pause/resume,
# kill, `kill --all` at teardown, delete) and nothing of the containers is left afterwards.
# containerd runs with its own root, state and socket under $T, without its CRI plugin.
. "$(dirname "$0")/lib.sh"
require_root
command -v containerd >/dev/null && command -v ctr >/dev/null &&
	command -v containerd-shim-runc-v2 >/dev/null ||
	skip_all "containerd, ctr or containerd-shim-runc-v2 is not installed (Debian package containerd)"
require_cmd python3
INIT=$TOP/tests/helpers/init
[ -x "$INIT" ] || skip_all "tests/helpers/init is not built (make)"
plan 22

NS=cabin-test-$$
ID=ctrd$$
IMG=docker.io/library/cabin-test:$$
SOCK=$T/ctrd.sock
cat >"$T/config.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
EOF
containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
CTRD=$!
stop_containerd() {
	local c
	for c in $(ctr -a "$SOCK" -n "$NS" task ls -q 2>/dev/null); do
		ctr -a "$SOCK" -n "$NS" task kill -s KILL "$c"
		ctr -a "$SOCK" -n "$NS" task delete -f "$c"
	done
	for c in $(ctr -a "$SOCK" -n "$NS" containers ls -q 2>/dev/null); do
		ctr -a "$SOCK" -n "$NS" containers rm "$c"
	done
	kill "$CTRD" 2>/dev/null
	wait "$CTRD"
	grep " $T/" /proc/self/mountinfo | cut -d' ' -f5 | sort -r | xargs -r -n1 umount -l
	rmdir "/run/containerd/runc/$NS"
}
at_exit stop_containerd
for _ in $(seq 100); do ctr -a "$SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
ctr -a "$SOCK" version >/dev/null 2>&1 || skip_all "containerd did not start: $(tail -3 "$T/containerd.log")"
c() { timeout 60 ctr -a "$SOCK" -n "$NS" "$@"; }

# An OCI image archive whose one layer holds the static test init at /init.
python3 - "$T/img.tar" "$IMG" "$INIT" <<'PY' || skip_all "could not build the image archive"
import hashlib, io, json, sys, tarfile
out, name, init = sys.argv[1:4]
def sha(b): return hashlib.sha256(b).hexdigest()
lb = io.BytesIO()
with tarfile.open(fileobj=lb, mode="w") as lt:
    for d in ("proc", "dev", "sys", "tmp", "etc"):
        ti = tarfile.TarInfo(d); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; lt.addfile(ti)
    lt.add(init, arcname="init")
layer = lb.getvalue()
cfg = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/init", "sleep", "1000"]},
                  "rootfs": {"type": "layers", "diff_ids": ["sha256:" + sha(layer)]}}).encode()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                  "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                             "digest": "sha256:" + sha(cfg), "size": len(cfg)},
                  "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                              "digest": "sha256:" + sha(layer), "size": len(layer)}]}).encode()
idx = json.dumps({"schemaVersion": 2, "manifests": [{
    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + sha(man),
    "size": len(man), "annotations": {"io.containerd.image.name": name}}]}).encode()
with tarfile.open(out, "w") as t:
    for n, b in (("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'), ("index.json", idx),
                 ("blobs/sha256/" + sha(layer), layer), ("blobs/sha256/" + sha(cfg), cfg),
                 ("blobs/sha256/" + sha(man), man)):
        ti = tarfile.TarInfo(n); ti.size = len(b); t.addfile(ti, io.BytesIO(b))
PY
q() { "$@" >/dev/null; }
ok "ctr images import" q c images import "$T/img.tar"

# leftovers ID MSG: no cabin state, cgroup, mount or process of container ID remains
leftovers() {
	local id=$1 bad=""
	[ -e "/run/containerd/runc/$NS/$id" ] && bad="$bad state"
	find /sys/fs/cgroup -maxdepth 8 -type d -name "$id" 2>/dev/null | grep -q . && bad="$bad cgroup"
	grep -q "/$id/rootfs" /proc/self/mountinfo && bad="$bad mounts"
	pgrep -f -- "-id $id( |$)" >/dev/null && bad="$bad shim"
	pgrep -f -- "--root /run/containerd/runc/$NS .*$id" >/dev/null && bad="$bad runtime"
	# the container's init seen while it ran (PID:start time): gone, or a zombie of the
	# host's init, which is not cabin's to reap
	if [ -n "${3-}" ] && [ "$(cut -d' ' -f22 "/proc/${3%%:*}/stat" 2>/dev/null)" = "${3#*:}" ] &&
		! grep -qs '^State:.*Z' "/proc/${3%%:*}/status"; then
		bad="$bad process"
	fi
	assert_eq "${bad:-none}" none "$2"
}
# task_pid ID: PID:start time of the task's init
task_pid() {
	local pid
	pid=$(c task ls | awk -v id="$1" '$1 == id { print $2 }')
	echo "$pid:$(cut -d' ' -f22 "/proc/$pid/stat" 2>/dev/null)"
}

R=(run --runc-binary "$CABIN")
assert_eq "$(c "${R[@]}" --rm "$IMG" "${ID}a" /init echo hello)" hello "ctr run --rm: output"
c "${R[@]}" --rm "$IMG" "${ID}b" /init exit 7
assert_eq "$?" 7 "ctr run --rm: exit status"
leftovers "${ID}a" "ctr run --rm leaves nothing behind"

ok "ctr run -d" c "${R[@]}" -d "$IMG" "$ID" /init sleep 1000
assert_contains "$(c task ls)" RUNNING "task is running"
pid1=$(task_pid "$ID")
assert_eq "$(c task exec --exec-id e1 "$ID" /init echo from-exec)" from-exec "ctr task exec: output"
c task exec --exec-id e2 "$ID" /init exit 3
assert_eq "$?" 3 "ctr task exec: exit status"
assert_eq "$(c task ps "$ID" | tail -n +2 | wc -l)" 1 "ctr task ps lists the init"
ok "ctr task pause" c task pause "$ID"
assert_contains "$(c task ls)" PAUSED "task is paused"
ok "ctr task resume" c task resume "$ID"
ok "ctr task kill" c task kill -s KILL "$ID"
for _ in $(seq 100); do c task ls | grep -q "$ID.*STOPPED" && break; sleep 0.1; done
assert_contains "$(c task ls)" STOPPED "task is stopped after kill"
# the shim sends `kill --all ID 9` to what has exited (cabin must answer 0 as runc does)
ok "ctr task kill --all of an exited task" c task kill --all -s KILL "$ID"
ok "ctr task delete" q c task delete "$ID"
ok "ctr containers rm" c containers rm "$ID"
leftovers "$ID" "run -d, exec, pause, kill and delete leave nothing behind" "$pid1"

# a task killed while it still runs, and deleted with --force
ok "ctr run -d (second)" c "${R[@]}" -d "$IMG" "${ID}f" /init sleep 1000
pid2=$(task_pid "${ID}f")
ok "ctr task delete --force of a running task" q c task delete -f "${ID}f"
ok "ctr containers rm (second)" c containers rm "${ID}f"
leftovers "${ID}f" "delete --force leaves nothing behind" "$pid2"
done_testing
