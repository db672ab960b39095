/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building the container's filesystem. This runs in the container init, in its new
 * mount namespace, as root of its user namespace. The rootfs is untrusted: every
 * destination is resolved with openat2(RESOLVE_IN_ROOT) relative to the rootfs and the
 * mount targets the resulting fd through /proc/self/fd, so a symlink planted in the
 * image ("/proc -> /etc") cannot make us mount over a host path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctr/cgroup.h"
#include "ctr/container.h"
#include "ctr/copyup.h"
#include "ctr/mount.h"
#include "ctr/spec.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/resolve.h"
#include "lib/util.h"
#include "lib/xalloc.h"

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static int sys_move_mount(int from, const char *fp, int to, const char *tp, unsigned flags)
{
	return (int)syscall(SYS_move_mount, from, fp, to, tp, flags);
}

static int sys_mount_setattr(int dfd, const char *path, unsigned flags, struct mount_attr *attr)
{
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, attr, sizeof(*attr));
}

int ctr_mount_open_in_root(int rootfd, const char *path, int flags)
{
	/*
	 * Below Linux 5.6 resolve_open() walks the path itself: a plain openat() with
	 * O_NOFOLLOW would still follow a symlink planted earlier in the path (from the
	 * host's `/`) and `..` out of the rootfs.
	 */
	return resolve_open(rootfd, path, flags, 0, RESOLVE_SCOPE_IN_ROOT);
}

/*
 * Open @path under @rootfd, creating missing parents as directories and the last part
 * as a directory (@dir) or an empty file. Return an O_PATH fd or -errno.
 */
static int mkpath_in_root(int rootfd, const char *path, int dir)
{
	int fd;

	/* the common case, everything there: one openat2 */
	fd = ctr_mount_open_in_root(rootfd, path, O_PATH);
	if (fd >= 0 || fd != -ENOENT)
		return fd;
	/*
	 * Something is missing, perhaps behind a dangling symlink of the image ("/var/run
	 * -> /run" with no /run): make it where the link points, inside the rootfs, as runc
	 * and crun do.
	 */
	return resolve_mkpath(rootfd, path, dir);
}

int ctr_mount_mkpath(int rootfd, const char *path, int dir)
{
	return mkpath_in_root(rootfd, path, dir);
}

static void fdpath(char *buf, size_t n, int fd)
{
	snprintf(buf, n, "/proc/self/fd/%d", fd);
}

static int set_propagation(int rootfd, const char *dest, unsigned long prop, int rec,
			   struct cabin_err **err)
{
	cleanup_close int fd = -1;
	char p[64];

	if (!prop)
		return 0;
	fd = ctr_mount_open_in_root(rootfd, dest, O_PATH);
	if (fd < 0)
		return cabin_err_make(err, -fd, "open mount `%s`", dest);
	fdpath(p, sizeof(p), fd);
	if (mount(NULL, p, NULL, prop | (rec ? MS_REC : 0), NULL) < 0)
		return cabin_err_make(err, errno, "set propagation of mount `%s`", dest);
	return 0;
}

/*
 * A user namespace holding a mount's own uidMappings/gidMappings, for MOUNT_ATTR_IDMAP:
 * a short-lived child unshares it, we write its maps and keep a reference to it.
 */
static int mapped_userns(const struct ctr_mount *m, struct cabin_err **err)
{
	int pfd[2], fd = -1;
	char path[64];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return cabin_err_make(err, errno, "pipe");
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, NULL, NULL, 0);
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return cabin_err_make(err, errno, "mount `%s`: user namespace for idmap", m->dest);
	}
	if (pid == 0) {
		char b;

		close(pfd[1]);
		(void)!read(pfd[0], &b, 1); /* until the parent is done with us */
		_exit(0);
	}
	close(pfd[0]);
	if (ctr_write_idmap(pid, "uid_map", m->uid_mappings, err) == 0 &&
	    ctr_write_idmap(pid, "gid_map", m->gid_mappings, err) == 0) {
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			cabin_err_make(err, errno, "open `%s`", path);
	}
	close(pfd[1]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (fd < 0)
		cabin_err_wrap(err, "mount `%s` (uidMappings)", m->dest);
	return fd;
}

int ctr_mount_prepare_idmaps(struct ctr_spec *spec, struct cabin_err **err)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		struct ctr_mount *m = &spec->mounts[i];

		if (!m->idmap || !m->uid_mappings || m->userns_fd >= 0)
			continue;
		m->userns_fd = mapped_userns(m, err);
		if (m->userns_fd < 0)
			return -1;
	}
	return 0;
}

/*
 * A detached copy of the bind mount's source tree (open_tree), with its options applied.
 * Return: the tree fd, or <0 with @err set.
 */
static int open_bind_tree(const struct ctr_spec *spec, const struct ctr_mount *m,
			  struct cabin_err **err)
{
	cleanup_free char *src = NULL;
	cleanup_close int tree = -1;
	struct mount_attr attr = { 0 };
	struct stat sb;

	src = m->source[0] == '/' ? xstrdup(m->source)
				  : xasprintf("%s/%s", spec->bundle, m->source);
	if (stat(src, &sb) < 0)
		return cabin_err_make(err, errno, "bind mount source `%s`", src);
	tree = sys_open_tree(AT_FDCWD, src,
			     OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
				     (m->recursive ? AT_RECURSIVE : 0));
	if (tree < 0)
		return cabin_err_make(err, errno, "bind mount `%s`: open_tree `%s`", m->dest, src);
	/*
	 * Plain options ("ro", "nosuid", ...) apply to the top mount only, also for an
	 * rbind, as runc does: the submounts keep their own flags. Propagation, an idmap
	 * of an rbind and the recursive options ("rro", ...) apply to the whole tree.
	 */
	attr.attr_set = m->attr_set;
	attr.attr_clr = m->attr_clr;
	if (attr.attr_clr & MOUNT_ATTR__ATIME)
		attr.attr_clr |= MOUNT_ATTR__ATIME;
	if ((attr.attr_set || attr.attr_clr) &&
	    sys_mount_setattr(tree, "", AT_EMPTY_PATH, &attr) < 0)
		return cabin_err_make(err, errno, "bind mount `%s`: set attributes", m->dest);
	memset(&attr, 0, sizeof(attr));
	attr.attr_set = m->rattr_set;
	attr.attr_clr = m->rattr_clr;
	attr.propagation = m->propagation;
	if (m->idmap) {
		/*
		 * Without explicit mappings the mount maps like the container's user
		 * namespace; explicit per-mount mappings need their own namespace.
		 */
		int ufd = m->uid_mappings ? dup(m->userns_fd)
					  : open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC);

		if (ufd < 0)
			return cabin_err_make(err, errno, "mount `%s`: user namespace for idmap",
					      m->dest);
		attr.attr_set |= MOUNT_ATTR_IDMAP;
		attr.userns_fd = (unsigned long long)ufd;
	}
	if ((attr.attr_set || attr.attr_clr || attr.propagation) &&
	    sys_mount_setattr(
		    tree, "",
		    AT_EMPTY_PATH |
			    (m->recursive || m->rattr_set || m->rattr_clr ? AT_RECURSIVE : 0),
		    &attr) < 0) {
		int e = errno;

		if (m->idmap)
			close((int)attr.userns_fd);
		return cabin_err_make(err, e, "bind mount `%s`: set attributes%s", m->dest,
				      m->idmap ? " (idmapped mount)" : "");
	}
	if (m->idmap)
		close((int)attr.userns_fd);
	return steal_fd(&tree);
}

int ctr_mount_open_sources(struct ctr_spec *spec, struct cabin_err **err)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		struct ctr_mount *m = &spec->mounts[i];

		/* idmapped mounts need the container's user namespace: the init makes them */
		if (m->kind != CTR_MOUNT_BIND || m->idmap || m->tree_fd >= 0)
			continue;
		m->tree_fd = open_bind_tree(spec, m, err);
		/*
		 * A runtime without CAP_SYS_ADMIN (rootless) cannot clone mounts here: the
		 * init, root of its own namespaces, then opens the sources itself.
		 */
		if (m->tree_fd < 0 && *err && (*err)->status == EPERM) {
			cabin_err_release(err);
			return 0;
		}
		if (m->tree_fd < 0)
			return -1;
	}
	return 0;
}

static int mount_bind(const struct ctr_spec *spec, int rootfd, const struct ctr_mount *m,
		      struct cabin_err **err)
{
	cleanup_close int own = -1, target = -1;
	int tree = m->tree_fd;
	struct stat sb;

	if (tree < 0) {
		own = open_bind_tree(spec, m, err);
		if (own < 0)
			return -1;
		tree = own;
	}
	if (fstat(tree, &sb) < 0)
		return cabin_err_make(err, errno, "bind mount `%s`: stat the source", m->dest);
	target = mkpath_in_root(rootfd, m->dest, S_ISDIR(sb.st_mode));
	if (target < 0)
		return cabin_err_make(err, -target, "create mount point `%s`", m->dest);
	if (sys_move_mount(tree, "", target, "",
			   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return cabin_err_make(err, errno, "bind mount `%s` on `%s`", m->source, m->dest);
	return 0;
}

/*
 * Without a cgroup namespace, a hierarchy mounted at @dir/@name shows the host's root
 * cgroup. Replace it with a bind of the container's own directory @path in it, as runc
 * does, so memory.limit_in_bytes there is the container's limit. A path outside the
 * cgroup namespace root ("/../x") keeps the whole hierarchy: ".." would leave the mount.
 */
static int cgroup_own_dir(int dir, const char *name, const char *path, const char *dest,
			  struct cabin_err **err)
{
	cleanup_close int root = -1, tree = -1;
	char p[64];

	while (*path == '/')
		path++;
	if (!*path || !strncmp(path, "..", 2))
		return 0;
	root = openat(dir, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return cabin_err_make(err, errno, "open `%s/%s`", dest, name);
	tree = sys_open_tree(root, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return cabin_err_make(err, errno, "bind cgroup `%s` on `%s/%s`", path, dest, name);
	fdpath(p, sizeof(p), root);
	if (umount2(p, MNT_DETACH) < 0)
		return cabin_err_make(err, errno, "unmount `%s/%s`", dest, name);
	if (sys_move_mount(tree, "", dir, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return cabin_err_make(err, errno, "bind cgroup `%s` on `%s/%s`", path, dest, name);
	return 0;
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mountinfo(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* Is every controller of @opts ("cpu,cpuacct", "name=systemd") among @super's options? */
static int has_controllers(const char *super, const char *opts)
{
	cleanup_free char *want = xstrdup(opts);
	char *save = NULL;

	for (char *w = strtok_r(want, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t n = strlen(w);
		const char *p = super;
		int found = 0;

		while (!found && (p = strstr(p, w))) {
			found = (p == super || p[-1] == ',') && (p[n] == ',' || p[n] == '\0');
			p += n;
		}
		if (!found)
			return 0;
	}
	return 1;
}

/* A cgroup or cgroup2 mount of /proc/self/mountinfo, its fields unescaped. */
struct host_cg_mnt {
	char *root, *mnt, *super;
	int v2;
};

/*
 * The cgroup mounts of @mountinfo (its text, split in place; each hierarchy is looked up in
 * it, so it is parsed once). Returns how many of at most @max are in @out.
 */
static size_t host_cgroup_mounts(char *mountinfo, struct host_cg_mnt *out, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *l = strtok_r(mountinfo, "\n", &save); l && n < max;
	     l = strtok_r(NULL, "\n", &save)) {
		char *f[5] = { 0 }, *p = l, *sep = strstr(l, " - "), *type, *super;
		int i;

		if (!sep)
			continue;
		*sep = '\0';
		for (i = 0; i < 5 && p; i++)
			f[i] = strsep(&p, " ");
		type = sep + 3;
		super = strchr(type, ' ');
		if (!f[4] || !super)
			continue;
		*super = '\0';
		super = strchr(super + 1, ' '); /* past the source */
		if (!super || (strcmp(type, "cgroup") && strcmp(type, "cgroup2")))
			continue;
		unescape_mountinfo(f[3]);
		unescape_mountinfo(f[4]);
		out[n].root = f[3];
		out[n].mnt = f[4];
		out[n].super = super + 1;
		out[n].v2 = !strcmp(type, "cgroup2");
		n++;
	}
	return n;
}

/*
 * The host's path of the cgroup directory @path of the hierarchy with controllers @opts
 * (NULL: cgroup2), from the host's cgroup mounts @m; NULL when that hierarchy is not
 * mounted.
 */
static char *host_cgroup_dir(const struct host_cg_mnt *m, size_t nm, const char *opts,
			     const char *path)
{
	for (size_t i = 0; i < nm; i++) {
		size_t n;

		if (opts ? m[i].v2 || !has_controllers(m[i].super, opts) : !m[i].v2)
			continue;
		/* a mount of a subtree (a runtime inside a container) covers only that part */
		n = strcmp(m[i].root, "/") ? strlen(m[i].root) : 0;
		if (strncmp(path, m[i].root, n) || (path[n] != '/' && path[n] != '\0'))
			continue;
		return xasprintf("%s%s", m[i].mnt, path + n);
	}
	return NULL;
}

/*
 * Without a cgroup namespace of its own, bind the container's directory from the host's
 * mount of the hierarchy, read-only when the mount asks for it (runc does the same). In a
 * user namespace no cgroup filesystem can be mounted at all; elsewhere this also spares a
 * fresh mount and its unmount per hierarchy: every unmount waits for an RCU grace period
 * (namespace_unlock()), which made them the largest cost of `create`.
 * Returns 1 when bound, 0 when the host does not mount that hierarchy.
 */
static int cgroup_bind_host(const struct host_cg_mnt *hm, size_t nhm, int dir, const char *name,
			    const char *opts, const char *path, const struct ctr_mount *m,
			    struct cabin_err **err)
{
	cleanup_free char *src = host_cgroup_dir(hm, nhm, opts, path);
	cleanup_close int tree = -1;
	struct mount_attr attr = { 0 };

	if (!src)
		return 0;
	tree = sys_open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return cabin_err_make(err, errno, "bind cgroup `%s` on `%s/%s`", src, m->dest,
				      name);
	attr.attr_set = (m->flags & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) |
			(m->flags & MS_NOSUID ? MOUNT_ATTR_NOSUID : 0) |
			(m->flags & MS_NODEV ? MOUNT_ATTR_NODEV : 0) |
			(m->flags & MS_NOEXEC ? MOUNT_ATTR_NOEXEC : 0);
	if (attr.attr_set && sys_mount_setattr(tree, "", AT_EMPTY_PATH, &attr) < 0)
		return cabin_err_make(err, errno, "set flags of `%s/%s`", m->dest, name);
	if (sys_move_mount(tree, "", dir, name, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return cabin_err_make(err, errno, "bind cgroup `%s` on `%s/%s`", src, m->dest,
				      name);
	return 1;
}

static int mount_cgroup(const struct ctr_spec *spec, int rootfd, const struct ctr_mount *m,
			int userns, struct cabin_err **err)
{
	cleanup_close int target = mkpath_in_root(rootfd, m->dest, 1);
	cleanup_fclose FILE *f = NULL;
	cleanup_free char *mountinfo = NULL;
	struct host_cg_mnt hm[64];
	size_t nhm = 0;
	unsigned long fl = m->flags & ~MS_RDONLY;
	char p[64], line[4096];
	int cgns = !!((spec->ns_new | spec->ns_joined) & CLONE_NEWCGROUP), bound;

	if (target < 0)
		return cabin_err_make(err, -target, "create mount point `%s`", m->dest);
	fdpath(p, sizeof(p), target);
	if (ctr_cgroup_host_mode() == CTR_CGROUP_V2) {
		if (mount("cgroup2", p, "cgroup2", m->flags, NULL) < 0)
			return cabin_err_make(err, errno, "mount cgroup2 on `%s`", m->dest);
		return 0;
	}
	if (mount("tmpfs", p, "tmpfs", fl, "mode=755") < 0)
		return cabin_err_make(err, errno, "mount tmpfs on `%s`", m->dest);
	close(target);
	target = ctr_mount_open_in_root(rootfd, m->dest, O_RDONLY | O_DIRECTORY);
	if (target < 0)
		return cabin_err_make(err, -target, "open `%s`", m->dest);
	f = fopen("/proc/self/cgroup", "re");
	if (!f)
		return cabin_err_make(err, errno, "open `/proc/self/cgroup`");
	/*
	 * A new mount namespace is a copy of the runtime's, which read mountinfo to resolve
	 * the cgroup: its cgroup mounts are those (the mounts made since are not cgroups).
	 */
	if (!cgns && !(spec->ns_joined & CLONE_NEWNS) && ctr_cgroup_mountinfo())
		mountinfo = xstrdup(ctr_cgroup_mountinfo());
	else if (!cgns && fs_read_file("/proc/self/mountinfo", 16 << 20, &mountinfo, NULL, err) < 0)
		return -1;
	if (mountinfo)
		nhm = host_cgroup_mounts(mountinfo, hm, ARRAY_SIZE(hm));
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2, *name, *opts;
		cleanup_close int sub = -1;

		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			continue;
		*c2 = '\0';
		c2[strcspn(c2 + 1, "\n") + 1] = '\0';
		opts = c1 + 1;
		if (!*opts) {
			name = (char *)"unified";
			opts = NULL;
		} else {
			name = !strncmp(opts, "name=", 5) ? opts + 5 : opts;
		}
		if (mkdirat(target, name, 0755) < 0 && errno != EEXIST)
			return cabin_err_make(err, errno, "mkdir `%s/%s`", m->dest, name);
		/*
		 * cgroup v1 hierarchies can only be mounted from the initial user namespace,
		 * or from the user namespace that owns the cgroup namespace: in a user
		 * namespace without one, a hierarchy the host does not mount stays empty
		 */
		bound = 0;
		if (!cgns) {
			bound = cgroup_bind_host(hm, nhm, target, name, opts, c2 + 1, m, err);
			if (bound < 0)
				return -1;
			if (!bound && userns)
				continue;
		}
		if (!bound) {
			sub = openat(target, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0)
				return cabin_err_make(err, errno, "open `%s/%s`", m->dest, name);
			fdpath(p, sizeof(p), sub);
		}
		if (!bound && mount("cgroup", p, opts ? "cgroup" : "cgroup2", m->flags, opts) < 0)
			return cabin_err_make(err, errno, "mount cgroup `%s` on `%s/%s`",
					      opts ? opts : "cgroup2", m->dest, name);
		if (!bound && cgroup_own_dir(target, name, c2 + 1, m->dest, err) < 0)
			return -1;
		/* cpu,cpuacct is also reachable as cpu and cpuacct, as on the host */
		if (opts && strchr(name, ',')) {
			cleanup_free char *dup = xstrdup(name);

			for (char *s = strtok(dup, ","); s; s = strtok(NULL, ","))
				if (symlinkat(name, target, s) < 0 && errno != EEXIST)
					return cabin_err_make(err, errno, "symlink `%s/%s`",
							      m->dest, s);
		}
	}
	if (m->flags & MS_RDONLY) {
		fdpath(p, sizeof(p), target);
		if (mount(NULL, p, NULL, MS_REMOUNT | fl | MS_RDONLY, "mode=755") < 0)
			return cabin_err_make(err, errno, "remount `%s` read-only", m->dest);
	}
	return 0;
}

/*
 * A tmpfs with `tmpcopyup`: the directory it covers is copied in before the mount's
 * own flags apply (a read-only tmpfs would refuse the copy).
 */
static int mount_tmpcopyup(int rootfd, const struct ctr_mount *m, int target,
			   struct cabin_err **err)
{
	cleanup_close int below = openat(target, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_close int top = -1;
	char p[64];

	if (below < 0)
		return cabin_err_make(err, errno, "open `%s`", m->dest);
	fdpath(p, sizeof(p), target);
	if (mount("tmpfs", p, "tmpfs", (m->flags & ~(MS_REMOUNT | MS_RDONLY)),
		  m->data && *m->data ? m->data : NULL) < 0)
		return cabin_err_make(err, errno, "mount tmpfs on `%s`", m->dest);
	top = ctr_mount_open_in_root(rootfd, m->dest, O_RDONLY | O_DIRECTORY);
	if (top < 0)
		return cabin_err_make(err, -top, "open `%s`", m->dest);
	if (ctr_copyup(below, top, err) < 0)
		return cabin_err_wrap(err, "mount `%s`", m->dest);
	if (m->flags & MS_RDONLY) {
		fdpath(p, sizeof(p), top);
		/* a bind remount sets all per-mount flags: keep nosuid, nodev, noexec */
		if (mount(NULL, p, NULL, MS_REMOUNT | MS_BIND | m->flags, NULL) < 0)
			return cabin_err_make(err, errno, "remount `%s` read-only", m->dest);
	}
	if (m->propagation)
		return set_propagation(rootfd, m->dest, m->propagation, 0, err);
	return 0;
}

/*
 * proc and sysfs give the container the kernel's view: a symlink planted at their mount
 * point in the image would put them elsewhere (and leave /proc or /sys unmasked), so
 * the mount point must be a real directory, as runc requires.
 */
static int check_proc_dest(int rootfd, const struct ctr_mount *m, struct cabin_err **err)
{
	cleanup_close int fd = -1;
	struct stat sb;

	if (!m->type || (strcmp(m->type, "proc") && strcmp(m->type, "sysfs")))
		return 0;
	fd = ctr_mount_open_in_root(rootfd, m->dest, O_PATH | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, &sb) == 0 && !S_ISDIR(sb.st_mode))
		return cabin_err_make(err, 0,
				      "mount `%s` (%s): it must be mounted on ordinary directory, "
				      "not a symlink or a file",
				      m->dest, m->type);
	return 0;
}

static int mount_fs(int rootfd, const struct ctr_mount *m, struct cabin_err **err)
{
	cleanup_close int target = -1;
	char p[64];
	int ret;

	if (check_proc_dest(rootfd, m, err) < 0)
		return -1;
	target = mkpath_in_root(rootfd, m->dest, 1);

	if (target < 0)
		return cabin_err_make(err, -target, "create mount point `%s`", m->dest);
	if (m->tmpcopyup)
		return mount_tmpcopyup(rootfd, m, target, err);
	fdpath(p, sizeof(p), target);
	ret = mount(m->source ? m->source : m->type, p, m->type, m->flags & ~MS_REMOUNT,
		    *m->data ? m->data : NULL);
	if (ret < 0 && errno == EINVAL && !strcmp(m->type, "sysfs")) {
		/* sysfs needs a network namespace we own: fall back to a bind of /sys */
		struct ctr_mount b = *m;

		b.kind = CTR_MOUNT_BIND;
		b.source = "/sys";
		b.recursive = 1;
		return mount_bind(NULL, rootfd, &b, err);
	}
	if (ret < 0)
		return cabin_err_make(err, errno, "mount `%s` (%s) on `%s`",
				      m->source ? m->source : m->type, m->type, m->dest);
	if (m->rattr_set || m->rattr_clr) {
		struct mount_attr attr = { .attr_set = m->rattr_set, .attr_clr = m->rattr_clr };
		/* @target is the directory below the new mount: open the mount itself */
		cleanup_close int top = ctr_mount_open_in_root(rootfd, m->dest, O_PATH);

		if (top < 0)
			return cabin_err_make(err, -top, "open mount `%s`", m->dest);
		if (sys_mount_setattr(top, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr) < 0)
			return cabin_err_make(err, errno, "mount `%s`: set recursive attributes",
					      m->dest);
	}
	if (m->propagation)
		return set_propagation(rootfd, m->dest, m->propagation, 0, err);
	return 0;
}

struct dev_default {
	const char *path;
	unsigned major, minor;
};

static const struct dev_default default_devices[] = {
	{ "/dev/null", 1, 3 },	 { "/dev/zero", 1, 5 },	   { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 }, { "/dev/tty", 5, 0 },
};

/*
 * Make @d as @name in the directory @pfd. make_devices() has set the umask to 0, so mknod
 * gives the permission bits asked for; only set-id and sticky bits need a chmod, and only
 * an owner other than the one mknod gives (ours, or the group of a set-group-ID parent,
 * @chown_always) a chown.
 */
static int make_device_at(int pfd, const char *name, const struct ctr_device *d, int userns,
			  int chown_always, struct cabin_err **err)
{
	if (!*name || !strcmp(name, "..") || !strcmp(name, "."))
		return cabin_err_make(err, EINVAL, "device path `%s`", d->path);
	if (!userns || d->type == S_IFIFO) {
		dev_t dev = makedev(d->major, d->minor);
		mode_t mode = d->type | (d->mode & 07777);

		/* whatever the image has there is replaced */
		if (mknodat(pfd, name, mode, dev) < 0 &&
		    (errno != EEXIST || unlinkat(pfd, name, 0) < 0 ||
		     mknodat(pfd, name, mode, dev) < 0))
			return cabin_err_make(err, errno, "mknod `%s`", d->path);
		if ((chown_always || d->uid != geteuid() || d->gid != getegid()) &&
		    fchownat(pfd, name, d->uid, d->gid, AT_SYMLINK_NOFOLLOW) < 0)
			return cabin_err_make(err, errno, "chown `%s`", d->path);
		/* set-id bits are dropped by mknod for a group we are not in, and by chown */
		if ((d->mode & 07000) && fchmodat(pfd, name, d->mode & 07777, 0) < 0)
			return cabin_err_make(err, errno, "chmod `%s`", d->path);
		return 0;
	}
	unlinkat(pfd, name, 0);
	/* In a user namespace mknod is refused: bind the host's node instead. */
	{
		cleanup_close int f =
			openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		cleanup_close int tree = -1;

		if (f < 0)
			return cabin_err_make(err, errno, "create `%s`", d->path);
		close(f);
		f = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (f < 0)
			return cabin_err_make(err, errno, "open `%s`", d->path);
		tree = sys_open_tree(AT_FDCWD, d->path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (tree < 0)
			return cabin_err_make(err, errno, "bind device `%s` from the host",
					      d->path);
		if (sys_move_mount(tree, "", f, "",
				   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			return cabin_err_make(err, errno, "bind device `%s`", d->path);
	}
	return 0;
}

/* @d anywhere in the rootfs: its parent directories are made as needed. */
static int make_device(int rootfd, const struct ctr_device *d, int userns, struct cabin_err **err)
{
	cleanup_free char *parent = NULL;
	cleanup_close int pfd = -1;
	const char *slash = strrchr(d->path, '/');

	parent = xstrndup(d->path, (size_t)(slash - d->path));
	{
		int t = mkpath_in_root(rootfd, *parent ? parent : "/", 1);

		if (t < 0)
			return cabin_err_make(err, -t, "create `%s`", parent);
		pfd = openat(t, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(t);
		if (pfd < 0)
			return cabin_err_make(err, errno, "open `%s`", parent);
	}
	return make_device_at(pfd, slash + 1, d, userns, 1, err);
}

static int make_devices_in(const struct ctr_spec *spec, int rootfd, int devd, int userns,
			   struct cabin_err **err)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "fd" },	 { "/proc/self/fd/0", "stdin" },
		{ "/proc/self/fd/1", "stdout" }, { "/proc/self/fd/2", "stderr" },
		{ "pts/ptmx", "ptmx" },
	};
	struct stat sb;
	int sgid = fstat(devd, &sb) < 0 || (sb.st_mode & S_ISGID);

	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		struct ctr_device d = {
			.path = default_devices[i].path,
			.type = S_IFCHR,
			.major = default_devices[i].major,
			.minor = default_devices[i].minor,
			.mode = 0666,
		};
		size_t j;

		for (j = 0; j < spec->n_devices; j++)
			if (!strcmp(spec->devices[j].path, d.path))
				break;
		if (j < spec->n_devices)
			continue; /* config.json overrides the default */
		if (make_device_at(devd, d.path + strlen("/dev/"), &d, userns, sgid, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < spec->n_devices; i++)
		if (make_device(rootfd, &spec->devices[i], userns, err) < 0)
			return -1;
	for (size_t i = 0; i < ARRAY_SIZE(links); i++)
		if (symlinkat(links[i][0], devd, links[i][1]) < 0 && errno != EEXIST)
			return cabin_err_make(err, errno, "symlink `/dev/%s`", links[i][1]);
	/* an existing /dev/ptmx node would not reach our devpts instance */
	if (fstatat(devd, "ptmx", &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(sb.st_mode)) {
		unlinkat(devd, "ptmx", 0);
		if (symlinkat("pts/ptmx", devd, "ptmx") < 0)
			return cabin_err_make(err, errno, "symlink `/dev/ptmx`");
	}
	return 0;
}

static int make_devices(const struct ctr_spec *spec, int rootfd, int userns, struct cabin_err **err)
{
	cleanup_close int dev = -1, devd = -1;
	mode_t um;
	int ret;

	for (size_t i = 0; i < spec->n_mounts; i++)
		if (!strcmp(spec->mounts[i].dest, "/dev") && spec->mounts[i].kind == CTR_MOUNT_BIND)
			return 0; /* the host's /dev (or the caller's) is used as is */
	dev = mkpath_in_root(rootfd, "/dev", 1);
	if (dev < 0)
		return cabin_err_make(err, -dev, "create `/dev`");
	devd = openat(dev, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (devd < 0)
		return cabin_err_make(err, errno, "open `/dev`");
	um = umask(0);
	ret = make_devices_in(spec, rootfd, devd, userns, err);
	umask(um);
	return ret;
}

/* @dest is "/dev" (with any number of slashes) */
static int is_dev(const char *dest)
{
	while (*dest == '/')
		dest++;
	if (strncmp(dest, "dev", 3))
		return 0;
	dest += 3;
	while (*dest == '/')
		dest++;
	return !*dest;
}

int ctr_rootfs_prepare(const struct ctr_spec *spec, int userns,
		       int (*before_cgroup)(void *arg, struct cabin_err **err), void *arg,
		       struct cabin_err **err)
{
	cleanup_close int rootfd = -1;
	unsigned long prop = MS_SLAVE;
	int dev_ro = 0;

	if (spec->rootfs_propagation == MS_PRIVATE || spec->rootfs_propagation == MS_UNBINDABLE)
		prop = MS_PRIVATE;
	/* Nothing we mount may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | prop, NULL) < 0)
		return cabin_err_make(err, errno, "make `/` %s",
				      prop == MS_SLAVE ? "rslave" : "rprivate");
	/* pivot_root needs the new root to be a mount point */
	if (mount(spec->rootfs, spec->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return cabin_err_make(err, errno, "bind rootfs `%s`", spec->rootfs);
	rootfd = open(spec->rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return cabin_err_make(err, errno, "open rootfs `%s`", spec->rootfs);
	for (size_t i = 0; i < spec->n_mounts; i++) {
		struct ctr_mount dev_rw;
		const struct ctr_mount *m = &spec->mounts[i];
		int ret;

		/*
		 * A read-only /dev still needs its mount points (pts, shm, mqueue) and device
		 * nodes made inside it: mount it writable, make it read-only once everything
		 * below is in place (as runc's finalizeRootfs).
		 */
		if (is_dev(m->dest) &&
		    ((m->flags & MS_RDONLY) || (m->attr_set & MOUNT_ATTR_RDONLY))) {
			dev_rw = *m;
			dev_rw.flags &= ~MS_RDONLY;
			dev_rw.attr_set &= ~MOUNT_ATTR_RDONLY;
			m = &dev_rw;
			dev_ro = 1;
		}
		switch (m->kind) {
		case CTR_MOUNT_BIND:
			ret = mount_bind(spec, rootfd, m, err);
			break;
		case CTR_MOUNT_CGROUP:
			ret = before_cgroup ? before_cgroup(arg, err) : 0;
			if (ret >= 0)
				ret = mount_cgroup(spec, rootfd, m, userns, err);
			break;
		case CTR_MOUNT_FS:
		default:
			ret = mount_fs(rootfd, m, err);
			break;
		}
		if (ret < 0)
			return -1;
	}
	if (make_devices(spec, rootfd, userns, err) < 0)
		return -1;
	if (dev_ro) {
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
		cleanup_close int dev = ctr_mount_open_in_root(rootfd, "/dev", O_PATH);

		if (dev < 0)
			return cabin_err_make(err, -dev, "open `/dev`");
		/* not recursive: /dev/pts, /dev/shm and /dev/mqueue stay as configured */
		if (sys_mount_setattr(dev, "", AT_EMPTY_PATH, &attr) < 0)
			return cabin_err_make(err, errno, "make `/dev` read-only");
	}
	return steal_fd(&rootfd);
}

/*
 * --no-pivot leaves the host's mounts in the container's mount namespace, below the
 * chroot. The kernel lets a new user namespace mount proc (or sysfs) only where a full
 * mount of it without covered (locked) subtrees is already visible: the container's own
 * /proc has masked paths, but the host's /proc is such a mount, so a process of the
 * container could `unshare -mrpf` and mount a bare /proc (sysrq-trigger, kcore, ...).
 * Detach every full proc and sysfs mount outside the rootfs first, or cover it with a
 * tmpfs where it cannot be unmounted (runc does the same in msMoveRoot).
 */
static int hide_host_procfs(int rootfd, struct cabin_err **err)
{
	char fdpath[64], root[PATH_MAX], line[4096];
	cleanup_free char *buf = NULL;
	size_t len = 0, cap = 0, rlen;
	ssize_t n;

	snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", rootfd);
	n = readlink(fdpath, root, sizeof(root) - 1);
	if (n < 0)
		return cabin_err_make(err, errno, "--no-pivot: locate the rootfs");
	root[n] = '\0';
	rlen = (size_t)n;
	/* collect the mount points first: /proc itself goes away as we detach it */
	{
		cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");

		if (!f)
			return cabin_err_make(err, errno, "--no-pivot: read /proc/self/mountinfo");
		while (fgets(line, sizeof(line), f)) {
			char mroot[1024], mnt[1024], type[64];
			const char *sep = strstr(line, " - ");
			size_t l;

			if (!sep || sscanf(line, "%*d %*d %*s %1023s %1023s", mroot, mnt) != 2 ||
			    sscanf(sep + 3, "%63s", type) != 1)
				continue;
			if (strcmp(type, "proc") && strcmp(type, "sysfs"))
				continue;
			unescape_mountinfo(mroot);
			unescape_mountinfo(mnt);
			/* a bind of a subtree does not let anyone mount a new instance */
			if (strcmp(mroot, "/"))
				continue;
			/* the container's own /proc and /sys stay */
			if (!strncmp(mnt, root, rlen) &&
			    (mnt[rlen] == '/' || mnt[rlen] == '\0' || rlen == 1))
				continue;
			l = strlen(mnt) + 1;
			if (len + l > cap) {
				cap = (len + l) * 2;
				buf = xrealloc(buf, cap);
			}
			memcpy(buf + len, mnt, l);
			len += l;
		}
	}
	for (size_t off = 0; off < len; off += strlen(buf + off) + 1) {
		const char *mnt = buf + off;

		/* the detach must not propagate to the host's namespace */
		if (mount(NULL, mnt, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue; /* below a mount detached already */
			return cabin_err_make(err, errno, "--no-pivot: make `%s` a slave", mnt);
		}
		if (umount2(mnt, MNT_DETACH) == 0)
			continue;
		if (errno != EINVAL && errno != EPERM)
			return cabin_err_make(err, errno, "--no-pivot: detach `%s`", mnt);
		/* locked (we are in a user namespace): cover it instead */
		if (mount("tmpfs", mnt, "tmpfs", 0, NULL) < 0)
			return cabin_err_make(err, errno, "--no-pivot: cover `%s`", mnt);
	}
	return 0;
}

int ctr_rootfs_pivot(int rootfd, int no_pivot, struct cabin_err **err)
{
	if (no_pivot && hide_host_procfs(rootfd, err) < 0)
		return -1;
	if (fchdir(rootfd) < 0)
		return cabin_err_make(err, errno, "chdir to rootfs");
	if (no_pivot) {
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return cabin_err_make(err, errno, "move rootfs to `/`");
		if (chroot(".") < 0)
			return cabin_err_make(err, errno, "chroot");
	} else {
		/*
		 * pivot_root(".", ".") stacks the old root on top of the new one; detaching
		 * "." then removes it without needing a directory for it in the image.
		 */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			return cabin_err_make(err, errno, "pivot_root");
		if (umount2(".", MNT_DETACH) < 0)
			return cabin_err_make(err, errno, "detach the old root");
	}
	if (chdir("/") < 0)
		return cabin_err_make(err, errno, "chdir `/`");
	return 0;
}

/*
 * The container's /dev/null, checked to be the null device, for masking files. A /dev
 * the container shares with something else (a volume bound at /dev) can hold a symlink
 * or another node there: binding what the path leads to would put, say, a writable
 * /proc/sys/kernel/core_pattern over a masked path (CVE-2025-31133 in runc).
 * Return: an O_PATH fd of it, or -1 with @err set.
 */
static int open_null(struct cabin_err **err)
{
	struct stat sb;
	int fd = open("/dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) /* ENOENT: no /dev/null in a container without /dev */
		return cabin_err_make(err, errno, "mask a path with `/dev/null`");
	if (fstat(fd, &sb) < 0 || !S_ISCHR(sb.st_mode) || sb.st_rdev != makedev(1, 3)) {
		close(fd);
		return cabin_err_make(err, 0,
				      "mask a path: `/dev/null` in the container is not the null "
				      "device (1:3)");
	}
	return fd;
}

static int mask_path(const char *path, int *nullfd, struct cabin_err **err)
{
	cleanup_close int tree = -1;
	struct stat sb;

	if (lstat(path, &sb) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return cabin_err_make(err, errno, "masked path `%s`", path);
	}
	if (S_ISDIR(sb.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k,mode=555") < 0)
			return cabin_err_make(err, errno, "mask `%s`", path);
		return 0;
	}
	if (*nullfd < 0 && (*nullfd = open_null(err)) < 0)
		return -1;
	/* bind the checked node itself, not whatever the path /dev/null leads to now */
	tree = sys_open_tree(*nullfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0 || sys_move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return cabin_err_make(err, errno, "mask `%s`", path);
	return 0;
}

static int readonly_path(const char *path, struct cabin_err **err)
{
	struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return cabin_err_make(err, errno, "readonly path `%s`", path);
	}
	if (sys_mount_setattr(AT_FDCWD, path, AT_RECURSIVE | AT_SYMLINK_NOFOLLOW, &attr) < 0)
		return cabin_err_make(err, errno, "make `%s` read-only", path);
	return 0;
}

int ctr_rootfs_finish(const struct ctr_spec *spec, struct cabin_err **err)
{
	cleanup_close int nullfd = -1;

	if (spec->rootfs_propagation &&
	    mount(NULL, "/", NULL, MS_REC | spec->rootfs_propagation, NULL) < 0)
		return cabin_err_make(err, errno, "set rootfsPropagation");
	for (size_t i = 0; spec->masked && spec->masked[i]; i++)
		if (mask_path(spec->masked[i], &nullfd, err) < 0)
			return -1;
	for (size_t i = 0; spec->readonly && spec->readonly[i]; i++)
		if (readonly_path(spec->readonly[i], err) < 0)
			return -1;
	if (spec->root_readonly) {
		struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

		if (sys_mount_setattr(AT_FDCWD, "/", 0, &attr) < 0)
			return cabin_err_make(err, errno, "make the root read-only");
	}
	return 0;
}

int ctr_mount_console(int master, struct cabin_err **err)
{
	cleanup_close int target = -1, tree = -1, peer = -1;
	char pts[64];
	struct stat sb;

	if (ptsname_r(master, pts, sizeof(pts)) != 0)
		return cabin_err_make(err, errno, "name of the terminal");
	target = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (target < 0 && errno == ENOENT) {
		int f = open("/dev/console", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0600);

		/* a read-only /dev of the image: no console, as without a terminal */
		if (f < 0 && (errno == EROFS || errno == EACCES))
			return 0;
		if (f < 0)
			return cabin_err_make(err, errno, "create `/dev/console`");
		close(f);
		target = open("/dev/console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	if (target < 0)
		return cabin_err_make(err, errno, "open `/dev/console`");
	/* never mount over what a symlink planted in the image points to */
	if (fstat(target, &sb) < 0)
		return cabin_err_make(err, errno, "stat `/dev/console`");
	if (S_ISLNK(sb.st_mode) || S_ISDIR(sb.st_mode))
		return cabin_err_make(err, EINVAL, "`/dev/console` is not a file or device");
	/*
	 * Bind the slave of this very master (TIOCGPTPEER), not the path /dev/pts/N: a /dev
	 * shared with something else could lead that path elsewhere by now (runc's
	 * CVE-2025-52565). The process's stdio holds the slave open meanwhile, so closing
	 * this fd hangs nothing up.
	 */
	peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (peer < 0)
		return cabin_err_make(err, errno, "open the slave of `%s`", pts);
	tree = sys_open_tree(peer, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		return cabin_err_make(err, errno, "bind `%s`", pts);
	if (sys_move_mount(tree, "", target, "",
			   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return cabin_err_make(err, errno, "bind `%s` on `/dev/console`", pts);
	return 0;
}
