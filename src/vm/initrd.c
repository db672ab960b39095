/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * initrd.c - the microVM's initramfs: a cpio "newc" writer, a reader of kernel
 * modules' .modinfo (for their dependencies) and vm_initrd_build(), which puts
 * cabin's init, the modules and extra files together. See vm/initrd.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/strv.h"
#include "lib/util.h"
#include "lib/xalloc.h"
#include "vm/initrd.h"

#define CPIO_HDR_LEN 110
#define MAX_INPUT_FILE (512u << 20) /* init, modules, busybox: far below this */
#define MAX_MODULES 4096
#define MAX_DEP_DEPTH 64

const char *const vm_initrd_default_modules[] = {
	"virtio",
	"virtio_ring",
	"virtio_mmio",
	"virtio_blk",
	"virtio_net",
	"virtio_console",
	"virtio_rng",
	"vsock",
	"vmw_vsock_virtio_transport_common",
	"vmw_vsock_virtio_transport",
	NULL,
};

/* Applets linked to busybox when it is added: what a shell session in a guest expects. */
static const char *const busybox_applets[] = {
	"sh",	  "ash",	"cat",	    "cp",	"dmesg",  "echo",   "env",    "false",
	"grep",	  "head",	"hostname", "id",	"ip",	  "kill",   "ln",     "ls",
	"mkdir",  "mount",	"mv",	    "poweroff", "printf", "ps",	    "reboot", "rm",
	"sleep",  "sync",	"tail",	    "test",	"touch",  "true",   "umount", "uname",
	"wc",	  "df",		"free",	    "find",	"sed",	  "stat",   "dd",     "seq",
	"md5sum", "sha256sum",	"hexdump",  "date",	"ping",	  "setsid", "od",     "tr",
	"cut",	  "mountpoint", "ifconfig", "route",	"getty",  "stty",   NULL,
};

void vm_cpio_init(struct vm_cpio *c, int fd)
{
	c->fd = fd;
	c->off = 0;
	c->ino = 0;
	c->dirs = NULL;
}

void vm_cpio_release(struct vm_cpio *c)
{
	strv_free(c->dirs);
	c->dirs = NULL;
}

static int cpio_write(struct vm_cpio *c, const void *buf, size_t len, struct cabin_err **err)
{
	int ret = fs_write_all(c->fd, buf, len);

	if (ret < 0)
		return cabin_err_make(err, -ret, "write initramfs");
	c->off += len;
	return 0;
}

static int cpio_pad(struct vm_cpio *c, unsigned int align, struct cabin_err **err)
{
	static const char zeros[512];
	size_t n = (size_t)(ALIGN_UP(c->off, (uint64_t)align) - c->off);

	return n ? cpio_write(c, zeros, n, err) : 0;
}

/* One header + name + data, each padded to 4 bytes; no parent handling. */
static int cpio_entry(struct vm_cpio *c, const char *name, uint32_t mode, uint32_t nlink,
		      const void *data, size_t len, uint32_t rmaj, uint32_t rmin,
		      struct cabin_err **err)
{
	char hdr[CPIO_HDR_LEN + 1];
	size_t namesize = strlen(name) + 1;
	uint32_t ino = 0;
	int ret;

	if (len > UINT32_MAX || namesize > PATH_MAX)
		return cabin_err_make(err, EFBIG, "initramfs entry `%s` is too large", name);
	if (strcmp(name, "TRAILER!!!"))
		ino = ++c->ino;
	/* magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
	 * rdevmajor, rdevminor, namesize, check: 8 hex digits each. */
	snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08zX%08X",
		 ino, mode, 0u, 0u, nlink, 0u, (uint32_t)len, 0u, 0u, rmaj, rmin, namesize, 0u);
	ret = cpio_write(c, hdr, CPIO_HDR_LEN, err);
	if (ret < 0)
		return ret;
	ret = cpio_write(c, name, namesize, err);
	if (ret < 0)
		return ret;
	ret = cpio_pad(c, 4, err);
	if (ret < 0)
		return ret;
	if (len) {
		ret = cpio_write(c, data, len, err);
		if (ret < 0)
			return ret;
		ret = cpio_pad(c, 4, err);
	}
	return ret;
}

static bool have_dir(struct vm_cpio *c, const char *name)
{
	for (char **d = c->dirs; d && *d; d++)
		if (!strcmp(*d, name))
			return true;
	return false;
}

static int add_dir(struct vm_cpio *c, const char *name, uint32_t perm, struct cabin_err **err)
{
	int ret;

	if (have_dir(c, name))
		return 0;
	ret = cpio_entry(c, name, S_IFDIR | perm, 2, NULL, 0, 0, 0, err);
	if (ret < 0)
		return ret;
	strv_append(&c->dirs, name);
	return 0;
}

/* Add every missing ancestor of @name ("a/b/c" -> "a", "a/b"). */
static int add_parents(struct vm_cpio *c, const char *name, struct cabin_err **err)
{
	cleanup_free char *p = xstrdup(name);

	for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
		int ret;

		*s = '\0';
		ret = p[0] ? add_dir(c, p, 0755, err) : 0;
		*s = '/';
		if (ret < 0)
			return ret;
	}
	return 0;
}

int vm_cpio_add(struct vm_cpio *c, const char *name, uint32_t mode, const void *data, size_t len,
		uint32_t rdev_major, uint32_t rdev_minor, struct cabin_err **err)
{
	int ret;

	while (*name == '/')
		name++;
	if (!*name || strstr(name, "..") || name[strlen(name) - 1] == '/')
		return cabin_err_make(err, EINVAL, "bad initramfs path `%s`", name);
	ret = add_parents(c, name, err);
	if (ret < 0)
		return ret;
	if (S_ISDIR(mode))
		return add_dir(c, name, mode & 07777, err);
	return cpio_entry(c, name, mode, 1, data, len, rdev_major, rdev_minor, err);
}

int vm_cpio_finish(struct vm_cpio *c, struct cabin_err **err)
{
	int ret = cpio_entry(c, "TRAILER!!!", 0, 1, NULL, 0, 0, 0, err);

	if (ret < 0)
		return ret;
	return cpio_pad(c, 512, err);
}

/* ---- kernel modules ---- */

static uint64_t rd_le(const unsigned char *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

const char *vm_modinfo_get(const void *elf, size_t len, const char *key)
{
	const unsigned char *e = elf;
	uint64_t shoff, shstr_off, shstr_size;
	unsigned int shentsize, shnum, shstrndx;
	size_t klen = strlen(key);

	if (len < 64 || memcmp(e, "\177ELF", 4) || e[4] != 2 /* 64-bit */ || e[5] != 1 /* LE */)
		return NULL;
	shoff = rd_le(e + 0x28, 8);
	shentsize = (unsigned int)rd_le(e + 0x3a, 2);
	shnum = (unsigned int)rd_le(e + 0x3c, 2);
	shstrndx = (unsigned int)rd_le(e + 0x3e, 2);
	if (shentsize < 64 || shstrndx >= shnum || shoff > len ||
	    (uint64_t)shnum * shentsize > len - shoff)
		return NULL;
	{
		const unsigned char *sh = e + shoff + (uint64_t)shstrndx * shentsize;
		shstr_off = rd_le(sh + 24, 8);
		shstr_size = rd_le(sh + 32, 8);
		if (shstr_off > len || shstr_size > len - shstr_off)
			return NULL;
	}
	for (unsigned int i = 0; i < shnum; i++) {
		const unsigned char *sh = e + shoff + (uint64_t)i * shentsize;
		uint64_t name = rd_le(sh, 4), off = rd_le(sh + 24, 8), size = rd_le(sh + 32, 8);
		const char *p, *end;

		if (name >= shstr_size || shstr_size - name < sizeof(".modinfo") ||
		    memcmp(e + shstr_off + name, ".modinfo", sizeof(".modinfo")))
			continue;
		if (off > len || size > len - off)
			return NULL;
		/* NUL-separated "key=value" strings; the last one may lack its NUL. */
		p = (const char *)e + off;
		end = p + size;
		while (p < end) {
			const char *nul = memchr(p, '\0', (size_t)(end - p));
			if (!nul)
				return NULL;
			if ((size_t)(nul - p) > klen && !memcmp(p, key, klen) && p[klen] == '=')
				return p + klen + 1;
			p = nul + 1;
		}
		return NULL;
	}
	return NULL;
}

/* Module name from a file name: basename without ".ko", '-' as '_'. */
static char *module_name(const char *path)
{
	const char *base = strrchr(path, '/');
	char *n;
	size_t l;

	base = base ? base + 1 : path;
	n = xstrdup(base);
	l = strlen(n);
	if (l > 3 && !strcmp(n + l - 3, ".ko"))
		n[l - 3] = '\0';
	for (char *s = n; *s; s++)
		if (*s == '-')
			*s = '_';
	return n;
}

struct mod_index {
	char **names; /* parallel: module name -> path relative to modules_dir */
	char **paths;
	char **builtin;
};

static void mod_index_release(struct mod_index *x)
{
	strv_free(x->names);
	strv_free(x->paths);
	strv_free(x->builtin);
}

static int index_dir(const char *root, const char *rel, struct mod_index *x, int depth,
		     struct cabin_err **err)
{
	cleanup_free char *dir = rel[0] ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	cleanup_closedir DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return cabin_err_make(err, errno, "open `%s`", dir);
	if (depth > 16)
		return 0;
	while ((e = readdir(d))) {
		cleanup_free char *sub = NULL;
		size_t nl = strlen(e->d_name);
		int ret;

		if (e->d_name[0] == '.')
			continue;
		sub = rel[0] ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		if (e->d_type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(st.st_mode))
				e->d_type = DT_DIR;
		}
		if (e->d_type == DT_DIR) {
			ret = index_dir(root, sub, x, depth + 1, err);
			if (ret < 0)
				return ret;
		} else if (nl > 3 && !strcmp(e->d_name + nl - 3, ".ko")) {
			cleanup_free char *name = module_name(e->d_name);
			if (strv_len(x->names) >= MAX_MODULES)
				return cabin_err_make(err, E2BIG, "more than %d modules in `%s`",
						      MAX_MODULES, root);
			strv_append(&x->names, name);
			strv_append(&x->paths, sub);
		}
	}
	return 0;
}

static void read_builtin(const char *modules_dir, struct mod_index *x)
{
	cleanup_free char *path = xasprintf("%s/modules.builtin", modules_dir);
	cleanup_free char *buf = NULL;
	cleanup_err struct cabin_err *tmp = NULL;
	size_t len;

	/* Optional: a kernel tree without the list just has no known built-ins. */
	if (fs_read_file(path, 16u << 20, &buf, &len, &tmp) < 0)
		return;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		cleanup_free char *name = module_name(line);
		strv_append(&x->builtin, name);
	}
}

static int find_str(char *const *v, const char *s)
{
	for (int i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return i;
	return -1;
}

static char *normalize(const char *name)
{
	char *n = xstrdup(name);

	for (char *s = n; *s; s++)
		if (*s == '-')
			*s = '_';
	return n;
}

/* Depth-first: dependencies first, each module once. */
static int resolve(const char *modules_dir, struct mod_index *x, const char *want, bool required,
		   const char *needed_by, char ***order, char ***seen, int depth,
		   struct cabin_err **err)
{
	cleanup_free char *name = normalize(want);
	cleanup_free char *path = NULL, *buf = NULL, *deps = NULL;
	const char *d;
	size_t len;
	int i, ret;

	if (find_str(*seen, name) >= 0)
		return 0;
	if (depth > MAX_DEP_DEPTH)
		return cabin_err_make(err, ELOOP, "module dependencies nest too deep at `%s`",
				      name);
	strv_append(seen, name);
	i = find_str(x->names, name);
	if (i < 0) {
		if (!required || find_str(x->builtin, name) >= 0)
			return 0;
		return cabin_err_make(err, ENOENT, "module `%s`, needed by `%s`, is not in `%s`",
				      name, needed_by, modules_dir);
	}
	path = xasprintf("%s/%s", modules_dir, x->paths[i]);
	ret = fs_read_file(path, MAX_INPUT_FILE, &buf, &len, err);
	if (ret < 0)
		return ret;
	d = vm_modinfo_get(buf, len, "depends");
	deps = xstrdup(d ? d : "");
	for (char *save = NULL, *dep = strtok_r(deps, ",", &save); dep;
	     dep = strtok_r(NULL, ",", &save)) {
		ret = resolve(modules_dir, x, dep, true, name, order, seen, depth + 1, err);
		if (ret < 0)
			return ret;
	}
	strv_append(order, x->paths[i]);
	return 0;
}

int vm_initrd_modules(const char *modules_dir, const char *const *names, char ***out,
		      struct cabin_err **err)
{
	struct mod_index x = { 0 };
	cleanup_strv char **order = NULL;
	cleanup_strv char **seen = NULL;
	int ret;

	ret = index_dir(modules_dir, "", &x, 0, err);
	if (ret < 0)
		goto out;
	read_builtin(modules_dir, &x);
	for (; *names; names++) {
		ret = resolve(modules_dir, &x, *names, false, "", &order, &seen, 0, err);
		if (ret < 0)
			goto out;
	}
	ret = (int)strv_len(order);
	if (!order)
		order = xcalloc(1, sizeof(char *));
	*out = steal_ptr(&order);
out:
	mod_index_release(&x);
	return ret;
}

/* ---- the whole archive ---- */

static int add_host_file(struct vm_cpio *c, const char *host, const char *guest, uint32_t perm,
			 struct cabin_err **err)
{
	cleanup_free char *buf = NULL;
	size_t len;
	int ret;

	ret = fs_read_file(host, MAX_INPUT_FILE, &buf, &len, err);
	if (ret < 0)
		return ret;
	return vm_cpio_add(c, guest, S_IFREG | perm, buf, len, 0, 0, err);
}

static int add_modules(struct vm_cpio *c, const char *modules_dir, const char *const *names,
		       struct cabin_err **err)
{
	cleanup_strv char **order = NULL;
	cleanup_free char *dir = xstrdup(modules_dir);
	cleanup_free char *list = NULL, *gdir = NULL, *gpath = NULL;
	const char *release;
	size_t l = strlen(dir), listlen = 0;
	int ret;

	while (l > 1 && dir[l - 1] == '/')
		dir[--l] = '\0';
	release = strrchr(dir, '/');
	release = release ? release + 1 : dir;
	ret = vm_initrd_modules(dir, names ? names : vm_initrd_default_modules, &order, err);
	if (ret < 0)
		return cabin_err_wrap(err, "modules of `%s`", dir);
	gdir = xasprintf("lib/modules/%s", release);
	for (char **p = order; *p; p++) {
		cleanup_free char *host = xasprintf("%s/%s", dir, *p);
		cleanup_free char *guest = xasprintf("%s/%s", gdir, *p);
		ret = add_host_file(c, host, guest, 0644, err);
		if (ret < 0)
			return ret;
		listlen += strlen(*p) + 1;
	}
	list = xcalloc(1, listlen + 1);
	listlen = 0;
	for (char **p = order; *p; p++) {
		size_t n = strlen(*p);
		memcpy(list + listlen, *p, n);
		list[listlen + n] = '\n';
		listlen += n + 1;
	}
	gpath = xasprintf("%s/cabin.load", gdir);
	return vm_cpio_add(c, gpath, S_IFREG | 0644, list, listlen, 0, 0, err);
}

static int add_extra(struct vm_cpio *c, const char *spec, struct cabin_err **err)
{
	cleanup_free char *host = xstrdup(spec);
	cleanup_free char *guest = NULL;
	char *colon = strchr(host, ':');
	const char *base;
	struct stat st;
	int ret;

	if (colon) {
		*colon = '\0';
		guest = xstrdup(colon + 1);
	} else {
		base = strrchr(host, '/');
		guest = xasprintf("/bin/%s", base ? base + 1 : host);
	}
	if (stat(host, &st) < 0)
		return cabin_err_make(err, errno, "extra file `%s`", host);
	ret = add_host_file(c, host, guest, st.st_mode & 0777, err);
	if (ret < 0)
		return ret;
	base = strrchr(guest, '/');
	if (base && !strcmp(base + 1, "busybox")) {
		cleanup_free char *dir = xstrndup(guest, (size_t)(base - guest));
		for (const char *const *a = busybox_applets; *a; a++) {
			cleanup_free char *link = xasprintf("%s/%s", dir, *a);
			ret = vm_cpio_add(c, link, S_IFLNK | 0777, "busybox", 7, 0, 0, err);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int build(int fd, const struct vm_initrd_opts *o, struct cabin_err **err)
{
	static const char *const dirs[] = { "dev",	"proc", "sys",	"tmp", "run",
					    "root",	"bin",	"sbin", "etc", "usr/bin",
					    "usr/sbin", "lib",	NULL };
	struct vm_cpio c;
	int ret = 0;

	vm_cpio_init(&c, fd);
	for (const char *const *d = dirs; *d && ret >= 0; d++)
		ret = vm_cpio_add(&c, *d, S_IFDIR | (strcmp(*d, "tmp") ? 0755 : 01777), NULL, 0, 0,
				  0, err);
	if (ret >= 0)
		ret = vm_cpio_add(&c, "dev/console", S_IFCHR | 0600, NULL, 0, 5, 1, err);
	if (ret >= 0)
		ret = add_host_file(&c, o->init_path, "init", 0755, err);
	if (ret >= 0 && o->modules_dir)
		ret = add_modules(&c, o->modules_dir, o->modules, err);
	for (char *const *e = o->extra_files; ret >= 0 && e && *e; e++)
		ret = add_extra(&c, *e, err);
	if (ret >= 0)
		ret = vm_cpio_finish(&c, err);
	vm_cpio_release(&c);
	return ret;
}

int vm_initrd_build(const char *out_path, const char *init_path, const char *modules_dir,
		    char *const *extra_files, struct cabin_err **err)
{
	const struct vm_initrd_opts o = {
		.init_path = init_path,
		.modules_dir = modules_dir,
		.extra_files = extra_files,
	};

	return vm_initrd_build_opts(out_path, &o, err);
}

int vm_initrd_build_opts(const char *out_path, const struct vm_initrd_opts *o,
			 struct cabin_err **err)
{
	cleanup_free char *tmp = xasprintf("%s.tmp.%d", out_path, (int)getpid());
	cleanup_close int fd = -1;
	int ret;

	if (!o->init_path)
		return cabin_err_make(err, EINVAL, "initramfs `%s`: no init", out_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cabin_err_make(err, errno, "create `%s`", tmp);
	ret = build(fd, o, err);
	if (ret >= 0 && fsync(fd) < 0)
		ret = cabin_err_make(err, errno, "fsync `%s`", tmp);
	if (ret >= 0 && rename(tmp, out_path) < 0)
		ret = cabin_err_make(err, errno, "rename `%s` to `%s`", tmp, out_path);
	if (ret < 0) {
		unlink(tmp);
		return cabin_err_wrap(err, "initramfs `%s`", out_path);
	}
	return 0;
}
