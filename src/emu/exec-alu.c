/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integer arithmetic, logic, shifts, bit operations, BCD adjustments and the
 * atomic read-modify-write forms (XADD, CMPXCHG, CMPXCHG8B/16B).
 */
#include "emu/exec-inl.h"

static void h_alu(struct emu_cpu *c,
		  const struct emu_insn *in) /* 00-3d: ADD OR ADC SBB AND SUB XOR CMP */
{
	unsigned int op = in->op;
	int alu = (int)(op >> 3), size = in->osz;
	uint64_t a, v;

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

static void h_daa_das(struct emu_cpu *c, const struct emu_insn *in) /* 27 2f */
{
	unsigned int op = in->op & 0xff;
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
}

static void h_aaa_aas(struct emu_cpu *c, const struct emu_insn *in) /* 37 3f */
{
	unsigned int op = in->op & 0xff;
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
}

static void h_incdec_r(struct emu_cpu *c,
		       const struct emu_insn *in) /* 40-4f: INC/DEC r (outside 64-bit mode) */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t a;

	a = get_reg(c, (int)(op & 7), size, 1);
	set_reg(c, (int)(op & 7), size, 1, emu_incdec(c, op >= 0x48, size, a));
}

static void h_imul3(struct emu_cpu *c, const struct emu_insn *in) /* 69 6b: IMUL r, r/m, imm */
{
	int size = in->osz;
	uint64_t v;

	v = rm_read(c, in, size);
	set_reg(c, in->reg, size, 1, emu_imul2(c, size, v, in->imm));
}

static void h_grp1_b(struct emu_cpu *c, const struct emu_insn *in) /* 80 82 */
{
	alu_rm(c, in, in->reg & 7, 1, in->imm);
}

static void h_grp1(struct emu_cpu *c, const struct emu_insn *in) /* 81 83 */
{
	int size = in->osz;

	alu_rm(c, in, in->reg & 7, size, in->imm);
}

static void h_test_b(struct emu_cpu *c, const struct emu_insn *in) /* 84 */
{
	alu_inl(c, ALU_AND, 1, rm_read(c, in, 1), get_reg(c, in->reg, 1, in->rex));
}

static void h_test(struct emu_cpu *c, const struct emu_insn *in) /* 85 */
{
	int size = in->osz;

	alu_inl(c, ALU_AND, size, rm_read(c, in, size), get_reg(c, in->reg, size, in->rex));
}

static void h_test_al(struct emu_cpu *c, const struct emu_insn *in) /* a8 */
{
	alu_inl(c, ALU_AND, 1, c->r[0], in->imm);
}

static void h_test_ax(struct emu_cpu *c, const struct emu_insn *in) /* a9 */
{
	int size = in->osz;

	alu_inl(c, ALU_AND, size, c->r[0], in->imm);
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

static void h_shift(struct emu_cpu *c, const struct emu_insn *in) /* c0 c1 d0-d3 */
{
	unsigned int op = in->op, count;
	int size = (op & 1) ? in->osz : 1;

	if (op < 0xd0)
		count = (unsigned int)in->imm;
	else if (op < 0xd2)
		count = 1;
	else
		count = (unsigned int)c->r[1] & 0xff;
	shift_rm(c, in, size, count);
}

static void h_aam(struct emu_cpu *c, const struct emu_insn *in) /* d4 */
{
	uint8_t base = (uint8_t)in->imm, al = (uint8_t)c->r[0];

	if (!base)
		emu_raise(c, EXC_DE, 0, 0);
	set_reg(c, 0, 2, 1, (uint64_t)((al / base) << 8 | (al % base)));
	alu_inl(c, ALU_OR, 1, al % base, 0);
}

static void h_aad(struct emu_cpu *c, const struct emu_insn *in) /* d5 */
{
	uint8_t al = (uint8_t)((c->r[0] & 0xff) + ((c->r[0] >> 8) & 0xff) * (in->imm & 0xff));

	set_reg(c, 0, 2, 1, al);
	alu_inl(c, ALU_OR, 1, al, 0);
}

static void h_cmc(struct emu_cpu *c, const struct emu_insn *in) /* f5 */
{
	emu_flags_set(c, emu_flags_get(c) ^ FL_CF);
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

static void h_grp3(struct emu_cpu *c, const struct emu_insn *in) /* f6 f7 */
{
	group3(c, in, (in->op & 1) ? in->osz : 1);
}

static void h_clc_stc(struct emu_cpu *c, const struct emu_insn *in) /* f8 f9 */
{
	unsigned int op = in->op & 0xff;

	emu_flags_set(c, (emu_flags_get(c) & ~(uint64_t)FL_CF) | (op & 1));
}

static void h_cld_std(struct emu_cpu *c, const struct emu_insn *in) /* fc fd */
{
	unsigned int op = in->op & 0xff;

	if (op & 1)
		c->flags |= FL_DF;
	else
		c->flags &= ~(uint64_t)FL_DF;
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

static void h_bt_r(struct emu_cpu *c, const struct emu_insn *in) /* 0f a3 ab b3 bb */
{
	bit_op(c, in, (int)((in->op >> 3) & 3), get_reg(c, in->reg, in->osz, 1), 0);
}

static void h_bt_imm(struct emu_cpu *c, const struct emu_insn *in) /* 0f ba */
{
	if ((in->reg & 7) < 4)
		emu_raise(c, EXC_UD, 0, 0);
	bit_op(c, in, (in->reg & 7) - 4, in->imm & 0xff, 1);
}

static void h_shxd(struct emu_cpu *c, const struct emu_insn *in) /* 0f a4 a5 ac ad: SHLD SHRD */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t a;
	unsigned int cnt = (op & 1) ? (unsigned int)c->r[1] & 0xff : (unsigned int)in->imm & 0xff;
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
}

static void h_imul2(struct emu_cpu *c, const struct emu_insn *in) /* 0f af */
{
	int size = in->osz;
	uint64_t v;

	v = rm_read(c, in, size);
	set_reg(c, in->reg, size, 1, emu_imul2(c, size, get_reg(c, in->reg, size, 1), v));
}

static void h_cmpxchg(struct emu_cpu *c, const struct emu_insn *in) /* 0f b0 b1 */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t a;
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
}

static void h_bsf_bsr(struct emu_cpu *c, const struct emu_insn *in) /* 0f bc bd */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t v;
	uint64_t out = 0;

	v = rm_read(c, in, size);
	if (emu_bsf(c, op == 0xbd, size, v, &out))
		set_reg(c, in->reg, size, 1, out);
	else if (size == 4)
		set_reg(c, in->reg, 4, 1, c->r[in->reg]);
}

static void h_xadd(struct emu_cpu *c, const struct emu_insn *in) /* 0f c0 c1 */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t a;
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
}

static void h_cmpxchg8b(struct emu_cpu *c,
			const struct emu_insn *in) /* 0f c7 /1: CMPXCHG8B CMPXCHG16B */
{
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
		uint8_t *p = atomic_ptr(lin_wptr(c, lin, 8), 8);
		uint64_t cmp = (c->r[0] & 0xffffffffULL) | (c->r[2] << 32);
		uint64_t nv = (c->r[3] & 0xffffffffULL) | (c->r[1] << 32), cur;

		if (p) {
			cur = cmp;
			if (__atomic_compare_exchange_n((uint64_t *)(void *)p, &cur, nv, 0,
							__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
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
#ifdef __x86_64__
	{
		/* aligned, so inside one page: one host LOCK CMPXCHG16B on plain RAM */
		uint8_t *p = lin_wptr(c, lin, 16);

		if (p) {
			uint64_t a = c->r[0], d = c->r[2];
			uint8_t ok;

			__asm__ volatile("lock cmpxchg16b %[m]\n\tsetz %[ok]"
					 : [m] "+m"(*(unsigned __int128 *)(void *)p), "+a"(a),
					   "+d"(d), [ok] "=q"(ok)
					 : "b"(c->r[3]), "c"(c->r[1])
					 : "cc", "memory");
			if (ok) {
				emu_flags_set(c, fl | FL_ZF);
			} else {
				emu_flags_set(c, fl & ~(uint64_t)FL_ZF);
				c->r[0] = a;
				c->r[2] = d;
			}
			return;
		}
	}
#endif
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
}

/* Fast handlers for the most frequent forms (chosen by the select hooks below) */
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

static void f_imul2(struct emu_cpu *c, const struct emu_insn *in) /* 0f af */
{
	uint64_t v = rm_read(c, in, in->osz);
	uint64_t a = get_reg(c, in->reg, in->osz, 1);

	if (in->osz >= 4)
		set_reg(c, in->reg, in->osz, 1, imul_lazy(c, in->osz, a, v));
	else
		set_reg(c, in->reg, in->osz, 1, emu_imul2(c, in->osz, a, v));
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
static const emu_insn_fn alu_fns[8][2][3] = {
	ALU_ROW(add), ALU_ROW(or),  ALU_ROW(adc), ALU_ROW(sbb),
	ALU_ROW(and), ALU_ROW(sub), ALU_ROW(xor), ALU_ROW(cmp),
};

/*
 * The same forms for a block whose later instructions overwrite the flags before
 * anything can read them (flag liveness, exec.c): the result alone. ADC/SBB read
 * CF and have none; CMP/TEST on registers do nothing at all then.
 */
#define ALU_NF(NAME, EXPR, SZ)                                                                     \
	static void n_##NAME##_rm_r_##SZ(struct emu_cpu *c, const struct emu_insn *in)             \
	{                                                                                          \
		uint64_t a = get_reg(c, in->rm, SZ, 1), b = get_reg(c, in->reg, SZ, 1);            \
		set_reg(c, in->rm, SZ, 1, EXPR);                                                   \
	}                                                                                          \
	static void n_##NAME##_r_rm_##SZ(struct emu_cpu *c, const struct emu_insn *in)             \
	{                                                                                          \
		uint64_t b = in->mod == 3 ? get_reg(c, in->rm, SZ, 1)                              \
					  : lin_read(c, rm_lin(c, in, SZ, ACC_READ), SZ);          \
		uint64_t a = get_reg(c, in->reg, SZ, 1);                                           \
		set_reg(c, in->reg, SZ, 1, EXPR);                                                  \
	}                                                                                          \
	static void n_##NAME##_imm_r_##SZ(struct emu_cpu *c, const struct emu_insn *in)            \
	{                                                                                          \
		uint64_t a = get_reg(c, in->rm, SZ, 1), b = in->imm;                               \
		set_reg(c, in->rm, SZ, 1, EXPR);                                                   \
	}
#define ALU_NF2(NAME, EXPR) ALU_NF(NAME, EXPR, 4) ALU_NF(NAME, EXPR, 8)
ALU_NF2(add, a + b)
ALU_NF2(or, a | b)
ALU_NF2(and, a &b)
ALU_NF2(sub, a - b)
ALU_NF2(xor, a ^ b)

/* CMP r, r/m with a memory operand still reads it (it may fault) */
static void n_cmp_r_rm(struct emu_cpu *c, const struct emu_insn *in)
{
	if (in->mod != 3)
		lin_read(c, rm_lin(c, in, in->osz, ACC_READ), in->osz);
}

static void n_nop(struct emu_cpu *c, const struct emu_insn *in)
{
}

/* SHL/SHR/SAR r, imm (c1 /4-/7, 32/64-bit) without flags: one function per operation and size */
#define SHIFT_NF(NAME, SZ, EXPR)                                                                   \
	static void n_##NAME##_##SZ(struct emu_cpu *c, const struct emu_insn *in)                  \
	{                                                                                          \
		unsigned int n = (unsigned int)in->imm & (SZ == 8 ? 63 : 31);                      \
		uint64_t a = get_reg(c, in->rm, SZ, 1);                                            \
		set_reg(c, in->rm, SZ, 1, EXPR);                                                   \
	}
SHIFT_NF(shl, 4, a << n)
SHIFT_NF(shr, 4, a >> n)
SHIFT_NF(sar, 4, (uint64_t)((int64_t)(int32_t)a >> n))
SHIFT_NF(shl, 8, a << n)
SHIFT_NF(shr, 8, a >> n)
SHIFT_NF(sar, 8, (uint64_t)((int64_t)a >> n))

static void n_rot_imm_r(struct emu_cpu *c, const struct emu_insn *in) /* c1 /0 /1, 32/64-bit */
{
	unsigned int bits = (unsigned int)in->osz * 8, n = (unsigned int)in->imm & (bits - 1);
	uint64_t a = get_reg(c, in->rm, in->osz, 1);

	if (n)
		a = (in->reg & 1) ? (a >> n) | (a << (bits - n)) : (a << n) | (a >> (bits - n));
	set_reg(c, in->rm, in->osz, 1, a);
}

static void n_imul2(struct emu_cpu *c, const struct emu_insn *in) /* 0f af, 32/64-bit */
{
	uint64_t v = rm_read(c, in, in->osz);

	set_reg(c, in->reg, in->osz, 1, get_reg(c, in->reg, in->osz, 1) * v);
}

static void n_incdec_r(struct emu_cpu *c, const struct emu_insn *in) /* 40-4f */
{
	int r = (int)(in->op & 7);

	set_reg(c, r, in->osz, 1, get_reg(c, r, in->osz, 1) + ((in->op & 8) ? ~0ULL : 1));
}

#define NF_ROW(NAME)                                                                               \
	{                                                                                          \
		{ n_##NAME##_rm_r_4, n_##NAME##_r_rm_4, n_##NAME##_imm_r_4 },                      \
		{                                                                                  \
			n_##NAME##_rm_r_8, n_##NAME##_r_rm_8, n_##NAME##_imm_r_8                   \
		}                                                                                  \
	}
#define NF_NONE                                                                                    \
	{                                                                                          \
		{ NULL, NULL, NULL },                                                              \
		{                                                                                  \
			NULL, NULL, NULL                                                           \
		}                                                                                  \
	}
#define NF_CMP                                                                                     \
	{                                                                                          \
		{ n_nop, n_cmp_r_rm, n_nop },                                                      \
		{                                                                                  \
			n_nop, n_cmp_r_rm, n_nop                                                   \
		}                                                                                  \
	}
static const emu_insn_fn alu_nf[8][2][3] = {
	NF_ROW(add), NF_ROW(or), NF_NONE, NF_NONE, NF_ROW(and), NF_ROW(sub), NF_ROW(xor), NF_CMP,
};

/*
 * Flag classes (EMU_FC_*, emu.h) of this file's fast forms: the ALU rows, shifts and
 * rotates by an immediate, IMUL r, r/m, TEST r, r and INC/DEC r write flags without
 * faulting (a memory source may fault first); ADC/SBB read CF and stay EMU_FC_OTHER.
 */
static void fl_alu(struct emu_insn *in) /* 01-3b, 81, 83 */
{
	int alu, form;

	if (in->osz < 4 || in->lock || in->rep)
		return;
	if (in->op == 0x81 || in->op == 0x83) {
		if (in->mod != 3)
			return;
		alu = in->reg & 7;
		form = 2;
	} else {
		if (!(in->op & 1))
			return; /* byte forms */
		alu = (in->op >> 3) & 7;
		form = (in->op & 2) ? 1 : 0;
		if (form == 0 && in->mod != 3)
			return;
	}
	if (alu == ALU_ADC || alu == ALU_SBB)
		return;
	in->fclass = in->mod == 3 ? EMU_FC_WRITE : EMU_FC_WRITE_MEM;
	in->run = alu_nf[alu][in->osz == 8][form];
}

static void fl_test(struct emu_insn *in) /* 85 */
{
	if (in->fn == f_test_rr && in->osz >= 4) {
		in->fclass = EMU_FC_WRITE;
		in->run = n_nop;
	}
}

static void fl_shift(struct emu_insn *in) /* c1 */
{
	unsigned int n = (unsigned int)in->imm & (in->osz == 8 ? 63 : 31);

	if (in->osz < 4 || in->mod != 3 || in->rep || (in->reg & 7) == SH_RCL ||
	    (in->reg & 7) == SH_RCR)
		return;
	if (n == 0) {
		in->fclass = EMU_FC_NONE; /* a count of 0 changes nothing */
		return;
	}
	if ((in->reg & 7) <= SH_ROR) {
		in->fclass = EMU_FC_PARTIAL; /* CF and OF only */
		in->run = n_rot_imm_r;
	} else {
		static const emu_insn_fn fns[2][3] = {
			{ n_shl_4, n_shr_4, n_sar_4 },
			{ n_shl_8, n_shr_8, n_sar_8 },
		};
		unsigned int op = in->reg & 7;

		in->fclass = EMU_FC_WRITE;
		in->run = fns[in->osz == 8][op == SH_SHR ? 1 : op == SH_SAR ? 2 : 0];
	}
}

static void fl_shift1(struct emu_insn *in) /* d0-d3 */
{
	if (in->op != 0xd1 || in->osz < 4 || in->mod != 3 || in->rep)
		return;
	switch (in->reg & 7) {
	case SH_ROL:
	case SH_ROR:
		in->fclass = EMU_FC_PARTIAL; /* CF and OF only */
		break;
	case SH_RCL:
	case SH_RCR:
		break; /* they read CF */
	default:
		in->fclass = EMU_FC_WRITE; /* a count of 1: every arithmetic flag */
		break;
	}
}

/* f6 f7 register forms: TEST, NOT, NEG, MUL, IMUL (DIV and IDIV may raise #DE) */
static void fl_grp3(struct emu_insn *in)
{
	unsigned int sub = in->reg & 7;

	if (in->mod != 3 || in->rep || sub >= 6 || (in->op == 0xf6 && sub >= 2))
		return;
	in->fclass = sub == 2 ? EMU_FC_NONE : EMU_FC_WRITE;
}

static void fl_test_a(struct emu_insn *in) /* a8 a9 */
{
	in->fclass = EMU_FC_WRITE;
}

static void fl_imul2(struct emu_insn *in) /* 0f af */
{
	if (in->fn == f_imul2 && in->osz >= 4) {
		in->fclass = in->mod == 3 ? EMU_FC_WRITE : EMU_FC_WRITE_MEM;
		in->run = n_imul2;
	}
}

static void fl_incdec(struct emu_insn *in) /* 40-4f outside 64-bit mode */
{
	if (in->osz >= 4) {
		in->fclass = EMU_FC_PARTIAL; /* CF stays */
		in->run = n_incdec_r;
	}
}

static emu_insn_fn sel_alu_rm_r(const struct emu_insn *in) /* 01 09 .. 39 */
{
	if (in->rep || in->mod != 3 || (in->op & 7) != 1)
		return NULL;
	if (in->osz >= 4)
		return alu_fns[in->op >> 3][in->osz == 8][0];
	return f_alu_rm_r;
}

static emu_insn_fn sel_alu_r_rm(const struct emu_insn *in) /* 03 0b .. 3b */
{
	if (in->rep || (in->op & 7) != 3)
		return NULL;
	if (in->osz >= 4)
		return alu_fns[in->op >> 3][in->osz == 8][1];
	return f_alu_r_rm;
}

static emu_insn_fn sel_alu_imm_r(const struct emu_insn *in) /* 81 83 */
{
	if (in->rep || in->mod != 3)
		return NULL;
	if (in->osz >= 4)
		return alu_fns[in->reg & 7][in->osz == 8][2];
	return f_alu_imm_r;
}

static emu_insn_fn sel_test(const struct emu_insn *in) /* 85 */
{
	return !in->rep && in->mod == 3 ? f_test_rr : NULL;
}

static emu_insn_fn sel_shift(const struct emu_insn *in) /* c1 */
{
	if (in->rep || in->mod != 3)
		return NULL;
	if ((in->reg & 7) >= SH_SHL)
		return in->osz == 8 ? f_shift_imm_r64 : f_shift_imm_r;
	return (in->reg & 7) <= SH_ROR ? f_rot_imm_r : NULL;
}

static emu_insn_fn sel_imul2(const struct emu_insn *in) /* 0f af */
{
	return in->rep ? NULL : f_imul2;
}

/* threaded twins of the forms the flag hooks above class as unable to fault */
EMU_THREADED(f_add_rm_r_4)
EMU_THREADED(f_add_rm_r_8)
EMU_THREADED(f_add_r_rm_4)
EMU_THREADED(f_add_r_rm_8)
EMU_THREADED(f_add_imm_r_4)
EMU_THREADED(f_add_imm_r_8)
EMU_THREADED(f_or_rm_r_4)
EMU_THREADED(f_or_rm_r_8)
EMU_THREADED(f_or_r_rm_4)
EMU_THREADED(f_or_r_rm_8)
EMU_THREADED(f_or_imm_r_4)
EMU_THREADED(f_or_imm_r_8)
EMU_THREADED(f_and_rm_r_4)
EMU_THREADED(f_and_rm_r_8)
EMU_THREADED(f_and_r_rm_4)
EMU_THREADED(f_and_r_rm_8)
EMU_THREADED(f_and_imm_r_4)
EMU_THREADED(f_and_imm_r_8)
EMU_THREADED(f_sub_rm_r_4)
EMU_THREADED(f_sub_rm_r_8)
EMU_THREADED(f_sub_r_rm_4)
EMU_THREADED(f_sub_r_rm_8)
EMU_THREADED(f_sub_imm_r_4)
EMU_THREADED(f_sub_imm_r_8)
EMU_THREADED(f_xor_rm_r_4)
EMU_THREADED(f_xor_rm_r_8)
EMU_THREADED(f_xor_r_rm_4)
EMU_THREADED(f_xor_r_rm_8)
EMU_THREADED(f_xor_imm_r_4)
EMU_THREADED(f_xor_imm_r_8)
EMU_THREADED(f_cmp_rm_r_4)
EMU_THREADED(f_cmp_rm_r_8)
EMU_THREADED(f_cmp_r_rm_4)
EMU_THREADED(f_cmp_r_rm_8)
EMU_THREADED(f_cmp_imm_r_4)
EMU_THREADED(f_cmp_imm_r_8)
EMU_THREADED(f_adc_rm_r_4)
EMU_THREADED(f_adc_rm_r_8)
EMU_THREADED(f_adc_r_rm_4)
EMU_THREADED(f_adc_r_rm_8)
EMU_THREADED(f_adc_imm_r_4)
EMU_THREADED(f_adc_imm_r_8)
EMU_THREADED(f_sbb_rm_r_4)
EMU_THREADED(f_sbb_rm_r_8)
EMU_THREADED(f_sbb_r_rm_4)
EMU_THREADED(f_sbb_r_rm_8)
EMU_THREADED(f_sbb_imm_r_4)
EMU_THREADED(f_sbb_imm_r_8)
EMU_THREADED(n_add_rm_r_4)
EMU_THREADED(n_add_rm_r_8)
EMU_THREADED(n_add_r_rm_4)
EMU_THREADED(n_add_r_rm_8)
EMU_THREADED(n_add_imm_r_4)
EMU_THREADED(n_add_imm_r_8)
EMU_THREADED(n_or_rm_r_4)
EMU_THREADED(n_or_rm_r_8)
EMU_THREADED(n_or_r_rm_4)
EMU_THREADED(n_or_r_rm_8)
EMU_THREADED(n_or_imm_r_4)
EMU_THREADED(n_or_imm_r_8)
EMU_THREADED(n_and_rm_r_4)
EMU_THREADED(n_and_rm_r_8)
EMU_THREADED(n_and_r_rm_4)
EMU_THREADED(n_and_r_rm_8)
EMU_THREADED(n_and_imm_r_4)
EMU_THREADED(n_and_imm_r_8)
EMU_THREADED(n_sub_rm_r_4)
EMU_THREADED(n_sub_rm_r_8)
EMU_THREADED(n_sub_r_rm_4)
EMU_THREADED(n_sub_r_rm_8)
EMU_THREADED(n_sub_imm_r_4)
EMU_THREADED(n_sub_imm_r_8)
EMU_THREADED(n_xor_rm_r_4)
EMU_THREADED(n_xor_rm_r_8)
EMU_THREADED(n_xor_r_rm_4)
EMU_THREADED(n_xor_r_rm_8)
EMU_THREADED(n_xor_imm_r_4)
EMU_THREADED(n_xor_imm_r_8)
EMU_THREADED(n_nop)
EMU_THREADED(n_cmp_r_rm)
EMU_THREADED(n_shl_4)
EMU_THREADED(n_shr_4)
EMU_THREADED(n_sar_4)
EMU_THREADED(n_shl_8)
EMU_THREADED(n_shr_8)
EMU_THREADED(n_sar_8)
EMU_THREADED(n_rot_imm_r)
EMU_THREADED(f_shift_imm_r)
EMU_THREADED(f_shift_imm_r64)
EMU_THREADED(f_rot_imm_r)
EMU_THREADED(f_imul2)
EMU_THREADED(n_imul2)
EMU_THREADED(f_test_rr)
EMU_THREADED(h_incdec_r)
EMU_THREADED(n_incdec_r)

const struct emu_thr emu_thr_alu[] = {
	EMU_THR(f_add_rm_r_4),	EMU_THR(f_add_rm_r_8),	  EMU_THR(f_add_r_rm_4),
	EMU_THR(f_add_r_rm_8),	EMU_THR(f_add_imm_r_4),	  EMU_THR(f_add_imm_r_8),
	EMU_THR(f_or_rm_r_4),	EMU_THR(f_or_rm_r_8),	  EMU_THR(f_or_r_rm_4),
	EMU_THR(f_or_r_rm_8),	EMU_THR(f_or_imm_r_4),	  EMU_THR(f_or_imm_r_8),
	EMU_THR(f_and_rm_r_4),	EMU_THR(f_and_rm_r_8),	  EMU_THR(f_and_r_rm_4),
	EMU_THR(f_and_r_rm_8),	EMU_THR(f_and_imm_r_4),	  EMU_THR(f_and_imm_r_8),
	EMU_THR(f_sub_rm_r_4),	EMU_THR(f_sub_rm_r_8),	  EMU_THR(f_sub_r_rm_4),
	EMU_THR(f_sub_r_rm_8),	EMU_THR(f_sub_imm_r_4),	  EMU_THR(f_sub_imm_r_8),
	EMU_THR(f_xor_rm_r_4),	EMU_THR(f_xor_rm_r_8),	  EMU_THR(f_xor_r_rm_4),
	EMU_THR(f_xor_r_rm_8),	EMU_THR(f_xor_imm_r_4),	  EMU_THR(f_xor_imm_r_8),
	EMU_THR(f_cmp_rm_r_4),	EMU_THR(f_cmp_rm_r_8),	  EMU_THR(f_cmp_r_rm_4),
	EMU_THR(f_cmp_r_rm_8),	EMU_THR(f_cmp_imm_r_4),	  EMU_THR(f_cmp_imm_r_8),
	EMU_THR(f_adc_rm_r_4),	EMU_THR(f_adc_rm_r_8),	  EMU_THR(f_adc_r_rm_4),
	EMU_THR(f_adc_r_rm_8),	EMU_THR(f_adc_imm_r_4),	  EMU_THR(f_adc_imm_r_8),
	EMU_THR(f_sbb_rm_r_4),	EMU_THR(f_sbb_rm_r_8),	  EMU_THR(f_sbb_r_rm_4),
	EMU_THR(f_sbb_r_rm_8),	EMU_THR(f_sbb_imm_r_4),	  EMU_THR(f_sbb_imm_r_8),
	EMU_THR(n_add_rm_r_4),	EMU_THR(n_add_rm_r_8),	  EMU_THR(n_add_r_rm_4),
	EMU_THR(n_add_r_rm_8),	EMU_THR(n_add_imm_r_4),	  EMU_THR(n_add_imm_r_8),
	EMU_THR(n_or_rm_r_4),	EMU_THR(n_or_rm_r_8),	  EMU_THR(n_or_r_rm_4),
	EMU_THR(n_or_r_rm_8),	EMU_THR(n_or_imm_r_4),	  EMU_THR(n_or_imm_r_8),
	EMU_THR(n_and_rm_r_4),	EMU_THR(n_and_rm_r_8),	  EMU_THR(n_and_r_rm_4),
	EMU_THR(n_and_r_rm_8),	EMU_THR(n_and_imm_r_4),	  EMU_THR(n_and_imm_r_8),
	EMU_THR(n_sub_rm_r_4),	EMU_THR(n_sub_rm_r_8),	  EMU_THR(n_sub_r_rm_4),
	EMU_THR(n_sub_r_rm_8),	EMU_THR(n_sub_imm_r_4),	  EMU_THR(n_sub_imm_r_8),
	EMU_THR(n_xor_rm_r_4),	EMU_THR(n_xor_rm_r_8),	  EMU_THR(n_xor_r_rm_4),
	EMU_THR(n_xor_r_rm_8),	EMU_THR(n_xor_imm_r_4),	  EMU_THR(n_xor_imm_r_8),
	EMU_THR(n_nop),		EMU_THR(n_cmp_r_rm),	  EMU_THR(n_rot_imm_r),
	EMU_THR(f_shift_imm_r), EMU_THR(f_shift_imm_r64), EMU_THR(f_rot_imm_r),
	EMU_THR(f_imul2),	EMU_THR(n_imul2),	  EMU_THR(f_test_rr),
	EMU_THR(h_incdec_r),	EMU_THR(n_incdec_r),	  EMU_THR(n_shl_4),
	EMU_THR(n_shr_4),	EMU_THR(n_sar_4),	  EMU_THR(n_shl_8),
	EMU_THR(n_shr_8),	EMU_THR(n_sar_8),
};
const unsigned int emu_thr_alu_n = sizeof(emu_thr_alu) / sizeof(emu_thr_alu[0]);

/* an ALU row: r/m,r (LOCK), r,r/m, AL,imm8, eAX,imm */
#define ALU_OPS(b, lk)                                                                             \
	OPSF((b), (b) + 1, D_M, (lk), 0, h_alu, sel_alu_rm_r, fl_alu),                             \
		OPSF((b) + 2, (b) + 3, D_M, 0, 0, h_alu, sel_alu_r_rm, fl_alu),                    \
		OP((b) + 4, (b) + 4, D_I8, 0, 0, h_alu), OP((b) + 5, (b) + 5, D_IZ, 0, 0, h_alu)

static const struct emu_opdef ops[] = {
	ALU_OPS(0x00, R_ALL),
	ALU_OPS(0x08, R_ALL),
	ALU_OPS(0x10, R_ALL),
	ALU_OPS(0x18, R_ALL),
	ALU_OPS(0x20, R_ALL),
	ALU_OPS(0x28, R_ALL),
	ALU_OPS(0x30, R_ALL),
	ALU_OPS(0x38, 0),
	OP(0x27, 0x27, D_X64, 0, 0, h_daa_das),
	OP(0x2f, 0x2f, D_X64, 0, 0, h_daa_das),
	OP(0x37, 0x37, D_X64, 0, 0, h_aaa_aas),
	OP(0x3f, 0x3f, D_X64, 0, 0, h_aaa_aas),
	OPSF(0x40, 0x4f, 0, 0, 0, h_incdec_r, NULL, fl_incdec),
	OP(0x69, 0x69, D_M | D_IZ, 0, 0, h_imul3),
	OP(0x6b, 0x6b, D_M | D_I8, 0, 0, h_imul3),
	OP(0x80, 0x80, D_M | D_I8, 0x7f, 0, h_grp1_b),
	OPSF(0x81, 0x81, D_M | D_IZ, 0x7f, 0, h_grp1, sel_alu_imm_r, fl_alu),
	OP(0x82, 0x82, D_M | D_I8 | D_X64, 0x7f, 0, h_grp1_b),
	OPSF(0x83, 0x83, D_M | D_I8, 0x7f, 0, h_grp1, sel_alu_imm_r, fl_alu),
	OP(0x84, 0x84, D_M, 0, 0, h_test_b),
	OPSF(0x85, 0x85, D_M, 0, 0, h_test, sel_test, fl_test),
	OPSF(0xa8, 0xa8, D_I8, 0, 0, h_test_al, NULL, fl_test_a),
	OPSF(0xa9, 0xa9, D_IZ, 0, 0, h_test_ax, NULL, fl_test_a),
	OP(0xc0, 0xc0, D_M | D_I8, 0, 0, h_shift),
	OPSF(0xc1, 0xc1, D_M | D_I8, 0, 0, h_shift, sel_shift, fl_shift),
	OPSF(0xd0, 0xd3, D_M, 0, 0, h_shift, NULL, fl_shift1),
	OP(0xd4, 0xd4, D_I8 | D_X64, 0, 0, h_aam),
	OP(0xd5, 0xd5, D_I8 | D_X64, 0, 0, h_aad),
	OP(0xf5, 0xf5, 0, 0, 0, h_cmc),
	OPSF(0xf6, 0xf7, D_M | D_G3, R_(2) | R_(3), 0, h_grp3, NULL, fl_grp3),
	OP(0xf8, 0xf9, 0, 0, 0, h_clc_stc),
	OP(0xfc, 0xfd, 0, 0, 0, h_cld_std),
	OP(MAP0F | 0xa3, MAP0F | 0xa3, D_M, 0, 0, h_bt_r),
	OP(MAP0F | 0xab, MAP0F | 0xab, D_M, R_ALL, 0, h_bt_r),
	OP(MAP0F | 0xb3, MAP0F | 0xb3, D_M, R_ALL, 0, h_bt_r),
	OP(MAP0F | 0xbb, MAP0F | 0xbb, D_M, R_ALL, 0, h_bt_r),
	OP(MAP0F | 0xba, MAP0F | 0xba, D_M | D_I8, R_(5) | R_(6) | R_(7), 0, h_bt_imm),
	OP(MAP0F | 0xa4, MAP0F | 0xa4, D_M | D_I8, 0, 0, h_shxd),
	OP(MAP0F | 0xa5, MAP0F | 0xa5, D_M, 0, 0, h_shxd),
	OP(MAP0F | 0xac, MAP0F | 0xac, D_M | D_I8, 0, 0, h_shxd),
	OP(MAP0F | 0xad, MAP0F | 0xad, D_M, 0, 0, h_shxd),
	OPSF(MAP0F | 0xaf, MAP0F | 0xaf, D_M, 0, 0, h_imul2, sel_imul2, fl_imul2),
	OP(MAP0F | 0xb0, MAP0F | 0xb1, D_M, R_ALL, 0, h_cmpxchg),
	OP(MAP0F | 0xbc, MAP0F | 0xbd, D_M, 0, 0, h_bsf_bsr),
	OP(MAP0F | 0xc0, MAP0F | 0xc1, D_M, R_ALL, 0, h_xadd),
	OP(MAP0F | 0xc7, MAP0F | 0xc7, D_M, R_(1), 0, h_cmpxchg8b),
};

/* CPUID.1: ECX CX16; EDX CX8 */
const struct emu_opgroup emu_ops_alu = {
	OPGROUP(ops),
	.cpuid1_ecx = 1u << 13,
	.cpuid1_edx = 1u << 8,
};
