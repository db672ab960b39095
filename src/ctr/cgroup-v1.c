/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.resources on cgroup v1 (and on hybrid hosts, where v1 carries the limits and only
 * v2-only controllers and linux.resources.unified go to the cgroup2 directory).
 * Values of 0 mean "not set", as in runc, except where the spec says otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctr/cgroup-internal.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#define F "linux.resources"

/* Is @ctrl one of the space-separated words of @list? */
static int avail_has(const char *list, const char *ctrl)
{
	size_t l = strlen(ctrl);

	for (const char *p = list; (p = strstr(p, ctrl)); p += l)
		if ((p == list || p[-1] == ' ') && (p[l] == ' ' || p[l] == '\0' || p[l] == '\n'))
			return 1;
	return 0;
}

static struct cg_hier *need(struct ctr_cgroup *cg, const char *controller, const char *field,
			    struct cabin_err **err)
{
	struct cg_hier *h = cg_v1_find(cg, controller), *v2 = cg_v2(cg);
	cleanup_free char *avail = NULL;
	struct cabin_err *e = NULL;

	if (h)
		return h;
	/*
	 * Hybrid: the controller may be in cgroup2 without being enabled in its root, which
	 * is the host's to set up (we never write there): say so rather than "not mounted".
	 */
	if (cg->mode == CTR_CGROUP_HYBRID && v2 &&
	    cg_read(v2->mnt, "cgroup.controllers", &avail, &e) == 0 &&
	    avail_has(avail, controller)) {
		cabin_err_make(
			err, 0,
			"%s: the `%s` cgroup controller is in cgroup2 but not enabled in the "
			"host's `%s/cgroup.subtree_control`",
			field, controller, v2->mnt);
		return NULL;
	}
	cabin_err_release(&e);
	cabin_err_make(err, 0, "%s: the `%s` cgroup controller is not mounted on this host", field,
		       controller);
	return NULL;
}

static int write_i64(const char *dir, const char *file, int64_t v, const char *field,
		     struct cabin_err **err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cg_write(dir, file, buf, field, err);
}

/*
 * Since Linux 5.16 (commit 58056f77502f) memory.kmem.limit_in_bytes accepts writes and
 * ignores them: read the value back so a limit that is not enforced is an error.
 */
static int v1_kmem(const char *dir, const char *file, int64_t v, const char *field,
		   struct cabin_err **err)
{
	cleanup_free char *back = NULL;
	int64_t got, page = sysconf(_SC_PAGESIZE);
	int ret = write_i64(dir, file, v, field, err);

	if (ret < 0)
		return ret;
	if ((ret = cg_read(dir, file, &back, err)) < 0)
		return ret;
	got = strtoll(back, NULL, 10);
	if (v > 0 && got != v / page * page)
		return cabin_err_make(err, 0,
				      "%s: kernel memory limits are not supported by this kernel "
				      "(`%s` ignores `%" PRId64 "`)",
				      field, file, v);
	return 0;
}

static int v1_memory(struct ctr_cgroup *cg, json_t *m, int update, struct cabin_err **err)
{
	int64_t limit = 0, swap = 0, v = 0;
	int has_limit, has_swap, has, ret;
	struct cg_hier *h;
	json_t *j;

	if (!m || !json_object_size(m))
		return 0;
	if ((h = cg_hybrid_v2(cg, "memory", "memory")))
		return cg_v2_memory(h->dir, m, update, err);
	h = need(cg, "memory", F ".memory", err);
	if (!h)
		return -1;
	/* kmem accounting cannot be limited separately since Linux 5.16 (writes fail). */
	if ((has = cg_json_int(m, "kernel", &v, F ".memory", err)) < 0)
		return has;
	if (has && v &&
	    (ret = v1_kmem(h->dir, "memory.kmem.limit_in_bytes", v, F ".memory.kernel", err)) < 0)
		return ret;
	if ((has = cg_json_int(m, "kernelTCP", &v, F ".memory", err)) < 0)
		return has;
	if (has && v &&
	    (ret = write_i64(h->dir, "memory.kmem.tcp.limit_in_bytes", v, F ".memory.kernelTCP",
			     err)) < 0)
		return ret;

	if ((has_limit = cg_json_int(m, "limit", &limit, F ".memory", err)) < 0)
		return has_limit;
	if ((has_swap = cg_json_int(m, "swap", &swap, F ".memory", err)) < 0)
		return has_swap;
	has_limit = has_limit && limit != 0;
	has_swap = has_swap && swap != 0;
	if (update && has_limit && limit > 0 &&
	    json_is_true(json_object_get(m, "checkBeforeUpdate"))) {
		if ((ret = cg_check_usage(h->dir, "memory.usage_in_bytes", limit, err)) < 0)
			return ret;
	}
	/*
	 * The kernel keeps memsw >= limit at every moment: raising both must write memsw
	 * first, lowering both must write limit first. Try limit first and fall back.
	 */
	if (has_limit) {
		ret = write_i64(h->dir, "memory.limit_in_bytes", limit, F ".memory.limit", err);
		if (ret < 0 && has_swap && (*err)->status == EINVAL) {
			cabin_err_release(err);
			if ((ret = write_i64(h->dir, "memory.memsw.limit_in_bytes", swap,
					     F ".memory.swap", err)) < 0)
				return ret;
			ret = write_i64(h->dir, "memory.limit_in_bytes", limit, F ".memory.limit",
					err);
		}
		if (ret < 0)
			return ret;
	}
	if (has_swap && (ret = write_i64(h->dir, "memory.memsw.limit_in_bytes", swap,
					 F ".memory.swap", err)) < 0)
		return ret;
	/* reservation is the soft limit: reclaimed down to it only under global pressure */
	if ((has = cg_json_int(m, "reservation", &v, F ".memory", err)) < 0)
		return has;
	if (has && v &&
	    (ret = write_i64(h->dir, "memory.soft_limit_in_bytes", v, F ".memory.reservation",
			     err)) < 0)
		return ret;
	if ((has = cg_json_int(m, "swappiness", &v, F ".memory", err)) < 0)
		return has;
	if (has && v >= 0 &&
	    (ret = write_i64(h->dir, "memory.swappiness", v, F ".memory.swappiness", err)) < 0)
		return ret;
	/*
	 * memory.oom_control "1" pauses tasks at the limit instead of OOM-killing them; an
	 * update with false must write "0" to turn that off again.
	 */
	j = json_object_get(m, "disableOOMKiller");
	if ((json_is_true(j) || (update && json_is_false(j))) &&
	    (ret = cg_write(h->dir, "memory.oom_control", json_is_true(j) ? "1" : "0",
			    F ".memory.disableOOMKiller", err)) < 0)
		return ret;
	return 0;
}

/*
 * cpu (CFS bandwidth, shares, RT budget, idle) and cpuset. The RT budget of a child must fit
 * in its parent's cpu.rt_runtime_us (0 for any new group), so realtimeRuntime usually needs
 * the ancestors configured first; the kernel's refusal names the file.
 */
static int v1_cpu(struct ctr_cgroup *cg, json_t *c, struct cabin_err **err)
{
	static const struct {
		const char *key, *file;
	} simple[] = {
		{ "shares", "cpu.shares" },
		{ "burst", "cpu.cfs_burst_us" },
		{ "realtimePeriod", "cpu.rt_period_us" },
		{ "realtimeRuntime", "cpu.rt_runtime_us" },
	};
	int64_t quota = 0, period = 0, v = 0;
	int has_q, has_p, has, ret;
	struct cg_hier *h = NULL;
	size_t i;
	json_t *j;

	if (!c || !json_object_size(c))
		return 0;
	if ((h = cg_hybrid_v2(cg, "cpu", "cpu")))
		return cg_v2_cpu(h->dir, c, err);
	for (i = 0; i < ARRAY_SIZE(simple); i++) {
		char field[160];

		snprintf(field, sizeof(field), F ".cpu.%s", simple[i].key);
		if ((has = cg_json_int(c, simple[i].key, &v, F ".cpu", err)) < 0)
			return has;
		if (!has || (!v && strcmp(simple[i].key, "burst")))
			continue;
		if (!h && !(h = need(cg, "cpu", field, err)))
			return -1;
		if ((ret = write_i64(h->dir, simple[i].file, v, field, err)) < 0)
			return ret;
	}
	if ((has_p = cg_json_int(c, "period", &period, F ".cpu", err)) < 0)
		return has_p;
	if ((has_q = cg_json_int(c, "quota", &quota, F ".cpu", err)) < 0)
		return has_q;
	has_p = has_p && period;
	has_q = has_q && quota;
	if ((has_p || has_q) && !h && !(h = need(cg, "cpu", F ".cpu.quota", err)))
		return -1;
	/* quota/period must stay a valid pair at each write: period first, then quota. */
	if (has_p) {
		ret = write_i64(h->dir, "cpu.cfs_period_us", period, F ".cpu.period", err);
		if (ret < 0 && has_q && (*err)->status == EINVAL) {
			cabin_err_release(err);
			if ((ret = write_i64(h->dir, "cpu.cfs_quota_us", quota, F ".cpu.quota",
					     err)) < 0)
				return ret;
			ret = write_i64(h->dir, "cpu.cfs_period_us", period, F ".cpu.period", err);
		}
		if (ret < 0)
			return ret;
	}
	if (has_q && (ret = write_i64(h->dir, "cpu.cfs_quota_us", quota, F ".cpu.quota", err)) < 0)
		return ret;
	if ((has = cg_json_int(c, "idle", &v, F ".cpu", err)) < 0)
		return has;
	if (has && v) {
		if (!h && !(h = need(cg, "cpu", F ".cpu.idle", err)))
			return -1;
		if ((ret = write_i64(h->dir, "cpu.idle", v, F ".cpu.idle", err)) < 0)
			return ret;
	}
	for (i = 0; i < 2; i++) {
		const char *key = i ? "mems" : "cpus";
		char field[160];
		struct cg_hier *cs;

		j = json_object_get(c, key);
		if (!json_is_string(j) || !*json_string_value(j))
			continue;
		snprintf(field, sizeof(field), F ".cpu.%s", key);
		if (!(cs = cg_hybrid_v2(cg, "cpuset", "cpuset")) &&
		    !(cs = need(cg, "cpuset", field, err)))
			return -1;
		if ((ret = cg_write(cs->dir, i ? "cpuset.mems" : "cpuset.cpus",
				    json_string_value(j), field, err)) < 0)
			return ret;
	}
	return 0;
}

/* pids.max counts tasks (threads), not processes, on v1 and v2 alike. */
static int v1_pids(struct ctr_cgroup *cg, json_t *p, struct cabin_err **err)
{
	int64_t v = 0;
	int has = cg_json_int(p, "limit", &v, F ".pids", err);
	struct cg_hier *h = cg_hybrid_v2(cg, "pids", "pids");

	if (h)
		return cg_v2_pids(h->dir, p, err);

	/* 0 leaves the limit alone and negative means unlimited, as in runc */
	if (has <= 0 || v == 0)
		return has;
	if (!(h = need(cg, "pids", F ".pids.limit", err)))
		return -1;
	if (v <= 0)
		return cg_write(h->dir, "pids.max", "max", F ".pids.limit", err);
	return write_i64(h->dir, "pids.max", v, F ".pids.limit", err);
}

/* "major:minor value" lines for the per-device blkio files. */
static int v1_blkio_devs(struct cg_hier *h, json_t *a, const char *key, const char *valkey,
			 const char *file, struct cabin_err **err)
{
	size_t i;
	json_t *d;

	json_array_foreach(a, i, d)
	{
		int64_t maj = 0, min = 0, val = 0;
		char buf[80], field[160];
		int ret;

		snprintf(field, sizeof(field), F ".blockIO.%s[%zu]", key, i);
		cg_json_int(d, "major", &maj, field, NULL);
		cg_json_int(d, "minor", &min, field, NULL);
		if (cg_json_int(d, valkey, &val, field, NULL) <= 0)
			continue;
		snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRId64, maj, min, val);
		if ((ret = cg_write(h->dir, file, buf, field, err)) < 0)
			return ret;
	}
	return 0;
}

static int v1_blkio(struct ctr_cgroup *cg, json_t *b, struct cabin_err **err)
{
	static const struct {
		const char *key, *file;
	} thr[] = {
		{ "throttleReadBpsDevice", "blkio.throttle.read_bps_device" },
		{ "throttleWriteBpsDevice", "blkio.throttle.write_bps_device" },
		{ "throttleReadIOPSDevice", "blkio.throttle.read_iops_device" },
		{ "throttleWriteIOPSDevice", "blkio.throttle.write_iops_device" },
	};
	struct cg_hier *h;
	int64_t v = 0;
	size_t i;
	int has, ret;
	json_t *a;

	if (!b || !json_object_size(b))
		return 0;
	if ((h = cg_hybrid_v2(cg, "blkio", "io")))
		return cg_v2_io(h->dir, b, err);
	if (!(h = need(cg, "blkio", F ".blockIO", err)))
		return -1;
	if ((has = cg_json_int(b, "weight", &v, F ".blockIO", err)) < 0)
		return has;
	if (has && v) {
		/* CFQ's blkio.weight is gone since Linux 5.0; BFQ offers blkio.bfq.weight. */
		const char *file = cg_file_exists(h->dir, "blkio.weight") ? "blkio.weight"
									  : "blkio.bfq.weight";

		if ((ret = write_i64(h->dir, file, v, F ".blockIO.weight", err)) < 0)
			return ret;
	}
	if ((has = cg_json_int(b, "leafWeight", &v, F ".blockIO", err)) < 0)
		return has;
	if (has && v &&
	    (ret = write_i64(h->dir, "blkio.leaf_weight", v, F ".blockIO.leafWeight", err)) < 0)
		return ret;
	a = json_object_get(b, "weightDevice");
	if (a) {
		/* as blkio.weight: BFQ's per-device knob when CFQ's is gone (Linux 5.0) */
		const char *file =
			cg_file_exists(h->dir, "blkio.weight_device") ||
					!cg_file_exists(h->dir, "blkio.bfq.weight_device")
				? "blkio.weight_device"
				: "blkio.bfq.weight_device";

		if ((ret = v1_blkio_devs(h, a, "weightDevice", "weight", file, err)) < 0)
			return ret;
		if ((ret = v1_blkio_devs(h, a, "weightDevice", "leafWeight",
					 "blkio.leaf_weight_device", err)) < 0)
			return ret;
	}
	for (i = 0; i < ARRAY_SIZE(thr); i++) {
		a = json_object_get(b, thr[i].key);
		if (a && (ret = v1_blkio_devs(h, a, thr[i].key, "rate", thr[i].file, err)) < 0)
			return ret;
	}
	return 0;
}

/* "type major:minor access" as devices.allow/deny take it; -1 or absent is a wildcard. */
static void device_rule(json_t *d, char *buf, size_t len)
{
	json_t *t = json_object_get(d, "type"), *acc = json_object_get(d, "access");
	const char *type = json_is_string(t) ? json_string_value(t) : "a";
	const char *access =
		json_is_string(acc) && *json_string_value(acc) ? json_string_value(acc) : "rwm";
	int64_t maj = -1, min = -1;
	char smaj[24] = "*", smin[24] = "*";

	cg_json_int(d, "major", &maj, "", NULL);
	cg_json_int(d, "minor", &min, "", NULL);
	if (maj >= 0)
		snprintf(smaj, sizeof(smaj), "%" PRId64, maj);
	if (min >= 0)
		snprintf(smin, sizeof(smin), "%" PRId64, min);
	snprintf(buf, len, "%s %s:%s %s", type, smaj, smin, access);
}

/*
 * Rules are written in order, each one changing the list the previous ones left: the usual
 * profile is "deny a" (which empties the list) followed by allows. A child cgroup can never
 * allow what its parent denies; the kernel answers EPERM and the error names the rule.
 */
static void close_pair(int (*fds)[2])
{
	for (int i = 0; i < 2; i++)
		if ((*fds)[i] >= 0)
			close((*fds)[i]);
}

static int v1_devices(struct ctr_cgroup *cg, json_t *a, struct cabin_err **err)
{
	int fds[2] __attribute__((cleanup(close_pair))) = { -1, -1 }; /* deny, allow */
	struct cg_hier *h;
	size_t i;
	json_t *d;

	if (!a || !json_array_size(a))
		return 0;
	if (!(h = need(cg, "devices", F ".devices", err)))
		return -1;
	/* each write(2) is one rule: the two files are opened once for all of them */
	json_array_foreach(a, i, d)
	{
		char rule[96], field[160];
		int allow = json_is_true(json_object_get(d, "allow")), ret;
		const char *file = allow ? "devices.allow" : "devices.deny";
		int *fd = &fds[allow];

		device_rule(d, rule, sizeof(rule));
		snprintf(field, sizeof(field), F ".devices[%zu]", i);
		if (*fd < 0) {
			cleanup_free char *p = xasprintf("%s/%s", h->dir, file);

			*fd = open(p, O_WRONLY | O_CLOEXEC);
			if (*fd < 0)
				return cg_write(h->dir, file, rule, field, err); /* its error */
		}
		ret = fs_write_all(*fd, rule, strlen(rule));
		if (ret < 0)
			return cabin_err_make(err, -ret, "%s: write `%s` to `%s/%s`", field, rule,
					      h->dir, file);
	}
	return 0;
}

static int v1_hugetlb(struct ctr_cgroup *cg, json_t *a, struct cabin_err **err)
{
	struct cg_hier *h;
	size_t i;
	json_t *e;

	if (!a || !json_array_size(a))
		return 0;
	/* Hybrid: hugetlb is often left to cgroup2 (not mounted as v1). */
	if ((h = cg_hybrid_v2(cg, "hugetlb", "hugetlb")))
		return cg_v2_hugetlb(h->dir, a, err);
	if (!(h = need(cg, "hugetlb", F ".hugepageLimits", err)))
		return -1;
	json_array_foreach(a, i, e)
	{
		const char *ps = json_string_value(json_object_get(e, "pageSize"));
		int64_t lim = 0;
		char file[64], field[160];
		int ret;

		cg_json_int(e, "limit", &lim, "", NULL);
		snprintf(field, sizeof(field), F ".hugepageLimits[%zu]", i);
		snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", ps);
		if ((ret = write_i64(h->dir, file, lim, field, err)) < 0)
			return ret;
	}
	return 0;
}

/*
 * net_cls tags packets for tc/iptables, net_prio sets per-interface priorities; both are
 * v1-only and often not mounted, in which case asking for them is an error, not a no-op.
 */
static int v1_network(struct ctr_cgroup *cg, json_t *n, struct cabin_err **err)
{
	struct cg_hier *h;
	json_t *p, *e;
	int64_t id = 0;
	size_t i;
	int ret;

	if (!n || !json_object_size(n))
		return 0;
	if (cg_json_int(n, "classID", &id, F ".network", err) > 0) {
		if (!(h = need(cg, "net_cls", F ".network.classID", err)))
			return -1;
		if ((ret = write_i64(h->dir, "net_cls.classid", id, F ".network.classID", err)) < 0)
			return ret;
	}
	p = json_object_get(n, "priorities");
	if (!json_array_size(p))
		return 0;
	if (!(h = need(cg, "net_prio", F ".network.priorities", err)))
		return -1;
	json_array_foreach(p, i, e)
	{
		const char *name = json_string_value(json_object_get(e, "name"));
		int64_t prio = 0;
		char buf[64], field[160];

		snprintf(field, sizeof(field), F ".network.priorities[%zu]", i);
		if (!name || !*name || strchr(name, ' ') || strlen(name) > 15)
			return cabin_err_make(err, 0, "%s.name: invalid interface name", field);
		cg_json_int(e, "priority", &prio, field, NULL);
		snprintf(buf, sizeof(buf), "%s %" PRId64, name, prio);
		if ((ret = cg_write(h->dir, "net_prio.ifpriomap", buf, field, err)) < 0)
			return ret;
	}
	return 0;
}

void cg_rdma_line(char *buf, size_t len, const char *dev, int64_t hh, int64_t ho)
{
	char a[24] = "max", b[24] = "max";

	if (hh >= 0)
		snprintf(a, sizeof(a), "%" PRId64, hh);
	if (ho >= 0)
		snprintf(b, sizeof(b), "%" PRId64, ho);
	snprintf(buf, len, "%s hca_handle=%s hca_object=%s", dev, a, b);
}

static int v1_rdma(struct ctr_cgroup *cg, json_t *r, struct cabin_err **err)
{
	struct cg_hier *h;

	if (!r || !json_object_size(r))
		return 0;
	if ((h = cg_hybrid_v2(cg, "rdma", "rdma")))
		return cg_v2_rdma(h->dir, r, err);
	if (!(h = need(cg, "rdma", F ".rdma", err)))
		return -1;
	/* The v1 rdma controller has the same rdma.max file as cgroup2. */
	return cg_v2_rdma(h->dir, r, err);
}

/*
 * linux.resources.unified is v2 by definition: on a hybrid host the keys go to the
 * container's cgroup2 directory, on a v1-only host they cannot be honoured.
 */
static int v1_unified(struct ctr_cgroup *cg, json_t *u, struct cabin_err **err)
{
	struct cg_hier *v2 = cg_v2(cg);
	const char *k;
	json_t *v;

	if (!u || !json_object_size(u))
		return 0;
	if (!v2)
		return cabin_err_make(err, 0,
				      F ".unified: invalid configuration: this host has no cgroup "
					"v2 hierarchy (cgroup v1 only)");
	json_object_foreach(u, k, v)
	{
		cleanup_free char *field = xasprintf(F ".unified.%s", k);
		int ret;

		/*
		 * A key of a controller that the v2 hierarchy of a hybrid host does not offer
		 * (it is mounted as v1): the configuration asks for what this layout cannot do.
		 */
		if (!cg_file_exists(v2->dir, k))
			return cabin_err_make(err, 0,
					      "%s: invalid configuration: `%s` is not available "
					      "in the cgroup v2 hierarchy of this hybrid host",
					      field, k);
		ret = cg_write(v2->dir, k, json_string_value(v), field, err);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/*
 * Devices first, so that nothing below runs with a wider device list than configured;
 * the memory limit before the pid is moved in (the caller moves it after this returns).
 */
int cg_v1_apply(struct ctr_cgroup *cg, json_t *res, int update, struct cabin_err **err)
{
	int ret;

	if ((ret = v1_devices(cg, json_object_get(res, "devices"), err)) < 0)
		return ret;
	if ((ret = v1_memory(cg, json_object_get(res, "memory"), update, err)) < 0)
		return ret;
	if ((ret = v1_cpu(cg, json_object_get(res, "cpu"), err)) < 0)
		return ret;
	if ((ret = v1_pids(cg, json_object_get(res, "pids"), err)) < 0)
		return ret;
	if ((ret = v1_blkio(cg, json_object_get(res, "blockIO"), err)) < 0)
		return ret;
	if ((ret = v1_hugetlb(cg, json_object_get(res, "hugepageLimits"), err)) < 0)
		return ret;
	if ((ret = v1_network(cg, json_object_get(res, "network"), err)) < 0)
		return ret;
	if ((ret = v1_rdma(cg, json_object_get(res, "rdma"), err)) < 0)
		return ret;
	return v1_unified(cg, json_object_get(res, "unified"), err);
}
