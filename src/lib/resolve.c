/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Path resolution below a root that is not ours. openat2(2) (Linux 5.6) does it in the
 * kernel; before that, a relative openat(2) is not enough: `..` walks out of the root
 * directory (it is only a directory, not the process's root), and every symlink but the
 * last one is followed, an absolute one from the host's `/`. So the fallback walks the
 * path one component at a time, as libpathrs and crun's safe_openat do:
 *  - each component is opened O_PATH|O_NOFOLLOW relative to the directory reached so far,
 *    so the kernel never follows anything on its own;
 *  - a symlink is read (readlinkat) and its target put in front of the rest of the path:
 *    an absolute target starts again from the root, at most 40 links (ELOOP, as the
 *    kernel's MAXSYMLINKS);
 *  - `..` pops the directory stack this walk pushed, never asking the kernel for the
 *    parent: a directory moved out of the root while we walk (a rename race) cannot take
 *    us with it, and `..` at the root stays there;
 *  - the last component is reopened with the caller's flags and O_NOFOLLOW, and must be
 *    the same inode (st_dev, st_ino) as the one looked at, or the open fails with EAGAIN.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/resolve.h"
#include "lib/xalloc.h"

#define RESOLVE_MAX_LINKS 40  /* the kernel's MAXSYMLINKS */
#define RESOLVE_MAX_MADE 4096 /* components resolve_mkpath() may create */

int resolve_open(int rootfd, const char *path, int flags, mode_t mode, enum resolve_scope scope)
{
	struct open_how how = {
		.flags = (unsigned long long)(flags | O_CLOEXEC),
		.mode = (flags & O_CREAT) ? mode : 0,
		.resolve = RESOLVE_NO_MAGICLINKS |
			   (scope == RESOLVE_SCOPE_BENEATH ? RESOLVE_BENEATH : RESOLVE_IN_ROOT),
	};
	long fd;

	/* EAGAIN: a rename elsewhere raced with the lookup (the kernel asks for a retry) */
	do
		fd = syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
	while (fd < 0 && (errno == EINTR || errno == EAGAIN));
	if (fd < 0 && errno == ENOSYS)
		return resolve_open_walk(rootfd, path, flags, mode, scope);
	return fd < 0 ? -errno : (int)fd;
}

/* The directories walked through: dirs[0] is the root, dirs[n - 1] where we are. */
struct walk {
	int *dirs;
	size_t n, cap;
};

static void walk_cleanup(struct walk *w)
{
	int saved = errno;

	while (w->n)
		close(w->dirs[--w->n]);
	free(w->dirs);
	w->dirs = NULL;
	errno = saved;
}
#define cleanup_walk __attribute__((cleanup(walk_cleanup)))

static void walk_push(struct walk *w, int fd)
{
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 16;
		w->dirs = xrealloc(w->dirs, w->cap * sizeof(*w->dirs));
	}
	w->dirs[w->n++] = fd;
}

static void walk_to_root(struct walk *w)
{
	while (w->n > 1)
		close(w->dirs[--w->n]);
}

/*
 * RESOLVE_NO_MAGICLINKS: procfs links such as /proc/PID/root or /proc/self/fd/N are not
 * paths but handles to a file anywhere; the kernel follows them whatever they print.
 * Only /proc/self and /proc/thread-self (plain links in procfs' root) may be followed.
 */
static int magic_link(int linkfd, int dirfd, const char *name)
{
	struct statfs sf;
	struct stat dst;

	if (fstatfs(linkfd, &sf) < 0)
		return -errno;
	if (sf.f_type != PROC_SUPER_MAGIC)
		return 0;
	if ((!strcmp(name, "self") || !strcmp(name, "thread-self")) && fstat(dirfd, &dst) == 0 &&
	    dst.st_ino == 1 /* PROC_ROOT_INO */)
		return 0;
	return 1;
}

/*
 * The walk met the symlink @linkfd, named @name in the directory it is in: put its target
 * in front of @end (what followed the link, "/rest" or ""), in a new *@todo. An absolute
 * target starts again from the root.
 */
static int follow_link(struct walk *w, int linkfd, const char *name, const char *end, char **todo,
		       int *links, enum resolve_scope scope)
{
	cleanup_free char *target = NULL;
	ssize_t len;
	char *next;
	int magic;

	magic = magic_link(linkfd, w->dirs[w->n - 1], name);
	if (magic)
		return magic < 0 ? magic : -ELOOP;
	if (++*links > RESOLVE_MAX_LINKS)
		return -ELOOP;
	target = xmalloc(PATH_MAX);
	len = readlinkat(linkfd, "", target, PATH_MAX);
	if (len < 0)
		return -errno;
	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	if (!len)
		return -ENOENT;
	target[len] = '\0';
	if (*target == '/') {
		if (scope == RESOLVE_SCOPE_BENEATH)
			return -EXDEV;
		walk_to_root(w);
	}
	/* @end points into the old *@todo: build the new one before freeing it */
	next = xasprintf("%s%s", target, end);
	free(*todo);
	*todo = next;
	return 0;
}

/* Open the last component @name of the walk (in @dirfd, already looked at as @sb). */
static int open_last(int dirfd, const char *name, int flags, mode_t mode, const struct stat *sb)
{
	cleanup_close int fd = -1;
	struct stat now;

	if ((flags & O_DIRECTORY) && !S_ISDIR(sb->st_mode))
		return -ENOTDIR;
	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &now) < 0)
		return -errno;
	/* swapped between the look and the open: never hand out what we did not check */
	if (now.st_dev != sb->st_dev || now.st_ino != sb->st_ino)
		return -EAGAIN;
	return steal_fd(&fd);
}

/* What a walk does with a component that is missing. */
enum walk_make {
	WALK_OPEN,	/* nothing: ENOENT, unless O_CREAT on the last component */
	WALK_MAKE_FILE, /* parents as directories, the last one as an empty file */
	WALK_MAKE_DIR,	/* all of them as directories */
};

/*
 * One component at a time from @rootfd (see the top of this file). WALK_OPEN opens the
 * last component with @flags; the make modes create what is missing and follow dangling
 * links as well (what they name is made where they point, inside the root: runc's
 * SecureJoin then MkdirAll, crun's safe_create_and_open_ref_at), with @flags O_PATH.
 */
static int walk(int rootfd, const char *path, int flags, mode_t mode, enum resolve_scope scope,
		enum walk_make make)
{
	cleanup_walk struct walk w = { 0 };
	cleanup_free char *todo = NULL;
	char name[NAME_MAX + 1];
	const char *p, *end, *rest;
	int links = 0, made = 0, fd;

	if (*path == '/' && scope == RESOLVE_SCOPE_BENEATH)
		return -EXDEV;
	fd = openat(rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	walk_push(&w, fd);
	todo = xstrdup(path);
	p = todo;
	for (;;) {
		cleanup_close int cfd = -1;
		int cur = w.dirs[w.n - 1], last, slash, ret;
		struct stat sb;

		while (*p == '/')
			p++;
		if (!*p) { /* the path ends at a directory of the walk ("", "/", "a/..") */
			fd = openat(cur, ".", flags | O_CLOEXEC, mode);
			return fd < 0 ? -errno : fd;
		}
		end = strchrnul(p, '/');
		if ((size_t)(end - p) > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, p, (size_t)(end - p));
		name[end - p] = '\0';
		rest = end;
		while (*rest == '/')
			rest++;
		last = !*rest;
		slash = *end == '/'; /* "name/": must be a directory, a symlink is followed */
		if (!strcmp(name, ".")) {
			p = rest;
			continue;
		}
		if (!strcmp(name, "..")) {
			if (w.n == 1 && scope == RESOLVE_SCOPE_BENEATH)
				return -EXDEV;
			if (w.n > 1)
				close(w.dirs[--w.n]);
			p = rest;
			continue;
		}
		cfd = openat(cur, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (cfd < 0 && make == WALK_OPEN) {
			/* O_CREAT of a new last component; O_NOFOLLOW: nothing planted since */
			if (errno != ENOENT || !last || slash || !(flags & O_CREAT))
				return -errno;
			fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
			return fd < 0 ? -errno : fd;
		}
		if (cfd < 0) {
			if (errno != ENOENT)
				return -errno;
			/*
			 * Made here, then looked at again like any other component: whoever
			 * races us with a symlink in its place gets it followed inside the
			 * root, as every other one. The bound stops a loop with someone who
			 * keeps removing what we make.
			 */
			if (++made > RESOLVE_MAX_MADE)
				return -EAGAIN;
			if (!last || slash || make == WALK_MAKE_DIR) {
				ret = mkdirat(cur, name, 0755);
			} else {
				ret = openat(cur, name,
					     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
					     0644);
				if (ret >= 0)
					close(ret);
			}
			if (ret < 0 && errno != EEXIST)
				return -errno;
			continue;
		}
		if (fstat(cfd, &sb) < 0)
			return -errno;
		if (S_ISLNK(sb.st_mode)) {
			if (last && !slash && (flags & O_NOFOLLOW))
				return (flags & O_PATH) ? steal_fd(&cfd) : -ELOOP;
			/* O_CREAT|O_EXCL never follows a last symlink (open(2)) */
			if (last && !slash && (flags & O_CREAT) && (flags & O_EXCL))
				return -EEXIST;
			ret = follow_link(&w, cfd, name, end, &todo, &links, scope);
			if (ret < 0)
				return ret;
			p = todo;
			continue;
		}
		if (last && !slash)
			return make == WALK_OPEN ? open_last(cur, name, flags, mode, &sb)
						 : steal_fd(&cfd);
		if (!S_ISDIR(sb.st_mode))
			return -ENOTDIR;
		walk_push(&w, steal_fd(&cfd));
		p = rest;
	}
}

int resolve_open_walk(int rootfd, const char *path, int flags, mode_t mode,
		      enum resolve_scope scope)
{
	return walk(rootfd, path, flags, mode, scope, WALK_OPEN);
}

int resolve_mkpath(int rootfd, const char *path, int dir)
{
	return walk(rootfd, path, O_PATH, 0, RESOLVE_SCOPE_IN_ROOT,
		    dir ? WALK_MAKE_DIR : WALK_MAKE_FILE);
}
