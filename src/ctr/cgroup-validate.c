/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.resources validation, run before any directory is created so that an impossible
 * value fails `create` with an error naming the field and nothing is left behind. Only
 * what is wrong on every host is checked here; what a given kernel refuses (kmem, blkio
 * weights, missing controllers) fails when the file is written, naming the file.
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "ctr/cgroup-internal.h"
#include "lib/error.h"
#include "lib/util.h"

/* Below this a container cannot even exec its first process (docker's floor is 6 MiB). */
#define CG_MEMORY_MIN (1024 * 1024)

#define F "linux.resources"

static int get_int(json_t *o, const char *key, int64_t *v, const char *field, int *present,
		   struct cabin_err **err)
{
	int r = cg_json_int(o, key, v, field, err);

	if (r < 0)
		return r;
	*present = r;
	return 0;
}

static int check_object(json_t *o, const char *field, struct cabin_err **err)
{
	if (o && !json_is_null(o) && !json_is_object(o))
		return cabin_err_make(err, 0, "%s: expected an object", field);
	return 0;
}

/* "0-3,5,7-8": what cpuset.cpus and cpuset.mems accept. */
static int check_cpulist(json_t *o, const char *key, const char *field, struct cabin_err **err)
{
	json_t *j = json_object_get(o, key);
	const char *s, *p;
	int need_digit = 1;

	if (!j)
		return 0;
	if (!json_is_string(j))
		return cabin_err_make(err, 0, "%s.%s: expected a string", field, key);
	s = json_string_value(j);
	if (!*s)
		return 0;
	for (p = s; *p; p++) {
		if (isdigit((unsigned char)*p)) {
			need_digit = 0;
			continue;
		}
		if ((*p == ',' || *p == '-') && !need_digit) {
			need_digit = 1;
			continue;
		}
		return cabin_err_make(err, 0, "%s.%s: invalid list `%s`", field, key, s);
	}
	if (need_digit)
		return cabin_err_make(err, 0, "%s.%s: invalid list `%s`", field, key, s);
	return 0;
}

static int validate_memory(json_t *m, struct cabin_err **err)
{
	int64_t limit = 0, swap = 0, resv = 0, v = 0;
	int has_limit, has_swap, has_resv, has, ret;

	if ((ret = check_object(m, F ".memory", err)) < 0 || !m)
		return ret;
	if ((ret = get_int(m, "limit", &limit, F ".memory", &has_limit, err)) < 0)
		return ret;
	if ((ret = get_int(m, "swap", &swap, F ".memory", &has_swap, err)) < 0)
		return ret;
	if ((ret = get_int(m, "reservation", &resv, F ".memory", &has_resv, err)) < 0)
		return ret;
	if (has_limit && limit < -1)
		return cabin_err_make(err, 0,
				      F ".memory.limit: `%lld` is negative (-1 is unlimited)",
				      (long long)limit);
	if (has_limit && limit > 0 && limit < CG_MEMORY_MIN)
		return cabin_err_make(err, 0,
				      F ".memory.limit: `%lld` bytes is below the minimum of `%d`",
				      (long long)limit, CG_MEMORY_MIN);
	if (has_resv && resv < -1)
		return cabin_err_make(err, 0,
				      F ".memory.reservation: `%lld` is negative (-1 is unlimited)",
				      (long long)resv);
	if (has_swap && swap < -1)
		return cabin_err_make(err, 0,
				      F ".memory.swap: `%lld` is negative (-1 is unlimited)",
				      (long long)swap);
	/* swap is memory+swap (the v1 memsw semantics of the runtime-spec). */
	if (has_swap && swap > 0) {
		if (!has_limit || limit <= 0)
			return cabin_err_make(err, 0,
					      F ".memory.swap: `%lld` needs " F ".memory.limit "
						"(swap is the memory+swap limit)",
					      (long long)swap);
		if (swap < limit)
			return cabin_err_make(err, 0,
					      F ".memory.swap: `%lld` is below " F ".memory.limit "
						"`%lld` (swap is the memory+swap limit)",
					      (long long)swap, (long long)limit);
	}
	if (has_resv && has_limit && limit > 0 && resv > limit)
		return cabin_err_make(
			err, 0, F ".memory.reservation: `%lld` is above " F ".memory.limit `%lld`",
			(long long)resv, (long long)limit);
	if ((ret = get_int(m, "swappiness", &v, F ".memory", &has, err)) < 0)
		return ret;
	if (has && (v < 0 || v > 100) && v != -1)
		return cabin_err_make(err, 0, F ".memory.swappiness: `%lld` is not in 0..100",
				      (long long)v);
	if ((ret = get_int(m, "kernel", &v, F ".memory", &has, err)) < 0)
		return ret;
	if ((ret = get_int(m, "kernelTCP", &v, F ".memory", &has, err)) < 0)
		return ret;
	if (json_object_get(m, "disableOOMKiller") &&
	    !json_is_boolean(json_object_get(m, "disableOOMKiller")))
		return cabin_err_make(err, 0, F ".memory.disableOOMKiller: expected a boolean");
	return 0;
}

/*
 * Kernel limits of the CFS knobs: shares 2..262144, a quota of at least 1 ms, a period of
 * 1 ms..1 s. -1 means no quota; 0 means "not set".
 */
static int validate_cpu(json_t *c, struct cabin_err **err)
{
	int64_t v = 0, quota = 0;
	int has, has_quota, ret;

	if ((ret = check_object(c, F ".cpu", err)) < 0 || !c)
		return ret;
	if ((ret = get_int(c, "shares", &v, F ".cpu", &has, err)) < 0)
		return ret;
	if (has && v != 0 && (v < 2 || v > 262144))
		return cabin_err_make(err, 0, F ".cpu.shares: `%lld` is not in 2..262144",
				      (long long)v);
	if ((ret = get_int(c, "quota", &quota, F ".cpu", &has_quota, err)) < 0)
		return ret;
	if (has_quota && quota != 0 && quota != -1 && quota < 1000)
		return cabin_err_make(
			err, 0, F ".cpu.quota: `%lld` is below the kernel's minimum of 1000 us",
			(long long)quota);
	if ((ret = get_int(c, "period", &v, F ".cpu", &has, err)) < 0)
		return ret;
	if (has && v != 0 && (v < 1000 || v > 1000000))
		return cabin_err_make(err, 0, F ".cpu.period: `%lld` is not in 1000..1000000 us",
				      (long long)v);
	if ((ret = get_int(c, "burst", &v, F ".cpu", &has, err)) < 0)
		return ret;
	if (has && v < 0)
		return cabin_err_make(err, 0, F ".cpu.burst: `%lld` is negative", (long long)v);
	if ((ret = get_int(c, "realtimeRuntime", &v, F ".cpu", &has, err)) < 0)
		return ret;
	if (has && v < -1)
		return cabin_err_make(err, 0, F ".cpu.realtimeRuntime: `%lld` is negative",
				      (long long)v);
	if ((ret = get_int(c, "realtimePeriod", &v, F ".cpu", &has, err)) < 0)
		return ret;
	if (has && v < 0)
		return cabin_err_make(err, 0, F ".cpu.realtimePeriod: `%lld` is negative",
				      (long long)v);
	if ((ret = get_int(c, "idle", &v, F ".cpu", &has, err)) < 0)
		return ret;
	if (has && v != 0 && v != 1)
		return cabin_err_make(err, 0, F ".cpu.idle: `%lld` is not 0 or 1", (long long)v);
	if ((ret = check_cpulist(c, "cpus", F ".cpu", err)) < 0)
		return ret;
	return check_cpulist(c, "mems", F ".cpu", err);
}

/*
 * blockIO per-device entries: device numbers within what dev_t can hold (12-bit major,
 * 20-bit minor), a weight in 10..1000 or a rate (bytes or I/Os per second).
 */
static int validate_device_list(json_t *a, const char *field, int with_weight,
				struct cabin_err **err)
{
	size_t i;
	json_t *d;

	if (!a)
		return 0;
	if (!json_is_array(a))
		return cabin_err_make(err, 0, "%s: expected an array", field);
	json_array_foreach(a, i, d)
	{
		int64_t v = 0;
		int has, ret;
		char f[160];

		snprintf(f, sizeof(f), "%s[%zu]", field, i);
		if (!json_is_object(d))
			return cabin_err_make(err, 0, "%s: expected an object", f);
		if ((ret = get_int(d, "major", &v, f, &has, err)) < 0)
			return ret;
		if (!has || v < 0 || v > 0xfff)
			return cabin_err_make(err, 0, "%s.major: missing or out of range", f);
		if ((ret = get_int(d, "minor", &v, f, &has, err)) < 0)
			return ret;
		if (!has || v < 0 || v > 0xfffff)
			return cabin_err_make(err, 0, "%s.minor: missing or out of range", f);
		if (with_weight) {
			if ((ret = get_int(d, "weight", &v, f, &has, err)) < 0)
				return ret;
			if (has && (v < 10 || v > 1000))
				return cabin_err_make(err, 0,
						      "%s.weight: `%lld` is not in 10..1000", f,
						      (long long)v);
		} else {
			if ((ret = get_int(d, "rate", &v, f, &has, err)) < 0)
				return ret;
			if (!has || v < 0)
				return cabin_err_make(err, 0, "%s.rate: missing or negative", f);
		}
	}
	return 0;
}

static int validate_blkio(json_t *b, struct cabin_err **err)
{
	static const char *const thr[] = { "throttleReadBpsDevice", "throttleWriteBpsDevice",
					   "throttleReadIOPSDevice", "throttleWriteIOPSDevice" };
	int64_t v = 0;
	int has, ret;
	size_t i;

	if ((ret = check_object(b, F ".blockIO", err)) < 0 || !b)
		return ret;
	if ((ret = get_int(b, "weight", &v, F ".blockIO", &has, err)) < 0)
		return ret;
	if (has && v != 0 && (v < 10 || v > 1000))
		return cabin_err_make(err, 0, F ".blockIO.weight: `%lld` is not in 10..1000",
				      (long long)v);
	if ((ret = get_int(b, "leafWeight", &v, F ".blockIO", &has, err)) < 0)
		return ret;
	if (has && v != 0 && (v < 10 || v > 1000))
		return cabin_err_make(err, 0, F ".blockIO.leafWeight: `%lld` is not in 10..1000",
				      (long long)v);
	if ((ret = validate_device_list(json_object_get(b, "weightDevice"),
					F ".blockIO.weightDevice", 1, err)) < 0)
		return ret;
	for (i = 0; i < ARRAY_SIZE(thr); i++) {
		char f[160];

		snprintf(f, sizeof(f), F ".blockIO.%s", thr[i]);
		if ((ret = validate_device_list(json_object_get(b, thr[i]), f, 0, err)) < 0)
			return ret;
	}
	return 0;
}

/*
 * linux.resources.devices: these become devices.allow/deny lines or eBPF comparisons, so
 * every field is checked here rather than trusted into a kernel write.
 */
static int validate_devices(json_t *a, struct cabin_err **err)
{
	size_t i;
	json_t *d;

	if (!a)
		return 0;
	if (!json_is_array(a))
		return cabin_err_make(err, 0, F ".devices: expected an array");
	json_array_foreach(a, i, d)
	{
		json_t *t, *acc;
		int64_t v = 0;
		int has, ret;
		char f[160];

		snprintf(f, sizeof(f), F ".devices[%zu]", i);
		if (!json_is_object(d))
			return cabin_err_make(err, 0, "%s: expected an object", f);
		if (!json_is_boolean(json_object_get(d, "allow")))
			return cabin_err_make(err, 0, "%s.allow: missing or not a boolean", f);
		t = json_object_get(d, "type");
		if (t && (!json_is_string(t) || strlen(json_string_value(t)) != 1 ||
			  !strchr("abc", json_string_value(t)[0])))
			return cabin_err_make(err, 0, "%s.type: `%s` is not one of a, b, c", f,
					      json_is_string(t) ? json_string_value(t) : "?");
		acc = json_object_get(d, "access");
		if (acc) {
			const char *s = json_is_string(acc) ? json_string_value(acc) : NULL;

			char keep[4] = "";
			size_t k = 0;

			if (!s)
				return cabin_err_make(err, 0, "%s.access: must be a string", f);
			/*
			 * As runc: only r, w and m mean something to the kernel; other letters
			 * ("rwa" in runc's own suite) are dropped rather than refused.
			 */
			for (const char *c = s; *c && k < 3; c++)
				if (strchr("rwm", *c) && !strchr(keep, *c))
					keep[k++] = *c;
			keep[k] = '\0';
			if (strcmp(keep, s))
				json_object_set_new(d, "access", json_string(keep));
		}
		if ((ret = get_int(d, "major", &v, f, &has, err)) < 0)
			return ret;
		if (has && (v < -1 || v > 0xfff))
			return cabin_err_make(err, 0, "%s.major: `%lld` out of range", f,
					      (long long)v);
		if ((ret = get_int(d, "minor", &v, f, &has, err)) < 0)
			return ret;
		if (has && (v < -1 || v > 0xfffff))
			return cabin_err_make(err, 0, "%s.minor: `%lld` out of range", f,
					      (long long)v);
	}
	return 0;
}

/* "2MB", "1GB", "64KB": what the hugetlb.<size>.* file names use. */
static int validate_hugepages(json_t *a, struct cabin_err **err)
{
	size_t i;
	json_t *h;

	if (!a)
		return 0;
	if (!json_is_array(a))
		return cabin_err_make(err, 0, F ".hugepageLimits: expected an array");
	json_array_foreach(a, i, h)
	{
		json_t *ps = json_object_get(h, "pageSize");
		const char *s = json_is_string(ps) ? json_string_value(ps) : NULL;
		size_t n;
		int64_t v = 0;
		int has, ret;
		char f[160];

		snprintf(f, sizeof(f), F ".hugepageLimits[%zu]", i);
		n = s ? strspn(s, "0123456789") : 0;
		if (!s || !n || (strcmp(s + n, "KB") && strcmp(s + n, "MB") && strcmp(s + n, "GB")))
			return cabin_err_make(err, 0, "%s.pageSize: `%s` is not like `2MB`", f,
					      s ? s : "?");
		if ((ret = get_int(h, "limit", &v, f, &has, err)) < 0)
			return ret;
		if (!has || v < 0)
			return cabin_err_make(err, 0, "%s.limit: missing or negative", f);
	}
	return 0;
}

static int validate_unified(json_t *u, struct cabin_err **err)
{
	const char *k;
	json_t *v;

	if (!u)
		return 0;
	if (!json_is_object(u))
		return cabin_err_make(err, 0, F ".unified: expected an object");
	json_object_foreach(u, k, v)
	{
		/*
		 * Keys name files in the container's cgroup: no paths, and of the core files
		 * only the limits (cgroup.procs would move any host pid into the container).
		 */
		if (!*k || strchr(k, '/') || k[0] == '.' || !strchr(k, '.') ||
		    (!strncmp(k, "cgroup.", 7) && strcmp(k, "cgroup.max.descendants") &&
		     strcmp(k, "cgroup.max.depth")))
			return cabin_err_make(err, 0,
					      F ".unified: key `%s` is not a controller file", k);
		if (!json_is_string(v))
			return cabin_err_make(err, 0, F ".unified.%s: expected a string", k);
	}
	return 0;
}

int ctr_cgroup_validate(json_t *res, struct cabin_err **err)
{
	json_t *pids, *net, *rdma;
	int64_t v = 0;
	int has, ret;

	if (!res || json_is_null(res))
		return 0;
	if (!json_is_object(res))
		return cabin_err_make(err, 0, F ": expected an object");
	if ((ret = validate_memory(json_object_get(res, "memory"), err)) < 0)
		return ret;
	if ((ret = validate_cpu(json_object_get(res, "cpu"), err)) < 0)
		return ret;
	pids = json_object_get(res, "pids");
	if ((ret = check_object(pids, F ".pids", err)) < 0)
		return ret;
	if (pids && (ret = get_int(pids, "limit", &v, F ".pids", &has, err)) < 0)
		return ret;
	if ((ret = validate_blkio(json_object_get(res, "blockIO"), err)) < 0)
		return ret;
	if ((ret = validate_devices(json_object_get(res, "devices"), err)) < 0)
		return ret;
	if ((ret = validate_hugepages(json_object_get(res, "hugepageLimits"), err)) < 0)
		return ret;
	net = json_object_get(res, "network");
	if ((ret = check_object(net, F ".network", err)) < 0)
		return ret;
	rdma = json_object_get(res, "rdma");
	if ((ret = check_object(rdma, F ".rdma", err)) < 0)
		return ret;
	return validate_unified(json_object_get(res, "unified"), err);
}
