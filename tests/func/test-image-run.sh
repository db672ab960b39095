#!/bin/bash
# test-image-run.sh - `cabin container run` of an image pulled from a loopback registry,
# side by side with `podman run` of the same image (runc, private storage): the files, the
# environment and the working directory a shell sees must be the same. Then the image
# config's defaults under the run options, detached containers with logs, ps, exec, stop,
# wait and rm, volumes, the copy fallback without overlayfs, and the errors.
# Containers run with --network none: the bridge is tests/func/test-net*.sh's business.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/img-lib.sh"

require_root
require_cmd docker-registry skopeo python3 zstd curl busybox podman script
at_exit registry_stop_all

plan 64

D=$T/data
R=$T/run
cab() { "$CABIN" --data-root "$D" --root "$R" "$@"; }
crun() { cab container run --network none "$@"; }
cleanup_ctrs() {
	local c
	for c in $(cab container ps -aq 2>/dev/null); do cab container rm -f "$c"; done
}
at_exit cleanup_ctrs

registry_start open
REG=$REG_open
mkimage "$T/img" >/dev/null
push "$T/img" "$REG/cabin/test:v1"
IMG=$REG/cabin/test:v1
cab image pull -q "$IMG" >/dev/null 2>"$T/err"
ok "the image is pulled" test $? -eq 0

out=$(crun --rm "$IMG" 2>&1)
assert_eq "$out" "hello from the image
FOO=bar baz" "container run --rm IMAGE prints what the image's Cmd prints"

# An image not in the store is pulled first (--pull missing), unless --pull never.
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$IMG" \
	"docker://$REG/cabin/test:auto" >/dev/null 2>&1
err=$(crun --rm --pull never "$REG/cabin/test:auto" 2>&1)
assert_contains "$err" "not found" "--pull never: a missing image is an error"
out=$(crun --rm "$REG/cabin/test:auto" 2>"$T/autopull.err")
assert_eq "$out" "hello from the image
FOO=bar baz" "container run pulls a missing image, then runs it"
cab image rm "$REG/cabin/test:auto" >/dev/null
# --platform: the local image of another platform is not taken for it
err=$(crun --rm --platform linux/arm64 --pull never "$IMG" true 2>&1)
assert_contains "$err" "image \`$IMG\` is for platform \`linux/amd64\`, not \`linux/arm64\`" \
	"--platform linux/arm64 with --pull never: the amd64 image is refused"
err=$(crun --rm --platform linux/arm64 "$IMG" true 2>&1)
assert_contains "$err" "the image is for platform \`linux/amd64\`, not \`linux/arm64\`" \
	"--platform linux/arm64: it is pulled for arm64, which the registry lacks"
assert_eq "$(crun --rm --platform linux/amd64 --pull never "$IMG" echo same)" "same" \
	"--platform linux/amd64 runs the local image"

# The same view as podman's.
SHOW='pwd; env | grep -v -E "^(HOSTNAME|container|TERM)=" | sort; id; cd /;
find data opq bin etc home root tmp ! -type d -exec stat -c "%n %f %u:%g %s %h %Y" {} +;
find data opq bin etc home root tmp -type d -exec stat -c "%n %f %u:%g" {} +'
filter() { grep -v -E "^etc/(hosts|hostname|resolv.conf|mtab) " | sort; }
crun --rm "$IMG" sh -c "$SHOW" 2>&1 | filter >"$T/cabin.txt"
mkdir -p "$T/pm"
cat >"$T/pm/containers.conf" <<EOF
[containers]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/pm/events.log"
static_dir = "$T/pm/storage/libpod"
tmp_dir = "$T/pm/tmp"
EOF
PM=(podman --root "$T/pm/storage" --runroot "$T/pm/run" --storage-driver vfs
	--cgroup-manager cgroupfs --events-backend file --runtime "$(command -v runc)")
pm() { CONTAINERS_CONF=$T/pm/containers.conf timeout 120 "${PM[@]}" "$@"; }
pm_cleanup() {
	pm rm -af -t 0
	pm rmi -af
}
at_exit pm_cleanup
pm pull -q --tls-verify=false "$IMG" >/dev/null 2>&1
pm run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 "$IMG" \
	sh -c "$SHOW" 2>&1 | filter >"$T/podman.txt"
ok "podman runs the same image" test "$(wc -l <"$T/podman.txt")" -gt 250
d=$(diff "$T/podman.txt" "$T/cabin.txt")
assert_eq "$d" "" "files, environment, user and working directory are those podman shows"
assert_contains "$(cat "$T/cabin.txt")" "data/h2 81a4 0:0 12 2" "the hard link is one inode"
assert_not_contains "$(cat "$T/cabin.txt")" "data/a " "the whiteout hides /data/a"
assert_not_contains "$(cat "$T/cabin.txt")" "opq/old1" "the opaque directory hides the lower files"

# The same without overlayfs: the copy fallback.
CABIN_NO_OVERLAY=1 crun --rm "$IMG" sh -c "$SHOW" 2>&1 | filter >"$T/copy.txt"
d=$(diff "$T/cabin.txt" "$T/copy.txt" | grep '^[<>]' | grep -v -E '^[<>] (data|etc|bin|opq|home|root|tmp) 41')
assert_eq "$d" "" "the copy fallback shows the same files"

# The image's defaults under the run options.
assert_eq "$(crun --rm -e FOO=over -e NEW=1 "$IMG" sh -c 'echo $FOO $NEW $EMPTY.')" "over 1 ." \
	"-e overrides and adds to the image's Env"
printf 'A=from-file\n# comment\nB=2\n' >"$T/envf"
assert_eq "$(crun --rm --env-file "$T/envf" "$IMG" sh -c 'echo $A $B')" "from-file 2" "--env-file"
assert_eq "$(crun --rm -w /tmp/new/dir "$IMG" pwd)" "/tmp/new/dir" "-w, created when missing"
assert_contains "$(crun --rm -u app "$IMG" id)" "uid=1000(app) gid=1000(app) groups=50(staff)" \
	"-u NAME: uid, gid and groups from the image's /etc/passwd and /etc/group"
assert_eq "$(crun --rm -u 1000:50 "$IMG" sh -c 'id -u; id -g; echo $HOME')" "1000
50
/home/app" "-u UID:GID, HOME from /etc/passwd"
err=$(crun --rm -u nobody "$IMG" true 2>&1)
assert_contains "$err" "user \`nobody\`: not found in the image's /etc/passwd" "an unknown user"
assert_eq "$(crun --rm --entrypoint /bin/echo "$IMG" a b)" "a b" "--entrypoint"
crun --rm "$IMG" sh -c 'exit 7'
assert_eq "$?" 7 "the exit status passes through"
k=$(crun -d "$IMG" sleep 60)
cab container kill "$k" >/dev/null
assert_eq "$(cab container wait "$k")" 137 "container kill: SIGKILL, exit status 128+9"
cab container rm "$k" >/dev/null
assert_eq "$(echo piped | crun --rm -i "$IMG" cat)" "piped" "-i passes stdin"
out=$(script -qec "$CABIN --data-root $D --root $R container run --rm --network none -t $IMG sh -c 'test -t 0 && echo tty'" /dev/null | tr -d '\r')
assert_eq "$out" "tty" "-t gives the process a terminal"
out=$(script -qec "sh -c '(sleep 1; stty cols 123 rows 45 </dev/tty) & $CABIN --data-root $D --root $R container run --rm --network none -t $IMG sh -c \"stty size; sleep 2; stty size\"'" /dev/null | tr -d '\r')
assert_eq "$out" "24 80
45 123" "-t: the pty starts at 24x80 and follows the terminal's size"
out=$(crun --rm --memory 64m --pids-limit 50 --cpus 0.5 "$IMG" sh -c '
	cd /sys/fs/cgroup
	cat memory/memory.limit_in_bytes 2>/dev/null || cat memory.max
	cat pids/pids.max 2>/dev/null || cat pids.max
	cat cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 cpu.max' 2>&1)
assert_eq "$out" "67108864
50
50000" "--memory, --pids-limit and --cpus are the container's cgroup limits"
err=$(crun --rm --read-only "$IMG" touch /x 2>&1)
assert_contains "$err" "Read-only file system" "--read-only"

# Volumes: named, bind, read-only, tmpfs.
cab volume create vol1 >/dev/null
crun --rm -v vol1:/v "$IMG" sh -c 'echo kept >/v/f'
assert_eq "$(crun --rm -v vol1:/v:ro "$IMG" cat /v/f)" "kept" "a named volume keeps its data"
err=$(crun --rm -v vol1:/v:ro "$IMG" touch /v/g 2>&1)
assert_contains "$err" "Read-only file system" "a volume mounted :ro"
mkdir -p "$T/host"
echo from-host >"$T/host/f"
assert_eq "$(crun --rm -v "$T/host:/h" "$IMG" cat /h/f)" "from-host" "a bind mount"
assert_eq "$(crun --rm --mount "type=bind,source=$T/host,target=/h,readonly" "$IMG" \
	sh -c 'cat /h/f; touch /h/x 2>/dev/null || echo ro')" "from-host
ro" "--mount type=bind,readonly"
assert_contains "$(crun --rm --tmpfs /scratch "$IMG" grep ' /scratch ' /proc/mounts)" "tmpfs" \
	"--tmpfs"
assert_contains "$(cab volume ls)" "vol1" "volume ls"
assert_contains "$(cab volume inspect vol1)" "\"Mountpoint\": \"$D/volumes/vol1/_data\"" \
	"volume inspect gives its mount point"
assert_eq "$(cat "$D/volumes/vol1/_data/f")" "kept" "which holds what the container wrote"
assert_contains "$(cab volume rm vol1)" "vol1" "volume rm"

# Detached: logs, ps, exec, stop, wait, rm.
id=$(crun -d --name web "$IMG" sh -c 'echo out; echo err >&2; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done')
assert_eq "${#id}" 64 "run -d prints the container ID and returns"
sleep 0.5
assert_contains "$(cab container ps)" "web" "ps lists it"
assert_eq "$(cab ps -q)/$(cab ps -a | grep -c ' web$')" "$(cab container ps -q)/1" \
	"cabin ps without a container ID is container ps (Docker's ps)"
assert_eq "$(cab container logs web 2>/dev/null)" "out" "logs: stdout"
assert_eq "$(cab container logs web 2>&1 >/dev/null)" "err" "logs: stderr separately"
assert_eq "$(cab container exec web cat /data/b)" "file b v2" "exec in the running container"
out=$(script -qec "$CABIN --data-root $D --root $R container exec -it web sh -c 'test -t 0 && tty'" /dev/null | tr -d '\r')
assert_contains "$out" "/dev/pts/" "exec -it gives the process a terminal"
err=$(crun -d --name web "$IMG" true 2>&1)
assert_contains "$err" "the container name \`web\` is already in use" "a name in use: a clear error"
assert_eq "$(cab container ps -a | grep -c ' web$')" 1 "and nothing was left by the refused run"
cab container stop -t 5 web >/dev/null
assert_eq "$(cab container wait web)" 0 "stop sends the StopSignal; the trap exits 0"
assert_contains "$(cab container logs web 2>/dev/null)" "bye" "the log has the output up to the end"
assert_contains "$(cab container inspect web)" '"Status": "exited"' "inspect shows it exited"
assert_contains "$(cab container inspect web)" '"80/tcp"' "inspect shows the image's ExposedPorts"
cab container rm web >/dev/null
assert_eq "$(ls "$D/containers" "$D/names" | grep -c .)" 2 "rm leaves no container directory or name"
assert_eq "$(grep -c "$D/containers" /proc/self/mountinfo)" 0 "no rootfs mount is left"

# Output that is not UTF-8 (binary, Latin-1) is kept in the json-file log, each invalid
# byte as U+FFFD as Docker writes it, not dropped with the line.
id=$(crun -d "$IMG" sh -c 'printf "caf\351 \377\376ok\n"; echo next')
assert_eq "$(cab container wait "$id")" 0 "a container that prints bytes that are not UTF-8"
assert_eq "$(cab container logs "$id" 2>/dev/null)" "$(printf 'caf\357\277\275 \357\277\275\357\277\275ok\nnext')" \
	"logs keep its line, invalid bytes as U+FFFD"
cab container rm "$id" >/dev/null

# logs -f follows until the container exits.
id=$(crun -d "$IMG" sh -c 'echo a; sleep 1; echo b')
assert_eq "$(timeout 10 "$CABIN" --data-root "$D" --root "$R" container logs -f "$id"; echo "rc $?")" \
	"a
b
rc 0" "logs -f prints what comes later and returns when the container exits"
cab container rm "$id" >/dev/null
# The image's StopSignal is what stop sends.
mkimage "$T/usr1" --stop-signal SIGUSR1 --tag usr1 >/dev/null
cab image load -q -i "$T/usr1" >/dev/null 2>&1
id=$(crun -d localhost/image:usr1 sh -c 'trap "exit 3" USR1; trap "exit 4" TERM; echo up; while :; do sleep 0.1; done')
for i in $(seq 50); do [ "$(cab container logs "$id" 2>/dev/null)" = up ] && break; sleep 0.1; done
cab container stop -t 5 "$id" >/dev/null
assert_eq "$(cab container wait "$id")" 3 "stop sends the image's StopSignal (SIGUSR1 here)"
cab container rm "$id" >/dev/null

# A foreground run: SIGTERM to the CLI reaches the container (Docker's sig-proxy).
"$CABIN" --data-root "$D" --root "$R" container run --rm --network none "$IMG" \
	sh -c 'trap "echo got TERM; exit 5" TERM; echo ready; while :; do sleep 0.1; done' >"$T/fg" &
fg=$!
for i in $(seq 50); do grep -q ready "$T/fg" 2>/dev/null && break; sleep 0.1; done
kill -TERM $fg
wait $fg
assert_eq "$?:$(tail -1 "$T/fg")" "5:got TERM" "SIGTERM to a foreground run reaches the container"

# The monitor outlives the CLI: kill -9 of a foreground run leaves the container running
# and logging.
"$CABIN" --data-root "$D" --root "$R" container run --name orphan --network none "$IMG" \
	sh -c 'echo first; read x </dev/null; sleep 1; echo second; sleep 30' >"$T/orphan" 2>&1 &
fg=$!
for i in $(seq 50); do grep -q first "$T/orphan" 2>/dev/null && break; sleep 0.1; done
kill -9 $fg
wait $fg 2>/dev/null
sleep 1.5
assert_contains "$(cab container ps)" "orphan" "after kill -9 of the CLI the container still runs"
assert_eq "$(cab container logs orphan)" "first
second" "and its monitor still writes its log"
cab container rm -f orphan >/dev/null

# k8s-file logs with rotation.
id=$(crun -d --log-driver k8s-file --log-opt max-size=2k --log-opt max-file=2 "$IMG" \
	sh -c 'i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done')
cab container wait "$id" >/dev/null
assert_contains "$(cat "$D/containers/$id/ctr.log")" "stdout F line 199" "k8s-file log lines"
ok "the log was rotated at max-size" test -s "$D/containers/$id/ctr.log.1"
assert_eq "$(cab container logs --tail 1 "$id")" "line 199" "logs --tail 1"
cab container rm "$id" >/dev/null
# json-file (the default) with rotation: logs reads the rotated files, oldest first
id=$(crun -d --log-opt max-size=2k --log-opt max-file=3 "$IMG" \
	sh -c 'i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); done')
cab container wait "$id" >/dev/null
L=$D/containers/$id/ctr.log
ok "json-file: rotated at max-size, max-file=3 files kept" \
	test -s "$L.1" -a -s "$L.2" -a ! -e "$L.3" -a "$(stat -c %s "$L.1")" -lt 2300
assert_contains "$(head -1 "$L")" '"stream":"stdout"' "json-file lines: log, stream, time"
out=$(cab container logs "$id")
first=$(echo "$out" | head -1)
first=${first#line }
assert_eq "$(echo "$out" | awk -v f="$first" '$2 != f + NR - 1 { bad = 1 } END { print bad + 0, $2 }')" \
	"0 299" "logs: the kept lines in order, across the rotated files, to the last"
cab container rm "$id" >/dev/null
done_testing
