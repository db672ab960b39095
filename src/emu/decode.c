/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x86 instruction decoder: prefixes, REX, opcode maps 1-3, ModRM/SIB/
 * displacement (16-bit, 32-bit and RIP-relative forms) and immediates, as the
 * opcode table (optab.h) describes each form; it also picks the handler. The
 * result (struct emu_insn) holds no pointers, so it can be cached by the
 * guest-physical address of the instruction and reused until that page is
 * written.
 */
#include <errno.h>
#include <string.h>

#include "emu/emu.h"
#include "emu/optab.h"

int emu_decode(struct emu_insn *in, const uint8_t *buf, unsigned int avail, int mode)
{
	unsigned int p = 0, flags, pfx;
	uint8_t b, rex = 0;
	int osz16 = 0, asz16 = 0;
	unsigned int op;
	const struct emu_opdef *d;

	memset(in, 0, sizeof(*in));
	in->seg = SEG_DS;
	in->base = in->index = 0xff;
	in->mode = (uint8_t)mode;

#define NEED(n)                                                                                    \
	do {                                                                                       \
		if (p + (n) > 15)                                                                  \
			return -EXC_GP;                                                            \
		if (p + (n) > avail)                                                               \
			return DEC_NEED_MORE;                                                      \
	} while (0)

	for (;;) {
		NEED(1);
		b = buf[p];
		switch (b) {
		case 0xf0:
			in->lock = 1;
			break;
		case 0xf2:
		case 0xf3:
			in->rep = b;
			break;
		case 0x26:
			in->seg = SEG_ES;
			in->segovr = 1;
			break;
		case 0x2e:
			in->seg = SEG_CS;
			in->segovr = 1;
			break;
		case 0x36:
			in->seg = SEG_SS;
			in->segovr = 1;
			break;
		case 0x3e:
			in->seg = SEG_DS;
			in->segovr = 1;
			break;
		case 0x64:
			in->seg = SEG_FS;
			in->segovr = 1;
			break;
		case 0x65:
			in->seg = SEG_GS;
			in->segovr = 1;
			break;
		case 0x66:
			osz16 = 1;
			break;
		case 0x67:
			asz16 = 1;
			break;
		default:
			if (mode == 2 && (b & 0xf0) == 0x40) {
				/* REX counts only right before the opcode */
				rex = b;
				p++;
				continue;
			}
			goto prefixes_done;
		}
		rex = 0; /* a REX byte before another prefix is ignored */
		p++;
	}
prefixes_done:
	in->rex = rex;
	in->opsz_pfx = (uint8_t)osz16;
	if (mode == 2) {
		in->osz = (rex & 8) ? 8 : osz16 ? 2 : 4;
		in->asz = asz16 ? 4 : 8;
	} else if (mode == 1) {
		in->osz = osz16 ? 2 : 4;
		in->asz = asz16 ? 2 : 4;
	} else {
		in->osz = osz16 ? 4 : 2;
		in->asz = asz16 ? 4 : 2;
	}
	p++;
	op = b;
	flags = 0;
	if (b == 0x0f) {
		NEED(1);
		b = buf[p++];
		if (b == 0x38 || b == 0x3a) {
			NEED(1);
			op = (b == 0x38 ? MAP0F38 : MAP0F3A) | buf[p++];
			/* every legacy-encoded form of these maps has ModRM, 0F3A an imm8 */
			flags = D_M | (b == 0x3a ? D_I8 : 0);
		} else {
			op = MAP0F | b;
		}
	}
	pfx = in->rep == 0xf3 ? PFX_F3 : in->rep == 0xf2 ? PFX_F2 : osz16 ? PFX_66 : PFX_NONE;
	in->op = (uint16_t)op;
	in->pfx = pfx & 3;
	d = emu_optab_lookup(op, pfx);
	if (!d)
		return -EXC_UD;
	flags |= d->dflags;
	if ((flags & D_X64) && mode == 2)
		return -EXC_UD;

	if (flags & D_M) {
		uint8_t modrm, mod, rm;

		NEED(1);
		modrm = buf[p++];
		mod = modrm >> 6;
		rm = modrm & 7;
		in->has_modrm = 1;
		in->mod = mod;
		in->reg = (uint8_t)(((modrm >> 3) & 7) | ((rex & 4) << 1));
		in->rm = (uint8_t)(rm | ((rex & 1) << 3));
		if (mod != 3) {
			if (in->asz == 2) {
				static const uint8_t b16[8] = { 3, 3, 5, 5, 6, 7, 5, 3 };
				static const uint8_t i16[8] = {
					6, 7, 6, 7, 0xff, 0xff, 0xff, 0xff
				};

				in->base = b16[rm];
				in->index = i16[rm];
				if (rm == 4 || rm == 5)
					in->base = rm == 4 ? 6 : 7;
				if (!in->segovr && (rm == 2 || rm == 3 || (rm == 6 && mod != 0)))
					in->seg = SEG_SS;
				if (mod == 0 && rm == 6) {
					in->base = 0xff;
					NEED(2);
					in->disp = (int16_t)(buf[p] | buf[p + 1] << 8);
					p += 2;
				} else if (mod == 1) {
					NEED(1);
					in->disp = (int8_t)buf[p++];
				} else if (mod == 2) {
					NEED(2);
					in->disp = (int16_t)(buf[p] | buf[p + 1] << 8);
					p += 2;
				}
			} else {
				uint8_t base = rm;
				int nobase = 0;

				if (rm == 4) {
					uint8_t sib, idx;

					NEED(1);
					sib = buf[p++];
					in->scale = sib >> 6;
					idx = (uint8_t)(((sib >> 3) & 7) | ((rex & 2) << 2));
					if (idx != 4)
						in->index = idx;
					base = sib & 7;
					if (base == 5 && mod == 0)
						nobase = 1;
				} else if (rm == 5 && mod == 0) {
					nobase = 1;
					if (mode == 2)
						in->riprel = 1;
				}
				if (!nobase) {
					in->base = (uint8_t)(base | ((rex & 1) << 3));
					if (!in->segovr && !(rex & 1) && (base == 4 || base == 5))
						in->seg = SEG_SS;
				}
				if (mod == 1) {
					NEED(1);
					in->disp = (int8_t)buf[p++];
				} else if (mod == 2 || nobase) {
					NEED(4);
					memcpy(&in->disp, buf + p, 4);
					p += 4;
				}
			}
		}
	}

	if (flags & D_G3) {
		if ((in->reg & 7) < 2)
			flags |= b == 0xf6 ? D_I8 : D_IZ;
	}
	if (flags & D_IW) {
		NEED(2);
		in->imm = (uint64_t)(buf[p] | buf[p + 1] << 8);
		p += 2;
		if (flags & D_I8) { /* ENTER */
			NEED(1);
			in->imm2 = buf[p++];
			flags &= ~(unsigned int)D_I8;
		}
	}
	if (flags & D_I8) {
		NEED(1);
		in->imm = (uint64_t)(int64_t)(int8_t)buf[p++];
	}
	if (flags & D_IZ) {
		if (in->osz == 2 &&
		    !(mode == 2 && (op == 0xe8 || op == 0xe9 || (op >= 0x180 && op <= 0x18f)))) {
			NEED(2);
			in->imm = (uint64_t)(int64_t)(int16_t)(buf[p] | buf[p + 1] << 8);
			p += 2;
		} else {
			int32_t v;

			NEED(4);
			memcpy(&v, buf + p, 4);
			in->imm = (uint64_t)(int64_t)v;
			p += 4;
		}
	}
	if (flags & D_IV) {
		unsigned int n = in->osz;

		NEED(n);
		in->imm = 0;
		memcpy(&in->imm, buf + p, n);
		p += n;
	}
	if (flags & D_MO) {
		unsigned int n = in->asz;

		NEED(n);
		in->imm = 0;
		memcpy(&in->imm, buf + p, n);
		p += n;
	}
	if (flags & D_FP) {
		unsigned int n = in->osz;

		NEED(n + 2);
		in->imm = 0;
		memcpy(&in->imm, buf + p, n);
		p += n;
		in->imm2 = (uint64_t)(buf[p] | buf[p + 1] << 8);
		p += 2;
	}
#undef NEED
	/* LOCK is valid only on the read-modify-write forms with a memory destination */
	if (in->lock && (!in->has_modrm || in->mod == 3 || !((d->lock >> (in->reg & 7)) & 1)))
		return -EXC_UD;
	in->len = (uint8_t)p;
	in->end = (d->end >> (in->reg & 7)) & 1;
	in->fn = NULL;
	if (d->select && !in->lock)
		in->fn = d->select(in);
	if (!in->fn)
		in->fn = d->fn;
	in->fclass = EMU_FC_OTHER;
	in->run = NULL;
	if (d->flags && !in->lock)
		d->flags(in);
	/* locked read-modify-writes (XCHG with memory is one without the prefix) */
	if (in->lock || ((op == 0x86 || op == 0x87) && in->mod != 3)) {
		in->fn = emu_exec_locked;
		in->fclass = EMU_FC_OTHER;
		in->run = NULL;
	}
	return (int)p;
}
