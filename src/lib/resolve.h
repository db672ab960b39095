/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_LIB_RESOLVE_H
#define CABIN_LIB_RESOLVE_H

#include <sys/types.h>

/*
 * Opening a path inside a directory tree that someone else controls (a container rootfs,
 * an image layer being unpacked): nothing it holds, `..` or symlinks, may lead the open
 * outside of it.
 */
enum resolve_scope {
	/* `/`, absolute symlinks and `..` stop at the root, as if chrooted (RESOLVE_IN_ROOT) */
	RESOLVE_SCOPE_IN_ROOT,
	/* whatever would leave the root fails with EXDEV (RESOLVE_BENEATH) */
	RESOLVE_SCOPE_BENEATH,
};

/**
 * resolve_open() - open(2) @path below @rootfd, never outside it.
 * @flags: open flags (O_CLOEXEC is added); O_NOFOLLOW applies to the last component only.
 * @mode: with O_CREAT
 * Uses openat2(2) with RESOLVE_IN_ROOT or RESOLVE_BENEATH and RESOLVE_NO_MAGICLINKS;
 * on kernels without it (before 5.6, ENOSYS) resolve_open_walk().
 * Return: the fd, or -errno.
 */
int resolve_open(int rootfd, const char *path, int flags, mode_t mode, enum resolve_scope scope);

/**
 * resolve_open_walk() - the same without openat2: one component at a time from @rootfd,
 * each opened O_PATH|O_NOFOLLOW, symlinks read and expanded here (at most 40, else
 * ELOOP), absolute ones and `..` kept at @rootfd (or EXDEV below RESOLVE_SCOPE_BENEATH).
 * The last component is reopened with @flags and checked to be the one looked at.
 * Exported for the tests, which compare it with openat2.
 */
int resolve_open_walk(int rootfd, const char *path, int flags, mode_t mode,
		      enum resolve_scope scope);

/**
 * resolve_mkpath() - open @path below @rootfd as RESOLVE_SCOPE_IN_ROOT does, making what
 * is missing on the way: parents as directories (0755), the last component as a
 * directory (@dir) or an empty file (0644). Symlinks are followed, dangling ones too:
 * what they name is made where they point inside the root. Walks one component at a time
 * as resolve_open_walk() does, so nothing is ever made outside @rootfd.
 * Return: an O_PATH fd of the last component, or -errno.
 */
int resolve_mkpath(int rootfd, const char *path, int dir);

#endif
