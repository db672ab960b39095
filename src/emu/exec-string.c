/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * String instructions (MOVS CMPS STOS LODS SCAS INS OUTS, with REP/REPE/REPNE)
 * and port I/O (IN OUT), with the TSS I/O permission bitmap check.
 */
#include "emu/exec-inl.h"

static void check_io(struct emu_cpu *c, uint16_t port, int size)
{
	uint64_t tss_lin, limit;
	uint16_t off, bits;

	if (!(c->cr0 & CR0_PE) || (!(c->flags & FL_VM) && c->cpl <= (int)((c->flags >> 12) & 3)))
		return;
	/* consult the TSS I/O permission bitmap */
	limit = c->seg[SEG_TR].limit;
	tss_lin = c->seg[SEG_TR].base;
	if (limit < 0x67 || !(c->seg[SEG_TR].type & 8))
		emu_raise(c, EXC_GP, 1, 0); /* a 16-bit TSS has no bitmap */
	off = (uint16_t)sys_read(c, tss_lin + 0x66, 2);
	if ((uint64_t)off + port / 8 + 1 > limit)
		emu_raise(c, EXC_GP, 1, 0);
	bits = (uint16_t)sys_read(c, tss_lin + off + port / 8, 2);
	if ((bits >> (port & 7)) & ((1u << size) - 1))
		emu_raise(c, EXC_GP, 1, 0);
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

static void h_string(struct emu_cpu *c, const struct emu_insn *in) /* 6c-6f a4-a7 aa-af */
{
	if (!string_op(c, in))
		c->next_rip = c->rip;
}

static void h_in(struct emu_cpu *c, const struct emu_insn *in) /* e4 e5 ec ed */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint32_t val = 0;
	uint16_t port = op < 0xe8 ? (uint16_t)(in->imm & 0xff) : (uint16_t)c->r[2];
	int sz = (op & 1) ? (size == 8 ? 4 : size) : 1;

	check_io(c, port, sz);
	if (!emu_io_in(c, port, sz, &val)) {
		c->next_rip = c->rip; /* replays once the data arrives */
		return;
	}
	set_reg(c, 0, sz, 1, val);
}

static void h_out(struct emu_cpu *c, const struct emu_insn *in) /* e6 e7 ee ef */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint16_t port = op < 0xe8 ? (uint16_t)(in->imm & 0xff) : (uint16_t)c->r[2];
	int sz = (op & 1) ? (size == 8 ? 4 : size) : 1;

	check_io(c, port, sz);
	emu_io_out(c, port, sz, (uint32_t)c->r[0]);
}

static const struct emu_opdef ops[] = {
	OP(0x6c, 0x6f, 0, 0, 0, h_string), OP(0xa4, 0xa7, 0, 0, 0, h_string),
	OP(0xaa, 0xaf, 0, 0, 0, h_string), OP(0xe4, 0xe5, D_I8, 0, 0, h_in),
	OP(0xe6, 0xe7, D_I8, 0, 0, h_out), OP(0xec, 0xed, 0, 0, 0, h_in),
	OP(0xee, 0xef, 0, 0, 0, h_out),
};

const struct emu_opgroup emu_ops_string = { OPGROUP(ops) };
