/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-console (virtio 1.1, 5.3) with a single port and no multiport
 * control queue: queue 0 carries input to the guest, queue 1 its output.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "virtio/core.h"
#include "virtio/virtio.h"

#define VIRTIO_CONSOLE_F_EMERG_WRITE 2
#define CONSOLE_RX 0
#define CONSOLE_TX 1

struct virtio_console_config {
	uint16_t cols;
	uint16_t rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
} __attribute__((packed));

struct console {
	int in_fd, out_fd;
	int polling; /* in_fd is in the worker's epoll set */
	int in_eof;
	struct virtio_console_config config;
	struct virtq_elem elem;
};

static void out_write(struct console *c, const struct iovec *iov, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		const char *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left) {
			ssize_t w = write(c->out_fd, p, left);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return; /* output gone or full: the guest's bytes are dropped */
			p += w;
			left -= (size_t)w;
		}
	}
}

static void console_tx(struct virtio_dev *vdev, struct console *c)
{
	int n = 0;

	while (virtq_pop(vdev, CONSOLE_TX, &c->elem) > 0) {
		out_write(c, c->elem.iov, c->elem.nr_out);
		virtq_push(vdev, CONSOLE_TX, &c->elem, 0);
		n++;
	}
	if (n)
		virtq_signal(vdev, CONSOLE_TX);
}

/* Move pending input into the guest's receive buffers. */
static void console_rx(struct virtio_dev *vdev, struct console *c)
{
	int n = 0;

	if (c->in_fd < 0 || c->in_eof)
		return;
	for (;;) {
		ssize_t r;
		int ret = virtq_pop(vdev, CONSOLE_RX, &c->elem);

		if (ret <= 0) {
			/* No buffers: stop watching input until the driver adds some. */
			if (ret == 0 && c->polling)
				virtio_dev_poll_mod(vdev, c->in_fd, 0);
			break;
		}
		if (c->elem.nr_in == 0) {
			virtq_push(vdev, CONSOLE_RX, &c->elem, 0);
			n++;
			continue;
		}
		r = readv(c->in_fd, &c->elem.iov[c->elem.nr_out],
			  (int)MIN(c->elem.nr_in, (unsigned int)IOV_MAX));
		if (r < 0 && (errno == EAGAIN || errno == EINTR)) {
			virtq_unpop(vdev, CONSOLE_RX);
			break;
		}
		if (r <= 0) {
			/* End of input: nothing more will come. */
			virtq_unpop(vdev, CONSOLE_RX);
			c->in_eof = 1;
			if (c->polling)
				virtio_dev_poll_del(vdev, c->in_fd);
			c->polling = 0;
			break;
		}
		virtq_push(vdev, CONSOLE_RX, &c->elem, (uint32_t)r);
		n++;
		/* One read per wakeup for terminals: the fd may not be non-blocking. */
		break;
	}
	if (n)
		virtq_signal(vdev, CONSOLE_RX);
}

static void console_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct console *c = vdev->priv;

	if (q == CONSOLE_TX)
		console_tx(vdev, c);
	else if (c->polling)
		virtio_dev_poll_mod(vdev, c->in_fd, EPOLLIN); /* buffers arrived */
}

static void console_poll(struct virtio_dev *vdev, int fd, uint32_t events)
{
	console_rx(vdev, vdev->priv);
}

static int console_driver_ok(struct virtio_dev *vdev)
{
	struct console *c = vdev->priv;
	int ret;

	if (c->in_fd < 0 || c->in_eof)
		return 0;
	ret = c->polling ? virtio_dev_poll_mod(vdev, c->in_fd, EPOLLIN)
			 : virtio_dev_poll_add(vdev, c->in_fd, EPOLLIN);
	if (ret == -EPERM) {
		/* A regular file cannot be polled: the guest gets no input. */
		c->in_eof = 1;
		return 0;
	}
	if (ret == 0)
		c->polling = 1;
	return ret;
}

static void console_config_read(struct virtio_dev *vdev, size_t offset, void *data, size_t len)
{
	struct console *c = vdev->priv;

	memcpy(data, (const uint8_t *)&c->config + offset, len);
}

static void console_config_write(struct virtio_dev *vdev, size_t offset, const void *data,
				 size_t len)
{
	struct console *c = vdev->priv;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = 1 };

	/* emerg_wr: one character written before the queues are up (virtio 1.1, 5.3.4). */
	if (offset == offsetof(struct virtio_console_config, emerg_wr) && len >= 1)
		out_write(c, &iov, 1);
}

static void console_fini(struct virtio_dev *vdev)
{
	free(vdev->priv);
	vdev->priv = NULL;
}

static const struct virtio_dev_ops console_ops = {
	.name = "console",
	.device_id = VIRTIO_ID_CONSOLE,
	.nr_queues = 2,
	.features = 1ULL << VIRTIO_CONSOLE_F_EMERG_WRITE,
	.config_size = sizeof(struct virtio_console_config),
	.config_read = console_config_read,
	.config_write = console_config_write,
	.queue_notify = console_queue_notify,
	.driver_ok = console_driver_ok,
	.poll = console_poll,
	.fini = console_fini,
};

int virtio_console_attach(struct machine *m, int in_fd, int out_fd, struct cabin_err **err)
{
	struct console *c;

	if (out_fd < 0)
		return cabin_err_make(err, EBADF, "virtio-console: output fd `%d`", out_fd);
	c = xcalloc(1, sizeof(*c));
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->config.max_nr_ports = 1;
	return virtio_mmio_attach(m, virtio_dev_alloc(m, &console_ops, c), err);
}
