#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A minimal seccomp agent for tests: listens on a unix socket (linux.seccomp.listenerPath),
takes each notify fd a runtime sends with its containerProcessState message, appends the
message to LOG (one JSON line each) and answers every notified syscall with -ERRNO, or with
ERRNO 0 lets it run (SECCOMP_USER_NOTIF_FLAG_CONTINUE).

usage: seccomp-agent.py SOCKET LOG ERRNO
"""
import os
import socket
import struct
import sys
import threading
import fcntl

# <linux/seccomp.h>: _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct seccomp_notif_resp)
NOTIF_SIZE = 80  # u64 id, u32 pid, u32 flags, seccomp_data (u32 nr, u32 arch, u64 ip, u64 args[6])
RESP_SIZE = 24  # u64 id, s64 val, s32 error, u32 flags
IOCTL_RECV = 0xC0000000 | (NOTIF_SIZE << 16) | (ord("!") << 8) | 0
IOCTL_SEND = 0xC0000000 | (RESP_SIZE << 16) | (ord("!") << 8) | 1


def serve(fd, err):
    while True:
        buf = bytearray(NOTIF_SIZE)  # the kernel wants it zeroed
        try:
            fcntl.ioctl(fd, IOCTL_RECV, buf, True)
        except OSError:
            return  # every task of the filter is gone
        nid = struct.unpack_from("=Q", buf, 0)[0]
        flags = 0 if err else 1  # SECCOMP_USER_NOTIF_FLAG_CONTINUE
        try:
            fcntl.ioctl(fd, IOCTL_SEND, struct.pack("=QqiI", nid, 0, -err, flags))
        except OSError:
            pass  # the task died meanwhile


def main():
    path, log, err = sys.argv[1], sys.argv[2], int(sys.argv[3])
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    while True:
        conn, _ = srv.accept()
        msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
        conn.close()
        with open(log, "a") as f:
            f.write(msg.decode() + "\n")
        for fd in fds:
            threading.Thread(target=serve, args=(fd, err), daemon=True).start()


if __name__ == "__main__":
    main()
