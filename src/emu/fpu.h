/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_EMU_FPU_H
#define CABIN_EMU_FPU_H

/*
 * x87 arithmetic on 80-bit values: the one interface between the x87
 * instruction handlers (exec-fpu.c: stack, tags, exception policy, memory
 * formats in guest memory) and the code that computes results and exception
 * flags bit-exactly under a guest control word. fpu-x86.c implements it with
 * the host's own x87 unit; a host without one needs a soft-float version of
 * these functions and nothing else.
 *
 * Every function runs under control word @cw as the guest set it (precision,
 * rounding and masks), starting from the condition codes C0-C3 of status word
 * @sw (an instruction may leave them as they were), and returns the status
 * bits the operation produced:
 * the exception flags (FSW_IE..FSW_PE, FSW_SF never), C1 (rounded up, or the
 * quotient bit of FPREM), and C0/C2/C3 where the instruction defines them.
 * When an exception is unmasked in @cw, the results are what the hardware
 * leaves for an unmasked exception (the caller decides what to commit).
 */
#include <stdint.h>

#include "emu/emu.h"

#define FSW_IE 0x0001u
#define FSW_DE 0x0002u
#define FSW_ZE 0x0004u
#define FSW_OE 0x0008u
#define FSW_UE 0x0010u
#define FSW_PE 0x0020u
#define FSW_SF 0x0040u
#define FSW_ES 0x0080u
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_C3 0x4000u
#define FSW_B 0x8000u
#define FSW_TOP 0x3800u
#define FSW_EXC 0x003fu

/* Two-operand operations: a is ST(0) (or the first operand), b the other */
enum fpu_op2 {
	FPU_ADD,    /* a + b */
	FPU_MUL,    /* a * b */
	FPU_SUB,    /* a - b */
	FPU_SUBR,   /* b - a */
	FPU_DIV,    /* a / b */
	FPU_DIVR,   /* b / a */
	FPU_COM,    /* compare a with b: C0 C2 C3 (FCOM) */
	FPU_UCOM,   /* unordered compare (FUCOM) */
	FPU_PREM,   /* partial remainder of a / b (FPREM): C0 C1 C3 quotient bits, C2 incomplete */
	FPU_PREM1,  /* IEEE partial remainder (FPREM1) */
	FPU_SCALE,  /* a * 2^trunc(b) */
	FPU_YL2X,   /* b * log2(a) */
	FPU_YL2XP1, /* b * log2(a + 1) */
	FPU_PATAN,  /* arctan(b / a) */
};

/* One-operand operations on a; FPU_PTAN, FPU_SINCOS and FPU_XTRACT give two results */
enum fpu_op1 {
	FPU_SQRT,
	FPU_RNDINT,
	FPU_SIN,
	FPU_COS,
	FPU_F2XM1,
	FPU_TST,    /* compare a with +0.0: C0 C2 C3 */
	FPU_XAM,    /* classify a: C0 C1 C2 C3 (the caller handles an empty register) */
	FPU_PTAN,   /* r0 = 1.0, r1 = tan(a); C2 out of range */
	FPU_SINCOS, /* r0 = cos(a), r1 = sin(a); C2 out of range */
	FPU_XTRACT, /* r0 = significand(a), r1 = exponent(a) */
};

/* Constants (FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ), in D9 E8-EE order */
enum fpu_const { FPU_K1, FPU_KL2T, FPU_KL2E, FPU_KPI, FPU_KLG2, FPU_KLN2, FPU_KZ };

/* Memory formats */
enum fpu_fmt {
	FPU_F32,
	FPU_F64,
	FPU_F80,
	FPU_I16,
	FPU_I32,
	FPU_I64,
	FPU_BCD,
	FPU_I16T, /* FISTTP: truncating stores */
	FPU_I32T,
	FPU_I64T,
};

/* size in bytes of a memory format */
unsigned int fpu_fmt_size(enum fpu_fmt fmt);

unsigned int fpu_op2(enum fpu_op2 op, uint16_t cw, uint16_t sw, const struct emu_fpreg *a,
		     const struct emu_fpreg *b, struct emu_fpreg *r);
/*
 * a op m for a memory operand in format @fmt (FPU_F32, FPU_F64, FPU_I16, FPU_I32),
 * @op one of FPU_ADD..FPU_COM: as FADD m32 etc. do it (no separate conversion)
 */
unsigned int fpu_op2m(enum fpu_op2 op, enum fpu_fmt fmt, uint16_t cw, uint16_t sw,
		      const struct emu_fpreg *a, const void *mem, struct emu_fpreg *r);
unsigned int fpu_op1(enum fpu_op1 op, uint16_t cw, uint16_t sw, const struct emu_fpreg *a,
		     struct emu_fpreg *r0, struct emu_fpreg *r1);
unsigned int fpu_const(enum fpu_const k, uint16_t cw, uint16_t sw, struct emu_fpreg *r);
/* convert @mem (fpu_fmt_size(fmt) bytes, little-endian) to 80-bit */
unsigned int fpu_load(enum fpu_fmt fmt, uint16_t cw, uint16_t sw, const void *mem,
		      struct emu_fpreg *r);
/* convert @a to @fmt in @mem */
unsigned int fpu_store(enum fpu_fmt fmt, uint16_t cw, uint16_t sw, const struct emu_fpreg *a,
		       void *mem);

#endif
