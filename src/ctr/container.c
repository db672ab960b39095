/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * create, start and run.
 *
 * The runtime clones one child with the new namespaces (clone(2) with CLONE_NEW*
 * flags). When namespaces are joined by path, or a time namespace is requested, the
 * child first setns(2)s, unshares the rest and forks the init with CLONE_PARENT so it is
 * still our child. Runtime and init talk over a SOCK_SEQPACKET socketpair:
 *
 *   init                                runtime
 *                                       (a thread: the network namespace, see netns_start())
 *                                       state.json naming the cgroup, the cgroup (its
 *                                       cgroup2 directory only with a late join), clone
 *   enters the network namespace, joins its cgroup (v1 `tasks`), or with a late join:
 *   first mounts                        v1 directories and limits (runtime_join())
 *                <--------------------- JOIN (their `tasks` files)  (late join)
 *   joins them
 *   [MAP_REQ pid] --------------------> write uid_map/gid_map       (joined-ns path)
 *   [PID init] -----------------------> (joined-ns path)
 *                <--------------------- GO (host pid of the init)
 *   mounts, devices                     config.json copy, oomScoreAdj, state.json + pid
 *   HOOKS_REQ -----------------------> prestart + createRuntime hooks
 *                <--------------------- HOOKS_DONE
 *   createContainer hooks, pivot_root, masked/readonly paths, terminal (TERMINAL + fd),
 *   identity and capabilities
 *   READY ---------------------------> state.json, pid file
 *                <--------------------- ACK
 *   blocks reading exec.fifo until `start` writes to it, startContainer hooks, seccomp,
 *   execve.
 *
 * Any failure in the init is sent as ERROR with one line of text and the runtime
 * removes everything. The init has PR_SET_PDEATHSIG(SIGKILL) until ACK, so a runtime
 * killed in the middle of create takes its half-built container with it; `delete`
 * then finds a state directory without a live init and removes what is left.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctr/caps.h"
#include "ctr/cgroup.h"
#include "ctr/cloned-binary.h"
#include "ctr/container.h"
#include "ctr/hooks.h"
#include "ctr/limits.h"
#include "ctr/process.h"
#include "ctr/mount.h"
#include "ctr/seccomp.h"
#include "ctr/spec.h"
#include "ctr/state.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fd-pass.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"

struct sync_msg {
	int type;
	int value;
	char text[1016];
};

static int sync_send_fds(int sock, int type, int value, const char *text, const int *fds,
			 size_t nfds)
{
	struct sync_msg m = { .type = type, .value = value };
	ssize_t n;

	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	n = fd_pass_send(sock, &m, sizeof(m), nfds ? fds : NULL, nfds);
	return n < 0 ? (int)n : 0;
}

int ctr_sync_send(int sock, int type, int value, const char *text, int fd)
{
	return sync_send_fds(sock, type, value, text, &fd, fd >= 0);
}

/*
 * One message and at most @maxfds fds into @fds (*@nfds of them, the caller's to close);
 * more fds refuse the message (fd_pass_recv()). Return: 1, 0 on EOF, or -errno.
 */
static int sync_recv_fds(int sock, int *type, int *value, char *text, size_t textlen, int *fds,
			 size_t maxfds, size_t *nfds)
{
	struct sync_msg m;
	ssize_t n;

	n = fd_pass_recv(sock, &m, sizeof(m), fds, maxfds, nfds);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return 0;
	if ((size_t)n < offsetof(struct sync_msg, text)) {
		for (size_t i = 0; i < *nfds; i++)
			close(steal_fd(&fds[i]));
		*nfds = 0;
		return -EPROTO;
	}
	m.text[sizeof(m.text) - 1] = '\0';
	*type = m.type;
	if (value)
		*value = m.value;
	if (text && textlen)
		snprintf(text, textlen, "%s", m.text);
	return 1;
}

int ctr_sync_recv(int sock, int *type, int *value, char *text, size_t textlen, int *fd)
{
	cleanup_close int f = -1;
	size_t nf = 0;
	int ret;

	if (fd)
		*fd = -1;
	/* At most one fd per message: a second one, or a stray one, refuses the message. */
	ret = sync_recv_fds(sock, type, value, text, textlen, &f, 1, &nf);
	/* A caller that asks for no fd gets none: the cleanup closes one that came anyway. */
	if (ret > 0 && fd)
		*fd = steal_fd(&f);
	return ret;
}

int ctr_write_pid_file(const char *path, pid_t pid, struct cabin_err **err)
{
	cleanup_free char *dir = xstrdup(path);
	cleanup_close int dfd = -1;
	char *slash = strrchr(dir, '/'), buf[32];
	const char *base = path;

	if (slash) {
		*slash = '\0';
		base = slash + 1;
		dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dfd < 0)
		return cabin_err_make(err, errno, "pid file `%s`", path);
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (fs_write_file_atomic(dfd, base, buf, strlen(buf), 0644, 0, err) < 0)
		return cabin_err_wrap(err, "pid file `%s`", path);
	return 0;
}

int ctr_write_idmap(pid_t pid, const char *file, json_t *maps, struct cabin_err **err)
{
	char path[64], buf[4096];
	size_t len = 0, i;
	json_t *m;
	cleanup_close int fd = -1;
	int ret;

	json_array_foreach(maps, i, m)
	{
		int n = snprintf(buf + len, sizeof(buf) - len, "%lld %lld %lld\n",
				 (long long)json_integer_value(json_object_get(m, "containerID")),
				 (long long)json_integer_value(json_object_get(m, "hostID")),
				 (long long)json_integer_value(json_object_get(m, "size")));

		if (n < 0 || (size_t)n >= sizeof(buf) - len)
			return cabin_err_make(err, E2BIG, "%s: too many mappings", file);
		len += (size_t)n;
	}
	/* an unprivileged caller may write gid_map only once setgroups(2) is denied */
	if (!strcmp(file, "gid_map") && geteuid() != 0) {
		snprintf(path, sizeof(path), "/proc/%d/setgroups", (int)pid);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0 && fs_write_all(fd, "deny", 4) < 0)
			return cabin_err_make(err, errno, "write `%s`", path);
		if (fd >= 0)
			close(steal_fd(&fd));
	}
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cabin_err_make(err, errno, "open `%s`", path);
	ret = fs_write_all(fd, buf, len);
	if (ret < 0)
		return cabin_err_make(err, -ret, "write `%s` (linux.%s)", path,
				      !strcmp(file, "uid_map") ? "uidMappings" : "gidMappings");
	return 0;
}

/*
 * The current UTC time as RFC 3339. Not gmtime_r(3) and strftime(3): the first call of
 * either reads and parses /etc/localtime (tzset) for a time that has no zone; the civil
 * date is computed from the day count instead (days_from_civil inverted, proleptic
 * Gregorian, valid for any time_t this century needs).
 */
static char *now_rfc3339(void)
{
	struct timespec ts;
	long long days, secs, era, doe, yoe, doy, mp, y, m, d;

	clock_gettime(CLOCK_REALTIME, &ts);
	days = ts.tv_sec / 86400;
	secs = ts.tv_sec % 86400;
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y = yoe + era * 400 + (m <= 2);
	return xasprintf("%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%09ldZ", y, m, d, secs / 3600,
			 secs / 60 % 60, secs % 60, ts.tv_nsec);
}

struct create_ctx {
	const struct ctr_create_opts *o;
	struct ctr_spec *spec;
	struct ctr_caps caps;
	struct ctr_seccomp *seccomp;
	char *bundle;
	char *dir;
	int dirfd;
	int pidfd; /* of the cloned child (Linux 5.2), or -1 */
	int sync[2];
	int fifo;
	int console; /* connected --console-socket */
	int master;  /* pty master kept by `run` without a console socket */
	pid_t child, init;
	struct ctr_cgroup *cg;
	struct ctr_cgroup_join join; /* what the init joins its cgroup with by itself */
	int self_join;		     /* the init joins the v1 hierarchies itself */
	int late_join;		     /* ... once the runtime has made them after the clone (JOIN) */
	pthread_t netns_thread;	     /* makes the network namespace meanwhile (netns_start()) */
	int netns_started;
	int netns_err;	/* its errno */
	int netns;	/* the container's new network namespace, or -1 */
	int netns_lo;	/* ... whose `lo` the thread brought up */
	int netns_done; /* the thread has ended or is about to (atomic) */
	size_t v1_pos;	/* v1 hierarchies before it have their directories (late join) */
	json_t *res;	/* linux.resources as the cgroup enforces them */
	int v2_placed;	/* clone3 created the init in its cgroup2 directory */
	struct ctr_state st;
	int userns;
	int hostpid;   /* init side: the init's pid on the host (sent with GO) */
	int go;	       /* init side: GO has been read */
	int run_fg;    /* `run` in the foreground */
	int released;  /* `run` needs no `start`: no exec.fifo, no ACK */
	int unread;    /* `run`: READY (or ERROR) left in the socket until the init is reaped */
	int placed;    /* init side: the runtime has put us in our cgroups */
	int cgns_done; /* init side: the new cgroup namespace exists */
	sigset_t oldmask;
	struct ctr_state_text st_text; /* state.json but the init's pid (runtime_place()) */
};

/* ---------------------------------------------------------------- the init side */

static int child_wait(int sock, int want, int *value, struct cabin_err **err)
{
	int type, ret;

	ret = ctr_sync_recv(sock, &type, value, NULL, 0, NULL);
	if (ret <= 0)
		return cabin_err_make(err, ret ? -ret : EPIPE, "runtime went away");
	if (type != want)
		return cabin_err_make(err, EPROTO, "unexpected message %d from the runtime", type);
	return 0;
}

/*
 * A late join (see make_cgroup()): the runtime made the v1 directories after the clone and
 * sends their `tasks` files with JOIN; the init moves itself as ctr_cgroup_join_self() does.
 * Nothing else arrives with fds here, and no more than one per hierarchy.
 */
static int child_join(struct create_ctx *c, struct cabin_err **err)
{
	struct ctr_cgroup_join j = { .v2dir = -1 };
	size_t nfds = 0;
	int type, ret;

	ret = sync_recv_fds(c->sync[1], &type, NULL, NULL, 0, j.tasks, CTR_CGROUP_JOIN_MAX, &nfds);
	if (ret <= 0)
		return cabin_err_make(err, ret ? -ret : EPIPE, "runtime went away");
	j.n = nfds;
	if (type != CTR_SYNC_JOIN) {
		ctr_cgroup_join_close(&j);
		return cabin_err_make(err, EPROTO, "unexpected message %d from the runtime", type);
	}
	c->placed = 1;
	return ctr_cgroup_join_self(&j, err);
}

/*
 * GO, which the runtime sends right after clone, is read when its contents are first
 * needed (the id maps, the init's host pid for hooks) or before the next message: the init
 * builds its filesystem meanwhile instead of waiting to be woken up for it, which costs
 * most on a loaded machine. Messages keep their order either way.
 */
static int child_go(struct create_ctx *c, struct cabin_err **err)
{
	if (c->go)
		return 0;
	/* JOIN comes before GO */
	if (c->late_join && !c->placed && child_join(c, err) < 0)
		return -1;
	if (child_wait(c->sync[1], CTR_SYNC_GO, &c->hostpid, err) < 0)
		return -1;
	c->go = 1;
	return 0;
}

static json_t *child_state_json(struct create_ctx *c, pid_t hostpid, const char *status)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:i,s:s}", "ociVersion", "1.2.0", "id", c->o->id,
			      "status", status, "pid", (int)hostpid, "bundle", c->bundle);

	json_object_set_new(j, "annotations",
			    c->spec->annotations ? json_deep_copy(c->spec->annotations)
						 : json_object());
	return j;
}

/*
 * A new cgroup namespace is rooted at the cgroup of the process that creates it, so the
 * init creates it only once the runtime has moved it into the container's cgroup;
 * clone(2) and the first unshare(2) leave it out. Otherwise /proc/self/cgroup inside
 * reads "/../<container>" and a cgroup mount shows the runtime's cgroup.
 */
static int enter_cgroup_ns(const struct ctr_spec *s, struct cabin_err **err)
{
	if ((s->ns_new & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
		return cabin_err_make(err, errno, "unshare the cgroup namespace");
	return 0;
}

/*
 * The runtime places the init in its cgroups while the init builds its filesystem: the
 * first write to a cgroup.procs waits for an RCU grace period, and the mounts before the
 * first cgroup mount proceed meanwhile. A cgroup mount (it binds the container's own
 * cgroup directories, read from /proc/self/cgroup), the cgroup namespace and anything
 * of the container itself wait for the placement here; it is asked for once.
 */
static int child_placed(struct create_ctx *c, struct cabin_err **err)
{
	if (!c->placed && c->late_join) {
		if (child_join(c, err) < 0)
			return -1;
	} else if (!c->placed) {
		if (child_go(c, err) < 0)
			return -1;
		if (ctr_sync_send(c->sync[1], CTR_SYNC_PLACED_REQ, 0, NULL, -1) < 0)
			return cabin_err_make(err, EPIPE, "runtime went away");
		if (child_wait(c->sync[1], CTR_SYNC_PLACED, NULL, err) < 0)
			return -1;
		c->placed = 1;
	}
	if (!c->cgns_done) {
		if (enter_cgroup_ns(c->spec, err) < 0)
			return -1;
		c->cgns_done = 1;
	}
	return 0;
}

static int child_placed_cb(void *arg, struct cabin_err **err)
{
	return child_placed(arg, err);
}

/* Namespaces joined by path, or a time namespace: setns, unshare, fork the init. */
static int child_enter_ns(struct create_ctx *c, struct cabin_err **err)
{
	const struct ctr_spec *s = c->spec;
	int sock = c->sync[1];
	pid_t pid;

	for (size_t i = 0; i < s->n_joins; i++) {
		cleanup_close int fd = -1;

		if (s->joins[i].flag != CLONE_NEWUSER)
			continue;
		fd = open(s->joins[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWUSER) < 0)
			return cabin_err_make(err, errno, "join user namespace `%s`",
					      s->joins[i].path);
	}
	if (s->ns_new & CLONE_NEWUSER) {
		if (unshare(CLONE_NEWUSER) < 0)
			return cabin_err_make(err, errno, "unshare the user namespace");
		if (ctr_sync_send(sock, CTR_SYNC_MAP_REQ, getpid(), NULL, -1) < 0 ||
		    child_wait(sock, CTR_SYNC_MAP_DONE, NULL, err) < 0)
			return -1;
	}
	if (c->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return cabin_err_make(err, errno, "become root in the user namespace");
	for (size_t i = 0; i < s->n_joins; i++) {
		cleanup_close int fd = -1;

		if (s->joins[i].flag == CLONE_NEWUSER)
			continue;
		fd = open(s->joins[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, s->joins[i].flag) < 0)
			return cabin_err_make(err, errno, "join %s namespace `%s`",
					      ctr_ns_proc_name(s->joins[i].flag), s->joins[i].path);
	}
	if ((s->ns_new & ~(CLONE_NEWUSER | CLONE_NEWCGROUP)) &&
	    unshare(s->ns_new & ~(CLONE_NEWUSER | CLONE_NEWCGROUP)) < 0)
		return cabin_err_make(err, errno, "unshare namespaces");
	/* offsets of a new time namespace are set before its first process exists */
	if (s->time_offsets) {
		char buf[128];
		int n = snprintf(buf, sizeof(buf), "monotonic %lld %ld\nboottime %lld %ld\n",
				 s->time_offsets[0], (long)s->time_offsets[1], s->time_offsets[2],
				 (long)s->time_offsets[3]);
		cleanup_close int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);

		if (fd < 0 || fs_write_all(fd, buf, (size_t)n) < 0)
			return cabin_err_make(err, errno, "write linux.timeOffsets");
	}
	pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, NULL, NULL, 0);
	if (pid < 0)
		return cabin_err_make(err, errno, "fork the container init");
	if (pid > 0) {
		ctr_sync_send(sock, CTR_SYNC_PID, pid, NULL, -1);
		_exit(0);
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	return 0;
}

/*
 * A new network namespace starts with `lo` down: 127.0.0.1 would be unreachable for
 * the container (podman --network none, ctr run without CNI). runc brings it up too.
 */
static int loopback_up(struct cabin_err **err)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	cleanup_close int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (sk < 0)
		return cabin_err_make(err, errno, "socket for `lo`");
	if (ioctl(sk, SIOCGIFFLAGS, &ifr) < 0)
		return cabin_err_make(err, errno, "get the flags of `lo`");
	if (ifr.ifr_flags & IFF_UP)
		return 0;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(sk, SIOCSIFFLAGS, &ifr) < 0)
		return cabin_err_make(err, errno, "bring `lo` up");
	return 0;
}

/*
 * The init's last step before execve, under its seccomp filter and identity: tell the
 * runtime it is created, wait for `start`, run the startContainer hooks.
 */
static int child_ready(void *arg, struct cabin_err **err)
{
	struct create_ctx *c = arg;
	const struct ctr_spec *s = c->spec;
	int sock = c->sync[1];
	char b;

	/*
	 * Disarm PDEATHSIG before READY: `create` exits right after ACK. Should the
	 * runtime die in between, the ACK read sees EOF and the init ends itself.
	 */
	prctl(PR_SET_PDEATHSIG, 0);
	log_debug("init: closing the pipe to signal completion (ready, waiting for start)");
	if (ctr_sync_send(sock, CTR_SYNC_READY, 0, NULL, -1) < 0)
		_exit(1);
	/*
	 * Released by `run` before the clone (see do_create): nothing to wait for, and the
	 * runtime reads no further than READY, so a later failure must go to the
	 * container's stderr, as after `start`: our end of the socket goes now.
	 */
	if (c->released) {
		close(sock);
		c->sync[1] = -1;
	} else if (child_wait(sock, CTR_SYNC_ACK, NULL, err) < 0) {
		_exit(1);
	}
	/*
	 * `create` has returned: a caller that reads its stderr to EOF must not wait for
	 * `start` because the init still holds a copy of it for --debug.
	 */
	log_release_stderr();
	/* Block until `start` writes one byte. The runtime's socket end is gone now. */
	if (!c->released && TEMP_FAILURE_RETRY(read(c->fifo, &b, 1)) != 1)
		_exit(1);
	/* c->fifo stays open until execve closes it: `start` waits for that */
	if (ctr_hooks_present(s->hooks, "startContainer")) {
		cleanup_json json_t *state = child_state_json(c, c->hostpid, "running");

		if (ctr_hooks_run(s->hooks, "startContainer", state, err) < 0)
			return -1;
	}
	return 0;
}

static int child_init(struct create_ctx *c, struct cabin_err **err)
{
	const struct ctr_spec *s = c->spec;
	int sock = c->sync[1];
	/* Without a mount namespace of its own, the container only gets chroot(2). */
	int own_mnt = !!((s->ns_new | s->ns_joined) & CLONE_NEWNS);
	cleanup_close int rootfd = -1;
	/* kept through the fd sweep: the sync socket (READY), exec.fifo (`start`), the log */
	int keep[] = { sock, c->fifo, log_keep_fd() };
	struct ctr_process p = {
		.spec = s,
		.caps = &c->caps,
		.seccomp = c->seccomp,
		.sync = sock,
		.keep = keep,
		.n_keep = ARRAY_SIZE(keep),
		.preserve_fds = c->o->preserve_fds,
		.sigmask = &c->oldmask,
		.flags = CTR_PROCESS_SETSID | (own_mnt ? CTR_PROCESS_CONSOLE : 0),
		.before_exec = child_ready,
		.arg = c,
	};

	/*
	 * If the runtime died before PDEATHSIG was armed, its end of the socket is
	 * closed and the first read below ends the init.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(c->sync[0]);
	/*
	 * First of all, and with the runtime's fds (not paths: a joined mount namespace has
	 * other ones), into the container's cgroup: the init and all it forks are counted
	 * from here on. The fds to the host's cgroupfs are closed before anything else runs.
	 */
	if (ctr_cgroup_join_self(&c->join, err) < 0)
		return -1;
	/* made by the runtime meanwhile (netns_start()); before sysfs is mounted for it */
	if (c->netns >= 0) {
		if (setns(c->netns, CLONE_NEWNET) < 0)
			return cabin_err_make(err, errno, "enter the network namespace");
		close(steal_fd(&c->netns));
	}
	/*
	 * The setup steps are logged under the names runc's debug log gives them (its
	 * nsexec, init() and the completion pipe), so that what reads runc's logs, its
	 * integration suite included, finds the same steps in ours.
	 */
	log_debug("child process in init(): container `%s`, pid %d", c->o->id, (int)getpid());
	if ((s->ns_joined || (s->ns_new & CLONE_NEWTIME)) && child_enter_ns(c, err) < 0)
		return -1;
	/* in a new user namespace, GO also says that the id maps are written */
	if (c->userns && child_go(c, err) < 0)
		return -1;
	if (c->userns && !s->ns_joined && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return cabin_err_make(err, errno, "become root in the user namespace");
	if (!own_mnt && child_placed(c, err) < 0)
		return -1;
	if (own_mnt) {
		rootfd = ctr_rootfs_prepare(s, c->userns, child_placed_cb, c, err);
		if (rootfd < 0)
			return -1;
	}
	if ((s->ns_new & CLONE_NEWNET) && !c->netns_lo && loopback_up(err) < 0)
		return -1;
	if (s->hostname && *s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		return cabin_err_make(err, errno, "sethostname `%s`", s->hostname);
	if (s->domainname && *s->domainname &&
	    setdomainname(s->domainname, strlen(s->domainname)) < 0)
		return cabin_err_make(err, errno, "setdomainname `%s`", s->domainname);
	/*
	 * The runtime answers HOOKS_REQ, like PLACED_REQ, only once the init is placed; without
	 * prestart or createRuntime hooks, one round trip fewer.
	 */
	if (ctr_hooks_present(s->hooks, "prestart") ||
	    ctr_hooks_present(s->hooks, "createRuntime")) {
		if (child_go(c, err) < 0 ||
		    ctr_sync_send(sock, CTR_SYNC_HOOKS_REQ, 0, NULL, -1) < 0 ||
		    child_wait(sock, CTR_SYNC_HOOKS_DONE, NULL, err) < 0)
			return -1;
		c->placed = 1;
	}
	if (child_placed(c, err) < 0)
		return -1;
	/*
	 * From here on nothing but the container's own hooks sees the init, and once it is
	 * created, processes of the container do. It still runs the runtime's binary and
	 * holds the runtime's memory: non-dumpable, /proc/1/{exe,fd,mem,environ} are
	 * closed to them (ptrace access needs CAP_SYS_PTRACE over the init's user
	 * namespace), as runc's nsexec does. execve(2) makes the container's program
	 * dumpable again. The runtime's own /proc writes (id maps, oomScoreAdj, cgroup)
	 * are done by now, so a rootless runtime is not locked out of them.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return cabin_err_make(err, errno, "prctl(PR_SET_DUMPABLE)");
	if (ctr_hooks_present(s->hooks, "createContainer")) {
		/*
		 * runc runs them from the container's root directory, in its mount namespace:
		 * a hook may name paths of the rootfs relative to it (`./lib/...`).
		 */
		cleanup_json json_t *state = NULL;

		if ((own_mnt ? fchdir(rootfd) : chdir(s->rootfs)) < 0)
			return cabin_err_make(err, errno,
					      "chdir to the rootfs for createContainer");
		if (child_go(c, err) < 0)
			return -1;
		state = child_state_json(c, c->hostpid, "created");
		if (ctr_hooks_run(s->hooks, "createContainer", state, err) < 0)
			return -1;
	}
	if (own_mnt) {
		if (ctr_rootfs_pivot(rootfd, c->o->no_pivot, err) < 0)
			return -1;
		close(steal_fd(&rootfd));
	} else if (chroot(s->rootfs) < 0 || chdir("/") < 0) {
		return cabin_err_make(err, errno, "chroot to `%s`", s->rootfs);
	}
	if (s->sysctl && ctr_sysctl_apply(s->sysctl, err) < 0)
		return -1;
	if (own_mnt && ctr_rootfs_finish(s, err) < 0)
		return -1;
	/* the last messages (terminal, seccomp listener, READY) follow GO */
	if (child_go(c, err) < 0)
		return -1;
	return ctr_process_exec(&p, err);
}

/* ------------------------------------------------------------- the runtime side */

static void create_ctx_init(struct create_ctx *c, const struct ctr_create_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->dirfd = c->pidfd = c->fifo = c->console = c->master = -1;
	c->sync[0] = c->sync[1] = -1;
	c->join.v2dir = -1;
	c->netns = -1;
}

/*
 * A new network namespace is the most expensive part of the clone (setup_net(): the
 * loopback device, the sysctl tables of IPv4 and IPv6; about 0.8 ms here), and it needs
 * nothing from the rest of create. So a thread of the runtime unshares it while the main
 * thread makes the state directory and the cgroups, and the init enters it with setns()
 * first thing instead of the clone creating it. Only for a namespace owned by the host's
 * user namespace (a new user namespace must own the network namespace made for it) and
 * without namespaces to join. The thread is gone before the clone: the init is forked
 * from a process with one thread, as always. Should it fail, the clone makes the
 * namespace as before (and reports the error, if any).
 */
static void netns_make(struct create_ctx *c)
{
	if (unshare(CLONE_NEWNET) < 0) {
		c->netns_err = errno;
		return;
	}
	c->netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (c->netns < 0) {
		c->netns_err = errno;
		return;
	}
	/* the init's loopback_up() too; should it fail here, the init tries and says why */
	{
		struct ifreq ifr = { .ifr_name = "lo" };
		int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (sk >= 0 && ioctl(sk, SIOCGIFFLAGS, &ifr) == 0) {
			ifr.ifr_flags |= IFF_UP;
			c->netns_lo = ioctl(sk, SIOCSIFFLAGS, &ifr) == 0;
		}
		if (sk >= 0)
			close(sk);
	}
}

static void *netns_main(void *arg)
{
	struct create_ctx *c = arg;

	netns_make(c);
	__atomic_store_n(&c->netns_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void netns_start(struct create_ctx *c)
{
	const struct ctr_spec *s = c->spec;
	pthread_attr_t attr;
	sigset_t all, old;

	if (!(s->ns_new & CLONE_NEWNET) || c->userns || s->ns_joined || (s->ns_new & CLONE_NEWTIME))
		return;
	/* signals stay with the main thread: `run` forwards them to the container */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	c->netns_started = pthread_create(&c->netns_thread, &attr, netns_main, c) == 0;
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void netns_wait(struct create_ctx *c)
{
	if (!c->netns_started)
		return;
	pthread_join(c->netns_thread, NULL);
	c->netns_started = 0;
	if (c->netns < 0)
		log_debug("network namespace: %s: the clone makes it", strerror(c->netns_err));
}

static void kill_wait(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Undo everything create did: processes, cgroup, state directory. */
static void create_rollback(struct create_ctx *c)
{
	struct cabin_err *e = NULL;

	if (c->init > 0 && c->init != c->child)
		kill_wait(c->init);
	kill_wait(c->child);
	if (c->cg) {
		if (ctr_cgroup_destroy(c->cg, &e) < 0)
			log_warn("%s", cabin_err_msg(e));
		cabin_err_release(&e);
	}
	if (c->dir) {
		cleanup_close int rfd = open(c->o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (rfd >= 0 && ctr_state_dir_remove(rfd, c->o->id, &e) < 0)
			log_warn("%s", cabin_err_msg(e));
		cabin_err_release(&e);
	}
}

static void create_ctx_free(struct create_ctx *c)
{
	int *fds[] = { &c->dirfd,  &c->pidfd,	&c->fifo,    &c->console,
		       &c->master, &c->sync[0], &c->sync[1], &c->netns };

	netns_wait(c);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	ctr_seccomp_free(c->seccomp);
	ctr_cgroup_join_close(&c->join);
	json_decref(c->res);
	ctr_cgroup_free(c->cg);
	ctr_spec_free(c->spec);
	free(c->bundle);
	free(c->dir);
	ctr_state_text_free(&c->st_text);
	free(c->st.created);
	free(c->st.cgroup);
	free(c->st.config);
	json_decref(c->st.poststop);
	json_decref(c->st.process);
	json_decref(c->st.foreign);
}

static int runtime_hooks(struct create_ctx *c, struct cabin_err **err)
{
	cleanup_json json_t *state = NULL;

	if (!ctr_hooks_present(c->spec->hooks, "prestart") &&
	    !ctr_hooks_present(c->spec->hooks, "createRuntime"))
		return 0;
	c->st.pid = c->init;
	/* runtime-tools and crun give these hooks "created" (the spec says "creating") */
	state = ctr_state_to_json(&c->st, CTR_CREATED);
	if (ctr_hooks_run(c->spec->hooks, "prestart", state, err) < 0 ||
	    ctr_hooks_run(c->spec->hooks, "createRuntime", state, err) < 0)
		return -1;
	return 0;
}

/*
 * linux.resources as the cgroup should enforce it: a copy, since validation normalises
 * it (device access strings). linux.devices entries get no implicit allow rule, as with
 * runc: under a deny-all rule the node exists but cannot be opened.
 */
static int effective_resources(const struct ctr_spec *s, json_t **out, struct cabin_err **err)
{
	*out = s->resources ? json_deep_copy(s->resources) : NULL;
	return 0;
}

/*
 * A linux.cgroupsPath that exists already may be frozen, or hold processes of the host.
 * The init would freeze on entry and `run -d` hang: refuse, as runc does. Processes
 * already there are not the container's: warn, as runc does, and record them so that
 * ps, kill and delete leave them alone (ctr_state_owns_pid).
 */
static int owns_pid(const void *st, pid_t pid)
{
	return ctr_state_owns_pid(st, pid);
}

static int check_cgroup(struct create_ctx *c, struct cabin_err **err)
{
	cleanup_free pid_t *pids = NULL;
	struct cabin_err *e = NULL;
	const char *dir;
	size_t n = 0;

	/* the usual container's cgroup does not exist yet: nothing to look into */
	if (!ctr_cgroup_exists_any(c->cg))
		return 0;
	if (ctr_cgroup_is_frozen(c->cg) == 1) {
		/* nothing was created: the rollback must not touch this cgroup */
		ctr_cgroup_free(steal_ptr(&c->cg));
		return cabin_err_make(err, 0, "container's cgroup unexpectedly frozen");
	}
	dir = ctr_cgroup_populated(c->cg);
	if (dir)
		log_warn("container's cgroup is not empty: `%s` already has processes "
			 "(they share its limits)",
			 dir);
	if (ctr_cgroup_pids(c->cg, &pids, &n, &e) < 0 || !n) {
		cabin_err_release(&e);
		return 0;
	}
	c->st.foreign = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(c->st.foreign,
				      json_pack("[I,I]", (json_int_t)pids[i],
						(json_int_t)ctr_proc_start_time(pids[i])));
	return 0;
}

/* hierarchies dropped (rootless) or parents made: record it with the init's pid */
static void cgroup_string_update(struct create_ctx *c)
{
	cleanup_free char *now = ctr_cgroup_to_string(c->cg);

	if (strcmp(now, c->st.cgroup)) {
		free(c->st.cgroup);
		c->st.cgroup = steal_ptr(&now);
	}
}

/*
 * The container's cgroup, made so that the init is created in it (cgroup2, clone3 with
 * CLONE_INTO_CGROUP) and joins the v1 hierarchies itself: neither waits for the RCU grace
 * period a write of its pid to cgroup.procs costs (see ctr/cgroup.h), often the largest
 * single cost of a start. It is named in state.json (with no pid yet) before it exists: a
 * create killed after the mkdir would otherwise leave directories that `delete --force`
 * cannot find.
 */
static int make_cgroup(struct create_ctx *c, struct cabin_err **err)
{
	const struct ctr_spec *s = c->spec;
	struct cabin_err *e = NULL;

	/* --cgroup-manager disabled (podman --cgroups disabled): the caller's cgroup */
	if (c->o->no_cgroups)
		return 0;
	if (effective_resources(s, &c->res, err) < 0)
		return -1;
	if (ctr_cgroup_validate(c->res, err) < 0)
		return -1;
	if (ctr_cgroup_plan(s->cgroups_path, c->o->id, &c->cg, err) < 0)
		return -1;
	if (check_cgroup(c, err) < 0)
		return -1;
	/* from here on, a rollback or a delete only ever kills the container's own */
	ctr_cgroup_set_owner(c->cg, owns_pid, &c->st);
	c->st.cgroup = ctr_cgroup_to_string(c->cg);
	if (ctr_state_save(c->dirfd, &c->st, err) < 0)
		return -1;
	/*
	 * On a host with v1 hierarchies their directories (a memory cgroup's creation above
	 * all) and the limits are most of a cgroup's cost, and the init needs them only when
	 * it mounts the container's cgroups or is about to run the container's process. So
	 * the runtime makes them after the clone, while the init builds its filesystem, and
	 * the init joins them itself when JOIN brings their `tasks` files (runtime_join()).
	 * The cgroup2 directory comes first: the init is created in it. Not with namespaces
	 * to join (the init forks again there) nor a user namespace (whose rootless runtime
	 * may have no v1 hierarchy to write, and then moves the init itself).
	 */
	c->late_join = ctr_cgroup_n_v1(c->cg) && !s->ns_joined && !(s->ns_new & CLONE_NEWTIME) &&
		       !c->userns;
	if ((c->late_join ? ctr_cgroup_make_v2(c->cg, c->res, err)
			  : ctr_cgroup_make(c->cg, c->res, err)) < 0)
		return -1;
	cgroup_string_update(c);
	/* should a file not open (a partly delegated hierarchy), the runtime moves the init */
	if (ctr_cgroup_join_open(c->cg, &c->join,
				 c->late_join ? CTR_CGROUP_JOIN_V2
					      : CTR_CGROUP_JOIN_V1 | CTR_CGROUP_JOIN_V2,
				 &e) < 0) {
		log_debug("cgroup: %s: the runtime places the init", cabin_err_msg(e));
		cabin_err_release(&e);
		return 0;
	}
	c->self_join = 1;
	return 0;
}

/*
 * The v1 part of a late join: the directories and the limits, then the `tasks` files the
 * init joins with, into @j. Return: 1 with them open, 0 when one does not open (a partly
 * delegated hierarchy: the runtime moves the init itself, the slow way, see
 * ctr/cgroup.h), -1 on failure. The limits come first: the init makes device nodes and
 * opens /dev/null once it has joined, which a device cgroup between its deny-all rule
 * and the allow rules would refuse.
 */
static int make_late_part(struct create_ctx *c, struct ctr_cgroup_join *j, struct cabin_err **err)
{
	struct cabin_err *e = NULL;

	if (ctr_cgroup_make_v1(c->cg, c->res, &c->v1_pos, err) < 0 ||
	    ctr_cgroup_limit(c->cg, c->res, err) < 0)
		return -1;
	cgroup_string_update(c);
	if (ctr_cgroup_join_open(c->cg, j, CTR_CGROUP_JOIN_V1, &e) < 0) {
		log_debug("cgroup: %s: the runtime places the init", cabin_err_msg(e));
		cabin_err_release(&e);
		return 0;
	}
	return 1;
}

/*
 * A late join without clone3(CLONE_INTO_CGROUP) (before Linux 5.7): the init waits for
 * the runtime to move it into cgroup2 after all, so the v1 part is made now, as without a
 * late join, and the init joins it first thing.
 */
static int late_join_now(struct create_ctx *c, struct cabin_err **err)
{
	struct ctr_cgroup_join j = { .v2dir = -1 };
	int ret;

	c->late_join = 0;
	ret = make_late_part(c, &j, err);
	if (ret <= 0) {
		c->self_join = 0;
		return ret;
	}
	memcpy(c->join.tasks, j.tasks, j.n * sizeof(j.tasks[0]));
	c->join.n = j.n;
	return 0;
}

/* After the clone, with a late join: the v1 part, then JOIN with the `tasks` files. */
static int runtime_join(struct create_ctx *c, struct cabin_err **err)
{
	struct ctr_cgroup_join j = { .v2dir = -1 };
	int ret;

	if (!c->late_join)
		return 0;
	ret = make_late_part(c, &j, err);
	if (ret < 0 || (ret == 0 && ctr_cgroup_enter(c->cg, c->child, err) < 0))
		return -1;
	/*
	 * As with GO: an init that failed meanwhile has sent its ERROR and is gone, and what
	 * reads from it next (runtime_loop() or run_reaped()) reports that error.
	 */
	sync_send_fds(c->sync[0], CTR_SYNC_JOIN, 0, NULL, j.tasks, j.n);
	ctr_cgroup_join_close(&j);
	return 0;
}

/*
 * exec takes the container's seccomp profile from config.json. The bundle's may be edited
 * or removed while the container runs (it belongs to the caller): exec must see the
 * configuration the container was created with, so keep a copy, as crun does: the very
 * bytes parsed (nothing changes the document in between), so that no encoding of it is
 * needed. Written after the clone, while the init builds its filesystem: nothing reads it
 * before the container exists.
 */
static int keep_config(struct create_ctx *c, struct cabin_err **err)
{
	const struct ctr_spec *s = c->spec;
	cleanup_free char *copy = s->raw ? NULL : json_dumps(s->json, JSON_COMPACT);
	const char *bytes = s->raw ? s->raw : copy;

	if (!bytes)
		return cabin_err_make(err, ENOMEM, "encode config.json");
	if (fs_write_file_atomic(c->dirfd, "config.json", bytes, s->raw ? s->raw_len : strlen(copy),
				 0600, 0, err) < 0)
		return cabin_err_wrap(err, "keep a copy of config.json");
	return 0;
}

/*
 * What the init could not do itself (its cgroup, when it could not join it alone),
 * oomScoreAdj and the state.json that names the init (for delete), then GO. The init
 * builds its filesystem meanwhile. An init that waits for the runtime to place it asks
 * with PLACED_REQ (or HOOKS_REQ), answered only after this.
 */
static int runtime_place(struct create_ctx *c, struct cabin_err **err)
{
	const struct ctr_spec *s = c->spec;
	int ret = 0;

	if (keep_config(c, err) < 0)
		return -1;

	/* the clone's pidfd names the pid namespace without a walk through /proc */
	if (c->st.ns_pid && c->pidfd >= 0 && c->init == c->child)
		c->st.pidns = ctr_state_pidns_pidfd(c->pidfd);
	if (c->st.ns_pid && !c->st.pidns)
		c->st.pidns = ctr_state_pidns(c->init);
	c->st.pid = c->init;
	c->st.start_time = ctr_proc_start_time(c->init);
	if (c->cg && !c->self_join)
		ret = ctr_cgroup_enter(c->cg, c->init, err);
	else if (c->cg && !c->v2_placed)
		ret = ctr_cgroup_enter_v2(c->cg, c->init, err);
	if (ret < 0)
		return -1;
	if (s->oom_score_adj && ctr_oom_score_adj_apply(c->init, s->oom_score_adj, err) < 0)
		return -1;
	/* encoded before the clone (do_create()): only the init's numbers are new */
	ret = c->st_text.buf ? ctr_state_text_save(c->dirfd, &c->st_text, &c->st, err)
			     : ctr_state_save(c->dirfd, &c->st, err);
	if (ret < 0)
		return -1;
	/*
	 * GO last: the init reads it before its last steps at the latest (see child_go()),
	 * so everything above happens before the container's process runs, with or without
	 * ACK. An init that failed before reading GO has sent ERROR and exited: the loop
	 * reads that ERROR (or the end of the socket) next.
	 */
	ctr_sync_send(c->sync[0], CTR_SYNC_GO, c->init, NULL, -1);
	return 0;
}

static int init_exit_error(struct create_ctx *c, struct cabin_err **err)
{
	int status = 0;

	if (c->child > 0 && waitpid(c->child, &status, WNOHANG) == c->child) {
		if (c->child == c->init)
			c->child = c->init = 0;
		else
			c->child = 0;
		if (WIFSIGNALED(status))
			return cabin_err_make(err, 0, "container init was killed by signal %d",
					      WTERMSIG(status));
	}
	return cabin_err_make(err, 0, "container init exited during setup");
}

static int runtime_loop(struct create_ctx *c, struct cabin_err **err)
{
	const struct ctr_spec *s = c->spec;
	char text[1016];

	for (;;) {
		int type, value, fd, ret;

		ret = ctr_sync_recv(c->sync[0], &type, &value, text, sizeof(text), &fd);
		/*
		 * An init that failed before it read GO closed its end with GO unread: Linux
		 * reports ECONNRESET once, ahead of the ERROR still queued for us.
		 */
		if (ret == -ECONNRESET)
			continue;
		if (ret < 0)
			return cabin_err_make(err, -ret, "read from container init");
		if (ret == 0)
			return init_exit_error(c, err);
		switch (type) {
		case CTR_SYNC_MAP_REQ:
			if (ctr_write_idmap(value, "uid_map", s->uid_mappings, err) < 0 ||
			    ctr_write_idmap(value, "gid_map", s->gid_mappings, err) < 0)
				return -1;
			ctr_sync_send(c->sync[0], CTR_SYNC_MAP_DONE, 0, NULL, -1);
			break;
		case CTR_SYNC_PID: {
			int st;

			c->init = value;
			while (waitpid(c->child, &st, 0) < 0 && errno == EINTR)
				;
			c->child = 0;
			if (runtime_place(c, err) < 0)
				return -1;
			break;
		}
		case CTR_SYNC_HOOKS_REQ:
			if (runtime_hooks(c, err) < 0)
				return -1;
			ctr_sync_send(c->sync[0], CTR_SYNC_HOOKS_DONE, 0, NULL, -1);
			break;
		case CTR_SYNC_TERMINAL:
			if (fd < 0)
				return cabin_err_make(err, EPROTO,
						      "no terminal from container init");
			if (c->console >= 0) {
				ret = ctr_console_send(c->console, fd, err);
				close(fd);
				if (ret < 0)
					return -1;
			} else {
				c->master = fd;
			}
			break;
		case CTR_SYNC_SECCOMP: {
			cleanup_json json_t *state = NULL;

			if (fd < 0)
				return cabin_err_make(err, EPROTO,
						      "no seccomp fd from container init");
			c->st.pid = c->init;
			state = ctr_state_to_json(&c->st, CTR_CREATING);
			ret = ctr_seccomp_send_listener(c->seccomp, fd, state, 0, err);
			close(fd);
			if (ret < 0)
				return -1;
			ctr_sync_send(c->sync[0], CTR_SYNC_SECCOMP_DONE, 0, NULL, -1);
			break;
		}
		case CTR_SYNC_PLACED_REQ: /* the loop runs once the init is placed */
			ctr_sync_send(c->sync[0], CTR_SYNC_PLACED, 0, NULL, -1);
			break;
		case CTR_SYNC_READY:
			return 0;
		case CTR_SYNC_ERROR:
			return cabin_err_make(err, 0, "%s", text);
		default:
			if (fd >= 0)
				close(fd);
			return cabin_err_make(err, EPROTO,
					      "unexpected message %d from container init", type);
		}
	}
}

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL /* Linux 5.7 */
#endif

/* struct clone_args of <linux/sched.h> up to `cgroup` (CLONE_ARGS_SIZE_VER2) */
struct clone3_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

/*
 * clone(2) with @flags (namespaces | exit signal), the child created in the cgroup2
 * directory @v2dir (none: -1). Returns as fork(2) does; -1 with errno when clone3(2) or
 * CLONE_INTO_CGROUP is not there (before Linux 5.7) or not allowed into that cgroup.
 */
static pid_t clone_into_cgroup(int flags, int v2dir, int *pidfd)
{
	struct clone3_args a = {
		.flags = (uint64_t)(unsigned)(flags & ~CSIGNAL) | CLONE_PIDFD,
		.pidfd = (uint64_t)(uintptr_t)pidfd,
		.exit_signal = (uint64_t)(flags & CSIGNAL),
	};

	if (v2dir < 0)
		return (pid_t)syscall(SYS_clone, flags | CLONE_PIDFD, 0, pidfd, NULL, 0);
	a.flags |= CLONE_INTO_CGROUP;
	a.cgroup = (uint64_t)v2dir;
	return (pid_t)syscall(SYS_clone3, &a, sizeof(a));
}

static int do_create(struct create_ctx *c, struct cabin_err **err)
{
	const struct ctr_create_opts *o = c->o;
	struct ctr_spec *s;
	cleanup_close int rootdirfd = -1;
	struct stat sb;
	sigset_t block;
	int flags;

	if (ctr_id_validate(o->id, err) < 0)
		return -1;
	c->bundle = realpath(o->bundle ? o->bundle : ".", NULL);
	if (!c->bundle)
		return cabin_err_make(err, errno, "bundle `%s`", o->bundle ? o->bundle : ".");
	if (ctr_spec_load(c->bundle, &c->spec, err) < 0)
		return -1;
	s = c->spec;
	c->userns = !!((s->ns_new | s->ns_joined) & CLONE_NEWUSER);
	/* from here on, the seccomp filter's compilation included */
	netns_start(c);
	if (!s->process)
		return cabin_err_make(err, 0, "config.json: `process` is required");
	if (stat(s->rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return cabin_err_make(err, errno ? errno : ENOTDIR,
				      "config.json: `root.path`: rootfs `%s` is not a directory",
				      s->rootfs);
	if (s->terminal && !o->console_socket && o->detach)
		return cabin_err_make(err, 0,
				      "`process.terminal` is true: --console-socket is required");
	if (ctr_caps_parse(s->caps, &c->caps, err) < 0)
		return cabin_err_wrap(err, "config.json");
	/*
	 * The kernel raises an ambient capability only if it is also permitted and
	 * inheritable; `runc spec` and `crun spec` list ambient ones without the
	 * inheritable set, so ambient implies inheritable here.
	 */
	c->caps.inheritable |= c->caps.ambient;
	if (s->seccomp && ctr_seccomp_prepare(s->seccomp, &c->seccomp, err) < 0)
		return cabin_err_wrap(err, "config.json");
	/*
	 * CVE-2019-5736: until `start`, the init waits in our code, and /proc/1/exe is the
	 * host's binary. The init is non-dumpable by then, so reaching that link takes
	 * CAP_SYS_PTRACE in the user namespace the init was created in: the host's. Only a
	 * container without a user namespace that is given CAP_SYS_PTRACE has that, and
	 * only then is the start worth a sealed copy of the binary (a copy and an execve,
	 * about as much as the rest of the runtime's start-up).
	 */
	if (!c->userns &&
	    ((c->caps.bounding | c->caps.permitted | c->caps.effective | c->caps.ambient) &
	     (1ULL << CAP_SYS_PTRACE)) &&
	    ctr_cloned_binary_ensure(err) < 0)
		return -1;
	if (!((s->ns_new | s->ns_joined) & CLONE_NEWNS) &&
	    (s->n_mounts || s->masked || s->readonly || s->root_readonly))
		log_warn("create `%s`: no mount namespace: mounts, devices, maskedPaths, "
			 "readonlyPaths and root.readonly are not applied (chroot only)",
			 o->id);

	/* From the exclusive mkdir on, everything is undone by create_rollback(). */
	if (fs_mkdir_p(o->root, 0700, err) < 0)
		return cabin_err_wrap(err, "state directory");
	rootdirfd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootdirfd < 0)
		return cabin_err_make(err, errno, "open `%s`", o->root);
	if (ctr_state_dir_make(rootdirfd, o->id, err) < 0)
		return cabin_err_wrap(err, "`%s`", o->root);
	c->dir = ctr_state_dir(o->root, o->id);
	c->dirfd = openat(rootdirfd, o->id, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dirfd < 0)
		return cabin_err_make(err, errno, "open `%s`", c->dir);
	/*
	 * `run` in the foreground without poststart hooks or a pid file has nobody to tell
	 * when the process has started, nor anything to do between READY and the start:
	 * the init goes on from READY to execve without waiting to be woken up for ACK and
	 * for `start` (each a scheduling delay on a loaded machine). It has no exec.fifo
	 * either (a fifo made, opened, written and unlinked in the state directory for
	 * nothing): such a container is never in the created state that exec.fifo marks.
	 */
	if (c->run_fg && !o->pid_file && !ctr_hooks_present(s->hooks, "poststart")) {
		c->released = 1;
	} else {
		if (mkfifoat(c->dirfd, "exec.fifo", 0600) < 0)
			return cabin_err_make(err, errno, "mkfifo `%s/exec.fifo`", c->dir);
		/* O_RDWR never blocks on a fifo; the init reads from it until `start` writes. */
		c->fifo = openat(c->dirfd, "exec.fifo", O_RDWR | O_CLOEXEC);
		if (c->fifo < 0)
			return cabin_err_make(err, errno, "open `%s/exec.fifo`", c->dir);
	}
	if (o->console_socket) {
		c->console = ctr_console_connect(o->console_socket, err);
		if (c->console < 0)
			return cabin_err_wrap(err, "--console-socket");
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sync) < 0)
		return cabin_err_make(err, errno, "socketpair");
	if (ctr_mount_prepare_idmaps(s, err) < 0)
		return -1;
	/*
	 * In a new user namespace the init may not be able to reach a bind source (a
	 * directory only host root may search): open the sources here, as host root.
	 */
	if ((s->ns_new & CLONE_NEWUSER) && ctr_mount_open_sources(s, err) < 0)
		return -1;

	c->st.id = (char *)o->id;
	c->st.bundle = c->bundle;
	c->st.rootfs = s->rootfs;
	c->st.created = now_rfc3339();
	c->st.config = xasprintf("%s/config.json", c->dir);
	c->st.owner = getuid();
	c->st.annotations = s->annotations;
	c->st.ns_pid = !!((s->ns_new | s->ns_joined) & CLONE_NEWPID);
	c->st.process = json_incref(s->process);
	if (json_object_get(s->hooks, "poststart") || json_object_get(s->hooks, "poststop"))
		c->st.poststop = json_pack("{s:O*,s:O*}", "poststart",
					   json_object_get(s->hooks, "poststart"), "poststop",
					   json_object_get(s->hooks, "poststop"));

	if (make_cgroup(c, err) < 0)
		return -1;

	/* `run` forwards these to the init; the init restores the caller's mask. */
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGQUIT);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGWINCH);
	sigprocmask(SIG_BLOCK, &block, &c->oldmask);

	/*
	 * After the clone every page the runtime writes to is first copied (the init still
	 * shares them until its execve): state.json, all but the init's numbers, is encoded
	 * now, so that runtime_place() has little more than those to write.
	 */
	if (ctr_state_render(&c->st, &c->st_text, err) < 0)
		return -1;
	flags = SIGCHLD;
	if (!s->ns_joined && !(s->ns_new & CLONE_NEWTIME))
		flags |= s->ns_new & ~CLONE_NEWCGROUP;
	/*
	 * What the init needs first after the clone, while the thread still makes the network
	 * namespace: the v1 cgroup directories that runtime_join() makes otherwise.
	 */
	while (c->late_join && c->netns_started &&
	       !__atomic_load_n(&c->netns_done, __ATOMIC_ACQUIRE)) {
		int ret = ctr_cgroup_make_v1_next(c->cg, c->res, &c->v1_pos, err);

		if (ret < 0)
			return -1;
		if (ret == 0)
			break;
	}
	netns_wait(c);
	if (c->netns >= 0)
		flags &= ~CLONE_NEWNET;
	log_debug("nsexec container setup: clone the init of `%s` (clone flags %#x)", o->id,
		  (unsigned)flags);
	/* the copy the child gets says whether it must wait for the runtime to place it */
	c->placed = c->self_join && !c->late_join;
	c->child = c->self_join ? clone_into_cgroup(flags, c->join.v2dir, &c->pidfd) : -1;
	c->v2_placed = c->child >= 0 && c->join.v2dir >= 0;
	if (c->child < 0) {
		/* no CLONE_INTO_CGROUP: the runtime moves the init into cgroup2 in place() */
		if (c->late_join && late_join_now(c, err) < 0)
			return -1;
		c->placed = c->self_join && c->join.v2dir < 0;
		c->child = (pid_t)syscall(SYS_clone, flags | CLONE_PIDFD, 0, &c->pidfd, NULL, 0);
	}
	if (c->child < 0)
		return cabin_err_make(err, errno, "clone the container init");
	if (c->child == 0) {
		struct cabin_err *e = NULL;

		/*
		 * After `create` returned nobody reads the socket: the container's stderr
		 * (a log, for conmon) is then the only place left for the error.
		 */
		if (child_init(c, &e) < 0 &&
		    ctr_sync_send(c->sync[1], CTR_SYNC_ERROR, 0, cabin_err_msg(e), -1) < 0)
			dprintf(2, "cabin: container `%s`: %s\n", o->id, cabin_err_msg(e));
		_exit(1);
	}
	close(c->sync[1]);
	c->sync[1] = -1;
	ctr_cgroup_join_close(&c->join);
	if (c->netns >= 0)
		close(steal_fd(&c->netns));
	if (runtime_join(c, err) < 0)
		return -1;
	if (!(s->ns_joined || (s->ns_new & CLONE_NEWTIME))) {
		c->init = c->child;
		if ((s->ns_new & CLONE_NEWUSER) &&
		    (ctr_write_idmap(c->init, "uid_map", s->uid_mappings, err) < 0 ||
		     ctr_write_idmap(c->init, "gid_map", s->gid_mappings, err) < 0))
			return -1;
		if (runtime_place(c, err) < 0)
			return -1;
	}
	/*
	 * A released run whose init asks nothing of us on the way (no terminal, no seccomp
	 * listener, no hooks, no placement, no id maps, no namespaces joined) would wake up
	 * only to read READY and go back to sleep until the init exits: on a loaded machine
	 * each wake-up is a wait for a CPU, and it competes with the init for one. READY, or
	 * the ERROR of an init that failed, is read once the init is reaped instead
	 * (run_reaped()).
	 */
	c->unread = c->released && (c->placed || c->late_join) && !s->terminal && !c->userns &&
		    !s->ns_joined && !(s->ns_new & CLONE_NEWTIME) &&
		    !ctr_seccomp_uses_notify(c->seccomp) &&
		    !ctr_hooks_present(s->hooks, "prestart") &&
		    !ctr_hooks_present(s->hooks, "createRuntime");
	if (!c->unread && runtime_loop(c, err) < 0)
		return -1;
	/* state.json was written by runtime_place() and has not changed since */
	if (o->pid_file && ctr_write_pid_file(o->pid_file, c->init, err) < 0)
		return -1;
	/* the init did not wait for ACK: it may have run and exited already */
	if (c->released)
		return 0;
	if (ctr_sync_send(c->sync[0], CTR_SYNC_ACK, 0, NULL, -1) < 0)
		return cabin_err_make(err, EPIPE, "container init went away");
	return 0;
}

int ctr_create(const struct ctr_create_opts *o, struct cabin_err **err)
{
	struct create_ctx c;
	int ret;

	create_ctx_init(&c, o);
	ret = do_create(&c, err);
	if (ret < 0) {
		create_rollback(&c);
		cabin_err_wrap(err, "create `%s`", o->id);
	}
	sigprocmask(SIG_SETMASK, &c.oldmask, NULL);
	create_ctx_free(&c);
	return ret < 0 ? -1 : 0;
}

/* For --debug: a leak shows as a growing count across runs. */
static int count_fds(void)
{
	cleanup_closedir DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	return n - 1; /* the directory's own fd */
}

/*
 * Release the init waiting on exec.fifo and wait until it has exec'd, so that poststart
 * hooks run after the user process started, as the runtime-spec requires. The init's
 * fifo fd is close-on-exec: once it is gone the fifo has no writer left and our read
 * end reports POLLHUP (the reader is opened before our writer, so a writer has come
 * and gone since, which Linux requires for POLLHUP on a fifo).
 */
static int release_init(int dirfd, const char *id, struct cabin_err **err)
{
	cleanup_close int rfd = -1, wfd = -1;
	struct pollfd p;
	int r;

	rfd = openat(dirfd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (rfd < 0)
		return cabin_err_make(err, errno == ENOENT ? 0 : errno,
				      "container `%s` is not in the created state", id);
	wfd = openat(dirfd, "exec.fifo", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (wfd < 0)
		return cabin_err_make(err, errno, "start `%s`: open exec.fifo", id);
	if (write(wfd, "0", 1) != 1)
		return cabin_err_make(err, errno, "start `%s`: write exec.fifo", id);
	close(steal_fd(&wfd));
	unlinkat(dirfd, "exec.fifo", 0);
	p.fd = rfd;
	p.events = 0;
	do
		r = poll(&p, 1, 10000);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		log_warn("start `%s`: the process has not started after 10s", id);
	return 0;
}

static void run_poststart(const char *root, struct ctr_state *st)
{
	json_t *hooks = st->poststop ? json_object_get(st->poststop, "poststart") : NULL;
	cleanup_json json_t *state = NULL;

	if (!json_array_size(hooks))
		return;
	state = ctr_state_to_json(st, CTR_RUNNING);
	ctr_hooks_run_warn(hooks, "poststart", state);
}

int ctr_start(const char *root, const char *id, struct cabin_err **err)
{
	cleanup_state struct ctr_state *st = NULL;
	cleanup_free char *dir = NULL;
	cleanup_close int dirfd = -1;
	enum ctr_status status;

	if (ctr_state_load(root, id, &st, err) < 0)
		return -1;
	status = ctr_state_status(root, st);
	if (status != CTR_CREATED)
		return cabin_err_make(err, 0, "container `%s` is %s, not created", id,
				      ctr_status_name(status));
	dir = ctr_state_dir(root, id);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return cabin_err_make(err, errno, "open `%s`", dir);
	if (release_init(dirfd, id, err) < 0)
		return -1;
	run_poststart(root, st);
	return 0;
}

/*
 * The init of a run that left READY unread (see do_create()) has been reaped: READY says
 * it reached the container's process, whose status then stands; ERROR or nothing at all
 * says that it failed or was killed during setup, which is a failed create. Its end of
 * the socket is closed now, so nothing here blocks.
 */
static int run_reaped(struct create_ctx *c, int status, struct cabin_err **err)
{
	char text[1016];

	for (;;) {
		int type = 0,
		    ret = ctr_sync_recv(c->sync[0], &type, NULL, text, sizeof(text), NULL);

		if (ret == -ECONNRESET)
			continue;
		if (ret < 0)
			return cabin_err_make(err, -ret, "read from container init");
		if (ret == 0) {
			if (WIFSIGNALED(status))
				return cabin_err_make(err, 0,
						      "container init was killed by signal %d",
						      WTERMSIG(status));
			return cabin_err_make(err, 0, "container init exited during setup");
		}
		if (type == CTR_SYNC_READY)
			return 0;
		if (type == CTR_SYNC_ERROR)
			return cabin_err_make(err, 0, "%s", text);
		return cabin_err_make(err, EPROTO, "unexpected message %d from container init",
				      type);
	}
}

/*
 * What `delete --force` does once a foreground run's init is reaped, from what create
 * holds in memory: no state.json to read back, no cgroup to resolve again.
 */
static void run_teardown(struct create_ctx *c)
{
	struct cabin_err *e = NULL;
	json_t *hooks = c->st.poststop ? json_object_get(c->st.poststop, "poststop") : NULL;

	if (c->cg && ctr_cgroup_destroy(c->cg, &e) < 0) {
		/* as delete: the state stays for a later `delete` to retry */
		log_warn("delete `%s`: %s", c->o->id, cabin_err_msg(e));
		cabin_err_release(&e);
		return;
	}
	if (json_array_size(hooks)) {
		cleanup_json json_t *state = ctr_state_to_json(&c->st, CTR_STOPPED);

		ctr_hooks_run_warn(hooks, "poststop", state);
	}
	{
		cleanup_close int rfd = open(c->o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (rfd < 0 || ctr_state_dir_remove(rfd, c->o->id, &e) < 0) {
			if (rfd < 0)
				cabin_err_make(&e, errno, "open `%s`", c->o->root);
			log_warn("delete `%s`: %s", c->o->id, cabin_err_msg(e));
		}
		cabin_err_release(&e);
	}
}

int ctr_run(const struct ctr_create_opts *o, struct cabin_err **err)
{
	struct create_ctx c;
	cleanup_close int sfd = -1;
	sigset_t set;
	int ret, status = 0;

	create_ctx_init(&c, o);
	c.run_fg = !o->detach;
	/*
	 * In the foreground, processes the container orphans (no pid namespace, or a
	 * double fork before the init exits) are reparented to us and reaped by the
	 * wait loop below rather than by the host's init, as runc does.
	 */
	if (!o->detach && !o->no_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		log_warn("run `%s`: become child subreaper: %s", o->id, strerror(errno));
	ret = do_create(&c, err);
	if (ret < 0) {
		create_rollback(&c);
		cabin_err_wrap(err, "run `%s`", o->id);
		sigprocmask(SIG_SETMASK, &c.oldmask, NULL);
		create_ctx_free(&c);
		return -1;
	}
	if (c.fifo >= 0) {
		close(c.fifo);
		c.fifo = -1;
	}
	/*
	 * Nobody reads the sync socket any more: with it closed, a failure of the init
	 * between here and execve goes to the container's stderr, as after `start`.
	 */
	if (!c.unread) {
		close(c.sync[0]);
		c.sync[0] = -1;
	}
	if (!c.released && release_init(c.dirfd, o->id, err) < 0) {
		ret = -1;
		create_rollback(&c);
		goto out;
	}
	run_poststart(o->root, &c.st);
	if (o->detach) {
		ret = 0;
		goto out;
	}
	/* Foreground: forward signals, reap, and exit with the init's status. */
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGWINCH);
	if (c.master >= 0) {
		sfd = signalfd(-1, &set, SFD_CLOEXEC);
		ctr_terminal_proxy(c.master, sfd, c.init, &status);
	} else {
		for (;;) {
			siginfo_t si;
			int sig = sigwaitinfo(&set, &si);
			pid_t p;

			if (sig < 0)
				continue;
			if (sig != SIGCHLD) {
				kill(c.init, sig);
				continue;
			}
			while ((p = waitpid(-1, &status, WNOHANG)) > 0)
				if (p == c.init)
					break;
			if (p == c.init)
				break;
		}
	}
	c.init = c.child = 0;
	if (c.unread && run_reaped(&c, status, err) < 0) {
		ret = -1;
		cabin_err_wrap(err, "run `%s`", o->id);
		create_rollback(&c);
		goto out;
	}
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (!o->keep)
		run_teardown(&c);
out:
	sigprocmask(SIG_SETMASK, &c.oldmask, NULL);
	create_ctx_free(&c);
	if (log_debug_enabled())
		log_debug("run `%s`: %d fds open at exit", o->id, count_fds());
	return ret;
}
