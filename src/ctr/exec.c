/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * exec: a new process in a running container. The runtime forks a child that is moved
 * into the container's cgroup, joins every namespace of the init at once with
 * setns(pidfd, flags) (Linux 5.8: atomic, and in the right order for user namespaces),
 * then forks the process itself with CLONE_PARENT so that it is our child and lands in
 * the container's pid namespace. The sync socket is close-on-exec: EOF without an ERROR
 * message means execve succeeded.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr/caps.h"
#include "ctr/cgroup.h"
#include "ctr/json.h"
#include "ctr/container.h"
#include "ctr/limits.h"
#include "ctr/process.h"
#include "ctr/seccomp.h"
#include "ctr/spec.h"
#include "ctr/state.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"

static const int all_ns[] = { CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,    CLONE_NEWNET,
			      CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP, CLONE_NEWTIME };

/* The namespaces where the init differs from us. */
static int ns_to_join(pid_t pid)
{
	int flags = 0;

	for (size_t i = 0; i < ARRAY_SIZE(all_ns); i++) {
		char a[64], b[64];
		struct stat sa, sb;
		const char *name = ctr_ns_proc_name(all_ns[i]);

		snprintf(a, sizeof(a), "/proc/self/ns/%s", name);
		snprintf(b, sizeof(b), "/proc/%d/ns/%s", (int)pid, name);
		if (stat(b, &sb) < 0)
			continue;
		if (stat(a, &sa) < 0 || sa.st_ino != sb.st_ino || sa.st_dev != sb.st_dev)
			flags |= all_ns[i];
	}
	return flags;
}

struct exec_ctx {
	struct ctr_spec proc; /* only the process fields are used */
	struct ctr_caps caps;
	struct ctr_seccomp *seccomp;
	int sync[2];
	int pidfd;
	int rootfd; /* the init's root (/proc/PID/root), entered after setns */
	int nsflags;
	unsigned preserve_fds;
	sigset_t oldmask;
};

static int exec_child(struct exec_ctx *x, struct cabin_err **err)
{
	const struct ctr_spec *s = &x->proc;
	int sock = x->sync[1], type;
	/* kept through the fd sweep (execve closes both): the sync socket, the log */
	int keep[] = { sock, log_keep_fd() };
	struct ctr_process p = {
		.spec = s,
		.caps = &x->caps,
		.seccomp = x->seccomp,
		.sync = sock,
		.keep = keep,
		.n_keep = ARRAY_SIZE(keep),
		.preserve_fds = x->preserve_fds,
		.sigmask = &x->oldmask,
		.exec_step = "setns_init",
	};
	pid_t pid;

	close(x->sync[0]);
	/* step names as in runc's debug log, see child_init() in container.c */
	log_debug("child process in init(): exec, pid %d", (int)getpid());
	/*
	 * This process and its child run the runtime's binary inside the container's
	 * namespaces until execve: keep the container's processes out of their /proc
	 * entries (exe, fd, mem), as for the init.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return cabin_err_make(err, errno, "prctl(PR_SET_DUMPABLE)");
	if (ctr_sync_recv(sock, &type, NULL, NULL, 0, NULL) <= 0 || type != CTR_SYNC_GO)
		_exit(1);
	if (x->nsflags && setns(x->pidfd, x->nsflags) < 0)
		return cabin_err_make(err, errno, "join the container's namespaces");
	/*
	 * Enter the init's root as well as its namespaces. Joining them is not enough:
	 *  - a container without a mount namespace of its own is only chroot(2)ed, and
	 *    joining its namespaces leaves us in the host's root;
	 *  - setns(CLONE_NEWNS) sets the root to the top of the namespace's mount tree, which
	 *    is the container's root only when the runtime's own root was the top of its
	 *    namespace; a runtime in a chroot pivots the container below the host's /.
	 * In either case the process would see and write the host's files.
	 */
	if (x->rootfd >= 0 && (fchdir(x->rootfd) < 0 || chroot(".") < 0))
		return cabin_err_make(err, errno, "enter the container's root");
	pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
	if (pid < 0)
		return cabin_err_make(err, errno, "fork");
	if (pid > 0) {
		ctr_sync_send(sock, CTR_SYNC_PID, pid, NULL, -1);
		_exit(0);
	}
	if ((x->nsflags & CLONE_NEWUSER) && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return cabin_err_make(err, errno, "become root in the user namespace");
	return ctr_process_exec(&p, err);
}

/*
 * Pass an exec'd process's seccomp notify fd to linux.seccomp.listenerPath with the
 * container's state and the process's pid, then let the process go on.
 */
static int exec_send_listener(struct ctr_seccomp *seccomp, const struct ctr_state *st,
			      enum ctr_status status, pid_t pid, int *fd, int sync,
			      struct cabin_err **err)
{
	cleanup_json json_t *state = ctr_state_to_json(st, status);
	cleanup_close int lfd = steal_fd(fd);

	if (ctr_seccomp_send_listener(seccomp, lfd, state, pid, err) < 0)
		return -1;
	ctr_sync_send(sync, CTR_SYNC_SECCOMP_DONE, 0, NULL, -1);
	return 0;
}

int ctr_exec(const struct ctr_exec_opts *o, struct cabin_err **err)
{
	cleanup_state struct ctr_state *st = NULL;
	cleanup_close int console = -1, master = -1, sfd = -1, pending_seccomp = -1;
	struct ctr_cgroup *cg = NULL;
	struct exec_ctx x;
	enum ctr_status status;
	pid_t child, pid = 0;
	sigset_t block;
	int ret = -1, wst = 0;

	memset(&x, 0, sizeof(x));
	x.sync[0] = x.sync[1] = x.pidfd = x.rootfd = -1;
	x.proc.umask = -1;
	if (ctr_state_load(o->root, o->id, &st, err) < 0)
		return -1;
	status = ctr_state_status(o->root, st);
	/*
	 * A frozen process never gets to run: the exec would hang until someone resumes the
	 * container, so it is refused unless the caller says it will resume it.
	 */
	if (status == CTR_PAUSED && !o->ignore_paused)
		return cabin_err_make(err, 0, "container `%s`: cannot exec in a paused container",
				      o->id);
	if (status != CTR_RUNNING && status != CTR_CREATED &&
	    !(status == CTR_PAUSED && o->ignore_paused))
		return cabin_err_make(err, 0, "container `%s` is %s, not running", o->id,
				      ctr_status_name(status));
	if (ctr_spec_parse_process(o->process, "process", o->process_src ?: "", &x.proc, err) < 0)
		goto out;
	/* a process object without capabilities gets the container's, as with runc */
	if (!x.proc.caps && st->process)
		x.proc.caps = json_object_get(st->process, "capabilities");
	if (ctr_caps_parse(x.proc.caps, &x.caps, err) < 0)
		goto out;
	x.caps.inheritable |= x.caps.ambient; /* as in create: the kernel needs both */
	if (x.proc.terminal && !o->console_socket && o->detach) {
		cabin_err_make(err, 0, "`process.terminal` with --detach needs --console-socket");
		goto out;
	}
	/* The container's seccomp profile applies to exec'd processes too. */
	if (st->config) {
		json_error_t jerr;
		cleanup_json json_t *cfg = ctr_json_load_file(st->config, 0, &jerr);
		json_t *sc = json_object_get(json_object_get(cfg, "linux"), "seccomp");

		/* without it the process would run without the container's seccomp filter */
		if (!cfg) {
			cabin_err_make(err, errno, "container's config `%s`: %s", st->config,
				       jerr.text);
			goto out;
		}

		if (sc && ctr_seccomp_prepare(sc, &x.seccomp, err) < 0)
			goto out;
	}
	x.pidfd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	if (x.pidfd < 0 || !ctr_state_alive(st)) {
		cabin_err_make(err, 0, "container `%s` is not running", o->id);
		goto out;
	}
	x.nsflags = ns_to_join(st->pid);
	{
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/root", (int)st->pid);
		x.rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (x.rootfd < 0 || !ctr_state_alive(st)) {
			cabin_err_make(err, errno, "open the root of container `%s`", o->id);
			goto out;
		}
	}
	x.preserve_fds = o->preserve_fds;
	if (o->console_socket) {
		console = ctr_console_connect(o->console_socket, err);
		if (console < 0)
			goto out;
	}
	if (st->cgroup && ctr_cgroup_from_string(st->cgroup, &cg, err) < 0)
		goto out;
	if (o->n_cgroups && !cg) {
		cabin_err_make(err, 0, "--cgroup: container `%s` has no cgroup", o->id);
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, x.sync) < 0) {
		cabin_err_make(err, errno, "socketpair");
		goto out;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGWINCH);
	sigprocmask(SIG_BLOCK, &block, &x.oldmask);
	log_debug("nsexec container setup: join the namespaces of `%s` (pid %d, flags %#x)", o->id,
		  (int)st->pid, (unsigned)x.nsflags);
	child = fork();
	if (child < 0) {
		cabin_err_make(err, errno, "fork");
		goto out_mask;
	}
	if (child == 0) {
		struct cabin_err *e = NULL;

		if (exec_child(&x, &e) < 0)
			ctr_sync_send(x.sync[1], CTR_SYNC_ERROR, 0, cabin_err_msg(e), -1);
		_exit(127);
	}
	close(x.sync[1]);
	x.sync[1] = -1;
	if (cg && ctr_cgroup_enter_sub(cg, child, o->cgroups, o->n_cgroups, err) < 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		goto out_mask;
	}
	ctr_sync_send(x.sync[0], CTR_SYNC_GO, 0, NULL, -1);
	for (;;) {
		char text[1016];
		int type, value, fd, r;

		r = ctr_sync_recv(x.sync[0], &type, &value, text, sizeof(text), &fd);
		if (r <= 0)
			break;
		if (type == CTR_SYNC_PID) {
			pid = value;
			waitpid(child, NULL, 0);
			child = 0;
			if (pending_seccomp >= 0 &&
			    exec_send_listener(x.seccomp, st, status, pid, &pending_seccomp,
					       x.sync[0], err) < 0)
				goto out_kill;
		} else if (type == CTR_SYNC_TERMINAL && fd >= 0) {
			if (console >= 0) {
				r = ctr_console_send(console, fd, err);
				close(fd);
				if (r < 0)
					goto out_kill;
			} else {
				master = fd;
			}
		} else if (type == CTR_SYNC_SECCOMP) {
			if (fd < 0) {
				cabin_err_make(err, EPROTO, "no seccomp fd from the exec process");
				goto out_kill;
			}
			/*
			 * The agent is told the process's pid: the process may get here before
			 * its parent's CTR_SYNC_PID does, so the fd then waits for the pid.
			 */
			if (pending_seccomp >= 0)
				close(pending_seccomp);
			pending_seccomp = fd;
			if (pid && exec_send_listener(x.seccomp, st, status, pid, &pending_seccomp,
						      x.sync[0], err) < 0)
				goto out_kill;
		} else if (type == CTR_SYNC_ERROR) {
			cabin_err_make(err, 0, "%s", text);
			goto out_kill;
		}
	}
	if (child > 0)
		waitpid(child, NULL, 0);
	if (!pid) {
		cabin_err_make(err, 0, "exec process exited during setup");
		goto out_mask;
	}
	if (o->pid_file && ctr_write_pid_file(o->pid_file, pid, err) < 0)
		goto out_kill;
	if (o->detach) {
		ret = 0;
		goto out_mask;
	}
	if (master >= 0) {
		sfd = signalfd(-1, &block, SFD_CLOEXEC);
		ctr_terminal_proxy(master, sfd, pid, &wst);
	} else {
		for (;;) {
			siginfo_t si;
			int sig = sigwaitinfo(&block, &si);
			pid_t p = 0;

			if (sig < 0)
				continue;
			if (sig != SIGCHLD) {
				kill(pid, sig);
				continue;
			}
			while ((p = waitpid(-1, &wst, WNOHANG)) > 0 && p != pid)
				;
			if (p == pid)
				break;
		}
	}
	ret = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
	goto out_mask;
out_kill:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
out_mask:
	sigprocmask(SIG_SETMASK, &x.oldmask, NULL);
out:
	if (ret < 0)
		cabin_err_wrap(err, "exec in `%s`", o->id);
	ctr_cgroup_free(cg);
	ctr_seccomp_free(x.seccomp);
	free(x.proc.args);
	free(x.proc.env);
	free(x.proc.add_gids);
	for (int i = 0; i < 2; i++)
		if (x.sync[i] >= 0)
			close(x.sync[i]);
	if (x.pidfd >= 0)
		close(x.pidfd);
	if (x.rootfd >= 0)
		close(x.rootfd);
	return ret;
}
