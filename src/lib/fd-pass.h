/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_LIB_FD_PASS_H
#define CABIN_LIB_FD_PASS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Passing fds over AF_UNIX sockets (SCM_RIGHTS): the runtime-init sync channel, the
 * --console-socket pty master and the seccomp listenerPath notify fd all go through here,
 * so the control-buffer arithmetic and the "close what arrived on a bad message" rule live
 * in one place.
 */

/* The most fds one message carries here; the kernel's own limit (SCM_MAX_FD) is 253. */
#define FD_PASS_MAX 16

/**
 * fd_pass_send() - send @len bytes of @buf and the @nfds fds of @fds in one sendmsg(2)
 * @len: at least 1 when @nfds > 0: a stream socket drops ancillary data sent with no byte
 *
 * MSG_NOSIGNAL: a peer that went away gives -EPIPE, not SIGPIPE. The fds stay open in the
 * caller; the peer gets its own copies.
 * Return: the bytes sent (a stream socket may send fewer than @len), or -errno; -EINVAL for
 * more than FD_PASS_MAX fds, a negative fd, or fds with no byte of data.
 */
ssize_t fd_pass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds);

/**
 * fd_pass_recv() - receive up to @len bytes into @buf and up to @maxfds fds into @fds
 * @fds: filled with the fds received (close-on-exec), the rest of its @maxfds slots with -1
 * @nfds: the number of fds received (may be NULL)
 *
 * A message the caller cannot take whole is refused and every fd it carried is closed, so a
 * hostile or confused peer cannot leak fds into this process: more fds than @maxfds, fds lost
 * to a short control buffer (MSG_CTRUNC), ancillary data other than SCM_RIGHTS (-EPROTO), or
 * a datagram longer than @len (MSG_TRUNC, -EMSGSIZE).
 * Return: the bytes received (0: end of stream, no fds), or -errno.
 */
ssize_t fd_pass_recv(int sock, void *buf, size_t len, int *fds, size_t maxfds, size_t *nfds);

#endif
