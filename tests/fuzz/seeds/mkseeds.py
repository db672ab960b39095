#!/usr/bin/env python3
"""mkseeds.py - write the seed corpora of the parser fuzz targets (tests/fuzz/seeds/NAME/).

Each seed is one well-formed input in the format its target's comment describes, so
that fuzzing starts from the shapes that matter (whiteouts, links, long names...).
Run from anywhere: python3 tests/fuzz/seeds/mkseeds.py
"""
import gzip
import io
import os
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
REG, DIR, SYM, HARD, CHR, BLK, FIFO = range(7)
TOK = {"..": 0xF0, "/": 0xF1, ".wh.": 0xF2, ".wh..wh..opq": 0xF3}


def write(target, name, data):
    d = os.path.join(HERE, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def lstr(s):
    b = s if isinstance(s, bytes) else s.encode()
    return bytes([len(b)]) + b


def entry(ty, name, link="", data=b"", mode=0o644, uid=0, gid=0, dev=(0, 0), pax=False,
          xattr=None):
    fl = (1 if pax else 0) | (2 if xattr else 0)
    out = bytes([ty, mode >> 8, mode & 0xFF, uid, gid, dev[0], dev[1], fl])
    out += lstr(name) + lstr(link) + lstr(data)
    if xattr:
        out += lstr(xattr[0]) + lstr(xattr[1])
    return out


def layer():
    LAYER, NOCHOWN, DIFF = 2, 4, 8
    write("layer", "files", bytes([DIFF]) + entry(DIR, "etc", mode=0o755)
          + entry(REG, "etc/passwd", data=b"root:x:0:0::/root:/bin/sh\n")
          + entry(SYM, "etc/link", "passwd") + entry(HARD, "etc/hard", "etc/passwd"))
    write("layer", "whiteouts", bytes([LAYER]) + entry(DIR, "d", mode=0o755)
          + entry(REG, "d/.wh.gone") + entry(REG, "d/.wh..wh..opq")
          + entry(REG, ".wh..wh.plnk"))
    write("layer", "devices", bytes([LAYER | NOCHOWN]) + entry(CHR, "null", dev=(1, 3))
          + entry(BLK, "blk", dev=(7, 0)) + entry(FIFO, "fifo"))
    write("layer", "pax-xattr", bytes([0]) + entry(REG, "x" * 150, data=b"long", pax=True)
          + entry(REG, "cap", data=b"c", xattr=(b"security.capability", b"\x01" * 20))
          + entry(DIR, "o", xattr=(b"trusted.overlay.opaque", b"y")))
    write("layer", "symlink-escape", bytes([0]) + entry(SYM, "up", "..")
          + entry(REG, "up/x") + entry(SYM, "abs", "/") + entry(REG, "abs/x")
          + entry(HARD, "h", "../canary") + entry(REG, "../x") + entry(REG, "/x"))
    # raw: a gzip tar as libarchive reads it from a registry
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        ti = tarfile.TarInfo("bin/sh")
        ti.size = 2
        t.addfile(ti, io.BytesIO(b"#!"))
        ti = tarfile.TarInfo("bin/.wh.ls")
        t.addfile(ti, io.BytesIO(b""))
    write("layer", "raw-gzip", bytes([1 | LAYER]) + gzip.compress(buf.getvalue(), mtime=0))


def registry():
    import json
    dg = "sha256:" + "ab" * 32
    for i, ref in enumerate(["busybox", "localhost:5000/app:v1", "docker.io/library/x@" + dg,
                             "[::1]:5000/a/b_c/d-e:1.0@" + dg, "quay.io/org/repo.name:t"]):
        write("registry", "ref%d" % i, b"\x00" + ref.encode())
    write("registry", "challenge0", b"\x01" + b'Bearer realm="https://auth.example/token",'
          b'service="registry.example",scope="repository:library/busybox:pull"')
    write("registry", "challenge1", b"\x01Basic realm=registry, error=x")
    write("registry", "token0", b"\x02" + json.dumps({"token": "abc", "expires_in": 300}).encode())
    write("registry", "token1", b"\x02" + json.dumps({"access_token": "x.y.z"}).encode())
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": dg, "size": 1}
    man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": dg,
                      "size": 7}, "layers": [layer, dict(layer, mediaType=None)]}
    write("registry", "manifest", b"\x03" + json.dumps(man).encode())
    idx = {"schemaVersion": 2, "manifests": [
        {"digest": dg, "size": 5, "platform": {"os": "linux", "architecture": "arm64",
                                                 "variant": "v8"}},
        {"digest": dg, "size": 5, "platform": {"os": "unknown", "architecture": "unknown"}},
        {"digest": dg, "size": 5, "platform": {"os": "linux", "architecture": "amd64"}}]}
    write("registry", "index", b"\x03" + json.dumps(idx).encode())
    cfg = {"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers",
                                                               "diff_ids": [dg]}}
    write("registry", "config", b"\x03" + json.dumps(cfg).encode())


def boot():
    import struct
    # bzImage: one setup sector, boot protocol 2.15, 64-bit entry, 4 KiB of kernel
    bz = bytearray(512 * 2 + 0x1000)
    bz[0x1F1] = 1
    struct.pack_into("<I", bz, 0x1F4, 0x1000 // 16)
    struct.pack_into("<H", bz, 0x1FE, 0xAA55)
    bz[0x200:0x202] = b"\xeb\x66"
    bz[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", bz, 0x206, 0x020F)
    bz[0x211] = 0x81
    struct.pack_into("<I", bz, 0x22C, 0x7FFFFFFF)
    struct.pack_into("<H", bz, 0x236, 0x3)
    struct.pack_into("<I", bz, 0x238, 2047)
    struct.pack_into("<Q", bz, 0x258, 0x1000000)
    struct.pack_into("<I", bz, 0x260, 0x20000)
    write("boot", "bzimage", bytes([1]) + bytes(bz))
    write("boot", "bzimage-longcmd", bytes([2 | 4 << 2]) + bytes(bz))

    def elf64(phdrs, entry, payload):
        hdr = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
        hdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, 64, 0, 0, 64, 56, len(phdrs),
                           64, 0, 0)
        ph = b"".join(struct.pack("<IIQQQQQQ", *p) for p in phdrs)
        return hdr + ph + payload
    off = 64 + 56 * 2
    note = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", 0x100000)
    write("boot", "elf-pvh", bytes([1]) + elf64(
        [(1, 7, off, 0xFFFFFFFF81000000, 0x100000, 16, 0x2000, 0x1000),
         (4, 4, off + 16, 0, 0, len(note), len(note), 4)],
        0x100000, b"\xf4" * 16 + note))
    # Multiboot v1 with the a.out kludge (flag 16): loaded at 1 MiB
    mb = bytearray(0x400)
    flags = 0x10003
    struct.pack_into("<IIIIIIII", mb, 0x40, 0x1BADB002, flags, (-(0x1BADB002 + flags)) & 0xFFFFFFFF,
                     0x100040, 0x100000, 0, 0x102000, 0x100100)
    write("boot", "multiboot-aout", bytes([1]) + bytes(mb))
    # Multiboot v1 ELF32 (no flag 16): the ELF's own PT_LOAD
    flags = 0x3
    e = bytearray(0x200)
    e[0:16] = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    struct.pack_into("<HHIIIIIHHHHHH", e, 16, 2, 3, 1, 0x100080, 52, 0, 0, 52, 32, 1, 40, 0, 0)
    struct.pack_into("<IIIIIIII", e, 52, 1, 0x80, 0x100080, 0x100080, 0x100, 0x1000, 7, 4)
    struct.pack_into("<III", e, 0x90, 0x1BADB002, flags, (-(0x1BADB002 + flags)) & 0xFFFFFFFF)
    write("boot", "multiboot-elf32", bytes([0]) + bytes(e))


def user():
    pw = b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/nonexistent:/bin/false\n"
    gr = b"root:x:0:\nwheel:x:10:nobody,root\nnogroup:x:65534:\n"
    for i, u in enumerate([b"nobody", b"nobody:wheel", b"0:10", b"65534", b"root:nogroup"]):
        write("user", "user%d" % i, u + b"\0" + pw + b"\0" + gr)
    write("user", "no-group-file", b"nobody\0" + pw + b"\0\x01")


if __name__ == "__main__":
    boot()
    user()
    layer()
    registry()
