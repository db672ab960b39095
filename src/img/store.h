/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef CABIN_IMG_STORE_H
#define CABIN_IMG_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct cabin_err;

/*
 * The image store (default /var/lib/cabin):
 *   blobs/sha256/HEX   content-addressed blobs (manifests, configs, compressed layers)
 *   layers/HEX         one unpacked layer per DiffID, an overlayfs lower directory
 *   images/HEX.json    one record per image (HEX: the config digest, the image ID)
 *   refs.json          names -> image IDs
 *   tmp/               downloads in progress (HEX.partial, resumable) and unpack dirs
 *   containers/ volumes/   the containers and volumes made from images
 * Everything becomes visible by rename(2) of a finished file or directory, and a record
 * is written only after everything it names exists, so a pull or load killed at any
 * point leaves only tmp/ entries, which the next writer removes or resumes.
 */
struct img_store {
	char *root;
	int dirfd;
	int lockfd;
};

#define IMG_DEFAULT_ROOT "/var/lib/cabin"

/** img_store_open() - open (creating) the store at @root and take its lock. */
int img_store_open(const char *root, int exclusive, struct img_store **out, struct cabin_err **err);
/** img_store_free() - close the store and drop its lock; accepts NULL. */
void img_store_free(struct img_store *s);

/**
 * img_store_clean_tmp() - remove what killed writers left in tmp/ (needs the exclusive
 * lock), keeping resumable downloads (*.partial) unless @all.
 */
void img_store_clean_tmp(struct img_store *s, int all);

/** img_store_blob_path() - "ROOT/blobs/sha256/HEX"; caller frees. */
char *img_store_blob_path(const struct img_store *s, const char *digest);
/** img_store_blob_has() - is the blob present (with @size, unless @size < 0)? */
int img_store_blob_has(const struct img_store *s, const char *digest, int64_t size);
/** img_store_blob_open() - open a blob read-only. Return: fd or -errno. */
int img_store_blob_open(const struct img_store *s, const char *digest);
/**
 * img_store_blob_read() - read a small blob (manifest, config) of at most @max bytes
 * and check its digest.
 */
int img_store_blob_read(const struct img_store *s, const char *digest, size_t max, char **buf,
			size_t *len, struct cabin_err **err);
/** img_store_blob_put() - store @len bytes; their digest goes to @digest. */
int img_store_blob_put(struct img_store *s, const void *buf, size_t len, char *digest,
		       struct cabin_err **err);
/**
 * img_store_blob_commit() - move tmp/@tmpname into the blob store as @digest after
 * checking its digest and (when @size >= 0) its size; the temporary is removed on a
 * mismatch.
 */
int img_store_blob_commit(struct img_store *s, const char *tmpname, const char *digest,
			  int64_t size, struct cabin_err **err);
/** img_store_tmp_create() - a new temporary file in tmp/; its name goes to *@name. */
int img_store_tmp_create(struct img_store *s, char **name, struct cabin_err **err);

/**
 * img_store_layer_ensure() - unpack the layer blob @digest (DiffID @diff_id) into
 * layers/, unless it already is. Return: 1 when it was unpacked now, 0 when present.
 */
int img_store_layer_ensure(struct img_store *s, const char *digest, const char *diff_id,
			   struct cabin_err **err);
/** img_store_layer_path() - "ROOT/layers/HEX" of a DiffID; caller frees. */
char *img_store_layer_path(const struct img_store *s, const char *diff_id);

/*
 * Image records, as JSON: {"id", "manifestDigest", "manifestMediaType", "repoDigests",
 * "config" (the config digest), "layers": [{"digest","size","mediaType","diffID"}],
 * "platform", "created" (pull time), "size"}.
 */

/** img_store_image_put() - write the record of an image (its "id" names it). */
int img_store_image_put(struct img_store *s, json_t *rec, struct cabin_err **err);
/** img_store_image_get() - the record of image @id (caller decrefs). */
int img_store_image_get(const struct img_store *s, const char *id, json_t **out,
			struct cabin_err **err);
/** img_store_image_config() - the parsed config blob of image record @rec. */
int img_store_image_config(const struct img_store *s, json_t *rec, json_t **out,
			   struct cabin_err **err);
/** img_store_images() - every image record, as a JSON array. */
json_t *img_store_images(const struct img_store *s);

/** img_store_refs() - the name -> ID object (caller decrefs). */
json_t *img_store_refs(const struct img_store *s);
/** img_store_ref_set() - point @name at image @id (replacing what it named). */
int img_store_ref_set(struct img_store *s, const char *name, const char *id,
		      struct cabin_err **err);
/** img_store_ref_del() - remove @name. */
int img_store_ref_del(struct img_store *s, const char *name, struct cabin_err **err);
/**
 * img_store_resolve() - find an image by name (normalised: `busybox` is
 * docker.io/library/busybox:latest; `localhost/` is tried too, as podman names
 * loaded images), by full ID or by a unique prefix of its ID.
 * @name_out: when not NULL, the ref name matched (or NULL for an ID); caller frees
 */
int img_store_resolve(const struct img_store *s, const char *ref, char *id, char **name_out,
		      struct cabin_err **err);
/** img_store_image_names() - the names pointing at @id, as a JSON array. */
json_t *img_store_image_names(const struct img_store *s, const char *id);

/** img_store_image_users() - how many containers (containers/STAR/container.json) use @id. */
int img_store_image_users(const struct img_store *s, const char *id);

/**
 * img_store_image_remove() - delete the record of @id (its names must be gone), then
 * collect garbage.
 */
int img_store_image_remove(struct img_store *s, const char *id, struct cabin_err **err);

struct img_store_usage {
	size_t images, images_active, layers, blobs, blobs_orphaned, layers_orphaned, tmp;
	uint64_t images_size, layers_size, blobs_size, orphaned_size, tmp_size;
};

/** img_store_usage() - what `system df` shows. */
void img_store_usage(const struct img_store *s, struct img_store_usage *u);

/**
 * img_store_gc() - remove blobs and layers no record references, and tmp/ leftovers
 * (resumable downloads too when @all). Return: bytes freed.
 */
uint64_t img_store_gc(struct img_store *s, int all);

/** img_human_size() - "1.2MB" into @buf (Docker's decimal units). */
const char *img_human_size(uint64_t n, char *buf, size_t len);

#endif
