/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_EMU_EXEC_INL_H
#define CABIN_EMU_EXEC_INL_H

/*
 * Hot-path helpers of the interpreter: register access, segmentation and
 * memory access through the software TLB. Included by exec.c and cpu.c.
 */
#include <string.h>

#include "emu/alu-inl.h"
#include "emu/emu.h"

#define HOT static inline __attribute__((always_inline))

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static inline uint64_t mask_of(int size)
{
	return emu_size_mask(size);
}

static inline uint64_t sx(uint64_t v, int size)
{
	int sh = 64 - size * 8;

	return (uint64_t)((int64_t)(v << sh) >> sh);
}

/* read register @r of @size bytes; byte registers 4-7 are AH-BH without REX */
HOT uint64_t get_reg(const struct emu_cpu *c, int r, int size, int rex)
{
	if (size == 1) {
		if (!rex && r >= 4 && r < 8)
			return (c->r[r - 4] >> 8) & 0xff;
		return c->r[r] & 0xff;
	}
	return c->r[r] & mask_of(size);
}

HOT void set_reg(struct emu_cpu *c, int r, int size, int rex, uint64_t v)
{
	switch (size) {
	case 1:
		if (!rex && r >= 4 && r < 8)
			c->r[r - 4] = (c->r[r - 4] & ~0xff00ULL) | ((v & 0xff) << 8);
		else
			c->r[r] = (c->r[r] & ~0xffULL) | (v & 0xff);
		break;
	case 2:
		c->r[r] = (c->r[r] & ~0xffffULL) | (v & 0xffff);
		break;
	case 4:
		c->r[r] = v & 0xffffffffULL; /* 32-bit writes zero the upper half */
		break;
	default:
		c->r[r] = v;
		break;
	}
}

HOT int is_user(const struct emu_cpu *c)
{
	return c->cpl == 3;
}

/* segment:offset to linear, with limit and canonical checks */
HOT uint64_t seg_lin(struct emu_cpu *c, int seg, uint64_t off, int size, int acc)
{
	const struct x86_segment *s = &c->seg[seg];

	if (c->mode == 2) {
		uint64_t lin = off + ((seg == SEG_FS || seg == SEG_GS) ? s->base : 0);

		if (UNLIKELY((uint64_t)(((int64_t)(lin << 16) >> 16)) != lin))
			emu_raise(c, seg == SEG_SS ? EXC_SS : EXC_GP, 1, 0);
		return lin;
	}
	if (UNLIKELY(off + (uint64_t)size - 1 > s->limit || s->unusable ||
		     ((s->type & 4) && !(s->type & 8)) ||
		     (acc == ACC_WRITE && (c->cr0 & CR0_PE) && !(c->flags & FL_VM) &&
		      ((s->type & 0xa) != 2)))) {
		/* slow path: expand-down segments, unusable and read-only segments */
		int bad = 0;

		if (s->unusable && (c->cr0 & CR0_PE) && !(c->flags & FL_VM))
			bad = 1;
		else if ((s->type & 0xc) == 4) { /* expand-down data */
			uint64_t hi = s->db ? 0xffffffffULL : 0xffffULL;

			bad = off <= s->limit || off + (uint64_t)size - 1 > hi;
		} else if (off + (uint64_t)size - 1 > s->limit) {
			bad = 1;
		}
		if (acc == ACC_WRITE && (c->cr0 & CR0_PE) && !(c->flags & FL_VM) &&
		    ((s->type & 0xa) != 2))
			bad = 1; /* code segment or read-only data */
		if (bad)
			emu_raise(c, seg == SEG_SS ? EXC_SS : EXC_GP, 1, 0);
	}
	return (s->base + off) & 0xffffffffULL;
}

HOT uint64_t lin_read(struct emu_cpu *c, uint64_t lin, int size)
{
	const struct emu_tlb_entry *e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
	uint32_t need = is_user(c) ? TLB_R_USR : TLB_R_SUP;
	uint64_t v = 0;

	if (LIKELY(e->vpage == (lin & ~0xfffULL) && (e->perm & need) && e->host &&
		   (lin & 0xfff) <= 4096u - (unsigned int)size)) {
		const uint8_t *p = e->host + (lin & 0xfff);

		switch (size) {
		case 1:
			return *p;
		case 2: {
			uint16_t x;
			memcpy(&x, p, 2);
			return x;
		}
		case 4: {
			uint32_t x;
			memcpy(&x, p, 4);
			return x;
		}
		default:
			memcpy(&v, p, 8);
			return v;
		}
	}
	emu_lin_read(c, lin, &v, (unsigned int)size, ACC_READ, is_user(c));
	return v;
}

/* host pointer for a write of @size bytes at @lin when the fast path allows it */
HOT uint8_t *lin_wptr(struct emu_cpu *c, uint64_t lin, int size)
{
	const struct emu_tlb_entry *e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
	uint32_t need = (is_user(c) ? TLB_W_USR : TLB_W_SUP) | TLB_DIRTY;

	if (LIKELY(e->vpage == (lin & ~0xfffULL) && (e->perm & need) == need && e->host &&
		   (lin & 0xfff) <= 4096u - (unsigned int)size &&
		   !c->vm->code_page[e->ppage >> 12]))
		return e->host + (lin & 0xfff);
	return NULL;
}

/* Store the low @size bytes of @v at host pointer @p (guest RAM, any alignment). */
HOT void store_p(uint8_t *p, int size, uint64_t v)
{
	switch (size) {
	case 1:
		*p = (uint8_t)v;
		break;
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
		break;
	}
	default:
		memcpy(p, &v, 8);
		break;
	}
}

HOT void lin_write(struct emu_cpu *c, uint64_t lin, int size, uint64_t v)
{
	uint8_t *p = lin_wptr(c, lin, size);

	if (LIKELY(p != NULL)) {
		store_p(p, size, v);
		return;
	}
	emu_lin_write(c, lin, &v, (unsigned int)size, is_user(c));
}

/* system-structure accesses (GDT, IDT, TSS) are supervisor accesses whatever the CPL */
static inline uint64_t sys_read(struct emu_cpu *c, uint64_t lin, int size)
{
	uint64_t v = 0;

	emu_lin_read(c, lin, &v, (unsigned int)size, ACC_READ, 0);
	return v;
}

static inline void sys_write(struct emu_cpu *c, uint64_t lin, int size, uint64_t v)
{
	emu_lin_write(c, lin, &v, (unsigned int)size, 0);
}

static inline int stack_size(const struct emu_cpu *c)
{
	if (c->mode == 2)
		return 8;
	return c->seg[SEG_SS].db ? 4 : 2;
}

static inline uint64_t sp_mask(const struct emu_cpu *c)
{
	return mask_of(stack_size(c));
}

/* push @v (@size bytes); RSP changes only once the write succeeded */
static inline void push(struct emu_cpu *c, int size, uint64_t v)
{
	uint64_t m = sp_mask(c);
	uint64_t sp = (c->r[4] - (uint64_t)size) & m;

	lin_write(c, seg_lin(c, SEG_SS, sp, size, ACC_WRITE), size, v);
	c->r[4] = (c->r[4] & ~m) | sp;
}

static inline uint64_t pop(struct emu_cpu *c, int size)
{
	uint64_t m = sp_mask(c);
	uint64_t sp = c->r[4] & m;
	uint64_t v = lin_read(c, seg_lin(c, SEG_SS, sp, size, ACC_READ), size);

	c->r[4] = (c->r[4] & ~m) | ((sp + (uint64_t)size) & m);
	return v;
}

#endif
