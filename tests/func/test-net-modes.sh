#!/bin/bash
# Network modes and hard cases, in namespaces the test makes: --network none and host,
# a published UDP port, parallel attaches (the lock: distinct addresses), a container
# whose namespace is gone before detach, a leftover lease undone by detach, bad input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/net-lib.sh"
plan 28
net_setup
N1=$NS_PFX-n1
U1=$NS_PFX-u1
net_ctr "$N1"
net_ctr "$U1"
printf 'nameserver 10.203.0.53\nsearch example.test\n' >"$T/resolv.conf"

# none: lo only, files written
out=$(hcabin network connect --netns "/run/netns/$N1" none none1 2>&1)
ok "connect to none" test $? -eq 0
assert_contains "$(in_ns "$N1" ip -o link show lo)" "UP" "lo is up"
assert_eq "$(in_ns "$N1" ip -o link | grep -vc ': lo:')" 0 "no other interface"
assert_contains "$(cat "$T/root/network/files/none1/hosts")" "127.0.0.1	localhost" "hosts for none"
err=$(hcabin network connect --netns "/run/netns/$N1" -p 8080:80 none none2 2>&1)
assert_contains "$err" "published ports need a bridge network" "ports on none are refused"
hcabin network disconnect none1
ok "none1 files are gone" test ! -e "$T/root/network/files/none1"

# host: no namespace, the host's hosts file
hcabin network connect host host1 >/dev/null
ok "connect to host" test $? -eq 0
assert_eq "$(cat "$T/root/network/files/host1/hosts")" "$(cat /etc/hosts)" "host mode uses the host's /etc/hosts"
hcabin network disconnect host1

# UDP publishing
hcabin network connect --netns "/run/netns/$U1" -p 127.0.0.1:15353:53/udp -p 15354:54/udp bridge udp1 >/dev/null
ok "publish udp ports" test $? -eq 0
# (busybox nc has no UDP here: python3 is the server and the client)
bg_in_ns "$U1" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 53))
d, a = s.recvfrom(100)
open('$T/udp.out', 'wb').write(d)"
sleep 0.3
udp_send() { in_ns "$H" python3 -c "import socket,sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'ping-over-udp\n', (sys.argv[1], int(sys.argv[2])))" "$@"; }
for i in $(seq 10); do [ -s "$T/udp.out" ] && break; udp_send 127.0.0.1 15353; sleep 0.2; done
for i in $(seq 20); do [ -s "$T/udp.out" ] && break; sleep 0.1; done
assert_eq "$(cat "$T/udp.out")" "ping-over-udp" "a datagram to 127.0.0.1:15353/udp reaches the container"
ruleset=$(in_ns "$H" nft list table ip cabin)
assert_contains "$ruleset" "127.0.0.1 . 15353" "the IP-bound udp port is in pubip_udp"
assert_contains "$ruleset" "15354 :" "the udp port on every address is in pub_udp"
hcabin network disconnect udp1
ruleset=$(in_ns "$H" nft list table ip cabin)
assert_not_contains "$ruleset" "1535" "both udp elements are gone"

# parallel attaches get distinct addresses
pids=()
for i in 1 2 3 4 5 6; do
	net_ctr "$NS_PFX-p$i"
	hcabin network connect --netns "/run/netns/$NS_PFX-p$i" bridge par$i >"$T/par$i" 2>&1 &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
assert_eq "$fails" 0 "six parallel attaches succeed"
assert_eq "$(sed -n 's/^ip \([0-9.]*\)\/.*/\1/p' "$T"/par* | sort -u | wc -l)" 6 "with six distinct addresses"
assert_eq "$(in_ns "$H" ip -o link | grep -c veth)" 6 "and six veths"

# a namespace that is gone before detach (the container died): detach still cleans up
ip netns del "$NS_PFX-p1"
for i in $(seq 20); do in_ns "$H" ip -o link | grep -c veth | grep -q 5 && break; sleep 0.1; done
hcabin network disconnect par1
ok "detach after the namespace is gone" test $? -eq 0
hcabin network disconnect par1
ok "detach twice is fine" test $? -eq 0
for i in 2 3 4 5 6; do hcabin network disconnect par$i; done
assert_eq "$(in_ns "$H" ip -o link | grep -c veth)" 0 "no veth left after the parallel ones"

# a lease written by an attach that died before making anything is undone by detach
cat >"$T/root/network/endpoints/dead1.json" <<JSON
{"id": "dead1", "network": "bridge", "name": "", "hostname": "dead1", "ports": [{"host_ip": "", "host_port": 19999, "ctr_port": 80, "proto": "tcp"}], "ip": "172.17.0.200", "gateway": "172.17.0.1", "prefix": 16, "veth": "vethdead0001"}
JSON
hcabin network disconnect dead1
ok "detach of a half-made endpoint succeeds" test $? -eq 0 -a ! -e "$T/root/network/endpoints/dead1.json"

# a container that died without detach (its namespace and so its veth are gone): the next
# attach sweeps its endpoint, so its port and address are free again
net_ctr "$NS_PFX-s1"
net_ctr "$NS_PFX-s2"
hcabin network connect --netns "/run/netns/$NS_PFX-s1" -p 18090:80 bridge sw1 >"$T/sw1"
ip netns del "$NS_PFX-s1"
for i in $(seq 20); do in_ns "$H" ip -o link | grep -q veth || break; sleep 0.1; done
hcabin network connect --netns "/run/netns/$NS_PFX-s2" -p 18090:80 bridge sw2 >"$T/sw2" 2>&1
ok "a dead container's port can be published again" test $? -eq 0
ok "its endpoint was swept" test ! -e "$T/root/network/endpoints/sw1.json" -a ! -e "$T/root/network/files/sw1"
assert_eq "$(sed -n 's/^ip \([0-9.]*\)\/.*/\1/p' "$T/sw2")" "$(sed -n 's/^ip \([0-9.]*\)\/.*/\1/p' "$T/sw1")" "and its address is given out again"
hcabin network disconnect sw2

# bad input: one clear error each
assert_contains "$(hcabin network connect --netns "/run/netns/$U1" nosuch x1 2>&1)" "network \`nosuch\` not found" "unknown network"
assert_contains "$(hcabin network create --subnet 10.203.0.0/16 clash 2>&1)" "overlaps a subnet in use" "a subnet overlapping a host route is refused"
assert_contains "$(hcabin network connect --netns "$T/nonexistent" bridge x2 2>&1)" "open network namespace" "a missing namespace is named"
assert_contains "$(hcabin network connect --netns "/run/netns/$U1" -p 1.2.3.4:8080:80 bridge x3 2>&1)" "host IP \`1.2.3.4\` is not an address of this host" "a host IP that is not the host's"
assert_eq "$(ls "$T/root/network/endpoints" | wc -l)" 0 "no lease is left by the errors"
done_testing
