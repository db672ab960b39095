/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x87 floating point (D8-DF, WAIT), FXSAVE/FXRSTOR, XSAVE/XRSTOR and
 * XGETBV/XSETBV for the x87 and SSE components. This file keeps the
 * architectural state (stack top, tags, status and control words, the last
 * instruction and operand pointers), stack faults, the exception policy
 * (masked responses, #MF on the next waiting instruction, FERR# as IRQ 13
 * with CR0.NE clear) and the memory formats; the arithmetic itself is fpu.h.
 */
#include <errno.h>
#include <string.h>

#include "emu/exec-inl.h"
#include "emu/fpu.h"
#include "emu/sse.h"

static const struct emu_fpreg f_indefinite = { .mant = 0xc000000000000000ULL, .sexp = 0xffff };

static inline unsigned int top(const struct emu_cpu *c)
{
	return (c->fpu_sw >> 11) & 7;
}

static inline void set_top(struct emu_cpu *c, unsigned int t)
{
	c->fpu_sw = (uint16_t)((c->fpu_sw & ~FSW_TOP) | ((t & 7) << 11));
}

static inline unsigned int phys(const struct emu_cpu *c, unsigned int i)
{
	return (top(c) + i) & 7;
}

static inline int empty(const struct emu_cpu *c, unsigned int i)
{
	return ((c->fpu_tag >> (2 * phys(c, i))) & 3) == 3;
}

static inline void set_tag_phys(struct emu_cpu *c, unsigned int p, unsigned int t)
{
	c->fpu_tag = (uint16_t)((c->fpu_tag & ~(3u << (2 * p))) | (t << (2 * p)));
}

static inline struct emu_fpreg *st(struct emu_cpu *c, unsigned int i)
{
	return &c->fpr[phys(c, i)];
}

static inline void st_set(struct emu_cpu *c, unsigned int i, const struct emu_fpreg *v)
{
	struct emu_fpreg *d = st(c, i);

	d->mant = v->mant;
	d->sexp = v->sexp;
	set_tag_phys(c, phys(c, i), 0);
}

static inline void fpop(struct emu_cpu *c)
{
	set_tag_phys(c, phys(c, 0), 3);
	set_top(c, top(c) + 1);
}

static inline void fpush(struct emu_cpu *c, const struct emu_fpreg *v)
{
	set_top(c, top(c) - 1);
	st_set(c, 0, v);
}

/* the tag a register's contents give (FSTENV, FSAVE): 0 valid, 1 zero, 2 special */
static unsigned int tag_of(const struct emu_fpreg *r)
{
	unsigned int e = r->sexp & 0x7fff;

	if (e == 0x7fff)
		return 2;
	if (e == 0)
		return r->mant ? 2 : 1;
	return (r->mant >> 63) ? 0 : 2;
}

static uint16_t full_tag(const struct emu_cpu *c)
{
	uint16_t t = 0;

	for (unsigned int p = 0; p < 8; p++) {
		unsigned int v = ((c->fpu_tag >> (2 * p)) & 3) == 3 ? 3 : tag_of(&c->fpr[p]);

		t |= (uint16_t)(v << (2 * p));
	}
	return t;
}

/* FLDENV/FRSTOR/FXRSTOR: only empty or not comes from memory; the rest is recomputed */
static void load_tag(struct emu_cpu *c, uint16_t t)
{
	uint16_t n = 0;

	for (unsigned int p = 0; p < 8; p++)
		n |= (uint16_t)((((t >> (2 * p)) & 3) == 3 ? 3u : 0u) << (2 * p));
	c->fpu_tag = n;
}

static void update_es(struct emu_cpu *c)
{
	if (c->fpu_sw & ~c->fpu_cw & FSW_EXC)
		c->fpu_sw |= FSW_ES | FSW_B;
	else
		c->fpu_sw &= (uint16_t) ~(FSW_ES | FSW_B);
}

/*
 * Merge the status of an operation: exception flags accumulate, the condition
 * codes in @cc are replaced. Return: 1 when an unmasked exception in @stop
 * means the destination must stay as it was.
 */
static int merge(struct emu_cpu *c, unsigned int sw, unsigned int cc, unsigned int stop)
{
	unsigned int exc = sw & FSW_EXC;

	c->fpu_sw = (uint16_t)((c->fpu_sw & ~cc) | (sw & cc) | exc | (sw & FSW_SF));
	if (exc & ~c->fpu_cw & FSW_EXC)
		c->fpu_sw |= FSW_ES | FSW_B;
	return (exc & ~c->fpu_cw & stop) != 0;
}

#define PRE (FSW_IE | FSW_DE | FSW_ZE)

/* stack underflow (an empty register read): Return: 1 when masked (use the indefinite) */
static int underflow(struct emu_cpu *c)
{
	merge(c, FSW_IE | FSW_SF, FSW_C1, 0);
	return (c->fpu_cw & FSW_IE) != 0;
}

/* a push onto a full stack: Return 1 when masked (push the indefinite) */
static int overflow(struct emu_cpu *c)
{
	merge(c, FSW_IE | FSW_SF | FSW_C1, FSW_C1, 0);
	return (c->fpu_cw & FSW_IE) != 0;
}

/*
 * room for a push: Return 1 when there is, 0 when the push must not happen
 * (unmasked overflow), 2 after a masked overflow (push the indefinite)
 */
static int push_check(struct emu_cpu *c)
{
	if (((c->fpu_tag >> (2 * ((top(c) - 1) & 7))) & 3) == 3)
		return 1;
	return overflow(c) ? 2 : 0;
}

/* a compare with an empty operand: unordered even when the fault is unmasked */
static int underflow_cmp(struct emu_cpu *c)
{
	int masked = underflow(c);

	c->fpu_sw |= FSW_C0 | FSW_C2 | FSW_C3;
	return masked;
}

void emu_fpu_pending(struct emu_cpu *c)
{
	if (!(c->fpu_sw & FSW_ES))
		return;
	if (c->cr0 & CR0_NE)
		emu_raise(c, EXC_MF, 0, 0);
	/* CR0.NE clear: FERR# drives IRQ 13 through the PIC, as on a PC (IGNNE# style) */
	emu_pic_set_irq(c->vm, 13, 1);
	emu_pic_set_irq(c->vm, 13, 0);
}

/* #NM, then the pending-exception check of a waiting instruction */
static void fpu_enter(struct emu_cpu *c, int wait)
{
	if (c->cr0 & (CR0_EM | CR0_TS))
		emu_raise(c, EXC_NM, 0, 0);
	if (wait)
		emu_fpu_pending(c);
}

/* a non-control instruction: remember its opcode and pointers */
static void fpu_note(struct emu_cpu *c, const struct emu_insn *in)
{
	c->fpu_fop = (uint16_t)(((in->op & 7) << 8) | (in->mod << 6) | ((in->reg & 7) << 3) |
				(in->rm & 7));
	c->fpu_ip = c->rip;
	c->fpu_cs = c->seg[SEG_CS].selector;
	if (in->mod != 3) {
		c->fpu_dp = ea(c, in);
		c->fpu_ds = c->seg[in->seg].selector;
	}
}

static void mem_read(struct emu_cpu *c, const struct emu_insn *in, void *buf, unsigned int n)
{
	emu_lin_read(c, rm_lin(c, in, (int)n, ACC_READ), buf, n, ACC_READ, is_user(c));
}

/* D8 DC /r arithmetic order: ADD MUL COM COMP SUB SUBR DIV DIVR, a = ST(0) */
static const enum fpu_op2 arith_ops[8] = { FPU_ADD, FPU_MUL,  FPU_COM, FPU_COM,
					   FPU_SUB, FPU_SUBR, FPU_DIV, FPU_DIVR };

#define CC_ALL (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

/* ST(0) op= m (D8, DA, DC, DE memory forms) */
static void arith_mem(struct emu_cpu *c, const struct emu_insn *in, enum fpu_fmt fmt)
{
	unsigned int reg = in->reg & 7, sw;
	uint8_t buf[16];
	struct emu_fpreg r;

	mem_read(c, in, buf, fpu_fmt_size(fmt));
	if (empty(c, 0)) {
		if (reg == 2 || reg == 3) {
			if (underflow_cmp(c) && reg == 3)
				fpop(c);
			return;
		}
		if (underflow(c))
			st_set(c, 0, &f_indefinite);
		return;
	}
	if (reg == 2 || reg == 3) {
		sw = fpu_op2m(FPU_COM, fmt, c->fpu_cw, c->fpu_sw, st(c, 0), buf, NULL);
		if (merge(c, sw, CC_ALL, PRE))
			return;
		if (reg == 3)
			fpop(c);
		return;
	}
	sw = fpu_op2m(arith_ops[reg], fmt, c->fpu_cw, c->fpu_sw, st(c, 0), buf, &r);
	if (merge(c, sw, FSW_C1, PRE))
		return;
	st_set(c, 0, &r);
}

/* register forms: D8 (dest ST(0)), DC (dest ST(i)), DE (dest ST(i), pop) */
static void arith_reg(struct emu_cpu *c, const struct emu_insn *in, int dest_i, int do_pop)
{
	unsigned int reg = in->reg & 7, i = in->rm & 7, sw;
	struct emu_fpreg r;

	if (reg == 2 || reg == 3) { /* FCOM/FCOMP ST(i) (and the DC/DE aliases) */
		if (empty(c, 0) || empty(c, i)) {
			if (!underflow_cmp(c))
				return;
		} else {
			sw = fpu_op2(FPU_COM, c->fpu_cw, c->fpu_sw, st(c, 0), st(c, i), NULL);
			if (merge(c, sw, CC_ALL, PRE))
				return;
		}
		if (reg == 3 || do_pop)
			fpop(c);
		return;
	}
	if (empty(c, 0) || empty(c, i)) {
		if (!underflow(c))
			return;
		r = f_indefinite;
	} else {
		sw = fpu_op2(arith_ops[reg], c->fpu_cw, c->fpu_sw, st(c, 0), st(c, i), &r);
		if (merge(c, sw, FSW_C1, PRE))
			return;
	}
	st_set(c, dest_i ? i : 0, &r);
	if (do_pop)
		fpop(c);
}

/* FLD m / FILD m / FBLD m */
static void load_mem(struct emu_cpu *c, const struct emu_insn *in, enum fpu_fmt fmt)
{
	uint8_t buf[16];
	struct emu_fpreg v;
	unsigned int sw;

	int room;

	mem_read(c, in, buf, fpu_fmt_size(fmt));
	room = push_check(c);
	if (room != 1) {
		if (room)
			fpush(c, &f_indefinite);
		return;
	}
	sw = fpu_load(fmt, c->fpu_cw, c->fpu_sw, buf, &v);
	/* an unmasked denormal operand still loads: only invalid stops it */
	if (merge(c, sw, FSW_C1, FSW_IE))
		return;
	fpush(c, &v);
}

/* FST/FSTP/FIST/FISTP/FISTTP/FBSTP m */
static void store_mem(struct emu_cpu *c, const struct emu_insn *in, enum fpu_fmt fmt, int do_pop)
{
	unsigned int n = fpu_fmt_size(fmt), sw = 0;
	uint64_t lin = rm_lin(c, in, (int)n, ACC_WRITE);
	uint8_t buf[16];
	const struct emu_fpreg *a = st(c, 0);

	/* probe the destination before anything changes */
	emu_tlb_fill(c, lin, ACC_WRITE, is_user(c));
	if ((lin & 0xfff) + n > 4096)
		emu_tlb_fill(c, lin + n - 1, ACC_WRITE, is_user(c));
	if (empty(c, 0)) {
		if (!underflow(c))
			return;
		a = &f_indefinite;
	}
	sw |= fpu_store(fmt, c->fpu_cw, c->fpu_sw, a, buf);
	if (merge(c, sw, FSW_C1, FSW_IE | FSW_OE | FSW_UE))
		return;
	emu_lin_write(c, lin, buf, n, is_user(c));
	if (do_pop)
		fpop(c);
}

/* compare into EFLAGS (FCOMI FUCOMI and the popping forms); unordered on a fault */
static void comi(struct emu_cpu *c, const struct emu_insn *in, int unordered, int do_pop)
{
	unsigned int i = in->rm & 7, sw;
	uint64_t fl = emu_flags_get(c) & ~(uint64_t)(FL_ZF | FL_PF | FL_CF | FL_OF | FL_SF | FL_AF);
	int stop;

	if (empty(c, 0) || empty(c, i)) {
		stop = !underflow(c);
		fl |= FL_ZF | FL_PF | FL_CF;
	} else {
		sw = fpu_op2(unordered ? FPU_UCOM : FPU_COM, c->fpu_cw, c->fpu_sw, st(c, 0),
			     st(c, i), NULL);
		stop = merge(c, sw & ~CC_ALL, 0, PRE);
		if (sw & FSW_C3)
			fl |= FL_ZF;
		if (sw & FSW_C2)
			fl |= FL_PF;
		if (sw & FSW_C0)
			fl |= FL_CF;
	}
	emu_flags_set(c, fl);
	if (do_pop && !stop)
		fpop(c);
}

static void fcmov(struct emu_cpu *c, const struct emu_insn *in, int cond)
{
	unsigned int i = in->rm & 7;

	if (empty(c, 0) || empty(c, i)) {
		/* the masked response writes the destination whatever the condition */
		if (underflow(c))
			st_set(c, 0, &f_indefinite);
		return;
	}
	if (cond) {
		struct emu_fpreg v = *st(c, i);

		st_set(c, 0, &v);
	}
}

/* ST(0) = op(ST(0)) */
static void unary(struct emu_cpu *c, enum fpu_op1 op, unsigned int cc)
{
	struct emu_fpreg r;
	unsigned int sw;

	if (empty(c, 0)) {
		c->fpu_sw &= (uint16_t) ~(cc & FSW_C2);
		if (underflow(c))
			st_set(c, 0, &f_indefinite);
		return;
	}
	sw = fpu_op1(op, c->fpu_cw, c->fpu_sw, st(c, 0), &r, NULL);
	if (merge(c, sw, cc, PRE))
		return;
	if ((op == FPU_SIN || op == FPU_COS) && (sw & FSW_C2))
		return; /* out of range: the operand stays */
	st_set(c, 0, &r);
}

/* FPTAN FSINCOS FXTRACT: ST(0) = second result, then push the first */
static void unary2(struct emu_cpu *c, enum fpu_op1 op)
{
	struct emu_fpreg r0, r1;
	unsigned int sw;
	int room;

	if (empty(c, 0)) {
		c->fpu_sw &= (uint16_t)~FSW_C2;
		if (!underflow(c))
			return;
		st_set(c, 0, &f_indefinite);
		fpush(c, &f_indefinite);
		return;
	}
	c->fpu_sw &= (uint16_t)~FSW_C2;
	room = push_check(c);
	if (room != 1) {
		if (room) {
			/* masked stack overflow: both become the indefinite */
			st_set(c, 0, &f_indefinite);
			fpush(c, &f_indefinite);
		}
		return;
	}
	sw = fpu_op1(op, c->fpu_cw, c->fpu_sw, st(c, 0), &r0, &r1);
	if (merge(c, sw, FSW_C1 | FSW_C2, PRE))
		return;
	if (op != FPU_XTRACT && (sw & FSW_C2))
		return; /* out of range */
	st_set(c, 0, &r1);
	fpush(c, &r0);
}

/* ST(1) = op(ST(0), ST(1)), pop (FYL2X FYL2XP1 FPATAN) */
static void binary_pop(struct emu_cpu *c, enum fpu_op2 op)
{
	struct emu_fpreg r;
	unsigned int sw;

	if (empty(c, 0) || empty(c, 1)) {
		if (!underflow(c))
			return;
		st_set(c, 1, &f_indefinite);
		fpop(c);
		return;
	}
	sw = fpu_op2(op, c->fpu_cw, c->fpu_sw, st(c, 0), st(c, 1), &r);
	if (merge(c, sw, FSW_C1, PRE))
		return;
	st_set(c, 1, &r);
	fpop(c);
}

/* ST(0) = op(ST(0), ST(1)) (FPREM FPREM1 FSCALE) */
static void binary(struct emu_cpu *c, enum fpu_op2 op, unsigned int cc)
{
	struct emu_fpreg r;
	unsigned int sw;

	if (empty(c, 0) || empty(c, 1)) {
		c->fpu_sw &= (uint16_t) ~(cc & FSW_C2);
		if (underflow(c))
			st_set(c, 0, &f_indefinite);
		return;
	}
	sw = fpu_op2(op, c->fpu_cw, c->fpu_sw, st(c, 0), st(c, 1), &r);
	if (merge(c, sw, cc, PRE))
		return;
	st_set(c, 0, &r);
}

static void fninit(struct emu_cpu *c)
{
	c->fpu_cw = 0x37f;
	c->fpu_sw = 0;
	c->fpu_tag = 0xffff;
	c->fpu_fop = c->fpu_cs = c->fpu_ds = 0;
	c->fpu_ip = c->fpu_dp = 0;
}

/*
 * The x87 environment image of FNSTENV/FLDENV (and the head of FNSAVE/FRSTOR):
 * 14 bytes with a 16-bit operand size, 28 with 32 bits; protected-mode and
 * real-mode (and virtual-8086) layouts differ in the pointer fields.
 */
static unsigned int env_size(const struct emu_insn *in)
{
	return in->osz == 2 ? 14 : 28;
}

static void env_store(struct emu_cpu *c, const struct emu_insn *in, uint8_t *b)
{
	int real = !(c->cr0 & CR0_PE) || (c->flags & FL_VM);
	uint32_t f[7];
	unsigned int w = in->osz == 2 ? 2 : 4;

	f[0] = c->fpu_cw | (w == 4 ? 0xffff0000u : 0);
	f[1] = c->fpu_sw | (w == 4 ? 0xffff0000u : 0);
	f[2] = full_tag(c) | (w == 4 ? 0xffff0000u : 0);
	if (!real) {
		f[3] = (uint32_t)c->fpu_ip;
		f[4] = c->fpu_cs | ((uint32_t)(c->fpu_fop & 0x7ff) << 16);
		f[5] = (uint32_t)c->fpu_dp;
		f[6] = c->fpu_ds | (w == 4 ? 0xffff0000u : 0);
		if (w == 2)
			f[4] = c->fpu_cs;
	} else {
		uint32_t ip = (uint32_t)c->fpu_ip + ((uint32_t)c->fpu_cs << 4);
		uint32_t dp = (uint32_t)c->fpu_dp + ((uint32_t)c->fpu_ds << 4);

		if (w == 4) {
			f[3] = (ip & 0xffff) | 0xffff0000u;
			f[4] = ((ip >> 16) << 12) | (c->fpu_fop & 0x7ff);
			f[5] = (dp & 0xffff) | 0xffff0000u;
			f[6] = (dp >> 16) << 12;
		} else {
			f[3] = ip & 0xffff;
			f[4] = (((ip >> 16) & 0xf) << 12) | (c->fpu_fop & 0x7ff);
			f[5] = dp & 0xffff;
			f[6] = ((dp >> 16) & 0xf) << 12;
		}
	}
	for (unsigned int k = 0; k < 7; k++)
		memcpy(b + k * w, &f[k], w);
}

static void env_load(struct emu_cpu *c, const struct emu_insn *in, const uint8_t *b)
{
	int real = !(c->cr0 & CR0_PE) || (c->flags & FL_VM);
	uint32_t f[7] = { 0 };
	unsigned int w = in->osz == 2 ? 2 : 4;

	for (unsigned int k = 0; k < 7; k++)
		memcpy(&f[k], b + k * w, w);
	c->fpu_cw = (uint16_t)(f[0] | 0x40);
	c->fpu_sw = (uint16_t)f[1];
	load_tag(c, (uint16_t)f[2]);
	if (!real) {
		c->fpu_ip = f[3];
		c->fpu_cs = (uint16_t)f[4];
		c->fpu_fop = w == 4 ? (uint16_t)((f[4] >> 16) & 0x7ff) : 0;
		c->fpu_dp = f[5];
		c->fpu_ds = (uint16_t)f[6];
	} else {
		c->fpu_ip = (f[3] & 0xffff) | ((f[4] >> 12) << 16);
		c->fpu_fop = (uint16_t)(f[4] & 0x7ff);
		c->fpu_dp = (f[5] & 0xffff) | ((f[6] >> 12) << 16);
		c->fpu_cs = c->fpu_ds = 0;
	}
	update_es(c);
}

static void fnstenv(struct emu_cpu *c, const struct emu_insn *in, int save)
{
	unsigned int n = env_size(in) + (save ? 80 : 0);
	uint64_t lin = rm_lin(c, in, (int)n, ACC_WRITE);
	uint8_t b[108];

	env_store(c, in, b);
	if (save)
		for (unsigned int i = 0; i < 8; i++)
			memcpy(b + env_size(in) + 10 * i, st(c, i), 10);
	emu_lin_write(c, lin, b, n, is_user(c));
	if (save)
		fninit(c);
	else
		c->fpu_cw |= FSW_EXC; /* FNSTENV masks all exceptions */
}

static void fldenv(struct emu_cpu *c, const struct emu_insn *in, int rstor)
{
	unsigned int n = env_size(in) + (rstor ? 80 : 0);
	uint8_t b[108];

	mem_read(c, in, b, n);
	env_load(c, in, b);
	if (rstor)
		for (unsigned int i = 0; i < 8; i++) {
			struct emu_fpreg *r = st(c, i);

			memcpy(&r->mant, b + env_size(in) + 10 * i, 8);
			memcpy(&r->sexp, b + env_size(in) + 10 * i + 8, 2);
		}
}

static void fxch(struct emu_cpu *c, unsigned int i)
{
	struct emu_fpreg a, b;

	if (empty(c, 0) || empty(c, i)) {
		if (!underflow(c))
			return;
		if (empty(c, 0))
			st_set(c, 0, &f_indefinite);
		if (empty(c, i))
			st_set(c, i, &f_indefinite);
	}
	c->fpu_sw &= (uint16_t)~FSW_C1;
	a = *st(c, 0);
	b = *st(c, i);
	st_set(c, 0, &b);
	st_set(c, i, &a);
}

/* FST/FSTP ST(i) */
static void fst_reg(struct emu_cpu *c, unsigned int i, int do_pop)
{
	struct emu_fpreg v;

	if (empty(c, 0)) {
		if (!underflow(c))
			return;
		v = f_indefinite;
	} else {
		v = *st(c, 0);
		c->fpu_sw &= (uint16_t)~FSW_C1;
	}
	st_set(c, i, &v);
	if (do_pop)
		fpop(c);
}

static void fld_reg(struct emu_cpu *c, unsigned int i)
{
	struct emu_fpreg v;
	int room;

	if (empty(c, i)) {
		/* an empty source: the masked response pushes the indefinite, full or not */
		if (underflow(c))
			fpush(c, &f_indefinite);
		return;
	}
	room = push_check(c);
	if (room != 1) {
		if (room)
			fpush(c, &f_indefinite);
		return;
	}
	v = *st(c, i);
	c->fpu_sw &= (uint16_t)~FSW_C1;
	fpush(c, &v);
}

static void fxam(struct emu_cpu *c)
{
	unsigned int sw;
	const struct emu_fpreg *a = st(c, 0);

	if (empty(c, 0)) {
		c->fpu_sw = (uint16_t)((c->fpu_sw & ~CC_ALL) | FSW_C3 | FSW_C0 |
				       ((a->sexp & 0x8000) ? FSW_C1 : 0));
		return;
	}
	sw = fpu_op1(FPU_XAM, c->fpu_cw, c->fpu_sw, a, NULL, NULL);
	c->fpu_sw = (uint16_t)((c->fpu_sw & ~CC_ALL) | (sw & CC_ALL));
}

static void fldk(struct emu_cpu *c, enum fpu_const k)
{
	struct emu_fpreg v;
	unsigned int sw;
	int room = push_check(c);

	if (room != 1) {
		if (room)
			fpush(c, &f_indefinite);
		return;
	}
	sw = fpu_const(k, c->fpu_cw, c->fpu_sw, &v);
	merge(c, sw, FSW_C1, 0);
	fpush(c, &v);
}

static void h_d8(struct emu_cpu *c, const struct emu_insn *in)
{
	fpu_enter(c, 1);
	fpu_note(c, in);
	if (in->mod != 3)
		arith_mem(c, in, FPU_F32);
	else
		arith_reg(c, in, 0, 0);
}

static void d9_reg(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned int reg = in->reg & 7, rm = in->rm & 7;

	switch (reg) {
	case 0:
		fld_reg(c, rm);
		return;
	case 1:
		fxch(c, rm);
		return;
	case 2:
		if (rm != 0)
			emu_raise(c, EXC_UD, 0, 0);
		return; /* FNOP */
	case 3:
		fst_reg(c, rm, 1); /* FSTP1 */
		return;
	case 4:
		switch (rm) {
		case 0: /* FCHS */
		case 1: /* FABS */
			if (empty(c, 0)) {
				if (underflow(c))
					st_set(c, 0, &f_indefinite);
				return;
			}
			c->fpu_sw &= (uint16_t)~FSW_C1;
			if (rm == 0)
				st(c, 0)->sexp ^= 0x8000;
			else
				st(c, 0)->sexp &= 0x7fff;
			return;
		case 4: /* FTST */
			if (empty(c, 0)) {
				underflow_cmp(c);
				return;
			}
			merge(c, fpu_op1(FPU_TST, c->fpu_cw, c->fpu_sw, st(c, 0), NULL, NULL),
			      CC_ALL, 0);
			return;
		case 5:
			fxam(c);
			return;
		default:
			emu_raise(c, EXC_UD, 0, 0);
		}
	case 5:
		if (rm == 7)
			emu_raise(c, EXC_UD, 0, 0);
		fldk(c, (enum fpu_const)rm);
		return;
	case 6:
		switch (rm) {
		case 0:
			unary(c, FPU_F2XM1, FSW_C1);
			return;
		case 1:
			binary_pop(c, FPU_YL2X);
			return;
		case 2:
			unary2(c, FPU_PTAN);
			return;
		case 3:
			binary_pop(c, FPU_PATAN);
			return;
		case 4:
			unary2(c, FPU_XTRACT);
			return;
		case 5:
			binary(c, FPU_PREM1, CC_ALL);
			return;
		case 6: /* FDECSTP */
			set_top(c, top(c) - 1);
			c->fpu_sw &= (uint16_t)~FSW_C1;
			return;
		default: /* FINCSTP */
			set_top(c, top(c) + 1);
			c->fpu_sw &= (uint16_t)~FSW_C1;
			return;
		}
	default:
		switch (rm) {
		case 0:
			binary(c, FPU_PREM, CC_ALL);
			return;
		case 1:
			binary_pop(c, FPU_YL2XP1);
			return;
		case 2:
			unary(c, FPU_SQRT, FSW_C1);
			return;
		case 3:
			unary2(c, FPU_SINCOS);
			return;
		case 4:
			unary(c, FPU_RNDINT, FSW_C1);
			return;
		case 5:
			binary(c, FPU_SCALE, FSW_C1);
			return;
		case 6:
			unary(c, FPU_SIN, FSW_C1 | FSW_C2);
			return;
		default:
			unary(c, FPU_COS, FSW_C1 | FSW_C2);
			return;
		}
	}
}

static void h_d9(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned int reg = in->reg & 7;

	if (in->mod == 3) {
		fpu_enter(c, 1);
		fpu_note(c, in);
		d9_reg(c, in);
		return;
	}
	switch (reg) {
	case 0:
		fpu_enter(c, 1);
		fpu_note(c, in);
		load_mem(c, in, FPU_F32);
		return;
	case 2:
	case 3:
		fpu_enter(c, 1);
		fpu_note(c, in);
		store_mem(c, in, FPU_F32, reg == 3);
		return;
	case 4: /* FLDENV */
		fpu_enter(c, 1);
		fldenv(c, in, 0);
		return;
	case 5: /* FLDCW */
		fpu_enter(c, 1);
		c->fpu_cw = (uint16_t)(rm_read(c, in, 2) | 0x40);
		update_es(c);
		return;
	case 6: /* FNSTENV */
		fpu_enter(c, 0);
		fnstenv(c, in, 0);
		return;
	case 7: /* FNSTCW */
		fpu_enter(c, 0);
		rm_write(c, in, 2, c->fpu_cw);
		return;
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

static void h_da(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned int reg = in->reg & 7;

	fpu_enter(c, 1);
	if (in->mod != 3) {
		fpu_note(c, in);
		arith_mem(c, in, FPU_I32);
		return;
	}
	fpu_note(c, in);
	switch (reg) {
	case 0:
		fcmov(c, in, emu_cond(c, 2)); /* FCMOVB */
		return;
	case 1:
		fcmov(c, in, emu_cond(c, 4)); /* FCMOVE */
		return;
	case 2:
		fcmov(c, in, emu_cond(c, 6)); /* FCMOVBE */
		return;
	case 3:
		fcmov(c, in, emu_cond(c, 10)); /* FCMOVU */
		return;
	case 5:
		if ((in->rm & 7) == 1) { /* FUCOMPP */
			unsigned int sw;

			if (empty(c, 0) || empty(c, 1)) {
				if (!underflow_cmp(c))
					return;
			} else {
				sw = fpu_op2(FPU_UCOM, c->fpu_cw, c->fpu_sw, st(c, 0), st(c, 1),
					     NULL);
				if (merge(c, sw, CC_ALL, PRE))
					return;
			}
			fpop(c);
			fpop(c);
			return;
		}
		emu_raise(c, EXC_UD, 0, 0);
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

static void h_db(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned int reg = in->reg & 7;

	if (in->mod != 3) {
		fpu_enter(c, 1);
		fpu_note(c, in);
		switch (reg) {
		case 0:
			load_mem(c, in, FPU_I32);
			return;
		case 1:
			store_mem(c, in, FPU_I32T, 1);
			return;
		case 2:
		case 3:
			store_mem(c, in, FPU_I32, reg == 3);
			return;
		case 5:
			load_mem(c, in, FPU_F80);
			return;
		case 7:
			store_mem(c, in, FPU_F80, 1);
			return;
		default:
			emu_raise(c, EXC_UD, 0, 0);
		}
	}
	if (reg == 4) {
		switch (in->rm & 7) {
		case 0: /* FENI, FDISI, FSETPM: no-ops since the 387 */
		case 1:
		case 4:
			fpu_enter(c, 1);
			return;
		case 2: /* FNCLEX */
			fpu_enter(c, 0);
			c->fpu_sw &= 0x7f00;
			return;
		case 3: /* FNINIT */
			fpu_enter(c, 0);
			fninit(c);
			return;
		default:
			emu_raise(c, EXC_UD, 0, 0);
		}
	}
	fpu_enter(c, 1);
	fpu_note(c, in);
	switch (reg) {
	case 0:
		fcmov(c, in, !emu_cond(c, 2)); /* FCMOVNB */
		return;
	case 1:
		fcmov(c, in, !emu_cond(c, 4)); /* FCMOVNE */
		return;
	case 2:
		fcmov(c, in, !emu_cond(c, 6)); /* FCMOVNBE */
		return;
	case 3:
		fcmov(c, in, !emu_cond(c, 10)); /* FCMOVNU */
		return;
	case 5:
		comi(c, in, 1, 0); /* FUCOMI */
		return;
	case 6:
		comi(c, in, 0, 0); /* FCOMI */
		return;
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

static void h_dc(struct emu_cpu *c, const struct emu_insn *in)
{
	fpu_enter(c, 1);
	fpu_note(c, in);
	if (in->mod != 3)
		arith_mem(c, in, FPU_F64);
	else
		arith_reg(c, in, 1, 0);
}

static void h_dd(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned int reg = in->reg & 7, rm = in->rm & 7;

	if (in->mod != 3) {
		switch (reg) {
		case 0:
			fpu_enter(c, 1);
			fpu_note(c, in);
			load_mem(c, in, FPU_F64);
			return;
		case 1:
			fpu_enter(c, 1);
			fpu_note(c, in);
			store_mem(c, in, FPU_I64T, 1);
			return;
		case 2:
		case 3:
			fpu_enter(c, 1);
			fpu_note(c, in);
			store_mem(c, in, FPU_F64, reg == 3);
			return;
		case 4: /* FRSTOR */
			fpu_enter(c, 1);
			fldenv(c, in, 1);
			return;
		case 6: /* FNSAVE */
			fpu_enter(c, 0);
			fnstenv(c, in, 1);
			return;
		case 7: /* FNSTSW m16 */
			fpu_enter(c, 0);
			rm_write(c, in, 2, c->fpu_sw);
			return;
		default:
			emu_raise(c, EXC_UD, 0, 0);
		}
	}
	fpu_enter(c, 1);
	fpu_note(c, in);
	switch (reg) {
	case 0: /* FFREE */
		set_tag_phys(c, phys(c, rm), 3);
		c->fpu_sw &= (uint16_t)~FSW_C1;
		return;
	case 1:
		fxch(c, rm); /* FXCH4 */
		return;
	case 2:
	case 3:
		fst_reg(c, rm, reg == 3);
		return;
	case 4:
	case 5: { /* FUCOM FUCOMP */
		unsigned int sw;

		if (empty(c, 0) || empty(c, rm)) {
			if (!underflow_cmp(c))
				return;
		} else {
			sw = fpu_op2(FPU_UCOM, c->fpu_cw, c->fpu_sw, st(c, 0), st(c, rm), NULL);
			if (merge(c, sw, CC_ALL, PRE))
				return;
		}
		if (reg == 5)
			fpop(c);
		return;
	}
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

static void h_de(struct emu_cpu *c, const struct emu_insn *in)
{
	fpu_enter(c, 1);
	fpu_note(c, in);
	if (in->mod != 3) {
		arith_mem(c, in, FPU_I16);
		return;
	}
	if ((in->reg & 7) == 3) {
		if ((in->rm & 7) != 1)
			emu_raise(c, EXC_UD, 0, 0);
		/* FCOMPP: compare ST(0) with ST(1), pop twice */
		if (empty(c, 0) || empty(c, 1)) {
			if (!underflow_cmp(c))
				return;
		} else if (merge(c,
				 fpu_op2(FPU_COM, c->fpu_cw, c->fpu_sw, st(c, 0), st(c, 1), NULL),
				 CC_ALL, PRE)) {
			return;
		}
		fpop(c);
		fpop(c);
		return;
	}
	arith_reg(c, in, 1, 1);
}

static void h_df(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned int reg = in->reg & 7, rm = in->rm & 7;

	if (in->mod != 3) {
		fpu_enter(c, 1);
		fpu_note(c, in);
		switch (reg) {
		case 0:
			load_mem(c, in, FPU_I16);
			return;
		case 1:
			store_mem(c, in, FPU_I16T, 1);
			return;
		case 2:
		case 3:
			store_mem(c, in, FPU_I16, reg == 3);
			return;
		case 4:
			load_mem(c, in, FPU_BCD);
			return;
		case 5:
			load_mem(c, in, FPU_I64);
			return;
		case 6:
			store_mem(c, in, FPU_BCD, 1);
			return;
		default:
			store_mem(c, in, FPU_I64, 1);
			return;
		}
	}
	if (reg == 4) {
		if (rm != 0)
			emu_raise(c, EXC_UD, 0, 0);
		fpu_enter(c, 0);
		set_reg(c, 0, 2, 1, c->fpu_sw); /* FNSTSW AX */
		return;
	}
	fpu_enter(c, 1);
	fpu_note(c, in);
	switch (reg) {
	case 0: /* FFREEP */
		set_tag_phys(c, phys(c, rm), 3);
		fpop(c);
		return;
	case 1:
		fxch(c, rm); /* FXCH7 */
		return;
	case 2:
	case 3:
		fst_reg(c, rm, 1); /* FSTP8 FSTP9 */
		return;
	case 5:
		comi(c, in, 1, 1); /* FUCOMIP */
		return;
	case 6:
		comi(c, in, 0, 1); /* FCOMIP */
		return;
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

static void h_fwait(struct emu_cpu *c, const struct emu_insn *in) /* 9b */
{
	if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
		emu_raise(c, EXC_NM, 0, 0);
	emu_fpu_pending(c);
}

/* ---- FXSAVE / FXRSTOR / XSAVE / XRSTOR ---- */

#define XCR0_SUPPORTED EMU_XCR0_SUPPORTED
#define XSAVE_SIZE 576u /* legacy area and header: components 0 and 1 */

static uint8_t abridged_tag(const struct emu_cpu *c)
{
	uint8_t t = 0;

	for (unsigned int p = 0; p < 8; p++)
		if (((c->fpu_tag >> (2 * p)) & 3) != 3)
			t |= (uint8_t)(1u << p);
	return t;
}

static unsigned int nr_xmm(const struct emu_cpu *c)
{
	return c->mode == 2 ? 16 : 8;
}

/* the legacy area's x87 part (bytes 0-159) and/or its SSE part (MXCSR, XMM) */
static void fx_fill(struct emu_cpu *c, const struct emu_insn *in, uint8_t *b, int x87, int sse)
{
	int wide = (in->rex & 8) != 0;

	if (x87) {
		uint16_t v16;
		uint32_t v32;

		memcpy(b + 0, &c->fpu_cw, 2);
		memcpy(b + 2, &c->fpu_sw, 2);
		b[4] = abridged_tag(c);
		b[5] = 0;
		memcpy(b + 6, &c->fpu_fop, 2);
		if (wide) {
			memcpy(b + 8, &c->fpu_ip, 8);
			memcpy(b + 16, &c->fpu_dp, 8);
		} else {
			v32 = (uint32_t)c->fpu_ip;
			memcpy(b + 8, &v32, 4);
			memcpy(b + 12, &c->fpu_cs, 2);
			memset(b + 14, 0, 2);
			v32 = (uint32_t)c->fpu_dp;
			memcpy(b + 16, &v32, 4);
			v16 = c->fpu_ds;
			memcpy(b + 20, &v16, 2);
			memset(b + 22, 0, 2);
		}
		for (unsigned int i = 0; i < 8; i++) {
			memset(b + 32 + 16 * i, 0, 16);
			memcpy(b + 32 + 16 * i, st(c, i), 10);
		}
	}
	if (sse) {
		uint32_t mask = MXCSR_WRITABLE;

		memcpy(b + 24, &c->mxcsr, 4);
		memcpy(b + 28, &mask, 4);
		for (unsigned int i = 0; i < nr_xmm(c); i++)
			memcpy(b + 160 + 16 * i, &c->xmm[i], 16);
	}
}

static void fx_load_x87(struct emu_cpu *c, const struct emu_insn *in, const uint8_t *b)
{
	int wide = (in->rex & 8) != 0;
	uint32_t v32;
	uint16_t t = 0;

	memcpy(&c->fpu_cw, b, 2);
	c->fpu_cw |= 0x40;
	memcpy(&c->fpu_sw, b + 2, 2);
	for (unsigned int p = 0; p < 8; p++)
		if (!((b[4] >> p) & 1))
			t |= (uint16_t)(3u << (2 * p));
	c->fpu_tag = t;
	memcpy(&c->fpu_fop, b + 6, 2);
	c->fpu_fop &= 0x7ff;
	if (wide) {
		memcpy(&c->fpu_ip, b + 8, 8);
		memcpy(&c->fpu_dp, b + 16, 8);
	} else {
		memcpy(&v32, b + 8, 4);
		c->fpu_ip = v32;
		memcpy(&c->fpu_cs, b + 12, 2);
		memcpy(&v32, b + 16, 4);
		c->fpu_dp = v32;
		memcpy(&c->fpu_ds, b + 20, 2);
	}
	for (unsigned int i = 0; i < 8; i++) {
		struct emu_fpreg *r = st(c, i);

		memcpy(&r->mant, b + 32 + 16 * i, 8);
		memcpy(&r->sexp, b + 32 + 16 * i + 8, 2);
	}
	update_es(c);
}

static uint32_t mxcsr_checked(struct emu_cpu *c, const uint8_t *b)
{
	uint32_t m;

	memcpy(&m, b + 24, 4);
	if (m & ~(uint32_t)MXCSR_WRITABLE)
		emu_raise(c, EXC_GP, 1, 0);
	return m;
}

static void fx_load_sse(struct emu_cpu *c, const uint8_t *b)
{
	for (unsigned int i = 0; i < nr_xmm(c); i++)
		memcpy(&c->xmm[i], b + 160 + 16 * i, 16);
}

static uint64_t aligned_lin(struct emu_cpu *c, const struct emu_insn *in, unsigned int n,
			    unsigned int align, int acc)
{
	uint64_t lin;

	if (in->mod == 3)
		emu_raise(c, EXC_UD, 0, 0);
	lin = rm_lin(c, in, (int)n, acc);
	if (lin & (align - 1))
		emu_raise(c, EXC_GP, 1, 0);
	return lin;
}

static void fxsave(struct emu_cpu *c, const struct emu_insn *in)
{
	uint8_t b[512];
	uint64_t lin;

	fpu_enter(c, 0);
	lin = aligned_lin(c, in, 512, 16, ACC_WRITE);
	/* bytes 288-511 (XMM8-15 outside 64-bit mode, reserved) are left as they are */
	emu_lin_read(c, lin, b, 512, ACC_READ, is_user(c));
	fx_fill(c, in, b, 1, 1);
	emu_lin_write(c, lin, b, 512, is_user(c));
}

static void fxrstor(struct emu_cpu *c, const struct emu_insn *in)
{
	uint8_t b[512];
	uint64_t lin;
	uint32_t m;

	fpu_enter(c, 0);
	lin = aligned_lin(c, in, 512, 16, ACC_READ);
	emu_lin_read(c, lin, b, 512, ACC_READ, is_user(c));
	m = mxcsr_checked(c, b);
	fx_load_x87(c, in, b);
	c->mxcsr = m;
	fx_load_sse(c, b);
}

static void xsave_check(struct emu_cpu *c)
{
	if (!(c->cr4 & CR4_OSXSAVE))
		emu_raise(c, EXC_UD, 0, 0);
	if (c->cr0 & CR0_TS)
		emu_raise(c, EXC_NM, 0, 0);
}

/* bytes of the XSAVE area that saving or restoring @rfbm touches (segment limit check) */
static unsigned int xsave_len(uint64_t rfbm)
{
	return (rfbm & XCR0_PKRU) ? EMU_XSAVE_PKRU_OFF + 8 : XSAVE_SIZE;
}

/* linear address of the PKRU component (wraps at 4 GiB outside long mode) */
static uint64_t pkru_lin(const struct emu_cpu *c, uint64_t lin)
{
	lin += EMU_XSAVE_PKRU_OFF;
	return (c->efer & EFER_LMA) ? lin : lin & 0xffffffffULL;
}

static void xsave(struct emu_cpu *c, const struct emu_insn *in)
{
	uint8_t b[XSAVE_SIZE];
	uint64_t lin, rfbm = c->xcr0 & ((c->r[0] & 0xffffffffULL) | (c->r[2] << 32)), bv;

	xsave_check(c);
	lin = aligned_lin(c, in, xsave_len(rfbm), 64, ACC_WRITE);
	emu_lin_read(c, lin, b, XSAVE_SIZE, ACC_READ, is_user(c));
	fx_fill(c, in, b, (rfbm & 1) != 0, (rfbm & 2) != 0);
	if (rfbm & 2) {
		uint32_t mask = MXCSR_WRITABLE;

		memcpy(b + 24, &c->mxcsr, 4);
		memcpy(b + 28, &mask, 4);
	}
	memcpy(&bv, b + 512, 8);
	bv = (bv & ~rfbm) | rfbm;
	memcpy(b + 512, &bv, 8);
	if (rfbm & XCR0_PKRU) {
		/* component 9: PKRU and 4 reserved bytes; probe it before writing anything */
		uint8_t pk[8] = { 0 };

		memcpy(pk, &c->pkru, 4);
		emu_tlb_fill(c, pkru_lin(c, lin), ACC_WRITE, is_user(c));
		emu_tlb_fill(c, pkru_lin(c, lin + 7), ACC_WRITE, is_user(c));
		emu_lin_write(c, lin, b, XSAVE_SIZE, is_user(c));
		emu_lin_write(c, pkru_lin(c, lin), pk, 8, is_user(c));
		return;
	}
	emu_lin_write(c, lin, b, XSAVE_SIZE, is_user(c));
}

static void xrstor(struct emu_cpu *c, const struct emu_insn *in)
{
	uint8_t b[XSAVE_SIZE];
	uint64_t lin, rfbm = c->xcr0 & ((c->r[0] & 0xffffffffULL) | (c->r[2] << 32)), bv, comp;
	uint32_t m = 0, pkru = 0;

	xsave_check(c);
	lin = aligned_lin(c, in, xsave_len(rfbm), 64, ACC_READ);
	emu_lin_read(c, lin, b, XSAVE_SIZE, ACC_READ, is_user(c));
	memcpy(&bv, b + 512, 8);
	memcpy(&comp, b + 520, 8);
	/* the standard form only: no compaction, reserved header bytes zero */
	if (comp || (bv & ~c->xcr0))
		emu_raise(c, EXC_GP, 1, 0);
	for (unsigned int i = 528; i < 576; i++)
		if (b[i])
			emu_raise(c, EXC_GP, 1, 0);
	if (rfbm & 2)
		m = mxcsr_checked(c, b);
	if ((rfbm & bv) & XCR0_PKRU)
		emu_lin_read(c, pkru_lin(c, lin), &pkru, 4, ACC_READ, is_user(c));
	/* every check and read is done: from here on nothing faults */
	if (rfbm & XCR0_PKRU) {
		c->pkru = pkru; /* 0 is the initial configuration */
		emu_tlb_flush(c, 0);
	}
	if (rfbm & 1) {
		if (bv & 1) {
			fx_load_x87(c, in, b);
		} else {
			fninit(c);
			memset(c->fpr, 0, sizeof(c->fpr));
		}
	}
	if (rfbm & 2) {
		c->mxcsr = m;
		if (bv & 2)
			fx_load_sse(c, b);
		else
			memset(c->xmm, 0, sizeof(c->xmm[0]) * nr_xmm(c));
	}
}

/*
 * 0f ae: memory forms /0 FXSAVE /1 FXRSTOR /2 LDMXCSR /3 STMXCSR /4 XSAVE
 * /5 XRSTOR /7 CLFLUSH; register forms /5 LFENCE /6 MFENCE /7 SFENCE.
 */
static void h_0fae(struct emu_cpu *c, const struct emu_insn *in)
{
	unsigned int sub = in->reg & 7;

	if (in->mod == 3) {
		if (sub >= 5)
			return; /* fences: accesses are already in order here */
		emu_raise(c, EXC_UD, 0, 0);
	}
	switch (sub) {
	case 0:
		fxsave(c, in);
		return;
	case 1:
		fxrstor(c, in);
		return;
	case 2: /* LDMXCSR, STMXCSR: exec-sse.c */
	case 3:
		if (!emu_exec_sse(c, in))
			emu_raise(c, EXC_UD, 0, 0);
		return;
	case 4:
		xsave(c, in);
		return;
	case 5:
		xrstor(c, in);
		return;
	case 7: /* CLFLUSH: only the access checks */
		rm_lin(c, in, 1, ACC_READ);
		return;
	default:
		emu_raise(c, EXC_UD, 0, 0);
	}
}

/* 0f 01 d0 XGETBV, d1 XSETBV (dispatched from the 0f 01 group) */
void emu_xgetbv(struct emu_cpu *c)
{
	if (!(c->cr4 & CR4_OSXSAVE))
		emu_raise(c, EXC_UD, 0, 0);
	if ((uint32_t)c->r[1] != 0)
		emu_raise(c, EXC_GP, 1, 0);
	set_reg(c, 0, 4, 1, c->xcr0);
	set_reg(c, 2, 4, 1, c->xcr0 >> 32);
}

void emu_xsetbv(struct emu_cpu *c)
{
	uint64_t v = (c->r[0] & 0xffffffffULL) | (c->r[2] << 32);

	if (!(c->cr4 & CR4_OSXSAVE))
		emu_raise(c, EXC_UD, 0, 0);
	if (c->cpl != 0 || (uint32_t)c->r[1] != 0 || !(v & 1) || (v & ~XCR0_SUPPORTED))
		emu_raise(c, EXC_GP, 1, 0);
	c->xcr0 = v;
}

unsigned int emu_xsave_size(const struct emu_cpu *c)
{
	if (c->xcr0 & XCR0_PKRU)
		return EMU_XSAVE_PKRU_OFF + 8;
	return XSAVE_SIZE;
}

void emu_fpu_get(struct emu_cpu *c, struct x86_fpu *f)
{
	memset(f, 0, sizeof(*f));
	for (unsigned int i = 0; i < 8; i++)
		memcpy(f->st[i], st(c, i), 10);
	f->fcw = c->fpu_cw;
	f->fsw = c->fpu_sw;
	f->ftw = abridged_tag(c);
	f->fop = c->fpu_fop;
	f->fip = c->fpu_ip;
	f->fdp = c->fpu_dp;
	f->mxcsr = c->mxcsr;
	memcpy(f->xmm, c->xmm, sizeof(f->xmm));
}

int emu_fpu_set(struct emu_cpu *c, const struct x86_fpu *f)
{
	uint16_t t = 0;

	if (f->mxcsr & ~(uint32_t)MXCSR_WRITABLE)
		return -EINVAL;
	c->fpu_cw = f->fcw | 0x40;
	c->fpu_sw = f->fsw;
	for (unsigned int p = 0; p < 8; p++)
		if (!((f->ftw >> p) & 1))
			t |= (uint16_t)(3u << (2 * p));
	c->fpu_tag = t;
	for (unsigned int i = 0; i < 8; i++) {
		struct emu_fpreg *r = st(c, i);

		memcpy(&r->mant, f->st[i], 8);
		memcpy(&r->sexp, f->st[i] + 8, 2);
	}
	c->fpu_fop = f->fop & 0x7ff;
	c->fpu_ip = f->fip;
	c->fpu_dp = f->fdp;
	c->mxcsr = f->mxcsr;
	memcpy(c->xmm, f->xmm, sizeof(c->xmm));
	return 0;
}

static const struct emu_opdef ops[] = {
	OP(0x9b, 0x9b, 0, 0, 0, h_fwait), OP(0xd8, 0xd8, D_M, 0, 0, h_d8),
	OP(0xd9, 0xd9, D_M, 0, 0, h_d9),  OP(0xda, 0xda, D_M, 0, 0, h_da),
	OP(0xdb, 0xdb, D_M, 0, 0, h_db),  OP(0xdc, 0xdc, D_M, 0, 0, h_dc),
	OP(0xdd, 0xdd, D_M, 0, 0, h_dd),  OP(0xde, 0xde, D_M, 0, 0, h_de),
	OP(0xdf, 0xdf, D_M, 0, 0, h_df),  OP(MAP0F | 0xae, MAP0F | 0xae, D_M, 0, 0, h_0fae),
};

/* CPUID.1: EDX FPU FXSR; ECX XSAVE (OSXSAVE follows CR4, in emu_cpuid) */
const struct emu_opgroup emu_ops_fpu = {
	OPGROUP(ops),
	.cpuid1_edx = (1u << 0) | (1u << 24),
	.cpuid1_ecx = 1u << 26,
};
