/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The interpreter's run loop: fetches through the software TLB, looks the
 * instruction up in the decoded-block cache (keyed by guest-physical address
 * and mode, invalidated when its page is written), and runs the handlers the
 * decoder chose from the opcode table (optab.h; the handlers live in
 * exec-<topic>.c). Register and memory
 * effects of an instruction that faults are not committed: RIP advances only
 * at the end, and stack pointers change only after the stack write succeeded.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "emu/exec-inl.h"
#include "emu/jit.h"
#include "vm/machine.h"

/*
 * Flag liveness: walking the block backwards, an instruction whose flag results
 * are overwritten by a later one before anything can read them runs a variant that
 * skips the lazy-flag stores. At the block's end every flag is live, and so before
 * each instruction that may fault, stop the block or read flags (EMU_FC_OTHER): an
 * exception, an exit or an interrupt between blocks sees exact RFLAGS. A block cut
 * short (budget, single-step) runs the full handlers (insn->fn).
 */
static void flags_liveness(struct emu_block *blk)
{
	int live = 1;

	for (int i = (int)blk->n - 1; i >= 0; i--) {
		struct emu_insn *in = &blk->insn[i];
		int dead = !live && in->run;

		in->hfn = dead ? in->run : in->fn;
		in->fdead = !live;
		switch (in->fclass) {
		case EMU_FC_NONE:
			break;
		case EMU_FC_WRITE:
			live = 0;
			break;
		case EMU_FC_PARTIAL:
			live = !dead;
			break;
		default: /* EMU_FC_OTHER, EMU_FC_WRITE_MEM: a fault needs the flags before it */
			live = 1;
			break;
		}
	}
}

/*
 * The threaded twin of plain handler @fn (exec-inl.h), or NULL: an open-addressed
 * table of the handlers' tables, built once (blocks are decoded often enough in a
 * kernel boot that a linear search showed in profiles).
 */
#define THR_SLOTS 512
static struct emu_thr thr_hash[THR_SLOTS];
static pthread_once_t thr_once = PTHREAD_ONCE_INIT;

static unsigned int thr_slot(emu_insn_fn fn)
{
	uintptr_t v = (uintptr_t)fn;

	return (unsigned int)((v >> 4) ^ (v >> 13)) & (THR_SLOTS - 1);
}

static void thr_build(void)
{
	static const struct {
		const struct emu_thr *t;
		const unsigned int *n;
	} tabs[] = {
		{ emu_thr_alu, &emu_thr_alu_n },
		{ emu_thr_mov, &emu_thr_mov_n },
		{ emu_thr_control, &emu_thr_control_n },
	};

	for (size_t k = 0; k < sizeof(tabs) / sizeof(tabs[0]); k++)
		for (unsigned int i = 0; i < *tabs[k].n; i++) {
			unsigned int h = thr_slot(tabs[k].t[i].fn);

			while (thr_hash[h].fn && thr_hash[h].fn != tabs[k].t[i].fn)
				h = (h + 1) & (THR_SLOTS - 1);
			thr_hash[h] = tabs[k].t[i];
		}
}

static emu_insn_fn threaded(emu_insn_fn fn)
{
	unsigned int h = thr_slot(fn);

	pthread_once(&thr_once, thr_build);
	while (thr_hash[h].fn) {
		if (thr_hash[h].fn == fn)
			return thr_hash[h].t;
		h = (h + 1) & (THR_SLOTS - 1);
	}
	return NULL;
}

/*
 * Threaded dispatch of a block: each instruction's run either is the threaded twin
 * of a handler that cannot fault, branch or stop the block (it needs neither RIP
 * nor a check afterwards), or this wrapper, which gives the handler the RIP state
 * of the one-at-a-time loop and ends the block when it branched or asked to stop.
 * c->rip is the wrapped instruction's RIP while it runs, so an exception reports it.
 */
static void t_call(struct emu_cpu *c, const struct emu_insn *in)
{
	uint64_t rip = c->blk_rip + in->off, seq = rip + in->len;

	c->rip = rip;
	c->next_rip = seq;
	in->hfn(c, in);
	if (UNLIKELY((c->next_rip != seq) | c->stop_block)) {
		c->rip = c->next_rip;
		c->blk_done = (unsigned int)(in - c->blk_insn) + 1;
		return;
	}
	EMU_NEXT(c, in);
}

/* the end marker: RIP follows the block's last instruction */
static void t_end(struct emu_cpu *c, const struct emu_insn *in)
{
	c->rip = c->blk_rip + in->off;
}

static void thread_block(struct emu_block *blk)
{
	for (unsigned int i = 0; i < blk->n; i++) {
		struct emu_insn *in = &blk->insn[i];
		emu_insn_fn t = NULL;

		if (in->fclass == EMU_FC_NONE || in->fclass == EMU_FC_WRITE ||
		    in->fclass == EMU_FC_PARTIAL)
			t = threaded(in->hfn);
		in->run = t ? t : t_call;
	}
	memset(&blk->insn[blk->n], 0, sizeof(blk->insn[0]));
	blk->insn[blk->n].off = blk->bytes;
	blk->insn[blk->n].run = t_end;
}

/*
 * The instruction arena is full: drop every block and its host code, and fill the
 * arena from its start again.
 */
static void blocks_flush(struct emu_cpu *c)
{
	for (unsigned int i = 0; i < BLOCK_CACHE; i++) {
		c->blocks[i].key = ~0ULL;
		c->blocks[i].body = NULL;
	}
	emu_jit_flush(c);
	c->insns_used = 0;
	c->insn_flushes++;
}

/* decode a block starting at host @p (@avail bytes to the page end) into the arena */
static void build_block(struct emu_cpu *c, struct emu_block *blk, const uint8_t *p,
			unsigned int avail)
{
	unsigned int off = 0, n = 0;

	if (EMU_INSN_ARENA - c->insns_used < BLOCK_MAX + 1)
		blocks_flush(c);
	blk->insn = &c->insns[c->insns_used];
	c->stat_decodes++;
	while (n < BLOCK_MAX && off < avail) {
		struct emu_insn *in = &blk->insn[n];
		unsigned int left = avail - off;
		int r = emu_decode(in, p + off, left < 15 ? left : 15, c->mode);

		if (r < 0)
			break; /* raised when (if) execution gets there */
		in->off = (uint16_t)off;
		n++;
		off += (unsigned int)r;
		if (in->end)
			break;
	}
	blk->n = (uint8_t)n;
	blk->bytes = (uint16_t)off;
	flags_liveness(blk);
	thread_block(blk);
	c->insns_used += n + 1;
}

/* decode and execute one instruction without caching (page crossings, MMIO code, faults) */
static void step_slow(struct emu_cpu *c, uint64_t lin)
{
	struct emu_insn in;
	uint8_t buf[15];
	unsigned int off = (unsigned int)(lin & 0xfff), avail = 4096 - off;
	int n;

	memset(buf, 0, sizeof(buf));
	/* fetch byte-wise so only the pages the instruction really covers are touched */
	emu_lin_read(c, lin, buf, avail < 15 ? avail : 15, ACC_EXEC, is_user(c));
	n = emu_decode(&in, buf, avail < 15 ? avail : 15, c->mode);
	if (n == DEC_NEED_MORE) {
		emu_lin_read(c, lin + avail, buf + avail, 15 - avail, ACC_EXEC, is_user(c));
		n = emu_decode(&in, buf, 15, c->mode);
	}
	if (n < 0)
		emu_raise(c, n == -EXC_GP ? EXC_GP : EXC_UD, n == -EXC_GP, 0);
	if (c->mode != 2 && c->rip + in.len - 1 > c->seg[SEG_CS].limit)
		emu_raise(c, EXC_GP, 1, 0);
	c->next_rip = c->rip + in.len;
	c->cur = &in;
	in.fn(c, &in);
	c->stop_block = 1;
	c->cur = NULL;
	c->rip = c->next_rip;
	c->icount++;
	c->budget--;
}

/*
 * Find (or decode) the block at CS:RIP and run it until it ends, a branch is
 * taken, the budget runs out, or something needs the run loop's attention.
 */
static inline __attribute__((always_inline)) void run_block_inl(struct emu_cpu *c)
{
	uint64_t lin, pa;
	const struct emu_tlb_entry *e;
	struct emu_block *blk;
	struct emu_vm *vm = c->vm;
	unsigned int off;
	uint64_t pfn, key;
	uint32_t gen;

	c->insn_rip = c->rip;
	if (c->mode == 2) {
		lin = c->rip;
	} else {
		if (UNLIKELY(c->rip > c->seg[SEG_CS].limit))
			emu_raise(c, EXC_GP, 1, 0);
		lin = (c->seg[SEG_CS].base + c->rip) & 0xffffffffULL;
	}
	e = &c->tlb[(lin >> 12) & (TLB_SIZE - 1)];
	if (UNLIKELY(e->vpage != (lin & ~0xfffULL) ||
		     !(e->perm & (is_user(c) ? TLB_X_USR : TLB_X_SUP))))
		e = emu_tlb_fill(c, lin, ACC_EXEC, is_user(c));
	/*
	 * Cleared after the fetch's page walk: the accessed bits it sets ask to stop a
	 * running block (pte_set()), and this one is decoded afterwards against the page
	 * generation that write left. Set here, it ended the block after its first
	 * handler call in the interpreter but not in host code, whose inline forms do
	 * not look at it: the two counted the instructions before a fault differently.
	 */
	c->stop_block = 0;
	off = (unsigned int)(lin & 0xfff);
	if (UNLIKELY(!e->host)) {
		step_slow(c, lin);
		return;
	}
	pa = e->ppage | off;
	pfn = pa >> 12;
	key = pa << 2 | (uint64_t)c->mode;
	blk = &c->blocks[emu_block_slot(pa)];
	gen = __atomic_load_n(&vm->page_gen[pfn], __ATOMIC_ACQUIRE);
	if (UNLIKELY(blk->key != key || blk->gen != gen)) {
		if (!vm->code_page[pfn])
			__atomic_store_n(&vm->code_page[pfn], 1, __ATOMIC_RELAXED);
		blk->key = ~0ULL;
		build_block(c, blk, e->host + off, 4096 - off);
		if (blk->n == 0) {
			step_slow(c, lin); /* crosses the page, or raises #UD/#GP */
			return;
		}
		blk->body = NULL;
		blk->hot = c->jit ? (uint8_t)c->jit_hot0 : EMU_JIT_HOT;
		blk->key = key;
		blk->gen = gen;
	}

	if (UNLIKELY(c->mode != 2 && c->rip + blk->bytes - 1 > c->seg[SEG_CS].limit)) {
		step_slow(c, lin);
		return;
	}
	/*
	 * The instruction count advances per block (deterministically): handlers
	 * that read the clock see the count at the start of their block.
	 */
	c->stat_lookups++;
	if (LIKELY(blk->n <= c->budget)) {
		uint32_t epoch = c->tlb_epoch;
		int cpl = c->cpl;

		c->blk_rip = c->rip;
		c->blk_insn = blk->insn;
		for (;;) {
			/* hot enough to be translated (jit.h); a flush keeps this block */
			if (UNLIKELY(blk->hot < EMU_JIT_HOT) && ++blk->hot == EMU_JIT_HOT)
				emu_jit_block(c, blk, pa);
			c->blk_done = blk->n;
			if (blk->body)
				emu_jit_run(c, blk);
			else
				blk->insn[0].run(c, blk->insn);
			c->icount += c->blk_done;
			c->budget -= c->blk_done;
			/*
			 * A loop that is one block (it ends with a branch back to its start)
			 * runs again at once while nothing needs the run loop: no interrupt
			 * to poll, exit, stop or single-step, enough budget, and the same
			 * translation (no TLB flush, CPL, mode or CS change) and code (the
			 * page's generation). Otherwise the run loop looks it up anew. Host
			 * code may have chained into other blocks (jit.h): then c->blk_insn
			 * is not this block's.
			 */
			if (LIKELY(c->rip != c->blk_rip || c->blk_done != blk->n ||
				   c->blk_insn != blk->insn))
				return;
			if (c->stop_block | c->intr_hint | c->kick | c->exit_ready | c->irq_shadow)
				return;
			if (c->state != EMU_RUNNING || (c->flags & FL_TF) || blk->n > c->budget ||
			    c->tlb_epoch != epoch || c->cpl != cpl || c->mode != (int)(key & 3) ||
			    (c->mode != 2 && c->seg[SEG_CS].base + c->rip != lin))
				return;
			if (__atomic_load_n(&vm->page_gen[pfn], __ATOMIC_ACQUIRE) != blk->gen)
				return;
		}
	}
	{
		/*
		 * Cut short by the budget (single-step, interrupt shadow): one at a time,
		 * with the full handlers, so the last instruction's flags are exact.
		 */
		const struct emu_insn *in = blk->insn;
		const struct emu_insn *end = blk->insn + c->budget;
		uint64_t rip = c->rip, done;

		do {
			uint64_t seq = rip + in->len;

			c->next_rip = seq;
			in->fn(c, in);
			c->rip = rip = c->next_rip;
			/* stop_block: an exit, HLT, an interrupt shadow or a write to decoded code
			 */
			if (UNLIKELY((rip != seq) | c->stop_block)) {
				in++;
				break;
			}
		} while (++in < end);
		done = (uint64_t)(in - blk->insn);
		c->icount += done;
		c->budget -= done;
	}
}

/* the same, out of line for the single-step and interrupt-shadow paths */
static __attribute__((noinline)) void run_block(struct emu_cpu *c)
{
	run_block_inl(c);
}

/* called from the setjmp landing: deliver the pending exception */
static void handle_exception(struct emu_cpu *c);

static void mmio_unlock(struct emu_cpu *c)
{
	c->locked_insn = 0;
	if (c->mmio_wlocked) {
		c->mmio_wlocked = 0;
		pthread_rwlock_unlock(&c->m->mmio_lock);
	}
}

void emu_exec_locked(struct emu_cpu *c, const struct emu_insn *in)
{
	const struct emu_opdef *d = emu_optab_lookup(in->op, in->pfx);

	/*
	 * Plain RAM is updated with host atomics by the handler. Device memory is not
	 * RAM: emu_mmio() sees locked_insn, takes m->mmio_lock for writing at the first
	 * device access and performs the accesses itself rather than as exits; the lock
	 * is dropped here, or at the exception landing in emu_exec() when it faults.
	 */
	c->locked_insn = 1;
	d->fn(c, in);
	mmio_unlock(c);
}

/*
 * One instruction under single-step (EFLAGS.TF) or armed debug registers (debug.c):
 * an instruction breakpoint faults before it; after it, a #DB trap for single-step (BS,
 * unless the instruction delivered an event itself) and for the data breakpoints it
 * touched (B0-B3), held back past the next instruction by MOV SS / POP SS. A fault of
 * the instruction drops what was held back (handle_exception()); INT1's own #DB takes it.
 */
static void step_debug(struct emu_cpu *c)
{
	uint64_t save = c->budget, fl = c->flags;
	int shadow = c->irq_shadow, ss = c->ss_shadow;
	uint32_t bits;
	unsigned int d0;

	if (c->tf_trap_now) {
		c->tf_trap_now = 0;
		c->dr[6] |= 0x4000; /* BS */
		emu_deliver(c, EXC_DB, INT_EXC, 0, 0);
		return;
	}
	if (c->db_wake) { /* a HLT woke: its traps come before the interrupt that woke it */
		c->dr[6] = (c->dr[6] & ~0xfULL) | c->db_wake;
		c->db_wake = 0;
		emu_deliver(c, EXC_DB, INT_EXC, 0, 0);
		return;
	}
	c->irq_shadow = 0;
	c->ss_shadow = 0;
	if (!shadow && UNLIKELY(c->intr_hint) && ((c->flags & FL_IF) || c->nmi_pending)) {
		emu_intr_poll(c);
		fl = c->flags;
	}
	if (c->dbg_active && !(fl & FL_RF) && !ss) {
		uint64_t lin =
			c->mode == 2 ? c->rip : (c->seg[SEG_CS].base + c->rip) & 0xffffffffULL;

		bits = emu_dbg_exec_match(c, lin);
		if (bits) { /* a fault: the instruction has not run */
			c->dr[6] = (c->dr[6] & ~0xfULL) | bits;
			c->db_pending = 0;
			emu_deliver(c, EXC_DB, INT_EXC, 0, 0);
			return;
		}
	}
	/* RF gets past one instruction breakpoint: cleared once that instruction runs */
	if (fl & FL_RF)
		emu_flags_set(c, emu_flags_get(c) & ~(uint64_t)FL_RF);
	d0 = c->deliveries;
	c->budget = 1;
	c->tf_no_trap = 0;
	c->db_hit = 0;
	c->icebp = 0;
	run_block(c);
	c->budget = save - 1;
	if (c->exit_ready && c->io.pending)
		return; /* an exit: the instruction replays */
	bits = c->db_hit | c->db_pending;
	if ((fl & FL_TF) && c->deliveries == d0 && !c->tf_no_trap)
		bits |= 0x4000; /* BS */
	c->db_pending = 0;
	if (c->state == EMU_HALTED) {
		c->db_wake = bits;
		return;
	}
	if (c->state != EMU_RUNNING)
		return;
	if (c->icebp)
		return; /* INT1 delivered a #DB: the held-back traps went with it */
	if (c->ss_shadow) {
		c->db_pending = bits; /* MOV SS / POP SS: after the next instruction */
		return;
	}
	if (bits) {
		c->dr[6] = (c->dr[6] & ~0xfULL) | bits;
		emu_deliver(c, EXC_DB, INT_EXC, 0, 0);
	}
}

void emu_exec(struct emu_cpu *c)
{
	c->budget_spent = 0;
	if (setjmp(c->jb)) {
		c->cur = NULL;
		if (UNLIKELY(c->locked_insn))
			mmio_unlock(c);
		if (c->exc_vector == -2)
			return; /* an exit abandoned the instruction; it replays */
		handle_exception(c);
		if (c->exc_vector == -3)
			return; /* triple fault: exit filled */
		if (c->budget)
			c->budget--;
	}
	while (c->budget > 0) {
		if (UNLIKELY((c->flags & FL_TF) | c->dbg_active | c->db_pending | c->db_wake)) {
			step_debug(c);
		} else if (UNLIKELY(c->irq_shadow)) {
			/* no interrupt right after STI / MOV SS: run exactly one instruction */
			uint64_t save = c->budget;

			c->irq_shadow = 0;
			c->ss_shadow = 0;
			c->budget = 1;
			run_block(c);
			c->budget = save - 1;
		} else {
			if (UNLIKELY(c->intr_hint) && ((c->flags & FL_IF) || c->nmi_pending))
				emu_intr_poll(c);
			run_block_inl(c);
		}
		if (UNLIKELY(c->exit_ready || c->state != EMU_RUNNING || c->kick ||
			     c->budget_spent))
			return;
	}
}

int emu_step(struct emu_cpu *c)
{
	uint64_t save = c->budget;

	c->budget = 1;
	emu_exec(c);
	c->budget = save;
	return c->exit_ready;
}

static int contributory(int v)
{
	return v == EXC_DE || (v >= EXC_TS && v <= EXC_GP);
}

static void handle_exception(struct emu_cpu *c)
{
	int vec = c->exc_vector, has_err = c->exc_has_err;
	uint32_t err = c->exc_err;

	c->deliver_ext = 0; /* a fault while delivering an event: its EXT bit is in @err */
	c->db_pending = 0;  /* the #DB traps a MOV SS held back are lost to a fault */
	/* faults report the instruction's RIP: c->rip moves only when it completes */
	if (c->soft_int) {
		c->rip = c->soft_int_rip;
		c->soft_int = 0;
	}
	if (c->exc_nesting >= 0) {
		int prev = c->exc_nesting;

		if (prev == EXC_DF) {
			/* a fault while delivering #DF: triple fault */
			c->exc_nesting = -1;
			c->exit->reason = ACCEL_EXIT_SHUTDOWN;
			c->exit_ready = 1;
			c->exc_vector = -3;
			return;
		}
		if ((contributory(prev) && contributory(vec)) ||
		    (prev == EXC_PF && (vec == EXC_PF || contributory(vec)))) {
			vec = EXC_DF;
			has_err = 1;
			err = 0;
		}
	}
	if (UNLIKELY(c->vm->trace_exc > 0)) {
		c->vm->trace_exc--;
		uint64_t pa = 0, lin = c->mode == 2 ? c->rip : c->seg[SEG_CS].base + c->rip;
		const uint8_t *b = NULL;

		if (emu_mmu_translate(c, lin, ACC_READ, 0, &pa, 0) == 0)
			b = vm_mem_ptr(&c->m->mem, pa, 8);
		fprintf(stderr,
			"emu: cpu %u: exception %d error %#x at %04x:%#llx cr2 %#llx (%llu insns)"
			" bytes %02x %02x %02x %02x %02x %02x\n",
			c->index, vec, has_err ? err : 0, c->seg[SEG_CS].selector,
			(unsigned long long)c->rip, (unsigned long long)c->cr2,
			(unsigned long long)c->icount, b ? b[0] : 0, b ? b[1] : 0, b ? b[2] : 0,
			b ? b[3] : 0, b ? b[4] : 0, b ? b[5] : 0);
	}
	c->exc_nesting = vec;
	emu_deliver(c, vec, INT_EXC, has_err, err);
	c->exc_nesting = -1;
	c->exc_vector = 0;
}
