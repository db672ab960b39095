/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_EMU_OPTAB_H
#define CABIN_EMU_OPTAB_H

/*
 * The opcode table: one entry per (map, opcode, mandatory prefix) holds
 * everything the decoder and the interpreter know about an instruction form:
 * how to decode it, its handler, whether LOCK is allowed, whether a decoded
 * block ends after it, and (per group of entries) the CPUID bits it makes true.
 * Entries live next to their handlers in exec-<topic>.c; optab.c collects the
 * groups into the lookup table.
 */
#include <stddef.h>
#include <stdint.h>

struct emu_cpu;
struct emu_insn;

/* Decode flags */
#define D_M 0x01   /* ModRM follows */
#define D_I8 0x02  /* imm8 */
#define D_IZ 0x04  /* imm16/imm32 by operand size (imm32 sign-extended for 64-bit) */
#define D_IW 0x08  /* imm16 */
#define D_IV 0x10  /* imm16/32/64 by operand size (MOV r, imm) */
#define D_MO 0x20  /* moffs: address-size offset */
#define D_FP 0x40  /* far pointer: offset by operand size, then selector */
#define D_X64 0x80 /* invalid in 64-bit mode */
#define D_G3 0x100 /* F6/F7: TEST forms take an immediate */

/* Opcode maps, as in emu_insn.op bits 8-9 */
#define MAP1 0x000u
#define MAP0F 0x100u
#define MAP0F38 0x200u
#define MAP0F3A 0x300u

/*
 * Mandatory prefixes, as in emu_insn.pfx: the last of F2/F3 if any, else 66
 * if present, else none. PFX_ANY entries fill all four slots of their opcode;
 * entries for one prefix override that slot only.
 */
enum { PFX_NONE, PFX_66, PFX_F3, PFX_F2, PFX_ANY = 0xff };

/* Bit masks over ModRM.reg (0-7) for the lock/end fields; instructions without ModRM use bit 0 */
#define R_ALL 0xffu
#define R_(n) (1u << (n))

typedef void (*emu_insn_fn)(struct emu_cpu *c, const struct emu_insn *in);

struct emu_opdef {
	uint16_t first, last; /* opcode range: MAPx | byte */
	uint8_t pfx;	      /* PFX_* */
	uint8_t lock;	      /* ModRM.reg values that accept LOCK (memory operand only) */
	uint8_t end;	      /* ModRM.reg values after which a decoded block ends */
	uint16_t dflags;      /* D_* */
	emu_insn_fn fn;	      /* the handler; c->next_rip is RIP + length when it runs */
	/* optional: a faster handler for one decoded form (register operands, a size), or NULL */
	emu_insn_fn (*select)(const struct emu_insn *in);
	/*
	 * optional: set in->fclass (EMU_FC_*) and in->run (a handler for the same form
	 * that skips the flag update, or NULL) for the handler the decoder chose
	 */
	void (*flags)(struct emu_insn *in);
};

#define OP(first, last, dflags, lock, end, fn)                                                     \
	{                                                                                          \
		(first), (last), PFX_ANY, (lock), (end), (dflags), (fn), NULL, NULL                \
	}
#define OPS(first, last, dflags, lock, end, fn, select)                                            \
	{                                                                                          \
		(first), (last), PFX_ANY, (lock), (end), (dflags), (fn), (select), NULL            \
	}
#define OPSF(first, last, dflags, lock, end, fn, select, flags)                                    \
	{                                                                                          \
		(first), (last), PFX_ANY, (lock), (end), (dflags), (fn), (select), (flags)         \
	}
#define OPP(first, last, pfx, dflags, lock, end, fn)                                               \
	{                                                                                          \
		(first), (last), (pfx), (lock), (end), (dflags), (fn), NULL, NULL                  \
	}

/* A topic's entries and the CPUID feature bits they implement completely */
struct emu_opgroup {
	const struct emu_opdef *ops;
	size_t n;
	uint32_t cpuid1_ecx, cpuid1_edx;   /* leaf 1 */
	uint32_t cpuid7_ebx, cpuid7_ecx;   /* leaf 7, subleaf 0 */
	uint32_t cpuidx1_ecx, cpuidx1_edx; /* leaf 0x80000001 */
};

#define OPGROUP(ops) .ops = (ops), .n = sizeof(ops) / sizeof((ops)[0])

extern const struct emu_opgroup emu_ops_alu, emu_ops_mov, emu_ops_stack, emu_ops_string,
	emu_ops_control, emu_ops_system, emu_ops_fpu, emu_ops_sse;

/* the entry for opcode @op (MAPx | byte) with mandatory prefix @pfx, or NULL (#UD) */
const struct emu_opdef *emu_optab_lookup(unsigned int op, unsigned int pfx);
/* number of (opcode, prefix) slots that two entries claim: must be 0 */
unsigned int emu_optab_conflicts(void);
/* OR the groups' CPUID feature bits for @leaf (1, 7, 0x80000001) into @out (EAX..EDX) */
void emu_optab_cpuid(uint32_t leaf, uint32_t out[4]);

#endif
