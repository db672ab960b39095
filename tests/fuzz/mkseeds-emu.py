#!/usr/bin/env python3
"""mkseeds-emu.py - write the seed corpus of fuzz-emu (tests/fuzz/corpus-emu/).

Each seed is an input of tests/unit/emu-diff.h: mode, instruction limit, budget
chunk, code placement, flags, a 2-byte seed, 16 registers (4 bytes each: the top 3
bits a kind, see ediff_reg_value()), then guest code. The seeds give the fuzzer
one working program per mode (and CPL 3, SMAP) and the forms the JIT has inline
code for, a store into the running block and into the next one, and stores
across and into read-only or missing pages.
"""
import os
import struct
import sys

LONG, PROT32, PROT16, REAL = range(4)
DATA, CODE, SMALL, STACK, BIG, SHIFTED, ZERO, ONES = range(8)
NAMES = "rax rcx rdx rbx rsp rbp rsi rdi r8 r9 r10 r11 r12 r13 r14 r15".split()


def seed(mode, code, limit=64, chunk=0, place=0, flags=0, **regs):
    r = [ZERO << 29] * 16
    for name, (kind, x) in regs.items():
        r[NAMES.index(name)] = kind << 29 | x
    hdr = bytes([mode, limit, chunk, place, flags, 0x12, 0x34])
    return hdr + b"".join(struct.pack("<I", v) for v in r) + bytes.fromhex(code)


SSE_LOOP = ("660f6f03" "660ffec1" "660f3800c2" "660f70c81b" "660f72d107" "660fefc8"
            "660f7f4310" "f30f7f4b03" "660f6ed1" "660f74c1" "660fd7c0" "ffc9" "75cb" "f4")

SEEDS = {
    # add rax,rcx; mov [rbx+0x10],eax; dec ecx; jnz; hlt
    "long-loop": seed(LONG, "4801c8894310ffc975f6f4", rcx=(SMALL, 20), rbx=(DATA, 0x100)),
    # push/pop, call/ret, imul, shifts, movzx, lea, cmp r/m8
    "long-mix": seed(LONG, "5053e80500000059eb0990c34869c3070000004c8d0c4bc1e0030fb6c1"
                     "807b01fe5b58f4", rbx=(DATA, 0x40), rcx=(BIG, 0x1234567)),
    # a store into the running block: mov byte [rip+1], 0x90 rewrites what follows
    "long-smc-self": seed(LONG, "c6050100000090ccb90a000000ffc975fcf4"),
    # stores into the next block: the loop rewrites the ADD's immediate
    "long-smc-next": seed(LONG, "b9e803000031db89c883e0078905020000008 1c378563412ffc975ebf4"
                          .replace(" ", "")),
    # a 4-byte store from a writable page into the read-only one (faults halfway)
    "long-cross-ro": seed(LONG, "c70078563412f4", rax=(DATA, 0x3ffe)),
    # rep movsb across pages, then 8 bytes from a writable page into the missing one
    "long-cross-np": seed(LONG, "f3a448c70078563412f4", rax=(DATA, 0x1ffc),
                          rsi=(DATA, 0xff0), rdi=(DATA, 0xff8), rcx=(SMALL, 0x30)),
    # code that runs across the end of its page
    "long-page-end": seed(LONG, "31c0ffc0ffc0ffc0ffc0ffc0ffc0f4", place=0x80 | 6),
    # 32-bit paging: loop with memory operands and a fault at the end
    "prot32-loop": seed(PROT32, "0303894304ffc975f78b0af4", rbx=(DATA, 0x80), rcx=(SMALL, 9),
                        rdx=(DATA, 0x3000)),
    # 16-bit code in protected mode, 32-bit operand size through 66
    "prot16-loop": seed(PROT16, "6601c86689c34975f7f4", rcx=(SMALL, 7)),
    # real mode: stores through ES (data) and FS (code), a loop and an INT
    "real-loop": seed(REAL, "b90500268907648c1d4975f8cd05f4", rbx=(DATA, 0x20),
                      rdi=(CODE, 0x40), limit=64),
    # CPL 3: stores, a syscall-less INT 0x80 through a DPL 3 gate, then CLI (#GP)
    "long-user": seed(LONG | 8, "48890348ff4308cd80fa", rbx=(DATA, 0x200)),
    # CPL 0 with SMAP: STAC, a store to a user (data) page, CLAC, the same store (#PF)
    "prot32-smap": seed(PROT32 | 8, "0f01cb89030f01ca8903f4", rbx=(DATA, 0x300)),
    # single-step: TF set, each instruction traps to the #DB handler
    "long-tf": seed(LONG | 4, "4801c8f4"),
    # SSE loop: movdqa load, paddd, pshufb, pshufd, psrld, pxor, movdqa and movdqu
    # stores, movd, pcmpeqb, pmovmskb
    "long-sse": seed(LONG, SSE_LOOP, rbx=(DATA, 0x100), rcx=(SMALL, 20)),
    "prot32-sse": seed(PROT32, SSE_LOOP, rbx=(DATA, 0x100), rcx=(SMALL, 20)),
    # movss/movsd loads and stores, movhps, movlhps, unpcklps, pminud, pmulld, lddqu
    "long-sse-scalar": seed(LONG, "f30f104b04" "f20f115310" "0f165308" "0f16ca" "0f14c1"
                            "660f383bc2" "660f3840cb" "f20ff04b05" "ffc975d9" "f4",
                            rbx=(DATA, 0x100), rcx=(SMALL, 20)),
    # pextrw, pinsrd, pextrd to memory, pmovzxbw, movddup, pblendw, pinsrb from memory
    "long-sse-lanes": seed(LONG, "660fc5c103" "660f3a22cb02" "660f3a164b0401" "660f383053 08"
                           .replace(" ", "") + "f20f125b03" "660f3a0ecaa5" "660f3a20430507"
                           "ffc975d2" "f4", rbx=(DATA, 0x100), rcx=(SMALL, 20)),
    # movdqu across a page, then a misaligned movdqa store (#GP)
    "long-sse-cross": seed(LONG, "f30f6f00660f7f4001f4", rax=(DATA, 0xff8)),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus-emu")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
