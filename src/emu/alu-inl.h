/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_EMU_ALU_INL_H
#define CABIN_EMU_ALU_INL_H

/*
 * The lazy-flags ALU (ADD OR ADC SBB AND SUB XOR CMP), inlined into the
 * interpreter; alu.c exports the same code as emu_alu() for the flags test.
 */
#include "emu/emu.h"

/* compute CF..OF from the lazy state */
uint64_t emu_cc_compute(const struct emu_cpu *c);

static inline int get_cf(struct emu_cpu *c)
{
	uint64_t mask;

	switch ((enum emu_cc_op)c->cc_op) {
	case CC_EFLAGS:
		return c->flags & FL_CF;
	case CC_SUB:
		mask = emu_size_mask((int)c->cc_size);
		return (c->cc_a & mask) < (c->cc_b & mask);
	case CC_LOGIC:
		return 0;
	case CC_ADD:
	case CC_ADC:
	case CC_SBB:
	case CC_INC:
	case CC_DEC:
	case CC_SHL:
	case CC_SHR:
	case CC_SAR:
	case CC_MUL:
	case CC_ROT:
		break;
	}
	return (emu_cc_compute(c) & FL_CF) != 0;
}

static inline void lazy(struct emu_cpu *c, int op, int size, uint64_t a, uint64_t b, uint64_t res)
{
	c->cc_op = (uint32_t)op;
	c->cc_size = (uint32_t)size;
	c->cc_a = a;
	c->cc_b = b;
	c->cc_res = res;
}

/* logic results need only the result for their flags (CF = OF = AF = 0) */
static inline void lazy_logic(struct emu_cpu *c, int size, uint64_t res)
{
	c->cc_op = CC_LOGIC;
	c->cc_size = (uint32_t)size;
	c->cc_res = res;
}

static inline __attribute__((always_inline)) uint64_t alu_inl(struct emu_cpu *c, int op, int size,
							      uint64_t a, uint64_t b)
{
	uint64_t mask = emu_size_mask(size), res;
	int cf;

	a &= mask;
	b &= mask;
	switch (op) {
	case ALU_ADD:
		res = (a + b) & mask;
		lazy(c, CC_ADD, size, a, b, res);
		return res;
	case ALU_OR:
		res = a | b;
		lazy_logic(c, size, res);
		return res;
	case ALU_ADC:
		cf = get_cf(c);
		res = (a + b + (uint64_t)cf) & mask;
		lazy(c, cf ? CC_ADC : CC_ADD, size, a, b, res);
		return res;
	case ALU_SBB:
		cf = get_cf(c);
		res = (a - b - (uint64_t)cf) & mask;
		lazy(c, cf ? CC_SBB : CC_SUB, size, a, b, res);
		return res;
	case ALU_AND:
		res = a & b;
		lazy_logic(c, size, res);
		return res;
	case ALU_SUB:
		res = (a - b) & mask;
		lazy(c, CC_SUB, size, a, b, res);
		return res;
	case ALU_XOR:
		res = a ^ b;
		lazy_logic(c, size, res);
		return res;
	default:
		res = (a - b) & mask;
		lazy(c, CC_SUB, size, a, b, res);
		return a;
	}
}

/* SHL/SAL/SHR/SAR by 0 < @count < width bits, flags left lazy */
static inline __attribute__((always_inline)) uint64_t
shift_lazy(struct emu_cpu *c, int op, int size, uint64_t a, unsigned int count)
{
	uint64_t mask = emu_size_mask(size), res;
	int sh = 64 - size * 8;

	switch (op) {
	case SH_SHR:
		res = a >> count;
		lazy(c, CC_SHR, size, a, count, res);
		return res;
	case SH_SAR:
		res = ((uint64_t)((int64_t)(a << sh) >> sh >> count)) & mask;
		lazy(c, CC_SAR, size, a, count, res);
		return res;
	default:
		res = (a << count) & mask;
		lazy(c, CC_SHL, size, a, count, res);
		return res;
	}
}

/* IMUL r, r/m (truncating): 32/64-bit fast path with lazy flags */
static inline __attribute__((always_inline)) uint64_t imul_lazy(struct emu_cpu *c, int size,
								uint64_t a, uint64_t b)
{
	uint64_t res;
	int ovf;

	if (size == 8) {
		int64_t r;

		ovf = __builtin_mul_overflow((int64_t)a, (int64_t)b, &r);
		res = (uint64_t)r;
	} else {
		int32_t r;

		ovf = __builtin_mul_overflow((int32_t)a, (int32_t)b, &r);
		res = (uint32_t)r;
	}
	c->cc_op = CC_MUL;
	c->cc_size = (uint32_t)size;
	c->cc_res = res;
	c->cc_b = (uint64_t)ovf;
	return res;
}

/* Jcc/SETcc/CMOVcc condition: the compare-and-branch cases inline, the rest in emu_cond() */
static inline __attribute__((always_inline)) int cond_inl(struct emu_cpu *c, unsigned int cc)
{
	if (c->cc_op == CC_SUB) {
		uint64_t m = emu_size_mask((int)c->cc_size), a = c->cc_a & m, b = c->cc_b & m;
		int sh = 64 - (int)c->cc_size * 8;

		switch (cc >> 1) {
		case 1: /* B / AE */
			return (a < b) ^ (int)(cc & 1);
		case 2: /* E / NE */
			return (a == b) ^ (int)(cc & 1);
		case 3: /* BE / A */
			return (a <= b) ^ (int)(cc & 1);
		case 6: /* L / GE */
			return ((int64_t)(a << sh) < (int64_t)(b << sh)) ^ (int)(cc & 1);
		case 7: /* LE / G */
			return ((int64_t)(a << sh) <= (int64_t)(b << sh)) ^ (int)(cc & 1);
		default:
			break;
		}
	}
	if (c->cc_op == CC_LOGIC && (cc >> 1) == 2)
		return (c->cc_res == 0) ^ (int)(cc & 1);
	return emu_cond(c, cc);
}

/* ROL/ROR change only CF and OF: keep the flags before them lazy too */
static inline void rot_lazy(struct emu_cpu *c, uint64_t cfof)
{
	if (c->cc_op == CC_ROT)
		emu_flags_get(c);
	c->cc2_op = c->cc_op;
	c->cc2_size = c->cc_size;
	c->cc2_a = c->cc_a;
	c->cc2_b = c->cc_b;
	c->cc2_res = c->cc_res;
	c->cc_op = CC_ROT;
	c->cc_b = cfof;
}

/* ROL (@right = 0) or ROR of @a (masked to @size) by a masked, non-zero @count */
static inline __attribute__((always_inline)) uint64_t
rot_inl(struct emu_cpu *c, int right, int size, uint64_t a, unsigned int count)
{
	unsigned int bits = (unsigned int)size * 8, n = count % bits;
	uint64_t mask = emu_size_mask(size), res, cf, of;

	if (!right) {
		res = n ? ((a << n) | (a >> (bits - n))) & mask : a;
		cf = res & 1;
		of = ((res >> (bits - 1)) & 1) ^ cf;
	} else {
		res = n ? ((a >> n) | (a << (bits - n))) & mask : a;
		cf = (res >> (bits - 1)) & 1;
		of = cf ^ ((res >> (bits - 2)) & 1);
	}
	rot_lazy(c, (cf ? FL_CF : 0) | (of ? FL_OF : 0));
	return res;
}

#endif
