/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.json: parse and validate the whole document up front. Unknown keys are
 * ignored (the runtime-spec allows extensions), but every known key is checked for
 * its type and range so a mistake is one error line naming the field, before any
 * namespace, mount or cgroup exists.
 */
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ctr/cgroup.h"
#include "ctr/json.h"
#include "ctr/limits.h"
#include "ctr/spec.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/strv.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#define CFG "config.json: "

static const struct {
	const char *name;
	int flag;
	const char *proc;
} ns_table[] = {
	{ "pid", CLONE_NEWPID, "pid" },		 { "network", CLONE_NEWNET, "net" },
	{ "mount", CLONE_NEWNS, "mnt" },	 { "ipc", CLONE_NEWIPC, "ipc" },
	{ "uts", CLONE_NEWUTS, "uts" },		 { "user", CLONE_NEWUSER, "user" },
	{ "cgroup", CLONE_NEWCGROUP, "cgroup" }, { "time", CLONE_NEWTIME, "time" },
};

int ctr_ns_flag(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_table); i++)
		if (!strcmp(ns_table[i].name, type))
			return ns_table[i].flag;
	return 0;
}

const char *ctr_ns_proc_name(int flag)
{
	for (size_t i = 0; i < ARRAY_SIZE(ns_table); i++)
		if (ns_table[i].flag == flag)
			return ns_table[i].proc;
	return NULL;
}

static const struct {
	const char *name;
	int sig;
} sig_table[] = {
	{ "HUP", SIGHUP },	 { "INT", SIGINT },   { "QUIT", SIGQUIT },     { "ILL", SIGILL },
	{ "TRAP", SIGTRAP },	 { "ABRT", SIGABRT }, { "IOT", SIGIOT },       { "BUS", SIGBUS },
	{ "FPE", SIGFPE },	 { "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 },	 { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },     { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP },	 { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },
	{ "XCPU", SIGXCPU },	 { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
	{ "WINCH", SIGWINCH },	 { "IO", SIGIO },     { "POLL", SIGPOLL },     { "PWR", SIGPWR },
	{ "SYS", SIGSYS },
};

int ctr_signal_parse(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	if (*s >= '0' && *s <= '9') {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno || *end || v < 0 || v > SIGRTMAX)
			return -1;
		return (int)v;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
		int base = !strncasecmp(s, "RTMIN", 5) ? SIGRTMIN : SIGRTMAX;

		if (!s[5])
			return base;
		v = strtol(s + 5, &end, 10);
		if (*end || base + v < SIGRTMIN || base + v > SIGRTMAX)
			return -1;
		return (int)(base + v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(sig_table); i++)
		if (!strcasecmp(sig_table[i].name, s))
			return sig_table[i].sig;
	return -1;
}

/* --- small typed accessors: each failure names the field --- */

static int want(json_t *v, json_type t, const char *field, const char *what, struct cabin_err **err)
{
	if (v && json_typeof(v) != t)
		return cabin_err_make(err, 0, CFG "`%s` must be %s", field, what);
	return 0;
}

static int get_str(json_t *obj, const char *key, const char *field, int required, const char **out,
		   struct cabin_err **err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v) {
		if (required)
			return cabin_err_make(err, 0, CFG "`%s` is required", field);
		return 0;
	}
	if (!json_is_string(v))
		return cabin_err_make(err, 0, CFG "`%s` must be a string", field);
	*out = json_string_value(v);
	return 0;
}

static int get_bool(json_t *obj, const char *key, const char *field, int *out,
		    struct cabin_err **err)
{
	json_t *v = json_object_get(obj, key);

	*out = 0;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return cabin_err_make(err, 0, CFG "`%s` must be a boolean", field);
	*out = json_is_true(v);
	return 0;
}

/* An integer in [min, max]; @present is set when the key exists. */
static int get_int(json_t *obj, const char *key, const char *field, int required, long long min,
		   long long max, long long *out, int *present, struct cabin_err **err)
{
	json_t *v = json_object_get(obj, key);

	if (present)
		*present = v != NULL;
	if (!v) {
		if (required)
			return cabin_err_make(err, 0, CFG "`%s` is required", field);
		return 0;
	}
	if (!json_is_integer(v))
		return cabin_err_make(err, 0, CFG "`%s` must be an integer", field);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return cabin_err_make(err, 0, CFG "`%s` is out of range: `%lld`", field,
				      (long long)json_integer_value(v));
	*out = json_integer_value(v);
	return 0;
}

/* An array of strings into a vector of borrowed pointers (NULL when absent). */
static int get_strv(json_t *obj, const char *key, const char *field, int nonempty, char ***out,
		    struct cabin_err **err)
{
	json_t *v = json_object_get(obj, key), *e;
	size_t i;
	char **vec;

	*out = NULL;
	if (!v) {
		if (nonempty)
			return cabin_err_make(
				err, 0, CFG "`%s` must be a non-empty array of strings", field);
		return 0;
	}
	if (!json_is_array(v) || (nonempty && json_array_size(v) == 0))
		return cabin_err_make(err, 0, CFG "`%s` must be a %sarray of strings", field,
				      nonempty ? "non-empty " : "");
	vec = xcalloc(json_array_size(v) + 1, sizeof(*vec));
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e)) {
			free(vec);
			return cabin_err_make(err, 0, CFG "`%s` must be a %sarray of strings",
					      field, nonempty ? "non-empty " : "");
		}
		vec[i] = (char *)json_string_value(e);
	}
	*out = vec;
	return 0;
}

static int check_abs(const char *p, const char *field, struct cabin_err **err)
{
	if (p[0] != '/')
		return cabin_err_make(err, 0, CFG "`%s` must be an absolute path, not `%s`", field,
				      p);
	return 0;
}

/*
 * @p (absolute) made lexical: no "", "." or ".." components, no trailing '/'. Written
 * to @out (of @n bytes, at least strlen(@p) + 1); ".." at the root stays at the root.
 */
static void clean_path(const char *p, char *out, size_t n)
{
	size_t len = 0;

	out[0] = '\0';
	while (*p) {
		const char *e = strchrnul(p, '/');
		size_t l = (size_t)(e - p);

		if ((l == 1 && p[0] == '.') || l == 0) {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			while (len && out[--len] != '/')
				;
			out[len] = '\0';
		} else if (len + l + 2 <= n) {
			out[len++] = '/';
			memcpy(out + len, p, l);
			len += l;
			out[len] = '\0';
		}
		p = *e ? e + 1 : e;
	}
	if (!len)
		snprintf(out, n, "/");
}

/*
 * Nothing is mounted inside /proc but what lxcfs provides there, and on /proc itself only
 * a proc mount (runc's checkProcMount): a mount over /proc/sys, /proc/self/attr or the
 * masked files would let the runtime's own writes to procfs (sysctls), or the masking,
 * land on the mount instead (runc's CVE-2019-16884 and CVE-2023-27561).
 */
static int check_proc_dest(const struct ctr_mount *m, size_t idx, struct cabin_err **err)
{
	static const char *const lxcfs[] = {
		"/proc/cpuinfo", "/proc/diskstats",
		"/proc/meminfo", "/proc/stat",
		"/proc/swaps",	 "/proc/uptime",
		"/proc/loadavg", "/proc/slabinfo",
		"/proc/net/dev", "/proc/sys/kernel/ns_last_pid",
	};
	size_t n = strlen(m->dest) + 2;
	cleanup_free char *d = xmalloc(n);

	clean_path(m->dest, d, n);
	if (strncmp(d, "/proc", 5) || (d[5] && d[5] != '/'))
		return 0;
	if (!d[5]) {
		struct statfs sf;

		if (m->kind == CTR_MOUNT_FS && !strcmp(m->type, "proc"))
			return 0;
		/* a bind of a procfs (podman's --pid host, rootless) */
		if (m->kind == CTR_MOUNT_BIND && statfs(m->source, &sf) == 0 &&
		    sf.f_type == PROC_SUPER_MAGIC)
			return 0;
		return cabin_err_make(err, 0,
				      CFG "`mounts[%zu].destination` `%s`: only a mount of type "
					  "proc may be mounted there",
				      idx, m->dest);
	}
	for (size_t i = 0; i < ARRAY_SIZE(lxcfs); i++)
		if (!strcmp(d, lxcfs[i]))
			return 0;
	return cabin_err_make(err, 0,
			      CFG "`mounts[%zu].destination` `%s` is inside /proc (only the files "
				  "lxcfs provides may be mounted there)",
			      idx, m->dest);
}

static int check_mappings(json_t *m, const char *field, struct cabin_err **err)
{
	json_t *e;
	size_t i;
	char f[96];
	long long v;

	if (!m)
		return 0;
	if (!json_is_array(m))
		return cabin_err_make(err, 0, CFG "`%s` must be an array", field);
	if (json_array_size(m) > 340)
		return cabin_err_make(err, 0, CFG "`%s` has too many entries", field);
	json_array_foreach(m, i, e)
	{
		if (!json_is_object(e))
			return cabin_err_make(err, 0, CFG "`%s[%zu]` must be an object", field, i);
		snprintf(f, sizeof(f), "%s[%zu].containerID", field, i);
		if (get_int(e, "containerID", f, 1, 0, UINT32_MAX, &v, NULL, err) < 0)
			return -EINVAL;
		snprintf(f, sizeof(f), "%s[%zu].hostID", field, i);
		if (get_int(e, "hostID", f, 1, 0, UINT32_MAX, &v, NULL, err) < 0)
			return -EINVAL;
		snprintf(f, sizeof(f), "%s[%zu].size", field, i);
		if (get_int(e, "size", f, 1, 1, UINT32_MAX, &v, NULL, err) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_process(json_t *proc, const char *pf, struct ctr_spec *s, struct cabin_err **err)
{
	json_t *user, *cs, *g;
	char f[128];
	long long v;
	int present;
	size_t i;

	if (!json_is_object(proc))
		return cabin_err_make(err, 0, CFG "`%s` must be an object", pf);
	s->process = proc;
#define F(name) (snprintf(f, sizeof(f), "%s.%s", pf, name), f)
	if (get_bool(proc, "terminal", F("terminal"), &s->terminal, err) < 0)
		return -EINVAL;
	cs = json_object_get(proc, "consoleSize");
	if (cs) {
		if (!json_is_object(cs))
			return cabin_err_make(err, 0, CFG "`%s` must be an object",
					      F("consoleSize"));
		if (get_int(cs, "height", F("consoleSize.height"), 1, 0, USHRT_MAX, &v, NULL, err) <
		    0)
			return -EINVAL;
		s->cons_height = (unsigned short)v;
		if (get_int(cs, "width", F("consoleSize.width"), 1, 0, USHRT_MAX, &v, NULL, err) <
		    0)
			return -EINVAL;
		s->cons_width = (unsigned short)v;
	}
	free(s->args);
	if (get_strv(proc, "args", F("args"), 1, &s->args, err) < 0)
		return -EINVAL;
	free(s->env);
	if (get_strv(proc, "env", F("env"), 0, &s->env, err) < 0)
		return -EINVAL;
	for (i = 0; s->env && s->env[i]; i++)
		if (!strchr(s->env[i], '=') || s->env[i][0] == '=')
			return cabin_err_make(err, 0, CFG "`%s[%zu]` must be KEY=VALUE, not `%s`",
					      F("env"), i, s->env[i]);
	if (get_str(proc, "cwd", F("cwd"), 1, &s->cwd, err) < 0)
		return -EINVAL;
	if (check_abs(s->cwd, F("cwd"), err) < 0)
		return -EINVAL;
	user = json_object_get(proc, "user");
	if (!user)
		return cabin_err_make(err, 0, CFG "`%s` is required", F("user"));
	if (!json_is_object(user))
		return cabin_err_make(err, 0, CFG "`%s` must be an object", F("user"));
	if (get_int(user, "uid", F("user.uid"), 1, 0, UINT32_MAX - 1, &v, NULL, err) < 0)
		return -EINVAL;
	s->uid = (uid_t)v;
	if (get_int(user, "gid", F("user.gid"), 1, 0, UINT32_MAX - 1, &v, NULL, err) < 0)
		return -EINVAL;
	s->gid = (gid_t)v;
	s->umask = -1;
	if (get_int(user, "umask", F("user.umask"), 0, 0, 0777, &v, &present, err) < 0)
		return -EINVAL;
	if (present)
		s->umask = (int)v;
	if (json_object_get(user, "username"))
		if (want(json_object_get(user, "username"), JSON_STRING, F("user.username"),
			 "a string", err) < 0)
			return -EINVAL;
	g = json_object_get(user, "additionalGids");
	free(s->add_gids);
	s->add_gids = NULL;
	s->n_add_gids = 0;
	if (g) {
		json_t *e;

		if (!json_is_array(g) || json_array_size(g) > NGROUPS_MAX)
			return cabin_err_make(err, 0, CFG "`%s` must be an array of gids",
					      F("user.additionalGids"));
		s->add_gids = xcalloc(json_array_size(g) + 1, sizeof(gid_t));
		json_array_foreach(g, i, e)
		{
			if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			    json_integer_value(e) > UINT32_MAX - 1)
				return cabin_err_make(err, 0,
						      CFG "`%s[%zu]` must be a gid (0..4294967294)",
						      F("user.additionalGids"), i);
			s->add_gids[i] = (gid_t)json_integer_value(e);
		}
		s->n_add_gids = json_array_size(g);
	}
	if (get_bool(proc, "noNewPrivileges", F("noNewPrivileges"), &s->no_new_privs, err) < 0)
		return -EINVAL;
	s->oom_score_adj = json_object_get(proc, "oomScoreAdj");
	if (get_int(proc, "oomScoreAdj", F("oomScoreAdj"), 0, -1000, 1000, &v, NULL, err) < 0)
		return -EINVAL;
	s->caps = json_object_get(proc, "capabilities");
	if (want(s->caps, JSON_OBJECT, F("capabilities"), "an object", err) < 0)
		return -EINVAL;
	s->rlimits = json_object_get(proc, "rlimits");
	if (want(s->rlimits, JSON_ARRAY, F("rlimits"), "an array", err) < 0)
		return -EINVAL;
	s->ioprio = json_object_get(proc, "ioPriority");
	if (want(s->ioprio, JSON_OBJECT, F("ioPriority"), "an object", err) < 0)
		return -EINVAL;
	if (json_object_get(proc, "apparmorProfile") &&
	    json_string_length(json_object_get(proc, "apparmorProfile")))
		return cabin_err_make(err, 0, CFG "`%s` is set but this host has no AppArmor",
				      F("apparmorProfile"));
	if (json_object_get(proc, "selinuxLabel") &&
	    json_string_length(json_object_get(proc, "selinuxLabel")))
		return cabin_err_make(err, 0, CFG "`%s` is set but this host has no SELinux",
				      F("selinuxLabel"));
	if (s->rlimits && ctr_rlimits_validate(s->rlimits, err) < 0)
		return cabin_err_wrap(err, "config.json");
	if (s->ioprio && ctr_ioprio_validate(s->ioprio, err) < 0)
		return cabin_err_wrap(err, "config.json");
#undef F
	return 0;
}

int ctr_spec_parse_process(json_t *proc, const char *pf, const char *src, struct ctr_spec *s,
			   struct cabin_err **err)
{
	int ret = parse_process(proc, pf, s, err);

	/* the messages name config.json: name the document they are about instead */
	if (ret < 0 && src && *err) {
		const char *m = cabin_err_msg(*err);
		cleanup_free char *rest =
			xstrdup(strncmp(m, CFG, strlen(CFG)) ? m : m + strlen(CFG));
		int status = (*err)->status;

		if (*src)
			cabin_err_make(err, 0, "%s: %s", src, rest);
		else
			cabin_err_make(err, 0, "%s", rest);
		(*err)->status = status;
	}
	return ret;
}

/* Mount options of the runtime-spec (mount(8) names). */
static const struct {
	const char *name;
	unsigned long ms_set, ms_clr, attr_set, attr_clr;
} mount_opts[] = {
	{ "ro", MS_RDONLY, 0, MOUNT_ATTR_RDONLY, 0 },
	{ "rw", 0, MS_RDONLY, 0, MOUNT_ATTR_RDONLY },
	{ "nosuid", MS_NOSUID, 0, MOUNT_ATTR_NOSUID, 0 },
	{ "suid", 0, MS_NOSUID, 0, MOUNT_ATTR_NOSUID },
	{ "nodev", MS_NODEV, 0, MOUNT_ATTR_NODEV, 0 },
	{ "dev", 0, MS_NODEV, 0, MOUNT_ATTR_NODEV },
	{ "noexec", MS_NOEXEC, 0, MOUNT_ATTR_NOEXEC, 0 },
	{ "exec", 0, MS_NOEXEC, 0, MOUNT_ATTR_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0, 0, 0 },
	{ "async", 0, MS_SYNCHRONOUS, 0, 0 },
	{ "dirsync", MS_DIRSYNC, 0, 0, 0 },
	{ "remount", MS_REMOUNT, 0, 0, 0 },
	{ "mand", MS_MANDLOCK, 0, 0, 0 },
	{ "nomand", 0, MS_MANDLOCK, 0, 0 },
	{ "atime", 0, MS_NOATIME, 0, MOUNT_ATTR_NOATIME },
	{ "noatime", MS_NOATIME, 0, MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME },
	{ "diratime", 0, MS_NODIRATIME, 0, MOUNT_ATTR_NODIRATIME },
	{ "nodiratime", MS_NODIRATIME, 0, MOUNT_ATTR_NODIRATIME, 0 },
	{ "relatime", MS_RELATIME, 0, MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME },
	{ "norelatime", 0, MS_RELATIME, 0, 0 },
	{ "strictatime", MS_STRICTATIME, 0, MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
	{ "nostrictatime", 0, MS_STRICTATIME, 0, 0 },
	{ "lazytime", MS_LAZYTIME, 0, 0, 0 },
	{ "nolazytime", 0, MS_LAZYTIME, 0, 0 },
	{ "silent", MS_SILENT, 0, 0, 0 },
	{ "loud", 0, MS_SILENT, 0, 0 },
	{ "nosymfollow", MS_NOSYMFOLLOW, 0, MOUNT_ATTR_NOSYMFOLLOW, 0 },
	{ "symfollow", 0, MS_NOSYMFOLLOW, 0, MOUNT_ATTR_NOSYMFOLLOW },
	{ "defaults", 0, 0, 0, 0 },
};

static const struct {
	const char *name;
	unsigned long prop;
	int rec;
} prop_opts[] = {
	{ "shared", MS_SHARED, 0 },	    { "rshared", MS_SHARED, 1 },
	{ "slave", MS_SLAVE, 0 },	    { "rslave", MS_SLAVE, 1 },
	{ "private", MS_PRIVATE, 0 },	    { "rprivate", MS_PRIVATE, 1 },
	{ "unbindable", MS_UNBINDABLE, 0 }, { "runbindable", MS_UNBINDABLE, 1 },
};

static int parse_mount(json_t *jm, size_t idx, struct ctr_mount *m, struct cabin_err **err)
{
	char f[96];
	char **opts = NULL;
	size_t i, datalen = 0;
	int prop_rec = 0;

	m->userns_fd = -1;
	m->tree_fd = -1;
	snprintf(f, sizeof(f), "mounts[%zu]", idx);
	if (!json_is_object(jm))
		return cabin_err_make(err, 0, CFG "`%s` must be an object", f);
	snprintf(f, sizeof(f), "mounts[%zu].destination", idx);
	if (get_str(jm, "destination", f, 1, &m->dest, err) < 0)
		return -EINVAL;
	if (check_abs(m->dest, f, err) < 0)
		return -EINVAL;
	snprintf(f, sizeof(f), "mounts[%zu].type", idx);
	if (get_str(jm, "type", f, 0, &m->type, err) < 0)
		return -EINVAL;
	snprintf(f, sizeof(f), "mounts[%zu].source", idx);
	if (get_str(jm, "source", f, 0, &m->source, err) < 0)
		return -EINVAL;
	snprintf(f, sizeof(f), "mounts[%zu].options", idx);
	if (get_strv(jm, "options", f, 0, &opts, err) < 0)
		return -EINVAL;
	m->kind = CTR_MOUNT_FS;
	if (m->type && !strcmp(m->type, "bind"))
		m->kind = CTR_MOUNT_BIND;
	if (m->type && !strcmp(m->type, "cgroup"))
		m->kind = CTR_MOUNT_CGROUP;
	m->data = xcalloc(1, 1);
	for (i = 0; opts && opts[i]; i++) {
		const char *o = opts[i];
		size_t j;
		int done = 0;

		if (!strcmp(o, "bind") || !strcmp(o, "rbind")) {
			m->kind = CTR_MOUNT_BIND;
			m->recursive = o[0] == 'r';
			continue;
		}
		if (!strcmp(o, "idmap") || !strcmp(o, "ridmap")) {
			m->idmap = 1;
			continue;
		}
		/*
		 * Recursive variants (Linux 5.12 mount_setattr, as runc and crun take them):
		 * "rro", "rnosuid", ... apply to the mount and every mount below it, where
		 * "ro" on an rbind applies to its top mount only.
		 */
		for (j = 0; j < ARRAY_SIZE(mount_opts) && !done; j++) {
			if (o[0] != 'r' || strcmp(o + 1, mount_opts[j].name) ||
			    !(mount_opts[j].attr_set | mount_opts[j].attr_clr))
				continue;
			m->rattr_set =
				(m->rattr_set & ~mount_opts[j].attr_clr) | mount_opts[j].attr_set;
			m->rattr_clr |= mount_opts[j].attr_clr;
			if (mount_opts[j].attr_set & MOUNT_ATTR__ATIME)
				m->rattr_clr |= MOUNT_ATTR__ATIME;
			done = 1;
		}
		for (j = 0; j < ARRAY_SIZE(mount_opts) && !done; j++) {
			if (strcmp(o, mount_opts[j].name))
				continue;
			m->flags = (m->flags & ~mount_opts[j].ms_clr) | mount_opts[j].ms_set;
			m->attr_set =
				(m->attr_set & ~mount_opts[j].attr_clr) | mount_opts[j].attr_set;
			m->attr_clr |= mount_opts[j].attr_clr;
			done = 1;
		}
		for (j = 0; j < ARRAY_SIZE(prop_opts) && !done; j++) {
			if (strcmp(o, prop_opts[j].name))
				continue;
			m->propagation = prop_opts[j].prop;
			prop_rec = prop_opts[j].rec;
			done = 1;
		}
		if (done)
			continue;
		if (!strcmp(o, "tmpcopyup") && m->type && !strcmp(m->type, "tmpfs")) {
			m->tmpcopyup = 1;
			continue;
		}
		if (!strncmp(o, "tmpcopyup", 9) || !strcmp(o, "copy-symlink") ||
		    !strncmp(o, "x-", 2)) {
			if (!strncmp(o, "x-", 2))
				continue; /* userspace-only options, as mount(8) */
			free(opts);
			return cabin_err_make(
				err, 0, CFG "`mounts[%zu].options`: `%s` is not supported", idx, o);
		}
		/* Everything else is filesystem data ("size=64k", "mode=755", ...). */
		{
			size_t ol = strlen(o);
			char *nd = xrealloc(m->data, datalen + ol + 2);

			m->data = nd;
			if (datalen)
				m->data[datalen++] = ',';
			memcpy(m->data + datalen, o, ol + 1);
			datalen += ol;
		}
	}
	free(opts);
	(void)prop_rec;
	if (m->kind == CTR_MOUNT_BIND && !m->source) {
		snprintf(f, sizeof(f), "mounts[%zu].source", idx);
		return cabin_err_make(err, 0, CFG "`%s` is required for a bind mount", f);
	}
	if (m->kind == CTR_MOUNT_FS && (!m->type || !*m->type)) {
		snprintf(f, sizeof(f), "mounts[%zu].type", idx);
		return cabin_err_make(err, 0, CFG "`%s` is required for a non-bind mount", f);
	}
	if (check_proc_dest(m, idx, err) < 0)
		return -EINVAL;
	m->uid_mappings = json_object_get(jm, "uidMappings");
	m->gid_mappings = json_object_get(jm, "gidMappings");
	snprintf(f, sizeof(f), "mounts[%zu].uidMappings", idx);
	if (check_mappings(m->uid_mappings, f, err) < 0)
		return -EINVAL;
	snprintf(f, sizeof(f), "mounts[%zu].gidMappings", idx);
	if (check_mappings(m->gid_mappings, f, err) < 0)
		return -EINVAL;
	if (m->uid_mappings || m->gid_mappings) {
		if (!m->uid_mappings || !m->gid_mappings)
			return cabin_err_make(
				err, 0, CFG "`mounts[%zu]` needs both uidMappings and gidMappings",
				idx);
		m->idmap = 1;
	}
	if (m->idmap && m->kind != CTR_MOUNT_BIND)
		return cabin_err_make(
			err, 0, CFG "`mounts[%zu]`: idmapped mounts must be bind mounts", idx);
	return 0;
}

static int parse_devices(json_t *devs, struct ctr_spec *s, struct cabin_err **err)
{
	json_t *d;
	size_t i;
	char f[96];
	long long v;
	int present;

	if (!devs)
		return 0;
	if (!json_is_array(devs))
		return cabin_err_make(err, 0, CFG "`linux.devices` must be an array");
	s->devices = xcalloc(json_array_size(devs) + 1, sizeof(*s->devices));
	json_array_foreach(devs, i, d)
	{
		struct ctr_device *dv = &s->devices[i];
		const char *type;

		if (!json_is_object(d))
			return cabin_err_make(err, 0, CFG "`linux.devices[%zu]` must be an object",
					      i);
		snprintf(f, sizeof(f), "linux.devices[%zu].path", i);
		if (get_str(d, "path", f, 1, &dv->path, err) < 0 || check_abs(dv->path, f, err) < 0)
			return -EINVAL;
		snprintf(f, sizeof(f), "linux.devices[%zu].type", i);
		if (get_str(d, "type", f, 1, &type, err) < 0)
			return -EINVAL;
		if (!strcmp(type, "c") || !strcmp(type, "u"))
			dv->type = S_IFCHR;
		else if (!strcmp(type, "b"))
			dv->type = S_IFBLK;
		else if (!strcmp(type, "p"))
			dv->type = S_IFIFO;
		else
			return cabin_err_make(err, 0, CFG "`%s` must be c, b, u or p, not `%s`", f,
					      type);
		snprintf(f, sizeof(f), "linux.devices[%zu].major", i);
		if (get_int(d, "major", f, dv->type != S_IFIFO, 0, 0xfff, &v, &present, err) < 0)
			return -EINVAL;
		dv->major = present ? (unsigned)v : 0;
		snprintf(f, sizeof(f), "linux.devices[%zu].minor", i);
		if (get_int(d, "minor", f, dv->type != S_IFIFO, 0, 0xfffff, &v, &present, err) < 0)
			return -EINVAL;
		dv->minor = present ? (unsigned)v : 0;
		snprintf(f, sizeof(f), "linux.devices[%zu].fileMode", i);
		/* podman passes st_mode, file type bits (S_IFCHR...) included: the type wins */
		if (get_int(d, "fileMode", f, 0, 0, 0177777, &v, &present, err) < 0)
			return -EINVAL;
		dv->mode = present ? (mode_t)v & 07777 : 0666;
		snprintf(f, sizeof(f), "linux.devices[%zu].uid", i);
		if (get_int(d, "uid", f, 0, 0, UINT32_MAX - 1, &v, &present, err) < 0)
			return -EINVAL;
		dv->uid = present ? (uid_t)v : 0;
		snprintf(f, sizeof(f), "linux.devices[%zu].gid", i);
		if (get_int(d, "gid", f, 0, 0, UINT32_MAX - 1, &v, &present, err) < 0)
			return -EINVAL;
		dv->gid = present ? (gid_t)v : 0;
	}
	s->n_devices = json_array_size(devs);
	return 0;
}

static int parse_namespaces(json_t *nss, struct ctr_spec *s, struct cabin_err **err)
{
	json_t *n;
	size_t i;
	char f[64];

	if (!nss)
		return 0;
	if (!json_is_array(nss))
		return cabin_err_make(err, 0, CFG "`linux.namespaces` must be an array");
	json_array_foreach(nss, i, n)
	{
		const char *type, *path;
		int flag;

		if (!json_is_object(n))
			return cabin_err_make(err, 0,
					      CFG "`linux.namespaces[%zu]` must be an object", i);
		snprintf(f, sizeof(f), "linux.namespaces[%zu].type", i);
		if (get_str(n, "type", f, 1, &type, err) < 0)
			return -EINVAL;
		flag = ctr_ns_flag(type);
		if (!flag)
			return cabin_err_make(err, 0, CFG "`%s`: unknown namespace type `%s`", f,
					      type);
		if ((s->ns_new | s->ns_joined) & flag)
			return cabin_err_make(err, 0,
					      CFG "`linux.namespaces`: `%s` is listed twice", type);
		snprintf(f, sizeof(f), "linux.namespaces[%zu].path", i);
		if (get_str(n, "path", f, 0, &path, err) < 0)
			return -EINVAL;
		if (path && *path) {
			if (check_abs(path, f, err) < 0)
				return -EINVAL;
			s->ns_joined |= flag;
			s->joins[s->n_joins].flag = flag;
			s->joins[s->n_joins++].path = path;
		} else {
			s->ns_new |= flag;
		}
	}
	return 0;
}

static int parse_hooks(json_t *hooks, struct cabin_err **err)
{
	static const char *const kinds[] = { "prestart",       "createRuntime", "createContainer",
					     "startContainer", "poststart",	"poststop" };
	char f[96];

	if (!hooks)
		return 0;
	if (!json_is_object(hooks))
		return cabin_err_make(err, 0, CFG "`hooks` must be an object");
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		json_t *arr = json_object_get(hooks, kinds[k]), *h;
		size_t i;

		if (!arr)
			continue;
		if (!json_is_array(arr))
			return cabin_err_make(err, 0, CFG "`hooks.%s` must be an array", kinds[k]);
		json_array_foreach(arr, i, h)
		{
			const char *path;
			char **v = NULL;
			long long t;

			if (!json_is_object(h))
				return cabin_err_make(err, 0,
						      CFG "`hooks.%s[%zu]` must be an object",
						      kinds[k], i);
			snprintf(f, sizeof(f), "hooks.%s[%zu].path", kinds[k], i);
			if (get_str(h, "path", f, 1, &path, err) < 0 || check_abs(path, f, err) < 0)
				return -EINVAL;
			snprintf(f, sizeof(f), "hooks.%s[%zu].args", kinds[k], i);
			if (get_strv(h, "args", f, 0, &v, err) < 0)
				return -EINVAL;
			free(v);
			snprintf(f, sizeof(f), "hooks.%s[%zu].env", kinds[k], i);
			if (get_strv(h, "env", f, 0, &v, err) < 0)
				return -EINVAL;
			free(v);
			snprintf(f, sizeof(f), "hooks.%s[%zu].timeout", kinds[k], i);
			if (get_int(h, "timeout", f, 0, 1, INT_MAX, &t, NULL, err) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

static int parse_linux(json_t *lx, struct ctr_spec *s, struct cabin_err **err)
{
	const char *prop;
	json_t *v;

	if (!lx)
		return 0;
	if (!json_is_object(lx))
		return cabin_err_make(err, 0, CFG "`linux` must be an object");
	if (parse_namespaces(json_object_get(lx, "namespaces"), s, err) < 0)
		return -EINVAL;
	s->uid_mappings = json_object_get(lx, "uidMappings");
	s->gid_mappings = json_object_get(lx, "gidMappings");
	if (check_mappings(s->uid_mappings, "linux.uidMappings", err) < 0 ||
	    check_mappings(s->gid_mappings, "linux.gidMappings", err) < 0)
		return -EINVAL;
	if ((json_array_size(s->uid_mappings) || json_array_size(s->gid_mappings)) &&
	    !(s->ns_new & CLONE_NEWUSER))
		return cabin_err_make(err, 0, CFG "`linux.uidMappings` needs a new user namespace");
	if ((s->ns_new & CLONE_NEWUSER) &&
	    (!json_array_size(s->uid_mappings) || !json_array_size(s->gid_mappings)))
		return cabin_err_make(err, 0,
				      CFG "a new user namespace needs `linux.uidMappings` and "
					  "`linux.gidMappings`");
	if (parse_devices(json_object_get(lx, "devices"), s, err) < 0)
		return -EINVAL;
	if (get_str(lx, "rootfsPropagation", "linux.rootfsPropagation", 0, &prop, err) < 0)
		return -EINVAL;
	if (prop && *prop) {
		size_t j;

		for (j = 0; j < ARRAY_SIZE(prop_opts); j++)
			if (!strcmp(prop, prop_opts[j].name))
				break;
		if (j == ARRAY_SIZE(prop_opts))
			return cabin_err_make(
				err, 0, CFG "`linux.rootfsPropagation`: unknown value `%s`", prop);
		s->rootfs_propagation = prop_opts[j].prop;
	}
	if (get_strv(lx, "maskedPaths", "linux.maskedPaths", 0, &s->masked, err) < 0 ||
	    get_strv(lx, "readonlyPaths", "linux.readonlyPaths", 0, &s->readonly, err) < 0)
		return -EINVAL;
	for (size_t i = 0; s->masked && s->masked[i]; i++)
		if (check_abs(s->masked[i], "linux.maskedPaths", err) < 0)
			return -EINVAL;
	for (size_t i = 0; s->readonly && s->readonly[i]; i++)
		if (check_abs(s->readonly[i], "linux.readonlyPaths", err) < 0)
			return -EINVAL;
	if (get_str(lx, "cgroupsPath", "linux.cgroupsPath", 0, &s->cgroups_path, err) < 0)
		return -EINVAL;
	s->sysctl = json_object_get(lx, "sysctl");
	if (want(s->sysctl, JSON_OBJECT, "linux.sysctl", "an object", err) < 0)
		return -EINVAL;
	if (s->sysctl &&
	    ctr_sysctl_validate_ns(s->sysctl, json_object_get(lx, "namespaces"), err) < 0)
		return cabin_err_wrap(err, "config.json");
	s->seccomp = json_object_get(lx, "seccomp");
	if (want(s->seccomp, JSON_OBJECT, "linux.seccomp", "an object", err) < 0)
		return -EINVAL;
	s->resources = json_object_get(lx, "resources");
	if (want(s->resources, JSON_OBJECT, "linux.resources", "an object", err) < 0)
		return -EINVAL;
	if (s->resources && ctr_cgroup_validate(s->resources, err) < 0)
		return cabin_err_wrap(err, "config.json");
	s->personality = json_object_get(lx, "personality");
	if (want(s->personality, JSON_OBJECT, "linux.personality", "an object", err) < 0)
		return -EINVAL;
	if (s->personality && ctr_personality_validate(s->personality, err) < 0)
		return cabin_err_wrap(err, "config.json");
	v = json_object_get(lx, "timeOffsets");
	if (v) {
		static const char *const clocks[] = { "monotonic", "boottime" };

		if (!json_is_object(v))
			return cabin_err_make(err, 0, CFG "`linux.timeOffsets` must be an object");
		if (!(s->ns_new & CLONE_NEWTIME))
			return cabin_err_make(err, 0,
					      CFG "`linux.timeOffsets` needs a new time namespace");
		for (size_t i = 0; i < 2; i++) {
			json_t *c = json_object_get(v, clocks[i]);
			char f[64];
			long long val;
			int present;

			if (!c)
				continue;
			if (!json_is_object(c))
				return cabin_err_make(
					err, 0, CFG "`linux.timeOffsets.%s` must be an object",
					clocks[i]);
			snprintf(f, sizeof(f), "linux.timeOffsets.%s.secs", clocks[i]);
			if (get_int(c, "secs", f, 0, -(1LL << 40), 1LL << 40, &val, &present, err) <
			    0)
				return -EINVAL;
			s->time_offsets_buf[2 * i] = present ? val : 0;
			snprintf(f, sizeof(f), "linux.timeOffsets.%s.nanosecs", clocks[i]);
			if (get_int(c, "nanosecs", f, 0, 0, 999999999, &val, &present, err) < 0)
				return -EINVAL;
			s->time_offsets_buf[2 * i + 1] = present ? val : 0;
		}
		s->time_offsets = s->time_offsets_buf;
	}
	v = json_object_get(lx, "intelRdt");
	if (v)
		return cabin_err_make(err, 0, CFG "`linux.intelRdt` is not supported on this host");
	/*
	 * A mount label means nothing on a host without SELinux: crun drops it, and so do
	 * we, but not silently.
	 */
	v = json_object_get(lx, "mountLabel");
	if (v && json_string_length(v)) {
		if (access("/sys/fs/selinux/enforce", F_OK) == 0)
			return cabin_err_make(
				err, 0, CFG "`linux.mountLabel`: SELinux labels are not supported");
		log_warn("config.json: `linux.mountLabel` ignored: this host has no SELinux");
	}
	return 0;
}

int ctr_spec_parse(json_t *json, const char *bundle, struct ctr_spec **out, struct cabin_err **err)
{
	cleanup_spec struct ctr_spec *s = xcalloc(1, sizeof(*s));
	json_t *root, *proc, *mounts, *m;
	const char *ver, *rp;
	size_t i;

	s->json = json_incref(json);
	s->bundle = xstrdup(bundle);
	s->umask = -1;
	if (!json_is_object(json))
		return cabin_err_make(err, 0, CFG "the document must be a JSON object");
	if (get_str(json, "ociVersion", "ociVersion", 1, &ver, err) < 0)
		return -EINVAL;
	if (strncmp(ver, "1.", 2))
		return cabin_err_make(err, 0, CFG "`ociVersion` `%s` is not supported (1.x)", ver);
	root = json_object_get(json, "root");
	if (!root)
		return cabin_err_make(err, 0, CFG "`root` is required");
	if (!json_is_object(root))
		return cabin_err_make(err, 0, CFG "`root` must be an object");
	if (get_str(root, "path", "root.path", 1, &rp, err) < 0)
		return -EINVAL;
	if (!*rp)
		return cabin_err_make(err, 0, CFG "`root.path` must not be empty");
	if (get_bool(root, "readonly", "root.readonly", &s->root_readonly, err) < 0)
		return -EINVAL;
	s->rootfs = rp[0] == '/' ? xstrdup(rp) : xasprintf("%s/%s", bundle, rp);

	proc = json_object_get(json, "process");
	if (proc && parse_process(proc, "process", s, err) < 0)
		return -EINVAL;
	if (get_str(json, "hostname", "hostname", 0, &s->hostname, err) < 0 ||
	    get_str(json, "domainname", "domainname", 0, &s->domainname, err) < 0)
		return -EINVAL;
	if (s->hostname && strlen(s->hostname) > 64)
		return cabin_err_make(err, 0, CFG "`hostname` is longer than 64 bytes");
	if (s->domainname && strlen(s->domainname) > 64)
		return cabin_err_make(err, 0, CFG "`domainname` is longer than 64 bytes");

	mounts = json_object_get(json, "mounts");
	if (mounts) {
		if (!json_is_array(mounts))
			return cabin_err_make(err, 0, CFG "`mounts` must be an array");
		s->mounts = xcalloc(json_array_size(mounts) + 1, sizeof(*s->mounts));
		json_array_foreach(mounts, i, m)
		{
			s->n_mounts = i + 1;
			if (parse_mount(m, i, &s->mounts[i], err) < 0)
				return -EINVAL;
		}
	}
	s->hooks = json_object_get(json, "hooks");
	if (parse_hooks(s->hooks, err) < 0)
		return -EINVAL;
	s->annotations = json_object_get(json, "annotations");
	if (s->annotations) {
		const char *k;
		json_t *v;

		if (!json_is_object(s->annotations))
			return cabin_err_make(err, 0, CFG "`annotations` must be an object");
		json_object_foreach(
			s->annotations, k,
			v) if (!json_is_string(v)) return cabin_err_make(err, 0,
									 CFG "`annotations.%s` "
									     "must be a string",
									 k);
	}
	if (parse_linux(json_object_get(json, "linux"), s, err) < 0)
		return -EINVAL;
	/* the host's own names must not change: a uts namespace, new or joined, is needed */
	if ((s->hostname && *s->hostname) && !((s->ns_new | s->ns_joined) & CLONE_NEWUTS))
		return cabin_err_make(err, 0, CFG "`hostname` needs a uts namespace");
	if ((s->domainname && *s->domainname) && !((s->ns_new | s->ns_joined) & CLONE_NEWUTS))
		return cabin_err_make(err, 0, CFG "`domainname` needs a uts namespace");
	*out = steal_ptr(&s);
	return 0;
}

int ctr_spec_load(const char *bundle, struct ctr_spec **out, struct cabin_err **err)
{
	cleanup_free char *path = xasprintf("%s/config.json", bundle);
	json_error_t jerr;
	cleanup_json json_t *json = NULL;
	cleanup_free char *raw = NULL;
	size_t raw_len = 0;

	json = ctr_json_load_file_raw(path, JSON_REJECT_DUPLICATES, &jerr, &raw, &raw_len);
	if (!json) {
		if (access(path, F_OK) < 0)
			return cabin_err_make(err, errno, "open `%s`", path);
		return cabin_err_make(err, 0, "config.json: invalid JSON at line %d column %d: %s",
				      jerr.line, jerr.column, jerr.text);
	}
	if (ctr_spec_parse(json, bundle, out, err) < 0)
		return -1;
	(*out)->raw = steal_ptr(&raw);
	(*out)->raw_len = raw_len;
	return 0;
}

void ctr_spec_free(struct ctr_spec *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_mounts; i++) {
		free(s->mounts[i].data);
		if (s->mounts[i].userns_fd >= 0)
			close(s->mounts[i].userns_fd);
		if (s->mounts[i].tree_fd >= 0)
			close(s->mounts[i].tree_fd);
	}
	free(s->mounts);
	free(s->devices);
	free(s->args);
	free(s->env);
	free(s->add_gids);
	free(s->masked);
	free(s->readonly);
	free(s->bundle);
	free(s->rootfs);
	free(s->raw);
	json_decref(s->json);
	free(s);
}

json_t *ctr_spec_default(int rootless)
{
	static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" };
	static const char *const masked[] = {
		"/proc/acpi",	       "/proc/asound",	   "/proc/kcore",	"/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/sys/firmware",       "/proc/scsi",
	};
	static const char *const ro[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					  "/proc/sysrq-trigger" };
	cleanup_json json_t *capset = json_array();
	json_t *cap, *nss, *lx, *j, *mounts, *a;

	for (size_t i = 0; i < ARRAY_SIZE(caps); i++)
		json_array_append_new(capset, json_string(caps[i]));
	cap = json_pack("{s:O,s:O,s:O,s:O}", "bounding", capset, "effective", capset, "permitted",
			capset, "ambient", capset);
	mounts = json_pack(
		"[{s:s,s:s,s:s},"
		"{s:s,s:s,s:s,s:[s,s,s,s]},"
		"{s:s,s:s,s:s,s:[s,s,s,s,s,s]},"
		"{s:s,s:s,s:s,s:[s,s,s,s,s]},"
		"{s:s,s:s,s:s,s:[s,s,s]}]",
		"destination", "/proc", "type", "proc", "source", "proc", "destination", "/dev",
		"type", "tmpfs", "source", "tmpfs", "options", "nosuid", "strictatime", "mode=755",
		"size=65536k", "destination", "/dev/pts", "type", "devpts", "source", "devpts",
		"options", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5",
		"destination", "/dev/shm", "type", "tmpfs", "source", "shm", "options", "nosuid",
		"noexec", "nodev", "mode=1777", "size=65536k", "destination", "/dev/mqueue", "type",
		"mqueue", "source", "mqueue", "options", "nosuid", "noexec", "nodev");
	if (rootless) {
		json_array_append_new(mounts,
				      json_pack("{s:s,s:s,s:s,s:[s,s,s,s,s]}", "destination",
						"/sys", "type", "none", "source", "/sys", "options",
						"rbind", "nosuid", "noexec", "nodev", "ro"));
		/* devpts in a user namespace cannot use gid=5 unless it is mapped */
		json_array_remove(json_object_get(json_array_get(mounts, 2), "options"), 5);
	} else {
		json_array_append_new(mounts,
				      json_pack("{s:s,s:s,s:s,s:[s,s,s,s]}", "destination", "/sys",
						"type", "sysfs", "source", "sysfs", "options",
						"nosuid", "noexec", "nodev", "ro"));
	}
	json_array_append_new(mounts,
			      json_pack("{s:s,s:s,s:s,s:[s,s,s,s,s]}", "destination",
					"/sys/fs/cgroup", "type", "cgroup", "source", "cgroup",
					"options", "nosuid", "noexec", "nodev", "relatime", "ro"));
	nss = json_pack("[{s:s},{s:s},{s:s},{s:s},{s:s}]", "type", "pid", "type", "network", "type",
			"ipc", "type", "uts", "type", "mount");
	/*
	 * As `runc spec` (1.1): no cgroup namespace by default; the container then sees
	 * its cgroup paths as the host names them.
	 */
	if (rootless) {
		json_array_append_new(nss, json_pack("{s:s}", "type", "user"));
		json_array_remove(nss, 1); /* no network namespace: keep the host's */
	}
	a = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(masked); i++)
		json_array_append_new(a, json_string(masked[i]));
	lx = json_pack("{s:o,s:o}", "namespaces", nss, "maskedPaths", a);
	a = json_array();
	for (size_t i = 0; i < ARRAY_SIZE(ro); i++)
		json_array_append_new(a, json_string(ro[i]));
	json_object_set_new(lx, "readonlyPaths", a);
	if (rootless) {
		json_object_set_new(lx, "uidMappings",
				    json_pack("[{s:i,s:I,s:i}]", "containerID", 0, "hostID",
					      (json_int_t)getuid(), "size", 1));
		json_object_set_new(lx, "gidMappings",
				    json_pack("[{s:i,s:I,s:i}]", "containerID", 0, "hostID",
					      (json_int_t)getgid(), "size", 1));
	} else {
		json_object_set_new(
			lx, "resources",
			json_pack("{s:[{s:b,s:s}]}", "devices", "allow", 0, "access", "rwm"));
	}
	j = json_pack("{s:s,s:{s:b,s:{s:i,s:i},s:[s],s:[s,s],s:s,s:o,s:[{s:s,s:i,s:i}],s:b},"
		      "s:{s:s,s:b},s:s,s:o,s:o}",
		      "ociVersion", "1.0.2-dev", "process", "terminal", 1, "user", "uid", 0, "gid",
		      0, "args", "sh", "env",
		      "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		      "TERM=xterm", "cwd", "/", "capabilities", cap, "rlimits", "type",
		      "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1, "root",
		      "path", "rootfs", "readonly", 1, "hostname", "cabin", "mounts", mounts,
		      "linux", lx);
	return j;
}
