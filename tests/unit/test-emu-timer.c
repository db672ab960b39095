/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-timer: the software CPU's clock and translation caches. The local APIC
 * timer's TSC-deadline mode (SDM vol. 3 11.5.4.1: CPUID.1:ECX[24], IA32_TSC_DEADLINE
 * arming, firing once and reading 0 again, ignored outside the mode, disarmed by a
 * mode change, the initial count ignored inside it); a vCPU halted with only a timer
 * to wake it jumps the virtual clock to the timer's deadline instead of waiting; and
 * the TLB: pages whose page numbers agree in their low 8 bits are cached side by side,
 * MOV CR3 drops the non-global translations and keeps the global ones, also after
 * more pages than the flush log holds were filled; and the decoded-block cache
 * holding a few thousand blocks.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "emu/emu.h"
#include "lib/error.h"
#include "unit/emu-machine.h"
#include "unit/tap.h"
#include "vm/machine.h"

static struct machine m;
static struct vcpu vcpu0;
static struct emu_vm *vm;
static struct emu_cpu *c;
static struct accel_exit ex;
static uint8_t *ram;

#define RAM_BYTES (16u << 20)
#define VEC 0x40
#define TSCDL_MODE (2u << 17)

#define w64(pa, v) emu_test_w64(ram, pa, v)

#define w32(pa, v) emu_test_w32(ram, pa, v)

static int irr(int vec)
{
	return (c->lapic.irr[vec >> 5] >> (vec & 31)) & 1;
}

static void fresh(void)
{
	if (c)
		emu_cpu_free(c);
	c = emu_cpu_new(&m, vm, 0);
	c->exit = &ex;
	vcpu0.accel = c;
	vm->vclock_ns = 5000;
}

static void lapic_w(uint32_t reg, uint32_t v)
{
	emu_lapic_mmio(c, reg, &v, 4, 1);
}

static uint32_t lapic_r(uint32_t reg)
{
	uint32_t v = 0;

	emu_lapic_mmio(c, reg, &v, 4, 0);
	return v;
}

static uint64_t rdmsr(uint32_t idx)
{
	uint64_t v = ~0ULL;

	emu_read_msr(c, idx, &v);
	return v;
}

static void test_tsc_deadline(void)
{
	uint32_t o[4];
	uint64_t tsc;

	fresh();
	emu_cpuid(c, 1, 0, o);
	tap_ok(o[2] & (1u << 24), "CPUID.1:ECX.TSC_DEADLINE");

	lapic_w(0xf0, 0x1ff); /* software-enabled */
	lapic_w(0x320, VEC);  /* one-shot */
	tsc = emu_rdtsc(c);
	emu_write_msr(c, 0x6e0, tsc + 100);
	tap_ok(rdmsr(0x6e0) == 0 && emu_lapic_next_deadline(c) == 0,
	       "one-shot mode: IA32_TSC_DEADLINE reads 0, a write arms nothing");

	lapic_w(0x320, VEC | TSCDL_MODE);
	tap_ok(lapic_r(0x320) == (VEC | TSCDL_MODE), "LVT timer in TSC-deadline mode");
	c->budget = 0;
	emu_write_msr(c, 0x6e0, tsc + 1000);
	tap_ok(rdmsr(0x6e0) == tsc + 1000 && emu_lapic_next_deadline(c) == 5000 + 1000 && !irr(VEC),
	       "a future deadline arms the timer at its virtual time (%llu)",
	       (unsigned long long)emu_lapic_next_deadline(c));
	lapic_w(0x380, 50);
	tap_ok(emu_lapic_next_deadline(c) == 6000 && lapic_r(0x390) == 0,
	       "initial count ignored, current count 0 in TSC-deadline mode");
	emu_lapic_timer(c, 5999);
	tap_ok(!irr(VEC) && rdmsr(0x6e0) == tsc + 1000, "nothing before the deadline");
	emu_lapic_timer(c, 6000);
	tap_ok(irr(VEC) && rdmsr(0x6e0) == 0 && emu_lapic_next_deadline(c) == 0,
	       "at the deadline: the interrupt, then the MSR reads 0 and the timer is disarmed");
	c->lapic.irr[VEC >> 5] = 0;

	emu_write_msr(c, 0x6e0, tsc - 5);
	tap_ok(irr(VEC) && rdmsr(0x6e0) == 0 && c->stop_block,
	       "a deadline already passed fires at the WRMSR");
	c->lapic.irr[VEC >> 5] = 0;

	emu_write_msr(c, 0x6e0, tsc + 1000);
	emu_write_msr(c, 0x6e0, 0);
	tap_ok(emu_lapic_next_deadline(c) == 0 && rdmsr(0x6e0) == 0, "writing 0 disarms");

	emu_write_msr(c, 0x6e0, tsc + 1000);
	emu_write_msr(c, 0x10, tsc + 500); /* the TSC jumps forward by 500 */
	tap_ok(emu_lapic_next_deadline(c) == 5500, "a TSC write moves the armed deadline (%llu)",
	       (unsigned long long)emu_lapic_next_deadline(c));

	c->kick = 0;
	c->budget = 65536;
	emu_write_msr(c, 0x6e0, emu_rdtsc(c) + 1000);
	tap_ok(c->kick == 1, "a deadline inside the current run batch ends the batch");
	c->kick = 0;

	lapic_w(0x320, VEC);
	tap_ok(emu_lapic_next_deadline(c) == 0 && rdmsr(0x6e0) == 0,
	       "leaving TSC-deadline mode disarms the timer");
	lapic_w(0x320, VEC | (3u << 17));
	tap_ok(((lapic_r(0x320) >> 17) & 3) == 1, "reserved timer mode 3 is not written");
}

static void on_alarm(int sig)
{
	static const char msg[] = "not ok - the halted vCPU is still waiting (no clock jump)\n";

	(void)sig;
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	_exit(1);
}

/*
 * Real-mode code at 0x1000: arm the TSC deadline 10^9 TSC cycles (one virtual second)
 * ahead, STI, HLT; the timer's handler IRETs and the code then writes port 0x80.
 */
static void test_halt_skips_clock(void)
{
	static const uint8_t code[] = {
		0x66, 0xb9, 0xe0, 0x06, 0x00, 0x00, /* mov ecx, 0x6e0 */
		0x0f, 0x31,			    /* rdtsc */
		0x66, 0x05, 0x00, 0xca, 0x9a, 0x3b, /* add eax, 1000000000 */
		0x66, 0x83, 0xd2, 0x00,		    /* adc edx, 0 */
		0x0f, 0x30,			    /* wrmsr */
		0xfb,				    /* sti */
		0xf4,				    /* hlt */
		0xe6, 0x80,			    /* out 0x80, al */
		0xf4,
	};
	struct timespec t0, t1;
	uint64_t now;
	double secs;
	int r;

	fresh();
	memcpy(ram + 0x1000, code, sizeof(code));
	emu_code_write(vm, 0x1000, sizeof(code));
	ram[0x2000] = 0xcf;   /* iret */
	w32(VEC * 4, 0x2000); /* IVT: 0000:2000 */
	c->seg[SEG_CS].selector = 0;
	c->seg[SEG_CS].base = 0;
	c->rip = 0x1000;
	emu_update_mode(c);
	lapic_w(0xf0, 0x1ff);
	lapic_w(0x320, VEC | TSCDL_MODE);
	vm->vclock_ns = 0;
	signal(SIGALRM, on_alarm);
	alarm(20);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = emu_accel_ops.vcpu_run(&vcpu0, &ex);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	now = emu_now(vm);
	tap_ok(r == 0 && ex.reason == ACCEL_EXIT_IO && ex.io.port == 0x80,
	       "the timer woke the halted vCPU, which ran on to its port write");
	tap_ok(now >= 1000000000ULL && now < 1000000000ULL + 100000,
	       "the virtual clock jumped to the deadline (%llu ns)", (unsigned long long)now);
	tap_ok(secs < 5.0, "without waiting for it (%.3f s)", secs);
}

/*
 * 4-level paging at 0xe00000: linear 0-8 MiB in 4 KiB pages (PTEs at 0xe03000, frame n
 * at n), 8-16 MiB in 2 MiB pages. Frames 0-3071 hold their number at offset 0x10.
 */
#define PML4 0xe00000ULL
#define PT 0xe03000ULL

static void paging(void)
{
	fresh();
	w64(PML4, (PML4 + 0x1000) | 3);
	w64(PML4 + 0x1000, (PML4 + 0x2000) | 3);
	for (uint64_t i = 0; i < 4; i++)
		w64(PML4 + 0x2000 + 8 * i, (PT + 0x1000 * i) | 3);
	for (uint64_t i = 4; i < 8; i++)
		w64(PML4 + 0x2000 + 8 * i, (i << 21) | 0x83);
	for (uint64_t n = 0; n < 2048; n++)
		w64(PT + 8 * n, (n << 12) | 3);
	for (uint32_t n = 0; n < 3072; n++)
		w32((uint64_t)n * 4096 + 0x10, n);
	c->cr3 = PML4;
	c->cr4 = CR4_PAE | CR4_PGE;
	c->efer = EFER_LME | EFER_LMA;
	c->cr0 = CR0_PE | CR0_PG | CR0_ET;
	emu_tlb_flush(c, 0);
}

static uint32_t rd(uint64_t page)
{
	uint32_t v = 0;

	emu_lin_read(c, page * 4096 + 0x10, &v, 4, ACC_READ, 0);
	return v;
}

/* map linear page @page to frame @frame (+ global) without telling the TLB */
static void remap(uint64_t page, uint64_t frame, int global)
{
	w64(PT + 8 * page, (frame << 12) | 3 | (global ? 0x100 : 0));
}

/* pages 0..n-1 (every 7th global) read; then all remapped to frame + 2048 */
static int fill_and_remap(unsigned int n)
{
	int ok = 1;

	for (unsigned int p = 0; p < n; p++)
		remap(p, p, p % 7 == 0);
	emu_tlb_flush(c, 0);
	for (unsigned int p = 0; p < n; p++)
		ok &= rd(p) == p;
	for (unsigned int p = 0; p < n; p++)
		remap(p, p + 1024, p % 7 == 0);
	return ok;
}

/* after MOV CR3 (keep global): global pages still old, the rest new */
static int check_cr3_flush(unsigned int n)
{
	int ok = 1;

	emu_write_cr(c, 3, PML4);
	for (unsigned int p = 0; p < n; p++)
		ok &= rd(p) == (p % 7 == 0 ? p : p + 1024);
	emu_tlb_flush(c, 0);
	for (unsigned int p = 0; p < n; p++)
		ok &= rd(p) == p + 1024;
	return ok;
}

static void test_tlb(void)
{
	paging();
	/* pages 1 and 257: one TLB slot in a 256-entry direct-mapped TLB */
	tap_ok(rd(1) == 1 && rd(257) == 257, "pages 1 and 257 read through the tables");
	remap(1, 2, 0);
	remap(257, 258, 0);
	tap_ok(rd(1) == 1 && rd(257) == 257, "both stay cached (no flush since the remap)");
	emu_tlb_flush_page(c, 1 * 4096);
	tap_ok(rd(1) == 2 && rd(257) == 257, "INVLPG of page 1 drops only page 1");

	paging();
	tap_ok(fill_and_remap(40), "40 pages cached");
	tap_ok(check_cr3_flush(40), "MOV CR3 drops the 34 non-global, keeps the 6 global");
	paging();
	tap_ok(fill_and_remap(2000), "2000 pages (more than the flush log) cached");
	tap_ok(check_cr3_flush(2000), "MOV CR3 after a log overflow: global kept, others dropped");
	/* the flush after the overflow logged the kept global ones again: flush them */
	paging();
	fill_and_remap(2000);
	emu_write_cr(c, 3, PML4);
	for (unsigned int p = 0; p < 2000; p += 7)
		remap(p, p + 2, 1);
	emu_write_cr(c, 3, PML4);
	{
		int ok = 1;

		for (unsigned int p = 0; p < 2000; p += 7)
			ok &= rd(p) == p;
		emu_tlb_flush(c, 0);
		for (unsigned int p = 0; p < 2000; p += 7)
			ok &= rd(p) == p + 2;
		tap_ok(ok, "global pages survive two MOV CR3 and go at a full flush");
	}

	/* 2 MiB pages: INVLPG anywhere in one drops the entries filled from it */
	for (unsigned int many = 0; many < 2; many++) {
		unsigned int n = many ? 300 : 3; /* 300: more than the large-page log holds */
		int ok = 1;

		paging();
		for (unsigned int p = 0; p < n; p++)
			ok &= rd(2048 + p) == 2048 + p;
		w64(PML4 + 0x2000 + 8 * 4, (5ULL << 21) | 0x83); /* 8 MiB -> frame at 10 MiB */
		ok &= rd(2048 + 1) == 2049;
		emu_tlb_flush_page(c, (2048 + 500) * 4096ULL);
		for (unsigned int p = 0; p < n; p++)
			ok &= rd(2048 + p) == 2560 + p;
		tap_ok(ok, "INVLPG in a 2 MiB page drops its other cached 4 KiB pieces (%u)", n);
	}
}

/*
 * The decoded-block cache holds a boot's working set: 3000 small blocks (INC AX;
 * JMP to the next, 16 bytes apart, in real mode) run once, are then changed behind
 * the emulator's back (DEC AX, no write notification), and run again: a block still
 * cached runs its old INC, one evicted is decoded anew and runs DEC. A 2048-entry
 * cache kept at most 2048 of them.
 */
static void test_block_cache(void)
{
	const unsigned int n = 3000;
	unsigned int evicted;

	fresh();
	memset(ram, 0, 0x10000);
	for (unsigned int i = 0; i < n; i++) {
		ram[0x1000 + 16 * i] = 0x40;	 /* inc ax */
		ram[0x1000 + 16 * i + 1] = 0xeb; /* jmp short +13 */
		ram[0x1000 + 16 * i + 2] = 13;
	}
	ram[0x1000 + 16 * n] = 0xf4;
	emu_code_write(vm, 0, 0x10000);
	c->seg[SEG_CS].selector = 0;
	c->seg[SEG_CS].base = 0;
	emu_update_mode(c);
	for (int pass = 0; pass < 2; pass++) {
		c->rip = 0x1000;
		c->r[0] = 0;
		c->state = EMU_RUNNING;
		c->budget = 4 * n;
		while (c->budget && c->state == EMU_RUNNING && !c->exit_ready)
			emu_exec(c);
		if (pass == 0)
			for (unsigned int i = 0; i < n; i++)
				ram[0x1000 + 16 * i] = 0x48; /* dec ax, unannounced */
	}
	evicted = (unsigned int)(((int)n - (int16_t)c->r[0]) / 2);
	tap_ok(c->state == EMU_HALTED && evicted < n / 10,
	       "%u small blocks run twice: %u decoded again", n, evicted);
}

int main(void)
{

	ram = emu_test_machine(&m, &vcpu0, 1, RAM_BYTES, &vm);
	if (!ram)
		return 77;
	tap_plan(27);
	test_tsc_deadline();
	test_halt_skips_clock();
	test_tlb();
	test_block_cache();
	emu_cpu_free(c);
	emu_vm_free(vm);
	vm_mem_fini(&m.mem);
	return tap_done();
}
