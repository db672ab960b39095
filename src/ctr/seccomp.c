/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linux.seccomp compiled with libseccomp. The filter is built in the runtime, before
 * fork, so that every mistake in the profile is a clean error naming it; the container
 * process only loads it. Syscall names libseccomp does not know for the architecture are
 * skipped (as runc and crun do: profiles list syscalls of newer kernels), everything else
 * unknown (actions, operators, architectures, flags) is an error.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <seccomp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctr/seccomp.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fd-pass.h"
#include "lib/log.h"
#include "lib/util.h"
#include "lib/xalloc.h"

struct ctr_seccomp {
	scmp_filter_ctx ctx;
	char *listener_path;
	char *listener_metadata;
	int notify;		  /* some rule uses SCMP_ACT_NOTIFY */
	unsigned int kflags;	  /* SECCOMP_FILTER_FLAG_* of linux.seccomp.flags */
	struct sock_filter *prog; /* the program that is loaded: ENOSYS stub + libseccomp's */
	size_t prog_len;
};

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
/* x32 syscalls are x86_64's AUDIT_ARCH with this bit set in the number */
#define X32_SYSCALL_BIT 0x40000000U

#define F "linux.seccomp"

/* Largest number of argument conditions per rule (syscalls have six arguments). */
#define MAX_ARGS 6

static int parse_action(const char *name, json_t *errno_ret, uint32_t dflt_errno, uint32_t *out,
			int *notify, const char *field, struct cabin_err **err)
{
	uint32_t eret = dflt_errno;

	if (errno_ret && !json_is_null(errno_ret)) {
		if (!json_is_integer(errno_ret) || json_integer_value(errno_ret) < 0 ||
		    json_integer_value(errno_ret) > 0xffff)
			return cabin_err_make(err, 0, "%s: errnoRet must be an integer in 0..65535",
					      field);
		eret = (uint32_t)json_integer_value(errno_ret);
	}
	if (!name)
		return cabin_err_make(err, 0, "%s: missing action", field);
	if (!strcmp(name, "SCMP_ACT_KILL") || !strcmp(name, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(name, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(name, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(name, "SCMP_ACT_ERRNO"))
		*out = SCMP_ACT_ERRNO(eret);
	else if (!strcmp(name, "SCMP_ACT_TRACE"))
		*out = SCMP_ACT_TRACE(eret);
	else if (!strcmp(name, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(name, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else if (!strcmp(name, "SCMP_ACT_NOTIFY")) {
		*out = SCMP_ACT_NOTIFY;
		*notify = 1;
	} else
		return cabin_err_make(err, 0, "%s: unknown action `%s`", field, name);
	return 0;
}

static int parse_op(const char *name, enum scmp_compare *op)
{
	static const struct {
		const char *name;
		enum scmp_compare op;
	} ops[] = {
		{ "SCMP_CMP_NE", SCMP_CMP_NE },
		{ "SCMP_CMP_LT", SCMP_CMP_LT },
		{ "SCMP_CMP_LE", SCMP_CMP_LE },
		{ "SCMP_CMP_EQ", SCMP_CMP_EQ },
		{ "SCMP_CMP_GE", SCMP_CMP_GE },
		{ "SCMP_CMP_GT", SCMP_CMP_GT },
		{ "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
	};
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(ops); i++)
		if (!strcmp(name, ops[i].name)) {
			*op = ops[i].op;
			return 0;
		}
	return -1;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64". */
static uint32_t parse_arch(const char *name)
{
	char low[32];
	size_t i, n;

	if (!name || strncmp(name, "SCMP_ARCH_", 10))
		return 0;
	n = strlen(name + 10);
	if (!n || n >= sizeof(low))
		return 0;
	for (i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)name[10 + i]);
	return seccomp_arch_resolve_name(low);
}

static int set_flag(struct ctr_seccomp *sc, const char *name, struct cabin_err **err)
{
	enum scmp_filter_attr attr;
	int ret;

	if (!name)
		return cabin_err_make(err, 0, F ".flags: expected strings");
	if (!strcmp(name, "SECCOMP_FILTER_FLAG_TSYNC")) {
		attr = SCMP_FLTATR_CTL_TSYNC;
		sc->kflags |= SECCOMP_FILTER_FLAG_TSYNC;
	} else if (!strcmp(name, "SECCOMP_FILTER_FLAG_LOG")) {
		attr = SCMP_FLTATR_CTL_LOG;
		sc->kflags |= SECCOMP_FILTER_FLAG_LOG;
	} else if (!strcmp(name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW")) {
		attr = SCMP_FLTATR_CTL_SSB;
		sc->kflags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
	} else if (!strcmp(name, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"))
		return cabin_err_make(
			err, 0, F ".flags: `%s` needs libseccomp 2.6 (this build has %d.%d.%d)",
			name, SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
	else
		return cabin_err_make(err, 0, F ".flags: unknown flag `%s`", name);
	/* libseccomp checks that the kernel has the flag; the load itself is ours */
	ret = seccomp_attr_set(sc->ctx, attr, 1);
	if (ret < 0)
		return cabin_err_make(err, -ret, F ".flags: `%s` is not supported here", name);
	return 0;
}

/*
 * One runtime-spec syscall entry. libseccomp cannot AND two conditions on the same
 * argument, so an entry that repeats an index becomes one rule per condition (OR), as
 * runc does; the profiles in the wild (docker's clone/personality rules) rely on that.
 */
static int add_syscalls(struct ctr_seccomp *sc, json_t *entry, size_t idx, uint32_t dflt,
			struct cabin_err **err)
{
	json_t *names = json_object_get(entry, "names"), *args = json_object_get(entry, "args"), *n,
	       *a;
	struct scmp_arg_cmp cmp[MAX_ARGS];
	char field[64];
	uint32_t act;
	size_t i, ncmp = 0;
	int ret, dup_index = 0, seen[MAX_ARGS] = { 0 };

	snprintf(field, sizeof(field), F ".syscalls[%zu]", idx);
	if (!json_is_object(entry))
		return cabin_err_make(err, 0, "%s: expected an object", field);
	ret = parse_action(json_string_value(json_object_get(entry, "action")),
			   json_object_get(entry, "errnoRet"), EPERM, &act, &sc->notify, field,
			   err);
	if (ret < 0)
		return ret;
	if (!json_is_array(names))
		return cabin_err_make(err, 0, "%s.names: expected an array", field);
	if (args && !json_is_array(args))
		return cabin_err_make(err, 0, "%s.args: expected an array", field);
	if (json_array_size(args) > MAX_ARGS)
		return cabin_err_make(err, 0, "%s.args: more than %d conditions", field, MAX_ARGS);
	json_array_foreach(args, i, a)
	{
		json_t *ix = json_object_get(a, "index"), *v = json_object_get(a, "value"),
		       *v2 = json_object_get(a, "valueTwo");
		enum scmp_compare op;

		if (!json_is_integer(ix) || json_integer_value(ix) < 0 ||
		    json_integer_value(ix) >= MAX_ARGS)
			return cabin_err_make(err, 0, "%s.args[%zu].index: must be 0..5", field, i);
		if (parse_op(json_string_value(json_object_get(a, "op")), &op) < 0)
			return cabin_err_make(err, 0, "%s.args[%zu].op: unknown operator `%s`",
					      field, i,
					      json_string_value(json_object_get(a, "op")) ?: "");
		if (!json_is_integer(v) || (v2 && !json_is_null(v2) && !json_is_integer(v2)))
			return cabin_err_make(err, 0, "%s.args[%zu]: value must be an integer",
					      field, i);
		cmp[ncmp].arg = (unsigned int)json_integer_value(ix);
		cmp[ncmp].op = op;
		/* jansson integers are signed: the uint64 bit pattern is kept as is. */
		cmp[ncmp].datum_a = (scmp_datum_t)json_integer_value(v);
		cmp[ncmp].datum_b = json_is_integer(v2) ? (scmp_datum_t)json_integer_value(v2) : 0;
		if (seen[cmp[ncmp].arg]++)
			dup_index = 1;
		ncmp++;
	}
	json_array_foreach(names, i, n)
	{
		const char *name = json_string_value(n);
		int nr;

		if (!name)
			return cabin_err_make(err, 0, "%s.names[%zu]: expected a string", field, i);
		nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR) {
			log_debug("seccomp: syscall `%s` unknown to libseccomp, skipped", name);
			continue;
		}
		/*
		 * The process blocked in write(2) could be the one that should answer the
		 * notification: the runtime's own sync messages, a log, the listener's
		 * agent. runc refuses it for that reason.
		 */
		if (act == SCMP_ACT_NOTIFY && !strcmp(name, "write"))
			return cabin_err_make(
				err, 0,
				"%s: SCMP_ACT_NOTIFY cannot be used for the write "
				"syscall (it could deadlock the runtime and the listener)",
				field);
		/*
		 * The notify fd itself travels to the runtime with sendmsg(2) (SCM_RIGHTS),
		 * after the filter is loaded: a notified sendmsg would wait for an answer
		 * from a listener that can only get the fd through that very call, and the
		 * container would hang in create or exec. (runc fetches the fd with
		 * pidfd_getfd(2) instead, so it only has write(2) to refuse.)
		 */
		if (act == SCMP_ACT_NOTIFY && !strcmp(name, "sendmsg"))
			return cabin_err_make(err, 0,
					      "%s: SCMP_ACT_NOTIFY cannot be used for the sendmsg "
					      "syscall (the notify fd is handed over with it)",
					      field);
		if (act == dflt)
			continue; /* libseccomp refuses rules that repeat the default action */
		if (dup_index) {
			size_t k;

			for (k = 0; k < ncmp; k++) {
				ret = seccomp_rule_add_array(sc->ctx, act, nr, 1, &cmp[k]);
				if (ret < 0)
					return cabin_err_make(err, -ret, "%s: add rule for `%s`",
							      field, name);
			}
			continue;
		}
		ret = seccomp_rule_add_array(sc->ctx, act, nr, (unsigned int)ncmp, cmp);
		if (ret < 0)
			return cabin_err_make(err, -ret, "%s: add rule for `%s`", field, name);
	}
	return 0;
}

/* One AUDIT_ARCH of the filter and the highest syscall number the profile names there. */
struct stub_arch {
	uint32_t audit;
	uint32_t max;	  /* x86_64: the 64-bit ABI's; others: the only one */
	uint32_t max_x32; /* x86_64 only: the x32 ABI's (numbers carry X32_SYSCALL_BIT) */
	int has, has_x32;
	int s390;
};

/* The highest number any name of linux.seccomp.syscalls has on @arch (0: none known). */
static uint32_t last_syscall(json_t *syscalls, uint32_t arch)
{
	json_t *e, *n;
	size_t i, j;
	uint32_t max = 0;

	json_array_foreach(syscalls, i, e)
	{
		json_array_foreach(json_object_get(e, "names"), j, n)
		{
			int nr;

			if (!json_is_string(n))
				continue;
			/* negative: a pseudo-syscall (x86's multiplexed socketcall ones) */
			nr = seccomp_syscall_resolve_name_arch(arch, json_string_value(n));
			if (nr > 0 && (uint32_t)nr > max)
				max = (uint32_t)nr;
		}
	}
	return max;
}

struct bpf_prog {
	struct sock_filter *insn;
	size_t n, cap;
};

static size_t emit(struct bpf_prog *p, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->insn = xrealloc(p->insn, p->cap * sizeof(*p->insn));
	}
	p->insn[p->n] = (struct sock_filter){ code, jt, jf, k };
	return p->n++;
}

/* "> @max: ENOSYS, else the profile's filter": three instructions, ja patched later. */
static void emit_gt_enosys(struct bpf_prog *p, uint32_t max, size_t *to_filter, size_t *nj)
{
	emit(p, BPF_JMP | BPF_JGT | BPF_K, 0, 1, max);
	emit(p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS);
	to_filter[(*nj)++] = emit(p, BPF_JMP | BPF_JA, 0, 0, 0);
}

/*
 * A profile cannot refuse what it does not know about: a syscall newer than the
 * profile must fail with ENOSYS, as on an older kernel, so that libc falls back to the
 * old call (glibc's clone3 -> clone, statx -> fstatat, faccessat2 -> faccessat).
 * EPERM from the default action makes it give up instead. So, as runc does (its
 * patchbpf), a stub runs before libseccomp's program: per architecture of the filter, a
 * syscall numbered above the highest one the profile names for that architecture gets
 * ENOSYS; every other one goes on to the profile. Numbers below it keep the default
 * action even where the kernel has no syscall: the profile was written knowing them.
 * libseccomp (2.5) cannot express "every number above N", hence the hand-built prefix.
 */
static int build_program(struct ctr_seccomp *sc, json_t *seccomp, uint32_t dflt,
			 struct cabin_err **err)
{
	json_t *syscalls = json_object_get(seccomp, "syscalls"),
	       *archs = json_object_get(seccomp, "architectures"), *e;
	struct stub_arch arch[32];
	struct bpf_prog p = { 0 };
	cleanup_close int mfd = -1;
	size_t narch = 0, i, k, nj = 0, *to_filter = NULL, *dispatch = NULL, filter_at;
	struct stat stb;
	int ret, stub;

	/*
	 * A permissive default (allow, log, trace: a tracer handles new syscalls itself)
	 * needs no stub, nor does a default that already answers ENOSYS.
	 */
	stub = dflt != SCMP_ACT_ALLOW && dflt != SCMP_ACT_LOG &&
	       (dflt & 0xffff0000U) != SCMP_ACT_TRACE(0) && dflt != SCMP_ACT_ERRNO(ENOSYS);
	if (stub && json_array_size(archs) == 0) {
		/* no architectures listed: the filter holds the native one only */
		uint32_t t = seccomp_arch_native();

		arch[narch++] = (struct stub_arch){ .audit = t,
						    .max = last_syscall(syscalls, t),
						    .has = 1 };
	}
	json_array_foreach(stub ? archs : NULL, i, e)
	{
		uint32_t t = parse_arch(json_string_value(e)), audit, max;
		int x32;

		if (t == SCMP_ARCH_NATIVE)
			t = seccomp_arch_native();
		x32 = t == SCMP_ARCH_X32;
		/* SCMP_ARCH_X32 is libseccomp's own token: the kernel reports x86_64 */
		audit = x32 ? SCMP_ARCH_X86_64 : t;
		max = last_syscall(syscalls, t);
		if (!max)
			continue; /* nothing known there: libseccomp's program decides alone */
		for (k = 0; k < narch && arch[k].audit != audit; k++)
			;
		if (k == narch) {
			if (narch == ARRAY_SIZE(arch))
				return cabin_err_make(err, 0, F ".architectures: too many");
			arch[narch++] = (struct stub_arch){
				.audit = audit, .s390 = t == SCMP_ARCH_S390 || t == SCMP_ARCH_S390X
			};
		}
		if (x32) {
			arch[k].has_x32 = 1;
			arch[k].max_x32 = max;
		} else {
			arch[k].has = 1;
			arch[k].max = max;
		}
	}

	/* libseccomp's program, as seccomp_load() would have loaded it */
	mfd = memfd_create("cabin-seccomp", MFD_CLOEXEC);
	if (mfd < 0)
		return cabin_err_make(err, errno, F ": memfd_create");
	ret = seccomp_export_bpf(sc->ctx, mfd);
	if (ret < 0)
		return cabin_err_make(err, -ret, F ": export the filter");
	if (fstat(mfd, &stb) < 0)
		return cabin_err_make(err, errno, F ": export the filter");
	if (stb.st_size <= 0 || stb.st_size % (off_t)sizeof(struct sock_filter) ||
	    stb.st_size > BPF_MAXINSNS * (off_t)sizeof(struct sock_filter))
		return cabin_err_make(err, E2BIG, F ": the filter has %lld bytes",
				      (long long)stb.st_size);

	to_filter = xcalloc(2 * narch + 1, sizeof(*to_filter));
	dispatch = xcalloc(narch + 1, sizeof(*dispatch));
	if (narch) {
		emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, arch));
		for (k = 0; k < narch; k++) {
			/* jeq arch, next (ja section k), skip it */
			emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, arch[k].audit);
			dispatch[k] = emit(&p, BPF_JMP | BPF_JA, 0, 0, 0);
		}
		/* an architecture not listed here: libseccomp's program (its badArch action) */
		to_filter[nj++] = emit(&p, BPF_JMP | BPF_JA, 0, 0, 0);
	}
	for (k = 0; k < narch; k++) {
		size_t at =
			emit(&p, BPF_LD | BPF_W | BPF_ABS, 0, 0, offsetof(struct seccomp_data, nr));

		p.insn[dispatch[k]].k = (uint32_t)(at - dispatch[k] - 1);
		/*
		 * s390: a number the kernel does not know is turned into 0 (setup(2), a
		 * multiplexer nothing calls any more): that one is ENOSYS too.
		 */
		if (arch[k].s390) {
			emit(&p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
			emit(&p, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS);
		}
		if (arch[k].audit == SCMP_ARCH_X86_64) {
			/* x86_64 and x32 share the AUDIT_ARCH: the x32 bit tells them apart */
			size_t jset = emit(&p, BPF_JMP | BPF_JSET | BPF_K, 0, 0, X32_SYSCALL_BIT);

			if (arch[k].has)
				emit_gt_enosys(&p, arch[k].max, to_filter, &nj);
			else
				to_filter[nj++] = emit(&p, BPF_JMP | BPF_JA, 0, 0, 0);
			p.insn[jset].jt = (uint8_t)(p.n - jset - 1);
			if (arch[k].has_x32)
				emit_gt_enosys(&p, arch[k].max_x32, to_filter, &nj);
			else
				to_filter[nj++] = emit(&p, BPF_JMP | BPF_JA, 0, 0, 0);
		} else {
			emit_gt_enosys(&p, arch[k].max, to_filter, &nj);
		}
	}
	filter_at = p.n;
	for (i = 0; i < nj; i++)
		p.insn[to_filter[i]].k = (uint32_t)(filter_at - to_filter[i] - 1);
	free(to_filter);
	free(dispatch);

	k = (size_t)stb.st_size / sizeof(struct sock_filter);
	if (p.n + k > BPF_MAXINSNS) {
		free(p.insn);
		return cabin_err_make(err, E2BIG, F ": the filter needs %zu instructions (max %d)",
				      p.n + k, BPF_MAXINSNS);
	}
	p.insn = xrealloc(p.insn, (p.n + k) * sizeof(*p.insn));
	if (pread(mfd, p.insn + p.n, (size_t)stb.st_size, 0) != stb.st_size) {
		free(p.insn);
		return cabin_err_make(err, errno ?: EIO, F ": read the exported filter");
	}
	sc->prog = p.insn;
	sc->prog_len = p.n + k;
	if (p.n)
		log_debug("seccomp: %zu-instruction ENOSYS stub before the profile's %zu", p.n, k);
	return 0;
}

void ctr_seccomp_free(struct ctr_seccomp *sc)
{
	if (!sc)
		return;
	if (sc->ctx)
		seccomp_release(sc->ctx);
	free(sc->listener_path);
	free(sc->listener_metadata);
	free(sc->prog);
	free(sc);
}

static void ctr_seccomp_free_cleanup(struct ctr_seccomp **sc)
{
	int e = errno;

	ctr_seccomp_free(*sc);
	*sc = NULL;
	errno = e;
}

int ctr_seccomp_prepare(json_t *seccomp, struct ctr_seccomp **out, struct cabin_err **err)
{
	__attribute__((cleanup(ctr_seccomp_free_cleanup))) struct ctr_seccomp *sc = NULL;
	json_t *a, *e, *lp, *lm;
	uint32_t dflt;
	int notify = 0, ret;
	size_t i;

	*out = NULL;
	if (!seccomp || json_is_null(seccomp))
		return 0;
	if (!json_is_object(seccomp))
		return cabin_err_make(err, 0, F ": expected an object");
	ret = parse_action(json_string_value(json_object_get(seccomp, "defaultAction")),
			   json_object_get(seccomp, "defaultErrnoRet"), EPERM, &dflt, &notify,
			   F ".defaultAction", err);
	if (ret < 0)
		return ret;
	if (notify)
		return cabin_err_make(err, 0,
				      F ".defaultAction: `SCMP_ACT_NOTIFY` cannot be the default "
					"(the runtime's own syscalls would block)");
	sc = xcalloc(1, sizeof(*sc));
	sc->ctx = seccomp_init(dflt);
	if (!sc->ctx)
		return cabin_err_make(err, EINVAL, F ": seccomp_init");
	/*
	 * no_new_privs is process.noNewPrivileges' business, not the filter's: libseccomp
	 * would set it on load by default.
	 */
	seccomp_attr_set(sc->ctx, SCMP_FLTATR_CTL_NNP, 0);
	/* report the kernel's errno from seccomp_load(), not a generic -ECANCELED */
	seccomp_attr_set(sc->ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
	a = json_object_get(seccomp, "architectures");
	if (a && !json_is_array(a))
		return cabin_err_make(err, 0, F ".architectures: expected an array");
	json_array_foreach(a, i, e)
	{
		uint32_t arch = parse_arch(json_string_value(e));

		if (!arch)
			return cabin_err_make(err, 0, F ".architectures: unknown architecture `%s`",
					      json_string_value(e) ?: "");
		ret = seccomp_arch_add(sc->ctx, arch);
		if (ret < 0 && ret != -EEXIST)
			return cabin_err_make(err, -ret, F ".architectures: add `%s`",
					      json_string_value(e));
	}
	a = json_object_get(seccomp, "flags");
	if (a && !json_is_array(a))
		return cabin_err_make(err, 0, F ".flags: expected an array");
	json_array_foreach(a, i,
			   e) if ((ret = set_flag(sc, json_string_value(e), err)) < 0) return ret;
	a = json_object_get(seccomp, "syscalls");
	if (a && !json_is_array(a))
		return cabin_err_make(err, 0, F ".syscalls: expected an array");
	json_array_foreach(a, i, e) if ((ret = add_syscalls(sc, e, i, dflt, err)) < 0) return ret;
	ret = build_program(sc, seccomp, dflt, err);
	if (ret < 0)
		return ret;
	lp = json_object_get(seccomp, "listenerPath");
	/* "" is no listener, as for runc */
	if (lp && !json_is_null(lp) && !(json_is_string(lp) && !*json_string_value(lp))) {
		if (!json_is_string(lp) || json_string_value(lp)[0] != '/' ||
		    strlen(json_string_value(lp)) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return cabin_err_make(err, 0,
					      F ".listenerPath: must be an absolute socket path "
						"shorter than 108 bytes");
		sc->listener_path = xstrdup(json_string_value(lp));
	}
	lm = json_object_get(seccomp, "listenerMetadata");
	if (json_is_string(lm))
		sc->listener_metadata = xstrdup(json_string_value(lm));
	/*
	 * Nobody would ever answer the notifications: every such syscall would fail with
	 * ENOSYS once the fd is closed. runc refuses the container too ("listenerPath is not
	 * set"), only later: here it is refused before anything is created.
	 */
	if (sc->notify && !sc->listener_path)
		return cabin_err_make(
			err, 0, F ".listenerPath: SCMP_ACT_NOTIFY needs a listener (is not set)");
	*out = steal_ptr(&sc);
	return 0;
}

int ctr_seccomp_apply(struct ctr_seccomp *sc, int *notify_fd, struct cabin_err **err)
{
	unsigned long flags;
	struct sock_fprog fprog;
	long ret;

	if (notify_fd)
		*notify_fd = -1;
	if (!sc)
		return 0;
	fprog.len = (unsigned short)sc->prog_len;
	fprog.filter = sc->prog;
	flags = sc->kflags;
	if (sc->notify) {
		flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		/* TSYNC reports a thread it cannot sync through the return value, which
		 * NEW_LISTENER needs for the fd: ask for ESRCH instead (as libseccomp) */
		if (flags & SECCOMP_FILTER_FLAG_TSYNC)
			flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	}
	ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
	/*
	 * The kernel takes a filter from a task without no_new_privs only if it has
	 * CAP_SYS_ADMIN: without process.noNewPrivileges the filter has to be loaded before
	 * the capabilities are reduced (runc's order), and must allow what follows.
	 */
	if (ret < 0 && errno == EACCES && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0)
		return cabin_err_make(
			err, EACCES,
			"load the seccomp filter: without process.noNewPrivileges "
			"it needs CAP_SYS_ADMIN (load it before dropping capabilities)");
	if (ret < 0)
		return cabin_err_make(err, errno, "load the seccomp filter");
	if (sc->notify) {
		if (notify_fd)
			*notify_fd = (int)ret;
		else
			close((int)ret);
	}
	return 0;
}

const char *ctr_seccomp_listener_path(const struct ctr_seccomp *sc)
{
	return sc ? sc->listener_path : NULL;
}

int ctr_seccomp_uses_notify(const struct ctr_seccomp *sc)
{
	return sc && sc->notify;
}

int ctr_seccomp_send_listener(const struct ctr_seccomp *sc, int notify_fd, json_t *state, pid_t pid,
			      struct cabin_err **err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	cleanup_close int s = -1;
	cleanup_free char *msg = NULL;
	cleanup_json json_t *o = NULL;
	ssize_t n;

	if (!sc || !sc->listener_path)
		return 0;
	if (notify_fd < 0)
		return cabin_err_make(err, 0, F ".listenerPath: no notify fd to send");
	/* runtime-spec "containerProcessState": the fd travels as SCM_RIGHTS. */
	o = json_object();
	if (json_object_get(state, "ociVersion"))
		json_object_set(o, "ociVersion", json_object_get(state, "ociVersion"));
	else
		json_object_set_new(o, "ociVersion", json_string("1.2.0"));
	json_object_set_new(o, "fds", json_pack("[s]", "seccompFd"));
	if (pid > 0)
		json_object_set_new(o, "pid", json_integer(pid));
	else if (json_object_get(state, "pid"))
		json_object_set(o, "pid", json_object_get(state, "pid"));
	if (sc->listener_metadata)
		json_object_set_new(o, "metadata", json_string(sc->listener_metadata));
	if (state)
		json_object_set(o, "state", state);
	msg = json_dumps(o, JSON_COMPACT);
	if (!msg)
		return cabin_err_make(err, ENOMEM, F ".listenerPath: encode state");
	memcpy(addr.sun_path, sc->listener_path, strlen(sc->listener_path) + 1);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return cabin_err_make(err, errno, "socket");
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return cabin_err_make(err, errno,
				      F ".listenerPath: failed to connect with seccomp agent `%s`",
				      sc->listener_path);
	n = fd_pass_send(s, msg, strlen(msg), &notify_fd, 1);
	if (n < 0)
		return cabin_err_make(err, (int)-n, F ".listenerPath: send to `%s`",
				      sc->listener_path);
	if ((size_t)n != strlen(msg))
		return cabin_err_make(err, EIO, F ".listenerPath: short send to `%s`",
				      sc->listener_path);
	return 0;
}
