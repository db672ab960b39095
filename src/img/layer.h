/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_IMG_LAYER_H
#define CABIN_IMG_LAYER_H

#include <sys/types.h>

struct cabin_err;

enum img_unpack_flags {
	/*
	 * An image layer: `.wh.NAME` becomes an overlayfs whiteout (a 0/0 character
	 * device) and `.wh..wh..opq` the opaque xattr on its directory, so the directory
	 * can be an overlayfs lower layer as it is.
	 */
	IMG_UNPACK_LAYER = 1 << 0,
	/* Not root: ownership is not applied (an unprivileged load). */
	IMG_UNPACK_NO_CHOWN = 1 << 1,
};

/**
 * img_layer_unpack() - extract a tar archive (uncompressed, gzip, zstd, ... as libarchive
 * reads it) into the empty directory @dstfd.
 * @fd: the archive, read from its current offset
 * @diff_id: when not NULL, the digest the uncompressed tar must have (a layer's DiffID)
 * @what: names the archive in errors
 *
 * Every entry is resolved beneath @dstfd (openat2 RESOLVE_BENEATH): absolute names, `..`,
 * writes through a symlink that leaves the tree and hard links to outside it are refused
 * with an error naming the entry. Ownership, modes, xattrs (file capabilities included),
 * device nodes, hard links, symlinks and mtimes are kept. On error the caller removes
 * what was written.
 */
int img_layer_unpack(int fd, int dstfd, const char *diff_id, unsigned flags, const char *what,
		     struct cabin_err **err);

/**
 * img_layer_apply_copy() - merge the unpacked layer @srcfd onto the tree @dstfd as
 * overlayfs would show it: whiteouts remove, opaque directories hide what is below,
 * everything else is copied with its metadata. The fallback where overlayfs cannot be
 * mounted.
 */
int img_layer_apply_copy(int srcfd, int dstfd, struct cabin_err **err);

/**
 * img_openat_beneath() - openat2(@dirfd, @path, @flags | O_CLOEXEC, RESOLVE_BENEATH |
 * RESOLVE_NO_MAGICLINKS), or the same walk on kernels without openat2 (resolve_open()):
 * @path can never leave @dirfd. Return: fd or -errno.
 */
int img_openat_beneath(int dirfd, const char *path, int flags, mode_t mode);

/**
 * img_openat_in_root() - as img_openat_beneath() but symlinks resolve as if @dirfd were
 * `/` (RESOLVE_IN_ROOT): how a container sees its own /etc/passwd.
 */
int img_openat_in_root(int dirfd, const char *path, int flags);

#endif
