/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-jit: what the host code of decoded blocks (src/emu/jit-x86_64.c) must
 * keep from the interpreter. Each program runs twice, with the host code and with
 * CABIN_EMU_JIT=off, and both runs must end with the same registers and the same
 * instruction count (the virtual clock), besides the values the program computes:
 *  - code that rewrites an instruction of its own hot loop;
 *  - a page fault in the middle of a block: RIP of the faulting instruction, the
 *    instructions before it done, the ones after it not;
 *  - two blocks chained in one page, the second rewritten by a device write
 *    (emu_code_write) between two runs;
 *  - each Jcc condition on the lazy flags a CMP or TEST left in the block before;
 *  - more hot code than the code cache holds (CABIN_EMU_JIT_CACHE=64K): it is
 *    flushed and the program still computes its sum;
 *  - the flags of ADD, SUB, CMP and TEST (registers, bytes, immediates, memory) read
 *    by SETcc, CMOVcc, ADC and SBB in the same block, after a memory access, and in
 *    the next block, over operand pairs at the edges of each size;
 *  - a CALL whose exit was linked to the block it calls in another page (jit.h), after
 *    the program remaps that page (page table write and INVLPG): the same CALL must
 *    reach the code the new mapping shows, not the block it was linked to;
 *  - a CALL linked to a block in another page that a device write rewrites between
 *    two runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"
#include "emu/jit.h"
#include "lib/error.h"
#include "unit/emu-machine.h"
#include "unit/tap.h"
#include "vm/machine.h"

#define CODE 0x10000ULL
#define HANDLER 0x11000ULL
#define DE_HANDLER 0x11100ULL
#define BIG 0x20000ULL
#define BIG_BLOCKS 150
#define PML4 0x1000ULL
#define GDT 0x5000ULL
#define IDT 0x6000ULL
#define STACK 0x80000ULL
#define FLAGS_CODE 0x40000ULL
#define FLAGS_TAB 0x60000ULL
#define LINK_CODE 0x70000ULL
#define LINK_FN 0x200100ULL  /* in the second 2 MiB page, first mapped 1:1 */
#define LINK_FN2 0x400100ULL /* where the remapped page has LINK_FN */
#define DMA_CODE 0x78000ULL
#define DMA_FN 0x7a000ULL

static struct machine m;
static struct vcpu vcpu0;
static struct emu_vm *vm;
static uint8_t *ram;

#define w64(pa, v) emu_test_w64(ram, pa, v)

#define seg(s, sel, code) emu_test_seg(s, sel, code, code, !(code))

/* a 64-bit CPU at CODE, with the host code on or off */
static struct emu_cpu *new_cpu(int jit, struct accel_exit *ex)
{
	struct emu_cpu *c;

	setenv("CABIN_EMU_JIT", jit ? "on" : "off", 1);
	c = emu_cpu_new(&m, vm, 0);
	if (!c)
		return NULL;
	c->exit = ex;
	vcpu0.accel = c;
	c->cr3 = PML4;
	c->cr4 = CR4_PAE;
	c->efer = EFER_LME | EFER_LMA;
	c->cr0 = CR0_PE | CR0_PG | CR0_ET;
	seg(&c->seg[SEG_CS], 0x08, 1);
	seg(&c->seg[SEG_SS], 0x10, 0);
	seg(&c->seg[SEG_DS], 0x10, 0);
	c->gdt.base = GDT;
	c->gdt.limit = 0x17;
	c->idt.base = IDT;
	c->idt.limit = 0xfff;
	c->cpl = 0;
	c->rip = CODE;
	c->r[4] = STACK;
	c->state = EMU_RUNNING;
	emu_flags_set(c, 2);
	emu_tlb_flush(c, 0);
	emu_update_mode(c);
	return c;
}

#define run(c, limit) emu_test_run_until(c, limit)

struct result {
	uint64_t r[16], rip, icount, flags;
	int state;
};

static void save(const struct emu_cpu *c, struct result *r)
{
	memcpy(r->r, c->r, sizeof(r->r));
	r->rip = c->rip;
	r->icount = c->icount;
	r->flags = emu_flags_get((struct emu_cpu *)c);
	r->state = (int)c->state;
}

static int same(const struct result *a, const struct result *b)
{
	return !memcmp(a->r, b->r, sizeof(a->r)) && a->rip == b->rip && a->icount == b->icount &&
	       a->flags == b->flags && a->state == b->state;
}

/* mov ecx,1000; xor ebx,ebx; 1: mov eax,ecx; and eax,7; mov [rip+2],eax; add ebx,imm32;
 * dec ecx; jnz 1b; hlt -- the store rewrites the ADD's immediate right before it runs */
static const uint8_t p_smc[] = { 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x31, 0xdb, 0x89, 0xc8, 0x83,
				 0xe0, 0x07, 0x89, 0x05, 0x02, 0x00, 0x00, 0x00, 0x81, 0xc3,
				 0x78, 0x56, 0x34, 0x12, 0xff, 0xc9, 0x75, 0xeb, 0xf4 };

/*
 * mov ecx,1000; xor ebx,ebx; mov esi,CODE+28; 1: mov edx,0x8000; cmp ecx,50; cmovb edx,esi;
 * add dword [rdx],1; add ebx,imm32; dec ecx; jnz 1b; hlt -- once the loop is hot (translated),
 * its read-modify-write increments the ADD's immediate right before it runs
 */
static const uint8_t p_smc_rmw[] = { 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x31, 0xdb, 0xbe, 0x1c, 0x00,
				     0x01, 0x00, 0xba, 0x00, 0x80, 0x00, 0x00, 0x83, 0xf9, 0x32,
				     0x0f, 0x42, 0xd6, 0x83, 0x02, 0x01, 0x81, 0xc3, 0x00, 0x00,
				     0x00, 0x00, 0xff, 0xc9, 0x75, 0xe8, 0xf4 };

/*
 * mov ecx,20; xor ebx,ebx; mov rsi,0x40000000 (not mapped); 1: mov edx,0x8000; cmp ecx,1;
 * cmove rdx,rsi; add ebx,3; mov rax,[rdx]; add ebx,1; dec ecx; jnz 1b; hlt -- the loop is
 * one block, hot (translated) when its load faults in the last round
 */
static const uint8_t p_fault[] = { 0xb9, 0x14, 0x00, 0x00, 0x00, 0x31, 0xdb, 0x48, 0xbe, 0x00, 0x00,
				   0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0xba, 0x00, 0x80, 0x00, 0x00,
				   0x83, 0xf9, 0x01, 0x48, 0x0f, 0x44, 0xd6, 0x83, 0xc3, 0x03, 0x48,
				   0x8b, 0x02, 0x83, 0xc3, 0x01, 0xff, 0xc9, 0x75, 0xe7, 0xf4 };
#define P_FAULT_INSN (CODE + 0x20)

/* xor ebx,ebx; mov ecx,100000; 1: add ebx,1; jmp 2f; ...; 2 (+0x40): add esi,imm8;
 * dec ecx; jnz 1b; hlt */
#define P_CHAIN_IMM (CODE + 0x42)
static void load_chain(void)
{
	static const uint8_t a[] = { 0x31, 0xdb, 0xb9, 0xa0, 0x86, 0x01,
				     0x00, 0x83, 0xc3, 0x01, 0xeb, 0x34 };
	static const uint8_t b[] = { 0x83, 0xc6, 0x01, 0xff, 0xc9, 0x75, 0xc0, 0xf4 };

	memset(ram + CODE, 0xcc, 0x80);
	memcpy(ram + CODE, a, sizeof(a));
	memcpy(ram + CODE + 0x40, b, sizeof(b));
	emu_code_write(vm, CODE, 0x80);
}

/*
 * BIG - 7: mov ecx,40; xor ebx,ebx; then BIG_BLOCKS blocks of 31 x add ebx,imm32 and a
 * jmp to the next (each block in its own slot of the decoded-block cache, so that
 * each gets hot and translated); then dec ecx; jnz to the first; hlt
 */
static uint32_t load_big(void)
{
	static uint8_t used[BLOCK_CACHE];
	uint64_t a = BIG, at[BIG_BLOCKS + 1];
	uint32_t sum = 0, imm = 1;
	int32_t rel;

	memset(used, 0, sizeof(used));
	memcpy(ram + BIG - 7, "\xb9\x28\x00\x00\x00\x31\xdb", 7);
	for (int k = 0; k <= BIG_BLOCKS; k++) {
		while ((a & 0xfff) + 256 > 4096 || used[emu_block_slot(a)])
			a += 256;
		used[emu_block_slot(a)] = 1;
		at[k] = a;
		a += 256;
	}
	for (int k = 0; k < BIG_BLOCKS; k++) {
		uint64_t p = at[k];

		for (int i = 0; i < 31; i++, p += 6, imm += 7) {
			ram[p] = 0x81;
			ram[p + 1] = 0xc3;
			memcpy(ram + p + 2, &imm, 4);
			sum += imm;
		}
		ram[p] = 0xe9;
		rel = (int32_t)(at[k + 1] - (p + 5));
		memcpy(ram + p + 1, &rel, 4);
	}
	a = at[BIG_BLOCKS];
	memcpy(ram + a, "\xff\xc9\x0f\x85", 4);
	rel = (int32_t)(BIG - (a + 8));
	memcpy(ram + a + 4, &rel, 4);
	ram[a + 8] = 0xf4;
	emu_code_write(vm, BIG - 7, (unsigned int)(a + 9 - (BIG - 7)));
	return sum * 40;
}

/* Jcc condition @cc of x86 flags */
static int cond(unsigned int cc, int cf, int zf, int sf, int of, int pf)
{
	int r;

	switch (cc >> 1) {
	case 0:
		r = of;
		break;
	case 1:
		r = cf;
		break;
	case 2:
		r = zf;
		break;
	case 3:
		r = cf || zf;
		break;
	case 4:
		r = sf;
		break;
	case 5:
		r = pf;
		break;
	case 6:
		r = sf != of;
		break;
	default:
		r = zf || sf != of;
		break;
	}
	return (cc & 1) ? !r : r;
}

/*
 * mov ecx,40; xor ebp,ebp; 1: then for CMP and TEST, for each condition cc:
 * {cmp|test} esi,edi; jmp +0; j<cc> +6; add ebp,1<<(cc + 16*test) -- each Jcc starts a
 * block and finds the flags of the block before in the lazy state -- then dec ecx;
 * jnz 1b; hlt. Return: the expected ebp (a bit per condition not taken) for esi = 5,
 * edi = 7.
 */
static uint32_t load_conds(void)
{
	uint64_t p = CODE;
	uint32_t not_taken = 0;
	int32_t rel;

	memcpy(ram + p, "\xb9\x28\x00\x00\x00\x31\xed", 7);
	p += 7;
	for (int t = 0; t < 2; t++)
		for (unsigned int cc = 0; cc < 16; cc++) {
			uint32_t bit = 1u << (cc + 16 * (unsigned int)t);

			ram[p++] = t ? 0x85 : 0x39; /* cmp/test esi, edi */
			ram[p++] = 0xfe;
			ram[p++] = 0xeb;
			ram[p++] = 0x00;
			ram[p++] = (uint8_t)(0x70 + cc);
			ram[p++] = 0x06;
			ram[p++] = 0x81; /* add ebp, bit */
			ram[p++] = 0xc5;
			memcpy(ram + p, &bit, 4);
			p += 4;
			/* 5 - 7: CF SF, PF of 0xfe odd; 5 & 7 = 5: PF of 0x05 even */
			if (t ? !cond(cc, 0, 0, 0, 0, 1) : !cond(cc, 1, 0, 1, 0, 0))
				not_taken |= bit;
		}
	memcpy(ram + p, "\xff\xc9\x0f\x85", 4);
	rel = (int32_t)(CODE + 7 - (p + 8));
	memcpy(ram + p + 4, &rel, 4);
	ram[p + 8] = 0xf4;
	emu_code_write(vm, CODE, (unsigned int)(p + 9 - CODE));
	return not_taken * 40;
}

/* operands at the edges of 8, 32 and 64 bits */
static const uint64_t edge[] = { 0,
				 1,
				 2,
				 0x7f,
				 0x80,
				 0xff,
				 0x7fffffff,
				 0x80000000,
				 0xffffffff,
				 0x7fffffffffffffffULL,
				 0x8000000000000000ULL,
				 ~0ULL,
				 0x123456789abcdef0ULL,
				 0xfedcba9876543281ULL };
#define NEDGE (sizeof(edge) / sizeof(edge[0]))

/* a string of code bytes (NULs included) and its length */
#define B(s)                                                                                       \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}

static uint64_t put(uint64_t p, const char *bytes, size_t n)
{
	memcpy(ram + p, bytes, n);
	return p + n;
}
#define PUT(p, s) ((p) = put((p), (s), sizeof(s) - 1))

/* rbp = rbp * 5 + r (LEA: the flags stay) for r = r8 + @k */
static uint64_t fold(uint64_t p, int k)
{
	char b[] = "\x48\x8d\x6c\xad\x00\x4a\x8d\x6c\x05\x00";

	b[8] = (char)(0x05 | (k & 7) << 3);
	if (k < 0) { /* rax */
		b[5] = 0x48;
		b[8] = 0x05;
	}
	return put(p, b, sizeof(b) - 1);
}

/* jmp +0 (the next block starts here, so that what follows is in one block), then @b */
static uint64_t producer(uint64_t p, const char *b, size_t n)
{
	PUT(p, "\xeb\x00");
	return put(p, b, n);
}

/*
 * The flags test: for each pair (rsi, rdi) of edge[] (table at rbx), and for each
 * producer of flags, at the start of a block, SETcc of all 16 conditions (8 per
 * block), CMOVcc, ADC/SBB (register, immediate, eAX, memory) and SETcc after them,
 * each result folded into rbp; the whole repeated 20 times so that the blocks are
 * translated.
 */
static void load_flags(void)
{
	static const struct {
		const char *b;
		size_t n;
	} prod[] = {
		B("\x48\x39\xfe"),			   /* cmp rsi, rdi */
		B("\x39\xfe"),				   /* cmp esi, edi */
		B("\x48\x89\xf0\x48\x01\xf8"),		   /* mov rax, rsi; add rax, rdi */
		B("\x89\xf0\x29\xf8"),			   /* mov eax, esi; sub eax, edi */
		B("\x40\x84\xfe"),			   /* test sil, dil */
		B("\x40\x38\xfe"),			   /* cmp sil, dil */
		B("\x40\x3a\xfe"),			   /* cmp dil, sil */
		B("\x89\xf0\x3c\x80"),			   /* mov eax, esi; cmp al, 0x80 */
		B("\xf7\xc6\x01\x00\x00\x80"),		   /* test esi, 0x80000001 */
		B("\x40\xf6\xc6\x81"),			   /* test sil, 0x81 */
		B("\x48\x39\x3c\xcb"),			   /* cmp [rbx + rcx * 8], rdi */
		B("\x48\x39\xfe\x4c\x8b\x03"),		   /* cmp rsi, rdi; mov r8, [rbx] */
		B("\x48\x39\xfe\xeb\x00"),		   /* cmp rsi, rdi; jmp +0 */
		B("\x39\xfe\x48\x89\xb3\x00\x10\x00\x00"), /* cmp esi, edi; mov [rbx+4096], rsi */
		B("\x89\xf0\x84\xfc"),			   /* mov eax, esi; test ah, bh */
		B("\x48\x29\xfe"),			   /* sub rsi, rdi */
	};
	uint64_t p = FLAGS_CODE, inner, outer;
	int32_t rel;

	for (unsigned int i = 0; i < NEDGE; i++)
		for (unsigned int k = 0; k < NEDGE; k++) {
			memcpy(ram + FLAGS_TAB + 16 * (i * NEDGE + k), &edge[i], 8);
			memcpy(ram + FLAGS_TAB + 16 * (i * NEDGE + k) + 8, &edge[k], 8);
		}
	PUT(p, "\x31\xed\xba\x14\x00\x00\x00"); /* xor ebp, ebp; mov edx, 20 */
	outer = p;
	PUT(p, "\x31\xc9"); /* xor ecx, ecx */
	inner = p;
	/* mov rax, rcx; shl rax, 4; mov rsi, [rbx + rax]; mov rdi, [rbx + rax + 8] */
	PUT(p, "\x48\x89\xc8\x48\xc1\xe0\x04\x48\x8b\x34\x03\x48\x8b\x7c\x03\x08");
	for (size_t n = 0; n < sizeof(prod) / sizeof(prod[0]); n++) {
		for (int half = 0; half < 2; half++) {
			p = producer(p, prod[n].b, prod[n].n);
			for (int k = 0; k < 8; k++) {
				char b[] = "\x41\x0f\x90\xc0"; /* setcc r8b + k */

				b[2] = (char)(0x90 + 8 * half + k);
				b[3] = (char)(0xc0 + k);
				p = put(p, b, sizeof(b) - 1);
			}
			for (int k = 0; k < 8; k++)
				p = fold(p, k);
		}
		/* mov eax, 0; setb ah */
		p = producer(p, prod[n].b, prod[n].n);
		PUT(p, "\xb8\x00\x00\x00\x00\x0f\x92\xc4");
		p = fold(p, -1);
		/* cmovb r8, rdi; cmovle r9d, edi; cmovs r10, rdi; cmovp r11d, edi (from rsi) */
		PUT(p, "\x49\x89\xf0\x4c\x0f\x42\xc7\x41\x89\xf1\x44\x0f\x4e\xcf");
		PUT(p, "\x49\x89\xf2\x4c\x0f\x48\xd7\x41\x89\xf3\x44\x0f\x4a\xdf");
		for (int k = 0; k < 4; k++)
			p = fold(p, k);
		/* mov r8, rsi; adc r8, rdi; mov r9d, 0; setb r9b; mov r10d, 0; seto r10b */
		p = producer(p, prod[n].b, prod[n].n);
		PUT(p, "\x49\x89\xf0\x49\x11\xf8\x41\xb9\x00\x00\x00\x00\x41\x0f\x92\xc1");
		PUT(p, "\x41\xba\x00\x00\x00\x00\x41\x0f\x90\xc2");
		/* mov r11d, esi; sbb r11d, edi; mov r12d, 0; setl r12b */
		PUT(p, "\x41\x89\xf3\x41\x19\xfb\x41\xbc\x00\x00\x00\x00\x41\x0f\x9c\xc4");
		/* mov r13, rsi; adc r13, 0x7f; mov r14d, 0; setz r14b */
		PUT(p, "\x49\x89\xf5\x49\x83\xd5\x7f\x41\xbe\x00\x00\x00\x00\x41\x0f\x94\xc6");
		/* mov eax, esi; sbb eax, 0x80000000; mov r15d, 0; setbe r15b */
		PUT(p, "\x89\xf0\x1d\x00\x00\x00\x80\x41\xbf\x00\x00\x00\x00\x41\x0f\x96\xc7");
		for (int k = 0; k < 8; k++)
			p = fold(p, k);
		p = fold(p, -1);
		/* the producer again; mov r8, rsi; adc r8, [rbx + rcx * 8]; sbb r9, [rbx + 8] */
		p = producer(p, prod[n].b, prod[n].n);
		PUT(p, "\x49\x89\xf0\x4c\x13\x04\xcb\x4c\x8b\xce\x4c\x1b\x4b\x08");
		/* mov r10d, 0; setb r10b */
		PUT(p, "\x41\xba\x00\x00\x00\x00\x41\x0f\x92\xc2");
		for (int k = 0; k < 3; k++)
			p = fold(p, k);
	}
	/* inc ecx; cmp ecx, pairs; jne inner; dec edx; jne outer; hlt */
	PUT(p, "\xff\xc1\x81\xf9");
	rel = (int32_t)(NEDGE * NEDGE);
	memcpy(ram + p, &rel, 4);
	p += 4;
	PUT(p, "\x0f\x85");
	rel = (int32_t)(inner - (p + 4));
	memcpy(ram + p, &rel, 4);
	p += 4;
	PUT(p, "\xff\xca\x0f\x85");
	rel = (int32_t)(outer - (p + 4));
	memcpy(ram + p, &rel, 4);
	p += 4;
	PUT(p, "\xf4");
	emu_code_write(vm, FLAGS_CODE, (unsigned int)(p - FLAGS_CODE));
}

/* rbp = rbp * 5 + @r (LEA: the flags stay) for any register but rsp */
static uint64_t fold_reg(uint64_t p, int r)
{
	char b[] = "\x48\x8d\x6c\xad\x00\x48\x8d\x6c\x05\x00";

	b[5] = (char)(0x48 | (r & 8 ? 2 : 0));
	b[8] = (char)(0x05 | (r & 7) << 3);
	return put(p, b, sizeof(b) - 1);
}

/*
 * The forms test: for each pair (rsi, rdi) of edge[] (table at rbx, counters r13 and
 * r14), each form below runs at the start of a block after rax = rsi, rdx = rcx = rdi,
 * [rbx + 0x1100] = rdi (a DIV finds edx = 0x7f and r15 = its length: a #DE handler
 * steps over it), then: setl r10b in the same block (the host's flags), a load, setbe
 * r11b (the lazy state the translation knows), a new block with sets r12b (the lazy
 * state in memory) and pushfq; pop r8 (all six flags exact), and rax, rcx, rdx, r8-r12
 * and [rbx + 0x1100] folded into rbp. Repeated 20 times so that the blocks are
 * translated.
 */
#define SCRATCH 0x1100
static const struct {
	const char *b;
	size_t n;
} forms[] = {
	B("\x48\xf7\xd8"),				   /* neg rax */
	B("\xf7\xd8"),					   /* neg eax */
	B("\x48\xf7\xd0"),				   /* not rax */
	B("\xf7\xd2"),					   /* not edx */
	B("\x48\xf7\xe1"),				   /* mul rcx */
	B("\xf7\xe1"),					   /* mul ecx */
	B("\x48\xf7\xe9"),				   /* imul rcx */
	B("\xf7\xe9"),					   /* imul ecx */
	B("\x48\xf7\xa3\x00\x11\x00\x00"),		   /* mul qword [rbx + 0x1100] */
	B("\xf7\xab\x00\x11\x00\x00"),			   /* imul dword [rbx + 0x1100] */
	B("\x48\xd1\xe0"),				   /* shl rax, 1 */
	B("\xd1\xe8"),					   /* shr eax, 1 */
	B("\x48\xd1\xf8"),				   /* sar rax, 1 */
	B("\xd1\xf8"),					   /* sar eax, 1 */
	B("\x48\xd1\xc0"),				   /* rol rax, 1 */
	B("\xd1\xc8"),					   /* ror eax, 1 */
	B("\x48\xd3\xe0"),				   /* shl rax, cl */
	B("\xd3\xe8"),					   /* shr eax, cl */
	B("\x48\xd3\xf8"),				   /* sar rax, cl */
	B("\xd3\xe0"),					   /* shl eax, cl */
	B("\x48\xc1\xc0\x05\xeb\x00\xc1\xc8\x03"),	   /* rol rax, 5; jmp +0; ror eax, 3 */
	B("\x48\xc1\xc8\x07\x48\xc1\xc0\x01"),		   /* ror rax, 7; rol rax, 1 */
	B("\xa8\x81"),					   /* test al, 0x81 */
	B("\xa9\x01\x00\x00\x80"),			   /* test eax, 0x80000001 */
	B("\x48\xa9\xff\x00\x00\x80"),			   /* test rax, -0x7fffff01 */
	B("\x48\x0f\xbe\xc2"),				   /* movsx rax, dl */
	B("\x0f\xbe\xc6"),				   /* movsx eax, dh */
	B("\x4c\x0f\xbe\xce"),				   /* movsx r9, sil */
	B("\x0f\xbf\x8b\x00\x11\x00\x00"),		   /* movsx ecx, word [rbx + 0x1100] */
	B("\x48\x0f\xbe\x83\x00\x11\x00\x00"),		   /* movsx rax, byte [rbx + 0x1100] */
	B("\xc7\xc0\x80\xff\xff\xff"),			   /* mov eax, 0xffffff80 */
	B("\x48\xc7\xc2\xfe\xff\xff\xff"),		   /* mov rdx, -2 */
	B("\x66\x89\xb3\x00\x11\x00\x00"),		   /* mov [rbx + 0x1100], si */
	B("\x66\x8b\x83\x00\x11\x00\x00"),		   /* mov ax, [rbx + 0x1100] */
	B("\x90\x66\x90"),				   /* nop; xchg ax, ax */
	B("\x48\x01\xb3\x00\x11\x00\x00"),		   /* add [rbx + 0x1100], rsi */
	B("\x29\xb3\x00\x11\x00\x00"),			   /* sub [rbx + 0x1100], esi */
	B("\x48\x21\xb3\x00\x11\x00\x00"),		   /* and [rbx + 0x1100], rsi */
	B("\x09\xb3\x00\x11\x00\x00"),			   /* or [rbx + 0x1100], esi */
	B("\x48\x31\xb3\x00\x11\x00\x00"),		   /* xor [rbx + 0x1100], rsi */
	B("\x39\xb3\x00\x11\x00\x00"),			   /* cmp [rbx + 0x1100], esi */
	B("\x83\x83\x00\x11\x00\x00\x7f"),		   /* add dword [rbx + 0x1100], 0x7f */
	B("\x48\x83\xab\x00\x11\x00\x00\x80"),		   /* sub qword [rbx + 0x1100], -0x80 */
	B("\x81\xa3\x00\x11\x00\x00\x01\x00\x00\x80"),	   /* and dword [..], 0x80000001 */
	B("\x48\x81\xbb\x00\x11\x00\x00\xff\xff\xff\x7f"), /* cmp qword [..], 0x7fffffff */
	B("\x83\xbb\x00\x11\x00\x00\x01"),		   /* cmp dword [rbx + 0x1100], 1 */
	B("\x48\x83\xb3\x00\x11\x00\x00\xff"),		   /* xor qword [rbx + 0x1100], -1 */
	B("\x48\x83\x8b\x00\x11\x00\x00\x80"),		   /* or qword [rbx + 0x1100], -0x80 */
	/* INC/DEC m after each kind of lazy state (CF kept), and with its flags dead */
	B("\x48\x39\xfe\x48\xff\x83\x00\x11\x00\x00"),	   /* cmp rsi, rdi; inc qword [..] */
	B("\x01\xf8\xff\x8b\x00\x11\x00\x00"),		   /* add eax, edi; dec dword [..] */
	B("\x85\xf8\xff\x83\x00\x11\x00\x00"),		   /* test eax, edi; inc dword [..] */
	B("\x48\xff\xc0\x48\xff\x8b\x00\x11\x00\x00"),	   /* inc rax; dec qword [..] */
	B("\x48\xd1\xe0\x48\xff\x83\x00\x11\x00\x00"),	   /* shl rax, 1; inc qword [..] */
	B("\x48\x39\xfe\xeb\x00\xff\x8b\x00\x11\x00\x00"), /* cmp; jmp +0; dec dword */
	B("\x48\xff\x83\x00\x11\x00\x00\x48\x01\xf8"),	   /* inc qword [..]; add rax, rdi */
	/* flags a later form overwrites (liveness: these forms write all six, or none) */
	B("\x48\x01\xf8\x48\xf7\xd8"),	   /* add rax, rdi; neg rax */
	B("\x29\xf8\x0f\xbe\xc2\xd1\xe0"), /* sub eax, edi; movsx eax, dl; shl eax, 1 */
	B("\x48\x39\xfe\x48\xc7\xc1\x05\x00\x00\x00\xa9\x01\x00\x00\x80"),
	/* cmp rsi, rdi; mov rcx, 5; test eax, 0x80000001 */
	B("\x48\x21\xf8\x48\xf7\xd0\x48\xf7\xe1"), /* and rax, rdi; not rax; mul rcx */
	/* div rcx; div ecx; div qword [rbx + 0x1100]; div dword [rbx + 0x1100] */
	B("\xba\x7f\x00\x00\x00\x41\xbf\x03\x00\x00\x00\x48\xf7\xf1"),
	B("\xba\x7f\x00\x00\x00\x41\xbf\x02\x00\x00\x00\xf7\xf1"),
	B("\xba\x7f\x00\x00\x00\x41\xbf\x07\x00\x00\x00\x48\xf7\xb3\x00\x11\x00\x00"),
	B("\xba\x7f\x00\x00\x00\x41\xbf\x06\x00\x00\x00\xf7\xb3\x00\x11\x00\x00"),
};

static void load_forms(void)
{
	uint64_t p = FLAGS_CODE, inner, outer;
	int32_t rel;

	/* xor ebp, ebp; mov r13d, 20; outer: xor r14d, r14d; inner: */
	PUT(p, "\x31\xed\x41\xbd\x14\x00\x00\x00");
	outer = p;
	PUT(p, "\x45\x31\xf6");
	inner = p;
	/* mov rax, r14; shl rax, 4; mov rsi, [rbx + rax]; mov rdi, [rbx + rax + 8] */
	PUT(p, "\x4c\x89\xf0\x48\xc1\xe0\x04\x48\x8b\x34\x03\x48\x8b\x7c\x03\x08");
	for (size_t n = 0; n < sizeof(forms) / sizeof(forms[0]); n++) {
		/* mov rax, rsi; mov rdx, rdi; mov rcx, rdi; mov [rbx + 0x1100], rdi */
		p = producer(p, "\x48\x89\xf0\x48\x89\xfa\x48\x89\xf9\x48\x89\xbb\x00\x11\x00\x00",
			     16);
		/* mov r10d, 0; mov r11d, 0; mov r12d, 0 */
		PUT(p, "\x41\xba\x00\x00\x00\x00\x41\xbb\x00\x00\x00\x00\x41\xbc\x00\x00\x00\x00");
		p = put(p, forms[n].b, forms[n].n);
		/* setl r10b; mov r9, [rbx + 0x1100]; setbe r11b; jmp +0; sets r12b; pushfq;
		 * pop r8 */
		PUT(p, "\x41\x0f\x9c\xc2\x4c\x8b\x8b\x00\x11\x00\x00\x41\x0f\x96\xc3\xeb\x00");
		PUT(p, "\x41\x0f\x98\xc4\x9c\x41\x58");
		p = fold_reg(p, 0);
		p = fold_reg(p, 1);
		p = fold_reg(p, 2);
		for (int r = 8; r <= 12; r++)
			p = fold_reg(p, r);
	}
	/* inc r14; cmp r14d, pairs; jne inner; dec r13; jne outer; hlt */
	PUT(p, "\x49\xff\xc6\x41\x81\xfe");
	rel = (int32_t)(NEDGE * NEDGE);
	memcpy(ram + p, &rel, 4);
	p += 4;
	PUT(p, "\x0f\x85");
	rel = (int32_t)(inner - (p + 4));
	memcpy(ram + p, &rel, 4);
	p += 4;
	PUT(p, "\x49\xff\xcd\x0f\x85");
	rel = (int32_t)(outer - (p + 4));
	memcpy(ram + p, &rel, 4);
	p += 4;
	PUT(p, "\xf4");
	emu_code_write(vm, FLAGS_CODE, (unsigned int)(p - FLAGS_CODE));
}

/*
 * LINK_CODE: xor ebx,ebx; mov edi,2; 1: mov ecx,1000; 2: call LINK_FN; add ebx,eax; dec ecx;
 * jnz 2b; mov rax,0x400083; mov [0x3008],rax; invlpg [LINK_FN]; dec edi; jnz 1b; hlt
 * -- LINK_FN: mov eax,1; ret, and where the page table maps it afterwards (LINK_FN2):
 * mov eax,2; ret. The sum is 1000 * 1 + 1000 * 2.
 */
static void load_link(void)
{
	static const uint8_t p[] = { 0x31, 0xdb, 0xbf, 0x02, 0x00, 0x00, 0x00, 0xb9, 0xe8,
				     0x03, 0x00, 0x00, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x01,
				     0xc3, 0xff, 0xc9, 0x75, 0xf5, 0x48, 0xc7, 0xc0, 0x83,
				     0x00, 0x40, 0x00, 0x48, 0x89, 0x04, 0x25, 0x08, 0x30,
				     0x00, 0x00, 0x0f, 0x01, 0x3c, 0x25, 0x00, 0x01, 0x20,
				     0x00, 0xff, 0xcf, 0x75, 0xd5, 0xf4 };
	int32_t rel = (int32_t)(LINK_FN - (LINK_CODE + 17));

	w64(0x3008, (1ULL << 21) | 0x83); /* the 1:1 mapping back */
	memcpy(ram + LINK_CODE, p, sizeof(p));
	memcpy(ram + LINK_CODE + 13, &rel, 4);
	memcpy(ram + LINK_FN, "\xb8\x01\x00\x00\x00\xc3", 6);
	memcpy(ram + LINK_FN2, "\xb8\x02\x00\x00\x00\xc3", 6);
	emu_code_write(vm, LINK_CODE, sizeof(p));
	emu_code_write(vm, LINK_FN, 6);
	emu_code_write(vm, LINK_FN2, 6);
}

/* DMA_CODE: xor ebx,ebx; mov ecx,100000; 1: call DMA_FN; add ebx,eax; dec ecx; jnz 1b; hlt
 * -- DMA_FN: mov eax,1; ret */
static void load_dma(void)
{
	static const uint8_t p[] = { 0x31, 0xdb, 0xb9, 0xa0, 0x86, 0x01, 0x00, 0xe8, 0x00, 0x00,
				     0x00, 0x00, 0x01, 0xc3, 0xff, 0xc9, 0x75, 0xf5, 0xf4 };
	int32_t rel = (int32_t)(DMA_FN - (DMA_CODE + 12));

	memcpy(ram + DMA_CODE, p, sizeof(p));
	memcpy(ram + DMA_CODE + 8, &rel, 4);
	memcpy(ram + DMA_FN, "\xb8\x01\x00\x00\x00\xc3", 6);
	emu_code_write(vm, DMA_CODE, sizeof(p));
	emu_code_write(vm, DMA_FN, 6);
}

static void load(const uint8_t *code, size_t n)
{
	memset(ram + CODE, 0xf4, 0x100);
	memcpy(ram + CODE, code, n);
	emu_code_write(vm, CODE, 0x100);
}

int main(void)
{
	struct accel_exit ex;
	struct result res[2];
	uint32_t smc_sum = 0, big_sum = 0;
	int have_jit;

	ram = emu_test_machine(&m, &vcpu0, 1, 16 << 20, &vm);
	if (!ram)
		return 77;
	/* identity map of the first GiB with 2 MiB pages; 1-2 GiB not present */
	emu_test_map_2m(ram, PML4, 3);
	/* GDT: null, 64-bit code 0x08, data 0x10; IDT: #PF -> HANDLER (hlt) */
	w64(GDT + 8, 0x00209a0000000000ULL);
	w64(GDT + 16, 0x0000920000000000ULL);
	emu_test_gate64(ram, IDT, 14, HANDLER, 0);
	ram[HANDLER] = 0xf4;
	/* #DE -> DE_HANDLER: add [rsp], r15 (the DIV's length); iretq */
	emu_test_gate64(ram, IDT, 0, DE_HANDLER, 0);
	memcpy(ram + DE_HANDLER, "\x4c\x01\x3c\x24\x48\xcf", 6);

	for (uint32_t ecx = 1000; ecx; ecx--)
		smc_sum += ecx & 7;

	tap_plan(24);
	{
		struct emu_cpu *c = new_cpu(1, &ex);

		have_jit = c && c->jit;
		emu_cpu_free(c);
	}
#if defined(__x86_64__)
	tap_ok(have_jit, "host code is on by default on an x86-64 host");
#else
	tap_skip("no host code on this architecture: both runs use the interpreter");
#endif

	/* 1. self-modifying code in a hot loop */
	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;

		load(p_smc, sizeof(p_smc));
		c = new_cpu(jit, &ex);
		run(c, 1000000);
		save(c, &res[jit]);
		emu_cpu_free(c);
	}
	tap_ok(res[1].state == EMU_HALTED && (uint32_t)res[1].r[3] == smc_sum,
	       "a loop rewriting its own ADD immediate sums %u (expected %u)",
	       (uint32_t)res[1].r[3], smc_sum);
	tap_ok(same(&res[0], &res[1]),
	       "the same registers and instruction count as the interpreter (%llu, %llu)",
	       (unsigned long long)res[1].icount, (unsigned long long)res[0].icount);

	/* 1b. the same through a read-modify-write of the immediate */
	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;

		load(p_smc_rmw, sizeof(p_smc_rmw));
		c = new_cpu(jit, &ex);
		run(c, 1000000);
		save(c, &res[jit]);
		emu_cpu_free(c);
	}
	tap_ok(res[1].state == EMU_HALTED && (uint32_t)res[1].r[3] == 1225,
	       "a hot loop incrementing its own ADD immediate (add dword [rdx], 1) sums %u "
	       "(expected 1225)",
	       (uint32_t)res[1].r[3]);
	tap_ok(same(&res[0], &res[1]),
	       "the same registers and instruction count as the interpreter (%llu, %llu)",
	       (unsigned long long)res[1].icount, (unsigned long long)res[0].icount);

	/* 2. a page fault in the middle of a block */
	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;
		uint64_t pushed_rip, pf_err;

		load(p_fault, sizeof(p_fault));
		c = new_cpu(jit, &ex);
		run(c, 1000);
		save(c, &res[jit]);
		memcpy(&pf_err, ram + c->r[4], 8);
		memcpy(&pushed_rip, ram + c->r[4] + 8, 8);
		if (jit)
			tap_ok(c->state == EMU_HALTED && c->rip == HANDLER + 1 &&
				       pushed_rip == P_FAULT_INSN && c->cr2 == 0x40000000 &&
				       (uint32_t)c->r[3] == 19 * 4 + 3 && c->r[1] == 1,
			       "#PF in mid-block: RIP %#llx (expected %#llx), CR2 %#llx, ebx %u "
			       "(expected 79: the ADD before it done, the one after it not)",
			       (unsigned long long)pushed_rip, (unsigned long long)P_FAULT_INSN,
			       (unsigned long long)c->cr2, (uint32_t)c->r[3]);
		(void)pf_err;
		emu_cpu_free(c);
	}
	tap_ok(same(&res[0], &res[1]), "the fault leaves the same state as in the interpreter");

	/* 3. chained blocks, the second rewritten by a device write between two runs */
	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;
		uint32_t ecx_mid, esi_mid;

		load_chain();
		c = new_cpu(jit, &ex);
		run(c, 2 + 5 * 40000); /* 40000 iterations: ends at the loop head */
		ecx_mid = (uint32_t)c->r[1];
		esi_mid = (uint32_t)c->r[6];
		ram[P_CHAIN_IMM] = 2;
		emu_code_write(vm, P_CHAIN_IMM, 1); /* what a device's DMA into RAM calls */
		run(c, 10000000);
		save(c, &res[jit]);
		if (jit)
			tap_ok(c->state == EMU_HALTED && esi_mid == 40000 && ecx_mid == 60000 &&
				       (uint32_t)c->r[6] == 40000 + 2 * 60000,
			       "a chained block rewritten by a device write runs its new code: "
			       "esi %u then %u (expected 40000, 160000)",
			       esi_mid, (uint32_t)c->r[6]);
		emu_cpu_free(c);
	}
	tap_ok(same(&res[0], &res[1]), "the same registers and instruction count (%llu, %llu)",
	       (unsigned long long)res[1].icount, (unsigned long long)res[0].icount);

	/* 4. Jcc at the start of a block, on the lazy flags of a CMP or TEST before it */
	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;
		uint32_t want = load_conds();

		c = new_cpu(jit, &ex);
		c->r[6] = 5;
		c->r[7] = 7;
		run(c, 1000000);
		save(c, &res[jit]);
		if (jit)
			tap_ok(c->state == EMU_HALTED && (uint32_t)c->r[5] == want,
			       "the 16 conditions after CMP and TEST in the block before: not "
			       "taken "
			       "%#x (expected %#x)",
			       (uint32_t)c->r[5], want);
		emu_cpu_free(c);
	}
	tap_ok(same(&res[0], &res[1]), "the same registers and instruction count (%llu, %llu)",
	       (unsigned long long)res[1].icount, (unsigned long long)res[0].icount);

	/* 5. more code than the code cache holds */
	setenv("CABIN_EMU_JIT_CACHE", "64K", 1);
	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;

		big_sum = load_big();
		c = new_cpu(jit, &ex);
		c->rip = BIG - 7;
		run(c, 10000000);
		save(c, &res[jit]);
		if (jit) {
			tap_ok(c->state == EMU_HALTED && (uint32_t)c->r[3] == big_sum,
			       "%d blocks of 32 instructions run 40 times through a 64 KiB code "
			       "cache: sum %u "
			       "(expected %u)",
			       BIG_BLOCKS, (uint32_t)c->r[3], big_sum);
#if defined(__x86_64__)
			tap_ok(emu_jit_flushes(c->jit) > 0,
			       "the full code cache was flushed %lu times",
			       emu_jit_flushes(c->jit));
#else
			tap_skip("no host code on this architecture");
#endif
		}
		emu_cpu_free(c);
	}
	unsetenv("CABIN_EMU_JIT_CACHE");
	tap_ok(same(&res[0], &res[1]), "the same registers and instruction count (%llu, %llu)",
	       (unsigned long long)res[1].icount, (unsigned long long)res[0].icount);

	/* 6. flags read by SETcc, CMOVcc, ADC and SBB */
	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;

		load_flags();
		c = new_cpu(jit, &ex);
		c->rip = FLAGS_CODE;
		c->r[3] = FLAGS_TAB;
		run(c, 100000000);
		save(c, &res[jit]);
		if (jit)
			tap_ok(c->state == EMU_HALTED && c->r[5] != 0,
			       "the flags program ends (%llu instructions, hash %#llx)",
			       (unsigned long long)c->icount, (unsigned long long)c->r[5]);
		emu_cpu_free(c);
	}
	tap_ok(same(&res[0], &res[1]),
	       "the same hash of every flag result, registers and count "
	       "(%#llx, %#llx)",
	       (unsigned long long)res[1].r[5], (unsigned long long)res[0].r[5]);

	/* 7. the forms that have inline host code besides ALU, moves and branches */
	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;

		load_forms();
		c = new_cpu(jit, &ex);
		c->rip = FLAGS_CODE;
		c->r[3] = FLAGS_TAB;
		run(c, 100000000);
		save(c, &res[jit]);
		if (jit)
			tap_ok(c->state == EMU_HALTED && c->r[5] != 0,
			       "the forms program ends (%llu instructions, hash %#llx)",
			       (unsigned long long)c->icount, (unsigned long long)c->r[5]);
		emu_cpu_free(c);
	}
	tap_ok(same(&res[0], &res[1]),
	       "NEG NOT MUL IMUL DIV, shifts and rotates by 1, CL and imm, TEST eAX, MOVSX, "
	       "16-bit moves, ALU and INC/DEC on memory: the same results, flags, registers and "
	       "count (%#llx, %#llx)",
	       (unsigned long long)res[1].r[5], (unsigned long long)res[0].r[5]);

	/* 8. a linked exit into another page, after that page is remapped */
	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;

		load_link();
		c = new_cpu(jit, &ex);
		c->rip = LINK_CODE;
		run(c, 1000000);
		save(c, &res[jit]);
		if (jit) {
			tap_ok(c->state == EMU_HALTED && (uint32_t)c->r[3] == 3000,
			       "a linked CALL follows the remapped page: sum %u (expected 3000)",
			       (uint32_t)c->r[3]);
#if defined(__x86_64__)
			tap_ok(c->stat_links > 0, "exits were linked (%lu)", c->stat_links);
#else
			tap_skip("no host code on this architecture");
#endif
		}
		emu_cpu_free(c);
	}
	w64(0x3008, (1ULL << 21) | 0x83);
	tap_ok(same(&res[0], &res[1]), "the same registers and instruction count (%llu, %llu)",
	       (unsigned long long)res[1].icount, (unsigned long long)res[0].icount);

	/* 9. a linked exit into another page, that page rewritten by a device write */
	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;
		uint32_t ebx_mid;

		load_dma();
		c = new_cpu(jit, &ex);
		c->rip = DMA_CODE;
		run(c, 2 + 6 * 40000); /* 40000 iterations: ends at the CALL */
		ebx_mid = (uint32_t)c->r[3];
		ram[DMA_FN + 1] = 2;
		emu_code_write(vm, DMA_FN + 1, 1);
		run(c, 10000000);
		save(c, &res[jit]);
		if (jit)
			tap_ok(c->state == EMU_HALTED && ebx_mid == 40000 &&
				       (uint32_t)c->r[3] == 40000 + 2 * 60000,
			       "a linked CALL into a page rewritten by a device write runs its new "
			       "code: ebx %u then %u (expected 40000, 160000)",
			       ebx_mid, (uint32_t)c->r[3]);
		emu_cpu_free(c);
	}
	tap_ok(same(&res[0], &res[1]), "the same registers and instruction count (%llu, %llu)",
	       (unsigned long long)res[1].icount, (unsigned long long)res[0].icount);

	/* 10. CABIN_EMU_JIT=off gives a CPU without host code */
	{
		struct emu_cpu *c = new_cpu(0, &ex);

		tap_ok(c && !c->jit, "CABIN_EMU_JIT=off: the interpreter only");
		emu_cpu_free(c);
	}
	unsetenv("CABIN_EMU_JIT");
	emu_vm_free(vm);
	return tap_done();
}
