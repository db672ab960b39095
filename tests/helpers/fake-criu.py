#!/usr/bin/python3
# fake-criu.py - a stand-in for criu(8) for tests/func/test-oci-checkpoint.sh: it speaks
# `criu swrk` with CRIU's own message definitions (pycriu's rpc_pb2, from the criu package)
# so that cabin's side of the RPC is checked where CRIU itself cannot run on the kernel.
# It does not checkpoint anything: a DUMP kills the task as CRIU would and writes a
# placeholder image; a RESTORE starts `sleep` as a sibling (in cabin's cgroups, since cabin
# placed this process there) and reports it through the same notifications as CRIU.
#
#   FAKE_CRIU_DIR   where each request is appended, as JSON, to requests.jsonl
#   FAKE_CRIU_CHECK=fail   `criu check` fails with a CRIU-style "Error (...)" line
#   FAKE_CRIU_FAIL=dump|restore   answer that request with success=false
import ctypes
import json
import os
import signal
import socket
import struct
import subprocess
import sys

from google.protobuf import json_format
from pycriu import rpc_pb2 as rpc

out = os.environ.get("FAKE_CRIU_DIR", "/tmp")


def record(req, extra):
    d = json_format.MessageToDict(req, preserving_proto_field_name=True)
    d.update(extra)
    with open(os.path.join(out, "requests.jsonl"), "a") as f:
        f.write(json.dumps(d) + "\n")


# Like CRIU, images_dir_fd and work_dir_fd are the caller's fds, reached through
# /proc/PEER/fd (the peer of the RPC socket); inherit_fd ones are CRIU's own.
peer = 0


def fd_target(fd, pid="self"):
    try:
        return os.readlink("/proc/%s/fd/%d" % (pid, fd))
    except OSError as e:
        return "error: %s" % e.strerror


def send(sk, resp):
    sk.send(resp.SerializeToString())


def notify(sk, script, pid):
    r = rpc.criu_resp(type=rpc.NOTIFY, success=True)
    r.notify.script = script
    r.notify.pid = pid
    send(sk, r)
    ack = rpc.criu_req()
    ack.ParseFromString(sk.recv(65536))
    if ack.type != rpc.NOTIFY or not ack.notify_success:
        sys.exit(3)


def spawn_sibling():
    # rst_sibling: like CRIU, the restored task is a child of CRIU's parent (CLONE_PARENT)
    libc = ctypes.CDLL(None, use_errno=True)
    pid = libc.syscall(56, 0x00008000 | signal.SIGCHLD, 0, 0, 0, 0)  # clone(CLONE_PARENT)
    if pid == 0:
        os.setsid()
        fd = os.open("/dev/null", os.O_RDWR)
        for i in range(3):
            os.dup2(fd, i)
        os.closerange(3, 1024)
        os.execvp("sleep", ["sleep", "1000"])
    if pid < 0:
        sys.exit(4)
    return pid


def write_log(opts, name):
    fd = opts.work_dir_fd if opts.HasField("work_dir_fd") else opts.images_dir_fd
    with open("/proc/%d/fd/%d/%s" % (peer, fd, name), "w") as f:
        f.write("fake criu log\n")


def swrk():
    global peer
    sk = socket.socket(fileno=3)
    cred = sk.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    peer = struct.unpack("3i", cred)[0]
    while True:
        data = sk.recv(65536)
        if not data:
            return 0
        req = rpc.criu_req()
        req.ParseFromString(data)
        o = req.opts
        extra = {"fds": {str(i.fd): fd_target(i.fd) for i in o.inherit_fd}}
        if o.HasField("images_dir_fd"):
            extra["images_dir"] = fd_target(o.images_dir_fd, peer)
        if o.HasField("work_dir_fd"):
            extra["work_dir"] = fd_target(o.work_dir_fd, peer)
        if o.HasField("root"):
            with open("/proc/self/mountinfo") as f:
                mps = [line.split()[4] for line in f]
            extra["root_is_mount"] = o.root in mps
        record(req, extra)
        fail = os.environ.get("FAKE_CRIU_FAIL", "")
        if req.type == rpc.FEATURE_CHECK:
            r = rpc.criu_resp(type=rpc.FEATURE_CHECK, success=True)
            r.features.mem_track = True
            r.features.lazy_pages = False
            send(sk, r)
        elif req.type in (rpc.DUMP, rpc.PRE_DUMP):
            write_log(o, o.log_file)
            if fail == "dump":
                with open("/proc/%d/fd/%d/core-1.img" % (peer, o.images_dir_fd), "w") as f:
                    f.write("half\n")
                send(sk, rpc.criu_resp(type=req.type, success=False, cr_errno=5,
                                       cr_errmsg="fake criu: dump refused"))
                return 1
            with open("/proc/%d/fd/%d/core-1.img" % (peer, o.images_dir_fd), "w") as f:
                f.write("fake\n")
            if req.type == rpc.DUMP and not o.leave_running:
                os.kill(o.pid, signal.SIGKILL)
            send(sk, rpc.criu_resp(type=req.type, success=True))
        elif req.type == rpc.RESTORE:
            write_log(o, o.log_file)
            if fail == "restore":
                send(sk, rpc.criu_resp(type=rpc.RESTORE, success=False, cr_errno=5,
                                       cr_errmsg="fake criu: restore refused"))
                return 1
            sib = o.rst_sibling and os.uname().machine == "x86_64"
            pid = spawn_sibling() if sib else subprocess.Popen(
                ["sleep", "1000"], start_new_session=True, stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).pid
            notify(sk, "setup-namespaces", pid)
            notify(sk, "post-restore", pid)
            r = rpc.criu_resp(type=rpc.RESTORE, success=True)
            r.restore.pid = pid
            send(sk, r)
        else:
            send(sk, rpc.criu_resp(type=req.type, success=False, cr_errmsg="unsupported"))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "check":
        if os.environ.get("FAKE_CRIU_CHECK") == "fail":
            sys.stderr.write("Error (criu/fake.c:1): fake: no kernel support for X\n")
            return 1
        return 0
    if len(sys.argv) > 2 and sys.argv[1] == "swrk":
        return swrk()
    return 2


sys.exit(main())
