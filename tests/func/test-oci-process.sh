#!/bin/bash
# Process setup details runc's suite checks: the terminal belongs to the process's user,
# a cwd the user cannot search still works when root could enter it, createContainer
# hooks run from the container's root directory, the network namespace the runtime makes
# while it makes the cgroups.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 10

B=$T/b
mkbundle "$B"
cleanup() { rt delete -f $PFX-p1; }
at_exit cleanup

# terminal owner: uid of the process, group of devpts (gid=5 in the default spec)
cp "$B/config.json" "$T/orig.json"
cfg "$B" 'c["process"]["terminal"]=True; c["process"]["user"]={"uid":1000,"gid":100}
c["process"]["args"]=["/init","stat","/dev/pts/0"]'
out=$(rt run -b "$B" $PFX-t </dev/null | tr -d '\r')
assert_contains "$out" "uid=1000 gid=5" "run: the terminal is owned by the process's uid, devpts' gid"
cp "$T/orig.json" "$B/config.json"

# exec: cwd that only root can search
mkdir -m 0700 "$B/rootfs/private"
args "$B" /init sleep 1000
ok "run -d" rt run -d -b "$B" $PFX-p1
out=$(rt exec --user 1000:1000 --cwd /private $PFX-p1 /init cwd 2>&1)
assert_eq "$out" /private "exec --user into a cwd the user cannot search (root entered it first)"
out=$(rt exec --user 1000:1000 --tty $PFX-p1 /init stat /dev/pts/0 </dev/null 2>&1 | tr -d '\r')
assert_contains "$out" "uid=1000 gid=5" "exec --tty: the terminal is owned by the process's uid"
rt delete -f $PFX-p1

# createContainer hooks run with the rootfs as their working directory
args "$B" /init echo
cfg "$B" 'c["hooks"]={"createContainer":[{"path":"/bin/sh","args":["sh","-c","pwd > '"$T"'/hookcwd; test -x ./init"]}]}'
ok "run with a createContainer hook" rt run -b "$B" $PFX-h
assert_eq "$(cat "$T/hookcwd" 2>/dev/null)" "$B/rootfs" "createContainer hooks run in the rootfs"

# a new network namespace has its loopback up
cfg "$B" 'c.pop("hooks",None)'
args "$B" /init cat /sys/class/net/lo/operstate /sys/class/net/lo/flags
out=$(rt run -b "$B" $PFX-lo 2>&1)
assert_eq "$(( $(echo "$out" | tail -1) & 1 ))" 1 "lo is up in a new network namespace ($out)"

# The runtime makes the network namespace while it makes the cgroups, and the init enters
# it before anything is mounted: sysfs shows the container's interfaces, not the host's.
host_ns=$(readlink /proc/self/ns/net)
args "$B" /init ls /sys/class/net
out=$(rt run -b "$B" $PFX-sys 2>&1)
assert_eq "$(echo $out)" lo "sysfs lists the container's interfaces only"
args "$B" /init ns net
out=$(rt run -b "$B" $PFX-ns 2>&1)
_ok $([ -n "$out" ] && [ "$out" != "$host_ns" ]; echo $?) "a new network namespace, not the host's ($out)"
# without unshare(2) the clone makes it, as before (the host's lo is up too: the namespace
# is compared as well)
args "$B" /init cat /sys/class/net/lo/flags
out=$("$INIT" nounshare "$CABIN" --root "$STATE" run -b "$B" $PFX-nu 2>&1)
args "$B" /init ns net
ns=$("$INIT" nounshare "$CABIN" --root "$STATE" run -b "$B" $PFX-nu2 2>&1)
_ok $([ $(( $(echo "$out" | tail -1) & 1 )) = 1 ] && [ -n "$ns" ] && [ "$ns" != "$host_ns" ]; echo $?) \
	"unshare(2) refused to the runtime: lo up in a new namespace ($out, $ns)"
done_testing
