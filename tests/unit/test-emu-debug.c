/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-debug: the debug registers (SDM vol. 3 ch. 18) in 32-bit protected mode at
 * CPL 0. The #DB handler is a HLT, so each point looks at where the CPU stopped, the EIP
 * the #DB pushed and DR6: an instruction breakpoint faults before its instruction and
 * EFLAGS.RF gets past it; data breakpoints trap after the store (or load) that touched
 * their range, not after other accesses to the same page; MOV SS holds a single-step trap
 * back one instruction; DR7.GD makes a MOV from DR6 a #DB fault with DR6.BD.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "emu/emu.h"
#include "lib/error.h"
#include "unit/emu-machine.h"
#include "unit/tap.h"

static struct machine m;
static struct vcpu vcpu0;
static struct emu_vm *vm;
static struct emu_cpu *c;
static struct accel_exit ex;
static uint8_t *ram;

#define GDT 0x5000ULL
#define IDT 0x6000ULL
#define DATA 0x8000ULL
#define CODE 0x10000ULL
#define DB_HANDLER 0x30000ULL
#define STACK 0x90000ULL

/*
 * up to @n rounds of one instruction (a fault in a single step ends emu_exec() early);
 * an OUT's exit is taken as done, as the VMM would
 */
static void run(uint64_t n)
{
	for (uint64_t i = 0; i < n && c->state == EMU_RUNNING; i++) {
		c->exit_ready = 0;
		c->budget = 1;
		emu_exec(c);
	}
}

/* a fresh CPU in flat 32-bit protected mode running @code at CODE, #DB -> HLT */
static void setup(const uint8_t *code, size_t n)
{
	static const uint8_t hlt = 0xf4;

	if (c)
		emu_cpu_free(c);
	c = emu_cpu_new(&m, vm, 0);
	c->exit = &ex;
	vcpu0.accel = c;
	memset(ram, 0, 1 << 20);
	for (uint64_t p = 0; p < vm->nr_pages; p++)
		vm->page_gen[p]++;
	emu_test_w64(ram, GDT + 0x08, 0x00cf9b000000ffffULL);
	emu_test_w64(ram, GDT + 0x10, 0x00cf93000000ffffULL);
	c->gdt.base = GDT;
	c->gdt.limit = 0x17;
	c->idt.base = IDT;
	c->idt.limit = 0x7ff;
	emu_test_w64(ram, IDT + 1 * 8,
		     (DB_HANDLER & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40) |
			     ((DB_HANDLER >> 16) << 48));
	emu_test_put(vm, ram, DB_HANDLER, &hlt, 1);
	emu_test_put(vm, ram, CODE, code, n);
	c->cr0 = CR0_PE | CR0_ET;
	emu_test_flat_seg(&c->seg[SEG_CS], 0x08, 1, 0, 0);
	emu_test_flat_seg(&c->seg[SEG_SS], 0x10, 0, 0, 0);
	emu_test_flat_seg(&c->seg[SEG_DS], 0x10, 0, 0, 0);
	emu_test_flat_seg(&c->seg[SEG_ES], 0x10, 0, 0, 0);
	c->r[0] = 0x10;
	c->r[4] = STACK;
	c->rip = CODE;
	emu_flags_set(c, 2);
	emu_tlb_flush(c, 0);
	emu_update_mode(c);
}

/* arm DR@i at @addr with the DR7 bits @ctl (as MOV to DR7 does) */
static void arm(int i, uint64_t addr, uint64_t ctl)
{
	c->dr[i] = addr;
	c->dr[7] = 0x400 | ctl;
	emu_dbg_update(c);
}

/* the #DB handler ran: HLT at DB_HANDLER done, the pushed EIP is @eip */
static int db_at(uint32_t eip)
{
	return c->state == EMU_HALTED && c->rip == DB_HANDLER + 1 &&
	       emu_test_r32(ram, STACK - 12) == eip;
}

/* no #DB: the code's own final HLT at @end was reached */
static int ran_to(uint64_t end)
{
	return c->state == EMU_HALTED && c->rip == end + 1;
}

int main(void)
{
	/* nop; nop; nop; hlt */
	static const uint8_t nops[] = { 0x90, 0x90, 0x90, 0xf4 };
	/* mov [DATA+4],eax; mov [DATA],eax; nop; hlt */
	static const uint8_t store[] = {
		0xa3, 0x04, 0x80, 0, 0, 0xa3, 0x00, 0x80, 0, 0, 0x90, 0xf4
	};
	/* mov eax,[DATA]; nop; hlt */
	static const uint8_t load[] = { 0xa1, 0x00, 0x80, 0, 0, 0x90, 0xf4 };
	/* mov ss,ax; nop; nop; hlt */
	static const uint8_t movss[] = { 0x8e, 0xd0, 0x90, 0x90, 0xf4 };
	/* mov eax,dr6; hlt */
	static const uint8_t movdr[] = { 0x0f, 0x21, 0xf0, 0xf4 };
	/* out 0x80,al; out 0x84,al; nop; hlt */
	static const uint8_t outs[] = { 0xe6, 0x80, 0xe6, 0x84, 0x90, 0xf4 };

	vcpu0.m = &m;
	ram = emu_test_machine(&m, &vcpu0, 1, 16 << 20, &vm);
	if (!ram)
		return 77;
	tap_plan(11);

	setup(nops, sizeof(nops));
	arm(0, CODE + 1, 0x1); /* L0, execute */
	run(20);
	tap_ok(db_at(CODE + 1) && (c->dr[6] & 0xf) == 1,
	       "an instruction breakpoint faults before its instruction (EIP %#x, DR6 %#llx)",
	       emu_test_r32(ram, STACK - 12), (unsigned long long)c->dr[6]);

	setup(nops, sizeof(nops));
	arm(0, CODE, 0x1);
	emu_flags_set(c, 2 | FL_RF);
	run(20);
	tap_ok(ran_to(CODE + 3) && !(emu_flags_get(c) & FL_RF),
	       "EFLAGS.RF gets past it once, and is cleared after that instruction");

	setup(store, sizeof(store));
	arm(1, DATA + 2, 0x00d00004); /* L1, write, 4 bytes: DATA..DATA+3 */
	run(20);
	tap_ok(db_at(CODE + 10) && (c->dr[6] & 0xf) == 2,
	       "a write breakpoint traps after the store into its range, not after the one "
	       "beside it in the same page (EIP %#x, DR6 %#llx)",
	       emu_test_r32(ram, STACK - 12), (unsigned long long)c->dr[6]);
	tap_ok(emu_test_r32(ram, DATA) == 0x10 && emu_test_r32(ram, DATA + 4) == 0x10,
	       "both stores were done");

	setup(load, sizeof(load));
	arm(1, DATA, 0x00d00004);
	run(20);
	tap_ok(ran_to(CODE + 6), "a write breakpoint ignores a load");

	setup(load, sizeof(load));
	arm(1, DATA, 0x00f00004); /* read or write */
	run(20);
	tap_ok(db_at(CODE + 5) && (c->dr[6] & 0xf) == 2,
	       "a read/write breakpoint traps after the load (EIP %#x)",
	       emu_test_r32(ram, STACK - 12));

	setup(movss, sizeof(movss));
	emu_flags_set(c, 2 | FL_TF);
	run(20);
	tap_ok(db_at(CODE + 3) && (c->dr[6] & 0x4000),
	       "MOV SS holds the single-step trap back past the next instruction (EIP %#x)",
	       emu_test_r32(ram, STACK - 12));

	setup(movdr, sizeof(movdr));
	c->dr[7] = 0x2400; /* GD */
	emu_dbg_update(c);
	run(20);
	tap_ok(db_at(CODE) && (c->dr[6] & 0x2000) && !(c->dr[7] & 0x2000),
	       "DR7.GD: MOV from DR6 is a #DB fault with DR6.BD, GD cleared (EIP %#x, DR6 %#llx)",
	       emu_test_r32(ram, STACK - 12), (unsigned long long)c->dr[6]);

	setup(outs, sizeof(outs));
	c->cr4 |= 0x8;		     /* CR4.DE */
	arm(3, 0x84, 0x20000040ULL); /* L3, I/O, 1 byte */
	run(20);
	tap_ok(db_at(CODE + 4) && (c->dr[6] & 0xf) == 8,
	       "an I/O breakpoint traps after the OUT to its port, not after another (EIP %#x)",
	       emu_test_r32(ram, STACK - 12));
	setup(outs, sizeof(outs));
	arm(3, 0x84, 0x20000040ULL); /* without CR4.DE: R/W 10 is undefined, nothing */
	run(20);
	tap_ok(ran_to(CODE + 5), "without CR4.DE, no I/O breakpoint");

	setup(nops, sizeof(nops));
	arm(2, CODE + 2, 0x30); /* L2, G2 */
	c->dr[7] &= ~0x30ULL;
	emu_dbg_update(c);
	run(20);
	tap_ok(ran_to(CODE + 3), "a breakpoint with neither L nor G set does nothing");

	emu_cpu_free(c);
	emu_vm_free(vm);
	vm_mem_fini(&m.mem);
	return tap_done();
}
