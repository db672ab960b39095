/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tmpcopyup: a tmpfs mounted over a directory of the image starts with a copy of that
 * directory (runc and crun extension; podman asks for it with --read-only and --tmpfs).
 * The source is the untrusted image: everything is opened relative to a directory fd
 * with O_NOFOLLOW, and symlinks are copied as links, never followed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctr/copyup.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"

#define COPYUP_MAX_DEPTH 64

static int copy_file(int from, int to, const char *name, const struct stat *sb,
		     struct cabin_err **err)
{
	cleanup_close int in = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	cleanup_close int out = -1;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return cabin_err_make(err, errno, "tmpcopyup: open `%s`", name);
	out = openat(to, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		     sb->st_mode & 07777);
	if (out < 0)
		return cabin_err_make(err, errno, "tmpcopyup: create `%s`", name);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		int ret;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cabin_err_make(err, errno, "tmpcopyup: read `%s`", name);
		ret = fs_write_all(out, buf, (size_t)n);
		if (ret < 0)
			return cabin_err_make(err, -ret, "tmpcopyup: write `%s`", name);
	}
	return 0;
}

static int copy_tree(int from, int to, int depth, struct cabin_err **err);

static int copy_entry(int from, int to, const char *name, int depth, struct cabin_err **err)
{
	struct timespec times[2];
	struct stat sb;

	if (fstatat(from, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return cabin_err_make(err, errno, "tmpcopyup: stat `%s`", name);
	if (S_ISDIR(sb.st_mode)) {
		cleanup_close int sub_from = -1, sub_to = -1;

		if (mkdirat(to, name, sb.st_mode & 07777) < 0)
			return cabin_err_make(err, errno, "tmpcopyup: mkdir `%s`", name);
		sub_from = openat(from, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		sub_to = openat(to, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub_from < 0 || sub_to < 0)
			return cabin_err_make(err, errno, "tmpcopyup: open `%s`", name);
		if (copy_tree(sub_from, sub_to, depth + 1, err) < 0)
			return -1;
	} else if (S_ISREG(sb.st_mode)) {
		if (copy_file(from, to, name, &sb, err) < 0)
			return -1;
	} else if (S_ISLNK(sb.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(from, name, target, sizeof(target) - 1);

		if (n < 0)
			return cabin_err_make(err, errno, "tmpcopyup: readlink `%s`", name);
		target[n] = '\0';
		if (symlinkat(target, to, name) < 0)
			return cabin_err_make(err, errno, "tmpcopyup: symlink `%s`", name);
	} else if (S_ISFIFO(sb.st_mode)) {
		if (mkfifoat(to, name, sb.st_mode & 07777) < 0)
			return cabin_err_make(err, errno, "tmpcopyup: mkfifo `%s`", name);
	} else {
		return 0; /* device nodes and sockets are not copied */
	}
	/* owners as in the image; may fail for ids unmapped in a user namespace */
	(void)fchownat(to, name, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW);
	if (!S_ISLNK(sb.st_mode) && fchmodat(to, name, sb.st_mode & 07777, 0) < 0)
		return cabin_err_make(err, errno, "tmpcopyup: chmod `%s`", name);
	times[0] = sb.st_atim;
	times[1] = sb.st_mtim;
	(void)utimensat(to, name, times, AT_SYMLINK_NOFOLLOW);
	return 0;
}

static int copy_tree(int from, int to, int depth, struct cabin_err **err)
{
	cleanup_closedir DIR *d = NULL;
	struct dirent *de;
	int fd;

	if (depth > COPYUP_MAX_DEPTH)
		return cabin_err_make(err, ELOOP, "tmpcopyup: deeper than %d directories",
				      COPYUP_MAX_DEPTH);
	fd = openat(from, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return cabin_err_make(err, errno, "tmpcopyup: open directory");
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return cabin_err_make(err, errno, "tmpcopyup: read directory");
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (copy_entry(from, to, de->d_name, depth, err) < 0)
			return -1;
	}
	return 0;
}

int ctr_copyup(int from, int to, struct cabin_err **err)
{
	return copy_tree(from, to, 0, err);
}
