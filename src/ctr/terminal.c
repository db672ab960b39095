/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Terminals: the pty is allocated inside the container (its devpts instance), the slave
 * becomes the init's controlling terminal, and the master goes to the caller over
 * --console-socket with SCM_RIGHTS, as conmon and containerd's shim expect.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "ctr/container.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fd-pass.h"

int ctr_console_connect(const char *path, struct cabin_err **err)
{
	cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (fd < 0)
		return cabin_err_make(err, errno, "socket");
	if (strlen(path) >= sizeof(sa.sun_path))
		return cabin_err_make(err, ENAMETOOLONG, "socket path `%s` is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return cabin_err_make(err, errno, "connect to `%s`", path);
	return steal_fd(&fd);
}

int ctr_console_send(int sock, int master, struct cabin_err **err)
{
	/* The payload is the pty's name, as runc sends it; receivers only want the fd. */
	static const char name[] = "/dev/ptmx";
	ssize_t n;

	n = fd_pass_send(sock, name, sizeof(name) - 1, &master, 1);
	if (n < 0)
		return cabin_err_make(err, (int)-n, "send the terminal to the console socket");
	return 0;
}

int ctr_terminal_setup(unsigned short rows, unsigned short cols, struct cabin_err **err)
{
	cleanup_close int master = -1, slave = -1;

	master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return cabin_err_make(err, errno,
				      "open `/dev/ptmx` (process.terminal needs a devpts mount "
				      "at /dev/pts)");
	if (unlockpt(master) < 0)
		return cabin_err_make(err, errno, "unlockpt");
	/* TIOCGPTPEER opens the slave of this very master, not a path a race could swap. */
	slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return cabin_err_make(err, errno, "open the terminal slave");
	if (rows || cols) {
		struct winsize ws = { .ws_row = rows, .ws_col = cols };

		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			return cabin_err_make(err, errno, "set process.consoleSize");
	}
	if (setsid() < 0)
		return cabin_err_make(err, errno, "setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return cabin_err_make(err, errno, "set the controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			return cabin_err_make(err, errno, "dup2 the terminal");
	return steal_fd(&master);
}

static int copy_once(int from, int to)
{
	char buf[8192];
	ssize_t n = read(from, buf, sizeof(buf)), off = 0;

	if (n <= 0)
		return n == 0 || errno != EINTR ? -1 : 0;
	while (off < n) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += w;
	}
	return 0;
}

void ctr_terminal_proxy(int master, int sigfd, pid_t pid, int *status)
{
	struct termios saved, raw;
	int is_tty = isatty(0), in_open = 1, out_open = 1;

	if (is_tty && tcgetattr(0, &saved) == 0) {
		struct winsize ws;

		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	} else {
		is_tty = 0;
	}
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = in_open ? 0 : -1, .events = POLLIN },
			{ .fd = out_open ? master : -1, .events = POLLIN },
		};

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
			if (copy_once(master, 1) < 0)
				out_open = 0;
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR))
			if (copy_once(0, master) < 0)
				in_open = 0;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sigfd, &si, sizeof(si)) != sizeof(si))
				continue;
			if (si.ssi_signo == SIGWINCH) {
				struct winsize ws;

				if (ioctl(0, TIOCGWINSZ, &ws) == 0)
					ioctl(master, TIOCSWINSZ, &ws);
			} else if (si.ssi_signo != SIGCHLD) {
				kill(pid, (int)si.ssi_signo);
			} else {
				pid_t r;
				int st;

				while ((r = waitpid(-1, &st, WNOHANG)) > 0)
					if (r == pid) {
						*status = st;
						/* drain what the container wrote last */
						while (out_open) {
							struct pollfd q = { .fd = master,
									    .events = POLLIN };

							if (poll(&q, 1, 0) <= 0 ||
							    copy_once(master, 1) < 0)
								break;
						}
						goto out;
					}
			}
		}
	}
out:
	if (is_tty)
		tcsetattr(0, TCSANOW, &saved);
}
