#!/bin/bash
# config.json applied for real: process fields, mounts, masked/readonly paths, devices,
# namespaces (new and joined), user namespaces with mappings, --no-pivot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 40

B=$T/b
mkbundle "$B"
cp "$B/config.json" "$T/good.json"
n=0
# out 'PYTHON-EDIT' ARGS...: run the container with the edit and ARGS, print its output
out() {
	cp "$T/good.json" "$B/config.json"
	cfg "$B" "$1"
	shift
	args "$B" "$@"
	n=$((n + 1))
	rt run -b "$B" $PFX-$n 2>&1
}

assert_eq "$(out 'c["hostname"]="box-'$PFX'"' /init hostname)" "box-$PFX" "hostname"
assert_eq "$(out 'c["domainname"]="dom.example"' /init domainname)" dom.example "domainname"
assert_eq "$(out 'c["process"]["env"]=["PATH=/","FOO=bar baz"]' /init env FOO)" "bar baz" "env"
assert_eq "$(out 'c["process"]["cwd"]="/tmp"' /init cwd)" /tmp "cwd"
assert_eq "$(out 'c["process"]["user"]={"uid":1234,"gid":567,"additionalGids":[10,20]}' /init id)" \
	"uid=1234 gid=567 euid=1234 egid=567 groups=10,20" "user uid, gid and additionalGids"
assert_eq "$(out 'c["process"]["user"]["umask"]=0o027' /init umask)" 0027 "umask"
assert_eq "$(out 'pass' /init pid)" "1 0" "a new pid namespace: the process is pid 1"
assert_eq "$(out 'c["process"]["args"]=["init","echo","via-path"]; c["process"]["env"]=["PATH=/"]' init echo via-path)" via-path "args[0] is looked up in the container's PATH"

# mounts
mkdir -p "$T/host"
echo host-data >"$T/host/file"
m='c["mounts"]+=[{"destination":"/data","type":"bind","source":"'$T/host'","options":["rbind","ro"]},
{"destination":"/scratch","type":"tmpfs","source":"tmpfs","options":["size=1m","mode=700","nosuid"]}]'
assert_eq "$(out "$m" /init cat /data/file)" host-data "bind mount"
assert_contains "$(out "$m" /init write /data/x y)" "Read-only file system" "bind mount with ro"
mi=$(out "$m" /init mounts)
assert_contains "$mi" "/scratch rw,nosuid" "tmpfs mount with options"
assert_contains "$mi" "size=1024k,mode=700" "tmpfs data options"
assert_contains "$mi" "/proc rw" "proc mount"
ok "the host sees none of the container's mounts" test -z "$(grep "$B/rootfs" /proc/self/mountinfo)"

# masked and readonly paths
assert_eq "$(out 'c["linux"]["maskedPaths"]=["/proc/timer_list","/proc/acpi"]' /init cat /proc/timer_list | wc -c)" 0 "a masked file reads empty"
assert_ne_empty() { [ -n "$1" ]; _ok $? "$2"; }
assert_ne_empty "$(out 'c["linux"]["maskedPaths"]=[]' /init cat /proc/timer_list)" "the same file unmasked is not empty"
assert_eq "$(out 'c["linux"]["maskedPaths"]=["/proc/acpi","/proc/kcore"]' /init ls /proc/acpi)" "" "a masked directory is empty"
assert_contains "$(out 'c["linux"]["readonlyPaths"]=["/proc/sys"]' /init write /proc/sys/kernel/hostname x)" "Read-only file system" "readonlyPaths"
assert_contains "$(out 'c["root"]["readonly"]=True' /init write /newfile x)" "Read-only file system" "root.readonly"
assert_eq "$(out 'c["root"]["readonly"]=True' /init write /tmp/../dev/shm/ok x; echo $?)" 0 "root.readonly keeps other mounts writable"

# devices
assert_eq "$(out 'pass' /init stat /dev/null)" "mode=20666 uid=0 gid=0 rdev=1:3" "default device /dev/null"
assert_contains "$(out 'pass' /init ls /dev)" "urandom" "default device set"
assert_eq "$(out 'pass' /init stat /dev/ptmx | cut -d' ' -f1)" "mode=120777" "/dev/ptmx links to pts/ptmx"
assert_eq "$(out 'c["linux"]["devices"]=[{"path":"/dev/mydev","type":"c","major":1,"minor":7,"fileMode":0o640,"uid":5,"gid":6}]' /init stat /dev/mydev)" \
	"mode=20640 uid=5 gid=6 rdev=1:7" "linux.devices"

# namespaces: joined by path
args "$B" /init sleep 1000
cp "$T/good.json" "$B/config.json"
cfg "$B" 'c["hostname"]="joined-'$PFX'"'
args "$B" /init sleep 1000
rt run -d -b "$B" $PFX-host
hp=$(json_get "$(rt state $PFX-host)" pid)
assert_eq "$(out 'c["linux"]["namespaces"]=[{"type":"mount"},{"type":"uts","path":"/proc/'$hp'/ns/uts"},{"type":"pid","path":"/proc/'$hp'/ns/pid"}]; c.pop("hostname",None)' /init hostname)" \
	"joined-$PFX" "uts namespace joined by path"
assert_eq "$(out 'c["linux"]["namespaces"]=[{"type":"mount"},{"type":"pid","path":"/proc/'$hp'/ns/pid"}]; c.pop("hostname",None)' /init pid | cut -d' ' -f2)" \
	0 "pid namespace joined by path"
assert_eq "$(out 'c["linux"]["namespaces"]=[{"type":"mount"},{"type":"network","path":"/proc/'$hp'/ns/net"}]; c.pop("hostname",None)' /init ns net)" \
	"$(readlink /proc/$hp/ns/net)" "network namespace joined by path"
rt delete --force $PFX-host

# user namespace with mappings
u='c["linux"]["namespaces"].append({"type":"user"}); c["linux"]["uidMappings"]=[{"containerID":0,"hostID":100000,"size":65536}]; c["linux"]["gidMappings"]=[{"containerID":0,"hostID":100000,"size":65536}]
c["mounts"]=[m for m in c["mounts"] if m["destination"] not in ("/sys","/sys/fs/cgroup")]
c["mounts"]=[dict(m, options=[o for o in m.get("options",[]) if o!="gid=5"]) for m in c["mounts"]]'
chmod 755 "$T"
chown -R 100000:100000 "$B/rootfs"
assert_eq "$(out "$u" /init id)" "uid=0 gid=0 euid=0 egid=0 groups=" "user namespace: root inside"
assert_eq "$(out "$u" /init cat /proc/self/uid_map | tr -s ' ')" " 0 100000 65536" "user namespace: uid mapping"
assert_eq "$(out "$u"'; c["process"]["user"]={"uid":1000,"gid":1000}' /init id | cut -d' ' -f1)" "uid=1000" "user namespace: a mapped user"
assert_eq "$(out "$u" /init stat /dev/null | cut -d' ' -f4)" "rdev=1:3" "user namespace: devices are bind-mounted"
chown -R 0:0 "$B/rootfs"

# idmapped mount with its own mappings: on-disk uid 0 shows as 1000
mkdir -p "$T/idm"
touch "$T/idm/f"
assert_eq "$(out 'c["mounts"].append({"destination":"/idm","type":"bind","source":"'$T/idm'","options":["bind"],"uidMappings":[{"containerID":0,"hostID":1000,"size":1}],"gidMappings":[{"containerID":0,"hostID":1000,"size":1}]})' /init stat /idm/f | cut -d' ' -f2,3)" \
	"uid=1000 gid=1000" "idmapped bind mount (uidMappings/gidMappings)"
# time namespace with offsets
up=$(cut -d. -f1 /proc/uptime)
cup=$(out 'c["linux"]["namespaces"].append({"type":"time"}); c["linux"]["timeOffsets"]={"boottime":{"secs":100000}}' /init cat /proc/uptime | cut -d. -f1)
ok "time namespace with linux.timeOffsets" test "$((cup - up))" -ge 99990 -a "$((cup - up))" -le 100010

# --no-pivot
cp "$T/good.json" "$B/config.json"
args "$B" /init ls /
assert_contains "$(rt run --no-pivot -b "$B" $PFX-np 2>&1)" "init" "--no-pivot: the rootfs is /"
# a new user+pid namespace in the container must not find the host's bare /proc to mount
# proc from: with pivot_root it is gone, with --no-pivot it is detached
if BB=$(command -v busybox); then
	mkdir -p "$T/np" && cp -a "$B/rootfs" "$T/np/rootfs" && cp "$B/config.json" "$T/np/"
	cp "$BB" "$T/np/rootfs/busybox"
	cfg "$T/np" 'c["process"]["args"]=["/busybox","unshare","-mrpf","/busybox","sh","-c",
 "/busybox mount -t proc none /proc && echo mounted"]
for k in ("bounding","permitted","effective"):
  c["process"]["capabilities"][k]=["CAP_SYS_ADMIN","CAP_SETUID","CAP_SETGID","CAP_SETFCAP"]'
	out=$(rt run --no-pivot -b "$T/np" $PFX-npproc 2>&1)
	assert_contains "$out" "mount: permission denied" "--no-pivot: the host's /proc cannot be mounted again ($out)"
else
	skip "--no-pivot and the host's /proc: needs busybox (busybox-static)"
fi
assert_eq "$(out 'c["linux"]["rootfsPropagation"]="shared"' /init mounts | head -1 | grep -c shared:)" 1 "rootfsPropagation shared"
ok "nothing is left under the state directory" test -z "$(ls "$STATE")"

# rootless: an unprivileged user with `cabin spec --rootless`, and root of `unshare -r`
chmod 755 "$T"
# a profile that refuses getcwd(2) does not stop the start (the cwd check after the filter)
mkdir -p "$T/gc" && cp -a "$B/rootfs" "$T/gc/rootfs" && cp "$B/config.json" "$T/gc/"
cfg "$T/gc" 'c["process"]["args"]=["/init","echo","started"]; c["process"]["noNewPrivileges"]=False
c["linux"]["seccomp"]={"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getcwd"],"action":"SCMP_ACT_ERRNO"}]}'
assert_eq "$(rt run -b "$T/gc" $PFX-gc 2>&1)" started "seccomp refusing getcwd: the container starts"

R=$T/rootless
mkdir -p "$R/b/rootfs/proc" "$R/b/rootfs/dev" "$R/b/rootfs/sys"
cp "$INIT" "$R/b/rootfs/init"
chown -R nobody "$R"
UC=$(user_cabin)
su nobody -s /bin/sh -c "cd '$R/b' && '$UC' spec --rootless" &&
	cfg "$R/b" 'c["process"]["terminal"]=False; c["process"]["args"]=["/init","id"]'
assert_eq "$(su nobody -s /bin/sh -c "'$UC' --root '$R/state' run -b '$R/b' $PFX-rl" 2>&1 | cut -d' ' -f1)" \
	"uid=0" "rootless: an unprivileged user runs a container as root of its user namespace"
mkdir -p "$T/ub"
cp -a "$R/b/rootfs" "$T/ub/rootfs"
(cd "$T/ub" && unshare -r "$CABIN" spec --rootless) &&
	cfg "$T/ub" 'c["process"]["terminal"]=False; c["process"]["args"]=["/init","id"]'
assert_eq "$(unshare -r "$CABIN" --root "$T/state-unshare" run -b "$T/ub" $PFX-ur 2>&1 | cut -d' ' -f1)" \
	"uid=0" "rootless: under unshare -r"
done_testing
