/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Control transfers: Jcc, JMP, CALL, RET (near and far), LOOP/JCXZ, INT n,
 * INT3, INTO, INT1, IRET and the FF group (INC/DEC, indirect CALL/JMP, PUSH).
 */
#include "emu/exec-inl.h"

static void h_jcc(struct emu_cpu *c, const struct emu_insn *in) /* 70-7f, 0f 80-8f */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;

	if (emu_cond(c, op & 15))
		jump_to(c, c->next_rip + in->imm, c->mode == 2 ? 8 : size);
}

static void h_call_far(struct emu_cpu *c, const struct emu_insn *in) /* 9a */
{
	int size = in->osz;

	emu_far_jump(c, (uint16_t)in->imm2, in->imm, 1, size);
}

static void h_ret(struct emu_cpu *c, const struct emu_insn *in) /* c2 c3 */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t v;
	uint64_t m;

	size = stack_osz(c, in);
	v = pop(c, size);
	jump_to(c, v, size);
	if (op == 0xc2) {
		m = sp_mask(c);
		c->r[4] = (c->r[4] & ~m) | ((c->r[4] + in->imm) & m);
	}
}

static void h_retf(struct emu_cpu *c, const struct emu_insn *in) /* ca cb */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;

	emu_far_ret(c, size, op == 0xca ? (uint16_t)in->imm : 0);
}

static void h_int3(struct emu_cpu *c, const struct emu_insn *in) /* cc */
{
	c->soft_int = 1;
	c->soft_int_rip = c->rip;
	c->rip = c->next_rip;
	emu_deliver(c, EXC_BP, INT_SOFT, 0, 0);
	c->next_rip = c->rip;
	c->soft_int = 0;
}

static void h_int(struct emu_cpu *c, const struct emu_insn *in) /* cd */
{
	if ((c->flags & FL_VM) && ((c->flags >> 12) & 3) != 3)
		emu_raise(c, EXC_GP, 1, 0);
	c->soft_int = 1;
	c->soft_int_rip = c->rip;
	c->rip = c->next_rip;
	emu_deliver(c, (int)(in->imm & 0xff), INT_SOFT, 0, 0);
	c->next_rip = c->rip;
	c->soft_int = 0;
}

static void h_into(struct emu_cpu *c, const struct emu_insn *in) /* ce */
{
	if (emu_cond(c, 0)) {
		c->soft_int = 1;
		c->soft_int_rip = c->rip;
		c->rip = c->next_rip;
		emu_deliver(c, EXC_OF, INT_SOFT, 0, 0);
		c->next_rip = c->rip;
		c->soft_int = 0;
	}
}

static void h_iret(struct emu_cpu *c, const struct emu_insn *in) /* cf */
{
	int size = in->osz;

	emu_iret(c, size);
	emu_charge(c, EMU_CYC_SERIALIZE);
}

static void h_loop(struct emu_cpu *c, const struct emu_insn *in) /* e0-e3: LOOPNE LOOPE LOOP JCXZ */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
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
}

static void h_call(struct emu_cpu *c, const struct emu_insn *in) /* e8 */
{
	int size = in->osz;
	uint64_t v;

	size = stack_osz(c, in);
	v = c->next_rip + in->imm;
	push(c, size, c->next_rip);
	jump_to(c, v, size);
}

static void h_jmp(struct emu_cpu *c, const struct emu_insn *in) /* e9 eb */
{
	int size = in->osz;

	jump_to(c, c->next_rip + in->imm, c->mode == 2 ? 8 : size);
}

static void h_jmp_far(struct emu_cpu *c, const struct emu_insn *in) /* ea */
{
	int size = in->osz;

	emu_far_jump(c, (uint16_t)in->imm2, in->imm, 0, size);
}

static void h_int1(struct emu_cpu *c, const struct emu_insn *in) /* f1 */
{
	c->soft_int = 1;
	c->soft_int_rip = c->rip;
	c->rip = c->next_rip;
	c->icebp = 1;
	emu_deliver(c, EXC_DB, INT_ICEBP, 0, 0);
	c->next_rip = c->rip;
	c->soft_int = 0;
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

static void h_grp4(struct emu_cpu *c, const struct emu_insn *in) /* fe: INC/DEC r/m8 */
{
	struct emu_insn t;

	if ((in->reg & 7) > 1)
		emu_raise(c, EXC_UD, 0, 0);
	t = *in;
	t.osz = 1;
	group5(c, &t);
}

static void h_grp5(struct emu_cpu *c, const struct emu_insn *in) /* ff */
{
	group5(c, in);
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

static void f_incdec_r(struct emu_cpu *c, const struct emu_insn *in) /* ff /0 /1, mod 3 */
{
	set_reg(c, in->rm, in->osz, 1,
		emu_incdec(c, in->reg & 1, in->osz, get_reg(c, in->rm, in->osz, 1)));
}

/* INC/DEC r when no later instruction can see the flags: CF stays, the rest is dead */
static void n_incdec_r(struct emu_cpu *c, const struct emu_insn *in)
{
	set_reg(c, in->rm, in->osz, 1,
		get_reg(c, in->rm, in->osz, 1) + ((in->reg & 1) ? ~0ULL : 1));
}

static void fl_grp5(struct emu_insn *in)
{
	if (in->fn == f_incdec_r && in->osz >= 4) {
		in->fclass = EMU_FC_PARTIAL;
		in->run = n_incdec_r;
	}
}

EMU_THREADED(f_incdec_r)
EMU_THREADED(n_incdec_r)
const struct emu_thr emu_thr_control[] = { EMU_THR(f_incdec_r), EMU_THR(n_incdec_r) };
const unsigned int emu_thr_control_n = sizeof(emu_thr_control) / sizeof(emu_thr_control[0]);

static emu_insn_fn sel_jcc(const struct emu_insn *in)
{
	return in->rep ? NULL : f_jcc;
}

static emu_insn_fn sel_jmp(const struct emu_insn *in)
{
	return in->rep ? NULL : f_jmp;
}

static emu_insn_fn sel_call(const struct emu_insn *in)
{
	return in->rep ? NULL : f_call;
}

static emu_insn_fn sel_ret(const struct emu_insn *in) /* c3 (c2 has no fast form) */
{
	return in->rep || in->op != 0xc3 ? NULL : f_ret;
}

static emu_insn_fn sel_grp5(const struct emu_insn *in)
{
	return !in->rep && in->mod == 3 && (in->reg & 7) < 2 ? f_incdec_r : NULL;
}

static const struct emu_opdef ops[] = {
	OPS(0x70, 0x7f, D_I8, 0, R_ALL, h_jcc, sel_jcc),
	OP(0x9a, 0x9a, D_FP | D_X64, 0, R_ALL, h_call_far),
	OP(0xc2, 0xc2, D_IW, 0, R_ALL, h_ret),
	OPS(0xc3, 0xc3, 0, 0, R_ALL, h_ret, sel_ret),
	OP(0xca, 0xca, D_IW, 0, R_ALL, h_retf),
	OP(0xcb, 0xcb, 0, 0, R_ALL, h_retf),
	OP(0xcc, 0xcc, 0, 0, R_ALL, h_int3),
	OP(0xcd, 0xcd, D_I8, 0, R_ALL, h_int),
	OP(0xce, 0xce, D_X64, 0, R_ALL, h_into),
	OP(0xcf, 0xcf, 0, 0, R_ALL, h_iret),
	OP(0xe0, 0xe3, D_I8, 0, R_ALL, h_loop),
	OPS(0xe8, 0xe8, D_IZ, 0, R_ALL, h_call, sel_call),
	OPS(0xe9, 0xe9, D_IZ, 0, R_ALL, h_jmp, sel_jmp),
	OP(0xea, 0xea, D_FP | D_X64, 0, R_ALL, h_jmp_far),
	OPS(0xeb, 0xeb, D_I8, 0, R_ALL, h_jmp, sel_jmp),
	OP(0xf1, 0xf1, 0, 0, R_ALL, h_int1),
	OP(0xfe, 0xfe, D_M, R_(0) | R_(1), 0, h_grp4),
	OPSF(0xff, 0xff, D_M, R_(0) | R_(1), R_(2) | R_(3) | R_(4) | R_(5), h_grp5, sel_grp5,
	     fl_grp5),
	OPS(MAP0F | 0x80, MAP0F | 0x8f, D_IZ, 0, R_ALL, h_jcc, sel_jcc),
};

const struct emu_opgroup emu_ops_control = { OPGROUP(ops) };
