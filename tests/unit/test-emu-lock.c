/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-lock: LOCKed read-modify-writes of device memory are atomic with
 * respect to other vCPUs. Two software CPUs in two threads each run LOCK ADD,
 * LOCK XADD and XCHG loops on one register of an MMIO device whose reads are
 * slow; every update must land (no read of one CPU between the read and the
 * write of the other). Plain accesses go out as exits, as in the vCPU loop.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "emu/emu.h"
#include "lib/error.h"
#include "unit/emu-machine.h"
#include "unit/tap.h"
#include "vm/bus.h"
#include "vm/machine.h"

#define DEV_BASE 0xd0000000ULL
#define CODE 0x10000ULL
#define PML4 0x1000ULL
#define ROUNDS 150

static struct machine m;
static struct vcpu vcpus[2];
static struct emu_vm *vm;
static uint8_t *ram;

static uint32_t dev_reg, dev_count;
static unsigned long dev_reads, dev_writes;

#define w64(pa, v) emu_test_w64(ram, pa, v)

/* a device whose reads take a while: a window for another CPU's access */
static int slow_dev(void *opaque, uint64_t off, void *data, uint32_t len, int is_write)
{
	struct timespec ts = { 0, 20 * 1000 };
	uint32_t v;

	uint32_t *reg = off == 0 ? &dev_reg : &dev_count;

	if ((off != 0 && off != 4) || len != 4)
		return 0;
	if (is_write) {
		memcpy(&v, data, 4);
		__atomic_store_n(reg, v, __ATOMIC_SEQ_CST);
		__atomic_fetch_add(&dev_writes, 1, __ATOMIC_RELAXED);
		return 0;
	}
	v = __atomic_load_n(reg, __ATOMIC_SEQ_CST);
	nanosleep(&ts, NULL);
	memcpy(data, &v, 4);
	__atomic_fetch_add(&dev_reads, 1, __ATOMIC_RELAXED);
	return 0;
}

#define seg(s, sel, code) emu_test_seg(s, sel, code, code, !(code))

static struct emu_cpu *new_cpu(unsigned int index, struct accel_exit *ex)
{
	struct emu_cpu *c = emu_cpu_new(&m, vm, index);

	c->exit = ex;
	vcpus[index].accel = c;
	c->cr3 = PML4;
	c->cr4 = CR4_PAE;
	c->efer = EFER_LME | EFER_LMA;
	c->cr0 = CR0_PE | CR0_PG | CR0_ET;
	seg(&c->seg[SEG_CS], 0x08, 1);
	seg(&c->seg[SEG_SS], 0x10, 0);
	seg(&c->seg[SEG_DS], 0x10, 0);
	c->cpl = 0;
	c->rip = CODE;
	c->r[3] = DEV_BASE;
	c->r[4] = 0x80000 + 0x1000 * (uint64_t)index;
	c->state = EMU_RUNNING;
	emu_flags_set(c, 2);
	emu_tlb_flush(c, 0);
	emu_update_mode(c);
	return c;
}

struct runner {
	struct emu_cpu *c;
	struct accel_exit ex;
};

/* what vm_vcpu_loop() and emu_vcpu_run() do for MMIO exits, until HLT */
static void *run_cpu(void *arg)
{
	struct runner *r = arg;
	struct emu_cpu *c = r->c;

	while (c->state == EMU_RUNNING) {
		if (c->io.pending)
			c->io.have_data = 1; /* the exit below filled io_buf */
		c->exit_ready = 0;
		c->budget = 1000;
		emu_exec(c);
		if (c->exit_ready && r->ex.reason == ACCEL_EXIT_MMIO) {
			pthread_rwlock_rdlock(&m.mmio_lock);
			bus_access(&m.bus, BUS_MMIO, r->ex.mmio.addr, r->ex.mmio.data,
				   r->ex.mmio.len, r->ex.mmio.is_write);
			pthread_rwlock_unlock(&m.mmio_lock);
		}
	}
	return NULL;
}

/* run @code on both CPUs at once; Return: the device register afterwards */
static uint32_t race(const uint8_t *code, size_t n)
{
	struct runner r[2];
	pthread_t t[2];

	memcpy(ram + CODE, code, n);
	emu_code_write(vm, CODE, (unsigned int)n);
	dev_reg = 0;
	for (unsigned int i = 0; i < 2; i++) {
		memset(&r[i].ex, 0, sizeof(r[i].ex));
		r[i].c = new_cpu(i, &r[i].ex);
	}
	for (unsigned int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, run_cpu, &r[i]);
	for (unsigned int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (unsigned int i = 0; i < 2; i++)
		emu_cpu_free(r[i].c);
	return dev_reg;
}

int main(void)
{
	/* mov ecx,ROUNDS; 1: lock add dword [rbx],1; dec ecx; jnz 1b; hlt */
	static const uint8_t add[] = { 0xb9, ROUNDS, 0,	   0,	 0,    0xf0, 0x83,
				       0x03, 0x01,   0xff, 0xc9, 0x75, 0xf8, 0xf4 };
	/* mov ecx,ROUNDS; 1: mov eax,1; lock xadd [rbx],eax; dec ecx; jnz 1b; hlt */
	static const uint8_t xadd[] = { 0xb9, ROUNDS, 0,    0,	  0,	0xb8, 1,    0,	  0,   0,
					0xf0, 0x0f,   0xc1, 0x03, 0xff, 0xc9, 0x75, 0xf3, 0xf4 };
	/*
	 * A spin lock in the device register taken with XCHG (locked without the prefix)
	 * around a plain increment of the device's second register:
	 * mov ecx,ROUNDS; 1: mov eax,1; 2: xchg [rbx],eax; test eax,eax; jnz 2b;
	 * mov edx,[rbx+4]; inc edx; mov [rbx+4],edx; mov dword [rbx],0; dec ecx; jnz 1b; hlt
	 */
	static const uint8_t spin[] = { 0xb9, ROUNDS, 0,    0,	  0,	0xb8, 1,    0,	  0,
					0,    0x87,   0x03, 0x85, 0xc0, 0x75, 0xfa, 0x8b, 0x53,
					0x04, 0xff,   0xc2, 0x89, 0x53, 0x04, 0xc7, 0x03, 0x00,
					0x00, 0x00,   0x00, 0xff, 0xc9, 0x75, 0xe3, 0xf4 };
	uint32_t v;

	ram = emu_test_machine(&m, vcpus, 2, 16 << 20, &vm);
	if (!ram)
		return 77;
	if (bus_register_mmio(&m.bus, DEV_BASE, 0x1000, slow_dev, NULL, "slow") < 0) {
		printf("1..0 # SKIP cannot register the device\n");
		return 77;
	}
	/* identity map: the first GiB with 2 MiB pages, 3-4 GiB with one 1 GiB page */
	emu_test_map_2m(ram, PML4, 3);
	w64(0x2000 + 8 * 3, 0xc0000000ULL | 0x83);

	tap_plan(4);
	dev_reads = dev_writes = 0;
	v = race(add, sizeof(add));
	tap_ok(v == 2 * ROUNDS, "LOCK ADD on device memory from 2 CPUs: %u of %u updates", v,
	       2 * ROUNDS);
	tap_ok(dev_reads >= 2 * ROUNDS && dev_writes >= 2 * ROUNDS,
	       "each LOCK ADD read and wrote the device (%lu reads, %lu writes)", dev_reads,
	       dev_writes);
	v = race(xadd, sizeof(xadd));
	tap_ok(v == 2 * ROUNDS, "LOCK XADD on device memory from 2 CPUs: %u of %u updates", v,
	       2 * ROUNDS);
	dev_count = 0;
	v = race(spin, sizeof(spin));
	tap_ok(v == 0 && dev_count == 2 * ROUNDS,
	       "XCHG spin lock in device memory excludes the other CPU: %u of %u", dev_count,
	       2 * ROUNDS);
	emu_vm_free(vm);
	vm_mem_fini(&m.mem);
	return tap_done();
}
