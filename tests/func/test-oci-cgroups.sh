#!/bin/bash
# cgroup behaviour as runc has it: linux.devices get no implicit allow rule, access
# strings with letters other than rwm are accepted ("rwa"), a pre-existing parent with
# empty cpuset.cpus/mems is filled in, a shared cgroup gets a warning, and per-device
# weights go to BFQ's blkio.bfq.weight_device when CFQ's file is gone, and a bind mount of
# a part of a hierarchy listed before the hierarchy's own mount does not misplace cgroups.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 7

B=$T/b
mkbundle "$B"
cg=$PFX-cgparent
cleanup() {
	rt delete -f $PFX-g1
	rt delete -f $PFX-g2
	for d in /sys/fs/cgroup/*/$cg /sys/fs/cgroup/$cg; do rmdir "$d/sub" "$d"; done
	[ -n "${loopdev:-}" ] && losetup -d "$loopdev"
}
at_exit cleanup

# no implicit rule: /dev/kmsg (1:11) is created but a deny-all keeps it closed
args "$B" /init cat /dev/kmsg
cfg "$B" 'c["linux"]["devices"]=[{"path":"/dev/kmsg","type":"c","major":1,"minor":11}]
c["linux"]["resources"]={"devices":[{"allow":False,"access":"rwm"},{"allow":False,"type":"c","major":1,"minor":11,"access":"rwa"}]}'
out=$(rt run -b "$B" $PFX-g0 2>&1)
assert_eq "$?" 1 "a linux.devices node under deny-all cannot be opened (access rwa accepted)"
assert_contains "$out" "Operation not permitted" "  ... EPERM from the devices cgroup"

# pre-existing parent with empty cpuset
cs=/sys/fs/cgroup/cpuset
[ -e $cs/cpuset.cpus ] || cs=/sys/fs/cgroup
if [ -e $cs/cpuset.cpus ]; then
	mkdir -p $cs/$cg
	[ -e $cs/$cg/cgroup.clone_children ] && echo 0 >$cs/$cg/cgroup.clone_children
	args "$B" /init sleep 1000
	cfg "$B" 'c["linux"].pop("devices",None); c["linux"]["resources"]={}
c["linux"]["cgroupsPath"]="/'"$cg"'/sub"'
	rt run -d -b "$B" $PFX-g1 >/dev/null 2>"$T/err1"
	assert_eq "$?" 0 "run under a pre-existing parent with empty cpuset.cpus: $(cat "$T/err1")"
	assert_eq "$(cat $cs/$cg/cpuset.cpus)" "$(cat $cs/cpuset.cpus)" "the parent got its cpus from above"
	rt run -d -b "$B" $PFX-g2 >/dev/null 2>"$T/err2"
	assert_contains "$(cat "$T/err2")" "cgroup is not empty" "a second container in the same cgroup is warned about"
else
	skip "no cpuset controller"
	skip "no cpuset controller"
	skip "no cpuset controller"
fi

# BFQ per-device weight
truncate -s 1M "$T/disk.img"
loopdev=$(losetup --find --show "$T/disk.img" 2>/dev/null)
sched=/sys/block/${loopdev#/dev/}/queue/scheduler
if [ -n "$loopdev" ] && grep -qw bfq "$sched" 2>/dev/null && echo bfq >"$sched" &&
	[ -d /sys/fs/cgroup/blkio ]; then
	mm=$(lsblk -nd -o MAJ:MIN "$loopdev" | tr -d ' ')
	args "$B" /init echo
	cfg "$B" 'c["linux"]["cgroupsPath"]="/'"$PFX"'-bfq"
c["linux"]["resources"]={"blockIO":{"weightDevice":[{"major":'"${mm%:*}"',"minor":'"${mm#*:}"',"weight":444}]}}'
	rt run -d -b "$B" $PFX-g3 >/dev/null 2>&1 </dev/null
	assert_contains "$(cat /sys/fs/cgroup/blkio/$PFX-bfq/blkio.bfq.weight_device 2>&1)" "$mm 444" "weightDevice goes to blkio.bfq.weight_device"
	rt delete -f $PFX-g3
else
	skip "no BFQ on a loop device with cgroup v1 blkio here"
fi

# Two mounts of the cgroup2 hierarchy, and the first one in mountinfo a bind mount of a
# sub-cgroup elsewhere (a chroot's or a container's view): the container's cgroup must be
# the cgroupsPath it asked for, not a path below that sub-cgroup.
v2=$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
if [ -n "$v2" ] && mkdir -p "$v2/$PFX-sub" "$T/cgsub"; then
	args "$B" /init sleep 100
	cfg "$B" 'c["linux"]["cgroupsPath"]="/'"$PFX"'-dup"'
	out=$(unshare -m --propagation private sh -c '
		mount --bind "$1/$2-sub" "$3" && umount -l "$1" && mount -t cgroup2 none "$1" || exit 1
		"$4" --root "$5" run -d -b "$6" "$2-dup" >/dev/null 2>&1 </dev/null
		pid=$("$4" --root "$5" state "$2-dup" | sed -n "s/.*\"pid\": *\([0-9]*\).*/\1/p")
		grep "^0::" "/proc/$pid/cgroup"
		"$4" --root "$5" delete -f "$2-dup"' sh "$v2" "$PFX" "$T/cgsub" "$CABIN" "$STATE" "$B" 2>&1)
	assert_eq "$out" "0::/$PFX-dup" "a bind mount of a sub-cgroup listed first does not move the container's cgroup"
	rmdir "$v2/$PFX-dup" "$v2/$PFX-sub/$PFX-dup" "$v2/$PFX-sub" 2>/dev/null
else
	skip "no cgroup2 hierarchy mounted"
fi
done_testing
