/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-string: REP MOVS and REP STOS in 64-bit mode, which move whole pages at
 * once when they can (exec-string.c): results, final RSI/RDI/RCX and instruction
 * counts across page boundaries equal those of the element loop; a forward copy
 * into its own source replicates as element by element; a page fault in the middle
 * leaves RCX and RDI at the faulting element; a copy over decoded code runs the new
 * code.
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

#define RAM_BYTES (16u << 20)
#define CODE 0x10000ULL
#define GDT 0x5000ULL
#define IDT 0x6000ULL
#define PF_HANDLER 0x3000ULL
#define PML4 0xe00000ULL
#define PT 0xe03000ULL

#define w64(pa, v) emu_test_w64(ram, pa, v)

#define seg(s, sel, code) emu_test_seg(s, sel, code, code, !(code))

/* 64-bit mode; linear 0-8 MiB in 4 KiB pages (identity), 8-16 MiB in 2 MiB pages */
static void long_mode(void)
{
	if (c)
		emu_cpu_free(c);
	c = emu_cpu_new(&m, vm, 0);
	c->exit = &ex;
	vcpu0.accel = c;
	memset(ram, 0, 8u << 20);
	for (uint64_t p = 0; p < vm->nr_pages; p++)
		vm->page_gen[p]++;
	w64(PML4, (PML4 + 0x1000) | 3);
	w64(PML4 + 0x1000, (PML4 + 0x2000) | 3);
	for (uint64_t i = 0; i < 4; i++)
		w64(PML4 + 0x2000 + 8 * i, (PT + 0x1000 * i) | 3);
	for (uint64_t i = 4; i < 8; i++)
		w64(PML4 + 0x2000 + 8 * i, (i << 21) | 0x83);
	for (uint64_t n = 0; n < 2048; n++)
		w64(PT + 8 * n, (n << 12) | 3);
	w64(GDT + 8, 0x00af9b000000ffffULL);
	w64(GDT + 16, 0x00cf93000000ffffULL);
	/* #PF: interrupt gate to PF_HANDLER (hlt) */
	emu_test_gate64(ram, IDT, 14, PF_HANDLER, 0);
	ram[PF_HANDLER] = 0xf4;
	c->gdt.base = GDT;
	c->gdt.limit = 0x17;
	c->idt.base = IDT;
	c->idt.limit = 0xfff;
	c->cr3 = PML4;
	c->cr4 = CR4_PAE;
	c->efer = EFER_LME | EFER_LMA | EFER_NXE;
	c->cr0 = CR0_PE | CR0_PG | CR0_WP | CR0_ET;
	seg(&c->seg[SEG_CS], 0x08, 1);
	seg(&c->seg[SEG_SS], 0x10, 0);
	seg(&c->seg[SEG_DS], 0x10, 0);
	seg(&c->seg[SEG_ES], 0x10, 0);
	c->r[4] = 0x80000;
	c->cpl = 0;
	emu_update_mode(c);
	emu_tlb_flush(c, 0);
}

static void put(uint64_t pa, const uint8_t *code, size_t n)
{
	memcpy(ram + pa, code, n);
	emu_code_write(vm, pa, (unsigned int)n);
}

/* run @code at CODE until HLT; Return: instructions counted */
static uint64_t run(const uint8_t *code, size_t n)
{
	uint64_t i0 = c->icount;

	put(CODE, code, n);
	c->rip = CODE;
	c->state = EMU_RUNNING;
	c->exit_ready = 0;
	c->budget = 1000000;
	while (c->budget && c->state == EMU_RUNNING && !c->exit_ready)
		emu_exec(c);
	return c->icount - i0;
}

/* mov rdi, imm64 / rsi / rcx / rax */
#define MOVQ(r, v)                                                                                 \
	0x48, (uint8_t)(0xb8 + (r)), (uint8_t)(v), (uint8_t)((v) >> 8), (uint8_t)((v) >> 16),      \
		(uint8_t)((v) >> 24), (uint8_t)((uint64_t)(v) >> 32), 0, 0, 0
#define RAX 0
#define RCX 1
#define RSI 6
#define RDI 7

static void test_stos(void)
{
	static const uint8_t code[] = { MOVQ(RDI, 0x100ff0),
					MOVQ(RCX, 1000),
					MOVQ(RAX, 0x55667788),
					0xf3,
					0x48,
					0xab, /* rep stosq */
					0xf4 };
	static const uint8_t code32[] = { MOVQ(RDI, 0x100ff0),
					  MOVQ(RCX, 1000),
					  MOVQ(RAX, 0x55667788),
					  0x67,
					  0xf3,
					  0x48,
					  0xab,
					  0xf4 };
	uint64_t fast, slow;
	int ok = 1;

	long_mode();
	fast = run(code, sizeof(code));
	for (unsigned int i = 0; i < 1000; i++)
		ok &= !memcmp(ram + 0x100ff0 + 8 * i, "\x88\x77\x66\x55\0\0\0\0", 8);
	tap_ok(ok && ram[0x100ff0 + 8000] == 0 && ram[0x100fef] == 0,
	       "REP STOSQ over three pages fills exactly 8000 bytes");
	tap_ok(c->r[RDI] == 0x100ff0 + 8000 && c->r[RCX] == 0, "RDI advanced, RCX 0");

	/* the same with a 32-bit address size, which takes the element loop */
	long_mode();
	slow = run(code32, sizeof(code32));
	tap_ok(fast == slow && fast >= 1000 && c->r[RDI] == 0x100ff0 + 8000,
	       "instruction count %llu, as the element loop's %llu", (unsigned long long)fast,
	       (unsigned long long)slow);
}

static void test_movs(void)
{
	static const uint8_t code[] = { MOVQ(RSI, 0x200003),
					MOVQ(RDI, 0x300ffd),
					MOVQ(RCX, 10000),
					0xf3,
					0xa4, /* rep movsb */
					0xf4 };
	static const uint8_t rep1[] = {
		MOVQ(RSI, 0x400000), MOVQ(RDI, 0x400001), MOVQ(RCX, 100), 0xf3, 0xa4, 0xf4
	};
	int ok = 1;

	long_mode();
	for (unsigned int i = 0; i < 10000; i++)
		ram[0x200003 + i] = (uint8_t)(i * 7 + 1);
	run(code, sizeof(code));
	tap_ok(!memcmp(ram + 0x300ffd, ram + 0x200003, 10000) && ram[0x300ffd + 10000] == 0 &&
		       c->r[RSI] == 0x200003 + 10000 && c->r[RDI] == 0x300ffd + 10000 &&
		       c->r[RCX] == 0,
	       "REP MOVSB of 10000 bytes between unaligned pages");

	long_mode();
	ram[0x400000] = 0xab;
	run(rep1, sizeof(rep1));
	for (unsigned int i = 0; i <= 100; i++)
		ok &= ram[0x400000 + i] == 0xab;
	tap_ok(ok && ram[0x400000 + 101] == 0,
	       "a forward copy one byte into its own source replicates the first byte");
}

static void test_fault(void)
{
	static const uint8_t code[] = { MOVQ(RDI, 0x501ff0),
					MOVQ(RCX, 100),
					MOVQ(RAX, 1),
					0xf3,
					0x48,
					0xab, /* rep stosq */
					0xf4 };

	long_mode();
	w64(PT + 8 * 0x502, 0); /* page 0x502000 not present */
	run(code, sizeof(code));
	tap_ok(c->rip == PF_HANDLER + 1 && c->cr2 == 0x502000,
	       "REP STOSQ into a missing page: #PF at its first byte (cr2 %#llx)",
	       (unsigned long long)c->cr2);
	tap_ok(c->r[RCX] == 98 && c->r[RDI] == 0x502000 && ram[0x501ff8] == 1,
	       "RCX and RDI stop at the faulting element (rcx %llu)",
	       (unsigned long long)c->r[RCX]);
}

static void test_code(void)
{
	static const uint8_t old[] = { 0xb8, 1, 0, 0, 0, 0xf4 };  /* mov eax, 1; hlt */
	static const uint8_t newc[] = { 0xb8, 2, 0, 0, 0, 0xf4 }; /* mov eax, 2; hlt */
	static const uint8_t code[] = { MOVQ(RSI, 0x21000),
					MOVQ(RDI, 0x20000),
					MOVQ(RCX, sizeof(newc)),
					0xf3,
					0xa4, /* rep movsb */
					0x48,
					0xc7,
					0xc0,
					0x00,
					0x00,
					0x02,
					0x00, /* mov rax, 0x20000 */
					0xff,
					0xe0 /* jmp rax */ };

	long_mode();
	put(0x20000, old, sizeof(old));
	c->rip = 0x20000;
	c->budget = 100;
	while (c->budget && c->state == EMU_RUNNING)
		emu_exec(c);
	memcpy(ram + 0x21000, newc, sizeof(newc));
	c->r[RAX] = 0;
	run(code, sizeof(code));
	tap_ok(c->r[RAX] == 2, "REP MOVSB over decoded code: the new code runs (eax %llu)",
	       (unsigned long long)c->r[RAX]);
}

int main(void)
{

	ram = emu_test_machine(&m, &vcpu0, 1, RAM_BYTES, &vm);
	if (!ram)
		return 77;
	tap_plan(8);
	test_stos();
	test_movs();
	test_fault();
	test_code();
	emu_cpu_free(c);
	emu_vm_free(vm);
	vm_mem_fini(&m.mem);
	return tap_done();
}
