/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: random guest memory, register writes and queue
 * notifications against every virtio device model, driven through the same
 * bus_access() path a vCPU uses. Built with -fsanitize=fuzzer,address,undefined;
 * any out-of-bounds access, leak, UB or crash is a finding.
 *
 * Input: byte 0 picks the device, byte 1 the driver features, byte 2 the queue
 * size; then a stream of operations (see run_op()). For vsock the fuzzer also plays the
 * host: a listener on guest port 5000's socket and clients sending "CONNECT <port>".
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"
#include "virtio/core.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"
#include "vm/machine.h"

#define RAM (2ULL << 20)
#define WORK 0x10000 /* guest bytes the fuzzer writes (and clears each run) */
#define QAREA(q) (0x1000ULL * 3 * (q))

static struct machine M;
static unsigned int nr_devs;
static int net_peer = -1;
/* vsock host side: a listener for guest connections to port 5000, and host clients. */
static char vsock_path[256];
static int vsock_listener = -1;
#define MAX_CLIENTS 8
static int clients[MAX_CLIENTS];
static unsigned int nr_clients;
static char tmpdir[] = "/tmp/cabin-fuzz.XXXXXX";

static int fake_irq_line(struct machine *m, unsigned int gsi, int level)
{
	return 0;
}

static const struct accel_ops fake_accel = { .name = "fuzz", .irq_line = fake_irq_line };

struct in {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct in *in, unsigned int bytes)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < bytes; i++) {
		v <<= 8;
		if (in->n) {
			v |= *in->p++;
			in->n--;
		}
	}
	return v;
}

static void mw(uint64_t base, uint64_t off, uint32_t val)
{
	bus_access(&M.bus, BUS_MMIO, base + off, &val, 4, 1);
}

static uint32_t mr(uint64_t base, uint64_t off)
{
	uint32_t val;

	bus_access(&M.bus, BUS_MMIO, base + off, &val, 4, 0);
	return val;
}

static void attach_all(void)
{
	struct cabin_err *err = NULL;
	char path[256];
	int fd, sv[2];

	if (!mkdtemp(tmpdir))
		abort();
	snprintf(path, sizeof(path), "%s/disk.img", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 64 << 10) < 0)
		abort();
	close(fd);
	if (virtio_blk_attach(&M, path, 0, &err) < 0 || virtio_rng_attach(&M, &err) < 0)
		goto fail;
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (virtio_console_attach(&M, -1, fd, &err) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		abort();
	net_peer = sv[1];
	if (virtio_net_attach_fd(&M, sv[0], NULL, &err) < 0)
		goto fail;
	snprintf(vsock_path, sizeof(vsock_path), "%s/vsock.sock", tmpdir);
	if (virtio_vsock_attach(&M, 3, vsock_path, &err) < 0)
		goto fail;
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_5000", vsock_path);
		vsock_listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (vsock_listener < 0 ||
		    bind(vsock_listener, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(vsock_listener, 128) < 0)
			abort();
	}
	nr_devs = M.nr_devs;
	return;
fail:
	fprintf(stderr, "fuzz-virtio: %s\n", cabin_err_msg(err));
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cleanup_tmpdir(void)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/disk.img", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s_5000", vsock_path);
	unlink(path);
	unlink(vsock_path);
	rmdir(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct cabin_err *err = NULL;

	log_set_quiet(1);
	pthread_mutex_init(&M.lock, NULL);
	M.accel = &fake_accel;
	if (vm_mem_init(&M.mem, RAM, 0, &err) < 0)
		abort();
	attach_all();
	atexit(cleanup_tmpdir);
	return 0;
}

/* Addresses mostly land in the fuzzed window; bit 0 of @sel keeps the raw value. */
static uint64_t guest_addr(uint64_t raw, uint32_t sel)
{
	return (sel & 1) ? raw : raw % WORK;
}

static void run_op(struct in *in, uint64_t base, struct virtio_dev *vdev, uint16_t num)
{
	uint8_t op = (uint8_t)take(in, 1);
	unsigned int q = (op >> 4) % vdev->ops->nr_queues;
	uint8_t *ram = vm_mem_ptr(&M.mem, 0, WORK);

	switch (op & 0xf) {
	case 0: { /* guest memory write */
		uint32_t off = take(in, 2) % WORK, len = take(in, 1);

		for (uint32_t i = 0; i < len && off + i < WORK; i++)
			ram[off + i] = (uint8_t)take(in, 1);
		break;
	}
	case 1: { /* a descriptor */
		struct virtq_desc *d = (struct virtq_desc *)(ram + QAREA(q));
		uint16_t i = (uint16_t)(take(in, 1) % num);
		uint32_t sel = take(in, 1);
		uint64_t addr = ((uint64_t)take(in, 4) << 32) | take(in, 4);

		d[i].addr = guest_addr(addr, sel);
		d[i].len = (sel & 2) ? take(in, 4) : take(in, 2);
		d[i].flags = (uint16_t)take(in, 1);
		d[i].next = (sel & 4) ? (uint16_t)take(in, 2) : (uint16_t)(take(in, 1) % num);
		break;
	}
	case 2: { /* publish a head */
		uint16_t *avail = (uint16_t *)(ram + QAREA(q) + 0x1000);
		uint16_t head = (uint16_t)take(in, 1);

		avail[2 + (avail[1] % num)] = head;
		__atomic_store_n(&avail[1], (uint16_t)(avail[1] + 1), __ATOMIC_RELEASE);
		break;
	}
	case 3: /* notify */
		mw(base, VIRTIO_MMIO_QUEUE_NOTIFY, q);
		break;
	case 4: /* any register write */
		mw(base, (take(in, 1) * 4) & 0x1ff, take(in, 4));
		break;
	case 5: /* any register read */
		mr(base, (take(in, 1) * 4) & 0x1ff);
		break;
	case 6: { /* raw avail idx */
		uint16_t *avail = (uint16_t *)(ram + QAREA(q) + 0x1000);

		__atomic_store_n(&avail[1], (uint16_t)take(in, 2), __ATOMIC_RELEASE);
		break;
	}
	case 7: { /* odd-sized access anywhere in the window */
		uint64_t v = take(in, 4);
		uint32_t off = take(in, 2) & 0xfff, len = 1u << (take(in, 1) & 3);

		bus_access(&M.bus, BUS_MMIO, base + off, &v, len, (int)(op >> 7));
		break;
	}
	case 8: { /* a frame from the network peer */
		uint8_t frame[256];
		uint32_t len = take(in, 1);

		for (uint32_t i = 0; i < len; i++)
			frame[i] = (uint8_t)take(in, 1);
		if (net_peer >= 0 && send(net_peer, frame, len, MSG_DONTWAIT) < 0)
			break;
		break;
	}
	case 9: { /* a host client asks for a guest port, then sends bytes */
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char line[64];
		uint32_t port = take(in, 1) | 0x1000, len = take(in, 1) % 32;
		int fd, n;

		if (nr_clients >= MAX_CLIENTS)
			break;
		memcpy(sa.sun_path, vsock_path, strlen(vsock_path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		clients[nr_clients++] = fd;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			break;
		n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
		for (uint32_t i = 0; i < len && n < (int)sizeof(line); i++)
			line[n++] = (char)take(in, 1);
		if (send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			break;
		break;
	}
	case 10: { /* host peers of guest connections send bytes, or hang up */
		int fd = accept4(vsock_listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		uint32_t len = take(in, 1) % 64;
		char data[64];

		if (fd < 0)
			break;
		for (uint32_t i = 0; i < len; i++)
			data[i] = (char)take(in, 1);
		if (len && send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			len = 0;
		if ((op & 0x80) || nr_clients >= MAX_CLIENTS)
			close(fd);
		else
			clients[nr_clients++] = fd;
		break;
	}
	default:
		mw(base, VIRTIO_MMIO_INTERRUPT_ACK, 3);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	struct virtio_dev *vdev;
	unsigned int dev, feat;
	uint64_t base, features;
	uint16_t num;
	char drain[512];

	if (size < 3)
		return 0;
	dev = take(&in, 1) % nr_devs;
	feat = take(&in, 1);
	num = (uint16_t)(1u << (take(&in, 1) % 9)); /* 1..256 */
	base = MACHINE_MMIO_BASE + dev * MACHINE_MMIO_SLOT_SIZE;
	vdev = M.devs[dev].opaque;
	memset(vm_mem_ptr(&M.mem, 0, WORK), 0, WORK);

	/* Handshake with fuzzed features; bit 7 clear keeps VERSION_1 so most runs get going. */
	features = vdev->host_features & (((uint64_t)feat << 24) | 0xffffff | (1ULL << 32));
	if (feat & 0x80)
		features ^= 1ULL << VIRTIO_F_VERSION_1;
	mw(base, VIRTIO_MMIO_STATUS, 0);
	mw(base, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mw(base, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw(base, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mw(base, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw(base, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	mw(base, VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned int q = 0; q < vdev->ops->nr_queues; q++) {
		mw(base, VIRTIO_MMIO_QUEUE_SEL, q);
		mw(base, VIRTIO_MMIO_QUEUE_NUM, num);
		mw(base, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)QAREA(q));
		mw(base, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(QAREA(q) + 0x1000));
		mw(base, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(QAREA(q) + 0x2000));
		mw(base, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	mw(base, VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
	while (in.n)
		run_op(&in, base, vdev, num);
	mw(base, VIRTIO_MMIO_STATUS, 0);
	/* Host ends of vsock connections go away with the run (so does the device's side). */
	while (nr_clients)
		close(clients[--nr_clients]);
	for (int fd; (fd = accept4(vsock_listener, NULL, NULL, SOCK_CLOEXEC)) >= 0;)
		close(fd);
	/* Frames the device sent to the peer are dropped so the socket never fills up. */
	while (net_peer >= 0 && recv(net_peer, drain, sizeof(drain), MSG_DONTWAIT) > 0)
		;
	return 0;
}
