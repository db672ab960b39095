#!/bin/bash
# OCI lifecycle: create/start/state/kill/delete, run, exit status, signals, pid file, exec,
# list, ps, pause/resume, spec and features.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 69

B=$T/b
mkbundle "$B"
id=$PFX-a

args "$B" /init sleep 1000
ok "create" rt create --bundle "$B" --pid-file "$T/pid" "$id"
st=$(rt state "$id")
assert_eq "$(json_get "$st" status)" created "state: created"
assert_eq "$(json_get "$st" id)" "$id" "state: id"
assert_eq "$(json_get "$st" bundle)" "$B" "state: bundle"
assert_eq "$(json_get "$st" pid)" "$(cat "$T/pid")" "pid file holds the init pid"
assert_eq "$(json_get "$st" ociVersion)" 1.2.0 "state: ociVersion"
pid=$(cat "$T/pid")
ok "the init process exists before start" test -d /proc/$pid
ok "start" rt start "$id"
assert_eq "$(json_get "$(rt state "$id")" status)" running "state: running"
nok "start twice fails" rt start "$id"
assert_contains "$(rt list)" "$id" "list shows the container"
assert_contains "$(rt list --format json)" "\"id\":\"$id\"" "list --format json"
assert_eq "$(rt list -q)" "$id" "list -q"
assert_contains "$(rt ps "$id")" "$pid" "ps lists the init"
assert_eq "$(rt exec "$id" /init pid)" "2 0" "exec runs in the container's pid namespace"
rt exec "$id" /init exit 7
assert_eq "$?" 7 "exec passes the exit status through"
assert_eq "$(rt exec --env FOO=bar "$id" /init env FOO)" bar "exec --env"
assert_eq "$(rt exec --cwd /tmp "$id" /init cwd)" /tmp "exec --cwd"
assert_eq "$(rt exec --user 1000:1001 "$id" /init id | cut -d' ' -f1,2)" "uid=1000 gid=1001" "exec --user"
cat >"$T/proc.json" <<J
{"args":["/init","echo","from-process-file"],"cwd":"/","user":{"uid":0,"gid":0},"env":["A=1"]}
J
assert_eq "$(rt exec --process "$T/proc.json" "$id")" from-process-file "exec --process FILE"
ok "update --resources - (stdin)" sh -c "echo '{\"pids\":{\"limit\":64}}' | '$CABIN' --root '$STATE' update -r - '$id'"
echo '{"pids":{"limit":"many"}}' >"$T/bad.json"
assert_contains "$(rt update --resources "$T/bad.json" "$id" 2>&1)" "pids.limit" "update: a bad value names the field"
ok "pause" rt pause "$id"
assert_eq "$(json_get "$(rt state "$id")" status)" paused "state: paused"
ok "resume" rt resume "$id"
assert_eq "$(json_get "$(rt state "$id")" status)" running "state: running after resume"
nok "delete of a running container fails without --force" rt delete "$id"
ok "kill with a signal name" rt kill "$id" SIGKILL
for _ in $(seq 50); do [ "$(json_get "$(rt state "$id")" status)" = stopped ] && break; sleep 0.05; done
assert_eq "$(json_get "$(rt state "$id")" status)" stopped "state: stopped after kill"
ok "delete" rt delete "$id"
nok "state of a deleted container fails" rt state "$id"

# run: the exit status and signals propagate, and the container is gone afterwards
args "$B" /init exit 42
rt run --bundle "$B" $PFX-r
assert_eq "$?" 42 "run exits with the container's status"
# a setup failure of the init is the run's error, not an exit status, and leaves nothing
cp "$B/config.json" "$T/config.saved"
sed -i 's|"cwd": *"[^"]*"|"cwd": "/no-such-dir"|' "$B/config.json"
out=$(rt run --bundle "$B" $PFX-rf 2>&1)
assert_eq "$?:$(echo "$out" | grep -c 'process.cwd')" "1:1" "run: a failed setup is an error naming its cause"
nok "run: nothing is left of a failed setup" rt state $PFX-rf
cp "$T/config.saved" "$B/config.json"
args "$B" /init sleep 1000
rt run -b "$B" $PFX-r &
for _ in $(seq 100); do [ "$(json_get "$(rt state $PFX-r)" status)" = running ] && break; sleep 0.05; done
rt kill $PFX-r KILL
wait $!
assert_eq "$?" 137 "run exits with 128+signal"
args "$B" /init trap
(exec "$CABIN" --root "$STATE" run -b "$B" $PFX-r >"$T/trap.out") &
rpid=$!
for _ in $(seq 100); do grep -q ready "$T/trap.out" && break; sleep 0.05; done
kill -USR1 $rpid
wait $rpid
assert_eq "$?" $((100 + 10)) "run forwards signals to the container"
no_leftovers $PFX-r "run removes everything when the container exits"

args "$B" /init sleep 1000
ok "run --detach" rt run -d --bundle "$B" $PFX-d
ok "kill --all" rt kill --all $PFX-d KILL
sleep 0.2
ok "delete after kill --all" rt delete $PFX-d

# a signal sent right after start, before the init installed its handler: the kernel drops
# it for a PID-namespace init with the default disposition, so kill waits for the handler
args "$B" /init trap 100
ok "create (late handler)" rt create --bundle "$B" $PFX-lh
ok "start (late handler)" rt start $PFX-lh
ok "kill TERM right after start" rt kill $PFX-lh TERM
for _ in $(seq 60); do [ "$(json_get "$(rt state $PFX-lh)" status)" = stopped ] && break; sleep 0.05; done
assert_eq "$(json_get "$(rt state $PFX-lh)" status)" stopped "a TERM sent before the handler exists still arrives"
rt delete --force $PFX-lh

# an init that takes its signals with sigwaitinfo() (tini, dumb-init, --init): while it
# waits, /proc/PID/status shows them unblocked, not caught; kill must not wait for a
# handler that it will never install (a second, before)
args "$B" /init sigwait
(exec "$CABIN" --root "$STATE" run -b "$B" $PFX-sw >"$T/sw.out") &
swpid=$!
for _ in $(seq 100); do grep -q ready "$T/sw.out" && break; sleep 0.05; done
sleep 0.2
s=$(date +%s%N)
rt kill $PFX-sw TERM
e=$(( ($(date +%s%N) - s) / 1000000 ))
wait $swpid
assert_eq "$?" 115 "an init in sigwaitinfo() gets the TERM"
ok "  ... at once, without waiting for a handler ($e ms)" test "$e" -lt 900
rt delete --force $PFX-sw

# a shell that has set its trap but is still forking when the signal comes acts on it only
# after its next command: kill gives a just-started container a moment (runtime-tools killsig)
if [ -x /bin/busybox ]; then
	cp /bin/busybox "$B/rootfs/busybox"
	cp "$B/config.json" "$T/config.sh-saved"
	args "$B" /busybox sh -c 'trap "exit 0" USR1; /busybox sleep 10 & wait $!'
	got=0 settled=0
	for i in 1 2 3 4 5; do
		rt create --bundle "$B" $PFX-sh$i && rt start $PFX-sh$i
		t0=$EPOCHREALTIME
		rt kill $PFX-sh$i USR1
		[ $(( (${EPOCHREALTIME/./} - ${t0/./}) / 1000 )) -ge 50 ] && settled=$((settled + 1))
		for _ in $(seq 40); do [ "$(json_get "$(rt state $PFX-sh$i)" status)" = stopped ] && break; sleep 0.05; done
		[ "$(json_get "$(rt state $PFX-sh$i)" status)" = stopped ] && got=$((got + 1))
		rt delete --force $PFX-sh$i
	done
	assert_eq "$got" 5 "USR1 right after start ends a shell waiting in its trap, 5 times in 5"
	assert_eq "$settled" 5 "a signal right after start waits for the process to settle"
	rm -f "$B/rootfs/busybox"
	cp "$T/config.sh-saved" "$B/config.json"
else
	skip "busybox-static is not installed"
fi

# kill --all after the init exited: containerd's shim does this at every teardown and expects
# 0 (as runc); what is left in the cgroup (no PID namespace here) is killed.
cp "$B/config.json" "$T/config.saved"
cfg "$B" 'c["linux"]["namespaces"]=[n for n in c["linux"]["namespaces"] if n["type"]!="pid"]'
ok "run --detach without a PID namespace" rt run -d --bundle "$B" $PFX-ka
ok "exec --detach a second process" rt exec -d --pid-file "$T/ka.pid" $PFX-ka /init sleep 1000
left=$(cat "$T/ka.pid")
rt kill $PFX-ka KILL
for _ in $(seq 50); do [ "$(json_get "$(rt state $PFX-ka)" status)" = stopped ] && break; sleep 0.05; done
assert_eq "$(json_get "$(rt state $PFX-ka)" status)" stopped "state: stopped once the init is killed"
ok "kill --all of a stopped container returns 0 (containerd teardown)" rt kill --all $PFX-ka 9
for _ in $(seq 50); do [ -n "$left" ] && kill -0 "$left" 2>/dev/null || break; sleep 0.05; done
assert_eq "$([ -n "$left" ] && ! kill -0 "$left" 2>/dev/null && echo gone)" gone \
	"kill --all of a stopped container kills what is left in its cgroup"
nok "kill of a stopped container without --all still fails" rt kill $PFX-ka 9
ok "delete after the teardown kill" rt delete $PFX-ka
nok "kill --all after delete fails: no such container" rt kill --all $PFX-ka 9
cp "$T/config.saved" "$B/config.json"

# The cost of a start: every unmount waits for an RCU grace period, and every message
# between runtime and init for a wake-up. The cgroup hierarchies are binds (no mount and
# unmount each); the init joins its cgroup itself (no PLACED round trip); without
# prestart/createRuntime hooks no HOOKS round trip; a foreground run without poststart
# hooks releases the init before it is created (no ACK, no start).
if command -v strace >/dev/null; then
	args "$B" /init exit 0
	cp "$B/config.json" "$T/config.saved"
	# without a cgroup namespace the hierarchies show the container's own directories
	cfg "$B" 'c["linux"]["namespaces"]=[n for n in c["linux"]["namespaces"] if n["type"]!="cgroup"]'
	strace -f -qq -e trace=umount2,sendmsg -o "$T/cost.trace" "$CABIN" --root "$STATE" run -b "$B" $PFX-cost >/dev/null 2>&1
	assert_eq "$(grep -c 'umount2(' "$T/cost.trace")" 1 "run unmounts only the old root"
	# JOIN brings the v1 cgroups' `tasks` files, made after the clone, on a host with v1
	msgs=2
	grep -q ' - cgroup ' /proc/self/mountinfo && msgs=3
	assert_eq "$(grep -c 'sendmsg(' "$T/cost.trace")" $msgs \
		"run: (JOIN,) GO and READY, nothing more (no ACK, no start)"
	rt delete --force $PFX-cost
	cp "$T/config.saved" "$B/config.json"
else
	skip "strace is not installed"
	skip "strace is not installed"
fi

# The runtime maps no image, NAT or netlink library: those load on first use (src/lib/lazy-link.c)
args "$B" /init sleep 1000
(exec "$CABIN" --root "$STATE" run -b "$B" $PFX-maps) &
rpid=$!
for _ in $(seq 100); do [ "$(json_get "$(rt state $PFX-maps)" status)" = running ] && break; sleep 0.05; done
assert_eq "$(grep -cE 'lib(curl|archive|crypto|nftables|mnl)\.so' /proc/$rpid/maps)" 0 \
	"run maps neither libcurl, libarchive, libcrypto, libnftables nor libmnl"
# state.json names the init's pid namespace (read through the clone's pidfd): ps, kill and
# delete tell the container's processes by it
ipid=$(json_get "$(rt state $PFX-maps)" pid)
assert_eq "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pidns"])' \
	"$STATE/$PFX-maps/state.json")" "$(stat -L -c %i /proc/"$ipid"/ns/pid)" \
	"run records the inode of the init's pid namespace"
rt kill $PFX-maps KILL
wait $rpid

# --preserve-fds: fd 3 of the caller reaches the process, and only with the option
echo preserved >"$T/fd3"
args "$B" /init cat /proc/self/fd/3
assert_eq "$(rt run --preserve-fds 1 -b "$B" $PFX-pf 3<"$T/fd3")" preserved "--preserve-fds 1 passes fd 3"
nok "without --preserve-fds fd 3 is closed" rt run -b "$B" $PFX-pf2 3<"$T/fd3"

# State directories: delete may keep a few emptied ones for the next create to rename into
# place (rmdir(2) can wait for a discard); none is a container, and none carries anything
# over into the next container's state.
args "$B" /init sleep 1000
for i in 1 2 3 4 5 6; do rt create --bundle "$B" $PFX-sd$i; done
for i in 1 2 3 4 5 6; do rt delete --force $PFX-sd$i; done
assert_eq "$(rt list -q | grep -c "^$PFX-sd")" 0 "delete leaves no container behind"
assert_eq "$(($(ls -A "$STATE" | grep -c '^\.') <= 4))" 1 "at most 4 emptied state directories are kept"
for d in "$STATE"/.[!.]*; do [ -d "$d" ] && echo stale >"$d/stale"; done
ok "create after deletes" rt create --bundle "$B" $PFX-sd7
assert_eq "$(ls -A "$STATE/$PFX-sd7" | grep -c stale)" 0 "a new container's state directory starts empty"
assert_eq "$(rt list -q)" $PFX-sd7 "list shows only the container"
rt delete --force $PFX-sd7

# spec + features
mkdir "$T/s"
(cd "$T/s" && "$CABIN" spec)
assert_contains "$(cat "$T/s/config.json")" '"ociVersion"' "spec writes config.json"
assert_contains "$("$CABIN" features)" '"ociVersionMax"' "features prints JSON"
done_testing
