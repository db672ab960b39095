/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctr/hooks.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"

int ctr_hooks_present(json_t *hooks, const char *kind)
{
	return json_array_size(json_object_get(hooks, kind)) > 0;
}

static char **strv_of(json_t *arr)
{
	size_t n = json_array_size(arr), i;
	char **v = xcalloc(n + 1, sizeof(*v));

	for (i = 0; i < n; i++)
		v[i] = (char *)json_string_value(json_array_get(arr, i));
	return v;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_one(json_t *h, const char *what, const char *state, struct cabin_err **err)
{
	const char *path = json_string_value(json_object_get(h, "path"));
	json_t *args = json_object_get(h, "args"), *env = json_object_get(h, "env");
	json_t *tmo = json_object_get(h, "timeout");
	cleanup_free char **argv = NULL, **envp = NULL;
	cleanup_close int pidfd = -1;
	int pipefd[2], status = 0;
	long long deadline = tmo ? now_ms() + json_integer_value(tmo) * 1000 : -1;
	pid_t pid;

	argv = json_array_size(args) ? strv_of(args) : xcalloc(2, sizeof(char *));
	if (!argv[0])
		argv[0] = (char *)path;
	envp = strv_of(env);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return cabin_err_make(err, errno, "%s: pipe", what);
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return cabin_err_make(err, errno, "%s: fork", what);
	}
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (dup2(pipefd[0], 0) < 0)
			_exit(127);
		/* The hook's stdout goes to our stderr: stdout may be a protocol channel. */
		dup2(2, 1);
		execve(path, argv, envp);
		_exit(127);
	}
	close(pipefd[0]);
	/* A hook that does not read its stdin must not block us: ignore EPIPE. */
	{
		struct sigaction sa = { .sa_handler = SIG_IGN }, old;

		sigaction(SIGPIPE, &sa, &old);
		fs_write_all(pipefd[1], state, strlen(state));
		sigaction(SIGPIPE, &old, NULL);
	}
	close(pipefd[1]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		int r;

		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };
			int wait_ms = deadline < 0 ? -1 : (int)MAX(0, deadline - now_ms());

			r = poll(&p, 1, wait_ms);
			if (r == 0) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				return cabin_err_make(err, ETIMEDOUT,
						      "%s `%s` timed out after %llds", what, path,
						      (long long)json_integer_value(tmo));
			}
			if (r < 0 && errno == EINTR)
				continue;
		}
		r = waitpid(pid, &status, 0);
		if (r < 0 && errno == EINTR)
			continue;
		break;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return cabin_err_make(err, ENOEXEC, "%s `%s` could not be executed", what, path);
	/* "error running hook" as runc words it: tools that wrap runtimes grep for it */
	if (WIFEXITED(status) && WEXITSTATUS(status))
		return cabin_err_make(err, 0, "error running %s `%s`: exited with status %d", what,
				      path, WEXITSTATUS(status));
	if (WIFSIGNALED(status)) {
		char name[64];

		snprintf(name, sizeof(name), "%s", strsignal(WTERMSIG(status)));
		name[0] = (char)tolower((unsigned char)name[0]);
		return cabin_err_make(err, 0, "error running %s `%s`: killed by signal %d (%s)",
				      what, path, WTERMSIG(status), name);
	}
	return 0;
}

int ctr_hooks_run(json_t *hooks, const char *kind, json_t *state, struct cabin_err **err)
{
	json_t *arr = kind ? json_object_get(hooks, kind) : hooks, *h;
	cleanup_free char *s = NULL;
	size_t i;

	if (!json_array_size(arr))
		return 0;
	s = json_dumps(state, JSON_COMPACT);
	json_array_foreach(arr, i, h)
	{
		char what[64];

		snprintf(what, sizeof(what), "hook %s[%zu]", kind ? kind : "poststop", i);
		if (run_one(h, what, s ? s : "{}", err) < 0)
			return -1;
	}
	return 0;
}

void ctr_hooks_run_warn(json_t *hooks, const char *kind, json_t *state)
{
	cleanup_free char *s = NULL;
	json_t *h;
	size_t i;

	if (!json_array_size(hooks))
		return;
	s = json_dumps(state, JSON_COMPACT);
	json_array_foreach(hooks, i, h)
	{
		struct cabin_err *e = NULL;
		char what[64];

		snprintf(what, sizeof(what), "hook %s[%zu]", kind, i);
		if (run_one(h, what, s ? s : "{}", &e) < 0)
			log_warn("%s", cabin_err_msg(e));
		cabin_err_release(&e);
	}
}
