/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-mmio transport, version 2 (virtio 1.1, 4.2.2). Legacy (version 1)
 * devices are not offered: the driver must accept VIRTIO_F_VERSION_1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/error.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "virtio/core.h"
#include "virtio/mmio.h"
#include "vm/machine.h"

struct virtio_mmio {
	struct machine *m;
	uint64_t base;
	unsigned int gsi;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	int irq_level; /* level currently driven on the line (no irqfd) */
	int irqfd;     /* -1 unless the accelerator offers irqfd */
	int ioeventfds;
};

/* Drive the interrupt: a level line follows InterruptStatus != 0; irqfd sends an edge. */
static void update_irq(struct virtio_dev *vdev, int new_event)
{
	struct virtio_mmio *vm = vdev->transport;
	int level = vdev->isr != 0;
	uint64_t one = 1;

	if (vm->irqfd >= 0) {
		if (new_event && level && write(vm->irqfd, &one, sizeof(one)) < 0)
			virtio_dev_warn(vdev, "irqfd: %s", strerror(errno));
		return;
	}
	if (level != vm->irq_level) {
		vm->irq_level = level;
		machine_irq_line(vm->m, vm->gsi, level);
	}
}

static void mmio_signal_vq(struct virtio_dev *vdev, unsigned int q)
{
	vdev->isr |= VIRTIO_ISR_VQ;
	update_irq(vdev, 1);
}

static void mmio_signal_config(struct virtio_dev *vdev)
{
	vdev->isr |= VIRTIO_ISR_CONFIG;
	update_irq(vdev, 1);
}

static void mmio_fini(struct virtio_dev *vdev)
{
	struct virtio_mmio *vm = vdev->transport;

	if (!vm)
		return;
	if (vm->m->accel && vm->m->accel->ioeventfd && vm->ioeventfds)
		for (unsigned int q = 0; q < vdev->ops->nr_queues; q++)
			if (vdev->vqs[q].kick_fd >= 0)
				vm->m->accel->ioeventfd(vm->m, vm->base + VIRTIO_MMIO_QUEUE_NOTIFY,
							4, q, 1, -1);
	if (vm->irqfd >= 0) {
		if (vm->m->accel && vm->m->accel->irqfd)
			vm->m->accel->irqfd(vm->m, vm->gsi, -1);
		close(vm->irqfd);
	}
	if (vm->irq_level)
		machine_irq_line(vm->m, vm->gsi, 0);
	free(vm);
	vdev->transport = NULL;
}

static const struct virtio_transport_ops mmio_transport_ops = {
	.name = "mmio",
	.signal_vq = mmio_signal_vq,
	.signal_config = mmio_signal_config,
	.fini = mmio_fini,
};

static uint32_t reg_read(struct virtio_dev *vdev, struct virtio_mmio *vm, uint64_t off)
{
	struct virtq *vq = vm->queue_sel < VIRTIO_MAX_QUEUES ? &vdev->vqs[vm->queue_sel] : NULL;

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return vdev->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (vm->dev_features_sel > 1)
			return 0;
		return (uint32_t)(vdev->host_features >> (32 * vm->dev_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq && vm->queue_sel < vdev->ops->nr_queues ? vq->num_max : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return vdev->isr;
	case VIRTIO_MMIO_STATUS:
		return vdev->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return vdev->config_gen;
	case VIRTIO_MMIO_QUEUE_NUM:
		return vq ? vq->num : 0;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		return vq ? (uint32_t)vq->desc_gpa : 0;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		return vq ? (uint32_t)(vq->desc_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		return vq ? (uint32_t)vq->avail_gpa : 0;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		return vq ? (uint32_t)(vq->avail_gpa >> 32) : 0;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		return vq ? (uint32_t)vq->used_gpa : 0;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		return vq ? (uint32_t)(vq->used_gpa >> 32) : 0;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffff; /* no shared memory regions: length -1 (virtio 1.2, 4.2.2) */
	default:
		return 0; /* write-only and reserved registers read as 0 */
	}
}

static void set_low(uint64_t *v, uint32_t lo)
{
	*v = (*v & ~0xffffffffULL) | lo;
}

static void set_high(uint64_t *v, uint32_t hi)
{
	*v = (*v & 0xffffffffULL) | ((uint64_t)hi << 32);
}

static void reg_write(struct virtio_dev *vdev, struct virtio_mmio *vm, uint64_t off, uint32_t val)
{
	struct virtq *vq = vm->queue_sel < vdev->ops->nr_queues ? &vdev->vqs[vm->queue_sel] : NULL;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		vm->dev_features_sel = val;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		vm->drv_features_sel = val;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* Features are fixed once FEATURES_OK is set (virtio 1.1, 3.1.1). */
		if (vm->drv_features_sel > 1 || (vdev->status & VIRTIO_STATUS_FEATURES_OK) ||
		    !(vdev->status & VIRTIO_STATUS_DRIVER))
			return;
		if (vm->drv_features_sel)
			set_high(&vdev->driver_features, val);
		else
			set_low(&vdev->driver_features, val);
		return;
	case VIRTIO_MMIO_QUEUE_SEL:
		vm->queue_sel = val;
		return;
	case VIRTIO_MMIO_SHM_SEL:
		return; /* every region is absent */
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		virtio_dev_notify(vdev, val & 0xffff);
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		vdev->isr &= ~val;
		update_irq(vdev, 0);
		return;
	case VIRTIO_MMIO_STATUS:
		virtio_dev_set_status(vdev, (uint8_t)val);
		if (val == 0) {
			vm->dev_features_sel = vm->drv_features_sel = vm->queue_sel = 0;
			update_irq(vdev, 0);
		}
		return;
	default:
		break;
	}
	/* Queue registers: only for an existing queue that is not live yet. */
	if (!vq || vq->ready) {
		if (off == VIRTIO_MMIO_QUEUE_READY && vq && val == 0)
			vq->ready = 0;
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vq->num = val > 0xffff ? 0 : (uint16_t)val;
		return;
	case VIRTIO_MMIO_QUEUE_READY:
		if (val == 1)
			virtio_dev_queue_ready(vdev, vm->queue_sel);
		return;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		set_low(&vq->desc_gpa, val);
		return;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_high(&vq->desc_gpa, val);
		return;
	case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
		set_low(&vq->avail_gpa, val);
		return;
	case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
		set_high(&vq->avail_gpa, val);
		return;
	case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
		set_low(&vq->used_gpa, val);
		return;
	case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
		set_high(&vq->used_gpa, val);
		return;
	default:
		virtio_dev_warn(vdev, "write to read-only or unknown register `%#llx`",
				(unsigned long long)off);
		return;
	}
}

static int mmio_access(void *opaque, uint64_t offset, void *data, uint32_t len, int is_write)
{
	struct virtio_dev *vdev = opaque;
	struct virtio_mmio *vm = vdev->transport;
	uint32_t val = 0;

	pthread_mutex_lock(&vdev->lock);
	if (offset >= VIRTIO_MMIO_CONFIG) {
		size_t off = offset - VIRTIO_MMIO_CONFIG;

		/* Config space: any width, but never past the device's config size. */
		if (off > vdev->ops->config_size || len > vdev->ops->config_size - off) {
			if (!is_write)
				memset(data, 0, len);
		} else if (is_write) {
			if (vdev->ops->config_write)
				vdev->ops->config_write(vdev, off, data, len);
		} else {
			vdev->ops->config_read(vdev, off, data, len);
		}
		pthread_mutex_unlock(&vdev->lock);
		return 0;
	}
	/* Registers are 32 bits wide and 32-bit aligned (virtio 1.1, 4.2.2.2). */
	if (len != 4 || (offset & 3)) {
		virtio_dev_warn(vdev, "%u-byte access to register `%#llx`", len,
				(unsigned long long)offset);
		if (!is_write)
			memset(data, 0, len);
		pthread_mutex_unlock(&vdev->lock);
		return 0;
	}
	if (is_write) {
		memcpy(&val, data, 4);
		reg_write(vdev, vm, offset, val);
	} else {
		val = reg_read(vdev, vm, offset);
		memcpy(data, &val, 4);
	}
	pthread_mutex_unlock(&vdev->lock);
	return 0;
}

static void mmio_dev_fini(void *opaque)
{
	struct virtio_dev *vdev = opaque;
	struct virtio_mmio *vm = vdev->transport;

	if (vm)
		bus_unregister(&vm->m->bus, BUS_MMIO, vm->base);
	virtio_dev_free(vdev);
}

/* Give back a slot taken by a device that failed to attach, if nobody took a later one. */
static void slot_release(struct machine *m, uint64_t base)
{
	if (m->next_mmio_slot &&
	    base == MACHINE_MMIO_BASE + (m->next_mmio_slot - 1) * MACHINE_MMIO_SLOT_SIZE)
		m->next_mmio_slot--;
}

int virtio_mmio_attach(struct machine *m, struct virtio_dev *vdev, struct cabin_err **err)
{
	struct machine_dev d = { .name = vdev->ops->name, .opaque = vdev, .fini = mmio_dev_fini };
	struct virtio_mmio *vm;
	uint64_t base;
	unsigned int gsi;
	int ret;

	ret = machine_mmio_slot(m, &base, &gsi);
	if (ret < 0) {
		virtio_dev_free(vdev);
		return cabin_err_make(err, -ret, "virtio-%s: no free virtio-mmio slot", d.name);
	}
	vm = xcalloc(1, sizeof(*vm));
	vm->m = m;
	vm->base = base;
	vm->gsi = gsi;
	vm->irqfd = -1;
	vdev->transport = vm;
	vdev->tops = &mmio_transport_ops;

	ret = bus_register_mmio(&m->bus, base, MACHINE_MMIO_SLOT_SIZE, mmio_access, vdev, d.name);
	if (ret < 0) {
		ret = cabin_err_make(err, -ret, "virtio-%s: claim mmio `%#llx`", d.name,
				     (unsigned long long)base);
		goto err_slot;
	}
	/* Fast paths when the accelerator has them; either may fail and we fall back. */
	if (m->accel && m->accel->ioeventfd) {
		for (unsigned int q = 0; q < vdev->ops->nr_queues; q++) {
			int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

			if (fd < 0)
				break;
			ret = m->accel->ioeventfd(m, base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, q, 1, fd);
			if (ret < 0) {
				close(fd);
				break;
			}
			vdev->vqs[q].kick_fd = fd;
			vm->ioeventfds = 1;
		}
	}
	if (m->accel && m->accel->irqfd) {
		int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

		if (fd >= 0 && m->accel->irqfd(m, gsi, fd) == 0)
			vm->irqfd = fd;
		else if (fd >= 0)
			close(fd);
	}
	snprintf(d.cmdline, sizeof(d.cmdline), "virtio_mmio.device=4K@0x%llx:%u",
		 (unsigned long long)base, gsi);
	ret = machine_dev_add(m, &d);
	if (ret < 0) {
		ret = cabin_err_make(err, -ret, "virtio-%s: too many devices", d.name);
		goto err_bus;
	}
	return 0;
err_bus:
	bus_unregister(&m->bus, BUS_MMIO, base);
err_slot:
	virtio_dev_free(vdev);
	slot_release(m, base);
	return ret;
}
