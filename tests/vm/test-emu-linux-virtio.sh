#!/bin/bash
# test-emu-linux-virtio.sh - Debian's cloud kernel under the software CPU drives every virtio
# device of `cabin vm run`. One boot runs tests/vm/guest-virtio.sh, which:
#   virtio-blk     mounts the ext4 image vda, writes a token, syncs, unmounts (a second
#                  boot on the same image reads the token back; debugfs reads it on the host);
#   virtio-rng     reads /dev/hwrng (served by virtio_rng);
#   virtio-console runs a shell on hvc0 that the host (--hvc, a unix socket) gives a command;
#   virtio-net     pings the host's tap in a network namespace of this test, and the host
#                  pings the guest;
#   vsock          connects to a host program (CID 2) and accepts a host connection, each
#                  exchanging a line both ways.
# shellcheck source=../func/lib.sh
. "$(dirname "$0")/../func/lib.sh"
[ -x "$CABIN" ] || skip_all "cabin is not built"
[ "$(id -u)" = 0 ] || skip_all "needs root (network namespace, tap device)"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun for the tap"
[ -x /bin/busybox ] || skip_all "no /bin/busybox for the guest's shell and tools"
[ -x "$TOP/tests/helpers/init" ] || skip_all "tests/helpers/init is not built"
for t in mkfs.ext4 debugfs python3 ip; do
	command -v $t >/dev/null || skip_all "no \`$t\` on the host"
done
out=$("$TOP/scripts/fetch-kernel.sh" 2>"$T/fetch.err") ||
	skip_all "debian cloud kernel unavailable: $(head -c 200 "$T/fetch.err")"
kernel=$(echo "$out" | sed -n 1p)
mods=$(echo "$out" | sed -n 2p)
"$CABIN" vm initrd -o "$T/initrd.cpio" --modules-dir "$mods" --file /bin/busybox \
	--file "$TOP/tests/helpers/init:/bin/cabin-helper" \
	--file "$TOP/tests/vm/guest-virtio.sh:/check.sh" 2>"$T/initrd.err" ||
	skip_all "cannot build cabin's initramfs: $(head -c 200 "$T/initrd.err")"

ns=emuvirtio-$$
tap=evtap$$
cleanup_ns() { ip netns del "$ns"; }
ip netns add "$ns" 2>"$T/ns.err" || skip_all "cannot create a network namespace: $(cat "$T/ns.err")"
at_exit cleanup_ns
nsx() { ip netns exec "$ns" "$@"; }
nsx ip link set lo up
nsx ip tuntap add dev "$tap" mode tap 2>"$T/tap.err" ||
	skip_all "cannot create a tap device: $(cat "$T/tap.err")"
nsx ip addr add 10.0.2.1/24 dev "$tap"
nsx ip link set "$tap" up
truncate -s 32M "$T/disk.img"
mkfs.ext4 -q -F "$T/disk.img" || skip_all "mkfs.ext4 failed"
plan 17

host=$TOP/tests/vm/virtio-host.py
token=token-$RANDOM$RANDOM
python3 "$host" hvc "$T/hvc.sock" "$T/hvc.out" &
hvc_pid=$!
python3 "$host" vsock-listen "$T/vsock.sock_5000" host-answer "$T/g2h.out" &
g2h_pid=$!
stop_helpers() { kill "$hvc_pid" "$g2h_pid"; }
at_exit stop_helpers
for _ in $(seq 50); do [ -S "$T/hvc.sock" ] && break; sleep 0.1; done

# cryptomgr.notests: the self-tests of every crypto algorithm (crypto_algapi_init) are about
# 45% of the guest instructions of a boot, and nothing here depends on them.
run() { # run OUT ARGS...: one boot with every device
	local o=$1
	shift
	timeout 300 ip netns exec "$ns" "$CABIN" vm run --accel emu --kernel "$kernel" \
		--initrd "$T/initrd.cpio" --memory 256M --cmdline cryptomgr.notests \
		--disk "$T/disk.img" --net tap="$tap" \
		--vsock 3,"$T/vsock.sock" --rng "${hvc[@]}" -- /check.sh "$@" \
		>"$o" 2>"$o.err" </dev/null
}

hvc=(--hvc "$T/hvc.sock")
start=$(date +%s)
run "$T/boot1" first "$token" &
vm_pid=$!
# Once the guest listens on vsock port 5001, ping it from the host (busybox: the host may have
# no ping of its own), then tell it the result.
h2g=
for _ in $(seq 600); do
	if grep -q "listening on vsock port 5001" "$T/boot1" 2>/dev/null; then
		nsx /bin/busybox ping -c 2 -W 10 10.0.2.2 >"$T/hostping" 2>&1
		h2g=$(python3 "$host" vsock-connect "$T/vsock.sock" 5001 "host-hello ping=$?" 2>&1)
		break
	fi
	kill -0 "$vm_pid" 2>/dev/null || break
	sleep 0.5
done
wait "$vm_pid"
rc=$?
secs=$(($(date +%s) - start))
con=$(tr -d '\r' <"$T/boot1")
line() { echo "$con" | sed -n "s/^VIRTIO $1 //p" | tail -n 1; }
assert_eq "$rc" 0 "first boot: the guest script ends, vm run exits 0 (${secs}s)"
[ "$rc" = 0 ] || { tail -30 "$T/boot1"; cat "$T/boot1.err"; } | sed 's/^/# /'

# virtio-blk
assert_eq "$(line blk-write)" "$token" "virtio-blk: the guest mounts ext4 on vda and writes"
assert_eq "$(line blk-umount)" ok "virtio-blk: the file system unmounts cleanly"
assert_eq "$(debugfs -R 'cat /data' "$T/disk.img" 2>/dev/null)" "$token" \
	"virtio-blk: the data is in the image on the host"

# virtio-rng
assert_eq "$(line rng-current)" virtio_rng.0 "virtio-rng: /dev/hwrng is served by virtio_rng"
rng=$(line rng-bytes)
ok "virtio-rng: /dev/hwrng gives 32 bytes, not all zero ($rng)" \
	eval '[ ${#rng} = 64 ] && [ "$rng" != "$(printf "%064d" 0)" ]'

# virtio-net
assert_eq "$(line net-ping)" ok "virtio-net: the guest pings the host's tap"
ok "virtio-net: the host pings the guest" grep -q " 0% packet loss" "$T/hostping"

# vsock
assert_eq "$(line vsock-g2h)" host-answer "vsock: guest to host (CID 2 port 5000), the host answers"
assert_eq "$(cat "$T/g2h.out" 2>/dev/null)" guest-hello "vsock: the host program reads the guest's line"
assert_eq "$(line vsock-h2g)" "host-hello ping=0" "vsock: host to guest port 5001, the guest reads"
assert_eq "$h2g" guest-answer "vsock: the guest answers the host program"

# virtio-console: the host program is done once the answer came; if the guest never answered,
# it would wait for its timeout, so give it a moment after the VM's end, then stop it.
for _ in $(seq 50); do kill -0 "$hvc_pid" 2>/dev/null || break; sleep 0.1; done
kill "$hvc_pid" 2>/dev/null
wait "$hvc_pid" 2>/dev/null
assert_contains "$(tr -d '\r' <"$T/hvc.out")" "hvc-answer-42" \
	"virtio-console: a shell on hvc0 runs the host's command line, its output comes back"
assert_eq "$(line hvc-in)" hvc-42 "virtio-console: the guest got the host's line on hvc0"

# A second boot on the same image finds the data; hvc0's output goes to a file this time.
hvc=(--hvc "$T/hvc2.log")
start=$(date +%s)
run "$T/boot2" again
rc=$?
secs=$(($(date +%s) - start))
con=$(tr -d '\r' <"$T/boot2")
assert_eq "$rc:$(line blk-again)" "0:$token" "virtio-blk: after a new boot the data is there (${secs}s)"
[ "$rc" = 0 ] || { tail -30 "$T/boot2"; cat "$T/boot2.err"; } | sed 's/^/# /'
assert_contains "$(cat "$T/hvc2.log" 2>/dev/null)" "hvc-file again-ok" \
	"virtio-console: --hvc FILE receives what the guest writes to hvc0"

# --hvc that cannot be opened: one error naming it, before anything boots.
"$CABIN" vm run --accel emu --kernel "$kernel" --hvc "$T/no/such/dir/hvc" -- true \
	>/dev/null 2>"$T/hvc-bad.err" </dev/null
rc=$?
assert_eq "$rc:$(grep -c "no/such/dir/hvc" "$T/hvc-bad.err")" "1:1" \
	"--hvc with a path that cannot be created fails, naming it"
done_testing
