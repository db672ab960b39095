/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lib/fd-pass: SCM_RIGHTS send and receive, and the messages the receiver refuses. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fd-pass.h"
#include "unit/tap.h"

/* Open fds of this process: a refused message must leave this unchanged. */
static int count_fds(void)
{
	cleanup_closedir DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	return n - 1; /* the directory's own fd */
}

/* Does @fd write into the pipe whose read end is @rd? (the same open file arrived) */
static int same_pipe(int fd, int rd)
{
	char c = 0;

	if (write(fd, "x", 1) != 1)
		return 0;
	return read(rd, &c, 1) == 1 && c == 'x';
}

static void close_fds(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static void test_one_and_several(int type, const char *tname)
{
	int sv[2], p[3][2], out[FD_PASS_MAX], in[3];
	char buf[16] = "";
	size_t nfds = 99;
	ssize_t n;
	int ok = 1;

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0) {
		tap_ok(0, "%s: socketpair: %s", tname, strerror(errno));
		return;
	}
	for (int i = 0; i < 3; i++)
		if (pipe2(p[i], O_CLOEXEC) < 0)
			ok = 0;
	n = fd_pass_send(sv[0], "one", 3, &p[0][1], 1);
	tap_ok(ok && n == 3, "%s: one fd and 3 bytes sent (%zd)", tname, n);
	n = fd_pass_recv(sv[1], buf, sizeof(buf), out, 4, &nfds);
	tap_ok(n == 3 && !memcmp(buf, "one", 3) && nfds == 1 && out[0] >= 0 && out[1] == -1 &&
		       out[3] == -1 && same_pipe(out[0], p[0][0]),
	       "%s: the fd arrives with the bytes, unused slots are -1", tname);
	tap_ok(out[0] >= 0 && (fcntl(out[0], F_GETFD) & FD_CLOEXEC),
	       "%s: a received fd is close-on-exec", tname);
	close_fds(out, 4);

	for (int i = 0; i < 3; i++)
		in[i] = p[i][1];
	n = fd_pass_send(sv[0], "three", 5, in, 3);
	nfds = 0;
	memset(buf, 0, sizeof(buf));
	if (n == 5)
		n = fd_pass_recv(sv[1], buf, sizeof(buf), out, 3, &nfds);
	tap_ok(n == 5 && nfds == 3 && same_pipe(out[0], p[0][0]) && same_pipe(out[1], p[1][0]) &&
		       same_pipe(out[2], p[2][0]),
	       "%s: three fds arrive in one message, in order", tname);
	close_fds(out, 3);

	n = fd_pass_send(sv[0], "none", 4, NULL, 0);
	nfds = 99;
	if (n == 4)
		n = fd_pass_recv(sv[1], buf, sizeof(buf), out, 2, &nfds);
	tap_ok(n == 4 && nfds == 0 && out[0] == -1 && out[1] == -1,
	       "%s: a message without fds gives none", tname);
	close(sv[0]);
	n = fd_pass_recv(sv[1], buf, sizeof(buf), out, 2, &nfds);
	tap_ok(n == 0 && nfds == 0 && out[0] == -1, "%s: end of stream is 0 with no fds", tname);
	close(sv[1]);
	for (int i = 0; i < 3; i++)
		close_fds(p[i], 2);
}

/*
 * Send @nsend copies of one pipe end; receive with room for @maxfds into @buflen bytes.
 * *@leak: a refused message left an fd open or in a slot. Return: recv's result.
 */
static ssize_t refused(int sv[2], size_t nsend, size_t maxfds, size_t buflen, int *leak,
		       size_t *got)
{
	int p[2], in[FD_PASS_MAX], out[FD_PASS_MAX];
	char buf[64];
	size_t nfds = 99;
	ssize_t n;
	int before;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1000;
	for (size_t i = 0; i < nsend; i++)
		in[i] = p[1];
	before = count_fds();
	n = fd_pass_send(sv[0], "0123456789", 10, in, nsend);
	if (n != 10) {
		close_fds(p, 2);
		return -1000;
	}
	n = fd_pass_recv(sv[1], buf, buflen, out, maxfds, &nfds);
	*got = nfds;
	*leak = 0;
	if (n < 0) {
		*leak = nfds != 0;
		for (size_t i = 0; i < maxfds; i++)
			if (out[i] != -1)
				*leak = 1;
	} else {
		close_fds(out, nfds);
	}
	if (count_fds() != before)
		*leak = 1;
	close_fds(p, 2);
	return n;
}

static void test_refused(void)
{
	int sv[2], leak = 0, one = 1, in[FD_PASS_MAX + 1];
	size_t got = 0;
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		tap_ok(0, "socketpair: %s", strerror(errno));
		return;
	}
	/* CMSG_SPACE(1 int) has room for 2: the check must count, not trust the buffer size. */
	n = refused(sv, 2, 1, 64, &leak, &got);
	tap_ok(n == -EPROTO && !leak, "two fds for one slot: refused, both closed (%zd)", n);
	n = refused(sv, 5, 3, 64, &leak, &got);
	tap_ok(n == -EPROTO && !leak, "five fds for three slots: refused, all closed (%zd)", n);
	n = refused(sv, 1, 0, 64, &leak, &got);
	tap_ok(n == -EPROTO && !leak, "an fd where none is expected: refused, closed (%zd)", n);
	n = refused(sv, 2, 2, 4, &leak, &got);
	tap_ok(n == -EMSGSIZE && !leak, "a truncated datagram: refused, its fds closed (%zd)", n);
	n = refused(sv, FD_PASS_MAX, FD_PASS_MAX, 64, &leak, &got);
	tap_ok(n == 10 && got == FD_PASS_MAX && !leak, "FD_PASS_MAX fds fit (%zd)", n);

	/* Credentials next to the fds: not what the caller asked for. */
	if (setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == 0) {
		n = refused(sv, 1, 1, 64, &leak, &got);
		tap_ok(n == -EPROTO && !leak, "other ancillary data: refused, fds closed (%zd)", n);
	} else {
		tap_skip("SO_PASSCRED: %s", strerror(errno));
	}

	in[0] = 0;
	in[1] = -1;
	n = fd_pass_send(sv[0], "x", 1, in, 2);
	tap_ok(n == -EINVAL, "a negative fd is not sent (%zd)", n);
	n = fd_pass_send(sv[0], "", 0, in, 1);
	tap_ok(n == -EINVAL, "fds with no byte of data are not sent (%zd)", n);
	for (int i = 0; i <= FD_PASS_MAX; i++)
		in[i] = 0;
	n = fd_pass_send(sv[0], "x", 1, in, FD_PASS_MAX + 1);
	tap_ok(n == -EINVAL, "more than FD_PASS_MAX fds are not sent (%zd)", n);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	tap_plan(21);
	test_one_and_several(SOCK_SEQPACKET, "seqpacket");
	test_one_and_several(SOCK_STREAM, "stream");
	test_refused();
	return tap_done();
}
