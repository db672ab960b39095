/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-emu-flags: the emulator's integer ALU (the functions its interpreter
 * executes ADD..IDIV with) against the host CPU running the same instruction
 * through inline assembly. Every instruction and operand size gets at least
 * CASES random operand pairs (edge values mixed in); results and every flag the
 * SDM defines for that instruction and count must match. Undefined flags (AF
 * after logic ops, OF after multi-bit shifts, SF/ZF/AF/PF after MUL, ...) are
 * masked.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "emu/emu.h"
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

int main(void)
{
	unsigned int n = sizeof(cases) / sizeof(cases[0]);
	struct timespec t0, t1;

	tap_plan((int)n);
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
