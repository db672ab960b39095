/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cgroupfs manager against the real kernel: limits read back from the files, a
 * child moved in, frozen, listed, killed, and every directory removed. Needs root.
 * The v2 paths run on the host's cgroup2 hierarchy and, in a private mount namespace,
 * on a cgroup2-only view of the machine.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctr/cgroup-internal.h"
#include "ctr/cgroup.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "unit/tap.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static char prefix[64];

static json_t *J(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);

	if (!j) {
		fprintf(stderr, "bad test json: %s: %s\n", je.text, s);
		abort();
	}
	return j;
}

static char *rd(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *rd(const char *fmt, ...)
{
	cleanup_free char *p = NULL;
	char *buf = NULL;
	va_list ap;
	struct cabin_err *err = NULL;
	size_t len = 0;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (fs_read_file(p, 1 << 20, &buf, &len, &err) < 0) {
		cabin_err_release(&err);
		return xstrdup("<unreadable>");
	}
	while (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	return buf;
}

static int exists(const char *p)
{
	return access(p, F_OK) == 0;
}

/*
 * The hugepage sizes this host offers, as cgroup file names use them ("2MB", "1GB"):
 * @small gets the smallest, @large the largest. 0 when the host has none. Hosts differ
 * (some only have 2 MB pages): tests ask only for what is there.
 */
static char hsmall[24], hlarge[24];

static int host_hugepages(char *small, char *large, size_t len)
{
	cleanup_closedir DIR *d = opendir("/sys/kernel/mm/hugepages");
	unsigned long lo = 0, hi = 0, kb;
	struct dirent *de;

	while (d && (de = readdir(d)))
		if (sscanf(de->d_name, "hugepages-%lukB", &kb) == 1) {
			if (!lo || kb < lo)
				lo = kb;
			if (kb > hi)
				hi = kb;
		}
	if (!lo)
		return 0;
	for (int i = 0; i < 2; i++) {
		unsigned long v = i ? hi : lo;
		char *out = i ? large : small;

		if (v >= 1024 * 1024)
			snprintf(out, len, "%luGB", v / (1024 * 1024));
		else if (v >= 1024)
			snprintf(out, len, "%luMB", v / 1024);
		else
			snprintf(out, len, "%luKB", v);
	}
	return 1;
}

static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* A child that counts in shared memory until killed, so freezing is observable. */
static pid_t spawn_counter(volatile unsigned long *ctr)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			(*ctr)++;
	}
	return pid;
}

static void expect_err(const char *res, const char *want, const char *what)
{
	struct cabin_err *err = NULL;
	json_t *j = J(res);
	int ret = ctr_cgroup_validate(j, &err);

	tap_ok(ret < 0 && err && strstr(err->msg, want), "validate %s: %s", what,
	       err ? err->msg : "(accepted)");
	cabin_err_release(&err);
	json_decref(j);
}

static void test_validate(void)
{
	struct cabin_err *err = NULL;
	struct ctr_cgroup *cg = NULL;
	int ret;
	json_t *ok = J("{\"memory\":{\"limit\":67108864,\"swap\":134217728},\"cpu\":{\"shares\":"
		       "512,\"cpus\":\"0-1\"},\"pids\":{\"limit\":10},\"devices\":[{\"allow\":"
		       "false,\"access\":\"rwm\"}]}");

	tap_ok(ctr_cgroup_validate(ok, &err) == 0, "validate accepts a sane set: %s",
	       cabin_err_msg(err));
	cabin_err_release(&err);
	json_decref(ok);
	expect_err("{\"memory\":{\"limit\":1}}", "linux.resources.memory.limit", "1-byte limit");
	expect_err("{\"memory\":{\"limit\":-5}}", "linux.resources.memory.limit", "negative");
	expect_err("{\"memory\":{\"limit\":67108864,\"swap\":33554432}}",
		   "linux.resources.memory.swap", "swap below limit");
	expect_err("{\"memory\":{\"swappiness\":101}}", "linux.resources.memory.swappiness",
		   "swappiness");
	expect_err("{\"cpu\":{\"shares\":1}}", "linux.resources.cpu.shares", "shares");
	expect_err("{\"cpu\":{\"quota\":10}}", "linux.resources.cpu.quota", "quota");
	expect_err("{\"cpu\":{\"cpus\":\"0-,x\"}}", "linux.resources.cpu.cpus", "cpu list");
	expect_err("{\"devices\":[{\"allow\":true,\"access\":5}]}",
		   "linux.resources.devices[0].access", "device access");
	expect_err("{\"blockIO\":{\"weight\":5}}", "linux.resources.blockIO.weight", "weight");
	expect_err("{\"hugepageLimits\":[{\"pageSize\":\"2XB\",\"limit\":1}]}",
		   "linux.resources.hugepageLimits[0].pageSize", "page size");
	expect_err("{\"unified\":{\"../x\":\"1\"}}", "linux.resources.unified", "unified key");
	ret = ctr_cgroup_create("system.slice:cabin:abc", "abc", NULL, 0, &cg, &err);
	tap_ok(ret < 0 && err && strstr(err->msg, "system.slice:cabin:abc"),
	       "systemd cgroupsPath is a clear error: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	ret = ctr_cgroup_create("/a/../../etc", "abc", NULL, 0, &cg, &err);
	tap_ok(ret < 0 && err && strstr(err->msg, ".."), "`..` in cgroupsPath refused: %s",
	       cabin_err_msg(err));
	cabin_err_release(&err);
	ret = ctr_cgroup_from_string(
		"{\"mode\":2,\"hierarchies\":[{\"mnt\":\"/sys/fs/cgroup/memory\","
		"\"dir\":\"/sys/fs/cgroup/memory/../../../etc\",\"controllers\":"
		"\"memory\"}]}",
		&cg, &err);
	tap_ok(ret < 0 && cg == NULL,
	       "saved state naming a directory outside the mount refused: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	tap_ok(cg_v2_shares_to_weight(1024) == 39 && cg_v2_shares_to_weight(2) == 1 &&
		       cg_v2_shares_to_weight(262144) == 10000,
	       "cpu.shares to cpu.weight as crun (1024 -> %llu)",
	       (unsigned long long)cg_v2_shares_to_weight(1024));
}

/* Full cycle on v1/hybrid with limits read back from the controller files. */
static void test_v1_cycle(void)
{
	volatile unsigned long *ctr =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cleanup_free char *path = xasprintf("/%s/c1", prefix);
	cleanup_free char *s = NULL;
	struct cabin_err *err = NULL;
	struct ctr_cgroup *cg = NULL, *cg2 = NULL;
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;
	unsigned long a, b;
	int ret, st = 0;
	pid_t pid;
	json_t *res = J("{\"memory\":{\"limit\":67108864,\"swap\":134217728,\"reservation\":"
			"33554432,\"swappiness\":10},\"cpu\":{\"shares\":512,\"quota\":50000,"
			"\"period\":100000,\"cpus\":\"0\",\"mems\":\"0\"},\"pids\":{\"limit\":"
			"32},\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,"
			"\"type\":\"c\",\"major\":4,\"minor\":1,\"access\":\"rwa\"}]}");

	pid = spawn_counter(ctr);
	ret = ctr_cgroup_create(path, "c1", res, pid, &cg, &err);
	json_decref(res);
	if (!tap_ok(ret == 0, "create `%s` with limits: %s", path, cabin_err_msg(err))) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		cabin_err_release(&err);
		return;
	}
	{
		cleanup_free char *m =
			rd("/sys/fs/cgroup/memory%s/%s", path, "memory.limit_in_bytes");
		cleanup_free char *ms =
			rd("/sys/fs/cgroup/memory%s/%s", path, "memory.memsw.limit_in_bytes");
		cleanup_free char *sl =
			rd("/sys/fs/cgroup/memory%s/%s", path, "memory.soft_limit_in_bytes");
		cleanup_free char *sw = rd("/sys/fs/cgroup/memory%s/%s", path, "memory.swappiness");
		cleanup_free char *sh = rd("/sys/fs/cgroup/cpu%s/%s", path, "cpu.shares");
		cleanup_free char *q = rd("/sys/fs/cgroup/cpu%s/%s", path, "cpu.cfs_quota_us");
		cleanup_free char *cs = rd("/sys/fs/cgroup/cpuset%s/%s", path, "cpuset.cpus");
		cleanup_free char *pm = rd("/sys/fs/cgroup/pids%s/%s", path, "pids.max");
		cleanup_free char *dl = rd("/sys/fs/cgroup/devices%s/%s", path, "devices.list");
		cleanup_free char *pc = xasprintf("/proc/%d/cgroup", (int)pid);
		cleanup_free char *own = rd("%s%s", pc, "");
		cleanup_free char *m1 = xasprintf("memory:%s\n", path);
		cleanup_free char *u1 = xasprintf("0::%s", path);

		tap_ok(!strcmp(m, "67108864"), "memory.limit_in_bytes = %s", m);
		tap_ok(!strcmp(ms, "134217728"), "memory.memsw.limit_in_bytes = %s", ms);
		tap_ok(!strcmp(sl, "33554432"), "memory.soft_limit_in_bytes = %s", sl);
		tap_ok(!strcmp(sw, "10"), "memory.swappiness = %s", sw);
		tap_ok(!strcmp(sh, "512"), "cpu.shares = %s", sh);
		tap_ok(!strcmp(q, "50000"), "cpu.cfs_quota_us = %s", q);
		tap_ok(!strcmp(cs, "0"), "cpuset.cpus = %s", cs);
		tap_ok(!strcmp(pm, "32"), "pids.max = %s", pm);
		/* "rwa" is "rw" (as runc); linux.devices get no rule of their own (as runc) */
		tap_ok(strstr(dl, "c *:* m\n") && strstr(dl, "c 4:1 rw\n") &&
			       !strstr(dl, "c 4:2") && strstr(dl, "\nc 1:3 rwm\n") &&
			       strstr(dl, "\nc 136:* rwm\n") && !strstr(dl, "a *:*"),
		       "devices.list: deny all, then the rules (rwa as rw) and the defaults");
		tap_ok(strstr(own, m1) != NULL, "child is in the memory cgroup");
		if (ctr_cgroup_host_mode() == CTR_CGROUP_HYBRID)
			tap_ok(strstr(own, u1) != NULL,
			       "hybrid: child is in the cgroup2 cgroup too");
		else
			tap_skip("not a hybrid host");
	}
	/* freeze: the counter must stop, and run again after thaw */
	ret = ctr_cgroup_freeze(cg, 1, &err);
	tap_ok(ret == 0 && ctr_cgroup_is_frozen(cg) == 1, "freeze: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	a = *ctr;
	msleep(100);
	b = *ctr;
	tap_ok(a == b, "frozen child does not run (%lu -> %lu)", a, b);
	ret = ctr_cgroup_freeze(cg, 0, &err);
	tap_ok(ret == 0 && ctr_cgroup_is_frozen(cg) == 0, "thaw: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	msleep(50);
	tap_ok(*ctr != b, "thawed child runs again");

	ret = ctr_cgroup_pids(cg, &pids, &n, &err);
	tap_ok(ret == 0 && n == 1 && pids[0] == pid, "pids lists the child (%zu)", n);
	cabin_err_release(&err);

	/* raising limit and memsw together needs memsw first; lowering, limit first */
	res = J("{\"memory\":{\"limit\":268435456,\"swap\":536870912}}");
	ret = ctr_cgroup_update(cg, res, &err);
	json_decref(res);
	{
		cleanup_free char *m = rd("/sys/fs/cgroup/memory%s/memory.limit_in_bytes", path);
		cleanup_free char *ms =
			rd("/sys/fs/cgroup/memory%s/memory.memsw.limit_in_bytes", path);

		tap_ok(ret == 0 && !strcmp(m, "268435456") && !strcmp(ms, "536870912"),
		       "update raises limit and memsw: %s %s %s", m, ms, cabin_err_msg(err));
	}
	cabin_err_release(&err);
	res = J("{\"memory\":{\"limit\":50331648,\"swap\":67108864}}");
	ret = ctr_cgroup_update(cg, res, &err);
	json_decref(res);
	{
		cleanup_free char *m = rd("/sys/fs/cgroup/memory%s/memory.limit_in_bytes", path);
		cleanup_free char *ms =
			rd("/sys/fs/cgroup/memory%s/memory.memsw.limit_in_bytes", path);

		tap_ok(ret == 0 && !strcmp(m, "50331648") && !strcmp(ms, "67108864"),
		       "update lowers limit and memsw: %s %s %s", m, ms, cabin_err_msg(err));
	}
	cabin_err_release(&err);

	/* hugetlb is not mounted as v1 here: hybrid hosts take it from cgroup2 */
	if (ctr_cgroup_host_mode() == CTR_CGROUP_HYBRID &&
	    !exists("/sys/fs/cgroup/hugetlb/cgroup.procs") &&
	    host_hugepages(hsmall, hlarge, sizeof(hsmall))) {
		cleanup_free char *root_sc = rd("/sys/fs/cgroup/unified/cgroup.subtree_control");
		cleanup_free char *hp = xasprintf("/%s/huge", prefix);
		cleanup_free char *hv = NULL, *hj = NULL;
		struct ctr_cgroup *hcg = NULL;
		json_t *h;

		hj = xasprintf("{\"hugepageLimits\":[{\"pageSize\":\"%s\",\"limit\":0}]}", hsmall);
		h = J(hj);
		ret = ctr_cgroup_create(hp, "huge", h, 0, &hcg, &err);
		json_decref(h);
		hv = rd("/sys/fs/cgroup/unified%s/hugetlb.%s.max", hp, hsmall);
		tap_ok(ret == 0 && !strcmp(hv, "0"),
		       "hybrid: hugepageLimits (%s) via cgroup2: %s %s", hsmall, hv,
		       cabin_err_msg(err));
		cabin_err_release(&err);
		if (hcg)
			ctr_cgroup_destroy(hcg, NULL);
		ctr_cgroup_free(hcg);
		if (!strstr(root_sc, "hugetlb"))
			cg_write("/sys/fs/cgroup/unified", "cgroup.subtree_control", "-hugetlb",
				 NULL, NULL);
	} else {
		tap_skip("hybrid host without v1 hugetlb needed");
	}

	/* linux.resources.unified on a hybrid host goes to the cgroup2 directory */
	if (ctr_cgroup_host_mode() == CTR_CGROUP_HYBRID) {
		json_t *u = J("{\"unified\":{\"cgroup.max.descendants\":\"5\"}}");
		cleanup_free char *md = NULL;

		ret = ctr_cgroup_update(cg, u, &err);
		json_decref(u);
		md = rd("/sys/fs/cgroup/unified%s/cgroup.max.descendants", path);
		tap_ok(ret == 0 && !strcmp(md, "5"),
		       "hybrid: unified key written to cgroup2: %s %s", md, cabin_err_msg(err));
		cabin_err_release(&err);
	} else {
		tap_skip("not a hybrid host");
	}
	expect_err("{\"unified\":{\"cgroup.procs\":\"1\"}}", "linux.resources.unified",
		   "unified cgroup.procs refused");

	/* state round trip */
	s = ctr_cgroup_to_string(cg);
	ret = ctr_cgroup_from_string(s, &cg2, &err);
	tap_ok(ret == 0, "from_string(to_string) reopens: %s", cabin_err_msg(err));
	cabin_err_release(&err);

	/* update: a new pids limit */
	res = J("{\"pids\":{\"limit\":64}}");
	ret = cg2 ? ctr_cgroup_update(cg2, res, &err) : -1;
	json_decref(res);
	{
		cleanup_free char *pm = rd("/sys/fs/cgroup/pids%s/%s", path, "pids.max");

		tap_ok(ret == 0 && !strcmp(pm, "64"), "update pids.max = %s %s", pm,
		       cabin_err_msg(err));
	}
	cabin_err_release(&err);

	ret = ctr_cgroup_kill_all(cg, SIGTERM, &err);
	waitpid(pid, &st, 0);
	tap_ok(ret == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "kill_all SIGTERM: %s",
	       cabin_err_msg(err));
	cabin_err_release(&err);

	ret = ctr_cgroup_destroy(cg2 ? cg2 : cg, &err);
	{
		cleanup_free char *top = xasprintf("/sys/fs/cgroup/memory/%s", prefix);
		cleanup_free char *utop = xasprintf("/sys/fs/cgroup/unified/%s", prefix);
		cleanup_free char *ctop = xasprintf("/sys/fs/cgroup/cpuset/%s", prefix);

		tap_ok(ret == 0 && !exists(top) && !exists(utop) && !exists(ctop),
		       "destroy removes every directory, intermediate ones too: %s",
		       cabin_err_msg(err));
	}
	cabin_err_release(&err);
	ret = ctr_cgroup_destroy(cg, &err);
	tap_ok(ret == 0, "destroy again succeeds: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	ctr_cgroup_free(cg);
	ctr_cgroup_free(cg2);
	munmap((void *)ctr, 4096);
}

/* Default path <id> under the caller's own cgroup, and destroy with live processes. */
static void test_default_path(void)
{
	cleanup_free char *id = xasprintf("%s-def", prefix);
	cleanup_free char *own = rd("/proc/self/%s%s", "cgroup", "");
	struct cabin_err *err = NULL;
	struct ctr_cgroup *cg = NULL;
	char *mem = strstr(own, ":memory:"), *nl;
	cleanup_free char *dir = NULL;
	pid_t pid, pid2;
	int ret, st;

	if (!mem) {
		tap_skip("no memory hierarchy");
		return;
	}
	mem += 8;
	nl = strchr(mem, '\n');
	if (nl)
		*nl = '\0';
	dir = xasprintf("/sys/fs/cgroup/memory%s%s%s", mem, strcmp(mem, "/") ? "/" : "", id);
	pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	ret = ctr_cgroup_create(NULL, id, NULL, pid, &cg, &err);
	tap_ok(ret == 0 && exists(dir),
	       "default path is `<id>` below the caller's cgroup "
	       "(`%s`): %s",
	       dir, cabin_err_msg(err));
	cabin_err_release(&err);
	if (ret < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	/* a second process joins (exec), then charges 16 MiB to the cgroup */
	{
		int go[2], done[2];
		char c = 0;
		json_t *upd;

		if (pipe(go) < 0 || pipe(done) < 0)
			abort();
		pid2 = fork();
		if (pid2 == 0) {
			char *big;

			if (read(go[0], &c, 1) != 1)
				_exit(1);
			big = malloc(16 << 20);
			memset(big, 1, 16 << 20);
			/* send a byte of it so the allocation cannot be optimised away */
			if (write(done[1], big + (16 << 20) - 1, 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		ret = ctr_cgroup_enter(cg, pid2, &err);
		tap_ok(ret == 0, "enter moves another pid in: %s", cabin_err_msg(err));
		cabin_err_release(&err);
		if (write(go[1], "x", 1) != 1 || read(done[0], &c, 1) != 1)
			abort();
		upd = J("{\"memory\":{\"limit\":2097152,\"checkBeforeUpdate\":true}}");
		ret = ctr_cgroup_update(cg, upd, &err);
		json_decref(upd);
		tap_ok(ret < 0 && strstr(cabin_err_msg(err), "checkBeforeUpdate") &&
			       strstr(cabin_err_msg(err), "linux.resources.memory.limit"),
		       "checkBeforeUpdate refuses a limit below usage: %s", cabin_err_msg(err));
		cabin_err_release(&err);
		close(go[0]);
		close(go[1]);
		close(done[0]);
		close(done[1]);
	}
	{
		json_t *stats = ctr_cgroup_stats(cg);
		json_t *cur = json_object_get(json_object_get(stats, "pids"), "current");

		tap_ok(json_integer_value(cur) == 2, "stats: pids.current = %lld",
		       (long long)json_integer_value(cur));
		json_decref(stats);
	}
	/* destroy a frozen container (delete --force of a paused one) */
	ret = ctr_cgroup_freeze(cg, 1, &err);
	tap_ok(ret == 0, "freeze before destroy: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	ret = ctr_cgroup_destroy(cg, &err);
	waitpid(pid, &st, 0);
	waitpid(pid2, NULL, 0);
	tap_ok(ret == 0 && !exists(dir) && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	       "destroy kills what is left and removes the directory: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	ctr_cgroup_free(cg);
}

static char *rdf_weight(const char *path)
{
	cleanup_free char *p = xasprintf("/sys/fs/cgroup/blkio%s/blkio.weight", path);

	if (exists(p))
		return rd("%s", p);
	return rd("/sys/fs/cgroup/blkio%s/blkio.bfq.weight", path);
}

/* A limit the kernel refuses fails create, names the field, and leaves nothing behind. */
static void test_rollback(void)
{
	cleanup_free char *path = xasprintf("/%s/rb", prefix);
	cleanup_free char *top = xasprintf("/sys/fs/cgroup/memory/%s", prefix);
	struct cabin_err *err = NULL;
	struct ctr_cgroup *cg = NULL;
	json_t *res;
	int ret;

	if (ctr_cgroup_host_mode() == CTR_CGROUP_V2) {
		tap_skip("v1 rollback test needs v1 controllers");
		return;
	}
	res = J("{\"memory\":{\"limit\":67108864,\"kernel\":134217728}}");
	ret = ctr_cgroup_create(path, "rb", res, 0, &cg, &err);
	json_decref(res);
	tap_ok(ret < 0 && strstr(cabin_err_msg(err), "linux.resources.memory.kernel") &&
		       strstr(cabin_err_msg(err), "memory.kmem.limit_in_bytes"),
	       "unenforced kmem limit names field and file: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	tap_ok(!exists(top), "failed create leaves no directory");
	res = J("{\"cpu\":{\"cpus\":\"4095\"}}");
	ret = ctr_cgroup_create(path, "rb", res, 0, &cg, &err);
	json_decref(res);
	tap_ok(ret < 0 && strstr(cabin_err_msg(err), "linux.resources.cpu.cpus") &&
		       strstr(cabin_err_msg(err), "cpuset.cpus") &&
		       strstr(cabin_err_msg(err), "4095"),
	       "refused write names field, file and value: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	res = J("{\"blockIO\":{\"weight\":100}}");
	ret = ctr_cgroup_create(path, "rb", res, 0, &cg, &err);
	json_decref(res);
	if (ret == 0) {
		/* BFQ's blkio.bfq.weight stands in for CFQ's blkio.weight (gone since 5.0) */
		cleanup_free char *w = rdf_weight(path);

		tap_ok(!strcmp(w, "100"), "blockIO.weight written to the BFQ weight: %s", w);
		ctr_cgroup_destroy(cg, NULL);
		ctr_cgroup_free(cg);
	} else {
		tap_ok(strstr(cabin_err_msg(err), "linux.resources.blockIO.weight") != NULL,
		       "missing blkio weight names the field: %s", cabin_err_msg(err));
	}
	cabin_err_release(&err);
	tap_ok(!exists(top), "failed create leaves no directory");
}

/* eBPF device filter on a cgroup2 directory: /dev/null write denied, /dev/zero allowed. */
static void test_v2_devices(const char *v2root)
{
	cleanup_free char *dir = xasprintf("%s/%s-bpf", v2root, prefix);
	struct cabin_err *err = NULL;
	json_t *rules = J("[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,\"type\":\"c\","
			  "\"major\":1,\"minor\":5,\"access\":\"rwm\"},{\"allow\":true,\"type\":"
			  "\"c\",\"major\":1,\"minor\":3,\"access\":\"r\"}]");
	int ret, st = 0, p[2];
	pid_t pid;
	char res[3] = "??";

	if (mkdir(dir, 0755) < 0) {
		tap_ok(0, "mkdir `%s`: %s", dir, strerror(errno));
		json_decref(rules);
		return;
	}
	ret = cg_v2_devices_attach(dir, rules, &err);
	tap_ok(ret == 0, "attach eBPF device filter: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	if (pipe(p) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		char buf[32];
		int fd;

		snprintf(buf, sizeof(buf), "%d", (int)getpid());
		fd = open(dir, O_RDONLY | O_DIRECTORY);
		if (fs_write_file_at(fd, "cgroup.procs", buf, strlen(buf), NULL) < 0)
			_exit(2);
		fd = open("/dev/null", O_WRONLY);
		res[0] = fd < 0 && errno == EPERM ? 'd' : 'a';
		fd = open("/dev/zero", O_RDONLY);
		res[1] = fd >= 0 ? 'a' : 'd';
		if (write(p[1], res, 2) != 2)
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], res, 2) != 2)
		res[0] = res[1] = '?';
	close(p[0]);
	waitpid(pid, &st, 0);
	tap_ok(res[0] == 'd', "eBPF filter: write to /dev/null (c 1:3 r only) denied (%c)", res[0]);
	tap_ok(res[1] == 'a', "eBPF filter: /dev/zero (c 1:5 rwm) allowed (%c)", res[1]);
	json_decref(rules);
	rmdir(dir);
}

/*
 * Pure v2 in a private mount namespace: the v1 mounts are hidden, cgroup2 is mounted on
 * /sys/fs/cgroup. Results travel back over a pipe as "<0|1> message" lines.
 */
static void report(int fd, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(int fd, int ok, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n = snprintf(buf, sizeof(buf), "%d ", ok);

	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(fd, buf, (size_t)n) < 0)
		_exit(5);
}

/* errno of open(@dev, O_RDONLY) from a process moved into @cg (0: it opened). */
static int probe_open(struct ctr_cgroup *cg, const char *dev)
{
	int p[2], e = -1;
	pid_t pid;

	if (pipe(p) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		char c;
		int fd;

		close(p[1]);
		if (read(p[0], &c, 1) != 1) /* wait until moved */
			_exit(100);
		fd = open(dev, O_RDONLY | O_NONBLOCK);
		_exit(fd >= 0 ? 0 : errno);
	}
	close(p[0]);
	if (ctr_cgroup_enter(cg, pid, NULL) == 0 && write(p[1], "x", 1) == 1) {
		int st = 0;

		waitpid(pid, &st, 0);
		e = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	} else {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close(p[1]);
	return e;
}

/* Pure v1 view: cgroup2 hidden in a private mount namespace. */
static void v1_child(int out)
{
	cleanup_free char *path = xasprintf("/%s-v1/c", prefix);
	cleanup_free char *top = xasprintf("/sys/fs/cgroup/memory/%s-v1", prefix);
	struct cabin_err *err = NULL;
	struct ctr_cgroup *cg = NULL;
	json_t *res;
	int ret;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    umount2("/sys/fs/cgroup/unified", MNT_DETACH) < 0) {
		report(out, 0, "set up a cgroup v1-only view: %s", strerror(errno));
		_exit(0);
	}
	cg_mode_reset();
	report(out, ctr_cgroup_host_mode() == CTR_CGROUP_V1, "mode is v1 in the private view");
	res = J("{\"unified\":{\"memory.high\":\"1000000\"}}");
	ret = ctr_cgroup_create(path, "c", res, 0, &cg, &err);
	json_decref(res);
	report(out,
	       ret < 0 && strstr(cabin_err_msg(err), "linux.resources.unified") && !exists(top),
	       "v1: unified keys are an error, nothing left: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	res = J("{\"memory\":{\"limit\":33554432},\"pids\":{\"limit\":7}}");
	ret = ctr_cgroup_create(path, "c", res, 0, &cg, &err);
	json_decref(res);
	{
		cleanup_free char *m = rd("%s/c/memory.limit_in_bytes", top);
		cleanup_free char *s = cg ? ctr_cgroup_to_string(cg) : xstrdup("");

		report(out, ret == 0 && !strcmp(m, "33554432") && !strstr(s, "\"v2\":true"),
		       "v1: limits applied, no cgroup2 directory: %s %s", m, cabin_err_msg(err));
	}
	cabin_err_release(&err);
	ret = cg ? ctr_cgroup_destroy(cg, &err) : -1;
	report(out, ret == 0 && !exists(top), "v1: destroy: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	ctr_cgroup_free(cg);
	_exit(0);
}

static void v2_child(int out)
{
	volatile unsigned long *ctr =
		mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cleanup_free char *path = xasprintf("/%s-v2/c", prefix);
	cleanup_free char *dir = xasprintf("/sys/fs/cgroup%s", path);
	cleanup_free char *top = xasprintf("/sys/fs/cgroup/%s-v2", prefix);
	cleanup_free char *root_sc = NULL;
	struct cabin_err *err = NULL;
	struct ctr_cgroup *cg = NULL;
	unsigned long a, b;
	json_t *res;
	pid_t pid;
	int ret, st = 0;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    umount2("/sys/fs/cgroup", MNT_DETACH) < 0 ||
	    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0) {
		report(out, 0, "set up a cgroup2-only view: %s", strerror(errno));
		_exit(0);
	}
	root_sc = rd("/sys/fs/cgroup/cgroup.subtree_control");
	cg_mode_reset();
	report(out, ctr_cgroup_host_mode() == CTR_CGROUP_V2, "mode is v2 in the private view");

	/* this host's v2 has no memory controller: the error names the field and file */
	res = J("{\"memory\":{\"limit\":67108864}}");
	ret = ctr_cgroup_create(path, "c", res, 0, &cg, &err);
	json_decref(res);
	report(out,
	       ret < 0 && strstr(cabin_err_msg(err), "linux.resources.memory.limit") &&
		       strstr(cabin_err_msg(err), "memory.max") && !exists(top),
	       "v2: missing controller names field and file, nothing left: %s", cabin_err_msg(err));
	cabin_err_release(&err);

	pid = spawn_counter(ctr);
	if (host_hugepages(hsmall, hlarge, sizeof(hsmall))) {
		cleanup_free char *rj = xasprintf(
			"{\"hugepageLimits\":[{\"pageSize\":\"%s\",\"limit\":0}],\"unified\":"
			"{\"hugetlb.%s.max\":\"0\"}}",
			hsmall, hlarge);

		res = J(rj);
	} else {
		res = J("{}");
	}
	ret = ctr_cgroup_create(path, "c", res, pid, &cg, &err);
	json_decref(res);
	report(out, ret == 0, "v2: create with hugetlb limits via subtree_control: %s",
	       cabin_err_msg(err));
	cabin_err_release(&err);
	if (ret < 0) {
		kill(pid, SIGKILL);
		_exit(0);
	}
	{
		cleanup_free char *h =
			*hsmall ? rd("%s/hugetlb.%s.max", dir, hsmall) : xstrdup("0");
		cleanup_free char *sc =
			rd("/sys/fs/cgroup/%s-v2/%s", prefix, "cgroup.subtree_control");
		cleanup_free char *pr = rd("%s/%s", dir, "cgroup.procs");
		char want[16];

		snprintf(want, sizeof(want), "%d", (int)pid);
		report(out, !strcmp(h, "0"), "v2: hugetlb.%s.max = %s", hsmall, h);
		report(out, !*hsmall || strstr(sc, "hugetlb") != NULL,
		       "v2: parent subtree_control = %s", sc);
		report(out, !strcmp(pr, want), "v2: child in cgroup.procs (%s)", pr);
	}
	ret = ctr_cgroup_freeze(cg, 1, &err);
	a = *ctr;
	msleep(100);
	b = *ctr;
	report(out, ret == 0 && a == b && ctr_cgroup_is_frozen(cg) == 1,
	       "v2: cgroup.freeze stops the child: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	ret = ctr_cgroup_freeze(cg, 0, &err);
	msleep(50);
	report(out, ret == 0 && *ctr != b && ctr_cgroup_is_frozen(cg) == 0, "v2: thaw: %s",
	       cabin_err_msg(err));
	cabin_err_release(&err);
	/* devices on v2: an eBPF program from the rules plus the defaults, replaced on update */
	res = J("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]}");
	ret = ctr_cgroup_update(cg, res, &err);
	json_decref(res);
	report(out,
	       ret == 0 && probe_open(cg, "/dev/kmsg") == EPERM && probe_open(cg, "/dev/null") == 0,
	       "v2: deny-all rules: /dev/kmsg denied, default /dev/null allowed: %s",
	       cabin_err_msg(err));
	cabin_err_release(&err);
	res = J("{\"devices\":[{\"allow\":false,\"access\":\"rwm\"},{\"allow\":true,"
		"\"type\":\"c\",\"major\":1,\"minor\":11,\"access\":\"r\"}]}");
	ret = ctr_cgroup_update(cg, res, &err);
	json_decref(res);
	report(out, ret == 0 && probe_open(cg, "/dev/kmsg") == 0,
	       "v2: updated rules replace the program: /dev/kmsg readable: %s", cabin_err_msg(err));
	cabin_err_release(&err);

	ret = ctr_cgroup_kill_all(cg, SIGKILL, &err);
	waitpid(pid, &st, 0);
	report(out, ret == 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
	       "v2: kill_all via cgroup.kill: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	ret = ctr_cgroup_destroy(cg, &err);
	report(out, ret == 0 && !exists(top), "v2: destroy removes `%s`: %s", top,
	       cabin_err_msg(err));
	cabin_err_release(&err);
	ctr_cgroup_free(cg);
	/* leave the host's root cgroup as it was */
	if (!strstr(root_sc, "hugetlb"))
		cg_write("/sys/fs/cgroup", "cgroup.subtree_control", "-hugetlb", NULL, NULL);
	_exit(0);
}

static void in_view(void (*fn)(int))
{
	cleanup_fclose FILE *f = NULL;
	char line[600];
	int p[2], st;
	pid_t pid;

	if (pipe(p) < 0)
		abort();
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		fn(p[1]);
		_exit(0);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		tap_ok(line[0] == '1', "%s", line + 2);
	}
	waitpid(pid, &st, 0);
}

static void test_pure_v1(void)
{
	struct statfs sfs;
	cleanup_free char *top = xasprintf("/sys/fs/cgroup/memory/%s-v1", prefix);

	if (statfs("/sys/fs/cgroup/unified", &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
		tap_skip("no /sys/fs/cgroup/unified to hide");
		return;
	}
	in_view(v1_child);
	tap_ok(!exists(top), "nothing left of the v1 view");
}

static void test_pure_v2(void)
{
	in_view(v2_child);
}

/* Containers of the default path created and removed concurrently, under one parent. */
static void test_concurrent(void)
{
	pid_t pids[4];
	int i, bad = 0, st;

	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int k;

			for (k = 0; k < 25; k++) {
				cleanup_free char *id = xasprintf("%s-par-c%d", prefix, i);
				struct cabin_err *err = NULL;
				struct ctr_cgroup *cg = NULL;

				if (ctr_cgroup_create(NULL, id, NULL, 0, &cg, &err) < 0) {
					fprintf(stderr, "create: %s\n", cabin_err_msg(err));
					_exit(1);
				}
				if (ctr_cgroup_destroy(cg, &err) < 0) {
					fprintf(stderr, "destroy: %s\n", cabin_err_msg(err));
					_exit(1);
				}
				ctr_cgroup_free(cg);
			}
			_exit(0);
		}
	}
	for (i = 0; i < 4; i++) {
		waitpid(pids[i], &st, 0);
		bad += !WIFEXITED(st) || WEXITSTATUS(st);
	}
	{
		cleanup_free char *own = rd("/proc/self/%s", "cgroup");
		char *mem = strstr(own, ":memory:"), *nl;
		int left = 0;

		mem = mem ? mem + 8 : (char *)"/";
		nl = strchr(mem, '\n');
		if (nl)
			*nl = '\0';
		for (i = 0; i < 4; i++) {
			cleanup_free char *leaf = xasprintf("/sys/fs/cgroup/memory%s/%s-par-c%d",
							    strcmp(mem, "/") ? mem : "", prefix, i);

			left += exists(leaf);
		}
		tap_ok(bad == 0 && left == 0,
		       "4 x 25 concurrent create/destroy under one parent: %d failed, %d left", bad,
		       left);
	}
}

/* Without privilege: no limits -> runs without own cgroups; limits -> an error. */
static void test_unprivileged(void)
{
	int p[2], st = 0;
	char res[2] = "??";
	pid_t pid;

	if (pipe(p) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		cleanup_free char *id = xasprintf("%s-unpriv", prefix);
		struct cabin_err *err = NULL;
		struct ctr_cgroup *cg = NULL;
		json_t *lim = J("{\"pids\":{\"limit\":10}}"),
		       *none = J("{\"devices\":[{\"allow\":true,\"type\":\"c\",\"major\":1,"
				 "\"minor\":3}],\"memory\":{}}");

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(1);
		res[0] = ctr_cgroup_create(NULL, id, none, 0, &cg, &err) == 0 ? 'y' : 'n';
		if (cg)
			ctr_cgroup_destroy(cg, NULL);
		cabin_err_release(&err);
		res[1] = ctr_cgroup_create(NULL, id, lim, 0, &cg, &err) < 0 &&
					 strstr(cabin_err_msg(err), "Permission denied")
				 ? 'y'
				 : 'n';
		if (write(p[1], res, 2) != 2)
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], res, 2) != 2)
		res[0] = res[1] = '?';
	close(p[0]);
	waitpid(pid, &st, 0);
	tap_ok(res[0] == 'y',
	       "unprivileged, no limits (device rules only): create succeeds without cgroups (%c)",
	       res[0]);
	tap_ok(res[1] == 'y', "unprivileged with limits: create fails (%c)", res[1]);
}

int main(void)
{
	struct statfs sfs;

	snprintf(prefix, sizeof(prefix), "cabin-test-res-%d", (int)getpid());
	if (geteuid() != 0) {
		printf("1..0 # SKIP needs root\n");
		return 0;
	}
	tap_diag("host cgroup mode: %d (0 v1, 1 v2, 2 hybrid)", ctr_cgroup_host_mode());
	test_validate();
	if (ctr_cgroup_host_mode() != CTR_CGROUP_V2)
		test_v1_cycle();
	test_default_path();
	test_rollback();
	if (statfs("/sys/fs/cgroup/unified", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
		test_v2_devices("/sys/fs/cgroup/unified");
	else if (statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
		test_v2_devices("/sys/fs/cgroup");
	test_pure_v2();
	if (ctr_cgroup_host_mode() == CTR_CGROUP_HYBRID)
		test_pure_v1();
	test_unprivileged();
	if (ctr_cgroup_host_mode() != CTR_CGROUP_V2)
		test_concurrent();
	tap_plan(tap_n);
	return tap_done();
}
