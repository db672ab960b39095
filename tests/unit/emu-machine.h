/* SPDX-License-Identifier: GPL-2.0-or-later */
/* emu-machine.h - the machine the emulator's unit tests run their guest code on. */
#ifndef CABIN_TESTS_UNIT_EMU_MACHINE_H
#define CABIN_TESTS_UNIT_EMU_MACHINE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* little-endian stores and loads in the guest RAM @ram */
static inline void emu_test_w32(uint8_t *ram, uint64_t pa, uint32_t v)
{
	memcpy(ram + pa, &v, 4);
}

static inline void emu_test_w64(uint8_t *ram, uint64_t pa, uint64_t v)
{
	memcpy(ram + pa, &v, 8);
}

static inline uint64_t emu_test_r64(const uint8_t *ram, uint64_t pa)
{
	uint64_t v;

	memcpy(&v, ram + pa, 8);
	return v;
}

static inline uint32_t emu_test_r32(const uint8_t *ram, uint64_t pa)
{
	uint32_t v;

	memcpy(&v, ram + pa, 4);
	return v;
}

/*
 * emu_test_map_2m() - identity-map the first 8 x 2 MiB: the PML4 at @pml4 points to the
 * PDPT at 0x2000, whose first entry points to the page directory at 0x3000. Each entry
 * gets @flags (3: supervisor, 7: user too); the directory's also the page-size bit.
 */
static inline void emu_test_map_2m(uint8_t *ram, uint64_t pml4, uint64_t flags)
{
	emu_test_w64(ram, pml4, 0x2000 | flags);
	emu_test_w64(ram, 0x2000, 0x3000 | flags);
	for (uint64_t i = 0; i < 8; i++)
		emu_test_w64(ram, 0x3000 + 8 * i, (i << 21) | 0x80 | flags);
}

/* emu_test_gate64() - IDT entry @vec at @idt: a 64-bit interrupt gate to 0x08:@handler */
static inline void emu_test_gate64(uint8_t *ram, uint64_t idt, unsigned int vec, uint64_t handler,
				   unsigned int ist)
{
	emu_test_w64(ram, idt + 16 * (uint64_t)vec,
		     (handler & 0xffff) | (0x08ULL << 16) | ((uint64_t)ist << 32) |
			     (0x8eULL << 40) | ((handler >> 16) & 0xffff) << 48);
	emu_test_w64(ram, idt + 16 * (uint64_t)vec + 8, handler >> 32);
}

/* guest code at @pa: whatever was decoded from there before is dropped */
static inline void emu_test_put(struct emu_vm *vm, uint8_t *ram, uint64_t pa, const void *code,
				size_t n)
{
	memcpy(ram + pa, code, n);
	emu_code_write(vm, pa, (unsigned int)n);
}

/* a flat 4 GiB segment, accessed, present, DPL 0: code or data, with the L and D/B bits */
static inline void emu_test_seg(struct x86_segment *s, uint16_t sel, int code, int l, int db)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = code ? 0xb : 0x3;
	s->s = 1;
	s->present = 1;
	s->l = (uint8_t)l;
	s->db = (uint8_t)db;
	s->g = 1;
}

/* a flat 4 GiB segment (a 64-bit code segment with @l), accessed, present, DPL @dpl */
static inline void emu_test_flat_seg(struct x86_segment *s, uint16_t sel, int code, int dpl, int l)
{
	emu_test_seg(s, sel, code, l, !l);
	s->dpl = (uint8_t)dpl;
}

/* run CPU @c until it halts, stops or exits to the VMM, or its icount reaches @limit */
static inline void emu_test_run_until(struct emu_cpu *c, uint64_t limit)
{
	while (c->state == EMU_RUNNING && c->icount < limit) {
		c->exit_ready = 0;
		c->budget = limit - c->icount < 100000 ? limit - c->icount : 100000;
		emu_exec(c);
		if (c->exit_ready)
			break;
	}
}

/* run CPU @c for at most @n instructions, until it halts, stops or exits to the VMM */
static inline void emu_test_run(struct emu_cpu *c, uint64_t n)
{
	c->exit_ready = 0;
	c->budget = n;
	while (c->budget && c->state == EMU_RUNNING && !c->exit_ready)
		emu_exec(c);
}

#endif
