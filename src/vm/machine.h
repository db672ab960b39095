/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VM_MACHINE_H
#define CABIN_VM_MACHINE_H

#include <pthread.h>
#include <stdint.h>

#include "vm/accel.h"
#include "vm/bus.h"
#include "vm/mem.h"

struct cabin_err;

#define MACHINE_MAX_VCPUS 32

/* Per-vCPU state shared by all accelerators; each accelerator embeds or points to its own. */
struct vcpu {
	struct machine *m;
	unsigned int index;
	pthread_t thread;
	void *accel; /* accelerator private state */
};

/*
 * A device attached to the machine, torn down in reverse order of attachment.
 * @cmdline announces it to a Linux guest, e.g. "virtio_mmio.device=4K@0xd0000000:5".
 */
struct machine_dev {
	const char *name;
	void *opaque;
	void (*fini)(void *opaque);
	char cmdline[128];
};

#define MACHINE_MAX_DEVS 32

/* virtio-mmio window (Firecracker's layout): 4 KiB slots from 0xd0000000, GSIs from 5. */
#define MACHINE_MMIO_BASE 0xd0000000ULL
#define MACHINE_MMIO_SLOT_SIZE 0x1000ULL
#define MACHINE_MMIO_SLOTS 18 /* GSIs 5..22: the IOAPIC has 24 pins */
#define MACHINE_MMIO_GSI_BASE 5

/*
 * The engine-neutral machine: guest memory, I/O buses, interrupt lines and
 * vCPUs, driven by one accelerator. Devices see only this and struct vm_bus.
 */
struct machine {
	const struct accel_ops *accel;
	void *accel_priv; /* accelerator's per-VM state */
	struct vm_mem mem;
	struct vm_bus bus;
	unsigned int nr_vcpus;
	struct vcpu *vcpus[MACHINE_MAX_VCPUS];
	/* Set once by whoever ends the VM (guest exit status, shutdown, stop request). */
	volatile int stopping;
	int exit_status;
	pthread_mutex_t lock;
	struct machine_dev devs[MACHINE_MAX_DEVS];
	unsigned int nr_devs;
	unsigned int next_mmio_slot;
};

/**
 * machine_dev_add() - record an attached device (its fini runs at machine teardown).
 * Return: 0, or -ENOSPC.
 */
int machine_dev_add(struct machine *m, const struct machine_dev *d);

/**
 * machine_mmio_slot() - allocate the next virtio-mmio slot: its base address and GSI.
 * Return: 0, or -ENOSPC when all MACHINE_MMIO_SLOTS are used.
 */
int machine_mmio_slot(struct machine *m, uint64_t *base, unsigned int *gsi);

/** machine_devs_fini() - tear down attached devices in reverse order. */
void machine_devs_fini(struct machine *m);

/**
 * machine_irq_line() - drive interrupt line @gsi of the machine's irqchip.
 * Used by devices; works the same for every accelerator. Return: 0 or -errno.
 */
int machine_irq_line(struct machine *m, unsigned int gsi, int level);

/** machine_stop() - end the VM with @status (first caller wins); kicks every vCPU. */
void machine_stop(struct machine *m, int status);

#endif
