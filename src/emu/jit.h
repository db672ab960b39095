/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_EMU_JIT_H
#define CABIN_EMU_JIT_H

/*
 * Host code for decoded blocks (jit-x86_64.c). A translated block does what the
 * threaded dispatch of exec.c does, instruction by instruction: the simple
 * register, memory and branch forms become inline host code, every other form a
 * direct call of its handler with the same RIP bookkeeping. The portable
 * threaded interpreter stays the fallback: on other hosts, with CABIN_EMU_JIT=off,
 * and for any block the translator declines.
 */
#include <stdint.h>

#include "emu/emu.h"
#include "emu/optab.h"

struct emu_jit;

/*
 * A block is translated once the run loop has started it this many times: most
 * blocks of a kernel boot run a few times before their page changes or their slot
 * is taken, and translating them all costs more than it saves.
 */
#define EMU_JIT_HOT 16

#if defined(__x86_64__)
/**
 * emu_jit_new() - a code cache for the virtual CPU @c (sets c->jit_enter).
 * Return: the cache, or NULL when CABIN_EMU_JIT is `off` (or `0`) or the host
 * refuses the executable mapping; the CPU then runs the interpreter only.
 */
struct emu_jit *emu_jit_new(struct emu_cpu *c);

/** emu_jit_free() - unmap a code cache (NULL is fine). */
void emu_jit_free(struct emu_jit *j);

/**
 * emu_jit_block() - translate the decoded block @blk of @c, which starts at
 * guest-physical @pa, into host code that replaces insn[0].run for the whole block:
 * blk->body is set (emu_jit_run() enters it). When the cache is full it is
 * flushed first (emu_jit_flush()).
 *
 * A translated block may go on into the block that runs next without returning
 * to the run loop, when that block is decoded, current and translated, and the
 * run loop would run it next anyway: no interrupt hint, kick, exit, stop,
 * interrupt shadow or single-step, and budget enough. In 64-bit mode every exit
 * (branches direct and indirect, the end of the block, a handler that branched)
 * looks the next block up as the run loop does (TLB, block cache, page
 * generation); in 32-bit mode only a direct branch or fall-through into a block
 * of the same page chains. The block then does the run loop's bookkeeping
 * (icount, budget, blk_rip, blk_insn, blk_done) itself, so the instruction count
 * stays per block.
 * Return: 1, or 0 when the block stays threaded (blk->body NULL).
 */
int emu_jit_block(struct emu_cpu *c, struct emu_block *blk, uint64_t pa);

/**
 * emu_jit_flush() - forget all host code of @c: every block's body is dropped and
 * it counts towards EMU_JIT_HOT again (its decoded instructions stay).
 */
void emu_jit_flush(struct emu_cpu *c);

/** emu_jit_flushes() - how many times the cache of @j was flushed (tests, statistics). */
unsigned long emu_jit_flushes(const struct emu_jit *j);

/** emu_jit_run() - run the translated block @blk (blk->body set) of @c. */
static inline void emu_jit_run(struct emu_cpu *c, const struct emu_block *blk)
{
	c->jit_enter(c, blk->insn, blk->body);
}
#else
static inline struct emu_jit *emu_jit_new(struct emu_cpu *c)
{
	return NULL;
}

static inline void emu_jit_free(struct emu_jit *j)
{
}

static inline int emu_jit_block(struct emu_cpu *c, struct emu_block *blk, uint64_t pa)
{
	return 0;
}

static inline void emu_jit_flush(struct emu_cpu *c)
{
}

static inline void emu_jit_run(struct emu_cpu *c, const struct emu_block *blk)
{
}

static inline unsigned long emu_jit_flushes(const struct emu_jit *j)
{
	return 0;
}
#endif

#endif
