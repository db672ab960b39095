#!/bin/sh
# guest-virtio.sh - runs inside the guest of tests/vm/test-emu-linux-virtio.sh (busybox sh),
# as /check.sh of the initramfs. Each result is one line "VIRTIO <what> <value>" on the
# serial console; the host side judges them.
#   check.sh first TOKEN   drive every device: write TOKEN to /data of the ext4 disk vda,
#                          read /dev/hwrng, answer the host on hvc0, ping the host over
#                          eth0 and wait for its ping, talk vsock both ways
#   check.sh again         mount vda again and print /data (after a new boot); write a line
#                          to hvc0 (a file on the host this time)
say() { echo "VIRTIO $*"; }

mkdir -p /mnt
if [ "$1" = again ]; then
	[ -c /dev/hvc0 ] && echo "hvc-file again-ok" >/dev/hvc0
	mount -t ext4 /dev/vda /mnt && say "blk-again $(cat /mnt/data)"
	umount /mnt
	exit 0
fi
token=$2

# virtio-console: a shell on hvc0; the host sends it a command line after HVC-READY.
if [ -c /dev/hvc0 ]; then
	setsid sh -c 'echo HVC-READY; exec sh' </dev/hvc0 >/dev/hvc0 2>&1 &
	say "hvc-dev ok"
fi

# virtio-blk: ext4 on vda, written, synced, unmounted.
if mount -t ext4 /dev/vda /mnt; then
	echo "$token" >/mnt/data
	sync
	say "blk-write $(cat /mnt/data)"
	umount /mnt && say "blk-umount ok"
fi

# virtio-rng: /dev/hwrng is served by virtio_rng.
say "rng-current $(cat /sys/class/misc/hw_random/rng_current)"
say "rng-bytes $(dd if=/dev/hwrng bs=32 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')"

# virtio-net: the host's tap is 10.0.2.1/24.
ip link set eth0 up
ip addr add 10.0.2.2/24 dev eth0
if ping -c 2 -W 10 10.0.2.1 >/dev/null; then
	say "net-ping ok"
else
	say "net-ping failed"
fi

# vsock, guest to host (CID 2): the host answers on <uds>_5000.
say "vsock-g2h $(/bin/cabin-helper vsock-connect 2 5000 guest-hello)"
# vsock, host to guest: the helper says "listening on vsock port 5001" (stderr), the host pings
# this guest and connects; its line says how its ping went.
say "vsock-h2g $(/bin/cabin-helper vsock-serve 5001 guest-answer)"

# The command the host sent through hvc0 has run by now (or never will).
for i in 1 2 3 4 5 6 7 8 9 10; do
	[ -e /tmp/hvc-in ] && break
	sleep 1
done
say "hvc-in $(cat /tmp/hvc-in 2>/dev/null)"
exit 0
