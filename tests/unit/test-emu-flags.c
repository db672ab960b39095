/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-flags: the emulator's integer ALU (the functions its interpreter
 * executes ADD..IDIV with) against the host CPU running the same instruction
 * through inline assembly. Every instruction and operand size gets at least
 * CASES random operand pairs (edge values mixed in); results and every flag the
 * SDM defines for that instruction and count must match. Undefined flags (AF
 * after logic ops, OF after multi-bit shifts, SF/ZF/AF/PF after MUL, ...) are
 * masked.
 *
 * The x87 part runs whole instructions: each form (every D8-DF opcode, register
 * and memory variant) executes on the emulator (flat 32-bit protected mode,
 * between an FXRSTOR and an FXSAVE) and natively on the host from the same
 * random state: register contents (normals, denormals, zeros, infinities,
 * NaNs, unnormals), empty registers, TOP, rounding and precision control,
 * exception masks, memory operands and EFLAGS. The FXSAVE images (control and
 * status word, tags, registers), the memory operand and EFLAGS must match;
 * condition codes the SDM leaves undefined for a form are masked.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "emu/emu.h"
#include "lib/error.h"
#include "vm/machine.h"
#include "unit/tap.h"

#ifndef CASES
#define CASES 1000000
#endif

#define ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* ---- host side: one function per instruction and size ---- */

/* the red zone below RSP may hold the compiler's locals: step over it before pushing */
#define PRE "sub $128, %%rsp\n\tpush %[fin]\n\tpopfq\n\t"
#define POST "\n\tpushfq\n\tpop %[f]\n\tadd $128, %%rsp"

typedef uint64_t (*host_fn)(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi);

#define H_BIN(nm, insn, T, rc)                                                                     \
	static uint64_t nm(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi)       \
	{                                                                                          \
		T x = (T)a, y = (T)b;                                                              \
		uint64_t f;                                                                        \
		(void)hi;                                                                          \
		__asm__ volatile(PRE insn " %[y], %[x]" POST                                       \
				 : [x] "+" rc(x), [f] "=&r"(f)                                     \
				 : [y] rc(y), [fin] "r"(fin)                                       \
				 : "cc", "memory");                                                \
		*fo = f;                                                                           \
		return (uint64_t)x;                                                                \
	}

#define H_UN(nm, insn, T, rc)                                                                      \
	static uint64_t nm(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi)       \
	{                                                                                          \
		T x = (T)a;                                                                        \
		uint64_t f;                                                                        \
		(void)b;                                                                           \
		(void)hi;                                                                          \
		__asm__ volatile(PRE insn " %[x]" POST                                             \
				 : [x] "+" rc(x), [f] "=&r"(f)                                     \
				 : [fin] "r"(fin)                                                  \
				 : "cc", "memory");                                                \
		*fo = f;                                                                           \
		return (uint64_t)x;                                                                \
	}

#define H_SH(nm, insn, T, rc)                                                                      \
	static uint64_t nm(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi)       \
	{                                                                                          \
		T x = (T)a;                                                                        \
		uint8_t n = (uint8_t)b;                                                            \
		uint64_t f;                                                                        \
		(void)hi;                                                                          \
		__asm__ volatile(PRE insn " %%cl, %[x]" POST                                       \
				 : [x] "+" rc(x), [f] "=&r"(f)                                     \
				 : "c"(n), [fin] "r"(fin)                                          \
				 : "cc", "memory");                                                \
		*fo = f;                                                                           \
		return (uint64_t)x;                                                                \
	}

/* SHLD/SHRD: b = source, *hi in = count */
#define H_SHD(nm, insn, T)                                                                         \
	static uint64_t nm(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi)       \
	{                                                                                          \
		T x = (T)a, y = (T)b;                                                              \
		uint8_t n = (uint8_t)*hi;                                                          \
		uint64_t f;                                                                        \
		__asm__ volatile(PRE insn " %%cl, %[y], %[x]" POST                                 \
				 : [x] "+r"(x), [f] "=&r"(f)                                       \
				 : [y] "r"(y), "c"(n), [fin] "r"(fin)                              \
				 : "cc", "memory");                                                \
		*fo = f;                                                                           \
		return (uint64_t)x;                                                                \
	}

/* MUL/IMUL one operand: a = accumulator, b = source; returns low half, *hi high half */
#define H_MUL(nm, insn, T)                                                                         \
	static uint64_t nm(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi)       \
	{                                                                                          \
		T lo = (T)a, h = 0, y = (T)b;                                                      \
		uint64_t f;                                                                        \
		__asm__ volatile(PRE insn " %[y]" POST                                             \
				 : "+a"(lo), "=&d"(h), [f] "=&r"(f)                                \
				 : [y] "r"(y), [fin] "r"(fin)                                      \
				 : "cc", "memory");                                                \
		*fo = f;                                                                           \
		*hi = (uint64_t)h;                                                                 \
		return (uint64_t)lo;                                                               \
	}

static uint64_t h_mul8(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi, int s)
{
	uint16_t ax = (uint8_t)a;
	uint8_t y = (uint8_t)b;
	uint64_t f;

	if (s)
		__asm__ volatile(PRE "imulb %[y]" POST
				 : "+a"(ax), [f] "=&r"(f)
				 : [y] "q"(y), [fin] "r"(fin)
				 : "cc", "memory");
	else
		__asm__ volatile(PRE "mulb %[y]" POST
				 : "+a"(ax), [f] "=&r"(f)
				 : [y] "q"(y), [fin] "r"(fin)
				 : "cc", "memory");
	*fo = f;
	*hi = ax >> 8;
	return ax & 0xff;
}

static uint64_t h_mul8u(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi)
{
	return h_mul8(a, b, fin, fo, hi, 0);
}

static uint64_t h_mul8s(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi)
{
	return h_mul8(a, b, fin, fo, hi, 1);
}

/* DIV/IDIV: dividend *hi:a, divisor b (the caller avoids #DE); returns quotient, *hi remainder */
#define H_DIV(nm, insn, T)                                                                         \
	static uint64_t nm(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi)       \
	{                                                                                          \
		T lo = (T)a, h = (T)*hi, y = (T)b;                                                 \
		uint64_t f;                                                                        \
		__asm__ volatile(PRE insn " %[y]" POST                                             \
				 : "+a"(lo), "+d"(h), [f] "=&r"(f)                                 \
				 : [y] "r"(y), [fin] "r"(fin)                                      \
				 : "cc", "memory");                                                \
		*fo = f;                                                                           \
		*hi = (uint64_t)h;                                                                 \
		return (uint64_t)lo;                                                               \
	}

static uint64_t h_div8(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi, int s)
{
	uint16_t ax = (uint16_t)((a & 0xff) | (*hi & 0xff) << 8);
	uint8_t y = (uint8_t)b;
	uint64_t f;

	if (s)
		__asm__ volatile(PRE "idivb %[y]" POST
				 : "+a"(ax), [f] "=&r"(f)
				 : [y] "q"(y), [fin] "r"(fin)
				 : "cc", "memory");
	else
		__asm__ volatile(PRE "divb %[y]" POST
				 : "+a"(ax), [f] "=&r"(f)
				 : [y] "q"(y), [fin] "r"(fin)
				 : "cc", "memory");
	*fo = f;
	*hi = ax >> 8;
	return ax & 0xff;
}

static uint64_t h_div8u(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi)
{
	return h_div8(a, b, fin, fo, hi, 0);
}

static uint64_t h_div8s(uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo, uint64_t *hi)
{
	return h_div8(a, b, fin, fo, hi, 1);
}

#define SIZES4(M, base, insn)                                                                      \
	M(base##8, insn "b", uint8_t, "q")                                                         \
	M(base##16, insn "w", uint16_t, "r")                                                       \
	M(base##32, insn "l", uint32_t, "r")                                                       \
	M(base##64, insn "q", uint64_t, "r")
#define SIZES3(M, base, insn)                                                                      \
	M(base##16, insn "w", uint16_t, "r")                                                       \
	M(base##32, insn "l", uint32_t, "r")                                                       \
	M(base##64, insn "q", uint64_t, "r")

SIZES4(H_BIN, h_add, "add")
SIZES4(H_BIN, h_adc, "adc")
SIZES4(H_BIN, h_sub, "sub")
SIZES4(H_BIN, h_sbb, "sbb")
SIZES4(H_BIN, h_cmp, "cmp")
SIZES4(H_BIN, h_and, "and")
SIZES4(H_BIN, h_or, "or")
SIZES4(H_BIN, h_xor, "xor")
SIZES4(H_BIN, h_test, "test")
SIZES4(H_UN, h_inc, "inc")
SIZES4(H_UN, h_dec, "dec")
SIZES4(H_UN, h_neg, "neg")
SIZES4(H_UN, h_not, "not")
SIZES4(H_SH, h_shl, "shl")
SIZES4(H_SH, h_shr, "shr")
SIZES4(H_SH, h_sar, "sar")
SIZES4(H_SH, h_rol, "rol")
SIZES4(H_SH, h_ror, "ror")
SIZES4(H_SH, h_rcl, "rcl")
SIZES4(H_SH, h_rcr, "rcr")
SIZES3(H_BIN, h_imul2_, "imul")
SIZES3(H_BIN, h_bt, "bt")
SIZES3(H_BIN, h_bts, "bts")
SIZES3(H_BIN, h_btr, "btr")
SIZES3(H_BIN, h_btc, "btc")
SIZES3(H_BIN, h_bsf, "bsf")
SIZES3(H_BIN, h_bsr, "bsr")
H_SHD(h_shld16, "shldw", uint16_t)
H_SHD(h_shld32, "shldl", uint32_t)
H_SHD(h_shld64, "shldq", uint64_t)
H_SHD(h_shrd16, "shrdw", uint16_t)
H_SHD(h_shrd32, "shrdl", uint32_t)
H_SHD(h_shrd64, "shrdq", uint64_t)
H_MUL(h_mul16, "mulw", uint16_t)
H_MUL(h_mul32, "mull", uint32_t)
H_MUL(h_mul64, "mulq", uint64_t)
H_MUL(h_imul16, "imulw", uint16_t)
H_MUL(h_imul32, "imull", uint32_t)
H_MUL(h_imul64, "imulq", uint64_t)
H_DIV(h_div16, "divw", uint16_t)
H_DIV(h_div32, "divl", uint32_t)
H_DIV(h_div64, "divq", uint64_t)
H_DIV(h_idiv16, "idivw", uint16_t)
H_DIV(h_idiv32, "idivl", uint32_t)
H_DIV(h_idiv64, "idivq", uint64_t)

/* ---- the cases ---- */

enum kind {
	K_ALU,
	K_LOGIC,
	K_CMPTEST,
	K_INCDEC,
	K_NEG,
	K_NOT,
	K_SHIFT,
	K_ROT,
	K_RC,
	K_SHD,
	K_MUL,
	K_IMUL2,
	K_IMUL3,
	K_DIV,
	K_BT,
	K_BS,
};

struct tcase {
	const char *name;
	enum kind kind;
	int op; /* ALU_*, SH_*, 0/1 for inc/dec, signedness, bt op, bsr */
	int size;
	host_fn host;
};

#define C4(nm, k, op, h)                                                                           \
	{ nm "8", k, op, 1, h##8 }, { nm "16", k, op, 2, h##16 }, { nm "32", k, op, 4, h##32 },    \
	{                                                                                          \
		nm "64", k, op, 8, h##64                                                           \
	}
#define C3(nm, k, op, h)                                                                           \
	{ nm "16", k, op, 2, h##16 }, { nm "32", k, op, 4, h##32 },                                \
	{                                                                                          \
		nm "64", k, op, 8, h##64                                                           \
	}

static const struct tcase cases[] = {
	C4("add", K_ALU, ALU_ADD, h_add),
	C4("adc", K_ALU, ALU_ADC, h_adc),
	C4("sub", K_ALU, ALU_SUB, h_sub),
	C4("sbb", K_ALU, ALU_SBB, h_sbb),
	C4("cmp", K_CMPTEST, ALU_CMP, h_cmp),
	C4("and", K_LOGIC, ALU_AND, h_and),
	C4("or", K_LOGIC, ALU_OR, h_or),
	C4("xor", K_LOGIC, ALU_XOR, h_xor),
	C4("test", K_CMPTEST, ALU_AND, h_test),
	C4("inc", K_INCDEC, 0, h_inc),
	C4("dec", K_INCDEC, 1, h_dec),
	C4("neg", K_NEG, 0, h_neg),
	C4("not", K_NOT, 0, h_not),
	C4("shl", K_SHIFT, SH_SHL, h_shl),
	C4("shr", K_SHIFT, SH_SHR, h_shr),
	C4("sar", K_SHIFT, SH_SAR, h_sar),
	C4("rol", K_ROT, SH_ROL, h_rol),
	C4("ror", K_ROT, SH_ROR, h_ror),
	C4("rcl", K_RC, SH_RCL, h_rcl),
	C4("rcr", K_RC, SH_RCR, h_rcr),
	C3("shld", K_SHD, 0, h_shld),
	C3("shrd", K_SHD, 1, h_shrd),
	{ "mul8", K_MUL, 0, 1, h_mul8u },
	C3("mul", K_MUL, 0, h_mul),
	{ "imul8", K_MUL, 1, 1, h_mul8s },
	C3("imul", K_MUL, 1, h_imul),
	C3("imul2-", K_IMUL2, 0, h_imul2_),
	C3("imul3-", K_IMUL3, 0, h_imul2_),
	{ "div8", K_DIV, 0, 1, h_div8u },
	C3("div", K_DIV, 0, h_div),
	{ "idiv8", K_DIV, 1, 1, h_div8s },
	C3("idiv", K_DIV, 1, h_idiv),
	C3("bt", K_BT, 0, h_bt),
	C3("bts", K_BT, 1, h_bts),
	C3("btr", K_BT, 2, h_btr),
	C3("btc", K_BT, 3, h_btc),
	C3("bsf", K_BS, 0, h_bsf),
	C3("bsr", K_BS, 1, h_bsr),
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static inline uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* a random operand of @size bytes; one in four is an edge value */
static uint64_t operand(int size)
{
	uint64_t m = emu_size_mask(size), sign = 1ULL << (size * 8 - 1);
	uint64_t r = rnd();

	if ((r & 3) == 0) {
		switch ((r >> 2) % 9) {
		case 0:
			return 0;
		case 1:
			return 1;
		case 2:
			return m;
		case 3:
			return sign;
		case 4:
			return sign - 1;
		case 5:
			return sign + 1;
		case 6:
			return m - 1;
		case 7:
			return (r >> 8) & 0xff;
		default:
			return ((r >> 8) & 0xf) << (size * 8 - 4);
		}
	}
	if ((r & 3) == 1)
		return (rnd() >> ((r >> 4) & 63)) & m; /* small magnitudes */
	return rnd() & m;
}

static uint64_t count_operand(int size)
{
	uint64_t r = rnd();
	int w = size * 8;

	switch (r & 7) {
	case 0:
		return 0;
	case 1:
		return 1;
	case 2:
		return (uint64_t)(w - 1);
	case 3:
		return (uint64_t)w + ((r >> 3) & 3);
	default:
		return (r >> 8) & 0xff;
	}
}

static int sx_neg(uint64_t v, int size)
{
	return (v >> (size * 8 - 1)) & 1;
}

static uint64_t sx64(uint64_t v, int size)
{
	int sh = 64 - size * 8;

	return (uint64_t)((int64_t)(v << sh) >> sh);
}

/* would DIV/IDIV of hi:lo by d raise #DE? (computed independently of the emulator) */
static int div_faults(int is_signed, int size, uint64_t hi, uint64_t lo, uint64_t d)
{
	uint64_t m = emu_size_mask(size);
	int bits = size * 8;

	d &= m;
	if (!d)
		return 1;
	if (!is_signed) {
		return (hi & m) >= d; /* quotient fits iff high part < divisor */
	} else {
		__int128 n, q, sd = (__int128)(int64_t)sx64(d, size);

		if (size == 8)
			n = (__int128)(((unsigned __int128)hi << 64) | lo);
		else
			n = (__int128)(int64_t)sx64(((hi & m) << bits) | (lo & m), size * 2);
		if (size == 8 && sd == -1 && hi == 0x8000000000000000ULL && lo == 0)
			return 1;
		if (size == 8 && ((hi == 0 && !(lo >> 63)) || (hi == ~0ULL && (lo >> 63))) == 0) {
			/* |dividend| >= 2^63: compare magnitudes without overflowing */
			unsigned __int128 un =
				n < 0 ? (unsigned __int128)(-(n + 1)) + 1 : (unsigned __int128)n;
			unsigned __int128 ud =
				sd < 0 ? (unsigned __int128)(-sd) : (unsigned __int128)sd;
			unsigned __int128 uq = un / ud;
			int neg = (n < 0) != (sd < 0);

			return neg ? uq > ((unsigned __int128)1 << 63)
				   : uq > (((unsigned __int128)1 << 63) - 1);
		}
		q = n / sd;
		return q > (__int128)(int64_t)(m >> 1) || q < -(__int128)(int64_t)(m >> 1) - 1;
	}
	(void)sx_neg;
}

static struct emu_cpu cpu;

/* run one case on the emulator; mirrors the host function's contract */
static uint64_t emu_run(const struct tcase *t, uint64_t a, uint64_t b, uint64_t fin, uint64_t *fo,
			uint64_t *hi, int *de)
{
	struct emu_cpu *c = &cpu;
	int size = t->size;
	uint64_t r = a, q, rem, out;

	emu_flags_set(c, fin);
	*de = 0;
	switch (t->kind) {
	case K_ALU:
	case K_LOGIC:
		r = emu_alu(c, t->op, size, a, b);
		break;
	case K_CMPTEST:
		emu_alu(c, t->op, size, a, b);
		r = a;
		break;
	case K_INCDEC:
		r = emu_incdec(c, t->op, size, a);
		break;
	case K_NEG:
		r = emu_neg(c, size, a);
		break;
	case K_NOT:
		r = ~a & emu_size_mask(size);
		break;
	case K_SHIFT:
	case K_ROT:
	case K_RC:
		r = emu_shift(c, t->op, size, a, (unsigned int)b & 0xff);
		break;
	case K_SHD:
		r = emu_shxd(c, t->op, size, a, b, (unsigned int)*hi & 0xff);
		break;
	case K_MUL:
		emu_mul(c, t->op, size, a, b, &r, hi);
		break;
	case K_IMUL2:
	case K_IMUL3:
		r = emu_imul2(c, size, a, b);
		break;
	case K_DIV:
		if (emu_div(c, t->op, size, *hi, a, b, &q, &rem)) {
			*de = 1;
			break;
		}
		r = q;
		*hi = rem;
		break;
	case K_BT:
		r = emu_bt(c, t->op, size, a, b);
		break;
	case K_BS:
		if (emu_bsf(c, t->op, size, b, &out))
			r = out;
		break;
	}
	*fo = emu_flags_get(c);
	return r & emu_size_mask(size);
}

/* flags the SDM defines for this instruction, size and count */
static uint64_t defined_flags(const struct tcase *t, uint64_t b, uint64_t cnt, int *cmp_result)
{
	int w = t->size * 8;
	unsigned int n;

	*cmp_result = 1;
	switch (t->kind) {
	case K_ALU:
	case K_CMPTEST:
	case K_INCDEC:
	case K_NEG:
	case K_NOT:
		return t->op == ALU_AND || t->op == ALU_OR || t->op == ALU_XOR ? ARITH & ~FL_AF
									       : ARITH;
	case K_LOGIC:
		return ARITH & ~FL_AF;
	case K_SHIFT:
		n = (unsigned int)b & (t->size == 8 ? 63 : 31);
		if (n == 0)
			return ARITH;
		return FL_SF | FL_ZF | FL_PF | ((int)n < w || t->op == SH_SAR ? FL_CF : 0) |
		       (n == 1 ? FL_OF : 0);
	case K_ROT:
	case K_RC:
		n = (unsigned int)b & (t->size == 8 ? 63 : 31);
		if (n == 0)
			return ARITH;
		return (ARITH & ~FL_OF) | (n == 1 ? FL_OF : 0);
	case K_SHD:
		n = (unsigned int)cnt & (t->size == 8 ? 63 : 31);
		if (n == 0)
			return ARITH;
		if ((int)n > w) {
			*cmp_result = 0;
			return 0;
		}
		return FL_CF | FL_SF | FL_ZF | FL_PF | (n == 1 ? FL_OF : 0);
	case K_MUL:
	case K_IMUL2:
	case K_IMUL3:
		return FL_CF | FL_OF;
	case K_DIV:
		return 0;
	case K_BT:
		return FL_CF | FL_ZF;
	case K_BS:
		*cmp_result = (b & emu_size_mask(t->size)) != 0;
		return FL_ZF;
	}
	return ARITH;
}

static int run_case(const struct tcase *t, long ncases, char *why, size_t whylen)
{
	int size = t->size;
	uint64_t m = emu_size_mask(size);

	for (long i = 0; i < ncases; i++) {
		uint64_t a = operand(size), b, fin, hf = 0, ef = 0, hhi = 0, ehi = 0, cnt = 0;
		uint64_t hr, er, def;
		int cmp_res, de = 0;

		fin = 0x2 | (rnd() & ARITH);
		switch ((int)t->kind) {
		case K_SHIFT:
		case K_ROT:
		case K_RC:
			b = count_operand(size);
			break;
		case K_SHD:
			b = operand(size);
			cnt = count_operand(size);
			hhi = ehi = cnt;
			break;
		case K_IMUL3:
			b = sx64(rnd() & 0xffffffffULL, 4) &
			    m; /* imm32 (imm16 for 16-bit), sign-extended */
			if (size == 2)
				b = sx64(b & 0xffff, 2) & m;
			break;
		case K_DIV:
			b = operand(size);
			hhi = ehi = (rnd() & 1) ? (rnd() & 1 ? 0 : m) : operand(size);
			if (!(rnd() & 3) && b)
				hhi = ehi =
					(b - 1) & m >> (rnd() & 7); /* quotient near the limit */
			break;
		case K_BT:
			b = rnd() & 0xff;
			break;
		default:
			b = operand(size);
			break;
		}
		def = defined_flags(t, b, cnt, &cmp_res);
		er = emu_run(t, a, b, fin, &ef, &ehi, &de);
		if (t->kind == K_DIV) {
			int hde = div_faults(t->op, size, hhi, a, b);

			if (hde != de) {
				snprintf(why, whylen,
					 "#DE mismatch: hi %#llx lo %#llx d %#llx: emu %d host %d",
					 (unsigned long long)hhi, (unsigned long long)a,
					 (unsigned long long)b, de, hde);
				return -1;
			}
			if (de)
				continue;
		}
		hr = t->host(a, b, fin, &hf, &hhi);
		hr &= m;
		if (t->kind == K_BS && !cmp_res)
			hr = er;
		if ((cmp_res && hr != er) || ((hf ^ ef) & def) ||
		    ((t->kind == K_MUL || t->kind == K_DIV) && (hhi & m) != (ehi & m))) {
			snprintf(why, whylen,
				 "a %#llx b %#llx cnt %#llx hi %#llx flags-in %#llx: host "
				 "%#llx/%#llx "
				 "flags %#llx, emu %#llx/%#llx flags %#llx (defined %#llx)",
				 (unsigned long long)a, (unsigned long long)b,
				 (unsigned long long)cnt,
				 (unsigned long long)(t->kind == K_DIV ? hhi : 0),
				 (unsigned long long)fin, (unsigned long long)hr,
				 (unsigned long long)hhi, (unsigned long long)(hf & ARITH),
				 (unsigned long long)er, (unsigned long long)ehi,
				 (unsigned long long)(ef & ARITH), (unsigned long long)def);
			return -1;
		}
	}
	return 0;
}

/* ---- x87: whole instructions on the emulator and on the host ---- */

#ifndef X87_CASES
#define X87_CASES 4000
#endif

#define X_CODE 0x10000ULL
#define X_FX 0x20000ULL	 /* FXSAVE image (16-byte aligned) */
#define X_MEM 0x21000ULL /* the memory operand */
#define X_STACK 0x30000ULL

static struct machine xm;
static struct vcpu xvcpu;
static struct emu_vm *xvm;
static struct emu_cpu *xc;
static struct accel_exit xex;
static uint8_t *xram;
static uint8_t *host_code;

/* fxrstor [rdi]; push rdx; popf; INSN; pushf; pop rax; fxsave [rdi]; fninit; ret */
typedef uint64_t (*host_x87_fn)(void *fx, void *mem, uint64_t flags);

struct x87case {
	const char *name;
	uint8_t op, modrm; /* modrm: mod=3 forms give the full byte; memory forms reg<<3 | 6 */
	int reg_i;	   /* 1: the low 3 bits of modrm take a random ST(i) */
	unsigned int cc;   /* defined condition codes besides C1 */
	unsigned int memn; /* memory operand bytes */
};

#define CC_NONE 0u
#define CC_CMP (0x4000u | 0x0400u | 0x0100u)
#define CC_ALLC (0x4000u | 0x0400u | 0x0200u | 0x0100u)
#define CC_C2 0x0400u
#define XM(nm, o, r, n, cc)                                                                        \
	{                                                                                          \
		nm, o, (uint8_t)((r) << 3 | 6), 0, cc, n                                           \
	}
#define XR(nm, o, m, cc)                                                                           \
	{                                                                                          \
		nm, o, m, 1, cc, 0                                                                 \
	}
#define X1(nm, o, m, cc)                                                                           \
	{                                                                                          \
		nm, o, m, 0, cc, 0                                                                 \
	}

static const struct x87case x87cases[] = {
	XM("fadd m32", 0xd8, 0, 4, CC_NONE),
	XM("fmul m32", 0xd8, 1, 4, CC_NONE),
	XM("fcom m32", 0xd8, 2, 4, CC_CMP),
	XM("fcomp m32", 0xd8, 3, 4, CC_CMP),
	XM("fsub m32", 0xd8, 4, 4, CC_NONE),
	XM("fsubr m32", 0xd8, 5, 4, CC_NONE),
	XM("fdiv m32", 0xd8, 6, 4, CC_NONE),
	XM("fdivr m32", 0xd8, 7, 4, CC_NONE),
	XR("fadd st, st(i)", 0xd8, 0xc0, CC_NONE),
	XR("fmul st, st(i)", 0xd8, 0xc8, CC_NONE),
	XR("fcom st(i)", 0xd8, 0xd0, CC_CMP),
	XR("fcomp st(i)", 0xd8, 0xd8, CC_CMP),
	XR("fsub st, st(i)", 0xd8, 0xe0, CC_NONE),
	XR("fsubr st, st(i)", 0xd8, 0xe8, CC_NONE),
	XR("fdiv st, st(i)", 0xd8, 0xf0, CC_NONE),
	XR("fdivr st, st(i)", 0xd8, 0xf8, CC_NONE),
	XM("fld m32", 0xd9, 0, 4, CC_NONE),
	XM("fst m32", 0xd9, 2, 4, CC_NONE),
	XM("fstp m32", 0xd9, 3, 4, CC_NONE),
	XR("fld st(i)", 0xd9, 0xc0, CC_NONE),
	XR("fxch st(i)", 0xd9, 0xc8, CC_NONE),
	X1("fchs", 0xd9, 0xe0, CC_NONE),
	X1("fabs", 0xd9, 0xe1, CC_NONE),
	X1("ftst", 0xd9, 0xe4, CC_CMP),
	X1("fxam", 0xd9, 0xe5, CC_ALLC),
	X1("fld1", 0xd9, 0xe8, CC_NONE),
	X1("fldl2t", 0xd9, 0xe9, CC_NONE),
	X1("fldl2e", 0xd9, 0xea, CC_NONE),
	X1("fldpi", 0xd9, 0xeb, CC_NONE),
	X1("fldlg2", 0xd9, 0xec, CC_NONE),
	X1("fldln2", 0xd9, 0xed, CC_NONE),
	X1("fldz", 0xd9, 0xee, CC_NONE),
	X1("f2xm1", 0xd9, 0xf0, CC_NONE),
	X1("fyl2x", 0xd9, 0xf1, CC_NONE),
	X1("fptan", 0xd9, 0xf2, CC_C2),
	X1("fpatan", 0xd9, 0xf3, CC_NONE),
	X1("fxtract", 0xd9, 0xf4, CC_NONE),
	X1("fprem1", 0xd9, 0xf5, CC_ALLC),
	X1("fdecstp", 0xd9, 0xf6, CC_NONE),
	X1("fincstp", 0xd9, 0xf7, CC_NONE),
	X1("fprem", 0xd9, 0xf8, CC_ALLC),
	X1("fyl2xp1", 0xd9, 0xf9, CC_NONE),
	X1("fsqrt", 0xd9, 0xfa, CC_NONE),
	X1("fsincos", 0xd9, 0xfb, CC_C2),
	X1("frndint", 0xd9, 0xfc, CC_NONE),
	X1("fscale", 0xd9, 0xfd, CC_NONE),
	X1("fsin", 0xd9, 0xfe, CC_C2),
	X1("fcos", 0xd9, 0xff, CC_C2),
	XM("fiadd m32", 0xda, 0, 4, CC_NONE),
	XM("fimul m32", 0xda, 1, 4, CC_NONE),
	XM("ficom m32", 0xda, 2, 4, CC_CMP),
	XM("ficomp m32", 0xda, 3, 4, CC_CMP),
	XM("fisub m32", 0xda, 4, 4, CC_NONE),
	XM("fisubr m32", 0xda, 5, 4, CC_NONE),
	XM("fidiv m32", 0xda, 6, 4, CC_NONE),
	XM("fidivr m32", 0xda, 7, 4, CC_NONE),
	XR("fcmovb", 0xda, 0xc0, CC_NONE),
	XR("fcmove", 0xda, 0xc8, CC_NONE),
	XR("fcmovbe", 0xda, 0xd0, CC_NONE),
	XR("fcmovu", 0xda, 0xd8, CC_NONE),
	X1("fucompp", 0xda, 0xe9, CC_CMP),
	XM("fild m32", 0xdb, 0, 4, CC_NONE),
	XM("fisttp m32", 0xdb, 1, 4, CC_NONE),
	XM("fist m32", 0xdb, 2, 4, CC_NONE),
	XM("fistp m32", 0xdb, 3, 4, CC_NONE),
	XM("fld m80", 0xdb, 5, 10, CC_NONE),
	XM("fstp m80", 0xdb, 7, 10, CC_NONE),
	XR("fcmovnb", 0xdb, 0xc0, CC_NONE),
	XR("fcmovne", 0xdb, 0xc8, CC_NONE),
	XR("fcmovnbe", 0xdb, 0xd0, CC_NONE),
	XR("fcmovnu", 0xdb, 0xd8, CC_NONE),
	X1("fnclex", 0xdb, 0xe2, CC_ALLC),
	X1("fninit", 0xdb, 0xe3, CC_ALLC),
	XR("fucomi", 0xdb, 0xe8, CC_NONE),
	XR("fcomi", 0xdb, 0xf0, CC_NONE),
	XM("fadd m64", 0xdc, 0, 8, CC_NONE),
	XM("fmul m64", 0xdc, 1, 8, CC_NONE),
	XM("fcom m64", 0xdc, 2, 8, CC_CMP),
	XM("fcomp m64", 0xdc, 3, 8, CC_CMP),
	XM("fsub m64", 0xdc, 4, 8, CC_NONE),
	XM("fsubr m64", 0xdc, 5, 8, CC_NONE),
	XM("fdiv m64", 0xdc, 6, 8, CC_NONE),
	XM("fdivr m64", 0xdc, 7, 8, CC_NONE),
	XR("fadd st(i), st", 0xdc, 0xc0, CC_NONE),
	XR("fmul st(i), st", 0xdc, 0xc8, CC_NONE),
	XR("fsubr st(i), st", 0xdc, 0xe0, CC_NONE),
	XR("fsub st(i), st", 0xdc, 0xe8, CC_NONE),
	XR("fdivr st(i), st", 0xdc, 0xf0, CC_NONE),
	XR("fdiv st(i), st", 0xdc, 0xf8, CC_NONE),
	XM("fld m64", 0xdd, 0, 8, CC_NONE),
	XM("fisttp m64", 0xdd, 1, 8, CC_NONE),
	XM("fst m64", 0xdd, 2, 8, CC_NONE),
	XM("fstp m64", 0xdd, 3, 8, CC_NONE),
	XM("fnstsw m16", 0xdd, 7, 2, CC_ALLC),
	XR("ffree st(i)", 0xdd, 0xc0, CC_ALLC),
	XR("fst st(i)", 0xdd, 0xd0, CC_NONE),
	XR("fstp st(i)", 0xdd, 0xd8, CC_NONE),
	XR("fucom st(i)", 0xdd, 0xe0, CC_CMP),
	XR("fucomp st(i)", 0xdd, 0xe8, CC_CMP),
	XM("fiadd m16", 0xde, 0, 2, CC_NONE),
	XM("fimul m16", 0xde, 1, 2, CC_NONE),
	XM("ficom m16", 0xde, 2, 2, CC_CMP),
	XM("ficomp m16", 0xde, 3, 2, CC_CMP),
	XM("fisub m16", 0xde, 4, 2, CC_NONE),
	XM("fisubr m16", 0xde, 5, 2, CC_NONE),
	XM("fidiv m16", 0xde, 6, 2, CC_NONE),
	XM("fidivr m16", 0xde, 7, 2, CC_NONE),
	XR("faddp st(i), st", 0xde, 0xc0, CC_NONE),
	XR("fmulp st(i), st", 0xde, 0xc8, CC_NONE),
	X1("fcompp", 0xde, 0xd9, CC_CMP),
	XR("fsubrp st(i), st", 0xde, 0xe0, CC_NONE),
	XR("fsubp st(i), st", 0xde, 0xe8, CC_NONE),
	XR("fdivrp st(i), st", 0xde, 0xf0, CC_NONE),
	XR("fdivp st(i), st", 0xde, 0xf8, CC_NONE),
	XM("fild m16", 0xdf, 0, 2, CC_NONE),
	XM("fisttp m16", 0xdf, 1, 2, CC_NONE),
	XM("fist m16", 0xdf, 2, 2, CC_NONE),
	XM("fistp m16", 0xdf, 3, 2, CC_NONE),
	XM("fbld m80", 0xdf, 4, 10, CC_NONE),
	XM("fild m64", 0xdf, 5, 8, CC_NONE),
	XM("fbstp m80", 0xdf, 6, 10, CC_NONE),
	XM("fistp m64", 0xdf, 7, 8, CC_NONE),
	XR("fucomip", 0xdf, 0xe8, CC_NONE),
	XR("fcomip", 0xdf, 0xf0, CC_NONE),
};

/* a random 80-bit value of an interesting class */
static void rnd_f80(uint8_t *p)
{
	uint64_t m = rnd(), r = rnd() % 16;
	uint16_t e;

	switch (r) {
	case 0: /* zero */
		m = 0;
		e = 0;
		break;
	case 1: /* denormal */
		m >>= 1 + rnd() % 63;
		e = 0;
		break;
	case 2: /* infinity */
		m = 1ULL << 63;
		e = 0x7fff;
		break;
	case 3: /* NaN, quiet or signalling */
		m |= 1ULL << 63;
		if (!(m << 1))
			m |= 1;
		e = 0x7fff;
		break;
	case 4: /* small integer */
		e = (uint16_t)(0x3fff + rnd() % 20);
		m |= 1ULL << 63;
		m &= ~0ULL << (63 - (e - 0x3fff));
		break;
	case 5: /* extreme exponent */
		e = (uint16_t)(rnd() & 1 ? 1 + rnd() % 64 : 0x7ffe - rnd() % 64);
		m |= 1ULL << 63;
		break;
	case 6: /* unnormal (integer bit clear): invalid operand */
		m &= ~(1ULL << 63);
		e = (uint16_t)(1 + rnd() % 0x7ffe);
		break;
	default: /* normal, near 1 or anywhere in range */
		e = (uint16_t)(r < 12 ? 0x3fff - 70 + rnd() % 140 : 1 + rnd() % 0x7ffe);
		m |= 1ULL << 63;
		break;
	}
	if (rnd() & 1)
		e |= 0x8000;
	memcpy(p, &m, 8);
	memcpy(p + 8, &e, 2);
}

/* a memory operand of @n bytes for @c: floats of the format's classes, integers, BCD */
static void rnd_mem(uint8_t *p, unsigned int n, uint8_t op)
{
	uint8_t f[10];
	uint64_t v = rnd();

	memset(p, 0, 16);
	if (n == 10 && op == 0xdf) { /* BCD: mostly valid digits */
		for (int i = 0; i < 9; i++)
			p[i] = (uint8_t)((rnd() % 10) << 4 | rnd() % 10);
		p[9] = (uint8_t)(rnd() & 1 ? 0x80 : 0);
		if (rnd() % 8 == 0)
			p[rnd() % 10] = (uint8_t)rnd();
		return;
	}
	if (n == 10) {
		rnd_f80(p);
		return;
	}
	if ((op == 0xd8 || op == 0xd9) && n == 4) {
		rnd_f80(f); /* an f32 of a similar class */
		uint64_t m;
		uint16_t e, se;
		uint32_t x;

		memcpy(&m, f, 8);
		memcpy(&se, f + 8, 2);
		e = se & 0x7fff;
		if (e == 0x7fff)
			x = 0x7f800000u | (uint32_t)(m >> 40 & 0x7fffff);
		else if (e == 0)
			x = (uint32_t)(m >> 41 & 0x7fffff);
		else
			x = ((uint32_t)(rnd() % 256) << 23) | (uint32_t)(m >> 40 & 0x7fffff);
		x |= (uint32_t)(se & 0x8000) << 16;
		memcpy(p, &x, 4);
		return;
	}
	if ((op == 0xdc || op == 0xdd) && n == 8) {
		uint64_t x = v;
		unsigned int k = (unsigned int)(rnd() % 8);

		if (k == 0)
			x &= 0x800fffffffffffffULL; /* zero/denormal */
		else if (k == 1)
			x |= 0x7ff0000000000000ULL; /* inf/NaN */
		else if (k < 5)
			x = (x & 0x800fffffffffffffULL) |
			    ((uint64_t)(1023 - 40 + rnd() % 80) << 52);
		memcpy(p, &x, 8);
		return;
	}
	/* integers: small ones too */
	if (rnd() & 1)
		v = (uint64_t)(int64_t)(int16_t)v;
	memcpy(p, &v, n);
}

static int x87_setup(char *why, size_t whylen)
{
	struct cabin_err *err = NULL;
	static const struct x86_segment flat_code = { .limit = 0xffffffff,
						      .selector = 8,
						      .type = 0xb,
						      .present = 1,
						      .db = 1,
						      .s = 1,
						      .g = 1 };
	static const struct x86_segment flat_data = { .limit = 0xffffffff,
						      .selector = 16,
						      .type = 0x3,
						      .present = 1,
						      .db = 1,
						      .s = 1,
						      .g = 1 };

	if (vm_mem_init(&xm.mem, 1 << 20, 0, &err) < 0) {
		snprintf(why, whylen, "cannot allocate guest memory");
		cabin_err_release(&err);
		return -1;
	}
	xram = vm_mem_ptr(&xm.mem, 0, 1 << 20);
	pthread_mutex_init(&xm.lock, NULL);
	xvm = emu_vm_new(&xm);
	xm.accel_priv = xvm;
	xm.nr_vcpus = 1;
	xm.vcpus[0] = &xvcpu;
	xvcpu.m = &xm;
	xc = emu_cpu_new(&xm, xvm, 0);
	xc->exit = &xex;
	xvcpu.accel = xc;
	xc->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_MP;
	xc->cr4 = CR4_OSFXSR | CR4_OSXMMEXCPT;
	for (int s = 0; s < 6; s++)
		xc->seg[s] = s == SEG_CS ? flat_code : flat_data;
	xc->cpl = 0;
	emu_update_mode(xc);
	host_code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (host_code == MAP_FAILED) {
		snprintf(why, whylen, "cannot map executable memory");
		return -1;
	}
	return 0;
}

/* bytes of one test program; the instruction starts at offset 5 */
static unsigned int x87_prog(uint8_t *b, const uint8_t *insn, unsigned int n, int host)
{
	unsigned int k = 0;

	b[k++] = 0x0f; /* fxrstor [edi] */
	b[k++] = 0xae;
	b[k++] = 0x0f;
	b[k++] = 0x52; /* push edx; popf */
	b[k++] = 0x9d;
	memcpy(b + k, insn, n);
	k += n;
	b[k++] = 0x9c; /* pushf; pop eax */
	b[k++] = 0x58;
	b[k++] = 0x0f; /* fxsave [edi] */
	b[k++] = 0xae;
	b[k++] = 0x07;
	if (host) {
		b[k++] = 0xdb; /* fninit: nothing pending is left on the host */
		b[k++] = 0xe3;
		b[k++] = 0xc3;
	} else {
		b[k++] = 0xf4;
	}
	return k;
}

static int run_x87(const struct x87case *t, long ncases, char *why, size_t whylen)
{
	static uint8_t hfx[512] __attribute__((aligned(16)));
	static uint8_t ffx[512] __attribute__((aligned(16)));
	uint8_t mem0[16], hmem[16], insn[2], prog[32];
	unsigned int n, memn = t->memn ? t->memn : 0;

	for (long k = 0; k < ncases; k++) {
		static const uint16_t pcs[4] = { 0, 2, 3, 3 };
		uint64_t fl = 0x202 | (rnd() & ARITH), hflags, eflags;
		uint16_t cw, sw, hsw, esw, mask;
		unsigned int i = (unsigned int)(rnd() % 8);
		uint8_t ftw8;
		uint32_t mx = 0x1f80;
		const uint8_t *e;

		insn[0] = t->op;
		insn[1] = (uint8_t)(t->modrm | (t->reg_i ? i : 0));
		/* random x87 state as an FXSAVE image; nothing pending (ES clear) */
		memset(ffx, 0, sizeof(ffx));
		cw = (uint16_t)(0x0040 | (rnd() % 4) << 10 | pcs[rnd() % 4] << 8 |
				(rnd() % 4 ? 0x3f : rnd() & 0x3f));
		sw = (uint16_t)((rnd() % 8) << 11 | (rnd() & 0x4700) | (rnd() & 0x3f & cw));
		ftw8 = (uint8_t)(rnd() % 4 ? 0xff : rnd() & 0xff);
		memcpy(ffx, &cw, 2);
		memcpy(ffx + 2, &sw, 2);
		ffx[4] = ftw8;
		memcpy(ffx + 24, &mx, 4);
		for (int r = 0; r < 8; r++)
			rnd_f80(ffx + 32 + 16 * r);
		memcpy(hfx, ffx, 512);
		rnd_mem(mem0, memn ? memn : 8, t->op);
		memcpy(hmem, mem0, 16);

		n = x87_prog(prog, insn, 2, 1);
		memcpy(host_code, prog, n);
		hflags = ((host_x87_fn)(void *)host_code)(hfx, hmem, fl);

		n = x87_prog(prog, insn, 2, 0);
		memcpy(xram + X_CODE, prog, n);
		emu_code_write(xvm, X_CODE, n);
		memcpy(xram + X_FX, ffx, 512);
		memcpy(xram + X_MEM, mem0, 16);
		xc->rip = X_CODE;
		xc->r[7] = X_FX;
		xc->r[6] = X_MEM;
		xc->r[2] = fl;
		xc->r[4] = X_STACK;
		xc->state = EMU_RUNNING;
		xc->exit_ready = 0;
		xc->budget = 16;
		while (xc->budget && xc->state == EMU_RUNNING && !xc->exit_ready)
			emu_exec(xc);
		if (xc->state != EMU_HALTED || xc->rip != X_CODE + n) {
			snprintf(why, whylen, "%02x %02x: the emulator stopped at %#llx (state %d)",
				 insn[0], insn[1], (unsigned long long)xc->rip, (int)xc->state);
			return -1;
		}
		eflags = xc->r[0];
		e = xram + X_FX;
		/* status word: TOP, exceptions, SF, ES, B, C1 and the form's defined codes */
		mask = (uint16_t)(0x3800 | 0x00ff | 0x8000 | 0x0200 | t->cc);
		memcpy(&hsw, hfx + 2, 2);
		memcpy(&esw, e + 2, 2);
		if ((hsw & mask) != (esw & mask) || memcmp(hfx, e, 2) || hfx[4] != e[4] ||
		    ((hflags ^ eflags) & ARITH) || (memn && memcmp(hmem, xram + X_MEM, memn))) {
			snprintf(
				why, whylen,
				"%02x %02x: cw %04x sw %04x tags %02x: host sw %04x tags %02x "
				"flags "
				"%#llx mem %02x%02x%02x%02x, emu sw %04x tags %02x flags %#llx mem "
				"%02x%02x%02x%02x",
				insn[0], insn[1], cw, sw, ftw8, hsw, hfx[4],
				(unsigned long long)(hflags & ARITH), hmem[3], hmem[2], hmem[1],
				hmem[0], esw, e[4], (unsigned long long)(eflags & ARITH),
				xram[X_MEM + 3], xram[X_MEM + 2], xram[X_MEM + 1], xram[X_MEM]);
			return -1;
		}
		for (int r = 0; r < 8; r++) {
			unsigned int p = (((hsw >> 11) & 7) + (unsigned int)r) & 7;

			if (!((hfx[4] >> p) & 1))
				continue; /* an empty register's contents are not compared */
			if (memcmp(hfx + 32 + 16 * r, e + 32 + 16 * r, 10)) {
				uint64_t hm, em, am;
				uint16_t he, ee, ae;

				memcpy(&hm, hfx + 32 + 16 * r, 8);
				memcpy(&he, hfx + 40 + 16 * r, 2);
				memcpy(&em, e + 32 + 16 * r, 8);
				memcpy(&ee, e + 40 + 16 * r, 2);
				memcpy(&am, ffx + 32, 8);
				memcpy(&ae, ffx + 40, 2);
				snprintf(why, whylen,
					 "%02x %02x: cw %04x sw %04x st0 %04x:%016llx: ST(%d) host "
					 "%04x:%016llx emu %04x:%016llx",
					 insn[0], insn[1], cw, sw, ae, (unsigned long long)am, r,
					 he, (unsigned long long)hm, ee, (unsigned long long)em);
				return -1;
			}
		}
	}
	return 0;
}

/*
 * Blocks of register instructions: the emulator decodes a straight run of code once,
 * skips the flag updates that later instructions overwrite (flag liveness) and runs
 * the rest threaded. Random sequences of the forms that take those paths, with flag
 * readers (ADC, SBB, SETcc) in between, must leave the registers and the defined
 * flags as the host CPU does. Registers: EAX ECX EDX EBX EBP ESI; EDI points at them.
 */
#define SEQ_CASES 3000
#define SEQ_LEN 40
#define F_ALL 0x8d5ULL /* CF PF AF ZF SF OF */

typedef uint64_t (*host_seq_fn)(uint32_t *regs);

static const uint8_t seq_regs[6] = { 0, 1, 2, 3, 5, 6 };

/* mov eax,[edi] .. mov esi,[edi+24]; push dword/qword [edi+32]; popf */
static unsigned int seq_load(uint8_t *b)
{
	unsigned int k = 0;

	for (int i = 0; i < 6; i++) {
		b[k++] = 0x8b;
		b[k++] = (uint8_t)(0x47 | seq_regs[i] << 3);
		b[k++] = (uint8_t)(seq_regs[i] * 4);
	}
	b[k++] = 0xff;
	b[k++] = 0x77;
	b[k++] = 32;
	b[k++] = 0x9d;
	return k;
}

/* pushf; pop [edi+32]; mov [edi+4*r], r */
static unsigned int seq_store(uint8_t *b)
{
	unsigned int k = 0;

	b[k++] = 0x9c;
	b[k++] = 0x8f;
	b[k++] = 0x47;
	b[k++] = 32;
	for (int i = 0; i < 6; i++) {
		b[k++] = 0x89;
		b[k++] = (uint8_t)(0x47 | seq_regs[i] << 3);
		b[k++] = (uint8_t)(seq_regs[i] * 4);
	}
	return k;
}

/* one random instruction; *def tracks which arithmetic flags are defined */
static unsigned int seq_insn(uint8_t *b, uint64_t *def)
{
	unsigned int k = 0, r = seq_regs[rnd() % 6], m = seq_regs[rnd() % 6], cnt;
	static const uint8_t alu[8] = { 0x01, 0x09, 0x11, 0x19, 0x21, 0x29, 0x31, 0x39 };
	unsigned int a = (unsigned int)(rnd() % 8);

	switch (rnd() % 12) {
	case 0: /* ALU r/m, r */
	case 1: /* ALU r, r/m */
		if ((a == 2 || a == 3) && !(*def & FL_CF))
			a = 0;
		b[k++] = (uint8_t)(alu[a] | (rnd() % 2 ? 2 : 0));
		b[k++] = (uint8_t)(0xc0 | r << 3 | m);
		*def = (a == 1 || a == 4 || a == 6) ? F_ALL & ~(uint64_t)FL_AF : F_ALL;
		break;
	case 2: /* ALU r, imm8 / imm32 */
		if ((a == 2 || a == 3) && !(*def & FL_CF))
			a = 5;
		b[k++] = rnd() % 2 ? 0x83 : 0x81;
		b[k++] = (uint8_t)(0xc0 | a << 3 | m);
		b[k++] = (uint8_t)rnd();
		if (b[0] == 0x81)
			for (int i = 0; i < 3; i++)
				b[k++] = (uint8_t)rnd();
		*def = (a == 1 || a == 4 || a == 6) ? F_ALL & ~(uint64_t)FL_AF : F_ALL;
		break;
	case 3: /* TEST r, r */
		b[k++] = 0x85;
		b[k++] = (uint8_t)(0xc0 | r << 3 | m);
		*def = F_ALL & ~(uint64_t)FL_AF;
		break;
	case 4: { /* shifts and rotates by imm8 */
		static const uint8_t ops[5] = { 0, 1, 4, 5, 7 };
		unsigned int op = ops[rnd() % 5];

		cnt = (unsigned int)(rnd() % 4 ? rnd() % 32 : 1);
		b[k++] = 0xc1;
		b[k++] = (uint8_t)(0xc0 | op << 3 | m);
		b[k++] = (uint8_t)cnt;
		if (cnt == 0)
			break;
		if (op <= 1)
			*def = (*def & ~(uint64_t)FL_OF) | FL_CF | (cnt == 1 ? FL_OF : 0);
		else
			*def = F_ALL & ~(uint64_t)FL_AF & ~(uint64_t)(cnt == 1 ? 0 : FL_OF);
		break;
	}
	case 5: /* IMUL r, r */
		b[k++] = 0x0f;
		b[k++] = 0xaf;
		b[k++] = (uint8_t)(0xc0 | r << 3 | m);
		*def = FL_CF | FL_OF;
		break;
	case 6: /* INC/DEC r */
		b[k++] = 0xff;
		b[k++] = (uint8_t)(0xc0 | (rnd() % 2) << 3 | m);
		*def |= F_ALL & ~(uint64_t)FL_CF;
		break;
	case 7: /* MOV r, r / MOV r, imm32 */
		if (rnd() % 2) {
			b[k++] = rnd() % 2 ? 0x89 : 0x8b;
			b[k++] = (uint8_t)(0xc0 | r << 3 | m);
		} else {
			b[k++] = (uint8_t)(0xb8 | m);
			for (int i = 0; i < 4; i++)
				b[k++] = (uint8_t)rnd();
		}
		break;
	case 8: /* LEA r, [m + disp8] */
		b[k++] = 0x8d;
		b[k++] = (uint8_t)(0x40 | r << 3 | m);
		b[k++] = (uint8_t)rnd();
		break;
	case 9: /* MOVZX r, r8 */
		b[k++] = 0x0f;
		b[k++] = 0xb6;
		b[k++] = (uint8_t)(0xc0 | r << 3 | (rnd() % 8));
		break;
	case 10: { /* SETcc r8 on a condition of defined flags */
		static const uint64_t reads[16] = {
			FL_OF,
			FL_OF,
			FL_CF,
			FL_CF,
			FL_ZF,
			FL_ZF,
			FL_CF | FL_ZF,
			FL_CF | FL_ZF,
			FL_SF,
			FL_SF,
			FL_PF,
			FL_PF,
			FL_SF | FL_OF,
			FL_SF | FL_OF,
			FL_ZF | FL_SF | FL_OF,
			FL_ZF | FL_SF | FL_OF,
		};
		unsigned int cc = (unsigned int)(rnd() % 16);

		if ((reads[cc] & *def) != reads[cc])
			break;
		b[k++] = 0x0f;
		b[k++] = (uint8_t)(0x90 | cc);
		b[k++] = (uint8_t)(0xc0 | (rnd() % 8));
		break;
	}
	default: /* a load from the register block: may fault, so flags are live before it */
		b[k++] = 0x8b;
		b[k++] = (uint8_t)(0x47 | m << 3);
		b[k++] = (uint8_t)(seq_regs[rnd() % 6] * 4);
		break;
	}
	return k;
}

static int run_seq(char *why, size_t whylen)
{
	static uint8_t hbuf[512], ebuf[512];
	uint32_t hregs[12], *eregs = (uint32_t *)(void *)(xram + X_MEM);
	uint8_t body[SEQ_LEN * 8];

	for (long t = 0; t < SEQ_CASES; t++) {
		unsigned int n = 0, k, e = 0;
		uint64_t def = F_ALL, hf, ef;

		for (int i = 0; i < SEQ_LEN; i++)
			n += seq_insn(body + n, &def);
		memset(hregs, 0, sizeof(hregs));
		for (int i = 0; i < 7; i++)
			hregs[i] = (uint32_t)operand(4);
		hregs[8] = (uint32_t)(0x202 | (rnd() & F_ALL));
		memcpy(eregs, hregs, sizeof(hregs));

		/* host: push rbx; push rbp; body; pop rbp; pop rbx; ret */
		k = 0;
		hbuf[k++] = 0x53;
		hbuf[k++] = 0x55;
		k += seq_load(hbuf + k);
		memcpy(hbuf + k, body, n);
		k += n;
		k += seq_store(hbuf + k);
		hbuf[k++] = 0x5d;
		hbuf[k++] = 0x5b;
		hbuf[k++] = 0xc3;
		memcpy(host_code, hbuf, k);
		((host_seq_fn)(void *)host_code)(hregs);

		e += seq_load(ebuf + e);
		memcpy(ebuf + e, body, n);
		e += n;
		e += seq_store(ebuf + e);
		ebuf[e++] = 0xf4;
		memcpy(xram + X_CODE, ebuf, e);
		emu_code_write(xvm, X_CODE, e);
		xc->rip = X_CODE;
		xc->r[7] = X_MEM;
		xc->r[4] = X_STACK;
		xc->state = EMU_RUNNING;
		xc->exit_ready = 0;
		xc->budget = 1000;
		while (xc->budget && xc->state == EMU_RUNNING && !xc->exit_ready)
			emu_exec(xc);
		if (xc->state != EMU_HALTED || xc->rip != X_CODE + e) {
			snprintf(why, whylen, "case %ld: the emulator stopped at %#llx (state %d)",
				 t, (unsigned long long)xc->rip, (int)xc->state);
			return -1;
		}
		hf = hregs[8] & def;
		ef = eregs[8] & def;
		if (memcmp(hregs, eregs, 7 * 4) || hf != ef) {
			int o = snprintf(why, whylen, "case %ld: flags %#llx/%#llx (mask %#llx)", t,
					 (unsigned long long)hf, (unsigned long long)ef,
					 (unsigned long long)def);

			for (int i = 0; i < 7 && o > 0 && (size_t)o < whylen; i++)
				o += snprintf(why + o, whylen - (size_t)o, " r%d %08x/%08x", i,
					      hregs[i], eregs[i]);
			for (unsigned int i = 0; i < n && o > 0 && (size_t)o < whylen; i++)
				o += snprintf(why + o, whylen - (size_t)o, "%s%02x",
					      i ? "" : " code ", body[i]);
			return -1;
		}
	}
	return 0;
}

int main(void)
{
	unsigned int n = sizeof(cases) / sizeof(cases[0]);
	struct timespec t0, t1;

	unsigned int nx = sizeof(x87cases) / sizeof(x87cases[0]);
	char xwhy[512] = "";
	int xok;

	tap_plan((int)(n + nx + 1));
	xok = x87_setup(xwhy, sizeof(xwhy)) == 0;
	{
		char why[1024] = "";
		int r = xok ? run_seq(why, sizeof(why)) : -1;

		tap_ok(r == 0,
		       "blocks of register instructions (flag liveness, threaded dispatch): %d "
		       "random sequences match the host CPU%s%s",
		       SEQ_CASES, r ? ": " : "", xok ? why : xwhy);
	}
	for (unsigned int i = 0; i < nx; i++) {
		char why[512] = "";
		int r = xok ? run_x87(&x87cases[i], X87_CASES, why, sizeof(why)) : -1;

		tap_ok(r == 0, "x87 %s: %d random cases match the host CPU%s%s", x87cases[i].name,
		       X87_CASES, r ? ": " : "", xok ? why : xwhy);
	}
	for (unsigned int i = 0; i < n; i++) {
		char why[512] = "";
		int r;
		double s;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = run_case(&cases[i], CASES, why, sizeof(why));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		tap_ok(r == 0, "%s: %d random cases match the host CPU (%.2f s)%s%s", cases[i].name,
		       CASES, s, r ? ": " : "", why);
	}
	return tap_done();
}
