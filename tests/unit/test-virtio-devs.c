/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-console, virtio-net and virtio-vsock with no CPU: the test plays the
 * guest driver and the host peer (pipes, a socketpair, a tap in a private network
 * namespace, unix sockets).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/error.h"
#include "unit/tap.h"
#include "unit/virtio-drv.h"
#include "virtio/virtio.h"

#define VERSION_1 (1ULL << VIRTIO_F_VERSION_1)
#define NUM 16
#define WAIT_MS 3000

static struct machine M;

static int read_timeout(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return (int)read(fd, buf, len);
}

static void dev_up(struct drv *d, uint64_t features, unsigned int nq)
{
	drv_init(d, features);
	for (unsigned int q = 0; q < nq; q++)
		drv_queue_setup(d, q, NUM, 0x10000 + 0x4000 * q);
	drv_driver_ok(d);
}

static void test_console(void)
{
	struct cabin_err *err = NULL;
	int in[2], out[2], ret;
	char buf[64] = { 0 };
	uint32_t len = 0;
	struct drv d;

	if (pipe2(in, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0)
		abort();
	ret = virtio_console_attach(&M, in[0], out[1], &err);
	tap_ok(ret == 0, "console attaches: %s", err ? cabin_err_msg(err) : "ok");
	drv_at(&d, &M, M.nr_devs - 1);
	tap_ok(mr(&d, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_CONSOLE, "console: device id 3");
	tap_ok(mr(&d, VIRTIO_MMIO_CONFIG + 4) == 1, "console: max_nr_ports 1");
	dev_up(&d, VERSION_1, 2);

	memcpy(gpa(&d, 0x100000), "hello ", 6);
	memcpy(gpa(&d, 0x100100), "virtio\n", 7);
	drv_chain(&d, 1, (struct drv_buf[]){ { 0x100000, 6, 0 }, { 0x100100, 7, 0 } }, 2);
	drv_kick(&d, 1);
	tap_ok(drv_used(&d, 1, NULL, NULL, 0) && read_timeout(out[0], buf, sizeof(buf), 0) == 13 &&
		       !memcmp(buf, "hello virtio\n", 13),
	       "console: guest output reaches the host fd");

	mw(&d, VIRTIO_MMIO_CONFIG + 8, 'Z');
	tap_ok(read_timeout(out[0], buf, sizeof(buf), 0) == 1 && buf[0] == 'Z',
	       "console: emerg_wr writes one character");

	/* Input waiting before the guest has buffers is delivered once it posts one. */
	if (write(in[1], "input!", 6) != 6)
		abort();
	usleep(20000);
	memset(gpa(&d, 0x110000), 0, 64);
	drv_chain(&d, 0, (struct drv_buf[]){ { 0x110000, 64, VIRTQ_DESC_F_WRITE } }, 1);
	drv_kick(&d, 0);
	ret = drv_used(&d, 0, NULL, &len, WAIT_MS);
	tap_ok(ret && len == 6 &&
		       !memcmp(gpa(&d, 0x110000), "input!", 6),
	       "console: host input reaches the guest (%u bytes)", len);
	drv_chain(&d, 0, (struct drv_buf[]){ { 0x110000, 64, VIRTQ_DESC_F_WRITE } }, 1);
	drv_kick(&d, 0);
	if (write(in[1], "more", 4) != 4)
		abort();
	tap_ok(drv_used(&d, 0, NULL, &len, WAIT_MS) && len == 4 &&
		       !memcmp(gpa(&d, 0x110000), "more", 4),
	       "console: input arriving later is delivered to a posted buffer");
	mw(&d, VIRTIO_MMIO_STATUS, 0);
	close(in[1]);
	/* The fds stay the caller's: the device is torn down with the machine. */
}

static const uint8_t test_mac[6] = { 0x02, 0xca, 0xb1, 0x00, 0x00, 0x01 };

/* A 60-byte Ethernet frame with EtherType 0x88b5 (local experimental) and a tag. */
static void make_frame(uint8_t *f, const char *tag)
{
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, test_mac, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memcpy(f + 14, tag, strlen(tag));
}

static void test_net_fd(void)
{
	struct cabin_err *err = NULL;
	uint8_t frame[60], buf[2048], *g;
	uint32_t len = 0;
	int sv[2], ret, n;
	struct drv d;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	ret = virtio_net_attach_fd(&M, sv[0], test_mac, &err);
	tap_ok(ret == 0, "net: attaches to a packet fd: %s", err ? cabin_err_msg(err) : "ok");
	drv_at(&d, &M, M.nr_devs - 1);
	tap_ok(mr(&d, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_NET, "net: device id 1");
	for (int i = 0; i < 6; i++) {
		uint8_t b;

		bus_access(&M.bus, BUS_MMIO, d.base + VIRTIO_MMIO_CONFIG + i, &b, 1, 0);
		buf[i] = b;
	}
	tap_ok(!memcmp(buf, test_mac, 6), "net: MAC in config space");
	tap_ok(drv_device_features(&d) & (1ULL << 5), "net: offers VIRTIO_NET_F_MAC");
	dev_up(&d, VERSION_1 | (1ULL << 5), 2);

	/* Transmit: header (with junk the device must clear) + frame. */
	g = gpa(&d, 0x100000);
	memset(g, 0x77, 12);
	make_frame(frame, "cabin-tx");
	memcpy(g + 12, frame, 60);
	drv_chain(&d, 1, (struct drv_buf[]){ { 0x100000, 12, 0 }, { 0x10000c, 60, 0 } }, 2);
	drv_kick(&d, 1);
	n = read_timeout(sv[1], buf, sizeof(buf), WAIT_MS);
	tap_ok(n == 72 && !memcmp(buf + 12, frame, 60), "net: transmitted frame reaches the peer (%d)",
	       n);
	memset(frame, 0, 12);
	tap_ok(n == 72 && !memcmp(buf, frame, 12), "net: the guest's vnet header is zeroed");
	tap_ok(drv_used(&d, 1, NULL, NULL, 0), "net: tx buffer returned");

	/* Receive. */
	memset(buf, 0, 12);
	make_frame(buf + 12, "cabin-rx");
	if (send(sv[1], buf, 72, 0) != 72)
		abort();
	memset(gpa(&d, 0x110000), 0xee, 2048);
	drv_chain(&d, 0, (struct drv_buf[]){ { 0x110000, 1526, VIRTQ_DESC_F_WRITE } }, 1);
	drv_kick(&d, 0);
	g = gpa(&d, 0x110000);
	ret = drv_used(&d, 0, NULL, &len, WAIT_MS);
	tap_ok(ret && len == 72 && !memcmp(g + 12, buf + 12, 60),
	       "net: frame from the peer reaches the guest (%u bytes)", len);
	tap_ok(g[10] == 1 && g[11] == 0, "net: num_buffers is 1");

	/* A buffer too small for the header is returned empty; the frame takes the next. */
	drv_chain(&d, 0, (struct drv_buf[]){ { 0x110000, 8, VIRTQ_DESC_F_WRITE } }, 1);
	drv_kick(&d, 0);
	if (send(sv[1], buf, 72, 0) != 72)
		abort();
	ret = drv_used(&d, 0, NULL, &len, WAIT_MS);
	tap_ok(ret && len == 0 && !(mr(&d, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET),
	       "net: a receive buffer smaller than the header is returned empty");
	drv_chain(&d, 0, (struct drv_buf[]){ { 0x110000, 1526, VIRTQ_DESC_F_WRITE } }, 1);
	drv_kick(&d, 0);
	ret = drv_used(&d, 0, NULL, &len, WAIT_MS);
	tap_ok(ret && len == 72, "net: the frame waits for the next buffer (%u bytes)", len);
	mw(&d, VIRTIO_MMIO_STATUS, 0);
	close(sv[1]);

	ret = virtio_net_attach_fd(&M, -1, NULL, &err);
	drv_at(&d, &M, M.nr_devs - 1);
	bus_access(&M.bus, BUS_MMIO, d.base + VIRTIO_MMIO_CONFIG, &buf[0], 1, 0);
	tap_ok(ret == 0 && (buf[0] & 3) == 2, "net: generated MAC is unicast, locally administered");
	cabin_err_release(&err);
}

/* Look for our tagged frame among what the packet socket sees. */
static int packet_wait(int sk, const char *tag, int ms)
{
	uint8_t buf[2048];

	for (int i = 0; i < 50; i++) {
		int n = read_timeout(sk, buf, sizeof(buf), ms / 50 + 1);

		if (n >= 14 + (int)strlen(tag) && buf[12] == 0x88 && buf[13] == 0xb5 &&
		    !memcmp(buf + 14, tag, strlen(tag)))
			return 1;
	}
	return 0;
}

static void test_net_tap(void)
{
	struct cabin_err *err = NULL;
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	char name[IFNAMSIZ];
	uint8_t frame[72];
	int sk, ret, found = 0;
	unsigned int slot;
	struct drv d;

	if (access("/dev/net/tun", R_OK | W_OK) < 0 || unshare(CLONE_NEWNET) < 0) {
		for (int i = 0; i < 5; i++)
			tap_skip("no /dev/net/tun or no private network namespace (%s)",
				 strerror(errno));
		return;
	}
	ret = virtio_net_attach(&M, "cabin-tap-name-too-long", NULL, &err);
	tap_ok(ret < 0 && strstr(cabin_err_msg(err), "cabin-tap-name-too-long"),
	       "tap: bad name refused: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	snprintf(name, sizeof(name), "cbvt%d", (int)getpid() % 100000);
	slot = M.next_mmio_slot;
	ret = virtio_net_attach(&M, name, test_mac, &err);
	tap_ok(ret == 0, "tap: `%s` created in a private netns: %s", name,
	       err ? cabin_err_msg(err) : "ok");
	if (ret < 0) {
		cabin_err_release(&err);
		for (int i = 0; i < 3; i++)
			tap_skip("no tap");
		return;
	}
	sk = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	sll.sll_ifindex = (int)if_nametoindex(name);
	if (sk < 0 || bind(sk, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		abort();
	drv_at(&d, &M, slot);
	dev_up(&d, VERSION_1 | (1ULL << 5), 2);

	memset(gpa(&d, 0x100000), 0, 12);
	make_frame(gpa(&d, 0x10000c), "cabin-tap-tx");
	drv_chain(&d, 1, (struct drv_buf[]){ { 0x100000, 72, 0 } }, 1);
	drv_kick(&d, 1);
	tap_ok(packet_wait(sk, "cabin-tap-tx", WAIT_MS), "tap: guest frame seen on the host tap");

	for (int i = 0; i < 8; i++)
		drv_chain(&d, 0,
			  (struct drv_buf[]){ { 0x110000 + 0x800 * i, 1526, VIRTQ_DESC_F_WRITE } },
			  1);
	drv_kick(&d, 0);
	make_frame(frame, "cabin-tap-rx");
	if (send(sk, frame, 60, 0) != 60)
		abort();
	/* The kernel may send its own frames (IPv6 router solicitations) first. */
	for (int i = 0; i < 8 && !found; i++) {
		uint32_t id, len;

		if (!drv_used(&d, 0, &id, &len, WAIT_MS))
			break;
		found = len == 72 && !memcmp((uint8_t *)gpa(&d, 0x110000 + 0x800 * id) + 12 + 14,
					     "cabin-tap-rx", 12);
	}
	tap_ok(found, "tap: host frame reaches the guest");
	mw(&d, VIRTIO_MMIO_STATUS, 0);
	close(sk);
	ret = virtio_net_attach(&M, "/bad", NULL, &err);
	tap_ok(ret < 0 && strstr(cabin_err_msg(err), "/bad"), "tap: invalid name: %s",
	       cabin_err_msg(err));
	cabin_err_release(&err);
}

int main(void)
{
	tap_plan(24);
	if (drv_machine_init(&M, DRV_RAM) < 0)
		return 1;
	test_console();
	test_net_fd();
	test_net_tap();
	drv_machine_fini(&M);
	return tap_done();
}
