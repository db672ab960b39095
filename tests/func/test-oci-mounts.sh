#!/bin/bash
# Mount options as runc applies them: "ro" on an rbind makes only its top mount read-only,
# the recursive options (rro, rnoexec, ...) reach every submount, and a read-only /dev
# still gets its submounts and device nodes. A destination behind a dangling symlink of the
# image is made where the link points, inside the rootfs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
plan 18

B=$T/b
mkbundle "$B"
mkdir -p "$T/src/sub"
mount -t tmpfs tmpfs "$T/src/sub" || skip_all "cannot mount a tmpfs"
umount_sub() { umount -l "$T/src/sub"; }
at_exit umount_sub

mnt() { # mnt OPTIONS...: bind $T/src on /mnt with these options
	local o
	o=$(printf '"%s",' "$@")
	cfg "$B" 'c["mounts"]=[m for m in c["mounts"] if m["destination"]!="/mnt"]
c["mounts"].append({"destination":"/mnt","type":"bind","source":"'"$T/src"'","options":['"${o%,}"']})'
}
try_write() { # try_write ID FILE: the init's write status
	args "$B" /init write "$1" x
	rt run -b "$B" $PFX-w >/dev/null 2>&1
	echo $?
}

mnt rbind ro
assert_eq "$(try_write /mnt/top)" 1 "rbind,ro: the top mount is read-only"
assert_eq "$(try_write /mnt/sub/f)" 0 "rbind,ro: a submount stays writable (as runc)"
mnt rbind rro
assert_eq "$(try_write /mnt/top)" 1 "rbind,rro: the top mount is read-only"
assert_eq "$(try_write /mnt/sub/f)" 1 "rbind,rro: submounts are read-only too"
mnt rbind ro rrw
assert_eq "$(try_write /mnt/sub/f)" 0 "rbind,ro,rrw: rrw clears read-only below"

# read-only /dev: devpts, shm and the device nodes are still made
cfg "$B" 'c["mounts"]=[m for m in c["mounts"] if m["destination"]!="/mnt"]
for m in c["mounts"]:
    if m["destination"]=="/dev": m["options"].append("ro")'
assert_eq "$(try_write /dev/newfile)" 1 "ro /dev: /dev is read-only"
assert_eq "$(try_write /dev/null)" 0 "ro /dev: /dev/null is there and writable"
assert_eq "$(try_write /dev/shm/f)" 0 "ro /dev: /dev/shm is mounted below it, writable"
args "$B" /init stat /dev/pts/ptmx
assert_contains "$(rt run -b "$B" $PFX-w 2>&1)" "rdev=5:2" "ro /dev: devpts is mounted"

# user namespace: a bind source below a directory only host root can search is opened
# by the runtime
mkdir -p "$T/priv/dir" && chmod 0700 "$T/priv" && echo secret-ok >"$T/priv/dir/f"
chmod 0755 "$T"
mkdir -p "$B/rootfs/priv"
cp "$B/config.json" "$T/before-userns.json"
cfg "$B" 'c["linux"]["namespaces"].append({"type":"user"})
c["linux"]["uidMappings"]=[{"containerID":0,"hostID":100000,"size":65536}]
c["linux"]["gidMappings"]=[{"containerID":0,"hostID":100000,"size":65536}]
c["mounts"]=[m for m in c["mounts"] if m["destination"] not in ("/sys","/sys/fs/cgroup")]
c["mounts"].append({"destination":"/priv","type":"bind","source":"'"$T/priv/dir"'","options":["rbind","ro"]})'
args "$B" /init ls /priv
out=$(rt run -b "$B" $PFX-u 2>&1)
assert_eq "$?" 0 "userns: run with a bind source the container's root cannot search: $out"
assert_contains "$out" "f" "  ... and the source is mounted"
cp "$T/before-userns.json" "$B/config.json"

# destinations through dangling links: made where they point, inside the rootfs (runc's
# SecureJoin + MkdirAll); an absolute target and a relative one climbing above `/` both
# stay inside
gone=/$PFX-nowhere
ln -s "$gone/dir" "$B/rootfs/dlink"
ln -s "../../../../../../..$gone-rel" "$B/rootfs/rlink"
ln -s "$gone/file" "$B/rootfs/flink"
echo BOUND >"$T/bindfile"
cfg "$B" 'c["mounts"] += [
 {"destination":"/dlink/sub","type":"tmpfs","source":"tmpfs"},
 {"destination":"/rlink/sub","type":"tmpfs","source":"tmpfs"},
 {"destination":"/flink","type":"bind","source":"'"$T/bindfile"'","options":["bind"]}]'
args "$B" /init mounts
out=$(rt run -b "$B" $PFX-d 2>&1)
assert_eq "$?" 0 "a mount through a dangling symlink works"
mp=$(echo "$out" | awk '{ print $5 }' | tr '\n' ' ')
assert_contains " $mp" " $gone/dir/sub $gone-rel/sub $gone/file " \
	"  ... mounted where the links point"
args "$B" /init cat /flink
assert_eq "$(rt run -b "$B" $PFX-d 2>&1)" "BOUND" "  ... the file bind through a dangling link"
assert_eq "$(ls -d "$gone" "$gone-rel" 2>/dev/null)" "" "  ... nothing made on the host"
assert_eq "$(cd "$B/rootfs$gone" 2>/dev/null && find . | sort | tr '\n' ' ')" ". ./dir ./dir/sub ./file " \
	"  ... the missing parts made in the rootfs"
cfg "$B" 'c["mounts"]=[m for m in c["mounts"] if m["destination"] not in ("/dlink/sub","/rlink/sub","/flink")]'

# proc must land on a directory of the image, not where a symlink there points
cfg "$B" 'for m in c["mounts"]:
    if m["destination"]=="/dev": m["options"].remove("ro")'
args "$B" /init echo hi
rmdir "$B/rootfs/proc" && ln -s /elsewhere "$B/rootfs/proc"
out=$(rt run -b "$B" $PFX-w 2>&1)
assert_eq "$?" 1 "proc on a symlinked /proc is refused"
assert_contains "$out" "must be mounted on ordinary directory" "  ... with the reason"
done_testing
