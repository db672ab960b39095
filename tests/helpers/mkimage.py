#!/usr/bin/env python3
"""mkimage.py - build a small multi-layer OCI image layout for the image tests.

    mkimage.py OUT [--busybox PATH] [--tag TAG] [--arch ARCH] [--evil KIND] [--big MB]
               [--plain] [--stop-signal SIG]

Layers (gzip, gzip, zstd, plus a bulk layer with --big):
  1. a busybox root filesystem, /etc/passwd and /etc/group (root, app 1000, group
     staff 50 with app in it), /data/{a,b,keep/x}, /opq/{old1,old2}, /home/app
  2. a whiteout (.wh.a removes /data/a), an opaque /opq (.wh..wh..opq) holding only
     /opq/new, a hard link /data/h2 -> /data/h1, a symlink /data/link -> h1, a
     set-uid file, a file with a capability xattr, a device node /data/null (1,3)
  3. zstd: /data/c and a newer /data/b
  4. with --big MB: /bulk/fNNN, MB files of 1 MiB (gzip; with --plain an uncompressed
     layer, application/vnd.oci.image.layer.v1.tar)
--evil KIND adds a hostile layer: dotdot (../escape), abs (/escape), symlink (a symlink to
/ and a file written through it), hardlink (a hard link to /etc/hostname).
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile
import time

MTIME = 1700000000


def ti(name, typ=tarfile.REGTYPE, mode=0o644, data=b"", uid=0, gid=0, **kw):
    t = tarfile.TarInfo(name)
    t.type = typ
    t.mode = mode
    t.uid, t.gid = uid, gid
    t.mtime = MTIME
    if typ == tarfile.REGTYPE:
        t.size = len(data)
    for k, v in kw.items():
        setattr(t, k, v)
    return t, (io.BytesIO(data) if typ == tarfile.REGTYPE else None)


def make_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for t, f in entries:
            tf.addfile(t, f)
    return buf.getvalue()


def dirs(*names, mode=0o755):
    return [ti(n, tarfile.DIRTYPE, mode) for n in names]


def layer1(busybox):
    e = dirs("bin", "etc", "data", "data/keep", "opq", "home", "tmp", "root", "proc", "sys",
             "dev")
    e[e.index(next(x for x in e if x[0].name == "tmp"))] = ti("tmp", tarfile.DIRTYPE, 0o1777)
    e += [ti("home/app", tarfile.DIRTYPE, 0o755, uid=1000, gid=1000)]
    with open(busybox, "rb") as f:
        e.append(ti("bin/busybox", data=f.read(), mode=0o755))
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True).stdout.split()
    for a in applets:
        if a != "busybox":
            e.append(ti("bin/" + a, tarfile.SYMTYPE, 0o777, linkname="busybox"))
    e += [
        ti("etc/passwd", data=b"root:x:0:0:root:/root:/bin/sh\n"
           b"app:x:1000:1000:app:/home/app:/bin/sh\n"),
        ti("etc/group", data=b"root:x:0:\nstaff:x:50:app\napp:x:1000:\n"),
        ti("data/a", data=b"file a\n"),
        ti("data/b", data=b"file b v1\n"),
        ti("data/keep/x", data=b"x\n"),
        ti("opq/old1", data=b"old1\n"),
        ti("opq/old2", data=b"old2\n"),
    ]
    return make_tar(e)


def layer2():
    h1, f1 = ti("data/h1", data=b"hard linked\n")
    e = dirs("data", "opq")
    e += [
        ti("data/.wh.a"),
        ti("opq/.wh..wh..opq"),
        ti("opq/new", data=b"new\n"),
        (h1, f1),
        ti("data/h2", tarfile.LNKTYPE, 0o644, linkname="data/h1"),
        ti("data/link", tarfile.SYMTYPE, 0o777, linkname="h1"),
        ti("data/suid", data=b"#!/bin/sh\n", mode=0o4755),
        ti("data/null", tarfile.CHRTYPE, 0o666, devmajor=1, devminor=3),
    ]
    # security.capability for cap_net_bind_service+ep (VFS_CAP_REVISION_2)
    cap = bytes([0, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    t, f = ti("data/capped", data=b"caps\n", mode=0o755)
    t.pax_headers = {"SCHILY.xattr.security.capability": cap.decode("latin-1")}
    e.append((t, f))
    return make_tar(e)


def layer3(salt):
    e = dirs("data") + [ti("data/c", data=b"file c\n"), ti("data/b", data=b"file b v2\n")]
    if salt:
        e.append(ti("salt", data=salt.encode() + b"\n"))
    return make_tar(e)


def layer_big(mb):
    # incompressible-ish content so the download has real bytes to move
    e = dirs("bulk")
    seed = hashlib.sha256(b"cabin").digest()
    for i in range(max(1, mb)):
        chunk = bytearray()
        h = seed + bytes([i % 256, i // 256])
        while len(chunk) < 1 << 20:
            h = hashlib.sha256(h).digest()
            chunk += h * 8
        e.append(ti("bulk/f%03d" % i, data=bytes(chunk[:1 << 20])))
    return make_tar(e)


def layer_evil(kind):
    if kind == "dotdot":
        return make_tar([ti("../escape", data=b"pwned\n")])
    if kind == "abs":
        return make_tar([ti("/escape", data=b"pwned\n")])
    if kind == "symlink":
        return make_tar([ti("out", tarfile.SYMTYPE, 0o777, linkname="/"),
                         ti("out/escape", data=b"pwned\n")])
    if kind == "hardlink":
        return make_tar([ti("hl", tarfile.LNKTYPE, 0o644, linkname="../../../../etc/hostname")])
    raise SystemExit("unknown --evil " + kind)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--tag", default="v1")
    ap.add_argument("--arch", default="amd64")
    ap.add_argument("--evil")
    ap.add_argument("--big", type=int, default=0)
    ap.add_argument("--gzip-only", action="store_true",
                    help="no zstd layer (docker-archive cannot hold one)")
    ap.add_argument("--salt", default="", help="makes the zstd layer unique")
    ap.add_argument("--multiarch", action="store_true",
                    help="tag an index of this image and an arm64 twin")
    ap.add_argument("--plain", action="store_true", help="the --big layer uncompressed")
    ap.add_argument("--stop-signal", default="SIGTERM", help="the config's StopSignal")
    ap.add_argument("--cmd", default='echo hello from the image; echo FOO=$FOO')
    a = ap.parse_args()

    blobs = os.path.join(a.out, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    def put(data):
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, d), "wb") as f:
            f.write(data)
        return "sha256:" + d, len(data)

    raw = [layer1(a.busybox), layer2(), layer3(a.salt)]
    comp = ["gzip", "gzip", "gzip" if a.gzip_only else "zstd"]
    if a.big:
        raw.append(layer_big(a.big))
        comp.append("plain" if a.plain else "gzip")
    if a.evil:
        raw.append(layer_evil(a.evil))
        comp.append("gzip")
    layers, diffs = [], []
    for r, c in zip(raw, comp):
        diffs.append("sha256:" + hashlib.sha256(r).hexdigest())
        if c == "gzip":
            data = gzip.compress(r, compresslevel=6, mtime=0)
            mt = "application/vnd.oci.image.layer.v1.tar+gzip"
        elif c == "plain":
            data = r
            mt = "application/vnd.oci.image.layer.v1.tar"
        else:
            data = subprocess.run(["zstd", "-q", "-c"], input=r, capture_output=True,
                                  check=True).stdout
            mt = "application/vnd.oci.image.layer.v1.tar+zstd"
        d, n = put(data)
        layers.append({"mediaType": mt, "digest": d, "size": n})
    config = {
        "created": "2026-01-01T00:00:00Z",
        "architecture": a.arch,
        "os": "linux",
        "config": {
            "Env": ["PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "FOO=bar baz",
                    "EMPTY="],
            "Cmd": ["/bin/sh", "-c", a.cmd],
            "WorkingDir": "/data",
            "ExposedPorts": {"80/tcp": {}},
            "StopSignal": a.stop_signal,
            "Labels": {"org.cabin.test": "1"},
        },
        "rootfs": {"type": "layers", "diff_ids": diffs},
        "history": [{"created": "2026-01-01T00:00:00Z", "created_by": "mkimage.py"}],
    }
    cd, cn = put(json.dumps(config, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd,
                   "size": cn},
        "layers": layers,
    }
    md, mn = put(json.dumps(manifest, sort_keys=True).encode())
    top = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
           "size": mn, "platform": {"architecture": a.arch, "os": "linux"}}
    if a.multiarch:
        twin = dict(config, architecture="arm64", variant="v8")
        td, tn = put(json.dumps(twin, sort_keys=True).encode())
        tm = dict(manifest, config=dict(manifest["config"], digest=td, size=tn))
        tmd, tmn = put(json.dumps(tm, sort_keys=True).encode())
        sub = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
               "manifests": [
                   {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": tmd, "size": tmn,
                    "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
                   top]}
        sd, sn = put(json.dumps(sub, sort_keys=True).encode())
        top = {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": sd,
               "size": sn}
    top["annotations"] = {"org.opencontainers.image.ref.name": a.tag}
    index = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [top],
    }
    with open(os.path.join(a.out, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(a.out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    print(cd)


if __name__ == "__main__":
    main()
