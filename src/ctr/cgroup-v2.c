/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.resources on cgroup v2: the runtime-spec speaks v1 (shares, memsw, blkio weights),
 * so values are converted the way crun and runc do, and device rules become an eBPF
 * program of type BPF_PROG_TYPE_CGROUP_DEVICE (v2 has no devices.allow).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ctr/cgroup-internal.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"

#define F "linux.resources"

uint64_t cg_v2_shares_to_weight(uint64_t shares)
{
	/* crun's linear map of [2, 262144] onto [1, 10000]; 1024 -> 39. */
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

static int write_i64(const char *dir, const char *file, int64_t v, const char *field,
		     struct cabin_err **err)
{
	char buf[32];

	if (v < 0)
		return cg_write(dir, file, "max", field, err);
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	return cg_write(dir, file, buf, field, err);
}

/*
 * memory.max is the hard limit, memory.low the best-effort protection that stands in for
 * v1's soft limit (reservation), memory.swap.max the swap alone. v2 has neither kmem
 * limits, nor per-cgroup swappiness, nor a way to disable the OOM killer, so those fields
 * are errors instead of being dropped.
 */
int cg_v2_memory(const char *dir, json_t *m, int update, struct cabin_err **err)
{
	int64_t limit = 0, swap = 0, v = 0;
	int has_limit, has_swap, has, ret;

	if (!m || !json_object_size(m))
		return 0;
	if ((has = cg_json_int(m, "kernel", &v, F ".memory", err)) < 0)
		return has;
	if (has && v)
		return cabin_err_make(err, 0,
				      F ".memory.kernel: kernel memory limits do not "
					"exist on cgroup v2");
	if ((has = cg_json_int(m, "kernelTCP", &v, F ".memory", err)) < 0)
		return has;
	if (has && v)
		return cabin_err_make(err, 0,
				      F ".memory.kernelTCP: kernel memory limits do not "
					"exist on cgroup v2");
	if ((has = cg_json_int(m, "swappiness", &v, F ".memory", err)) < 0)
		return has;
	if (has && v >= 0)
		return cabin_err_make(err, 0,
				      F ".memory.swappiness: `%" PRId64 "` cannot be set "
					"on cgroup v2 (no per-cgroup swappiness)",
				      v);
	if (json_is_true(json_object_get(m, "disableOOMKiller")))
		return cabin_err_make(err, 0,
				      F ".memory.disableOOMKiller: not supported on cgroup v2");
	if ((has_limit = cg_json_int(m, "limit", &limit, F ".memory", err)) < 0)
		return has_limit;
	if ((has_swap = cg_json_int(m, "swap", &swap, F ".memory", err)) < 0)
		return has_swap;
	has_limit = has_limit && limit != 0;
	has_swap = has_swap && swap != 0;
	if (update && has_limit && limit > 0 &&
	    json_is_true(json_object_get(m, "checkBeforeUpdate"))) {
		if ((ret = cg_check_usage(dir, "memory.current", limit, err)) < 0)
			return ret;
	}
	if (has_limit && (ret = write_i64(dir, "memory.max", limit, F ".memory.limit", err)) < 0)
		return ret;
	/* memory.swap.max is swap alone; the spec's swap is memory+swap. */
	if (has_swap) {
		int64_t s = swap < 0 ? -1 : swap - limit;

		if ((ret = write_i64(dir, "memory.swap.max", s, F ".memory.swap", err)) < 0)
			return ret;
	}
	if ((has = cg_json_int(m, "reservation", &v, F ".memory", err)) < 0)
		return has;
	if (has && v && (ret = write_i64(dir, "memory.low", v, F ".memory.reservation", err)) < 0)
		return ret;
	return 0;
}

/*
 * cpu.max holds "$QUOTA $PERIOD" in one write (no ordering problem as with v1's two files);
 * cpu.weight replaces shares; realtime group scheduling (rt_runtime_us) has no cgroup2
 * interface.
 */
int cg_v2_cpu(const char *dir, json_t *c, struct cabin_err **err)
{
	int64_t quota = 0, period = 0, v = 0;
	int has_q, has_p, has, ret, i;
	json_t *j;

	if (!c || !json_object_size(c))
		return 0;
	if ((has = cg_json_int(c, "shares", &v, F ".cpu", err)) < 0)
		return has;
	if (has && v &&
	    (ret = write_i64(dir, "cpu.weight", (int64_t)cg_v2_shares_to_weight((uint64_t)v),
			     F ".cpu.shares", err)) < 0)
		return ret;
	if ((has_p = cg_json_int(c, "period", &period, F ".cpu", err)) < 0)
		return has_p;
	if ((has_q = cg_json_int(c, "quota", &quota, F ".cpu", err)) < 0)
		return has_q;
	if ((has_q && quota) || (has_p && period)) {
		char buf[64];

		if (!period)
			period = 100000;
		if (has_q && quota > 0)
			snprintf(buf, sizeof(buf), "%" PRId64 " %" PRId64, quota, period);
		else
			snprintf(buf, sizeof(buf), "max %" PRId64, period);
		if ((ret = cg_write(dir, "cpu.max", buf, F ".cpu.quota", err)) < 0)
			return ret;
	}
	if ((has = cg_json_int(c, "burst", &v, F ".cpu", err)) < 0)
		return has;
	if (has && (ret = write_i64(dir, "cpu.max.burst", v, F ".cpu.burst", err)) < 0)
		return ret;
	if ((has = cg_json_int(c, "realtimeRuntime", &v, F ".cpu", err)) < 0)
		return has;
	if (has && v)
		return cabin_err_make(err, 0,
				      F ".cpu.realtimeRuntime: realtime scheduling groups "
					"do not exist on cgroup v2");
	if ((has = cg_json_int(c, "realtimePeriod", &v, F ".cpu", err)) < 0)
		return has;
	if (has && v)
		return cabin_err_make(err, 0,
				      F ".cpu.realtimePeriod: realtime scheduling groups "
					"do not exist on cgroup v2");
	if ((has = cg_json_int(c, "idle", &v, F ".cpu", err)) < 0)
		return has;
	if (has && v && (ret = write_i64(dir, "cpu.idle", v, F ".cpu.idle", err)) < 0)
		return ret;
	for (i = 0; i < 2; i++) {
		j = json_object_get(c, i ? "mems" : "cpus");
		if (!json_is_string(j) || !*json_string_value(j))
			continue;
		if ((ret = cg_write(dir, i ? "cpuset.mems" : "cpuset.cpus", json_string_value(j),
				    i ? F ".cpu.mems" : F ".cpu.cpus", err)) < 0)
			return ret;
	}
	return 0;
}

/*
 * io.max takes one "MAJ:MIN key=value" line per write and keeps the other keys of that
 * device; "max" removes a limit. Weights go to io.weight ("default N" or "MAJ:MIN N").
 */
int cg_v2_io(const char *dir, json_t *b, struct cabin_err **err)
{
	static const struct {
		const char *key, *word;
	} thr[] = {
		{ "throttleReadBpsDevice", "rbps" },
		{ "throttleWriteBpsDevice", "wbps" },
		{ "throttleReadIOPSDevice", "riops" },
		{ "throttleWriteIOPSDevice", "wiops" },
	};
	const char *wfile = "io.weight";
	int64_t v = 0;
	size_t i, k;
	int has, ret;
	json_t *a, *d;

	if (!b || !json_object_size(b))
		return 0;
	/* Under BFQ the weight knob is io.bfq.weight; io.weight needs the io.cost model. */
	if (!cg_file_exists(dir, wfile) && cg_file_exists(dir, "io.bfq.weight"))
		wfile = "io.bfq.weight";
	if ((has = cg_json_int(b, "weight", &v, F ".blockIO", err)) < 0)
		return has;
	if (has && v) {
		char buf[32];

		snprintf(buf, sizeof(buf), "default %" PRId64, v);
		if ((ret = cg_write(dir, wfile, buf, F ".blockIO.weight", err)) < 0)
			return ret;
	}
	if ((has = cg_json_int(b, "leafWeight", &v, F ".blockIO", err)) < 0)
		return has;
	if (has && v)
		return cabin_err_make(err, 0, F ".blockIO.leafWeight: not supported on cgroup v2");
	json_array_foreach(json_object_get(b, "weightDevice"), i, d)
	{
		int64_t maj = 0, min = 0, w = 0;
		char buf[80], field[160];

		snprintf(field, sizeof(field), F ".blockIO.weightDevice[%zu]", i);
		cg_json_int(d, "major", &maj, field, NULL);
		cg_json_int(d, "minor", &min, field, NULL);
		if (cg_json_int(d, "weight", &w, field, NULL) <= 0)
			continue;
		snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRId64, maj, min, w);
		if ((ret = cg_write(dir, wfile, buf, field, err)) < 0)
			return ret;
	}
	for (k = 0; k < ARRAY_SIZE(thr); k++) {
		a = json_object_get(b, thr[k].key);
		json_array_foreach(a, i, d)
		{
			int64_t maj = 0, min = 0, rate = 0;
			char buf[96], field[160];

			snprintf(field, sizeof(field), F ".blockIO.%s[%zu]", thr[k].key, i);
			cg_json_int(d, "major", &maj, field, NULL);
			cg_json_int(d, "minor", &min, field, NULL);
			cg_json_int(d, "rate", &rate, field, NULL);
			if (rate)
				snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=%" PRId64,
					 maj, min, thr[k].word, rate);
			else
				snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=max", maj,
					 min, thr[k].word);
			if ((ret = cg_write(dir, "io.max", buf, field, err)) < 0)
				return ret;
		}
	}
	return 0;
}

/* pids.max: a number or "max". */
int cg_v2_pids(const char *dir, json_t *p, struct cabin_err **err)
{
	int64_t v = 0;

	/* 0 leaves the limit alone and negative means unlimited, as in runc */
	if (cg_json_int(p, "limit", &v, F ".pids", NULL) <= 0 || v == 0)
		return 0;
	return write_i64(dir, "pids.max", v < 0 ? -1 : v, F ".pids.limit", err);
}

/* hugetlb.<size>.max, one file per page size ("2MB", "1GB"), as validated. */
int cg_v2_hugetlb(const char *dir, json_t *a, struct cabin_err **err)
{
	size_t i;
	json_t *e;

	json_array_foreach(a, i, e)
	{
		char file[64], field[160];
		int64_t lim = 0;
		int ret;

		cg_json_int(e, "limit", &lim, "", NULL);
		snprintf(field, sizeof(field), F ".hugepageLimits[%zu]", i);
		snprintf(file, sizeof(file), "hugetlb.%s.max",
			 json_string_value(json_object_get(e, "pageSize")));
		if ((ret = write_i64(dir, file, lim, field, err)) < 0)
			return ret;
	}
	return 0;
}

int cg_v2_rdma(const char *dir, json_t *r, struct cabin_err **err)
{
	const char *k;
	json_t *e;

	json_object_foreach(r, k, e)
	{
		int64_t hh = -1, ho = -1;
		char buf[160], field[160];
		int ret;

		snprintf(field, sizeof(field), F ".rdma.%s", k);
		if (!*k || strchr(k, ' ') || strchr(k, '\n'))
			return cabin_err_make(err, 0, "%s: invalid device name", field);
		cg_json_int(e, "hcaHandles", &hh, field, NULL);
		cg_json_int(e, "hcaObjects", &ho, field, NULL);
		cg_rdma_line(buf, sizeof(buf), k, hh, ho);
		if ((ret = cg_write(dir, "rdma.max", buf, field, err)) < 0)
			return ret;
	}
	return 0;
}

int cg_v2_apply(struct ctr_cgroup *cg, struct cg_hier *h, json_t *res, int update,
		struct cabin_err **err)
{
	const char *k;
	json_t *a, *e;
	int ret;

	if (!h)
		return cabin_err_make(err, 0, "no cgroup v2 hierarchy");
	a = json_object_get(res, "devices");
	if (json_array_size(a) && (ret = cg_v2_devices_attach(h->dir, a, err)) < 0)
		return ret;
	if ((ret = cg_v2_memory(h->dir, json_object_get(res, "memory"), update, err)) < 0)
		return ret;
	if ((ret = cg_v2_cpu(h->dir, json_object_get(res, "cpu"), err)) < 0)
		return ret;
	if ((ret = cg_v2_pids(h->dir, json_object_get(res, "pids"), err)) < 0)
		return ret;
	if ((ret = cg_v2_io(h->dir, json_object_get(res, "blockIO"), err)) < 0)
		return ret;
	if ((ret = cg_v2_hugetlb(h->dir, json_object_get(res, "hugepageLimits"), err)) < 0)
		return ret;
	if (json_object_size(json_object_get(res, "network")))
		return cabin_err_make(err, 0,
				      F ".network: net_cls and net_prio do not exist on "
					"cgroup v2 (use eBPF or tc)");
	if ((ret = cg_v2_rdma(h->dir, json_object_get(res, "rdma"), err)) < 0)
		return ret;
	json_object_foreach(json_object_get(res, "unified"), k, e)
	{
		cleanup_free char *field = xasprintf(F ".unified.%s", k);

		if ((ret = cg_write(h->dir, k, json_string_value(e), field, err)) < 0)
			return ret;
	}
	return 0;
}

/* ---- devices as eBPF ------------------------------------------------------------- */

/* The kernel's BPF instruction macros are not UAPI; these few are enough here. */
#define I_LDX_W(d, s, o)                                                                           \
	((struct bpf_insn){                                                                        \
		.code = BPF_LDX | BPF_MEM | BPF_W, .dst_reg = d, .src_reg = s, .off = o })
#define I_ALU_K(op, d, k)                                                                          \
	((struct bpf_insn){ .code = BPF_ALU | op | BPF_K, .dst_reg = d, .imm = k })
#define I_MOV_K(d, k)                                                                              \
	((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = d, .imm = k })
#define I_MOV_X(d, s)                                                                              \
	((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = d, .src_reg = s })
#define I_JMP_K(op, d, k, o)                                                                       \
	((struct bpf_insn){ .code = BPF_JMP | op | BPF_K, .dst_reg = d, .off = o, .imm = k })
#define I_EXIT() ((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/*
 * Rules are matched last to first, so a later rule wins as it does with v1's
 * devices.allow/deny: a deny matches when it covers any requested access, an allow when it
 * covers all of them. No match: allowed, which is what a new v1 cgroup inherits from the
 * root; profiles start with a deny-all rule anyway.
 */
static size_t build_prog(json_t *rules, struct bpf_insn *p, size_t max)
{
	size_t n = 0, i = json_array_size(rules);

	/* r2 = type, r3 = access, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx) */
	p[n++] = I_LDX_W(2, 1, 0);
	p[n++] = I_ALU_K(BPF_AND, 2, 0xffff);
	p[n++] = I_LDX_W(3, 1, 0);
	p[n++] = I_ALU_K(BPF_RSH, 3, 16);
	p[n++] = I_LDX_W(4, 1, 4);
	p[n++] = I_LDX_W(5, 1, 8);
	while (i-- > 0) {
		json_t *d = json_array_get(rules, i);
		const char *type = json_string_value(json_object_get(d, "type"));
		const char *acc = json_string_value(json_object_get(d, "access"));
		int allow = json_is_true(json_object_get(d, "allow"));
		int64_t maj = -1, min = -1;
		int32_t mask = 0;
		struct bpf_insn blk[8];
		size_t b = 0, k;

		cg_json_int(d, "major", &maj, "", NULL);
		cg_json_int(d, "minor", &min, "", NULL);
		if (!acc || !*acc)
			acc = "rwm";
		mask |= strchr(acc, 'm') ? BPF_DEVCG_ACC_MKNOD : 0;
		mask |= strchr(acc, 'r') ? BPF_DEVCG_ACC_READ : 0;
		mask |= strchr(acc, 'w') ? BPF_DEVCG_ACC_WRITE : 0;
		/* Each check jumps over the rest of this rule's block on mismatch; the
		 * offsets are patched once the block length is known (marked 0x7fff). */
		if (type && type[0] == 'c')
			blk[b++] = I_JMP_K(BPF_JNE, 2, BPF_DEVCG_DEV_CHAR, 0x7fff);
		else if (type && type[0] == 'b')
			blk[b++] = I_JMP_K(BPF_JNE, 2, BPF_DEVCG_DEV_BLOCK, 0x7fff);
		if (maj >= 0)
			blk[b++] = I_JMP_K(BPF_JNE, 4, (int32_t)maj, 0x7fff);
		if (min >= 0)
			blk[b++] = I_JMP_K(BPF_JNE, 5, (int32_t)min, 0x7fff);
		if (allow) {
			/* requested & ~mask must be 0 */
			blk[b++] = I_MOV_X(0, 3);
			blk[b++] = I_ALU_K(BPF_AND, 0, ~mask);
			blk[b++] = I_JMP_K(BPF_JNE, 0, 0, 0x7fff);
		} else {
			blk[b++] = I_JMP_K(BPF_JSET, 3, mask, 1);
			blk[b++] = I_JMP_K(BPF_JA, 0, 0, 0x7fff);
		}
		blk[b++] = I_MOV_K(0, allow);
		blk[b++] = I_EXIT();
		if (n + b + 2 > max)
			return 0;
		for (k = 0; k < b; k++) {
			if (blk[k].off == 0x7fff)
				blk[k].off = (int16_t)(b - k - 1);
			p[n++] = blk[k];
		}
	}
	p[n++] = I_MOV_K(0, 1);
	p[n++] = I_EXIT();
	return n;
}

/* Ids of the device programs attached to @cgfd now, to detach after the new one is in. */
static size_t query_progs(int cgfd, uint32_t *ids, size_t max)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cgfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = (uint32_t)max;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return 0;
	return a.query.prog_cnt;
}

int cg_v2_devices_attach(const char *dir, json_t *devices, struct cabin_err **err)
{
	size_t cap = 16 + 12 * json_array_size(devices), n, nold, i;
	cleanup_free struct bpf_insn *prog = NULL;
	cleanup_close int cgfd = -1, pfd = -1;
	char log[4096] = "";
	uint32_t old[64];
	union bpf_attr a;

	if (json_array_size(devices) > 4096)
		return cabin_err_make(err, 0, F ".devices: more than 4096 rules");
	prog = xcalloc(cap, sizeof(*prog));
	n = build_prog(devices, prog, cap);
	if (!n)
		return cabin_err_make(err, 0, F ".devices: program too large");
	cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return cabin_err_make(err, errno, "open cgroup `%s`", dir);
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)prog;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t) "GPL";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	pfd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	if (pfd < 0 && errno == ENOSPC) {
		/* log too small for the verifier: retry without a log */
		a.log_buf = 0;
		a.log_size = 0;
		a.log_level = 0;
		pfd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	}
	if (pfd < 0)
		return cabin_err_make(err, errno, F ".devices: load the eBPF device filter%s%.200s",
				      *log ? ": " : "", log);
	nold = query_progs(cgfd, old, ARRAY_SIZE(old));
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)pfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
		return cabin_err_make(err, errno,
				      F ".devices: attach the eBPF device filter to `%s`", dir);
	/* Replace, not stack: an update must be able to widen access again. */
	for (i = 0; i < nold; i++) {
		cleanup_close int ofd = -1;

		memset(&a, 0, sizeof(a));
		a.prog_id = old[i];
		ofd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
		if (ofd < 0)
			continue;
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)cgfd;
		a.attach_bpf_fd = (uint32_t)ofd;
		a.attach_type = BPF_CGROUP_DEVICE;
		if (sys_bpf(BPF_PROG_DETACH, &a) < 0)
			log_warn("cgroup `%s`: detach old device filter %u: %s", dir, old[i],
				 strerror(errno));
	}
	return 0;
}
