/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The last steps of a container process before execve, shared by the container's
 * init (container.c) and processes started by `exec` (exec.c): the terminal, the
 * per-process limits, the sweep of the runtime's fds, the cwd, the seccomp filter, the
 * identity change, execve. Both callers have by then entered the container's
 * namespaces and root and made themselves non-dumpable; what is left is done here,
 * once, in the order the security of the process depends on.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctr/caps.h"
#include "ctr/container.h"
#include "ctr/limits.h"
#include "ctr/mount.h"
#include "ctr/process.h"
#include "ctr/seccomp.h"
#include "ctr/spec.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

int ctr_process_find_exec(const struct ctr_spec *s, char **out, struct cabin_err **err)
{
	const char *a0 = s->args[0], *path = NULL;
	cleanup_free char *dup = NULL;

	if (strchr(a0, '/')) {
		if (faccessat(AT_FDCWD, a0, X_OK, AT_EACCESS) < 0)
			return cabin_err_make(err, errno, "exec `%s`", a0);
		*out = xstrdup(a0);
		return 0;
	}
	for (size_t i = 0; s->env && s->env[i]; i++)
		if (!strncmp(s->env[i], "PATH=", 5))
			path = s->env[i] + 5;
	if (!path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	dup = xstrdup(path);
	for (char *save = NULL, *d = strtok_r(dup, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		cleanup_free char *p = xasprintf("%s/%s", *d ? d : ".", a0);
		struct stat sb;

		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    faccessat(AT_FDCWD, p, X_OK, AT_EACCESS) == 0) {
			*out = steal_ptr(&p);
			return 0;
		}
	}
	return cabin_err_make(err, 0, "executable file `%s` not found in $PATH", a0);
}

int ctr_process_set_identity(const struct ctr_spec *s, const struct ctr_caps *caps,
			     struct cabin_err **err)
{
	if (setgroups(s->n_add_gids, s->add_gids) < 0 && !(errno == EPERM && !s->n_add_gids))
		return cabin_err_make(err, errno, "setgroups (process.user.additionalGids)");
	if (setresgid(s->gid, s->gid, s->gid) < 0)
		return cabin_err_make(err, errno, "setgid `%u` (process.user.gid)", s->gid);
	/*
	 * The terminal's slave belongs to whoever opened it (root of the container): give it
	 * to the process's user, or it cannot set its modes or reopen $(tty). Only the owner
	 * changes; the group is devpts' (gid=5, tty), as with runc. EINVAL/EPERM: the owner
	 * or group is not mapped in this user namespace; the process then keeps it as is.
	 */
	if (s->terminal && s->uid != 0 && isatty(0) && fchown(0, s->uid, (gid_t)-1) < 0 &&
	    errno != EINVAL && errno != EPERM)
		return cabin_err_make(err, errno, "chown the terminal to `%u`", s->uid);
	if (caps->present && s->uid != 0 && ctr_caps_keep_for_setuid(err) < 0)
		return -1;
	if (setresuid(s->uid, s->uid, s->uid) < 0)
		return cabin_err_make(err, errno, "setuid `%u` (process.user.uid)", s->uid);
	if (caps->present && ctr_caps_apply(caps, err) < 0)
		return -1;
	return 0;
}

int ctr_process_close_fds(unsigned preserve_fds, const int *keep, size_t n, struct cabin_err **err)
{
	/*
	 * Everything the runtime had open is inherited by clone(2): the --root directory,
	 * the state directory, exec.fifo, the bundle. O_CLOEXEC only closes them at execve,
	 * which is too late: a chdir(2) to process.cwd="/proc/self/fd/N" before that puts
	 * the process in a host directory (CVE-2024-21626), and while the init waits in the
	 * created state, /proc/1/fd/N hands them to whatever `exec` runs in the container.
	 * Doing it here, before the seccomp filter, also means a profile that refuses
	 * close_range(2) cannot keep them open.
	 */
	int ret = fs_close_fds_except(3 + (int)preserve_fds, keep, n);

	if (ret < 0)
		return cabin_err_make(err, -ret, "close the runtime's file descriptors");
	return 0;
}

int ctr_process_chdir(const char *cwd, int done, struct cabin_err **err)
{
	char buf[PATH_MAX];

	/*
	 * A cwd the runtime could enter as root stays: the user may lack search permission
	 * on it (runc: "exec --user with no access to cwd"), and entering it again after the
	 * switch would then fail.
	 */
	if (!done && chdir(cwd) < 0)
		return cabin_err_make(err, errno, "chdir to `%s` (process.cwd)", cwd);
	/*
	 * The kernel's getcwd(2) prefixes "(unreachable)" to a directory outside our root,
	 * and glibc turns that into ENOENT: a cwd that escapes through a magic link or an
	 * fd must never reach execve (CVE-2024-21626, as runc checks it).
	 */
	if (getcwd(buf, sizeof(buf)) ? buf[0] != '/' : errno == ENOENT || errno == ERANGE)
		return cabin_err_make(err, errno == ERANGE ? ERANGE : 0,
				      "process.cwd `%s` is outside the container's root", cwd);
	/*
	 * Any other failure is not an answer about the cwd: a seccomp profile of the
	 * config that refuses getcwd(2) (runtime-tools linux_seccomp) is loaded by now.
	 */
	return 0;
}

/*
 * process.terminal: a pty opened inside the container (its devpts), its master handed to
 * the runtime, which passes it on to --console-socket or proxies it. The init also binds
 * the slave on /dev/console; without a terminal the init gets a session of its own.
 */
static int setup_terminal(const struct ctr_process *p, struct cabin_err **err)
{
	const struct ctr_spec *s = p->spec;
	cleanup_close int master = -1;
	int ret;

	if (!s->terminal) {
		if ((p->flags & CTR_PROCESS_SETSID) && setsid() < 0 && getpid() != getpgrp())
			return cabin_err_make(err, errno, "setsid");
		return 0;
	}
	master = ctr_terminal_setup(s->cons_height, s->cons_width, err);
	if (master < 0)
		return -1;
	if ((p->flags & CTR_PROCESS_CONSOLE) && ctr_mount_console(master, err) < 0)
		return -1;
	ret = ctr_sync_send(p->sync, CTR_SYNC_TERMINAL, 0, NULL, master);
	if (ret < 0)
		return cabin_err_make(err, -ret, "send the terminal to the runtime");
	return 0;
}

/*
 * The listener fd of a SCMP_ACT_NOTIFY filter goes to linux.seccomp.listenerPath through
 * the runtime (which knows the container's state to send with it); the process waits
 * until it is there. Our copy is closed first: the listener must hold the only one.
 */
static int send_listener(const struct ctr_process *p, int *notify, struct cabin_err **err)
{
	cleanup_close int fd = steal_fd(notify);
	int type, ret;

	ret = ctr_sync_send(p->sync, CTR_SYNC_SECCOMP, 0, NULL, fd);
	if (ret < 0)
		return cabin_err_make(err, -ret, "send the seccomp fd to the runtime");
	close(steal_fd(&fd));
	ret = ctr_sync_recv(p->sync, &type, NULL, NULL, 0, NULL);
	if (ret <= 0)
		return cabin_err_make(err, ret ? -ret : EPIPE, "runtime went away");
	if (type != CTR_SYNC_SECCOMP_DONE)
		return cabin_err_make(err, EPROTO, "unexpected message %d from the runtime", type);
	return 0;
}

/*
 * Load linux.seccomp. A filter with SCMP_ACT_NOTIFY hands its listener over at once, for
 * the init and for exec'd processes alike: without no_new_privs the filter is loaded
 * before the identity change, and a profile that notifies setgroups/setresuid would
 * otherwise block the process in its own notified syscall, with the only listener in
 * its own hands (runc sends it right after loading too). For the init this is also
 * before READY: the runtime, which exits when create is done, passes it on to
 * linux.seccomp.listenerPath.
 */
static int load_filter(const struct ctr_process *p, int *notify, struct cabin_err **err)
{
	if (ctr_seccomp_apply(p->seccomp, notify, err) < 0)
		return -1;
	if (*notify >= 0)
		return send_listener(p, notify, err);
	return 0;
}

int ctr_process_exec(const struct ctr_process *p, struct cabin_err **err)
{
	const struct ctr_spec *s = p->spec;
	cleanup_free char *exe = NULL;
	cleanup_close int notify = -1;
	int cwd_done;

	if (setup_terminal(p, err) < 0)
		return -1;
	if (s->rlimits && ctr_rlimits_apply(s->rlimits, err) < 0)
		return -1;
	if (s->ioprio && ctr_ioprio_apply(s->ioprio, err) < 0)
		return -1;
	if (s->personality && ctr_personality_apply(s->personality, err) < 0)
		return -1;
	if (ctr_process_close_fds(p->preserve_fds, p->keep, p->n_keep, err) < 0)
		return -1;
	/* as root first; EACCES may go away with the user's groups, so retry after the switch */
	cwd_done = chdir(s->cwd) == 0;
	if (!cwd_done && errno != EACCES)
		return cabin_err_make(err, errno, "chdir to `%s` (process.cwd)", s->cwd);
	/*
	 * Look args[0] up before the seccomp filter and the identity change: a profile
	 * may refuse stat(2) variants that execve itself never needs (runc looks it up
	 * first too).
	 */
	if (ctr_process_find_exec(s, &exe, err) < 0)
		return -1;
	/*
	 * Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we
	 * still have it, before the identity and capabilities change (as runc does).
	 */
	if (p->seccomp && !s->no_new_privs && load_filter(p, &notify, err) < 0)
		return -1;
	if (ctr_process_set_identity(s, p->caps, err) < 0)
		return -1;
	if (ctr_process_chdir(s->cwd, cwd_done, err) < 0)
		return -1;
	if (s->umask >= 0)
		umask((mode_t)s->umask);
	if (s->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return cabin_err_make(err, errno, "set no_new_privs");
	/*
	 * With no_new_privs the filter is loaded here, before the init's READY, not just
	 * before execve: the startContainer hooks run under it and so does the wait for
	 * `start`, as with runc (a NOTIFY listener must in any case reach the runtime before
	 * it exits).
	 */
	if (p->seccomp && s->no_new_privs && load_filter(p, &notify, err) < 0)
		return -1;
	if (p->before_exec && p->before_exec(p->arg, err) < 0)
		return -1;
	if (p->exec_step)
		log_debug("%s: about to exec `%s`", p->exec_step, exe);
	sigprocmask(SIG_SETMASK, p->sigmask, NULL);
	/* nothing of ours leaks into the container; --preserve-fds ones are the caller's */
	syscall(SYS_close_range, 3 + p->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC);
	execve(exe, s->args, s->env ? s->env : (char *[]){ NULL });
	/* the runtime is gone for the init: this reaches the container's stderr (conmon logs it) */
	return cabin_err_make(err, errno, "exec `%s`", exe);
}
