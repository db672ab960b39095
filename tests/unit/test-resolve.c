/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * resolve_open_walk(), the fallback for kernels without openat2, against a tree with
 * planted symlinks and `..`: every case names what the kernel's openat2 gives (and is
 * compared with openat2 itself where the kernel has it), and nothing resolves outside.
 * resolve_mkpath() makes what is missing, behind dangling links too, and only inside.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/resolve.h"
#include "lib/xalloc.h"
#include "unit/tap.h"

static char top[PATH_MAX];

static void mk(const char *rel, int dir)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (dir ? mkdir(p, 0755) : close(open(p, O_CREAT | O_WRONLY, 0644)))
		perror(p);
}

static void ln(const char *target, const char *rel)
{
	char p[PATH_MAX * 2];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (symlink(target, p) < 0)
		perror(p);
}

/* 0 if @fd is the file @rel (below top), else -1 */
static int is(int fd, const char *rel)
{
	char p[PATH_MAX * 2];
	struct stat a, b;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (fd < 0 || fstat(fd, &a) < 0 || lstat(p, &b) < 0)
		return -1;
	return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? 0 : -1;
}

static int kernel_openat2(int dirfd, const char *path, int flags, enum resolve_scope scope)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.resolve = RESOLVE_NO_MAGICLINKS |
			   (scope == RESOLVE_SCOPE_BENEATH ? RESOLVE_BENEATH : RESOLVE_IN_ROOT),
	};
	long fd = syscall(SYS_openat2, dirfd, *path ? path : ".", &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

struct rcase {
	const char *path;
	int flags;
	enum resolve_scope scope;
	const char *want; /* the file reached (relative to top), or NULL */
	int err;	  /* or the error */
};

static const struct rcase cases[] = {
	{ "a/b", O_PATH, RESOLVE_SCOPE_IN_ROOT, "root/a/b", 0 },
	{ "/a/b/", O_RDONLY | O_DIRECTORY, RESOLVE_SCOPE_IN_ROOT, "root/a/b", 0 },
	{ "", O_PATH, RESOLVE_SCOPE_IN_ROOT, "root", 0 },
	{ "/", O_RDONLY, RESOLVE_SCOPE_IN_ROOT, "root", 0 },
	/* `..` stops at the root */
	{ "../../../outside", O_PATH, RESOLVE_SCOPE_IN_ROOT, "root/outside", 0 },
	{ "a/b/../../../../file", O_RDONLY, RESOLVE_SCOPE_IN_ROOT, "root/file", 0 },
	/* a relative symlink with `..` above the root, then a path that exists outside */
	{ "up/outside/secret", O_RDONLY, RESOLVE_SCOPE_IN_ROOT, "root/outside/secret", 0 },
	/* an absolute symlink naming a host path that exists: resolved in the root */
	{ "hostabs/secret", O_RDONLY, RESOLVE_SCOPE_IN_ROOT, NULL, ENOENT },
	{ "abs/b", O_PATH, RESOLVE_SCOPE_IN_ROOT, "root/a/b", 0 },
	{ "dirlink/b", O_PATH, RESOLVE_SCOPE_IN_ROOT, "root/a/b", 0 },
	{ "flink", O_RDONLY, RESOLVE_SCOPE_IN_ROOT, "root/file", 0 },
	{ "flink", O_RDONLY | O_NOFOLLOW, RESOLVE_SCOPE_IN_ROOT, NULL, ELOOP },
	{ "flink", O_PATH | O_NOFOLLOW, RESOLVE_SCOPE_IN_ROOT, "root/flink", 0 },
	{ "flink/", O_RDONLY, RESOLVE_SCOPE_IN_ROOT, NULL, ENOTDIR },
	{ "file/x", O_RDONLY, RESOLVE_SCOPE_IN_ROOT, NULL, ENOTDIR },
	{ "file", O_RDONLY | O_DIRECTORY, RESOLVE_SCOPE_IN_ROOT, NULL, ENOTDIR },
	{ "loop/x", O_PATH, RESOLVE_SCOPE_IN_ROOT, NULL, ELOOP },
	{ "l0", O_RDONLY, RESOLVE_SCOPE_IN_ROOT, NULL, ELOOP }, /* a chain of 41 links */
	{ "l5", O_RDONLY, RESOLVE_SCOPE_IN_ROOT, "root/file", 0 },
	{ "missing/x", O_PATH, RESOLVE_SCOPE_IN_ROOT, NULL, ENOENT },
	{ "dangling", O_RDONLY, RESOLVE_SCOPE_IN_ROOT, NULL, ENOENT },
	/* beneath: whatever leaves the root is EXDEV */
	{ "a/../file", O_RDONLY, RESOLVE_SCOPE_BENEATH, "root/file", 0 },
	{ "../outside", O_PATH, RESOLVE_SCOPE_BENEATH, NULL, EXDEV },
	{ "up/outside", O_PATH, RESOLVE_SCOPE_BENEATH, NULL, EXDEV },
	{ "abs/b", O_PATH, RESOLVE_SCOPE_BENEATH, NULL, EXDEV },
	{ "/a", O_PATH, RESOLVE_SCOPE_BENEATH, NULL, EXDEV },
	{ "dirlink/b", O_PATH, RESOLVE_SCOPE_BENEATH, "root/a/b", 0 },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

int main(void)
{
	cleanup_close int root = -1, fd = -1;
	char p[PATH_MAX * 2], q[PATH_MAX * 2];
	int have_openat2, i;

	snprintf(top, sizeof(top), "/tmp/cabin-resolve.XXXXXX");
	if (!mkdtemp(top))
		return 1;
	mk("outside", 1);
	mk("outside/secret", 0);
	mk("root", 1);
	mk("root/a", 1);
	mk("root/a/b", 1);
	mk("root/file", 0);
	mk("root/outside", 1);
	mk("root/outside/secret", 0);
	ln("../../../../../../../../../..", "root/up");
	snprintf(p, sizeof(p), "%s/outside", top);
	ln(p, "root/hostabs");
	ln("/a", "root/abs");
	ln("a/", "root/dirlink");
	ln("file", "root/flink");
	ln("loop/x", "root/loop");
	ln("nothere", "root/dangling");
	for (i = 0; i < 41; i++) {
		char name[16], to[16];

		snprintf(name, sizeof(name), "root/l%d", i);
		snprintf(to, sizeof(to), "l%d", i + 1);
		ln(i == 40 ? "file" : to, name);
	}
	snprintf(p, sizeof(p), "%s/root", top);
	root = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	have_openat2 = kernel_openat2(root, "a", O_PATH, RESOLVE_SCOPE_IN_ROOT) != -ENOSYS;

	tap_plan((int)N_CASES * 2 + 11);
	for (i = 0; i < (int)N_CASES; i++) {
		const struct rcase *c = &cases[i];
		cleanup_close int w = resolve_open_walk(root, c->path, c->flags, 0, c->scope);
		cleanup_close int k = -1;

		if (c->want)
			tap_ok(is(w, c->want) == 0, "walk `%s` (flags %#x%s) reaches %s (%d)",
			       c->path, c->flags,
			       c->scope == RESOLVE_SCOPE_BENEATH ? ", beneath" : "", c->want, w);
		else
			tap_ok(w == -c->err, "walk `%s` (flags %#x%s) fails with %s (%d)", c->path,
			       c->flags, c->scope == RESOLVE_SCOPE_BENEATH ? ", beneath" : "",
			       strerror(c->err), w);
		if (!have_openat2) {
			tap_skip("no openat2 on this kernel");
			continue;
		}
		k = kernel_openat2(root, c->path, c->flags, c->scope);
		tap_ok(c->want ? is(k, c->want) == 0 : k == -c->err, "openat2 agrees on `%s` (%d)",
		       c->path, k);
	}

	/* O_CREAT through planted links lands in the root, never outside */
	fd = resolve_open_walk(root, "abs/new", O_WRONLY | O_CREAT | O_EXCL, 0600,
			       RESOLVE_SCOPE_IN_ROOT);
	tap_ok(is(fd, "root/a/new") == 0, "O_CREAT through an absolute link creates in the root");
	close(fd);
	snprintf(p, sizeof(p), "%s/outside", top);
	ln(p, "root/hostdir2");
	fd = resolve_open_walk(root, "hostdir2/created", O_WRONLY | O_CREAT, 0600,
			       RESOLVE_SCOPE_IN_ROOT);
	snprintf(p, sizeof(p), "%s/outside/created", top);
	tap_ok(fd == -ENOENT && access(p, F_OK) < 0,
	       "O_CREAT through a link to a host directory creates nothing outside (%d)", fd);
	if (fd >= 0)
		close(fd);
	fd = resolve_open_walk(root, "flink", O_WRONLY | O_CREAT | O_EXCL, 0600,
			       RESOLVE_SCOPE_IN_ROOT);
	tap_ok(fd == -EEXIST, "O_CREAT|O_EXCL does not follow a last symlink (%d)", fd);
	if (fd >= 0)
		close(fd);
	fd = resolve_open_walk(root, "up/up/up/a/../../outside/secret", O_RDONLY, 0,
			       RESOLVE_SCOPE_IN_ROOT);
	tap_ok(is(fd, "root/outside/secret") == 0, "links and `..` mixed stay in the root");

	/* resolve_mkpath(): missing parts made where dangling links point, inside the root */
	snprintf(p, sizeof(p), "%s/gone", top);
	ln(p, "root/dabs"); /* absolute, to a path missing in the root and on the host */
	ln("../../../../../../../../../../rgone/x", "root/drel");
	ln("dchain", "root/dlast");
	ln("/made/file", "root/dchain");
	fd = resolve_mkpath(root, "dabs/sub/dir", 1);
	snprintf(q, sizeof(q), "root%s/gone/sub/dir", top); /* the host path, in the root */
	tap_ok(is(fd, q) == 0 && access(p, F_OK) < 0,
	       "mkpath through an absolute dangling link makes it in the root, not on the host");
	if (fd >= 0)
		close(fd);
	fd = resolve_mkpath(root, "drel/y", 1);
	tap_ok(is(fd, "root/rgone/x/y") == 0,
	       "a dangling link climbing above `/` stays in the root");
	if (fd >= 0)
		close(fd);
	fd = resolve_mkpath(root, "/dlast", 0);
	{
		struct stat sb;

		tap_ok(is(fd, "root/made/file") == 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode),
		       "a dangling last link (through a chain) becomes an empty file where it "
		       "points");
	}
	if (fd >= 0)
		close(fd);
	fd = resolve_mkpath(root, "a/b", 1);
	tap_ok(is(fd, "root/a/b") == 0, "mkpath of what exists opens it");
	if (fd >= 0)
		close(fd);
	fd = resolve_mkpath(root, "file/x", 1);
	tap_ok(fd == -ENOTDIR, "mkpath below a file fails with ENOTDIR (%d)", fd);
	if (fd >= 0)
		close(fd);
	fd = resolve_mkpath(root, "loop/x", 1);
	tap_ok(fd == -ELOOP, "mkpath through a link loop fails with ELOOP (%d)", fd);
	if (fd >= 0)
		close(fd);
	fd = resolve_mkpath(root, "a/../../../new/..//new2/", 0);
	{
		struct stat sb;

		tap_ok(is(fd, "root/new2") == 0 && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode),
		       "`..` stays at the root; a trailing slash makes a directory");
	}
	if (fd >= 0)
		close(fd);

	snprintf(p, sizeof(p), "rm -rf '%s'", top);
	if (system(p) != 0)
		perror("rm");
	return tap_done();
}
