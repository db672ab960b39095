#!/usr/bin/env python3
"""mkseeds-iommu.py - write the seed corpus of fuzz-iommu (tests/fuzz/corpus-iommu/).

Each seed is a well-formed session in the input format of fuzz-iommu.c (run_op()):
tables built in guest RAM, the VT-d unit programmed, then DMAs and interrupt requests,
so that the fuzzer starts from deep table walks rather than from not-present entries.
"""
import os
import struct
import sys

VTD = {"GCMD": 0x18, "RTADDR": 0x20, "IQT": 0x88, "IQA": 0x90, "IRTA": 0xb8,
       "FECTL": 0x38, "FSTS": 0x34}
TE, SRTP, QIE, IRE, SIRTP = 1 << 31, 1 << 30, 1 << 26, 1 << 25, 1 << 24


def raw(v):
    return bytes([1]) + struct.pack("<Q", v)


def vtd_write(reg, v, qword=True):
    return bytes([0]) + struct.pack("<H", VTD[reg]) + bytes([1 if qword else 0]) + raw(v)


def ram(addr, v):
    return bytes([2]) + struct.pack("<I", addr)[:3] + struct.pack("<Q", v)


def dma(sid, addr, length, write):
    return bytes([3]) + struct.pack("<H", sid) + raw(addr) + bytes([length, write])


def msi(sid, addr_low, data):
    return bytes([4]) + struct.pack("<H", sid) + struct.pack("<I", addr_low)[:3] + \
        bytes([0]) + struct.pack("<I", data)


def edu_dma(addr, dst, cnt, cmd):
    return bytes([7]) + raw(addr) + struct.pack("<HH", dst, cnt) + bytes([cmd])


def tables():
    s = ram(0x10000, 0x11000 | 1)                     # root entry, bus 0
    s += ram(0x11000 + 8 * 16, 0x12000 | 1)           # context 00:01.0
    s += ram(0x11000 + 8 * 16 + 8, 1 | 8 << 8)        # AW 39, domain 8
    s += ram(0x12000, 0x13000 | 3) + ram(0x13000, 0x14000 | 3)
    s += ram(0x14000 + 5 * 8, 0x20000 | 3)            # IOVA 0x5000 -> 0x20000
    s += ram(0x13000 + 8, 0x200000 | 0x83)            # IOVA 0x200000: a 2 MiB page
    s += vtd_write("RTADDR", 0x10000) + vtd_write("GCMD", SRTP, False)
    s += vtd_write("GCMD", SRTP | TE, False)
    return s


SEEDS = {
    "dma-remap": tables() + dma(8, 0x5000, 64, 0) + dma(8, 0x5ff0, 64, 1) +
    dma(8, 0x200100, 200, 1) + dma(8, 0x7000, 8, 0) + edu_dma(0x5000, 0, 16, 0),
    "dma-4level": ram(0x10000, 0x11000 | 1) + ram(0x11000 + 8 * 16, 0x12000 | 1) +
    ram(0x11000 + 8 * 16 + 8, 2) + ram(0x12000, 0x13000 | 3) + ram(0x13000, 0x14000 | 3) +
    ram(0x14000, 0x15000 | 3) + ram(0x15000 + 8, 0x30000 | 1) +
    vtd_write("RTADDR", 0x10000) + vtd_write("GCMD", SRTP | TE, False) +
    dma(8, 0x1000, 32, 0) + dma(8, 0x1000, 32, 1),
    "irq-remap": ram(0x30000 + 3 * 16, 1 | 0x66 << 16) + ram(0x30000 + 3 * 16 + 8, 8 | 1 << 18) +
    vtd_write("IRTA", 0x30000 | 7) + vtd_write("GCMD", SIRTP, False) +
    vtd_write("GCMD", SIRTP | IRE, False) + vtd_write("FECTL", 0, False) +
    msi(8, 3 << 5 | 1 << 4, 0) + msi(9, 3 << 5 | 1 << 4, 0) + msi(8, 1 << 5 | 1 << 4 | 1 << 3, 2) +
    msi(8, 0x1000, 0x30),
    "qi-wait": vtd_write("IQA", 0x40000) + vtd_write("GCMD", QIE, False) +
    ram(0x40000, 2 | 1 << 4) + ram(0x40010, 5 | 1 << 5 | 1 << 4 | 0xabcd << 32) +
    ram(0x40018, 0x41000) + vtd_write("IQT", 2 << 4) + ram(0x40020, 0xf) +
    vtd_write("IQT", 3 << 4) + vtd_write("FSTS", 0xffffffff, False),
}

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus-iommu")
os.makedirs(out, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
