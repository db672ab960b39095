#!/bin/bash
# Mount destinations resolve inside the rootfs even on a kernel without openat2 (before
# 5.6): run under a seccomp filter that makes openat2 fail with ENOSYS (init noopenat2),
# an image that plants an absolute symlink to a host directory and a relative one that
# climbs above the rootfs, plus a destination with `..`, must not create or mount
# anything on the host; ordinary mounts still work. The same with openat2, for reference.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 7

PFX=secr$$
cleanup() {
	local c
	for c in $(rt list -q 2>/dev/null); do rt delete --force "$c"; done
}
at_exit cleanup

out=$("$INIT" noopenat2 "$INIT" syscall 437 2>&1)
assert_eq "$out" "-1 Function not implemented" "the filter makes openat2 fail with ENOSYS"

B=$T/b
mkbundle "$B"
host=$T/host # a host directory the image names
mkdir -p "$host/a" "$T/src"
echo BIND >"$T/src/marker"
ln -s "$host" "$B/rootfs/abs"
mkdir -p "$B/rootfs$host/a" # where the link leads when it is read inside the rootfs
ln -s ../../../../../../../../../../.. "$B/rootfs/up"
cfg "$B" 'c["mounts"] += [
 {"destination":"/abs/a/n1","type":"tmpfs","source":"tmpfs"},
 {"destination":"/up'"$host"'/a/n2","type":"tmpfs","source":"tmpfs"},
 {"destination":"/../../../../../../../..'"$host"'/a/n3","type":"tmpfs","source":"tmpfs"},
 {"destination":"/data","type":"bind","source":"'"$T/src"'","options":["rbind","ro"]}]'

# run_in MODE ID ARGS...: the container, with (MODE=openat2) or without (ENOSYS) openat2
run_in() {
	local mode=$1 id=$2
	shift 2
	args "$B" "$@"
	if [ "$mode" = enosys ]; then
		"$INIT" noopenat2 "$CABIN" --root "$STATE" run --bundle "$B" "$id" 2>&1
	else
		rt run --bundle "$B" "$id" 2>&1
	fi
}

for mode in enosys openat2; do
	out=$(run_in $mode $PFX-$mode /init mounts)
	# mountinfo's 5th field: where each mount is, as the container sees it
	mp=$(echo "$out" | awk '{ print $5 }' | tr '\n' ' ')
	assert_contains " $mp" " $host/a/n1 $host/a/n2 $host/a/n3 " \
		"$mode: the planted links and \`..\` resolve inside the rootfs"
	assert_eq "$(ls -A "$host/a")" "" "$mode: nothing created in the host directory"
	out=$(run_in $mode $PFX-$mode-b /init cat /data/marker)
	assert_eq "$out" "BIND" "$mode: an ordinary bind mount still works"
	rmdir "$B/rootfs$host/a/"n*
done

done_testing
