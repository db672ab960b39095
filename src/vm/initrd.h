/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_VM_INITRD_H
#define CABIN_VM_INITRD_H

/*
 * The initramfs of a microVM: an uncompressed cpio archive in the "newc"
 * format (Linux's Documentation/driver-api/early-userspace/buffer-format.rst)
 * holding cabin's static init as /init, the kernel modules a stock
 * distribution kernel needs for a virtio machine with a list of them in load
 * order, and optional extra files such as busybox.
 *
 * The entry point, for `cabin vm initrd` and the default `cabin vm run`:
 *
 *   int vm_initrd_build(const char *out_path, const char *init_path,
 *                       const char *modules_dir, char *const *extra_files,
 *                       struct cabin_err **err);
 *
 * and vm_initrd_build_opts() when the caller picks the modules.
 *
 * The pieces below are exported for tests and for callers that assemble
 * archives of their own.
 */
#include <stddef.h>
#include <stdint.h>

struct cabin_err;

/**
 * vm_initrd_build() - write an initramfs for a microVM
 * @out_path: archive to create; written to a temporary file and renamed into place
 * @init_path: static init program (cabin's src/guest/init), stored as /init
 * @modules_dir: the guest kernel's modules directory, e.g.
 *	`/var/cache/cabin/kernel/.../lib/modules/6.1.0-56-cloud-amd64` (scripts/fetch-kernel.sh
 *	prints it), or NULL for no modules. The modules of vm_initrd_default_modules and
 *	their dependencies (from each module's .modinfo `depends=`) are stored under
 *	/lib/modules/<basename of modules_dir>/ with `cabin.load`, their paths in load
 *	order, which the init reads. Modules built into the kernel (modules.builtin) or
 *	absent from it are left out.
 * @extra_files: NULL-terminated list of `HOST[:GUEST]` paths, or NULL. GUEST defaults
 *	to /bin/<basename of HOST>. A file stored as .../busybox also gets symlinks
 *	for the common applets (sh, ls, cat, mount, ...) next to it.
 * @err: set on failure
 *
 * The archive also has the directories the init mounts on (/dev, /proc, /sys,
 * /tmp, /run, /root, /bin, /sbin, /usr/bin, /etc) and /dev/console, so the kernel can
 * give init a console before devtmpfs is mounted. Owners are root, times zero: the
 * same inputs give the same bytes.
 *
 * Return: 0, or <0 with @err set.
 */
int vm_initrd_build(const char *out_path, const char *init_path, const char *modules_dir,
		    char *const *extra_files, struct cabin_err **err);

/**
 * struct vm_initrd_opts - everything vm_initrd_build_opts() puts in the archive
 * @init_path, @modules_dir, @extra_files: as for vm_initrd_build()
 * @modules: NULL-terminated module names to include with their dependencies, or NULL
 *	for vm_initrd_default_modules
 */
struct vm_initrd_opts {
	const char *init_path;
	const char *modules_dir;
	const char *const *modules;
	char *const *extra_files;
};

/**
 * vm_initrd_build_opts() - vm_initrd_build() with a choice of modules (`--module M`)
 * Return: 0, or <0 with @err set.
 */
int vm_initrd_build_opts(const char *out_path, const struct vm_initrd_opts *o,
			 struct cabin_err **err);

/* NULL-terminated default module list (names as the kernel spells them, with '_'). */
extern const char *const vm_initrd_default_modules[];

/**
 * struct vm_cpio - a cpio "newc" archive being written to a file descriptor
 * @fd: where the archive goes (not owned)
 * @off: bytes written so far
 * @ino: last inode number handed out (entries get 1, 2, 3, ...)
 * @dirs: directories already in the archive (NULL-terminated, owned)
 */
struct vm_cpio {
	int fd;
	uint64_t off;
	uint32_t ino;
	char **dirs;
};

/** vm_cpio_init() - start an archive on @fd (no bytes are written yet). */
void vm_cpio_init(struct vm_cpio *c, int fd);

/**
 * vm_cpio_add() - append one entry
 * @name: path inside the archive, without a leading '/' (one is stripped)
 * @mode: file type and permission bits (S_IFREG, S_IFDIR, S_IFLNK, S_IFCHR...)
 * @data: file contents or symlink target; @len bytes (0 for directories, nodes)
 * @rdev_major, @rdev_minor: device number of character and block nodes
 *
 * Missing parent directories are added first (mode 0755). Adding a directory
 * that is already in the archive does nothing.
 * Return: 0, or <0 with @err set.
 */
int vm_cpio_add(struct vm_cpio *c, const char *name, uint32_t mode, const void *data, size_t len,
		uint32_t rdev_major, uint32_t rdev_minor, struct cabin_err **err);

/**
 * vm_cpio_finish() - append the TRAILER!!! entry and pad the archive to 512 bytes
 * Return: 0, or <0 with @err set.
 */
int vm_cpio_finish(struct vm_cpio *c, struct cabin_err **err);

/** vm_cpio_release() - free what @c owns (not its fd); safe to call twice. */
void vm_cpio_release(struct vm_cpio *c);

/**
 * vm_modinfo_get() - look up a key of a kernel module's .modinfo section
 * @elf: the whole .ko file (ELF64, little-endian); @len its size
 * @key: e.g. "depends" or "name"
 *
 * Every offset in the file is checked against @len before use.
 * Return: a pointer into @elf to the NUL-terminated value, or NULL when the file is
 * not a well-formed ELF64 object, has no .modinfo, or lacks @key.
 */
const char *vm_modinfo_get(const void *elf, size_t len, const char *key);

/**
 * vm_initrd_modules() - resolve modules and their dependencies in load order
 * @modules_dir: as for vm_initrd_build()
 * @names: NULL-terminated module names ('-' and '_' are equivalent)
 * @out: set to a NULL-terminated list of paths relative to @modules_dir, each
 *	module after everything it depends on (free with strv_free)
 *
 * Requested modules that are neither files nor in modules.builtin are skipped (a
 * kernel may have built them in without saying so); a missing dependency that is
 * not built in is an error.
 * Return: number of modules, or <0 with @err set.
 */
int vm_initrd_modules(const char *modules_dir, const char *const *names, char ***out,
		      struct cabin_err **err);

#endif
