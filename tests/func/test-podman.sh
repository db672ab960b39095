#!/bin/bash
# test-podman.sh - podman as a real client of cabin's OCI runtime: create/start/delete
# through conmon with a pid file, exec, stop, cgroup memory limits and a console socket.
#   RUNTIME_UNDER_TEST=/usr/sbin/runc tests/func/test-podman.sh   checks the test itself
# podman runs with private storage, run root, state and lock files under $T, the cgroupfs
# manager, file events and no network, so it neither reads nor changes the machine's
# podman state. The image is imported from a busybox-static root filesystem.
. "$(dirname "$0")/lib.sh"

require_root
require_cmd podman conmon script
BUSYBOX=$(command -v busybox) || skip_all "needs busybox (busybox-static)"
RT=${RUNTIME_UNDER_TEST:-$CABIN}
case $RT in /*) ;; *) RT=$(command -v "$RT") || skip_all "runtime $RT not found" ;; esac
[ -x "$RT" ] || skip_all "runtime $RT not built"

plan 22

# Private podman configuration: nothing under /var/lib/containers, /run/libpod or
# /etc/containers/networks is touched.
mkdir -p "$T/rootfs" "$T/tmp" "$T/net"
chmod 755 "$T"
cat >"$T/containers.conf" <<EOF
[containers]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/events.log"
lock_type = "file"
tmp_dir = "$T/tmp"
static_dir = "$T/storage/libpod"
volume_path = "$T/volumes"
[network]
network_config_dir = "$T/net"
EOF
cat >"$T/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$T/runroot"
graphroot = "$T/storage"
EOF
export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf
PODMAN=(podman --root "$T/storage" --runroot "$T/runroot" --storage-driver vfs
	--cgroup-manager cgroupfs --events-backend file --runtime "$RT")
# The bounding set here lacks CAP_SYS_RESOURCE: podman's default rlimits exceed the
# hard limits root may set, so ask for ones within them.
RUNOPTS=(--network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
pm() { timeout 120 "${PODMAN[@]}" "$@"; }
# podman's stderr of the last step goes to $T/err and is shown when that step's check fails
diag() {
	[ -s "$T/err" ] && sed 's/^/#   podman: /' "$T/err" | head -6
	return 0
}
check() { # check ASSERT-FN ARGS...: an assertion, with podman's stderr on failure
	local f=$_tap_fail
	"$@"
	[ "$_tap_fail" -eq "$f" ] || diag
}
pm_cleanup() {
	pm rm -af -t 0
	pm rmi -af
}
at_exit pm_cleanup

# A minimal image: static busybox with its applets, passwd/group for root.
r=$T/rootfs
mkdir -p "$r"/{bin,proc,sys,dev,etc,tmp,root}
cp "$BUSYBOX" "$r/bin/busybox"
for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
echo "root:x:0:" >"$r/etc/group"
tar -C "$r" -cf "$T/rootfs.tar" .
IMG=localhost/cabin-podman-test-$$:latest
CT=cabin-podman-$$

pm import "$T/rootfs.tar" "$IMG" >/dev/null 2>"$T/err"
check ok "podman import makes an image from a busybox rootfs" pm image exists "$IMG"

# create + start + wait + delete through conmon
out=$(pm run --rm "${RUNOPTS[@]}" "$IMG" echo hi 2>"$T/err")
check assert_eq "$out" "hi" "run --rm IMAGE echo hi prints hi"

pm run --rm "${RUNOPTS[@]}" "$IMG" sh -c 'exit 7' >/dev/null 2>"$T/err"
check assert_eq "$?" 7 "run --rm passes the container's exit status through"

# detached container, exec into it, stop it with SIGTERM, remove it
pm run -d "${RUNOPTS[@]}" --name "$CT" "$IMG" \
	sh -c 'trap "exit 0" TERM; echo started; while :; do sleep 1; done' >/dev/null 2>"$T/err"
check assert_eq "$(pm inspect -f '{{.State.Status}}' "$CT" 2>&1)" running "run -d starts a container that keeps running"

out=$(pm exec "$CT" sh -c 'echo exec-in $(cat /proc/1/cmdline | tr "\0" " ")' 2>"$T/err")
check assert_contains "$out" "exec-in sh -c trap" "exec runs a process beside the container's init"

pm exec "$CT" sh -c 'exit 3' >/dev/null 2>"$T/err"
check assert_eq "$?" 3 "exec passes the process's exit status through"

t0=$EPOCHREALTIME
pm stop -t 20 "$CT" >/dev/null 2>"$T/err"
st=$?
ms=$(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 ))
check ok "stop succeeds" [ $st -eq 0 ]
check assert_eq "$(pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$CT" 2>&1)" "exited 0" \
	"stop delivers SIGTERM: the container exits 0 (after $ms ms)"
check assert_contains "$(pm logs "$CT" 2>"$T/err")" started "logs shows the container's output"

pm rm "$CT" >/dev/null 2>"$T/err"
check ok "rm removes the stopped container" [ $? -eq 0 ]
nok "the removed container is gone" pm container exists "$CT"

# memory limit through the cgroup podman made for the container (v1 or v2 inside)
out=$(pm run --rm "${RUNOPTS[@]}" --memory 64m "$IMG" \
	sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max' 2>"$T/err")
check assert_eq "$out" 67108864 "run --memory 64m: the limit is visible inside the container"

# with a cgroup namespace the container's cgroup is its root, and the limit still shows
out=$(pm run --rm "${RUNOPTS[@]}" --cgroupns private --memory 64m "$IMG" \
	sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; grep -c "/\.\." /proc/self/cgroup' 2>"$T/err")
check assert_eq "$(echo $out)" "67108864 0" "run --cgroupns private --memory 64m: limit inside, cgroups rooted"

# in a user namespace cgroup v1 is bound from the host (mounted with a cgroup namespace)
lim=()
for ns in host private; do
	lim+=("$(pm run --rm "${RUNOPTS[@]}" --uidmap 0:200000:65536 --gidmap 0:200000:65536 \
		--cgroupns $ns --memory 64m "$IMG" \
		sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max' 2>"$T/err")")
done
check assert_eq "${lim[*]}" "67108864 67108864" "--uidmap --memory 64m: the limit inside, with and without a cgroup namespace"

# --read-only and --tmpfs mount tmpfs with tmpcopyup: /etc keeps the image's files
out=$(pm run --rm "${RUNOPTS[@]}" --read-only --tmpfs /etc "$IMG" \
	sh -c 'cat /etc/group; touch /tmp/x /etc/x && echo writable' 2>"$T/err")
check assert_eq "$(echo $out)" "root:x:0: writable" "--read-only --tmpfs /etc: tmpfs start with the image's files"

# --device: podman's fileMode carries the file type bits (S_IFCHR | 0666)
out=$(pm run --rm "${RUNOPTS[@]}" --device /dev/null:/dev/mynull "$IMG" \
	sh -c 'test -c /dev/mynull && echo hi >/dev/mynull && echo dev-ok' 2>"$T/err")
check assert_eq "$out" dev-ok "--device /dev/null:/dev/mynull: the node is there and usable"

# rlimits of 2^64-1 (the spec's unlimited) in config.json
if [ "$(ulimit -Hc)" = unlimited ]; then
	out=$(pm run --rm "${RUNOPTS[@]}" --ulimit core=-1:-1 "$IMG" sh -c 'ulimit -Hc' 2>"$T/err")
	check assert_eq "$out" unlimited "run --ulimit core=-1:-1: the limit is unlimited inside"
else
	skip "the hard core limit here is not unlimited"
fi

# failures reach podman as one message
pm run --rm "${RUNOPTS[@]}" "$IMG" no-such-command >/dev/null 2>"$T/err"
st=$?
one_error() { [ "$st" -eq 127 ] && grep -q "not found" "$T/err" && ! grep -q "Removing container" "$T/err"; }
check ok "a missing command: exit 127 and one error, no failed delete" one_error
printf 'not a binary\n' >"$T/bad"
chmod 755 "$T/bad"
out=$(pm run --rm "${RUNOPTS[@]}" -v "$T/bad:/bad:ro" "$IMG" /bad 2>&1)
check assert_contains "$(echo "$out" | tr A-Z a-z)" "exec format error" \
	"an execve failure after start is shown by podman"

# terminal: podman hands the runtime a console socket; script(1) gives podman a tty.
# The container lingers a moment after its output: podman 4.3 reads the attach socket
# only after `start` returned, and when conmon closes that socket (container exit) with
# stdin bytes from podman still unread, the kernel reports ECONNRESET on the
# SOCK_SEQPACKET socket before the output queued on it, so a container that exits within
# a few ms of `start` loses its output (about 1 run in 7 here; runc is slower to exec).
out=$(timeout 120 script -qec "$(printf '%q ' "${PODMAN[@]}") run --rm -it ${RUNOPTS[*]} $IMG sh -c 'tty; test -t 0 && test -t 1 && echo stdio-is-tty; test /dev/console -ef \$(tty) && echo console-is-tty; sleep 1'" /dev/null </dev/null 2>&1 | tr -d '\r\0')
if [[ $out =~ /dev/pts/[0-9]+ ]]; then _ok 0 "run -it: tty names a /dev/pts device"; else
	_ok 1 "run -it: tty names a /dev/pts device"
	echo "#   got: $(printf %q "$out" | head -c 600)"
fi
assert_contains "$out" "stdio-is-tty" "run -it: stdin and stdout are terminals"
assert_contains "$out" "console-is-tty" "run -it: /dev/console is the container's terminal"

done_testing
