/* SPDX-License-Identifier: GPL-2.0-or-later */
/* virtio-rng (virtio 1.1, 5.4): every device-writable buffer is filled from getrandom(). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "lib/error.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "virtio/core.h"
#include "virtio/virtio.h"

/* Bound the work one request costs the thread that serves it. */
#define RNG_MAX_PER_REQUEST (64u << 10)

struct rng {
	struct virtq_elem elem;
};

static void rng_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct rng *r = vdev->priv;
	struct virtq_elem *e = &r->elem;
	int n = 0;

	while (virtq_pop(vdev, q, e) > 0) {
		size_t want = MIN(e->in_len, (size_t)RNG_MAX_PER_REQUEST), done = 0;

		for (unsigned int i = e->nr_out; i < e->nr_out + e->nr_in && done < want; i++) {
			size_t chunk = MIN(e->iov[i].iov_len, want - done), got = 0;

			while (got < chunk) {
				ssize_t k =
					getrandom((char *)e->iov[i].iov_base + got, chunk - got, 0);

				if (k < 0 && errno == EINTR)
					continue;
				if (k <= 0)
					break;
				got += (size_t)k;
			}
			done += got;
			if (got < chunk)
				break;
		}
		virtq_push(vdev, q, e, (uint32_t)done);
		n++;
	}
	if (n)
		virtq_signal(vdev, q);
}

static void rng_config_read(struct virtio_dev *vdev, size_t offset, void *data, size_t len)
{
}

static void rng_fini(struct virtio_dev *vdev)
{
	free(vdev->priv);
	vdev->priv = NULL;
}

static const struct virtio_dev_ops rng_ops = {
	.name = "rng",
	.device_id = VIRTIO_ID_RNG,
	.nr_queues = 1,
	.config_size = 0,
	.config_read = rng_config_read,
	.queue_notify = rng_queue_notify,
	.fini = rng_fini,
};

int virtio_rng_attach(struct machine *m, struct cabin_err **err)
{
	struct virtio_dev *vdev = virtio_dev_alloc(m, &rng_ops, xcalloc(1, sizeof(struct rng)));

	return virtio_mmio_attach(m, vdev, err);
}
