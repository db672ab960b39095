#!/usr/bin/env python3
# virtio-host.py - the host's side of tests/vm/test-emu-linux-virtio.sh.
#   virtio-host.py hvc SOCK OUT          listen on unix socket SOCK (what `vm run --hvc`
#                                        connects to); once the guest writes HVC-READY, send
#                                        a shell command line and wait for its output; the
#                                        whole transcript goes to OUT
#   virtio-host.py vsock-listen SOCK MSG OUT
#                                        accept one connection on SOCK (a guest connection to
#                                        host port P arrives on "<vsock uds>_P"), write the
#                                        line received to OUT, answer MSG
#   virtio-host.py vsock-connect UDS PORT MSG
#                                        through `vm run --vsock`'s socket UDS, connect to
#                                        guest port PORT, send MSG, print the line answered
# Every wait has a timeout, so a guest that never answers ends the test instead of hanging it.
import os
import socket
import sys

TIMEOUT = 240


def listen(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    s.settimeout(TIMEOUT)
    return s


def read_until(conn, want, got=b""):
    while want not in got:
        b = conn.recv(4096)
        if not b:
            break
        got += b
    return got


def hvc(path, out):
    s = listen(path)
    conn, _ = s.accept()
    conn.settimeout(TIMEOUT)
    got = b""
    try:
        got = read_until(conn, b"HVC-READY")
        if b"HVC-READY" in got:
            # The answer (42) appears only if the guest's shell ran the line: the tty's
            # echo of the line itself holds "$((6*7))", not the number.
            conn.sendall(b"echo hvc-$((6*7)) >/tmp/hvc-in; echo hvc-answer-$((6*7))\n")
            got = read_until(conn, b"hvc-answer-42", got)
    except OSError:
        pass  # timeout or reset: OUT holds what came, the test judges it
    with open(out, "wb") as f:
        f.write(got)


def vsock_listen(path, msg, out):
    s = listen(path)
    conn, _ = s.accept()
    conn.settimeout(TIMEOUT)
    line = read_until(conn, b"\n").split(b"\n")[0]
    with open(out, "wb") as f:
        f.write(line + b"\n")
    conn.sendall(msg.encode() + b"\n")
    conn.close()


def vsock_connect(uds, port, msg):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(60)
    c.connect(uds)
    c.sendall(b"CONNECT %d\n" % int(port))
    ok = read_until(c, b"\n")
    if not ok.startswith(b"OK "):
        sys.exit("vsock-connect: the VMM answered %r" % ok)
    rest = ok.split(b"\n", 1)[1]
    c.sendall(msg.encode() + b"\n")
    print(read_until(c, b"\n", rest).split(b"\n")[0].decode(errors="replace"))


def main():
    a = sys.argv[1:]
    if a[:1] == ["hvc"] and len(a) == 3:
        hvc(a[1], a[2])
    elif a[:1] == ["vsock-listen"] and len(a) == 4:
        vsock_listen(a[1], a[2], a[3])
    elif a[:1] == ["vsock-connect"] and len(a) == 4:
        vsock_connect(a[1], a[2], a[3])
    else:
        sys.exit(__doc__ or "usage: see the head of virtio-host.py")


if __name__ == "__main__":
    main()
