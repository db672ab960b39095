/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_EMU_SSE_H
#define CABIN_EMU_SSE_H

/*
 * MMX, SSE to SSE4.2, POPCNT, CRC32 and MOVBE for the interpreter
 * (exec-sse.c). The lane arithmetic of the packed-integer instructions is
 * plain C; floating point goes through emu/ssefp.h.
 */
#include "emu/emu.h"

/**
 * emu_exec_sse() - execute @in if it is an MMX/SSE-family form (maps 0F, 0F38,
 * 0F3A, selected by opcode and mandatory prefix).
 * Return: 1 when executed (or an exception raised through c->jb), 0 when the
 * form is not one of these, so the caller goes on decoding it.
 */
int emu_exec_sse(struct emu_cpu *c, const struct emu_insn *in);

#endif
