/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>

#include "vm/machine.h"

int machine_irq_line(struct machine *m, unsigned int gsi, int level)
{
	if (!m->accel || !m->accel->irq_line)
		return -ENODEV;
	return m->accel->irq_line(m, gsi, level);
}

void machine_stop(struct machine *m, int status)
{
	pthread_mutex_lock(&m->lock);
	if (!m->stopping) {
		m->exit_status = status;
		__atomic_store_n(&m->stopping, 1, __ATOMIC_SEQ_CST);
	}
	pthread_mutex_unlock(&m->lock);
	for (unsigned int i = 0; i < m->nr_vcpus; i++)
		if (m->vcpus[i] && m->accel && m->accel->vcpu_kick)
			m->accel->vcpu_kick(m->vcpus[i]);
}

int machine_dev_add(struct machine *m, const struct machine_dev *d)
{
	if (m->nr_devs >= MACHINE_MAX_DEVS)
		return -ENOSPC;
	m->devs[m->nr_devs++] = *d;
	return 0;
}

int machine_mmio_slot(struct machine *m, uint64_t *base, unsigned int *gsi)
{
	if (m->next_mmio_slot >= MACHINE_MMIO_SLOTS)
		return -ENOSPC;
	*base = MACHINE_MMIO_BASE + m->next_mmio_slot * MACHINE_MMIO_SLOT_SIZE;
	*gsi = MACHINE_MMIO_GSI_BASE + m->next_mmio_slot;
	m->next_mmio_slot++;
	return 0;
}

void machine_devs_fini(struct machine *m)
{
	while (m->nr_devs > 0) {
		struct machine_dev *d = &m->devs[--m->nr_devs];

		if (d->fini)
			d->fini(d->opaque);
	}
}
