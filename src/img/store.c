/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/digest.h"
#include "img/layer.h"
#include "img/ref.h"
#include "img/store.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

/* Records and manifests are small; a larger one is hostile or broken. */
#define RECORD_MAX (4u << 20)

static const char *const subdirs[] = { "blobs", "blobs/sha256", "layers", "images",
				       "tmp",	"containers",	"volumes" };

int img_store_open(const char *root, int exclusive, struct img_store **out, struct cabin_err **err)
{
	struct img_store *s;
	char *p;

	if (fs_mkdir_p(root, 0700, err) < 0)
		return cabin_err_wrap(err, "image store");
	s = xcalloc(1, sizeof(*s));
	s->lockfd = -1;
	s->root = realpath(root, NULL);
	if (!s->root) {
		free(s);
		return cabin_err_make(err, errno, "image store `%s`", root);
	}
	s->dirfd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0)
		goto fail_errno;
	for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++)
		if (mkdirat(s->dirfd, subdirs[i], 0700) < 0 && errno != EEXIST)
			goto fail_errno;
	s->lockfd = openat(s->dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lockfd < 0)
		goto fail_errno;
	/* Writers exclude each other and readers; readers share. */
	if (flock(s->lockfd, exclusive ? LOCK_EX : LOCK_SH) < 0)
		goto fail_errno;
	if (exclusive)
		img_store_clean_tmp(s, 0);
	*out = s;
	return 0;
fail_errno:
	p = xstrdup(s->root);
	cabin_err_make(err, errno, "image store `%s`", p);
	free(p);
	img_store_free(s);
	return -1;
}

void img_store_free(struct img_store *s)
{
	if (!s)
		return;
	if (s->lockfd >= 0)
		close(s->lockfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->root);
	free(s);
}

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a >= b && !strcmp(s + a - b, suf);
}

static uint64_t du_at(int dirfd, const char *name);

void img_store_clean_tmp(struct img_store *s, int all)
{
	cleanup_close int tfd = openat(s->dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cleanup_closedir DIR *d = NULL;
	struct dirent *de;
	int dfd;

	if (tfd < 0 || (dfd = dup(tfd)) < 0)
		return;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((de = readdir(d))) {
		struct cabin_err *e = NULL;

		if (de->d_name[0] == '.' || (!all && has_suffix(de->d_name, ".partial")))
			continue;
		if (fs_rm_rf_at(tfd, de->d_name, &e) < 0)
			log_warn("image store: %s", cabin_err_msg(e));
		cabin_err_release(&e);
	}
}

char *img_store_blob_path(const struct img_store *s, const char *digest)
{
	return xasprintf("%s/blobs/sha256/%s", s->root, img_digest_hex(digest));
}

static char *blob_rel(const char *digest)
{
	return xasprintf("blobs/sha256/%s", img_digest_hex(digest));
}

int img_store_blob_has(const struct img_store *s, const char *digest, int64_t size)
{
	cleanup_free char *rel = blob_rel(digest);
	struct stat st;

	if (fstatat(s->dirfd, rel, &st, 0) < 0 || !S_ISREG(st.st_mode))
		return 0;
	return size < 0 || st.st_size == size;
}

int img_store_blob_open(const struct img_store *s, const char *digest)
{
	cleanup_free char *rel = blob_rel(digest);
	int fd = openat(s->dirfd, rel, O_RDONLY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int img_store_blob_read(const struct img_store *s, const char *digest, size_t max, char **buf,
			size_t *len, struct cabin_err **err)
{
	cleanup_close int fd = img_store_blob_open(s, digest);
	char got[IMG_DIGEST_LEN];
	ssize_t n;

	if (fd < 0)
		return cabin_err_make(err, -fd, "blob `%s`", digest);
	n = fs_read_fd(fd, max, buf);
	if (n < 0)
		return cabin_err_make(err, (int)-n, "read blob `%s`", digest);
	img_digest_buf(*buf, (size_t)n, got);
	if (strcmp(got, digest)) {
		free(*buf);
		*buf = NULL;
		return cabin_err_make(err, 0, "blob `%s` is corrupt (its digest is `%s`)", digest,
				      got);
	}
	if (len)
		*len = (size_t)n;
	return 0;
}

int img_store_tmp_create(struct img_store *s, char **name, struct cabin_err **err)
{
	cleanup_free char *path = xasprintf("%s/tmp/blob-XXXXXX", s->root);
	int fd = mkostemp(path, O_CLOEXEC);

	if (fd < 0)
		return cabin_err_make(err, errno, "create a temporary file in `%s/tmp`", s->root);
	*name = xstrdup(strrchr(path, '/') + 1);
	return fd;
}

int img_store_blob_commit(struct img_store *s, const char *tmpname, const char *digest,
			  int64_t size, struct cabin_err **err)
{
	cleanup_free char *src = xasprintf("tmp/%s", tmpname);
	cleanup_free char *dst = blob_rel(digest);
	cleanup_close int fd = openat(s->dirfd, src, O_RDONLY | O_CLOEXEC);
	char got[IMG_DIGEST_LEN];
	uint64_t n = 0;

	if (fd < 0)
		return cabin_err_make(err, errno, "open `%s/%s`", s->root, src);
	if (img_digest_fd(fd, got, &n, err) < 0)
		return cabin_err_wrap(err, "blob `%s`", digest);
	if (size >= 0 && n != (uint64_t)size) {
		unlinkat(s->dirfd, src, 0);
		return cabin_err_make(err, 0,
				      "blob `%s`: size mismatch: expected %lld bytes, got %llu",
				      digest, (long long)size, (unsigned long long)n);
	}
	if (strcmp(got, digest)) {
		unlinkat(s->dirfd, src, 0);
		return cabin_err_make(err, 0, "blob `%s`: digest mismatch: the content is `%s`",
				      digest, got);
	}
	/* Durable before it is visible: a crash never leaves a blob with other content. */
	if (fsync(fd) < 0)
		return cabin_err_make(err, errno, "fsync `%s`", src);
	if (renameat(s->dirfd, src, s->dirfd, dst) < 0)
		return cabin_err_make(err, errno, "rename into `%s/%s`", s->root, dst);
	return 0;
}

int img_store_blob_put(struct img_store *s, const void *buf, size_t len, char *digest,
		       struct cabin_err **err)
{
	cleanup_free char *name = NULL;
	cleanup_close int fd = -1;

	img_digest_buf(buf, len, digest);
	if (img_store_blob_has(s, digest, (int64_t)len))
		return 0;
	fd = img_store_tmp_create(s, &name, err);
	if (fd < 0)
		return -1;
	if (fs_write_all(fd, buf, len) < 0) {
		int e = errno;
		cleanup_free char *rel = xasprintf("tmp/%s", name);

		unlinkat(s->dirfd, rel, 0);
		return cabin_err_make(err, e, "write blob `%s`", digest);
	}
	return img_store_blob_commit(s, name, digest, (int64_t)len, err);
}

char *img_store_layer_path(const struct img_store *s, const char *diff_id)
{
	return xasprintf("%s/layers/%s", s->root, img_digest_hex(diff_id));
}

int img_store_layer_ensure(struct img_store *s, const char *digest, const char *diff_id,
			   struct cabin_err **err)
{
	cleanup_free char *rel = xasprintf("layers/%s", img_digest_hex(diff_id));
	cleanup_free char *tmp = xasprintf("%s/tmp/layer-XXXXXX", s->root);
	cleanup_free char *tmprel = NULL, *what = NULL;
	cleanup_close int bfd = -1, dfd = -1;
	struct cabin_err *e = NULL;
	struct stat st;

	if (fstatat(s->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
		return 0;
	bfd = img_store_blob_open(s, digest);
	if (bfd < 0)
		return cabin_err_make(err, -bfd, "layer `%s`", digest);
	if (!mkdtemp(tmp))
		return cabin_err_make(err, errno, "mkdtemp `%s`", tmp);
	tmprel = xasprintf("tmp/%s", strrchr(tmp, '/') + 1);
	dfd = openat(s->dirfd, tmprel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	what = xasprintf("layer `%.19s`", digest);
	if (dfd < 0) {
		cabin_err_make(err, errno, "open `%s`", tmp);
		goto fail;
	}
	if (img_layer_unpack(bfd, dfd, diff_id, IMG_UNPACK_LAYER, what, err) < 0)
		goto fail;
	/* overlayfs lower directories must be readable by the container's users. */
	fchmod(dfd, 0755);
	if (renameat(s->dirfd, tmprel, s->dirfd, rel) < 0) {
		if (errno == EEXIST || errno == ENOTEMPTY) {
			fs_rm_rf_at(s->dirfd, tmprel, &e);
			cabin_err_release(&e);
			return 0;
		}
		cabin_err_make(err, errno, "rename into `%s/%s`", s->root, rel);
		goto fail;
	}
	return 1;
fail:
	if (fs_rm_rf_at(s->dirfd, tmprel, &e) < 0)
		log_warn("%s", cabin_err_msg(e));
	cabin_err_release(&e);
	return -1;
}

/* ---- records ---- */

static int write_json_at(struct img_store *s, const char *rel, json_t *j, struct cabin_err **err)
{
	cleanup_free char *txt = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	cleanup_free char *dir = xstrdup(rel);
	cleanup_close int dfd = -1;
	char *slash = strrchr(dir, '/');

	if (!txt)
		return cabin_err_make(err, ENOMEM, "encode `%s`", rel);
	if (!slash)
		return fs_write_file_atomic(s->dirfd, rel, txt, strlen(txt), 0600, FS_ATOMIC_FSYNC,
					    err);
	/* The temporary must sit in the same directory as the file it replaces. */
	*slash = '\0';
	dfd = openat(s->dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return cabin_err_make(err, errno, "open `%s/%s`", s->root, dir);
	return fs_write_file_atomic(dfd, slash + 1, txt, strlen(txt), 0600, FS_ATOMIC_FSYNC, err);
}

static json_t *read_json_at(const struct img_store *s, const char *rel, struct cabin_err **err)
{
	cleanup_close int fd = openat(s->dirfd, rel, O_RDONLY | O_CLOEXEC);
	cleanup_free char *buf = NULL;
	json_error_t je;
	ssize_t n;
	json_t *j;

	if (fd < 0) {
		cabin_err_make(err, errno, "open `%s/%s`", s->root, rel);
		return NULL;
	}
	n = fs_read_fd(fd, RECORD_MAX, &buf);
	if (n < 0) {
		cabin_err_make(err, (int)-n, "read `%s/%s`", s->root, rel);
		return NULL;
	}
	j = json_loadb(buf, (size_t)n, 0, &je);
	if (!j)
		cabin_err_make(err, 0, "`%s/%s`: line %d: %s", s->root, rel, je.line, je.text);
	return j;
}

int img_store_image_put(struct img_store *s, json_t *rec, struct cabin_err **err)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	cleanup_free char *rel = NULL;

	if (img_digest_check(id, "image record", err) < 0)
		return -1;
	rel = xasprintf("images/%s.json", img_digest_hex(id));
	return write_json_at(s, rel, rec, err);
}

int img_store_image_get(const struct img_store *s, const char *id, json_t **out,
			struct cabin_err **err)
{
	cleanup_free char *rel = NULL;

	if (img_digest_check(id, "image", err) < 0)
		return -1;
	rel = xasprintf("images/%s.json", img_digest_hex(id));
	*out = read_json_at(s, rel, err);
	return *out ? 0 : -1;
}

int img_store_image_config(const struct img_store *s, json_t *rec, json_t **out,
			   struct cabin_err **err)
{
	const char *cd = json_string_value(json_object_get(rec, "config"));
	cleanup_free char *buf = NULL;
	json_error_t je;
	size_t len;

	if (img_digest_check(cd, "image record: config", err) < 0)
		return -1;
	if (img_store_blob_read(s, cd, RECORD_MAX, &buf, &len, err) < 0)
		return -1;
	*out = json_loadb(buf, len, 0, &je);
	if (!*out || !json_is_object(*out))
		return cabin_err_make(err, 0, "image config `%s`: %s", cd,
				      *out ? "not an object" : je.text);
	return 0;
}

json_t *img_store_images(const struct img_store *s)
{
	cleanup_closedir DIR *d = NULL;
	json_t *arr = json_array();
	struct dirent *de;
	int fd = openat(s->dirfd, "images", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return arr;
	}
	while ((de = readdir(d))) {
		cleanup_free char *rel = NULL;
		struct cabin_err *e = NULL;
		json_t *j;

		if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".json"))
			continue;
		rel = xasprintf("images/%s", de->d_name);
		j = read_json_at(s, rel, &e);
		if (!j) {
			log_warn("image store: %s", cabin_err_msg(e));
			cabin_err_release(&e);
			continue;
		}
		json_array_append_new(arr, j);
	}
	return arr;
}

json_t *img_store_refs(const struct img_store *s)
{
	struct cabin_err *e = NULL;
	cleanup_json json_t *j = NULL;

	if (faccessat(s->dirfd, "refs.json", F_OK, 0) < 0)
		return json_object();
	j = read_json_at(s, "refs.json", &e);
	if (!j || !json_is_object(j)) {
		log_warn("image store: %s", j ? "refs.json is not an object" : cabin_err_msg(e));
		cabin_err_release(&e);
		return json_object();
	}
	return steal_ptr(&j);
}

int img_store_ref_set(struct img_store *s, const char *name, const char *id, struct cabin_err **err)
{
	cleanup_json json_t *refs = img_store_refs(s);

	json_object_set_new(refs, name, json_string(id));
	return write_json_at(s, "refs.json", refs, err);
}

int img_store_ref_del(struct img_store *s, const char *name, struct cabin_err **err)
{
	cleanup_json json_t *refs = img_store_refs(s);

	json_object_del(refs, name);
	return write_json_at(s, "refs.json", refs, err);
}

json_t *img_store_image_names(const struct img_store *s, const char *id)
{
	cleanup_json json_t *refs = img_store_refs(s);
	json_t *arr = json_array(), *v;
	const char *k;

	json_object_foreach(refs, k,
			    v) if (!strcmp(json_string_value(v) ? json_string_value(v) : "", id))
		json_array_append_new(arr, json_string(k));
	return arr;
}

static int is_hex_prefix(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 64)
		return 0;
	return strspn(s, "0123456789abcdef") == n;
}

int img_store_resolve(const struct img_store *s, const char *ref, char *id, char **name_out,
		      struct cabin_err **err)
{
	cleanup_err struct cabin_err *e = NULL;
	struct img_ref r = { 0 };
	cleanup_json json_t *refs = img_store_refs(s);
	json_t *v = NULL;
	cleanup_free char *name = NULL, *alt = NULL;
	const char *hex = !strncmp(ref, "sha256:", 7) ? ref + 7 : ref;

	if (img_ref_parse(ref, &r, &e) == 0) {
		name = img_ref_name(&r);
		v = json_object_get(refs, name);
		if (!v && !strchr(ref, '/')) {
			/* podman names what it loads without a registry `localhost/NAME`. */
			alt = xasprintf("localhost/%s%s", ref,
					strchr(ref, ':') || strchr(ref, '@') ? "" : ":latest");
			v = json_object_get(refs, alt);
			if (v) {
				free(name);
				name = steal_ptr(&alt);
			}
		}
		img_ref_free(&r);
	}
	if (v && json_string_value(v)) {
		snprintf(id, IMG_DIGEST_LEN, "%s", json_string_value(v));
		if (name_out)
			*name_out = steal_ptr(&name);
		return 0;
	}
	if (is_hex_prefix(hex)) {
		cleanup_json json_t *imgs = img_store_images(s);
		json_t *rec;
		size_t i, found = 0;

		json_array_foreach(imgs, i, rec)
		{
			const char *rid = json_string_value(json_object_get(rec, "id"));

			if (rid && !strncmp(rid + 7, hex, strlen(hex))) {
				snprintf(id, IMG_DIGEST_LEN, "%s", rid);
				found++;
			}
		}
		if (found == 1) {
			if (name_out)
				*name_out = NULL;
			return 0;
		}
		if (found > 1)
			return cabin_err_make(err, 0, "image ID prefix `%s` is ambiguous", ref);
	}
	return cabin_err_make(err, ENOENT, "image `%s` not found", ref);
}

int img_store_image_users(const struct img_store *s, const char *id)
{
	cleanup_closedir DIR *d = NULL;
	struct dirent *de;
	int fd = openat(s->dirfd, "containers", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		cleanup_free char *rel = NULL;
		struct cabin_err *e = NULL;
		cleanup_json json_t *j = NULL;

		if (de->d_name[0] == '.')
			continue;
		rel = xasprintf("containers/%s/container.json", de->d_name);
		j = read_json_at(s, rel, &e);
		cabin_err_release(&e);
		if (j && !strcmp(json_string_value(json_object_get(j, "image")) ?: "", id))
			n++;
	}
	return n;
}

int img_store_image_remove(struct img_store *s, const char *id, struct cabin_err **err)
{
	cleanup_free char *rel = NULL;

	if (img_digest_check(id, "image", err) < 0)
		return -1;
	rel = xasprintf("images/%s.json", img_digest_hex(id));
	if (unlinkat(s->dirfd, rel, 0) < 0 && errno != ENOENT)
		return cabin_err_make(err, errno, "remove `%s/%s`", s->root, rel);
	img_store_gc(s, 0);
	return 0;
}

/* ---- usage and garbage collection ---- */

/* The blob digests and DiffIDs every record references, as two JSON objects (sets). */
static void referenced(const struct img_store *s, json_t *blobs, json_t *layers, size_t *nimg)
{
	cleanup_json json_t *imgs = img_store_images(s);
	json_t *rec, *l;
	size_t i, j;

	json_array_foreach(imgs, i, rec)
	{
		const char *m = json_string_value(json_object_get(rec, "manifestDigest"));
		const char *c = json_string_value(json_object_get(rec, "config"));

		if (m)
			json_object_set_new(blobs, m, json_true());
		if (c)
			json_object_set_new(blobs, c, json_true());
		json_array_foreach(json_object_get(rec, "layers"), j, l)
		{
			const char *d = json_string_value(json_object_get(l, "digest"));
			const char *di = json_string_value(json_object_get(l, "diffID"));

			if (d)
				json_object_set_new(blobs, d, json_true());
			if (di)
				json_object_set_new(layers, di, json_true());
		}
	}
	if (nimg)
		*nimg = json_array_size(imgs);
}

static uint64_t du_at(int dfd, const char *name)
{
	cleanup_closedir DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	uint64_t n = 0;
	int fd;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? (uint64_t)st.st_blocks * 512 : 0;
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n += du_at(dirfd(d), de->d_name);
	return n;
}

/* Visit the entries of @sub: fn(store, sub dirfd, name, referenced?). */
static void scan(const struct img_store *s, const char *sub, json_t *set, const char *prefix,
		 void (*fn)(const struct img_store *, int, const char *, int, void *), void *arg)
{
	cleanup_closedir DIR *d = NULL;
	struct dirent *de;
	int fd = openat(s->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		cleanup_free char *key = NULL;

		if (de->d_name[0] == '.')
			continue;
		key = xasprintf("%s%s", prefix, de->d_name);
		fn(s, dirfd(d), de->d_name, set ? !!json_object_get(set, key) : 0, arg);
	}
}

static void usage_blob(const struct img_store *s, int dfd, const char *name, int ref, void *arg)
{
	struct img_store_usage *u = arg;
	uint64_t n = du_at(dfd, name);

	u->blobs++;
	u->blobs_size += n;
	if (!ref) {
		u->blobs_orphaned++;
		u->orphaned_size += n;
	}
}

static void usage_layer(const struct img_store *s, int dfd, const char *name, int ref, void *arg)
{
	struct img_store_usage *u = arg;
	uint64_t n = du_at(dfd, name);

	u->layers++;
	u->layers_size += n;
	if (!ref) {
		u->layers_orphaned++;
		u->orphaned_size += n;
	}
}

static void usage_tmp(const struct img_store *s, int dfd, const char *name, int ref, void *arg)
{
	struct img_store_usage *u = arg;

	u->tmp++;
	u->tmp_size += du_at(dfd, name);
}

void img_store_usage(const struct img_store *s, struct img_store_usage *u)
{
	cleanup_json json_t *blobs = json_object(), *layers = json_object(), *imgs = NULL;
	json_t *rec;
	size_t i;

	memset(u, 0, sizeof(*u));
	referenced(s, blobs, layers, &u->images);
	scan(s, "blobs/sha256", blobs, "sha256:", usage_blob, u);
	scan(s, "layers", layers, "sha256:", usage_layer, u);
	scan(s, "tmp", NULL, "", usage_tmp, u);
	imgs = img_store_images(s);
	json_array_foreach(imgs, i, rec)
	{
		const char *id = json_string_value(json_object_get(rec, "id"));

		u->images_size += (uint64_t)json_integer_value(json_object_get(rec, "size"));
		if (id && img_store_image_users(s, id) > 0)
			u->images_active++;
	}
}

struct gc {
	uint64_t freed;
};

static void gc_one(const struct img_store *s, int dfd, const char *name, int ref, void *arg)
{
	struct gc *g = arg;
	struct cabin_err *e = NULL;
	uint64_t n;

	if (ref)
		return;
	n = du_at(dfd, name);
	if (fs_rm_rf_at(dfd, name, &e) < 0)
		log_warn("image store: %s", cabin_err_msg(e));
	else
		g->freed += n;
	cabin_err_release(&e);
}

uint64_t img_store_gc(struct img_store *s, int all)
{
	cleanup_json json_t *blobs = json_object(), *layers = json_object();
	struct img_store_usage u;
	struct gc g = { 0 };

	referenced(s, blobs, layers, NULL);
	scan(s, "blobs/sha256", blobs, "sha256:", gc_one, &g);
	scan(s, "layers", layers, "sha256:", gc_one, &g);
	memset(&u, 0, sizeof(u));
	scan(s, "tmp", NULL, "", usage_tmp, &u);
	img_store_clean_tmp(s, all);
	if (all)
		g.freed += u.tmp_size;
	return g.freed;
}

const char *img_human_size(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	size_t i = 0;

	while (v >= 1000 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(buf, len, i ? "%.3g%s" : "%.0f%s", v, units[i]);
	return buf;
}
