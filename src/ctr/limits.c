/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small per-process settings: process.rlimits, linux.sysctl, linux.personality,
 * process.ioPriority and process.oomScoreAdj. Each is validated in the runtime, before
 * fork, so that a bad value fails `create` cleanly; apply runs in the container process.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctr/limits.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/util.h"
#include "lib/xalloc.h"

/* ---- rlimits ----------------------------------------------------------------------- */

static const struct {
	const char *name;
	int res;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

static int rlimit_lookup(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (!strcmp(rlimit_names[i].name, name))
			return rlimit_names[i].res;
	return -1;
}

/* The spec's values are uint64; anything at or above RLIM_INFINITY means unlimited. */
static int rlimit_value(json_t *e, const char *key, size_t idx, rlim_t *v, struct cabin_err **err)
{
	json_t *j = json_object_get(e, key);

	if (!json_is_integer(j))
		return cabin_err_make(err, 0, "process.rlimits[%zu].%s: missing or not an integer",
				      idx, key);
	/* jansson reads integers as signed 64 bit: -1 is how 2^64-1 arrives. */
	*v = json_integer_value(j) < 0 ? RLIM_INFINITY : (rlim_t)json_integer_value(j);
	return 0;
}

/* Does the runtime hold CAP_SYS_RESOURCE (needed to raise a hard limit)? */
static int have_sys_resource(void)
{
	cleanup_free char *buf = NULL;
	struct cabin_err *err = NULL;
	const char *p;

	if (fs_read_file("/proc/self/status", 1 << 16, &buf, NULL, &err) < 0) {
		cabin_err_release(&err);
		return 0;
	}
	p = strstr(buf, "CapEff:");
	return p && (strtoull(p + 7, NULL, 16) & (1ULL << 24 /* CAP_SYS_RESOURCE */));
}

int ctr_rlimits_validate(json_t *rlimits, struct cabin_err **err)
{
	uint32_t seen = 0;
	size_t i;
	json_t *e;

	if (!rlimits || json_is_null(rlimits))
		return 0;
	if (!json_is_array(rlimits))
		return cabin_err_make(err, 0, "process.rlimits: expected an array");
	json_array_foreach(rlimits, i, e)
	{
		const char *type = json_string_value(json_object_get(e, "type"));
		struct rlimit cur;
		rlim_t soft, hard;
		int res, ret;

		if (!type)
			return cabin_err_make(err, 0, "process.rlimits[%zu].type: missing", i);
		res = rlimit_lookup(type);
		if (res < 0)
			return cabin_err_make(err, 0, "process.rlimits: unknown type `%s`", type);
		if (seen & (1U << res))
			return cabin_err_make(err, 0, "process.rlimits: `%s` given twice", type);
		seen |= 1U << res;
		if ((ret = rlimit_value(e, "soft", i, &soft, err)) < 0 ||
		    (ret = rlimit_value(e, "hard", i, &hard, err)) < 0)
			return ret;
		if (soft > hard)
			return cabin_err_make(err, 0,
					      "process.rlimits: `%s` soft `%" PRIu64
					      "` is above hard `%" PRIu64 "`",
					      type, (uint64_t)soft, (uint64_t)hard);
		/*
		 * The container inherits our limits; without CAP_SYS_RESOURCE (absent from
		 * this runtime's bounding set on some hosts) a hard limit cannot be raised,
		 * not even by root or inside a user namespace. Fail now, not after fork.
		 */
		if (getrlimit(res, &cur) == 0 && hard > cur.rlim_max && !have_sys_resource())
			return cabin_err_make(err, 0,
					      "process.rlimits: `%s` hard `%" PRIu64
					      "` is above the "
					      "runtime's hard limit `%" PRIu64 "` and raising it "
					      "needs CAP_SYS_RESOURCE",
					      type, (uint64_t)hard, (uint64_t)cur.rlim_max);
	}
	return 0;
}

int ctr_rlimits_apply(json_t *rlimits, struct cabin_err **err)
{
	size_t i;
	json_t *e;
	int ret = ctr_rlimits_validate(rlimits, err);

	if (ret < 0 || !rlimits)
		return ret;
	json_array_foreach(rlimits, i, e)
	{
		const char *type = json_string_value(json_object_get(e, "type"));
		struct rlimit rl;

		rlimit_value(e, "soft", i, &rl.rlim_cur, NULL);
		rlimit_value(e, "hard", i, &rl.rlim_max, NULL);
		if (setrlimit(rlimit_lookup(type), &rl) < 0)
			return cabin_err_make(err, errno,
					      "process.rlimits: set `%s` soft `%" PRIu64
					      "` hard `%" PRIu64 "`",
					      type, (uint64_t)rl.rlim_cur, (uint64_t)rl.rlim_max);
	}
	return 0;
}

/* ---- sysctl ------------------------------------------------------------------------ */

/*
 * Only sysctls that belong to a namespace the container has may be set (runc's rule):
 * the rest would change the host.
 */
static const char *sysctl_ns(const char *key)
{
	static const char *const ipc[] = { "kernel.msgmax", "kernel.msgmnb",
					   "kernel.msgmni", "kernel.sem",
					   "kernel.shmall", "kernel.shmmax",
					   "kernel.shmmni", "kernel.shm_rmid_forced" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ipc); i++)
		if (!strcmp(key, ipc[i]))
			return "ipc";
	if (!strncmp(key, "fs.mqueue.", 10))
		return "ipc";
	if (!strncmp(key, "net.", 4))
		return "network";
	if (!strcmp(key, "kernel.hostname") || !strcmp(key, "kernel.domainname"))
		return "uts";
	return NULL;
}

static int sysctl_key_ok(const char *k)
{
	const char *c;

	if (!*k || strlen(k) > 256 || k[0] == '.' || k[0] == '/')
		return 0;
	for (c = k; *c; c++)
		if (!(isalnum((unsigned char)*c) || strchr("._-/", *c)))
			return 0;
	return !strstr(k, "..") && !strstr(k, "/.") && !strstr(k, "./");
}

int ctr_sysctl_validate_ns(json_t *sysctl, json_t *namespaces, struct cabin_err **err)
{
	const char *k;
	json_t *v;

	if (!sysctl || json_is_null(sysctl))
		return 0;
	if (!json_is_object(sysctl))
		return cabin_err_make(err, 0, "linux.sysctl: expected an object");
	json_object_foreach(sysctl, k, v)
	{
		const char *ns;

		if (!json_is_string(v))
			return cabin_err_make(err, 0, "linux.sysctl.%s: expected a string", k);
		if (!sysctl_key_ok(k))
			return cabin_err_make(err, 0, "linux.sysctl: invalid name `%s`", k);
		ns = sysctl_ns(k);
		if (!ns)
			return cabin_err_make(
				err, 0,
				"linux.sysctl: `%s` is not namespaced and would change "
				"the host",
				k);
		if (namespaces) {
			size_t i;
			json_t *n;
			int found = 0;

			json_array_foreach(
				namespaces, i,
				n) if (!strcmp(ns, json_string_value(json_object_get(n, "type"))
							   ?: "")) found = 1;
			if (!found)
				return cabin_err_make(err, 0,
						      "linux.sysctl: `%s` needs a `%s` namespace "
						      "(not in linux.namespaces)",
						      k, ns);
		}
	}
	return 0;
}

int ctr_sysctl_validate(json_t *sysctl, struct cabin_err **err)
{
	return ctr_sysctl_validate_ns(sysctl, NULL, err);
}

int ctr_sysctl_apply(json_t *sysctl, struct cabin_err **err)
{
	const char *k;
	json_t *v;
	int ret = ctr_sysctl_validate(sysctl, err);

	if (ret < 0 || !sysctl)
		return ret;
	json_object_foreach(sysctl, k, v)
	{
		cleanup_free char *path = xasprintf("/proc/sys/%s", k);
		cleanup_close int fd = -1;
		char *p;

		/* net.ipv4.ip_forward -> net/ipv4/ip_forward; a name with '/' is kept as is. */
		if (!strchr(k, '/'))
			for (p = path + 10; *p; p++)
				if (*p == '.')
					*p = '/';
		fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return cabin_err_make(err, errno, "linux.sysctl: open `%s`", path);
		ret = fs_write_all(fd, json_string_value(v), strlen(json_string_value(v)));
		if (ret < 0)
			return cabin_err_make(err, -ret, "linux.sysctl: write `%s` to `%s`",
					      json_string_value(v), path);
	}
	return 0;
}

/* ---- personality ------------------------------------------------------------------- */

static const struct {
	const char *name;
	unsigned long v;
} pers_flags[] = {
	{ "ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE }, { "ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT },
	{ "ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT },   { "ADDR_LIMIT_3GB", ADDR_LIMIT_3GB },
	{ "FDPIC_FUNCPTRS", FDPIC_FUNCPTRS },	    { "MMAP_PAGE_ZERO", MMAP_PAGE_ZERO },
	{ "READ_IMPLIES_EXEC", READ_IMPLIES_EXEC }, { "SHORT_INODE", SHORT_INODE },
	{ "STICKY_TIMEOUTS", STICKY_TIMEOUTS },	    { "UNAME26", UNAME26 },
	{ "WHOLE_SECONDS", WHOLE_SECONDS },
};

static int pers_value(json_t *pers, unsigned long *out, struct cabin_err **err)
{
	json_t *d, *flags, *f;
	const char *dom;
	size_t i, k;

	if (!json_is_object(pers))
		return cabin_err_make(err, 0, "linux.personality: expected an object");
	d = json_object_get(pers, "domain");
	dom = json_string_value(d);
	if (!dom)
		return cabin_err_make(err, 0, "linux.personality.domain: missing");
	if (!strcmp(dom, "LINUX"))
		*out = PER_LINUX;
	else if (!strcmp(dom, "LINUX32"))
		*out = PER_LINUX32;
	else
		return cabin_err_make(err, 0, "linux.personality.domain: unknown domain `%s`", dom);
	flags = json_object_get(pers, "flags");
	if (flags && !json_is_array(flags))
		return cabin_err_make(err, 0, "linux.personality.flags: expected an array");
	json_array_foreach(flags, i, f)
	{
		const char *n = json_string_value(f);
		int found = 0;

		for (k = 0; n && k < ARRAY_SIZE(pers_flags); k++)
			if (!strcmp(n, pers_flags[k].name)) {
				*out |= pers_flags[k].v;
				found = 1;
			}
		if (!found)
			return cabin_err_make(err, 0, "linux.personality.flags: unknown flag `%s`",
					      n ? n : "?");
	}
	return 0;
}

int ctr_personality_validate(json_t *pers, struct cabin_err **err)
{
	unsigned long v;

	if (!pers || json_is_null(pers))
		return 0;
	return pers_value(pers, &v, err);
}

int ctr_personality_apply(json_t *pers, struct cabin_err **err)
{
	unsigned long v;
	int ret;

	if (!pers || json_is_null(pers))
		return 0;
	ret = pers_value(pers, &v, err);
	if (ret < 0)
		return ret;
	if (personality(v) < 0)
		return cabin_err_make(err, errno, "linux.personality: personality(`%#lx`)", v);
	return 0;
}

/* ---- I/O priority ------------------------------------------------------------------ */

#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO_WHO_PROCESS 1

static int ioprio_value(json_t *io, int *out, struct cabin_err **err)
{
	static const char *const classes[] = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
					       "IOPRIO_CLASS_IDLE" };
	const char *c = json_string_value(json_object_get(io, "class"));
	json_t *p = json_object_get(io, "priority");
	json_int_t prio = 0;
	size_t i;

	if (!json_is_object(io))
		return cabin_err_make(err, 0, "process.ioPriority: expected an object");
	if (!c)
		return cabin_err_make(err, 0, "process.ioPriority.class: missing");
	for (i = 0; i < ARRAY_SIZE(classes); i++)
		if (!strcmp(c, classes[i]))
			break;
	if (i == ARRAY_SIZE(classes))
		return cabin_err_make(err, 0, "process.ioPriority.class: unknown class `%s`", c);
	if (p && !json_is_integer(p))
		return cabin_err_make(err, 0, "process.ioPriority.priority: expected an integer");
	if (p)
		prio = json_integer_value(p);
	if (prio < 0 || prio > 7)
		return cabin_err_make(err, 0, "process.ioPriority.priority: `%lld` is not in 0..7",
				      (long long)prio);
	/* IOPRIO_CLASS_RT = 1, BE = 2, IDLE = 3 */
	*out = (int)(((i + 1) << IOPRIO_CLASS_SHIFT) | (size_t)prio);
	return 0;
}

int ctr_ioprio_validate(json_t *ioprio, struct cabin_err **err)
{
	int v;

	if (!ioprio || json_is_null(ioprio))
		return 0;
	return ioprio_value(ioprio, &v, err);
}

int ctr_ioprio_apply(json_t *ioprio, struct cabin_err **err)
{
	int v, ret;

	if (!ioprio || json_is_null(ioprio))
		return 0;
	ret = ioprio_value(ioprio, &v, err);
	if (ret < 0)
		return ret;
	if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, v) < 0)
		return cabin_err_make(err, errno, "process.ioPriority: ioprio_set(`%#x`)", v);
	return 0;
}

/* ---- OOM score --------------------------------------------------------------------- */

int ctr_oom_score_adj_apply(pid_t pid, json_t *adj, struct cabin_err **err)
{
	char path[64], val[16];
	cleanup_close int fd = -1;
	json_int_t v;
	int ret;

	if (!adj || json_is_null(adj))
		return 0;
	if (!json_is_integer(adj))
		return cabin_err_make(err, 0, "process.oomScoreAdj: expected an integer");
	v = json_integer_value(adj);
	if (v < -1000 || v > 1000)
		return cabin_err_make(err, 0, "process.oomScoreAdj: `%lld` is not in -1000..1000",
				      (long long)v);
	if (pid > 0)
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/oom_score_adj");
	snprintf(val, sizeof(val), "%lld", (long long)v);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return cabin_err_make(err, errno, "process.oomScoreAdj: open `%s`", path);
	ret = fs_write_all(fd, val, strlen(val));
	if (ret < 0)
		return cabin_err_make(err, -ret, "process.oomScoreAdj: write `%s` to `%s`", val,
				      path);
	return 0;
}
