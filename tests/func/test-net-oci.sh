#!/bin/bash
# The network of a container run by cabin's own OCI runtime, the way `container run` does
# it: create (a new network namespace) -> attach /proc/PID/ns/net with -p 18080:80 ->
# start busybox httpd. The page is reachable on 127.0.0.1:18080 and on the host's address;
# the container sees its /etc/hosts, /etc/resolv.conf and /etc/hostname; after kill,
# delete and detach no veth, nft element, lease, mount, cgroup or process is left.
# "The host" is a namespace the test makes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/oci-lib.sh"
. "$(dirname "$0")/net-lib.sh"
plan 15
net_setup
BB=$(command -v busybox)
file "$BB" 2>/dev/null | grep -q 'statically linked' || [ -x /bin/busybox ] || skip_all "needs a static busybox"
ID=$PFX-web
B=$T/b
mkbundle "$B"
mkdir -p "$B/rootfs/bin" "$B/rootfs/www"
cp "$BB" "$B/rootfs/bin/busybox"
echo "hello from the bundle" >"$B/rootfs/www/index.html"
args "$B" /bin/busybox httpd -f -p 80 -h /www
files=$(hcabin network files "$ID")
ok "network files creates the files to mount" test -f "$T/root/network/files/$ID/hosts"
cfg "$B" "
import sys
paths = '''$files'''.split()
for src, dst in zip(paths, ['/etc/hosts', '/etc/resolv.conf', '/etc/hostname']):
    c['mounts'].append({'destination': dst, 'type': 'bind', 'source': src, 'options': ['bind', 'rw']})
"
rtn() { nsenter --net="/run/netns/$H" "$CABIN" --root "$STATE" "$@"; }
rtn create -b "$B" "$ID" >/dev/null 2>"$T/create.err" </dev/null
ok "create the container" test $? -eq 0
pid=$(rtn state "$ID" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
hcabin network connect --netns "/proc/$pid/ns/net" -p 18080:80 --name web --hostname web bridge "$ID" >"$T/lease"
ok "attach its network namespace" test $? -eq 0
ip=$(sed -n 's/^ip \([0-9.]*\)\/.*/\1/p' "$T/lease")
rtn start "$ID"
ok "start" test $? -eq 0
ok "the published port answers on 127.0.0.1:18080" wait_http "$H" 127.0.0.1 18080
assert_eq "$(in_ns "$H" curl -s -m 3 http://127.0.0.1:18080/)" "hello from the bundle" "curl 127.0.0.1:18080"
assert_eq "$(in_ns "$CL" curl -s -m 3 http://$HOST_IP:18080/)" "hello from the bundle" "curl the host's address from outside"
assert_contains "$(rtn exec "$ID" /bin/busybox cat /etc/hosts)" "$ip	web" "the container's /etc/hosts has its address and name"
assert_eq "$(rtn exec "$ID" /bin/busybox cat /etc/hostname)" "web" "its /etc/hostname"
assert_contains "$(rtn exec "$ID" /bin/busybox ip -4 -o addr show eth0 2>&1)" "$ip/" "its eth0 has the leased address"

rtn kill "$ID" KILL
for i in $(seq 50); do
	[ "$(rtn state "$ID" 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' 2>/dev/null)" = stopped ] && break
	sleep 0.1
done
rtn delete "$ID"
ok "delete" test $? -eq 0
hcabin network disconnect "$ID"
assert_eq "$(in_ns "$H" ip -o link | grep -c veth)" 0 "no veth is left"
assert_not_contains "$(in_ns "$H" nft list table ip cabin)" "18080" "no nft element is left"
assert_eq "$(ls -A "$T/root/network/endpoints" "$T/root/network/files" | grep -vc ':$\|^$')" 0 "no lease and no files are left"
no_leftovers "$ID" "no state, mount, cgroup or process is left"
done_testing
