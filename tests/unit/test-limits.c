/* SPDX-License-Identifier: GPL-2.0-or-later */
/* process.rlimits, linux.sysctl, linux.personality, process.ioPriority, oomScoreAdj. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr/limits.h"
#include "lib/error.h"
#include "unit/tap.h"

static json_t *J(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);

	if (!j)
		abort();
	return j;
}

typedef int (*validate_fn)(json_t *, struct cabin_err **);

static void bad(validate_fn fn, const char *js, const char *want, const char *what)
{
	struct cabin_err *err = NULL;
	json_t *j = J(js);
	int ret = fn(j, &err);

	tap_ok(ret < 0 && strstr(cabin_err_msg(err), want), "%s: %s", what, cabin_err_msg(err));
	cabin_err_release(&err);
	json_decref(j);
}

/* Run @fn in a child; it writes a one-line result to the pipe. */
static void in_child(void (*fn)(int), char *out, size_t len)
{
	int p[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe(p) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		fn(p[1]);
		_exit(0);
	}
	close(p[1]);
	n = read(p[0], out, len - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
}

static void say(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) < 0)
		_exit(1);
}

static void child_rlimit(int fd)
{
	struct cabin_err *err = NULL;
	json_t *j = J("[{\"type\":\"RLIMIT_NOFILE\",\"soft\":256,\"hard\":512},"
		      "{\"type\":\"RLIMIT_CORE\",\"soft\":0,\"hard\":0}]");
	struct rlimit a, b;
	char buf[128];

	if (ctr_rlimits_apply(j, &err) < 0) {
		say(fd, cabin_err_msg(err));
		return;
	}
	getrlimit(RLIMIT_NOFILE, &a);
	getrlimit(RLIMIT_CORE, &b);
	snprintf(buf, sizeof(buf), "%llu %llu %llu %llu", (unsigned long long)a.rlim_cur,
		 (unsigned long long)a.rlim_max, (unsigned long long)b.rlim_cur,
		 (unsigned long long)b.rlim_max);
	say(fd, buf);
}

static void child_sysctl(int fd)
{
	struct cabin_err *err = NULL;
	json_t *j = J("{\"kernel.shmmni\":\"1234\",\"kernel.hostname\":\"cabin-sysctl\"}");
	char buf[128], host[64] = "";
	FILE *f;
	int v = 0;

	if (unshare(CLONE_NEWIPC | CLONE_NEWUTS) < 0) {
		say(fd, "unshare failed");
		return;
	}
	if (ctr_sysctl_apply(j, &err) < 0) {
		say(fd, cabin_err_msg(err));
		return;
	}
	f = fopen("/proc/sys/kernel/shmmni", "r");
	if (f && fscanf(f, "%d", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	gethostname(host, sizeof(host));
	snprintf(buf, sizeof(buf), "%d %s", v, host);
	say(fd, buf);
}

static void child_pers_ioprio(int fd)
{
	struct cabin_err *err = NULL;
	json_t *p = J("{\"domain\":\"LINUX32\",\"flags\":[\"ADDR_NO_RANDOMIZE\"]}");
	json_t *io = J("{\"class\":\"IOPRIO_CLASS_IDLE\",\"priority\":0}");
	char buf[128];
	int pers, prio;

	if (ctr_personality_apply(p, &err) < 0 || ctr_ioprio_apply(io, &err) < 0) {
		say(fd, cabin_err_msg(err));
		return;
	}
	pers = personality(0xffffffff);
	prio = (int)syscall(SYS_ioprio_get, 1, 0);
	snprintf(buf, sizeof(buf), "%#x %#x", pers, prio);
	say(fd, buf);
}

int main(void)
{
	struct cabin_err *err = NULL;
	struct rlimit ml;
	char out[256], want[64];
	json_t *j, *ns;
	int ret;

	bad(ctr_rlimits_validate, "[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]",
	    "unknown type `RLIMIT_BOGUS`", "unknown rlimit named");
	bad(ctr_rlimits_validate, "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":5}]",
	    "`RLIMIT_NOFILE` soft `10` is above hard `5`", "soft above hard");
	bad(ctr_rlimits_validate, "[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1}]",
	    "process.rlimits[0].hard", "missing hard");
	getrlimit(RLIMIT_MEMLOCK, &ml);
	if (ml.rlim_max != RLIM_INFINITY) {
		char js[160];

		snprintf(js, sizeof(js), "[{\"type\":\"RLIMIT_MEMLOCK\",\"soft\":1,\"hard\":%llu}]",
			 (unsigned long long)ml.rlim_max * 2);
		/* only an error without CAP_SYS_RESOURCE, as on hosts that drop it */
		j = J(js);
		ret = ctr_rlimits_validate(j, &err);
		json_decref(j);
		{
			FILE *f = fopen("/proc/self/status", "r");
			char line[256];
			unsigned long long eff = 0;

			while (f && fgets(line, sizeof(line), f))
				if (!strncmp(line, "CapEff:", 7))
					eff = strtoull(line + 7, NULL, 16);
			if (f)
				fclose(f);
			if (eff & (1ULL << 24))
				tap_ok(ret == 0,
				       "raising a hard limit is fine with CAP_SYS_RESOURCE");
			else
				tap_ok(ret < 0 && strstr(cabin_err_msg(err), "RLIMIT_MEMLOCK") &&
					       strstr(cabin_err_msg(err), "CAP_SYS_RESOURCE"),
				       "raising a hard limit names rlimit and values: %s",
				       cabin_err_msg(err));
		}
		cabin_err_release(&err);
	} else {
		tap_skip("RLIMIT_MEMLOCK hard is unlimited here");
	}
	in_child(child_rlimit, out, sizeof(out));
	tap_ok(!strcmp(out, "256 512 0 0"), "rlimits applied and read back: %s", out);

	bad(ctr_sysctl_validate, "{\"kernel.panic\":\"1\"}", "`kernel.panic` is not namespaced",
	    "host sysctl refused");
	bad(ctr_sysctl_validate, "{\"net/../../x\":\"1\"}", "invalid name", "path in sysctl name");
	ns = J("[{\"type\":\"mount\"},{\"type\":\"ipc\"}]");
	j = J("{\"net.ipv4.ip_forward\":\"1\"}");
	ret = ctr_sysctl_validate_ns(j, ns, &err);
	tap_ok(ret < 0 && strstr(cabin_err_msg(err), "needs a `network` namespace"),
	       "net.* without a network namespace: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	json_decref(j);
	j = J("{\"kernel.shmmax\":\"1\"}");
	ret = ctr_sysctl_validate_ns(j, ns, &err);
	tap_ok(ret == 0, "kernel.shm* with an ipc namespace: %s", cabin_err_msg(err));
	cabin_err_release(&err);
	json_decref(j);
	json_decref(ns);
	if (geteuid() == 0) {
		in_child(child_sysctl, out, sizeof(out));
		tap_ok(!strcmp(out, "1234 cabin-sysctl"), "sysctl written in new ipc/uts ns: %s",
		       out);
	} else {
		tap_skip("sysctl apply needs root");
	}

	bad(ctr_personality_validate, "{\"domain\":\"BSD\"}", "unknown domain `BSD`",
	    "unknown personality");
	bad(ctr_personality_validate, "{\"domain\":\"LINUX\",\"flags\":[\"NOPE\"]}",
	    "unknown flag `NOPE`", "unknown personality flag");
	bad(ctr_ioprio_validate, "{\"class\":\"IOPRIO_CLASS_X\",\"priority\":1}",
	    "unknown class `IOPRIO_CLASS_X`", "unknown io class");
	bad(ctr_ioprio_validate, "{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":9}",
	    "`9` is not in 0..7", "io priority range");
	in_child(child_pers_ioprio, out, sizeof(out));
	snprintf(want, sizeof(want), "%#x %#x", PER_LINUX32 | ADDR_NO_RANDOMIZE, 3 << 13);
	tap_ok(!strcmp(out, want), "personality and ioprio applied: %s (want %s)", out, want);

	{
		pid_t pid = fork();
		char path[64], buf[16] = "";
		FILE *f;

		if (pid == 0) {
			pause();
			_exit(0);
		}
		j = json_integer(500);
		ret = ctr_oom_score_adj_apply(pid, j, &err);
		json_decref(j);
		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
		f = fopen(path, "r");
		if (f && !fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		if (f)
			fclose(f);
		tap_ok(ret == 0 && !strcmp(buf, "500\n"), "oomScoreAdj 500 applied: %s %s", buf,
		       cabin_err_msg(err));
		cabin_err_release(&err);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		j = json_integer(2000);
		ret = ctr_oom_score_adj_apply(pid, j, &err);
		json_decref(j);
		tap_ok(ret < 0 && strstr(cabin_err_msg(err), "process.oomScoreAdj"),
		       "oomScoreAdj out of range: %s", cabin_err_msg(err));
		cabin_err_release(&err);
	}
	tap_plan(tap_n);
	return tap_done();
}
