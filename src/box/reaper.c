/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cabin-init: PID 1 of a container run with `container run --init`, the part docker-init
 * (tini) and catatonit play. A program that is not written to be an init leaves the
 * orphans reparented to it as zombies and, as PID 1, gets no default action for SIGTERM
 * or SIGINT, so `stop` waits for the timeout. This init runs the command as its child,
 * forwards every signal it receives to it, reaps every process that ends, and exits with
 * the command's status (128+N for a signal) when the command ends; the kernel then kills
 * whatever is left in the PID namespace.
 *
 * It is bind-mounted read-only from the host into the container: static, libc only, no
 * allocation, nothing read from the container but its own arguments.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	sigset_t all, old;
	int status = 0;
	pid_t child;

	if (argc > 1 && !strcmp(argv[1], "--")) {
		argv++;
		argc--;
	}
	if (argc < 2) {
		fputs("usage: cabin-init [--] COMMAND [ARG...]\n", stderr);
		return 2;
	}
	/* every signal waits in sigwaitinfo(); the child gets the mask it would have had */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	child = fork();
	if (child < 0) {
		fprintf(stderr, "cabin-init: fork: %s\n", strerror(errno));
		return 1;
	}
	if (child == 0) {
		/* the command's own process group, in the foreground of the terminal if any, so
		 * that ^C and ^Z reach it as they would without an init */
		setpgid(0, 0);
		if (isatty(0)) {
			signal(SIGTTOU, SIG_IGN);
			tcsetpgrp(0, getpid());
			signal(SIGTTOU, SIG_DFL);
		}
		sigprocmask(SIG_SETMASK, &old, NULL);
		execvp(argv[1], argv + 1);
		fprintf(stderr, "cabin-init: exec `%s`: %s\n", argv[1], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si), done = 0;

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		for (;;) {
			int st;
			pid_t p = waitpid(-1, &st, WNOHANG);

			if (p <= 0)
				break;
			if (p == child) {
				status = st;
				done = 1;
			}
		}
		if (done)
			break;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
