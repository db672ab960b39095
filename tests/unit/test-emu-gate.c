/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-gate: far CALL and JMP through call gates (SDM vol. 3 5.8): a
 * 32-bit gate from CPL 3 to CPL 0 switches to the TSS's inner stack, copies
 * the gate's parameters and RET far back undoes it; gate and target privilege
 * checks raise #GP with the right selector; a 64-bit gate in long mode.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

#define GDT 0x5000ULL
#define IDT 0x6000ULL
#define TSS 0x7000ULL
#define CODE 0x10000ULL
#define GATE_TARGET 0x20000ULL
#define GP_HANDLER 0x30000ULL

static void run(uint64_t n)
{
	c->exit_ready = 0;
	c->budget = n;
	while (c->budget && c->state == EMU_RUNNING && !c->exit_ready)
		emu_exec(c);
}

/* a call gate descriptor (low 8 bytes) */
static uint64_t gate(uint16_t sel, uint64_t off, int dpl, int params)
{
	return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)params << 32) |
	       ((0x8cULL | ((uint64_t)dpl << 5)) << 40) | (((off >> 16) & 0xffff) << 48);
}

/* 32-bit protected mode at CPL 3, flat segments, a TSS with ESP0, #GP handler HLT */
static void prot32_user(void)
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
	emu_test_w64(ram, GDT + 0x08, 0x00cf9b000000ffffULL); /* code DPL 0 */
	emu_test_w64(ram, GDT + 0x10, 0x00cf93000000ffffULL); /* data DPL 0 */
	emu_test_w64(ram, GDT + 0x18, 0x00cffb000000ffffULL); /* code DPL 3 */
	emu_test_w64(ram, GDT + 0x20, 0x00cff3000000ffffULL); /* data DPL 3 */
	emu_test_w64(ram, GDT + 0x28, 0x0000890070000067ULL); /* 32-bit TSS at 0x7000 */
	emu_test_w64(ram, GDT + 0x30, gate(0x08, GATE_TARGET, 3, 2));
	emu_test_w64(ram, GDT + 0x38, gate(0x08, GATE_TARGET, 0, 0));
	c->gdt.base = GDT;
	c->gdt.limit = 0x3f;
	c->idt.base = IDT;
	c->idt.limit = 0x7ff;
	/* #GP: 32-bit interrupt gate to 0x08:GP_HANDLER */
	emu_test_w64(ram, IDT + 13 * 8,
		     (GP_HANDLER & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40) |
			     ((GP_HANDLER >> 16) << 48));
	emu_test_put(vm, ram, GP_HANDLER, &hlt, 1);
	emu_test_w32(ram, TSS + 4, 0x90000);
	emu_test_w32(ram, TSS + 8, 0x10);
	c->seg[SEG_TR].base = TSS;
	c->seg[SEG_TR].limit = 0x67;
	c->seg[SEG_TR].type = 0xb;
	c->seg[SEG_TR].present = 1;
	c->seg[SEG_TR].selector = 0x28;
	c->cr0 = CR0_PE | CR0_ET;
	emu_test_flat_seg(&c->seg[SEG_CS], 0x1b, 1, 3, 0);
	emu_test_flat_seg(&c->seg[SEG_SS], 0x23, 0, 3, 0);
	emu_test_flat_seg(&c->seg[SEG_DS], 0x23, 0, 3, 0);
	emu_test_flat_seg(&c->seg[SEG_ES], 0x23, 0, 3, 0);
	c->cpl = 3;
	c->r[4] = 0x80000;
	c->rip = CODE;
	emu_flags_set(c, 2);
	emu_tlb_flush(c, 0);
	emu_update_mode(c);
}

static void test_gate32(void)
{
	/* push 0x11; push 0x22; call far 0x33:0; mov ecx,0x77; jmp $ */
	static const uint8_t user[] = { 0x6a, 0x11, 0x6a, 0x22, 0x9a, 0, 0, 0,	  0,
					0x33, 0,    0xb9, 0x77, 0,    0, 0, 0xeb, 0xfe };
	/* mov eax,[esp+8]; mov ebx,[esp+12]; mov edx,[esp+4]; mov esi,[esp+16];
	 * mov edi,[esp+20]; mov ebp,esp; retf 8 */
	static const uint8_t kern[] = { 0x8b, 0x44, 0x24, 0x08, 0x8b, 0x5c, 0x24, 0x0c, 0x8b,
					0x54, 0x24, 0x04, 0x8b, 0x74, 0x24, 0x10, 0x8b, 0x7c,
					0x24, 0x14, 0x89, 0xe5, 0xca, 0x08, 0x00 };
	/* call far 0x3b:0 (a gate of DPL 0) */
	static const uint8_t bad[] = { 0x9a, 0, 0, 0, 0, 0x3b, 0, 0xeb, 0xfe };
	/* jmp far 0x33:0 (JMP through a gate cannot raise the privilege) */
	static const uint8_t jmp[] = { 0xea, 0, 0, 0, 0, 0x33, 0, 0xeb, 0xfe };

	prot32_user();
	emu_test_put(vm, ram, CODE, user, sizeof(user));
	emu_test_put(vm, ram, GATE_TARGET, kern, sizeof(kern));
	run(30);
	tap_ok(c->r[0] == 0x22 && c->r[3] == 0x11,
	       "the gate's 2 parameters are copied (%#llx %#llx)", (unsigned long long)c->r[0],
	       (unsigned long long)c->r[3]);
	tap_ok(c->r[2] == 0x1b && c->r[6] == 0x7fff8 && c->r[7] == 0x23,
	       "inner stack holds CS, ESP and SS of the caller");
	tap_ok(c->r[5] == 0x90000 - 24, "the inner stack is the TSS's ESP0 (ebp %#llx)",
	       (unsigned long long)c->r[5]);
	tap_ok(c->cpl == 3 && c->r[1] == 0x77 && c->r[4] == 0x80000 &&
		       c->seg[SEG_SS].selector == 0x23 && c->seg[SEG_CS].selector == 0x1b,
	       "RET far 8 returns to CPL 3 with the caller's stack, parameters released");

	prot32_user();
	emu_test_put(vm, ram, CODE, bad, sizeof(bad));
	run(10);
	tap_ok(c->state == EMU_HALTED && c->rip == GP_HANDLER + 1 &&
		       emu_test_r32(ram, 0x90000 - 24) == 0x38,
	       "a gate of DPL 0 from CPL 3: #GP(gate selector) (%#x)",
	       emu_test_r32(ram, 0x90000 - 24));

	prot32_user();
	emu_test_put(vm, ram, CODE, jmp, sizeof(jmp));
	emu_test_put(vm, ram, GATE_TARGET, kern, sizeof(kern));
	run(10);
	tap_ok(c->state == EMU_HALTED && c->rip == GP_HANDLER + 1 &&
		       emu_test_r32(ram, 0x90000 - 24) == 0x08,
	       "JMP through a gate to a more privileged segment: #GP(code selector) (%#x)",
	       emu_test_r32(ram, 0x90000 - 24));
}

/* 64-bit call gate from CPL 3 to CPL 0 in long mode */
static void test_gate64(void)
{
	/* call far [rip+7] (REX.W: m16:64 at offset 14); mov ecx,0x77; jmp $; the pointer */
	static const uint8_t user[] = { 0x48, 0xff, 0x1d, 0x07, 0, 0, 0, 0xb9, 0x77, 0, 0,    0,
					0xeb, 0xfe, 0,	  0,	0, 0, 0, 0,    0,    0, 0x33, 0 };
	/* mov rax,[rsp+8]; mov rbx,[rsp+16]; mov rdx,[rsp+24]; mov rbp,rsp; retfq */
	static const uint8_t kern[] = {
		0x48, 0x8b, 0x44, 0x24, 0x08, 0x48, 0x8b, 0x5c, 0x24, 0x10,
		0x48, 0x8b, 0x54, 0x24, 0x18, 0x48, 0x89, 0xe5, 0x48, 0xcb
	};

	prot32_user();
	/* identity map, all user, 2 MiB pages */
	emu_test_map_2m(ram, 0x1000, 7);
	emu_test_w64(ram, GDT + 0x08, 0x00af9b000000ffffULL); /* 64-bit code DPL 0 */
	emu_test_w64(ram, GDT + 0x18, 0x00affb000000ffffULL); /* 64-bit code DPL 3 */
	emu_test_w64(ram, GDT + 0x28, 0x0000890070000067ULL); /* 64-bit TSS (low half) */
	emu_test_w64(ram, GDT + 0x30, gate(0x08, GATE_TARGET, 3, 0));
	emu_test_w64(ram, GDT + 0x38, 0);    /* the gate's upper half: offset 63:32 = 0, type 0 */
	emu_test_w64(ram, TSS + 4, 0x90000); /* RSP0 */
	c->cr3 = 0x1000;
	c->cr4 = CR4_PAE;
	c->efer = EFER_LME | EFER_LMA;
	c->cr0 = CR0_PE | CR0_PG | CR0_ET;
	emu_test_flat_seg(&c->seg[SEG_CS], 0x1b, 1, 3, 1);
	emu_tlb_flush(c, 0);
	emu_update_mode(c);
	emu_test_put(vm, ram, CODE, user, sizeof(user));
	emu_test_put(vm, ram, GATE_TARGET, kern, sizeof(kern));
	run(30);
	tap_ok(c->r[0] == 0x1b && c->r[3] == 0x80000 && c->r[2] == 0x23 && c->r[5] == 0x90000 - 32,
	       "64-bit gate: RSP0 stack holds RIP, CS, RSP, SS (%#llx %#llx %#llx %#llx)",
	       (unsigned long long)c->r[0], (unsigned long long)c->r[3],
	       (unsigned long long)c->r[2], (unsigned long long)c->r[5]);
	tap_ok(c->cpl == 3 && c->r[1] == 0x77 && c->r[4] == 0x80000,
	       "RETFQ returns to CPL 3 and the caller's stack");
}

int main(void)
{
	struct cabin_err *err = NULL;

	if (vm_mem_init(&m.mem, 16 << 20, 0, &err) < 0) {
		printf("1..0 # SKIP cannot allocate guest memory\n");
		return 77;
	}
	ram = vm_mem_ptr(&m.mem, 0, 16 << 20);
	pthread_mutex_init(&m.lock, NULL);
	vm = emu_vm_new(&m);
	m.accel_priv = vm;
	m.accel = &emu_accel_ops;
	m.nr_vcpus = 1;
	m.vcpus[0] = &vcpu0;
	vcpu0.m = &m;
	tap_plan(8);
	test_gate32();
	test_gate64();
	emu_cpu_free(c);
	emu_vm_free(vm);
	vm_mem_fini(&m.mem);
	return tap_done();
}
