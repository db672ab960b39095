/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fpu.h on an x86 host: each operation runs on the host's x87 unit under the
 * guest's control word, so results, rounding, precision control, exception
 * flags and the condition codes are the hardware's own. The host x87 state
 * is ours between FNINIT and FNINIT: the ABI's control word (0x37f) and an
 * empty stack are back when a function returns. The flags are read with
 * FNSTSW and cleared with FNCLEX before any waiting instruction runs, so an
 * exception the guest unmasked never traps on the host.
 */
#include <string.h>

#include "emu/fpu.h"

#if !defined(__x86_64__) && !defined(__i386__)
#error "fpu-x86.c needs an x86 host; another host needs a soft-float fpu.h"
#endif

/* the 28-byte protected-mode environment FLDENV loads */
struct env {
	uint32_t cw, sw, tw, ip, cs, dp, ds;
};

static inline struct env mkenv(uint16_t cw, uint16_t sw)
{
	struct env e = { cw, sw & 0x4700u, 0xffff, 0, 0, 0, 0 };

	return e;
}

#define X87_CLOBBERS "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)", "memory"

/* ST(0) = a, ST(1) = b; INSN leaves the result in ST(0) */
#define X87_2(INSN)                                                                                \
	__asm__ volatile("fninit\n\tfldenv %[env]\n\tfldt %[b]\n\tfldt %[a]\n\t" INSN "\n\t"       \
			 "fnstsw %[sw]\n\tfnclex\n\tfstpt %[r]\n\tfninit"                          \
			 : [sw] "=m"(sw), [r] "=m"(*r)                                             \
			 : [env] "m"(env), [a] "m"(*a), [b] "m"(*b)                                \
			 : X87_CLOBBERS)

unsigned int fpu_op2(enum fpu_op2 op, uint16_t cw, uint16_t sw_in, const struct emu_fpreg *a,
		     const struct emu_fpreg *b, struct emu_fpreg *r)
{
	struct env env = mkenv(cw, sw_in);
	uint16_t sw = 0;
	struct emu_fpreg dummy;

	if (!r)
		r = &dummy;
	memset(r, 0, sizeof(*r));
	switch (op) {
	case FPU_ADD:
		X87_2("fadd %%st(1), %%st");
		break;
	case FPU_MUL:
		X87_2("fmul %%st(1), %%st");
		break;
	case FPU_SUB:
		X87_2("fsub %%st(1), %%st");
		break;
	case FPU_SUBR:
		X87_2("fsubr %%st(1), %%st");
		break;
	case FPU_DIV:
		X87_2("fdiv %%st(1), %%st");
		break;
	case FPU_DIVR:
		X87_2("fdivr %%st(1), %%st");
		break;
	case FPU_COM:
		X87_2("fcom %%st(1)");
		break;
	case FPU_UCOM:
		X87_2("fucom %%st(1)");
		break;
	case FPU_PREM:
		X87_2("fprem");
		break;
	case FPU_PREM1:
		X87_2("fprem1");
		break;
	case FPU_SCALE:
		X87_2("fscale");
		break;
	case FPU_YL2X:
		X87_2("fyl2x");
		break;
	case FPU_YL2XP1:
		X87_2("fyl2xp1");
		break;
	case FPU_PATAN:
		X87_2("fpatan");
		break;
	}
	return sw;
}

/* ST(0) = a, then INSN with the memory operand m */
#define X87_2M(INSN)                                                                               \
	__asm__ volatile("fninit\n\tfldenv %[env]\n\tfldt %[a]\n\t" INSN " %[m]\n\t"               \
			 "fnstsw %[sw]\n\tfnclex\n\tfstpt %[r]\n\tfninit"                          \
			 : [sw] "=m"(sw), [r] "=m"(*r)                                             \
			 : [env] "m"(env), [a] "m"(*a), [m] "m"(buf)                               \
			 : X87_CLOBBERS)
#define FMT4(MN)                                                                                   \
	do {                                                                                       \
		if (fmt == FPU_F32)                                                                \
			X87_2M("f" MN "s");                                                        \
		else if (fmt == FPU_F64)                                                           \
			X87_2M("f" MN "l");                                                        \
		else if (fmt == FPU_I16)                                                           \
			X87_2M("fi" MN "s");                                                       \
		else                                                                               \
			X87_2M("fi" MN "l");                                                       \
	} while (0)

unsigned int fpu_op2m(enum fpu_op2 op, enum fpu_fmt fmt, uint16_t cw, uint16_t sw_in,
		      const struct emu_fpreg *a, const void *mem, struct emu_fpreg *r)
{
	struct env env = mkenv(cw, sw_in);
	uint16_t sw = 0;
	uint8_t buf[16] = { 0 };
	struct emu_fpreg dummy;

	if (!r)
		r = &dummy;
	memset(r, 0, sizeof(*r));
	memcpy(buf, mem, fpu_fmt_size(fmt));
	switch (op) {
	case FPU_ADD:
		FMT4("add");
		break;
	case FPU_MUL:
		FMT4("mul");
		break;
	case FPU_SUB:
		FMT4("sub");
		break;
	case FPU_SUBR:
		FMT4("subr");
		break;
	case FPU_DIV:
		FMT4("div");
		break;
	case FPU_DIVR:
		FMT4("divr");
		break;
	case FPU_COM:
	case FPU_UCOM:
	case FPU_PREM:
	case FPU_PREM1:
	case FPU_SCALE:
	case FPU_YL2X:
	case FPU_YL2XP1:
	case FPU_PATAN:
		FMT4("com");
		break;
	}
	return sw;
}

/* ST(0) = a; one result in ST(0) */
#define X87_1(INSN)                                                                                \
	__asm__ volatile("fninit\n\tfldenv %[env]\n\tfldt %[a]\n\t" INSN "\n\t"                    \
			 "fnstsw %[sw]\n\tfnclex\n\tfstpt %[r0]\n\tfninit"                         \
			 : [sw] "=m"(sw), [r0] "=m"(*r0)                                           \
			 : [env] "m"(env), [a] "m"(*a)                                             \
			 : X87_CLOBBERS)
/* two results: ST(0) and ST(1); @pushed tells whether the instruction pushed */
#define X87_1X2(INSN)                                                                              \
	__asm__ volatile("fninit\n\tfldenv %[env]\n\tfldt %[a]\n\t" INSN "\n\t"                    \
			 "fnstsw %[sw]\n\tfnclex\n\tfstpt %[r0]\n\tfnstsw %[sw2]\n\t"              \
			 "fstpt %[r1]\n\tfninit"                                                   \
			 : [sw] "=m"(sw), [sw2] "=m"(sw2), [r0] "=m"(*r0), [r1] "=m"(*r1)          \
			 : [env] "m"(env), [a] "m"(*a)                                             \
			 : X87_CLOBBERS)

unsigned int fpu_op1(enum fpu_op1 op, uint16_t cw, uint16_t sw_in, const struct emu_fpreg *a,
		     struct emu_fpreg *r0, struct emu_fpreg *r1)
{
	struct env env = mkenv(cw, sw_in);
	uint16_t sw = 0, sw2 = 0;
	struct emu_fpreg d0, d1;

	if (!r0)
		r0 = &d0;
	if (!r1)
		r1 = &d1;
	memset(r0, 0, sizeof(*r0));
	memset(r1, 0, sizeof(*r1));
	switch (op) {
	case FPU_SQRT:
		X87_1("fsqrt");
		break;
	case FPU_RNDINT:
		X87_1("frndint");
		break;
	case FPU_SIN:
		X87_1("fsin");
		break;
	case FPU_COS:
		X87_1("fcos");
		break;
	case FPU_F2XM1:
		X87_1("f2xm1");
		break;
	case FPU_TST:
		X87_1("ftst");
		break;
	case FPU_XAM:
		X87_1("fxam");
		break;
	case FPU_PTAN:
		X87_1X2("fptan");
		break;
	case FPU_SINCOS:
		X87_1X2("fsincos");
		break;
	case FPU_XTRACT:
		X87_1X2("fxtract");
		break;
	}
	(void)sw2;
	return sw;
}

#define X87_K(INSN)                                                                                \
	__asm__ volatile("fninit\n\tfldenv %[env]\n\t" INSN "\n\t"                                 \
			 "fnstsw %[sw]\n\tfnclex\n\tfstpt %[r]\n\tfninit"                          \
			 : [sw] "=m"(sw), [r] "=m"(*r)                                             \
			 : [env] "m"(env)                                                          \
			 : X87_CLOBBERS)

unsigned int fpu_const(enum fpu_const k, uint16_t cw, uint16_t sw_in, struct emu_fpreg *r)
{
	struct env env = mkenv(cw, sw_in);
	uint16_t sw = 0;

	memset(r, 0, sizeof(*r));
	switch (k) {
	case FPU_K1:
		X87_K("fld1");
		break;
	case FPU_KL2T:
		X87_K("fldl2t");
		break;
	case FPU_KL2E:
		X87_K("fldl2e");
		break;
	case FPU_KPI:
		X87_K("fldpi");
		break;
	case FPU_KLG2:
		X87_K("fldlg2");
		break;
	case FPU_KLN2:
		X87_K("fldln2");
		break;
	case FPU_KZ:
		X87_K("fldz");
		break;
	}
	return sw;
}

unsigned int fpu_fmt_size(enum fpu_fmt fmt)
{
	switch (fmt) {
	case FPU_F32:
	case FPU_I32:
	case FPU_I32T:
		return 4;
	case FPU_F64:
	case FPU_I64:
	case FPU_I64T:
		return 8;
	case FPU_I16:
	case FPU_I16T:
		return 2;
	case FPU_F80:
	case FPU_BCD:
		return 10;
	}
	return 0;
}

#define X87_LD(INSN)                                                                               \
	__asm__ volatile("fninit\n\tfldenv %[env]\n\t" INSN " %[m]\n\t"                            \
			 "fnstsw %[sw]\n\tfnclex\n\tfstpt %[r]\n\tfninit"                          \
			 : [sw] "=m"(sw), [r] "=m"(*r)                                             \
			 : [env] "m"(env), [m] "m"(buf)                                            \
			 : X87_CLOBBERS)

unsigned int fpu_load(enum fpu_fmt fmt, uint16_t cw, uint16_t sw_in, const void *mem,
		      struct emu_fpreg *r)
{
	struct env env = mkenv(cw, sw_in);
	uint16_t sw = 0;
	uint8_t buf[16] = { 0 };

	memcpy(buf, mem, fpu_fmt_size(fmt));
	memset(r, 0, sizeof(*r));
	switch (fmt) {
	case FPU_F32:
		X87_LD("flds");
		break;
	case FPU_F64:
		X87_LD("fldl");
		break;
	case FPU_F80:
		X87_LD("fldt");
		break;
	case FPU_I16:
	case FPU_I16T:
		X87_LD("filds");
		break;
	case FPU_I32:
	case FPU_I32T:
		X87_LD("fildl");
		break;
	case FPU_I64:
	case FPU_I64T:
		X87_LD("fildll");
		break;
	case FPU_BCD:
		X87_LD("fbld");
		break;
	}
	return sw;
}

#define X87_ST(INSN)                                                                               \
	__asm__ volatile("fninit\n\tfldenv %[env]\n\tfldt %[a]\n\t" INSN " %[m]\n\t"               \
			 "fnstsw %[sw]\n\tfninit"                                                  \
			 : [sw] "=m"(sw), [m] "=m"(buf)                                            \
			 : [env] "m"(env), [a] "m"(*a)                                             \
			 : X87_CLOBBERS)

unsigned int fpu_store(enum fpu_fmt fmt, uint16_t cw, uint16_t sw_in, const struct emu_fpreg *a,
		       void *mem)
{
	struct env env = mkenv(cw, sw_in);
	uint16_t sw = 0;
	uint8_t buf[16] = { 0 };

	switch (fmt) {
	case FPU_F32:
		X87_ST("fstps");
		break;
	case FPU_F64:
		X87_ST("fstpl");
		break;
	case FPU_F80:
		X87_ST("fstpt");
		break;
	case FPU_I16:
		X87_ST("fistps");
		break;
	case FPU_I32:
		X87_ST("fistpl");
		break;
	case FPU_I64:
		X87_ST("fistpll");
		break;
	case FPU_I16T:
		X87_ST("fisttps");
		break;
	case FPU_I32T:
		X87_ST("fisttpl");
		break;
	case FPU_I64T:
		X87_ST("fisttpll");
		break;
	case FPU_BCD:
		X87_ST("fbstp");
		break;
	}
	memcpy(mem, buf, fpu_fmt_size(fmt));
	return sw;
}
