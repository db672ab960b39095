/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vCPU loop shared by every accelerator: run until an exit, hand port I/O
 * and MMIO to the bus, and decide when the guest has ended. Nothing a guest
 * does here may end the VMM process: unclaimed accesses are logged (rate
 * limited) and completed as on real hardware (reads return all ones).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/util.h"
#include "vm/machine.h"

#define X86_RFLAGS_IF (1u << 9)

/* Log the first 10 unclaimed accesses, then only every power of two. */
static int unclaimed_should_log(unsigned long n)
{
	return n <= 10 || (n & (n - 1)) == 0;
}

static void record_error(struct machine *m, unsigned int index, const char *what)
{
	pthread_mutex_lock(&m->lock);
	if (!m->err_msg[0] && !m->stopping)
		snprintf(m->err_msg, sizeof(m->err_msg), "vcpu %u: %s", index, what);
	m->vcpu_error = 1;
	pthread_mutex_unlock(&m->lock);
}

static void handle_io(struct machine *m, struct vcpu *v, const struct accel_exit *ex)
{
	uint32_t size = ex->io.size, count = ex->io.count ? ex->io.count : 1;

	if (size != 1 && size != 2 && size != 4)
		return;
	for (uint32_t i = 0; i < count; i++) {
		int ret = bus_access(&m->bus, BUS_PIO, ex->io.port, ex->io.data + i * size, size,
				     ex->io.is_write);

		if (ret == -ENOENT && unclaimed_should_log(m->bus.unclaimed[BUS_PIO]))
			log_warn("vcpu %u: unclaimed port %s `0x%x` (size %u; %lu so far)",
				 v->index, ex->io.is_write ? "write" : "read", ex->io.port, size,
				 m->bus.unclaimed[BUS_PIO]);
	}
}

static void handle_mmio(struct machine *m, struct vcpu *v, const struct accel_exit *ex)
{
	int ret;

	if (!ex->mmio.len || ex->mmio.len > 8)
		return;
	pthread_rwlock_rdlock(&m->mmio_lock);
	ret = bus_access(&m->bus, BUS_MMIO, ex->mmio.addr, ex->mmio.data, ex->mmio.len,
			 ex->mmio.is_write);
	pthread_rwlock_unlock(&m->mmio_lock);
	if (ret == -ENOENT && unclaimed_should_log(m->bus.unclaimed[BUS_MMIO]))
		log_warn("vcpu %u: unclaimed MMIO %s at `0x%llx` (size %u; %lu so far)", v->index,
			 ex->mmio.is_write ? "write" : "read", (unsigned long long)ex->mmio.addr,
			 ex->mmio.len, m->bus.unclaimed[BUS_MMIO]);
}

/* Called with m->lock held: count this vCPU idle or busy; all idle ends the VM. */
static int set_idle(struct machine *m, int *idle, int now)
{
	if (*idle == now)
		return 0;
	*idle = now;
	if (now)
		m->nr_idle++;
	else
		m->nr_idle--;
	return now && m->nr_idle >= m->nr_vcpus;
}

static void park(struct machine *m)
{
	pthread_mutex_lock(&m->lock);
	m->nr_parked++;
	pthread_cond_broadcast(&m->cond);
	while (m->pause_req && !m->stopping)
		pthread_cond_wait(&m->cond, &m->lock);
	m->nr_parked--;
	pthread_mutex_unlock(&m->lock);
}

static void idle_sleep(void)
{
	struct timespec ts = { 0, 1000 * 1000 };

	nanosleep(&ts, NULL);
}

void vm_vcpu_loop(struct vcpu *v)
{
	struct machine *m = v->m;
	const struct accel_ops *a = m->accel;
	struct accel_exit ex;
	struct x86_regs regs;
	int idle = 0, all_idle;

	for (;;) {
		if (__atomic_load_n(&m->stopping, __ATOMIC_SEQ_CST))
			break;
		if (__atomic_load_n(&m->pause_req, __ATOMIC_SEQ_CST)) {
			park(m);
			continue;
		}
		memset(&ex, 0, sizeof(ex));
		int ret = a->vcpu_run(v, &ex);

		if (ret < 0) {
			record_error(m, v->index, strerror(-ret));
			machine_stop(m, MACHINE_EXIT_ERROR);
			break;
		}
		if (ex.reason != ACCEL_EXIT_HLT && ex.reason != ACCEL_EXIT_INTR && idle) {
			pthread_mutex_lock(&m->lock);
			set_idle(m, &idle, 0);
			pthread_mutex_unlock(&m->lock);
		}
		switch (ex.reason) {
		case ACCEL_EXIT_IO:
			handle_io(m, v, &ex);
			break;
		case ACCEL_EXIT_MMIO:
			handle_mmio(m, v, &ex);
			break;
		case ACCEL_EXIT_HLT:
			/*
			 * Halted with interrupts off: nothing but an NMI or INIT can wake it.
			 * When every vCPU is in that state the guest has ended.
			 */
			if (a->get_regs(v, &regs) == 0 && !(regs.rflags & X86_RFLAGS_IF)) {
				pthread_mutex_lock(&m->lock);
				all_idle = set_idle(m, &idle, 1);
				pthread_mutex_unlock(&m->lock);
				if (all_idle) {
					machine_stop_cause(m, MACHINE_EXIT_HALTED,
							   "every vcpu halted with interrupts "
							   "disabled (vcpu %u at rip `0x%llx`): "
							   "nothing can wake the guest",
							   v->index, (unsigned long long)regs.rip);
					break;
				}
				/*
				 * Others still run. An accelerator without an in-kernel
				 * irqchip returns at once again: do not spin on it.
				 */
				idle_sleep();
			}
			/*
			 * Halted with interrupts on (KVM's idle poll saw a guest idle loop):
			 * go straight back, the kernel wakes it on the next interrupt.
			 */
			break;
		case ACCEL_EXIT_SHUTDOWN:
			/*
			 * A triple fault: the guest crashed (a reset it asks for through
			 * the i8042 or ACPI ends the VM with status 0 in those devices).
			 */
			if (a->get_regs(v, &regs) < 0)
				regs.rip = 0;
			machine_stop_cause(m, MACHINE_EXIT_TRIPLE_FAULT,
					   "vcpu %u: triple fault at rip `0x%llx`", v->index,
					   (unsigned long long)regs.rip);
			break;
		case ACCEL_EXIT_INTR:
			break;
		case ACCEL_EXIT_INTERNAL:
			record_error(m, v->index, ex.internal.msg);
			machine_stop(m, MACHINE_EXIT_ERROR);
			break;
		}
	}
	pthread_mutex_lock(&m->lock);
	if (idle)
		m->nr_idle--;
	m->nr_running--;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}
