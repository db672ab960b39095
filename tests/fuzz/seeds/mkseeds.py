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


def spec():
    import copy
    import json
    caps = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    proc = {"terminal": False, "user": {"uid": 0, "gid": 0, "additionalGids": [5, 10],
                                        "umask": 18},
            "args": ["sh", "-c", "true"], "env": ["PATH=/bin", "TERM=xterm"], "cwd": "/",
            "capabilities": {k: caps for k in ("bounding", "effective", "permitted",
                                               "inheritable", "ambient")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True, "oomScoreAdj": 100, "apparmorProfile": "",
            "consoleSize": {"height": 25, "width": 80}}
    cfg = {"ociVersion": "1.0.2", "root": {"path": "rootfs", "readonly": True},
           "process": proc, "hostname": "c1", "domainname": "example",
           "mounts": [
               {"destination": "/proc", "type": "proc", "source": "proc"},
               {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
               {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "gid=5"]},
               {"destination": "/data", "type": "bind", "source": "/tmp",
                "options": ["rbind", "rro", "nosuid", "rprivate"]},
               {"destination": "/idm", "type": "bind", "source": "/tmp",
                "options": ["bind", "idmap"],
                "uidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}],
                "gidMappings": [{"containerID": 0, "hostID": 1000, "size": 1}]}],
           "hooks": {"prestart": [{"path": "/bin/true", "args": ["true"], "timeout": 5}],
                     "poststop": [{"path": "/bin/true", "env": ["A=1"]}]},
           "annotations": {"org.example": "x"},
           "linux": {
               "namespaces": [{"type": t} for t in
                              ("pid", "network", "ipc", "uts", "mount", "cgroup", "user", "time")],
               "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
               "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
               "maskedPaths": ["/proc/kcore", "/sys/firmware"],
               "readonlyPaths": ["/proc/sys", "/proc/bus"],
               "sysctl": {"net.ipv4.ip_forward": "1", "kernel.shmmax": "65536"},
               "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229,
                            "fileMode": 438, "uid": 0, "gid": 0}],
               "cgroupsPath": "/cabin/c1", "rootfsPropagation": "rslave",
               "timeOffsets": {"monotonic": {"secs": 10, "nanosecs": 0}},
               "personality": {"domain": "LINUX"},
               "resources": {
                   "devices": [{"allow": False, "access": "rwm"},
                               {"allow": True, "type": "c", "major": 1, "minor": 3,
                                "access": "rw"}],
                   "memory": {"limit": 67108864, "reservation": 33554432,
                              "swap": 134217728, "swappiness": 10,
                              "disableOOMKiller": False},
                   "cpu": {"shares": 512, "quota": 50000, "period": 100000,
                           "cpus": "0-1", "mems": "0", "idle": 0},
                   "pids": {"limit": 64},
                   "blockIO": {"weight": 500, "weightDevice": [
                       {"major": 8, "minor": 0, "weight": 300}],
                       "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}]},
                   "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
                   "network": {"classID": 1048577,
                               "priorities": [{"name": "eth0", "priority": 5}]},
                   "rdma": {"mlx5_0": {"hcaHandles": 3}},
                   "unified": {"memory.high": "50000000"}},
               "seccomp": {
                   "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
                   "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                   "flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
                   "syscalls": [
                       {"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
                       {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                        "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                       {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                        "args": [{"index": 0, "value": 2114060288, "valueTwo": 0,
                                  "op": "SCMP_CMP_MASKED_EQ"}]},
                       {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
                       {"names": ["getpid"], "action": "SCMP_ACT_TRACE"},
                       {"names": ["kill"], "action": "SCMP_ACT_KILL_PROCESS"}]}}}
    write("spec", "config-full", json.dumps(cfg, indent=1).encode())
    small = {"ociVersion": "1.0.0", "root": {"path": "/rootfs"},
             "process": {"args": ["/bin/sh"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
             "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]}}
    write("spec", "config-small", json.dumps(small).encode())
    notify = copy.deepcopy(small)
    notify["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/run/seccomp.sock",
        "listenerMetadata": "m", "syscalls": [
            {"names": ["mount", "umount2"], "action": "SCMP_ACT_NOTIFY"},
            {"names": ["ptrace"], "action": "SCMP_ACT_LOG"},
            {"names": ["socket"], "action": "SCMP_ACT_ERRNO",
             "args": [{"index": 0, "value": 40, "op": "SCMP_CMP_GE"},
                      {"index": 1, "value": 3, "op": "SCMP_CMP_NE"}]}]}
    write("spec", "config-notify", json.dumps(notify).encode())
    joined = copy.deepcopy(small)
    joined["linux"]["namespaces"] = [{"type": "network", "path": "/proc/1/ns/net"},
                                     {"type": "mount"}]
    write("spec", "config-joined-ns", json.dumps(joined).encode())
    write("spec", "exec-process", json.dumps(proc).encode())
    # libFuzzer dictionary: every field and value name the readers look for, quoted as
    # JSON strings (tests/fuzz/seeds/spec.dict, passed with -dict=)
    import re
    src = os.path.join(HERE, "..", "..", "..", "src", "ctr")
    words = set()
    for f in ("spec.c", "seccomp.c", "cgroup-validate.c", "caps.c"):
        with open(os.path.join(src, f)) as fh:
            words |= set(re.findall(r'"([A-Za-z_][A-Za-z0-9_.]{1,40})"', fh.read()))
    with open(os.path.join(HERE, "spec.dict"), "w") as f:
        f.write("# written by mkseeds.py from src/ctr/{spec,seccomp,cgroup-validate,caps}.c\n")
        for i, w in enumerate(sorted(words)):
            f.write('k%d="\\"%s\\""\n' % (i, w))
    write("spec", "update-resources", json.dumps(cfg["linux"]["resources"]).encode())


if __name__ == "__main__":
    spec()
    boot()
    user()
    layer()
    registry()
