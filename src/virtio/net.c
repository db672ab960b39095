/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-net (virtio 1.1, 5.1): one receive and one transmit queue on a packet
 * fd whose frames carry a 12-byte virtio_net_hdr_v1 (a tap with IFF_VNET_HDR, or
 * a SOCK_SEQPACKET socket). No offloads are offered, so headers carry nothing
 * but num_buffers; the header a guest sends is zeroed before the kernel sees it.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "net/tap.h"
#include "virtio/core.h"
#include "virtio/virtio.h"

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1

#define NET_RX 0
#define NET_TX 1
#define VNET_HDR_LEN NET_TAP_VNET_HDR_LEN
/* Largest frame we pass: 64 KiB of payload plus the Ethernet and vnet headers. */
#define NET_MAX_FRAME (VNET_HDR_LEN + 14 + 4 + 65535)

struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
} __attribute__((packed));

struct net {
	int fd;
	int rx_paused; /* fd removed from polling until the driver adds rx buffers */
	struct virtio_net_config config;
	struct virtq_elem elem;
	uint8_t frame[NET_MAX_FRAME];
};

static void net_tx(struct virtio_dev *vdev, struct net *n)
{
	int done = 0;

	while (virtq_pop(vdev, NET_TX, &n->elem) > 0) {
		size_t len = n->elem.out_len;

		/* Frames too short for a header or too long for any MTU are dropped. */
		if (len > VNET_HDR_LEN && len <= sizeof(n->frame)) {
			iov_to_buf(n->elem.iov, n->elem.nr_out, 0, n->frame, len);
			memset(n->frame, 0, VNET_HDR_LEN);
			if (write(n->fd, n->frame, len) < 0 && errno != EAGAIN && errno != ENOBUFS)
				virtio_dev_warn(vdev, "transmit: %s", strerror(errno));
		} else {
			virtio_dev_warn(vdev, "dropping a transmit frame of %zu bytes", len);
		}
		virtq_push(vdev, NET_TX, &n->elem, 0);
		done++;
	}
	if (done)
		virtq_signal(vdev, NET_TX);
}

static void net_rx(struct virtio_dev *vdev, struct net *n)
{
	static const uint16_t one_buffer = 1;
	int done = 0;

	for (;;) {
		int ret = virtq_pop(vdev, NET_RX, &n->elem);
		ssize_t r;

		if (ret <= 0) {
			if (ret == 0 && !n->rx_paused) {
				virtio_dev_poll_mod(vdev, n->fd, 0);
				n->rx_paused = 1;
			}
			break;
		}
		if (n->elem.in_len < VNET_HDR_LEN) {
			virtio_dev_warn(vdev, "receive buffer of %zu bytes is too small",
					n->elem.in_len);
			virtq_push(vdev, NET_RX, &n->elem, 0);
			done++;
			continue;
		}
		r = readv(n->fd, &n->elem.iov[n->elem.nr_out],
			  (int)MIN(n->elem.nr_in, (unsigned int)IOV_MAX));
		if (r < 0) {
			virtq_unpop(vdev, NET_RX);
			if (errno != EAGAIN && errno != EINTR)
				virtio_dev_warn(vdev, "receive: %s", strerror(errno));
			break;
		}
		if (r < VNET_HDR_LEN) {
			virtq_unpop(vdev, NET_RX);
			continue; /* runt from the backend: read the next one into the same buffer
				   */
		}
		/* num_buffers is 1: no mergeable buffers (virtio 1.1, 5.1.6.4). */
		iov_from_buf(&n->elem.iov[n->elem.nr_out], n->elem.nr_in, 10, &one_buffer, 2);
		virtq_push(vdev, NET_RX, &n->elem, (uint32_t)r);
		done++;
	}
	if (done)
		virtq_signal(vdev, NET_RX);
}

static void net_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct net *n = vdev->priv;

	if (q == NET_TX) {
		net_tx(vdev, n);
	} else if (n->rx_paused) {
		/* New receive buffers: watch the backend again (the worker does the copying). */
		if (virtio_dev_poll_mod(vdev, n->fd, EPOLLIN) == 0)
			n->rx_paused = 0;
	}
}

static void net_poll(struct virtio_dev *vdev, int fd, uint32_t events)
{
	net_rx(vdev, vdev->priv);
}

static int net_driver_ok(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;
	int ret = virtio_dev_poll_add(vdev, n->fd, EPOLLIN);

	if (ret == -EEXIST)
		ret = virtio_dev_poll_mod(vdev, n->fd, EPOLLIN);
	n->rx_paused = 0;
	return ret;
}

static void net_config_read(struct virtio_dev *vdev, size_t offset, void *data, size_t len)
{
	struct net *n = vdev->priv;

	memcpy(data, (const uint8_t *)&n->config + offset, len);
}

static void net_fini(struct virtio_dev *vdev)
{
	struct net *n = vdev->priv;

	if (!n)
		return;
	if (n->fd >= 0)
		close(n->fd);
	free(n);
	vdev->priv = NULL;
}

static const struct virtio_dev_ops net_ops = {
	.name = "net",
	.device_id = VIRTIO_ID_NET,
	.nr_queues = 2,
	.features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS),
	.config_size = sizeof(struct virtio_net_config),
	.config_read = net_config_read,
	.queue_notify = net_queue_notify,
	.driver_ok = net_driver_ok,
	.poll = net_poll,
	.fini = net_fini,
};

int virtio_net_attach_fd(struct machine *m, int fd, const uint8_t mac[6], struct cabin_err **err)
{
	struct net *n = xcalloc(1, sizeof(*n));

	n->fd = fd;
	if (mac) {
		memcpy(n->config.mac, mac, 6);
	} else {
		/* Random, locally administered, unicast (Firecracker and QEMU use 52:54:00). */
		if (getrandom(n->config.mac, 6, 0) != 6)
			memset(n->config.mac, 0x42, 6);
		n->config.mac[0] = (uint8_t)((n->config.mac[0] & 0xfc) | 0x02);
	}
	n->config.status = VIRTIO_NET_S_LINK_UP;
	n->config.max_virtqueue_pairs = 1;
	return virtio_mmio_attach(m, virtio_dev_alloc(m, &net_ops, n), err);
}

int virtio_net_attach(struct machine *m, const char *tap_name, const uint8_t mac[6],
		      struct cabin_err **err)
{
	int fd = net_tap_open(tap_name, err);

	if (fd < 0)
		return fd;
	if (virtio_net_attach_fd(m, fd, mac, err) < 0)
		return cabin_err_wrap(err, "tap `%s`", tap_name);
	return 0;
}
