/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_LIB_FS_H
#define CABIN_LIB_FS_H

#include <stddef.h>
#include <sys/types.h>

struct cabin_err;

/**
 * fs_read_file() - read a whole file (at most @max bytes, else -EFBIG)
 * @buf: NUL-terminated contents, caller frees
 */
int fs_read_file(const char *path, size_t max, char **buf, size_t *len, struct cabin_err **err);

/**
 * fs_read_fd() - read everything from @fd up to @max bytes into a NUL-terminated buffer.
 * Return: bytes read, or -errno (no error object: used on data paths too).
 */
ssize_t fs_read_fd(int fd, size_t max, char **buf);

/** fs_write_all() - write(2) until done, retrying EINTR. Return: 0 or -errno. */
int fs_write_all(int fd, const void *buf, size_t len);

/**
 * fs_write_file_at() - write @len bytes to @name under @dirfd, truncating.
 * Used for cgroup, proc and sysfs files where atomic rename is impossible.
 */
int fs_write_file_at(int dirfd, const char *name, const void *data, size_t len,
		     struct cabin_err **err);

enum fs_atomic_flags {
	FS_ATOMIC_FSYNC = 1 << 0, /* also survive a crash (not needed for state in /run) */
};

/**
 * fs_write_file_atomic() - write a file under @dirfd via a temporary and rename(2), so
 * readers see the old or the new contents, never a torn file.
 * @flags: enum fs_atomic_flags
 */
int fs_write_file_atomic(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			 unsigned int flags, struct cabin_err **err);

/** fs_mkdir_p() - mkdir -p; existing directories are fine. */
int fs_mkdir_p(const char *path, mode_t mode, struct cabin_err **err);

/** fs_rm_rf_at() - remove @name under @dirfd recursively, staying on one filesystem. */
int fs_rm_rf_at(int dirfd, const char *name, struct cabin_err **err);

/**
 * fs_empty_dir_at() - remove what the directory @name under @dirfd holds, recursively and
 * on one filesystem, but not the directory itself. A @name that is not a directory is
 * unlinked.
 * Return: 1 when @name is an (emptied) directory, 0 when it is gone, <0 on error.
 */
int fs_empty_dir_at(int dirfd, const char *name, struct cabin_err **err);

/**
 * fs_close_fds_except() - close every fd from @first up, except the @n fds of @keep
 * (at most 16). Uses close_range(2), or /proc/self/fd before Linux 5.9. Closing, not
 * marking close-on-exec: the caller may still chdir(2) or run code before execve(2).
 * Return: 0 or -errno.
 */
int fs_close_fds_except(int first, const int *keep, size_t n);

#endif
