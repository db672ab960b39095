/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_EMU_SSEFP_H
#define CABIN_EMU_SSEFP_H

/*
 * SSE floating point: the only place the emulator does IEEE arithmetic on
 * XMM data. Every function computes under the guest's MXCSR rounding
 * control, DAZ and FTZ with all exceptions treated as masked, and returns
 * the exception flags (MXCSR_IE..MXCSR_PE) the processor records under the
 * guest's masks (an unmasked underflow is reported for exact tiny results
 * too, and with an unmasked overflow or underflow, inexact means inexact
 * with an unbounded exponent); the caller decides from the masks whether
 * the result is committed or #XM is raised. On an x86-64 host (ssefp-x86.c)
 * the host instruction runs under that MXCSR, which is exact by
 * construction; another host provides the same functions in software.
 */
#include <stdint.h>

#include "emu/emu.h"

/*
 * Set in a returned flag word when the host took the guest's unmasked exception itself
 * (SSEFP_DP): the flags are exactly those the processor recorded at the #XM, the
 * destination is unchanged, and the caller raises the exception with just these.
 */
#define SSEFP_FAULT 0x80000000u

/* data formats: packed single/double, scalar single/double (upper lanes of *d kept) */
enum ssefp_fmt { SSEFP_PS, SSEFP_PD, SSEFP_SS, SSEFP_SD };

enum ssefp_op {
	SSEFP_ADD,
	SSEFP_SUB,
	SSEFP_MUL,
	SSEFP_DIV,
	SSEFP_MIN,
	SSEFP_MAX,
	SSEFP_SQRT,
	SSEFP_RCP,   /* PS/SS only: the host's approximation */
	SSEFP_RSQRT, /* PS/SS only */
	SSEFP_CMP,   /* predicate imm & 7 */
	SSEFP_HADD,  /* PS/PD */
	SSEFP_HSUB,
	SSEFP_ADDSUB,
	SSEFP_ROUND, /* imm & 15 */
	SSEFP_DP,    /* PS/PD: DPPS/DPPD with the mask byte imm */
	/* conversions; fmt is the source format */
	SSEFP_CVT_PS2PD,  /* fmt PS: low two singles -> two doubles */
	SSEFP_CVT_PD2PS,  /* fmt PD: two doubles -> low two singles, upper zero */
	SSEFP_CVT_SS2SD,  /* fmt SS */
	SSEFP_CVT_SD2SS,  /* fmt SD */
	SSEFP_CVT_DQ2PS,  /* fmt PS (int32 lanes) */
	SSEFP_CVT_PS2DQ,  /* fmt PS */
	SSEFP_CVTT_PS2DQ, /* fmt PS */
	SSEFP_CVT_DQ2PD,  /* fmt PD: low two int32 -> two doubles */
	SSEFP_CVT_PD2DQ,  /* fmt PD: -> low two int32, upper zero */
	SSEFP_CVTT_PD2DQ, /* fmt PD */
};

/**
 * emu_ssefp_arith() - *@d = @op(*@d, *@s) in @fmt.
 * @imm: the predicate of SSEFP_CMP, the rounding control of SSEFP_ROUND.
 * Return: the MXCSR exception flags raised.
 */
uint32_t emu_ssefp_arith(enum ssefp_op op, enum ssefp_fmt fmt, union emu_xmm *d,
			 const union emu_xmm *s, uint8_t imm, uint32_t mxcsr);

/**
 * emu_ssefp_from_int() - CVTSI2SS/CVTSI2SD: low lane of *@d = (float)(int32 or int64)@v.
 * Return: the MXCSR exception flags raised.
 */
uint32_t emu_ssefp_from_int(enum ssefp_fmt fmt, union emu_xmm *d, uint64_t v, int w64,
			    uint32_t mxcsr);

/**
 * emu_ssefp_to_int() - CVT(T)SS2SI/CVT(T)SD2SI of the low lane of *@s to a
 * 32-bit (@w64 0) or 64-bit integer in *@out (the integer indefinite value on
 * overflow or NaN). Return: the MXCSR exception flags raised.
 */
uint32_t emu_ssefp_to_int(enum ssefp_fmt fmt, int truncate, const union emu_xmm *s, int w64,
			  uint64_t *out, uint32_t mxcsr);

/**
 * emu_ssefp_comi() - (U)COMISS/(U)COMISD of the low lanes of *@a and *@b:
 * *@zpc gets the ZF, PF and CF bits of RFLAGS. @signaling: COMIS (any NaN is
 * invalid) rather than UCOMIS (only SNaN). Return: the MXCSR exception flags.
 */
uint32_t emu_ssefp_comi(enum ssefp_fmt fmt, int signaling, const union emu_xmm *a,
			const union emu_xmm *b, uint32_t mxcsr, uint32_t *zpc);

#endif
