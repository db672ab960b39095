/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.seccomp: profiles compiled in the parent, loaded in a forked child that reports
 * what its syscalls returned; KILL actions checked through the wait status; NOTIFY
 * through a listener fd that answers the child's syscall; the listener socket protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr/seccomp.h"
#include "lib/error.h"
#include "unit/tap.h"

static json_t *J(const char *s)
{
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);

	if (!j) {
		fprintf(stderr, "bad json %s: %s\n", je.text, s);
		abort();
	}
	return j;
}

static struct ctr_seccomp *prep(const char *js)
{
	struct cabin_err *err = NULL;
	struct ctr_seccomp *sc = NULL;
	json_t *j = J(js);

	if (ctr_seccomp_prepare(j, &sc, &err) < 0) {
		tap_diag("prepare: %s", cabin_err_msg(err));
		cabin_err_release(&err);
	}
	json_decref(j);
	return sc;
}

static void bad(const char *js, const char *want, const char *what)
{
	struct cabin_err *err = NULL;
	struct ctr_seccomp *sc = NULL;
	json_t *j = J(js);
	int ret = ctr_seccomp_prepare(j, &sc, &err);

	tap_ok(ret < 0 && strstr(cabin_err_msg(err), want), "%s: %s", what, cabin_err_msg(err));
	cabin_err_release(&err);
	ctr_seccomp_free(sc);
	json_decref(j);
}

/* The child loads @sc, runs @probe, and sends back its int result (errno or value). */
static int run(struct ctr_seccomp *sc, long (*probe)(void), long *res, int *status)
{
	int p[2];
	pid_t pid;

	if (pipe(p) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		struct cabin_err *err = NULL;
		int nfd;
		long r;

		close(p[0]);
		if (ctr_seccomp_apply(sc, &nfd, &err) < 0)
			_exit(100);
		r = probe();
		if (write(p[1], &r, sizeof(r)) != sizeof(r))
			_exit(101);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], res, sizeof(*res)) != sizeof(*res))
		*res = -99999;
	close(p[0]);
	waitpid(pid, status, 0);
	return 0;
}

static long probe_getcwd(void)
{
	char buf[256];

	return syscall(SYS_getcwd, buf, sizeof(buf)) < 0 ? -errno : 0;
}

static long probe_dup(void)
{
	long a = syscall(SYS_dup, 1000) < 0 ? errno : 0; /* matches arg filter */
	long b = syscall(SYS_dup, 0) >= 0 ? 1 : 0;	 /* does not */

	return a * 10 + b;
}

static long probe_masked(void)
{
	/* personality(0x0800xxxx): the MASKED_EQ rule on 0xffff0000 == 0x08000000 */
	long a = syscall(SYS_personality, 0x08000001UL) < 0 ? errno : 0;
	long b = syscall(SYS_personality, 0xffffffffUL) >= 0 ? 1 : 0;

	return a * 10 + b;
}

static void test_notify(void)
{
	struct ctr_seccomp *sc =
		prep("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/nonexistent.sock\","
		     "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}");
	int p[2], st = 0;
	long res[2] = { -1, -1 };
	pid_t pid;

	tap_ok(sc && ctr_seccomp_uses_notify(sc), "NOTIFY profile prepared");
	if (!sc || pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct seccomp_notif *req = NULL;
		struct seccomp_notif_resp *resp = NULL;
		struct cabin_err *err = NULL;
		int nfd = -1, gst = 0;
		pid_t g;

		close(p[0]);
		if (ctr_seccomp_apply(sc, &nfd, &err) < 0)
			_exit(100);
		res[0] = nfd;
		g = fork();
		if (g == 0)
			_exit(syscall(SYS_getppid) == 4242 ? 0 : 1);
		/* answer the grandchild's getppid() through the listener */
		if (seccomp_notify_alloc(&req, &resp) == 0 &&
		    seccomp_notify_receive(nfd, req) == 0) {
			resp->id = req->id;
			resp->val = 4242;
			resp->error = 0;
			resp->flags = 0;
			seccomp_notify_respond(nfd, resp);
		}
		waitpid(g, &gst, 0);
		res[1] = WIFEXITED(gst) ? WEXITSTATUS(gst) : 99;
		if (write(p[1], res, sizeof(res)) != sizeof(res))
			_exit(101);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], res, sizeof(res)) != sizeof(res))
		res[0] = res[1] = -2;
	close(p[0]);
	waitpid(pid, &st, 0);
	tap_ok(res[0] >= 0, "apply returns a listener fd (%ld)", res[0]);
	tap_ok(res[1] == 0, "listener answers a notified syscall (getppid -> 4242): %ld", res[1]);
	ctr_seccomp_free(sc);
}

static void test_listener(void)
{
	char path[108], buf[4096] = "", cbuf[CMSG_SPACE(sizeof(int))];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct cabin_err *err = NULL;
	struct ctr_seccomp *sc;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	json_t *state, *msg;
	int ls, cs, efd, got = -1, ret;
	char js[512];
	pid_t pid;

	snprintf(path, sizeof(path), "/tmp/cabin-test-res-%d.sock", (int)getpid());
	snprintf(js, sizeof(js),
		 "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"%s\","
		 "\"listenerMetadata\":\"meta-1\",\"syscalls\":[{\"names\":[\"getppid\"],"
		 "\"action\":\"SCMP_ACT_NOTIFY\"}]}",
		 path);
	sc = prep(js);
	tap_ok(sc && !strcmp(ctr_seccomp_listener_path(sc) ?: "", path), "listenerPath kept");
	if (!sc)
		return;
	unlink(path);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	ls = socket(AF_UNIX, SOCK_STREAM, 0);
	if (bind(ls, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(ls, 1) < 0)
		abort();
	efd = eventfd(0, EFD_CLOEXEC);
	state = J("{\"ociVersion\":\"1.2.0\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":123,"
		  "\"bundle\":\"/b\"}");
	pid = fork();
	if (pid == 0)
		_exit(ctr_seccomp_send_listener(sc, efd, state, 0, NULL) < 0);
	cs = accept(ls, NULL, NULL);
	ret = (int)recvmsg(cs, &mh, 0);
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_RIGHTS)
		memcpy(&got, CMSG_DATA(cm), sizeof(int));
	waitpid(pid, NULL, 0);
	msg = ret > 0 ? json_loads(buf, 0, NULL) : NULL;
	tap_ok(msg &&
		       !strcmp(json_string_value(json_array_get(json_object_get(msg, "fds"), 0))
				       ?: "",
			       "seccompFd") &&
		       !strcmp(json_string_value(json_object_get(msg, "metadata")) ?: "",
			       "meta-1") &&
		       json_integer_value(json_object_get(msg, "pid")) == 123 &&
		       !strcmp(json_string_value(
				       json_object_get(json_object_get(msg, "state"), "id"))
				       ?: "",
			       "c1"),
	       "listener gets the containerProcessState: %s", buf);
	tap_ok(got >= 0, "listener gets the fd over SCM_RIGHTS (%d)", got);
	json_decref(msg);
	json_decref(state);
	cabin_err_release(&err);
	close(cs);
	close(ls);
	close(efd);
	if (got >= 0)
		close(got);
	unlink(path);
	ctr_seccomp_free(sc);
}

/* Without CAP_SYS_ADMIN: an error that explains no_new_privs; with it set: loads. */
static void test_nnp(void)
{
	struct ctr_seccomp *sc = prep("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{"
				      "\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\"}]}");
	char msg[256] = "";
	int p[2], st;
	pid_t pid;

	if (!sc || pipe(p) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		struct cabin_err *err = NULL;
		cap_value_t v = CAP_SYS_ADMIN;
		cap_t c = cap_get_proc();
		char buf[256] = "";
		int nfd;

		cap_set_flag(c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
		if (cap_set_proc(c) < 0)
			_exit(1);
		if (ctr_seccomp_apply(sc, &nfd, &err) < 0)
			snprintf(buf, sizeof(buf), "1%s", cabin_err_msg(err));
		cabin_err_release(&err);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (ctr_seccomp_apply(sc, &nfd, &err) == 0 && probe_getcwd() == -EPERM)
			buf[0] = buf[0] ? '2' : '3';
		if (write(p[1], buf, sizeof(buf)) < 0)
			_exit(2);
		_exit(0);
	}
	close(p[1]);
	if (read(p[0], msg, sizeof(msg)) <= 0)
		msg[0] = '\0';
	close(p[0]);
	waitpid(pid, &st, 0);
	tap_ok(msg[0] == '2' && strstr(msg, "noNewPrivileges"),
	       "without CAP_SYS_ADMIN and no_new_privs: clear error, with no_new_privs: loads (%s)",
	       msg);
	ctr_seccomp_free(sc);
}

int main(void)
{
	struct ctr_seccomp *sc;
	long r = 0;
	int st = 0;

	bad("{\"defaultAction\":\"SCMP_ACT_BOGUS\"}", "unknown action `SCMP_ACT_BOGUS`",
	    "unknown default action");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getcwd\"],"
	    "\"action\":\"SCMP_ACT_NOPE\"}]}",
	    "linux.seccomp.syscalls[0]: unknown action `SCMP_ACT_NOPE`", "unknown rule action");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}",
	    "unknown architecture `SCMP_ARCH_VAX`", "unknown arch");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_NOPE\"]}",
	    "unknown flag `SECCOMP_FILTER_FLAG_NOPE`", "unknown flag");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"dup\"],\"action\":"
	    "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_XX\"}]}]}",
	    "unknown operator `SCMP_CMP_XX`", "unknown op");
	bad("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "cannot be the default", "NOTIFY default");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"\",\"syscalls\":[{"
	    "\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
	    "linux.seccomp.listenerPath: SCMP_ACT_NOTIFY needs a listener",
	    "NOTIFY, no listenerPath");
	bad("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/l.sock\",\"syscalls\":[{"
	    "\"names\":[\"sendmsg\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
	    "SCMP_ACT_NOTIFY cannot be used for the sendmsg syscall", "NOTIFY on sendmsg");

	sc = prep("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\","
		  "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\"],"
		  "\"syscalls\":[{\"names\":[\"getcwd\",\"no_such_syscall_xyz\"],\"action\":"
		  "\"SCMP_ACT_ERRNO\"}]}");
	tap_ok(sc != NULL, "unknown syscall names are skipped, arches and LOG flag accepted");
	run(sc, probe_getcwd, &r, &st);
	tap_ok(r == -EPERM, "ERRNO without errnoRet gives EPERM (%ld)", r);
	ctr_seccomp_free(sc);

	sc = prep("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getcwd\"],"
		  "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":42}]}");
	run(sc, probe_getcwd, &r, &st);
	tap_ok(r == -42, "errnoRet 42 is returned (%ld)", r);
	ctr_seccomp_free(sc);

	sc = prep("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":5,\"syscalls\":[{"
		  "\"names\":[\"write\",\"exit_group\",\"exit\",\"rt_sigreturn\",\"sigaltstack\","
		  "\"mmap\",\"munmap\",\"rt_sigprocmask\"],\"action\":"
		  "\"SCMP_ACT_ALLOW\"}]}");
	run(sc, probe_getcwd, &r, &st);
	tap_ok(r == -EIO, "defaultErrnoRet 5 (EIO) for what is not allowed (%ld)", r);
	ctr_seccomp_free(sc);

	sc = prep("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getcwd\"],"
		  "\"action\":\"SCMP_ACT_KILL\"}]}");
	run(sc, probe_getcwd, &r, &st);
	tap_ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "KILL: child dies of SIGSYS (%#x)", st);
	ctr_seccomp_free(sc);

	sc = prep("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getcwd\"],"
		  "\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}");
	run(sc, probe_getcwd, &r, &st);
	tap_ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "KILL_PROCESS: SIGSYS (%#x)", st);
	ctr_seccomp_free(sc);

	sc = prep("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"dup\"],"
		  "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,\"args\":[{\"index\":0,\"value\":"
		  "1000,\"op\":\"SCMP_CMP_EQ\"}]}]}");
	run(sc, probe_dup, &r, &st);
	tap_ok(r == 381, "arg filter: dup(1000) ENOSYS, dup(0) allowed (%ld)", r);
	ctr_seccomp_free(sc);

	sc = prep(
		"{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"personality\"],"
		"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,\"args\":[{\"index\":0,\"value\":"
		"4294901760,\"valueTwo\":134217728,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}");
	run(sc, probe_masked, &r, &st);
	tap_ok(r == 131, "MASKED_EQ arg filter with valueTwo (%ld)", r);
	ctr_seccomp_free(sc);

	/* the same index twice: each condition is its own rule (OR), as runc does */
	sc = prep("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"dup\"],"
		  "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38,\"args\":[{\"index\":0,\"value\":"
		  "1000,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":1001,\"op\":\"SCMP_CMP_EQ\"}"
		  "]}]}");
	run(sc, probe_dup, &r, &st);
	tap_ok(r == 381, "repeated arg index becomes OR (%ld)", r);
	ctr_seccomp_free(sc);

	test_notify();
	test_listener();
	test_nnp();
	tap_plan(tap_n);
	return tap_done();
}
