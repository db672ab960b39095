/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/fd-pass.h"
#include "lib/util.h"

/* Room for FD_PASS_MAX fds, aligned for struct cmsghdr as CMSG_FIRSTHDR requires. */
union fd_pass_cbuf {
	char buf[CMSG_SPACE(FD_PASS_MAX * sizeof(int))];
	struct cmsghdr align;
};

ssize_t fd_pass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	union fd_pass_cbuf u;
	ssize_t n;

	if (nfds > FD_PASS_MAX || (nfds && (!fds || !len)))
		return -EINVAL;
	for (size_t i = 0; i < nfds; i++)
		if (fds[i] < 0)
			return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	n = TEMP_FAILURE_RETRY(sendmsg(sock, &mh, MSG_NOSIGNAL));
	return n < 0 ? -errno : n;
}

/* Close every fd an SCM_RIGHTS header of @mh carries: the message is refused. */
static void close_all(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

ssize_t fd_pass_recv(int sock, void *buf, size_t len, int *fds, size_t maxfds, size_t *nfds)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	union fd_pass_cbuf u;
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf) };
	size_t got = 0;
	ssize_t n;

	if (nfds)
		*nfds = 0;
	if (maxfds > FD_PASS_MAX || (maxfds && !fds))
		return -EINVAL;
	for (size_t i = 0; i < maxfds; i++)
		fds[i] = -1;
	/*
	 * The control buffer always has room for FD_PASS_MAX fds, not just @maxfds: a peer
	 * that sends more is seen (and refused) instead of the kernel quietly dropping the
	 * excess. MSG_CMSG_CLOEXEC: no window in which a fork+exec elsewhere inherits them.
	 */
	n = TEMP_FAILURE_RETRY(recvmsg(sock, &mh, MSG_CMSG_CLOEXEC));
	if (n < 0)
		return -errno;
	if (mh.msg_flags & MSG_CTRUNC) {
		close_all(&mh);
		return -EPROTO;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		close_all(&mh);
		return -EMSGSIZE;
	}
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			goto bad;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (k > maxfds - got)
			goto bad;
		if (k)
			memcpy(fds + got, CMSG_DATA(c), k * sizeof(int));
		got += k;
	}
	if (nfds)
		*nfds = got;
	return n;
bad:
	close_all(&mh);
	for (size_t i = 0; i < maxfds; i++)
		fds[i] = -1;
	return -EPROTO;
}
