/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "virtio/core.h"
#include "vm/machine.h"

/* The rings live in guest RAM that the driver changes behind our back. */
#define GUEST_LOAD16(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define GUEST_STORE16(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

struct virtio_dev *virtio_dev_alloc(struct machine *m, const struct virtio_dev_ops *ops, void *priv)
{
	struct virtio_dev *vdev = xcalloc(1, sizeof(*vdev));

	vdev->ops = ops;
	vdev->priv = priv;
	vdev->m = m;
	vdev->host_features = ops->features | (1ULL << VIRTIO_F_VERSION_1) |
			      (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
			      (1ULL << VIRTIO_RING_F_EVENT_IDX);
	vdev->epfd = -1;
	vdev->stop_fd = -1;
	pthread_mutex_init(&vdev->lock, NULL);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		vdev->vqs[i].num_max = i < ops->nr_queues ? VIRTQ_MAX_SIZE : 0;
		vdev->vqs[i].kick_fd = -1;
	}
	return vdev;
}

static void worker_stop(struct virtio_dev *vdev)
{
	uint64_t one = 1;

	if (vdev->worker_running) {
		if (write(vdev->stop_fd, &one, sizeof(one)) < 0)
			log_warn("virtio-%s: stop worker: %s", vdev->ops->name, strerror(errno));
		pthread_join(vdev->worker, NULL);
		vdev->worker_running = 0;
	}
}

void virtio_dev_free(struct virtio_dev *vdev)
{
	if (!vdev)
		return;
	worker_stop(vdev);
	if (vdev->ops->fini)
		vdev->ops->fini(vdev);
	if (vdev->tops && vdev->tops->fini)
		vdev->tops->fini(vdev);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++)
		if (vdev->vqs[i].kick_fd >= 0)
			close(vdev->vqs[i].kick_fd);
	if (vdev->epfd >= 0)
		close(vdev->epfd);
	if (vdev->stop_fd >= 0)
		close(vdev->stop_fd);
	pthread_mutex_destroy(&vdev->lock);
	free(vdev);
}

void virtio_dev_warn(struct virtio_dev *vdev, const char *fmt, ...)
{
	struct timespec ts;
	char msg[256];
	va_list ap;

	/* At most 5 messages per second per device: a guest must not flood the log. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if ((uint64_t)ts.tv_sec != vdev->warn_window) {
		vdev->warn_window = (uint64_t)ts.tv_sec;
		vdev->warn_count = 0;
	}
	if (vdev->warn_count++ >= 5)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warn("virtio-%s: %s", vdev->ops->name, msg);
}

int virtio_dev_usable(const struct virtio_dev *vdev)
{
	return (vdev->status & VIRTIO_STATUS_DRIVER_OK) &&
	       !(vdev->status & (VIRTIO_STATUS_NEEDS_RESET | VIRTIO_STATUS_FAILED));
}

void virtio_dev_broken(struct virtio_dev *vdev, const char *why)
{
	virtio_dev_warn(vdev, "driver error, device needs reset: %s", why);
	if (vdev->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* virtio 1.1, 2.1.2: a device entering NEEDS_RESET after DRIVER_OK notifies. */
	if ((vdev->status & VIRTIO_STATUS_DRIVER_OK) && vdev->tops && vdev->tops->signal_config)
		vdev->tops->signal_config(vdev);
}

void virtio_dev_config_changed(struct virtio_dev *vdev)
{
	vdev->config_gen++;
	if ((vdev->status & VIRTIO_STATUS_DRIVER_OK) && vdev->tops && vdev->tops->signal_config)
		vdev->tops->signal_config(vdev);
}

void virtio_dev_reset(struct virtio_dev *vdev)
{
	if (vdev->ops->reset)
		vdev->ops->reset(vdev);
	for (unsigned int i = 0; i < VIRTIO_MAX_QUEUES; i++) {
		struct virtq *vq = &vdev->vqs[i];
		int kick_fd = vq->kick_fd;
		uint16_t num_max = vq->num_max;

		memset(vq, 0, sizeof(*vq));
		vq->kick_fd = kick_fd;
		vq->num_max = num_max;
	}
	vdev->status = 0;
	vdev->driver_features = 0;
	vdev->isr = 0;
}

/* Worker thread: queue kicks (ioeventfd) and backend fds, until fini. */
static void *worker_main(void *arg)
{
	struct virtio_dev *vdev = arg;
	struct epoll_event evs[16];

	for (;;) {
		int n = epoll_wait(vdev->epfd, evs, ARRAY_SIZE(evs), -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("virtio-%s: epoll_wait: %s", vdev->ops->name, strerror(errno));
			return NULL;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			uint64_t cnt;

			if (fd == vdev->stop_fd)
				return NULL;
			pthread_mutex_lock(&vdev->lock);
			for (unsigned int q = 0; q < vdev->ops->nr_queues; q++) {
				if (vdev->vqs[q].kick_fd == fd) {
					if (read(fd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
						virtio_dev_warn(vdev, "read kick fd: %s",
								strerror(errno));
					virtio_dev_notify(vdev, q);
					fd = -1;
					break;
				}
			}
			if (fd >= 0 && vdev->ops->poll)
				vdev->ops->poll(vdev, fd, evs[i].events);
			pthread_mutex_unlock(&vdev->lock);
		}
	}
}

static int worker_setup(struct virtio_dev *vdev)
{
	struct epoll_event ev = { .events = EPOLLIN };

	if (vdev->epfd >= 0)
		return 0;
	vdev->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (vdev->epfd < 0)
		return -errno;
	vdev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vdev->stop_fd < 0)
		return -errno;
	ev.data.fd = vdev->stop_fd;
	if (epoll_ctl(vdev->epfd, EPOLL_CTL_ADD, vdev->stop_fd, &ev) < 0)
		return -errno;
	for (unsigned int q = 0; q < vdev->ops->nr_queues; q++) {
		if (vdev->vqs[q].kick_fd < 0)
			continue;
		ev.data.fd = vdev->vqs[q].kick_fd;
		if (epoll_ctl(vdev->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
			return -errno;
	}
	return 0;
}

int virtio_dev_poll_add(struct virtio_dev *vdev, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int ret = worker_setup(vdev);

	if (ret < 0)
		return ret;
	return epoll_ctl(vdev->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int virtio_dev_poll_mod(struct virtio_dev *vdev, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (vdev->epfd < 0)
		return -EBADF;
	/*
	 * Pausing takes the fd out of the set: epoll reports EPOLLHUP/EPOLLERR even with an
	 * empty mask, and a hung-up fd we cannot serve yet would make the worker spin.
	 */
	if (!events) {
		if (epoll_ctl(vdev->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (epoll_ctl(vdev->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
		return 0;
	if (errno != ENOENT)
		return -errno;
	return epoll_ctl(vdev->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int virtio_dev_poll_del(struct virtio_dev *vdev, int fd)
{
	if (vdev->epfd < 0)
		return -EBADF;
	if (epoll_ctl(vdev->epfd, EPOLL_CTL_DEL, fd, NULL) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

static int worker_start(struct virtio_dev *vdev)
{
	int needed = vdev->ops->poll != NULL, ret;

	for (unsigned int q = 0; q < vdev->ops->nr_queues; q++)
		needed |= vdev->vqs[q].kick_fd >= 0;
	if (!needed || vdev->worker_running)
		return 0;
	ret = worker_setup(vdev);
	if (ret < 0)
		return ret;
	ret = pthread_create(&vdev->worker, NULL, worker_main, vdev);
	if (ret)
		return -ret;
	vdev->worker_running = 1;
	return 0;
}

void virtio_dev_set_status(struct virtio_dev *vdev, uint8_t status)
{
	uint8_t old = vdev->status;

	if (status == 0) {
		virtio_dev_reset(vdev);
		return;
	}
	/* NEEDS_RESET is the device's bit: the driver cannot clear it. */
	status = (uint8_t)((status & ~VIRTIO_STATUS_NEEDS_RESET) |
			   (old & VIRTIO_STATUS_NEEDS_RESET));
	if ((status & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		if ((vdev->driver_features & ~vdev->host_features) ||
		    !virtio_dev_has_feature(vdev, VIRTIO_F_VERSION_1)) {
			virtio_dev_warn(vdev, "refusing features `%#llx` (offered `%#llx`)",
					(unsigned long long)vdev->driver_features,
					(unsigned long long)vdev->host_features);
			status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		}
	}
	if ((status & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (!(status & VIRTIO_STATUS_FEATURES_OK)) {
			vdev->status = status;
			virtio_dev_broken(vdev, "DRIVER_OK without FEATURES_OK");
			return;
		}
		vdev->status = status;
		if (status & VIRTIO_STATUS_NEEDS_RESET) {
			/* Broken during setup (e.g. a bad ring): tell the driver now. */
			if (vdev->tops && vdev->tops->signal_config)
				vdev->tops->signal_config(vdev);
			return;
		}
		if (vdev->ops->driver_ok) {
			int ret = vdev->ops->driver_ok(vdev);

			if (ret < 0) {
				virtio_dev_warn(vdev, "start backend: %s", strerror(-ret));
				vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
				return;
			}
		}
		if (worker_start(vdev) < 0) {
			virtio_dev_warn(vdev, "cannot start worker thread");
			vdev->status |= VIRTIO_STATUS_NEEDS_RESET;
		}
		return;
	}
	vdev->status = status;
}

int virtio_dev_queue_ready(struct virtio_dev *vdev, unsigned int q)
{
	struct virtq *vq = &vdev->vqs[q];
	uint64_t num = vq->num;

	if (num == 0 || num > vq->num_max || (num & (num - 1))) {
		virtio_dev_broken(vdev, "bad queue size");
		return -EINVAL;
	}
	/* Alignment (virtio 1.1, 2.6): descriptors 16, available ring 2, used ring 4. */
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
		virtio_dev_broken(vdev, "misaligned ring");
		return -EINVAL;
	}
	vq->desc = vm_mem_ptr(&vdev->m->mem, vq->desc_gpa, 16 * num);
	vq->avail = vm_mem_ptr(&vdev->m->mem, vq->avail_gpa, 6 + 2 * num);
	vq->used = vm_mem_ptr(&vdev->m->mem, vq->used_gpa, 6 + 8 * num);
	if (!vq->desc || !vq->avail || !vq->used) {
		vq->desc = NULL;
		vq->avail = vq->used = NULL;
		virtio_dev_broken(vdev, "ring outside guest memory");
		return -EFAULT;
	}
	/* The used ring is the device's: start it clean whatever the guest left there. */
	vq->last_avail = 0;
	vq->used_idx = 0;
	GUEST_STORE16(&vq->used[0], 0);
	__atomic_store_n(&vq->used[1], 0, __ATOMIC_RELEASE);
	vq->signalled_used_valid = 0;
	vq->ready = 1;
	return 0;
}

void virtio_dev_notify(struct virtio_dev *vdev, unsigned int q)
{
	if (q >= vdev->ops->nr_queues || !vdev->vqs[q].ready || !virtio_dev_usable(vdev))
		return;
	vdev->ops->queue_notify(vdev, q);
}

static uint16_t avail_idx(const struct virtq *vq)
{
	uint16_t idx = __atomic_load_n(&vq->avail[1], __ATOMIC_ACQUIRE);

	return idx;
}

int virtq_has_avail(struct virtio_dev *vdev, unsigned int q)
{
	struct virtq *vq = &vdev->vqs[q];

	if (!vq->ready || !virtio_dev_usable(vdev))
		return 0;
	return avail_idx(vq) != vq->last_avail;
}

/* Add one guest buffer to @elem. Return: 0, or -EINVAL (protocol violation). */
static int elem_add(struct virtio_dev *vdev, struct virtq_elem *elem, const struct virtq_desc *d,
		    const char **why)
{
	uint64_t addr = d->addr;
	uint32_t len = d->len;
	int writable = !!(d->flags & VIRTQ_DESC_F_WRITE);
	void *p;

	if (len > VIRTQ_MAX_DESC_LEN) {
		*why = "descriptor length too large";
		return -EINVAL;
	}
	if (!writable && elem->nr_in) {
		*why = "device-readable descriptor after a device-writable one";
		return -EINVAL;
	}
	if (len == 0)
		return 0; /* nothing to transfer; keeps zero-length buffers out of the iovecs */
	if (elem->nr_out + elem->nr_in >= VIRTQ_MAX_SEGS) {
		*why = "too many segments";
		return -EINVAL;
	}
	p = vm_mem_ptr(&vdev->m->mem, addr, len);
	if (!p) {
		*why = "buffer outside guest memory";
		return -EINVAL;
	}
	elem->iov[elem->nr_out + elem->nr_in] = (struct iovec){ .iov_base = p, .iov_len = len };
	if (writable) {
		elem->nr_in++;
		elem->in_len += len;
	} else {
		elem->nr_out++;
		elem->out_len += len;
	}
	return 0;
}

/* Walk an indirect table (virtio 1.1, 2.6.5.3). */
static int walk_indirect(struct virtio_dev *vdev, struct virtq_elem *elem,
			 const struct virtq_desc *id, const char **why)
{
	const struct virtq_desc *table;
	uint32_t n, i = 0, count = 0;

	if (!virtio_dev_has_feature(vdev, VIRTIO_RING_F_INDIRECT_DESC)) {
		*why = "indirect descriptor not negotiated";
		return -EINVAL;
	}
	if (id->flags & VIRTQ_DESC_F_NEXT) {
		*why = "indirect descriptor with NEXT";
		return -EINVAL;
	}
	if (id->len == 0 || id->len % sizeof(struct virtq_desc) ||
	    id->len / sizeof(struct virtq_desc) > VIRTQ_MAX_SEGS) {
		*why = "bad indirect table length";
		return -EINVAL;
	}
	n = id->len / sizeof(struct virtq_desc);
	table = vm_mem_ptr(&vdev->m->mem, id->addr, id->len);
	if (!table) {
		*why = "indirect table outside guest memory";
		return -EINVAL;
	}
	for (;;) {
		struct virtq_desc d;
		int ret;

		/* Copy first: the guest may change the table while we look at it. */
		memcpy(&d, &table[i], sizeof(d));
		if (++count > n) {
			*why = "loop in indirect table";
			return -EINVAL;
		}
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			*why = "nested indirect table";
			return -EINVAL;
		}
		ret = elem_add(vdev, elem, &d, why);
		if (ret < 0)
			return ret;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= n) {
			*why = "indirect next index out of range";
			return -EINVAL;
		}
		i = d.next;
	}
}

int virtq_pop(struct virtio_dev *vdev, unsigned int q, struct virtq_elem *elem)
{
	struct virtq *vq = &vdev->vqs[q];
	const char *why = NULL;
	uint16_t aidx, head, i;
	unsigned int count = 0;

	if (!vq->ready || !virtio_dev_usable(vdev))
		return 0;
	aidx = avail_idx(vq);
	if (aidx == vq->last_avail)
		return 0;
	if ((uint16_t)(aidx - vq->last_avail) > vq->num) {
		virtio_dev_broken(vdev, "available index moved more than the queue size");
		return -EINVAL;
	}
	head = GUEST_LOAD16(&vq->avail[2 + (vq->last_avail & (vq->num - 1))]);
	if (head >= vq->num) {
		virtio_dev_broken(vdev, "head index out of range");
		return -EINVAL;
	}
	elem->head = head;
	elem->nr_in = elem->nr_out = 0;
	elem->in_len = elem->out_len = 0;
	i = head;
	for (;;) {
		struct virtq_desc d;

		memcpy(&d, &vq->desc[i], sizeof(d));
		if (++count > vq->num) {
			why = "loop in descriptor chain";
			goto broken;
		}
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			if (walk_indirect(vdev, elem, &d, &why) < 0)
				goto broken;
		} else if (elem_add(vdev, elem, &d, &why) < 0) {
			goto broken;
		}
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= vq->num) {
			why = "next index out of range";
			goto broken;
		}
		i = d.next;
	}
	vq->last_avail++;
	if (virtio_dev_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX)) {
		/* avail_event sits after the used ring: kick us when past what we consumed. */
		__atomic_store_n(&vq->used[2 + 4 * vq->num], vq->last_avail, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	return 1;
broken:
	virtio_dev_broken(vdev, why);
	return -EINVAL;
}

void virtq_unpop(struct virtio_dev *vdev, unsigned int q)
{
	vdev->vqs[q].last_avail--;
}

void virtq_push(struct virtio_dev *vdev, unsigned int q, const struct virtq_elem *elem,
		uint32_t len)
{
	struct virtq *vq = &vdev->vqs[q];
	struct virtq_used_elem *ring;
	uint16_t slot;

	if (!vq->ready)
		return;
	/*
	 * The device wrote guest RAM without the CPU: an emulating accelerator must drop
	 * what it decoded from those pages (a disk read over a code page). Every
	 * device-writable segment counts, whatever @len says: a backend may write more
	 * than it reports.
	 */
	for (unsigned int i = elem->nr_out; i < elem->nr_out + elem->nr_in; i++)
		machine_mem_written(vdev->m, elem->iov[i].iov_base, elem->iov[i].iov_len);
	ring = (struct virtq_used_elem *)&vq->used[2];
	slot = vq->used_idx & (vq->num - 1);
	machine_mem_written(vdev->m, &ring[slot], sizeof(ring[slot]));
	__atomic_store_n(&ring[slot].id, (uint32_t)elem->head, __ATOMIC_RELAXED);
	__atomic_store_n(&ring[slot].len, len, __ATOMIC_RELAXED);
	vq->used_idx++;
	/* The element must be visible before the index that publishes it. */
	__atomic_store_n(&vq->used[1], vq->used_idx, __ATOMIC_RELEASE);
}

/* virtio 1.1, 2.6.7.2: vring_need_event(). */
static int need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

void virtq_signal(struct virtio_dev *vdev, unsigned int q)
{
	struct virtq *vq = &vdev->vqs[q];
	uint16_t old, new_idx = vq->used_idx;
	int notify;

	if (!vq->ready)
		return;
	/* Order the used index store before reading the driver's suppression fields. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (virtio_dev_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX)) {
		uint16_t event = GUEST_LOAD16(&vq->avail[2 + vq->num]);

		old = vq->signalled_used;
		notify = !vq->signalled_used_valid || need_event(event, new_idx, old);
	} else {
		notify = !(GUEST_LOAD16(&vq->avail[0]) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	}
	vq->signalled_used = new_idx;
	vq->signalled_used_valid = 1;
	if (notify && vdev->tops && vdev->tops->signal_vq)
		vdev->tops->signal_vq(vdev, q);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t offset, const void *buf,
		    size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t chunk;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		chunk = MIN(iov[i].iov_len - offset, len - done);
		memcpy((char *)iov[i].iov_base + offset, (const char *)buf + done, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t offset, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t chunk;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		chunk = MIN(iov[i].iov_len - offset, len - done);
		memcpy((char *)buf + done, (const char *)iov[i].iov_base + offset, chunk);
		done += chunk;
		offset = 0;
	}
	return done;
}

unsigned int iov_slice(const struct iovec *iov, unsigned int n, size_t offset, size_t len,
		       struct iovec *out, unsigned int max)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n && len && k < max; i++) {
		size_t chunk;

		if (offset >= iov[i].iov_len) {
			offset -= iov[i].iov_len;
			continue;
		}
		chunk = MIN(iov[i].iov_len - offset, len);
		out[k].iov_base = (char *)iov[i].iov_base + offset;
		out[k].iov_len = chunk;
		k++;
		len -= chunk;
		offset = 0;
	}
	return k;
}
