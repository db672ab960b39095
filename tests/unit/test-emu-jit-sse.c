/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-jit-sse: the SSE forms that the host code of decoded blocks
 * (src/emu/jit-x86_64.c) runs inline must leave what the interpreter leaves.
 * Each form runs in a hot loop (translated after a few rounds) twice, with the
 * host code and with CABIN_EMU_JIT=off, from the same registers and memory; both
 * runs must end with the same XMM and general registers, flags, MXCSR, memory and
 * instruction count:
 *  - 16-byte loads and stores (aligned, unaligned, crossing a page), register moves;
 *  - the packed-integer forms of 66 0F, the bitwise and shuffle forms of 0F/66 0F,
 *    SSSE3 (0F 38, PALIGNR), PSHUFD/HW/LW and the shifts by an immediate;
 *  - MOVD/MOVQ between XMM, general registers and memory, PMOVMSKB, MOVMSKPS/PD;
 *  - MOVSS/MOVSD, MOVLPS/MOVHPS/MOVLPD/MOVHPD, MOVHLPS/MOVLHPS, UNPCKxPx, MOVNTx,
 *    LDDQU and the SSE4.1/4.2 integer forms of 0F 38; PINSRx/PEXTRx, the blends,
 *    MOVSLDUP/MOVSHDUP/MOVDDUP, PMOVSX/PMOVZX;
 *  - a selection of them in 32-bit code, with flat segments and with a DS base;
 *  - faults: #GP of a misaligned MOVDQA, #PF of a load, #NM after MOV CR0 sets TS
 *    inside the loop, #UD after CR4.OSFXSR is cleared between two runs, and a store
 *    that rewrites an instruction of its own block.
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
#define HANDLERS 0x11000ULL /* vector v: hlt at HANDLERS + 16 * v */
#define PML4 0x1000ULL
#define GDT 0x5000ULL
#define IDT 0x6000ULL
#define STACK 0x80000ULL
#define DATA 0x6ff00ULL /* 1 KiB across the page boundary at 0x70000 */
#define OUT 0x77f00ULL	/* 1 KiB across the page boundary at 0x78000 */
#define BUF 0x400
#define ITERS 40

static struct machine m;
static struct vcpu vcpu0;
static struct emu_vm *vm;
static uint8_t *ram;

#define w64(pa, v) emu_test_w64(ram, pa, v)

#define seg(s, sel, code) emu_test_seg(s, sel, code, code, !(code))

static uint64_t rng_state;
/* the CPU new_cpu() makes: 32-bit protected mode without paging, and DS's base */
static int g_mode32;
static uint64_t g_ds_base;
static uint64_t g_hlt; /* where load_loop() put its HLT */

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* a byte that is often at an edge (equal bytes for the compares, sign bits) */
static uint8_t rnd_byte(void)
{
	static const uint8_t edge[] = { 0, 1, 0x7f, 0x80, 0xff, 0x55 };
	uint64_t v = rnd();

	return (v & 1) ? edge[(v >> 8) % sizeof(edge)] : (uint8_t)(v >> 16);
}

/* a 64-bit CPU at CODE, with the host code on or off, registers and buffers from @seed */
static struct emu_cpu *new_cpu(int jit, struct accel_exit *ex, uint64_t seed)
{
	struct emu_cpu *c;

	setenv("CABIN_EMU_JIT", jit ? "on" : "off", 1);
	c = emu_cpu_new(&m, vm, 0);
	if (!c)
		return NULL;
	c->exit = ex;
	vcpu0.accel = c;
	c->cr3 = PML4;
	c->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	c->efer = EFER_LME | EFER_LMA;
	c->cr0 = CR0_PE | CR0_PG | CR0_ET | CR0_MP;
	seg(&c->seg[SEG_CS], 0x08, 1);
	seg(&c->seg[SEG_SS], 0x10, 0);
	seg(&c->seg[SEG_DS], 0x10, 0);
	c->gdt.base = GDT;
	c->gdt.limit = 0x17;
	c->idt.base = IDT;
	c->idt.limit = 0xfff;
	c->cpl = 0;
	c->rip = CODE;
	c->state = EMU_RUNNING;
	emu_flags_set(c, 2);
	if (g_mode32) {
		c->cr0 = CR0_PE | CR0_ET | CR0_MP;
		c->cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
		c->efer = 0;
		c->seg[SEG_CS].l = 0;
		c->seg[SEG_CS].db = 1;
		c->seg[SEG_DS].base = g_ds_base;
	}
	emu_tlb_flush(c, 0);
	emu_update_mode(c);

	rng_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	for (int r = 0; r < 16; r++)
		c->r[r] = rnd();
	if (g_mode32)
		for (int r = 0; r < 16; r++)
			c->r[r] &= 0xffffffff;
	c->r[4] = STACK;
	c->r[6] = DATA;
	c->r[7] = OUT;
	for (int x = 0; x < 16; x++)
		for (int b = 0; b < 16; b++)
			c->xmm[x].b[b] = rnd_byte();
	for (int b = 0; b < BUF; b++) {
		ram[DATA + (uint64_t)b] = rnd_byte();
		ram[OUT + (uint64_t)b] = rnd_byte();
	}
	memset(ram + STACK - 0x100, 0, 0x100);
	return c;
}

#define run(c, limit) emu_test_run_until(c, limit)

struct result {
	uint64_t r[16], rip, icount, flags, cr2;
	union emu_xmm xmm[16];
	uint32_t mxcsr;
	int state;
	uint8_t data[BUF], out[BUF], stack[0x100];
};

static void save(const struct emu_cpu *c, struct result *r)
{
	memcpy(r->r, c->r, sizeof(r->r));
	memcpy(r->xmm, c->xmm, sizeof(r->xmm));
	r->rip = c->rip;
	r->icount = c->icount;
	r->flags = emu_flags_get((struct emu_cpu *)c);
	r->cr2 = c->cr2;
	r->mxcsr = c->mxcsr;
	r->state = (int)c->state;
	memcpy(r->data, ram + DATA, BUF);
	memcpy(r->out, ram + OUT, BUF);
	memcpy(r->stack, ram + STACK - 0x100, 0x100);
}

/* what differs between two runs (NULL: nothing) */
static const char *differ(const struct result *a, const struct result *b)
{
	if (memcmp(a->xmm, b->xmm, sizeof(a->xmm)))
		return "xmm";
	if (memcmp(a->r, b->r, sizeof(a->r)))
		return "gpr";
	if (a->rip != b->rip || a->state != b->state)
		return "rip/state";
	if (a->icount != b->icount)
		return "icount";
	if (a->flags != b->flags || a->mxcsr != b->mxcsr || a->cr2 != b->cr2)
		return "flags/mxcsr/cr2";
	if (memcmp(a->data, b->data, BUF) || memcmp(a->out, b->out, BUF))
		return "memory";
	if (memcmp(a->stack, b->stack, sizeof(a->stack)))
		return "stack";
	return NULL;
}

struct form {
	const char *b;
	size_t n;
};
#define F(s)                                                                                       \
	{                                                                                          \
		s, sizeof(s) - 1                                                                   \
	}

static uint64_t put(uint64_t p, const void *bytes, size_t n)
{
	memcpy(ram + p, bytes, n);
	return p + n;
}
#define PUT(p, s) ((p) = put((p), (s), sizeof(s) - 1))

/*
 * mov ecx, ITERS; 1: mov edx, ecx; shl edx, 4; [@pre]; @form; paddq xmm2, xmm1;
 * pshufd xmm3, xmm2, 0x4e; pxor xmm1, xmm3; the same on xmm12, xmm9 and xmm4;
 * rol rbx, 17; rol r9, 11; dec ecx; jnz 1b; hlt -- rdx steps the memory operands through the
 * buffers 16 bytes at a time, the mixing feeds each result into the next round and leaves no
 * register half zero that a form should zero
 */
static void load_loop(const struct form *pre, const struct form *f)
{
	uint64_t p = CODE, top;
	int32_t rel;

	memset(ram + CODE, 0xf4, 0x200);
	PUT(p, "\xb9\x28\x00\x00\x00");
	top = p;
	PUT(p, "\x89\xca\xc1\xe2\x04");
	if (pre)
		p = put(p, pre->b, pre->n);
	p = put(p, f->b, f->n);
	PUT(p, "\x66\x0f\xd4\xd1\x66\x0f\x70\xda\x4e\x66\x0f\xef\xcb");
	if (g_mode32) {
		PUT(p, "\xc1\xc3\x11\xff\xc9\x0f\x85"); /* rol ebx, 17; dec ecx; jnz */
	} else {
		PUT(p, "\x66\x45\x0f\xd4\xe1\x66\x41\x0f\x70\xe4\x4e\x66\x44\x0f\xef\xcc");
		PUT(p, "\x48\xc1\xc3\x11\x49\xc1\xc1\x0b\xff\xc9\x0f\x85");
	}
	rel = (int32_t)(top - (p + 4));
	memcpy(ram + p, &rel, 4);
	p += 4;
	g_hlt = p;
	PUT(p, "\xf4");
	emu_code_write(vm, CODE, 0x200);
}

/* run @f in the loop with and without the host code; Return: what differs, or NULL */
static const char *check_form(const struct form *pre, const struct form *f, uint64_t seed,
			      struct result *res)
{
	struct accel_exit ex;

	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;

		load_loop(pre, f);
		c = new_cpu(jit, &ex, seed);
		run(c, 100000);
		save(c, &res[jit]);
		emu_cpu_free(c);
	}
	return differ(&res[0], &res[1]);
}

/* every form of @fs (@n): a TAP point named @what, listing the forms that differ */
static void check_group(const char *what, const struct form *fs, size_t n, int want_halt)
{
	static struct result res[2];
	int bad = 0, halted = 1;
	char list[512] = "";

	for (size_t k = 0; k < n; k++) {
		const char *d = check_form(NULL, &fs[k], k + 1, res);

		halted &= res[1].state == EMU_HALTED && res[1].rip == g_hlt + 1;
		if (d) {
			size_t l = strlen(list);

			bad++;
			if (l + 64 < sizeof(list)) {
				snprintf(list + l, sizeof(list) - l, " [");
				for (size_t b = 0; b < fs[k].n && b < 8; b++) {
					l = strlen(list);
					snprintf(list + l, sizeof(list) - l, "%s%02x", b ? " " : "",
						 (uint8_t)fs[k].b[b]);
				}
				l = strlen(list);
				snprintf(list + l, sizeof(list) - l, ": %s]", d);
			}
		}
	}
	if (!want_halt)
		halted = 1;
	tap_ok(!bad && halted, "%s: %zu forms as in the interpreter (%d differ%s)%s", what, n, bad,
	       list, halted ? "" : ", a loop did not end at its HLT");
}

static const struct form moves[] = {
	F("\x66\x0f\x6f\x0c\x16"),     /* movdqa xmm1, [rsi + rdx] */
	F("\xf3\x0f\x6f\x4c\x16\x07"), /* movdqu xmm1, [rsi + rdx + 7]: crosses 0x70000 */
	F("\x0f\x28\x0c\x16"),	       /* movaps xmm1, [rsi + rdx] */
	F("\x0f\x10\x4c\x16\x03"),     /* movups xmm1, [rsi + rdx + 3] */
	F("\x66\x0f\x28\x0c\x16"),     /* movapd */
	F("\x66\x0f\x10\x4c\x16\x05"), /* movupd */
	F("\x66\x44\x0f\x6f\x24\x16"), /* movdqa xmm12, [rsi + rdx] */
	F("\x66\x0f\x6f\xca"),	       /* movdqa xmm1, xmm2 */
	F("\xf3\x45\x0f\x6f\xcc"),     /* movdqu xmm9, xmm12 */
	F("\x0f\x28\xca"),	       /* movaps xmm1, xmm2 */
	F("\x66\x0f\x10\xd1"),	       /* movupd xmm2, xmm1 */
	F("\x66\x0f\x7f\x0c\x17"),     /* movdqa [rdi + rdx], xmm1 */
	F("\xf3\x0f\x7f\x4c\x17\x09"), /* movdqu [rdi + rdx + 9], xmm1: crosses 0x78000 */
	F("\x0f\x29\x0c\x17"),	       /* movaps [rdi + rdx], xmm1 */
	F("\x0f\x11\x4c\x17\x01"),     /* movups [rdi + rdx + 1], xmm1 */
	F("\x66\x0f\x29\x0c\x17"),     /* movapd */
	F("\x66\x0f\x11\x4c\x17\x0b"), /* movupd */
	F("\x66\x44\x0f\x7f\x0c\x17"), /* movdqa [rdi + rdx], xmm9 */
	F("\x66\x0f\x7f\xca"),	       /* movdqa xmm2, xmm1 (store form) */
	F("\x0f\x29\xd1"),	       /* movaps xmm1, xmm2 (store form) */
	F("\x66\x0f\x6f\x4c\x16\x10\x66\x0f\x7f\x0c\x17"), /* load then store */
	F("\x66\x0f\xe7\x0c\x17"),			   /* movntdq [rdi + rdx], xmm1 */
	F("\x0f\x2b\x0c\x17"),				   /* movntps */
	F("\x66\x0f\x2b\x0c\x17"),			   /* movntpd */
	F("\xf2\x0f\xf0\x4c\x16\x03"),			   /* lddqu xmm1, [rsi + rdx + 3] */
};

static const struct form scalars[] = {
	F("\xf3\x0f\x10\xca"),	       /* movss xmm1, xmm2 */
	F("\xf2\x0f\x10\xca"),	       /* movsd xmm1, xmm2 */
	F("\xf3\x45\x0f\x10\xcc"),     /* movss xmm9, xmm12 */
	F("\xf3\x0f\x10\x4c\x16\x03"), /* movss xmm1, [rsi + rdx + 3] */
	F("\xf2\x0f\x10\x4c\x16\xfd"), /* movsd xmm1, [rsi + rdx - 3]: crosses 0x70000 */
	F("\xf3\x0f\x11\xca"),	       /* movss xmm2, xmm1 */
	F("\xf2\x0f\x11\xca"),	       /* movsd xmm2, xmm1 */
	F("\xf3\x0f\x11\x4c\x17\x05"), /* movss [rdi + rdx + 5], xmm1 */
	F("\xf2\x0f\x11\x4c\x17\x09"), /* movsd [rdi + rdx + 9], xmm1 */
	F("\x0f\x12\x4c\x16\x03"),     /* movlps xmm1, [rsi + rdx + 3] */
	F("\x66\x0f\x12\x4c\x16\x07"), /* movlpd */
	F("\x0f\x16\x4c\x16\x01"),     /* movhps */
	F("\x66\x0f\x16\x4c\x16\xfd"), /* movhpd */
	F("\x0f\x13\x4c\x17\x03"),     /* movlps [rdi + rdx + 3], xmm1 */
	F("\x66\x0f\x13\x4c\x17\x05"), /* movlpd */
	F("\x0f\x17\x4c\x17\x0b"),     /* movhps */
	F("\x66\x0f\x17\x4c\x17\xf9"), /* movhpd */
	F("\x0f\x12\xca"),	       /* movhlps xmm1, xmm2 */
	F("\x0f\x16\xca"),	       /* movlhps xmm1, xmm2 */
	F("\x45\x0f\x16\xe1"),	       /* movlhps xmm12, xmm9 */
	F("\x0f\x14\xca"),	       /* unpcklps */
	F("\x0f\x15\xca"),	       /* unpckhps */
	F("\x66\x0f\x14\xca"),	       /* unpcklpd */
	F("\x66\x0f\x15\xca"),	       /* unpckhpd */
	F("\x0f\x14\x0c\x16"),	       /* unpcklps xmm1, [rsi + rdx] */
	F("\x66\x0f\x38\x28\xca"),     /* pmuldq */
	F("\x66\x0f\x38\x29\xca"),     /* pcmpeqq */
	F("\x66\x0f\x38\x2b\xca"),     /* packusdw */
	F("\x66\x0f\x38\x37\xca"),     /* pcmpgtq */
	F("\x66\x0f\x38\x38\xca"),     /* pminsb */
	F("\x66\x0f\x38\x39\xca"),     /* pminsd */
	F("\x66\x0f\x38\x3a\xca"),     /* pminuw */
	F("\x66\x0f\x38\x3b\xca"),     /* pminud */
	F("\x66\x0f\x38\x3c\xca"),     /* pmaxsb */
	F("\x66\x0f\x38\x3d\xca"),     /* pmaxsd */
	F("\x66\x0f\x38\x3e\xca"),     /* pmaxuw */
	F("\x66\x0f\x38\x3f\xca"),     /* pmaxud */
	F("\x66\x0f\x38\x40\xca"),     /* pmulld */
	F("\x66\x0f\x38\x40\x0c\x16"), /* pmulld xmm1, [rsi + rdx] */
	F("\x66\x45\x0f\x38\x3d\xe1"), /* pmaxsd xmm12, xmm9 */
	F("\x66\x0f\x38\x29\xc9\x66\x0f\x38\x37\xca"), /* pcmpeqq xmm1, xmm1; pcmpgtq */
};

static const struct form movds[] = {
	F("\x66\x0f\x6e\xcb"),		   /* movd xmm1, ebx */
	F("\x66\x48\x0f\x6e\xcb"),	   /* movq xmm1, rbx */
	F("\x66\x45\x0f\x6e\xc9"),	   /* movd xmm9, r9d */
	F("\x66\x0f\x6e\x4c\x16\x03"),	   /* movd xmm1, [rsi + rdx + 3] */
	F("\x66\x48\x0f\x6e\x4c\x16\xfd"), /* movq xmm1, [rsi + rdx - 3]: crosses 0x70000 */
	F("\x66\x0f\x7e\xcb"),		   /* movd ebx, xmm1 */
	F("\x66\x48\x0f\x7e\xcb"),	   /* movq rbx, xmm1 */
	F("\x66\x4d\x0f\x7e\xc9"),	   /* movq r9, xmm9 */
	F("\x66\x0f\x7e\x4c\x17\x05"),	   /* movd [rdi + rdx + 5], xmm1 */
	F("\x66\x48\x0f\x7e\x4c\x17\xf9"), /* movq [rdi + rdx - 7], xmm1 */
	F("\xf3\x0f\x7e\xca"),		   /* movq xmm1, xmm2 */
	F("\xf3\x0f\x7e\xc9"),		   /* movq xmm1, xmm1 */
	F("\xf3\x0f\x7e\x4c\x16\x0d"),	   /* movq xmm1, [rsi + rdx + 13] */
	F("\x66\x0f\xd6\xca"),		   /* movq xmm2, xmm1 */
	F("\x66\x0f\xd6\x4c\x17\x0f"),	   /* movq [rdi + rdx + 15], xmm1 */
	F("\x66\x0f\xd7\xc1\x49\x01\xc0"), /* pmovmskb eax, xmm1; add r8, rax */
	F("\x66\x41\x0f\xd7\xd9"),	   /* pmovmskb ebx, xmm9 */
	F("\x0f\x50\xc1\x49\x01\xc0"),	   /* movmskps eax, xmm1; add r8, rax */
	F("\x66\x0f\x50\xc1\x49\x01\xc0"), /* movmskpd eax, xmm1; add r8, rax */
	F("\x66\x0f\x74\xca\x66\x0f\xd7\xc1\x49\x01\xc0"), /* pcmpeqb; pmovmskb; add */
};

static const struct form lanes[] = {
	F("\x66\x0f\xc5\xc1\x03\x49\x01\xc0"),	   /* pextrw eax, xmm1, 3; add r8, rax */
	F("\x66\x41\x0f\xc5\xd9\x0b"),		   /* pextrw ebx, xmm9, 11 (lane 3) */
	F("\x66\x0f\xc4\xcb\x05"),		   /* pinsrw xmm1, ebx, 5 */
	F("\x66\x0f\xc4\x4c\x16\x03\x0a"),	   /* pinsrw xmm1, [rsi + rdx + 3], 10 */
	F("\x66\x0f\x3a\x14\xcb\x07"),		   /* pextrb ebx, xmm1, 7 */
	F("\x66\x0f\x3a\x14\x4c\x17\x05\x0e"),	   /* pextrb [rdi + rdx + 5], xmm1, 14 */
	F("\x66\x0f\x3a\x15\xcb\x06"),		   /* pextrw ebx, xmm1, 6 */
	F("\x66\x0f\x3a\x15\x4c\x17\x01\x02"),	   /* pextrw [rdi + rdx + 1], xmm1, 2 */
	F("\x66\x0f\x3a\x16\xcb\x02"),		   /* pextrd ebx, xmm1, 2 */
	F("\x66\x48\x0f\x3a\x16\xcb\x01"),	   /* pextrq rbx, xmm1, 1 */
	F("\x66\x0f\x3a\x16\x4c\x17\x03\x01"),	   /* pextrd [rdi + rdx + 3], xmm1, 1 */
	F("\x66\x48\x0f\x3a\x16\x4c\x17\xfd\x00"), /* pextrq [rdi + rdx - 3]: crosses */
	F("\x66\x0f\x3a\x17\xcb\x03"),		   /* extractps ebx, xmm1, 3 */
	F("\x66\x0f\x3a\x20\xcb\x09"),		   /* pinsrb xmm1, ebx, 9 */
	F("\x66\x0f\x3a\x20\x4c\x16\x03\x0f"),	   /* pinsrb xmm1, [rsi + rdx + 3], 15 */
	F("\x66\x0f\x3a\x22\xcb\x02"),		   /* pinsrd xmm1, ebx, 2 */
	F("\x66\x48\x0f\x3a\x22\xcb\x01"),	   /* pinsrq xmm1, rbx, 1 */
	F("\x66\x48\x0f\x3a\x22\x4c\x16\xfd\x00"), /* pinsrq xmm1, [rsi + rdx - 3], 0 */
	F("\x66\x4d\x0f\x3a\x22\xc9\x01"),	   /* pinsrq xmm9, r9, 1 */
	F("\x66\x0f\x3a\x0e\xca\xa5"),		   /* pblendw xmm1, xmm2, 0xa5 */
	F("\x66\x0f\x3a\x0c\xca\x05"),		   /* blendps */
	F("\x66\x0f\x3a\x0d\xca\x02"),		   /* blendpd */
	F("\x66\x0f\x3a\x0e\x0c\x16\x3c"),	   /* pblendw xmm1, [rsi + rdx], 0x3c */
	F("\xf3\x0f\x12\xca"),			   /* movsldup xmm1, xmm2 */
	F("\xf3\x0f\x16\xca"),			   /* movshdup */
	F("\xf2\x0f\x12\xca"),			   /* movddup */
	F("\xf3\x0f\x12\x0c\x16"),		   /* movsldup xmm1, [rsi + rdx] */
	F("\xf2\x0f\x12\x4c\x16\x03"),		   /* movddup xmm1, [rsi + rdx + 3] */
	F("\xf2\x0f\x12\x4c\x16\xfd"),		   /* movddup across 0x70000 */
};

/* PMOVSX/PMOVZX (66 0F 38 20-25, 30-35): register and unaligned memory forms */
static char pmov_bytes[24][8];
static struct form pmov_forms[24];

static void make_pmov_forms(void)
{
	for (int k = 0; k < 12; k++) {
		uint8_t op = (uint8_t)((k < 6 ? 0x20 : 0x30) + k % 6);

		memcpy(pmov_bytes[2 * k], "\x66\x0f\x38\x00\xca", 5);
		pmov_bytes[2 * k][3] = (char)op;
		pmov_forms[2 * k] = (struct form){ pmov_bytes[2 * k], 5 };
		memcpy(pmov_bytes[2 * k + 1], "\x66\x0f\x38\x00\x4c\x16\xfb", 7);
		pmov_bytes[2 * k + 1][3] = (char)op;
		pmov_forms[2 * k + 1] = (struct form){ pmov_bytes[2 * k + 1], 7 };
	}
}

/* the packed-integer opcodes of 66 0F that the host code runs as they are */
static const uint8_t int_ops[] = { 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
				   0x6a, 0x6b, 0x6c, 0x6d, 0x74, 0x75, 0x76, 0xd1, 0xd2, 0xd3,
				   0xd4, 0xd5, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
				   0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb,
				   0xec, 0xed, 0xee, 0xef, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6,
				   0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe };
#define NINT (sizeof(int_ops) / sizeof(int_ops[0]))

/* 66 0F op as register form (xmm1, xmm2), memory form ([rsi + rdx]), high registers */
static char int_bytes[NINT * 3][8];
static struct form int_forms[NINT * 3];

static void make_int_forms(void)
{
	for (size_t k = 0; k < NINT; k++) {
		char *r = int_bytes[3 * k], *mm = int_bytes[3 * k + 1], *h = int_bytes[3 * k + 2];

		memcpy(r, "\x66\x0f\x00\xca", 4);
		r[2] = (char)int_ops[k];
		int_forms[3 * k] = (struct form){ r, 4 };
		memcpy(mm, "\x66\x0f\x00\x0c\x16", 5);
		mm[2] = (char)int_ops[k];
		int_forms[3 * k + 1] = (struct form){ mm, 5 };
		memcpy(h, "\x66\x45\x0f\x00\xe1", 5); /* op xmm12, xmm9 */
		h[3] = (char)int_ops[k];
		int_forms[3 * k + 2] = (struct form){ h, 5 };
	}
}

static const struct form others[] = {
	F("\x0f\x54\xca"),		       /* andps */
	F("\x0f\x55\xca"),		       /* andnps */
	F("\x0f\x56\xca"),		       /* orps */
	F("\x0f\x57\xca"),		       /* xorps */
	F("\x0f\x57\xc9"),		       /* xorps xmm1, xmm1 */
	F("\x66\x0f\x54\xca"),		       /* andpd */
	F("\x66\x0f\x55\xca"),		       /* andnpd */
	F("\x66\x0f\x56\xca"),		       /* orpd */
	F("\x66\x0f\x57\xca"),		       /* xorpd */
	F("\x0f\x57\x0c\x16"),		       /* xorps xmm1, [rsi + rdx] */
	F("\x66\x0f\x54\x0c\x16"),	       /* andpd xmm1, [rsi + rdx] */
	F("\x0f\xc6\xca\x1b"),		       /* shufps xmm1, xmm2, 0x1b */
	F("\x0f\xc6\xca\xe4"),		       /* shufps xmm1, xmm2, 0xe4 */
	F("\x66\x0f\xc6\xca\x01"),	       /* shufpd xmm1, xmm2, 1 */
	F("\x66\x0f\xc6\xca\x02"),	       /* shufpd xmm1, xmm2, 2 */
	F("\x0f\xc6\x0c\x16\x4e"),	       /* shufps xmm1, [rsi + rdx], 0x4e */
	F("\x66\x0f\x70\xca\x1b"),	       /* pshufd xmm1, xmm2, 0x1b */
	F("\x66\x0f\x70\xca\x4e"),	       /* pshufd */
	F("\x66\x0f\x70\xc9\x39"),	       /* pshufd xmm1, xmm1, 0x39 */
	F("\x66\x45\x0f\x70\xe1\xb1"),	       /* pshufd xmm12, xmm9, 0xb1 */
	F("\x66\x0f\x70\x0c\x16\x93"),	       /* pshufd xmm1, [rsi + rdx], 0x93 */
	F("\xf3\x0f\x70\xca\x1b"),	       /* pshufhw */
	F("\xf2\x0f\x70\xca\x1b"),	       /* pshuflw */
	F("\xf2\x0f\x70\x0c\x16\x6c"),	       /* pshuflw xmm1, [rsi + rdx], 0x6c */
	F("\x66\x0f\x38\x00\xca"),	       /* pshufb */
	F("\x66\x0f\x38\x01\xca"),	       /* phaddw */
	F("\x66\x0f\x38\x02\xca"),	       /* phaddd */
	F("\x66\x0f\x38\x03\xca"),	       /* phaddsw */
	F("\x66\x0f\x38\x04\xca"),	       /* pmaddubsw */
	F("\x66\x0f\x38\x05\xca"),	       /* phsubw */
	F("\x66\x0f\x38\x06\xca"),	       /* phsubd */
	F("\x66\x0f\x38\x07\xca"),	       /* phsubsw */
	F("\x66\x0f\x38\x08\xca"),	       /* psignb */
	F("\x66\x0f\x38\x09\xca"),	       /* psignw */
	F("\x66\x0f\x38\x0a\xca"),	       /* psignd */
	F("\x66\x0f\x38\x0b\xca"),	       /* pmulhrsw */
	F("\x66\x0f\x38\x1c\xca"),	       /* pabsb */
	F("\x66\x0f\x38\x1d\xca"),	       /* pabsw */
	F("\x66\x0f\x38\x1e\xca"),	       /* pabsd */
	F("\x66\x0f\x38\x00\x0c\x16"),	       /* pshufb xmm1, [rsi + rdx] */
	F("\x66\x45\x0f\x38\x00\xe1"),	       /* pshufb xmm12, xmm9 */
	F("\x66\x0f\x3a\x0f\xca\x00"),	       /* palignr xmm1, xmm2, 0 */
	F("\x66\x0f\x3a\x0f\xca\x03"),	       /* palignr 3 */
	F("\x66\x0f\x3a\x0f\xca\x08"),	       /* palignr 8 */
	F("\x66\x0f\x3a\x0f\xca\x10"),	       /* palignr 16 */
	F("\x66\x0f\x3a\x0f\xca\x14"),	       /* palignr 20 */
	F("\x66\x0f\x3a\x0f\xca\x20"),	       /* palignr 32 */
	F("\x66\x0f\x3a\x0f\xca\xff"),	       /* palignr 255 */
	F("\x66\x0f\x3a\x0f\x0c\x16\x05"),     /* palignr xmm1, [rsi + rdx], 5 */
	F("\x66\x45\x0f\x3a\x0f\xe1\x0c"),     /* palignr xmm12, xmm9, 12 */
	F("\x66\x0f\x6c\xca\x66\x0f\x62\xd1"), /* punpcklqdq; punpckldq */
};

/* 66 0F 71/72/73 /sub xmm1, imm for each valid /sub and edge counts */
static const uint8_t shift_imms[] = { 0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 127, 255 };
#define NSHIFT (10 * sizeof(shift_imms))
static char shift_bytes[NSHIFT][6];
static struct form shift_forms[NSHIFT];

static void make_shift_forms(void)
{
	static const uint8_t op_sub[10][2] = { { 0x71, 2 }, { 0x71, 4 }, { 0x71, 6 }, { 0x72, 2 },
					       { 0x72, 4 }, { 0x72, 6 }, { 0x73, 2 }, { 0x73, 3 },
					       { 0x73, 6 }, { 0x73, 7 } };
	size_t n = 0;

	for (int k = 0; k < 10; k++)
		for (size_t i = 0; i < sizeof(shift_imms); i++, n++) {
			char *b = shift_bytes[n];
			int hi = (i & 1) != 0; /* odd ones on xmm9 (REX.B) */

			if (hi) {
				memcpy(b, "\x66\x41\x0f\x00\x00\x00", 6);
				b[3] = (char)op_sub[k][0];
				b[4] = (char)(0xc0 | op_sub[k][1] << 3 | 1);
				b[5] = (char)shift_imms[i];
				shift_forms[n] = (struct form){ b, 6 };
			} else {
				memcpy(b, "\x66\x0f\x00\x00\x00", 5);
				b[2] = (char)op_sub[k][0];
				b[3] = (char)(0xc0 | op_sub[k][1] << 3 | 1);
				b[4] = (char)shift_imms[i];
				shift_forms[n] = (struct form){ b, 5 };
			}
		}
}

/* forms without REX for 32-bit code (memory through DS: [esi + edx], [edi + edx]) */
static const struct form forms32[] = {
	F("\x66\x0f\x6f\x0c\x16"),	       /* movdqa xmm1, [esi + edx] */
	F("\xf3\x0f\x6f\x4c\x16\x07"),	       /* movdqu xmm1, [esi + edx + 7] */
	F("\x66\x0f\x7f\x0c\x17"),	       /* movdqa [edi + edx], xmm1 */
	F("\x0f\x11\x4c\x17\x09"),	       /* movups [edi + edx + 9], xmm1 */
	F("\x66\x0f\xfe\xca"),		       /* paddd xmm1, xmm2 */
	F("\x66\x0f\xef\x0c\x16"),	       /* pxor xmm1, [esi + edx] */
	F("\x66\x0f\x38\x00\x0c\x16"),	       /* pshufb xmm1, [esi + edx] */
	F("\x66\x0f\x6e\x4c\x16\x03"),	       /* movd xmm1, [esi + edx + 3] */
	F("\x66\x0f\x7e\x4c\x17\x05"),	       /* movd [edi + edx + 5], xmm1 */
	F("\x66\x0f\x7e\xcb"),		       /* movd ebx, xmm1 */
	F("\x66\x0f\xd6\x4c\x17\x0f"),	       /* movq [edi + edx + 15], xmm1 */
	F("\x66\x0f\xd7\xc1\x01\xc3"),	       /* pmovmskb eax, xmm1; add ebx, eax */
	F("\x66\x0f\xc4\x4c\x16\x03\x0a"),     /* pinsrw xmm1, [esi + edx + 3], 10 */
	F("\x66\x0f\x3a\x16\x4c\x17\x03\x01"), /* pextrd [edi + edx + 3], xmm1, 1 */
	F("\xf3\x0f\x10\x4c\x16\x03"),	       /* movss xmm1, [esi + edx + 3] */
	F("\x66\x0f\x38\x30\x4c\x16\xfb"),     /* pmovzxbw xmm1, [esi + edx - 5] */
};

static void load(const void *code, size_t n)
{
	memset(ram + CODE, 0xf4, 0x200);
	memcpy(ram + CODE, code, n);
	emu_code_write(vm, CODE, 0x200);
}

/* the vector whose handler the CPU halted in (-1: none) */
static int vector_of(const struct result *r)
{
	if (r->state != EMU_HALTED || r->rip <= HANDLERS || r->rip > HANDLERS + 16 * 32)
		return -1;
	if ((r->rip - HANDLERS - 1) % 16)
		return -1;
	return (int)((r->rip - HANDLERS - 1) / 16);
}

/* the RIP an exception pushed (64-bit frame from the 16-byte aligned STACK; @err: unused) */
static uint64_t pushed_rip(const struct result *r, int err)
{
	uint64_t v;

	(void)err;
	memcpy(&v, r->stack + 0x100 - 40, 8);
	return v;
}

/*
 * mov ecx, 40; 1: mov edx, ecx; shl edx, 4; xor eax, eax; cmp ecx, 1; sete al;
 * shl eax, 3; add rax, rdx; paddd xmm1, xmm2; movdqa xmm3, [rsi + rax]; dec ecx;
 * jnz 1b; hlt -- in the last round the MOVDQA is misaligned: #GP
 */
static const uint8_t p_gp[] = { 0xb9, 0x28, 0x00, 0x00, 0x00, 0x89, 0xca, 0xc1, 0xe2, 0x04,
				0x31, 0xc0, 0x83, 0xf9, 0x01, 0x0f, 0x94, 0xc0, 0xc1, 0xe0,
				0x03, 0x48, 0x01, 0xd0, 0x66, 0x0f, 0xfe, 0xca, 0x66, 0x0f,
				0x6f, 0x1c, 0x06, 0xff, 0xc9, 0x75, 0xe0, 0xf4 };
#define P_GP_INSN (CODE + 0x1c)
/* the same with movdqa [rdi + rax], xmm3 */
static uint8_t p_gp_store[sizeof(p_gp)];

/*
 * mov ecx, 40; mov r8, 0x40000000 (not mapped); 1: mov edx, ecx; shl edx, 4;
 * cmp ecx, 1; cmove rdx, r8; paddd xmm1, xmm2; movdqu xmm3, [rsi + rdx]; dec ecx;
 * jnz 1b; hlt -- the last round's load faults: #PF
 */
static const uint8_t p_pf[] = { 0xb9, 0x28, 0x00, 0x00, 0x00, 0x49, 0xc7, 0xc0, 0x00, 0x00,
				0x00, 0x40, 0x89, 0xca, 0xc1, 0xe2, 0x04, 0x83, 0xf9, 0x01,
				0x49, 0x0f, 0x44, 0xd0, 0x66, 0x0f, 0xfe, 0xca, 0xf3, 0x0f,
				0x6f, 0x1c, 0x16, 0xff, 0xc9, 0x75, 0xe7, 0xf4 };
#define P_PF_INSN (CODE + 0x1c)

/*
 * mov ecx, 40; 1: cmp ecx, 10; jne 2f; mov rax, cr0; or eax, 8 (TS); mov cr0, rax;
 * 2: paddd xmm1, xmm2; pxor xmm3, xmm1; dec ecx; jnz 1b; hlt -- #NM at the PADDD
 * once TS is set
 */
static const uint8_t p_nm[] = { 0xb9, 0x28, 0x00, 0x00, 0x00, 0x83, 0xf9, 0x0a, 0x75, 0x09, 0x0f,
				0x20, 0xc0, 0x83, 0xc8, 0x08, 0x0f, 0x22, 0xc0, 0x66, 0x0f, 0xfe,
				0xca, 0x66, 0x0f, 0xef, 0xd9, 0xff, 0xc9, 0x75, 0xe6, 0xf4 };
#define P_NM_INSN (CODE + 0x13)

/*
 * mov ecx, 40; xor ebx, ebx; lea r8, [rip + 20] (the ADD's immediate); 1: mov rdx, rdi;
 * cmp ecx, 5; cmove rdx, r8; paddd xmm0, xmm7; movd [rdx], xmm0; add ebx, 0; dec ecx;
 * jnz 1b; hlt -- with xmm0 = 0 and xmm7 = 1, round 36 (translated long before) stores
 * 36 into the ADD's immediate right before it runs: ebx = 5 * 36
 */
static const uint8_t p_smc[] = { 0xb9, 0x28, 0x00, 0x00, 0x00, 0x31, 0xdb, 0x4c, 0x8d, 0x05, 0x14,
				 0x00, 0x00, 0x00, 0x48, 0x89, 0xfa, 0x83, 0xf9, 0x05, 0x49, 0x0f,
				 0x44, 0xd0, 0x66, 0x0f, 0xfe, 0xc7, 0x66, 0x0f, 0x7e, 0x02, 0x81,
				 0xc3, 0x00, 0x00, 0x00, 0x00, 0xff, 0xc9, 0x75, 0xe4, 0xf4 };

/* run @code from the same state with and without the host code */
static void run_both(const void *code, size_t n, struct result *res, int cr4_clear_at)
{
	struct accel_exit ex;

	for (int jit = 0; jit < 2; jit++) {
		struct emu_cpu *c;

		load(code, n);
		c = new_cpu(jit, &ex, 99);
		if (cr4_clear_at) {
			run(c, (uint64_t)cr4_clear_at);
			c->cr4 &= ~(uint64_t)CR4_OSFXSR;
		}
		if (code == p_smc) {
			memset(&c->xmm[0], 0, 16);
			memset(&c->xmm[7], 0, 16);
			c->xmm[7].l[0] = 1;
		}
		run(c, 1000000);
		save(c, &res[jit]);
		emu_cpu_free(c);
	}
}

int main(void)
{
	static struct result res[2];
	const char *d;
	int have_jit;

	ram = emu_test_machine(&m, &vcpu0, 1, 16 << 20, &vm);
	if (!ram)
		return 77;
	/* identity map of the first GiB with 2 MiB pages; 1-2 GiB not present */
	emu_test_map_2m(ram, PML4, 3);
	/* GDT: null, 64-bit code 0x08, data 0x10; IDT: vector v -> HANDLERS + 16 v (hlt) */
	w64(GDT + 8, 0x00209a0000000000ULL);
	w64(GDT + 16, 0x0000920000000000ULL);
	for (uint64_t v = 0; v < 32; v++) {
		emu_test_gate64(ram, IDT, (unsigned int)v, HANDLERS + 16 * v, 0);
		ram[HANDLERS + 16 * v] = 0xf4;
	}
	make_int_forms();
	make_shift_forms();
	make_pmov_forms();

	tap_plan(18);
	{
		struct accel_exit ex;
		struct emu_cpu *c = new_cpu(1, &ex, 0);

		have_jit = c && c->jit;
		emu_cpu_free(c);
	}
#if defined(__x86_64__)
	tap_ok(have_jit, "host code is on by default on an x86-64 host");
#else
	tap_skip("no host code on this architecture: both runs use the interpreter");
#endif

	check_group("16-byte loads, stores and register moves", moves,
		    sizeof(moves) / sizeof(moves[0]), 1);
	check_group("MOVD, MOVQ, PMOVMSKB, MOVMSKPS/PD", movds, sizeof(movds) / sizeof(movds[0]),
		    1);
	check_group("66 0F packed-integer forms (register, memory, high registers)", int_forms,
		    NINT * 3, 1);
	check_group("MOVSS, MOVSD, the 8-byte half moves, UNPCKxPx, SSE4.1/4.2 integer forms",
		    scalars, sizeof(scalars) / sizeof(scalars[0]), 1);
	check_group("PINSRx/PEXTRx, blends, MOVSLDUP/MOVSHDUP/MOVDDUP", lanes,
		    sizeof(lanes) / sizeof(lanes[0]), 1);
	check_group("PMOVSX/PMOVZX", pmov_forms, 24, 1);
	check_group("bitwise, shuffle, SSSE3 and PALIGNR forms", others,
		    sizeof(others) / sizeof(others[0]), 1);
	check_group("shifts by an immediate", shift_forms, NSHIFT, 1);
	g_mode32 = 1;
	check_group("32-bit protected mode, flat segments", forms32,
		    sizeof(forms32) / sizeof(forms32[0]), 1);
	g_ds_base = 0x10;
	check_group("32-bit protected mode, DS base 0x10 (no inline memory access)", forms32,
		    sizeof(forms32) / sizeof(forms32[0]), 1);
	g_mode32 = 0;
	g_ds_base = 0;

	/* faults in translated blocks */
	memcpy(p_gp_store, p_gp, sizeof(p_gp));
	memcpy(p_gp_store + 0x1c, "\x66\x0f\x7f\x1c\x07", 5);
	run_both(p_gp_store, sizeof(p_gp_store), res, 0);
	d = differ(&res[0], &res[1]);
	tap_ok(!d && vector_of(&res[1]) == 13 && pushed_rip(&res[1], 1) == P_GP_INSN,
	       "a misaligned MOVDQA store in a hot loop raises #GP at it (vector %d), as the "
	       "interpreter (%s)",
	       vector_of(&res[1]), d ? d : "same");
	run_both(p_gp, sizeof(p_gp), res, 0);
	d = differ(&res[0], &res[1]);
	tap_ok(vector_of(&res[1]) == 13 && pushed_rip(&res[1], 1) == P_GP_INSN && res[1].r[1] == 1,
	       "a misaligned MOVDQA in a hot loop raises #GP at it (vector %d, RIP %#llx, ecx "
	       "%llu)",
	       vector_of(&res[1]), (unsigned long long)pushed_rip(&res[1], 1),
	       (unsigned long long)res[1].r[1]);
	tap_ok(!d, "#GP: the same state as the interpreter (%s)", d ? d : "same");

	run_both(p_pf, sizeof(p_pf), res, 0);
	d = differ(&res[0], &res[1]);
	tap_ok(!d && vector_of(&res[1]) == 14 && pushed_rip(&res[1], 1) == P_PF_INSN &&
		       res[1].cr2 == 0x40000000 + DATA,
	       "a MOVDQU load from an unmapped page raises #PF at it, CR2 %#llx, as the "
	       "interpreter (%s)",
	       (unsigned long long)res[1].cr2, d ? d : "same");

	run_both(p_nm, sizeof(p_nm), res, 0);
	d = differ(&res[0], &res[1]);
	tap_ok(!d && vector_of(&res[1]) == 7 && pushed_rip(&res[1], 0) == P_NM_INSN &&
		       res[1].r[1] == 10,
	       "MOV CR0 setting TS in a hot loop: #NM at the next PADDD (vector %d, ecx %llu), as "
	       "the interpreter (%s)",
	       vector_of(&res[1]), (unsigned long long)res[1].r[1], d ? d : "same");

	run_both(p_nm, sizeof(p_nm), res, 120);
	d = differ(&res[0], &res[1]);
	tap_ok(!d && vector_of(&res[1]) == 6 &&
		       (pushed_rip(&res[1], 0) == P_NM_INSN ||
			pushed_rip(&res[1], 0) == P_NM_INSN + 4),
	       "CR4.OSFXSR cleared between two runs of a translated block: #UD at its next SSE "
	       "form "
	       "(vector %d), as the interpreter (%s)",
	       vector_of(&res[1]), d ? d : "same");

	run_both(p_smc, sizeof(p_smc), res, 0);
	d = differ(&res[0], &res[1]);
	tap_ok(!d && res[1].state == EMU_HALTED && (uint32_t)res[1].r[3] == 5 * 36,
	       "a MOVD store of a translated block rewriting its next instruction: sum %u "
	       "(expected %u), as the interpreter (%s)",
	       (uint32_t)res[1].r[3], 5 * 36, d ? d : "same");

	unsetenv("CABIN_EMU_JIT");
	emu_vm_free(vm);
	return tap_done();
}
