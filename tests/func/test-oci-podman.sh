#!/bin/bash
# podman as a real client: create/start/delete through conmon, with pid file, console
# socket (-t), exec, pause/unpause and exit status propagation.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd podman
plan 8

IMG=localhost/cabin-test-$$
NAME=cabin-test-$$
mkdir -p "$T/img/bin"
cp /bin/busybox "$T/img/bin/" || skip_all "needs busybox-static"
for a in sh echo id hostname cat sleep true tty; do ln -s busybox "$T/img/bin/$a"; done
tar -C "$T/img" -cf "$T/img.tar" .
podman import -q "$T/img.tar" "$IMG" >/dev/null || skip_all "podman import failed"
cleanup() {
	podman --runtime "$CABIN" rm -f "$NAME" >/dev/null 2>&1
	podman rmi -f "$IMG" >/dev/null 2>&1
}
at_exit cleanup
# podman asks for rlimits above what root may set on this host: keep them in range
P=(podman --runtime "$CABIN")
U=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

assert_eq "$("${P[@]}" run --rm "${U[@]}" "$IMG" sh -c 'echo hello; echo pid $$')" "hello
pid 1" "podman run: output and pid 1"
"${P[@]}" run --rm "${U[@]}" "$IMG" sh -c 'exit 7'
assert_eq "$?" 7 "podman run: exit status"
assert_contains "$("${P[@]}" run --rm -t "${U[@]}" "$IMG" tty </dev/null)" "/dev/pts/0" "podman run -t: console socket"
ok "podman run -d" "${P[@]}" run -d --name "$NAME" "${U[@]}" "$IMG" sleep 100
assert_eq "$("${P[@]}" exec "$NAME" sh -c 'echo in-exec')" in-exec "podman exec"
ok "podman pause" "${P[@]}" pause "$NAME"
ok "podman unpause" "${P[@]}" unpause "$NAME"
ok "podman rm -f" "${P[@]}" rm -f -t 0 "$NAME"
done_testing
