/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * checkpoint/restore: cabin drives `criu swrk` over its RPC socket as runc does (go-criu),
 * with the same images: descriptors.json next to CRIU's files, bind mounts and masked
 * paths as external mounts, pipes on stdio handed back with inherit_fd. An image written
 * by runc restores here and the other way round, as far as the configs agree.
 *
 * Everything that can be checked without CRIU is checked first (runc's order: the
 * container's state, then --parent-path), then `criu check`: on a kernel CRIU cannot
 * handle, CRIU itself would only die with a connection reset, and the user would get
 * nothing better than "unexpected EOF".
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctr/cgroup.h"
#include "ctr/checkpoint.h"
#include "ctr/container.h"
#include "ctr/criu-rpc.h"
#include "ctr/hooks.h"
#include "ctr/json.h"
#include "ctr/mount.h"
#include "ctr/spec.h"
#include "ctr/state.h"
#include "lib/cleanup.h"
#include "lib/fd-pass.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#define DESCRIPTORS "descriptors.json" /* runc's name: images move between runtimes */

/* ------------------------------------------------------------------ criu check */

/*
 * The messages of CRIU's "Error (file:line): text" lines, joined: `criu check` says why
 * it cannot work (on 6.x kernels it has been the vDSO layout, for instance).
 */
static void error_lines(const char *log, char *out, size_t size)
{
	const char *p = log;
	size_t len = 0;

	out[0] = '\0';
	while (p && *p) {
		const char *eol = strchr(p, '\n'), *msg;
		size_t n = eol ? (size_t)(eol - p) : strlen(p);

		if (!strncmp(p, "Error (", 7) && (msg = memchr(p, ')', n)) && msg + 2 < p + n) {
			msg += 2; /* "): " */
			while (msg < p + n && *msg == ' ')
				msg++;
			if (len + 3 < size) {
				int w = snprintf(out + len, size - len, "%s%.*s", len ? "; " : "",
						 (int)(p + n - msg), msg);

				len = w < 0 ? len : MIN(size - 1, len + (size_t)w);
			}
		}
		p = eol ? eol + 1 : NULL;
	}
}

/*
 * How long `criu check` may take. It answers in well under a second where it works; a
 * kernel feature probe that blocks (a CRIU built for another kernel, a stuck userfaultfd
 * or ptrace probe) must not hang checkpoint, restore and the callers that wait on them
 * (containerd's shim) forever. CABIN_CRIU_CHECK_TIMEOUT (seconds) overrides it.
 */
#define CRIU_CHECK_TIMEOUT_S 30

static int check_timeout_ms(int *ms, struct cabin_err **err)
{
	const char *v = getenv("CABIN_CRIU_CHECK_TIMEOUT");
	char *end = NULL;
	long s;

	*ms = CRIU_CHECK_TIMEOUT_S * 1000;
	if (!v)
		return 0;
	errno = 0;
	s = strtol(v, &end, 10);
	if (errno || end == v || *end || s < 1 || s > 3600)
		return cabin_err_make(err, 0,
				      "CABIN_CRIU_CHECK_TIMEOUT `%s` must be a number of seconds "
				      "(1..3600)",
				      v);
	*ms = (int)s * 1000;
	return 0;
}

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read what `criu check` writes on @fd until it closes it (0), or until @deadline (-ETIMEDOUT).
 * At most @max bytes are kept; the rest is read and dropped.
 */
static int read_until(int fd, long long deadline, char *buf, size_t max, size_t *len)
{
	*len = 0;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - mono_ms();
		char chunk[4096];
		ssize_t n;
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)MIN(left, (long long)INT_MAX));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (!r)
			return -ETIMEDOUT;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : 0;
		if (*len < max) {
			size_t k = MIN((size_t)n, max - *len);

			memcpy(buf + *len, chunk, k);
			*len += k;
		}
	}
}

int ctr_criu_check(const char *criu, struct cabin_err **err)
{
	int pipefd[2], status = 0, timeout, ret;
	cleanup_free char *log = NULL;
	long long deadline;
	char reason[512];
	size_t len = 0;
	pid_t pid, w;

	if (check_timeout_ms(&timeout, err) < 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return cabin_err_make(err, errno, "pipe");
	log = xmalloc(64 * 1024 + 1);
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return cabin_err_make(err, errno, "fork");
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* its own process group: a timeout kills whatever it started too */
		setpgid(0, 0);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(126);
		/* errors only (-v1), on stderr: CRIU writes no log file for a check */
		execlp(criu ? criu : "criu", "criu", "check", "-v1", "--log-file", "/dev/stderr",
		       (char *)NULL);
		_exit(errno == ENOENT ? 127 : 126);
	}
	setpgid(pid, pid); /* the child does it too: whichever runs first */
	close(pipefd[1]);
	deadline = mono_ms() + timeout;
	ret = read_until(pipefd[0], deadline, log, 64 * 1024, &len);
	close(pipefd[0]);
	log[len] = '\0';
	/* stderr closed is not an exit: the wait has the same deadline */
	while (ret == 0 && (w = waitpid(pid, &status, WNOHANG)) != pid) {
		if (w < 0 && errno != EINTR)
			ret = -errno;
		else if (mono_ms() >= deadline)
			ret = -ETIMEDOUT;
		else
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	if (ret < 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (ret < 0 && ret != -ETIMEDOUT)
		return cabin_err_make(err, -ret, "read the answer of `criu check`");
	if (ret == -ETIMEDOUT)
		return cabin_err_make(
			err, 0,
			"CRIU cannot checkpoint/restore on this host: `criu check` did "
			"not answer in %d s (killed)",
			timeout / 1000);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return cabin_err_make(err, 0,
				      "checkpoint/restore needs CRIU: `%s` is not found%s (Debian "
				      "package `criu`)",
				      criu ? criu : "criu",
				      criu && strchr(criu, '/') ? "" : " in PATH");
	error_lines(len ? log : NULL, reason, sizeof(reason));
	if (WIFSIGNALED(status))
		return cabin_err_make(
			err, 0,
			"CRIU cannot checkpoint/restore on this host: `criu check` was "
			"killed by signal %d",
			WTERMSIG(status));
	return cabin_err_make(
		err, 0, "CRIU cannot checkpoint/restore on this host: `criu check` failed: %s",
		reason[0] ? reason : "no reason given (exit status)");
}

/* ------------------------------------------------------------------ criu swrk */

typedef int (*notify_fn)(void *arg, const struct ctr_criu_resp *r, int fd, struct cabin_err **err);

struct swrk {
	pid_t pid;
	int sock;
	const char *log; /* CRIU's log file, for error messages */
};

/*
 * Start `criu swrk 3`: the RPC socket on fd 3, @extra on 4, 5, ... (inherit_fd and
 * external namespaces count on those numbers, as runc's), stdio our own (restore: the
 * restored tasks take the pipes they had from there) or /dev/null.
 */
static int swrk_start(const char *criu, const int *extra, size_t n_extra, int own_stdio,
		      struct swrk *w, struct cabin_err **err)
{
	int sp[2];

	w->pid = -1;
	w->sock = -1;
	if (n_extra > 16)
		return cabin_err_make(err, E2BIG, "criu: too many fds");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return cabin_err_make(err, errno, "socketpair");
	w->pid = fork();
	if (w->pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return cabin_err_make(err, errno, "fork criu");
	}
	if (w->pid == 0) {
		int hi[17], i;

		/* move every fd we pass above the targets first: dup2 must not clobber one */
		hi[0] = fcntl(sp[1], F_DUPFD_CLOEXEC, 64);
		for (i = 0; i < (int)n_extra; i++)
			hi[i + 1] = fcntl(extra[i], F_DUPFD_CLOEXEC, 64);
		for (i = 0; i <= (int)n_extra; i++)
			if (hi[i] < 0 || dup2(hi[i], 3 + i) < 0)
				_exit(126);
		if (!own_stdio) {
			int null = open("/dev/null", O_RDWR);

			if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
				_exit(126);
		}
		syscall(SYS_close_range, 4 + n_extra, ~0U, 0);
		signal(SIGPIPE, SIG_DFL);
		execlp(criu ? criu : "criu", "criu", "swrk", "3", (char *)NULL);
		_exit(127);
	}
	close(sp[1]);
	w->sock = sp[0];
	return 0;
}

static int swrk_wait(struct swrk *w)
{
	int status = 0;

	if (w->pid <= 0)
		return -1;
	while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
		;
	w->pid = -1;
	return status;
}

static void swrk_close(struct swrk *w)
{
	if (w->sock >= 0)
		close(w->sock);
	w->sock = -1;
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		swrk_wait(w);
	}
}

static int swrk_send(struct swrk *w, const uint8_t *buf, size_t len, struct cabin_err **err)
{
	ssize_t n;

	do
		n = send(w->sock, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len)
		return cabin_err_make(err, n < 0 ? errno : EPIPE, "send to criu");
	return 0;
}

static const char *req_name(enum ctr_criu_req_type t)
{
	switch (t) {
	case CTR_CRIU_DUMP:
		return "dump";
	case CTR_CRIU_PRE_DUMP:
		return "pre-dump";
	case CTR_CRIU_RESTORE:
		return "restore";
	case CTR_CRIU_FEATURE_CHECK:
		return "feature check";
	case CTR_CRIU_EMPTY:
	case CTR_CRIU_CHECK:
	case CTR_CRIU_NOTIFY:
	case CTR_CRIU_VERSION:
		break;
	}
	return "request";
}

/* the last "Error" lines of CRIU's log, so that the error says why without opening it */
static void log_reason(const char *path, char *out, size_t size)
{
	cleanup_free char *buf = NULL;
	size_t len = 0;

	out[0] = '\0';
	if (!path || fs_read_file(path, 4 << 20, &buf, &len, NULL) < 0)
		return;
	error_lines(buf, out, size);
}

/*
 * One request and its answer; NOTIFY messages in between go to @cb (with the fd CRIU
 * passed, for orphan-pts-master) and are acknowledged. CRIU's answers are its own, but a
 * crash mid-way must read as a failure, not as an empty success.
 */
static int swrk_call(struct swrk *w, enum ctr_criu_req_type type, const struct ctr_criu_opts *o,
		     const struct ctr_criu_features *feat, notify_fn cb, void *arg,
		     struct ctr_criu_resp *resp, struct cabin_err **err)
{
	cleanup_free uint8_t *req = NULL;
	cleanup_free uint8_t *buf = xmalloc(64 * 1024);
	size_t len = ctr_criu_req_encode(type, o, 0, feat, &req);
	char reason[512];

	if (swrk_send(w, req, len, err) < 0)
		return -1;
	for (;;) {
		int fds[4], fd, ret;
		size_t nfds = 0;
		ssize_t n;

		/* a truncated answer or one with more fds than these is refused, its fds closed */
		n = fd_pass_recv(w->sock, buf, 64 * 1024, fds, ARRAY_SIZE(fds), &nfds);
		if (n == -EMSGSIZE)
			return cabin_err_make(err, EMSGSIZE, "criu %s: answer too large",
					      req_name(type));
		if (n < 0)
			return cabin_err_make(err, (int)-n, "criu %s: read", req_name(type));
		/* only the first fd is used (orphan-pts-master) */
		fd = fds[0];
		for (size_t i = 1; i < nfds; i++)
			close(fds[i]);
		if (n == 0) {
			int status;

			status = swrk_wait(w);
			log_reason(w->log, reason, sizeof(reason));
			return cabin_err_make(
				err, 0, "criu %s: criu exited (%s %d) without an answer%s%s%s%s",
				req_name(type), WIFSIGNALED(status) ? "signal" : "status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
				reason[0] ? ": " : "", reason, w->log ? "; log: " : "",
				w->log ? w->log : "");
		}
		if (ctr_criu_resp_decode(buf, (size_t)n, resp) < 0) {
			if (fd >= 0)
				close(fd);
			return cabin_err_make(err, EBADMSG, "criu %s: malformed answer",
					      req_name(type));
		}
		if (!resp->success) {
			if (fd >= 0)
				close(fd);
			log_reason(w->log, reason, sizeof(reason));
			return cabin_err_make(err, resp->cr_errno > 0 ? resp->cr_errno : 0,
					      "criu %s failed: %s%s%s", req_name(type),
					      resp->cr_errmsg[0] ? resp->cr_errmsg
					      : reason[0]	 ? reason
								 : "no reason given",
					      w->log ? "; log: " : "", w->log ? w->log : "");
		}
		if (resp->type != CTR_CRIU_NOTIFY) {
			if (fd >= 0)
				close(fd);
			if (resp->type != (int)type)
				return cabin_err_make(err, EPROTO, "criu %s: answer of type %d",
						      req_name(type), resp->type);
			return 0;
		}
		ret = cb ? cb(arg, resp, fd, err) : 0;
		if (fd >= 0)
			close(fd);
		if (ret < 0)
			return cabin_err_wrap(err, "criu %s: %s", req_name(type), resp->script);
		{
			cleanup_free uint8_t *ack = NULL;
			size_t alen = ctr_criu_req_encode(CTR_CRIU_NOTIFY, NULL, 1, NULL, &ack);

			if (swrk_send(w, ack, alen, err) < 0)
				return -1;
		}
	}
}

/* ------------------------------------------------------------------ shared options */

static int open_dir(const char *path, const char *what, struct cabin_err **err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return cabin_err_make(err, errno, "%s `%s`", what, path);
	return fd;
}

/* mkdir unless it exists; *created says whether this call made it */
static int make_dir(const char *path, const char *what, int *created, struct cabin_err **err)
{
	*created = 0;
	if (mkdir(path, 0700) == 0)
		*created = 1;
	else if (errno != EEXIST)
		return cabin_err_make(err, errno, "%s: mkdir `%s`", what, path);
	return 0;
}

struct ext_list {
	struct ctr_criu_kv *v;
	size_t n;
};

static void ext_add(struct ext_list *l, const char *key, const char *val)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n].key = key;
	l->v[l->n].val = val;
	l->n++;
}

/*
 * The per-container CRIU configuration file: annotation org.criu.config (empty: none),
 * else /etc/criu/cabin.conf (runc reads runc.conf; CRIU ignores a missing file).
 */
static const char *config_file(json_t *annotations)
{
	json_t *v = json_object_get(annotations, "org.criu.config");

	if (json_is_string(v))
		return json_string_value(v)[0] ? json_string_value(v) : NULL;
	return "/etc/criu/cabin.conf";
}

static void common_opts(struct ctr_criu_opts *ro, const struct ctr_criu_common *c)
{
	ro->log_level = 4;
	ro->manage_cgroups = 1;
	ro->notify_scripts = 1;
	ro->shell_job = c->shell_job;
	ro->tcp_established = c->tcp_established;
	ro->ext_unix_sk = c->ext_unix_sk;
	ro->file_locks = c->file_locks;
	/* runc never restores the network namespace's devices: it does not manage them */
	ro->empty_ns = c->empty_ns | CLONE_NEWNET;
	ro->orphan_pts_master = 1;
	ro->auto_dedup = c->auto_dedup;
	ro->lazy_pages = c->lazy_pages;
	ro->manage_cgroups_mode = c->manage_cgroups_mode;
}

/* "extRootNetNS", the key runc gives an external namespace */
static const char *ext_ns_key(int flag)
{
	return flag == CLONE_NEWNET ? "extRootNetNS" : "extRootPidNS";
}

static const char *ns_path(const struct ctr_spec *s, int flag)
{
	for (size_t i = 0; i < s->n_joins; i++)
		if (s->joins[i].flag == flag)
			return s->joins[i].path;
	return NULL;
}

static char *image_dir(const struct ctr_criu_common *c)
{
	char cwd[PATH_MAX];

	if (c->image_path)
		return xstrdup(c->image_path);
	if (!getcwd(cwd, sizeof(cwd)))
		return xstrdup("checkpoint");
	return xasprintf("%s/checkpoint", cwd);
}

/* ------------------------------------------------------------------ checkpoint */

/* the stdio of the init, as runc records it: "pipe:[N]", "/dev/null", "/dev/pts/0"... */
static int write_descriptors(int imgfd, pid_t pid, struct cabin_err **err)
{
	cleanup_json json_t *a = json_array();
	cleanup_free char *text = NULL;

	for (int i = 0; i < 3; i++) {
		char path[64], target[PATH_MAX];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, i);
		n = readlink(path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		json_array_append_new(a, json_string(n < 0 ? "" : target));
	}
	text = json_dumps(a, JSON_COMPACT);
	if (!text)
		return cabin_err_make(err, ENOMEM, "encode " DESCRIPTORS);
	return fs_write_file_atomic(imgfd, DESCRIPTORS, text, strlen(text), 0600, 0, err);
}

/* the container's configuration, as kept in its state directory at create */
static int load_state_spec(const struct ctr_state *st, struct ctr_spec **out,
			   struct cabin_err **err)
{
	json_error_t jerr;
	cleanup_json json_t *j = NULL;

	if (!st->config)
		return cabin_err_make(err, 0, "container `%s` has no configuration", st->id);
	j = ctr_json_load_file(st->config, 0, &jerr);
	if (!j)
		return cabin_err_make(err, 0, "`%s`: %s", st->config, jerr.text);
	return ctr_spec_parse(j, st->bundle, out, err);
}

/*
 * --status-fd: CRIU (3.15 on) says "status-ready" once the lazy-pages server listens;
 * the caller then gets one NUL byte there, as with runc.
 */
static int dump_notify(void *arg, const struct ctr_criu_resp *r, int fd, struct cabin_err **err)
{
	int *status_fd = arg;

	if (!strcmp(r->script, "status-ready") && *status_fd >= 0) {
		if (write(*status_fd, "", 1) != 1)
			log_warn("--status-fd %d: %s", *status_fd, strerror(errno));
		close(*status_fd);
		*status_fd = -1;
	}
	return 0;
}

/* Remove what a failed dump left in an image directory we created, but CRIU's log. */
static void clean_image_dir(const char *path, int keep_log)
{
	cleanup_closedir DIR *d = NULL;
	cleanup_close int fd = -1;
	struct dirent *de;
	struct cabin_err *e = NULL;

	if (!keep_log) {
		if (rmdir(path) < 0 && errno != ENOENT) {
			cleanup_free char *parent = xstrdup(path);
			char *slash = strrchr(parent, '/');
			cleanup_close int pfd = -1;

			if (slash && slash != parent)
				*slash = '\0';
			pfd = open(slash ? (slash == parent ? "/" : parent) : ".",
				   O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (pfd >= 0 && fs_rm_rf_at(pfd, slash ? slash + 1 : path, &e) < 0)
				log_warn("%s", cabin_err_msg(e));
			cabin_err_release(&e);
		}
		return;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	d = fdopendir(dup(fd));
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, "dump.log") || !strcmp(de->d_name, "pre-dump.log"))
			continue;
		if (fs_rm_rf_at(fd, de->d_name, &e) < 0)
			log_warn("%s", cabin_err_msg(e));
		cabin_err_release(&e);
	}
}

static int dump_mounts(const struct ctr_spec *s, pid_t pid, struct ext_list *ext,
		       struct cabin_err **err)
{
	static const char *const dev_defaults[] = { "/dev/null",   "/dev/zero",	   "/dev/full",
						    "/dev/random", "/dev/urandom", "/dev/tty" };
	size_t i;

	/*
	 * Bind mounts come from outside the container: CRIU records them as external,
	 * keyed by their mount point, and restore maps them back to the sources.
	 */
	for (i = 0; i < s->n_mounts; i++)
		if (s->mounts[i].kind == CTR_MOUNT_BIND)
			ext_add(ext, s->mounts[i].dest, s->mounts[i].dest);
	/* a masked file is /dev/null bound over it; a masked directory is a tmpfs */
	for (i = 0; s->masked && s->masked[i]; i++) {
		char path[PATH_MAX];
		struct stat sb;

		if (snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, s->masked[i]) >=
		    (int)sizeof(path))
			continue;
		if (stat(path, &sb) < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return cabin_err_make(err, errno, "masked path `%s`", s->masked[i]);
		}
		if (!S_ISDIR(sb.st_mode))
			ext_add(ext, s->masked[i], "/dev/null");
	}
	/* device nodes may be binds of the host's (in a user namespace) */
	for (i = 0; i < s->n_devices; i++)
		ext_add(ext, s->devices[i].path, s->devices[i].path);
	for (i = 0; i < ARRAY_SIZE(dev_defaults); i++)
		ext_add(ext, dev_defaults[i], dev_defaults[i]);
	return 0;
}

/* A namespace the container joined by path stays outside the image: "net[INODE]:KEY". */
static int dump_external_ns(const struct ctr_spec *s, char **ext, size_t *n, struct cabin_err **err)
{
	static const int flags[] = { CLONE_NEWNET, CLONE_NEWPID };

	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		const char *p = ns_path(s, flags[i]);
		struct stat sb;

		if (!p)
			continue;
		if (stat(p, &sb) < 0)
			return cabin_err_make(err, errno, "namespace `%s`", p);
		ext[(*n)++] = xasprintf("%s[%llu]:%s", flags[i] == CLONE_NEWNET ? "net" : "pid",
					(unsigned long long)sb.st_ino, ext_ns_key(flags[i]));
	}
	return 0;
}

static int check_parent(const char *img, const char *parent, struct cabin_err **err)
{
	cleanup_free char *real = NULL;
	struct stat sb;

	if (!parent || !*parent)
		return 0;
	if (parent[0] == '/')
		return cabin_err_make(err, 0, "--parent-path must be relative (to --image-path)");
	real = xasprintf("%s/%s", img, parent);
	if (stat(real, &sb) < 0)
		return cabin_err_make(err, errno, "invalid --parent-path: `%s`", real);
	if (!S_ISDIR(sb.st_mode))
		return cabin_err_make(err, ENOTDIR, "invalid --parent-path: `%s`", real);
	return 0;
}

static int do_checkpoint(const struct ctr_checkpoint_opts *o, const char *img, int *img_created,
			 int *work_created, struct cabin_err **err)
{
	cleanup_state struct ctr_state *st = NULL;
	cleanup_spec struct ctr_spec *s = NULL;
	cleanup_close int imgfd = -1, workfd = -1;
	cleanup_free char *log = NULL;
	struct ctr_cgroup *cg = NULL;
	struct ctr_criu_opts ro;
	struct ctr_criu_resp resp;
	struct ext_list ext = { 0 };
	char *external[2] = { NULL, NULL };
	const char *ext_c[2];
	size_t n_external = 0;
	enum ctr_status status;
	struct swrk w = { .pid = -1, .sock = -1 };
	int status_fd = o->c.lazy_pages ? o->status_fd : -1;
	int ret = -1;

	if (ctr_id_validate(o->id, err) < 0 || ctr_state_load(o->root, o->id, &st, err) < 0)
		return -1;
	status = ctr_state_status(o->root, st);
	if (status != CTR_RUNNING && status != CTR_PAUSED)
		return cabin_err_make(err, 0, "container `%s` cannot be checkpointed in %s state",
				      o->id, ctr_status_name(status));
	if (check_parent(img, o->parent_path, err) < 0)
		return -1;
	if (o->c.lazy_pages && status_fd >= 0) {
		int fl = fcntl(status_fd, F_GETFL);

		if (fl < 0)
			return cabin_err_make(err, errno, "invalid --status-fd %d", status_fd);
		if ((fl & O_ACCMODE) == O_RDONLY)
			return cabin_err_make(err, 0, "invalid --status-fd %d: not writable",
					      status_fd);
	}
	if (ctr_criu_check(o->c.criu, err) < 0)
		return -1;
	if (load_state_spec(st, &s, err) < 0)
		return -1;

	/* Only from here on does anything change: the directories, then CRIU. */
	if (make_dir(img, "--image-path", img_created, err) < 0)
		return -1;
	imgfd = open_dir(img, "--image-path", err);
	if (imgfd < 0)
		return -1;
	ctr_criu_opts_init(&ro);
	common_opts(&ro, &o->c);
	if (o->c.work_path) {
		if (make_dir(o->c.work_path, "--work-path", work_created, err) < 0)
			return -1;
		workfd = open_dir(o->c.work_path, "--work-path", err);
		if (workfd < 0)
			return -1;
	}
	ro.images_dir_fd = imgfd;
	ro.work_dir_fd = workfd;
	ro.log_file = o->pre_dump ? "pre-dump.log" : "dump.log";
	log = xasprintf("%s/%s", o->c.work_path ? o->c.work_path : img, ro.log_file);
	w.log = log;
	ro.root = s->rootfs;
	ro.pid = st->pid;
	ro.leave_running = o->leave_running;
	ro.config_file = config_file(st->annotations);
	if (dump_external_ns(s, external, &n_external, err) < 0)
		goto out;
	for (size_t i = 0; i < n_external; i++)
		ext_c[i] = external[i];
	ro.external = ext_c;
	ro.n_external = n_external;
	/*
	 * The freezer stops every task at once (CRIU otherwise seizes them one by one with
	 * ptrace, racing with forks); v1, or v2 (cgroup.freeze, CRIU >= 3.14).
	 */
	if (st->cgroup && ctr_cgroup_from_string(st->cgroup, &cg, NULL) == 0)
		ro.freeze_cgroup = ctr_cgroup_freezer_dir(cg);
	if (o->ps_address) {
		ro.ps_address = o->ps_address;
		ro.ps_port = o->ps_port;
	}
	if (o->parent_path && *o->parent_path) {
		ro.parent_img = o->parent_path;
		ro.track_mem = 1;
	}
	if (!o->pre_dump) {
		if (dump_mounts(s, st->pid, &ext, err) < 0)
			goto out;
		ro.ext_mnt = ext.v;
		ro.n_ext_mnt = ext.n;
		if (write_descriptors(imgfd, st->pid, err) < 0)
			goto out;
	}
	if (o->pre_dump || o->c.lazy_pages) {
		struct ctr_criu_features want = { .mem_track = o->pre_dump ? 1 : -1,
						  .lazy_pages = o->c.lazy_pages ? 1 : -1 };

		if (swrk_start(o->c.criu, NULL, 0, 0, &w, err) < 0)
			goto out;
		if (swrk_call(&w, CTR_CRIU_FEATURE_CHECK, &ro, &want, NULL, NULL, &resp, err) < 0)
			goto out;
		swrk_close(&w);
		if (o->pre_dump && resp.features.mem_track != 1) {
			cabin_err_make(err, 0,
				       "--pre-dump: CRIU cannot track memory changes on this host");
			goto out;
		}
		if (o->c.lazy_pages && resp.features.lazy_pages != 1) {
			cabin_err_make(err, 0,
				       "--lazy-pages: CRIU has no lazy pages on this host "
				       "(userfaultfd)");
			goto out;
		}
	}
	if (swrk_start(o->c.criu, NULL, 0, 0, &w, err) < 0)
		goto out;
	if (swrk_call(&w, o->pre_dump ? CTR_CRIU_PRE_DUMP : CTR_CRIU_DUMP, &ro, NULL, dump_notify,
		      &status_fd, &resp, err) < 0)
		goto out;
	/* after PRE_DUMP CRIU waits for more requests: closing our end ends it */
	close(w.sock);
	w.sock = -1;
	{
		int wst = swrk_wait(&w);

		if (!o->pre_dump && !(WIFEXITED(wst) && WEXITSTATUS(wst) == 0)) {
			cabin_err_make(err, 0, "criu dump: criu exited with status %d; log: %s",
				       WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst),
				       log);
			goto out;
		}
	}
	ret = 0;
out:
	swrk_close(&w);
	ctr_cgroup_free(cg);
	for (size_t i = 0; i < n_external; i++)
		free(external[i]);
	free(ext.v);
	if (ret < 0 && imgfd >= 0 && !*img_created)
		unlinkat(imgfd, DESCRIPTORS, 0);
	return ret;
}

int ctr_checkpoint(const struct ctr_checkpoint_opts *o, struct cabin_err **err)
{
	cleanup_free char *img = image_dir(&o->c);
	int img_created = 0, work_created = 0;
	struct cabin_err *e = NULL;

	if (do_checkpoint(o, img, &img_created, &work_created, err) < 0) {
		/*
		 * Nothing half-written stays behind in a directory we made; CRIU's log
		 * does (it is named in the error) unless it went into a --work-path.
		 */
		if (img_created)
			clean_image_dir(img, !o->c.work_path);
		return cabin_err_wrap(err, "checkpoint `%s`", o->id);
	}
	/* the processes are gone (CRIU killed them): the container goes too, as runc */
	if (!o->leave_running && !o->pre_dump && ctr_delete(o->root, o->id, 1, &e) < 0) {
		log_warn("checkpoint `%s`: %s", o->id, cabin_err_msg(e));
		cabin_err_release(&e);
	}
	return 0;
}

/* ------------------------------------------------------------------ restore */

struct restore_ctx {
	const struct ctr_restore_opts *o;
	struct ctr_spec *spec;
	struct ctr_state st;
	struct ctr_cgroup *cg;
	char *bundle, *dir, *criu_root;
	int dirfd, console;
	int dir_made, root_mounted;
	pid_t pid; /* the restored init, once CRIU said so */
};

static char *now_rfc3339(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

static int restore_notify(void *arg, const struct ctr_criu_resp *r, int fd, struct cabin_err **err)
{
	struct restore_ctx *c = arg;

	if (!strcmp(r->script, "setup-namespaces")) {
		/* the namespaces exist, nothing of the container runs yet: runc's hook point */
		cleanup_json json_t *state = NULL;

		if (!ctr_hooks_present(c->spec->hooks, "prestart") &&
		    !ctr_hooks_present(c->spec->hooks, "createRuntime"))
			return 0;
		c->st.pid = r->notify_pid;
		state = ctr_state_to_json(&c->st, CTR_CREATED);
		if (ctr_hooks_run(c->spec->hooks, "prestart", state, err) < 0 ||
		    ctr_hooks_run(c->spec->hooks, "createRuntime", state, err) < 0)
			return -1;
		return 0;
	}
	if (!strcmp(r->script, "post-restore")) {
		if (r->notify_pid <= 0)
			return cabin_err_make(err, EPROTO, "no pid for the restored init");
		c->pid = r->notify_pid;
		c->st.pid = c->pid;
		c->st.start_time = ctr_proc_start_time(c->pid);
		return ctr_state_save(c->dirfd, &c->st, err);
	}
	if (!strcmp(r->script, "orphan-pts-master")) {
		/* the container had a terminal: its new master goes where create's would */
		if (fd < 0)
			return cabin_err_make(err, EPROTO, "no pty master from criu");
		if (c->console < 0)
			return cabin_err_make(err, 0,
					      "the checkpoint has a terminal: --console-socket is "
					      "required");
		return ctr_console_send(c->console, fd, err);
	}
	return 0;
}

static void restore_rollback(struct restore_ctx *c)
{
	struct cabin_err *e = NULL;

	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->pid = 0;
	}
	if (c->cg && ctr_cgroup_destroy(c->cg, &e) < 0)
		log_warn("%s", cabin_err_msg(e));
	cabin_err_release(&e);
	if (c->dir_made) {
		cleanup_close int rfd = open(c->o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (c->root_mounted)
			umount2(c->criu_root, MNT_DETACH);
		c->root_mounted = 0;
		if (rfd >= 0 && ctr_state_dir_remove(rfd, c->o->id, &e) < 0)
			log_warn("%s", cabin_err_msg(e));
		cabin_err_release(&e);
	}
}

static void restore_ctx_free(struct restore_ctx *c)
{
	if (c->root_mounted) {
		umount2(c->criu_root, MNT_DETACH);
		rmdir(c->criu_root);
	}
	if (c->dirfd >= 0)
		close(c->dirfd);
	if (c->console >= 0)
		close(c->console);
	ctr_cgroup_free(c->cg);
	ctr_spec_free(c->spec);
	free(c->bundle);
	free(c->dir);
	free(c->criu_root);
	free(c->st.created);
	free(c->st.cgroup);
	free(c->st.config);
	json_decref(c->st.poststop);
	json_decref(c->st.process);
}

/* descriptors.json of the image: the init's stdio at dump time */
static int read_descriptors(int imgfd, const char *img, json_t **out, struct cabin_err **err)
{
	cleanup_close int fd = openat(imgfd, DESCRIPTORS, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	json_error_t jerr;
	ssize_t n;
	cleanup_json json_t *j = NULL;

	if (fd < 0)
		return cabin_err_make(
			err, errno, "`%s/" DESCRIPTORS "` (not a checkpoint of a container)", img);
	n = fs_read_fd(fd, 64 * 1024, &buf);
	if (n < 0)
		return cabin_err_make(err, (int)-n, "read `%s/" DESCRIPTORS "`", img);
	j = ctr_json_loadb(buf, (size_t)n, 0, &jerr);
	if (!j || !json_is_array(j) || json_array_size(j) > 3)
		return cabin_err_make(err, 0, "`%s/" DESCRIPTORS "`: not an array of 3 strings",
				      img);
	*out = steal_ptr(&j);
	return 0;
}

/* /proc/PID/cgroup as CRIU's cgroup roots: the v1 hierarchies the restored tasks go to */
static int cg_roots(pid_t pid, struct ext_list *l, char ***strs, struct cabin_err **err)
{
	char path[64], line[4096];
	cleanup_fclose FILE *f = NULL;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return cabin_err_make(err, errno, "open `%s`", path);
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2 || c2 == c1 + 1) /* "0::/path": cgroup2, no controller */
			continue;
		*c2 = '\0';
		c2[strcspn(c2 + 1, "\n") + 1] = '\0';
		*strs = xrealloc(*strs, (n + 2) * sizeof(char *));
		(*strs)[n++] = xstrdup(c1 + 1);
		(*strs)[n++] = xstrdup(c2 + 1);
		ext_add(l, (*strs)[n - 2], (*strs)[n - 1]);
	}
	*strs = xrealloc(*strs, (n + 1) * sizeof(char *));
	(*strs)[n] = NULL;
	return 0;
}

/*
 * CRIU mounts on the mount points the container had, in the rootfs given at restore: that
 * may be a fresh copy of the image, without the directories (or files, for a bind of a
 * file) create made. Make them as create would, resolved inside the rootfs (its symlinks
 * are the container's), except below a tmpfs: CRIU restores a tmpfs with its contents.
 */
static int restore_mountpoints(const struct ctr_spec *s, struct cabin_err **err)
{
	cleanup_close int rootfd = open(s->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0)
		return cabin_err_make(err, errno, "open rootfs `%s`", s->rootfs);
	for (size_t i = 0; i < s->n_mounts; i++) {
		const struct ctr_mount *m = &s->mounts[i];
		int under_tmpfs = 0, dir = 1, fd;
		struct stat sb;

		if (m->kind == CTR_MOUNT_CGROUP || !strcmp(m->dest, "/"))
			continue;
		for (size_t j = 0; j < s->n_mounts && !under_tmpfs; j++) {
			size_t n = strlen(s->mounts[j].dest);

			under_tmpfs = j != i && s->mounts[j].type &&
				      !strcmp(s->mounts[j].type, "tmpfs") &&
				      !strncmp(m->dest, s->mounts[j].dest, n) && m->dest[n] == '/';
		}
		if (under_tmpfs)
			continue;
		if (m->kind == CTR_MOUNT_BIND && m->source && stat(m->source, &sb) == 0 &&
		    !S_ISDIR(sb.st_mode))
			dir = 0;
		fd = ctr_mount_mkpath(rootfd, m->dest, dir);
		if (fd < 0)
			return cabin_err_make(err, -fd, "mount point `%s` in the rootfs", m->dest);
		close(fd);
	}
	return 0;
}

static int do_restore(struct restore_ctx *c, struct cabin_err **err)
{
	const struct ctr_restore_opts *o = c->o;
	cleanup_free char *img = image_dir(&o->c);
	cleanup_free char *log = NULL;
	cleanup_close int imgfd = -1, workfd = -1, rootdirfd = -1;
	char **cgstr = NULL;
	const char *external_key[2];
	struct ctr_criu_fd inherit[5];
	size_t n_inherit = 0;
	int extra[2], n_extra = 0;
	struct ext_list ext = { 0 }, cgr = { 0 }, joins = { 0 };
	struct ctr_criu_opts ro;
	struct ctr_criu_resp resp;
	struct swrk w = { .pid = -1, .sock = -1 };
	cleanup_json json_t *fds = NULL;
	struct ctr_spec *s;
	struct stat sb;
	int work_created = 0, ret = -1;

	if (ctr_id_validate(o->id, err) < 0)
		return -1;
	c->bundle = realpath(o->bundle ? o->bundle : ".", NULL);
	if (!c->bundle)
		return cabin_err_make(err, errno, "bundle `%s`", o->bundle ? o->bundle : ".");
	if (ctr_spec_load(c->bundle, &c->spec, err) < 0)
		return -1;
	s = c->spec;
	if (!s->process)
		return cabin_err_make(err, 0, "config.json: `process` is required");
	if (stat(s->rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return cabin_err_make(err, errno ? errno : ENOTDIR,
				      "config.json: `root.path`: rootfs `%s` is not a directory",
				      s->rootfs);
	if (ns_path(s, CLONE_NEWCGROUP))
		return cabin_err_make(err, 0,
				      "config.json: a cgroup namespace joined by path cannot be "
				      "restored (CRIU cannot join it)");
	{
		cleanup_free char *d = ctr_state_dir(o->root, o->id);

		if (access(d, F_OK) == 0)
			return cabin_err_make(err, 0, "container `%s` already exists", o->id);
	}
	imgfd = open_dir(img, "--image-path", err);
	if (imgfd < 0)
		return -1;
	if (read_descriptors(imgfd, img, &fds, err) < 0)
		return -1;
	if (ctr_criu_check(o->c.criu, err) < 0)
		goto out;

	/* From the exclusive mkdir on, everything is undone by restore_rollback(). */
	if (fs_mkdir_p(o->root, 0700, err) < 0)
		goto out;
	rootdirfd = open_dir(o->root, "state directory", err);
	if (rootdirfd < 0)
		goto out;
	if (ctr_state_dir_make(rootdirfd, o->id, err) < 0) {
		cabin_err_wrap(err, "`%s`", o->root);
		goto out;
	}
	c->dir_made = 1;
	c->dir = ctr_state_dir(o->root, o->id);
	c->dirfd = open_dir(c->dir, "state directory", err);
	if (c->dirfd < 0)
		goto out;
	{
		cleanup_free char *copy = json_dumps(s->json, JSON_COMPACT);

		if (!copy || fs_write_file_atomic(c->dirfd, "config.json", copy, strlen(copy), 0600,
						  0, err) < 0) {
			cabin_err_wrap(err, "keep a copy of config.json");
			goto out;
		}
	}
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
	if (o->console_socket) {
		c->console = ctr_console_connect(o->console_socket, err);
		if (c->console < 0) {
			cabin_err_wrap(err, "--console-socket");
			goto out;
		}
	}

	ctr_criu_opts_init(&ro);
	common_opts(&ro, &o->c);
	ro.images_dir_fd = imgfd;
	if (o->c.work_path) {
		if (make_dir(o->c.work_path, "--work-path", &work_created, err) < 0)
			goto out;
		workfd = open_dir(o->c.work_path, "--work-path", err);
		if (workfd < 0)
			goto out;
		ro.work_dir_fd = workfd;
	}
	ro.log_file = "restore.log";
	log = xasprintf("%s/restore.log", o->c.work_path ? o->c.work_path : img);
	w.log = log;
	ro.evasive_devices = 1;
	ro.rst_sibling = 1; /* the restored init becomes our child, as create's */
	ro.config_file = config_file(s->annotations);
	ro.lsm_profile = o->lsm_profile;
	ro.lsm_mount_context = o->lsm_mount_context;

	/*
	 * CRIU wants a root that is a mount point whose parent is not overmounted: a
	 * recursive bind of the rootfs in the state directory is both.
	 */
	c->criu_root = xasprintf("%s/criu-root", c->dir);
	if (mkdir(c->criu_root, 0755) < 0 ||
	    mount(s->rootfs, c->criu_root, NULL, MS_BIND | MS_REC, NULL) < 0) {
		cabin_err_make(err, errno, "bind `%s` on `%s`", s->rootfs, c->criu_root);
		goto out;
	}
	c->root_mounted = 1;
	ro.root = c->criu_root;
	if (restore_mountpoints(s, err) < 0)
		goto out;

	/* bind mounts back to their sources; masked files to /dev/null; device binds */
	for (size_t i = 0; i < s->n_mounts; i++)
		if (s->mounts[i].kind == CTR_MOUNT_BIND)
			ext_add(&ext, s->mounts[i].dest, s->mounts[i].source);
	if (s->masked && s->masked[0])
		ext_add(&ext, "/dev/null", "/dev/null");
	for (size_t i = 0; i < s->n_devices; i++)
		ext_add(&ext, s->devices[i].path, s->devices[i].path);
	ro.ext_mnt = ext.v;
	ro.n_ext_mnt = ext.n;

	/* stdio pipes of the dump are ours now: CRIU reconnects them by their old names */
	for (size_t i = 0; i < json_array_size(fds); i++) {
		const char *d = json_string_value(json_array_get(fds, i));

		if (d && strstr(d, "pipe:")) {
			inherit[n_inherit].key = d;
			inherit[n_inherit].fd = (int)i;
			n_inherit++;
		}
	}
	/* joined net/pid namespaces were external at dump: the same keys, on fds 4, 5 */
	{
		static const int flags[] = { CLONE_NEWNET, CLONE_NEWPID };

		for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
			const char *p = ns_path(s, flags[i]);

			if (!p)
				continue;
			extra[n_extra] = open(p, O_RDONLY | O_CLOEXEC);
			if (extra[n_extra] < 0) {
				cabin_err_make(err, errno, "namespace `%s`", p);
				goto out;
			}
			external_key[n_extra] = ext_ns_key(flags[i]);
			inherit[n_inherit].key = external_key[n_extra];
			inherit[n_inherit].fd = 4 + n_extra;
			n_inherit++;
			n_extra++;
		}
	}
	ro.inherit_fd = inherit;
	ro.n_inherit_fd = n_inherit;
	/* other namespaces joined by path: CRIU enters them (cgroup refused above) */
	for (size_t i = 0; i < s->n_joins; i++) {
		int f = s->joins[i].flag;

		if (f == CLONE_NEWNET || f == CLONE_NEWPID || f == CLONE_NEWCGROUP)
			continue;
		ext_add(&joins, ctr_ns_proc_name(f), s->joins[i].path);
	}
	ro.join_ns = joins.v;
	ro.n_join_ns = joins.n;

	if (swrk_start(o->c.criu, extra, (size_t)n_extra, 1, &w, err) < 0)
		goto out;
	/*
	 * The cgroups are made now, around CRIU itself: the tasks it restores are placed
	 * from there, into the v1 roots named below (runc's criuApplyCgroups).
	 */
	if (!o->no_cgroups) {
		cleanup_json json_t *res = s->resources ? json_deep_copy(s->resources) : NULL;
		int r = ctr_cgroup_create(s->cgroups_path, o->id, res, w.pid, &c->cg, err);

		if (r < 0)
			goto out;
		c->st.cgroup = c->cg ? ctr_cgroup_to_string(c->cg) : NULL;
		if (ctr_cgroup_host_mode() != CTR_CGROUP_V2 &&
		    cg_roots(w.pid, &cgr, &cgstr, err) < 0)
			goto out;
		ro.cg_root = cgr.v;
		ro.n_cg_root = cgr.n;
	}
	/* a first state.json, so that delete finds the cgroup whatever happens next */
	if (ctr_state_save(c->dirfd, &c->st, err) < 0)
		goto out;
	if (swrk_call(&w, CTR_CRIU_RESTORE, &ro, NULL, restore_notify, c, &resp, err) < 0)
		goto out;
	if (resp.restore_pid > 0 && c->pid <= 0) {
		c->pid = resp.restore_pid;
		c->st.pid = c->pid;
		c->st.start_time = ctr_proc_start_time(c->pid);
		if (ctr_state_save(c->dirfd, &c->st, err) < 0)
			goto out;
	}
	if (c->pid <= 0) {
		cabin_err_make(err, EPROTO, "criu restore: no pid for the restored init");
		goto out;
	}
	close(w.sock);
	w.sock = -1;
	swrk_wait(&w);
	/* CRIU is done with its root: the restored tasks hold their own mounts */
	umount2(c->criu_root, MNT_DETACH);
	rmdir(c->criu_root);
	c->root_mounted = 0;
	if (o->pid_file && ctr_write_pid_file(o->pid_file, c->pid, err) < 0)
		goto out;
	ret = 0;
out:
	swrk_close(&w);
	for (int i = 0; i < n_extra; i++)
		close(extra[i]);
	for (size_t i = 0; cgstr && cgstr[i]; i++)
		free(cgstr[i]);
	free(cgstr);
	free(ext.v);
	free(cgr.v);
	free(joins.v);
	if (ret < 0 && work_created && !c->dir_made)
		rmdir(o->c.work_path);
	return ret;
}

int ctr_restore(const struct ctr_restore_opts *o, struct cabin_err **err)
{
	struct restore_ctx c = { .o = o, .dirfd = -1, .console = -1 };
	struct cabin_err *e = NULL;
	sigset_t set, old;
	int ret, status = 0;

	/* as `run`: orphans of a foreground container are reaped here, not by the host's init */
	if (!o->detach && !o->no_subreaper && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		log_warn("restore `%s`: become child subreaper: %s", o->id, strerror(errno));
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, &old);
	ret = do_restore(&c, err);
	if (ret < 0) {
		restore_rollback(&c);
		cabin_err_wrap(err, "restore `%s`", o->id);
		goto out;
	}
	if (o->detach)
		goto out;
	/* foreground: forward signals, reap, exit with the init's status, delete */
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&set, &si);
		pid_t p;

		if (sig < 0)
			continue;
		if (sig != SIGCHLD) {
			kill(c.pid, sig);
			continue;
		}
		while ((p = waitpid(-1, &status, WNOHANG)) > 0 && p != c.pid)
			;
		if (p == c.pid)
			break;
	}
	c.pid = 0;
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	if (ctr_delete(o->root, o->id, 1, &e) < 0)
		log_warn("%s", cabin_err_msg(e));
	cabin_err_release(&e);
out:
	sigprocmask(SIG_SETMASK, &old, NULL);
	restore_ctx_free(&c);
	return ret;
}
