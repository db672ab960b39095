/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Stack instructions: PUSH/POP of registers, segment registers, immediates and
 * memory, PUSHA/POPA, PUSHF/POPF, ENTER/LEAVE.
 */
#include "emu/exec-inl.h"

static void h_push_sreg(struct emu_cpu *c, const struct emu_insn *in) /* 06 0e 16 1e */
{
	unsigned int op = in->op & 0xff;

	push(c, in->osz, c->seg[op >> 3].selector);
}

static void h_pop_sreg(struct emu_cpu *c, const struct emu_insn *in) /* 07 17 1f */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t v;
	uint64_t m = sp_mask(c), sp = c->r[4] & m;

	v = lin_read(c, seg_lin(c, SEG_SS, sp, 2, ACC_READ), 2);
	emu_load_seg(c, (int)(op >> 3), (uint16_t)v);
	c->r[4] = (c->r[4] & ~m) | ((sp + (uint64_t)size) & m);
	if (op == 0x17)
		c->irq_shadow = c->ss_shadow = c->stop_block = 1;
}

static void h_push_r(struct emu_cpu *c, const struct emu_insn *in) /* 50-57 */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;

	size = stack_osz(c, in);
	push(c, size, get_reg(c, (int)(op & 7) | ((in->rex & 1) << 3), size, 1));
}

static void h_pop_r(struct emu_cpu *c, const struct emu_insn *in) /* 58-5f */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t v;

	size = stack_osz(c, in);
	v = pop(c, size);
	set_reg(c, (int)(op & 7) | ((in->rex & 1) << 3), size, 1, v);
}

static void h_pusha(struct emu_cpu *c, const struct emu_insn *in) /* 60 */
{
	int size = in->osz;
	uint64_t sp = c->r[4];

	for (int i = 0; i < 8; i++)
		push(c, size, i == 4 ? sp : c->r[i]);
}

static void h_popa(struct emu_cpu *c, const struct emu_insn *in) /* 61 */
{
	int size = in->osz;
	uint64_t v;

	for (int i = 7; i >= 0; i--) {
		v = pop(c, size);
		if (i != 4)
			set_reg(c, i, size, 1, v);
	}
}

static void h_push_imm(struct emu_cpu *c, const struct emu_insn *in) /* 68 6a */
{
	int size = in->osz;

	size = stack_osz(c, in);
	push(c, size, in->imm);
}

static void h_pop_rm(struct emu_cpu *c,
		     const struct emu_insn *in) /* 8f: POP r/m; RSP is incremented before the
						   address is computed */
{
	int size = in->osz;
	uint64_t v;
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
}

static void h_pushf(struct emu_cpu *c, const struct emu_insn *in) /* 9c */
{
	int size = in->osz;
	uint64_t fl = emu_flags_get(c);

	if ((c->flags & FL_VM) && ((fl >> 12) & 3) != 3)
		emu_raise(c, EXC_GP, 1, 0);
	size = stack_osz(c, in);
	push(c, size, fl & ~(uint64_t)(FL_RF | FL_VM));
}

static void h_popf(struct emu_cpu *c, const struct emu_insn *in) /* 9d */
{
	int size = in->osz;
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
}

static void h_enter(struct emu_cpu *c, const struct emu_insn *in) /* c8 */
{
	int size = in->osz;
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
}

static void h_leave(struct emu_cpu *c, const struct emu_insn *in) /* c9 */
{
	int size = in->osz;
	uint64_t v;
	uint64_t m = sp_mask(c), sp = c->r[5] & m;

	size = stack_osz(c, in);
	v = lin_read(c, seg_lin(c, SEG_SS, sp, size, ACC_READ), size);
	c->r[4] = (c->r[4] & ~m) | ((sp + (uint64_t)size) & m);
	set_reg(c, 5, size, 1, v);
}

static void h_push_fsgs(struct emu_cpu *c, const struct emu_insn *in) /* 0f a0 a8 */
{
	unsigned int op = in->op & 0xff;

	push(c, stack_osz(c, in), c->seg[op == 0xa0 ? SEG_FS : SEG_GS].selector);
}

static void h_pop_fsgs(struct emu_cpu *c, const struct emu_insn *in) /* 0f a1 a9 */
{
	unsigned int op = in->op & 0xff;
	uint64_t v;
	uint64_t m = sp_mask(c), sp = c->r[4] & m;
	int sz = stack_osz(c, in);

	v = lin_read(c, seg_lin(c, SEG_SS, sp, 2, ACC_READ), 2);
	emu_load_seg(c, op == 0xa1 ? SEG_FS : SEG_GS, (uint16_t)v);
	c->r[4] = (c->r[4] & ~m) | ((sp + (uint64_t)sz) & m);
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

static emu_insn_fn sel_push_r(const struct emu_insn *in)
{
	return in->rep ? NULL : f_push_r;
}

static emu_insn_fn sel_pop_r(const struct emu_insn *in)
{
	return in->rep ? NULL : f_pop_r;
}

static const struct emu_opdef ops[] = {
	OP(0x06, 0x06, D_X64, 0, 0, h_push_sreg),
	OP(0x0e, 0x0e, D_X64, 0, 0, h_push_sreg),
	OP(0x16, 0x16, D_X64, 0, 0, h_push_sreg),
	OP(0x1e, 0x1e, D_X64, 0, 0, h_push_sreg),
	OP(0x07, 0x07, D_X64, 0, 0, h_pop_sreg),
	OP(0x17, 0x17, D_X64, 0, R_ALL, h_pop_sreg),
	OP(0x1f, 0x1f, D_X64, 0, 0, h_pop_sreg),
	OPS(0x50, 0x57, 0, 0, 0, h_push_r, sel_push_r),
	OPS(0x58, 0x5f, 0, 0, 0, h_pop_r, sel_pop_r),
	OP(0x60, 0x60, D_X64, 0, 0, h_pusha),
	OP(0x61, 0x61, D_X64, 0, 0, h_popa),
	OP(0x68, 0x68, D_IZ, 0, 0, h_push_imm),
	OP(0x6a, 0x6a, D_I8, 0, 0, h_push_imm),
	OP(0x8f, 0x8f, D_M, 0, 0, h_pop_rm),
	OP(0x9c, 0x9c, 0, 0, 0, h_pushf),
	OP(0x9d, 0x9d, 0, 0, R_ALL, h_popf),
	OP(0xc8, 0xc8, D_IW | D_I8, 0, 0, h_enter),
	OP(0xc9, 0xc9, 0, 0, 0, h_leave),
	OP(MAP0F | 0xa0, MAP0F | 0xa0, 0, 0, 0, h_push_fsgs),
	OP(MAP0F | 0xa8, MAP0F | 0xa8, 0, 0, 0, h_push_fsgs),
	OP(MAP0F | 0xa1, MAP0F | 0xa1, 0, 0, 0, h_pop_fsgs),
	OP(MAP0F | 0xa9, MAP0F | 0xa9, 0, 0, 0, h_pop_fsgs),
};

const struct emu_opgroup emu_ops_stack = { OPGROUP(ops) };
