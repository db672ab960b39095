#!/usr/bin/env python3
"""mkseeds.py - write the seed corpus of fuzz-virtio (tests/fuzz/corpus/).

Each seed is a well-formed driver session for one device, in the input format of
fuzz-virtio.c: device, features, queue size, then operations.
"""
import os
import struct
import sys

BLK, RNG, CONSOLE, NET, VSOCK = range(5)
F_INDIRECT, F_EVENT_IDX = 0x10, 0x20


def mem(off, data):
    return bytes([0x00]) + struct.pack(">HB", off, len(data)) + data


def desc(q, i, addr, length, flags, nxt):
    return bytes([0x01 | q << 4, i, 0]) + struct.pack(">QHBB", addr, length, flags, nxt)


def publish(q, head):
    return bytes([0x02 | q << 4, head])


def notify(q):
    return bytes([0x03 | q << 4])


def frame(data):
    return bytes([0x08, len(data)]) + data


def seed(dev, feat, numsel, ops):
    return bytes([dev, feat, numsel]) + b"".join(ops)


def host_accept_send(data, close=False):
    return bytes([0x8a if close else 0x0a, len(data)]) + data


def host_connect(portsel, data=b""):
    return bytes([0x09, portsel, len(data)]) + data


def vsock_hdr(op, src, dst, length=0, flags=0, buf_alloc=65536, fwd_cnt=0):
    return struct.pack("<QQIIIHHIII", 3, 2, src, dst, length, 1, op, flags, buf_alloc, fwd_cnt)


NEXT, WRITE, INDIRECT = 1, 2, 4
seeds = {
    "blk-read": seed(BLK, 0, 3, [
        mem(0xc000, struct.pack("<IIQ", 0, 0, 1)),
        desc(0, 0, 0xc000, 16, NEXT, 1), desc(0, 1, 0xd000, 512, NEXT | WRITE, 2),
        desc(0, 2, 0xe000, 1, WRITE, 0), publish(0, 0), notify(0)]),
    "blk-write-flush": seed(BLK, F_EVENT_IDX, 4, [
        mem(0xc000, struct.pack("<IIQ", 1, 0, 3)), mem(0xd000, b"\xab" * 64),
        desc(0, 0, 0xc000, 16, NEXT, 1), desc(0, 1, 0xd000, 512, NEXT, 2),
        desc(0, 2, 0xe000, 1, WRITE, 0), publish(0, 0), notify(0),
        mem(0xc010, struct.pack("<IIQ", 4, 0, 0)),
        desc(0, 3, 0xc010, 16, NEXT, 4), desc(0, 4, 0xe001, 1, WRITE, 0),
        publish(0, 3), notify(0)]),
    "blk-indirect-getid": seed(BLK, F_INDIRECT, 3, [
        mem(0xc000, struct.pack("<IIQ", 8, 0, 0)),
        mem(0xf000, struct.pack("<QIHH", 0xc000, 16, NEXT, 1)
            + struct.pack("<QIHH", 0xd000, 20, NEXT | WRITE, 2)
            + struct.pack("<QIHH", 0xe000, 1, WRITE, 0)),
        desc(0, 0, 0xf000, 48, INDIRECT, 0), publish(0, 0), notify(0)]),
    "rng": seed(RNG, 0, 2, [desc(0, 0, 0xc000, 64, WRITE, 0), publish(0, 0), notify(0),
                            desc(0, 1, 0xc100, 32, WRITE, 0), publish(0, 1), notify(0)]),
    "console-tx": seed(CONSOLE, 0, 3, [
        mem(0xc000, b"hello\n"), desc(1, 0, 0xc000, 6, 0, 0), publish(1, 0), notify(1),
        desc(0, 0, 0xd000, 64, WRITE, 0), publish(0, 0), notify(0)]),
    "net-tx-rx": seed(NET, 0, 3, [
        mem(0xc000, bytes(12) + b"\xff" * 6 + b"\x02" * 6 + b"\x08\x00" + b"x" * 46),
        desc(1, 0, 0xc000, 72, 0, 0), publish(1, 0), notify(1),
        desc(0, 0, 0xd000, 1526, WRITE, 0), publish(0, 0), notify(0),
        frame(bytes(12) + b"\x02" * 12 + b"\x08\x00" + b"y" * 46)]),
    "vsock-request": seed(VSOCK, 0, 3, [
        mem(0xc000, struct.pack("<QQIIIHHIII", 3, 2, 1024, 5000, 0, 1, 1, 0, 65536, 0)),
        desc(1, 0, 0xc000, 44, 0, 0), publish(1, 0), notify(1),
        desc(0, 0, 0xd000, 4096, WRITE, 0), publish(0, 0), notify(0)]),
    "vsock-established": seed(VSOCK, 0, 3, [
        desc(0, 0, 0xd000, 4096, WRITE, 0), publish(0, 0),
        desc(0, 1, 0xe000, 4096, WRITE, 0), publish(0, 1), notify(0),
        mem(0xc000, vsock_hdr(1, 1024, 5000)),
        desc(1, 0, 0xc000, 44, 0, 0), publish(1, 0), notify(1),
        host_accept_send(b"hello"), notify(0),
        mem(0xc100, vsock_hdr(5, 1024, 5000, 4) + b"ping"),
        desc(1, 1, 0xc100, 48, 0, 0), publish(1, 1), notify(1),
        mem(0xc200, vsock_hdr(4, 1024, 5000, flags=3)),
        desc(1, 2, 0xc200, 44, 0, 0), publish(1, 2), notify(1)]),
    "vsock-host-connect": seed(VSOCK, 0, 3, [
        host_connect(0x34, b"data"),
        desc(0, 0, 0xd000, 4096, WRITE, 0), publish(0, 0), notify(0),
        desc(0, 1, 0xe000, 4096, WRITE, 0), publish(0, 1), notify(0)]),
}

out = os.path.join(os.path.dirname(os.path.abspath(sys.argv[0])), "corpus")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
