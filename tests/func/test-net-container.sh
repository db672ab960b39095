#!/bin/bash
# Done criterion 2 of `container run`, inside a network namespace that plays the host (the
# test never touches the machine's interfaces): `container run -d --name web -p 18080:80
# IMAGE httpd -f -p 80` answers curl on 127.0.0.1:18080 and on the host's address (from the
# host and from another machine), and from a second container by name on a user network;
# then logs, ps, stop and rm work and no veth, nft element, lease, mount or cgroup is left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/img-lib.sh"
. "$(dirname "$0")/net-lib.sh"
require_cmd python3 zstd
plan 31
net_setup

D=$T/data
R=$T/run
# every container command runs in the "host" namespace: the monitor attaches there
hc() { nsenter --net="/run/netns/$H" "$CABIN" --data-root "$D" --root "$R" "$@"; }
cleanup_ctrs() {
	local c
	for c in $(hc container ps -aq 2>/dev/null); do hc container rm -f "$c"; done
}
at_exit cleanup_ctrs

mkimage "$T/img" >/dev/null
IMG=$(hc image load -i "$T/img" 2>&1 | sed -n 's/^Loaded image: //p' | head -1)
ok "load the test image ($IMG)" test -n "$IMG"

id=$(hc container run -d --name web -p 18080:80 "$IMG" httpd -f -p 80 2>"$T/run.err")
ok "container run -d --name web -p 18080:80 IMAGE httpd -f -p 80" test $? -eq 0 -a -n "$id"
[ -s "$T/run.err" ] && sed 's/^/# /' "$T/run.err"
# httpd serves its working directory (the image's /data): give it a page
hc container exec web sh -c 'echo "served by web" >index.html'
ok "curl 127.0.0.1:18080 answers" wait_http "$H" 127.0.0.1 18080
assert_eq "$(in_ns "$H" curl -s -m 3 http://127.0.0.1:18080/)" "served by web" "curl 127.0.0.1:18080 gets the container's page"
assert_eq "$(in_ns "$H" curl -s -m 3 http://$HOST_IP:18080/)" "served by web" "curl on the host's address"
assert_eq "$(in_ns "$CL" curl -s -m 3 http://$HOST_IP:18080/)" "served by web" "curl from another machine to the host's address"
assert_contains "$(hc container ps)" "18080:80" "ps shows the published port"
ip=$(hc container inspect web | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d[0] if isinstance(d,list) else d; print(d["NetworkSettings"]["IPAddress"])' 2>/dev/null)
ok "inspect gives the container's address ($ip)" test -n "$ip"
assert_contains "$(hc container exec web cat /etc/hosts)" "$ip" "its /etc/hosts has its address"
ok "its resolv.conf has a name server" hc container exec web grep -q '^nameserver' /etc/resolv.conf

# a port that is taken: one clear error, nothing left
err=$(hc container run -d --name web2 -p 18080:80 "$IMG" httpd -f -p 80 2>&1)
ok "a second container on the same host port fails" test $? -ne 0
assert_contains "$err" "18080/tcp is already published by container" "the error names the port"
assert_eq "$(in_ns "$H" ip -o link | grep -c veth)" 1 "the failure left no veth"
assert_eq "$(ls "$D/network/endpoints")" "$id.json" "the failure left no lease"
assert_not_contains "$(hc container ps -a)" "web2" "the failure left no container"
bg_in_ns "$H" busybox nc -l -p 18081 -e /bin/true
sleep 0.3
err=$(hc container run -d --name web3 -p 18081:80 "$IMG" httpd -f -p 80 2>&1)
assert_contains "$err" "host port 18081/tcp is already in use" "a port a host program holds: a clear error"
assert_eq "$(in_ns "$H" ip -o link | grep -c veth)/$(ls "$D/network/endpoints" | wc -l)/$(hc container ps -aq | wc -l)" "1/1/1" "and no veth, lease or container left"

# a user network: containers reach each other by name
hc network create front >/dev/null
hc container run -d --name api --network front "$IMG" httpd -f -p 8000 >/dev/null
ok "a container on a user network" test $? -eq 0
hc container exec api sh -c 'echo "api here" >index.html'
out=$(hc container run --rm --network front "$IMG" sh -c 'wget -q -O - http://api:8000/ 2>&1 || { cat /etc/hosts; ip addr; }')
assert_eq "$out" "api here" "another container on it fetches http://api:8000/ by name"
hc container rm -f api >/dev/null
hc network rm front >/dev/null
ok "the user network is removed" test $? -eq 0

# --network host shares the host's interfaces; --network none has lo only
assert_contains "$(hc container run --rm --network host "$IMG" ip -o link 2>&1)" "$NS_PFX-a" "--network host sees the host's interfaces"
assert_eq "$(hc container run --rm --network none "$IMG" sh -c 'ip -o link | grep -vc " lo:"' 2>&1)" "0" "--network none has lo only"

assert_contains "$(hc container logs web 2>&1; echo logs-ok)" "logs-ok" "logs works"
hc container stop -t 2 web >/dev/null
ok "stop" test $? -eq 0
ok "the port no longer answers" bash -c "! ip netns exec '$H' curl -s -m 1 -o /dev/null http://127.0.0.1:18080/"
hc container rm web >/dev/null
ok "rm" test $? -eq 0
assert_eq "$(in_ns "$H" ip -o link | grep -c veth)" 0 "no veth is left"
ruleset=$(in_ns "$H" nft list table ip cabin 2>/dev/null)
assert_not_contains "$ruleset" "18080" "no nft element of the port is left"
assert_eq "$(ls -A "$D/network/endpoints" "$D/network/files" | grep -vc ':$\|^$')" 0 "no lease and no network files are left"
assert_eq "$(grep -c " $D/\| $R/" /proc/self/mountinfo)" 0 "no mount is left"
assert_eq "$(find /sys/fs/cgroup -maxdepth 8 -type d -name "*$id*" 2>/dev/null | wc -l)" 0 "no cgroup is left"
done_testing
