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

/* host pointer for reading @len bytes at @lin within one page, or NULL (TLB miss, MMIO) */
static const uint8_t *lin_rptr(struct emu_cpu *c, uint64_t lin, unsigned int len)
{
	const struct emu_tlb_entry *e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
	uint32_t need = is_user(c) ? TLB_R_USR : TLB_R_SUP | emu_tlb_need_smap(c);

	if (e->vpage == (lin & ~0xfffULL) && (e->perm & need) == need && e->host &&
	    (lin & 0xfff) <= 4096u - len)
		return e->host + (lin & 0xfff);
	return NULL;
}

/*
 * REP MOVS / REP STOS in 64-bit mode, forward, in RAM: as many elements as lie in the
 * current source and destination pages (and @max), moved at once, when both pages
 * are in the TLB with the rights needed, the destination holds no decoded code and
 * a forward copy does not read what it wrote (destination inside the source). The
 * registers and the instruction count end as the element loop leaves them. Return:
 * the elements done, 0 to take the element loop (which fills the TLB, raises the
 * faults and handles MMIO and code pages).
 */
static unsigned int string_bulk(struct emu_cpu *c, const struct emu_insn *in, int size,
				unsigned int max)
{
	int movs = in->op == 0xa4 || in->op == 0xa5;
	uint64_t dst = c->r[7], src = c->r[6], n = c->r[1], bytes;
	const uint8_t *s = NULL;
	uint8_t *d;

	n = n < max ? n : max;
	if ((4096 - (dst & 0xfff)) / (unsigned int)size < n)
		n = (4096 - (dst & 0xfff)) / (unsigned int)size;
	if (movs && (4096 - (src & 0xfff)) / (unsigned int)size < n)
		n = (4096 - (src & 0xfff)) / (unsigned int)size;
	if (n < 2)
		return 0;
	bytes = n * (uint64_t)size;
	/* canonical addresses (seg_lin's check), FS/GS base of an overridden source */
	dst = seg_lin(c, SEG_ES, dst, size, ACC_WRITE);
	if (movs)
		src = seg_lin(c, in->seg, src, size, ACC_READ);
	if ((dst & 0xfff) + bytes > 4096 || (movs && (src & 0xfff) + bytes > 4096))
		return 0; /* a segment base moved the range across a page */
	/* one page each: the checks of the first element's page hold for all */
	d = lin_wptr(c, dst, size);
	if (!d || (movs && !(s = lin_rptr(c, src, (unsigned int)bytes))))
		return 0;
	if (movs) {
		if (d > s && d < s + bytes)
			return 0; /* element-wise it would replicate what it just wrote */
		memmove(d, s, bytes);
		c->r[6] += bytes;
	} else if (size == 1) {
		memset(d, (int)(c->r[0] & 0xff), bytes);
	} else {
		for (uint64_t i = 0; i < bytes; i += (uint64_t)size)
			store_p(d + i, size, c->r[0]);
	}
	c->r[7] += bytes;
	c->r[1] -= n;
	c->icount += n;
	return (unsigned int)n;
}

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
		if (rep && c->mode == 2 && asz == 8 && d > 0 && !(c->flags & FL_TF) &&
		    (op == 0xa4 || op == 0xa5 || op == 0xaa || op == 0xab)) {
			unsigned int k = string_bulk(c, in, size, REP_CHUNK - n);

			if (k) {
				n += k;
				if (c->r[1] == 0)
					return 1;
				if (c->exit_ready || n >= REP_CHUNK || c->kick)
					return 0;
				continue;
			}
		}
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
