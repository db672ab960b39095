#!/bin/bash
# test-image-opts.sh - the `container run` options Docker users reach for beyond the basics
# of test-image-run.sh, each checked from inside the container: -h, --add-host, --dns*,
# --cap-add/--cap-drop, --privileged, --security-opt, --device, --group-add, --ulimit,
# --shm-size, --stop-signal, --stop-timeout, labels with ps --filter, --restart. Bad
# values are one error naming the option and leave no container behind. The image is
# loaded from an OCI layout (no registry); containers run with --network none.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/img-lib.sh"

require_root
require_cmd python3 busybox zstd

plan 89

D=$T/data
R=$T/run
cab() { "$CABIN" --data-root "$D" --root "$R" "$@"; }
crun() { cab container run --network none "$@"; }
insp() { cab container inspect "$1" | python3 -c "import json,sys; i=json.load(sys.stdin)[0]; print($2)"; }
cleanup_ctrs() {
	local c
	for c in $(cab container ps -aq 2>/dev/null); do cab container rm -f "$c"; done
}
at_exit cleanup_ctrs
# nothing left: no container record and no name
nothing_left() { [ -z "$(ls -A "$D/containers" 2>/dev/null)" ] && [ -z "$(ls -A "$D/names" 2>/dev/null)" ]; }

mkimage "$T/img" >/dev/null
cab image load -i "$T/img" >"$T/load.out" 2>&1
IMG=$(sed -n 's/^Loaded image: //p' "$T/load.out")
ok "the image is loaded" test -n "$IMG"

# -h, --add-host, --dns, --dns-search, --dns-option
out=$(crun --rm -h web.example --add-host db:10.1.2.3 --add-host v6=[fd00::5] "$IMG" \
	sh -c 'hostname; echo $HOSTNAME; cat /etc/hostname')
assert_eq "$out" "web.example
web.example
web.example" "-h: hostname, \$HOSTNAME and /etc/hostname"
hosts=$(crun --rm --add-host db:10.1.2.3 --add-host v6=[fd00::5] "$IMG" cat /etc/hosts)
assert_contains "$hosts" "$(printf '10.1.2.3\tdb\nfd00::5\tv6')" "--add-host: /etc/hosts entries (HOST:IP, HOST=[V6])"
assert_contains "$hosts" "$(printf '127.0.0.1\tlocalhost')" "--add-host keeps localhost"
out=$(crun --rm --dns 192.0.2.53 --dns 2001:db8::53 --dns-search a.example --dns-search b.example \
	--dns-option ndots:2 "$IMG" cat /etc/resolv.conf)
assert_eq "$out" "nameserver 192.0.2.53
nameserver 2001:db8::53
search a.example b.example
options ndots:2" "--dns, --dns-search, --dns-option replace the host's resolv.conf lines"
out=$(crun --rm --dns-search . "$IMG" cat /etc/resolv.conf)
assert_not_contains "$out" "search" "--dns-search .: no search line"
err=$(crun --rm --add-host nocolon "$IMG" true 2>&1)
assert_contains "$err" "--add-host \`nocolon\`: expected HOST:IP" "--add-host without an IP"
err=$(crun --rm --dns 1.2.3 "$IMG" true 2>&1)
assert_contains "$err" "--dns \`1.2.3\`: not an IP address" "--dns with a bad address"
err=$(crun --rm -h -bad "$IMG" true 2>&1)
assert_contains "$err" "--hostname \`-bad\`" "a bad host name"
err=$(crun --rm --add-host gw:host-gateway "$IMG" true 2>&1)
assert_contains "$err" "host-gateway needs a bridge network, not \`none\`" \
	"--add-host host-gateway on network none"
ok "nothing is left by the refused runs" nothing_left

# Capabilities: Docker's default set, --cap-add/--cap-drop (ALL, any case, with or without CAP_)
bnd=$((16#$(sed -n 's/^CapBnd:\t//p' /proc/self/status)))
capeff() { crun --rm "$@" "$IMG" sed -n 's/^CapEff:\t//p' /proc/self/status; }
hex() { printf '%016x' $(($1)); }
# CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW
# SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
assert_eq "$(capeff)" "$(hex "0xa80425fb & bnd")" "the default capabilities are Docker's"
assert_eq "$(capeff --cap-drop ALL --cap-add net_admin --cap-add CAP_SYS_ADMIN)" \
	"$(hex "(1 << 12 | 1 << 21) & bnd")" "--cap-drop ALL --cap-add net_admin --cap-add CAP_SYS_ADMIN"
assert_eq "$(capeff --cap-drop NET_RAW --cap-drop cap_mknod)" "$(hex "0xa80425fb & ~(1 << 13 | 1 << 27) & bnd")" \
	"--cap-drop removes from the default set"
assert_eq "$(capeff --cap-add all --cap-drop chown)" "$(hex "bnd & ~1")" \
	"--cap-add ALL: every capability of the runtime's bounding set, minus --cap-drop"
err=$(crun --rm --cap-add CAP_FLY "$IMG" true 2>&1)
assert_contains "$err" "--cap-add \`CAP_FLY\`: unknown capability" "an unknown capability"
# --privileged
out=$(crun --rm --privileged "$IMG" sh -c 'sed -n "s/^CapEff:\t//p" /proc/self/status;
	grep -c " /proc/sys " /proc/mounts; grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1;
	ls /dev | wc -l')
assert_eq "$(echo "$out" | sed -n 1p)" "$(hex bnd)" "--privileged: every capability"
assert_eq "$(echo "$out" | sed -n 2,3p)" "0
rw" "--privileged: /proc/sys not read-only, /sys writable"
ok "--privileged: the host's devices (host $(find /dev -maxdepth 1 \( -type c -o -type b \) | wc -l))" \
	test "$(echo "$out" | sed -n 4p)" -ge "$(find /dev -maxdepth 1 \( -type c -o -type b \) | wc -l)"
out=$(crun --rm "$IMG" sh -c 'grep -c " /proc/sys " /proc/mounts; grep " /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1')
assert_eq "$out" "1
ro" "without --privileged: /proc/sys and /sys read-only"
# --security-opt
nnp() { crun --rm "$@" "$IMG" sed -n 's/^NoNewPrivs:\t//p' /proc/self/status; }
assert_eq "$(nnp) $(nnp --security-opt no-new-privileges) $(nnp --security-opt no-new-privileges=false)" \
	"0 1 0" "--security-opt no-new-privileges[=true|false]"
cat >"$T/prof.json" <<'EOF'
{"defaultAction": "SCMP_ACT_ALLOW",
 "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
 "syscalls": [
  {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
  {"names": ["sethostname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "excludes": {"caps": ["CAP_SYS_ADMIN"]}}]}
EOF
out=$(crun --rm --security-opt seccomp="$T/prof.json" "$IMG" sh -c 'mkdir /x 2>/dev/null || echo refused; hostname h1 2>/dev/null || echo refused')
assert_eq "$out" "refused
refused" "--security-opt seccomp=PROFILE (Docker's format): the profile's rules apply"
out=$(crun --rm --cap-add SYS_ADMIN --security-opt seccomp="$T/prof.json" "$IMG" sh -c 'hostname h2 && hostname')
assert_eq "$out" "h2" "a rule excluded for a capability the container holds is left out"
out=$(crun --rm --security-opt seccomp=unconfined "$IMG" sed -n 's/^Seccomp:\t//p' /proc/self/status)
assert_eq "$out" "0" "--security-opt seccomp=unconfined: no filter"
# no --security-opt seccomp: the default profile, as Docker and podman apply
out=$(crun --rm "$IMG" sh -c 'sed -n "s/^Seccomp:\t//p" /proc/self/status; mkdir /x && echo mkdir; unshare -U true 2>/dev/null || echo refused')
assert_eq "$out" "2
mkdir
refused" "no --security-opt seccomp: the default profile (mkdir allowed, unshare refused)"
if [ "$(crun --rm --security-opt seccomp=unconfined "$IMG" sh -c 'unshare -U true && echo ok' 2>/dev/null)" = ok ]; then
	_ok 0 "unshare -U works in the container without a filter: the default profile refused it"
else
	skip "unshare -U does not work here without a filter either"
fi
out=$(crun --rm --cap-add SYS_ADMIN "$IMG" sh -c 'unshare -m true && echo allowed')
assert_eq "$out" "allowed" "--cap-add SYS_ADMIN: the default profile lets unshare through"
out=$(crun --rm --privileged "$IMG" sed -n 's/^Seccomp:\t//p' /proc/self/status)
assert_eq "$out" "0" "--privileged: no seccomp filter"
echo '{"syscalls": []}' >"$T/bad.json"
err=$(crun --rm --security-opt seccomp="$T/bad.json" "$IMG" true 2>&1)
assert_contains "$err" "no defaultAction: not a seccomp profile" "a file that is not a profile"
err=$(crun --rm --security-opt apparmor=foo "$IMG" true 2>&1)
assert_contains "$err" "--security-opt \`apparmor=foo\`" "an unknown --security-opt"

# --device, --group-add, --ulimit, --shm-size
out=$(crun --rm --device /dev/null:/dev/mynull "$IMG" sh -c 'stat -c "%F %t:%T" /dev/mynull; echo x >/dev/mynull && echo written')
assert_eq "$out" "character special file 1:3
written" "--device HOST:CTR: the node, usable"
if [ -c /dev/kmsg ]; then
	out=$(crun --rm --device /dev/kmsg:/dev/k:r "$IMG" sh -c 'echo "<7>cabin test" >/dev/k && echo written' 2>&1)
	assert_contains "$out" "Operation not permitted" "--device HOST:CTR:r: writing is refused (devices cgroup)"
	out=$(crun --rm --device /dev/kmsg:/dev/k:rw "$IMG" sh -c 'echo "<7>cabin test" >/dev/k && echo written' 2>&1)
	assert_eq "$out" "written" "--device HOST:CTR:rw: writing is allowed"
else
	skip "no /dev/kmsg on this host"
	skip "no /dev/kmsg on this host"
fi
err=$(crun --rm --device /etc/passwd "$IMG" true 2>&1)
assert_contains "$err" "--device \`/etc/passwd\`: \`/etc/passwd\` is not a device node" "--device of a regular file"
err=$(crun --rm --device /dev/null:/dev/n:rwx "$IMG" true 2>&1)
assert_contains "$err" "permissions \`rwx\`" "--device with bad permissions"
out=$(crun --rm --group-add staff --group-add 4321 "$IMG" sed -n 's/^Groups:\t//p' /proc/self/status)
assert_eq "$(echo $out)" "50 4321" "--group-add NAME (from the image's /etc/group) and GID"
err=$(crun --rm --group-add nosuchgroup "$IMG" true 2>&1)
assert_contains "$err" "--group-add \`nosuchgroup\`: not found in the image's /etc/group" "--group-add of an unknown group"
assert_eq "$(crun --rm --ulimit nofile=512:800 "$IMG" sh -c 'ulimit -Sn; ulimit -Hn')" "512
800" "--ulimit nofile=SOFT:HARD"
assert_eq "$(crun --rm --ulimit core=0 --ulimit nproc=300 "$IMG" sh -c 'ulimit -c; ulimit -u')" "0
300" "--ulimit NAME=VALUE: soft and hard"
err=$(crun --rm --ulimit nofile=10:5 "$IMG" true 2>&1)
assert_contains "$err" "--ulimit \`nofile=10:5\`: the soft limit is above the hard one" "--ulimit soft above hard"
err=$(crun --rm --ulimit speed=1 "$IMG" true 2>&1)
assert_contains "$err" "--ulimit \`speed=1\`: unknown limit \`speed\`" "--ulimit of an unknown limit"
assert_contains "$(crun --rm --shm-size 10m "$IMG" grep ' /dev/shm ' /proc/mounts)" "size=10240k" "--shm-size"
assert_contains "$(crun --rm "$IMG" grep ' /dev/shm ' /proc/mounts)" "size=65536k" "/dev/shm is 64m by default"
err=$(crun --rm --shm-size lots "$IMG" true 2>&1)
assert_contains "$err" "--shm-size \`lots\`" "--shm-size with a bad size"
ok "nothing is left by the refused runs" nothing_left

# --stop-signal, --stop-timeout
c=$(crun -d --name opts-sig --stop-signal USR1 "$IMG" sh -c 'trap "echo got usr1; exit 3" USR1; while :; do sleep 0.1; done')
sleep 0.3
cab container stop opts-sig >/dev/null
assert_eq "$(cab container wait opts-sig) $(cab container logs opts-sig)" "3 got usr1" "--stop-signal USR1: stop sends it"
c=$(crun -d --name opts-to --stop-timeout 1 "$IMG" sh -c 'trap "" TERM; while :; do sleep 0.1; done')
sleep 0.3
s=$(date +%s%N)
cab container stop opts-to >/dev/null
e=$(( ($(date +%s%N) - s) / 1000000 ))
ok "--stop-timeout 1: SIGKILL after 1 s (took $e ms)" test "$e" -ge 900 -a "$e" -lt 5000
assert_eq "$(cab container wait opts-to)" "137" "--stop-timeout: killed"
# -1: no limit (stop -t -1 overrides the container's 1 s; --stop-timeout -1 is recorded)
c=$(crun -d --name opts-tn --stop-timeout 1 "$IMG" sh -c 'trap "" TERM; while :; do sleep 0.1; done')
sleep 0.3
cab container stop -t -1 opts-tn >/dev/null &
sp=$!
sleep 2.5
assert_eq "$(cab container ps -q --filter name=opts-tn --filter status=running):$(kill -0 $sp && echo waiting)" \
	"${c:0:12}:waiting" "stop -t -1: no SIGKILL after the container's 1 s, stop still waits"
cab container kill opts-tn >/dev/null
wait $sp
assert_eq "$?:$(cab container wait opts-tn)" "0:137" "... and returns once the container is gone"
c=$(crun -d --name opts-tn2 --stop-timeout -1 "$IMG" true)
assert_eq "$(insp opts-tn2 'i["Config"]["StopTimeout"]')" "-1" "--stop-timeout -1 is kept (inspect: Config.StopTimeout)"
cab container rm -f opts-tn opts-tn2 >/dev/null
err=$(crun --rm --stop-signal SIGNOPE "$IMG" true 2>&1)
assert_contains "$err" "--stop-signal \`SIGNOPE\`: unknown signal" "--stop-signal of an unknown signal"

# labels, ps --filter, inspect
a=$(crun -d --name opts-web -l app=web -l tier=front "$IMG" sleep 30)
b=$(crun -d --name opts-db --label app=db "$IMG" sh -c 'exit 4')
cab container wait opts-db >/dev/null
assert_eq "$(cab container ps -q --filter label=app=web)" "${a:0:12}" "ps --filter label=KEY=VALUE"
assert_eq "$(cab container ps -aq --filter label=app | sort)" "$(printf '%s\n' "${a:0:12}" "${b:0:12}" | sort)" \
	"ps -a --filter label=KEY"
assert_eq "$(cab container ps -q --filter status=exited --filter name=opts-d)" "${b:0:12}" \
	"ps --filter status=exited (without -a) --filter name="
assert_eq "$(cab container ps -aq --filter name=opts-web --filter name=opts-db | sort)" \
	"$(printf '%s\n' "${a:0:12}" "${b:0:12}" | sort)" "two name filters: either"
lab=$(cab container inspect opts-web | python3 -c 'import json,sys; l=json.load(sys.stdin)[0]["Config"]["Labels"]; print(l["app"], l["tier"], l["org.cabin.test"])')
assert_eq "$lab" "web front 1" "inspect: Config.Labels, the image's labels with --label"
err=$(cab container ps --filter color=red 2>&1)
assert_contains "$err" "--filter \`color=red\`" "an unknown ps filter"
cab container rm -f opts-web opts-db opts-sig opts-to >/dev/null

# --restart, carried out by the monitor
jq_rec() { python3 -c "import json,sys; r=json.load(open('$D/containers/'+sys.argv[1]+'/container.json')); print(r.get(sys.argv[2]))" "$@"; }
c=$(crun -d --name opts-rf --restart on-failure:2 "$IMG" sh -c 'echo run; exit 3')
assert_eq "$(timeout 20 "$CABIN" --data-root "$D" --root "$R" container wait opts-rf)" "3" \
	"--restart on-failure:2: wait gives the last exit status"
assert_eq "$(insp opts-rf 'i["RestartCount"], i["State"]["Status"]')" "2 exited" \
	"--restart on-failure:2: restarted twice (RestartCount in inspect), then exited"
assert_eq "$(cab container logs opts-rf | tr '\n' ' ')" "run run run " "three runs, one log"
crun -d --name opts-rf2 --restart on-failure:2 "$IMG" sh -c 'echo run; sleep 0.2; exit 3' >/dev/null
assert_eq "$(timeout 20 "$CABIN" --data-root "$D" --root "$R" container logs -f opts-rf2 | tr '\n' ' ')" \
	"run run run " "logs -f follows across restarts, ends with the last run"
assert_eq "$(insp opts-rf 'i["HostConfig"]["RestartPolicy"]')" \
	"{'Name': 'on-failure', 'MaximumRetryCount': 2}" "inspect: HostConfig.RestartPolicy"
c=$(crun -d --name opts-r0 --restart on-failure "$IMG" true)
cab container wait opts-r0 >/dev/null
assert_eq "$(insp opts-r0 'i["RestartCount"]')" "0" "--restart on-failure: no restart after exit 0"
c=$(crun -d --name opts-ra --restart always "$IMG" sh -c 'sleep 0.2; exit 0')
for i in $(seq 50); do [ "$(insp opts-ra 'i["RestartCount"]')" -ge 2 ] && break; sleep 0.1; done
ok "--restart always: restarted after exit 0 ($(insp opts-ra 'i["RestartCount"]') times)" \
	test "$(insp opts-ra 'i["RestartCount"]')" -ge 2
cab container stop -t 1 opts-ra >/dev/null
n=$(insp opts-ra 'i["RestartCount"]')
sleep 1
assert_eq "$(insp opts-ra 'i["RestartCount"], i["State"]["Status"]')" "$n exited" \
	"stop is not undone by the restart policy"
c=$(crun -d --name opts-rm --restart unless-stopped "$IMG" sh -c 'sleep 0.1; exit 1')
sleep 0.5
mon=$(jq_rec "$c" monitorPid)
assert_contains "$(cab container ps --filter name=opts-rm)" "opts-rm" \
	"ps (without -a) lists a restarting container"
cab container rm -f opts-rm >/dev/null
sleep 0.3
# gone, or a zombie where PID 1 does not reap (no init system on some hosts)
st=$(ps -o stat= -p "$mon" | cut -c1)
ok "rm -f ends a restarting container and its monitor (${st:-gone})" \
	test "${st:-Z}" = Z -a ! -d "$D/containers/$c"
err=$(crun --rm --restart always "$IMG" true 2>&1)
assert_contains "$err" "--restart \`always\` and --rm: conflicting options" "--restart with --rm"
err=$(crun --restart sometimes "$IMG" true 2>&1)
assert_contains "$err" "--restart \`sometimes\`: no, on-failure[:MAX-RETRIES], always or unless-stopped" \
	"--restart with a bad policy"
cab container rm -f opts-rf opts-rf2 opts-r0 opts-ra >/dev/null

# --init: cabin-init as PID 1 reaps orphans and forwards signals
out=$(crun --rm --init "$IMG" sh -c 'echo $$; tr "\0" " " </proc/1/cmdline; exit 7')
assert_eq "$?:$(echo "$out" | head -1):$(echo "$out" | sed -n 2p)" "7:2:/run/cabin-init -- sh -c echo \$\$; tr \"\\0\" \" \" </proc/1/cmdline; exit 7 " \
	"--init: cabin-init is PID 1, the command its child, the exit status passed through"
zombies() {
	local c n
	c=$(crun -d "$@" "$IMG" sh -c '(sleep 0.1 &); exec sleep 5')
	sleep 0.6
	n=$(cab container exec "$c" sh -c 'for f in /proc/[0-9]*/stat; do cut -d" " -f3 $f; done | grep -c Z')
	cab container rm -f "$c" >/dev/null
	echo "$n"
}
assert_eq "$(zombies)" "1" "without --init an orphan stays a zombie (PID 1 is sleep)"
assert_eq "$(zombies --init)" "0" "--init reaps the orphan"
c=$(crun -d --init --name opts-init "$IMG" sleep 60)
sleep 0.3
s=$(date +%s%N)
# a long timeout, so that a loaded machine cannot make "at once" look like "after it"
cab container stop -t 30 opts-init >/dev/null
e=$(( ($(date +%s%N) - s) / 1000000 ))
assert_eq "$(cab container wait opts-init)" "143" "--init forwards stop's SIGTERM to the command"
ok "... at once, not after the 30 s timeout ($e ms)" test "$e" -lt 15000
cab container rm -f opts-init >/dev/null

# container create, then start (again after it exited)
cab container create --network none --name opts-cr -h made "$IMG" \
	sh -c 'echo started as $(hostname); exit 5' >/dev/null
assert_eq "$(cab container ps -a --filter name=opts-cr | tail -n +2 | grep -c created):$(cab container logs opts-cr)" "1:" \
	"container create: created, nothing run"
cab container start opts-cr >/dev/null
assert_eq "$(cab container wait opts-cr) $(cab container logs opts-cr)" "5 started as made" \
	"container start runs it with the options of create"
cab container start opts-cr >/dev/null
cab container wait opts-cr >/dev/null
assert_eq "$(cab container logs opts-cr | wc -l)" "2" "container start of an exited container runs it again"
err=$(cab container start opts-nosuch 2>&1)
assert_contains "$err" "no such container \`opts-nosuch\`" "container start of an unknown container"
# start -a: the output here and the exit status ours; -i: our stdin
out=$(cab container start -a opts-cr 2>&1)
assert_eq "$?:$out" "5:started as made" "container start -a: its output, its exit status"
cab container create --network none -i --name opts-cri "$IMG" sh -c 'read x; echo got $x; echo e >&2' >/dev/null
out=$(echo hello | cab container start -a -i opts-cri 2>"$T/start.err")
assert_eq "$?:$out:$(cat "$T/start.err")" "0:got hello:e" "container start -a -i: our stdin, stdout and stderr"
cab container create --network none --name opts-crl "$IMG" sleep 30 >/dev/null
cab container start opts-crl >/dev/null
err=$(cab container start -a opts-crl 2>&1)
assert_contains "$?:$err" "1:cabin: container start: container \`" "container start -a of a running container is an error"
err=$(cab container start -a opts-cr opts-cri 2>&1)
assert_contains "$err" "container start -a: one container, not 2" "container start -a of two containers"
cab container rm -f opts-cr opts-cri opts-crl >/dev/null
err=$(cab container create --network none --ulimit nofile=x "$IMG" true 2>&1)
assert_contains "$err" "container create: --ulimit \`nofile=x\`" "container create: a bad option is an error naming it"
ok "nothing is left by create, start and rm" nothing_left

# On a bridge network, in a namespace of its own that plays the host: host-gateway, and
# a restarted container attached again each time, nothing left after rm.
require_cmd ip nsenter
HN=opts-$$-h
ip netns add "$HN" && ip -n "$HN" link set lo up
at_exit "ip netns del $HN"
hc() { nsenter --net="/run/netns/$HN" "$CABIN" --data-root "$D" --root "$R" "$@"; }
out=$(hc container run --rm --add-host gw:host-gateway "$IMG" sh -c 'ip route | sed -n "s/^default via \([0-9.]*\) .*/\1/p"; cat /etc/hosts')
gw=$(echo "$out" | head -1)
assert_contains "$out" "$(printf '%s\tgw' "$gw")" "--add-host gw:host-gateway: the network's gateway ($gw)"
hc container run -d --name opts-rb --restart on-failure:2 "$IMG" sh -c 'ip -4 addr show eth0 | grep -c inet; exit 1' >/dev/null
assert_eq "$(timeout 20 nsenter --net="/run/netns/$HN" "$CABIN" --data-root "$D" --root "$R" container wait opts-rb)" "1" \
	"bridge network: the restarted container ends"
assert_eq "$(hc container logs opts-rb | tr '\n' ' ')" "1 1 1 " "each of the three runs had an address"
hc container rm opts-rb >/dev/null
ok "nothing left: no endpoint, no network files, no veth" \
	test -z "$(ls -A "$D/network/endpoints" "$D/network/files" 2>/dev/null | grep -v :)" -a \
	"$(ip -n "$HN" -o link show type veth | wc -l)" = 0

done_testing
