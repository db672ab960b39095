/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SSE floating point on an x86-64 host: each operation is the host
 * instruction itself, run between an LDMXCSR of the guest's rounding control,
 * DAZ and FTZ (all exceptions masked, flags clear) and an STMXCSR that reads
 * the flags it raised; the host's own MXCSR is restored afterwards. The
 * instruction, LDMXCSR and STMXCSR sit in one asm statement so the compiler
 * cannot move host arithmetic in between.
 */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "emu/ssefp.h"

typedef float v4sf __attribute__((vector_size(16)));

/* run "insn %[s], %[d]" with the guest MXCSR @mx; the flags land in @out */
#define RUN(insn)                                                                                  \
	__asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[mi]\n\t" insn "\n\tstmxcsr %[mo]\n\t"         \
			 "ldmxcsr %[sv]"                                                           \
			 : [d] "+x"(dv), [mo] "=m"(out), [sv] "=m"(save)                           \
			 : [s] "x"(sv), [mi] "m"(mx))

#define FMT4(base)                                                                                 \
	do {                                                                                       \
		switch (fmt) {                                                                     \
		case SSEFP_PS:                                                                     \
			RUN(base "ps %[s], %[d]");                                                 \
			break;                                                                     \
		case SSEFP_PD:                                                                     \
			RUN(base "pd %[s], %[d]");                                                 \
			break;                                                                     \
		case SSEFP_SS:                                                                     \
			RUN(base "ss %[s], %[d]");                                                 \
			break;                                                                     \
		case SSEFP_SD:                                                                     \
			RUN(base "sd %[s], %[d]");                                                 \
			break;                                                                     \
		}                                                                                  \
	} while (0)

#define FMTPS(base)                                                                                \
	do {                                                                                       \
		if (fmt == SSEFP_PS)                                                               \
			RUN(base "ps %[s], %[d]");                                                 \
		else                                                                               \
			RUN(base "ss %[s], %[d]");                                                 \
	} while (0)

#define FMTP2(base)                                                                                \
	do {                                                                                       \
		if (fmt == SSEFP_PS)                                                               \
			RUN(base "ps %[s], %[d]");                                                 \
		else                                                                               \
			RUN(base "pd %[s], %[d]");                                                 \
	} while (0)

#define IMM_CASE(base, n)                                                                          \
	case n:                                                                                    \
		switch (fmt) {                                                                     \
		case SSEFP_PS:                                                                     \
			RUN(base "ps $" #n ", %[s], %[d]");                                        \
			break;                                                                     \
		case SSEFP_PD:                                                                     \
			RUN(base "pd $" #n ", %[s], %[d]");                                        \
			break;                                                                     \
		case SSEFP_SS:                                                                     \
			RUN(base "ss $" #n ", %[s], %[d]");                                        \
			break;                                                                     \
		case SSEFP_SD:                                                                     \
			RUN(base "sd $" #n ", %[s], %[d]");                                        \
			break;                                                                     \
		}                                                                                  \
		break;
#define IMM8(base)                                                                                 \
	IMM_CASE(base, 0)                                                                          \
	IMM_CASE(base, 1)                                                                          \
	IMM_CASE(base, 2)                                                                          \
	IMM_CASE(base, 3)                                                                          \
	IMM_CASE(base, 4) IMM_CASE(base, 5) IMM_CASE(base, 6) IMM_CASE(base, 7)

static inline uint32_t guest_csr(uint32_t mxcsr)
{
	/* guest RC, DAZ and FTZ; every exception masked, no flag set */
	return (mxcsr & (MXCSR_RC | MXCSR_DAZ | MXCSR_FTZ)) | MXCSR_MASKS;
}

#define DP_CASE(n)                                                                                 \
	case n:                                                                                    \
		if (fmt == SSEFP_PS)                                                               \
			RUN("dpps $" #n ", %[s], %[d]");                                           \
		else                                                                               \
			RUN("dppd $" #n ", %[s], %[d]");                                           \
		break;
#define DP16(h)                                                                                    \
	DP_CASE(h##0)                                                                              \
	DP_CASE(h##1)                                                                              \
	DP_CASE(h##2)                                                                              \
	DP_CASE(h##3)                                                                              \
	DP_CASE(h##4)                                                                              \
	DP_CASE(h##5)                                                                              \
	DP_CASE(h##6)                                                                              \
	DP_CASE(h##7)                                                                              \
	DP_CASE(h##8)                                                                              \
	DP_CASE(h##9)                                                                              \
	DP_CASE(h##a)                                                                              \
	DP_CASE(h##b)                                                                              \
	DP_CASE(h##c)                                                                              \
	DP_CASE(h##d)                                                                              \
	DP_CASE(h##e)                                                                              \
	DP_CASE(h##f)

/* the host instruction under the MXCSR @mx: Return: the flags it raised */
static uint32_t run_host(enum ssefp_op op, enum ssefp_fmt fmt, union emu_xmm *d,
			 const union emu_xmm *s, uint8_t imm, uint32_t mx)
{
	v4sf dv, sv;
	uint32_t out = 0, save;

	memcpy(&dv, d, 16);
	memcpy(&sv, s, 16);
	switch (op) {
	case SSEFP_ADD:
		FMT4("add");
		break;
	case SSEFP_SUB:
		FMT4("sub");
		break;
	case SSEFP_MUL:
		FMT4("mul");
		break;
	case SSEFP_DIV:
		FMT4("div");
		break;
	case SSEFP_MIN:
		FMT4("min");
		break;
	case SSEFP_MAX:
		FMT4("max");
		break;
	case SSEFP_SQRT:
		FMT4("sqrt");
		break;
	case SSEFP_RCP:
		FMTPS("rcp");
		break;
	case SSEFP_RSQRT:
		FMTPS("rsqrt");
		break;
	case SSEFP_CMP:
		switch (imm & 7) {
			IMM8("cmp")
		}
		break;
	case SSEFP_HADD:
		FMTP2("hadd");
		break;
	case SSEFP_HSUB:
		FMTP2("hsub");
		break;
	case SSEFP_ADDSUB:
		FMTP2("addsub");
		break;
	case SSEFP_ROUND:
		switch (imm & 15) {
			IMM8("round")
			IMM_CASE("round", 8)
			IMM_CASE("round", 9)
			IMM_CASE("round", 10)
			IMM_CASE("round", 11)
			IMM_CASE("round", 12)
			IMM_CASE("round", 13)
			IMM_CASE("round", 14)
			IMM_CASE("round", 15)
		}
		break;
	case SSEFP_DP:
		/* the dot products' NaN propagation follows the hardware's own adder tree */
		switch (imm) {
			DP16(0x0)
			DP16(0x1)
			DP16(0x2)
			DP16(0x3)
			DP16(0x4)
			DP16(0x5)
			DP16(0x6)
			DP16(0x7)
			DP16(0x8)
			DP16(0x9)
			DP16(0xa)
			DP16(0xb)
			DP16(0xc)
			DP16(0xd)
			DP16(0xe)
			DP16(0xf)
		}
		break;
	case SSEFP_CVT_PS2PD:
		RUN("cvtps2pd %[s], %[d]");
		break;
	case SSEFP_CVT_PD2PS:
		RUN("cvtpd2ps %[s], %[d]");
		break;
	case SSEFP_CVT_SS2SD:
		RUN("cvtss2sd %[s], %[d]");
		break;
	case SSEFP_CVT_SD2SS:
		RUN("cvtsd2ss %[s], %[d]");
		break;
	case SSEFP_CVT_DQ2PS:
		RUN("cvtdq2ps %[s], %[d]");
		break;
	case SSEFP_CVT_PS2DQ:
		RUN("cvtps2dq %[s], %[d]");
		break;
	case SSEFP_CVTT_PS2DQ:
		RUN("cvttps2dq %[s], %[d]");
		break;
	case SSEFP_CVT_DQ2PD:
		RUN("cvtdq2pd %[s], %[d]");
		break;
	case SSEFP_CVT_PD2DQ:
		RUN("cvtpd2dq %[s], %[d]");
		break;
	case SSEFP_CVTT_PD2DQ:
		RUN("cvttpd2dq %[s], %[d]");
		break;
	}
	memcpy(d, &dv, 16);
	return out & MXCSR_FLAGS;
}

/* the host instruction with every exception masked: Return: the flags it raised */
static uint32_t run_masked(enum ssefp_op op, enum ssefp_fmt fmt, union emu_xmm *d,
			   const union emu_xmm *s, uint8_t imm, uint32_t mxcsr)
{
	return run_host(op, fmt, d, s, imm, guest_csr(mxcsr));
}

/*
 * The host instruction under the guest's own exception masks, for the forms
 * whose flags at an unmasked exception no per-element model reproduces: the
 * dot products are several dependent multiplies and adds inside one
 * instruction, and which of their masked flags the processor has recorded
 * when one of them faults is its own business. So the host takes the fault:
 * a SIGFPE handler, while a probe is active on this thread, notes the MXCSR
 * of the signal frame (the flags at the #XM) and returns with every exception
 * masked in that frame, so that the instruction runs again to completion and
 * the asm statement ends normally. Any other SIGFPE goes to the handler that
 * was installed before (or the default action).
 */
static __thread volatile int probe_active, probe_faulted;
static __thread volatile uint32_t probe_mxcsr;
static struct sigaction prev_fpe;
static pthread_once_t fpe_once = PTHREAD_ONCE_INIT;

static void fpe_handler(int sig, siginfo_t *si, void *uc_)
{
	ucontext_t *uc = uc_;

	if (probe_active && uc && uc->uc_mcontext.fpregs) {
		probe_mxcsr = uc->uc_mcontext.fpregs->mxcsr;
		probe_faulted = 1;
		uc->uc_mcontext.fpregs->mxcsr |= MXCSR_MASKS;
		return;
	}
	if (prev_fpe.sa_flags & SA_SIGINFO) {
		prev_fpe.sa_sigaction(sig, si, uc_);
	} else if (prev_fpe.sa_handler != SIG_DFL && prev_fpe.sa_handler != SIG_IGN) {
		prev_fpe.sa_handler(sig);
	} else {
		/* back to the default: the faulting instruction runs again and ends the process */
		sigaction(SIGFPE, &prev_fpe, NULL);
	}
}

static void fpe_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fpe_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGFPE, &sa, &prev_fpe);
}

/*
 * Run under the guest's MXCSR (rounding, DAZ, FTZ and masks; flags clear). Return: the
 * flags raised, with *@d the result; or at an unmasked exception the flags the processor
 * recorded then, with SSEFP_FAULT and *@d unchanged.
 */
static uint32_t run_trapping(enum ssefp_op op, enum ssefp_fmt fmt, union emu_xmm *d,
			     const union emu_xmm *s, uint8_t imm, uint32_t mxcsr)
{
	union emu_xmm r = *d;
	uint32_t fl;

	pthread_once(&fpe_once, fpe_install);
	probe_faulted = 0;
	probe_active = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	fl = run_host(op, fmt, &r, s, imm,
		      mxcsr & (MXCSR_RC | MXCSR_DAZ | MXCSR_FTZ | MXCSR_MASKS));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	probe_active = 0;
	if (probe_faulted)
		return (probe_mxcsr & MXCSR_FLAGS) | SSEFP_FAULT;
	*d = r;
	return fl;
}

#define MXCSR_OM (MXCSR_OE << MXCSR_MASK_SHIFT)
#define MXCSR_UM (MXCSR_UE << MXCSR_MASK_SHIFT)

static int is_denormal(const uint8_t *p, unsigned int w)
{
	if (w == 4) {
		uint32_t v;

		memcpy(&v, p, 4);
		return !(v & 0x7f800000u) && (v & 0x007fffffu);
	} else {
		uint64_t v;

		memcpy(&v, p, 8);
		return !(v & 0x7ff0000000000000ULL) && (v & 0x000fffffffffffffULL);
	}
}

/* how an element was computed, for the precision flag of unmasked overflow/underflow */
enum elem_kind { K_NONE, K_ADD, K_SUB, K_MUL, K_DIV, K_CVT };

/* the element of @w bytes at @p as sign, integer significand @m and exponent: m * 2^e */
static void elem_decode(const uint8_t *p, unsigned int w, int daz, int *sign, uint64_t *m, int *e)
{
	uint64_t v = 0;
	unsigned int ebits = w == 4 ? 8 : 11, fbits = w == 4 ? 23 : 52;
	int bias = w == 4 ? 127 : 1023;
	uint64_t frac, ex;

	memcpy(&v, p, w);
	*sign = (int)(v >> (8 * w - 1));
	frac = v & ((1ULL << fbits) - 1);
	ex = (v >> fbits) & ((1ULL << ebits) - 1);
	if (ex == 0) {
		*m = daz ? 0 : frac;
		*e = 1 - bias - (int)fbits;
	} else {
		*m = frac | 1ULL << fbits;
		*e = (int)ex - bias - (int)fbits;
	}
}

static int sigbits(unsigned __int128 x)
{
	uint64_t hi = (uint64_t)(x >> 64), lo = (uint64_t)x;
	int len = hi ? 128 - __builtin_clzll(hi) : 64 - __builtin_clzll(lo);
	int tz = lo ? __builtin_ctzll(lo) : 64 + __builtin_ctzll(hi);

	return len - tz;
}

/*
 * Whether the exact result of @kind on the elements at @a and @b (@win bytes
 * each) needs more than @prec significand bits: inexact when rounded with an
 * unbounded exponent.
 */
static int inexact_unbounded(enum elem_kind kind, const uint8_t *a, const uint8_t *b,
			     unsigned int win, int prec, int daz)
{
	int sa, sb, ea, eb;
	uint64_t ma, mb;

	elem_decode(a, win, daz, &sa, &ma, &ea);
	if (kind == K_CVT)
		return ma && sigbits(ma) > prec;
	elem_decode(b, win, daz, &sb, &mb, &eb);
	switch (kind) {
	case K_MUL:
		return ma && mb && sigbits((unsigned __int128)ma * mb) > prec;
	case K_DIV: {
		uint64_t odd;

		if (!ma || !mb)
			return 0;
		odd = mb >> __builtin_ctzll(mb);
		return (ma % odd) != 0 || sigbits(ma / odd) > prec;
	}
	case K_ADD:
	case K_SUB: {
		unsigned __int128 x, y, sum;

		if (kind == K_SUB)
			sb ^= 1;
		if (!ma || !mb)
			return 0;
		if (ea < eb) {
			int t = ea;
			uint64_t tm = ma;

			ea = eb;
			eb = t;
			ma = mb;
			mb = tm;
			t = sa;
			sa = sb;
			sb = t;
		}
		if (ea - eb > 64)
			return 1; /* the small addend lies wholly below the large one's last bit */
		x = (unsigned __int128)ma << (ea - eb);
		y = mb;
		sum = sa == sb ? x + y : x > y ? x - y : y - x;
		return sum && sigbits(sum) > prec;
	}
	case K_NONE:
	case K_CVT:
		break;
	}
	return 0;
}

/*
 * What one result element records when underflow or overflow is unmasked:
 * underflow on any tiny result, exact or not (FTZ does not apply), overflow
 * as such, and in both cases the precision flag only when the result rounded
 * with an unbounded exponent is inexact.
 */
static uint32_t elem_flags(uint32_t fl, const uint8_t *res, unsigned int wout, uint32_t mxcsr,
			   enum elem_kind kind, const uint8_t *a, const uint8_t *b,
			   unsigned int win)
{
	const uint32_t pre = MXCSR_IE | MXCSR_DE | MXCSR_ZE;
	int tiny = (fl & MXCSR_UE) || is_denormal(res, wout);
	int prec = wout == 4 ? 24 : 53, daz = (mxcsr & MXCSR_DAZ) != 0;

	if (kind == K_NONE) {
		if (!(mxcsr & MXCSR_UM) && !(fl & MXCSR_UE) && is_denormal(res, wout))
			fl |= MXCSR_UE;
		return fl;
	}
	if (!(mxcsr & MXCSR_UM) && tiny && !(fl & MXCSR_OE))
		return (fl & pre) | MXCSR_UE |
		       (inexact_unbounded(kind, a, b, win, prec, daz) ? MXCSR_PE : 0);
	if (!(mxcsr & MXCSR_OM) && (fl & MXCSR_OE))
		return (fl & pre) | MXCSR_OE |
		       (inexact_unbounded(kind, a, b, win, prec, daz) ? MXCSR_PE : 0);
	return fl;
}

/* fill the @w-byte element at byte @off of @x with 1.0, which raises nothing */
static void neutral(union emu_xmm *x, unsigned int off, unsigned int w)
{
	if (w == 4) {
		uint32_t one = 0x3f800000u;

		memcpy(&x->b[off], &one, 4);
	} else {
		uint64_t one = 0x3ff0000000000000ULL;

		memcpy(&x->b[off], &one, 8);
	}
}

static enum elem_kind elem_kind_of(enum ssefp_op op, unsigned int i)
{
	switch ((int)op) {
	case SSEFP_ADD:
	case SSEFP_HADD:
		return K_ADD;
	case SSEFP_SUB:
	case SSEFP_HSUB:
		return K_SUB;
	case SSEFP_ADDSUB:
		return (i & 1) ? K_ADD : K_SUB;
	case SSEFP_MUL:
		return K_MUL;
	case SSEFP_DIV:
		return K_DIV;
	case SSEFP_CVT_PD2PS:
	case SSEFP_CVT_SD2SS:
		return K_CVT;
	default:
		return K_NONE;
	}
}

uint32_t emu_ssefp_arith(enum ssefp_op op, enum ssefp_fmt fmt, union emu_xmm *d,
			 const union emu_xmm *s, uint8_t imm, uint32_t mxcsr)
{
	const uint8_t *ea, *eb;
	union emu_xmm r = *d;
	uint32_t fl, all = 0;
	unsigned int win = (fmt == SSEFP_PS || fmt == SSEFP_SS) ? 4 : 8, wout = win, n;

	if (op == SSEFP_DP && (~mxcsr & MXCSR_MASKS))
		return run_trapping(op, fmt, d, s, imm, mxcsr);
	fl = run_masked(op, fmt, &r, s, imm, mxcsr);
	if ((mxcsr & (MXCSR_OM | MXCSR_UM)) == (MXCSR_OM | MXCSR_UM))
		goto done;
	switch (op) {
	case SSEFP_ADD:
	case SSEFP_SUB:
	case SSEFP_MUL:
	case SSEFP_DIV:
	case SSEFP_ADDSUB:
	case SSEFP_HADD:
	case SSEFP_HSUB:
		break;
	case SSEFP_DP: /* all masked (see above) */
		goto done;
	case SSEFP_CVT_PD2PS:
	case SSEFP_CVT_SD2SS:
		wout = 4;
		break;
	case SSEFP_MIN:
	case SSEFP_MAX:
	case SSEFP_SQRT:
	case SSEFP_RCP:
	case SSEFP_RSQRT:
	case SSEFP_CMP:
	case SSEFP_ROUND:
	case SSEFP_CVT_PS2PD:
	case SSEFP_CVT_SS2SD:
	case SSEFP_CVT_DQ2PS:
	case SSEFP_CVT_PS2DQ:
	case SSEFP_CVTT_PS2DQ:
	case SSEFP_CVT_DQ2PD:
	case SSEFP_CVT_PD2DQ:
	case SSEFP_CVTT_PD2DQ:
		goto done; /* no overflow or underflow possible */
	}
	if (fmt == SSEFP_SS || fmt == SSEFP_SD) {
		/* a conversion's one input is the source */
		fl = elem_flags(fl, r.b, wout, mxcsr, elem_kind_of(op, 0),
				op == SSEFP_CVT_SD2SS ? s->b : d->b, s->b, win);
		goto done;
	}
	/* packed: the flags of each result element on its own (the others fed 1.0) */
	n = 16 / win;
	for (unsigned int i = 0; i < n; i++) {
		union emu_xmm d2 = *d, s2 = *s, r2;

		for (unsigned int k = 0; k < n; k++) {
			int keep_d, keep_s;

			if (op == SSEFP_HADD || op == SSEFP_HSUB) {
				/* element i sums a pair of d (low half) or of s (high half) */
				unsigned int half = n / 2, pair = (i % half) * 2;

				keep_d = i < half && (k == pair || k == pair + 1);
				keep_s = i >= half && (k == pair || k == pair + 1);
			} else {
				keep_d = keep_s = k == i;
			}
			if (!keep_d)
				neutral(&d2, k * win, win);
			if (!keep_s)
				neutral(&s2, k * win, win);
		}
		r2 = d2;
		if (op == SSEFP_HADD || op == SSEFP_HSUB) {
			unsigned int half = n / 2, pair = (i % half) * 2;
			const union emu_xmm *src = i < half ? d : s;

			ea = &src->b[pair * win];
			eb = &src->b[(pair + 1) * win];
		} else if (op == SSEFP_CVT_PD2PS) {
			ea = eb = &s->b[i * win];
		} else {
			ea = &d->b[i * win];
			eb = &s->b[i * win];
		}
		all |= elem_flags(run_masked(op, fmt, &r2, &s2, imm, mxcsr), &r.b[i * wout], wout,
				  mxcsr, elem_kind_of(op, i), ea, eb, win);
	}
	fl = all;
done:
	*d = r;
	return fl;
}

uint32_t emu_ssefp_from_int(enum ssefp_fmt fmt, union emu_xmm *d, uint64_t v, int w64,
			    uint32_t mxcsr)
{
	v4sf dv;
	uint32_t mx = guest_csr(mxcsr), out = 0, save;

	memcpy(&dv, d, 16);
#define RUNI(insn)                                                                                 \
	__asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[mi]\n\t" insn "\n\tstmxcsr %[mo]\n\t"         \
			 "ldmxcsr %[sv]"                                                           \
			 : [d] "+x"(dv), [mo] "=m"(out), [sv] "=m"(save)                           \
			 : [s] "r"(v), [s32] "r"((uint32_t)v), [mi] "m"(mx))
	if (fmt == SSEFP_SS) {
		if (w64)
			RUNI("cvtsi2ssq %[s], %[d]");
		else
			RUNI("cvtsi2ssl %[s32], %[d]");
	} else {
		if (w64)
			RUNI("cvtsi2sdq %[s], %[d]");
		else
			RUNI("cvtsi2sdl %[s32], %[d]");
	}
#undef RUNI
	memcpy(d, &dv, 16);
	return out & MXCSR_FLAGS;
}

uint32_t emu_ssefp_to_int(enum ssefp_fmt fmt, int truncate, const union emu_xmm *s, int w64,
			  uint64_t *out_v, uint32_t mxcsr)
{
	v4sf sv;
	uint64_t r = 0;
	uint32_t mx = guest_csr(mxcsr), out = 0, save;

	memcpy(&sv, s, 16);
#define RUNO(insn)                                                                                 \
	__asm__ volatile("stmxcsr %[sv]\n\tldmxcsr %[mi]\n\t" insn "\n\tstmxcsr %[mo]\n\t"         \
			 "ldmxcsr %[sv]"                                                           \
			 : [r] "=r"(r), [mo] "=m"(out), [sv] "=m"(save)                            \
			 : [s] "x"(sv), [mi] "m"(mx))
	/* a 32-bit destination write zero-extends, so %k[r] leaves the upper half clear */
	switch ((fmt == SSEFP_SD) << 2 | (truncate != 0) << 1 | (w64 != 0)) {
	case 0:
		RUNO("cvtss2si %[s], %k[r]");
		break;
	case 1:
		RUNO("cvtss2si %[s], %q[r]");
		break;
	case 2:
		RUNO("cvttss2si %[s], %k[r]");
		break;
	case 3:
		RUNO("cvttss2si %[s], %q[r]");
		break;
	case 4:
		RUNO("cvtsd2si %[s], %k[r]");
		break;
	case 5:
		RUNO("cvtsd2si %[s], %q[r]");
		break;
	case 6:
		RUNO("cvttsd2si %[s], %k[r]");
		break;
	default:
		RUNO("cvttsd2si %[s], %q[r]");
		break;
	}
#undef RUNO
	*out_v = r;
	return out & MXCSR_FLAGS;
}

uint32_t emu_ssefp_comi(enum ssefp_fmt fmt, int signaling, const union emu_xmm *a,
			const union emu_xmm *b, uint32_t mxcsr, uint32_t *zpc)
{
	v4sf av, bv;
	uint8_t z = 0, pf = 0, cf = 0;
	uint32_t mx = guest_csr(mxcsr), out = 0, save;

	memcpy(&av, a, 16);
	memcpy(&bv, b, 16);
#define RUNC(insn)                                                                                 \
	__asm__ volatile(                                                                          \
		"stmxcsr %[sv]\n\tldmxcsr %[mi]\n\t" insn " %[b], %[a]\n\t"                        \
		"setz %[z]\n\tsetp %[p]\n\tsetc %[c]\n\tstmxcsr %[mo]\n\tldmxcsr %[sv]"            \
		: [z] "=q"(z), [p] "=q"(pf), [c] "=q"(cf), [mo] "=m"(out), [sv] "=m"(save)         \
		: [a] "x"(av), [b] "x"(bv), [mi] "m"(mx)                                           \
		: "cc")
	switch ((fmt == SSEFP_SD) << 1 | (signaling != 0)) {
	case 0:
		RUNC("ucomiss");
		break;
	case 1:
		RUNC("comiss");
		break;
	case 2:
		RUNC("ucomisd");
		break;
	default:
		RUNC("comisd");
		break;
	}
#undef RUNC
	*zpc = (z ? FL_ZF : 0) | (pf ? FL_PF : 0) | (cf ? FL_CF : 0);
	return out & MXCSR_FLAGS;
}
