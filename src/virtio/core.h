/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VIRTIO_CORE_H
#define CABIN_VIRTIO_CORE_H

/*
 * Virtio 1.x device core: split virtqueues and the device state shared by every
 * backend (blk, net, console, rng, vsock) and every transport (mmio; pci later).
 *
 * Two const tables meet here: struct virtio_dev_ops is the backend (what the
 * device does), struct virtio_transport_ops is how the device reaches the guest
 * (interrupts). Neither is ever written at run time.
 *
 * Everything the guest places in its rings is hostile. The core walks descriptor
 * chains with every index reduced modulo the queue size, every guest range
 * checked by vm_mem_ptr(), chains bounded by the queue size, and indirect tables
 * bounded by their own length. A driver that breaks the ring protocol gets the
 * device marked DEVICE_NEEDS_RESET (virtio 1.1, 2.1.1) and a configuration-change
 * interrupt; the VMM carries on.
 */

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct cabin_err;
struct machine;
struct virtio_dev;

/* Device status bits (virtio 1.1, 2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Reserved feature bits (virtio 1.1, 6). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* InterruptStatus bits. */
#define VIRTIO_ISR_VQ 0x1
#define VIRTIO_ISR_CONFIG 0x2

/* Split ring layout (virtio 1.1, 2.6). */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

#define VIRTIO_MAX_QUEUES 4
#define VIRTQ_MAX_SIZE 256
/* A chain, indirect table included, never has more segments than this. */
#define VIRTQ_MAX_SEGS 1024
/* One descriptor may not describe more than this (guest RAM is checked too). */
#define VIRTQ_MAX_DESC_LEN (256u << 20)

struct virtq {
	uint16_t num;	  /* queue size chosen by the driver (power of two) */
	uint16_t num_max; /* what the device offers */
	uint8_t ready;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Host views of the rings, computed (bounds-checked) when the queue is made ready. */
	struct virtq_desc *desc;
	uint16_t *avail;     /* flags, idx, ring[num], used_event */
	uint16_t *used;	     /* flags, idx, then struct virtq_used_elem ring[num], avail_event */
	uint16_t last_avail; /* next avail ring entry the device consumes */
	uint16_t used_idx;   /* device's copy of used->idx */
	uint16_t signalled_used;
	uint8_t signalled_used_valid;
	int kick_fd; /* ioeventfd, or -1 when notifications arrive as MMIO writes */
};

/*
 * One popped descriptor chain: @nr_out device-readable segments first, then
 * @nr_in device-writable ones, all pointing into guest RAM.
 */
struct virtq_elem {
	uint16_t head;
	unsigned int nr_out, nr_in;
	size_t out_len, in_len;
	struct iovec iov[VIRTQ_MAX_SEGS];
};

/**
 * struct virtio_dev_ops - a device backend
 * @name: short name for logs ("blk")
 * @device_id: virtio device ID
 * @nr_queues: number of virtqueues
 * @features: device feature bits (the core adds VERSION_1, INDIRECT_DESC, EVENT_IDX)
 * @config_size: bytes of device configuration space
 * @config_read: copy @len bytes at @offset of config space to @data (bounds checked by caller)
 * @config_write: optional; the driver wrote config space
 * @queue_notify: the driver kicked queue @q (called with the device lock held)
 * @driver_ok: optional; the driver set DRIVER_OK (start backend I/O). Return 0 or -errno.
 * @poll: optional; backend fd registered with virtio_dev_poll_add() is ready (lock held)
 * @reset: optional; the driver reset the device (lock held): drop in-flight state
 * @fini: release the backend (device already quiesced)
 */
struct virtio_dev_ops {
	const char *name;
	uint32_t device_id;
	unsigned int nr_queues;
	uint64_t features;
	size_t config_size;
	void (*config_read)(struct virtio_dev *vdev, size_t offset, void *data, size_t len);
	void (*config_write)(struct virtio_dev *vdev, size_t offset, const void *data, size_t len);
	void (*queue_notify)(struct virtio_dev *vdev, unsigned int q);
	int (*driver_ok)(struct virtio_dev *vdev);
	void (*poll)(struct virtio_dev *vdev, int fd, uint32_t events);
	void (*reset)(struct virtio_dev *vdev);
	void (*fini)(struct virtio_dev *vdev);
};

/**
 * struct virtio_transport_ops - how a device reaches the guest
 * @signal_vq: a used buffer was added to queue @q: interrupt the guest
 * @signal_config: the configuration (or status: NEEDS_RESET) changed
 * @fini: release transport state
 */
struct virtio_transport_ops {
	const char *name;
	void (*signal_vq)(struct virtio_dev *vdev, unsigned int q);
	void (*signal_config)(struct virtio_dev *vdev);
	void (*fini)(struct virtio_dev *vdev);
};

struct virtio_dev {
	const struct virtio_dev_ops *ops;
	const struct virtio_transport_ops *tops;
	void *transport; /* transport state */
	void *priv;	 /* backend state */
	struct machine *m;
	/* Held for every register access and all queue processing. */
	pthread_mutex_t lock;
	uint64_t host_features, driver_features;
	uint8_t status;
	uint32_t isr;
	uint32_t config_gen;
	struct virtq vqs[VIRTIO_MAX_QUEUES];
	/* Worker thread: ioeventfds and backend fds, from DRIVER_OK until fini. */
	int epfd, stop_fd;
	pthread_t worker;
	int worker_running;
	/* Rate limit for guest-fault messages. */
	uint64_t warn_window;
	unsigned int warn_count;
};

/**
 * virtio_dev_alloc() - allocate a device with backend @ops and state @priv
 * Return: the device (never NULL; small fixed allocation).
 */
struct virtio_dev *virtio_dev_alloc(struct machine *m, const struct virtio_dev_ops *ops,
				    void *priv);

/** virtio_dev_free() - stop the worker, release backend, transport and the device. NULL ok. */
void virtio_dev_free(struct virtio_dev *vdev);

/** virtio_dev_reset() - device reset (status 0 written); lock held. */
void virtio_dev_reset(struct virtio_dev *vdev);

/**
 * virtio_dev_set_status() - the driver wrote the status register (lock held)
 *
 * Refuses FEATURES_OK when the negotiated features are not a subset of the offer
 * or lack VERSION_1; starts the backend on DRIVER_OK.
 */
void virtio_dev_set_status(struct virtio_dev *vdev, uint8_t status);

/** virtio_dev_queue_ready() - the driver enabled queue @q: validate and map its rings. */
int virtio_dev_queue_ready(struct virtio_dev *vdev, unsigned int q);

/** virtio_dev_notify() - a queue notification arrived (lock held). */
void virtio_dev_notify(struct virtio_dev *vdev, unsigned int q);

/**
 * virtio_dev_broken() - the driver broke the protocol: set DEVICE_NEEDS_RESET,
 * send a configuration-change interrupt, and process nothing until reset.
 */
void virtio_dev_broken(struct virtio_dev *vdev, const char *why);

/** virtio_dev_has_feature() - was feature bit @bit negotiated? */
static inline int virtio_dev_has_feature(const struct virtio_dev *vdev, unsigned int bit)
{
	return !!(vdev->driver_features & (1ULL << bit));
}

/** virtio_dev_usable() - DRIVER_OK set and not broken. */
int virtio_dev_usable(const struct virtio_dev *vdev);

/**
 * virtio_dev_warn() - log a guest fault, at most a few per second per device.
 */
void virtio_dev_warn(struct virtio_dev *vdev, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/**
 * virtio_dev_poll_add() - watch backend fd @fd in the worker; ops->poll runs when it is
 * ready for @events (EPOLLIN/EPOLLOUT). virtio_dev_poll_mod() changes @events; 0 pauses
 * (the fd leaves the set, so not even EPOLLHUP wakes the worker) and a later mask resumes.
 * Return: 0 or -errno.
 */
int virtio_dev_poll_add(struct virtio_dev *vdev, int fd, uint32_t events);
int virtio_dev_poll_mod(struct virtio_dev *vdev, int fd, uint32_t events);
int virtio_dev_poll_del(struct virtio_dev *vdev, int fd);

/** virtio_dev_config_changed() - bump ConfigGeneration and signal the driver. */
void virtio_dev_config_changed(struct virtio_dev *vdev);

/**
 * virtq_pop() - take the next available chain of queue @q
 *
 * Return: 1 with @elem filled, 0 when the queue is empty, or -EINVAL when the
 * chain breaks the protocol (the device is then marked broken).
 */
int virtq_pop(struct virtio_dev *vdev, unsigned int q, struct virtq_elem *elem);

/**
 * virtq_push() - return chain @elem to the driver with @len bytes written. Tells the
 * accelerator which guest RAM the device wrote (machine_mem_written()).
 * Does not interrupt: call virtq_signal() once a batch is done.
 */
void virtq_push(struct virtio_dev *vdev, unsigned int q, const struct virtq_elem *elem,
		uint32_t len);

/**
 * virtq_unpop() - put back the chain last popped (e.g. no room in the backend yet).
 */
void virtq_unpop(struct virtio_dev *vdev, unsigned int q);

/** virtq_signal() - interrupt the driver if it wants to hear about new used buffers. */
void virtq_signal(struct virtio_dev *vdev, unsigned int q);

/** virtq_has_avail() - does queue @q hold a chain not yet popped? */
int virtq_has_avail(struct virtio_dev *vdev, unsigned int q);

/** iov_from_buf() - copy @len bytes into the segments at byte @offset. Return: bytes copied. */
size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t offset, const void *buf,
		    size_t len);

/** iov_to_buf() - copy up to @len bytes from byte @offset of the segments. Return: bytes. */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t offset, void *buf, size_t len);

/**
 * iov_slice() - describe bytes [@offset, @offset + @len) of @iov in @out (at most @max
 * segments). Return: number of segments.
 */
unsigned int iov_slice(const struct iovec *iov, unsigned int n, size_t offset, size_t len,
		       struct iovec *out, unsigned int max);

/**
 * virtio_mmio_attach() - put @vdev on a virtio-mmio slot of @m
 *
 * Takes the next slot, claims its MMIO range, wires ioeventfd/irqfd when the
 * accelerator offers them, and registers the device with machine_dev_add() so it
 * is torn down with the machine. On failure nothing is left registered and @vdev
 * is freed. Return: 0 or <0 with @err set.
 */
int virtio_mmio_attach(struct machine *m, struct virtio_dev *vdev, struct cabin_err **err);

#endif
