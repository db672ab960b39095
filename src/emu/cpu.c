/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Architectural state of the emulated CPU: reset, segment loading with
 * descriptor and privilege checks, control registers and MSRs, CPUID,
 * interrupt and exception delivery (real-mode IVT, protected-mode and long-mode
 * IDT with stack switches), far transfers, IRET and the fast system calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu/exec-inl.h"
#include "vm/machine.h"

void emu_raise(struct emu_cpu *c, int vector, int has_err, uint32_t err)
{
	/* the selector error codes; #PF's bit 0 is P, #DF's and #AC's codes are 0 */
	if (c->deliver_ext && has_err &&
	    (vector == EXC_TS || vector == EXC_NP || vector == EXC_SS || vector == EXC_GP))
		err |= 1;
	c->exc_vector = vector;
	c->exc_has_err = has_err;
	c->exc_err = err;
	longjmp(c->jb, 1);
}

void emu_raise_pf(struct emu_cpu *c, uint64_t lin, uint32_t err)
{
	c->cr2 = lin;
	emu_raise(c, EXC_PF, 1, err);
}

void emu_update_mode(struct emu_cpu *c)
{
	if ((c->efer & EFER_LMA) && c->seg[SEG_CS].l)
		c->mode = 2;
	else if ((c->cr0 & CR0_PE) && !(c->flags & FL_VM) && c->seg[SEG_CS].db)
		c->mode = 1;
	else
		c->mode = 0;
}

static void seg_set(struct x86_segment *s, uint64_t base, uint32_t limit, uint16_t sel,
		    uint8_t type, uint8_t sbit, uint8_t dpl, uint8_t db, uint8_t l, uint8_t g)
{
	memset(s, 0, sizeof(*s));
	s->base = base;
	s->limit = limit;
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->s = sbit;
	s->dpl = dpl;
	s->db = db;
	s->l = l;
	s->g = g;
}

void emu_cpu_reset(struct emu_cpu *c)
{
	memset(c->r, 0, sizeof(c->r));
	c->r[2] = 0x600; /* family 6 in EDX after reset */
	c->rip = 0xfff0;
	c->flags = 2;
	c->cc_op = CC_EFLAGS;
	seg_set(&c->seg[SEG_CS], 0xffff0000ULL, 0xffff, 0xf000, 0xb, 1, 0, 0, 0, 0);
	for (int i = 0; i < 6; i++)
		if (i != SEG_CS)
			seg_set(&c->seg[i], 0, 0xffff, 0, 3, 1, 0, 0, 0, 0);
	seg_set(&c->seg[SEG_TR], 0, 0xffff, 0, 0xb, 0, 0, 0, 0, 0);
	seg_set(&c->seg[SEG_LDT], 0, 0xffff, 0, 2, 0, 0, 0, 0, 0);
	c->gdt.base = c->idt.base = 0;
	c->gdt.limit = c->idt.limit = 0xffff;
	c->cr0 = 0x60000010ULL;
	c->cr2 = c->cr3 = c->cr4 = c->cr8 = c->efer = 0;
	memset(c->dr, 0, sizeof(c->dr));
	c->dr[6] = 0xffff0ff0;
	c->dr[7] = 0x400;
	c->cpl = 0;
	c->pat = 0x0007040600070406ULL;
	c->xcr0 = 1;
	c->pkru = 0;
	c->pkrs = 0;
	/*
	 * FCW as KVM sets it for a new vCPU (FNINIT's 0x37f) rather than the SDM's
	 * power-up 0x40, so that both accelerators start out equal.
	 */
	c->fpu_cw = 0x37f;
	c->fpu_sw = 0;
	c->fpu_tag = 0xffff;
	c->fpu_fop = c->fpu_cs = c->fpu_ds = 0;
	c->fpu_ip = c->fpu_dp = 0;
	memset(c->fpr, 0, sizeof(c->fpr));
	memset(c->xmm, 0, sizeof(c->xmm));
	c->mxcsr = MXCSR_RESET;
	c->star = c->lstar = c->cstar = c->fmask = c->kernel_gs_base = 0;
	c->sysenter_cs = c->sysenter_esp = c->sysenter_eip = 0;
	c->mtrr_def_type = 0;
	c->apic_base = 0xfee00000ULL | 0x800 | (c->index == 0 ? 0x100 : 0);
	c->irq_shadow = 0;
	c->ss_shadow = c->icebp = 0;
	c->db_hit = c->db_pending = c->db_wake = 0;
	c->dbg_active = c->watch_active = 0;
	c->exc_nesting = -1;
	c->state = c->index == 0 ? EMU_RUNNING : EMU_WAIT_SIPI;
	c->nmi_pending = c->nmi_blocked = 0;
	emu_lapic_reset(c);
	emu_tlb_flush(c, 0);
	emu_update_mode(c);
}

/* ---- descriptors ---- */

static void desc_to_seg(struct x86_segment *s, uint64_t d, uint16_t sel)
{
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));

	s->selector = sel;
	s->base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	s->type = (uint8_t)((d >> 40) & 0xf);
	s->s = (uint8_t)((d >> 44) & 1);
	s->dpl = (uint8_t)((d >> 45) & 3);
	s->present = (uint8_t)((d >> 47) & 1);
	s->avl = (uint8_t)((d >> 52) & 1);
	s->l = (uint8_t)((d >> 53) & 1);
	s->db = (uint8_t)((d >> 54) & 1);
	s->g = (uint8_t)((d >> 55) & 1);
	s->limit = s->g ? (limit << 12) | 0xfff : limit;
	s->unusable = 0;
}

/* read the descriptor of @sel; raises @vec(sel) when outside its table */
static uint64_t read_desc(struct emu_cpu *c, uint16_t sel, int vec, uint64_t *addr)
{
	uint64_t base, limit;

	if (sel & 4) {
		if (c->seg[SEG_LDT].unusable || !c->seg[SEG_LDT].present)
			emu_raise(c, vec, 1, sel & 0xfffc);
		base = c->seg[SEG_LDT].base;
		limit = c->seg[SEG_LDT].limit;
	} else {
		base = c->gdt.base;
		limit = c->gdt.limit;
	}
	if ((uint64_t)(sel & ~7) + 7 > limit)
		emu_raise(c, vec, 1, sel & 0xfffc);
	*addr = base + (sel & ~7);
	return sys_read(c, *addr, 8);
}

uint64_t emu_read_desc(struct emu_cpu *c, uint16_t sel, int vec, uint64_t *addr)
{
	return read_desc(c, sel, vec, addr);
}

void emu_desc_to_seg(struct x86_segment *s, uint64_t d, uint16_t sel)
{
	desc_to_seg(s, d, sel);
}

int emu_verify_seg(struct emu_cpu *c, uint16_t sel, int write)
{
	uint64_t base, limit, d;
	int dpl, code, conforming;

	if ((sel & ~3) == 0)
		return 0;
	if (sel & 4) {
		if (c->seg[SEG_LDT].unusable || !c->seg[SEG_LDT].present)
			return 0;
		base = c->seg[SEG_LDT].base;
		limit = c->seg[SEG_LDT].limit;
	} else {
		base = c->gdt.base;
		limit = c->gdt.limit;
	}
	if ((uint64_t)(sel & ~7) + 7 > limit)
		return 0;
	d = sys_read(c, base + (sel & ~7), 8);
	if (!((d >> 44) & 1))
		return 0; /* system segment */
	dpl = (int)((d >> 45) & 3);
	code = (d >> 43) & 1;
	conforming = code && ((d >> 42) & 1);
	if (!conforming && (dpl < c->cpl || dpl < (sel & 3)))
		return 0;
	if (write)
		return !code && ((d >> 41) & 1);
	return !code || ((d >> 41) & 1);
}

static void set_accessed(struct emu_cpu *c, uint64_t addr, uint64_t d)
{
	if (!(d & (1ULL << 40)))
		sys_write(c, addr + 5, 1, ((d >> 40) & 0xff) | 1);
}

void emu_seg_real(struct emu_cpu *c, int sreg, uint16_t sel)
{
	struct x86_segment *s = &c->seg[sreg];

	s->selector = sel;
	s->base = (uint64_t)sel << 4;
	if (c->flags & FL_VM) {
		s->limit = 0xffff;
		s->type = sreg == SEG_CS ? 0xb : 3;
		s->s = 1;
		s->dpl = 3;
		s->present = 1;
		s->db = s->l = s->g = 0;
		s->unusable = 0;
	}
}

void emu_load_seg(struct emu_cpu *c, int sreg, uint16_t sel)
{
	struct x86_segment *s = &c->seg[sreg];
	uint64_t d, addr;
	int rpl = sel & 3, dpl;

	if (!(c->cr0 & CR0_PE) || (c->flags & FL_VM)) {
		emu_seg_real(c, sreg, sel);
		return;
	}
	if ((sel & ~3) == 0) {
		if (sreg == SEG_SS && (c->mode != 2 || c->cpl == 3 || rpl != c->cpl))
			emu_raise(c, EXC_GP, 1, 0);
		s->selector = sel;
		s->unusable = 1;
		s->present = 0;
		s->type = 0;
		s->s = 0;
		s->dpl = sreg == SEG_SS ? (uint8_t)c->cpl : 0;
		if (c->mode != 2)
			s->base = 0;
		return;
	}
	d = read_desc(c, sel, EXC_GP, &addr);
	dpl = (int)((d >> 45) & 3);
	if (!((d >> 44) & 1))
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	if (sreg == SEG_SS) {
		/* writable data, RPL = DPL = CPL */
		if ((d >> 43) & 1 || !((d >> 41) & 1) || rpl != c->cpl || dpl != c->cpl)
			emu_raise(c, EXC_GP, 1, sel & 0xfffc);
		if (!((d >> 47) & 1))
			emu_raise(c, EXC_SS, 1, sel & 0xfffc);
	} else {
		int code = (d >> 43) & 1, readable = (d >> 41) & 1, conforming = (d >> 42) & 1;

		if (code && !readable)
			emu_raise(c, EXC_GP, 1, sel & 0xfffc);
		if ((!code || !conforming) && (rpl > dpl || c->cpl > dpl))
			emu_raise(c, EXC_GP, 1, sel & 0xfffc);
		if (!((d >> 47) & 1))
			emu_raise(c, EXC_NP, 1, sel & 0xfffc);
	}
	set_accessed(c, addr, d);
	desc_to_seg(s, d | (1ULL << 40), sel);
}

/* load CS for a transfer to privilege @cpl (checks done by the caller) */
static void load_cs(struct emu_cpu *c, uint16_t sel, uint64_t d, uint64_t addr, int cpl)
{
	set_accessed(c, addr, d);
	desc_to_seg(&c->seg[SEG_CS], d | (1ULL << 40), (uint16_t)((sel & ~3) | cpl));
	c->cpl = cpl;
	emu_update_mode(c);
}

/* check @sel names a present code segment usable from @cpl; returns its descriptor */
static uint64_t check_code(struct emu_cpu *c, uint16_t sel, uint64_t *addr, int vec_np)
{
	uint64_t d;

	if ((sel & ~3) == 0)
		emu_raise(c, EXC_GP, 1, 0);
	d = read_desc(c, sel, EXC_GP, addr);
	if (!((d >> 44) & 1) || !((d >> 43) & 1))
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	if (!((d >> 47) & 1))
		emu_raise(c, vec_np, 1, sel & 0xfffc);
	return d;
}

static int canonical(uint64_t v);

void emu_load_tr(struct emu_cpu *c, uint16_t sel)
{
	uint64_t d, addr, hi = 0;
	int type;

	if ((sel & ~3) == 0 || (sel & 4))
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	d = read_desc(c, sel, EXC_GP, &addr);
	type = (int)((d >> 40) & 0x1f);
	if (type != 0x09 && type != 0x01)
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	if (!((d >> 47) & 1))
		emu_raise(c, EXC_NP, 1, sel & 0xfffc);
	if (c->efer & EFER_LMA) {
		hi = sys_read(c, addr + 8, 8);
		/* the 16-byte system descriptor's base must be canonical */
		if (!canonical(((d >> 16) & 0xffffffULL) | ((d >> 32) & 0xff000000ULL) |
			       (hi << 32)))
			emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	}
	sys_write(c, addr + 5, 1, ((d >> 40) & 0xff) | 2); /* mark busy */
	desc_to_seg(&c->seg[SEG_TR], d | (2ULL << 40), sel);
	c->seg[SEG_TR].base |= (hi & 0xffffffffULL) << 32;
}

void emu_load_ldt(struct emu_cpu *c, uint16_t sel)
{
	uint64_t d, addr, hi = 0;

	if ((sel & ~3) == 0) {
		c->seg[SEG_LDT].selector = sel;
		c->seg[SEG_LDT].unusable = 1;
		c->seg[SEG_LDT].present = 0;
		return;
	}
	if (sel & 4)
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	d = read_desc(c, sel, EXC_GP, &addr);
	if (((d >> 40) & 0x1f) != 0x02)
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	if (!((d >> 47) & 1))
		emu_raise(c, EXC_NP, 1, sel & 0xfffc);
	if (c->efer & EFER_LMA) {
		hi = sys_read(c, addr + 8, 8);
		if (!canonical(((d >> 16) & 0xffffffULL) | ((d >> 32) & 0xff000000ULL) |
			       (hi << 32)))
			emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	}
	desc_to_seg(&c->seg[SEG_LDT], d, sel);
	c->seg[SEG_LDT].base |= (hi & 0xffffffffULL) << 32;
}

/* ---- interrupt and exception delivery ---- */

/* stack writes during delivery, at the privilege of the handler */
struct kstack {
	uint64_t sp, base, mask;
	int user;
	struct emu_cpu *c;
};

static void kpush(struct kstack *k, int size, uint64_t v)
{
	k->sp = (k->sp - (uint64_t)size) & k->mask;
	emu_lin_write(k->c, (k->base + k->sp) & (k->mask == ~0ULL ? ~0ULL : 0xffffffffULL), &v,
		      (unsigned int)size, k->user);
}

static void deliver_real(struct emu_cpu *c, int vector)
{
	uint64_t fl = emu_flags_get(c), sp;
	uint16_t ip, cs;
	struct kstack k;

	if ((uint64_t)vector * 4 + 3 > c->idt.limit)
		emu_raise(c, EXC_GP, 1, (uint32_t)vector * 8 + 2);
	ip = (uint16_t)sys_read(c, c->idt.base + (uint64_t)vector * 4, 2);
	cs = (uint16_t)sys_read(c, c->idt.base + (uint64_t)vector * 4 + 2, 2);
	k.c = c;
	k.mask = sp_mask(c);
	k.sp = c->r[4] & k.mask;
	k.base = c->seg[SEG_SS].base;
	k.user = 0;
	kpush(&k, 2, fl);
	kpush(&k, 2, c->seg[SEG_CS].selector);
	kpush(&k, 2, c->rip);
	sp = k.sp;
	c->r[4] = (c->r[4] & ~k.mask) | sp;
	emu_flags_set(c, fl & ~(uint64_t)(FL_IF | FL_TF | FL_AC | FL_RF));
	emu_seg_real(c, SEG_CS, cs);
	c->rip = ip;
}

static void deliver_prot(struct emu_cpu *c, int vector, int kind, int has_err, uint32_t err)
{
	int lm = (c->efer & EFER_LMA) != 0;
	uint32_t gerr = (uint32_t)vector * 8 + 2;
	unsigned int esz = lm ? 16 : 8;
	uint64_t g, ghi = 0, off, d, daddr, fl = emu_flags_get(c);
	int type, gdpl, dpl, ist = 0, gsize;
	uint16_t sel;
	struct kstack k;
	uint64_t old_ss = c->seg[SEG_SS].selector, old_sp = c->r[4];
	int old_cpl = c->cpl, new_cpl;
	struct x86_segment new_ss = c->seg[SEG_SS];
	int vm86 = (fl & FL_VM) != 0;

	if ((uint64_t)vector * esz + esz - 1 > c->idt.limit)
		emu_raise(c, EXC_GP, 1, gerr);
	g = sys_read(c, c->idt.base + (uint64_t)vector * esz, 8);
	if (lm)
		ghi = sys_read(c, c->idt.base + (uint64_t)vector * esz + 8, 8);
	type = (int)((g >> 40) & 0x1f);
	gdpl = (int)((g >> 45) & 3);
	if (lm ? (type != 0xe && type != 0xf)
	       : (type != 0x5 && type != 0x6 && type != 0x7 && type != 0xe && type != 0xf))
		emu_raise(c, EXC_GP, 1, gerr);
	if ((kind == INT_SOFT) && gdpl < c->cpl)
		emu_raise(c, EXC_GP, 1, gerr);
	if (!((g >> 47) & 1))
		emu_raise(c, EXC_NP, 1, gerr);
	if (type == 0x5) {
		emu_task_gate_deliver(c, g, has_err, err);
		return;
	}
	sel = (uint16_t)(g >> 16);
	off = (g & 0xffff) | ((g >> 32) & 0xffff0000ULL);
	if (lm) {
		off |= ghi << 32;
		ist = (int)((g >> 32) & 7);
	}
	gsize = (type & 8) ? 4 : 2;
	d = check_code(c, sel, &daddr, EXC_NP);
	dpl = (int)((d >> 45) & 3);
	if (dpl > c->cpl)
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	if (lm && (!((d >> 53) & 1) || ((d >> 54) & 1)))
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	new_cpl = ((d >> 42) & 1) ? c->cpl : dpl; /* conforming keeps CPL */
	if (vm86 && new_cpl != 0)
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);

	k.c = c;
	k.user = new_cpl == 3;
	if (lm) {
		uint64_t rsp = c->r[4];

		if (ist || new_cpl < c->cpl) {
			uint64_t tss = c->seg[SEG_TR].base;
			uint64_t o =
				ist ? 0x24 + 8 * (uint64_t)(ist - 1) : 4 + 8 * (uint64_t)new_cpl;

			if (o + 7 > c->seg[SEG_TR].limit)
				emu_raise(c, EXC_TS, 1, c->seg[SEG_TR].selector & 0xfffc);
			rsp = sys_read(c, tss + o, 8);
		}
		k.sp = rsp & ~0xfULL;
		k.base = 0;
		k.mask = ~0ULL;
		kpush(&k, 8, old_ss);
		kpush(&k, 8, old_sp);
		kpush(&k, 8, fl);
		kpush(&k, 8, c->seg[SEG_CS].selector);
		kpush(&k, 8, c->rip);
		if (has_err)
			kpush(&k, 8, err);
		if (new_cpl < c->cpl) {
			memset(&new_ss, 0, sizeof(new_ss));
			new_ss.selector = (uint16_t)new_cpl;
			new_ss.unusable = 1;
			new_ss.dpl = (uint8_t)new_cpl;
		}
	} else {
		if (new_cpl < c->cpl) {
			uint64_t tss = c->seg[SEG_TR].base, dd, da;
			int tss32 = (c->seg[SEG_TR].type & 8) != 0;
			uint64_t nsp;
			uint16_t nss;

			if (tss32) {
				nsp = sys_read(c, tss + 4 + 8 * (uint64_t)new_cpl, 4);
				nss = (uint16_t)sys_read(c, tss + 8 + 8 * (uint64_t)new_cpl, 2);
			} else {
				nsp = sys_read(c, tss + 2 + 4 * (uint64_t)new_cpl, 2);
				nss = (uint16_t)sys_read(c, tss + 4 + 4 * (uint64_t)new_cpl, 2);
			}
			if ((nss & ~3) == 0 || (nss & 3) != new_cpl)
				emu_raise(c, EXC_TS, 1, nss & 0xfffc);
			dd = read_desc(c, nss, EXC_TS, &da);
			if (((dd >> 45) & 3) != (uint64_t)new_cpl || !((dd >> 44) & 1) ||
			    ((dd >> 43) & 1) || !((dd >> 41) & 1))
				emu_raise(c, EXC_TS, 1, nss & 0xfffc);
			if (!((dd >> 47) & 1))
				emu_raise(c, EXC_SS, 1, nss & 0xfffc);
			desc_to_seg(&new_ss, dd | (1ULL << 40), nss);
			k.mask = new_ss.db ? 0xffffffffULL : 0xffffULL;
			k.sp = nsp & k.mask;
			k.base = new_ss.base;
			if (vm86) {
				kpush(&k, gsize, c->seg[SEG_GS].selector);
				kpush(&k, gsize, c->seg[SEG_FS].selector);
				kpush(&k, gsize, c->seg[SEG_DS].selector);
				kpush(&k, gsize, c->seg[SEG_ES].selector);
			}
			kpush(&k, gsize, old_ss);
			kpush(&k, gsize, old_sp);
		} else {
			k.mask = sp_mask(c);
			k.sp = c->r[4] & k.mask;
			k.base = c->seg[SEG_SS].base;
		}
		kpush(&k, gsize, fl);
		kpush(&k, gsize, c->seg[SEG_CS].selector);
		kpush(&k, gsize, c->rip);
		if (has_err)
			kpush(&k, gsize, err);
	}
	/* commit */
	if (new_cpl < old_cpl || lm) {
		if (new_cpl < old_cpl)
			c->seg[SEG_SS] = new_ss;
		c->r[4] = lm ? k.sp : (c->r[4] & ~k.mask) | k.sp;
	} else {
		c->r[4] = (c->r[4] & ~k.mask) | k.sp;
	}
	if (vm86) {
		for (int s = SEG_ES; s <= SEG_GS; s++) {
			if (s == SEG_CS || s == SEG_SS)
				continue;
			memset(&c->seg[s], 0, sizeof(c->seg[s]));
			c->seg[s].unusable = 1;
		}
	}
	fl &= ~(uint64_t)(FL_TF | FL_NT | FL_RF | FL_VM);
	if (!(type & 1))
		fl &= ~(uint64_t)FL_IF;
	emu_flags_set(c, fl);
	load_cs(c, sel, d, daddr, new_cpl);
	c->rip = lm ? off : (gsize == 2 ? off & 0xffff : off);
}

void emu_deliver(struct emu_cpu *c, int vector, int kind, int has_err, uint32_t err)
{
	c->deliveries++;
	c->state = EMU_RUNNING;
	c->deliver_ext = kind != INT_SOFT;
	if (!(c->cr0 & CR0_PE)) {
		deliver_real(c, vector);
	} else {
		if ((c->flags & FL_VM) && kind == INT_SOFT && ((c->flags >> 12) & 3) != 3)
			emu_raise(c, EXC_GP, 1, 0);
		deliver_prot(c, vector, kind, has_err, err);
	}
	c->deliver_ext = 0;
	emu_update_mode(c);
}

/* ---- far transfers ---- */

/*
 * Far CALL/JMP through a call gate (SDM vol. 3 5.8.3-5.8.6): a 16- or 32-bit
 * gate outside IA-32e mode, a 64-bit one (16 bytes) in it. A CALL to a more
 * privileged non-conforming segment switches to the inner stack of the TSS and
 * copies the gate's parameter count of stack entries (none in 64-bit mode);
 * RET far to the outer level undoes it (emu_far_ret). JMP keeps the CPL.
 */
static void call_gate(struct emu_cpu *c, uint16_t gsel, uint64_t g, uint64_t gaddr, int is_call)
{
	int lm = (c->efer & EFER_LMA) != 0, gdpl = (int)((g >> 45) & 3);
	int gsize = ((g >> 40) & 0x1f) == 0x04 ? 2 : lm ? 8 : 4;
	unsigned int params = (unsigned int)(g >> 32) & 0x1f;
	uint16_t csel = (uint16_t)(g >> 16);
	uint64_t off = (g & 0xffff) | ((g >> 32) & 0xffff0000ULL), d, daddr;
	uint64_t old_ss = c->seg[SEG_SS].selector, old_sp = c->r[4];
	struct x86_segment new_ss = c->seg[SEG_SS];
	struct kstack k;
	int dpl, conforming, new_cpl;

	if (gdpl < c->cpl || gdpl < (gsel & 3))
		emu_raise(c, EXC_GP, 1, gsel & 0xfffc);
	if (!((g >> 47) & 1))
		emu_raise(c, EXC_NP, 1, gsel & 0xfffc);
	if (lm) {
		uint64_t limit = (gsel & 4) ? c->seg[SEG_LDT].limit : c->gdt.limit, hi;

		if ((uint64_t)(gsel & ~7) + 15 > limit)
			emu_raise(c, EXC_GP, 1, gsel & 0xfffc);
		hi = sys_read(c, gaddr + 8, 8);
		if ((hi >> 40) & 0x1f) /* the upper half's type must be 0 */
			emu_raise(c, EXC_GP, 1, gsel & 0xfffc);
		off |= (hi & 0xffffffffULL) << 32;
	}
	d = check_code(c, csel, &daddr, EXC_NP);
	dpl = (int)((d >> 45) & 3);
	conforming = (int)((d >> 42) & 1);
	if (dpl > c->cpl || (!is_call && !conforming && dpl != c->cpl))
		emu_raise(c, EXC_GP, 1, csel & 0xfffc);
	if (lm && (!((d >> 53) & 1) || ((d >> 54) & 1)))
		emu_raise(c, EXC_GP, 1, csel & 0xfffc); /* 64-bit code only */
	if (lm && !canonical(off))
		emu_raise(c, EXC_GP, 1, 0);
	new_cpl = is_call && !conforming ? dpl : c->cpl;
	if (!is_call) {
		load_cs(c, csel, d, daddr, c->cpl);
		c->next_rip = lm ? off : gsize == 2 ? off & 0xffff : off;
		return;
	}
	k.c = c;
	k.user = new_cpl == 3;
	if (new_cpl < c->cpl) {
		uint64_t tss = c->seg[SEG_TR].base, nsp;

		if (lm) {
			if (4 + 8 * (uint64_t)new_cpl + 7 > c->seg[SEG_TR].limit)
				emu_raise(c, EXC_TS, 1, c->seg[SEG_TR].selector & 0xfffc);
			nsp = sys_read(c, tss + 4 + 8 * (uint64_t)new_cpl, 8);
			if (!canonical(nsp))
				emu_raise(c, EXC_SS, 1, 0);
			memset(&new_ss, 0, sizeof(new_ss));
			new_ss.selector = (uint16_t)new_cpl;
			new_ss.unusable = 1;
			new_ss.dpl = (uint8_t)new_cpl;
			k.base = 0;
			k.mask = ~0ULL;
			k.sp = nsp;
		} else {
			int tss32 = (c->seg[SEG_TR].type & 8) != 0;
			uint64_t o = tss32 ? 4 + 8 * (uint64_t)new_cpl : 2 + 4 * (uint64_t)new_cpl;
			uint64_t dd, da;
			uint16_t nss;

			if (o + (tss32 ? 5 : 3) > c->seg[SEG_TR].limit)
				emu_raise(c, EXC_TS, 1, c->seg[SEG_TR].selector & 0xfffc);
			nsp = sys_read(c, tss + o, tss32 ? 4 : 2);
			nss = (uint16_t)sys_read(c, tss + o + (tss32 ? 4 : 2), 2);
			if ((nss & ~3) == 0 || (nss & 3) != new_cpl)
				emu_raise(c, EXC_TS, 1, nss & 0xfffc);
			dd = read_desc(c, nss, EXC_TS, &da);
			if (((dd >> 45) & 3) != (uint64_t)new_cpl || !((dd >> 44) & 1) ||
			    ((dd >> 43) & 1) || !((dd >> 41) & 1))
				emu_raise(c, EXC_TS, 1, nss & 0xfffc);
			if (!((dd >> 47) & 1))
				emu_raise(c, EXC_SS, 1, nss & 0xfffc);
			desc_to_seg(&new_ss, dd | (1ULL << 40), nss);
			k.mask = new_ss.db ? 0xffffffffULL : 0xffffULL;
			k.sp = nsp & k.mask;
			k.base = new_ss.base;
		}
		kpush(&k, gsize, old_ss);
		kpush(&k, gsize, old_sp);
		if (!lm) {
			/* the parameters, read from the outer stack at the old privilege */
			uint64_t m = sp_mask(c);

			for (unsigned int i = params; i-- > 0;)
				kpush(&k, gsize,
				      lin_read(c,
					       seg_lin(c, SEG_SS,
						       (old_sp + (uint64_t)i * (uint64_t)gsize) & m,
						       gsize, ACC_READ),
					       gsize));
		}
	} else {
		k.mask = lm ? ~0ULL : sp_mask(c);
		k.sp = c->r[4] & k.mask;
		k.base = lm ? 0 : c->seg[SEG_SS].base;
	}
	kpush(&k, gsize, c->seg[SEG_CS].selector);
	kpush(&k, gsize, c->next_rip);
	/* commit */
	if (new_cpl < c->cpl)
		c->seg[SEG_SS] = new_ss;
	c->r[4] = lm ? k.sp : (c->r[4] & ~k.mask) | k.sp;
	load_cs(c, csel, d, daddr, new_cpl);
	c->next_rip = lm ? off : gsize == 2 ? off & 0xffff : off;
}

void emu_far_jump(struct emu_cpu *c, uint16_t sel, uint64_t off, int is_call, int osz)
{
	uint64_t d, addr;
	int dpl, rpl = sel & 3;

	if (!(c->cr0 & CR0_PE) || (c->flags & FL_VM)) {
		if (is_call) {
			uint64_t m = sp_mask(c), sp = c->r[4] & m;

			sp = (sp - (uint64_t)osz) & m;
			lin_write(c, seg_lin(c, SEG_SS, sp, osz, ACC_WRITE), osz,
				  c->seg[SEG_CS].selector);
			sp = (sp - (uint64_t)osz) & m;
			lin_write(c, seg_lin(c, SEG_SS, sp, osz, ACC_WRITE), osz, c->next_rip);
			c->r[4] = (c->r[4] & ~m) | sp;
		}
		emu_seg_real(c, SEG_CS, sel);
		c->next_rip = off & mask_of(osz);
		emu_update_mode(c);
		return;
	}
	if ((sel & ~3) != 0) {
		d = read_desc(c, sel, EXC_GP, &addr);
		if (!((d >> 44) & 1)) {
			/* a system descriptor: call gates, and outside IA-32e mode tasks */
			int type = (int)((d >> 40) & 0x1f);

			if (type == 0x0c || (type == 0x04 && !(c->efer & EFER_LMA))) {
				call_gate(c, sel, d, addr, is_call);
				return;
			}
			if (!(c->efer & EFER_LMA) &&
			    (type == 0x05 || type == 0x01 || type == 0x09 || type == 0x03 ||
			     type == 0x0b)) {
				emu_task_far(c, sel, d, is_call);
				return;
			}
			emu_raise(c, EXC_GP, 1, sel & 0xfffc);
		}
	}
	d = check_code(c, sel, &addr, EXC_NP);
	dpl = (int)((d >> 45) & 3);
	if ((d >> 42) & 1) {
		if (dpl > c->cpl)
			emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	} else if (rpl > c->cpl || dpl != c->cpl) {
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	}
	if (is_call) {
		int sz = c->mode == 2 && osz == 4 ? 4 : osz;
		uint64_t m = sp_mask(c), sp = c->r[4] & m;

		sp = (sp - (uint64_t)sz) & m;
		lin_write(c, seg_lin(c, SEG_SS, sp, sz, ACC_WRITE), sz, c->seg[SEG_CS].selector);
		sp = (sp - (uint64_t)sz) & m;
		lin_write(c, seg_lin(c, SEG_SS, sp, sz, ACC_WRITE), sz, c->next_rip);
		c->r[4] = (c->r[4] & ~m) | sp;
	}
	load_cs(c, sel, d, addr, c->cpl);
	c->next_rip = c->mode == 2 ? off : off & mask_of(osz);
}

void emu_far_ret(struct emu_cpu *c, int osz, uint16_t popn)
{
	uint64_t m = sp_mask(c), sp = c->r[4] & m, off, d, addr;
	uint16_t sel;
	int rpl, dpl;

	off = lin_read(c, seg_lin(c, SEG_SS, sp, osz, ACC_READ), osz);
	sel = (uint16_t)lin_read(c, seg_lin(c, SEG_SS, (sp + (uint64_t)osz) & m, 2, ACC_READ), 2);
	sp = (sp + 2 * (uint64_t)osz) & m;
	if (!(c->cr0 & CR0_PE) || (c->flags & FL_VM)) {
		emu_seg_real(c, SEG_CS, sel);
		c->r[4] = (c->r[4] & ~m) | ((sp + popn) & m);
		c->next_rip = off & mask_of(osz);
		emu_update_mode(c);
		return;
	}
	rpl = sel & 3;
	if (rpl < c->cpl)
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	d = check_code(c, sel, &addr, EXC_NP);
	dpl = (int)((d >> 45) & 3);
	if (((d >> 42) & 1) ? dpl > rpl : dpl != rpl)
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	sp = (sp + popn) & m;
	if (rpl > c->cpl) {
		uint64_t nsp = lin_read(c, seg_lin(c, SEG_SS, sp, osz, ACC_READ), osz);
		uint16_t nss = (uint16_t)lin_read(
			c, seg_lin(c, SEG_SS, (sp + (uint64_t)osz) & m, 2, ACC_READ), 2);

		load_cs(c, sel, d, addr, rpl);
		emu_load_seg(c, SEG_SS, nss);
		c->r[4] = (nsp + popn) & (osz == 8 ? ~0ULL : mask_of(osz));
	} else {
		load_cs(c, sel, d, addr, c->cpl);
		c->r[4] = (c->r[4] & ~m) | sp;
	}
	c->next_rip = c->mode == 2 ? off : off & mask_of(osz);
}

static void iret_flags(struct emu_cpu *c, uint64_t nf, int osz, int old_cpl)
{
	uint64_t fl = emu_flags_get(c);
	uint64_t mask = FL_ARITH | FL_TF | FL_DF | FL_NT | FL_RF | FL_AC | FL_ID | FL_VIF | FL_VIP;
	int iopl = (int)((fl >> 12) & 3);

	if (old_cpl == 0)
		mask |= FL_IOPL;
	if (old_cpl <= iopl)
		mask |= FL_IF;
	if (osz == 2)
		mask &= 0xffff;
	if (old_cpl != 0)
		mask &= ~(uint64_t)(FL_VIF | FL_VIP);
	emu_flags_set(c, (fl & ~mask) | (nf & mask));
}

void emu_iret(struct emu_cpu *c, int osz)
{
	c->nmi_blocked = 0; /* IRET ends NMI blocking (even if it faults later, as on hardware) */
	if (c->nmi_pending)
		c->intr_hint = 1; /* an NMI latched while blocked is taken after this IRET */
	uint64_t m = sp_mask(c), sp = c->r[4] & m, nip, nf, d, addr;
	uint16_t ncs;
	int old_cpl = c->cpl, rpl;

	if ((c->cr0 & CR0_PE) && !(c->flags & FL_VM) && (c->flags & FL_NT) &&
	    !(c->efer & EFER_LMA)) {
		emu_task_iret(c); /* return to the previous task: nothing is popped */
		emu_update_mode(c);
		return;
	}
	nip = lin_read(c, seg_lin(c, SEG_SS, sp, osz, ACC_READ), osz);
	ncs = (uint16_t)lin_read(c, seg_lin(c, SEG_SS, (sp + (uint64_t)osz) & m, 2, ACC_READ), 2);
	nf = lin_read(c, seg_lin(c, SEG_SS, (sp + 2 * (uint64_t)osz) & m, osz, ACC_READ), osz);
	if (!(c->cr0 & CR0_PE)) {
		c->r[4] = (c->r[4] & ~m) | ((sp + 3 * (uint64_t)osz) & m);
		emu_seg_real(c, SEG_CS, ncs);
		if (osz == 2)
			nf = (emu_flags_get(c) & ~0xffffULL) | (nf & 0xffff);
		emu_flags_set(c, (nf & 0x257fd5) | 2);
		c->next_rip = nip & mask_of(osz);
		emu_update_mode(c);
		return;
	}
	if (c->flags & FL_VM) {
		if (((c->flags >> 12) & 3) != 3)
			emu_raise(c, EXC_GP, 1, 0);
		c->r[4] = (c->r[4] & ~m) | ((sp + 3 * (uint64_t)osz) & m);
		emu_seg_real(c, SEG_CS, ncs);
		{
			uint64_t fl = emu_flags_get(c);
			uint64_t mask = (FL_ARITH | FL_TF | FL_DF | FL_IF | FL_NT | FL_AC | FL_ID) &
					(osz == 2 ? 0xffff : ~0ULL);

			emu_flags_set(c, (fl & ~mask) | (nf & mask));
		}
		c->next_rip = nip & mask_of(osz);
		return;
	}
	if ((nf & FL_VM) && old_cpl == 0 && osz == 4 && c->mode != 2) {
		/* return to virtual-8086 mode */
		uint64_t v[6];

		for (int i = 0; i < 6; i++)
			v[i] = lin_read(
				c,
				seg_lin(c, SEG_SS, (sp + (3 + (uint64_t)i) * 4) & m, 4, ACC_READ),
				4);
		emu_flags_set(c, (nf & 0x3f7fd5) | 2);
		c->cpl = 3;
		emu_seg_real(c, SEG_CS, ncs);
		emu_seg_real(c, SEG_SS, (uint16_t)v[1]);
		emu_seg_real(c, SEG_ES, (uint16_t)v[2]);
		emu_seg_real(c, SEG_DS, (uint16_t)v[3]);
		emu_seg_real(c, SEG_FS, (uint16_t)v[4]);
		emu_seg_real(c, SEG_GS, (uint16_t)v[5]);
		c->r[4] = v[0] & 0xffff;
		c->next_rip = nip & 0xffff;
		emu_update_mode(c);
		return;
	}
	rpl = ncs & 3;
	if (rpl < c->cpl)
		emu_raise(c, EXC_GP, 1, ncs & 0xfffc);
	d = check_code(c, ncs, &addr, EXC_NP);
	{
		int dpl = (int)((d >> 45) & 3);

		if (((d >> 42) & 1) ? dpl > rpl : dpl != rpl)
			emu_raise(c, EXC_GP, 1, ncs & 0xfffc);
	}
	if (c->mode == 2 || rpl > c->cpl) {
		uint64_t nsp = lin_read(
			c, seg_lin(c, SEG_SS, (sp + 3 * (uint64_t)osz) & m, osz, ACC_READ), osz);
		uint16_t nss = (uint16_t)lin_read(
			c, seg_lin(c, SEG_SS, (sp + 4 * (uint64_t)osz) & m, 2, ACC_READ), 2);
		struct x86_segment save_cs = c->seg[SEG_CS];
		int save_cpl = c->cpl, save_mode = c->mode;

		load_cs(c, ncs, d, addr, rpl);
		/* the SS load is checked at the new CPL; undo CS if it faults */
		{
			struct x86_segment ss_before = c->seg[SEG_SS];

			(void)ss_before;
			if ((nss & ~3) == 0 && (c->efer & EFER_LMA) && rpl != 3) {
				c->seg[SEG_SS].selector = nss;
				c->seg[SEG_SS].unusable = 1;
				c->seg[SEG_SS].dpl = (uint8_t)rpl;
			} else {
				int ok = (nss & ~3) != 0;

				if (!ok) {
					c->seg[SEG_CS] = save_cs;
					c->cpl = save_cpl;
					c->mode = save_mode;
					emu_raise(c, EXC_GP, 1, 0);
				}
				emu_load_seg(c, SEG_SS, nss);
			}
		}
		if (osz == 2)
			c->r[4] = (c->r[4] & ~0xffffULL) | (nsp & 0xffff);
		else if (osz == 4 && !c->seg[SEG_SS].db && c->mode != 2)
			c->r[4] = (c->r[4] & ~0xffffULL) | (nsp & 0xffff);
		else
			c->r[4] = osz == 4 ? nsp & 0xffffffffULL : nsp;
		iret_flags(c, nf, osz, old_cpl);
		if (rpl > old_cpl) {
			/* data segments the outer level may not use become null */
			for (int s = SEG_ES; s <= SEG_GS; s++) {
				struct x86_segment *sg = &c->seg[s];

				if (s == SEG_CS || s == SEG_SS)
					continue;
				if (sg->s && (!(sg->type & 8) || !(sg->type & 4)) &&
				    sg->dpl < rpl) {
					sg->selector = 0;
					sg->unusable = 1;
					sg->present = 0;
				}
			}
		}
	} else {
		load_cs(c, ncs, d, addr, c->cpl);
		c->r[4] = (c->r[4] & ~m) | ((sp + 3 * (uint64_t)osz) & m);
		iret_flags(c, nf, osz, old_cpl);
	}
	c->next_rip = c->mode == 2 ? nip : nip & mask_of(osz);
	emu_update_mode(c);
}

/* ---- fast system calls ---- */

static void flat_seg(struct x86_segment *s, uint16_t sel, int code, int dpl, int l)
{
	seg_set(s, 0, 0xffffffff, sel, code ? 0xb : 0x3, 1, (uint8_t)dpl, (uint8_t)(!l), (uint8_t)l,
		1);
}

void emu_syscall(struct emu_cpu *c)
{
	uint64_t fl;
	uint16_t sel = (uint16_t)(c->star >> 32);

	if (!(c->efer & EFER_SCE) || !(c->cr0 & CR0_PE))
		emu_raise(c, EXC_UD, 0, 0);
	fl = emu_flags_get(c);
	if (c->efer & EFER_LMA) {
		c->r[1] = c->next_rip;
		c->r[11] = fl & ~(uint64_t)FL_RF;
		flat_seg(&c->seg[SEG_CS], sel & 0xfffc, 1, 0, 1);
		flat_seg(&c->seg[SEG_SS], (uint16_t)((sel + 8) & 0xfffc), 0, 0, 0);
		c->seg[SEG_SS].db = 1;
		emu_flags_set(c, fl & ~(c->fmask | FL_RF));
		/* as KVM and QEMU: TF masked off by SYSCALL does not trap after it */
		c->tf_no_trap = (fl & FL_TF) && (c->fmask & FL_TF);
		c->next_rip = c->mode == 2 ? c->lstar : c->cstar;
	} else {
		c->r[1] = c->next_rip & 0xffffffffULL;
		flat_seg(&c->seg[SEG_CS], sel & 0xfffc, 1, 0, 0);
		flat_seg(&c->seg[SEG_SS], (uint16_t)((sel + 8) & 0xfffc), 0, 0, 0);
		emu_flags_set(c, fl & ~(uint64_t)(FL_VM | FL_IF | FL_RF));
		c->next_rip = c->star & 0xffffffffULL;
	}
	c->cpl = 0;
	emu_update_mode(c);
}

void emu_sysret(struct emu_cpu *c)
{
	uint16_t sel = (uint16_t)(c->star >> 48);
	int wide = c->cur && (c->cur->rex & 8);

	if (!(c->efer & EFER_SCE) || !(c->cr0 & CR0_PE))
		emu_raise(c, EXC_UD, 0, 0);
	if (c->cpl != 0)
		emu_raise(c, EXC_GP, 1, 0);
	if (wide) {
		if ((uint64_t)((int64_t)(c->r[1] << 16) >> 16) != c->r[1])
			emu_raise(c, EXC_GP, 1, 0);
		flat_seg(&c->seg[SEG_CS], (uint16_t)((sel + 16) | 3), 1, 3, 1);
		c->next_rip = c->r[1];
	} else {
		flat_seg(&c->seg[SEG_CS], (uint16_t)(sel | 3), 1, 3, 0);
		c->next_rip = c->r[1] & 0xffffffffULL;
	}
	c->seg[SEG_SS].selector = (uint16_t)((sel + 8) | 3);
	c->seg[SEG_SS].dpl = 3;
	c->seg[SEG_SS].unusable = 0;
	c->seg[SEG_SS].present = 1;
	if (c->efer & EFER_LMA) {
		/* as KVM and QEMU: TF set by SYSRET traps right after it, in user mode */
		c->tf_trap_now = !(emu_flags_get(c) & FL_TF) && (c->r[11] & FL_TF);
		emu_flags_set(c, (c->r[11] & 0x3c7fd7ULL) | 2);
	} else {
		emu_flags_set(c, emu_flags_get(c) | FL_IF);
	}
	c->cpl = 3;
	emu_update_mode(c);
}

void emu_sysenter(struct emu_cpu *c)
{
	uint16_t sel = (uint16_t)c->sysenter_cs;
	int lm = (c->efer & EFER_LMA) != 0;

	if (!(c->cr0 & CR0_PE) || (sel & 0xfffc) == 0)
		emu_raise(c, EXC_GP, 1, 0);
	flat_seg(&c->seg[SEG_CS], sel & 0xfffc, 1, 0, lm);
	flat_seg(&c->seg[SEG_SS], (uint16_t)((sel + 8) & 0xfffc), 0, 0, 0);
	c->seg[SEG_SS].db = 1;
	emu_flags_set(c, emu_flags_get(c) & ~(uint64_t)(FL_VM | FL_IF | FL_RF));
	c->r[4] = lm ? c->sysenter_esp : c->sysenter_esp & 0xffffffffULL;
	c->next_rip = lm ? c->sysenter_eip : c->sysenter_eip & 0xffffffffULL;
	c->cpl = 0;
	emu_update_mode(c);
}

void emu_sysexit(struct emu_cpu *c)
{
	uint16_t sel = (uint16_t)c->sysenter_cs;
	int wide = c->cur && (c->cur->rex & 8);

	if (!(c->cr0 & CR0_PE) || c->cpl != 0 || (sel & 0xfffc) == 0)
		emu_raise(c, EXC_GP, 1, 0);
	if (wide) {
		flat_seg(&c->seg[SEG_CS], (uint16_t)((sel + 32) | 3), 1, 3, 1);
		flat_seg(&c->seg[SEG_SS], (uint16_t)((sel + 40) | 3), 0, 3, 0);
		c->r[4] = c->r[1];
		c->next_rip = c->r[2];
	} else {
		flat_seg(&c->seg[SEG_CS], (uint16_t)((sel + 16) | 3), 1, 3, 0);
		flat_seg(&c->seg[SEG_SS], (uint16_t)((sel + 24) | 3), 0, 3, 0);
		c->r[4] = c->r[1] & 0xffffffffULL;
		c->next_rip = c->r[2] & 0xffffffffULL;
	}
	c->seg[SEG_SS].db = 1;
	c->cpl = 3;
	emu_update_mode(c);
}

/* ---- control registers, MSRs, CPUID, TSC ---- */

void emu_write_cr(struct emu_cpu *c, int cr, uint64_t val)
{
	uint64_t old;

	switch (cr) {
	case 0:
		old = c->cr0;
		val |= CR0_ET;
		if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) ||
		    ((val & CR0_NW) && !(val & CR0_CD)))
			emu_raise(c, EXC_GP, 1, 0);
		if ((val & CR0_PG) && !(old & CR0_PG) && (c->efer & EFER_LME)) {
			if (!(c->cr4 & CR4_PAE))
				emu_raise(c, EXC_GP, 1, 0);
			c->efer |= EFER_LMA;
		}
		if (!(val & CR0_PG) && (old & CR0_PG) && (c->efer & EFER_LMA)) {
			if (c->mode == 2)
				emu_raise(c, EXC_GP, 1, 0);
			c->efer &= ~(uint64_t)EFER_LMA;
		}
		c->cr0 = val;
		if ((old ^ val) & (CR0_PG | CR0_WP | CR0_PE))
			emu_tlb_flush(c, 0);
		if (!(val & CR0_PE))
			c->cpl = 0;
		emu_update_mode(c);
		break;
	case 2:
		c->cr2 = val;
		break;
	case 3:
		if ((c->efer & EFER_LMA) && (val >> 52))
			emu_raise(c, EXC_GP, 1, 0);
		c->cr3 = val;
		emu_tlb_flush(c, 1);
		break;
	case 4:
		old = c->cr4;
		/*
		 * VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT FSGSBASE(16) OSXSAVE
		 * SMEP SMAP PKE PKS
		 */
		if (val & ~0x107ffULL & ~(1ULL << 16) &
		    ~(uint64_t)(CR4_OSXSAVE | CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_PKS))
			emu_raise(c, EXC_GP, 1, 0);
		if ((c->efer & EFER_LMA) && !(val & CR4_PAE))
			emu_raise(c, EXC_GP, 1, 0);
		c->cr4 = val;
		/* the TLB holds rights computed under SMEP, SMAP and the key registers */
		if ((old ^ val) &
		    (CR4_PGE | CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_PKE | CR4_PKS))
			emu_tlb_flush(c, 0);
		break;
	case 8:
		if (val & ~0xfULL)
			emu_raise(c, EXC_GP, 1, 0);
		/*
		 * Only a lower priority class can let a pending interrupt in; an
		 * unchanged or higher one needs no poll (vmexit.c's mov_to_cr8 loop
		 * writes the same value again and again).
		 */
		if (val < (c->lapic.tpr >> 4))
			c->intr_hint = 1;
		c->cr8 = val;
		c->lapic.tpr = (uint32_t)(val << 4);
		break;
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

uint64_t emu_now(struct emu_vm *vm)
{
	return __atomic_load_n(&vm->vclock_ns, __ATOMIC_RELAXED);
}

uint64_t emu_rdtsc(struct emu_cpu *c)
{
	/* the TSC runs at EMU_TSC_KHZ on the virtual clock */
	return emu_cpu_now(c) * (EMU_TSC_KHZ / 1000000ULL) + c->tsc_offset;
}

int emu_read_msr(struct emu_cpu *c, uint32_t idx, uint64_t *val)
{
	switch (idx) {
	case 0x10:
		*val = emu_rdtsc(c);
		return 0;
	case 0x17:
		*val = 0;
		return 0; /* platform id */
	case 0x1b:
		*val = c->apic_base;
		return 0;
	case 0x800 ... 0x8ff:
		return emu_lapic_msr_read(c, idx, val);
	case 0x6e0:
		*val = emu_lapic_tscdl_read(c);
		return 0;
	case 0x3a:
		*val = 1;
		return 0; /* feature control: locked */
	case 0x3b:
		*val = c->tsc_offset;
		return 0; /* TSC_ADJUST */
	case 0x8b:
		*val = 0x100000000ULL;
		return 0; /* microcode revision */
	case 0xfe:
		*val = 0x508;
		return 0; /* MTRRcap: 8 variable, fixed, WC */
	case 0x174:
		*val = c->sysenter_cs;
		return 0;
	case 0x175:
		*val = c->sysenter_esp;
		return 0;
	case 0x176:
		*val = c->sysenter_eip;
		return 0;
	case 0x179:
		*val = 0;
		return 0; /* MCG_CAP */
	case 0x17a:
		*val = 0;
		return 0; /* MCG_STATUS */
	case 0x1a0:
		*val = c->misc_enable | 1;
		return 0; /* fast strings */
	case 0x200 ... 0x20f:
		*val = c->mtrr_var[idx - 0x200];
		return 0;
	case 0x250:
		*val = c->mtrr_fixed[0];
		return 0;
	case 0x258:
		*val = c->mtrr_fixed[1];
		return 0;
	case 0x259:
		*val = c->mtrr_fixed[2];
		return 0;
	case 0x268 ... 0x26f:
		*val = c->mtrr_fixed[3 + idx - 0x268];
		return 0;
	case 0x277:
		*val = c->pat;
		return 0;
	case 0x6e1: /* IA32_PKRS */
		*val = c->pkrs;
		return 0;
	case 0x2ff:
		*val = c->mtrr_def_type;
		return 0;
	case 0xc0000080:
		*val = c->efer;
		return 0;
	case 0xc0000081:
		*val = c->star;
		return 0;
	case 0xc0000082:
		*val = c->lstar;
		return 0;
	case 0xc0000083:
		*val = c->cstar;
		return 0;
	case 0xc0000084:
		*val = c->fmask;
		return 0;
	case 0xc0000100:
		*val = c->seg[SEG_FS].base;
		return 0;
	case 0xc0000101:
		*val = c->seg[SEG_GS].base;
		return 0;
	case 0xc0000102:
		*val = c->kernel_gs_base;
		return 0;
	case 0xc0000103:
		*val = c->tsc_aux;
		return 0;
	default:
		return -1;
	}
}

static int canonical(uint64_t v)
{
	return (uint64_t)((int64_t)(v << 16) >> 16) == v;
}

int emu_write_msr(struct emu_cpu *c, uint32_t idx, uint64_t val)
{
	switch (idx) {
	case 0x10:
		c->tsc_offset = val - emu_rdtsc(c) + c->tsc_offset;
		emu_lapic_tsc_changed(c);
		return 0;
	case 0x6e0:
		emu_lapic_tscdl_write(c, val);
		return 0;
	case 0x1b:
		return emu_lapic_set_base(c, val);
	case 0x800 ... 0x8ff:
		return emu_lapic_msr_write(c, idx, val);
	case 0x3b:
		c->tsc_offset = val;
		emu_lapic_tsc_changed(c);
		return 0;
	case 0x8b:
		return 0;
	case 0x174:
		c->sysenter_cs = val & 0xffff;
		return 0;
	case 0x175:
		if (!canonical(val))
			return -1;
		c->sysenter_esp = val;
		return 0;
	case 0x176:
		if (!canonical(val))
			return -1;
		c->sysenter_eip = val;
		return 0;
	case 0x179:
	case 0x17a:
		return val ? -1 : 0;
	case 0x1a0:
		c->misc_enable = val;
		return 0;
	case 0x200 ... 0x20f:
		c->mtrr_var[idx - 0x200] = val;
		return 0;
	case 0x250:
		c->mtrr_fixed[0] = val;
		return 0;
	case 0x258:
		c->mtrr_fixed[1] = val;
		return 0;
	case 0x259:
		c->mtrr_fixed[2] = val;
		return 0;
	case 0x268 ... 0x26f:
		c->mtrr_fixed[3 + idx - 0x268] = val;
		return 0;
	case 0x277:
		for (int i = 0; i < 8; i++) {
			unsigned int t = (val >> (i * 8)) & 0xff;

			if (t == 2 || t == 3 || t > 7)
				return -1;
		}
		c->pat = val;
		return 0;
	case 0x6e1: /* IA32_PKRS: the keys' rights are part of cached translations */
		if (val >> 32)
			return -1;
		c->pkrs = val;
		emu_tlb_flush(c, 0);
		return 0;
	case 0x2ff:
		if (val & ~0xcffULL)
			return -1;
		c->mtrr_def_type = val;
		return 0;
	case 0xc0000080: {
		uint64_t nv = (val & (EFER_SCE | EFER_LME | EFER_NXE)) | (c->efer & EFER_LMA);

		if (val & ~(uint64_t)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			return -1;
		if ((c->cr0 & CR0_PG) && ((nv ^ c->efer) & EFER_LME))
			return -1;
		if ((nv ^ c->efer) & EFER_NXE)
			emu_tlb_flush(c, 0);
		c->efer = nv;
		return 0;
	}
	case 0xc0000081:
		c->star = val;
		return 0;
	case 0xc0000082:
		if (!canonical(val))
			return -1;
		c->lstar = val;
		return 0;
	case 0xc0000083:
		if (!canonical(val))
			return -1;
		c->cstar = val;
		return 0;
	case 0xc0000084:
		c->fmask = val & 0xffffffffULL;
		return 0;
	case 0xc0000100:
		if (!canonical(val))
			return -1;
		c->seg[SEG_FS].base = val;
		return 0;
	case 0xc0000101:
		if (!canonical(val))
			return -1;
		c->seg[SEG_GS].base = val;
		return 0;
	case 0xc0000102:
		if (!canonical(val))
			return -1;
		c->kernel_gs_base = val;
		return 0;
	case 0xc0000103:
		c->tsc_aux = val & 0xffffffffULL;
		return 0;
	default:
		return -1;
	}
}

static uint32_t str4(const char *s)
{
	return (uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16 | (uint32_t)s[3] << 24;
}

void emu_cpuid(struct emu_cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	memset(out, 0, 4 * sizeof(uint32_t));
	switch (leaf) {
	case 0:
		out[0] = 0xd;
		out[1] = str4("Genu");
		out[3] = str4("ineI");
		out[2] = str4("ntel");
		break;
	case 1:
		out[0] = 0x000306a9; /* family 6 model 58 */
		out[1] = (c->index << 24) | (c->vm->m->nr_vcpus << 16) | (8 << 8);
		/*
		 * ECX: hypervisor, TSC-deadline timer (apic.c). EDX: PSE PAE APIC MTRR PGE PAT.
		 * Bits that stand for instructions come from the opcode table's groups
		 * (emu_optab_cpuid).
		 */
		out[2] = (1u << 31) | (1u << 24) | (1u << 21); /* x2APIC: apic.c */
		out[3] = (1u << 3) | (1u << 6) | (1u << 12) | (1u << 13) | (1u << 16);
		if (c->apic_base & 0x800)
			out[3] |= 1u << 9; /* APIC, while IA32_APIC_BASE enables it */
		if (c->m->nr_vcpus > 1)
			out[3] |= 1u << 28;
		break;
	case 0xb: { /* topology: one thread per core, every vCPU a core of one package */
		unsigned int n = c->m->nr_vcpus, shift = 0;

		while (shift < 8 && (1u << shift) < n)
			shift++;
		out[2] = sub & 0xff;
		out[3] = c->index; /* x2APIC ID */
		if (sub == 0) {
			out[0] = 0;
			out[1] = 1;
			out[2] |= 1u << 8; /* SMT */
		} else if (sub == 1) {
			out[0] = shift;
			out[1] = n;
			out[2] |= 2u << 8; /* core */
		}
		break;
	}
	case 0xd: /* XSAVE: x87, SSE and PKRU state, the standard format only */
		if (sub == 0) {
			out[0] = (uint32_t)EMU_XCR0_SUPPORTED;
			out[1] = emu_xsave_size(c);
			out[2] = EMU_XSAVE_PKRU_OFF + 8;
		} else if (sub == 9) {
			out[0] = 8;
			out[1] = EMU_XSAVE_PKRU_OFF;
		}
		break;
	case 0x40000000:
		out[0] = 0x40000001;
		out[1] = str4("Cabi");
		out[2] = str4("nEmu");
		out[3] = str4("CPU ");
		break;
	case 0x80000000:
		out[0] = 0x80000008;
		break;
	case 0x80000001:
		/* NX 1G pages LM; the instruction bits come from the opcode table */
		out[3] = (1u << 20) | (1u << 26) | (1u << 29);
		break;
	case 0x80000002:
		out[0] = str4("Cabi");
		out[1] = str4("n em");
		out[2] = str4("ulat");
		out[3] = str4("ed x");
		break;
	case 0x80000003:
		out[0] = str4("86-6");
		out[1] = str4("4 CP");
		out[2] = str4("U\0\0\0");
		break;
	case 0x80000008:
		out[0] = 0x3028; /* 40 physical, 48 linear address bits */
		break;
	default:
		break;
	}
	if (leaf != 7 || sub == 0)
		emu_optab_cpuid(leaf, out);
	if (leaf == 1 && (c->cr4 & CR4_OSXSAVE))
		out[2] |= 1u << 27; /* OSXSAVE */
	if (leaf == 7 && sub == 0) {
		/* SMEP SMAP (EBX), PKU PKS (ECX): the page walk in mmu.c */
		out[1] |= (1u << 7) | (1u << 20);
		out[2] |= (1u << 3) | (1u << 31);
		if (c->cr4 & CR4_PKE)
			out[2] |= 1u << 4; /* OSPKE */
	}
}
