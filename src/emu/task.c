/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hardware task switching (SDM vol. 3 ch. 8): far JMP/CALL to a TSS descriptor
 * or a task gate, interrupts and exceptions through a task gate in the IDT, and
 * IRET with EFLAGS.NT back to the previous task. 32-bit and 16-bit TSSes,
 * outside IA-32e mode only (there, all of these are #GP as on hardware).
 *
 * The order follows the SDM's steps (8.3): checks that fault in the context of
 * the old task come first, and the new TSS is read whole before anything is
 * written, so a page fault on it leaves the old task intact. Then the old state
 * is saved, the busy bits and the back link are updated and TR, CR3, EFLAGS and
 * the general registers are committed; the LDT and segment registers are
 * checked last, and their faults (#TS with the selector, #NP, #SS) are taken in
 * the context of the new task, with the new task's EIP.
 */
#include "emu/exec-inl.h"

/* the TSS fields (32-bit layout; the 16-bit one in brackets) */
#define TSS32_LINK 0x00
#define TSS32_CR3 0x1c
#define TSS32_EIP 0x20
#define TSS32_EFLAGS 0x24
#define TSS32_REGS 0x28 /* EAX ECX EDX EBX ESP EBP ESI EDI, 4 bytes each */
#define TSS32_SEGS 0x48 /* ES CS SS DS FS GS, in 4-byte slots */
#define TSS32_LDT 0x60
#define TSS32_TRAP 0x64 /* bit 0: the T flag */
#define TSS16_IP 0x0e
#define TSS16_FLAGS 0x10
#define TSS16_REGS 0x12 /* AX CX DX BX SP BP SI DI */
#define TSS16_SEGS 0x22 /* ES CS SS DS */
#define TSS16_LDT 0x2a

#define DESC_BUSY (2ULL << 40)

struct tss_image {
	uint32_t cr3, eip, eflags, regs[8];
	uint16_t segs[6], ldt;
	int trap;
};

static uint32_t desc_limit(uint64_t d)
{
	uint32_t limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));

	return (d >> 55) & 1 ? (limit << 12) | 0xfff : limit;
}

static uint64_t desc_base(uint64_t d)
{
	return ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
}

/* read the whole new TSS (faults are taken in the old task) */
static void tss_read(struct emu_cpu *c, uint64_t base, int is32, struct tss_image *t)
{
	memset(t, 0, sizeof(*t));
	if (is32) {
		t->cr3 = (uint32_t)sys_read(c, base + TSS32_CR3, 4);
		t->eip = (uint32_t)sys_read(c, base + TSS32_EIP, 4);
		t->eflags = (uint32_t)sys_read(c, base + TSS32_EFLAGS, 4);
		for (int i = 0; i < 8; i++)
			t->regs[i] = (uint32_t)sys_read(c, base + TSS32_REGS + 4 * (uint64_t)i, 4);
		for (int i = 0; i < 6; i++)
			t->segs[i] = (uint16_t)sys_read(c, base + TSS32_SEGS + 4 * (uint64_t)i, 2);
		t->ldt = (uint16_t)sys_read(c, base + TSS32_LDT, 2);
		t->trap = (int)(sys_read(c, base + TSS32_TRAP, 2) & 1);
	} else {
		t->eip = (uint32_t)sys_read(c, base + TSS16_IP, 2);
		t->eflags = (uint32_t)sys_read(c, base + TSS16_FLAGS, 2);
		for (int i = 0; i < 8; i++)
			t->regs[i] = (uint32_t)sys_read(c, base + TSS16_REGS + 2 * (uint64_t)i, 2);
		for (int i = 0; i < 4; i++)
			t->segs[i] = (uint16_t)sys_read(c, base + TSS16_SEGS + 2 * (uint64_t)i, 2);
		t->ldt = (uint16_t)sys_read(c, base + TSS16_LDT, 2);
	}
}

/* save the current task's dynamic state into its TSS */
static void tss_save(struct emu_cpu *c, uint64_t base, int is32, uint32_t eip, uint32_t eflags)
{
	if (is32) {
		sys_write(c, base + TSS32_EIP, 4, eip);
		sys_write(c, base + TSS32_EFLAGS, 4, eflags);
		for (int i = 0; i < 8; i++)
			sys_write(c, base + TSS32_REGS + 4 * (uint64_t)i, 4, c->r[i]);
		for (int i = 0; i < 6; i++)
			sys_write(c, base + TSS32_SEGS + 4 * (uint64_t)i, 2, c->seg[i].selector);
	} else {
		sys_write(c, base + TSS16_IP, 2, eip);
		sys_write(c, base + TSS16_FLAGS, 2, eflags);
		for (int i = 0; i < 8; i++)
			sys_write(c, base + TSS16_REGS + 2 * (uint64_t)i, 2, c->r[i]);
		for (int i = 0; i < 4; i++)
			sys_write(c, base + TSS16_SEGS + 2 * (uint64_t)i, 2, c->seg[i].selector);
	}
}

/* set or clear the busy bit of the TSS descriptor of @sel (in the GDT) */
static void set_busy(struct emu_cpu *c, uint16_t sel, int busy)
{
	uint64_t addr = c->gdt.base + (sel & ~7);
	uint8_t type = (uint8_t)sys_read(c, addr + 5, 1);

	sys_write(c, addr + 5, 1, busy ? type | 2 : type & ~2);
}

/* the LDT of the new task: any problem is #TS(selector) */
static void task_load_ldt(struct emu_cpu *c, uint16_t sel)
{
	uint64_t d, addr;

	if ((sel & ~3) == 0) {
		c->seg[SEG_LDT].unusable = 1;
		c->seg[SEG_LDT].present = 0;
		return;
	}
	if (sel & 4)
		emu_raise(c, EXC_TS, 1, sel & 0xfffc);
	if ((uint64_t)(sel & ~7) + 7 > c->gdt.limit)
		emu_raise(c, EXC_TS, 1, sel & 0xfffc);
	addr = c->gdt.base + (sel & ~7);
	d = sys_read(c, addr, 8);
	if (((d >> 40) & 0x1f) != 0x02 || !((d >> 47) & 1))
		emu_raise(c, EXC_TS, 1, sel & 0xfffc);
	emu_desc_to_seg(&c->seg[SEG_LDT], d, sel);
}

/*
 * One segment register of the new task at privilege @cpl (SDM vol. 3 8.3 step 12 and
 * Table 8-?: the checks of a task switch): a descriptor outside its table or of the
 * wrong kind or privilege is #TS(selector), a not-present one #NP (#SS for SS).
 */
static void task_load_seg(struct emu_cpu *c, int sreg, uint16_t sel, int cpl)
{
	struct x86_segment *s = &c->seg[sreg];
	uint64_t d, addr;
	int rpl = sel & 3, dpl, code, conforming;

	if ((sel & ~3) == 0) {
		if (sreg == SEG_CS || sreg == SEG_SS)
			emu_raise(c, EXC_TS, 1, sel & 0xfffc);
		memset(s, 0, sizeof(*s));
		s->selector = sel;
		s->unusable = 1;
		return;
	}
	d = emu_read_desc(c, sel, EXC_TS, &addr);
	if (!((d >> 44) & 1))
		emu_raise(c, EXC_TS, 1, sel & 0xfffc);
	dpl = (int)((d >> 45) & 3);
	code = (int)((d >> 43) & 1);
	conforming = code && ((d >> 42) & 1);
	if (sreg == SEG_CS) {
		if (!code || (conforming ? dpl > rpl : dpl != rpl))
			emu_raise(c, EXC_TS, 1, sel & 0xfffc);
	} else if (sreg == SEG_SS) {
		if (code || !((d >> 41) & 1) || dpl != cpl || rpl != cpl)
			emu_raise(c, EXC_TS, 1, sel & 0xfffc);
	} else {
		if (code && !((d >> 41) & 1))
			emu_raise(c, EXC_TS, 1, sel & 0xfffc);
		if (!conforming && (dpl < cpl || dpl < rpl))
			emu_raise(c, EXC_TS, 1, sel & 0xfffc);
	}
	if (!((d >> 47) & 1))
		emu_raise(c, sreg == SEG_SS ? EXC_SS : EXC_NP, 1, sel & 0xfffc);
	if (!(d & (1ULL << 40)))
		sys_write(c, addr + 5, 1, ((d >> 40) & 0xff) | 1);
	emu_desc_to_seg(s, d | (1ULL << 40), sel);
}

/*
 * Switch to the task of TSS selector @tsel, whose (checked: present, in the GDT,
 * available or, for IRET, busy) descriptor is @td. @src says what started it;
 * @old_eip is what the old task resumes at. Return: the new TSS's T flag.
 */
static int task_switch(struct emu_cpu *c, uint16_t tsel, uint64_t td, int src, uint32_t old_eip)
{
	struct x86_segment *tr = &c->seg[SEG_TR];
	int n32 = ((td >> 40) & 8) != 0, o32 = (tr->type & 8) != 0;
	uint64_t nbase = desc_base(td), obase = tr->base;
	uint32_t eflags;
	struct tss_image t;
	int cpl;

	if (desc_limit(td) < (n32 ? 0x67u : 0x2bu))
		emu_raise(c, EXC_TS, 1, tsel & 0xfffc);
	if (tr->limit < (o32 ? 0x67u : 0x2bu))
		emu_raise(c, EXC_TS, 1, tr->selector & 0xfffc);
	tss_read(c, nbase, n32, &t);

	/* the old task: its state, and its busy bit unless it is to be returned to */
	eflags = (uint32_t)emu_flags_get(c);
	if (src == EMU_TASK_IRET)
		eflags &= ~FL_NT;
	if (src == EMU_TASK_JMP || src == EMU_TASK_IRET)
		set_busy(c, tr->selector, 0);
	tss_save(c, obase, o32, old_eip, eflags);

	/* the new task: a nested one links back to the old and runs with NT */
	if (src == EMU_TASK_CALL || src == EMU_TASK_INT) {
		sys_write(c, nbase + TSS32_LINK, 2, tr->selector);
		t.eflags |= FL_NT;
	}
	if (src != EMU_TASK_IRET)
		set_busy(c, tsel, 1);

	/* commit: from here on, faults belong to the new task */
	emu_desc_to_seg(tr, td | DESC_BUSY, tsel);
	if (c->dr[7] & 0x55) { /* L0-L3 are cleared by a task switch */
		c->dr[7] &= ~0x55ULL;
		emu_dbg_update(c);
	}
	c->cr0 |= CR0_TS;
	if (n32 && (c->cr0 & CR0_PG))
		emu_write_cr(c, 3, t.cr3);
	if (n32)
		emu_flags_set(c, (t.eflags & 0x3f7fd7) | 2);
	else
		emu_flags_set(c, (emu_flags_get(c) & ~0xffffULL) | (t.eflags & 0x7fd7) | 2);
	for (int i = 0; i < 8; i++)
		c->r[i] = n32 ? t.regs[i] : (c->r[i] & ~0xffffULL) | t.regs[i];
	c->rip = c->next_rip = t.eip;
	c->soft_int = 0;
	c->stop_block = 1;
	c->intr_hint = 1; /* the new EFLAGS.IF may let a pending interrupt in */
	/* the selectors first, so that a fault below shows the new task's */
	for (int i = 0; i < 6; i++)
		c->seg[i].selector = t.segs[i];
	c->seg[SEG_LDT].selector = t.ldt;
	if (c->flags & FL_VM) {
		c->cpl = 3;
		for (int i = 0; i < 6; i++)
			emu_seg_real(c, i, t.segs[i]);
		task_load_ldt(c, t.ldt);
	} else {
		cpl = t.segs[SEG_CS] & 3;
		c->cpl = cpl;
		task_load_ldt(c, t.ldt);
		task_load_seg(c, SEG_CS, t.segs[SEG_CS], cpl);
		task_load_seg(c, SEG_SS, t.segs[SEG_SS], cpl);
		task_load_seg(c, SEG_ES, t.segs[SEG_ES], cpl);
		task_load_seg(c, SEG_DS, t.segs[SEG_DS], cpl);
		task_load_seg(c, SEG_FS, t.segs[SEG_FS], cpl);
		task_load_seg(c, SEG_GS, t.segs[SEG_GS], cpl);
	}
	emu_update_mode(c);
	if (c->rip > c->seg[SEG_CS].limit)
		emu_raise(c, EXC_GP, 1, 0);
	return t.trap;
}

/*
 * The T flag of the new TSS: a debug exception (DR6.BT) once the switch is complete,
 * before the new task's first instruction, which is the EIP it reports.
 */
static void debug_trap(struct emu_cpu *c, int trap)
{
	if (trap) {
		c->dr[6] |= 0x8000;
		emu_raise(c, EXC_DB, 0, 0);
	}
}

/* the TSS descriptor a task gate or a far transfer names: in the GDT, available, present */
static uint64_t tss_target(struct emu_cpu *c, uint16_t tsel, int vec)
{
	uint64_t d, addr;
	int type;

	if ((tsel & 4) || (uint64_t)(tsel & ~7) + 7 > c->gdt.limit || (tsel & ~3) == 0)
		emu_raise(c, vec, 1, tsel & 0xfffc);
	d = emu_read_desc(c, tsel, vec, &addr);
	type = (int)((d >> 40) & 0x1f);
	if (type != 0x09 && type != 0x01)
		emu_raise(c, vec, 1, tsel & 0xfffc);
	if (!((d >> 47) & 1))
		emu_raise(c, EXC_NP, 1, tsel & 0xfffc);
	return d;
}

void emu_task_far(struct emu_cpu *c, uint16_t sel, uint64_t d, int is_call)
{
	int type = (int)((d >> 40) & 0x1f), dpl = (int)((d >> 45) & 3);
	uint16_t tsel = sel;

	if (dpl < c->cpl || dpl < (sel & 3))
		emu_raise(c, EXC_GP, 1, sel & 0xfffc);
	if (type == 0x05) {
		/* a task gate (GDT or LDT) names the TSS */
		if (!((d >> 47) & 1))
			emu_raise(c, EXC_NP, 1, sel & 0xfffc);
		tsel = (uint16_t)(d >> 16);
		d = tss_target(c, tsel, EXC_GP);
	} else {
		if (type != 0x09 && type != 0x01)
			emu_raise(c, EXC_GP, 1, sel & 0xfffc); /* a busy TSS */
		if (sel & 4)
			emu_raise(c, EXC_GP, 1, sel & 0xfffc);
		if (!((d >> 47) & 1))
			emu_raise(c, EXC_NP, 1, sel & 0xfffc);
	}
	debug_trap(c, task_switch(c, tsel, d, is_call ? EMU_TASK_CALL : EMU_TASK_JMP,
				  (uint32_t)c->next_rip));
}

void emu_task_iret(struct emu_cpu *c)
{
	uint16_t link = (uint16_t)sys_read(c, c->seg[SEG_TR].base + TSS32_LINK, 2);
	uint64_t d, addr;
	int type;

	/* the previous task must be a busy TSS in the GDT */
	if ((link & 4) || (link & ~3) == 0)
		emu_raise(c, EXC_TS, 1, link & 0xfffc);
	d = emu_read_desc(c, link, EXC_TS, &addr);
	type = (int)((d >> 40) & 0x1f);
	if (type != 0x0b && type != 0x03)
		emu_raise(c, EXC_TS, 1, link & 0xfffc);
	if (!((d >> 47) & 1))
		emu_raise(c, EXC_NP, 1, link & 0xfffc);
	debug_trap(c, task_switch(c, link, d, EMU_TASK_IRET, (uint32_t)c->next_rip));
}

void emu_task_gate_deliver(struct emu_cpu *c, uint64_t g, int has_err, uint32_t err)
{
	uint16_t tsel = (uint16_t)(g >> 16);
	uint64_t d = tss_target(c, tsel, EXC_GP);
	int n32 = ((d >> 40) & 8) != 0, trap;

	trap = task_switch(c, tsel, d, EMU_TASK_INT, (uint32_t)c->rip);
	if (has_err) {
		/* the error code goes onto the new task's stack */
		uint64_t m = sp_mask(c), sp = (c->r[4] - (n32 ? 4 : 2)) & m;

		emu_lin_write(c, seg_lin(c, SEG_SS, sp, n32 ? 4 : 2, ACC_WRITE), &err, n32 ? 4 : 2,
			      c->cpl == 3);
		c->r[4] = (c->r[4] & ~m) | sp;
	}
	debug_trap(c, trap);
}
