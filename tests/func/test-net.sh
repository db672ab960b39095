#!/bin/bash
# Container networks in namespaces the test makes: the default bridge, -p publishing
# reachable on 127.0.0.1, on the host's address (from the host and from outside) and from
# another container (hairpin); a taken port; teardown that leaves no veth, nft element,
# lease or file; user networks whose members find each other by name.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"
plan 45
net_setup
C1=$NS_PFX-c1
C2=$NS_PFX-c2
C3=$NS_PFX-c3
net_ctr "$C1"
net_ctr "$C2"
net_ctr "$C3"
mkdir -p "$T/www"
echo "hello from web" >"$T/www/index.html"
bg_in_ns "$C1" busybox httpd -f -p 80 -h "$T/www"
echo "nameserver 127.0.0.53" >"$T/resolv.host"

out=$(hcabin network connect --netns "/run/netns/$C1" -p 18080:80 --name web bridge web1 2>&1)
ok "connect to the default bridge" test $? -eq 0
ip=$(echo "$out" | sed -n 's/^ip \([0-9.]*\)\/.*/\1/p')
assert_contains "$(in_ns "$C1" ip -4 -o addr show eth0)" "$ip/" "eth0 in the container has the leased address $ip"
assert_contains "$(in_ns "$C1" ip route)" "default via" "the container has a default route"
assert_contains "$(in_ns "$C1" ip -o link show lo)" "UP" "lo is up in the container"
assert_contains "$(in_ns "$H" ip -o link show cabin0)" "UP" "bridge cabin0 is up on the host"
ok "the published port answers on 127.0.0.1" wait_http "$H" 127.0.0.1 18080
assert_eq "$(in_ns "$H" curl -s -m 3 http://127.0.0.1:18080/)" "hello from web" "curl 127.0.0.1:18080 gets the page"
assert_eq "$(in_ns "$H" curl -s -m 3 http://$HOST_IP:18080/)" "hello from web" "curl on the host's own address"
assert_eq "$(in_ns "$CL" curl -s -m 3 http://$HOST_IP:18080/)" "hello from web" "curl from another machine to the host's address"
assert_eq "$(in_ns "$H" curl -s -m 3 http://$ip/)" "hello from web" "the container's address from the host"

out2=$(hcabin network connect --netns "/run/netns/$C2" --name client bridge client1 2>&1)
ok "a second container on the bridge" test $? -eq 0
ip2=$(echo "$out2" | sed -n 's/^ip \([0-9.]*\)\/.*/\1/p')
ok "it gets another address ($ip2)" test -n "$ip2" -a "$ip2" != "$ip"
assert_eq "$(in_ns "$C2" curl -s -m 3 http://$HOST_IP:18080/ 2>&1)" "hello from web" "hairpin: a container reaches the published port on the host's address"
assert_eq "$(in_ns "$C2" curl -s -m 3 http://$ip/ 2>&1)" "hello from web" "containers on the bridge reach each other"
assert_eq "$(in_ns "$C1" curl -s -m 3 http://$HOST_IP:18080/ 2>&1)" "hello from web" "hairpin: a container reaches its own published port"

# outbound NAT: the outside machine has no route to the containers' subnet, so an answer
# reaches the container only if its traffic left with the host's address
mkdir -p "$T/outside"
echo "outside page" >"$T/outside/index.html"
bg_in_ns "$CL" busybox httpd -f -p 8088 -h "$T/outside"
wait_http "$CL" 127.0.0.1 8088
assert_eq "$(in_ns "$C2" curl -s -m 3 http://$CLIENT_IP:8088/ 2>&1)" "outside page" "outbound: a container reaches another machine through the host (masquerade)"
ok "the outside machine has no route back to the container subnet" bash -c "! ip netns exec '$CL' ip route get '$ip2' >/dev/null 2>&1 || ! ip netns exec '$CL' ip route | grep -q 172"

# a port already published, and one a host program listens on: clear errors, nothing left
veths_before=$(in_ns "$H" ip -o link | grep -c veth)
err=$(hcabin network connect --netns "/run/netns/$C3" -p 18080:80 bridge dup1 2>&1)
ok "publishing a published port fails" test $? -ne 0
assert_contains "$err" "host port 18080/tcp is already published by container \`web\`" "the error names the port and its owner"
bg_in_ns "$H" busybox nc -l -p 18081 -e /bin/true
sleep 0.3
err=$(hcabin network connect --netns "/run/netns/$C3" -p 127.0.0.1:18081:80 bridge dup2 2>&1)
ok "publishing a port a host program holds fails" test $? -ne 0
assert_contains "$err" "host port 127.0.0.1:18081/tcp is already in use" "the error says the port is in use"
assert_eq "$(in_ns "$H" ip -o link | grep -c veth)" "$veths_before" "the failures left no veth"
assert_eq "$(ls "$T/root/network/endpoints" | sort | tr '\n' ' ')" "client1.json web1.json " "the failures left no lease"
assert_eq "$(in_ns "$C3" ip -o link | grep -c eth0)" 0 "the failures left no eth0 in the container"
assert_not_contains "$(in_ns "$H" nft list table ip cabin)" "18081" "the failures left no nft element"
# the lease the failed attach had chosen is free again
out3=$(hcabin network connect --netns "/run/netns/$C3" bridge third1 2>&1)
ip3=$(echo "$out3" | sed -n 's/^ip \([0-9.]*\)\/.*/\1/p')
ok "the next container gets the next free address" test -n "$ip3" -a "$ip3" != "$ip" -a "$ip3" != "$ip2"
hcabin network disconnect third1

# files for the container
hosts=$(cat "$T/root/network/files/web1/hosts")
assert_contains "$hosts" "$ip	web1 web" "hosts names the container"
assert_contains "$hosts" "127.0.0.1	localhost" "hosts has localhost"
assert_eq "$(cat "$T/root/network/files/web1/hostname")" "web1" "hostname file"
ok "resolv.conf has a name server the container can reach" bash -c "! grep -q '^nameserver 127' '$T/root/network/files/web1/resolv.conf' && grep -q '^nameserver' '$T/root/network/files/web1/resolv.conf'"

# user-defined network: names resolve through hosts files kept current
hcabin network create app --subnet 10.204.0.0/24 >/dev/null  # options after NAME, as docker takes them
ok "network create app --subnet (options after the name)" test $? -eq 0
assert_contains "$(in_ns "$H" ip -4 -o addr)" "10.204.0.1/24" "its bridge has the gateway address"
A=$NS_PFX-a1
B=$NS_PFX-b1
net_ctr "$A"
net_ctr "$B"
hcabin network connect --netns "/run/netns/$A" --name alpha app alpha1 >/dev/null &&
	hcabin network connect --netns "/run/netns/$B" --name beta app beta1 >/dev/null
ok "two containers on app" test $? -eq 0
assert_contains "$(cat "$T/root/network/files/alpha1/hosts")" "10.204.0.3	beta" "the first container's hosts learns the second by name"
assert_contains "$(cat "$T/root/network/files/beta1/hosts")" "10.204.0.2	alpha" "the second knows the first"
beta_ip=$(awk '/beta/ {print $1}' "$T/root/network/files/alpha1/hosts")
ping_from() { in_ns "$1" busybox ping -q -c 1 -W 2 "$2" >/dev/null 2>&1; }
ok "alpha reaches beta by the address its hosts file gives ($beta_ip)" ping_from "$A" "$beta_ip"
err=$(hcabin network rm app 2>&1)
assert_contains "$err" "has containers attached" "a network in use is not removed"
hcabin network disconnect beta1
assert_not_contains "$(cat "$T/root/network/files/alpha1/hosts")" "beta" "a container that leaves disappears from the others' hosts"
hcabin network disconnect alpha1
hcabin network rm app >/dev/null
ok "network rm app removes its bridge" bash -c "! ip netns exec '$H' ip -4 -o addr | grep -q 10.204.0.1"
assert_not_contains "$(hcabin network ls)" " app " "ls no longer lists it"

# teardown of the default bridge's containers
hcabin network disconnect web1 client1
ok "disconnect" test $? -eq 0
assert_eq "$(in_ns "$H" ip -o link | grep -c veth)" 0 "no veth is left"
ruleset=$(in_ns "$H" nft list table ip cabin)
assert_not_contains "$ruleset" "18080" "no nft element for the port is left"
assert_eq "$(ls "$T/root/network/endpoints" "$T/root/network/files" | grep -vc ':$\|^$')" 0 "no lease and no files are left"
assert_eq "$(hcabin network rm bridge 2>&1)" "cabin: network \`bridge\` is predefined and cannot be removed" "the default network stays"
done_testing
