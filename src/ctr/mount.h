/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_CTR_MOUNT_H
#define CABIN_CTR_MOUNT_H

struct cabin_err;
struct ctr_spec;

/*
 * The container's filesystem, built inside its new mount namespace by the container
 * init, in three steps around the createContainer hooks and pivot_root(2).
 */

/**
 * ctr_rootfs_prepare() - make / a slave (or per rootfsPropagation), bind the rootfs onto
 * itself, perform every mount of config.json and create the devices. Destinations are
 * resolved under the rootfs with openat2(RESOLVE_IN_ROOT), so a symlink in the image
 * never leads a mount outside it.
 * @userns: the container has its own user namespace (devices are bind-mounted then)
 * @before_cgroup: if not NULL, called (with @arg) before each cgroup mount: those read
 *	the init's own cgroups, so the runtime must have placed it by then
 * Return: a directory fd of the new root (for ctr_rootfs_pivot), or <0.
 */
int ctr_rootfs_prepare(const struct ctr_spec *spec, int userns,
		       int (*before_cgroup)(void *arg, struct cabin_err **err), void *arg,
		       struct cabin_err **err);

/**
 * ctr_mount_prepare_idmaps() - in the runtime, before clone: a user namespace for each
 * idmapped mount with its own uidMappings/gidMappings (the init inherits the fds; it
 * could not write maps for the host from inside its pid namespace).
 */
int ctr_mount_prepare_idmaps(struct ctr_spec *spec, struct cabin_err **err);

/**
 * ctr_mount_open_sources() - in the runtime, before clone, for a container with a new
 * user namespace: open every bind mount's source tree (not idmapped ones) with its
 * options applied, into ctr_mount.tree_fd; the init inherits the fds and only attaches
 * them. Root of the container's user namespace may lack search permission on a source
 * that host root may use (a 0700 directory), as runc's mount fds allow.
 */
int ctr_mount_open_sources(struct ctr_spec *spec, struct cabin_err **err);

/** ctr_rootfs_pivot() - pivot_root(2) into @rootfd, or MS_MOVE + chroot with @no_pivot. */
int ctr_rootfs_pivot(int rootfd, int no_pivot, struct cabin_err **err);

/**
 * ctr_rootfs_finish() - inside the new root: rootfsPropagation, maskedPaths,
 * readonlyPaths and root.readonly.
 */
int ctr_rootfs_finish(const struct ctr_spec *spec, struct cabin_err **err);

/**
 * ctr_mount_open_in_root() - open @path under @rootfd without leaving it
 * (openat2 RESOLVE_IN_ROOT, or resolve_open_walk() on kernels before 5.6; symlinks and `..`
 * resolve as if @rootfd were /). Return: fd or -errno.
 */
int ctr_mount_open_in_root(int rootfd, const char *path, int flags);

/**
 * ctr_mount_mkpath() - open @path under @rootfd as ctr_mount_open_in_root() does, first
 * creating what is missing: parents as directories, the last part as a directory (@dir)
 * or an empty file. Return: an O_PATH fd, or -errno.
 */
int ctr_mount_mkpath(int rootfd, const char *path, int dir);

/**
 * ctr_mount_console() - inside the new root: bind the slave of @master on /dev/console
 * (created as an empty file if missing), as the runtime-spec asks when process.terminal
 * is true. A read-only /dev without /dev/console is left as it is.
 */
int ctr_mount_console(int master, struct cabin_err **err);

#endif
