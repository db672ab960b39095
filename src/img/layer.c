/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Layer extraction. libarchive reads the tar and its compression; every name in it is
 * hostile. Entries are created relative to the layer's directory fd, their parent
 * resolved with openat2(RESOLVE_BENEATH), and the last component is never followed
 * (O_NOFOLLOW, AT_SYMLINK_NOFOLLOW, unlink before create), so neither `..`, nor an
 * absolute name, nor a symlink planted by an earlier entry can make a write land outside.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "img/digest.h"
#include "img/layer.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/resolve.h"
#include "lib/xalloc.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OVL_OPAQUE_XATTR "trusted.overlay.opaque"

int img_openat_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	return resolve_open(dirfd, path, flags, mode, RESOLVE_SCOPE_BENEATH);
}

int img_openat_in_root(int dirfd, const char *path, int flags)
{
	return resolve_open(dirfd, path, flags, 0, RESOLVE_SCOPE_IN_ROOT);
}

/*
 * Normalise an entry name: strip leading "./", drop "." components and duplicate
 * slashes; refuse absolute names and `..`. Returns "" for the root entry.
 */
static int clean_name(const char *name, char **out, const char *what, struct cabin_err **err)
{
	size_t n = strlen(name);
	char *res = xmalloc(n + 1), *w = res;
	const char *p = name;

	if (*name == '/') {
		free(res);
		return cabin_err_make(err, 0, "%s: entry `%s`: absolute name refused", what, name);
	}
	while (*p) {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == 2 && p[0] == '.' && p[1] == '.') {
			free(res);
			return cabin_err_make(err, 0,
					      "%s: entry `%s`: `..` refused (path traversal)", what,
					      name);
		}
		if (len && !(len == 1 && p[0] == '.')) {
			if (w != res)
				*w++ = '/';
			memcpy(w, p, len);
			w += len;
		}
		p += len;
		while (*p == '/')
			p++;
	}
	*w = '\0';
	*out = res;
	return 0;
}

/*
 * Open the directory @dir (a cleaned relative name, "" for the root) beneath @root,
 * creating missing components as 0755 directories.
 */
static int open_dir_mkdirs(int root, const char *dir, const char *entry, const char *what,
			   struct cabin_err **err)
{
	cleanup_free char *path = xstrdup(dir);
	char *p = path;
	int fd;

	fd = img_openat_beneath(root, dir, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0)
		return fd;
	if (fd != -ENOENT)
		goto fail;
	/* Create the missing components one at a time, each resolved beneath the root. */
	for (;;) {
		char *slash = strchr(p, '/');
		cleanup_close int pfd = -1;
		char *base;

		if (slash)
			*slash = '\0';
		fd = img_openat_beneath(root, path, O_PATH | O_DIRECTORY, 0);
		if (fd == -ENOENT) {
			base = strrchr(path, '/');
			if (base) {
				*base = '\0';
				pfd = img_openat_beneath(root, path, O_PATH | O_DIRECTORY, 0);
				*base = '/';
				base++;
			} else {
				pfd = img_openat_beneath(root, "", O_PATH | O_DIRECTORY, 0);
				base = path;
			}
			if (pfd < 0) {
				fd = pfd;
				goto fail;
			}
			if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
				return cabin_err_make(err, errno, "%s: entry `%s`: mkdir `%s`",
						      what, entry, path);
			fd = img_openat_beneath(root, path, O_PATH | O_DIRECTORY, 0);
		}
		if (fd < 0)
			goto fail;
		if (!slash)
			return fd;
		close(fd);
		*slash = '/';
		p = slash + 1;
	}
fail:
	if (fd == -EXDEV || fd == -ELOOP)
		return cabin_err_make(err, 0,
				      "%s: entry `%s`: its directory `%s` leaves the layer through "
				      "a symlink (path traversal)",
				      what, entry, dir);
	return cabin_err_make(err, -fd, "%s: entry `%s`: open directory `%s`", what, entry, dir);
}

/* Remove whatever @name is under @dirfd (a file, a symlink, a whole tree). */
static int remove_entry(int dirfd, const char *name, struct cabin_err **err)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : cabin_err_make(err, errno, "stat `%s`", name);
	if (S_ISDIR(st.st_mode))
		return fs_rm_rf_at(dirfd, name, err);
	if (unlinkat(dirfd, name, 0) < 0)
		return cabin_err_make(err, errno, "unlink `%s`", name);
	return 0;
}

/* The deferred directory metadata: mtimes are set after the directory's contents. */
struct dir_meta {
	char *path;
	struct timespec mtime;
};

struct unpack {
	int root;
	unsigned flags;
	const char *what;
	struct dir_meta *dirs;
	size_t ndirs, capdirs;
	struct archive *outer; /* decompresses; the inner tar reader pulls from it */
	struct img_hash hash;
	int hashing;
	char buf[128 * 1024];
};

static int copy_xattrs(struct unpack *u, struct archive_entry *ae, int fd, const char *name,
		       struct cabin_err **err)
{
	const char *key;
	const void *val;
	size_t len;

	archive_entry_xattr_reset(ae);
	while (archive_entry_xattr_next(ae, &key, &val, &len) == ARCHIVE_OK) {
		/*
		 * overlayfs's own xattrs are not layer content: an entry carrying one could
		 * forge a whiteout or an opaque directory, or redirect a lookup.
		 */
		if (!strncmp(key, "trusted.overlay.", 16) || !strncmp(key, "user.overlay.", 13))
			continue;
		if (fsetxattr(fd, key, val, len, 0) < 0) {
			if (errno == ENOTSUP || errno == EPERM)
				continue; /* the store's filesystem or our privilege */
			return cabin_err_make(err, errno, "%s: entry `%s`: xattr `%s`", u->what,
					      name, key);
		}
	}
	return 0;
}

static int write_data(struct unpack *u, struct archive *a, int fd, const char *name,
		      struct cabin_err **err)
{
	const void *buf;
	size_t size;
	la_int64_t off, end = 0;
	int r;

	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		const char *p = buf;
		size_t done = 0;

		while (done < size) {
			ssize_t n = pwrite(fd, p + done, size - done, off + (off_t)done);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				return cabin_err_make(err, errno, "%s: write `%s`", u->what, name);
			}
			done += (size_t)n;
		}
		end = off + (la_int64_t)size;
	}
	if (r != ARCHIVE_EOF)
		return cabin_err_make(err, archive_errno(a) > 0 ? archive_errno(a) : 0,
				      "%s: entry `%s`: %s", u->what, name,
				      archive_error_string(a) ? archive_error_string(a)
							      : "truncated data");
	/* A sparse file ends in a hole: give it its full size. */
	(void)end;
	return 0;
}

static int apply_owner_mode(struct unpack *u, struct archive_entry *ae, int fd, const char *name,
			    struct cabin_err **err)
{
	mode_t mode = archive_entry_perm(ae);

	/* chown first: it clears set-uid and set-gid bits, which fchmod then sets. */
	if (!(u->flags & IMG_UNPACK_NO_CHOWN) &&
	    fchown(fd, (uid_t)archive_entry_uid(ae), (gid_t)archive_entry_gid(ae)) < 0)
		return cabin_err_make(err, errno, "%s: entry `%s`: chown", u->what, name);
	if (fchmod(fd, mode) < 0)
		return cabin_err_make(err, errno, "%s: entry `%s`: chmod", u->what, name);
	return 0;
}

static struct timespec entry_mtime(struct archive_entry *ae)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 0 };

	if (archive_entry_mtime_is_set(ae)) {
		ts.tv_sec = archive_entry_mtime(ae);
		ts.tv_nsec = archive_entry_mtime_nsec(ae);
	}
	return ts;
}

static int do_whiteout(struct unpack *u, int pfd, const char *base, const char *name,
		       struct cabin_err **err)
{
	if (!strcmp(base, WH_OPAQUE)) {
		cleanup_close int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd < 0 || fsetxattr(dfd, OVL_OPAQUE_XATTR, "y", 1, 0) < 0)
			return cabin_err_make(err, errno, "%s: entry `%s`: mark opaque", u->what,
					      name);
		return 0;
	}
	if (!strncmp(base, WH_PREFIX WH_PREFIX, 8))
		return 0; /* aufs bookkeeping (.wh..wh.plnk and the like) */
	base += strlen(WH_PREFIX);
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return cabin_err_make(err, 0, "%s: entry `%s`: bad whiteout", u->what, name);
	if (remove_entry(pfd, base, err) < 0)
		return cabin_err_wrap(err, "%s: entry `%s`", u->what, name);
	if (mknodat(pfd, base, S_IFCHR | 0000, makedev(0, 0)) < 0)
		return cabin_err_make(err, errno, "%s: entry `%s`: whiteout", u->what, name);
	return 0;
}

static int unpack_entry(struct unpack *u, struct archive *a, struct archive_entry *ae,
			struct cabin_err **err)
{
	cleanup_free char *name = NULL, *dir = NULL;
	cleanup_close int pfd = -1, fd = -1;
	const char *base, *hl = archive_entry_hardlink(ae);
	const char *raw = archive_entry_pathname(ae);
	mode_t type = archive_entry_filetype(ae);
	struct timespec ts[2];
	struct stat st;
	char *slash;

	if (!raw)
		return cabin_err_make(err, 0, "%s: an entry without a name", u->what);
	if (clean_name(raw, &name, u->what, err) < 0)
		return -1;
	ts[0] = ts[1] = entry_mtime(ae);
	if (!*name) {
		/* The root entry: its mode and owner apply to the layer directory. */
		if (type == AE_IFDIR) {
			fd = openat(u->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0 || apply_owner_mode(u, ae, fd, "/", err) < 0)
				return fd < 0 ? cabin_err_make(err, errno, "open layer root") : -1;
		}
		return 0;
	}
	slash = strrchr(name, '/');
	dir = slash ? xstrndup(name, (size_t)(slash - name)) : xstrdup("");
	base = slash ? slash + 1 : name;
	pfd = open_dir_mkdirs(u->root, dir, name, u->what, err);
	if (pfd < 0)
		return -1;
	if ((u->flags & IMG_UNPACK_LAYER) && !strncmp(base, WH_PREFIX, 4))
		return do_whiteout(u, pfd, base, name, err);

	if (hl) {
		cleanup_free char *target = NULL;
		cleanup_close int tfd = -1;

		if (clean_name(hl, &target, u->what, err) < 0)
			return cabin_err_wrap(err, "hard link `%s`", name);
		/*
		 * Resolve the target's directory beneath the root and link without following
		 * the last component: a hard link cannot reach a file outside the layer.
		 */
		slash = strrchr(target, '/');
		if (slash)
			*slash = '\0';
		tfd = img_openat_beneath(u->root, slash ? target : "", O_PATH | O_DIRECTORY, 0);
		if (tfd < 0)
			return cabin_err_make(
				err, tfd == -EXDEV ? 0 : -tfd,
				"%s: hard link `%s` to `%s`: target outside the layer "
				"or missing",
				u->what, name, hl);
		if (remove_entry(pfd, base, err) < 0)
			return -1;
		if (linkat(tfd, slash ? slash + 1 : target, pfd, base, 0) < 0)
			return cabin_err_make(err, errno, "%s: hard link `%s` to `%s`", u->what,
					      name, hl);
		return 0;
	}

	/* An existing directory stays (a later entry may update it); anything else goes. */
	if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !(S_ISDIR(st.st_mode) && type == AE_IFDIR) && remove_entry(pfd, base, err) < 0)
		return cabin_err_wrap(err, "%s: entry `%s`", u->what, name);

	switch (type) {
	case AE_IFREG:
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return cabin_err_make(err, errno, "%s: create `%s`", u->what, name);
		if (write_data(u, a, fd, name, err) < 0)
			return -1;
		if (archive_entry_size_is_set(ae) && ftruncate(fd, archive_entry_size(ae)) < 0)
			return cabin_err_make(err, errno, "%s: truncate `%s`", u->what, name);
		if (apply_owner_mode(u, ae, fd, name, err) < 0 ||
		    copy_xattrs(u, ae, fd, name, err) < 0)
			return -1;
		if (futimens(fd, ts) < 0)
			return cabin_err_make(err, errno, "%s: mtime `%s`", u->what, name);
		return 0;
	case AE_IFDIR:
		if (mkdirat(pfd, base, 0700) < 0 && errno != EEXIST)
			return cabin_err_make(err, errno, "%s: mkdir `%s`", u->what, name);
		fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return cabin_err_make(err, errno, "%s: open `%s`", u->what, name);
		if (apply_owner_mode(u, ae, fd, name, err) < 0 ||
		    copy_xattrs(u, ae, fd, name, err) < 0)
			return -1;
		if (u->ndirs == u->capdirs) {
			u->capdirs = u->capdirs ? 2 * u->capdirs : 64;
			u->dirs = xrealloc(u->dirs, u->capdirs * sizeof(*u->dirs));
		}
		u->dirs[u->ndirs].path = steal_ptr(&name);
		u->dirs[u->ndirs++].mtime = ts[0];
		return 0;
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(ae);

		/* The target is only text: it is never followed while unpacking. */
		if (!target || symlinkat(target, pfd, base) < 0)
			return cabin_err_make(err, target ? errno : 0, "%s: symlink `%s`", u->what,
					      name);
		if (!(u->flags & IMG_UNPACK_NO_CHOWN) &&
		    fchownat(pfd, base, (uid_t)archive_entry_uid(ae), (gid_t)archive_entry_gid(ae),
			     AT_SYMLINK_NOFOLLOW) < 0)
			return cabin_err_make(err, errno, "%s: chown `%s`", u->what, name);
		utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		if (mknodat(pfd, base, type | archive_entry_perm(ae), archive_entry_rdev(ae)) < 0)
			return cabin_err_make(err, errno, "%s: mknod `%s`", u->what, name);
		if (!(u->flags & IMG_UNPACK_NO_CHOWN) &&
		    fchownat(pfd, base, (uid_t)archive_entry_uid(ae), (gid_t)archive_entry_gid(ae),
			     AT_SYMLINK_NOFOLLOW) < 0)
			return cabin_err_make(err, errno, "%s: chown `%s`", u->what, name);
		fchmodat(pfd, base, archive_entry_perm(ae), 0);
		utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	default:
		return 0; /* sockets and unknown types: nothing a layer needs */
	}
}

/* The inner (tar) reader's input: decompressed bytes from the outer reader, hashed. */
static la_ssize_t inner_read(struct archive *a, void *data, const void **buf)
{
	struct unpack *u = data;
	la_ssize_t n = archive_read_data(u->outer, u->buf, sizeof(u->buf));

	if (n < 0) {
		archive_set_error(a, archive_errno(u->outer), "%s",
				  archive_error_string(u->outer) ? archive_error_string(u->outer)
								 : "decompression failed");
		return -1;
	}
	if (u->hashing && n > 0)
		img_hash_update(&u->hash, u->buf, (size_t)n);
	*buf = u->buf;
	return n;
}

static void set_dir_times(struct unpack *u)
{
	/* Deepest first, so setting a child does not disturb its parent's mtime. */
	for (size_t i = u->ndirs; i-- > 0;) {
		struct timespec ts[2] = { u->dirs[i].mtime, u->dirs[i].mtime };
		char *slash = strrchr(u->dirs[i].path, '/');
		cleanup_close int pfd = -1;

		if (slash)
			*slash = '\0';
		pfd = img_openat_beneath(u->root, slash ? u->dirs[i].path : "",
					 O_PATH | O_DIRECTORY, 0);
		if (pfd >= 0)
			utimensat(pfd, slash ? slash + 1 : u->dirs[i].path, ts,
				  AT_SYMLINK_NOFOLLOW);
	}
}

int img_layer_unpack(int fd, int dstfd, const char *diff_id, unsigned flags, const char *what,
		     struct cabin_err **err)
{
	struct unpack *u = xcalloc(1, sizeof(*u));
	struct archive *in = NULL;
	struct archive_entry *ae;
	int r, ret = -1;

	u->root = dstfd;
	u->flags = flags;
	u->what = what;
	if (geteuid() != 0)
		u->flags |= IMG_UNPACK_NO_CHOWN;
	/*
	 * Two readers: the outer one only decompresses (raw format, any filter), the inner
	 * one reads tar from it. The uncompressed stream passes through our hands once,
	 * which is where the DiffID is computed, without a second decompression.
	 */
	u->outer = archive_read_new();
	in = archive_read_new();
	if (!u->outer || !in)
		abort();
	/*
	 * The compressions of Docker's and the OCI's layer types and of `docker save | xz`,
	 * not _all(): that adds lrzip, lzop and grzip, which libarchive decompresses by
	 * running a program from PATH, so a layer's first bytes would choose a host program
	 * to run on hostile input.
	 */
	archive_read_support_filter_gzip(u->outer);
	archive_read_support_filter_bzip2(u->outer);
	archive_read_support_filter_xz(u->outer);
	archive_read_support_filter_lzma(u->outer);
	archive_read_support_filter_zstd(u->outer);
	archive_read_support_format_raw(u->outer);
	if (archive_read_open_fd(u->outer, fd, 128 * 1024) != ARCHIVE_OK ||
	    archive_read_next_header(u->outer, &ae) != ARCHIVE_OK) {
		cabin_err_make(err, 0, "%s: %s", what,
			       archive_error_string(u->outer) ? archive_error_string(u->outer)
							      : "not readable");
		goto out;
	}
	if (diff_id) {
		img_hash_init(&u->hash);
		u->hashing = 1;
	}
	archive_read_support_format_tar(in);
	archive_read_support_format_gnutar(in);
	if (archive_read_open(in, u, NULL, inner_read, NULL) != ARCHIVE_OK) {
		cabin_err_make(err, 0, "%s: not a tar archive: %s", what,
			       archive_error_string(in) ? archive_error_string(in) : "?");
		goto out;
	}
	while ((r = archive_read_next_header(in, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN)
		if (unpack_entry(u, in, ae, err) < 0)
			goto out;
	if (r != ARCHIVE_EOF) {
		cabin_err_make(err, 0, "%s: %s", what,
			       archive_error_string(in) ? archive_error_string(in)
							: "truncated or corrupt archive");
		goto out;
	}
	if (diff_id) {
		char got[IMG_DIGEST_LEN];
		la_ssize_t n;

		/* The tar's end padding is part of the DiffID. */
		while ((n = archive_read_data(u->outer, u->buf, sizeof(u->buf))) > 0)
			img_hash_update(&u->hash, u->buf, (size_t)n);
		if (n < 0) {
			cabin_err_make(err, 0, "%s: %s", what, archive_error_string(u->outer));
			goto out;
		}
		u->hashing = 0;
		img_hash_final(&u->hash, got);
		if (strcmp(got, diff_id)) {
			cabin_err_make(err, 0,
				       "%s: uncompressed digest (DiffID) mismatch: the config says "
				       "`%s`, the layer has `%s`",
				       what, diff_id, got);
			goto out;
		}
	}
	set_dir_times(u);
	ret = 0;
out:
	if (u->hashing)
		img_hash_free(&u->hash);
	archive_read_free(in);
	archive_read_free(u->outer);
	for (size_t i = 0; i < u->ndirs; i++)
		free(u->dirs[i].path);
	free(u->dirs);
	free(u);
	return ret;
}

/* ---- the copy fallback: overlayfs semantics without overlayfs ---- */

static int copy_meta_fd(int sfd, int dfd, const struct stat *st)
{
	char names[4096];
	ssize_t n = flistxattr(sfd, names, sizeof(names));

	if (fchown(dfd, st->st_uid, st->st_gid) < 0 && errno != EPERM)
		return -errno;
	if (fchmod(dfd, st->st_mode & 07777) < 0)
		return -errno;
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
		char val[4096];
		const char *k = names + off;
		ssize_t vl;

		if (!strncmp(k, "trusted.overlay.", 16))
			continue;
		vl = fgetxattr(sfd, k, val, sizeof(val));
		if (vl >= 0)
			fsetxattr(dfd, k, val, (size_t)vl, 0);
	}
	return 0;
}

/* Hard links within a layer stay hard links in the copy: (dev, ino) -> first copy. */
struct copy_ctx {
	int droot;
	char path[4096]; /* of the directory being merged, relative to droot */
	struct {
		dev_t dev;
		ino_t ino;
		char *path;
	} * links;
	size_t n, cap;
};

static int copy_tree(struct copy_ctx *c, int sdir, int ddir, struct cabin_err **err);
static int copy_tree_in(struct copy_ctx *c, int sdir, int ddir, const char *name,
			struct cabin_err **err);

static int copy_one(struct copy_ctx *c, int sdir, int ddir, const char *name, const struct stat *st,
		    struct cabin_err **err)
{
	struct timespec ts[2] = { st->st_mtim, st->st_mtim };
	cleanup_close int sfd = -1, dfd = -1;
	cleanup_free char *rel = xasprintf("%s%s%s", c->path, *c->path ? "/" : "", name);

	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		if (st->st_nlink > 1) {
			for (size_t i = 0; i < c->n; i++)
				if (c->links[i].dev == st->st_dev &&
				    c->links[i].ino == st->st_ino) {
					if (linkat(c->droot, c->links[i].path, ddir, name, 0) < 0)
						return cabin_err_make(err, errno, "link `%s`", rel);
					return 0;
				}
			if (c->n == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 64;
				c->links = xrealloc(c->links, c->cap * sizeof(*c->links));
			}
			c->links[c->n].dev = st->st_dev;
			c->links[c->n].ino = st->st_ino;
			c->links[c->n++].path = xstrdup(rel);
		}
		sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		dfd = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0600);
		if (sfd < 0 || dfd < 0)
			return cabin_err_make(err, errno, "copy `%s`", name);
		for (;;) {
			ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, 1 << 30, 0);

			if (n == 0)
				break;
			if (n < 0) {
				char buf[65536];

				if (errno != EXDEV && errno != ENOSYS && errno != EINVAL)
					return cabin_err_make(err, errno, "copy `%s`", name);
				while ((n = read(sfd, buf, sizeof(buf))) > 0)
					if (fs_write_all(dfd, buf, (size_t)n) < 0)
						return cabin_err_make(err, errno, "copy `%s`",
								      name);
				break;
			}
		}
		if (copy_meta_fd(sfd, dfd, st) < 0)
			return cabin_err_make(err, errno, "copy `%s`: metadata", name);
		futimens(dfd, ts);
		return 0;
	case S_IFDIR:
		if (mkdirat(ddir, name, 0700) < 0)
			return cabin_err_make(err, errno, "mkdir `%s`", name);
		sfd = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		dfd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sfd < 0 || dfd < 0)
			return cabin_err_make(err, errno, "open `%s`", name);
		if (copy_tree_in(c, sfd, dfd, name, err) < 0)
			return -1;
		copy_meta_fd(sfd, dfd, st);
		futimens(dfd, ts);
		return 0;
	case S_IFLNK: {
		char target[4096];
		ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);

		if (n < 0)
			return cabin_err_make(err, errno, "readlink `%s`", name);
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0)
			return cabin_err_make(err, errno, "symlink `%s`", name);
		fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
		utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	default:
		if (mknodat(ddir, name, st->st_mode, st->st_rdev) < 0)
			return cabin_err_make(err, errno, "mknod `%s`", name);
		fchownat(ddir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
		/* mknod's mode went through the umask; a device node is not a symlink */
		fchmodat(ddir, name, st->st_mode & 07777, 0);
		utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
}

/* Merge @sdir (a layer) onto @ddir (the tree of the layers below). */
static int copy_tree(struct copy_ctx *c, int sdir, int ddir, struct cabin_err **err)
{
	cleanup_closedir DIR *d = NULL;
	struct dirent *de;
	int dup_fd = dup(sdir);

	if (dup_fd < 0 || !(d = fdopendir(dup_fd))) {
		if (dup_fd >= 0)
			close(dup_fd);
		return cabin_err_make(err, errno, "read layer directory");
	}
	while ((de = readdir(d))) {
		struct stat st, dst;
		int have;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(sdir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return cabin_err_make(err, errno, "stat `%s`", de->d_name);
		have = fstatat(ddir, de->d_name, &dst, AT_SYMLINK_NOFOLLOW) == 0;
		if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
			/* A whiteout: what the layers below had here is gone. */
			if (have && remove_entry(ddir, de->d_name, err) < 0)
				return -1;
			continue;
		}
		if (S_ISDIR(st.st_mode) && have && S_ISDIR(dst.st_mode)) {
			cleanup_close int sfd = -1, dfd = -1;
			char v;

			sfd = openat(sdir, de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sfd < 0)
				return cabin_err_make(err, errno, "open `%s`", de->d_name);
			if (fgetxattr(sfd, OVL_OPAQUE_XATTR, &v, 1) == 1 && v == 'y') {
				/* Opaque: nothing below shows through. */
				if (remove_entry(ddir, de->d_name, err) < 0)
					return -1;
				if (copy_one(c, sdir, ddir, de->d_name, &st, err) < 0)
					return -1;
				continue;
			}
			dfd = openat(ddir, de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (dfd < 0)
				return cabin_err_make(err, errno, "open `%s`", de->d_name);
			if (copy_tree_in(c, sfd, dfd, de->d_name, err) < 0)
				return -1;
			copy_meta_fd(sfd, dfd, &st);
			futimens(dfd, (struct timespec[2]){ st.st_mtim, st.st_mtim });
			continue;
		}
		if (have && remove_entry(ddir, de->d_name, err) < 0)
			return -1;
		if (copy_one(c, sdir, ddir, de->d_name, &st, err) < 0)
			return -1;
	}
	return 0;
}

static int copy_tree_in(struct copy_ctx *c, int sdir, int ddir, const char *name,
			struct cabin_err **err)
{
	size_t len = strlen(c->path);
	int ret;

	if (len + strlen(name) + 2 > sizeof(c->path))
		return cabin_err_make(err, ENAMETOOLONG, "copy `%s/%s`", c->path, name);
	snprintf(c->path + len, sizeof(c->path) - len, "%s%s", len ? "/" : "", name);
	ret = copy_tree(c, sdir, ddir, err);
	c->path[len] = '\0';
	return ret < 0 ? cabin_err_wrap(err, "%s", name) : 0;
}

int img_layer_apply_copy(int srcfd, int dstfd, struct cabin_err **err)
{
	struct copy_ctx c = { .droot = dstfd };
	int ret = copy_tree(&c, srcfd, dstfd, err);

	for (size_t i = 0; i < c.n; i++)
		free(c.links[i].path);
	free(c.links);
	return ret;
}
