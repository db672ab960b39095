/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interpreter: fetches through the software TLB, looks the instruction up
 * in the decoded-instruction cache (keyed by guest-physical address and mode,
 * invalidated when its page is written), and executes it. Register and memory
 * effects of an instruction that faults are not committed: RIP advances only
 * at the end, and stack pointers change only after the stack write succeeded.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "emu/exec-inl.h"
#include "vm/machine.h"

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
 * A read-modify-write memory operand: checks write access first (so a
 * read-only page faults before anything changes) and gives a host pointer
 * when the operand is plain RAM inside one page.
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

static void check_io(struct emu_cpu *c, uint16_t port, int size)
{
	uint64_t tss_lin, limit;
	uint16_t off, bits;

	if (!(c->cr0 & CR0_PE) || (!(c->flags & FL_VM) && c->cpl <= (int)((c->flags >> 12) & 3)))
		return;
	/* consult the TSS I/O permission bitmap */
	limit = c->seg[SEG_TR].limit;
	tss_lin = c->seg[SEG_TR].base;
	if (limit < 0x67)
		emu_raise(c, EXC_GP, 1, 0);
	off = (uint16_t)sys_read(c, tss_lin + 0x66, 2);
	if ((uint64_t)off + port / 8 + 1 > limit)
		emu_raise(c, EXC_GP, 1, 0);
	bits = (uint16_t)sys_read(c, tss_lin + off + port / 8, 2);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		emu_raise(c, EXC_GP, 1, 0);
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

#define REP_CHUNK 4096

/* run one string instruction (with or without REP); Return: 1 when done */
static int string_op(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned int op = in->op;
	int size = (op & 1) ? in->osz : 1;
	int asz = in->asz;
	int64_t d = (c->flags & FL_DF) ? -(int64_t)size : size;
	uint64_t cm = mask_of(asz);
	int rep = in->rep != 0;
	unsigned int n = 0;

	if (op == 0x6c || op == 0x6d || op == 0x6e || op == 0x6f) {
		size = (op & 1) ? (in->osz == 8 ? 4 : in->osz) : 1;
		d = (c->flags & FL_DF) ? -(int64_t)size : size;
		check_io(c, (uint16_t)c->r[2], size);
	}
	for (;;) {
		uint64_t v, a, b;

		if (rep && (c->r[1] & cm) == 0)
			return 1;
		switch (op) {
		case 0xa4:
		case 0xa5: /* MOVS */
			v = lin_read(c, seg_lin(c, in->seg, str_reg(c, 6, asz), size, ACC_READ),
				     size);
			lin_write(c, seg_lin(c, SEG_ES, str_reg(c, 7, asz), size, ACC_WRITE), size,
				  v);
			str_adv(c, 6, asz, d);
			str_adv(c, 7, asz, d);
			break;
		case 0xaa:
		case 0xab: /* STOS */
			lin_write(c, seg_lin(c, SEG_ES, str_reg(c, 7, asz), size, ACC_WRITE), size,
				  c->r[0]);
			str_adv(c, 7, asz, d);
			break;
		case 0xac:
		case 0xad: /* LODS */
			v = lin_read(c, seg_lin(c, in->seg, str_reg(c, 6, asz), size, ACC_READ),
				     size);
			set_reg(c, 0, size, 1, v);
			str_adv(c, 6, asz, d);
			break;
		case 0xa6:
		case 0xa7: /* CMPS */
			a = lin_read(c, seg_lin(c, in->seg, str_reg(c, 6, asz), size, ACC_READ),
				     size);
			b = lin_read(c, seg_lin(c, SEG_ES, str_reg(c, 7, asz), size, ACC_READ),
				     size);
			alu_inl(c, ALU_CMP, size, a, b);
			str_adv(c, 6, asz, d);
			str_adv(c, 7, asz, d);
			break;
		case 0xae:
		case 0xaf: /* SCAS */
			b = lin_read(c, seg_lin(c, SEG_ES, str_reg(c, 7, asz), size, ACC_READ),
				     size);
			alu_inl(c, ALU_CMP, size, c->r[0], b);
			str_adv(c, 7, asz, d);
			break;
		case 0x6c:
		case 0x6d: { /* INS */
			uint32_t val = 0;
			uint64_t lin = seg_lin(c, SEG_ES, str_reg(c, 7, asz), size, ACC_WRITE);

			/* probe the destination before the port is read */
			emu_tlb_fill(c, lin, ACC_WRITE, is_user(c));
			if (!emu_io_in(c, (uint16_t)c->r[2], size, &val))
				return 0; /* exit for data; the instruction replays */
			lin_write(c, lin, size, val);
			str_adv(c, 7, asz, d);
			break;
		}
		default: /* OUTS */
			v = lin_read(c, seg_lin(c, in->seg, str_reg(c, 6, asz), size, ACC_READ),
				     size);
			emu_io_out(c, (uint16_t)c->r[2], size, (uint32_t)v);
			str_adv(c, 6, asz, d);
			break;
		}
		if (!rep)
			return 1;
		str_adv(c, 1, asz, -1);
		c->icount++;
		if ((op == 0xa6 || op == 0xa7 || op == 0xae || op == 0xaf) &&
		    emu_cond(c, 4) != (in->rep == 0xf3))
			return 1; /* REPE stops on ZF=0, REPNE on ZF=1 */
		if ((c->r[1] & cm) == 0)
			return 1;
		if (c->exit_ready || ++n >= REP_CHUNK || c->kick)
			return 0; /* continue later: RIP stays on this instruction */
	}
}

static void do_hlt(struct emu_cpu *c)
{
	cpl0_check(c);
	c->state = EMU_HALTED;
	c->stop_block = 1;
}

static void group5(struct emu_cpu *c, const struct emu_insn *in)
{
	int size = in->osz;
	int sub = in->reg & 7;
	uint64_t v;

	switch (sub) {
	case 0:
	case 1: {
		struct rmw r;
		uint64_t a, res;

		if (in->mod == 3) {
			a = get_reg(c, in->rm, size, in->rex);
			set_reg(c, in->rm, size, in->rex, emu_incdec(c, sub, size, a));
			return;
		}
		rmw_begin(c, in, size, &r);
		if (in->lock && r.p) {
			uint64_t save_cf = emu_flags_get(c);

			do {
				emu_flags_set(c, save_cf);
				a = load_p(r.p, size);
				res = emu_incdec(c, sub, size, a);
			} while (!cas_p(r.p, size, a, res));
			return;
		}
		a = rmw_read(c, &r, size);
		rmw_write(c, &r, size, emu_incdec(c, sub, size, a));
		return;
	}
	case 2: /* CALL near indirect */
		size = stack_osz(c, in);
		v = rm_read(c, in, size);
		push(c, size, c->next_rip);
		jump_to(c, v, size);
		return;
	case 4: /* JMP near indirect */
		size = stack_osz(c, in);
		v = rm_read(c, in, size);
		jump_to(c, v, size);
		return;
	case 3:
	case 5: { /* CALL/JMP far indirect */
		uint64_t lin, off;
		uint16_t sel;

		if (in->mod == 3)
			emu_raise(c, EXC_UD, 0, 0);
		lin = rm_lin(c, in, size + 2, ACC_READ);
		off = lin_read(c, lin, size);
		sel = (uint16_t)lin_read(c, lin + (uint64_t)size, 2);
		emu_far_jump(c, sel, off, sub == 3, size);
		return;
	}
	case 6: /* PUSH r/m */
		size = stack_osz(c, in);
		v = rm_read(c, in, size);
		push(c, size, v);
		return;
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

static void group3(struct emu_cpu *c, const struct emu_insn *in, int size)
{
	int sub = in->reg & 7;
	uint64_t a, lo, hi, q, r;

	switch (sub) {
	case 0:
	case 1: /* TEST */
		a = rm_read(c, in, size);
		alu_inl(c, ALU_AND, size, a, in->imm);
		return;
	case 2:	  /* NOT */
	case 3: { /* NEG */
		struct rmw w;

		if (in->mod == 3) {
			a = get_reg(c, in->rm, size, in->rex);
			set_reg(c, in->rm, size, in->rex, sub == 2 ? ~a : emu_neg(c, size, a));
			return;
		}
		rmw_begin(c, in, size, &w);
		if (in->lock && w.p) {
			uint64_t res;

			do {
				a = load_p(w.p, size);
				res = sub == 2 ? ~a : emu_neg(c, size, a);
			} while (!cas_p(w.p, size, a, res));
			return;
		}
		a = rmw_read(c, &w, size);
		rmw_write(c, &w, size, sub == 2 ? ~a : emu_neg(c, size, a));
		return;
	}
	case 4:
	case 5: /* MUL / IMUL */
		a = rm_read(c, in, size);
		emu_mul(c, sub == 5, size, get_reg(c, 0, size, 1), a, &lo, &hi);
		if (size == 1) {
			set_reg(c, 0, 2, 1, (lo & 0xff) | (hi << 8));
		} else {
			set_reg(c, 0, size, 1, lo);
			set_reg(c, 2, size, 1, hi);
		}
		return;
	default: /* DIV / IDIV */
		a = rm_read(c, in, size);
		if (size == 1) {
			if (emu_div(c, sub == 7, 1, (c->r[0] >> 8) & 0xff, c->r[0] & 0xff, a, &q,
				    &r))
				emu_raise(c, EXC_DE, 0, 0);
			set_reg(c, 0, 2, 1, (q & 0xff) | ((r & 0xff) << 8));
		} else {
			if (emu_div(c, sub == 7, size, get_reg(c, 2, size, 1),
				    get_reg(c, 0, size, 1), a, &q, &r))
				emu_raise(c, EXC_DE, 0, 0);
			set_reg(c, 0, size, 1, q);
			set_reg(c, 2, size, 1, r);
		}
		return;
	}
}

static void shift_rm(struct emu_cpu *c, const struct emu_insn *in, int size, unsigned int count)
{
	int op = in->reg & 7;
	struct rmw r;
	uint64_t a;

	if (in->mod == 3) {
		a = get_reg(c, in->rm, size, in->rex);
		set_reg(c, in->rm, size, in->rex, emu_shift(c, op, size, a, count));
		return;
	}
	rmw_begin(c, in, size, &r);
	a = rmw_read(c, &r, size);
	a = emu_shift(c, op, size, a, count);
	rmw_write(c, &r, size, a);
}

/* BT/BTS/BTR/BTC with a register or immediate bit offset */
static void bit_op(struct emu_cpu *c, const struct emu_insn *in, int op, uint64_t bit, int is_imm)
{
	int size = in->osz;
	uint64_t a, res;
	struct rmw r;
	struct emu_insn tmp;

	if (in->mod == 3) {
		a = get_reg(c, in->rm, size, in->rex);
		res = emu_bt(c, op, size, a, bit);
		if (op)
			set_reg(c, in->rm, size, in->rex, res);
		return;
	}
	/* a register bit offset is signed and may address beyond the operand */
	tmp = *in;
	if (!is_imm) {
		int64_t sb = (int64_t)sx(bit, size);
		int64_t byteoff = (sb >> 3) & ~(int64_t)(size - 1);

		tmp.disp = in->disp; /* ea() adds disp; add the offset below */
		{
			uint64_t off = (ea(c, in) + (uint64_t)byteoff) & mask_of(in->asz);

			if (!op) {
				a = lin_read(c, seg_lin(c, in->seg, off, size, ACC_READ), size);
				emu_bt(c, 0, size, a, bit);
				return;
			}
			r.lin = seg_lin(c, in->seg, off, size, ACC_WRITE);
			r.p = NULL;
			a = lin_read(c, r.lin, size);
			res = emu_bt(c, op, size, a, bit);
			lin_write(c, r.lin, size, res);
			return;
		}
	}
	if (!op) {
		a = rm_read(c, in, size);
		emu_bt(c, 0, size, a, bit);
		return;
	}
	rmw_begin(c, &tmp, size, &r);
	if (in->lock && r.p) {
		do {
			a = load_p(r.p, size);
			res = emu_bt(c, op, size, a, bit);
		} while (!cas_p(r.p, size, a, res));
		return;
	}
	a = rmw_read(c, &r, size);
	rmw_write(c, &r, size, emu_bt(c, op, size, a, bit));
}

static void exec_0f(struct emu_cpu *c, const struct emu_insn *in);

/* execute one decoded instruction; c->next_rip is already RIP + length */
static void exec_insn(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned int op = in->op;
	int size = in->osz;
	uint64_t a, b, v;

	if (UNLIKELY(in->lock)) {
		/* LOCK is valid only on read-modify-write forms with a memory destination */
		int ok = 0;

		if (in->mod != 3 && in->has_modrm) {
			if ((op < 0x40 && (op & 7) < 2 && (op & 0x38) != 0x38) ||
			    ((op == 0x80 || op == 0x81 || op == 0x83) && (in->reg & 7) != 7) ||
			    op == 0x86 || op == 0x87 ||
			    ((op == 0xf6 || op == 0xf7) &&
			     ((in->reg & 7) == 2 || (in->reg & 7) == 3)) ||
			    ((op == 0xfe || op == 0xff) && (in->reg & 7) < 2) || op == 0x1ab ||
			    op == 0x1b3 || op == 0x1bb || (op == 0x1ba && (in->reg & 7) >= 5) ||
			    op == 0x1b0 || op == 0x1b1 || op == 0x1c0 || op == 0x1c1 ||
			    (op == 0x1c7 && (in->reg & 7) == 1))
				ok = 1;
		}
		if (!ok)
			emu_raise(c, EXC_UD, 0, 0);
	}

	if (op < 0x40 && (op & 7) < 6) {
		int alu = (int)(op >> 3);

		switch (op & 7) {
		case 0:
			alu_rm(c, in, alu, 1, get_reg(c, in->reg, 1, in->rex));
			return;
		case 1:
			alu_rm(c, in, alu, size, get_reg(c, in->reg, size, in->rex));
			return;
		case 2:
			a = get_reg(c, in->reg, 1, in->rex);
			v = alu_inl(c, alu, 1, a, rm_read(c, in, 1));
			if (alu != ALU_CMP)
				set_reg(c, in->reg, 1, in->rex, v);
			return;
		case 3:
			a = get_reg(c, in->reg, size, in->rex);
			v = alu_inl(c, alu, size, a, rm_read(c, in, size));
			if (alu != ALU_CMP)
				set_reg(c, in->reg, size, in->rex, v);
			return;
		case 4:
			v = alu_inl(c, alu, 1, c->r[0], in->imm);
			if (alu != ALU_CMP)
				set_reg(c, 0, 1, 1, v);
			return;
		default:
			v = alu_inl(c, alu, size, c->r[0], in->imm);
			if (alu != ALU_CMP)
				set_reg(c, 0, size, 1, v);
			return;
		}
	}
	if (op >= 0x100) {
		exec_0f(c, in);
		return;
	}

	switch (op) {
	case 0x06:
	case 0x0e:
	case 0x16:
	case 0x1e: /* PUSH sreg */
		push(c, in->osz, c->seg[op >> 3].selector);
		return;
	case 0x07:
	case 0x17:
	case 0x1f: { /* POP sreg */
		uint64_t m = sp_mask(c), sp = c->r[4] & m;

		v = lin_read(c, seg_lin(c, SEG_SS, sp, 2, ACC_READ), 2);
		emu_load_seg(c, (int)(op >> 3), (uint16_t)v);
		c->r[4] = (c->r[4] & ~m) | ((sp + (uint64_t)size) & m);
		if (op == 0x17)
			c->irq_shadow = c->stop_block = 1;
		return;
	}
	case 0x27:
	case 0x2f: { /* DAA / DAS */
		uint64_t fl = emu_flags_get(c);
		uint8_t al = (uint8_t)c->r[0], old = al;
		int cf = fl & FL_CF, af = 0, ncf = 0;

		if ((al & 0xf) > 9 || (fl & FL_AF)) {
			al = op == 0x27 ? (uint8_t)(al + 6) : (uint8_t)(al - 6);
			ncf = cf || (op == 0x27 ? old > 0xf9 : old < 6);
			af = 1;
		}
		if (old > 0x99 || cf) {
			al = op == 0x27 ? (uint8_t)(al + 0x60) : (uint8_t)(al - 0x60);
			ncf = 1;
		}
		set_reg(c, 0, 1, 1, al);
		alu_inl(c, ALU_OR, 1, al, 0);
		fl = emu_flags_get(c) & ~(uint64_t)(FL_CF | FL_AF);
		emu_flags_set(c, fl | (ncf ? FL_CF : 0) | (af ? FL_AF : 0));
		return;
	}
	case 0x37:
	case 0x3f: { /* AAA / AAS */
		uint64_t fl = emu_flags_get(c);
		uint16_t ax = (uint16_t)c->r[0];

		if ((ax & 0xf) > 9 || (fl & FL_AF)) {
			ax = op == 0x37 ? (uint16_t)(ax + 0x106) : (uint16_t)(ax - 6 - 0x100);
			fl |= FL_AF | FL_CF;
		} else {
			fl &= ~(uint64_t)(FL_AF | FL_CF);
		}
		ax &= 0xff0f;
		set_reg(c, 0, 2, 1, ax);
		emu_flags_set(c, fl);
		return;
	}
	case 0x40 ... 0x4f: /* INC/DEC r (not 64-bit mode: those are REX) */
		a = get_reg(c, (int)(op & 7), size, 1);
		set_reg(c, (int)(op & 7), size, 1, emu_incdec(c, op >= 0x48, size, a));
		return;
	case 0x50 ... 0x57:
		size = stack_osz(c, in);
		push(c, size, get_reg(c, (int)(op & 7) | ((in->rex & 1) << 3), size, 1));
		return;
	case 0x58 ... 0x5f:
		size = stack_osz(c, in);
		v = pop(c, size);
		set_reg(c, (int)(op & 7) | ((in->rex & 1) << 3), size, 1, v);
		return;
	case 0x60: { /* PUSHA */
		uint64_t sp = c->r[4];

		for (int i = 0; i < 8; i++)
			push(c, size, i == 4 ? sp : c->r[i]);
		return;
	}
	case 0x61: /* POPA */
		for (int i = 7; i >= 0; i--) {
			v = pop(c, size);
			if (i != 4)
				set_reg(c, i, size, 1, v);
		}
		return;
	case 0x63:
		if (c->mode == 2) { /* MOVSXD */
			v = rm_read(c, in, 4);
			set_reg(c, in->reg, size, 1, size == 8 ? sx(v, 4) : v);
			return;
		}
		if (!(c->cr0 & CR0_PE) || (c->flags & FL_VM))
			emu_raise(c, EXC_UD, 0, 0);
		{ /* ARPL */
			uint64_t dst = rm_read(c, in, 2), src = get_reg(c, in->reg, 2, 1);
			uint64_t fl = emu_flags_get(c);

			if ((dst & 3) < (src & 3)) {
				rm_write(c, in, 2, (dst & ~3ULL) | (src & 3));
				emu_flags_set(c, fl | FL_ZF);
			} else {
				emu_flags_set(c, fl & ~(uint64_t)FL_ZF);
			}
		}
		return;
	case 0x68:
	case 0x6a:
		size = stack_osz(c, in);
		push(c, size, in->imm);
		return;
	case 0x69:
	case 0x6b:
		v = rm_read(c, in, size);
		set_reg(c, in->reg, size, 1, emu_imul2(c, size, v, in->imm));
		return;
	case 0x6c ... 0x6f:
	case 0xa4 ... 0xa7:
	case 0xaa ... 0xaf:
		if (!string_op(c, in))
			c->next_rip = c->rip;
		return;
	case 0x70 ... 0x7f:
		if (emu_cond(c, op & 15))
			jump_to(c, c->next_rip + in->imm, c->mode == 2 ? 8 : size);
		return;
	case 0x80:
	case 0x82:
		alu_rm(c, in, in->reg & 7, 1, in->imm);
		return;
	case 0x81:
	case 0x83:
		alu_rm(c, in, in->reg & 7, size, in->imm);
		return;
	case 0x84:
		alu_inl(c, ALU_AND, 1, rm_read(c, in, 1), get_reg(c, in->reg, 1, in->rex));
		return;
	case 0x85:
		alu_inl(c, ALU_AND, size, rm_read(c, in, size), get_reg(c, in->reg, size, in->rex));
		return;
	case 0x86:
	case 0x87: {
		struct rmw r;

		if (op == 0x86)
			size = 1;
		b = get_reg(c, in->reg, size, in->rex);
		if (in->mod == 3) {
			a = get_reg(c, in->rm, size, in->rex);
			set_reg(c, in->rm, size, in->rex, b);
			set_reg(c, in->reg, size, in->rex, a);
			return;
		}
		rmw_begin(c, in, size, &r);
		if (r.p) {
			/* XCHG with memory is always locked */
			switch (size) {
			case 1:
				a = __atomic_exchange_n(r.p, (uint8_t)b, __ATOMIC_SEQ_CST);
				break;
			case 2:
				a = __atomic_exchange_n((uint16_t *)(void *)r.p, (uint16_t)b,
							__ATOMIC_SEQ_CST);
				break;
			case 4:
				a = __atomic_exchange_n((uint32_t *)(void *)r.p, (uint32_t)b,
							__ATOMIC_SEQ_CST);
				break;
			default:
				a = __atomic_exchange_n((uint64_t *)(void *)r.p, b,
							__ATOMIC_SEQ_CST);
				break;
			}
		} else {
			a = rmw_read(c, &r, size);
			rmw_write(c, &r, size, b);
		}
		set_reg(c, in->reg, size, in->rex, a);
		return;
	}
	case 0x88:
		rm_write(c, in, 1, get_reg(c, in->reg, 1, in->rex));
		return;
	case 0x89:
		rm_write(c, in, size, get_reg(c, in->reg, size, in->rex));
		return;
	case 0x8a:
		set_reg(c, in->reg, 1, in->rex, rm_read(c, in, 1));
		return;
	case 0x8b:
		set_reg(c, in->reg, size, in->rex, rm_read(c, in, size));
		return;
	case 0x8c:
		if ((in->reg & 7) > 5)
			emu_raise(c, EXC_UD, 0, 0);
		v = c->seg[in->reg & 7].selector;
		if (in->mod == 3)
			set_reg(c, in->rm, size, 1, v);
		else
			rm_write(c, in, 2, v);
		return;
	case 0x8d:
		if (in->mod == 3)
			emu_raise(c, EXC_UD, 0, 0);
		set_reg(c, in->reg, size, 1, ea(c, in));
		return;
	case 0x8e:
		if ((in->reg & 7) == SEG_CS || (in->reg & 7) > 5)
			emu_raise(c, EXC_UD, 0, 0);
		v = rm_read(c, in, 2);
		emu_load_seg(c, in->reg & 7, (uint16_t)v);
		if ((in->reg & 7) == SEG_SS)
			c->irq_shadow = c->stop_block = 1;
		return;
	case 0x8f: { /* POP r/m: RSP is incremented before the address is computed */
		uint64_t m = sp_mask(c), sp = c->r[4], nsp;

		size = stack_osz(c, in);
		v = lin_read(c, seg_lin(c, SEG_SS, sp & m, size, ACC_READ), size);
		nsp = (sp & ~m) | ((sp + (uint64_t)size) & m);
		c->r[4] = nsp;
		if (in->mod == 3) {
			set_reg(c, in->rm, size, 1, v);
		} else {
			uint64_t lin = rm_lin(c, in, size, ACC_WRITE);

			c->r[4] = sp;
			lin_write(c, lin, size, v);
			c->r[4] = nsp;
		}
		return;
	}
	case 0x90:
		if (in->rex & 1)
			goto xchg_ax;
		return; /* NOP, PAUSE */
	case 0x91 ... 0x97:
	xchg_ax : {
		int r = (int)(op & 7) | ((in->rex & 1) << 3);

		a = get_reg(c, r, size, 1);
		set_reg(c, r, size, 1, get_reg(c, 0, size, 1));
		set_reg(c, 0, size, 1, a);
		return;
	}
	case 0x98: /* CBW/CWDE/CDQE */
		set_reg(c, 0, size, 1, sx(c->r[0], size / 2));
		return;
	case 0x99: /* CWD/CDQ/CQO */
		set_reg(c, 2, size, 1, (c->r[0] >> (size * 8 - 1)) & 1 ? ~0ULL : 0);
		return;
	case 0x9a:
		emu_far_jump(c, (uint16_t)in->imm2, in->imm, 1, size);
		return;
	case 0x9b: /* FWAIT */
		if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
			emu_raise(c, EXC_NM, 0, 0);
		return;
	case 0x9c: { /* PUSHF */
		uint64_t fl = emu_flags_get(c);

		if ((c->flags & FL_VM) && ((fl >> 12) & 3) != 3)
			emu_raise(c, EXC_GP, 1, 0);
		size = stack_osz(c, in);
		push(c, size, fl & ~(uint64_t)(FL_RF | FL_VM));
		return;
	}
	case 0x9d: { /* POPF */
		uint64_t fl = emu_flags_get(c), mask, nv;
		int iopl = (int)((fl >> 12) & 3);

		if ((c->flags & FL_VM) && iopl != 3)
			emu_raise(c, EXC_GP, 1, 0);
		size = stack_osz(c, in);
		nv = pop(c, size);
		mask = FL_ARITH | FL_TF | FL_DF | FL_OF | FL_NT | FL_AC | FL_ID;
		if (c->cpl == 0 && !(c->flags & FL_VM))
			mask |= FL_IOPL;
		if (c->cpl <= iopl || (c->flags & FL_VM))
			mask |= FL_IF;
		if (size == 2)
			mask &= 0xffff;
		emu_flags_set(c, (fl & ~mask) | (nv & mask));
		return;
	}
	case 0x9e: /* SAHF */
		emu_flags_set(c, (emu_flags_get(c) & ~0xd5ULL) | ((c->r[0] >> 8) & 0xd5));
		return;
	case 0x9f: /* LAHF */
		set_reg(c, 4, 1, 0, (emu_flags_get(c) & 0xd7) | 2);
		return;
	case 0xa0 ... 0xa3: {
		int sz = (op & 1) ? size : 1;
		uint64_t lin = seg_lin(c, in->seg, in->imm, sz, (op & 2) ? ACC_WRITE : ACC_READ);

		if (op & 2)
			lin_write(c, lin, sz, c->r[0]);
		else
			set_reg(c, 0, sz, 1, lin_read(c, lin, sz));
		return;
	}
	case 0xa8:
		alu_inl(c, ALU_AND, 1, c->r[0], in->imm);
		return;
	case 0xa9:
		alu_inl(c, ALU_AND, size, c->r[0], in->imm);
		return;
	case 0xb0 ... 0xb7:
		set_reg(c, (int)(op & 7) | ((in->rex & 1) << 3), 1, in->rex, in->imm);
		return;
	case 0xb8 ... 0xbf:
		set_reg(c, (int)(op & 7) | ((in->rex & 1) << 3), size, 1, in->imm);
		return;
	case 0xc0:
		shift_rm(c, in, 1, (unsigned int)in->imm);
		return;
	case 0xc1:
		shift_rm(c, in, size, (unsigned int)in->imm);
		return;
	case 0xd0:
		shift_rm(c, in, 1, 1);
		return;
	case 0xd1:
		shift_rm(c, in, size, 1);
		return;
	case 0xd2:
		shift_rm(c, in, 1, (unsigned int)c->r[1] & 0xff);
		return;
	case 0xd3:
		shift_rm(c, in, size, (unsigned int)c->r[1] & 0xff);
		return;
	case 0xc2:
	case 0xc3: {
		uint64_t m;

		size = stack_osz(c, in);
		v = pop(c, size);
		jump_to(c, v, size);
		if (op == 0xc2) {
			m = sp_mask(c);
			c->r[4] = (c->r[4] & ~m) | ((c->r[4] + in->imm) & m);
		}
		return;
	}
	case 0xc4:
	case 0xc5: { /* LES / LDS */
		uint64_t lin;

		if (in->mod == 3)
			emu_raise(c, EXC_UD, 0, 0);
		lin = rm_lin(c, in, size + 2, ACC_READ);
		v = lin_read(c, lin, size);
		b = lin_read(c, lin + (uint64_t)size, 2);
		emu_load_seg(c, op == 0xc4 ? SEG_ES : SEG_DS, (uint16_t)b);
		set_reg(c, in->reg, size, 1, v);
		return;
	}
	case 0xc6:
		if ((in->reg & 7) != 0)
			emu_raise(c, EXC_UD, 0, 0);
		rm_write(c, in, 1, in->imm);
		return;
	case 0xc7:
		if ((in->reg & 7) != 0)
			emu_raise(c, EXC_UD, 0, 0);
		rm_write(c, in, size, in->imm);
		return;
	case 0xc8: { /* ENTER */
		uint64_t m = sp_mask(c);
		unsigned int level = (unsigned int)in->imm2 & 31;
		uint64_t bp = c->r[5], sp, frame;
		int ss = stack_size(c);

		size = stack_osz(c, in);
		sp = (c->r[4] - (uint64_t)size) & m;
		lin_write(c, seg_lin(c, SEG_SS, sp, size, ACC_WRITE), size, bp);
		frame = sp;
		for (unsigned int i = 1; i < level; i++) {
			uint64_t t;

			bp = (bp & ~mask_of(ss)) | ((bp - (uint64_t)size) & mask_of(ss));
			t = lin_read(c, seg_lin(c, SEG_SS, bp & m, size, ACC_READ), size);
			sp = (sp - (uint64_t)size) & m;
			lin_write(c, seg_lin(c, SEG_SS, sp, size, ACC_WRITE), size, t);
		}
		if (level) {
			sp = (sp - (uint64_t)size) & m;
			lin_write(c, seg_lin(c, SEG_SS, sp, size, ACC_WRITE), size, frame);
		}
		sp = (sp - in->imm) & m;
		seg_lin(c, SEG_SS, sp, 1, ACC_WRITE);
		set_reg(c, 5, size, 1, frame);
		c->r[4] = (c->r[4] & ~m) | sp;
		return;
	}
	case 0xc9: { /* LEAVE */
		uint64_t m = sp_mask(c), sp = c->r[5] & m;

		size = stack_osz(c, in);
		v = lin_read(c, seg_lin(c, SEG_SS, sp, size, ACC_READ), size);
		c->r[4] = (c->r[4] & ~m) | ((sp + (uint64_t)size) & m);
		set_reg(c, 5, size, 1, v);
		return;
	}
	case 0xca:
	case 0xcb:
		emu_far_ret(c, size, op == 0xca ? (uint16_t)in->imm : 0);
		return;
	case 0xcc:
		c->soft_int = 1;
		c->soft_int_rip = c->rip;
		c->rip = c->next_rip;
		emu_deliver(c, EXC_BP, INT_SOFT, 0, 0);
		c->next_rip = c->rip;
		c->soft_int = 0;
		return;
	case 0xcd:
		if ((c->flags & FL_VM) && ((c->flags >> 12) & 3) != 3)
			emu_raise(c, EXC_GP, 1, 0);
		c->soft_int = 1;
		c->soft_int_rip = c->rip;
		c->rip = c->next_rip;
		emu_deliver(c, (int)(in->imm & 0xff), INT_SOFT, 0, 0);
		c->next_rip = c->rip;
		c->soft_int = 0;
		return;
	case 0xce:
		if (emu_cond(c, 0)) {
			c->soft_int = 1;
			c->soft_int_rip = c->rip;
			c->rip = c->next_rip;
			emu_deliver(c, EXC_OF, INT_SOFT, 0, 0);
			c->next_rip = c->rip;
			c->soft_int = 0;
		}
		return;
	case 0xcf:
		emu_iret(c, size);
		return;
	case 0xd4: { /* AAM */
		uint8_t base = (uint8_t)in->imm, al = (uint8_t)c->r[0];

		if (!base)
			emu_raise(c, EXC_DE, 0, 0);
		set_reg(c, 0, 2, 1, (uint64_t)((al / base) << 8 | (al % base)));
		alu_inl(c, ALU_OR, 1, al % base, 0);
		return;
	}
	case 0xd5: { /* AAD */
		uint8_t al =
			(uint8_t)((c->r[0] & 0xff) + ((c->r[0] >> 8) & 0xff) * (in->imm & 0xff));

		set_reg(c, 0, 2, 1, al);
		alu_inl(c, ALU_OR, 1, al, 0);
		return;
	}
	case 0xd7: /* XLAT */
		v = lin_read(c,
			     seg_lin(c, in->seg, (c->r[3] + (c->r[0] & 0xff)) & mask_of(in->asz), 1,
				     ACC_READ),
			     1);
		set_reg(c, 0, 1, 1, v);
		return;
	case 0xd8 ... 0xdf: /* x87: only the control instructions so far */
		if (c->cr0 & (CR0_EM | CR0_TS))
			emu_raise(c, EXC_NM, 0, 0);
		if (op == 0xdb && in->mod == 3 && (in->reg & 7) == 4 && (in->rm & 7) == 3) {
			c->fpu_cw = 0x37f; /* FNINIT */
			c->fpu_sw = 0;
			return;
		}
		if (op == 0xdb && in->mod == 3 && (in->reg & 7) == 4 && (in->rm & 7) == 2) {
			c->fpu_sw &= 0x7f00; /* FNCLEX */
			return;
		}
		if (op == 0xdf && in->mod == 3 && (in->reg & 7) == 4 && (in->rm & 7) == 0) {
			set_reg(c, 0, 2, 1, c->fpu_sw); /* FNSTSW AX */
			return;
		}
		if (in->mod != 3 && op == 0xd9 && (in->reg & 7) == 7) {
			rm_write(c, in, 2, c->fpu_cw); /* FNSTCW m16 */
			return;
		}
		if (in->mod != 3 && op == 0xd9 && (in->reg & 7) == 5) {
			c->fpu_cw = (uint16_t)(rm_read(c, in, 2) | 0x40); /* FLDCW m16 */
			return;
		}
		if (in->mod != 3 && op == 0xdd && (in->reg & 7) == 7) {
			rm_write(c, in, 2, c->fpu_sw); /* FNSTSW m16 */
			return;
		}
		emu_raise(c, EXC_UD, 0, 0);
	case 0xe0 ... 0xe3: { /* LOOPNE LOOPE LOOP JCXZ */
		uint64_t cm = mask_of(in->asz);
		int take;

		if (op == 0xe3) {
			take = (c->r[1] & cm) == 0;
		} else {
			str_adv(c, 1, in->asz, -1);
			take = (c->r[1] & cm) != 0;
			if (op == 0xe0)
				take = take && !emu_cond(c, 4);
			else if (op == 0xe1)
				take = take && emu_cond(c, 4);
		}
		if (take)
			jump_to(c, c->next_rip + in->imm, c->mode == 2 ? 8 : size);
		return;
	}
	case 0xe4:
	case 0xe5:
	case 0xec:
	case 0xed: {
		uint32_t val = 0;
		uint16_t port = op < 0xe8 ? (uint16_t)(in->imm & 0xff) : (uint16_t)c->r[2];
		int sz = (op & 1) ? (size == 8 ? 4 : size) : 1;

		check_io(c, port, sz);
		if (!emu_io_in(c, port, sz, &val)) {
			c->next_rip = c->rip; /* replays once the data arrives */
			return;
		}
		set_reg(c, 0, sz, 1, val);
		return;
	}
	case 0xe6:
	case 0xe7:
	case 0xee:
	case 0xef: {
		uint16_t port = op < 0xe8 ? (uint16_t)(in->imm & 0xff) : (uint16_t)c->r[2];
		int sz = (op & 1) ? (size == 8 ? 4 : size) : 1;

		check_io(c, port, sz);
		emu_io_out(c, port, sz, (uint32_t)c->r[0]);
		return;
	}
	case 0xe8:
		size = stack_osz(c, in);
		v = c->next_rip + in->imm;
		push(c, size, c->next_rip);
		jump_to(c, v, size);
		return;
	case 0xe9:
	case 0xeb:
		jump_to(c, c->next_rip + in->imm, c->mode == 2 ? 8 : size);
		return;
	case 0xea:
		emu_far_jump(c, (uint16_t)in->imm2, in->imm, 0, size);
		return;
	case 0xf1:
		c->soft_int = 1;
		c->soft_int_rip = c->rip;
		c->rip = c->next_rip;
		emu_deliver(c, EXC_DB, INT_ICEBP, 0, 0);
		c->next_rip = c->rip;
		c->soft_int = 0;
		return;
	case 0xf4:
		do_hlt(c);
		return;
	case 0xf5:
		emu_flags_set(c, emu_flags_get(c) ^ FL_CF);
		return;
	case 0xf6:
		group3(c, in, 1);
		return;
	case 0xf7:
		group3(c, in, size);
		return;
	case 0xf8:
	case 0xf9:
		emu_flags_set(c, (emu_flags_get(c) & ~(uint64_t)FL_CF) | (op & 1));
		return;
	case 0xfa:
	case 0xfb: {
		int iopl = (int)((c->flags >> 12) & 3);

		if ((c->cr0 & CR0_PE) && ((c->flags & FL_VM) ? iopl != 3 : c->cpl > iopl))
			emu_raise(c, EXC_GP, 1, 0);
		if (op == 0xfb) {
			if (!(c->flags & FL_IF))
				c->irq_shadow = c->stop_block = 1;
			c->flags |= FL_IF;
		} else {
			c->flags &= ~(uint64_t)FL_IF;
		}
		return;
	}
	case 0xfc:
	case 0xfd:
		if (op & 1)
			c->flags |= FL_DF;
		else
			c->flags &= ~(uint64_t)FL_DF;
		return;
	case 0xfe: {
		struct emu_insn t;

		if ((in->reg & 7) > 1)
			emu_raise(c, EXC_UD, 0, 0);
		t = *in;
		t.osz = 1;
		group5(c, &t);
		return;
	}
	case 0xff:
		group5(c, in);
		return;
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

static void exec_0f(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t a, v;

	if (in->op >= 0x200)
		emu_raise(c, EXC_UD, 0, 0);
	switch (op) {
	case 0x00: { /* SLDT STR LLDT LTR VERR VERW */
		int sub = in->reg & 7;

		if (!(c->cr0 & CR0_PE) || (c->flags & FL_VM))
			emu_raise(c, EXC_UD, 0, 0);
		switch (sub) {
		case 0:
		case 1:
			v = c->seg[sub == 0 ? SEG_LDT : SEG_TR].selector;
			if (in->mod == 3)
				set_reg(c, in->rm, size, 1, v);
			else
				rm_write(c, in, 2, v);
			return;
		case 2:
		case 3:
			cpl0_check(c);
			v = rm_read(c, in, 2);
			if (sub == 2)
				emu_load_ldt(c, (uint16_t)v);
			else
				emu_load_tr(c, (uint16_t)v);
			return;
		default:
			emu_raise(c, EXC_UD, 0, 0);
		}
	}
	case 0x01: {
		int sub = in->reg & 7;

		if (in->mod == 3) {
			unsigned int rm = in->rm & 7;

			if (sub == 7 && rm == 0 && c->mode == 2) { /* SWAPGS */
				cpl0_check(c);
				v = c->seg[SEG_GS].base;
				c->seg[SEG_GS].base = c->kernel_gs_base;
				c->kernel_gs_base = v;
				return;
			}
			if (sub == 7 && rm == 1) { /* RDTSCP */
				v = emu_rdtsc(c);
				set_reg(c, 0, 4, 1, v);
				set_reg(c, 2, 4, 1, v >> 32);
				set_reg(c, 1, 4, 1, c->tsc_aux);
				return;
			}
			if (sub == 4) { /* SMSW r */
				set_reg(c, in->rm, size, 1, c->cr0);
				return;
			}
			if (sub == 6) { /* LMSW r */
				cpl0_check(c);
				v = rm_read(c, in, 2);
				emu_write_cr(c, 0, (c->cr0 & ~0xeULL) | (v & 0xf) | (c->cr0 & 1));
				return;
			}
			if (sub == 2 && rm == 0) { /* XGETBV */
				set_reg(c, 0, 4, 1, c->xcr0);
				set_reg(c, 2, 4, 1, c->xcr0 >> 32);
				return;
			}
			emu_raise(c, EXC_UD, 0, 0);
		}
		switch (sub) {
		case 0:
		case 1: { /* SGDT SIDT */
			struct x86_dtable *t = sub ? &c->idt : &c->gdt;
			uint64_t lin = rm_lin(c, in, c->mode == 2 ? 10 : 6, ACC_WRITE);

			lin_write(c, lin, 2, t->limit);
			if (c->mode == 2)
				lin_write(c, lin + 2, 8, t->base);
			else
				lin_write(c, lin + 2, 4, t->base & 0xffffffffULL);
			return;
		}
		case 2:
		case 3: { /* LGDT LIDT */
			struct x86_dtable *t = sub == 3 ? &c->idt : &c->gdt;
			uint64_t lin, base;
			uint16_t lim;

			cpl0_check(c);
			lin = rm_lin(c, in, c->mode == 2 ? 10 : 6, ACC_READ);
			lim = (uint16_t)lin_read(c, lin, 2);
			if (c->mode == 2)
				base = lin_read(c, lin + 2, 8);
			else
				base = lin_read(c, lin + 2, 4) &
				       (size == 2 ? 0xffffffULL : 0xffffffffULL);
			t->limit = lim;
			t->base = base;
			return;
		}
		case 4: /* SMSW m16 */
			rm_write(c, in, 2, c->cr0);
			return;
		case 6: /* LMSW m16 */
			cpl0_check(c);
			v = rm_read(c, in, 2);
			emu_write_cr(c, 0, (c->cr0 & ~0xeULL) | (v & 0xf) | (c->cr0 & 1));
			return;
		case 7: /* INVLPG */
			cpl0_check(c);
			emu_tlb_flush_page(c, rm_lin(c, in, 1, ACC_READ));
			return;
		default:
			emu_raise(c, EXC_UD, 0, 0);
		}
	}
	case 0x05: /* SYSCALL */
		emu_syscall(c);
		return;
	case 0x06: /* CLTS */
		cpl0_check(c);
		c->cr0 &= ~(uint64_t)CR0_TS;
		return;
	case 0x07:
		emu_sysret(c);
		return;
	case 0x08:
	case 0x09: /* INVD WBINVD */
		cpl0_check(c);
		return;
	case 0x0b:
	case 0xb9:
	case 0xff:
		emu_raise(c, EXC_UD, 0, 0);
	case 0x0d:
	case 0x18 ... 0x1f: /* prefetch, hint NOPs */
		return;
	case 0x20:
	case 0x22: { /* MOV r, CRn / MOV CRn, r */
		int cr = in->reg;

		cpl0_check(c);
		if (in->lock && c->mode != 2)
			cr |= 8;
		if (op == 0x20) {
			switch (cr) {
			case 0:
				v = c->cr0;
				break;
			case 2:
				v = c->cr2;
				break;
			case 3:
				v = c->cr3;
				break;
			case 4:
				v = c->cr4;
				break;
			case 8:
				v = c->cr8;
				break;
			default:
				emu_raise(c, EXC_UD, 0, 0);
			}
			set_reg(c, in->rm, c->mode == 2 ? 8 : 4, 1, v);
		} else {
			v = c->r[in->rm];
			if (c->mode != 2)
				v &= 0xffffffffULL;
			if (cr != 0 && cr != 2 && cr != 3 && cr != 4 && cr != 8)
				emu_raise(c, EXC_UD, 0, 0);
			emu_write_cr(c, cr, v);
		}
		return;
	}
	case 0x21:
	case 0x23: { /* MOV DR */
		int dr = in->reg & 7;

		cpl0_check(c);
		if (dr == 4 || dr == 5) {
			if (c->cr4 & 0x8)
				emu_raise(c, EXC_UD, 0, 0);
			dr += 2;
		}
		if (op == 0x21) {
			v = c->dr[dr];
			if (dr == 6)
				v = (v & 0xf00f) | 0xffff0ff0;
			if (dr == 7)
				v = (v & 0xffffffffULL) | 0x400;
			set_reg(c, in->rm, c->mode == 2 ? 8 : 4, 1, v);
		} else {
			c->dr[dr] = c->r[in->rm];
		}
		return;
	}
	case 0x30: /* WRMSR */
		cpl0_check(c);
		if (emu_write_msr(c, (uint32_t)c->r[1],
				  (c->r[0] & 0xffffffffULL) | (c->r[2] << 32)))
			emu_raise(c, EXC_GP, 1, 0);
		return;
	case 0x31: /* RDTSC */
		if ((c->cr4 & 0x4) && c->cpl != 0)
			emu_raise(c, EXC_GP, 1, 0);
		v = emu_rdtsc(c);
		set_reg(c, 0, 4, 1, v);
		set_reg(c, 2, 4, 1, v >> 32);
		return;
	case 0x32: /* RDMSR */
		cpl0_check(c);
		if (emu_read_msr(c, (uint32_t)c->r[1], &v))
			emu_raise(c, EXC_GP, 1, 0);
		set_reg(c, 0, 4, 1, v);
		set_reg(c, 2, 4, 1, v >> 32);
		return;
	case 0x34:
		emu_sysenter(c);
		return;
	case 0x35:
		emu_sysexit(c);
		return;
	case 0x40 ... 0x4f:
		v = rm_read(c, in, size);
		if (emu_cond(c, op & 15))
			set_reg(c, in->reg, size, 1, v);
		else if (size == 4)
			set_reg(c, in->reg, 4, 1, c->r[in->reg]); /* 32-bit CMOV zero-extends */
		return;
	case 0x80 ... 0x8f:
		if (emu_cond(c, op & 15))
			jump_to(c, c->next_rip + in->imm, c->mode == 2 ? 8 : size);
		return;
	case 0x90 ... 0x9f:
		rm_write(c, in, 1, (uint64_t)emu_cond(c, op & 15));
		return;
	case 0xa0:
	case 0xa8:
		push(c, stack_osz(c, in), c->seg[op == 0xa0 ? SEG_FS : SEG_GS].selector);
		return;
	case 0xa1:
	case 0xa9: {
		uint64_t m = sp_mask(c), sp = c->r[4] & m;
		int sz = stack_osz(c, in);

		v = lin_read(c, seg_lin(c, SEG_SS, sp, 2, ACC_READ), 2);
		emu_load_seg(c, op == 0xa1 ? SEG_FS : SEG_GS, (uint16_t)v);
		c->r[4] = (c->r[4] & ~m) | ((sp + (uint64_t)sz) & m);
		return;
	}
	case 0xa2: { /* CPUID */
		uint32_t out[4];

		emu_cpuid(c, (uint32_t)c->r[0], (uint32_t)c->r[1], out);
		set_reg(c, 0, 4, 1, out[0]);
		set_reg(c, 3, 4, 1, out[1]);
		set_reg(c, 1, 4, 1, out[2]);
		set_reg(c, 2, 4, 1, out[3]);
		return;
	}
	case 0xa3:
		bit_op(c, in, 0, get_reg(c, in->reg, size, 1), 0);
		return;
	case 0xab:
		bit_op(c, in, 1, get_reg(c, in->reg, size, 1), 0);
		return;
	case 0xb3:
		bit_op(c, in, 2, get_reg(c, in->reg, size, 1), 0);
		return;
	case 0xbb:
		bit_op(c, in, 3, get_reg(c, in->reg, size, 1), 0);
		return;
	case 0xba:
		if ((in->reg & 7) < 4)
			emu_raise(c, EXC_UD, 0, 0);
		bit_op(c, in, (in->reg & 7) - 4, in->imm & 0xff, 1);
		return;
	case 0xa4:
	case 0xa5:
	case 0xac:
	case 0xad: { /* SHLD / SHRD */
		unsigned int cnt =
			(op & 1) ? (unsigned int)c->r[1] & 0xff : (unsigned int)in->imm & 0xff;
		uint64_t src = get_reg(c, in->reg, size, 1);
		struct rmw r;

		if (in->mod == 3) {
			a = get_reg(c, in->rm, size, 1);
			set_reg(c, in->rm, size, 1, emu_shxd(c, op >= 0xac, size, a, src, cnt));
			return;
		}
		rmw_begin(c, in, size, &r);
		a = rmw_read(c, &r, size);
		rmw_write(c, &r, size, emu_shxd(c, op >= 0xac, size, a, src, cnt));
		return;
	}
	case 0xae: {
		int sub = in->reg & 7;

		if (in->mod == 3 && sub >= 5)
			return;			/* LFENCE MFENCE SFENCE */
		if (in->mod != 3 && sub == 7) { /* CLFLUSH */
			rm_lin(c, in, 1, ACC_READ);
			return;
		}
		emu_raise(c, EXC_UD, 0, 0);
	}
	case 0xaf:
		v = rm_read(c, in, size);
		set_reg(c, in->reg, size, 1, emu_imul2(c, size, get_reg(c, in->reg, size, 1), v));
		return;
	case 0xb0:
	case 0xb1: { /* CMPXCHG */
		int sz = op == 0xb0 ? 1 : size;
		uint64_t src = get_reg(c, in->reg, sz, in->rex), acc = get_reg(c, 0, sz, 1);
		struct rmw r;

		if (in->mod == 3) {
			a = get_reg(c, in->rm, sz, in->rex);
			alu_inl(c, ALU_CMP, sz, acc, a);
			if (a == acc)
				set_reg(c, in->rm, sz, in->rex, src);
			else
				set_reg(c, 0, sz, 1, a);
			return;
		}
		rmw_begin(c, in, sz, &r);
		if (r.p) {
			a = acc;
			if (!cas_p(r.p, sz, acc, src))
				a = load_p(r.p, sz); /* may race; retried read is what CAS saw */
			alu_inl(c, ALU_CMP, sz, acc, a);
			if (a != acc)
				set_reg(c, 0, sz, 1, a);
			return;
		}
		a = rmw_read(c, &r, sz);
		alu_inl(c, ALU_CMP, sz, acc, a);
		if (a == acc) {
			rmw_write(c, &r, sz, src);
		} else {
			rmw_write(c, &r, sz, a);
			set_reg(c, 0, sz, 1, a);
		}
		return;
	}
	case 0xb2:
	case 0xb4:
	case 0xb5: { /* LSS LFS LGS */
		uint64_t lin;
		int sreg = op == 0xb2 ? SEG_SS : op == 0xb4 ? SEG_FS : SEG_GS;

		if (in->mod == 3)
			emu_raise(c, EXC_UD, 0, 0);
		lin = rm_lin(c, in, size + 2, ACC_READ);
		v = lin_read(c, lin, size);
		a = lin_read(c, lin + (uint64_t)size, 2);
		emu_load_seg(c, sreg, (uint16_t)a);
		set_reg(c, in->reg, size, 1, v);
		return;
	}
	case 0xb6:
		set_reg(c, in->reg, size, 1, rm_read(c, in, 1));
		return;
	case 0xb7:
		set_reg(c, in->reg, size, 1, rm_read(c, in, 2));
		return;
	case 0xbe:
		set_reg(c, in->reg, size, 1, sx(rm_read(c, in, 1), 1));
		return;
	case 0xbf:
		set_reg(c, in->reg, size, 1, sx(rm_read(c, in, 2), 2));
		return;
	case 0xbc:
	case 0xbd: {
		uint64_t out = 0;

		v = rm_read(c, in, size);
		if (emu_bsf(c, op == 0xbd, size, v, &out))
			set_reg(c, in->reg, size, 1, out);
		else if (size == 4)
			set_reg(c, in->reg, 4, 1, c->r[in->reg]);
		return;
	}
	case 0xc0:
	case 0xc1: { /* XADD */
		int sz = op == 0xc0 ? 1 : size;
		uint64_t src = get_reg(c, in->reg, sz, in->rex), res;
		struct rmw r;

		if (in->mod == 3) {
			a = get_reg(c, in->rm, sz, in->rex);
			res = alu_inl(c, ALU_ADD, sz, a, src);
			set_reg(c, in->reg, sz, in->rex, a);
			set_reg(c, in->rm, sz, in->rex, res);
			return;
		}
		rmw_begin(c, in, sz, &r);
		if (in->lock && r.p) {
			do {
				a = load_p(r.p, sz);
				res = alu_inl(c, ALU_ADD, sz, a, src);
			} while (!cas_p(r.p, sz, a, res));
		} else {
			a = rmw_read(c, &r, sz);
			res = alu_inl(c, ALU_ADD, sz, a, src);
			rmw_write(c, &r, sz, res);
		}
		set_reg(c, in->reg, sz, in->rex, a);
		return;
	}
	case 0xc7: { /* CMPXCHG8B / CMPXCHG16B */
		int wide = (in->rex & 8) != 0;
		int sz = wide ? 8 : 4;
		uint64_t lin, lo, hi, fl;

		if ((in->reg & 7) != 1 || in->mod == 3)
			emu_raise(c, EXC_UD, 0, 0);
		lin = rm_lin(c, in, sz * 2, ACC_WRITE);
		if (wide && (lin & 15))
			emu_raise(c, EXC_GP, 1, 0);
		emu_tlb_fill(c, lin, ACC_WRITE, is_user(c));
		fl = emu_flags_get(c);
		if (!wide) {
			uint8_t *p = lin_wptr(c, lin, 8);
			uint64_t cmp = (c->r[0] & 0xffffffffULL) | (c->r[2] << 32);
			uint64_t nv = (c->r[3] & 0xffffffffULL) | (c->r[1] << 32), cur;

			if (p) {
				cur = cmp;
				if (__atomic_compare_exchange_n((uint64_t *)(void *)p, &cur, nv, 0,
								__ATOMIC_SEQ_CST,
								__ATOMIC_SEQ_CST)) {
					emu_flags_set(c, fl | FL_ZF);
					return;
				}
			} else {
				cur = lin_read(c, lin, 8);
				if (cur == cmp) {
					lin_write(c, lin, 8, nv);
					emu_flags_set(c, fl | FL_ZF);
					return;
				}
				lin_write(c, lin, 8, cur);
			}
			emu_flags_set(c, fl & ~(uint64_t)FL_ZF);
			set_reg(c, 0, 4, 1, cur);
			set_reg(c, 2, 4, 1, cur >> 32);
			return;
		}
		lo = lin_read(c, lin, 8);
		hi = lin_read(c, lin + 8, 8);
		if (lo == c->r[0] && hi == c->r[2]) {
			lin_write(c, lin, 8, c->r[3]);
			lin_write(c, lin + 8, 8, c->r[1]);
			emu_flags_set(c, fl | FL_ZF);
		} else {
			lin_write(c, lin, 8, lo);
			lin_write(c, lin + 8, 8, hi);
			emu_flags_set(c, fl & ~(uint64_t)FL_ZF);
			c->r[0] = lo;
			c->r[2] = hi;
		}
		return;
	}
	case 0xc8 ... 0xcf: { /* BSWAP */
		int r = (int)(op & 7) | ((in->rex & 1) << 3);

		if (size == 8)
			c->r[r] = __builtin_bswap64(c->r[r]);
		else if (size == 4)
			c->r[r] = __builtin_bswap32((uint32_t)c->r[r]);
		else
			set_reg(c, r, 2, 1, 0); /* undefined; reads as zero here */
		return;
	}
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

/*
 * Handlers for the most frequent instruction forms, chosen per decoded
 * instruction so the hot path skips the generic dispatch; everything else
 * goes through exec_insn().
 */
static void f_generic(struct emu_cpu *c, const struct emu_insn *in)
{
	c->cur = in;
	exec_insn(c, in);
	c->cur = NULL;
}

static void f_mov_rr_st(struct emu_cpu *c, const struct emu_insn *in) /* 89 /r, mod 3 */
{
	set_reg(c, in->rm, in->osz, 1, get_reg(c, in->reg, in->osz, 1));
}

static void f_mov_rr_ld(struct emu_cpu *c, const struct emu_insn *in) /* 8b /r, mod 3 */
{
	set_reg(c, in->reg, in->osz, 1, get_reg(c, in->rm, in->osz, 1));
}

static void f_mov_load(struct emu_cpu *c, const struct emu_insn *in) /* 8b /r */
{
	set_reg(c, in->reg, in->osz, 1, lin_read(c, rm_lin(c, in, in->osz, ACC_READ), in->osz));
}

static void f_mov_store(struct emu_cpu *c, const struct emu_insn *in) /* 89 /r */
{
	lin_write(c, rm_lin(c, in, in->osz, ACC_WRITE), in->osz, get_reg(c, in->reg, in->osz, 1));
}

static void f_alu_rm_r(struct emu_cpu *c, const struct emu_insn *in) /* 01 09 .. 39, mod 3 */
{
	int alu = (int)(in->op >> 3);
	uint64_t v = alu_inl(c, alu, in->osz, get_reg(c, in->rm, in->osz, 1),
			     get_reg(c, in->reg, in->osz, 1));

	if (alu != ALU_CMP)
		set_reg(c, in->rm, in->osz, 1, v);
}

static void f_alu_r_rm(struct emu_cpu *c, const struct emu_insn *in) /* 03 0b .. 3b */
{
	int alu = (int)(in->op >> 3);
	uint64_t b = in->mod == 3 ? get_reg(c, in->rm, in->osz, 1)
				  : lin_read(c, rm_lin(c, in, in->osz, ACC_READ), in->osz);
	uint64_t v = alu_inl(c, alu, in->osz, get_reg(c, in->reg, in->osz, 1), b);

	if (alu != ALU_CMP)
		set_reg(c, in->reg, in->osz, 1, v);
}

static void f_alu_imm_r(struct emu_cpu *c, const struct emu_insn *in) /* 81/83, mod 3 */
{
	int alu = in->reg & 7;
	uint64_t v = alu_inl(c, alu, in->osz, get_reg(c, in->rm, in->osz, 1), in->imm);

	if (alu != ALU_CMP)
		set_reg(c, in->rm, in->osz, 1, v);
}

static void f_test_rr(struct emu_cpu *c, const struct emu_insn *in) /* 85, mod 3 */
{
	alu_inl(c, ALU_AND, in->osz, get_reg(c, in->rm, in->osz, 1),
		get_reg(c, in->reg, in->osz, 1));
}

static void f_shift_imm_r(struct emu_cpu *c, const struct emu_insn *in) /* c1, mod 3 */
{
	unsigned int n = (unsigned int)in->imm & (in->osz == 8 ? 63 : 31);
	uint64_t a = get_reg(c, in->rm, in->osz, 1);

	if (n == 0)
		return;
	if (n < (unsigned int)in->osz * 8)
		set_reg(c, in->rm, in->osz, 1, shift_lazy(c, in->reg & 7, in->osz, a, n));
	else
		set_reg(c, in->rm, in->osz, 1, emu_shift(c, in->reg & 7, in->osz, a, n));
}

static void f_rot_imm_r(struct emu_cpu *c, const struct emu_insn *in) /* c1 /0 /1, mod 3 */
{
	unsigned int n = (unsigned int)in->imm & (in->osz == 8 ? 63 : 31);

	if (n == 0)
		return;
	set_reg(c, in->rm, in->osz, 1,
		rot_inl(c, in->reg & 1, in->osz, get_reg(c, in->rm, in->osz, 1), n));
}

static void f_shift_imm_r64(struct emu_cpu *c, const struct emu_insn *in) /* c1, 64-bit */
{
	unsigned int n = (unsigned int)in->imm & 63;

	if (n)
		c->r[in->rm] = shift_lazy(c, in->reg & 7, 8, c->r[in->rm], n);
}

static void f_jcc(struct emu_cpu *c, const struct emu_insn *in) /* 7x, 0f 8x */
{
	if (cond_inl(c, in->op & 15))
		jump_to(c, c->next_rip + in->imm, c->mode == 2 ? 8 : in->osz);
}

static void f_jmp(struct emu_cpu *c, const struct emu_insn *in) /* e9, eb */
{
	jump_to(c, c->next_rip + in->imm, c->mode == 2 ? 8 : in->osz);
}

static void f_lea(struct emu_cpu *c, const struct emu_insn *in) /* 8d, memory form */
{
	set_reg(c, in->reg, in->osz, 1, ea(c, in));
}

static void f_movzx8(struct emu_cpu *c, const struct emu_insn *in) /* 0f b6 */
{
	set_reg(c, in->reg, in->osz, 1, rm_read(c, in, 1));
}

static void f_imul2(struct emu_cpu *c, const struct emu_insn *in) /* 0f af */
{
	uint64_t v = rm_read(c, in, in->osz);
	uint64_t a = get_reg(c, in->reg, in->osz, 1);

	if (in->osz >= 4)
		set_reg(c, in->reg, in->osz, 1, imul_lazy(c, in->osz, a, v));
	else
		set_reg(c, in->reg, in->osz, 1, emu_imul2(c, in->osz, a, v));
}

static void f_mov_imm_r(struct emu_cpu *c, const struct emu_insn *in) /* b8+r */
{
	set_reg(c, (int)(in->op & 7) | ((in->rex & 1) << 3), in->osz, 1, in->imm);
}

static void f_push_r(struct emu_cpu *c, const struct emu_insn *in) /* 50+r */
{
	int size = stack_osz(c, in);

	push(c, size, get_reg(c, (int)(in->op & 7) | ((in->rex & 1) << 3), size, 1));
}

static void f_pop_r(struct emu_cpu *c, const struct emu_insn *in) /* 58+r */
{
	int size = stack_osz(c, in);
	uint64_t v = pop(c, size);

	set_reg(c, (int)(in->op & 7) | ((in->rex & 1) << 3), size, 1, v);
}

static void f_incdec_r(struct emu_cpu *c, const struct emu_insn *in) /* ff /0 /1, mod 3 */
{
	set_reg(c, in->rm, in->osz, 1,
		emu_incdec(c, in->reg & 1, in->osz, get_reg(c, in->rm, in->osz, 1)));
}

static void f_call(struct emu_cpu *c, const struct emu_insn *in) /* e8 */
{
	int size = stack_osz(c, in);
	uint64_t v = c->next_rip + in->imm;

	push(c, size, c->next_rip);
	jump_to(c, v, size);
}

static void f_ret(struct emu_cpu *c, const struct emu_insn *in) /* c3 */
{
	int size = stack_osz(c, in);

	jump_to(c, pop(c, size), size);
}

typedef void (*insn_fn)(struct emu_cpu *c, const struct emu_insn *in);

static insn_fn select_fn_generic(const struct emu_insn *in)
{
	unsigned int op = in->op;
	int m3 = in->mod == 3;

	if (in->lock || in->rep)
		return f_generic;
	if (op < 0x40 && (op & 7) == 1 && m3)
		return f_alu_rm_r;
	if (op < 0x40 && (op & 7) == 3)
		return f_alu_r_rm;
	switch (op) {
	case 0x89:
		return m3 ? f_mov_rr_st : f_mov_store;
	case 0x8b:
		return m3 ? f_mov_rr_ld : f_mov_load;
	case 0x81:
	case 0x83:
		return m3 ? f_alu_imm_r : f_generic;
	case 0x85:
		return m3 ? f_test_rr : f_generic;
	case 0xc1:
		if (!m3)
			return f_generic;
		if ((in->reg & 7) >= SH_SHL)
			return in->osz == 8 ? f_shift_imm_r64 : f_shift_imm_r;
		return (in->reg & 7) <= SH_ROR ? f_rot_imm_r : f_generic;
	case 0x70 ... 0x7f:
	case 0x180 ... 0x18f:
		return f_jcc;
	case 0xe9:
	case 0xeb:
		return f_jmp;
	case 0x8d:
		return m3 ? f_generic : f_lea;
	case 0x1b6:
		return f_movzx8;
	case 0x1af:
		return f_imul2;
	case 0xb8 ... 0xbf:
		return f_mov_imm_r;
	case 0x50 ... 0x57:
		return f_push_r;
	case 0x58 ... 0x5f:
		return f_pop_r;
	case 0xff:
		return m3 && (in->reg & 7) < 2 ? f_incdec_r : f_generic;
	case 0xe8:
		return f_call;
	case 0xc3:
		return f_ret;
	default:
		return f_generic;
	}
}

/* ALU handlers specialised by operation and size (32/64-bit register forms) */
#define ALU_FNS(NAME, OP, SZ)                                                                      \
	static void f_##NAME##_rm_r_##SZ(struct emu_cpu *c, const struct emu_insn *in)             \
	{                                                                                          \
		uint64_t v =                                                                       \
			alu_inl(c, OP, SZ, get_reg(c, in->rm, SZ, 1), get_reg(c, in->reg, SZ, 1)); \
		if (OP != ALU_CMP)                                                                 \
			set_reg(c, in->rm, SZ, 1, v);                                              \
	}                                                                                          \
	static void f_##NAME##_r_rm_##SZ(struct emu_cpu *c, const struct emu_insn *in)             \
	{                                                                                          \
		uint64_t b = in->mod == 3 ? get_reg(c, in->rm, SZ, 1)                              \
					  : lin_read(c, rm_lin(c, in, SZ, ACC_READ), SZ);          \
		uint64_t v = alu_inl(c, OP, SZ, get_reg(c, in->reg, SZ, 1), b);                    \
		if (OP != ALU_CMP)                                                                 \
			set_reg(c, in->reg, SZ, 1, v);                                             \
	}                                                                                          \
	static void f_##NAME##_imm_r_##SZ(struct emu_cpu *c, const struct emu_insn *in)            \
	{                                                                                          \
		uint64_t v = alu_inl(c, OP, SZ, get_reg(c, in->rm, SZ, 1), in->imm);               \
		if (OP != ALU_CMP)                                                                 \
			set_reg(c, in->rm, SZ, 1, v);                                              \
	}
#define ALU_FNS2(NAME, OP) ALU_FNS(NAME, OP, 4) ALU_FNS(NAME, OP, 8)
ALU_FNS2(add, ALU_ADD)
ALU_FNS2(or, ALU_OR)
ALU_FNS2(adc, ALU_ADC)
ALU_FNS2(sbb, ALU_SBB)
ALU_FNS2(and, ALU_AND)
ALU_FNS2(sub, ALU_SUB)
ALU_FNS2(xor, ALU_XOR)
ALU_FNS2(cmp, ALU_CMP)

#define ALU_ROW(NAME)                                                                              \
	{                                                                                          \
		{ f_##NAME##_rm_r_4, f_##NAME##_r_rm_4, f_##NAME##_imm_r_4 },                      \
		{                                                                                  \
			f_##NAME##_rm_r_8, f_##NAME##_r_rm_8, f_##NAME##_imm_r_8                   \
		}                                                                                  \
	}
static const insn_fn alu_fns[8][2][3] = {
	ALU_ROW(add), ALU_ROW(or),  ALU_ROW(adc), ALU_ROW(sbb),
	ALU_ROW(and), ALU_ROW(sub), ALU_ROW(xor), ALU_ROW(cmp),
};

static void f_mov_rr64(struct emu_cpu *c, const struct emu_insn *in) /* 89, 64-bit, mod 3 */
{
	c->r[in->rm] = c->r[in->reg];
}

static void f_mov_load64(struct emu_cpu *c, const struct emu_insn *in)
{
	c->r[in->reg] = lin_read(c, rm_lin(c, in, 8, ACC_READ), 8);
}

static void f_mov_store64(struct emu_cpu *c, const struct emu_insn *in)
{
	lin_write(c, rm_lin(c, in, 8, ACC_WRITE), 8, c->r[in->reg]);
}

static insn_fn select_fn(const struct emu_insn *in)
{
	unsigned int op = in->op;
	int m3 = in->mod == 3;

	if (in->lock || in->rep)
		return f_generic;
	if (in->osz >= 4) {
		int w = in->osz == 8;

		if (op < 0x40 && (op & 7) == 1 && m3)
			return alu_fns[op >> 3][w][0];
		if (op < 0x40 && (op & 7) == 3)
			return alu_fns[op >> 3][w][1];
		if ((op == 0x81 || op == 0x83) && m3)
			return alu_fns[in->reg & 7][w][2];
		if (w && op == 0x89)
			return m3 ? f_mov_rr64 : f_mov_store64;
		if (w && op == 0x8b && !m3)
			return f_mov_load64;
	}
	return select_fn_generic(in);
}

/* instructions after which a block ends: control transfers and mode/paging changes */
static int ends_block(const struct emu_insn *in)
{
	unsigned int op = in->op;

	switch (op) {
	case 0x70 ... 0x7f:
	case 0xe0 ... 0xe3:
	case 0xe8 ... 0xeb:
	case 0xc2:
	case 0xc3:
	case 0xca ... 0xcf:
	case 0x9a:
	case 0xf4:
	case 0x8e:
	case 0x17:
	case 0xfb:
	case 0x9d:
	case 0xf1:
	case 0x180 ... 0x18f:
	case 0x100:
	case 0x101:
	case 0x105:
	case 0x107:
	case 0x106:
	case 0x120 ... 0x123:
	case 0x130:
	case 0x134:
	case 0x135:
	case 0x10b:
	case 0x1b2:
		return 1;
	case 0xff:
		return (in->reg & 7) >= 2 && (in->reg & 7) <= 5;
	default:
		return op >= 0x200;
	}
}

/* decode a block starting at host @p (@avail bytes to the page end) */
static void build_block(struct emu_cpu *c, struct emu_block *blk, const uint8_t *p,
			unsigned int avail)
{
	unsigned int off = 0, n = 0;

	while (n < BLOCK_MAX && off < avail) {
		struct emu_insn *in = &blk->insn[n];
		unsigned int left = avail - off;
		int r = emu_decode(in, p + off, left < 15 ? left : 15, c->mode);

		if (r < 0)
			break; /* raised when (if) execution gets there */
		in->fn = select_fn(in);
		n++;
		off += (unsigned int)r;
		if (ends_block(in))
			break;
	}
	blk->n = (uint16_t)n;
	blk->bytes = (uint16_t)off;
}

/* decode and execute one instruction without caching (page crossings, MMIO code, faults) */
static void step_slow(struct emu_cpu *c, uint64_t lin)
{
	struct emu_insn in;
	uint8_t buf[15];
	unsigned int off = (unsigned int)(lin & 0xfff), avail = 4096 - off;
	int n;

	memset(buf, 0, sizeof(buf));
	/* fetch byte-wise so only the pages the instruction really covers are touched */
	emu_lin_read(c, lin, buf, avail < 15 ? avail : 15, ACC_EXEC, is_user(c));
	n = emu_decode(&in, buf, avail < 15 ? avail : 15, c->mode);
	if (n == DEC_NEED_MORE) {
		emu_lin_read(c, lin + avail, buf + avail, 15 - avail, ACC_EXEC, is_user(c));
		n = emu_decode(&in, buf, 15, c->mode);
	}
	if (n < 0)
		emu_raise(c, n == -EXC_GP ? EXC_GP : EXC_UD, n == -EXC_GP, 0);
	if (c->mode != 2 && c->rip + in.len - 1 > c->seg[SEG_CS].limit)
		emu_raise(c, EXC_GP, 1, 0);
	c->next_rip = c->rip + in.len;
	c->cur = &in;
	exec_insn(c, &in);
	c->stop_block = 1;
	c->cur = NULL;
	c->rip = c->next_rip;
	c->icount++;
	c->budget--;
}

/*
 * Find (or decode) the block at CS:RIP and run it until it ends, a branch is
 * taken, the budget runs out, or something needs the run loop's attention.
 */
static void run_block(struct emu_cpu *c)
{
	uint64_t lin, pa;
	const struct emu_tlb_entry *e;
	struct emu_block *blk;
	struct emu_vm *vm = c->vm;
	unsigned int off;
	uint64_t pfn, key;
	uint32_t gen;

	c->insn_rip = c->rip;
	c->stop_block = 0;
	if (c->mode == 2) {
		lin = c->rip;
	} else {
		if (UNLIKELY(c->rip > c->seg[SEG_CS].limit))
			emu_raise(c, EXC_GP, 1, 0);
		lin = (c->seg[SEG_CS].base + c->rip) & 0xffffffffULL;
	}
	e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
	if (UNLIKELY(e->vpage != (lin & ~0xfffULL) ||
		     !(e->perm & (is_user(c) ? TLB_X_USR : TLB_X_SUP))))
		e = emu_tlb_fill(c, lin, ACC_EXEC, is_user(c));
	off = (unsigned int)(lin & 0xfff);
	if (UNLIKELY(!e->host)) {
		step_slow(c, lin);
		return;
	}
	pa = e->ppage | off;
	pfn = pa >> 12;
	key = pa << 2 | (uint64_t)c->mode;
	blk = &c->blocks[(pa ^ (pa >> 13)) & (BLOCK_CACHE - 1)];
	gen = __atomic_load_n(&vm->page_gen[pfn], __ATOMIC_ACQUIRE);
	if (UNLIKELY(blk->key != key || blk->gen != gen)) {
		if (!vm->code_page[pfn])
			__atomic_store_n(&vm->code_page[pfn], 1, __ATOMIC_RELAXED);
		blk->key = ~0ULL;
		build_block(c, blk, e->host + off, 4096 - off);
		if (blk->n == 0) {
			step_slow(c, lin); /* crosses the page, or raises #UD/#GP */
			return;
		}
		blk->key = key;
		blk->gen = gen;
	}
	if (UNLIKELY(c->mode != 2 && c->rip + blk->bytes - 1 > c->seg[SEG_CS].limit)) {
		step_slow(c, lin);
		return;
	}
	{
		/*
		 * The instruction count advances per block (deterministically): handlers
		 * that read the clock see the count at the start of their block.
		 */
		const struct emu_insn *in = blk->insn;
		const struct emu_insn *end = blk->insn + (blk->n < c->budget ? blk->n : c->budget);
		uint64_t rip = c->rip, done;

		do {
			uint64_t seq = rip + in->len;

			c->next_rip = seq;
			in->fn(c, in);
			c->rip = rip = c->next_rip;
			/* stop_block: an exit, HLT, an interrupt shadow or a write to decoded code
			 */
			if (UNLIKELY((rip != seq) | c->stop_block)) {
				in++;
				break;
			}
		} while (++in < end);
		done = (uint64_t)(in - blk->insn);
		c->icount += done;
		c->budget -= done;
	}
}

/* called from the setjmp landing: deliver the pending exception */
static void handle_exception(struct emu_cpu *c);

void emu_exec(struct emu_cpu *c)
{
	if (setjmp(c->jb)) {
		c->cur = NULL;
		if (c->exc_vector == -2)
			return; /* an exit abandoned the instruction; it replays */
		handle_exception(c);
		if (c->exc_vector == -3)
			return; /* triple fault: exit filled */
		if (c->budget)
			c->budget--;
	}
	while (c->budget > 0) {
		if (UNLIKELY(c->irq_shadow)) {
			/* no interrupt right after STI / MOV SS: run exactly one instruction */
			uint64_t save = c->budget;

			c->irq_shadow = 0;
			c->budget = 1;
			run_block(c);
			c->budget = save - 1;
		} else if (UNLIKELY(c->flags & FL_TF)) {
			/* single-step: one instruction, then a #DB trap unless it delivered one */
			uint64_t save = c->budget;
			unsigned int d0;

			if (UNLIKELY(c->intr_hint) && ((c->flags & FL_IF) || c->nmi_pending))
				emu_intr_poll(c);
			d0 = c->deliveries;
			c->budget = 1;
			run_block(c);
			c->budget = save - 1;
			if (c->deliveries == d0 && c->state == EMU_RUNNING &&
			    !(c->exit_ready && c->io.pending)) {
				c->dr[6] |= 0x4000; /* BS */
				emu_deliver(c, EXC_DB, INT_EXC, 0, 0);
			}
		} else {
			if (UNLIKELY(c->intr_hint) && ((c->flags & FL_IF) || c->nmi_pending))
				emu_intr_poll(c);
			run_block(c);
		}
		if (UNLIKELY(c->exit_ready || c->state != EMU_RUNNING || c->kick))
			return;
	}
}

int emu_step(struct emu_cpu *c)
{
	uint64_t save = c->budget;

	c->budget = 1;
	emu_exec(c);
	c->budget = save;
	return c->exit_ready;
}

static int contributory(int v)
{
	return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

static void handle_exception(struct emu_cpu *c)
{
	int vec = c->exc_vector, has_err = c->exc_has_err;
	uint32_t err = c->exc_err;

	/* faults report the instruction's RIP: c->rip moves only when it completes */
	if (c->soft_int) {
		c->rip = c->soft_int_rip;
		c->soft_int = 0;
	}
	if (c->exc_nesting >= 0) {
		int prev = c->exc_nesting;

		if (prev == EXC_DF) {
			/* a fault while delivering #DF: triple fault */
			c->exc_nesting = -1;
			c->exit->reason = ACCEL_EXIT_SHUTDOWN;
			c->exit_ready = 1;
			c->exc_vector = -3;
			return;
		}
		if ((contributory(prev) && contributory(vec)) ||
		    (prev == EXC_PF && (vec == EXC_PF || contributory(vec)))) {
			vec = EXC_DF;
			has_err = 1;
			err = 0;
		}
	}
	if (UNLIKELY(c->vm->trace_exc > 0)) {
		c->vm->trace_exc--;
		uint64_t pa = 0, lin = c->mode == 2 ? c->rip : c->seg[SEG_CS].base + c->rip;
		const uint8_t *b = NULL;

		if (emu_mmu_translate(c, lin, ACC_READ, 0, &pa, 0) == 0)
			b = vm_mem_ptr(&c->m->mem, pa, 8);
		fprintf(stderr,
			"emu: cpu %u: exception %d error %#x at %04x:%#llx cr2 %#llx (%llu insns)"
			" bytes %02x %02x %02x %02x %02x %02x\n",
			c->index, vec, has_err ? err : 0, c->seg[SEG_CS].selector,
			(unsigned long long)c->rip, (unsigned long long)c->cr2,
			(unsigned long long)c->icount, b ? b[0] : 0, b ? b[1] : 0, b ? b[2] : 0,
			b ? b[3] : 0, b ? b[4] : 0, b ? b[5] : 0);
	}
	c->exc_nesting = vec;
	emu_deliver(c, vec, INT_EXC, has_err, err);
	c->exc_nesting = -1;
	c->exc_vector = 0;
}
