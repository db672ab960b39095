/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "box/box.h"
#include "ctr/cloned-binary.h"
#include "ctr/container.h"
#include "img/layer.h"
#include "img/manifest.h"
#include "img/registry.h"
#include "img/store.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "net/net.h"

#define RECORD_MAX (1u << 20)

char *box_now(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%09ldZ", buf, ts.tv_nsec);
}

unsigned long long box_proc_starttime(pid_t pid)
{
	cleanup_free char *path = xasprintf("/proc/%d/stat", pid), *buf = NULL;
	unsigned long long v = 0;
	char *p;

	if (pid <= 0 || fs_read_file(path, 4096, &buf, NULL, NULL) < 0)
		return 0;
	/* the command may hold spaces and parentheses: fields start after the last ')' */
	p = strrchr(buf, ')');
	for (int f = 2; p && f < 22; f++)
		p = strchr(p + 1, ' ');
	if (p)
		v = strtoull(p + 1, NULL, 10);
	return v;
}

static char *cdir_of(const char *data_root, const char *id)
{
	return xasprintf("%s/containers/%s", data_root, id);
}

int box_record_save(const char *data_root, const char *id, json_t *rec, struct cabin_err **err)
{
	cleanup_free char *dir = cdir_of(data_root, id);
	cleanup_free char *txt = json_dumps(rec, JSON_INDENT(2) | JSON_SORT_KEYS);
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return cabin_err_make(err, errno, "container `%.12s`", id);
	return fs_write_file_atomic(dfd, "container.json", txt, strlen(txt), 0600, 0, err);
}

const char *box_status(json_t *rec)
{
	const char *st = json_string_value(json_object_get(rec, "state"));
	pid_t mp = (pid_t)json_integer_value(json_object_get(rec, "monitorPid"));
	unsigned long long start =
		(unsigned long long)json_integer_value(json_object_get(rec, "monitorStart"));

	if (!st)
		return "unknown";
	/* A monitor that died (kill -9, a reboot) cannot report: the container is gone. */
	if ((!strcmp(st, "running") || !strcmp(st, "restarting")) &&
	    box_proc_starttime(mp) != start)
		return "exited";
	return st;
}

int box_load(const char *data_root, const char *id, json_t **rec, struct cabin_err **err)
{
	cleanup_free char *path = xasprintf("%s/containers/%s/container.json", data_root, id);
	cleanup_free char *buf = NULL;
	json_error_t je;
	size_t len;

	if (fs_read_file(path, RECORD_MAX, &buf, &len, err) < 0)
		return cabin_err_wrap(err, "container `%.12s`", id);
	*rec = json_loadb(buf, len, 0, &je);
	if (!*rec)
		return cabin_err_make(err, 0, "`%s`: %s", path, je.text);
	return 0;
}

json_t *box_list(const char *data_root)
{
	cleanup_free char *dir = xasprintf("%s/containers", data_root);
	cleanup_closedir DIR *d = opendir(dir);
	json_t *arr = json_array();
	struct dirent *de;

	while (d && (de = readdir(d))) {
		struct cabin_err *e = NULL;
		json_t *rec;

		if (de->d_name[0] == '.' || strlen(de->d_name) != 64)
			continue;
		if (box_load(data_root, de->d_name, &rec, &e) == 0)
			json_array_append_new(arr, rec);
		cabin_err_release(&e);
	}
	return arr;
}

int box_find(const char *data_root, const char *ref, char id[65], struct cabin_err **err)
{
	cleanup_free char *link = NULL;
	cleanup_json json_t *all = NULL;
	json_t *rec;
	char target[128];
	size_t i, found = 0;
	ssize_t n;

	if (!*ref || strchr(ref, '/') || !strcmp(ref, ".") || !strcmp(ref, ".."))
		return cabin_err_make(err, 0, "no such container `%s`", ref);
	link = xasprintf("%s/names/%s", data_root, ref);
	n = readlink(link, target, sizeof(target) - 1);
	if (n == 64) {
		memcpy(id, target, 64);
		id[64] = '\0';
		return 0;
	}
	all = box_list(data_root);
	json_array_foreach(all, i, rec)
	{
		const char *rid = json_string_value(json_object_get(rec, "id"));

		if (rid && strlen(ref) >= 3 && !strncmp(rid, ref, strlen(ref))) {
			snprintf(id, 65, "%s", rid);
			found++;
		}
	}
	if (found == 1)
		return 0;
	if (found > 1)
		return cabin_err_make(err, 0, "container ID prefix `%s` is ambiguous", ref);
	return cabin_err_make(err, ENOENT, "no such container `%s`", ref);
}

void box_cleanup(const char *data_root, const char *id, json_t *rec)
{
	cleanup_free char *dir = xasprintf("%s/containers", data_root);
	cleanup_free char *rootfs = xasprintf("%s/%s/rootfs", dir, id);
	const char *name = json_string_value(json_object_get(rec, "name"));
	cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct cabin_err *e = NULL;

	if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		log_warn("umount `%s`: %s", rootfs, strerror(errno));
	if (net_detach(data_root, id, &e) < 0)
		log_warn("%s", cabin_err_msg(e));
	cabin_err_release(&e);
	if (name) {
		cleanup_free char *link = xasprintf("%s/names/%s", data_root, name);
		char target[128];
		ssize_t n = readlink(link, target, sizeof(target) - 1);

		/* only our own name: it may have been reused after an earlier removal */
		if (n == 64 && !strncmp(target, id, 64))
			unlink(link);
	}
	if (dfd >= 0 && fs_rm_rf_at(dfd, id, &e) < 0)
		log_warn("%s", cabin_err_msg(e));
	cabin_err_release(&e);
}

/* ---- run ---- */

static void store_free(struct img_store **s)
{
	img_store_free(*s);
}

/* The image's record and config, pulling it first if the policy says so. */
static int get_image(const struct box_run_opts *o, char *imgid, json_t **rec, json_t **cfg,
		     struct cabin_err **err)
{
	__attribute__((cleanup(store_free))) struct img_store *s = NULL;
	const char *pull = o->pull ? o->pull : "missing";
	int found;

	if (img_store_open(o->data_root, 0, &s, err) < 0)
		return -1;
	found = !strcmp(pull, "always") ? -1 : img_store_resolve(s, o->image, imgid, NULL, err);
	if (found >= 0 && o->platform) {
		/* --platform: an image of another platform under this name is not the one */
		if (img_store_image_get(s, imgid, rec, err) < 0 ||
		    img_store_image_config(s, *rec, cfg, err) < 0)
			return -1;
		if (!img_platform_match(*cfg, o->platform)) {
			cleanup_free char *have = img_platform_string(*cfg);

			json_decref(*rec);
			json_decref(*cfg);
			*rec = *cfg = NULL;
			if (!strcmp(pull, "never"))
				return cabin_err_make(err, 0,
						      "image `%s` is for platform `%s`, not `%s` "
						      "(and --pull never)",
						      o->image, have, o->platform);
			found = -1;
		} else {
			return 0;
		}
	}
	if (found < 0) {
		struct img_pull_opts po = { .tls_verify = 1,
					    .progress = stderr,
					    .platform = o->platform };

		if (!strcmp(pull, "never"))
			return -1;
		cabin_err_release(err);
		img_store_free(s);
		s = NULL;
		if (img_store_open(o->data_root, 1, &s, err) < 0 ||
		    img_pull(s, o->image, &po, imgid, err) < 0)
			return -1;
	}
	if (img_store_image_get(s, imgid, rec, err) < 0 ||
	    img_store_image_config(s, *rec, cfg, err) < 0)
		return -1;
	return 0;
}

/*
 * The root filesystem: overlayfs over the image's layers (topmost first) with the
 * container's own upper directory; where overlayfs cannot be mounted (some user
 * namespaces, or CABIN_NO_OVERLAY=1 to test it), a copy with the same content.
 */
static int mount_rootfs(const struct box_run_opts *o, json_t *img, const char *cdir, char **mode,
			struct cabin_err **err)
{
	cleanup_free char *rootfs = xasprintf("%s/rootfs", cdir);
	cleanup_free char *upper = xasprintf("%s/upper", cdir), *work = xasprintf("%s/work", cdir);
	json_t *layers = json_object_get(img, "layers");
	size_t n = json_array_size(layers), cap = 256, len = 0;
	cleanup_free char *lower = xmalloc(cap), *opts = NULL;
	const char *no = getenv("CABIN_NO_OVERLAY");

	if (mkdir(rootfs, 0755) < 0 || mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0)
		return cabin_err_make(err, errno, "mkdir in `%s`", cdir);
	lower[0] = '\0';
	for (size_t i = n; i-- > 0;) {
		const char *di =
			json_string_value(json_object_get(json_array_get(layers, i), "diffID"));
		cleanup_free char *p = xasprintf("%s/layers/%s", o->data_root, di ? di + 7 : "?");

		if (len + strlen(p) + 2 > cap) {
			cap = 2 * (len + strlen(p) + 2);
			lower = xrealloc(lower, cap);
		}
		len += (size_t)snprintf(lower + len, cap - len, "%s%s", len ? ":" : "", p);
	}
	if (!n) {
		/* an image with no layer: an empty lower directory */
		cleanup_free char *empty = xasprintf("%s/empty", cdir);

		mkdir(empty, 0755);
		free(lower);
		lower = xstrdup(empty);
	}
	opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
	if (!(no && !strcmp(no, "1")) && strlen(opts) < 4000 &&
	    mount("overlay", rootfs, "overlay", 0, opts) == 0) {
		*mode = xstrdup("overlay");
		return 0;
	}
	if (!(no && !strcmp(no, "1")))
		log_debug("overlayfs: %s; copying the layers instead", strerror(errno));
	{
		cleanup_close int dst = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		for (size_t i = 0; i < n; i++) {
			const char *di = json_string_value(
				json_object_get(json_array_get(layers, i), "diffID"));
			cleanup_free char *p =
				xasprintf("%s/layers/%s", o->data_root, di ? di + 7 : "?");
			cleanup_close int src = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (src < 0)
				return cabin_err_make(err, errno, "layer `%s`", p);
			if (img_layer_apply_copy(src, dst, err) < 0)
				return cabin_err_wrap(err, "copy layer `%.19s`", di);
		}
	}
	*mode = xstrdup("copy");
	return 0;
}

static int random_id(char id[65], struct cabin_err **err)
{
	unsigned char r[32];

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return cabin_err_make(err, errno, "getrandom");
	for (int i = 0; i < 32; i++)
		snprintf(id + 2 * i, 3, "%02x", r[i]);
	return 0;
}

static int name_ok(const char *n)
{
	size_t len = strlen(n);

	if (!len || len > 128 ||
	    !((n[0] >= 'a' && n[0] <= 'z') || (n[0] >= 'A' && n[0] <= 'Z') ||
	      (n[0] >= '0' && n[0] <= '9')))
		return 0;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '.' || *p == '-'))
			return 0;
	return 1;
}

/*
 * The monitor's life: a round per run of the container, as long as the restart policy
 * asks for one (box_monitor returns 1) and `stop` has not been asked for. Docker's delay
 * between runs: 100 ms, doubled each time up to a minute, back to 100 ms after a run of
 * 10 s or more.
 */
static int monitor_rounds(const char *data_root, const char *id, int syncfd, int in, int out,
			  int errfd)
{
	long delay = 100;

	for (;;) {
		struct cabin_err *e = NULL;
		struct timespec t0, t1;
		int r;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = box_monitor(data_root, id, syncfd, in, out, errfd, &e);
		cabin_err_release(&e);
		/* only the first run talks to the CLI: it returned with that exit status */
		for (int *fd = (int[]){ syncfd, in, out, errfd }, k = 0; k < 4; k++)
			if (fd[k] >= 0)
				close(fd[k]);
		syncfd = in = out = errfd = -1;
		if (r != 1)
			return r < 0 ? 1 : 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec >= 10)
			delay = 100;
		for (long waited = 0; waited < delay; waited += 20) {
			if (box_stop_requested(data_root, id))
				break;
			usleep(20000);
		}
		if (box_stop_requested(data_root, id)) {
			box_monitor_finish(data_root, id);
			return 0;
		}
		delay = delay * 2 > 60000 ? 60000 : delay * 2;
	}
}

/* Read one line "OK PID", "ERR MSG" or "EXIT CODE" from the monitor. */
static int read_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	return (int)n;
}

static struct termios saved_tio;
static int tio_saved;
static volatile pid_t fg_pid, fg_monitor;

/*
 * Docker's sig-proxy: the signals of a foreground `run` go to the container's init; a
 * terminal resize goes to the monitor, which holds the pty master.
 */
static void forward_signal(int sig)
{
	pid_t p = sig == SIGWINCH ? fg_monitor : fg_pid;

	if (p > 0)
		kill(p, sig);
}

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(0, TCSANOW, &saved_tio);
}

/* a container with a pty in the foreground: the pty in the container does the line discipline */
static void raw_tty(void)
{
	struct termios raw;

	if (!isatty(0) || tcgetattr(0, &saved_tio) < 0)
		return;
	raw = saved_tio;
	cfmakeraw(&raw);
	tio_saved = 1;
	atexit(restore_tty);
	tcsetattr(0, TCSANOW, &raw);
}

/*
 * The foreground of `run` and `start -a`: the monitor said "OK PID MONITOR" in @okline;
 * forward signals until it says "EXIT STATUS" on @syncfd. Return: the status.
 */
static int follow(int syncfd, const char *okline, int tty, const char *id, struct cabin_err **err)
{
	struct sigaction sa = { .sa_handler = forward_signal, .sa_flags = SA_RESTART };
	const char *sp = strchr(okline + 3, ' ');
	char line[4200];
	int ret;

	fg_pid = (pid_t)atol(okline + 3);
	fg_monitor = sp ? (pid_t)atol(sp + 1) : 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (tty)
		sigaction(SIGWINCH, &sa, NULL);
	if (read_line(syncfd, line, sizeof(line)) > 0 && !strncmp(line, "EXIT ", 5))
		ret = atoi(line + 5);
	else
		ret = cabin_err_make(err, 0, "the monitor of `%.12s` went away", id);
	restore_tty();
	return ret;
}

int box_run(const struct box_run_opts *o, char *id, struct cabin_err **err)
{
	cleanup_free char *cdir = NULL, *bundle = NULL, *rootfs = NULL, *mode = NULL;
	cleanup_free char *names = NULL, *link = NULL, *imgname = NULL;
	cleanup_json json_t *img = NULL, *cfg = NULL, *spec = NULL, *rec = NULL;
	cleanup_json json_t *mrec = NULL; /* the record holds its own reference */
	json_t *v;
	char imgid[80], name[140], line[4200];
	int sync[2] = { -1, -1 }, status, ret = -1, named = 0, mounted = 0;
	pid_t child;

	if (o->name && !name_ok(o->name))
		return cabin_err_make(
			err, 0,
			"container name `%s`: letters, digits and `_.-`, starting with "
			"a letter or digit",
			o->name);
	if (o->init && !getenv("CABIN_INIT")) {
		/* found now: after the re-execution below, /proc/self/exe is the sealed copy */
		cleanup_free char *ip = box_init_path();

		if (ip)
			setenv("CABIN_INIT", ip, 1);
	}
	/*
	 * A container given CAP_SYS_PTRACE is created from a sealed copy of the binary
	 * (ctr/cloned-binary.c), which re-executes the process from its command line. The
	 * monitor must not be that process (it would run this whole command again): take
	 * the copy here, before anything is made, and the monitor inherits it.
	 */
	if (box_caps_has(o, "CAP_SYS_PTRACE") && ctr_cloned_binary_ensure(err) < 0)
		goto out;
	if (get_image(o, imgid, &img, &cfg, err) < 0)
		goto out;
	if (random_id(id, err) < 0)
		goto out;
	snprintf(name, sizeof(name), "%s", o->name ? o->name : "");
	if (!*name)
		snprintf(name, sizeof(name), "cabin-%.8s", id);
	cdir = cdir_of(o->data_root, id);
	names = xasprintf("%s/names", o->data_root);
	if (fs_mkdir_p(names, 0700, err) < 0 || fs_mkdir_p(cdir, 0700, err) < 0)
		goto out;
	/* The name is taken by an exclusive symlink(2): two runs never share it. */
	link = xasprintf("%s/%s", names, name);
	if (symlink(id, link) < 0) {
		char target[128];
		ssize_t n = readlink(link, target, sizeof(target) - 1);

		if (errno == EEXIST)
			cabin_err_make(err, 0,
				       "the container name `%s` is already in use by container "
				       "`%.12s`",
				       name, n > 0 ? target : "?");
		else
			cabin_err_make(err, errno, "name `%s`", link);
		goto out_rm;
	}
	named = 1;
	if (mount_rootfs(o, img, cdir, &mode, err) < 0)
		goto out_rm;
	mounted = 1;
	rootfs = xasprintf("%s/rootfs", cdir);
	bundle = xasprintf("%s/bundle", cdir);
	if (mkdir(bundle, 0700) < 0) {
		cabin_err_make(err, errno, "mkdir `%s`", bundle);
		goto out_rm;
	}
	if (box_spec_build(o, cfg, id, rootfs, cdir, &spec, &mrec, err) < 0)
		goto out_rm;
	{
		cleanup_close int bfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		cleanup_free char *txt = json_dumps(spec, JSON_INDENT(2));

		if (bfd < 0 ||
		    fs_write_file_atomic(bfd, "config.json", txt, strlen(txt), 0600, 0, err) < 0)
			goto out_rm;
	}
	{
		cleanup_free char *now = box_now(), *logp = xasprintf("%s/ctr.log", cdir);
		json_t *ports = json_array(), *cmdv;
		const char *stopsig =
			o->stop_signal ? o->stop_signal
				       : json_string_value(json_object_get(
						 json_object_get(cfg, "config"), "StopSignal"));

		for (size_t i = 0; o->publish && o->publish[i]; i++)
			json_array_append_new(ports, json_string(o->publish[i]));
		cmdv = json_deep_copy(json_object_get(json_object_get(spec, "process"), "args"));
		rec = json_pack(
			"{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:b,s:b,s:b,s:s,s:s,s:I,s:i,"
			"s:o,s:O,s:s*,s:s,s:o}",
			"id", id, "name", name, "image", imgid, "imageName", o->image, "created",
			now, "state", "created", "cmd", cmdv, "rootfsMode", mode, "runtimeRoot",
			o->runtime_root, "tty", o->tty, "interactive", o->interactive, "autoRemove",
			o->rm, "logPath", logp, "logDriver",
			o->log_driver ? o->log_driver : "json-file", "logMaxSize",
			(json_int_t)o->log_max_size, "logMaxFile",
			o->log_max_file > 0 ? o->log_max_file : 1, "ports", ports, "mounts", mrec,
			"stopSignal", stopsig, "network", o->network ? o->network : "bridge", "env",
			json_deep_copy(json_object_get(json_object_get(spec, "process"), "env")));
		if (rec)
			json_object_set(
				rec, "exposedPorts",
				json_object_get(json_object_get(cfg, "config"), "ExposedPorts")
					?: json_null());
		if (!rec) {
			cabin_err_make(err, ENOMEM, "container record");
			goto out_rm;
		}
		if (box_record_extra(o, cfg, spec, rec, err) < 0)
			goto out_rm;
		if (box_record_save(o->data_root, id, rec, err) < 0)
			goto out_rm;
	}
	if (o->create_only) {
		ret = 0; /* `container create`: `container start` forks the monitor */
		goto out;
	}
	if (pipe2(sync, O_CLOEXEC) < 0) {
		cabin_err_make(err, errno, "pipe");
		goto out_rm;
	}
	fflush(NULL);
	child = fork();
	if (child < 0) {
		cabin_err_make(err, errno, "fork the monitor");
		goto out_rm;
	}
	if (child == 0) {
		/* A session of its own, reparented away from the CLI: it outlives it. */
		int in = -1, outfd = -1, errfd = -1, nul;

		setsid();
		if (fork() != 0)
			_exit(0);
		close(sync[0]);
		if (!o->detach) {
			/* keep the CLI's terminal or pipes: the foreground stream */
			in = o->interactive ? fcntl(0, F_DUPFD_CLOEXEC, 3) : -1;
			outfd = fcntl(1, F_DUPFD_CLOEXEC, 3);
			errfd = fcntl(2, F_DUPFD_CLOEXEC, 3);
		}
		nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		close(nul);
		{
			/* the monitor's own warnings */
			cleanup_free char *ml = xasprintf("%s/monitor.log", cdir);
			int lfd = open(ml, O_WRONLY | O_CREAT | O_APPEND, 0600);

			if (lfd >= 0) {
				dup2(lfd, 2);
				close(lfd);
			}
		}
		_exit(monitor_rounds(o->data_root, id, sync[1], in, outfd, errfd));
	}
	close(sync[1]);
	sync[1] = -1;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (o->tty && !o->detach)
		raw_tty();
	if (read_line(sync[0], line, sizeof(line)) <= 0 || strncmp(line, "OK ", 3)) {
		restore_tty();
		cabin_err_make(err, 0, "%s",
			       !strncmp(line, "ERR ", 4) ? line + 4 : "the monitor failed");
		/* the monitor removed the runtime state and the network; the rest is ours */
		goto out_rm;
	}
	if (o->detach) {
		ret = 0;
		goto out;
	}
	ret = follow(sync[0], line, o->tty, id, err);
	goto out;
out_rm:
	if (named || mounted) {
		cleanup_json json_t *r = rec ? json_incref(rec) : json_pack("{s:s}", "name", name);

		if (!named)
			json_object_del(r, "name");
		box_cleanup(o->data_root, id, r);
	} else if (cdir) {
		rmdir(cdir);
	}
	(void)v;
out:
	if (sync[0] >= 0)
		close(sync[0]);
	if (sync[1] >= 0)
		close(sync[1]);
	free(imgname);
	return ret;
}

/* ---- lifecycle ---- */

int box_start(const char *data_root, const char *id, int attach, int interactive,
	      struct cabin_err **err)
{
	cleanup_json json_t *rec = NULL;
	cleanup_free char *mark = xasprintf("%s/containers/%s/stop-requested", data_root, id);
	cleanup_free char *ml = xasprintf("%s/containers/%s/monitor.log", data_root, id);
	char line[4200];
	int sync[2] = { -1, -1 }, status, n;
	const char *st;
	pid_t child;
	int tty, ret;

	if (box_load(data_root, id, &rec, err) < 0)
		return -1;
	st = box_status(rec);
	tty = json_is_true(json_object_get(rec, "tty"));
	if (!strcmp(st, "running") || !strcmp(st, "restarting")) {
		if (attach)
			return cabin_err_make(err, 0,
					      "container `%.12s` is already running: `container "
					      "logs -f` follows its output",
					      id);
		return 0; /* Docker: starting a running container is fine */
	}
	/* an earlier stop must not end this run */
	if (unlink(mark) < 0 && errno != ENOENT)
		return cabin_err_make(err, errno, "remove `%s`", mark);
	if (pipe2(sync, O_CLOEXEC) < 0)
		return cabin_err_make(err, errno, "pipe");
	fflush(NULL);
	child = fork();
	if (child < 0) {
		close(sync[0]);
		close(sync[1]);
		return cabin_err_make(err, errno, "fork the monitor");
	}
	if (child == 0) {
		/* as box_run's monitor: a session of its own; attached, our stdio streams */
		int nul, lfd, in = -1, outfd = -1, errfd = -1;

		setsid();
		if (fork() != 0)
			_exit(0);
		close(sync[0]);
		if (attach) {
			in = interactive ? fcntl(0, F_DUPFD_CLOEXEC, 3) : -1;
			outfd = fcntl(1, F_DUPFD_CLOEXEC, 3);
			errfd = fcntl(2, F_DUPFD_CLOEXEC, 3);
		}
		nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		close(nul);
		lfd = open(ml, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (lfd >= 0) {
			dup2(lfd, 2);
			close(lfd);
		}
		_exit(monitor_rounds(data_root, id, sync[1], in, outfd, errfd));
	}
	close(sync[1]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (attach && tty)
		raw_tty();
	n = read_line(sync[0], line, sizeof(line));
	if (n <= 0 || strncmp(line, "OK ", 3)) {
		restore_tty();
		close(sync[0]);
		return cabin_err_make(err, 0, "start `%.12s`: %s", id,
				      n > 0 && !strncmp(line, "ERR ", 4) ? line + 4
									 : "the monitor failed");
	}
	ret = attach ? follow(sync[0], line, tty, id, err) : 0;
	close(sync[0]);
	return ret;
}

int box_kill(const char *data_root, const char *id, int sig, struct cabin_err **err)
{
	cleanup_json json_t *rec = NULL;

	if (box_load(data_root, id, &rec, err) < 0)
		return -1;
	if (strcmp(box_status(rec), "running"))
		return cabin_err_make(err, 0, "container `%.12s` is not running", id);
	return ctr_kill(json_string_value(json_object_get(rec, "runtimeRoot")), id, sig, 0, err);
}

/* Wait until the record says exited (or is gone); @timeout_ms < 0: forever. */
static int wait_exit(const char *data_root, const char *id, long timeout_ms, int *code)
{
	for (long waited = 0;; waited += 20) {
		struct cabin_err *e = NULL;
		cleanup_json json_t *rec = NULL;
		const char *st;

		if (box_load(data_root, id, &rec, &e) < 0) {
			cabin_err_release(&e);
			return 1; /* removed (--rm) */
		}
		st = box_status(rec);
		if (!strcmp(st, "exited") || !strcmp(st, "created")) {
			if (code)
				*code = (int)json_integer_value(json_object_get(rec, "exitCode"));
			return 1;
		}
		if (timeout_ms >= 0 && waited >= timeout_ms)
			return 0;
		usleep(20000);
	}
}

int box_signal_parse(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	if (*s >= '0' && *s <= '9') {
		v = strtol(s, &end, 10);
		return *end || v <= 0 || v >= NSIG ? -1 : (int)v;
	}
	for (int i = 1; i < NSIG; i++)
		if (sigabbrev_np(i) && !strcasecmp(sigabbrev_np(i), s))
			return i;
	return -1;
}

int box_stop(const char *data_root, const char *id, int timeout, struct cabin_err **err)
{
	cleanup_json json_t *rec = NULL;
	const char *rroot;
	int sig;

	if (box_load(data_root, id, &rec, err) < 0)
		return -1;
	if (strcmp(box_status(rec), "running") && strcmp(box_status(rec), "restarting"))
		return 0; /* Docker: stopping a stopped container is fine */
	{
		/* the restart policy must not undo a stop: the monitor looks for this first */
		cleanup_free char *mark =
			xasprintf("%s/containers/%s/stop-requested", data_root, id);
		cleanup_close int mfd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (mfd < 0)
			return cabin_err_make(err, errno, "create `%s`", mark);
	}
	if (timeout == BOX_TIMEOUT_UNSET) {
		json_t *t = json_object_get(rec, "stopTimeout");

		timeout = json_is_integer(t) ? (int)json_integer_value(t) : 10;
	}
	rroot = json_string_value(json_object_get(rec, "runtimeRoot"));
	sig = box_signal_parse(json_string_value(json_object_get(rec, "stopSignal")));
	if (sig <= 0)
		sig = SIGTERM;
	{
		struct cabin_err *e = NULL;

		if (ctr_kill(rroot, id, sig, 0, &e) < 0)
			log_debug("stop: %s", cabin_err_msg(e));
		cabin_err_release(&e);
	}
	if (!wait_exit(data_root, id, timeout < 0 ? -1 : (long)timeout * 1000, NULL)) {
		struct cabin_err *e = NULL;

		if (ctr_kill(rroot, id, SIGKILL, 1, &e) < 0)
			log_debug("stop: %s", cabin_err_msg(e));
		cabin_err_release(&e);
		wait_exit(data_root, id, 10000, NULL);
	}
	return 0;
}

int box_wait(const char *data_root, const char *id, struct cabin_err **err)
{
	int code = 0;

	wait_exit(data_root, id, -1, &code);
	return code;
}

int box_rm(const char *data_root, const char *id, int force, struct cabin_err **err)
{
	cleanup_json json_t *rec = NULL;

	if (box_load(data_root, id, &rec, err) < 0)
		return -1;
	if (!strcmp(box_status(rec), "running") || !strcmp(box_status(rec), "restarting")) {
		if (!force)
			return cabin_err_make(
				err, 0, "container `%.12s` is running: stop it first or use -f",
				id);
		box_stop(data_root, id, 0, err);
		/* the record of a stopped container: reloaded */
		cleanup_json_fn(&rec);
		if (box_load(data_root, id, &rec, err) < 0) {
			cabin_err_release(err);
			return 0; /* it was --rm: the monitor removed it */
		}
	}
	{
		/* a monitor killed hard leaves the runtime's state: remove it too */
		struct cabin_err *e = NULL;
		const char *rroot = json_string_value(json_object_get(rec, "runtimeRoot"));
		cleanup_json json_t *st = NULL;

		if (rroot && ctr_state_get(rroot, id, &st, &e) == 0)
			ctr_delete(rroot, id, 1, &e);
		cabin_err_release(&e);
	}
	box_cleanup(data_root, id, rec);
	return 0;
}

/* ---- logs ---- */

struct logline {
	int stream;
	char *ts, *text;
	size_t len;
};

static int parse_log_line(const char *line, int k8s, struct logline *l)
{
	if (k8s) {
		const char *s1 = strchr(line, ' '), *s2 = s1 ? strchr(s1 + 1, ' ') : NULL;
		const char *s3 = s2 ? strchr(s2 + 1, ' ') : NULL;

		if (!s3)
			return -1;
		l->ts = xstrndup(line, (size_t)(s1 - line));
		l->stream = !strncmp(s1 + 1, "stderr", 6);
		l->text = s2[1] == 'F' ? xasprintf("%s\n", s3 + 1) : xstrdup(s3 + 1);
		l->len = strlen(l->text);
		return 0;
	}
	{
		cleanup_json json_t *j = json_loads(line, 0, NULL);
		json_t *lv = json_object_get(j, "log");

		if (!json_is_string(lv))
			return -1;
		l->len = json_string_length(lv);
		l->text = xmalloc(l->len + 1);
		memcpy(l->text, json_string_value(lv), l->len + 1);
		l->stream =
			!strcmp(json_string_value(json_object_get(j, "stream")) ?: "", "stderr");
		l->ts = xstrdup(json_string_value(json_object_get(j, "time")) ?: "");
	}
	return 0;
}

static void emit(const struct logline *l, int ts)
{
	FILE *f = l->stream ? stderr : stdout;

	if (ts)
		fprintf(f, "%s ", l->ts);
	fwrite(l->text, 1, l->len, f);
	fflush(f);
}

int box_logs(const char *data_root, const char *id, const struct box_logs_opts *o,
	     struct cabin_err **err)
{
	cleanup_json json_t *rec = NULL;
	cleanup_free char *path = NULL;
	cleanup_fclose FILE *f = NULL;
	char **ring = NULL;
	size_t rn = 0, cap = 0;
	int k8s, maxf;
	char *line = NULL;
	size_t lcap = 0;

	if (box_load(data_root, id, &rec, err) < 0)
		return -1;
	path = xstrdup(json_string_value(json_object_get(rec, "logPath")));
	k8s = !strcmp(json_string_value(json_object_get(rec, "logDriver")) ?: "", "k8s-file");
	maxf = (int)json_integer_value(json_object_get(rec, "logMaxFile"));
	/* rotated files first, oldest first */
	for (int i = maxf - 1; i >= 0; i--) {
		cleanup_free char *p = i ? xasprintf("%s.%d", path, i) : xstrdup(path);
		cleanup_fclose FILE *rf = fopen(p, "re");

		while (rf && getline(&line, &lcap, rf) > 0) {
			if (rn == cap) {
				cap = cap ? 2 * cap : 256;
				ring = xrealloc(ring, cap * sizeof(*ring));
			}
			ring[rn++] = xstrdup(line);
		}
		if (i == 0 && rf) {
			f = rf;
			rf = NULL;
		}
	}
	for (size_t i = 0; i < rn; i++) {
		struct logline l;

		if ((o->tail < 0 || i + (size_t)o->tail >= rn) &&
		    parse_log_line(ring[i], k8s, &l) == 0) {
			emit(&l, o->timestamps);
			free(l.ts);
			free(l.text);
		}
		free(ring[i]);
	}
	free(ring);
	while (o->follow) {
		struct cabin_err *e = NULL;
		cleanup_json json_t *r = NULL;
		int done;

		clearerr(f ? f : stdin);
		while (f && getline(&line, &lcap, f) > 0) {
			struct logline l;

			if (parse_log_line(line, k8s, &l) == 0) {
				emit(&l, o->timestamps);
				free(l.ts);
				free(l.text);
			}
		}
		if (box_load(data_root, id, &r, &e) < 0) {
			cabin_err_release(&e);
			break;
		}
		/* a restart policy's pause between runs does not end the stream */
		done = strcmp(box_status(r), "running") && strcmp(box_status(r), "restarting");
		if (done) {
			/* the last lines were written before the record changed */
			while (f && getline(&line, &lcap, f) > 0) {
				struct logline l;

				if (parse_log_line(line, k8s, &l) == 0) {
					emit(&l, o->timestamps);
					free(l.ts);
					free(l.text);
				}
			}
			break;
		}
		if (!f)
			f = fopen(path, "re");
		usleep(50000);
	}
	free(line);
	return 0;
}

/* ---- exec ---- */

int box_exec(const char *data_root, const char *id, char **argv, char **env, const char *workdir,
	     const char *user, int tty, int detach, struct cabin_err **err)
{
	cleanup_free char *rootfs = xasprintf("%s/containers/%s/rootfs", data_root, id);
	cleanup_free char *home = NULL;
	cleanup_close int rootfd = -1;
	struct ctr_exec_opts eo = { 0 };
	cleanup_json json_t *rec = NULL, *proc = NULL, *args = json_array(), *extra = NULL;
	json_t *envj;
	uid_t uid;
	gid_t gid;

	if (box_load(data_root, id, &rec, err) < 0)
		return -1;
	if (strcmp(box_status(rec), "running"))
		return cabin_err_make(err, 0, "container `%.12s` is not running", id);
	for (size_t i = 0; argv[i]; i++)
		json_array_append_new(args, json_string(argv[i]));
	envj = json_deep_copy(json_object_get(rec, "env"));
	if (!envj)
		envj = json_array();
	for (size_t i = 0; env && env[i]; i++)
		json_array_append_new(envj, json_string(env[i]));
	rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	proc = json_pack("{s:b,s:o,s:o,s:s}", "terminal", tty, "args", steal_ptr(&args), "env",
			 envj, "cwd", workdir ? workdir : "/");
	if (!workdir) {
		/* the container's working directory, from its config.json */
		cleanup_free char *cfgp =
			xasprintf("%s/containers/%s/bundle/config.json", data_root, id);
		cleanup_json json_t *spec = json_load_file(cfgp, 0, NULL);
		json_t *p = json_object_get(spec, "process");

		if (json_string_value(json_object_get(p, "cwd")))
			json_object_set(proc, "cwd", json_object_get(p, "cwd"));
		if (!user)
			json_object_set(proc, "user", json_object_get(p, "user"));
		json_object_set(proc, "capabilities", json_object_get(p, "capabilities"));
	}
	if (user) {
		if (rootfd < 0 ||
		    box_user_resolve(rootfd, user, &uid, &gid, &extra, &home, err) < 0)
			return rootfd < 0 ? cabin_err_make(err, errno, "rootfs") : -1;
		json_object_set_new(proc, "user",
				    json_pack("{s:I,s:I,s:o}", "uid", (json_int_t)uid, "gid",
					      (json_int_t)gid, "additionalGids",
					      steal_ptr(&extra)));
	}
	eo.root = json_string_value(json_object_get(rec, "runtimeRoot"));
	eo.id = id;
	eo.process = proc;
	eo.detach = detach;
	return ctr_exec(&eo, err);
}

/* ---- inspect, df, prune ---- */

json_t *box_inspect(json_t *rec)
{
	const char *st = box_status(rec);
	int running = !strcmp(st, "running");
	json_t *out, *cfg;

	out = json_pack(
		"{s:O,s:O,s:O,s:O,s:{s:s,s:b,s:I,s:O*,s:O*,s:O*},s:{s:O,s:O,s:O*,s:O*,s:b},"
		"s:O*,s:{s:O*,s:O*,s:O*},s:O*,s:O,s:O}",
		"Id", json_object_get(rec, "id"), "Name", json_object_get(rec, "name"), "Image",
		json_object_get(rec, "image"), "Created", json_object_get(rec, "created"), "State",
		"Status", st, "Running", running, "Pid",
		(json_int_t)(running ? json_integer_value(json_object_get(rec, "pid")) : 0),
		"ExitCode", json_object_get(rec, "exitCode"), "StartedAt",
		json_object_get(rec, "startedAt"), "FinishedAt", json_object_get(rec, "finishedAt"),
		"Config", "Image", json_object_get(rec, "imageName"), "Cmd",
		json_object_get(rec, "cmd"), "Env", json_object_get(rec, "env"), "ExposedPorts",
		json_object_get(rec, "exposedPorts"), "Tty",
		json_is_true(json_object_get(rec, "tty")), "Mounts", json_object_get(rec, "mounts"),
		"NetworkSettings", "Network", json_object_get(rec, "network"), "IPAddress",
		json_object_get(rec, "ip"), "Ports", json_object_get(rec, "ports"), "LogPath",
		json_object_get(rec, "logPath"), "GraphDriver", json_object_get(rec, "rootfsMode"),
		"AutoRemove", json_object_get(rec, "autoRemove"));
	if (!out)
		return json_object();
	cfg = json_object_get(out, "Config");
	json_object_set_new(cfg, "Labels",
			    json_deep_copy(json_object_get(rec, "labels")) ?: json_object());
	if (json_object_get(rec, "hostname"))
		json_object_set(cfg, "Hostname", json_object_get(rec, "hostname"));
	if (json_object_get(rec, "stopSignal"))
		json_object_set(cfg, "StopSignal", json_object_get(rec, "stopSignal"));
	if (json_object_get(rec, "stopTimeout"))
		json_object_set(cfg, "StopTimeout", json_object_get(rec, "stopTimeout"));
	json_object_set_new(out, "RestartCount",
			    json_integer(json_integer_value(json_object_get(rec, "restartCount"))));
	json_object_set_new(
		out, "HostConfig",
		json_pack("{s:b,s:b,s:O*,s:{s:s,s:I},s:O*,s:O*,s:O*,s:O*,s:O*,s:O*}", "Privileged",
			  json_is_true(json_object_get(rec, "privileged")), "Init",
			  json_is_true(json_object_get(rec, "init")), "CapAdd",
			  json_object_get(rec, "capAdd"), "RestartPolicy", "Name",
			  json_string_value(json_object_get(rec, "restartPolicy")) ?: "no",
			  "MaximumRetryCount",
			  (json_int_t)json_integer_value(json_object_get(rec, "restartMax")),
			  "CapDrop", json_object_get(rec, "capDrop"), "ExtraHosts",
			  json_object_get(rec, "extraHosts"), "Dns", json_object_get(rec, "dns"),
			  "DnsSearch", json_object_get(rec, "dnsSearch"), "DnsOptions",
			  json_object_get(rec, "dnsOptions"), "ShmSize",
			  json_object_get(rec, "shmSize")));
	return out;
}

static uint64_t du(const char *path)
{
	struct stat st;
	uint64_t n = 0;
	DIR *d;
	struct dirent *de;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return (uint64_t)st.st_blocks * 512;
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char *p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", path, de->d_name);
		n += du(p);
		free(p);
	}
	if (d)
		closedir(d);
	return n;
}

void box_df(const char *data_root, size_t *total, size_t *running, uint64_t *size)
{
	cleanup_json json_t *all = box_list(data_root);
	json_t *rec;
	size_t i;

	*total = json_array_size(all);
	*running = 0;
	*size = 0;
	json_array_foreach(all, i, rec)
	{
		cleanup_free char *up = xasprintf("%s/containers/%s/upper", data_root,
						  json_string_value(json_object_get(rec, "id")));

		*running += !strcmp(box_status(rec), "running");
		*size += du(up);
	}
}

int box_prune(const char *data_root, uint64_t *freed)
{
	cleanup_json json_t *all = box_list(data_root);
	json_t *rec;
	size_t i;

	json_array_foreach(all, i, rec)
	{
		const char *id = json_string_value(json_object_get(rec, "id"));
		struct cabin_err *e = NULL;

		if (!id || !strcmp(box_status(rec), "running") ||
		    !strcmp(box_status(rec), "restarting"))
			continue;
		{
			cleanup_free char *up = xasprintf("%s/containers/%s/upper", data_root, id);

			*freed += du(up);
		}
		if (box_rm(data_root, id, 0, &e) == 0)
			printf("Deleted container: %s\n", id);
		cabin_err_release(&e);
	}
	return 0;
}
