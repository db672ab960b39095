/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_PROCESS_H
#define CABIN_CTR_PROCESS_H

struct cabin_err;
struct ctr_caps;
struct ctr_seccomp;
struct ctr_spec;

#include <signal.h>
#include <stddef.h>

/* How ctr_process_exec() differs between the container's init and an exec'd process. */
enum ctr_process_flags {
	/* bind the pty's slave on /dev/console (the init, in a mount namespace of its own) */
	CTR_PROCESS_CONSOLE = 1 << 0,
	/* without process.terminal, a session of its own (the init) */
	CTR_PROCESS_SETSID = 1 << 1,
};

/**
 * struct ctr_process - what the last steps of a container process need
 * @spec: the process fields (for the init, the whole config)
 * @caps: the capability sets of process.capabilities
 * @seccomp: linux.seccomp, or NULL
 * @sync: the socket to the runtime: the pty master and the seccomp notify fd go there
 * @keep: fds kept open across the fd sweep besides stdio and @preserve_fds (@sync...)
 * @n_keep: how many fds @keep holds
 * @preserve_fds: --preserve-fds: the fds 3 .. 3+@preserve_fds-1 are the caller's
 * @sigmask: the signal mask the program starts with
 * @flags: CTR_PROCESS_*
 * @exec_step: with --debug, "<exec_step>: about to exec `PATH`" is logged last (the step
 *	names of runc's debug log), or nothing when NULL
 * @before_exec: run last, under the seccomp filter and the process's identity, right
 *	before execve(2): the init's READY, its wait for `start`, startContainer hooks
 * @arg: passed to @before_exec
 */
struct ctr_process {
	const struct ctr_spec *spec;
	const struct ctr_caps *caps;
	struct ctr_seccomp *seccomp;
	int sync;
	const int *keep;
	size_t n_keep;
	unsigned preserve_fds;
	const sigset_t *sigmask;
	unsigned flags;
	const char *exec_step;
	int (*before_exec)(void *arg, struct cabin_err **err);
	void *arg;
};

/**
 * ctr_process_exec() - the steps shared by the container's init and exec'd processes,
 * from the terminal to execve(2), in the order their security depends on: the terminal;
 * rlimits, ioprio, personality; the sweep of the runtime's fds; cwd, args[0]; the seccomp
 * filter (before the identity change without no_new_privs, after it with); user and
 * capabilities; the cwd check; umask; no_new_privs; @p->before_exec; execve.
 * Return: only on failure, <0 with *@err set.
 */
int ctr_process_exec(const struct ctr_process *p, struct cabin_err **err);

/**
 * ctr_process_find_exec() - find process.args[0] in the container's PATH, as execvp(3)
 * would, inside the container's root, so a missing program fails before anything runs.
 * @out: the path to execve (caller frees)
 */
int ctr_process_find_exec(const struct ctr_spec *s, char **out, struct cabin_err **err);

/**
 * ctr_process_set_identity() - process.user (additionalGids, gid, uid) and then the
 * capability sets, keeping permitted capabilities across the uid change.
 */
int ctr_process_set_identity(const struct ctr_spec *s, const struct ctr_caps *caps,
			     struct cabin_err **err);

/**
 * ctr_process_close_fds() - close every fd but stdio, the @preserve_fds that follow it
 * (--preserve-fds) and the @n fds of @keep (the sync socket, exec.fifo), before the
 * process's cwd is entered or anything of the container runs.
 */
int ctr_process_close_fds(unsigned preserve_fds, const int *keep, size_t n, struct cabin_err **err);

/**
 * ctr_process_chdir() - chdir to process.cwd (unless @done: the first chdir, before the
 * user switch, worked) and check that it lies inside the container's root.
 */
int ctr_process_chdir(const char *cwd, int done, struct cabin_err **err);

#endif
