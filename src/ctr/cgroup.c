/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroupfs manager: finds the mounted hierarchies, creates the container's directory
 * in each, moves processes in and out, freezes, kills and removes. Resource files are
 * written by cgroup-v1.c and cgroup-v2.c.
 *
 * Hosts come in three layouts and all three are supported:
 *  - v1: one hierarchy per controller (or co-mounted group), e.g. /sys/fs/cgroup/memory;
 *  - v2: one cgroup2 hierarchy, controllers enabled top-down via cgroup.subtree_control;
 *  - hybrid: v1 controllers plus a cgroup2 mount (usually /sys/fs/cgroup/unified) with no
 *    or few controllers. Limits go to v1; the container also gets a cgroup2 directory (as
 *    runc does) so that it is in a v2 cgroup too, and v2-only controllers such as hugetlb
 *    (when not mounted as v1) are used from there.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "ctr/cgroup-internal.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"

/* v1 controller names as they appear in mount options (other options are not controllers). */
static const char *const v1_controllers[] = {
	"cpu",	    "cpuacct", "cpuset",     "memory",	"devices", "freezer", "net_cls",
	"net_prio", "blkio",   "perf_event", "hugetlb", "pids",	   "rdma",    "misc",
};

/* How long destroy/freeze wait for the kernel (processes exiting, freezer settling). */
#define CG_WAIT_MS 10000

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static char *path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (!*b)
		return xstrndup(a, la);
	return xasprintf("%.*s/%s", (int)la, a, b);
}

int cg_file_exists(const char *dir, const char *file)
{
	cleanup_free char *p = path_join(dir, file);

	return access(p, F_OK) == 0;
}

int cg_write(const char *dir, const char *file, const char *val, const char *field,
	     struct cabin_err **err)
{
	cleanup_free char *p = path_join(dir, file);
	cleanup_close int fd = open(p, O_WRONLY | O_CLOEXEC);
	int ret;

	if (fd < 0) {
		if (errno == ENOENT)
			return cabin_err_make(err, 0,
					      "%s%s`%s` is not available on this host (no `%s`)",
					      field ? field : "", field ? ": " : "", file, p);
		return cabin_err_make(err, errno, "%s%sopen `%s`", field ? field : "",
				      field ? ": " : "", p);
	}
	ret = fs_write_all(fd, val, strlen(val));
	if (ret < 0)
		return cabin_err_make(err, -ret, "%s%swrite `%s` to `%s`", field ? field : "",
				      field ? ": " : "", val, p);
	return 0;
}

int cg_read(const char *dir, const char *file, char **out, struct cabin_err **err)
{
	cleanup_free char *p = path_join(dir, file);
	char *buf = NULL;
	size_t len = 0;
	int ret = fs_read_file(p, 1 << 20, &buf, &len, err);

	if (ret < 0)
		return ret;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	*out = buf;
	return 0;
}

int cg_check_usage(const char *dir, const char *usage_file, int64_t limit, struct cabin_err **err)
{
	cleanup_free char *use = NULL;
	int ret = cg_read(dir, usage_file, &use, err);

	if (ret < 0)
		return ret;
	if (strtoll(use, NULL, 10) > limit)
		return cabin_err_make(err, 0,
				      "linux.resources.memory.limit: `%" PRId64
				      "` is below the current usage `%s` (checkBeforeUpdate)",
				      limit, use);
	return 0;
}

int cg_json_int(json_t *obj, const char *key, int64_t *v, const char *field, struct cabin_err **err)
{
	json_t *j = obj ? json_object_get(obj, key) : NULL;

	if (!j || json_is_null(j))
		return 0;
	if (!json_is_integer(j))
		return cabin_err_make(err, 0, "%s.%s: expected an integer", field, key);
	*v = (int64_t)json_integer_value(j);
	return 1;
}

struct cg_hier *cg_v1_find(struct ctr_cgroup *cg, const char *controller)
{
	size_t i, cl = strlen(controller);

	for (i = 0; i < cg->n; i++) {
		const char *c = cg->h[i].controllers;

		if (cg->h[i].v2)
			continue;
		while (c && *c) {
			const char *e = strchrnul(c, ',');

			if ((size_t)(e - c) == cl && !memcmp(c, controller, cl))
				return &cg->h[i];
			c = *e ? e + 1 : e;
		}
	}
	return NULL;
}

struct cg_hier *cg_v2(struct ctr_cgroup *cg)
{
	size_t i;

	for (i = 0; i < cg->n; i++)
		if (cg->h[i].v2)
			return &cg->h[i];
	return NULL;
}

/* ---- discovery ------------------------------------------------------------------- */

/* One mount of a hierarchy, from /proc/self/mountinfo. */
struct mnt_ent {
	char *mnt, *root, *controllers;
	int v2;
};

static int is_v1_controller(const char *tok, size_t len)
{
	size_t i;

	if (len > 5 && !memcmp(tok, "name=", 5))
		return 1;
	for (i = 0; i < ARRAY_SIZE(v1_controllers); i++)
		if (strlen(v1_controllers[i]) == len && !memcmp(v1_controllers[i], tok, len))
			return 1;
	return 0;
}

/* Same set of comma-separated tokens, order ignored ("cpuacct,cpu" == "cpu,cpuacct"). */
static int same_controllers(const char *a, const char *b)
{
	size_t na = 0, nb = 0;
	const char *c;

	for (c = a; *c;) {
		const char *e = strchrnul(c, ',');
		const char *f = b;
		int found = 0;

		while (*f) {
			const char *g = strchrnul(f, ',');

			if (g - f == e - c && !memcmp(f, c, (size_t)(e - c)))
				found = 1;
			f = *g ? g + 1 : g;
		}
		if (!found)
			return 0;
		na++;
		c = *e ? e + 1 : e;
	}
	for (c = b; *c; nb++) {
		const char *e = strchrnul(c, ',');

		c = *e ? e + 1 : e;
	}
	return na == nb;
}

static void mnt_free(struct mnt_ent *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(m[i].mnt);
		free(m[i].root);
		free(m[i].controllers);
	}
}

/*
 * Which of several mounts of one hierarchy to use: the one at its usual place under
 * /sys/fs/cgroup, else one of the whole hierarchy (root `/`), not a bind mount of a part
 * of it elsewhere (a chroot's /sys, a container's view of its own cgroup).
 */
static int mnt_rank(const char *mnt, const char *root)
{
	return (!strncmp(mnt, "/sys/fs/cgroup", 14) && (!mnt[14] || mnt[14] == '/')) * 2 +
	       !strcmp(root, "/");
}

/*
 * Parse /proc/self/mountinfo: "id parent maj:min root mountpoint opts [optional...] - fstype
 * source superopts". Of several mounts of one hierarchy the first of the best mnt_rank()
 * wins.
 */
static char *last_mountinfo; /* the text read_mounts() parsed last, for ctr_cgroup_mountinfo() */

const char *ctr_cgroup_mountinfo(void)
{
	return last_mountinfo;
}

static int read_mounts(struct mnt_ent *m, size_t max, size_t *n, struct cabin_err **err)
{
	cleanup_free char *buf = NULL;
	char *line, *save = NULL;
	int ret;

	*n = 0;
	ret = fs_read_file("/proc/self/mountinfo", 16 << 20, &buf, NULL, err);
	if (ret < 0)
		return ret;
	free(last_mountinfo);
	last_mountinfo = xstrdup(buf);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[6] = { 0 }, *p = line, *dash, *fstype, *super, *sp;
		int i, v2;
		size_t k, dup = 0;
		char *ctrls;

		dash = strstr(line, " - ");
		if (!dash)
			continue;
		*dash = '\0';
		for (i = 0; i < 6 && p; i++) {
			f[i] = strsep(&p, " ");
		}
		if (!f[4])
			continue;
		fstype = dash + 3;
		sp = strchr(fstype, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		super = strchr(sp + 1, ' ');
		super = super ? super + 1 : (char *)"";
		if (!strcmp(fstype, "cgroup2"))
			v2 = 1;
		else if (!strcmp(fstype, "cgroup"))
			v2 = 0;
		else
			continue;
		if (v2) {
			ctrls = xstrdup("");
		} else {
			char *tok, *s2 = NULL, *opts = xstrdup(super);
			size_t used = 0;

			ctrls = xcalloc(1, strlen(super) + 1);
			for (tok = strtok_r(opts, ",", &s2); tok; tok = strtok_r(NULL, ",", &s2)) {
				size_t tl = strlen(tok);

				if (!is_v1_controller(tok, tl))
					continue;
				if (used)
					ctrls[used++] = ',';
				memcpy(ctrls + used, tok, tl);
				used += tl;
			}
			free(opts);
			if (!used) {
				free(ctrls);
				continue;
			}
		}
		for (k = 0; k < *n; k++) {
			if (m[k].v2 != v2 || !same_controllers(m[k].controllers, ctrls))
				continue;
			dup = 1;
			/* a better mount of the same hierarchy replaces an earlier one */
			if (mnt_rank(f[4], f[3]) > mnt_rank(m[k].mnt, m[k].root)) {
				free(m[k].mnt);
				free(m[k].root);
				m[k].mnt = xstrdup(f[4]);
				m[k].root = xstrdup(f[3]);
			}
		}
		if (dup || *n >= max) {
			free(ctrls);
			continue;
		}
		m[*n].mnt = xstrdup(f[4]);
		m[*n].root = xstrdup(f[3]);
		m[*n].controllers = ctrls;
		m[*n].v2 = v2;
		(*n)++;
	}
	return 0;
}

static int cached_mode = -1;

void cg_mode_reset(void)
{
	cached_mode = -1;
}

/* The host's mode from its hierarchies (read_mounts()), remembered for the process. */
static enum ctr_cgroup_mode mode_of(const struct mnt_ent *m, size_t n)
{
	size_t i, nv1 = 0, nv2 = 0;

	for (i = 0; i < n; i++) {
		if (m[i].v2)
			nv2++;
		else if (strncmp(m[i].controllers, "name=", 5))
			nv1++; /* a lone name=systemd hierarchy has no controllers */
	}
	if (nv2 && !nv1)
		cached_mode = CTR_CGROUP_V2;
	else if (nv2)
		cached_mode = CTR_CGROUP_HYBRID;
	else
		cached_mode = CTR_CGROUP_V1;
	return (enum ctr_cgroup_mode)cached_mode;
}

enum ctr_cgroup_mode ctr_cgroup_host_mode(void)
{
	struct mnt_ent m[CG_MAX_HIER];
	size_t n = 0;
	struct cabin_err *err = NULL;
	enum ctr_cgroup_mode mode;

	if (cached_mode >= 0)
		return (enum ctr_cgroup_mode)cached_mode;
	if (read_mounts(m, ARRAY_SIZE(m), &n, &err) < 0) {
		cabin_err_release(&err);
		return CTR_CGROUP_V1;
	}
	mode = mode_of(m, n);
	mnt_free(m, n);
	return mode;
}

/*
 * The caller's own cgroup in the hierarchy with @controllers (v2: ""), from @text, the
 * contents of /proc/self/cgroup.
 */
static void own_cgroup(const char *text, const char *controllers, int v2, char **out)
{
	cleanup_free char *buf = xstrdup(text);
	char *line, *save = NULL;

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2;

		if (!c1)
			continue;
		c2 = strchr(c1 + 1, ':');
		if (!c2)
			continue;
		*c2 = '\0';
		if (v2 ? (!strcmp(line, "0") && c1[1] == '\0')
		       : (c1[1] && same_controllers(c1 + 1, controllers))) {
			*out = xstrdup(c2 + 1);
			return;
		}
	}
	*out = xstrdup("/");
}

/*
 * linux.cgroupsPath is container input: refuse ".." components so it cannot name a
 * directory outside the hierarchy, and the systemd "slice:prefix:name" form, which needs a
 * systemd manager this runtime does not talk to.
 */
static int check_path(const char *p, struct cabin_err **err)
{
	const char *c = p;
	int colons = 0;

	for (; *c; c++)
		colons += *c == ':';
	if (p[0] != '/' && colons == 2)
		return cabin_err_make(
			err, 0,
			"linux.cgroupsPath `%s`: the systemd form `slice:prefix:name` "
			"needs the systemd cgroup manager, which is not available; "
			"use a cgroupfs path such as `/cabin/<id>`",
			p);
	c = p;
	while (*c) {
		const char *e = strchrnul(c, '/');

		if (e - c == 2 && c[0] == '.' && c[1] == '.')
			return cabin_err_make(err, 0, "linux.cgroupsPath `%s`: `..` is not allowed",
					      p);
		c = *e ? e + 1 : e;
	}
	if (strlen(p) > 1024)
		return cabin_err_make(err, 0, "linux.cgroupsPath: longer than 1024 bytes");
	return 0;
}

/* Is @w one of the space-separated words of @list? */
static int word_in(const char *list, const char *w)
{
	size_t wl = strlen(w);

	while (*list) {
		const char *e = strchrnul(list, ' ');

		if ((size_t)(e - list) == wl && !memcmp(list, w, wl))
			return 1;
		list = *e ? e + 1 : e;
	}
	return 0;
}

/* Enable each @wanted controller @dir offers in its cgroup.subtree_control (best effort). */
static void v2_enable(const char *dir, char *const *wanted)
{
	cleanup_free char *avail = NULL, *on = NULL;
	struct cabin_err *err = NULL;
	size_t i;

	if (!wanted || cg_read(dir, "cgroup.controllers", &avail, &err) < 0 ||
	    cg_read(dir, "cgroup.subtree_control", &on, &err) < 0) {
		cabin_err_release(&err);
		return;
	}
	for (i = 0; wanted[i]; i++) {
		cleanup_free char *v = NULL;

		if (!word_in(avail, wanted[i]) || word_in(on, wanted[i]))
			continue;
		v = xasprintf("+%s", wanted[i]);
		/*
		 * EBUSY: @dir has processes of its own ("no internal processes" rule), which is
		 * the case for the caller's cgroup with a relative cgroupsPath. The limit that
		 * needs the controller then fails later, naming its file.
		 */
		if (cg_write(dir, "cgroup.subtree_control", v, NULL, &err) < 0) {
			log_debug("cgroup: %s", cabin_err_msg(err));
			cabin_err_release(&err);
		}
	}
}

/*
 * v1 cpuset: a new directory starts with empty cpus/mems, and a task cannot join it then.
 * The parent itself may still be empty: another container may have just created the
 * shared parent (e.g. "cabin") and not filled it yet. Fill it from its own parent first,
 * up to @mnt, so that the value copied is never the empty string.
 */
static int cpuset_inherit(const char *mnt, const char *parent, const char *dir,
			  struct cabin_err **err)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(files); i++) {
		cleanup_free char *cur = NULL, *pv = NULL;

		if (cg_read(dir, files[i], &cur, err) < 0)
			return -1;
		if (*cur)
			continue;
		if (cg_read(parent, files[i], &pv, err) < 0)
			return -1;
		if (!*pv && strlen(parent) > strlen(mnt)) {
			cleanup_free char *gp = xstrdup(parent);
			char *sl = strrchr(gp, '/');

			*sl = '\0';
			if (cpuset_inherit(mnt, gp, parent, err) < 0)
				return -1;
			free(pv);
			pv = NULL;
			if (cg_read(parent, files[i], &pv, err) < 0)
				return -1;
		}
		if (cg_write(dir, files[i], pv, NULL, err) < 0)
			return -1;
	}
	return 0;
}

/* Remember the highest directory we created: destroy removes up to it, no further. */
static void set_top(struct cg_hier *h, const char *dir)
{
	if (!h->top || strlen(dir) < strlen(h->top)) {
		free(h->top);
		h->top = xstrdup(dir);
	}
}

/* mkdir -p @h->dir below @h->mnt, remembering the first directory we created. */
static int make_dirs_once(struct cg_hier *h, char *const *v2_wanted, int hybrid,
			  struct cabin_err **err)
{
	size_t ml = strlen(h->mnt);
	const char *rest = h->dir + ml;
	cleanup_free char *cur = xstrdup(h->mnt);
	int is_cpuset = !h->v2 && h->controllers && strstr(h->controllers, "cpuset");

	while (*rest) {
		const char *s, *e;
		char *next;
		int attempt;

		while (*rest == '/')
			rest++;
		if (!*rest)
			break;
		s = rest;
		e = strchrnul(s, '/');
		rest = e;
		/*
		 * On a hybrid host the cgroup2 root belongs to the host's setup (systemd's, or
		 * nobody's): a controller we turned on there would stay on for every cgroup of
		 * the host after we are gone. Below the root, the directories are ours.
		 */
		if (h->v2 && !(hybrid && !strcmp(cur, h->mnt)))
			v2_enable(cur, v2_wanted);
		next = xasprintf("%s/%.*s", cur, (int)(e - s), s);
		for (attempt = 0;; attempt++) {
			if (mkdir(next, 0755) == 0) {
				set_top(h, next);
				if (is_cpuset && cpuset_inherit(h->mnt, cur, next, err) < 0) {
					free(next);
					return -1;
				}
				break;
			}
			/*
			 * A pre-existing directory (a parent someone else made, e.g. with
			 * mkdir(1)) may still have empty cpuset.cpus/mems: the container's
			 * cgroup below it could then take no task (ENOSPC). Fill in what is
			 * empty from the parent, as runc does; set values are left alone.
			 */
			if (errno == EEXIST) {
				if (is_cpuset && cpuset_inherit(h->mnt, cur, next, err) < 0) {
					free(next);
					return -1;
				}
				break;
			}
			/*
			 * A concurrent destroy of another container may have removed the shared
			 * parent (e.g. "cabin") between our two mkdirs: make it again.
			 */
			if (errno == ENOENT && attempt < 3) {
				if (mkdir(cur, 0755) == 0) {
					char *pp = xstrdup(cur), *sl = strrchr(pp, '/');

					set_top(h, cur);
					if (sl)
						*sl = '\0';
					if (is_cpuset && sl &&
					    cpuset_inherit(h->mnt, pp, cur, err) < 0) {
						free(pp);
						free(next);
						return -1;
					}
					free(pp);
				}
				continue;
			}
			cabin_err_make(err, errno, "create cgroup `%s`", next);
			free(next);
			return -1;
		}
		free(cur);
		cur = next;
	}
	return 0;
}

static int make_dirs(struct cg_hier *h, char *const *v2_wanted, int hybrid, struct cabin_err **err)
{
	int attempt, ret;

	/*
	 * A concurrent destroy removes a shared parent as soon as it is empty, which can be
	 * between our mkdir of it and the cpuset copy into it (ENOENT or, for a directory
	 * being removed, ENODEV). Walk again: the next walk makes it anew.
	 */
	for (attempt = 0;; attempt++) {
		ret = make_dirs_once(h, v2_wanted, hybrid, err);
		if (ret >= 0 || attempt >= 5 || !*err ||
		    ((*err)->status != ENOENT && (*err)->status != ENODEV))
			return ret;
		cabin_err_release(err);
	}
}

static void hier_free(struct cg_hier *h)
{
	free(h->mnt);
	free(h->dir);
	free(h->top);
	free(h->controllers);
	memset(h, 0, sizeof(*h));
}

void ctr_cgroup_free(struct ctr_cgroup *cg)
{
	size_t i;

	if (!cg)
		return;
	for (i = 0; i < cg->n; i++)
		hier_free(&cg->h[i]);
	free(cg);
}

static void ctr_cgroup_free_cleanup(struct ctr_cgroup **cg)
{
	int e = errno;

	ctr_cgroup_free(*cg);
	*cg = NULL;
	errno = e;
}
#define cleanup_cgroup __attribute__((cleanup(ctr_cgroup_free_cleanup)))

/* Resolve @path ("/abs" from each hierarchy's root, "rel" from the caller's cgroup). */
static int resolve(const char *path, struct ctr_cgroup **out, struct cabin_err **err)
{
	cleanup_cgroup struct ctr_cgroup *cg = xcalloc(1, sizeof(*cg));
	struct mnt_ent m[CG_MAX_HIER];
	size_t n = 0, i;
	int ret;

	cleanup_free char *cgtext = NULL;

	ret = check_path(path, err);
	if (ret < 0)
		return ret;
	ret = read_mounts(m, ARRAY_SIZE(m), &n, err);
	if (ret < 0)
		return ret;
	cg_set_mode(cg, cached_mode >= 0 ? (enum ctr_cgroup_mode)cached_mode : mode_of(m, n));
	/* one read of our own cgroups for every hierarchy */
	if (path[0] != '/' && fs_read_file("/proc/self/cgroup", 1 << 20, &cgtext, NULL, err) < 0) {
		mnt_free(m, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		struct cg_hier *h = &cg->h[cg->n];
		cleanup_free char *own = NULL;
		const char *base = "/";

		if (path[0] != '/') {
			own_cgroup(cgtext, m[i].controllers, m[i].v2, &own);
			/* Paths in /proc/self/cgroup are from the hierarchy root, the mount may
			 * show a subtree of it (a bind mount of /docker/x on /sys/fs/cgroup). */
			base = own;
			if (strcmp(m[i].root, "/") && !strncmp(own, m[i].root, strlen(m[i].root)))
				base = own + strlen(m[i].root);
			/*
			 * Pure v2: our own cgroup has processes (us), so it cannot enable
			 * controllers for a child ("no internal processes"); use its parent,
			 * as runc does.
			 */
			if (m[i].v2 && cg->mode == CTR_CGROUP_V2 && strcmp(base, "/")) {
				char *slash = strrchr(own, '/');

				if (slash && slash > own + (base - own))
					*slash = '\0';
				else if (slash)
					base = "/";
			}
		}
		{
			cleanup_free char *b = path_join(m[i].mnt, base);

			h->dir = path_join(b, path);
		}
		h->mnt = steal_ptr(&m[i].mnt);
		h->controllers = steal_ptr(&m[i].controllers);
		h->v2 = m[i].v2;
		cg->n++;
	}
	mnt_free(m, n);
	if (!cg->n)
		return cabin_err_make(err, 0,
				      "no cgroup hierarchy is mounted (see /proc/self/mountinfo)");
	*out = steal_ptr(&cg);
	return 0;
}

/* Resource groups and the controllers that carry them in v1 and in v2. */
static const struct {
	const char *key, *v1, *v2;
} res_ctrl[] = {
	{ "memory", "memory", "memory" },
	{ "cpu", "cpu", "cpu" },
	{ "pids", "pids", "pids" },
	{ "blockIO", "blkio", "io" },
	{ "hugepageLimits", "hugetlb", "hugetlb" },
	{ "rdma", "rdma", "rdma" },
};

struct cg_hier *cg_hybrid_v2(struct ctr_cgroup *cg, const char *v1ctrl, const char *v2ctrl)
{
	struct cg_hier *h = cg_v2(cg);
	cleanup_free char *avail = NULL;
	struct cabin_err *e = NULL;

	if (cg->mode != CTR_CGROUP_HYBRID || !h || cg_v1_find(cg, v1ctrl))
		return NULL;
	if (cg_read(h->dir, "cgroup.controllers", &avail, &e) < 0) {
		cabin_err_release(&e);
		return NULL;
	}
	return word_in(avail, v2ctrl) ? h : NULL;
}

/* Is a v1 hierarchy carrying @ctrl mounted (read before any cgroup is created)? */
static int v1_mounted(const struct ctr_cgroup *cg, const char *ctrl)
{
	return cg_v1_find((struct ctr_cgroup *)cg, ctrl) != NULL;
}

/* Controllers to enable in a cgroup2 hierarchy for @res: on a v2 host, all of them. */
static char **v2_wanted_all(const struct ctr_cgroup *cg, json_t *res)
{
	static const char *const all[] = { "cpuset", "cpu",	"io",	"memory",
					   "pids",   "hugetlb", "rdma", "misc" };
	char **w = xcalloc(ARRAY_SIZE(all) + 1, sizeof(*w));
	size_t i;

	for (i = 0; i < ARRAY_SIZE(all); i++)
		w[i] = xstrdup(all[i]);
	return w;
}

static char **v2_wanted_missing(const struct ctr_cgroup *cg, json_t *res)
{
	char **w = xcalloc(ARRAY_SIZE(res_ctrl) + 2, sizeof(*w));
	size_t i, n = 0;
	json_t *c;

	/*
	 * Hybrid: the cgroup2 tree belongs to the host's v1 setup; only turn on what this
	 * container needs and v1 does not provide (typically hugetlb, which is often not
	 * mounted as v1 and then shows up in cgroup2).
	 */
	for (i = 0; i < ARRAY_SIZE(res_ctrl); i++) {
		json_t *v = json_object_get(res, res_ctrl[i].key);

		if (v && !json_is_null(v) && !v1_mounted(cg, res_ctrl[i].v1))
			w[n++] = xstrdup(res_ctrl[i].v2);
	}
	c = json_object_get(res, "cpu");
	if ((json_object_get(c, "cpus") || json_object_get(c, "mems")) && !v1_mounted(cg, "cpuset"))
		w[n++] = xstrdup("cpuset");
	return w;
}

static void strv_free_local(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Remove @dir and any child cgroups the container made inside it, bottom-up. */
static int rmdir_tree(const char *dir)
{
	cleanup_closedir DIR *d = NULL;
	struct dirent *de;
	int i;

	/* a leaf, as a container's cgroup usually is, goes without reading its files */
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY && errno != ENOTEMPTY)
		return -errno;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		cleanup_free char *sub = NULL;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		rmdir_tree(sub);
	}
	/* rmdir returns EBUSY until the last exiting task has left (it can lag kill). */
	for (i = 0; i < CG_WAIT_MS / 10; i++) {
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		msleep(10);
	}
	return -EBUSY;
}

/* Remove the leaf, then the parents we created, stopping at one still in use. */
static int remove_hier(struct cg_hier *h, struct cabin_err **err)
{
	cleanup_free char *cur = xstrdup(h->dir);
	int ret = rmdir_tree(cur);

	if (ret < 0)
		return cabin_err_make(err, -ret, "remove cgroup `%s`", cur);
	if (!h->top)
		return 0;
	while (strlen(cur) > strlen(h->top)) {
		char *slash = strrchr(cur, '/');

		if (!slash)
			break;
		*slash = '\0';
		if (strlen(cur) < strlen(h->top))
			break;
		if (rmdir(cur) < 0 && errno != ENOENT)
			break; /* ENOTEMPTY/EBUSY: another container shares this parent */
	}
	return 0;
}

static void remove_all(struct ctr_cgroup *cg)
{
	size_t i;

	for (i = cg->n; i-- > 0;) {
		struct cabin_err *e = NULL;

		if (remove_hier(&cg->h[i], &e) < 0) {
			log_warn("%s", cabin_err_msg(e));
			cabin_err_release(&e);
		}
	}
}

/*
 * Devices every container gets after its own rules, as runc and crun add them: mknod of
 * anything, and the standard character devices the runtime creates in /dev.
 */
static const char default_devices[] =
	"[{\"allow\":true,\"type\":\"c\",\"access\":\"m\"},"
	"{\"allow\":true,\"type\":\"b\",\"access\":\"m\"},"
	"{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":3,\"access\":\"rwm\"},"
	"{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":8,\"access\":\"rwm\"},"
	"{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":7,\"access\":\"rwm\"},"
	"{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":0,\"access\":\"rwm\"},"
	"{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":5,\"access\":\"rwm\"},"
	"{\"allow\":true,\"type\":\"c\",\"major\":1,\"minor\":9,\"access\":\"rwm\"},"
	"{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":1,\"access\":\"rwm\"},"
	"{\"allow\":true,\"type\":\"c\",\"major\":136,\"access\":\"rwm\"},"
	"{\"allow\":true,\"type\":\"c\",\"major\":5,\"minor\":2,\"access\":\"rwm\"},"
	"{\"allow\":true,\"type\":\"c\",\"major\":10,\"minor\":200,\"access\":\"rwm\"}]";

static int apply(struct ctr_cgroup *cg, json_t *res, int update, struct cabin_err **err)
{
	cleanup_json json_t *full = NULL;
	json_t *devs;

	if (!res || json_is_null(res))
		return 0;
	if (!json_is_object(res))
		return cabin_err_make(err, 0, "linux.resources: expected an object");
	devs = json_object_get(res, "devices");
	if (json_array_size(devs)) {
		cleanup_json json_t *d = json_loads(default_devices, 0, NULL);

		full = json_copy(res);
		devs = json_copy(devs);
		json_array_extend(devs, d);
		json_object_set_new(full, "devices", devs);
		res = full;
	}
	return cg->ops->apply(cg, res, update, err);
}

/*
 * Does @res ask for anything to be enforced? Device rules do not count: without privilege
 * over the devices controller they cannot be set, and an unprivileged container cannot
 * create device nodes to begin with (runc skips them rootless too).
 */
static int has_limits(json_t *res)
{
	const char *k;
	json_t *v;

	json_object_foreach(res, k, v)
	{
		if (!strcmp(k, "devices"))
			continue;
		if ((json_is_object(v) && json_object_size(v)) ||
		    (json_is_array(v) && json_array_size(v)))
			return 1;
	}
	return 0;
}

int ctr_cgroup_plan(const char *cgroups_path, const char *id, struct ctr_cgroup **out,
		    struct cabin_err **err)
{
	cleanup_cgroup struct ctr_cgroup *cg = NULL;
	cleanup_free char *def = NULL;
	int ret;

	if (!cgroups_path || !*cgroups_path) {
		if (!id || !*id || strchr(id, '/') || !strcmp(id, "..") || !strcmp(id, "."))
			return cabin_err_make(err, 0, "container id `%s` cannot name a cgroup",
					      id ? id : "");
		/*
		 * As runc: the ID right below the runtime's own cgroup. A shared parent level
		 * ("cabin/<id>" before) is made and removed again by every container that finds
		 * it missing or leaves it empty, and on a v1 host that is a memory cgroup's
		 * creation and teardown (0.85 ms of CPU per start here, a tenth of it).
		 */
		def = xstrdup(id);
		cgroups_path = def;
	}
	ret = resolve(cgroups_path, &cg, err);
	if (ret < 0)
		return ret;
	*out = steal_ptr(&cg);
	return 0;
}

/*
 * Make the directories of @cg->h[@i]. Without privilege over a hierarchy (rootless, or
 * root in a user namespace without a delegated cgroup) a container that asks for no
 * limits runs in the caller's cgroup there, as with runc: the hierarchy is dropped from
 * @cg (0). One that asks for limits fails (-1). Made: 1.
 */
static int make_hier(struct ctr_cgroup *cg, size_t i, json_t *resources, char *const *wanted,
		     struct cabin_err **err)
{
	if (make_dirs(&cg->h[i], wanted, cg->ops->v2_root_is_hosts, err) == 0)
		return 1;
	if (!*err ||
	    ((*err)->status != EACCES && (*err)->status != EPERM && (*err)->status != EROFS) ||
	    has_limits(resources))
		return -1;
	log_debug("cgroup: %s (no limits requested, hierarchy skipped)", cabin_err_msg(*err));
	cabin_err_release(err);
	hier_free(&cg->h[i]);
	memmove(&cg->h[i], &cg->h[i + 1], (cg->n - i - 1) * sizeof(cg->h[0]));
	cg->n--;
	return 0;
}

/*
 * Make the directories of the hierarchies from *@pos on, the cgroup2 one (@v2 1) or the
 * v1 ones (0), at most @max of them; *@pos is where to go on. Return: how many were made
 * or dropped, -1 on failure.
 */
static int make_hiers(struct ctr_cgroup *cg, json_t *resources, int v2, size_t *pos, size_t max,
		      struct cabin_err **err)
{
	char **wanted = v2 ? cg->ops->v2_wanted(cg, resources) : NULL;
	int done = 0;

	while (*pos < cg->n && (size_t)done < max) {
		int ret;

		if (!cg->h[*pos].v2 != !v2) {
			++*pos;
			continue;
		}
		ret = make_hier(cg, *pos, resources, wanted, err);
		if (ret < 0) {
			done = -1;
			break;
		}
		*pos += (size_t)ret; /* a dropped one's place holds the next */
		done++;
	}
	strv_free_local(wanted);
	return done;
}

/* Remove the directories of the cgroup2 hierarchy (@v2 1) or of the v1 ones (0). */
static void remove_hiers(struct ctr_cgroup *cg, int v2)
{
	for (size_t i = cg->n; i-- > 0;) {
		struct cabin_err *e = NULL;

		if (!cg->h[i].v2 != !v2)
			continue;
		if (remove_hier(&cg->h[i], &e) < 0) {
			log_warn("%s", cabin_err_msg(e));
			cabin_err_release(&e);
		}
	}
}

int ctr_cgroup_make_v2(struct ctr_cgroup *cg, json_t *resources, struct cabin_err **err)
{
	size_t pos = 0;
	int ret = ctr_cgroup_validate(resources, err);

	if (ret >= 0)
		ret = make_hiers(cg, resources, 1, &pos, SIZE_MAX, err);
	if (ret < 0) {
		remove_hiers(cg, 1);
		return -1;
	}
	return 0;
}

int ctr_cgroup_make_v1_next(struct ctr_cgroup *cg, json_t *resources, size_t *pos,
			    struct cabin_err **err)
{
	int ret = make_hiers(cg, resources, 0, pos, 1, err);

	if (ret < 0)
		remove_hiers(cg, 0);
	return ret;
}

int ctr_cgroup_make_v1(struct ctr_cgroup *cg, json_t *resources, size_t *pos,
		       struct cabin_err **err)
{
	int ret = make_hiers(cg, resources, 0, pos, SIZE_MAX, err);

	if (ret < 0) {
		remove_hiers(cg, 0);
		return -1;
	}
	return 0;
}

int ctr_cgroup_limit(struct ctr_cgroup *cg, json_t *resources, struct cabin_err **err)
{
	return cg->n ? apply(cg, resources, 0, err) : 0;
}

int ctr_cgroup_make(struct ctr_cgroup *cg, json_t *resources, struct cabin_err **err)
{
	if (ctr_cgroup_make_v2(cg, resources, err) < 0)
		return -1;
	size_t pos = 0;

	if (ctr_cgroup_make_v1(cg, resources, &pos, err) < 0 ||
	    ctr_cgroup_limit(cg, resources, err) < 0) {
		remove_all(cg);
		return -1;
	}
	return 0;
}

size_t ctr_cgroup_n_v1(const struct ctr_cgroup *cg)
{
	size_t n = 0;

	for (size_t i = 0; cg && i < cg->n; i++)
		n += !cg->h[i].v2;
	return n;
}

/*
 * Sharing a cgroup with other processes is allowed (as runc), but limits then concern them
 * too: the caller says so. Every hierarchy is read, not only the one ps reads.
 */
const char *ctr_cgroup_populated(struct ctr_cgroup *cg)
{
	size_t i;

	for (i = 0; i < cg->n; i++) {
		cleanup_free char *procs = NULL;
		struct cabin_err *e = NULL;

		if (cg_read(cg->h[i].dir, "cgroup.procs", &procs, &e) == 0 && *procs)
			return cg->h[i].dir;
		cabin_err_release(&e);
	}
	return NULL;
}

int ctr_cgroup_create(const char *cgroups_path, const char *id, json_t *resources, pid_t pid,
		      struct ctr_cgroup **out, struct cabin_err **err)
{
	cleanup_cgroup struct ctr_cgroup *cg = NULL;
	int ret;

	ret = ctr_cgroup_validate(resources, err);
	if (ret < 0)
		return ret;
	ret = ctr_cgroup_plan(cgroups_path, id, &cg, err);
	if (ret < 0)
		return ret;
	ret = ctr_cgroup_make(cg, resources, err);
	if (ret < 0)
		return ret;
	if (pid > 0) {
		ret = ctr_cgroup_enter(cg, pid, err);
		if (ret < 0) {
			remove_all(cg);
			return ret;
		}
	}
	*out = steal_ptr(&cg);
	return 0;
}

int ctr_cgroup_enter(struct ctr_cgroup *cg, pid_t pid, struct cabin_err **err)
{
	char buf[32];
	size_t i;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (i = 0; i < cg->n; i++) {
		int ret = cg_write(cg->h[i].dir, "cgroup.procs", buf, NULL, err);

		if (ret < 0)
			return cabin_err_wrap(err, "move pid `%d` into its cgroup", (int)pid);
	}
	return 0;
}

_Static_assert(CTR_CGROUP_JOIN_MAX >= CG_MAX_HIER, "a join holds every hierarchy");

void ctr_cgroup_join_close(struct ctr_cgroup_join *j)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->tasks[i] >= 0)
			close(j->tasks[i]);
	j->n = 0;
	if (j->v2dir >= 0)
		close(j->v2dir);
	j->v2dir = -1;
}

int ctr_cgroup_join_open(struct ctr_cgroup *cg, struct ctr_cgroup_join *j, unsigned which,
			 struct cabin_err **err)
{
	j->n = 0;
	j->v2dir = -1;
	for (size_t i = 0; cg && i < cg->n; i++) {
		const struct cg_hier *h = &cg->h[i];
		cleanup_free char *p = NULL;
		int fd;

		if (!(which & (h->v2 ? CTR_CGROUP_JOIN_V2 : CTR_CGROUP_JOIN_V1)))
			continue;
		p = h->v2 ? xstrdup(h->dir) : path_join(h->dir, "tasks");
		fd = h->v2 ? open(p, O_PATH | O_DIRECTORY | O_CLOEXEC)
			   : open(p, O_WRONLY | O_CLOEXEC);

		if (fd < 0) {
			cabin_err_make(err, errno, "open `%s`", p);
			ctr_cgroup_join_close(j);
			return -1;
		}
		if (h->v2) {
			if (j->v2dir >= 0)
				close(j->v2dir);
			j->v2dir = fd;
		} else {
			j->tasks[j->n++] = fd;
		}
	}
	return 0;
}

int ctr_cgroup_join_self(struct ctr_cgroup_join *j, struct cabin_err **err)
{
	int ret = 0;

	/*
	 * "0" is the writer itself: the thread moves without cgroup_threadgroup_rwsem. The
	 * caller has one thread, so the thread is the process; what it forks inherits.
	 */
	for (size_t i = 0; i < j->n && ret == 0; i++)
		if (TEMP_FAILURE_RETRY(write(j->tasks[i], "0", 1)) != 1)
			ret = cabin_err_make(err, errno, "join the container's cgroup");
	ctr_cgroup_join_close(j);
	return ret;
}

int ctr_cgroup_enter_v2(struct ctr_cgroup *cg, pid_t pid, struct cabin_err **err)
{
	struct cg_hier *h = cg ? cg_v2(cg) : NULL;
	char buf[32];

	if (!h)
		return 0;
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	if (cg_write(h->dir, "cgroup.procs", buf, NULL, err) < 0)
		return cabin_err_wrap(err, "move pid `%d` into its cgroup", (int)pid);
	return 0;
}

/* 1 when the comma-separated @list names @ctrl. */
static int list_has(const char *list, const char *ctrl, size_t len)
{
	const char *p = list;

	while (p && *p) {
		size_t n = strcspn(p, ",");

		if (n == len && !strncmp(p, ctrl, len))
			return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* The controllers of the cgroup2 hierarchy, as a comma-separated list (caller frees). */
static char *v2_controllers(const struct cg_hier *h)
{
	cleanup_free char *s = NULL;
	struct cabin_err *e = NULL;

	if (cg_read(h->mnt, "cgroup.controllers", &s, &e) < 0) {
		cabin_err_release(&e);
		return xstrdup("");
	}
	for (char *p = s; *p; p++)
		if (*p == ' ')
			*p = ',';
	return steal_ptr(&s);
}

int ctr_cgroup_enter_sub(struct ctr_cgroup *cg, pid_t pid, const char *const *subs, size_t n,
			 struct cabin_err **err)
{
	const char *paths[CG_MAX_HIER] = { 0 };
	const char *all = NULL;
	char buf[32];

	/* Resolve which sub-path each hierarchy gets before moving the pid anywhere. */
	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(subs[i], ':'), *path = colon ? colon + 1 : subs[i];
		const char *ctrls = colon ? subs[i] : NULL;

		/*
		 * The path is relative to the container's cgroup and must stay below it: the
		 * caller may not use exec to put a process into another cgroup of the host.
		 */
		for (const char *p = path; *p;) {
			size_t len = strcspn(p, "/");

			if (len == 2 && !strncmp(p, "..", 2))
				return cabin_err_make(err, 0,
						      "--cgroup %s is not a sub cgroup path", path);
			p += len;
			p += strspn(p, "/");
		}
		if (!ctrls) {
			all = path;
			continue;
		}
		for (const char *c = ctrls; c < colon;) {
			size_t len = strcspn(c, ",:");
			int found = 0;

			for (size_t h = 0; h < cg->n; h++) {
				cleanup_free char *v2c =
					cg->h[h].v2 ? v2_controllers(&cg->h[h]) : NULL;

				if (list_has(cg->h[h].v2 ? v2c : cg->h[h].controllers, c, len)) {
					paths[h] = path;
					found = 1;
				}
			}
			if (!found)
				return cabin_err_make(err, 0, "--cgroup: unknown controller %.*s",
						      (int)len, c);
			c += len;
			if (*c == ',')
				c++;
		}
	}
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (size_t h = 0; h < cg->n; h++) {
		const char *sub = paths[h] ? paths[h] : all;
		cleanup_free char *dir = NULL, *file = NULL;
		cleanup_close int fd = -1;

		dir = sub ? path_join(cg->h[h].dir, sub) : xstrdup(cg->h[h].dir);
		file = xasprintf("%s/cgroup.procs", dir);
		/* O_NOFOLLOW: a symlink planted in a delegated cgroup must not lead elsewhere */
		fd = open(file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 && errno == ENOENT)
			return cabin_err_make(err, 0,
					      "adding pid %s to cgroups: %s: no such file or "
					      "directory",
					      buf, file);
		if (fd < 0 || write(fd, buf, strlen(buf)) < 0)
			return cabin_err_make(err, errno, "adding pid %s to cgroups: write `%s`",
					      buf, file);
	}
	return 0;
}

int ctr_cgroup_update(struct ctr_cgroup *cg, json_t *resources, struct cabin_err **err)
{
	int ret = ctr_cgroup_validate(resources, err);

	if (ret < 0)
		return ret;
	return apply(cg, resources, 1, err);
}

/* ---- serialization ----------------------------------------------------------------- */

char *ctr_cgroup_to_string(const struct ctr_cgroup *cg)
{
	cleanup_json json_t *o = json_object();
	json_t *a = json_array();
	char *s;
	size_t i;

	json_object_set_new(o, "mode", json_integer(cg->mode));
	for (i = 0; i < cg->n; i++) {
		const struct cg_hier *h = &cg->h[i];
		json_t *e = json_object();

		json_object_set_new(e, "mnt", json_string(h->mnt));
		json_object_set_new(e, "dir", json_string(h->dir));
		if (h->top)
			json_object_set_new(e, "top", json_string(h->top));
		json_object_set_new(e, "controllers", json_string(h->controllers));
		json_object_set_new(e, "v2", json_boolean(h->v2));
		json_array_append_new(a, e);
	}
	json_object_set_new(o, "hierarchies", a);
	s = json_dumps(o, JSON_COMPACT);
	return s ? s : xstrdup("{}");
}

int ctr_cgroup_from_string(const char *s, struct ctr_cgroup **out, struct cabin_err **err)
{
	cleanup_cgroup struct ctr_cgroup *cg = xcalloc(1, sizeof(*cg));
	json_error_t je;
	cleanup_json json_t *o = json_loads(s, 0, &je);
	json_t *a, *e;
	size_t i;

	if (!o)
		return cabin_err_make(err, 0, "saved cgroup state: %s", je.text);
	a = json_object_get(o, "hierarchies");
	if (!json_is_array(a) || json_array_size(a) > CG_MAX_HIER ||
	    !json_is_integer(json_object_get(o, "mode")))
		return cabin_err_make(err, 0, "saved cgroup state: malformed");
	switch (json_integer_value(json_object_get(o, "mode"))) {
	case CTR_CGROUP_V1:
	case CTR_CGROUP_V2:
	case CTR_CGROUP_HYBRID:
		cg_set_mode(cg,
			    (enum ctr_cgroup_mode)json_integer_value(json_object_get(o, "mode")));
		break;
	default:
		return cabin_err_make(err, 0, "saved cgroup state: unknown mode");
	}
	json_array_foreach(a, i, e)
	{
		struct cg_hier *h = &cg->h[cg->n];
		const char *mnt = json_string_value(json_object_get(e, "mnt"));
		const char *dir = json_string_value(json_object_get(e, "dir"));
		const char *top = json_string_value(json_object_get(e, "top"));
		const char *ctl = json_string_value(json_object_get(e, "controllers"));

		/* The state file is ours, but still refuse directories outside the mount. */
		if (!mnt || !dir || !ctl || strncmp(dir, mnt, strlen(mnt)) || strstr(dir, "/..") ||
		    (top && (strncmp(dir, top, strlen(top)) || strlen(top) <= strlen(mnt))))
			return cabin_err_make(err, 0, "saved cgroup state: malformed hierarchy");
		h->mnt = xstrdup(mnt);
		h->dir = xstrdup(dir);
		h->top = top ? xstrdup(top) : NULL;
		h->controllers = xstrdup(ctl);
		h->v2 = json_is_true(json_object_get(e, "v2"));
		cg->n++;
	}
	*out = steal_ptr(&cg);
	return 0;
}

/* ---- processes --------------------------------------------------------------------- */

/* The hierarchy whose cgroup.procs lists the container's processes. */
static struct cg_hier *procs_hier(struct ctr_cgroup *cg)
{
	return cg->ops->procs_hier(cg);
}

static struct cg_hier *v1_procs_hier(struct ctr_cgroup *cg)
{
	struct cg_hier *h;

	h = cg_v1_find(cg, "pids");
	if (!h)
		h = cg_v1_find(cg, "freezer");
	if (!h)
		h = cg_v1_find(cg, "memory");
	if (!h)
		h = cg_v2(cg);
	if (!h && cg->n)
		h = &cg->h[0];
	return h;
}

void ctr_cgroup_set_owner(struct ctr_cgroup *cg, int (*owns)(const void *opaque, pid_t pid),
			  const void *opaque)
{
	cg->owns = owns;
	cg->owner = opaque;
}

static int all_pids(struct ctr_cgroup *cg, pid_t **pids, size_t *n, struct cabin_err **err);

pid_t ctr_cgroup_foreign_pid(struct ctr_cgroup *cg)
{
	cleanup_free pid_t *pids = NULL;
	struct cabin_err *e = NULL;
	size_t n = 0;

	if (!cg->owns || all_pids(cg, &pids, &n, &e) < 0) {
		cabin_err_release(&e);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!cg->owns(cg->owner, pids[i]))
			return pids[i];
	return 0;
}

int ctr_cgroup_pids(struct ctr_cgroup *cg, pid_t **pids, size_t *n, struct cabin_err **err)
{
	size_t i, k = 0;
	int ret = all_pids(cg, pids, n, err);

	if (ret < 0 || !cg->owns)
		return ret;
	for (i = 0; i < *n; i++)
		if (cg->owns(cg->owner, (*pids)[i]))
			(*pids)[k++] = (*pids)[i];
	*n = k;
	return 0;
}

static int all_pids(struct ctr_cgroup *cg, pid_t **pids, size_t *n, struct cabin_err **err)
{
	struct cg_hier *h = procs_hier(cg);
	cleanup_free char *buf = NULL;
	pid_t *v = NULL;
	size_t cnt = 0, cap = 0;
	char *p, *save = NULL;
	int ret;

	*pids = NULL;
	*n = 0;
	if (!h)
		return cabin_err_make(err, 0, "container has no cgroup");
	ret = cg_read(h->dir, "cgroup.procs", &buf, err);
	if (ret < 0)
		return ret;
	for (p = strtok_r(buf, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		long pid = strtol(p, NULL, 10);

		if (pid <= 0)
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[cnt++] = (pid_t)pid;
	}
	*pids = v;
	*n = cnt;
	return 0;
}

/* The freezer to use: v1 freezer hierarchy on v1/hybrid hosts, else cgroup.freeze. */
static struct cg_hier *freezer_hier(struct ctr_cgroup *cg, int *v2)
{
	return cg->ops->freezer_hier(cg, v2);
}

static struct cg_hier *v1_freezer_hier(struct ctr_cgroup *cg, int *v2)
{
	struct cg_hier *h = cg_v1_find(cg, "freezer");

	*v2 = 0;
	if (!h) {
		h = cg_v2(cg);
		*v2 = 1;
	}
	return h;
}

static struct cg_hier *v2_freezer_hier(struct ctr_cgroup *cg, int *v2)
{
	*v2 = 1;
	return cg_v2(cg);
}

/* 1 when the "frozen" key of cgroup.events is 1. */
static int v2_events_frozen(const char *dir)
{
	cleanup_free char *ev = NULL;
	struct cabin_err *e = NULL;
	const char *p;

	if (cg_read(dir, "cgroup.events", &ev, &e) < 0) {
		cabin_err_release(&e);
		return -1;
	}
	p = strstr(ev, "frozen ");
	return p ? p[7] == '1' : -1;
}

int ctr_cgroup_is_frozen(struct ctr_cgroup *cg)
{
	int v2;
	struct cg_hier *h = freezer_hier(cg, &v2);
	cleanup_free char *st = NULL;
	struct cabin_err *e = NULL;

	if (!h)
		return -ENOENT;
	if (v2)
		return v2_events_frozen(h->dir);
	if (cg_read(h->dir, "freezer.state", &st, &e) < 0) {
		int ret = e && e->status ? -e->status : -EIO;

		cabin_err_release(&e);
		return ret;
	}
	return !strcmp(st, "FROZEN");
}

const char *ctr_cgroup_freezer_dir(struct ctr_cgroup *cg)
{
	int v2;
	struct cg_hier *h = freezer_hier(cg, &v2);

	return h ? h->dir : NULL;
}

int ctr_cgroup_freeze(struct ctr_cgroup *cg, int frozen, struct cabin_err **err)
{
	int v2, i, ret;
	struct cg_hier *h = freezer_hier(cg, &v2);

	if (!h)
		return cabin_err_make(err, 0, "no freezer: neither a v1 freezer nor cgroup v2");
	if (v2)
		ret = cg_write(h->dir, "cgroup.freeze", frozen ? "1" : "0", NULL, err);
	else
		ret = cg_write(h->dir, "freezer.state", frozen ? "FROZEN" : "THAWED", NULL, err);
	if (ret < 0)
		return ret;
	/*
	 * Both freezers are asynchronous: v1 reports FREEZING until every task has stopped
	 * (and writing FROZEN again nudges tasks that were in an uninterruptible sleep),
	 * v2 sets "frozen 1" in cgroup.events once done.
	 */
	for (i = 0; i < CG_WAIT_MS / 5; i++) {
		int st = ctr_cgroup_is_frozen(cg);

		if (st == !!frozen)
			return 0;
		if (st < 0)
			return cabin_err_make(err, -st, "read freezer state of `%s`", h->dir);
		if (!v2 && frozen && i % 20 == 19)
			cg_write(h->dir, "freezer.state", "FROZEN", NULL, NULL);
		msleep(5);
	}
	if (frozen) {
		struct cabin_err *e = NULL;

		/* Do not leave a half-frozen container behind. */
		if (v2)
			cg_write(h->dir, "cgroup.freeze", "0", NULL, &e);
		else
			cg_write(h->dir, "freezer.state", "THAWED", NULL, &e);
		cabin_err_release(&e);
	}
	return cabin_err_make(err, ETIMEDOUT, "%s `%s`", frozen ? "freeze" : "thaw", h->dir);
}

int ctr_cgroup_kill_all(struct ctr_cgroup *cg, int sig, struct cabin_err **err)
{
	struct cg_hier *v2 = cg_v2(cg);
	cleanup_free pid_t *pids = NULL;
	size_t n = 0, i;
	int frozen = 0, ret;

	/*
	 * A cgroup shared with processes that are not the container's is neither killed
	 * nor frozen as a whole: only the container's own processes get the signal.
	 */
	if (ctr_cgroup_foreign_pid(cg)) {
		ret = ctr_cgroup_pids(cg, &pids, &n, err);
		for (i = 0; ret >= 0 && i < n; i++)
			if (kill(pids[i], sig) < 0 && errno != ESRCH)
				ret = cabin_err_make(err, errno, "kill pid `%d`", (int)pids[i]);
		return ret < 0 ? ret : 0;
	}
	/* cgroup.kill (Linux 5.14) kills the whole subtree atomically, forks included. */
	if (sig == SIGKILL && v2 && cg_file_exists(v2->dir, "cgroup.kill")) {
		ret = cg_write(v2->dir, "cgroup.kill", "1", NULL, err);
		return ret < 0 ? ret : 0;
	}
	/* Freeze first so that no process can fork a child we would not see. */
	if (sig != SIGCONT && sig != SIGSTOP) {
		struct cabin_err *e = NULL;

		if (ctr_cgroup_freeze(cg, 1, &e) >= 0)
			frozen = 1;
		cabin_err_release(&e);
	}
	ret = ctr_cgroup_pids(cg, &pids, &n, err);
	if (ret >= 0) {
		for (i = 0; i < n; i++)
			if (kill(pids[i], sig) < 0 && errno != ESRCH) {
				ret = cabin_err_make(err, errno, "kill pid `%d`", (int)pids[i]);
				break;
			}
	}
	if (frozen) {
		struct cabin_err *e = NULL;

		ctr_cgroup_freeze(cg, 0, &e);
		cabin_err_release(&e);
	}
	return ret < 0 ? ret : 0;
}

int ctr_cgroup_kill_leftovers(struct ctr_cgroup *cg, int sig, struct cabin_err **err)
{
	struct cg_hier *ph = procs_hier(cg);
	cleanup_free pid_t *pids = NULL;
	struct cabin_err *e = NULL;
	size_t n = 0;

	if (!ph || !ph->top || access(ph->dir, F_OK) < 0)
		return 0;
	if (ctr_cgroup_pids(cg, &pids, &n, &e) < 0) {
		/* removed between the access() and the read: nothing left to signal */
		cabin_err_release(&e);
		return 0;
	}
	return n ? ctr_cgroup_kill_all(cg, sig, err) : 0;
}

int ctr_cgroup_exists_any(const struct ctr_cgroup *cg)
{
	for (size_t i = 0; i < cg->n; i++)
		if (access(cg->h[i].dir, F_OK) == 0 || errno != ENOENT)
			return 1;
	return 0;
}

int ctr_cgroup_destroy(struct ctr_cgroup *cg, struct cabin_err **err)
{
	struct cg_hier *ph = procs_hier(cg);
	size_t i;
	int tries, ret;

	/*
	 * The directory whose cgroup.procs lists the container's processes goes first: if
	 * rmdir(2) takes it, it held no process at all, the container's or anyone's, and
	 * there is nothing to signal or to wait for (two reads of cgroup.procs fewer for
	 * the usual container that is gone).
	 */
	if (ph && rmdir(ph->dir) == 0)
		ph = NULL;
	if (ph && access(ph->dir, F_OK) == 0) {
		for (tries = 0; tries < CG_WAIT_MS / 10; tries++) {
			cleanup_free pid_t *pids = NULL;
			size_t n = 0;
			struct cabin_err *e = NULL;

			if (ctr_cgroup_pids(cg, &pids, &n, &e) < 0) {
				cabin_err_release(&e);
				break;
			}
			if (!n)
				break;
			if (tries % 50 == 0) {
				ctr_cgroup_kill_all(cg, SIGKILL, &e);
				cabin_err_release(&e);
				/* frozen tasks only act on SIGKILL once thawed (delete --force) */
				if (ctr_cgroup_is_frozen(cg) == 1)
					ctr_cgroup_freeze(cg, 0, &e);
				cabin_err_release(&e);
			}
			msleep(10);
		}
	}
	if (ph && ctr_cgroup_foreign_pid(cg)) {
		log_warn("cgroup `%s` still holds processes that are not the container's "
			 "(pid %d): left in place",
			 ph->dir, (int)ctr_cgroup_foreign_pid(cg));
		return 0;
	}
	for (i = cg->n; i-- > 0;) {
		ret = remove_hier(&cg->h[i], err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- statistics -------------------------------------------------------------------- */

static int read_u64(const char *dir, const char *file, uint64_t *v)
{
	cleanup_free char *s = NULL;
	struct cabin_err *e = NULL;

	if (!dir || cg_read(dir, file, &s, &e) < 0) {
		cabin_err_release(&e);
		return -1;
	}
	if (!strcmp(s, "max")) {
		*v = UINT64_MAX;
		return 0;
	}
	*v = strtoull(s, NULL, 10);
	return 0;
}

/* Value of @key in a flat-keyed file such as cpu.stat ("usage_usec 123"). */
static int read_keyed(const char *dir, const char *file, const char *key, uint64_t *v)
{
	cleanup_free char *s = NULL;
	struct cabin_err *e = NULL;
	char *line, *save = NULL;
	size_t kl = strlen(key);

	if (!dir || cg_read(dir, file, &s, &e) < 0) {
		cabin_err_release(&e);
		return -1;
	}
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, key, kl) && line[kl] == ' ') {
			*v = strtoull(line + kl + 1, NULL, 10);
			return 0;
		}
	return -1;
}

json_t *ctr_cgroup_stats(struct ctr_cgroup *cg)
{
	json_t *o = json_object(), *mem = json_object(), *mu = json_object(), *cpu = json_object(),
	       *cu = json_object(), *pids = json_object();

	cg->ops->stats(cg, mu, cu, pids);
	json_object_set_new(mem, "usage", mu);
	json_object_set_new(cpu, "usage", cu);
	json_object_set_new(o, "memory", mem);
	json_object_set_new(o, "cpu", cpu);
	json_object_set_new(o, "pids", pids);
	return o;
}

static void v2_stats(struct ctr_cgroup *cg, json_t *mu, json_t *cu, json_t *pids)
{
	const char *d = cg_v2(cg) ? cg_v2(cg)->dir : NULL;
	uint64_t v;

	if (read_u64(d, "memory.current", &v) == 0)
		json_object_set_new(mu, "usage", json_integer((json_int_t)v));
	if (read_u64(d, "memory.max", &v) == 0)
		json_object_set_new(mu, "limit", json_integer((json_int_t)v));
	if (read_keyed(d, "cpu.stat", "usage_usec", &v) == 0)
		json_object_set_new(cu, "total", json_integer((json_int_t)(v * 1000)));
	if (read_u64(d, "pids.current", &v) == 0)
		json_object_set_new(pids, "current", json_integer((json_int_t)v));
	if (read_u64(d, "pids.max", &v) == 0 && v != UINT64_MAX)
		json_object_set_new(pids, "limit", json_integer((json_int_t)v));
}

static void v1_stats(struct ctr_cgroup *cg, json_t *mu, json_t *cu, json_t *pids)
{
	struct cg_hier *m = cg_v1_find(cg, "memory"), *c = cg_v1_find(cg, "cpuacct"),
		       *p = cg_v1_find(cg, "pids");
	uint64_t v;

	if (m && read_u64(m->dir, "memory.usage_in_bytes", &v) == 0)
		json_object_set_new(mu, "usage", json_integer((json_int_t)v));
	if (m && read_u64(m->dir, "memory.limit_in_bytes", &v) == 0)
		json_object_set_new(mu, "limit", json_integer((json_int_t)v));
	if (m && read_u64(m->dir, "memory.max_usage_in_bytes", &v) == 0)
		json_object_set_new(mu, "max", json_integer((json_int_t)v));
	if (c && read_u64(c->dir, "cpuacct.usage", &v) == 0)
		json_object_set_new(cu, "total", json_integer((json_int_t)v));
	if (p && read_u64(p->dir, "pids.current", &v) == 0)
		json_object_set_new(pids, "current", json_integer((json_int_t)v));
	if (p && read_u64(p->dir, "pids.max", &v) == 0 && v != UINT64_MAX)
		json_object_set_new(pids, "limit", json_integer((json_int_t)v));
}

int ctr_cgroup_oom_count(struct ctr_cgroup *cg, uint64_t *count)
{
	struct cg_hier *h;
	uint64_t v = 0;

	/*
	 * v2 counts OOM events of the cgroup in memory.events (`oom`); v1 counts the kills
	 * in memory.oom_control (`oom_kill`, Linux 4.13) and shows a cgroup stuck at its
	 * limit as `under_oom 1`: either is an OOM to report.
	 */
	h = cg->ops->memory_hier(cg);
	if (!h)
		return -1;
	if (h->v2)
		return read_keyed(h->dir, "memory.events", "oom", count);
	if (read_keyed(h->dir, "memory.oom_control", "oom_kill", &v) < 0)
		return -1;
	*count = v;
	if (read_keyed(h->dir, "memory.oom_control", "under_oom", &v) == 0 && v)
		*count += 1;
	return 0;
}

int ctr_cgroup_memory_limit(struct ctr_cgroup *cg, uint64_t *limit)
{
	struct cg_hier *h = cg->ops->memory_hier(cg);

	if (!h)
		return -1;
	return read_u64(h->dir, h->v2 ? "memory.max" : "memory.limit_in_bytes", limit);
}

/* ---- the managers ------------------------------------------------------------------ */

static int v2_apply(struct ctr_cgroup *cg, json_t *res, int update, struct cabin_err **err)
{
	return cg_v2_apply(cg, cg_v2(cg), res, update, err);
}

static struct cg_hier *v1_memory_hier(struct ctr_cgroup *cg)
{
	return cg_v1_find(cg, "memory");
}

/* v1: one hierarchy per controller group; cgroup2, if mounted, only fills the gaps. */
static const struct cg_manager_ops v1_manager = {
	.name = "v1",
	.apply = cg_v1_apply,
	.v2_wanted = v2_wanted_missing,
	.procs_hier = v1_procs_hier,
	.freezer_hier = v1_freezer_hier,
	.memory_hier = v1_memory_hier,
	.stats = v1_stats,
};

/* hybrid: v1, and a cgroup2 tree whose root is the host's to configure */
static const struct cg_manager_ops hybrid_manager = {
	.name = "hybrid",
	.v2_root_is_hosts = 1,
	.apply = cg_v1_apply,
	.v2_wanted = v2_wanted_missing,
	.procs_hier = v1_procs_hier,
	.freezer_hier = v1_freezer_hier,
	.memory_hier = v1_memory_hier,
	.stats = v1_stats,
};

static const struct cg_manager_ops v2_manager = {
	.name = "v2",
	.apply = v2_apply,
	.v2_wanted = v2_wanted_all,
	.procs_hier = cg_v2,
	.freezer_hier = v2_freezer_hier,
	.memory_hier = cg_v2,
	.stats = v2_stats,
};

void cg_set_mode(struct ctr_cgroup *cg, enum ctr_cgroup_mode mode)
{
	cg->mode = mode;
	switch (mode) {
	case CTR_CGROUP_V2:
		cg->ops = &v2_manager;
		break;
	case CTR_CGROUP_HYBRID:
		cg->ops = &hybrid_manager;
		break;
	case CTR_CGROUP_V1:
	default:
		cg->ops = &v1_manager;
		break;
	}
}
