/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Data movement: MOV in all its forms, XCHG, LEA, MOVZX/MOVSX, CMOVcc, SETcc,
 * segment loads (MOV Sreg, LDS/LES/LSS/LFS/LGS), BSWAP, XLAT, LAHF/SAHF.
 */
#include "emu/exec-inl.h"

static void h_movsxd_arpl(struct emu_cpu *c,
			  const struct emu_insn *in) /* 63: MOVSXD (64-bit mode), ARPL */
{
	int size = in->osz;
	uint64_t v;

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
}

static void h_xchg(struct emu_cpu *c,
		   const struct emu_insn *in) /* 86 87: XCHG r/m, r (always locked with memory) */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t a, b;
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
			a = __atomic_exchange_n((uint64_t *)(void *)r.p, b, __ATOMIC_SEQ_CST);
			break;
		}
	} else {
		a = rmw_read(c, &r, size);
		rmw_write(c, &r, size, b);
	}
	set_reg(c, in->reg, size, in->rex, a);
}

static void h_mov_st_b(struct emu_cpu *c, const struct emu_insn *in) /* 88 */
{
	rm_write(c, in, 1, get_reg(c, in->reg, 1, in->rex));
}

static void h_mov_st(struct emu_cpu *c, const struct emu_insn *in) /* 89 */
{
	int size = in->osz;

	rm_write(c, in, size, get_reg(c, in->reg, size, in->rex));
}

static void h_mov_ld_b(struct emu_cpu *c, const struct emu_insn *in) /* 8a */
{
	set_reg(c, in->reg, 1, in->rex, rm_read(c, in, 1));
}

static void h_mov_ld(struct emu_cpu *c, const struct emu_insn *in) /* 8b */
{
	int size = in->osz;

	set_reg(c, in->reg, size, in->rex, rm_read(c, in, size));
}

static void h_mov_rm_sreg(struct emu_cpu *c, const struct emu_insn *in) /* 8c */
{
	int size = in->osz;
	uint64_t v;

	if ((in->reg & 7) > 5)
		emu_raise(c, EXC_UD, 0, 0);
	v = c->seg[in->reg & 7].selector;
	if (in->mod == 3)
		set_reg(c, in->rm, size, 1, v);
	else
		rm_write(c, in, 2, v);
}

static void h_lea(struct emu_cpu *c, const struct emu_insn *in) /* 8d */
{
	int size = in->osz;

	if (in->mod == 3)
		emu_raise(c, EXC_UD, 0, 0);
	set_reg(c, in->reg, size, 1, ea(c, in));
}

static void h_mov_sreg_rm(struct emu_cpu *c, const struct emu_insn *in) /* 8e */
{
	uint64_t v;

	if ((in->reg & 7) == SEG_CS || (in->reg & 7) > 5)
		emu_raise(c, EXC_UD, 0, 0);
	v = rm_read(c, in, 2);
	emu_load_seg(c, in->reg & 7, (uint16_t)v);
	if ((in->reg & 7) == SEG_SS)
		c->irq_shadow = c->ss_shadow = c->stop_block = 1;
}

static void h_xchg_ax(struct emu_cpu *c,
		      const struct emu_insn *in) /* 90-97: NOP, PAUSE, XCHG eAX, r */
{
	int r = (int)(in->op & 7) | ((in->rex & 1) << 3), size = in->osz;
	uint64_t a;

	if (r == 0)
		return;
	a = get_reg(c, r, size, 1);
	set_reg(c, r, size, 1, get_reg(c, 0, size, 1));
	set_reg(c, 0, size, 1, a);
}

static void h_cbw(struct emu_cpu *c, const struct emu_insn *in) /* 98: CBW CWDE CDQE */
{
	int size = in->osz;

	set_reg(c, 0, size, 1, sx(c->r[0], size / 2));
}

static void h_cwd(struct emu_cpu *c, const struct emu_insn *in) /* 99: CWD CDQ CQO */
{
	int size = in->osz;

	set_reg(c, 2, size, 1, (c->r[0] >> (size * 8 - 1)) & 1 ? ~0ULL : 0);
}

static void h_sahf(struct emu_cpu *c, const struct emu_insn *in) /* 9e */
{
	emu_flags_set(c, (emu_flags_get(c) & ~0xd5ULL) | ((c->r[0] >> 8) & 0xd5));
}

static void h_lahf(struct emu_cpu *c, const struct emu_insn *in) /* 9f */
{
	set_reg(c, 4, 1, 0, (emu_flags_get(c) & 0xd7) | 2);
}

static void h_mov_moffs(struct emu_cpu *c, const struct emu_insn *in) /* a0-a3 */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	int sz = (op & 1) ? size : 1;
	uint64_t lin = seg_lin(c, in->seg, in->imm, sz, (op & 2) ? ACC_WRITE : ACC_READ);

	if (op & 2)
		lin_write(c, lin, sz, c->r[0]);
	else
		set_reg(c, 0, sz, 1, lin_read(c, lin, sz));
}

static void h_mov_r8_imm(struct emu_cpu *c, const struct emu_insn *in) /* b0-b7 */
{
	unsigned int op = in->op & 0xff;

	set_reg(c, (int)(op & 7) | ((in->rex & 1) << 3), 1, in->rex, in->imm);
}

static void h_mov_r_imm(struct emu_cpu *c, const struct emu_insn *in) /* b8-bf */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;

	set_reg(c, (int)(op & 7) | ((in->rex & 1) << 3), size, 1, in->imm);
}

static void h_les_lds(struct emu_cpu *c, const struct emu_insn *in) /* c4 c5 */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t b, v;
	uint64_t lin;

	if (in->mod == 3)
		emu_raise(c, EXC_UD, 0, 0);
	lin = rm_lin(c, in, size + 2, ACC_READ);
	v = lin_read(c, lin, size);
	b = lin_read(c, lin + (uint64_t)size, 2);
	emu_load_seg(c, op == 0xc4 ? SEG_ES : SEG_DS, (uint16_t)b);
	set_reg(c, in->reg, size, 1, v);
}

static void h_mov_rm8_imm(struct emu_cpu *c, const struct emu_insn *in) /* c6 */
{
	if ((in->reg & 7) != 0)
		emu_raise(c, EXC_UD, 0, 0);
	rm_write(c, in, 1, in->imm);
}

static void h_mov_rm_imm(struct emu_cpu *c, const struct emu_insn *in) /* c7 */
{
	int size = in->osz;

	if ((in->reg & 7) != 0)
		emu_raise(c, EXC_UD, 0, 0);
	rm_write(c, in, size, in->imm);
}

static void h_xlat(struct emu_cpu *c, const struct emu_insn *in) /* d7 */
{
	uint64_t v;

	v = lin_read(
		c,
		seg_lin(c, in->seg, (c->r[3] + (c->r[0] & 0xff)) & mask_of(in->asz), 1, ACC_READ),
		1);
	set_reg(c, 0, 1, 1, v);
}

static void h_nop_hint(struct emu_cpu *c,
		       const struct emu_insn *in) /* 0f 0d, 0f 18-1f: prefetch and hint NOPs */
{
}

static void h_cmov(struct emu_cpu *c, const struct emu_insn *in) /* 0f 40-4f */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t v;

	v = rm_read(c, in, size);
	if (emu_cond(c, op & 15))
		set_reg(c, in->reg, size, 1, v);
	else if (size == 4)
		set_reg(c, in->reg, 4, 1, c->r[in->reg]); /* 32-bit CMOV zero-extends */
}

static void h_setcc(struct emu_cpu *c, const struct emu_insn *in) /* 0f 90-9f */
{
	unsigned int op = in->op & 0xff;

	rm_write(c, in, 1, (uint64_t)emu_cond(c, op & 15));
}

static void h_lss_lfs_lgs(struct emu_cpu *c, const struct emu_insn *in) /* 0f b2 b4 b5 */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	uint64_t a, v;
	uint64_t lin;
	int sreg = op == 0xb2 ? SEG_SS : op == 0xb4 ? SEG_FS : SEG_GS;

	if (in->mod == 3)
		emu_raise(c, EXC_UD, 0, 0);
	lin = rm_lin(c, in, size + 2, ACC_READ);
	v = lin_read(c, lin, size);
	a = lin_read(c, lin + (uint64_t)size, 2);
	emu_load_seg(c, sreg, (uint16_t)a);
	set_reg(c, in->reg, size, 1, v);
}

static void h_movzx_b(struct emu_cpu *c, const struct emu_insn *in) /* 0f b6 */
{
	int size = in->osz;

	set_reg(c, in->reg, size, 1, rm_read(c, in, 1));
}

static void h_movzx_w(struct emu_cpu *c, const struct emu_insn *in) /* 0f b7 */
{
	int size = in->osz;

	set_reg(c, in->reg, size, 1, rm_read(c, in, 2));
}

static void h_movsx_b(struct emu_cpu *c, const struct emu_insn *in) /* 0f be */
{
	int size = in->osz;

	set_reg(c, in->reg, size, 1, sx(rm_read(c, in, 1), 1));
}

static void h_movsx_w(struct emu_cpu *c, const struct emu_insn *in) /* 0f bf */
{
	int size = in->osz;

	set_reg(c, in->reg, size, 1, sx(rm_read(c, in, 2), 2));
}

static void h_bswap(struct emu_cpu *c, const struct emu_insn *in) /* 0f c8-cf */
{
	unsigned int op = in->op & 0xff;
	int size = in->osz;
	int r = (int)(op & 7) | ((in->rex & 1) << 3);

	if (size == 8)
		c->r[r] = __builtin_bswap64(c->r[r]);
	else if (size == 4)
		c->r[r] = __builtin_bswap32((uint32_t)c->r[r]);
	else
		set_reg(c, r, 2, 1, 0); /* undefined; reads as zero here */
}

/* Fast handlers for the most frequent forms */
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

static void f_lea(struct emu_cpu *c, const struct emu_insn *in) /* 8d, memory form */
{
	set_reg(c, in->reg, in->osz, 1, ea(c, in));
}

static void f_movzx8(struct emu_cpu *c, const struct emu_insn *in) /* 0f b6 */
{
	set_reg(c, in->reg, in->osz, 1, rm_read(c, in, 1));
}

static void f_mov_imm_r(struct emu_cpu *c, const struct emu_insn *in) /* b8+r */
{
	set_reg(c, (int)(in->op & 7) | ((in->rex & 1) << 3), in->osz, 1, in->imm);
}

static void f_mov_store_imm8(struct emu_cpu *c, const struct emu_insn *in) /* c6 /0, memory */
{
	lin_write(c, rm_lin(c, in, 1, ACC_WRITE), 1, in->imm);
}

static void f_mov_store_imm(struct emu_cpu *c, const struct emu_insn *in) /* c7 /0, memory */
{
	lin_write(c, rm_lin(c, in, in->osz, ACC_WRITE), in->osz, in->imm);
}

static emu_insn_fn sel_mov_store_imm(const struct emu_insn *in) /* c6 c7 */
{
	if (in->rep || in->mod == 3 || (in->reg & 7) != 0)
		return NULL;
	return in->op == 0xc6 ? f_mov_store_imm8 : f_mov_store_imm;
}

static emu_insn_fn sel_mov_st(const struct emu_insn *in) /* 89 */
{
	if (in->rep)
		return NULL;
	if (in->osz == 8)
		return in->mod == 3 ? f_mov_rr64 : f_mov_store64;
	return in->mod == 3 ? f_mov_rr_st : f_mov_store;
}

static emu_insn_fn sel_mov_ld(const struct emu_insn *in) /* 8b */
{
	if (in->rep)
		return NULL;
	if (in->osz == 8 && in->mod != 3)
		return f_mov_load64;
	return in->mod == 3 ? f_mov_rr_ld : f_mov_load;
}

static emu_insn_fn sel_lea(const struct emu_insn *in) /* 8d */
{
	return in->rep || in->mod == 3 ? NULL : f_lea;
}

static emu_insn_fn sel_movzx8(const struct emu_insn *in) /* 0f b6 */
{
	return in->rep ? NULL : f_movzx8;
}

static emu_insn_fn sel_mov_imm_r(const struct emu_insn *in) /* b8-bf */
{
	return in->rep ? NULL : f_mov_imm_r;
}

/*
 * register moves, LEA and MOV r, imm neither touch the flags nor fault (flag liveness);
 * a RIP-relative LEA needs RIP, which the threaded dispatch keeps only for others
 */
static void fl_mov(struct emu_insn *in)
{
	if (in->fn == f_mov_rr_st || in->fn == f_mov_rr_ld || in->fn == f_mov_rr64 ||
	    (in->fn == f_lea && !in->riprel) || in->fn == f_mov_imm_r ||
	    (in->fn == f_movzx8 && in->mod == 3))
		in->fclass = EMU_FC_NONE;
}

/* register forms that neither fault nor touch the flags: MOVSX, MOV r, imm32 (c7), XCHG eAX */
static void fl_mov_reg(struct emu_insn *in)
{
	if (in->rep)
		return;
	if (in->op >= 0x90 && in->op <= 0x97)
		in->fclass = EMU_FC_NONE;
	else if (in->mod == 3 && (in->op != 0xc7 || (in->reg & 7) == 0))
		in->fclass = EMU_FC_NONE;
}

/* threaded twins of the forms fl_mov classes as unable to fault */
EMU_THREADED(f_mov_rr_st)
EMU_THREADED(f_mov_rr_ld)
EMU_THREADED(f_mov_rr64)
EMU_THREADED(f_lea)
EMU_THREADED(f_mov_imm_r)
EMU_THREADED(f_movzx8)

const struct emu_thr emu_thr_mov[] = {
	EMU_THR(f_mov_rr_st), EMU_THR(f_mov_rr_ld), EMU_THR(f_mov_rr64),
	EMU_THR(f_lea),	      EMU_THR(f_mov_imm_r), EMU_THR(f_movzx8),
};
const unsigned int emu_thr_mov_n = sizeof(emu_thr_mov) / sizeof(emu_thr_mov[0]);

static const struct emu_opdef ops[] = {
	OP(0x63, 0x63, D_M, 0, 0, h_movsxd_arpl),
	OP(0x86, 0x87, D_M, R_ALL, 0, h_xchg),
	OP(0x88, 0x88, D_M, 0, 0, h_mov_st_b),
	OPSF(0x89, 0x89, D_M, 0, 0, h_mov_st, sel_mov_st, fl_mov),
	OP(0x8a, 0x8a, D_M, 0, 0, h_mov_ld_b),
	OPSF(0x8b, 0x8b, D_M, 0, 0, h_mov_ld, sel_mov_ld, fl_mov),
	OP(0x8c, 0x8c, D_M, 0, 0, h_mov_rm_sreg),
	OPSF(0x8d, 0x8d, D_M, 0, 0, h_lea, sel_lea, fl_mov),
	OP(0x8e, 0x8e, D_M, 0, R_ALL, h_mov_sreg_rm),
	OPSF(0x90, 0x97, 0, 0, 0, h_xchg_ax, NULL, fl_mov_reg),
	OP(0x98, 0x98, 0, 0, 0, h_cbw),
	OP(0x99, 0x99, 0, 0, 0, h_cwd),
	OP(0x9e, 0x9e, 0, 0, 0, h_sahf),
	OP(0x9f, 0x9f, 0, 0, 0, h_lahf),
	OP(0xa0, 0xa3, D_MO, 0, 0, h_mov_moffs),
	OP(0xb0, 0xb7, D_I8, 0, 0, h_mov_r8_imm),
	OPSF(0xb8, 0xbf, D_IV, 0, 0, h_mov_r_imm, sel_mov_imm_r, fl_mov),
	OP(0xc4, 0xc5, D_M | D_X64, 0, 0, h_les_lds),
	OPS(0xc6, 0xc6, D_M | D_I8, 0, 0, h_mov_rm8_imm, sel_mov_store_imm),
	OPSF(0xc7, 0xc7, D_M | D_IZ, 0, 0, h_mov_rm_imm, sel_mov_store_imm, fl_mov_reg),
	OP(0xd7, 0xd7, 0, 0, 0, h_xlat),
	OP(MAP0F | 0x0d, MAP0F | 0x0d, D_M, 0, 0, h_nop_hint),
	OP(MAP0F | 0x18, MAP0F | 0x1f, D_M, 0, 0, h_nop_hint),
	OP(MAP0F | 0x40, MAP0F | 0x4f, D_M, 0, 0, h_cmov),
	OP(MAP0F | 0x90, MAP0F | 0x9f, D_M, 0, 0, h_setcc),
	OP(MAP0F | 0xb2, MAP0F | 0xb2, D_M, 0, R_ALL, h_lss_lfs_lgs),
	OP(MAP0F | 0xb4, MAP0F | 0xb5, D_M, 0, 0, h_lss_lfs_lgs),
	OPSF(MAP0F | 0xb6, MAP0F | 0xb6, D_M, 0, 0, h_movzx_b, sel_movzx8, fl_mov),
	OP(MAP0F | 0xb7, MAP0F | 0xb7, D_M, 0, 0, h_movzx_w),
	OPSF(MAP0F | 0xbe, MAP0F | 0xbe, D_M, 0, 0, h_movsx_b, NULL, fl_mov_reg),
	OPSF(MAP0F | 0xbf, MAP0F | 0xbf, D_M, 0, 0, h_movsx_w, NULL, fl_mov_reg),
	OP(MAP0F | 0xc8, MAP0F | 0xcf, 0, 0, 0, h_bswap),
};

/* CPUID.1 EDX: CMOV; CPUID.80000001 ECX: LAHF/SAHF in 64-bit mode */
const struct emu_opgroup emu_ops_mov = {
	OPGROUP(ops),
	.cpuid1_edx = 1u << 15,
	.cpuidx1_ecx = 1u << 0,
};
