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
};

/**
 * machine_irq_line() - drive interrupt line @gsi of the machine's irqchip.
 * Used by devices; works the same for every accelerator. Return: 0 or -errno.
 */
int machine_irq_line(struct machine *m, unsigned int gsi, int level);

/** machine_stop() - end the VM with @status (first caller wins); kicks every vCPU. */
void machine_stop(struct machine *m, int status);

#endif
