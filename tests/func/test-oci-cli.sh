#!/bin/bash
# The parts of runc's command line that clients and runc's own suite use: exec --cap,
# --additional-gids, --cgroup, --ignore-paused, exit 255; ps with ps(1) options; kill 0;
# events; update flags; run --keep; help COMMAND; --cgroup-manager; --systemd-cgroup;
# the rootless default root.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 51

B=$T/b
mkbundle "$B"
id=$PFX-cli
cleanup() { rt delete -f "$id"; rt delete -f $PFX-keep; rt delete -f $PFX-nocg; }
at_exit cleanup

args "$B" /init sleep 1000
ok "run -d" rt run -d -b "$B" "$id"
pid=$(json_get "$(rt state "$id")" pid)

# exec
out=$(rt exec --user 1000:1000 --additional-gids 100 --additional-gids 65534 "$id" /init id)
assert_contains "$out" "groups=100,65534" "exec --additional-gids"
caps=$(rt exec --cap CAP_SYS_ADMIN "$id" /init caps | grep CapEff | awk '{print $2}')
assert_eq "$(( (0x$caps >> 21) & 1 ))" 1 "exec --cap adds CAP_SYS_ADMIN to the effective set"
caps=$(rt exec "$id" /init caps | grep CapEff | awk '{print $2}')
assert_eq "$(( (0x$caps >> 21) & 1 ))" 0 "without --cap, no CAP_SYS_ADMIN"
echo '{"args":["/init","id"],"cwd":"/"}' >"$T/p.json"
assert_contains "$(rt exec -p "$T/p.json" "$id")" "uid=0 gid=0" "exec -p without user runs as 0:0"
echo '{"args":["/init","id"],"cwd":"/","user":{"uid":"x"}}' >"$T/bad.json"
out=$(rt exec -p "$T/bad.json" "$id" 2>&1)
assert_contains "$out" "--process \`$T/bad.json\`: \`process.user.uid\` must be an integer" \
	"exec -p: an error in the file names the file and the field"
assert_not_contains "$out" "config.json" "exec -p: the error does not blame config.json"
out=$(rt exec --cwd rel "$id" /init true 2>&1)
assert_contains "$out" "exec in \`$id\`: \`process.cwd\` must be an absolute path, not \`rel\`" \
	"exec --cwd: a relative directory is refused, naming the field"
rt exec "$id" /no/such/binary 2>/dev/null
assert_eq "$?" 255 "exec: a runtime failure exits 255"
rt exec no-such-$PFX /init echo x 2>/dev/null
assert_eq "$?" 255 "exec of a missing container exits 255"
rt exec "$id" /init exit 3
assert_eq "$?" 3 "exec: the process's status passes through"
out=$(rt exec --cgroup .. "$id" /init echo x 2>&1)
assert_contains "$out" ".. is not a sub cgroup path" "exec --cgroup refuses .."
out=$(rt exec --cgroup nosuch "$id" /init echo x 2>&1)
assert_contains "$out" "nosuch/cgroup.procs: no such file" "exec --cgroup: a missing sub-cgroup"
out=$(rt exec --cgroup bogusctl:/ "$id" /init echo x 2>&1)
assert_contains "$out" "unknown controller bogusctl" "exec --cgroup: an unknown controller"
ok "exec --cgroup / joins the container's cgroup" rt exec --cgroup / "$id" /init echo -n

# kill 0, ps
ok "kill 0 of a running container succeeds" rt kill "$id" 0
out=$(rt ps "$id")
assert_contains "$(echo "$out" | head -1)" "UID        PID  PPID" "ps: the ps -ef header"
assert_contains "$out" " $pid " "ps lists the init"
out=$(rt ps "$id" -o pid,comm)
assert_eq "$(echo "$out" | head -1 | tr -s ' ')" " PID COMMAND" "ps passes its options to ps(1)"
assert_eq "$(echo "$out" | wc -l)" 2 "ps shows only the container's processes"

# events
out=$(rt events --stats "$id")
assert_contains "$out" "{\"type\":\"stats\",\"id\":\"$id\",\"data\":" "events --stats"
rt events --interval 100ms "$id" >"$T/ev" &
evpid=$!
sleep 0.5
n=$(grep -c '"type":"stats"' "$T/ev")
ok "events --interval 100ms prints stats repeatedly ($n)" test "$n" -ge 2
nok "events --interval rejects a bad duration" rt events --interval 5x "$id"

# update flags
ok "update --pids-limit --memory" rt update --pids-limit 77 --memory 64M "$id"
cg=$(awk -F: '$2=="pids"{print $3}' /proc/$pid/cgroup)
assert_eq "$(cat /sys/fs/cgroup/pids$cg/pids.max 2>/dev/null || cat /sys/fs/cgroup$cg/pids.max)" 77 "update --pids-limit writes pids.max"
mcg=$(awk -F: '$2=="memory"{print $3}' /proc/$pid/cgroup)
if [ -n "$mcg" ]; then
	assert_eq "$(cat /sys/fs/cgroup/memory$mcg/memory.limit_in_bytes)" 67108864 "update --memory 64M"
else
	assert_eq "$(cat /sys/fs/cgroup$cg/memory.max)" 67108864 "update --memory 64M"
fi
nok "update rejects a bad value" rt update --memory lots "$id"
ok "update takes its options after the ID too" rt update "$id" --pids-limit 78
ok "update --memory-swap alone keeps the current memory limit" rt update --memory-swap 128M "$id"
ok "update --memory -1 alone lifts the memory+swap limit too" rt update --memory -1 "$id"

# pause + exec
rt pause "$id"
out=$(rt exec "$id" /init echo x 2>&1)
assert_eq "$?" 255 "exec into a paused container fails with 255"
assert_contains "$out" "cannot exec in a paused container" "exec into a paused container: the error"
(sleep 1; rt resume "$id") &
respid=$!
assert_eq "$(rt exec --ignore-paused "$id" /init echo ok)" ok "exec --ignore-paused waits for the resume"
wait $respid
ok "kill" rt kill "$id" KILL
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
for _ in $(seq 50); do kill -0 "$evpid" 2>/dev/null || break; sleep 0.05; done
nok "events stops once the container stopped" kill -0 "$evpid"
nok "kill 0 of a stopped container fails" rt kill "$id" 0

# run --keep
args "$B" /init exit 0
ok "run --keep" rt run --keep -b "$B" $PFX-keep
assert_eq "$(json_get "$(rt state $PFX-keep)" status)" stopped "run --keep leaves a stopped container"
ok "delete after run --keep" rt delete $PFX-keep

# cgroup managers
args "$B" /init sleep 1000
"$CABIN" --root "$STATE" --cgroup-manager disabled run -d -b "$B" $PFX-nocg
npid=$(json_get "$(rt state $PFX-nocg)" pid)
assert_eq "$(cat /proc/$npid/cgroup)" "$(cat /proc/$$/cgroup)" "--cgroup-manager disabled: the container stays in the caller's cgroup"
out=$("$CABIN" --root "$STATE" --systemd-cgroup list 2>&1)
assert_eq "$?" 1 "--systemd-cgroup is refused"
assert_contains "$out" "systemd cgroup manager is not supported" "--systemd-cgroup: the error says why"

# help COMMAND, rootless default root
assert_contains "$("$CABIN" help kill)" "usage: cabin kill" "help COMMAND"
out=$("$CABIN" foo -h 2>&1)
assert_eq "$? $out" "3 No help topic for 'foo'" "COMMAND -h of an unknown command: runc's words, status 3"
assert_contains "$("$CABIN" help foo 2>&1)" "No help topic for 'foo'" "help of an unknown command: runc's words"
assert_contains "$("$CABIN" foo 2>&1)" "unknown command \`foo\`" "an unknown command without -h: cabin's error"
if command -v setpriv >/dev/null; then
	mkdir -p "$T/xdg/cabin/$PFX-x" && mkfifo "$T/xdg/cabin/$PFX-x/exec.fifo"
	chmod -R a+rx "$T"
	out=$(setpriv --reuid 65534 --regid 65534 --clear-groups env XDG_RUNTIME_DIR="$T/xdg" \
		"$(user_cabin)" list -q)
	assert_eq "$out" "$PFX-x" "rootless: the default root is \$XDG_RUNTIME_DIR/cabin"
else
	skip "setpriv is missing"
fi
# list: ROOT/vm holds microVM sockets, not a container
mkdir -p "$T/lr/vm" "$T/lr/$PFX-c" && mkfifo "$T/lr/$PFX-c/exec.fifo"
assert_eq "$("$CABIN" --root "$T/lr" list -q)" "$PFX-c" "list skips ROOT/vm but shows a container being created"
assert_contains "$("$CABIN" --root "$T/lr" list --format json)" "\"id\":\"$PFX-c\",\"pid\":0,\"status\":\"creating\"" "list --format json: runc's key order"

# spec: runc's default document (hostname aside), as root and rootless
if command -v runc >/dev/null; then
	for r in "" --rootless; do
		rm -rf "$T/sc" "$T/sr" && mkdir "$T/sc" "$T/sr"
		(cd "$T/sc" && "$CABIN" spec $r) && (cd "$T/sr" && runc spec $r)
		same=$(python3 -c 'import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
a.pop("hostname"); b.pop("hostname"); print(a==b)' "$T/sc/config.json" "$T/sr/config.json")
		assert_eq "$same" True "spec $r equals runc spec $r"
	done
else
	skip "runc is not installed"
	skip "runc is not installed"
fi
done_testing
