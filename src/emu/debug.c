/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Debug registers (SDM vol. 3 ch. 18): DR0-DR3 breakpoint addresses, DR6 status and DR7
 * control.
 *  - Instruction breakpoints (R/W 00) are faults: checked before an instruction whose
 *    linear address matches, unless EFLAGS.RF is set (the handler's IRETQ sets it to get
 *    past) or a MOV SS / POP SS shadow covers the instruction.
 *  - Data breakpoints (R/W 01 write, 11 read or write; LEN 1, 2, 4 or 8 bytes, aligned)
 *    are traps after the instruction that touched them. A page holding a watched range
 *    keeps no read or write rights in the TLB (emu_tlb_fill()), so every access to it
 *    takes the slow path of mmu.c, which calls emu_dbg_watch().
 *  - DR7.GD makes any MOV to or from a debug register a #DB fault with DR6.BD.
 *  - On a #DB, B0-B3 say which breakpoints matched; BS, BD and BT are only ever set.
 *  - MOV SS / POP SS holds back the single-step and data breakpoint traps of their
 *    instruction until the end of the next one (exec.c).
 *  - I/O breakpoints (R/W 10, with CR4.DE) trap after an IN or OUT of their ports.
 * While any of this is armed, or EFLAGS.TF is set, exec.c runs one instruction at a time.
 */
#include "emu/emu.h"

#define DR7_GD (1ULL << 13)

static unsigned int bp_len(uint64_t dr7, int i)
{
	static const unsigned int len[4] = { 1, 2, 8, 4 };

	return len[(dr7 >> (18 + 4 * i)) & 3];
}

static unsigned int bp_rw(uint64_t dr7, int i)
{
	return (unsigned int)(dr7 >> (16 + 4 * i)) & 3;
}

static int bp_enabled(uint64_t dr7, int i)
{
	return ((dr7 >> (2 * i)) & 3) != 0;
}

void emu_dbg_update(struct emu_cpu *c)
{
	uint64_t dr7 = c->dr[7];
	int watch = 0;

	for (int i = 0; i < 4; i++)
		if (bp_enabled(dr7, i) && (bp_rw(dr7, i) & 1))
			watch = 1;
	c->dbg_active = (dr7 & 0xff) != 0 || (dr7 & DR7_GD) != 0;
	/* the rights of watched pages come and go with the breakpoints: start afresh */
	if (watch || c->watch_active)
		emu_tlb_flush(c, 0);
	c->watch_active = (uint8_t)watch;
}

uint32_t emu_dbg_exec_match(const struct emu_cpu *c, uint64_t lin)
{
	uint32_t bits = 0;

	for (int i = 0; i < 4; i++)
		if (bp_enabled(c->dr[7], i) && bp_rw(c->dr[7], i) == 0 && c->dr[i] == lin)
			bits |= 1u << i;
	return bits;
}

int emu_dbg_page_watched(const struct emu_cpu *c, uint64_t vpage)
{
	for (int i = 0; i < 4; i++) {
		uint64_t a;

		if (!bp_enabled(c->dr[7], i) || !(bp_rw(c->dr[7], i) & 1))
			continue;
		a = c->dr[i] & ~(uint64_t)(bp_len(c->dr[7], i) - 1);
		if ((a & ~0xfffULL) == vpage)
			return 1;
	}
	return 0;
}

enum { DB_READ, DB_WRITE, DB_IO };

/* the breakpoints whose R/W field takes an access of @kind over [@at, @at + @len) */
static void match(struct emu_cpu *c, uint64_t at, unsigned int len, int kind)
{
	for (int i = 0; i < 4; i++) {
		unsigned int rw = bp_rw(c->dr[7], i), n = bp_len(c->dr[7], i);
		uint64_t a = c->dr[i] & ~(uint64_t)(n - 1);
		int takes = kind == DB_IO ? rw == 2 : kind == DB_WRITE ? (rw & 1) : rw == 3;

		if (bp_enabled(c->dr[7], i) && takes && at < a + n && a < at + len)
			c->db_hit |= 1u << i;
	}
}

void emu_dbg_watch(struct emu_cpu *c, uint64_t lin, unsigned int len, int write)
{
	match(c, lin, len, write ? DB_WRITE : DB_READ);
}

void emu_dbg_io(struct emu_cpu *c, uint16_t port, unsigned int len)
{
	if (c->cr4 & 0x8) /* CR4.DE */
		match(c, port, len, DB_IO);
}

int emu_dbg_general_detect(struct emu_cpu *c)
{
	if (!(c->dr[7] & DR7_GD))
		return 0;
	c->dr[7] &= ~DR7_GD; /* cleared on the way into the handler, which may then use them */
	c->dr[6] = (c->dr[6] & ~0xfULL) | 0x2000; /* BD */
	emu_dbg_update(c);
	return 1;
}
