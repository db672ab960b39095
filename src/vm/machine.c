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
