/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x87 floating point (D8-DF, WAIT).
 */
#include "emu/exec-inl.h"

static void h_fwait(struct emu_cpu *c, const struct emu_insn *in) /* 9b: WAIT/FWAIT */
{
	if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		emu_raise(c, EXC_NM, 0, 0);
}

static void h_x87(struct emu_cpu *c,
		  const struct emu_insn *in) /* d8-df: only the control instructions so far */
{
	unsigned int op = in->op & 0xff;

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
}

void emu_fpu_pending(struct emu_cpu *c)
{
	if (!(c->fpu_sw & 0x80))
		return;
	emu_raise(c, EXC_MF, 0, 0);
}

static const struct emu_opdef ops[] = {
	OP(0x9b, 0x9b, 0, 0, 0, h_fwait),
	OP(0xd8, 0xdf, D_M, 0, 0, h_x87),
};

const struct emu_opgroup emu_ops_fpu = { OPGROUP(ops) };
