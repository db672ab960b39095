/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integer arithmetic and RFLAGS for the interpreter. ADD/SUB/logic/INC/DEC
 * record their operands and result (lazy flags); rarer operations (shifts,
 * rotates, multiply, divide, bit tests) compute their flags at once.
 * Undefined flags are left as the code below computes them; the flags test
 * masks them.
 */
#include "emu/alu-inl.h"

static inline int sign_bit(uint64_t v, int size)
{
	return (int)((v >> (size * 8 - 1)) & 1);
}

static inline uint64_t sext(uint64_t v, int size)
{
	int sh = 64 - size * 8;

	return (uint64_t)((int64_t)(v << sh) >> sh);
}

static inline uint64_t szp(uint64_t res, int size)
{
	uint64_t f = 0;

	res &= emu_size_mask(size);
	if (res == 0)
		f |= FL_ZF;
	if (sign_bit(res, size))
		f |= FL_SF;
	if (!__builtin_parity((unsigned int)(res & 0xff)))
		f |= FL_PF;
	return f;
}

static uint64_t cc_eval(uint32_t op, int size, uint64_t res, uint64_t a, uint64_t b, uint64_t flags)
{
	uint64_t mask, f;
	int sb;

	if (op == CC_EFLAGS || op == CC_ROT)
		return flags & FL_ARITH; /* (size is not set for these) */
	mask = emu_size_mask(size);
	a &= mask;
	b &= mask;
	f = szp(res, size);
	sb = size * 8 - 1;

	switch ((enum emu_cc_op)op) {
	case CC_EFLAGS:
	case CC_ROT:
		return flags & FL_ARITH;
	case CC_ADD:
	case CC_ADC:
		if (op == CC_ADD ? res < a : res <= a)
			f |= FL_CF;
		if ((((a ^ res) & (b ^ res)) >> sb) & 1)
			f |= FL_OF;
		f |= (a ^ b ^ res) & FL_AF;
		break;
	case CC_SUB:
	case CC_SBB:
		if (op == CC_SUB ? a < b : a <= b)
			f |= FL_CF;
		if ((((a ^ b) & (a ^ res)) >> sb) & 1)
			f |= FL_OF;
		f |= (a ^ b ^ res) & FL_AF;
		break;
	case CC_LOGIC:
		break;
	case CC_INC:
		if (b)
			f |= FL_CF;
		if (res == 1ULL << sb)
			f |= FL_OF;
		if ((res & 0xf) == 0)
			f |= FL_AF;
		break;
	case CC_DEC:
		if (b)
			f |= FL_CF;
		if (a == 1ULL << sb)
			f |= FL_OF;
		if ((res & 0xf) == 0xf)
			f |= FL_AF;
		break;
	case CC_SHL: {
		uint64_t cf = (a >> (size * 8 - (int)b)) & 1;

		f |= cf ? FL_CF : 0;
		if (((res >> sb) & 1) ^ cf)
			f |= FL_OF;
		break;
	}
	case CC_SHR:
		f |= ((a >> (b - 1)) & 1) ? FL_CF : 0;
		if ((a >> sb) & 1)
			f |= FL_OF;
		break;
	case CC_SAR:
		f |= (((uint64_t)((int64_t)sext(a, size) >> (b - 1))) & 1) ? FL_CF : 0;
		break;
	case CC_MUL:
		if (b)
			f |= FL_CF | FL_OF;
		break;
	}
	return f;
}

uint64_t emu_cc_compute(const struct emu_cpu *c)
{
	if (c->cc_op == CC_ROT)
		return (cc_eval(c->cc2_op, (int)c->cc2_size, c->cc2_res, c->cc2_a, c->cc2_b,
				c->flags) &
			~(uint64_t)(FL_CF | FL_OF)) |
		       c->cc_b;
	return cc_eval(c->cc_op, (int)c->cc_size, c->cc_res, c->cc_a, c->cc_b, c->flags);
}

uint64_t emu_flags_get(struct emu_cpu *c)
{
	if (c->cc_op != CC_EFLAGS) {
		c->flags = (c->flags & ~(uint64_t)FL_ARITH) | emu_cc_compute(c);
		c->cc_op = CC_EFLAGS;
	}
	return c->flags;
}

void emu_flags_set(struct emu_cpu *c, uint64_t fl)
{
	c->flags = fl | 2;
	c->cc_op = CC_EFLAGS;
}

void emu_flags_arith(struct emu_cpu *c, uint64_t arith)
{
	uint64_t fl = emu_flags_get(c);

	c->flags = (fl & ~(uint64_t)FL_ARITH) | (arith & FL_ARITH);
}

int emu_cond(struct emu_cpu *c, unsigned int cc)
{
	uint64_t f;
	int r;

	/* fast paths for the common compare/test + jcc pairs */
	if (c->cc_op == CC_SUB) {
		uint64_t mask = emu_size_mask((int)c->cc_size);
		uint64_t a = c->cc_a & mask, b = c->cc_b & mask;
		int64_t sa = (int64_t)sext(a, (int)c->cc_size),
			sb = (int64_t)sext(b, (int)c->cc_size);

		switch (cc >> 1) {
		case 1:
			r = a < b;
			goto out;
		case 2:
			r = a == b;
			goto out;
		case 3:
			r = a <= b;
			goto out;
		case 6:
			r = sa < sb;
			goto out;
		case 7:
			r = sa <= sb;
			goto out;
		default:
			break;
		}
	} else if (c->cc_op == CC_LOGIC) {
		uint64_t res = c->cc_res;
		int s = sign_bit(res, (int)c->cc_size);

		switch (cc >> 1) {
		case 0:
			r = 0;
			goto out;
		case 1:
			r = 0;
			goto out;
		case 2:
			r = res == 0;
			goto out;
		case 3:
			r = res == 0;
			goto out;
		case 4:
			r = s;
			goto out;
		case 6:
			r = s;
			goto out;
		case 7:
			r = s || res == 0;
			goto out;
		default:
			break;
		}
	}
	f = c->cc_op == CC_EFLAGS ? c->flags : emu_cc_compute(c);
	switch (cc >> 1) {
	case 0:
		r = !!(f & FL_OF);
		break;
	case 1:
		r = !!(f & FL_CF);
		break;
	case 2:
		r = !!(f & FL_ZF);
		break;
	case 3:
		r = !!(f & (FL_CF | FL_ZF));
		break;
	case 4:
		r = !!(f & FL_SF);
		break;
	case 5:
		r = !!(f & FL_PF);
		break;
	case 6:
		r = !!(f & FL_SF) != !!(f & FL_OF);
		break;
	default:
		r = (f & FL_ZF) || (!!(f & FL_SF) != !!(f & FL_OF));
		break;
	}
out:
	return r ^ (int)(cc & 1);
}

uint64_t emu_alu(struct emu_cpu *c, int op, int size, uint64_t a, uint64_t b)
{
	return alu_inl(c, op, size, a, b);
}

uint64_t emu_incdec(struct emu_cpu *c, int dec, int size, uint64_t a)
{
	uint64_t mask = emu_size_mask(size);
	int cf = get_cf(c);
	uint64_t res;

	a &= mask;
	res = (dec ? a - 1 : a + 1) & mask;
	lazy(c, dec ? CC_DEC : CC_INC, size, a, (uint64_t)cf, res);
	return res;
}

uint64_t emu_neg(struct emu_cpu *c, int size, uint64_t a)
{
	uint64_t mask = emu_size_mask(size);
	uint64_t res = (0 - a) & mask;

	lazy(c, CC_SUB, size, 0, a & mask, res);
	return res;
}

uint64_t emu_shift(struct emu_cpu *c, int op, int size, uint64_t a, unsigned int count)
{
	unsigned int bits = (unsigned int)size * 8;
	uint64_t mask = emu_size_mask(size);
	uint64_t fl, res = 0, cf = 0, of = 0;
	unsigned int n;

	count &= size == 8 ? 63 : 31;
	a &= mask;
	if (count == 0)
		return a;
	if (op >= SH_SHL && count < bits)
		return shift_lazy(c, op, size, a, count);
	/* SHL/SHR/SAR set every arithmetic flag: no need to compute the old ones */
	fl = op >= SH_SHL || op <= SH_ROR ? c->flags : emu_flags_get(c);
	switch (op) {
	case SH_ROL:
	case SH_ROR:
		return rot_inl(c, op == SH_ROR, size, a, count);
	case SH_RCL:
		n = size <= 2 ? count % (bits + 1) : count;
		cf = fl & FL_CF;
		res = a;
		for (unsigned int i = 0; i < n; i++) {
			uint64_t ncf = (uint64_t)sign_bit(res, size);

			res = ((res << 1) | cf) & mask;
			cf = ncf;
		}
		of = (uint64_t)sign_bit(res, size) ^ cf;
		c->flags = (fl & ~(uint64_t)(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
		return res;
	case SH_RCR:
		n = size <= 2 ? count % (bits + 1) : count;
		cf = fl & FL_CF;
		of = (uint64_t)sign_bit(a, size) ^ cf;
		res = a;
		for (unsigned int i = 0; i < n; i++) {
			uint64_t ncf = res & 1;

			res = (res >> 1) | (cf << (bits - 1));
			cf = ncf;
		}
		c->flags = (fl & ~(uint64_t)(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
		return res;
	case SH_SHL:
	case SH_SAL:
		res = count >= bits ? 0 : (a << count) & mask;
		cf = count <= bits ? (a >> (bits - count)) & 1 : 0;
		of = (uint64_t)sign_bit(res, size) ^ cf;
		break;
	case SH_SHR:
		res = count >= bits ? 0 : a >> count;
		cf = count <= bits ? (a >> (count - 1)) & 1 : 0;
		of = (uint64_t)sign_bit(a, size);
		break;
	default: {
		int64_t s = (int64_t)sext(a, size);

		res = (uint64_t)(s >> (count >= bits ? bits - 1 : count)) & mask;
		cf = (uint64_t)(s >> (count - 1 > 63 ? 63 : count - 1)) & 1;
		of = 0;
		break;
	}
	}
	c->flags =
		(fl & ~(uint64_t)FL_ARITH) | szp(res, size) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
	c->cc_op = CC_EFLAGS;
	return res;
}

uint64_t emu_shxd(struct emu_cpu *c, int right, int size, uint64_t dst, uint64_t src,
		  unsigned int count)
{
	unsigned int bits = (unsigned int)size * 8;
	uint64_t mask = emu_size_mask(size);
	uint64_t fl, res, cf;

	count &= size == 8 ? 63 : 31;
	dst &= mask;
	src &= mask;
	if (count == 0)
		return dst;
	fl = emu_flags_get(c);
	if (size == 2) {
		/* 16-bit counts above 16 are undefined; shift the 48-bit dst:src:dst like Intel */
		uint64_t v = right ? (dst | src << 16 | dst << 32) : (dst << 32 | src << 16 | dst);

		if (right) {
			res = (v >> count) & mask;
			cf = (v >> (count - 1)) & 1;
		} else {
			res = (v >> (32 - count)) & mask;
			cf = (v >> (48 - count)) & 1;
		}
	} else if (right) {
		res = ((dst >> count) | (src << (bits - count))) & mask;
		cf = (dst >> (count - 1)) & 1;
	} else {
		res = ((dst << count) | (src >> (bits - count))) & mask;
		cf = (dst >> (bits - count)) & 1;
	}
	c->flags = (fl & ~(uint64_t)FL_ARITH) | szp(res, size) | (cf ? FL_CF : 0) |
		   ((uint64_t)(sign_bit(res, size) ^ sign_bit(dst, size)) ? FL_OF : 0);
	return res;
}

void emu_mul(struct emu_cpu *c, int is_signed, int size, uint64_t a, uint64_t b, uint64_t *lo,
	     uint64_t *hi)
{
	uint64_t mask = emu_size_mask(size), l, h, fl;
	int ovf;

	if (is_signed) {
		__int128 p = (__int128)(int64_t)sext(a, size) * (int64_t)sext(b, size);

		l = (uint64_t)p & mask;
		h = size == 8 ? (uint64_t)(p >> 64) : ((uint64_t)(p >> (size * 8))) & mask;
		ovf = p != (__int128)(int64_t)sext(l, size);
	} else {
		unsigned __int128 p = (unsigned __int128)(a & mask) * (b & mask);

		l = (uint64_t)p & mask;
		h = size == 8 ? (uint64_t)(p >> 64) : ((uint64_t)(p >> (size * 8))) & mask;
		ovf = h != 0;
	}
	*lo = l;
	*hi = h;
	/* every arithmetic flag is rewritten: CF = OF = overflow, SF/ZF/PF from the low half */
	c->cc_op = CC_MUL;
	c->cc_size = (uint32_t)size;
	c->cc_res = l;
	c->cc_a = 0;
	c->cc_b = (uint64_t)ovf;
	(void)fl;
}

uint64_t emu_imul2(struct emu_cpu *c, int size, uint64_t a, uint64_t b)
{
	uint64_t lo, hi;

	if (size >= 4)
		return imul_lazy(c, size, a, b);
	emu_mul(c, 1, size, a, b, &lo, &hi);
	return lo;
}

int emu_div(struct emu_cpu *c, int is_signed, int size, uint64_t hi, uint64_t lo, uint64_t d,
	    uint64_t *q, uint64_t *r)
{
	uint64_t mask = emu_size_mask(size);
	int bits = size * 8;

	d &= mask;
	if (d == 0)
		return -1;
	if (!is_signed) {
		unsigned __int128 n = ((unsigned __int128)(hi & mask) << bits) | (lo & mask);
		unsigned __int128 qq = n / d;

		if (qq > mask)
			return -1;
		*q = (uint64_t)qq;
		*r = (uint64_t)(n % d);
	} else {
		__int128 n, qq, rr, sd = (int64_t)sext(d, size);

		if (size == 8) {
			n = (__int128)(((unsigned __int128)hi << 64) | lo);
			if (sd == -1 && hi == 0x8000000000000000ULL && lo == 0)
				return -1;
		} else {
			n = (__int128)(int64_t)sext(((hi & mask) << bits) | (lo & mask), size * 2);
		}
		qq = n / sd;
		rr = n % sd;
		if (qq > (__int128)(int64_t)(mask >> 1) || qq < -(__int128)(int64_t)(mask >> 1) - 1)
			return -1;
		*q = (uint64_t)qq & mask;
		*r = (uint64_t)rr & mask;
	}
	return 0;
}

uint64_t emu_bt(struct emu_cpu *c, int op, int size, uint64_t a, uint64_t bit)
{
	uint64_t fl = emu_flags_get(c);
	uint64_t m = 1ULL << (bit & (uint64_t)(size * 8 - 1));

	c->flags = (fl & ~(uint64_t)FL_CF) | ((a & m) ? FL_CF : 0);
	switch (op) {
	case 1:
		return a | m;
	case 2:
		return a & ~m;
	case 3:
		return a ^ m;
	default:
		return a;
	}
}

int emu_bsf(struct emu_cpu *c, int rev, int size, uint64_t a, uint64_t *out)
{
	uint64_t fl = emu_flags_get(c);

	a &= emu_size_mask(size);
	if (a == 0) {
		c->flags = fl | FL_ZF;
		return 0;
	}
	c->flags = fl & ~(uint64_t)FL_ZF;
	*out = rev ? (uint64_t)(63 - __builtin_clzll(a)) : (uint64_t)__builtin_ctzll(a);
	return 1;
}
