/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/util.h"
#include "lib/xalloc.h"

ssize_t fs_read_fd(int fd, size_t max, char **buf)
{
	/* One byte beyond @max is read to tell "exactly max" from "too large". */
	size_t cap = max < 4096 ? max + 1 : 4096, len = 0;
	char *b = malloc(cap + 1);

	if (!b)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap > max) {
				free(b);
				return -EFBIG;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			nb = realloc(b, cap + 1);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		n = TEMP_FAILURE_RETRY(read(fd, b + len, cap - len));
		if (n < 0) {
			int e = errno;

			free(b);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(b);
		return -EFBIG;
	}
	b[len] = '\0';
	*buf = b;
	return (ssize_t)len;
}

int fs_read_file(const char *path, size_t max, char **buf, size_t *len, struct cabin_err **err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return cabin_err_make(err, errno, "open `%s`", path);
	n = fs_read_fd(fd, max, buf);
	if (n < 0)
		return cabin_err_make(err, (int)-n, "read `%s`", path);
	if (len)
		*len = (size_t)n;
	return 0;
}

int fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_write_file_at(int dirfd, const char *name, const void *data, size_t len,
		     struct cabin_err **err)
{
	cleanup_close int fd = openat(dirfd, name, O_WRONLY | O_TRUNC | O_CLOEXEC);
	int ret;

	if (fd < 0)
		return cabin_err_make(err, errno, "open `%s`", name);
	ret = fs_write_all(fd, data, len);
	if (ret < 0)
		return cabin_err_make(err, -ret, "write `%s`", name);
	return 0;
}

int fs_write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			 unsigned int flags, struct cabin_err **err)
{
	char tmp[300];
	cleanup_close int fd = -1;
	int ret;

	snprintf(tmp, sizeof(tmp), ".%.200s.tmp.%d", name, (int)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return cabin_err_make(err, errno, "create `%s`", tmp);
	ret = fs_write_all(fd, data, len);
	if (ret == 0 && (flags & FS_ATOMIC_FSYNC) && fsync(fd) < 0)
		ret = -errno;
	if (ret < 0) {
		unlinkat(dirfd, tmp, 0);
		return cabin_err_make(err, -ret, "write `%s`", tmp);
	}
	/*
	 * A file that need not survive a crash replaces the old one by exchange, and the
	 * old one is unlinked under the temporary name. A rename(2) over an existing file
	 * makes ext4 allocate the new file's blocks at once (auto_da_alloc, for files
	 * that are not fsynced), and on a filesystem mounted with `discard` the unlink that
	 * later frees them waits for the device to discard them (about 1 ms per file
	 * here): a state.json rewritten during create costs that in the `delete` of every
	 * container. Written and removed before writeback, it never gets blocks at all.
	 * Readers see the old or the new file either way.
	 */
	if (!(flags & FS_ATOMIC_FSYNC)) {
		if (renameat2(dirfd, tmp, dirfd, name, RENAME_EXCHANGE) == 0) {
			unlinkat(dirfd, tmp, 0);
			return 0;
		}
		/* ENOENT: nothing to replace; EINVAL, ENOSYS: no exchange here */
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		ret = errno;
		unlinkat(dirfd, tmp, 0);
		return cabin_err_make(err, ret, "rename `%s` to `%s`", tmp, name);
	}
	return 0;
}

int fs_mkdir_p(const char *path, mode_t mode, struct cabin_err **err)
{
	cleanup_free char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return cabin_err_make(err, errno, "mkdir `%s`", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return cabin_err_make(err, errno, "mkdir `%s`", p);
	return 0;
}

static int rm_rf_dir(int dirfd, dev_t dev, struct cabin_err **err)
{
	cleanup_closedir DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d) {
		close(dirfd);
		return cabin_err_make(err, errno, "opendir");
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub;

			/* Never cross into another filesystem (a leftover bind mount). */
			if (st.st_dev != dev)
				return cabin_err_make(err, EBUSY, "`%s` is a mount point",
						      de->d_name);
			sub = openat(dirfd, de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				return cabin_err_make(err, errno, "open `%s`", de->d_name);
			if (rm_rf_dir(sub, dev, err) < 0)
				return cabin_err_wrap(err, "`%s`", de->d_name);
			if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
				return cabin_err_make(err, errno, "rmdir `%s`", de->d_name);
		} else if (unlinkat(dirfd, de->d_name, 0) < 0) {
			return cabin_err_make(err, errno, "unlink `%s`", de->d_name);
		}
	}
	return 0;
}

int fs_rm_rf_at(int dirfd, const char *name, struct cabin_err **err)
{
	int ret = fs_empty_dir_at(dirfd, name, err);

	if (ret <= 0)
		return ret;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		return cabin_err_make(err, errno, "rmdir `%s`", name);
	return 0;
}

int fs_empty_dir_at(int dirfd, const char *name, struct cabin_err **err)
{
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : cabin_err_make(err, errno, "stat `%s`", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0)
			return cabin_err_make(err, errno, "unlink `%s`", name);
		return 0;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return cabin_err_make(err, errno, "open `%s`", name);
	if (rm_rf_dir(fd, st.st_dev, err) < 0)
		return cabin_err_wrap(err, "remove `%s`", name);
	return 1;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* close_range(2) appeared in Linux 5.9; before, walk /proc/self/fd. */
static int close_range_fallback(unsigned first, unsigned last)
{
	cleanup_closedir DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int dfd;

	if (!d)
		return -errno;
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		char *end;
		unsigned long fd = strtoul(de->d_name, &end, 10);

		if (*end || de->d_name[0] == '.' || (int)fd == dfd || fd < first || fd > last)
			continue;
		close((int)fd);
	}
	return 0;
}

int fs_close_fds_except(int first, const int *keep, size_t n)
{
	int sorted[16];
	unsigned lo = (unsigned)first;
	size_t i;

	if (n > ARRAY_SIZE(sorted))
		return -E2BIG;
	memcpy(sorted, keep, n * sizeof(int));
	qsort(sorted, n, sizeof(int), cmp_int);
	for (i = 0; i <= n; i++) {
		unsigned hi = i < n ? (unsigned)sorted[i] : ~0U;

		if (i < n && (sorted[i] < first || (unsigned)sorted[i] < lo))
			continue; /* below the range, or a duplicate */
		if (hi > lo) {
			if (syscall(SYS_close_range, lo, hi - 1, 0) < 0) {
				if (errno != ENOSYS && errno != EINVAL)
					return -errno;
				close_range_fallback(lo, hi - 1);
			}
		}
		if (i < n)
			lo = hi + 1;
	}
	return 0;
}
