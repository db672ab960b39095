/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state, kill, delete, pause/resume, ps, update, list: the commands that act on state.json. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ctr/cgroup.h"
#include "ctr/container.h"
#include "ctr/hooks.h"
#include "ctr/state.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

int ctr_state_get(const char *root, const char *id, json_t **out, struct cabin_err **err)
{
	cleanup_state struct ctr_state *st = NULL;

	if (ctr_state_load(root, id, &st, err) < 0)
		return -1;
	*out = ctr_state_to_json(st, ctr_state_status(root, st));
	return 0;
}

/* A pidfd of the init, only if it is still the same process (pid reuse). */
static int open_init(const struct ctr_state *st)
{
	int fd;

	if (st->pid <= 0)
		return -ESRCH;
	fd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	if (fd < 0)
		return -errno;
	if (!ctr_state_alive(st)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

static int owns_pid(const void *st, pid_t pid)
{
	return ctr_state_owns_pid(st, pid);
}

/*
 * The container's cgroup, as its own processes: linux.cgroupsPath may name a cgroup
 * that host processes share, and ps, kill --all, pause and delete must never reach them.
 */
static int open_cgroup(const struct ctr_state *st, struct ctr_cgroup **cg, struct cabin_err **err)
{
	int ret;

	*cg = NULL;
	if (!st->cgroup)
		return 0;
	ret = ctr_cgroup_from_string(st->cgroup, cg, err);
	if (ret >= 0)
		ctr_cgroup_set_owner(*cg, owns_pid, st);
	return ret;
}

/*
 * Is @pid waiting in sigwaitinfo()/sigtimedwait()? While it does, the kernel unblocks the
 * signals it waits for and keeps the real mask apart (real_blocked), which
 * /proc/PID/status does not show: SigBlk reads 0 although such a signal is taken, not
 * discarded. An init that forwards signals this way (tini, dumb-init, cabin's --init)
 * would otherwise look as if it had no handler yet.
 */
static int in_sigtimedwait(pid_t pid)
{
	char path[64], buf[64] = "";
	cleanup_close int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/wchan", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n > 0 && (buf[n] = '\0', strstr(buf, "sigtimedwait")))
		return 1;
	close(steal_fd(&fd));
	/* without kallsyms wchan says 0: the syscall the task is blocked in */
	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10) == SYS_rt_sigtimedwait;
}

/* 1 if @sig has the default disposition in the PID-namespace init @pid, 0 if not, -1 if gone */
static int init_signal_default(pid_t pid, int sig)
{
	char path[64], line[256];
	unsigned long long blk = 0, ign = 0, cgt = 0, bit = 1ULL << (sig - 1);
	long nspid = 0;
	cleanup_fclose FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "NSpid:", 6)) {
			char *last = strrchr(line, '\t');

			nspid = last ? strtol(last + 1, NULL, 10) : 0;
		} else if (!strncmp(line, "SigBlk:", 7)) {
			blk = strtoull(line + 7, NULL, 16);
		} else if (!strncmp(line, "SigIgn:", 7)) {
			ign = strtoull(line + 7, NULL, 16);
		} else if (!strncmp(line, "SigCgt:", 7)) {
			cgt = strtoull(line + 7, NULL, 16);
		}
	}
	if (nspid != 1 || ((blk | ign | cgt) & bit))
		return 0;
	return !in_sigtimedwait(pid);
}

/*
 * The kernel discards a signal sent from outside to the init of a PID namespace while that
 * signal has the default disposition (SIGNAL_UNKILLABLE, sig_task_ignored() in
 * kernel/signal.c): it is not even left pending. A process that `start` has just exec'd
 * has had no chance yet to install its handlers (`sh -c "trap ... TERM; ..."`), so a
 * `kill` sent right after `start` would be lost. Give it a moment to install one: the
 * signal would be discarded anyway, so waiting changes nothing but when it is sent. A
 * shell on a loaded machine (load 9 on 2 cores) took more than 300 ms to reach its trap.
 */
#define KILL_HANDLER_WAIT_MS 1000

static void wait_for_handler(pid_t pid, int sig)
{
	const struct timespec step = { 0, 5 * 1000000L };
	int waited;

	if (sig <= 0 || sig > 64 || sig == SIGKILL || sig == SIGSTOP)
		return;
	for (waited = 0; waited < KILL_HANDLER_WAIT_MS; waited += 5) {
		if (init_signal_default(pid, sig) != 1)
			return;
		nanosleep(&step, NULL);
	}
}

/*
 * Even with its handler installed, a shell that has just started acts on a trapped signal
 * only between commands: one that arrives while it forks `sleep 10 &` runs its trap after
 * that, and `wait` then blocks for the whole sleep (runtime-tools killsig). `start`
 * unlinks exec.fifo, which sets the state directory's mtime: a catchable signal sent
 * within KILL_SETTLE_MS of that waits for the rest of it. runc's slower start-up hides the
 * same race; later signals are not delayed.
 */
#define KILL_SETTLE_MS 100

static void wait_settle(const char *root, const char *id, int sig)
{
	cleanup_free char *dir = ctr_state_dir(root, id);
	struct timespec now, left;
	struct stat sb;
	long long ms;

	if (sig == SIGKILL || sig == SIGSTOP || stat(dir, &sb) < 0 ||
	    clock_gettime(CLOCK_REALTIME, &now) < 0)
		return;
	ms = (now.tv_sec - sb.st_mtim.tv_sec) * 1000LL +
	     (now.tv_nsec - sb.st_mtim.tv_nsec) / 1000000LL;
	if (ms < 0 || ms >= KILL_SETTLE_MS)
		return;
	left.tv_sec = 0;
	left.tv_nsec = (KILL_SETTLE_MS - ms) * 1000000L;
	nanosleep(&left, NULL);
}

int ctr_kill(const char *root, const char *id, int sig, int all, struct cabin_err **err)
{
	cleanup_state struct ctr_state *st = NULL;
	cleanup_close int pidfd = -1;
	enum ctr_status status;

	if (ctr_state_load(root, id, &st, err) < 0)
		return -1;
	status = ctr_state_status(root, st);
	/*
	 * containerd's shim sends `kill --all ID 9` after the init exited, to reap whatever is
	 * left in the cgroup (a container without a PID namespace keeps its children). runc
	 * signals what is left and returns 0; failing here makes every CRI stop and remove
	 * fail. Only a cgroup that cabin created is swept: a pre-existing one may hold
	 * processes of the host.
	 */
	if (all && status == CTR_STOPPED) {
		struct ctr_cgroup *cg = NULL;
		int ret;

		if (open_cgroup(st, &cg, err) < 0)
			return -1;
		ret = cg ? ctr_cgroup_kill_leftovers(cg, sig, err) : 0;
		ctr_cgroup_free(cg);
		return ret < 0 ? -1 : 0;
	}
	if (status == CTR_STOPPED || status == CTR_CREATING)
		return cabin_err_make(err, 0, "container `%s` is not running", id);
	if (all && st->cgroup) {
		struct ctr_cgroup *cg = NULL;
		int ret;

		if (open_cgroup(st, &cg, err) < 0)
			return -1;
		ret = ctr_cgroup_kill_all(cg, sig, err);
		ctr_cgroup_free(cg);
		if (ret < 0)
			return -1;
		return 0;
	}
	pidfd = open_init(st);
	if (pidfd < 0)
		return cabin_err_make(err, -pidfd, "container `%s` is not running", id);
	if (status == CTR_RUNNING)
		wait_settle(root, id, sig);
	wait_for_handler(st->pid, sig);
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		return cabin_err_make(err, errno, "kill `%s` with signal %d", id, sig);
	return 0;
}

/* Wait up to @ms for the process behind @pidfd to exit. */
static int wait_exit(int pidfd, int ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0 ? 0 : -ETIMEDOUT;
}

/*
 * `delete --force` of a container that is already gone succeeds, as with runc: podman
 * deletes with --force after a failed create and would report the failure twice.
 */
static int already_gone(const char *root, const char *id)
{
	cleanup_free char *dir = ctr_state_dir(root, id);

	return access(dir, F_OK) < 0 && errno == ENOENT;
}

int ctr_delete(const char *root, const char *id, int force, struct cabin_err **err)
{
	cleanup_state struct ctr_state *st = NULL;
	cleanup_close int rootfd = -1;
	struct ctr_cgroup *cg = NULL;
	struct cabin_err *e = NULL;
	enum ctr_status status;

	if (ctr_id_validate(id, err) < 0)
		return -1;
	if (force && already_gone(root, id))
		return 0;
	if (ctr_state_load(root, id, &st, err) < 0)
		return -1;
	status = ctr_state_status(root, st);
	/* the runtime-spec: deleting what is not stopped is an error (runc deletes created ones) */
	if ((status == CTR_CREATED || status == CTR_RUNNING || status == CTR_PAUSED) && !force)
		return cabin_err_make(err, 0, "container `%s` is %s: stop it first or use --force",
				      id, ctr_status_name(status));
	if (open_cgroup(st, &cg, &e) < 0) {
		log_warn("delete `%s`: %s", id, cabin_err_msg(e));
		cabin_err_release(&e);
	}
	if (status != CTR_STOPPED && status != CTR_CREATING) {
		cleanup_close int pidfd = open_init(st);

		if (status == CTR_PAUSED && cg)
			ctr_cgroup_freeze(cg, 0, &e);
		cabin_err_release(&e);
		if (pidfd >= 0) {
			syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
			if (wait_exit(pidfd, 10000) < 0)
				log_warn("delete `%s`: init %d did not exit", id, (int)st->pid);
		}
	}
	if (cg && ctr_cgroup_destroy(cg, &e) < 0) {
		ctr_cgroup_free(cg);
		return cabin_err_wrap(&e, "delete `%s`", id), *err = e, -1;
	}
	ctr_cgroup_free(cg);
	if (st->poststop && json_array_size(json_object_get(st->poststop, "poststop"))) {
		cleanup_json json_t *state = ctr_state_to_json(st, CTR_STOPPED);

		ctr_hooks_run_warn(json_object_get(st->poststop, "poststop"), "poststop", state);
	}
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cabin_err_make(err, errno, "open `%s`", root);
	if (ctr_state_dir_remove(rootfd, id, err) < 0)
		return cabin_err_wrap(err, "delete `%s`", id);
	return 0;
}

static int with_running_cgroup(const char *root, const char *id, struct ctr_state **stp,
			       struct ctr_cgroup **cg, struct cabin_err **err)
{
	if (ctr_state_load(root, id, stp, err) < 0)
		return -1;
	if (!ctr_state_alive(*stp))
		return cabin_err_make(err, 0, "container `%s` is not running", id);
	if (!(*stp)->cgroup)
		return cabin_err_make(err, 0, "container `%s` has no cgroup", id);
	return open_cgroup(*stp, cg, err);
}

int ctr_pause(const char *root, const char *id, int pause, struct cabin_err **err)
{
	cleanup_state struct ctr_state *st = NULL;
	struct ctr_cgroup *cg = NULL;
	enum ctr_status status;
	int ret;

	if (with_running_cgroup(root, id, &st, &cg, err) < 0)
		return -1;
	status = ctr_state_status(root, st);
	if (pause && status != CTR_RUNNING && status != CTR_CREATED) {
		ctr_cgroup_free(cg);
		return cabin_err_make(err, 0, "container `%s` is %s, not running", id,
				      ctr_status_name(status));
	}
	if (!pause && status != CTR_PAUSED) {
		ctr_cgroup_free(cg);
		return cabin_err_make(err, 0, "container `%s` is %s, not paused", id,
				      ctr_status_name(status));
	}
	/* the freezer acts on the whole cgroup: never on processes that are not ours */
	if (pause && ctr_cgroup_foreign_pid(cg)) {
		pid_t other = ctr_cgroup_foreign_pid(cg);

		ctr_cgroup_free(cg);
		return cabin_err_make(err, 0,
				      "container `%s`: its cgroup is shared with pid %d, which is "
				      "not the container's: refusing to freeze it",
				      id, (int)other);
	}
	ret = ctr_cgroup_freeze(cg, pause, err);
	ctr_cgroup_free(cg);
	return ret < 0 ? -1 : 0;
}

int ctr_pids(const char *root, const char *id, pid_t **pids, size_t *n, struct cabin_err **err)
{
	cleanup_state struct ctr_state *st = NULL;
	struct ctr_cgroup *cg = NULL;
	int ret;

	if (ctr_state_load(root, id, &st, err) < 0)
		return -1;
	if (!ctr_state_alive(st)) {
		*pids = NULL;
		*n = 0;
		return 0;
	}
	if (!st->cgroup) {
		*pids = xmalloc(sizeof(pid_t));
		(*pids)[0] = st->pid;
		*n = 1;
		return 0;
	}
	if (open_cgroup(st, &cg, err) < 0)
		return -1;
	ret = ctr_cgroup_pids(cg, pids, n, err);
	ctr_cgroup_free(cg);
	return ret < 0 ? -1 : 0;
}

int ctr_update(const char *root, const char *id, json_t *resources, struct cabin_err **err)
{
	cleanup_state struct ctr_state *st = NULL;
	struct ctr_cgroup *cg = NULL;
	int ret;

	json_t *mem = json_object_get(resources, "memory");
	uint64_t cur;

	if (with_running_cgroup(root, id, &st, &cg, err) < 0)
		return -1;
	/*
	 * runc update --memory-swap alone keeps the current memory limit: the swap value
	 * (memory+swap) is checked against it, so take it from the cgroup.
	 */
	if (json_is_object(mem) && json_object_get(mem, "swap") && !json_object_get(mem, "limit") &&
	    ctr_cgroup_memory_limit(cg, &cur) == 0 && cur < (uint64_t)INT64_MAX / 2)
		json_object_set_new(mem, "limit", json_integer((json_int_t)cur));
	/* and --memory -1 alone lifts the memory+swap limit too, as runc does */
	if (json_is_object(mem) && json_integer_value(json_object_get(mem, "limit")) == -1 &&
	    json_is_integer(json_object_get(mem, "limit")) && !json_object_get(mem, "swap"))
		json_object_set_new(mem, "swap", json_integer(-1));
	if (ctr_cgroup_validate(resources, err) < 0) {
		ctr_cgroup_free(cg);
		return -1;
	}
	ret = ctr_cgroup_update(cg, resources, err);
	ctr_cgroup_free(cg);
	return ret < 0 ? -1 : 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int ctr_list(const char *root, json_t **out, struct cabin_err **err)
{
	cleanup_closedir DIR *d = opendir(root);
	cleanup_json json_t *arr = json_array();
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	if (!d) {
		if (errno == ENOENT) {
			*out = steal_ptr(&arr);
			return 0;
		}
		return cabin_err_make(err, errno, "open `%s`", root);
	}
	while ((de = readdir(d))) {
		char sj[300], ff[300];

		if (de->d_name[0] == '.')
			continue;
		/*
		 * Only container directories: they hold state.json, or exec.fifo while being
		 * created. ROOT/vm (microVM control sockets) and other foreign entries are not
		 * containers and are not listed.
		 */
		snprintf(sj, sizeof(sj), "%s/state.json", de->d_name);
		snprintf(ff, sizeof(ff), "%s/exec.fifo", de->d_name);
		if (faccessat(dirfd(d), sj, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
		    faccessat(dirfd(d), ff, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		struct ctr_state *st = NULL;
		struct cabin_err *e = NULL;

		if (ctr_state_load(root, names[i], &st, &e) == 0) {
			json_array_append_new(arr,
					      ctr_state_to_json(st, ctr_state_status(root, st)));
			ctr_state_free(st);
		}
		cabin_err_release(&e);
		free(names[i]);
	}
	free(names);
	*out = steal_ptr(&arr);
	return 0;
}

int ctr_stats(const char *root, const char *id, json_t **data, uint64_t *oom,
	      struct cabin_err **err)
{
	cleanup_state struct ctr_state *st = NULL;
	struct ctr_cgroup *cg = NULL;
	enum ctr_status status;

	if (ctr_state_load(root, id, &st, err) < 0)
		return -1;
	status = ctr_state_status(root, st);
	if (status == CTR_STOPPED || status == CTR_CREATING)
		return cabin_err_make(err, 0, "container `%s` is not running", id);
	if (open_cgroup(st, &cg, err) < 0)
		return -1;
	if (!cg) {
		*data = json_object();
		if (oom)
			*oom = 0;
		return 0;
	}
	*data = ctr_cgroup_stats(cg);
	if (oom && ctr_cgroup_oom_count(cg, oom) < 0)
		*oom = 0;
	ctr_cgroup_free(cg);
	return 0;
}
