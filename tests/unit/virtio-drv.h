/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_TESTS_VIRTIO_DRV_H
#define CABIN_TESTS_VIRTIO_DRV_H

/*
 * A virtio-mmio driver played by the test: it owns a machine with guest RAM and
 * no CPU, pokes device registers through bus_access() and builds split
 * virtqueues in guest memory, as a guest kernel would.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "lib/error.h"
#include "virtio/core.h"
#include "virtio/mmio.h"
#include "vm/machine.h"

#define DRV_RAM (16ULL << 20)

static int drv_irq_level[64];
static unsigned int drv_irq_calls;

static int drv_fake_irq_line(struct machine *m, unsigned int gsi, int level)
{
	if (gsi < 64)
		__atomic_store_n(&drv_irq_level[gsi], level, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&drv_irq_calls, 1, __ATOMIC_SEQ_CST);
	return 0;
}

static const struct accel_ops drv_fake_accel = {
	.name = "fake",
	.irq_line = drv_fake_irq_line,
};

static inline int drv_machine_init(struct machine *m, uint64_t ram)
{
	struct cabin_err *err = NULL;

	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	m->accel = &drv_fake_accel;
	if (vm_mem_init(&m->mem, ram, 0, &err) < 0) {
		fprintf(stderr, "%s\n", cabin_err_msg(err));
		cabin_err_release(&err);
		return -1;
	}
	return 0;
}

static inline void drv_machine_fini(struct machine *m)
{
	machine_devs_fini(m);
	vm_mem_fini(&m->mem);
}

struct drv_queue {
	uint16_t num;
	uint64_t desc, avail, used;
	uint16_t avail_idx, used_seen, next_desc;
};

struct drv {
	struct machine *m;
	uint64_t base;
	unsigned int gsi;
	struct drv_queue q[VIRTIO_MAX_QUEUES];
};

struct drv_buf {
	uint64_t gpa;
	uint32_t len;
	uint16_t flags; /* VIRTQ_DESC_F_WRITE / VIRTQ_DESC_F_INDIRECT */
};

static inline void drv_at(struct drv *d, struct machine *m, unsigned int slot)
{
	memset(d, 0, sizeof(*d));
	d->m = m;
	d->base = MACHINE_MMIO_BASE + slot * MACHINE_MMIO_SLOT_SIZE;
	d->gsi = MACHINE_MMIO_GSI_BASE + slot;
}

static inline void *gpa(struct drv *d, uint64_t addr)
{
	return vm_mem_ptr(&d->m->mem, addr, 1);
}

static inline int mw(struct drv *d, uint64_t off, uint32_t val)
{
	return bus_access(&d->m->bus, BUS_MMIO, d->base + off, &val, 4, 1);
}

static inline uint32_t mr(struct drv *d, uint64_t off)
{
	uint32_t val;

	bus_access(&d->m->bus, BUS_MMIO, d->base + off, &val, 4, 0);
	return val;
}

/* Reset and negotiate @features. Return: the status register afterwards. */
static inline uint32_t drv_init(struct drv *d, uint64_t features)
{
	mw(d, VIRTIO_MMIO_STATUS, 0);
	memset(d->q, 0, sizeof(d->q));
	mw(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
	mw(d, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	mw(d, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	mw(d, VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
	return mr(d, VIRTIO_MMIO_STATUS);
}

static inline uint64_t drv_device_features(struct drv *d)
{
	uint64_t f;

	mw(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	f = (uint64_t)mr(d, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
	mw(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	return f | mr(d, VIRTIO_MMIO_DEVICE_FEATURES);
}

/* Queue @q of @num entries with its rings in the 12 KiB at @area. */
static inline void drv_queue_setup(struct drv *d, unsigned int q, uint16_t num, uint64_t area)
{
	struct drv_queue *dq = &d->q[q];

	dq->num = num;
	dq->desc = area;
	dq->avail = area + 0x1000;
	dq->used = area + 0x2000;
	dq->avail_idx = dq->used_seen = dq->next_desc = 0;
	memset(gpa(d, area), 0, 0x3000);
	mw(d, VIRTIO_MMIO_QUEUE_SEL, q);
	mw(d, VIRTIO_MMIO_QUEUE_NUM, num);
	mw(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)dq->desc);
	mw(d, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(dq->desc >> 32));
	mw(d, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)dq->avail);
	mw(d, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(dq->avail >> 32));
	mw(d, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)dq->used);
	mw(d, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(dq->used >> 32));
	mw(d, VIRTIO_MMIO_QUEUE_READY, 1);
}

static inline void drv_driver_ok(struct drv *d)
{
	mw(d, VIRTIO_MMIO_STATUS,
	   VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
		   VIRTIO_STATUS_DRIVER_OK);
}

static inline struct virtq_desc *drv_desc(struct drv *d, unsigned int q, uint16_t i)
{
	return (struct virtq_desc *)gpa(d, d->q[q].desc) + i;
}

/* Publish head @head in the available ring (no notify). */
static inline void drv_publish(struct drv *d, unsigned int q, uint16_t head)
{
	struct drv_queue *dq = &d->q[q];
	uint16_t *avail = gpa(d, dq->avail);

	avail[2 + (dq->avail_idx % dq->num)] = head;
	dq->avail_idx++;
	__atomic_store_n(&avail[1], dq->avail_idx, __ATOMIC_RELEASE);
}

/* Build a chain of @n buffers in free descriptors and publish it. Return: its head. */
static inline uint16_t drv_chain(struct drv *d, unsigned int q, const struct drv_buf *b,
				 unsigned int n)
{
	struct drv_queue *dq = &d->q[q];
	uint16_t head = dq->next_desc % dq->num;

	for (unsigned int i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((dq->next_desc + i) % dq->num);
		struct virtq_desc *desc = drv_desc(d, q, idx);

		desc->addr = b[i].gpa;
		desc->len = b[i].len;
		desc->flags = b[i].flags | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		desc->next = (uint16_t)((idx + 1) % dq->num);
	}
	dq->next_desc = (uint16_t)((dq->next_desc + n) % dq->num);
	drv_publish(d, q, head);
	return head;
}

static inline void drv_kick(struct drv *d, unsigned int q)
{
	mw(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

/* Next used element of queue @q, waiting up to @ms. Return: 1, or 0 on timeout. */
static inline int drv_used(struct drv *d, unsigned int q, uint32_t *id, uint32_t *len, int ms)
{
	struct drv_queue *dq = &d->q[q];
	uint16_t *used = gpa(d, dq->used);
	struct virtq_used_elem *ring = (struct virtq_used_elem *)&used[2];

	for (int waited = 0;; waited++) {
		if (__atomic_load_n(&used[1], __ATOMIC_ACQUIRE) != dq->used_seen)
			break;
		if (waited >= ms)
			return 0;
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	if (id)
		*id = ring[dq->used_seen % dq->num].id;
	if (len)
		*len = ring[dq->used_seen % dq->num].len;
	dq->used_seen++;
	return 1;
}

#endif
