/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-blk (virtio 1.1, 5.2) on a raw image. Requests run synchronously in
 * whichever thread processes the queue (the vCPU on an MMIO notify, the device
 * worker with ioeventfd): one preadv/pwritev per request.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "virtio/core.h"
#include "virtio/virtio.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20
#define SECTOR_SIZE 512ULL

struct virtio_blk_req_hdr {
	uint32_t type;
	uint32_t reserved;
	uint64_t sector;
};

struct virtio_blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	struct {
		uint16_t cylinders;
		uint8_t heads;
		uint8_t sectors;
	} geometry;
	uint32_t blk_size;
} __attribute__((packed));

struct blk {
	int fd;
	int readonly;
	uint64_t sectors;
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config config;
	struct virtq_elem elem;
	struct iovec data[VIRTQ_MAX_SEGS];
};

static void blk_config_read(struct virtio_dev *vdev, size_t offset, void *data, size_t len)
{
	struct blk *b = vdev->priv;

	memcpy(data, (const uint8_t *)&b->config + offset, len);
}

/* Handle one request. Return: bytes written to device-writable buffers (status included). */
static uint32_t blk_request(struct virtio_dev *vdev, struct blk *b, struct virtq_elem *e)
{
	const struct iovec *in = &e->iov[e->nr_out];
	struct virtio_blk_req_hdr hdr;
	uint8_t status = VIRTIO_BLK_S_OK;
	size_t data_len, done = 0;
	unsigned int n;
	ssize_t r;

	/* The status byte is the last device-writable byte; without one, nothing can be said. */
	if (e->in_len < 1) {
		virtio_dev_warn(vdev, "request without a status byte");
		return 0;
	}
	if (iov_to_buf(e->iov, e->nr_out, 0, &hdr, sizeof(hdr)) < sizeof(hdr)) {
		virtio_dev_warn(vdev, "request header shorter than %zu bytes", sizeof(hdr));
		status = VIRTIO_BLK_S_IOERR;
		goto out;
	}
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		data_len = e->in_len - 1;
		if (data_len % SECTOR_SIZE || hdr.sector > b->sectors ||
		    data_len / SECTOR_SIZE > b->sectors - hdr.sector) {
			virtio_dev_warn(vdev, "read of %zu bytes at sector %llu out of range",
					data_len, (unsigned long long)hdr.sector);
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		n = iov_slice(in, e->nr_in, 0, data_len, b->data, VIRTQ_MAX_SEGS);
		while (done < data_len) {
			struct iovec tmp[VIRTQ_MAX_SEGS];
			unsigned int k =
				iov_slice(b->data, n, done, data_len - done, tmp, VIRTQ_MAX_SEGS);

			r = preadv(b->fd, tmp, (int)MIN(k, (unsigned int)IOV_MAX),
				   (off_t)(hdr.sector * SECTOR_SIZE + done));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				status = VIRTIO_BLK_S_IOERR;
				break;
			}
			done += (size_t)r;
		}
		break;
	case VIRTIO_BLK_T_OUT:
		data_len = e->out_len - sizeof(hdr);
		if (b->readonly) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		if (data_len % SECTOR_SIZE || hdr.sector > b->sectors ||
		    data_len / SECTOR_SIZE > b->sectors - hdr.sector) {
			virtio_dev_warn(vdev, "write of %zu bytes at sector %llu out of range",
					data_len, (unsigned long long)hdr.sector);
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		n = iov_slice(e->iov, e->nr_out, sizeof(hdr), data_len, b->data, VIRTQ_MAX_SEGS);
		for (size_t wdone = 0; wdone < data_len;) {
			struct iovec tmp[VIRTQ_MAX_SEGS];
			unsigned int k =
				iov_slice(b->data, n, wdone, data_len - wdone, tmp, VIRTQ_MAX_SEGS);

			r = pwritev(b->fd, tmp, (int)MIN(k, (unsigned int)IOV_MAX),
				    (off_t)(hdr.sector * SECTOR_SIZE + wdone));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				status = VIRTIO_BLK_S_IOERR;
				break;
			}
			wdone += (size_t)r;
		}
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (!b->readonly && fdatasync(b->fd) < 0)
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		data_len = MIN(e->in_len - 1, (size_t)VIRTIO_BLK_ID_BYTES);
		done = iov_from_buf(in, e->nr_in, 0, b->id, data_len);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
out:
	iov_from_buf(in, e->nr_in, e->in_len - 1, &status, 1);
	return (uint32_t)(done + 1);
}

static void blk_queue_notify(struct virtio_dev *vdev, unsigned int q)
{
	struct blk *b = vdev->priv;
	int n = 0;

	while (virtq_pop(vdev, q, &b->elem) > 0) {
		uint32_t len = blk_request(vdev, b, &b->elem);

		virtq_push(vdev, q, &b->elem, len);
		n++;
	}
	if (n)
		virtq_signal(vdev, q);
}

static void blk_fini(struct virtio_dev *vdev)
{
	struct blk *b = vdev->priv;

	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	free(b);
	vdev->priv = NULL;
}

static const struct virtio_dev_ops blk_ops_rw = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		    (1ULL << VIRTIO_BLK_F_FLUSH),
	.config_size = sizeof(struct virtio_blk_config),
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
	.fini = blk_fini,
};

static const struct virtio_dev_ops blk_ops_ro = {
	.name = "blk",
	.device_id = VIRTIO_ID_BLOCK,
	.nr_queues = 1,
	.features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		    (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_RO),
	.config_size = sizeof(struct virtio_blk_config),
	.config_read = blk_config_read,
	.queue_notify = blk_queue_notify,
	.fini = blk_fini,
};

int virtio_blk_attach(struct machine *m, const char *path, int readonly, struct cabin_err **err)
{
	cleanup_close int fd = -1;
	struct virtio_dev *vdev;
	struct blk *b;
	struct stat st;
	uint64_t size;

	fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0)
		return cabin_err_make(err, errno, "open disk image `%s`", path);
	if (fstat(fd, &st) < 0)
		return cabin_err_make(err, errno, "stat disk image `%s`", path);
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			return cabin_err_make(err, errno, "size of block device `%s`", path);
	} else {
		return cabin_err_make(err, EINVAL, "disk image `%s` is not a file or block device",
				      path);
	}
	if (size < SECTOR_SIZE)
		return cabin_err_make(err, EINVAL, "disk image `%s` is smaller than one sector",
				      path);
	/* Two writers on one image corrupt it: take the lock QEMU-style. */
	if (flock(fd, (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0)
		return cabin_err_make(err, errno, "lock disk image `%s` (in use by another VM?)",
				      path);

	b = xcalloc(1, sizeof(*b));
	b->readonly = readonly;
	b->sectors = size / SECTOR_SIZE;
	snprintf(b->id, sizeof(b->id), "cabin%llx%llx", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	b->config.capacity = b->sectors;
	b->config.seg_max = VIRTQ_MAX_SIZE - 2;
	b->config.blk_size = (uint32_t)SECTOR_SIZE;
	b->fd = steal_fd(&fd);
	vdev = virtio_dev_alloc(m, readonly ? &blk_ops_ro : &blk_ops_rw, b);
	if (virtio_mmio_attach(m, vdev, err) < 0)
		return cabin_err_wrap(err, "disk `%s`", path);
	return 0;
}
