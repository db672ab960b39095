/* SPDX-License-Identifier: GPL-2.0-or-later */
/* emu-machine.h - the machine the emulator's unit tests run their guest code on. */
#ifndef CABIN_TESTS_UNIT_EMU_MACHINE_H
#define CABIN_TESTS_UNIT_EMU_MACHINE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emu/emu.h"
#include "lib/error.h"
#include "vm/machine.h"

/**
 * emu_test_machine() - @ram_bytes of guest memory and @nr vCPUs run by the emulator
 * @m: the machine (a static of the test, zeroed)
 * @vcpus: @nr vCPUs (statics of the test, zeroed)
 * @nr: how many
 * @ram_bytes: guest RAM from physical address 0
 * @vm: the emulator's VM, for emu_vm_free()
 *
 * Return: the guest's RAM, or NULL after a TAP "1..0 # SKIP" line (the test then exits 77).
 */
static inline uint8_t *emu_test_machine(struct machine *m, struct vcpu *vcpus, unsigned int nr,
					size_t ram_bytes, struct emu_vm **vm)
{
	struct cabin_err *err = NULL;

	if (vm_mem_init(&m->mem, ram_bytes, 0, &err) < 0) {
		printf("1..0 # SKIP cannot allocate guest memory: %s\n", cabin_err_msg(err));
		cabin_err_release(&err);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	pthread_rwlock_init(&m->mmio_lock, NULL);
	*vm = emu_vm_new(m);
	m->accel_priv = *vm;
	m->accel = &emu_accel_ops;
	m->nr_vcpus = nr;
	for (unsigned int i = 0; i < nr; i++) {
		m->vcpus[i] = &vcpus[i];
		vcpus[i].m = m;
		vcpus[i].index = i;
	}
	return vm_mem_ptr(&m->mem, 0, ram_bytes);
}

#endif
