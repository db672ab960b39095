/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `image load`: docker-archive (`docker save`, `podman save`), oci-archive (`podman save
 * --format oci-archive`, `skopeo copy ... oci-archive:`) and OCI image layout directories.
 * An archive is extracted with the layer extractor (so its names get the same checks)
 * into tmp/ of the store, on the store's filesystem, and its blobs are then renamed into
 * blobs/ after their digests are checked: no second copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "img/archive.h"
#include "img/digest.h"
#include "img/layer.h"
#include "img/manifest.h"
#include "img/ref.h"
#include "img/store.h"
#include "lib/cleanup.h"
#include "lib/error.h"
#include "lib/fs.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct load {
	struct img_store *s;
	int dfd;  /* the layout or extracted archive */
	int move; /* the directory is ours (tmp/): rename blobs instead of copying */
	const char *what;
};

static json_t *read_json(struct load *l, const char *rel, struct cabin_err **err)
{
	cleanup_free char *buf = NULL;
	cleanup_close int fd = img_openat_beneath(l->dfd, rel, O_RDONLY, 0);
	json_error_t je;
	ssize_t n;
	json_t *j;

	if (fd < 0) {
		cabin_err_make(err, -fd, "%s: `%s`", l->what, rel);
		return NULL;
	}
	n = fs_read_fd(fd, IMG_MANIFEST_MAX, &buf);
	if (n < 0) {
		cabin_err_make(err, (int)-n, "%s: read `%s`", l->what, rel);
		return NULL;
	}
	j = json_loadb(buf, (size_t)n, 0, &je);
	if (!j)
		cabin_err_make(err, 0, "%s: `%s`: line %d: %s", l->what, rel, je.line, je.text);
	return j;
}

/*
 * Is @rel itself the regular file @st, not a symlink to it? Only then may it be renamed
 * into the store: a symlink would be moved as a symlink, its relative target then read
 * from tmp/ of the store, out of the layout (`../../x` names a file next to the store).
 */
static int names_file(struct load *l, const char *rel, const struct stat *st)
{
	cleanup_free char *pname = xstrdup(rel);
	cleanup_close int pfd = -1;
	char *slash = strrchr(pname, '/');
	struct stat lst;

	if (slash) {
		*slash = '\0';
		pfd = img_openat_beneath(l->dfd, pname, O_PATH | O_DIRECTORY, 0);
		if (pfd < 0)
			return 0;
	}
	return fstatat(slash ? pfd : l->dfd, slash ? slash + 1 : rel, &lst, AT_SYMLINK_NOFOLLOW) ==
		       0 &&
	       S_ISREG(lst.st_mode) && lst.st_dev == st->st_dev && lst.st_ino == st->st_ino;
}

/*
 * Bring the file @rel of the layout into the blob store as @digest (size @size, or
 * unchecked when < 0). With @digest NULL the digest is computed and returned in @out.
 */
static int import_blob(struct load *l, const char *rel, const char *digest, int64_t size, char *out,
		       struct cabin_err **err)
{
	cleanup_close int src = img_openat_beneath(l->dfd, rel, O_RDONLY, 0);
	cleanup_free char *name = NULL, *tmprel = NULL;
	char dg[IMG_DIGEST_LEN];
	struct stat st;

	if (src < 0)
		return cabin_err_make(err, -src, "%s: blob `%s`", l->what, rel);
	if (fstat(src, &st) < 0 || !S_ISREG(st.st_mode))
		return cabin_err_make(err, 0, "%s: `%s` is not a regular file", l->what, rel);
	if (!digest) {
		if (img_digest_fd(src, dg, NULL, err) < 0)
			return cabin_err_wrap(err, "%s: `%s`", l->what, rel);
		digest = dg;
	}
	if (out)
		memcpy(out, digest, IMG_DIGEST_LEN);
	if (img_store_blob_has(l->s, digest, size >= 0 ? size : (int64_t)st.st_size))
		return 0;
	if (l->move && names_file(l, rel, &st)) {
		cleanup_free char *pname = NULL;
		char *slash;
		int fd = img_store_tmp_create(l->s, &name, err);

		if (fd < 0)
			return -1;
		close(fd);
		tmprel = xasprintf("tmp/%s", name);
		/* @rel was resolved beneath the layout above; rename the same name. */
		pname = xstrdup(rel);
		slash = strrchr(pname, '/');
		if (slash) {
			cleanup_close int pfd = -1;

			*slash = '\0';
			pfd = img_openat_beneath(l->dfd, pname, O_PATH | O_DIRECTORY, 0);
			if (pfd < 0 || renameat(pfd, slash + 1, l->s->dirfd, tmprel) < 0)
				return cabin_err_make(err, pfd < 0 ? -pfd : errno, "%s: move `%s`",
						      l->what, rel);
		} else if (renameat(l->dfd, rel, l->s->dirfd, tmprel) < 0) {
			return cabin_err_make(err, errno, "%s: move `%s`", l->what, rel);
		}
	} else {
		cleanup_close int dst = img_store_tmp_create(l->s, &name, err);
		char buf[65536];
		ssize_t n;

		if (dst < 0)
			return -1;
		tmprel = xasprintf("tmp/%s", name);
		/* the digest above may have read it */
		n = lseek(src, 0, SEEK_SET) < 0 ? -1 : 1;
		while (n > 0 && (n = read(src, buf, sizeof(buf))) > 0)
			if (fs_write_all(dst, buf, (size_t)n) < 0) {
				n = -1;
				break;
			}
		if (n < 0) {
			int e = errno;

			unlinkat(l->s->dirfd, tmprel, 0);
			return cabin_err_make(err, e, "%s: copy `%s`", l->what, rel);
		}
	}
	if (img_store_blob_commit(l->s, name, digest, size, err) < 0)
		return cabin_err_wrap(err, "%s: `%s`", l->what, rel);
	return 0;
}

static void add_name(json_t *names, const char *n)
{
	struct cabin_err *e = NULL;
	struct img_ref r;

	if (img_ref_parse(n, &r, &e) < 0) {
		log_warn("image load: name `%s` ignored: %s", n, cabin_err_msg(e));
		cabin_err_release(&e);
		return;
	}
	if (r.tag) {
		/* podman's names for images without a registry: `localhost/NAME`. */
		char *full = img_ref_name(&r);

		json_array_append_new(names, json_string(full));
		free(full);
	}
	img_ref_free(&r);
}

/* An OCI layout: index.json -> (index ->) manifest -> blobs. */
static int load_oci(struct load *l, json_t *loaded, struct cabin_err **err)
{
	cleanup_json json_t *idx = read_json(l, "index.json", err);
	json_t *d;
	size_t i;
	int n = 0;

	if (!idx)
		return -1;
	json_array_foreach(json_object_get(idx, "manifests"), i, d)
	{
		const char *mt = json_string_value(json_object_get(d, "mediaType"));
		const char *rn = json_string_value(json_object_get(
			json_object_get(d, "annotations"), "org.opencontainers.image.ref.name"));
		const char *cn = json_string_value(json_object_get(
			json_object_get(d, "annotations"), "io.containerd.image.name"));
		struct img_blob_desc desc = { 0 };
		struct img_manifest man;
		char id[IMG_DIGEST_LEN];
		cleanup_json json_t *mj = NULL, *names = json_array();
		cleanup_free char *rel = NULL;
		int ok = -1;

		if (img_digest_check(json_string_value(json_object_get(d, "digest")),
				     "index.json: manifest", err) < 0)
			goto next;
		snprintf(desc.digest, sizeof(desc.digest), "%s",
			 json_string_value(json_object_get(d, "digest")));
		if (mt && (!strcmp(mt, IMG_MT_OCI_INDEX) || !strcmp(mt, IMG_MT_DOCKER_LIST))) {
			cleanup_free char *irel =
				xasprintf("blobs/sha256/%s", img_digest_hex(desc.digest));
			cleanup_json json_t *sub = read_json(l, irel, err);
			struct img_blob_desc sel;

			if (!sub || img_index_select(sub, img_platform_host(), &sel, err) < 0)
				goto next;
			memcpy(desc.digest, sel.digest, IMG_DIGEST_LEN);
			free(sel.media_type);
		}
		rel = xasprintf("blobs/sha256/%s", img_digest_hex(desc.digest));
		mj = read_json(l, rel, err);
		if (!mj || img_manifest_parse(mj, &man, err) < 0)
			goto next;
		if (import_blob(l, rel, desc.digest, -1, NULL, err) == 0) {
			size_t k;

			ok = 0;
			for (k = 0; k <= man.nlayers && ok == 0; k++) {
				struct img_blob_desc *b = k ? &man.layers[k - 1] : &man.config;
				cleanup_free char *br =
					xasprintf("blobs/sha256/%s", img_digest_hex(b->digest));

				ok = import_blob(l, br, b->digest, b->size, NULL, err);
			}
		}
		img_manifest_free(&man);
		if (ok < 0)
			goto next;
		if (cn)
			add_name(names, cn);
		else if (rn && (strchr(rn, '/') || strchr(rn, ':')))
			add_name(names, rn);
		else if (rn) {
			/* skopeo `oci-archive:F:TAG` records just the tag */
			cleanup_free char *nm = xasprintf("localhost/image:%s", rn);

			add_name(names, nm);
		}
		ok = img_image_commit(l->s, desc.digest, NULL, names, NULL, id, err);
		if (ok == 0) {
			json_array_append_new(loaded,
					      json_pack("{s:s,s:O}", "id", id, "names", names));
			n++;
		}
	next:
		if (ok < 0)
			return -1;
	}
	if (!n)
		return cabin_err_make(err, 0, "%s: index.json lists no image", l->what);
	return 0;
}

static const char *layer_type(struct load *l, const char *rel)
{
	cleanup_close int fd = img_openat_beneath(l->dfd, rel, O_RDONLY, 0);
	unsigned char m[4] = { 0 };

	if (fd < 0 || read(fd, m, 4) != 4)
		return "application/vnd.docker.image.rootfs.diff.tar";
	if (m[0] == 0x1f && m[1] == 0x8b)
		return "application/vnd.docker.image.rootfs.diff.tar.gzip";
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return "application/vnd.docker.image.rootfs.diff.tar.zstd";
	return "application/vnd.docker.image.rootfs.diff.tar";
}

/* A docker-archive: manifest.json [{Config, RepoTags, Layers}]. */
static int load_docker(struct load *l, json_t *loaded, struct cabin_err **err)
{
	cleanup_json json_t *mf = read_json(l, "manifest.json", err);
	json_t *e;
	size_t i;

	if (!mf)
		return -1;
	if (!json_is_array(mf) || !json_array_size(mf))
		return cabin_err_make(err, 0, "%s: manifest.json: not a non-empty array", l->what);
	json_array_foreach(mf, i, e)
	{
		const char *cfg = json_string_value(json_object_get(e, "Config"));
		json_t *layers = json_object_get(e, "Layers"), *lv, *tags;
		cleanup_json json_t *man = NULL, *names = NULL;
		json_t *mlayers;
		char cdig[IMG_DIGEST_LEN], mdig[IMG_DIGEST_LEN], id[IMG_DIGEST_LEN];
		struct stat st;
		size_t k;
		char *txt;
		int ret;

		if (!cfg || !json_is_array(layers))
			return cabin_err_make(err, 0,
					      "%s: manifest.json[%zu]: `Config` or `Layers` "
					      "missing",
					      l->what, i);
		mlayers = json_array();
		man = json_pack("{s:i,s:s,s:o}", "schemaVersion", 2, "mediaType",
				IMG_MT_DOCKER_MANIFEST, "layers", mlayers);
		if (import_blob(l, cfg, NULL, -1, cdig, err) < 0)
			return -1;
		json_object_set_new(man, "config",
				    json_pack("{s:s,s:s,s:i}", "mediaType", IMG_MT_DOCKER_CONFIG,
					      "digest", cdig, "size", 0));
		json_array_foreach(layers, k, lv)
		{
			const char *lr = json_string_value(lv);
			cleanup_free char *bp = NULL;
			const char *mt;
			char ld[IMG_DIGEST_LEN];

			if (!lr) {
				cabin_err_make(err, 0, "%s: manifest.json: bad layer entry",
					       l->what);
				return -1;
			}
			mt = layer_type(l, lr);
			if (import_blob(l, lr, NULL, -1, ld, err) < 0)
				return -1;
			bp = img_store_blob_path(l->s, ld);
			if (stat(bp, &st) < 0) {
				cabin_err_make(err, errno, "%s", bp);
				return -1;
			}
			json_array_append_new(mlayers,
					      json_pack("{s:s,s:s,s:I}", "mediaType", mt, "digest",
							ld, "size", (json_int_t)st.st_size));
		}
		{
			cleanup_free char *bp = img_store_blob_path(l->s, cdig);

			if (stat(bp, &st) < 0) {
				cabin_err_make(err, errno, "%s", bp);
				return -1;
			}
			json_object_set_new(json_object_get(man, "config"), "size",
					    json_integer(st.st_size));
		}
		txt = json_dumps(man, JSON_COMPACT);
		ret = img_store_blob_put(l->s, txt, strlen(txt), mdig, err);
		free(txt);
		if (ret < 0)
			return -1;
		names = json_array();
		tags = json_object_get(e, "RepoTags");
		json_array_foreach(tags, k, lv) if (json_string_value(lv))
			add_name(names, json_string_value(lv));
		ret = img_image_commit(l->s, mdig, NULL, names, NULL, id, err);
		if (ret == 0)
			json_array_append_new(loaded,
					      json_pack("{s:s,s:O}", "id", id, "names", names));
		if (ret < 0)
			return -1;
	}
	return 0;
}

static int load_dir(struct load *l, json_t *loaded, struct cabin_err **err)
{
	if (faccessat(l->dfd, "manifest.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return load_docker(l, loaded, err);
	if (faccessat(l->dfd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) == 0 &&
	    faccessat(l->dfd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
		return load_oci(l, loaded, err);
	return cabin_err_make(err, 0,
			      "%s: neither a docker archive (manifest.json) nor an OCI layout "
			      "(oci-layout, index.json)",
			      l->what);
}

int img_load(struct img_store *s, const char *path, json_t **loaded, struct cabin_err **err)
{
	cleanup_free char *what = xasprintf("`%s`", path), *tmp = NULL, *tmprel = NULL;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct load l = { .s = s, .dfd = -1, .what = what };
	struct cabin_err *e = NULL;
	struct stat st;
	int ret;

	*loaded = json_array();
	if (fd < 0 || fstat(fd, &st) < 0)
		return cabin_err_make(err, errno, "image load: `%s`", path);
	if (S_ISDIR(st.st_mode)) {
		l.dfd = steal_fd(&fd);
		ret = load_dir(&l, *loaded, err);
		close(l.dfd);
		if (ret < 0)
			img_store_gc(s, 0);
		return ret;
	}
	tmp = xasprintf("%s/tmp/load-XXXXXX", s->root);
	if (!mkdtemp(tmp))
		return cabin_err_make(err, errno, "mkdtemp `%s`", tmp);
	tmprel = xasprintf("tmp/%s", strrchr(tmp, '/') + 1);
	l.dfd = openat(s->dirfd, tmprel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	l.move = 1;
	if (l.dfd < 0)
		ret = cabin_err_make(err, errno, "open `%s`", tmp);
	else
		ret = img_layer_unpack(fd, l.dfd, NULL, IMG_UNPACK_NO_CHOWN, what, err);
	if (ret == 0)
		ret = load_dir(&l, *loaded, err);
	if (l.dfd >= 0)
		close(l.dfd);
	if (fs_rm_rf_at(s->dirfd, tmprel, &e) < 0)
		log_warn("%s", cabin_err_msg(e));
	cabin_err_release(&e);
	if (ret < 0)
		img_store_gc(s, 0);
	return ret;
}
