/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_EMU_EXEC_INL_H
#define CABIN_EMU_EXEC_INL_H

/*
 * Hot-path helpers of the interpreter: register access, segmentation and
 * memory access through the software TLB. Included by exec*.c and cpu.c.
 */
#include <string.h>

#include "emu/alu-inl.h"
#include "emu/emu.h"
#include "emu/optab.h"

#define HOT static inline __attribute__((always_inline))

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/*
 * Threaded dispatch (exec.c): a handler that can neither fault, nor branch, nor
 * stop its block, nor needs RIP, has a threaded twin that ends by tail-calling
 * the next instruction of the block; EMU_THREADED(f) makes t_f from f. The block's
 * end marker returns. Without the tail call (-O0) the depth is still one block.
 */
#define EMU_NEXT(c, in) ((in)[1].run((c), (in) + 1))
#define EMU_THREADED(f)                                                                            \
	__attribute__((flatten)) static void t_##f(struct emu_cpu *c, const struct emu_insn *in)   \
	{                                                                                          \
		f(c, in);                                                                          \
		EMU_NEXT(c, in);                                                                   \
	}
/* plain handler -> threaded twin, for emu_threaded() */
struct emu_thr {
	emu_insn_fn fn, t;
};
#define EMU_THR(f)                                                                                 \
	{                                                                                          \
		f, t_##f                                                                           \
	}
extern const struct emu_thr emu_thr_alu[], emu_thr_mov[], emu_thr_control[];
extern const unsigned int emu_thr_alu_n, emu_thr_mov_n, emu_thr_control_n;

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
	uint32_t need = is_user(c) ? TLB_R_USR : TLB_R_SUP | emu_tlb_need_smap(c);
	uint64_t v = 0;

	if (LIKELY(e->vpage == (lin & ~0xfffULL) && (e->perm & need) == need && e->host &&
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
	uint32_t need = (is_user(c) ? TLB_W_USR : TLB_W_SUP | emu_tlb_need_smap(c)) | TLB_DIRTY;

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

/* operand access shared by the exec-*.c handlers */
HOT uint64_t ea(const struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t a = (uint64_t)(int64_t)in->disp;

	if (in->base != 0xff)
		a += c->r[in->base];
	if (in->index != 0xff)
		a += c->r[in->index] << in->scale;
	if (in->riprel)
		a += c->next_rip;
	if (in->asz == 4)
		a &= 0xffffffffULL;
	else if (in->asz == 2)
		a &= 0xffff;
	return a;
}

HOT uint64_t rm_lin(struct emu_cpu *c, const struct emu_insn *in, int size, int acc)
{
	return seg_lin(c, in->seg, ea(c, in), size, acc);
}

HOT uint64_t rm_read(struct emu_cpu *c, const struct emu_insn *in, int size)
{
	if (in->mod == 3)
		return get_reg(c, in->rm, size, in->rex);
	return lin_read(c, rm_lin(c, in, size, ACC_READ), size);
}

HOT void rm_write(struct emu_cpu *c, const struct emu_insn *in, int size, uint64_t v)
{
	if (in->mod == 3)
		set_reg(c, in->rm, size, in->rex, v);
	else
		lin_write(c, rm_lin(c, in, size, ACC_WRITE), size, v);
}

HOT uint64_t load_p(const uint8_t *p, int size)
{
	switch (size) {
	case 1:
		return __atomic_load_n(p, __ATOMIC_RELAXED);
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
	default: {
		uint64_t x;
		memcpy(&x, p, 8);
		return x;
	}
	}
}

/* compare-and-swap on guest RAM for LOCKed read-modify-write instructions */
static inline int cas_p(uint8_t *p, int size, uint64_t old, uint64_t nv)
{
	switch (size) {
	case 1: {
		uint8_t o = (uint8_t)old;
		return __atomic_compare_exchange_n(p, &o, (uint8_t)nv, 0, __ATOMIC_SEQ_CST,
						   __ATOMIC_SEQ_CST);
	}
	case 2: {
		uint16_t o = (uint16_t)old;
		return __atomic_compare_exchange_n((uint16_t *)(void *)p, &o, (uint16_t)nv, 0,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	case 4: {
		uint32_t o = (uint32_t)old;
		return __atomic_compare_exchange_n((uint32_t *)(void *)p, &o, (uint32_t)nv, 0,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	default: {
		uint64_t o = old;
		return __atomic_compare_exchange_n((uint64_t *)(void *)p, &o, nv, 0,
						   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	}
}

/*
 * @p for host atomics on @size bytes, or NULL when they would be a split lock (the
 * bytes cross a host cache line; guest RAM is page-aligned, so a guest line too).
 * The host takes a bus lock for those, which split-lock detection answers by
 * stalling the thread (seconds per instruction here) or with SIGBUS
 * (split_lock_detect=fatal): a guest must not get that from the VMM. Callers fall
 * back to a plain read and write, atomic for this vCPU but not against others,
 * which is what a guest that splits a lock across lines can expect of a VMM.
 */
static inline uint8_t *atomic_ptr(uint8_t *p, int size)
{
	return p && ((uintptr_t)p & 63) + (unsigned int)size > 64 ? NULL : p;
}

/*
 * A read-modify-write memory operand: checks write access first (so a
 * read-only page faults before anything changes) and gives a host pointer
 * when the operand is plain RAM inside one page and one host cache line (the
 * LOCKed forms use it for host atomics: atomic_ptr()).
 */
struct rmw {
	uint64_t lin;
	uint8_t *p;
};

HOT void rmw_begin(struct emu_cpu *c, const struct emu_insn *in, int size, struct rmw *r)
{
	r->lin = rm_lin(c, in, size, ACC_WRITE);
	r->p = lin_wptr(c, r->lin, size);
	if (!r->p) {
		if ((r->lin & 0xfff) <= 4096u - (unsigned int)size) {
			emu_tlb_fill(c, r->lin, ACC_WRITE, is_user(c));
			r->p = lin_wptr(c, r->lin, size);
		} else {
			/* crossing pages: probe both for write */
			emu_tlb_fill(c, r->lin, ACC_WRITE, is_user(c));
			emu_tlb_fill(c, r->lin + (uint64_t)size - 1, ACC_WRITE, is_user(c));
		}
	}
	r->p = atomic_ptr(r->p, size);
}

HOT uint64_t rmw_read(struct emu_cpu *c, struct rmw *r, int size)
{
	if (r->p)
		return load_p(r->p, size);
	return lin_read(c, r->lin, size);
}

HOT void rmw_write(struct emu_cpu *c, struct rmw *r, int size, uint64_t v)
{
	if (r->p)
		store_p(r->p, size, v);
	else
		lin_write(c, r->lin, size, v);
}

/* ALU op on the r/m operand with @src */
HOT void alu_rm(struct emu_cpu *c, const struct emu_insn *in, int op, int size, uint64_t src)
{
	struct rmw r;
	uint64_t a, res;

	if (in->mod == 3) {
		a = get_reg(c, in->rm, size, in->rex);
		res = alu_inl(c, op, size, a, src);
		if (op != ALU_CMP)
			set_reg(c, in->rm, size, in->rex, res);
		return;
	}
	if (op == ALU_CMP) {
		a = lin_read(c, rm_lin(c, in, size, ACC_READ), size);
		alu_inl(c, op, size, a, src);
		return;
	}
	rmw_begin(c, in, size, &r);
	if (in->lock && r.p) {
		do {
			a = load_p(r.p, size);
			res = alu_inl(c, op, size, a, src);
		} while (!cas_p(r.p, size, a, res));
		return;
	}
	a = rmw_read(c, &r, size);
	res = alu_inl(c, op, size, a, src);
	rmw_write(c, &r, size, res);
}

static inline void jump_to(struct emu_cpu *c, uint64_t target, int osz)
{
	if (c->mode == 2) {
		if (osz == 2)
			target &= 0xffff;
		if ((uint64_t)((int64_t)(target << 16) >> 16) != target)
			emu_raise(c, EXC_GP, 1, 0);
	} else {
		target &= mask_of(osz);
		if (target > c->seg[SEG_CS].limit)
			emu_raise(c, EXC_GP, 1, 0);
	}
	c->next_rip = target;
}

/* operand size of stack operations: 64-bit mode defaults to 8 */
static inline int stack_osz(const struct emu_cpu *c, const struct emu_insn *in)
{
	if (c->mode == 2)
		return in->osz == 2 ? 2 : 8;
	return in->osz;
}

static inline int cpl0_check(struct emu_cpu *c)
{
	if (c->cpl != 0)
		emu_raise(c, EXC_GP, 1, 0);
	return 0;
}

/* string instruction helpers */
static inline uint64_t str_reg(const struct emu_cpu *c, int r, int asz)
{
	return c->r[r] & mask_of(asz);
}

static inline void str_adv(struct emu_cpu *c, int r, int asz, int64_t delta)
{
	uint64_t m = mask_of(asz);

	if (asz == 4)
		c->r[r] = (c->r[r] + (uint64_t)delta) & m;
	else
		c->r[r] = (c->r[r] & ~m) | ((c->r[r] + (uint64_t)delta) & m);
}

/*
 * SSE and MMX operands. SSE forms: call sse_check()
 * first; the ModRM.reg operand is c->xmm[in->reg] (REX.R included), the
 * r/m operand goes through xmm_rm_read()/xmm_rm_write().
 */
static inline void sse_check(struct emu_cpu *c)
{
	if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR))
		emu_raise(c, EXC_UD, 0, 0);
	if (c->cr0 & CR0_TS)
		emu_raise(c, EXC_NM, 0, 0);
}

/* an unmasked SIMD floating-point exception (MXCSR flags already set): #XM or #UD */
__attribute__((noreturn)) static inline void sse_raise_fp(struct emu_cpu *c)
{
	emu_raise(c, (c->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD, 0, 0);
}

/* r/m operand of @size bytes (1-16): XMM register rm, or memory (@align16: #GP unless aligned) */
static inline void xmm_rm_read(struct emu_cpu *c, const struct emu_insn *in, void *dst,
			       unsigned int size, int align16)
{
	uint64_t lin;

	if (in->mod == 3) {
		memcpy(dst, &c->xmm[in->rm], size);
		return;
	}
	lin = rm_lin(c, in, (int)size, ACC_READ);
	if (align16 && (lin & 15))
		emu_raise(c, EXC_GP, 1, 0);
	emu_lin_read(c, lin, dst, size, ACC_READ, is_user(c));
}

static inline void xmm_rm_write(struct emu_cpu *c, const struct emu_insn *in, const void *src,
				unsigned int size, int align16)
{
	uint64_t lin;

	if (in->mod == 3) {
		memcpy(&c->xmm[in->rm], src, size);
		return;
	}
	lin = rm_lin(c, in, (int)size, ACC_WRITE);
	if (align16 && (lin & 15))
		emu_raise(c, EXC_GP, 1, 0);
	emu_lin_write(c, lin, src, size, is_user(c));
}

/* MMX forms: call mmx_enter() first (#UD with CR0.EM, #NM with CR0.TS, then TOP=0, all valid) */
static inline void mmx_enter(struct emu_cpu *c)
{
	if (c->cr0 & CR0_EM)
		emu_raise(c, EXC_UD, 0, 0);
	if (c->cr0 & CR0_TS)
		emu_raise(c, EXC_NM, 0, 0);
	emu_fpu_pending(c); /* a pending unmasked x87 exception is delivered first (#MF) */
	c->fpu_sw &= (uint16_t)~0x3800u;
	c->fpu_tag = 0;
}

/* MMX register @i (0-7): the significand of physical x87 register i */
static inline uint64_t mmx_get(const struct emu_cpu *c, int i)
{
	return c->fpr[i & 7].mant;
}

/* an MMX write also sets the register's sign and exponent to all ones */
static inline void mmx_set(struct emu_cpu *c, int i, uint64_t v)
{
	c->fpr[i & 7].mant = v;
	c->fpr[i & 7].sexp = 0xffff;
}

/* EMMS: all x87 registers empty */
static inline void mmx_emms(struct emu_cpu *c)
{
	c->fpu_tag = 0xffff;
}

#endif
