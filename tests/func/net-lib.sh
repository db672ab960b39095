# net-lib.sh - network namespaces for the network tests (source after lib.sh).
# Nothing here touches the machine's own interfaces: a namespace $H plays the host (cabin
# runs in it through `ip netns exec`), others play containers and an outside client.
#   net_setup              make $H (lo up) and $CL, an outside client wired to $H by a
#                          veth: $H has $HOST_IP, $CL has $CLIENT_IP
#   net_ctr NAME           make namespace NAME (a container's), cleaned up at exit
#   hcabin ARGS...         cabin with --data-root $T/root, in $H
#   in_ns NS CMD...        run CMD in namespace NS
require_root
require_cmd ip nft curl busybox nsenter
NS_PFX=net-$$
H=$NS_PFX-h
CL=$NS_PFX-cl
HOST_IP=10.203.0.1
CLIENT_IP=10.203.0.2
_net_namespaces=()
_net_pids=()

_net_cleanup() {
	local p n
	for p in "${_net_pids[@]}"; do kill "$p" 2>/dev/null; done
	for n in "${_net_namespaces[@]}"; do ip netns del "$n" 2>/dev/null; done
}
at_exit _net_cleanup

in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}
# nsenter rather than `ip netns exec`: that one remounts /sys, hiding the cgroup mounts the
# runtime needs
hcabin() { nsenter --net="/run/netns/$H" "$CABIN" --data-root "$T/root" "$@"; }
net_ctr() {
	ip netns add "$1" || return 1
	_net_namespaces+=("$1")
}
# bg_in_ns NS CMD...: start CMD in NS in the background, killed at exit
bg_in_ns() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" >/dev/null 2>&1 &
	_net_pids+=($!)
}
net_setup() {
	ip netns add "$H" || skip_all "cannot create network namespaces"
	_net_namespaces+=("$H")
	net_ctr "$CL"
	in_ns "$H" ip link set lo up
	in_ns "$CL" ip link set lo up
	ip link add "$NS_PFX-a" netns "$H" type veth peer name "$NS_PFX-b" netns "$CL" ||
		skip_all "cannot create a veth pair"
	in_ns "$H" ip addr add "$HOST_IP/24" dev "$NS_PFX-a"
	in_ns "$H" ip link set "$NS_PFX-a" up
	in_ns "$CL" ip addr add "$CLIENT_IP/24" dev "$NS_PFX-b"
	in_ns "$CL" ip link set "$NS_PFX-b" up
}
# wait_port NS IP PORT: until something answers HTTP there (at most ~3 s)
wait_http() {
	local i
	for i in $(seq 30); do
		in_ns "$1" curl -s -m 1 -o /dev/null "http://$2:$3/" && return 0
		sleep 0.1
	done
	return 1
}
