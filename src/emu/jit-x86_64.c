/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Translation of decoded blocks into x86-64 host code.
 *
 * A translated block keeps every rule of the threaded dispatch (exec.c):
 *  - guest registers, RFLAGS and the lazy-flag state stay in struct emu_cpu; the
 *    host code loads and stores them around each instruction, so that any handler
 *    it calls, and any exception, sees the state the interpreter would;
 *  - an instruction that may fault, branch or stop the block and has no inline
 *    form is a call of its handler after c->rip and c->next_rip were set, followed
 *    by the check t_call() makes (RIP changed, or stop_block): the block ends there
 *    with blk_done = instructions run, and c->rip = c->next_rip;
 *  - the inline forms never fault: a memory operand goes through a one-compare
 *    probe of the software TLB (same page, same permission bits, RAM, not a page
 *    with decoded code for a write, not crossing the page), and anything else
 *    takes the slow path, which is the handler call above; so exceptions stay
 *    precise and self-modifying code still goes through emu_lin_write();
 *  - flag liveness (exec.c) decides whether an inline form stores the lazy flags:
 *    insn->fdead when no later instruction can see them (insn->hfn differs from
 *    insn->fn then if the form has a flag-skipping handler). A reader of the flags
 *    (Jcc, SETcc, CMOVcc, ADC, SBB) takes them from the host's flags when the
 *    instruction before left them there, else from the lazy state, with one
 *    compare when the translation knows which state that is;
 *  - in 64-bit mode a block leaves through one shared piece of code (dispatch())
 *    that goes on into the next translated block as the run loop would.
 * The instruction count still advances per block in exec.c, so the virtual clock
 * is unchanged.
 *
 * Code lives in a memfd mapped twice, writable and executable (W^X: no page is
 * both), per virtual CPU, filled linearly and flushed as a whole when full.
 *
 * Host registers in translated code: rbx = struct emu_cpu *, r12 = c->blk_rip,
 * r13 = the block's first emu_insn, r14/r15 = the TLB permission bits a read/write
 * needs at the current CPL and EFLAGS.AC, rbp = vm->code_page. rax, rcx, rdx, rsi,
 * rdi are scratch; nothing lives in a caller-saved register across a call.
 */
#if defined(__x86_64__)

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emu/exec-inl.h"
#include "emu/jit.h"

#define JIT_CACHE_DEFAULT ((size_t)16 << 20)
#define JIT_CACHE_MIN ((size_t)64 << 10)
/* no block translates to more than this (33 instructions of at most ~300 bytes) */
#define JIT_BLOCK_BYTES ((size_t)16 << 10)

struct emu_jit {
	uint8_t *rw, *rx;
	size_t size, used;
	size_t base;	    /* the shared code at the start of the cache ends here */
	uintptr_t dispatch; /* executable address of dispatch(), for exits that may be linked */
	uintptr_t dispatch_nolink; /* dispatch() for exits that are not linked (r10d = 0) */
	uintptr_t enter;	   /* executable address of the entry from C (enter()) */
	unsigned long flushes;
	/*
	 * CABIN_EMU_JIT_STATS=1: how often translated code called each handler, by
	 * (opcode, mandatory prefix, ModRM.reg, memory form, slow path of an inline
	 * form); printed to stderr when the CPU is freed. A measuring aid: it costs an
	 * increment per call.
	 */
	uint64_t *stats;
};

#define STAT_KEY(op, pfx, reg, mem, slow)                                                          \
	(((((unsigned int)(op)&0x3ffu) * 4u + (unsigned int)(pfx)) * 8u +                          \
	  ((unsigned int)(reg)&7u)) *                                                              \
		 4u +                                                                              \
	 ((mem) ? 2u : 0u) + ((slow) ? 1u : 0u))
#define STAT_KEYS (0x400u * 4u * 8u * 4u)

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

/* host condition codes (the low nibble of Jcc), the same numbering as the guest's */
enum { HCC_O, HCC_NO, HCC_B, HCC_AE, HCC_E, HCC_NE, HCC_BE, HCC_A };

/* an emission buffer: one block */
struct jb {
	uint8_t *p, *end, *rw;
	uintptr_t rx; /* the executable address of rw[0] */
	int overflow;
};

/* a memory operand of host code: [base + index * 2^scale + disp], base or index -1 = none */
struct jm {
	int base, index, scale;
	int32_t disp;
};

#define OFF(f) ((int32_t)offsetof(struct emu_cpu, f))
#define GR(n) (OFF(r) + 8 * (int32_t)(n))
#define SEGF(s, f)                                                                                 \
	(OFF(seg) + (int32_t)(s) * (int32_t)sizeof(struct x86_segment) +                           \
	 (int32_t)offsetof(struct x86_segment, f))

static void b1(struct jb *j, unsigned int v)
{
	if (j->p < j->end)
		*j->p++ = (uint8_t)v;
	else
		j->overflow = 1;
}

static void b4(struct jb *j, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b1(j, (v >> (8 * i)) & 0xff);
}

static void b8(struct jb *j, uint64_t v)
{
	b4(j, (uint32_t)v);
	b4(j, (uint32_t)(v >> 32));
}

static uintptr_t rx_here(const struct jb *j)
{
	return j->rx + (uintptr_t)(j->p - j->rw);
}

/*
 * One instruction: optional REX (W for 64-bit operands), @nop opcode bytes of @op
 * (most significant first), ModRM with /r = @reg and r/m = register @rm or memory @m.
 */
static void enc(struct jb *j, int w, unsigned int op, int nop, int reg, int rm, const struct jm *m)
{
	int b = m ? m->base : rm, x = m ? m->index : -1;
	unsigned int rex = 0x40u | (w ? 8u : 0u) | ((reg & 8) ? 4u : 0u) |
			   (x >= 0 && (x & 8) ? 2u : 0u) | (b >= 0 && (b & 8) ? 1u : 0u);
	int mod;

	if (rex != 0x40u)
		b1(j, rex);
	for (int i = nop - 1; i >= 0; i--)
		b1(j, (op >> (8 * i)) & 0xff);
	if (!m) {
		b1(j, 0xc0u | (unsigned int)(reg & 7) << 3 | (unsigned int)(rm & 7));
		return;
	}
	if (b < 0) { /* [index * scale + disp32] */
		b1(j, 0x04u | (unsigned int)(reg & 7) << 3);
		b1(j, (unsigned int)m->scale << 6 | (unsigned int)((x < 0 ? 4 : x) & 7) << 3 | 5u);
		b4(j, (uint32_t)m->disp);
		return;
	}
	mod = (m->disp == 0 && (b & 7) != 5) ? 0 : (m->disp >= -128 && m->disp <= 127) ? 1 : 2;
	if (x >= 0 || (b & 7) == 4) {
		b1(j, (unsigned int)mod << 6 | (unsigned int)(reg & 7) << 3 | 4u);
		b1(j, (unsigned int)m->scale << 6 | (unsigned int)((x < 0 ? 4 : x) & 7) << 3 |
			      (unsigned int)(b & 7));
	} else {
		b1(j,
		   (unsigned int)mod << 6 | (unsigned int)(reg & 7) << 3 | (unsigned int)(b & 7));
	}
	if (mod == 1)
		b1(j, (uint32_t)m->disp & 0xff);
	else if (mod == 2)
		b4(j, (uint32_t)m->disp);
}

static struct jm mem(int base, int32_t disp)
{
	return (struct jm){ base, -1, 0, disp };
}

/* mov reg, [base + disp] (w: 64-bit, else 32-bit zero-extending) */
static void ld(struct jb *j, int w, int reg, int base, int32_t disp)
{
	struct jm m = mem(base, disp);

	enc(j, w, 0x8b, 1, reg, 0, &m);
}

static void st(struct jb *j, int w, int reg, int base, int32_t disp)
{
	struct jm m = mem(base, disp);

	enc(j, w, 0x89, 1, reg, 0, &m);
}

/* mov dword/qword [base + disp], simm32 */
static void st_imm(struct jb *j, int w, int base, int32_t disp, uint32_t imm)
{
	struct jm m = mem(base, disp);

	enc(j, w, 0xc7, 1, 0, 0, &m);
	b4(j, imm);
}

static void mov_rr(struct jb *j, int w, int dst, int src)
{
	enc(j, w, 0x89, 1, src, dst, NULL);
}

/* reg = v, in the shortest form */
static void mov_ri(struct jb *j, int reg, uint64_t v)
{
	if (v <= 0xffffffffULL) {
		if (reg & 8)
			b1(j, 0x41);
		b1(j, 0xb8u + (unsigned int)(reg & 7));
		b4(j, (uint32_t)v);
	} else if ((uint64_t)(int64_t)(int32_t)v == v) {
		enc(j, 1, 0xc7, 1, 0, reg, NULL);
		b4(j, (uint32_t)v);
	} else {
		b1(j, 0x48u | ((reg & 8) ? 1u : 0u));
		b1(j, 0xb8u + (unsigned int)(reg & 7));
		b8(j, v);
	}
}

/* host ALU op numbers match the guest's: ADD OR ADC SBB AND SUB XOR CMP */
static void alu_rr(struct jb *j, int w, int op, int dst, int src)
{
	enc(j, w, (unsigned int)op << 3 | 1u, 1, src, dst, NULL);
}

static void alu_ri(struct jb *j, int w, int op, int reg, int32_t imm)
{
	if (imm >= -128 && imm <= 127) {
		enc(j, w, 0x83, 1, op, reg, NULL);
		b1(j, (uint32_t)imm & 0xff);
	} else {
		enc(j, w, 0x81, 1, op, reg, NULL);
		b4(j, (uint32_t)imm);
	}
}

static void shift_ri(struct jb *j, int w, int op, int reg, unsigned int n)
{
	enc(j, w, 0xc1, 1, op, reg, NULL);
	b1(j, n);
}

static void lea(struct jb *j, int w, int reg, const struct jm *m)
{
	enc(j, w, 0x8d, 1, reg, 0, m);
}

/* a forward jump (Jcc when cc >= 0, else JMP) with rel32 to patch: returns where */
static uint8_t *jmp_fwd(struct jb *j, int cc)
{
	if (cc >= 0) {
		b1(j, 0x0f);
		b1(j, 0x80u + (unsigned int)cc);
	} else {
		b1(j, 0xe9);
	}
	b4(j, 0);
	return j->overflow ? NULL : j->p - 4;
}

/* make the jump whose rel32 is at @at land here */
static void land(struct jb *j, uint8_t *at)
{
	int32_t rel;

	if (!at || j->overflow)
		return;
	rel = (int32_t)(j->p - (at + 4));
	memcpy(at, &rel, 4);
}

static void call(struct jb *j, const void *fn)
{
	intptr_t rel = (intptr_t)(uintptr_t)fn - (intptr_t)(rx_here(j) + 5);

	if (rel == (intptr_t)(int32_t)rel) {
		b1(j, 0xe8);
		b4(j, (uint32_t)(int32_t)rel);
	} else {
		mov_ri(j, RAX, (uint64_t)(uintptr_t)fn);
		b1(j, 0xff);
		b1(j, 0xd0); /* call rax */
	}
}

/* jmp to executable address @to (within rel32 of the cache) */
static void jmp_abs(struct jb *j, uintptr_t to)
{
	intptr_t rel = (intptr_t)to - (intptr_t)(rx_here(j) + 5);

	b1(j, 0xe9);
	b4(j, (uint32_t)(int32_t)rel);
}

static const int saved[] = { RBX, RBP, R12, R13, R14, R15 };

/*
 * The entry from C (c->jit_enter, jit.h emu_jit_run()), shared by all blocks:
 * enter(c, insn, body) saves the callee-saved registers and jumps to the block's
 * body with rbx = c and rsi = insn; the block returns to C through epilogue().
 */
static void emit_enter(struct jb *j)
{
	for (size_t i = 0; i < sizeof(saved) / sizeof(saved[0]); i++) {
		if (saved[i] & 8)
			b1(j, 0x41);
		b1(j, 0x50u + (unsigned int)(saved[i] & 7));
	}
	alu_ri(j, 1, ALU_SUB, RSP, 8); /* six pushes and the return address: realign to 16 */
	mov_rr(j, 1, RBX, RDI);
	b1(j, 0xff);
	b1(j, 0xe2); /* jmp rdx */
}

/*
 * The block's body starts here, entered from enter() or from a predecessor in the
 * same frame (dispatch(), exit_chain()), with rbx = the CPU, rsi = this block's
 * first emu_insn and c->blk_rip set.
 */
static void body_start(struct jb *j)
{
	mov_rr(j, 1, R13, RSI);
	ld(j, 1, R12, RBX, OFF(blk_rip));
}

static void epilogue(struct jb *j)
{
	alu_ri(j, 1, ALU_ADD, RSP, 8);
	for (int i = (int)(sizeof(saved) / sizeof(saved[0])) - 1; i >= 0; i--) {
		if (saved[i] & 8)
			b1(j, 0x41);
		b1(j, 0x58u + (unsigned int)(saved[i] & 7));
	}
	b1(j, 0xc3);
}

/* bit of load_need()'s @segs: SS must also be a 32-bit stack (B = 1) for PUSH/POP/CALL/RET */
#define SEGS_STACK32 0x100u

/*
 * r14/r15 = the TLB bits a data read/write needs now (lin_read(), lin_wptr()).
 * Outside 64-bit mode the inline forms also need the segments in @segs (bits
 * SEG_*) to be flat: base 0, limit 4 GiB, usable, writable data that is not
 * expand-down (seg_lin()'s fast case); otherwise both are set to bits no TLB entry
 * has, and every inline memory access takes its slow path.
 */
static void load_need(struct jb *j, unsigned int segs)
{
	struct jm m = mem(RBX, OFF(cpl));
	uint8_t *sup;

	mov_ri(j, R14, TLB_R_USR);
	mov_ri(j, R15, TLB_W_USR | TLB_DIRTY);
	enc(j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [cpl], 3 */
	b1(j, 3);
	sup = jmp_fwd(j, HCC_E);
	ld(j, 1, R14, RBX, OFF(flags));
	enc(j, 1, 0xf7, 1, 2, R14, NULL); /* not r14 */
	shift_ri(j, 1, 5, R14, 9);	  /* shr r14, 9: EFLAGS.AC -> TLB_SMAPOK */
	alu_ri(j, 0, ALU_AND, R14, TLB_SMAPOK);
	mov_rr(j, 0, R15, R14);
	alu_ri(j, 0, ALU_OR, R14, TLB_R_SUP);
	alu_ri(j, 0, ALU_OR, R15, TLB_W_SUP | TLB_DIRTY);
	land(j, sup);
	if (segs & 0xff) {
		uint8_t *bad[16], *ok;
		int n = 0;

		for (int s = 0; s < 8; s++) {
			if (!(segs & (1u << s)))
				continue;
			m = mem(RBX, SEGF(s, limit));
			enc(j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [limit], -1 */
			b1(j, 0xff);
			bad[n++] = jmp_fwd(j, HCC_NE);
			m = mem(RBX, SEGF(s, base));
			enc(j, 1, 0x83, 1, 7, 0, &m); /* cmp qword [base], 0 */
			b1(j, 0);
			bad[n++] = jmp_fwd(j, HCC_NE);
			m = mem(RBX, SEGF(s, unusable));
			enc(j, 0, 0x80, 1, 7, 0, &m); /* cmp byte [unusable], 0 */
			b1(j, 0);
			bad[n++] = jmp_fwd(j, HCC_NE);
			m = mem(RBX, SEGF(s, type));
			enc(j, 0, 0x0fb6, 2, RCX, 0, &m);
			alu_ri(j, 0, ALU_AND, RCX, 0xe);
			alu_ri(j, 0, ALU_CMP, RCX, 2);
			bad[n++] = jmp_fwd(j, HCC_NE);
			if (s == SEG_SS && (segs & SEGS_STACK32)) {
				m = mem(RBX, SEGF(s, db));
				enc(j, 0, 0x80, 1, 7, 0, &m); /* cmp byte [db], 1 */
				b1(j, 1);
				bad[n++] = jmp_fwd(j, HCC_NE);
			}
		}
		ok = jmp_fwd(j, -1);
		for (int k = 0; k < n; k++)
			land(j, bad[k]);
		mov_ri(j, R14, 0xffffffff);
		mov_ri(j, R15, 0xffffffff);
		land(j, ok);
	}
}

/* what the translation of one block knows while it emits */
struct jctx {
	struct emu_cpu *c;
	struct emu_jit *jit;
	struct emu_block *blk;
	uint64_t pa;	    /* guest-physical address of the block's first byte */
	unsigned int pgoff; /* its page offset */
	int mem;	    /* the block has inline memory forms: r14, r15, rbp are loaded */
	unsigned int segs;  /* outside 64-bit mode: the segments they use (load_need()) */
	int hostflags;	    /* the host's flags are the guest's arithmetic flags */
	/*
	 * the lazy-flag state in struct emu_cpu as the block's own code left it, when
	 * known at translation time: CC_ADD, CC_SUB or CC_LOGIC of lz_size bytes, else -1
	 * (flags_known() then makes the host's flags from it with one instruction)
	 */
	int lz_op, lz_size;
	int lz_set; /* the instruction being emitted set lz_op */
	/*
	 * no handler of the block (other than a slow path of an inline form) runs to
	 * completion: nothing can have changed CPL, mode, CS or the TLB epoch, so the
	 * block may chain into the next one in its page
	 */
	int chain;
	int in_slow; /* emitting the slow path of an inline form (statistics) */
	int sse_ok;  /* sse_check() passed since the block's start or its last handler */
};

/* CABIN_EMU_JIT_STATS: count a call of @in's handler */
static void stat_count(struct jb *j, struct jctx *x, const struct emu_insn *in)
{
	struct jm m = mem(RAX, 0);
	unsigned int k;

	if (!x->jit->stats)
		return;
	k = STAT_KEY(in->op, in->pfx, in->has_modrm ? in->reg : 0, in->has_modrm && in->mod != 3,
		     x->in_slow);
	mov_ri(j, RAX, (uint64_t)(uintptr_t)&x->jit->stats[k]);
	enc(j, 1, 0xff, 1, 0, 0, &m); /* inc qword [rax] */
}

/* the rest of the block's exit: c->rip = rax, then return */
static void exit_rip_rax(struct jb *j)
{
	st(j, 1, RAX, RBX, OFF(rip));
	epilogue(j);
}

/*
 * Leave the block for RIP = rax after @done of its instructions ran: in 64-bit
 * mode through dispatch(), which returns here with the next block's body in rdi
 * when it goes on into it (or returns to the run loop itself), else back to the
 * run loop. Each exit has its own indirect jump, which the host predicts per site.
 */
static void exit_dispatch(struct jb *j, struct jctx *x, unsigned int done)
{
	intptr_t rel;

	if (x->c->mode != 2) {
		if (done != x->blk->n)
			st_imm(j, 0, RBX, OFF(blk_done), done);
		exit_rip_rax(j);
		return;
	}
	mov_ri(j, RCX, done);
	rel = (intptr_t)x->jit->dispatch_nolink - (intptr_t)(rx_here(j) + 5);
	b1(j, 0xe8); /* call dispatch */
	b4(j, (uint32_t)(int32_t)rel);
	b1(j, 0xff);
	b1(j, 0xe7); /* jmp rdi: the next block's body, in this frame */
}

/*
 * The handler of instruction @i, as t_call() runs it: RIP state, the call, then
 * the end of the block when it branched or asked to stop. Falls through otherwise.
 */
static void emit_call_checked(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int32_t seq = (int32_t)in->off + in->len;
	struct jm m = mem(R12, in->off);
	uint8_t *br, *ok;

	stat_count(j, x, in);
	lea(j, 1, RAX, &m);
	st(j, 1, RAX, RBX, OFF(rip));
	m.disp = seq;
	lea(j, 1, RAX, &m);
	st(j, 1, RAX, RBX, OFF(next_rip));
	mov_rr(j, 1, RDI, RBX);
	m = mem(R13, (int32_t)(i * sizeof(struct emu_insn)));
	lea(j, 1, RSI, &m);
	call(j, (const void *)in->hfn);
	m = mem(R12, seq);
	lea(j, 1, RAX, &m);
	m = mem(RBX, OFF(next_rip));
	enc(j, 1, 0x3b, 1, RAX, 0, &m); /* cmp rax, [next_rip] */
	br = jmp_fwd(j, HCC_NE);
	m = mem(RBX, OFF(stop_block));
	enc(j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [stop_block], 0 */
	b1(j, 0);
	ok = jmp_fwd(j, HCC_E);
	land(j, br);
	ld(j, 1, RAX, RBX, OFF(next_rip));
	exit_dispatch(j, x, i + 1);
	land(j, ok);
	if (x->mem)
		load_need(j, x->segs); /* CPL, EFLAGS.AC or a segment may have changed */
	x->hostflags = 0;
}

/* a handler that can neither fault nor branch (flag classes NONE, WRITE, PARTIAL) */
static void emit_call_plain(struct jb *j, struct jctx *x, unsigned int i)
{
	struct jm m = mem(R13, (int32_t)(i * sizeof(struct emu_insn)));

	stat_count(j, x, &x->blk->insn[i]);
	mov_rr(j, 1, RDI, RBX);
	lea(j, 1, RSI, &m);
	call(j, (const void *)x->blk->insn[i].hfn);
	x->hostflags = 0;
}

/* store the lazy-flag state alu_inl() and friends leave */
static void lazy_store(struct jb *j, unsigned int op, int size, int a, int b, int res)
{
	st_imm(j, 0, RBX, OFF(cc_op), op);
	st_imm(j, 0, RBX, OFF(cc_size), (uint32_t)size);
	if (a >= 0)
		st(j, 1, a, RBX, OFF(cc_a));
	if (b >= 0)
		st(j, 1, b, RBX, OFF(cc_b));
	st(j, 1, res, RBX, OFF(cc_res));
}

/*
 * The guest address of @in's memory operand into rdx (64-bit mode only): base,
 * index, displacement, RIP-relative, address-size truncation, and the FS/GS base
 * unless @no_seg (LEA).
 */
static void emit_ea(struct jb *j, const struct emu_insn *in, int no_seg)
{
	struct jm m;

	if (in->riprel) {
		m = mem(R12, (int32_t)in->off + in->len + in->disp);
		lea(j, 1, RDX, &m);
	} else if (in->base != 0xff) {
		ld(j, 1, RDX, RBX, GR(in->base));
		if (in->index != 0xff) {
			ld(j, 1, RCX, RBX, GR(in->index));
			m = (struct jm){ RDX, RCX, in->scale, in->disp };
			lea(j, 1, RDX, &m);
		} else if (in->disp) {
			m = mem(RDX, in->disp);
			lea(j, 1, RDX, &m);
		}
	} else if (in->index != 0xff) {
		ld(j, 1, RCX, RBX, GR(in->index));
		m = (struct jm){ -1, RCX, in->scale, in->disp };
		lea(j, 1, RDX, &m);
	} else {
		mov_ri(j, RDX, (uint64_t)(int64_t)in->disp);
	}
	if (in->asz == 4)
		mov_rr(j, 0, RDX, RDX);
	if (!no_seg && in->mode == 2 && (in->seg == SEG_FS || in->seg == SEG_GS)) {
		m = mem(RBX, SEGF(in->seg, base));
		enc(j, 1, 0x03, 1, RDX, 0, &m); /* add rdx, [seg.base] */
	}
}

/*
 * Probe the TLB for @size bytes at linear rdx: on a hit rax = the host address;
 * on a miss (or anything the fast path does not cover) jump to the slow path,
 * whose jumps are collected in @slow (up to 6).
 */
static void tlb_probe(struct jb *j, struct jctx *x, int size, int write, uint8_t **slow)
{
	struct jm m;
	int need = write ? R15 : R14;

	x->hostflags = 0; /* the probe's compares (and emit_ea()'s add of a segment base) */
	mov_rr(j, 0, RAX, RDX);
	shift_ri(j, 0, 5, RAX, 12); /* shr eax, 12 */
	alu_ri(j, 0, ALU_AND, RAX, TLB_SIZE - 1);
	enc(j, 0, 0x69, 1, RAX, RAX, NULL); /* imul eax, eax, sizeof entry */
	b4(j, (uint32_t)sizeof(struct emu_tlb_entry));
	m = (struct jm){ RBX, RAX, 0, OFF(tlb) };
	lea(j, 1, RAX, &m);
	mov_rr(j, 1, RCX, RDX);
	alu_ri(j, 1, ALU_AND, RCX, -4096);
	m = mem(RAX, (int32_t)offsetof(struct emu_tlb_entry, vpage));
	enc(j, 1, 0x3b, 1, RCX, 0, &m); /* cmp rcx, [e->vpage] */
	slow[0] = jmp_fwd(j, HCC_NE);
	ld(j, 0, RCX, RAX, (int32_t)offsetof(struct emu_tlb_entry, perm));
	alu_rr(j, 0, ALU_AND, RCX, need);
	alu_rr(j, 0, ALU_CMP, RCX, need);
	slow[1] = jmp_fwd(j, HCC_NE);
	mov_rr(j, 0, RCX, RDX);
	alu_ri(j, 0, ALU_AND, RCX, 0xfff);
	alu_ri(j, 0, ALU_CMP, RCX, 4096 - size);
	slow[2] = jmp_fwd(j, HCC_A);
	ld(j, 1, RSI, RAX, (int32_t)offsetof(struct emu_tlb_entry, host));
	enc(j, 1, 0x85, 1, RSI, RSI, NULL); /* test rsi, rsi: MMIO has no host page */
	slow[3] = jmp_fwd(j, HCC_E);
	if (write) {
		/* lin_wptr(): RAM pages holding decoded code take the notifying path */
		ld(j, 1, RAX, RAX, (int32_t)offsetof(struct emu_tlb_entry, ppage));
		shift_ri(j, 1, 5, RAX, 12);
		m = (struct jm){ RBP, RAX, 0, 0 };
		enc(j, 0, 0x80, 1, 7, 0, &m); /* cmp byte [rbp + rax], 0 */
		b1(j, 0);
		slow[4] = jmp_fwd(j, HCC_NE);
	} else {
		slow[4] = NULL;
	}
	m = (struct jm){ RSI, RCX, 0, 0 };
	lea(j, 1, RAX, &m);
	slow[5] = NULL;
}

#define NSLOW 6

static int flags_known(struct jb *j, struct jctx *x);

/*
 * The slow path of an inline form: land its probe misses on the handler call. When
 * the fast path leaves the host's flags as the guest's, and the lazy state says
 * what they are, the slow path makes them from it too, so that both paths join
 * with them (a Jcc after the form then tests them directly).
 */
static void slow_path(struct jb *j, struct jctx *x, unsigned int i, uint8_t **slow, uint8_t *done)
{
	int hf = x->hostflags;

	for (int k = 0; k < NSLOW; k++)
		land(j, slow[k]);
	x->in_slow = 1;
	emit_call_checked(j, x, i);
	x->in_slow = 0;
	if (hf && done)
		hf = flags_known(j, x);
	land(j, done);
	x->hostflags = hf && done;
}

/* the lazy state is now @op of @size bytes (written by inline code or its slow path) */
static void lz_is(struct jctx *x, int op, int size)
{
	x->lz_op = op;
	x->lz_size = size;
	x->lz_set = 1;
}

/* does the lazy state known at translation time give the flags (flags_known())? */
static int lz_static(const struct jctx *x)
{
	return (x->lz_op == CC_ADD || x->lz_op == CC_SUB || x->lz_op == CC_LOGIC) &&
	       (x->lz_size == 1 || x->lz_size == 4 || x->lz_size == 8);
}

/*
 * Make the host's flags the guest's arithmetic flags: they are already, or the lazy
 * state known at translation time gives them with one compare, add or test (what
 * emu_cond() would compute from it). Return: 1, or 0 when neither holds.
 */
static int flags_known(struct jb *j, struct jctx *x)
{
	int w = x->lz_size == 8;
	struct jm m = mem(RBX, OFF(cc_b));

	if (x->hostflags)
		return 1;
	if (!lz_static(x))
		return 0;
	switch (x->lz_op) {
	case CC_ADD:
	case CC_SUB:
		ld(j, 1, RAX, RBX, OFF(cc_a));
		if (x->lz_size == 1) {
			ld(j, 1, RCX, RBX, OFF(cc_b));
			/* add/cmp al, cl */
			enc(j, 0, x->lz_op == CC_ADD ? 0x00 : 0x38, 1, RCX, RAX, NULL);
		} else {
			enc(j, w, x->lz_op == CC_ADD ? 0x03 : 0x3b, 1, RAX, 0, &m);
		}
		break;
	case CC_LOGIC:
		ld(j, 1, RAX, RBX, OFF(cc_res));
		enc(j, w, x->lz_size == 1 ? 0x84 : 0x85, 1, RAX, RAX, NULL); /* test */
		break;
	default:
		return 0;
	}
	x->hostflags = 1;
	return 1;
}

/*
 * The guest condition @cc (Jcc's numbering) into the host's flags. Return: the host
 * condition that holds when @cc does: @cc itself when the host's flags are the
 * guest's, else NE after a test of the condition computed into al.
 */
static int cond_eval(struct jb *j, struct jctx *x, unsigned int cc)
{
	static const unsigned int ops[] = { CC_SUB, CC_ADD, CC_LOGIC };
	uint8_t *join[8];
	int nj = 0;
	struct jm m;

	if (flags_known(j, x))
		return (int)cc;
	/*
	 * A SUB/CMP, ADD or logic state of 4 or 8 bytes gives the host's flags back with
	 * one instruction (what emu_cond() would compute); any other state calls it.
	 */
	ld(j, 0, RCX, RBX, OFF(cc_op));
	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
		uint8_t *not_op;

		alu_ri(j, 0, ALU_CMP, RCX, (int32_t)ops[k]);
		not_op = jmp_fwd(j, HCC_NE);
		for (int w = 1; w >= 0; w--) {
			uint8_t *other_size;

			m = mem(RBX, OFF(cc_size));
			enc(j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [cc_size], 8 or 4 */
			b1(j, w ? 8 : 4);
			other_size = jmp_fwd(j, HCC_NE);
			if (ops[k] == CC_LOGIC) {
				ld(j, w, RAX, RBX, OFF(cc_res));
				enc(j, w, 0x85, 1, RAX, RAX, NULL); /* test */
			} else {
				ld(j, w, RAX, RBX, OFF(cc_a));
				m = mem(RBX, OFF(cc_b));
				enc(j, w, ops[k] == CC_SUB ? 0x3b : 0x03, 1, RAX, 0, &m);
			}
			enc(j, 0, 0x0f90u + cc, 2, 0, RAX, NULL); /* setcc al */
			join[nj++] = jmp_fwd(j, -1);
			land(j, other_size);
		}
		land(j, not_op);
	}
	mov_rr(j, 1, RDI, RBX);
	mov_ri(j, RSI, cc);
	call(j, (const void *)emu_cond);
	for (int k = 0; k < nj; k++)
		land(j, join[k]);
	enc(j, 0, 0x84, 1, RAX, RAX, NULL); /* test al, al */
	x->hostflags = 0;
	return HCC_NE;
}

/* a host jump taken when the guest condition @cc is false */
static uint8_t *cond_false(struct jb *j, struct jctx *x, unsigned int cc)
{
	return jmp_fwd(j, cond_eval(j, x, cc) ^ 1);
}

/* the host's CF = the guest's (for ADC and SBB) */
static void carry_in(struct jb *j, struct jctx *x)
{
	if (cond_eval(j, x, HCC_B) != HCC_B)
		enc(j, 0, 0xf6, 1, 3, RAX, NULL); /* neg al: CF = al != 0 */
}

/*
 * A 64-bit exit to a static target (branch, fall-through: RIP = rax, @rel bytes from
 * the block's start) that dispatch() links to the block it finds there the first
 * time it goes on into one (emu_jit_link()). The exit is
 *	mov r10d, kind; mov ecx, n; jmp rel32; call dispatch; jmp rdi
 * whose jmp goes on to the call (rel32 0) until linked, then to a stub that checks
 * what dispatch() would and jumps straight into the block, or back to the call.
 * Kind LINK_PAGE: the target is in the block's page, and no handler that might have
 * changed the mode, CPL or TLB ran to completion in the block (x->chain): the
 * page's translation is the one checked when the block started. LINK_TLB: the
 * stub checks the TLB entry of the target's page.
 */
enum { LINK_NONE, LINK_PAGE, LINK_TLB };

static void exit_link(struct jb *j, struct jctx *x, int32_t rel)
{
	int32_t pg = (int32_t)x->pgoff + rel;
	intptr_t r;

	mov_ri(j, R10, (pg >= 0 && pg < 4096 && x->chain) ? LINK_PAGE : LINK_TLB);
	mov_ri(j, RCX, x->blk->n);
	b1(j, 0xe9); /* jmp rel32: patched by emu_jit_link() */
	b4(j, 0);
	r = (intptr_t)x->jit->dispatch - (intptr_t)(rx_here(j) + 5);
	b1(j, 0xe8); /* call dispatch */
	b4(j, (uint32_t)(int32_t)r);
	b1(j, 0xff);
	b1(j, 0xe7); /* jmp rdi */
}

/*
 * Leave the block for RIP = rax, @rel bytes from the block's start: into the block
 * decoded there when it is in the same page and the run loop would run it next
 * (jit.h), else back to the run loop.
 */
static void exit_chain(struct jb *j, struct jctx *x, int32_t rel)
{
	static const int32_t busy[] = { OFF(kick), OFF(exit_ready), OFF(irq_shadow),
					OFF(stop_block), OFF(state) };
	int32_t pg = (int32_t)x->pgoff + rel;
	uint64_t spa = (x->pa & ~0xfffULL) | (uint64_t)(uint32_t)pg;
	const struct emu_block *s;
	uint8_t *out[8];
	struct jm m;

	if (x->c->mode == 2) {
		exit_link(j, x, rel);
		return;
	}
	st(j, 1, RAX, RBX, OFF(rip));
	if (!x->chain || x->c->mode == 0 || pg < 0 || pg >= 4096 || (spa >> 12) > 0x1fffffffULL) {
		epilogue(j);
		return;
	}
	_Static_assert(EMU_RUNNING == 0, "the run state is or-ed with the other conditions");
	s = &x->c->blocks[emu_block_slot(spa)];
	ld(j, 0, RCX, RBX, OFF(intr_hint));
	for (size_t k = 0; k < sizeof(busy) / sizeof(busy[0]); k++) {
		m = mem(RBX, busy[k]);
		enc(j, 0, 0x0b, 1, RCX, 0, &m); /* or ecx, [...] */
	}
	out[0] = jmp_fwd(j, HCC_NE);
	m = mem(RBX, OFF(flags));
	enc(j, 0, 0xf7, 1, 0, 0, &m); /* test dword [flags], TF */
	b4(j, FL_TF);
	out[1] = jmp_fwd(j, HCC_NE);
	/* the successor is decoded, for this mode, and its page unchanged since */
	mov_ri(j, RDX, (uint64_t)(uintptr_t)s);
	mov_ri(j, RCX, spa << 2 | (uint64_t)x->c->mode);
	m = mem(RDX, (int32_t)offsetof(struct emu_block, key));
	enc(j, 1, 0x3b, 1, RCX, 0, &m);
	out[2] = jmp_fwd(j, HCC_NE);
	/* translated (or declined) already: else the run loop counts it towards EMU_JIT_HOT */
	m = mem(RDX, (int32_t)offsetof(struct emu_block, hot));
	enc(j, 0, 0x80, 1, 7, 0, &m); /* cmp byte [hot], EMU_JIT_HOT */
	b1(j, EMU_JIT_HOT);
	out[7] = jmp_fwd(j, HCC_B);
	ld(j, 1, RDI, RDX, (int32_t)offsetof(struct emu_block, body));
	enc(j, 1, 0x85, 1, RDI, RDI, NULL); /* test rdi, rdi: threaded, not translated */
	out[5] = jmp_fwd(j, HCC_E);
	ld(j, 0, RCX, RDX, (int32_t)offsetof(struct emu_block, gen));
	ld(j, 1, RSI, RBX, OFF(vm));
	ld(j, 1, RSI, RSI, (int32_t)offsetof(struct emu_vm, page_gen));
	m = mem(RSI, (int32_t)((spa >> 12) * 4));
	enc(j, 0, 0x3b, 1, RCX, 0, &m);
	out[3] = jmp_fwd(j, HCC_NE);
	out[6] = NULL;
	if (x->c->mode != 2) {
		/* run_block(): the whole block within the CS limit */
		m = mem(RDX, (int32_t)offsetof(struct emu_block, bytes));
		enc(j, 0, 0x0fb7, 2, RCX, 0, &m);
		m = (struct jm){ RAX, RCX, 0, -1 };
		lea(j, 1, RCX, &m);
		ld(j, 0, RSI, RBX, SEGF(SEG_CS, limit));
		alu_rr(j, 1, ALU_CMP, RCX, RSI);
		out[6] = jmp_fwd(j, HCC_A);
	}
	/* budget for this block and all of the next */
	m = mem(RDX, (int32_t)offsetof(struct emu_block, n));
	enc(j, 0, 0x0fb6, 2, RCX, 0, &m); /* movzx ecx, byte [n] */
	alu_ri(j, 0, ALU_ADD, RCX, x->blk->n);
	m = mem(RBX, OFF(budget));
	enc(j, 1, 0x3b, 1, RCX, 0, &m);
	out[4] = jmp_fwd(j, HCC_A);
	/* the run loop's accounting of this block, and its set-up of the next */
	mov_ri(j, RCX, x->blk->n);
	m = mem(RBX, OFF(icount));
	enc(j, 1, 0x01, 1, RCX, 0, &m);
	m = mem(RBX, OFF(budget));
	enc(j, 1, 0x29, 1, RCX, 0, &m);
	st(j, 1, RAX, RBX, OFF(blk_rip));
	ld(j, 1, RSI, RDX, (int32_t)offsetof(struct emu_block, insn));
	st(j, 1, RSI, RBX, OFF(blk_insn));
	m = mem(RDX, (int32_t)offsetof(struct emu_block, n));
	enc(j, 0, 0x0fb6, 2, RCX, 0, &m);
	st(j, 0, RCX, RBX, OFF(blk_done));
	b1(j, 0xff);
	b1(j, 0xe7); /* jmp rdi: the successor's body, in this frame */
	for (int k = 0; k < 8; k++)
		land(j, out[k]);
	epilogue(j);
}

/*
 * Leave the block for the near-branch target rax (already RIP-relative): the
 * checks of jump_to() for 64-bit mode (canonical) or 32-bit operand size (CS
 * limit); a target that fails jumps to @bad (the handler raises #GP).
 */
static void exit_target(struct jb *j, struct jctx *x, int32_t rel, uint8_t **bad)
{
	*bad = NULL;
	if (x->c->mode == 2) {
		int32_t pg = (int32_t)x->pgoff + rel;

		/* a target in the page the block's own code is in is canonical */
		if (pg < 0 || pg >= 4096) {
			mov_rr(j, 1, RCX, RAX);
			shift_ri(j, 1, 4, RCX, 16);
			shift_ri(j, 1, 7, RCX, 16);
			alu_rr(j, 1, ALU_CMP, RCX, RAX);
			*bad = jmp_fwd(j, HCC_NE);
		}
		exit_chain(j, x, rel);
		return;
	} else {
		mov_rr(j, 0, RAX, RAX);
		ld(j, 0, RCX, RBX, SEGF(SEG_CS, limit));
		alu_rr(j, 1, ALU_CMP, RAX, RCX);
		*bad = jmp_fwd(j, HCC_A);
	}
	exit_chain(j, x, rel);
}

/* the target of a relative branch, as an offset from the block's start */
static int32_t branch_rel(const struct emu_insn *in)
{
	return (int32_t)in->off + in->len + (int32_t)in->imm;
}

/*
 * may this control transfer be inline? 64-bit mode, or 32-bit code with a 32-bit
 * operand size (and, for CALL and RET, a flat 32-bit stack: load_need())
 */
static int near_ok(const struct jctx *x, const struct emu_insn *in)
{
	if (x->c->mode == 2)
		return in->osz != 2;
	return x->c->mode == 1 && in->osz == 4;
}

static unsigned int cc_of_alu(int op)
{
	return op == ALU_ADD ? CC_ADD : (op == ALU_SUB || op == ALU_CMP) ? CC_SUB : CC_LOGIC;
}

/*
 * ALU a, b with a in rax and b in rcx: the result into rax (or nothing for
 * CMP/TEST), the lazy flags when they are live. @test: TEST (AND without store).
 */
static void alu_body(struct jb *j, struct jctx *x, const struct emu_insn *in, int op, int test,
		     int dst)
{
	int w = in->osz == 8, live = in->hfn == in->fn;
	int store = op != ALU_CMP && !test;

	if (live) {
		if (op == ALU_ADD || op == ALU_SUB || op == ALU_CMP) {
			mov_rr(j, w, RDX, RAX);
			alu_rr(j, w, op == ALU_ADD ? ALU_ADD : ALU_SUB, RDX, RCX);
			lazy_store(j, cc_of_alu(op), in->osz, RAX, RCX, RDX);
			if (store)
				st(j, 1, RDX, RBX, GR(dst));
			lz_is(x, (int)cc_of_alu(op), in->osz);
		} else {
			alu_rr(j, w, test ? ALU_AND : op, RAX, RCX);
			lazy_store(j, CC_LOGIC, in->osz, -1, -1, RAX);
			if (store)
				st(j, 1, RAX, RBX, GR(dst));
			lz_is(x, CC_LOGIC, in->osz);
		}
		x->hostflags = 1;
		return;
	}
	if (store) {
		alu_rr(j, w, op, RAX, RCX);
		st(j, 1, RAX, RBX, GR(dst));
	}
	lz_is(x, -1, 0);
	x->hostflags = 0;
}

/* 80 /7: CMP r/m8, imm8 */
/* the guest's byte register @r as an operand: AH..BH (4-7 without REX) are byte 1 of RAX..RBX */
static struct jm byte_reg(const struct emu_insn *in, int r)
{
	int hi = !in->rex && r >= 4 && r < 8;

	return mem(RBX, GR(hi ? r - 4 : r) + hi);
}

/*
 * The r/m source of @in, @size bytes, as an operand to read: the guest register's slot,
 * or [rax] once the address is computed and the TLB probed (a miss goes to @slow).
 * Return: 1 for the register form, 0 for the memory form, -1 for a memory form this
 * block cannot inline.
 */
static int rm_source(struct jb *j, struct jctx *x, const struct emu_insn *in, int size,
		     uint8_t **slow, struct jm *m)
{
	if (in->mod == 3) {
		*m = size == 1 ? byte_reg(in, in->rm) : mem(RBX, GR(in->rm));
		return 1;
	}
	if (!x->mem)
		return -1;
	emit_ea(j, in, 0);
	tlb_probe(j, x, size, 0, slow);
	*m = mem(RAX, 0);
	return 0;
}

/* 80 /7 (CMP r/m8, imm8), 38 (CMP r/m8, r8), 3a (CMP r8, r/m8), 3c (CMP AL, imm8) */
static int emit_cmp8(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	uint8_t *slow[NSLOW], *done = NULL;
	struct jm m, r;
	int live = !in->fdead;

	if (in->op == 0x3c) {
		if (live) {
			m = byte_reg(in, 0);
			enc(j, 0, 0x0fb6, 2, RAX, 0, &m);
			mov_ri(j, RCX, in->imm & 0xff);
		}
	} else {
		if (in->op == 0x80 && (in->reg & 7) != ALU_CMP)
			return 0;
		if (rm_source(j, x, in, 1, slow, &m) < 0)
			return 0;
		r = byte_reg(in, in->reg);
		if (in->op == 0x3a) {
			enc(j, 0, 0x0fb6, 2, RCX, 0, &m);
			enc(j, 0, 0x0fb6, 2, RAX, 0, &r);
		} else {
			enc(j, 0, 0x0fb6, 2, RAX, 0, &m);
			if (in->op == 0x38)
				enc(j, 0, 0x0fb6, 2, RCX, 0, &r);
			else
				mov_ri(j, RCX, in->imm & 0xff);
		}
	}
	if (live) {
		mov_rr(j, 0, RDX, RAX);
		alu_rr(j, 0, ALU_SUB, RDX, RCX);
		enc(j, 0, 0x0fb6, 2, RDX, RDX, NULL); /* movzx edx, dl */
		lazy_store(j, CC_SUB, 1, RAX, RCX, RDX);
		enc(j, 0, 0x38, 1, RCX, RAX, NULL); /* cmp al, cl */
		lz_is(x, CC_SUB, 1);
	} else {
		lz_is(x, -1, 0);
	}
	x->hostflags = live;
	if (in->op == 0x3c || in->mod == 3)
		return 1;
	done = jmp_fwd(j, -1);
	slow_path(j, x, i, slow, done);
	return 1;
}

/* 0f 90-9f: SETcc r8 */
static int emit_setcc(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	struct jm m;
	int hcc;

	if (in->mod != 3)
		return 0;
	hcc = cond_eval(j, x, in->op & 15);
	m = byte_reg(in, in->rm);
	enc(j, 0, 0x0f90u + (unsigned int)hcc, 2, 0, 0, &m); /* setcc byte [reg] */
	return 1;
}

/* 0f 40-4f: CMOVcc r, r (a 32-bit CMOV zero-extends its destination either way) */
static int emit_cmov(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int w = in->osz == 8, hcc;

	if (in->mod != 3)
		return 0;
	hcc = cond_eval(j, x, in->op & 15);
	ld(j, w, RAX, RBX, GR(in->reg));
	ld(j, w, RCX, RBX, GR(in->rm));
	enc(j, w, 0x0f40u + (unsigned int)hcc, 2, RAX, RCX, NULL); /* cmovcc rax, rcx */
	st(j, 1, RAX, RBX, GR(in->reg));
	return 1;
}

/*
 * 11 13 15 19 1b 1d, 81 83 /2 /3: ADC and SBB, the host's own on the guest's CF.
 * With live flags the lazy state is what alu_inl() leaves: CC_ADC/CC_SBB when CF
 * was set, else CC_ADD/CC_SUB, with both operands and the result.
 */
static int emit_adc(struct jb *j, struct jctx *x, unsigned int i, int alu)
{
	const struct emu_insn *in = &x->blk->insn[i];
	unsigned int op = in->op;
	int w = in->osz == 8, live = !in->fdead, dst, memsrc = 0, imm = 0;
	uint8_t *slow[NSLOW], *done;
	struct jm m;

	_Static_assert(CC_ADC == CC_ADD + 1 && CC_SBB == CC_SUB + 1, "CF selects the op");
	if (op == 0x81 || op == 0x83) {
		if (in->mod != 3)
			return 0;
		dst = in->rm;
		imm = 1;
	} else if ((op & 7) == 1) {
		if (in->mod != 3)
			return 0;
		dst = in->rm;
	} else if ((op & 7) == 3) {
		dst = in->reg;
		memsrc = in->mod != 3;
	} else if ((op & 7) == 5) {
		dst = 0;
		imm = 1;
	} else {
		return 0;
	}
	if (memsrc) {
		/* the probe takes the host's flags: the guest's must come from the lazy state */
		if (!x->mem || !lz_static(x))
			return 0;
		emit_ea(j, in, 0);
		tlb_probe(j, x, in->osz, 0, slow);
		ld(j, w, RSI, RAX, 0);
		x->hostflags = 0;
		flags_known(j, x);
		mov_rr(j, 1, RCX, RSI);
	} else {
		carry_in(j, x);
		if (imm)
			mov_ri(j, RCX, in->imm & emu_size_mask(in->osz));
		else
			ld(j, w, RCX, RBX, GR((op & 7) == 1 ? in->reg : in->rm));
	}
	ld(j, w, RAX, RBX, GR(dst));
	if (live) {
		enc(j, 0, 0x0f92, 2, 0, RDX, NULL); /* setc dl */
		mov_rr(j, w, RSI, RAX);
		alu_rr(j, w, alu, RSI, RCX);
		enc(j, 0, 0x0fb6, 2, RDX, RDX, NULL); /* movzx edx, dl */
		m = mem(RDX, alu == ALU_ADC ? CC_ADD : CC_SUB);
		lea(j, 0, RDX, &m); /* + CF, without touching the flags */
		st(j, 0, RDX, RBX, OFF(cc_op));
		st_imm(j, 0, RBX, OFF(cc_size), in->osz);
		st(j, 1, RAX, RBX, OFF(cc_a));
		st(j, 1, RCX, RBX, OFF(cc_b));
		st(j, 1, RSI, RBX, OFF(cc_res));
		st(j, 1, RSI, RBX, GR(dst));
	} else {
		alu_rr(j, w, alu, RAX, RCX);
		st(j, 1, RAX, RBX, GR(dst));
	}
	x->hostflags = 1;
	lz_is(x, -1, 0);
	if (memsrc) {
		done = jmp_fwd(j, -1);
		slow_path(j, x, i, slow, done);
	}
	return 1;
}

/* 84 (TEST r/m8, r8), f6 /0 (TEST r/m8, imm8), f7 /0 (TEST r/m, imm) */
static int emit_test(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int size = in->op == 0xf7 ? in->osz : 1, w = size == 8, live = !in->fdead, rf;
	uint8_t *slow[NSLOW], *done;
	struct jm m, r;

	if (in->op != 0x84 && (in->reg & 7) != 0)
		return 0;
	rf = rm_source(j, x, in, size, slow, &m);
	if (rf < 0)
		return 0;
	if (size == 1)
		enc(j, 0, 0x0fb6, 2, RAX, 0, &m);
	else
		enc(j, w, 0x8b, 1, RAX, 0, &m);
	if (in->op == 0x84) {
		r = byte_reg(in, in->reg);
		enc(j, 0, 0x0fb6, 2, RCX, 0, &r);
	} else {
		mov_ri(j, RCX, in->imm & emu_size_mask(size));
	}
	if (size == 1)
		enc(j, 0, 0x20, 1, RCX, RAX, NULL); /* and al, cl: SF from bit 7 */
	else
		alu_rr(j, w, ALU_AND, RAX, RCX);
	if (live) {
		lazy_store(j, CC_LOGIC, size, -1, -1, RAX);
		lz_is(x, CC_LOGIC, size);
	} else {
		lz_is(x, -1, 0);
	}
	x->hostflags = live;
	if (rf)
		return 1;
	done = jmp_fwd(j, -1);
	slow_path(j, x, i, slow, done);
	return 1;
}

/* 69 6b: IMUL r, r/m, imm (register form) */
static int emit_imul3(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int w = in->osz == 8;

	if (in->mod != 3)
		return 0;
	ld(j, w, RCX, RBX, GR(in->rm));
	enc(j, w, 0x69, 1, RAX, RCX, NULL); /* imul eax, ecx, imm32 */
	b4(j, (uint32_t)in->imm);
	enc(j, 0, 0x0f90, 2, 0, RCX, NULL); /* seto cl */
	enc(j, 0, 0x0fb6, 2, RCX, RCX, NULL);
	lazy_store(j, CC_MUL, in->osz, -1, RCX, RAX);
	st(j, 1, RAX, RBX, GR(in->reg));
	x->hostflags = 0;
	return 1;
}

/*
 * f7 /2 /3 /4 /5 /6: NOT, NEG, MUL, IMUL and DIV of rAX (rDX:rAX) by r/m. NEG leaves
 * the lazy state emu_neg() leaves (SUB 0 - a), MUL and IMUL emu_mul()'s (CC_MUL, b =
 * overflow); NOT and DIV leave the flags alone. A divisor of 0 or a quotient that
 * does not fit is the handler's (#DE).
 */
static int emit_grp3(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int w = in->osz == 8, sub = in->reg & 7, live = !in->fdead, rf;
	uint8_t *slow[NSLOW] = { NULL }, *de[2], *done;
	struct jm m;

	if (sub == 2 || sub == 3) {
		if (in->mod != 3)
			return 0;
		ld(j, w, RAX, RBX, GR(in->rm));
		if (sub == 2) {
			enc(j, w, 0xf7, 1, 2, RAX, NULL); /* not: the flags stay */
			st(j, 1, RAX, RBX, GR(in->rm));
			return 1;
		}
		mov_rr(j, w, RCX, RAX);
		enc(j, w, 0xf7, 1, 3, RCX, NULL); /* neg rcx */
		st(j, 1, RCX, RBX, GR(in->rm));
		if (live) {
			st_imm(j, 1, RBX, OFF(cc_a), 0);
			lazy_store(j, CC_SUB, in->osz, -1, RAX, RCX);
			lz_is(x, CC_SUB, in->osz);
		} else {
			lz_is(x, -1, 0);
		}
		x->hostflags = live;
		return 1;
	}
	if (sub == 7)
		return 0;
	rf = rm_source(j, x, in, in->osz, slow, &m);
	if (rf < 0)
		return 0;
	enc(j, w, 0x8b, 1, RCX, 0, &m); /* the source into rcx */
	if (sub == 6) {
		enc(j, w, 0x85, 1, RCX, RCX, NULL); /* test rcx, rcx */
		de[0] = jmp_fwd(j, HCC_E);
		ld(j, w, RDX, RBX, GR(2));
		alu_rr(j, w, ALU_CMP, RDX, RCX);
		de[1] = jmp_fwd(j, HCC_AE); /* the quotient does not fit */
		ld(j, w, RAX, RBX, GR(0));
		enc(j, w, 0xf7, 1, 6, RCX, NULL); /* div rcx */
		st(j, 1, RAX, RBX, GR(0));
		st(j, 1, RDX, RBX, GR(2));
		x->hostflags = 0;
	} else {
		de[0] = de[1] = NULL;
		ld(j, w, RAX, RBX, GR(0));
		enc(j, w, 0xf7, 1, sub, RCX, NULL); /* mul/imul rcx */
		st(j, 1, RAX, RBX, GR(0));
		st(j, 1, RDX, RBX, GR(2));
		if (live) {
			enc(j, 0, 0x0f92, 2, 0, RCX, NULL); /* setc cl: CF = OF = overflow */
			enc(j, 0, 0x0fb6, 2, RCX, RCX, NULL);
			st_imm(j, 1, RBX, OFF(cc_a), 0);
			lazy_store(j, CC_MUL, in->osz, -1, RCX, RAX);
		}
		lz_is(x, -1, 0);
		x->hostflags = 0;
	}
	if (rf && sub != 6)
		return 1;
	done = jmp_fwd(j, -1);
	land(j, de[0]);
	land(j, de[1]);
	slow_path(j, x, i, slow, done);
	return 1;
}

/* a8 a9: TEST AL, imm8; TEST eAX, imm */
static int emit_test_a(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int size = in->op == 0xa8 ? 1 : in->osz, w = size == 8, live = !in->fdead;

	if (size == 1) {
		struct jm m = mem(RBX, GR(0));

		enc(j, 0, 0x0fb6, 2, RAX, 0, &m); /* movzx eax, byte [rax slot] */
		b1(j, 0x24);			  /* and al, imm8: SF from bit 7 */
		b1(j, (uint32_t)in->imm & 0xff);
	} else {
		ld(j, w, RAX, RBX, GR(0));
		mov_ri(j, RCX, in->imm & emu_size_mask(size));
		alu_rr(j, w, ALU_AND, RAX, RCX);
	}
	if (live) {
		lazy_store(j, CC_LOGIC, size, -1, -1, RAX);
		lz_is(x, CC_LOGIC, size);
	} else {
		lz_is(x, -1, 0);
	}
	x->hostflags = live;
	return 1;
}

/*
 * ADD OR AND SUB XOR CMP with a memory destination (01 .. 39 r/m, r; 81 83 r/m, imm):
 * read, operate and write back through one TLB probe (for a write unless CMP, so a
 * page with decoded code takes the handler and its notifying store). The lazy state
 * is alu_inl()'s; the LOCK forms never come here (emit_insn()).
 */
static int emit_alu_mem(struct jb *j, struct jctx *x, unsigned int i, int alu, int imm)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int w = in->osz == 8, live = !in->fdead, write = alu != ALU_CMP;
	uint8_t *slow[NSLOW], *done;
	struct jm m = mem(RSI, 0);

	if (!x->mem)
		return 0;
	emit_ea(j, in, 0);
	tlb_probe(j, x, in->osz, write, slow);
	mov_rr(j, 1, RSI, RAX);
	ld(j, w, RAX, RSI, 0);
	if (imm)
		mov_ri(j, RCX, in->imm & emu_size_mask(in->osz));
	else
		ld(j, w, RCX, RBX, GR(in->reg));
	if (!live) {
		if (write) {
			alu_rr(j, w, alu, RAX, RCX);
			enc(j, w, 0x89, 1, RAX, 0, &m);
		}
		lz_is(x, -1, 0);
		x->hostflags = 0;
	} else if (alu == ALU_ADD || alu == ALU_SUB || alu == ALU_CMP) {
		mov_rr(j, w, RDX, RAX);
		alu_rr(j, w, alu == ALU_ADD ? ALU_ADD : ALU_SUB, RDX, RCX);
		lazy_store(j, cc_of_alu(alu), in->osz, RAX, RCX, RDX);
		if (write)
			enc(j, w, 0x89, 1, RDX, 0, &m);
		lz_is(x, (int)cc_of_alu(alu), in->osz);
		x->hostflags = 1;
	} else {
		alu_rr(j, w, alu, RAX, RCX);
		lazy_store(j, CC_LOGIC, in->osz, -1, -1, RAX);
		enc(j, w, 0x89, 1, RAX, 0, &m);
		lz_is(x, CC_LOGIC, in->osz);
		x->hostflags = 1;
	}
	done = jmp_fwd(j, -1);
	slow_path(j, x, i, slow, done);
	return 1;
}

/* 01 09 21 29 31 39 (r/m, r), 03 .. 3b (r, r/m), 05 .. 3d (eAX, imm), 81 83, 85 */
static int emit_alu(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	unsigned int op = in->op;
	int alu, w = in->osz == 8;
	uint64_t mask = emu_size_mask(in->osz);
	uint8_t *slow[NSLOW], *done;

	if (op == 0x85) {
		if (in->mod != 3)
			return 0;
		ld(j, w, RAX, RBX, GR(in->rm));
		ld(j, w, RCX, RBX, GR(in->reg));
		alu_body(j, x, in, ALU_AND, 1, 0);
		return 1;
	}
	if (op == 0x81 || op == 0x83) {
		alu = in->reg & 7;
		if (alu == ALU_ADC || alu == ALU_SBB)
			return emit_adc(j, x, i, alu);
		if (in->mod != 3)
			return emit_alu_mem(j, x, i, alu, 1);
		ld(j, w, RAX, RBX, GR(in->rm));
		mov_ri(j, RCX, in->imm & mask);
		alu_body(j, x, in, alu, 0, in->rm);
		return 1;
	}
	if (op == 0x38 || op == 0x3a || op == 0x3c)
		return emit_cmp8(j, x, i);
	if (op >= 0x40 || (op & 7) == 0 || (op & 7) == 2 || (op & 7) == 4 || (op & 7) > 5)
		return 0;
	alu = (int)(op >> 3);
	if (alu == ALU_ADC || alu == ALU_SBB)
		return emit_adc(j, x, i, alu);
	if ((op & 7) == 5) { /* eAX, imm */
		ld(j, w, RAX, RBX, GR(0));
		mov_ri(j, RCX, in->imm & mask);
		alu_body(j, x, in, alu, 0, 0);
		return 1;
	}
	if ((op & 7) == 1) { /* r/m, r */
		if (in->mod != 3)
			return emit_alu_mem(j, x, i, alu, 0);
		ld(j, w, RAX, RBX, GR(in->rm));
		ld(j, w, RCX, RBX, GR(in->reg));
		alu_body(j, x, in, alu, 0, in->rm);
		return 1;
	}
	/* r, r/m */
	if (in->mod == 3) {
		ld(j, w, RAX, RBX, GR(in->reg));
		ld(j, w, RCX, RBX, GR(in->rm));
		alu_body(j, x, in, alu, 0, in->reg);
		return 1;
	}
	if (!x->mem)
		return 0;
	emit_ea(j, in, 0);
	tlb_probe(j, x, in->osz, 0, slow);
	ld(j, w, RCX, RAX, 0);
	ld(j, w, RAX, RBX, GR(in->reg));
	alu_body(j, x, in, alu, 0, in->reg);
	done = jmp_fwd(j, -1);
	slow_path(j, x, i, slow, done);
	return 1;
}

/*
 * ROL/ROR r, imm (rot_inl()): with live flags, CF and OF of the result go to cc_b
 * under CC_ROT and the lazy state before it moves to cc2_* (rot_lazy()). A state
 * that is CC_ROT already keeps its cc2_*: rot_lazy() would make them the EFLAGS
 * they give with the old CF and OF, which the new CF and OF replace anyway.
 */
static int emit_rot(struct jb *j, struct jctx *x, unsigned int i, unsigned int n)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int w = in->osz == 8, right = (in->reg & 7) == SH_ROR;
	unsigned int bits = (unsigned int)in->osz * 8;
	uint8_t *rot;
	struct jm m;

	ld(j, w, RDX, RBX, GR(in->rm));
	shift_ri(j, w, right ? SH_ROR : SH_ROL, RDX, n);
	if (!in->fdead) {
		/* cf into ecx bit 0, of into esi bit 0 */
		mov_rr(j, w, RCX, RDX);
		if (right) {
			shift_ri(j, w, 5, RCX, bits - 1);
			mov_rr(j, w, RSI, RDX);
			shift_ri(j, w, 5, RSI, bits - 2);
		} else {
			mov_rr(j, w, RSI, RDX);
			shift_ri(j, w, 5, RSI, bits - 1);
		}
		alu_ri(j, 0, ALU_AND, RCX, 1);
		alu_rr(j, 0, ALU_XOR, RSI, RCX);
		alu_ri(j, 0, ALU_AND, RSI, 1);
		shift_ri(j, 0, 4, RSI, 11); /* FL_OF */
		alu_rr(j, 0, ALU_OR, RCX, RSI);
		m = mem(RBX, OFF(cc_op));
		enc(j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [cc_op], CC_ROT */
		b1(j, CC_ROT);
		rot = jmp_fwd(j, HCC_E);
		ld(j, 0, RSI, RBX, OFF(cc_op));
		st(j, 0, RSI, RBX, OFF(cc2_op));
		ld(j, 0, RSI, RBX, OFF(cc_size));
		st(j, 0, RSI, RBX, OFF(cc2_size));
		ld(j, 1, RSI, RBX, OFF(cc_a));
		st(j, 1, RSI, RBX, OFF(cc2_a));
		ld(j, 1, RSI, RBX, OFF(cc_b));
		st(j, 1, RSI, RBX, OFF(cc2_b));
		ld(j, 1, RSI, RBX, OFF(cc_res));
		st(j, 1, RSI, RBX, OFF(cc2_res));
		st_imm(j, 0, RBX, OFF(cc_op), CC_ROT);
		land(j, rot);
		st(j, 1, RCX, RBX, OFF(cc_b));
	}
	st(j, 1, RDX, RBX, GR(in->rm));
	x->hostflags = 0;
	return 1;
}

/*
 * c1 d1 d3 /0 /1 /4 /5 /7, register forms: shifts and rotates by an immediate or
 * by 1 (shift_lazy(), CC_SHL/SHR/SAR of a and the count), SHL/SHR/SAR by CL: the
 * count masked to 5 or 6 bits, and a count of 0 leaves the flags alone (and still
 * zero-extends a 32-bit register, as set_reg() does).
 */
static int emit_shift(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int w = in->osz == 8, sub = in->reg & 7, live = !in->fdead;
	unsigned int n = in->op == 0xd1 ? 1u : (unsigned int)in->imm & (w ? 63u : 31u);
	unsigned int ccop;
	uint8_t *zero, *done;

	if (in->mod != 3 || sub == SH_RCL || sub == SH_RCR)
		return 0;
	if (sub == SH_SAL)
		sub = SH_SHL;
	ccop = sub == SH_SHL ? CC_SHL : sub == SH_SHR ? CC_SHR : CC_SAR;
	if (in->op == 0xd3) {
		if (sub == SH_ROL || sub == SH_ROR)
			return 0;
		ld(j, w, RAX, RBX, GR(in->rm));
		ld(j, 0, RCX, RBX, GR(1));
		alu_ri(j, 0, ALU_AND, RCX, w ? 63 : 31);
		zero = jmp_fwd(j, HCC_E);
		mov_rr(j, w, RDX, RAX);
		enc(j, w, 0xd3, 1, sub, RDX, NULL); /* shift rdx, cl */
		if (live)
			lazy_store(j, ccop, in->osz, RAX, RCX, RDX);
		st(j, 1, RDX, RBX, GR(in->rm));
		done = jmp_fwd(j, -1);
		land(j, zero);
		if (!w)
			st(j, 1, RAX, RBX, GR(in->rm));
		land(j, done);
		lz_is(x, -1, 0);
		x->hostflags = 0;
		return 1;
	}
	if (n == 0)
		return 0;
	if (sub == SH_ROL || sub == SH_ROR)
		return emit_rot(j, x, i, n);
	ld(j, w, RAX, RBX, GR(in->rm));
	mov_rr(j, w, RDX, RAX);
	shift_ri(j, w, sub, RDX, n);
	if (live) {
		mov_ri(j, RCX, n);
		lazy_store(j, ccop, in->osz, RAX, RCX, RDX);
	}
	st(j, 1, RDX, RBX, GR(in->rm));
	x->hostflags = 0;
	return 1;
}

/* 0f af: IMUL r, r/m (register form) */
static int emit_imul(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int w = in->osz == 8;

	if (in->mod != 3)
		return 0;
	ld(j, w, RAX, RBX, GR(in->reg));
	ld(j, w, RCX, RBX, GR(in->rm));
	enc(j, w, 0x0faf, 2, RAX, RCX, NULL);
	if (in->hfn == in->fn) {
		enc(j, 0, 0x0f90, 2, 0, RCX, NULL); /* seto cl */
		enc(j, 0, 0x0fb6, 2, RCX, RCX, NULL);
		lazy_store(j, CC_MUL, in->osz, -1, RCX, RAX);
	}
	st(j, 1, RAX, RBX, GR(in->reg));
	x->hostflags = 0;
	return 1;
}

/* ff /0 /1 (register), 40-4f outside 64-bit mode: INC/DEC */
static int emit_incdec(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int w = in->osz == 8, r, dec, live = in->hfn == in->fn, memf = 0;
	uint8_t *slow[8], *have[6], *done, *pslow[NSLOW];
	int ns = 0, nh = 0;
	struct jm m, opnd;

	if (in->op == 0xff) {
		if ((in->reg & 7) > 1)
			return 0;
		r = in->rm;
		dec = in->reg & 1;
		if (in->mod != 3) {
			/* INC/DEC m: through the TLB for a write, rsi = the host address */
			if (!x->mem)
				return 0;
			memf = 1;
			live = !in->fdead;
			emit_ea(j, in, 0);
			tlb_probe(j, x, in->osz, 1, pslow);
			mov_rr(j, 1, RSI, RAX);
		}
	} else {
		r = (int)(in->op & 7);
		dec = (in->op & 8) != 0;
	}
	opnd = memf ? mem(RSI, 0) : mem(RBX, GR(r));
	if (!live) {
		if (memf) {
			enc(j, w, 0x83, 1, dec ? ALU_SUB : ALU_ADD, 0, &opnd);
			b1(j, 1);
			x->hostflags = 0;
			done = jmp_fwd(j, -1);
			slow_path(j, x, i, pslow, done);
			return 1;
		}
		ld(j, w, RAX, RBX, GR(r));
		alu_ri(j, w, dec ? ALU_SUB : ALU_ADD, RAX, 1);
		st(j, 1, RAX, RBX, GR(r));
		x->hostflags = 0;
		return 1;
	}
	if (!memf && in->fclass != EMU_FC_PARTIAL)
		return 0;
	/*
	 * CC_INC/CC_DEC keep the CF before them (emu_incdec()): taken from the lazy state
	 * here when it is SUB, ADD, a logic op or INC/DEC itself, of 4 or 8 bytes; any
	 * other state is the handler's business.
	 */
	ld(j, 0, RCX, RBX, OFF(cc_op));
	alu_ri(j, 0, ALU_CMP, RCX, CC_LOGIC);
	{
		uint8_t *not_logic = jmp_fwd(j, HCC_NE);

		alu_rr(j, 0, ALU_XOR, RCX, RCX);
		have[nh++] = jmp_fwd(j, -1);
		land(j, not_logic);
	}
	alu_ri(j, 0, ALU_CMP, RCX, CC_INC);
	{
		uint8_t *not_inc = jmp_fwd(j, HCC_NE), *not_dec;

		ld(j, 1, RCX, RBX, OFF(cc_b));
		have[nh++] = jmp_fwd(j, -1);
		land(j, not_inc);
		alu_ri(j, 0, ALU_CMP, RCX, CC_DEC);
		not_dec = jmp_fwd(j, HCC_NE);
		ld(j, 1, RCX, RBX, OFF(cc_b));
		have[nh++] = jmp_fwd(j, -1);
		land(j, not_dec);
	}
	/* SUB: CF = a < b; ADD: CF = res < a (unsigned, at the state's size) */
	for (int add = 0; add < 2; add++) {
		uint8_t *other, *l64, *cmp_done;

		alu_ri(j, 0, ALU_CMP, RCX, add ? CC_ADD : CC_SUB);
		other = jmp_fwd(j, HCC_NE);
		ld(j, 1, RAX, RBX, add ? OFF(cc_res) : OFF(cc_a));
		m = mem(RBX, OFF(cc_size));
		enc(j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [cc_size], 8 */
		b1(j, 8);
		l64 = jmp_fwd(j, HCC_E);
		enc(j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [cc_size], 4 */
		b1(j, 4);
		slow[ns++] = jmp_fwd(j, HCC_NE);
		m = mem(RBX, add ? OFF(cc_a) : OFF(cc_b));
		enc(j, 0, 0x3b, 1, RAX, 0, &m); /* cmp eax, [..] */
		cmp_done = jmp_fwd(j, -1);
		land(j, l64);
		enc(j, 1, 0x3b, 1, RAX, 0, &m); /* cmp rax, [..] */
		land(j, cmp_done);
		enc(j, 0, 0x0f92, 2, 0, RCX, NULL); /* setb cl */
		enc(j, 0, 0x0fb6, 2, RCX, RCX, NULL);
		have[nh++] = jmp_fwd(j, -1);
		land(j, other);
	}
	slow[ns++] = jmp_fwd(j, -1);
	for (int k = 0; k < nh; k++)
		land(j, have[k]);
	enc(j, w, 0x8b, 1, RAX, 0, &opnd);
	mov_rr(j, w, RDX, RAX);
	alu_ri(j, w, dec ? ALU_SUB : ALU_ADD, RDX, 1);
	lazy_store(j, dec ? CC_DEC : CC_INC, in->osz, RAX, RCX, RDX);
	enc(j, memf ? w : 1, 0x89, 1, RDX, 0, &opnd);
	done = jmp_fwd(j, -1);
	for (int k = 0; k < ns; k++)
		land(j, slow[k]);
	x->hostflags = 0;
	if (memf) {
		slow_path(j, x, i, pslow, done);
		return 1;
	}
	emit_call_plain(j, x, i);
	land(j, done);
	return 1;
}

/* 88 89 8b c6 c7 8d b8-bf 63 0f b6: moves, LEA, MOVSXD, MOVZX from a byte */
static int emit_mov(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int w = in->osz == 8, flags_kept = x->hostflags, reg_form;
	uint8_t *slow[NSLOW], *done;
	struct jm m;

	switch (in->op) {
	case 0x89:
	case 0x8b:
		if (in->mod == 3) {
			int src = in->op == 0x89 ? in->reg : in->rm;
			int dst = in->op == 0x89 ? in->rm : in->reg;

			ld(j, w, RAX, RBX, GR(src));
			st(j, 1, RAX, RBX, GR(dst));
			x->hostflags = flags_kept;
			return 1;
		}
		if (!x->mem)
			return 0;
		emit_ea(j, in, 0);
		tlb_probe(j, x, in->osz, in->op == 0x89, slow);
		if (in->op == 0x89) {
			ld(j, w, RCX, RBX, GR(in->reg));
			st(j, w, RCX, RAX, 0);
		} else {
			ld(j, w, RAX, RAX, 0);
			st(j, 1, RAX, RBX, GR(in->reg));
		}
		break;
	case 0x88:
		if (in->mod == 3 || !x->mem)
			return 0;
		emit_ea(j, in, 0);
		tlb_probe(j, x, 1, 1, slow);
		m = byte_reg(in, in->reg);
		enc(j, 0, 0x0fb6, 2, RCX, 0, &m);
		m = mem(RAX, 0);
		enc(j, 0, 0x88, 1, RCX, 0, &m); /* mov [rax], cl */
		break;
	case 0xc6:
		if (in->mod == 3 || (in->reg & 7) || !x->mem)
			return 0;
		emit_ea(j, in, 0);
		tlb_probe(j, x, 1, 1, slow);
		m = mem(RAX, 0);
		enc(j, 0, 0xc6, 1, 0, 0, &m); /* mov byte [rax], imm8 */
		b1(j, (uint32_t)in->imm & 0xff);
		break;
	case 0x63: /* MOVSXD r64, r/m32 */
		if (x->c->mode != 2 || !w)
			return 0;
		reg_form = rm_source(j, x, in, 4, slow, &m);
		if (reg_form < 0)
			return 0;
		enc(j, 1, 0x63, 1, RAX, 0, &m);
		st(j, 1, RAX, RBX, GR(in->reg));
		if (reg_form) {
			x->hostflags = flags_kept;
			return 1;
		}
		break;
	case 0xc7:
		if (in->reg & 7)
			return 0;
		if (in->mod == 3) {
			mov_ri(j, RAX, in->imm & emu_size_mask(in->osz));
			st(j, 1, RAX, RBX, GR(in->rm));
			x->hostflags = flags_kept;
			return 1;
		}
		if (!x->mem)
			return 0;
		emit_ea(j, in, 0);
		tlb_probe(j, x, in->osz, 1, slow);
		st_imm(j, w, RAX, 0, (uint32_t)in->imm);
		break;
	case 0x8d:
		if (in->mod == 3 || in->asz == 2)
			return 0;
		emit_ea(j, in, 1);
		if (!w)
			mov_rr(j, 0, RDX, RDX);
		st(j, 1, RDX, RBX, GR(in->reg));
		x->hostflags = flags_kept;
		return 1;
	case 0x1b6:
	case 0x1b7:
	case 0x1be:
	case 0x1bf:
		reg_form = rm_source(j, x, in, (in->op & 1) ? 2 : 1, slow, &m);
		if (reg_form < 0)
			return 0;
		/* movzx/movsx: a 32-bit MOVSX zero-extends into the upper half */
		enc(j, in->op >= 0x1be && w, 0x0f00u | (in->op & 0xff), 2, RAX, 0, &m);
		st(j, 1, RAX, RBX, GR(in->reg));
		if (reg_form) {
			x->hostflags = flags_kept;
			return 1;
		}
		break;
	default: /* b8-bf */
		mov_ri(j, RAX, in->imm & emu_size_mask(in->osz));
		st(j, 1, RAX, RBX, GR((int)(in->op & 7) | ((in->rex & 1) << 3)));
		x->hostflags = flags_kept;
		return 1;
	}
	done = jmp_fwd(j, -1);
	slow_path(j, x, i, slow, done);
	return 1;
}

/* 66 89, 66 8b: MOV between a 16-bit register and memory */
static int emit_mov16(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	uint8_t *slow[NSLOW], *done;
	struct jm m;

	if (in->mod == 3 || !x->mem)
		return 0;
	emit_ea(j, in, 0);
	tlb_probe(j, x, 2, in->op == 0x89, slow);
	m = mem(RBX, GR(in->reg));
	if (in->op == 0x89) {
		enc(j, 0, 0x0fb7, 2, RCX, 0, &m); /* movzx ecx, word [reg] */
		b1(j, 0x66);
		st(j, 0, RCX, RAX, 0); /* mov [rax], cx */
	} else {
		enc(j, 0, 0x0fb7, 2, RCX, RAX, &(struct jm){ RAX, -1, 0, 0 });
		b1(j, 0x66);
		enc(j, 0, 0x89, 1, RCX, 0, &m); /* mov [reg], cx: the upper bits stay */
	}
	done = jmp_fwd(j, -1);
	slow_path(j, x, i, slow, done);
	return 1;
}

/* 50-5f in 64-bit mode: PUSH/POP r64 */
static int emit_pushpop(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int r = (int)(in->op & 7) | ((in->rex & 1) << 3);
	int sz = x->c->mode == 2 ? 8 : 4, w = sz == 8;
	uint8_t *slow[NSLOW], *done;

	if (!x->mem || in->osz == 2)
		return 0;
	/* a 32-bit stack pointer changes only in its low half (push(), pop()) */
	ld(j, w, RDX, RBX, GR(4));
	if (in->op < 0x58) {
		alu_ri(j, w, ALU_SUB, RDX, sz);
		tlb_probe(j, x, sz, 1, slow);
		ld(j, w, RCX, RBX, GR(r));
		st(j, w, RCX, RAX, 0);
		st(j, w, RDX, RBX, GR(4));
	} else {
		tlb_probe(j, x, sz, 0, slow);
		ld(j, w, RAX, RAX, 0);
		alu_ri(j, w, ALU_ADD, RDX, sz);
		st(j, w, RDX, RBX, GR(4));
		st(j, 1, RAX, RBX, GR(r));
	}
	done = jmp_fwd(j, -1);
	slow_path(j, x, i, slow, done);
	return 1;
}

/*
 * SSE: the integer, move and bitwise forms of the XMM registers, as the host's own
 * instructions on the guest's registers in struct emu_cpu (host xmm0 and xmm1 are
 * scratch: nothing lives in them across a call). None of these reads or writes
 * MXCSR, so the host's result is the interpreter's, bit for bit. The interpreter's
 * checks come first in the same order: CR0.EM, CR4.OSFXSR and CR0.TS (sse_check())
 * once per block until a handler runs, then the 16-byte alignment of the aligned
 * forms, then the TLB probe; anything that fails takes the handler, which raises
 * what the interpreter raises.
 */
#define XOFF(n) (OFF(xmm) + 16 * (int32_t)(n))

enum {
	SK_NONE,
	SK_LOAD,    /* xmm = xmm/m128 (MOVDQA MOVDQU MOVAPS MOVUPS MOVAPD MOVUPD) */
	SK_STORE,   /* xmm/m128 = xmm */
	SK_OP,	    /* xmm = op(xmm, xmm/m128) on the host, with the guest's encoding */
	SK_SHIFT,   /* 66 0f 71-73: xmm = shift(xmm, imm8) */
	SK_MOVD_LD, /* 66 0f 6e: MOVD/MOVQ xmm, r/m32/64 */
	SK_MOVD_ST, /* 66 0f 7e: MOVD/MOVQ r/m32/64, xmm */
	SK_MOVQ_LD, /* f3 0f 7e: MOVQ xmm, xmm/m64 */
	SK_MOVQ_ST, /* 66 0f d6: MOVQ xmm/m64, xmm */
	SK_MASK,    /* 66 0f d7, 0f 50, 66 0f 50: PMOVMSKB MOVMSKPS MOVMSKPD r32, xmm */
	SK_MOVS_LD, /* f3/f2 0f 10: MOVSS/MOVSD xmm, xmm/m32/64 */
	SK_MOVS_ST, /* f3/f2 0f 11: MOVSS/MOVSD xmm/m32/64, xmm */
	SK_HALF_LD, /* 0f/66 0f 12 16: MOVLPS/MOVHPS/MOVLPD/MOVHPD xmm, m64; MOVHLPS/MOVLHPS */
	SK_HALF_ST, /* 0f/66 0f 13 17: MOVLPS/MOVHPS/MOVLPD/MOVHPD m64, xmm */
	SK_EXTR,    /* 66 0f c5, 66 0f 3a 14-17: PEXTRW r32; PEXTRB/W/D/Q, EXTRACTPS r/m */
	SK_INSR,    /* 66 0f c4, 66 0f 3a 20 22: PINSRW, PINSRB, PINSRD/Q xmm, r/m */
};

/* the memory operand of @in's SK_OP form when it is not 16 bytes (no alignment then) */
static int sse_op_msize(const struct emu_insn *in)
{
	static const uint8_t pmov[6] = { 8, 4, 2, 8, 4, 8 }; /* BW BD BQ WD WQ DQ */
	unsigned int op = in->op & 0xff;

	if (in->op == (MAP0F | 0x12) && in->pfx == PFX_F2)
		return 8; /* MOVDDUP */
	if ((in->op >> 8) == 2 && ((op >= 0x20 && op <= 0x25) || (op >= 0x30 && op <= 0x35)))
		return pmov[op & 7]; /* PMOVSX PMOVZX */
	return 16;
}

/* the element size of an SK_EXTR or SK_INSR form */
static int sse_lane_size(const struct emu_insn *in)
{
	switch (in->op) {
	case MAP0F3A | 0x14:
	case MAP0F3A | 0x20:
		return 1;
	case MAP0F | 0xc4:
	case MAP0F | 0xc5:
	case MAP0F3A | 0x15:
		return 2;
	case MAP0F3A | 0x16:
	case MAP0F3A | 0x22:
		return (in->rex & 8) ? 8 : 4;
	default:
		return 4; /* EXTRACTPS */
	}
}

/*
 * Which of the forms above @in is (SK_NONE: none), whether its memory operand must
 * be 16-byte aligned, and whether the destination is only written (PSHUFD and kin).
 */
static int sse_kind(const struct emu_insn *in, int *align, int *unary)
{
	unsigned int p = in->pfx, sub = in->reg & 7;

	*align = 1;
	*unary = 0;
	switch (in->op) {
	case MAP0F | 0x10:
		*align = 0;
		return p <= PFX_66 ? SK_LOAD : SK_MOVS_LD;
	case MAP0F | 0x11:
		*align = 0;
		return p <= PFX_66 ? SK_STORE : SK_MOVS_ST;
	case MAP0F | 0x28:
		return p <= PFX_66 ? SK_LOAD : SK_NONE;
	case MAP0F | 0x29:
		return p <= PFX_66 ? SK_STORE : SK_NONE;
	case MAP0F | 0x2b: /* MOVNTPS MOVNTPD */
		return p <= PFX_66 && in->mod != 3 ? SK_STORE : SK_NONE;
	case MAP0F | 0xe7: /* MOVNTDQ */
		return p == PFX_66 && in->mod != 3 ? SK_STORE : SK_NONE;
	case MAP0F | 0xf0: /* LDDQU */
		*align = 0;
		return p == PFX_F2 && in->mod != 3 ? SK_LOAD : SK_NONE;
	case MAP0F | 0x12:
	case MAP0F | 0x16:
		if (p == PFX_F3 || (p == PFX_F2 && in->op == (MAP0F | 0x12))) {
			/* MOVSLDUP MOVSHDUP MOVDDUP */
			*unary = 1;
			return __builtin_cpu_supports("sse3") ? SK_OP : SK_NONE;
		}
		/* the register forms are MOVHLPS/MOVLHPS without a prefix only */
		return p == PFX_NONE || (p == PFX_66 && in->mod != 3) ? SK_HALF_LD : SK_NONE;
	case MAP0F | 0x13:
	case MAP0F | 0x17:
		return p <= PFX_66 && in->mod != 3 ? SK_HALF_ST : SK_NONE;
	case MAP0F | 0x14: /* UNPCKLPS UNPCKHPS UNPCKLPD UNPCKHPD */
	case MAP0F | 0x15:
		return p <= PFX_66 ? SK_OP : SK_NONE;
	case MAP0F | 0x6f:
		*align = p == PFX_66;
		return p == PFX_66 || p == PFX_F3 ? SK_LOAD : SK_NONE;
	case MAP0F | 0x7f:
		*align = p == PFX_66;
		return p == PFX_66 || p == PFX_F3 ? SK_STORE : SK_NONE;
	case MAP0F | 0x54 ... MAP0F | 0x57: /* ANDPS ANDNPS ORPS XORPS, the PD forms */
	case MAP0F | 0xc6:		    /* SHUFPS SHUFPD */
		return p <= PFX_66 ? SK_OP : SK_NONE;
	case MAP0F | 0x50:
		return p <= PFX_66 && in->mod == 3 ? SK_MASK : SK_NONE;
	case MAP0F | 0x60 ... MAP0F | 0x6d:
	case MAP0F | 0x74 ... MAP0F | 0x76:
	case MAP0F | 0xd1 ... MAP0F | 0xd5:
	case MAP0F | 0xd8 ... MAP0F | 0xe5:
	case MAP0F | 0xe8 ... MAP0F | 0xef:
	case MAP0F | 0xf1 ... MAP0F | 0xf6:
	case MAP0F | 0xf8 ... MAP0F | 0xfe:
		return p == PFX_66 ? SK_OP : SK_NONE;
	case MAP0F | 0x70: /* PSHUFD PSHUFHW PSHUFLW */
		*unary = 1;
		return p != PFX_NONE ? SK_OP : SK_NONE;
	case MAP0F | 0x71:
	case MAP0F | 0x72:
		return p == PFX_66 && in->mod == 3 && (sub == 2 || sub == 4 || sub == 6) ? SK_SHIFT
											 : SK_NONE;
	case MAP0F | 0x73:
		return p == PFX_66 && in->mod == 3 && (sub == 2 || sub == 3 || sub >= 6) ? SK_SHIFT
											 : SK_NONE;
	case MAP0F | 0x6e:
		return p == PFX_66 ? SK_MOVD_LD : SK_NONE;
	case MAP0F | 0x7e:
		return p == PFX_66 ? SK_MOVD_ST : p == PFX_F3 ? SK_MOVQ_LD : SK_NONE;
	case MAP0F | 0xd6:
		return p == PFX_66 ? SK_MOVQ_ST : SK_NONE;
	case MAP0F | 0xd7:
		return p == PFX_66 && in->mod == 3 ? SK_MASK : SK_NONE;
	case MAP0F38 | 0x00 ... MAP0F38 | 0x0b: /* PSHUFB PHADDx PMADDUBSW PHSUBx PSIGNx PMULHRSW */
	case MAP0F38 | 0x1c ... MAP0F38 | 0x1e: /* PABSB PABSW PABSD */
	case MAP0F3A | 0x0f:			/* PALIGNR */
		return p == PFX_66 && __builtin_cpu_supports("ssse3") ? SK_OP : SK_NONE;
	case MAP0F38 | 0x28: /* PMULDQ PCMPEQQ PACKUSDW PMINSB..PMAXUD PMULLD */
	case MAP0F38 | 0x29:
	case MAP0F38 | 0x2b:
	case MAP0F38 | 0x38 ... MAP0F38 | 0x40:
		return p == PFX_66 && __builtin_cpu_supports("sse4.1") ? SK_OP : SK_NONE;
	case MAP0F38 | 0x37: /* PCMPGTQ */
		return p == PFX_66 && __builtin_cpu_supports("sse4.2") ? SK_OP : SK_NONE;
	case MAP0F38 | 0x20 ... MAP0F38 | 0x25: /* PMOVSX */
	case MAP0F38 | 0x30 ... MAP0F38 | 0x35: /* PMOVZX */
		*unary = 1;
		return p == PFX_66 && __builtin_cpu_supports("sse4.1") ? SK_OP : SK_NONE;
	case MAP0F3A | 0x0c ... MAP0F3A | 0x0e: /* BLENDPS BLENDPD PBLENDW */
		return p == PFX_66 && __builtin_cpu_supports("sse4.1") ? SK_OP : SK_NONE;
	case MAP0F3A | 0x14 ... MAP0F3A | 0x17:
		return p == PFX_66 ? SK_EXTR : SK_NONE;
	case MAP0F3A | 0x20:
	case MAP0F3A | 0x22:
		return p == PFX_66 ? SK_INSR : SK_NONE;
	case MAP0F | 0xc4:
		return p == PFX_66 ? SK_INSR : SK_NONE;
	case MAP0F | 0xc5:
		return p == PFX_66 && in->mod == 3 ? SK_EXTR : SK_NONE;
	default:
		return SK_NONE;
	}
}

/* movdqu xmm@h, [rbx + guest xmm@g] (the guest's registers need not be 16-byte aligned) */
static void xmm_ld(struct jb *j, int h, int g)
{
	struct jm m = mem(RBX, XOFF(g));

	b1(j, 0xf3);
	enc(j, 0, 0x0f6f, 2, h, 0, &m);
}

static void xmm_st(struct jb *j, int h, int g)
{
	struct jm m = mem(RBX, XOFF(g));

	b1(j, 0xf3);
	enc(j, 0, 0x0f7f, 2, h, 0, &m);
}

/* movdqu xmm@h, [rax] / movdqu [rax], xmm@h: the guest's memory */
static void xmm_ld_host(struct jb *j, int h)
{
	struct jm m = mem(RAX, 0);

	b1(j, 0xf3);
	enc(j, 0, 0x0f6f, 2, h, 0, &m);
}

static void xmm_st_host(struct jb *j, int h)
{
	struct jm m = mem(RAX, 0);

	b1(j, 0xf3);
	enc(j, 0, 0x0f7f, 2, h, 0, &m);
}

/* the guest's instruction @in on the host, ModRM reg = xmm@reg, r/m = xmm@rm (or a GPR) */
static void sse_host_op(struct jb *j, const struct emu_insn *in, int reg, int rm)
{
	static const uint8_t pfx[4] = { 0, 0x66, 0xf3, 0xf2 };
	unsigned int map = in->op >> 8, op = in->op & 0xff;

	if (pfx[in->pfx])
		b1(j, pfx[in->pfx]);
	if (map == 1)
		enc(j, 0, 0x0f00u | op, 2, reg, rm, NULL);
	else
		enc(j, 0, (map == 2 ? 0x0f3800u : 0x0f3a00u) | op, 3, reg, rm, NULL);
}

/* the same with a memory operand @m (the guest's, at [rax]) */
static void sse_host_op_m(struct jb *j, const struct emu_insn *in, int reg, const struct jm *m)
{
	static const uint8_t pfx[4] = { 0, 0x66, 0xf3, 0xf2 };
	unsigned int map = in->op >> 8, op = in->op & 0xff;

	if (pfx[in->pfx])
		b1(j, pfx[in->pfx]);
	if (map == 1)
		enc(j, 0, 0x0f00u | op, 2, reg, 0, m);
	else
		enc(j, 0, (map == 2 ? 0x0f3800u : 0x0f3a00u) | op, 3, reg, 0, m);
}

/* rcx = the @size-byte lane at [@base + @off], zero-extended */
static void lane_ld(struct jb *j, int size, int base, int32_t off)
{
	struct jm m = mem(base, off);

	if (size == 1)
		enc(j, 0, 0x0fb6, 2, RCX, 0, &m);
	else if (size == 2)
		enc(j, 0, 0x0fb7, 2, RCX, 0, &m);
	else
		enc(j, size == 8, 0x8b, 1, RCX, 0, &m);
}

/* [@base + @off] = the low @size bytes of rcx */
static void lane_st(struct jb *j, int size, int base, int32_t off)
{
	struct jm m = mem(base, off);

	if (size == 1) {
		enc(j, 0, 0x88, 1, RCX, 0, &m);
	} else {
		if (size == 2)
			b1(j, 0x66);
		enc(j, size == 8, 0x89, 1, RCX, 0, &m);
	}
}

/*
 * sse_check() of the interpreter, when the block has not made it since its start or
 * the last handler: CR0.EM or CR0.TS set, or CR4.OSFXSR clear, go to the handler.
 */
static void sse_guard(struct jb *j, struct jctx *x, uint8_t **g)
{
	struct jm m;

	_Static_assert((CR0_EM | CR0_TS) < 0x100 && (CR4_OSFXSR >> 8) < 0x100, "byte tests");
	g[0] = g[1] = NULL;
	if (x->sse_ok)
		return;
	m = mem(RBX, OFF(cr0));
	enc(j, 0, 0xf6, 1, 0, 0, &m); /* test byte [cr0], EM | TS */
	b1(j, CR0_EM | CR0_TS);
	g[0] = jmp_fwd(j, HCC_NE);
	m = mem(RBX, OFF(cr4) + 1);
	enc(j, 0, 0xf6, 1, 0, 0, &m); /* test byte [cr4 + 1], OSFXSR >> 8 */
	b1(j, CR4_OSFXSR >> 8);
	g[1] = jmp_fwd(j, HCC_E);
}

/* the SSE forms of sse_kind(); Return: 1 when emitted, 0 for the handler */
static int emit_sse(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int align, unary, kind = sse_kind(in, &align, &unary);
	int memop = in->mod != 3, w = (in->rex & 8) != 0, size = 16, write = 0, any = 0;
	int flags_kept = x->hostflags && x->sse_ok && !memop;
	uint8_t *slow[NSLOW + 3] = { NULL }, *done;

	if (kind == SK_NONE || in->lock || (memop && (!x->mem || in->asz == 2)))
		return 0;
	switch (kind) {
	case SK_STORE:
		write = 1;
		break;
	case SK_MOVD_LD:
		size = w ? 8 : 4;
		break;
	case SK_MOVD_ST:
		size = w ? 8 : 4;
		write = 1;
		break;
	case SK_MOVQ_LD:
		size = 8;
		break;
	case SK_MOVQ_ST:
		size = 8;
		write = 1;
		break;
	case SK_MOVS_LD:
		size = in->pfx == PFX_F3 ? 4 : 8;
		break;
	case SK_MOVS_ST:
		size = in->pfx == PFX_F3 ? 4 : 8;
		write = 1;
		break;
	case SK_HALF_LD:
		size = 8;
		break;
	case SK_HALF_ST:
		size = 8;
		write = 1;
		break;
	case SK_OP:
		size = sse_op_msize(in);
		break;
	case SK_EXTR:
		size = sse_lane_size(in);
		write = 1;
		break;
	case SK_INSR:
		size = sse_lane_size(in);
		break;
	default:
		break;
	}
	if (size != 16)
		align = 0;
	sse_guard(j, x, &slow[NSLOW]);
	if (memop) {
		emit_ea(j, in, 0);
		if (align) {
			enc(j, 0, 0xf6, 1, 0, RDX, NULL); /* test dl, 15 */
			b1(j, 15);
			slow[NSLOW + 2] = jmp_fwd(j, HCC_NE);
		}
		tlb_probe(j, x, size, write, slow);
	}
	switch (kind) {
	case SK_LOAD:
		if (memop)
			xmm_ld_host(j, 0);
		else
			xmm_ld(j, 0, in->rm);
		xmm_st(j, 0, in->reg);
		break;
	case SK_STORE:
		xmm_ld(j, 0, in->reg);
		if (memop)
			xmm_st_host(j, 0);
		else
			xmm_st(j, 0, in->rm);
		break;
	case SK_OP:
		if (!unary)
			xmm_ld(j, 0, in->reg);
		if (memop && size != 16) {
			/* a narrower operand straight from guest memory (no alignment rule) */
			struct jm hm = mem(RAX, 0);

			sse_host_op_m(j, in, 0, &hm);
		} else {
			if (memop)
				xmm_ld_host(j, 1);
			else
				xmm_ld(j, 1, in->rm);
			sse_host_op(j, in, 0, 1);
		}
		if (in->op == (MAP0F | 0x70) || in->op == (MAP0F | 0xc6) || (in->op >> 8) == 3)
			b1(j, (uint32_t)in->imm & 0xff);
		xmm_st(j, 0, in->reg);
		break;
	case SK_EXTR: {
		int src = in->op == (MAP0F | 0xc5) ? in->rm : in->reg;
		int dst = in->op == (MAP0F | 0xc5) ? in->reg : in->rm;
		int32_t off = XOFF(src) + (int32_t)(in->imm & (uint64_t)(16 / size - 1)) * size;

		lane_ld(j, size, RBX, off);
		if (memop)
			lane_st(j, size, RAX, 0);
		else
			st(j, 1, RCX, RBX, GR(dst)); /* zero-extended into the whole register */
		break;
	}
	case SK_INSR: {
		int32_t off = XOFF(in->reg) + (int32_t)(in->imm & (uint64_t)(16 / size - 1)) * size;

		if (memop)
			lane_ld(j, size, RAX, 0);
		else
			ld(j, 1, RCX, RBX, GR(in->rm));
		lane_st(j, size, RBX, off);
		break;
	}
	case SK_SHIFT:
		xmm_ld(j, 0, in->rm);
		sse_host_op(j, in, in->reg & 7, 0);
		b1(j, (uint32_t)in->imm & 0xff);
		xmm_st(j, 0, in->rm);
		break;
	case SK_MOVD_LD:
	case SK_MOVQ_LD:
		if (memop)
			ld(j, kind == SK_MOVQ_LD || w, RCX, RAX, 0);
		else if (kind == SK_MOVD_LD)
			ld(j, w, RCX, RBX, GR(in->rm));
		else
			ld(j, 1, RCX, RBX, XOFF(in->rm));
		st(j, 1, RCX, RBX, XOFF(in->reg));
		st_imm(j, 1, RBX, XOFF(in->reg) + 8, 0);
		break;
	case SK_MOVD_ST:
		ld(j, w, RCX, RBX, XOFF(in->reg));
		if (memop)
			st(j, w, RCX, RAX, 0);
		else
			st(j, 1, RCX, RBX, GR(in->rm)); /* a 32-bit MOVD zero-extends */
		break;
	case SK_MOVQ_ST:
		ld(j, 1, RCX, RBX, XOFF(in->reg));
		if (memop) {
			st(j, 1, RCX, RAX, 0);
		} else {
			st(j, 1, RCX, RBX, XOFF(in->rm));
			st_imm(j, 1, RBX, XOFF(in->rm) + 8, 0);
		}
		break;
	case SK_MOVS_LD:
		/* from memory the rest of the register is zeroed, from a register it stays */
		w = size == 8;
		if (memop) {
			ld(j, w, RCX, RAX, 0);
			st(j, 1, RCX, RBX, XOFF(in->reg));
			st_imm(j, 1, RBX, XOFF(in->reg) + 8, 0);
		} else {
			ld(j, w, RCX, RBX, XOFF(in->rm));
			st(j, w, RCX, RBX, XOFF(in->reg));
		}
		break;
	case SK_MOVS_ST:
		w = size == 8;
		ld(j, w, RCX, RBX, XOFF(in->reg));
		if (memop)
			st(j, w, RCX, RAX, 0);
		else
			st(j, w, RCX, RBX, XOFF(in->rm));
		break;
	case SK_HALF_LD: {
		int hi = (in->op & 0xff) == 0x16;

		if (memop) /* MOVLPS MOVLPD MOVHPS MOVHPD */
			ld(j, 1, RCX, RAX, 0);
		else /* MOVHLPS: the high half of the source, MOVLHPS: the low one */
			ld(j, 1, RCX, RBX, XOFF(in->rm) + (hi ? 0 : 8));
		st(j, 1, RCX, RBX, XOFF(in->reg) + (hi ? 8 : 0));
		break;
	}
	case SK_HALF_ST:
		ld(j, 1, RCX, RBX, XOFF(in->reg) + ((in->op & 0xff) == 0x17 ? 8 : 0));
		st(j, 1, RCX, RAX, 0);
		break;
	case SK_MASK:
		xmm_ld(j, 0, in->rm);
		sse_host_op(j, in, RAX, 0); /* pmovmskb/movmskps/movmskpd eax, xmm0 */
		st(j, 1, RAX, RBX, GR(in->reg));
		break;
	default:
		break;
	}
	for (int k = 0; k < NSLOW + 3; k++)
		any |= slow[k] != NULL;
	if (any) {
		done = jmp_fwd(j, -1);
		for (int k = NSLOW; k < NSLOW + 3; k++)
			land(j, slow[k]);
		x->hostflags = 0;
		slow_path(j, x, i, slow, done);
	}
	/* both paths passed sse_check(); neither touches the lazy flags */
	x->sse_ok = 1;
	x->hostflags = flags_kept;
	lz_is(x, x->lz_op, x->lz_size);
	return 1;
}

/*
 * jump_to()'s check of a near target in @reg: canonical in 64-bit mode; else
 * truncated to 32 bits and within the CS limit. Return: the jump taken when it fails.
 */
static uint8_t *check_target(struct jb *j, struct jctx *x, int reg)
{
	if (x->c->mode == 2) {
		mov_rr(j, 1, RCX, reg);
		shift_ri(j, 1, 4, RCX, 16);
		shift_ri(j, 1, 7, RCX, 16);
		alu_rr(j, 1, ALU_CMP, RCX, reg);
		return jmp_fwd(j, HCC_NE);
	}
	mov_rr(j, 0, reg, reg);
	ld(j, 0, RCX, RBX, SEGF(SEG_CS, limit));
	alu_rr(j, 1, ALU_CMP, reg, RCX);
	return jmp_fwd(j, HCC_A);
}

/*
 * Jcc, JMP, CALL, RET: the block's last instruction. The fast path leaves the
 * block itself; the slow path (a failed check) is the handler call, after which
 * the block's end code follows.
 */
static int emit_branch(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	unsigned int op = in->op;
	int32_t seq = (int32_t)in->off + in->len;
	int sz = x->c->mode == 2 ? 8 : 4, w = sz == 8;
	uint8_t *slow[NSLOW] = { NULL }, *no, *bad;
	struct jm m;

	if (op == 0xc3) {
		if (!near_ok(x, in) || !x->mem)
			return 0;
		ld(j, w, RDX, RBX, GR(4));
		tlb_probe(j, x, sz, 0, slow);
		ld(j, w, RAX, RAX, 0);
		/* the target is checked before the stack pointer moves */
		slow[5] = check_target(j, x, RAX);
		alu_ri(j, w, ALU_ADD, RDX, sz);
		st(j, w, RDX, RBX, GR(4));
		exit_dispatch(j, x, x->blk->n);
		slow_path(j, x, i, slow, NULL);
		return 1;
	}
	if (op == 0xe8) {
		if (!near_ok(x, in) || !x->mem)
			return 0;
		ld(j, w, RDX, RBX, GR(4));
		alu_ri(j, w, ALU_SUB, RDX, sz);
		tlb_probe(j, x, sz, 1, slow);
		/* the target check comes before the push takes effect */
		m = mem(R12, branch_rel(in));
		lea(j, 1, RSI, &m);
		slow[5] = check_target(j, x, RSI);
		m = mem(R12, seq);
		lea(j, 1, RCX, &m);
		st(j, w, RCX, RAX, 0);
		st(j, w, RDX, RBX, GR(4));
		mov_rr(j, 1, RAX, RSI);
		exit_chain(j, x, branch_rel(in));
		slow_path(j, x, i, slow, NULL);
		return 1;
	}
	if (!near_ok(x, in))
		return 0;
	if (op == 0xe9 || op == 0xeb) {
		m = mem(R12, branch_rel(in));
		lea(j, 1, RAX, &m);
		exit_target(j, x, branch_rel(in), &bad);
		slow[0] = bad;
		slow_path(j, x, i, slow, NULL);
		return 1;
	}
	if ((op >= 0x70 && op <= 0x7f) || (op >= 0x180 && op <= 0x18f)) {
		no = cond_false(j, x, op & 15);
		m = mem(R12, branch_rel(in));
		lea(j, 1, RAX, &m);
		exit_target(j, x, branch_rel(in), &bad);
		land(j, no);
		m = mem(R12, seq);
		lea(j, 1, RAX, &m);
		exit_chain(j, x, seq);
		slow[0] = bad;
		slow_path(j, x, i, slow, NULL);
		return 1;
	}
	return 0;
}

/*
 * does @in leave the lazy-flag state alone, inline and in its handler? (moves,
 * LEA, MOVZX, PUSH/POP, CMOVcc, SETcc, hint NOPs, and whatever the decoder says
 * neither reads nor writes flags)
 */
static int flags_neutral(const struct jctx *x, const struct emu_insn *in)
{
	if (in->fclass == EMU_FC_NONE)
		return 1;
	switch (in->op) {
	case 0x63:
		return x->c->mode == 2; /* ARPL outside 64-bit mode */
	case 0x50 ... 0x5f:
	case 0x88 ... 0x8b:
	case 0x8d:
	case 0xb8 ... 0xbf:
	case 0xc6:
	case 0xc7:
	case 0x10d:
	case 0x118 ... 0x11f:
	case 0x140 ... 0x14f:
	case 0x190 ... 0x19f:
	case 0x1b6:
	case 0x1b7:
	case 0x1be:
	case 0x1bf:
		return 1;
	case 0x90:
		return !in->rep && !(in->rex & 1);
	case 0xf7: /* NOT, DIV, IDIV */
		return (in->reg & 7) == 2 || (in->reg & 7) >= 6;
	default:
		return 0;
	}
}

/* one instruction: an inline form, else its handler */
static void emit_insn(struct jb *j, struct jctx *x, unsigned int i)
{
	const struct emu_insn *in = &x->blk->insn[i];
	int done = 0;

	x->lz_set = 0;
	if (in->op >= MAP0F)
		done = emit_sse(j, x, i);
	/* 16-bit addressing has no inline forms */
	if (!done && !in->lock && !in->rep && in->osz == 2 &&
	    !(in->has_modrm && in->mod != 3 && in->asz == 2)) {
		if (in->op == 0x89 || in->op == 0x8b)
			done = emit_mov16(j, x, i);
		else if (in->op == 0x90 && !(in->rex & 1))
			done = 1; /* xchg ax, ax: a NOP */
	}
	if (!done && !in->lock && !in->rep && (in->osz == 4 || in->osz == 8) &&
	    !(in->has_modrm && in->mod != 3 && in->asz == 2)) {
		switch (in->op) {
		case 0x01 ... 0x3d:
		case 0x81:
		case 0x83:
		case 0x85:
			done = emit_alu(j, x, i);
			break;
		case 0xc1:
		case 0xd1:
		case 0xd3:
			done = emit_shift(j, x, i);
			break;
		case 0x90:
			done = !(in->rex & 1); /* NOP (PAUSE has a REP prefix) */
			break;
		case 0xa8:
		case 0xa9:
			done = emit_test_a(j, x, i);
			break;
		case 0x1af:
			done = emit_imul(j, x, i);
			break;
		case 0x69:
		case 0x6b:
			done = emit_imul3(j, x, i);
			break;
		case 0x80:
			done = emit_cmp8(j, x, i);
			break;
		case 0x84:
		case 0xf6:
			done = emit_test(j, x, i);
			break;
		case 0xf7:
			done = (in->reg & 7) < 2 ? emit_test(j, x, i) : emit_grp3(j, x, i);
			break;
		case 0x140 ... 0x14f:
			done = emit_cmov(j, x, i);
			break;
		case 0x190 ... 0x19f:
			done = emit_setcc(j, x, i);
			break;
		case 0x10d:
		case 0x118 ... 0x11f:
			done = 1; /* prefetch and hint NOPs: nothing at all */
			break;
		case 0x40 ... 0x4f:
			done = x->c->mode != 2 && emit_incdec(j, x, i);
			break;
		case 0xff:
			done = emit_incdec(j, x, i);
			break;
		case 0x63:
		case 0x88:
		case 0x89:
		case 0x8b:
		case 0x8d:
		case 0xc6:
		case 0xc7:
		case 0xb8 ... 0xbf:
		case 0x1b6:
		case 0x1b7:
		case 0x1be:
		case 0x1bf:
			done = emit_mov(j, x, i);
			break;
		case 0x50 ... 0x5f:
			done = emit_pushpop(j, x, i);
			break;
		case 0x70 ... 0x7f:
		case 0x180 ... 0x18f:
		case 0xc3:
		case 0xe8:
		case 0xe9:
		case 0xeb:
			done = emit_branch(j, x, i);
			break;
		default:
			break;
		}
	}
	if (!x->lz_set && !flags_neutral(x, in))
		x->lz_op = -1;
	if (done)
		return;
	x->sse_ok = 0; /* a handler may have changed CR0 or CR4 */
	switch (in->fclass) {
	case EMU_FC_NONE:
	case EMU_FC_WRITE:
	case EMU_FC_PARTIAL:
		emit_call_plain(j, x, i);
		break;
	default:
		x->chain = 0;
		emit_call_checked(j, x, i);
		break;
	}
}

/* what needs the run loop: or-ed into one register (the run state EMU_RUNNING is 0) */
static const int32_t busy_fields[] = { OFF(intr_hint),	OFF(kick),	 OFF(exit_ready),
				       OFF(irq_shadow), OFF(stop_block), OFF(state) };

/* room a link stub (emu_jit_link()) needs */
#define LINK_BYTES 512

/*
 * dispatch() goes on from the exit of exit_link() that called it (@ret, its return
 * address), not linked yet, into the translated, current block @b at RIP @rip: emit
 * a stub that checks what dispatch() checked and jumps into @b's body, or back to
 * the exit's call of dispatch() when anything differs, and point the exit's jmp at
 * it. An exit is linked once: when its stub fails later, it goes through dispatch().
 */
static void emu_jit_link(struct emu_cpu *c, uintptr_t ret, const struct emu_block *b, uint64_t rip,
			 unsigned int kind)
{
	struct emu_jit *jit = c->jit;
	uint64_t pa = b->key >> 2;
	uint8_t *fail[16];
	int n = 0;
	int32_t rel;
	struct jb j;
	struct jm m;

	if (jit->size - jit->used < LINK_BYTES || !b->body)
		return;
	j.rw = j.p = jit->rw + jit->used;
	j.end = j.rw + LINK_BYTES;
	j.rx = (uintptr_t)jit->rx + jit->used;
	j.overflow = 0;

	ld(&j, 0, RDX, RBX, busy_fields[0]);
	for (size_t k = 1; k < sizeof(busy_fields) / sizeof(busy_fields[0]); k++) {
		m = mem(RBX, busy_fields[k]);
		enc(&j, 0, 0x0b, 1, RDX, 0, &m); /* or edx, [...] */
	}
	fail[n++] = jmp_fwd(&j, HCC_NE);
	m = mem(RBX, OFF(flags));
	enc(&j, 0, 0xf7, 1, 0, 0, &m); /* test dword [flags], TF */
	b4(&j, FL_TF);
	fail[n++] = jmp_fwd(&j, HCC_NE);
	if (kind == LINK_TLB) {
		/* 64-bit mode, the same CPL, and RIP's page maps to @b's page, executable */
		int32_t e = OFF(tlb) + (int32_t)(((rip >> 12) & (TLB_SIZE - 1)) *
						 sizeof(struct emu_tlb_entry));

		m = mem(RBX, OFF(mode));
		enc(&j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [mode], 2 */
		b1(&j, 2);
		fail[n++] = jmp_fwd(&j, HCC_NE);
		m = mem(RBX, OFF(cpl));
		enc(&j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [cpl], CPL */
		b1(&j, (unsigned int)c->cpl & 3);
		fail[n++] = jmp_fwd(&j, HCC_NE);
		mov_rr(&j, 1, RDX, RAX);
		alu_ri(&j, 1, ALU_AND, RDX, -4096);
		mov_ri(&j, RSI, rip & ~0xfffULL);
		alu_rr(&j, 1, ALU_CMP, RDX, RSI);
		fail[n++] = jmp_fwd(&j, HCC_NE);
		m = mem(RBX, e + (int32_t)offsetof(struct emu_tlb_entry, vpage));
		enc(&j, 1, 0x3b, 1, RSI, 0, &m);
		fail[n++] = jmp_fwd(&j, HCC_NE);
		m = mem(RBX, e + (int32_t)offsetof(struct emu_tlb_entry, perm));
		enc(&j, 0, 0xf7, 1, 0, 0, &m); /* test dword [perm], X */
		b4(&j, c->cpl == 3 ? TLB_X_USR : TLB_X_SUP);
		fail[n++] = jmp_fwd(&j, HCC_E);
		mov_ri(&j, RSI, pa & ~0xfffULL);
		m = mem(RBX, e + (int32_t)offsetof(struct emu_tlb_entry, ppage));
		enc(&j, 1, 0x3b, 1, RSI, 0, &m);
		fail[n++] = jmp_fwd(&j, HCC_NE);
		m = mem(RBX, e + (int32_t)offsetof(struct emu_tlb_entry, host));
		enc(&j, 1, 0x83, 1, 7, 0, &m); /* cmp qword [host], 0: not RAM */
		b1(&j, 0);
		fail[n++] = jmp_fwd(&j, HCC_E);
	}
	/*
	 * @b's page unchanged since it was decoded. Its slot may have been taken by
	 * another block since: its body and decoded instructions stay where they are
	 * until the code cache or the instruction arena is flushed, which drops this
	 * stub and the exit that jumps here too.
	 */
	mov_ri(&j, RSI, (uint64_t)(uintptr_t)&c->vm->page_gen[pa >> 12]);
	m = mem(RSI, 0);
	enc(&j, 0, 0x81, 1, 7, 0, &m); /* cmp dword [page_gen], gen */
	b4(&j, b->gen);
	fail[n++] = jmp_fwd(&j, HCC_NE);
	/* budget for the block just run and all of @b */
	m = mem(RCX, b->n);
	lea(&j, 1, R9, &m);
	m = mem(RBX, OFF(budget));
	enc(&j, 1, 0x3b, 1, R9, 0, &m);
	fail[n++] = jmp_fwd(&j, HCC_A);
	/* dispatch()'s accounting and set-up, then @b's body */
	m = mem(RBX, OFF(icount));
	enc(&j, 1, 0x01, 1, RCX, 0, &m);
	m = mem(RBX, OFF(budget));
	enc(&j, 1, 0x29, 1, RCX, 0, &m);
	st(&j, 1, RAX, RBX, OFF(rip));
	st(&j, 1, RAX, RBX, OFF(blk_rip));
	mov_ri(&j, RSI, (uint64_t)(uintptr_t)b->insn);
	st(&j, 1, RSI, RBX, OFF(blk_insn));
	st_imm(&j, 0, RBX, OFF(blk_done), b->n);
	jmp_abs(&j, (uintptr_t)b->body);
	for (int k = 0; k < n; k++)
		land(&j, fail[k]);
	jmp_abs(&j, ret - 5); /* the exit's call of dispatch() */
	if (j.overflow)
		return;
	rel = (int32_t)((intptr_t)j.rx - (intptr_t)(ret - 5));
	memcpy(jit->rw + (ret - 9 - (uintptr_t)jit->rx), &rel, 4);
	jit->used += (size_t)(j.p - j.rw);
	jit->used = (jit->used + 15) & ~(size_t)15;
	c->stat_links++;
}

/*
 * The code every 64-bit block leaves through (exit_dispatch()), called from the
 * exit with rbx = the CPU, rax = the next RIP, ecx = the instructions of the
 * block just run; inside the frame of enter(). It does what the run loop would do
 * next without returning to it: when nothing needs the run loop (no interrupt
 * hint, kick, exit, stop, interrupt shadow or single-step, still 64-bit mode), the
 * RIP's page is in the TLB executable at the current CPL and RAM, the block
 * decoded at that physical address is current (key, page generation) and
 * translated, and the budget covers both blocks, it accounts for the block just
 * run (icount, budget), sets up the next one as the run loop does (blk_rip,
 * blk_insn, blk_done) and returns to the exit with rdi = the next block's body
 * and rsi = its instructions. Otherwise it drops its return address and returns
 * to the run loop with c->rip and c->blk_done set, as a block's own exit does.
 * Only the tags of c->blocks are read: 32 bytes each, dense.
 */
static void emit_dispatch(struct jb *j, struct emu_jit *x)
{
	/* what the next block needs across the call of emu_jit_link() */
	static const int keep[] = { RSI, RDI };
	uint8_t *out[12], *sup, *ret, *ret2;
	int n = 0;
	struct jm m;

	_Static_assert(EMU_RUNNING == 0, "the run state is or-ed with the other conditions");
	/* dispatch_nolink: r10d = LINK_NONE */
	x->dispatch_nolink = rx_here(j);
	alu_rr(j, 0, ALU_XOR, R10, R10);
	x->dispatch = rx_here(j);
	st(j, 1, RAX, RBX, OFF(rip));
	st(j, 0, RCX, RBX, OFF(blk_done));
	ld(j, 0, RDX, RBX, busy_fields[0]);
	for (size_t k = 1; k < sizeof(busy_fields) / sizeof(busy_fields[0]); k++) {
		m = mem(RBX, busy_fields[k]);
		enc(j, 0, 0x0b, 1, RDX, 0, &m); /* or edx, [...] */
	}
	out[n++] = jmp_fwd(j, HCC_NE);
	m = mem(RBX, OFF(flags));
	enc(j, 0, 0xf7, 1, 0, 0, &m); /* test dword [flags], TF */
	b4(j, FL_TF);
	out[n++] = jmp_fwd(j, HCC_NE);
	m = mem(RBX, OFF(mode));
	enc(j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [mode], 2 */
	b1(j, 2);
	out[n++] = jmp_fwd(j, HCC_NE);
	/* the TLB entry of RIP's page (run_block()): rdx = the entry */
	mov_rr(j, 1, RDX, RAX);
	shift_ri(j, 1, 5, RDX, 12);
	alu_ri(j, 0, ALU_AND, RDX, TLB_SIZE - 1);
	enc(j, 0, 0x69, 1, RDX, RDX, NULL); /* imul edx, edx, sizeof entry */
	b4(j, (uint32_t)sizeof(struct emu_tlb_entry));
	m = (struct jm){ RBX, RDX, 0, OFF(tlb) };
	lea(j, 1, RDX, &m);
	mov_rr(j, 1, RSI, RAX);
	alu_ri(j, 1, ALU_AND, RSI, -4096);
	m = mem(RDX, (int32_t)offsetof(struct emu_tlb_entry, vpage));
	enc(j, 1, 0x3b, 1, RSI, 0, &m); /* cmp rsi, [e->vpage] */
	out[n++] = jmp_fwd(j, HCC_NE);
	mov_ri(j, RSI, TLB_X_USR);
	m = mem(RBX, OFF(cpl));
	enc(j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [cpl], 3 */
	b1(j, 3);
	sup = jmp_fwd(j, HCC_E);
	mov_ri(j, RSI, TLB_X_SUP);
	land(j, sup);
	m = mem(RDX, (int32_t)offsetof(struct emu_tlb_entry, perm));
	enc(j, 0, 0x85, 1, RSI, 0, &m); /* test [e->perm], esi */
	out[n++] = jmp_fwd(j, HCC_E);
	m = mem(RDX, (int32_t)offsetof(struct emu_tlb_entry, host));
	enc(j, 1, 0x83, 1, 7, 0, &m); /* cmp qword [e->host], 0: not RAM */
	b1(j, 0);
	out[n++] = jmp_fwd(j, HCC_E);
	/* rsi = the physical address, rdx = its slot of c->blocks (emu_block_slot()) */
	ld(j, 1, RSI, RDX, (int32_t)offsetof(struct emu_tlb_entry, ppage));
	mov_rr(j, 0, RDX, RAX);
	alu_ri(j, 0, ALU_AND, RDX, 0xfff);
	alu_rr(j, 1, ALU_OR, RSI, RDX);
	mov_rr(j, 1, RDX, RSI);
	shift_ri(j, 1, 5, RDX, BLOCK_CACHE_BITS);
	alu_rr(j, 1, ALU_XOR, RDX, RSI);
	alu_ri(j, 0, ALU_AND, RDX, BLOCK_CACHE - 1);
	_Static_assert(sizeof(struct emu_block) == 32, "tags are indexed by a shift of 5");
	shift_ri(j, 0, 4, RDX, 5); /* shl edx, 5 */
	m = mem(RBX, OFF(blocks));
	enc(j, 1, 0x03, 1, RDX, 0, &m); /* add rdx, [blocks] */
	/* decoded there for 64-bit mode, translated, and its page unchanged since */
	m = (struct jm){ -1, RSI, 2, 2 };
	lea(j, 1, RDI, &m); /* rdi = pa << 2 | 2 */
	m = mem(RDX, (int32_t)offsetof(struct emu_block, key));
	enc(j, 1, 0x3b, 1, RDI, 0, &m);
	out[n++] = jmp_fwd(j, HCC_NE);
	ld(j, 1, RDI, RDX, (int32_t)offsetof(struct emu_block, body));
	enc(j, 1, 0x85, 1, RDI, RDI, NULL); /* test rdi, rdi */
	out[n++] = jmp_fwd(j, HCC_E);
	shift_ri(j, 1, 5, RSI, 12);
	ld(j, 1, R8, RBX, OFF(vm));
	ld(j, 1, R8, R8, (int32_t)offsetof(struct emu_vm, page_gen));
	m = (struct jm){ R8, RSI, 2, 0 };
	enc(j, 0, 0x8b, 1, R8, 0, &m); /* mov r8d, [r8 + rsi * 4] */
	m = mem(RDX, (int32_t)offsetof(struct emu_block, gen));
	enc(j, 0, 0x3b, 1, R8, 0, &m);
	out[n++] = jmp_fwd(j, HCC_NE);
	/* budget for the block just run and all of the next */
	m = mem(RDX, (int32_t)offsetof(struct emu_block, n));
	enc(j, 0, 0x0fb6, 2, R8, 0, &m); /* movzx r8d, byte [n] */
	m = (struct jm){ R8, RCX, 0, 0 };
	lea(j, 1, R9, &m);
	m = mem(RBX, OFF(budget));
	enc(j, 1, 0x3b, 1, R9, 0, &m);
	out[n++] = jmp_fwd(j, HCC_A);
	/* the run loop's accounting of the block just run, and its set-up of the next */
	m = mem(RBX, OFF(icount));
	enc(j, 1, 0x01, 1, RCX, 0, &m);
	m = mem(RBX, OFF(budget));
	enc(j, 1, 0x29, 1, RCX, 0, &m);
	st(j, 1, RAX, RBX, OFF(blk_rip));
	ld(j, 1, RSI, RDX, (int32_t)offsetof(struct emu_block, insn));
	st(j, 1, RSI, RBX, OFF(blk_insn));
	st(j, 0, R8, RBX, OFF(blk_done));
	/* an exit that may be linked (exit_link()) and is not yet: link it */
	enc(j, 0, 0x85, 1, R10, R10, NULL); /* test r10d, r10d */
	ret = jmp_fwd(j, HCC_E);
	ld(j, 1, R9, RSP, 0);
	m = mem(R9, -9);
	enc(j, 0, 0x83, 1, 7, 0, &m); /* cmp dword [exit's jmp rel32], 0 */
	b1(j, 0);
	ret2 = jmp_fwd(j, HCC_NE);
	for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
		b1(j, 0x50u + (unsigned int)keep[k]); /* push */
	alu_ri(j, 1, ALU_SUB, RSP, 8); /* the exit's return address, two pushes: realign */
	mov_rr(j, 1, RDI, RBX);
	mov_rr(j, 1, RSI, R9);
	mov_rr(j, 1, RCX, RAX);
	mov_rr(j, 0, R8, R10);
	call(j, (const void *)emu_jit_link);
	alu_ri(j, 1, ALU_ADD, RSP, 8);
	for (int k = (int)(sizeof(keep) / sizeof(keep[0])) - 1; k >= 0; k--)
		b1(j, 0x58u + (unsigned int)keep[k]); /* pop */
	land(j, ret);
	land(j, ret2);
	b1(j, 0xc3); /* ret: the exit jumps to rdi */
	for (int k = 0; k < n; k++)
		land(j, out[k]);
	alu_ri(j, 1, ALU_ADD, RSP, 8); /* the exit's return address */
	epilogue(j);
}

static size_t cache_bytes(void)
{
	const char *e = getenv("CABIN_EMU_JIT_CACHE");
	char *end;
	unsigned long long v;

	if (!e || !*e)
		return JIT_CACHE_DEFAULT;
	v = strtoull(e, &end, 0);
	if (*end == 'k' || *end == 'K')
		v <<= 10;
	else if (*end == 'm' || *end == 'M')
		v <<= 20;
	if (v < JIT_CACHE_MIN)
		v = JIT_CACHE_MIN;
	if (v > ((size_t)1 << 30))
		v = (size_t)1 << 30;
	return ((size_t)v + 4095) & ~(size_t)4095;
}

struct emu_jit *emu_jit_new(struct emu_cpu *c)
{
	const char *e = getenv("CABIN_EMU_JIT");
	struct emu_jit *j;
	size_t size = cache_bytes();
	void *rw, *rx;
	int fd;

	if (e && (!strcmp(e, "off") || !strcmp(e, "0")))
		return NULL;
	fd = memfd_create("cabin-emu-jit", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, (off_t)size) < 0) {
		close(fd);
		return NULL;
	}
	/*
	 * Two views of the same pages: written through one, run through the other, so
	 * no page is writable and executable at once. The executable view is asked
	 * for near this code, where calls to the handlers fit a rel32.
	 */
	rx = mmap((void *)(((uintptr_t)&emu_jit_new - ((uintptr_t)1 << 30)) & ~(uintptr_t)0xfffff),
		  size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	if (rx == MAP_FAILED) {
		close(fd);
		return NULL;
	}
	rw = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (rw == MAP_FAILED) {
		munmap(rx, size);
		return NULL;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		munmap(rx, size);
		munmap(rw, size);
		return NULL;
	}
	j->rw = rw;
	j->rx = rx;
	j->size = size;
	e = getenv("CABIN_EMU_JIT_STATS");
	if (e && *e && strcmp(e, "0"))
		j->stats = calloc(STAT_KEYS, sizeof(*j->stats));
	{
		struct jb b = { .p = rw,
				.end = (uint8_t *)rw + JIT_BLOCK_BYTES,
				.rw = rw,
				.rx = (uintptr_t)rx };

		j->enter = rx_here(&b);
		emit_enter(&b);
		b.p = b.rw + (((size_t)(b.p - b.rw) + 15) & ~(size_t)15);
		emit_dispatch(&b, j);
		j->base = ((size_t)(b.p - b.rw) + 15) & ~(size_t)15;
		j->used = j->base;
	}
	c->jit_enter = (void (*)(struct emu_cpu *, const struct emu_insn *, void *))j->enter;
	return j;
}

/* the most frequent handler calls of translated code, to stderr */
static void stats_print(const struct emu_jit *j)
{
	uint64_t total = 0;

	for (unsigned int k = 0; k < STAT_KEYS; k++)
		total += j->stats[k];
	fprintf(stderr, "emu-jit: %llu handler calls from translated code\n",
		(unsigned long long)total);
	for (int n = 0; n < 60; n++) {
		unsigned int best = 0;

		for (unsigned int k = 1; k < STAT_KEYS; k++)
			if (j->stats[k] > j->stats[best])
				best = k;
		if (!j->stats[best])
			break;
		fprintf(stderr, "emu-jit: %10llu op %#05x pfx %u /%u %s%s\n",
			(unsigned long long)j->stats[best], best >> 7, (best >> 5) & 3,
			(best >> 2) & 7, (best & 2) ? "mem" : "reg", (best & 1) ? " slow" : "");
		j->stats[best] = 0;
	}
}

void emu_jit_free(struct emu_jit *j)
{
	if (!j)
		return;
	if (j->stats) {
		stats_print(j);
		free(j->stats);
	}
	munmap(j->rw, j->size);
	munmap(j->rx, j->size);
	free(j);
}

unsigned long emu_jit_flushes(const struct emu_jit *j)
{
	return j ? j->flushes : 0;
}

void emu_jit_flush(struct emu_cpu *c)
{
	struct emu_jit *j = c->jit;

	if (!j)
		return;
	for (unsigned int i = 0; i < BLOCK_CACHE; i++) {
		struct emu_block *b = &c->blocks[i];

		b->body = NULL;
		if (b->hot >= EMU_JIT_HOT)
			b->hot = (uint8_t)c->jit_hot0;
	}
	j->used = j->base;
	j->flushes++;
}

/* does the block have an instruction whose inline form touches guest memory? */
static int block_has_mem(const struct emu_cpu *c, const struct emu_block *blk, unsigned int *segs)
{
	int any = 0;

	*segs = 0;
	if (c->mode == 0)
		return 0;
	for (unsigned int i = 0; i < blk->n; i++) {
		const struct emu_insn *in = &blk->insn[i];

		if (in->mod != 3 && in->has_modrm && in->op != 0x8d) {
			any = 1;
			if (in->seg < 8)
				*segs |= 1u << in->seg;
		} else if ((in->op >= 0x50 && in->op <= 0x5f) || in->op == 0xc3 || in->op == 0xe8) {
			any = 1;
			*segs |= 1u << SEG_SS | SEGS_STACK32;
		}
	}
	if (c->mode == 2)
		*segs = 0; /* seg_lin() of 64-bit mode: no limits, FS/GS bases added */
	return any;
}

int emu_jit_block(struct emu_cpu *c, struct emu_block *blk, uint64_t pa)
{
	struct emu_jit *jit = c->jit;
	struct jctx x = {
		.c = c,
		.jit = jit,
		.blk = blk,
		.pa = pa,
		.pgoff = (unsigned int)(pa & 0xfff),
		.chain = 1,
		.lz_op = -1,
	};
	struct jb j;
	struct jm m;
	uintptr_t body;

	if (!jit || blk->n == 0)
		return 0;
	if (jit->size - jit->used < JIT_BLOCK_BYTES) {
		emu_jit_flush(c);
		blk->hot = EMU_JIT_HOT; /* translated now */
	}
	j.rw = j.p = jit->rw + jit->used;
	j.end = j.rw + JIT_BLOCK_BYTES;
	j.rx = (uintptr_t)jit->rx + jit->used;
	j.overflow = 0;

	body = rx_here(&j);
	body_start(&j);
	x.mem = block_has_mem(c, blk, &x.segs);
	if (x.mem) {
		load_need(&j, x.segs);
		ld(&j, 1, RBP, RBX, OFF(vm));
		ld(&j, 1, RBP, RBP, (int32_t)offsetof(struct emu_vm, code_page));
	}
	for (unsigned int i = 0; i < blk->n; i++)
		emit_insn(&j, &x, i);
	/* the end of the block (t_end): RIP follows its last instruction */
	m = mem(R12, blk->bytes);
	lea(&j, 1, RAX, &m);
	exit_chain(&j, &x, blk->bytes);
	if (j.overflow)
		return 0;
	blk->body = (void *)body;
	c->stat_jits++;
	jit->used += (size_t)(j.p - j.rw);
	jit->used = (jit->used + 15) & ~(size_t)15;
	return 1;
}

#endif
