/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * System instructions: HLT, CLI/STI, descriptor tables and LDT/TR (0F 00,
 * 0F 01), control and debug registers, MSRs, TSC, CPUID, SYSCALL/SYSRET,
 * SYSENTER/SYSEXIT, CLTS, INVD/WBINVD, STAC/CLAC, RDPKRU/WRPKRU. (0F AE, fences included, is in
 * exec-fpu.c.)
 */
#include "emu/exec-inl.h"

static void do_hlt(struct emu_cpu *c)
{
	cpl0_check(c);
	c->state = EMU_HALTED;
	c->stop_block = 1;
}

static void h_hlt(struct emu_cpu *c, const struct emu_insn *in) /* f4 */
{
	do_hlt(c);
}

static void h_cli_sti(struct emu_cpu *c, const struct emu_insn *in) /* fa fb */
{
	unsigned int op = in->op & 0xff;
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
}

static void h_grp6(struct emu_cpu *c,
		   const struct emu_insn *in) /* 0f 00: SLDT STR LLDT LTR VERR VERW */
{
	int size = in->osz;
	uint64_t v;
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
		emu_charge(c, EMU_CYC_SERIALIZE);
		return;
	case 4:
	case 5: { /* VERR VERW: ZF tells; Linux runs VERW on every return to user (MDS) */
		uint64_t fl;

		v = rm_read(c, in, 2);
		fl = emu_flags_get(c) & ~(uint64_t)FL_ZF;
		if (emu_verify_seg(c, (uint16_t)v, sub == 5))
			fl |= FL_ZF;
		emu_flags_set(c, fl);
		return;
	}
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

static void h_grp7(struct emu_cpu *c, const struct emu_insn *in) /* 0f 01 */
{
	int size = in->osz;
	uint64_t v;
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
		if (sub == 1 && (rm == 2 || rm == 3)) { /* CLAC STAC */
			if (c->cpl != 0 || (c->flags & FL_VM))
				emu_raise(c, EXC_UD, 0, 0);
			if (rm == 3)
				c->flags |= FL_AC;
			else
				c->flags &= ~(uint64_t)FL_AC;
			return;
		}
		if (sub == 5 && (rm == 6 || rm == 7)) { /* RDPKRU WRPKRU */
			if (!(c->cr4 & CR4_PKE))
				emu_raise(c, EXC_UD, 0, 0);
			if ((uint32_t)c->r[1] != 0 || (rm == 7 && (uint32_t)c->r[2] != 0))
				emu_raise(c, EXC_GP, 1, 0);
			if (rm == 6) {
				set_reg(c, 0, 4, 1, c->pkru);
				set_reg(c, 2, 4, 1, 0);
			} else {
				c->pkru = (uint32_t)c->r[0];
				emu_tlb_flush(c, 0); /* cached rights depend on PKRU */
			}
			return;
		}
		if (sub == 2 && rm == 0) {
			emu_xgetbv(c);
			return;
		}
		if (sub == 2 && rm == 1) {
			emu_xsetbv(c);
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
		if (c->mode == 2) {
			base = lin_read(c, lin + 2, 8);
			if ((uint64_t)((int64_t)(base << 16) >> 16) != base)
				emu_raise(c, EXC_GP, 1, 0); /* non-canonical base */
		} else
			base = lin_read(c, lin + 2, 4) & (size == 2 ? 0xffffffULL : 0xffffffffULL);
		t->limit = lim;
		t->base = base;
		emu_charge(c, EMU_CYC_SERIALIZE);
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
		if (c->mode == 2) {
			/* a non-canonical address has no translation: a no-op, not #GP */
			v = ea(c, in) +
			    ((in->seg == SEG_FS || in->seg == SEG_GS) ? c->seg[in->seg].base : 0);
			if ((uint64_t)((int64_t)(v << 16) >> 16) == v)
				emu_tlb_flush_page(c, v);
			emu_charge(c, EMU_CYC_SERIALIZE);
			return;
		}
		emu_tlb_flush_page(c, rm_lin(c, in, 1, ACC_READ));
		emu_charge(c, EMU_CYC_SERIALIZE);
		return;
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

static void h_syscall(struct emu_cpu *c, const struct emu_insn *in) /* 0f 05 */
{
	emu_syscall(c);
}

static void h_clts(struct emu_cpu *c, const struct emu_insn *in) /* 0f 06 */
{
	cpl0_check(c);
	c->cr0 &= ~(uint64_t)CR0_TS;
}

static void h_sysret(struct emu_cpu *c, const struct emu_insn *in) /* 0f 07 */
{
	c->cur = in; /* REX.W selects the 64-bit return */
	emu_sysret(c);
	c->cur = NULL;
}

static void h_invd(struct emu_cpu *c, const struct emu_insn *in) /* 0f 08 09: INVD WBINVD */
{
	cpl0_check(c);
	emu_charge(c, EMU_CYC_SERIALIZE);
}

static void h_mov_cr(struct emu_cpu *c,
		     const struct emu_insn *in) /* 0f 20 22: MOV r, CRn / MOV CRn, r */
{
	unsigned int op = in->op & 0xff;
	uint64_t v;
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
		if (cr != 8)
			emu_charge(c, EMU_CYC_SERIALIZE);
	}
}

static void h_mov_dr(struct emu_cpu *c, const struct emu_insn *in) /* 0f 21 23 */
{
	unsigned int op = in->op & 0xff;
	uint64_t v;
	int dr = in->reg & 7;

	cpl0_check(c);
	if (dr == 4 || dr == 5) {
		if (c->cr4 & 0x8)
			emu_raise(c, EXC_UD, 0, 0);
		dr += 2;
	}
	if (emu_dbg_general_detect(c)) /* DR7.GD: a fault before the access */
		emu_raise(c, EXC_DB, 0, 0);
	if (op == 0x21) {
		v = c->dr[dr];
		if (dr == 6)
			v = (v & 0xf00f) | 0xffff0ff0;
		if (dr == 7)
			v = (v & 0xffffffffULL) | 0x400;
		set_reg(c, in->rm, c->mode == 2 ? 8 : 4, 1, v);
	} else {
		v = c->r[in->rm];
		if (c->mode != 2)
			v &= 0xffffffffULL;
		else if ((dr == 6 || dr == 7) && (v >> 32))
			emu_raise(c, EXC_GP, 1, 0); /* the upper half is reserved */
		c->dr[dr] = v;
		if (dr != 6) /* a new address or control: which pages are watched */
			emu_dbg_update(c);
		emu_charge(c, EMU_CYC_SERIALIZE);
	}
}

static void h_wrmsr(struct emu_cpu *c, const struct emu_insn *in) /* 0f 30 */
{
	cpl0_check(c);
	if (emu_write_msr(c, (uint32_t)c->r[1], (c->r[0] & 0xffffffffULL) | (c->r[2] << 32)))
		emu_raise(c, EXC_GP, 1, 0);
	emu_charge(c, EMU_CYC_SERIALIZE);
}

static void h_rdtsc(struct emu_cpu *c, const struct emu_insn *in) /* 0f 31 */
{
	uint64_t v;

	if ((c->cr4 & 0x4) && c->cpl != 0)
		emu_raise(c, EXC_GP, 1, 0);
	v = emu_rdtsc(c);
	set_reg(c, 0, 4, 1, v);
	set_reg(c, 2, 4, 1, v >> 32);
}

static void h_rdmsr(struct emu_cpu *c, const struct emu_insn *in) /* 0f 32 */
{
	uint64_t v;

	cpl0_check(c);
	if (emu_read_msr(c, (uint32_t)c->r[1], &v))
		emu_raise(c, EXC_GP, 1, 0);
	set_reg(c, 0, 4, 1, v);
	set_reg(c, 2, 4, 1, v >> 32);
}

static void h_sysenter(struct emu_cpu *c, const struct emu_insn *in) /* 0f 34 */
{
	emu_sysenter(c);
}

static void h_sysexit(struct emu_cpu *c, const struct emu_insn *in) /* 0f 35 */
{
	c->cur = in; /* REX.W selects the 64-bit return */
	emu_sysexit(c);
	c->cur = NULL;
}

static void h_cpuid(struct emu_cpu *c, const struct emu_insn *in) /* 0f a2 */
{
	uint32_t out[4];

	emu_cpuid(c, (uint32_t)c->r[0], (uint32_t)c->r[1], out);
	set_reg(c, 0, 4, 1, out[0]);
	set_reg(c, 3, 4, 1, out[1]);
	set_reg(c, 1, 4, 1, out[2]);
	set_reg(c, 2, 4, 1, out[3]);
	emu_charge(c, EMU_CYC_SERIALIZE);
}

static const struct emu_opdef ops[] = {
	OP(0xf4, 0xf4, 0, 0, R_ALL, h_hlt),
	OP(0xfa, 0xfa, 0, 0, 0, h_cli_sti),
	OP(0xfb, 0xfb, 0, 0, R_ALL, h_cli_sti),
	OP(MAP0F | 0x00, MAP0F | 0x00, D_M, 0, R_ALL, h_grp6),
	OP(MAP0F | 0x01, MAP0F | 0x01, D_M, 0, R_ALL, h_grp7),
	OP(MAP0F | 0x05, MAP0F | 0x05, 0, 0, R_ALL, h_syscall),
	OP(MAP0F | 0x06, MAP0F | 0x06, 0, 0, R_ALL, h_clts),
	OP(MAP0F | 0x07, MAP0F | 0x07, 0, 0, R_ALL, h_sysret),
	OP(MAP0F | 0x08, MAP0F | 0x09, 0, 0, 0, h_invd),
	/* reading a control or debug register changes nothing: the block goes on */
	OP(MAP0F | 0x20, MAP0F | 0x20, D_M, 0, 0, h_mov_cr),
	OP(MAP0F | 0x22, MAP0F | 0x22, D_M, 0, R_ALL, h_mov_cr),
	OP(MAP0F | 0x21, MAP0F | 0x21, D_M, 0, 0, h_mov_dr),
	OP(MAP0F | 0x23, MAP0F | 0x23, D_M, 0, R_ALL, h_mov_dr),
	OP(MAP0F | 0x30, MAP0F | 0x30, 0, 0, R_ALL, h_wrmsr),
	OP(MAP0F | 0x31, MAP0F | 0x31, 0, 0, 0, h_rdtsc),
	OP(MAP0F | 0x32, MAP0F | 0x32, 0, 0, 0, h_rdmsr),
	OP(MAP0F | 0x34, MAP0F | 0x34, 0, 0, R_ALL, h_sysenter),
	OP(MAP0F | 0x35, MAP0F | 0x35, 0, 0, R_ALL, h_sysexit),
	OP(MAP0F | 0xa2, MAP0F | 0xa2, 0, 0, 0, h_cpuid),
};

/* CPUID.1 EDX: TSC MSR SEP CLFSH (0f ae /7 is in exec-fpu.c); CPUID.80000001 EDX: SYSCALL RDTSCP */
const struct emu_opgroup emu_ops_system = {
	OPGROUP(ops),
	.cpuid1_edx = (1u << 4) | (1u << 5) | (1u << 11) | (1u << 19),
	.cpuidx1_edx = (1u << 11) | (1u << 27),
};
