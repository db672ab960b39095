/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * emu-diff.h - run guest code once with the host code of decoded blocks (the JIT,
 * src/emu/jit-x86_64.c) and once with the interpreter alone, from identical
 * machine states, and compare the complete architectural state afterwards.
 * Used by the libFuzzer target tests/fuzz/fuzz-emu.c and by the reproducers of
 * tests/unit/test-emu-diff.c.
 *
 * Two machines of EDIFF_RAM bytes each, one CPU on each: one with the JIT
 * (translating every block the first time it runs, or after a few runs, as the
 * input says), one with CABIN_EMU_JIT=off. The CPUs and their decoded-block
 * caches live across inputs; each input restores the RAM image through
 * emu_code_write(), so the block invalidation paths run between inputs as they
 * do when a device writes decoded code.
 *
 * Input (see ediff_run()): a header, then guest code placed in two code pages
 * (the third is not present). Exceptions go through an IDT (IVT in real mode)
 * whose handlers are HLTs, one per vector, so RIP after the run names the
 * vector and the stack holds the frame and error code. Mismatches are reported
 * as text.
 *
 * Physical layout (identity-mapped, 4 KiB pages):
 *   0x00000 real-mode IVT          0x01000-0x04fff 4-level page tables
 *   0x05000-0x06fff 32-bit tables  0x07000 GDT      0x08000 IDT
 *   0x09000 handlers (HLT per vector, 4 bytes apart)
 *   0x10000 code page 0, 0x11000 code page 1, 0x12000 not present
 *   0x20000, 0x21000 data (RW), 0x22000 not present, 0x23000 no-execute data
 *   (64-bit paging), 0x24000 read-only       0x2e000-0x2ffff stack
 * so that stores from 0x21ffx and 0x23ffx cross into a page that faults.
 */
#ifndef CABIN_TESTS_UNIT_EMU_DIFF_H
#define CABIN_TESTS_UNIT_EMU_DIFF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/emu.h"
#include "emu/jit.h"
#include "unit/emu-machine.h"
#include "vm/machine.h"

#define EDIFF_RAM 0x100000ULL  /* the smallest machine */
#define EDIFF_IMAGE 0x40000ULL /* what the input sets up; the rest is zero */
#define EDIFF_PML4 0x1000ULL
#define EDIFF_PD32 0x5000ULL
#define EDIFF_PT32 0x6000ULL
#define EDIFF_GDT 0x7000ULL
#define EDIFF_IDT 0x8000ULL
#define EDIFF_HANDLER 0x9000ULL
#define EDIFF_CODE 0x10000ULL
#define EDIFF_CODE_BYTES 0x2000u
#define EDIFF_DATA 0x20000ULL
#define EDIFF_STACK 0x2f000ULL /* initial stack pointer: top of 0x2e000-0x2efff */

/* header bytes before the code */
enum {
	EDIFF_H_MODE,  /* bits 0-1 mode (EDIFF_M_*), 2 TF, 3 EDIFF_V_*, 4-6 the JIT's start */
	EDIFF_H_LIMIT, /* instructions: 1 + 4 * value */
	EDIFF_H_CHUNK, /* budget per emu_exec() call: 0 whole run, else the value */
	EDIFF_H_PLACE, /* code offset in its page: < 0x80 at 0, else 0x1000 - (v & 0x7f) */
	EDIFF_H_FLAGS, /* CF DF PF OF AF AC ZF SF: bits 0-7 */
	EDIFF_H_SEED,  /* 2 bytes: data page contents and XMM registers */
	EDIFF_H_REGS = EDIFF_H_SEED + 2, /* 16 x 4 bytes, see reg_value() */
	EDIFF_HDR = EDIFF_H_REGS + 64,
};

enum { EDIFF_M_LONG, EDIFF_M_PROT32, EDIFF_M_PROT16, EDIFF_M_REAL };
/*
 * Bit 3 of the mode byte: in 64-bit mode the code runs at CPL 3 (user pages,
 * exceptions through the TSS's RSP0, INT 0x80-0xff gates open to CPL 3); in
 * 32-bit paged mode at CPL 0 with SMEP and SMAP, the data pages user pages, so
 * that EFLAGS.AC (STAC/CLAC, POPF) decides whether the code may touch them.
 */
#define EDIFF_V_USER 0x8
#define EDIFF_TSS 0x7100ULL
#define EDIFF_KSTACK 0xa000ULL /* RSP0: the top of the handlers' page */

struct ediff_side {
	struct machine m;
	struct vcpu vcpu;
	struct emu_vm *vm;
	struct emu_cpu *c;
	uint8_t *ram;
	struct accel_exit exit;
	/* the interrupt controllers of a new VM, restored before each input */
	struct emu_pic pic[2];
	struct emu_pit_channel pit[3];
	struct emu_ioapic ioapic;
};

struct ediff {
	struct ediff_side s[2]; /* 0: JIT, 1: interpreter */
	uint8_t image[EDIFF_IMAGE];
	char why[2048];
	size_t whylen;
	uint64_t icount; /* instructions the last input ran (JIT side) */
};

static inline int ediff_side_init(struct ediff_side *s, int jit)
{
	s->ram = emu_test_machine(&s->m, &s->vcpu, 1, EDIFF_RAM, &s->vm);
	if (!s->ram || !s->vm)
		return -1;
	setenv("CABIN_EMU_JIT", jit ? "on" : "off", 1);
	s->c = emu_cpu_new(&s->m, s->vm, 0);
	unsetenv("CABIN_EMU_JIT");
	if (!s->c || (jit && !s->c->jit))
		return -1;
	s->c->exit = &s->exit;
	s->vcpu.accel = s->c;
	memcpy(s->pic, s->vm->pic, sizeof(s->pic));
	memcpy(s->pit, s->vm->pit, sizeof(s->pit));
	s->ioapic = s->vm->ioapic;
	return 0;
}

/**
 * ediff_init() - the two machines. Return: 0, or -1 (no memory, or no JIT on this
 * host: then there is nothing to compare).
 */
static inline int ediff_init(struct ediff *d)
{
	memset(d, 0, sizeof(*d));
	/* a small code cache, so that inputs also run into its flushes */
	setenv("CABIN_EMU_JIT_CACHE", "256K", 1);
	if (ediff_side_init(&d->s[0], 1) < 0 || ediff_side_init(&d->s[1], 0) < 0)
		return -1;
	return 0;
}

static inline void ediff_fini(struct ediff *d)
{
	for (int i = 0; i < 2; i++) {
		emu_cpu_free(d->s[i].c);
		emu_vm_free(d->s[i].vm);
		vm_mem_fini(&d->s[i].m.mem);
	}
}

static inline void ediff_w32(uint8_t *img, uint64_t pa, uint32_t v)
{
	memcpy(img + pa, &v, 4);
}

static inline void ediff_w64(uint8_t *img, uint64_t pa, uint64_t v)
{
	memcpy(img + pa, &v, 8);
}

static inline uint32_t ediff_rng(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * page-table flags of page @pa for the 4-level (@wide) or 32-bit tables; @user:
 * 1 code, data and stack are user pages, 2 only the data pages are
 */
static inline uint64_t ediff_pte(uint64_t pa, int wide, int user)
{
	uint64_t f = 0x3; /* P, RW */

	if (pa == EDIFF_CODE + 0x2000 || pa == EDIFF_DATA + 0x2000)
		return 0;
	if ((user == 1 && pa >= EDIFF_CODE) ||
	    (user == 2 && pa >= EDIFF_DATA && pa < EDIFF_DATA + 0x5000))
		f |= 0x4;
	if (pa == EDIFF_DATA + 0x4000)
		f = 0x1;
	if (wide && pa == EDIFF_DATA + 0x3000)
		f |= 1ULL << 63;
	return pa | f;
}

/*
 * A register's initial value from 4 input bytes: the top 3 bits pick a kind
 * (pointer into the data pages, the code pages or the stack, small, 32-bit,
 * 64-bit, zero, near all-ones), the rest the value. Real-mode pointers are
 * offsets in their segments.
 */
static inline uint64_t ediff_reg_value(uint32_t v, int mode)
{
	uint64_t x = v & 0x1fffffff;
	int real = mode == EDIFF_M_REAL || mode == EDIFF_M_PROT16;

	switch (v >> 29) {
	case 0:
		return (real ? 0 : EDIFF_DATA) + x % 0x5000;
	case 1:
		return (real ? 0 : EDIFF_CODE) + x % 0x3000;
	case 2:
		return (uint64_t)(int64_t)(int16_t)x;
	case 3:
		return (real ? 0xf000 : EDIFF_STACK) - (x & 0x1ff);
	case 4:
		return x * 0x9e3779b97f4a7c15ULL;
	case 5:
		return x << 3;
	case 6:
		return 0;
	default:
		return ~(x & 0xff);
	}
}

static inline void ediff_image(struct ediff *d, const uint8_t *in, size_t n, int mode)
{
	uint8_t *img = d->image;
	uint32_t seed = (uint32_t)in[EDIFF_H_SEED] << 8 | in[EDIFF_H_SEED + 1] | 0x10000u;
	unsigned int place = in[EDIFF_H_PLACE] < 0x80 ? 0 : 0x1000 - (in[EDIFF_H_PLACE] & 0x7f);
	size_t code = n - EDIFF_HDR;
	int user = !(in[EDIFF_H_MODE] & EDIFF_V_USER) ? 0 : mode == EDIFF_M_LONG ? 1 : 2;

	memset(img, 0, EDIFF_IMAGE);
	/* 4-level tables: PML4 -> PDPT -> PD -> one PT for the first 2 MiB */
	ediff_w64(img, EDIFF_PML4, 0x2000 | 0x7);
	ediff_w64(img, 0x2000, 0x3000 | 0x7);
	ediff_w64(img, 0x3000, 0x4000 | 0x7);
	/* 32-bit tables: PD -> one PT for the first 4 MiB */
	ediff_w32(img, EDIFF_PD32, (uint32_t)EDIFF_PT32 | 0x7);
	for (uint64_t pa = 0; pa < EDIFF_RAM; pa += 0x1000) {
		ediff_w64(img, 0x4000 + (pa >> 12) * 8, ediff_pte(pa, 1, user));
		ediff_w32(img, EDIFF_PT32 + (pa >> 12) * 4, (uint32_t)ediff_pte(pa, 0, user));
	}
	/* GDT: null, 64-bit code, data, 32-bit code, 16-bit code (accessed bits set) */
	ediff_w64(img, EDIFF_GDT + 0x08, 0x00af9b000000ffffULL);
	ediff_w64(img, EDIFF_GDT + 0x10, 0x00cf93000000ffffULL);
	ediff_w64(img, EDIFF_GDT + 0x18, 0x00cf9b000000ffffULL);
	ediff_w64(img, EDIFF_GDT + 0x20, 0x000f9b000000ffffULL);
	/* user data and 64-bit code, a 64-bit TSS whose RSP0 is EDIFF_KSTACK */
	ediff_w64(img, EDIFF_GDT + 0x28, 0x00cff3000000ffffULL);
	ediff_w64(img, EDIFF_GDT + 0x30, 0x00affb000000ffffULL);
	ediff_w64(img, EDIFF_GDT + 0x38,
		  0x67 | (EDIFF_TSS & 0xffffff) << 16 | 0x8bULL << 40 | (EDIFF_TSS >> 24) << 56);
	ediff_w64(img, EDIFF_TSS + 4, EDIFF_KSTACK);
	/* a HLT per vector, and the gates that lead there */
	for (unsigned int v = 0; v < 256; v++) {
		uint64_t h = EDIFF_HANDLER + v * 4;

		img[h] = 0xf4;
		if (mode == EDIFF_M_LONG) {
			ediff_w64(img, EDIFF_IDT + v * 16,
				  (h & 0xffff) | 0x08ULL << 16 |
					  (v >= 0x80 ? 0xeeULL : 0x8eULL) << 40 | (h >> 16) << 48);
			ediff_w64(img, EDIFF_IDT + v * 16 + 8, h >> 32);
		} else if (mode == EDIFF_M_REAL) {
			ediff_w32(img, v * 4, (uint32_t)(EDIFF_HANDLER >> 4) << 16 | v * 4);
		} else {
			uint16_t sel = mode == EDIFF_M_PROT16 ? 0x20 : 0x18;

			ediff_w64(img, EDIFF_IDT + v * 8,
				  (h & 0xffff) | (uint64_t)sel << 16 | 0x8eULL << 40 |
					  (h >> 16) << 48);
		}
	}
	/* code: HLTs around the input's bytes */
	memset(img + EDIFF_CODE, 0xf4, 0x3000);
	if (code > EDIFF_CODE_BYTES - place)
		code = EDIFF_CODE_BYTES - place;
	memcpy(img + EDIFF_CODE + place, in + EDIFF_HDR, code);
	/* data and stack: pseudo-random */
	for (uint64_t pa = EDIFF_DATA; pa < EDIFF_IMAGE; pa += 4)
		ediff_w32(img, pa, ediff_rng(&seed));
}

/* the initial CPU state of side @s for input @in */
static inline void ediff_cpu(struct ediff_side *s, const uint8_t *in, int mode)
{
	struct emu_cpu *c = s->c;
	unsigned int place = in[EDIFF_H_PLACE] < 0x80 ? 0 : 0x1000 - (in[EDIFF_H_PLACE] & 0x7f);
	uint32_t seed = (uint32_t)in[EDIFF_H_SEED + 1] << 8 | in[EDIFF_H_SEED] | 0x20000u;
	uint8_t fl = in[EDIFF_H_FLAGS];
	uint64_t flags = 2;

	emu_cpu_reset(c);
	c->icount = c->icount_base = 0;
	c->stall = 0;
	c->budget_spent = 0;
	c->tsc_offset = 0;
	c->exit_ready = 0;
	c->kick = 0;
	c->intr_hint = 0;
	c->io.pending = 0;
	c->io.have_data = 0;
	c->tf_no_trap = c->tf_trap_now = 0;
	c->soft_int = 0;
	c->exc_vector = 0;
	c->pending_vector = -1;
	c->stop_block = 0;
	c->locked_insn = 0;
	c->cc2_op = CC_EFLAGS;
	c->cc2_res = c->cc2_a = c->cc2_b = 0;
	c->cc2_size = 0;
	c->cc_res = c->cc_a = c->cc_b = 0;
	c->cc_size = 0;
	c->misc_enable = 0;
	c->mtrr_def_type = 0;
	memset(c->mtrr_fixed, 0, sizeof(c->mtrr_fixed));
	memset(c->mtrr_var, 0, sizeof(c->mtrr_var));
	c->tsc_aux = 0;
	c->sipi_vector = -1;
	c->init_pending = 0;
	c->idle_reported = 0;
	memset(&s->exit, 0, sizeof(s->exit));
	/* a block is translated when it starts for the (1 + bits 4-6 of the mode byte)th time */
	c->jit_hot0 = c->jit ? (uint16_t)(EMU_JIT_HOT - 1 - ((in[EDIFF_H_MODE] >> 4) & 7)) : 0;

	for (int i = 0; i < 16; i++) {
		uint32_t v;

		memcpy(&v, in + EDIFF_H_REGS + 4 * i, 4);
		c->r[i] = ediff_reg_value(v, mode);
	}
	for (int i = 0; i < 16; i++)
		for (int k = 0; k < 4; k++)
			c->xmm[i].l[k] = ediff_rng(&seed);
	flags |= (fl & 1) ? FL_CF : 0;
	flags |= (fl & 2) ? FL_DF : 0;
	flags |= (fl & 4) ? FL_PF : 0;
	flags |= (fl & 8) ? FL_OF : 0;
	flags |= (fl & 16) ? FL_AF : 0;
	flags |= (fl & 32) ? FL_AC : 0;
	flags |= (fl & 64) ? FL_ZF : 0;
	flags |= (fl & 128) ? FL_SF : 0;
	flags |= (in[EDIFF_H_MODE] & 4) ? FL_TF : 0;

	c->gdt.base = EDIFF_GDT;
	c->gdt.limit = 0x3f;
	c->cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
	c->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_MP;
	switch (mode) {
	case EDIFF_M_LONG:
		c->cr0 |= CR0_PG | CR0_WP;
		c->cr3 = EDIFF_PML4;
		c->cr4 |= CR4_PAE;
		c->efer = EFER_LME | EFER_LMA | EFER_NXE | EFER_SCE;
		c->idt.base = EDIFF_IDT;
		c->idt.limit = 0xfff;
		emu_desc_to_seg(&c->seg[SEG_CS], 0x00af9b000000ffffULL, 0x08);
		break;
	case EDIFF_M_PROT32:
		c->cr0 |= CR0_PG | CR0_WP;
		c->cr3 = EDIFF_PD32;
		/* fall through */
	case EDIFF_M_PROT16:
		c->idt.base = EDIFF_IDT;
		c->idt.limit = 0x7ff;
		if (mode == EDIFF_M_PROT16)
			emu_desc_to_seg(&c->seg[SEG_CS], 0x000f9b000000ffffULL, 0x20);
		else
			emu_desc_to_seg(&c->seg[SEG_CS], 0x00cf9b000000ffffULL, 0x18);
		break;
	default:
		c->cr0 = CR0_ET | CR0_NE | CR0_MP;
		c->idt.base = 0;
		c->idt.limit = 0x3ff;
		break;
	}
	c->flags = flags;
	if (mode == EDIFF_M_REAL) {
		emu_seg_real(c, SEG_CS, (uint16_t)(EDIFF_CODE >> 4));
		emu_seg_real(c, SEG_DS, (uint16_t)(EDIFF_DATA >> 4));
		emu_seg_real(c, SEG_ES, (uint16_t)(EDIFF_DATA >> 4));
		emu_seg_real(c, SEG_SS, (uint16_t)(EDIFF_DATA >> 4));
		emu_seg_real(c, SEG_FS, (uint16_t)(EDIFF_CODE >> 4));
		emu_seg_real(c, SEG_GS, 0);
		c->r[4] = 0xf000 - (c->r[4] & 0x1fe);
		c->rip = place;
	} else {
		for (int i = SEG_ES; i <= SEG_GS; i++)
			if (i != SEG_CS)
				emu_desc_to_seg(&c->seg[i], 0x00cf93000000ffffULL, 0x10);
		if (mode == EDIFF_M_PROT16) {
			/* 16-bit code in segments based where real mode has them */
			c->seg[SEG_CS].base = EDIFF_CODE;
			c->seg[SEG_DS].base = c->seg[SEG_ES].base = c->seg[SEG_SS].base =
				EDIFF_DATA;
			c->seg[SEG_FS].base = EDIFF_CODE;
			c->r[4] = 0xf000 - (c->r[4] & 0x1fe);
			c->rip = place;
		} else {
			c->r[4] = EDIFF_STACK - (c->r[4] & 0x1f8);
			c->rip = EDIFF_CODE + place;
		}
		if (mode != EDIFF_M_LONG)
			for (int i = 0; i < 16; i++)
				c->r[i] &= 0xffffffffULL;
	}
	if (mode == EDIFF_M_REAL || mode == EDIFF_M_PROT16)
		for (int i = 0; i < 16; i++)
			if (i != 4)
				c->r[i] &= 0xffffffffULL;
	c->cpl = 0;
	emu_desc_to_seg(&c->seg[SEG_TR],
			0x67 | (EDIFF_TSS & 0xffffff) << 16 | 0x8bULL << 40 |
				(EDIFF_TSS >> 24) << 56,
			0x38);
	if ((in[EDIFF_H_MODE] & EDIFF_V_USER) && (mode == EDIFF_M_LONG || mode == EDIFF_M_PROT32))
		c->cr4 |= CR4_SMEP | CR4_SMAP;
	if ((in[EDIFF_H_MODE] & EDIFF_V_USER) && mode == EDIFF_M_LONG) {
		emu_desc_to_seg(&c->seg[SEG_CS], 0x00affb000000ffffULL, 0x33);
		for (int i = SEG_ES; i <= SEG_GS; i++)
			if (i != SEG_CS)
				emu_desc_to_seg(&c->seg[i], 0x00cff3000000ffffULL, 0x2b);
		c->cpl = 3;
	}
	c->state = EMU_RUNNING;
	emu_tlb_flush(c, 0);
	emu_update_mode(c);
}

__attribute__((format(printf, 2, 3))) static inline void ediff_say(struct ediff *d, const char *fmt,
								   ...)
{
	va_list ap;
	int k;

	if (d->whylen >= sizeof(d->why) - 1)
		return;
	va_start(ap, fmt);
	k = vsnprintf(d->why + d->whylen, sizeof(d->why) - d->whylen, fmt, ap);
	va_end(ap);
	if (k > 0)
		d->whylen += (size_t)k;
	if (d->whylen > sizeof(d->why) - 1)
		d->whylen = sizeof(d->why) - 1;
}

#define EDIFF_CMP(name, x, y)                                                                      \
	do {                                                                                       \
		if ((uint64_t)(x) != (uint64_t)(y))                                                \
			ediff_say(d, "%s: jit %#llx interp %#llx\n", name,                         \
				  (unsigned long long)(x), (unsigned long long)(y));               \
	} while (0)

static inline void ediff_compare(struct ediff *d)
{
	struct emu_cpu *a = d->s[0].c, *b = d->s[1].c;
	static const char *const gpr[] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
					   "r8",  "r9",	 "r10", "r11", "r12", "r13", "r14", "r15" };
	char nm[64];

	for (int i = 0; i < 16; i++)
		EDIFF_CMP(gpr[i], a->r[i], b->r[i]);
	EDIFF_CMP("rip", a->rip, b->rip);
	EDIFF_CMP("rflags", emu_flags_get(a), emu_flags_get(b));
	EDIFF_CMP("icount", a->icount, b->icount);
	EDIFF_CMP("stall", a->stall, b->stall);
	EDIFF_CMP("state", a->state, b->state);
	EDIFF_CMP("exit_ready", a->exit_ready, b->exit_ready);
	if (a->exit_ready && b->exit_ready) {
		EDIFF_CMP("exit.reason", d->s[0].exit.reason, d->s[1].exit.reason);
		if (d->s[0].exit.reason == ACCEL_EXIT_IO) {
			EDIFF_CMP("exit.io.port", d->s[0].exit.io.port, d->s[1].exit.io.port);
			EDIFF_CMP("exit.io.size", d->s[0].exit.io.size, d->s[1].exit.io.size);
			EDIFF_CMP("exit.io.write", d->s[0].exit.io.is_write,
				  d->s[1].exit.io.is_write);
			EDIFF_CMP("exit.io.count", d->s[0].exit.io.count, d->s[1].exit.io.count);
		} else if (d->s[0].exit.reason == ACCEL_EXIT_MMIO) {
			EDIFF_CMP("exit.mmio.addr", d->s[0].exit.mmio.addr, d->s[1].exit.mmio.addr);
			EDIFF_CMP("exit.mmio.len", d->s[0].exit.mmio.len, d->s[1].exit.mmio.len);
			EDIFF_CMP("exit.mmio.write", d->s[0].exit.mmio.is_write,
				  d->s[1].exit.mmio.is_write);
		}
	}
	for (int i = 0; i < 8; i++) {
		const struct x86_segment *p = &a->seg[i], *q = &b->seg[i];

		snprintf(nm, sizeof(nm), "seg%d", i);
		if (p->base != q->base || p->limit != q->limit || p->selector != q->selector ||
		    p->type != q->type || p->present != q->present || p->dpl != q->dpl ||
		    p->db != q->db || p->s != q->s || p->l != q->l || p->g != q->g ||
		    p->avl != q->avl || p->unusable != q->unusable)
			ediff_say(d,
				  "%s: jit %04x base %#llx limit %#x type %x; interp %04x "
				  "base %#llx limit %#x type %x\n",
				  nm, p->selector, (unsigned long long)p->base, p->limit, p->type,
				  q->selector, (unsigned long long)q->base, q->limit, q->type);
	}
	EDIFF_CMP("gdt.base", a->gdt.base, b->gdt.base);
	EDIFF_CMP("gdt.limit", a->gdt.limit, b->gdt.limit);
	EDIFF_CMP("idt.base", a->idt.base, b->idt.base);
	EDIFF_CMP("idt.limit", a->idt.limit, b->idt.limit);
	EDIFF_CMP("cr0", a->cr0, b->cr0);
	EDIFF_CMP("cr2", a->cr2, b->cr2);
	EDIFF_CMP("cr3", a->cr3, b->cr3);
	EDIFF_CMP("cr4", a->cr4, b->cr4);
	EDIFF_CMP("cr8", a->cr8, b->cr8);
	EDIFF_CMP("efer", a->efer, b->efer);
	for (int i = 0; i < 8; i++) {
		snprintf(nm, sizeof(nm), "dr%d", i);
		EDIFF_CMP(nm, a->dr[i], b->dr[i]);
	}
	EDIFF_CMP("cpl", a->cpl, b->cpl);
	EDIFF_CMP("mode", a->mode, b->mode);
	EDIFF_CMP("irq_shadow", a->irq_shadow, b->irq_shadow);
	EDIFF_CMP("nmi_blocked", a->nmi_blocked, b->nmi_blocked);
	EDIFF_CMP("apic_base", a->apic_base, b->apic_base);
	EDIFF_CMP("tsc_offset", a->tsc_offset, b->tsc_offset);
	EDIFF_CMP("kernel_gs_base", a->kernel_gs_base, b->kernel_gs_base);
	EDIFF_CMP("star", a->star, b->star);
	EDIFF_CMP("lstar", a->lstar, b->lstar);
	EDIFF_CMP("fmask", a->fmask, b->fmask);
	EDIFF_CMP("xcr0", a->xcr0, b->xcr0);
	EDIFF_CMP("pkru", a->pkru, b->pkru);
	EDIFF_CMP("fpu_cw", a->fpu_cw, b->fpu_cw);
	EDIFF_CMP("fpu_sw", a->fpu_sw, b->fpu_sw);
	EDIFF_CMP("fpu_tag", a->fpu_tag, b->fpu_tag);
	EDIFF_CMP("fpu_fop", a->fpu_fop, b->fpu_fop);
	EDIFF_CMP("fpu_ip", a->fpu_ip, b->fpu_ip);
	EDIFF_CMP("fpu_dp", a->fpu_dp, b->fpu_dp);
	EDIFF_CMP("fpu_cs", a->fpu_cs, b->fpu_cs);
	EDIFF_CMP("fpu_ds", a->fpu_ds, b->fpu_ds);
	for (int i = 0; i < 8; i++) {
		snprintf(nm, sizeof(nm), "st-r%d", i);
		EDIFF_CMP(nm, a->fpr[i].mant, b->fpr[i].mant);
		EDIFF_CMP(nm, a->fpr[i].sexp, b->fpr[i].sexp);
	}
	for (int i = 0; i < 16; i++) {
		snprintf(nm, sizeof(nm), "xmm%d", i);
		EDIFF_CMP(nm, a->xmm[i].q[0], b->xmm[i].q[0]);
		EDIFF_CMP(nm, a->xmm[i].q[1], b->xmm[i].q[1]);
	}
	EDIFF_CMP("mxcsr", a->mxcsr, b->mxcsr);
	if (memcmp(&a->lapic, &b->lapic, sizeof(a->lapic)))
		ediff_say(d, "local APIC state differs\n");
	if (!memcmp(d->s[0].ram, d->s[1].ram, EDIFF_RAM))
		return;
	for (uint64_t pa = 0; pa < EDIFF_RAM; pa++)
		if (d->s[0].ram[pa] != d->s[1].ram[pa]) {
			ediff_say(d, "memory at %#llx: jit %02x interp %02x\n",
				  (unsigned long long)pa, d->s[0].ram[pa], d->s[1].ram[pa]);
			break;
		}
}

/* run side @s for @limit instructions in calls of @chunk (0: all at once) */
static inline void ediff_exec(struct ediff_side *s, uint64_t limit, uint64_t chunk)
{
	struct emu_cpu *c = s->c;
	/* exceptions and cycle charges take budget but count no instruction: bound the calls */
	uint64_t calls = 4 * limit + 16;

	while (c->state == EMU_RUNNING && c->icount < limit && calls--) {
		uint64_t left = limit - c->icount;

		c->budget = chunk && chunk < left ? chunk : left;
		emu_exec(c);
		if (c->exit_ready)
			break;
	}
}

/* how many decoded blocks of the JIT side have host code (tests: the JIT did run) */
static inline unsigned int ediff_translated(const struct ediff *d)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < BLOCK_CACHE; i++)
		n += d->s[0].c->blocks[i].key != ~0ULL && d->s[0].c->blocks[i].body != NULL;
	return n;
}

/**
 * ediff_run() - run input @in (@n bytes) on both sides and compare.
 * Return: 0 same, 1 different (d->why says how), -1 the input is too short.
 */
static inline int ediff_run(struct ediff *d, const uint8_t *in, size_t n)
{
	int mode;
	uint64_t limit, chunk;

	d->whylen = 0;
	d->why[0] = 0;
	if (n < EDIFF_HDR + 1)
		return -1;
	mode = in[EDIFF_H_MODE] & 3;
	limit = 1 + 4 * (uint64_t)in[EDIFF_H_LIMIT];
	chunk = in[EDIFF_H_CHUNK] < 0x80 ? 0 : (in[EDIFF_H_CHUNK] & 0x7f) + 1;
	ediff_image(d, in, n, mode);
	for (int i = 0; i < 2; i++) {
		struct ediff_side *s = &d->s[i];

		memcpy(s->ram, d->image, EDIFF_IMAGE);
		memset(s->ram + EDIFF_IMAGE, 0, EDIFF_RAM - EDIFF_IMAGE);
		/* the decoded blocks of the last input are stale now */
		emu_code_write(s->vm, 0, (unsigned int)EDIFF_RAM);
		memcpy(s->vm->pic, s->pic, sizeof(s->pic));
		memcpy(s->vm->pit, s->pit, sizeof(s->pit));
		s->vm->ioapic = s->ioapic;
		s->vm->port61 = 0;
		s->vm->vclock_ns = 0;
		s->vm->pit_next = s->vm->pit_period = 0;
		ediff_cpu(s, in, mode);
		ediff_exec(s, limit, chunk);
	}
	d->icount = d->s[0].c->icount;
	ediff_compare(d);
	return d->whylen ? 1 : 0;
}

#endif
