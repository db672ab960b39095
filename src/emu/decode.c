/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * x86 instruction decoder: prefixes, REX, opcode maps 1-3, ModRM/SIB/
 * displacement (16-bit, 32-bit and RIP-relative forms) and immediates. The
 * result (struct emu_insn) holds no pointers, so it can be cached by the
 * guest-physical address of the instruction and reused until that page is
 * written.
 */
#include <errno.h>
#include <string.h>

#include "emu/emu.h"

#define M 0x01	 /* ModRM follows */
#define I8 0x02	 /* imm8 */
#define IZ 0x04	 /* imm16/imm32 by operand size (imm32 sign-extended for 64-bit) */
#define IW 0x08	 /* imm16 */
#define IV 0x10	 /* imm16/32/64 by operand size (MOV r, imm) */
#define MO 0x20	 /* moffs: address-size offset */
#define FP 0x40	 /* far pointer: offset by operand size, then selector */
#define X64 0x80 /* invalid in 64-bit mode */
#define G3 0x100 /* F6/F7: TEST forms take an immediate */
#define UD 0x200 /* undefined */

static const uint16_t map1[256] = {
	[0x00 ... 0x03] = M,
	[0x04] = I8,
	[0x05] = IZ,
	[0x06 ... 0x07] = X64,
	[0x08 ... 0x0b] = M,
	[0x0c] = I8,
	[0x0d] = IZ,
	[0x0e] = X64,
	[0x10 ... 0x13] = M,
	[0x14] = I8,
	[0x15] = IZ,
	[0x16 ... 0x17] = X64,
	[0x18 ... 0x1b] = M,
	[0x1c] = I8,
	[0x1d] = IZ,
	[0x1e ... 0x1f] = X64,
	[0x20 ... 0x23] = M,
	[0x24] = I8,
	[0x25] = IZ,
	[0x27] = X64,
	[0x28 ... 0x2b] = M,
	[0x2c] = I8,
	[0x2d] = IZ,
	[0x2f] = X64,
	[0x30 ... 0x33] = M,
	[0x34] = I8,
	[0x35] = IZ,
	[0x37] = X64,
	[0x38 ... 0x3b] = M,
	[0x3c] = I8,
	[0x3d] = IZ,
	[0x3f] = X64,
	[0x60 ... 0x61] = X64,
	[0x62] = M | X64,
	[0x63] = M,
	[0x68] = IZ,
	[0x69] = M | IZ,
	[0x6a] = I8,
	[0x6b] = M | I8,
	[0x70 ... 0x7f] = I8,
	[0x80] = M | I8,
	[0x81] = M | IZ,
	[0x82] = M | I8 | X64,
	[0x83] = M | I8,
	[0x84 ... 0x8f] = M,
	[0x9a] = FP | X64,
	[0xa0 ... 0xa3] = MO,
	[0xa8] = I8,
	[0xa9] = IZ,
	[0xb0 ... 0xb7] = I8,
	[0xb8 ... 0xbf] = IV,
	[0xc0 ... 0xc1] = M | I8,
	[0xc2] = IW,
	[0xc4 ... 0xc5] = M | X64,
	[0xc6] = M | I8,
	[0xc7] = M | IZ,
	[0xc8] = IW | I8,
	[0xca] = IW,
	[0xcd] = I8,
	[0xce] = X64,
	[0xd0 ... 0xd3] = M,
	[0xd4 ... 0xd5] = I8 | X64,
	[0xd6] = X64 | UD,
	[0xd8 ... 0xdf] = M,
	[0xe0 ... 0xe7] = I8,
	[0xe8 ... 0xe9] = IZ,
	[0xea] = FP | X64,
	[0xeb] = I8,
	[0xf6 ... 0xf7] = M | G3,
	[0xfe ... 0xff] = M,
};

static const uint16_t map2[256] = {
	[0x00 ... 0x03] = M,  [0x04] = UD,
	[0x0a] = UD,	      [0x0c] = UD,
	[0x0d] = M,	      [0x0e] = UD,
	[0x0f] = UD,	      [0x10 ... 0x1f] = M,
	[0x20 ... 0x23] = M,  [0x24 ... 0x27] = UD,
	[0x28 ... 0x2f] = M,  [0x36] = UD,
	[0x39 ... 0x3f] = UD, [0x40 ... 0x4f] = M,
	[0x50 ... 0x6f] = M,  [0x70 ... 0x73] = M | I8,
	[0x74 ... 0x7f] = M,  [0x80 ... 0x8f] = IZ,
	[0x90 ... 0x9f] = M,  [0xa3] = M,
	[0xa4] = M | I8,      [0xa5] = M,
	[0xa6 ... 0xa7] = UD, [0xab] = M,
	[0xac] = M | I8,      [0xad ... 0xaf] = M,
	[0xb0 ... 0xb7] = M,  [0xb8 ... 0xb9] = M,
	[0xba] = M | I8,      [0xbb ... 0xbf] = M,
	[0xc0 ... 0xc1] = M,  [0xc2] = M | I8,
	[0xc3] = M,	      [0xc4 ... 0xc6] = M | I8,
	[0xc7] = M,	      [0xd0 ... 0xff] = M,
};

int emu_decode(struct emu_insn *in, const uint8_t *buf, unsigned int avail, int mode)
{
	unsigned int p = 0, flags;
	uint8_t b, rex = 0;
	int osz16 = 0, asz16 = 0;
	unsigned int op;

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
	if (b == 0x0f) {
		NEED(1);
		b = buf[p++];
		if (b == 0x38 || b == 0x3a) {
			NEED(1);
			op = (b == 0x38 ? 0x200u : 0x300u) | buf[p++];
			flags = M | (b == 0x3a ? I8 : 0);
		} else {
			op = 0x100u | b;
			flags = map2[b];
		}
	} else {
		flags = map1[b];
	}
	in->op = (uint16_t)op;
	if (flags & UD)
		return -EXC_UD;
	if ((flags & X64) && mode == 2)
		return -EXC_UD;

	if (flags & M) {
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

	if (flags & G3) {
		if ((in->reg & 7) < 2)
			flags |= b == 0xf6 ? I8 : IZ;
	}
	if (flags & IW) {
		NEED(2);
		in->imm = (uint64_t)(buf[p] | buf[p + 1] << 8);
		p += 2;
		if (flags & I8) { /* ENTER */
			NEED(1);
			in->imm2 = buf[p++];
			flags &= ~(unsigned int)I8;
		}
	}
	if (flags & I8) {
		NEED(1);
		in->imm = (uint64_t)(int64_t)(int8_t)buf[p++];
	}
	if (flags & IZ) {
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
	if (flags & IV) {
		unsigned int n = in->osz;

		NEED(n);
		in->imm = 0;
		memcpy(&in->imm, buf + p, n);
		p += n;
	}
	if (flags & MO) {
		unsigned int n = in->asz;

		NEED(n);
		in->imm = 0;
		memcpy(&in->imm, buf + p, n);
		p += n;
	}
	if (flags & FP) {
		unsigned int n = in->osz;

		NEED(n + 2);
		in->imm = 0;
		memcpy(&in->imm, buf + p, n);
		p += n;
		in->imm2 = (uint64_t)(buf[p] | buf[p + 1] << 8);
		p += 2;
	}
#undef NEED
	in->len = (uint8_t)p;
	return (int)p;
}
