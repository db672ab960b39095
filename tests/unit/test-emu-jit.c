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
 *    flushed and the program still computes its sum.
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
#define BIG 0x20000ULL
#define BIG_BLOCKS 150
#define PML4 0x1000ULL
#define GDT 0x5000ULL
#define IDT 0x6000ULL
#define STACK 0x80000ULL

static struct machine m;
static struct vcpu vcpu0;
static struct emu_vm *vm;
static uint8_t *ram;

static void w64(uint64_t pa, uint64_t v)
{
	memcpy(ram + pa, &v, 8);
}

static void seg(struct x86_segment *s, uint16_t sel, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = code ? 0xb : 0x3;
	s->s = 1;
	s->present = 1;
	s->l = (uint8_t)code;
	s->db = (uint8_t)!code;
	s->g = 1;
}

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

/* run until HLT or @limit instructions */
static void run(struct emu_cpu *c, uint64_t limit)
{
	while (c->state == EMU_RUNNING && c->icount < limit) {
		c->exit_ready = 0;
		c->budget = limit - c->icount < 100000 ? limit - c->icount : 100000;
		emu_exec(c);
		if (c->exit_ready)
			break;
	}
}

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
	w64(PML4, 0x2000 | 3);
	w64(0x2000, 0x3000 | 3);
	for (int i = 0; i < 8; i++)
		w64(0x3000 + 8 * (uint64_t)i, ((uint64_t)i << 21) | 0x83);
	/* GDT: null, 64-bit code 0x08, data 0x10; IDT: #PF -> HANDLER (hlt) */
	w64(GDT + 8, 0x00209a0000000000ULL);
	w64(GDT + 16, 0x0000920000000000ULL);
	w64(IDT + 16 * 14, (HANDLER & 0xffff) | (0x08ULL << 16) | (0x8eULL << 40) |
				   ((HANDLER >> 16 & 0xffff) << 48));
	w64(IDT + 16 * 14 + 8, HANDLER >> 32);
	ram[HANDLER] = 0xf4;

	for (uint32_t ecx = 1000; ecx; ecx--)
		smc_sum += ecx & 7;

	tap_plan(13);
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

	/* 6. CABIN_EMU_JIT=off gives a CPU without host code */
	{
		struct emu_cpu *c = new_cpu(0, &ex);

		tap_ok(c && !c->jit, "CABIN_EMU_JIT=off: the interpreter only");
		emu_cpu_free(c);
	}
	unsetenv("CABIN_EMU_JIT");
	emu_vm_free(vm);
	return tap_done();
}
