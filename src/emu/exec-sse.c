/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * MMX, SSE, SSE2, SSE3, SSSE3, SSE4.1 and SSE4.2 instructions, POPCNT, CRC32
 * and MOVBE. Forms are selected by map, opcode and mandatory prefix (none,
 * 66, F3, F2; F2/F3 take precedence over 66). MMX forms work on the
 * significands of the x87 registers and switch the x87 unit to MMX state
 * (TOP = 0, every tag valid). Legacy-SSE 128-bit memory operands must be
 * 16-byte aligned (#GP(0)) except for the unaligned forms (MOVUPS/MOVUPD/
 * MOVDQU/LDDQU and the SSE4.2 string compares). Floating point results are
 * computed with every exception masked and committed only when the flags
 * raised are all masked in the guest's MXCSR; otherwise the flags are
 * recorded and #XM (or #UD with CR4.OSXMMEXCPT clear) is raised with the
 * destination unchanged.
 */
#include <string.h>

#include "emu/exec-inl.h"
#include "emu/optab.h"
#include "emu/sse.h"
#include "emu/ssefp.h"

enum { P_NONE, P_66, P_F3, P_F2 };

typedef union emu_xmm xmm_t;

/* where the SSE state lives in struct emu_cpu */
#define XMM(c) ((c)->xmm)
#define MXCSR(c) ((c)->mxcsr)

static inline unsigned int pfx_of(const struct emu_insn *in)
{
	if (in->rep == 0xf3)
		return P_F3;
	if (in->rep == 0xf2)
		return P_F2;
	return in->opsz_pfx ? P_66 : P_NONE;
}

__attribute__((noreturn)) static void ud(struct emu_cpu *c)
{
	emu_raise(c, EXC_UD, 0, 0);
}

/* ---- state checks ---- */

/*
 * MMX: the checks (#UD with CR0.EM, #NM with CR0.TS, #MF for a pending x87
 * exception) come before the operands are read; the switch to MMX state
 * (TOP = 0, every register valid) only once nothing can fault any more.
 */
static void mmx_check(struct emu_cpu *c)
{
	if (c->cr0 & CR0_EM)
		ud(c);
	if (c->cr0 & CR0_TS)
		emu_raise(c, EXC_NM, 0, 0);
	emu_fpu_pending(c);
}

static void mmx_state(struct emu_cpu *c)
{
	c->fpu_sw &= (uint16_t)~0x3800u;
	c->fpu_tag = 0;
}

static inline uint64_t mm_get(const struct emu_cpu *c, unsigned int i)
{
	return c->fpr[i & 7].mant;
}

static inline void mm_set(struct emu_cpu *c, unsigned int i, uint64_t v)
{
	c->fpr[i & 7].mant = v;
	c->fpr[i & 7].sexp = 0xffff;
}

/* ---- memory operands ---- */

static uint64_t mem_lin(struct emu_cpu *c, const struct emu_insn *in, unsigned int n, int acc,
			int align)
{
	uint64_t lin = rm_lin(c, in, (int)n, acc);

	if (align && (lin & 15))
		emu_raise(c, EXC_GP, 1, 0);
	return lin;
}

static void lin_read_n(struct emu_cpu *c, uint64_t lin, void *dst, unsigned int n)
{
	const struct emu_tlb_entry *e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
	uint32_t need = is_user(c) ? TLB_R_USR : TLB_R_SUP | emu_tlb_need_smap(c);

	if (LIKELY(e->vpage == (lin & ~0xfffULL) && (e->perm & need) == need && e->host &&
		   (lin & 0xfff) <= 4096u - n)) {
		memcpy(dst, e->host + (lin & 0xfff), n);
		return;
	}
	emu_lin_read(c, lin, dst, n, ACC_READ, is_user(c));
}

static void lin_write_n(struct emu_cpu *c, uint64_t lin, const void *src, unsigned int n)
{
	uint8_t *p = lin_wptr(c, lin, (int)n);

	if (LIKELY(p != NULL))
		memcpy(p, src, n);
	else
		emu_lin_write(c, lin, src, n, is_user(c));
}

/* read @n bytes of the memory operand into *@t, the rest of *@t zero */
static void mem_read(struct emu_cpu *c, const struct emu_insn *in, xmm_t *t, unsigned int n,
		     int align)
{
	uint64_t lin = mem_lin(c, in, n, ACC_READ, align);

	memset(t, 0, sizeof(*t));
	lin_read_n(c, lin, t, n);
}

static void mem_write(struct emu_cpu *c, const struct emu_insn *in, const void *src, unsigned int n,
		      int align)
{
	lin_write_n(c, mem_lin(c, in, n, ACC_WRITE, align), src, n);
}

/* XMM source (r/m): the register, or @n bytes of memory in *@t */
static const xmm_t *xsrc(struct emu_cpu *c, const struct emu_insn *in, xmm_t *t, unsigned int n,
			 int align)
{
	if (in->mod == 3) {
		*t = XMM(c)[in->rm];
		return t;
	}
	mem_read(c, in, t, n, align);
	return t;
}

/* MMX source (r/m): mm register or @n bytes of memory, in t->q[0] */
static const xmm_t *msrc(struct emu_cpu *c, const struct emu_insn *in, xmm_t *t, unsigned int n)
{
	if (in->mod == 3) {
		memset(t, 0, sizeof(*t));
		t->q[0] = mm_get(c, in->rm);
		return t;
	}
	mem_read(c, in, t, n, 0);
	return t;
}

/* general-purpose r/m of 4 or 8 bytes (or 1/2 for the byte/word inserts) */
static uint64_t gpr_rm_read(struct emu_cpu *c, const struct emu_insn *in, int size)
{
	if (in->mod == 3)
		return c->r[in->rm] & emu_size_mask(size);
	return lin_read(c, mem_lin(c, in, (unsigned int)size, ACC_READ, 0), size);
}

static void gpr_rm_write(struct emu_cpu *c, const struct emu_insn *in, int size, uint64_t v)
{
	if (in->mod == 3)
		c->r[in->rm] = size == 8 ? v : v & emu_size_mask(size); /* zero-extended */
	else
		lin_write(c, mem_lin(c, in, (unsigned int)size, ACC_WRITE, 0), size, v);
}

/* ---- floating point ---- */

/*
 * Record the flags an operation raised and raise #XM/#UD when one of them is
 * unmasked. An unmasked pre-computation exception (invalid, denormal, divide
 * by zero) means the post-computation ones are not reported.
 */
static void fp_done(struct emu_cpu *c, uint32_t fl)
{
	uint32_t unmasked = ~(MXCSR(c) >> MXCSR_MASK_SHIFT) & MXCSR_FLAGS;
	const uint32_t pre = MXCSR_IE | MXCSR_DE | MXCSR_ZE;

	if (fl & SSEFP_FAULT)
		fl &= MXCSR_FLAGS; /* the processor's own flags at the fault */
	else if (fl & unmasked & pre)
		fl &= pre;
	MXCSR(c) |= fl;
	if (fl & unmasked) {
		if (c->cr4 & CR4_OSXMMEXCPT)
			emu_raise(c, EXC_XM, 0, 0);
		ud(c);
	}
}

static const enum ssefp_fmt fmt_of[4] = { SSEFP_PS, SSEFP_PD, SSEFP_SS, SSEFP_SD };
static const unsigned int fp_msize[4] = { 16, 16, 4, 8 };

/* xmm[reg] = op(xmm[reg], xmm/m) in the format the prefix selects */
static void fp_arith(struct emu_cpu *c, const struct emu_insn *in, enum ssefp_op op,
		     unsigned int pfx, uint8_t imm)
{
	xmm_t t, r;
	const xmm_t *s;
	uint32_t fl;

	sse_check(c);
	s = xsrc(c, in, &t, fp_msize[pfx], pfx < P_F3);
	r = XMM(c)[in->reg];
	fl = emu_ssefp_arith(op, fmt_of[pfx], &r, s, imm, MXCSR(c));
	fp_done(c, fl);
	XMM(c)[in->reg] = r;
}

/* xmm[reg] = conversion of xmm/m (@n bytes of memory; @align for 16) */
static void fp_conv(struct emu_cpu *c, const struct emu_insn *in, enum ssefp_op op,
		    enum ssefp_fmt fmt, unsigned int n)
{
	xmm_t t, r;
	const xmm_t *s;
	uint32_t fl;

	sse_check(c);
	s = xsrc(c, in, &t, n, n == 16);
	r = XMM(c)[in->reg];
	fl = emu_ssefp_arith(op, fmt, &r, s, 0, MXCSR(c));
	fp_done(c, fl);
	XMM(c)[in->reg] = r;
}

/* ---- packed integer lane operations: r = op(a, b) over @n bytes (8: MMX, 16: XMM) ---- */

typedef void (*iop_fn)(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n);

#define LANES(name, F, T, expr)                                                                    \
	static void name(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)                 \
	{                                                                                          \
		for (unsigned int i = 0; i < n / sizeof(a->F[0]); i++) {                           \
			T x = (T)a->F[i], y = (T)b->F[i];                                          \
			(void)x;                                                                   \
			r->F[i] = (__typeof__(r->F[0]))(expr);                                     \
		}                                                                                  \
	}

static inline int64_t sat(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

LANES(op_paddb, b, uint8_t, x + y)
LANES(op_paddw, w, uint16_t, x + y)
LANES(op_paddd, l, uint32_t, x + y)
LANES(op_paddq, q, uint64_t, x + y)
LANES(op_psubb, b, uint8_t, x - y)
LANES(op_psubw, w, uint16_t, x - y)
LANES(op_psubd, l, uint32_t, x - y)
LANES(op_psubq, q, uint64_t, x - y)
LANES(op_paddsb, b, int8_t, sat(x + y, -128, 127))
LANES(op_paddsw, w, int16_t, sat(x + y, -32768, 32767))
LANES(op_paddusb, b, uint8_t, sat(x + y, 0, 255))
LANES(op_paddusw, w, uint16_t, sat(x + y, 0, 65535))
LANES(op_psubsb, b, int8_t, sat(x - y, -128, 127))
LANES(op_psubsw, w, int16_t, sat(x - y, -32768, 32767))
LANES(op_psubusb, b, uint8_t, sat((int)x - (int)y, 0, 255))
LANES(op_psubusw, w, uint16_t, sat((int)x - (int)y, 0, 65535))
LANES(op_pcmpeqb, b, uint8_t, x == y ? 0xff : 0)
LANES(op_pcmpeqw, w, uint16_t, x == y ? 0xffff : 0)
LANES(op_pcmpeqd, l, uint32_t, x == y ? 0xffffffffu : 0)
LANES(op_pcmpeqq, q, uint64_t, x == y ? ~0ULL : 0)
LANES(op_pcmpgtb, b, int8_t, x > y ? 0xff : 0)
LANES(op_pcmpgtw, w, int16_t, x > y ? 0xffff : 0)
LANES(op_pcmpgtd, l, int32_t, x > y ? 0xffffffffu : 0)
LANES(op_pcmpgtq, q, int64_t, x > y ? ~0ULL : 0)
LANES(op_pminub, b, uint8_t, x < y ? x : y)
LANES(op_pmaxub, b, uint8_t, x > y ? x : y)
LANES(op_pminsw, w, int16_t, x < y ? x : y)
LANES(op_pmaxsw, w, int16_t, x > y ? x : y)
LANES(op_pminsb, b, int8_t, x < y ? x : y)
LANES(op_pmaxsb, b, int8_t, x > y ? x : y)
LANES(op_pminuw, w, uint16_t, x < y ? x : y)
LANES(op_pmaxuw, w, uint16_t, x > y ? x : y)
LANES(op_pminsd, l, int32_t, x < y ? x : y)
LANES(op_pmaxsd, l, int32_t, x > y ? x : y)
LANES(op_pminud, l, uint32_t, x < y ? x : y)
LANES(op_pmaxud, l, uint32_t, x > y ? x : y)
LANES(op_pand, q, uint64_t, x &y)
LANES(op_pandn, q, uint64_t, ~x &y)
LANES(op_por, q, uint64_t, x | y)
LANES(op_pxor, q, uint64_t, x ^ y)
LANES(op_pavgb, b, unsigned int, (x + y + 1) >> 1)
LANES(op_pavgw, w, unsigned int, (x + y + 1) >> 1)
LANES(op_pmullw, w, uint32_t, x *y)
LANES(op_pmulhw, w, int16_t, ((int32_t)x * y) >> 16)
LANES(op_pmulhuw, w, uint32_t, (x * y) >> 16)
LANES(op_pmulld, l, uint32_t, x *y)
LANES(op_pmulhrsw, w, int16_t, ((((int32_t)x * y) >> 14) + 1) >> 1)
LANES(op_psignb, b, int8_t, y < 0 ? -x : y == 0 ? 0 : x)
LANES(op_psignw, w, int16_t, y < 0 ? -x : y == 0 ? 0 : x)
LANES(op_psignd, l, int32_t, y < 0 ? -(uint32_t)x : y == 0 ? 0 : (uint32_t)x)
LANES(op_pabsb, b, int8_t, y < 0 ? -y : y)
LANES(op_pabsw, w, int16_t, y < 0 ? -y : y)
LANES(op_pabsd, l, int32_t, y < 0 ? -(uint32_t)y : (uint32_t)y)

static void op_pmuludq(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)
{
	for (unsigned int i = 0; i < n / 8; i++)
		r->q[i] = (uint64_t)a->l[2 * i] * b->l[2 * i];
}

static void op_pmuldq(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)
{
	for (unsigned int i = 0; i < n / 8; i++)
		r->q[i] = (uint64_t)((int64_t)(int32_t)a->l[2 * i] * (int32_t)b->l[2 * i]);
}

static void op_pmaddwd(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)
{
	for (unsigned int i = 0; i < n / 4; i++) {
		int32_t p0 = (int16_t)a->w[2 * i] * (int16_t)b->w[2 * i];
		int32_t p1 = (int16_t)a->w[2 * i + 1] * (int16_t)b->w[2 * i + 1];

		r->l[i] = (uint32_t)p0 + (uint32_t)p1; /* 0x8000 pairs wrap to 0x80000000 */
	}
}

static void op_pmaddubsw(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)
{
	for (unsigned int i = 0; i < n / 2; i++) {
		int v = a->b[2 * i] * (int8_t)b->b[2 * i] +
			a->b[2 * i + 1] * (int8_t)b->b[2 * i + 1];

		r->w[i] = (uint16_t)sat(v, -32768, 32767);
	}
}

static void op_psadbw(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)
{
	for (unsigned int g = 0; g < n / 8; g++) {
		unsigned int s = 0;

		for (unsigned int i = 0; i < 8; i++) {
			int d = a->b[8 * g + i] - b->b[8 * g + i];

			s += (unsigned int)(d < 0 ? -d : d);
		}
		r->q[g] = s;
	}
}

/* interleave the low (hi = 0) or high halves of a and b in @esz-byte elements */
static void unpack(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n, unsigned int esz,
		   int hi)
{
	unsigned int base = hi ? n / 2 : 0;

	for (unsigned int i = 0; i < n / 2 / esz; i++) {
		memcpy(&r->b[2 * i * esz], &a->b[base + i * esz], esz);
		memcpy(&r->b[(2 * i + 1) * esz], &b->b[base + i * esz], esz);
	}
}

#define UNPACK(name, esz, hi)                                                                      \
	static void name(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)                 \
	{                                                                                          \
		unpack(r, a, b, n, esz, hi);                                                       \
	}
UNPACK(op_punpcklbw, 1, 0)
UNPACK(op_punpcklwd, 2, 0)
UNPACK(op_punpckldq, 4, 0)
UNPACK(op_punpcklqdq, 8, 0)
UNPACK(op_punpckhbw, 1, 1)
UNPACK(op_punpckhwd, 2, 1)
UNPACK(op_punpckhdq, 4, 1)
UNPACK(op_punpckhqdq, 8, 1)

static void op_packsswb(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)
{
	for (unsigned int i = 0; i < n / 2; i++) {
		r->b[i] = (uint8_t)sat((int16_t)a->w[i], -128, 127);
		r->b[n / 2 + i] = (uint8_t)sat((int16_t)b->w[i], -128, 127);
	}
}

static void op_packuswb(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)
{
	for (unsigned int i = 0; i < n / 2; i++) {
		r->b[i] = (uint8_t)sat((int16_t)a->w[i], 0, 255);
		r->b[n / 2 + i] = (uint8_t)sat((int16_t)b->w[i], 0, 255);
	}
}

static void op_packssdw(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)
{
	for (unsigned int i = 0; i < n / 4; i++) {
		r->w[i] = (uint16_t)sat((int32_t)a->l[i], -32768, 32767);
		r->w[n / 4 + i] = (uint16_t)sat((int32_t)b->l[i], -32768, 32767);
	}
}

static void op_packusdw(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)
{
	for (unsigned int i = 0; i < n / 4; i++) {
		r->w[i] = (uint16_t)sat((int32_t)a->l[i], 0, 65535);
		r->w[n / 4 + i] = (uint16_t)sat((int32_t)b->l[i], 0, 65535);
	}
}

/* shifts by the count in b (its low 64 bits) */
static void shift_lanes(xmm_t *r, const xmm_t *a, uint64_t cnt, unsigned int n, unsigned int esz,
			int kind /* 0 srl, 1 sra, 2 sll */)
{
	unsigned int bits = esz * 8;

	for (unsigned int i = 0; i < n / esz; i++) {
		uint64_t v = 0;

		memcpy(&v, &a->b[i * esz], esz);
		if (kind == 1) {
			int64_t sv = (int64_t)(v << (64 - bits)) >> (64 - bits);

			v = (uint64_t)(sv >> (cnt >= bits ? bits - 1 : cnt));
		} else if (cnt >= bits) {
			v = 0;
		} else {
			v = kind == 0 ? v >> cnt : v << cnt;
		}
		memcpy(&r->b[i * esz], &v, esz);
	}
}

#define SHIFT(name, esz, kind)                                                                     \
	static void name(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)                 \
	{                                                                                          \
		shift_lanes(r, a, b->q[0], n, esz, kind);                                          \
	}
SHIFT(op_psrlw, 2, 0)
SHIFT(op_psrld, 4, 0)
SHIFT(op_psrlq, 8, 0)
SHIFT(op_psraw, 2, 1)
SHIFT(op_psrad, 4, 1)
SHIFT(op_psllw, 2, 2)
SHIFT(op_pslld, 4, 2)
SHIFT(op_psllq, 8, 2)

static void op_pshufb(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		r->b[i] = (b->b[i] & 0x80) ? 0 : a->b[b->b[i] & (n - 1)];
}

/* horizontal add/subtract of adjacent pairs: a's pairs then b's */
static void hpairs(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n, int esz, int sub,
		   int satur)
{
	unsigned int half = n / (unsigned int)esz / 2;

	for (unsigned int i = 0; i < half * 2; i++) {
		const xmm_t *src = i < half ? a : b;
		unsigned int k = (i % half) * 2;
		int64_t x, y, v;

		if (esz == 2) {
			x = (int16_t)src->w[k];
			y = (int16_t)src->w[k + 1];
		} else {
			x = (int32_t)src->l[k];
			y = (int32_t)src->l[k + 1];
		}
		v = sub ? x - y : x + y;
		if (satur)
			v = sat(v, -32768, 32767);
		if (esz == 2)
			r->w[i] = (uint16_t)v;
		else
			r->l[i] = (uint32_t)v;
	}
}

#define HOP(name, esz, sub, satur)                                                                 \
	static void name(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n)                 \
	{                                                                                          \
		hpairs(r, a, b, n, esz, sub, satur);                                               \
	}
HOP(op_phaddw, 2, 0, 0)
HOP(op_phaddd, 4, 0, 0)
HOP(op_phaddsw, 2, 0, 1)
HOP(op_phsubw, 2, 1, 0)
HOP(op_phsubd, 4, 1, 0)
HOP(op_phsubsw, 2, 1, 1)

/* 0F xx forms with both an MMX (no prefix) and an XMM (66) version */
static const iop_fn ops_0f[256] = {
	[0x60] = op_punpcklbw, [0x61] = op_punpcklwd, [0x62] = op_punpckldq, [0x63] = op_packsswb,
	[0x64] = op_pcmpgtb,   [0x65] = op_pcmpgtw,   [0x66] = op_pcmpgtd,   [0x67] = op_packuswb,
	[0x68] = op_punpckhbw, [0x69] = op_punpckhwd, [0x6a] = op_punpckhdq, [0x6b] = op_packssdw,
	[0x74] = op_pcmpeqb,   [0x75] = op_pcmpeqw,   [0x76] = op_pcmpeqd,   [0xd1] = op_psrlw,
	[0xd2] = op_psrld,     [0xd3] = op_psrlq,     [0xd4] = op_paddq,     [0xd5] = op_pmullw,
	[0xd8] = op_psubusb,   [0xd9] = op_psubusw,   [0xda] = op_pminub,    [0xdb] = op_pand,
	[0xdc] = op_paddusb,   [0xdd] = op_paddusw,   [0xde] = op_pmaxub,    [0xdf] = op_pandn,
	[0xe0] = op_pavgb,     [0xe1] = op_psraw,     [0xe2] = op_psrad,     [0xe3] = op_pavgw,
	[0xe4] = op_pmulhuw,   [0xe5] = op_pmulhw,    [0xe8] = op_psubsb,    [0xe9] = op_psubsw,
	[0xea] = op_pminsw,    [0xeb] = op_por,	      [0xec] = op_paddsb,    [0xed] = op_paddsw,
	[0xee] = op_pmaxsw,    [0xef] = op_pxor,      [0xf1] = op_psllw,     [0xf2] = op_pslld,
	[0xf3] = op_psllq,     [0xf4] = op_pmuludq,   [0xf5] = op_pmaddwd,   [0xf6] = op_psadbw,
	[0xf8] = op_psubb,     [0xf9] = op_psubw,     [0xfa] = op_psubd,     [0xfb] = op_psubq,
	[0xfc] = op_paddb,     [0xfd] = op_paddw,     [0xfe] = op_paddd,
};

/* 0F 38 xx SSSE3 forms (MMX and 66) */
static const iop_fn ops_0f38_mmx[256] = {
	[0x00] = op_pshufb,    [0x01] = op_phaddw, [0x02] = op_phaddd, [0x03] = op_phaddsw,
	[0x04] = op_pmaddubsw, [0x05] = op_phsubw, [0x06] = op_phsubd, [0x07] = op_phsubsw,
	[0x08] = op_psignb,    [0x09] = op_psignw, [0x0a] = op_psignd, [0x0b] = op_pmulhrsw,
	[0x1c] = op_pabsb,     [0x1d] = op_pabsw,  [0x1e] = op_pabsd,
};

/* 0F 38 xx SSE4.1/4.2 forms (66 only) */
static const iop_fn ops_0f38_66[256] = {
	[0x28] = op_pmuldq, [0x29] = op_pcmpeqq, [0x2b] = op_packusdw, [0x37] = op_pcmpgtq,
	[0x38] = op_pminsb, [0x39] = op_pminsd,	 [0x3a] = op_pminuw,   [0x3b] = op_pminud,
	[0x3c] = op_pmaxsb, [0x3d] = op_pmaxsd,	 [0x3e] = op_pmaxuw,   [0x3f] = op_pmaxud,
	[0x40] = op_pmulld,
};

/* run a lane operation: mm/xmm[reg] = fn(mm/xmm[reg], r/m) */
static void int_op(struct emu_cpu *c, const struct emu_insn *in, iop_fn fn, int mmx,
		   unsigned int mmx_msize)
{
	xmm_t t, r, a;
	const xmm_t *s;

	if (mmx) {
		mmx_check(c);
		s = msrc(c, in, &t, mmx_msize);
		mmx_state(c);
		memset(&a, 0, sizeof(a));
		a.q[0] = mm_get(c, in->reg);
		r = a;
		fn(&r, &a, s, 8);
		mm_set(c, in->reg, r.q[0]);
		return;
	}
	sse_check(c);
	s = xsrc(c, in, &t, 16, 1);
	a = XMM(c)[in->reg];
	r = a;
	fn(&r, &a, s, 16);
	XMM(c)[in->reg] = r;
}

/* ---- shuffles and byte shifts ---- */

static void pshuf(xmm_t *r, const xmm_t *s, unsigned int imm, unsigned int esz, unsigned int off,
		  unsigned int cnt)
{
	for (unsigned int i = 0; i < cnt; i++) {
		unsigned int k = (imm >> (2 * i)) & 3;

		memcpy(&r->b[off + i * esz], &s->b[off + k * esz], esz);
	}
}

/* r = (a:b >> 8*imm) bytes, over @n-byte operands (PALIGNR) */
static void palignr(xmm_t *r, const xmm_t *a, const xmm_t *b, unsigned int n, unsigned int imm)
{
	uint8_t cat[32];

	memcpy(cat, b->b, n);
	memcpy(cat + n, a->b, n);
	for (unsigned int i = 0; i < n; i++)
		r->b[i] = i + imm < 2 * n ? cat[i + imm] : 0;
}

/* ---- SSE4.2 string compares ---- */

static int str_elem(const xmm_t *x, unsigned int i, unsigned int fmt)
{
	switch (fmt) {
	case 0:
		return x->b[i];
	case 1:
		return x->w[i];
	case 2:
		return (int8_t)x->b[i];
	default:
		return (int16_t)x->w[i];
	}
}

static unsigned int str_implicit_len(const xmm_t *x, unsigned int fmt, unsigned int n)
{
	unsigned int i = 0;

	while (i < n && str_elem(x, i, fmt) != 0)
		i++;
	return i;
}

static unsigned int str_explicit_len(const struct emu_cpu *c, int reg, int w64, unsigned int n)
{
	int64_t v = w64 ? (int64_t)c->r[reg] : (int64_t)(int32_t)c->r[reg];
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	return m > n ? n : (unsigned int)m;
}

static void pcmpstr(struct emu_cpu *c, const struct emu_insn *in, unsigned int op)
{
	unsigned int imm = (unsigned int)in->imm & 0xff, fmt = imm & 3, agg = (imm >> 2) & 3;
	unsigned int pol = (imm >> 4) & 3, n = (imm & 1) ? 8 : 16, la, lb, res = 0;
	int explicit_len = op < 0x62;
	xmm_t t, a;
	const xmm_t *b;
	uint64_t fl;

	sse_check(c);
	b = xsrc(c, in, &t, 16, 0);
	a = XMM(c)[in->reg];
	if (explicit_len) {
		la = str_explicit_len(c, 0, in->rex & 8, n);
		lb = str_explicit_len(c, 2, in->rex & 8, n);
	} else {
		la = str_implicit_len(&a, fmt, n);
		lb = str_implicit_len(b, fmt, n);
	}
	for (unsigned int j = 0; j < n; j++) {
		int bit = 0, bj = str_elem(b, j, fmt), bv = j < lb;

		switch (agg) {
		case 0: /* equal any */
			for (unsigned int i = 0; i < la && bv && !bit; i++)
				bit = str_elem(&a, i, fmt) == bj;
			break;
		case 1: /* ranges */
			for (unsigned int i = 0; i + 1 < la && bv && !bit; i += 2)
				bit = bj >= str_elem(&a, i, fmt) && bj <= str_elem(&a, i + 1, fmt);
			break;
		case 2: /* equal each */
			if (j >= la && !bv)
				bit = 1;
			else if (j >= la || !bv)
				bit = 0;
			else
				bit = str_elem(&a, j, fmt) == bj;
			break;
		default: /* equal ordered */
			bit = 1;
			for (unsigned int i = 0, k = j; i < n - j; i++, k++) {
				if (i >= la)
					break;
				if (k >= lb || str_elem(&a, i, fmt) != str_elem(b, k, fmt)) {
					bit = 0;
					break;
				}
			}
			break;
		}
		if (pol == 1 || (pol == 3 && j < lb))
			bit = !bit;
		res |= (unsigned int)bit << j;
	}
	res &= (1u << n) - 1;
	if (op & 1) { /* PCMPxSTRI: index in ECX */
		unsigned int idx = n;

		if (res)
			idx = (imm & 0x40) ? 31u - (unsigned int)__builtin_clz(res)
					   : (unsigned int)__builtin_ctz(res);
		c->r[1] = idx;
	} else { /* PCMPxSTRM: mask in XMM0 */
		xmm_t m;

		memset(&m, 0, sizeof(m));
		if (imm & 0x40) {
			for (unsigned int j = 0; j < n; j++) {
				if (!(res & (1u << j)))
					continue;
				if (n == 16)
					m.b[j] = 0xff;
				else
					m.w[j] = 0xffff;
			}
		} else {
			m.l[0] = res;
		}
		XMM(c)[0] = m;
	}
	fl = emu_flags_get(c) & ~(uint64_t)FL_ARITH;
	if (res)
		fl |= FL_CF;
	if (lb < n)
		fl |= FL_ZF;
	if (la < n)
		fl |= FL_SF;
	if (res & 1)
		fl |= FL_OF;
	emu_flags_set(c, fl);
}

/* ---- CRC32 (Castagnoli, reflected) ---- */

static uint32_t crc32c(uint32_t crc, uint64_t v, unsigned int bytes)
{
	for (unsigned int i = 0; i < bytes; i++) {
		crc ^= (uint8_t)(v >> (8 * i));
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1)));
	}
	return crc;
}

/* ---- map 0F ---- */

static int sse_0f(struct emu_cpu *c, const struct emu_insn *in, unsigned int op, unsigned int pfx)
{
	xmm_t t, r;
	const xmm_t *s;
	unsigned int reg = in->reg, imm = (unsigned int)in->imm & 0xff;
	int m3 = in->mod == 3, w64 = (in->rex & 8) != 0;
	uint64_t v;

	if (ops_0f[op] && (pfx == P_NONE || pfx == P_66)) {
		/* MMX PUNPCKL* read 32 bits of memory */
		int_op(c, in, ops_0f[op], pfx == P_NONE, op >= 0x60 && op <= 0x62 ? 4 : 8);
		return 1;
	}
	switch (op) {
	case 0x10:
	case 0x11:
		sse_check(c);
		if (pfx < P_F3) { /* MOVUPS MOVUPD */
			if (op == 0x10)
				XMM(c)[reg] = *xsrc(c, in, &t, 16, 0);
			else if (m3)
				XMM(c)[in->rm] = XMM(c)[reg];
			else
				mem_write(c, in, &XMM(c)[reg], 16, 0);
			return 1;
		}
		/* MOVSS MOVSD */
		{
			unsigned int n = pfx == P_F3 ? 4 : 8;

			if (op == 0x11 && !m3) {
				mem_write(c, in, &XMM(c)[reg], n, 0);
			} else if (m3) {
				xmm_t *d = &XMM(c)[op == 0x10 ? reg : in->rm];
				const xmm_t *sr = &XMM(c)[op == 0x10 ? in->rm : reg];

				memmove(d, sr, n);
			} else {
				mem_read(c, in, &XMM(c)[reg], n, 0);
			}
		}
		return 1;
	case 0x12:
	case 0x16: {
		int hi = op == 0x16;

		sse_check(c);
		if (pfx == P_F3 || (pfx == P_F2 && !hi)) {
			s = xsrc(c, in, &t, pfx == P_F2 ? 8 : 16, pfx == P_F3);
			r = *s;
			if (pfx == P_F2) { /* MOVDDUP */
				r.q[1] = s->q[0];
			} else { /* MOVSLDUP MOVSHDUP */
				r.l[0] = r.l[1] = s->l[hi ? 1 : 0];
				r.l[2] = r.l[3] = s->l[hi ? 3 : 2];
			}
			XMM(c)[reg] = r;
			return 1;
		}
		if (pfx == P_F2)
			ud(c);
		if (m3) { /* MOVHLPS MOVLHPS */
			if (pfx != P_NONE)
				ud(c);
			if (hi)
				XMM(c)[reg].q[1] = XMM(c)[in->rm].q[0];
			else
				XMM(c)[reg].q[0] = XMM(c)[in->rm].q[1];
			return 1;
		}
		mem_read(c, in, &t, 8, 0); /* MOVLPS MOVLPD MOVHPS MOVHPD */
		XMM(c)[reg].q[hi] = t.q[0];
		return 1;
	}
	case 0x13:
	case 0x17:
		if (pfx > P_66 || m3)
			ud(c);
		sse_check(c);
		mem_write(c, in, &XMM(c)[reg].q[op == 0x17], 8, 0);
		return 1;
	case 0x14:
	case 0x15:
		if (pfx > P_66)
			ud(c);
		sse_check(c);
		s = xsrc(c, in, &t, 16, 1);
		r = XMM(c)[reg];
		if (pfx == P_NONE)
			unpack(&r, &XMM(c)[reg], s, 16, 4, op == 0x15);
		else
			unpack(&r, &XMM(c)[reg], s, 16, 8, op == 0x15);
		XMM(c)[reg] = r;
		return 1;
	case 0x28:
	case 0x29:
		if (pfx > P_66)
			ud(c);
		sse_check(c);
		if (op == 0x28)
			XMM(c)[reg] = *xsrc(c, in, &t, 16, 1);
		else if (m3)
			XMM(c)[in->rm] = XMM(c)[reg];
		else
			mem_write(c, in, &XMM(c)[reg], 16, 1);
		return 1;
	case 0x2a:
		sse_check(c);
		if (pfx >= P_F3) { /* CVTSI2SS CVTSI2SD */
			v = gpr_rm_read(c, in, w64 ? 8 : 4);
			r = XMM(c)[reg];
			fp_done(c, emu_ssefp_from_int(pfx == P_F3 ? SSEFP_SS : SSEFP_SD, &r, v, w64,
						      MXCSR(c)));
			XMM(c)[reg] = r;
			return 1;
		}
		/* CVTPI2PS CVTPI2PD xmm, mm/m64 */
		if (m3)
			mmx_check(c);
		s = msrc(c, in, &t, 8);
		if (m3)
			mmx_state(c);
		r = XMM(c)[reg];
		if (pfx == P_NONE) {
			xmm_t x = r;

			fp_done(c, emu_ssefp_arith(SSEFP_CVT_DQ2PS, SSEFP_PS, &x, s, 0, MXCSR(c)));
			r.q[0] = x.q[0];
		} else {
			fp_done(c, emu_ssefp_arith(SSEFP_CVT_DQ2PD, SSEFP_PD, &r, s, 0, MXCSR(c)));
		}
		XMM(c)[reg] = r;
		return 1;
	case 0x2b: /* MOVNTPS MOVNTPD */
		if (pfx > P_66 || m3)
			ud(c);
		sse_check(c);
		mem_write(c, in, &XMM(c)[reg], 16, 1);
		return 1;
	case 0x2c:
	case 0x2d: {
		int trunc = op == 0x2c;

		sse_check(c);
		if (pfx >= P_F3) { /* CVT(T)SS2SI CVT(T)SD2SI */
			s = xsrc(c, in, &t, pfx == P_F3 ? 4 : 8, 0);
			fp_done(c, emu_ssefp_to_int(pfx == P_F3 ? SSEFP_SS : SSEFP_SD, trunc, s,
						    w64, &v, MXCSR(c)));
			c->r[reg] = w64 ? v : (uint32_t)v;
			return 1;
		}
		/* CVT(T)PS2PI mm, xmm/m64; CVT(T)PD2PI mm, xmm/m128 */
		s = xsrc(c, in, &t, pfx == P_NONE ? 8 : 16, pfx == P_66);
		mmx_check(c);
		r = *s;
		if (pfx == P_NONE) {
			r.q[1] = 0; /* the zero lanes raise nothing */
			fp_done(c, emu_ssefp_arith(trunc ? SSEFP_CVTT_PS2DQ : SSEFP_CVT_PS2DQ,
						   SSEFP_PS, &r, &r, 0, MXCSR(c)));
		} else {
			xmm_t x = r;

			fp_done(c, emu_ssefp_arith(trunc ? SSEFP_CVTT_PD2DQ : SSEFP_CVT_PD2DQ,
						   SSEFP_PD, &r, &x, 0, MXCSR(c)));
		}
		mmx_state(c);
		mm_set(c, reg, r.q[0]);
		return 1;
	}
	case 0x2e:
	case 0x2f: { /* UCOMISS UCOMISD COMISS COMISD */
		uint32_t zpc;
		xmm_t a;

		if (pfx > P_66)
			ud(c);
		sse_check(c);
		s = xsrc(c, in, &t, pfx == P_66 ? 8 : 4, 0);
		a = XMM(c)[reg];
		fp_done(c, emu_ssefp_comi(pfx == P_66 ? SSEFP_SD : SSEFP_SS, op == 0x2f, &a, s,
					  MXCSR(c), &zpc));
		emu_flags_set(c, (emu_flags_get(c) & ~(uint64_t)FL_ARITH) | zpc);
		return 1;
	}
	case 0x50: /* MOVMSKPS MOVMSKPD */
		if (pfx > P_66 || !m3)
			ud(c);
		sse_check(c);
		v = 0;
		if (pfx == P_NONE) {
			for (int i = 0; i < 4; i++)
				v |= (uint64_t)(XMM(c)[in->rm].l[i] >> 31) << i;
		} else {
			for (int i = 0; i < 2; i++)
				v |= (XMM(c)[in->rm].q[i] >> 63) << i;
		}
		c->r[reg] = v;
		return 1;
	case 0x51:
		fp_arith(c, in, SSEFP_SQRT, pfx, 0);
		return 1;
	case 0x52:
	case 0x53:
		if (pfx != P_NONE && pfx != P_F3)
			ud(c);
		fp_arith(c, in, op == 0x52 ? SSEFP_RSQRT : SSEFP_RCP, pfx, 0);
		return 1;
	case 0x54 ... 0x57: { /* ANDPS ANDNPS ORPS XORPS and the PD forms */
		static const iop_fn lf[4] = { op_pand, op_pandn, op_por, op_pxor };

		if (pfx > P_66)
			ud(c);
		int_op(c, in, lf[op - 0x54], 0, 0);
		return 1;
	}
	case 0x58:
		fp_arith(c, in, SSEFP_ADD, pfx, 0);
		return 1;
	case 0x59:
		fp_arith(c, in, SSEFP_MUL, pfx, 0);
		return 1;
	case 0x5a:
		switch (pfx) {
		case P_NONE:
			fp_conv(c, in, SSEFP_CVT_PS2PD, SSEFP_PS, 8);
			break;
		case P_66:
			fp_conv(c, in, SSEFP_CVT_PD2PS, SSEFP_PD, 16);
			break;
		case P_F3:
			fp_conv(c, in, SSEFP_CVT_SS2SD, SSEFP_SS, 4);
			break;
		default:
			fp_conv(c, in, SSEFP_CVT_SD2SS, SSEFP_SD, 8);
			break;
		}
		return 1;
	case 0x5b:
		if (pfx == P_F2)
			ud(c);
		fp_conv(c, in,
			pfx == P_NONE ? SSEFP_CVT_DQ2PS
			: pfx == P_66 ? SSEFP_CVT_PS2DQ
				      : SSEFP_CVTT_PS2DQ,
			SSEFP_PS, 16);
		return 1;
	case 0x5c:
		fp_arith(c, in, SSEFP_SUB, pfx, 0);
		return 1;
	case 0x5d:
		fp_arith(c, in, SSEFP_MIN, pfx, 0);
		return 1;
	case 0x5e:
		fp_arith(c, in, SSEFP_DIV, pfx, 0);
		return 1;
	case 0x5f:
		fp_arith(c, in, SSEFP_MAX, pfx, 0);
		return 1;
	case 0x6c:
	case 0x6d:
		if (pfx != P_66)
			ud(c);
		int_op(c, in, op == 0x6c ? op_punpcklqdq : op_punpckhqdq, 0, 0);
		return 1;
	case 0x6e: /* MOVD/MOVQ mm/xmm, r/m32/64 */
		if (pfx > P_66)
			ud(c);
		if (pfx == P_NONE) {
			mmx_check(c);
			v = gpr_rm_read(c, in, w64 ? 8 : 4);
			mmx_state(c);
			mm_set(c, reg, v);
			return 1;
		}
		sse_check(c);
		v = gpr_rm_read(c, in, w64 ? 8 : 4);
		memset(&XMM(c)[reg], 0, 16);
		XMM(c)[reg].q[0] = v;
		return 1;
	case 0x7e:
		if (pfx == P_F3) { /* MOVQ xmm, xmm/m64 */
			sse_check(c);
			s = xsrc(c, in, &t, 8, 0);
			v = s->q[0];
			memset(&XMM(c)[reg], 0, 16);
			XMM(c)[reg].q[0] = v;
			return 1;
		}
		if (pfx == P_F2)
			ud(c);
		if (pfx == P_NONE) { /* MOVD/MOVQ r/m, mm */
			mmx_check(c);
			v = mm_get(c, reg);
			gpr_rm_write(c, in, w64 ? 8 : 4, v);
			mmx_state(c);
			return 1;
		}
		sse_check(c);
		gpr_rm_write(c, in, w64 ? 8 : 4, XMM(c)[reg].q[0]);
		return 1;
	case 0x6f:
	case 0x7f:
		if (pfx == P_F2)
			ud(c);
		if (pfx == P_NONE) { /* MOVQ mm, mm/m64; MOVQ mm/m64, mm */
			mmx_check(c);
			if (op == 0x6f) {
				s = msrc(c, in, &t, 8);
				mmx_state(c);
				mm_set(c, reg, s->q[0]);
			} else if (m3) {
				mmx_state(c);
				mm_set(c, in->rm, mm_get(c, reg));
			} else {
				v = mm_get(c, reg);
				mem_write(c, in, &v, 8, 0);
				mmx_state(c);
			}
			return 1;
		}
		sse_check(c); /* MOVDQA (66) MOVDQU (F3) */
		if (op == 0x6f)
			XMM(c)[reg] = *xsrc(c, in, &t, 16, pfx == P_66);
		else if (m3)
			XMM(c)[in->rm] = XMM(c)[reg];
		else
			mem_write(c, in, &XMM(c)[reg], 16, pfx == P_66);
		return 1;
	case 0x70: /* PSHUFW PSHUFD PSHUFHW PSHUFLW */
		if (pfx == P_NONE) {
			mmx_check(c);
			s = msrc(c, in, &t, 8);
			mmx_state(c);
			r = *s;
			pshuf(&r, s, imm, 2, 0, 4);
			mm_set(c, reg, r.q[0]);
			return 1;
		}
		sse_check(c);
		s = xsrc(c, in, &t, 16, 1);
		r = *s;
		if (pfx == P_66)
			pshuf(&r, s, imm, 4, 0, 4);
		else
			pshuf(&r, s, imm, 2, pfx == P_F3 ? 8 : 0, 4);
		XMM(c)[reg] = r;
		return 1;
	case 0x71:
	case 0x72:
	case 0x73: { /* shift by immediate: /2 SRL, /4 SRA, /6 SLL; 73 /3 PSRLDQ, /7 PSLLDQ */
		unsigned int sub = reg & 7, esz = op == 0x71 ? 2 : op == 0x72 ? 4 : 8;
		int kind = sub == 2 ? 0 : sub == 4 ? 1 : sub == 6 ? 2 : -1;
		int mmx = pfx == P_NONE;
		xmm_t a;

		if (!m3 || pfx > P_66)
			ud(c);
		if (op == 0x73 && sub == 4)
			kind = -1; /* no PSRAQ */
		if (op == 0x73 && (sub == 3 || sub == 7)) {
			if (mmx)
				ud(c);
			sse_check(c);
			a = XMM(c)[in->rm];
			memset(&r, 0, sizeof(r));
			for (unsigned int i = 0; i < 16; i++) {
				if (sub == 3 && i + imm < 16)
					r.b[i] = a.b[i + imm];
				if (sub == 7 && i >= imm)
					r.b[i] = a.b[i - imm];
			}
			XMM(c)[in->rm] = r;
			return 1;
		}
		if (kind < 0)
			ud(c);
		if (mmx) {
			mmx_check(c);
			mmx_state(c);
			memset(&a, 0, sizeof(a));
			a.q[0] = mm_get(c, in->rm);
			r = a;
			shift_lanes(&r, &a, imm, 8, esz, kind);
			mm_set(c, in->rm, r.q[0]);
			return 1;
		}
		sse_check(c);
		a = XMM(c)[in->rm];
		r = a;
		shift_lanes(&r, &a, imm, 16, esz, kind);
		XMM(c)[in->rm] = r;
		return 1;
	}
	case 0x77: /* EMMS */
		if (pfx != P_NONE)
			ud(c);
		mmx_check(c);
		mmx_emms(c);
		return 1;
	case 0x7c:
	case 0x7d: /* HADDPD HADDPS HSUBPD HSUBPS */
		if (pfx != P_66 && pfx != P_F2)
			ud(c);
		fp_arith(c, in, op == 0x7c ? SSEFP_HADD : SSEFP_HSUB, pfx == P_66 ? 1 : 0, 0);
		return 1;
	case 0xae: {
		unsigned int sub = reg & 7;

		if (pfx != P_NONE || m3 || (sub != 2 && sub != 3))
			return 0;
		sse_check(c);
		if (sub == 2) { /* LDMXCSR */
			v = lin_read(c, mem_lin(c, in, 4, ACC_READ, 0), 4);
			if (v & ~(uint64_t)MXCSR_WRITABLE)
				emu_raise(c, EXC_GP, 1, 0);
			MXCSR(c) = (uint32_t)v;
		} else { /* STMXCSR */
			lin_write(c, mem_lin(c, in, 4, ACC_WRITE, 0), 4, MXCSR(c));
		}
		return 1;
	}
	case 0xb8: { /* POPCNT */
		int size = in->osz;
		uint64_t fl;

		if (pfx != P_F3)
			return 0;
		v = gpr_rm_read(c, in, size);
		fl = emu_flags_get(c) & ~(uint64_t)FL_ARITH;
		if (!v)
			fl |= FL_ZF;
		emu_flags_set(c, fl);
		if (size == 2)
			c->r[reg] = (c->r[reg] & ~0xffffULL) | (uint64_t)__builtin_popcountll(v);
		else
			c->r[reg] = (uint64_t)__builtin_popcountll(v);
		return 1;
	}
	case 0xc2:
		fp_arith(c, in, SSEFP_CMP, pfx, (uint8_t)imm);
		return 1;
	case 0xc3: /* MOVNTI */
		if (pfx != P_NONE || m3)
			ud(c);
		lin_write(c, mem_lin(c, in, w64 ? 8 : 4, ACC_WRITE, 0), w64 ? 8 : 4, c->r[reg]);
		return 1;
	case 0xc4: /* PINSRW mm/xmm, r32/m16, imm */
		if (pfx > P_66)
			ud(c);
		if (pfx == P_NONE) {
			mmx_check(c);
			v = gpr_rm_read(c, in, 2);
			mmx_state(c);
			t.q[0] = mm_get(c, reg);
			t.w[imm & 3] = (uint16_t)v;
			mm_set(c, reg, t.q[0]);
			return 1;
		}
		sse_check(c);
		v = gpr_rm_read(c, in, 2);
		XMM(c)[reg].w[imm & 7] = (uint16_t)v;
		return 1;
	case 0xc5: /* PEXTRW r32, mm/xmm, imm */
		if (pfx > P_66 || !m3)
			ud(c);
		if (pfx == P_NONE) {
			mmx_check(c);
			mmx_state(c);
			t.q[0] = mm_get(c, in->rm);
			c->r[reg] = t.w[imm & 3];
			return 1;
		}
		sse_check(c);
		c->r[reg] = XMM(c)[in->rm].w[imm & 7];
		return 1;
	case 0xc6: /* SHUFPS SHUFPD */
		if (pfx > P_66)
			ud(c);
		sse_check(c);
		s = xsrc(c, in, &t, 16, 1);
		r = XMM(c)[reg];
		if (pfx == P_NONE) {
			xmm_t a = r;

			r.l[0] = a.l[imm & 3];
			r.l[1] = a.l[(imm >> 2) & 3];
			r.l[2] = s->l[(imm >> 4) & 3];
			r.l[3] = s->l[(imm >> 6) & 3];
		} else {
			r.q[0] = r.q[imm & 1];
			r.q[1] = s->q[(imm >> 1) & 1];
		}
		XMM(c)[reg] = r;
		return 1;
	case 0xd0: /* ADDSUBPD ADDSUBPS */
		if (pfx != P_66 && pfx != P_F2)
			ud(c);
		fp_arith(c, in, SSEFP_ADDSUB, pfx == P_66 ? 1 : 0, 0);
		return 1;
	case 0xd6:
		if (pfx == P_NONE)
			ud(c);
		if (pfx == P_66) { /* MOVQ xmm/m64, xmm */
			sse_check(c);
			if (m3) {
				v = XMM(c)[reg].q[0];
				XMM(c)[in->rm].q[0] = v;
				XMM(c)[in->rm].q[1] = 0;
			} else {
				mem_write(c, in, &XMM(c)[reg].q[0], 8, 0);
			}
			return 1;
		}
		if (!m3)
			ud(c);
		sse_check(c);
		mmx_check(c);
		mmx_state(c);
		if (pfx == P_F3) { /* MOVQ2DQ xmm, mm */
			XMM(c)[reg].q[0] = mm_get(c, in->rm);
			XMM(c)[reg].q[1] = 0;
		} else { /* MOVDQ2Q mm, xmm */
			mm_set(c, reg, XMM(c)[in->rm].q[0]);
		}
		return 1;
	case 0xd7: /* PMOVMSKB r32, mm/xmm */
		if (pfx > P_66 || !m3)
			ud(c);
		v = 0;
		if (pfx == P_NONE) {
			mmx_check(c);
			mmx_state(c);
			t.q[0] = mm_get(c, in->rm);
			for (int i = 0; i < 8; i++)
				v |= (uint64_t)(t.b[i] >> 7) << i;
		} else {
			sse_check(c);
			for (int i = 0; i < 16; i++)
				v |= (uint64_t)(XMM(c)[in->rm].b[i] >> 7) << i;
		}
		c->r[reg] = v;
		return 1;
	case 0xe6:
		if (pfx == P_NONE)
			ud(c);
		if (pfx == P_F3)
			fp_conv(c, in, SSEFP_CVT_DQ2PD, SSEFP_PD, 8);
		else
			fp_conv(c, in, pfx == P_66 ? SSEFP_CVTT_PD2DQ : SSEFP_CVT_PD2DQ, SSEFP_PD,
				16);
		return 1;
	case 0xe7: /* MOVNTQ MOVNTDQ */
		if (pfx > P_66 || m3)
			ud(c);
		if (pfx == P_NONE) {
			mmx_check(c);
			v = mm_get(c, reg);
			mem_write(c, in, &v, 8, 0);
			mmx_state(c);
			return 1;
		}
		sse_check(c);
		mem_write(c, in, &XMM(c)[reg], 16, 1);
		return 1;
	case 0xf0: /* LDDQU */
		if (pfx != P_F2 || m3)
			ud(c);
		sse_check(c);
		mem_read(c, in, &XMM(c)[reg], 16, 0);
		return 1;
	case 0xf7: { /* MASKMOVQ MASKMOVDQU: bytes with the mask's top bit set go to DS:rDI */
		unsigned int n = pfx == P_NONE ? 8 : 16;
		xmm_t d, msk;
		uint64_t base = c->r[7] & emu_size_mask(in->asz);

		if (pfx > P_66 || !m3)
			ud(c);
		if (pfx == P_NONE) {
			mmx_check(c);
			mmx_state(c);
			d.q[0] = mm_get(c, reg);
			msk.q[0] = mm_get(c, in->rm);
		} else {
			sse_check(c);
			d = XMM(c)[reg];
			msk = XMM(c)[in->rm];
		}
		for (unsigned int i = 0; i < n; i++) {
			uint64_t off = (base + i) & emu_size_mask(in->asz);

			if (msk.b[i] & 0x80)
				lin_write(c, seg_lin(c, in->seg, off, 1, ACC_WRITE), 1, d.b[i]);
		}
		return 1;
	}
	default:
		return 0;
	}
}

/* ---- map 0F 38 ---- */

static void pmovx(struct emu_cpu *c, const struct emu_insn *in, unsigned int op)
{
	/* 20 BW, 21 BD, 22 BQ, 23 WD, 24 WQ, 25 DQ; 30-35 the same, zero-extending */
	static const uint8_t from[6] = { 1, 1, 1, 2, 2, 4 }, to[6] = { 2, 4, 8, 4, 8, 8 };
	unsigned int k = op & 7, sign = op < 0x30, cnt = 16u / to[k];
	xmm_t t, r;
	const xmm_t *s;

	sse_check(c);
	s = xsrc(c, in, &t, cnt * from[k], 0);
	for (unsigned int i = 0; i < cnt; i++) {
		uint64_t v = 0;

		memcpy(&v, &s->b[i * from[k]], from[k]);
		if (sign)
			v = (uint64_t)((int64_t)(v << (64 - 8 * from[k])) >> (64 - 8 * from[k]));
		memcpy(&r.b[i * to[k]], &v, to[k]);
	}
	XMM(c)[in->reg] = r;
}

static int sse_0f38(struct emu_cpu *c, const struct emu_insn *in, unsigned int op, unsigned int pfx)
{
	xmm_t t, r, a;
	const xmm_t *s;
	unsigned int reg = in->reg;
	uint64_t v, fl;

	if (ops_0f38_mmx[op] && pfx <= P_66) {
		int_op(c, in, ops_0f38_mmx[op], pfx == P_NONE, 8);
		return 1;
	}
	if (ops_0f38_66[op] && pfx == P_66) {
		int_op(c, in, ops_0f38_66[op], 0, 0);
		return 1;
	}
	if (op == 0xf0 || op == 0xf1) {
		if (pfx == P_F2) { /* CRC32 */
			int size = op == 0xf0 ? 1 : in->osz;
			uint32_t crc = (uint32_t)c->r[reg];

			if (in->mod == 3)
				v = size == 1 ? get_reg(c, in->rm, 1, in->rex)
					      : c->r[in->rm] & emu_size_mask(size);
			else
				v = lin_read(c, mem_lin(c, in, (unsigned int)size, ACC_READ, 0),
					     size);
			c->r[reg] = crc32c(crc, v, (unsigned int)size);
			return 1;
		}
		if (pfx == P_F3 || in->mod == 3)
			ud(c);
		/* MOVBE */
		if (op == 0xf0) {
			v = lin_read(c, mem_lin(c, in, in->osz, ACC_READ, 0), in->osz);
			v = in->osz == 8   ? __builtin_bswap64(v)
			    : in->osz == 4 ? __builtin_bswap32((uint32_t)v)
					   : __builtin_bswap16((uint16_t)v);
			set_reg(c, reg, in->osz, 1, v);
		} else {
			v = c->r[reg];
			v = in->osz == 8   ? __builtin_bswap64(v)
			    : in->osz == 4 ? __builtin_bswap32((uint32_t)v)
					   : __builtin_bswap16((uint16_t)v);
			lin_write(c, mem_lin(c, in, in->osz, ACC_WRITE, 0), in->osz, v);
		}
		return 1;
	}
	if (pfx != P_66)
		ud(c);
	switch (op) {
	case 0x10:
	case 0x14:
	case 0x15: { /* PBLENDVB BLENDVPS BLENDVPD: mask in XMM0 */
		unsigned int esz = op == 0x10 ? 1 : op == 0x14 ? 4 : 8;

		sse_check(c);
		s = xsrc(c, in, &t, 16, 1);
		r = XMM(c)[reg];
		for (unsigned int i = 0; i < 16; i += esz)
			if (XMM(c)[0].b[i + esz - 1] & 0x80)
				memcpy(&r.b[i], &s->b[i], esz);
		XMM(c)[reg] = r;
		return 1;
	}
	case 0x17: /* PTEST */
		sse_check(c);
		s = xsrc(c, in, &t, 16, 1);
		a = XMM(c)[reg];
		fl = emu_flags_get(c) & ~(uint64_t)FL_ARITH;
		if (!((a.q[0] & s->q[0]) | (a.q[1] & s->q[1])))
			fl |= FL_ZF;
		if (!((~a.q[0] & s->q[0]) | (~a.q[1] & s->q[1])))
			fl |= FL_CF;
		emu_flags_set(c, fl);
		return 1;
	case 0x20 ... 0x25:
	case 0x30 ... 0x35:
		pmovx(c, in, op);
		return 1;
	case 0x2a: /* MOVNTDQA */
		if (in->mod == 3)
			ud(c);
		sse_check(c);
		mem_read(c, in, &XMM(c)[reg], 16, 1);
		return 1;
	case 0x41: { /* PHMINPOSUW */
		unsigned int mi = 0;

		sse_check(c);
		s = xsrc(c, in, &t, 16, 1);
		for (unsigned int i = 1; i < 8; i++)
			if (s->w[i] < s->w[mi])
				mi = i;
		memset(&r, 0, sizeof(r));
		r.w[0] = s->w[mi];
		r.w[1] = (uint16_t)mi;
		XMM(c)[reg] = r;
		return 1;
	}
	default:
		ud(c);
	}
}

/* ---- map 0F 3A ---- */

static int sse_0f3a(struct emu_cpu *c, const struct emu_insn *in, unsigned int op, unsigned int pfx)
{
	xmm_t t, r, a;
	const xmm_t *s;
	unsigned int reg = in->reg, imm = (unsigned int)in->imm & 0xff;
	int w64 = (in->rex & 8) != 0;
	uint64_t v;

	if (op == 0x0f && pfx <= P_66) { /* PALIGNR */
		if (pfx == P_NONE) {
			mmx_check(c);
			s = msrc(c, in, &t, 8);
			mmx_state(c);
			memset(&a, 0, sizeof(a));
			a.q[0] = mm_get(c, reg);
			palignr(&r, &a, s, 8, imm);
			mm_set(c, reg, r.q[0]);
			return 1;
		}
		sse_check(c);
		s = xsrc(c, in, &t, 16, 1);
		a = XMM(c)[reg];
		palignr(&r, &a, s, 16, imm);
		XMM(c)[reg] = r;
		return 1;
	}
	if (pfx != P_66)
		ud(c);
	switch (op) {
	case 0x08 ... 0x0b: { /* ROUNDPS ROUNDPD ROUNDSS ROUNDSD */
		static const unsigned int f[4] = { 0, 1, 2, 3 };

		sse_check(c);
		s = xsrc(c, in, &t, fp_msize[f[op - 8]], op < 0x0a);
		r = XMM(c)[reg];
		fp_done(c, emu_ssefp_arith(SSEFP_ROUND, fmt_of[f[op - 8]], &r, s, (uint8_t)imm,
					   MXCSR(c)));
		XMM(c)[reg] = r;
		return 1;
	}
	case 0x0c:
	case 0x0d:
	case 0x0e: { /* BLENDPS BLENDPD PBLENDW */
		unsigned int esz = op == 0x0c ? 4 : op == 0x0d ? 8 : 2;

		sse_check(c);
		s = xsrc(c, in, &t, 16, 1);
		r = XMM(c)[reg];
		for (unsigned int i = 0; i < 16 / esz; i++)
			if (imm & (1u << i))
				memcpy(&r.b[i * esz], &s->b[i * esz], esz);
		XMM(c)[reg] = r;
		return 1;
	}
	case 0x14:
	case 0x15:
	case 0x16:
	case 0x17: { /* PEXTRB PEXTRW PEXTRD/PEXTRQ EXTRACTPS r/m, xmm */
		unsigned int esz = op == 0x14 ? 1 : op == 0x15 ? 2 : (op == 0x16 && w64) ? 8 : 4;
		unsigned int lane = imm & (16 / esz - 1);

		sse_check(c);
		v = 0;
		memcpy(&v, &XMM(c)[reg].b[lane * esz], esz);
		if (in->mod == 3)
			c->r[in->rm] = v; /* zero-extended into the full register */
		else
			lin_write(c, mem_lin(c, in, esz, ACC_WRITE, 0), (int)esz, v);
		return 1;
	}
	case 0x20:
	case 0x22: { /* PINSRB PINSRD/PINSRQ */
		unsigned int esz = op == 0x20 ? 1 : w64 ? 8 : 4;

		sse_check(c);
		v = gpr_rm_read(c, in, (int)esz);
		memcpy(&XMM(c)[reg].b[(imm & (16 / esz - 1)) * esz], &v, esz);
		return 1;
	}
	case 0x21: { /* INSERTPS */
		uint32_t x;

		sse_check(c);
		if (in->mod == 3) {
			x = XMM(c)[in->rm].l[(imm >> 6) & 3];
		} else {
			mem_read(c, in, &t, 4, 0);
			x = t.l[0];
		}
		r = XMM(c)[reg];
		r.l[(imm >> 4) & 3] = x;
		for (unsigned int i = 0; i < 4; i++)
			if (imm & (1u << i))
				r.l[i] = 0;
		XMM(c)[reg] = r;
		return 1;
	}
	case 0x40:
	case 0x41: /* DPPS DPPD */
		sse_check(c);
		s = xsrc(c, in, &t, 16, 1);
		r = XMM(c)[reg];
		fp_done(c, emu_ssefp_arith(SSEFP_DP, op == 0x40 ? SSEFP_PS : SSEFP_PD, &r, s,
					   (uint8_t)imm, MXCSR(c)));
		XMM(c)[reg] = r;
		return 1;
	case 0x42: { /* MPSADBW */
		unsigned int ao = (imm & 4) ? 4 : 0, bo = (imm & 3) * 4;

		sse_check(c);
		s = xsrc(c, in, &t, 16, 1);
		a = XMM(c)[reg];
		for (unsigned int i = 0; i < 8; i++) {
			unsigned int sum = 0;

			for (unsigned int k = 0; k < 4; k++) {
				int d = a.b[ao + i + k] - s->b[bo + k];

				sum += (unsigned int)(d < 0 ? -d : d);
			}
			r.w[i] = (uint16_t)sum;
		}
		XMM(c)[reg] = r;
		return 1;
	}
	case 0x60 ... 0x63:
		pcmpstr(c, in, op);
		return 1;
	default:
		ud(c);
	}
}

int emu_exec_sse(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned int op = in->op & 0xff, pfx = pfx_of(in);

	switch (in->op >> 8) {
	case 1:
		return sse_0f(c, in, op, pfx);
	case 2:
		return sse_0f38(c, in, op, pfx);
	case 3:
		return sse_0f3a(c, in, op, pfx);
	default:
		return 0;
	}
}

/* the table's handler for every slot below: forms without a meaning are #UD */
static void h_sse(struct emu_cpu *c, const struct emu_insn *in)
{
	if (!emu_exec_sse(c, in))
		ud(c);
}

/*
 * Faster handlers for the forms string and memory functions run in loops
 * (chosen per decoded instruction by sel_sse): 16-byte moves, the bitwise
 * operations, byte compares and PMOVMSKB, with no prefix dispatch.
 */
static void f_load16(struct emu_cpu *c, const struct emu_insn *in, int align)
{
	sse_check(c);
	if (in->mod == 3)
		XMM(c)[in->reg] = XMM(c)[in->rm];
	else
		lin_read_n(c, mem_lin(c, in, 16, ACC_READ, align), &XMM(c)[in->reg], 16);
}

static void f_store16(struct emu_cpu *c, const struct emu_insn *in, int align)
{
	sse_check(c);
	if (in->mod == 3)
		XMM(c)[in->rm] = XMM(c)[in->reg];
	else
		lin_write_n(c, mem_lin(c, in, 16, ACC_WRITE, align), &XMM(c)[in->reg], 16);
}

static void f_load16a(struct emu_cpu *c, const struct emu_insn *in)
{
	f_load16(c, in, 1);
}

static void f_load16u(struct emu_cpu *c, const struct emu_insn *in)
{
	f_load16(c, in, 0);
}

static void f_store16a(struct emu_cpu *c, const struct emu_insn *in)
{
	f_store16(c, in, 1);
}

static void f_store16u(struct emu_cpu *c, const struct emu_insn *in)
{
	f_store16(c, in, 0);
}

/* the aligned 16-byte source operand of a 66-prefixed packed form, in *t */
static inline const xmm_t *src16(struct emu_cpu *c, const struct emu_insn *in, xmm_t *t)
{
	if (in->mod == 3)
		return &XMM(c)[in->rm];
	lin_read_n(c, mem_lin(c, in, 16, ACC_READ, 1), t, 16);
	return t;
}

#define FAST_Q(name, expr)                                                                         \
	static void name(struct emu_cpu *c, const struct emu_insn *in)                             \
	{                                                                                          \
		xmm_t t;                                                                           \
		const xmm_t *s;                                                                    \
		xmm_t *d = &XMM(c)[in->reg];                                                       \
                                                                                                   \
		sse_check(c);                                                                      \
		s = src16(c, in, &t);                                                              \
		for (int i = 0; i < 2; i++) {                                                      \
			uint64_t x = d->q[i], y = s->q[i];                                         \
			d->q[i] = (expr);                                                          \
		}                                                                                  \
	}
FAST_Q(f_pxor, x ^ y)
FAST_Q(f_por, x | y)
FAST_Q(f_pand, x &y)
FAST_Q(f_pandn, ~x &y)

static void f_pcmpeqb(struct emu_cpu *c, const struct emu_insn *in)
{
	xmm_t t, r;
	const xmm_t *s;
	xmm_t *d = &XMM(c)[in->reg];

	sse_check(c);
	s = src16(c, in, &t);
	for (int i = 0; i < 16; i++)
		r.b[i] = d->b[i] == s->b[i] ? 0xff : 0;
	*d = r;
}

static void f_pminub(struct emu_cpu *c, const struct emu_insn *in)
{
	xmm_t t, r;
	const xmm_t *s;
	xmm_t *d = &XMM(c)[in->reg];

	sse_check(c);
	s = src16(c, in, &t);
	for (int i = 0; i < 16; i++)
		r.b[i] = d->b[i] < s->b[i] ? d->b[i] : s->b[i];
	*d = r;
}

static void f_pmovmskb(struct emu_cpu *c, const struct emu_insn *in)
{
	const xmm_t *x = &XMM(c)[in->rm];
	uint64_t v = 0;

	sse_check(c);
	for (int i = 0; i < 16; i++)
		v |= (uint64_t)(x->b[i] >> 7) << i;
	c->r[in->reg] = v;
}

/* other 66-prefixed packed-integer forms of the 0F map, without the prefix dispatch */
static void f_int66(struct emu_cpu *c, const struct emu_insn *in)
{
	xmm_t t, a, r;
	const xmm_t *s;

	sse_check(c);
	s = src16(c, in, &t);
	a = XMM(c)[in->reg];
	r = a;
	ops_0f[in->op & 0xff](&r, &a, s, 16);
	XMM(c)[in->reg] = r;
}

static emu_insn_fn sel_sse(const struct emu_insn *in)
{
	unsigned int op = in->op;

	switch (in->pfx) {
	case PFX_NONE:
		if (op == (MAP0F | 0x28))
			return f_load16a;
		if (op == (MAP0F | 0x10))
			return f_load16u;
		if (op == (MAP0F | 0x29))
			return f_store16a;
		if (op == (MAP0F | 0x11))
			return f_store16u;
		if (op == (MAP0F | 0x57))
			return f_pxor;
		if (op == (MAP0F | 0x56))
			return f_por;
		if (op == (MAP0F | 0x54))
			return f_pand;
		if (op == (MAP0F | 0x55))
			return f_pandn;
		return NULL;
	case PFX_66:
		switch (op) {
		case MAP0F | 0x6f:
		case MAP0F | 0x28:
			return f_load16a;
		case MAP0F | 0x10:
			return f_load16u;
		case MAP0F | 0x7f:
		case MAP0F | 0x29:
			return f_store16a;
		case MAP0F | 0x11:
			return f_store16u;
		case MAP0F | 0xef:
		case MAP0F | 0x57:
			return f_pxor;
		case MAP0F | 0xeb:
		case MAP0F | 0x56:
			return f_por;
		case MAP0F | 0xdb:
		case MAP0F | 0x54:
			return f_pand;
		case MAP0F | 0xdf:
		case MAP0F | 0x55:
			return f_pandn;
		case MAP0F | 0x74:
			return f_pcmpeqb;
		case MAP0F | 0xda:
			return f_pminub;
		case MAP0F | 0xd7:
			return in->mod == 3 ? f_pmovmskb : NULL;
		default:
			if ((op >> 8) == 1 && ops_0f[op & 0xff])
				return f_int66;
			return NULL;
		}
	case PFX_F3:
		if (op == (MAP0F | 0x6f))
			return f_load16u;
		if (op == (MAP0F | 0x7f))
			return f_store16u;
		return NULL;
	default:
		return NULL;
	}
}

#define SSE4(first, last, dflags)                                                                  \
	{ first, last, PFX_NONE, 0, 0, dflags, h_sse, sel_sse, NULL },                             \
		{ first, last, PFX_66, 0, 0, dflags, h_sse, sel_sse, NULL },                       \
		{ first, last, PFX_F3, 0, 0, dflags, h_sse, sel_sse, NULL },                       \
	{                                                                                          \
		first, last, PFX_F2, 0, 0, dflags, h_sse, sel_sse, NULL                            \
	}

static const struct emu_opdef ops[] = {
	SSE4(MAP0F | 0x10, MAP0F | 0x17, D_M),
	SSE4(MAP0F | 0x28, MAP0F | 0x2f, D_M),
	SSE4(MAP0F | 0x50, MAP0F | 0x6f, D_M),
	SSE4(MAP0F | 0x70, MAP0F | 0x73, D_M | D_I8),
	SSE4(MAP0F | 0x74, MAP0F | 0x76, D_M),
	OPP(MAP0F | 0x77, MAP0F | 0x77, PFX_NONE, 0, 0, 0, h_sse), /* EMMS: no ModRM */
	SSE4(MAP0F | 0x7c, MAP0F | 0x7f, D_M),
	OPP(MAP0F | 0xb8, MAP0F | 0xb8, PFX_F3, D_M, 0, 0, h_sse), /* POPCNT */
	SSE4(MAP0F | 0xc2, MAP0F | 0xc2, D_M | D_I8),
	SSE4(MAP0F | 0xc3, MAP0F | 0xc3, D_M),
	SSE4(MAP0F | 0xc4, MAP0F | 0xc6, D_M | D_I8),
	SSE4(MAP0F | 0xd0, MAP0F | 0xfe, D_M),
	SSE4(MAP0F38 | 0x00, MAP0F38 | 0x41, D_M),
	SSE4(MAP0F38 | 0xf0, MAP0F38 | 0xf1, D_M), /* MOVBE, CRC32 */
	SSE4(MAP0F3A | 0x08, MAP0F3A | 0x63, D_M | D_I8),
};

/*
 * CPUID.1 EDX: MMX SSE SSE2; ECX: SSE3 SSSE3 SSE4.1 SSE4.2 MOVBE POPCNT
 * (LDMXCSR/STMXCSR sit in the 0F AE group of exec-system.c and call here).
 */
const struct emu_opgroup emu_ops_sse = {
	OPGROUP(ops),
	.cpuid1_edx = (1u << 23) | (1u << 25) | (1u << 26),
	.cpuid1_ecx = (1u << 0) | (1u << 9) | (1u << 19) | (1u << 20) | (1u << 22) | (1u << 23),
};
