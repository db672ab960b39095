/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The last steps of a container process before execve, shared by the container's
 * init (container.c) and processes started by `exec` (exec.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr/caps.h"
#include "ctr/process.h"
#include "ctr/spec.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/xalloc.h"

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
