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
#include "lib/util.h"
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

/* CPU time the whole process used while the calling thread slept @ms. */
static long cpu_ms_during_sleep(int ms)
{
	struct timespec a, b;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	usleep((useconds_t)ms * 1000);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
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
	long cpu;
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
	tap_ok(ret && len == 6 && !memcmp(gpa(&d, 0x110000), "input!", 6),
	       "console: host input reaches the guest (%u bytes)", len);
	drv_chain(&d, 0, (struct drv_buf[]){ { 0x110000, 64, VIRTQ_DESC_F_WRITE } }, 1);
	drv_kick(&d, 0);
	if (write(in[1], "more", 4) != 4)
		abort();
	tap_ok(drv_used(&d, 0, NULL, &len, WAIT_MS) && len == 4 &&
		       !memcmp(gpa(&d, 0x110000), "more", 4),
	       "console: input arriving later is delivered to a posted buffer");
	/* Input hung up while the guest has no buffers: the worker must sleep, not spin. */
	close(in[1]);
	cpu = cpu_ms_during_sleep(300);
	tap_ok(cpu < 30, "console: hung-up input without buffers: no busy loop (%ld ms cpu)", cpu);
	drv_chain(&d, 0, (struct drv_buf[]){ { 0x110000, 64, VIRTQ_DESC_F_WRITE } }, 1);
	drv_kick(&d, 0);
	tap_ok(!drv_used(&d, 0, NULL, NULL, 200) && cpu_ms_during_sleep(300) < 30,
	       "console: end of input: buffers stay posted, no busy loop");
	mw(&d, VIRTIO_MMIO_STATUS, 0);
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
	tap_ok(n == 72 && !memcmp(buf + 12, frame, 60),
	       "net: transmitted frame reaches the peer (%d)", n);
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
	tap_ok(ret == 0 && (buf[0] & 3) == 2,
	       "net: generated MAC is unicast, locally administered");
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

struct vs_hdr {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len;
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
} __attribute__((packed));

enum {
	OP_REQUEST = 1,
	OP_RESPONSE,
	OP_RST,
	OP_SHUTDOWN,
	OP_RW,
	OP_CREDIT_UPDATE,
	OP_CREDIT_REQUEST
};

#define RXBASE 0x200000
#define TXBASE 0x300000
static char vs_dir[] = "/tmp/cabin-test-vsock.XXXXXX";

static void vs_post_rx(struct drv *d)
{
	uint16_t head = d->q[0].next_desc;

	drv_chain(d, 0,
		  (struct drv_buf[]){ { RXBASE + head * 0x1000ULL, 4096, VIRTQ_DESC_F_WRITE } }, 1);
	drv_kick(d, 0);
}

/* The guest sends one packet from port @src to host port @dst. */
static void vs_send(struct drv *d, uint64_t src_cid, uint16_t op, uint32_t src, uint32_t dst,
		    uint32_t buf_alloc, uint32_t fwd_cnt, const void *data, uint32_t len)
{
	uint16_t head = d->q[1].next_desc;
	uint64_t h_gpa = TXBASE + head * 0x1000ULL;
	struct vs_hdr *h = gpa(d, h_gpa);

	*h = (struct vs_hdr){ .src_cid = src_cid,
			      .dst_cid = 2,
			      .src_port = src,
			      .dst_port = dst,
			      .len = len,
			      .type = 1,
			      .op = op,
			      .buf_alloc = buf_alloc,
			      .fwd_cnt = fwd_cnt };
	if (op == OP_SHUTDOWN)
		h->flags = 3;
	if (len)
		memcpy((char *)h + 64, data, len);
	if (len)
		drv_chain(d, 1, (struct drv_buf[]){ { h_gpa, 44, 0 }, { h_gpa + 64, len, 0 } }, 2);
	else
		drv_chain(d, 1, (struct drv_buf[]){ { h_gpa, 44, 0 } }, 1);
	drv_kick(d, 1);
	drv_used(d, 1, NULL, NULL, WAIT_MS);
}

/* Next packet for the guest. Return: 1 with @h (and @data) filled, 0 on timeout. */
static int vs_recv(struct drv *d, struct vs_hdr *h, char *data, size_t max, int ms)
{
	uint32_t id, len;
	const uint8_t *p;

	if (!drv_used(d, 0, &id, &len, ms))
		return 0;
	p = gpa(d, RXBASE + id * 0x1000ULL);
	memcpy(h, p, sizeof(*h));
	if (data)
		memcpy(data, p + 44, MIN(max, (size_t)h->len));
	vs_post_rx(d);
	return len >= 44;
}

static void test_vsock(void)
{
	struct cabin_err *err = NULL;
	char path[128], port_path[160], buf[256];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, hfd, cfd, ret;
	unsigned int hostport = 0;
	struct vs_hdr h;
	struct drv d;

	if (!mkdtemp(vs_dir))
		abort();
	snprintf(path, sizeof(path), "%s/v.sock", vs_dir);
	ret = virtio_vsock_attach(&M, 2, path, &err);
	tap_ok(ret < 0 && strstr(cabin_err_msg(err), "`2`"), "vsock: cid 2 refused: %s",
	       cabin_err_msg(err));
	cabin_err_release(&err);
	ret = virtio_vsock_attach(&M, 3, vs_dir, &err);
	tap_ok(ret < 0 && strstr(cabin_err_msg(err), vs_dir), "vsock: existing path refused: %s",
	       cabin_err_msg(err));
	cabin_err_release(&err);
	ret = virtio_vsock_attach(&M, 3, path, &err);
	tap_ok(ret == 0, "vsock: attaches on `%s`: %s", path, err ? cabin_err_msg(err) : "ok");
	drv_at(&d, &M, M.nr_devs - 1);
	tap_ok(mr(&d, VIRTIO_MMIO_DEVICE_ID) == VIRTIO_ID_VSOCK && mr(&d, VIRTIO_MMIO_CONFIG) == 3,
	       "vsock: device id 19, guest cid 3 in config");
	dev_up(&d, VERSION_1, 3);
	for (int i = 0; i < 8; i++)
		vs_post_rx(&d);

	/* Guest-initiated: port 5000 is the unix socket "<path>_5000". */
	snprintf(port_path, sizeof(port_path), "%s_5000", path);
	memcpy(sa.sun_path, port_path, strlen(port_path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4) < 0)
		abort();
	vs_send(&d, 3, OP_REQUEST, 1234, 5000, 65536, 0, NULL, 0);
	ret = vs_recv(&d, &h, NULL, 0, WAIT_MS);
	tap_ok(ret && h.op == OP_RESPONSE && h.src_port == 5000 && h.dst_port == 1234 &&
		       h.src_cid == 2 && h.dst_cid == 3 && h.buf_alloc > 0,
	       "vsock: guest connect to host port 5000 gets RESPONSE (op %u)", ret ? h.op : 0);
	hfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	tap_ok(hfd >= 0, "vsock: the host listener on `<path>_5000` got the connection");
	vs_send(&d, 3, OP_RW, 1234, 5000, 65536, 0, "ping", 4);
	memset(buf, 0, sizeof(buf));
	tap_ok(read_timeout(hfd, buf, sizeof(buf), WAIT_MS) == 4 && !strcmp(buf, "ping"),
	       "vsock: guest bytes reach the host socket");
	if (write(hfd, "pong", 4) != 4)
		abort();
	memset(buf, 0, sizeof(buf));
	ret = vs_recv(&d, &h, buf, sizeof(buf), WAIT_MS);
	tap_ok(ret && h.op == OP_RW && h.len == 4 && !strcmp(buf, "pong"),
	       "vsock: host bytes reach the guest as RW");
	vs_send(&d, 3, OP_CREDIT_REQUEST, 1234, 5000, 65536, 4, NULL, 0);
	ret = vs_recv(&d, &h, NULL, 0, WAIT_MS);
	tap_ok(ret && h.op == OP_CREDIT_UPDATE && h.fwd_cnt == 4 && h.buf_alloc == 65536,
	       "vsock: CREDIT_REQUEST answered with CREDIT_UPDATE (fwd_cnt %u)", h.fwd_cnt);

	/* Credit: the guest has room for 8 bytes; the rest waits for its CREDIT_UPDATE. */
	vs_send(&d, 3, OP_CREDIT_UPDATE, 1234, 5000, 8, 4, NULL, 0);
	if (write(hfd, "0123456789abcdef", 16) != 16)
		abort();
	memset(buf, 0, sizeof(buf));
	ret = vs_recv(&d, &h, buf, sizeof(buf), WAIT_MS);
	tap_ok(ret && h.op == OP_RW && h.len == 8 && !memcmp(buf, "01234567", 8),
	       "vsock: host data limited to the guest's credit (%u bytes)", ret ? h.len : 0);
	tap_ok(!vs_recv(&d, &h, NULL, 0, 100), "vsock: nothing more without credit");
	vs_send(&d, 3, OP_CREDIT_UPDATE, 1234, 5000, 8, 12, NULL, 0);
	ret = vs_recv(&d, &h, buf, sizeof(buf), WAIT_MS);
	tap_ok(ret && h.op == OP_RW && h.len == 8 && !memcmp(buf, "89abcdef", 8),
	       "vsock: the rest follows the credit update");
	vs_send(&d, 3, OP_CREDIT_UPDATE, 1234, 5000, 65536, 20, NULL, 0);

	/* Hostile: a length beyond the packet's buffers is dropped, the connection lives. */
	{
		uint16_t head = d.q[1].next_desc;
		struct vs_hdr *bad = gpa(&d, TXBASE + head * 0x1000ULL);

		*bad = (struct vs_hdr){ .src_cid = 3,
					.dst_cid = 2,
					.src_port = 1234,
					.dst_port = 5000,
					.len = 100000,
					.type = 1,
					.op = OP_RW,
					.buf_alloc = 65536,
					.fwd_cnt = 20 };
		drv_chain(&d, 1, (struct drv_buf[]){ { TXBASE + head * 0x1000ULL, 44 + 8, 0 } }, 1);
		drv_kick(&d, 1);
		drv_used(&d, 1, NULL, NULL, WAIT_MS);
		tap_ok(!vs_recv(&d, &h, NULL, 0, 100) &&
			       read_timeout(hfd, buf, sizeof(buf), 100) < 0,
		       "vsock: RW longer than its buffers is dropped");
	}

	/* Host closes: the guest is told with SHUTDOWN. */
	close(hfd);
	ret = vs_recv(&d, &h, NULL, 0, WAIT_MS);
	tap_ok(ret && h.op == OP_SHUTDOWN && h.flags == 3, "vsock: host close becomes SHUTDOWN");
	vs_send(&d, 3, OP_RST, 1234, 5000, 65536, 0, NULL, 0);

	vs_send(&d, 3, OP_REQUEST, 1235, 5001, 65536, 0, NULL, 0);
	ret = vs_recv(&d, &h, NULL, 0, WAIT_MS);
	tap_ok(ret && h.op == OP_RST && h.dst_port == 1235, "vsock: no host listener: RST");
	vs_send(&d, 3, OP_RW, 1236, 5000, 65536, 0, "x", 1);
	ret = vs_recv(&d, &h, NULL, 0, WAIT_MS);
	tap_ok(ret && h.op == OP_RST && h.dst_port == 1236, "vsock: data for no connection: RST");
	vs_send(&d, 7, OP_REQUEST, 1237, 5000, 65536, 0, NULL, 0);
	tap_ok(!vs_recv(&d, &h, NULL, 0, 100), "vsock: packet with a spoofed source cid dropped");

	/* Host-initiated: CONNECT <port> on the main socket. */
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(cfd, "CONNECT 52\nearly", 16) != 16)
		abort();
	ret = vs_recv(&d, &h, NULL, 0, WAIT_MS);
	tap_ok(ret && h.op == OP_REQUEST && h.dst_port == 52 && h.src_port >= (1u << 30),
	       "vsock: CONNECT 52 becomes a REQUEST to guest port 52 (from %u)", h.src_port);
	vs_send(&d, 3, OP_RESPONSE, 52, h.src_port, 65536, 0, NULL, 0);
	memset(buf, 0, sizeof(buf));
	ret = read_timeout(cfd, buf, 3 + 11, WAIT_MS);
	if (ret > 0)
		sscanf(buf, "OK %u", &hostport);
	tap_ok(ret > 0 && hostport == h.src_port, "vsock: the host client gets `OK %u`", hostport);
	ret = vs_recv(&d, &h, buf, sizeof(buf), WAIT_MS);
	tap_ok(ret && h.op == OP_RW && h.len == 5 && !memcmp(buf, "early", 5),
	       "vsock: bytes sent after the CONNECT line reach the guest");
	vs_send(&d, 3, OP_RW, 52, hostport, 65536, 0, "hi host", 7);
	memset(buf, 0, sizeof(buf));
	tap_ok(read_timeout(cfd, buf, sizeof(buf), WAIT_MS) == 7 && !strcmp(buf, "hi host"),
	       "vsock: guest bytes reach the host client");
	vs_send(&d, 3, OP_SHUTDOWN, 52, hostport, 65536, 0, NULL, 0);
	ret = vs_recv(&d, &h, NULL, 0, WAIT_MS);
	tap_ok(ret && h.op == OP_RST && read_timeout(cfd, buf, sizeof(buf), WAIT_MS) == 0,
	       "vsock: guest SHUTDOWN closes the host client and is acknowledged with RST");
	close(cfd);

	/* A host client that stalls mid-line costs no CPU, and can finish the line later. */
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(cfd, "CONN", 4) != 4)
		abort();
	tap_ok(cpu_ms_during_sleep(300) < 30, "vsock: a partial CONNECT line: no busy loop");
	if (write(cfd, "ECT 53\n", 7) != 7)
		abort();
	ret = vs_recv(&d, &h, NULL, 0, WAIT_MS);
	tap_ok(ret && h.op == OP_REQUEST && h.dst_port == 53, "vsock: the line completed later");
	vs_send(&d, 3, OP_RESPONSE, 53, h.src_port, 65536, 0, NULL, 0);
	hostport = 0;
	memset(buf, 0, sizeof(buf));
	if (read_timeout(cfd, buf, sizeof(buf), WAIT_MS) > 0)
		sscanf(buf, "OK %u", &hostport);
	/* Half close: the guest stops sending, the host still can. */
	vs_send(&d, 3, OP_RW, 53, hostport, 65536, 0, "last", 4);
	{
		uint16_t head = d.q[1].next_desc;
		struct vs_hdr *sh = gpa(&d, TXBASE + head * 0x1000ULL);

		*sh = (struct vs_hdr){ .src_cid = 3,
				       .dst_cid = 2,
				       .src_port = 53,
				       .dst_port = hostport,
				       .type = 1,
				       .op = OP_SHUTDOWN,
				       .flags = 2,
				       .buf_alloc = 65536 };
		drv_chain(&d, 1, (struct drv_buf[]){ { TXBASE + head * 0x1000ULL, 44, 0 } }, 1);
		drv_kick(&d, 1);
		drv_used(&d, 1, NULL, NULL, WAIT_MS);
	}
	memset(buf, 0, sizeof(buf));
	ret = read_timeout(cfd, buf, sizeof(buf), WAIT_MS);
	tap_ok(ret == 4 && !strcmp(buf, "last") &&
		       read_timeout(cfd, buf, sizeof(buf), WAIT_MS) == 0,
	       "vsock: guest SHUTDOWN(SEND) gives the host end-of-file after the data");
	if (write(cfd, "still", 5) != 5)
		abort();
	memset(buf, 0, sizeof(buf));
	ret = vs_recv(&d, &h, buf, sizeof(buf), WAIT_MS);
	tap_ok(ret && h.op == OP_RW && !strcmp(buf, "still"),
	       "vsock: the host can still send after the guest's half close");
	close(cfd);
	ret = vs_recv(&d, &h, NULL, 0, WAIT_MS);
	tap_ok(ret && h.op == OP_SHUTDOWN, "vsock: host close after half close: SHUTDOWN");

	/* Hostile: a guest that sends past its credit while the host does not read. */
	memcpy(sa.sun_path, port_path, strlen(port_path) + 1);
	vs_send(&d, 3, OP_REQUEST, 2000, 5000, 65536, 0, NULL, 0);
	ret = vs_recv(&d, &h, NULL, 0, WAIT_MS);
	hfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	tap_ok(ret && h.op == OP_RESPONSE && hfd >= 0, "vsock: second guest connection");
	memset(gpa(&d, 0x400000), 'o', 65536);
	ret = 0;
	for (int i = 0; i < 64 && !ret; i++) {
		uint16_t head = d.q[1].next_desc;
		struct vs_hdr *big = gpa(&d, TXBASE + head * 0x1000ULL);

		*big = (struct vs_hdr){ .src_cid = 3,
					.dst_cid = 2,
					.src_port = 2000,
					.dst_port = 5000,
					.len = 65536,
					.type = 1,
					.op = OP_RW,
					.buf_alloc = 65536 };
		drv_chain(&d, 1,
			  (struct drv_buf[]){ { TXBASE + head * 0x1000ULL, 44, 0 },
					      { 0x400000, 65536, 0 } },
			  2);
		drv_kick(&d, 1);
		drv_used(&d, 1, NULL, NULL, WAIT_MS);
		/* Credit updates may come first; stop at the RST. */
		while (vs_recv(&d, &h, NULL, 0, 20))
			if (h.op == OP_RST && h.dst_port == 2000)
				ret = 1;
	}
	tap_ok(ret, "vsock: a guest overrunning its credit gets RST");
	close(hfd);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    write(cfd, "CONNECT x\n", 10) != 10)
		abort();
	tap_ok(read_timeout(cfd, buf, sizeof(buf), WAIT_MS) == 0,
	       "vsock: a malformed CONNECT line closes the client");
	close(cfd);
	close(lfd);
	unlink(port_path);
	mw(&d, VIRTIO_MMIO_STATUS, 0);
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
	tap_plan(57);
	if (drv_machine_init(&M, DRV_RAM) < 0)
		return 1;
	test_console();
	test_net_fd();
	test_vsock();
	test_net_tap();
	drv_machine_fini(&M);
	tap_ok(access(vs_dir, F_OK) == 0 && rmdir(vs_dir) == 0,
	       "vsock: teardown removes its socket");
	return tap_done();
}
